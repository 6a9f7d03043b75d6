//! Starting up: the server answers while the mesh loads (a loading page, 503 "preparing" with `Retry-After`, never
//! data), and a role's database built on first use answers 503 until it is there, then exactly what it would
//! have answered had every database been built at start.

use crate::common::{fixture, options, send};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use meshbox::governance::masking::Salt;
use meshbox::live::snapshot::{Mesh, RoleDb, RolePreparation};
use meshbox::serve::http::AppState;
use meshbox::serve::query::Limits;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

fn limits() -> Limits {
    Limits {
        time_limit: Duration::from_secs(5),
        max_rows: 1000,
    }
}

/// A mesh of the `governed` fixture, not loaded yet, whose role databases are built on first use.
fn preparing(scratch: &std::path::Path, salt: &std::path::Path) -> Arc<Mesh> {
    let root = std::fs::canonicalize(fixture("governed")).unwrap();
    let mesh = Mesh::preparing(
        &root,
        options(scratch),
        10_000,
        Salt::stored_in(salt),
        RolePreparation::OnFirstUse,
    )
    .unwrap();
    Arc::new(mesh)
}

async fn query_as(app: &axum::Router, role: &str, sql: &str) -> (StatusCode, Option<String>, Value) {
    let req = Request::post("/api/query")
        .header("x-meshbox-role", role)
        .header("content-type", "application/json")
        .body(Body::from(serde_json::json!({ "sql": sql }).to_string()))
        .unwrap();
    let (status, headers, body) = send(app, req).await;
    let retry = headers.get("retry-after").map(|v| v.to_str().unwrap().to_string());
    let mut body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    // The one field that differs between two runs of the same query.
    if let Some(o) = body.as_object_mut() {
        o.remove("elapsed_ms");
    }
    (status, retry, body)
}

async fn get(app: &axum::Router, uri: &str) -> (StatusCode, Option<String>, String) {
    let (status, headers, body) = send(app, Request::get(uri).body(Body::empty()).unwrap()).await;
    let retry = headers.get("retry-after").map(|v| v.to_str().unwrap().to_string());
    (status, retry, String::from_utf8_lossy(&body).into_owned())
}

/// Asserts a 503 "preparing" that carries no rows.
fn assert_preparing(what: &str, answer: &(StatusCode, Option<String>, Value)) {
    let (status, retry, body) = answer;
    assert_eq!(*status, StatusCode::SERVICE_UNAVAILABLE, "{what}: {body}");
    assert_eq!(retry.as_deref(), Some("1"), "{what}: Retry-After");
    assert_eq!(body["kind"], "preparing", "{what}: {body}");
    assert!(
        body.get("rows").is_none(),
        "{what}: a preparing answer holds rows: {body}"
    );
}

const ROLES: [&str; 5] = ["viewer", "analyst", "crm_team", "steward", "admin"];

#[tokio::test]
async fn while_the_mesh_loads_every_address_says_so_and_none_serves_data() {
    let (scratch, salt) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mesh = preparing(scratch.path(), salt.path());
    let app = meshbox::serve::http::router(AppState::new(mesh.clone(), limits(), 64 * 1024));

    let (status, retry, page) = get(&app, "/").await;
    assert_eq!((status, retry.as_deref()), (StatusCode::SERVICE_UNAVAILABLE, Some("1")));
    assert!(page.contains("Loading the mesh"), "{page}");
    assert!(
        page.contains("http-equiv=\"refresh\""),
        "the page follows the load by itself"
    );
    let (status, _, page) = get(&app, "/products/crm/customers").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(page.contains("Loading the mesh"), "{page}");
    for uri in [
        "/api/products",
        "/api/mesh",
        "/api/products/crm/customers",
        "/api/search?q=customer",
    ] {
        let (status, retry, body) = get(&app, uri).await;
        let body: Value = serde_json::from_str(&body).unwrap();
        assert_preparing(uri, &(status, retry, body.clone()));
        assert_eq!(body["loading"]["ready"], false, "{uri}: {body}");
    }
    for role in ROLES {
        assert_preparing(role, &query_as(&app, role, "SELECT * FROM crm.customers").await);
    }
    let (status, _, body) = get(&app, "/api/status").await;
    let status_body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!((status, &status_body["ready"]), (StatusCode::OK, &Value::Bool(false)));

    mesh.load_first().unwrap();
    let (status, _, body) = get(&app, "/api/products").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let products: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(products.as_array().map(Vec::len), Some(4), "{products}");
    let (_, _, body) = get(&app, "/api/status").await;
    let status_body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(status_body["ready"], true, "{status_body}");
    assert_eq!(status_body["loading"]["ready"], true, "{status_body}");
    let (status, _, page) = get(&app, "/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!page.contains("Loading the mesh"));
}

/// Queries whose answers differ by role: masked columns, a product only some roles may read, the metadata.
const QUERIES: [&str; 4] = [
    "SELECT id, name, email, iban, birth_date, segment, country FROM crm.customers ORDER BY id",
    "SELECT * FROM hr.salaries ORDER BY 1",
    "SELECT count(*) AS n FROM sales.orders",
    "SELECT domain, product FROM mesh.products ORDER BY 1, 2",
];

#[tokio::test]
async fn a_role_asking_before_its_database_is_built_gets_503_then_exactly_its_own_view() {
    let (scratch, salt) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    // The reference: every role's database built at start, with the same hash salt.
    let root = std::fs::canonicalize(fixture("governed")).unwrap();
    let eager_scratch = tempfile::tempdir().unwrap();
    let eager = Arc::new(
        Mesh::open_salted(
            &root,
            options(eager_scratch.path()),
            10_000,
            Salt::stored_in(salt.path()),
        )
        .unwrap(),
    );
    let eager_app = meshbox::serve::http::router(AppState::new(eager.clone(), limits(), 64 * 1024));
    // Roles sharing a database are built together: the first of each group asked must be told to wait.
    let groups: Vec<(Vec<String>, bool)> = eager
        .profiles()
        .info()
        .into_iter()
        .map(|p| (p.roles, p.unmasked))
        .collect();
    assert!(groups.iter().filter(|g| !g.1).count() >= 3, "{groups:?}");

    let mesh = preparing(scratch.path(), salt.path());
    mesh.load_first().unwrap();
    let state = AppState::new(mesh.clone(), limits(), 64 * 1024);
    state.set_prepare_patience(Duration::ZERO);
    let app = meshbox::serve::http::router(state);
    for (roles, unmasked) in &groups {
        for (i, role) in roles.iter().enumerate() {
            let first = query_as(&app, role, QUERIES[0]).await;
            let expected = query_as(&eager_app, role, QUERIES[0]).await;
            if *unmasked {
                // Reading everything as it is needs no database of its own.
                assert_eq!(first, expected, "{role}");
            } else if i == 0 {
                assert_preparing(role, &first);
            } else {
                // Built with the first of its group, or not yet: never anything else.
                assert!(
                    first.0 == StatusCode::SERVICE_UNAVAILABLE || first == expected,
                    "{role}: {first:?}"
                );
                if first.0 == StatusCode::SERVICE_UNAVAILABLE {
                    assert_preparing(role, &first);
                }
            }
        }
    }
    for role in ROLES {
        let ready = mesh.role_db_within(role, Duration::from_secs(120)).await;
        assert!(
            matches!(ready, RoleDb::Ready(_)),
            "{role}: its database was never built"
        );
        for sql in QUERIES {
            let lazy = query_as(&app, role, sql).await;
            let reference = query_as(&eager_app, role, sql).await;
            assert_eq!(lazy, reference, "{role}: {sql}");
        }
    }
    // A viewer may not read hr.salaries, and the crm team sees crm unmasked: the comparison above holds both.
    let viewer = query_as(&app, "viewer", QUERIES[1]).await;
    assert_ne!(viewer.0, StatusCode::OK, "{viewer:?}");
}

#[tokio::test]
async fn a_role_database_built_on_first_use_follows_later_rebuilds() {
    let (scratch, salt) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let dir = crate::common::copy_fixture("governed");
    let root = std::fs::canonicalize(dir.path()).unwrap();
    let mesh = Arc::new(
        Mesh::preparing(
            &root,
            options(scratch.path()),
            10_000,
            Salt::stored_in(salt.path()),
            RolePreparation::OnFirstUse,
        )
        .unwrap(),
    );
    mesh.load_first().unwrap();
    let app = meshbox::serve::http::router(AppState::new(mesh.clone(), limits(), 64 * 1024));
    // The analyst reads sales (internal) through a masked copy of its own.
    assert!(matches!(
        mesh.role_db_within("analyst", Duration::from_secs(120)).await,
        RoleDb::Ready(_)
    ));
    let sql = "SELECT count(*) AS n FROM sales.orders";
    let (status, _, before) = query_as(&app, "analyst", sql).await;
    assert_eq!(status, StatusCode::OK, "{before}");
    let csv = std::fs::read_dir(root.join("sales/orders/data"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "csv"))
        .expect("the orders fixture reads a CSV file");
    let text = std::fs::read_to_string(&csv).unwrap();
    let first_row = text.lines().nth(1).unwrap().to_string();
    std::fs::write(
        &csv,
        format!("{text}{}{first_row}\n", if text.ends_with('\n') { "" } else { "\n" }),
    )
    .unwrap();
    mesh.rebuild().unwrap();
    let (status, _, after) = query_as(&app, "analyst", sql).await;
    assert_eq!(status, StatusCode::OK, "{after}");
    let n = |v: &Value| v["rows"][0][0].as_i64().unwrap();
    assert_eq!(n(&after), n(&before) + 1, "{before} → {after}");
}
