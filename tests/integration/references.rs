//! ODCS relationships as referential-integrity checks across the mesh (`tests/fixtures/references`): exact orphan
//! counts and statuses for every form (property- and schema-level, composite, cross-domain, contract id, contract
//! file, fully qualified ids, unresolved) through `validate`, `test`, the product API and page, `mesh.checks`,
//! /problems and the lineage map; and how a rebuild keeps them current.

use crate::common::{copy_fixture, fixture, get, get_json, load, product, query_as, serve, write};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use meshbox::checks::{CheckResult, CheckStatus};
use serde_json::Value;
use std::process::Output;

const KIND: &str = "relationship_foreign_key";

/// (check key, status, orphan count) of every relationship of `sales/orders`, in contract order.
const EXPECTED: &[(&str, &str, Option<f64>)] = &[
    // Property level, shorthand, cross-domain (sales → crm): customers 11 and 12 (twice) do not exist; NULL is skipped.
    ("orders__customer_id__relationship", "fail", Some(3.0)),
    // Property level, another contract's file with a fully qualified path by ids.
    ("orders__ship_from__relationship", "pass", Some(0.0)),
    // Property level, a table no product of the mesh has.
    ("orders__supplier_id__relationship", "skipped", None),
    // Schema level `from`/`to`, the other contract named by its id.
    ("orders__store_code__relationship", "pass", Some(0.0)),
    // Fully qualified by ids inside the contract, severity warning: order 99 does not exist.
    ("order_lines__order_id__relationship", "warn", Some(1.0)),
    // Schema level composite key, cross-domain (sales → ops): (B, 2) and (D, 1); a NULL version is skipped.
    (
        "order_lines__product_sku_product_version__relationship",
        "fail",
        Some(2.0),
    ),
];

fn meshbox(args: &[&str]) -> Output {
    crate::common::meshbox_in(&std::env::current_dir().unwrap(), args)
}

fn relationship_checks(checks: &[CheckResult]) -> Vec<&CheckResult> {
    checks.iter().filter(|c| c.kind == KIND).collect()
}

#[test]
fn validate_reports_exact_orphan_counts_for_every_form() {
    let out = meshbox(&["validate", fixture("references").to_str().unwrap(), "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let orders = v["products"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["domain"] == "sales" && p["name"] == "orders")
        .expect("sales/orders");
    // Its fully qualified `to` (`urn:...#table.column`) is meshbox's reading, not ODCS v3.2.0's: the product is
    // invalid (a lint error), and every relationship is still tested.
    assert_eq!(orders["status"], "invalid");
    let found: Vec<(String, String, Option<f64>)> = orders["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["kind"] == KIND)
        .map(|c| {
            (
                c["key"].as_str().unwrap().to_string(),
                c["status"].as_str().unwrap().to_string(),
                c["measured"].as_f64(),
            )
        })
        .collect();
    let expected: Vec<(String, String, Option<f64>)> = EXPECTED
        .iter()
        .map(|(k, s, m)| (k.to_string(), s.to_string(), *m))
        .collect();
    assert_eq!(found, expected);
    // The providers of the referenced tables carry no relationship checks and stay healthy.
    for p in v["products"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["domain"] != "sales")
    {
        assert_eq!(p["status"], "passing", "{}", p["name"]);
        assert!(p["checks"].as_array().unwrap().iter().all(|c| c["kind"] != KIND));
    }
    let check = |key: &str| {
        orders["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["key"] == key)
            .unwrap()
            .clone()
    };
    let customer = check("orders__customer_id__relationship");
    assert_eq!(customer["name"], "orders.customer_id references customers.customer_id");
    assert_eq!(customer["row_count"], 8);
    assert_eq!(customer["origin"]["file"], "sales/orders/orders.odcs.yaml");
    assert_eq!(customer["origin"]["line"], 19);
    assert_eq!(customer["origin"]["field"], "schema[0].properties[1].relationships[0]");
    assert_eq!(customer["dimension"], "consistency");
    let sql = customer["sql"].as_str().unwrap();
    assert!(
        sql.contains("FROM sales.orders AS c ANTI JOIN crm.customers AS p"),
        "{sql}"
    );
    let unresolved = check("orders__supplier_id__relationship");
    let reason = unresolved["reason"].as_str().unwrap();
    assert!(
        reason.contains("suppliers.supplier_id") && reason.contains("no table `suppliers`"),
        "{reason}"
    );
    let composite = check("order_lines__product_sku_product_version__relationship");
    assert_eq!(composite["quality_id"], "line_product");
    assert_eq!(composite["origin"]["field"], "schema[1].relationships[0]");
    let warning = check("order_lines__order_id__relationship");
    assert_eq!(warning["severity"], "warning");
}

#[test]
fn failed_rows_are_child_rows_masked_by_the_child_classification() {
    let s = load(&fixture("references"));
    let orders = product(&s, "sales/orders");
    let customer = relationship_checks(&orders.checks)
        .into_iter()
        .find(|c| c.key == "orders__customer_id__relationship")
        .unwrap();
    let sample = customer.samples.as_ref().expect("failed rows");
    assert_eq!(
        sample.columns,
        [
            "order_id",
            "customer_id",
            "email",
            "store_code",
            "ship_from",
            "supplier_id"
        ],
        "the child's columns only"
    );
    let ids: Vec<&Value> = sample.rows.iter().map(|r| &r[1]).collect();
    assert_eq!(ids, [&Value::from(11), &Value::from(12), &Value::from(12)]);
    assert!(sample.rows.iter().all(|r| r[2] == "•••"), "email is restricted");
    let composite = relationship_checks(&orders.checks)
        .into_iter()
        .find(|c| c.column.is_none() && c.status == CheckStatus::Fail)
        .unwrap();
    let keys: Vec<(Value, Value)> = composite
        .samples
        .as_ref()
        .unwrap()
        .rows
        .iter()
        .map(|r| (r[2].clone(), r[3].clone()))
        .collect();
    assert_eq!(keys, [("B".into(), 2.into()), ("D".into(), 1.into())]);
}

#[test]
fn an_unresolved_reference_is_a_warning_on_the_contract_not_a_failure() {
    let s = load(&fixture("references"));
    let orders = product(&s, "sales/orders");
    let warnings: Vec<_> = orders
        .diagnostics
        .iter()
        .filter(|d| d.code == "unresolved-reference")
        .collect();
    assert_eq!(warnings.len(), 1, "{:?}", orders.diagnostics);
    let w = warnings[0];
    assert_eq!(w.severity, meshbox::base::diagnostics::Severity::Warning);
    assert_eq!(
        w.file.as_deref(),
        Some(std::path::Path::new("sales/orders/orders.odcs.yaml"))
    );
    assert_eq!(w.line, Some(33));
    assert_eq!(w.field.as_deref(), Some("schema[0].properties[5].relationships[0].to"));
    assert!(w.message.contains("suppliers.supplier_id"), "{}", w.message);
    // Skipped, so it counts neither as failed nor as a warning check.
    let skipped = relationship_checks(&orders.checks)
        .into_iter()
        .filter(|c| c.status == CheckStatus::Skipped)
        .count();
    assert_eq!(skipped, 1);
}

#[test]
fn test_runs_the_relationships_inside_one_contract_and_skips_the_rest() {
    let contract = fixture("references/sales/orders/orders.odcs.yaml");
    let out = meshbox(&["test", contract.to_str().unwrap(), "--format", "json"]);
    // One warning (order 99) and skipped references would exit 0, but the fully qualified `to` breaks ODCS v3.2.0:
    // a failed lint check, exit 1 (as datacontract-cli).
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stdout));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let found: Vec<(String, String, Option<f64>)> = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["kind"] == KIND)
        .map(|c| {
            (
                c["key"].as_str().unwrap().to_string(),
                c["status"].as_str().unwrap().to_string(),
                c["measured"].as_f64(),
            )
        })
        .collect();
    let want = |k: &str, s: &str, m: Option<f64>| (k.to_string(), s.to_string(), m);
    assert_eq!(
        found,
        [
            want("orders__customer_id__relationship", "skipped", None),
            want("orders__ship_from__relationship", "skipped", None),
            want("orders__supplier_id__relationship", "skipped", None),
            want("orders__store_code__relationship", "skipped", None),
            want("order_lines__order_id__relationship", "warn", Some(1.0)),
            want(
                "order_lines__product_sku_product_version__relationship",
                "skipped",
                None
            ),
        ]
    );
    let reasons: Vec<&str> = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["kind"] == KIND && c["status"] == "skipped")
        .map(|c| c["reason"].as_str().unwrap())
        .collect();
    assert!(
        reasons.iter().all(|r| r.contains("unresolved reference")),
        "{reasons:?}"
    );
    assert!(reasons[3].contains("urn:fx:ops:stores"), "{reasons:?}");
}

#[tokio::test]
async fn the_product_api_page_and_mesh_checks_show_them() {
    let s = serve(&fixture("references"));
    let req = Request::get("/api/products/sales/orders")
        .header("x-meshbox-role", "admin")
        .body(Body::empty())
        .unwrap();
    let (status, _, body) = crate::common::send(&s.app, req).await;
    assert_eq!(status, StatusCode::OK);
    let v: Value = serde_json::from_slice(&body).unwrap();
    let rows: Vec<&Value> = v["check_results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["kind"] == KIND)
        .collect();
    assert_eq!(rows.len(), EXPECTED.len());
    for (row, (key, status, measured)) in rows.iter().zip(EXPECTED) {
        assert_eq!(row["key"], *key);
        assert_eq!(row["status"], *status);
        assert_eq!(row["measured"].as_f64(), *measured, "{key}");
    }
    assert_eq!(v["status"], "invalid");

    let (status, html) = get(&s.app, "/products/sales/orders").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("orders.customer_id references customers.customer_id"),
        "{html}"
    );
    assert!(html.contains("order_lines.(product_sku, product_version) references products.(sku, version)"));

    let (status, v) = query_as(
        &s.app,
        "admin",
        "SELECT check_key, status, measured FROM mesh.checks WHERE check_kind = 'relationship_foreign_key' \
         ORDER BY check_key",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let rows: Vec<(String, String, Option<f64>)> = v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r[0].as_str().unwrap().into(),
                r[1].as_str().unwrap().into(),
                r[2].as_f64(),
            )
        })
        .collect();
    let mut expected: Vec<(String, String, Option<f64>)> = EXPECTED
        .iter()
        .map(|(k, s, m)| (k.to_string(), s.to_string(), *m))
        .collect();
    expected.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(rows, expected);

    let (status, problems) = get_json(&s.app, "/api/problems").await;
    assert_eq!(status, StatusCode::OK);
    let text = problems.to_string();
    assert!(
        text.contains("suppliers.supplier_id") && text.contains("orders.odcs.yaml:33"),
        "{text}"
    );
}

/// `viewer` reads `sales/orders` but not `crm/customers` (restricted): the orphan count of `orders.customer_id`
/// would tell it which customer ids crm lacks, so it sees the verdict without the count or the rows; the references
/// into `ops` (public) it sees in full.
#[tokio::test]
async fn a_role_that_cannot_read_the_referenced_product_sees_no_orphans() {
    let s = serve(&fixture("references"));
    let req = Request::get("/api/products/sales/orders")
        .header("x-meshbox-role", "viewer")
        .body(Body::empty())
        .unwrap();
    let (status, _, body) = crate::common::send(&s.app, req).await;
    assert_eq!(status, StatusCode::OK);
    let v: Value = serde_json::from_slice(&body).unwrap();
    let by_key = |key: &str| {
        v["check_results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["key"] == key)
            .cloned()
            .unwrap()
    };
    let crm = by_key("orders__customer_id__relationship");
    assert_eq!(crm["status"], "fail");
    assert!(crm["measured"].is_null() && crm["samples"].is_null(), "{crm}");
    assert!(!crm["reason"].as_str().unwrap().contains('3'), "{crm}");
    let ops = by_key("order_lines__product_sku_product_version__relationship");
    assert_eq!(
        (ops["status"].as_str(), ops["measured"].as_f64()),
        (Some("fail"), Some(2.0))
    );
    assert!(ops["samples"].is_object(), "{ops}");

    let (status, v) = query_as(
        &s.app,
        "viewer",
        "SELECT check_key, measured FROM mesh.checks WHERE check_kind = 'relationship_foreign_key' \
         AND status = 'fail' ORDER BY check_key",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(
        v["rows"],
        serde_json::json!([
            ["order_lines__product_sku_product_version__relationship", 2.0],
            ["orders__customer_id__relationship", null]
        ])
    );
}

#[tokio::test]
async fn the_lineage_map_draws_dotted_references_edges() {
    let s = serve(&fixture("references"));
    let (status, v) = get_json(&s.app, "/api/lineage").await;
    assert_eq!(status, StatusCode::OK);
    let key = |i: &Value| {
        v["nodes"][i.as_u64().unwrap() as usize]["key"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let mut pairs: Vec<(String, String)> = v["references"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (key(&r["from"]), key(&r["to"])))
        .collect();
    pairs.sort();
    assert_eq!(
        pairs,
        [
            ("sales/orders".to_string(), "crm/customers".to_string()),
            ("sales/orders".to_string(), "ops/catalog".to_string()),
            ("sales/orders".to_string(), "ops/stores".to_string()),
        ]
    );
    // No input ports: references are no data flow.
    assert_eq!(v["edges"], serde_json::json!([]));
    let (status, html) = get(&s.app, "/lineage").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(html.matches(r#"<path class="reference""#).count(), 3, "{html}");
    assert!(html.contains(r#"stroke-dasharray="2 4""#));
    assert!(
        html.contains("references (ODCS relationship, foreign key)"),
        "the legend"
    );
    assert!(!html.contains(r#"<path class="edge"#));
}

#[test]
fn a_rebuild_keeps_the_checks_current_when_only_the_referenced_product_changes() {
    let dir = copy_fixture("references");
    let s = serve(dir.path());
    let before = s.mesh.snapshot();
    let orders_generation = product(&before, "sales/orders").loaded_generation;
    // The missing customers arrive: orders is not reloaded, its relationship check is measured again.
    write(
        dir.path(),
        "crm/customers/data/customers.csv",
        "customer_id,name\n1,Ada\n2,Ben\n3,Cleo\n4,Dan\n5,Eve\n6,Finn\n7,Gus\n8,Hana\n9,Ivo\n10,Jo\n11,Kim\n12,Lu\n",
    );
    let after = s.mesh.rebuild().unwrap();
    let orders = product(&after, "sales/orders");
    assert_eq!(orders.loaded_generation, orders_generation, "orders itself was reused");
    let customer = |p: &meshbox::model::catalog::Product| {
        p.checks
            .iter()
            .find(|c| c.key == "orders__customer_id__relationship")
            .cloned()
            .unwrap()
    };
    assert_eq!(customer(orders).status, CheckStatus::Pass);
    assert_eq!(customer(orders).measured, Some(0.0));
    // The referenced product disappears: unresolved, one warning (not two).
    std::fs::remove_dir_all(dir.path().join("crm")).unwrap();
    let gone = s.mesh.rebuild().unwrap();
    let orders = product(&gone, "sales/orders");
    assert_eq!(customer(orders).status, CheckStatus::Skipped);
    let warnings = orders
        .diagnostics
        .iter()
        .filter(|d| d.code == "unresolved-reference")
        .count();
    assert_eq!(warnings, 2, "suppliers and customers");
    assert_eq!(relationship_checks(&orders.checks).len(), EXPECTED.len());
    // Nothing changes: the same results, nothing measured again.
    let again = s.mesh.rebuild().unwrap();
    let same: Vec<(String, CheckStatus)> = relationship_checks(&product(&again, "sales/orders").checks)
        .iter()
        .map(|c| (c.key.clone(), c.status))
        .collect();
    let was: Vec<(String, CheckStatus)> = relationship_checks(&orders.checks)
        .iter()
        .map(|c| (c.key.clone(), c.status))
        .collect();
    assert_eq!(same, was);
}

#[test]
fn the_sample_mesh_relationships_resolve_and_pass() {
    let s = load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-mesh"));
    for key in ["sales/orders", "customers/consents"] {
        let p = product(&s, key);
        let checks = relationship_checks(&p.checks);
        assert_eq!(checks.len(), 1, "{key}");
        assert_eq!(checks[0].status, CheckStatus::Pass, "{key}: {:?}", checks[0].reason);
        assert!(
            checks[0]
                .sql
                .as_deref()
                .unwrap()
                .contains("customers.customer_profiles")
        );
    }
    let l = &s.lineage;
    let referenced: Vec<(String, String)> = l
        .references
        .iter()
        .map(|r| (l.nodes[r.from].key.clone(), l.nodes[r.to].key.clone()))
        .collect();
    assert!(referenced.contains(&("sales/orders".into(), "customers/customer-profiles".into())));
    assert!(referenced.contains(&("customers/consents".into(), "customers/customer-profiles".into())));
}
