//! Discovery: search relevance (names over descriptions, prefixes, typos), facets, snippets and incremental index
//! updates; lineage edges, cycles, the geometry of its layout and the SVG drawn from it, impact analysis and usage —
//! on the sample mesh, fixtures and graphs built by hand.

use crate::common::{copy_fixture, fixture, get, get_json, load, query_as, serve, write};
use axum::http::StatusCode;
use meshbox::discovery::lineage::{Edge, Layout, Lineage, Node};
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

fn edges(l: &Lineage) -> Vec<(String, String)> {
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
    let crossings = check_drawing(l);
    assert!(
        crossings.len() <= SAMPLE_CROSSINGS,
        "{} edge crossings",
        crossings.len()
    );
    let layout = l.layout();
    let span = |a: usize| {
        layout.boxes[layout.arrows[a].from]
            .layer
            .abs_diff(layout.boxes[layout.arrows[a].to].layer)
    };
    assert!(
        crossings.iter().all(|(a, b)| span(*a) > 1 || span(*b) > 1),
        "arrows between neighbouring layers never cross each other"
    );
    let svg = l.svg(None);
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
    check_drawing(l);
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
        check_drawing(&s.lineage);
        let svg = s.lineage.svg(None);
        assert_eq!(
            svg.matches("<rect").count(),
            s.lineage.nodes.len(),
            "{name}: one box per node"
        );
    }
}

/// Edge crossings the sample mesh's drawing may have: the barycentre ordering only sees neighbouring layers, so
/// an arrow skipping a layer (catalog/products → sales/order-lines) may cross the arrows leaving sales/orders.
const SAMPLE_CROSSINGS: usize = 3;

/// A lineage built by hand: products `d/<name>`, edges from provider to consumer.
fn graph(names: &[&str], edges: &[(&str, &str)]) -> Lineage {
    let index = |name: &str| names.iter().position(|n| *n == name).unwrap();
    Lineage {
        nodes: names
            .iter()
            .map(|name| Node {
                key: format!("d/{name}"),
                domain: "d".into(),
                name: name.to_string(),
                title: name.to_string(),
                owner: None,
                health: "passing".into(),
                quarantined: false,
                url: None,
            })
            .collect(),
        edges: edges
            .iter()
            .map(|(from, to)| Edge {
                from: index(from),
                to: index(to),
                contract_id: format!("c-{from}"),
                port: None,
            })
            .collect(),
        cycles: Vec::new(),
        references: Vec::new(),
    }
}

/// Can `to` reach `from` again along the edges (so an edge `from` → `to` lies on a cycle)?
fn on_a_cycle(l: &Lineage, from: usize, to: usize) -> bool {
    let mut seen = vec![false; l.nodes.len()];
    let mut stack = vec![to];
    while let Some(v) = stack.pop() {
        if v == from {
            return true;
        }
        if !std::mem::replace(&mut seen[v], true) {
            stack.extend(l.edges.iter().filter(|e| e.from == v).map(|e| e.to));
        }
    }
    false
}

/// The cubic Bézier of an arrow as a polyline of 32 segments.
fn polyline(curve: &[(f64, f64); 4]) -> Vec<(f64, f64)> {
    (0..=32)
        .map(|i| {
            let t = i as f64 / 32.0;
            let u = 1.0 - t;
            let w = [u * u * u, 3.0 * u * u * t, 3.0 * u * t * t, t * t * t];
            (
                (0..4).map(|k| w[k] * curve[k].0).sum(),
                (0..4).map(|k| w[k] * curve[k].1).sum(),
            )
        })
        .collect()
}

/// How often two curves cross (segments meeting properly; touching does not count).
fn curve_crossings(a: &[(f64, f64); 4], b: &[(f64, f64); 4]) -> usize {
    let side =
        |p: (f64, f64), q: (f64, f64), r: (f64, f64)| ((q.0 - p.0) * (r.1 - p.1) - (q.1 - p.1) * (r.0 - p.0)).signum();
    let (a, b) = (polyline(a), polyline(b));
    let mut n = 0;
    for s in a.windows(2) {
        for t in b.windows(2) {
            if side(s[0], s[1], t[0]) * side(s[0], s[1], t[1]) < 0.0
                && side(t[0], t[1], s[0]) * side(t[0], t[1], s[1]) < 0.0
            {
                n += 1;
            }
        }
    }
    n
}

/// Checks the geometry of a lineage drawing and that the SVG draws exactly its layout: every box inside the
/// picture and no two overlapping; one arrow per linked pair; every arrow left to right from a lower layer to a
/// higher one, except arrows on a cycle, which are flagged and drawn as such. Returns every crossing of two arrows
/// that share no product, as the indexes of the two arrows in the layout (twice for arrows crossing twice).
fn check_drawing(l: &Lineage) -> Vec<(usize, usize)> {
    let layout: Layout = l.layout();
    assert_eq!(layout.boxes.len(), l.nodes.len(), "one box per product");
    for (i, a) in layout.boxes.iter().enumerate() {
        assert!(
            a.x >= 0.0 && a.y >= 0.0 && a.x + a.width <= layout.width && a.y + a.height <= layout.height,
            "{} lies outside the picture: {a:?}",
            l.nodes[i].key
        );
        for (j, b) in layout.boxes.iter().enumerate().skip(i + 1) {
            let overlap = a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
            assert!(
                !overlap,
                "{} and {} overlap: {a:?} {b:?}",
                l.nodes[i].key, l.nodes[j].key
            );
        }
    }
    let mut pairs: Vec<(usize, usize)> = l.edges.iter().map(|e| (e.from, e.to)).collect();
    pairs.sort();
    pairs.dedup();
    let mut drawn: Vec<(usize, usize)> = layout.arrows.iter().map(|a| (a.from, a.to)).collect();
    drawn.sort();
    assert_eq!(drawn, pairs, "one arrow per provider → consumer pair");
    // A Bézier curve stays inside the hull of its control points: points inside the picture, curve inside it.
    for arrow in &layout.arrows {
        assert!(
            arrow
                .curve
                .iter()
                .all(|&(x, y)| (0.0..=layout.width).contains(&x) && (0.0..=layout.height).contains(&y)),
            "the arrow {} → {} is drawn outside the picture: {:?}",
            l.nodes[arrow.from].key,
            l.nodes[arrow.to].key,
            arrow.curve
        );
    }
    for a in &layout.arrows {
        let (from, to) = (&layout.boxes[a.from], &layout.boxes[a.to]);
        let name = format!("{} → {}", l.nodes[a.from].key, l.nodes[a.to].key);
        if a.cycle {
            assert!(
                on_a_cycle(l, a.from, a.to),
                "{name} is drawn as a cycle but is not on one"
            );
            assert!(to.layer <= from.layer, "{name}");
        } else {
            assert!(
                from.layer < to.layer,
                "{name} goes from layer {} to {}",
                from.layer,
                to.layer
            );
            assert!(
                a.curve[0].0 < a.curve[3].0,
                "{name} is drawn right to left: {:?}",
                a.curve
            );
        }
        assert_eq!(
            a.curve[0],
            (from.x + from.width, from.y + from.height / 2.0),
            "{name} starts at its provider"
        );
        assert_eq!(
            a.curve[3],
            (to.x, to.y + to.height / 2.0),
            "{name} ends at its consumer"
        );
    }
    // The SVG is the layout, drawn.
    let svg = l.svg(None);
    assert!(svg.starts_with(&format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="lineage" width="{:.0}" height="{:.0}""#,
        layout.width, layout.height
    )));
    for b in &layout.boxes {
        let rect = format!(
            r#"<rect x="{:.1}" y="{:.1}" width="{}" height="{}""#,
            b.x, b.y, b.width, b.height
        );
        assert!(svg.contains(&rect), "{rect} missing from {svg}");
    }
    for a in &layout.arrows {
        let [(x1, y1), (cx1, _), (cx2, _), (x2, y2)] = a.curve;
        let d = format!(r#"d="M {x1:.1} {y1:.1} C {cx1:.1} {y1:.1}, {cx2:.1} {y2:.1}, {x2:.1} {y2:.1}""#);
        assert!(svg.contains(&d), "{d} missing from {svg}");
    }
    assert_eq!(
        svg.matches(r#"class="edge cycle""#).count(),
        layout.arrows.iter().filter(|a| a.cycle).count()
    );
    let mut crossings = Vec::new();
    for (i, a) in layout.arrows.iter().enumerate() {
        for (j, b) in layout.arrows.iter().enumerate().skip(i + 1) {
            if [a.from, a.to].iter().any(|v| *v == b.from || *v == b.to) {
                continue;
            }
            crossings.extend(std::iter::repeat_n((i, j), curve_crossings(&a.curve, &b.curve)));
        }
    }
    crossings
}

#[test]
fn crossings_are_counted_on_the_drawn_curves() {
    let rising = [(0.0, 100.0), (50.0, 100.0), (50.0, 0.0), (100.0, 0.0)];
    let falling = [(0.0, 0.0), (50.0, 0.0), (50.0, 100.0), (100.0, 100.0)];
    let level = [(0.0, 200.0), (50.0, 200.0), (50.0, 200.0), (100.0, 200.0)];
    assert_eq!(curve_crossings(&rising, &falling), 1);
    assert_eq!(curve_crossings(&rising, &level), 0);
}

#[test]
fn the_lineage_layout_on_a_fixed_graph() {
    // A twist (alphabetical order would cross all three arrows), a chain with a shortcut over one layer, and a cycle.
    let l = graph(
        &["a1", "a2", "a3", "z1", "z2", "z3", "s", "t", "u", "c1", "c2", "c3"],
        &[
            ("a1", "z3"),
            ("a2", "z2"),
            ("a3", "z1"),
            ("s", "t"),
            ("t", "u"),
            ("s", "u"),
            ("c1", "c2"),
            ("c2", "c1"),
            ("c2", "c3"),
            ("a1", "z3"),
        ],
    );
    let crossings = check_drawing(&l);
    let layout = l.layout();
    let layer = |name: &str| layout.boxes[l.nodes.iter().position(|n| n.name == name).unwrap()].layer;
    assert_eq!(
        ["a1", "s", "t", "u", "c1", "c2", "c3"].map(layer),
        [0, 0, 1, 2, 0, 1, 2],
        "layers by longest path"
    );
    let cycles: Vec<(&str, &str)> = layout
        .arrows
        .iter()
        .filter(|a| a.cycle)
        .map(|a| (l.nodes[a.from].name.as_str(), l.nodes[a.to].name.as_str()))
        .collect();
    assert_eq!(
        cycles,
        [("c2", "c1")],
        "exactly the arrow closing the cycle points back"
    );
    // Nothing crosses, the twist included (drawn in alphabetical order, its three arrows would cross each other).
    assert_eq!(crossings, [], "crossing arrows (indexes into {:?})", layout.arrows);
    // Several ports between the same two products draw one arrow; a self-consuming product draws a loop.
    assert_eq!(layout.arrows.len(), 9);
    let alone = graph(&["x"], &[("x", "x")]);
    check_drawing(&alone);
    assert!(alone.layout().arrows[0].cycle);
    assert_eq!(check_drawing(&graph(&[], &[])), []);
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
