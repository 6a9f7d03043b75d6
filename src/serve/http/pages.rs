//! The HTML pages (askama templates from `web/templates`), each with a JSON twin under `/api`.

use super::models;
use super::views::{DomainView, MeshView, Problem, ProductDetail};
use super::views::{error_count, source_notes};
use super::{AppError, AppState, Caller};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use std::collections::HashMap;
use std::sync::Arc;

/// What every page shows around its content.
pub struct Chrome {
    pub mesh_name: String,
    pub generation: u64,
    pub last_error: Option<String>,
    /// Set while governance files are broken: the last good governance is kept, or access is locked.
    pub governance_alert: Option<String>,
    pub problems: usize,
    pub page: &'static str,
    pub json_url: String,
    pub version: &'static str,
    /// The role the page is rendered for, and every role (for the switcher): name, description, and whether this
    /// request needs the room's token to pick it.
    pub role: String,
    pub roles: Vec<(String, String, bool)>,
    /// Roles are locked in this room (some need the token).
    pub room: bool,
    pub admin: bool,
    /// Products that violate an `error` policy.
    pub non_compliant: usize,
    /// The path of this page, for the role switcher to come back to.
    pub here: String,
}

impl Chrome {
    /// Sets the path the role switcher returns to.
    pub fn at(mut self, path: &str) -> Chrome {
        self.here = path.to_string();
        self
    }

    pub fn new(st: &AppState, caller: &Caller, page: &'static str, json_url: String) -> Chrome {
        let s = st.mesh.snapshot();
        let guarded = st.web.room.as_ref().map(|lock| lock.guarded(s.generation, &s));
        Chrome {
            role: caller.role.name.clone(),
            roles: s
                .governance
                .access
                .roles
                .iter()
                .map(|r| {
                    let locked = guarded.as_ref().is_some_and(|g| g.contains(&r.name));
                    (r.name.clone(), r.description.clone().unwrap_or_default(), locked)
                })
                .collect(),
            room: guarded.is_some(),
            admin: caller.role.admin,
            non_compliant: s.governance.compliance.non_compliant.len(),
            here: String::new(),
            mesh_name: s.catalog.name.clone(),
            generation: s.generation,
            last_error: st.mesh.last_error(),
            governance_alert: s.governance.state.alert(),
            problems: error_count(&s.catalog),
            page,
            json_url,
            version: env!("CARGO_PKG_VERSION"),
        }
    }
}

pub fn render(t: &impl Template) -> Result<Response, AppError> {
    t.render()
        .map(|html| Html(html).into_response())
        .map_err(|e| AppError::internal(e).page())
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    chrome: Chrome,
    mesh: MeshView,
}

pub async fn home(State(st): State<Arc<AppState>>, caller: Caller) -> Result<Response, AppError> {
    render(&HomePage {
        chrome: Chrome::new(&st, &caller, "home", "/api/mesh".into()).at("/"),
        mesh: models::mesh(&st, &caller),
    })
}

#[derive(Template)]
#[template(path = "domain.html")]
struct DomainPage {
    chrome: Chrome,
    domain: DomainView,
}

pub async fn domain(
    State(st): State<Arc<AppState>>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Response, AppError> {
    let domain = models::domain(&st, &name).map_err(AppError::page)?;
    render(&DomainPage {
        chrome: Chrome::new(
            &st,
            &caller,
            "domain",
            format!("/api/domains/{}", super::views::seg(&name)),
        )
        .at(&super::views::domain_url(&name)),
        domain,
    })
}

#[derive(Template)]
#[template(path = "product.html")]
struct ProductPage {
    chrome: Chrome,
    p: ProductDetail,
}

pub async fn product(
    State(st): State<Arc<AppState>>,
    caller: Caller,
    Path((domain, name)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let detail = models::product(&st, &caller, &domain, &name).map_err(AppError::page)?;
    render(&ProductPage {
        chrome: Chrome::new(&st, &caller, "product", detail.summary.api_url.clone()).at(&detail.summary.url),
        p: detail,
    })
}

#[derive(Template)]
#[template(path = "problems.html")]
struct ProblemsPage {
    chrome: Chrome,
    problems: Vec<Problem>,
}

pub async fn problems(State(st): State<Arc<AppState>>, caller: Caller) -> Result<Response, AppError> {
    render(&ProblemsPage {
        chrome: Chrome::new(&st, &caller, "problems", "/api/problems".into()).at("/problems"),
        problems: models::all_problems(&st, &caller),
    })
}

/// A table in the console's schema browser.
struct BrowserTable {
    name: String,
    sql_name: String,
    row_count: u64,
    columns: Vec<(String, String)>,
}

struct BrowserDomain {
    name: String,
    tables: Vec<BrowserTable>,
}

#[derive(Template)]
#[template(path = "sql.html")]
struct ConsolePage {
    chrome: Chrome,
    domains: Vec<BrowserDomain>,
    initial_sql: String,
    /// Run `initial_sql` on load: only for a link followed on this site (see `console`).
    autorun: bool,
    max_rows: usize,
    export_max_rows: usize,
    time_limit_ms: u128,
}

/// `/sql`: the console, with `?sql=` in the editor. `?run=1` runs it on load only when the browser says the link
/// was followed on this site (`Sec-Fetch-Site: same-origin`): a link on another site, in a mail or a chat (`none`,
/// `cross-site`, `same-site`) or from a browser that does not say only fills the editor.
pub async fn console(
    State(st): State<Arc<AppState>>,
    caller: Caller,
    headers: axum::http::HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let same_origin = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) == Some("same-origin");
    let autorun = same_origin && q.get("run").map(String::as_str) == Some("1");
    let s = st.mesh.snapshot();
    let mut domains: Vec<BrowserDomain> = Vec::new();
    // Only what the role can query: its database holds nothing else.
    for p in s.catalog.products.iter().filter(|p| s.decide(&caller.role, p).granted) {
        for t in &p.tables {
            let table = BrowserTable {
                name: t.name.clone(),
                sql_name: t.sql_name(),
                row_count: t.row_count,
                columns: t
                    .columns
                    .iter()
                    .map(|c| (c.name.clone(), c.data_type.clone()))
                    .collect(),
            };
            match domains.iter_mut().find(|d| d.name == t.schema) {
                Some(d) => d.tables.push(table),
                None => domains.push(BrowserDomain {
                    name: t.schema.clone(),
                    tables: vec![table],
                }),
            }
        }
    }
    // The metadata tables every role can query.
    if let Some(conn) = st.mesh.serving_for(&caller.role.name).and_then(|db| db.connect().ok()) {
        let tables = crate::governance::metadata::describe(&conn).unwrap_or_default();
        domains.push(BrowserDomain {
            name: crate::governance::metadata::SCHEMA.to_string(),
            tables: tables
                .into_iter()
                .map(|(name, columns)| BrowserTable {
                    sql_name: format!("{}.{name}", crate::governance::metadata::SCHEMA),
                    name,
                    row_count: 0,
                    columns,
                })
                .collect(),
        });
    }
    render(&ConsolePage {
        chrome: Chrome::new(&st, &caller, "sql", "/api/mesh".into()).at("/sql"),
        domains,
        initial_sql: q.get("sql").cloned().unwrap_or_default(),
        autorun,
        max_rows: st.limits.max_rows,
        export_max_rows: st.export_max_rows,
        time_limit_ms: st.limits.time_limit.as_millis(),
    })
}

#[derive(Template)]
#[template(path = "source.html")]
struct SourcePage {
    chrome: Chrome,
    path: String,
    /// (line number, text, flagged by a diagnostic)
    lines: Vec<(usize, String, bool)>,
    /// (severity, line, message)
    notes: Vec<(String, usize, String)>,
}

/// The manifest files the catalog knows, relative to the mesh root: the only files `/source` shows.
fn known_manifests(s: &crate::live::snapshot::Snapshot) -> Vec<std::path::PathBuf> {
    let root = &s.catalog.root;
    let rel = |p: &std::path::Path| p.strip_prefix(root).unwrap_or(p).to_path_buf();
    let mut files: Vec<std::path::PathBuf> = Vec::new();
    for p in &s.catalog.products {
        files.extend(p.contracts.iter().map(|c| rel(&c.doc.file)));
        files.extend(p.descriptor.iter().map(|d| rel(&d.doc.file)));
        files.extend(p.derived.iter().map(|d| d.file.clone()));
    }
    files.extend(s.catalog.domains.iter().filter_map(|d| d.file.clone()));
    files.extend(s.catalog.all_diagnostics().filter_map(|d| d.file.clone()));
    files.push("mesh.yaml".into());
    files.retain(|f| f.extension().is_some_and(|e| e == "yaml" || e == "yml" || e == "sql"));
    files
}

/// `/source/{path}`: a manifest with line numbers and its diagnostics, so every problem links to its line. Only a
/// manifest of the current snapshot, and only when it is a regular file (see `source.rs`).
pub async fn source(
    State(st): State<Arc<AppState>>,
    caller: Caller,
    Path(path): Path<String>,
) -> Result<Response, AppError> {
    let s = st.mesh.snapshot();
    let wanted = std::path::PathBuf::from(&path);
    if super::source::plain_parts(&wanted).is_none() || !known_manifests(&s).contains(&wanted) {
        return Err(AppError::not_found(format!("`{path}` is not a manifest of this mesh.")).page());
    }
    let bytes = super::source::read_manifest(s.catalog.root.clone(), wanted.clone())
        .await
        .map_err(|e| {
            tracing::warn!(file = %path, reason = %e, "/source refused a file");
            AppError::not_found(format!("`{path}` is not shown: {e}.")).page()
        })?;
    let text = String::from_utf8_lossy(&bytes);
    // Diagnostics and failing checks of this file, as the role may see them (no data it may not read).
    let notes = source_notes(&s, &wanted, &caller.role);
    let flagged: Vec<usize> = notes.iter().map(|n| n.1).collect();
    render(&SourcePage {
        chrome: Chrome::new(&st, &caller, "source", "/api/problems".into()).at(&format!(
            "/source/{}",
            path.split('/').map(super::views::seg).collect::<Vec<_>>().join("/")
        )),
        lines: text
            .lines()
            .enumerate()
            .map(|(i, l)| (i + 1, l.to_string(), flagged.contains(&(i + 1))))
            .collect(),
        notes,
        path,
    })
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    status: String,
    message: &'a str,
}

/// An HTML error page (404s and failures of page handlers).
pub fn error_page(status: StatusCode, message: &str) -> Response {
    let page = ErrorPage {
        status: status.to_string(),
        message,
    };
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(_) => (status, message.to_string()).into_response(),
    }
}

pub async fn not_found(uri: axum::http::Uri) -> Response {
    if uri.path().starts_with("/api/") {
        return AppError::not_found(format!("no API endpoint at {}", uri.path())).into_response();
    }
    error_page(StatusCode::NOT_FOUND, "There is nothing at this address.")
}

#[derive(Template)]
#[template(path = "loading.html")]
struct LoadingPage<'a> {
    progress: &'a crate::live::first_load::LoadProgress,
    folder: String,
    elapsed: String,
}

/// The page every address shows while the mesh loads: what runs now, how far it is, refreshed every second.
pub fn loading_page(st: &AppState) -> Response {
    let progress = st.mesh.first_load();
    let page = LoadingPage {
        folder: st.mesh.root.display().to_string(),
        elapsed: format!("{:.1} s", progress.elapsed_ms as f64 / 1000.0),
        progress: &progress,
    };
    let status = StatusCode::SERVICE_UNAVAILABLE;
    let mut res = match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(_) => (status, "meshbox is loading the mesh").into_response(),
    };
    super::retry_after(&mut res);
    res
}
