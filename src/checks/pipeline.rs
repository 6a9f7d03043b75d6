//! Loads and tests products: their data files into one staging DuckDB, then (with file access switched off)
//! every contract check and SLA. The staging instance is returned so the caller can publish what it wants to serve.

use crate::base::diagnostics::Severity;
use crate::base::sql::quote_literal;
use crate::checks::CheckStatus;
use crate::checks::run::Target;
use crate::folder::manifests::ProductSpec;
use crate::load::ingest::{
    EngineSettings, PathPolicy, Staging, TableLoad, choose_server, contract_diag, load_contract,
};
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
    /// Scan text columns for personal data (serving and `validate`; `meshbox test` skips it).
    pub pii: bool,
    /// Globs (relative to the mesh root) of paths to leave out, in addition to the root `.gitignore`.
    pub ignore: Vec<String>,
    /// meshbox's own folder for this mesh (contract history, audit log); never inside the mesh.
    pub state_dir: Option<PathBuf>,
    /// A second folder a relative server path is tried against when nothing exists at it next to the contract:
    /// the working directory, for `meshbox test` (datacontract-cli resolves paths from there). None in a mesh.
    pub paths_fallback: Option<PathBuf>,
    /// Which checks run, on which rows (`meshbox test`'s selection flags; everything by default).
    pub selection: crate::checks::select::Selection,
    /// Told of each product loaded and tested (a terminal's progress bar; nothing by default).
    pub progress: crate::base::progress::ProgressSink,
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

pub use crate::load::product_load::{Inputs, Outcome};

/// Runs `work(connection, i)` for every `i < n` on up to `workers` threads, each with its own connection to the
/// staging database, and returns the results in order.
fn in_parallel<T: Send>(
    staging: &Staging,
    n: usize,
    workers: usize,
    work: impl Fn(&duckdb::Connection, usize) -> T + Sync,
) -> anyhow::Result<Vec<T>> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: std::sync::Mutex<Vec<Option<T>>> = std::sync::Mutex::new((0..n).map(|_| None).collect());
    let conns = (0..workers.clamp(1, n.max(1)))
        .map(|_| staging.conn.try_clone())
        .collect::<Result<Vec<_>, _>>()?;
    std::thread::scope(|scope| {
        for conn in conns {
            let (next, results, work) = (&next, &results, &work);
            scope.spawn(move || {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    if i >= n {
                        break;
                    }
                    let r = work(&conn, i);
                    results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(r);
                }
            });
        }
    });
    Ok(results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .map(|r| r.expect("every index ran"))
        .collect())
}

/// Loads one product's data into `schema`.
fn load_product(
    conn: &duckdb::Connection,
    spec: &ProductSpec,
    schema: &str,
    root: &std::path::Path,
    policy: &PathPolicy,
    opts: &Options,
) -> Outcome {
    let started = Instant::now();
    let mut out = Outcome {
        schema: schema.to_string(),
        tables: Vec::new(),
        checks: Vec::new(),
        diagnostics: Vec::new(),
        data_files: Vec::new(),
        load_ms: 0.0,
        checks_ms: 0.0,
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
        // Objects not read from files here: built later from a transform, or not selected (`--schema-name`).
        let unselected = (contract.tables.iter().enumerate())
            .filter(|(_, t)| !opts.selection.tests_table(&t.name))
            .map(|(i, _)| i);
        let derived: Vec<usize> = spec
            .transforms
            .iter()
            .filter(|t| t.contract == ci)
            .map(|t| t.object)
            .chain(unselected)
            .collect();
        let loaded = load_contract(conn, contract, ci, schema, server, policy, &derived);
        out.tables.extend(loaded.tables);
        out.diagnostics
            .extend(loaded.diagnostics.into_iter().map(|d| d.relative_to(root)));
        out.data_files.extend(loaded.files);
    }
    out.load_ms = started.elapsed().as_secs_f64() * 1000.0;
    out
}

/// Runs the checks, SLAs and (when asked) column profiles of one loaded product. Files are off limits by now.
fn check_product(
    conn: &duckdb::Connection,
    spec: &ProductSpec,
    out: &mut Outcome,
    root: &std::path::Path,
    opts: &Options,
    now: i64,
) -> anyhow::Result<()> {
    let started = Instant::now();
    conn.execute_batch(&format!("SET search_path = {}", quote_literal(&out.schema)))?;
    let guard = |sql: &str| {
        crate::base::sql_guard::inspect(conn, sql)
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    let selection = &opts.selection;
    for (ci, contract) in spec.contracts.iter().enumerate() {
        let rules = crate::checks::select::rules_of(contract);
        for (oi, table) in contract.tables.iter().enumerate() {
            if !selection.tests_table(&table.name) {
                continue;
            }
            let load = out.tables.iter().find(|t| t.contract == ci && t.object == oi);
            let mut planned = crate::checks::plan::plan_table(contract, oi, load, root);
            planned.retain(|p| selection.keeps(&p.result, &rules));
            if let Some(load) = load {
                let object = crate::load::derived::effective_object(table, load);
                let filter = selection.filter_for(&table.name);
                let (relation, row_count) = match filter {
                    Some(predicate) => filtered(conn, load, predicate, &mut planned),
                    None => (load.qualified(), load.row_count),
                };
                keep_rows_unread(selection, &mut planned);
                let target = Target {
                    conn,
                    relation,
                    whole: load.qualified(),
                    table: &object,
                    row_count,
                    guard: &guard,
                };
                out.checks.extend(crate::checks::run::run_table(&target, planned));
            }
        }
        let relation = |name: &str| {
            let load = out.tables.iter().find(|t| t.contract == ci && t.table == name)?;
            Some(match selection.filter_for(name) {
                Some(predicate) => format!("(SELECT * FROM {} WHERE ({predicate}))", load.qualified()),
                None => load.qualified(),
            })
        };
        let mut sla = crate::checks::sla::run(conn, contract, &relation, now, root);
        sla.retain(|c| selection.keeps(c, &rules));
        for c in sla.iter_mut().filter(|c| !selection.reads_rows(c)) {
            crate::checks::select::skip_unread(c);
        }
        out.checks.extend(sla);
    }
    if opts.pii {
        for t in out.tables.iter_mut() {
            let columns: Vec<(String, String)> = t
                .columns
                .iter()
                .map(|c| (c.name.clone(), c.data_type.clone()))
                .collect();
            match crate::load::pii::scan_table(conn, &t.qualified(), &columns) {
                Ok(found) => t.pii = found,
                Err(e) => tracing::warn!(table = %t.table, error = %e, "PII scan failed"),
            }
        }
    }
    if opts.profiles {
        for t in out.tables.iter_mut() {
            let object = crate::load::derived::effective_object(&spec.contracts[t.contract].tables[t.object], t);
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
            match crate::load::column_profiles::profile_table(conn, &t.qualified(), &columns, &classified) {
                Ok(p) => t.profiles = p,
                Err(e) => tracing::warn!(table = %t.table, error = %e, "column profile failed"),
            }
        }
    }
    out.checks_ms = started.elapsed().as_secs_f64() * 1000.0;
    out.load_ms += out.checks_ms;
    Ok(())
}

/// The rows of `load` that `predicate` keeps, as a relation, and how many there are. A predicate that cannot run
/// makes every check that reads rows an error saying why (presence and types, known from loading, still count).
fn filtered(
    conn: &duckdb::Connection,
    load: &TableLoad,
    predicate: &str,
    planned: &mut [crate::checks::plan::Planned],
) -> (String, u64) {
    use crate::checks::plan::Measure;
    let relation = format!("(SELECT * FROM {} WHERE ({predicate}))", load.qualified());
    match conn.query_row(&format!("SELECT count(*) FROM {relation}"), [], |r| r.get::<_, i64>(0)) {
        Ok(n) => (relation, n.max(0) as u64),
        Err(e) => {
            let reason = format!(
                "the --filter predicate `{predicate}` cannot run: {}",
                crate::base::errors::clean_error(e)
            );
            for p in planned.iter_mut() {
                if !matches!(
                    p.measure,
                    Measure::Known { .. } | Measure::Preset { .. } | Measure::Sql { .. }
                ) {
                    p.measure = Measure::Preset {
                        status: CheckStatus::Error,
                        reason: reason.clone(),
                    };
                }
            }
            (relation, 0)
        }
    }
}

/// Under `--metadata-only`, every check that would read row values is listed as skipped instead of run.
fn keep_rows_unread(selection: &crate::checks::select::Selection, planned: &mut [crate::checks::plan::Planned]) {
    for p in planned.iter_mut().filter(|p| !selection.reads_rows(&p.result)) {
        p.measure = crate::checks::plan::Measure::Preset {
            status: CheckStatus::Skipped,
            reason: crate::checks::select::METADATA_ONLY_REASON.into(),
        };
    }
}

/// Loads every product of `specs` into a new staging instance, then runs all checks (no derived-product inputs from
/// outside `specs`).
pub fn load_and_check(
    specs: &[&ProductSpec],
    root: &std::path::Path,
    opts: &Options,
) -> anyhow::Result<(Staging, Vec<Outcome>)> {
    load_and_check_with(specs, root, opts, &Inputs::default())
}

/// Loads every product of `specs` into a new staging instance, builds derived products from their inputs, then runs
/// all checks. Products are spread over as many threads as DuckDB may use (each with its own connection): a mesh of
/// small products is bound by per-query latency, not by any one query.
pub fn load_and_check_with(
    specs: &[&ProductSpec],
    root: &std::path::Path,
    opts: &Options,
    inputs: &Inputs,
) -> anyhow::Result<(Staging, Vec<Outcome>)> {
    let staging = Staging::open(&opts.engine)?;
    let policy = PathPolicy {
        root: root.to_path_buf(),
        allow_outside: opts.allow_outside_root,
        fallback: opts.paths_fallback.clone(),
    };
    let workers = opts
        .engine
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1));
    // Staging schemas cannot collide with domain names (derived products see their inputs as `<domain>.<table>`).
    let schemas: Vec<String> = (0..specs.len()).map(|i| format!("__meshbox_p{i}")).collect();
    for schema in &schemas {
        staging
            .conn
            .execute_batch(&format!("CREATE SCHEMA {}", crate::base::sql::quote_ident(schema)))?;
    }
    opts.progress.phase("loading", specs.len());
    let mut outcomes = in_parallel(&staging, specs.len(), workers, |conn, i| {
        let loaded = load_product(conn, specs[i], &schemas[i], root, &policy, opts);
        opts.progress.step();
        loaded
    })?;
    // From here on, SQL written in the mesh runs: no file may be read or written.
    staging.forbid_files()?;
    let derived = crate::load::derived::Context {
        staging: &staging,
        specs,
        schemas: &schemas,
        inputs,
        root,
        engine: &opts.engine,
    };
    crate::load::derived::build(&derived, &mut outcomes);
    let now = opts.now();
    let slots: Vec<std::sync::Mutex<&mut Outcome>> = outcomes.iter_mut().map(std::sync::Mutex::new).collect();
    opts.progress.phase("testing", specs.len());
    let results = in_parallel(&staging, specs.len(), workers, |conn, i| {
        let mut out = slots[i].lock().unwrap_or_else(|e| e.into_inner());
        let tested = check_product(conn, specs[i], &mut out, root, opts, now);
        opts.progress.step();
        tested
    })?;
    drop(slots);
    for r in results {
        r?;
    }
    Ok((staging, outcomes))
}
