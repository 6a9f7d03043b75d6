//! Meaning (ODCS v3.2 / ODPS v1.1): business names, semantic types and transform logic, synonyms, contexts,
//! authoritative definitions and deprecation on product pages and their API twins, the glossary (page and JSON, per
//! role), search by synonyms and business names, the `no_deprecated_inputs` policy, the `mesh.*` metadata columns and
//! the byte-identical round trip — on `tests/fixtures/semantics`.

use crate::common::{copy_fixture, fixture, get, get_json, load, query_as, send, serve, write};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use meshbox::discovery::search::SearchIndex;
use serde_json::{Value, json};

fn mesh() -> std::path::PathBuf {
    fixture("semantics")
}

/// A page or API answer as `role`.
async fn get_as(app: &axum::Router, role: &str, uri: &str) -> (StatusCode, String) {
    let req = Request::get(uri)
        .header("x-meshbox-role", role)
        .body(Body::empty())
        .unwrap();
    let (status, _, body) = send(app, req).await;
    (status, String::from_utf8_lossy(&body).into_owned())
}

async fn get_json_as(app: &axum::Router, role: &str, uri: &str) -> Value {
    let (status, body) = get_as(app, role, uri).await;
    assert_eq!(status, StatusCode::OK, "{uri}: {body}");
    serde_json::from_str(&body).unwrap()
}

fn assert_contains_all(html: &str, wanted: &[&str]) {
    let missing: Vec<&&str> = wanted.iter().filter(|w| !html.contains(**w)).collect();
    assert!(missing.is_empty(), "missing {missing:?}");
}

#[tokio::test]
async fn product_pages_show_business_names_semantic_types_synonyms_and_contexts() {
    let served = serve(&mesh());
    let (status, html) = get(&served.app, "/products/shop/customers").await;
    assert_eq!(status, StatusCode::OK);
    assert_contains_all(
        &html,
        &[
            // Business names and semantic types, a measure's transform logic.
            r#"<span class="business-name">Patron</span>"#,
            r#"<span class="business-name">Customer number</span>"#,
            r#"<span class="pill semantic-measure" title="semanticType">measure</span>"#,
            r#"<span class="pill semantic-dimension" title="semanticType">dimension</span>"#,
            "measure <code>SUM(orders.amount)</code>",
            "Everything the customer ever paid.",
            // Synonyms of the product, its output port, its table and a column.
            ">clientele <span class=\"muted\">en</span>",
            "title=\"What marketing calls the customer base.\"",
            ">roster</span>",
            ">shopper <span class=\"muted\">en-GB</span>",
            ">client number</span>",
            // Contexts: product, contract and table; instructions, verified statements, constraints.
            "Context of the product",
            "Join other products on customer_id.",
            "<dt>How many customers are there?</dt>",
            "SELECT count(*) FROM shop.customers",
            "Do not export contact details. <span class=\"tag\">#gdpr</span>",
            "Context of the contract Customers",
            "Prefer the country dimension for regional analysis.",
            "Context of the table customers",
            "One row per registered customer.",
            "<dt>Which country has the most customers?</dt>",
            "a sample question: no verified answer",
            "Do not use the fax column for new work.",
            r#"<a href="https://policies.example/fax-retirement" rel="noopener noreferrer nofollow">"#,
        ],
    );
    // The deprecated column is flagged where it is listed.
    let fax_row = html.split(r#"<tr id="column-customers-fax""#).nth(1).expect("fax row");
    let fax_row = &fax_row[..fax_row.find("</tr>").unwrap()];
    assert!(fax_row.starts_with(r#" class=" deprecated">"#), "{fax_row}");
    assert!(
        fax_row.contains(r#"<span class="pill deprecated">deprecated</span>"#),
        "{fax_row}"
    );
    // The product itself is not deprecated.
    assert!(!html.contains(r#"id="deprecated""#));
}

#[tokio::test]
async fn authoritative_definitions_link_only_web_addresses_and_everything_is_escaped() {
    let served = serve(&mesh());
    let (_, html) = get(&served.app, "/products/shop/customers").await;
    assert_contains_all(
        &html,
        &[
            // An http(s) definition is a link, its URL escaped in the attribute and the text.
            r#"<a href="https://glossary.example/terms/customer?a=1&amp;b=&lt;2&gt;" rel="noopener noreferrer nofollow">https://glossary.example/terms/customer?a=1&amp;b=&lt;2&gt;</a>"#,
            "Enterprise glossary entry &quot;Customer&quot;.",
            r#"<a href="https://www.iso.org/iso-3166-country-codes.html""#,
            r#"<a href="https://data.example/products/customers""#,
            // Anything else is shown as text, never as a link.
            r#"<code class="not-linked" title="not an http(s) address: shown, not linked">javascript:alert(&#39;owned&#39;)</code>"#,
            // SBOMs of the output port: linked when http(s).
            r#"<a href="https://sbom.example/customers.json" rel="noopener noreferrer nofollow">"#,
            r#"<code class="not-linked">file:///etc/passwd</code>"#,
            // Descriptions are text.
            "Full name &lt;b&gt;as entered&lt;/b&gt;.",
        ],
    );
    assert!(!html.contains("href=\"javascript:"), "no javascript: link");
    assert!(!html.contains("href=\"file:"), "no file: link");
    assert!(!html.contains("<b>as entered</b>"));
}

#[tokio::test]
async fn the_product_api_carries_every_semantic_field() {
    let served = serve(&mesh());
    let (status, p) = get_json(&served.app, "/api/products/shop/customers").await;
    assert_eq!(status, StatusCode::OK);
    let meaning = &p["meaning"];
    assert_eq!(meaning["deprecated"], false);
    assert_eq!(meaning["synonyms"][0]["synonym"], "clientele");
    assert_eq!(meaning["synonyms"][0]["source"], "marketing");
    let definitions: Vec<(&str, Option<&str>)> = meaning["definitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["type"].as_str().unwrap(), d["href"].as_str()))
        .collect();
    assert_eq!(
        definitions,
        [
            ("canonicalUrl", Some("https://data.example/products/customers")),
            ("businessDefinition", None),
        ]
    );
    let contexts: Vec<&str> = meaning["contexts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["of"].as_str().unwrap())
        .collect();
    assert_eq!(contexts, ["product", "contract Customers"]);
    let product_context = &meaning["contexts"][0];
    assert_eq!(product_context["verified_statements"][0]["id"], "count-customers");
    assert_eq!(product_context["constraints"][0]["tags"], json!(["gdpr"]));
    let table = &p["table_details"][0];
    assert_eq!(table["business_name"], "Patron");
    assert_eq!(table["deprecated"], false);
    assert_eq!(table["synonyms"][0]["locale"], "en-GB");
    assert_eq!(table["context"]["instructions"], "One row per registered customer.");
    assert_eq!(table["context"]["constraints"][0]["id"], "no-fax");
    let column = |name: &str| -> Value {
        table["columns"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("no column {name}"))
    };
    assert_eq!(column("fax")["deprecated"], true);
    assert_eq!(column("name")["deprecated"], false);
    let value = column("lifetime_value");
    assert_eq!(value["semantic_type"], "measure");
    assert_eq!(value["transform_logic"], "SUM(orders.amount)");
    assert_eq!(value["business_name"], "Lifetime value");
    assert_eq!(column("country")["semantic_type"], "dimension");
    assert_eq!(column("country")["definitions"][0]["type"], "taxonomy");
    assert_eq!(column("customer_id")["synonyms"][0]["synonym"], "client number");
    let port = &p["output_ports"][0];
    assert_eq!(port["synonyms"][0]["synonym"], "roster");
    let sbom: Vec<(&str, Option<&str>)> = port["sbom"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["type"].as_str().unwrap(), s["href"].as_str()))
        .collect();
    assert_eq!(
        sbom,
        [
            ("external", Some("https://sbom.example/customers.json")),
            ("internal", None)
        ]
    );
    assert_eq!(p["type"], "sourceAligned");
}

#[tokio::test]
async fn deprecated_products_are_flagged_in_lists_pages_and_consumers() {
    let served = serve(&mesh());
    let (_, list) = get_json(&served.app, "/api/products").await;
    let deprecated: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["deprecated"] == true)
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(deprecated, ["legacy-orders"]);
    let (_, html) = get(&served.app, "/products/shop/legacy-orders").await;
    assert_contains_all(
        &html,
        &[
            r#"<span class="pill deprecated">deprecated</span>"#,
            r#"id="deprecated""#,
            "its descriptor says `deprecated: true`",
        ],
    );
    let (_, html) = get(&served.app, "/products/shop/order-report").await;
    assert!(
        html.contains(
            r#"<span class="pill deprecated" title="the providing product is deprecated">deprecated product</span>"#
        ),
        "the input port names a deprecated provider"
    );
    let (_, home) = get(&served.app, "/").await;
    assert!(
        home.contains(r#"· <span class="pill deprecated">deprecated</span>"#),
        "home card"
    );
    assert!(
        home.contains(r#"<a href="/glossary" >Glossary</a>"#),
        "the glossary is in the navigation"
    );
}

/// What the glossary holds: term keys, and for each its carriers' paths.
fn terms_and_carriers(g: &Value) -> Vec<(String, Vec<String>)> {
    g["terms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let carriers = t["carriers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["path"].as_str().unwrap().to_string())
                .collect();
            (t["key"].as_str().unwrap().to_string(), carriers)
        })
        .collect()
}

fn owned(expected: &[(&str, &[&str])]) -> Vec<(String, Vec<String>)> {
    expected
        .iter()
        .map(|(k, c)| (k.to_string(), c.iter().map(|s| s.to_string()).collect()))
        .collect()
}

#[tokio::test]
async fn the_glossary_gathers_terms_synonyms_definitions_and_carriers() {
    let served = serve(&mesh());
    let g = get_json_as(&served.app, "steward", "/api/glossary").await;
    assert_eq!(g["products"], 6);
    assert_eq!(
        terms_and_carriers(&g),
        owned(&[
            (
                "country",
                &[
                    "shop.country-counts.country_counts.country",
                    "shop.customers.customers.country"
                ]
            ),
            ("customer master", &["shop.customers"]),
            (
                "customer number",
                &[
                    "finance.ledger.ledger.customer_id",
                    "shop.customers.customers.customer_id"
                ]
            ),
            ("gross margin", &["finance.ledger.ledger.margin"]),
            ("lifetime value", &["shop.customers.customers.lifetime_value"]),
            ("patron", &["shop.customers.customers"]),
            ("profiles", &["shop.customers:profiles"]),
        ])
    );
    let term = |key: &str| -> Value {
        g["terms"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["key"] == key)
            .cloned()
            .unwrap()
    };
    let number = term("customer number");
    assert_eq!(
        number["term"], "Customer Number",
        "as first written (finance comes first)"
    );
    assert_eq!(number["business_name"], true);
    assert_eq!(
        number["synonyms"],
        json!([{"synonym": "client number", "description": null, "locale": null, "source": null, "status": null}])
    );
    assert_eq!(
        number["carriers"][1]["url"],
        "/products/shop/customers#column-customers-customer_id"
    );
    let master = term("customer master");
    assert_eq!(master["business_name"], false);
    assert_eq!(master["carriers"][0]["kind"], "product");
    let master_definitions: Vec<(&str, &str, Option<&str>)> = master["definitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["type"].as_str().unwrap(),
                d["url"].as_str().unwrap(),
                d["href"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        master_definitions,
        [
            (
                "canonicalUrl",
                "https://data.example/products/customers",
                Some("https://data.example/products/customers")
            ),
            ("businessDefinition", "javascript:alert('owned')", None),
        ]
    );
    let margin = term("gross margin");
    assert_eq!(margin["carriers"][0]["semantic_type"], "measure");
    assert_eq!(margin["definitions"][0]["type"], "glossary");
    assert_eq!(term("patron")["carriers"][0]["kind"], "table");
    assert_eq!(term("profiles")["carriers"][0]["kind"], "port");
    let synonyms: Vec<(&str, Vec<&str>)> = g["synonyms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["synonym"].as_str().unwrap(),
                s["terms"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|t| t.as_str().unwrap())
                    .collect(),
            )
        })
        .collect();
    assert_eq!(
        synonyms,
        [
            ("client number", vec!["customer number"]),
            ("clientele", vec!["customer master"]),
            ("contribution", vec!["gross margin"]),
            ("roster", vec!["profiles"]),
            ("shopper", vec!["patron"]),
        ]
    );
}

#[tokio::test]
async fn the_glossary_page_links_terms_to_their_carriers() {
    let served = serve(&mesh());
    let (status, html) = get_as(&served.app, "steward", "/glossary").await;
    assert_eq!(status, StatusCode::OK);
    assert_contains_all(
        &html,
        &[
            r#"<a href="/glossary" aria-current="page">Glossary</a>"#,
            "7 terms from 6 of 6 products.",
            r#"<article class="card term" id="term-customer-number">"#,
            r#"<h2>Customer Number <span class="tag" title="declared as a businessName">business term</span></h2>"#,
            r#"<a href="/products/shop/customers#column-customers-customer_id"><code>shop.customers.customers.customer_id</code></a>"#,
            r#"<a href="/products/finance/ledger#column-ledger-margin"><code>finance.ledger.ledger.margin</code></a> <span class="pill semantic-measure">measure</span>"#,
            r##"<strong>contribution</strong> → <a href="#term-gross-margin">gross margin</a>"##,
            r#"<a href="https://glossary.example/terms/gross-margin" rel="noopener noreferrer nofollow">"#,
            r#"<code class="not-linked" title="not an http(s) address: shown, not linked">javascript:alert(&#39;owned&#39;)</code>"#,
            r#"<a href="/products/shop/customers#table-customers"><code>shop.customers.customers</code></a>"#,
            r#"<code>shop.customers</code></a> <span class="muted">(its name)</span>"#,
        ],
    );
    assert!(!html.contains("href=\"javascript:"));
}

#[tokio::test]
async fn the_glossary_leaves_out_what_the_role_may_not_read() {
    let served = serve(&mesh());
    // viewer: the finance domain is restricted.
    let g = get_json_as(&served.app, "viewer", "/api/glossary").await;
    assert_eq!(g["products"], 5);
    assert_eq!(
        terms_and_carriers(&g),
        owned(&[
            (
                "country",
                &[
                    "shop.country-counts.country_counts.country",
                    "shop.customers.customers.country"
                ]
            ),
            ("customer master", &["shop.customers"]),
            ("customer number", &["shop.customers.customers.customer_id"]),
            ("lifetime value", &["shop.customers.customers.lifetime_value"]),
            ("patron", &["shop.customers.customers"]),
            ("profiles", &["shop.customers:profiles"]),
        ])
    );
    assert_eq!(
        g["terms"][2]["term"], "Customer number",
        "spelled as the readable carrier writes it"
    );
    assert!(
        !g.to_string().contains("contribution"),
        "a synonym only a hidden product carries"
    );
    assert!(!g.to_string().contains("finance"));
    let (_, html) = get_as(&served.app, "viewer", "/glossary").await;
    assert!(
        html.contains(
            "6 terms from 5 of 6 products — products role <strong>viewer</strong> may not read are left out."
        )
    );
    assert!(!html.contains("Gross margin") && !html.contains("finance.ledger"));
    // The default role (the least privileged) is the viewer too.
    let (_, anonymous) = get_json(&served.app, "/api/glossary").await;
    assert_eq!(anonymous, g);
}

#[test]
fn search_finds_products_by_synonyms_and_business_names() {
    let s = load(&mesh());
    let index = SearchIndex::new().unwrap();
    index.update(&s.catalog, &s.governance.compliance).unwrap();
    let search = |q: &str| index.search(q, &[], 10, &|_| 0).unwrap();
    // `clientele` is only a synonym of the product (ODPS); `patron` only a table's business name; `contribution` only a
    // column's synonym in finance/ledger; `roster` only an output port's synonym.
    for (q, product, field) in [
        ("clientele", "shop/customers", "synonym"),
        ("patron", "shop/customers", "business name"),
        ("shopper", "shop/customers", "synonym"),
        ("roster", "shop/customers", "synonym"),
        ("contribution", "finance/ledger", "column business name"),
        ("gross margin", "finance/ledger", "column business name"),
    ] {
        let r = search(q);
        let keys: Vec<&str> = r.hits.iter().map(|h| h.key.as_str()).collect();
        assert_eq!(keys, [product], "{q}");
        let why: Vec<&str> = r.hits[0].matched.iter().map(|m| m.field).collect();
        assert!(why.contains(&field), "{q}: matched {why:?}");
    }
    let r = search("clientele");
    assert!(
        r.hits[0].matched.iter().any(|m| m.html == "<mark>clientele</mark>"),
        "{:?}",
        r.hits[0].matched
    );
}

#[tokio::test]
async fn search_results_flag_deprecated_products_and_columns() {
    let served = serve(&mesh());
    let (_, r) = get_json(&served.app, "/api/search?q=legacy").await;
    assert_eq!(r["hits"][0]["key"], "shop/legacy-orders");
    assert_eq!(r["hits"][0]["deprecated"], true);
    let (_, r) = get_json(&served.app, "/api/search?q=patron").await;
    assert_eq!(r["hits"][0]["deprecated"], false);
    assert_eq!(r["hits"][0]["deprecated_elements"], json!(["customers.fax"]));
    let (_, html) = get(&served.app, "/search?q=legacy").await;
    assert!(html.contains(r#"<span class="pill deprecated">deprecated</span>"#));
    let (_, html) = get(&served.app, "/search?q=patron").await;
    assert!(html.contains(r#"deprecated: <code>customers.fax</code>"#), "{html}");
}

/// A policy violation as the tests compare it: product, file, line, field, message.
type Found = (String, Option<String>, Option<usize>, Option<String>, String);

#[test]
fn consuming_deprecated_products_or_columns_violates_no_deprecated_inputs() {
    let s = load(&mesh());
    let mut found: Vec<Found> = s
        .governance
        .compliance
        .violations
        .iter()
        .filter(|v| v.policy == "no-deprecated-inputs")
        .map(|v| {
            (
                format!("{}/{}", v.domain, v.product),
                v.file.as_ref().map(|f| f.display().to_string()),
                v.line,
                v.field.clone(),
                v.message.clone(),
            )
        })
        .collect();
    found.sort();
    assert_eq!(
        found,
        [
            (
                "shop/fax-list".to_string(),
                Some("shop/fax-list/fax_list.sql".to_string()),
                Some(4),
                None,
                "builds `fax_list` reading `shop.customers.fax` (shop/customers), deprecated".to_string()
            ),
            (
                "shop/order-report".to_string(),
                Some("shop/order-report/order-report.odps.yaml".to_string()),
                Some(8),
                Some("inputPorts[0].contractId".to_string()),
                "consumes shop/legacy-orders (`urn:semantics:shop:legacy-orders:contract`), which is deprecated (the \
                 product is marked `deprecated: true`)"
                    .to_string()
            ),
        ],
        "country-counts reads shop.customers but not its deprecated column"
    );
    assert!(
        s.governance
            .compliance
            .violations
            .iter()
            .all(|v| v.severity == meshbox::base::diagnostics::Severity::Warning),
        "a warning policy: nobody is quarantined"
    );
}

#[test]
fn a_deprecated_output_port_or_table_counts_too() {
    let dir = copy_fixture("semantics");
    // The customers product's output port is deprecated: every consumer of its contract is told.
    let odps = std::fs::read_to_string(dir.path().join("shop/customers/customers.odps.yaml")).unwrap();
    write(
        dir.path(),
        "shop/customers/customers.odps.yaml",
        &odps.replace("  - name: profiles\n", "  - name: profiles\n    deprecated: true\n"),
    );
    // And its table is deprecated as a whole: every transform reading it is told, whichever columns it reads.
    let odcs = std::fs::read_to_string(dir.path().join("shop/customers/customers.odcs.yaml")).unwrap();
    write(
        dir.path(),
        "shop/customers/customers.odcs.yaml",
        &odcs.replace(
            "    businessName: Patron\n",
            "    businessName: Patron\n    deprecated: true\n",
        ),
    );
    let s = load(dir.path());
    let mut tables: Vec<String> = s
        .governance
        .compliance
        .violations
        .iter()
        .filter(|v| {
            v.message
                .contains("from `shop.customers` (shop/customers), which is deprecated")
        })
        .map(|v| format!("{}/{} {}", v.domain, v.product, v.table.as_deref().unwrap_or("")))
        .collect();
    tables.sort();
    assert_eq!(tables, ["shop/country-counts country_counts", "shop/fax-list fax_list"]);
    let mut ports: Vec<String> = s
        .governance
        .compliance
        .violations
        .iter()
        .filter(|v| v.message.contains("output port `profiles`"))
        .map(|v| format!("{}/{}", v.domain, v.product))
        .collect();
    ports.sort();
    assert_eq!(ports, ["shop/country-counts", "shop/fax-list"]);
}

#[tokio::test]
async fn sql_policies_see_deprecation_and_semantics_in_the_metadata_tables() {
    let dir = copy_fixture("semantics");
    write(
        dir.path(),
        "policies/sql.yaml",
        "policies:\n  - id: no-deprecated-columns\n    severity: info\n    rule:\n      sql: |\n        \
         SELECT domain, product, table_name, column_name, 'deprecated column' AS message FROM mesh.columns WHERE deprecated\n",
    );
    let served = serve(dir.path());
    let s = served.mesh.snapshot();
    let columns: Vec<String> = s
        .governance
        .compliance
        .violations
        .iter()
        .filter(|v| v.policy == "no-deprecated-columns")
        .map(|v| format!("{}/{} {:?}.{:?}", v.domain, v.product, v.table, v.column))
        .collect();
    assert_eq!(columns, [r#"shop/customers Some("customers").Some("fax")"#]);
    let (status, r) = query_as(
        &served.app,
        "steward",
        "SELECT product, deprecated, synonyms FROM mesh.products WHERE deprecated OR len(synonyms) > 0 ORDER BY 1",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(
        r["rows"],
        json!([
            ["customers", false, ["clientele", "roster"]],
            ["legacy-orders", true, []]
        ])
    );
    let (_, r) = query_as(
        &served.app,
        "steward",
        "SELECT column_name, business_name, semantic_type, transform_logic, deprecated, synonyms FROM mesh.columns \
         WHERE product = 'customers' ORDER BY column_name",
    )
    .await;
    assert_eq!(
        r["rows"],
        json!([
            ["country", "Country", "dimension", null, false, []],
            ["customer_id", "Customer number", null, null, false, ["client number"]],
            ["fax", null, null, null, true, []],
            [
                "lifetime_value",
                "Lifetime value",
                "measure",
                "SUM(orders.amount)",
                false,
                []
            ],
            ["name", null, null, null, false, []],
        ])
    );
    let (_, r) = query_as(
        &served.app,
        "steward",
        "SELECT table_name, business_name, deprecated, synonyms FROM mesh.tables WHERE product = 'customers'",
    )
    .await;
    assert_eq!(r["rows"], json!([["customers", "Patron", false, ["shopper"]]]));
}

#[test]
fn semantic_fields_round_trip_byte_identical() {
    let out = tempfile::tempdir().unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_meshbox"))
        .args(["export", mesh().to_str().unwrap(), "--format"])
        .arg("odcs")
        .arg("--output")
        .arg(out.path().join("odcs"))
        .env("MESHBOX_CACHE_DIR", scratch.path())
        .env("MESHBOX_STATE_DIR", scratch.path().join("state"))
        .env("MESHBOX_THREADS", "2")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    for file in ["shop/customers/customers.odcs.yaml", "finance/ledger/ledger.odcs.yaml"] {
        let original = std::fs::read(mesh().join(file)).unwrap();
        let exported = std::fs::read(out.path().join("odcs").join(file)).unwrap();
        assert_eq!(exported, original, "{file}");
    }
}
