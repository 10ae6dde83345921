//! The clap front end. The only module that reads the process environment.

/// Runs the CLI and returns the process exit code.
pub fn main() -> i32 {
    0
}
