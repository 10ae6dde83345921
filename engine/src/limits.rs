//! Every resource limit a hook runs under, each a named field with one documented default.
//!
//! The same values apply to both runners; where a limit only makes sense in one runner
//! (fuel), its doc says so.

use std::time::Duration;

/// Default wall-clock limit of one hook: 300 s (the seeds' five minutes).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);
/// Default output cap per hook: 10 MiB of stdout and stderr together.
pub const DEFAULT_OUTPUT_CAP_BYTES: u64 = 10 * 1024 * 1024;
/// Default memory limit of a sandboxed hook (linear memory) and of a bridged command
/// (`RLIMIT_DATA`): 256 MiB.
pub const DEFAULT_MEMORY_BYTES: u64 = 256 * 1024 * 1024;
/// Default time between SIGTERM and SIGKILL when a native hook's deadline passes: 5 s.
pub const DEFAULT_KILL_GRACE: Duration = Duration::from_secs(5);
/// Default largest file a hook may write: 1 GiB — through WASI for a sandboxed guest, as
/// `RLIMIT_FSIZE` for native hooks, bridged commands and `[deploy]` commands.
pub const DEFAULT_FILE_SIZE_BYTES: u64 = 1024 * 1024 * 1024;
/// Default largest `.wasm` module file hookbox reads and compiles: 64 MiB. The bundled shell
/// is under 2 MiB and Rust hooks built in release mode a few MiB; compiling costs about a
/// second per MiB of code, so the cap also bounds what one module can cost before it runs.
pub const DEFAULT_MODULE_BYTES_MAX: u64 = 64 * 1024 * 1024;
/// Longest timeout hookbox accepts anywhere (`--timeout`, `HOOK_TIMEOUT`, hookbox.toml): a
/// day. The command line refuses more; a library caller's longer value is clamped to it
/// ([`deadline_after`]), so no deadline computation can overflow.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(24 * 60 * 60);

/// The instant `timeout` after `now`, with `timeout` clamped to [`MAX_TIMEOUT`]: adding an
/// arbitrary `Duration` to an `Instant` panics on overflow, and a limit set by a library
/// caller (or a tenant's file) must never be able to make hookbox panic.
pub fn deadline_after(now: tokio::time::Instant, timeout: Duration) -> tokio::time::Instant {
    let timeout = timeout.min(MAX_TIMEOUT);
    now.checked_add(timeout).unwrap_or(now)
}

/// Parses a timeout given by a person (`--timeout`, `HOOK_TIMEOUT`): whole seconds (`600`)
/// or a duration (`90s`, `5m`, `1h 30m`, `1d`), from 1 s to [`MAX_TIMEOUT`]. A timeout is
/// counted in whole seconds everywhere (hookbox.toml, events), so a fraction is refused rather
/// than rounded. The error says what was wrong and what is accepted.
pub fn parse_timeout_secs(text: &str) -> Result<Duration, String> {
    let max = MAX_TIMEOUT.as_secs();
    let text = text.trim();
    let too_long =
        || format!("{text} is longer than the longest timeout hookbox accepts, {max} s (a day)");
    let duration = if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        // Digits only, yet not a u64: too many of them.
        Duration::from_secs(text.parse::<u64>().map_err(|_| too_long())?)
    } else {
        match humantime::parse_duration(text) {
            Ok(d) => d,
            Err(humantime::DurationError::NumberOverflow) => return Err(too_long()),
            Err(e) => {
                return Err(format!(
                    "`{text}` is not a timeout: {e} (write seconds, e.g. 600, or a duration: 90s, 5m, 1h)"
                ))
            }
        }
    };
    if duration.is_zero() {
        return Err("a timeout must be at least 1 second".into());
    }
    if duration.subsec_nanos() != 0 {
        return Err(format!(
            "`{text}` is not a whole number of seconds; timeouts are counted in seconds (e.g. 2s)"
        ));
    }
    if duration > MAX_TIMEOUT {
        return Err(too_long());
    }
    Ok(duration)
}

/// The limits one hook runs under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Wall-clock deadline. Default [`DEFAULT_TIMEOUT`]. Exceeding it stops the hook (its
    /// whole process group, or its guest) and counts as a failure under the hook's own
    /// failure rule, reported as a timeout. Guards against hooks that hang a deploy.
    pub timeout: Duration,
    /// Bytes of output kept per hook. Default [`DEFAULT_OUTPUT_CAP_BYTES`]. Past it output is
    /// dropped with one marker line; the hook is not failed for it. Guards the log and the
    /// host's memory against a flood.
    pub output_cap_bytes: u64,
    /// Sandbox only: instruction budget. Default `None` (metered and reported, not limited), so
    /// ordinary hooks behave the same in both runners. Running out is `FuelExhausted`, a failure
    /// under the hook's rule. Guards a shared host against CPU-bound guests.
    pub fuel: Option<u64>,
    /// Linear memory of a sandboxed hook and `RLIMIT_DATA` of a bridged command. Default
    /// [`DEFAULT_MEMORY_BYTES`]. A grow past it fails the hook with a clear message.
    pub memory_bytes: u64,
    /// Native runner: time between SIGTERM and SIGKILL at the deadline. Default
    /// [`DEFAULT_KILL_GRACE`].
    pub kill_grace: Duration,
    /// Sandbox: the largest regular file the guest may make through WASI (`fd_write`,
    /// `fd_pwrite`, `fd_filestat_set_size`). Default [`DEFAULT_FILE_SIZE_BYTES`]. A write that
    /// would end past it fails with `EFBIG` and leaves the file as it was; hookbox says so
    /// once on the hook's stderr. Guards the host's disk against a guest filling it with
    /// one file (bridged commands have `RLIMIT_FSIZE` for the same).
    pub file_size_bytes: u64,
    /// Sandbox: the largest `.wasm` module file read for a hook (or `exec`). Default
    /// [`DEFAULT_MODULE_BYTES_MAX`]. A larger file is refused before it is read, naming its
    /// size and the limit. Guards hookbox's memory and CPU: the module is read whole and
    /// compiled before it runs.
    pub module_bytes_max: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            timeout: DEFAULT_TIMEOUT,
            output_cap_bytes: DEFAULT_OUTPUT_CAP_BYTES,
            fuel: None,
            memory_bytes: DEFAULT_MEMORY_BYTES,
            kill_grace: DEFAULT_KILL_GRACE,
            file_size_bytes: DEFAULT_FILE_SIZE_BYTES,
            module_bytes_max: DEFAULT_MODULE_BYTES_MAX,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_documented_ones() {
        let l = Limits::default();
        assert_eq!(l.timeout, Duration::from_secs(300));
        assert_eq!(l.file_size_bytes, 1 << 30);
        assert_eq!(l.module_bytes_max, 64 << 20);
    }

    #[test]
    fn huge_timeouts_never_overflow_a_deadline() {
        let now = tokio::time::Instant::now();
        let far = deadline_after(now, Duration::MAX);
        assert_eq!(far.duration_since(now), MAX_TIMEOUT);
        let near = deadline_after(now, Duration::from_secs(5));
        assert_eq!(near.duration_since(now), Duration::from_secs(5));
    }

    #[test]
    fn timeouts_from_people_are_checked() {
        assert_eq!(parse_timeout_secs("600"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_timeout_secs("86400"), Ok(MAX_TIMEOUT));
        assert_eq!(parse_timeout_secs("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_timeout_secs("1h 30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_timeout_secs(" 90s "), Ok(Duration::from_secs(90)));
        assert_eq!(parse_timeout_secs("1d"), Ok(MAX_TIMEOUT));
        for bad in [
            "0",
            "0s",
            "86401",
            "25h",
            "1500ms",
            "18446744073709551615",
            "99999999999999999999",
            "99999999999999999999h",
            "5 minutes later",
            "",
            "-1",
        ] {
            let err = parse_timeout_secs(bad).unwrap_err();
            assert!(!err.is_empty(), "{bad}");
        }
        assert!(parse_timeout_secs("18446744073709551615")
            .unwrap_err()
            .contains("a day"));
    }
}
