//! Contract checks: exact verdicts and measured values for every kind of check.

use crate::common::{fixture, load, options, product, write};
use meshbox::checks::{CheckResult, CheckStatus};

fn find<'a>(checks: &'a [CheckResult], key: &str, quality_id: Option<&str>) -> &'a CheckResult {
    checks
        .iter()
        .find(|c| c.key == key && (quality_id.is_none() || c.quality_id.as_deref() == quality_id))
        .unwrap_or_else(|| {
            let keys: Vec<_> = checks.iter().map(|c| (&c.key, &c.quality_id)).collect();
            panic!("no check {key} {quality_id:?} in {keys:?}")
        })
}

#[test]
fn every_check_kind_measures_exactly() {
    let s = load(&fixture("checks"));
    let p = product(&s, "lab/measures");
    use CheckStatus::*;
    let expected: &[(&str, Option<&str>, CheckStatus, Option<f64>)] = &[
        ("measures__id__field_is_present", None, Pass, Some(0.0)),
        ("measures__id__field_primary_key_unique", None, Pass, Some(0.0)),
        ("measures__code__field_unique", None, Fail, Some(1.0)),
        ("measures__code__field_regex", None, Pass, Some(0.0)),
        ("measures__email__field_required", None, Fail, Some(1.0)),
        ("measures__email__field_format", None, Fail, Some(1.0)),
        (
            "measures__email__field_missing_values",
            Some("email_missing"),
            Fail,
            Some(1.0),
        ),
        ("measures__qty__field_minimum", None, Fail, Some(1.0)),
        ("measures__qty__field_null_values", Some("qty_nulls"), Fail, Some(1.0)),
        ("measures__price__field_type", None, Fail, Some(1.0)),
        ("measures__price__quality_sql_0", Some("price_avg"), Pass, Some(10.6875)),
        (
            "measures__status__field_invalid_values",
            Some("status_valid_percent"),
            Fail,
            Some(20.0),
        ),
        (
            "measures__status__field_invalid_values",
            Some("status_valid_warning"),
            Warn,
            Some(1.0),
        ),
        ("measures__created_on__field_type", None, Fail, Some(1.0)),
        (
            "measures__note__field_missing_values",
            Some("note_missing"),
            Pass,
            Some(4.0),
        ),
        ("measures__row_count", Some("rows_exact"), Pass, Some(5.0)),
        ("measures__row_count", Some("rows_gt"), Pass, Some(5.0)),
        ("measures__row_count", Some("rows_ge"), Fail, Some(5.0)),
        ("measures__row_count", Some("rows_not_between"), Pass, Some(5.0)),
        (
            "measures__model_duplicate_values",
            Some("code_status_unique"),
            Pass,
            Some(0.0),
        ),
        ("measures__quality_sql_5", Some("no_huge_qty"), Pass, Some(0.0)),
        ("measures__quality_text_6", Some("documented_only"), Skipped, None),
        ("measures__quality_custom_7", Some("soda_rule"), Skipped, None),
    ];
    for (key, qid, status, measured) in expected {
        let c = find(&p.checks, key, *qid);
        assert_eq!((c.status, c.measured), (*status, *measured), "{key} {qid:?}: {c:?}");
    }
    // The percentage keeps its count; duplicates keep the rows involved.
    assert_eq!(
        find(
            &p.checks,
            "measures__status__field_invalid_values",
            Some("status_valid_percent")
        )
        .count,
        Some(1)
    );
    assert_eq!(find(&p.checks, "measures__code__field_unique", None).count, Some(2));
    // The unconvertible cell is reported with its row and value.
    let price = find(&p.checks, "measures__price__field_type", None);
    assert!(price.reason.as_deref().unwrap().contains("row 3: \"abc\""), "{price:?}");
    // A blocking failure makes the product failing, not failed.
    assert_eq!(p.status, meshbox::model::catalog::Status::Failing);
    assert_eq!(p.checks.len(), 37);
}

#[test]
fn failed_rows_are_sampled_with_classified_columns_masked() {
    let s = load(&fixture("checks"));
    let p = product(&s, "lab/measures");
    let format = find(&p.checks, "measures__email__field_format", None);
    let sample = format.samples.as_ref().expect("samples");
    assert_eq!(sample.rows.len(), 1);
    let email = sample.columns.iter().position(|c| c == "email").unwrap();
    let id = sample.columns.iter().position(|c| c == "id").unwrap();
    assert_eq!(sample.rows[0][email], "•••");
    assert_eq!(sample.rows[0][id], 4);
    let dup = find(&p.checks, "measures__code__field_unique", None)
        .samples
        .as_ref()
        .unwrap();
    assert_eq!(dup.columns, ["code", "duplicate_count"]);
    assert_eq!(dup.rows, [vec![serde_json::json!("A2"), serde_json::json!(2)]]);
}

#[test]
fn every_check_points_at_the_line_that_declares_it() {
    let s = load(&fixture("checks"));
    let p = product(&s, "lab/measures");
    let qty = find(&p.checks, "measures__qty__field_null_values", Some("qty_nulls"));
    let origin = qty.origin.as_ref().unwrap();
    assert_eq!(origin.file, std::path::Path::new("lab/measures/measures.odcs.yaml"));
    assert_eq!(origin.field, "schema[0].properties[3].quality[0]");
    assert_eq!(origin.line, Some(65));
}

#[test]
fn sql_rules_must_be_a_single_select_and_cannot_read_files() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "lab/t/t.csv", "a\n1\n2\n");
    write(
        dir.path(),
        "lab/t/t.odcs.yaml",
        "apiVersion: v3.1.0\nkind: DataContract\nid: t\nversion: 1\nstatus: active\nschema:\n  - name: t\n    quality:\n\
         \x20     - type: sql\n        query: DELETE FROM t\n        mustBe: 0\n\
         \x20     - type: sql\n        query: SELECT count(*) FROM read_csv('/etc/passwd')\n        mustBe: 0\n\
         \x20     - type: sql\n        query: SELECT count(*) FROM t; DROP TABLE t\n        mustBe: 0\n\
         \x20     - type: sql\n        query: SELECT count(*) FROM t\n        mustBe: 2\n\
         servers:\n  - server: local\n    type: local\n    format: csv\n    path: t.csv\n",
    );
    let s = load(dir.path());
    let p = product(&s, "lab/t");
    let sql: Vec<&CheckResult> = p.checks.iter().filter(|c| c.kind == "model_quality_sql").collect();
    assert_eq!(sql.len(), 4);
    for c in &sql[..3] {
        assert_eq!(c.status, CheckStatus::Error, "{c:?}");
        assert!(c.reason.as_deref().unwrap().contains("single read-only query"), "{c:?}");
    }
    assert_eq!((sql[3].status, sql[3].measured), (CheckStatus::Pass, Some(2.0)));
}

#[test]
fn freshness_and_retention_use_the_injected_now() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "ops/events/events.csv",
        "id,at\n1,2026-01-01 00:00:00\n2,2026-01-10 00:00:00\n",
    );
    write(
        dir.path(),
        "ops/events/events.odcs.yaml",
        "apiVersion: v3.1.0\nkind: DataContract\nid: e\nversion: 1\nstatus: active\n\
         schema:\n  - name: events\n    properties:\n      - name: id\n        logicalType: integer\n      - name: at\n        logicalType: timestamp\n\
         slaProperties:\n  - property: latency\n    value: 2\n    unit: d\n    element: events.at\n\
         \x20 - property: retention\n    value: 1\n    unit: w\n    element: events.at\n\
         \x20 - property: availability\n    value: 99.9\n    unit: percent\n\
         servers:\n  - server: local\n    type: local\n    format: csv\n    path: events.csv\n",
    );
    let scratch = tempfile::tempdir().unwrap();
    let mut opts = options(scratch.path());
    opts.now_micros = meshbox::cli::args::parse_rfc3339_micros("2026-01-11T00:00:00Z");
    let s = meshbox::live::snapshot::build(&std::fs::canonicalize(dir.path()).unwrap(), &opts, None, None).unwrap();
    let p = product(&s, "ops/events");
    let fresh = p.checks.iter().find(|c| c.kind == "servicelevel_freshness").unwrap();
    assert_eq!((fresh.status, fresh.measured), (CheckStatus::Pass, Some(86_400.0)));
    let retention = p.checks.iter().find(|c| c.kind == "servicelevel_retention").unwrap();
    assert_eq!(
        (retention.status, retention.measured),
        (CheckStatus::Fail, Some(10.0 * 86_400.0))
    );
    // Availability is declared, not measured: no check.
    assert_eq!(
        p.checks
            .iter()
            .filter(|c| c.category == meshbox::checks::Category::Servicelevel)
            .count(),
        2
    );
}

/// Properties nested in an object are checked under their dotted name (as datacontract-cli keys them), an absent
/// object does not make its property missing, and what the checks measure counts as data of the object column.
#[test]
fn nested_object_properties_are_checked_and_disclosed_as_their_column() {
    let dir = tempfile::tempdir().unwrap();
    crate::common::write(
        dir.path(),
        "shop/tickets/tickets.odcs.yaml",
        "apiVersion: v3.1.0\nkind: DataContract\nid: urn:t\nversion: 1.0.0\nstatus: active\nschema:\n  - name: tickets\n    \
         properties:\n      - name: id\n        logicalType: integer\n      - name: customer\n        logicalType: \
         object\n        classification: restricted\n        properties:\n          - name: cid\n            \
         logicalType: integer\n            required: true\n          - name: cname\n            logicalType: \
         string\n            logicalTypeOptions: {minLength: 2}\nservers:\n  - server: local\n    type: local\n    \
         format: json\n    path: tickets.json\n",
    );
    crate::common::write(
        dir.path(),
        "shop/tickets/tickets.json",
        "{\"id\": 1, \"customer\": {\"cid\": 7, \"cname\": \"Al\"}}\n{\"id\": 2, \"customer\": {\"cid\": null, \"cname\": \
         \"B\"}}\n{\"id\": 3, \"customer\": null}\n",
    );
    let s = crate::common::load(dir.path());
    let p = crate::common::product(&s, "shop/tickets");
    let check = |key: &str| {
        p.checks
            .iter()
            .find(|c| c.key == key)
            .unwrap_or_else(|| panic!("no {key}: {:?}", p.checks.iter().map(|c| &c.key).collect::<Vec<_>>()))
    };
    let required = check("tickets__customer.cid__field_required");
    assert_eq!((required.status, required.measured), (CheckStatus::Fail, Some(1.0)));
    let length = check("tickets__customer.cname__field_min_length");
    assert_eq!((length.status, length.measured), (CheckStatus::Fail, Some(1.0)));
    for c in [required, length] {
        assert_eq!(c.reads, meshbox::model::check::Reads::column("customer"), "{}", c.key);
    }
}
