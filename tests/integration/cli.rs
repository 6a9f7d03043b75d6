//! The `meshbox` binary: exit codes (0 passed, 1 failed, 2 could not run: unusable input or meshbox's own failure), the output of
//! `validate`, `test` and `lint`, and a closed standard output.

use crate::common::{copy_dir, fixture};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The binary with a private cache folder, two DuckDB threads and default logging.
fn command(args: &[&str], scratch: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_meshbox"));
    cmd.args(args)
        .env("MESHBOX_CACHE_DIR", scratch)
        .env("MESHBOX_STATE_DIR", scratch.join("state"))
        .env("MESHBOX_THREADS", "2")
        .env_remove("RUST_LOG");
    cmd
}

fn meshbox(args: &[&str]) -> Output {
    let scratch = tempfile::tempdir().unwrap();
    command(args, scratch.path()).output().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
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
    assert!(xml.starts_with("<?xml") && xml.contains("<testsuites name="), "{xml}");
    let suite = xml
        .lines()
        .find(|l| {
            l.trim_start()
                .starts_with("<testsuite name=\"lab/measures\" tests=\"37\"")
        })
        .unwrap_or_else(|| panic!("a suite per product: {xml}"));
    assert!(suite.contains(" failures=\"10\""), "{suite}");
    assert!(
        xml.contains("<testcase name=\"measures__qty__field_null_values\" classname=\"lab/measures.measures\""),
        "a case per check, classed by table: {xml}"
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

#[test]
fn user_mistakes_exit_two() {
    let basic = fixture("basic");
    let basic = basic.to_str().unwrap();
    // A date that does not exist, named with its flag.
    let out = meshbox(&["validate", basic, "--now", "2026-02-31"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--now: `2026-02-31`"), "{}", stderr(&out));
    // A file that cannot be read as a contract.
    let dir = tempfile::tempdir().unwrap();
    let not_a_contract = dir.path().join("list.odcs.yaml");
    std::fs::write(&not_a_contract, "- just\n- a list\n").unwrap();
    let out = meshbox(&["test", not_a_contract.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("not a readable ODCS contract"),
        "{}",
        stderr(&out)
    );
    let out = meshbox(&[
        "diff",
        not_a_contract.to_str().unwrap(),
        not_a_contract.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    // A path that does not exist, and an --output in a folder that does not exist.
    let out = meshbox(&["lint", "/definitely/not/here"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = meshbox(&["validate", basic, "--output", "/definitely/not/here/report.xml"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--output"), "{}", stderr(&out));
    // clap's own usage errors keep clap's code.
    let out = meshbox(&["validate", basic, "--no-such-flag"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = meshbox(&["validate", basic, "--format", "yaml"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

#[cfg(target_os = "linux")]
#[test]
fn failing_to_write_the_output_exits_two_and_says_so() {
    // /dev/full takes no byte: an I/O error writing the output is meshbox's failure, not the input's.
    let contract = fixture("basic/shop/orders/orders.odcs.yaml");
    let out = meshbox(&["test", contract.to_str().unwrap(), "--output", "/dev/full"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("writing /dev/full"), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("meshbox failed (not your input)"),
        "{}",
        stderr(&out)
    );
    let scratch = tempfile::tempdir().unwrap();
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
    let out = command(&["lint", fixture("foreign").to_str().unwrap()], scratch.path())
        .stdout(full)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("writing to standard output"), "{}", stderr(&out));
}

/// Runs the command with its standard output a pipe whose read end is closed at once, as `| head -0` would.
fn with_closed_stdout(args: &[&str]) -> Output {
    let scratch = tempfile::tempdir().unwrap();
    let mut child = command(args, scratch.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    child.wait_with_output().unwrap()
}

#[test]
fn a_closed_pipe_ends_a_command_quietly() {
    let basic = fixture("basic");
    let contract = fixture("checks/lab/measures/measures.odcs.yaml");
    for args in [
        vec!["validate", basic.to_str().unwrap()],
        vec!["validate", basic.to_str().unwrap(), "--format", "junit"],
        vec!["test", contract.to_str().unwrap()],
        vec!["lint", basic.to_str().unwrap()],
    ] {
        let out = with_closed_stdout(&args);
        let err = stderr(&out);
        assert!(
            !err.contains("panicked") && !err.contains("failed printing"),
            "{args:?}: {err}"
        );
        assert_ne!(out.status.code(), Some(101), "{args:?}: {err}");
        assert!(!err.contains("meshbox: error"), "{args:?}: {err}");
        if args[0] != "lint" {
            // Loading takes long enough for the reader to be gone before the first byte: a quiet success.
            assert_eq!(out.status.code(), Some(0), "{args:?}: {err}");
        }
    }
}

#[test]
fn a_closed_standard_error_does_not_panic() {
    // `test` of an unreadable contract writes its diagnostics to stderr before it exits 2.
    let dir = tempfile::tempdir().unwrap();
    let not_a_contract = dir.path().join("list.odcs.yaml");
    std::fs::write(&not_a_contract, "- just\n- a list\n").unwrap();
    let mut child = command(&["test", not_a_contract.to_str().unwrap()], dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stderr.take());
    let out = child.wait_with_output().unwrap();
    // A panic would exit 101 (and could not even say so); the user mistake keeps its code.
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stdout));
}

/// Waits until the child logs a line holding `needle`; its standard error keeps being read (and dropped) after.
fn wait_for_log(child: &mut Child, needle: &'static str) {
    let (tx, rx) = std::sync::mpsc::channel();
    let err = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(240);
    while let Ok(line) = rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        if line.contains(needle) {
            return;
        }
        seen.push(line);
    }
    panic!("`{needle}` never logged: {seen:#?}")
}

#[test]
fn serve_keeps_serving_when_nobody_reads_its_output() {
    let scratch = tempfile::tempdir().unwrap();
    let mut child = command(
        &["serve", fixture("basic").to_str().unwrap(), "--port", "0", "--no-watch"],
        scratch.path(),
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    drop(child.stdout.take());
    wait_for_log(&mut child, "mesh loaded");
    // The banner is written right after the load; a SIGPIPE or a panic would end the process.
    std::thread::sleep(Duration::from_millis(1500));
    let status = child.try_wait().unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(status, None, "serve ended when its standard output was closed");
}

/// A contract written for datacontract-cli, whose server path is relative to the folder it runs from (`tests/`),
/// in `dir`: `contracts/cities.odcs.yaml` reading `data/cities.csv` of `dir`.
fn contract_relative_to_the_working_directory(dir: &std::path::Path) -> std::path::PathBuf {
    std::fs::create_dir_all(dir.join("contracts")).unwrap();
    std::fs::create_dir_all(dir.join("data")).unwrap();
    std::fs::write(dir.join("data/cities.csv"), "id,name\n1,Lyon\n2,Porto\n").unwrap();
    let contract = dir.join("contracts/cities.odcs.yaml");
    std::fs::write(
        &contract,
        "apiVersion: v3.0.2\nkind: DataContract\nid: cities\nversion: 1.0.0\nstatus: active\n\
         servers:\n  - server: local\n    type: local\n    format: csv\n    path: data/cities.csv\n\
         schema:\n  - name: cities\n    properties:\n      - name: id\n        logicalType: integer\n        required: true\n\
         \x20     - name: name\n        logicalType: string\n",
    )
    .unwrap();
    contract
}

#[test]
fn test_reads_a_path_relative_to_the_working_directory_when_the_contract_folder_has_none() {
    let dir = tempfile::tempdir().unwrap();
    let scratch = tempfile::tempdir().unwrap();
    contract_relative_to_the_working_directory(dir.path());
    let run = |cwd: &std::path::Path, extra: &[&str]| {
        let contract = dir.path().join("contracts/cities.odcs.yaml");
        let mut args = vec!["test", contract.to_str().unwrap()];
        args.extend_from_slice(extra);
        command(&args, scratch.path()).current_dir(cwd).output().unwrap()
    };
    // From the folder datacontract-cli's suite runs in: read, with a note saying from where.
    let out = run(dir.path(), &[]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    assert!(text.contains("relative to the working directory"), "{text}");
    // From anywhere else the file is missing: nothing was tested, which is not a pass …
    let elsewhere = tempfile::tempdir().unwrap();
    let out = run(elsewhere.path(), &[]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}{}", stderr(&out));
    assert!(text.contains("file not found: `data/cities.csv`"), "{text}");
    // … unless the pipeline asks for datacontract-cli's exit code.
    let out = run(elsewhere.path(), &["--missing-data", "warn"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    assert!(text.contains("file not found: `data/cities.csv`"), "{text}");
    // A contract that does fail still fails with --missing-data warn.
    std::fs::write(dir.path().join("data/cities.csv"), "id,name\n,Lyon\n").unwrap();
    let out = run(dir.path(), &["--missing-data", "warn"]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stdout));
}

/// On a terminal, `validate` shows its progress (phase, products of total) while it loads; with `--format json`, or
/// when standard error is not a terminal, nothing extra is printed. The terminal is a pseudo-terminal from `script`.
#[test]
fn progress_shows_on_a_terminal_and_never_in_json_or_a_pipe() {
    let scratch = tempfile::tempdir().unwrap();
    let sample = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-mesh");
    let on_terminal = |format: &str| {
        let line = format!(
            "{} validate {} --format {format}",
            env!("CARGO_BIN_EXE_meshbox"),
            sample.display()
        );
        let out = Command::new("script")
            .args(["-qec", &line, "/dev/null"])
            .env("MESHBOX_CACHE_DIR", scratch.path())
            .env("MESHBOX_STATE_DIR", scratch.path().join("state"))
            .env("MESHBOX_THREADS", "2")
            .env_remove("RUST_LOG")
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let text = on_terminal("text");
    assert!(text.contains("products ·") && text.contains("loading"), "{text}");
    assert!(text.contains("mesh Northwind Outdoor"), "the report follows: {text}");
    let json = on_terminal("json");
    assert!(!json.contains("loading") && !json.contains("products ·"), "{json}");
    let piped = meshbox(&["validate", sample.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&piped.stderr);
    assert!(!stderr.contains("loading"), "{stderr}");
}
