//! What `meshbox validate` and `meshbox test` print: a summary per product (text) or the whole result (JSON).

use crate::catalog::{Catalog, Product, Status};
use crate::checks::{CheckResult, CheckStatus};
use crate::diagnostics::{Diagnostic, Severity};
use serde::Serialize;
use std::fmt::Write;

/// Counts over a mesh.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Summary {
    pub products: usize,
    pub passing: usize,
    pub warning: usize,
    pub failing: usize,
    pub failed: usize,
    pub checks: usize,
    pub checks_failed: usize,
    pub checks_warned: usize,
    pub checks_errored: usize,
}

impl Summary {
    pub fn of(catalog: &Catalog) -> Summary {
        let mut s = Summary {
            products: catalog.products.len(),
            ..Default::default()
        };
        for p in &catalog.products {
            match p.status {
                Status::Passing => s.passing += 1,
                Status::Warning => s.warning += 1,
                Status::Failing => s.failing += 1,
                Status::Failed => s.failed += 1,
            }
            for c in &p.checks {
                s.checks += 1;
                match c.status {
                    CheckStatus::Fail => s.checks_failed += 1,
                    CheckStatus::Warn => s.checks_warned += 1,
                    CheckStatus::Error => s.checks_errored += 1,
                    _ => {}
                }
            }
        }
        s
    }
}

#[derive(Serialize)]
struct JsonReport<'a> {
    mesh: &'a str,
    result: &'static str,
    summary: Summary,
    products: Vec<JsonProduct<'a>>,
    diagnostics: &'a [Diagnostic],
}

#[derive(Serialize)]
struct JsonProduct<'a> {
    domain: &'a str,
    name: &'a str,
    title: String,
    status: Status,
    stale: bool,
    tables: Vec<String>,
    checks: &'a [CheckResult],
    diagnostics: &'a [Diagnostic],
}

/// The result word: `passed` when every product loaded and no blocking check failed.
pub fn result_word(catalog: &Catalog) -> &'static str {
    if catalog.is_healthy() { "passed" } else { "failed" }
}

pub fn json(catalog: &Catalog) -> String {
    let report = JsonReport {
        mesh: &catalog.name,
        result: result_word(catalog),
        summary: Summary::of(catalog),
        products: catalog
            .products
            .iter()
            .map(|p| JsonProduct {
                domain: &p.domain,
                name: &p.name,
                title: p.title(),
                status: p.status,
                stale: p.stale,
                tables: p.tables.iter().map(|t| t.sql_name()).collect(),
                checks: &p.checks,
                diagnostics: &p.diagnostics,
            })
            .collect(),
        diagnostics: &catalog.diagnostics,
    };
    serde_json::to_string_pretty(&report).expect("report serializes")
}

fn mark(status: Status) -> &'static str {
    match status {
        Status::Passing => "ok  ",
        Status::Warning => "warn",
        Status::Failing => "FAIL",
        Status::Failed => "ERR ",
    }
}

fn check_line(c: &CheckResult) -> String {
    let tag = match c.status {
        CheckStatus::Fail => "fail",
        CheckStatus::Warn => "warn",
        CheckStatus::Error => "error",
        CheckStatus::Skipped => "skipped",
        CheckStatus::Pass => "pass",
    };
    let mut s = format!("    {tag}: {}", c.name);
    if let Some(r) = &c.reason {
        let _ = write!(s, " — {r}");
    }
    if let Some(o) = &c.origin {
        let _ = write!(s, "  [{}", o.file.display());
        if let Some(l) = o.line {
            let _ = write!(s, ":{l}");
        }
        s.push(']');
    }
    s
}

fn product_lines(p: &Product, out: &mut String) {
    let checks = p.checks.len();
    let failed = p
        .checks
        .iter()
        .filter(|c| matches!(c.status, CheckStatus::Fail | CheckStatus::Error))
        .count();
    let tables = p.tables.iter().map(|t| t.sql_name()).collect::<Vec<_>>().join(", ");
    let _ = writeln!(
        out,
        "{} {:<40} {:<8} {checks} checks, {failed} failed{}{}",
        mark(p.status),
        p.key(),
        p.status.as_str(),
        if tables.is_empty() {
            String::new()
        } else {
            format!("  ({tables})")
        },
        if p.stale {
            "  [stale: serving the last good version]"
        } else {
            ""
        }
    );
    for d in &p.diagnostics {
        if d.severity != Severity::Info {
            for (i, line) in d.to_string().lines().enumerate() {
                let _ = writeln!(out, "    {}{line}", if i > 0 { "  " } else { "" });
            }
        }
    }
    for c in p.checks.iter().filter(|c| c.is_problem()) {
        let _ = writeln!(out, "{}", check_line(c));
    }
}

pub fn text(catalog: &Catalog) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "mesh {}: {} domains, {} products",
        catalog.name,
        catalog.domains.len(),
        catalog.products.len()
    );
    for d in &catalog.diagnostics {
        let _ = writeln!(out, "{d}");
    }
    for p in &catalog.products {
        product_lines(p, &mut out);
    }
    let s = Summary::of(catalog);
    let _ = writeln!(
        out,
        "\n{}: {} products ({} passing, {} warning, {} failing, {} failed); {} checks, {} failed, {} warnings, {} errors",
        result_word(catalog),
        s.products,
        s.passing,
        s.warning,
        s.failing,
        s.failed,
        s.checks,
        s.checks_failed,
        s.checks_warned,
        s.checks_errored
    );
    out
}

#[derive(Serialize)]
struct ContractReport<'a> {
    contract: Option<&'a str>,
    version: Option<&'a str>,
    result: &'static str,
    checks: &'a [CheckResult],
    diagnostics: &'a [Diagnostic],
}

fn contract_result(status: Status) -> &'static str {
    match status {
        Status::Passing => "passed",
        Status::Warning => "warning",
        Status::Failing | Status::Failed => "failed",
    }
}

/// `meshbox test --format json`.
pub fn contract_json(
    contract: &crate::manifest::odcs::Contract,
    status: Status,
    checks: &[CheckResult],
    diagnostics: &[Diagnostic],
) -> String {
    let report = ContractReport {
        contract: contract.id.as_deref(),
        version: contract.version.as_deref(),
        result: contract_result(status),
        checks,
        diagnostics,
    };
    serde_json::to_string_pretty(&report).expect("report serializes")
}

/// `meshbox test`: every check with its verdict, then the problems, then one summary line.
pub fn contract_text(
    contract: &crate::manifest::odcs::Contract,
    status: Status,
    checks: &[CheckResult],
    diagnostics: &[Diagnostic],
    ms: f64,
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "contract {} ({})", contract.title(), contract.doc.file.display());
    for d in diagnostics.iter().filter(|d| d.severity != Severity::Info) {
        let _ = writeln!(out, "{d}");
    }
    for c in checks {
        let measured = c.measured_text();
        let _ = writeln!(
            out,
            "  {:<7} {}{}",
            c.status.as_str(),
            c.name,
            if measured.is_empty() || c.status == CheckStatus::Pass {
                String::new()
            } else {
                format!("  (measured {measured}, expected {})", c.threshold_text())
            }
        );
        if c.status != CheckStatus::Pass
            && let Some(r) = &c.reason
        {
            let _ = writeln!(out, "          {r}");
        }
    }
    let count = |s: CheckStatus| checks.iter().filter(|c| c.status == s).count();
    let _ = writeln!(
        out,
        "\n{}: {} checks, {} passed, {} failed, {} warnings, {} errors, {} skipped ({})",
        contract_result(status),
        checks.len(),
        count(CheckStatus::Pass),
        count(CheckStatus::Fail),
        count(CheckStatus::Warn),
        count(CheckStatus::Error),
        count(CheckStatus::Skipped),
        crate::format::millis(ms)
    );
    out
}
