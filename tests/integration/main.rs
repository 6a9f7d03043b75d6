//! meshbox's integration tests: one crate, a module per feature, fixture meshes under `tests/fixtures/`.

mod attacks;
mod browser;
mod checks;
mod cli;
mod common;
mod derived_security;
mod discovery;
mod fail_closed;
mod governance;
mod http;
mod leaks;
mod lifecycle;
mod lint_schema;
mod load;
mod mcp;
mod no_panic;
mod parity;
mod pg;
mod references;
mod semantics;
mod standard;
mod startup;
mod types;
mod watch;
mod web_security;
