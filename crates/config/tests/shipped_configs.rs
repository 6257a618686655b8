//! Every config the repository ships loads, and so does every report variant it names.

use std::path::Path;

use sal_config::Config;

#[test]
fn every_shipped_config_and_its_variants_load() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs");
    let mut names: Vec<String> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".toml"))
        .collect();
    names.sort();
    for expected in ["quick.toml", "paper.toml", "ci.toml", "quick-paired.toml"] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} not shipped"
        );
    }
    for name in &names {
        let config = Config::load(&root.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        for variant in &config.report.variants {
            Config::load(&variant.config)
                .unwrap_or_else(|e| panic!("{name}, variant {}: {e}", variant.name));
        }
    }
}
