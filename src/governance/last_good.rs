//! Governance that fails closed: which roles, masking and policies a snapshot enforces. While a governance file
//! (`mesh.yaml`, a `domain.yaml`, a policy file) is broken, the last good governance stays in force; on a cold
//! start with nothing good to keep, every non-admin role is denied every product until the file is fixed.

use crate::base::diagnostics::{Diagnostic, Severity};
use crate::folder::manifests::MeshSpec;
use crate::governance::access::{AccessModel, Decision, Role};
use crate::governance::compliance::Compliance;
use crate::governance::policy::PolicySet;
use crate::model::catalog::{Catalog, Domain, Product};
use crate::model::manifest::mesh::MeshFile;
use serde::Serialize;
use std::path::PathBuf;
use std::sync::Arc;

/// Whether the governance in force is the one the folder declares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum GovernanceState {
    /// Every governance file was read whole: what the folder declares is in force.
    Sound,
    /// Some governance files are broken: the last good roles, masking and policies stay in force.
    KeptLastGood { broken: Vec<PathBuf> },
    /// Broken files and nothing good to keep (a cold start): only admin roles read any product.
    Lockdown { broken: Vec<PathBuf> },
}

impl GovernanceState {
    /// The broken governance files (relative to the mesh root), if any.
    pub fn broken(&self) -> &[PathBuf] {
        match self {
            GovernanceState::Sound => &[],
            GovernanceState::KeptLastGood { broken } | GovernanceState::Lockdown { broken } => broken,
        }
    }

    /// The sentence every page shows while governance is not sound.
    pub fn alert(&self) -> Option<String> {
        let files = || {
            self.broken()
                .iter()
                .map(|f| f.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        match self {
            GovernanceState::Sound => None,
            GovernanceState::KeptLastGood { .. } => Some(format!(
                "Governance files are broken ({}): the last good roles, masking and policies stay in force until \
                 they are fixed.",
                files()
            )),
            GovernanceState::Lockdown { .. } => Some(format!(
                "Governance files are broken ({}) and there is no earlier good version: access is locked, only \
                 admin roles read any product until they are fixed.",
                files()
            )),
        }
    }
}

/// The governance a snapshot enforces, beside its catalog: the policies and roles in force, and what the policies
/// found (empty until `evaluation::evaluate` has run on the catalog).
#[derive(Debug, Clone)]
pub struct Governance {
    pub state: GovernanceState,
    pub policies: Arc<PolicySet>,
    pub access: Arc<AccessModel>,
    pub compliance: Arc<Compliance>,
    /// Diagnostics about the governance as a whole (the lock, the last good version kept, an unknown default role).
    pub diagnostics: Vec<Diagnostic>,
}

impl Governance {
    /// May this role read this product's data?
    pub fn decide(&self, role: &Role, p: &Product) -> Decision {
        self.access.decide(role, p, self.compliance.is_quarantined(&p.key()))
    }

    /// `catalog` healthy, governance read whole, no `error` policy violated and every policy could run (what
    /// `meshbox validate` exits 0 on).
    pub fn passes(&self, catalog: &Catalog) -> bool {
        catalog.is_healthy()
            && !self.access.lockdown
            && self.compliance.count(Severity::Error) == 0
            && !self.compliance.diagnostics.iter().any(Diagnostic::is_error)
            && !self.policies.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// What the previous snapshot enforced, to keep while files are broken.
pub struct LastGood<'a> {
    pub mesh_file: &'a MeshFile,
    pub domains: &'a [Domain],
    pub policies: &'a Arc<PolicySet>,
    pub access: &'a Arc<AccessModel>,
}

/// Decides the governance in force from what was just read. With broken files, `spec`'s mesh file and the broken
/// domains' descriptions are replaced by their last good versions, so the snapshot's settings stay consistent.
pub fn govern(spec: &mut MeshSpec, policies: PolicySet, prev: Option<LastGood<'_>>) -> Governance {
    let mut broken: Vec<PathBuf> = spec.governance_broken.clone();
    broken.extend(policies.broken.iter().cloned());
    if broken.is_empty() {
        return sound(spec, policies);
    }
    match prev {
        Some(last) if !last.access.lockdown => {
            keep_last_good(spec, &last);
            // The policies in force are the last good ones; the problems shown are today's.
            let kept = PolicySet {
                diagnostics: policies.diagnostics,
                broken: policies.broken,
                ..PolicySet::clone(last.policies)
            };
            let state = GovernanceState::KeptLastGood { broken };
            let diagnostic = Diagnostic::error("governance-broken", state.alert().unwrap_or_default())
                .hint("fix the files listed on this page; meshbox applies the new governance as soon as they read");
            Governance {
                state,
                policies: Arc::new(kept),
                access: Arc::clone(last.access),
                compliance: Default::default(),
                diagnostics: vec![diagnostic],
            }
        }
        _ => lockdown(spec, policies, broken),
    }
}

/// Everything read whole: the folder's own governance.
fn sound(spec: &MeshSpec, policies: PolicySet) -> Governance {
    let access = AccessModel::new(&spec.mesh_file.access, &spec.mesh_file.roles, policies.masking.clone());
    let diagnostics = unknown_default_role(spec, &access).into_iter().collect();
    Governance {
        state: GovernanceState::Sound,
        policies: Arc::new(policies),
        access: Arc::new(access),
        compliance: Default::default(),
        diagnostics,
    }
}

/// Before anything is read (a mesh still loading): no roles, and every non-admin role denied.
pub fn locked_until_read(spec: &MeshSpec) -> Governance {
    let mut governance = lockdown(spec, PolicySet::default(), Vec::new());
    governance.diagnostics.clear();
    governance
}

/// No good version to keep: the roles as far as they could be read, every non-admin role denied.
fn lockdown(spec: &MeshSpec, policies: PolicySet, broken: Vec<PathBuf>) -> Governance {
    let mut access = AccessModel::new(&spec.mesh_file.access, &spec.mesh_file.roles, policies.masking.clone());
    access.lockdown = true;
    let state = GovernanceState::Lockdown { broken };
    let diagnostic = Diagnostic::error("governance-locked", state.alert().unwrap_or_default())
        .hint("fix the files listed on this page; access opens as soon as every governance file reads");
    Governance {
        state,
        policies: Arc::new(policies),
        access: Arc::new(access),
        compliance: Default::default(),
        diagnostics: vec![diagnostic],
    }
}

/// Puts the last good `mesh.yaml` and descriptions of broken `domain.yaml` files back into `spec`.
fn keep_last_good(spec: &mut MeshSpec, last: &LastGood<'_>) {
    let broken = &spec.governance_broken;
    let mesh_broken = broken
        .iter()
        .any(|f| f.components().count() == 1 && crate::folder::scan::is_mesh_file_name(&name_of(f)));
    if mesh_broken {
        spec.mesh_file = last.mesh_file.clone();
    }
    for domain in &mut spec.domains {
        let file_broken = domain.file.as_ref().is_some_and(|f| broken.contains(f));
        if file_broken && let Some(old) = last.domains.iter().find(|d| d.name == domain.name) {
            *domain = old.clone();
        }
    }
}

fn name_of(path: &std::path::Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// `access.default_role` naming a role that does not exist.
fn unknown_default_role(spec: &MeshSpec, access: &AccessModel) -> Option<Diagnostic> {
    let declared = spec.mesh_file.access.default_role.as_ref()?;
    access.role(declared).is_none().then(|| {
        Diagnostic::error(
            "unknown-role",
            format!("`access.default_role` names `{declared}`, which is not a declared role"),
        )
        .in_file("mesh.yaml")
        .field("access.default_role")
        .hint(format!("declared roles: {}", access.role_names().join(", ")))
    })
}
