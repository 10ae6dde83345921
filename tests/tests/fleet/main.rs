//! Fleet tests: `hookbox submit` / `hookbox worker` / `hookbox fleet …` against a real
//! PostgreSQL started per test ([`pg::Cluster`]), and hook retries in `hookbox run`.
//!
//! The workers are real `hookbox worker` processes, killed and stopped with real signals; the
//! hooks are real bash scripts run by the native runner.

mod pg;
mod retry;

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use hookbox_tests::hookbox;

/// The cluster, a folder for workers and fixtures, and a runtime for the test's own queries.
struct Fleet {
    cluster: pg::Cluster,
    tmp: tempfile::TempDir,
    rt: tokio::runtime::Runtime,
    client: tokio_postgres::Client,
}

impl Fleet {
    fn new() -> Option<Fleet> {
        let cluster = pg::Cluster::start()?;
        let tmp = tempfile::tempdir().unwrap();
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let client = rt.block_on(cluster.client());
        let f = Fleet {
            cluster,
            tmp,
            rt,
            client,
        };
        let out = f.hookbox(&["db", "migrate", "--json"]).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        Some(f)
    }

    fn url(&self) -> &str {
        &self.cluster.url
    }

    /// `hookbox ARGS` with the database in HOOKBOX_DATABASE_URL.
    fn hookbox(&self, args: &[&str]) -> Command {
        let mut c = hookbox();
        c.env("HOOKBOX_DATABASE_URL", self.url()).args(args);
        c
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.tmp.path().join(rel)
    }

    /// A project folder with these files (`*.sh` made executable).
    fn project(&self, name: &str, files: &[(&str, &str)]) -> PathBuf {
        let dir = self.path(name);
        for (rel, text) in files {
            let p = dir.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, text).unwrap();
            if rel.ends_with(".sh") {
                std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
            }
        }
        dir
    }

    /// A folder every hook user can write (records of what hooks did), granted to hooks by
    /// the platform policy deployments are then submitted under (confined hooks reach only
    /// their grants).
    fn records_dir(&self) -> PathBuf {
        let d = self.path("records");
        std::fs::create_dir_all(&d).unwrap();
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o777)).unwrap();
        std::fs::write(
            self.platform_file(),
            format!(
                "runners = [\"sandbox\", \"native\"]\nrunner = \"native\"\n[policy]\nallow = \"any\"\nextra-dirs = [{:?}]\n",
                d.display().to_string()
            ),
        )
        .unwrap();
        d
    }

    fn platform_file(&self) -> PathBuf {
        self.path("platform.toml")
    }

    fn worker(&self, id: &str, extra: &[&str]) -> Child {
        let work = self.path(&format!("work-{id}"));
        let log = std::fs::File::create(self.path(&format!("{id}.log"))).unwrap();
        let mut args = vec![
            "worker",
            "--id",
            id,
            "--work-dir",
            work.to_str().unwrap(),
            "--lease",
            "3s",
            "--heartbeat",
            "1s",
            "--poll",
            "200ms",
            "--drain-timeout",
            "10s",
        ];
        let platform = self.platform_file();
        if platform.exists() {
            args.extend(["--platform", platform.to_str().unwrap()]);
        }
        args.extend_from_slice(extra);
        self.hookbox(&args)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start a worker")
    }

    fn submit(&self, dir: &Path, extra: &[&str]) -> serde_json::Value {
        let platform = self.platform_file();
        let mut args = vec!["submit", dir.to_str().unwrap(), "--json"];
        if platform.exists() {
            args.extend(["--platform", platform.to_str().unwrap()]);
        }
        args.extend_from_slice(extra);
        let out = self.hookbox(&args).output().unwrap();
        assert!(
            out.status.success(),
            "submit failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        serde_json::from_str(text.lines().next().unwrap()).unwrap()
    }

    fn query(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Vec<tokio_postgres::Row> {
        self.rt
            .block_on(self.client.query(sql, params))
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    fn count(&self, sql: &str) -> i64 {
        self.query(sql, &[])[0].get(0)
    }

    /// Waits until `sql` (a count) reaches `want`.
    fn wait_count(&self, sql: &str, want: i64, within: Duration) {
        let start = Instant::now();
        loop {
            let n = self.count(sql);
            if n >= want {
                return;
            }
            assert!(
                start.elapsed() < within,
                "waited {within:?} for `{sql}` to reach {want}, it is {n}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn worker_log(&self, id: &str) -> String {
        std::fs::read_to_string(self.path(&format!("{id}.log"))).unwrap_or_default()
    }
}

fn signal(child: &Child, sig: i32) {
    // SAFETY: kill(2) on a child we started.
    unsafe {
        libc::kill(child.id() as i32, sig);
    }
}

fn stop_workers(workers: &mut [Child]) {
    for w in workers.iter() {
        signal(w, libc::SIGTERM);
    }
    for w in workers.iter_mut() {
        let start = Instant::now();
        loop {
            if w.try_wait().unwrap().is_some() {
                break;
            }
            if start.elapsed() > Duration::from_secs(30) {
                signal(w, libc::SIGKILL);
                let _ = w.wait();
                panic!("a worker did not stop within 30 s of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Processes whose environment has `needle` (a fixture's unique `REC=` value).
fn processes_with_env(needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.bytes().all(|b| b.is_ascii_digit()) || name == std::process::id().to_string() {
            continue;
        }
        if let Ok(env) = std::fs::read(e.path().join("environ")) {
            if env.split(|b| *b == 0).any(|v| v == needle.as_bytes()) {
                let cmd = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
                found.push(format!(
                    "{name}: {}",
                    String::from_utf8_lossy(&cmd).replace('\0', " ")
                ));
            }
        }
    }
    found
}

const LINES: usize = 1000;

/// The fixture hook: records `start DEP HOOK ATTEMPT`, prints 1,000 numbered lines (slowly
/// enough to be caught mid-way), records `done`.
const COUNTING_HOOK: &str = r#"#!/bin/bash
echo "start $HOOKBOX_DEPLOYMENT $HOOK_NAME $HOOKBOX_ATTEMPT" >> "$REC/records"
for i in $(seq 1 1000); do
  echo "line $i"
  if (( i % 40 == 0 )); then sleep 0.03; fi
done
echo "done $HOOKBOX_DEPLOYMENT $HOOK_NAME $HOOKBOX_ATTEMPT" >> "$REC/records"
"#;

const RETRY_ON_LOST: &str = r#"[[hook]]
script = "pre-deploy.sh"
stage = "pre-deploy"
retries = 2
retry-delay-seconds = 0
retry-on = ["worker-lost"]
"#;

/// The open attempt of `worker` that has stored at least `lines` lines, if any.
fn open_attempt_of(f: &Fleet, worker: &str, lines: i64) -> Option<(i64, i32, i32)> {
    let rows = f.query(
        "SELECT a.deployment_id, a.position, a.attempt FROM hookbox_attempts a
         WHERE a.worker = $1 AND a.ended_at IS NULL
           AND (SELECT count(*) FROM hookbox_log_lines l WHERE l.deployment_id = a.deployment_id
                AND l.position = a.position AND l.attempt = a.attempt) >= $2",
        &[&worker, &lines],
    );
    rows.first().map(|r| (r.get(0), r.get(1), r.get(2)))
}

fn wait_open_attempt(f: &Fleet, worker: &str, within: Duration) -> (i64, i32, i32) {
    let start = Instant::now();
    loop {
        if let Some(a) = open_attempt_of(f, worker, 50) {
            return a;
        }
        assert!(
            start.elapsed() < within,
            "worker {worker} never ran a hook: {}",
            f.worker_log(worker)
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn four_workers_fifty_deployments_one_killed_one_stopped_each_hook_succeeds_once() {
    let Some(f) = Fleet::new() else { return };
    let rec = f.records_dir();
    std::fs::write(rec.join("records"), "").unwrap();
    std::fs::set_permissions(rec.join("records"), std::fs::Permissions::from_mode(0o666)).unwrap();
    let project = f.project(
        "app",
        &[
            ("pre-deploy.sh", COUNTING_HOOK),
            ("hookbox.toml", RETRY_ON_LOST),
        ],
    );
    let rec_env = format!("REC={}", rec.display());
    let started = Instant::now();
    let mut workers: Vec<Child> = ["w1", "w2", "w3", "w4"]
        .iter()
        .map(|id| f.worker(id, &[]))
        .collect();
    let mut ids = Vec::new();
    for i in 0..50 {
        let tenant = format!("tenant-{}", i % 5);
        let v = f.submit(&project, &["--tenant", &tenant, "--env", &rec_env]);
        ids.push(v["submitted"]["deployment"].as_i64().unwrap());
    }
    assert_eq!(ids.iter().collect::<BTreeSet<_>>().len(), 50);

    // w1 dies mid-hook (SIGKILL); w2 stops mid-hook past its lease, then continues.
    let killed = wait_open_attempt(&f, "w1", Duration::from_secs(60));
    assert!(open_attempt_of(&f, "w1", 0).is_some());
    signal(&workers[0], libc::SIGKILL);
    let _ = workers[0].wait();
    let stopped = wait_open_attempt(&f, "w2", Duration::from_secs(60));
    signal(&workers[1], libc::SIGSTOP);
    // Past the 3 s lease: another worker must take the deployment over.
    f.wait_count(
        &format!(
            "SELECT count(*) FROM hookbox_attempts WHERE deployment_id = {} AND position = {} AND attempt > {}",
            stopped.0, stopped.1, stopped.2
        ),
        1,
        Duration::from_secs(30),
    );
    std::thread::sleep(Duration::from_millis(500));
    signal(&workers[1], libc::SIGCONT);

    f.wait_count(
        "SELECT count(*) FROM hookbox_deployments WHERE state = 'done'",
        50,
        Duration::from_secs(120),
    );
    let mut rest: Vec<Child> = workers.drain(1..).collect();
    stop_workers(&mut rest);
    eprintln!("fleet test: 50 deployments in {:?}", started.elapsed());

    // Every deployment succeeded; every (deployment, hook) has exactly one success.
    assert_eq!(
        f.count("SELECT count(*) FROM hookbox_deployments WHERE status = 'success'"),
        50,
        "{:?}",
        f.query(
            "SELECT id, status, message FROM hookbox_deployments WHERE status <> 'success'",
            &[]
        )
        .iter()
        .map(|r| (
            r.get::<_, i64>(0),
            r.get::<_, Option<String>>(1),
            r.get::<_, Option<String>>(2)
        ))
        .collect::<Vec<_>>()
    );
    assert_eq!(
        f.count(
            "SELECT count(*) FROM hookbox_hooks WHERE state = 'succeeded' AND outcome IS NOT NULL"
        ),
        50
    );
    assert_eq!(
        f.count(
            "SELECT count(*) FROM (SELECT deployment_id, position FROM hookbox_attempts
             GROUP BY deployment_id, position HAVING count(*) FILTER (WHERE result = 'succeeded') <> 1) x"
        ),
        0
    );

    // The killed and the stopped worker's attempts were lost, and the next attempt ran.
    for ((dep, pos, attempt), who) in [(killed, "w1"), (stopped, "w2")] {
        let rows = f.query(
            "SELECT attempt, worker, result FROM hookbox_attempts
             WHERE deployment_id = $1 AND position = $2 ORDER BY attempt",
            &[&dep, &pos],
        );
        let got: Vec<(i32, String, Option<String>)> = rows
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect();
        let lost = got.iter().find(|a| a.0 == attempt).unwrap();
        assert_eq!(
            (lost.1.as_str(), lost.2.as_deref()),
            (who, Some("lost")),
            "{got:?}"
        );
        let next = got
            .iter()
            .find(|a| a.0 == attempt + 1)
            .expect("a next attempt");
        assert_ne!(next.1, who, "{got:?}");
        assert_eq!(next.2.as_deref(), Some("succeeded"), "{got:?}");
        let records = std::fs::read_to_string(rec.join("records")).unwrap();
        assert!(
            records
                .lines()
                .any(|l| l == format!("start {dep} pre-deploy.sh {}", attempt + 1)),
            "{records}"
        );
    }

    // No two attempts of one hook held a lease at the same time, and none is left open.
    assert_eq!(
        f.count("SELECT count(*) FROM hookbox_attempts WHERE ended_at IS NULL"),
        0
    );
    assert_eq!(
        f.count(
            "SELECT count(*) FROM (
                 SELECT started_at, lag(ended_at) OVER (PARTITION BY deployment_id, position ORDER BY attempt) AS prev_end
                 FROM hookbox_attempts) x
             WHERE prev_end IS NOT NULL AND prev_end > started_at"
        ),
        0
    );

    // Every final attempt's 1,000 lines are stored in order, with no gap in seq.
    let finals = f.query(
        "SELECT deployment_id, position, attempt FROM hookbox_attempts WHERE result = 'succeeded'",
        &[],
    );
    assert_eq!(finals.len(), 50);
    for r in &finals {
        let (dep, pos, attempt): (i64, i32, i32) = (r.get(0), r.get(1), r.get(2));
        let lines = f.query(
            "SELECT seq, stream, text FROM hookbox_log_lines
             WHERE deployment_id = $1 AND position = $2 AND attempt = $3 ORDER BY seq",
            &[&dep, &pos, &attempt],
        );
        let seqs: Vec<i32> = lines.iter().map(|l| l.get(0)).collect();
        assert_eq!(
            seqs,
            (1..=seqs.len() as i32).collect::<Vec<_>>(),
            "deployment {dep}"
        );
        let out: Vec<String> = lines
            .iter()
            .filter(|l| l.get::<_, Option<String>>(1).as_deref() == Some("stdout"))
            .map(|l| l.get(2))
            .collect();
        let want: Vec<String> = (1..=LINES).map(|i| format!("line {i}")).collect();
        assert_eq!(out, want, "deployment {dep}");
    }

    // Every worker claimed work; no hook process outlived its worker.
    let claimers: BTreeSet<String> = f
        .query("SELECT DISTINCT worker FROM hookbox_attempts", &[])
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(
        claimers,
        ["w1", "w2", "w3", "w4"]
            .map(String::from)
            .into_iter()
            .collect()
    );
    let start = Instant::now();
    loop {
        let left = processes_with_env(&rec_env);
        if left.is_empty() {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "orphan hook processes: {left:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn cancel_stops_a_running_hook_within_a_heartbeat_and_skips_the_rest() {
    let Some(f) = Fleet::new() else { return };
    let rec = f.records_dir();
    let project = f.project(
        "slow",
        &[
            (
                "pre-deploy.sh",
                "#!/bin/bash\necho begin\nfor i in $(seq 1 600); do sleep 0.1; done\necho end >> \"$REC/slow-end\"\n",
            ),
            ("post-deploy.sh", "#!/bin/bash\necho post >> \"$REC/post-ran\"\n"),
        ],
    );
    let rec_env = format!("REC={}", rec.display());
    // Queued, never claimed: cancelled at once.
    let queued = f.submit(&project, &["--tenant", "t", "--env", &rec_env])["submitted"]
        ["deployment"]
        .as_i64()
        .unwrap();
    let out = f
        .hookbox(&["fleet", "cancel", &queued.to_string(), "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let status = f.query(
        "SELECT state, status FROM hookbox_deployments WHERE id = $1",
        &[&queued],
    );
    assert_eq!(
        (
            status[0].get::<_, String>(0),
            status[0].get::<_, Option<String>>(1)
        ),
        ("done".to_string(), Some("cancelled".to_string()))
    );

    let id = f.submit(&project, &["--tenant", "t", "--env", &rec_env])["submitted"]["deployment"]
        .as_i64()
        .unwrap();
    let mut workers = vec![f.worker("c1", &[])];
    f.wait_count(
        &format!(
            "SELECT count(*) FROM hookbox_log_lines WHERE deployment_id = {id} AND text = 'begin'"
        ),
        1,
        Duration::from_secs(30),
    );
    let asked = Instant::now();
    let out = f
        .hookbox(&["fleet", "cancel", &id.to_string()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // One heartbeat (1 s) to reach the worker, then the runner's SIGTERM; far below the
    // 60 s the hook would run.
    f.wait_count(
        &format!("SELECT count(*) FROM hookbox_deployments WHERE id = {id} AND state = 'done'"),
        1,
        Duration::from_secs(20),
    );
    let took = asked.elapsed();
    stop_workers(&mut workers);
    let rows = f.query(
        "SELECT d.status, h.name, h.state FROM hookbox_deployments d JOIN hookbox_hooks h ON h.deployment_id = d.id
         WHERE d.id = $1 ORDER BY h.position",
        &[&id],
    );
    let got: Vec<(String, String, String)> = rows
        .iter()
        .map(|r| {
            (
                r.get::<_, Option<String>>(0).unwrap_or_default(),
                r.get(1),
                r.get(2),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                "cancelled".to_string(),
                "pre-deploy.sh".to_string(),
                "cancelled".to_string()
            ),
            (
                "cancelled".to_string(),
                "post-deploy.sh".to_string(),
                "skipped".to_string()
            ),
        ],
        "cancel took {took:?}"
    );
    assert!(!rec.join("slow-end").exists());
    assert!(!rec.join("post-ran").exists());
    assert!(processes_with_env(&rec_env).is_empty());
    // `fleet status` reports the failure with exit 1.
    let out = f
        .hookbox(&["fleet", "status", &id.to_string()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("status cancelled"));
}

#[test]
fn idempotency_key_returns_the_first_deployment_and_refuses_other_content() {
    let Some(f) = Fleet::new() else { return };
    // Migrating again changes nothing.
    let out = f.hookbox(&["db", "migrate", "--json"]).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["applied"], serde_json::json!([]));
    let project = f.project("app", &[("pre-deploy.sh", "#!/bin/bash\necho hi\n")]);
    let a = f.submit(
        &project,
        &["--tenant", "acme", "--idempotency-key", "release-42"],
    );
    let b = f.submit(
        &project,
        &["--tenant", "acme", "--idempotency-key", "release-42"],
    );
    assert_eq!(a["submitted"]["deployment"], b["submitted"]["deployment"]);
    assert_eq!(a["submitted"]["existing"], false);
    assert_eq!(b["submitted"]["existing"], true);
    assert_eq!(f.count("SELECT count(*) FROM hookbox_deployments"), 1);
    // Another tenant, or another key: a new deployment; the artifact is stored once.
    let c = f.submit(
        &project,
        &["--tenant", "other", "--idempotency-key", "release-42"],
    );
    assert_ne!(c["submitted"]["deployment"], a["submitted"]["deployment"]);
    assert_eq!(f.count("SELECT count(*) FROM hookbox_artifacts"), 1);
    // The same key with other content is refused, naming the key.
    std::fs::write(project.join("pre-deploy.sh"), "#!/bin/bash\necho changed\n").unwrap();
    let out = f
        .hookbox(&[
            "submit",
            project.to_str().unwrap(),
            "--tenant",
            "acme",
            "--idempotency-key",
            "release-42",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("release-42") && err.contains("other content"),
        "{err}"
    );
    assert_eq!(f.count("SELECT count(*) FROM hookbox_deployments"), 2);
}

#[test]
fn fleet_outcomes_follow_the_lifecycle_rules() {
    let Some(f) = Fleet::new() else { return };
    let rec = f.records_dir();
    let rec_env = format!("REC={}", rec.display());
    let mut workers = vec![f.worker("r1", &["--concurrency", "2"])];
    type Case<'a> = (
        &'a str,
        Vec<(&'a str, &'a str)>,
        Vec<&'a str>,
        &'a str,
        Vec<(&'a str, &'a str)>,
    );
    let cases: Vec<Case> = vec![
        (
            "abort",
            vec![
                ("pre-deploy.sh", "#!/bin/bash\necho migrating\nexit 3\n"),
                ("post-deploy.sh", "#!/bin/bash\necho never >> \"$REC/abort-post\"\n"),
            ],
            vec![],
            "aborted",
            vec![("pre-deploy.sh", "failed"), ("post-deploy.sh", "skipped")],
        ),
        (
            "warn",
            vec![
                ("pre-deploy.sh", "#!/bin/bash\necho ok\n"),
                ("post-deploy.sh", "#!/bin/bash\necho slack down >&2\nexit 1\n"),
            ],
            vec![],
            "success-with-warnings",
            vec![("pre-deploy.sh", "succeeded"), ("post-deploy.sh", "failed")],
        ),
        (
            "gate",
            vec![
                ("Procfile", "web: sleep 1000\npostdeploy: exit 4\n"),
                ("post-deploy.sh", "#!/bin/bash\necho never >> \"$REC/gate-post\"\n"),
            ],
            vec![],
            "hook-error",
            vec![("postdeploy", "failed"), ("post-deploy.sh", "skipped")],
        ),
        (
            "retry",
            vec![
                (
                    "pre-deploy.sh",
                    "#!/bin/bash\necho \"attempt $HOOKBOX_ATTEMPT\"\n[ \"$HOOKBOX_ATTEMPT\" = 2 ] || exit 75\n",
                ),
                (
                    "hookbox.toml",
                    "[[hook]]\nscript = \"pre-deploy.sh\"\nstage = \"pre-deploy\"\nretries = 3\nretry-delay-seconds = 0\nretry-on = [75]\n",
                ),
            ],
            vec![],
            "success",
            vec![("pre-deploy.sh", "succeeded")],
        ),
        (
            "skip",
            vec![("pre-deploy.sh", "#!/bin/bash\necho ran >> \"$REC/skip-ran\"\n")],
            vec!["SKIP_HOOKS=true"],
            "success",
            vec![("pre-deploy.sh", "skipped")],
        ),
    ];
    let mut ids = BTreeMap::new();
    for (name, files, env, _, _) in &cases {
        let dir = f.project(name, files);
        let mut cmd = f.hookbox(&[
            "submit",
            dir.to_str().unwrap(),
            "--tenant",
            *name,
            "--env",
            &rec_env,
            "--json",
        ]);
        for e in env {
            let (k, v) = e.split_once('=').unwrap();
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value =
            serde_json::from_str(String::from_utf8_lossy(&out.stdout).lines().next().unwrap())
                .unwrap();
        ids.insert(*name, v["submitted"]["deployment"].as_i64().unwrap());
    }
    for (name, _, _, status, hooks) in &cases {
        let id = ids[name];
        // `logs --follow` ends with the deployment: exit 0 for a success, 1 for a failure.
        let out = f
            .hookbox(&["fleet", "logs", &id.to_string(), "--follow"])
            .output()
            .unwrap();
        let log = String::from_utf8_lossy(&out.stdout).into_owned();
        assert_eq!(
            out.status.success(),
            status.starts_with("success"),
            "{name}: {log}"
        );
        let row = f.query(
            "SELECT status FROM hookbox_deployments WHERE id = $1",
            &[&id],
        );
        assert_eq!(
            row[0].get::<_, Option<String>>(0).as_deref(),
            Some(*status),
            "{name}: {log}"
        );
        let got: Vec<(String, String)> = f
            .query(
                "SELECT name, state FROM hookbox_hooks WHERE deployment_id = $1 ORDER BY position",
                &[&id],
            )
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        let want: Vec<(String, String)> = hooks
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        assert_eq!(got, want, "{name}: {log}");
        if *name == "retry" {
            // One log block per attempt, the attempt number in HOOKBOX_ATTEMPT.
            assert_eq!(
                log.matches("Running hook: pre-deploy.sh").count(),
                2,
                "{log}"
            );
            assert!(log.contains("Hook failed with exit code 75"), "{log}");
            assert!(log.contains("Retrying pre-deploy.sh"), "{log}");
            assert!(log.contains("[pre-deploy.sh] stdout: attempt 2"), "{log}");
        }
        if *name == "skip" {
            assert!(log.contains("SKIP_HOOKS"), "{log}");
        }
    }
    stop_workers(&mut workers);
    for never in ["abort-post", "gate-post", "skip-ran"] {
        assert!(!rec.join(never).exists(), "{never}");
    }
}
