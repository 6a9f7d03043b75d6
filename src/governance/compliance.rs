//! The compliance of one snapshot: the violations every policy found (see `evaluation`), which products are
//! non-compliant, and per-domain figures.

use crate::base::diagnostics::{Diagnostic, Severity};
use crate::governance::policy::Violation;
use crate::model::catalog::Catalog;
use serde::Serialize;
use std::collections::BTreeSet;

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
