//! ODCS relationships (foreign keys) read from a contract: property-level and schema-level, composite keys, every path form.
//! ODCS v3.1+ declares them as `relationships[]` on a property (`to` only: `from` is the property itself) or on a
//! schema object (`from` and `to`), each end a reference or a list of references of equal length (a composite key).
//! A reference is dot shorthand by `name` (`customers.id`, nested `accounts.address.street`) or a fully qualified
//! path by `id` (`schema/customers_tbl/properties/cust_id`), either optionally prefixed by another contract and `#`
//! (`customers.odcs.yaml#/schema/...`, `https://…/contract.yaml#customers.id`). Nothing is resolved here: the
//! checks stage finds what a reference names in the mesh.

use super::odcs::Contract;
use crate::base::yaml::{path_of, scalar_text};
use serde_yaml::Value;

/// The one relationship type ODCS defines, and the default when `type` is absent.
pub const FOREIGN_KEY: &str = "foreignKey";

/// One entry of a `relationships[]` list.
#[derive(Debug, Clone, PartialEq)]
pub struct Relationship {
    /// Where it is declared, e.g. `schema[0].properties[1].relationships[0]` or `schema[0].relationships[0]`.
    pub path: String,
    /// The schema object declaring it (an index into the contract's `tables`).
    pub object: usize,
    /// True for a `relationships[]` on a property (its `from` is that property).
    pub property_level: bool,
    /// The relationship's own `id` (v3.2).
    pub id: Option<String>,
    /// `type`, `foreignKey` when absent.
    pub kind: String,
    /// The referencing columns, in key order.
    pub from: Vec<Reference>,
    /// The referenced columns, in the same order.
    pub to: Vec<Reference>,
    /// A `severity` custom property (`info`, `warning`, ... turn a failure into a warning; default `error`).
    pub severity: Option<String>,
    /// Why the relationship cannot be tested as written (`from` and `to` of different lengths, say).
    pub problem: Option<String>,
}

/// One end of a relationship: the text as written and what it names.
#[derive(Debug, Clone, PartialEq)]
pub struct Reference {
    pub text: String,
    /// The contract before `#`: a file path, a URL or a contract `id`. None: the declaring contract.
    pub contract: Option<String>,
    pub target: Target,
}

/// What a reference names inside its contract.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// Dot shorthand by `name`: `table.column`, `table.column.nested`, ...
    Names(Vec<String>),
    /// A fully qualified path by `id`: `schema/<object>/properties/<property>[/properties/<nested>...]`.
    Ids { object: String, properties: Vec<String> },
    /// The property declaring a property-level relationship: its names from the column down.
    Declared { object: usize, names: Vec<String> },
    /// Not a reference ODCS defines; the reason.
    Malformed(String),
}

impl Reference {
    /// Parses one reference as written in `from` or `to`.
    pub fn parse(text: &str) -> Reference {
        let trimmed = text.trim();
        let (contract, path) = match trimmed.split_once('#') {
            Some((c, p)) => (Some(c.trim()).filter(|c| !c.is_empty()), p.trim()),
            None => (None, trimmed),
        };
        Reference {
            text: text.to_string(),
            contract: contract.map(str::to_string),
            target: parse_target(path),
        }
    }
}

/// The part of a reference after any `#`: a slash path by id, else dot shorthand by name.
fn parse_target(path: &str) -> Target {
    if path.is_empty() {
        return Target::Malformed("the reference is empty".into());
    }
    if path.contains('/') {
        return parse_qualified(path.strip_prefix('/').unwrap_or(path));
    }
    let names: Vec<String> = path.split('.').map(|s| s.trim().to_string()).collect();
    if names.iter().any(String::is_empty) {
        return Target::Malformed(format!("`{path}` has an empty name between its dots"));
    }
    if names.len() < 2 {
        return Target::Malformed(format!(
            "`{path}` names no table: shorthand references are `table.column`"
        ));
    }
    Target::Names(names)
}

/// `schema/<id>/properties/<id>[/properties/<id>...]`.
fn parse_qualified(path: &str) -> Target {
    let parts: Vec<&str> = path.split('/').collect();
    let well_formed = parts.len() >= 4
        && parts.len().is_multiple_of(2)
        && parts[0] == "schema"
        && parts.iter().skip(2).step_by(2).all(|p| *p == "properties")
        && parts.iter().skip(1).step_by(2).all(|p| !p.trim().is_empty());
    if !well_formed {
        return Target::Malformed(format!(
            "`{path}` is not a property path: fully qualified references are `schema/<schema id>/properties/<property id>`"
        ));
    }
    Target::Ids {
        object: parts[1].to_string(),
        properties: parts.iter().skip(3).step_by(2).map(|p| p.to_string()).collect(),
    }
}

/// The value at a document path such as `schema[0].properties[2]` (keys without dots, as paths of tables and columns
/// are written).
pub fn value_at<'v>(root: &'v Value, path: &str) -> Option<&'v Value> {
    let mut v = root;
    if path.is_empty() {
        return Some(v);
    }
    for segment in path.split('.') {
        let (key, indexes) = match segment.find('[') {
            Some(i) => (&segment[..i], &segment[i..]),
            None => (segment, ""),
        };
        if !key.is_empty() {
            v = v.as_mapping()?.get(key)?;
        }
        for index in indexes.split('[').filter(|s| !s.is_empty()) {
            let n: usize = index.strip_suffix(']')?.parse().ok()?;
            v = v.as_sequence()?.get(n)?;
        }
    }
    Some(v)
}

/// The `id` of the schema object or property at `path`.
pub fn id_at(contract: &Contract, path: &str) -> Option<String> {
    value_at(&contract.doc.value, path)?
        .as_mapping()?
        .get("id")
        .and_then(scalar_text)
}

/// Every relationship of a contract, schema objects in order: each object's property-level relationships (nested
/// properties included), then its schema-level ones.
pub fn read(contract: &Contract) -> Vec<Relationship> {
    let mut out = Vec::new();
    for (object, table) in contract.tables.iter().enumerate() {
        let Some(entry) = value_at(&contract.doc.value, &table.path) else {
            continue;
        };
        read_properties(entry, &table.path, object, &[], &mut out);
        for (path, r) in entries(entry, &table.path) {
            out.push(schema_level(r, path, object));
        }
    }
    out
}

/// `relationships[]` of the properties under `parent` (a schema object or a property), recursively.
fn read_properties(parent: &Value, parent_path: &str, object: usize, names: &[String], out: &mut Vec<Relationship>) {
    let Some(Value::Sequence(props)) = parent.as_mapping().and_then(|m| m.get("properties")) else {
        return;
    };
    for (i, prop) in props.iter().enumerate() {
        let Some(name) = prop.as_mapping().and_then(|m| m.get("name")).and_then(scalar_text) else {
            continue;
        };
        let path = format!("{}[{i}]", path_of(parent_path, "properties"));
        let mut here = names.to_vec();
        here.push(name);
        for (rp, r) in entries(prop, &path) {
            out.push(property_level(r, rp, object, &here));
        }
        read_properties(prop, &path, object, &here, out);
    }
}

/// The entries of a `relationships` list under `owner`, with their paths.
fn entries<'v>(owner: &'v Value, owner_path: &str) -> Vec<(String, &'v Value)> {
    let Some(Value::Sequence(list)) = owner.as_mapping().and_then(|m| m.get("relationships")) else {
        return Vec::new();
    };
    let base = path_of(owner_path, "relationships");
    list.iter()
        .enumerate()
        .map(|(i, r)| (format!("{base}[{i}]"), r))
        .collect()
}

/// A relationship on a property: `from` is the property, `to` one reference.
fn property_level(entry: &Value, path: String, object: usize, names: &[String]) -> Relationship {
    let mut r = common(entry, path, object, true);
    r.from = vec![Reference {
        text: names.join("."),
        contract: None,
        target: Target::Declared {
            object,
            names: names.to_vec(),
        },
    }];
    let map = entry.as_mapping();
    r.to = ends(map.and_then(|m| m.get("to")));
    r.problem = r.problem.or_else(|| {
        if map.is_some_and(|m| m.contains_key("from")) {
            Some("a property-level relationship must not name `from`: it is the property itself".into())
        } else if r.to.is_empty() {
            Some("the relationship has no `to`".into())
        } else if r.to.len() != 1 {
            Some(format!(
                "`to` names {} columns but the property is one: declare a composite key on the schema object",
                r.to.len()
            ))
        } else {
            None
        }
    });
    r
}

/// A relationship on a schema object: `from` and `to`, both one reference or both lists of the same length.
fn schema_level(entry: &Value, path: String, object: usize) -> Relationship {
    let mut r = common(entry, path, object, false);
    let map = entry.as_mapping();
    let (from, to) = (map.and_then(|m| m.get("from")), map.and_then(|m| m.get("to")));
    r.from = ends(from);
    r.to = ends(to);
    r.problem = r.problem.or_else(|| {
        let is_list = |v: Option<&Value>| matches!(v, Some(Value::Sequence(_)));
        if r.from.is_empty() {
            Some("a schema-level relationship needs `from`".into())
        } else if r.to.is_empty() {
            Some("the relationship has no `to`".into())
        } else if is_list(from) != is_list(to) {
            Some("`from` and `to` must both be one reference or both be lists (a composite key)".into())
        } else if r.from.len() != r.to.len() {
            Some(format!(
                "`from` names {} columns and `to` {}: a composite key needs as many on both ends",
                r.from.len(),
                r.to.len()
            ))
        } else {
            None
        }
    });
    r
}

/// What both levels share: `id`, `type`, the custom `severity`, and an entry that is not a mapping.
fn common(entry: &Value, path: String, object: usize, property_level: bool) -> Relationship {
    let map = entry.as_mapping();
    let text = |key: &str| map.and_then(|m| m.get(key)).and_then(scalar_text);
    Relationship {
        path,
        object,
        property_level,
        id: text("id"),
        kind: text("type").unwrap_or_else(|| FOREIGN_KEY.to_string()),
        from: Vec::new(),
        to: Vec::new(),
        severity: map.and_then(custom_severity),
        problem: map
            .is_none()
            .then(|| "a relationship is a mapping with `to` (and `from` on a schema object)".to_string()),
    }
}

/// The `severity` entry of a relationship's `customProperties`.
fn custom_severity(map: &serde_yaml::Mapping) -> Option<String> {
    let Some(Value::Sequence(props)) = map.get("customProperties") else {
        return None;
    };
    props.iter().find_map(|p| {
        let m = p.as_mapping()?;
        let name = m.get("property").and_then(scalar_text)?;
        name.eq_ignore_ascii_case("severity")
            .then(|| m.get("value").and_then(scalar_text))
            .flatten()
    })
}

/// One end (`from` or `to`): a reference, or a list of them; nothing when absent or not text.
fn ends(v: Option<&Value>) -> Vec<Reference> {
    match v {
        Some(Value::Sequence(items)) => items
            .iter()
            .map(|i| match scalar_text(i) {
                Some(t) => Reference::parse(&t),
                None => Reference {
                    text: String::new(),
                    contract: None,
                    target: Target::Malformed("a reference is text".into()),
                },
            })
            .collect(),
        Some(v) => scalar_text(v).map(|t| Reference::parse(&t)).into_iter().collect(),
        None => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::yaml::Document;
    use std::path::Path;

    fn names(parts: &[&str]) -> Target {
        Target::Names(parts.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn shorthand_references_name_a_table_and_a_column() {
        let r = Reference::parse("customers.id");
        assert_eq!(r.contract, None);
        assert_eq!(r.target, names(&["customers", "id"]));
        assert_eq!(
            Reference::parse("accounts.address.street").target,
            names(&["accounts", "address", "street"])
        );
        assert!(matches!(Reference::parse("id").target, Target::Malformed(_)));
        assert!(matches!(Reference::parse("a..b").target, Target::Malformed(_)));
        assert!(matches!(Reference::parse("  ").target, Target::Malformed(_)));
    }

    #[test]
    fn fully_qualified_references_name_ids() {
        let want = Target::Ids {
            object: "customers_tbl".into(),
            properties: vec!["cust_id_pk".into()],
        };
        assert_eq!(
            Reference::parse("schema/customers_tbl/properties/cust_id_pk").target,
            want
        );
        assert_eq!(
            Reference::parse("/schema/customers_tbl/properties/cust_id_pk").target,
            want
        );
        assert_eq!(
            Reference::parse("schema/accounts_tbl/properties/address_field/properties/street_field").target,
            Target::Ids {
                object: "accounts_tbl".into(),
                properties: vec!["address_field".into(), "street_field".into()],
            }
        );
        // A schema object alone, another section, a missing id: not a column.
        for bad in [
            "schema/customers_tbl",
            "servers/local/properties/x",
            "schema/customers_tbl/columns/x",
            "schema//properties/x",
        ] {
            assert!(matches!(Reference::parse(bad).target, Target::Malformed(_)), "{bad}");
        }
    }

    #[test]
    fn other_contracts_come_before_the_anchor() {
        let r = Reference::parse("customer-contract.yaml#/schema/customers_tbl/properties/cust_id_pk");
        assert_eq!(r.contract.as_deref(), Some("customer-contract.yaml"));
        assert!(matches!(r.target, Target::Ids { .. }));
        let r = Reference::parse("https://example.com/data-contract-v1.yaml#profiles.user_id");
        assert_eq!(r.contract.as_deref(), Some("https://example.com/data-contract-v1.yaml"));
        assert_eq!(r.target, names(&["profiles", "user_id"]));
        let r = Reference::parse("urn:northwind:customers:contract#customer_profiles.customer_id");
        assert_eq!(r.contract.as_deref(), Some("urn:northwind:customers:contract"));
        // `#` with nothing before it is the declaring contract.
        assert_eq!(Reference::parse("#orders.id").contract, None);
    }

    #[test]
    fn document_paths_reach_values() {
        let v: Value =
            serde_yaml::from_str("schema:\n  - name: a\n    properties:\n      - name: x\n        id: px\n").unwrap();
        assert_eq!(
            value_at(&v, "schema[0].properties[0]")
                .and_then(|p| p.get("id"))
                .and_then(scalar_text)
                .as_deref(),
            Some("px")
        );
        assert!(value_at(&v, "schema[1]").is_none());
        assert!(value_at(&v, "schema[0].nothing").is_none());
    }

    fn contract(text: &str) -> Contract {
        let doc = Document::parse(Path::new("c.odcs.yaml"), text).unwrap();
        Contract::read(doc, &mut Vec::new()).unwrap()
    }

    const CONTRACT: &str = "\
apiVersion: v3.1.0
kind: DataContract
id: c
schema:
  - name: lines
    id: lines_tbl
    properties:
      - name: order_id
        relationships:
          - to: orders.id
            customProperties:
              - property: severity
                value: warning
      - name: product_id
        id: line_product
        relationships:
          - type: foreignKey
            to: [products.id, products.sku]
      - name: address
        properties:
          - name: zip
            relationships:
              - to: zips.code
    relationships:
      - from: [lines.order_id, lines.product_id]
        to: [order_products.order_id, order_products.product_id]
      - from: schema/lines_tbl/properties/line_product
        to: other.yaml#/schema/products_tbl/properties/product_pk
      - from: [lines.order_id]
        to: orders.id
      - to: orders.id
";

    #[test]
    fn both_levels_are_read_with_their_paths() {
        let c = contract(CONTRACT);
        let rs = read(&c);
        assert_eq!(rs.len(), 7);
        let first = &rs[0];
        assert_eq!(first.path, "schema[0].properties[0].relationships[0]");
        assert!(first.property_level);
        assert_eq!(first.kind, FOREIGN_KEY);
        assert_eq!(first.severity.as_deref(), Some("warning"));
        assert_eq!(
            first.from[0].target,
            Target::Declared {
                object: 0,
                names: vec!["order_id".into()]
            }
        );
        assert_eq!(first.to[0].target, names(&["orders", "id"]));
        assert_eq!(first.problem, None);
        // A property-level relationship with two `to`s cannot be tested.
        assert!(rs[1].problem.as_deref().unwrap().contains("composite key"));
        // Nested properties carry their whole path.
        assert_eq!(rs[2].path, "schema[0].properties[2].properties[0].relationships[0]");
        assert!(matches!(&rs[2].from[0].target, Target::Declared { names, .. } if names.len() == 2));
        // Schema level: composite, fully qualified into another contract, mixed kinds, missing `from`.
        assert_eq!(rs[3].path, "schema[0].relationships[0]");
        assert_eq!((rs[3].from.len(), rs[3].to.len(), rs[3].problem.clone()), (2, 2, None));
        assert_eq!(rs[4].to[0].contract.as_deref(), Some("other.yaml"));
        assert_eq!(rs[4].problem, None);
        assert!(rs[5].problem.as_deref().unwrap().contains("both be lists"));
        assert!(rs[6].problem.as_deref().unwrap().contains("needs `from`"));
        assert_eq!(id_at(&c, &c.tables[0].columns[1].path).as_deref(), Some("line_product"));
        assert_eq!(id_at(&c, &c.tables[0].path).as_deref(), Some("lines_tbl"));
    }
}
