//! The identity of the code that produces a stage: the `sal` version and a hash of the source
//! files of the crates it runs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use sal_config::Stage;

use crate::key::{put, Field};

/// The value of a crate field when the crate folder does not exist (yet).
pub const ABSENT: &str = "absent";

/// Folders at a crate's top level that cannot change what the `sal` binary computes, so that
/// editing a test or a benchmark never invalidates a twenty-minute training run.
const SKIPPED_TOP_DIRS: [&str; 3] = ["tests", "benches", "examples"];

/// The crate folders (relative to the repository root) whose sources make up a stage's code.
pub fn crates_of(stage: Stage) -> &'static [&'static str] {
    match stage {
        Stage::Data => &["crates/artifact", "crates/config", "crates/data"],
        Stage::Train => &["crates/artifact", "crates/config", "crates/model"],
        Stage::Attribute => &[
            "crates/artifact",
            "crates/config",
            "crates/model",
            "crates/attribution",
        ],
        Stage::Metrics => &[
            "crates/artifact",
            "crates/config",
            "crates/model",
            "crates/perturbation",
            "crates/metrics",
        ],
        Stage::Stats => &["crates/artifact", "crates/config", "crates/psychometrics"],
        Stage::Sanity => &[
            "crates/artifact",
            "crates/config",
            "crates/model",
            "crates/attribution",
            "crates/perturbation",
            "crates/metrics",
            "crates/psychometrics",
            "crates/sanity",
        ],
        Stage::Report => &["crates/artifact", "crates/config", "crates/report"],
    }
}

/// Hashes crate folders once each, however many stages use them.
#[derive(Debug)]
pub struct SourceHasher {
    root: PathBuf,
    cache: BTreeMap<&'static str, String>,
}

impl SourceHasher {
    /// A hasher for the crates under `root`.
    pub fn new(root: &Path) -> Self {
        SourceHasher {
            root: root.to_path_buf(),
            cache: BTreeMap::new(),
        }
    }

    /// The code fields of a stage's key: `code.sal_version`, then `code.<crate folder>` for each
    /// crate of [`crates_of`].
    pub fn code_fields(&mut self, stage: Stage) -> anyhow::Result<Vec<Field>> {
        self.code_fields_of(crates_of(stage), &[])
    }

    /// `code.sal_version`, then `code.<crate folder>` for each of `crates` and `code.<file>`
    /// (blake3 of its bytes, or [`ABSENT`]) for each of `files`, paths relative to the root.
    pub fn code_fields_of(
        &mut self,
        crates: &[&'static str],
        files: &[&str],
    ) -> anyhow::Result<Vec<Field>> {
        let mut fields = vec![Field::new("code.sal_version", sal_artifact::created_by())];
        for &krate in crates {
            let hash = match self.cache.get(krate) {
                Some(hash) => hash.clone(),
                None => {
                    let hash = hash_crate(&self.root.join(krate))?;
                    self.cache.insert(krate, hash.clone());
                    hash
                }
            };
            fields.push(Field::new(format!("code.{krate}"), hash));
        }
        for &file in files {
            let path = self.root.join(file);
            let hash = if path.is_file() {
                blake3::hash(&fs_err::read(&path)?).to_hex().to_string()
            } else {
                ABSENT.to_owned()
            };
            fields.push(Field::new(format!("code.{file}"), hash));
        }
        Ok(fields)
    }
}

/// blake3 over the sorted relative paths and contents of a crate's source files, or
/// [`ABSENT`] if the folder does not exist.
///
/// Skipped: any `target/` folder, hidden files and folders (editor swap files), and the
/// top-level `tests/`, `benches/`, `examples/` folders and `*.md` files.
pub fn hash_crate(dir: &Path) -> anyhow::Result<String> {
    if !dir.is_dir() {
        return Ok(ABSENT.to_owned());
    }
    let mut files = Vec::new();
    collect(dir, "", &mut files)?;
    files.sort();
    let mut hasher = blake3::Hasher::new();
    for relative in &files {
        let path = dir.join(relative);
        let bytes = fs_err::read(&path)?;
        put(&mut hasher, relative.as_bytes());
        put(&mut hasher, &bytes);
    }
    Ok(hasher.finalize().to_hex().to_string())
}

/// Appends the `/`-separated relative paths of the files under `dir/prefix`.
fn collect(base: &Path, prefix: &str, out: &mut Vec<String>) -> anyhow::Result<()> {
    let dir = if prefix.is_empty() {
        base.to_path_buf()
    } else {
        base.join(prefix)
    };
    for entry in fs_err::read_dir(&dir)? {
        let entry = entry.with_context(|| format!("listing {}", dir.display()))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else {
            anyhow::bail!("{}: file name is not UTF-8", entry.path().display());
        };
        let top = prefix.is_empty();
        let file_type = fs_err::metadata(entry.path())?.file_type();
        if name.starts_with('.')
            || name == "target"
            || (top && file_type.is_dir() && SKIPPED_TOP_DIRS.contains(&name))
        {
            continue;
        }
        let relative = if top {
            name.to_owned()
        } else {
            format!("{prefix}/{name}")
        };
        if file_type.is_dir() {
            collect(base, &relative, out)?;
        } else if !(top && name.ends_with(".md")) {
            out.push(relative);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, text: &str) {
        fs_err::create_dir_all(path.parent().unwrap()).unwrap();
        fs_err::write(path, text).unwrap();
    }

    #[test]
    fn absent_crates_hash_as_absent() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(hash_crate(&dir.path().join("nope")).unwrap(), ABSENT);
    }

    #[test]
    fn the_hash_follows_sources_and_ignores_build_output_tests_and_docs() {
        let dir = tempfile::tempdir().unwrap();
        let krate = dir.path().join("crates/data");
        write(&krate.join("Cargo.toml"), "[package]\n");
        write(&krate.join("src/lib.rs"), "pub fn f() {}\n");
        let base = hash_crate(&krate).unwrap();
        assert_eq!(base.len(), 64);

        for ignored in [
            "target/debug/x",
            "tests/t.rs",
            "benches/b.rs",
            "examples/e.rs",
            "README.md",
            "src/.lib.rs.swp",
        ] {
            write(&krate.join(ignored), "noise");
            assert_eq!(
                hash_crate(&krate).unwrap(),
                base,
                "{ignored} changed the hash"
            );
        }

        write(&krate.join("src/lib.rs"), "pub fn f() { }\n");
        let edited = hash_crate(&krate).unwrap();
        assert_ne!(edited, base);

        // A renamed file with the same contents is a different crate.
        write(&krate.join("src/lib.rs"), "pub fn f() {}\n");
        assert_eq!(hash_crate(&krate).unwrap(), base);
        fs_err::rename(krate.join("src/lib.rs"), krate.join("src/main.rs")).unwrap();
        assert_ne!(hash_crate(&krate).unwrap(), base);

        // Nested source folders count (and a nested README is a source, e.g. include_str!).
        fs_err::rename(krate.join("src/main.rs"), krate.join("src/lib.rs")).unwrap();
        write(&krate.join("src/data/tables.md"), "x");
        assert_ne!(hash_crate(&krate).unwrap(), base);
    }

    #[test]
    fn the_hash_does_not_depend_on_where_the_repository_is() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        for root in [a.path(), b.path()] {
            write(&root.join("crates/x/src/lib.rs"), "fn a() {}");
            write(&root.join("crates/x/src/m/mod.rs"), "fn b() {}");
        }
        assert_eq!(
            hash_crate(&a.path().join("crates/x")).unwrap(),
            hash_crate(&b.path().join("crates/x")).unwrap()
        );
    }

    #[test]
    fn code_fields_name_every_crate_of_the_stage() {
        let dir = tempfile::tempdir().unwrap();
        write(&dir.path().join("crates/artifact/src/lib.rs"), "");
        let fields = SourceHasher::new(dir.path())
            .code_fields(Stage::Stats)
            .unwrap();
        let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "code.sal_version",
                "code.crates/artifact",
                "code.crates/config",
                "code.crates/psychometrics"
            ]
        );
        assert_ne!(fields[1].value, ABSENT);
        assert_eq!(fields[2].value, ABSENT);
    }
}
