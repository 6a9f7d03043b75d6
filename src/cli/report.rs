//! What `meshbox validate` and `meshbox test` print: a summary per product (text), the whole result (JSON), JUnit XML
//! (written by quick-junit) or GitHub Actions annotations.

use crate::base::diagnostics::{Diagnostic, Severity};
use crate::checks::{CheckResult, CheckStatus};
use crate::live::snapshot::Snapshot;
use crate::model::catalog::{Product, Status};
use anyhow::Context;
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
use serde::Serialize;
use std::fmt::Write;
use std::path::Path;
use std::time::Duration;

/// Counts over a mesh.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Summary {
    pub products: usize,
    pub passing: usize,
    pub warning: usize,
    pub failing: usize,
    pub failed: usize,
    /// Products whose contract or descriptor breaks the standard it declares.
    pub invalid: usize,
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
                Status::Invalid => s.invalid += 1,
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
        Status::Invalid => "INV ",
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
        "\n{}: {} products ({} passing, {} warning, {} failing, {}{} failed); {} checks, {} failed, {} warnings, {} errors",
        result_word(s),
        sum.products,
        sum.passing,
        sum.warning,
        sum.failing,
        if sum.invalid > 0 {
            format!("{} invalid, ", sum.invalid)
        } else {
            String::new()
        },
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
        Status::Failing | Status::Failed | Status::Invalid => "failed",
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
    // Notes included: for one contract they say where its data was read from (a server chosen, a path resolved).
    for d in diagnostics {
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

/// `file` and `line` attributes on a test case, where known (CI servers link the case to the declaring line).
fn locate(case: &mut TestCase, file: Option<String>, line: Option<usize>) {
    if let Some(file) = file {
        case.extra.insert("file".into(), file.into());
        if let Some(line) = line {
            case.extra.insert("line".into(), line.to_string().into());
        }
    }
}

/// An error diagnostic as a test case in error, so a product that cannot load is a failing test.
fn diagnostic_case(suite: &str, d: &Diagnostic, prefix: &Path) -> TestCase {
    let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
    status
        .set_message(d.message.as_str())
        .set_type(d.code)
        .set_description(d.to_string());
    let mut case = TestCase::new(format!("load: {}", d.code), status);
    case.set_classname(suite);
    locate(
        &mut case,
        d.file.as_ref().map(|f| prefix.join(f).display().to_string()),
        d.line,
    );
    case
}

/// A check as a test case: a failure, an error, skipped (a warning or a check not run), or a success.
fn check_case(suite: &str, c: &CheckResult, prefix: &Path) -> TestCase {
    let reason = c.reason.as_deref().unwrap_or(c.status.as_str());
    let body = format!(
        "{}\nmeasured: {}\nthreshold: {}\n{}",
        c.name,
        c.measured_text(),
        c.threshold_text(),
        c.sql.as_deref().unwrap_or("")
    );
    let mut status = match c.status {
        CheckStatus::Pass => TestCaseStatus::success(),
        CheckStatus::Fail => TestCaseStatus::non_success(NonSuccessKind::Failure),
        CheckStatus::Error => TestCaseStatus::non_success(NonSuccessKind::Error),
        CheckStatus::Warn | CheckStatus::Skipped => TestCaseStatus::skipped(),
    };
    if matches!(c.status, CheckStatus::Fail | CheckStatus::Error) {
        status
            .set_message(reason)
            .set_type(format!("{:?}", c.category))
            .set_description(body);
    } else {
        status.set_message(reason);
    }
    let mut case = TestCase::new(c.key.as_str(), status);
    case.set_classname(match &c.table {
        Some(t) => format!("{suite}.{t}"),
        None => suite.to_string(),
    });
    let origin = c.origin.as_ref();
    locate(
        &mut case,
        origin.map(|o| prefix.join(&o.file).display().to_string()),
        origin.and_then(|o| o.line),
    );
    case
}

/// A JUnit test suite: one test case per error diagnostic, then one per check.
fn junit_suite(name: &str, checks: &[CheckResult], diagnostics: &[Diagnostic], prefix: &Path) -> TestSuite {
    let mut suite = TestSuite::new(name);
    for d in diagnostics.iter().filter(|d| d.is_error()) {
        suite.add_test_case(diagnostic_case(name, d, prefix));
    }
    for c in checks {
        suite.add_test_case(check_case(name, c, prefix));
    }
    // quick-junit counts skipped cases as `disabled`; CI servers read `skipped`.
    let skipped = suite.disabled.to_string();
    suite.extra.insert("skipped".into(), skipped.into());
    suite
}

/// The `policies` suite: a test case per policy and product it applies to, failing on an `error` violation.
fn policy_suite(s: &Snapshot) -> TestSuite {
    let mut suite = TestSuite::new("policies");
    for policy in &s.governance.policies.policies {
        for p in s
            .catalog
            .products
            .iter()
            .filter(|p| crate::governance::policy::applies(policy, p))
        {
            let errors: Vec<&crate::governance::policy::Violation> = s
                .governance
                .compliance
                .of_product(&p.domain, &p.name)
                .filter(|v| v.policy == policy.id && v.severity == Severity::Error)
                .collect();
            let status = match errors.first() {
                None => TestCaseStatus::success(),
                Some(first) => {
                    let text: Vec<String> = errors.iter().map(|v| violation_line(v).trim().to_string()).collect();
                    let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    status
                        .set_message(first.message.as_str())
                        .set_description(text.join("\n"));
                    status
                }
            };
            let mut case = TestCase::new(format!("{} on {}", policy.id, p.key()), status);
            case.set_classname("policies");
            suite.add_test_case(case);
        }
    }
    suite.extra.insert("skipped".into(), "0".into());
    suite
}

fn junit_xml(report: &Report) -> anyhow::Result<String> {
    report.to_string().context("writing the JUnit XML")
}

/// JUnit XML for CI systems: a `mesh` suite for errors of no product (mesh.yaml, policies, folders), a test suite per
/// product, a test case per check, and a `policies` suite.
pub fn junit(s: &Snapshot, prefix: &Path) -> anyhow::Result<String> {
    let mut report = Report::new(s.catalog.name.as_str());
    if s.catalog.diagnostics.iter().any(Diagnostic::is_error) {
        report.add_test_suite(junit_suite("mesh", &[], &s.catalog.diagnostics, prefix));
    }
    for p in &s.catalog.products {
        let mut suite = junit_suite(&p.key(), &p.checks, &p.diagnostics, prefix);
        suite.set_time(Duration::try_from_secs_f64(p.load_ms / 1000.0).unwrap_or_default());
        report.add_test_suite(suite);
    }
    if !s.governance.policies.policies.is_empty() {
        report.add_test_suite(policy_suite(s));
    }
    junit_xml(&report)
}

/// JUnit XML for `meshbox test`: one suite for the contract.
pub fn contract_junit(
    contract: &crate::model::manifest::odcs::Contract,
    checks: &[CheckResult],
    diagnostics: &[Diagnostic],
    prefix: &Path,
) -> anyhow::Result<String> {
    let name = contract.id.clone().unwrap_or_else(|| contract.title());
    let mut report = Report::new(name.as_str());
    report.add_test_suite(junit_suite(&name, checks, diagnostics, prefix));
    junit_xml(&report)
}

fn gh_data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

fn gh_property(s: &str) -> String {
    gh_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// GitHub Actions workflow commands: one annotation per problem, on the file and line that declares it.
pub fn github(s: &Snapshot, prefix: &Path) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::check::{Category, Origin, Reads};
    use std::collections::{BTreeMap, BTreeSet};

    fn check(status: CheckStatus, reason: &str) -> CheckResult {
        CheckResult {
            key: "orders__amount__field_required".into(),
            category: Category::Schema,
            kind: "field_required".into(),
            name: "amount is <required> & \"quoted\" 'twice'".into(),
            table: Some("orders".into()),
            column: Some("amount".into()),
            quality_id: None,
            dimension: None,
            severity: None,
            status,
            measured: Some(3.0),
            unit: None,
            count: None,
            row_count: None,
            threshold: None,
            reason: Some(reason.into()),
            sql: Some("SELECT count(*) FROM t WHERE a < 1 AND b <> 'x'".into()),
            origin: Some(Origin {
                file: "sales/orders/orders.odcs.yaml".into(),
                line: Some(12),
                field: "schema[0]".into(),
            }),
            samples: None,
            reads: Reads::Everything,
            public_reason: None,
        }
    }

    #[test]
    fn junit_escapes_markup_quotes_and_control_characters() {
        let nasty = "3 rows < 5 & \"a\" > 'b'\u{1}\u{8}\u{b}\u{1b}[31m red\u{1b}[0m\ttab\nline";
        let checks = [
            check(CheckStatus::Fail, nasty),
            check(CheckStatus::Error, nasty),
            check(CheckStatus::Warn, nasty),
            check(CheckStatus::Pass, nasty),
        ];
        let broken = Diagnostic::error("yaml-syntax", format!("not valid YAML: {nasty}"))
            .in_file("sales/orders/<orders>.odcs.yaml")
            .at(3, 7);
        let mut report = Report::new("a & b <mesh>");
        report.add_test_suite(junit_suite("sales/orders", &checks, &[broken], Path::new("m")));
        let xml = junit_xml(&report).unwrap();

        for c in xml.chars() {
            assert!(
                !c.is_control() || matches!(c, '\n' | '\t' | '\r'),
                "raw control {c:?} in {xml}"
            );
        }
        for (i, _) in xml.match_indices('&') {
            let entity = &xml[i..];
            assert!(
                ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;", "&#"]
                    .iter()
                    .any(|e| entity.starts_with(e)),
                "a bare & at {i}: {xml}"
            );
        }
        let read = Report::deserialize_from_str(&xml).unwrap_or_else(|e| panic!("{e}: {xml}"));
        assert_eq!(read.name.as_str(), "a & b <mesh>");
        let suite = &read.test_suites[0];
        assert_eq!(
            (suite.tests, suite.failures, suite.errors, suite.disabled),
            (5, 1, 2, 1)
        );
        assert_eq!(suite.extra.get("skipped").map(|s| s.as_str()), Some("1"));
        // What XML 1.0 cannot hold (control characters) and terminal colours are dropped; the rest comes back.
        let expected = "3 rows < 5 & \"a\" > 'b' redtab\nline";
        let load = &suite.test_cases[0];
        assert_eq!(load.name.as_str(), "load: yaml-syntax");
        assert_eq!(
            load.extra.get("file").map(|s| s.as_str()),
            Some("m/sales/orders/<orders>.odcs.yaml")
        );
        assert_eq!(load.extra.get("line").map(|s| s.as_str()), Some("3"));
        let TestCaseStatus::NonSuccess { message, ty, .. } = &load.status else {
            panic!("the load error is an error case")
        };
        assert_eq!(message.as_deref(), Some(format!("not valid YAML: {expected}").as_str()));
        assert_eq!(ty.as_deref(), Some("yaml-syntax"));
        let failed = &suite.test_cases[1];
        assert_eq!(failed.classname.as_deref(), Some("sales/orders.orders"));
        let TestCaseStatus::NonSuccess {
            kind,
            message,
            description,
            ..
        } = &failed.status
        else {
            panic!("a failed check is a failure case")
        };
        assert_eq!(*kind, NonSuccessKind::Failure);
        assert_eq!(message.as_deref(), Some(expected));
        let description = description.as_deref().unwrap_or_default();
        assert!(
            description.starts_with("amount is <required> & \"quoted\" 'twice'\nmeasured: 3"),
            "{description}"
        );
        assert!(description.contains("WHERE a < 1 AND b <> 'x'"), "{description}");
        assert!(matches!(suite.test_cases[3].status, TestCaseStatus::Skipped { .. }));
        assert!(matches!(suite.test_cases[4].status, TestCaseStatus::Success { .. }));
    }

    /// Every diagnostic code under `src/`, found the ways the code writes one: `Diagnostic::error("code", …)` and
    /// its siblings, `Severity::…, "code"` in `problem`/`push`/`contract_diag` calls, a lint's `self.error("code", …)`,
    /// derived products' `diag("code", …)`, `code: "code"` fields and `let code = match … => "code"` arms.
    fn emitted_codes() -> BTreeMap<String, BTreeSet<String>> {
        let call = regex::Regex::new(
            r#"(?:Diagnostic::(?:error|warning|info)|\bdiag|\.error|\.warn)\(\s*"([a-z0-9][a-z0-9-]*)""#,
        )
        .unwrap();
        let severity_first = regex::Regex::new(
            r#"(?:Diagnostic::new|\.problem|\.push|contract_diag)\((?:[^;()]|\([^()]*\))*?Severity::\w+,\s*"([a-z0-9][a-z0-9-]*)""#,
        )
        .unwrap();
        let field = regex::Regex::new(r#"\bcode:\s*"([a-z0-9][a-z0-9-]*)""#).unwrap();
        let code_match = regex::Regex::new(r"(?s)let code = match[^;]*?\{(.*?)\n\s*\};").unwrap();
        let arm = regex::Regex::new(r#"=>\s*"([a-z0-9][a-z0-9-]*)""#).unwrap();
        let mut found: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut files = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("src")];
        while let Some(path) = files.pop() {
            if path.is_dir() {
                files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            // Tests make up diagnostics of their own.
            let code = text.split("#[cfg(test)]").next().unwrap_or_default();
            let name = path.display().to_string();
            let mut add = |c: &str| {
                found.entry(c.to_string()).or_default().insert(name.clone());
            };
            for re in [&call, &severity_first, &field] {
                re.captures_iter(code).for_each(|c| add(&c[1]));
            }
            for block in code_match.captures_iter(code) {
                arm.captures_iter(&block[1]).for_each(|c| add(&c[1]));
            }
        }
        found
    }

    #[test]
    fn every_diagnostic_code_is_documented() {
        let emitted = emitted_codes();
        for known in [
            "yaml-syntax",
            "duplicate-id",
            "symlink",
            "too-large",
            "policy-override",
            "nothing-tested",
        ] {
            assert!(
                emitted.contains_key(known),
                "the scan no longer finds `{known}`: {emitted:?}"
            );
        }
        let doc = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/diagnostics.md")).unwrap();
        let documented: BTreeSet<&str> = doc
            .lines()
            .filter_map(|l| l.strip_prefix("| `")?.split('`').next())
            .collect();
        let missing: Vec<String> = emitted
            .iter()
            .filter(|(code, _)| !documented.contains(code.as_str()))
            .map(|(code, files)| format!("{code} ({})", files.iter().cloned().collect::<Vec<_>>().join(", ")))
            .collect();
        assert!(
            missing.is_empty(),
            "add these codes to docs/diagnostics.md: {missing:?}"
        );
        let stale: Vec<&&str> = documented.iter().filter(|c| !emitted.contains_key(**c)).collect();
        assert!(
            stale.is_empty(),
            "docs/diagnostics.md lists codes nothing emits: {stale:?}"
        );
    }
}
