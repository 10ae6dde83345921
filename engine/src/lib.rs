//! hookbox runs deployment hooks — the scripts platforms run around a deploy — either as
//! ordinary host processes (the native runner) or inside a WebAssembly sandbox (the sandbox
//! runner), with one lifecycle and one set of failure rules for both.
//!
//! Data flows one way:
//!
//! ```text
//! discover (project dir → Plan) → lifecycle (Plan + Runner → Outcome) → events (→ hooks.log, JSON)
//!                                      │
//!                                   runner (Invocation → RunReport): native | sandbox
//!                                                                        │
//!                                                                     bridge (guest exec → confined host process)
//! ```
//!
//! Only the CLI (`cli`) reads the process environment; everything else takes values.

pub mod bridge;
pub mod cli;
pub mod confine;
pub mod discover;
pub mod events;
pub mod fleet;
pub mod lifecycle;
pub mod limits;
pub mod plan;
pub mod platform;
pub mod retry;
pub mod runner;
pub mod shebang;
pub mod shell_module;
