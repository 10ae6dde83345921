//! End-to-end tests: one test binary (this file is its root), one module per topic beside it:
//! add `mod NAME;` here and write tests/tests/e2e/NAME.rs.

mod bridge;
mod cli;
mod confine_attacks;
mod deploy;
mod discover;
mod events;
mod examples;
mod examples_bin;
mod lifecycle;
mod native;
mod platform;
mod sandbox;
mod sandbox_attacks;
mod sandbox_bridge;
mod sandbox_prep_attacks;
mod shell_attacks;
mod shell_fuzz;
mod shell_hooks;
mod shell_interactive;
mod shell_paths;
mod shell_pipes;
mod shell_sandbox;
mod shell_stdin;
mod shell_stream;
mod smoke;
mod speed;
mod state_attacks;
