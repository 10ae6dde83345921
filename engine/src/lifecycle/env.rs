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

/// Reads a dotenv file: `KEY=VALUE` lines, `export KEY=VALUE`, `#` comments, blank lines,
/// values in single quotes (literal) or double quotes (`\n`, `\"`, `\\` escapes). No
/// interpolation: a value is what the file says.
pub fn read_env_file(path: &Path) -> Result<BTreeMap<String, String>, EnvError> {
    let text = std::fs::read_to_string(path).map_err(|source| EnvError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse_dotenv(&text).map_err(|(line, message)| EnvError::Syntax {
        path: path.to_path_buf(),
        line,
        message,
    })
}

/// Parses dotenv text; errors carry the 1-based line number.
pub fn parse_dotenv(text: &str) -> Result<BTreeMap<String, String>, (usize, String)> {
    let mut out = BTreeMap::new();
    for (i, raw) in text.lines().enumerate() {
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
        let v = v.trim();
        let value = if let Some(rest) = v.strip_prefix('\'') {
            match rest.find('\'') {
                Some(end) => rest[..end].to_string(),
                None => return Err((n, "unterminated single quote".into())),
            }
        } else if let Some(rest) = v.strip_prefix('"') {
            let mut val = String::new();
            let mut chars = rest.chars();
            let mut closed = false;
            while let Some(c) = chars.next() {
                match c {
                    '"' => {
                        closed = true;
                        break;
                    }
                    '\\' => match chars.next() {
                        Some('n') => val.push('\n'),
                        Some('t') => val.push('\t'),
                        Some(other) => val.push(other),
                        None => {}
                    },
                    c => val.push(c),
                }
            }
            if !closed {
                return Err((n, "unterminated double quote".into()));
            }
            val
        } else {
            // An unquoted value ends at ` #` (a trailing comment).
            match v.find(" #") {
                Some(idx) => v[..idx].trim_end().to_string(),
                None => v.to_string(),
            }
        };
        out.insert(k.to_string(), value);
    }
    Ok(out)
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
