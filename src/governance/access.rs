//! Who may read what: the roles of `mesh.yaml` (or meshbox's four default roles), which products each role may
//! read, and which columns it sees masked and how. Pure decisions; `profiles` turns them into databases.

use crate::governance::masking::MaskMethod;
use crate::model::catalog::{Product, Table};
use crate::model::manifest::mesh::{AccessDecl, RoleDecl};
use serde::Serialize;
use std::collections::BTreeMap;

/// How sensitive a product is, least first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Public,
    Internal,
    Restricted,
}

impl Level {
    pub fn parse(s: &str) -> Option<Level> {
        match s.trim().to_ascii_lowercase().as_str() {
            "public" => Some(Level::Public),
            "internal" => Some(Level::Internal),
            "restricted" => Some(Level::Restricted),
            _ => None,
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            Level::Public => "public",
            Level::Internal => "internal",
            Level::Restricted => "restricted",
        }
    }
}

/// A role as meshbox applies it.
#[derive(Debug, Clone, Serialize)]
pub struct Role {
    pub name: String,
    pub description: Option<String>,
    pub clearance: Level,
    /// Lower-case classifications seen unmasked; `*` means all.
    pub unmasked: Vec<String>,
    pub domains: Vec<String>,
    pub admin: bool,
}

impl Role {
    fn of(d: &RoleDecl) -> Role {
        Role {
            name: d.name.clone(),
            description: d.description.clone(),
            clearance: if d.admin {
                Level::Restricted
            } else {
                d.clearance.as_deref().and_then(Level::parse).unwrap_or(Level::Public)
            },
            unmasked: d.unmasked.clone(),
            domains: d.domains.clone(),
            admin: d.admin,
        }
    }

    fn sees_all_classes(&self) -> bool {
        self.admin || self.unmasked.iter().any(|c| c == "*")
    }

    /// A rough order of privilege, for picking the least privileged role as the default.
    fn privilege(&self) -> (bool, usize, Level, usize) {
        (
            self.admin,
            usize::from(self.sees_all_classes()),
            self.clearance,
            self.unmasked.len() + self.domains.len(),
        )
    }

    pub fn belongs_to(&self, domain: &str) -> bool {
        self.domains.iter().any(|d| d == domain)
    }
}

/// Why a role may or may not read a product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub granted: bool,
    pub reason: String,
}

/// The access rules of one snapshot.
#[derive(Debug, Clone, Serialize)]
pub struct AccessModel {
    pub roles: Vec<Role>,
    pub default_role: String,
    pub default_level: Level,
    /// Levels by `domain` or `domain/product`.
    pub levels: BTreeMap<String, Level>,
    /// Non-compliant products are hidden from roles outside their domain.
    pub quarantine: bool,
    /// False when mesh.yaml declares no roles and the defaults apply.
    pub declared: bool,
    /// Masking method by lower-case classification (others: redact).
    pub masking: BTreeMap<String, MaskMethod>,
    /// Governance files are broken and there is no last good version: only admin roles read any product.
    pub lockdown: bool,
}

/// The roles a mesh without `roles:` gets.
fn default_roles() -> Vec<Role> {
    let role = |name: &str, description: &str, clearance: Level, unmasked: &[&str], admin: bool| Role {
        name: name.into(),
        description: Some(description.into()),
        clearance,
        unmasked: unmasked.iter().map(|s| s.to_string()).collect(),
        domains: Vec::new(),
        admin,
    };
    vec![
        role(
            "guest",
            "reads public products; every classified column masked",
            Level::Public,
            &["public"],
            false,
        ),
        role(
            "analyst",
            "reads public and internal products; sees internal columns",
            Level::Internal,
            &["public", "internal"],
            false,
        ),
        role(
            "steward",
            "reads every product unmasked (not quarantined ones)",
            Level::Restricted,
            &["*"],
            false,
        ),
        role(
            "admin",
            "reads everything, sees the audit log",
            Level::Restricted,
            &["*"],
            true,
        ),
    ]
}

impl AccessModel {
    pub fn new(decl: &AccessDecl, roles: &[RoleDecl], masking: BTreeMap<String, MaskMethod>) -> AccessModel {
        let declared = !roles.is_empty();
        let roles: Vec<Role> = if declared {
            roles.iter().map(Role::of).collect()
        } else {
            default_roles()
        };
        let least = roles
            .iter()
            .min_by_key(|r| r.privilege())
            .map(|r| r.name.clone())
            .unwrap_or_default();
        let default_role = decl
            .default_role
            .clone()
            .filter(|d| roles.iter().any(|r| &r.name == d))
            .unwrap_or(least);
        AccessModel {
            roles,
            default_role,
            default_level: decl
                .default_level
                .as_deref()
                .and_then(Level::parse)
                .unwrap_or(Level::Public),
            levels: decl
                .levels
                .iter()
                .filter_map(|(k, v)| Level::parse(v).map(|l| (k.clone(), l)))
                .collect(),
            quarantine: decl.non_compliant.as_deref() != Some("flag"),
            declared,
            masking,
            lockdown: false,
        }
    }

    pub fn role(&self, name: &str) -> Option<&Role> {
        self.roles.iter().find(|r| r.name == name)
    }

    pub fn default(&self) -> &Role {
        self.role(&self.default_role).unwrap_or(&self.roles[0])
    }

    pub fn role_names(&self) -> Vec<&str> {
        self.roles.iter().map(|r| r.name.as_str()).collect()
    }

    /// The product's level: `access.levels` for the product, then for its domain, then the default.
    pub fn level_of(&self, p: &Product) -> Level {
        self.levels
            .get(&p.key())
            .or_else(|| self.levels.get(&p.domain))
            .copied()
            .unwrap_or(self.default_level)
    }

    /// The roles the product's contracts grant (ODCS `roles[].role`), if any contract names one.
    pub fn contract_roles(p: &Product) -> Vec<&str> {
        p.contracts
            .iter()
            .flat_map(|c| c.roles.iter().map(|r| r.role.as_str()))
            .collect()
    }

    /// May `role` read the product's data? `quarantined` when it violates an error policy and quarantine is on.
    pub fn decide(&self, role: &Role, p: &Product, quarantined: bool) -> Decision {
        let yes = |reason: String| Decision { granted: true, reason };
        let no = |reason: String| Decision { granted: false, reason };
        if role.admin {
            return yes("admin".into());
        }
        if self.lockdown {
            return no("access is locked: governance files are broken (see /problems)".into());
        }
        if role.belongs_to(&p.domain) {
            return yes(format!("member of the `{}` domain", p.domain));
        }
        if quarantined && self.quarantine {
            return no("quarantined: it violates an error policy (see /compliance)".into());
        }
        let granted = Self::contract_roles(p);
        if !granted.is_empty() {
            return if granted.contains(&role.name.as_str()) {
                yes("named in the contract's roles".into())
            } else {
                no(format!("the contract grants access to {} only", granted.join(", ")))
            };
        }
        let level = self.level_of(p);
        if role.clearance >= level {
            yes(format!(
                "{} product, {} clearance",
                level.as_str(),
                role.clearance.as_str()
            ))
        } else {
            no(format!(
                "{} product; the role's clearance is {}",
                level.as_str(),
                role.clearance.as_str()
            ))
        }
    }

    /// How a column of this classification is masked for the role, or None when it is seen as is.
    pub fn mask_for(&self, role: &Role, domain: &str, classification: Option<&str>) -> Option<MaskMethod> {
        let class = classification?.trim().to_ascii_lowercase();
        if class.is_empty() || class == "public" || role.admin {
            return None;
        }
        let trusted = !self.lockdown;
        if trusted && (role.sees_all_classes() || role.belongs_to(domain) || role.unmasked.contains(&class)) {
            return None;
        }
        Some(self.masking.get(&class).copied().unwrap_or(MaskMethod::Redact))
    }

    /// The mask of every loaded column of a table, in order. Columns the PII scan flags but the contract does not
    /// classify are redacted for roles that do not see every classification. A derived column is masked by its
    /// declared classification and every classification it inherits from its inputs: the most protective mask wins.
    pub fn table_masks(&self, role: &Role, p: &Product, t: &Table) -> Vec<Option<MaskMethod>> {
        let object = &p.contracts[t.contract].tables[t.object];
        t.columns
            .iter()
            .map(|c| {
                let declared = object.columns.iter().find(|d| d.name == c.name);
                let class = declared.and_then(|d| d.classification.as_deref());
                let own = match class {
                    Some(_) => self.mask_for(role, &p.domain, class),
                    None if t.pii.iter().any(|f| f.column == c.name)
                        && !role.sees_all_classes()
                        && !role.belongs_to(&p.domain) =>
                    {
                        Some(MaskMethod::Redact)
                    }
                    None => None,
                };
                c.inherited
                    .iter()
                    .map(|i| self.mask_for(role, &i.domain, Some(i.classification.as_str())))
                    .fold(own, most_protective)
            })
            .collect()
    }
}

pub use crate::model::catalog::classification_rank;

/// The mask that reveals less: redacting or nulling hides everything, a hash keeps equality, a partial mask a part.
pub fn most_protective(a: Option<MaskMethod>, b: Option<MaskMethod>) -> Option<MaskMethod> {
    let hides = |m: &Option<MaskMethod>| match m {
        None => 0,
        Some(MaskMethod::Partial) => 1,
        Some(MaskMethod::Hash) => 2,
        Some(MaskMethod::Null) => 3,
        Some(MaskMethod::Redact) => 4,
    };
    if hides(&b) > hides(&a) { b } else { a }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_pick_the_least_privileged_role() {
        let m = AccessModel::new(&AccessDecl::default(), &[], BTreeMap::new());
        assert_eq!(m.default_role, "guest");
        assert_eq!(m.role_names(), ["guest", "analyst", "steward", "admin"]);
        assert!(m.quarantine);
        let guest = m.role("guest").unwrap();
        assert_eq!(m.mask_for(guest, "sales", Some("restricted")), Some(MaskMethod::Redact));
        assert_eq!(m.mask_for(guest, "sales", Some("Public")), None);
        assert_eq!(m.mask_for(guest, "sales", None), None);
        let steward = m.role("steward").unwrap();
        assert_eq!(m.mask_for(steward, "sales", Some("restricted")), None);
    }

    #[test]
    fn classifications_are_ranked_and_unknown_ones_are_stricter_than_public() {
        let r = classification_rank;
        assert_eq!((r(None), r(Some("Public")), r(Some(" "))), (0, 0, 0));
        assert!(r(Some("internal")) > r(Some("public")));
        assert!(r(Some("confidential")) > r(Some("internal")));
        assert!(r(Some("PII")) < r(Some("Restricted")));
        assert!(r(Some("made-up")) > r(Some("internal")));
        let strongest = |a, b| most_protective(a, b);
        assert_eq!(
            strongest(Some(MaskMethod::Partial), Some(MaskMethod::Hash)),
            Some(MaskMethod::Hash)
        );
        assert_eq!(strongest(Some(MaskMethod::Hash), None), Some(MaskMethod::Hash));
        assert_eq!(strongest(None, Some(MaskMethod::Partial)), Some(MaskMethod::Partial));
        assert_eq!(
            strongest(Some(MaskMethod::Null), Some(MaskMethod::Redact)),
            Some(MaskMethod::Redact)
        );
    }

    #[test]
    fn declared_roles_and_masking_methods() {
        let roles = vec![
            RoleDecl {
                name: "marketing".into(),
                clearance: Some("internal".into()),
                unmasked: vec!["internal".into()],
                domains: vec!["marketing".into()],
                ..Default::default()
            },
            RoleDecl {
                name: "viewer".into(),
                ..Default::default()
            },
        ];
        let masking = BTreeMap::from([("pii".to_string(), MaskMethod::Hash)]);
        let m = AccessModel::new(&AccessDecl::default(), &roles, masking);
        assert_eq!(m.default_role, "viewer");
        let mk = m.role("marketing").unwrap();
        assert_eq!(m.mask_for(mk, "sales", Some("PII")), Some(MaskMethod::Hash));
        assert_eq!(
            m.mask_for(mk, "marketing", Some("pii")),
            None,
            "a domain sees its own data"
        );
        assert_eq!(m.mask_for(mk, "sales", Some("internal")), None);
    }
}
