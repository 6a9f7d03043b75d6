//! The adversarial suite: SQL and HTTP attacks sent as low-privileged roles against the `governed` fixture. Each
//! asserts that no raw protected value, no file content and no unauthorised product comes back; after all of them,
//! the mesh folder is byte-for-byte unchanged and the server still answers.

use super::governance::serve_governed;
use crate::common::{copy_fixture, send};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use std::collections::BTreeMap;
use std::path::Path;

/// Values no attacking role may ever receive: raw masked values, unauthorised products, file contents.
const SECRETS: &[&str] = &[
    "Ada Lovelace",
    "ada@example.com",
    "bo@example.org",
    "DE89370400440532013000",
    "GB82WEST12345698765432",
    "1815-12-10",
    "98765",
    "87654",
    "TOPSECRET",
    "lead.secret@example.org",
    "other.lead",
    "root:x:0:0",
    "meshbox-attack-marker",
];

/// Every file under `root` with its content.
fn snapshot_folder(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(
                    p.strip_prefix(root).unwrap().display().to_string(),
                    std::fs::read(&p).unwrap(),
                );
            }
        }
    }
    out
}

fn assert_clean(what: &str, status: StatusCode, body: &str) {
    assert!(
        status != StatusCode::INTERNAL_SERVER_ERROR,
        "{what}: the server failed ({status}): {body}"
    );
    for s in SECRETS {
        assert!(!body.contains(s), "{what}: leaked `{s}` ({status}): {body}");
    }
}

async fn post_query(app: &axum::Router, role: &str, sql: &str) -> (StatusCode, String) {
    let req = Request::post("/api/query")
        .header("content-type", "application/json")
        .header("x-meshbox-role", role)
        .body(Body::from(serde_json::json!({ "sql": sql }).to_string()))
        .unwrap();
    let (s, _, b) = send(app, req).await;
    (s, String::from_utf8_lossy(&b).into_owned())
}

#[tokio::test]
async fn forty_plus_attacks_leak_nothing_and_change_nothing() {
    let dir = copy_fixture("governed");
    let root = std::fs::canonicalize(dir.path()).unwrap();
    // A file in the mesh folder that no product declares, and one outside it.
    std::fs::write(root.join("hr/salaries/data/notes.txt"), "meshbox-attack-marker\n").unwrap();
    let before = snapshot_folder(&root);
    let g = serve_governed(&root);
    let m = |rel: &str| root.join(rel).display().to_string();
    let salaries_csv = m("hr/salaries/data/salaries.csv");
    let leads_csv = m("crm/leads/data/leads.csv");
    let notes = m("hr/salaries/data/notes.txt");
    let attacks: Vec<(&str, String)> = vec![
        // Unauthorised and quarantined products, however they are named.
        ("restricted product", "SELECT * FROM hr.salaries".into()),
        ("quarantined product", "SELECT * FROM crm.leads".into()),
        ("case trick", "sElEcT * fRoM HR.SALARIES".into()),
        ("quoted case trick", r#"SELECT * FROM "hr"."salaries""#.into()),
        ("comment smuggling", "SELECT/**/*/**/FROM/**/hr/**/./**/salaries".into()),
        (
            "line comment",
            "SELECT 1 -- \nUNION ALL SELECT salary FROM hr.salaries".into(),
        ),
        ("subquery", "SELECT (SELECT max(salary) FROM hr.salaries)".into()),
        (
            "lateral join",
            "SELECT * FROM crm.customers, LATERAL (SELECT * FROM hr.salaries)".into(),
        ),
        (
            "union",
            "SELECT iban FROM crm.customers UNION ALL SELECT note FROM hr.salaries".into(),
        ),
        ("cte", "WITH s AS (SELECT * FROM hr.salaries) SELECT * FROM s".into()),
        ("fully qualified", "SELECT * FROM memory.hr.salaries".into()),
        (
            "information schema",
            "SELECT table_schema, table_name FROM information_schema.tables".into(),
        ),
        ("catalog functions", "SELECT * FROM duckdb_tables()".into()),
        (
            "column catalog",
            "SELECT * FROM duckdb_columns() WHERE table_name = 'salaries'".into(),
        ),
        ("table info", "SELECT * FROM pragma_table_info('hr.salaries')".into()),
        (
            "dynamic query()",
            "SELECT * FROM query('SELECT * FROM hr.salaries')".into(),
        ),
        ("query_table()", "SELECT * FROM query_table('crm.leads')".into()),
        // Files, inside and outside the mesh.
        ("read_csv outside", "SELECT * FROM read_csv('/etc/passwd')".into()),
        ("read_csv inside", format!("SELECT * FROM read_csv('{salaries_csv}')")),
        ("read_csv_auto", format!("SELECT * FROM read_csv_auto('{leads_csv}')")),
        ("replacement scan", format!("SELECT * FROM '{salaries_csv}'")),
        ("read_text", format!("SELECT * FROM read_text('{notes}')")),
        ("read_text scalar", format!("SELECT content FROM read_text('{notes}')")),
        ("read_blob", "SELECT * FROM read_blob('/etc/passwd')".into()),
        ("read_json", format!("SELECT * FROM read_json_auto('{notes}')")),
        ("read_parquet", format!("SELECT * FROM read_parquet('{salaries_csv}')")),
        ("glob", "SELECT * FROM glob('/etc/*')".into()),
        ("sniff_csv", format!("SELECT * FROM sniff_csv('{salaries_csv}')")),
        ("copy out", "COPY crm.customers TO '/tmp/meshbox-attack.csv'".into()),
        ("copy in", format!("COPY crm.customers FROM '{salaries_csv}'")),
        ("export database", "EXPORT DATABASE '/tmp/meshbox-attack-db'".into()),
        ("attach", format!("ATTACH '{}' AS stolen", m("mesh.yaml"))),
        ("install", "INSTALL httpfs".into()),
        ("load", "LOAD httpfs".into()),
        // Changing things.
        ("create table", "CREATE TABLE crm.x AS SELECT 1".into()),
        (
            "shadowing temp view",
            "CREATE TEMP VIEW customers AS SELECT * FROM crm.customers".into(),
        ),
        ("insert", "INSERT INTO crm.customers (id) VALUES (99)".into()),
        ("update", "UPDATE crm.customers SET name = 'x'".into()),
        ("delete", "DELETE FROM crm.customers".into()),
        ("drop", "DROP TABLE crm.customers".into()),
        ("stacked statements", "SELECT 1; DROP TABLE crm.customers".into()),
        ("stacked read", "SELECT 1; SELECT * FROM hr.salaries".into()),
        ("set", "SET enable_external_access = true".into()),
        ("reset", "RESET lock_configuration".into()),
        ("pragma", "PRAGMA database_list".into()),
        ("call", "CALL pragma_table_info('crm.customers')".into()),
        ("checkpoint", "CHECKPOINT".into()),
        // Settings, environment and metadata functions.
        ("settings", "SELECT * FROM duckdb_settings()".into()),
        ("current_setting", "SELECT current_setting('temp_directory')".into()),
        ("getenv", "SELECT getenv('HOME')".into()),
        ("variables", "SELECT getvariable('x')".into()),
        // Unmasking a masked column.
        (
            "raw masked columns",
            "SELECT name, email, iban, birth_date, segment FROM crm.customers".into(),
        ),
        (
            "aggregate",
            "SELECT string_agg(name), string_agg(email), max(iban) FROM crm.customers".into(),
        ),
        (
            "equality oracle",
            "SELECT count(*) AS n FROM crm.customers WHERE email = 'ada@example.com'".into(),
        ),
        (
            "prefix oracle",
            "SELECT count(*) AS n FROM crm.customers WHERE name LIKE 'Ada%'".into(),
        ),
        (
            "error message",
            "SELECT CAST(email AS INTEGER) FROM crm.customers".into(),
        ),
        ("error() function", "SELECT error(name) FROM crm.customers".into()),
        ("hash of the mask", "SELECT md5(email) FROM crm.customers".into()),
        ("json of rows", "SELECT to_json(c) FROM crm.customers c".into()),
        (
            "statistics",
            "SELECT * FROM duckdb_columns() WHERE table_name = 'customers'".into(),
        ),
        ("summarize", "SUMMARIZE crm.customers".into()),
        ("pivot", "PIVOT crm.customers ON segment USING count(*)".into()),
        // Time: a runaway query is stopped and the server keeps serving.
        (
            "runaway",
            "SELECT count(*) FROM range(1000000000) a, range(1000000) b".into(),
        ),
    ];
    assert!(attacks.len() >= 40, "{}", attacks.len());
    for role in ["viewer", "analyst"] {
        for (what, sql) in &attacks {
            let (status, body) = post_query(&g.app, role, sql).await;
            assert_clean(&format!("{role}: {what}"), status, &body);
        }
    }
    // The oracles see masked data: a raw value matches nothing.
    let (_, body) = post_query(
        &g.app,
        "viewer",
        "SELECT count(*) AS n FROM crm.customers WHERE email = 'ada@example.com' OR name LIKE 'Ad%' OR iban LIKE 'DE%'",
    )
    .await;
    assert!(body.contains(r#""rows":[[0]]"#), "{body}");
    // The same through every other way data leaves meshbox.
    let http: Vec<(&str, Request<Body>)> = vec![
        (
            "export",
            Request::post("/api/export")
                .header("content-type", "application/json")
                .header("x-meshbox-role", "viewer")
                .body(Body::from(r#"{"sql": "SELECT * FROM hr.salaries", "format": "csv"}"#))
                .unwrap(),
        ),
        (
            "export masked",
            Request::post("/api/export")
                .header("content-type", "application/json")
                .header("x-meshbox-role", "viewer")
                .body(Body::from(
                    r#"{"sql": "SELECT * FROM crm.customers", "format": "json"}"#,
                ))
                .unwrap(),
        ),
        (
            "download",
            Request::get("/api/products/hr/salaries/tables/salaries.csv")
                .header("x-meshbox-role", "viewer")
                .body(Body::empty())
                .unwrap(),
        ),
        (
            "download quarantined",
            Request::get("/api/products/crm/leads/tables/leads.json")
                .header("x-meshbox-role", "analyst")
                .body(Body::empty())
                .unwrap(),
        ),
        (
            "product api",
            Request::get("/api/products/hr/salaries").body(Body::empty()).unwrap(),
        ),
        (
            "product page",
            Request::get("/products/hr/salaries").body(Body::empty()).unwrap(),
        ),
        (
            "quarantined page",
            Request::get("/products/crm/leads").body(Body::empty()).unwrap(),
        ),
        (
            "masked page",
            Request::get("/products/crm/customers").body(Body::empty()).unwrap(),
        ),
        ("problems", Request::get("/api/problems").body(Body::empty()).unwrap()),
        ("mesh", Request::get("/api/mesh").body(Body::empty()).unwrap()),
        (
            "compliance",
            Request::get("/api/compliance").body(Body::empty()).unwrap(),
        ),
        ("console page", Request::get("/sql").body(Body::empty()).unwrap()),
        (
            "source of a data file",
            Request::get("/source/hr/salaries/data/salaries.csv")
                .body(Body::empty())
                .unwrap(),
        ),
        (
            "path traversal",
            Request::get("/static/..%2f..%2fetc%2fpasswd")
                .body(Body::empty())
                .unwrap(),
        ),
        (
            "audit as viewer",
            Request::get("/api/audit")
                .header("x-meshbox-role", "viewer")
                .body(Body::empty())
                .unwrap(),
        ),
        (
            "role list injection",
            Request::get("/api/products/hr/salaries")
                .header("x-meshbox-role", "viewer, admin")
                .body(Body::empty())
                .unwrap(),
        ),
    ];
    for (what, req) in http {
        let (status, _, body) = send(&g.app, req).await;
        assert_clean(what, status, &String::from_utf8_lossy(&body));
    }
    // Nothing was written anywhere it should not be, and the server still answers.
    assert!(!Path::new("/tmp/meshbox-attack.csv").exists());
    assert!(!Path::new("/tmp/meshbox-attack-db").exists());
    assert_eq!(snapshot_folder(&root), before, "the mesh folder changed");
    let (status, body) = post_query(&g.app, "viewer", "SELECT count(*) FROM crm.customers").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains(r#""rows":[[3]]"#), "{body}");
    let (status, body) = post_query(
        &g.app,
        "admin",
        "SELECT salary FROM hr.salaries ORDER BY 1 DESC LIMIT 1",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("98765"), "the admin still reads everything: {body}");
}
