//! The native runner: each hook an ordinary process in its own process group.
