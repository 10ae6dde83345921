//! Alias expansion, where bash does it: as a command word is read, an alias name is replaced
//! by its text in the input, which is then read on as if written there (so an alias may
//! hold several words, a reserved word or an operator). An alias is not expanded again inside
//! its own text; one whose text ends in a blank makes the next word a candidate too.

use super::Parser;
use super::SyntaxError;

/// Whether a word can name an alias: quoting or an expansion in it means it does not.
fn alias_word(w: &str) -> bool {
    !w.is_empty()
        && !w.contains(|c: char| {
            matches!(c, '/' | '$' | '`' | '=' | '\'' | '"' | '\\') || c.is_whitespace()
        })
}

impl Parser {
    /// Replaces the next token by its alias text if it is an alias name; true if it was.
    pub(super) fn expand_alias(&mut self) -> Result<bool, SyntaxError> {
        if self.aliases.is_empty() {
            return Ok(false);
        }
        let t = self.peek()?.clone();
        let Some(w) = t.word().filter(|w| alias_word(w)) else {
            return Ok(false);
        };
        let (a, b) = (t.start.index, t.end.index);
        let inside_itself = self
            .alias_spans
            .iter()
            .any(|(n, s, e)| n == w && a >= *s && a < *e);
        if inside_itself {
            return Ok(false);
        }
        let Some(text) = self.aliases.get(w).cloned() else {
            return Ok(false);
        };
        let name = w.to_string();
        self.src.replace_range(a..b, &text);
        let shift = |at: &mut usize| {
            if *at >= b {
                *at = *at + text.len() - (b - a);
            }
        };
        for (_, s, e) in &mut self.alias_spans {
            shift(s);
            shift(e);
        }
        if let Some(h) = &mut self.here_skip {
            h.shift(b, text.len() as isize - (b - a) as isize);
        }
        self.alias_spans.push((name, a, a + text.len()));
        self.alias_next = text.ends_with([' ', '\t']).then_some(a + text.len());
        self.peeked = None;
        self.pos = a;
        Ok(true)
    }
}
