//! meshbox: a folder of ODPS/ODCS data products becomes a working data mesh — loaded into DuckDB, tested against
//! its contracts, and served as a catalog and SQL console. Data flows one way:
//! folder (`scan`, `loader`) → data (`ingest`, `pipeline`) → checks (`checks`) → `snapshot` → `serving`/`query` → `http`.

// Diagnostics are returned as errors on purpose: they carry file, line, field and hint.
#![allow(clippy::result_large_err)]

pub mod access;
pub mod audit;
pub mod bench;
pub mod catalog;
pub mod checks;
pub mod cli;
pub mod commands;
pub mod compliance;
pub mod derived;
pub mod diagnostics;
pub mod diff;
pub mod disclosure;
pub mod export;
pub mod export_mesh;
pub mod format;
pub mod guard;
pub mod history;
pub mod http;
pub mod ingest;
pub mod last_good;
pub mod lineage;
pub mod lint;
pub mod loader;
pub mod manifest;
pub mod masking;
pub mod metadata;
pub mod pii;
pub mod pipeline;
pub mod policy;
pub mod profile;
pub mod profiles;
pub mod query;
pub mod reach;
pub mod report;
pub mod safe_read;
pub mod sample;
pub mod sandbox;
pub mod scaffold;
pub mod scan;
pub mod scorecard;
pub mod search;
pub mod serving;
pub mod snapshot;
pub mod sql;
pub mod synthetic;
pub mod types;
pub mod usage;
pub mod values;
pub mod vars;
pub mod watch;
pub mod yaml;
pub mod yaml_out;
