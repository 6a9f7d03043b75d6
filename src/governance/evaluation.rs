//! Evaluating the policies in force on one catalog: built-in rules in Rust, SQL rules on their own locked
//! in-memory DuckDB holding the `mesh.*` metadata tables. Hands on the `Compliance` that sits beside the catalog.

use crate::base::diagnostics::{Diagnostic, Severity};
use crate::governance::Governance;
use crate::governance::compliance::Compliance;
use crate::governance::policy::{Rule, Violation};
use crate::load::ingest::EngineSettings;
use crate::model::catalog::{Catalog, Previous};
use std::collections::HashMap;
use std::path::PathBuf;

/// Rows one SQL policy may return (more are cut, with a diagnostic).
const MAX_SQL_VIOLATIONS: usize = 10_000;
/// Time one SQL policy may run.
const SQL_TIME_LIMIT_MS: u64 = 5_000;

/// Evaluates the policies of `gov` on the catalog; `previous` holds each contract's previous version (for the
/// versioning policy). SQL rules run on their own locked in-memory DuckDB holding the metadata tables; `engine`
/// sizes it.
pub fn evaluate(
    catalog: &Catalog,
    gov: &Governance,
    previous: &HashMap<PathBuf, Previous>,
    engine: &EngineSettings,
) -> Compliance {
    let policies = &gov.policies;
    let mut violations =
        crate::governance::policy::evaluate_builtins(policies, &catalog.products, &catalog.root, previous, &gov.access);
    let mut diagnostics = Vec::new();
    if policies.policies.iter().any(|p| matches!(p.rule, Rule::Sql { .. })) {
        match sql_violations(catalog, gov, engine) {
            Ok((v, d)) => {
                violations.extend(v);
                diagnostics.extend(d);
            }
            Err(e) => diagnostics.push(Diagnostic::error(
                "policy-sql",
                format!("the SQL policies could not run: {e:#}"),
            )),
        }
    }
    violations.sort_by(|a, b| {
        (a.severity, &a.domain, &a.product, &a.policy, &a.table, &a.column)
            .cmp(&(b.severity, &b.domain, &b.product, &b.policy, &b.table, &b.column))
    });
    let non_compliant = violations
        .iter()
        .filter(|v| v.severity == Severity::Error)
        .map(|v| format!("{}/{}", v.domain, v.product))
        .collect();
    Compliance {
        violations,
        diagnostics,
        non_compliant,
        quarantine: gov.access.quarantine,
    }
}

fn sql_violations(
    catalog: &Catalog,
    gov: &Governance,
    engine: &EngineSettings,
) -> anyhow::Result<(Vec<Violation>, Vec<Diagnostic>)> {
    let db = crate::load::serving_db::ServingDb::open(engine, SQL_TIME_LIMIT_MS)?;
    let conn = db.connect()?;
    crate::governance::metadata::publish(&conn, &crate::governance::metadata::tables_for_policies(catalog, gov))?;
    let (mut violations, mut diagnostics) =
        crate::governance::policy::evaluate_sql(&gov.policies, &conn, &catalog.products, MAX_SQL_VIOLATIONS);
    for d in &mut diagnostics {
        d.severity = Severity::Error;
    }
    violations.truncate(MAX_SQL_VIOLATIONS * gov.policies.policies.len().max(1));
    Ok((violations, diagnostics))
}
