//! `[[ ... ]]`: `||` over `&&` over `!` over terms. bash skips newlines before a term and
//! after a complete one, not after a bare word; its errors here are its own ("conditional
//! binary operator expected"), and a script ends on them with the status it had.

use super::grammar::{span, word_of};
use super::lexer::{Tok, Token};
use super::{ErrorKind, Parser, SyntaxError};
use brush_parser::ast::{self, BinaryPredicate as B, ExtendedTestExpr as E, UnaryPredicate as U};

fn unary(op: &str) -> Option<U> {
    Some(match op {
        "-a" | "-e" => U::FileExists,
        "-b" => U::FileExistsAndIsBlockSpecialFile,
        "-c" => U::FileExistsAndIsCharSpecialFile,
        "-d" => U::FileExistsAndIsDir,
        "-f" => U::FileExistsAndIsRegularFile,
        "-g" => U::FileExistsAndIsSetgid,
        "-h" | "-L" => U::FileExistsAndIsSymlink,
        "-k" => U::FileExistsAndHasStickyBit,
        "-n" => U::StringHasNonZeroLength,
        "-o" => U::ShellOptionEnabled,
        "-p" => U::FileExistsAndIsFifo,
        "-r" => U::FileExistsAndIsReadable,
        "-s" => U::FileExistsAndIsNotZeroLength,
        "-t" => U::FdIsOpenTerminal,
        "-u" => U::FileExistsAndIsSetuid,
        "-v" => U::ShellVariableIsSetAndAssigned,
        "-w" => U::FileExistsAndIsWritable,
        "-x" => U::FileExistsAndIsExecutable,
        "-z" => U::StringHasZeroLength,
        "-G" => U::FileExistsAndOwnedByEffectiveGroupId,
        "-N" => U::FileExistsAndModifiedSinceLastRead,
        "-O" => U::FileExistsAndOwnedByEffectiveUserId,
        "-R" => U::ShellVariableIsSetAndNameRef,
        "-S" => U::FileExistsAndIsSocket,
        _ => return None,
    })
}

fn binary(t: &Token) -> Option<B> {
    Some(match &t.tok {
        Tok::Op("<") => B::LeftSortsBeforeRight,
        Tok::Op(">") => B::LeftSortsAfterRight,
        Tok::Word(w) => match w.as_str() {
            "==" | "=" => B::StringExactlyMatchesPattern,
            "!=" => B::StringDoesNotExactlyMatchPattern,
            "=~" => B::StringMatchesRegex,
            "-eq" => B::ArithmeticEqualTo,
            "-ne" => B::ArithmeticNotEqualTo,
            "-lt" => B::ArithmeticLessThan,
            "-le" => B::ArithmeticLessThanOrEqualTo,
            "-gt" => B::ArithmeticGreaterThan,
            "-ge" => B::ArithmeticGreaterThanOrEqualTo,
            "-ef" => B::FilesReferToSameDeviceAndInodeNumbers,
            "-nt" => B::LeftFileIsNewerOrExistsWhenRightDoesNot,
            "-ot" => B::LeftFileIsOlderOrDoesNotExistWhenRightDoes,
            _ => return None,
        },
        _ => None?,
    })
}

impl Parser {
    /// `[[ EXPR ]]` and the redirections after it.
    pub(super) fn extended_test(
        &mut self,
    ) -> Result<(ast::ExtendedTestExprCommand, Option<ast::RedirectList>), SyntaxError> {
        let open = self.next()?;
        let expr = self.cond_or()?;
        let close = self.next()?;
        if !close.is_word("]]") {
            if close.tok == Tok::Eof {
                return Err(self.unexpected(&close));
            }
            return Err(self.cond_error(&close, "conditional binary operator expected".into()));
        }
        let cmd = ast::ExtendedTestExprCommand {
            expr,
            loc: span(&open.start, &close.end),
        };
        Ok((cmd, self.redirect_list()?))
    }

    fn cond_error(&self, at: &Token, message: String) -> SyntaxError {
        SyntaxError {
            line: at.start.line,
            message,
            kind: ErrorKind::Conditional,
        }
    }

    fn cond_or(&mut self) -> Result<E, SyntaxError> {
        let mut left = self.cond_and()?;
        while self.peek()?.is_op("||") {
            self.next()?;
            let right = self.cond_and()?;
            left = E::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn cond_and(&mut self) -> Result<E, SyntaxError> {
        let mut left = self.cond_not()?;
        while self.peek()?.is_op("&&") {
            self.next()?;
            let right = self.cond_not()?;
            left = E::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn cond_not(&mut self) -> Result<E, SyntaxError> {
        self.skip_cond_newlines()?;
        if self.peek()?.is_word("!") {
            self.next()?;
            return Ok(E::Not(Box::new(self.cond_not()?)));
        }
        let term = self.cond_term()?;
        self.skip_cond_newlines()?;
        Ok(term)
    }

    fn skip_cond_newlines(&mut self) -> Result<(), SyntaxError> {
        while self.peek()?.tok == Tok::Newline {
            self.next()?;
        }
        Ok(())
    }

    fn cond_term(&mut self) -> Result<E, SyntaxError> {
        let t = self.next()?;
        if t.is_op("(") {
            let inner = self.cond_or();
            let close = self.peek()?.clone();
            let inner = match inner {
                Ok(e) => e,
                Err(mut e) if e.kind == ErrorKind::Conditional => {
                    if !close.is_op(")") {
                        e.message.push_str("\x00expected `)'");
                    }
                    return Err(e);
                }
                Err(e) => return Err(e),
            };
            if !close.is_op(")") {
                return Err(self.cond_error(
                    &close,
                    format!("unexpected token `{}', expected `)'", close.shown()),
                ));
            }
            self.next()?;
            return Ok(E::Parenthesized(Box::new(inner)));
        }
        let Some(w) = t.word().map(str::to_string) else {
            return Err(self.unexpected(&t));
        };
        if w == "]]" {
            return Err(self.cond_error(&t, String::new()));
        }
        if let Some(op) = unary(&w) {
            let arg = self.next()?;
            return match arg.word() {
                Some(a) if a != "]]" => Ok(E::UnaryTest(op, word_of(a.to_string(), &arg))),
                _ => Err(self.cond_error(
                    &arg,
                    format!(
                        "unexpected argument `{}' to conditional unary operator",
                        arg.shown()
                    ),
                )),
            };
        }
        let left = word_of(w, &t);
        let op_tok = self.peek()?.clone();
        if op_tok.is_word("]]") || op_tok.is_op("&&") || op_tok.is_op("||") || op_tok.is_op(")") {
            return Ok(E::UnaryTest(U::StringHasNonZeroLength, left));
        }
        let Some(mut op) = binary(&op_tok) else {
            let message = match op_tok.tok {
                Tok::Newline => {
                    "unexpected token `newline', conditional binary operator expected".to_string()
                }
                Tok::Eof => return Err(self.unexpected(&op_tok)),
                _ => "conditional binary operator expected".to_string(),
            };
            return Err(self.cond_error(&op_tok, message));
        };
        self.next()?;
        let right = if matches!(op, B::StringMatchesRegex) {
            self.scan_regex()?.filter(|r| !r.is_word("]]"))
        } else {
            let r = self.next()?;
            match r.word() {
                Some(x) if x != "]]" => Some(r),
                _ => {
                    return Err(self.cond_error(
                        &r,
                        format!(
                            "unexpected argument `{}' to conditional binary operator",
                            r.shown()
                        ),
                    ))
                }
            }
        };
        let Some(right) = right else {
            let r = self.peek()?.clone();
            return Err(self.cond_error(
                &r,
                format!(
                    "unexpected argument `{}' to conditional binary operator",
                    r.shown()
                ),
            ));
        };
        let text = right.word().unwrap_or_default().to_string();
        if matches!(op, B::StringMatchesRegex) && text.starts_with(['\'', '"']) {
            op = B::StringContainsSubstring;
        }
        Ok(E::BinaryTest(op, left, word_of(text, &right)))
    }
}
