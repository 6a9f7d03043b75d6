//! The files of a mesh folder as typed values: ODCS contracts, ODPS descriptors, `mesh.yaml` and `domain.yaml`.
//! Reading is tolerant (a wrong field is a problem, not a rejected file) and nothing here touches the disk.

pub mod mesh;
pub mod odcs;
pub mod odps;
pub mod relationships;

use crate::base::yaml::{Problem, Reader, scalar_text};
use serde::Serialize;
use serde_yaml::{Mapping, Value};

/// `description` of a contract or product: an object with purpose/usage/limitations, or a plain text.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Description {
    pub purpose: Option<String>,
    pub usage: Option<String>,
    pub limitations: Option<String>,
}

impl Description {
    pub fn read(r: &mut Reader, map: &Mapping, path: &str) -> Description {
        match map.get("description") {
            Some(Value::String(s)) => Description {
                purpose: Some(s.clone()),
                ..Default::default()
            },
            Some(Value::Mapping(_)) => {
                let p = crate::base::yaml::path_of(path, "description");
                let m = r.mapping(map, "description", path).expect("checked mapping");
                Description {
                    purpose: r.string(m, "purpose", &p),
                    usage: r.string(m, "usage", &p),
                    limitations: r.string(m, "limitations", &p),
                }
            }
            None | Some(Value::Null) => Description::default(),
            Some(_) => {
                r.string(map, "description", path);
                Description::default()
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.purpose.is_none() && self.usage.is_none() && self.limitations.is_none()
    }
}

/// A team member (ODCS `team.members[]` or the v3.0 `team[]` list; ODPS `team.members[]`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Member {
    pub username: Option<String>,
    pub name: Option<String>,
    pub role: Option<String>,
    pub email: Option<String>,
}

/// The owning team: ODCS 3.1+/ODPS `team: {name, members}`, ODCS 3.0 `team: [members]`, or a plain name.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Team {
    pub name: Option<String>,
    pub description: Option<String>,
    pub members: Vec<Member>,
}

impl Team {
    pub fn read(r: &mut Reader, map: &Mapping, path: &str) -> Option<Team> {
        let p = crate::base::yaml::path_of(path, "team");
        match map.get("team")? {
            Value::Null => None,
            Value::String(s) => Some(Team {
                name: Some(s.clone()),
                ..Default::default()
            }),
            Value::Sequence(_) => Some(Team {
                members: read_members(r, map, "team", path),
                ..Default::default()
            }),
            Value::Mapping(m) => Some(Team {
                name: r.string(m, "name", &p),
                description: r.string(m, "description", &p),
                members: read_members(r, m, "members", &p),
            }),
            other => {
                r.problem(
                    crate::base::diagnostics::Severity::Error,
                    "wrong-type",
                    &p,
                    format!(
                        "expects a mapping with `name` and `members`, found {}",
                        crate::base::yaml::kind_of(other)
                    ),
                    None,
                );
                None
            }
        }
    }

    /// A human-readable owner: the team name, or the first member with an owner-ish role.
    pub fn display_name(&self) -> Option<String> {
        if let Some(n) = &self.name {
            return Some(n.clone());
        }
        let m = self
            .members
            .iter()
            .find(|m| m.role.as_deref().is_some_and(|r| r.to_lowercase().contains("owner")))
            .or_else(|| self.members.first())?;
        m.name.clone().or_else(|| m.username.clone())
    }
}

fn read_members(r: &mut Reader, map: &Mapping, key: &str, path: &str) -> Vec<Member> {
    let mut out = Vec::new();
    for (p, v) in r.list(map, key, path) {
        if let Some(s) = scalar_text(v) {
            out.push(Member {
                username: Some(s),
                ..Default::default()
            });
            continue;
        }
        let Some(m) = r.as_mapping(v, &p) else {
            continue;
        };
        out.push(Member {
            username: r.string(m, "username", &p),
            name: r.string(m, "name", &p),
            role: r.string(m, "role", &p),
            email: r.string(m, "email", &p).or_else(|| r.string(m, "mail", &p)),
        });
    }
    out
}

/// A support channel (`support[]` in both standards).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Support {
    pub channel: Option<String>,
    pub url: Option<String>,
    pub tool: Option<String>,
    pub scope: Option<String>,
    pub description: Option<String>,
}

impl Support {
    pub fn read_all(r: &mut Reader, map: &Mapping, path: &str) -> Vec<Support> {
        let mut out = Vec::new();
        for (p, v) in r.list(map, "support", path) {
            let Some(m) = r.as_mapping(v, &p) else {
                continue;
            };
            out.push(Support {
                channel: r.string(m, "channel", &p),
                url: r.string(m, "url", &p).filter(|u| is_safe_url(u)),
                tool: r.string(m, "tool", &p),
                scope: r.string(m, "scope", &p),
                description: r.string(m, "description", &p),
            });
        }
        out
    }
}

/// `customProperties[]`: `{property, value}` pairs, kept with their raw values.
pub fn read_custom_properties(r: &mut Reader, map: &Mapping, path: &str) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for (p, v) in r.list(map, "customProperties", path) {
        let Some(m) = r.as_mapping(v, &p) else {
            continue;
        };
        if let Some(name) = r.string(m, "property", &p) {
            out.push((name, m.get("value").cloned().unwrap_or(Value::Null)));
        }
    }
    out
}

/// Links taken from manifests end up in `href`s: only http(s) and mailto are allowed (no `javascript:`).
pub fn is_safe_url(url: &str) -> bool {
    let u = url.trim().to_ascii_lowercase();
    u.starts_with("https://") || u.starts_with("http://") || u.starts_with("mailto:")
}

/// Problems found while reading a manifest, before they are tied to a file position.
pub type Problems = Vec<Problem>;

/// `orders.odcs.yaml` → `orders`; `datacontract.yaml` → `datacontract`.
pub fn manifest_stem(path: &std::path::Path) -> String {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let lower = name.to_ascii_lowercase();
    for suffix in [".odcs.yaml", ".odcs.yml", ".odps.yaml", ".odps.yml", ".yaml", ".yml"] {
        if lower.ends_with(suffix) {
            return name[..name.len() - suffix.len()].to_string();
        }
    }
    name.to_string()
}
