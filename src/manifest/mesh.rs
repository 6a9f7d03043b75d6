//! meshbox's own two optional files: `mesh.yaml` (the mesh's name and settings) and `<domain>/domain.yaml`.

use super::{Support, Team};
use crate::diagnostics::Severity;
use crate::yaml::{Document, Problem, Reader};
use serde::Serialize;

/// `mesh.yaml` at the root of the folder. Every field is optional.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MeshFile {
    pub name: Option<String>,
    pub description: Option<String>,
    /// `settings.server`: which contract server to load when a contract has several (default: the first local one).
    pub server: Option<String>,
    #[serde(skip)]
    pub doc: Option<Document>,
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
