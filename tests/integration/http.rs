//! The HTTP API and pages, in-process: JSON shapes, the guarded query path, limits, errors and headers.

use crate::common::{copy_fixture, fixture, get, get_json, query, query_as, send, serve, serve_with};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use meshbox::serve::query::Limits;
use std::time::{Duration, Instant};

#[tokio::test]
async fn products_list_every_product_with_its_tables() {
    let s = serve(&fixture("basic"));
    let (status, v) = get_json(&s.app, "/api/products").await;
    assert_eq!(status, StatusCode::OK);
    let list = v.as_array().unwrap();
    assert_eq!(list.len(), 5);
    let orders = list.iter().find(|p| p["name"] == "orders").unwrap();
    assert_eq!(orders["domain"], "shop");
    assert_eq!(orders["status"], "passing");
    assert_eq!(orders["tables"], serde_json::json!(["shop.orders"]));
    let broken = list.iter().find(|p| p["name"] == "broken-yaml").unwrap();
    assert_eq!(broken["status"], "failed");
    assert_eq!(broken["tables"], serde_json::json!([]));
}

#[tokio::test]
async fn product_detail_and_not_found() {
    let s = serve(&fixture("basic"));
    let (status, v) = get_json(&s.app, "/api/products/shop/orders").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["title"], "Shop orders");
    assert_eq!(v["owner"], "Shop Team");
    assert_eq!(v["tables"], serde_json::json!(["shop.orders"]));
    assert_eq!(v["table_details"][0]["row_count"], 3);
    assert_eq!(v["table_details"][0]["columns"][0]["name"], "order_id");
    assert_eq!(v["input_ports"][0]["provider"], "people/customers");
    assert!(
        v["check_results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["status"] == "pass")
    );
    let (status, v) = get_json(&s.app, "/api/products/shop/nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(v["kind"], "not_found");
    assert!(v["error"].as_str().unwrap().contains("shop/nope"));
}

#[tokio::test]
async fn query_answers_columns_rows_and_timing() {
    let s = serve(&fixture("basic"));
    let started = Instant::now();
    let (status, v) = query(
        &s.app,
        "SELECT order_id, amount, placed_at FROM shop.orders ORDER BY order_id",
    )
    .await;
    let wall_ms = started.elapsed().as_secs_f64() * 1000.0;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["columns"], serde_json::json!(["order_id", "amount", "placed_at"]));
    assert_eq!(v["types"], serde_json::json!(["BIGINT", "DECIMAL(10,2)", "TIMESTAMP"]));
    assert_eq!(v["rows"][0], serde_json::json!([1, 19.99, "2024-03-01T10:00:00"]));
    assert_eq!(v["truncated"], false);
    // The query's own time, to 0.1 ms: never more than the whole request took from out here.
    let elapsed = v["elapsed_ms"].as_f64().unwrap_or(f64::NAN);
    assert!(
        (0.0..=wall_ms + 0.05).contains(&elapsed),
        "elapsed_ms {elapsed} of a {wall_ms:.3} ms request: {v}"
    );
    // Joins across domains work: the mesh is one database.
    let join = "SELECT c.name, count(*) AS n FROM shop.orders o JOIN people.customers c ON c.id = o.customer_id GROUP BY 1 ORDER BY 1";
    let (status, v) = query_as(&s.app, "admin", join).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["rows"], serde_json::json!([["Ada", 2], ["Bo", 1]]));
    // The default role (guest) sees the restricted name column redacted.
    let (status, v) = query(&s.app, join).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["rows"], serde_json::json!([["•••", 3]]));
}

#[tokio::test]
async fn the_row_cap_truncates_and_says_so() {
    let limits = Limits {
        time_limit: Duration::from_secs(5),
        max_rows: 3,
    };
    let s = serve_with(&fixture("basic"), limits, 64 * 1024);
    let (status, v) = query(&s.app, "SELECT * FROM range(10)").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["rows"].as_array().unwrap().len(), 3);
    assert_eq!(v["truncated"], true);
    let (_, v) = query(&s.app, "SELECT * FROM range(3)").await;
    assert_eq!(v["truncated"], false);
}

#[tokio::test]
async fn a_runaway_query_is_stopped_at_the_time_limit() {
    let limits = Limits {
        time_limit: Duration::from_millis(300),
        max_rows: 10,
    };
    let s = serve_with(&fixture("basic"), limits, 64 * 1024);
    let (status, v) = query(&s.app, "SELECT count(*) FROM range(100000000) a, range(100000000) b").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["kind"], "timeout");
    // The server keeps answering.
    let (status, _) = query(&s.app, "SELECT 1").await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn the_query_path_refuses_writes_files_and_multiple_statements() {
    let dir = copy_fixture("basic");
    let s = serve(dir.path());
    // Where the writing attempts aim: a fresh folder outside the mesh, which must stay empty.
    let outside = tempfile::tempdir().unwrap();
    let out = outside.path().display();
    let copy_out = format!("COPY shop.orders TO '{out}/leak.csv'");
    let export = format!("EXPORT DATABASE '{out}/export'");
    let attacks = [
        "CREATE TABLE x AS SELECT 1",
        "DROP TABLE shop.orders",
        "DELETE FROM shop.orders",
        "INSERT INTO shop.orders VALUES (9, 9, 9, NULL)",
        "UPDATE shop.orders SET amount = 0",
        copy_out.as_str(),
        "SELECT 1; DROP TABLE shop.orders",
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM read_text('/etc/passwd')",
        "SELECT * FROM read_csv_auto('data/orders.csv')",
        "select * from READ_PARQUET('x.parquet')",
        "SELECT * FROM glob('/*')",
        "SELECT * FROM query('SELECT 1')",
        "SELECT * FROM arrow_scan(1, 2, 3)",
        "ATTACH '/tmp/x.db' AS x",
        "INSTALL httpfs",
        "LOAD httpfs",
        "SET enable_external_access = true",
        "PRAGMA show_tables",
        export.as_str(),
        "CREATE TEMP VIEW orders AS SELECT 1",
        "/* comment */ DROP TABLE shop.orders; -- SELECT 1",
        "WITH x AS (SELECT 1) DELETE FROM shop.orders",
        "SELECT * FROM 'shop/orders/data/orders.csv'",
        "",
    ];
    for sql in attacks {
        let (status, v) = query(&s.app, sql).await;
        assert!(status.is_client_error(), "{sql:?} answered {status}: {v}");
        assert!(v["error"].as_str().is_some_and(|e| !e.is_empty()), "{sql:?}: {v}");
        assert!(v.get("rows").is_none(), "{sql:?} returned rows: {v}");
    }
    // Nothing changed: the table is intact and no file was written.
    let (status, v) = query(&s.app, "SELECT count(*) FROM shop.orders").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["rows"][0][0], 3);
    let written: Vec<_> = std::fs::read_dir(outside.path()).unwrap().collect();
    assert!(written.is_empty(), "{written:?}");
}

#[tokio::test]
async fn sql_errors_carry_their_position() {
    let s = serve(&fixture("basic"));
    let (status, v) = query(&s.app, "SELECT order_id FORM shop.orders").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(v["kind"], "sql");
    assert_eq!(v["line"], 1);
    assert!(v["column"].as_u64().is_some(), "{v}");
    let (status, v) = query(&s.app, "SELECT nope FROM shop.orders").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(v["error"].as_str().unwrap().contains("nope"), "{v}");
}

#[tokio::test]
async fn bad_bodies_get_json_errors() {
    let s = serve_with(
        &fixture("basic"),
        Limits {
            time_limit: Duration::from_secs(5),
            max_rows: 10,
        },
        1024,
    );
    let req = Request::post("/api/query").body(Body::from("not json")).unwrap();
    let (status, _, body) = send(&s.app, req).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert!(v["error"].as_str().unwrap().contains("JSON"), "{v}");
    let big = serde_json::json!({"sql": format!("SELECT '{}'", "x".repeat(4096))}).to_string();
    let req = Request::post("/api/query").body(Body::from(big)).unwrap();
    let (status, _, body) = send(&s.app, req).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["kind"], "too_large");
}

#[tokio::test]
async fn cross_site_posts_are_refused() {
    let s = serve(&fixture("basic"));
    let req = Request::post("/api/query")
        .header("host", "127.0.0.1:7700")
        .header("origin", "http://evil.example")
        .body(Body::from(r#"{"sql":"SELECT 1"}"#))
        .unwrap();
    let (status, _, _) = send(&s.app, req).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let req = Request::post("/api/query")
        .header("host", "127.0.0.1:7700")
        .header("origin", "http://127.0.0.1:7700")
        .body(Body::from(r#"{"sql":"SELECT 1"}"#))
        .unwrap();
    let (status, _, _) = send(&s.app, req).await;
    assert_eq!(status, StatusCode::OK);
    for (site, want) in [
        ("cross-site", StatusCode::FORBIDDEN),
        ("same-site", StatusCode::FORBIDDEN),
        ("same-origin", StatusCode::OK),
    ] {
        let req = Request::post("/api/query")
            .header("sec-fetch-site", site)
            .header("origin", "null")
            .body(Body::from(r#"{"sql":"SELECT 1"}"#))
            .unwrap();
        let (status, _, _) = send(&s.app, req).await;
        assert_eq!(status, want, "{site}");
    }
}

#[tokio::test]
async fn pages_render_and_link_their_json_twins() {
    let s = serve(&fixture("basic"));
    let (status, html) = get(&s.app, "/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Shop orders") && html.contains("Shop Team") && html.contains("href=\"/api/mesh\""));
    let (status, html) = get(&s.app, "/products/shop/orders").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("shop.orders") && html.contains("order_id") && html.contains("/api/products/shop/orders"));
    let (status, html) = get(&s.app, "/domains/shop").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Shop Team"));
    let (status, html) = get(&s.app, "/problems").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("shop/broken-yaml/broken.odcs.yaml:8"), "{html}");
    let (status, html) = get(&s.app, "/sql?sql=SELECT%201").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<textarea") && html.contains("SELECT 1") && html.contains("shop.orders"));
    let (status, html) = get(&s.app, "/products/shop/nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("<html"));
    let (status, css) = get(&s.app, "/static/style.css").await;
    assert_eq!(status, StatusCode::OK);
    assert!(css.contains("prefers-color-scheme"));
}

#[tokio::test]
async fn manifest_text_is_escaped_in_pages() {
    let dir = copy_fixture("basic");
    let path = dir.path().join("shop/orders/orders.odps.yaml");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("purpose: Orders of the shop.", "purpose: \"<script>alert(1)</script>\"");
    std::fs::write(&path, text).unwrap();
    let s = serve(dir.path());
    let (_, html) = get(&s.app, "/products/shop/orders").await;
    assert!(!html.contains("<script>alert(1)</script>"));
    assert!(
        html.contains("&#60;script&#62;alert(1)&#60;/script&#62;") || html.contains("&lt;script&gt;"),
        "{html}"
    );
}

#[tokio::test]
async fn responses_carry_security_headers() {
    let s = serve(&fixture("basic"));
    let (_, headers, _) = send(&s.app, Request::get("/").body(Body::empty()).unwrap()).await;
    assert!(
        headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("script-src 'self'")
    );
    assert_eq!(headers["x-content-type-options"], "nosniff");
}

#[tokio::test]
async fn status_reports_the_generation_and_what_was_loaded() {
    let s = serve(&fixture("basic"));
    let (status, v) = get_json(&s.app, "/api/status").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["generation"], 1);
    assert_eq!(v["reload"]["reloaded"].as_array().unwrap().len(), 5);
    assert_eq!(v["last_error"], serde_json::Value::Null);
}

#[tokio::test]
async fn exports_stream_csv_and_json_and_tables_download() {
    let s = serve(&fixture("basic"));
    let req = Request::post("/api/export")
        .header("content-type", "application/json")
        .body(Body::from(
            r#"{"sql":"SELECT order_id, amount FROM shop.orders ORDER BY 1","format":"csv"}"#,
        ))
        .unwrap();
    let (status, headers, body) = send(&s.app, req).await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers["content-disposition"].to_str().unwrap().contains("query.csv"));
    assert_eq!(
        String::from_utf8(body).unwrap(),
        "order_id,amount\n1,19.99\n2,5.00\n3,42.50\n"
    );
    // A form post (the console's export buttons), JSON.
    let req = Request::post("/api/export")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(
            "sql=SELECT+order_id+FROM+shop.orders+WHERE+order_id+%3C+3+ORDER+BY+1&format=json",
        ))
        .unwrap();
    let (status, _, body) = send(&s.app, req).await;
    assert_eq!(status, StatusCode::OK);
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v, serde_json::json!([{"order_id": 1}, {"order_id": 2}]));
    // Refused SQL answers a JSON error before anything streams.
    let req = Request::post("/api/export")
        .body(Body::from(r#"{"sql":"COPY shop.orders TO '/tmp/x.csv'"}"#))
        .unwrap();
    let (status, _, _) = send(&s.app, req).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, csv) = get(&s.app, "/api/products/shop/orders/tables/orders.csv").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(csv.lines().count(), 4);
    let (status, _) = get(&s.app, "/api/products/shop/orders/tables/nope.csv").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn exports_stop_at_the_export_cap() {
    let dir = fixture("basic");
    let scratch = tempfile::tempdir().unwrap();
    let mesh = std::sync::Arc::new(
        meshbox::live::snapshot::Mesh::open(
            &std::fs::canonicalize(&dir).unwrap(),
            crate::common::options(scratch.path()),
            10_000,
        )
        .unwrap(),
    );
    let limits = Limits {
        time_limit: Duration::from_secs(5),
        max_rows: 10,
    };
    let app = meshbox::serve::http::router(meshbox::serve::http::AppState::with_export_cap(
        mesh,
        limits,
        64 * 1024,
        2500,
    ));
    let req = Request::post("/api/export")
        .body(Body::from(r#"{"sql":"SELECT * FROM range(100000)","format":"csv"}"#))
        .unwrap();
    let (status, headers, body) = send(&app, req).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["x-meshbox-row-cap"], "2500");
    assert_eq!(String::from_utf8(body).unwrap().lines().count(), 2501);
}

#[tokio::test]
async fn the_product_page_has_a_scorecard_and_column_profiles() {
    let s = serve(&fixture("basic"));
    let (_, v) = get_json(&s.app, "/api/products/shop/orders").await;
    let card = &v["scorecard"];
    let names: Vec<&str> = card["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "discoverable",
            "addressable",
            "trustworthy",
            "self-describing",
            "interoperable",
            "secure"
        ]
    );
    let secure = &card["attributes"][5];
    assert_eq!(secure["criteria"][0]["met"], false);
    assert!(
        secure["criteria"][0]["fix"]
            .as_str()
            .unwrap()
            .contains("orders.order_id"),
        "{secure}"
    );
    let profile = &v["table_details"][0]["profile"];
    let amount = profile
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "amount")
        .unwrap();
    assert_eq!(amount["min"], "5.00");
    assert_eq!(amount["max"], "42.50");
    assert_eq!(amount["nulls"], 0);
    assert_eq!(
        amount["histogram"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n.as_u64().unwrap())
            .sum::<u64>(),
        3
    );
    let (_, html) = get(&s.app, "/products/shop/orders").await;
    assert!(html.contains("Data product scorecard") && html.contains("<svg class=\"histogram\""));
    // Classified columns show counts, not values.
    let (_, v) = get_json(&s.app, "/api/products/people/customers").await;
    let name = v["table_details"][0]["profile"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "name")
        .unwrap();
    assert_eq!(
        (
            name["masked"].as_bool(),
            name["min"].is_null(),
            name["top"].as_array().unwrap().len()
        ),
        (Some(true), true, 0)
    );
}

#[tokio::test]
async fn problems_link_to_the_line_of_the_manifest() {
    let s = serve(&fixture("basic"));
    let (_, v) = get_json(&s.app, "/api/problems").await;
    let p = v
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["location"] == "shop/broken-yaml/broken.odcs.yaml:8:7")
        .expect("the YAML error");
    assert_eq!(p["source_url"], "/source/shop/broken-yaml/broken.odcs.yaml#L8");
    let (status, html) = get(&s.app, "/source/shop/broken-yaml/broken.odcs.yaml").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("id=\"L8\" class=\"flagged\""), "{html}");
    // Only the mesh's manifests are shown: no data files, nothing outside the folder.
    for path in [
        "/source/shop/orders/data/orders.csv",
        "/source/../../etc/passwd",
        "/source/%2Fetc%2Fpasswd",
    ] {
        let (status, _) = get(&s.app, path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
}

#[tokio::test]
async fn the_home_page_shows_recent_changes() {
    let s = serve(&fixture("basic"));
    let (_, v) = get_json(&s.app, "/api/mesh").await;
    assert_eq!(v["recent"][0]["generation"], 1);
    assert!(
        v["recent"][0]["what"]
            .as_str()
            .unwrap()
            .starts_with("loaded 5 products")
    );
    let (_, html) = get(&s.app, "/").await;
    assert!(html.contains("Recent changes"));
}

#[tokio::test]
async fn timestamps_with_a_time_zone_answer_like_any_value() {
    let s = serve(&fixture("basic"));
    let sql = "SELECT TIMESTAMPTZ '2024-01-01 12:00:00+00' AS t, now() IS NOT NULL AS n, now() AS now";
    let (status, v) = query(&s.app, sql).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["types"], serde_json::json!(["TIMESTAMPTZ", "BOOLEAN", "TIMESTAMPTZ"]));
    let t = v["rows"][0][0].as_str().unwrap_or_default();
    assert!(t.starts_with("2024-01-01T12:00:00"), "{v}");
    assert_eq!(v["rows"][0][1], true);
}
