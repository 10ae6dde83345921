//! End-to-end tests: one test binary, one module per topic (see tests/tests/e2e/).

mod smoke;
