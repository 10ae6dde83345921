//! Fuzzing the bundled shell: random bash-like inputs (a grammar-ish generator, random bytes
//! including non-UTF-8 and NUL, and mutations of the scripts of `tests/shell-cases/*.yaml`) run
//! through `hookbox exec shell.wasm` in a fresh temp dir each. The property: hookbox itself never
//! panics or dies of a signal, a trap of the guest is reported as a clean failure, the run ends
//! within its limits, and nothing outside the temp work dir changes. A second, faster property
//! parses arbitrary strings natively (parsing is safe natively; evaluating is not, so evaluation
//! only ever happens inside the sandbox).
//!
//! Cases: `HOOKBOX_FUZZ_CASES` (default 64 per property, 2000 for the native parser);
//! `HOOKBOX_FUZZ_SEED` replays a run (the seed is printed). Inputs that make the guest trap
//! (a panic of the shell inside wasm) are printed, since they are shell bugs but not escapes.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use hookbox_tests::hookbox;

/// Limits every fuzz input runs under.
const FUEL: &str = "50000000";
const TIMEOUT_S: &str = "5";
const MEMORY: &str = "67108864";
/// Past this, a run has escaped its 5 s deadline (generous: compile-cache misses, a busy box).
const WALL_LIMIT: Duration = Duration::from_secs(90);

/// The bundled shell written to a file once per test process.
pub(super) fn shell_wasm() -> &'static Path {
    static WASM: OnceLock<PathBuf> = OnceLock::new();
    WASM.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("hookbox-shell-wasm")
            .tempdir()
            .unwrap()
            .keep();
        let path = dir.join("shell.wasm");
        std::fs::write(&path, hookbox::shell_module::SHELL_WASM).unwrap();
        path
    })
}

/// What one `hookbox exec` run gave.
#[derive(Debug)]
pub(super) struct Outcome {
    /// Exit status, or `None` if hookbox died of a signal (or was killed by the watchdog).
    pub status: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub elapsed: Duration,
    /// Peak resident memory of the hookbox process, in KiB.
    pub max_rss_kib: i64,
    /// The watchdog had to kill it.
    pub killed: bool,
}

impl Outcome {
    pub fn out(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
    pub fn err(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
}

/// Runs `hookbox exec shell.wasm FLAGS -- ARGS` in `work`, with `env` added to hookbox's own
/// (clean) environment, killing it past `wall`.
pub(super) fn run_shell(
    work: &Path,
    flags: &[&str],
    args: &[&std::ffi::OsStr],
    env: &[(&str, &str)],
    wall: Duration,
) -> Outcome {
    let wasm = shell_wasm();
    let entry = [std::ffi::OsStr::new("exec"), wasm.as_os_str()];
    run_hookbox(work, &entry, flags, args, env, wall)
}

/// Runs `hookbox ENTRY… FLAGS… -- ARGS…` in `work` (ENTRY: `exec shell.wasm`, or `shell`).
pub(super) fn run_hookbox(
    work: &Path,
    entry: &[&std::ffi::OsStr],
    flags: &[&str],
    args: &[&std::ffi::OsStr],
    env: &[(&str, &str)],
    wall: Duration,
) -> Outcome {
    let mut cmd = hookbox();
    cmd.current_dir(work)
        .args(entry)
        .args(flags)
        .arg("--")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let started = Instant::now();
    let mut child = cmd.spawn().expect("spawn hookbox");
    let stdout = drain(child.stdout.take().unwrap());
    let stderr = drain(child.stderr.take().unwrap());
    let (status, max_rss_kib, killed) = wait_with_rusage(&mut child, wall);
    Outcome {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
        elapsed: started.elapsed(),
        max_rss_kib,
        killed,
    }
}

fn drain(mut r: impl Read + Send + 'static) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = r.read_to_end(&mut buf);
        buf
    })
}

/// Waits for the child with `wait4`, for its peak RSS; kills it past `wall`.
fn wait_with_rusage(child: &mut Child, wall: Duration) -> (Option<i32>, i64, bool) {
    let pid = child.id() as libc::pid_t;
    let deadline = Instant::now() + wall;
    let mut killed = false;
    loop {
        let mut status = 0;
        // SAFETY: plain FFI call with valid out-pointers; the pid is our own unreaped child.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        let flags = if killed { 0 } else { libc::WNOHANG };
        let r = unsafe { libc::wait4(pid, &mut status, flags, &mut usage) };
        if r == pid {
            let code = if libc::WIFEXITED(status) {
                Some(libc::WEXITSTATUS(status))
            } else {
                None
            };
            return (code, usage.ru_maxrss, killed);
        }
        assert!(r >= 0, "wait4 failed: {}", std::io::Error::last_os_error());
        if Instant::now() > deadline && !killed {
            let _ = child.kill();
            killed = true;
            continue;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A temp base holding the work dir and a sentinel dir beside it.
pub(super) struct Arena {
    pub base: tempfile::TempDir,
    pub work: PathBuf,
    pub sentinel: PathBuf,
}

impl Arena {
    pub fn new() -> Self {
        let base = tempfile::Builder::new()
            .prefix("hookbox-fuzz")
            .tempdir()
            .unwrap();
        let work = base.path().join("work");
        let sentinel = base.path().join("sentinel");
        std::fs::create_dir(&work).unwrap();
        std::fs::create_dir(&sentinel).unwrap();
        std::fs::write(sentinel.join("keep.txt"), "sentinel").unwrap();
        Arena {
            base,
            work,
            sentinel,
        }
    }

    /// Everything outside the work dir: the base's entries and the sentinel's files.
    pub fn outside_snapshot(&self) -> BTreeMap<PathBuf, Vec<u8>> {
        let mut snap = BTreeMap::new();
        for entry in std::fs::read_dir(self.base.path()).unwrap() {
            let path = entry.unwrap().path();
            snap.insert(path, Vec::new());
        }
        for entry in std::fs::read_dir(&self.sentinel).unwrap() {
            let path = entry.unwrap().path();
            let data = std::fs::read(&path).unwrap_or_else(|_| b"<unreadable>".to_vec());
            snap.insert(path, data);
        }
        snap
    }
}

/// A small xorshift generator: reproducible from its seed, no registry crate needed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }
}

const TOKENS: &[&str] = &[
    "if",
    "then",
    "else",
    "elif",
    "fi",
    "while",
    "until",
    "do",
    "done",
    "for",
    "in",
    "case",
    "esac",
    ";;",
    ";&",
    ";;&",
    "function",
    "{",
    "}",
    "(",
    ")",
    "((",
    "))",
    "[[",
    "]]",
    "[",
    "]",
    "!",
    "&&",
    "||",
    "|",
    "|&",
    ";",
    "&",
    "\n",
    "<",
    ">",
    ">>",
    "<<",
    "<<-",
    "<<<",
    "2>&1",
    "&>",
    ">&2",
    "<>",
    ">|",
    "3<&0",
    "$",
    "${",
    "}",
    "$(",
    "$((",
    "`",
    "'",
    "\"",
    "$'",
    "\\",
    "#",
    "=",
    "+=",
    "*",
    "?",
    "~",
    "{a,b}",
    "{1..3}",
    "$?",
    "$#",
    "$@",
    "$*",
    "$0",
    "$1",
    "$$",
    "$!",
    "$-",
    "$RANDOM",
    "$LINENO",
    "${#x}",
    "${x:-w}",
    "${x:=w}",
    "${x:?e}",
    "${x:+w}",
    "${x#*}",
    "${x%%?}",
    "${x/a/b}",
    "${x//a}",
    "${x:1:2}",
    "${!x}",
    "${!x*}",
    "${x^^}",
    "${x,,}",
    "${a[@]}",
    "${#a[@]}",
    "${a[-1]}",
    "$((1/0))",
    "$((2**62*4))",
    "$((x++))",
    "echo",
    "printf",
    "%s",
    "%d",
    "%b",
    "%q",
    "test",
    "read",
    "eval",
    "source",
    ".",
    "set",
    "-e",
    "-u",
    "-x",
    "-o",
    "pipefail",
    "shift",
    "local",
    "declare",
    "-A",
    "-a",
    "export",
    "unset",
    "readonly",
    "trap",
    "EXIT",
    "ERR",
    "return",
    "exit",
    "break",
    "continue",
    "cd",
    "pwd",
    "getopts",
    "command",
    "type",
    "cat",
    "head",
    "tail",
    "wc",
    "seq",
    "mkdir",
    "rm",
    "touch",
    "env",
    "printenv",
    "basename",
    "dirname",
    "date",
    "true",
    "false",
    ":",
    "x",
    "a",
    "f",
    "x=1",
    "a=(1 2 3)",
    "f()",
    "EOF",
    "-z",
    "-n",
    "-eq",
    "-lt",
    "==",
    "=~",
    "!=",
    "0",
    "1",
    "-1",
    "255",
    "9223372036854775807",
    "-9223372036854775808",
    "..",
    "/",
    "/etc/passwd",
    "../x",
    "/dev/null",
    "-",
    "--",
    " ",
    " ",
    " ",
    " ",
    "\t",
];

/// Building blocks that are well-formed on their own, so generated programs get past the
/// parser and exercise the evaluator.
const STATEMENTS: &[&str] = &[
    "x=$((RANDOM % 7))",
    "echo \"$x\" ${x:-d} '${x}'",
    "a=(one two 'three four'); echo ${#a[@]} \"${a[@]:1}\"",
    "declare -A m; m[k]=v; echo ${!m[@]} ${m[k]}",
    "f() { local y=$1; return $((y % 3)); }; f 5; echo $?",
    "for i in 1 2 3; do echo $i; done",
    "for ((i=0; i<3; i++)); do :; done",
    "case $x in 1|2) echo small;; *) echo big;; esac",
    "[[ $x =~ ^[0-9]+$ ]] && echo num",
    "test -n \"$x\" || echo empty",
    "echo $(echo sub $(echo nested))",
    "cat <<EOF\nhere $x\nEOF",
    "cat <<-'EOF'\n\tliteral $x\n\tEOF",
    "read -r line <<< \"a b c\"; echo $line",
    "echo hi > out.txt; cat < out.txt >> out2.txt",
    "printf '%s-%d\\n' a 1 b 2",
    "set -e; false || true",
    "set -u; echo ${unset_var-ok}",
    "set -o pipefail; false | true; echo $?",
    "trap 'echo bye' EXIT",
    "eval 'echo evaluated'",
    "( cd /; pwd ); pwd",
    "{ echo group; } 2>&1",
    "seq 1 3 | while read n; do echo $n; done",
    "mkdir -p d/e; touch d/e/f; ls=$(echo d/*); rm -rf d",
    "shift 2>/dev/null; echo $#",
    "getopts ab: o -a; echo $o",
    "x=${x//[0-9]/N}; echo ${x^^}",
    "echo {a,b}{1..2} ~ ~/x",
    "until [ ${n:-0} -ge 2 ]; do n=$((n+1)); done",
    "while :; do break; done",
    "echo $((1 << 70)) $((7 % 3)) $(( (1+2) * 3 ))",
    "command -v echo; type cat",
    "unset x; readonly r=1; r=2",
    "env | head -n 1; printenv PATH",
    "echo *.txt; echo [a-z]* ?",
    "source /dev/null; . ./missing",
    "exec 3>&1; echo via3 >&3",
    "date +%s >/dev/null; basename /a/b; dirname /a/b",
    "wc -l < /dev/null; head -c 3 /dev/null; tail -n 1 /dev/null",
];

/// One generated input: either text built from tokens/statements, or raw bytes.
fn generate(rng: &mut Rng, corpus: &[String]) -> Vec<u8> {
    match rng.below(5) {
        0 => token_soup(rng),
        1 => statements(rng),
        2 => random_bytes(rng),
        _ => {
            let base = if corpus.is_empty() {
                statements(rng)
            } else {
                rng.pick(corpus).as_bytes().to_vec()
            };
            mutate(rng, base)
        }
    }
}

fn token_soup(rng: &mut Rng) -> Vec<u8> {
    let n = 1 + rng.below(40);
    let mut s = String::new();
    for _ in 0..n {
        s.push_str(rng.pick::<&str>(TOKENS));
        if rng.chance(2) {
            s.push(' ');
        }
    }
    s.into_bytes()
}

fn statements(rng: &mut Rng) -> Vec<u8> {
    let n = 1 + rng.below(8);
    let mut s = String::new();
    for _ in 0..n {
        s.push_str(rng.pick::<&str>(STATEMENTS));
        s.push_str(rng.pick::<&str>(&["\n", "; ", " && ", " || ", " | ", "\n"]));
    }
    s.push_str("echo end\n");
    s.into_bytes()
}

fn random_bytes(rng: &mut Rng) -> Vec<u8> {
    let n = rng.below(200);
    (0..n)
        .map(|_| {
            if rng.chance(3) {
                // Bias towards shell-significant ASCII.
                *rng.pick(b"$(){}[]<>|&;'\"`\\#=*?~! \n\t0a")
            } else {
                rng.next() as u8
            }
        })
        .collect()
}

fn mutate(rng: &mut Rng, mut bytes: Vec<u8>) -> Vec<u8> {
    let rounds = 1 + rng.below(6);
    for _ in 0..rounds {
        let len = bytes.len();
        let at = rng.below(len + 1);
        match rng.below(6) {
            0 if len > 0 => {
                let end = (at + 1 + rng.below(16)).min(len);
                bytes.drain(at.min(len - 1)..end);
            }
            1 => {
                let tok = rng.pick(TOKENS).as_bytes().to_vec();
                bytes.splice(at..at, tok);
            }
            2 if len > 0 => {
                let i = at.min(len - 1);
                bytes[i] = rng.next() as u8;
            }
            3 if len > 0 => {
                // Duplicate a slice (grows nesting, repeats here-doc markers).
                let from = rng.below(len);
                let end = (from + 1 + rng.below(64)).min(len);
                let chunk = bytes[from..end].to_vec();
                bytes.splice(at..at, chunk);
            }
            4 => bytes.insert(at, *rng.pick(b"\0\xff\xc3'\"`$({[")),
            _ => bytes.truncate(at),
        }
    }
    bytes
}

/// The `stdin` scripts of `tests/shell-cases/*.yaml`, extracted without a YAML dependency:
/// the indented block under each `stdin: |` line.
pub(super) fn corpus() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("shell-cases");
    let mut scripts = Vec::new();
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return scripts;
    };
    let mut files: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    files.sort();
    for file in files
        .into_iter()
        .filter(|f| f.extension().is_some_and(|e| e == "yaml"))
    {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        let mut lines = text.lines().peekable();
        while let Some(line) = lines.next() {
            let trimmed = line.trim_start();
            if !trimmed.starts_with("stdin: |") {
                continue;
            }
            let key_indent = line.len() - trimmed.len();
            let mut block = Vec::new();
            let mut indent = None;
            while let Some(next) = lines.peek() {
                let ni = next.len() - next.trim_start().len();
                if !next.trim().is_empty() && ni <= key_indent {
                    break;
                }
                let ind = *indent.get_or_insert(ni);
                block.push(next.get(ind.min(next.len())..).unwrap_or(""));
                lines.next();
            }
            if !block.is_empty() {
                scripts.push(block.join("\n") + "\n");
            }
        }
    }
    scripts
}

/// An input for a message: lossy UTF-8, long ones elided in the middle.
fn short(input: &[u8]) -> String {
    let text = String::from_utf8_lossy(input);
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= 120 {
        return text.into_owned();
    }
    let head: String = chars[..60].iter().collect();
    let tail: String = chars[chars.len() - 40..].iter().collect();
    format!("{head}…({} chars)…{tail}", chars.len())
}

fn cases(default: usize) -> usize {
    std::env::var("HOOKBOX_FUZZ_CASES")
        .or_else(|_| std::env::var("PROPTEST_CASES"))
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn seed() -> u64 {
    std::env::var("HOOKBOX_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
                | 1
        })
}

/// How a run of hookbox ended, judged from outside.
#[derive(Debug, PartialEq)]
enum Verdict {
    /// The guest ran to a status of its own, or was stopped by a limit (124/137).
    Clean,
    /// The guest trapped (e.g. the shell panicked inside wasm): reported by hookbox as
    /// "the hook trapped" with status 134. A shell bug, not an escape.
    GuestTrap,
    /// hookbox itself panicked, died of a signal or overran its deadline.
    HostFailure(String),
}

fn judge(o: &Outcome) -> Verdict {
    let err = o.err();
    if o.killed {
        return Verdict::HostFailure(format!("still running after {:?}", o.elapsed));
    }
    let Some(status) = o.status else {
        return Verdict::HostFailure("hookbox died of a signal".into());
    };
    let guest_trap = err.contains("hookbox: the hook trapped");
    if guest_trap && status == 134 {
        return Verdict::GuestTrap;
    }
    // A host panic prints "thread '…' panicked at" and exits 101; the guest's own panics are
    // always followed by hookbox's "the hook trapped" line (handled above).
    if err.contains("panicked at") {
        return Verdict::HostFailure(format!("panic (status {status})"));
    }
    Verdict::Clean
}

/// Runs one input (as `-c INPUT` when argv can carry it, else as a script file) and checks
/// the property. Returns whether the guest trapped.
fn check_input(input: &[u8]) -> Verdict {
    use std::os::unix::ffi::OsStrExt;
    let arena = Arena::new();
    let before = arena.outside_snapshot();
    let flags = ["--fuel", FUEL, "--timeout", TIMEOUT_S, "--memory", MEMORY];
    // argv cannot hold NUL and clap wants UTF-8: those inputs go in through a file.
    let as_arg = !input.contains(&0) && std::str::from_utf8(input).is_ok();
    let outcome = if as_arg {
        run_shell(
            &arena.work,
            &flags,
            &["-c".as_ref(), std::ffi::OsStr::from_bytes(input)],
            &[],
            WALL_LIMIT,
        )
    } else {
        std::fs::write(arena.work.join("fuzz.sh"), input).unwrap();
        run_shell(&arena.work, &flags, &["fuzz.sh".as_ref()], &[], WALL_LIMIT)
    };
    let verdict = judge(&outcome);
    let after = arena.outside_snapshot();
    assert_eq!(
        before,
        after,
        "the run changed things outside its work dir; input: {:?}",
        String::from_utf8_lossy(input)
    );
    if let Verdict::HostFailure(why) = &verdict {
        panic!(
            "hookbox failed ({why}) on input {:?}\nstatus {:?}\nstderr: {}",
            String::from_utf8_lossy(input),
            outcome.status,
            outcome.err()
        );
    }
    verdict
}

#[test]
fn fuzzed_scripts_never_crash_hookbox_nor_escape_limits() {
    let corpus = corpus();
    assert!(corpus.len() > 50, "the shell-cases corpus was not found");
    let seed = seed();
    let n = cases(64);
    eprintln!("shell fuzz: {n} cases, HOOKBOX_FUZZ_SEED={seed}");
    let mut rng = Rng(seed);
    let mut traps = Vec::new();
    for i in 0..n {
        let input = generate(&mut rng, &corpus);
        if check_input(&input) == Verdict::GuestTrap {
            eprintln!("case {i}: the guest trapped on {:?}", short(&input));
            traps.push(input);
        }
    }
    eprintln!("shell fuzz: {n} cases, {} guest traps", traps.len());
}

/// Known-nasty inputs, always run: deep nesting, huge numbers, unterminated constructs.
#[test]
fn nasty_scripts_never_crash_hookbox() {
    let deep_sub = format!("{}echo{}", "$(".repeat(200), ")".repeat(200));
    let deep_brace = format!("{}:{}", "{ ".repeat(500), "; }".repeat(500));
    let deep_arith = format!("echo $(({}1{}))", "(".repeat(2000), ")".repeat(2000));
    let recursion = "f() { f; }; f".to_string();
    let inputs: Vec<Vec<u8>> = vec![
        deep_sub.into_bytes(),
        deep_brace.into_bytes(),
        deep_arith.into_bytes(),
        recursion.into_bytes(),
        b"cat <<EOF".to_vec(),
        b"echo $((9223372036854775807 + 1)) $((-9223372036854775808 / -1)) $((1 % 0))".to_vec(),
        b"echo ${x:99999999999999999999}".to_vec(),
        b"a[9223372036854775807]=1; echo ${a[@]}".to_vec(),
        b"printf '%999999999d' 1".to_vec(),
        b"echo \xff\xfe\x00\x01 '$(\0)'".to_vec(),
        b"${".to_vec(),
        b"((".to_vec(),
        b"case x in".to_vec(),
        b"seq 1 99999999999999999999".to_vec(),
        b"head -c -1 /dev/null; tail -n +0 /dev/null".to_vec(),
        b": 2147483648>x".to_vec(),
        b": 2147483647>/dev/null".to_vec(),
    ];
    for input in inputs {
        let verdict = check_input(&input);
        if verdict == Verdict::GuestTrap {
            eprintln!("the guest trapped on {:?}", short(&input));
        }
    }
}

/// The parser alone, natively, on arbitrary strings: never panics. Also the syntax-error
/// message the shell builds from a parse error.
#[test]
fn parsing_arbitrary_text_never_panics() {
    let corpus = corpus();
    let seed = seed();
    let n = cases(2000);
    eprintln!("parser fuzz: {n} cases, HOOKBOX_FUZZ_SEED={seed}");
    let mut rng = Rng(seed);
    for _ in 0..n {
        let bytes = generate(&mut rng, &corpus);
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let result = std::panic::catch_unwind(|| {
            let _ = hookbox_shell::syntax::parse(&text);
        });
        assert!(result.is_ok(), "the parser panicked on {text:?}");
    }
}

/// brush-parser 0.4's tokenizer looped forever or panicked on a here-document operator
/// without a word inside a substitution; bash calls each a syntax error, and so does ours.
#[test]
fn a_here_doc_operator_without_a_word_in_a_substitution_is_a_syntax_error() {
    for text in [
        "$(<<  ",
        "<<$(  - ",
        "$(<<  ${/}\n",
        "x=$( <<- &>x\n",
        "$( << $((1))",
    ] {
        assert!(hookbox_shell::syntax::parse(text).is_err(), "{text:?}");
    }
}

#[test]
fn an_io_number_past_i32_max_does_not_panic_the_parser() {
    for text in [": 2147483648>x", ": 99999999999<&0"] {
        let result = std::panic::catch_unwind(|| hookbox_shell::syntax::parse(text).is_ok());
        assert!(result.is_ok(), "the parser panicked on {text:?}");
    }
}

/// Inputs the fuzzer found that made the shell trap inside the sandbox: the shell must fail
/// like bash (or run them, as bash does), not abort.
#[test]
fn the_shell_does_not_trap_on_fuzz_findings() {
    let deep_brace = format!("{}:{}", "{ ".repeat(500), "; }".repeat(500));
    let deep_arith = format!("echo $(({}1{}))", "(".repeat(2000), ")".repeat(2000));
    for input in [
        ": 2147483648>x".to_string(),
        ": 2147483647>/dev/null".to_string(),
        deep_brace,
        deep_arith,
        "f() { f; }; f".to_string(),
    ] {
        let arena = Arena::new();
        let o = run_shell(
            &arena.work,
            &["--fuel", FUEL, "--timeout", TIMEOUT_S, "--memory", MEMORY],
            &["-c".as_ref(), input.as_ref()],
            &[],
            WALL_LIMIT,
        );
        assert_eq!(
            judge(&o),
            Verdict::Clean,
            "{}: {}",
            short(input.as_bytes()),
            o.err()
        );
    }
}

/// The fuzz findings give bash's answers: an overlong I/O number is a word (the redirection
/// still happens), a huge fd is a bad descriptor, deep nesting runs, and unbounded recursion
/// stops at the nesting limit with bash's message while the script goes on.
#[test]
fn limits_give_bashs_messages_and_statuses() {
    let cases: [(&str, &str, &str, i32); 6] = [
        (": 2147483648>x; echo $?; cat x", "0\n", "", 0),
        (
            ": 2147483647>/dev/null; echo $?",
            "1\n",
            "2147483647: Bad file descriptor",
            0,
        ),
        (
            "FUNCNEST=5\nf() { f; }\nf\necho after $?",
            "after 1\n",
            "f: maximum function nesting level exceeded (5)",
            0,
        ),
        (
            "f() { f; }\nf\necho after $?",
            "after 1\n",
            "f: maximum function nesting level exceeded (1000)",
            0,
        ),
        ("echo $((((((((((1+1))))))))))", "2\n", "", 0),
        (
            "x=$(printf '{ %.0s' $(seq 3500)); eval \"$x :\"; echo $?",
            "2\n",
            "nesting deeper than 3000 levels",
            0,
        ),
    ];
    for (script, out, err, status) in cases {
        let arena = Arena::new();
        std::fs::write(arena.work.join("s.sh"), script).unwrap();
        let o = run_hookbox(
            &arena.work,
            &[std::ffi::OsStr::new("shell")],
            &["--timeout", "60"],
            &["s.sh".as_ref()],
            &[],
            WALL_LIMIT,
        );
        assert!(!o.err().contains("trapped"), "{script}: {}", o.err());
        assert_eq!(
            (o.out().as_str(), o.status),
            (out, Some(status)),
            "{script}: {}",
            o.err()
        );
        assert!(o.err().contains(err), "{script}: {}", o.err());
    }
    // Deep but legitimate nesting runs as in bash.
    let deep_brace = format!("{}echo deep{}", "{ ".repeat(500), "; }".repeat(500));
    let deep_arith = format!("echo $(({}1{}))", "(".repeat(2000), ")".repeat(2000));
    for (script, out) in [(deep_brace, "deep\n"), (deep_arith, "1\n")] {
        let arena = Arena::new();
        std::fs::write(arena.work.join("s.sh"), &script).unwrap();
        let o = run_hookbox(
            &arena.work,
            &[std::ffi::OsStr::new("shell")],
            &["--timeout", "60"],
            &["s.sh".as_ref()],
            &[],
            WALL_LIMIT,
        );
        assert_eq!((o.out().as_str(), o.status), (out, Some(0)), "{}", o.err());
    }
}
