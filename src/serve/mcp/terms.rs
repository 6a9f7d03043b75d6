//! The terms of use an assistant must respect, as the products declare them: purpose, intended usage and
//! limitations (ODPS descriptor, else the ODCS contract), deprecation, and whether the role may read the data.

use crate::governance::access::Role;
use crate::live::snapshot::Snapshot;
use crate::model::catalog::{Product, Table};
use serde_json::{Value, json};

/// Products listed by name in a tool description; the rest are counted (search finds them).
const LISTED: usize = 30;
/// Characters kept of one declared text in a tool description.
const TEXT_CAP: usize = 240;

/// One product's terms of use, for a tool answer.
pub fn of_product(s: &Snapshot, role: &Role, p: &Product) -> Value {
    let d = p.description();
    let access = s.decide(role, p);
    json!({
        "product": p.key(),
        "title": p.title(),
        "owner": p.owner(),
        "tables": p.tables.iter().map(Table::sql_name).collect::<Vec<_>>(),
        "purpose": d.purpose,
        "usage": d.usage,
        "limitations": d.limitations,
        "deprecated": p.is_deprecated(),
        "readable": access.granted,
        "access": access.reason,
    })
}

/// The terms of use of the products `keys` (`domain/product`), in that order; unknown keys are skipped.
pub fn of_products(s: &Snapshot, role: &Role, keys: &[String]) -> Vec<Value> {
    keys.iter()
        .filter_map(|k| k.split_once('/'))
        .filter_map(|(d, n)| s.catalog.product(d, n))
        .map(|p| of_product(s, role, p))
        .collect()
}

/// The products `role` may read with their terms, one line each, for the description of the tools that read data.
pub fn overview(s: &Snapshot, role: &Role) -> String {
    let readable: Vec<&std::sync::Arc<Product>> = s
        .catalog
        .products
        .iter()
        .filter(|p| s.decide(role, p).granted)
        .collect();
    if readable.is_empty() {
        return format!("The role `{}` may read no product of this mesh.", role.name);
    }
    let mut text = format!(
        "The role `{}` may read {} product(s); respect each one's terms of use (purpose, usage, limitations):",
        role.name,
        readable.len()
    );
    for p in readable.iter().take(LISTED) {
        text.push_str(&format!("\n- {}", line(p)));
    }
    if readable.len() > LISTED {
        text.push_str(&format!(
            "\n- … and {} more: `search_products` finds them, `get_product` gives their terms.",
            readable.len() - LISTED
        ));
    }
    text
}

/// `domain/product (tables): purpose. Usage: …. Limitations: ….`
fn line(p: &Product) -> String {
    let d = p.description();
    let tables: Vec<String> = p.tables.iter().map(Table::sql_name).collect();
    let mut out = format!("{} ({})", p.key(), tables.join(", "));
    if p.is_deprecated() {
        out.push_str(" [deprecated: do not build on it]");
    }
    for (label, text) in [("", d.purpose), ("Usage: ", d.usage), ("Limitations: ", d.limitations)] {
        if let Some(t) = text.filter(|t| !t.trim().is_empty()) {
            out.push_str(&format!(" {label}{}", capped(t.trim())));
            if !out.ends_with('.') {
                out.push('.');
            }
        }
    }
    out
}

/// A declared text cut to [`TEXT_CAP`] characters on one line.
fn capped(text: &str) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= TEXT_CAP {
        flat
    } else {
        format!("{}…", flat.chars().take(TEXT_CAP).collect::<String>())
    }
}
