//! The bundled bash interpreter (`engine/shell`), compiled to wasm32-wasip1 by `build.rs`.
//! The sandbox runner instantiates it for shell hooks, `hookbox shell` and `hookbox compile`.

/// The shell's WASI module (wasm32-wasip1, imports the `hookbox` bridge module, ABI v1).
pub const SHELL_WASM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/hookbox-shell.wasm"));

/// sha256 of [`SHELL_WASM`], computed by `build.rs`.
pub const SHELL_WASM_SHA256: [u8; 32] =
    *include_bytes!(concat!(env!("OUT_DIR"), "/hookbox-shell.sha256"));
