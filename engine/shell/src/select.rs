//! `select NAME [in WORDS]; do ...; done`. The AST has no select node, so the parser
//! (crate::syntax) writes such a loop as
//! `{ __hookbox_select --start; while __hookbox_select NAME WORDS; do ...; done; }`, and that
//! internal builtin does what one turn of bash's select does: show the menu (on the first turn
//! and after an empty answer) and the PS3 prompt on stderr, read a line into REPLY, set NAME
//! to the chosen word (empty if none), and fail at end of input. (bash expands WORDS once;
//! here they are expanded on every turn.)

use crate::io::Io;
use crate::state::Shell;

impl Shell {
    /// One turn of a select loop: `__hookbox_select NAME WORD...`.
    pub fn select_turn(&mut self, a: &[String], io: &Io) -> i32 {
        let Some(name) = a.get(1) else {
            return 2;
        };
        if name == "--start" {
            self.builtins.select_menu_shown = false;
            return 0;
        }
        let words = a.get(2..).unwrap_or_default();
        if words.is_empty() {
            return 1;
        }
        let input = io.stdin();
        let mut show_menu = !self.builtins.select_menu_shown;
        loop {
            if show_menu {
                let menu: String = words
                    .iter()
                    .enumerate()
                    .map(|(k, w)| format!("{}) {w}\n", k + 1))
                    .collect();
                io.err(menu.as_bytes());
                self.builtins.select_menu_shown = true;
            }
            let ps3 = self.get("PS3").unwrap_or_else(|| "#? ".into());
            io.err(ps3.as_bytes());
            let mut line = Vec::new();
            let mut got = false;
            while let Some(b) = input.read_byte() {
                got = true;
                if b == b'\n' {
                    break;
                }
                line.push(b);
            }
            if !got {
                // End of input ends the loop.
                io.err(b"\n");
                self.builtins.select_menu_shown = false;
                return 1;
            }
            let reply = String::from_utf8_lossy(&line).into_owned();
            if reply.trim().is_empty() {
                show_menu = true;
                continue;
            }
            let chosen = reply
                .trim()
                .parse::<usize>()
                .ok()
                .and_then(|n| n.checked_sub(1))
                .and_then(|n| words.get(n))
                .cloned()
                .unwrap_or_default();
            let _ = self.set_var("REPLY", reply);
            if let Err(e) = self.set_var(name, chosen) {
                self.error_io(io, &e.to_string());
                return 1;
            }
            return 0;
        }
    }
}
