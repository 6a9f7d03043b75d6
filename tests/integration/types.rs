//! Every DuckDB type meshbox can serve renders in every output: the console's JSON, the CSV and JSON exports, and a
//! failed check's sample rows — one table of values, each selected through all of them.

use crate::common::{fixture, query, send, serve};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};
use std::process::Command;

/// (column name, SQL expression, DuckDB type the console reports, the value in the console's JSON, the cell in the
/// CSV export).
const TYPES: &[(&str, &str, &str, &str, &str)] = &[
    ("b", "true", "BOOLEAN", "true", "true"),
    ("i8", "(-128)::TINYINT", "TINYINT", "-128", "-128"),
    (
        "u64",
        "18446744073709551615::UBIGINT",
        "UBIGINT",
        "18446744073709551615",
        "18446744073709551615",
    ),
    // HUGEINT travels as a 38-digit decimal; digits a double cannot hold come as an exact string.
    (
        "huge",
        "170141183460469231731687303715884105727::HUGEINT",
        "DECIMAL(38,0)",
        "\"170141183460469231731687303715884105727\"",
        "170141183460469231731687303715884105727",
    ),
    ("small_huge", "42::HUGEINT", "DECIMAL(38,0)", "42", "42"),
    // Arrow would wrap UHUGEINT above 2^127: cast to text on DuckDB's side.
    (
        "uhuge",
        "340282366920938463463374607431768211455::UHUGEINT",
        "VARCHAR",
        "\"340282366920938463463374607431768211455\"",
        "340282366920938463463374607431768211455",
    ),
    ("f", "1.5::FLOAT", "FLOAT", "1.5", "1.5"),
    ("nan", "'NaN'::DOUBLE", "DOUBLE", "null", "NaN"),
    ("dec", "12.34::DECIMAL(4,2)", "DECIMAL(4,2)", "12.34", "12.34"),
    (
        "sum",
        "(SELECT sum(x) FROM (VALUES (0.10::DECIMAL(10,2)), (0.20)) v(x))",
        "DECIMAL(38,2)",
        "0.3",
        "0.30",
    ),
    (
        "dec38",
        "'1234567890123456789012345678.0123456789'::DECIMAL(38,10)",
        "DECIMAL(38,10)",
        "\"1234567890123456789012345678.0123456789\"",
        "1234567890123456789012345678.0123456789",
    ),
    ("d", "DATE '2024-02-29'", "DATE", "\"2024-02-29\"", "2024-02-29"),
    ("t", "TIME '13:14:15.5'", "TIME", "\"13:14:15.500\"", "13:14:15.500"),
    // Arrow would drop the offset of a TIME WITH TIME ZONE: cast to text on DuckDB's side.
    (
        "ttz",
        "TIMETZ '12:00:00+02'",
        "VARCHAR",
        "\"12:00:00+02\"",
        "12:00:00+02",
    ),
    (
        "ts",
        "TIMESTAMP '2024-01-01 12:00:00'",
        "TIMESTAMP",
        "\"2024-01-01T12:00:00\"",
        "2024-01-01T12:00:00",
    ),
    (
        "ts_ns",
        "TIMESTAMP_NS '2024-01-01 12:00:00.123456789'",
        "TIMESTAMP_NS",
        "\"2024-01-01T12:00:00.123456789\"",
        "2024-01-01T12:00:00.123456789",
    ),
    (
        "tsz",
        "TIMESTAMPTZ '2024-07-01 00:30:00+05:30'",
        "TIMESTAMPTZ",
        "\"2024-06-30T19:00:00Z\"",
        "2024-06-30T19:00:00Z",
    ),
    (
        "iv",
        "INTERVAL '1 day 2 hours'",
        "INTERVAL",
        "\"1 days 2 hours\"",
        "1 days 2 hours",
    ),
    (
        "uuid",
        "'7f3a1b2c-0000-4000-8000-000000000001'::UUID",
        "VARCHAR",
        "\"7f3a1b2c-0000-4000-8000-000000000001\"",
        "7f3a1b2c-0000-4000-8000-000000000001",
    ),
    ("blob", "'\\xAA\\x42'::BLOB", "BLOB", "\"aa42\"", "aa42"),
    // BIT travels as its internal bytes in Arrow: cast to text on DuckDB's side.
    ("bits", "'0101'::BIT", "VARCHAR", "\"0101\"", "0101"),
    ("e", "'b'::ENUM('a', 'b')", "VARCHAR", "\"b\"", "b"),
    ("l", "[1, 2, NULL]", "LIST", "[1,2,null]", "\"[1, 2, NULL]\""),
    ("arr", "[1.5, 2.5]::DOUBLE[2]", "LIST", "[1.5,2.5]", "\"[1.5, 2.5]\""),
    (
        "s",
        "{'a': 1, 'b': 'x', 'c': [true]}",
        "STRUCT",
        "{\"a\":1,\"b\":\"x\",\"c\":[true]}",
        "\"{a: 1, b: x, c: [true]}\"",
    ),
    (
        "m",
        "MAP {'k': 1, 'j': 2}",
        "MAP",
        "{\"k\":1,\"j\":2}",
        "\"{k: 1, j: 2}\"",
    ),
    (
        "u",
        "union_value(num := 2)::UNION(num INTEGER, str VARCHAR)",
        "UNION(num INTEGER, str VARCHAR)",
        "\"{num=2}\"",
        "{num=2}",
    ),
    (
        "txt",
        "'naïve ✓ \"quoted\", comma'",
        "VARCHAR",
        "\"naïve ✓ \\\"quoted\\\", comma\"",
        "\"naïve ✓ \"\"quoted\"\", comma\"",
    ),
    ("nul", "NULL::INTEGER", "INTEGER", "null", ""),
];

fn select_all() -> String {
    let cols: Vec<String> = TYPES
        .iter()
        .map(|(name, expr, ..)| format!("{expr} AS {name}"))
        .collect();
    format!("SELECT {}", cols.join(", "))
}

#[tokio::test]
async fn every_type_answers_in_the_console_as_json() {
    let s = serve(&fixture("basic"));
    let mut wrong = Vec::new();
    for (name, expr, ty, value, _) in TYPES {
        let (status, v) = query(&s.app, &format!("SELECT {expr} AS {name}")).await;
        if status != StatusCode::OK {
            wrong.push(format!("{name}: {status} {v}"));
            continue;
        }
        let got_type = v["types"][0].as_str().unwrap_or_default();
        let got = serde_json::to_string(&v["rows"][0][0]).unwrap();
        if got_type != *ty || got != *value {
            wrong.push(format!("{name}: {got_type} {got}  (expected {ty} {value})"));
        }
    }
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
    // DuckDB is built without ICU: a named zone in SQL is refused with DuckDB's explanation, never a 500. (Values
    // with a named zone render: base::values' unit test.)
    let (status, v) = query(&s.app, "SELECT TIMESTAMPTZ '2024-03-10 12:00:00 America/New_York'").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    assert!(v["error"].as_str().unwrap().contains("ICU"), "{v}");
    // All at once, as one row.
    let (status, v) = query(&s.app, &select_all()).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["rows"][0].as_array().unwrap().len(), TYPES.len());
}

async fn export(app: &axum::Router, format: &str) -> (StatusCode, String) {
    let body = json!({"sql": select_all(), "format": format}).to_string();
    let req = Request::post("/api/export")
        .header("content-type", "application/json")
        .body(Body::from(body))
        .unwrap();
    let (status, _, bytes) = send(app, req).await;
    (status, String::from_utf8(bytes).unwrap())
}

#[tokio::test]
async fn every_type_exports_as_csv_and_json() {
    let s = serve(&fixture("basic"));
    let (status, csv) = export(&s.app, "csv").await;
    assert_eq!(status, StatusCode::OK, "{csv}");
    let mut lines = csv.lines();
    let header: Vec<&str> = TYPES.iter().map(|t| t.0).collect();
    assert_eq!(lines.next().unwrap(), header.join(","));
    let row = lines.next().unwrap();
    let expected: Vec<&str> = TYPES.iter().map(|t| t.4).collect();
    assert_eq!(row, expected.join(","));
    let (status, text) = export(&s.app, "json").await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    let object = v[0].as_object().unwrap();
    let mut wrong = Vec::new();
    for (name, _, _, value, _) in TYPES {
        let got = serde_json::to_string(&object[*name]).unwrap();
        if got != *value {
            wrong.push(format!("{name}: {got} (expected {value})"));
        }
    }
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}

/// A Parquet file holding one row of every type, and a contract whose `id` is required: the row (its `id` NULL) is
/// the failed check's sample.
#[test]
fn every_type_appears_in_a_failed_checks_sample() {
    let dir = tempfile::tempdir().unwrap();
    let conn = duckdb::Connection::open_in_memory().unwrap();
    let file = dir.path().join("values.parquet");
    conn.execute_batch(&format!(
        "COPY ({}, NULL::INTEGER AS id) TO '{}' (FORMAT parquet)",
        select_all(),
        file.display()
    ))
    .unwrap();
    std::fs::write(
        dir.path().join("values.odcs.yaml"),
        "apiVersion: v3.1.0\nkind: DataContract\nid: urn:types\nversion: 1.0.0\nstatus: active\nschema:\n  - name: \
         values\n    properties:\n      - name: id\n        logicalType: integer\n        required: true\nservers:\n  \
         - server: local\n    type: local\n    format: parquet\n    path: values.parquet\n",
    )
    .unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_meshbox"))
        .current_dir(dir.path())
        .args([
            "test",
            "values.odcs.yaml",
            "--format",
            "json",
            "--include-failed-samples",
        ])
        .env("MESHBOX_CACHE_DIR", scratch.path())
        .env("MESHBOX_THREADS", "2")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let required = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "field_required")
        .unwrap();
    let sample = &required["samples"];
    let columns: Vec<&str> = sample["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    let row = sample["rows"][0].as_array().unwrap();
    // What Parquet holds of the types it has no equivalent for (DuckDB writes HUGEINT and UHUGEINT as DOUBLE, a
    // TIME WITH TIME ZONE adjusted to UTC, a UNION as a struct): rendered as the file holds them.
    let in_parquet = [
        ("huge", "1.7014118346046923e+38"),
        ("small_huge", "42.0"),
        ("uhuge", "3.402823669209385e+38"),
        ("ttz", "\"10:00:00+00\""),
        ("u", "{\"element1\":0,\"num\":2,\"str\":null}"),
    ];
    let mut wrong = Vec::new();
    for (name, _, _, value, _) in TYPES {
        let value = in_parquet.iter().find(|(n, _)| n == name).map_or(*value, |(_, v)| *v);
        let Some(i) = columns.iter().position(|c| c == name) else {
            wrong.push(format!("{name}: not in the sample"));
            continue;
        };
        let got = serde_json::to_string(&row[i]).unwrap();
        if got != *value {
            wrong.push(format!("{name}: {got} (expected {value})"));
        }
    }
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}
