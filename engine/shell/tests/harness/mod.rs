//! The differential shell harness, shared by the native-built interpreter's test
//! (engine/shell/tests/corpus.rs) and the run through the real sandbox (`hookbox shell`,
//! tests/tests/e2e/shell_sandbox.rs): every case of the brush-compat corpus (and
//! tests/shell-cases) runs through /bin/bash and through the shell under test in a fresh temp
//! dir each; stdout, exit status and (unless ignored) stderr are compared.
//!
//! The run gates: [`gate`] compares the failing cases with a pinned list checked in beside
//! this file (`known-failures/<mode>.txt`, one case id `FILE: NAME` a line), and a case that
//! newly fails *and* one that newly passes both fail the test, with how to update the list
//! (`SHELL_CORPUS_UPDATE=1` rewrites it from the run). `SHELL_CORPUS_WRITE_MD=1` regenerates
//! the mode's pass rates and failing cases in engine/shell/CORPUS.md.

#![allow(dead_code)]

use serde_yaml_ng::Value;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CASE_TIMEOUT: Duration = Duration::from_secs(10);

/// The shell under test: a program, the `argv[0]` it gets, the arguments before each case's
/// own, and variables for the program itself (added after the case's environment).
pub struct Ours<'a> {
    pub bin: &'a str,
    pub arg0: &'a str,
    pub args: &'a [&'a str],
    pub env: &'a [(&'a str, &'a str)],
}

/// The repository's root, from a crate's manifest directory (engine/shell or tests).
fn repo_root(manifest: &Path) -> PathBuf {
    let mut dir = manifest.to_path_buf();
    while !dir.join("tests/shell-cases").is_dir() {
        if !dir.pop() {
            return manifest.join("../..");
        }
    }
    dir
}

fn shell_cases_dir(manifest: &Path) -> PathBuf {
    repo_root(manifest).join("tests/shell-cases")
}

struct Out {
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    status: Option<i32>,
}

fn run(
    bin: &str,
    arg0: &str,
    args: &[String],
    stdin: &str,
    env: &[(String, String)],
    dir: &Path,
) -> Out {
    use std::os::unix::process::CommandExt;
    let mut c = Command::new(bin);
    c.arg0(arg0)
        .args(args)
        .current_dir(dir)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = match c.spawn() {
        Ok(c) => c,
        Err(e) => {
            return Out {
                stdout: Vec::new(),
                stderr: format!("spawn: {e}").into_bytes(),
                status: None,
            };
        }
    };
    let mut w = child.stdin.take();
    let data = stdin.as_bytes().to_vec();
    let feeder = std::thread::spawn(move || {
        if let Some(w) = w.as_mut() {
            let _ = w.write_all(&data);
        }
    });
    let mut so = child.stdout.take();
    let mut se = child.stderr.take();
    let ro = std::thread::spawn(move || {
        let mut v = Vec::new();
        if let Some(r) = so.as_mut() {
            let _ = r.read_to_end(&mut v);
        }
        v
    });
    let re = std::thread::spawn(move || {
        let mut v = Vec::new();
        if let Some(r) = se.as_mut() {
            let _ = r.read_to_end(&mut v);
        }
        v
    });
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s.code(),
            Ok(None) => {
                if start.elapsed() > CASE_TIMEOUT {
                    let _ = child.kill();
                    let _ = child.wait();
                    break None;
                }
                std::thread::sleep(Duration::from_millis(2));
            }
            Err(_) => break None,
        }
    };
    let _ = feeder.join();
    Out {
        stdout: ro.join().unwrap_or_default(),
        stderr: re.join().unwrap_or_default(),
        status,
    }
}

fn s(v: &Value, k: &str) -> Option<String> {
    match v.get(k)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn b(v: &Value, k: &str) -> bool {
    matches!(v.get(k), Some(Value::Bool(true)))
}

fn write_files(dir: &Path, files: Option<&Value>) {
    let Some(Value::Sequence(files)) = files else {
        return;
    };
    for f in files {
        let Some(p) = s(f, "path") else { continue };
        let path = dir.join(&p);
        if let Some(parent) = path.parent() {
            let _ = std::fs::create_dir_all(parent);
        }
        let _ = std::fs::write(&path, s(f, "contents").unwrap_or_default());
        if b(f, "executable") {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755));
        }
    }
}

fn norm_ws(b: &[u8]) -> String {
    String::from_utf8_lossy(b)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Error messages name the shell binary and temp dir; compare them with those masked.
fn norm_err(b: &[u8], dir: &Path) -> String {
    String::from_utf8_lossy(b).replace(&dir.display().to_string(), "<DIR>")
}

fn yaml_files(root: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(root) else {
        return;
    };
    let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok()).map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            yaml_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(p);
        }
    }
}

/// What one corpus run found.
pub struct CorpusRun {
    /// Per corpus file: (passed, run).
    pub table: BTreeMap<String, (usize, usize)>,
    /// Every case run, by id (`FILE: NAME`, `#2` … for a repeated name), and whether it
    /// passed; with what differed when not.
    pub cases: Vec<(String, bool, String)>,
    /// Only part of the corpus ran (`SHELL_CORPUS_FILTER`).
    pub filtered: bool,
    /// The table as text, with a TOTAL line.
    pub report: String,
}

impl CorpusRun {
    pub fn passed(&self) -> usize {
        self.table.values().map(|(ok, _)| ok).sum()
    }
    pub fn run(&self) -> usize {
        self.table.values().map(|(_, n)| n).sum()
    }
}

/// Times a failing case that is not pinned in the mode's list is run again before it counts
/// as failing: under a loaded CI machine a few cases flip with timing in bash itself (a
/// signal racing a `wait`), and one pass shows the case is not broken.
const UNPINNED_RETRIES: usize = 2;

/// Runs every case of the corpora through bash and through `ours`, prints the per-file pass
/// rates and writes the full report (with every failure) to `report`. A failing case not
/// pinned in `mode`'s known-failures list is retried ([`UNPINNED_RETRIES`]). Panics only when
/// the harness itself breaks (no bash, no case ran).
pub fn run_corpus(ours: &Ours<'_>, mode: &str, report_path: &Path) -> CorpusRun {
    let pinned = Pinned::read(mode);
    let pinned: std::collections::BTreeSet<&String> =
        pinned.known.iter().chain(&pinned.flaky).collect();
    let bash = "/bin/bash";
    assert!(Path::new(bash).exists(), "the oracle /bin/bash is missing");
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    let corpus = std::env::var("SHELL_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|_| repo_root(manifest).join("../shared/corpora/brush-compat"));
    yaml_files(&corpus, &mut files);
    yaml_files(&shell_cases_dir(manifest), &mut files);
    let filter = std::env::var("SHELL_CORPUS_FILTER").ok();
    let verbose = std::env::var("SHELL_CORPUS_VERBOSE").is_ok();
    let mut table: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut failures = Vec::new();
    let mut total_run = 0usize;
    struct Job {
        rel: String,
        name: String,
        doc: std::sync::Arc<Value>,
        case: Value,
    }
    let mut jobs = Vec::new();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for file in &files {
        let rel = file
            .strip_prefix(&corpus)
            .or_else(|_| file.strip_prefix(repo_root(manifest)))
            .unwrap_or(file)
            .display()
            .to_string();
        if rel.contains("interactive") || rel.contains("prompt") {
            continue;
        }
        if let Some(f) = &filter {
            if !rel.contains(f.as_str()) {
                continue;
            }
        }
        let Ok(text) = std::fs::read_to_string(file) else {
            continue;
        };
        let Ok(doc) = serde_yaml_ng::from_str::<Value>(&text) else {
            eprintln!("unparsable yaml: {rel}");
            continue;
        };
        let doc = std::sync::Arc::new(doc);
        let Some(Value::Sequence(cases)) = doc.get("cases") else {
            continue;
        };
        for case in cases {
            let mut name = s(case, "name").unwrap_or_default();
            // Ids are unique: a repeated name in one file gets `#2`, `#3` …
            let n = seen.entry(format!("{rel}: {name}")).or_default();
            *n += 1;
            if *n > 1 {
                name = format!("{name} #{n}");
            }
            jobs.push(Job {
                rel: rel.clone(),
                name,
                doc: doc.clone(),
                case: case.clone(),
            });
        }
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: std::sync::Mutex<Vec<(usize, bool, String)>> = std::sync::Mutex::new(Vec::new());
    let workers: usize = std::env::var("SHELL_CORPUS_JOBS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let Some(job) = jobs.get(i) else { break };
                let run = || {
                    run_case(
                        ours, bash, &job.rel, &job.name, &job.doc, &job.case, verbose,
                    )
                };
                let mut result = run();
                if !pinned.contains(&format!("{}: {}", job.rel, job.name)) {
                    for _ in 0..UNPINNED_RETRIES {
                        match &result {
                            Some((false, _)) => result = run(),
                            _ => break,
                        }
                    }
                }
                if let Some(r) = result {
                    if let Ok(mut g) = results.lock() {
                        g.push((i, r.0, r.1));
                    }
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap_or_default();
    results.sort_by_key(|r| r.0);
    let mut cases = Vec::new();
    for (i, ok, what) in results {
        let job = &jobs[i];
        total_run += 1;
        let e = table.entry(job.rel.clone()).or_default();
        e.1 += 1;
        if ok {
            e.0 += 1;
        } else {
            failures.push(format!("{}: {} [{what}]", job.rel, job.name));
        }
        cases.push((format!("{}: {}", job.rel, job.name), ok, what));
    }
    let mut report = String::new();
    let (mut p, mut t) = (0, 0);
    for (f, (ok, n)) in &table {
        report.push_str(&format!(
            "{:<45} {:>4}/{:<4} {:>5.1}%\n",
            f,
            ok,
            n,
            100.0 * *ok as f64 / (*n).max(1) as f64
        ));
        p += ok;
        t += n;
    }
    report.push_str(&format!(
        "{:<45} {:>4}/{:<4} {:>5.1}%\n",
        "TOTAL",
        p,
        t,
        100.0 * p as f64 / t.max(1) as f64
    ));
    let out = report_path;
    let _ = std::fs::write(
        out,
        format!("{report}\nFailures:\n{}\n", failures.join("\n")),
    );
    println!("{report}\nfull report: {}", out.display());
    assert!(total_run > 0, "the harness ran no case");
    CorpusRun {
        table,
        cases,
        filtered: filter.is_some(),
        report,
    }
}

/// The pinned list of a mode (`sandbox`, `native`), from either crate (engine/shell or
/// tests): the cases known to fail, and those that flip with timing in bash itself (`? `
/// lines: either result passes).
/// A mode's known-failures list: its comment header, the cases that fail, and the `? `
/// cases that flip with timing in bash itself.
struct Pinned {
    header: Vec<String>,
    known: std::collections::BTreeSet<String>,
    flaky: std::collections::BTreeSet<String>,
}

impl Pinned {
    fn read(mode: &str) -> Pinned {
        let text = std::fs::read_to_string(known_failures_file(mode)).unwrap_or_default();
        let mut p = Pinned {
            header: Vec::new(),
            known: Default::default(),
            flaky: Default::default(),
        };
        for line in text.lines() {
            if let Some(id) = line.strip_prefix("? ") {
                p.flaky.insert(id.to_string());
            } else if line.starts_with('#') || line.trim().is_empty() {
                if p.known.is_empty() && p.flaky.is_empty() {
                    p.header.push(line.to_string());
                }
            } else {
                p.known.insert(line.to_string());
            }
        }
        p
    }
}

fn known_failures_file(mode: &str) -> PathBuf {
    repo_root(Path::new(env!("CARGO_MANIFEST_DIR")))
        .join("engine/shell/tests/known-failures")
        .join(format!("{mode}.txt"))
}

/// Checks the run against the mode's pinned list: every failing case must be listed and
/// every listed case must fail (flaky `? ` cases excepted). With `SHELL_CORPUS_UPDATE=1`, the
/// list is rewritten from this run instead (flaky lines kept). With `SHELL_CORPUS_WRITE_MD=1`,
/// the mode's section of CORPUS.md is regenerated. Returns the message of a failed gate.
pub fn gate(run: &CorpusRun, mode: &str, title: &str) -> Result<(), String> {
    let path = known_failures_file(mode);
    let Pinned {
        header,
        known,
        flaky,
    } = Pinned::read(mode);
    let ran: std::collections::BTreeSet<&str> = run.cases.iter().map(|c| c.0.as_str()).collect();
    let failing: Vec<&(String, bool, String)> = run.cases.iter().filter(|c| !c.1).collect();
    let newly_failing: Vec<String> = failing
        .iter()
        .filter(|c| !known.contains(&c.0) && !flaky.contains(&c.0))
        .map(|c| format!("{} [{}]", c.0, c.2))
        .collect();
    let newly_passing: Vec<&String> = known
        .iter()
        .filter(|id| ran.contains(id.as_str()))
        .filter(|id| run.cases.iter().any(|c| &c.0 == *id && c.1))
        .collect();
    if std::env::var("SHELL_CORPUS_WRITE_MD").is_ok() && !run.filtered {
        write_corpus_md(run, mode, title);
    }
    if std::env::var("SHELL_CORPUS_UPDATE").is_ok() {
        let mut out = header.join("\n");
        if !out.is_empty() {
            out.push('\n');
        }
        for id in &flaky {
            out.push_str(&format!("? {id}\n"));
        }
        // A filtered run knows only its own cases: the others keep their lines.
        let mut ids: std::collections::BTreeSet<String> = known
            .iter()
            .filter(|id| run.filtered && !ran.contains(id.as_str()))
            .cloned()
            .collect();
        ids.extend(
            failing
                .iter()
                .filter(|c| !flaky.contains(&c.0))
                .map(|c| c.0.clone()),
        );
        let mut ordered: Vec<&String> = ids.iter().collect();
        ordered.sort();
        for id in ordered {
            out.push_str(id);
            out.push('\n');
        }
        std::fs::write(&path, out).map_err(|e| format!("{}: {e}", path.display()))?;
        println!("updated {}", path.display());
        return Ok(());
    }
    if newly_failing.is_empty() && newly_passing.is_empty() {
        return Ok(());
    }
    let mut msg = format!(
        "the {title} corpus run differs from the pinned list {}:\n",
        path.display()
    );
    if !newly_failing.is_empty() {
        msg.push_str(&format!(
            "\n{} case(s) newly FAIL (fix them, or if the change is intended, pin them):\n  {}\n",
            newly_failing.len(),
            newly_failing.join("\n  ")
        ));
    }
    if !newly_passing.is_empty() {
        msg.push_str(&format!(
            "\n{} case(s) newly PASS (good: unpin them):\n  {}\n",
            newly_passing.len(),
            newly_passing
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join("\n  ")
        ));
    }
    msg.push_str(
        "\nTo update the list from this run, rerun the test with SHELL_CORPUS_UPDATE=1 \
         (SHELL_CORPUS_VERBOSE=1 shows each mismatch; a case that flips with timing in bash \
         itself can be marked with a leading `? `).",
    );
    Err(msg)
}

/// Regenerates the mode's part of engine/shell/CORPUS.md: between `<!-- BEGIN MODE -->` and
/// `<!-- END MODE -->`, the pass rates per file and the failing cases.
fn write_corpus_md(run: &CorpusRun, mode: &str, title: &str) {
    let md = known_failures_file(mode)
        .parent()
        .and_then(Path::parent)
        .and_then(Path::parent)
        .map(|shell| shell.join("CORPUS.md"));
    let Some(md) = md else { return };
    let Ok(text) = std::fs::read_to_string(&md) else {
        return;
    };
    let (begin, end) = (
        format!("<!-- BEGIN {mode} -->"),
        format!("<!-- END {mode} -->"),
    );
    let (Some(a), Some(b)) = (text.find(&begin), text.find(&end)) else {
        eprintln!("{}: no {begin} … {end} markers", md.display());
        return;
    };
    let failing: Vec<String> = run
        .cases
        .iter()
        .filter(|c| !c.1)
        .map(|c| format!("{} [{}]", c.0, c.2))
        .collect();
    let section = format!(
        "{begin}\n## {title}: {}/{} ({:.1}%)\n\n```\n{}```\n\nFailing cases:\n\n```\n{}\n```\n",
        run.passed(),
        run.run(),
        100.0 * run.passed() as f64 / run.run().max(1) as f64,
        run.report,
        failing.join("\n")
    );
    let new = format!("{}{section}{}", &text[..a], &text[b..]);
    let _ = std::fs::write(&md, new);
}

#[allow(clippy::too_many_arguments)]
fn run_case(
    ours: &Ours<'_>,
    bash: &str,
    rel: &str,
    name: &str,
    doc: &Value,
    case: &Value,
    verbose: bool,
) -> Option<(bool, String)> {
    if b(case, "skip") || b(case, "pty") || case.get("incompatible_os").is_some() {
        return None;
    }
    let args: Vec<String> = match case.get("args") {
        Some(Value::Sequence(a)) => a
            .iter()
            .map(|v| match v {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                _ => String::new(),
            })
            .collect(),
        _ => Vec::new(),
    };
    if args
        .iter()
        .any(|a| a == "-i" || a == "--login" || a == "-l")
    {
        return None;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    write_files(dir.path(), doc.get("common_test_files"));
    write_files(dir.path(), case.get("test_files"));
    let home = if case.get("home_dir").is_some() {
        dir.path().display().to_string()
    } else {
        "/nonexistent-home".into()
    };
    let mut env = vec![
        (
            "PATH".to_string(),
            "/usr/local/bin:/usr/bin:/bin".to_string(),
        ),
        ("HOME".to_string(), home),
        ("LANG".to_string(), "C".to_string()),
    ];
    if let Some(Value::Mapping(m)) = case.get("env") {
        for (k, v) in m {
            if let (Value::String(k), Some(v)) = (
                k,
                match v {
                    Value::String(s) => Some(s.clone()),
                    Value::Number(n) => Some(n.to_string()),
                    Value::Bool(b) => Some(b.to_string()),
                    _ => None,
                },
            ) {
                env.retain(|(ek, _)| ek != k);
                env.push((k.clone(), v));
            }
        }
    }
    let stdin = s(case, "stdin").unwrap_or_default();
    let want = run(bash, "bash", &args, &stdin, &env, dir.path());
    // A fresh dir for ours, with the same files.
    let dir2 = tempfile::tempdir().expect("tempdir");
    write_files(dir2.path(), doc.get("common_test_files"));
    write_files(dir2.path(), case.get("test_files"));
    let mut env2: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| {
            if k == "HOME" && case.get("home_dir").is_some() {
                (k.clone(), dir2.path().display().to_string())
            } else {
                (k.clone(), v.clone())
            }
        })
        .collect();
    let mut ours_args: Vec<String> = ours.args.iter().map(|a| a.to_string()).collect();
    ours_args.extend(args.iter().cloned());
    env2.extend(ours.env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let got = run(ours.bin, ours.arg0, &ours_args, &stdin, &env2, dir2.path());
    let ws = b(case, "ignore_whitespace");
    let out_ok = b(case, "ignore_stdout")
        || if ws {
            norm_ws(&want.stdout) == norm_ws(&got.stdout)
        } else {
            norm_err(&want.stdout, dir.path()) == norm_err(&got.stdout, dir2.path())
        };
    let err_ok = b(case, "ignore_stderr")
        || norm_err(&want.stderr, dir.path()) == norm_err(&got.stderr, dir2.path());
    let st_ok = want.status == got.status;
    if out_ok && err_ok && st_ok {
        Some((true, String::new()))
    } else {
        let what = [
            (!out_ok).then_some("stdout"),
            (!err_ok).then_some("stderr"),
            (!st_ok).then_some("status"),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join("+");
        let what = if got.status.is_none() {
            format!("{what}+timeout")
        } else {
            what
        };
        if verbose {
            eprintln!(
                        "--- {rel}: {name} [{what}]\n script:\n{stdin}\n bash ({:?}):\n{}{}\n ours ({:?}):\n{}{}",
                        want.status,
                        String::from_utf8_lossy(&want.stdout),
                        String::from_utf8_lossy(&want.stderr),
                        got.status,
                        String::from_utf8_lossy(&got.stdout),
                        String::from_utf8_lossy(&got.stderr)
                    );
        }
        Some((false, what))
    }
}
