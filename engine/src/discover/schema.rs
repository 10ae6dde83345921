//! hookbox.toml as types, for its JSON Schema (`hookbox schema`, docs/hookbox.schema.json).
//!
//! The parser in `config.rs` walks the document with its spans so that it can report every
//! problem at its line; these types are not what it reads into. They exist so an editor
//! (taplo, VS Code's Even Better TOML) can check and complete the file, and a test keeps the
//! two in step: every table's keys here are the parser's key lists, and every example in
//! hooks-examples/ deserializes into [`HookboxToml`] with unknown keys refused.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;

// The value types are the ones the rest of hookbox uses, so the two cannot drift apart.
use crate::bridge::policy::{DirAccess as WorkDir, Network};
use crate::plan::{FailureRule as Failure, Point, RunnerKind as Runner};

/// A project's hookbox.toml: the explicit form of every convention, and the project's
/// settings. Under an operator's platform policy every setting can only narrow what the
/// operator grants. Every key is optional.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
#[schemars(title = "hookbox.toml")]
pub struct HookboxToml {
    /// Default runner of the project's hooks (`.wasm` hooks always run in the sandbox).
    /// Default "native".
    pub runner: Option<Runner>,
    /// Application variables given to every hook; numbers and booleans are passed as their
    /// text.
    pub env: Option<BTreeMap<String, EnvValue>>,
    /// Commands of `hookbox deploy`, each run by the project's shell.
    pub deploy: Option<Deploy>,
    /// What the project's hooks are granted (deny by default).
    pub policy: Option<Policy>,
    /// Resource limits of each hook.
    pub limits: Option<Limits>,
    /// Acquia Site Factory settings.
    pub site_factory: Option<SiteFactory>,
    /// Hooks, in addition to (or setting the fields of) the ones a convention finds.
    pub hook: Option<Vec<Hook>>,
}

/// An `[env]` value.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum EnvValue {
    Text(String),
    Integer(i64),
    Float(f64),
    Boolean(bool),
}

/// `[deploy]`: the commands of `hookbox deploy`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Deploy {
    /// Installs dependencies in the new release (e.g. `npm ci`).
    pub install: Option<String>,
    /// Builds the release.
    pub build: Option<String>,
    /// Starts the application in the background; the next deploy stops it.
    pub start: Option<String>,
    /// Repeated until it succeeds or the health timeout passes.
    pub health_check: Option<String>,
}

/// `[policy]`: what the project's hooks are granted. The snake_case spelling of each key is
/// accepted too.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Policy {
    /// How hooks may use the work directory. Default "read-write".
    #[serde(alias = "work_dir")]
    pub work_dir: Option<WorkDir>,
    /// Host commands sandboxed hooks may start, by name (found in `path`) or absolute path.
    /// Default none.
    pub allow: Option<Vec<String>>,
    /// The PATH of hooks, and where allowed command names are found. Default
    /// "/usr/local/bin:/usr/bin:/bin".
    pub path: Option<String>,
    /// Network of bridged commands and native hooks. Default "none".
    pub network: Option<Network>,
    /// Developer mode only: the user hooks run as when hookbox runs as root (`nobody` or an
    /// unused uid of 1000 or more). Refused under a platform policy.
    #[serde(alias = "run_as")]
    pub run_as: Option<String>,
    /// Run where the kernel lacks a confinement (Landlock, namespaces), saying so. Default
    /// false: refuse.
    #[serde(alias = "accept_weak_confinement")]
    pub accept_weak_confinement: Option<bool>,
}

/// `[limits]`: resource limits of each hook.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Limits {
    /// Sandbox instruction budget per hook. Default: none.
    #[schemars(range(min = 1))]
    pub fuel: Option<u64>,
    /// Linear memory of a sandboxed hook, RLIMIT_DATA of a native hook or bridged command.
    /// Default 268435456 (256 MiB).
    #[schemars(range(min = 1))]
    pub memory_bytes: Option<u64>,
    /// Output kept per hook. Default 10485760 (10 MiB).
    #[schemars(range(min = 1))]
    pub output_cap_bytes: Option<u64>,
}

/// `[site-factory]`: Acquia Site Factory settings.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SiteFactory {
    /// Runs when a hook folder has no script. Default "drush updatedb".
    pub default_command: Option<String>,
    /// Code version of the source (production) environment.
    pub source_code_version: Option<String>,
    /// Code version of the staged environment; post-staging-update runs only when the two
    /// differ (or either is unknown).
    pub target_code_version: Option<String>,
}

/// One `[[hook]]`: exactly one of `command`, `script`, `wasm`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Hook {
    /// The name logged in `Running hook: NAME`. Default: the file name, else the stage.
    pub name: Option<String>,
    /// The stage as its convention spells it (pre-deploy, post-deploy, postdeploy, release,
    /// post-staging-update, …).
    pub stage: String,
    /// A command line run by the shell.
    pub command: Option<String>,
    /// A script file, relative to hookbox.toml's folder.
    pub script: Option<String>,
    /// A WASI preview 1 module, relative to hookbox.toml's folder (always the sandbox).
    pub wasm: Option<String>,
    /// Where in the deployment it runs; required for a stage hookbox does not know.
    pub point: Option<Point>,
    /// What its failure does. Default: from the point.
    pub failure: Option<Failure>,
    /// Its wall-clock limit. Default: HOOK_TIMEOUT, else 300; --timeout wins.
    #[schemars(range(min = 1, max = 86400))]
    pub timeout_seconds: Option<u64>,
    /// Its runner. Default: the project's `runner`.
    pub runner: Option<Runner>,
    /// Its arguments.
    pub args: Option<Vec<String>>,
    /// Extra attempts after a failure the retry policy retries. Default 0 (Site Factory's
    /// post-site-install, -duplication, -update: 2).
    #[schemars(range(max = 20))]
    pub retries: Option<u32>,
    /// Wait before the first retry, doubled after each. Default 1.
    #[schemars(range(max = 86400))]
    pub retry_delay_seconds: Option<u64>,
    /// Cap of that wait. Default 300.
    #[schemars(range(max = 86400))]
    pub retry_delay_max_seconds: Option<u64>,
    /// Which failures are retried. Default: every failure.
    pub retry_on: Option<Vec<RetryOn>>,
    /// Exit codes never retried. Default: Site Factory [131], else none.
    pub never_retry: Option<Vec<ExitCode>>,
}

/// A failure `retry-on` names.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum RetryOn {
    Cause(RetryCause),
    Exit(ExitCode),
}

/// A failure that is not an exit code.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RetryCause {
    /// The worker running the hook was lost (fleet).
    WorkerLost,
    /// The hook's timeout passed.
    Timeout,
}

/// An exit code from 1 to 255.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct ExitCode(#[schemars(range(min = 1, max = 255))] pub u8);

/// The JSON Schema of hookbox.toml, pretty-printed, as docs/hookbox.schema.json holds it.
pub fn json_schema() -> String {
    let mut schema = schemars::schema_for!(HookboxToml).to_value();
    drop_null(&mut schema);
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

/// TOML has no null: an optional key is one that may be left out (it is not `required`), not
/// one that may be null, so the `null` schemars gives every `Option` is taken out again.
fn drop_null(node: &mut serde_json::Value) {
    use serde_json::Value;
    let Value::Object(map) = node else {
        if let Value::Array(items) = node {
            items.iter_mut().for_each(drop_null);
        }
        return;
    };
    if let Some(Value::Array(types)) = map.get_mut("type") {
        types.retain(|t| t != "null");
        if types.len() == 1 {
            let only = types.remove(0);
            map.insert("type".into(), only);
        }
    }
    if let Some(Value::Array(any)) = map.get_mut("anyOf") {
        any.retain(|s| s.get("type").is_none_or(|t| t != "null"));
        if any.len() == 1 {
            if let Some(Value::Object(only)) = map
                .remove("anyOf")
                .and_then(|mut a| a.get_mut(0).map(Value::take))
            {
                map.extend(only);
            }
        }
    }
    map.values_mut().for_each(drop_null);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn properties(schema: &serde_json::Value, def: Option<&str>) -> Vec<String> {
        let node = match def {
            Some(d) => &schema["$defs"][d],
            None => schema,
        };
        let mut keys: Vec<String> = node["properties"]
            .as_object()
            .unwrap_or_else(|| panic!("{def:?} has properties"))
            .keys()
            .cloned()
            .collect();
        keys.sort();
        keys
    }

    fn sorted(keys: &[&str]) -> Vec<String> {
        let mut v: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
        v.sort();
        v
    }

    /// The schema's tables have exactly the keys the parser accepts.
    #[test]
    fn the_schema_has_the_parsers_keys() {
        use super::super::config::keys;
        let schema: serde_json::Value = serde_json::from_str(&json_schema()).unwrap();
        assert_eq!(properties(&schema, None), sorted(keys::TOP));
        assert_eq!(properties(&schema, Some("Deploy")), sorted(keys::DEPLOY));
        assert_eq!(properties(&schema, Some("Policy")), sorted(keys::POLICY));
        assert_eq!(properties(&schema, Some("Limits")), sorted(keys::LIMITS));
        assert_eq!(
            properties(&schema, Some("SiteFactory")),
            sorted(keys::SITE_FACTORY)
        );
        assert_eq!(properties(&schema, Some("Hook")), sorted(keys::HOOK));
    }

    /// docs/hookbox.schema.json is the generated schema (regenerate with
    /// `cargo run -q -p hookbox -- schema > docs/hookbox.schema.json`).
    #[test]
    fn the_shipped_schema_is_current() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/hookbox.schema.json");
        let shipped = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            shipped == json_schema(),
            "{} is stale: run `cargo run -q -p hookbox -- schema > docs/hookbox.schema.json`",
            path.display()
        );
    }

    /// Every bundled example's hookbox.toml is valid under the schema's types, and the parser
    /// agrees with the schema on a file it refuses.
    #[test]
    fn every_example_fits_the_schema() {
        let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../hooks-examples");
        let mut seen = 0;
        for entry in std::fs::read_dir(&examples).unwrap().flatten() {
            let file = entry.path().join("hookbox.toml");
            let Ok(text) = std::fs::read_to_string(&file) else {
                continue;
            };
            seen += 1;
            if let Err(e) = toml::from_str::<HookboxToml>(&text) {
                panic!("{}: {e}", file.display());
            }
        }
        assert!(seen >= 3, "examples with a hookbox.toml: {seen}");
        for bad in [
            "runnr = \"native\"\n",
            "[policy]\nnetwork = \"internet\"\n",
            "[[hook]]\nstage = \"pre-deploy\"\ncommand = \"true\"\ntimeout = 5\n",
            "[[hook]]\nstage = \"pre-deploy\"\nretry-on = [\"sometimes\"]\n",
        ] {
            assert!(toml::from_str::<HookboxToml>(bad).is_err(), "{bad}");
        }
    }
}
