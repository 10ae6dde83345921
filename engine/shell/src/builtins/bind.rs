//! `bind` as a non-interactive bash has it: readline is not reading lines, but the builtin
//! still edits and shows readline's emacs key map (and warns that line editing is off). The
//! map starts as readline's defaults, then the inputrc file is applied, as readline does.

use crate::io::Io;
use crate::state::keymap::{Binding, KeyMap};
use crate::state::Shell;
use std::collections::BTreeMap;

/// readline's default emacs bindings, one `"keyseq": function` a line (what bash 5.2's
/// `bind -p` shows in the C locale with no inputrc).
const DEFAULTS: &str = include_str!("bind_defaults.txt");

/// readline's boolean variables, then its other variables, with their defaults; the meta
/// settings depend on the locale and are filled in when the map loads.
const VARS: &[(&str, &str)] = &[
    ("bind-tty-special-chars", "on"),
    ("blink-matching-paren", "off"),
    ("byte-oriented", "off"),
    ("colored-completion-prefix", "off"),
    ("colored-stats", "off"),
    ("completion-ignore-case", "off"),
    ("completion-map-case", "off"),
    ("convert-meta", ""),
    ("disable-completion", "off"),
    ("echo-control-characters", "on"),
    ("enable-active-region", "off"),
    ("enable-bracketed-paste", "off"),
    ("enable-keypad", "off"),
    ("enable-meta-key", "on"),
    ("expand-tilde", "off"),
    ("history-preserve-point", "off"),
    ("horizontal-scroll-mode", "off"),
    ("input-meta", ""),
    ("mark-directories", "on"),
    ("mark-modified-lines", "off"),
    ("mark-symlinked-directories", "off"),
    ("match-hidden-files", "on"),
    ("menu-complete-display-prefix", "off"),
    ("meta-flag", ""),
    ("output-meta", ""),
    ("page-completions", "on"),
    ("prefer-visible-bell", "on"),
    ("print-completions-horizontally", "off"),
    ("revert-all-at-newline", "off"),
    ("show-all-if-ambiguous", "off"),
    ("show-all-if-unmodified", "off"),
    ("show-mode-in-prompt", "off"),
    ("skip-completed-text", "off"),
    ("visible-stats", "off"),
    ("bell-style", "audible"),
    ("comment-begin", "#"),
    ("completion-display-width", "-1"),
    ("completion-prefix-display-length", "0"),
    ("completion-query-items", "100"),
    ("editing-mode", "emacs"),
    ("emacs-mode-string", "@"),
    ("history-size", "0"),
    ("keymap", "emacs"),
    ("keyseq-timeout", "500"),
    ("vi-cmd-mode-string", "(cmd)"),
    ("vi-ins-mode-string", "(ins)"),
];

/// How many of VARS are on/off switches.
const BOOL_VARS: usize = 34;

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

/// Encodes bytes back into readline's notation, as `bind` shows keys and macros. With
/// `meta`, an ESC that prefixes more keys shows as `\M-` (readline does so when it converts
/// meta characters, the C locale's default).
fn untranslate(b: &[u8], meta: bool) -> String {
    untranslate_key(b, meta, false)
}

/// `untranslate` for a key; `prefix` says the whole key also prefixes longer ones.
fn untranslate_key(b: &[u8], meta: bool, prefix: bool) -> String {
    let mut s = String::new();
    for (i, &c) in b.iter().enumerate() {
        match c {
            0x1b if meta && (prefix || i + 1 < b.len()) => s.push_str("\\M-"),
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
        let value = after.strip_prefix(':').unwrap_or(after).trim();
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
    /// Applies one inputrc line; false when it is not a binding readline understands.
    fn apply_line(&mut self, line: &str) -> bool {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            return true;
        }
        if let Some(rest) = t.strip_prefix("set ") {
            let mut f = rest.split_whitespace();
            let (Some(name), value) = (f.next(), f.next().unwrap_or("")) else {
                return true;
            };
            self.set_var(name, value);
            return true;
        }
        match split_binding(t) {
            Some((key, v)) if !key.is_empty() => {
                match parse_value(&v) {
                    // An unknown function name leaves the key unbound.
                    Binding::Func(f) if !FUNCTIONS.contains(&f.as_str()) => {
                        self.keys.remove(&key);
                    }
                    b => {
                        self.keys.insert(key, b);
                    }
                }
                true
            }
            _ => false,
        }
    }

    fn set_var(&mut self, name: &str, value: &str) {
        let Some(pos) = self
            .vars
            .iter()
            .position(|(n, _)| n.eq_ignore_ascii_case(name))
        else {
            return;
        };
        let v = if pos < BOOL_VARS {
            let on = value.is_empty() || value.eq_ignore_ascii_case("on") || value == "1";
            if on { "on" } else { "off" }.to_string()
        } else {
            value.to_string()
        };
        let n = self.vars[pos].0;
        // meta-flag is another name for input-meta.
        for (k, slot) in self.vars.iter_mut() {
            let same = *k == n
                || (n == "meta-flag" && *k == "input-meta")
                || (n == "input-meta" && *k == "meta-flag");
            if same {
                slot.clone_from(&v);
            }
        }
    }

    /// Bindings in readline's walk order: a key that prefixes longer ones is in the last
    /// ("any other key") slot of its submap, so it comes after them.
    fn walk(&self) -> Vec<(&Vec<u8>, &Binding)> {
        let mut v: Vec<(&Vec<u8>, &Binding)> = self.keys.iter().collect();
        v.sort_by(|a, b| {
            let ka = a.0.iter().map(|&c| u16::from(c)).chain([256]);
            let kb = b.0.iter().map(|&c| u16::from(c)).chain([256]);
            ka.cmp(kb)
        });
        v
    }

    fn var(&self, name: &str) -> &str {
        self.vars
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }

    /// A key as readline's dumpers show it: a key that also prefixes longer ones is bound
    /// in its submap's "any other key" slot, which shows as `\000`.
    fn show_key(&self, k: &[u8], meta: bool) -> String {
        let longer = self
            .keys
            .range(k.to_vec()..)
            .nth(1)
            .is_some_and(|(n, _)| n.starts_with(k));
        let mut s = untranslate_key(k, meta, longer);
        if longer {
            s.push_str("\\000");
        }
        s
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
        if self.builtins.keymap.loaded {
            return;
        }
        self.builtins.keymap.loaded = true;
        // readline turns the meta settings around in a multibyte locale.
        let locale = ["LC_ALL", "LC_CTYPE", "LANG"]
            .into_iter()
            .filter_map(|n| self.get(n))
            .find(|v| !v.is_empty())
            .unwrap_or_default()
            .to_ascii_lowercase();
        let utf8 = locale.contains("utf-8") || locale.contains("utf8");
        let (on, off) = if utf8 { ("on", "off") } else { ("off", "on") };
        self.builtins.keymap.vars = VARS
            .iter()
            .map(|(n, v)| {
                let v = match *n {
                    "convert-meta" => off,
                    "input-meta" | "meta-flag" | "output-meta" => on,
                    _ => v,
                };
                (*n, v.to_string())
            })
            .collect();
        for l in DEFAULTS.lines() {
            self.builtins.keymap.apply_line(l);
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
                self.builtins.keymap.apply_inputrc(&text, &term);
                break;
            }
        }
    }

    fn keys_of(&self, func: &str) -> Vec<String> {
        let meta = self.builtins.keymap.var("convert-meta") == "on";
        self.builtins
            .keymap
            .walk()
            .into_iter()
            .filter(|(_, b)| matches!(b, Binding::Func(f) if same_function(f, func)))
            .map(|(k, _)| format!("\"{}\"", self.builtins.keymap.show_key(k, meta)))
            .collect()
    }

    pub(crate) fn b_bind(&mut self, a: &[String], io: &Io) -> i32 {
        self.keymap_load();
        self.error_io(io, "bind: warning: line editing not enabled");
        let usage = "bind: usage: bind [-lpsvPSVX] [-m keymap] [-f filename] [-q name] [-u name] [-r keyseq] [-x keyseq:shell-command] [keyseq:readline-function or readline-command]\n";
        // Options are gathered first, then done in readline's fixed order.
        let mut flags = String::new();
        let mut args: BTreeMap<char, String> = BTreeMap::new();
        let mut i = 1;
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
                if !"lpsvPSVXmfqurx".contains(*c) {
                    self.error_io(io, &format!("bind: -{c}: invalid option"));
                    io.err(usage.as_bytes());
                    return 2;
                }
                flags.push(*c);
                if "mfqurx".contains(*c) {
                    let rest: String = opts[k + 1..].iter().collect();
                    let v = if !rest.is_empty() {
                        rest
                    } else {
                        i += 1;
                        match a.get(i) {
                            Some(v) => v.clone(),
                            None => {
                                self.error_io(
                                    io,
                                    &format!("bind: -{c}: option requires an argument"),
                                );
                                io.err(usage.as_bytes());
                                return 2;
                            }
                        }
                    };
                    args.insert(*c, v);
                    break;
                }
            }
            i += 1;
        }
        let has = |c: char| flags.contains(c);
        let arg = |c: char| args.get(&c).cloned().unwrap_or_default();
        let mut out = String::new();
        let mut st = 0;
        if has('l') {
            for f in FUNCTIONS {
                out.push_str(f);
                out.push('\n');
            }
        }
        for c in ['p', 'P'] {
            if !has(c) {
                continue;
            }
            out.push('\n');
            for f in FUNCTIONS {
                let keys = self.keys_of(f);
                if c == 'p' {
                    if keys.is_empty() {
                        out.push_str(&format!("# {f} (not bound)\n"));
                    }
                    for k in keys {
                        out.push_str(&format!("{k}: {f}\n"));
                    }
                } else if keys.is_empty() {
                    out.push_str(&format!("{f} is not bound to any keys\n"));
                } else {
                    out.push_str(&format!("{f} can be found on {}\n", shown(&keys)));
                }
            }
        }
        for c in ['s', 'S'] {
            if !has(c) {
                continue;
            }
            for (k, b) in self.builtins.keymap.walk() {
                if let Binding::Macro(m) = b {
                    let key = self.builtins.keymap.show_key(k, false);
                    let m = untranslate(m, false);
                    out.push_str(&if c == 's' {
                        format!("\"{key}\": \"{m}\"\n")
                    } else {
                        format!("{key} outputs {m}\n")
                    });
                }
            }
        }
        if has('v') || has('V') {
            // readline's history-size is the shell's HISTSIZE limit.
            let hsize = self
                .get("HISTSIZE")
                .and_then(|v| v.trim().parse::<i64>().ok())
                .filter(|n| *n >= 0)
                .unwrap_or(0)
                .to_string();
            for c in ['v', 'V'] {
                if !has(c) {
                    continue;
                }
                for (n, v) in &self.builtins.keymap.vars {
                    let v = if *n == "history-size" { &hsize } else { v };
                    out.push_str(&if c == 'v' {
                        format!("set {n} {v}\n")
                    } else {
                        format!("{n} is set to `{v}'\n")
                    });
                }
            }
        }
        if has('f') {
            let f = arg('f');
            match std::fs::read_to_string(self.cwd.join(&f)) {
                Ok(text) => {
                    let term = self.get("TERM").unwrap_or_default();
                    self.builtins.keymap.apply_inputrc(&text, &term);
                }
                Err(e) => {
                    let why = super::history::io_reason(&e);
                    self.error_io(io, &format!("bind: {f}: cannot read: {why}"));
                    st = 1;
                }
            }
        }
        if has('q') {
            let q = arg('q');
            if !FUNCTIONS.contains(&q.as_str()) {
                self.error_io(io, &format!("bind: `{q}': unknown function name"));
                io.out(out.as_bytes());
                return 1;
            }
            let keys = self.keys_of(&q);
            if keys.is_empty() {
                out.push_str(&format!("{q} is not bound to any keys.\n"));
                st = 1;
            } else {
                out.push_str(&format!("{q} can be invoked via {}\n", shown(&keys)));
            }
        }
        if has('u') {
            let u = arg('u');
            if !FUNCTIONS.contains(&u.as_str()) {
                self.error_io(io, &format!("bind: `{u}': unknown function name"));
                io.out(out.as_bytes());
                return 1;
            }
            self.builtins
                .keymap
                .keys
                .retain(|_, b| !matches!(b, Binding::Func(f) if same_function(f, &u)));
        }
        if has('r') {
            self.builtins.keymap.keys.remove(&translate(&arg('r')));
        }
        if has('x') {
            let x = arg('x');
            if !x.trim_start().starts_with('"') {
                self.error_io(
                    io,
                    &format!("bind: {x}: first non-whitespace character is not `\"'"),
                );
                io.out(out.as_bytes());
                return 1;
            }
            match split_binding(&x) {
                Some((key, cmd)) if !key.is_empty() => {
                    let cmd = cmd
                        .strip_prefix('"')
                        .and_then(|c| c.strip_suffix('"'))
                        .map(String::from)
                        .unwrap_or(cmd);
                    self.builtins.keymap.keys.insert(key, Binding::Shell(cmd));
                }
                _ => {
                    self.error_io(io, &format!("bind: {x}: no closing `\"' in key binding"));
                    st = 1;
                }
            }
        }
        if has('X') {
            for (k, b) in self.builtins.keymap.walk() {
                if let Binding::Shell(cmd) = b {
                    let key = self.builtins.keymap.show_key(k, false);
                    let cmd = cmd.replace('\\', "\\\\").replace('"', "\\\"");
                    out.push_str(&format!("\"{key}\": \"{cmd}\"\n"));
                }
            }
        }
        for line in &a[i.min(a.len())..] {
            if !self.builtins.keymap.apply_line(line) {
                io.err(format!("readline: {line}: no key sequence terminator\n").as_bytes());
            }
        }
        io.out(out.as_bytes());
        st
    }
}

/// Names readline gives one function: a key bound to either shows under both.
fn same_function(a: &str, b: &str) -> bool {
    const ALIASES: &[(&str, &str)] = &[("insert-last-argument", "yank-last-arg")];
    a == b
        || ALIASES
            .iter()
            .any(|&(x, y)| (a == x && b == y) || (a == y && b == x))
}

/// readline lists at most five key sequences, then `...` (and no final period).
fn shown(keys: &[String]) -> String {
    let v: Vec<&str> = keys.iter().take(5).map(|s| s.as_str()).collect();
    if keys.len() > 5 {
        format!("{}, ...", v.join(", "))
    } else {
        format!("{}.", v.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_notation_round_trips() {
        for k in [
            "\\C-l",
            "\\e[1;5D",
            "\\C-x\\C-r",
            "\\C-\\\\",
            "\\C-?",
            "\\\"",
            "\\200",
        ] {
            assert_eq!(untranslate(&translate(k), false), k);
        }
        assert_eq!(translate("\\M-a"), b"\x1ba".to_vec());
        assert_eq!(untranslate_key(b"\x1b\x1b", true, true), "\\M-\\M-");
    }

    #[test]
    fn binding_lines_split() {
        let (k, v) = split_binding("\"\\C-t\": kill-line").unwrap_or_default();
        assert_eq!((k, v.as_str()), (vec![0x14], "kill-line"));
        let (k, _) = split_binding("Control-t: abort").unwrap_or_default();
        assert_eq!(k, vec![0x14]);
        let (k, _) = split_binding("Meta-Rubout: abort").unwrap_or_default();
        assert_eq!(k, vec![0x1b, 0x7f]);
    }
}
