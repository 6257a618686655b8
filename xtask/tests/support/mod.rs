//! A temporary repository with a fake `sal` (support/fake_sal.sh) for the xtask tests.

#![allow(dead_code)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use sal_config::Stage;
use xtask::pipeline::{Action, Outcome};
use xtask::{flags, Project, SalSource};

/// The config every test starts from.
pub const CONFIG: &str = "[data]\nseed = 0\n\n[stats]\nbootstrap = 200\n";

/// A repository (`repo/crates/*`, `repo/configs/test.toml`, `repo/artifacts`) and a fake sal
/// (`bin/sal`, steered by files beside it).
pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub project: Project,
    pub bin: PathBuf,
    pub config: PathBuf,
}

impl Fixture {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("repo");
        for krate in [
            "artifact",
            "config",
            "data",
            "model",
            "attribution",
            "perturbation",
            "metrics",
            "psychometrics",
            "sanity",
            "report",
        ] {
            write(
                &root.join("crates").join(krate).join("src/lib.rs"),
                &format!("//! {krate}\n"),
            );
        }
        let config = root.join("configs/test.toml");
        write(&config, CONFIG);
        let bin = dir.path().join("bin/sal");
        write(&bin, include_str!("fake_sal.sh"));
        fs_err::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
        let project = Project::new(&root, root.join("artifacts"));
        Fixture {
            dir,
            project,
            bin,
            config,
        }
    }

    pub fn sal(&self) -> SalSource {
        SalSource::Given(self.bin.clone())
    }

    pub fn set_config(&self, text: &str) {
        write(&self.config, text);
    }

    /// Creates (with `content`) or removes a control file beside the fake sal.
    pub fn control(&self, name: &str, content: Option<&str>) {
        let path = self.bin.with_file_name(name);
        match content {
            Some(text) => write(&path, text),
            None => fs_err::remove_file(path).unwrap(),
        }
    }

    pub fn flags(&self, until: Option<Stage>, force: &[Stage]) -> flags::Pipeline {
        flags::Pipeline {
            config: Some(self.config.clone()),
            until,
            force: force.to_vec(),
            features: Vec::new(),
        }
    }

    pub fn pipeline(&self, until: Option<Stage>, force: &[Stage]) -> anyhow::Result<Vec<Outcome>> {
        xtask::pipeline::run(&self.project, &self.flags(until, force), &self.sal())
    }

    /// The stage runs the fake sal saw since the last call (then forgets them).
    pub fn take_calls(&self) -> Vec<String> {
        let log = self.bin.with_file_name("calls.log");
        let text = fs_err::read_to_string(&log).unwrap_or_default();
        let _ = fs_err::remove_file(&log);
        text.lines().map(str::to_owned).collect()
    }

    /// The stages that found an interrupted run's files in their out folder, from resumed.log.
    pub fn resumed(&self) -> Vec<String> {
        let log = self.bin.with_file_name("resumed.log");
        let text = fs_err::read_to_string(&log).unwrap_or_default();
        let _ = fs_err::remove_file(&log);
        text.lines().map(str::to_owned).collect()
    }

    /// The stages whose subprocess ran, from the call log.
    pub fn take_ran(&self) -> Vec<String> {
        self.take_calls()
            .iter()
            .map(|c| c.split(' ').next().unwrap().to_owned())
            .collect()
    }

    /// What the fake sal did with the random-label model since the last call ("cached",
    /// "trained", "resumed"), from random_labels.log (then forgets it).
    pub fn random_labels_log(&self) -> Vec<String> {
        let log = self.bin.with_file_name("random_labels.log");
        let text = fs_err::read_to_string(&log).unwrap_or_default();
        let _ = fs_err::remove_file(&log);
        text.lines().map(str::to_owned).collect()
    }

    /// Folders under `artifacts/random_labels/`, sorted.
    pub fn random_label_folders(&self) -> Vec<PathBuf> {
        let mut folders: Vec<PathBuf> =
            match fs_err::read_dir(self.project.artifacts.join("random_labels")) {
                Ok(entries) => entries.map(|e| e.unwrap().path()).collect(),
                Err(_) => Vec::new(),
            };
        folders.sort();
        folders
    }

    /// Entries of `artifacts/.tmp/`.
    pub fn tmp_entries(&self) -> Vec<PathBuf> {
        match fs_err::read_dir(self.project.tmp_dir()) {
            Ok(entries) => entries.map(|e| e.unwrap().path()).collect(),
            Err(_) => Vec::new(),
        }
    }

    /// Folders under `artifacts/<stage>/`.
    pub fn stage_folders(&self, stage: Stage) -> Vec<PathBuf> {
        match fs_err::read_dir(self.project.stage_dir(stage)) {
            Ok(entries) => entries.map(|e| e.unwrap().path()).collect(),
            Err(_) => Vec::new(),
        }
    }
}

pub fn write(path: &Path, text: &str) {
    fs_err::create_dir_all(path.parent().unwrap()).unwrap();
    fs_err::write(path, text).unwrap();
}

/// The stages with this action, in order.
pub fn with_action(outcomes: &[Outcome], action: Action) -> Vec<&'static str> {
    outcomes
        .iter()
        .filter(|o| o.action == action)
        .map(|o| o.stage.name())
        .collect()
}

pub const ALL: [&str; 7] = [
    "data",
    "train",
    "attribute",
    "metrics",
    "stats",
    "sanity",
    "report",
];
