//! The grammar, one function per construct: lists, pipelines, commands, and each compound
//! command. Reserved words are words the grammar recognizes where a command starts.

use super::lexer::{Tok, Token};
use super::{words, ErrorKind, Parser, SyntaxError};
use brush_parser::ast::{self, CompoundCommand as CC};
use brush_parser::{SourcePosition, SourceSpan};
use std::sync::Arc;

/// Words that end a command list where a command would start.
const LIST_END: &[&str] = &["}", "fi", "then", "else", "elif", "do", "done", "esac"];

pub(super) fn span(a: &SourcePosition, b: &SourcePosition) -> SourceSpan {
    SourceSpan {
        start: Arc::new(a.clone()),
        end: Arc::new(b.clone()),
    }
}

pub(super) fn word_of(text: String, t: &Token) -> ast::Word {
    ast::Word {
        value: text,
        loc: Some(span(&t.start, &t.end)),
    }
}

fn plain_word(text: &str) -> ast::Word {
    ast::Word {
        value: text.to_string(),
        loc: None,
    }
}

/// A list item holding one command and nothing else (for the nodes the parser writes).
fn lone_command(cmd: ast::Command) -> ast::CompoundListItem {
    ast::CompoundListItem(
        ast::AndOrList {
            first: ast::Pipeline {
                timed: None,
                bang: false,
                seq: vec![cmd],
            },
            additional: Vec::new(),
        },
        ast::SeparatorOperator::Sequence,
    )
}

fn is_redirect_op(op: &str) -> bool {
    matches!(
        op,
        "<" | ">" | ">>" | "<>" | ">|" | "<&" | ">&" | "&>" | "&>>" | "<<<" | "<<" | "<<-"
    )
}

impl Parser {
    /// The text of source line `n` (1-based), as bash quotes it after a syntax error.
    fn line_text(&self, n: usize) -> &str {
        self.src.lines().nth(n.saturating_sub(1)).unwrap_or("")
    }

    /// The error for a token the grammar cannot take here.
    pub(super) fn unexpected(&self, t: &Token) -> SyntaxError {
        if t.tok == Tok::Eof {
            return SyntaxError {
                line: self.eof_line(),
                message: "syntax error: unexpected end of file".to_string(),
                kind: ErrorKind::UnexpectedEof,
            };
        }
        self.near(t)
    }

    /// "near unexpected token", also for the end of input (where bash has read a newline).
    fn near(&self, t: &Token) -> SyntaxError {
        let line = if t.tok == Tok::Eof {
            self.eof_line().saturating_sub(1).max(1)
        } else {
            t.start.line
        };
        SyntaxError {
            line,
            message: format!(
                "syntax error near unexpected token `{}'\n\x00`{}'",
                t.shown(),
                self.line_text(line)
            ),
            kind: ErrorKind::UnexpectedToken,
        }
    }

    fn skip_newlines(&mut self) -> Result<(), SyntaxError> {
        while self.peek()?.tok == Tok::Newline {
            self.next()?;
        }
        Ok(())
    }

    /// Consumes the word `w` or fails on whatever is there.
    fn expect_word(&mut self, w: &str) -> Result<Token, SyntaxError> {
        let t = self.next()?;
        if t.is_word(w) {
            Ok(t)
        } else {
            Err(self.unexpected(&t))
        }
    }

    /// One top-level complete command (a line's list), `None` at the end of input.
    pub(super) fn complete_command(&mut self) -> Result<Option<ast::CompoundList>, SyntaxError> {
        self.skip_newlines()?;
        if self.peek()?.tok == Tok::Eof {
            return Ok(None);
        }
        let mut items = Vec::new();
        loop {
            let ao = self.and_or()?;
            let sep = self.separator()?;
            let end = sep.is_none() || matches!(self.peek()?.tok, Tok::Newline | Tok::Eof);
            items.push(ast::CompoundListItem(
                ao,
                sep.unwrap_or(ast::SeparatorOperator::Sequence),
            ));
            if end {
                break;
            }
        }
        let t = self.next()?;
        if !matches!(t.tok, Tok::Newline | Tok::Eof) {
            return Err(self.unexpected(&t));
        }
        Ok(Some(ast::CompoundList(items)))
    }

    fn separator(&mut self) -> Result<Option<ast::SeparatorOperator>, SyntaxError> {
        let t = self.peek()?;
        let sep = if t.is_op(";") {
            ast::SeparatorOperator::Sequence
        } else if t.is_op("&") {
            ast::SeparatorOperator::Async
        } else {
            return Ok(None);
        };
        self.next()?;
        Ok(Some(sep))
    }

    fn at_list_end(&mut self) -> Result<bool, SyntaxError> {
        let t = self.peek()?;
        Ok(match &t.tok {
            Tok::Eof => true,
            Tok::Op(o) => matches!(*o, ")" | ";;" | ";&" | ";;&"),
            Tok::Word(w) => LIST_END.contains(&w.as_str()),
            _ => false,
        })
    }

    /// A list inside a compound command, up to the word or operator that ends it (left to
    /// the caller). Empty only where bash allows it (`$( )`, a case item).
    pub(super) fn compound_list(
        &mut self,
        allow_empty: bool,
    ) -> Result<ast::CompoundList, SyntaxError> {
        let mut items = Vec::new();
        loop {
            self.skip_newlines()?;
            if self.at_list_end()? {
                break;
            }
            let ao = self.and_or()?;
            let sep = self.separator()?;
            let more = sep.is_some() || self.peek()?.tok == Tok::Newline;
            items.push(ast::CompoundListItem(
                ao,
                sep.unwrap_or(ast::SeparatorOperator::Sequence),
            ));
            if !more {
                break;
            }
        }
        if items.is_empty() && !allow_empty {
            let t = self.peek()?.clone();
            return Err(self.unexpected(&t));
        }
        Ok(ast::CompoundList(items))
    }

    fn and_or(&mut self) -> Result<ast::AndOrList, SyntaxError> {
        let first = self.pipeline()?;
        let mut additional = Vec::new();
        loop {
            let t = self.peek()?;
            let and = if t.is_op("&&") {
                true
            } else if t.is_op("||") {
                false
            } else {
                break;
            };
            self.next()?;
            self.skip_newlines()?;
            let p = self.pipeline()?;
            additional.push(if and {
                ast::AndOr::And(p)
            } else {
                ast::AndOr::Or(p)
            });
        }
        Ok(ast::AndOrList { first, additional })
    }

    fn pipeline(&mut self) -> Result<ast::Pipeline, SyntaxError> {
        let mut timed = None;
        if self.peek()?.is_word("time") {
            let t = self.next()?;
            if self.peek()?.is_word("-p") {
                let p = self.next()?;
                timed = Some(ast::PipelineTimed::TimedWithPosixOutput(span(
                    &t.start, &p.end,
                )));
            } else {
                timed = Some(ast::PipelineTimed::Timed(span(&t.start, &t.end)));
            }
        }
        let (mut bang, mut negated) = (false, false);
        while self.peek()?.is_word("!") {
            self.next()?;
            bang = !bang;
            negated = true;
        }
        let mut seq = Vec::new();
        if (timed.is_some() || negated) && self.pipeline_may_end()? {
            return Ok(ast::Pipeline { timed, bang, seq });
        }
        loop {
            let mut c = self.command()?;
            let t = self.peek()?;
            let both = t.is_op("|&");
            if !(both || t.is_op("|")) {
                seq.push(c);
                break;
            }
            self.next()?;
            if both {
                add_stderr_to_pipe(&mut c);
            }
            seq.push(c);
            self.skip_newlines()?;
        }
        Ok(ast::Pipeline { timed, bang, seq })
    }

    fn pipeline_may_end(&mut self) -> Result<bool, SyntaxError> {
        let t = self.peek()?;
        Ok(matches!(t.tok, Tok::Newline | Tok::Eof)
            || t.is_op(";")
            || t.is_op("&")
            || t.is_op("&&")
            || t.is_op("||"))
    }

    fn command(&mut self) -> Result<ast::Command, SyntaxError> {
        self.depth += 1;
        if self.depth > super::MAX_PARSE_NESTING {
            return Err(SyntaxError {
                line: self.line,
                message: format!(
                    "syntax error: nesting deeper than {} levels",
                    super::MAX_PARSE_NESTING
                ),
                kind: ErrorKind::TooDeep,
            });
        }
        let c = self.command_inner();
        self.depth -= 1;
        c
    }

    fn command_inner(&mut self) -> Result<ast::Command, SyntaxError> {
        while self.expand_alias()? {}
        let t = self.peek()?.clone();
        let compound = match &t.tok {
            Tok::Word(w) => match w.as_str() {
                "{" | "if" | "while" | "until" | "for" | "case" => self.compound_command()?,
                "select" => self.select()?,
                "coproc" => self.coproc()?,
                "[[" => {
                    let (c, r) = self.extended_test()?;
                    return Ok(ast::Command::ExtendedTest(c, r));
                }
                "function" => return self.function_keyword(),
                w if LIST_END.contains(&w) || w == "in" => return Err(self.unexpected(&t)),
                _ => {
                    let first = self.next()?;
                    return self.simple_or_function(first);
                }
            },
            Tok::Op("(") => self.compound_command()?,
            Tok::Op(op) if is_redirect_op(op) || *op == "<(" || *op == ">(" => {
                return Ok(ast::Command::Simple(self.simple_command(None)?));
            }
            Tok::IoNumber(_) => return Ok(ast::Command::Simple(self.simple_command(None)?)),
            _ => return Err(self.unexpected(&t)),
        };
        let redirects = self.redirect_list()?;
        Ok(ast::Command::Compound(compound, redirects))
    }

    /// A compound command at the next token: `{`, `(`, `((`, `if`, `while`, `until`, `for`,
    /// `case` (also a function's body, where `[[` is allowed too).
    fn compound_command(&mut self) -> Result<CC, SyntaxError> {
        let t = self.peek()?.clone();
        match &t.tok {
            Tok::Op("(") => {
                if let Some(expr) = self.scan_double_paren()? {
                    let end = self.position();
                    return Ok(CC::Arithmetic(ast::ArithmeticCommand {
                        expr: ast::UnexpandedArithmeticExpr { value: expr },
                        loc: span(&t.start, &end),
                    }));
                }
                self.next()?;
                let list = self.compound_list(false)?;
                let close = self.next()?;
                if !close.is_op(")") {
                    return Err(self.unexpected(&close));
                }
                Ok(CC::Subshell(ast::SubshellCommand {
                    list,
                    loc: span(&t.start, &close.end),
                }))
            }
            Tok::Word(w) => match w.as_str() {
                "{" => Ok(CC::BraceGroup(self.brace_group()?)),
                "if" => self.if_clause(),
                "while" | "until" => {
                    let until = w == "until";
                    self.next()?;
                    let cond = self.compound_list(false)?;
                    let body = self.do_group()?;
                    let loc = span(&t.start, &body.loc.end);
                    let w = ast::WhileOrUntilClauseCommand(cond, body, loc);
                    Ok(if until {
                        CC::UntilClause(w)
                    } else {
                        CC::WhileClause(w)
                    })
                }
                "for" => self.for_clause(),
                "case" => self.case_clause(),
                _ => Err(self.unexpected(&t)),
            },
            _ => Err(self.unexpected(&t)),
        }
    }

    fn brace_group(&mut self) -> Result<ast::BraceGroupCommand, SyntaxError> {
        let open = self.expect_word("{")?;
        let list = self.compound_list(false)?;
        let close = self.expect_word("}")?;
        Ok(ast::BraceGroupCommand {
            list,
            loc: span(&open.start, &close.end),
        })
    }

    fn do_group(&mut self) -> Result<ast::DoGroupCommand, SyntaxError> {
        let open = self.expect_word("do")?;
        let list = self.compound_list(false)?;
        let close = self.expect_word("done")?;
        Ok(ast::DoGroupCommand {
            list,
            loc: span(&open.start, &close.end),
        })
    }

    /// The body of a `for`/`select` loop: `do ... done`, or a brace group as bash allows.
    fn loop_body(&mut self) -> Result<ast::DoGroupCommand, SyntaxError> {
        if self.peek()?.is_word("{") {
            let b = self.brace_group()?;
            return Ok(ast::DoGroupCommand {
                list: b.list,
                loc: b.loc,
            });
        }
        self.do_group()
    }

    fn if_clause(&mut self) -> Result<CC, SyntaxError> {
        let start = self.expect_word("if")?;
        let condition = self.compound_list(false)?;
        self.expect_word("then")?;
        let then = self.compound_list(false)?;
        let mut elses = Vec::new();
        loop {
            let t = self.next()?;
            match t.word() {
                Some("elif") => {
                    let c = self.compound_list(false)?;
                    self.expect_word("then")?;
                    let body = self.compound_list(false)?;
                    elses.push(ast::ElseClause {
                        condition: Some(c),
                        body,
                    });
                }
                Some("else") => {
                    let body = self.compound_list(false)?;
                    elses.push(ast::ElseClause {
                        condition: None,
                        body,
                    });
                    let end = self.expect_word("fi")?;
                    return Ok(if_node(condition, then, elses, &start, &end));
                }
                Some("fi") => return Ok(if_node(condition, then, elses, &start, &t)),
                _ => return Err(self.unexpected(&t)),
            }
        }
    }

    /// The words after `in` (none is a list of none), or `None` without `in`; then the
    /// separator before the body.
    fn loop_words(&mut self) -> Result<Option<Vec<ast::Word>>, SyntaxError> {
        self.skip_newlines()?;
        let mut values = None;
        if self.peek()?.is_word("in") {
            self.next()?;
            let mut ws = Vec::new();
            while let Tok::Word(_) = self.peek()?.tok {
                let t = self.next()?;
                let text = t.word().unwrap_or_default().to_string();
                ws.push(word_of(text, &t));
            }
            values = Some(ws);
            let t = self.peek()?;
            if !(t.is_op(";") || matches!(t.tok, Tok::Newline)) {
                let t = t.clone();
                return Err(self.unexpected(&t));
            }
        }
        if self.peek()?.is_op(";") {
            self.next()?;
        }
        self.skip_newlines()?;
        Ok(values)
    }

    fn for_clause(&mut self) -> Result<CC, SyntaxError> {
        let start = self.expect_word("for")?;
        if let Some(header) = self.scan_double_paren()? {
            let parts = words::arith_for_parts(&header).ok_or_else(|| SyntaxError {
                line: start.start.line,
                message: "syntax error: arithmetic expression required".to_string(),
                kind: ErrorKind::UnexpectedToken,
            })?;
            let [initializer, condition, updater] = parts.map(|p| {
                (!p.trim().is_empty()).then_some(ast::UnexpandedArithmeticExpr { value: p })
            });
            if self.peek()?.is_op(";") {
                self.next()?;
            }
            self.skip_newlines()?;
            let body = self.loop_body()?;
            let loc = span(&start.start, &body.loc.end);
            return Ok(CC::ArithmeticForClause(ast::ArithmeticForClauseCommand {
                initializer,
                condition,
                updater,
                body,
                loc,
            }));
        }
        let name = self.next()?;
        let Some(variable_name) = name.word().map(str::to_string) else {
            return Err(self.unexpected(&name));
        };
        let values = self.loop_words()?;
        let body = self.loop_body()?;
        let loc = span(&start.start, &body.loc.end);
        Ok(CC::ForClause(ast::ForClauseCommand {
            variable_name,
            values,
            body,
            loc,
        }))
    }

    /// `coproc [NAME] COMMAND` (a name only before a compound command).
    fn coproc(&mut self) -> Result<CC, SyntaxError> {
        let start = self.expect_word("coproc")?;
        let t = self.peek()?.clone();
        let mut name = None;
        let body = match t.word() {
            Some(w) if !matches!(w, "{" | "if" | "while" | "until" | "for" | "case" | "[[") => {
                let first = self.next()?;
                let next = self.peek()?;
                if next.is_word("{") || next.is_op("(") {
                    name = Some(word_of(w.to_string(), &first));
                    self.command()?
                } else {
                    ast::Command::Simple(self.simple_command(Some(first))?)
                }
            }
            _ => self.command()?,
        };
        let end = self.position();
        Ok(CC::Coprocess(ast::CoprocessCommand {
            name,
            body: Box::new(body),
            loc: span(&start.start, &end),
        }))
    }

    /// `select NAME [in WORDS]; do BODY; done`, as
    /// `{ __hookbox_select --start; while __hookbox_select NAME WORDS; do BODY; done; }`.
    fn select(&mut self) -> Result<CC, SyntaxError> {
        let start = self.expect_word("select")?;
        let name = self.next()?;
        let Some(var) = name.word().map(str::to_string) else {
            return Err(self.unexpected(&name));
        };
        let values = self.loop_words()?;
        let body = self.loop_body()?;
        let loc = span(&start.start, &body.loc.end);
        let builtin = |args: Vec<ast::Word>| {
            let cmd = ast::SimpleCommand {
                prefix: None,
                word_or_name: Some(plain_word(super::SELECT_BUILTIN)),
                suffix: Some(ast::CommandSuffix(
                    args.into_iter()
                        .map(ast::CommandPrefixOrSuffixItem::Word)
                        .collect(),
                )),
            };
            lone_command(ast::Command::Simple(cmd))
        };
        let mut turn = vec![word_of(var, &name)];
        turn.extend(values.unwrap_or_else(|| vec![plain_word("\"$@\"")]));
        let looped = ast::Command::Compound(
            CC::WhileClause(ast::WhileOrUntilClauseCommand(
                ast::CompoundList(vec![builtin(turn)]),
                body,
                loc.clone(),
            )),
            None,
        );
        let list = ast::CompoundList(vec![
            builtin(vec![plain_word("--start")]),
            lone_command(looped),
        ]);
        Ok(CC::BraceGroup(ast::BraceGroupCommand { list, loc }))
    }

    fn case_clause(&mut self) -> Result<CC, SyntaxError> {
        let start = self.expect_word("case")?;
        let subject = self.next()?;
        let Some(text) = subject.word().map(str::to_string) else {
            return Err(self.unexpected(&subject));
        };
        let value = word_of(text, &subject);
        self.skip_newlines()?;
        self.expect_word("in")?;
        let mut cases = Vec::new();
        let end = loop {
            self.skip_newlines()?;
            if self.peek()?.is_word("esac") {
                break self.next()?;
            }
            let first = self.peek()?.clone();
            if first.is_op("(") {
                self.next()?;
            } else {
                // The word parser finds a `$( )` body's end again: it needs the `(`.
                self.edit(first.start.index, first.start.index, "(");
            }
            let mut patterns = Vec::new();
            loop {
                let t = self.next()?;
                let Some(text) = t.word().map(str::to_string) else {
                    return Err(self.unexpected(&t));
                };
                patterns.push(word_of(text, &t));
                let sep = self.next()?;
                if sep.is_op(")") {
                    break;
                }
                if !sep.is_op("|") {
                    return Err(self.unexpected(&sep));
                }
            }
            let body = self.compound_list(true)?;
            let t = self.peek()?.clone();
            let post_action = match &t.tok {
                Tok::Op(";;") => ast::CaseItemPostAction::ExitCase,
                Tok::Op(";&") => ast::CaseItemPostAction::UnconditionallyExecuteNextCaseItem,
                Tok::Op(";;&") => ast::CaseItemPostAction::ContinueEvaluatingCases,
                Tok::Word(w) if w == "esac" => ast::CaseItemPostAction::ExitCase,
                _ => return Err(self.unexpected(&t)),
            };
            if !t.is_word("esac") {
                self.next()?;
            }
            cases.push(ast::CaseItem {
                patterns,
                cmd: (!body.0.is_empty()).then_some(body),
                post_action,
                loc: Some(span(&first.start, &t.end)),
            });
        };
        Ok(CC::CaseClause(ast::CaseClauseCommand {
            value,
            cases,
            loc: span(&start.start, &end.end),
        }))
    }

    /// `function NAME [()] BODY`.
    fn function_keyword(&mut self) -> Result<ast::Command, SyntaxError> {
        self.expect_word("function")?;
        let name = self.next()?;
        let Some(text) = name.word().map(str::to_string) else {
            return Err(self.unexpected(&name));
        };
        if self.peek()?.is_op("(") {
            self.next()?;
            let close = self.next()?;
            if !close.is_op(")") {
                return Err(self.unexpected(&close));
            }
        }
        self.function_body(word_of(text, &name))
    }

    /// After a command's first word: `NAME ( ) BODY` or a simple command.
    fn simple_or_function(&mut self, first: Token) -> Result<ast::Command, SyntaxError> {
        let text = first.word().unwrap_or_default().to_string();
        let next = self.peek()?;
        let contiguous = next.start.index == first.end.index;
        if next.is_op("(") && !(contiguous && words::assignment_head(&text).is_some()) {
            self.next()?;
            let close = self.next()?;
            if !close.is_op(")") {
                return Err(self.unexpected(&close));
            }
            return self.function_body(word_of(text, &first));
        }
        Ok(ast::Command::Simple(self.simple_command(Some(first))?))
    }

    fn function_body(&mut self, fname: ast::Word) -> Result<ast::Command, SyntaxError> {
        self.skip_newlines()?;
        let t = self.peek()?.clone();
        let body = if t.is_word("[[") {
            // bash prints such a body back as a brace group around the test.
            let (c, r) = self.extended_test()?;
            let loc = c.loc.clone();
            let item = lone_command(ast::Command::ExtendedTest(c, r));
            CC::BraceGroup(ast::BraceGroupCommand {
                list: ast::CompoundList(vec![item]),
                loc,
            })
        } else if t.is_op("(")
            || matches!(
                t.word(),
                Some("{" | "if" | "while" | "until" | "for" | "case")
            )
        {
            self.compound_command()?
        } else {
            return Err(self.unexpected(&t));
        };
        let redirects = self.redirect_list()?;
        Ok(ast::Command::Function(ast::FunctionDefinition {
            fname,
            body: ast::FunctionBody(body, redirects),
        }))
    }

    pub(super) fn redirect_list(&mut self) -> Result<Option<ast::RedirectList>, SyntaxError> {
        let mut list = Vec::new();
        loop {
            let t = self.peek()?;
            let fd = match &t.tok {
                Tok::IoNumber(n) => Some(*n),
                Tok::Op(op) if is_redirect_op(op) => None,
                _ => break,
            };
            if fd.is_some() {
                self.next()?;
            }
            list.push(self.redirect(fd)?);
        }
        Ok((!list.is_empty()).then_some(ast::RedirectList(list)))
    }

    /// A word operand (a redirection's target): the end of input is an unexpected newline.
    fn operand(&mut self) -> Result<ast::Word, SyntaxError> {
        let t = self.next()?;
        match t.word() {
            Some(w) => Ok(word_of(w.to_string(), &t)),
            None => Err(self.near(&t)),
        }
    }

    /// One redirection, its operator next (its fd, if any, already read).
    fn redirect(&mut self, fd: Option<i32>) -> Result<ast::IoRedirect, SyntaxError> {
        use ast::{IoFileRedirectKind as K, IoFileRedirectTarget as T, IoRedirect as R};
        let op = self.next()?;
        let Tok::Op(o) = op.tok else {
            return Err(self.unexpected(&op));
        };
        let file = |kind: K, this: &mut Self| -> Result<R, SyntaxError> {
            let t = this.peek()?;
            if t.is_op("<(") || t.is_op(">(") {
                let (k, sub) = this.process_substitution()?;
                return Ok(R::File(fd, kind, T::ProcessSubstitution(k, sub)));
            }
            Ok(R::File(fd, kind, T::Filename(this.operand()?)))
        };
        Ok(match o {
            "<" => file(K::Read, self)?,
            ">" => file(K::Write, self)?,
            ">>" => file(K::Append, self)?,
            "<>" => file(K::ReadAndWrite, self)?,
            ">|" => file(K::Clobber, self)?,
            "<&" => R::File(fd, K::DuplicateInput, T::Duplicate(self.operand()?)),
            ">&" => R::File(fd, K::DuplicateOutput, T::Duplicate(self.operand()?)),
            "&>" => R::OutputAndError(self.operand()?, false),
            "&>>" => R::OutputAndError(self.operand()?, true),
            "<<<" => R::HereString(fd, self.operand()?),
            "<<" | "<<-" => {
                let tag = self.operand()?;
                let (delimiter, quoted) = words::heredoc_delimiter(&tag.value);
                let (body, closed) = self.read_here_body(&delimiter, o == "<<-");
                if !closed {
                    self.warnings.push(super::Warning {
                        line: self.src.lines().count().max(1),
                        message: format!(
                            "here-document at line {} delimited by end-of-file (wanted `{delimiter}')",
                            op.start.line
                        ),
                    });
                }
                R::HereDocument(
                    fd,
                    ast::IoHereDocument {
                        remove_tabs: o == "<<-",
                        requires_expansion: !quoted,
                        here_end: tag,
                        doc: plain_word(&body),
                    },
                )
            }
            _ => return Err(self.unexpected(&op)),
        })
    }

    fn process_substitution(
        &mut self,
    ) -> Result<(ast::ProcessSubstitutionKind, ast::SubshellCommand), SyntaxError> {
        let open = self.next()?;
        let kind = if open.is_op("<(") {
            ast::ProcessSubstitutionKind::Read
        } else {
            ast::ProcessSubstitutionKind::Write
        };
        let list = self.subshell_body()?;
        let end = self.position();
        Ok((
            kind,
            ast::SubshellCommand {
                list,
                loc: span(&open.start, &end),
            },
        ))
    }

    /// Assignments and redirections, the command word, then its arguments and redirections.
    fn simple_command(&mut self, first: Option<Token>) -> Result<ast::SimpleCommand, SyntaxError> {
        let mut prefix = Vec::new();
        let mut name: Option<ast::Word> = None;
        let mut suffix = Vec::new();
        let mut pending = first;
        loop {
            let t = match pending.take() {
                Some(t) => t,
                None => {
                    if let Some(after) = self.alias_next {
                        if self.peek()?.start.index >= after {
                            self.alias_next = None;
                            while self.expand_alias()? {}
                        }
                    }
                    let t = self.peek()?;
                    match &t.tok {
                        Tok::Word(_) => self.next()?,
                        Tok::IoNumber(n) => {
                            let n = *n;
                            self.next()?;
                            let r =
                                ast::CommandPrefixOrSuffixItem::IoRedirect(self.redirect(Some(n))?);
                            push_item(&name, &mut prefix, &mut suffix, r);
                            continue;
                        }
                        Tok::Op(op) if is_redirect_op(op) => {
                            let r =
                                ast::CommandPrefixOrSuffixItem::IoRedirect(self.redirect(None)?);
                            push_item(&name, &mut prefix, &mut suffix, r);
                            continue;
                        }
                        Tok::Op("<(" | ">(") => {
                            let (k, sub) = self.process_substitution()?;
                            let item = ast::CommandPrefixOrSuffixItem::ProcessSubstitution(k, sub);
                            push_item(&name, &mut prefix, &mut suffix, item);
                            continue;
                        }
                        _ => break,
                    }
                }
            };
            let t = match name {
                None => self.relex_assignment(&t)?.unwrap_or(t),
                Some(_) => t,
            };
            let text = t.word().unwrap_or_default().to_string();
            if let Some(item) = self.assignment(&text, &t)? {
                push_item(&name, &mut prefix, &mut suffix, item);
            } else if name.is_none() {
                name = Some(word_of(text, &t));
            } else {
                suffix.push(ast::CommandPrefixOrSuffixItem::Word(word_of(text, &t)));
            }
        }
        if prefix.is_empty() && name.is_none() && suffix.is_empty() {
            let t = self.peek()?.clone();
            return Err(self.unexpected(&t));
        }
        Ok(ast::SimpleCommand {
            prefix: (!prefix.is_empty()).then_some(ast::CommandPrefix(prefix)),
            word_or_name: name,
            suffix: (!suffix.is_empty()).then_some(ast::CommandSuffix(suffix)),
        })
    }

    /// `NAME=value`, `NAME[i]=value`, `NAME+=...`, or `NAME=( ... )` (whose parenthesis is
    /// the next token, written right after the `=`).
    fn assignment(
        &mut self,
        text: &str,
        t: &Token,
    ) -> Result<Option<ast::CommandPrefixOrSuffixItem>, SyntaxError> {
        let Some((name, append, at)) = words::assignment_head(text) else {
            return Ok(None);
        };
        let next = self.peek()?;
        let array = at == text.len() && next.is_op("(") && next.start.index == t.end.index;
        if !array {
            let value = &text[at..];
            let a = ast::Assignment {
                name,
                value: ast::AssignmentValue::Scalar(plain_word(value)),
                append,
                loc: span(&t.start, &t.end),
            };
            return Ok(Some(ast::CommandPrefixOrSuffixItem::AssignmentWord(
                a,
                word_of(text.to_string(), t),
            )));
        }
        let open = self.next()?;
        let mut elements = Vec::new();
        let close = loop {
            self.skip_newlines()?;
            let e = self.next()?;
            match &e.tok {
                Tok::Word(w) => elements.push(w.clone()),
                Tok::Op(")") => break e,
                Tok::Eof => return Err(self.unterminated(")", open.start.line)),
                _ => return Err(self.unexpected(&e)),
            }
        };
        let whole = format!("{text}({})", elements.join(" "));
        let value = ast::AssignmentValue::Array(
            elements
                .iter()
                .map(|e| {
                    let (k, v) = words::array_element(e);
                    (k.map(plain_word), plain_word(v))
                })
                .collect(),
        );
        let loc = span(&t.start, &close.end);
        let a = ast::Assignment {
            name,
            value,
            append,
            loc: loc.clone(),
        };
        Ok(Some(ast::CommandPrefixOrSuffixItem::AssignmentWord(
            a,
            ast::Word {
                value: whole,
                loc: Some(loc),
            },
        )))
    }
}

fn push_item(
    name: &Option<ast::Word>,
    prefix: &mut Vec<ast::CommandPrefixOrSuffixItem>,
    suffix: &mut Vec<ast::CommandPrefixOrSuffixItem>,
    item: ast::CommandPrefixOrSuffixItem,
) {
    if name.is_none() {
        prefix.push(item);
    } else {
        suffix.push(item);
    }
}

fn if_node(
    condition: ast::CompoundList,
    then: ast::CompoundList,
    elses: Vec<ast::ElseClause>,
    start: &Token,
    end: &Token,
) -> CC {
    CC::IfClause(ast::IfClauseCommand {
        condition,
        then,
        elses: (!elses.is_empty()).then_some(elses),
        loc: span(&start.start, &end.end),
    })
}

/// `|&`: the command's stderr goes down the pipe too, as if it ended in `2>&1`.
fn add_stderr_to_pipe(c: &mut ast::Command) {
    let r = ast::IoRedirect::File(
        Some(2),
        ast::IoFileRedirectKind::DuplicateOutput,
        ast::IoFileRedirectTarget::Fd(1),
    );
    let list = match c {
        ast::Command::Simple(s) => {
            s.suffix
                .get_or_insert_with(|| ast::CommandSuffix(Vec::new()))
                .0
                .push(ast::CommandPrefixOrSuffixItem::IoRedirect(r));
            return;
        }
        ast::Command::Compound(_, l) | ast::Command::ExtendedTest(_, l) => l,
        ast::Command::Function(f) => &mut f.body.1,
    };
    list.get_or_insert_with(|| ast::RedirectList(Vec::new()))
        .0
        .push(r);
}
