//! Assignments: `NAME=value`, `NAME[i]=value`, `NAME=( ... )`, with attributes applied.

use crate::quote::xquote;
use crate::state::{ElemKey, Flow, Shell, Value, R};
use brush_parser::ast::{self};

impl Shell {
    /// Performs an assignment in the current shell; returns the xtrace text (empty when
    /// `set -x` is off: it is not built then).
    pub fn assign(&mut self, a: &ast::Assignment, local: bool) -> R<String> {
        let _ = local;
        match (&a.name, &a.value) {
            (ast::AssignmentName::VariableName(n), ast::AssignmentValue::Scalar(w)) => {
                let text = self.tilde_value(&w.value).into_owned();
                let v = self.expand_string(&text)?;
                // `set -x` shows the expanded right-hand side, with `+=` kept.
                let t = if self.opts.xtrace {
                    format!("{n}{}={}", if a.append { "+" } else { "" }, xquote(&v))
                } else {
                    String::new()
                };
                // The integer attribute that counts is the nameref target's.
                let target = if self.has_namerefs {
                    let r = self.resolve(n).into_owned();
                    if r.contains(['[', '\u{0}']) {
                        n.to_string()
                    } else {
                        r
                    }
                } else {
                    n.to_string()
                };
                let integer = self.is_integer(&target) || self.is_integer(n);
                let v = if integer {
                    let base = if a.append {
                        self.get(n).and_then(|s| s.parse::<i64>().ok()).unwrap_or(0)
                    } else {
                        0
                    };
                    (base + self.arith_str(&v)?).to_string()
                } else if a.append {
                    format!("{}{}", self.get(n).unwrap_or_default(), v)
                } else {
                    v
                };
                if let Err(e) = self.set_var(n, v) {
                    self.error(&e.to_string());
                    return Err(self.assignment_failed());
                }
                Ok(t)
            }
            (ast::AssignmentName::ArrayElementName(n, idx), ast::AssignmentValue::Scalar(w)) => {
                if idx.trim().is_empty() {
                    self.error(&format!("{n}[{idx}]: bad array subscript"));
                    return Err(Flow::Abort(1));
                }
                let text = self.tilde_value(&w.value).into_owned();
                let v = self.expand_string(&text)?;
                let key = if self.is_assoc(n) {
                    ElemKey::Str(self.expand_string(idx)?)
                } else {
                    let e = self.expand_arith(idx)?;
                    ElemKey::Idx(self.arith_str(&e)?)
                };
                let t = if self.opts.xtrace {
                    format!(
                        "{n}[{idx}]{}={}",
                        if a.append { "+" } else { "" },
                        xquote(&v)
                    )
                } else {
                    String::new()
                };
                let v = if a.append {
                    let cur = match &key {
                        ElemKey::Str(k) => self
                            .get_array(n)
                            .and_then(|a| a.into_iter().find(|(kk, _)| kk == k).map(|(_, v)| v)),
                        ElemKey::Idx(i) => self.index_get(n, *i),
                    };
                    self.append_value(n, cur, v)?
                } else {
                    self.int_value(n, v)?
                };
                if let Err(e) = self.set_elem(n, key, v) {
                    self.error(&e.to_string());
                    return Err(self.assignment_failed());
                }
                Ok(t)
            }
            (ast::AssignmentName::VariableName(n), ast::AssignmentValue::Array(items)) => {
                self.assign_array(n, items, a.append)?;
                // bash traces a compound assignment as written.
                Ok(a.to_string())
            }
            (ast::AssignmentName::ArrayElementName(n, _), ast::AssignmentValue::Array(_)) => {
                self.error(&format!("{n}: cannot assign list to array member"));
                Err(Flow::Abort(1))
            }
        }
    }

    /// A failed assignment (a readonly variable) abandons the rest of the
    /// line; under `set -e` it ends the shell, even inside a condition.
    fn assignment_failed(&self) -> Flow {
        if self.opts.errexit {
            Flow::Exit(1)
        } else {
            Flow::Abort(1)
        }
    }

    pub fn assign_array(
        &mut self,
        n0: &str,
        items: &[(Option<ast::Word>, ast::Word)],
        append: bool,
    ) -> R<()> {
        let resolved = self.resolve(n0);
        let n: &str = &resolved;
        if n.contains('[') {
            self.error(&format!("`{n}': not a valid identifier"));
            return Err(Flow::Abort(1));
        }
        let assoc = self.is_assoc(n);
        if assoc {
            let mut m = match (append, self.lookup(n).and_then(|v| v.value.clone())) {
                (true, Some(Value::Assoc(m))) => m,
                _ => Default::default(),
            };
            let mut pending_key: Option<String> = None;
            for (k, v) in items {
                match k {
                    Some(k) => {
                        let key = self.expand_string(&k.value)?;
                        let val = self.expand_string(&v.value)?;
                        let val = self.int_value(n, val)?;
                        m.insert(key, val);
                    }
                    None => {
                        let val = self.expand_string(&v.value)?;
                        match pending_key.take() {
                            Some(key) => {
                                let val = self.int_value(n, val)?;
                                m.insert(key, val);
                            }
                            None => pending_key = Some(val),
                        }
                    }
                }
            }
            if let Some(k) = pending_key {
                m.insert(k, String::new());
            }
            if let Err(e) = self.set_value(n, Value::Assoc(m)) {
                self.error(&e.to_string());
                return Err(Flow::Abort(1));
            }
            return Ok(());
        }
        let mut a = match (append, self.lookup(n).and_then(|v| v.value.clone())) {
            (true, Some(Value::Arr(m))) => m,
            (true, Some(Value::Str(s))) => {
                let mut m = std::collections::BTreeMap::new();
                m.insert(0, s);
                m
            }
            _ => Default::default(),
        };
        let mut next = a.keys().next_back().map(|k| k + 1).unwrap_or(0);
        // bash expands every element first, then evaluates each key and assigns it, so a
        // key may read an element assigned before it in the same list.
        let mut expanded = Vec::with_capacity(items.len());
        for (k, v) in items {
            match k {
                Some(k) => {
                    let key = self.expand_arith(&k.value)?;
                    let val = self.expand_string(&v.value)?;
                    expanded.push((Some(key), vec![val]));
                }
                None => expanded.push((None, self.expand_fields(&v.value)?)),
            }
        }
        let live = expanded
            .iter()
            .any(|(k, _)| k.as_ref().is_some_and(|k| k.contains(n)));
        if live && !append {
            let _ = self.set_value(n, Value::Arr(Default::default()));
        }
        for (k, vals) in expanded {
            if let Some(k) = k {
                next = self.arith_str(&k)?;
            }
            for val in vals {
                let val = self.int_value(n, val)?;
                a.insert(next, val);
                next += 1;
            }
            if live {
                let _ = self.set_value(n, Value::Arr(a.clone()));
            }
        }
        if let Err(e) = self.set_value(n, Value::Arr(a)) {
            self.error(&e.to_string());
            return Err(Flow::Abort(1));
        }
        Ok(())
    }
}
