//! The compliance of one snapshot: every policy evaluated on every product it applies to (built-in rules in Rust,
//! SQL rules on a locked metadata database), which products are non-compliant, and per-domain figures.

use crate::base::diagnostics::{Diagnostic, Severity};
use crate::governance::policy::{Rule, Violation};
use crate::load::ingest::EngineSettings;
use crate::model::catalog::Catalog;
use serde::Serialize;
use std::collections::BTreeSet;

/// Rows one SQL policy may return (more are cut, with a diagnostic).
const MAX_SQL_VIOLATIONS: usize = 10_000;
/// Time one SQL policy may run.
const SQL_TIME_LIMIT_MS: u64 = 5_000;

#[derive(Debug, Clone, Default, Serialize)]
pub struct Compliance {
    pub violations: Vec<Violation>,
    /// Policies that could not be evaluated (a failing SQL rule).
    pub diagnostics: Vec<Diagnostic>,
    /// Keys of products with at least one `error` violation.
    pub non_compliant: BTreeSet<String>,
    /// Non-compliant products are quarantined (not only flagged).
    pub quarantine: bool,
}

/// Per-domain compliance for the compliance page.
#[derive(Debug, Clone, Serialize)]
pub struct DomainCompliance {
    pub domain: String,
    pub products: usize,
    pub compliant: usize,
    pub percent: f64,
}

impl Compliance {
    /// Evaluates the catalog's policies. SQL rules run on their own locked in-memory DuckDB holding the metadata
    /// tables; `engine` sizes it.
    pub fn evaluate(catalog: &Catalog, engine: &EngineSettings) -> Compliance {
        let policies = &catalog.policies;
        let mut violations = crate::governance::policy::evaluate_builtins(
            policies,
            &catalog.products,
            &catalog.root,
            &catalog.previous,
            &catalog.access,
        );
        let mut diagnostics = Vec::new();
        if policies.policies.iter().any(|p| matches!(p.rule, Rule::Sql { .. })) {
            match sql_violations(catalog, engine) {
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
            quarantine: catalog.access.quarantine,
        }
    }

    pub fn is_compliant(&self, key: &str) -> bool {
        !self.non_compliant.contains(key)
    }

    /// Hidden from consumers: non-compliant, with quarantine on.
    pub fn is_quarantined(&self, key: &str) -> bool {
        self.quarantine && !self.is_compliant(key)
    }

    pub fn of_product<'a>(&'a self, domain: &'a str, name: &'a str) -> impl Iterator<Item = &'a Violation> + 'a {
        self.violations
            .iter()
            .filter(move |v| v.domain == domain && v.product == name)
    }

    pub fn count(&self, severity: Severity) -> usize {
        self.violations.iter().filter(|v| v.severity == severity).count()
    }

    pub fn by_domain(&self, catalog: &Catalog) -> Vec<DomainCompliance> {
        let mut names: Vec<&str> = catalog.products.iter().map(|p| p.domain.as_str()).collect();
        names.dedup();
        names
            .into_iter()
            .map(|d| {
                let products = catalog.products_in(d).count();
                let compliant = catalog.products_in(d).filter(|p| self.is_compliant(&p.key())).count();
                DomainCompliance {
                    domain: d.to_string(),
                    products,
                    compliant,
                    percent: if products == 0 {
                        100.0
                    } else {
                        (compliant as f64 * 1000.0 / products as f64).round() / 10.0
                    },
                }
            })
            .collect()
    }
}

fn sql_violations(catalog: &Catalog, engine: &EngineSettings) -> anyhow::Result<(Vec<Violation>, Vec<Diagnostic>)> {
    let db = crate::load::serving_db::ServingDb::open(engine, SQL_TIME_LIMIT_MS)?;
    let conn = db.connect()?;
    crate::governance::metadata::publish(&conn, &crate::governance::metadata::tables(catalog, None, None))?;
    let (mut violations, mut diagnostics) =
        crate::governance::policy::evaluate_sql(&catalog.policies, &conn, &catalog.products, MAX_SQL_VIOLATIONS);
    for d in &mut diagnostics {
        d.severity = Severity::Error;
    }
    violations.truncate(MAX_SQL_VIOLATIONS * catalog.policies.policies.len().max(1));
    Ok((violations, diagnostics))
}
