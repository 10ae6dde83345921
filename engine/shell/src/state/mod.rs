//! The shell's state: variables (scoped for `local`), functions, options, positional
//! parameters, cwd and traps. A subshell or `$(...)` is a clone of this value; the parse caches
//! and the host are shared between clones.

pub mod builtin_state;
pub mod calls;
pub mod completion;
pub mod fds;
pub mod functions;
pub mod getopts;
pub mod hash;
pub mod history;
pub mod interrupts;
pub mod jobs;
pub mod keymap;
pub mod messages;
pub mod process;
pub mod status;
pub mod trace;

use crate::host::Host;
use brush_parser::ast;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::rc::Rc;

/// Deepest function nesting (bash's FUNCNEST caps it lower when set): past it a call fails
/// with "maximum function nesting level exceeded" and the command is aborted, status 1. 1000;
/// bash has no default limit and crashes on unbounded recursion, the guest must not.
pub const MAX_FUNC_DEPTH: u32 = 1000;

/// Deepest nesting of `eval`, `source` and `$( )` evaluation inside each other. Past it the
/// command fails ("maximum eval nesting level exceeded"), status 1. 500: the guest's stacks
/// hold far more, and no real script nests evaluation this deep.
pub const MAX_EVAL_DEPTH: u32 = 500;

/// The file-mode mask a shell starts with (see builtins/umask.rs).
pub const DEFAULT_UMASK: u32 = 0o022;

/// How a script came in, for error messages.
#[derive(Clone, Copy, PartialEq)]
pub enum Source {
    DashC,
    Stdin,
    File,
}

#[derive(Clone, Debug)]
pub enum Value {
    Str(String),
    Arr(BTreeMap<i64, String>),
    Assoc(BTreeMap<String, String>),
}

/// A map keyed by names a script chooses (variables, functions, aliases, cached words):
/// FxHash, because the interpreter looks names up in every expansion and SipHash was the
/// largest item of a CPU loop's profile. A script that crafts colliding names slows only
/// itself, inside its own limits.
pub type Map<K, V> = std::collections::HashMap<K, V, rustc_hash::FxBuildHasher>;
/// A set of such names.
pub type Set<K> = std::collections::HashSet<K, rustc_hash::FxBuildHasher>;

/// The kind a variable was declared as (`declare -a`, `declare -A`), which a later plain
/// assignment keeps: `declare -a x; x=v` makes `x` an indexed array.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Declared {
    #[default]
    Scalar,
    Indexed,
    Assoc,
}

#[derive(Clone, Debug, Default)]
pub struct Var {
    /// `None`: declared (`local x`, `declare -a x`) but unset.
    pub value: Option<Value>,
    pub exported: bool,
    pub readonly: bool,
    pub integer: bool,
    pub upper: bool,
    pub lower: bool,
    /// What `declare -a`/`-A` made it, kept while it is unset.
    pub kind: Declared,
    /// `declare -n`: the value is the name of the variable this one refers to.
    pub nameref: bool,
    /// `declare -t` (shown by `declare -p`; only functions act on it).
    pub trace: bool,
    /// `declare -c`: values are stored with the first letter upper-cased, the rest lower.
    pub capcase: bool,
}

/// Why an assignment or an unset was refused. Displays as bash's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VarError {
    /// `NAME: readonly variable`.
    Readonly(String),
    /// `NAME: bad array subscript`; the name as bash shows it, subscript included when
    /// there is one.
    BadSubscript(String),
    /// `warning: NAME: circular name reference` (a nameref that resolves to itself).
    CircularRef(String),
}

impl std::fmt::Display for VarError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VarError::Readonly(name) => write!(f, "{name}: readonly variable"),
            VarError::BadSubscript(name) => write!(f, "{name}: bad array subscript"),
            VarError::CircularRef(name) => write!(f, "warning: {name}: circular name reference"),
        }
    }
}

impl std::error::Error for VarError {}

/// Non-local control flow out of a command.
#[derive(Debug)]
pub enum Flow {
    Break(u32),
    Continue(u32),
    Return(i32),
    /// The shell exits with this status.
    Exit(i32),
    /// An expansion error: abandon the current top-level command with this status.
    Abort(i32),
}

pub type R<T> = Result<T, Flow>;

#[derive(Clone, Default)]
pub struct Opts {
    pub errexit: bool,
    pub nounset: bool,
    pub pipefail: bool,
    pub xtrace: bool,
    pub noglob: bool,
    pub noclobber: bool,
    pub allexport: bool,
    pub noexec: bool,
    pub verbose: bool,
    pub nullglob: bool,
    pub failglob: bool,
    pub extglob: bool,
    pub dotglob: bool,
    pub nocaseglob: bool,
    pub nocasematch: bool,
    pub lastpipe: bool,
    pub expand_aliases: bool,
    pub globstar: bool,
    pub xpg_echo: bool,
    pub inherit_errexit: bool,
    /// `set +B`: brace expansion turned off (bash's default is on).
    pub no_braceexpand: bool,
    /// Recognised `shopt` options that change nothing here, with their state.
    pub other_shopts: std::collections::BTreeMap<&'static str, bool>,
    /// The last letter of `$-`: `c` under -c, `s` when the script is read from stdin.
    pub invocation_flag: Option<char>,
    /// `local -` in a function: the options to restore when the function at this depth
    /// returns.
    pub saved_by_local: Vec<(u32, Box<Opts>)>,
}

/// Caches shared by the shell and all its subshells.
#[derive(Default)]
pub struct Caches {
    pub words: Map<String, Rc<Vec<brush_parser::word::WordPieceWithSource>>>,
    pub arith: Map<String, Rc<ast::ArithmeticExpr>>,
    pub patterns: Map<(String, bool), Option<Rc<regex::Regex>>>,
    pub regexes: Map<String, Option<Rc<regex::Regex>>>,
    /// Signals a subshell sent to the top-level shell (`kill -s SIG $$`), not yet handled.
    pub pending_signals: Vec<u32>,
    /// Subshells started so far, to give each its own BASHPID.
    pub subshells: u32,
}

/// Where the external command that is a whole pipeline stage may stream its output instead
/// of filling the stage's buffer (see `run_pipeline`).
#[derive(Clone)]
pub struct StageSlot {
    pub buf: Rc<RefCell<Vec<u8>>>,
    pub running: Rc<RefCell<Option<Rc<dyn crate::host::Running>>>>,
    /// Only the stage's own command streams, not one inside a function it calls.
    pub func_depth: u32,
}

pub use calls::Frame;

#[derive(Clone)]
pub struct Shell {
    /// What builtins keep between calls: aliases, hash table, directory stack, completion specs, history, key map.
    pub builtins: builtin_state::BuiltinState,
    /// The shell's own fds: where its messages go, exec's changes, the running stage.
    pub fds: fds::Fds,
    /// The last statuses, $_, and an exit still to honour.
    pub status: status::Status,
    /// Functions: definitions, where each was defined, `readonly -f` and `export -f`.
    pub functions: functions::Functions,
    /// How the shell's own error messages start, and the status of a fatal one.
    pub messages: messages::Messages,
    /// Function and `source` frames, loop depth, and what the running code came from.
    pub calls: calls::Calls,
    /// The line being run (LINENO) and the offset its text's lines count from.
    pub lines: calls::Lines,
    /// What this shell is as a process: ids, start time, random state, umask, limits.
    pub process: process::Process,
    /// `getopts`' position inside a word and the OPTIND it last set.
    pub getopts: getopts::Getopts,
    pub scopes: Vec<Map<String, Var>>,
    pub positional: Vec<String>,
    pub arg0: String,
    pub cwd: PathBuf,
    pub opts: Opts,
    pub traps: Map<String, String>,
    /// >0 while evaluating a condition, where `set -e` does not apply.
    pub cond_depth: u32,
    pub host: Rc<dyn Host>,
    pub caches: Rc<RefCell<Caches>>,
    /// What arithmetic error messages start with: `((: ` or `let: ` inside those commands.
    pub arith_cmd: &'static str,
    /// Background jobs: finished ones `wait` has not collected, how many started, `$!`.
    pub jobs: jobs::Jobs,
    /// DEBUG/RETURN/ERR trap bookkeeping (see trace.rs).
    pub trace: trace::TraceState,
    /// Ctrl-C: whether this shell looks for it (interactive on a terminal only; every command
    /// and loop turn then stops at once with 130 until the prompt, in subshells too).
    pub interrupts: interrupts::Interrupts,
    /// Whether any nameref was ever declared (skips resolution otherwise).
    pub has_namerefs: bool,
    /// The subshell level that set the EXIT trap (inherited traps show but do not run).
    pub exit_trap_level: u32,
}

impl Shell {
    pub fn new(host: Rc<dyn Host>, cwd: PathBuf, env: &[(String, String)]) -> Shell {
        let pid = pid();
        let mut s = Shell {
            builtins: Default::default(),
            fds: Default::default(),
            status: Default::default(),
            functions: Default::default(),
            messages: Default::default(),
            calls: Default::default(),
            lines: Default::default(),
            process: process::Process::new(pid),
            getopts: Default::default(),
            scopes: vec![Map::default()],
            positional: Vec::new(),
            arg0: "bash".into(),
            cwd: cwd.clone(),
            opts: Opts {
                expand_aliases: false,
                extglob: false,
                ..Opts::default()
            },
            traps: Map::default(),
            cond_depth: 0,
            host,
            caches: Rc::new(RefCell::new(Caches::default())),
            arith_cmd: "",
            jobs: jobs::Jobs::default(),
            trace: Default::default(),
            interrupts: Default::default(),
            has_namerefs: false,
            exit_trap_level: 0,
        };
        for (k, v) in env {
            if valid_name(k) {
                s.scopes[0].insert(
                    k.clone(),
                    Var {
                        value: Some(Value::Str(v.clone())),
                        exported: true,
                        ..Var::default()
                    },
                );
            }
        }
        // Each shell is one level deeper than the one that started it.
        let level = s
            .lookup("SHLVL")
            .and_then(|v| match &v.value {
                Some(Value::Str(x)) => x.trim().parse::<i64>().ok(),
                _ => None,
            })
            .unwrap_or(0)
            .saturating_add(1)
            .max(0);
        let _ = s.set_var("SHLVL", level.to_string());
        s.export("SHLVL");
        s.import_functions(env);
        let cwd_s = cwd.to_string_lossy().into_owned();
        let _ = s.set_var("PWD", cwd_s);
        s.export("PWD");
        // bash keeps an inherited OLDPWD only if it names a directory (it stays exported).
        if let Some(v) = s.get("OLDPWD") {
            if !std::path::Path::new(&v).is_dir() {
                if let Some(var) = s.scopes.first_mut().and_then(|g| g.get_mut("OLDPWD")) {
                    var.value = None;
                }
            }
        } else if s.lookup("OLDPWD").is_none() {
            // Without one, bash starts with OLDPWD exported but without a value.
            s.export("OLDPWD");
        }
        for (k, v) in [
            ("IFS", " \t\n"),
            ("OPTIND", "1"),
            ("PS4", "+ "),
            ("BASH_VERSION", "5.2.15(1)-release"),
            ("HOSTTYPE", "wasm32"),
            ("OSTYPE", "linux-gnu"),
            ("MACHTYPE", "wasm32-unknown-wasi"),
            ("OPTERR", "1"),
            ("SHELL", "/bin/bash"),
            ("BASH", "/bin/bash"),
            ("COMP_WORDBREAKS", " \t\n\"'@><=;|&(:"),
        ] {
            if s.lookup(k).is_none() {
                let _ = s.set_var(k, v.to_string());
            }
        }
        if let Some((uid, euid)) = process_ids() {
            for (k, v) in [("UID", uid), ("EUID", euid)] {
                s.scopes[0].insert(
                    k.into(),
                    Var {
                        value: Some(Value::Str(v.to_string())),
                        readonly: true,
                        ..Var::default()
                    },
                );
            }
        }
        let ver: BTreeMap<i64, String> = ["5", "2", "15", "1", "release", "wasm32-unknown-wasi"]
            .iter()
            .enumerate()
            .map(|(i, v)| (i as i64, v.to_string()))
            .collect();
        s.scopes[0].insert(
            "BASH_VERSINFO".into(),
            Var {
                value: Some(Value::Arr(ver)),
                readonly: true,
                ..Var::default()
            },
        );
        s.init_well_known();
        s
    }

    /// Follows namerefs to the variable a name finally designates.
    pub fn resolve<'a>(&self, name: &'a str) -> std::borrow::Cow<'a, str> {
        use std::borrow::Cow;
        if !self.has_namerefs || !self.lookup(name).is_some_and(|v| v.nameref) {
            return Cow::Borrowed(name);
        }
        let mut n = name.to_string();
        // bash follows at most 8 references (NAMEREF_MAX).
        for level in 0..=8 {
            match self.lookup(&n) {
                Some(v) if v.nameref && level == 8 => break,
                Some(v) if v.nameref => match &v.value {
                    Some(Value::Str(t)) if !t.is_empty() => n = t.clone(),
                    _ => return Cow::Owned(n),
                },
                _ => return Cow::Owned(n),
            }
        }
        // A circular reference designates nothing.
        Cow::Owned(String::from("\u{0}circular"))
    }

    pub fn lookup(&self, name: &str) -> Option<&Var> {
        self.scopes.iter().rev().find_map(|m| m.get(name))
    }

    pub fn lookup_mut(&mut self, name: &str) -> Option<&mut Var> {
        self.scopes.iter_mut().rev().find_map(|m| m.get_mut(name))
    }

    /// Scalar value of a variable (element 0 of an array), with the dynamic variables.
    pub fn get(&mut self, name: &str) -> Option<String> {
        let resolved0 = self.resolve(name);
        if resolved0.starts_with('\u{0}') {
            self.error(&format!("warning: {name}: circular name reference"));
            return None;
        }
        let name: &str = &resolved0;
        // Every dynamic variable's name starts with a capital or `_`: a loop's `i` or `s`
        // skips the string comparisons below.
        let dynamic = name
            .as_bytes()
            .first()
            .is_some_and(|b| b.is_ascii_uppercase() || *b == b'_');
        match name {
            _ if !dynamic => {}
            "RANDOM" => {
                self.process.rng ^= self.process.rng << 13;
                self.process.rng ^= self.process.rng >> 17;
                self.process.rng ^= self.process.rng << 5;
                return Some(((self.process.rng >> 8) & 0x7fff).to_string());
            }
            "SECONDS" => {
                return Some(
                    (self.process.start.elapsed().as_secs() as i64 + self.process.seconds_base)
                        .to_string(),
                )
            }
            "LINENO" => return Some(self.lines.lineno.to_string()),
            "HISTCMD" => return Some(self.histcmd()),
            "_" => return Some(self.status.last_arg.clone()),
            "BASH_COMMAND" => return Some(self.status.bash_command.clone()),
            "BASH_SUBSHELL" => return Some(self.process.subshell.to_string()),
            "SRANDOM" => {
                self.process.rng ^= self.process.rng << 13;
                self.process.rng ^= self.process.rng >> 17;
                self.process.rng ^= self.process.rng << 5;
                return Some(self.process.rng.to_string());
            }
            "SHELLOPTS" => return Some(self.shellopts()),
            "BASH_ARGV0" => return Some(self.arg0.clone()),
            "BASHOPTS" => return Some(self.bashopts()),
            "BASHPID" => return Some(self.trace.bashpid.unwrap_or(self.process.pid).to_string()),
            "EPOCHSECONDS" => {
                return Some(
                    std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map(|d| d.as_secs())
                        .unwrap_or(0)
                        .to_string(),
                )
            }
            "PIPESTATUS" => return self.status.pipestatus.first().map(|v| v.to_string()),
            // Outside any function (even in a sourced file) FUNCNAME is unset.
            "FUNCNAME" if self.calls.func_depth == 0 => return None,
            "FUNCNAME" => return self.calls.frames.last().map(|f| f.name.clone()),
            "BASH_ARGV" | "BASH_ARGC" if self.lookup(name).is_none() => {
                return self
                    .bash_argv(name == "BASH_ARGC")
                    .into_iter()
                    .next()
                    .map(|(_, v)| v)
            }
            "BASH_SOURCE" => {
                return self.calls.frames.last().map(|f| f.src.clone()).or_else(|| {
                    (self.calls.cur_source != "main").then(|| self.calls.cur_source.clone())
                })
            }
            _ => {}
        }
        let resolved = self.resolve(name);
        if resolved.ends_with(']') {
            if let Some((n, idx)) = resolved.split_once('[') {
                let idx = &idx[..idx.len() - 1];
                return self.elem_by_text(n, idx);
            }
        }
        match self.lookup(&resolved)?.value.as_ref()? {
            Value::Str(s) => Some(s.clone()),
            Value::Arr(a) => a.get(&0).cloned(),
            Value::Assoc(a) => a.get("0").cloned(),
        }
    }

    /// `a[idx]` with a textual index (assoc key, or a number for indexed arrays).
    pub fn elem_by_text(&self, n: &str, idx: &str) -> Option<String> {
        let arr = self.get_array(n)?;
        if idx == "@" || idx == "*" {
            return Some(
                arr.into_iter()
                    .map(|(_, v)| v)
                    .collect::<Vec<_>>()
                    .join(" "),
            );
        }
        let key = if self.is_assoc(n) {
            idx.to_string()
        } else {
            let i: i64 = idx.trim().parse().ok()?;
            if i < 0 {
                let max = arr
                    .last()
                    .and_then(|(k, _)| k.parse::<i64>().ok())
                    .unwrap_or(-1);
                (max + 1 + i).to_string()
            } else {
                i.to_string()
            }
        };
        arr.into_iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    pub fn is_set(&self, name: &str) -> bool {
        let resolved = self.resolve(name);
        let name: &str = &resolved;
        matches!(
            name,
            "RANDOM" | "SECONDS" | "LINENO" | "BASHPID" | "EPOCHSECONDS" | "PIPESTATUS"
        ) || self.lookup(name).is_some_and(|v| v.value.is_some())
            || (name == "FUNCNAME" && self.calls.func_depth > 0)
    }

    /// All values of a variable as a list (for `${a[@]}`); keys too.
    pub fn get_array(&self, name: &str) -> Option<Vec<(String, String)>> {
        let resolved = self.resolve(name);
        let name: &str = &resolved;
        if name == "PIPESTATUS" {
            return Some(
                self.status
                    .pipestatus
                    .iter()
                    .enumerate()
                    .map(|(i, v)| (i.to_string(), v.to_string()))
                    .collect(),
            );
        }
        if name == "BASH_ARGV" || name == "BASH_ARGC" {
            return Some(self.bash_argv(name == "BASH_ARGC"));
        }
        if name == "BASH_ALIASES" && self.lookup(name).is_none() {
            let m: BTreeMap<String, String> = self
                .builtins
                .aliases
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            return Some(
                assoc_order(&m)
                    .into_iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            );
        }
        if name == "FUNCNAME" || name == "BASH_SOURCE" || name == "BASH_LINENO" {
            let mut v: Vec<String> = self
                .calls
                .frames
                .iter()
                .rev()
                .map(|f| match name {
                    "FUNCNAME" => f.name.clone(),
                    "BASH_SOURCE" => f.src.clone(),
                    _ => f.call_line.to_string(),
                })
                .collect();
            let add_main = (self.calls.script_mode
                || (name == "BASH_SOURCE"
                    && self.calls.frames.is_empty()
                    && self.calls.cur_source != "main"))
                && !(name == "FUNCNAME" && self.calls.frames.is_empty());
            if add_main {
                v.push(match name {
                    "FUNCNAME" => "main".into(),
                    "BASH_SOURCE" => self.arg0.clone(),
                    _ => "0".into(),
                });
            }
            if name == "FUNCNAME" && self.calls.func_depth == 0 {
                return None;
            }
            return Some(
                v.into_iter()
                    .enumerate()
                    .map(|(i, v)| (i.to_string(), v))
                    .collect(),
            );
        }
        match self.lookup(name)?.value.as_ref()? {
            Value::Str(s) => Some(vec![("0".into(), s.clone())]),
            Value::Arr(a) => Some(a.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()),
            Value::Assoc(a) => Some(
                assoc_order(a)
                    .into_iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            ),
        }
    }

    pub fn is_assoc(&self, name: &str) -> bool {
        let resolved = self.resolve(name);
        let name: &str = &resolved;
        self.lookup(name)
            .is_some_and(|v| matches!(v.value, Some(Value::Assoc(_))) || v.kind == Declared::Assoc)
    }

    fn target_mut(&mut self, name: &str) -> &mut Var {
        let idx = self
            .scopes
            .iter()
            .rposition(|m| m.contains_key(name))
            .unwrap_or(0);
        self.scopes[idx].entry(name.to_string()).or_default()
    }

    fn check_ro(&self, name: &str) -> Result<(), VarError> {
        if self.lookup(name).is_some_and(|v| v.readonly) {
            return Err(VarError::Readonly(name.to_string()));
        }
        Ok(())
    }

    fn transform(v: &Var, mut s: String) -> String {
        if v.upper {
            s = s.to_uppercase();
        } else if v.lower {
            s = s.to_lowercase();
        } else if v.capcase {
            let mut c = s.chars();
            s = match c.next() {
                Some(f) => f
                    .to_uppercase()
                    .chain(c.flat_map(char::to_lowercase))
                    .collect(),
                None => s,
            };
        }
        s
    }

    /// Sets a scalar (element 0 of an existing array).
    pub fn set_var(&mut self, name: &str, val: String) -> Result<(), VarError> {
        let orig = name;
        let resolved = self.resolve(name);
        let name: &str = &resolved;
        if name.ends_with(']') {
            if let Some((n, idx)) = name.split_once('[') {
                let idx = &idx[..idx.len() - 1];
                if idx == "@" || idx == "*" {
                    return Err(VarError::BadSubscript(name.to_string()));
                }
                let key = if self.is_assoc(n) {
                    ElemKey::Str(idx.to_string())
                } else {
                    ElemKey::Idx(idx.trim().parse().unwrap_or(0))
                };
                let n = n.to_string();
                return self.set_elem(&n, key, val);
            }
        }
        if name.starts_with('\u{0}') {
            return Err(VarError::CircularRef(orig.to_string()));
        }
        self.check_ro(name)?;
        if name == "_" {
            self.status.last_arg.clone_from(&val);
        }
        if name == "SECONDS" {
            self.process.seconds_base =
                val.parse::<i64>().unwrap_or(0) - self.process.start.elapsed().as_secs() as i64;
        }
        if name == "RANDOM" {
            self.process.rng = val.parse::<u32>().unwrap_or(0).wrapping_add(1);
            return Ok(());
        }
        if name == "BASH_XTRACEFD" {
            self.check_xtracefd(&val);
        }
        let allexport = self.opts.allexport;
        let v = self.target_mut(name);
        let val = Self::transform(v, val);
        match &mut v.value {
            Some(Value::Arr(a)) => {
                a.insert(0, val);
            }
            Some(Value::Assoc(a)) => {
                a.insert("0".into(), val);
            }
            // A declared but unset array takes the value as its element 0.
            None if v.kind == Declared::Indexed => {
                v.value = Some(Value::Arr([(0, val)].into_iter().collect()))
            }
            None if v.kind == Declared::Assoc => {
                v.value = Some(Value::Assoc([("0".to_string(), val)].into_iter().collect()))
            }
            _ => v.value = Some(Value::Str(val)),
        }
        if allexport {
            v.exported = true;
        }
        Ok(())
    }

    pub fn set_value(&mut self, name: &str, val: Value) -> Result<(), VarError> {
        let resolved = self.resolve(name);
        let name: &str = &resolved;
        self.check_ro(name)?;
        let v = self.target_mut(name);
        let val = match val {
            Value::Str(s) => Value::Str(Self::transform(v, s)),
            Value::Arr(m) => Value::Arr(
                m.into_iter()
                    .map(|(k, x)| (k, Self::transform(v, x)))
                    .collect(),
            ),
            Value::Assoc(m) => Value::Assoc(
                m.into_iter()
                    .map(|(k, x)| (k, Self::transform(v, x)))
                    .collect(),
            ),
        };
        v.value = Some(val);
        Ok(())
    }

    pub fn set_elem(&mut self, name: &str, key: ElemKey, val: String) -> Result<(), VarError> {
        let resolved = self.resolve(name);
        let name: &str = &resolved;
        self.check_ro(name)?;
        let v = self.target_mut(name);
        let val = Self::transform(v, val);
        match (&mut v.value, key) {
            (Some(Value::Assoc(a)), ElemKey::Str(k)) => {
                a.insert(k, val);
            }
            (Some(Value::Assoc(a)), ElemKey::Idx(k)) => {
                a.insert(k.to_string(), val);
            }
            (Some(Value::Arr(a)), ElemKey::Idx(i)) => {
                let k = if i < 0 {
                    a.keys().next_back().map(|m| m + 1).unwrap_or(0) + i
                } else {
                    i
                };
                if k < 0 {
                    return Err(VarError::BadSubscript(format!("{name}[{i}]")));
                }
                a.insert(k, val);
            }
            (val_slot, key) => {
                let mut a = BTreeMap::new();
                if let Some(Value::Str(s)) = val_slot.take() {
                    a.insert(0, s);
                }
                if v.kind == Declared::Assoc {
                    let mut m = BTreeMap::new();
                    for (k, x) in a {
                        m.insert(k.to_string(), x);
                    }
                    m.insert(
                        match key {
                            ElemKey::Str(s) => s,
                            ElemKey::Idx(i) => i.to_string(),
                        },
                        val,
                    );
                    *val_slot = Some(Value::Assoc(m));
                } else {
                    let i = match key {
                        ElemKey::Idx(i) => i,
                        ElemKey::Str(s) => s.parse().unwrap_or(0),
                    };
                    a.insert(i, val);
                    *val_slot = Some(Value::Arr(a));
                }
            }
        }
        Ok(())
    }

    pub fn export(&mut self, name: &str) {
        let resolved = self.resolve(name);
        let name: &str = &resolved;
        self.target_mut(name).exported = true;
    }

    /// `unset -n`: the nameref itself.
    pub fn unset_ref(&mut self, name: &str) -> Result<(), VarError> {
        let saved = self.has_namerefs;
        self.has_namerefs = false;
        let r = self.unset(name);
        self.has_namerefs = saved;
        r
    }

    pub fn unset(&mut self, name: &str) -> Result<(), VarError> {
        let resolved = self.resolve(name);
        let name: &str = &resolved;
        self.check_ro(name)?;
        if let Some(idx) = self.scopes.iter().rposition(|m| m.contains_key(name)) {
            if idx > 0 && idx == self.scopes.len() - 1 && self.calls.func_depth > 0 {
                // unset of a local keeps it local but unset, without attributes
                // (bash's dynamic scoping).
                if let Some(v) = self.scopes[idx].get_mut(name) {
                    *v = Var::default();
                }
            } else {
                self.scopes[idx].remove(name);
            }
        }
        Ok(())
    }

    /// Exported variables, in name order.
    pub fn env(&self) -> Vec<(String, String)> {
        let mut m: BTreeMap<&str, Option<String>> = BTreeMap::new();
        for scope in &self.scopes {
            for (k, v) in scope {
                let val = if v.exported {
                    match &v.value {
                        Some(Value::Str(s)) => Some(s.clone()),
                        _ => None,
                    }
                } else {
                    None
                };
                m.insert(k.as_str(), val);
            }
        }
        let mut env: Vec<(String, String)> = m
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (k.to_string(), v)))
            .collect();
        self.export_functions(&mut env);
        env
    }

    /// The prefix for an error message about the current line.
    pub fn err_prefix(&self) -> String {
        // bash names the file the running code came from (BASH_SOURCE[0]):
        // inside a function defined in a script read from stdin that is `main`.
        let name = match self.calls.frames.last() {
            Some(f) if !f.src.is_empty() => f.src.as_str(),
            _ => self.messages.err_name.as_str(),
        };
        if self.messages.err_lines {
            format!("{name}: line {}: ", self.lines.lineno)
        } else {
            format!("{}: ", self.messages.err_name)
        }
    }
}

pub enum ElemKey {
    Idx(i64),
    Str(String),
}

/// The real and effective user ids, where the platform can tell them
/// (Linux: the `Uid:` line of /proc/self/status; a WASI guest has none).
fn process_ids() -> Option<(u32, u32)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("Uid:"))?;
    let mut it = line["Uid:".len()..].split_whitespace();
    let uid = it.next()?.parse().ok()?;
    let euid = it.next()?.parse().ok()?;
    Some((uid, euid))
}

/// The entries of an associative array in the order bash lists them: by bucket of its
/// 1024-bucket FNV-1 hash table (entries sharing a bucket keep key order here).
pub fn assoc_order(m: &BTreeMap<String, String>) -> Vec<(&String, &String)> {
    let bucket = |k: &str| {
        let mut h: u32 = 2166136261;
        for b in k.bytes() {
            h = h.wrapping_mul(16777619) ^ u32::from(b);
        }
        h & 1023
    };
    let mut v: Vec<(&String, &String)> = m.iter().collect();
    v.sort_by_key(|(k, _)| bucket(k));
    v
}

pub fn valid_name(s: &str) -> bool {
    let mut c = s.chars();
    matches!(c.next(), Some(ch) if ch == '_' || ch.is_ascii_alphabetic())
        && c.all(|ch| ch == '_' || ch.is_ascii_alphanumeric())
}

#[cfg(not(target_os = "wasi"))]
fn pid() -> u32 {
    std::process::id()
}
#[cfg(target_os = "wasi")]
fn pid() -> u32 {
    42
}
