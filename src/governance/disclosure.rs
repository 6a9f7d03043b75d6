//! What a role may see of what meshbox measured and reported about the data. A check's measured value, its reason,
//! its failed rows, a load error quoting a cell or a line, and a table's row count are computed from the data: they
//! are shown only to roles that may read that data as it is. Everyone else gets a data-free form (the status, the
//! threshold, the error class). Pages, the API and the `mesh.*` metadata tables all go through here.

use crate::base::diagnostics::Diagnostic;
use crate::checks::{CheckResult, Reads};
use crate::governance::Governance;
use crate::governance::access::Role;
use crate::model::catalog::{Catalog, Product};
use std::collections::{BTreeMap, BTreeSet};

/// Shown in place of a reason this role may not see and that has no data-free form.
pub const WITHHELD: &str = "details not shown: they come from data this role may not read or sees masked";

/// What one role may see of one product's data.
#[derive(Debug, Clone)]
pub struct Sight {
    /// The role may read the product's data.
    pub granted: bool,
    /// Per table, the lower-case names of the columns the role sees masked.
    masked: BTreeMap<String, BTreeSet<String>>,
    /// A derived product whose inputs the role may not read unmasked: messages of its build quote their data.
    inputs_hidden: bool,
    /// What the role may see of the products the product's relationships compare with, by product key.
    referenced: BTreeMap<String, Sight>,
    /// Sees every product as it is (the unmasked database's metadata): relationships need no lookup.
    all_products: bool,
}

impl Sight {
    /// Sees everything as it is (the unmasked database's metadata, admins).
    pub fn everything() -> Sight {
        Sight {
            granted: true,
            masked: BTreeMap::new(),
            inputs_hidden: false,
            referenced: BTreeMap::new(),
            all_products: true,
        }
    }

    /// Sees none of the data.
    pub fn nothing() -> Sight {
        Sight {
            granted: false,
            masked: BTreeMap::new(),
            inputs_hidden: false,
            referenced: BTreeMap::new(),
            all_products: false,
        }
    }

    /// What `role` may see of `p`: its access decision, and every column it sees masked (declared columns by their
    /// classification, loaded columns as they are served, PII findings included).
    pub fn of(catalog: &Catalog, gov: &Governance, role: &Role, p: &Product) -> Sight {
        let mut sight = Sight::of_own(catalog, gov, role, p);
        if !sight.granted {
            return sight;
        }
        for c in &p.checks {
            if let Reads::Related { domain, product, .. } = &c.reads {
                let key = format!("{domain}/{product}");
                if sight.referenced.contains_key(&key) {
                    continue;
                }
                // A product the catalog does not hold (any more) is seen as nothing.
                let seen = catalog
                    .product(domain, product)
                    .map(|q| Sight::of_own(catalog, gov, role, q))
                    .unwrap_or_else(Sight::nothing);
                sight.referenced.insert(key, seen);
            }
        }
        sight
    }

    /// What `role` may see of `p`'s own data, leaving its relationships to other products aside.
    fn of_own(catalog: &Catalog, gov: &Governance, role: &Role, p: &Product) -> Sight {
        if !gov.decide(role, p).granted {
            return Sight::nothing();
        }
        // A derived product's build errors quote its inputs' rows.
        let inputs_hidden = !p.derived.is_empty()
            && p.input_contract_ids().iter().any(|id| {
                catalog.product_by_contract_id(id).is_some_and(|q| {
                    !gov.decide(role, q).granted || masked_columns(gov, role, q).values().any(|s| !s.is_empty())
                })
            });
        Sight {
            granted: true,
            masked: masked_columns(gov, role, p),
            inputs_hidden,
            referenced: BTreeMap::new(),
            all_products: false,
        }
    }

    /// What a role sees of messages that belong to no product: admins everything, others the data-free forms.
    pub fn of_mesh(role: &Role) -> Sight {
        if role.admin {
            Sight::everything()
        } else {
            Sight::nothing()
        }
    }

    /// May the role see what was computed from `reads` of `table`?
    pub fn sees(&self, table: Option<&str>, reads: &Reads) -> bool {
        match reads {
            Reads::Schema => true,
            _ if !self.granted => false,
            Reads::Everything => !self.inputs_hidden && self.masked.values().all(BTreeSet::is_empty),
            Reads::Related {
                columns,
                domain,
                product,
                table: other,
                keys,
            } => {
                let other_sees = |s: &Sight| s.sees(Some(other), &Reads::Columns(keys.clone()));
                self.sees(table, &Reads::Columns(columns.clone()))
                    && (self.all_products
                        || self
                            .referenced
                            .get(&format!("{domain}/{product}"))
                            .is_some_and(other_sees))
            }
            Reads::Columns(columns) => {
                // Called for every check of every product per role: no allocation.
                let clear = |set: &BTreeSet<String>| !columns.iter().any(|c| set.iter().any(|m| same_name(m, c)));
                match table {
                    Some(t) => self
                        .masked
                        .iter()
                        .filter(|(k, _)| same_name(k, t))
                        .all(|(_, s)| clear(s)),
                    None => self.masked.values().all(clear),
                }
            }
        }
    }

    /// Reads the product and sees none of its columns masked.
    pub fn sees_everything(&self) -> bool {
        self.sees(None, &Reads::Everything)
    }
}

/// Whether `name` is `lower` (a lower-case name) but for case.
fn same_name(lower: &str, name: &str) -> bool {
    if name.is_ascii() {
        lower.eq_ignore_ascii_case(name)
    } else {
        lower == name.to_lowercase()
    }
}

/// Per table, the lower-case names of the columns `role` sees masked in `p`: declared columns by their
/// classification (loaded or not), loaded columns as they are served (PII findings included).
fn masked_columns(gov: &Governance, role: &Role, p: &Product) -> BTreeMap<String, BTreeSet<String>> {
    let access = &gov.access;
    let mut masked: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for object in p.contracts.iter().flat_map(|c| c.tables.iter()) {
        let set = masked.entry(object.name.to_lowercase()).or_default();
        for col in &object.columns {
            if access
                .mask_for(role, &p.domain, col.classification.as_deref())
                .is_some()
            {
                set.insert(col.name.to_lowercase());
            }
        }
    }
    for t in &p.tables {
        let set = masked.entry(t.name.to_lowercase()).or_default();
        for (col, mask) in t.columns.iter().zip(access.table_masks(role, p, t)) {
            if mask.is_some() {
                set.insert(col.name.to_lowercase());
            }
        }
    }
    masked
}

/// A check result as `sight` allows: measured value, counts, failed rows and data-bearing reason withheld when the
/// role may not see what the check reads; row count and failed rows withheld when it may not read the product.
/// Failed rows it may see still need masking for the role (the caller knows the masks).
pub fn check(c: &CheckResult, sight: &Sight) -> CheckResult {
    let mut r = c.clone();
    if !sight.granted {
        r.row_count = None;
        r.samples = None;
    }
    if sight.sees(c.table.as_deref(), &c.reads) {
        return r;
    }
    r.measured = None;
    r.count = None;
    r.samples = None;
    r.reason = c
        .reason
        .as_ref()
        .map(|_| c.public_reason.clone().unwrap_or_else(|| WITHHELD.to_string()));
    r
}

/// A diagnostic as `sight` allows: unchanged for a role that reads the product unmasked; otherwise its data-free
/// form: the one its origin gave, else, when it carries a DuckDB error, that error reduced to its class. Other
/// diagnostics quote manifests, which every role may read.
pub fn diagnostic(d: &Diagnostic, sight: &Sight) -> Diagnostic {
    if sight.sees_everything() {
        return d.clone();
    }
    let mut out = d.clone();
    if let Some(m) = &d.public_message {
        out.message = m.clone();
    } else if crate::base::errors::carries_duckdb_error(&d.message) {
        out.message = crate::base::errors::public_error(&d.message);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sight_decides_by_the_columns_read() {
        let sight = Sight {
            granted: true,
            masked: BTreeMap::from([
                ("orders".to_string(), BTreeSet::from(["email".to_string()])),
                ("lines".to_string(), BTreeSet::new()),
            ]),
            inputs_hidden: false,
            referenced: BTreeMap::new(),
            all_products: false,
        };
        assert!(sight.sees(Some("orders"), &Reads::column("amount")));
        assert!(!sight.sees(Some("Orders"), &Reads::column("EMAIL")));
        assert!(sight.sees(Some("lines"), &Reads::column("email")));
        assert!(sight.sees(Some("orders"), &Reads::Columns(Vec::new())));
        assert!(!sight.sees(Some("lines"), &Reads::Everything));
        assert!(!sight.sees_everything());
        assert!(!Sight::nothing().sees(Some("orders"), &Reads::Columns(Vec::new())));
        assert!(Sight::nothing().sees(Some("orders"), &Reads::Schema));
        assert!(Sight::everything().sees_everything());
    }

    #[test]
    fn a_relationship_is_seen_only_with_both_sides_keys() {
        let related = Reads::Related {
            columns: vec!["customer_id".into()],
            domain: "customers".into(),
            product: "profiles".into(),
            table: "profiles".into(),
            keys: vec!["id".into()],
        };
        let own = |referenced: BTreeMap<String, Sight>| Sight {
            granted: true,
            masked: BTreeMap::new(),
            inputs_hidden: false,
            referenced,
            all_products: false,
        };
        let parent_masked = Sight {
            masked: BTreeMap::from([("profiles".to_string(), BTreeSet::from(["id".to_string()]))]),
            ..own(BTreeMap::new())
        };
        let key = "customers/profiles".to_string();
        assert!(!own(BTreeMap::new()).sees(Some("orders"), &related), "parent unknown");
        assert!(!own(BTreeMap::from([(key.clone(), Sight::nothing())])).sees(Some("orders"), &related));
        assert!(!own(BTreeMap::from([(key.clone(), parent_masked)])).sees(Some("orders"), &related));
        assert!(own(BTreeMap::from([(key.clone(), own(BTreeMap::new()))])).sees(Some("orders"), &related));
        assert!(Sight::everything().sees(Some("orders"), &related));
        assert!(!Sight::nothing().sees(Some("orders"), &related));
    }
}
