//! Discovery: search relevance (names over descriptions, prefixes, typos), facets, snippets and incremental index
//! updates; lineage edges, cycles, SVG drawings, impact analysis and usage — on the sample mesh and fixtures.

use crate::common::{copy_fixture, fixture, get, get_json, load, query_as, serve, write};
use axum::http::StatusCode;
use meshbox::discovery::search::SearchIndex;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-mesh")
}

fn first_hits(index: &SearchIndex, q: &str, n: usize) -> Vec<String> {
    index
        .search(q, &[], n, &|_| 0)
        .unwrap()
        .hits
        .into_iter()
        .map(|h| h.key)
        .collect()
}

#[test]
fn search_relevance_on_the_sample_mesh() {
    let s = load(&sample());
    let index = SearchIndex::new().unwrap();
    assert_eq!(index.update(&s.catalog, &s.governance.compliance).unwrap(), 12);
    // (query, the product that must rank first)
    let cases = [
        ("orders", "sales/orders"),
        ("order lines", "sales/order-lines"),
        ("shipments", "logistics/shipments"),
        ("shipmnts", "logistics/shipments"),
        ("custmer profiles", "customers/customer-profiles"),
        ("customer prof", "customers/customer-profiles"),
        ("campains", "marketing/campaigns"),
        ("camp", "marketing/campaigns"),
        ("stock", "catalog/stock-levels"),
        ("revenue", "finance/revenue-daily"),
        ("carrier", "logistics/carrier-rates"),
        ("consent", "customers/consents"),
        ("web sessions", "marketing/web-sessions"),
        ("sesions", "marketing/web-sessions"),
        ("customer value", "finance/customer-value"),
    ];
    let mut wrong = Vec::new();
    for (q, expected) in cases {
        let got = first_hits(&index, q, 3);
        if got.first().map(String::as_str) != Some(expected) {
            wrong.push(format!("{q:?}: expected {expected} first, got {got:?}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // A product named after the word ranks above products that only mention it in column descriptions.
    let orders = first_hits(&index, "orders", 12);
    assert_eq!(orders[0], "sales/orders");
    assert!(orders.len() > 1, "other products mention orders too: {orders:?}");
    // Nonsense matches nothing.
    assert!(first_hits(&index, "zzzqqq", 5).is_empty());
}

#[test]
fn facets_filters_and_snippets() {
    let s = load(&sample());
    let index = SearchIndex::new().unwrap();
    index.update(&s.catalog, &s.governance.compliance).unwrap();
    let r = index.search("", &[], 50, &|_| 0).unwrap();
    assert_eq!(r.total, 12);
    let domains: Vec<(String, usize)> = r.facets["domain"].clone();
    assert_eq!(domains.iter().map(|d| d.1).sum::<usize>(), 12);
    assert!(domains.contains(&("sales".to_string(), 2)), "{domains:?}");
    let filter = [meshbox::discovery::search::Filter {
        facet: "domain".into(),
        value: "sales".into(),
    }];
    let r = index.search("", &filter, 50, &|_| 0).unwrap();
    let keys: Vec<&str> = r.hits.iter().map(|h| h.key.as_str()).collect();
    assert_eq!(keys, ["sales/order-lines", "sales/orders"]);
    let r = index.search("email", &[], 5, &|_| 0).unwrap();
    let why = &r.hits[0].matched;
    assert!(
        why.iter()
            .any(|m| m.field == "column" && m.html.contains("<mark>email</mark>")),
        "{why:?}"
    );
    // The compliance facet: web-sessions is quarantined by the sample policies.
    let q = [meshbox::discovery::search::Filter {
        facet: "compliance".into(),
        value: "quarantined".into(),
    }];
    let r = index.search("", &q, 50, &|_| 0).unwrap();
    assert_eq!(
        r.hits.iter().map(|h| h.key.as_str()).collect::<Vec<_>>(),
        ["marketing/web-sessions"]
    );
    // Usage lifts a product among otherwise equal matches.
    let plain = first_hits(&index, "sales", 2);
    let lifted = index
        .search("sales", &[], 2, &|k| if k == plain[1] { 500 } else { 0 })
        .unwrap();
    assert_eq!(lifted.hits[0].key, plain[1], "{plain:?}");
}

#[test]
fn the_index_is_updated_incrementally() {
    let dir = copy_fixture("basic");
    let s = load(dir.path());
    let index = SearchIndex::new().unwrap();
    let all = index.update(&s.catalog, &s.governance.compliance).unwrap();
    assert_eq!(all, s.catalog.products.len());
    assert_eq!(
        index.update(&s.catalog, &s.governance.compliance).unwrap(),
        0,
        "nothing changed, nothing rewritten"
    );
    assert!(first_hits(&index, "zebrafish", 5).is_empty());
    let contract = dir.path().join("people/customers/customers.odcs.yaml");
    let text = std::fs::read_to_string(&contract).unwrap();
    std::fs::write(&contract, text.replacen("schema:", "tags: [zebrafish]\nschema:", 1)).unwrap();
    let s2 = load(dir.path());
    assert_eq!(
        index.update(&s2.catalog, &s2.governance.compliance).unwrap(),
        1,
        "one product rewritten"
    );
    assert_eq!(first_hits(&index, "zebrafish", 5), ["people/customers"]);
    std::fs::remove_dir_all(dir.path().join("people/customers")).unwrap();
    let s3 = load(dir.path());
    index.update(&s3.catalog, &s3.governance.compliance).unwrap();
    assert!(
        first_hits(&index, "zebrafish", 5).is_empty(),
        "a removed product leaves the index"
    );
}

#[tokio::test]
async fn the_search_page_and_api() {
    let s = serve(&sample());
    let (status, v) = get_json(&s.app, "/api/search?q=custmer&limit=3").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["hits"][0]["key"], "customers/customer-profiles");
    assert!(v["facets"]["domain"].is_array());
    let (status, v) = get_json(&s.app, "/api/search?q=&domain=finance").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["total"], 2);
    let (status, html) = get(&s.app, "/search?q=shipm").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("<mark>shipments</mark>") || html.contains("<mark>Shipments</mark>"),
        "{html}"
    );
    assert!(html.contains(r#"href="/products/logistics/shipments""#));
    // Markup in the query is never reflected unescaped.
    let (_, html) = get(&s.app, "/search?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E").await;
    assert!(!html.contains("<script>alert"));
    // Every page has the search box.
    let (_, html) = get(&s.app, "/problems").await;
    assert!(html.contains(r#"action="/search""#));
}

fn edges(l: &meshbox::discovery::lineage::Lineage) -> Vec<(String, String)> {
    let mut e: Vec<(String, String)> = l
        .edges
        .iter()
        .map(|e| (l.nodes[e.from].key.clone(), l.nodes[e.to].key.clone()))
        .collect();
    e.sort();
    e
}

#[test]
fn lineage_edges_of_the_sample_mesh() {
    let s = load(&sample());
    let l = &s.lineage;
    let e = edges(l);
    for expected in [
        ("catalog/products", "catalog/stock-levels"),
        ("customers/customer-profiles", "sales/orders"),
        ("sales/orders", "sales/order-lines"),
        ("sales/orders", "finance/revenue-daily"),
        ("sales/orders", "finance/customer-value"),
        ("sales/orders", "logistics/shipments"),
        ("marketing/campaigns", "marketing/web-sessions"),
    ] {
        assert!(
            e.contains(&(expected.0.to_string(), expected.1.to_string())),
            "{expected:?} missing from {e:?}"
        );
    }
    assert!(l.cycles.is_empty());
    let svg = l.svg(None);
    assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
    assert_eq!(svg.matches(r#"class="node "#).count(), l.nodes.len());
    assert_eq!(svg.matches("<path class=\"edge").count(), e.len());
}

#[test]
fn cycles_and_missing_providers_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let product = |domain: &str, name: &str, consumes: &[&str]| {
        let inputs: String = consumes
            .iter()
            .map(|c| format!("  - name: {c}\n    version: 1.0.0\n    contractId: {c}\n"))
            .collect();
        write(
            dir.path(),
            &format!("{domain}/{name}/{name}.odps.yaml"),
            &format!(
                "apiVersion: v1.0.0\nkind: DataProduct\nid: {name}\nname: {name}\nstatus: active\ninputPorts:\n{inputs}outputPorts:\n  - name: out\n    version: 1.0.0\n    contractId: c-{name}\n"
            ),
        );
        write(
            dir.path(),
            &format!("{domain}/{name}/{name}.odcs.yaml"),
            &format!(
                "apiVersion: v3.1.0\nkind: DataContract\nid: c-{name}\nversion: 1.0.0\nstatus: active\nschema: []\n"
            ),
        );
    };
    product("d", "a", &["c-b"]);
    product("d", "b", &["c-a"]);
    product("d", "c", &["c-a", "c-unknown"]);
    let s = load(dir.path());
    let l = &s.lineage;
    assert_eq!(l.cycles, [vec!["d/a".to_string(), "d/b".to_string()]]);
    let d = s
        .catalog
        .diagnostics
        .iter()
        .find(|d| d.code == "lineage-cycle")
        .expect("a cycle diagnostic");
    assert!(d.message.contains("d/a, d/b"), "{}", d.message);
    assert_eq!(
        edges(l),
        [
            ("d/a".to_string(), "d/b".to_string()),
            ("d/a".to_string(), "d/c".to_string()),
            ("d/b".to_string(), "d/a".to_string()),
            ("external:c-unknown".to_string(), "d/c".to_string()),
        ]
    );
    let svg = l.svg(Some("d/a"));
    assert!(
        svg.contains("not in this mesh") && svg.contains(r#"class="edge cycle""#),
        "{svg}"
    );
    // Impact of a: b and c downstream (and nothing loops forever).
    let a = l.index_of("d/a").unwrap();
    let keys: Vec<(String, usize)> = l.impact(a, None).into_iter().map(|i| (i.key, i.depth)).collect();
    assert_eq!(keys, [("d/b".to_string(), 1), ("d/c".to_string(), 1)]);
}

#[test]
fn every_fixture_draws() {
    for name in ["basic", "checks", "foreign", "governed"] {
        let s = load(&fixture(name));
        let svg = s.lineage.svg(None);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"), "{name}");
        assert_eq!(
            svg.matches("<rect").count(),
            s.lineage.nodes.len(),
            "{name}: one box per node"
        );
    }
}

#[tokio::test]
async fn impact_usage_and_the_product_page() {
    let s = serve(&sample());
    let (status, v) = get_json(&s.app, "/api/products/customers/customer-profiles/impact").await;
    assert_eq!(status, StatusCode::OK);
    let impacted: Vec<(&str, u64)> = v["impacted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["key"].as_str().unwrap(), i["depth"].as_u64().unwrap()))
        .collect();
    assert!(impacted.contains(&("sales/orders", 1)), "{impacted:?}");
    assert!(
        impacted.windows(2).all(|w| w[0].1 <= w[1].1),
        "nearest first: {impacted:?}"
    );
    assert!(impacted.contains(&("finance/revenue-daily", 2)), "{impacted:?}");
    assert!(v["owners"].as_array().unwrap().len() >= 2, "{v}");
    let (status, v) = get_json(
        &s.app,
        "/api/products/customers/customer-profiles/impact?column=customer_profiles.email",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let direct: Vec<&str> = v["impacted"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["depth"] == 1)
        .map(|i| i["key"].as_str().unwrap())
        .collect();
    assert!(direct.contains(&"sales/orders"), "{v}");
    let (status, _) = get_json(&s.app, "/api/products/customers/customer-profiles/impact?column=nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Usage: queries naming a product's tables count for it, per role.
    for role in ["admin", "admin", "viewer"] {
        let (st, v) = query_as(&s.app, role, "SELECT count(*) FROM sales.orders").await;
        assert_eq!(st, StatusCode::OK, "{v}");
    }
    let (_, v) = query_as(&s.app, "admin", "SELECT 1").await;
    assert_eq!(v["rows"], json!([[1]]));
    let (_, p) = get_json(&s.app, "/api/products/sales/orders").await;
    assert_eq!(p["usage"]["total"], 3);
    assert_eq!(p["usage"]["roles"], json!([["admin", 2], ["viewer", 1]]));
    assert!(p["impact"].as_array().unwrap().len() >= 4);
    let (status, html) = get(&s.app, "/products/sales/orders").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"<svg xmlns="http://www.w3.org/2000/svg" class="lineage""#));
    assert!(html.contains("3 queries in 30 days"), "usage on the page");
    let (status, html) = get(&s.app, "/lineage").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(html.matches(r#"class="node "#).count(), 12);
    let (_, v): (StatusCode, Value) = get_json(&s.app, "/api/lineage").await;
    assert_eq!(v["nodes"].as_array().unwrap().len(), 12);
}
