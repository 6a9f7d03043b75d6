//! meshbox: a folder of ODPS/ODCS data products becomes a working data mesh — loaded into DuckDB, tested against
//! its contracts, governed by policies as code, and served as a catalog and SQL console.
//!
//! `src/` is one folder per stage, and data flows one way, lowest stage first; a stage never imports one above it
//! (`src/layers.rs` checks it, and that no two modules import each other):
//! `base` → `model` → `folder` → `load` → `checks` → `governance` → `discovery` → `lifecycle` → `live` → `serve` →
//! `cli`. Each folder's `mod.rs` says what its stage takes in and hands on.

// Diagnostics are returned as errors on purpose: they carry file, line, field and hint.
#![allow(clippy::result_large_err)]

pub mod base;
pub mod checks;
pub mod cli;
pub mod discovery;
pub mod folder;
pub mod governance;
pub mod lifecycle;
pub mod live;
pub mod load;
pub mod model;
pub mod serve;

#[cfg(test)]
mod layers;
