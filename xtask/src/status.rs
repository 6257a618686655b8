//! `cargo xtask status`: each stage fresh, stale (and why) or missing for a config.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sal_config::{Config, Stage};
use serde_json::Value;

use crate::display;
use crate::flags;
use crate::key::StageKey;
use crate::plan::Plan;
use crate::project::Project;
use crate::store;

/// The state of one stage's artifacts for a config.
#[derive(Debug, Clone, PartialEq)]
pub enum State {
    /// A finished folder of the current key exists.
    Fresh(PathBuf),
    /// Only folders of other keys exist; `reasons` compares the current key with the newest.
    Stale {
        /// The newest finished folder of that stage.
        newest: PathBuf,
        /// What changed, one readable line each (e.g. "config section changed (seed: 0 -> 1)").
        reasons: Vec<String>,
    },
    /// No finished folder of that stage at all.
    Missing,
}

impl State {
    /// `fresh`, `stale` or `missing`.
    pub fn name(&self) -> &'static str {
        match self {
            State::Fresh(_) => "fresh",
            State::Stale { .. } => "stale",
            State::Missing => "missing",
        }
    }
}

/// The state of every stage, in pipeline order.
pub fn states(
    project: &Project,
    config: &Config,
    config_path: &Path,
) -> anyhow::Result<Vec<(Stage, State)>> {
    let plan = Plan::new(project, config, config_path)?;
    let mut out = Vec::new();
    for key in &plan.keys {
        out.push((key.stage, state(project, key)?));
    }
    Ok(out)
}

/// The state of the sanity stage's random-label model (cached on its own): `Fresh` with its
/// folder, or `Missing` when no folder of the current key exists (the next sanity run trains
/// it); `None` when the config has none.
pub fn random_labels_state(
    project: &Project,
    config: &Config,
    config_path: &Path,
) -> anyhow::Result<Option<State>> {
    let plan = Plan::new(project, config, config_path)?;
    let Some(key) = &plan.random_labels else {
        return Ok(None);
    };
    Ok(Some(match crate::random_labels::finished(project, key)? {
        Some((folder, _)) => State::Fresh(folder),
        None => State::Missing,
    }))
}

/// The state of one stage's key.
pub fn state(project: &Project, key: &StageKey) -> anyhow::Result<State> {
    if let Some((folder, _)) = store::finished(project, key)? {
        return Ok(State::Fresh(folder));
    }
    Ok(match store::newest(project, key.stage)? {
        Some((newest, record)) => State::Stale {
            newest,
            reasons: reasons(key, &record.fields),
        },
        None => State::Missing,
    })
}

/// Why `current` differs from the fields recorded in an older `key.json`.
pub fn reasons(current: &StageKey, old: &BTreeMap<String, Value>) -> Vec<String> {
    let mut reasons = Vec::new();
    let mut code = Vec::new();
    let is_external = |has: bool| if has { "an [external] command" } else { "sal" };
    let (was_external, now_external) = (
        old.contains_key("code.external"),
        current.field("code.external").is_some(),
    );
    if was_external != now_external {
        reasons.push(format!(
            "the stage now runs {} instead of {}",
            is_external(now_external),
            is_external(was_external)
        ));
    }
    for field in &current.fields {
        let before = old.get(&field.name);
        let name = field.name.as_str();
        if before == Some(&field.value)
            || (was_external != now_external && name.starts_with("code."))
        {
            continue;
        }
        if let Some(krate) = name.strip_prefix("code.crates/") {
            code.push(format!("crates/{krate}"));
            continue;
        }
        let change = || {
            format!(
                "{} -> {}",
                before.map_or("(none)".to_owned(), short),
                short(&field.value)
            )
        };
        let reason = match name {
            "format" => format!("key format changed ({})", change()),
            "stage" => "a different stage".to_owned(),
            "schemas.writes" | "schemas.reads" => format!("artifact schema changed ({})", change()),
            "config" => format!(
                "config section [{}] changed ({})",
                current.stage,
                config_changes(before, &field.value)
            ),
            "code.sal_version" => format!("sal version changed ({})", change()),
            "code.external" => format!("[external] command changed ({})", change()),
            "code.external_files" => "files of the [external] command changed".to_owned(),
            "data.batch_files" => "CIFAR-10 batch files changed (data.verify = false)".to_owned(),
            _ => match (name.strip_prefix("input."), name.strip_prefix("variant.")) {
                (Some(input), _) => format!("input {input} changed"),
                (_, Some(variant)) => {
                    format!("the report of variant {variant:?} changed ({})", change())
                }
                _ => format!("{name} changed"),
            },
        };
        reasons.push(reason);
    }
    if !code.is_empty() {
        reasons.push(format!("code changed ({})", code.join(", ")));
    }
    for name in old.keys() {
        if current.field(name).is_none()
            && !(was_external != now_external && name.starts_with("code."))
        {
            reasons.push(format!("{name} no longer enters the key"));
        }
    }
    if reasons.is_empty() {
        reasons.push("same fields but a different key (corrupt key.json?)".to_owned());
    }
    reasons
}

/// `seed: 0 -> 1, epochs: 30 -> 2` for the top-level keys of two config sections that differ.
fn config_changes(before: Option<&Value>, after: &Value) -> String {
    let (Some(Value::Object(before)), Value::Object(after)) = (before, after) else {
        return format!(
            "{} -> {}",
            before.map_or("(none)".to_owned(), short),
            short(after)
        );
    };
    let mut names: Vec<&String> = before.keys().chain(after.keys()).collect();
    names.sort();
    names.dedup();
    let changes: Vec<String> = names
        .into_iter()
        .filter(|n| before.get(*n) != after.get(*n))
        .map(|n| {
            let show = |v: Option<&Value>| v.map_or("(none)".to_owned(), short);
            format!("{n}: {} -> {}", show(before.get(n)), show(after.get(n)))
        })
        .collect();
    changes.join(", ")
}

/// A value as canonical JSON, cut to a readable length.
fn short(value: &Value) -> String {
    let text = sal_artifact::meta::canonical_json(value);
    if text.chars().count() > 60 {
        format!("{}...", text.chars().take(57).collect::<String>())
    } else {
        text
    }
}

/// Prints the status table of a config.
pub fn run(project: &Project, flags: &flags::Status) -> anyhow::Result<()> {
    let config_path = project.config_path(flags.config.as_deref())?;
    let config = project.load_config(&config_path)?;
    println!("config: {}", project.display(&config_path));
    let mut rows = Vec::new();
    for (stage, state) in states(project, &config, &config_path)? {
        let detail = match &state {
            State::Fresh(folder) => project.display(folder).to_string(),
            State::Stale { reasons, .. } => reasons.join("; "),
            State::Missing => String::new(),
        };
        rows.push(vec![
            stage.name().to_owned(),
            state.name().to_owned(),
            detail,
        ]);
    }
    print!(
        "{}",
        display::table(&["stage", "state", "folder / why"], &rows)
    );
    match random_labels_state(project, &config, &config_path)? {
        Some(State::Fresh(folder)) => println!(
            "sanity's random-label model (cached on its own): fresh {}",
            project.display(&folder)
        ),
        Some(_) => println!(
            "sanity's random-label model (cached on its own): missing: none of this key, the next sanity run trains it"
        ),
        None => {}
    }
    for variant in Plan::new(project, &config, &config_path)?.variants {
        match &variant.folder {
            Some(folder) => println!(
                "report variant {:?}: fresh {}",
                variant.name,
                project.display(folder)
            ),
            None => println!(
                "report variant {:?}: not run for its current key (cargo xtask pipeline --config {})",
                variant.name,
                project.display(&variant.config)
            ),
        }
    }
    Ok(())
}
