//! `cargo xtask`: see the crate documentation of the `xtask` library and `--help`.

use std::process::ExitCode;

use clap::Parser;
use xtask::flags::{Command, Xtask};
use xtask::{bench, cuda, merge, path, pipeline, regress, status, variants, Project, SalSource};

fn main() -> ExitCode {
    let flags = Xtask::parse();
    match run(flags) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(flags: Xtask) -> anyhow::Result<()> {
    let project = Project::this_repository(flags.artifacts.as_deref())?;
    match flags.command {
        Command::Pipeline(args) => {
            pipeline::run(&project, &args, &SalSource::from_env(&args.features)?).map(drop)
        }
        Command::Status(args) => status::run(&project, &args),
        Command::Path(args) => path::run(&project, &args),
        Command::Bench(args) => bench::run(&project, &args, &SalSource::from_env(&args.features)?),
        Command::MergeMetrics(args) => {
            merge::run(&project, &args, &SalSource::from_env(&[])?).map(drop)
        }
        Command::CudaCheck(args) => cuda::run(&project, &args),
        Command::Regress(args) => {
            regress::run(&project, &args, &SalSource::from_env(&args.features)?)
        }
        Command::Variants(args) => variants::run(&project, &args, &SalSource::from_env(&[])?),
    }
}
