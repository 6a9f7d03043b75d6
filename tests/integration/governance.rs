//! Governance: policies as code (built-in and SQL), compliance and quarantine, PII detection, roles, masking per
//! classification, the role switcher, the metadata tables and the audit log — on the `governed` fixture.

use crate::common::{copy_fixture, fixture, get, get_json, load, options, query_as, send, write};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use meshbox::live::snapshot::Mesh;
use meshbox::serve::http::AppState;
use meshbox::serve::query::Limits;
use serde_json::{Value, json};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

pub struct Governed {
    pub mesh: Arc<Mesh>,
    pub app: axum::Router,
    pub state: tempfile::TempDir,
    _scratch: tempfile::TempDir,
}

/// Serves `root` with an audit log in a temporary state folder.
pub fn serve_governed(root: &Path) -> Governed {
    let scratch = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(root).unwrap();
    let mesh = Arc::new(Mesh::open(&root, options(scratch.path()), 10_000).unwrap());
    let audit = Arc::new(meshbox::governance::audit::Audit::in_dir(state.path()).unwrap());
    let limits = Limits {
        time_limit: Duration::from_secs(3),
        max_rows: 1000,
    };
    let app = meshbox::serve::http::router(AppState::with_audit(mesh.clone(), limits, 64 * 1024, 1000, audit));
    Governed {
        mesh,
        app,
        state,
        _scratch: scratch,
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

async fn json_as(app: &axum::Router, role: &str, uri: &str) -> (StatusCode, Value) {
    let (s, b) = get_as(app, role, uri).await;
    (
        s,
        serde_json::from_str(&b).unwrap_or_else(|e| panic!("{uri}: {e}: {b}")),
    )
}

#[test]
fn policies_find_exact_violations_and_quarantine_the_non_compliant() {
    let s = load(&fixture("governed"));
    let c = &s.catalog;
    let g = &s.governance;
    assert_eq!(g.policies.policies.len(), 4, "{:?}", g.policies.diagnostics);
    assert!(g.policies.diagnostics.is_empty(), "{:?}", g.policies.diagnostics);
    let found: Vec<(&str, &str, &str, Option<&str>)> = g
        .compliance
        .violations
        .iter()
        .map(|v| {
            (
                v.policy.as_str(),
                v.domain.as_str(),
                v.product.as_str(),
                v.column.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            ("no-undeclared-pii", "crm", "leads", Some("contact")),
            ("owner-known", "crm", "leads", None),
        ]
    );
    let pii = &g.compliance.violations[0];
    assert_eq!(pii.file.as_deref(), Some(Path::new("crm/leads/leads.odcs.yaml")));
    assert_eq!(pii.line, Some(14));
    assert_eq!(pii.field.as_deref(), Some("schema[0].properties[1].classification"));
    assert!(
        pii.message.contains("email: 100 % of 3 sampled values"),
        "{}",
        pii.message
    );
    assert!(g.compliance.is_quarantined("crm/leads"));
    assert!(g.compliance.is_compliant("crm/customers"));
    assert!(!s.passes() && c.is_healthy());
    // The PII scan reports what it saw without values.
    let leads = c.product("crm", "leads").unwrap();
    assert_eq!(leads.tables[0].pii.len(), 1);
    assert_eq!(leads.tables[0].pii[0].detector, "email");
    let customers = c.product("crm", "customers").unwrap();
    let detectors: Vec<(&str, &str)> = customers.tables[0]
        .pii
        .iter()
        .map(|f| (f.column.as_str(), f.detector))
        .collect();
    assert_eq!(
        detectors,
        [("email", "email"), ("iban", "iban"), ("birth_date", "date_of_birth")]
    );
}

#[test]
fn a_domain_policy_adds_but_cannot_replace_a_global_one_and_broken_policies_are_diagnosed() {
    let dir = copy_fixture("governed");
    // A domain policy reusing a global id is refused; a broken rule names its file, line and field.
    write(
        dir.path(),
        "sales/policies/override.yaml",
        "policies:\n  - id: no-undeclared-pii\n    rule: {builtin: naming}\n  - id: typo\n    rule: {builtin: classifed_columns}\n",
    );
    let s = load(dir.path());
    let diags: Vec<(String, Option<usize>, Option<&str>, &str)> = s
        .governance
        .policies
        .diagnostics
        .iter()
        .map(|d| {
            (
                d.file.as_ref().unwrap().display().to_string(),
                d.line,
                d.field.as_deref(),
                d.code,
            )
        })
        .collect();
    assert_eq!(
        diags,
        [
            (
                "sales/policies/override.yaml".to_string(),
                Some(2),
                Some("policies[0].id"),
                "policy-override"
            ),
            (
                "sales/policies/override.yaml".to_string(),
                Some(5),
                Some("policies[1].rule.builtin"),
                "unknown-value"
            ),
        ]
    );
    // The global policy still applies; the valid domain policy too.
    assert_eq!(s.governance.policies.policies.len(), 4);
    assert!(s.governance.compliance.is_quarantined("crm/leads"));
    assert!(s.catalog.diagnostics.iter().any(|d| d.code == "policy-override"));
}

#[test]
fn a_sql_policy_that_fails_is_a_diagnostic_not_a_crash() {
    let dir = copy_fixture("governed");
    write(
        dir.path(),
        "policies/broken.yaml",
        "id: broken\nrule:\n  sql: SELECT domain, product FROM mesh.no_such_table\n",
    );
    // The escape aims at a fresh folder outside the mesh, which must stay empty.
    let outside = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "policies/sneaky.yaml",
        &format!(
            "id: sneaky\nrule:\n  sql: \"COPY (SELECT 1) TO '{}/escape.csv'\"\n",
            outside.path().display()
        ),
    );
    let s = load(dir.path());
    let msgs: Vec<&str> = s
        .governance
        .compliance
        .diagnostics
        .iter()
        .map(|d| d.message.as_str())
        .collect();
    assert_eq!(msgs.len(), 2, "{msgs:?}");
    assert!(
        msgs[0].contains("policy `broken`") && msgs[0].contains("no_such_table"),
        "{msgs:?}"
    );
    assert!(
        msgs[1].contains("policy `sneaky`") && msgs[1].contains("read-only SELECT"),
        "{msgs:?}"
    );
    let written: Vec<_> = std::fs::read_dir(outside.path()).unwrap().collect();
    assert!(written.is_empty(), "{written:?}");
    assert!(!s.passes());
}

#[test]
fn flag_instead_of_quarantine_keeps_non_compliant_products_readable() {
    let dir = copy_fixture("governed");
    let mesh = std::fs::read_to_string(dir.path().join("mesh.yaml")).unwrap();
    write(
        dir.path(),
        "mesh.yaml",
        &mesh.replace("non_compliant: quarantine", "non_compliant: flag"),
    );
    let s = load(dir.path());
    assert!(!s.governance.compliance.is_compliant("crm/leads"));
    assert!(!s.governance.compliance.is_quarantined("crm/leads"));
    let viewer = s.governance.access.role("viewer").unwrap();
    let leads = s.catalog.product("crm", "leads").unwrap();
    assert!(s.decide(viewer, leads).granted);
}

fn rows(v: &Value) -> &Value {
    &v["rows"]
}

#[tokio::test]
async fn each_role_sees_its_own_masking_in_the_console() {
    let g = serve_governed(&fixture("governed"));
    let sql = "SELECT id, name, email, iban, birth_date, segment, country FROM crm.customers ORDER BY id LIMIT 1";
    let raw = json!([[
        1,
        "Ada Lovelace",
        "ada@example.com",
        "DE89370400440532013000",
        "1815-12-10",
        "enterprise",
        "GB"
    ]]);
    let (s, admin) = query_as(&g.app, "admin", sql).await;
    assert_eq!(s, StatusCode::OK, "{admin}");
    assert_eq!(rows(&admin), &raw);
    for role in ["steward", "crm_team"] {
        let (_, v) = query_as(&g.app, role, sql).await;
        assert_eq!(rows(&v), &raw, "{role}");
    }
    let (_, viewer) = query_as(&g.app, "viewer", sql).await;
    let r = &rows(&viewer)[0];
    // pii → partial, restricted → hash, confidential → redact, internal → null, public → clear.
    assert_eq!(r[1], "A•••");
    let hash = r[2].as_str().unwrap();
    assert!(
        hash.len() == 16 && hash.chars().all(|c| c.is_ascii_hexdigit()),
        "{hash}"
    );
    assert_eq!(r[3], "•••");
    assert_eq!(r[4].as_str().unwrap().len(), 16, "a hashed date is text");
    assert_eq!(r[5], Value::Null);
    assert_eq!(r[6], "GB");
    let (_, analyst) = query_as(&g.app, "analyst", sql).await;
    let a = &rows(&analyst)[0];
    assert_eq!(a[5], "enterprise", "analysts see internal columns");
    assert_eq!(a[2], r[2], "the hash is stable across roles");
    // Hashes join: orders.customer_email and customers.email are both restricted.
    let join = "SELECT count(*) FROM sales.orders o JOIN crm.customers c ON o.customer_email = c.email";
    let (_, v) = query_as(&g.app, "analyst", join).await;
    assert_eq!(rows(&v), &json!([[3]]));
    let (_, v) = query_as(&g.app, "admin", join).await;
    assert_eq!(rows(&v), &json!([[3]]));
}

#[tokio::test]
async fn roles_read_only_the_products_they_are_granted() {
    let g = serve_governed(&fixture("governed"));
    let cases = [
        // (role, table, readable)
        ("viewer", "crm.customers", true),
        ("viewer", "sales.orders", false),
        ("viewer", "hr.salaries", false),
        ("viewer", "crm.leads", false),
        ("analyst", "sales.orders", true),
        ("analyst", "hr.salaries", false),
        ("steward", "hr.salaries", true),
        ("steward", "crm.leads", false),
        ("crm_team", "crm.leads", true),
        ("crm_team", "hr.salaries", false),
        ("admin", "crm.leads", true),
        ("admin", "hr.salaries", true),
    ];
    for (role, table, readable) in cases {
        let (s, v) = query_as(&g.app, role, &format!("SELECT count(*) AS n FROM {table}")).await;
        if readable {
            assert_eq!(s, StatusCode::OK, "{role} {table}: {v}");
            assert!(rows(&v)[0][0].as_i64().unwrap() > 0);
        } else {
            assert_eq!(s, StatusCode::BAD_REQUEST, "{role} {table}: {v}");
            assert_eq!(v["kind"], "sql", "{v}");
            assert!(v["error"].as_str().unwrap().contains("does not exist"), "{v}");
        }
    }
    // The product API says why, and shows no data to a role that may not read it.
    let (s, v) = json_as(&g.app, "viewer", "/api/products/hr/salaries").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["access"]["granted"], false);
    assert_eq!(v["access"]["reason"], "the contract grants access to steward only");
    assert_eq!(v["table_details"][0]["sample"]["rows"], json!([]));
    assert_eq!(v["table_details"][0]["profile"], json!([]));
    assert!(!v.to_string().contains("98765"));
    let (s, v) = json_as(&g.app, "viewer", "/api/products/crm/leads").await;
    assert_eq!(s, StatusCode::OK);
    assert!(v["access"]["reason"].as_str().unwrap().starts_with("quarantined"));
    assert_eq!(v["quarantined"], true);
    assert_eq!(v["violations"].as_array().unwrap().len(), 2);
    let (s, _) = get_as(&g.app, "viewer", "/api/products/hr/salaries/tables/salaries.csv").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, body) = get_as(&g.app, "steward", "/api/products/hr/salaries/tables/salaries.csv").await;
    assert_eq!(s, StatusCode::OK);
    assert!(body.contains("98765"));
}

#[tokio::test]
async fn samples_and_profiles_are_masked_for_the_role_that_asks() {
    let g = serve_governed(&fixture("governed"));
    let (_, v) = json_as(&g.app, "viewer", "/api/products/crm/customers").await;
    let t = &v["table_details"][0];
    assert_eq!(t["sample"]["rows"][0][1], "A•••");
    assert_eq!(t["sample"]["rows"][0][3], "•••");
    let (_, q) = query_as(&g.app, "viewer", "SELECT email FROM crm.customers WHERE id = 1").await;
    assert_eq!(
        t["sample"]["rows"][0][2],
        rows(&q)[0][0],
        "the page hashes like the console"
    );
    let email_profile = t["profile"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "email")
        .unwrap();
    assert_eq!(email_profile["masked"], true);
    assert_eq!(email_profile["top"], json!([]));
    let columns = t["columns"].as_array().unwrap();
    let email = columns.iter().find(|c| c["name"] == "email").unwrap();
    assert_eq!(email["masked"], "hash");
    assert_eq!(email["pii"]["detector"], "email");
    let (_, v) = json_as(&g.app, "admin", "/api/products/crm/customers").await;
    assert_eq!(v["table_details"][0]["sample"]["rows"][0][1], "Ada Lovelace");
    // The HTML page too.
    let (_, html) = get_as(&g.app, "viewer", "/products/crm/customers").await;
    assert!(html.contains("A•••") && !html.contains("Ada Lovelace"));
    assert!(html.contains("masked: hash"));
}

#[tokio::test]
async fn the_role_comes_from_the_header_the_cookie_or_the_default() {
    let g = serve_governed(&fixture("governed"));
    let (s, v) = get_json(&g.app, "/api/roles").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["current"], "viewer", "the least privileged role is the default");
    assert_eq!(v["authenticated"], false);
    let (s, v) = json_as(&g.app, "nobody", "/api/mesh").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(v["kind"], "unknown_role");
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .contains("viewer, analyst, crm_team, steward, admin")
    );
    // The switcher: a same-origin form post sets the cookie and goes back to the page.
    let req = Request::post("/role")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "same-origin")
        .body(Body::from("role=analyst&back=%2Fproducts%2Fcrm%2Fcustomers"))
        .unwrap();
    let (s, headers, _) = send(&g.app, req).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(headers["location"], "/products/crm/customers");
    let cookie = headers["set-cookie"].to_str().unwrap();
    assert!(
        cookie.starts_with("meshbox_role=analyst;") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
    let req = Request::get("/api/roles")
        .header("cookie", "theme=dark; meshbox_role=analyst")
        .body(Body::empty())
        .unwrap();
    let (_, _, b) = send(&g.app, req).await;
    assert_eq!(serde_json::from_slice::<Value>(&b).unwrap()["current"], "analyst");
    // Open redirects and cross-site switches are refused.
    let req = Request::post("/role")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "same-origin")
        .body(Body::from("role=admin&back=%2F%2Fevil.example"))
        .unwrap();
    let (_, headers, _) = send(&g.app, req).await;
    assert_eq!(headers["location"], "/");
    let req = Request::post("/role")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "cross-site")
        .body(Body::from("role=admin"))
        .unwrap();
    let (s, _, _) = send(&g.app, req).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // Every page says roles are chosen, not authenticated.
    let (_, html) = get(&g.app, "/").await;
    assert!(html.contains("roles are chosen, not authenticated"));
    assert!(html.contains(r#"<option value="viewer" selected"#), "{html}");
}

#[tokio::test]
async fn the_metadata_tables_are_queryable_by_every_role() {
    let g = serve_governed(&fixture("governed"));
    // Each role's tables hold the products it may read: the viewer reads only crm/customers.
    let all = json!([
        ["crm", "customers", true, false, "public"],
        ["crm", "leads", false, true, "public"],
        ["hr", "salaries", true, false, "restricted"],
        ["sales", "orders", true, false, "internal"],
    ]);
    for (role, expected) in [("viewer", json!([all[0]])), ("admin", all.clone())] {
        let (s, v) = query_as(
            &g.app,
            role,
            "SELECT domain, product, compliant, quarantined, access_level FROM mesh.products ORDER BY 1, 2",
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(rows(&v), &expected, "{role}");
    }
    let pii_columns = "SELECT table_name, column_name, classification, pii_detector FROM mesh.columns \
         WHERE pii_detector IS NOT NULL ORDER BY 1, 2";
    let customers = json!([
        ["customers", "birth_date", "restricted", "date_of_birth"],
        ["customers", "email", "restricted", "email"],
        ["customers", "iban", "confidential", "iban"],
    ]);
    let (_, v) = query_as(&g.app, "viewer", pii_columns).await;
    assert_eq!(rows(&v), &customers);
    let (_, v) = query_as(&g.app, "admin", pii_columns).await;
    let mut everything = customers.as_array().unwrap().clone();
    everything.push(json!(["leads", "contact", null, "email"]));
    everything.push(json!(["orders", "customer_email", "restricted", "email"]));
    assert_eq!(rows(&v), &json!(everything));
    // Both violations are of crm/leads, which the viewer may not read.
    let policies = "SELECT policy_id, violations FROM mesh.policies ORDER BY 1";
    for (role, pii, owner) in [("viewer", 0, 0), ("admin", 1, 1)] {
        let (_, v) = query_as(&g.app, role, policies).await;
        assert_eq!(
            rows(&v),
            &json!([
                ["no-undeclared-pii", pii],
                ["owner-known", owner],
                ["sales-products-described", 0],
                ["snake-case", 0]
            ]),
            "{role}"
        );
    }
    let (_, v) = query_as(
        &g.app,
        "admin",
        "SELECT count(*) FROM mesh.checks WHERE status = 'pass'",
    )
    .await;
    assert_eq!(rows(&v), &json!([[36]]));
    let (_, v) = query_as(&g.app, "viewer", "SELECT DISTINCT product FROM mesh.checks").await;
    assert_eq!(rows(&v), &json!([["customers"]]));
    let (_, v) = query_as(&g.app, "viewer", "SELECT count(*) FROM mesh.lineage").await;
    assert_eq!(rows(&v), &json!([[0]]));
}

#[tokio::test]
async fn the_compliance_page_and_its_json_twin() {
    let g = serve_governed(&fixture("governed"));
    let (s, v) = get_json(&g.app, "/api/compliance").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!((v["products"].as_u64(), v["compliant"].as_u64()), (Some(4), Some(3)));
    assert_eq!((v["errors"].as_u64(), v["warnings"].as_u64()), (Some(1), Some(1)));
    let crm = v["domains"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["domain"] == "crm")
        .unwrap();
    assert_eq!(crm["percent"], 50.0);
    let leads = v["matrix"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["product"] == "leads")
        .unwrap();
    let ids: Vec<&str> = v["policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "snake-case",
            "no-undeclared-pii",
            "owner-known",
            "sales-products-described"
        ]
    );
    assert_eq!(leads["cells"], json!(["pass", "error", "warning", "n/a"]));
    let (s, html) = get(&g.app, "/compliance").await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("3</strong> of 4 products compliant"), "{html}");
    assert!(html.contains("crm/leads/leads.odcs.yaml:14"));
}

#[tokio::test]
async fn queries_are_audited_and_the_log_is_for_admins() {
    let g = serve_governed(&fixture("governed"));
    let _ = query_as(&g.app, "viewer", "SELECT count(*) FROM crm.customers").await;
    let _ = query_as(&g.app, "viewer", "SELECT * FROM hr.salaries").await;
    let _ = query_as(&g.app, "analyst", "DROP TABLE crm.customers").await;
    let (s, _) = get_as(&g.app, "viewer", "/api/audit").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = get_as(&g.app, "viewer", "/audit").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, v) = json_as(&g.app, "admin", "/api/audit").await;
    assert_eq!(s, StatusCode::OK);
    let entries: Vec<(&str, &str, u64)> = v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["role"].as_str().unwrap(),
                e["outcome"].as_str().unwrap(),
                e["rows"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        entries,
        [("analyst", "refused", 0), ("viewer", "sql", 0), ("viewer", "ok", 1)]
    );
    assert_eq!(
        v["entries"][2]["statement_hash"],
        meshbox::governance::audit::statement_hash("SELECT count(*) FROM crm.customers")
    );
    let file = std::fs::read_to_string(g.state.path().join("audit.jsonl")).unwrap();
    assert_eq!(file.lines().count(), 3);
    assert!(!file.contains("crm.customers"), "statement texts are not kept");
    let (s, html) = get_as(&g.app, "admin", "/audit").await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains(r#"<tr class="outcome-refused">"#), "{html}");
}

#[test]
fn a_domain_named_mesh_is_refused_because_the_metadata_schema_lives_there() {
    let dir = copy_fixture("governed");
    crate::common::copy_dir(&fixture("governed/sales"), &dir.path().join("mesh"));
    let s = load(dir.path());
    let p = s.catalog.product("mesh", "orders").unwrap();
    assert!(p.tables.is_empty());
    assert!(
        p.diagnostics.iter().any(|d| d.code == "reserved-name"),
        "{:?}",
        p.diagnostics
    );
}

#[tokio::test]
async fn changing_a_classification_changes_the_masking_after_a_rebuild() {
    let dir = copy_fixture("governed");
    let g = serve_governed(dir.path());
    let sql = "SELECT country FROM crm.customers ORDER BY id LIMIT 1";
    let (_, v) = query_as(&g.app, "viewer", sql).await;
    assert_eq!(rows(&v), &json!([["GB"]]));
    let contract = dir.path().join("crm/customers/customers.odcs.yaml");
    let text = std::fs::read_to_string(&contract).unwrap();
    std::fs::write(
        &contract,
        text.replace(
            "name: country\n        logicalType: string\n        classification: public",
            "name: country\n        logicalType: string\n        classification: confidential",
        ),
    )
    .unwrap();
    g.mesh.rebuild().unwrap();
    let (_, v) = query_as(&g.app, "viewer", sql).await;
    assert_eq!(rows(&v), &json!([["•••"]]));
    // Classifying the leads' contact makes them compliant: the quarantine lifts.
    let leads = dir.path().join("crm/leads/leads.odcs.yaml");
    let text = std::fs::read_to_string(&leads).unwrap();
    std::fs::write(
        &leads,
        text.replace(
            "name: contact\n        logicalType: string",
            "name: contact\n        logicalType: string\n        classification: pii",
        ),
    )
    .unwrap();
    g.mesh.rebuild().unwrap();
    let (s, v) = query_as(
        &g.app,
        "viewer",
        "SELECT contact FROM crm.leads ORDER BY lead_id LIMIT 1",
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(rows(&v), &json!([["•••@example.org"]]));
}

#[test]
fn validate_includes_policies_in_every_format() {
    let run = |format: &str| {
        let scratch = tempfile::tempdir().unwrap();
        std::process::Command::new(env!("CARGO_BIN_EXE_meshbox"))
            .args(["validate", fixture("governed").to_str().unwrap(), "--format", format])
            .env("MESHBOX_CACHE_DIR", scratch.path())
            .env_remove("RUST_LOG")
            .output()
            .unwrap()
    };
    let out = run("json");
    assert_eq!(out.status.code(), Some(1), "an error violation fails validate");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["result"], "failed");
    assert_eq!(v["compliance"]["non_compliant"], json!(["crm/leads"]));
    assert_eq!(v["compliance"]["violations"].as_array().unwrap().len(), 2);
    let text = String::from_utf8(run("text").stdout).unwrap();
    assert!(
        text.contains("FAIL crm/leads") && text.contains("quarantined"),
        "{text}"
    );
    assert!(
        text.contains("compliance: 3 of 4 products compliant; 1 policy errors, 1 warnings"),
        "{text}"
    );
    let gh = String::from_utf8(run("github").stdout).unwrap();
    assert!(
        gh.contains("::error file=")
            && gh.contains("leads.odcs.yaml,line=14,title=crm/leads%3A policy no-undeclared-pii"),
        "{gh}"
    );
    let junit = String::from_utf8(run("junit").stdout).unwrap();
    assert!(
        junit.contains(r#"<testsuite name="policies" tests="13" disabled="0" errors="0" failures="1""#),
        "{junit}"
    );
}

/// Every role's `mesh.*` tables as a query reads them, sorted: (role, table) → rows.
async fn metadata_of(app: &axum::Router, roles: &[&str]) -> Vec<((String, String), Value)> {
    let mut out = Vec::new();
    for role in roles {
        for table in [
            "products",
            "tables",
            "columns",
            "checks",
            "lineage",
            "domains",
            "violations",
        ] {
            let (status, v) = query_as(app, role, &format!("SELECT * FROM mesh.{table} ORDER BY ALL")).await;
            assert_eq!(status, StatusCode::OK, "{role} {table}: {v}");
            out.push(((role.to_string(), table.to_string()), v["rows"].clone()));
        }
    }
    out
}

/// After an edit, the metadata tables are brought up to date row by row (only the products the edit touched): what
/// every role reads must equal what a fresh start on the edited folder publishes in full.
#[tokio::test]
async fn metadata_updated_in_place_equals_a_fresh_build() {
    let dir = copy_fixture("references");
    let roles = ["viewer", "steward", "admin"];
    let live = crate::common::serve(dir.path());
    // A new order with a customer crm does not have: row counts, a check's measure and its status change.
    let orders = dir.path().join("sales/orders/data/orders.csv");
    let mut text = std::fs::read_to_string(&orders).unwrap();
    text.push_str("500,999,z@example.org,S1,S1,7\n");
    std::fs::write(&orders, text).unwrap();
    live.mesh.rebuild().unwrap();
    let fresh = crate::common::serve(dir.path());
    let edited = metadata_of(&live.app, &roles).await;
    let fresh_rows = metadata_of(&fresh.app, &roles).await;
    assert_eq!(edited, fresh_rows);
    let admin_checks = &edited
        .iter()
        .find(|((r, t), _)| r == "admin" && t == "checks")
        .unwrap()
        .1;
    assert!(
        admin_checks.to_string().contains("orders__customer_id__relationship"),
        "{admin_checks}"
    );
    // A product removed: its rows leave every table.
    std::fs::remove_dir_all(dir.path().join("ops/stores")).unwrap();
    live.mesh.rebuild().unwrap();
    let fresh = crate::common::serve(dir.path());
    let removed = metadata_of(&live.app, &roles).await;
    assert_eq!(removed, metadata_of(&fresh.app, &roles).await);
    assert!(!removed.iter().any(|(_, rows)| rows.to_string().contains("\"stores\"")));
}

/// An edited product's tables reach every role database before the full update works out each role's view of the
/// mesh (so an edit is visible sooner), already masked for the roles of that database; a role that may not read the
/// product gets nothing of it.
#[test]
fn an_edit_reaches_the_role_databases_first_masked_and_only_where_granted() {
    let dir = copy_fixture("governed");
    let g = serve_governed(dir.path());
    let root = std::fs::canonicalize(dir.path()).unwrap();
    let customers = root.join("crm/customers/data/customers.csv");
    let mut text = std::fs::read_to_string(&customers).unwrap();
    text.push_str("99,Zed Zero,zed@example.com,DE02120300000000202051,1990-01-01,smb,NL\n");
    std::fs::write(&customers, text).unwrap();
    let salaries = root.join("hr/salaries/data/salaries.csv");
    let first = std::fs::read_to_string(&salaries).unwrap();
    std::fs::write(
        &salaries,
        format!("{first}{}", first.lines().last().unwrap().to_string() + "\n"),
    )
    .unwrap();

    let scratch = tempfile::tempdir().unwrap();
    let serving = g.mesh.serving();
    let next = meshbox::live::snapshot::build(
        &root,
        &options(scratch.path()),
        Some(&g.mesh.snapshot()),
        Some(&serving),
    )
    .unwrap();
    let mut reloaded = next.reload.reloaded.clone();
    reloaded.sort();
    assert_eq!(reloaded, ["crm/customers", "hr/salaries"]);
    let profiles = g.mesh.profiles();
    let early = meshbox::governance::role_dbs::publish_reloaded_first(
        &profiles,
        &next.reload.reloaded,
        &next.catalog,
        &next.governance,
        &serving,
        g.mesh.salt(),
    );
    let viewer = early.for_role("viewer").unwrap().connect().unwrap();
    let (name, email, country): (String, String, String) = viewer
        .query_row(
            "SELECT name, email, country FROM crm.customers WHERE id = 99",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!((name.as_str(), country.as_str()), ("Z•••", "NL"));
    assert!(email.len() == 16 && email != "zed@example.com", "{email}");
    let hidden = viewer.query_row("SELECT count(*) FROM hr.salaries", [], |r| r.get::<_, i64>(0));
    assert!(hidden.is_err(), "the viewer may not read hr/salaries: {hidden:?}");
    // The steward reads both in the clear (its database or the unmasked one).
    let steward = early.for_role("steward").unwrap().connect().unwrap();
    let email: String = steward
        .query_row("SELECT email FROM crm.customers WHERE id = 99", [], |r| r.get(0))
        .unwrap();
    assert_eq!(email, "zed@example.com");
}
