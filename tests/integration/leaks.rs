//! Masked and unreadable values must not leak through what meshbox measured and reported: check measures and
//! reasons, failed SQL rules quoting a cell, load-time conversion failures, derived-product build errors and the
//! `mesh.*` metadata tables. Table-driven over roles and channels (console, problems, product and source pages,
//! JSON twins): every secret is absent for roles that may not read it unmasked, and present for a role that may
//! (so the test can fail).

use crate::common::{send, write};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use meshbox::live::snapshot::Mesh;
use meshbox::serve::http::AppState;
use meshbox::serve::query::Limits;
use serde_json::{Value, json};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// Values of `shop.parts` in classified columns: only roles that see `restricted` unmasked (admin) may see them,
/// as values or as what a check measured (max, min, avg of `unit_cost`; an e-mail quoted by a conversion error).
const PARTS_SECRETS: &[&str] = &[
    "98765.43",
    "4242.17",
    "44773.57",
    "sup.secret@example.org",
    "other.secret@example.org",
];

/// Values of `vault.ledger` (restricted level, unclassified columns): only roles that may read the product (auditor,
/// admin) may see them — a cell that does not convert, a memo quoted by a failing rule or a derived product's build,
/// a sum a rule measured.
const VAULT_SECRETS: &[&str] = &["vault-memo-secret-1", "ledger-secret-7731", "700067"];

const ROLES: &[&str] = &["viewer", "analyst", "auditor", "admin"];

/// Which secrets each role may see.
fn may_see(role: &str) -> (bool, bool) {
    match role {
        "admin" => (true, true),
        "auditor" => (false, true),
        _ => (false, false),
    }
}

const PARTS_CONTRACT: &str = r#"apiVersion: v3.1.0
kind: DataContract
id: urn:leaks:parts
name: Parts
version: 1.0.0
status: active
team:
  name: Shop team
schema:
  - name: parts
    properties:
      - name: part_id
        logicalType: integer
      - name: label
        logicalType: string
      - name: unit_cost
        logicalType: number
        physicalType: DECIMAL(10,2)
        classification: restricted
        logicalTypeOptions:
          maximum: 10
      - name: supplier_email
        logicalType: string
        classification: restricted
    quality:
      - id: max_cost
        type: sql
        query: SELECT max(unit_cost) FROM parts
        mustBeLessThan: 1
      - id: min_cost
        type: sql
        query: SELECT min(UNIT_COST) FROM parts
        mustBeLessThan: 1
      - id: avg_cost
        type: sql
        query: SELECT avg(p.unit_cost) FROM parts AS p
        mustBeLessThan: 1
      - id: distinct_cost
        type: sql
        query: SELECT count(DISTINCT unit_cost) FROM parts
        mustBe: 1
      - id: email_as_number
        type: sql
        query: SELECT max(CAST(supplier_email AS INTEGER)) FROM parts
        mustBe: 0
      - id: star
        type: sql
        query: SELECT count(*) FROM (SELECT * FROM parts WHERE unit_cost > 50000)
        mustBe: 0
      - id: labels
        type: sql
        query: SELECT count(*) FROM parts WHERE label IS NULL
        mustBe: 1
servers:
  - server: local
    type: local
    format: csv
    path: data/parts.csv
"#;

const LEDGER_CONTRACT: &str = r#"apiVersion: v3.1.0
kind: DataContract
id: urn:leaks:ledger
name: Ledger
version: 1.0.0
status: active
team:
  name: Vault team
schema:
  - name: ledger
    properties:
      - name: entry_id
        logicalType: integer
      - name: memo
        logicalType: string
      - name: amount
        logicalType: integer
    quality:
      - id: memo_as_number
        type: sql
        query: SELECT max(CAST(memo AS INTEGER)) FROM ledger
        mustBe: 0
      - id: total
        type: sql
        query: SELECT sum(amount) FROM ledger
        mustBeLessThan: 1
servers:
  - server: local
    type: local
    format: csv
    path: data/ledger.csv
"#;

const DIGEST_DESCRIPTOR: &str = r#"apiVersion: v1.1.0
kind: DataProduct
id: urn:leaks:reports:digest
name: Ledger digest
version: 1.0.0
status: active
domain: reports
team:
  name: Reports team
inputPorts:
  - name: ledger
    version: 1.0.0
    contractId: urn:leaks:ledger
outputPorts:
  - name: digest
    type: tables
    version: 1.0.0
    contractId: urn:leaks:digest
"#;

const DIGEST_CONTRACT: &str = r#"apiVersion: v3.1.0
kind: DataContract
id: urn:leaks:digest
name: Ledger digest
version: 1.0.0
status: active
schema:
  - name: digest
    properties:
      - name: n
        logicalType: integer
"#;

/// shop/parts (public, two restricted columns), vault/ledger (restricted level, no classified column, a cell that
/// does not convert), reports/digest (public, derived from the ledger by SQL that fails on a memo).
fn leaky_mesh(root: &Path) {
    write(
        root,
        "mesh.yaml",
        "name: Leaks fixture\naccess:\n  default_level: public\n  levels:\n    vault: restricted\nroles:\n\
         \x20 viewer:\n    clearance: public\n    unmasked: [public]\n\
         \x20 analyst:\n    clearance: internal\n    unmasked: [public, internal]\n\
         \x20 auditor:\n    clearance: restricted\n    unmasked: [public, internal]\n\
         \x20 admin:\n    admin: true\n",
    );
    write(root, "shop/parts/parts.odcs.yaml", PARTS_CONTRACT);
    write(
        root,
        "shop/parts/data/parts.csv",
        "part_id,label,unit_cost,supplier_email\n1,bolt,98765.43,sup.secret@example.org\n\
         2,nut,4242.17,other.secret@example.org\n3,gear,31313.13,sup.secret@example.org\n",
    );
    write(root, "vault/ledger/ledger.odcs.yaml", LEDGER_CONTRACT);
    write(
        root,
        "vault/ledger/data/ledger.csv",
        "entry_id,memo,amount\n1,vault-memo-secret-1,700001\n2,second entry,ledger-secret-7731\n3,third entry,66\n",
    );
    write(root, "reports/digest/digest.odps.yaml", DIGEST_DESCRIPTOR);
    write(root, "reports/digest/digest.odcs.yaml", DIGEST_CONTRACT);
    write(
        root,
        "reports/digest/digest.sql",
        "SELECT CAST(memo AS INTEGER) AS n FROM vault.ledger\n",
    );
}

struct Leaky {
    app: axum::Router,
    mesh: Arc<Mesh>,
    dirs: (tempfile::TempDir, tempfile::TempDir),
}

fn serve_leaky() -> Leaky {
    let dir = tempfile::tempdir().unwrap();
    leaky_mesh(dir.path());
    let scratch = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap();
    let mesh = Arc::new(Mesh::open(&root, crate::common::options(scratch.path()), 10_000).unwrap());
    let limits = Limits {
        time_limit: Duration::from_secs(5),
        max_rows: 1000,
    };
    let app = meshbox::serve::http::router(AppState::new(mesh.clone(), limits, 64 * 1024));
    Leaky {
        app,
        mesh,
        dirs: (dir, scratch),
    }
}

async fn get_as(app: &axum::Router, role: &str, uri: &str) -> (StatusCode, String) {
    let req = Request::get(uri)
        .header("x-meshbox-role", role)
        .body(Body::empty())
        .unwrap();
    let (s, _, b) = send(app, req).await;
    (s, String::from_utf8_lossy(&b).into_owned())
}

async fn query_as(app: &axum::Router, role: &str, sql: &str) -> (StatusCode, String) {
    let req = Request::post("/api/query")
        .header("content-type", "application/json")
        .header("x-meshbox-role", role)
        .body(Body::from(json!({ "sql": sql }).to_string()))
        .unwrap();
    let (s, _, b) = send(app, req).await;
    (s, String::from_utf8_lossy(&b).into_owned())
}

const PAGES: &[&str] = &[
    "/api/problems",
    "/problems",
    "/api/mesh",
    "/",
    "/api/products/shop/parts",
    "/products/shop/parts",
    "/api/products/vault/ledger",
    "/products/vault/ledger",
    "/api/products/reports/digest",
    "/products/reports/digest",
    "/source/shop/parts/parts.odcs.yaml",
    "/source/vault/ledger/ledger.odcs.yaml",
    "/source/reports/digest/digest.sql",
];

const METADATA: &[&str] = &[
    "mesh.products",
    "mesh.tables",
    "mesh.columns",
    "mesh.checks",
    "mesh.lineage",
    "mesh.violations",
    "mesh.domains",
    "mesh.policies",
];

/// Every channel's answer for `role`: (channel, body).
async fn every_channel(app: &axum::Router, role: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for page in PAGES {
        let (status, body) = get_as(app, role, page).await;
        assert_eq!(status, StatusCode::OK, "{role} {page}: {body}");
        out.push((page.to_string(), body));
    }
    for table in METADATA {
        let (status, body) = query_as(app, role, &format!("SELECT * FROM {table}")).await;
        assert_eq!(status, StatusCode::OK, "{role} {table}: {body}");
        out.push((table.to_string(), body));
    }
    out
}

#[tokio::test]
async fn secrets_reach_only_the_roles_that_may_read_them() {
    let m = serve_leaky();
    for role in ROLES {
        let (parts, vault) = may_see(role);
        let bodies = every_channel(&m.app, role).await;
        for (group, allowed) in [(PARTS_SECRETS, parts), (VAULT_SECRETS, vault)] {
            for secret in group {
                let seen: Vec<&str> = bodies
                    .iter()
                    .filter(|(_, b)| b.contains(secret))
                    .map(|(c, _)| c.as_str())
                    .collect();
                if allowed {
                    assert!(!seen.is_empty(), "{role} should see `{secret}` somewhere");
                } else {
                    assert!(seen.is_empty(), "{role} sees `{secret}` in {seen:?}");
                }
            }
        }
    }
}

/// (role, channel, secret): what a role that may read the data finds where it looks for it.
const SHOWN: &[(&str, &str, &str)] = &[
    ("admin", "/api/problems", "98765.43"),
    ("admin", "/api/problems", "4242.17"),
    ("admin", "/api/problems", "44773.57"),
    ("admin", "/api/problems", "sup.secret@example.org"),
    ("admin", "/problems", "sup.secret@example.org"),
    ("admin", "/source/shop/parts/parts.odcs.yaml", "98765.43"),
    ("admin", "mesh.checks", "98765.43"),
    ("admin", "mesh.checks", "700067"),
    ("admin", "/api/problems", "ledger-secret-7731"),
    ("auditor", "/api/problems", "ledger-secret-7731"),
    ("auditor", "/problems", "vault-memo-secret-1"),
    ("auditor", "/api/products/vault/ledger", "ledger-secret-7731"),
    ("auditor", "/products/vault/ledger", "vault-memo-secret-1"),
    ("auditor", "/source/vault/ledger/ledger.odcs.yaml", "ledger-secret-7731"),
    ("auditor", "/api/products/reports/digest", "vault-memo-secret-1"),
    ("auditor", "mesh.checks", "700067"),
];

#[tokio::test]
async fn roles_that_may_read_the_data_see_the_details() {
    let m = serve_leaky();
    for (role, channel, secret) in SHOWN {
        let body = if channel.starts_with('/') {
            get_as(&m.app, role, channel).await.1
        } else {
            query_as(&m.app, role, &format!("SELECT * FROM {channel}")).await.1
        };
        assert!(body.contains(secret), "{role} {channel} should show `{secret}`: {body}");
    }
}

fn rows(body: &str) -> Value {
    let v: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"));
    v["rows"].clone()
}

#[tokio::test]
async fn metadata_lists_only_readable_products_and_withholds_masked_measures() {
    let m = serve_leaky();
    for role in ROLES {
        let (parts_clear, vault_readable) = may_see(role);
        let (_, body) = query_as(
            &m.app,
            role,
            "SELECT domain || '/' || product FROM mesh.products ORDER BY 1",
        )
        .await;
        let mut expected = vec!["reports/digest", "shop/parts"];
        if vault_readable {
            expected.push("vault/ledger");
        }
        assert_eq!(
            rows(&body),
            json!(expected.iter().map(|k| [k]).collect::<Vec<_>>()),
            "{role}"
        );
        for table in ["mesh.tables", "mesh.columns", "mesh.checks", "mesh.lineage"] {
            let column = if table == "mesh.lineage" {
                "provider_product"
            } else {
                "product"
            };
            let (_, body) = query_as(
                &m.app,
                role,
                &format!("SELECT count(*) FROM {table} WHERE {column} = 'ledger'"),
            )
            .await;
            let n = rows(&body)[0][0].as_i64().unwrap();
            assert_eq!(n > 0, vault_readable, "{role}: {table} rows of the ledger: {n}");
        }
        let (_, body) = query_as(&m.app, role, "SELECT products FROM mesh.domains WHERE domain = 'vault'").await;
        assert_eq!(rows(&body), json!([[i64::from(vault_readable)]]), "{role}");
        // Measures over unit_cost (max, min, avg, count distinct, a `*`) are NULL unless the column is seen as it is;
        // a measure over a clear column is there for everyone who reads the product.
        let (_, body) = query_as(
            &m.app,
            role,
            "SELECT check_key, measured FROM mesh.checks WHERE product = 'parts' AND check_kind = 'model_quality_sql' \
             ORDER BY check_key",
        )
        .await;
        let found: Vec<(String, Option<f64>)> = rows(&body)
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let measured = r[1].as_f64().map(|v| (v * 100.0).round() / 100.0);
                (r[0].as_str().unwrap().to_string(), measured)
            })
            .collect();
        let value = |v: f64| parts_clear.then_some(v);
        let expected: Vec<(String, Option<f64>)> = [
            ("parts__quality_sql_0", value(98765.43)),
            ("parts__quality_sql_1", value(4242.17)),
            ("parts__quality_sql_2", value(44773.58)),
            ("parts__quality_sql_3", value(3.0)),
            ("parts__quality_sql_4", None),
            ("parts__quality_sql_5", value(1.0)),
            ("parts__quality_sql_6", Some(0.0)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        assert_eq!(found, expected, "{role}");
    }
}

#[tokio::test]
async fn product_pages_withhold_measures_samples_and_row_counts() {
    let m = serve_leaky();
    for role in ROLES {
        let (parts_clear, vault_readable) = may_see(role);
        let (_, body) = get_as(&m.app, role, "/api/products/shop/parts").await;
        let v: Value = serde_json::from_str(&body).unwrap();
        let checks = v["check_results"].as_array().unwrap();
        let by_key = |key: &str| {
            checks
                .iter()
                .find(|c| c["key"] == key)
                .unwrap_or_else(|| panic!("{key}"))
        };
        assert_eq!(
            by_key("parts__quality_sql_0")["measured"].is_null(),
            !parts_clear,
            "{role}"
        );
        assert_eq!(by_key("parts__quality_sql_6")["measured"], json!(0.0), "{role}");
        // The failed rows of `unit_cost <= 10` say which parts are expensive: withheld with the column masked.
        let maximum = by_key("parts__unit_cost__field_maximum");
        assert_eq!(maximum["status"], "fail", "{role}");
        assert_eq!(maximum["samples"].is_null(), !parts_clear, "{role}: {maximum}");
        let (_, body) = get_as(&m.app, role, "/api/products/vault/ledger").await;
        let v: Value = serde_json::from_str(&body).unwrap();
        let rows = &v["table_details"][0]["row_count"];
        assert_eq!(rows.is_null(), !vault_readable, "{role}: {rows}");
        let checks = v["check_results"].as_array().unwrap();
        let typed = checks
            .iter()
            .find(|c| c["key"] == "ledger__amount__field_type")
            .unwrap();
        assert_eq!(typed["status"], "fail", "{role}");
        assert_eq!(typed["measured"].is_null(), !vault_readable, "{role}: {typed}");
    }
}

#[test]
fn quality_rules_read_only_their_own_product() {
    let dir = tempfile::tempdir().unwrap();
    leaky_mesh(dir.path());
    // Ways a rule of shop/probe could measure another product's rows, row counts or table sizes.
    let reaching = [
        "SELECT count(*) FROM __meshbox_p0.ledger",
        "SELECT count(*) FROM __meshbox_p1.ledger",
        "SELECT count(*) FROM __meshbox_p2.ledger",
        "SELECT count(*) FROM __meshbox_p3.ledger",
        "SELECT count(*) FROM memory.__meshbox_p0.ledger",
        "SELECT max(estimated_size) FROM duckdb_tables()",
        "SELECT count(*) FROM duckdb_tables",
        "SELECT count(*) FROM duckdb_columns() WHERE column_name = 'memo'",
        "SELECT count(*) FROM information_schema.tables",
        "SELECT sum(reltuples) FROM pg_catalog.pg_class",
        "SELECT count(*) FROM probe p JOIN ledger l ON true",
    ];
    let mut rules = String::new();
    for q in &reaching {
        rules.push_str(&format!(
            "      - type: sql\n        query: \"{q}\"\n        mustBe: 0\n"
        ));
    }
    rules.push_str("      - type: sql\n        query: \"SELECT count(*) FROM probe WHERE x > 1\"\n        mustBe: 1\n");
    write(
        dir.path(),
        "shop/probe/probe.odcs.yaml",
        &format!(
            "apiVersion: v3.1.0\nkind: DataContract\nid: urn:leaks:probe\nversion: 1.0.0\nstatus: active\nschema:\n\
             \x20 - name: probe\n    properties:\n      - name: x\n        logicalType: integer\n    quality:\n{rules}\
             servers:\n  - server: local\n    type: local\n    format: csv\n    path: probe.csv\n"
        ),
    );
    write(dir.path(), "shop/probe/probe.csv", "x\n1\n2\n");
    let s = crate::common::load(dir.path());
    let p = crate::common::product(&s, "shop/probe");
    let sql: Vec<_> = p.checks.iter().filter(|c| c.kind == "model_quality_sql").collect();
    assert_eq!(sql.len(), reaching.len() + 1);
    for (c, q) in sql.iter().zip(&reaching) {
        assert_eq!(c.status, meshbox::checks::CheckStatus::Error, "{q}: {c:?}");
        assert_eq!(c.measured, None, "{q}");
        let reason = c.reason.as_deref().unwrap_or_default();
        assert!(
            reason.contains("own product") || reason.contains("not allowed") || reason.contains("single read-only"),
            "{q}: {reason}"
        );
    }
    // A rule over its own table still runs.
    let own = sql.last().unwrap();
    assert_eq!(
        (own.status, own.measured),
        (meshbox::checks::CheckStatus::Pass, Some(1.0))
    );
}

#[tokio::test]
async fn each_role_s_metadata_follows_a_rebuild() {
    let m = serve_leaky();
    let total = "SELECT measured FROM mesh.checks WHERE check_key = 'ledger__quality_sql_1'";
    let (_, body) = query_as(&m.app, "auditor", total).await;
    assert_eq!(rows(&body), json!([[700067.0]]));
    write(
        m.dirs.0.path(),
        "vault/ledger/data/ledger.csv",
        "entry_id,memo,amount\n1,a,1\n2,b,2\n3,c,3\n",
    );
    m.mesh.rebuild().unwrap();
    for (role, expected) in [
        ("auditor", json!([[6.0]])),
        ("admin", json!([[6.0]])),
        ("viewer", json!([])),
    ] {
        let (_, body) = query_as(&m.app, role, total).await;
        assert_eq!(rows(&body), expected, "{role}");
    }
}
