//! The host commands a shell hook calls, read from its syntax tree (the bundled shell's own
//! parser, so the answer is what the sandbox will see), for `validate` to check them against
//! the policy before a deploy fails on `bundle: not allowed by the policy`.
//!
//! In: script text. Out: each command word that names a program — not a builtin, a function
//! the script defines, a tool the bundled shell runs in the guest, or a shell (those stay in
//! the guest too) — with its line and column. Names that are computed (`$CMD`, `"$(which
//! x)"`) cannot be known before running and are left out; so is anything the script builds
//! at run time (`eval`, `source` of a generated file).

use std::collections::BTreeSet;

use brush_parser::ast::{self, Command, CompoundCommand as CC};

/// A command word that starts a host program, where it is in the script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Called {
    pub name: String,
    /// 1-based.
    pub line: usize,
    /// 1-based, in characters.
    pub column: usize,
}

/// The syntax error of `text` as the bundled shell reports it: (line, message).
pub fn syntax_error(text: &str) -> Option<(usize, String)> {
    let e = hookbox_shell::syntax::parse(text).err()?;
    let (line, message) = (e.line, e.message);
    // The shell prints the offending line after a NUL marker; one line here.
    let message = message.replace("\n\u{0}", ": ").replace('\u{0}', ": ");
    Some((line, message))
}

/// The host programs `text` calls, in order of appearance, each once per place. Empty when
/// the text does not parse (the syntax check reports that).
pub fn called(text: &str) -> Vec<Called> {
    let Ok(program) = hookbox_shell::syntax::parse(text) else {
        return Vec::new();
    };
    let mut walk = Walk::default();
    for list in &program.complete_commands {
        walk.list(list, 0);
    }
    let functions = walk.functions;
    walk.found
        .into_iter()
        .filter(|c| !functions.contains(&c.name) && runs_on_host(&c.name))
        .collect()
}

/// Whether the bundled shell would ask the bridge to run `name`.
fn runs_on_host(name: &str) -> bool {
    let base = name.rsplit('/').next().unwrap_or(name);
    if matches!(base, "bash" | "sh") {
        // Shells run in the guest (engine/shell/src/invoke.rs), never on the host.
        return false;
    }
    if name.contains('/') {
        return true;
    }
    !hookbox_shell::is_builtin(name) && hookbox_shell::tools::find(name).is_none()
}

/// Deepest `$( )` nesting followed; deeper text is not looked into.
const MAX_NESTING: usize = 8;

#[derive(Default)]
struct Walk {
    found: Vec<Called>,
    functions: BTreeSet<String>,
}

impl Walk {
    fn list(&mut self, list: &ast::CompoundList, depth: usize) {
        for ast::CompoundListItem(and_or, _) in &list.0 {
            self.pipeline(&and_or.first, depth);
            for next in &and_or.additional {
                match next {
                    ast::AndOr::And(p) | ast::AndOr::Or(p) => self.pipeline(p, depth),
                }
            }
        }
    }

    fn pipeline(&mut self, p: &ast::Pipeline, depth: usize) {
        for command in &p.seq {
            self.command(command, depth);
        }
    }

    fn command(&mut self, c: &Command, depth: usize) {
        match c {
            Command::Simple(s) => self.simple(s, depth),
            Command::Compound(cc, _) => self.compound(cc, depth),
            Command::Function(f) => {
                self.functions.insert(f.fname.value.clone());
                self.compound(&f.body.0, depth);
            }
            Command::ExtendedTest(..) => {}
        }
    }

    fn compound(&mut self, cc: &CC, depth: usize) {
        match cc {
            CC::BraceGroup(b) => self.list(&b.list, depth),
            CC::Subshell(s) => self.list(&s.list, depth),
            CC::ForClause(f) => {
                for w in f.values.iter().flatten() {
                    self.substitutions(w, depth);
                }
                self.list(&f.body.list, depth);
            }
            CC::ArithmeticForClause(f) => self.list(&f.body.list, depth),
            CC::CaseClause(c) => {
                self.substitutions(&c.value, depth);
                for item in &c.cases {
                    if let Some(cmd) = &item.cmd {
                        self.list(cmd, depth);
                    }
                }
            }
            CC::IfClause(i) => {
                self.list(&i.condition, depth);
                self.list(&i.then, depth);
                for e in i.elses.iter().flatten() {
                    if let Some(c) = &e.condition {
                        self.list(c, depth);
                    }
                    self.list(&e.body, depth);
                }
            }
            CC::WhileClause(w) | CC::UntilClause(w) => {
                self.list(&w.0, depth);
                self.list(&w.1.list, depth);
            }
            CC::Coprocess(c) => self.command(&c.body, depth),
            CC::Arithmetic(_) => {}
        }
    }

    fn simple(&mut self, s: &ast::SimpleCommand, depth: usize) {
        let mut words: Vec<&ast::Word> = Vec::new();
        for item in s.prefix.iter().flat_map(|p| p.0.iter()) {
            self.item(item, depth);
        }
        if let Some(name) = &s.word_or_name {
            words.push(name);
        }
        for item in s.suffix.iter().flat_map(|p| p.0.iter()) {
            if let ast::CommandPrefixOrSuffixItem::Word(w) = item {
                words.push(w);
            }
            self.item(item, depth);
        }
        if let Some(name) = s.word_or_name.as_ref() {
            self.substitutions(name, depth);
        }
        // `command x`, `exec x`, `env A=1 x`, `nohup x`-style wrappers run their operand.
        let mut i = 0;
        while let Some(w) = words.get(i) {
            let Some(name) = literal(&w.value) else {
                return;
            };
            match name.as_str() {
                "command" | "exec" | "builtin" | "time" => {
                    i += 1;
                    while let Some(flag) = words.get(i).filter(|w| w.value.starts_with('-')) {
                        // `command -v x` / `-V` only looks `x` up; it does not start it.
                        if name == "command"
                            && (flag.value.contains('v') || flag.value.contains('V'))
                        {
                            return;
                        }
                        i += 1;
                    }
                }
                "env" if !hookbox_shell::is_builtin("env") => {
                    self.push(name, w);
                    return;
                }
                _ => {
                    self.push(name, w);
                    return;
                }
            }
        }
    }

    fn item(&mut self, item: &ast::CommandPrefixOrSuffixItem, depth: usize) {
        match item {
            ast::CommandPrefixOrSuffixItem::Word(w) => self.substitutions(w, depth),
            ast::CommandPrefixOrSuffixItem::AssignmentWord(_, w) => self.substitutions(w, depth),
            ast::CommandPrefixOrSuffixItem::ProcessSubstitution(_, sub) => {
                self.list(&sub.list, depth)
            }
            ast::CommandPrefixOrSuffixItem::IoRedirect(_) => {}
        }
    }

    fn push(&mut self, name: String, w: &ast::Word) {
        let (line, column) = w
            .loc
            .as_ref()
            .map(|l| (l.start.line, l.start.column))
            .unwrap_or((1, 1));
        self.found.push(Called { name, line, column });
    }

    /// Commands inside `$( )` and backquotes of a word: parsed as scripts of their own, and
    /// placed at the word's position (their own lines are relative to it).
    fn substitutions(&mut self, w: &ast::Word, depth: usize) {
        if depth >= MAX_NESTING || !(w.value.contains("$(") || w.value.contains('`')) {
            return;
        }
        let (line, column) = w
            .loc
            .as_ref()
            .map(|l| (l.start.line, l.start.column))
            .unwrap_or((1, 1));
        for inner in command_substitutions(&w.value) {
            let Ok(program) = hookbox_shell::syntax::parse(&inner) else {
                continue;
            };
            let mut nested = Walk::default();
            for list in &program.complete_commands {
                nested.list(list, depth + 1);
            }
            self.functions.extend(nested.functions);
            for mut c in nested.found {
                if c.line == 1 {
                    c.column = column;
                }
                c.line += line - 1;
                self.found.push(c);
            }
        }
    }
}

/// The word as a command name, when it is one before running: quotes removed, nothing
/// expanded. `None` for `$X`, `` `x` ``, globs, `~`.
fn literal(word: &str) -> Option<String> {
    let mut out = String::new();
    let mut chars = word.chars();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (Some('\''), c) => out.push(c),
            (_, '$' | '`') => return None,
            (None, '*' | '?' | '[' | '~' | '{') => return None,
            (_, '\\') => out.push(chars.next()?),
            (_, c) => out.push(c),
        }
    }
    (!out.is_empty() && quote.is_none()).then_some(out)
}

/// The texts of the top-level `$( … )` and `` `…` `` in `word` (not `$(( ))` arithmetic).
fn command_substitutions(word: &str) -> Vec<String> {
    let bytes = word.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut in_single = false;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if !in_single => i += 1,
            b'\'' => in_single = !in_single,
            b'$' if !in_single && bytes.get(i + 1) == Some(&b'(') => {
                let arithmetic = bytes.get(i + 2) == Some(&b'(');
                let start = i + 2;
                let mut depth = 1;
                let mut j = start;
                while j < bytes.len() && depth > 0 {
                    match bytes[j] {
                        b'\\' => j += 1,
                        b'(' => depth += 1,
                        b')' => depth -= 1,
                        _ => {}
                    }
                    j += 1;
                }
                if depth == 0 && !arithmetic {
                    out.push(word[start..j - 1].to_string());
                }
                i = j;
                continue;
            }
            b'`' if !in_single => {
                if let Some(end) = word[i + 1..].find('`') {
                    out.push(word[i + 1..i + 1 + end].to_string());
                    i += end + 2;
                    continue;
                }
            }
            _ => {}
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(text: &str) -> Vec<String> {
        called(text).into_iter().map(|c| c.name).collect()
    }

    #[test]
    fn finds_the_programs_a_script_starts_and_not_what_stays_in_the_guest() {
        let script = "#!/bin/bash\nset -e\nlog() { echo \"$@\"; }\nlog start\n\
                      if git diff --quiet; then bundle exec rake db:migrate; fi\n\
                      VERSION=$(git rev-parse HEAD) && echo \"$VERSION\" | sort\n\
                      for f in $(ls); do sqlite3 db.sqlite3 < \"$f\"; done\n\
                      command -v npx >/dev/null || exec /usr/bin/node app.js\n\
                      $TOOL run\nbash -c 'curl x'\n";
        assert_eq!(
            names(script),
            ["git", "bundle", "git", "sqlite3", "/usr/bin/node"],
            "echo, sort, ls are builtins or in-guest tools; log is a function; $TOOL is unknown; \
             bash stays in the guest"
        );
    }

    #[test]
    fn places_each_command_at_its_line_and_column() {
        let found = called("echo hi\n  bundle exec rake\nX=$(drush status)\n");
        assert_eq!(
            found,
            [
                Called {
                    name: "bundle".into(),
                    line: 2,
                    column: 3
                },
                Called {
                    name: "drush".into(),
                    line: 3,
                    column: 1
                },
            ]
        );
    }

    #[test]
    fn syntax_errors_come_from_the_bundled_parser() {
        assert_eq!(syntax_error("echo ok\n"), None);
        let (line, message) = syntax_error("echo ok\nif then\n").unwrap();
        assert_eq!(line, 2, "{message}");
        assert!(message.contains("syntax error"), "{message}");
    }

    #[test]
    fn literal_names_only() {
        assert_eq!(literal("'git'").as_deref(), Some("git"));
        assert_eq!(literal("g\\it").as_deref(), Some("git"));
        assert_eq!(literal("$GIT"), None);
        assert_eq!(literal("~/bin/x"), None);
        assert_eq!(
            command_substitutions("a$(b $(c))d`e`$((1+2))"),
            ["b $(c)", "e"]
        );
    }
}
