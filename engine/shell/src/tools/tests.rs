//! The tools against real GNU coreutils: each case (argv, stdin, files) runs once through the
//! machine's `/usr/bin/TOOL` and once through the in-guest tool, each in a fresh directory, and
//! stdout, stderr, exit status and the directory's resulting contents must all agree.
//!
//! GNU runs with `LC_ALL=C` (ASCII quotes in diagnostics) and `TZ=UTC` (the guest's zone).

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::{find, ToolContext};

struct Case {
    args: &'static [&'static str],
    stdin: &'static str,
    /// (path, contents); a path ending in '/' is a directory.
    files: &'static [(&'static str, &'static str)],
}

macro_rules! cases {
    ($( [$($a:expr),*] $stdin:expr $(, $f:expr => $c:expr)* ;)*) => {
        &[$( Case { args: &[$($a),*], stdin: $stdin, files: &[$(($f, $c)),*] } ),*]
    };
}

/// Sorted by name: that is the order `Command` hands the environment to GNU.
const ENV: &[(&str, &str)] = &[
    ("GREETING", "hello world"),
    ("HOME", "/home/hook"),
    ("LC_ALL", "C"),
    ("TZ", "UTC"),
];

const LINES: &str = "one\ntwo\nthree\nfour\nfive\nsix\nseven\neight\nnine\nten\neleven\ntwelve\n";

const CASES: &[Case] = cases![
    // ---- cat
    ["cat"] "a\nb\n";
    ["cat", "f"] "", "f" => "file\n";
    ["cat", "f", "-", "g"] "mid\n", "f" => "F\n", "g" => "G";
    ["cat", "nofile"] "";
    ["cat", "f", "nofile", "f"] "", "f" => "x\n";
    ["cat", "-n"] "a\n\nb\nc";
    ["cat", "-b"] "a\n\n\nb\n";
    ["cat", "-s"] "a\n\n\n\nb\n\n";
    ["cat", "-E"] "a\nb \n";
    ["cat", "-A"] "a\tb\x01\x7f\n";
    ["cat", "-T"] "a\tb\n";
    ["cat", "-v"] "x\x02y\n";
    ["cat", "-n", "f", "g"] "", "f" => "a\nb\n", "g" => "c\n";
    ["cat", "-ns"] "a\n\n\nb\n";
    ["cat", "d"] "", "d/" => "";
    ["cat", "-z"] "";
    ["cat", "--number"] "x\ny\n";
    ["cat", "--bogus"] "";
    ["cat", "--", "-f"] "", "-f" => "dash\n";
    ["cat", "a b"] "";
    ["cat", "-e"] "tab\there\n";
    // ---- head
    ["head"] LINES;
    ["head", "-n", "3"] LINES;
    ["head", "-n3"] LINES;
    ["head", "-3"] LINES;
    ["head", "-n", "-3"] LINES;
    ["head", "-n", "+2"] LINES;
    ["head", "-c", "5"] LINES;
    ["head", "-c5"] LINES;
    ["head", "-c", "-5"] LINES;
    ["head", "-n", "0"] LINES;
    ["head", "-n", "100"] LINES;
    ["head", "-n", "x"] LINES;
    ["head", "-c", "1k"] LINES;
    ["head", "-n", "2", "f", "g"] "", "f" => LINES, "g" => "a\nb\nc\n";
    ["head", "-q", "-n", "1", "f", "g"] "", "f" => LINES, "g" => "a\nb\nc\n";
    ["head", "-v", "-n", "1", "f"] "", "f" => LINES;
    ["head", "-n1", "-", "f"] "stdin\nline\n", "f" => LINES;
    ["head", "nofile"] "";
    ["head", "-n", "1", "nofile", "f"] "", "f" => "ok\n";
    ["head", "-n"] "";
    ["head", "-5c"] LINES;
    ["head", "-2", "f"] "", "f" => "no newline";
    ["head", "--lines=2"] LINES;
    ["head", "--lines", "4"] LINES;
    ["head", "-z", "-n", "1"] "a\0b\0";
    ["head", "-n", "1"] "";
    ["head", "-x"] "";
    // ---- tail
    ["tail"] LINES;
    ["tail", "-n", "3"] LINES;
    ["tail", "-n3"] LINES;
    ["tail", "-3"] LINES;
    ["tail", "-n", "+3"] LINES;
    ["tail", "+10"] LINES;
    ["tail", "-n", "+0"] "a\nb\n";
    ["tail", "-c", "5"] LINES;
    ["tail", "-c", "+5"] LINES;
    ["tail", "-n", "0"] LINES;
    ["tail", "-n", "1"] "no newline";
    ["tail", "-n", "2"] "a\nb\nc";
    ["tail", "-n", "x"] LINES;
    ["tail", "-n", "2", "f", "g"] "", "f" => LINES, "g" => "a\nb\nc\n";
    ["tail", "-q", "-n", "1", "f", "g"] "", "f" => LINES, "g" => "a\nb\nc\n";
    ["tail", "nofile"] "";
    ["tail", "-n", "1", "nofile", "f"] "", "f" => "ok\n";
    ["tail", "-5c"] LINES;
    ["tail", "-n", "-2"] LINES;
    ["tail", "-c", "100"] "short\n";
    ["tail", "--lines=+11"] LINES;
    ["tail", "-n", "1"] "";
    ["tail", "-v", "-n1", "f"] "", "f" => "x\ny\n";
    // ---- wc
    ["wc"] "a b\nc\n";
    ["wc", "-l"] "a b\nc\n";
    ["wc", "-w"] "a b\nc\n";
    ["wc", "-c"] "a b\nc\n";
    ["wc", "-lw"] "a b\nc\n";
    ["wc", "-l", "f"] "", "f" => LINES;
    ["wc", "f"] "", "f" => LINES;
    ["wc", "-l", "f", "g"] "", "f" => LINES, "g" => "x\n";
    ["wc", "f", "g"] "", "f" => LINES, "g" => "x\n";
    ["wc", "-c", "f", "-"] "from stdin\n", "f" => LINES;
    ["wc", "-l", "nofile"] "";
    ["wc", "nofile", "f"] "", "f" => LINES;
    ["wc", "f", "nofile"] "", "f" => LINES;
    ["wc", "-l"] "no newline";
    ["wc", "-l"] "";
    ["wc"] "";
    ["wc", "-w"] "  lots   of\t\tspace  \n\n";
    ["wc", "-m"] "h\u{e9}llo\n";
    ["wc", "-c"] "h\u{e9}llo\n";
    ["wc", "-L"] "ab\nabcdef\nabc\n";
    ["wc", "--lines"] "1\n2\n";
    ["wc", "-l", "d"] "", "d/" => "";
    ["wc", "-q"] "";
    ["wc", "-lwc", "f"] "", "f" => "big file with words\nand lines\n";
    // ---- date (fixed instants only)
    ["date", "-u", "-d", "@0"] "";
    ["date", "-d", "@1700000000"] "";
    ["date", "-u", "-d", "@1700000000", "+%Y-%m-%d %H:%M:%S UTC"] "";
    ["date", "-u", "-d", "@1700000000", "+%s"] "";
    ["date", "-d", "@1700000000", "+%a %A %b %B %c"] "";
    ["date", "-d", "@1700000000", "+%C %d %D %e %F %g %G %h %H %I %j %k %l %m %M"] "";
    ["date", "-d", "@1700000000", "+%n|%N|%p|%P|%r|%R|%S|%t|%T|%u|%U|%V|%w|%W"] "";
    ["date", "-d", "@1700000000", "+%x %X %y %Y %z %:z %::z %Z %%"] "";
    ["date", "-d", "@1700000000.123456789", "+%N %3N %6N"] "";
    ["date", "-d", "@1700000000", "+%-d %-m %_H %05Y %^a %^B %#Z %#p %10A|%-10A"] "";
    ["date", "-d", "@1704067200", "+%G-W%V-%u %U %W %j"] "";
    ["date", "-d", "@1735603200", "+%G-W%V-%u %U %W %j"] "";
    ["date", "-d", "@1609459200", "+%G-W%V-%u %U %W %j"] "";
    ["date", "-d", "@951782400", "+%F %a %j"] "";
    ["date", "-d", "@-86400", "+%F %T"] "";
    ["date", "-d", "2024-02-29", "+%F %T %s"] "";
    ["date", "-d", "2024-02-29 13:45:10", "+%F %T %s"] "";
    ["date", "-d", "2024-02-29T13:45:10Z", "+%s"] "";
    ["date", "-d", "2023-02-29"] "";
    ["date", "-d", "2024-01-31 +1 month", "+%F %T"] "";
    ["date", "-d", "2024-02-29 10:00 2 hours ago", "+%F %T"] "";
    ["date", "-d", "2020-01-01 -1 day", "+%F %T"] "";
    ["date", "-d", "2024-01-01 next week", "+%F %T"] "";
    ["date", "-d", "2024-03-31 1 month ago", "+%F %T"] "";
    ["date", "-d", "2024-01-01 3 days", "+%F %T"] "";
    ["date", "-d", "2024-05-05 last year", "+%F %T"] "";
    ["date", "-d", "2024-01-01 1 fortnight ago", "+%F %T"] "";
    ["date", "-d", "2024-01-01 yesterday", "+%F %T"] "";
    ["date", "-d", "2024-01-01 2 hours 30 minutes ago", "+%F %T"] "";
    ["date", "-d", "2024-01-01 10 minutes", "+%F %T"] "";
    ["date", "-d", "2024-01-01 3 bananas", "+%F"] "";
    ["touch", "-d", "2020-01-01 2 days ago", "t"] "";
    ["date", "-d", "garbage"] "";
    ["date", "-I", "-d", "@1700000000"] "";
    ["date", "-Iseconds", "-d", "@1700000000"] "";
    ["date", "--iso-8601=minutes", "-d", "@1700000000"] "";
    ["date", "-R", "-d", "@1700000000"] "";
    ["date", "--rfc-3339=seconds", "-d", "@1700000000"] "";
    ["date", "-u", "-d", "@1700000000", "+%Q %"] "";
    ["date", "-d", "@1700000000", "+a", "+b"] "";
    ["date", "-d", "@1700000000", "+"] "";
    ["date", "-d", "@1700000000", "+%I %l %p", "-u"] "";
    ["date", "-d", "@1700040000", "+%I %l %p %r"] "";
    // ---- basename / dirname
    ["basename", "/usr/lib/libc.so"] "";
    ["basename", "/usr/lib/"] "";
    ["basename", "/"] "";
    ["basename", "//"] "";
    ["basename", ""] "";
    ["basename", "file.txt", ".txt"] "";
    ["basename", ".txt", ".txt"] "";
    ["basename", "dir/file.tar.gz", ".gz"] "";
    ["basename", "a", "b", "c"] "";
    ["basename"] "";
    ["basename", "-a", "x/y", "z/w/"] "";
    ["basename", "-s", ".sh", "a/b.sh", "c.sh"] "";
    ["basename", "--suffix=.sh", "a/b.sh"] "";
    ["basename", "-z", "a/b"] "";
    ["dirname", "/usr/lib/libc.so"] "";
    ["dirname", "/usr/lib/"] "";
    ["dirname", "file"] "";
    ["dirname", "/"] "";
    ["dirname", "//a"] "";
    ["dirname", "a//b//"] "";
    ["dirname", ""] "";
    ["dirname", "a/b", "c", "/d/e"] "";
    ["dirname"] "";
    ["dirname", "-z", "a/b"] "";
    // ---- mkdir
    ["mkdir", "a"] "";
    ["mkdir", "a", "b"] "";
    ["mkdir", "a"] "", "a/" => "";
    ["mkdir", "x/y"] "";
    ["mkdir", "-p", "x/y/z"] "";
    ["mkdir", "-p", "x/y"] "", "x/y/" => "";
    ["mkdir", "-pv", "p/q"] "";
    ["mkdir", "-v", "r"] "";
    ["mkdir"] "";
    ["mkdir", "-p", "f/g"] "", "f" => "file";
    ["mkdir", "f"] "", "f" => "file";
    ["mkdir", "-p", "a/./b/../c"] "";
    ["mkdir", "--parents", "deep/er"] "";
    ["mkdir", "-m", "755", "m"] "";
    // ---- rm / rmdir
    ["rm", "f"] "", "f" => "x";
    ["rm", "nofile"] "";
    ["rm", "-f", "nofile"] "";
    ["rm", "-f"] "";
    ["rm"] "";
    ["rm", "d"] "", "d/" => "";
    ["rm", "-d", "d"] "", "d/" => "";
    ["rm", "-r", "d"] "", "d/x/y" => "1", "d/z" => "2";
    ["rm", "-rf", "d", "nofile"] "", "d/x/" => "";
    ["rm", "-rv", "d"] "", "d/x" => "1";
    ["rm", "-v", "f", "g"] "", "f" => "", "g" => "";
    ["rm", "-r", "."] "";
    ["rm", "-rf", "d/.."] "", "d/" => "";
    ["rm", "f/x"] "", "f" => "";
    ["rm", "-f", "f/x"] "", "f" => "";
    ["rm", "-R", "d"] "", "d/e/f/" => "";
    ["rm", "--force", "--recursive", "d"] "", "d/f" => "";
    ["rmdir", "d"] "", "d/" => "";
    ["rmdir", "d"] "", "d/f" => "";
    ["rmdir", "nofile"] "";
    ["rmdir", "-p", "a/b/c"] "", "a/b/c/" => "";
    ["rmdir", "f"] "", "f" => "";
    // ---- touch
    ["touch", "f"] "";
    ["touch", "f", "g"] "", "g" => "kept";
    ["touch", "-c", "nothere"] "";
    ["touch", "a/b"] "";
    ["touch"] "";
    ["touch", "-d", "2020-01-02 03:04:05", "t"] "";
    ["touch", "-d", "nonsense", "t"] "";
    ["touch", "-t", "202001020304.05", "t"] "";
    ["touch", "d"] "", "d/" => "";
    // ---- env / printenv
    ["env"] "";
    ["env", "-u", "HOME"] "";
    ["env", "-i"] "";
    ["env", "-i", "A=1", "B=2"] "";
    ["env", "X=1"] "";
    ["env", "-0"] "";
    ["env", "-u"] "";
    ["env", "-v", "-i", "Z=1"] "";
    ["env", "-v", "-u", "HOME", "A=b"] "";
    ["env", "-", "Q=1"] "";
    ["printenv"] "";
    ["printenv", "HOME"] "";
    ["printenv", "HOME", "GREETING"] "";
    ["printenv", "NOPE"] "";
    ["printenv", "HOME", "NOPE", "TZ"] "";
    ["printenv", "-0", "HOME"] "";
    ["printenv", "-x"] "";
    // ---- seq
    ["seq", "5"] "";
    ["seq", "2", "5"] "";
    ["seq", "1", "2", "10"] "";
    ["seq", "10", "-3", "1"] "";
    ["seq", "5", "1"] "";
    ["seq", "0"] "";
    ["seq", "-3", "-1"] "";
    ["seq", "-s", ",", "3"] "";
    ["seq", "-s", ", ", "1", "4"] "";
    ["seq", "-s", "", "3"] "";
    ["seq", "-w", "8", "11"] "";
    ["seq", "-w", "-1", "1"] "";
    ["seq", "-w", "1", "0.5", "3"] "";
    ["seq", "1", "0.5", "3"] "";
    ["seq", "0", "0.1", "1"] "";
    ["seq", "0.1", "1", "3.25"] "";
    ["seq", "1.50", "2"] "";
    ["seq", "1", "3.25"] "";
    ["seq", "1", "0", "3"] "";
    ["seq", "a"] "";
    ["seq"] "";
    ["seq", "1", "2", "3", "4"] "";
    ["seq", "-f", "%03g", "3"] "";
    ["seq", "-f", "x%.2fy", "2"] "";
    ["seq", "-f", "%e", "1", "2"] "";
    ["seq", "-f", "%g", "0.5", "1.5"] "";
    ["seq", "-f", "%5.1f|", "9", "11"] "";
    ["seq", "-f", "%d", "3"] "";
    ["seq", "-f", "nope", "3"] "";
    ["seq", "-s:", "-w", "9", "10"] "";
    ["seq", "1e2", "1e2"] "";
    ["seq", "3", "-1", "-2"] "";
    // ---- tr / sort / uniq / cut / tee
    ["tr", "a-z", "A-Z"] "hello World\n";
    ["tr", "-d", "l"] "hello\n";
    ["tr", "-s", " "] "a   b    c\n";
    ["tr", "-d", "[:digit:]"] "a1b22c333\n";
    ["tr", "[:lower:]", "[:upper:]"] "mixed Case\n";
    ["tr", "-cd", "a-z\\n"] "Keep ONLY lower 123\n";
    ["tr", "\\n", " "] "a\nb\nc\n";
    ["tr", "abc", "x"] "aabbcc\n";
    ["tr", "-s", "a-z", "A-Z"] "aabbcc\n";
    ["tr", "a"] "";
    ["tr", "-d", "a", "b"] "";
    ["tr", ":", "\\t"] "a:b:c\n";
    ["tr", "-ds", "a", "b"] "aabbbc\n";
    ["sort"] "pear\napple\nfig\napple\n";
    ["sort", "-r"] "pear\napple\nfig\n";
    ["sort", "-u"] "b\na\nb\na\n";
    ["sort", "-n"] "10\n9\n100\n-1\n2.5\n";
    ["sort", "-rn"] "10\n9\n100\n";
    ["sort", "-t", ":", "-k", "2"] "a:3\nb:1\nc:2\n";
    ["sort", "-t:", "-k2,2n"] "a:10\nb:9\nc:100\n";
    ["sort", "-k", "2"] "x b 2\ny a 1\nz c 0\n";
    ["sort", "-f"] "b\nA\na\nB\n";
    ["sort", "-b"] "  b\na\n c\n\tz\n";
    ["sort", "-bf", "-k", "2"] "x  B\ny a\nz\tC\n";
    ["sort", "f", "g"] "", "f" => "z\nb\n", "g" => "a\n";
    ["sort", "nofile"] "";
    ["sort"] "no newline\nabc";
    ["uniq"] "a\na\nb\na\n";
    ["uniq", "-c"] "a\na\nb\na\n";
    ["uniq", "-d"] "a\na\nb\nc\nc\n";
    ["uniq", "-u"] "a\na\nb\nc\nc\n";
    ["uniq", "-i"] "a\nA\nb\n";
    ["uniq", "f"] "", "f" => "x\nx\ny";
    ["uniq", "-f", "1"] "1 a\n2 a\n3 b\n";
    ["uniq", "-s", "2"] "xxab\nyyab\nzzac\nab";
    ["uniq", "-c", "-f", "1", "-s", "1"] "1 xa\n2 ya\n3 yb\n";
    ["uniq", "-ci"] "Ab\naB\nab\nb\n";
    ["cut", "-d", ":", "-f", "1"] "root:x:0\nuser:y:1\n";
    ["cut", "-d:", "-f2,3"] "a:b:c:d\n";
    ["cut", "-d", ",", "-f", "2-"] "a,b,c\nnodelim\n";
    ["cut", "-s", "-d", ",", "-f", "1"] "a,b\nnodelim\n";
    ["cut", "-c", "1-3"] "abcdef\nxy\n";
    ["cut", "-c", "2,4"] "abcdef\n";
    ["cut", "-b", "-2"] "abcdef\n";
    ["cut", "-f", "2"] "a\tb\tc\n";
    ["cut"] "";
    ["cut", "-f", "0"] "";
    ["cut", "-d", ":", "--complement", "-f", "2"] "a:b:c\n";
    ["cut", "-d", ":", "-f", "1,3", "--output-delimiter=-"] "a:b:c\n";
    ["tee", "out"] "copied\n";
    ["tee", "-a", "out"] "more\n", "out" => "first\n";
    ["tee", "a", "b"] "two\n";
    ["tee", "nodir/x"] "still stdout\n";
    // ---- realpath / cp / mv / ls
    ["realpath", "f"] "", "f" => "";
    ["realpath", "d/../f"] "", "f" => "", "d/" => "";
    ["realpath", "nofile"] "";
    ["realpath", "nofile/x"] "";
    ["realpath", "-e", "nofile"] "";
    ["realpath", "-m", "a/../b/c"] "";
    ["realpath", "."] "";
    ["cp", "f", "g"] "", "f" => "data";
    ["cp", "f", "f"] "", "f" => "data";
    ["cp", "-v", "f", "d"] "", "f" => "data", "d/" => "";
    ["cp", "f", "nodir/x"] "", "f" => "data";
    ["cp", "-r", "d", "e/"] "", "d/a/b" => "1";
    ["mv", "-v", "f", "g"] "", "f" => "data";
    ["mv", "f", "f"] "", "f" => "data";
    ["cp", "f", "./d/../f"] "", "f" => "data", "d/" => "";
    ["cp", "f", "d"] "", "f" => "data", "d/" => "";
    ["cp", "nofile", "g"] "";
    ["cp", "d", "e"] "", "d/f" => "";
    ["cp", "-r", "d", "e"] "", "d/f" => "x", "d/s/t" => "y";
    ["cp"] "";
    ["cp", "f"] "", "f" => "";
    ["cp", "f", "g", "h"] "", "f" => "", "g" => "";
    ["mv", "f", "g"] "", "f" => "data";
    ["mv", "f", "d"] "", "f" => "data", "d/" => "";
    ["mv", "nofile", "g"] "";
    ["mv", "d", "e"] "", "d/f" => "x";
    ["ls"] "", "b" => "", "a" => "", ".hidden" => "", "d/" => "";
    ["ls", "-a"] "", "b" => "", ".hidden" => "";
    ["ls", "-A"] "", "b" => "", ".hidden" => "";
    ["ls", "d", "f"] "", "f" => "", "d/x" => "", "d/y" => "";
    ["ls", "nofile"] "";
    ["ls", "-1", "d"] "", "d/z" => "", "d/a" => "";
    ["ls", "-d", "d"] "", "d/z" => "";
    ["ls", "-p"] "", "f" => "", "d/" => "";
];

fn scratch(tag: &str) -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!("hookbox-tools-{}-{tag}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn populate(dir: &Path, files: &[(&str, &str)]) {
    for (p, c) in files {
        let path = dir.join(p);
        if p.ends_with('/') {
            std::fs::create_dir_all(&path).unwrap();
        } else {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, c).unwrap();
        }
    }
}

/// The directory's contents as sorted (relative path, contents-or-"<dir>") lines.
fn snapshot(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, d: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(d).unwrap() {
            let e = e.unwrap();
            let p = e.path();
            let rel = p.strip_prefix(base).unwrap().display().to_string();
            if p.is_dir() {
                out.push(format!("{rel}/"));
                walk(base, &p, out);
            } else {
                // A fixed past mtime (touch -d/-t) is part of the result; "now" is not comparable.
                let mtime = std::fs::metadata(&p)
                    .and_then(|m| m.modified())
                    .map(|t| {
                        t.duration_since(std::time::UNIX_EPOCH)
                            .map(|d| d.as_secs())
                            .unwrap_or(0)
                    })
                    .unwrap_or(0);
                let stamp = if mtime < 1_700_000_000 {
                    format!(" @{mtime}")
                } else {
                    String::new()
                };
                out.push(format!(
                    "{rel}={}{stamp}",
                    String::from_utf8_lossy(&std::fs::read(&p).unwrap())
                ));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

#[derive(Debug, PartialEq)]
struct Outcome {
    stdout: String,
    stderr: String,
    status: i32,
    tree: Vec<String>,
}

fn normalise(s: &[u8], dir: &Path) -> String {
    String::from_utf8_lossy(s).replace(&dir.display().to_string(), "$DIR")
}

fn run_gnu(case: &Case) -> Outcome {
    use std::io::Write;
    use std::os::unix::process::CommandExt;
    let dir = scratch("gnu");
    populate(&dir, case.files);
    let mut child = Command::new(format!("/usr/bin/{}", case.args[0]))
        .arg0(case.args[0])
        .args(&case.args[1..])
        .current_dir(&dir)
        .env_clear()
        .envs(ENV.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let _ = stdin.write_all(case.stdin.as_bytes());
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let outcome = Outcome {
        stdout: normalise(&out.stdout, &dir),
        stderr: normalise(&out.stderr, &dir),
        status: out.status.code().unwrap_or(-1),
        tree: snapshot(&dir),
    };
    let _ = std::fs::remove_dir_all(&dir);
    outcome
}

fn run_ours(case: &Case) -> Outcome {
    let dir = scratch("ours");
    populate(&dir, case.files);
    let env: Vec<(String, String)> = ENV
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let args: Vec<String> = case.args.iter().map(|s| s.to_string()).collect();
    let mut stdin = Cursor::new(case.stdin.as_bytes().to_vec());
    let mut stdout = Vec::new();
    let mut stderr = Vec::new();
    let tool = find(case.args[0]).unwrap();
    let status = {
        let mut ctx = ToolContext {
            cwd: &dir,
            env: &env,
            stdin: &mut stdin,
            stdin_len: None,
            stdout: &mut stdout,
            stderr: &mut stderr,
        };
        tool(&args, &mut ctx)
    };
    let outcome = Outcome {
        stdout: normalise(&stdout, &dir),
        stderr: normalise(&stderr, &dir),
        status,
        tree: snapshot(&dir),
    };
    let _ = std::fs::remove_dir_all(&dir);
    outcome
}

#[test]
fn tools_agree_with_gnu_coreutils() {
    assert!(CASES.len() >= 150, "the table should stay broad");
    let mut failures = Vec::new();
    for case in CASES {
        let gnu = run_gnu(case);
        let ours = run_ours(case);
        if gnu != ours {
            failures.push(format!(
                "{:?} stdin={:?}\n  gnu:  {:?}\n  ours: {:?}",
                case.args, case.stdin, gnu, ours
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ from GNU:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
}

#[test]
fn wc_counts_characters_per_locale_like_gnu() {
    use std::io::Write;
    let text = "h\u{e9}llo w\u{f6}rld \u{1F600}\n\u{e9}t\u{e9}\n";
    for locale in ["C", "C.UTF-8"] {
        for flag in ["-m", "-c", "-w", "-L"] {
            let mut child = Command::new("/usr/bin/wc")
                .arg(flag)
                .env_clear()
                .env("LC_ALL", locale)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            child
                .stdin
                .take()
                .unwrap()
                .write_all(text.as_bytes())
                .unwrap();
            let gnu = child.wait_with_output().unwrap();
            let env = vec![("LC_ALL".to_string(), locale.to_string())];
            let dir = std::env::temp_dir();
            let mut stdin = Cursor::new(text.as_bytes().to_vec());
            let (mut out, mut err) = (Vec::new(), Vec::new());
            let mut ctx = ToolContext {
                cwd: &dir,
                env: &env,
                stdin: &mut stdin,
                stdin_len: None,
                stdout: &mut out,
                stderr: &mut err,
            };
            assert_eq!(
                find("wc").unwrap()(&["wc".into(), flag.into()], &mut ctx),
                0
            );
            if flag == "-L" && locale == "C.UTF-8" {
                // Display width of wide characters (the emoji is two columns) needs a width
                // table the guest does not carry; only the C locale is compared.
                continue;
            }
            assert_eq!(
                String::from_utf8_lossy(&out),
                String::from_utf8_lossy(&gnu.stdout),
                "wc {flag} in {locale}"
            );
        }
    }
}

#[test]
fn every_listed_name_is_found() {
    for name in super::NAMES {
        assert!(find(name).is_some(), "{name}");
    }
    assert!(find("npx").is_none());
}

#[test]
fn runs_in_guest_declines_what_only_the_host_tool_does() {
    let v = |a: &[&str]| super::runs_in_guest(&a.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    assert!(
        v(&["ls"])
            && v(&["ls", "-1a", "dir"])
            && v(&["tail", "-n", "5"])
            && v(&["cat", "--", "--help"])
    );
    assert!(!v(&["ls", "-la"]) && !v(&["ls", "--color=auto"]) && !v(&["tail", "-f", "log"]));
    assert!(
        !v(&["tail", "--follow=name", "x"]) && !v(&["cat", "--help"]) && !v(&["seq", "--version"])
    );
    assert!(!v(&["npx", "prisma"]) && !v(&[]));
    // What runs_in_guest accepts, the tool must not refuse for being unsupported.
    let dir = std::env::temp_dir();
    for args in [vec!["ls", "-la"], vec!["tail", "-f", "x"]] {
        let args: Vec<String> = args.into_iter().map(String::from).collect();
        let mut stdin = Cursor::new(Vec::new());
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let mut ctx = ToolContext {
            cwd: &dir,
            env: &[],
            stdin: &mut stdin,
            stdin_len: None,
            stdout: &mut out,
            stderr: &mut err,
        };
        assert_ne!(
            find(&args[0]).unwrap()(&args, &mut ctx),
            0,
            "{args:?} is refused in the guest"
        );
    }
}

#[test]
fn head_stops_reading_once_it_has_its_lines() {
    // An endless reader: head must return after two lines instead of reading forever.
    struct Endless;
    impl std::io::Read for Endless {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            for b in buf.iter_mut() {
                *b = b'y';
            }
            if let Some(last) = buf.last_mut() {
                *last = b'\n';
            }
            Ok(buf.len())
        }
    }
    let dir = std::env::temp_dir();
    let mut stdin = Endless;
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let mut ctx = ToolContext {
        cwd: &dir,
        env: &[],
        stdin: &mut stdin,
        stdin_len: None,
        stdout: &mut out,
        stderr: &mut err,
    };
    let status = find("head").unwrap()(&["head".into(), "-n".into(), "2".into()], &mut ctx);
    assert_eq!(status, 0);
    assert_eq!(out.iter().filter(|b| **b == b'\n').count(), 2);
}

#[test]
fn broken_pipe_ends_a_tool_like_sigpipe() {
    struct Closed;
    impl std::io::Write for Closed {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::from(std::io::ErrorKind::BrokenPipe))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let dir = std::env::temp_dir();
    let mut stdin = Cursor::new(b"data\n".to_vec());
    let mut out = Closed;
    let mut err = Vec::new();
    let mut ctx = ToolContext {
        cwd: &dir,
        env: &[],
        stdin: &mut stdin,
        stdin_len: None,
        stdout: &mut out,
        stderr: &mut err,
    };
    assert_eq!(find("cat").unwrap()(&["cat".into()], &mut ctx), 141);
    assert!(err.is_empty());
}

#[test]
fn mktemp_creates_a_unique_file_from_the_template() {
    let dir = scratch("mktemp");
    let env = vec![("TMPDIR".to_string(), dir.display().to_string())];
    let mut names = Vec::new();
    for args in [
        vec!["mktemp"],
        vec!["mktemp", "-d"],
        vec!["mktemp", "job.XXXXXX"],
        vec!["mktemp", "-p", ".", "x.XXX"],
    ] {
        let args: Vec<String> = args.into_iter().map(String::from).collect();
        let mut stdin = Cursor::new(Vec::new());
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let mut ctx = ToolContext {
            cwd: &dir,
            env: &env,
            stdin: &mut stdin,
            stdin_len: None,
            stdout: &mut out,
            stderr: &mut err,
        };
        assert_eq!(
            find("mktemp").unwrap()(&args, &mut ctx),
            0,
            "{args:?}: {}",
            String::from_utf8_lossy(&err)
        );
        let name = String::from_utf8(out).unwrap().trim_end().to_string();
        assert!(super::resolve(&dir, &name).exists(), "{name}");
        names.push(name);
    }
    assert!(names[0].starts_with(&format!("{}/tmp.", dir.display())));
    assert!(super::resolve(&dir, &names[1]).is_dir());
    assert!(names[2].starts_with("job.") && names[2].len() == 10);
    assert!(names[3].starts_with("./x."));
    let mut stdin = Cursor::new(Vec::new());
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let mut ctx = ToolContext {
        cwd: &dir,
        env: &env,
        stdin: &mut stdin,
        stdin_len: None,
        stdout: &mut out,
        stderr: &mut err,
    };
    assert_eq!(
        find("mktemp").unwrap()(&["mktemp".into(), "fewXX".into()], &mut ctx),
        1
    );
    assert_eq!(
        String::from_utf8_lossy(&err),
        "mktemp: too few X's in template 'fewXX'\n"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn relative_dates_count_from_now() {
    let dir = std::env::temp_dir();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    for (spec, offset) in [
        ("2 hours ago", -7200),
        ("+1 day", 86_400),
        ("tomorrow", 86_400),
        ("90 minutes", 5400),
    ] {
        let mut stdin = Cursor::new(Vec::new());
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let mut ctx = ToolContext {
            cwd: &dir,
            env: &[],
            stdin: &mut stdin,
            stdin_len: None,
            stdout: &mut out,
            stderr: &mut err,
        };
        let args: Vec<String> = ["date", "-d", spec, "+%s"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(find("date").unwrap()(&args, &mut ctx), 0, "{spec}");
        let got: i64 = String::from_utf8(out).unwrap().trim().parse().unwrap();
        assert!(
            (got - (now + offset)).abs() <= 5,
            "{spec}: {got} vs {}",
            now + offset
        );
    }
}

#[test]
fn date_without_operands_is_the_current_utc_time() {
    let dir = std::env::temp_dir();
    let mut stdin = Cursor::new(Vec::new());
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let mut ctx = ToolContext {
        cwd: &dir,
        env: &[],
        stdin: &mut stdin,
        stdin_len: None,
        stdout: &mut out,
        stderr: &mut err,
    };
    assert_eq!(
        find("date").unwrap()(&["date".into(), "+%s".into()], &mut ctx),
        0
    );
    let ours: i64 = String::from_utf8(out).unwrap().trim().parse().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!((ours - now).abs() <= 5);
}

struct Capped(usize);

impl std::io::Write for Capped {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.0 > 1 << 20 {
            return Err(std::io::Error::from(std::io::ErrorKind::BrokenPipe));
        }
        self.0 += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Arbitrary argument vectors and inputs never panic a tool (they run in the shell's process).
#[test]
fn tools_never_panic_on_odd_arguments() {
    // No absolute paths and no `..` below the scratch directory: rm -rf gets these operands.
    const POOL: &[&str] = &[
        "-n",
        "-c",
        "-f",
        "-d",
        "-k",
        "-t",
        "-s",
        "-w",
        "-r",
        "-p",
        "-v",
        "-z",
        "-u",
        "-a",
        "-e",
        "-m",
        "-1",
        "-i",
        "--",
        "-",
        "+",
        "+0",
        "-0",
        "0",
        "1",
        "-1",
        "3",
        "-99999999999999999999",
        "18446744073709551617",
        "1e400",
        "0.0000000000000000000000000000000001",
        "1.5",
        "-2.5",
        "1k",
        "5MB",
        "%",
        "%%",
        "%d",
        "%.999999f",
        "%g%g",
        "+%",
        "+%-",
        "+%999999Y",
        "+%:::z",
        "@",
        "@-1",
        "@9999999999999999",
        "2024-13-45",
        "ago",
        "2 ago",
        "[:alpha:]",
        "[:nope:]",
        "a-",
        "z-a",
        "[a*]",
        "[",
        "\\",
        "\\777",
        "1,",
        ",1",
        "3-1",
        "0-",
        "-",
        "x=y",
        "=",
        "\u{1F600}",
        "",
        " ",
        "..",
        ".",
        "d",
        "d/",
        "f",
        "nofile",
        "XXX",
        "aXXXXXX",
        "--lines=2",
        "--bytes",
        "--no-such",
        "-5c",
        "+3",
        "-n-3",
        "--format=%.1f",
        "--date=yesterday",
        "-Iseconds",
        "-I",
        "--iso-8601=x",
    ];
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let dir = scratch("fuzz");
    let env = vec![("TMPDIR".to_string(), dir.display().to_string())];
    for name in super::NAMES {
        for _ in 0..100 {
            populate(&dir, &[("f", "line 1\nline 2\n"), ("d/g", "x")]);
            let n = (next() % 5) as usize;
            let mut args = vec![name.to_string()];
            for _ in 0..n {
                args.push(POOL[(next() % POOL.len() as u64) as usize].to_string());
            }
            let input: Vec<u8> = (0..(next() % 64)).map(|_| (next() % 256) as u8).collect();
            let result = std::panic::catch_unwind(|| {
                let mut stdin = Cursor::new(input.clone());
                // A reader that goes away after 1 MiB, so `seq 18446744073709551617` ends.
                let mut out = Capped(0);
                let mut err = Vec::new();
                let mut ctx = ToolContext {
                    cwd: &dir,
                    env: &env,
                    stdin: &mut stdin,
                    stdin_len: None,
                    stdout: &mut out,
                    stderr: &mut err,
                };
                find(name).unwrap()(&args, &mut ctx)
            });
            assert!(result.is_ok(), "{args:?} panicked");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
