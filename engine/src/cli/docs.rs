//! `hookbox completions SHELL` and `hookbox man`: generated from the one clap definition, so
//! they never disagree with `--help`. `hookbox schema`: hookbox.toml's JSON Schema.

use std::io::Write;

use anyhow::{Context as _, Result};
use clap::CommandFactory;

use super::args::Cli;

/// Flags of `hookbox completions`.
#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Writes the completion script to stdout.
pub fn completions(args: CompletionsArgs) -> Result<u8> {
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "hookbox", &mut out);
    std::io::stdout()
        .write_all(&out)
        .context("cannot write the completion script")?;
    Ok(0)
}

/// Writes the man page (roff) to stdout: the top-level page, then one section per command.
pub fn man() -> Result<u8> {
    let cmd = Cli::command();
    let mut out = Vec::new();
    clap_mangen::Man::new(cmd.clone())
        .render(&mut out)
        .context("cannot render the man page")?;
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = format!("hookbox-{}", sub.get_name());
        let sub = sub.clone().name(name.clone()).bin_name(name);
        clap_mangen::Man::new(sub)
            .render(&mut out)
            .context("cannot render the man page")?;
    }
    std::io::stdout()
        .write_all(&out)
        .context("cannot write the man page")?;
    Ok(0)
}

/// Writes hookbox.toml's JSON Schema to stdout.
pub fn schema() -> Result<u8> {
    std::io::stdout()
        .write_all(crate::discover::schema::json_schema().as_bytes())
        .context("cannot write the schema")?;
    Ok(0)
}
