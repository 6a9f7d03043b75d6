//! What `meshbox validate` and `meshbox test` print: a summary per product (text) or the whole result (JSON).

use crate::base::diagnostics::{Diagnostic, Severity};
use crate::checks::{CheckResult, CheckStatus};
use crate::live::snapshot::Snapshot;
use crate::model::catalog::{Product, Status};
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
    pub fn of(s: &Snapshot) -> Summary {
        let catalog = &s.catalog;
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
    compliance: JsonCompliance<'a>,
}

#[derive(Serialize)]
struct JsonCompliance<'a> {
    policies: usize,
    compliant: usize,
    non_compliant: Vec<&'a str>,
    quarantine: bool,
    violations: &'a [crate::governance::policy::Violation],
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

/// The result word: `passed` when every product loaded, no blocking check failed and no `error` policy is violated.
pub fn result_word(s: &Snapshot) -> &'static str {
    if s.passes() { "passed" } else { "failed" }
}

fn violation_line(v: &crate::governance::policy::Violation) -> String {
    let mut s = format!("    {} {}: {}", v.severity, v.policy, v.message);
    if let Some(f) = &v.file {
        let _ = write!(s, "  [{}", f.display());
        if let Some(l) = v.line {
            let _ = write!(s, ":{l}");
        }
        if let Some(field) = &v.field {
            let _ = write!(s, " {field}");
        }
        s.push(']');
    }
    s
}

pub fn json(s: &Snapshot) -> String {
    let catalog = &s.catalog;
    let report = JsonReport {
        mesh: &catalog.name,
        result: result_word(s),
        summary: Summary::of(s),
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
        compliance: JsonCompliance {
            policies: s.governance.policies.policies.len(),
            compliant: catalog
                .products
                .iter()
                .filter(|p| s.governance.compliance.is_compliant(&p.key()))
                .count(),
            non_compliant: s
                .governance
                .compliance
                .non_compliant
                .iter()
                .map(String::as_str)
                .collect(),
            quarantine: s.governance.compliance.quarantine,
            violations: &s.governance.compliance.violations,
        },
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

pub fn text(s: &Snapshot) -> String {
    let catalog = &s.catalog;
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
    let comp = &s.governance.compliance;
    if !s.governance.policies.policies.is_empty() {
        let _ = writeln!(out, "\npolicies: {} policies", s.governance.policies.policies.len());
        for p in &catalog.products {
            let violations: Vec<&crate::governance::policy::Violation> = comp.of_product(&p.domain, &p.name).collect();
            if violations.is_empty() {
                continue;
            }
            let state = if comp.is_quarantined(&p.key()) {
                "quarantined"
            } else if !comp.is_compliant(&p.key()) {
                "non-compliant"
            } else {
                "compliant"
            };
            let _ = writeln!(
                out,
                "{:<4} {:<40} {state}",
                if comp.is_compliant(&p.key()) { "ok" } else { "FAIL" },
                p.key()
            );
            for v in violations {
                let _ = writeln!(out, "{}", violation_line(v));
            }
        }
    }
    let sum = Summary::of(s);
    let _ = writeln!(
        out,
        "\n{}: {} products ({} passing, {} warning, {} failing, {} failed); {} checks, {} failed, {} warnings, {} errors",
        result_word(s),
        sum.products,
        sum.passing,
        sum.warning,
        sum.failing,
        sum.failed,
        sum.checks,
        sum.checks_failed,
        sum.checks_warned,
        sum.checks_errored
    );
    if !s.governance.policies.policies.is_empty() {
        let compliant = catalog.products.iter().filter(|p| comp.is_compliant(&p.key())).count();
        let _ = writeln!(
            out,
            "compliance: {compliant} of {} products compliant; {} policy errors, {} warnings",
            sum.products,
            comp.count(Severity::Error),
            comp.count(Severity::Warning)
        );
    }
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
    contract: &crate::model::manifest::odcs::Contract,
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
    contract: &crate::model::manifest::odcs::Contract,
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
        crate::base::format::millis(ms)
    );
    out
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// One JUnit test case per check, one per error diagnostic (so a product that cannot load is a failing test).
fn junit_cases(
    suite: &str,
    checks: &[CheckResult],
    diagnostics: &[Diagnostic],
    prefix: &std::path::Path,
    out: &mut String,
) -> (usize, usize, usize, usize) {
    let (mut tests, mut failures, mut errors, mut skipped) = (0, 0, 0, 0);
    for d in diagnostics.iter().filter(|d| d.is_error()) {
        tests += 1;
        errors += 1;
        let file = d
            .file
            .as_ref()
            .map(|f| prefix.join(f).display().to_string())
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "    <testcase classname=\"{}\" name=\"{}\" file=\"{}\" line=\"{}\">\n      <error message=\"{}\" type=\"{}\">{}</error>\n    </testcase>",
            xml_escape(suite),
            xml_escape(&format!("load: {}", d.code)),
            xml_escape(&file),
            d.line.unwrap_or(0),
            xml_escape(&d.message),
            d.code,
            xml_escape(&d.to_string())
        );
    }
    for c in checks {
        tests += 1;
        let (file, line) = c
            .origin
            .as_ref()
            .map(|o| (prefix.join(&o.file).display().to_string(), o.line.unwrap_or(0)))
            .unwrap_or_default();
        let class = match &c.table {
            Some(t) => format!("{suite}.{t}"),
            None => suite.to_string(),
        };
        let _ = write!(
            out,
            "    <testcase classname=\"{}\" name=\"{}\" file=\"{}\" line=\"{line}\">",
            xml_escape(&class),
            xml_escape(&c.key),
            xml_escape(&file)
        );
        let reason = xml_escape(c.reason.as_deref().unwrap_or(c.status.as_str()));
        let body = xml_escape(&format!(
            "{}\nmeasured: {}\nthreshold: {}\n{}",
            c.name,
            c.measured_text(),
            c.threshold_text(),
            c.sql.as_deref().unwrap_or("")
        ));
        match c.status {
            CheckStatus::Pass => {}
            CheckStatus::Fail => {
                failures += 1;
                let _ = write!(
                    out,
                    "\n      <failure message=\"{reason}\" type=\"{:?}\">{body}</failure>\n    ",
                    c.category
                );
            }
            CheckStatus::Error => {
                errors += 1;
                let _ = write!(
                    out,
                    "\n      <error message=\"{reason}\" type=\"{:?}\">{body}</error>\n    ",
                    c.category
                );
            }
            CheckStatus::Warn | CheckStatus::Skipped => {
                skipped += 1;
                let _ = write!(out, "\n      <skipped message=\"{reason}\"/>\n    ");
            }
        }
        out.push_str("</testcase>\n");
    }
    (tests, failures, errors, skipped)
}

/// JUnit XML for CI systems: a test suite per product, a test case per check.
pub fn junit(s: &Snapshot, prefix: &std::path::Path) -> String {
    let catalog = &s.catalog;
    let mut suites = String::new();
    let mut totals = (0, 0, 0, 0);
    for p in &catalog.products {
        let mut cases = String::new();
        let (t, f, e, s) = junit_cases(&p.key(), &p.checks, &p.diagnostics, prefix, &mut cases);
        totals = (totals.0 + t, totals.1 + f, totals.2 + e, totals.3 + s);
        let _ = write!(
            suites,
            "  <testsuite name=\"{}\" tests=\"{t}\" failures=\"{f}\" errors=\"{e}\" skipped=\"{s}\" time=\"{:.3}\">\n{cases}  </testsuite>\n",
            xml_escape(&p.key()),
            p.load_ms / 1000.0
        );
    }
    if !s.governance.policies.policies.is_empty() {
        let mut cases = String::new();
        let (mut t, mut f) = (0, 0);
        for policy in &s.governance.policies.policies {
            for p in catalog
                .products
                .iter()
                .filter(|p| crate::governance::policy::applies(policy, p))
            {
                t += 1;
                let name = xml_escape(&format!("{} on {}", policy.id, p.key()));
                let errors: Vec<&crate::governance::policy::Violation> = s
                    .governance
                    .compliance
                    .of_product(&p.domain, &p.name)
                    .filter(|v| v.policy == policy.id && v.severity == Severity::Error)
                    .collect();
                if errors.is_empty() {
                    let _ = writeln!(cases, "    <testcase name=\"{name}\" classname=\"policies\"/>");
                } else {
                    f += 1;
                    let text: Vec<String> = errors.iter().map(|v| violation_line(v).trim().to_string()).collect();
                    let _ = writeln!(
                        cases,
                        "    <testcase name=\"{name}\" classname=\"policies\"><failure message=\"{}\">{}</failure></testcase>",
                        xml_escape(&errors[0].message),
                        xml_escape(&text.join("\n"))
                    );
                }
            }
        }
        totals = (totals.0 + t, totals.1 + f, totals.2, totals.3);
        let _ = write!(
            suites,
            "  <testsuite name=\"policies\" tests=\"{t}\" failures=\"{f}\" errors=\"0\" skipped=\"0\">\n{cases}  </testsuite>\n"
        );
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\">\n{suites}</testsuites>\n",
        xml_escape(&catalog.name),
        totals.0,
        totals.1,
        totals.2,
        totals.3
    )
}

/// JUnit XML for `meshbox test`: one suite for the contract.
pub fn contract_junit(
    contract: &crate::model::manifest::odcs::Contract,
    checks: &[CheckResult],
    diagnostics: &[Diagnostic],
    prefix: &std::path::Path,
) -> String {
    let mut cases = String::new();
    let name = contract.id.clone().unwrap_or_else(|| contract.title());
    let (t, f, e, s) = junit_cases(&name, checks, diagnostics, prefix, &mut cases);
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuite name=\"{}\" tests=\"{t}\" failures=\"{f}\" errors=\"{e}\" skipped=\"{s}\">\n{cases}</testsuite>\n",
        xml_escape(&name)
    )
}

fn gh_data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

fn gh_property(s: &str) -> String {
    gh_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// GitHub Actions workflow commands: one annotation per problem, on the file and line that declares it.
pub fn github(s: &Snapshot, prefix: &std::path::Path) -> String {
    let catalog = &s.catalog;
    let mut out = String::new();
    let mut annotate = |level: &str, file: Option<String>, line: Option<usize>, title: &str, message: &str| {
        let mut props = Vec::new();
        if let Some(f) = file {
            props.push(format!("file={}", gh_property(&f)));
        }
        if let Some(l) = line {
            props.push(format!("line={l}"));
        }
        props.push(format!("title={}", gh_property(title)));
        let _ = writeln!(out, "::{level} {}::{}", props.join(","), gh_data(message));
    };
    for d in catalog.all_diagnostics().filter(|d| d.severity != Severity::Info) {
        let level = if d.is_error() { "error" } else { "warning" };
        let mut message = d.message.clone();
        if let Some(h) = &d.hint {
            message.push_str(&format!("\nhint: {h}"));
        }
        annotate(
            level,
            d.file.as_ref().map(|f| prefix.join(f).display().to_string()),
            d.line,
            &format!("meshbox {}", d.code),
            &message,
        );
    }
    for p in &catalog.products {
        for c in p.checks.iter().filter(|c| c.is_problem()) {
            let level = if c.status == CheckStatus::Warn {
                "warning"
            } else {
                "error"
            };
            let (file, line) = match &c.origin {
                Some(o) => (Some(prefix.join(&o.file).display().to_string()), o.line),
                None => (None, None),
            };
            annotate(
                level,
                file,
                line,
                &format!("{}: {}", p.key(), c.key),
                &format!("{} — {}", c.name, c.reason.as_deref().unwrap_or(c.status.as_str())),
            );
        }
    }
    for v in &s.governance.compliance.violations {
        let level = match v.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "notice",
        };
        annotate(
            level,
            v.file.as_ref().map(|f| prefix.join(f).display().to_string()),
            v.line,
            &format!("{}/{}: policy {}", v.domain, v.product, v.policy),
            &v.message,
        );
    }
    let s = Summary::of(s);
    let _ = writeln!(
        out,
        "meshbox: {} products, {} failing, {} failed; {} checks, {} failed",
        s.products, s.failing, s.failed, s.checks, s.checks_failed
    );
    out
}
