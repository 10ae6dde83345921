//! `${param@op}` transformations that describe a variable rather than map its value:
//! `@A` (an assignment recreating it), `@a` (its attributes) and `@K`/`@k` (keys and values).

use super::PV;
use crate::quote::quote_q;
use crate::state::{Shell, Value, R};
use brush_parser::word::{Parameter as P, ParameterTransformOp as TO, SpecialParameter as SP};

impl Shell {
    /// The variable a transformation describes: the indirect target for `${!p@op}`, then
    /// followed through namerefs.
    fn transform_target(&mut self, p: &P, indirect: bool) -> Option<String> {
        let name = match p {
            P::Named(n)
            | P::NamedWithIndex { name: n, .. }
            | P::NamedWithAllIndices { name: n, .. } => n.clone(),
            _ => return None,
        };
        let name = if indirect {
            let t = self.get(&name)?;
            t.split('[').next().unwrap_or_default().to_string()
        } else {
            name
        };
        let r = self.resolve(&name).into_owned();
        Some(r.split('[').next().unwrap_or_default().to_string())
    }

    /// `@A`, `@a`, `@K` and `@k`; `None` for the value-mapping operators.
    pub(super) fn describe_param(
        &mut self,
        p: &P,
        indirect: bool,
        op: &TO,
        v: &PV,
    ) -> R<Option<PV>> {
        let all = matches!(p, P::NamedWithAllIndices { .. }) && !indirect;
        Ok(Some(match op {
            TO::ToAttributeFlags => match self.transform_target(p, indirect) {
                Some(n) if !matches!(v, PV::Unset) || self.lookup(&n).is_some() => {
                    PV::Str(self.attr_flags(&n))
                }
                _ => PV::Unset,
            },
            TO::ToAssignmentLogic => {
                if let P::Special(SP::AllPositionalParameters { .. }) = p {
                    let args: Vec<String> = self.positional.iter().map(|s| quote_q(s)).collect();
                    return Ok(Some(if args.is_empty() {
                        PV::Unset
                    } else {
                        PV::Str(format!("set -- {}", args.join(" ")))
                    }));
                }
                let Some(n) = self.transform_target(p, indirect) else {
                    return Ok(Some(match v {
                        PV::Str(s) => {
                            PV::Str(format!("{}={}", super::Shell::param_name(p), quote_q(s)))
                        }
                        PV::List(l, c) => PV::List(l.iter().map(|s| quote_q(s)).collect(), *c),
                        PV::Unset => PV::Unset,
                    }));
                };
                let flags = self.attr_flags(&n);
                let is_array = self
                    .lookup(&n)
                    .is_some_and(|x| matches!(x.value, Some(Value::Arr(_) | Value::Assoc(_))));
                let lhs = if flags.is_empty() {
                    n.clone()
                } else {
                    format!("declare -{flags} {n}")
                };
                if all && is_array {
                    let text = self
                        .lookup(&n)
                        .and_then(|x| x.value.as_ref())
                        .map(crate::quote::value_text)
                        .unwrap_or_default();
                    PV::Str(format!("{lhs}={text}"))
                } else {
                    let first = match v {
                        PV::Str(s) => Some(s.clone()),
                        PV::List(l, _) => l.first().cloned(),
                        PV::Unset => None,
                    };
                    match first {
                        Some(s) => PV::Str(format!("{lhs}={}", quote_q(&s))),
                        None if !flags.is_empty() => PV::Str(lhs),
                        None => PV::Unset,
                    }
                }
            }
            TO::PossiblyQuoteWithArraysExpanded { separate_words } if all => {
                let Some(n) = self.transform_target(p, indirect) else {
                    return Ok(None);
                };
                let assoc = self.is_assoc(&n);
                let items = self.get_array(&n).unwrap_or_default();
                if *separate_words {
                    PV::List(
                        items.into_iter().flat_map(|(k, v)| [k, v]).collect(),
                        matches!(
                            p,
                            P::NamedWithAllIndices {
                                concatenate: true,
                                ..
                            }
                        ),
                    )
                } else {
                    let parts: Vec<String> = items
                        .iter()
                        .map(|(k, v)| {
                            let k = if assoc {
                                crate::quote::assoc_key_text(k)
                            } else {
                                k.clone()
                            };
                            format!("{k} {}", crate::quote::dq_value(v))
                        })
                        .collect();
                    if assoc {
                        PV::Str(parts.iter().map(|s| format!("{s} ")).collect())
                    } else {
                        PV::Str(parts.join(" "))
                    }
                }
            }
            TO::PossiblyQuoteWithArraysExpanded { .. } => match v {
                PV::Unset => PV::Unset,
                PV::Str(s) => PV::Str(quote_q(s)),
                PV::List(l, c) => PV::List(l.iter().map(|s| quote_q(s)).collect(), *c),
            },
            _ => return Ok(None),
        }))
    }
}
