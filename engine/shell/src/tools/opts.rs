//! A small GNU-style option parser shared by the tools.
//!
//! Arguments enter as the tool's argv (without argv[0]); what leaves is the list of options seen,
//! in order, and the operands. Like GNU getopt_long, options and operands may be interleaved
//! (permutation), `--` ends the options, a lone `-` is an operand, short options may be grouped
//! (`-rf`) and carry their value attached or in the next word (`-n5`, `-n 5`), and a long option
//! may be abbreviated to any unique prefix (`--lin=5`). Errors come back already worded as GNU
//! words them, so each tool prints them with its own "Try --help" line and exit status.

use std::io::Write;

/// One option recognised on a command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opt {
    /// The short letter the option stands for (long options map to one).
    pub key: char,
    /// The option's value, when it takes one.
    pub value: Option<String>,
}

/// How a tool's options look.
pub struct Spec<'a> {
    /// Short options without a value, e.g. "rfv".
    pub flags: &'a str,
    /// Short options that take a value, e.g. "n".
    pub with_value: &'a str,
    /// Long options: (name, takes a value, short letter it stands for).
    pub long: &'a [(&'a str, bool, char)],
    /// Stop at the first operand (POSIX behaviour `env` and `printf`-like tools need).
    pub stop_at_operand: bool,
}

/// Options, then operands.
pub type Parsed = (Vec<Opt>, Vec<String>);

/// Parses `args` (argv without argv[0]); an error is the GNU diagnostic without the tool prefix.
pub fn parse(args: &[String], spec: &Spec<'_>) -> Result<Parsed, String> {
    let mut opts = Vec::new();
    let mut operands = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        i += 1;
        if arg == "--" {
            operands.extend(args[i..].iter().cloned());
            break;
        }
        if let Some(body) = arg.strip_prefix("--") {
            let (name, inline) = match body.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (body, None),
            };
            let exact = spec.long.iter().find(|(n, _, _)| *n == name);
            let candidates: Vec<_> = spec
                .long
                .iter()
                .filter(|(n, _, _)| n.starts_with(name))
                .collect();
            let found = match exact {
                Some(e) => e,
                None if candidates.len() == 1 => candidates[0],
                None if candidates.is_empty() => {
                    return Err(format!("unrecognized option '{arg}'"))
                }
                None => {
                    let list: Vec<String> = candidates
                        .iter()
                        .map(|(n, _, _)| format!("'--{n}'"))
                        .collect();
                    return Err(format!(
                        "option '--{name}' is ambiguous; possibilities: {}",
                        list.join(" ")
                    ));
                }
            };
            let (full, takes, key) = *found;
            let value = if takes {
                match inline {
                    Some(v) => Some(v),
                    None if i < args.len() => {
                        i += 1;
                        Some(args[i - 1].clone())
                    }
                    None => return Err(format!("option '--{full}' requires an argument")),
                }
            } else {
                if inline.is_some() {
                    return Err(format!("option '--{full}' doesn't allow an argument"));
                }
                None
            };
            opts.push(Opt { key, value });
            continue;
        }
        if arg.len() > 1 && arg.starts_with('-') {
            let chars: Vec<char> = arg.chars().skip(1).collect();
            let mut j = 0;
            while j < chars.len() {
                let c = chars[j];
                j += 1;
                if spec.with_value.contains(c) {
                    let rest: String = chars[j..].iter().collect();
                    let value = if !rest.is_empty() {
                        rest
                    } else if i < args.len() {
                        i += 1;
                        args[i - 1].clone()
                    } else {
                        return Err(format!("option requires an argument -- '{c}'"));
                    };
                    opts.push(Opt {
                        key: c,
                        value: Some(value),
                    });
                    break;
                } else if spec.flags.contains(c) {
                    opts.push(Opt {
                        key: c,
                        value: None,
                    });
                } else {
                    return Err(format!("invalid option -- '{c}'"));
                }
            }
            continue;
        }
        operands.push(arg.clone());
        if spec.stop_at_operand {
            operands.extend(args[i..].iter().cloned());
            break;
        }
    }
    Ok((opts, operands))
}

/// Prints a usage error the way GNU tools do and returns `status`.
pub fn usage_error(tool: &str, msg: &str, stderr: &mut dyn Write, status: i32) -> i32 {
    let _ = writeln!(stderr, "{tool}: {msg}");
    let _ = writeln!(stderr, "Try '{tool} --help' for more information.");
    status
}
