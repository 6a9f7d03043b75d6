//! Governance pages and their JSON twins: `/compliance` (products × policies, per-domain figures, violations with
//! the file and field to change), `/audit` (admin only) and `/api/roles`.

use super::pages::{Chrome, render};
use super::views::{product_url, seg};
use super::{AppError, AppState, Caller};
use crate::governance::compliance::DomainCompliance;
use crate::governance::policy::Violation;
use askama::Template;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Debug, Clone, Serialize)]
pub struct PolicyColumn {
    pub id: String,
    pub title: String,
    pub severity: String,
    pub rule: String,
    pub file: String,
    pub source_url: String,
    pub violations: usize,
}

/// One cell of the matrix: `pass`, `error`, `warning`, `info` or `n/a` (the policy does not apply).
#[derive(Debug, Clone, Serialize)]
pub struct MatrixRow {
    pub domain: String,
    pub product: String,
    pub url: String,
    pub compliant: bool,
    pub quarantined: bool,
    pub cells: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ViolationRow {
    #[serde(flatten)]
    pub violation: Violation,
    #[serde(skip)]
    pub product_url: String,
    #[serde(skip)]
    pub source_url: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ComplianceView {
    pub policies: Vec<PolicyColumn>,
    pub matrix: Vec<MatrixRow>,
    pub domains: Vec<DomainCompliance>,
    pub violations: Vec<ViolationRow>,
    pub products: usize,
    pub compliant: usize,
    pub errors: usize,
    pub warnings: usize,
    /// `quarantine` or `flag`: what happens to a non-compliant product.
    pub non_compliant: &'static str,
    pub masking: Vec<(String, String)>,
}

fn source_url(file: &std::path::Path, line: Option<usize>) -> String {
    let mut u = format!(
        "/source/{}",
        file.iter()
            .map(|s| seg(&s.to_string_lossy()))
            .collect::<Vec<_>>()
            .join("/")
    );
    if let Some(l) = line {
        u.push_str(&format!("#L{l}"));
    }
    u
}

impl ComplianceView {
    pub fn of(s: &crate::live::snapshot::Snapshot) -> ComplianceView {
        use crate::base::diagnostics::Severity;
        let c = &s.catalog;
        let comp = &s.governance.compliance;
        let policies: Vec<PolicyColumn> = s
            .governance
            .policies
            .policies
            .iter()
            .map(|p| PolicyColumn {
                id: p.id.clone(),
                title: p.title.clone(),
                severity: p.severity.to_string(),
                rule: match &p.rule {
                    crate::governance::policy::Rule::Builtin { name, .. } => format!("builtin: {name}"),
                    crate::governance::policy::Rule::Sql { .. } => "sql".into(),
                },
                file: p.file.display().to_string(),
                source_url: source_url(&p.file, p.line),
                violations: comp.violations.iter().filter(|v| v.policy == p.id).count(),
            })
            .collect();
        let matrix = c
            .products
            .iter()
            .map(|p| {
                let cells = s
                    .governance
                    .policies
                    .policies
                    .iter()
                    .map(|pol| {
                        if !crate::governance::policy::applies(pol, p) {
                            return "n/a".to_string();
                        }
                        comp.of_product(&p.domain, &p.name)
                            .filter(|v| v.policy == pol.id)
                            .map(|v| v.severity)
                            .min()
                            .map(|s| s.to_string())
                            .unwrap_or_else(|| "pass".into())
                    })
                    .collect();
                MatrixRow {
                    domain: p.domain.clone(),
                    product: p.name.clone(),
                    url: product_url(&p.domain, &p.name),
                    compliant: comp.is_compliant(&p.key()),
                    quarantined: comp.is_quarantined(&p.key()),
                    cells,
                }
            })
            .collect();
        let violations = comp
            .violations
            .iter()
            .map(|v| ViolationRow {
                product_url: product_url(&v.domain, &v.product),
                source_url: v.file.as_ref().map(|f| source_url(f, v.line)),
                violation: v.clone(),
            })
            .collect();
        ComplianceView {
            products: c.products.len(),
            compliant: c.products.iter().filter(|p| comp.is_compliant(&p.key())).count(),
            errors: comp.count(Severity::Error),
            warnings: comp.count(Severity::Warning),
            non_compliant: if s.governance.access.quarantine {
                "quarantine"
            } else {
                "flag"
            },
            masking: s
                .governance
                .access
                .masking
                .iter()
                .map(|(k, v)| (k.clone(), format!("{v:?}").to_lowercase()))
                .collect(),
            domains: comp.by_domain(c),
            policies,
            matrix,
            violations,
        }
    }
}

pub async fn compliance(State(st): State<Arc<AppState>>) -> Result<Json<Value>, AppError> {
    let view = ComplianceView::of(&st.mesh.snapshot());
    serde_json::to_value(&view).map(Json).map_err(AppError::internal)
}

#[derive(Template)]
#[template(path = "compliance.html")]
struct CompliancePage {
    chrome: Chrome,
    v: ComplianceView,
}

pub async fn compliance_page(State(st): State<Arc<AppState>>, caller: Caller) -> Result<Response, AppError> {
    render(&CompliancePage {
        chrome: Chrome::new(&st, &caller, "compliance", "/api/compliance".into()).at("/compliance"),
        v: ComplianceView::of(&st.mesh.snapshot()),
    })
}

fn admin_only(caller: &Caller) -> Result<(), AppError> {
    if caller.role.admin {
        Ok(())
    } else {
        Err(AppError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!(
                "the audit log is for admin roles; `{}` is not one (switch role at the top of the page)",
                caller.role.name
            ),
        ))
    }
}

fn limit(q: &HashMap<String, String>) -> usize {
    q.get("limit").and_then(|l| l.parse().ok()).unwrap_or(200).min(1000)
}

pub async fn audit(
    State(st): State<Arc<AppState>>,
    caller: Caller,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Value>, AppError> {
    admin_only(&caller)?;
    Ok(Json(json!({
        "file": st.audit.file().map(|f| f.display().to_string()),
        "entries": st.audit.recent(limit(&q)),
    })))
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    chrome: Chrome,
    file: Option<String>,
    /// (time, role, endpoint, hash, rows, outcome, ms)
    entries: Vec<(String, String, String, String, u64, String, f64)>,
}

pub async fn audit_page(
    State(st): State<Arc<AppState>>,
    caller: Caller,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, AppError> {
    admin_only(&caller).map_err(AppError::page)?;
    render(&AuditPage {
        chrome: Chrome::new(&st, &caller, "audit", "/api/audit".into()).at("/audit"),
        file: st.audit.file().map(|f| f.display().to_string()),
        entries: st
            .audit
            .recent(limit(&q))
            .into_iter()
            .map(|e| {
                (
                    crate::base::format::utc_time(e.at),
                    e.role,
                    e.endpoint,
                    e.statement_hash,
                    e.rows,
                    e.outcome,
                    e.elapsed_ms,
                )
            })
            .collect(),
    })
}

/// `GET /api/roles`: every role, the default, and which one this request acts as.
/// In a locked room, `locked` names the roles that need the token and `token` says whether this request has it.
pub async fn roles(State(st): State<Arc<AppState>>, caller: Caller, headers: axum::http::HeaderMap) -> Json<Value> {
    let s = st.mesh.snapshot();
    let a = &s.governance.access;
    let mut body = json!({
        "roles": a.roles,
        "default": a.default_role,
        "current": caller.role.name,
        "declared": a.declared,
        "authenticated": false,
        "note": "meshbox is a sandbox: roles are chosen with the X-Meshbox-Role header or the role switcher, not authenticated",
    });
    if let Some(lock) = &st.web.room {
        let guarded = lock.guarded(s.generation, &s);
        body["locked"] = json!(guarded.iter().collect::<Vec<_>>());
        body["token"] = json!(lock.admits(&headers));
        body["note"] = json!(
            "this room is locked: the roles in `locked` need the token meshbox printed at start (cookie after one visit to /?token=…, or an X-Meshbox-Token / Authorization: Bearer header)"
        );
    }
    Json(body)
}
