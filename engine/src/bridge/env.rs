//! Scrubbing of a bridged command's environment: the request's variables, minus those that
//! make an allowed program load or run code the hook chose before it does its own job.
//!
//! Confinement still contains whatever such code does; dropping the variables keeps an
//! allowed program the program the tenant allowed (and keeps `LD_PRELOAD` & co. from being a
//! way around a future policy that restricts what allowed programs may do).

/// Variables dropped from every bridged command's environment. An entry ending in `*` is a
/// prefix. Each line says what the variable would load.
pub const DROPPED_ENV: &[&str] = &[
    // The dynamic loader: LD_PRELOAD, LD_LIBRARY_PATH, LD_AUDIT, LD_DEBUG_OUTPUT, ... load or
    // redirect shared objects into every dynamically linked program.
    "LD_*",
    // glibc: iconv modules loaded from this path; tunables parsed by the loader.
    "GCONV_PATH",
    "GLIBC_TUNABLES",
    // bash: a file sourced by non-interactive shells, exported functions, options.
    "BASH_ENV",
    "ENV",
    "BASH_FUNC_*",
    "SHELLOPTS",
    "BASHOPTS",
    "PS4",
    "PROMPT_COMMAND",
    // node: `--require`/`--import` of any file; REPL module.
    "NODE_OPTIONS",
    "NODE_REPL_EXTERNAL_MODULE",
    // Python: startup file, module search path, interpreter home.
    "PYTHONSTARTUP",
    "PYTHONPATH",
    "PYTHONHOME",
    "PYTHONUSERBASE",
    "PYTHONEXECUTABLE",
    "PYTHONBREAKPOINT",
    // Perl and Ruby: options (`-M`, `-r`) and library paths.
    "PERL5OPT",
    "PERL5LIB",
    "PERLLIB",
    "PERL5DB",
    "RUBYOPT",
    "RUBYLIB",
    // The JVM: agents and options.
    "JAVA_TOOL_OPTIONS",
    "_JAVA_OPTIONS",
    "JDK_JAVA_OPTIONS",
    // git: configuration from the environment (GIT_CONFIG_COUNT/KEY_n/VALUE_n,
    // GIT_CONFIG_PARAMETERS, GIT_CONFIG_GLOBAL/SYSTEM: core.fsmonitor, core.sshCommand, …),
    // the helper-program directory and the commands git runs on its own.
    "GIT_CONFIG*",
    "GIT_EXEC_PATH",
    "GIT_SSH",
    "GIT_SSH_COMMAND",
    "GIT_ASKPASS",
    "GIT_EDITOR",
    "GIT_PAGER",
    "GIT_EXTERNAL_DIFF",
    "GIT_PROXY_COMMAND",
    "GIT_TEMPLATE_DIR",
    // sqlite3: a startup file read by the shell.
    "SQLITE_INIT",
];

/// Whether `key` is dropped by [`DROPPED_ENV`].
pub fn is_dropped(key: &str) -> bool {
    DROPPED_ENV
        .iter()
        .any(|pattern| match pattern.strip_suffix('*') {
            Some(prefix) => key.starts_with(prefix),
            None => key == *pattern,
        })
}

/// The request's environment without the dropped variables (a later duplicate wins).
pub fn scrub(env: &[(String, String)]) -> Vec<(String, String)> {
    let mut kept: Vec<(String, String)> = Vec::with_capacity(env.len());
    for (key, value) in env {
        if is_dropped(key) {
            tracing::debug!(variable = %key, "bridge: dropped a variable that loads code");
            continue;
        }
        kept.retain(|(k, _)| k != key);
        kept.push((key.clone(), value.clone()));
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_loader_and_interpreter_variables() {
        let env: Vec<(String, String)> = [
            ("PATH", "/usr/bin"),
            ("LD_PRELOAD", "/w/x.so"),
            ("LD_LIBRARY_PATH", "/w"),
            ("NODE_OPTIONS", "--require /w/x.js"),
            ("GIT_CONFIG_COUNT", "1"),
            ("GIT_CONFIG_PARAMETERS", "'core.fsmonitor'='x'"),
            ("BASH_FUNC_ls%%", "() { :; }"),
            ("HOME", "/t"),
            ("HOME", "/t2"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let kept = scrub(&env);
        let keys: Vec<&str> = kept.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["PATH", "HOME"]);
        assert_eq!(kept[1].1, "/t2");
    }
}
