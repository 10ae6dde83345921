//! Structured log lines into hookbox's event stream (redacted and capped like output).
//! Outside hookbox they go to stderr.

use crate::sys;

/// Severity of a log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Trace = 0,
    Debug = 1,
    Info = 2,
    Warn = 3,
    Error = 4,
}

/// Logs one line at `level`.
pub fn log(level: Level, message: &str) {
    if !sys::log(level as i32, message.as_bytes()) {
        eprintln!("[{level:?}] {message}");
    }
}

/// Logs at trace level.
pub fn trace(message: &str) {
    log(Level::Trace, message)
}
/// Logs at debug level.
pub fn debug(message: &str) {
    log(Level::Debug, message)
}
/// Logs at info level.
pub fn info(message: &str) {
    log(Level::Info, message)
}
/// Logs at warn level.
pub fn warn(message: &str) {
    log(Level::Warn, message)
}
/// Logs at error level.
pub fn error(message: &str) {
    log(Level::Error, message)
}

/// `info!("format {}", args)`.
#[macro_export]
macro_rules! info {
    ($($arg:tt)*) => { $crate::log::info(&format!($($arg)*)) };
}
/// `warn!("format {}", args)`.
#[macro_export]
macro_rules! warn {
    ($($arg:tt)*) => { $crate::log::warn(&format!($($arg)*)) };
}
/// `error!("format {}", args)`.
#[macro_export]
macro_rules! error {
    ($($arg:tt)*) => { $crate::log::error(&format!($($arg)*)) };
}
/// `debug!("format {}", args)`.
#[macro_export]
macro_rules! debug {
    ($($arg:tt)*) => { $crate::log::debug(&format!($($arg)*)) };
}
