//! `hookbox compile HOOK.sh -o HOOK.wasm`: a shell hook as a self-contained WASI module, the
//! bundled shell with the checked script in its `hookbox.script` custom section. A platform
//! can check hooks at push time and only run modules at deploy time.
//!
//! In: the script file. Out: the module file (written whole through a temporary file and a
//! rename, so a reader never sees half of it), or, on a syntax error, the shell's message
//! with file and line on stderr, exit 2 and nothing written.
//!
//! Without `-o` the module goes to `hookbox-out/NAME.wasm` under the current directory, a
//! folder no convention reads: beside the script, `NAME.sh` and `NAME.wasm` would be two hooks
//! of one name, which discovery refuses, so a plain `compile` would break the project.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use anyhow::{Context as _, Result};

use super::guest::{runtime_and_runner, Dirs};
use crate::runner::sandbox::embed_script;
use crate::shell_module::SHELL_WASM;

/// Flags of `hookbox compile`.
#[derive(Debug, clap::Args)]
pub struct CompileArgs {
    /// The shell hook (`.sh`, or a bash/sh shebang).
    pub script: PathBuf,
    /// Where to write the module. Default: `hookbox-out/NAME.wasm` in the current directory,
    /// which discovery never reads (a `NAME.wasm` beside `NAME.sh` would clash with it).
    #[arg(short = 'o', long = "output", value_name = "HOOK.wasm")]
    pub output: Option<PathBuf>,
    /// Print the result as one JSON line: `{"v":1,"event":"compiled","script","output",
    /// "bytes"}`, or `{"v":1,"event":"syntax-error","script","message"}` (exit 2).
    #[arg(long)]
    pub json: bool,
}

/// Runs `hookbox compile`: 0 when the module was written, 2 for a syntax error.
pub fn compile(args: CompileArgs) -> Result<u8> {
    let script = std::fs::canonicalize(&args.script)
        .with_context(|| format!("{}: cannot open the script", args.script.display()))?;
    let meta = std::fs::metadata(&script)
        .with_context(|| format!("{}: cannot open the script", args.script.display()))?;
    if !meta.is_file() {
        anyhow::bail!(
            "{}: not a regular file; give the path of a shell hook (`hookbox compile pre-deploy.sh`)",
            args.script.display()
        );
    }
    let text = std::fs::read(&script)
        .with_context(|| format!("{}: cannot read the script", args.script.display()))?;
    let text = String::from_utf8(text)
        .with_context(|| format!("{}: the script is not UTF-8", args.script.display()))?;
    let output = match &args.output {
        Some(output) => output.clone(),
        None => default_output(&args.script)?,
    };
    if std::fs::canonicalize(&output).is_ok_and(|o| o == script) {
        anyhow::bail!(
            "{}: the output would overwrite the script",
            output.display()
        );
    }

    let dirs = Dirs::new(script.parent().unwrap_or(&script), "hookbox-compile-")?;
    let (runtime, runner) = runtime_and_runner(false)?;
    let refused = runtime.block_on(runner.check_script(&script, &dirs.temp_dir))?;
    if let Some(message) = refused {
        // The guest names the file as it was given to it (its full path); say it as the
        // user wrote it.
        let shown = args.script.to_string_lossy();
        let message = message.replace(&*script.to_string_lossy(), &shown);
        eprintln!("{message}");
        if args.json {
            println!(
                "{}",
                serde_json::json!({
                    "v": crate::events::JSON_VERSION,
                    "event": "syntax-error",
                    "script": shown,
                    "message": message.trim_end(),
                })
            );
        }
        return Ok(2);
    }

    let module = embed_script(SHELL_WASM, &text);
    let folder = output
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    let mut tmp = tempfile::NamedTempFile::new_in(&folder)
        .with_context(|| format!("{}: cannot write here", folder.display()))?;
    tmp.write_all(&module)
        .and_then(|()| tmp.as_file().sync_all())
        .with_context(|| format!("{}: cannot write", output.display()))?;
    // Executable like a hook script, so conventions that require the flag (Site Factory)
    // run it.
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755))
        .with_context(|| format!("{}: cannot set its mode", output.display()))?;
    tmp.persist(&output)
        .map_err(|e| e.error)
        .with_context(|| format!("{}: cannot write", output.display()))?;
    if args.json {
        println!(
            "{}",
            serde_json::json!({
                "v": crate::events::JSON_VERSION,
                "event": "compiled",
                "script": args.script.to_string_lossy(),
                "output": output.to_string_lossy(),
                "bytes": module.len(),
            })
        );
    } else if args.output.is_none() {
        eprintln!(
            "wrote {} (put it where a hook goes with `-o`, e.g. `-o pre-deploy.wasm` after removing the script)",
            output.display()
        );
    }
    Ok(0)
}

/// `hookbox-out/NAME.wasm` in the current directory, the folder made if missing.
fn default_output(script: &std::path::Path) -> Result<PathBuf> {
    let stem = script
        .file_stem()
        .filter(|s| !s.is_empty())
        .with_context(|| format!("{}: the script has no file name", script.display()))?;
    let folder = PathBuf::from("hookbox-out");
    std::fs::create_dir_all(&folder)
        .with_context(|| format!("{}: cannot create the output folder", folder.display()))?;
    Ok(folder.join(stem).with_extension("wasm"))
}
