//! The shell grammar: script text to brush-parser's AST (`brush_parser::ast`, whose types the
//! evaluator walks), by a tokenizer and a recursive-descent parser of ours. Words keep their
//! text as written; the word parser (`brush_parser::word`) reads them again at expansion.
//!
//! bash reads and runs a script one complete command (one line's list) at a time, so a syntax
//! error late in a script does not stop the lines before it: [`parse_prefix`] gives the
//! commands before the first error and the error. Errors carry bash's own words.
//!
//! Two constructs the AST has no node for are written as ones it has, the way bash prints
//! them back: a function whose body is `[[ ]]` gets a brace group around it, and `select` is
//! a loop over an internal builtin (crate::select).

mod alias;
mod cond;
mod grammar;
mod lexer;
mod nesting;
mod words;

use brush_parser::ast;

/// Deepest syntactic nesting (`{`, `(`, `$(`, `if`/`while`/`for`/`case` bodies …) of a
/// script the parser is given. Past it the script is refused before parsing with a syntax
/// error, status 2. 3000: bash itself has no limit; in the guest 3000 nested `{` or `if`
/// run and about 6000 exhaust its 8 MiB wasm stack (measured), so this keeps a margin.
pub const MAX_PARSE_NESTING: usize = 3000;

/// The internal builtin a `select` loop is written with (crate::select runs it).
pub const SELECT_BUILTIN: &str = "__hookbox_select";

/// What kind of syntax error: the interactive loop reads another line for the first two.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ErrorKind {
    /// The input ended inside a command (`if` without `fi`, `a &&`).
    UnexpectedEof,
    /// The input ended inside quotes or a substitution.
    Unterminated,
    /// A token where the grammar allows none of its kind.
    UnexpectedToken,
    /// An error of the `[[ ]]` parser: bash prints its messages and the script ends with the
    /// status it had, not 2.
    Conditional,
    /// Nesting past [`crate::state::MAX_PARSE_NESTING`].
    TooDeep,
}

/// A syntax error in bash's words. `message` may hold several lines, each after a `\0`
/// (bash prints each with its own prefix, the second being the offending line).
#[derive(Clone, Debug)]
pub struct SyntaxError {
    pub line: usize,
    pub message: String,
    pub kind: ErrorKind,
}

/// A warning the parse gave (a here-document ended by the end of input).
#[derive(Clone, Debug)]
pub struct Warning {
    pub line: usize,
    pub message: String,
}

/// The commands of a script up to its first syntax error, and that error.
pub struct Prefix {
    pub program: ast::Program,
    pub error: Option<SyntaxError>,
    pub warnings: Vec<Warning>,
}

pub(crate) struct Parser {
    /// The text, with the aliases expanded so far written in.
    src: String,
    pos: usize,
    line: usize,
    line_start: usize,
    peeked: Option<lexer::Token>,
    here_skip: Option<lexer::HereSkip>,
    warnings: Vec<Warning>,
    depth: usize,
    /// How many `$( )` bodies are being parsed, and the edits noted in them, in order.
    comsub_depth: usize,
    edits: Vec<(usize, usize, &'static str)>,
    /// The aliases to expand where a command word is read (none: no expansion).
    aliases: std::collections::HashMap<String, String>,
    /// Alias texts being read: (name, start, end); a name is not expanded inside its own.
    alias_spans: Vec<(String, usize, usize)>,
    /// An alias ending in a blank was expanded: the word after its text (at or past this
    /// index) is checked too.
    alias_next: Option<usize>,
}

impl Parser {
    fn new(src: &str) -> Self {
        Parser {
            src: src.to_string(),
            pos: 0,
            line: 1,
            line_start: 0,
            peeked: None,
            here_skip: None,
            warnings: Vec::new(),
            depth: 0,
            comsub_depth: 0,
            edits: Vec::new(),
            aliases: std::collections::HashMap::new(),
            alias_spans: Vec::new(),
            alias_next: None,
        }
    }

    fn internal(&self) -> SyntaxError {
        SyntaxError {
            line: self.line,
            message: "syntax error: parser state lost".to_string(),
            kind: ErrorKind::UnexpectedToken,
        }
    }
}

/// The whole script, or its first syntax error.
pub fn parse(src: &str) -> Result<ast::Program, SyntaxError> {
    let p = parse_prefix(src);
    match p.error {
        Some(e) => Err(e),
        None => Ok(p.program),
    }
}

/// The error for a script nesting past [`MAX_PARSE_NESTING`], checked before parsing.
fn too_deep(src: &str) -> Option<SyntaxError> {
    let line = nesting::too_deep(src)?;
    Some(SyntaxError {
        line,
        message: format!("syntax error: nesting deeper than {MAX_PARSE_NESTING} levels"),
        kind: ErrorKind::TooDeep,
    })
}

/// The complete commands before the first syntax error, the error, and any warnings.
pub fn parse_prefix(src: &str) -> Prefix {
    if let Some(e) = too_deep(src) {
        return Prefix {
            program: ast::Program {
                complete_commands: Vec::new(),
            },
            error: Some(e),
            warnings: Vec::new(),
        };
    }
    let mut p = Parser::new(src);
    let mut program = ast::Program {
        complete_commands: Vec::new(),
    };
    let error = loop {
        match p.complete_command() {
            Ok(Some(c)) => program.complete_commands.push(c),
            Ok(None) => break None,
            Err(e) => break Some(e),
        }
    };
    Prefix {
        program,
        error,
        warnings: p.warnings,
    }
}

/// Reads a script one complete command at a time, each with the aliases given before it
/// is read (bash's order: an alias defined on one line applies from the next).
pub struct Reader {
    p: Parser,
    too_deep: Option<SyntaxError>,
}

impl Reader {
    pub fn new(src: &str) -> Reader {
        Reader {
            p: Parser::new(src),
            too_deep: too_deep(src),
        }
    }

    /// The aliases for the commands read from now on.
    pub fn set_aliases(&mut self, aliases: impl IntoIterator<Item = (String, String)>) {
        self.p.aliases = aliases.into_iter().collect();
    }

    /// The next complete command, `None` at the end.
    pub fn next_command(&mut self) -> Result<Option<ast::CompoundList>, SyntaxError> {
        if let Some(e) = self.too_deep.take() {
            return Err(e);
        }
        self.p.complete_command()
    }

    /// Warnings given so far (here-documents ended by the end of input).
    pub fn take_warnings(&mut self) -> Vec<Warning> {
        std::mem::take(&mut self.p.warnings)
    }
}

/// The text ends inside a command (an open quote, `if` without `fi`, a here-document still
/// being read): an interactive shell reads the next line as more of it.
pub fn is_incomplete(src: &str) -> bool {
    let p = parse_prefix(src);
    match p.error {
        Some(e) => matches!(e.kind, ErrorKind::UnexpectedEof | ErrorKind::Unterminated),
        None => !p.warnings.is_empty(),
    }
}

#[cfg(test)]
mod tests;
