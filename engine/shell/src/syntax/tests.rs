use super::*;

fn commands(src: &str) -> usize {
    match parse(src) {
        Ok(p) => p.complete_commands.len(),
        Err(e) => panic!("{src:?}: {}", e.message),
    }
}

fn error(src: &str) -> SyntaxError {
    match parse(src) {
        Ok(_) => panic!("{src:?} parsed"),
        Err(e) => e,
    }
}

#[test]
fn one_complete_command_per_line_and_the_prefix_before_an_error() {
    assert_eq!(commands("echo a; echo b\necho c &\n\n# c\nx=1"), 3);
    let p = parse_prefix("echo a\necho b; fi\necho c");
    assert_eq!(p.program.complete_commands.len(), 1);
    let e = p.error.expect("an error");
    assert_eq!((e.line, e.kind), (2, ErrorKind::UnexpectedToken));
    assert!(e
        .message
        .starts_with("syntax error near unexpected token `fi'"));
}

#[test]
fn end_of_input_inside_a_command_or_a_quote_is_incomplete() {
    for src in [
        "if true; then",
        "echo a &&",
        "echo 'a",
        "x=$(echo",
        "cat <<E\nline",
    ] {
        assert!(is_incomplete(src), "{src:?}");
    }
    for src in ["echo a", "echo )", "fi"] {
        assert!(!is_incomplete(src), "{src:?}");
    }
    assert_eq!(error("if true").line, 2);
    assert_eq!(error("echo \"a\nb").line, 1);
}

#[test]
fn here_document_bodies_are_read_after_their_line() {
    let p = parse("cat <<A <<-'B'; echo x\none\nA\n\ttwo\n\tB\necho after\n").expect("parses");
    assert_eq!(p.complete_commands.len(), 2);
    let text = format!("{:?}", p.complete_commands[0]);
    assert!(text.contains("\"one\\n\""), "{text}");
    assert!(text.contains("\"two\\n\""), "{text}");
}

#[test]
fn command_substitution_ends_where_its_parse_does() {
    // A case pattern's `)` and a comment's quote do not end the body.
    assert_eq!(commands("x=$(case a in a) echo;; esac) y=1"), 1);
    assert_eq!(commands("x=$( # it's (\necho )"), 1);
    assert_eq!(
        error("x=$(echo").message,
        "unexpected EOF while looking for matching `)'"
    );
}

#[test]
fn odd_input_gives_errors_never_a_panic() {
    let pieces = [
        "$(", "<<", "$((", "((", "[[", "]]", "`", "'", "\"", "${", "(", ")", "|", "&", ";;", "\n",
        "{", "}", "case", "in", "esac", "for", "do", "done", "2>", "a=(", "<(", "\\", "#", "=~",
        "function", "select", "coproc", "if", "fi", "$[", "@(", " ",
    ];
    // Every sequence of up to three pieces, and some longer runs.
    for a in pieces {
        for b in pieces {
            for c in pieces {
                let _ = parse_prefix(&format!("{a}{b}{c}"));
                let _ = parse_prefix(&format!("{a} {b} {c}"));
            }
        }
    }
}
