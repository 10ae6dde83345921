//! `hookbox.toml`: the explicit form of every convention, and the project's settings.
//!
//! Data enters as the file's text (in `PROJECT_PATH` if it has one, else the root); it leaves
//! as a [`Config`] (env, deploy commands, policy, limits, Site Factory settings, hooks) and
//! problems that name the key, its line and the fix. The document is walked with its spans
//! (`toml::de::DeTable`), so every unknown key is reported at once, not only the first.
//!
//! Schema (keys are kebab-case; `[policy]` also accepts the snake_case of its Rust fields):
//!
//! ```toml
//! runner = "native"            # default runner of the project's hooks: "native" | "sandbox"
//!
//! [env]                        # application variables (strings; numbers and booleans are
//! DATABASE_URL = "sqlite:///…" # written as strings)
//!
//! [deploy]                     # `hookbox deploy` commands, each run by bash -c
//! install = "…"
//! build = "…"
//! start = "…"                  # background; stopped by the next deploy
//! health-check = "…"
//!
//! [policy]                     # crate::bridge::policy::Policy
//! work-dir = "read-write"      # | "read-only"
//! allow = ["sqlite3"]          # host commands sandboxed hooks may start
//! path = "/usr/local/bin:/usr/bin:/bin"
//! network = "none"             # | "loopback" | "host"
//! run-as = "nobody"             # developer mode only, and only `nobody` or an unused uid
//!                              #   ≥ 1000; refused under a platform policy (docs/platform.md)
//! accept-weak-confinement = false
//!
//! Under the operator's platform policy every key here can only narrow what it grants
//! (`crate::platform`); `Config::lines` keeps where each was written for those messages.
//!
//! [limits]
//! fuel = 1000000000            # sandbox instruction budget per hook
//! memory-bytes = 268435456
//! output-cap-bytes = 10485760
//!
//! [site-factory]
//! default-command = "drush updatedb"
//! source-code-version = "…"    # post-staging-update runs only when these differ
//! target-code-version = "…"
//!
//! [[hook]]
//! name = "migrate"             # optional: the file name, else the stage
//! stage = "pre-deploy"         # required
//! command = "…"                # exactly one of command | script | wasm
//! point = "before-build"       # optional for known stages: before-build | before-switch |
//!                              #   after-switch | task
//! failure = "abort"            # optional: abort | hook-error | warn | fail-task
//! timeout-seconds = 600
//! runner = "sandbox"           # optional: the project's `runner` otherwise
//! args = ["a", "b"]
//! retries = 2                  # extra attempts after a failure (default 0; Site Factory's
//!                              #   post-site-install/-duplication/-update: 2)
//! retry-delay-seconds = 1      # before the first retry, doubled each time (default 1)
//! retry-delay-max-seconds = 300  # cap of the doubling (default 300)
//! retry-on = ["worker-lost", "timeout", 75]  # default: every failure
//! never-retry = [131]          # exit codes never retried (Site Factory default: [131])
//! ```
//!
//! A `[[hook]]` whose `script`/`wasm` is a file a convention already found (`pre-deploy.sh`)
//! sets that hook's fields instead of adding a second hook.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use super::{
    exists_no_follow, files, hook_program, lossy, point_failure, stage_defaults, Ctx, Problem, Scan,
};
use crate::bridge::policy::Policy;
use crate::plan::{
    Convention, DeployCommands, FailureRule, Hook, HookProgram, PlanLimits, Point, RunnerKind,
    Skipped,
};
use crate::retry::{RetryOn, RetryPolicy, MAX_RETRIES};

/// The file name.
pub const FILE_NAME: &str = "hookbox.toml";

/// Bytes of hookbox.toml read at most.
pub const DEFAULT_CONFIG_BYTES: u64 = 1024 * 1024;

/// Longest `timeout-seconds` accepted: a day. A longer hook is a mistake, not a plan.
pub const MAX_TIMEOUT_SECONDS: u64 = 24 * 60 * 60;

/// The keys of each table, the one list the parser checks and the schema test compares.
pub(crate) mod keys {
    pub const TOP: &[&str] = &[
        "runner",
        "env",
        "deploy",
        "policy",
        "limits",
        "site-factory",
        "hook",
    ];
    pub const DEPLOY: &[&str] = &["install", "build", "start", "health-check"];
    pub const POLICY: &[&str] = &[
        "work-dir",
        "allow",
        "path",
        "network",
        "run-as",
        "accept-weak-confinement",
    ];
    pub const LIMITS: &[&str] = &["fuel", "memory-bytes", "output-cap-bytes"];
    pub const SITE_FACTORY: &[&str] = &[
        "default-command",
        "source-code-version",
        "target-code-version",
    ];
    pub const HOOK: &[&str] = &[
        "name",
        "stage",
        "command",
        "script",
        "wasm",
        "point",
        "failure",
        "timeout-seconds",
        "runner",
        "args",
        "retries",
        "retry-delay-seconds",
        "retry-delay-max-seconds",
        "retry-on",
        "never-retry",
    ];
}

/// `[site-factory]` as written.
#[derive(Debug, Clone, Default)]
pub struct SiteFactoryConfig {
    pub default_command: Option<String>,
    pub source_code_version: Option<String>,
    pub target_code_version: Option<String>,
}

/// What a `[[hook]]` runs, as written (paths relative to hookbox.toml's folder).
#[derive(Debug, Clone)]
pub enum ConfigProgram {
    Command(String),
    Script(PathBuf),
    Wasm(PathBuf),
}

/// One `[[hook]]` entry.
#[derive(Debug, Clone)]
pub struct ConfigHook {
    /// Line of the entry's first key.
    pub line: usize,
    pub name: Option<String>,
    pub stage: String,
    pub program: ConfigProgram,
    pub point: Option<Point>,
    pub failure: Option<FailureRule>,
    pub timeout: Option<Duration>,
    pub runner: Option<RunnerKind>,
    /// Line of its `runner` key, when it has one (the platform policy names it).
    pub runner_line: Option<usize>,
    /// Line of its `timeout-seconds` key, when it has one.
    pub timeout_line: Option<usize>,
    pub args: Vec<String>,
    /// Set when any retry key is present: the convention's default with those keys applied.
    pub retry: Option<RetryOverrides>,
}

/// The retry keys of a `[[hook]]`, each `None` when absent (the convention's default stays).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RetryOverrides {
    pub retries: Option<u32>,
    pub delay: Option<Duration>,
    pub delay_cap: Option<Duration>,
    pub on: Option<Vec<RetryOn>>,
    pub never: Option<Vec<i32>>,
}

impl RetryOverrides {
    /// `base` (the convention's default policy) with these keys applied.
    pub fn apply(&self, mut base: RetryPolicy) -> RetryPolicy {
        if let Some(n) = self.retries {
            base.retries = n;
        }
        if let Some(d) = self.delay {
            base.delay = d;
        }
        if let Some(d) = self.delay_cap {
            base.delay_cap = d;
        }
        if let Some(on) = &self.on {
            base.on = on.clone();
        }
        if let Some(never) = &self.never {
            base.never = never.clone();
        }
        base
    }
}

/// hookbox.toml, parsed.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// Where it is, relative to the project root.
    pub rel: PathBuf,
    pub runner: Option<RunnerKind>,
    pub env: BTreeMap<String, String>,
    pub deploy: DeployCommands,
    pub policy: Policy,
    pub limits: PlanLimits,
    pub site_factory: SiteFactoryConfig,
    pub hooks: Vec<ConfigHook>,
    /// `[deploy]` commands with their lines, for `validate`'s `bash -n`.
    pub deploy_lines: Vec<(String, String, usize)>,
    /// Where each tenant setting the platform policy judges was written: `runner`,
    /// `policy.<key>` and `limits.<key>` (kebab-case) → its 1-based line.
    pub lines: BTreeMap<String, usize>,
}

/// Find, read and parse the project's hookbox.toml; problems go to `out.errors`.
pub(crate) fn load(ctx: &Ctx<'_>, out: &mut Scan) -> Option<Config> {
    let rel = ctx.locate(FILE_NAME)?;
    let shown = ctx.shown(&rel);
    let text = match ctx
        .contained(&ctx.abs(&rel))
        .and_then(|()| read(&ctx.abs(&rel)))
    {
        Ok(t) => t,
        Err(msg) => {
            out.errors.push(
                Problem::new(shown, None, format!("{FILE_NAME} {msg}"))
                    .fix("make hookbox.toml a UTF-8 TOML file")
                    .rule(super::rules::FILE),
            );
            return None;
        }
    };
    let (mut cfg, problems) = parse(&text, &shown);
    cfg.rel = rel;
    out.errors.extend(problems);
    for (key, cmd, line) in &cfg.deploy_lines {
        if keys::DEPLOY.contains(&key.as_str()) {
            out.commands
                .push((format!("[deploy] {key}"), cmd.clone(), shown.clone(), *line));
        }
    }
    Some(cfg)
}

fn read(path: &Path) -> Result<String, String> {
    let meta = std::fs::metadata(path).map_err(|e| files::io_message(&e))?;
    if meta.is_dir() {
        return Err("is a directory, expected a file".into());
    }
    if !meta.is_file() {
        return Err("is not a regular file (a FIFO, socket or device)".into());
    }
    if meta.len() > DEFAULT_CONFIG_BYTES {
        return Err(format!("is larger than {DEFAULT_CONFIG_BYTES} bytes"));
    }
    let bytes = std::fs::read(path).map_err(|e| files::io_message(&e))?;
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "is not valid UTF-8 (at byte {})",
            e.utf8_error().valid_up_to()
        )
    })
}

/// Parse hookbox.toml text. `file` names it in problems.
pub fn parse(text: &str, file: &Path) -> (Config, Vec<Problem>) {
    let mut p = Parser {
        text,
        file: lossy(file),
        problems: Vec::new(),
    };
    let mut cfg = Config::default();
    let doc = match DeTable::parse(text) {
        Ok(doc) => doc,
        Err(e) => {
            let line = e.span().map(|s| p.line(&s));
            p.problems.push(
                Problem::new(
                    p.file.clone(),
                    line,
                    format!("TOML syntax error: {}", e.message().trim()),
                )
                .fix("fix the TOML syntax (https://toml.io)")
                .rule(super::rules::CONFIG_SYNTAX),
            );
            return (cfg, p.problems);
        }
    };
    for (key, value) in doc.get_ref().iter() {
        let line = p.line(&key.span());
        match key.get_ref().as_ref() {
            "runner" => {
                cfg.lines.insert("runner".into(), line);
                cfg.runner = p.runner(value, "runner");
            }
            "env" => {
                if let Some(t) = p.table(value, "env") {
                    cfg.env = p.env(t);
                }
            }
            "deploy" => {
                if let Some(t) = p.table(value, "deploy") {
                    p.known_keys(t, "[deploy]", keys::DEPLOY);
                    for (k, v) in t.iter() {
                        if let DeValue::String(cmd) = v.get_ref() {
                            let line = p.line(&v.span());
                            cfg.deploy_lines
                                .push((k.get_ref().to_string(), cmd.to_string(), line));
                        }
                    }
                    cfg.deploy = DeployCommands {
                        install: p.opt_command(t, "install", "[deploy]"),
                        build: p.opt_command(t, "build", "[deploy]"),
                        start: p.opt_command(t, "start", "[deploy]"),
                        health_check: p.opt_command(t, "health-check", "[deploy]"),
                    };
                }
            }
            "policy" => {
                if let Some(t) = p.table(value, "policy") {
                    cfg.lines.extend(p.key_lines(t, "policy"));
                    cfg.policy = p.policy(t, line);
                }
            }
            "limits" => {
                if let Some(t) = p.table(value, "limits") {
                    p.known_keys(t, "[limits]", keys::LIMITS);
                    cfg.lines.extend(p.key_lines(t, "limits"));
                    cfg.limits = PlanLimits {
                        fuel: p.opt_positive(t, "fuel", "[limits]"),
                        memory_bytes: p.opt_positive(t, "memory-bytes", "[limits]"),
                        output_cap_bytes: p.opt_positive(t, "output-cap-bytes", "[limits]"),
                    };
                }
            }
            "site-factory" => {
                if let Some(t) = p.table(value, "site-factory") {
                    p.known_keys(t, "[site-factory]", keys::SITE_FACTORY);
                    cfg.site_factory = SiteFactoryConfig {
                        default_command: p.opt_command(t, "default-command", "[site-factory]"),
                        source_code_version: p.opt_string(
                            t,
                            "source-code-version",
                            "[site-factory]",
                        ),
                        target_code_version: p.opt_string(
                            t,
                            "target-code-version",
                            "[site-factory]",
                        ),
                    };
                }
            }
            "hook" => match value.get_ref() {
                DeValue::Array(items) => {
                    for item in items.iter() {
                        match item.get_ref() {
                            DeValue::Table(t) => {
                                if let Some(h) = p.hook(t, item.span()) {
                                    cfg.hooks.push(h);
                                }
                            }
                            _ => p.push(
                                line,
                                "`hook` must be an array of tables (`[[hook]]`)",
                                "write each hook as a `[[hook]]` section",
                            ),
                        }
                    }
                }
                _ => p.push(
                    line,
                    "`hook` must be an array of tables (`[[hook]]`)",
                    "write each hook as a `[[hook]]` section (two brackets)",
                ),
            },
            other => {
                let other = other.to_string();
                p.unknown(&other, "the top level", line, keys::TOP);
            }
        }
    }
    p.problems.sort_by_key(|p| p.line);
    (cfg, p.problems)
}

type Table<'i> = DeTable<'i>;
type Value<'i> = Spanned<DeValue<'i>>;

struct Parser<'t> {
    text: &'t str,
    file: PathBuf,
    problems: Vec<Problem>,
}

impl Parser<'_> {
    fn line(&self, span: &Range<usize>) -> usize {
        let end = span.start.min(self.text.len());
        self.text.as_bytes()[..end]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1
    }

    fn push(&mut self, line: usize, message: impl Into<String>, fix: impl Into<String>) {
        self.problems.push(
            Problem::new(self.file.clone(), Some(line), message)
                .fix(fix)
                .rule(super::rules::CONFIG_VALUE),
        );
    }

    fn unknown(&mut self, key: &str, section: &str, line: usize, known: &[&str]) {
        let fix = match closest(key, known) {
            Some(k) => format!("did you mean `{k}`?"),
            None => "remove it".to_string(),
        };
        self.push(
            line,
            format!(
                "unknown key `{key}` in {section} at line {line}; known keys: {}",
                known.join(", ")
            ),
            fix,
        );
        if let Some(p) = self.problems.last_mut() {
            p.rule = super::rules::CONFIG_UNKNOWN_KEY;
        }
    }

    /// `section.key` (kebab-case) → line of every key of `t`.
    fn key_lines(&self, t: &Table<'_>, section: &str) -> Vec<(String, usize)> {
        t.iter()
            .map(|(k, _)| {
                (
                    format!("{section}.{}", k.get_ref().replace('_', "-")),
                    self.line(&k.span()),
                )
            })
            .collect()
    }

    fn known_keys(&mut self, t: &Table<'_>, section: &str, known: &[&str]) {
        for (key, _) in t.iter() {
            if !known.contains(&key.get_ref().as_ref()) {
                let line = self.line(&key.span());
                let k = key.get_ref().to_string();
                self.unknown(&k, section, line, known);
            }
        }
    }

    fn table<'a, 'i>(&mut self, v: &'a Value<'i>, key: &str) -> Option<&'a Table<'i>> {
        match v.get_ref() {
            DeValue::Table(t) => Some(t),
            other => {
                let line = self.line(&v.span());
                self.push(
                    line,
                    format!("`{key}` must be a table, not a {}", other.type_str()),
                    format!("write it as a `[{key}]` section"),
                );
                None
            }
        }
    }

    fn get<'a, 'i>(t: &'a Table<'i>, key: &str) -> Option<&'a Value<'i>> {
        t.iter()
            .find(|(k, _)| k.get_ref().as_ref() == key)
            .map(|(_, v)| v)
    }

    fn string(&mut self, v: &Value<'_>, key: &str, section: &str) -> Option<String> {
        match v.get_ref() {
            DeValue::String(s) => Some(s.to_string()),
            other => {
                let line = self.line(&v.span());
                self.push(
                    line,
                    format!(
                        "`{key}` in {section} must be a string, not a {}",
                        other.type_str()
                    ),
                    format!("quote it: {key} = \"…\""),
                );
                None
            }
        }
    }

    fn opt_string(&mut self, t: &Table<'_>, key: &str, section: &str) -> Option<String> {
        let v = Self::get(t, key)?;
        self.string(v, key, section)
    }

    /// A string that is run as a command: must not be blank.
    fn opt_command(&mut self, t: &Table<'_>, key: &str, section: &str) -> Option<String> {
        let v = Self::get(t, key)?;
        let s = self.string(v, key, section)?;
        if s.trim().is_empty() {
            let line = self.line(&v.span());
            self.push(
                line,
                format!("`{key}` in {section} is empty"),
                "write the command, or remove the key",
            );
            return None;
        }
        Some(s)
    }

    fn opt_positive(&mut self, t: &Table<'_>, key: &str, section: &str) -> Option<u64> {
        let v = Self::get(t, key)?;
        let n = match v.get_ref() {
            DeValue::Integer(i) => u64::from_str_radix(i.as_str(), i.radix()).ok(),
            _ => None,
        };
        match n {
            Some(n) if n > 0 => Some(n),
            _ => {
                let line = self.line(&v.span());
                self.push(
                    line,
                    format!("`{key}` in {section} must be a positive integer"),
                    format!("write e.g. `{key} = 600`"),
                );
                None
            }
        }
    }

    fn runner(&mut self, v: &Value<'_>, key: &str) -> Option<RunnerKind> {
        let s = self.string(v, key, "hookbox.toml")?;
        match s.as_str() {
            "native" => Some(RunnerKind::Native),
            "sandbox" => Some(RunnerKind::Sandbox),
            _ => {
                let line = self.line(&v.span());
                self.push(
                    line,
                    format!("unknown runner `{s}`"),
                    "write `native` or `sandbox`",
                );
                None
            }
        }
    }

    fn env(&mut self, t: &Table<'_>) -> BTreeMap<String, String> {
        let mut env = BTreeMap::new();
        for (k, v) in t.iter() {
            let name = k.get_ref().to_string();
            let valid = name
                .bytes()
                .next()
                .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
            if !valid {
                let line = self.line(&k.span());
                self.push(
                    line,
                    format!("`{name}` in [env] is not a variable name"),
                    "use letters, digits and `_`, not starting with a digit",
                );
                continue;
            }
            let value = match v.get_ref() {
                DeValue::String(s) => Some(s.to_string()),
                DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix())
                    .ok()
                    .map(|n| n.to_string()),
                DeValue::Float(f) => Some(f.as_str().to_string()),
                DeValue::Boolean(b) => Some(b.to_string()),
                _ => None,
            };
            match value {
                Some(value) if !value.contains('\0') => {
                    env.insert(name, value);
                }
                _ => {
                    let line = self.line(&v.span());
                    self.push(
                        line,
                        format!("`{name}` in [env] must be a string (without NUL bytes)"),
                        format!("write {name} = \"…\""),
                    );
                }
            }
        }
        env
    }

    fn policy(&mut self, t: &Table<'_>, line: usize) -> Policy {
        let mut table = toml::Table::new();
        let mut ok = true;
        for (k, v) in t.iter() {
            let key = k.get_ref().replace('_', "-");
            if !keys::POLICY.contains(&key.as_str()) {
                let kline = self.line(&k.span());
                let original = k.get_ref().to_string();
                self.unknown(&original, "[policy]", kline, keys::POLICY);
                ok = false;
                continue;
            }
            match to_value(v.get_ref()) {
                Some(value) => {
                    table.insert(key.replace('-', "_"), value);
                }
                None => ok = false,
            }
        }
        if !ok {
            return Policy::default();
        }
        match toml::Value::Table(table).try_into::<Policy>() {
            Ok(policy) => policy,
            Err(e) => {
                self.push(
                    line,
                    format!("invalid [policy]: {}", e.message().trim()),
                    "see the [policy] keys in docs/hookbox-toml.md",
                );
                Policy::default()
            }
        }
    }

    fn hook(&mut self, t: &Table<'_>, span: Range<usize>) -> Option<ConfigHook> {
        let first_key = t.iter().map(|(k, _)| k.span().start).min();
        let line = self.line(&first_key.map_or(span, |s| s..s));
        let section = format!("[[hook]] (line {line})");
        self.known_keys(t, &section, keys::HOOK);
        let name = self.opt_string(t, "name", &section);
        let stage = self.opt_string(t, "stage", &section);
        let command = self.opt_command(t, "command", &section);
        let script = self.opt_string(t, "script", &section);
        let wasm = self.opt_string(t, "wasm", &section);
        let point = match Self::get(t, "point") {
            Some(v) => {
                let s = self.string(v, "point", &section)?;
                match s.as_str() {
                    "before-build" => Some(Point::BeforeBuild),
                    "before-switch" => Some(Point::BeforeSwitch),
                    "after-switch" => Some(Point::AfterSwitch),
                    "task" => Some(Point::Task),
                    _ => {
                        let l = self.line(&v.span());
                        self.push(
                            l,
                            format!("unknown point `{s}`"),
                            "write before-build, before-switch, after-switch or task",
                        );
                        return None;
                    }
                }
            }
            None => None,
        };
        let failure = match Self::get(t, "failure") {
            Some(v) => {
                let s = self.string(v, "failure", &section)?;
                match s.as_str() {
                    "abort" => Some(FailureRule::Abort),
                    "hook-error" => Some(FailureRule::HookError),
                    "warn" => Some(FailureRule::Warn),
                    "fail-task" => Some(FailureRule::FailTask),
                    _ => {
                        let l = self.line(&v.span());
                        self.push(
                            l,
                            format!("unknown failure rule `{s}`"),
                            "write abort, hook-error, warn or fail-task",
                        );
                        return None;
                    }
                }
            }
            None => None,
        };
        let timeout = self.opt_positive(t, "timeout-seconds", &section);
        if let Some(secs) = timeout.filter(|s| *s > MAX_TIMEOUT_SECONDS) {
            self.push(
                line,
                format!("`timeout-seconds` = {secs} is longer than a day"),
                format!("use at most {MAX_TIMEOUT_SECONDS}"),
            );
            return None;
        }
        let runner = match Self::get(t, "runner") {
            Some(v) => Some(self.runner(v, "runner")?),
            None => None,
        };
        let args = match Self::get(t, "args") {
            Some(v) => {
                let items = match v.get_ref() {
                    DeValue::Array(a) => a
                        .iter()
                        .map(|i| match i.get_ref() {
                            DeValue::String(s) => Some(s.to_string()),
                            _ => None,
                        })
                        .collect::<Option<Vec<_>>>(),
                    _ => None,
                };
                match items {
                    Some(items) => items,
                    None => {
                        let l = self.line(&v.span());
                        self.push(
                            l,
                            "`args` must be an array of strings",
                            "write args = [\"a\", \"b\"]",
                        );
                        return None;
                    }
                }
            }
            None => Vec::new(),
        };
        let retry = self.retry(t, &section)?;
        let Some(stage) = stage.filter(|s| !s.trim().is_empty()) else {
            self.push(
                line,
                format!("{section} has no `stage`"),
                "add e.g. stage = \"pre-deploy\"",
            );
            return None;
        };
        if stage_defaults(&stage).is_none() && point.is_none() {
            self.push(
                line,
                format!("stage `{stage}` is not one a convention knows, and the hook has no `point`"),
                "add point = \"before-build\" (or before-switch, after-switch, task), or use a known stage such as pre-deploy",
            );
            return None;
        }
        let program = match (command, script, wasm) {
            (Some(c), None, None) => ConfigProgram::Command(c),
            (None, Some(s), None) => {
                if s.ends_with(".wasm") {
                    self.push(
                        line,
                        format!("`script = \"{s}\"` names a wasm module"),
                        format!("write wasm = \"{s}\""),
                    );
                    return None;
                }
                ConfigProgram::Script(PathBuf::from(s))
            }
            (None, None, Some(w)) => {
                if !w.ends_with(".wasm") {
                    self.push(
                        line,
                        format!("`wasm = \"{w}\"` does not end in .wasm"),
                        "name wasm modules *.wasm, and scripts with `script`",
                    );
                    return None;
                }
                ConfigProgram::Wasm(PathBuf::from(w))
            }
            _ => {
                self.push(
                    line,
                    format!("{section} needs exactly one of `command`, `script` or `wasm`"),
                    "keep one of them",
                );
                return None;
            }
        };
        if matches!(program, ConfigProgram::Wasm(_)) && runner == Some(RunnerKind::Native) {
            self.push(
                line,
                "a wasm hook always runs in the sandbox",
                "remove `runner = \"native\"`",
            );
            return None;
        }
        let key_line = |key: &str| {
            t.iter()
                .find(|(k, _)| k.get_ref().as_ref() == key)
                .map(|(k, _)| self.line(&k.span()))
        };
        Some(ConfigHook {
            line,
            name,
            stage,
            program,
            point,
            failure,
            timeout: timeout.map(Duration::from_secs),
            runner,
            runner_line: key_line("runner"),
            timeout_line: key_line("timeout-seconds"),
            args,
            retry,
        })
    }

    /// The retry keys of a `[[hook]]`; `Some(None)` when there are none, `None` on an error.
    fn retry(&mut self, t: &Table<'_>, section: &str) -> Option<Option<RetryOverrides>> {
        let keys = [
            "retries",
            "retry-delay-seconds",
            "retry-delay-max-seconds",
            "retry-on",
            "never-retry",
        ];
        if !keys.iter().any(|k| Self::get(t, k).is_some()) {
            return Some(None);
        }
        let mut r = RetryOverrides::default();
        if let Some(v) = Self::get(t, "retries") {
            match integer(v.get_ref()) {
                Some(n) if (0..=i64::from(MAX_RETRIES)).contains(&n) => r.retries = Some(n as u32),
                _ => {
                    let l = self.line(&v.span());
                    self.push(
                        l,
                        format!(
                            "`retries` in {section} must be an integer from 0 to {MAX_RETRIES}"
                        ),
                        "write e.g. `retries = 2` (two more attempts after a failure)",
                    );
                    return None;
                }
            }
        }
        for (key, slot) in [
            ("retry-delay-seconds", &mut r.delay),
            ("retry-delay-max-seconds", &mut r.delay_cap),
        ] {
            if let Some(v) = Self::get(t, key) {
                match integer(v.get_ref()) {
                    Some(n) if (0..=MAX_TIMEOUT_SECONDS as i64).contains(&n) => {
                        *slot = Some(Duration::from_secs(n as u64));
                    }
                    _ => {
                        let l = self.line(&v.span());
                        self.push(
                            l,
                            format!("`{key}` in {section} must be a number of seconds from 0 to {MAX_TIMEOUT_SECONDS}"),
                            format!("write e.g. `{key} = 5`"),
                        );
                        return None;
                    }
                }
            }
        }
        if let Some(v) = Self::get(t, "retry-on") {
            let items = match v.get_ref() {
                DeValue::Array(a) => a
                    .iter()
                    .map(|i| match i.get_ref() {
                        DeValue::String(s) if *s == "worker-lost" => Some(RetryOn::WorkerLost),
                        DeValue::String(s) if *s == "timeout" => Some(RetryOn::Timeout),
                        other => integer(other)
                            .filter(|n| (1..=255).contains(n))
                            .map(|n| RetryOn::Exit(n as i32)),
                    })
                    .collect::<Option<Vec<_>>>(),
                _ => None,
            };
            match items {
                Some(items) => r.on = Some(items),
                None => {
                    let l = self.line(&v.span());
                    self.push(
                        l,
                        format!("`retry-on` in {section} must list \"worker-lost\", \"timeout\" or exit codes 1 to 255"),
                        "write e.g. retry-on = [\"worker-lost\", 75]",
                    );
                    return None;
                }
            }
        }
        if let Some(v) = Self::get(t, "never-retry") {
            let items = match v.get_ref() {
                DeValue::Array(a) => a
                    .iter()
                    .map(|i| {
                        integer(i.get_ref())
                            .filter(|n| (1..=255).contains(n))
                            .map(|n| n as i32)
                    })
                    .collect::<Option<Vec<_>>>(),
                _ => None,
            };
            match items {
                Some(items) => r.never = Some(items),
                None => {
                    let l = self.line(&v.span());
                    self.push(
                        l,
                        format!("`never-retry` in {section} must list exit codes 1 to 255"),
                        "write e.g. never-retry = [131]",
                    );
                    return None;
                }
            }
        }
        Some(Some(r))
    }
}

fn integer(v: &DeValue<'_>) -> Option<i64> {
    match v {
        DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix()).ok(),
        _ => None,
    }
}

/// A spanned TOML value as an owned one (for serde into [`Policy`]).
fn to_value(v: &DeValue<'_>) -> Option<toml::Value> {
    Some(match v {
        DeValue::String(s) => toml::Value::String(s.to_string()),
        DeValue::Integer(i) => {
            toml::Value::Integer(i64::from_str_radix(i.as_str(), i.radix()).ok()?)
        }
        DeValue::Float(f) => toml::Value::Float(f.as_str().parse().ok()?),
        DeValue::Boolean(b) => toml::Value::Boolean(*b),
        DeValue::Datetime(d) => toml::Value::Datetime(*d),
        DeValue::Array(a) => toml::Value::Array(
            a.iter()
                .map(|i| to_value(i.get_ref()))
                .collect::<Option<Vec<_>>>()?,
        ),
        DeValue::Table(t) => {
            let mut out = toml::Table::new();
            for (k, v) in t.iter() {
                out.insert(k.get_ref().to_string(), to_value(v.get_ref())?);
            }
            toml::Value::Table(out)
        }
    })
}

/// The known key nearest `key` (edit distance at most 2, or `-`/`_` spelling).
pub(crate) fn closest<'a>(key: &str, known: &[&'a str]) -> Option<&'a str> {
    let norm = key.replace('_', "-").to_ascii_lowercase();
    known
        .iter()
        .map(|k| (strsim::levenshtein(&norm, k), *k))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
        .or_else(|| {
            known
                .iter()
                .find(|k| k.starts_with(&norm) || norm.starts_with(**k))
                .copied()
        })
}

/// Turn the `[[hook]]` entries into plan hooks: overrides of hooks a convention found (same
/// file), or new hooks of the `hookbox-toml` convention.
pub(crate) fn apply_hooks(ctx: &Ctx<'_>, cfg: &Config, out: &mut Scan) {
    let folder = cfg.rel.parent().map(Path::to_path_buf).unwrap_or_default();
    let shown_cfg = ctx.shown(&cfg.rel);
    for h in &cfg.hooks {
        let problem = |msg: String, fix: &str| {
            Problem::new(shown_cfg.clone(), Some(h.line), msg)
                .fix(fix.to_string())
                .rule(super::rules::CONFIG_HOOK)
        };
        let (program, runner, file_name) = match &h.program {
            ConfigProgram::Command(c) => (
                HookProgram::Command(c.clone()),
                h.runner.unwrap_or(ctx.runner),
                None,
            ),
            ConfigProgram::Script(p) | ConfigProgram::Wasm(p) => {
                let Some(clean) = inside(p) else {
                    out.errors.push(problem(
                        format!(
                            "`{}` must be a relative path inside the project",
                            p.display()
                        ),
                        "write the path relative to hookbox.toml's folder, without `..`",
                    ));
                    continue;
                };
                let rel = folder.join(clean);
                if !exists_no_follow(&ctx.abs(&rel)) {
                    out.errors.push(problem(
                        format!("hook file `{}` does not exist", p.display()),
                        "create it, or fix the path (relative to hookbox.toml's folder)",
                    ));
                    continue;
                }
                let Some((program, file_runner)) = hook_program(ctx, out, &rel, false) else {
                    continue;
                };
                let runner = match program {
                    HookProgram::Wasm(_) => file_runner,
                    _ => h.runner.unwrap_or(ctx.runner),
                };
                let name = rel.file_name().map(|n| n.to_string_lossy().into_owned());
                (program, runner, name)
            }
        };
        if let Some(existing) = out
            .hooks
            .iter_mut()
            .find(|e| e.convention != Convention::HookboxToml && e.program == program)
        {
            override_hook(existing, h, runner);
            continue;
        }
        if !ctx.allows(Convention::HookboxToml) {
            out.skipped.push(Skipped {
                path: shown_cfg.clone(),
                reason: format!(
                    "[[hook]] at line {} (stage `{}`) not used: the convention is forced",
                    h.line, h.stage
                ),
            });
            continue;
        }
        let (stage_point, stage_failure) =
            stage_defaults(&h.stage).unwrap_or((Point::Task, FailureRule::FailTask));
        let point = h.point.unwrap_or(stage_point);
        let failure = h
            .failure
            .unwrap_or(if h.point.is_some_and(|p| p != stage_point) {
                point_failure(point)
            } else {
                stage_failure
            });
        if matches!(program, HookProgram::Command(_)) {
            out.origins
                .insert(out.hooks.len(), (shown_cfg.clone(), h.line));
        }
        out.hooks.push(Hook {
            name: h
                .name
                .clone()
                .or(file_name)
                .unwrap_or_else(|| h.stage.clone()),
            stage: h.stage.clone(),
            point,
            convention: Convention::HookboxToml,
            program,
            runner,
            timeout: h.timeout,
            failure,
            args: h.args.clone(),
            retry: h
                .retry
                .as_ref()
                .map(|r| r.apply(RetryPolicy::default_for(Convention::HookboxToml, &h.stage))),
        });
    }
}

fn override_hook(hook: &mut Hook, h: &ConfigHook, runner: RunnerKind) {
    if let Some(name) = &h.name {
        hook.name = name.clone();
    }
    hook.stage = h.stage.clone();
    if let Some(point) = h.point {
        hook.point = point;
        hook.failure = point_failure(point);
    }
    if let Some(failure) = h.failure {
        hook.failure = failure;
    }
    if h.timeout.is_some() {
        hook.timeout = h.timeout;
    }
    hook.runner = runner;
    if !h.args.is_empty() {
        hook.args = h.args.clone();
    }
    if let Some(r) = &h.retry {
        hook.retry = Some(r.apply(RetryPolicy::default_for(hook.convention, &hook.stage)));
    }
}

/// `p` without `.` components, when it is relative and has no `..`.
fn inside(p: &Path) -> Option<PathBuf> {
    let mut clean = PathBuf::new();
    for c in p.components() {
        match c {
            Component::Normal(n) => clean.push(n),
            Component::CurDir => {}
            _ => return None,
        }
    }
    (!clean.as_os_str().is_empty()).then_some(clean)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn did_you_mean() {
        assert_eq!(closest("timeout", keys::HOOK), Some("timeout-seconds"));
        assert_eq!(closest("comand", keys::HOOK), Some("command"));
        assert_eq!(closest("health_check", keys::DEPLOY), Some("health-check"));
        assert_eq!(closest("zzzzzz", keys::DEPLOY), None);
    }

    #[test]
    fn hook_line_is_its_first_key() {
        let text = "runner = \"native\"\n\n[[hook]]\nstage = \"pre-deploy\"\ncommand = \"true\"\n\n[[hook]]\nstage = \"post-deploy\"\ncommand = \"true\"\n";
        let (cfg, problems) = parse(text, Path::new("hookbox.toml"));
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(cfg.hooks.iter().map(|h| h.line).collect::<Vec<_>>(), [4, 8]);
    }
}

#[cfg(test)]
mod doc_tests {
    /// docs/hookbox-toml.md is the file's documentation; every key the parser accepts must
    /// have its row there, so the two cannot drift apart.
    #[test]
    fn every_key_is_documented() {
        let doc = include_str!("../../../docs/hookbox-toml.md");
        for keys in [
            super::keys::TOP,
            super::keys::DEPLOY,
            super::keys::POLICY,
            super::keys::LIMITS,
            super::keys::SITE_FACTORY,
            super::keys::HOOK,
        ] {
            for key in keys {
                assert!(
                    doc.contains(&format!("| `{key}` |")),
                    "hookbox.toml key `{key}` has no row in docs/hookbox-toml.md"
                );
            }
        }
    }
}
