//! `env` (printing form only) and `printenv`: the exported variables in, `NAME=value` lines out.
//!
//! `env NAME=VALUE... COMMAND` is run by the evaluator, which owns process creation; this `env`
//! only sees the printing forms and refuses a command operand with status 126.

use super::opts::{self, Spec};
use super::{quote, write_failed, ToolContext};

pub(crate) fn env(args: &[String], ctx: &mut ToolContext<'_>) -> i32 {
    let spec = Spec {
        // -v (--debug) only traces the running of a command, which this env never does.
        flags: "i0v",
        with_value: "u",
        long: &[
            ("ignore-environment", false, 'i'),
            ("null", false, '0'),
            ("unset", true, 'u'),
            ("debug", false, 'v'),
        ],
        stop_at_operand: true,
    };
    let (options, ops) = match opts::parse(args.get(1..).unwrap_or(&[]), &spec) {
        Ok(p) => p,
        Err(e) => return opts::usage_error("env", &e, ctx.stderr, 125),
    };
    let mut vars: Vec<(String, String)> = ctx.env.to_vec();
    let mut end = '\n';
    let debug = options.iter().any(|o| o.key == 'v');
    let mut ops = ops.into_iter().peekable();
    // A lone `-` right after the options means -i, as in GNU.
    let mut clear = options.iter().any(|o| o.key == 'i');
    if ops.peek().map(|s| s == "-").unwrap_or(false) {
        ops.next();
        clear = true;
    }
    // GNU's order: clear, then the unsets, then the assignments (each traced with -v).
    if clear {
        if debug {
            let _ = writeln!(ctx.stderr, "cleaning environ");
        }
        vars.clear();
    }
    for o in options {
        match o.key {
            '0' => end = '\0',
            'u' => {
                let name = o.value.unwrap_or_default();
                if name.is_empty() || name.contains('=') {
                    let _ = writeln!(
                        ctx.stderr,
                        "env: cannot unset {}: Invalid argument",
                        quote(&name)
                    );
                    return 125;
                }
                if debug {
                    let _ = writeln!(ctx.stderr, "unset:    {name}");
                }
                vars.retain(|(k, _)| *k != name);
            }
            _ => {}
        }
    }
    for op in ops {
        match op.split_once('=') {
            Some((k, v)) if !k.is_empty() => {
                if debug {
                    let _ = writeln!(ctx.stderr, "setenv:   {op}");
                }
                vars.retain(|(name, _)| name != k);
                vars.push((k.to_string(), v.to_string()));
            }
            _ => {
                let _ = writeln!(
                    ctx.stderr,
                    "env: {}: running a command is the shell's job, not this tool's",
                    quote(&op)
                );
                return 126;
            }
        }
    }
    let mut out = String::new();
    for (k, v) in &vars {
        out.push_str(k);
        out.push('=');
        out.push_str(v);
        out.push(end);
    }
    match ctx.stdout.write_all(out.as_bytes()) {
        Ok(()) => 0,
        Err(e) => write_failed("env", &e, ctx.stderr),
    }
}

pub(crate) fn printenv(args: &[String], ctx: &mut ToolContext<'_>) -> i32 {
    let spec = Spec {
        flags: "0",
        with_value: "",
        long: &[("null", false, '0')],
        stop_at_operand: false,
    };
    let (options, ops) = match opts::parse(args.get(1..).unwrap_or(&[]), &spec) {
        Ok(p) => p,
        Err(e) => return opts::usage_error("printenv", &e, ctx.stderr, 2),
    };
    let end = if options.iter().any(|o| o.key == '0') {
        '\0'
    } else {
        '\n'
    };
    let mut out = String::new();
    let mut status = 0;
    if ops.is_empty() {
        for (k, v) in ctx.env {
            out.push_str(&format!("{k}={v}{end}"));
        }
    } else {
        for name in &ops {
            match super::getenv(ctx.env, name) {
                Some(v) if !name.contains('=') => {
                    out.push_str(v);
                    out.push(end);
                }
                _ => status = 1,
            }
        }
    }
    match ctx.stdout.write_all(out.as_bytes()) {
        Ok(()) => status,
        Err(e) => write_failed("printenv", &e, ctx.stderr),
    }
}
