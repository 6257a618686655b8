//! A small `dataset.safetensors` cut from a full one: the first images of each part, with the
//! full training split's channel statistics (so normalised images are the same as in the full
//! dataset), for carrying to a machine that cannot hold the 184 MB dataset (the GPU check of
//! `scripts/gpu-bundle.sh`).
//!
//! `cargo run --release -p sal-artifact --example subset_dataset -- IN_DIR OUT_DIR TRAIN VAL TEST`

use std::path::PathBuf;

use sal_artifact::dataset::{Dataset, Part, IMAGE_BYTES};

fn first(part: &Part, n: usize) -> Part {
    let n = n.min(part.len());
    Part {
        images: part.images[..n * IMAGE_BYTES].to_vec(),
        labels: part.labels[..n].to_vec(),
        index: part.index[..n].to_vec(),
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, output, train, val, test] = args.as_slice() else {
        return Err("usage: subset_dataset IN_DIR OUT_DIR TRAIN VAL TEST".into());
    };
    let full = Dataset::open_dir(&PathBuf::from(input))?;
    let mut meta = full.meta.clone();
    meta.extra.insert(
        "subset_of".to_owned(),
        serde_json::json!({"train": train.parse::<usize>()?, "val": val.parse::<usize>()?, "test": test.parse::<usize>()?}),
    );
    let subset = Dataset {
        train: first(&full.train, train.parse()?),
        val: first(&full.val, val.parse()?),
        test: first(&full.test, test.parse()?),
        meta,
        ..full
    };
    fs_err::create_dir_all(output)?;
    let path = subset.write(&PathBuf::from(output).join("dataset.safetensors"))?;
    println!("{}", path.display());
    Ok(())
}
