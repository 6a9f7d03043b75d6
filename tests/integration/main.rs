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
mod load;
mod parity;
mod watch;
mod web_security;
