//! The shell-to-host bridge: guest exec requests checked against the tenant's policy and run
//! confined on the host.

pub mod policy;
