//! Governance fails closed: however a governance file breaks (syntax, encoding, emptiness, a FIFO, a link, a size
//! bomb, an error in a field), no role reads more than before — the last good governance stays in force, and on a
//! cold start with nothing good to keep, only admin roles read any product.

use crate::common::{copy_fixture, get_json, query_as, write};
use crate::governance::serve_governed;
use axum::http::StatusCode;
use meshbox::governance::last_good::GovernanceState;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const ROLES: &[&str] = &["viewer", "analyst", "crm_team", "steward", "admin"];
const TABLES: &[&str] = &["crm.customers", "crm.leads", "hr.salaries", "sales.orders"];

/// A domain.yaml for the fixture (it has none), so that domain files can be broken too.
const CRM_DOMAIN: &str = "title: Customer relations\nowner: CRM team\n";

/// How a test breaks a file.
#[derive(Debug, Clone)]
enum Break {
    Text(&'static str),
    Bytes(&'static [u8]),
    Empty,
    Fifo,
    LinkTo(&'static str),
    Huge,
}

/// Each governance file, and each way of breaking it.
fn cases() -> Vec<(&'static str, Break)> {
    use Break::*;
    let bomb = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n\
                c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n\
                e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n\
                g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\nh: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]\n";
    let bomb: &'static str = Box::leak(bomb.to_string().into_boxed_str());
    vec![
        ("mesh.yaml", Text("name: 'unclosed\naccess:\n  default_level: public\n")),
        ("mesh.yaml", Text(bomb)),
        ("mesh.yaml", Text("access:\n\tdefault_level: public\n")),
        ("mesh.yaml", Text("- just\n- a list\n")),
        ("mesh.yaml", Text("access:\n  default_level: secretive\nroles: 5\n")),
        ("mesh.yaml", Bytes(b"name: Governed \xff fixture\n")),
        ("mesh.yaml", Empty),
        ("mesh.yaml", Fifo),
        ("mesh.yaml", LinkTo("/dev/zero")),
        ("mesh.yaml", LinkTo("/etc/passwd")),
        ("mesh.yaml", Huge),
        (
            "policies/privacy.yaml",
            Text("policies:\n  - id: no-undeclared-pii\n\tseverity: error\n"),
        ),
        (
            "policies/privacy.yaml",
            Text("policies:\n  - id: no-undeclared-pii\n    rule: {builtin: no_such_rule}\n"),
        ),
        ("policies/privacy.yaml", Bytes(b"masking:\n  pii: partial\xc3\n")),
        ("policies/privacy.yaml", Empty),
        ("policies/privacy.yaml", Fifo),
        ("policies/privacy.yaml", LinkTo("/etc/passwd")),
        ("policies/naming.yaml", Text("id: snake-case\nrule: [unclosed\n")),
        ("sales/policies/described.yaml", Text("policies: {id: x, rule: \"\n")),
        ("sales/policies/described.yaml", Fifo),
        ("crm/domain.yaml", Text("title: 'unclosed\n")),
        ("crm/domain.yaml", Fifo),
        ("crm/domain.yaml", Empty),
    ]
}

fn apply(root: &Path, rel: &str, how: &Break) {
    let path = root.join(rel);
    let _ = std::fs::remove_file(&path);
    match how {
        Break::Text(t) => write(root, rel, t),
        Break::Bytes(b) => std::fs::write(&path, b).unwrap(),
        Break::Empty => std::fs::write(&path, "").unwrap(),
        Break::Fifo => make_fifo(&path),
        Break::LinkTo(target) => std::os::unix::fs::symlink(target, &path).unwrap(),
        Break::Huge => {
            let mut text = String::from("name: huge\ndescription: \"");
            text.push_str(&"x".repeat(17 * 1024 * 1024));
            text.push_str("\"\n");
            std::fs::write(&path, text).unwrap();
        }
    }
}

fn make_fifo(path: &Path) {
    let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    assert_eq!(
        unsafe { libc::mkfifo(c.as_ptr(), 0o644) },
        0,
        "mkfifo {}",
        path.display()
    );
}

/// Every (role, table) pair the console answers with 200, and the rows it answered.
async fn readable(app: &axum::Router) -> BTreeMap<(String, String), Value> {
    let mut out = BTreeMap::new();
    for role in ROLES {
        for table in TABLES {
            let (status, body) = query_as(app, role, &format!("SELECT * FROM {table} ORDER BY ALL")).await;
            if status == StatusCode::OK {
                out.insert((role.to_string(), table.to_string()), body["rows"].clone());
            }
        }
    }
    out
}

fn assert_no_wider(before: &BTreeMap<(String, String), Value>, after: &BTreeMap<(String, String), Value>, case: &str) {
    for (pair, rows) in after {
        match before.get(pair) {
            None => panic!("{case}: {pair:?} answers now but did not before the break"),
            Some(was) => assert_eq!(rows, was, "{case}: {pair:?} answers other values (masking changed)"),
        }
    }
}

/// The problems the API lists for `file`, as "location: message".
async fn problems_for(app: &axum::Router, file: &str) -> Vec<String> {
    let (status, v) = get_json(app, "/api/problems").await;
    assert_eq!(status, StatusCode::OK);
    v["problems"]
        .as_array()
        .or_else(|| v.as_array())
        .unwrap_or_else(|| panic!("/api/problems shape: {v}"))
        .iter()
        .filter(|p| p["location"].as_str().is_some_and(|l| l.starts_with(file)))
        .map(|p| format!("{}: {}", p["location"], p["message"]))
        .collect()
}

fn prepare(root: &Path) {
    write(root, "crm/domain.yaml", CRM_DOMAIN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_governance_file_keeps_the_last_good_governance_in_force() {
    let dir = copy_fixture("governed");
    prepare(dir.path());
    let originals: BTreeMap<&str, Vec<u8>> = cases()
        .iter()
        .map(|(f, _)| (*f, std::fs::read(dir.path().join(f)).unwrap()))
        .collect();
    let g = serve_governed(dir.path());
    assert_eq!(g.mesh.snapshot().governance.state, GovernanceState::Sound);
    let before = readable(&g.app).await;
    // The fixture's roles really differ: the viewer reads less than the admin.
    assert!(before.contains_key(&("admin".into(), "hr.salaries".into())));
    assert!(!before.contains_key(&("viewer".into(), "hr.salaries".into())));
    let mut failures = Vec::new();
    for (file, how) in cases() {
        let case = format!("{file} {how:?}");
        let case = &case[..case.len().min(120)];
        apply(dir.path(), file, &how);
        g.mesh
            .rebuild()
            .unwrap_or_else(|e| panic!("{case}: rebuild failed: {e}"));
        let snapshot = g.mesh.snapshot();
        match &snapshot.governance.state {
            GovernanceState::KeptLastGood { broken } if broken.iter().any(|b| b.starts_with(file)) => {}
            other => failures.push(format!("{case}: governance state {other:?}")),
        }
        assert_no_wider(&before, &readable(&g.app).await, case);
        if problems_for(&g.app, file).await.is_empty() {
            failures.push(format!("{case}: no problem listed for {file}"));
        }
        let (_, status) = get_json(&g.app, "/api/status").await;
        if !status["governance_alert"].as_str().is_some_and(|a| a.contains(file)) {
            failures.push(format!(
                "{case}: /api/status has no governance alert naming {file}: {status}"
            ));
        }
        // Fixed again: the folder's own governance is back in force.
        let _ = std::fs::remove_file(dir.path().join(file));
        std::fs::write(dir.path().join(file), &originals[file]).unwrap();
        g.mesh.rebuild().unwrap();
        assert_eq!(
            g.mesh.snapshot().governance.state,
            GovernanceState::Sound,
            "{case}: not sound after the fix"
        );
        assert_eq!(readable(&g.app).await, before, "{case}: access after the fix differs");
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cold_start_with_a_broken_governance_file_denies_every_non_admin_role() {
    let mut failures = Vec::new();
    for (file, how) in cases() {
        let case = format!("{file} {how:?}");
        let case = &case[..case.len().min(120)];
        let dir = copy_fixture("governed");
        prepare(dir.path());
        apply(dir.path(), file, &how);
        let g = serve_governed(dir.path());
        let snapshot = g.mesh.snapshot();
        if !matches!(&snapshot.governance.state, GovernanceState::Lockdown { broken } if broken.iter().any(|b| b.starts_with(file)))
        {
            failures.push(format!("{case}: governance state {:?}", snapshot.governance));
        }
        let answered = readable(&g.app).await;
        let non_admin: Vec<_> = answered.keys().filter(|(role, _)| role != "admin").collect();
        if !non_admin.is_empty() {
            failures.push(format!("{case}: non-admin roles read {non_admin:?}"));
        }
        // The admin still reads everything: the lock is on roles, not on the data.
        if answered.keys().filter(|(role, _)| role == "admin").count() != TABLES.len() {
            failures.push(format!("{case}: admin reads {answered:?}"));
        }
        let page = crate::common::get(&g.app, "/").await.1;
        if !page.contains("governance-alert") || !page.contains("access is locked") {
            failures.push(format!("{case}: the home page does not say access is locked"));
        }
        drop(g);
        // A FIFO left in the copy would block nothing, but the temporary folder must still be removable.
        let _ = std::fs::remove_file(dir.path().join(file));
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn symlinked_and_special_files_are_never_read_and_manifest_reads_are_capped() {
    let dir = copy_fixture("governed");
    let root = dir.path();
    // A symlinked policies folder, a symlinked contract and a FIFO contract in a product folder.
    let outside = tempfile::tempdir().unwrap();
    write(
        outside.path(),
        "leak.yaml",
        "id: leak\ntitle: read from outside the mesh\nrule: {builtin: naming}\n",
    );
    std::os::unix::fs::symlink(outside.path().join("leak.yaml"), root.join("sales/policies/leak.yaml")).unwrap();
    std::os::unix::fs::symlink(outside.path().join("leak.yaml"), root.join("crm/leads/extra.odcs.yaml")).unwrap();
    make_fifo(&root.join("crm/customers/more.odcs.yaml"));
    let s = crate::common::load(root);
    assert!(
        !s.governance.policies.policies.iter().any(|p| p.id == "leak"),
        "a symlinked policy file was read"
    );
    let diag = |file: &str| {
        s.catalog
            .all_diagnostics()
            .find(|d| d.file.as_deref() == Some(Path::new(file)))
            .map(|d| (d.code, d.message.clone()))
    };
    assert_eq!(diag("sales/policies/leak.yaml").unwrap().0, "not-regular");
    assert_eq!(diag("crm/leads/extra.odcs.yaml").unwrap().0, "symlink");
    let (code, message) = diag("crm/customers/more.odcs.yaml").unwrap();
    assert_eq!(code, "not-regular", "{message}");
    assert!(message.contains("FIFO"), "{message}");
    let _ = std::fs::remove_file(root.join("crm/customers/more.odcs.yaml"));
}

#[test]
fn encoding_errors_empty_data_and_duplicate_contract_ids_are_diagnosed() {
    let dir = copy_fixture("governed");
    let root = dir.path();
    let contract = std::fs::read_to_string(root.join("crm/leads/leads.odcs.yaml")).unwrap();
    let mut bytes = contract.clone().into_bytes();
    let at = contract.find("\n").unwrap() + 1;
    bytes.splice(at..at, b"# caf\xe9\n".iter().copied());
    std::fs::write(root.join("crm/leads/leads.odcs.yaml"), bytes).unwrap();
    // The customers contract loses its data (0 bytes); the orders contract copies another's id.
    let customers = std::fs::read_to_string(root.join("crm/customers/customers.odcs.yaml")).unwrap();
    let data = data_file_of(root, "crm/customers", &customers);
    std::fs::write(&data, "").unwrap();
    let id_of = |text: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix("id: "))
            .map(str::to_string)
            .unwrap()
    };
    let orders_path = root.join("sales/orders/orders.odcs.yaml");
    let orders = std::fs::read_to_string(&orders_path).unwrap();
    let orders = orders.replacen(
        &format!("id: {}", id_of(&orders)),
        &format!("id: {}", id_of(&customers)),
        1,
    );
    std::fs::write(&orders_path, orders).unwrap();

    let s = crate::common::load(root);
    let find = |code: &str| {
        s.catalog
            .all_diagnostics()
            .find(|d| d.code == code)
            .unwrap_or_else(|| panic!("no `{code}` diagnostic"))
            .clone()
    };
    let encoding = find("encoding");
    assert_eq!(encoding.file.as_deref(), Some(Path::new("crm/leads/leads.odcs.yaml")));
    assert_eq!((encoding.line, encoding.column), (Some(2), Some(6)));
    let empty = find("empty-data");
    let rel = data.strip_prefix(root).unwrap();
    assert_eq!(empty.file.as_deref(), Some(rel), "{empty:?}");
    let dup = find("duplicate-id");
    assert_eq!(dup.file.as_deref(), Some(Path::new("sales/orders/orders.odcs.yaml")));
    assert!(
        dup.message.contains("crm/customers/customers.odcs.yaml"),
        "{}",
        dup.message
    );
    assert!(dup.line.is_some());
}

/// The data file a contract's local server names.
fn data_file_of(root: &Path, product: &str, contract: &str) -> PathBuf {
    let path = contract
        .lines()
        .find_map(|l| l.trim().strip_prefix("path: "))
        .expect("the contract has a server path")
        .trim_matches(['"', '\'']);
    root.join(product).join(path)
}
