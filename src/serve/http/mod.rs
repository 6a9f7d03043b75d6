//! The web server: router and shared state, the one error type every handler returns, security headers,
//! and the listener (with a header-read timeout and graceful shutdown).

mod api;
mod assets;
mod caller;
pub mod discovery;
pub mod escape;
mod events;
pub mod governance;
mod host;
pub mod models;
mod pages;
mod room;
pub mod semantics;
pub mod source;
pub mod views;

pub use caller::{Caller, ROLE_COOKIE, ROLE_HEADER, safe_back_path};
pub use discovery::{impact_of, run_search};
pub use governance::ComplianceView;
pub use host::AllowedHosts;
pub use models::{all_problems, find_product, product as product_detail};
pub use room::{RoomLock, TOKEN_COOKIE, TOKEN_HEADER, guarded_roles};
pub use source::read_manifest;
pub use views::product_url;
pub use views::seg as segment;

use crate::live::snapshot::Mesh;
use crate::serve::query::{Limits, QueryError};
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use duckdb::InterruptHandle;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Everything handlers share.
pub struct AppState {
    pub mesh: Arc<Mesh>,
    pub limits: Limits,
    pub max_body_bytes: usize,
    /// Rows one export may hold (larger than the on-screen row cap).
    pub export_max_rows: usize,
    /// Running console queries by client-chosen id, for the cancel button.
    pub running: Mutex<HashMap<String, Arc<InterruptHandle>>>,
    /// Every console and API query, for `/audit`.
    pub audit: Arc<crate::governance::audit::Audit>,
    /// Queries per product, per day and role (from the audit entries).
    pub usage: crate::governance::usage::Usage,
    /// Which hosts requests may name, and the room lock.
    pub web: WebSecurity,
    /// How long a query waits for its role's database to be built (on first use) before answering 503.
    prepare_patience_ms: std::sync::atomic::AtomicU64,
}

/// How the server meets the network: the `Host` values it answers, and — when it serves a room — the token that
/// unlocks the roles reading more than the least privileged one.
#[derive(Debug, Default)]
pub struct WebSecurity {
    pub hosts: AllowedHosts,
    pub room: Option<RoomLock>,
}

impl WebSecurity {
    /// What `serve` sets up: hosts from the bind address and public URL host; a room lock (with a fresh token) when
    /// bound beyond loopback or asked for.
    pub fn for_bind(
        bind: std::net::IpAddr,
        public_host: Option<&str>,
        lock_roles: bool,
    ) -> std::io::Result<WebSecurity> {
        let extra: Vec<String> = public_host.into_iter().map(str::to_string).collect();
        let room = if lock_roles || !bind.is_loopback() {
            Some(RoomLock::random()?)
        } else {
            None
        };
        Ok(WebSecurity {
            hosts: AllowedHosts::for_bind(bind, &extra),
            room,
        })
    }
}

impl AppState {
    pub fn new(mesh: Arc<Mesh>, limits: Limits, max_body_bytes: usize) -> Arc<AppState> {
        AppState::with_export_cap(mesh, limits, max_body_bytes, 100_000)
    }

    pub fn with_export_cap(
        mesh: Arc<Mesh>,
        limits: Limits,
        max_body_bytes: usize,
        export_max_rows: usize,
    ) -> Arc<AppState> {
        AppState::with_audit(
            mesh,
            limits,
            max_body_bytes,
            export_max_rows,
            Arc::new(crate::governance::audit::Audit::in_memory()),
        )
    }

    pub fn with_audit(
        mesh: Arc<Mesh>,
        limits: Limits,
        max_body_bytes: usize,
        export_max_rows: usize,
        audit: Arc<crate::governance::audit::Audit>,
    ) -> Arc<AppState> {
        AppState::with_security(
            mesh,
            limits,
            max_body_bytes,
            export_max_rows,
            audit,
            WebSecurity::default(),
        )
    }

    /// Everything set: `web` decides which hosts are answered and whether roles are locked.
    pub fn with_security(
        mesh: Arc<Mesh>,
        limits: Limits,
        max_body_bytes: usize,
        export_max_rows: usize,
        audit: Arc<crate::governance::audit::Audit>,
        web: WebSecurity,
    ) -> Arc<AppState> {
        let usage = crate::governance::usage::Usage::default();
        if let Some(file) = audit.file() {
            usage.replay(file);
        }
        Arc::new(AppState {
            mesh,
            limits,
            max_body_bytes,
            export_max_rows,
            running: Mutex::new(HashMap::new()),
            audit,
            usage,
            web,
            prepare_patience_ms: std::sync::atomic::AtomicU64::new(3000),
        })
    }

    /// Sets how long a query waits for its role's database before answering 503 "preparing".
    pub fn set_prepare_patience(&self, patience: std::time::Duration) {
        self.prepare_patience_ms
            .store(patience.as_millis() as u64, std::sync::atomic::Ordering::Relaxed);
    }

    /// The database `caller` queries, waiting a moment for it when it is being built; 503 when it is not there.
    pub async fn serving_for(&self, caller: &Caller) -> Result<Arc<crate::load::serving_db::ServingDb>, AppError> {
        self.serving_for_role(&caller.role.name).await
    }

    /// The database of the role named `role` (known to be one of the mesh's), as [`AppState::serving_for`].
    pub async fn serving_for_role(&self, role: &str) -> Result<Arc<crate::load::serving_db::ServingDb>, AppError> {
        use crate::live::snapshot::RoleDb;
        let patience = self.prepare_patience_ms.load(std::sync::atomic::Ordering::Relaxed);
        match self
            .mesh
            .role_db_within(role, std::time::Duration::from_millis(patience))
            .await
        {
            RoleDb::Ready(db) => Ok(db),
            RoleDb::Preparing => Err(AppError::preparing(format!(
                "the data of role `{role}` is being prepared (its database is built on first use); try again in a moment"
            ))),
            RoleDb::Unavailable => Err(AppError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                format!(
                    "the data of role `{role}` is not available right now (see the meshbox log); try again after the next rebuild"
                ),
            )),
        }
    }

    /// Adds an audit entry for a statement a role ran, and counts it as a use of the products it names.
    pub fn audit(&self, caller: &Caller, endpoint: &str, sql: &str, rows: u64, outcome: &str, elapsed_ms: f64) {
        let products = if outcome == "ok" {
            self.products_named(sql)
        } else {
            Vec::new()
        };
        self.audit_use(
            caller,
            AuditUse {
                endpoint,
                statement: sql,
                products,
                rows,
                outcome,
                elapsed_ms,
            },
        );
    }

    /// Adds an audit entry attributed to `caller`'s role name, and counts it as a use of `used.products`.
    pub fn audit_use(&self, caller: &Caller, used: AuditUse) {
        let at = crate::governance::audit::now_ms();
        if !used.products.is_empty() {
            self.usage.record(&used.products, &caller.role.name, at);
        }
        self.audit.record(crate::governance::audit::Entry {
            at,
            role: caller.role.name.clone(),
            endpoint: used.endpoint.to_string(),
            statement_hash: crate::governance::audit::statement_hash(used.statement),
            rows: used.rows,
            outcome: used.outcome.to_string(),
            elapsed_ms: (used.elapsed_ms * 10.0).round() / 10.0,
            products: used.products,
        });
    }

    /// The products whose tables a statement names (DuckDB's parser reads it; nothing runs).
    pub fn products_named(&self, sql: &str) -> Vec<String> {
        let Ok(conn) = self.mesh.serving().connect() else {
            return Vec::new();
        };
        let Ok(found) = crate::base::sql_guard::inspect(&conn, sql) else {
            return Vec::new();
        };
        let snapshot = self.mesh.snapshot();
        let mut keys: Vec<String> = Vec::new();
        for (schema, table) in &found.tables {
            for p in &snapshot.catalog.products {
                let hit = p.tables.iter().any(|t| {
                    t.name.eq_ignore_ascii_case(table)
                        && schema.as_ref().is_none_or(|s| t.schema.eq_ignore_ascii_case(s))
                });
                if hit && !keys.contains(&p.key()) {
                    keys.push(p.key());
                }
            }
        }
        keys
    }
}

/// One use of the mesh for the audit log: where it came in, what ran (only its hash is kept), which products it
/// read, and how it ended.
#[derive(Debug, Clone)]
pub struct AuditUse<'a> {
    pub endpoint: &'a str,
    pub statement: &'a str,
    pub products: Vec<String>,
    pub rows: u64,
    pub outcome: &'a str,
    pub elapsed_ms: f64,
}

/// Every route of the catalog, console and API. Tests call this in-process.
pub fn router(state: Arc<AppState>) -> Router {
    router_with(state, Router::new())
}

/// Every route, plus `extra` routes (the MCP endpoint, which the serving command mounts) behind the same host,
/// origin, room and role checks as the others.
pub fn router_with(state: Arc<AppState>, extra: Router<Arc<AppState>>) -> Router {
    Router::new()
        .route("/", get(pages::home))
        .route("/domains/{domain}", get(pages::domain))
        .route("/products/{domain}/{product}", get(pages::product))
        .route("/problems", get(pages::problems))
        .route("/sql", get(pages::console))
        .route("/source/{*path}", get(pages::source))
        .route("/compliance", get(governance::compliance_page))
        .route("/audit", get(governance::audit_page))
        .route("/role", post(caller::switch))
        .route("/search", get(discovery::search_page))
        .route("/lineage", get(discovery::lineage_page))
        .route("/glossary", get(discovery::glossary_page))
        .route("/api/search", get(discovery::search))
        .route("/api/lineage", get(discovery::lineage))
        .route("/api/glossary", get(discovery::glossary))
        .route("/api/products/{domain}/{product}/impact", get(discovery::impact))
        .route("/api/compliance", get(governance::compliance))
        .route("/api/audit", get(governance::audit))
        .route("/api/roles", get(governance::roles))
        .route("/api/mesh", get(api::mesh))
        .route("/api/status", get(api::status))
        .route("/api/domains/{domain}", get(api::domain))
        .route("/api/products", get(api::products))
        .route("/api/products/{domain}/{product}", get(api::product))
        .route("/api/problems", get(api::problems))
        .route("/api/query", post(api::query))
        .route("/api/query/{id}/cancel", post(api::cancel))
        .route("/api/export", post(api::export))
        .route(
            "/api/products/{domain}/{product}/tables/{file}",
            get(api::table_download),
        )
        .route("/api/events", get(events::stream))
        .route("/static/{*path}", get(assets::file))
        .merge(extra)
        .fallback(pages::not_found)
        .layer(DefaultBodyLimit::max(state.max_body_bytes))
        .layer(middleware::from_fn_with_state(state.clone(), known_role))
        .layer(middleware::from_fn_with_state(state.clone(), room::room_gate))
        // Before the room and role checks: they read the mesh's roles, which the first load brings.
        .layer(middleware::from_fn_with_state(state.clone(), until_ready))
        .layer(middleware::from_fn(same_origin_writes))
        // Outermost (after the headers): a request for another host is answered by nothing else.
        .layer(middleware::from_fn_with_state(state.clone(), host::only_bound_hosts))
        .layer(middleware::from_fn(security_headers))
        .with_state(state)
}

/// Refuses state-changing requests sent by another site (CSRF), as Datasette does with `Sec-Fetch-Site`/`Origin`.
async fn same_origin_writes(req: Request, next: Next) -> Response {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let header = |name: header::HeaderName| req.headers().get(name).and_then(|v| v.to_str().ok());
        // Browsers say where a request comes from in Sec-Fetch-Site; older clients only send Origin.
        let refused = match header(header::HeaderName::from_static("sec-fetch-site")) {
            Some(site) => !matches!(site, "same-origin" | "none"),
            None => match (header(header::ORIGIN), header(header::HOST)) {
                (Some("null"), _) => true,
                (Some(origin), Some(host)) => origin.split_once("://").map(|(_, h)| h) != Some(host),
                _ => false,
            },
        };
        if refused {
            return AppError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "cross-site requests are not accepted",
            )
            .into_response();
        }
    }
    next.run(req).await
}

/// Every request acts as a role: one naming a role the mesh does not declare is refused, whatever the endpoint.
async fn known_role(
    axum::extract::State(st): axum::extract::State<Arc<AppState>>,
    req: Request,
    next: Next,
) -> Response {
    if let Some(v) = req.headers().get(ROLE_HEADER) {
        let name = v.to_str().unwrap_or("").trim();
        let snapshot = st.mesh.snapshot();
        if snapshot.governance.access.role(name).is_none() {
            return AppError::new(
                StatusCode::BAD_REQUEST,
                "unknown_role",
                format!(
                    "no role named `{}`; the roles of this mesh are {}",
                    name.chars().take(64).collect::<String>(),
                    snapshot.governance.access.role_names().join(", ")
                ),
            )
            .into_response();
        }
    }
    next.run(req).await
}

async fn security_headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"),
    );
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    res
}

/// The error every handler returns: JSON `{error, kind}` for the API, an HTML page for pages.
#[derive(Debug)]
pub struct AppError {
    pub status: StatusCode,
    pub kind: &'static str,
    pub message: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub html: bool,
}

impl AppError {
    pub fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> AppError {
        AppError {
            status,
            kind,
            message: message.into(),
            line: None,
            column: None,
            html: false,
        }
    }

    pub fn not_found(what: impl Into<String>) -> AppError {
        AppError::new(StatusCode::NOT_FOUND, "not_found", what)
    }

    /// Internal failures are logged in full but shown without their details.
    pub fn internal(e: impl std::fmt::Display) -> AppError {
        tracing::error!(error = %e, "internal error");
        AppError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error; see the meshbox log",
        )
    }

    /// 503 with `Retry-After`: what is asked for is being built.
    pub fn preparing(message: impl Into<String>) -> AppError {
        AppError::new(StatusCode::SERVICE_UNAVAILABLE, PREPARING, message)
    }

    pub fn page(mut self) -> AppError {
        self.html = true;
        self
    }
}

impl From<QueryError> for AppError {
    fn from(e: QueryError) -> AppError {
        let status = match e {
            QueryError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::BAD_REQUEST,
        };
        let (line, column) = match &e {
            QueryError::Sql { line, column, .. } => (*line, *column),
            _ => (None, None),
        };
        AppError {
            status,
            kind: e.kind(),
            message: e.to_string(),
            line,
            column,
            html: false,
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if self.html {
            return pages::error_page(self.status, &self.message);
        }
        let mut body = serde_json::json!({"error": self.message, "kind": self.kind});
        if let Some(l) = self.line {
            body["line"] = l.into();
        }
        if let Some(c) = self.column {
            body["column"] = c.into();
        }
        let mut res = (self.status, axum::Json(body)).into_response();
        if self.kind == PREPARING {
            retry_after(&mut res);
        }
        res
    }
}

/// The error kind of a 503 whose answer is on its way (the mesh loading, a role's database being built).
pub const PREPARING: &str = "preparing";

/// Asks the client to try again in a second.
pub fn retry_after(res: &mut Response) {
    res.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
}

/// Until the first load is done, every page is the loading page and every API answer a 503 "preparing" with the
/// load's progress; only `/api/status`, the event stream and static files answer as usual.
async fn until_ready(
    axum::extract::State(st): axum::extract::State<Arc<AppState>>,
    req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path();
    if st.mesh.is_ready() || path == "/api/status" || path == "/api/events" || path.starts_with("/static/") {
        return next.run(req).await;
    }
    if !path.starts_with("/api/") && path != "/mcp" {
        return pages::loading_page(&st);
    }
    let progress = st.mesh.first_load();
    let message = match &progress.error {
        Some(e) => format!("the mesh could not be loaded: {e}"),
        None => format!(
            "meshbox is loading the mesh ({}); try again in a moment",
            progress.phase
        ),
    };
    let mut res = (
        StatusCode::SERVICE_UNAVAILABLE,
        axum::Json(serde_json::json!({"error": message, "kind": PREPARING, "loading": progress})),
    )
        .into_response();
    retry_after(&mut res);
    res
}

/// Serves until Ctrl-C or SIGTERM. Each connection must send its request headers within 10 s (slowloris).
pub async fn serve(listener: tokio::net::TcpListener, app: Router) -> anyhow::Result<()> {
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    use hyper_util::server::conn::auto::Builder;
    use hyper_util::service::TowerToHyperService;
    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, _) = match accepted {
                    Ok(s) => s,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        continue;
                    }
                };
                let service = TowerToHyperService::new(app.clone());
                let mut builder = Builder::new(TokioExecutor::new());
                builder.http1().timer(TokioTimer::new()).header_read_timeout(std::time::Duration::from_secs(10));
                let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), service).into_owned();
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    let _ = conn.await;
                });
            }
            _ = &mut shutdown => break,
        }
    }
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(std::time::Duration::from_secs(5)) => {}
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}
