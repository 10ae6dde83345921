//! The platform file (`/etc/hookbox/platform.toml`): text in, a [`PlatformPolicy`] and every
//! problem (unknown key with "did you mean", wrong type, inconsistent value) out, each with
//! its line. Keys are kebab-case; absent keys keep [`PlatformPolicy::platform_defaults`].
//! `docs/platform.md` is the reference of every key.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use super::{
    CommandGrant, HookUids, PlatformError, PlatformPolicy, UidPer, DEFAULT_PLATFORM_FILE_BYTES,
    DEFAULT_UID_REGISTRY,
};
use crate::bridge::policy::{DirAccess, Network};
use crate::discover::config::closest;
use crate::discover::Problem;
use crate::plan::RunnerKind;
use crate::runner::user::MIN_TENANT_UID;

const TOP_KEYS: &[&str] = &[
    "runners",
    "runner",
    "hook-uids",
    "policy",
    "limits",
    "sandbox",
    "retry",
];
const HOOK_UIDS_KEYS: &[&str] = &["first", "count", "gid", "per", "registry"];
const POLICY_KEYS: &[&str] = &[
    "allow",
    "path",
    "network",
    "work-dir",
    "accept-weak-confinement",
    "extra-dirs",
    "env-passthrough",
];
const LIMITS_KEYS: &[&str] = &[
    "timeout-seconds",
    "memory-bytes",
    "output-cap-bytes",
    "fuel",
];
const SANDBOX_KEYS: &[&str] = &["meter-fuel"];
const RETRY_KEYS: &[&str] = &["retries", "retry-delay-seconds", "retry-delay-max-seconds"];

/// Reads the file: a regular file (symlinks are followed: the path is the operator's), at
/// most [`DEFAULT_PLATFORM_FILE_BYTES`], UTF-8.
pub(super) fn read(path: &Path) -> Result<String, PlatformError> {
    let fail = |message: String| PlatformError::Read {
        path: path.to_path_buf(),
        message,
    };
    let meta = std::fs::metadata(path).map_err(|e| fail(e.to_string()))?;
    if !meta.is_file() {
        return Err(fail("not a regular file".into()));
    }
    if meta.len() > DEFAULT_PLATFORM_FILE_BYTES {
        return Err(fail(format!(
            "larger than {DEFAULT_PLATFORM_FILE_BYTES} bytes"
        )));
    }
    let bytes = std::fs::read(path).map_err(|e| fail(e.to_string()))?;
    String::from_utf8(bytes).map_err(|e| {
        fail(format!(
            "not valid UTF-8 (at byte {})",
            e.utf8_error().valid_up_to()
        ))
    })
}

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
        self.problems
            .push(Problem::new(self.file.clone(), Some(line), message).fix(fix));
    }

    fn unknown(&mut self, key: &str, section: &str, line: usize, known: &[&str]) {
        let fix = match closest(key, known) {
            Some(k) => format!("did you mean `{k}`?"),
            None => "remove it".to_string(),
        };
        self.push(
            line,
            format!(
                "unknown key `{key}` in {section} of the platform policy; known keys: {}",
                known.join(", ")
            ),
            fix,
        );
    }

    /// The table's entries with known keys; unknown ones are reported.
    fn entries<'a, 'i>(
        &mut self,
        t: &'a DeTable<'i>,
        section: &str,
        known: &[&str],
    ) -> Vec<(String, usize, &'a Value<'i>)> {
        let mut out = Vec::new();
        for (k, v) in t.iter() {
            let key = k.get_ref().to_string();
            let line = self.line(&k.span());
            if known.contains(&key.as_str()) {
                out.push((key, line, v));
            } else {
                self.unknown(&key, section, line, known);
            }
        }
        out
    }

    fn table<'a, 'i>(&mut self, v: &'a Value<'i>, key: &str) -> Option<&'a DeTable<'i>> {
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

    fn string(&mut self, v: &Value<'_>, key: &str) -> Option<String> {
        match v.get_ref() {
            DeValue::String(s) => Some(s.to_string()),
            other => {
                let line = self.line(&v.span());
                self.push(
                    line,
                    format!("`{key}` must be a string, not a {}", other.type_str()),
                    format!("quote it: {key} = \"…\""),
                );
                None
            }
        }
    }

    fn strings(&mut self, v: &Value<'_>, key: &str) -> Option<Vec<String>> {
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
        if items.is_none() {
            let line = self.line(&v.span());
            self.push(
                line,
                format!("`{key}` must be an array of strings"),
                format!("write {key} = [\"a\", \"b\"]"),
            );
        }
        items
    }

    fn boolean(&mut self, v: &Value<'_>, key: &str) -> Option<bool> {
        match v.get_ref() {
            DeValue::Boolean(b) => Some(*b),
            _ => {
                let line = self.line(&v.span());
                self.push(
                    line,
                    format!("`{key}` must be true or false"),
                    format!("write {key} = false"),
                );
                None
            }
        }
    }

    fn positive(&mut self, v: &Value<'_>, key: &str) -> Option<u64> {
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
                    format!("`{key}` must be a positive integer"),
                    format!("write e.g. `{key} = 600`"),
                );
                None
            }
        }
    }

    fn uid(&mut self, v: &Value<'_>, key: &str) -> Option<u32> {
        let n = self.positive(v, key)?;
        match u32::try_from(n) {
            Ok(n) if n < u32::MAX => Some(n),
            _ => {
                let line = self.line(&v.span());
                self.push(
                    line,
                    format!("`{key}` = {n} is not a uid"),
                    "use a number below 4294967295",
                );
                None
            }
        }
    }

    fn runner(&mut self, v: &Value<'_>, key: &str) -> Option<RunnerKind> {
        let s = self.string(v, key)?;
        match s.as_str() {
            "native" => Some(RunnerKind::Native),
            "sandbox" => Some(RunnerKind::Sandbox),
            _ => {
                let line = self.line(&v.span());
                self.push(
                    line,
                    format!("unknown runner `{s}` in `{key}`"),
                    "write `native` or `sandbox`",
                );
                None
            }
        }
    }

    fn network(&mut self, v: &Value<'_>) -> Option<Network> {
        let s = self.string(v, "network")?;
        match s.as_str() {
            "none" => Some(Network::None),
            "loopback" => Some(Network::Loopback),
            "host" => Some(Network::Host),
            _ => {
                let line = self.line(&v.span());
                self.push(
                    line,
                    format!("unknown network level `{s}`"),
                    "write none, loopback or host",
                );
                None
            }
        }
    }

    fn work_dir(&mut self, v: &Value<'_>) -> Option<DirAccess> {
        let s = self.string(v, "work-dir")?;
        match s.as_str() {
            "read-write" => Some(DirAccess::ReadWrite),
            "read-only" => Some(DirAccess::ReadOnly),
            _ => {
                let line = self.line(&v.span());
                self.push(
                    line,
                    format!("unknown work-dir access `{s}`"),
                    "write read-write or read-only",
                );
                None
            }
        }
    }
}

/// Parses platform file text; `file` names it in problems.
pub(super) fn parse(text: &str, file: &Path) -> (PlatformPolicy, Vec<Problem>) {
    let mut p = Parser {
        text,
        file: file.to_path_buf(),
        problems: Vec::new(),
    };
    let mut policy = PlatformPolicy::platform_defaults();
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
                .fix("fix the TOML syntax (https://toml.io)"),
            );
            return (policy, p.problems);
        }
    };
    let mut runner_line = None;
    let top = p.entries(doc.get_ref(), "the top level", TOP_KEYS);
    for (key, line, value) in top {
        policy.lines.insert(key.clone(), line);
        match key.as_str() {
            "runners" => {
                if let Some(names) = p.strings(value, "runners") {
                    let mut runners = Vec::new();
                    for name in names {
                        match name.as_str() {
                            "native" => runners.push(RunnerKind::Native),
                            "sandbox" => runners.push(RunnerKind::Sandbox),
                            _ => p.push(
                                line,
                                format!("unknown runner `{name}` in `runners`"),
                                "list `sandbox` and/or `native`",
                            ),
                        }
                    }
                    if runners.is_empty() {
                        p.push(
                            line,
                            "`runners` is empty: no hook could run",
                            "write runners = [\"sandbox\"]",
                        );
                    } else {
                        runners.dedup();
                        policy.runners = runners;
                    }
                }
            }
            "runner" => {
                runner_line = Some(line);
                if let Some(r) = p.runner(value, "runner") {
                    policy.default_runner = r;
                }
            }
            "hook-uids" => {
                if let Some(t) = p.table(value, "hook-uids") {
                    policy.hook_uids = hook_uids(&mut p, t, line);
                }
            }
            "policy" => {
                if let Some(t) = p.table(value, "policy") {
                    for (k, l, v) in p.entries(t, "[policy]", POLICY_KEYS) {
                        policy.lines.insert(format!("policy.{k}"), l);
                        match k.as_str() {
                            "allow" => {
                                let any = matches!(v.get_ref(), DeValue::String(s) if s.as_ref() == "any");
                                if any {
                                    policy.allow = CommandGrant::Any;
                                } else if let Some(list) = p.strings(v, "allow") {
                                    policy.allow = CommandGrant::Only(list);
                                }
                            }
                            "path" => {
                                if let Some(s) = p.string(v, "path") {
                                    // Relative entries are inside the work directory (as
                                    // in hookbox.toml); `..` would leave it.
                                    if s.split(':')
                                        .any(|e| e.is_empty() || e.split('/').any(|c| c == ".."))
                                    {
                                        p.push(
                                            l,
                                            format!("`path` = {s:?} has an empty entry or one with `..`"),
                                            "list directories separated by `:` (relative ones are inside the work directory)",
                                        );
                                    } else {
                                        policy.path = s;
                                    }
                                }
                            }
                            "network" => {
                                if let Some(n) = p.network(v) {
                                    policy.network = n;
                                }
                            }
                            "work-dir" => {
                                if let Some(w) = p.work_dir(v) {
                                    policy.work_dir = w;
                                }
                            }
                            "accept-weak-confinement" => {
                                if let Some(b) = p.boolean(v, &k) {
                                    policy.accept_weak_confinement = b;
                                }
                            }
                            "extra-dirs" => {
                                if let Some(dirs) = p.strings(v, "extra-dirs") {
                                    for d in &dirs {
                                        if !d.starts_with('/') {
                                            p.push(
                                                l,
                                                format!(
                                                    "extra directory `{d}` is not an absolute path"
                                                ),
                                                "write absolute paths",
                                            );
                                        }
                                    }
                                    policy.extra_dirs =
                                        dirs.into_iter().map(PathBuf::from).collect();
                                }
                            }
                            "env-passthrough" => {
                                if let Some(names) = p.strings(v, "env-passthrough") {
                                    for n in &names {
                                        let valid = n
                                            .bytes()
                                            .next()
                                            .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
                                            && n.bytes()
                                                .all(|b| b.is_ascii_alphanumeric() || b == b'_');
                                        if !valid {
                                            p.push(
                                                l,
                                                format!("`{n}` in env-passthrough is not a variable name"),
                                                "use letters, digits and `_`",
                                            );
                                        }
                                    }
                                    policy.env_passthrough = names;
                                }
                            }
                            _ => {}
                        }
                    }
                }
            }
            "limits" => {
                if let Some(t) = p.table(value, "limits") {
                    for (k, l, v) in p.entries(t, "[limits]", LIMITS_KEYS) {
                        policy.lines.insert(format!("limits.{k}"), l);
                        let Some(n) = p.positive(v, &k) else { continue };
                        match k.as_str() {
                            "timeout-seconds" => policy.max_timeout = Duration::from_secs(n),
                            "memory-bytes" => policy.max_memory_bytes = n,
                            "output-cap-bytes" => policy.max_output_cap_bytes = n,
                            "fuel" => policy.max_fuel = Some(n),
                            _ => {}
                        }
                    }
                }
            }
            "sandbox" => {
                if let Some(t) = p.table(value, "sandbox") {
                    for (k, l, v) in p.entries(t, "[sandbox]", SANDBOX_KEYS) {
                        policy.lines.insert(format!("sandbox.{k}"), l);
                        if let Some(b) = p.boolean(v, &k) {
                            policy.meter_fuel = b;
                        }
                    }
                }
            }
            "retry" => {
                if let Some(t) = p.table(value, "retry") {
                    for (k, l, v) in p.entries(t, "[retry]", RETRY_KEYS) {
                        policy.lines.insert(format!("retry.{k}"), l);
                        let r = &mut policy.retry_defaults;
                        if k == "retries" {
                            match p.positive(v, &k) {
                                Some(n) if n <= u64::from(crate::retry::MAX_RETRIES) => {
                                    r.retries = Some(n as u32)
                                }
                                Some(_) => p.push(
                                    l,
                                    format!(
                                        "`retries` in [retry] is more than {}",
                                        crate::retry::MAX_RETRIES
                                    ),
                                    "write a smaller number of retries",
                                ),
                                None => {}
                            }
                        } else if let Some(n) = p.positive(v, &k) {
                            let d = Some(Duration::from_secs(n));
                            if k == "retry-delay-seconds" {
                                r.delay = d;
                            } else {
                                r.delay_cap = d;
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
    if !policy.runners.contains(&policy.default_runner) {
        let line = runner_line
            .or(policy.lines.get("runners").copied())
            .unwrap_or(1);
        let default = if policy.default_runner == RunnerKind::Native {
            "native"
        } else {
            "sandbox"
        };
        p.push(
            line,
            format!("the default runner `{default}` is not in `runners`"),
            "add it to `runners`, or set `runner` to one of them",
        );
    }
    p.problems.sort_by_key(|p| p.line);
    (policy, p.problems)
}

fn hook_uids(p: &mut Parser<'_>, t: &DeTable<'_>, line: usize) -> Option<HookUids> {
    let mut first = None;
    let mut count = None;
    let mut range = HookUids {
        first: 0,
        count: 0,
        gid: None,
        per: UidPer::Tenant,
        registry: PathBuf::from(DEFAULT_UID_REGISTRY),
    };
    let mut ok = true;
    for (k, l, v) in p.entries(t, "hook-uids", HOOK_UIDS_KEYS) {
        match k.as_str() {
            "first" => first = p.uid(v, "first"),
            "count" => count = p.uid(v, "count"),
            "gid" => match p.uid(v, "gid") {
                Some(g) => range.gid = Some(g),
                None => ok = false,
            },
            "per" => match p.string(v, "per").as_deref() {
                Some("tenant") => range.per = UidPer::Tenant,
                Some("run") => range.per = UidPer::Run,
                Some(other) => {
                    p.push(
                        l,
                        format!("unknown `per` = `{other}` in hook-uids"),
                        "write per = \"tenant\" or per = \"run\"",
                    );
                    ok = false;
                }
                None => ok = false,
            },
            "registry" => match p.string(v, "registry") {
                Some(r) if r.starts_with('/') => range.registry = PathBuf::from(r),
                Some(r) => {
                    p.push(
                        l,
                        format!("registry `{r}` is not an absolute path"),
                        "write an absolute directory, e.g. /var/lib/hookbox/hook-uids",
                    );
                    ok = false;
                }
                None => ok = false,
            },
            _ => {}
        }
    }
    let (Some(first), Some(count)) = (first, count) else {
        p.push(
            line,
            "hook-uids needs `first` and `count`",
            "write hook-uids = { first = 200000, count = 10000 }",
        );
        return None;
    };
    if first < MIN_TENANT_UID {
        p.push(
            line,
            format!(
                "hook-uids starts at {first}, among the system accounts (below {MIN_TENANT_UID})"
            ),
            "start the range at an unused uid above the host's accounts, e.g. 200000",
        );
        return None;
    }
    if u64::from(first) + u64::from(count) > u64::from(u32::MAX) {
        p.push(
            line,
            "hook-uids runs past the largest uid",
            "lower `first` or `count`",
        );
        return None;
    }
    range.first = first;
    range.count = count;
    ok.then_some(range)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(text: &str) -> PlatformPolicy {
        let (p, problems) = parse(text, Path::new("platform.toml"));
        assert!(problems.is_empty(), "{problems:?}");
        p
    }

    #[test]
    fn an_empty_file_is_the_platform_defaults() {
        assert_eq!(parse_ok(""), PlatformPolicy::platform_defaults());
    }

    #[test]
    fn unknown_keys_name_their_line_and_a_suggestion() {
        let (_, problems) = parse(
            "runner = \"sandbox\"\n[policy]\nnetwrk = \"host\"\n[limit]\n",
            Path::new("p.toml"),
        );
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert_eq!(problems[0].line, Some(3));
        assert!(problems[0].fix.as_deref().unwrap().contains("`network`"));
        assert_eq!(problems[1].line, Some(4));
        assert!(problems[1].fix.as_deref().unwrap().contains("`limits`"));
    }

    #[test]
    fn values_and_consistency() {
        let p = parse_ok(
            "runners = [\"sandbox\", \"native\"]\nrunner = \"native\"\nhook-uids = { first = 200000, count = 10, gid = 300000 }\n[policy]\nallow = \"any\"\nnetwork = \"loopback\"\n[limits]\nfuel = 5\n[sandbox]\nmeter-fuel = true\n",
        );
        assert_eq!(p.default_runner, RunnerKind::Native);
        assert_eq!(p.allow, CommandGrant::Any);
        assert_eq!(p.network, Network::Loopback);
        assert_eq!(p.max_fuel, Some(5));
        assert!(p.meter_fuel);
        let uids = p.hook_uids.unwrap();
        assert_eq!(
            (uids.first, uids.count, uids.gid),
            (200000, 10, Some(300000))
        );
        assert_eq!(p.lines.get("policy.network"), Some(&6));
        let (_, problems) = parse("runner = \"native\"\n", Path::new("p.toml"));
        assert!(
            problems[0].message.contains("not in `runners`"),
            "{problems:?}"
        );
        let (_, problems) = parse("hook-uids = { first = 10, count = 5 }\n", Path::new("p"));
        assert!(
            problems[0].message.contains("system accounts"),
            "{problems:?}"
        );
    }
}
