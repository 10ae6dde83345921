//! Programmable completion as a non-interactive bash has it: `complete` and `compopt` store
//! and print completion specifications (nothing ever uses them without readline), and
//! `compgen` generates the matches of a specification for a word and prints them.

use crate::io::Io;
use crate::state::completion::{Completions, Entry, Spec};
use crate::state::{Shell, Value};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

/// Completion actions in bash's bit order (also the order `complete -p` prints them in),
/// with the short option that selects each, if any.
const ACTIONS: [(&str, Option<char>); 24] = [
    ("alias", Some('a')),
    ("arrayvar", None),
    ("binding", None),
    ("builtin", Some('b')),
    ("command", Some('c')),
    ("directory", Some('d')),
    ("disabled", None),
    ("enabled", None),
    ("export", Some('e')),
    ("file", Some('f')),
    ("function", None),
    ("group", Some('g')),
    ("helptopic", None),
    ("hostname", None),
    ("job", Some('j')),
    ("keyword", Some('k')),
    ("running", None),
    ("service", Some('s')),
    ("setopt", None),
    ("shopt", None),
    ("signal", None),
    ("stopped", None),
    ("user", Some('u')),
    ("variable", Some('v')),
];

/// `-o` completion options, in bash's bit order.
const COPTS: [&str; 8] = [
    "bashdefault",
    "default",
    "dirnames",
    "filenames",
    "noquote",
    "nosort",
    "nospace",
    "plusdirs",
];

const COPT_DEFAULT: u32 = 1 << 1;
const COPT_DIRNAMES: u32 = 1 << 2;
const COPT_PLUSDIRS: u32 = 1 << 7;

const KEYWORDS: &[&str] = &[
    "if", "then", "else", "elif", "fi", "case", "esac", "for", "select", "while", "until", "do",
    "done", "in", "function", "time", "{", "}", "!", "[[", "]]", "coproc",
];

/// Signal names as bash on Linux lists them (trap names included).
const SIGNALS: &[&str] = &[
    "EXIT",
    "SIGHUP",
    "SIGINT",
    "SIGQUIT",
    "SIGILL",
    "SIGTRAP",
    "SIGABRT",
    "SIGBUS",
    "SIGFPE",
    "SIGKILL",
    "SIGUSR1",
    "SIGSEGV",
    "SIGUSR2",
    "SIGPIPE",
    "SIGALRM",
    "SIGTERM",
    "SIGSTKFLT",
    "SIGCHLD",
    "SIGCONT",
    "SIGSTOP",
    "SIGTSTP",
    "SIGTTIN",
    "SIGTTOU",
    "SIGURG",
    "SIGXCPU",
    "SIGXFSZ",
    "SIGVTALRM",
    "SIGPROF",
    "SIGWINCH",
    "SIGIO",
    "SIGPWR",
    "SIGSYS",
    "SIGJUNK(32)",
    "SIGJUNK(33)",
    "SIGRTMIN",
    "SIGRTMIN+1",
    "SIGRTMIN+2",
    "SIGRTMIN+3",
    "SIGRTMIN+4",
    "SIGRTMIN+5",
    "SIGRTMIN+6",
    "SIGRTMIN+7",
    "SIGRTMIN+8",
    "SIGRTMIN+9",
    "SIGRTMIN+10",
    "SIGRTMIN+11",
    "SIGRTMIN+12",
    "SIGRTMIN+13",
    "SIGRTMIN+14",
    "SIGRTMIN+15",
    "SIGRTMAX-14",
    "SIGRTMAX-13",
    "SIGRTMAX-12",
    "SIGRTMAX-11",
    "SIGRTMAX-10",
    "SIGRTMAX-9",
    "SIGRTMAX-8",
    "SIGRTMAX-7",
    "SIGRTMAX-6",
    "SIGRTMAX-5",
    "SIGRTMAX-4",
    "SIGRTMAX-3",
    "SIGRTMAX-2",
    "SIGRTMAX-1",
    "SIGRTMAX",
    "DEBUG",
    "ERR",
    "RETURN",
];

/// Help topics that are not builtin names.
const EXTRA_TOPICS: &[&str] = &[
    "%",
    "(( ... ))",
    "[[ ... ]]",
    "case",
    "coproc",
    "for",
    "for ((",
    "function",
    "if",
    "select",
    "time",
    "until",
    "variables",
    "while",
    "{ ... }",
];

const COMPGEN_USAGE: &str = "compgen: usage: compgen [-abcdefgjksuv] [-o option] [-A action] [-G globpat] [-W wordlist] [-F function] [-C command] [-X filterpat] [-P prefix] [-S suffix] [word]\n";
const COMPLETE_USAGE: &str = "complete: usage: complete [-abcdefgjksuv] [-pr] [-DEI] [-o option] [-A action] [-G globpat] [-W wordlist] [-F function] [-C command] [-X filterpat] [-P prefix] [-S suffix] [name ...]\n";
const COMPOPT_USAGE: &str = "compopt: usage: compopt [-o|+o option] [-DEI] [name ...]\n";

/// The names bash keys the special specifications (-D, -E, -I) under.
const DEFAULTCMD: &str = "_DefaultCmD_";
const EMPTYCMD: &str = "_EmptycmD_";
const INITIALWORD: &str = "_InitialWorD_";

impl Clone for Completions {
    // A subshell gets its own copies: changing them must not reach the parent.
    fn clone(&self) -> Self {
        Completions {
            created: self.created,
            seq: self.seq,
            entries: self
                .entries
                .iter()
                .map(|e| Entry {
                    name: e.name.clone(),
                    seq: e.seq,
                    spec: Rc::new(RefCell::new(e.spec.borrow().clone())),
                })
                .collect(),
        }
    }
}

/// bash's string hash (FNV-1), which fixes the order `complete -p` lists specifications in.
fn hash_bucket(s: &str) -> u32 {
    let mut h: u32 = 2166136261;
    for b in s.bytes() {
        h = h.wrapping_mul(16777619);
        // bash hashes `char`, which is signed.
        h ^= b as i8 as i32 as u32;
    }
    h & 511
}

impl Completions {
    fn get(&self, name: &str) -> Option<Rc<RefCell<Spec>>> {
        self.entries
            .iter()
            .find(|e| e.name == name)
            .map(|e| e.spec.clone())
    }

    fn insert(&mut self, name: &str, spec: Rc<RefCell<Spec>>) {
        self.created = true;
        if let Some(e) = self.entries.iter_mut().find(|e| e.name == name) {
            e.spec = spec;
            return;
        }
        self.seq += 1;
        self.entries.push(Entry {
            name: name.to_string(),
            seq: self.seq,
            spec,
        });
    }

    fn remove(&mut self, name: &str) -> bool {
        if !self.created {
            return true;
        }
        let n = self.entries.len();
        self.entries.retain(|e| e.name != name);
        n != self.entries.len()
    }

    /// Entries in bash's hash-walk order: by bucket, newest first within one.
    fn ordered(&self) -> Vec<&Entry> {
        let mut v: Vec<&Entry> = self.entries.iter().collect();
        v.sort_by_key(|e| (hash_bucket(&e.name), std::cmp::Reverse(e.seq)));
        v
    }
}

fn display_name(name: &str) -> String {
    match name {
        DEFAULTCMD => "-D".into(),
        EMPTYCMD => "-E".into(),
        INITIALWORD => "-I".into(),
        n => n.to_string(),
    }
}

fn print_spec(name: &str, cs: &Spec) -> String {
    let mut s = String::from("complete ");
    for (i, o) in COPTS.iter().enumerate() {
        if cs.options & (1 << i) != 0 {
            s.push_str(&format!("-o {o} "));
        }
    }
    for (i, (_, short)) in ACTIONS.iter().enumerate() {
        if let Some(c) = short {
            if cs.actions & (1 << i) != 0 {
                s.push_str(&format!("-{c} "));
            }
        }
    }
    for (i, (long, short)) in ACTIONS.iter().enumerate() {
        if short.is_none() && cs.actions & (1 << i) != 0 {
            s.push_str(&format!("-A {long} "));
        }
    }
    for (v, f) in [
        (&cs.globpat, "-G"),
        (&cs.words, "-W"),
        (&cs.prefix, "-P"),
        (&cs.suffix, "-S"),
        (&cs.filterpat, "-X"),
        (&cs.command, "-C"),
    ] {
        if let Some(v) = v {
            s.push_str(&format!("{f} {} ", crate::quote::quote(v)));
        }
    }
    if let Some(f) = &cs.funcname {
        s.push_str(&format!("-F {f} "));
    }
    s.push_str(&display_name(name));
    s.push('\n');
    s
}

/// What the options of `complete`/`compgen`/`compopt` asked for.
#[derive(Default)]
struct Parsed {
    spec: Spec,
    /// Options turned off with `+o` (compopt).
    off: u32,
    print: bool,
    remove: bool,
    /// -D, -E, -I (bash honours one: -D before -E before -I).
    special: Vec<&'static str>,
    any_option: bool,
    rest: Vec<String>,
}

enum ParseErr {
    /// Message (without the builtin's name) and whether the usage follows.
    Msg(String, bool),
}

/// Parses getopt-style options. `which` is the builtin: its allowed options differ.
fn parse_args(a: &[String], which: &str) -> Result<Parsed, ParseErr> {
    let mut p = Parsed::default();
    let with_arg = "oAGWFCXPS";
    let allowed: &str = match which {
        "compgen" => "abcdefgjksuvoAGWFCXPS",
        "complete" => "abcdefgjksuvprDEIoAGWFCXPS",
        _ => "oDEI",
    };
    let mut i = 1;
    while i < a.len() {
        let w = &a[i];
        if w == "--" {
            i += 1;
            break;
        }
        let plus = w.starts_with('+') && which == "compopt";
        if !(w.starts_with('-') || plus) || w.len() < 2 {
            break;
        }
        let chars: Vec<char> = w.chars().skip(1).collect();
        let mut k = 0;
        while k < chars.len() {
            let c = chars[k];
            k += 1;
            if !allowed.contains(c) || (plus && c != 'o') {
                let sign = if plus { '+' } else { '-' };
                return Err(ParseErr::Msg(format!("{sign}{c}: invalid option"), true));
            }
            p.any_option = true;
            let arg = if with_arg.contains(c) {
                if k < chars.len() {
                    let s: String = chars[k..].iter().collect();
                    k = chars.len();
                    s
                } else {
                    i += 1;
                    match a.get(i) {
                        Some(s) => s.clone(),
                        None => {
                            return Err(ParseErr::Msg(
                                format!("-{c}: option requires an argument"),
                                true,
                            ))
                        }
                    }
                }
            } else {
                String::new()
            };
            let sp = &mut p.spec;
            match c {
                'p' => p.print = true,
                'r' => p.remove = true,
                'D' => p.special.push(DEFAULTCMD),
                'E' => p.special.push(EMPTYCMD),
                'I' => p.special.push(INITIALWORD),
                'o' => match COPTS.iter().position(|o| *o == arg) {
                    Some(n) if plus => p.off |= 1 << n,
                    Some(n) => sp.options |= 1 << n,
                    None => {
                        return Err(ParseErr::Msg(format!("{arg}: invalid option name"), false))
                    }
                },
                'A' => match ACTIONS.iter().position(|(n, _)| *n == arg) {
                    Some(n) => sp.actions |= 1 << n,
                    None => {
                        return Err(ParseErr::Msg(format!("{arg}: invalid action name"), false))
                    }
                },
                'G' => sp.globpat = Some(arg),
                'W' => sp.words = Some(arg),
                'F' => sp.funcname = Some(arg),
                'C' => sp.command = Some(arg),
                'X' => sp.filterpat = Some(arg),
                'P' => sp.prefix = Some(arg),
                'S' => sp.suffix = Some(arg),
                c => {
                    if let Some(n) = ACTIONS.iter().position(|(_, s)| *s == Some(c)) {
                        sp.actions |= 1 << n;
                    }
                }
            }
        }
        i += 1;
    }
    p.rest = a[i.min(a.len())..].to_vec();
    for first in [DEFAULTCMD, EMPTYCMD, INITIALWORD] {
        if p.special.contains(&first) {
            p.special = vec![first];
            break;
        }
    }
    Ok(p)
}

/// Splits a `-W` word list at IFS characters outside quotes and `$(...)`/`${...}`/backquotes,
/// as bash's `split_at_delims`.
fn split_wordlist(s: &str, ifs: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut have = false;
    let mut quote: Option<char> = None;
    // Open `$(`/`${` groups (their closing characters), and whether inside backquotes.
    let mut groups: Vec<char> = Vec::new();
    let mut backq = false;
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        let free = quote.is_none() && groups.is_empty() && !backq;
        if free && ifs.contains(c) {
            if have {
                out.push(std::mem::take(&mut cur));
                have = false;
            }
            continue;
        }
        have = true;
        cur.push(c);
        match c {
            '\\' if quote != Some('\'') => {
                if let Some(n) = it.next() {
                    cur.push(n);
                }
            }
            '\'' | '"' if quote == Some(c) => quote = None,
            '\'' | '"' if quote.is_none() => quote = Some(c),
            '`' if quote != Some('\'') => backq = !backq,
            '$' if quote != Some('\'') => {
                if let Some(&n) = it.peek() {
                    if n == '(' || n == '{' {
                        it.next();
                        cur.push(n);
                        groups.push(if n == '(' { ')' } else { '}' });
                    }
                }
            }
            '(' if quote.is_none() && groups.last() == Some(&')') => groups.push(')'),
            ')' | '}' if quote.is_none() && groups.last() == Some(&c) => {
                groups.pop();
            }
            _ => {}
        }
    }
    if have {
        out.push(cur);
    }
    out
}

#[cfg(unix)]
fn is_executable(p: &std::path::Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(p: &std::path::Path) -> bool {
    std::fs::metadata(p).is_ok_and(|m| m.is_file())
}

/// Names from the first field of a system database file (`/etc/passwd`, ...).
fn db_names(path: &str, sep: char, word: &str) -> Vec<String> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split(sep).next())
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty() && n.starts_with(word))
        .collect()
}

impl Shell {
    fn names_with_prefix<'a>(list: impl IntoIterator<Item = &'a str>, word: &str) -> Vec<String> {
        list.into_iter()
            .filter(|n| n.starts_with(word))
            .map(|n| n.to_string())
            .collect()
    }

    /// Set variables (the innermost binding of each name) with their values.
    fn visible_vars(&self) -> BTreeMap<String, Option<Value>> {
        let mut m = BTreeMap::new();
        for scope in self.scopes.iter().rev() {
            for (k, v) in scope {
                m.entry(k.clone()).or_insert_with(|| v.value.clone());
            }
        }
        m
    }

    fn var_names(&self, word: &str, keep: impl Fn(&crate::state::Var) -> bool) -> Vec<String> {
        let mut seen = BTreeMap::new();
        for scope in self.scopes.iter().rev() {
            for (k, v) in scope {
                seen.entry(k.clone())
                    .or_insert_with(|| v.value.is_some() && keep(v));
            }
        }
        seen.into_iter()
            .filter(|(k, keep)| *keep && k.starts_with(word))
            .map(|(k, _)| k)
            .collect()
    }

    /// readline's filename completion: entries of the word's directory starting with its
    /// last component, hidden files included; the word's directory part is kept as typed.
    pub(crate) fn filename_matches(&self, word: &str, dirs_only: bool) -> Vec<String> {
        let (dirpart, base) = match word.rfind('/') {
            Some(i) => (&word[..=i], &word[i + 1..]),
            None => ("", word),
        };
        let read_dir = if dirpart.is_empty() {
            self.cwd.clone()
        } else if let Some(rest) = dirpart.strip_prefix('~') {
            let (user, tail) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
            let home = if user.is_empty() {
                self.lookup("HOME").and_then(|v| match &v.value {
                    Some(Value::Str(s)) => Some(s.clone()),
                    _ => None,
                })
            } else {
                db_home(user)
            };
            match home {
                Some(h) => self.cwd.join(format!("{h}{tail}")),
                None => self.cwd.join(dirpart),
            }
        } else {
            self.cwd.join(dirpart)
        };
        let mut names: Vec<String> = match std::fs::read_dir(&read_dir) {
            Ok(rd) => rd
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect(),
            Err(_) => return Vec::new(),
        };
        // Directory order, as readline reads it; `.` and `..` come first there.
        if !base.is_empty() {
            names.splice(0..0, [".".to_string(), "..".to_string()]);
        }
        names
            .into_iter()
            .filter(|n| n.starts_with(base))
            .filter(|n| !dirs_only || read_dir.join(n).is_dir())
            .map(|n| format!("{dirpart}{n}"))
            .collect()
    }

    fn command_matches(&self, word: &str) -> Vec<String> {
        if word.contains('/') {
            return self
                .filename_matches(word, false)
                .into_iter()
                .filter(|f| {
                    let p = self.cwd.join(f);
                    p.is_dir() || is_executable(&p)
                })
                .collect();
        }
        let mut out = Vec::new();
        let mut aliases: Vec<&String> = self.builtins.aliases.keys().collect();
        aliases.sort();
        out.extend(Self::names_with_prefix(
            aliases.iter().map(|s| s.as_str()),
            word,
        ));
        out.extend(Self::names_with_prefix(KEYWORDS.iter().copied(), word));
        let mut funcs: Vec<&String> = self.functions.funcs.keys().collect();
        funcs.sort();
        out.extend(Self::names_with_prefix(
            funcs.iter().map(|s| s.as_str()),
            word,
        ));
        out.extend(Self::names_with_prefix(
            super::enable::BASH_BUILTINS.iter().copied(),
            word,
        ));
        let path = self
            .lookup("PATH")
            .and_then(|v| match &v.value {
                Some(Value::Str(s)) => Some(s.clone()),
                _ => None,
            })
            .unwrap_or_default();
        for d in path.split(':') {
            let dir = self.cwd.join(if d.is_empty() { "." } else { d });
            let Ok(rd) = std::fs::read_dir(&dir) else {
                continue;
            };
            let names: Vec<String> = rd
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with(word))
                .filter(|n| is_executable(&dir.join(n)))
                .collect();
            out.extend(names);
        }
        out
    }

    fn action_matches(&mut self, action: &str, word: &str) -> Vec<String> {
        match action {
            "alias" => {
                let mut v: Vec<&String> = self.builtins.aliases.keys().collect();
                v.sort();
                Self::names_with_prefix(v.iter().map(|s| s.as_str()), word)
            }
            "arrayvar" => self.var_names(word, |v| {
                matches!(v.value, Some(Value::Arr(_)) | Some(Value::Assoc(_)))
            }),
            "binding" => Self::names_with_prefix(super::bind::FUNCTIONS.iter().copied(), word),
            "builtin" | "enabled" => {
                Self::names_with_prefix(super::enable::BASH_BUILTINS.iter().copied(), word)
            }
            "command" => self.command_matches(word),
            "directory" => self.filename_matches(word, true),
            "file" => self.filename_matches(word, false),
            "export" => self.var_names(word, |v| v.exported),
            "function" => {
                let mut v: Vec<&String> = self.functions.funcs.keys().collect();
                v.sort();
                Self::names_with_prefix(v.iter().map(|s| s.as_str()), word)
            }
            "group" => db_names("/etc/group", ':', word),
            "user" => db_names("/etc/passwd", ':', word),
            "service" => {
                let Ok(text) = std::fs::read_to_string("/etc/services") else {
                    return Vec::new();
                };
                let mut v = Vec::new();
                for l in text.lines() {
                    let l = l.split('#').next().unwrap_or("");
                    let mut f = l.split_whitespace();
                    let Some(name) = f.next() else { continue };
                    if name.starts_with(word) {
                        v.push(name.to_string());
                    }
                    // Aliases follow the port/protocol field.
                    for al in f.skip(1) {
                        if al.starts_with(word) {
                            v.push(al.to_string());
                        }
                    }
                }
                v
            }
            "hostname" => {
                let file = self
                    .get("HOSTFILE")
                    .filter(|f| !f.is_empty())
                    .unwrap_or_else(|| "/etc/hosts".into());
                let Ok(text) = std::fs::read_to_string(self.cwd.join(file)) else {
                    return Vec::new();
                };
                let mut v = Vec::new();
                for l in text.lines() {
                    let l = l.split('#').next().unwrap_or("");
                    for h in l.split_whitespace().skip(1) {
                        if h.starts_with(word) {
                            v.push(h.to_string());
                        }
                    }
                }
                v
            }
            "helptopic" => {
                let mut v: Vec<&str> = super::enable::BASH_BUILTINS.to_vec();
                v.extend(EXTRA_TOPICS.iter().copied());
                v.sort();
                v.dedup();
                Self::names_with_prefix(v, word)
            }
            "keyword" => Self::names_with_prefix(KEYWORDS.iter().copied(), word),
            "setopt" => Self::names_with_prefix(super::options::SET_O.iter().copied(), word),
            "shopt" => Self::names_with_prefix(super::options::SHOPT.iter().copied(), word),
            "signal" => Self::names_with_prefix(SIGNALS.iter().copied(), word),
            "variable" => self
                .visible_vars()
                .into_iter()
                .filter(|(k, v)| v.is_some() && k.starts_with(word))
                .map(|(k, _)| k)
                .collect(),
            // No job control here: there are never jobs, and nothing is disabled.
            _ => Vec::new(),
        }
    }

    /// Runs `-F` function for compgen, with the COMP_ variables bash sets outside readline.
    fn compfunc_matches(&mut self, func: &str, word: &str, io: &Io) -> Vec<String> {
        let Some(f) = self.functions.funcs.get(func).cloned() else {
            return Vec::new();
        };
        let str_vars = [
            ("COMP_LINE", ""),
            ("COMP_POINT", "0"),
            ("COMP_KEY", "0"),
            ("COMP_TYPE", "0"),
            ("COMP_CWORD", "-1"),
        ];
        for (k, v) in str_vars {
            let _ = self.set_var(k, v.to_string());
        }
        let _ = self.set_value("COMP_WORDS", Value::Arr(BTreeMap::new()));
        let argv = vec![
            func.to_string(),
            "compgen".to_string(),
            word.to_string(),
            String::new(),
        ];
        let _ = self.call_function(&f, argv, io);
        let out: Vec<String> = self
            .get_array("COMPREPLY")
            .unwrap_or_default()
            .into_iter()
            .map(|(_, v)| v)
            .collect();
        for k in [
            "COMP_LINE",
            "COMP_POINT",
            "COMP_KEY",
            "COMP_TYPE",
            "COMP_CWORD",
            "COMP_WORDS",
            "COMPREPLY",
        ] {
            let _ = self.unset(k);
        }
        out
    }

    /// The matches of a specification for `word`, as bash's gen_compspec_completions.
    fn gen_matches(&mut self, cs: &Spec, word: &str, io: &Io) -> Vec<String> {
        let mut out = Vec::new();
        for (i, (name, _)) in ACTIONS.iter().enumerate() {
            if cs.actions & (1 << i) != 0 {
                out.extend(self.action_matches(name, word));
            }
        }
        if let Some(g) = &cs.globpat {
            let mut m = crate::pattern::glob(
                g,
                &self.cwd,
                crate::pattern::GlobOpts {
                    globstar: self.opts.globstar,
                    extglob: self.opts.extglob,
                    dotglob: self.opts.dotglob,
                    nocase: self.opts.nocaseglob,
                },
            );
            m.sort();
            out.extend(m);
        }
        if let Some(w) = &cs.words {
            let ifs = self.get_ifs();
            let saved = self.opts.noglob;
            self.opts.noglob = true;
            for tok in split_wordlist(w, &ifs) {
                if let Ok(fields) = self.expand_fields(&tok) {
                    out.extend(fields.into_iter().filter(|f| f.starts_with(word)));
                }
            }
            self.opts.noglob = saved;
        }
        if let Some(f) = cs.funcname.clone() {
            self.error_io(io, "compgen: warning: -F option may not work as you expect");
            out.extend(self.compfunc_matches(&f, word, io));
        }
        if let Some(c) = &cs.command {
            self.error_io(io, "compgen: warning: -C option may not work as you expect");
            let q = crate::quote::quote;
            let line = format!("{c} {} {} {}", q("compgen"), q(word), q(""));
            if let Ok(text) = self.command_subst(&line) {
                out.extend(text.split('\n').filter(|l| !l.is_empty()).map(String::from));
            }
        }
        if let Some(x) = &cs.filterpat {
            let (neg, pat) = match x.strip_prefix('!') {
                Some(rest) if !(self.opts.extglob && rest.starts_with('(')) => (true, rest),
                _ => (false, x.as_str()),
            };
            let pat = filter_pattern(pat, word);
            out.retain(|m| self.pattern_match(m, &pat) == neg);
        }
        if cs.prefix.is_some() || cs.suffix.is_some() {
            let (p, s) = (
                cs.prefix.clone().unwrap_or_default(),
                cs.suffix.clone().unwrap_or_default(),
            );
            for m in out.iter_mut() {
                *m = format!("{p}{m}{s}");
            }
        }
        if cs.options & COPT_PLUSDIRS != 0 {
            out.extend(self.filename_matches(word, true));
        }
        out
    }

    pub(crate) fn b_compgen(&mut self, a: &[String], io: &Io) -> i32 {
        let p = match parse_args(a, "compgen") {
            Ok(p) => p,
            Err(ParseErr::Msg(m, usage)) => {
                self.error_io(io, &format!("compgen: {m}"));
                if usage {
                    io.err(COMPGEN_USAGE.as_bytes());
                }
                return 2;
            }
        };
        if !p.any_option {
            return 0;
        }
        let word = p.rest.first().cloned().unwrap_or_default();
        let cs = p.spec;
        let mut out = self.gen_matches(&cs, &word, io);
        if out.is_empty() && cs.options & COPT_DIRNAMES != 0 {
            out = self.filename_matches(&word, true);
        }
        if out.is_empty() && cs.options & COPT_DEFAULT != 0 {
            out = self.filename_matches(&word, false);
        }
        if out.is_empty() {
            return 1;
        }
        let mut text = String::new();
        for m in out {
            text.push_str(&m);
            text.push('\n');
        }
        io.out(text.as_bytes());
        0
    }

    pub(crate) fn b_complete(&mut self, a: &[String], io: &Io) -> i32 {
        let p = match parse_args(a, "complete") {
            Ok(p) => p,
            Err(ParseErr::Msg(m, usage)) => {
                self.error_io(io, &format!("complete: {m}"));
                if usage {
                    io.err(COMPLETE_USAGE.as_bytes());
                }
                return 2;
            }
        };
        let mut names: Vec<String> = p.special.iter().map(|s| s.to_string()).collect();
        names.extend(p.rest.iter().cloned());
        if p.print || (!p.any_option && names.is_empty()) {
            if names.is_empty() {
                let text: String = self
                    .builtins
                    .completions
                    .ordered()
                    .iter()
                    .map(|e| print_spec(&e.name, &e.spec.borrow()))
                    .collect();
                io.out(text.as_bytes());
                return 0;
            }
            let mut st = 0;
            for n in &names {
                match self.builtins.completions.get(n) {
                    Some(cs) => {
                        io.out(print_spec(n, &cs.borrow()).as_bytes());
                    }
                    None => {
                        self.error_io(io, &format!("complete: {n}: no completion specification"));
                        st = 1;
                    }
                }
            }
            return st;
        }
        if p.remove {
            if names.is_empty() {
                self.builtins.completions.entries.clear();
                return 0;
            }
            let mut st = 0;
            for n in &names {
                if !self.builtins.completions.remove(n) {
                    self.error_io(io, &format!("complete: {n}: no completion specification"));
                    st = 1;
                }
            }
            return st;
        }
        if names.is_empty() {
            io.err(COMPLETE_USAGE.as_bytes());
            return 2;
        }
        let spec = Rc::new(RefCell::new(p.spec));
        for n in &names {
            self.builtins.completions.insert(n, spec.clone());
        }
        0
    }

    pub(crate) fn b_compopt(&mut self, a: &[String], io: &Io) -> i32 {
        let p = match parse_args(a, "compopt") {
            Ok(p) => p,
            Err(ParseErr::Msg(m, usage)) => {
                self.error_io(io, &format!("compopt: {m}"));
                if usage {
                    io.err(COMPOPT_USAGE.as_bytes());
                }
                return 2;
            }
        };
        let mut names: Vec<String> = p.special.iter().map(|s| s.to_string()).collect();
        names.extend(p.rest.iter().cloned());
        if names.is_empty() {
            // Only a running completion function has a current completion to change.
            self.error_io(io, "compopt: not currently executing completion function");
            return 1;
        }
        let (on, off) = (p.spec.options, p.off);
        let mut st = 0;
        for n in &names {
            let Some(cs) = self.builtins.completions.get(n) else {
                self.error_io(io, &format!("compopt: {n}: no completion specification"));
                st = 1;
                continue;
            };
            if on == 0 && off == 0 {
                let mut s = String::from("compopt ");
                let opts = cs.borrow().options;
                for (i, o) in COPTS.iter().enumerate() {
                    let sign = if opts & (1 << i) != 0 { '-' } else { '+' };
                    s.push_str(&format!("{sign}o {o} "));
                }
                s.push_str(&display_name(n));
                s.push('\n');
                io.out(s.as_bytes());
            } else {
                let mut c = cs.borrow_mut();
                c.options = (c.options | on) & !off;
            }
        }
        st
    }
}

/// A `-X` pattern with `&` standing for the word being completed (`\&` is a literal `&`).
fn filter_pattern(pat: &str, word: &str) -> String {
    let mut out = String::new();
    let mut it = pat.chars().peekable();
    while let Some(c) = it.next() {
        match c {
            '\\' if it.peek() == Some(&'&') => {
                out.push('&');
                it.next();
            }
            '\\' => {
                out.push('\\');
                if let Some(n) = it.next() {
                    out.push(n);
                }
            }
            '&' => crate::pattern::escape(word, &mut out),
            c => out.push(c),
        }
    }
    out
}

fn db_home(user: &str) -> Option<String> {
    let pw = std::fs::read_to_string("/etc/passwd").ok()?;
    pw.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.len() > 5 && f[0] == user).then(|| f[5].to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wordlist_splits_outside_quotes_and_substitutions() {
        let w = split_wordlist(r#"a 'b c' "d e" f\ g $(echo h i) ${x:- y}"#, " \t\n");
        assert_eq!(
            w,
            vec!["a", "'b c'", "\"d e\"", "f\\ g", "$(echo h i)", "${x:- y}"]
        );
        assert_eq!(split_wordlist("a:b c", ":"), vec!["a", "b c"]);
    }

    #[test]
    fn buckets_follow_bash_hash_order() {
        // bash 5.2 lists -I, x1, -D, y1, -E in this order.
        let names = ["_InitialWorD_", "x1", "_DefaultCmD_", "y1", "_EmptycmD_"];
        let b: Vec<u32> = names.iter().map(|n| hash_bucket(n)).collect();
        assert!(b.windows(2).all(|w| w[0] < w[1]), "{b:?}");
    }

    #[test]
    fn filter_pattern_replaces_ampersand() {
        assert_eq!(filter_pattern("&b*", "some"), "someb*");
        assert_eq!(filter_pattern("\\&*", "x"), "&*");
    }
}
