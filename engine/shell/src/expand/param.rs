//! Parameter expansion: `${...}`, one function per operator.

use super::*;

/// Which end `%`/`#` cut (`prefix` for `#`), and whether the longest match (`%%`, `##`).
#[derive(Clone, Copy)]
struct Affix {
    prefix: bool,
    longest: bool,
}

/// `^`/`,` (`upper` for `^`), and whether every matching character (`^^`, `,,`).
#[derive(Clone, Copy)]
struct CaseChange {
    upper: bool,
    all: bool,
}

impl Shell {
    pub(super) fn expand_param(&mut self, pe: &PE, in_dq: bool, out: &mut Vec<Part>) -> R<()> {
        match pe {
            PE::Parameter {
                parameter,
                indirect,
            } => self.param_plain(parameter, *indirect, in_dq, out),
            PE::UseDefaultValues {
                parameter,
                indirect,
                test_type,
                default_value,
            } => self.param_default(parameter, *indirect, test_type, default_value, in_dq, out),
            PE::AssignDefaultValues {
                parameter,
                indirect,
                test_type,
                default_value,
            } => self.param_assign_default(
                parameter,
                *indirect,
                test_type,
                default_value,
                in_dq,
                out,
            ),
            PE::IndicateErrorIfNullOrUnset {
                parameter,
                indirect,
                test_type,
                error_message,
            } => {
                self.param_error_if_null(parameter, *indirect, test_type, error_message, in_dq, out)
            }
            PE::UseAlternativeValue {
                parameter,
                indirect,
                test_type,
                alternative_value,
            } => self.param_alternative(
                parameter,
                *indirect,
                test_type,
                alternative_value,
                in_dq,
                out,
            ),
            PE::ParameterLength {
                parameter,
                indirect,
            } => self.param_length(parameter, *indirect, in_dq, out),
            PE::RemoveSmallestSuffixPattern {
                parameter,
                indirect,
                pattern,
            } => self.param_remove_affix(
                parameter,
                *indirect,
                pattern,
                Affix {
                    prefix: false,
                    longest: false,
                },
                in_dq,
                out,
            ),
            PE::RemoveLargestSuffixPattern {
                parameter,
                indirect,
                pattern,
            } => self.param_remove_affix(
                parameter,
                *indirect,
                pattern,
                Affix {
                    prefix: false,
                    longest: true,
                },
                in_dq,
                out,
            ),
            PE::RemoveSmallestPrefixPattern {
                parameter,
                indirect,
                pattern,
            } => self.param_remove_affix(
                parameter,
                *indirect,
                pattern,
                Affix {
                    prefix: true,
                    longest: false,
                },
                in_dq,
                out,
            ),
            PE::RemoveLargestPrefixPattern {
                parameter,
                indirect,
                pattern,
            } => self.param_remove_affix(
                parameter,
                *indirect,
                pattern,
                Affix {
                    prefix: true,
                    longest: true,
                },
                in_dq,
                out,
            ),
            PE::Substring {
                parameter,
                indirect,
                offset,
                length,
            } => self.param_substring(parameter, *indirect, offset, length, in_dq, out),
            PE::Transform {
                parameter,
                indirect,
                op,
            } => self.param_transform(parameter, *indirect, op, in_dq, out),
            PE::UppercaseFirstChar {
                parameter,
                indirect,
                pattern,
            } => self.param_case(
                parameter,
                *indirect,
                pattern,
                CaseChange {
                    upper: true,
                    all: false,
                },
                in_dq,
                out,
            ),
            PE::UppercasePattern {
                parameter,
                indirect,
                pattern,
            } => self.param_case(
                parameter,
                *indirect,
                pattern,
                CaseChange {
                    upper: true,
                    all: true,
                },
                in_dq,
                out,
            ),
            PE::LowercaseFirstChar {
                parameter,
                indirect,
                pattern,
            } => self.param_case(
                parameter,
                *indirect,
                pattern,
                CaseChange {
                    upper: false,
                    all: false,
                },
                in_dq,
                out,
            ),
            PE::LowercasePattern {
                parameter,
                indirect,
                pattern,
            } => self.param_case(
                parameter,
                *indirect,
                pattern,
                CaseChange {
                    upper: false,
                    all: true,
                },
                in_dq,
                out,
            ),
            PE::ReplaceSubstring {
                parameter,
                indirect,
                pattern,
                replacement,
                match_kind,
            } => self.param_replace(
                parameter,
                *indirect,
                (pattern, replacement),
                match_kind,
                in_dq,
                out,
            ),
            PE::VariableNames {
                prefix,
                concatenate,
            } => self.param_names(prefix, *concatenate, in_dq, out),
            PE::MemberKeys {
                variable_name,
                concatenate,
            } => self.param_keys(variable_name, *concatenate, in_dq, out),
        }
    }

    /// A plain `${v}`.
    fn param_plain(
        &mut self,
        parameter: &P,
        indirect: bool,
        in_dq: bool,
        out: &mut Vec<Part>,
    ) -> R<()> {
        let v = self.param_value(parameter, indirect)?;
        self.check_unset(parameter, &v)?;
        self.emit(v, in_dq, out);
        Ok(())
    }

    /// `${v-word}`, `${v:-word}`: the word when `v` is unset (or null).
    fn param_default(
        &mut self,
        parameter: &P,
        indirect: bool,
        test_type: &ParameterTestType,
        default_value: &Option<String>,
        in_dq: bool,
        out: &mut Vec<Part>,
    ) -> R<()> {
        let v = self.param_value(parameter, indirect)?;
        if self.is_null(&v, test_type, in_dq) {
            self.expand_word_parts(default_value, in_dq, out)?;
        } else {
            self.emit(v, in_dq, out);
        }
        Ok(())
    }

    /// `${v=word}`, `${v:=word}`: the word, assigned to `v` too, when `v` is unset (or null).
    fn param_assign_default(
        &mut self,
        parameter: &P,
        indirect: bool,
        test_type: &ParameterTestType,
        default_value: &Option<String>,
        in_dq: bool,
        out: &mut Vec<Part>,
    ) -> R<()> {
        let v = self.param_value(parameter, indirect)?;
        if self.is_null(&v, test_type, in_dq) {
            // Inside double quotes the word is expanded as quoted text (no tilde).
            let s = if in_dq {
                let mut parts = Vec::new();
                self.expand_word_parts(default_value, true, &mut parts)?;
                join_parts(parts)
            } else {
                self.word_str(default_value)?
            };
            // `${!ref:=word}` assigns the variable `ref` names.
            let target;
            let parameter = match indirect {
                true => match self.param_value(parameter, false)? {
                    PV::Str(t) if crate::state::valid_name(&t) => {
                        target = P::Named(t);
                        &target
                    }
                    PV::Str(t) => {
                        self.error(&format!("{t}: invalid variable name"));
                        return Err(Flow::Abort(1));
                    }
                    PV::Unset => {
                        let n = Self::param_name(parameter);
                        self.error(&format!("{n}: invalid indirect expansion"));
                        return Err(Flow::Abort(1));
                    }
                    PV::List(..) => parameter,
                },
                false => parameter,
            };
            let r = match parameter {
                P::Named(n) => self.set_var(n, s.clone()),
                P::NamedWithIndex { name, index } => {
                    let key = if self.is_assoc(name) {
                        crate::state::ElemKey::Str(self.expand_string_dq(index)?)
                    } else {
                        let e = self.expand_arith(index)?;
                        crate::state::ElemKey::Idx(self.arith_str(&e)?)
                    };
                    self.set_elem(name, key, s.clone())
                }
                _ => {
                    let n = Self::param_name(parameter);
                    self.error(&format!("${n}: cannot assign in this way"));
                    return Err(Flow::Abort(1));
                }
            };
            if let Err(e) = r {
                self.error(&e.to_string());
                return Err(Flow::Abort(1));
            }
            Self::text(out, s, in_dq, !in_dq);
        } else {
            self.emit(v, in_dq, out);
        }
        Ok(())
    }

    /// `${v?msg}`, `${v:?msg}`: an error (fatal to a script) when `v` is unset (or null).
    fn param_error_if_null(
        &mut self,
        parameter: &P,
        indirect: bool,
        test_type: &ParameterTestType,
        error_message: &Option<String>,
        in_dq: bool,
        out: &mut Vec<Part>,
    ) -> R<()> {
        let v = self.param_value(parameter, indirect)?;
        if self.is_null(&v, test_type, in_dq) {
            let msg = self.word_str(error_message)?;
            let msg = if error_message.as_deref().is_none_or(str::is_empty) {
                if matches!(test_type, ParameterTestType::UnsetOrNull) {
                    "parameter null or not set".to_string()
                } else {
                    "parameter not set".to_string()
                }
            } else {
                msg
            };
            self.error(&format!("{}: {}", Self::param_name(parameter), msg));
            return Err(Flow::Exit(self.messages.fatal_status));
        }
        self.emit(v, in_dq, out);
        Ok(())
    }

    /// `${v+word}`, `${v:+word}`: the word when `v` is set (and not null).
    fn param_alternative(
        &mut self,
        parameter: &P,
        indirect: bool,
        test_type: &ParameterTestType,
        alternative_value: &Option<String>,
        in_dq: bool,
        out: &mut Vec<Part>,
    ) -> R<()> {
        let v = self.param_value(parameter, indirect)?;
        if !self.is_null(&v, test_type, in_dq) {
            self.expand_word_parts(alternative_value, in_dq, out)?;
        }
        Ok(())
    }

    /// `${#v}`: characters (bytes in a C locale), or elements of an array.
    fn param_length(
        &mut self,
        parameter: &P,
        indirect: bool,
        in_dq: bool,
        out: &mut Vec<Part>,
    ) -> R<()> {
        let v = match parameter {
            // bash looks `arr[1]` up as a variable name here: there is none.
            P::Named(n) if !indirect && self.names_element(n) => PV::Unset,
            _ => self.param_value(parameter, indirect)?,
        };
        self.check_unset(parameter, &v)?;
        let n = match v {
            PV::Unset => 0,
            PV::Str(s) if self.byte_locale() => s.len(),
            PV::Str(s) => s.chars().count(),
            PV::List(l, _) => l.len(),
        };
        Self::text(out, n.to_string(), in_dq, !in_dq);
        Ok(())
    }

    /// `${v%pat}`, `${v%%pat}`, `${v#pat}`, `${v##pat}`.
    fn param_remove_affix(
        &mut self,
        parameter: &P,
        indirect: bool,
        pattern: &Option<String>,
        affix: Affix,
        in_dq: bool,
        out: &mut Vec<Part>,
    ) -> R<()> {
        let Affix { prefix, longest } = affix;
        let v = self.param_value(parameter, indirect)?;
        self.check_unset(parameter, &v)?;
        let pat = self.pat_str(pattern)?;
        let v = Self::map_pv(v, |s| self.remove_affix(s, &pat, prefix, longest));
        self.emit(v, in_dq, out);
        Ok(())
    }

    /// `${v:offset:length}`, of a string or of the elements.
    fn param_substring(
        &mut self,
        parameter: &P,
        indirect: bool,
        offset: &brush_parser::ast::UnexpandedArithmeticExpr,
        length: &Option<brush_parser::ast::UnexpandedArithmeticExpr>,
        in_dq: bool,
        out: &mut Vec<Part>,
    ) -> R<()> {
        let v = self.param_value(parameter, indirect)?;
        self.check_unset(parameter, &v)?;
        let oe = self.expand_arith(&offset.value)?;
        let off = self.arith_str(&oe)?;
        let len = match length {
            Some(l) => {
                let le = self.expand_arith(&l.value)?;
                Some(self.arith_str(&le)?)
            }
            None => None,
        };
        // An indexed array's `[@]`/`[*]` slice counts from its indexes, not its positions.
        if let (P::NamedWithAllIndices { name, .. }, false, PV::List(_, concat)) =
            (parameter, indirect, &v)
        {
            if !self.is_assoc(name) {
                if let (true, Some(text)) = (len.is_some_and(|l| l < 0), length) {
                    self.error(&format!("{}: substring expression < 0", text.value));
                    return Err(Flow::Abort(1));
                }
                let keyed: Vec<(i64, String)> = self
                    .get_array(name)
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|(k, v)| k.parse().ok().map(|k| (k, v)))
                    .collect();
                let max = keyed.last().map_or(-1, |(k, _)| *k);
                let start = if off < 0 { max + 1 + off } else { off };
                let take = len.map_or(usize::MAX, |l| l as usize);
                let vals = if start < 0 {
                    Vec::new()
                } else {
                    keyed
                        .into_iter()
                        .filter(|(k, _)| *k >= start)
                        .map(|(_, v)| v)
                        .take(take)
                        .collect()
                };
                self.emit(PV::List(vals, *concat), in_dq, out);
                return Ok(());
            }
        }
        let is_positional = matches!(parameter, P::Special(SP::AllPositionalParameters { .. }));
        let v = match v {
            PV::Unset => PV::Unset,
            PV::Str(s) => {
                let chars: Vec<char> = s.chars().collect();
                match slice_range(chars.len(), off, len) {
                    Some((a, b)) => PV::Str(chars[a..b].iter().collect()),
                    None => {
                        if len.is_some_and(|l| l < 0) && off.unsigned_abs() as usize <= chars.len()
                        {
                            self.error(&format!("{}: substring expression < 0", len.unwrap_or(0)));
                            return Err(Flow::Abort(1));
                        }
                        PV::Str(String::new())
                    }
                }
            }
            PV::List(l, c) => {
                let mut all = l;
                if is_positional {
                    all.insert(0, self.arg0.clone());
                }
                match slice_range(all.len(), off, len) {
                    Some((a, b)) => PV::List(all[a..b].to_vec(), c),
                    None => PV::List(Vec::new(), c),
                }
            }
        };
        self.emit(v, in_dq, out);
        Ok(())
    }

    /// `${v@op}`: quoting, case, escapes, attributes (expand/transform.rs describes).
    fn param_transform(
        &mut self,
        parameter: &P,
        indirect: bool,
        op: &TO,
        in_dq: bool,
        out: &mut Vec<Part>,
    ) -> R<()> {
        let v = self.param_value(parameter, indirect)?;
        let name = Self::param_name(parameter);
        let v = match self.describe_param(parameter, indirect, op, &v)? {
            Some(d) => d,
            None => match op {
                TO::ToUpperCase => Self::map_pv(v, |s| s.to_uppercase()),
                TO::ToLowerCase => Self::map_pv(v, |s| s.to_lowercase()),
                TO::CapitalizeInitial => Self::map_pv(v, upper_first),
                TO::Quoted => Self::map_pv(v, quote_q),
                TO::ExpandEscapeSequences => Self::map_pv(v, ansi_c),
                TO::PromptExpand => v,
                TO::ToAssignmentLogic => Self::map_pv(v, |s| format!("{name}={}", quote(s))),
                TO::ToAttributeFlags => {
                    let flags = self.attr_flags(&name);
                    Self::map_pv(v, |_| flags.clone())
                }
                TO::PossiblyQuoteWithArraysExpanded { .. } => Self::map_pv(v, quote),
            },
        };
        self.emit(v, in_dq, out);
        Ok(())
    }

    /// `${v^pat}`, `${v^^pat}`, `${v,pat}`, `${v,,pat}`.
    fn param_case(
        &mut self,
        parameter: &P,
        indirect: bool,
        pattern: &Option<String>,
        change: CaseChange,
        in_dq: bool,
        out: &mut Vec<Part>,
    ) -> R<()> {
        let CaseChange { upper, all } = change;
        let v = self.param_value(parameter, indirect)?;
        let pat = match pattern {
            Some(p) if !p.is_empty() => Some(self.expand_pattern(p)?),
            _ => None,
        };
        let saved = self.opts.nocasematch;
        self.opts.nocasematch = false;
        let v = Self::map_pv(v, |x| self.case_map(x, upper, all, pat.as_deref()));
        self.opts.nocasematch = saved;
        self.emit(v, in_dq, out);
        Ok(())
    }

    /// `${v/pat/rep}` and its anchored and global forms.
    fn param_replace(
        &mut self,
        parameter: &P,
        indirect: bool,
        (pattern, replacement): (&str, &Option<String>),
        match_kind: &SubstringMatchKind,
        in_dq: bool,
        out: &mut Vec<Part>,
    ) -> R<()> {
        let v = self.param_value(parameter, indirect)?;
        self.check_unset(parameter, &v)?;
        let (pattern, replacement) = resplit_patsub(pattern, replacement, match_kind);
        let pat = self.expand_pattern(&pattern)?;
        let marked = replacement.as_deref().map(|r| {
            if self.opts.other_shopts.get("patsub_replacement") == Some(&false) {
                r.to_string()
            } else {
                mark_ampersands(r)
            }
        });
        let rep = self.word_str(&marked)?;
        let v = Self::map_pv(v, |s| self.replace(s, &pat, &rep, match_kind));
        self.emit(v, in_dq, out);
        Ok(())
    }

    /// `${!prefix*}`, `${!prefix@}`: the names of set variables starting so.
    fn param_names(
        &mut self,
        prefix: &str,
        concatenate: bool,
        in_dq: bool,
        out: &mut Vec<Part>,
    ) -> R<()> {
        let mut names: Vec<String> = self
            .scopes
            .iter()
            .flat_map(|m| {
                m.iter()
                    .filter(|(_, v)| v.value.is_some())
                    .map(|(k, _)| k.clone())
            })
            .filter(|k| k.starts_with(prefix))
            .collect();
        names.sort();
        names.dedup();
        self.emit(PV::List(names, concatenate), in_dq, out);
        Ok(())
    }

    /// `${!a[@]}`, `${!a[*]}`: an array's keys.
    fn param_keys(
        &mut self,
        variable_name: &str,
        concatenate: bool,
        in_dq: bool,
        out: &mut Vec<Part>,
    ) -> R<()> {
        let keys = self
            .get_array(variable_name)
            .map(|a| a.into_iter().map(|(k, _)| k).collect())
            .unwrap_or_default();
        self.emit(PV::List(keys, concatenate), in_dq, out);
        Ok(())
    }
}
