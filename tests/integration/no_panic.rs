//! No input reaches a panic: every contract of the test fixtures and a set of generated odd files (broken YAML,
//! wrong types in every field, hostile data files) go through `meshbox test` and `meshbox validate`, which must answer
//! with a verdict (0, 1) or "could not run" (2), without meshbox's own failure or a panic (101).

use crate::common::copy_dir;
use std::path::{Path, PathBuf};
use std::process::Output;

fn meshbox(dir: &Path, args: &[&str]) -> Output {
    crate::common::meshbox_in(dir, args)
}

/// The exit code, or a description of what went wrong.
fn answered(what: &str, out: &Output) -> Result<(), String> {
    let stderr = String::from_utf8_lossy(&out.stderr);
    match out.status.code() {
        Some(0..=2) if !stderr.contains("panicked") && !stderr.contains("meshbox failed") => Ok(()),
        code => Err(format!(
            "{what}: exit {code:?}: {}",
            stderr.lines().take(6).collect::<Vec<_>>().join(" | ")
        )),
    }
}

/// Every `*.odcs.yaml` under `dir`.
fn contracts_under(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            contracts_under(&p, out);
        } else if p.to_string_lossy().ends_with(".odcs.yaml") {
            out.push(p);
        }
    }
}

const HEAD: &str = "apiVersion: v3.1.0\nkind: DataContract\nid: urn:odd\nversion: 1.0.0\nstatus: active\n";

/// Odd contracts and data, by name: (contract text, data file name, data bytes).
fn odd_cases() -> Vec<(String, String, &'static str, Vec<u8>)> {
    let server = |format: &str, path: &str| {
        format!("servers:\n  - server: local\n    type: local\n    format: {format}\n    path: {path}\n")
    };
    let table = |props: &str| format!("schema:\n  - name: t\n    properties:\n{props}");
    let col = |name: &str, extra: &str| format!("      - name: {name}\n        logicalType: string\n{extra}");
    let mut cases: Vec<(String, String, &'static str, Vec<u8>)> = vec![
        ("empty".into(), String::new(), "", vec![]),
        ("binary".into(), "\u{0}\u{1}\u{2}\u{fffd}\u{7f}".into(), "", vec![]),
        ("list-root".into(), "- a\n- b\n".into(), "", vec![]),
        ("scalar-root".into(), "42\n".into(), "", vec![]),
        ("tabs".into(), "apiVersion:\tv3.1.0\n\tkind: x\n".into(), "", vec![]),
        (
            "deep".into(),
            format!("{HEAD}x: {}1{}\n", "[".repeat(2000), "]".repeat(2000)),
            "",
            vec![],
        ),
        (
            "aliases".into(),
            format!(
                "{HEAD}a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, \
                 *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: [*d, *d, *d, *d, *d, *d, *d, \
                 *d, *d]\n"
            ),
            "",
            vec![],
        ),
        (
            "wrong-types".into(),
            format!("{HEAD}schema: 7\nservers: {{a: 1}}\nslaProperties: x\n"),
            "",
            vec![],
        ),
        (
            "schema-entries-wrong".into(),
            format!(
                "{HEAD}schema: [1, null, [], {{name: [x]}}, {{properties: 3}}, {{name: t, properties: [7, {{name: {{}}}}]}}]\n"
            ),
            "",
            vec![],
        ),
        (
            "huge-numbers".into(),
            format!(
                "{HEAD}{}{}",
                table(&col(
                    "a",
                    "        logicalTypeOptions: {minLength: 99999999999999999999999, maximum: 1e400, minimum: -1e400}\n        \
                     quality:\n          - {metric: rowCount, mustBeBetween: [1e400, -1e400]}\n          - {metric: nullValues, \
                     mustBeLessThan: .nan}\n"
                )),
                server("csv", "d.csv")
            ),
            "d.csv",
            b"a\nx\n".to_vec(),
        ),
        (
            "bad-regex".into(),
            format!(
                "{HEAD}{}{}",
                table(&col("a", "        logicalTypeOptions: {pattern: '(['}\n")),
                server("csv", "d.csv")
            ),
            "d.csv",
            b"a\nx\n".to_vec(),
        ),
        (
            "bad-sql".into(),
            format!(
                "{HEAD}{}{}",
                table(&col(
                    "a",
                    "        quality:\n          - {type: sql, query: 'SELEC nonsense ((', mustBe: 0}\n          - {type: sql, \
                     query: \"COPY t TO '/tmp/x'\", mustBe: 0}\n          - {type: sql, query: 'SELECT 1; SELECT 2', mustBe: \
                     0}\n          - {type: sql, query: \"SELECT 'text'\", mustBe: 0}\n"
                )),
                server("csv", "d.csv")
            ),
            "d.csv",
            b"a\nx\n".to_vec(),
        ),
        (
            "ragged-csv".into(),
            format!("{HEAD}{}{}", table(&col("a", "")), server("csv", "d.csv")),
            "d.csv",
            b"a,b\n1\n2,3,4,5\n\"unterminated\n\xff\xfe\x00bad utf8\n".to_vec(),
        ),
        (
            "nul-csv".into(),
            format!("{HEAD}{}{}", table(&col("a", "")), server("csv", "d.csv")),
            "d.csv",
            b"\x00\x00\x00\x00".to_vec(),
        ),
        (
            "truncated-parquet".into(),
            format!("{HEAD}{}{}", table(&col("a", "")), server("parquet", "d.parquet")),
            "d.parquet",
            b"PAR1\x00\x00\x00garbagePAR1".to_vec(),
        ),
        (
            "mixed-json".into(),
            format!(
                "{HEAD}{}{}",
                table(&col("a", "        required: true\n")),
                server("json", "d.json")
            ),
            "d.json",
            b"{\"a\": 1}\n[1,2]\n\"x\"\n{\"a\": {\"b\": []}}\nnot json\n".to_vec(),
        ),
        (
            "path-is-folder".into(),
            format!("{HEAD}{}{}", table(&col("a", "")), server("csv", ".")),
            "",
            vec![],
        ),
        (
            "path-escapes".into(),
            format!(
                "{HEAD}{}{}",
                table(&col("a", "")),
                server("csv", "../../../../etc/passwd")
            ),
            "",
            vec![],
        ),
        (
            "glob-nothing".into(),
            format!("{HEAD}{}{}", table(&col("a", "")), server("csv", "data/**/*.csv")),
            "",
            vec![],
        ),
        (
            "sla-odd".into(),
            format!(
                "{HEAD}{}{}slaProperties:\n  - {{property: freshness, value: -5, unit: eons, element: t.a}}\n  - {{property: \
                 retention, value: P, element: nope.nope}}\n  - {{property: latency, value: [1], element: 5}}\n",
                table(&col("a", "")),
                server("csv", "d.csv")
            ),
            "d.csv",
            b"a\n2024-13-45\n".to_vec(),
        ),
        (
            "relationships-odd".into(),
            format!(
                "apiVersion: v3.1.0\nkind: DataContract\nid: urn:odd\nversion: 1.0.0\nstatus: active\nschema:\n  - name: \
                 t\n    relationships: [{{from: [], to: [a, b]}}, {{type: foreignKey}}, 5]\n    properties:\n      - name: \
                 a\n        relationships: [{{to: /schema/x/properties/}}, {{to: ..}}]\n{}",
                server("csv", "d.csv")
            ),
            "d.csv",
            b"a\n1\n".to_vec(),
        ),
    ];
    for ty in [
        "integer",
        "number",
        "date",
        "timestamp",
        "boolean",
        "object",
        "array",
        "time",
        "unknown-type",
    ] {
        cases.push((
            format!("cast-{ty}"),
            format!(
                "{HEAD}schema:\n  - name: t\n    properties:\n      - name: a\n        logicalType: {ty}\n        \
                 logicalTypeOptions: {{minimum: 1, maxLength: 2, format: uuid}}\n{}",
                server("csv", "d.csv")
            ),
            "d.csv",
            b"a\n1\nx\n99999999999999999999999999999\n-0\n2024-02-30\ntrue\n\n".to_vec(),
        ));
    }
    cases
}

#[test]
fn no_input_makes_meshbox_panic() {
    let mut problems = Vec::new();
    // Every contract of the test fixtures, tested where it lies.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut contracts = Vec::new();
    contracts_under(&root.join("tests/fixtures"), &mut contracts);
    contracts_under(&root.join("tests/parity"), &mut contracts);
    contracts_under(&root.join("sample-mesh"), &mut contracts);
    assert!(contracts.len() >= 40, "{}", contracts.len());
    for c in &contracts {
        let out = meshbox(c.parent().unwrap(), &["test", c.to_str().unwrap(), "--format", "json"]);
        if let Err(e) = answered(&format!("test {}", c.display()), &out) {
            problems.push(e);
        }
    }
    // The odd files, each alone through `test`, and all of them as one mesh through `validate`.
    let mesh = tempfile::tempdir().unwrap();
    let cases = odd_cases();
    for (name, contract, data_name, data) in &cases {
        let dir = mesh.path().join("odd").join(name);
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join(format!("{name}.odcs.yaml"));
        std::fs::write(&file, contract).unwrap();
        if !data_name.is_empty() {
            std::fs::write(dir.join(data_name), data).unwrap();
        }
        let out = meshbox(&dir, &["test", file.to_str().unwrap(), "--format", "json"]);
        if let Err(e) = answered(&format!("test odd/{name}"), &out) {
            problems.push(e);
        }
    }
    for format in ["text", "json", "junit", "github"] {
        let out = meshbox(mesh.path(), &["validate", ".", "--format", format]);
        if let Err(e) = answered(&format!("validate the odd mesh --format {format}"), &out) {
            problems.push(e);
        }
    }
    // Every fixture mesh through `validate`.
    for fixture in std::fs::read_dir(root.join("tests/fixtures")).unwrap() {
        let dir = fixture.unwrap().path();
        let copy = tempfile::tempdir().unwrap();
        copy_dir(&dir, copy.path());
        let out = meshbox(copy.path(), &["validate", ".", "--format", "json"]);
        if let Err(e) = answered(&format!("validate {}", dir.display()), &out) {
            problems.push(e);
        }
    }
    assert!(
        problems.is_empty(),
        "{} inputs made meshbox fail:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
