//! What pages and their JSON twins show: plain serializable views of the snapshot, built per request.

use crate::base::diagnostics::{Diagnostic, Severity};
use crate::checks::{CheckResult, CheckStatus};
use crate::live::snapshot::Snapshot;
use crate::model::catalog::{Catalog, Domain, Product, Status, Table};
use crate::model::manifest::Description;
use serde::Serialize;

pub use crate::base::urls::{domain_url, product_url, seg};

#[derive(Debug, Clone, Serialize, Default)]
pub struct CheckCounts {
    pub total: usize,
    pub passed: usize,
    pub failed: usize,
    pub warnings: usize,
    pub errors: usize,
    pub skipped: usize,
}

impl CheckCounts {
    pub fn of(checks: &[CheckResult]) -> CheckCounts {
        let mut c = CheckCounts {
            total: checks.len(),
            ..Default::default()
        };
        for r in checks {
            match r.status {
                CheckStatus::Pass => c.passed += 1,
                CheckStatus::Fail => c.failed += 1,
                CheckStatus::Warn => c.warnings += 1,
                CheckStatus::Error => c.errors += 1,
                CheckStatus::Skipped => c.skipped += 1,
            }
        }
        c
    }
}

/// A product in lists (`/api/products`, the home page, a domain page).
#[derive(Debug, Clone, Serialize)]
pub struct ProductSummary {
    pub domain: String,
    pub name: String,
    pub title: String,
    pub status: Status,
    pub stale: bool,
    pub lifecycle: Option<String>,
    /// Deprecated (ODPS `deprecated: true`, or a deprecated/retired status): new work should not depend on it.
    pub deprecated: bool,
    #[serde(rename = "type")]
    pub product_type: Option<String>,
    pub owner: Option<String>,
    pub purpose: Option<String>,
    pub tags: Vec<String>,
    /// SQL names of the tables it serves.
    pub tables: Vec<String>,
    pub checks: CheckCounts,
    /// `fresh` or `late` when the product declares a measured latency/freshness SLA.
    pub freshness: Option<&'static str>,
    /// No `error` policy violated.
    pub compliant: bool,
    /// Non-compliant and hidden from consumers outside its domain.
    pub quarantined: bool,
    pub violations: usize,
    pub url: String,
    pub api_url: String,
}

impl ProductSummary {
    pub fn of(p: &Product, s: &Snapshot) -> ProductSummary {
        let key = p.key();
        ProductSummary {
            compliant: s.governance.compliance.is_compliant(&key),
            quarantined: s.governance.compliance.is_quarantined(&key),
            violations: s.governance.compliance.of_product(&p.domain, &p.name).count(),
            domain: p.domain.clone(),
            name: p.name.clone(),
            title: p.title(),
            status: p.status,
            stale: p.stale,
            lifecycle: p.lifecycle().map(str::to_string),
            deprecated: p.is_deprecated(),
            product_type: p.product_type().map(str::to_string),
            owner: p.owner(),
            purpose: p.description().purpose,
            tags: p.tags(),
            tables: p.tables.iter().map(Table::sql_name).collect(),
            checks: CheckCounts::of(&p.checks),
            freshness: {
                let sla: Vec<&CheckResult> = p.checks.iter().filter(|c| c.kind == "servicelevel_freshness").collect();
                if sla.is_empty() {
                    None
                } else if sla.iter().all(|c| c.status == CheckStatus::Pass) {
                    Some("fresh")
                } else {
                    Some("late")
                }
            },
            url: product_url(&p.domain, &p.name),
            api_url: format!("/api{}", product_url(&p.domain, &p.name)),
        }
    }

    pub fn status_str(&self) -> &'static str {
        self.status.as_str()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct DomainView {
    pub name: String,
    pub title: String,
    pub description: Option<String>,
    pub owner: Option<String>,
    pub contacts: Vec<String>,
    pub file: Option<String>,
    pub products: Vec<ProductSummary>,
    pub url: String,
}

impl DomainView {
    pub fn of(d: &Domain, s: &Snapshot) -> DomainView {
        let catalog = &s.catalog;
        DomainView {
            name: d.name.clone(),
            title: d.display_title().to_string(),
            description: d.description.clone(),
            owner: d.owner(),
            contacts: d
                .contacts
                .iter()
                .map(|c| {
                    [c.name.clone(), c.email.clone(), c.channel.clone()]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>()
                        .join(" · ")
                })
                .filter(|s| !s.is_empty())
                .collect(),
            file: d.file.as_ref().map(|f| f.display().to_string()),
            products: catalog.products_in(&d.name).map(|p| ProductSummary::of(p, s)).collect(),
            url: domain_url(&d.name),
        }
    }
}

/// A diagnostic or failing check, wherever it is in the mesh.
#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    pub severity: &'static str,
    /// Where the file can be read with its line highlighted (manifests only).
    pub source_url: Option<String>,
    pub product: Option<String>,
    pub product_url: Option<String>,
    pub location: String,
    pub message: String,
    pub hint: Option<String>,
}

/// `/source/<file>#L<line>` for YAML manifests.
fn source_url(file: Option<&std::path::Path>, line: Option<usize>) -> Option<String> {
    let f = file?;
    if !f.extension().is_some_and(|e| e == "yaml" || e == "yml") {
        return None;
    }
    let path: Vec<String> = f.iter().map(|c| seg(&c.to_string_lossy())).collect();
    Some(format!(
        "/source/{}{}",
        path.join("/"),
        line.map(|l| format!("#L{l}")).unwrap_or_default()
    ))
}

fn diagnostic_problem(d: &Diagnostic, p: Option<&Product>) -> Problem {
    Problem {
        severity: match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        },
        product: p.map(Product::key),
        product_url: p.map(|p| product_url(&p.domain, &p.name)),
        source_url: source_url(d.file.as_deref(), d.line),
        location: d.location(),
        message: match &d.field {
            Some(f) => format!("{f}: {}", d.message),
            None => d.message.clone(),
        },
        hint: d.hint.clone(),
    }
}

/// The problems that belong to no product (mesh.yaml, policies, folders), as `role` may see them.
fn mesh_problems(s: &Snapshot, role: &crate::governance::access::Role) -> Vec<Problem> {
    let catalog = &s.catalog;
    let sight = crate::governance::disclosure::Sight::of_mesh(role);
    let mut out: Vec<Problem> = catalog
        .diagnostics
        .iter()
        .filter(|d| d.severity != Severity::Info)
        .map(|d| diagnostic_problem(&crate::governance::disclosure::diagnostic(d, &sight), None))
        .collect();
    out.sort_by_key(severity_rank);
    out
}

/// Every problem of the mesh, as `role` may see it: messages that quote data, check measures and reasons are in
/// their data-free form unless the role reads that data unmasked.
pub fn problems(s: &Snapshot, role: &crate::governance::access::Role) -> Vec<Problem> {
    let catalog = &s.catalog;
    use crate::governance::disclosure::{Sight, check, diagnostic};
    let mut out = Vec::new();
    let diag = diagnostic_problem;
    out.extend(mesh_problems(s, role));
    for p in &catalog.products {
        let has_problems =
            p.diagnostics.iter().any(|d| d.severity != Severity::Info) || p.checks.iter().any(CheckResult::is_problem);
        if !has_problems {
            continue;
        }
        let sight = Sight::of(catalog, &s.governance, role, p);
        for d in p.diagnostics.iter().filter(|d| d.severity != Severity::Info) {
            out.push(diag(&diagnostic(d, &sight), Some(p)));
        }
        for c in p.checks.iter().filter(|c| c.is_problem()).map(|c| check(c, &sight)) {
            let location = c
                .origin
                .as_ref()
                .map(|o| match o.line {
                    Some(l) => format!("{}:{l}", o.file.display()),
                    None => o.file.display().to_string(),
                })
                .unwrap_or_default();
            out.push(Problem {
                source_url: c.origin.as_ref().and_then(|o| source_url(Some(&o.file), o.line)),
                severity: match c.status {
                    CheckStatus::Warn => "warning",
                    _ => "error",
                },
                product: Some(p.key()),
                product_url: Some(product_url(&p.domain, &p.name)),
                location,
                message: format!(
                    "{}: {}",
                    c.name,
                    c.reason.clone().unwrap_or_else(|| c.status.as_str().into())
                ),
                hint: None,
            });
        }
    }
    out.sort_by_key(severity_rank);
    out
}

fn severity_rank(p: &Problem) -> u8 {
    match p.severity {
        "error" => 0,
        "warning" => 1,
        _ => 2,
    }
}

/// How many problems are errors (the same for every role: only their messages depend on who looks).
pub fn error_count(catalog: &Catalog) -> usize {
    let diagnostics = catalog
        .all_diagnostics()
        .filter(|d| d.severity == Severity::Error)
        .count();
    let checks = catalog
        .products
        .iter()
        .flat_map(|p| p.checks.iter())
        .filter(|c| c.is_problem() && c.status != CheckStatus::Warn)
        .count();
    diagnostics + checks
}

/// The notes `/source/<file>` shows next to its lines, as `role` may see them: (severity, line, message).
pub fn source_notes(
    s: &Snapshot,
    file: &std::path::Path,
    role: &crate::governance::access::Role,
) -> Vec<(String, usize, String)> {
    use crate::governance::disclosure::{Sight, check, diagnostic};
    let catalog = &s.catalog;
    let mut notes: Vec<(String, usize, String)> = Vec::new();
    let mesh_sight = Sight::of_mesh(role);
    for d in catalog.diagnostics.iter().filter(|d| d.file.as_deref() == Some(file)) {
        if let Some(l) = d.line {
            notes.push((d.severity.to_string(), l, diagnostic(d, &mesh_sight).message));
        }
    }
    for p in &catalog.products {
        let mine = |o: Option<&std::path::Path>| o == Some(file);
        let touches = p.diagnostics.iter().any(|d| mine(d.file.as_deref()))
            || p.checks
                .iter()
                .any(|c| c.is_problem() && mine(c.origin.as_ref().map(|o| o.file.as_path())));
        if !touches {
            continue;
        }
        let sight = Sight::of(catalog, &s.governance, role, p);
        for d in p.diagnostics.iter().filter(|d| mine(d.file.as_deref())) {
            if let Some(l) = d.line {
                notes.push((d.severity.to_string(), l, diagnostic(d, &sight).message));
            }
        }
        for c in p.checks.iter().filter(|c| c.is_problem()) {
            if let Some(o) = c.origin.as_ref().filter(|o| o.file == file) {
                let seen = check(c, &sight);
                notes.push((
                    "error".into(),
                    o.line.unwrap_or(1),
                    format!("{}: {}", seen.name, seen.reason.unwrap_or_default()),
                ));
            }
        }
    }
    notes.sort_by_key(|n| n.1);
    notes
}

#[derive(Debug, Clone, Serialize)]
pub struct MeshView {
    pub name: String,
    pub description: Option<String>,
    pub generation: u64,
    pub domains: Vec<DomainView>,
    pub products: usize,
    pub tables: usize,
    pub passing: usize,
    pub warning: usize,
    pub failing: usize,
    pub failed: usize,
    /// Products whose contract or descriptor breaks its standard.
    pub invalid: usize,
    pub problems: usize,
    pub diagnostics: Vec<Problem>,
    pub recent: Vec<RecentChange>,
}

/// A line of "what changed recently" on the home page.
#[derive(Debug, Clone, Serialize)]
pub struct RecentChange {
    pub generation: u64,
    pub at: u64,
    /// Seconds since the Unix epoch formatted as UTC `HH:MM:SS`, for the page.
    pub time: String,
    pub what: String,
    pub products: Vec<(String, String)>,
    pub broken: bool,
}

impl RecentChange {
    pub fn of(c: &crate::live::snapshot::Change, first: bool) -> RecentChange {
        let secs = c.at / 1000;
        let time = format!("{:02}:{:02}:{:02} UTC", (secs / 3600) % 24, (secs / 60) % 60, secs % 60);
        let link = |k: &String| {
            let (d, n) = k.split_once('/').unwrap_or((k, ""));
            (k.clone(), product_url(d, n))
        };
        let what = if let Some(e) = &c.error {
            format!("rebuild failed: {e}")
        } else if first {
            format!(
                "loaded {} products in {} ms",
                c.reloaded.len(),
                crate::base::format::number(c.took_ms.round())
            )
        } else if c.reloaded.is_empty() && c.removed.is_empty() {
            "nothing changed".into()
        } else {
            let mut parts = Vec::new();
            if !c.reloaded.is_empty() {
                parts.push(format!("reloaded {}", c.reloaded.len()));
            }
            if !c.removed.is_empty() {
                parts.push(format!("removed {} ({})", c.removed.len(), c.removed.join(", ")));
            }
            format!(
                "{} in {} ms",
                parts.join(", "),
                crate::base::format::number(c.took_ms.round())
            )
        };
        RecentChange {
            generation: c.generation,
            at: c.at,
            time,
            what,
            products: if first {
                Vec::new()
            } else {
                c.reloaded.iter().map(link).collect()
            },
            broken: c.error.is_some() || !c.broken.is_empty(),
        }
    }
}

impl MeshView {
    pub fn with_history(
        s: &Snapshot,
        history: &[crate::live::snapshot::Change],
        role: &crate::governance::access::Role,
    ) -> MeshView {
        let mut v = MeshView::of(s, role);
        let oldest = history.iter().map(|c| c.generation).min().unwrap_or(0);
        v.recent = history
            .iter()
            .map(|c| RecentChange::of(c, c.generation == oldest && c.generation == 1))
            .collect();
        v
    }

    pub fn of(s: &Snapshot, role: &crate::governance::access::Role) -> MeshView {
        let c = &s.catalog;
        let count = |st: Status| c.products.iter().filter(|p| p.status == st).count();
        MeshView {
            name: c.name.clone(),
            description: c.description.clone(),
            generation: s.generation,
            domains: c.domains.iter().map(|d| DomainView::of(d, s)).collect(),
            products: c.products.len(),
            tables: c.products.iter().map(|p| p.tables.len()).sum(),
            passing: count(Status::Passing),
            warning: count(Status::Warning),
            failing: count(Status::Failing),
            failed: count(Status::Failed),
            invalid: count(Status::Invalid),
            problems: error_count(c),
            diagnostics: mesh_problems(s, role),
            recent: Vec::new(),
        }
    }
}

/// Rows as text for HTML tables (the JSON twin keeps the typed values).
#[derive(Debug, Clone, Default)]
pub struct DisplaySample {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl DisplaySample {
    pub fn of(s: &crate::model::catalog::Sample) -> DisplaySample {
        DisplaySample {
            columns: s.columns.clone(),
            rows: s.rows.iter().map(|r| r.iter().map(cell_text).collect()).collect(),
        }
    }
}

/// A diagnostic with a link to its line.
#[derive(Debug, Clone, Serialize)]
pub struct DiagnosticRow {
    #[serde(flatten)]
    pub diagnostic: Diagnostic,
    #[serde(skip)]
    pub source_url: Option<String>,
}

/// A JSON cell as people read it: strings without quotes, NULL as an empty cell.
pub fn cell_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A check with its failed rows ready for display.
#[derive(Debug, Clone, Serialize)]
pub struct CheckRow {
    #[serde(flatten)]
    pub result: CheckResult,
    #[serde(skip)]
    pub source_url: Option<String>,
    #[serde(skip)]
    pub failed_rows: Option<DisplaySample>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ColumnView {
    pub name: String,
    #[serde(rename = "type")]
    pub data_type: String,
    pub logical_type: Option<String>,
    pub physical_type: Option<String>,
    pub description: Option<String>,
    pub required: bool,
    pub unique: bool,
    pub primary_key: bool,
    pub classification: Option<String>,
    pub declared: bool,
    pub constraints: Vec<String>,
    pub business_name: Option<String>,
    /// `column` (when declared so), `measure` or `dimension`.
    pub semantic_type: Option<String>,
    /// How the value is computed (a measure's aggregation).
    pub transform_logic: Option<String>,
    pub transform_description: Option<String>,
    pub deprecated: bool,
    pub synonyms: Vec<crate::model::manifest::odcs::Synonym>,
    pub definitions: Vec<crate::discovery::glossary::Definition>,
    /// The column's anchor on the product page.
    #[serde(skip)]
    pub anchor: String,
    /// How the viewing role sees this column's values (None: as they are).
    pub masked: Option<crate::governance::policy::MaskMethod>,
    /// What the PII scan found in its values.
    pub pii: Option<crate::load::pii::PiiFinding>,
}

/// One column's profile, with its charts ready for the page.
#[derive(Debug, Clone, Serialize)]
pub struct ProfileView {
    #[serde(flatten)]
    pub profile: crate::load::column_profiles::ColumnProfile,
    /// Inline SVG built from numbers only.
    #[serde(skip)]
    pub null_svg: String,
    #[serde(skip)]
    pub histogram_svg: Option<String>,
    #[serde(skip)]
    pub top_rows: Vec<(String, String, String)>,
}

impl ProfileView {
    pub fn of(p: &crate::load::column_profiles::ColumnProfile, rows: u64) -> ProfileView {
        let top_max = p.top.first().map(|t| t.1).unwrap_or(1).max(1) as f64;
        ProfileView {
            profile: p.clone(),
            null_svg: crate::load::column_profiles::share_svg(p.null_pct / 100.0),
            histogram_svg: (!p.histogram.is_empty() && rows > 0)
                .then(|| crate::load::column_profiles::histogram_svg(&p.histogram)),
            top_rows: p
                .top
                .iter()
                .map(|(v, n)| {
                    (
                        v.clone(),
                        crate::base::format::thousands(*n),
                        crate::load::column_profiles::share_svg(*n as f64 / top_max),
                    )
                })
                .collect(),
        }
    }

    pub fn range(&self) -> String {
        match (&self.profile.min, &self.profile.max) {
            (Some(a), Some(b)) if a == b => a.clone(),
            (Some(a), Some(b)) => format!("{a} … {b}"),
            _ => String::new(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct TableView {
    pub sql_name: String,
    pub name: String,
    pub description: Option<String>,
    pub business_name: Option<String>,
    pub deprecated: bool,
    pub synonyms: Vec<crate::model::manifest::odcs::Synonym>,
    pub definitions: Vec<crate::discovery::glossary::Definition>,
    pub context: Option<super::semantics::ContextView>,
    /// None for a role that may not read the product.
    pub row_count: Option<u64>,
    #[serde(skip)]
    pub rows_text: String,
    pub format: String,
    pub files: Vec<String>,
    pub contract_file: String,
    pub columns: Vec<ColumnView>,
    pub sample: crate::model::catalog::Sample,
    #[serde(skip)]
    pub sample_cells: DisplaySample,
    pub profile: Vec<ProfileView>,
    pub example_query: String,
    /// Opens the example query in the SQL console.
    pub console_url: String,
    /// The table as a CSV / JSON download.
    pub csv_url: String,
    pub json_url: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PortView {
    pub name: String,
    #[serde(rename = "type")]
    pub port_type: Option<String>,
    pub description: Option<String>,
    pub contract_id: Option<String>,
    pub version: Option<String>,
    /// SQL names of the tables the port's contract describes.
    pub tables: Vec<String>,
    /// For input ports: the product that provides the contract.
    pub provider: Option<String>,
    pub provider_url: Option<String>,
    /// The port is marked `deprecated: true` (ODPS 1.1).
    pub deprecated: bool,
    /// For input ports: the providing product is deprecated.
    pub provider_deprecated: bool,
    pub synonyms: Vec<crate::model::manifest::odcs::Synonym>,
    pub definitions: Vec<crate::discovery::glossary::Definition>,
    pub sbom: Vec<super::semantics::SbomView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ContractView {
    pub id: Option<String>,
    pub name: String,
    pub version: Option<String>,
    pub status: Option<String>,
    pub api_version: Option<String>,
    pub file: String,
    pub sla: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ProductDetail {
    #[serde(flatten)]
    pub summary: ProductSummary,
    pub description: Description,
    /// Synonyms, authoritative definitions, contexts and deprecation of the product as a whole.
    pub meaning: super::semantics::Meaning,
    pub team: Vec<String>,
    pub support: Vec<(String, Option<String>)>,
    pub table_details: Vec<TableView>,
    pub output_ports: Vec<PortView>,
    pub input_ports: Vec<PortView>,
    pub consumers: Vec<(String, String)>,
    pub contracts: Vec<ContractView>,
    pub check_results: Vec<CheckRow>,
    pub scorecard: crate::discovery::scorecard::Scorecard,
    pub diagnostics: Vec<DiagnosticRow>,
    pub load_ms: f64,
    pub loaded_generation: u64,
    /// The role the page was rendered for, and whether it may read the data.
    pub role: String,
    pub access: crate::governance::access::Decision,
    pub access_level: &'static str,
    /// Policy violations of this product.
    pub violations: Vec<crate::governance::policy::Violation>,
    /// Products downstream (what a breaking change would hit), with their owners.
    pub impact: Vec<crate::discovery::lineage::Impacted>,
    /// Queries that read it, per day and role.
    pub usage: crate::governance::usage::UsageSummary,
    /// Two hops of lineage up and down, drawn.
    #[serde(skip)]
    pub lineage_svg: String,
    /// For a derived product: the SQL that builds each table.
    pub derived: Vec<crate::model::catalog::DerivedTable>,
    /// Each contract's versions against the one before, newest first (state folder and git).
    pub changelog: Vec<crate::lifecycle::history::ChangelogEntry>,
}

/// Who is looking: the role (what it may read, how values are masked) and the salt of `hash` masking.
pub struct Viewer<'a> {
    pub role: &'a crate::governance::access::Role,
    pub salt: &'a crate::governance::masking::Salt,
}

/// A sample with every value masked as `masks` says (by column name); empty when `granted` is false.
fn viewed_sample(
    sample: &crate::model::catalog::Sample,
    t: &Table,
    masks: &[Option<crate::governance::policy::MaskMethod>],
    salt: &crate::governance::masking::Salt,
) -> crate::model::catalog::Sample {
    let per_column: Vec<(Option<crate::governance::policy::MaskMethod>, &str)> = sample
        .columns
        .iter()
        .map(|name| match t.columns.iter().position(|c| &c.name == name) {
            Some(i) => (masks[i], t.columns[i].data_type.as_str()),
            None => (Some(crate::governance::policy::MaskMethod::Redact), "VARCHAR"),
        })
        .collect();
    crate::model::catalog::Sample {
        columns: sample.columns.clone(),
        rows: sample
            .rows
            .iter()
            .map(|row| {
                row.iter()
                    .zip(&per_column)
                    .map(|(v, (m, ty))| crate::governance::masking::value(*m, v, ty, salt))
                    .collect()
            })
            .collect(),
    }
}

impl ProductDetail {
    pub fn of(p: &Product, s: &Snapshot, viewer: &Viewer) -> ProductDetail {
        let catalog = &s.catalog;
        let access = s.decide(viewer.role, p);
        let sight = crate::governance::disclosure::Sight::of(catalog, &s.governance, viewer.role, p);
        ProductDetail {
            summary: ProductSummary::of(p, s),
            description: p.description(),
            meaning: super::semantics::Meaning::of(p),
            team: team_lines(p),
            support: p
                .support()
                .into_iter()
                .map(|s| (s.channel.or(s.tool).unwrap_or_else(|| "support".into()), s.url))
                .collect(),
            table_details: p
                .tables
                .iter()
                .map(|t| TableView::of(p, t, s, viewer, access.granted))
                .collect(),
            output_ports: output_ports(p),
            input_ports: input_ports(p, catalog),
            consumers: consumers(p, catalog),
            contracts: p.contracts.iter().map(|c| ContractView::of(c, &catalog.root)).collect(),
            scorecard: crate::discovery::scorecard::score(p),
            check_results: p.checks.iter().map(|c| CheckRow::of(c, p, s, viewer, &sight)).collect(),
            diagnostics: p
                .diagnostics
                .iter()
                .map(|d| DiagnosticRow {
                    source_url: source_url(d.file.as_deref(), d.line),
                    diagnostic: crate::governance::disclosure::diagnostic(d, &sight),
                })
                .collect(),
            load_ms: p.load_ms,
            loaded_generation: p.loaded_generation,
            role: viewer.role.name.clone(),
            access_level: s.governance.access.level_of(p).as_str(),
            violations: s
                .governance
                .compliance
                .of_product(&p.domain, &p.name)
                .cloned()
                .collect(),
            access,
            impact: Vec::new(),
            usage: Default::default(),
            lineage_svg: String::new(),
            derived: p.derived.clone(),
            changelog: Vec::new(),
        }
    }

    /// Adds lineage (two hops), impact and usage.
    pub fn with_discovery(
        mut self,
        p: &Product,
        s: &Snapshot,
        usage: &crate::governance::usage::Usage,
    ) -> ProductDetail {
        let l = &s.lineage;
        if let Some(i) = l.index_of(&p.key()) {
            self.impact = l.impact(i, None);
            let near = l.neighbourhood(i, 2);
            if near.len() > 1 {
                self.lineage_svg = l.subgraph(&near).svg(Some(&p.key()));
            }
        }
        self.usage = usage.summary(&p.key(), crate::governance::audit::now_ms());
        self
    }

    /// Adds the changelog of the product's contracts.
    pub fn with_changelog(mut self, p: &Product, s: &Snapshot, state: Option<&std::path::Path>) -> ProductDetail {
        let catalog = &s.catalog;
        for c in &p.contracts {
            let rel = c.doc.file.strip_prefix(&catalog.root).unwrap_or(&c.doc.file);
            if let Some(text) = crate::base::safe_read::read_manifest_text(&c.doc.file) {
                self.changelog.extend(
                    crate::lifecycle::history::changelog(state, &catalog.root, rel, &text)
                        .into_iter()
                        .take(10),
                );
            }
        }
        self
    }
}

fn rel(path: &std::path::Path, root: &std::path::Path) -> String {
    path.strip_prefix(root).unwrap_or(path).display().to_string()
}

impl TableView {
    /// One served table as the role may see it: columns with their masks, sample, profiles and row count only when
    /// it may read the product (`granted`), links to downloads and the console.
    fn of(p: &Product, t: &Table, s: &Snapshot, viewer: &Viewer, granted: bool) -> TableView {
        let contract = &p.contracts[t.contract];
        let object = &contract.tables[t.object];
        let masks = s.governance.access.table_masks(viewer.role, p, t);
        let columns = t
            .columns
            .iter()
            .zip(&masks)
            .map(|(lc, mask)| ColumnView::of(lc, object.columns.iter().find(|c| c.name == lc.name), *mask, t))
            .collect();
        let sample = if granted {
            viewed_sample(&t.sample, t, &masks, viewer.salt)
        } else {
            crate::model::catalog::Sample::default()
        };
        let profiles = if granted {
            visible_profiles(t, &masks)
        } else {
            Vec::new()
        };
        let product_api = format!("/api{}", product_url(&p.domain, &p.name));
        TableView {
            sql_name: t.sql_name(),
            name: t.name.clone(),
            description: object.description.clone(),
            business_name: object.business_name.clone(),
            deprecated: object.deprecated,
            synonyms: object.synonyms.clone(),
            definitions: super::semantics::definitions(&object.authoritative_definitions),
            context: object
                .context
                .as_ref()
                .map(|c| super::semantics::ContextView::of(format!("table {}", t.name), c)),
            // A row count is a fact about the data: only for roles that may read it.
            row_count: granted.then_some(t.row_count),
            rows_text: if granted {
                format!("{} rows", crate::base::format::thousands(t.row_count))
            } else {
                "row count not shown".into()
            },
            format: t.format.clone(),
            files: t.files.iter().map(|f| f.display().to_string()).collect(),
            contract_file: rel(&contract.doc.file, &s.catalog.root),
            columns,
            sample: sample.clone(),
            sample_cells: DisplaySample::of(&sample),
            profile: profiles.iter().map(|pr| ProfileView::of(pr, t.row_count)).collect(),
            example_query: format!("SELECT * FROM {} LIMIT 100", t.sql_name()),
            csv_url: format!("{product_api}/tables/{}.csv", seg(&t.name)),
            json_url: format!("{product_api}/tables/{}.json", seg(&t.name)),
            console_url: format!(
                "/sql?run=1&sql={}",
                seg(&format!("SELECT * FROM {} LIMIT 100", t.sql_name()))
            ),
        }
    }
}

impl ColumnView {
    /// A served column, with what its contract declares about it (`decl`) and the mask the role sees it through.
    fn of(
        lc: &crate::model::catalog::LoadedColumn,
        decl: Option<&crate::model::manifest::odcs::Column>,
        mask: Option<crate::governance::masking::MaskMethod>,
        t: &Table,
    ) -> ColumnView {
        ColumnView {
            name: lc.name.clone(),
            data_type: lc.data_type.clone(),
            logical_type: decl.and_then(|c| c.logical_type.clone()),
            physical_type: decl.and_then(|c| c.physical_type.clone()),
            description: decl.and_then(|c| c.description.clone()),
            required: decl.is_some_and(|c| c.required),
            unique: decl.is_some_and(|c| c.unique),
            primary_key: decl.is_some_and(|c| c.primary_key),
            classification: decl.and_then(|c| c.classification.clone()),
            declared: lc.declared,
            constraints: decl.map(declared_constraints).unwrap_or_default(),
            business_name: decl.and_then(|c| c.business_name.clone()),
            semantic_type: decl.and_then(|c| c.semantic_type.clone()),
            transform_logic: decl.and_then(|c| c.transform_logic.clone()),
            transform_description: decl.and_then(|c| c.transform_description.clone()),
            deprecated: decl.is_some_and(|c| c.deprecated),
            synonyms: decl.map(|c| c.synonyms.clone()).unwrap_or_default(),
            definitions: decl
                .map(|c| super::semantics::definitions(&c.authoritative_definitions))
                .unwrap_or_default(),
            anchor: format!("column-{}-{}", t.name, lc.name),
            masked: mask,
            pii: t.pii.iter().find(|f| f.column == lc.name).cloned(),
        }
    }
}

/// A column's declared constraints as short phrases (`minLength 3`, `one of a, b`).
fn declared_constraints(c: &crate::model::manifest::odcs::Column) -> Vec<String> {
    let text = |v: &serde_yaml::Value| crate::base::yaml::scalar_text(v).unwrap_or_default();
    let o = &c.options;
    let mut constraints = Vec::new();
    if let Some(n) = o.min_length {
        constraints.push(format!("minLength {n}"));
    }
    if let Some(n) = o.max_length {
        constraints.push(format!("maxLength {n}"));
    }
    if let Some(p) = &o.pattern {
        constraints.push(format!("pattern {p}"));
    }
    if let Some(v) = &o.minimum {
        constraints.push(format!("minimum {}", text(v)));
    }
    if let Some(v) = &o.maximum {
        constraints.push(format!("maximum {}", text(v)));
    }
    if !c.enum_values.is_empty() {
        constraints.push(format!("one of {}", c.enum_values.join(", ")));
    }
    constraints
}

/// The column profiles of a table the role may read. Value statistics of a masked column would give away what the
/// mask hides: those keep only their counts.
fn visible_profiles(
    t: &Table,
    masks: &[Option<crate::governance::masking::MaskMethod>],
) -> Vec<crate::load::column_profiles::ColumnProfile> {
    t.profiles
        .iter()
        .map(|pr| {
            let masked = t
                .columns
                .iter()
                .position(|c| c.name == pr.name)
                .is_none_or(|i| masks[i].is_some());
            if masked {
                crate::load::column_profiles::ColumnProfile {
                    min: None,
                    max: None,
                    top: Vec::new(),
                    histogram: Vec::new(),
                    masked: true,
                    ..pr.clone()
                }
            } else {
                pr.clone()
            }
        })
        .collect()
}

/// The product's output ports: its descriptor's, or one per contract when it has no descriptor.
fn output_ports(p: &Product) -> Vec<PortView> {
    let tables_of_contract = |id: Option<&str>| -> Vec<String> {
        let Some(id) = id else { return Vec::new() };
        p.tables
            .iter()
            .filter(|t| p.contracts[t.contract].id.as_deref() == Some(id))
            .map(Table::sql_name)
            .collect()
    };
    match &p.descriptor {
        Some(d) if !d.output_ports.is_empty() => d
            .output_ports
            .iter()
            .map(|o| PortView {
                name: o.name.clone().unwrap_or_else(|| "output".into()),
                port_type: o.port_type.clone(),
                description: o.description.clone(),
                contract_id: o.contract_id.clone(),
                version: o.version.clone(),
                tables: tables_of_contract(o.contract_id.as_deref()),
                provider: None,
                provider_url: None,
                deprecated: o.deprecated,
                provider_deprecated: false,
                synonyms: o.synonyms.clone(),
                definitions: super::semantics::definitions(&o.authoritative_definitions),
                sbom: o.sbom.iter().map(super::semantics::SbomView::of).collect(),
            })
            .collect(),
        _ => p
            .contracts
            .iter()
            .map(|c| PortView {
                name: c.title(),
                port_type: Some("tables".into()),
                description: c.description.purpose.clone(),
                contract_id: c.id.clone(),
                version: c.version.clone(),
                tables: p
                    .tables
                    .iter()
                    .filter(|t| std::ptr::eq(&p.contracts[t.contract], c))
                    .map(Table::sql_name)
                    .collect(),
                provider: None,
                provider_url: None,
                deprecated: false,
                provider_deprecated: false,
                synonyms: Vec::new(),
                definitions: Vec::new(),
                sbom: Vec::new(),
            })
            .collect(),
    }
}

/// The product's input ports, each with the product that provides its contract (if the mesh has one).
fn input_ports(p: &Product, catalog: &Catalog) -> Vec<PortView> {
    p.descriptor
        .iter()
        .flat_map(|d| d.input_ports.iter())
        .map(|i| {
            let provider = i
                .contract_id
                .as_deref()
                .and_then(|id| catalog.product_by_contract_id(id));
            PortView {
                name: i.name.clone().unwrap_or_else(|| "input".into()),
                port_type: None,
                description: None,
                contract_id: i.contract_id.clone(),
                version: i.version.clone(),
                tables: Vec::new(),
                provider: provider.map(|p| p.key()),
                provider_url: provider.map(|p| product_url(&p.domain, &p.name)),
                deprecated: i.deprecated,
                provider_deprecated: provider.is_some_and(|p| p.is_deprecated()),
                synonyms: Vec::new(),
                definitions: Vec::new(),
                sbom: Vec::new(),
            }
        })
        .collect()
}

/// The other products whose input ports name one of this product's contracts: (key, page).
fn consumers(p: &Product, catalog: &Catalog) -> Vec<(String, String)> {
    let my_ids: Vec<&str> = p.contracts.iter().filter_map(|c| c.id.as_deref()).collect();
    catalog
        .products
        .iter()
        .filter(|other| other.key() != p.key() && other.input_contract_ids().iter().any(|id| my_ids.contains(id)))
        .map(|o| (o.key(), product_url(&o.domain, &o.name)))
        .collect()
}

/// The owning team's members as `name (role)`.
fn team_lines(p: &Product) -> Vec<String> {
    p.team()
        .map(|t| {
            t.members
                .iter()
                .map(|m| {
                    let who = m.name.clone().or(m.username.clone()).unwrap_or_default();
                    match &m.role {
                        Some(r) => format!("{who} ({r})"),
                        None => who,
                    }
                })
                .collect()
        })
        .unwrap_or_default()
}

impl ContractView {
    /// A contract's identity and service levels, its file relative to the mesh root.
    fn of(c: &crate::model::manifest::odcs::Contract, root: &std::path::Path) -> ContractView {
        ContractView {
            id: c.id.clone(),
            name: c.title(),
            version: c.version.clone(),
            status: c.status.clone(),
            api_version: c.api_version.clone(),
            file: rel(&c.doc.file, root),
            sla: c.sla.iter().map(sla_line).collect(),
        }
    }
}

/// One service level as text: `latency 4 h on updated_at`.
fn sla_line(s: &crate::model::manifest::odcs::SlaProperty) -> String {
    let v = s
        .value
        .as_ref()
        .and_then(crate::base::yaml::scalar_text)
        .unwrap_or_default();
    let mut t = format!(
        "{} {v}{}",
        s.property,
        s.unit.as_deref().map(|u| format!(" {u}")).unwrap_or_default()
    );
    if let Some(e) = &s.element {
        t.push_str(&format!(" on {e}"));
    }
    t
}

impl CheckRow {
    /// A check result with measures, reasons and failed rows only as far as the role may see what the check reads
    /// (`sight`); failed rows it may see are masked for it.
    fn of(
        c: &CheckResult,
        p: &Product,
        s: &Snapshot,
        viewer: &Viewer,
        sight: &crate::governance::disclosure::Sight,
    ) -> CheckRow {
        let mut result = crate::governance::disclosure::check(c, sight);
        if let Some(t) = p.tables.iter().find(|t| c.table.as_deref() == Some(t.name.as_str()))
            && result.samples.is_some()
        {
            let masks = s.governance.access.table_masks(viewer.role, p, t);
            result.samples = result.samples.map(|s| viewed_sample(&s, t, &masks, viewer.salt));
        }
        CheckRow {
            source_url: c.origin.as_ref().and_then(|o| source_url(Some(&o.file), o.line)),
            failed_rows: result
                .samples
                .as_ref()
                .filter(|s| !s.rows.is_empty())
                .map(DisplaySample::of),
            result,
        }
    }
}
