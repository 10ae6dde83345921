//! The differential shell harness, shared by the native-built interpreter's test
//! (engine/shell/tests/corpus.rs) and the run through the real sandbox (`hookbox shell`,
//! tests/tests/e2e/shell_sandbox.rs): every case of the brush-compat corpus (and
//! tests/shell-cases) runs through /bin/bash and through the shell under test in a fresh temp
//! dir each; stdout, exit status and (unless ignored) stderr are compared. Mismatches are
//! reported, not failed (the bar is a pass rate); a caller fails only when the harness itself
//! breaks (no case ran, bash missing).

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

/// Runs every case of the corpora through bash and through `ours`, prints the per-file pass
/// rates and writes the full report (with every failure) to `report`. Panics only when the
/// harness itself breaks (no bash, no case ran); returns (passed, run).
pub fn run_corpus(ours: &Ours<'_>, report_path: &Path) -> (usize, usize) {
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
            let name = s(case, "name").unwrap_or_default();
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
                if let Some(r) = run_case(
                    ours, bash, &job.rel, &job.name, &job.doc, &job.case, verbose,
                ) {
                    if let Ok(mut g) = results.lock() {
                        g.push((i, r.0, r.1));
                    }
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap_or_default();
    results.sort_by_key(|r| r.0);
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
    (p, t)
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
