//! `hookbox releases|status|logs|stop`: read and steer what `deploy` left in a project's
//! state folder ([`crate::lifecycle::manage`]); `rollback` is in `commands`.

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Result};

use super::args::{LogsArgs, ManageArgs};
use super::commands::{absolute, deploy_state_dir, project_dir, read_process_env};
use super::Ended;
use crate::lifecycle::deploy::DeployError;
use crate::lifecycle::manage;
use crate::lifecycle::releases::StateDir;

/// How often `logs --follow` looks for new lines.
const FOLLOW_POLL: Duration = Duration::from_millis(200);

/// The state folder the arguments name; an error when the project was never deployed there.
fn open_state(a: &ManageArgs) -> Result<StateDir> {
    let path = match &a.state.state_dir {
        Some(d) => absolute(d)?,
        None => {
            let penv = read_process_env()?;
            deploy_state_dir(&project_dir(a.dir.as_deref())?, None, &penv)?
        }
    };
    match StateDir::open(&path)? {
        Some(s) => Ok(s),
        None => bail!(DeployError::NotDeployed {
            dir: a.dir.clone().unwrap_or_else(|| PathBuf::from(".")),
            state: path,
        }),
    }
}

pub fn releases(a: ManageArgs) -> Result<Ended> {
    let state = open_state(&a)?;
    let list = manage::releases(&state)?;
    if a.json {
        println!(
            "{}",
            serde_json::json!({ "state_dir": state.path(), "releases": list })
        );
        return Ok(Ended::Success);
    }
    if list.is_empty() {
        println!("No releases in {}", state.path().display());
    }
    for r in &list {
        println!(
            "{} {}  {:<22} {}{}",
            if r.current { "*" } else { " " },
            r.id,
            r.status.as_deref().unwrap_or("(no record)"),
            r.deployed_at.as_deref().unwrap_or("-"),
            r.start
                .as_ref()
                .map(|s| format!("  start: {s}"))
                .unwrap_or_default()
        );
    }
    Ok(Ended::Success)
}

pub fn status(a: ManageArgs) -> Result<Ended> {
    let state = open_state(&a)?;
    let s = manage::status(&state)?;
    if a.json {
        println!("{}", serde_json::to_string(&s)?);
        return Ok(Ended::Success);
    }
    println!("State folder: {}", s.state_dir.display());
    if let Some(p) = &s.project {
        println!("Project: {}", p.display());
    }
    match &s.current {
        Some(c) => println!("Current release: {c} ({} kept)", s.releases),
        None => println!("Current release: none ({} kept)", s.releases),
    }
    if let Some(l) = &s.latest {
        println!(
            "Latest release: {} ({}, {})",
            l.id,
            l.status.as_deref().unwrap_or("no record"),
            l.deployed_at.as_deref().unwrap_or("-")
        );
    }
    match &s.app {
        Some(app) => println!(
            "Application: pid {} of releases/{} {} ({})",
            app.pid,
            app.release,
            if app.running {
                "running"
            } else {
                "not running"
            },
            app.command
        ),
        None => println!("Application: none recorded"),
    }
    println!("Hook log: {}", s.hooks_log.display());
    Ok(Ended::Success)
}

pub fn stop(a: ManageArgs) -> Result<Ended> {
    let state = open_state(&a)?;
    let s = manage::stop(&state)?;
    if a.json {
        println!("{}", serde_json::to_string(&s)?);
        return Ok(Ended::Success);
    }
    match (&s.app, s.stopped) {
        (Some(app), true) => println!(
            "Stopped the application (pid {}, releases/{})",
            app.pid, app.release
        ),
        (Some(app), false) => println!(
            "The application recorded (pid {}, releases/{}) is not running; nothing was signalled",
            app.pid, app.release
        ),
        (None, _) => println!("No application is recorded in {}", state.path().display()),
    }
    Ok(Ended::Success)
}

/// One log line as JSON: hooks.log lines start with their timestamp.
fn json_line(line: &str, with_ts: bool) -> serde_json::Value {
    match line.split_once(' ') {
        Some((ts, rest)) if with_ts && ts.ends_with('Z') => {
            serde_json::json!({ "ts": ts, "line": rest })
        }
        _ => serde_json::json!({ "line": line }),
    }
}

/// Prints `data` (whole lines; a missing last newline is added).
fn print_lines(data: &[u8], json: bool, with_ts: bool) {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for line in data.split(|b| *b == b'\n') {
        if line.is_empty() {
            continue;
        }
        let text = String::from_utf8_lossy(line);
        let written = if json {
            writeln!(out, "{}", json_line(&text, with_ts))
        } else {
            writeln!(out, "{text}")
        };
        if written.is_err() {
            // stdout closed (piped into head): stop quietly.
            return;
        }
    }
    let _ = out.flush();
}

pub fn logs(a: LogsArgs) -> Result<Ended> {
    let state = open_state(&a.manage)?;
    let name = if a.app { "app.log" } else { "hooks.log" };
    let with_ts = !a.app;
    let mut file = loop {
        match state.read_log(name)? {
            Some(f) => break f,
            None if a.follow => std::thread::sleep(FOLLOW_POLL),
            None => return Ok(Ended::Success),
        }
    };
    let mut pos = 0u64;
    loop {
        file.seek(SeekFrom::Start(pos))?;
        let mut chunk = Vec::new();
        file.read_to_end(&mut chunk)?;
        if !a.follow {
            print_lines(&chunk, a.manage.json, with_ts);
            return Ok(Ended::Success);
        }
        // Whole lines only: a line still being written waits for its end.
        if let Some(end) = chunk.iter().rposition(|b| *b == b'\n') {
            print_lines(&chunk[..=end], a.manage.json, with_ts);
            pos += end as u64 + 1;
        }
        std::thread::sleep(FOLLOW_POLL);
    }
}
