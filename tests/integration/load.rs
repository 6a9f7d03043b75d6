//! Loading mesh folders: products, tables, domains, and diagnostics for everything that is wrong.

use crate::common::{copy_fixture, fixture, load, product, write};
use meshbox::model::catalog::Status;
use meshbox::model::check::CheckStatus;
use std::path::Path;

#[test]
fn basic_fixture_loads_every_product_and_reports_the_broken_ones() {
    let s = load(&fixture("basic"));
    let c = &s.catalog;
    assert_eq!(c.name, "Basic fixture");
    let keys: Vec<String> = c.products.iter().map(|p| p.key()).collect();
    assert_eq!(
        keys,
        [
            "people/customers",
            "people/visits",
            "shop/broken-data",
            "shop/broken-yaml",
            "shop/orders"
        ]
    );
    let mut tables: Vec<String> = c
        .products
        .iter()
        .flat_map(|p| p.tables.iter().map(|t| t.sql_name()))
        .collect();
    tables.sort();
    assert_eq!(tables, ["people.customers", "people.visits", "shop.orders"]);

    let orders = product(&s, "shop/orders");
    assert_eq!(orders.status, Status::Passing);
    assert_eq!(orders.tables[0].row_count, 3);
    assert_eq!(orders.title(), "Shop orders");
    assert_eq!(orders.owner().as_deref(), Some("Shop Team"));
    assert_eq!(orders.product_type(), Some("sourceAligned"));
    let amount = orders.tables[0].columns.iter().find(|c| c.name == "amount").unwrap();
    assert_eq!(amount.data_type, "DECIMAL(10,2)");

    let broken_yaml = product(&s, "shop/broken-yaml");
    assert_eq!(broken_yaml.status, Status::Failed);
    let d = &broken_yaml.diagnostics[0];
    assert_eq!(d.code, "yaml-syntax");
    assert_eq!(d.file.as_deref(), Some(Path::new("shop/broken-yaml/broken.odcs.yaml")));
    assert_eq!(d.line, Some(8));

    let broken_data = product(&s, "shop/broken-data");
    assert_eq!(broken_data.status, Status::Failed);
    let d = broken_data.errors().next().unwrap();
    assert_eq!(d.code, "data-read");
    assert_eq!(d.file.as_deref(), Some(Path::new("shop/broken-data/broken.parquet")));
    assert!(d.message.contains("broken-data.odcs.yaml:7"), "{}", d.message);
    assert!(d.hint.as_deref().unwrap().contains("Parquet"), "{d:?}");

    let shop = c.domain("shop").unwrap();
    assert_eq!(shop.title.as_deref(), Some("Shop"));
    assert_eq!(shop.owner().as_deref(), Some("Shop Team"));
    // A domain without domain.yaml still exists.
    assert!(c.domain("people").unwrap().file.is_none());
    assert!(!c.is_healthy());
}

#[test]
fn json_parquet_and_csv_load_with_declared_types() {
    let s = load(&fixture("basic"));
    let customers = product(&s, "people/customers");
    assert_eq!(customers.tables[0].row_count, 3);
    assert_eq!(customers.tables[0].format, "json");
    let visits = product(&s, "people/visits");
    let types: Vec<(&str, &str)> = visits.tables[0]
        .columns
        .iter()
        .map(|c| (c.name.as_str(), c.data_type.as_str()))
        .collect();
    assert_eq!(
        types,
        [("visit_id", "BIGINT"), ("customer_id", "BIGINT"), ("seconds", "DOUBLE")]
    );
    assert_eq!(visits.tables[0].row_count, 6);
    // The catalog keeps the sample unmasked; pages and the API mask it for the role that asks (see governance).
    let sample = &customers.tables[0].sample;
    let name_col = sample.columns.iter().position(|c| c == "name").unwrap();
    assert_eq!(sample.rows[0][name_col], "Ada", "{sample:?}");
}

#[test]
fn unknown_fields_are_kept_and_flagged_as_breaking_the_standard() {
    let dir = copy_fixture("basic");
    let descriptor = dir.path().join("shop/orders/orders.odps.yaml");
    let text = std::fs::read_to_string(&descriptor).unwrap();
    std::fs::write(
        &descriptor,
        format!("{text}x-team-notes: kept even though no standard defines it\n"),
    )
    .unwrap();
    let s = load(dir.path());
    let orders = product(&s, "shop/orders");
    let raw = &orders.descriptor.as_ref().unwrap().doc.value;
    assert_eq!(
        raw["x-team-notes"].as_str(),
        Some("kept even though no standard defines it")
    );
    // Kept, and told: ODPS does not allow it at the top level, so the product is invalid, its data still served.
    assert_eq!(orders.status, meshbox::model::catalog::Status::Invalid);
    let d = orders.diagnostics.iter().find(|d| d.breaks_standard()).unwrap();
    assert_eq!(d.field.as_deref(), Some("x-team-notes"));
    assert_eq!(
        d.file.as_deref(),
        Some(std::path::Path::new("shop/orders/orders.odps.yaml"))
    );
    assert!(d.line.is_some());
    assert!(!orders.tables.is_empty());
}

#[test]
fn a_wrong_field_is_reported_with_file_line_and_field_and_the_rest_loads() {
    let dir = copy_fixture("basic");
    write(
        dir.path(),
        "shop/orders/orders.odcs.yaml",
        &std::fs::read_to_string(fixture("basic/shop/orders/orders.odcs.yaml"))
            .unwrap()
            .replace("        required: true\n", "        required: maybe\n"),
    );
    let s = load(dir.path());
    let orders = product(&s, "shop/orders");
    let d = orders.errors().next().expect("an error diagnostic");
    assert_eq!(d.file.as_deref(), Some(Path::new("shop/orders/orders.odcs.yaml")));
    assert_eq!(d.line, Some(13));
    assert_eq!(d.field.as_deref(), Some("schema[0].properties[0].required"));
    assert!(d.message.contains("boolean"), "{}", d.message);
    // The reader explains it; lint agrees (one diagnostic, marked with the standard): the product is invalid, its
    // data still served.
    assert_eq!(d.standard.as_deref(), Some("ODCS v3.1.0"));
    assert_eq!(orders.status, Status::Invalid);
    assert!(!orders.tables.is_empty());
    assert_eq!(product(&s, "people/visits").status, Status::Passing);
}

#[test]
fn two_products_claiming_one_table_name_is_a_diagnostic() {
    let dir = copy_fixture("basic");
    write(
        dir.path(),
        "shop/orders-copy/orders.odcs.yaml",
        &std::fs::read_to_string(fixture("basic/shop/orders/orders.odcs.yaml"))
            .unwrap()
            .replace("path: data/orders.csv", "path: ../orders/data/orders.csv"),
    );
    let s = load(dir.path());
    // shop/orders sorts before shop/orders-copy and keeps the name.
    assert_eq!(product(&s, "shop/orders").tables.len(), 1);
    let copy = product(&s, "shop/orders-copy");
    assert!(copy.tables.is_empty());
    let d = copy
        .errors()
        .find(|d| d.code == "name-collision")
        .expect("collision diagnostic");
    assert_eq!(d.field.as_deref(), Some("schema[0].name"));
    assert_eq!(d.line, Some(8));
    assert!(d.message.contains("shop/orders"), "{}", d.message);
}

#[test]
fn data_outside_the_mesh_folder_is_never_read() {
    let outside = tempfile::tempdir().unwrap();
    write(outside.path(), "secret.csv", "order_id\n1\n");
    let dir = copy_fixture("basic");
    let contract = std::fs::read_to_string(fixture("basic/shop/orders/orders.odcs.yaml"))
        .unwrap()
        .replace(
            "path: data/orders.csv",
            &format!("path: {}/secret.csv", outside.path().display()),
        );
    write(dir.path(), "shop/orders/orders.odcs.yaml", &contract);
    let s = load(dir.path());
    let orders = product(&s, "shop/orders");
    assert!(orders.tables.is_empty());
    let d = orders.errors().next().unwrap();
    assert_eq!(d.code, "data-path");
    assert!(d.message.contains("outside the mesh folder"), "{}", d.message);
}

#[test]
fn a_mesh_written_only_with_odps_and_odcs_files_loads() {
    let s = load(&fixture("foreign"));
    let c = &s.catalog;
    let keys: Vec<String> = c.products.iter().map(|p| p.key()).collect();
    assert_eq!(keys, ["aftersales/returns", "partners/suppliers", "warehouse/inbound"]);
    let inbound = product(&s, "warehouse/inbound");
    let tables: Vec<String> = inbound.tables.iter().map(|t| t.sql_name()).collect();
    assert_eq!(tables, ["warehouse.deliveries", "warehouse.delivery_items"]);
    assert_eq!(inbound.status, Status::Passing, "{:?}", inbound.diagnostics);
    let deliveries = &inbound.tables[0];
    let expected_on = deliveries.columns.iter().find(|c| c.name == "expected_on").unwrap();
    assert_eq!(expected_on.data_type, "DATE");
    // `dd.MM.yyyy` in logicalTypeOptions.format is honoured.
    let col = deliveries
        .sample
        .columns
        .iter()
        .position(|c| c == "expected_on")
        .unwrap();
    assert_eq!(deliveries.sample.rows[0][col], "2025-02-03");
    // The v3.0 team array and the descriptor's name are read.
    assert_eq!(inbound.title(), "Inbound deliveries");
    assert_eq!(inbound.owner().as_deref(), Some("kfischer"));
    // ${RETURNS_DIR:-data} resolves to its default.
    assert_eq!(product(&s, "aftersales/returns").tables[0].row_count, 2);
    let suppliers = product(&s, "partners/suppliers");
    assert_eq!(suppliers.status, Status::Failing);
    let rating = suppliers
        .checks
        .iter()
        .find(|c| c.key == "suppliers__rating__field_type")
        .unwrap();
    assert_eq!(rating.measured, Some(1.0));
}

#[test]
fn evolving_csv_files_load_by_column_name_and_their_type_errors_are_counted() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "geo/cities/cities.odcs.yaml",
        "apiVersion: v3.1.0\nkind: DataContract\nid: cities\nversion: 1.0.0\nstatus: active\nservers:\n\
         \x20 - server: local\n    type: local\n    path: data/cities-*.csv\n    format: csv\nschema:\n  - name: cities\n\
         \x20   properties:\n      - name: id\n        logicalType: integer\n        physicalType: BIGINT\n\
         \x20     - name: name\n        logicalType: string\n      - name: population\n        logicalType: integer\n\
         \x20       physicalType: BIGINT\n",
    );
    // The first file predates `population`; the second adds it; the third reorders the columns and has a bad value.
    write(dir.path(), "geo/cities/data/cities-1.csv", "id,name\n1,Oslo\n2,Rome\n");
    write(
        dir.path(),
        "geo/cities/data/cities-2.csv",
        "id,name,population\n3,Lyon,522000\n",
    );
    write(
        dir.path(),
        "geo/cities/data/cities-3.csv",
        "population,id,name\n1000,4,Bree\nmany,5,Dale\n",
    );
    let s = load(dir.path());
    let cities = product(&s, "geo/cities");
    assert!(cities.errors().next().is_none(), "{:?}", cities.diagnostics);
    assert_eq!(cities.tables[0].row_count, 5);
    assert!(
        cities.checks.iter().all(|c| c.kind != "load_malformed_lines"),
        "{:?}",
        cities.checks
    );
    let population = cities.checks.iter().find(|c| c.key == "cities__population__field_type");
    let population = population.unwrap_or_else(|| panic!("a type check on population: {:?}", cities.checks));
    assert_eq!(
        (population.status, population.measured),
        (CheckStatus::Fail, Some(1.0)),
        "{population:?}"
    );
}

/// `"empty_object": {}` is present, in a JSON array and in NDJSON, declared as an object or not declared at all
/// (DuckDB's JSON reader infers an empty object as an empty map; present-but-empty must stay present).
#[test]
fn an_empty_json_object_is_present() {
    let dir = tempfile::tempdir().unwrap();
    let contract = |name: &str, path: &str, typed: bool| {
        format!(
            "apiVersion: v3.0.2\nkind: DataContract\nid: {name}\nversion: 1.0.0\nstatus: active\nservers:\n\
             \x20 - server: local\n    type: local\n    format: json\n    path: {path}\nschema:\n  - name: {name}\n\
             \x20   properties:\n      - name: id\n        logicalType: integer\n        required: true\n\
             \x20     - name: empty_object\n{}      - name: name\n        logicalType: string\n",
            if typed {
                "        logicalType: object\n        required: true\n"
            } else {
                ""
            }
        )
    };
    let array =
        "[{\"id\": 1, \"empty_object\": {}, \"name\": \"a\"}, {\"id\": 2, \"empty_object\": {}, \"name\": \"b\"}]\n";
    let lines =
        "{\"id\": 1, \"empty_object\": {}, \"name\": \"a\"}\n{\"id\": 2, \"empty_object\": {}, \"name\": \"b\"}\n";
    for (product, data, typed) in [
        ("array", array, true),
        ("lines", lines, true),
        ("untyped", array, false),
    ] {
        write(
            dir.path(),
            &format!("shop/{product}/{product}.odcs.yaml"),
            &contract(product, "data/items.json", typed),
        );
        write(dir.path(), &format!("shop/{product}/data/items.json"), data);
    }
    let s = load(dir.path());
    for product_name in ["array", "lines", "untyped"] {
        let p = product(&s, &format!("shop/{product_name}"));
        assert!(p.errors().next().is_none(), "{product_name}: {:?}", p.diagnostics);
        assert_eq!(p.tables[0].row_count, 2, "{product_name}");
        let present = p
            .checks
            .iter()
            .find(|c| c.key == format!("{product_name}__empty_object__field_is_present"))
            .unwrap_or_else(|| panic!("{product_name}: {:?}", p.checks));
        assert_eq!(present.status, CheckStatus::Pass, "{product_name}: {present:?}");
        assert!(
            p.checks.iter().all(|c| c.status == CheckStatus::Pass),
            "{product_name}: {:?}",
            p.checks
        );
    }
}

/// The data of one CSV product written plainly (read without DuckDB's sniffer) and with CRLF line ends (read the
/// sniffing way), for every case of a small table: typed columns, a date with a format, a quoted delimiter, an
/// undeclared column, a bad value, a duplicate key, another delimiter. Both must load and test the same.
#[test]
fn a_plain_csv_file_loads_and_tests_exactly_as_the_sniffing_read_does() {
    let contract = "apiVersion: v3.1.0\nkind: DataContract\nid: plain\nversion: 1.0.0\nstatus: active\n\
        servers:\n  - server: local\n    type: local\n    format: csv\n    path: data.csv\n\
        schema:\n  - name: things\n    properties:\n\
        \x20     - name: id\n        logicalType: integer\n        required: true\n        unique: true\n\
        \x20     - name: label\n        logicalType: string\n\
        \x20     - name: amount\n        logicalType: number\n        physicalType: DECIMAL(10,2)\n\
        \x20     - name: day\n        logicalType: date\n\
        \x20     - name: stamp\n        logicalType: date\n        logicalTypeOptions:\n          format: dd.MM.yyyy\n";
    let cases: [(&str, &str); 4] = [
        (
            "clean",
            "id,label,amount,day,stamp,extra\n1,\"a, b\",1.50,2026-01-02,03.04.2025,x\n2,c,2,2026-02-03,04.05.2025,y\n",
        ),
        (
            "bad value",
            "id,label,amount,day,stamp,extra\n1,a,oops,2026-01-02,03.04.2025,x\n2,b,2,2026-13-45,31.02.2025,y\n",
        ),
        (
            "duplicate key",
            "id,label,amount,day,stamp,extra\n1,a,1,2026-01-02,03.04.2025,x\n1,b,2,2026-01-03,04.04.2025,y\n",
        ),
        (
            "semicolons",
            "id;label;amount;day;stamp;extra\n1;a;1;2026-01-02;03.04.2025;x\n",
        ),
    ];
    for (case, data) in cases {
        let verdicts: Vec<Vec<(String, CheckStatus, Option<f64>)>> = [data.to_string(), data.replace('\n', "\r\n")]
            .iter()
            .map(|text| {
                let dir = tempfile::tempdir().unwrap();
                write(dir.path(), "shop/things/things.odcs.yaml", contract);
                write(dir.path(), "shop/things/data.csv", text);
                let plain = meshbox::load::plain_csv::header_of(&dir.path().join("shop/things/data.csv"), None);
                assert_eq!(
                    plain.is_some(),
                    !text.contains('\r'),
                    "{case}: which way the file is read"
                );
                let s = load(dir.path());
                let p = product(&s, "shop/things");
                let mut found: Vec<(String, CheckStatus, Option<f64>)> =
                    p.checks.iter().map(|c| (c.key.clone(), c.status, c.measured)).collect();
                for t in &p.tables {
                    found.push((
                        format!("rows {} sample {:?}", t.row_count, t.sample.rows),
                        CheckStatus::Pass,
                        None,
                    ));
                }
                for d in &p.diagnostics {
                    found.push((format!("{} {}", d.code, d.message), CheckStatus::Warn, None));
                }
                found
            })
            .collect();
        assert_eq!(verdicts[0], verdicts[1], "{case}: plain read vs sniffing read");
        assert!(verdicts[0].len() > 3, "{case}: {:?}", verdicts[0]);
    }
}
