//! The variable builtins: `declare`/`typeset`/`local`/`export`/`readonly` (declaring,
//! setting attributes, displaying) and `unset`.

use crate::io::Io;
use crate::quote::{dq_value, sq_if_needed, value_text};
use crate::state::{Declared, Flow, Shell, Value, Var, VarError, R};
use brush_parser::ast;

impl Shell {
    /// `declare`/`local`/`export`/`readonly` with structurally parsed assignment words.
    pub fn run_declaration(
        &mut self,
        argv: Vec<String>,
        decl: Vec<(usize, &ast::Assignment, &ast::Word)>,
        io: &Io,
    ) -> R<i32> {
        self.b_declare(&argv, &decl, io)
    }

    pub(crate) fn b_declare(
        &mut self,
        a: &[String],
        decl: &[(usize, &ast::Assignment, &ast::Word)],
        io: &Io,
    ) -> R<i32> {
        let cmd = a[0].as_str();
        let mut export = cmd == "export";
        let mut readonly = cmd == "readonly";
        let mut local = cmd == "local";
        let (
            mut arr,
            mut assoc,
            mut integer,
            mut upper,
            mut lower,
            mut print,
            mut unexport,
            mut func,
        ) = (false, false, false, false, false, false, false, false);
        let mut global = false;
        let mut nameref = false;
        let mut minus: Vec<char> = Vec::new();
        if local && self.calls.func_depth == 0 {
            self.error_io(io, "local: can only be used in a function");
            return Ok(1);
        }
        let mut names: Vec<(usize, String)> = Vec::new();
        let mut st = 0;
        // Attribute letters given with `-`, which also filter a listing.
        let mut on_attrs: Vec<char> = Vec::new();
        let mut only_fnames = false;
        let (mut trace, mut capcase) = (false, false);
        // The trace attribute of functions (`declare -ft`), and whether -f was given.
        let (mut trace_given, mut func_on): (Option<bool>, bool) = (None, false);
        let mut opts_done = false;
        for (i, s) in a.iter().enumerate().skip(1) {
            let is_decl = decl.iter().any(|(k, _, _)| *k == i);
            if !is_decl && !opts_done && s == "--" && names.is_empty() {
                opts_done = true;
                continue;
            }
            if !is_decl
                && !opts_done
                && (s.starts_with('-') || s.starts_with('+'))
                && s.len() > 1
                && names.is_empty()
            {
                let on = s.starts_with('-');
                for c in s[1..].chars() {
                    if !on {
                        minus.push(c);
                    } else if "aAilnrtuxc".contains(c) {
                        on_attrs.push(c);
                    }
                    let ok = match c {
                        'x' if cmd != "readonly" => {
                            if on {
                                export = true
                            } else {
                                unexport = true
                            }
                            true
                        }
                        'r' if cmd != "export" => {
                            readonly = on;
                            true
                        }
                        'a' => {
                            arr = on;
                            true
                        }
                        'A' => {
                            assoc = on;
                            true
                        }
                        'f' => {
                            func = true;
                            // `+f` does not select functions for attribute changes.
                            func_on |= on;
                            true
                        }
                        'p' => {
                            print = true;
                            true
                        }
                        'n' if cmd == "export" => {
                            export = false;
                            unexport = true;
                            true
                        }
                        _ if cmd == "export" || cmd == "readonly" => false,
                        'i' => {
                            integer = on;
                            true
                        }
                        'u' => {
                            upper = on;
                            true
                        }
                        'l' => {
                            lower = on;
                            true
                        }
                        'c' => {
                            capcase = on;
                            true
                        }
                        't' => {
                            trace = on;
                            trace_given = Some(on);
                            true
                        }
                        'I' => true,
                        'g' if cmd != "local" => {
                            global = true;
                            true
                        }
                        'F' if cmd != "local" => {
                            func = true;
                            only_fnames = true;
                            true
                        }
                        'n' => {
                            nameref = on;
                            true
                        }
                        _ => false,
                    };
                    if !ok {
                        self.error_io(io, &format!("{cmd}: -{c}: invalid option"));
                        let usage = match cmd {
                            "declare" => "declare [-aAfFgiIlnrtux] [name[=value] ...] or declare -p [-aAfFilnrtux] [name ...]",
                            "typeset" => "typeset [-aAfFgiIlnrtux] name[=value] ... or typeset -p [-aAfFilnrtux] [name ...]",
                            "local" => "local [option] name[=value] ...",
                            "export" => "export [-fn] [name[=value] ...] or export -p",
                            _ => "readonly [-aAf] [name[=value] ...] or readonly -p",
                        };
                        io.err(format!("{cmd}: usage: {usage}\n").as_bytes());
                        return Ok(2);
                    }
                }
                continue;
            }
            names.push((i, s.clone()));
        }
        if cmd == "declare" || cmd == "typeset" {
            local = self.calls.func_depth > 0 && !global;
        }
        if func && (cmd == "export" || cmd == "readonly") && !names.is_empty() && !print {
            for (_, n) in &names {
                let n = n.split_once('=').map_or(n.as_str(), |(n, _)| n);
                if !self.functions.funcs.contains_key(n) {
                    self.error_io(io, &format!("{cmd}: {n}: not a function"));
                    st = 1;
                } else if readonly {
                    self.functions.readonly_funcs.insert(n.to_string());
                } else if unexport {
                    self.functions.exported_funcs.remove(n);
                } else {
                    // `export -f`: child shells get the function (BASH_FUNC_name%%).
                    self.functions.exported_funcs.insert(n.to_string());
                }
            }
            return Ok(st);
        }
        if func && !print {
            if let Some(on) = trace_given {
                for (_, n) in names.iter().filter(|_| func_on) {
                    if !self.functions.funcs.contains_key(n) {
                        st = 1;
                    } else if on {
                        self.trace.traced_funcs.insert(n.clone());
                    } else {
                        self.trace.traced_funcs.remove(n);
                    }
                }
                return Ok(st);
            }
        }
        if func {
            for (_, n) in &names {
                if !self.functions.funcs.contains_key(n) {
                    st = 1;
                }
            }
            let mut f: Vec<String> = if names.is_empty() {
                self.functions.funcs.keys().cloned().collect()
            } else {
                names
                    .iter()
                    .map(|(_, n)| n.clone())
                    .filter(|n| self.functions.funcs.contains_key(n))
                    .collect()
            };
            f.sort();
            for n in f {
                if only_fnames && !names.is_empty() && !print && self.extdebug() {
                    // extdebug: where the function was defined.
                    let line = self
                        .functions
                        .funcs
                        .get(&n)
                        .and_then(|f| f.fname.loc.as_ref())
                        .map_or(0, |l| l.start.line);
                    let file = self
                        .functions
                        .func_src
                        .get(&n)
                        .cloned()
                        .unwrap_or_else(|| "main".into());
                    io.out(format!("{n} {line} {file}\n").as_bytes());
                } else if only_fnames {
                    if names.is_empty() || print {
                        io.out(format!("declare -f {n}\n").as_bytes());
                    } else {
                        io.out(format!("{n}\n").as_bytes());
                    }
                } else if let Some(def) = self.functions.funcs.get(&n) {
                    io.out(format!("{def}\n").as_bytes());
                }
            }
            return Ok(st);
        }
        if names.is_empty() {
            if (cmd == "declare" || cmd == "typeset") && !print && on_attrs.is_empty() {
                self.print_vars("declare", false, false, io);
                return Ok(0);
            }
            let filter: Vec<char> = match cmd {
                "export" => vec!['x'],
                "readonly" => vec!['r'],
                _ => on_attrs.clone(),
            };
            self.print_decls(&filter, cmd == "local", io);
            return Ok(0);
        }
        if print {
            for (_, n) in &names {
                if matches!(
                    n.as_str(),
                    "FUNCNAME" | "BASH_SOURCE" | "BASH_LINENO" | "BASH_ARGV" | "BASH_ARGC"
                ) && self.lookup(n).is_none()
                {
                    // Call-stack arrays are computed, not stored.
                    let line = match self.get_array(n) {
                        None => format!("declare -a {n}"),
                        Some(items) => {
                            let items: Vec<String> = items
                                .iter()
                                .map(|(k, v)| format!("[{k}]={}", dq_value(v)))
                                .collect();
                            format!("declare -a {n}=({})", items.join(" "))
                        }
                    };
                    io.out(format!("{line}\n").as_bytes());
                    continue;
                }
                if n == "_" && self.lookup(n).is_none() {
                    let line = format!("declare -- _={}", dq_value(&self.status.last_arg));
                    io.out(format!("{line}\n").as_bytes());
                    continue;
                }
                if self.lookup(n).is_none() {
                    self.error_io(io, &format!("{cmd}: {n}: not found"));
                    st = 1;
                    continue;
                }
                let line = self.declare_line(n);
                io.out(format!("{line}\n").as_bytes());
            }
            return Ok(st);
        }
        if nameref && (integer || upper || lower || capcase) {
            // bash refuses these combinations without a message.
            return Ok(1);
        }
        if nameref && (arr || assoc) {
            // An array cannot be a reference: the array attribute wins.
            nameref = false;
        }
        for (i, raw) in names {
            if cmd == "local" && raw == "-" {
                // `local -`: the function's option changes are undone when it returns.
                let top = self.scopes.len() - 1;
                if !self.scopes[top].contains_key("-") {
                    let saved = self.get("SHELLOPTS").unwrap_or_default();
                    self.scopes[top].insert(
                        "-".into(),
                        Var {
                            value: Some(Value::Str(saved)),
                            ..Var::default()
                        },
                    );
                }
                continue;
            }
            // `declare -g` works on the global variable: the function-local ones of
            // that name are set aside meanwhile (other locals stay visible to expansions).
            let target = match decl
                .iter()
                .find(|(k, _, _)| *k == i)
                .map(|(_, a, _)| &a.name)
            {
                Some(
                    ast::AssignmentName::VariableName(n)
                    | ast::AssignmentName::ArrayElementName(n, _),
                ) => n.clone(),
                None => raw
                    .split(['=', '[', '+'])
                    .next()
                    .unwrap_or_default()
                    .to_string(),
            };
            let hidden: Vec<(usize, Var)> = if global {
                (1..self.scopes.len())
                    .filter_map(|k| self.scopes[k].remove(&target).map(|v| (k, v)))
                    .collect()
            } else {
                Vec::new()
            };
            #[allow(clippy::redundant_closure_call)]
            let r = (|| -> R<()> {
                let assignment = decl.iter().find(|(k, _, _)| *k == i).map(|(_, a, _)| *a);
                let scalar = assignment.is_some_and(|a| {
                    matches!(
                        (&a.name, &a.value),
                        (
                            ast::AssignmentName::VariableName(_),
                            ast::AssignmentValue::Scalar(_)
                        )
                    )
                });
                let append = assignment
                    .map(|a| a.append)
                    .unwrap_or_else(|| raw.split_once('=').is_some_and(|(n, _)| n.ends_with('+')));
                let (name, value_str) = match assignment {
                    Some(asg) => match &asg.name {
                        ast::AssignmentName::VariableName(n) => (
                            n.clone(),
                            if scalar {
                                raw.split_once('=').map(|(_, v)| v.to_string())
                            } else {
                                None
                            },
                        ),
                        ast::AssignmentName::ArrayElementName(n, _) => (n.clone(), None),
                    },
                    None => match raw.split_once('=') {
                        Some((n, v)) => (n.to_string(), Some(v.to_string())),
                        None => (raw.clone(), None),
                    },
                };
                let name = name.trim_end_matches('+').to_string();
                if (cmd == "export" || cmd == "readonly") && name.contains('[') {
                    let shown = raw.split_once('=').map_or(raw.as_str(), |(n, _)| n);
                    self.error_io(io, &format!("{cmd}: `{shown}': not a valid identifier"));
                    st = 1;
                    return Ok(());
                }
                // An operand that only became `name=(...)` or `name[i]=v` after
                // expansion is parsed again as an assignment, as bash does.
                let reparsed = if (assignment.is_none() || (scalar && (arr || assoc))) && !nameref {
                    self.reparse_operand(&name, value_str.as_deref(), arr || assoc, append, local)
                } else {
                    None
                };
                let name = match (&reparsed, name.split_once('[')) {
                    (Some(_), Some((base, _))) => base.to_string(),
                    _ => name,
                };
                let value_str = if reparsed.is_some() { None } else { value_str };
                // `declare 'a[5]'` with no value declares `a` an indexed array.
                let bare_sub = reparsed.is_none()
                    && value_str.is_none()
                    && assignment.is_none()
                    && name.split_once('[').is_some_and(|(b, r)| {
                        crate::state::valid_name(b) && r.len() > 1 && r.ends_with(']')
                    });
                let name = if bare_sub {
                    name.split('[').next().unwrap_or_default().to_string()
                } else {
                    name
                };
                let arr = arr || (bare_sub && !assoc);
                // export/readonly give -a/-A only to a name that gets a value.
                let (arr, assoc) = if matches!(cmd, "export" | "readonly")
                    && value_str.is_none()
                    && assignment.is_none()
                    && reparsed.is_none()
                {
                    (false, false)
                } else {
                    (arr, assoc)
                };
                if !crate::state::valid_name(&name) {
                    self.error_io(io, &format!("{cmd}: `{raw}': not a valid identifier"));
                    st = 1;
                    return Ok(());
                }
                if nameref {
                    let target = value_str.clone().unwrap_or_default();
                    let base = target.split('[').next().unwrap_or("");
                    if value_str.is_some() && !crate::state::valid_name(base) {
                        let why = if target.is_empty() {
                            "not a valid identifier"
                        } else {
                            "invalid variable name for name reference"
                        };
                        self.error_io(io, &format!("{cmd}: `{target}': {why}"));
                        st = 1;
                        return Ok(());
                    }
                    if target == name {
                        self.error_io(
                            io,
                            &format!("{cmd}: {name}: nameref variable self references not allowed"),
                        );
                        st = 1;
                        return Ok(());
                    }
                }
                // Attributes given to a nameref apply to the variable it designates.
                let name = if !nameref
                    && !minus.contains(&'n')
                    && self.lookup(&name).is_some_and(|v| v.nameref)
                {
                    let r = self.resolve(&name).into_owned();
                    if r.contains('\u{0}') {
                        name
                    } else if let Some((base, _)) = r.split_once('[') {
                        if (cmd == "export" || cmd == "readonly")
                            && value_str.is_none()
                            && assignment.is_none()
                        {
                            // bash complains but does not fail.
                            self.error_io(io, &format!("{cmd}: `{r}': not a valid identifier"));
                            return Ok(());
                        }
                        // Bare attributes apply to the array holding the element.
                        if value_str.is_none() && assignment.is_none() {
                            base.to_string()
                        } else {
                            name
                        }
                    } else {
                        r
                    }
                } else {
                    name
                };
                if local {
                    let top = self.scopes.len() - 1;
                    if !self.scopes[top].contains_key(&name) {
                        let inherit = self.lookup(&name).cloned();
                        let mut v = Var::default();
                        if let Some(old) = inherit {
                            v.exported = old.exported;
                        }
                        self.scopes[top].insert(name.clone(), v);
                    }
                } else if global && self.lookup(&name).is_none() {
                    self.scopes[0].insert(name.clone(), Var::default());
                } else if self.lookup(&name).is_none() {
                    let idx = if cmd == "export" || cmd == "readonly" {
                        0
                    } else {
                        self.scopes.len() - 1
                    };
                    let idx = if self.calls.func_depth == 0 { 0 } else { idx };
                    self.scopes[idx].insert(name.clone(), Var::default());
                }
                if self.lookup(&name).is_some_and(|v| v.readonly)
                    && (assignment.is_some() || value_str.is_some())
                {
                    // bash names the builtin only for declare's own scalar assignments.
                    let who = if matches!(cmd, "export" | "readonly")
                        || assignment.is_some_and(|_| !scalar)
                    {
                        String::new()
                    } else {
                        format!("{cmd}: ")
                    };
                    self.error_io(io, &format!("{who}{name}: readonly variable"));
                    st = 1;
                    return Ok(());
                }
                if (minus.contains(&'a') || minus.contains(&'A'))
                    && self.lookup(&name).is_some_and(|x| {
                        x.kind != Declared::Scalar
                            || matches!(x.value, Some(Value::Arr(_) | Value::Assoc(_)))
                    })
                {
                    self.error_io(
                        io,
                        &format!("{cmd}: {name}: cannot destroy array variables in this way"),
                    );
                    st = 1;
                    return Ok(());
                }
                if minus.contains(&'r') && self.lookup(&name).is_some_and(|x| x.readonly) {
                    self.error_io(io, &format!("{cmd}: {name}: readonly variable"));
                    st = 1;
                    return Ok(());
                }
                if let Some(v) = self.lookup_mut(&name) {
                    for c in &minus {
                        match c {
                            'i' => v.integer = false,
                            'u' => v.upper = false,
                            'l' => v.lower = false,
                            'n' => v.nameref = false,
                            'c' => v.capcase = false,
                            't' => v.trace = false,
                            _ => {}
                        }
                    }
                    if integer {
                        v.integer = true;
                    }
                    if upper {
                        v.upper = true;
                        v.lower = false;
                        v.capcase = false;
                    }
                    if lower {
                        v.lower = true;
                        v.upper = false;
                        v.capcase = false;
                    }
                    if capcase {
                        v.capcase = true;
                        v.upper = false;
                        v.lower = false;
                    }
                    if trace {
                        v.trace = true;
                    }
                    let mut conv_err = None;
                    // A declared but unset array keeps its kind too.
                    let old_kind = v.kind;
                    if arr {
                        match v.value.take() {
                            None if old_kind == Declared::Assoc => {
                                conv_err = Some("cannot convert associative to indexed array");
                            }
                            None => {}
                            Some(Value::Str(x)) => {
                                v.value = Some(Value::Arr([(0, x)].into_iter().collect()))
                            }
                            Some(Value::Assoc(m)) => {
                                v.value = Some(Value::Assoc(m));
                                conv_err = Some("cannot convert associative to indexed array");
                            }
                            other => v.value = other,
                        }
                        if conv_err.is_none() {
                            v.kind = Declared::Indexed;
                        }
                    }
                    if assoc && conv_err.is_none() {
                        match v.value.take() {
                            None if old_kind == Declared::Indexed => {
                                conv_err = Some("cannot convert indexed to associative array");
                            }
                            None => {}
                            Some(Value::Str(x)) => {
                                v.value =
                                    Some(Value::Assoc([("0".to_string(), x)].into_iter().collect()))
                            }
                            Some(Value::Arr(m)) => {
                                v.value = Some(Value::Arr(m));
                                conv_err = Some("cannot convert indexed to associative array");
                            }
                            other => v.value = other,
                        }
                        if conv_err.is_none() {
                            v.kind = Declared::Assoc;
                        }
                    }
                    if let Some(e) = conv_err {
                        self.error_io(io, &format!("{cmd}: {name}: {e}"));
                        st = 1;
                        return Ok(());
                    }
                }
                if nameref {
                    self.has_namerefs = true;
                    let target = match assignment {
                        Some(asg) => match &asg.value {
                            ast::AssignmentValue::Scalar(w) => Some(self.expand_string(&w.value)?),
                            _ => None,
                        },
                        None => value_str.clone(),
                    };
                    let top = if local { self.scopes.len() - 1 } else { 0 };
                    let slot = match self.scopes.iter().rposition(|m| m.contains_key(&name)) {
                        Some(i) => i,
                        None => top,
                    };
                    let v = self.scopes[slot].entry(name.clone()).or_default();
                    v.nameref = true;
                    if let Some(t) = target {
                        v.value = Some(Value::Str(t));
                    }
                } else if let (Some(asg), false) = (assignment, scalar) {
                    // The subscript of `declare m[$k]=v` for an associative array is
                    // expanded with the word and then once more, as bash does.
                    let twice;
                    let asg = match &asg.name {
                        ast::AssignmentName::ArrayElementName(n, idx) if self.is_assoc(n) => {
                            let once = self.expand_string(idx)?;
                            let mut c = asg.clone();
                            c.name = ast::AssignmentName::ArrayElementName(n.clone(), once);
                            twice = c;
                            &twice
                        }
                        _ => asg,
                    };
                    self.assign(asg, local)?;
                } else if let Some(asg) = reparsed {
                    if let Err(Flow::Abort(s)) = self.assign(&asg, local) {
                        st = s;
                    }
                } else if let Some(v) = value_str {
                    let is_int = integer || self.lookup(&name).is_some_and(|x| x.integer);
                    let old = if append {
                        self.get(&name).unwrap_or_default()
                    } else {
                        String::new()
                    };
                    let v = if is_int {
                        let base = if append {
                            old.trim().parse::<i64>().unwrap_or(0)
                        } else {
                            0
                        };
                        (base + self.arith_str(&v)?).to_string()
                    } else if append {
                        format!("{old}{v}")
                    } else {
                        v
                    };
                    if let Err(e) = self.set_var(&name, v) {
                        self.error_io(io, &e.to_string());
                        st = 1;
                    }
                }
                if let Some(v) = self.lookup_mut(&name) {
                    if export {
                        v.exported = true;
                    }
                    if unexport {
                        v.exported = false;
                    }
                    if readonly {
                        v.readonly = true;
                    }
                }
                if arr && assoc {
                    self.error_io(
                        io,
                        &format!("{cmd}: {name}: cannot convert associative to indexed array"),
                    );
                    st = 1;
                }
                Ok(())
            })();
            for (k, v) in hidden {
                if let Some(scope) = self.scopes.get_mut(k) {
                    scope.insert(target.clone(), v);
                }
            }
            r?;
        }
        Ok(st)
    }

    /// The assignment a textual declaration operand stands for when it is a
    /// compound value for an array or a subscripted name; `None` keeps it a
    /// plain string value.
    fn reparse_operand(
        &mut self,
        name: &str,
        value: Option<&str>,
        array_flag: bool,
        append: bool,
        local: bool,
    ) -> Option<ast::Assignment> {
        let value = value?;
        let op = if append { "+=" } else { "=" };
        let compound = value.starts_with('(') && value.ends_with(')');
        let src = if let Some((base, rest)) = name.split_once('[') {
            if !crate::state::valid_name(base) || !rest.ends_with(']') {
                return None;
            }
            if array_flag && compound {
                // `declare -a 'a[0]=(x y)'` assigns the whole array.
                format!("{base}{op}{value}")
            } else {
                // The value was expanded once already; only the subscript is
                // expanded again.
                format!("{name}{op}'{}'", value.replace('\'', "'\\''"))
            }
        } else {
            // Whether the variable the declaration will set is an array: a
            // local declaration does not see the caller's variables.
            let target = if local {
                self.scopes.last().and_then(|m| m.get(name))
            } else {
                self.lookup(name)
            };
            let arrayish = array_flag
                || target.is_some_and(|v| {
                    v.kind != Declared::Scalar
                        || matches!(v.value, Some(Value::Arr(_) | Value::Assoc(_)))
                });
            if !(arrayish && compound) {
                return None;
            }
            format!("{name}{op}{value}")
        };
        let prog = crate::syntax::parse(&src).ok()?;
        let [cc] = prog.complete_commands.as_slice() else {
            return None;
        };
        let [item] = cc.0.as_slice() else {
            return None;
        };
        if !item.0.additional.is_empty() {
            return None;
        }
        let [ast::Command::Simple(sc)] = item.0.first.seq.as_slice() else {
            return None;
        };
        if sc.word_or_name.is_some() || sc.suffix.is_some() {
            return None;
        }
        let items = &sc.prefix.as_ref()?.0;
        match items.as_slice() {
            [ast::CommandPrefixOrSuffixItem::AssignmentWord(a, _)] => Some(a.clone()),
            _ => None,
        }
    }

    pub(crate) fn declare_line(&self, n: &str) -> String {
        let Some(v) = self.lookup(n) else {
            return String::new();
        };
        let mut flags = self.attr_flags(n);
        if flags.is_empty() {
            flags.push('-');
        }
        match &v.value {
            None => format!("declare -{flags} {n}"),
            Some(val) => format!("declare -{flags} {n}={}", value_text(val)),
        }
    }

    /// `declare -p` with no names: every variable (or, for `local`, every local of the
    /// current function) having any of the `filter` attributes, or all when it is empty.
    fn print_decls(&mut self, filter: &[char], locals_only: bool, io: &Io) {
        let mut all: std::collections::BTreeMap<&String, &Var> = Default::default();
        let scopes = if locals_only {
            &self.scopes[self.scopes.len().saturating_sub(1)..]
        } else {
            &self.scopes[..]
        };
        for s in scopes {
            for (k, v) in s {
                all.insert(k, v);
            }
        }
        let mut lines: std::collections::BTreeMap<String, String> = Default::default();
        for (k, v) in all {
            if k == "-" || (!filter.is_empty() && !filter.iter().any(|c| has_attr(v, *c))) {
                continue;
            }
            lines.insert(k.clone(), self.declare_line(k));
        }
        if !locals_only {
            for (name, flags, shown) in DYNAMIC {
                let mut v = Var::default();
                for c in flags.chars() {
                    match c {
                        'a' => v.kind = Declared::Indexed,
                        'A' => v.kind = Declared::Assoc,
                        'i' => v.integer = true,
                        _ => v.readonly = true,
                    }
                }
                if !filter.is_empty() && !filter.iter().any(|c| has_attr(&v, *c)) {
                    continue;
                }
                let value = if !shown {
                    None
                } else if v.kind != Declared::Scalar {
                    self.get_array(name).map(|items| {
                        if v.kind == Declared::Assoc {
                            Value::Assoc(items.into_iter().collect())
                        } else {
                            Value::Arr(
                                items
                                    .into_iter()
                                    .enumerate()
                                    .map(|(i, (_, x))| (i as i64, x))
                                    .collect(),
                            )
                        }
                    })
                } else if *name == "_" {
                    Some(Value::Str(self.status.last_arg.clone()))
                } else {
                    self.get(name).map(Value::Str)
                };
                let flags = if flags.is_empty() { "-" } else { flags };
                let line = match value {
                    Some(val) => format!("declare -{flags} {name}={}", value_text(&val)),
                    None => format!("declare -{flags} {name}"),
                };
                lines.insert(name.to_string(), line);
            }
        }
        for line in lines.values() {
            io.out(format!("{line}\n").as_bytes());
        }
    }

    /// `set` and `declare` with no arguments: `name=value` for every set variable.
    pub(crate) fn print_vars(&self, _cmd: &str, _export: bool, _readonly: bool, io: &Io) {
        let mut all: std::collections::BTreeMap<&String, &Var> = Default::default();
        for s in &self.scopes {
            for (k, v) in s {
                all.insert(k, v);
            }
        }
        for (k, v) in all {
            let line = match &v.value {
                _ if k == "-" => continue,
                None => continue,
                Some(Value::Str(s)) => format!("{k}={}", sq_if_needed(s)),
                Some(val) => format!("{k}={}", value_text(val)),
            };
            io.out(format!("{line}\n").as_bytes());
        }
        // Then the functions, as `declare -f` shows them.
        let mut names: Vec<&String> = self.functions.funcs.keys().collect();
        names.sort();
        for n in names {
            if let Some(def) = self.functions.funcs.get(n) {
                io.out(format!("{def}\n").as_bytes());
            }
        }
    }

    pub(crate) fn b_unset(&mut self, a: &[String], io: &Io) -> i32 {
        let mut funcs = false;
        // Without -v or -f a name that is no variable unsets the function.
        let mut vars_only = false;
        let mut unset_ref = false;
        let mut st = 0;
        for s in &a[1..] {
            match s.as_str() {
                "-f" => funcs = true,
                "-v" => {
                    funcs = false;
                    vars_only = true;
                }
                "-n" => unset_ref = true,
                n => {
                    if unset_ref {
                        // `unset -n` only removes namerefs themselves.
                        if self.lookup(n).is_some_and(|v| !v.nameref) {
                            continue;
                        }
                        if self.lookup(n).is_some_and(|v| v.readonly) {
                            self.error_io(
                                io,
                                &format!("unset: {n}: cannot unset: readonly variable"),
                            );
                            st = 1;
                            continue;
                        }
                        let _ = self.unset_ref(n);
                        continue;
                    }
                    if funcs {
                        self.functions.funcs.remove(n);
                        continue;
                    }
                    if let Some((name0, idx)) = n
                        .split_once('[')
                        .filter(|(b, i)| crate::state::valid_name(b) && i.ends_with(']'))
                    {
                        let name_r = self.resolve(name0);
                        let name: &str = &name_r;
                        let idx = idx.trim_end_matches(']');
                        if idx == "@" || idx == "*" {
                            let _ = self.unset(name);
                            continue;
                        }
                        let (i, key) = match self.subscript_text_key(name, idx) {
                            Ok(crate::state::ElemKey::Idx(i)) => (i, String::new()),
                            Ok(crate::state::ElemKey::Str(k)) => (0, k),
                            Err(_) => {
                                st = 1;
                                continue;
                            }
                        };
                        if let Some(v) = self.lookup_mut(name) {
                            match &mut v.value {
                                Some(Value::Arr(m)) => {
                                    let k = if i < 0 {
                                        m.keys().next_back().copied().unwrap_or(0) + 1 + i
                                    } else {
                                        i
                                    };
                                    m.remove(&k);
                                }
                                Some(Value::Assoc(m)) => {
                                    m.remove(&key);
                                }
                                Some(Value::Str(_)) if i == 0 => v.value = None,
                                _ => {}
                            }
                        }
                        continue;
                    }
                    let resolved = self.resolve(n);
                    if resolved != n && resolved.ends_with(']') {
                        if let Some((an, idx)) = resolved.split_once('[') {
                            let idx = &idx[..idx.len() - 1];
                            let assoc = self.is_assoc(an);
                            if let Some(v) = self.lookup_mut(an) {
                                match &mut v.value {
                                    Some(Value::Arr(m)) if !assoc => {
                                        if let Ok(i) = idx.parse::<i64>() {
                                            m.remove(&i);
                                        }
                                    }
                                    Some(Value::Assoc(m)) => {
                                        m.remove(idx);
                                    }
                                    _ => {}
                                }
                            }
                        }
                        continue;
                    }
                    let was_var = self.lookup(n).is_some();
                    if let Err(e) = self.unset(n) {
                        self.error_io(
                            io,
                            &format!(
                                "unset: {}",
                                match e {
                                    VarError::Readonly(name) => {
                                        format!("{name}: cannot unset: readonly variable")
                                    }
                                    other => other.to_string(),
                                }
                            ),
                        );
                        st = 1;
                    } else if !vars_only && !was_var && self.functions.funcs.contains_key(n) {
                        self.functions.funcs.remove(n);
                    }
                }
            }
        }
        st
    }
}

impl Shell {
    /// BASHOPTS: the enabled `shopt` options, colon-separated.
    pub(crate) fn bashopts(&self) -> String {
        self.shopts_on().join(":")
    }

    /// Records `$_` after a simple command, as bash's bind_lastarg: a readonly `_` is
    /// an error, and the new value is no longer exported.
    pub(crate) fn set_last_arg(&mut self, v: String) {
        if let Some(var) = self.lookup_mut("_") {
            if var.readonly {
                self.error("_: readonly variable");
                return;
            }
            var.exported = false;
            var.value = Some(Value::Str(v.clone()));
        }
        self.status.last_arg = v;
    }

    /// At a function's return: puts back the options a `local -` saved in its scope.
    pub(crate) fn restore_local_opts(&mut self, scope: Option<crate::state::Map<String, Var>>) {
        let Some(Some(Value::Str(saved))) = scope.and_then(|mut m| m.remove("-")).map(|v| v.value)
        else {
            return;
        };
        let on: Vec<&str> = saved.split(':').collect();
        for o in [
            "allexport",
            "braceexpand",
            "errexit",
            "noclobber",
            "noglob",
            "nounset",
            "pipefail",
            "verbose",
            "xtrace",
        ] {
            self.set_long_option(o, on.contains(&o));
        }
    }

    pub(crate) fn extdebug(&self) -> bool {
        self.opts.other_shopts.get("extdebug") == Some(&true)
    }

    /// BASH_ARGV (or with `counts`, BASH_ARGC): the arguments of each frame that
    /// pushed some, innermost first and each reversed, then the main script's. At
    /// the top level bash fills in the main script's on first use.
    pub(crate) fn bash_argv(&self, counts: bool) -> Vec<(String, String)> {
        let mut lists: Vec<&[String]> = self
            .calls
            .frames
            .iter()
            .rev()
            .filter_map(|f| f.argv.as_deref())
            .collect();
        match &self.calls.argv_main {
            Some(m) => lists.push(m),
            None if self.calls.func_depth == 0 || self.extdebug() => lists.push(&self.positional),
            None => {}
        }
        let items: Vec<String> = if counts {
            lists.iter().map(|l| l.len().to_string()).collect()
        } else {
            lists.iter().flat_map(|l| l.iter().rev().cloned()).collect()
        };
        items
            .into_iter()
            .enumerate()
            .map(|(i, v)| (i.to_string(), v))
            .collect()
    }

    /// The variables bash sets up at start beyond those Shell::new needs itself.
    pub(crate) fn init_well_known(&mut self) {
        let mut put = |name: &str, value: Option<String>, f: fn(&mut Var)| {
            let v = self.scopes[0].entry(name.to_string()).or_default();
            if v.value.is_none() {
                v.value = value.map(Value::Str);
            }
            f(v);
        };
        put("OPTIND", None, |v| v.integer = true);
        put("UID", None, |v| v.integer = true);
        put("EUID", None, |v| v.integer = true);
        put("TERM", Some("dumb".into()), |_| {});
        put(
            "BASH_LOADABLES_PATH",
            Some(
                "/usr/local/lib/bash:/usr/lib/bash:/opt/local/lib/bash:/usr/pkg/lib/bash:/opt/pkg/lib/bash:."
                    .into(),
            ),
            |_| {},
        );
        // OLDPWD starts declared, exported and unset.
        put("OLDPWD", None, |v| v.exported = true);
        if let Some(h) = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        {
            let h = h.trim().to_string();
            if !h.is_empty() {
                put("HOSTNAME", Some(h), |_| {});
            }
        }
        if let Some(ppid) = std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|st| {
                st.lines()
                    .find_map(|l| l.strip_prefix("PPid:").map(|p| p.trim().to_string()))
            })
        {
            put("PPID", Some(ppid), |v| {
                v.integer = true;
                v.readonly = true;
            });
        }
        for n in ["UID", "EUID", "OPTIND"] {
            if self.scopes[0]
                .get(n)
                .is_some_and(|v| v.value.is_none() && !v.readonly)
            {
                self.scopes[0].remove(n);
            }
        }
    }

    /// Whether `name` is a reference to an array element (`declare -n r='a[1]'`).
    pub(crate) fn names_element(&self, name: &str) -> bool {
        self.has_namerefs && self.resolve(name).contains('[')
    }

    /// Whether assignments to `name` (through namerefs) are arithmetic.
    pub(crate) fn is_integer(&self, name: &str) -> bool {
        let r = self.resolve(name);
        let base = r.split('[').next().unwrap_or_default();
        self.lookup(base).is_some_and(|v| v.integer)
    }

    /// The value stored for `val` in `name`: evaluated arithmetically for an integer variable.
    pub(crate) fn int_value(&mut self, name: &str, val: String) -> R<String> {
        if self.is_integer(name) {
            Ok(self.arith_str(&val)?.to_string())
        } else {
            Ok(val)
        }
    }

    /// The value of `name+=val` given the current value: a sum for integer variables.
    pub(crate) fn append_value(
        &mut self,
        name: &str,
        cur: Option<String>,
        val: String,
    ) -> R<String> {
        let cur = cur.unwrap_or_default();
        if self.is_integer(name) {
            let base = if cur.trim().is_empty() {
                0
            } else {
                self.arith_str(&cur)?
            };
            Ok(base.wrapping_add(self.arith_str(&val)?).to_string())
        } else {
            Ok(format!("{cur}{val}"))
        }
    }
}

/// Variables bash computes when referenced, as `declare -p` lists them: name, attributes,
/// and whether the listing shows a value.
const DYNAMIC: &[(&str, &str, bool)] = &[
    ("BASHOPTS", "r", true),
    ("BASHPID", "i", false),
    ("BASH_ALIASES", "A", true),
    ("BASH_ARGC", "a", true),
    ("BASH_ARGV", "a", true),
    ("BASH_ARGV0", "", false),
    ("BASH_CMDS", "A", true),
    ("BASH_COMMAND", "", false),
    ("BASH_LINENO", "a", true),
    ("BASH_SOURCE", "a", true),
    ("BASH_SUBSHELL", "", false),
    ("COMP_WORDBREAKS", "", false),
    ("DIRSTACK", "a", true),
    ("EPOCHREALTIME", "", false),
    ("EPOCHSECONDS", "", false),
    ("FUNCNAME", "a", true),
    ("GROUPS", "a", true),
    ("HISTCMD", "i", false),
    ("LINENO", "", false),
    ("RANDOM", "i", false),
    ("SECONDS", "", false),
    ("SHELLOPTS", "r", true),
    ("SRANDOM", "i", false),
    ("_", "", true),
];

/// Whether a variable has the attribute `declare` names with the letter `c`.
fn has_attr(v: &Var, c: char) -> bool {
    match c {
        'a' => v.kind == Declared::Indexed || matches!(v.value, Some(Value::Arr(_))),
        'A' => v.kind == Declared::Assoc || matches!(v.value, Some(Value::Assoc(_))),
        'i' => v.integer,
        'l' => v.lower,
        'u' => v.upper,
        'c' => v.capcase,
        'n' => v.nameref,
        'r' => v.readonly,
        't' => v.trace,
        'x' => v.exported,
        _ => false,
    }
}
