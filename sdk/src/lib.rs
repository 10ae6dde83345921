//! hookbox-sdk: the guest-side API for Rust hooks. Arrives with the sandbox issue.
