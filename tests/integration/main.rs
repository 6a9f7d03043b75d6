//! meshbox's integration tests: one crate, a module per feature, fixture meshes under `tests/fixtures/`.

mod attacks;
mod browser;
mod checks;
mod cli;
mod common;
mod discovery;
mod governance;
mod http;
mod lifecycle;
mod load;
mod parity;
mod watch;
mod web_security;
