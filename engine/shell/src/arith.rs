//! Arithmetic evaluation (`$(( ))`, `(( ))`, `let`, array indices, `declare -i`) over the
//! parser's expression tree, with bash's 64-bit wrapping integers.

use crate::state::{ElemKey, Flow, Shell, R};
use brush_parser::ast::{
    ArithmeticExpr as E, ArithmeticTarget as T, BinaryOperator as B, UnaryAssignmentOperator as UA,
    UnaryOperator as U,
};
use std::rc::Rc;

impl Shell {
    /// Evaluates an (already expanded) arithmetic expression string.
    pub fn arith_str(&mut self, s: &str) -> R<i64> {
        self.arith_str_depth(s, 0)
    }

    fn arith_str_depth(&mut self, s: &str, depth: u32) -> R<i64> {
        let t = s.trim();
        // An empty expression (`$(( ))`, `${a[@]: }`) is 0 for bash.
        if t.is_empty() {
            return Ok(0);
        }
        // A plain decimal number needs no parse (a leading 0, after any sign, is octal).
        let digits = t.strip_prefix(['-', '+']).unwrap_or(t);
        if let Some(n) = t
            .parse::<i64>()
            .ok()
            .filter(|_| !digits.starts_with('0') || digits == "0")
        {
            return Ok(n);
        }
        if depth > 64 {
            return Err(self.arith_error(s, "expression recursion level exceeded", s));
        }
        let cached = self.caches.borrow().arith.get(s).cloned();
        let expr = match cached {
            Some(e) => e,
            None => match brush_parser::arithmetic::parse(s) {
                Ok(e) => {
                    let e = Rc::new(e);
                    self.caches
                        .borrow_mut()
                        .arith
                        .insert(s.to_string(), e.clone());
                    e
                }
                Err(_) => {
                    if let Some((end, lit)) = bad_literal(s.trim_start()) {
                        let shown = &s.trim_start()[..end];
                        return Err(self.arith_error(shown, "value too great for base", lit));
                    }
                    let tok = error_token(t);
                    let msg = if tok.is_empty()
                        || t.ends_with(['+', '-', '*', '/', '%', '<', '>', '=', '&', '|', '^'])
                    {
                        "syntax error: operand expected"
                    } else {
                        "syntax error in expression"
                    };
                    let tok = if tok.is_empty() { t.to_string() } else { tok };
                    // An expression ending in an operator: bash shows the text from that
                    // operator on, trailing blanks included, as it does the expression.
                    let shown = s.trim_start();
                    let body = shown.trim_end();
                    let (msg, tok) = match trailing_operator(shown) {
                        Some(op) if msg.ends_with("operand expected") => (msg, op.to_string()),
                        // Two operands with nothing between: the second is the error.
                        None if error_token(t).is_empty() && body.contains([' ', '\t']) => {
                            let at = body.find([' ', '\t']).unwrap_or(0);
                            (
                                "syntax error in expression",
                                shown[at..].trim_start().to_string(),
                            )
                        }
                        _ => (msg, tok),
                    };
                    return Err(self.arith_error(shown, msg, &tok));
                }
            },
        };
        self.eval(&expr, s, depth)
    }

    fn arith_error(&mut self, expr: &str, msg: &str, tok: &str) -> Flow {
        self.error(&format!(
            "{}{expr}: {msg} (error token is \"{tok}\")",
            self.arith_cmd
        ));
        Flow::Abort(1)
    }

    /// Evaluates for the `((`, `for ((` and `let` commands, whose errors bash prefixes
    /// with the command's name.
    pub fn arith_cmd_str(&mut self, cmd: &'static str, s: &str) -> R<i64> {
        let saved = std::mem::replace(&mut self.arith_cmd, cmd);
        let r = self.arith_str(s);
        self.arith_cmd = saved;
        r
    }

    fn var_value(&mut self, t: &T, src: &str, depth: u32) -> R<i64> {
        let s = match t {
            T::Variable(n) => {
                if !self.is_set(n) && self.opts.nounset {
                    self.error(&format!("{n}: unbound variable"));
                    return Err(Flow::Exit(self.messages.fatal_status));
                }
                self.get(n)
            }
            T::ArrayElement(n, idx) => {
                if self.is_assoc(n) {
                    let key = self.arith_key_text(idx);
                    self.get_array(n)
                        .and_then(|a| a.into_iter().find(|(k, _)| *k == key).map(|(_, v)| v))
                } else {
                    let i = self.eval(idx, src, depth)?;
                    self.index_get(n, i)
                }
            }
        };
        match s {
            None => Ok(0),
            Some(v) if v.trim().is_empty() => Ok(0),
            Some(v) => self.arith_str_depth(&v, depth + 1),
        }
    }

    fn arith_key_text(&self, e: &E) -> String {
        match e {
            E::Reference(T::Variable(n)) => n.clone(),
            E::Literal(n) => n.to_string(),
            _ => String::new(),
        }
    }

    pub fn index_get(&self, n: &str, i: i64) -> Option<String> {
        let arr = self.get_array(n)?;
        let i = if i < 0 {
            let max = arr
                .last()
                .and_then(|(k, _)| k.parse::<i64>().ok())
                .unwrap_or(-1);
            max + 1 + i
        } else {
            i
        };
        let key = i.to_string();
        arr.into_iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    fn arith_assign(&mut self, t: &T, v: i64, src: &str, depth: u32) -> R<i64> {
        let r = match t {
            T::Variable(n) => self.set_var(n, v.to_string()),
            T::ArrayElement(n, idx) => {
                let key = if self.is_assoc(n) {
                    ElemKey::Str(self.arith_key_text(idx))
                } else {
                    ElemKey::Idx(self.eval(idx, src, depth)?)
                };
                self.set_elem(n, key, v.to_string())
            }
        };
        if let Err(e) = r {
            self.error(&e.to_string());
            return Err(Flow::Abort(1));
        }
        Ok(v)
    }

    fn eval(&mut self, e: &E, src: &str, depth: u32) -> R<i64> {
        Ok(match e {
            E::Literal(n) => *n,
            E::Reference(t) => self.var_value(t, src, depth)?,
            E::UnaryOp(op, x) => {
                let v = self.eval(x, src, depth)?;
                match op {
                    U::UnaryPlus => v,
                    U::UnaryMinus => v.wrapping_neg(),
                    U::BitwiseNot => !v,
                    U::LogicalNot => (v == 0) as i64,
                }
            }
            E::BinaryOp(B::LogicalAnd, a, b) => {
                (self.eval(a, src, depth)? != 0 && self.eval(b, src, depth)? != 0) as i64
            }
            E::BinaryOp(B::LogicalOr, a, b) => {
                (self.eval(a, src, depth)? != 0 || self.eval(b, src, depth)? != 0) as i64
            }
            E::BinaryOp(op, a, b) => {
                let x = self.eval(a, src, depth)?;
                let y = self.eval(b, src, depth)?;
                self.binop(op, x, y, src)?
            }
            E::Conditional(c, a, b) => {
                if self.eval(c, src, depth)? != 0 {
                    self.eval(a, src, depth)?
                } else {
                    self.eval(b, src, depth)?
                }
            }
            E::Assignment(t, x) => {
                let v = self.eval(x, src, depth)?;
                self.arith_assign(t, v, src, depth)?
            }
            E::BinaryAssignment(op, t, x) => {
                let cur = self.var_value(t, src, depth)?;
                let y = self.eval(x, src, depth)?;
                let v = self.binop(op, cur, y, src)?;
                self.arith_assign(t, v, src, depth)?
            }
            E::UnaryAssignment(op, t) => {
                let cur = self.var_value(t, src, depth)?;
                let (new, ret) = match op {
                    UA::PrefixIncrement => (cur.wrapping_add(1), cur.wrapping_add(1)),
                    UA::PrefixDecrement => (cur.wrapping_sub(1), cur.wrapping_sub(1)),
                    UA::PostfixIncrement => (cur.wrapping_add(1), cur),
                    UA::PostfixDecrement => (cur.wrapping_sub(1), cur),
                };
                self.arith_assign(t, new, src, depth)?;
                ret
            }
        })
    }

    fn binop(&mut self, op: &B, x: i64, y: i64, src: &str) -> R<i64> {
        Ok(match op {
            B::Power => {
                if y < 0 {
                    return Err(self.arith_error(
                        src.trim(),
                        "exponent less than 0",
                        &y.to_string(),
                    ));
                }
                x.wrapping_pow(y.min(u32::MAX as i64) as u32)
            }
            B::Multiply => x.wrapping_mul(y),
            B::Divide | B::Modulo => {
                if y == 0 {
                    // bash shows the expression and token with their trailing blanks.
                    let tok = src
                        .trim_start()
                        .rsplit(['/', '%'])
                        .next()
                        .unwrap_or("")
                        .trim_start()
                        .to_string();
                    return Err(self.arith_error(src.trim_start(), "division by 0", &tok));
                }
                if matches!(op, B::Divide) {
                    x.wrapping_div(y)
                } else {
                    x.wrapping_rem(y)
                }
            }
            B::Comma => y,
            B::Add => x.wrapping_add(y),
            B::Subtract => x.wrapping_sub(y),
            B::ShiftLeft => x.wrapping_shl(y as u32),
            B::ShiftRight => x.wrapping_shr(y as u32),
            B::LessThan => (x < y) as i64,
            B::LessThanOrEqualTo => (x <= y) as i64,
            B::GreaterThan => (x > y) as i64,
            B::GreaterThanOrEqualTo => (x >= y) as i64,
            B::Equals => (x == y) as i64,
            B::NotEquals => (x != y) as i64,
            B::BitwiseAnd => x & y,
            B::BitwiseXor => x ^ y,
            B::BitwiseOr => x | y,
            B::LogicalAnd => (x != 0 && y != 0) as i64,
            B::LogicalOr => (x != 0 || y != 0) as i64,
        })
    }
}

/// bash reports the text from the first character it could not parse.
/// The operator (one or two characters) ending `s`, with the blanks after it.
fn trailing_operator(s: &str) -> Option<&str> {
    let body = s.trim_end();
    let last = body.chars().last()?;
    if !"+-*/%<>=&|^!~".contains(last) {
        return None;
    }
    let mut start = body.len() - last.len_utf8();
    if let Some(prev) = body[..start].chars().last() {
        let two = format!("{prev}{last}");
        if [
            "!=", "<=", ">=", "==", "&&", "||", "**", "<<", ">>", "++", "--",
        ]
        .contains(&two.as_str())
        {
            start -= prev.len_utf8();
        }
    }
    Some(&s[start..])
}

/// The first number in `t` with a digit its base does not have (`08`, `2#3`): where it
/// ends and its text.
fn bad_literal(t: &str) -> Option<(usize, &str)> {
    let b = t.as_bytes();
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c == b'@' || c == b'#';
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_digit() || (i > 0 && word(b[i - 1])) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && word(b[i]) {
            i += 1;
        }
        let lit = &t[start..i];
        let bad = match lit.split_once('#') {
            Some((base, digits)) => match base.parse::<u32>() {
                Ok(base @ 2..=64) => digits.chars().any(|c| {
                    let v = match c {
                        '0'..='9' => c as u32 - '0' as u32,
                        'a'..='z' => c as u32 - 'a' as u32 + 10,
                        'A'..='Z' if base <= 36 => c as u32 - 'A' as u32 + 10,
                        'A'..='Z' => c as u32 - 'A' as u32 + 36,
                        '@' => 62,
                        _ => 63,
                    };
                    v >= base
                }),
                _ => false,
            },
            None => {
                lit.len() > 1
                    && lit.starts_with('0')
                    && !lit[1..].starts_with(['x', 'X'])
                    && lit.contains(['8', '9'])
            }
        };
        if bad {
            return Some((i, lit));
        }
    }
    None
}

fn error_token(t: &str) -> String {
    let ops = [
        '+', '-', '*', '/', '%', '<', '>', '=', '&', '|', '^', '!', '~', '(', ')', '?', ':', ',',
    ];
    if let Some(p) = t.rfind(|c: char| ops.contains(&c)) {
        let rest = t[p..].trim();
        if rest.len() > 1 {
            return t[p + 1..].trim().to_string();
        }
        return rest.to_string();
    }
    String::new()
}
