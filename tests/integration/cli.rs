//! The `meshbox` binary: exit codes and output of `validate` and `test`.

use crate::common::{copy_dir, fixture};
use std::process::{Command, Output};

fn meshbox(args: &[&str]) -> Output {
    let scratch = tempfile::tempdir().unwrap();
    Command::new(env!("CARGO_BIN_EXE_meshbox"))
        .args(args)
        .env("MESHBOX_CACHE_DIR", scratch.path())
        .env("MESHBOX_THREADS", "2")
        .env_remove("RUST_LOG")
        .output()
        .unwrap()
}

#[test]
fn validate_exits_zero_when_everything_passes() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&fixture("basic/people"), &dir.path().join("people"));
    let out = meshbox(&["validate", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("people/customers") && text.contains("passed: 2 products"),
        "{text}"
    );
}

#[test]
fn validate_exits_one_on_a_failed_product_and_reports_every_product_as_json() {
    let out = meshbox(&["validate", fixture("basic").to_str().unwrap(), "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["result"], "failed");
    assert_eq!(v["summary"]["products"], 5);
    assert_eq!(v["summary"]["failed"], 2);
    let names: Vec<&str> = v["products"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["customers", "visits", "broken-data", "broken-yaml", "orders"]);
    let broken = &v["products"][3]["diagnostics"][0];
    assert_eq!(broken["file"], "shop/broken-yaml/broken.odcs.yaml");
    assert_eq!(broken["line"], 8);
}

#[test]
fn validate_exits_one_on_a_failing_check_and_names_the_file_and_line() {
    let out = meshbox(&["validate", fixture("checks").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("lab/measures/measures.odcs.yaml:65"), "{text}");
}

#[test]
fn validate_exits_two_on_unusable_input() {
    let out = meshbox(&["validate", "/definitely/not/here"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("/definitely/not/here") && err.contains("not a folder"),
        "{err}"
    );
    let out = meshbox(&["validate", fixture("basic").to_str().unwrap(), "--now", "last tuesday"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn test_runs_one_contract_like_datacontract_test() {
    let contract = fixture("checks/lab/measures/measures.odcs.yaml");
    let out = meshbox(&["test", contract.to_str().unwrap(), "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["result"], "failed");
    assert_eq!(v["contract"], "urn:fx:lab:measures");
    assert_eq!(v["checks"].as_array().unwrap().len(), 37);
    let out = meshbox(&["test", contract.to_str().unwrap(), "--server", "nope"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no server named `nope`"));
    let out = meshbox(&["test", "/no/such/contract.odcs.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    let ok = fixture("basic/shop/orders/orders.odcs.yaml");
    let out = meshbox(&["test", ok.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn lint_reports_every_problem_and_exits_one() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.odcs.yaml");
    std::fs::write(
        &file,
        "apiVersion: v3.1.0\nkind: DataContract\nid: x\nversion: 1.0.0\nstatus: active\nschema:\n  - name: t\n    properties:\n\
         \x20     - name: a\n        logicalType: strng\n      - name: b\n        required: \"yes\"\n        quality:\n\
         \x20         - metric: nullValues\n            mustBeLessThan: \"5\"\n",
    )
    .unwrap();
    let out = meshbox(&["lint", file.to_str().unwrap(), "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["errors"], 3);
    let diags = v["files"][0]["diagnostics"].as_array().unwrap();
    let fields: Vec<&str> = diags.iter().map(|d| d["field"].as_str().unwrap()).collect();
    assert_eq!(
        fields,
        [
            "schema[0].properties[0].logicalType",
            "schema[0].properties[1].required",
            "schema[0].properties[1].quality[0].mustBeLessThan"
        ]
    );
    assert_eq!(diags[2]["line"], 15);
    assert_eq!(diags[2]["hint"], "write `mustBeLessThan: 5` without quotes");
    let out = meshbox(&["lint", fixture("basic").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "the broken YAML file is an error");
    let out = meshbox(&["lint", fixture("foreign").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn validate_speaks_junit_and_github_annotations() {
    let out = meshbox(&["validate", fixture("checks").to_str().unwrap(), "--format", "junit"]);
    assert_eq!(out.status.code(), Some(1));
    let xml = String::from_utf8_lossy(&out.stdout);
    assert!(
        xml.starts_with("<?xml") && xml.contains("<testsuite name=\"lab/measures\" tests=\"37\" failures=\"10\""),
        "{xml}"
    );
    let out = meshbox(&["validate", fixture("checks").to_str().unwrap(), "--format", "github"]);
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.contains("measures__qty__field_null_values"))
        .expect("an annotation per failing check");
    assert!(line.starts_with("::error file="), "{line}");
    assert!(line.contains("lab/measures/measures.odcs.yaml,line=65,"), "{line}");
}
