//! `read` and `mapfile`/`readarray`: lines from a descriptor into variables and arrays.

use crate::io::Io;
use crate::state::{Shell, Value};

impl Shell {
    pub(super) fn b_read(&mut self, a: &[String], io: &Io) -> i32 {
        let spec = super::args::Spec {
            flags: "ers",
            with_value: "adinNptu",
            usage: "read [-ers] [-a array] [-d delim] [-i text] [-n nchars] [-N nchars] [-p prompt] [-t timeout] [-u fd] [name ...]",
        };
        let Some(parsed) = self.builtin_options(a, &spec, io) else {
            return 2;
        };
        let mut raw = false;
        let mut arr: Option<String> = None;
        let mut delim = b'\n';
        let mut nchars: Option<usize> = None;
        // -N: the characters read are taken whole, not split into fields.
        let mut exact_n = false;
        let mut silent_fd = None;
        for (c, v) in &parsed.opts {
            let v = v.unwrap_or_default();
            match c {
                'r' => raw = true,
                'a' => arr = Some(v.to_string()),
                'd' => delim = v.bytes().next().unwrap_or(0),
                'n' | 'N' => {
                    exact_n = *c == 'N';
                    nchars = v.parse().ok();
                }
                'u' => silent_fd = v.parse::<usize>().ok(),
                // -e, -s, -i, -p and -t concern a terminal; a guest reads no terminal here.
                _ => {}
            }
        }
        let names: Vec<String> = parsed.operands.to_vec();
        let input = match silent_fd {
            Some(fd) => io.get(fd).cloned().unwrap_or(crate::io::Stream::Null),
            None => io.stdin(),
        };
        let mut buf: Vec<u8> = Vec::new();
        let mut got_delim = false;
        let mut count = 0;
        loop {
            if nchars.is_some_and(|n| count >= n) {
                got_delim = true;
                break;
            }
            let Some(b) = input.read_byte() else { break };
            if !raw && b == b'\\' {
                match input.read_byte() {
                    Some(b'\n') => continue,
                    Some(n) => {
                        buf.push(0x01);
                        buf.push(n);
                        count += 1;
                        continue;
                    }
                    None => break,
                }
            }
            // -n stops at the delimiter too; -N reads its count whatever comes.
            if b == delim && !exact_n {
                got_delim = true;
                break;
            }
            buf.push(b);
            count += 1;
        }
        let text = String::from_utf8_lossy(&buf).into_owned();
        let ifs = self.get_ifs();
        if let Some(arr) = arr {
            let fields = if exact_n {
                vec![text.replace('\x01', "")]
            } else {
                split_read(&text, &ifs, usize::MAX)
            };
            let m = fields
                .into_iter()
                .enumerate()
                .map(|(i, f)| (i as i64, f))
                .collect();
            let _ = self.set_value(&arr, Value::Arr(m));
        } else {
            if names.is_empty() {
                let t = text.replace('\x01', "");
                let _ = self.set_var("REPLY", t);
            } else {
                // -N takes the characters whole, unsplit, into the first name.
                let fields = if exact_n {
                    vec![text.replace('\x01', "")]
                } else {
                    split_read(&text, &ifs, names.len())
                };
                for (k, n) in names.iter().enumerate() {
                    let v = fields.get(k).cloned().unwrap_or_default();
                    if let Err(e) = self.set_var(n, v) {
                        self.error_io(io, &e.to_string());
                        return 1;
                    }
                }
            }
        }
        if got_delim {
            0
        } else {
            1
        }
    }

    pub(super) fn b_mapfile(&mut self, a: &[String], io: &Io) -> i32 {
        let spec = super::args::Spec {
            flags: "t",
            with_value: "dnOsuCc",
            usage: "mapfile [-d delim] [-n count] [-O origin] [-s count] [-t] [-u fd] [-C callback] [-c quantum] [array]",
        };
        let Some(parsed) = self.builtin_options(a, &spec, io) else {
            return 2;
        };
        let mut strip = false;
        let mut origin: Option<i64> = None;
        let mut skip = 0usize;
        let mut count = 0usize;
        let mut delim = b'\n';
        let mut fd: Option<usize> = None;
        for (c, v) in &parsed.opts {
            let v = v.unwrap_or_default();
            match c {
                't' => strip = true,
                'O' => match v.parse::<i64>() {
                    Ok(n) if n >= 0 => origin = Some(n),
                    _ => {
                        self.error_io(io, &format!("{}: {v}: invalid array origin", a[0]));
                        return 1;
                    }
                },
                's' | 'n' => {
                    let Ok(n) = v.parse::<usize>() else {
                        self.error_io(io, &format!("{}: {v}: invalid line count", a[0]));
                        return 1;
                    };
                    if *c == 's' {
                        skip = n;
                    } else {
                        count = n;
                    }
                }
                'd' => delim = v.bytes().next().unwrap_or(0),
                'u' => fd = v.parse().ok(),
                // -C and -c (a callback every N lines) are read and not run.
                _ => {}
            }
        }
        let name = parsed
            .operands
            .first()
            .cloned()
            .unwrap_or_else(|| "MAPFILE".to_string());
        let input = match fd {
            Some(f) => match io.get(f) {
                Some(s) => s.clone(),
                None => {
                    self.error_io(
                        io,
                        &format!("{}: {f}: invalid file descriptor specification", a[0]),
                    );
                    return 1;
                }
            },
            None => io.stdin(),
        };
        let name = self.resolve(&name).into_owned();
        // Declared with -A, even while it has no value yet.
        if self.is_assoc(&name) {
            self.error_io(io, &format!("{}: {name}: not an indexed array", a[0]));
            return 1;
        }
        let mut m = match (origin, self.lookup(&name).and_then(|v| v.value.clone())) {
            (Some(_), Some(Value::Arr(m))) => m,
            (Some(_), Some(Value::Str(s))) => {
                let mut m = std::collections::BTreeMap::new();
                m.insert(0, s);
                m
            }
            _ => Default::default(),
        };
        let mut idx = origin.unwrap_or(0);
        let mut read = 0usize;
        let mut line: Vec<u8> = Vec::new();
        loop {
            if count > 0 && read >= count + skip {
                break;
            }
            let b = input.read_byte();
            match b {
                Some(c) => {
                    line.push(c);
                    if c != delim {
                        continue;
                    }
                }
                None if line.is_empty() => break,
                None => {}
            }
            read += 1;
            if read > skip {
                if strip && line.last() == Some(&delim) {
                    line.pop();
                }
                m.insert(idx, String::from_utf8_lossy(&line).into_owned());
                idx += 1;
            }
            line.clear();
            if b.is_none() {
                break;
            }
        }
        if let Err(e) = self.set_value(&name, Value::Arr(m)) {
            self.error_io(io, &e.to_string());
            return 1;
        }
        0
    }
}

/// `read`'s splitting: at most `n` fields, the last taking the rest; \x01 marks an escaped char.
fn split_read(text: &str, ifs: &str, n: usize) -> Vec<String> {
    let is_ws = |c: char| ifs.contains(c) && " \t\n".contains(c);
    let is_delim = |c: char| ifs.contains(c);
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    let mut fields = Vec::new();
    while i < chars.len() && is_ws(chars[i]) {
        i += 1;
    }
    while i < chars.len() {
        if fields.len() + 1 == n {
            // Last field: rest of line minus trailing IFS whitespace.
            let mut rest: Vec<char> = chars[i..].to_vec();
            while rest.last().is_some_and(|c| is_ws(*c))
                && !(rest.len() >= 2 && rest[rest.len() - 2] == '\x01')
            {
                rest.pop();
            }
            // One trailing non-whitespace delimiter ends the last field and is
            // dropped (`a:b:` gives `b`); two in a row are kept (`b::`).
            let n = rest.len();
            if n >= 1 && is_delim(rest[n - 1]) && !is_ws(rest[n - 1]) {
                let mut j = n - 1;
                while j > 0 && is_ws(rest[j - 1]) {
                    j -= 1;
                }
                let escaped = n >= 2 && rest[n - 2] == '\x01';
                let doubled = j > 0 && is_delim(rest[j - 1]) && !is_ws(rest[j - 1]);
                if !escaped && !doubled {
                    rest.truncate(j);
                }
            }
            fields.push(rest.into_iter().filter(|c| *c != '\x01').collect());
            return fields;
        }
        let mut f = String::new();
        while i < chars.len() && !is_delim(chars[i]) {
            if chars[i] == '\x01' && i + 1 < chars.len() {
                i += 1;
            }
            f.push(chars[i]);
            i += 1;
        }
        fields.push(f);
        // Skip one delimiter with surrounding whitespace.
        while i < chars.len() && is_ws(chars[i]) {
            i += 1;
        }
        if i < chars.len() && is_delim(chars[i]) && !is_ws(chars[i]) {
            i += 1;
            while i < chars.len() && is_ws(chars[i]) {
                i += 1;
            }
        }
    }
    fields
}
