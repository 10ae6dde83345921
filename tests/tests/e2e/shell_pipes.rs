//! Pipelines in the sandboxed shell stream: a stage that is an external command runs while
//! the next stage reads its output (through the bridge, and between two bridged commands on
//! the host), so an endless producer ends when its reader does, with bash's statuses, and a
//! slow reader loses nothing. Each script runs through `hookbox shell` with a time limit far
//! above what it needs: a pipeline that buffered instead would hit it (status 124).

use std::process::Output;

use hookbox_tests::hookbox;

fn shell(dir: &std::path::Path, script: &str) -> Output {
    hookbox()
        .current_dir(dir)
        .env("HOOKBOX_CACHE_DIR", super::sandbox::shared_cache_dir())
        .args([
            "shell",
            "--allow-all-commands",
            "--timeout",
            "120",
            "-c",
            script,
        ])
        .output()
        .expect("hookbox shell")
}

fn bash(dir: &std::path::Path, script: &str) -> Output {
    std::process::Command::new("bash")
        .current_dir(dir)
        .args(["-c", script])
        .output()
        .expect("bash")
}

/// The same output and status as bash.
fn agree(script: &str) {
    let dir = tempfile::tempdir().unwrap();
    let ours = shell(dir.path(), script);
    let theirs = bash(dir.path(), script);
    assert_eq!(
        (String::from_utf8_lossy(&ours.stdout), ours.status.code()),
        (
            String::from_utf8_lossy(&theirs.stdout),
            theirs.status.code()
        ),
        "{script}\nour stderr: {}",
        String::from_utf8_lossy(&ours.stderr)
    );
}

#[test]
fn an_endless_producer_ends_with_its_reader() {
    agree("yes | head -3; echo \"${PIPESTATUS[*]}\"");
    agree("set -o pipefail; yes | head -1; echo $?");
    agree("yes no | sed 3q; echo \"${PIPESTATUS[*]}\"");
}

#[test]
fn two_bridged_commands_are_connected_on_the_host() {
    agree("yes | grep -m2 y; echo \"${PIPESTATUS[*]}\"");
    agree("seq 1 50000 | sed -n '$p' | tr 0 x");
    agree("printf 'b\\na\\nc\\n' | sort | tr a-z A-Z");
}

#[test]
fn a_slow_reader_gets_every_byte() {
    // 1.9 MB, past the host's 1 MiB window, read line by line by the guest.
    agree(
        "seq 1 300000 > n.txt; cat n.txt | /usr/bin/cat | { c=0; while read -r l; do c=$((c+1)); done; echo $c; }",
    );
    // What a reader leaves unread stays for the next one in the same stage.
    agree("printf 'a\\nb\\nc\\n' | /usr/bin/cat | { read -r x; /usr/bin/cat; echo \"x=$x\"; }");
}
