//! The commands: one function per `meshbox` subcommand. Each returns the process exit code; `main` prints errors
//! and turns them into an exit code with [`exit_code`].

use crate::base::diagnostics::Diagnostic;
use crate::cli::args::{LintArgs, McpArgs, ReportFormat, ServeArgs, TestArgs, ValidateArgs, cache_dir};
use crate::folder::manifests::{ProductSpec, read_contract};
use crate::live::snapshot::{Mesh, build};
use anyhow::Context;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

/// Exit code 1: the command ran and found problems (a blocking check fails, a lint error, a breaking change).
pub const FAILED: u8 = 1;
/// Exit code 2: the input cannot be used at all (a missing folder, an unreadable contract, a bad flag value).
/// clap's own usage errors exit 2 as well.
pub const UNUSABLE: u8 = 2;
/// When meshbox itself failed (DuckDB on meshbox's own SQL, an I/O error writing the output, a bug): exit 2 as for
/// unusable input — the command could not do its job (issue 15: never 101, never a code scripts do not expect); the
/// message says that the fault is meshbox's.
pub const INTERNAL: u8 = 2;

/// A problem with the input, reported without a backtrace and exiting 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Unusable(pub String);

/// Standard output was closed by its reader (`meshbox validate | head -1`): the command ends quietly, as ripgrep
/// does, instead of panicking in `println!`.
#[derive(Debug, thiserror::Error)]
#[error("standard output was closed")]
pub struct OutputClosed;

/// Whether a command's error only says that standard output was closed: a quiet, successful end.
pub fn is_closed_output(error: &anyhow::Error) -> bool {
    error.chain().any(|e| e.is::<OutputClosed>())
}

/// Whether a command's error is about its input or flags (else it is meshbox's own failure).
pub fn is_unusable(error: &anyhow::Error) -> bool {
    error.chain().any(|e| e.is::<Unusable>())
}

/// Writes `text` to standard output. A closed pipe becomes [`OutputClosed`]; any other write error is meshbox's.
fn print(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(OutputClosed.into()),
        written => written.context("writing to standard output"),
    }
}

/// Writes a note to standard error; a closed or full stderr is not worth failing (or panicking) over.
fn note(text: impl std::fmt::Display) {
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

fn existing_dir(dir: &Path) -> anyhow::Result<PathBuf> {
    if !dir.is_dir() {
        return Err(Unusable(format!("{} is not a folder", dir.display())).into());
    }
    std::fs::canonicalize(dir).with_context(|| format!("resolving {}", dir.display()))
}

/// Refuses an `--output` whose folder does not exist before any work is done.
fn writable_output(output: Option<&Path>) -> anyhow::Result<()> {
    let Some(parent) = output.map(|o| o.parent().unwrap_or(Path::new(""))) else {
        return Ok(());
    };
    if parent.as_os_str().is_empty() || parent.is_dir() {
        return Ok(());
    }
    Err(Unusable(format!("--output: the folder {} does not exist", parent.display())).into())
}

/// Prints a report, or writes it to `--output`.
fn emit(report: &str, output: Option<&Path>) -> anyhow::Result<()> {
    match output {
        Some(path) => std::fs::write(path, report).with_context(|| format!("writing {}", path.display())),
        None => print(report),
    }
}

/// 0 when `ok`, else 1.
fn verdict(ok: bool) -> ExitCode {
    if ok { ExitCode::SUCCESS } else { ExitCode::from(FAILED) }
}

pub fn validate(args: &ValidateArgs) -> anyhow::Result<ExitCode> {
    let given = args.dir.clone().unwrap_or_else(|| PathBuf::from("."));
    let root = existing_dir(&given)?;
    writable_output(args.output.as_deref())?;
    let mut opts = args.engine.options(false).map_err(|e| Unusable(e.to_string()))?;
    opts.pii = true;
    let state = crate::cli::args::state_dir(args.state_dir.as_ref(), &root);
    if !state.starts_with(&root) {
        opts.state_dir = Some(state);
    }
    opts.progress = crate::cli::progress::sink(args.format == ReportFormat::Text && args.output.is_none());
    let built = build(&root, &opts, None, None);
    opts.progress.done();
    let snapshot = built?;
    let report = match args.format {
        ReportFormat::Text => crate::cli::report::text(&snapshot),
        ReportFormat::Json => crate::cli::report::json(&snapshot) + "\n",
        ReportFormat::Junit => crate::cli::report::junit(&snapshot, &given)?,
        ReportFormat::Github => crate::cli::report::github(&snapshot, &given),
    };
    emit(&report, args.output.as_deref())?;
    Ok(verdict(snapshot.passes()))
}

pub fn test(args: &TestArgs) -> anyhow::Result<ExitCode> {
    if !args.contract.is_file() {
        return Err(Unusable(format!("{} is not a file", args.contract.display())).into());
    }
    writable_output(args.output.as_deref())?;
    let path = std::fs::canonicalize(&args.contract)?;
    let root = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let (contract, diagnostics) = read_contract(&path, &root);
    let Some(contract) = contract else {
        for d in &diagnostics {
            note(d);
        }
        return Err(Unusable(format!("{} is not a readable ODCS contract", args.contract.display())).into());
    };
    if let Some(wanted) = &args.engine.server
        && !contract.servers.iter().any(|s| s.server.as_deref() == Some(wanted))
    {
        let names: Vec<&str> = contract.servers.iter().filter_map(|s| s.server.as_deref()).collect();
        return Err(Unusable(format!(
            "no server named `{wanted}` in the contract (it has: {})",
            names.join(", ")
        ))
        .into());
    }
    let selection = crate::checks::select::Selection::of(&args.selection_flags(), &contract).map_err(Unusable)?;
    let mut opts = args.engine.options(true).map_err(|e| Unusable(e.to_string()))?;
    opts.selection = selection.clone();
    opts.progress = crate::cli::progress::sink(args.format == ReportFormat::Text && args.output.is_none());
    // Contracts written for datacontract-cli name paths relative to where it runs: tried when the contract's own
    // folder has nothing at the path, with a note.
    opts.paths_fallback = std::env::current_dir().ok();
    let name = crate::folder::scan::manifest_stem(&path);
    let spec = ProductSpec {
        domain: contract.domain.clone().unwrap_or_else(|| "contract".into()),
        name,
        dir: root.clone(),
        descriptor: None,
        contracts: vec![contract],
        diagnostics,
        fingerprint: 0,
        transforms: Vec::new(),
    };
    let loaded = crate::checks::pipeline::load_and_check(&[&spec], &root, &opts);
    opts.progress.done();
    let (staging, outcomes) = loaded?;
    let mut outcome = outcomes.into_iter().next().expect("one product in, one outcome out");
    // Relationships inside the contract run; references to other contracts are skipped as unresolved.
    let relationships = crate::checks::references::check_contract(
        &staging.conn,
        &spec.domain,
        &spec.contracts[0],
        &outcome.tables,
        &root,
    );
    let rules = crate::checks::select::rules_of(&spec.contracts[0]);
    for mut c in relationships.into_iter().filter(|c| selection.keeps(c, &rules)) {
        if !selection.reads_rows(&c) {
            crate::checks::select::skip_unread(&mut c);
        }
        outcome.checks.push(c);
    }
    if selection.narrows() && outcome.checks.is_empty() && !outcome.tables.is_empty() {
        return Err(Unusable("no check of the contract matches the selection (--checks, --dimension, --quality-id, --tag, --schema-name)".into()).into());
    }
    if !args.include_failed_samples {
        for c in outcome.checks.iter_mut() {
            c.samples = None;
        }
    }
    let mut diags = spec.diagnostics.clone();
    diags.extend(outcome.diagnostics);
    if outcome.tables.is_empty() && !spec.contracts[0].tables.is_empty() {
        diags.push(
            crate::base::diagnostics::Diagnostic::error("nothing-tested", "no table of the contract has data to test")
                .in_file(path.strip_prefix(&root).unwrap_or(&path))
                .hint("give the contract a `type: local` server with `path` and `format`, or pick one with --server"),
        );
    }
    if args.missing_data == crate::cli::args::MissingData::Warn {
        missing_data_as_warnings(&mut diags);
    }
    relax_undefined_fields(&mut diags);
    if let Some(check) = standard_check(&diags) {
        outcome.checks.insert(0, check);
    }
    let status = crate::model::catalog::Product::derive_status(&diags, &outcome.checks);
    let contract = &spec.contracts[0];
    let prefix = args.contract.parent().map(Path::to_path_buf).unwrap_or_default();
    let report = match args.format {
        ReportFormat::Json => crate::cli::report::contract_json(contract, status, &outcome.checks, &diags) + "\n",
        ReportFormat::Text | ReportFormat::Github => {
            crate::cli::report::contract_text(contract, status, &outcome.checks, &diags, outcome.load_ms)
        }
        ReportFormat::Junit => crate::cli::report::contract_junit(contract, &outcome.checks, &diags, &prefix)?,
    };
    emit(&report, args.output.as_deref())?;
    let ok = matches!(
        status,
        crate::model::catalog::Status::Passing | crate::model::catalog::Status::Warning
    );
    Ok(verdict(ok))
}

/// As datacontract-cli does (it validates without the schema's `unevaluatedProperties` and only logs the fields its
/// model drops, and its result does not count lint warnings), `meshbox test` notes a field the standard does not
/// define, and meshbox's own lint warnings, instead of failing or warning on them — so a contract
/// written for datacontract-cli (a CSV server's `delimiter`, say) tests the same. `lint`, `validate` and `serve`
/// judge by the official schema, where it is an error.
fn relax_undefined_fields(diags: &mut [Diagnostic]) {
    use crate::base::diagnostics::Severity;
    // meshbox's own lint rules beyond the standard are notes too: datacontract-cli's result does not count them.
    for d in diags
        .iter_mut()
        .filter(|d| d.standard.is_some() && d.severity == Severity::Warning)
    {
        d.severity = Severity::Info;
    }
    for d in diags
        .iter_mut()
        .filter(|d| d.breaks_standard() && d.code == "unknown-field")
    {
        d.severity = Severity::Info;
        let note =
            "`meshbox test` notes it as datacontract-cli does; `meshbox lint` and `validate` count it as an error";
        d.hint = Some(match d.hint.take() {
            Some(h) => format!("{h} ({note})"),
            None => note.into(),
        });
    }
}

/// "The contract follows ODCS vX.Y.Z", failed with every error when the contract breaks the standard it declares
/// (as datacontract-cli's `lint` check); None when it follows it.
fn standard_check(diags: &[Diagnostic]) -> Option<crate::checks::CheckResult> {
    let errors: Vec<&Diagnostic> = diags.iter().filter(|d| d.breaks_standard()).collect();
    let standard = errors.first()?.standard.clone().unwrap_or_default();
    let reason = errors.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("\n");
    let mut check = crate::checks::CheckResult {
        key: "lint".into(),
        category: crate::checks::Category::Schema,
        kind: "lint".into(),
        name: format!("the contract follows {standard}"),
        table: None,
        column: None,
        quality_id: None,
        dimension: Some("conformity".into()),
        severity: None,
        status: crate::checks::CheckStatus::Fail,
        measured: Some(errors.len() as f64),
        unit: None,
        count: None,
        row_count: None,
        threshold: None,
        reason: None,
        sql: None,
        origin: None,
        samples: None,
        reads: crate::checks::Reads::Schema,
        public_reason: None,
    };
    check.explain_publicly(reason);
    Some(check)
}

pub fn lint(args: &LintArgs) -> anyhow::Result<ExitCode> {
    if !args.target.exists() {
        return Err(Unusable(format!("{} does not exist", args.target.display())).into());
    }
    let base = if args.target.is_dir() {
        args.target.clone()
    } else {
        args.target.parent().map(Path::to_path_buf).unwrap_or_default()
    };
    let files = crate::folder::lint::manifests(&args.target);
    if files.is_empty() {
        return Err(Unusable(format!("no ODCS or ODPS files in {}", args.target.display())).into());
    }
    let results: Vec<(PathBuf, Vec<crate::base::diagnostics::Diagnostic>)> = files
        .iter()
        .map(|f| (f.clone(), crate::folder::lint::lint_file(f, &base)))
        .collect();
    let errors = results.iter().flat_map(|(_, d)| d).filter(|d| d.is_error()).count();
    let warnings = results
        .iter()
        .flat_map(|(_, d)| d)
        .filter(|d| d.severity == crate::base::diagnostics::Severity::Warning)
        .count();
    let mut report = String::new();
    match args.format {
        ReportFormat::Json | ReportFormat::Junit | ReportFormat::Github => {
            let files: Vec<serde_json::Value> = results
                .iter()
                .map(|(f, d)| serde_json::json!({"file": f.strip_prefix(&base).unwrap_or(f), "diagnostics": d}))
                .collect();
            let json = serde_json::json!({"errors": errors, "warnings": warnings, "files": files});
            let _ = writeln!(report, "{}", serde_json::to_string_pretty(&json)?);
        }
        ReportFormat::Text => {
            for d in results.iter().flat_map(|(_, d)| d) {
                let _ = writeln!(report, "{d}");
            }
            let _ = writeln!(
                report,
                "{} files checked: {errors} errors, {warnings} warnings",
                results.len()
            );
        }
    }
    print(&report)?;
    Ok(verdict(errors == 0))
}

pub fn bench(what: &crate::cli::args::BenchCommand) -> anyhow::Result<ExitCode> {
    use crate::cli::args::BenchCommand;
    match what {
        BenchCommand::Render { products, runs } => {
            let sample = crate::lifecycle::sample_mesh::unpack(&cache_dir(None))?;
            print(&crate::cli::bench::render(&sample, *products, *runs)?)?;
        }
        BenchCommand::Start {
            products,
            runs,
            binaries,
        } => {
            let sample = crate::lifecycle::sample_mesh::unpack(&cache_dir(None))?;
            print(&crate::cli::bench_start::start(&sample, *products, *runs, binaries)?)?;
        }
        BenchCommand::Soak { edits } => print(&crate::cli::bench::soak_only(*edits)?)?,
        BenchCommand::Reload { runs, edits } => print(&crate::cli::bench::reload(*runs, *edits)?)?,
        BenchCommand::Access { rows, runs } => print(&crate::cli::bench::access(*rows, *runs)?)?,
        BenchCommand::Discovery { products, runs } => print(&crate::cli::bench::discovery(*products, *runs)?)?,
        BenchCommand::Generate {
            dir,
            products,
            domains,
            rows,
        } => {
            if dir.exists() && std::fs::read_dir(dir).map_or(true, |mut entries| entries.next().is_some()) {
                return Err(Unusable(format!(
                    "{} exists and is not an empty folder; meshbox only writes into a new folder",
                    dir.display()
                ))
                .into());
            }
            let keys = crate::cli::bench_mesh::generate(dir, *products, (*domains).max(1), *rows)
                .with_context(|| format!("writing the synthetic mesh to {}", dir.display()))?;
            print(&format!(
                "wrote {} products in {} domains to {}\n",
                keys.len(),
                (*domains).max(1),
                dir.display()
            ))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The folder `serve` and `mcp` serve: `DIR`, or the bundled sample mesh unpacked into the cache.
fn mesh_root(dir: Option<&PathBuf>, cache: Option<&PathBuf>) -> anyhow::Result<PathBuf> {
    match dir {
        Some(d) => existing_dir(d),
        None => {
            let dir = crate::lifecycle::sample_mesh::unpack(&cache_dir(cache))
                .context("unpacking the bundled sample mesh")?;
            tracing::info!(path = %dir.display(), "serving the bundled sample mesh");
            Ok(dir)
        }
    }
}

/// The state folder (audit log, hash salt), refused inside the mesh folder.
fn outside_state_dir(flag: Option<&PathBuf>, root: &Path) -> anyhow::Result<PathBuf> {
    let state = crate::cli::args::state_dir(flag, root);
    let state = std::path::absolute(&state).unwrap_or(state);
    if state.starts_with(root) {
        return Err(Unusable(format!(
            "the state folder {} is inside the mesh folder; meshbox never writes there (pick another --state-dir)",
            state.display()
        ))
        .into());
    }
    Ok(state)
}

/// Starts watching the mesh folder (in `mode`), unless told not to; the watcher stops when dropped.
fn watch_unless(
    no_watch: bool,
    mesh: &Arc<Mesh>,
    mode: crate::live::watch::WatchMode,
) -> anyhow::Result<Option<crate::live::watch::Watcher>> {
    if no_watch {
        return Ok(None);
    }
    let opts = crate::live::watch::WatchOptions {
        mode,
        ..Default::default()
    };
    Ok(Some(crate::live::watch::spawn(mesh.clone(), opts)?))
}

/// Loads the mesh off the async threads (every role's database built) and logs what it found.
async fn open_mesh(
    sql_time_limit_ms: u64,
    root: &Path,
    opts: crate::checks::pipeline::Options,
    salt: crate::governance::masking::Salt,
) -> anyhow::Result<Arc<Mesh>> {
    let mesh = Arc::new(Mesh::preparing(
        root,
        opts,
        max_execution_ms(sql_time_limit_ms),
        salt,
        crate::live::snapshot::RolePreparation::Eager,
    )?);
    load_first(&mesh).await?;
    Ok(mesh)
}

/// How long DuckDB may run one statement before meshbox's own interrupt is overdue: twice the SQL time limit.
fn max_execution_ms(sql_time_limit_ms: u64) -> u64 {
    sql_time_limit_ms.saturating_mul(2).max(1000)
}

/// Runs the first load of `mesh` off the async threads and logs what it found.
async fn load_first(mesh: &Arc<Mesh>) -> anyhow::Result<()> {
    let loading = mesh.clone();
    tokio::task::spawn_blocking(move || loading.load_first()).await??;
    let snapshot = mesh.snapshot();
    let summary = crate::cli::report::Summary::of(&snapshot);
    tracing::info!(
        products = summary.products,
        passing = summary.passing,
        failing = summary.failing,
        failed = summary.failed,
        took_ms = snapshot.reload.took_ms,
        "mesh loaded"
    );
    Ok(())
}

/// The address people open: the public URL, else the bound address (127.0.0.1 for an unspecified bind).
fn serve_address(args: &ServeArgs, bound: std::net::SocketAddr) -> String {
    match &args.public_url {
        Some(url) => url.trim_end_matches('/').to_string(),
        // 0.0.0.0 is not an address a browser can visit: this machine is.
        None if bound.ip().is_unspecified() => format!("http://127.0.0.1:{}", bound.port()),
        None => format!("http://{bound}"),
    }
}

/// What `serve` prints once the mesh is loaded: the MCP address and, in a locked room, the token that unlocks the
/// roles. (Where it serves is printed at start, before the load.)
fn serve_banner(
    args: &ServeArgs,
    bound: std::net::SocketAddr,
    room: Option<(String, std::collections::BTreeSet<String>)>,
) -> String {
    let address = serve_address(args, bound);
    let mut out =
        format!("MCP clients (AI assistants): {address}/mcp (the role in an X-Meshbox-Role header; see docs/mcp.md)\n");
    if let Some((token, guarded)) = room {
        let roles: Vec<&str> = guarded.iter().map(String::as_str).collect();
        let _ = writeln!(
            out,
            "roles are locked for this room: {} need the token. Open this address once to unlock them in a browser:\n  \
             {address}/?token={token}\n(API clients: header `X-Meshbox-Token: {token}` or `Authorization: Bearer {token}`)",
            if roles.is_empty() {
                "none of the roles".to_string()
            } else {
                roles.join(", ")
            }
        );
        if bound.ip().is_unspecified() && args.public_url.is_none() {
            out.push_str("from other machines, use this machine's address instead of 127.0.0.1\n");
        }
    }
    out
}

/// Prints to standard output; nobody reading it (`meshbox serve | head -1` has gone) is no reason to stop serving.
fn print_banner(text: &str) -> anyhow::Result<()> {
    match print(text) {
        Err(e) if is_closed_output(&e) => Ok(()),
        printed => printed,
    }
}

/// `meshbox serve`: answers from the moment it listens (pages show the first load's progress, the API answers 503
/// "preparing"), then serves the mesh, each role's database built when the role first asks for data.
pub async fn serve(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let mut opts = args.engine.options(false).map_err(|e| Unusable(e.to_string()))?;
    opts.profiles = true;
    opts.pii = true;
    opts.progress = crate::cli::progress::sink(true);
    let public_host = args.public_host().map_err(Unusable)?;
    let root = mesh_root(args.dir.as_ref(), args.engine.cache_dir.as_ref())?;
    let state = outside_state_dir(args.state_dir.as_ref(), &root)?;
    opts.state_dir = Some(state.clone());
    let audit = crate::governance::audit::Audit::in_dir(&state)
        .with_context(|| format!("opening the audit log in {}", state.display()))?;
    let salt = crate::governance::masking::Salt::stored_in(&state);
    tracing::info!(path = %state.display(), "state folder (audit log, hash salt)");
    let mesh = Arc::new(Mesh::preparing(
        &root,
        opts,
        max_execution_ms(args.sql_time_limit_ms),
        salt,
        crate::live::snapshot::RolePreparation::OnFirstUse,
    )?);
    let web = crate::serve::http::WebSecurity::for_bind(args.bind, public_host.as_deref(), args.lock_roles)
        .context("making the room token (reading /dev/urandom)")?;
    let token = web.room.as_ref().map(|lock| lock.token().to_string());
    let state = crate::serve::http::AppState::with_security(
        mesh.clone(),
        args.limits(),
        args.max_body_bytes,
        args.export_max_rows,
        Arc::new(audit),
        web,
    );
    let addr = std::net::SocketAddr::new(args.bind, args.port);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| Unusable(format!("cannot listen on {addr}: {e} (pick another --port or --bind)")))?;
    let bound = listener.local_addr()?;
    let app = crate::serve::http::router_with(state.clone(), crate::serve::mcp::routes(state.clone()));
    let mut server = tokio::spawn(crate::serve::http::serve(listener, app));
    print_banner(&format!(
        "meshbox is serving {} at {}/\n",
        root.display(),
        serve_address(&args, bound)
    ))?;
    // Ctrl-C while loading stops the server, and with it meshbox.
    tokio::select! {
        loaded = load_first(&mesh) => if let Err(e) = loaded {
            server.abort();
            return Err(e);
        },
        stopped = &mut server => {
            stopped??;
            return Ok(ExitCode::SUCCESS);
        }
    }
    let _watcher = watch_unless(args.no_watch, &mesh, args.watch)?;
    let room = token.map(|token| (token, crate::serve::http::guarded_roles(&mesh.snapshot())));
    let postgres = start_postgres(&args, &state).await?;
    let mut banner = serve_banner(&args, bound, room);
    if let Some(pg) = &postgres {
        banner.push_str(&pg.banner());
    }
    print_banner(&banner)?;
    (&mut server).await??;
    if let Some(pg) = postgres {
        pg.stop().await;
    }
    Ok(ExitCode::SUCCESS)
}

/// The Postgres wire endpoint beside the web server: bound at start (on the web server's address), stopped when
/// the web server stops.
struct Postgres {
    addr: std::net::SocketAddr,
    /// Roles are locked in this room: their password is the token.
    locked: bool,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Postgres {
    fn banner(&self) -> String {
        let host = if self.addr.ip().is_unspecified() {
            "127.0.0.1".to_string()
        } else {
            self.addr.ip().to_string()
        };
        let password = if self.locked {
            "; a locked role's password is the token"
        } else {
            ""
        };
        format!(
            "Postgres clients: psql \"host={host} port={} dbname=meshbox user=<role>\" (the user name is the role{password})\n",
            self.addr.port()
        )
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        match self.task.await {
            Ok(Err(e)) => tracing::warn!(error = %e, "the Postgres endpoint stopped with an error"),
            Err(e) => tracing::warn!(error = %e, "the Postgres endpoint failed"),
            Ok(Ok(())) => {}
        }
    }
}

/// Starts the Postgres endpoint unless `--no-pg`.
async fn start_postgres(
    args: &ServeArgs,
    state: &Arc<crate::serve::http::AppState>,
) -> anyhow::Result<Option<Postgres>> {
    if args.no_pg {
        return Ok(None);
    }
    let port = args.pg_port.unwrap_or(crate::serve::pg::DEFAULT_PORT);
    let listener = match crate::serve::pg::bind(std::net::SocketAddr::new(args.bind, port)).await {
        Ok(listener) => listener,
        // The default port taken (another meshbox, a Postgres): serve the web without the endpoint.
        Err(e) if args.pg_port.is_none() => {
            tracing::warn!(error = %e, "the Postgres endpoint is off");
            return Ok(None);
        }
        Err(e) => return Err(Unusable(e.to_string()).into()),
    };
    let addr = listener.local_addr()?;
    let opts = crate::serve::pg::PgOptions {
        max_rows: args.pg_max_rows,
        ..Default::default()
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let shutdown = async move {
        let _ = stopped.await;
    };
    let task = tokio::spawn(crate::serve::pg::serve(listener, state.clone(), opts, shutdown));
    Ok(Some(Postgres {
        addr,
        locked: state.web.room.is_some(),
        stop,
        task,
    }))
}

/// `--missing-data warn`: the errors that say the data is not there (a server path with no file, nothing tested)
/// become warnings; every other error stays one.
fn missing_data_as_warnings(diags: &mut [crate::base::diagnostics::Diagnostic]) {
    for d in diags {
        if matches!(d.code, "data-path" | "nothing-tested" | "no-data")
            && d.severity == crate::base::diagnostics::Severity::Error
        {
            d.severity = crate::base::diagnostics::Severity::Warning;
        }
    }
}

/// The files a command created, one `  created …` line each, relative to `base`.
fn written_lines(files: &[PathBuf], base: &Path) -> String {
    let mut out = String::new();
    for f in files {
        let _ = writeln!(out, "  created {}", f.strip_prefix(base).unwrap_or(f).display());
    }
    out
}

pub fn init(args: &crate::cli::args::InitArgs) -> anyhow::Result<ExitCode> {
    let plan = crate::lifecycle::scaffold::init(&args.dir)?;
    let written = plan.write(args.force).map_err(|e| Unusable(e.to_string()))?;
    print(&format!(
        "a new mesh in {}:\n{}next: meshbox serve {}\n",
        args.dir.display(),
        written_lines(&written, &args.dir),
        args.dir.display()
    ))?;
    Ok(ExitCode::SUCCESS)
}

pub fn new(args: &crate::cli::args::NewArgs) -> anyhow::Result<ExitCode> {
    if !args.mesh.is_dir() {
        return Err(Unusable(format!("{} is not a folder", args.mesh.display())).into());
    }
    let (plan, summary) =
        crate::lifecycle::scaffold::new_product(&args.mesh, &args.product, &args.from, args.table.as_deref())
            .map_err(|e| Unusable(format!("{e:#}")))?;
    let written = plan.write(args.force).map_err(|e| Unusable(e.to_string()))?;
    print(&format!("{summary}\n{}", written_lines(&written, &args.mesh)))?;
    // What was written must pass lint: say so if it does not.
    let mut problems = 0;
    for f in written
        .iter()
        .filter(|f| f.to_string_lossy().ends_with(".odcs.yaml") || f.to_string_lossy().ends_with(".odps.yaml"))
    {
        for d in crate::folder::lint::lint_file(f, &args.mesh) {
            if d.is_error() {
                problems += 1;
                note(d);
            }
        }
    }
    print(&format!(
        "next: fill in the TODOs, then `meshbox validate {}` shows the checks and the policies it still fails\n",
        args.mesh.display()
    ))?;
    Ok(verdict(problems == 0))
}

pub fn import(what: &crate::cli::args::ImportCommand) -> anyhow::Result<ExitCode> {
    match what {
        crate::cli::args::ImportCommand::Odcs {
            file,
            mesh,
            domain,
            product,
            force,
        } => {
            if !file.is_file() {
                return Err(Unusable(format!("{} is not a file", file.display())).into());
            }
            if !mesh.is_dir() {
                return Err(Unusable(format!("{} is not a folder", mesh.display())).into());
            }
            let (plan, notes) =
                crate::lifecycle::scaffold::import_odcs(mesh, file, domain.as_deref(), product.as_deref())
                    .map_err(|e| Unusable(format!("{e:#}")))?;
            let written = plan.write(*force).map_err(|e| Unusable(e.to_string()))?;
            let mut out = format!("imported as {}\n{}", notes[0], written_lines(&written, mesh));
            for n in &notes[1..] {
                let _ = writeln!(out, "note: {n}");
            }
            print(&out)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `meshbox diff` and `meshbox breaking`.
pub fn diff(args: &crate::cli::args::DiffArgs, fail_on_breaking: bool) -> anyhow::Result<ExitCode> {
    let read = |p: &Path| -> anyhow::Result<crate::model::manifest::odcs::Contract> {
        if !p.is_file() {
            return Err(Unusable(format!("{} is not a file", p.display())).into());
        }
        let base = p.parent().unwrap_or(Path::new("."));
        let (c, diags) = read_contract(p, base);
        c.ok_or_else(|| {
            let text: Vec<String> = diags.iter().map(|d| d.to_string()).collect();
            Unusable(format!(
                "{} is not a readable ODCS contract\n{}",
                p.display(),
                text.join("\n")
            ))
            .into()
        })
    };
    let (old, new) = (read(&args.old)?, read(&args.new)?);
    let changes = crate::checks::diff::diff(&old, &new);
    let format = match args.format {
        crate::cli::args::DiffFormat::Text => "text",
        crate::cli::args::DiffFormat::Json => "json",
        crate::cli::args::DiffFormat::Markdown => "markdown",
    };
    print(&crate::checks::diff::render(
        &changes,
        &args.old.display().to_string(),
        &args.new.display().to_string(),
        format,
    ))?;
    let breaking = changes
        .iter()
        .any(|c| c.impact == crate::checks::diff::Impact::Breaking);
    Ok(verdict(!(fail_on_breaking && breaking)))
}

/// `meshbox export DIR --format …`.
pub fn export(args: &crate::cli::args::ExportArgs) -> anyhow::Result<ExitCode> {
    use crate::lifecycle::export::ExportFormat;
    let root = existing_dir(&args.dir)?;
    let opts = args.engine.options(false).map_err(|e| Unusable(e.to_string()))?;
    let target = args.output.as_deref().map(std::path::absolute).transpose()?;
    if let Some(target) = &target
        && target.starts_with(&root)
    {
        return Err(Unusable(format!(
            "{} is inside the mesh folder; meshbox never writes there",
            target.display()
        ))
        .into());
    }
    let snapshot = build(&root, &opts, None, None)?;
    let files = crate::lifecycle::export::export(&snapshot.catalog, args.format);
    let (Some(target), Some(output)) = (target, &args.output) else {
        let many = files.len() > 1;
        let mut out = String::new();
        for (i, (path, text)) in files.iter().enumerate() {
            if many {
                if i > 0 {
                    out.push_str("---\n");
                }
                let _ = writeln!(out, "# {}", path.display());
            }
            out.push_str(text);
        }
        print(&out)?;
        return Ok(ExitCode::SUCCESS);
    };
    let mut plan = crate::lifecycle::scaffold::Plan::default();
    match args.format {
        ExportFormat::Odcs | ExportFormat::Odps => {
            for (path, text) in &files {
                plan.add(target.join(path), text.clone());
            }
        }
        _ => {
            for (_, text) in &files {
                plan.add(target.clone(), text.clone());
            }
        }
    }
    let written = plan.write(args.force).map_err(|e| Unusable(e.to_string()))?;
    note(format_args!("wrote {} file(s) to {}", written.len(), output.display()));
    Ok(ExitCode::SUCCESS)
}

/// `meshbox mcp [DIR] [--role R]`: the MCP server on standard input/output, as one role, with the audit log and hash
/// salt of `serve` for the same folder. Logs go to standard error; standard output is the protocol's.
pub async fn mcp(args: McpArgs) -> anyhow::Result<ExitCode> {
    let mut opts = args.engine.options(false).map_err(|e| Unusable(e.to_string()))?;
    opts.profiles = true;
    opts.pii = true;
    let root = mesh_root(args.dir.as_ref(), args.engine.cache_dir.as_ref())?;
    let state = outside_state_dir(args.state_dir.as_ref(), &root)?;
    opts.state_dir = Some(state.clone());
    let audit = crate::governance::audit::Audit::in_dir(&state)
        .with_context(|| format!("opening the audit log in {}", state.display()))?;
    let salt = crate::governance::masking::Salt::stored_in(&state);
    let mesh = open_mesh(args.sql_time_limit_ms, &root, opts, salt).await?;
    let role = mcp_role(&mesh, args.role.as_deref())?;
    let _watcher = watch_unless(args.no_watch, &mesh, args.watch)?;
    let state =
        crate::serve::http::AppState::with_audit(mesh, args.limits(), 2 * 1024 * 1024, 100_000, Arc::new(audit));
    crate::serve::mcp::serve_stdio(state, role).await?;
    Ok(ExitCode::SUCCESS)
}

/// The role `meshbox mcp` acts as: `--role`, which the mesh must declare, else the mesh's default role.
fn mcp_role(mesh: &Mesh, wanted: Option<&str>) -> anyhow::Result<String> {
    let snapshot = mesh.snapshot();
    let access = &snapshot.governance.access;
    match wanted {
        None => Ok(access.default().name.clone()),
        Some(name) => match access.role(name) {
            Some(role) => Ok(role.name.clone()),
            None => Err(Unusable(format!(
                "--role: no role named `{name}`; the roles of this mesh are {}",
                access.role_names().join(", ")
            ))
            .into()),
        },
    }
}
