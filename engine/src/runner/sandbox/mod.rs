//! The sandbox runner: hooks as WASI preview 1 modules under wasmtime.
