//! meshbox's own two optional files: `mesh.yaml` (the mesh's name and settings) and `<domain>/domain.yaml`.

use super::{Support, Team};
use crate::base::diagnostics::Severity;
use crate::base::yaml::{Document, Problem, Reader};
use serde::Serialize;
use serde_yaml::{Mapping, Value};

/// `mesh.yaml` at the root of the folder. Every field is optional.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MeshFile {
    pub name: Option<String>,
    pub description: Option<String>,
    /// `settings.server`: which contract server to load when a contract has several (default: the first local one).
    pub server: Option<String>,
    /// `access:` — who reads what by default.
    pub access: AccessDecl,
    /// `roles:` as declared (empty: meshbox's default roles apply).
    pub roles: Vec<RoleDecl>,
    #[serde(skip)]
    pub doc: Option<Document>,
}

/// `access:` in mesh.yaml.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AccessDecl {
    /// The role of a request that names none (default: the least privileged role).
    pub default_role: Option<String>,
    /// The level of a product whose contracts declare no `roles[]`: public, internal or restricted (default public).
    pub default_level: Option<String>,
    /// Levels by domain (`sales`) or product (`sales/orders`), overriding `default_level`.
    pub levels: Vec<(String, String)>,
    /// `quarantine` (non-compliant products are readable only by their domain and admins) or `flag`.
    pub non_compliant: Option<String>,
}

/// One entry of `roles:` in mesh.yaml.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RoleDecl {
    pub name: String,
    pub description: Option<String>,
    /// The most sensitive product level the role reads: public, internal or restricted.
    pub clearance: Option<String>,
    /// Classifications the role sees unmasked (`"*"`: all).
    pub unmasked: Vec<String>,
    /// Domains the role belongs to: it reads their products unmasked, quarantined or not.
    pub domains: Vec<String>,
    /// Reads everything unmasked and sees the audit log.
    pub admin: bool,
}

pub const LEVELS: &[&str] = &["public", "internal", "restricted"];

fn read_level(r: &mut Reader, m: &Mapping, key: &str, path: &str) -> Option<String> {
    let v = r.string(m, key, path)?.to_ascii_lowercase();
    if LEVELS.contains(&v.as_str()) {
        Some(v)
    } else {
        r.problem(
            Severity::Error,
            "unknown-value",
            &crate::base::yaml::path_of(path, key),
            format!("unknown access level `{v}`"),
            Some("use public, internal or restricted".into()),
        );
        None
    }
}

fn read_access(r: &mut Reader, root: &Mapping) -> AccessDecl {
    let Some(a) = r.mapping(root, "access", "").cloned() else {
        return AccessDecl::default();
    };
    let mut levels = Vec::new();
    if let Some(m) = r.mapping(&a, "levels", "access").cloned() {
        for k in m.keys() {
            if let Some(name) = k.as_str()
                && let Some(level) = read_level(r, &m, name, "access.levels")
            {
                levels.push((name.to_string(), level));
            }
        }
    }
    let non_compliant = r.string(&a, "non_compliant", "access").map(|s| s.to_ascii_lowercase());
    if let Some(v) = non_compliant
        .as_deref()
        .filter(|v| !matches!(*v, "quarantine" | "flag"))
    {
        r.problem(
            Severity::Error,
            "unknown-value",
            "access.non_compliant",
            format!("unknown value `{v}`"),
            Some("use quarantine or flag".into()),
        );
    }
    AccessDecl {
        default_role: r.string(&a, "default_role", "access"),
        default_level: read_level(r, &a, "default_level", "access"),
        levels,
        non_compliant: non_compliant.filter(|v| matches!(v.as_str(), "quarantine" | "flag")),
    }
}

fn read_role(r: &mut Reader, name: String, m: &Mapping, path: &str) -> RoleDecl {
    RoleDecl {
        description: r.string(m, "description", path),
        clearance: read_level(r, m, "clearance", path),
        unmasked: r
            .strings(m, "unmasked", path)
            .into_iter()
            .map(|s| s.to_ascii_lowercase())
            .collect(),
        domains: r.strings(m, "domains", path),
        admin: r.bool(m, "admin", path).unwrap_or(false),
        name,
    }
}

/// `roles:` as a mapping of name → role, or a list of roles with a `name`.
fn read_roles(r: &mut Reader, root: &Mapping) -> Vec<RoleDecl> {
    let mut roles: Vec<RoleDecl> = Vec::new();
    match root.get("roles") {
        None | Some(Value::Null) => {}
        Some(Value::Mapping(m)) => {
            for (k, v) in m {
                let Some(name) = crate::base::yaml::scalar_text(k) else {
                    continue;
                };
                let path = crate::base::yaml::path_of("roles", &name);
                let body = match v {
                    Value::Null => Mapping::new(),
                    other => match r.as_mapping(other, &path) {
                        Some(m) => m.clone(),
                        None => continue,
                    },
                };
                roles.push(read_role(r, name, &body, &path));
            }
        }
        Some(Value::Sequence(_)) => {
            for (path, v) in r.list(root, "roles", "") {
                let Some(m) = r.as_mapping(v, &path) else { continue };
                match r.string(m, "name", &path) {
                    Some(name) => roles.push(read_role(r, name, m, &path)),
                    None => r.problem(
                        Severity::Error,
                        "missing-field",
                        &path,
                        "a role needs a `name`".into(),
                        None,
                    ),
                }
            }
        }
        Some(other) => r.problem(
            Severity::Error,
            "wrong-type",
            "roles",
            format!(
                "expects a mapping of role names, found {}",
                crate::base::yaml::kind_of(other)
            ),
            Some("e.g. `roles: {analyst: {clearance: internal, unmasked: [internal]}}`".into()),
        ),
    }
    let mut seen = std::collections::HashSet::new();
    roles.retain(|role| {
        let fresh = seen.insert(role.name.to_ascii_lowercase());
        if !fresh {
            r.problem(
                Severity::Error,
                "duplicate",
                "roles",
                format!("the role `{}` is declared twice; the first one is used", role.name),
                None,
            );
        }
        fresh
    });
    roles
}

impl MeshFile {
    pub fn read(doc: Document, problems: &mut Vec<Problem>) -> MeshFile {
        let mut r = Reader::new(problems);
        let Some(root) = doc.value.as_mapping().cloned() else {
            if !doc.value.is_null() {
                r.problem(
                    Severity::Error,
                    "wrong-type",
                    "",
                    "mesh.yaml should hold a mapping of fields".into(),
                    None,
                );
            }
            return MeshFile {
                doc: Some(doc),
                ..Default::default()
            };
        };
        let settings = r.mapping(&root, "settings", "").cloned();
        let server = settings.as_ref().and_then(|s| r.string(s, "server", "settings"));
        MeshFile {
            name: r.string(&root, "name", ""),
            description: r.string(&root, "description", ""),
            server,
            access: read_access(&mut r, &root),
            roles: read_roles(&mut r, &root),
            doc: Some(doc),
        }
    }
}

/// A contact of a domain (`contacts[]` in domain.yaml).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Contact {
    pub name: Option<String>,
    pub email: Option<String>,
    pub channel: Option<String>,
    pub url: Option<String>,
}

/// `<domain>/domain.yaml`: the domain's title, description, owning team and contacts.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DomainFile {
    pub title: Option<String>,
    pub description: Option<String>,
    pub team: Option<Team>,
    pub contacts: Vec<Contact>,
    pub support: Vec<Support>,
    #[serde(skip)]
    pub doc: Option<Document>,
}

impl DomainFile {
    pub fn read(doc: Document, problems: &mut Vec<Problem>) -> DomainFile {
        let mut r = Reader::new(problems);
        let Some(root) = doc.value.as_mapping().cloned() else {
            if !doc.value.is_null() {
                r.problem(
                    Severity::Error,
                    "wrong-type",
                    "",
                    "domain.yaml should hold a mapping of fields".into(),
                    None,
                );
            }
            return DomainFile {
                doc: Some(doc),
                ..Default::default()
            };
        };
        let mut team = Team::read(&mut r, &root, "");
        if team.is_none() {
            // `owner: Sales Engineering` is the shortest way to name the owning team.
            if let Some(owner) = r.string(&root, "owner", "") {
                team = Some(Team {
                    name: Some(owner),
                    ..Default::default()
                });
            }
        }
        let mut contacts = Vec::new();
        for (p, v) in r.list(&root, "contacts", "") {
            let Some(m) = r.as_mapping(v, &p) else {
                continue;
            };
            contacts.push(Contact {
                name: r.string(m, "name", &p),
                email: r.string(m, "email", &p),
                channel: r.string(m, "channel", &p),
                url: r.string(m, "url", &p).filter(|u| super::is_safe_url(u)),
            });
        }
        DomainFile {
            title: r.string(&root, "title", "").or_else(|| r.string(&root, "name", "")),
            description: r.string(&root, "description", ""),
            team,
            contacts,
            support: Support::read_all(&mut r, &root, ""),
            doc: Some(doc),
        }
    }
}
