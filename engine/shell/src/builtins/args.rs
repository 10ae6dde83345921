//! The one option reader of the builtins, as bash's `internal_getopt` reads them: options
//! come first; `--` ends them; the first word that does not start with `-` (or is `-`
//! alone) is the first operand; letters may be grouped (`-rs`); an option's value is the
//! rest of its word or the next word (`-d,` or `-d ,`). Errors carry bash's words.

use crate::io::Io;
use crate::state::Shell;

/// What a builtin takes: letters without a value, letters with one, and its usage line.
pub(crate) struct Spec {
    pub flags: &'static str,
    pub with_value: &'static str,
    pub usage: &'static str,
}

/// The options in order (each letter and its value), then the operands.
pub(crate) struct Parsed<'a> {
    pub opts: Vec<(char, Option<&'a str>)>,
    pub operands: &'a [String],
}

#[derive(Debug, PartialEq)]
pub(crate) enum OptError {
    Invalid(char),
    NeedsArgument(char),
}

/// Reads `args` (argv without the builtin's name).
pub(crate) fn parse<'a>(args: &'a [String], spec: &Spec) -> Result<Parsed<'a>, OptError> {
    let mut opts = Vec::new();
    let mut i = 0;
    while let Some(word) = args.get(i) {
        if word == "--" {
            i += 1;
            break;
        }
        let Some(letters) = word.strip_prefix('-').filter(|l| !l.is_empty()) else {
            break;
        };
        i += 1;
        for (at, c) in letters.char_indices() {
            if spec.flags.contains(c) {
                opts.push((c, None));
            } else if spec.with_value.contains(c) {
                let rest = &letters[at + c.len_utf8()..];
                let value = if !rest.is_empty() {
                    rest
                } else {
                    let v = args.get(i).ok_or(OptError::NeedsArgument(c))?;
                    i += 1;
                    v.as_str()
                };
                opts.push((c, Some(value)));
                break;
            } else {
                return Err(OptError::Invalid(c));
            }
        }
    }
    Ok(Parsed {
        opts,
        operands: args.get(i..).unwrap_or_default(),
    })
}

impl Shell {
    /// Reads a builtin's options, or reports the error and its usage as bash does (the
    /// builtin then returns 2).
    pub(crate) fn builtin_options<'a>(
        &self,
        a: &'a [String],
        spec: &Spec,
        io: &Io,
    ) -> Option<Parsed<'a>> {
        let name = a.first().map_or("", String::as_str);
        match parse(a.get(1..).unwrap_or_default(), spec) {
            Ok(p) => Some(p),
            Err(e) => {
                let what = match e {
                    OptError::Invalid(c) => format!("-{c}: invalid option"),
                    OptError::NeedsArgument(c) => format!("-{c}: option requires an argument"),
                };
                self.error_io(io, &format!("{name}: {what}"));
                io.err(format!("{name}: usage: {}\n", spec.usage).as_bytes());
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: Spec = Spec {
        flags: "rs",
        with_value: "dn",
        usage: "",
    };

    fn words(s: &str) -> Vec<String> {
        s.split(' ').map(String::from).collect()
    }

    #[test]
    fn options_stop_at_the_first_operand_or_double_dash() {
        let a = words("-rs -d , -n3 name -r");
        let p = parse(&a, &SPEC).expect("parses");
        assert_eq!(
            p.opts,
            vec![('r', None), ('s', None), ('d', Some(",")), ('n', Some("3"))]
        );
        assert_eq!(p.operands, &a[4..]);
        let a = words("-r -- -s");
        assert_eq!(parse(&a, &SPEC).expect("parses").operands, &a[2..]);
        let a = words("- x");
        assert_eq!(parse(&a, &SPEC).expect("parses").operands, &a[..]);
    }

    #[test]
    fn unknown_letters_and_missing_values_are_errors() {
        assert_eq!(
            parse(&words("-z"), &SPEC).err(),
            Some(OptError::Invalid('z'))
        );
        assert_eq!(
            parse(&words("-r -d"), &SPEC).err(),
            Some(OptError::NeedsArgument('d'))
        );
    }
}
