//! The adversarial suite: SQL and HTTP attacks sent as low-privileged roles against the `governed` fixture. Each
//! asserts that no raw protected value, no file content and no unauthorised product comes back, and that the server
//! did not fail; after all of them, the mesh folder is byte-for-byte unchanged, nothing was written outside it and the
//! server still answers. Every case runs, and every one that gets through is reported by name.

use super::governance::serve_governed;
use crate::common::{copy_fixture, send};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Values no attacking role may ever receive: raw masked values, unauthorised products, file contents.
pub(crate) const SECRETS: &[&str] = &[
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

/// The roles that attack: the least privileged one and one that reads more but not everything.
pub(crate) const ATTACKERS: &[&str] = &["viewer", "analyst"];

/// Every file under `root` with its content.
pub(crate) fn snapshot_folder(root: &Path) -> BTreeMap<String, Vec<u8>> {
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

/// What is wrong with one answer: a server failure, and each secret it carries.
pub(crate) fn leaks(what: &str, status: StatusCode, body: &str) -> Vec<String> {
    let shown: String = body.chars().take(300).collect();
    let mut out = Vec::new();
    if status == StatusCode::INTERNAL_SERVER_ERROR {
        out.push(format!("{what}: the server failed ({status}): {shown}"));
    }
    for s in SECRETS.iter().filter(|s| body.contains(*s)) {
        out.push(format!("{what}: leaked `{s}` ({status}): {shown}"));
    }
    out
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

/// One attack: its name and what it sends.
type Case<T> = (&'static str, T);

/// Unauthorised and quarantined products, however they are named.
fn product_attacks() -> Vec<Case<String>> {
    [
        ("restricted product", "SELECT * FROM hr.salaries"),
        ("quarantined product", "SELECT * FROM crm.leads"),
        ("case trick", "sElEcT * fRoM HR.SALARIES"),
        ("quoted case trick", r#"SELECT * FROM "hr"."salaries""#),
        ("comment smuggling", "SELECT/**/*/**/FROM/**/hr/**/./**/salaries"),
        ("line comment", "SELECT 1 -- \nUNION ALL SELECT salary FROM hr.salaries"),
        ("subquery", "SELECT (SELECT max(salary) FROM hr.salaries)"),
        (
            "lateral join",
            "SELECT * FROM crm.customers, LATERAL (SELECT * FROM hr.salaries)",
        ),
        (
            "union",
            "SELECT iban FROM crm.customers UNION ALL SELECT note FROM hr.salaries",
        ),
        ("cte", "WITH s AS (SELECT * FROM hr.salaries) SELECT * FROM s"),
        ("fully qualified", "SELECT * FROM memory.hr.salaries"),
        (
            "information schema",
            "SELECT table_schema, table_name FROM information_schema.tables",
        ),
        ("catalog functions", "SELECT * FROM duckdb_tables()"),
        (
            "column catalog",
            "SELECT * FROM duckdb_columns() WHERE table_name = 'salaries'",
        ),
        ("table info", "SELECT * FROM pragma_table_info('hr.salaries')"),
        ("dynamic query()", "SELECT * FROM query('SELECT * FROM hr.salaries')"),
        ("query_table()", "SELECT * FROM query_table('crm.leads')"),
    ]
    .map(|(name, sql)| (name, sql.to_string()))
    .into()
}

/// Files inside and outside the mesh (`root`); `outside` is where writing attempts aim.
fn file_attacks(root: &Path, outside: &Path) -> Vec<Case<String>> {
    let m = |rel: &str| root.join(rel).display().to_string();
    let salaries_csv = m("hr/salaries/data/salaries.csv");
    let leads_csv = m("crm/leads/data/leads.csv");
    let notes = m("hr/salaries/data/notes.txt");
    let out = outside.display();
    vec![
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
        ("copy out", format!("COPY crm.customers TO '{out}/attack.csv'")),
        ("copy in", format!("COPY crm.customers FROM '{salaries_csv}'")),
        ("export database", format!("EXPORT DATABASE '{out}/attack-db'")),
        ("attach", format!("ATTACH '{}' AS stolen", m("mesh.yaml"))),
        ("install", "INSTALL httpfs".into()),
        ("load", "LOAD httpfs".into()),
    ]
}

/// Changing things, settings and the environment.
fn changing_attacks() -> Vec<Case<String>> {
    [
        ("create table", "CREATE TABLE crm.x AS SELECT 1"),
        (
            "shadowing temp view",
            "CREATE TEMP VIEW customers AS SELECT * FROM crm.customers",
        ),
        ("insert", "INSERT INTO crm.customers (id) VALUES (99)"),
        ("update", "UPDATE crm.customers SET name = 'x'"),
        ("delete", "DELETE FROM crm.customers"),
        ("drop", "DROP TABLE crm.customers"),
        ("stacked statements", "SELECT 1; DROP TABLE crm.customers"),
        ("stacked read", "SELECT 1; SELECT * FROM hr.salaries"),
        ("set", "SET enable_external_access = true"),
        ("reset", "RESET lock_configuration"),
        ("pragma", "PRAGMA database_list"),
        ("call", "CALL pragma_table_info('crm.customers')"),
        ("checkpoint", "CHECKPOINT"),
        ("settings", "SELECT * FROM duckdb_settings()"),
        ("current_setting", "SELECT current_setting('temp_directory')"),
        ("getenv", "SELECT getenv('HOME')"),
        ("variables", "SELECT getvariable('x')"),
    ]
    .map(|(name, sql)| (name, sql.to_string()))
    .into()
}

/// Unmasking a masked column, and a runaway query (stopped, the server keeps serving).
fn unmasking_attacks() -> Vec<Case<String>> {
    [
        (
            "raw masked columns",
            "SELECT name, email, iban, birth_date, segment FROM crm.customers",
        ),
        (
            "aggregate",
            "SELECT string_agg(name), string_agg(email), max(iban) FROM crm.customers",
        ),
        (
            "equality oracle",
            "SELECT count(*) AS n FROM crm.customers WHERE email = 'ada@example.com'",
        ),
        (
            "prefix oracle",
            "SELECT count(*) AS n FROM crm.customers WHERE name LIKE 'Ada%'",
        ),
        ("error message", "SELECT CAST(email AS INTEGER) FROM crm.customers"),
        ("error() function", "SELECT error(name) FROM crm.customers"),
        ("hash of the mask", "SELECT md5(email) FROM crm.customers"),
        ("json of rows", "SELECT to_json(c) FROM crm.customers c"),
        (
            "statistics",
            "SELECT * FROM duckdb_columns() WHERE table_name = 'customers'",
        ),
        ("summarize", "SUMMARIZE crm.customers"),
        ("pivot", "PIVOT crm.customers ON segment USING count(*)"),
        ("runaway", "SELECT count(*) FROM range(1000000000) a, range(1000000) b"),
    ]
    .map(|(name, sql)| (name, sql.to_string()))
    .into()
}

pub(crate) fn sql_attacks(root: &Path, outside: &Path) -> Vec<Case<String>> {
    let mut all = product_attacks();
    all.extend(file_attacks(root, outside));
    all.extend(changing_attacks());
    all.extend(unmasking_attacks());
    all
}

fn get_as(uri: &str, role: Option<&str>) -> Request<Body> {
    let mut req = Request::get(uri);
    if let Some(role) = role {
        req = req.header("x-meshbox-role", role);
    }
    req.body(Body::empty()).unwrap()
}

fn export_as(role: &str, json: &'static str) -> Request<Body> {
    Request::post("/api/export")
        .header("content-type", "application/json")
        .header("x-meshbox-role", role)
        .body(Body::from(json))
        .unwrap()
}

/// The same through every other way data leaves meshbox.
fn http_attacks() -> Vec<Case<Request<Body>>> {
    vec![
        (
            "export",
            export_as("viewer", r#"{"sql": "SELECT * FROM hr.salaries", "format": "csv"}"#),
        ),
        (
            "export masked",
            export_as("viewer", r#"{"sql": "SELECT * FROM crm.customers", "format": "json"}"#),
        ),
        (
            "download",
            get_as("/api/products/hr/salaries/tables/salaries.csv", Some("viewer")),
        ),
        (
            "download quarantined",
            get_as("/api/products/crm/leads/tables/leads.json", Some("analyst")),
        ),
        ("product api", get_as("/api/products/hr/salaries", None)),
        ("product page", get_as("/products/hr/salaries", None)),
        ("quarantined page", get_as("/products/crm/leads", None)),
        ("masked page", get_as("/products/crm/customers", None)),
        ("problems", get_as("/api/problems", None)),
        ("mesh", get_as("/api/mesh", None)),
        ("compliance", get_as("/api/compliance", None)),
        ("console page", get_as("/sql", None)),
        (
            "source of a data file",
            get_as("/source/hr/salaries/data/salaries.csv", None),
        ),
        ("path traversal", get_as("/static/..%2f..%2fetc%2fpasswd", None)),
        ("audit as viewer", get_as("/api/audit", Some("viewer"))),
        (
            "role list injection",
            get_as("/api/products/hr/salaries", Some("viewer, admin")),
        ),
    ]
}

/// Names that appear more than once: each report must point at one case.
fn repeated_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let mut seen = BTreeSet::new();
    names.into_iter().filter(|n| !seen.insert(*n)).collect()
}

/// The oracles see masked data: a raw value matches nothing.
async fn oracles_see_masked_data(app: &axum::Router) -> Vec<String> {
    let sql =
        "SELECT count(*) AS n FROM crm.customers WHERE email = 'ada@example.com' OR name LIKE 'Ad%' OR iban LIKE 'DE%'";
    let (status, body) = post_query(app, "viewer", sql).await;
    let mut out = leaks("viewer: combined oracle", status, &body);
    if !body.contains(r#""rows":[[0]]"#) {
        out.push(format!(
            "viewer: combined oracle: a raw value matched ({status}): {body}"
        ));
    }
    out
}

/// After every attack: nothing was written anywhere it should not be, and the server still answers, as before.
async fn aftermath(app: &axum::Router, root: &Path, before: &BTreeMap<String, Vec<u8>>, outside: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let written: Vec<_> = std::fs::read_dir(outside).unwrap().map(|e| e.unwrap().path()).collect();
    if !written.is_empty() {
        out.push(format!("aftermath: files were written outside the mesh: {written:?}"));
    }
    if &snapshot_folder(root) != before {
        out.push("aftermath: the mesh folder changed".to_string());
    }
    let (status, body) = post_query(app, "viewer", "SELECT count(*) FROM crm.customers").await;
    if status != StatusCode::OK || !body.contains(r#""rows":[[3]]"#) {
        out.push(format!(
            "aftermath: the viewer no longer reads crm.customers ({status}): {body}"
        ));
    }
    let top_salary = "SELECT salary FROM hr.salaries ORDER BY 1 DESC LIMIT 1";
    let (status, body) = post_query(app, "admin", top_salary).await;
    if status != StatusCode::OK || !body.contains("98765") {
        out.push(format!(
            "aftermath: the admin no longer reads everything ({status}): {body}"
        ));
    }
    out
}

#[tokio::test]
async fn every_attack_leaks_nothing_and_changes_nothing() {
    let dir = copy_fixture("governed");
    let root = std::fs::canonicalize(dir.path()).unwrap();
    // A file in the mesh folder that no product declares; writing attacks aim at a folder outside it.
    std::fs::write(root.join("hr/salaries/data/notes.txt"), "meshbox-attack-marker\n").unwrap();
    let outside = tempfile::tempdir().unwrap();
    let before = snapshot_folder(&root);
    let g = serve_governed(&root);
    let sql = sql_attacks(&root, outside.path());
    let http = http_attacks();
    let repeated = repeated_names(sql.iter().map(|c| c.0).chain(http.iter().map(|c| c.0)));
    assert!(repeated.is_empty(), "attack names used twice: {repeated:?}");
    let mut failures = Vec::new();
    for role in ATTACKERS {
        for (what, sql) in &sql {
            let (status, body) = post_query(&g.app, role, sql).await;
            failures.extend(leaks(&format!("{role}: {what}"), status, &body));
        }
    }
    failures.extend(oracles_see_masked_data(&g.app).await);
    for (what, req) in http {
        let (status, _, body) = send(&g.app, req).await;
        failures.extend(leaks(what, status, &String::from_utf8_lossy(&body)));
    }
    failures.extend(aftermath(&g.app, &root, &before, outside.path()).await);
    assert!(
        failures.is_empty(),
        "{} attack(s) got through:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn a_leak_is_reported_by_name_with_every_secret_it_carries() {
    assert_eq!(
        leaks("viewer: union", StatusCode::OK, r#"{"rows":[["•••"]]}"#),
        Vec::<String>::new()
    );
    let found = leaks(
        "viewer: union",
        StatusCode::INTERNAL_SERVER_ERROR,
        "Ada Lovelace, 98765",
    );
    assert_eq!(found.len(), 3, "{found:?}");
    assert!(found.iter().all(|f| f.starts_with("viewer: union: ")), "{found:?}");
    assert!(
        found[1].contains("`Ada Lovelace`") && found[2].contains("`98765`"),
        "{found:?}"
    );
    assert_eq!(repeated_names(["a", "b", "a", "c", "b"]), ["a", "b"]);
}
