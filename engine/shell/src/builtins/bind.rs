//! `bind` as a non-interactive bash has it: readline is not reading lines, but the builtin
//! still edits and shows readline's emacs key map (and warns that line editing is off). The
//! map starts as readline's defaults, then the inputrc file is applied, as readline does.

use crate::io::Io;
use crate::state::Shell;
use std::collections::BTreeMap;

/// readline's default emacs bindings, one `"keyseq": function` a line.
const DEFAULTS: &str = include_str!("bind_defaults.txt");

/// What a key sequence runs.
#[derive(Clone, Debug, PartialEq)]
enum Binding {
    Func(String),
    Macro(Vec<u8>),
    Shell(String),
}

/// The key map (filled on first use: most scripts never call `bind`).
#[derive(Clone, Default)]
pub struct KeyMap {
    loaded: bool,
    keys: BTreeMap<Vec<u8>, Binding>,
}

/// readline's bindable function names, sorted (`bind -l`).
pub(crate) const FUNCTIONS: &[&str] = &[
    "abort",
    "accept-line",
    "alias-expand-line",
    "arrow-key-prefix",
    "backward-byte",
    "backward-char",
    "backward-delete-char",
    "backward-kill-line",
    "backward-kill-word",
    "backward-word",
    "beginning-of-history",
    "beginning-of-line",
    "bracketed-paste-begin",
    "call-last-kbd-macro",
    "capitalize-word",
    "character-search",
    "character-search-backward",
    "clear-display",
    "clear-screen",
    "complete",
    "complete-command",
    "complete-filename",
    "complete-hostname",
    "complete-into-braces",
    "complete-username",
    "complete-variable",
    "copy-backward-word",
    "copy-forward-word",
    "copy-region-as-kill",
    "dabbrev-expand",
    "delete-char",
    "delete-char-or-list",
    "delete-horizontal-space",
    "digit-argument",
    "display-shell-version",
    "do-lowercase-version",
    "downcase-word",
    "dump-functions",
    "dump-macros",
    "dump-variables",
    "dynamic-complete-history",
    "edit-and-execute-command",
    "emacs-editing-mode",
    "end-kbd-macro",
    "end-of-history",
    "end-of-line",
    "exchange-point-and-mark",
    "fetch-history",
    "forward-backward-delete-char",
    "forward-byte",
    "forward-char",
    "forward-search-history",
    "forward-word",
    "glob-complete-word",
    "glob-expand-word",
    "glob-list-expansions",
    "history-and-alias-expand-line",
    "history-expand-line",
    "history-search-backward",
    "history-search-forward",
    "history-substring-search-backward",
    "history-substring-search-forward",
    "insert-comment",
    "insert-completions",
    "insert-last-argument",
    "kill-line",
    "kill-region",
    "kill-whole-line",
    "kill-word",
    "magic-space",
    "menu-complete",
    "menu-complete-backward",
    "next-history",
    "next-screen-line",
    "non-incremental-forward-search-history",
    "non-incremental-forward-search-history-again",
    "non-incremental-reverse-search-history",
    "non-incremental-reverse-search-history-again",
    "old-menu-complete",
    "operate-and-get-next",
    "overwrite-mode",
    "possible-command-completions",
    "possible-completions",
    "possible-filename-completions",
    "possible-hostname-completions",
    "possible-username-completions",
    "possible-variable-completions",
    "previous-history",
    "previous-screen-line",
    "print-last-kbd-macro",
    "quoted-insert",
    "re-read-init-file",
    "redraw-current-line",
    "reverse-search-history",
    "revert-line",
    "self-insert",
    "set-mark",
    "shell-backward-kill-word",
    "shell-backward-word",
    "shell-expand-line",
    "shell-forward-word",
    "shell-kill-word",
    "shell-transpose-words",
    "skip-csi-sequence",
    "spell-correct-word",
    "start-kbd-macro",
    "tab-insert",
    "tilde-expand",
    "transpose-chars",
    "transpose-words",
    "tty-status",
    "undo",
    "universal-argument",
    "unix-filename-rubout",
    "unix-line-discard",
    "unix-word-rubout",
    "upcase-word",
    "vi-append-eol",
    "vi-append-mode",
    "vi-arg-digit",
    "vi-bWord",
    "vi-back-to-indent",
    "vi-backward-bigword",
    "vi-backward-word",
    "vi-bword",
    "vi-change-case",
    "vi-change-char",
    "vi-change-to",
    "vi-char-search",
    "vi-column",
    "vi-complete",
    "vi-delete",
    "vi-delete-to",
    "vi-eWord",
    "vi-edit-and-execute-command",
    "vi-editing-mode",
    "vi-end-bigword",
    "vi-end-word",
    "vi-eof-maybe",
    "vi-eword",
    "vi-fWord",
    "vi-fetch-history",
    "vi-first-print",
    "vi-forward-bigword",
    "vi-forward-word",
    "vi-fword",
    "vi-goto-mark",
    "vi-insert-beg",
    "vi-insertion-mode",
    "vi-match",
    "vi-movement-mode",
    "vi-next-word",
    "vi-overstrike",
    "vi-overstrike-delete",
    "vi-prev-word",
    "vi-put",
    "vi-redo",
    "vi-replace",
    "vi-rubout",
    "vi-search",
    "vi-search-again",
    "vi-set-mark",
    "vi-subst",
    "vi-tilde-expand",
    "vi-undo",
    "vi-unix-word-rubout",
    "vi-yank-arg",
    "vi-yank-pop",
    "vi-yank-to",
    "yank",
    "yank-last-arg",
    "yank-nth-arg",
    "yank-pop",
];

/// Decodes readline's key-sequence notation (`\C-x`, `\M-x`, `\e`, octal, ...) to bytes.
fn translate(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        i += 1;
        if c != b'\\' || i >= b.len() {
            out.push(c);
            continue;
        }
        let n = b[i];
        i += 1;
        match n {
            b'C' | b'M' if b.get(i) == Some(&b'-') => {
                i += 1;
                // The key itself may be written with an escape too (`\C-\\`, `\M-\C-x`).
                let (mut k, ctrl_inner) = if b.get(i) == Some(&b'\\')
                    && b.get(i + 1) == Some(&b'C')
                    && b.get(i + 2) == Some(&b'-')
                    && n == b'M'
                {
                    i += 3;
                    (b.get(i).copied().unwrap_or(b'@'), true)
                } else if b.get(i) == Some(&b'\\') {
                    i += 1;
                    let k = match b.get(i) {
                        Some(b'e') => 0x1b,
                        Some(&x) => x,
                        None => b'\\',
                    };
                    (k, false)
                } else {
                    (b.get(i).copied().unwrap_or(b'@'), false)
                };
                i += 1;
                if n == b'C' || ctrl_inner {
                    k = if k == b'?' {
                        0x7f
                    } else {
                        k.to_ascii_uppercase() & 0x1f
                    };
                }
                if n == b'M' {
                    out.push(0x1b);
                }
                out.push(k);
            }
            b'e' | b'E' => out.push(0x1b),
            b'a' => out.push(7),
            b'b' => out.push(8),
            b'd' => out.push(0x7f),
            b'f' => out.push(12),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'v' => out.push(11),
            b'0'..=b'7' => {
                let mut v = u32::from(n - b'0');
                let mut k = 1;
                while k < 3 && i < b.len() && (b'0'..=b'7').contains(&b[i]) {
                    v = v * 8 + u32::from(b[i] - b'0');
                    i += 1;
                    k += 1;
                }
                out.push((v & 0xff) as u8);
            }
            b'x' => {
                let mut v = 0u32;
                let mut k = 0;
                while k < 2 && i < b.len() && b[i].is_ascii_hexdigit() {
                    v = v * 16 + (b[i] as char).to_digit(16).unwrap_or(0);
                    i += 1;
                    k += 1;
                }
                out.push(v as u8);
            }
            x => out.push(x),
        }
    }
    out
}

/// Encodes bytes back into readline's notation, as `bind -p` shows keys and macros.
fn untranslate(b: &[u8]) -> String {
    let mut s = String::new();
    for &c in b {
        match c {
            0x1b => s.push_str("\\e"),
            0x7f => s.push_str("\\C-?"),
            c if c < 0x20 => {
                s.push_str("\\C-");
                let k = ((c | 0x40) as char).to_ascii_lowercase();
                if k == '\\' {
                    s.push('\\');
                }
                s.push(k);
            }
            b'\\' | b'"' => {
                s.push('\\');
                s.push(c as char);
            }
            c if c >= 0x80 => s.push_str(&format!("\\{c:03o}")),
            c => s.push(c as char),
        }
    }
    s
}

/// Splits an inputrc binding line into the key part and the value part.
fn split_binding(line: &str) -> Option<(Vec<u8>, String)> {
    let line = line.trim_start();
    if let Some(rest) = line.strip_prefix('"') {
        // The quoted key sequence ends at the first unescaped quote.
        let b = rest.as_bytes();
        let mut i = 0;
        while i < b.len() && b[i] != b'"' {
            if b[i] == b'\\' {
                i += 1;
            }
            i += 1;
        }
        let key = translate(rest.get(..i.min(rest.len()))?);
        let after = rest.get(i + 1..)?.trim_start();
        let value = after.strip_prefix(':')?.trim();
        return Some((key, value.to_string()));
    }
    // `Control-x: function` style names.
    let (name, value) = line.split_once(':')?;
    let mut key = Vec::new();
    let mut k = name.trim();
    let mut ctrl = false;
    let mut meta = false;
    loop {
        let lower = k.to_ascii_lowercase();
        if let Some(r) = ["control-", "c-"]
            .iter()
            .find_map(|p| lower.strip_prefix(p).map(|_| p.len()))
        {
            ctrl = true;
            k = &k[r..];
        } else if let Some(r) = ["meta-", "m-"]
            .iter()
            .find_map(|p| lower.strip_prefix(p).map(|_| p.len()))
        {
            meta = true;
            k = &k[r..];
        } else {
            break;
        }
    }
    let base = match k.to_ascii_lowercase().as_str() {
        "rubout" | "del" => 0x7f,
        "escape" | "esc" => 0x1b,
        "lfd" | "newline" => b'\n',
        "ret" | "return" => b'\r',
        "space" | "spc" => b' ',
        "tab" => b'\t',
        _ => *k.as_bytes().first()?,
    };
    if meta {
        key.push(0x1b);
    }
    key.push(if ctrl {
        base.to_ascii_uppercase() & 0x1f
    } else {
        base
    });
    Some((key, value.trim().to_string()))
}

fn parse_value(v: &str) -> Binding {
    if let Some(m) = v.strip_prefix(['"', '\'']) {
        let m = m.strip_suffix(['"', '\'']).unwrap_or(m);
        Binding::Macro(translate(m))
    } else {
        Binding::Func(v.split_whitespace().next().unwrap_or("").to_string())
    }
}

impl KeyMap {
    fn apply_line(&mut self, line: &str) -> bool {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') || t.starts_with("set ") {
            return true;
        }
        match split_binding(t) {
            Some((key, v)) if !key.is_empty() => {
                match parse_value(&v) {
                    Binding::Func(f) if f.is_empty() => return false,
                    b => {
                        self.keys.insert(key, b);
                    }
                }
                true
            }
            _ => false,
        }
    }

    /// Applies an inputrc text: its `$if mode=emacs` and `$if term=` parts as readline would.
    fn apply_inputrc(&mut self, text: &str, term: &str) {
        // Each level: whether lines at it apply.
        let mut stack: Vec<bool> = Vec::new();
        for line in text.lines() {
            let t = line.trim();
            if let Some(cond) = t.strip_prefix("$if") {
                let cond = cond.trim();
                let ok = if let Some(m) = cond.strip_prefix("mode=") {
                    m == "emacs"
                } else if let Some(tm) = cond.strip_prefix("term=") {
                    !term.is_empty() && (term == tm || term.split('-').next() == Some(tm))
                } else {
                    // Application names: this is bash.
                    cond == "Bash" || cond == "bash"
                };
                let outer = stack.last().copied().unwrap_or(true);
                stack.push(outer && ok);
                continue;
            }
            if t.starts_with("$else") {
                let inner = stack.pop().unwrap_or(true);
                let outer = stack.last().copied().unwrap_or(true);
                stack.push(outer && !inner);
                continue;
            }
            if t.starts_with("$endif") {
                stack.pop();
                continue;
            }
            if t.starts_with('$') || !stack.last().copied().unwrap_or(true) {
                continue;
            }
            self.apply_line(t);
        }
    }
}

impl Shell {
    fn keymap_load(&mut self) {
        if self.keymap.loaded {
            return;
        }
        self.keymap.loaded = true;
        for l in DEFAULTS.lines() {
            self.keymap.apply_line(l);
        }
        let home = self.get("HOME").unwrap_or_default();
        let term = self.get("TERM").unwrap_or_default();
        let candidates = [
            self.get("INPUTRC").filter(|s| !s.is_empty()),
            (!home.is_empty()).then(|| format!("{home}/.inputrc")),
            Some("/etc/inputrc".to_string()),
        ];
        for c in candidates.into_iter().flatten() {
            if let Ok(text) = std::fs::read_to_string(self.cwd.join(&c)) {
                self.keymap.apply_inputrc(&text, &term);
                break;
            }
        }
    }

    fn keys_of(&self, func: &str) -> Vec<String> {
        self.keymap
            .keys
            .iter()
            .filter(|(_, b)| matches!(b, Binding::Func(f) if f == func))
            .map(|(k, _)| format!("\"{}\"", untranslate(k)))
            .collect()
    }

    pub(crate) fn b_bind(&mut self, a: &[String], io: &Io) -> i32 {
        self.keymap_load();
        self.error_io(io, "bind: warning: line editing not enabled");
        let mut out = String::new();
        let mut st = 0;
        let mut i = 1;
        let usage = "bind: usage: bind [-lpsvPSVX] [-m keymap] [-f filename] [-q name] [-u name] [-r keyseq] [-x keyseq:shell-command] [keyseq:readline-function or readline-command]\n";
        while i < a.len() {
            let w = &a[i];
            if w == "--" {
                i += 1;
                break;
            }
            if !w.starts_with('-') || w.len() < 2 {
                break;
            }
            let opts: Vec<char> = w[1..].chars().collect();
            for (k, c) in opts.iter().enumerate() {
                let needs = matches!(c, 'm' | 'f' | 'q' | 'u' | 'r' | 'x');
                let arg = if needs {
                    let rest: String = opts[k + 1..].iter().collect();
                    if !rest.is_empty() {
                        Some(rest)
                    } else {
                        i += 1;
                        match a.get(i) {
                            Some(v) => Some(v.clone()),
                            None => {
                                self.error_io(
                                    io,
                                    &format!("bind: -{c}: option requires an argument"),
                                );
                                io.err(usage.as_bytes());
                                return 2;
                            }
                        }
                    }
                } else {
                    None
                };
                let arg = arg.unwrap_or_default();
                match c {
                    'l' => {
                        for f in FUNCTIONS {
                            out.push_str(f);
                            out.push('\n');
                        }
                    }
                    'p' | 'P' => {
                        for f in FUNCTIONS {
                            let keys = self.keys_of(f);
                            if *c == 'p' {
                                if keys.is_empty() {
                                    out.push_str(&format!("# {f} (not bound)\n"));
                                }
                                for k in keys {
                                    out.push_str(&format!("{k}: {f}\n"));
                                }
                            } else if keys.is_empty() {
                                out.push_str(&format!("{f} is not bound to any keys\n"));
                            } else {
                                out.push_str(&format!("{f} can be found on {}.\n", shown(&keys)));
                            }
                        }
                    }
                    's' | 'S' | 'X' => {
                        for (k, b) in &self.keymap.keys {
                            let key = untranslate(k);
                            match (c, b) {
                                ('s', Binding::Macro(m)) => {
                                    out.push_str(&format!("\"{key}\": \"{}\"\n", untranslate(m)))
                                }
                                ('S', Binding::Macro(m)) => {
                                    out.push_str(&format!("{key} outputs {}\n", untranslate(m)))
                                }
                                ('X', Binding::Shell(cmd)) => {
                                    out.push_str(&format!("\"{key}\": \"{cmd}\"\n"))
                                }
                                _ => {}
                            }
                        }
                    }
                    'v' | 'V' | 'm' => {}
                    'q' => {
                        if !FUNCTIONS.contains(&arg.as_str()) {
                            self.error_io(io, &format!("bind: `{arg}': unknown function name"));
                            st = 1;
                            continue;
                        }
                        let keys = self.keys_of(&arg);
                        if keys.is_empty() {
                            out.push_str(&format!("{arg} is not bound to any keys.\n"));
                            st = 1;
                        } else {
                            out.push_str(&format!("{arg} can be invoked via {}.\n", shown(&keys)));
                        }
                    }
                    'u' => {
                        if !FUNCTIONS.contains(&arg.as_str()) {
                            self.error_io(io, &format!("bind: `{arg}': unknown function name"));
                            st = 1;
                            continue;
                        }
                        self.keymap
                            .keys
                            .retain(|_, b| !matches!(b, Binding::Func(f) if *f == arg));
                    }
                    'r' => {
                        let key = translate(&arg);
                        self.keymap.keys.remove(&key);
                    }
                    'x' => match split_binding(&arg) {
                        Some((key, cmd)) if !key.is_empty() => {
                            let cmd = cmd
                                .strip_prefix('"')
                                .and_then(|c| c.strip_suffix('"'))
                                .map(String::from)
                                .unwrap_or(cmd);
                            self.keymap.keys.insert(key, Binding::Shell(cmd));
                        }
                        _ => {
                            self.error_io(io, &format!("bind: {arg}: missing colon separator"));
                            st = 1;
                        }
                    },
                    'f' => match std::fs::read_to_string(self.cwd.join(&arg)) {
                        Ok(text) => {
                            let term = self.get("TERM").unwrap_or_default();
                            self.keymap.apply_inputrc(&text, &term);
                        }
                        Err(e) => {
                            let why = super::history::io_reason(&e);
                            self.error_io(io, &format!("bind: {arg}: cannot read: {why}"));
                            st = 1;
                        }
                    },
                    c => {
                        self.error_io(io, &format!("bind: -{c}: invalid option"));
                        io.err(usage.as_bytes());
                        return 2;
                    }
                }
                if needs {
                    break;
                }
            }
            i += 1;
        }
        for line in &a[i.min(a.len())..] {
            if !self.keymap.apply_line(line) {
                self.error_io(io, &format!("bind: {line}: invalid key binding"));
                st = 1;
            }
        }
        io.out(out.as_bytes());
        st
    }
}

/// readline lists at most five key sequences, then `...`.
fn shown(keys: &[String]) -> String {
    let mut v: Vec<&str> = keys.iter().take(5).map(|s| s.as_str()).collect();
    if keys.len() > 5 {
        v.push("...");
    }
    v.join(", ")
}
