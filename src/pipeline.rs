//! Loads and tests products: their data files into one staging DuckDB, then (with file access switched off)
//! every contract check and SLA. The staging instance is returned so the caller can publish what it wants to serve.

use crate::checks::CheckResult;
use crate::checks::run::Target;
use crate::diagnostics::{Diagnostic, Severity};
use crate::ingest::{EngineSettings, PathPolicy, Staging, TableLoad, choose_server, contract_diag, load_contract};
use crate::loader::ProductSpec;
use crate::sql::quote_literal;
use std::path::PathBuf;
use std::time::Instant;

/// Settings for loading and testing.
#[derive(Debug, Clone)]
pub struct Options {
    pub engine: EngineSettings,
    /// Server name to prefer in every contract (`--server`, or `settings.server` in mesh.yaml).
    pub server: Option<String>,
    /// Read data files outside the mesh root (only `meshbox test` on a single contract allows this).
    pub allow_outside_root: bool,
    /// "Now" for SLA checks, in microseconds since the epoch; None means the clock.
    pub now_micros: Option<i64>,
    /// Measure column profiles for the catalog (costs a scan per table; `meshbox test` skips it).
    pub profiles: bool,
    /// Globs (relative to the mesh root) of paths to leave out, in addition to the root `.gitignore`.
    pub ignore: Vec<String>,
}

impl Options {
    pub fn now(&self) -> i64 {
        self.now_micros.unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_micros() as i64)
                .unwrap_or(0)
        })
    }
}

/// What loading and testing one product produced.
#[derive(Debug)]
pub struct Outcome {
    /// The staging schema holding this product's tables.
    pub schema: String,
    pub tables: Vec<TableLoad>,
    pub checks: Vec<CheckResult>,
    pub diagnostics: Vec<Diagnostic>,
    pub data_files: Vec<PathBuf>,
    pub load_ms: f64,
}

/// Loads every product of `specs` into a new staging instance, then runs all checks.
pub fn load_and_check(
    specs: &[&ProductSpec],
    root: &std::path::Path,
    opts: &Options,
) -> anyhow::Result<(Staging, Vec<Outcome>)> {
    let staging = Staging::open(&opts.engine)?;
    let policy = PathPolicy {
        root: root.to_path_buf(),
        allow_outside: opts.allow_outside_root,
    };
    let mut outcomes = Vec::with_capacity(specs.len());
    for (i, spec) in specs.iter().enumerate() {
        let started = Instant::now();
        let schema = format!("p{i}");
        staging
            .conn
            .execute_batch(&format!("CREATE SCHEMA {}", crate::sql::quote_ident(&schema)))?;
        let mut out = Outcome {
            schema: schema.clone(),
            tables: Vec::new(),
            checks: Vec::new(),
            diagnostics: Vec::new(),
            data_files: Vec::new(),
            load_ms: 0.0,
        };
        for (ci, contract) in spec.contracts.iter().enumerate() {
            let server = choose_server(contract, opts.server.as_deref());
            if let (Some(wanted), Some(found)) = (opts.server.as_deref(), server)
                && found.server.as_deref() != Some(wanted)
                && contract.servers.len() > 1
            {
                out.diagnostics.push(contract_diag(
                    contract,
                    Severity::Info,
                    "server-choice",
                    "servers",
                    format!(
                        "no server named `{wanted}`; reading `{}`",
                        found.server.as_deref().unwrap_or("?")
                    ),
                    None,
                ));
            }
            let loaded = load_contract(&staging, contract, ci, &schema, server, &policy);
            out.tables.extend(loaded.tables);
            out.diagnostics
                .extend(loaded.diagnostics.into_iter().map(|d| d.relative_to(root)));
            out.data_files.extend(loaded.files);
        }
        out.load_ms = started.elapsed().as_secs_f64() * 1000.0;
        outcomes.push(out);
    }
    // From here on, SQL written in contracts runs: no file may be read or written.
    staging.forbid_files()?;
    let now = opts.now();
    let guard = |sql: &str| {
        crate::guard::inspect(&staging.conn, sql)
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    for (spec, out) in specs.iter().zip(outcomes.iter_mut()) {
        let started = Instant::now();
        staging
            .conn
            .execute_batch(&format!("SET search_path = {}", quote_literal(&out.schema)))?;
        for (ci, contract) in spec.contracts.iter().enumerate() {
            for (oi, _) in contract.tables.iter().enumerate() {
                let load = out.tables.iter().find(|t| t.contract == ci && t.object == oi);
                let planned = crate::checks::plan::plan_table(contract, oi, load, root);
                if let Some(load) = load {
                    let target = Target {
                        conn: &staging.conn,
                        relation: load.qualified(),
                        table: &contract.tables[oi],
                        row_count: load.row_count,
                        guard: &guard,
                    };
                    out.checks.extend(crate::checks::run::run_table(&target, planned));
                }
            }
            let relation = |name: &str| {
                out.tables
                    .iter()
                    .find(|t| t.contract == ci && t.table == name)
                    .map(TableLoad::qualified)
            };
            out.checks
                .extend(crate::checks::sla::run(&staging.conn, contract, &relation, now, root));
        }
        if opts.profiles {
            for t in out.tables.iter_mut() {
                let object = &spec.contracts[t.contract].tables[t.object];
                let classified = |name: &str| {
                    object
                        .columns
                        .iter()
                        .any(|c| c.name == name && crate::checks::run::is_classified(c))
                };
                let columns: Vec<(String, String)> = t
                    .columns
                    .iter()
                    .map(|c| (c.name.clone(), c.data_type.clone()))
                    .collect();
                match crate::profile::profile_table(&staging.conn, &t.qualified(), &columns, &classified) {
                    Ok(p) => t.profiles = p,
                    Err(e) => tracing::warn!(table = %t.table, error = %e, "column profile failed"),
                }
            }
        }
        out.load_ms += started.elapsed().as_secs_f64() * 1000.0;
    }
    Ok((staging, outcomes))
}
