//! hookbox's bash interpreter: parses with brush-parser and evaluates with its own evaluator,
//! built for a guest with no fork (wasm32-wasip1). Scripts come in as text with argv and an
//! environment; output goes to the process's fds; external commands go through a `Host`.

mod arith;
mod builtins;
pub mod eval;
mod expand;
pub mod grants;
pub mod host;
mod interactive;
pub mod invoke;
pub mod io;
mod pattern;
mod quote;
mod select;
pub mod state;
pub mod syntax;
mod test;
mod tilde;
pub mod tools;
mod trace;

pub use builtins::is_builtin;
pub use eval::Source;
pub use state::Shell;
