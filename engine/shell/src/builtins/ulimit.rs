//! `ulimit`. The interpreter cannot apply resource limits (a guest has none, and no child
//! processes of its own), so each shell keeps a table: a limit starts as the process's own
//! where the platform shows it (`/proc/self/limits` on Linux) and otherwise as a common
//! Linux default, and `ulimit -n N` etc. change this shell's table only. Nothing is enforced.

use crate::io::Io;
use crate::state::Shell;

/// One resource: its option letter, bash's description and unit, the row of
/// `/proc/self/limits`, the bytes per displayed unit, and the default (soft) when unknown.
struct Res {
    opt: char,
    desc: &'static str,
    unit: Option<&'static str>,
    proc_row: &'static str,
    scale: u64,
    default: Option<u64>,
}

const fn res(
    opt: char,
    desc: &'static str,
    unit: Option<&'static str>,
    proc_row: &'static str,
    scale: u64,
    default: Option<u64>,
) -> Res {
    Res {
        opt,
        desc,
        unit,
        proc_row,
        scale,
        default,
    }
}

/// In the order `ulimit -a` lists them.
const RES: &[Res] = &[
    res(
        'R',
        "real-time non-blocking time",
        Some("microseconds"),
        "Max realtime timeout",
        1,
        None,
    ),
    res(
        'c',
        "core file size",
        Some("blocks"),
        "Max core file size",
        1024,
        Some(0),
    ),
    res(
        'd',
        "data seg size",
        Some("kbytes"),
        "Max data size",
        1024,
        None,
    ),
    res(
        'e',
        "scheduling priority",
        None,
        "Max nice priority",
        1,
        Some(0),
    ),
    res(
        'f',
        "file size",
        Some("blocks"),
        "Max file size",
        1024,
        None,
    ),
    res(
        'i',
        "pending signals",
        None,
        "Max pending signals",
        1,
        Some(63_704),
    ),
    res(
        'l',
        "max locked memory",
        Some("kbytes"),
        "Max locked memory",
        1024,
        Some(8192),
    ),
    res(
        'm',
        "max memory size",
        Some("kbytes"),
        "Max resident set",
        1024,
        None,
    ),
    res('n', "open files", None, "Max open files", 1, Some(1024)),
    res('p', "pipe size", Some("512 bytes"), "", 1, Some(8)),
    res(
        'q',
        "POSIX message queues",
        Some("bytes"),
        "Max msgqueue size",
        1,
        Some(819_200),
    ),
    res(
        'r',
        "real-time priority",
        None,
        "Max realtime priority",
        1,
        Some(0),
    ),
    res(
        's',
        "stack size",
        Some("kbytes"),
        "Max stack size",
        1024,
        Some(8192),
    ),
    res('t', "cpu time", Some("seconds"), "Max cpu time", 1, None),
    res(
        'u',
        "max user processes",
        None,
        "Max processes",
        1,
        Some(63_704),
    ),
    res(
        'v',
        "virtual memory",
        Some("kbytes"),
        "Max address space",
        1024,
        None,
    ),
    res('x', "file locks", None, "Max file locks", 1, None),
];

/// A limit: None is unlimited.
type Limit = Option<u64>;

/// (soft, hard) of `r` as the process has it, in displayed units.
fn system_limit(r: &Res) -> (Limit, Limit) {
    let parse = |s: &str| -> Option<Limit> {
        if s == "unlimited" {
            Some(None)
        } else {
            s.parse::<u64>().ok().map(|v| Some(v / r.scale.max(1)))
        }
    };
    if !r.proc_row.is_empty() {
        if let Ok(text) = std::fs::read_to_string("/proc/self/limits") {
            for line in text.lines() {
                if let Some(rest) = line.strip_prefix(r.proc_row) {
                    let mut f = rest.split_whitespace();
                    if let (Some(Some(s)), Some(Some(h))) =
                        (f.next().map(parse), f.next().map(parse))
                    {
                        return (s, h);
                    }
                }
            }
        }
    }
    let hard = if r.opt == 'l' || r.opt == 'n' || r.opt == 'p' {
        r.default
    } else {
        None
    };
    (r.default, hard)
}

fn show(l: Limit) -> String {
    l.map(|v| v.to_string())
        .unwrap_or_else(|| "unlimited".into())
}

impl Shell {
    fn limit(&self, r: &Res) -> (Limit, Limit) {
        self.process
            .limits
            .get(&r.opt)
            .copied()
            .unwrap_or_else(|| system_limit(r))
    }

    pub(super) fn b_ulimit(&mut self, a: &[String], io: &Io) -> i32 {
        let (mut soft, mut hard, mut all) = (false, false, false);
        let mut chosen: Vec<&Res> = Vec::new();
        let mut value: Option<String> = None;
        let mut i = 1;
        while let Some(s) = a.get(i) {
            if s == "--" {
                i += 1;
                break;
            }
            if !s.starts_with('-') || s.len() < 2 {
                break;
            }
            for c in s.chars().skip(1) {
                match c {
                    'S' => soft = true,
                    'H' => hard = true,
                    'a' => all = true,
                    _ => match RES.iter().find(|r| r.opt == c) {
                        Some(r) => chosen.push(r),
                        None => {
                            self.error_io(io, &format!("ulimit: -{c}: invalid option"));
                            io.err(b"ulimit: usage: ulimit [-SHabcdefiklmnpqrstuvxPRT] [limit]\n");
                            return 2;
                        }
                    },
                }
            }
            i += 1;
        }
        if let Some(v) = a.get(i) {
            value = Some(v.clone());
        }
        if all {
            for r in RES {
                self.print_limit(r, hard, true, io);
            }
            return 0;
        }
        if chosen.is_empty() {
            chosen.push(&RES[4]);
        }
        let Some(v) = value else {
            let labelled = chosen.len() > 1;
            for r in chosen {
                self.print_limit(r, hard, labelled, io);
            }
            return 0;
        };
        let mut st = 0;
        for r in chosen {
            let (cur_s, cur_h) = self.limit(r);
            let new: Limit = match v.as_str() {
                "unlimited" => None,
                "hard" => cur_h,
                "soft" => cur_s,
                n => match n.parse::<u64>() {
                    Ok(n) => Some(n),
                    Err(_) => {
                        self.error_io(io, &format!("ulimit: {n}: invalid number"));
                        return 1;
                    }
                },
            };
            // Neither a soft limit above the hard one nor a raised hard limit is allowed
            // to an unprivileged process.
            let above = |x: Limit, cap: Limit| match (x, cap) {
                (_, None) => false,
                (None, Some(_)) => true,
                (Some(x), Some(c)) => x > c,
            };
            let set_hard = hard || !soft;
            let why = if set_hard && above(new, cur_h) {
                Some("Operation not permitted")
            } else if !set_hard && above(new, cur_h) {
                Some("Invalid argument")
            } else {
                None
            };
            if let Some(why) = why {
                self.error_io(
                    io,
                    &format!("ulimit: {}: cannot modify limit: {why}", r.desc),
                );
                st = 1;
                continue;
            }
            let s = if soft || !hard { new } else { cur_s };
            let h = if set_hard { new } else { cur_h };
            self.process.limits.insert(r.opt, (s, h));
        }
        st
    }

    fn print_limit(&self, r: &Res, hard: bool, labelled: bool, io: &Io) {
        let (s, h) = self.limit(r);
        let v = show(if hard { h } else { s });
        let line = if labelled {
            let unit = match r.unit {
                Some(u) => format!("({u}, -{}) ", r.opt),
                None => format!("(-{}) ", r.opt),
            };
            format!("{:<20} {unit:>20}{v}\n", r.desc)
        } else {
            format!("{v}\n")
        };
        io.out(line.as_bytes());
    }
}
