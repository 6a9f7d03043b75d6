//! The mesh glossary: every business term, synonym and authoritative definition, with the columns and products that carry it.
//! A term is an element's ODCS `businessName`, or — for an element that declares synonyms or authoritative
//! definitions but no business name — its own name (a product's title). Spellings that differ only in case and
//! spacing are one term; the synonyms and definitions of every element carrying it are gathered under it. Plain data
//! computed from the catalog: the caller says which products the viewer may see.

use crate::base::urls::{product_url, seg};
use crate::model::catalog::{Catalog, Product};
use crate::model::manifest::odcs::{AuthoritativeDefinition, Column, Synonym, Table};
use serde::Serialize;
use std::collections::BTreeMap;

/// The shared vocabulary of the mesh, as one viewer sees it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Glossary {
    /// Every term, by key.
    pub terms: Vec<Term>,
    /// Every synonym, alphabetically, with the keys of the terms it stands for.
    pub synonyms: Vec<SynonymEntry>,
    /// How many products were looked at (those the viewer may see).
    pub products: usize,
}

/// One term and everything the mesh says about it.
#[derive(Debug, Clone, Serialize)]
pub struct Term {
    /// As first written.
    pub term: String,
    /// Lower case with single spaces: what groups spellings together.
    pub key: String,
    /// The term's anchor on the glossary page (`term-customer-number`).
    #[serde(skip)]
    pub anchor: String,
    /// Some element declares it as its `businessName` (otherwise it is only an element's own name).
    pub business_name: bool,
    pub synonyms: Vec<Synonym>,
    pub definitions: Vec<Definition>,
    pub carriers: Vec<Carrier>,
}

/// An authoritative definition, with the link a page may make of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Definition {
    #[serde(rename = "type")]
    pub kind: String,
    pub url: String,
    pub description: Option<String>,
    /// The URL when it is http(s): only those become links.
    pub href: Option<String>,
}

impl Definition {
    pub fn of(d: &AuthoritativeDefinition) -> Definition {
        Definition {
            kind: d.kind.clone(),
            url: d.url.clone(),
            description: d.description.clone(),
            href: web_link(&d.url),
        }
    }
}

/// `url` when it is an http(s) address a page may link to; None for anything else (`javascript:`, `file:`, `urn:`,
/// relative paths). The caller still escapes it.
pub fn web_link(url: &str) -> Option<String> {
    let u = url.trim();
    let lower = u.to_ascii_lowercase();
    let web = (lower.starts_with("https://") || lower.starts_with("http://")) && !u.chars().any(char::is_control);
    web.then(|| u.to_string())
}

/// An element that carries a term.
#[derive(Debug, Clone, Serialize)]
pub struct Carrier {
    /// `product`, `port`, `table` or `column`.
    pub kind: &'static str,
    pub domain: String,
    pub product: String,
    pub port: Option<String>,
    pub table: Option<String>,
    pub column: Option<String>,
    /// `domain.product`, `domain.product.table`, `domain.product.table.column` (a port: `domain.product:port`).
    pub path: String,
    /// The page showing the element (a table or column anchored on its product page).
    pub url: String,
    /// `business name` or `name`: how the element names the term.
    pub via: &'static str,
    /// A column's `semanticType`.
    pub semantic_type: Option<String>,
    pub deprecated: bool,
}

/// A synonym and the terms it stands for.
#[derive(Debug, Clone, Serialize)]
pub struct SynonymEntry {
    pub synonym: String,
    pub terms: Vec<String>,
    /// (key, anchor) of each term, for the page.
    #[serde(skip)]
    pub links: Vec<(String, String)>,
}

/// The key a term is grouped by: lower case, inner whitespace collapsed to one space.
pub fn term_key(term: &str) -> String {
    term.split_whitespace()
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The anchor of a term on the glossary page: `term-` and its key with dashes for spaces.
pub fn term_anchor(key: &str) -> String {
    format!("term-{}", key.replace(' ', "-"))
}

/// What one element contributes: the term it carries, how, and its synonyms and definitions.
struct Mention<'a> {
    term: String,
    via: &'static str,
    carrier: Carrier,
    synonyms: &'a [Synonym],
    definitions: Vec<&'a AuthoritativeDefinition>,
}

impl Glossary {
    /// The glossary of the products `visible` lets through.
    pub fn of(catalog: &Catalog, visible: &dyn Fn(&Product) -> bool) -> Glossary {
        let products: Vec<&Product> = catalog
            .products
            .iter()
            .map(|p| p.as_ref())
            .filter(|p| visible(p))
            .collect();
        let mut terms: BTreeMap<String, Term> = BTreeMap::new();
        for p in &products {
            for m in mentions(p) {
                add(&mut terms, m);
            }
        }
        let mut terms: Vec<Term> = terms.into_values().collect();
        for t in &mut terms {
            t.carriers.sort_by(|a, b| a.path.cmp(&b.path).then(a.kind.cmp(b.kind)));
            t.synonyms.sort_by_key(|s| term_key(&s.synonym));
        }
        Glossary {
            synonyms: synonym_index(&terms),
            terms,
            products: products.len(),
        }
    }

    pub fn term(&self, key: &str) -> Option<&Term> {
        self.terms.iter().find(|t| t.key == key)
    }
}

/// Adds an element's mention to its term, merging synonyms (by spelling) and definitions (by type and URL).
fn add(terms: &mut BTreeMap<String, Term>, m: Mention) {
    let key = term_key(&m.term);
    if key.is_empty() {
        return;
    }
    let term = terms.entry(key.clone()).or_insert_with(|| Term {
        term: m.term.trim().to_string(),
        anchor: term_anchor(&key),
        key,
        business_name: false,
        synonyms: Vec::new(),
        definitions: Vec::new(),
        carriers: Vec::new(),
    });
    term.business_name |= m.via == "business name";
    for s in m.synonyms {
        let k = term_key(&s.synonym);
        if !k.is_empty() && !term.synonyms.iter().any(|x| term_key(&x.synonym) == k) {
            term.synonyms.push(s.clone());
        }
    }
    for d in m.definitions {
        if !term.definitions.iter().any(|x| x.kind == d.kind && x.url == d.url) {
            term.definitions.push(Definition::of(d));
        }
    }
    term.carriers.push(Carrier {
        via: m.via,
        ..m.carrier
    });
}

/// Every synonym with the terms it stands for, alphabetically.
fn synonym_index(terms: &[Term]) -> Vec<SynonymEntry> {
    let mut index: BTreeMap<String, SynonymEntry> = BTreeMap::new();
    for t in terms {
        for s in &t.synonyms {
            let entry = index.entry(term_key(&s.synonym)).or_insert_with(|| SynonymEntry {
                synonym: s.synonym.trim().to_string(),
                terms: Vec::new(),
                links: Vec::new(),
            });
            if !entry.terms.contains(&t.key) {
                entry.terms.push(t.key.clone());
                entry.links.push((t.key.clone(), t.anchor.clone()));
            }
        }
    }
    index.into_values().collect()
}

/// What a product, its output ports, contracts, tables and columns say about meaning.
fn mentions(p: &Product) -> Vec<Mention<'_>> {
    let mut out = Vec::new();
    out.extend(product_mention(p));
    if let Some(d) = &p.descriptor {
        for port in &d.output_ports {
            if port.synonyms.is_empty() && port.authoritative_definitions.is_empty() {
                continue;
            }
            let name = port.name.clone().unwrap_or_else(|| "output".into());
            out.push(Mention {
                term: name.clone(),
                via: "name",
                carrier: Carrier {
                    kind: "port",
                    path: format!("{}.{}:{name}", p.domain, p.name),
                    port: Some(name),
                    deprecated: port.deprecated,
                    ..carrier(p, "port")
                },
                synonyms: &port.synonyms,
                definitions: port.authoritative_definitions.iter().collect(),
            });
        }
    }
    for t in p.contracts.iter().flat_map(|c| c.tables.iter()) {
        out.extend(table_mention(p, t));
        out.extend(t.columns.iter().filter_map(|c| column_mention(p, t, c)));
    }
    out
}

/// The product itself: its descriptor's synonyms and definitions and its contracts' definitions, under its title.
fn product_mention(p: &Product) -> Option<Mention<'_>> {
    let synonyms: &[Synonym] = p.descriptor.as_ref().map(|d| d.synonyms.as_slice()).unwrap_or_default();
    let definitions: Vec<&AuthoritativeDefinition> = p
        .descriptor
        .iter()
        .flat_map(|d| d.authoritative_definitions.iter())
        .chain(p.contracts.iter().flat_map(|c| c.authoritative_definitions.iter()))
        .collect();
    if synonyms.is_empty() && definitions.is_empty() {
        return None;
    }
    Some(Mention {
        term: p.title(),
        via: "name",
        carrier: Carrier {
            deprecated: p.is_deprecated(),
            ..carrier(p, "product")
        },
        synonyms,
        definitions,
    })
}

fn table_mention<'a>(p: &Product, t: &'a Table) -> Option<Mention<'a>> {
    let (term, via) = named(
        t.business_name.as_deref(),
        &t.name,
        &t.synonyms,
        &t.authoritative_definitions,
    )?;
    Some(Mention {
        term,
        via,
        carrier: Carrier {
            path: format!("{}.{}.{}", p.domain, p.name, t.name),
            url: format!("{}#table-{}", product_url(&p.domain, &p.name), seg(&t.name)),
            table: Some(t.name.clone()),
            deprecated: t.deprecated,
            ..carrier(p, "table")
        },
        synonyms: &t.synonyms,
        definitions: t.authoritative_definitions.iter().collect(),
    })
}

fn column_mention<'a>(p: &Product, t: &Table, c: &'a Column) -> Option<Mention<'a>> {
    let (term, via) = named(
        c.business_name.as_deref(),
        &c.name,
        &c.synonyms,
        &c.authoritative_definitions,
    )?;
    Some(Mention {
        term,
        via,
        carrier: Carrier {
            path: format!("{}.{}.{}.{}", p.domain, p.name, t.name, c.name),
            url: column_url(p, &t.name, &c.name),
            table: Some(t.name.clone()),
            column: Some(c.name.clone()),
            semantic_type: c.semantic_type.clone(),
            deprecated: c.deprecated || t.deprecated,
            ..carrier(p, "column")
        },
        synonyms: &c.synonyms,
        definitions: c.authoritative_definitions.iter().collect(),
    })
}

/// The product page anchored on a column's row.
pub fn column_url(p: &Product, table: &str, column: &str) -> String {
    format!(
        "{}#column-{}-{}",
        product_url(&p.domain, &p.name),
        seg(table),
        seg(column)
    )
}

/// The term an element carries: its business name, else — when it says anything else about meaning — its name.
fn named(
    business_name: Option<&str>,
    name: &str,
    synonyms: &[Synonym],
    definitions: &[AuthoritativeDefinition],
) -> Option<(String, &'static str)> {
    match business_name.filter(|b| !b.trim().is_empty()) {
        Some(b) => Some((b.to_string(), "business name")),
        None if !synonyms.is_empty() || !definitions.is_empty() => Some((name.to_string(), "name")),
        None => None,
    }
}

/// A carrier of `kind` pointing at the product's page; the caller fills in the element.
fn carrier(p: &Product, kind: &'static str) -> Carrier {
    Carrier {
        kind,
        domain: p.domain.clone(),
        product: p.name.clone(),
        port: None,
        table: None,
        column: None,
        path: format!("{}.{}", p.domain, p.name),
        url: product_url(&p.domain, &p.name),
        via: "name",
        semantic_type: None,
        deprecated: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::yaml::Document;
    use crate::model::catalog::Status;
    use crate::model::manifest::odcs::Contract;
    use crate::model::manifest::odps::Descriptor;
    use std::path::Path;
    use std::sync::Arc;

    fn contract(text: &str) -> Contract {
        let doc = Document::parse(Path::new("c.odcs.yaml"), text).unwrap();
        Contract::read(doc, &mut Vec::new()).unwrap()
    }

    fn descriptor(text: &str) -> Descriptor {
        let doc = Document::parse(Path::new("p.odps.yaml"), text).unwrap();
        Descriptor::read(doc, &mut Vec::new()).unwrap()
    }

    fn product(domain: &str, name: &str, descriptor: Option<Descriptor>, contracts: Vec<Contract>) -> Arc<Product> {
        Arc::new(Product {
            domain: domain.into(),
            name: name.into(),
            dir: Default::default(),
            descriptor,
            contracts,
            tables: Vec::new(),
            checks: Vec::new(),
            diagnostics: Vec::new(),
            status: Status::Passing,
            stale: false,
            loaded_generation: 1,
            load_ms: 0.0,
            fingerprint: 0,
            derived: Vec::new(),
        })
    }

    fn catalog(products: Vec<Arc<Product>>) -> Catalog {
        Catalog {
            name: "test".into(),
            description: None,
            root: Default::default(),
            domains: Vec::new(),
            products,
            diagnostics: Vec::new(),
        }
    }

    const CUSTOMERS: &str = r#"
apiVersion: v3.2.0
kind: DataContract
id: urn:customers
schema:
  - name: customers
    businessName: Customer
    synonyms: [{synonym: Client}, {synonym: patron, locale: en-US}]
    authoritativeDefinitions: [{type: glossary, url: "https://glossary.example/customer"}]
    properties:
      - name: id
        businessName: Customer   ID
      - name: fax
        deprecated: true
        authoritativeDefinitions: [{type: tutorial, url: "javascript:alert(1)"}]
      - name: plain
"#;

    const ORDERS: &str = r#"
apiVersion: v3.2.0
kind: DataContract
id: urn:orders
schema:
  - name: orders
    properties:
      - name: buyer_id
        businessName: customer id
        synonyms: [{synonym: client number}]
      - name: amount
        businessName: Order amount
        semanticType: measure
        transformLogic: SUM(amount)
"#;

    fn mesh() -> Catalog {
        let shop = descriptor(
            "apiVersion: v1.1.0\nkind: DataProduct\nid: p\nname: Customer master\n\
             synonyms: [{synonym: client list}]\n\
             authoritativeDefinitions: [{type: canonicalUrl, url: \"https://data.example/customers\"}]\n",
        );
        catalog(vec![
            product("crm", "customers", Some(shop), vec![contract(CUSTOMERS)]),
            product("sales", "orders", None, vec![contract(ORDERS)]),
        ])
    }

    fn keys(g: &Glossary) -> Vec<&str> {
        g.terms.iter().map(|t| t.key.as_str()).collect()
    }

    #[test]
    fn terms_gather_their_carriers_synonyms_and_definitions() {
        let g = Glossary::of(&mesh(), &|_| true);
        assert_eq!(g.products, 2);
        assert_eq!(
            keys(&g),
            ["customer", "customer id", "customer master", "fax", "order amount"],
            "`plain` says nothing about meaning"
        );
        let id = g.term("customer id").unwrap();
        assert_eq!(id.term, "Customer   ID", "as first written");
        assert_eq!(id.anchor, "term-customer-id");
        assert!(id.business_name);
        assert!(id.carriers.iter().all(|c| c.via == "business name"));
        let paths: Vec<&str> = id.carriers.iter().map(|c| c.path.as_str()).collect();
        assert_eq!(paths, ["crm.customers.customers.id", "sales.orders.orders.buyer_id"]);
        assert_eq!(id.carriers[1].url, "/products/sales/orders#column-orders-buyer_id");
        assert_eq!(id.synonyms[0].synonym, "client number");
        let customer = g.term("customer").unwrap();
        assert_eq!(customer.carriers[0].kind, "table");
        assert_eq!(customer.carriers[0].url, "/products/crm/customers#table-customers");
        assert_eq!(
            customer.synonyms.iter().map(|s| s.synonym.as_str()).collect::<Vec<_>>(),
            ["Client", "patron"]
        );
        assert_eq!(
            customer.definitions[0].href.as_deref(),
            Some("https://glossary.example/customer")
        );
        let master = g.term("customer master").unwrap();
        assert!(!master.business_name, "a product's title, not a business name");
        assert_eq!(master.carriers[0].kind, "product");
        assert_eq!(master.definitions[0].kind, "canonicalUrl");
        let amount = &g.term("order amount").unwrap().carriers[0];
        assert_eq!(amount.semantic_type.as_deref(), Some("measure"));
    }

    #[test]
    fn deprecation_and_unsafe_links_are_kept_apart() {
        let g = Glossary::of(&mesh(), &|_| true);
        let fax = g.term("fax").unwrap();
        assert_eq!(fax.carriers[0].via, "name");
        assert!(fax.carriers[0].deprecated);
        assert_eq!(fax.definitions[0].url, "javascript:alert(1)");
        assert_eq!(fax.definitions[0].href, None, "only http(s) becomes a link");
        assert_eq!(web_link(" HTTPS://x.example/a "), Some("HTTPS://x.example/a".into()));
        assert_eq!(web_link("https://x.example/\u{0}"), None);
        assert_eq!(web_link("/relative"), None);
    }

    #[test]
    fn synonyms_point_at_their_terms() {
        let g = Glossary::of(&mesh(), &|_| true);
        let index: Vec<(&str, &[String])> = g
            .synonyms
            .iter()
            .map(|s| (s.synonym.as_str(), s.terms.as_slice()))
            .collect();
        assert_eq!(
            index,
            [
                ("Client", &["customer".to_string()][..]),
                ("client list", &["customer master".to_string()][..]),
                ("client number", &["customer id".to_string()][..]),
                ("patron", &["customer".to_string()][..]),
            ]
        );
    }

    #[test]
    fn products_the_viewer_may_not_see_are_left_out() {
        let g = Glossary::of(&mesh(), &|p| p.domain != "crm");
        assert_eq!(g.products, 1);
        assert_eq!(keys(&g), ["customer id", "order amount"]);
        let id = g.term("customer id").unwrap();
        assert_eq!(id.carriers.len(), 1);
        assert!(g.synonyms.iter().all(|s| s.synonym != "patron"));
    }
}
