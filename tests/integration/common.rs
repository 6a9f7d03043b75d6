//! Shared helpers: fixture paths, temporary copies, snapshots and an in-process router.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use meshbox::checks::pipeline::Options;
use meshbox::live::snapshot::{Mesh, Snapshot, build};
use meshbox::load::ingest::EngineSettings;
use meshbox::model::catalog::Product;
use meshbox::serve::query::Limits;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceExt;

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

pub fn options(scratch: &Path) -> Options {
    Options {
        engine: EngineSettings {
            threads: Some(2),
            memory_limit: Some("1GB".into()),
            temp_dir: scratch.join("duckdb-tmp"),
        },
        server: None,
        allow_outside_root: false,
        now_micros: None,
        profiles: true,
        pii: true,
        ignore: Vec::new(),
        state_dir: None,
        paths_fallback: None,
        selection: Default::default(),
        progress: Default::default(),
    }
}

/// Copies a fixture into a fresh temporary folder (tests that change files work on the copy).
pub fn copy_fixture(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&fixture(name), dir.path());
    dir
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Writes `text` to `root/rel`, creating folders.
pub fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// Loads and tests a mesh folder once, without serving it.
pub fn load(root: &Path) -> Snapshot {
    let scratch = tempfile::tempdir().unwrap();
    build(
        &std::fs::canonicalize(root).unwrap(),
        &options(scratch.path()),
        None,
        None,
    )
    .unwrap()
}

pub fn product<'a>(s: &'a Snapshot, key: &str) -> &'a Arc<Product> {
    let (d, n) = key.split_once('/').unwrap();
    s.catalog.product(d, n).unwrap_or_else(|| panic!("no product {key}"))
}

/// A served mesh and its router, kept alive together.
pub struct Served {
    pub mesh: Arc<Mesh>,
    pub app: Router,
    _scratch: tempfile::TempDir,
}

pub fn serve_with(root: &Path, limits: Limits, max_body: usize) -> Served {
    let scratch = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(root).unwrap();
    let mesh = Arc::new(Mesh::open(&root, options(scratch.path()), 10_000).unwrap());
    let app = meshbox::serve::http::router(meshbox::serve::http::AppState::new(mesh.clone(), limits, max_body));
    Served {
        mesh,
        app,
        _scratch: scratch,
    }
}

pub fn serve(root: &Path) -> Served {
    serve_with(
        root,
        Limits {
            time_limit: Duration::from_secs(5),
            max_rows: 1000,
        },
        64 * 1024,
    )
}

/// Sends a request in-process; a request without a `Host` header gets `Host: localhost`, as a browser on this machine
/// sends (meshbox refuses requests that name no host or another one).
pub async fn send(app: &Router, mut req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    if !req.headers().contains_key("host") && req.uri().authority().is_none() {
        req.headers_mut()
            .insert("host", axum::http::HeaderValue::from_static("localhost"));
    }
    send_raw(app, req).await
}

/// Sends a request exactly as built (no `Host` added).
pub async fn send_raw(app: &Router, req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let body = res.into_body().collect().await.unwrap().to_bytes().to_vec();
    (status, headers, body)
}

pub async fn get(app: &Router, uri: &str) -> (StatusCode, String) {
    let (s, _, b) = send(app, Request::get(uri).body(Body::empty()).unwrap()).await;
    (s, String::from_utf8_lossy(&b).into_owned())
}

pub async fn get_json(app: &Router, uri: &str) -> (StatusCode, Value) {
    let (s, b) = get(app, uri).await;
    (
        s,
        serde_json::from_str(&b).unwrap_or_else(|e| panic!("{uri} did not answer JSON ({e}): {b}")),
    )
}

pub async fn query(app: &Router, sql: &str) -> (StatusCode, Value) {
    query_request(app, None, sql).await
}

/// A console query as `role` (the `X-Meshbox-Role` header).
pub async fn query_as(app: &Router, role: &str, sql: &str) -> (StatusCode, Value) {
    query_request(app, Some(role), sql).await
}

async fn query_request(app: &Router, role: Option<&str>, sql: &str) -> (StatusCode, Value) {
    let body = serde_json::json!({ "sql": sql }).to_string();
    let mut req = Request::post("/api/query").header("content-type", "application/json");
    if let Some(r) = role {
        req = req.header("x-meshbox-role", r);
    }
    let req = req.body(Body::from(body)).unwrap();
    let (s, _, b) = send(app, req).await;
    (
        s,
        serde_json::from_slice(&b)
            .unwrap_or_else(|e| panic!("query did not answer JSON ({e}): {}", String::from_utf8_lossy(&b))),
    )
}

/// The `meshbox` binary run in `dir`, with a private cache and state folder, two DuckDB threads and default logging.
pub fn meshbox_in(dir: &Path, args: &[&str]) -> std::process::Output {
    let scratch = tempfile::tempdir().unwrap();
    std::process::Command::new(env!("CARGO_BIN_EXE_meshbox"))
        .current_dir(dir)
        .args(args)
        .env("MESHBOX_CACHE_DIR", scratch.path())
        .env("MESHBOX_STATE_DIR", scratch.path().join("state"))
        .env("MESHBOX_THREADS", "2")
        .env_remove("RUST_LOG")
        .output()
        .unwrap()
}
