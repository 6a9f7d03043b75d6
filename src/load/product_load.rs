//! What loading one product hands on: its staged tables, checks, diagnostics and data files (`Outcome`), and what
//! a derived product needs to find its inputs (`Inputs`).

use crate::base::diagnostics::Diagnostic;
use crate::load::ingest::TableLoad;
use crate::model::check::CheckResult;
use std::collections::HashMap;
use std::path::PathBuf;

/// What loading and testing one product produced.
#[derive(Debug)]
pub struct Outcome {
    /// The staging schema holding this product's tables.
    pub schema: String,
    pub tables: Vec<TableLoad>,
    pub checks: Vec<CheckResult>,
    pub diagnostics: Vec<Diagnostic>,
    pub data_files: Vec<PathBuf>,
    /// Reading the data and testing it.
    pub load_ms: f64,
    /// Of `load_ms`, testing it: checks, SLAs, PII scan and column profiles.
    pub checks_ms: f64,
}

/// What derived products need to find their inputs: who provides each contract, and the served tables of products
/// that are not reloaded in this build.
#[derive(Default)]
pub struct Inputs<'a> {
    /// Contract id → (product key, domain, names of the tables it serves).
    pub providers: HashMap<String, (String, String, Vec<String>)>,
    pub serving: Option<&'a crate::load::serving_db::ServingDb>,
    /// The catalog of the build that published `serving`: what the columns of served inputs carry.
    pub previous: Option<&'a crate::model::catalog::Catalog>,
}
