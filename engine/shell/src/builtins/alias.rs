//! Aliases: the `alias`/`unalias` builtins and alias expansion. bash expands aliases while it
//! reads a line, so an alias defined on one line applies from the next line on. Scripts that
//! may use aliases (they mention `expand_aliases`, or it is on) therefore run one complete
//! command at a time, each read by the parser (crate::syntax, which expands them) with the
//! aliases the commands before it left.

use crate::io::Io;
use crate::quote::single_quote;
use crate::state::Source;
use crate::state::{Flow, Shell};

fn valid_alias_name(w: &str) -> bool {
    !w.is_empty()
        && !w.contains(|c: char| {
            matches!(c, '/' | '$' | '`' | '=' | '\'' | '"' | '\\') || c.is_whitespace()
        })
}

impl Shell {
    pub(crate) fn aliases_live(&self) -> bool {
        self.opts.expand_aliases && !self.builtins.aliases.is_empty()
    }

    /// Whether a script must run a command at a time for its aliases to take effect.
    pub fn script_may_alias(&self, src: &str) -> bool {
        self.opts.expand_aliases || src.contains("expand_aliases")
    }

    /// The aliases the parser is to expand now (none unless `expand_aliases` is on).
    pub(crate) fn live_aliases(&self) -> Vec<(String, String)> {
        if !self.aliases_live() {
            return Vec::new();
        }
        self.builtins
            .aliases
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// Runs a script a complete command at a time, each read with the aliases defined by
    /// the commands before it.
    pub fn run_script_with_aliases(&mut self, src: &str, source: Source, io: &Io) -> i32 {
        let mut reader = crate::syntax::Reader::new(src);
        let status = loop {
            reader.set_aliases(self.live_aliases());
            let cc = reader.next_command();
            self.parse_warnings(&reader.take_warnings());
            let cc = match cc {
                Ok(Some(cc)) => cc,
                Ok(None) => break self.status.last_status,
                Err(e) => break self.script_syntax_error(source, &e),
            };
            match self.run_list(&cc, io) {
                Ok(s) => self.status.last_status = s,
                Err(Flow::Abort(s)) => self.status.last_status = s,
                Err(Flow::Exit(s)) | Err(Flow::Return(s)) => break s,
                Err(_) => {}
            }
            if self.one_command_done() {
                break self.status.last_status;
            }
        };
        self.status.last_status = status;
        self.run_exit_trap(io)
    }

    pub(super) fn b_alias(&mut self, a: &[String], io: &Io) -> i32 {
        let mut args = a.get(1..).unwrap_or_default();
        if args.first().is_some_and(|s| s == "-p") {
            args = args.get(1..).unwrap_or_default();
            if args.is_empty() {
                self.print_aliases(io);
                return 0;
            }
        }
        if args.is_empty() {
            self.print_aliases(io);
            return 0;
        }
        let mut st = 0;
        for x in args {
            if let Some((k, v)) = x.split_once('=') {
                if !valid_alias_name(k) {
                    self.error_io(io, &format!("alias: `{k}': invalid alias name"));
                    st = 1;
                    continue;
                }
                self.builtins.aliases.insert(k.into(), v.into());
            } else if let Some(v) = self.builtins.aliases.get(x) {
                io.out(format!("alias {x}={}\n", single_quote(v)).as_bytes());
            } else {
                self.error_io(io, &format!("alias: {x}: not found"));
                st = 1;
            }
        }
        st
    }

    fn print_aliases(&self, io: &Io) {
        let mut all: Vec<(&String, &String)> = self.builtins.aliases.iter().collect();
        all.sort();
        for (k, v) in all {
            io.out(format!("alias {k}={}\n", single_quote(v)).as_bytes());
        }
    }

    pub(super) fn b_unalias(&mut self, a: &[String], io: &Io) -> i32 {
        let mut st = 0;
        for x in a.get(1..).unwrap_or_default() {
            if x == "-a" {
                self.builtins.aliases = crate::state::Map::default();
                continue;
            }
            if self.builtins.aliases.remove(x).is_none() {
                self.error_io(io, &format!("unalias: {x}: not found"));
                st = 1;
            }
        }
        st
    }
}
