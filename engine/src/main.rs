//! The `hookbox` binary: everything is in the library's `cli` module.

fn main() -> std::process::ExitCode {
    hookbox::cli::main()
}
