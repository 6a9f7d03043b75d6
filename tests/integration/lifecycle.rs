//! Product lifecycle: `init`, `new --from`, `import odcs`, derived products built by SQL (including an input change
//! propagating), the breaking-change table, `diff`/`breaking`, contract history and the policy on breaking changes,
//! and exports that round-trip.

use crate::common::{copy_dir, fixture, load, options, write};
use meshbox::checks::diff::{Impact, diff};
use meshbox::model::manifest::odcs::Contract;
use serde_yaml::{Mapping, Value};
use std::path::Path;
use std::process::{Command, Output};

fn meshbox(args: &[&str]) -> Output {
    crate::common::meshbox_in(&std::env::current_dir().unwrap(), args)
}

fn out(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Every file under a folder with its bytes.
fn files(root: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut m = std::collections::BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                m.insert(
                    p.strip_prefix(root).unwrap().display().to_string(),
                    std::fs::read(&p).unwrap(),
                );
            }
        }
    }
    m
}

#[test]
fn init_creates_a_mesh_that_loads_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let mesh = dir.path().join("my-mesh");
    let o = meshbox(&["init", mesh.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    for f in [
        "mesh.yaml",
        "policies/privacy.yaml",
        "example/greetings/greetings.odcs.yaml",
        "README.md",
    ] {
        assert!(mesh.join(f).is_file(), "{f}");
    }
    let before = files(&mesh);
    let o = meshbox(&["init", mesh.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "a second init refuses");
    assert!(
        out(&o).contains("already exist") && out(&o).contains("--force"),
        "{}",
        out(&o)
    );
    assert_eq!(files(&mesh), before, "nothing was written");
    let s = load(&mesh);
    assert_eq!(s.catalog.name, "My Mesh");
    assert!(s.passes(), "{:?}", s.governance.compliance.violations);
    assert_eq!(s.governance.policies.policies.len(), 11, "the default policy set");
    let o = meshbox(&["validate", mesh.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
}

fn people_csv(path: &Path) {
    let mut s = String::from("person_id,email,full_name,country,score,signup,note\n");
    for i in 0..60 {
        s.push_str(&format!(
            "{},user{i}@example.com,Person {i},{},{}.5,2024-0{}-1{},{}\n",
            i + 1,
            ["DE", "FR", "US"][i % 3],
            i % 100,
            1 + i % 9,
            i % 9,
            if i % 7 == 0 { "" } else { "ok" }
        ));
    }
    std::fs::write(path, s).unwrap();
}

#[test]
fn new_scaffolds_a_product_that_lints_loads_and_passes_its_own_contract() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("people.csv");
    people_csv(&csv);
    let mesh = dir.path().join("mesh");
    std::fs::create_dir_all(&mesh).unwrap();
    let o = meshbox(&[
        "new",
        "hr/people",
        "--from",
        csv.to_str().unwrap(),
        "--mesh",
        mesh.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert!(out(&o).contains("60 rows, 7 columns (1 look personal"), "{}", out(&o));
    let contract = std::fs::read_to_string(mesh.join("hr/people/people.odcs.yaml")).unwrap();
    let doc: Value = serde_yaml::from_str(&contract).unwrap();
    let props = doc["schema"][0]["properties"].as_sequence().unwrap();
    let find = |n: &str| props.iter().find(|p| p["name"] == n).unwrap().clone();
    assert_eq!(find("person_id")["primaryKey"], true);
    assert_eq!(find("person_id")["logicalType"], "integer");
    assert_eq!(find("email")["classification"], "restricted");
    assert_eq!(find("email")["required"], true);
    assert_eq!(
        find("note")["required"],
        Value::Null,
        "a column with empty values is not required"
    );
    assert_eq!(find("score")["logicalType"], "number");
    assert_eq!(find("signup")["logicalType"], "date");
    let enum_values = &find("country")["quality"][0]["arguments"]["validValues"];
    assert_eq!(enum_values, &serde_yaml::from_str::<Value>("[DE, FR, US]").unwrap());
    let o = meshbox(&["lint", mesh.join("hr").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let s = load(&mesh);
    let p = s.catalog.product("hr", "people").unwrap();
    assert_eq!(p.tables[0].row_count, 60);
    assert!(p.errors().next().is_none(), "{:?}", p.diagnostics);
    let failing: Vec<&str> = p
        .checks
        .iter()
        .filter(|c| c.is_problem())
        .map(|c| c.name.as_str())
        .collect();
    assert!(failing.is_empty(), "{failing:?}");
    // Never overwrite without --force; with it, the product is rewritten.
    let o = meshbox(&[
        "new",
        "hr/people",
        "--from",
        csv.to_str().unwrap(),
        "--mesh",
        mesh.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", out(&o));
    let o = meshbox(&[
        "new",
        "hr/people",
        "--from",
        csv.to_str().unwrap(),
        "--mesh",
        mesh.to_str().unwrap(),
        "--force",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let o = meshbox(&[
        "new",
        "HR/People",
        "--from",
        csv.to_str().unwrap(),
        "--mesh",
        mesh.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn new_reads_parquet_and_json_too() {
    let dir = tempfile::tempdir().unwrap();
    let conn = duckdb::Connection::open_in_memory().unwrap();
    let pq = dir.path().join("events.parquet");
    let js = dir.path().join("events.json");
    conn.execute_batch(&format!(
        "COPY (SELECT range AS event_id, 'e' || range AS name, DATE '2024-01-01' + range::INT AS day FROM range(30)) TO '{}' (FORMAT parquet);
         COPY (SELECT range AS event_id, range * 1.5 AS value FROM range(5)) TO '{}' (FORMAT json);",
        pq.display(),
        js.display()
    ))
    .unwrap();
    let mesh = dir.path().join("mesh");
    std::fs::create_dir_all(&mesh).unwrap();
    for (target, file) in [("ops/events", &pq), ("ops/values", &js)] {
        let o = meshbox(&[
            "new",
            target,
            "--from",
            file.to_str().unwrap(),
            "--mesh",
            mesh.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    }
    let s = load(&mesh);
    let events = s.catalog.product("ops", "events").unwrap();
    assert_eq!(events.tables[0].format, "parquet");
    assert_eq!(events.tables[0].row_count, 30);
    let values = s.catalog.product("ops", "values").unwrap();
    assert_eq!(values.tables[0].row_count, 5);
    for p in [events, values] {
        assert!(p.checks.iter().all(|c| !c.is_problem()), "{:?}", p.checks);
    }
}

#[test]
fn import_places_a_contract_with_its_data_and_a_descriptor() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("elsewhere");
    copy_dir(&fixture("basic/people/customers"), &src);
    let mesh = dir.path().join("mesh");
    std::fs::create_dir_all(&mesh).unwrap();
    let contract = src.join("customers.odcs.yaml");
    let o = meshbox(&[
        "import",
        "odcs",
        contract.to_str().unwrap(),
        "--mesh",
        mesh.to_str().unwrap(),
        "--domain",
        "crm",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let product_dir = std::fs::read_dir(mesh.join("crm"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let name = product_dir.file_name().unwrap().to_str().unwrap().to_string();
    assert_eq!(
        std::fs::read(product_dir.join(format!("{name}.odcs.yaml"))).unwrap(),
        std::fs::read(&contract).unwrap(),
        "the contract is copied byte for byte"
    );
    assert!(product_dir.join(format!("{name}.odps.yaml")).is_file());
    let s = load(&mesh);
    let p = s.catalog.product("crm", &name).unwrap();
    assert!(!p.tables.is_empty() && p.tables[0].row_count > 0, "{:?}", p.diagnostics);
    assert!(p.descriptor.is_some());
}

/// A mesh with a source product and two derived ones (one built from the other).
fn derived_mesh(root: &Path) {
    write(
        root,
        "shop/orders/orders.odcs.yaml",
        "apiVersion: v3.1.0\nkind: DataContract\nid: c-orders\nversion: 1.0.0\nstatus: active\nschema:\n  - name: orders\n    properties:\n\
         \x20     - {name: order_id, logicalType: integer, required: true}\n      - {name: day, logicalType: date}\n      - {name: amount, logicalType: number, physicalType: 'DECIMAL(10,2)'}\n\
         servers:\n  - {server: local, type: local, format: csv, path: orders.csv}\n",
    );
    write(
        root,
        "shop/orders/orders.csv",
        "order_id,day,amount\n1,2024-01-01,10.00\n2,2024-01-01,5.50\n3,2024-01-02,7.25\n",
    );
    write(
        root,
        "shop/orders/orders.odps.yaml",
        "apiVersion: v1.1.0\nkind: DataProduct\nid: p-orders\nname: Orders\nstatus: active\noutputPorts:\n  - {name: orders, version: 1.0.0, contractId: c-orders}\n",
    );
    write(
        root,
        "finance/daily/daily.odps.yaml",
        "apiVersion: v1.1.0\nkind: DataProduct\nid: p-daily\nname: Daily\nstatus: active\ninputPorts:\n  - {name: orders, version: 1.0.0, contractId: c-orders}\n\
         outputPorts:\n  - {name: daily, version: 1.0.0, contractId: c-daily}\n",
    );
    write(
        root,
        "finance/daily/daily.odcs.yaml",
        "apiVersion: v3.1.0\nkind: DataContract\nid: c-daily\nversion: 1.0.0\nstatus: active\nschema:\n  - name: daily_revenue\n    properties:\n\
         \x20     - {name: day, logicalType: date, required: true, unique: true}\n      - {name: revenue, logicalType: number, physicalType: 'DECIMAL(12,2)', logicalTypeOptions: {maximum: 100}}\n",
    );
    write(
        root,
        "finance/daily/daily_revenue.sql",
        "-- revenue per day\nSELECT day, sum(amount) AS revenue FROM shop.orders GROUP BY day ORDER BY day;\n",
    );
    write(
        root,
        "finance/best/best.odps.yaml",
        "apiVersion: v1.1.0\nkind: DataProduct\nid: p-best\nname: Best day\nstatus: active\ninputPorts:\n  - {name: daily, version: 1.0.0, contractId: c-daily}\n\
         outputPorts:\n  - {name: best, version: 1.0.0, contractId: c-best}\n",
    );
    write(
        root,
        "finance/best/best.odcs.yaml",
        "apiVersion: v3.1.0\nkind: DataContract\nid: c-best\nversion: 1.0.0\nstatus: active\nschema:\n  - name: best_day\n    properties:\n\
         \x20     - {name: day, logicalType: date}\n      - {name: revenue, logicalType: number}\n",
    );
    write(
        root,
        "finance/best/anything.sql",
        "SELECT day, revenue FROM finance.daily_revenue ORDER BY revenue DESC LIMIT 1\n",
    );
}

#[test]
fn derived_products_are_built_in_dependency_order_and_tested() {
    let dir = tempfile::tempdir().unwrap();
    derived_mesh(dir.path());
    let s = load(dir.path());
    let daily = s.catalog.product("finance", "daily").unwrap();
    assert!(daily.errors().next().is_none(), "{:?}", daily.diagnostics);
    let t = &daily.tables[0];
    assert_eq!(
        (t.name.as_str(), t.row_count, t.format.as_str()),
        ("daily_revenue", 2, "sql")
    );
    assert_eq!(
        t.columns
            .iter()
            .map(|c| (c.name.as_str(), c.data_type.as_str()))
            .collect::<Vec<_>>(),
        [("day", "DATE"), ("revenue", "DECIMAL(12,2)")]
    );
    assert_eq!(
        daily.status,
        meshbox::model::catalog::Status::Passing,
        "{:?}",
        daily.checks
    );
    assert_eq!(daily.derived[0].file, Path::new("finance/daily/daily_revenue.sql"));
    let best = s.catalog.product("finance", "best").unwrap();
    assert!(best.errors().next().is_none(), "{:?}", best.diagnostics);
    assert_eq!(best.tables[0].row_count, 1);
    assert_eq!(best.tables[0].sample.rows[0][1], serde_json::json!(15.5));
}

#[test]
fn a_changed_input_rebuilds_the_derived_products_and_their_checks() {
    let dir = tempfile::tempdir().unwrap();
    derived_mesh(dir.path());
    let scratch = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap();
    let mesh = meshbox::live::snapshot::Mesh::open(&root, options(scratch.path()), 10_000).unwrap();
    let best = |mesh: &meshbox::live::snapshot::Mesh| {
        let s = mesh.snapshot();
        let p = s.catalog.product("finance", "best").unwrap().clone();
        p.tables[0].sample.rows[0][1].clone()
    };
    assert_eq!(best(&mesh), serde_json::json!(15.5));
    // One order more on day 2: day 2 becomes the best day, and its revenue breaks the contract's maximum.
    write(
        &root,
        "shop/orders/orders.csv",
        "order_id,day,amount\n1,2024-01-01,10.00\n2,2024-01-01,5.50\n3,2024-01-02,7.25\n4,2024-01-02,200.00\n",
    );
    let next = mesh.rebuild().unwrap();
    assert!(
        next.reload.reloaded.contains(&"finance/daily".to_string()),
        "{:?}",
        next.reload
    );
    assert!(
        next.reload.reloaded.contains(&"finance/best".to_string()),
        "{:?}",
        next.reload
    );
    assert_eq!(best(&mesh), serde_json::json!(207.25));
    let daily = next.catalog.product("finance", "daily").unwrap();
    assert_eq!(daily.status, meshbox::model::catalog::Status::Failing);
    let failed: Vec<&str> = daily
        .checks
        .iter()
        .filter(|c| c.is_problem())
        .map(|c| c.kind.as_str())
        .collect();
    assert_eq!(failed.len(), 1, "{failed:?}");
    // The served table follows too.
    let db = mesh.serving();
    let conn = db.connect().unwrap();
    let n: f64 = conn
        .query_row("SELECT max(revenue)::DOUBLE FROM finance.daily_revenue", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(n, 207.25);
}

#[test]
fn missing_inputs_cycles_and_unsafe_transforms_are_diagnostics() {
    let dir = tempfile::tempdir().unwrap();
    derived_mesh(dir.path());
    // best now also consumes a contract nobody provides.
    write(
        dir.path(),
        "finance/best/best.odps.yaml",
        "apiVersion: v1.1.0\nkind: DataProduct\nid: p-best\nname: Best day\nstatus: active\ninputPorts:\n  - {name: daily, version: 1.0.0, contractId: c-daily}\n  - {name: fx, version: 1.0.0, contractId: c-fx}\n\
         outputPorts:\n  - {name: best, version: 1.0.0, contractId: c-best}\n",
    );
    // Two derived products consuming each other.
    for (name, other) in [("a", "b"), ("b", "a")] {
        write(
            dir.path(),
            &format!("loop/{name}/{name}.odps.yaml"),
            &format!(
                "apiVersion: v1.1.0\nkind: DataProduct\nid: p-{name}\nname: {name}\nstatus: active\ninputPorts:\n  - {{name: x, version: 1.0.0, contractId: c-{other}}}\noutputPorts:\n  - {{name: t, version: 1.0.0, contractId: c-{name}}}\n"
            ),
        );
        write(
            dir.path(),
            &format!("loop/{name}/{name}.odcs.yaml"),
            &format!(
                "apiVersion: v3.1.0\nkind: DataContract\nid: c-{name}\nversion: 1.0.0\nstatus: active\nschema:\n  - name: t_{name}\n    properties:\n      - {{name: x, logicalType: integer}}\n"
            ),
        );
        write(
            dir.path(),
            &format!("loop/{name}/t_{name}.sql"),
            &format!("SELECT x FROM loop.t_{other}\n"),
        );
    }
    // A transform that is not a SELECT, and one that reads a product it does not declare as input.
    let escape_target = tempfile::tempdir().unwrap().path().join("escape.csv");
    write(
        dir.path(),
        "finance/daily/daily_revenue.sql",
        &format!("COPY (SELECT 1) TO '{}'\n", escape_target.display()),
    );
    let s = load(dir.path());
    let codes = |key: &str| -> Vec<(&'static str, String)> {
        let (d, n) = key.split_once('/').unwrap();
        s.catalog
            .product(d, n)
            .unwrap()
            .diagnostics
            .iter()
            .filter(|d| d.code.starts_with("derived"))
            .map(|d| (d.code, d.message.clone()))
            .collect()
    };
    let daily = codes("finance/daily");
    assert_eq!(daily.len(), 1, "{daily:?}");
    assert_eq!(daily[0].0, "derived-sql");
    assert!(daily[0].1.contains("read-only SELECT"), "{daily:?}");
    assert!(!escape_target.exists(), "the COPY wrote {}", escape_target.display());
    let best = codes("finance/best");
    assert!(
        best.iter()
            .any(|(c, m)| *c == "derived-input" && m.contains("`c-fx` is provided by no product")),
        "{best:?}"
    );
    for key in ["loop/a", "loop/b"] {
        let c = codes(key);
        assert_eq!(c.len(), 1, "{key}: {c:?}");
        assert_eq!(c[0].0, "derived-cycle");
    }
    assert!(s.catalog.diagnostics.iter().any(|d| d.code == "lineage-cycle"));
    // Reading a table that is not an input: the SQL cannot see it.
    let dir2 = tempfile::tempdir().unwrap();
    derived_mesh(dir2.path());
    write(
        dir2.path(),
        "finance/best/anything.sql",
        "SELECT day, amount AS revenue FROM shop.orders\n",
    );
    let s2 = load(dir2.path());
    let best2 = s2.catalog.product("finance", "best").unwrap();
    let d = best2
        .diagnostics
        .iter()
        .find(|d| d.code == "derived-undeclared")
        .expect("an error");
    assert!(d.is_error());
    assert!(
        d.message.contains("`shop.orders` without an input port") && !d.message.contains("__meshbox"),
        "{}",
        d.message
    );
    assert!(
        d.hint
            .as_deref()
            .is_some_and(|h| h.starts_with("declared inputs: finance.daily_revenue;") && h.contains("input port")),
        "{:?}",
        d.hint
    );
    assert_eq!(d.file.as_deref(), Some(Path::new("finance/best/anything.sql")));
    assert_eq!((d.line, d.column), (Some(1), Some(36)));
}

/// The base contract the breaking-change table mutates.
const BASE: &str = r#"
apiVersion: v3.2.0
kind: DataContract
id: urn:t:orders
version: 1.0.0
status: active
description:
  purpose: Orders.
schema:
  - name: orders
    physicalName: orders_v1
    quality:
      - metric: rowCount
        mustBeGreaterThan: 0
    properties:
      - name: order_id
        logicalType: integer
        physicalType: INTEGER
        primaryKey: true
        required: true
      - name: customer_email
        logicalType: string
        physicalType: VARCHAR(100)
        classification: internal
        unique: true
        description: who ordered
      - name: amount
        logicalType: integer
        physicalType: DECIMAL(10,2)
        logicalTypeOptions:
          minimum: 0
          maximum: 10000
      - name: status
        logicalType: string
        enum: [open, shipped, cancelled]
      - name: code
        logicalType: string
        logicalTypeOptions:
          minLength: 2
          maxLength: 10
          pattern: "^[A-Z]+$"
      - name: note
        logicalType: string
slaProperties:
  - property: latency
    value: 1
    unit: d
    element: orders.order_id
  - property: retention
    value: 5
    unit: y
servers:
  - server: local
    type: local
    format: csv
    path: data/orders.csv
"#;

fn contract(v: &Value) -> Contract {
    let text = serde_yaml::to_string(v).unwrap();
    let doc = meshbox::base::yaml::Document::parse(Path::new("c.odcs.yaml"), &text).unwrap();
    Contract::read(doc, &mut Vec::new()).unwrap()
}

fn col<'a>(v: &'a mut Value, name: &str) -> &'a mut Mapping {
    v["schema"][0]["properties"]
        .as_sequence_mut()
        .unwrap()
        .iter_mut()
        .find(|c| c["name"] == name)
        .unwrap()
        .as_mapping_mut()
        .unwrap()
}

fn set(m: &mut Mapping, k: &str, v: &str) {
    m.insert(Value::String(k.into()), serde_yaml::from_str(v).unwrap());
}

type Mutation = fn(&mut Value);

#[test]
fn breaking_change_table() {
    let cases: Vec<(&str, Impact, Mutation)> = vec![
        ("table-removed", Impact::Breaking, |v| {
            v["schema"] = serde_yaml::from_str("[]").unwrap()
        }),
        ("table-added", Impact::NonBreaking, |v| {
            v["schema"]
                .as_sequence_mut()
                .unwrap()
                .push(serde_yaml::from_str("{name: extra, properties: [{name: x, logicalType: integer}]}").unwrap())
        }),
        ("physical-name-changed", Impact::Breaking, |v| {
            v["schema"][0]["physicalName"] = "orders_v2".into()
        }),
        ("column-removed", Impact::Breaking, |v| {
            v["schema"][0]["properties"]
                .as_sequence_mut()
                .unwrap()
                .retain(|c| c["name"] != "note")
        }),
        ("column-renamed", Impact::Breaking, |v| {
            set(col(v, "note"), "name", "remark")
        }),
        ("column-added", Impact::NonBreaking, |v| {
            v["schema"][0]["properties"]
                .as_sequence_mut()
                .unwrap()
                .push(serde_yaml::from_str("{name: extra, logicalType: string}").unwrap())
        }),
        ("required-column-added", Impact::Breaking, |v| {
            v["schema"][0]["properties"]
                .as_sequence_mut()
                .unwrap()
                .push(serde_yaml::from_str("{name: extra, logicalType: string, required: true}").unwrap())
        }),
        ("logical-type-changed", Impact::Breaking, |v| {
            set(col(v, "status"), "logicalType", "integer")
        }),
        ("logical-type-widened", Impact::NonBreaking, |v| {
            set(col(v, "amount"), "logicalType", "number")
        }),
        ("physical-type-narrowed", Impact::Breaking, |v| {
            set(col(v, "customer_email"), "physicalType", "VARCHAR(50)")
        }),
        ("physical-type-widened", Impact::NonBreaking, |v| {
            set(col(v, "order_id"), "physicalType", "BIGINT")
        }),
        ("physical-type-changed", Impact::Breaking, |v| {
            set(col(v, "order_id"), "physicalType", "DATE")
        }),
        ("required-added", Impact::Breaking, |v| {
            set(col(v, "code"), "required", "true")
        }),
        ("required-removed", Impact::NonBreaking, |v| {
            set(col(v, "order_id"), "required", "false")
        }),
        ("unique-added", Impact::Breaking, |v| {
            set(col(v, "code"), "unique", "true")
        }),
        ("unique-removed", Impact::NonBreaking, |v| {
            set(col(v, "customer_email"), "unique", "false")
        }),
        ("primary-key-changed", Impact::Breaking, |v| {
            set(col(v, "order_id"), "primaryKey", "false")
        }),
        ("enum-value-removed", Impact::Breaking, |v| {
            set(col(v, "status"), "enum", "[open, shipped]")
        }),
        ("enum-value-added", Impact::NonBreaking, |v| {
            set(col(v, "status"), "enum", "[open, shipped, cancelled, returned]")
        }),
        ("enum-added", Impact::Breaking, |v| {
            set(col(v, "note"), "enum", "[a, b]")
        }),
        ("min-length-raised", Impact::Breaking, |v| {
            set(
                col(v, "code"),
                "logicalTypeOptions",
                "{minLength: 3, maxLength: 10, pattern: '^[A-Z]+$'}",
            )
        }),
        ("min-length-lowered", Impact::NonBreaking, |v| {
            set(
                col(v, "code"),
                "logicalTypeOptions",
                "{minLength: 1, maxLength: 10, pattern: '^[A-Z]+$'}",
            )
        }),
        ("max-length-lowered", Impact::Breaking, |v| {
            set(
                col(v, "code"),
                "logicalTypeOptions",
                "{minLength: 2, maxLength: 5, pattern: '^[A-Z]+$'}",
            )
        }),
        ("max-length-raised", Impact::NonBreaking, |v| {
            set(
                col(v, "code"),
                "logicalTypeOptions",
                "{minLength: 2, maxLength: 20, pattern: '^[A-Z]+$'}",
            )
        }),
        ("minimum-raised", Impact::Breaking, |v| {
            set(col(v, "amount"), "logicalTypeOptions", "{minimum: 1, maximum: 10000}")
        }),
        ("minimum-lowered", Impact::NonBreaking, |v| {
            set(col(v, "amount"), "logicalTypeOptions", "{minimum: -5, maximum: 10000}")
        }),
        ("maximum-lowered", Impact::Breaking, |v| {
            set(col(v, "amount"), "logicalTypeOptions", "{minimum: 0, maximum: 500}")
        }),
        ("maximum-raised", Impact::NonBreaking, |v| {
            set(col(v, "amount"), "logicalTypeOptions", "{minimum: 0, maximum: 20000}")
        }),
        ("pattern-added", Impact::Breaking, |v| {
            set(col(v, "note"), "logicalTypeOptions", "{pattern: '^x'}")
        }),
        ("pattern-changed", Impact::Breaking, |v| {
            set(
                col(v, "code"),
                "logicalTypeOptions",
                "{minLength: 2, maxLength: 10, pattern: '^[A-Z0-9]+$'}",
            )
        }),
        ("pattern-removed", Impact::NonBreaking, |v| {
            set(col(v, "code"), "logicalTypeOptions", "{minLength: 2, maxLength: 10}")
        }),
        ("classification-raised", Impact::Breaking, |v| {
            set(col(v, "customer_email"), "classification", "restricted")
        }),
        ("classification-lowered", Impact::NonBreaking, |v| {
            set(col(v, "customer_email"), "classification", "public")
        }),
        ("column-description-changed", Impact::NonBreaking, |v| {
            set(col(v, "customer_email"), "description", "the buyer")
        }),
        ("quality-rule-added", Impact::NonBreaking, |v| {
            set(col(v, "note"), "quality", "[{metric: nullValues, mustBe: 0}]")
        }),
        ("quality-rule-removed", Impact::NonBreaking, |v| {
            v["schema"][0].as_mapping_mut().unwrap().remove("quality");
        }),
        ("sla-weakened", Impact::Breaking, |v| {
            v["slaProperties"][0]["value"] = 2.into()
        }),
        ("sla-tightened", Impact::NonBreaking, |v| {
            v["slaProperties"][0]["value"] = 12.into();
            v["slaProperties"][0]["unit"] = "h".into();
        }),
        ("sla-removed", Impact::Breaking, |v| {
            v["slaProperties"].as_sequence_mut().unwrap().pop();
        }),
        ("sla-added", Impact::NonBreaking, |v| {
            v["slaProperties"]
                .as_sequence_mut()
                .unwrap()
                .push(serde_yaml::from_str("{property: frequency, value: 1, unit: d}").unwrap())
        }),
        ("id-changed", Impact::Breaking, |v| v["id"] = "urn:t:orders2".into()),
        ("version-changed", Impact::Info, |v| v["version"] = "1.1.0".into()),
        ("status-changed", Impact::Info, |v| v["status"] = "deprecated".into()),
        ("servers-changed", Impact::Info, |v| {
            v["servers"][0]["path"] = "data/orders-v2.csv".into()
        }),
        ("description-changed", Impact::NonBreaking, |v| {
            v["description"]["purpose"] = "All orders.".into()
        }),
    ];
    let mut names: Vec<&str> = cases.iter().map(|(kind, ..)| *kind).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), cases.len(), "every case names a different change");
    let base: Value = serde_yaml::from_str(BASE).unwrap();
    let old = contract(&base);
    assert!(diff(&old, &old).is_empty(), "no change, no difference");
    let mut wrong = Vec::new();
    for (kind, impact, mutate) in &cases {
        let mut v = base.clone();
        mutate(&mut v);
        let got: Vec<(&str, Impact)> = diff(&old, &contract(&v)).iter().map(|c| (c.kind, c.impact)).collect();
        if got != [(*kind, *impact)] {
            wrong.push(format!("{kind}: expected [({kind}, {impact:?})], got {got:?}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // Retention kept for a shorter time is weaker too.
    let mut v = base.clone();
    v["slaProperties"][1]["value"] = 1.into();
    let got: Vec<(&str, Impact)> = diff(&old, &contract(&v)).iter().map(|c| (c.kind, c.impact)).collect();
    assert_eq!(got, [("sla-weakened", Impact::Breaking)]);
}

#[test]
fn diff_and_breaking_commands() {
    let dir = tempfile::tempdir().unwrap();
    let base: Value = serde_yaml::from_str(BASE).unwrap();
    let old = dir.path().join("old.odcs.yaml");
    std::fs::write(&old, BASE).unwrap();
    let mut v = base.clone();
    v["schema"][0]["properties"]
        .as_sequence_mut()
        .unwrap()
        .retain(|c| c["name"] != "note");
    v["version"] = "1.1.0".into();
    let breaking = dir.path().join("breaking.odcs.yaml");
    std::fs::write(&breaking, serde_yaml::to_string(&v).unwrap()).unwrap();
    let mut v = base.clone();
    v["description"]["purpose"] = "All orders.".into();
    let fine = dir.path().join("fine.odcs.yaml");
    std::fs::write(&fine, serde_yaml::to_string(&v).unwrap()).unwrap();
    let (o, b, f) = (
        old.to_str().unwrap(),
        breaking.to_str().unwrap(),
        fine.to_str().unwrap(),
    );
    let r = meshbox(&["breaking", o, b]);
    assert_eq!(r.status.code(), Some(1), "{}", out(&r));
    assert!(
        out(&r).contains("column-removed") && out(&r).contains("1 breaking"),
        "{}",
        out(&r)
    );
    assert_eq!(meshbox(&["breaking", o, f]).status.code(), Some(0));
    assert_eq!(
        meshbox(&["diff", o, b]).status.code(),
        Some(0),
        "diff reports, it does not fail"
    );
    let r = meshbox(&["diff", o, b, "--format", "json"]);
    let j: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    assert_eq!(j["breaking"], 1);
    assert_eq!(j["changes"][0]["kind"], "column-removed");
    let r = meshbox(&["diff", o, b, "--format", "markdown"]);
    assert!(
        out(&r).contains("| breaking | column-removed | `orders.note` |"),
        "{}",
        out(&r)
    );
    assert_eq!(meshbox(&["breaking", o, "/nope.yaml"]).status.code(), Some(2));
}

#[test]
fn history_changelog_and_the_breaking_change_policy() {
    let dir = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    derived_mesh(dir.path());
    write(
        dir.path(),
        "policies/versions.yaml",
        "id: breaking-needs-major\nseverity: error\nrule: {builtin: breaking_changes_versioned}\n",
    );
    let root = std::fs::canonicalize(dir.path()).unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let mut opts = options(scratch.path());
    opts.state_dir = Some(state.path().to_path_buf());
    let s1 = meshbox::live::snapshot::build(&root, &opts, None, None).unwrap();
    assert!(
        s1.governance.compliance.violations.is_empty(),
        "{:?}",
        s1.governance.compliance.violations
    );
    // The orders contract drops a column without a major version: its consumer finance/daily is named.
    let contract = root.join("shop/orders/orders.odcs.yaml");
    let text = std::fs::read_to_string(&contract).unwrap();
    let changed = text
        .replace("      - {name: day, logicalType: date}\n", "")
        .replace("version: 1.0.0", "version: 1.1.0");
    std::fs::write(&contract, &changed).unwrap();
    let s2 = meshbox::live::snapshot::build(&root, &opts, Some(&s1), None).unwrap();
    let v: Vec<&meshbox::governance::policy::Violation> = s2
        .governance
        .compliance
        .violations
        .iter()
        .filter(|v| v.policy == "breaking-needs-major")
        .collect();
    assert_eq!(v.len(), 1, "{:?}", s2.governance.compliance.violations);
    assert_eq!((v[0].domain.as_str(), v[0].product.as_str()), ("shop", "orders"));
    assert!(
        v[0].message.contains("column `orders.day` removed") && v[0].message.contains("finance/daily"),
        "{}",
        v[0].message
    );
    assert_eq!(v[0].field.as_deref(), Some("version"));
    let changelog = meshbox::lifecycle::history::changelog(
        Some(state.path()),
        &root,
        Path::new("shop/orders/orders.odcs.yaml"),
        &changed,
    );
    assert_eq!(changelog.len(), 1);
    assert_eq!((changelog[0].label.as_str(), changelog[0].breaking), ("1.1.0", 1));
    // A major version makes it compliant again.
    std::fs::write(&contract, changed.replace("version: 1.1.0", "version: 2.0.0")).unwrap();
    let s3 = meshbox::live::snapshot::build(&root, &opts, Some(&s2), None).unwrap();
    assert!(
        !s3.governance
            .compliance
            .violations
            .iter()
            .any(|v| v.policy == "breaking-needs-major"),
        "{:?}",
        s3.governance.compliance.violations
    );
}

#[test]
fn the_git_history_of_a_contract_is_read_when_the_mesh_is_a_repository() {
    if Command::new("git").arg("--version").output().is_err() {
        panic!("git is needed for this test (.ci/run installs it)");
    }
    let dir = tempfile::tempdir().unwrap();
    derived_mesh(dir.path());
    let root = std::fs::canonicalize(dir.path()).unwrap();
    let git = |args: &[&str]| {
        let o = Command::new("git")
            .arg("-C")
            .arg(&root)
            .args(args)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    };
    git(&["init", "-q"]);
    git(&["add", "."]);
    git(&["commit", "-q", "-m", "first"]);
    let contract = root.join("shop/orders/orders.odcs.yaml");
    let text = std::fs::read_to_string(&contract).unwrap();
    let changed = text.replace("version: 1.0.0", "version: 1.0.1").replace(
        "{name: order_id, logicalType: integer, required: true}",
        "{name: order_id, logicalType: integer, required: true, unique: true}",
    );
    std::fs::write(&contract, &changed).unwrap();
    let entries =
        meshbox::lifecycle::history::changelog(None, &root, Path::new("shop/orders/orders.odcs.yaml"), &changed);
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0].source, "current");
    assert_eq!(
        entries[0].changes.iter().map(|c| c.kind).collect::<Vec<_>>(),
        ["unique-added", "version-changed"]
    );
}

/// Unknown fields and customProperties at every level: what a round trip must keep.
const RICH_ODCS: &str = r##"apiVersion: v3.1.0
kind: DataContract
id: urn:x:rich
name: Rich
version: 2.3.4
status: active
domain: seller
tenant: Acme
x-unknown-root: {nested: [1, 2, {deep: true}]}
description:
  purpose: Everything.
  authoritativeDefinitions:
    - {type: privacy-statement, url: "https://example.com/gdpr.pdf"}
schema:
  - name: tbl
    physicalName: tbl_1
    businessName: Core
    dataGranularityDescription: per day
    relationships:
      - type: foreignKey
        from: [tbl.a]
        to: [other.a]
        customProperties: [{property: cardinality, value: many-to-one}]
    properties:
      - name: a
        logicalType: string
        transformSourceObjects: [t1, t2]
        transformLogic: select 1
        encryptedName: a_enc
        examples: ["x", "y"]
        customProperties: [{property: anonymizationStrategy, value: none}]
        quality:
          - {metric: nullValues, mustBe: 0, schedule: "0 20 * * *", scheduler: cron, businessImpact: operational}
    customProperties:
      - {property: business-key, value: [a]}
price: {priceAmount: 9.95, priceCurrency: USD, priceUnit: megabyte}
roles:
  - {role: reader, access: read, firstLevelApprovers: Manager}
slaDefaultElement: tbl.a
slaProperties:
  - {property: generalAvailability, value: "2022-05-12T09:30:10-08:00"}
support:
  - {channel: "#help", tool: slack, url: "https://example.com/slack"}
customProperties:
  - {property: refRulesetName, value: gcsc.ruleset.name}
  - {property: list, value: [a, b]}
contractCreatedTs: "2022-11-15T02:59:43+00:00"
"##;

const RICH_ODPS: &str = r#"apiVersion: v1.0.0
kind: DataProduct
id: urn:x:rich-product
name: Rich product
domain: seller
status: draft
tenant: Acme
inputPorts:
  - {name: payments, version: 1.0.0, contractId: urn:x:other}
outputPorts:
  - name: raw
    version: 2.0.0
    contractId: urn:x:rich
    sbom: [{type: external, url: "https://example.com/sbom"}]
    inputContracts: [{id: urn:x:other, version: 2.0.0}]
managementPorts:
  - {content: dictionary, type: topic, name: tpc-dict-update}
team:
  - {username: jd, name: John Doe, role: owner, dateIn: "2023-01-15"}
customProperties:
  - {property: costCenter, value: 42}
productCreatedTs: "2023-01-15T10:30:00Z"
"#;

#[test]
fn exports_round_trip_and_run() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "seller/rich/rich.odcs.yaml", RICH_ODCS);
    write(dir.path(), "seller/rich/rich.odps.yaml", RICH_ODPS);
    derived_mesh(dir.path());
    let out_dir = tempfile::tempdir().unwrap();
    for (format, file) in [
        ("odcs", "seller/rich/rich.odcs.yaml"),
        ("odps", "seller/rich/rich.odps.yaml"),
    ] {
        let target = out_dir.path().join(format);
        let o = meshbox(&[
            "export",
            dir.path().to_str().unwrap(),
            "--format",
            format,
            "--output",
            target.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", out(&o));
        let original_text = std::fs::read_to_string(dir.path().join(file)).unwrap();
        let exported_text = std::fs::read_to_string(target.join(file)).unwrap();
        assert_eq!(
            exported_text, original_text,
            "{format}: written as it is, comments and quotes included"
        );
        let original: Value = serde_yaml::from_str(&original_text).unwrap();
        let exported: Value = serde_yaml::from_str(&exported_text).unwrap();
        assert_eq!(exported, original, "{format}: every field survives");
        // And the export reads back as the same contract/product.
        assert!(target.join("shop/orders").is_dir() || format == "odps");
    }
    // Export refuses to write into the mesh.
    let o = meshbox(&[
        "export",
        dir.path().to_str().unwrap(),
        "--format",
        "odcs",
        "--output",
        dir.path().join("out").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    // dbt sources: tests from the contract.
    let o = meshbox(&["export", dir.path().to_str().unwrap(), "--format", "dbt-sources"]);
    let dbt: Value = serde_yaml::from_slice(&o.stdout).unwrap();
    assert_eq!(dbt["version"], 2);
    let finance = dbt["sources"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "finance")
        .unwrap();
    let daily = finance["tables"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "daily_revenue")
        .unwrap();
    assert_eq!(
        daily["columns"][0]["data_tests"],
        serde_yaml::from_str::<Value>("[not_null, unique]").unwrap()
    );
    assert_eq!(daily["meta"]["contract_id"], "c-daily");
    // DDL runs in DuckDB as it is.
    let o = meshbox(&["export", dir.path().to_str().unwrap(), "--format", "sql-ddl"]);
    let ddl = String::from_utf8(o.stdout).unwrap();
    let conn = duckdb::Connection::open_in_memory().unwrap();
    conn.execute_batch(&ddl).unwrap_or_else(|e| panic!("{e}\n{ddl}"));
    let n: i64 = conn
        .query_row(
            "SELECT count(*) FROM duckdb_tables() WHERE schema_name IN ('shop', 'finance', 'seller')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 4);
    let o = meshbox(&["export", dir.path().to_str().unwrap(), "--format", "markdown"]);
    let md = String::from_utf8(o.stdout).unwrap();
    assert!(
        md.contains("#### `finance.daily_revenue`") && md.contains("| `day` | date | yes |"),
        "{md}"
    );
}
