//! A throwaway PostgreSQL cluster per test: `initdb` and `pg_ctl` in a temporary folder, as
//! the unprivileged `nobody` when the tests run as root (initdb refuses root), listening only
//! on a unix socket in a temporary folder of its own. Stopped (immediate) when dropped.
//!
//! Without PostgreSQL binaries the tests are skipped with a loud message, unless
//! `HOOKBOX_REQUIRE_POSTGRES=1` (set by `.ci/run`, which installs them): then they fail.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// The uid and gid the cluster runs as when the tests are root (`nobody`).
const NOBODY: u32 = 65534;

pub struct Cluster {
    bin: PathBuf,
    data: PathBuf,
    _dirs: (tempfile::TempDir, tempfile::TempDir),
    /// The tokio-postgres connection string.
    pub url: String,
}

fn find_bin() -> Option<PathBuf> {
    let mut candidates: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin"))
        .collect();
    candidates.sort();
    candidates.reverse();
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        if out.status.success() {
            candidates.push(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()));
        }
    }
    candidates
        .into_iter()
        .find(|b| b.join("initdb").is_file() && b.join("pg_ctl").is_file())
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

fn as_owner(cmd: &mut Command) -> &mut Command {
    if is_root() {
        // SAFETY: setgid/setuid between fork and exec, async-signal-safe.
        unsafe {
            cmd.pre_exec(|| {
                if libc::setgroups(0, std::ptr::null()) != 0
                    || libc::setgid(NOBODY) != 0
                    || libc::setuid(NOBODY) != 0
                {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    cmd
}

fn owned_dir(prefix: &str) -> tempfile::TempDir {
    let d = tempfile::Builder::new()
        .prefix(prefix)
        .tempdir()
        .expect("temporary folder");
    std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    if is_root() {
        std::os::unix::fs::chown(d.path(), Some(NOBODY), Some(NOBODY)).unwrap();
    }
    d
}

impl Cluster {
    /// A running cluster, or `None` (after a loud message) when PostgreSQL is not installed.
    pub fn start() -> Option<Cluster> {
        let Some(bin) = find_bin() else {
            let msg = "no PostgreSQL binaries (initdb, pg_ctl) found in /usr/lib/postgresql/*/bin or pg_config --bindir; install the `postgresql` package (bash .ci/run does)";
            if std::env::var_os("HOOKBOX_REQUIRE_POSTGRES").is_some() {
                panic!("{msg}");
            }
            eprintln!("\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!");
            eprintln!("!!! FLEET TEST SKIPPED: {msg}");
            eprintln!("!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n");
            return None;
        };
        let root = owned_dir("hookbox-pg-");
        let sock = owned_dir("hookbox-pgsock-");
        let data = root.path().join("data");
        let out = as_owner(
            Command::new(bin.join("initdb"))
                .arg("-D")
                .arg(&data)
                .args(["-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"])
                .stdin(Stdio::null()),
        )
        .output()
        .expect("run initdb");
        assert!(
            out.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let opts = format!(
            "-k {} -c listen_addresses='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200",
            sock.path().display()
        );
        let out = as_owner(
            Command::new(bin.join("pg_ctl"))
                .arg("-D")
                .arg(&data)
                .args(["-o", &opts, "-w", "-t", "60", "-l"])
                .arg(root.path().join("log"))
                .arg("start")
                .stdin(Stdio::null())
                .stdout(Stdio::null()),
        )
        .output()
        .expect("run pg_ctl start");
        assert!(
            out.status.success(),
            "pg_ctl start failed: {}{}",
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(root.path().join("log")).unwrap_or_default()
        );
        let url = format!(
            "host={} user=postgres dbname=postgres",
            sock.path().display()
        );
        Some(Cluster {
            bin,
            data,
            _dirs: (root, sock),
            url,
        })
    }

    /// A connected client, its connection driven on the current runtime.
    pub async fn client(&self) -> tokio_postgres::Client {
        let (client, conn) = tokio_postgres::connect(&self.url, tokio_postgres::NoTls)
            .await
            .expect("connect to the test cluster");
        tokio::spawn(conn);
        client
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = as_owner(
            Command::new(self.bin.join("pg_ctl"))
                .arg("-D")
                .arg(&self.data)
                .args(["-m", "immediate", "-w", "stop"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
        )
        .status();
    }
}
