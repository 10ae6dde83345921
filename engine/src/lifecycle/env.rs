//! The hook environment, computed once per run and the same for both runners.
//!
//! Inputs: the application variables (hookbox.toml `[env]` < `--env-file` < `--env`, layered
//! by [`layer_app_env`]), and the platform values of the run ([`Platform`]). Output: the
//! complete environment of one hook ([`hook_env`]); nothing of the host's environment enters.
//! Platform variables win over application variables of the same name, and `PATH` always comes
//! from the policy, so an application value cannot redirect which programs a hook starts.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Default `FLUX_PEER_INDEX`: a single instance is instance 0.
pub const DEFAULT_FLUX_PEER_INDEX: u32 = 0;

/// A problem in `--env-file` or `--env`.
#[derive(Debug, thiserror::Error)]
pub enum EnvError {
    #[error("{path}: cannot read the env file: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {message}")]
    Syntax {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("--env {arg:?}: expected KEY=VALUE with KEY made of letters, digits and _ (e.g. --env NODE_ENV=production)")]
    Arg { arg: String },
}

/// Platform values of one run, the same for every hook of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Platform {
    /// `WORK_DIR`: the project directory (`run`) or the release directory (`deploy`).
    pub work_dir: PathBuf,
    /// `PROJECT_PATH`, when the project is a monorepo subfolder.
    pub project_path: Option<String>,
    /// `CONTAINER_VERSION`: the release id (`deploy`); absent for `run` unless given.
    pub container_version: Option<String>,
    /// `FLUX_PEER_INDEX`. Default [`DEFAULT_FLUX_PEER_INDEX`].
    pub flux_peer_index: u32,
    /// `HOOKBOX_SHARED_DIR`: the persistent folder of a deployment (`DIR/.hookbox/shared`).
    pub shared_dir: Option<PathBuf>,
    /// `PATH`, from the policy.
    pub path: String,
    /// More platform variables from the caller (a library user's own), below the ones above.
    pub extra: BTreeMap<String, String>,
}

impl Platform {
    /// Platform values for `work_dir` with the defaults and the given policy PATH.
    pub fn new(work_dir: &Path, policy_path: &str) -> Self {
        Platform {
            work_dir: work_dir.to_path_buf(),
            project_path: None,
            container_version: None,
            flux_peer_index: DEFAULT_FLUX_PEER_INDEX,
            shared_dir: None,
            path: policy_path.to_string(),
            extra: BTreeMap::new(),
        }
    }
}

impl Platform {
    /// Whether the hooks run for a deployment (`deploy`, the fleet), which has a persistent
    /// shared folder; `run` in place has none, and no deployment to speak of.
    pub fn is_deployment(&self) -> bool {
        self.shared_dir.is_some()
    }
}

/// The environment of one hook: application variables, then platform variables over them,
/// `HOOK_NAME`/`HOOK_STAGE`, `PATH` from the policy, `HOME` = the run's private temp dir.
pub fn hook_env(
    app: &BTreeMap<String, String>,
    platform: &Platform,
    hook_name: &str,
    stage: &str,
    home: &Path,
) -> BTreeMap<String, String> {
    let mut env = app.clone();
    for (k, v) in &platform.extra {
        env.insert(k.clone(), v.clone());
    }
    let s = |p: &Path| p.to_string_lossy().into_owned();
    env.insert("WORK_DIR".into(), s(&platform.work_dir));
    if let Some(pp) = &platform.project_path {
        env.insert("PROJECT_PATH".into(), pp.clone());
    }
    if let Some(cv) = &platform.container_version {
        env.insert("CONTAINER_VERSION".into(), cv.clone());
    }
    env.insert(
        "FLUX_PEER_INDEX".into(),
        platform.flux_peer_index.to_string(),
    );
    if let Some(shared) = &platform.shared_dir {
        env.insert("HOOKBOX_SHARED_DIR".into(), s(shared));
    }
    env.insert("HOOK_NAME".into(), hook_name.to_string());
    env.insert("HOOK_STAGE".into(), stage.to_string());
    env.insert("PATH".into(), platform.path.clone());
    env.insert("HOME".into(), s(home));
    env.insert("TMPDIR".into(), s(home));
    env
}

/// Application variables in the Contracts' order: `[env]` < `--env-file` < `--env`.
pub fn layer_app_env(
    toml_env: &BTreeMap<String, String>,
    env_file: &BTreeMap<String, String>,
    cli: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut env = toml_env.clone();
    env.extend(env_file.iter().map(|(k, v)| (k.clone(), v.clone())));
    env.extend(cli.iter().map(|(k, v)| (k.clone(), v.clone())));
    env
}

fn valid_name(k: &str) -> bool {
    let mut chars = k.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Parses one `--env KEY=VALUE`.
pub fn parse_env_arg(arg: &str) -> Result<(String, String), EnvError> {
    match arg.split_once('=') {
        Some((k, v)) if valid_name(k) => Ok((k.to_string(), v.to_string())),
        // The value is left out of the message: it may be a secret.
        Some((k, _)) => Err(EnvError::Arg {
            arg: format!("{k}=…"),
        }),
        None => Err(EnvError::Arg {
            arg: arg.to_string(),
        }),
    }
}

/// Largest `--env-file` read: 1 MiB. Every variable goes into each hook's environment, and
/// Linux refuses to start a process whose arguments and environment pass 2 MiB (`E2BIG`), so
/// a larger file would fail every hook; it is refused up front, naming the file.
pub const MAX_ENV_FILE_BYTES: u64 = 1024 * 1024;

/// Longest single value: 128 KiB less one, Linux's `MAX_ARG_STRLEN` for one `KEY=VALUE`
/// string of a process's environment.
pub const MAX_ENV_VALUE_BYTES: usize = 128 * 1024 - 1;

/// Reads a dotenv file (see [`parse_dotenv`]), at most [`MAX_ENV_FILE_BYTES`].
pub fn read_env_file(path: &Path) -> Result<BTreeMap<String, String>, EnvError> {
    use std::io::Read;
    let read_err = |source| EnvError::Read {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(read_err)?;
    let mut bytes = Vec::new();
    file.take(MAX_ENV_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(read_err)?;
    if bytes.len() as u64 > MAX_ENV_FILE_BYTES {
        return Err(EnvError::Syntax {
            path: path.to_path_buf(),
            line: 1,
            message: format!(
                "the env file is larger than {} KiB; a hook's whole environment must stay under \
                 Linux's 2 MiB for its process to start (pass large data as a file instead)",
                MAX_ENV_FILE_BYTES / 1024
            ),
        });
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        read_err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("not UTF-8 (byte {})", e.utf8_error().valid_up_to()),
        ))
    })?;
    parse_dotenv(&text).map_err(|(line, message)| EnvError::Syntax {
        path: path.to_path_buf(),
        line,
        message,
    })
}

/// Parses dotenv text, the form docker compose and the dotenv libraries read; errors carry the
/// 1-based line number.
///
/// `KEY=VALUE` lines, `export KEY=VALUE`, `#` comments, blank lines. A value is unquoted (up
/// to a ` #` comment, trimmed), in single quotes (literal), or in double quotes (`\n`, `\t`,
/// `\"`, `\\`, `\$` escapes); quoted values may span lines. Unquoted and double-quoted
/// values expand `$NAME` and `${NAME}` from an earlier line of the same file only: hookbox's
/// own environment never enters a hook (the module doc), so a name the file has not defined
/// is an error, not an empty string. `$` before anything but a name is itself.
///
/// The dotenvy crate reads the same form, but expands names from the process environment
/// first, so `${AWS_SECRET_ACCESS_KEY}` in a project's env file would copy the operator's
/// secret into every hook, and its errors carry no line number.
pub fn parse_dotenv(text: &str) -> Result<BTreeMap<String, String>, (usize, String)> {
    let mut out = BTreeMap::new();
    let mut lines = text.split('\n').enumerate();
    while let Some((i, raw)) = lines.next() {
        let n = i + 1;
        let line = raw.trim_end_matches('\r').trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line).trim_start();
        let Some((k, v)) = line.split_once('=') else {
            return Err((n, format!("expected KEY=VALUE, found {line:?}")));
        };
        let k = k.trim();
        if !valid_name(k) {
            return Err((
                n,
                format!("{k:?} is not a variable name (letters, digits and _, not starting with a digit)"),
            ));
        }
        let v = v.trim_start();
        let value = match v.chars().next() {
            Some(quote @ ('\'' | '"')) => {
                // The quoted value runs to its closing quote, on this line or a later one.
                let mut body = v[1..].to_string();
                let close = loop {
                    if let Some(at) = closing_quote(&body, quote) {
                        break at;
                    }
                    match lines.next() {
                        Some((_, more)) => {
                            body.push('\n');
                            body.push_str(more.trim_end_matches('\r'));
                        }
                        None => {
                            let what = if quote == '"' { "double" } else { "single" };
                            return Err((n, format!("unterminated {what} quote")));
                        }
                    }
                };
                let rest = body[close + 1..].trim();
                if !(rest.is_empty() || rest.starts_with('#')) {
                    return Err((
                        n,
                        format!("{rest:?} after the closing quote of {k} (quote the whole value)"),
                    ));
                }
                let body = &body[..close];
                if quote == '\'' {
                    body.to_string()
                } else {
                    expand(&unescape(body), &out).map_err(|m| (n, m))?
                }
            }
            _ => {
                // An unquoted value ends at ` #` (a trailing comment).
                let v = match v.find(" #") {
                    Some(idx) => &v[..idx],
                    None => v,
                };
                expand(v.trim_end(), &out).map_err(|m| (n, m))?
            }
        };
        if value.len() > MAX_ENV_VALUE_BYTES {
            return Err((
                n,
                format!(
                    "the value of {k} is {} bytes; Linux starts no process with an environment \
                     string over {} (pass large data as a file instead)",
                    value.len(),
                    MAX_ENV_VALUE_BYTES
                ),
            ));
        }
        out.insert(k.to_string(), value);
    }
    Ok(out)
}

/// Byte offset of the quote that closes `body` (a backslash escapes one in double quotes).
fn closing_quote(body: &str, quote: char) -> Option<usize> {
    let mut escaped = false;
    for (at, c) in body.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quote == '"' => escaped = true,
            c if c == quote => return Some(at),
            _ => {}
        }
    }
    None
}

/// A double-quoted body with its escapes resolved; `\$` becomes a marker [`expand`] leaves
/// as a literal `$`.
fn unescape(body: &str) -> String {
    let mut val = String::with_capacity(body.len());
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('n') => val.push('\n'),
                Some('t') => val.push('\t'),
                Some('$') => val.push(LITERAL_DOLLAR),
                Some(other) => val.push(other),
                None => {}
            },
            c => val.push(c),
        }
    }
    val
}

/// Stands for an escaped `$` between [`unescape`] and [`expand`]: a noncharacter, which no
/// text a person writes contains.
const LITERAL_DOLLAR: char = '\u{FDD0}';

/// `value` with `$NAME` and `${NAME}` replaced by earlier definitions.
fn expand(value: &str, defined: &BTreeMap<String, String>) -> Result<String, String> {
    let name_char = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let (name, len) = if let Some(inner) = after.strip_prefix('{') {
            match inner.find('}') {
                Some(end) if valid_name(&inner[..end]) => (&inner[..end], end + 2),
                _ => {
                    return Err(format!(
                        "`${{` without a variable name and `}}` in {value:?} (write `${{NAME}}`, or \\$ in double quotes for a literal $)"
                    ))
                }
            }
        } else {
            let end = after.find(|c| !name_char(c)).unwrap_or(after.len());
            (&after[..end], end)
        };
        if name.is_empty() || !valid_name(name) {
            out.push('$');
            rest = after;
            continue;
        }
        match defined.get(name) {
            Some(v) => out.push_str(v),
            None => {
                return Err(format!(
                    "${name} is not defined on an earlier line; an env file expands only its own \
                     variables, never hookbox's environment (define it above, or write the value \
                     in single quotes to keep the $)"
                ))
            }
        }
        rest = &after[len..];
    }
    out.push_str(rest);
    Ok(out.replace(LITERAL_DOLLAR, "$"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotenv_forms() {
        let env = parse_dotenv(
            "# c\n\nA=1\nexport B = two words # note\nC='lit $X \\n'\nD=\"q \\\"x\\\"\\n\"\r\nE=\n",
        )
        .unwrap();
        assert_eq!(env["A"], "1");
        assert_eq!(env["B"], "two words");
        assert_eq!(env["C"], "lit $X \\n");
        assert_eq!(env["D"], "q \"x\"\n");
        assert_eq!(env["E"], "");
        assert_eq!(parse_dotenv("A=1\nnot a pair\n").unwrap_err().0, 2);
        assert_eq!(parse_dotenv("1A=x").unwrap_err().0, 1);
    }

    #[test]
    fn dotenv_multi_line_values_and_expansion() {
        let env = parse_dotenv(concat!(
            "HOST=db.internal\n",
            "URL=postgres://${HOST}:5432/$DB_NAME_NOT_A_NAME\n",
        ))
        .unwrap_err();
        assert_eq!(env.0, 2, "{}", env.1);
        assert!(env.1.contains("DB_NAME_NOT_A_NAME"), "{}", env.1);
        let env = parse_dotenv(concat!(
            "HOST=db.internal\n",
            "URL=postgres://${HOST}:5432/app # note\n",
            "KEY=\"-----BEGIN KEY-----\nabc\n-----END KEY-----\"\n",
            "LIT='a $HOST\nb'\n",
            "DQ=\"$HOST \\$HOST \\\"x\\\"\" # after\n",
            "PRICE=5$ and $1\n",
            "AFTER=1\n",
        ))
        .unwrap();
        assert_eq!(env["URL"], "postgres://db.internal:5432/app");
        assert_eq!(env["KEY"], "-----BEGIN KEY-----\nabc\n-----END KEY-----");
        assert_eq!(env["LIT"], "a $HOST\nb");
        assert_eq!(env["DQ"], "db.internal $HOST \"x\"");
        assert_eq!(env["PRICE"], "5$ and $1");
        assert_eq!(env["AFTER"], "1");
        // hookbox's own environment never enters: HOME is set in every test process.
        let err = parse_dotenv("X=${HOME}\n").unwrap_err();
        assert_eq!(err.0, 1);
        assert!(err.1.contains("never hookbox's environment"), "{}", err.1);
        // An unterminated quote names the line it opened on.
        assert_eq!(parse_dotenv("A=1\nB=\"open\nC=2\n").unwrap_err().0, 2);
        assert_eq!(parse_dotenv("A='x' y\n").unwrap_err().0, 1);
        assert_eq!(parse_dotenv("A=${\n").unwrap_err().0, 1);
        let big = format!("A={}\n", "x".repeat(MAX_ENV_VALUE_BYTES + 1));
        assert!(parse_dotenv(&big).unwrap_err().1.contains("bytes"));
    }

    #[test]
    fn an_env_file_past_the_cap_is_refused_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.env");
        let line = format!("A={}\n", "x".repeat(1000));
        std::fs::write(&path, line.repeat(1100)).unwrap();
        let err = read_env_file(&path).unwrap_err().to_string();
        assert!(err.contains("big.env") && err.contains("1024 KiB"), "{err}");
    }

    #[test]
    fn platform_wins_and_path_comes_from_policy() {
        let app: BTreeMap<_, _> = [("PATH", "/evil"), ("HOME", "/root"), ("X", "1")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let p = Platform::new(Path::new("/w"), "/usr/bin:/bin");
        let env = hook_env(&app, &p, "pre-deploy.sh", "pre-deploy", Path::new("/tmp/h"));
        assert_eq!(env["PATH"], "/usr/bin:/bin");
        assert_eq!(env["HOME"], "/tmp/h");
        assert_eq!(env["X"], "1");
        assert_eq!(env["WORK_DIR"], "/w");
        assert_eq!(env["FLUX_PEER_INDEX"], "0");
        assert_eq!(env["HOOK_NAME"], "pre-deploy.sh");
        assert_eq!(env["HOOK_STAGE"], "pre-deploy");
    }

    #[test]
    fn later_layers_win() {
        let m = |k: &str, v: &str| BTreeMap::from([(k.to_string(), v.to_string())]);
        let env = layer_app_env(&m("A", "toml"), &m("A", "file"), &m("A", "cli"));
        assert_eq!(env["A"], "cli");
        assert_eq!(
            layer_app_env(&m("A", "toml"), &m("A", "file"), &BTreeMap::new())["A"],
            "file"
        );
    }
}
