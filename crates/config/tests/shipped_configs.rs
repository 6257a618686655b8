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

/// "What moves the numbers" compares runs that differ in one choice each: a variant a shipped
/// config names must have the config's own sections except one stage's (quick-augmented.toml
/// once lacked quick.toml's [sanity] and silently ran the paper's full sanity protocol).
#[test]
fn every_named_variant_differs_from_its_config_in_one_stage_section() {
    use sal_config::Stage;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs");
    let config = Config::load(&root.join("quick.toml")).unwrap();
    assert!(!config.report.variants.is_empty());
    for variant in &config.report.variants {
        let other = Config::load(&variant.config).unwrap();
        let differing: Vec<Stage> = Stage::ALL
            .into_iter()
            .filter(|&s| s != Stage::Report)
            .filter(|&s| config.section_json(s) != other.section_json(s))
            .collect();
        assert_eq!(
            differing.len(),
            1,
            "variant {} ({}) differs from quick.toml in {differing:?}",
            variant.name,
            variant.config.display()
        );
    }
}
