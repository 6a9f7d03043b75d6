//! The mesh's own catalog as read-only tables in schema `mesh` (`mesh.domains`, `mesh.products`, `mesh.tables`,
//! `mesh.columns`, `mesh.checks`, `mesh.policies`, `mesh.lineage`, `mesh.violations`): queried by SQL policies and
//! in the console. Metadata only, built per role from what the role may read: products it may not read are left
//! out, and a check's measured value is NULL where the role sees a column it is computed from masked.

use crate::base::sql::quote_ident;
use crate::governance::Governance;
use crate::governance::access::{AccessModel, Role, classification_rank};
use crate::governance::compliance::Compliance;
use crate::governance::disclosure::Sight;
use crate::governance::policy::{Rule, Violation};
use crate::model::catalog::{Catalog, LoadedColumn, Product, Table};
use crate::model::manifest::odcs::{Column, Contract, Table as ContractTable};
use duckdb::Connection;
use duckdb::arrow::array::{ArrayRef, BooleanArray, Float64Array, Int64Array, ListBuilder, StringArray, StringBuilder};
use duckdb::arrow::datatypes::{DataType, Field, Schema};
use duckdb::arrow::record_batch::RecordBatch;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};

/// The schema the metadata tables live in (a domain of that name is refused).
pub const SCHEMA: &str = "mesh";

enum Values {
    Text(Vec<Option<String>>),
    Int(Vec<Option<i64>>),
    Float(Vec<Option<f64>>),
    Bool(Vec<Option<bool>>),
    List(Vec<Vec<String>>),
}

impl Values {
    fn sql_type(&self) -> &'static str {
        match self {
            Values::Text(_) => "VARCHAR",
            Values::Int(_) => "BIGINT",
            Values::Float(_) => "DOUBLE",
            Values::Bool(_) => "BOOLEAN",
            Values::List(_) => "VARCHAR[]",
        }
    }

    fn into_array(self) -> ArrayRef {
        match self {
            Values::Text(v) => Arc::new(StringArray::from(v)),
            Values::Int(v) => Arc::new(Int64Array::from(v)),
            Values::Float(v) => Arc::new(Float64Array::from(v)),
            Values::Bool(v) => Arc::new(BooleanArray::from(v)),
            Values::List(v) => {
                let mut b = ListBuilder::new(StringBuilder::new());
                for items in v {
                    for i in items {
                        b.values().append_value(i);
                    }
                    b.append(true);
                }
                Arc::new(b.finish())
            }
        }
    }

    fn arrow_type(&self) -> DataType {
        match self {
            Values::Text(_) => DataType::Utf8,
            Values::Int(_) => DataType::Int64,
            Values::Float(_) => DataType::Float64,
            Values::Bool(_) => DataType::Boolean,
            Values::List(_) => DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))),
        }
    }

    fn hash_into(&self, h: &mut impl std::hash::Hasher) {
        use std::hash::Hash;
        match self {
            Values::Text(v) => v.hash(h),
            Values::Int(v) => v.hash(h),
            Values::Float(v) => v.iter().for_each(|x| x.map(f64::to_bits).hash(h)),
            Values::Bool(v) => v.hash(h),
            Values::List(v) => v.hash(h),
        }
    }
}

/// Makes an empty column of one type.
type MakeValues = fn() -> Values;

/// One metadata table (or one product's part of it) being built, column by column.
struct Rows {
    name: &'static str,
    columns: Vec<(&'static str, Values)>,
}

/// One metadata table (or one product's part of it) as it is published: its columns' SQL types, its rows as one
/// Arrow batch, and a digest of its content.
pub struct MetaTable {
    pub name: &'static str,
    columns: Vec<(&'static str, &'static str)>,
    batch: RecordBatch,
    digest: u64,
    /// For a per-product table, each product's rows (`batch` is them, concatenated).
    parts: Option<Vec<Part>>,
}

/// One product's rows of a per-product table, by (domain, product).
struct Part {
    key: (String, String),
    rows: Arc<MetaTable>,
}

/// What a database holds of one metadata table: the digest of its content and, for a per-product table, of each
/// product's rows — so that an edit rewrites only the rows of the products it touched.
#[derive(Debug, Clone)]
pub struct Held {
    pub digest: u64,
    parts: Option<Arc<HashMap<(String, String), u64>>>,
}

impl Rows {
    fn new(name: &'static str, columns: &[(&'static str, MakeValues)]) -> Rows {
        Rows {
            name,
            columns: columns.iter().map(|(n, f)| (*n, f())).collect(),
        }
    }

    /// The finished table: digest, then the columns moved into Arrow arrays.
    fn seal(self) -> MetaTable {
        use std::hash::Hash;
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.name.hash(&mut h);
        for (name, values) in &self.columns {
            name.hash(&mut h);
            values.hash_into(&mut h);
        }
        let columns = self.columns.iter().map(|(n, v)| (*n, v.sql_type())).collect();
        let fields: Vec<Field> = self
            .columns
            .iter()
            .map(|(n, v)| Field::new(*n, v.arrow_type(), true))
            .collect();
        let arrays = self.columns.into_iter().map(|(_, v)| v.into_array()).collect();
        let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)
            .expect("every column of a metadata table has one value per row");
        MetaTable {
            name: self.name,
            columns,
            batch,
            digest: std::hash::Hasher::finish(&h),
            parts: None,
        }
    }

    fn text(&mut self, i: usize, v: Option<String>) {
        match &mut self.columns[i].1 {
            Values::Text(c) => c.push(v),
            _ => unreachable!("column {i} of mesh.{} is text", self.name),
        }
    }

    fn int(&mut self, i: usize, v: Option<i64>) {
        match &mut self.columns[i].1 {
            Values::Int(c) => c.push(v),
            _ => unreachable!("column {i} of mesh.{} is an integer", self.name),
        }
    }

    fn float(&mut self, i: usize, v: Option<f64>) {
        match &mut self.columns[i].1 {
            Values::Float(c) => c.push(v),
            _ => unreachable!("column {i} of mesh.{} is a double", self.name),
        }
    }

    fn bool(&mut self, i: usize, v: Option<bool>) {
        match &mut self.columns[i].1 {
            Values::Bool(c) => c.push(v),
            _ => unreachable!("column {i} of mesh.{} is a boolean", self.name),
        }
    }

    fn list(&mut self, i: usize, v: Vec<String>) {
        match &mut self.columns[i].1 {
            Values::List(c) => c.push(v),
            _ => unreachable!("column {i} of mesh.{} is a list", self.name),
        }
    }
}

impl MetaTable {
    /// The parts of one table (each product's rows, in order) as the table: `empty` gives its columns.
    fn concat(empty: MetaTable, parts: Vec<Part>) -> MetaTable {
        use std::hash::Hash;
        let mut h = std::collections::hash_map::DefaultHasher::new();
        empty.name.hash(&mut h);
        for p in &parts {
            p.key.hash(&mut h);
            p.rows.digest.hash(&mut h);
        }
        let batch = empty.rows_of(parts.iter().map(|p| &p.rows));
        MetaTable {
            digest: std::hash::Hasher::finish(&h),
            batch,
            parts: Some(parts),
            ..empty
        }
    }

    /// These parts' rows as one batch of this table's columns.
    fn rows_of<'a>(&self, parts: impl Iterator<Item = &'a Arc<MetaTable>>) -> RecordBatch {
        duckdb::arrow::compute::concat_batches(&self.batch.schema(), parts.map(|p| &p.batch))
            .expect("the parts of a metadata table share its schema")
    }

    /// What a database holding this table holds.
    pub fn held(&self) -> Held {
        Held {
            digest: self.digest,
            parts: self
                .parts
                .as_ref()
                .map(|parts| Arc::new(parts.iter().map(|p| (p.key.clone(), p.rows.digest)).collect())),
        }
    }

    fn ddl(&self) -> String {
        let cols: Vec<String> = self
            .columns
            .iter()
            .map(|(n, ty)| format!("{} {ty}", quote_ident(n)))
            .collect();
        format!(
            "CREATE OR REPLACE TABLE {}.{} ({})",
            quote_ident(SCHEMA),
            quote_ident(self.name),
            cols.join(", ")
        )
    }
}

fn t() -> Values {
    Values::Text(Vec::new())
}
fn i() -> Values {
    Values::Int(Vec::new())
}
fn f() -> Values {
    Values::Float(Vec::new())
}
fn b() -> Values {
    Values::Bool(Vec::new())
}
fn l() -> Values {
    Values::List(Vec::new())
}

fn rel(path: &std::path::Path, root: &std::path::Path) -> String {
    path.strip_prefix(root).unwrap_or(path).display().to_string()
}

/// Builds every metadata table, as `role` may see them (None: everything, for the unmasked database).
/// The metadata tables as a role sees them (`sights`, from [`sights_of`]), or complete (None); rows of products
/// that did not change come from `cache`.
pub fn tables(
    catalog: &Catalog,
    gov: &Governance,
    sights: Option<&[Sight]>,
    cache: Option<&RowCache>,
) -> Vec<MetaTable> {
    build_tables(catalog, gov, Some(&gov.compliance), sights, cache)
}

/// The metadata tables the SQL policies read while they are being evaluated: everything, with the compliance
/// columns NULL and `mesh.violations` empty (there is no compliance yet).
pub fn tables_for_policies(catalog: &Catalog, gov: &Governance) -> Vec<MetaTable> {
    build_tables(catalog, gov, None, None, None)
}

fn build_tables(
    catalog: &Catalog,
    gov: &Governance,
    compliance: Option<&Compliance>,
    sights: Option<&[Sight]>,
    cache: Option<&RowCache>,
) -> Vec<MetaTable> {
    let seen = Seen::new(catalog, gov, compliance, sights);
    vec![
        domains_table(&seen),
        products_table(&seen, cache),
        tables_table(&seen, cache),
        columns_table(&seen, cache),
        checks_table(&seen, cache),
        lineage_table(&seen),
        policies_table(&seen),
        violations_table(&seen),
    ]
}

/// What the metadata tables are built from: the catalog, what the role sees of each product, and the compliance
/// (None while the SQL policies are being evaluated).
struct Seen<'a> {
    catalog: &'a Catalog,
    gov: &'a Governance,
    compliance: Option<&'a Compliance>,
    /// Per product of the catalog, in its order.
    sights: std::borrow::Cow<'a, [Sight]>,
    /// The keys of the products the role may read.
    readable: HashSet<(&'a str, &'a str)>,
}

impl<'a> Seen<'a> {
    fn new(
        catalog: &'a Catalog,
        gov: &'a Governance,
        compliance: Option<&'a Compliance>,
        sights: Option<&'a [Sight]>,
    ) -> Self {
        let sights: std::borrow::Cow<'a, [Sight]> = match sights {
            Some(s) => std::borrow::Cow::Borrowed(s),
            None => std::borrow::Cow::Owned(vec![Sight::everything(); catalog.products.len()]),
        };
        let readable = catalog
            .products
            .iter()
            .zip(sights.iter())
            .filter(|(_, s)| s.granted)
            .map(|(p, _)| (p.domain.as_str(), p.name.as_str()))
            .collect();
        Seen {
            catalog,
            gov,
            compliance,
            sights,
            readable,
        }
    }

    /// The products the role may read, with what it sees of each.
    fn granted(&self) -> impl Iterator<Item = (&'a Product, &Sight)> {
        self.granted_arcs().map(|(p, s)| (p.as_ref(), s))
    }

    fn granted_arcs(&self) -> impl Iterator<Item = (&'a Arc<Product>, &Sight)> {
        self.catalog
            .products
            .iter()
            .zip(self.sights.iter())
            .filter(|(_, s)| s.granted)
    }

    fn reads(&self, p: &Product) -> bool {
        self.readable.contains(&(p.domain.as_str(), p.name.as_str()))
    }

    /// May the role read the product a violation is about?
    fn reads_violation(&self, v: &Violation) -> bool {
        self.readable.contains(&(v.domain.as_str(), v.product.as_str()))
    }

    fn rel(&self, path: &std::path::Path) -> String {
        rel(path, &self.catalog.root)
    }
}

/// Each product's rows of the per-product tables (`products`, `tables`, `columns`, `checks`), kept between builds
/// and shared by every role: reused while the product is the same (`Arc`) and so is what its rows depend on
/// beside it (its signature: access level and compliance, which check measures the role sees). A data edit then
/// rebuilds the rows of the products it reloaded, not the mesh's.
#[derive(Default)]
pub struct RowCache {
    /// By (table, product address, signature). The entry holds its product, so the address stays its own.
    parts: Mutex<Parts>,
}

/// (table, product address, signature) → the product and its rows.
type Parts = HashMap<(&'static str, usize, u64), (Arc<Product>, Arc<MetaTable>)>;

impl RowCache {
    /// Forgets the rows of products that are not in `catalog` (as the same `Arc`) any more.
    pub fn keep_only(&self, catalog: &Catalog) {
        let live: HashSet<usize> = catalog.products.iter().map(|p| Arc::as_ptr(p) as usize).collect();
        self.lock().retain(|(_, product, _), _| live.contains(product));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Parts> {
        self.parts.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn get_or_build(
        &self,
        table: &'static str,
        p: &Arc<Product>,
        signature: u64,
        build: impl FnOnce() -> Arc<MetaTable>,
    ) -> Arc<MetaTable> {
        let key = (table, Arc::as_ptr(p) as usize, signature);
        if let Some((_, rows)) = self.lock().get(&key) {
            return rows.clone();
        }
        let rows = build();
        self.lock().insert(key, (p.clone(), rows.clone()));
        rows
    }
}

/// One per-product table: every granted product's rows (`fill`), from `cache` where they are there already.
fn per_product(
    seen: &Seen,
    cache: Option<&RowCache>,
    rows: fn() -> Rows,
    signature: fn(&Seen, &Product, &Sight) -> u64,
    fill: impl Fn(&mut Rows, &Product, &Sight),
) -> MetaTable {
    let empty = rows().seal();
    let parts: Vec<Part> = seen
        .granted_arcs()
        .map(|(p, sight)| {
            let build = || {
                let mut r = rows();
                fill(&mut r, p, sight);
                Arc::new(r.seal())
            };
            let rows = match cache {
                Some(c) => c.get_or_build(empty.name, p, signature(seen, p, sight), build),
                None => build(),
            };
            Part {
                key: (p.domain.clone(), p.name.clone()),
                rows,
            }
        })
        .collect();
    MetaTable::concat(empty, parts)
}

/// Rows that depend on their product alone.
fn no_signature(_: &Seen, _: &Product, _: &Sight) -> u64 {
    0
}

/// A product's row depends on its access level and compliance too.
fn product_signature(seen: &Seen, p: &Product, _: &Sight) -> u64 {
    use std::hash::{Hash, Hasher};
    let key = p.key();
    let mut h = std::collections::hash_map::DefaultHasher::new();
    seen.gov.access.level_of(p).as_str().hash(&mut h);
    seen.compliance
        .map(|c| (c.is_compliant(&key), c.is_quarantined(&key)))
        .hash(&mut h);
    h.finish()
}

/// A product's checks depend on which measures the role sees.
fn checks_signature(_: &Seen, p: &Product, sight: &Sight) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for c in &p.checks {
        sight.sees(c.table.as_deref(), &c.reads).hash(&mut h);
    }
    h.finish()
}

fn domains_table(seen: &Seen) -> MetaTable {
    let mut domains = Rows::new(
        "domains",
        &[
            ("domain", t),
            ("title", t),
            ("owner", t),
            ("description", t),
            ("products", i),
        ],
    );
    for d in &seen.catalog.domains {
        domains.text(0, Some(d.name.clone()));
        domains.text(1, d.title.clone());
        domains.text(2, d.owner());
        domains.text(3, d.description.clone());
        let readable = seen.catalog.products_in(&d.name).filter(|p| seen.reads(p)).count();
        domains.int(4, Some(readable as i64));
    }
    domains.seal()
}

fn products_rows() -> Rows {
    Rows::new(
        "products",
        &[
            ("domain", t),
            ("product", t),
            ("title", t),
            ("purpose", t),
            ("usage", t),
            ("owner", t),
            ("product_type", t),
            ("lifecycle", t),
            ("version", t),
            ("tags", l),
            ("health", t),
            ("stale", b),
            ("access_level", t),
            ("contract_roles", l),
            ("compliant", b),
            ("quarantined", b),
            ("tables", i),
            ("row_count", i),
            ("descriptor_file", t),
            ("contract_files", l),
            ("deprecated", b),
            ("synonyms", l),
        ],
    )
}

fn products_table(seen: &Seen, cache: Option<&RowCache>) -> MetaTable {
    let fill = |products: &mut Rows, p: &Product, _sight: &Sight| {
        let compliance = seen.compliance;
        let key = p.key();
        products.text(0, Some(p.domain.clone()));
        products.text(1, Some(p.name.clone()));
        products.text(2, Some(p.title()));
        let description = p.description();
        products.text(3, description.purpose.clone());
        products.text(4, description.usage.clone());
        products.text(5, p.owner());
        products.text(6, p.product_type().map(str::to_string));
        products.text(7, p.lifecycle().map(str::to_string));
        products.text(
            8,
            p.descriptor
                .as_ref()
                .and_then(|d| d.version.clone())
                .or_else(|| p.contracts.first().and_then(|c| c.version.clone())),
        );
        products.list(9, p.tags());
        products.text(10, Some(p.status.as_str().to_string()));
        products.bool(11, Some(p.stale));
        products.text(12, Some(seen.gov.access.level_of(p).as_str().to_string()));
        products.list(
            13,
            AccessModel::contract_roles(p).into_iter().map(str::to_string).collect(),
        );
        products.bool(14, compliance.map(|c| c.is_compliant(&key)));
        products.bool(15, compliance.map(|c| c.is_quarantined(&key)));
        products.int(16, Some(p.tables.len() as i64));
        products.int(17, Some(p.tables.iter().map(|t| t.row_count as i64).sum()));
        products.text(18, p.descriptor.as_ref().map(|d| seen.rel(&d.doc.file)));
        products.list(19, p.contracts.iter().map(|c| seen.rel(&c.doc.file)).collect());
        products.bool(20, Some(p.is_deprecated()));
        products.list(21, product_synonyms(p));
    };
    per_product(seen, cache, products_rows, product_signature, fill)
}

/// The synonyms of a product's descriptor and its output ports.
fn product_synonyms(p: &Product) -> Vec<String> {
    let Some(d) = &p.descriptor else {
        return Vec::new();
    };
    d.synonyms
        .iter()
        .chain(d.output_ports.iter().flat_map(|o| o.synonyms.iter()))
        .map(|s| s.synonym.clone())
        .collect()
}

/// The words of a list of synonyms.
fn synonym_words(synonyms: &[crate::model::manifest::odcs::Synonym]) -> Vec<String> {
    synonyms.iter().map(|s| s.synonym.clone()).collect()
}

/// Every table a product's contracts declare, with its contract and what was loaded of it (None: not loaded).
fn declared_tables(p: &Product) -> impl Iterator<Item = (&Contract, &ContractTable, Option<&Table>)> {
    p.contracts.iter().enumerate().flat_map(move |(ci, c)| {
        c.tables.iter().enumerate().map(move |(oi, object)| {
            let loaded = p.tables.iter().find(|t| t.contract == ci && t.object == oi);
            (c, object, loaded)
        })
    })
}

fn tables_rows() -> Rows {
    Rows::new(
        "tables",
        &[
            ("domain", t),
            ("product", t),
            ("table_name", t),
            ("sql_name", t),
            ("contract_id", t),
            ("description", t),
            ("tags", l),
            ("row_count", i),
            ("column_count", i),
            ("format", t),
            ("contract_file", t),
            ("business_name", t),
            ("deprecated", b),
            ("synonyms", l),
        ],
    )
}

fn tables_table(seen: &Seen, cache: Option<&RowCache>) -> MetaTable {
    let fill = |tables: &mut Rows, p: &Product, _sight: &Sight| {
        for (c, object, loaded) in declared_tables(p) {
            tables.text(0, Some(p.domain.clone()));
            tables.text(1, Some(p.name.clone()));
            tables.text(2, Some(object.name.clone()));
            tables.text(3, loaded.map(|t| t.sql_name()));
            tables.text(4, c.id.clone());
            tables.text(5, object.description.clone());
            tables.list(6, object.tags.clone());
            tables.int(7, loaded.map(|t| t.row_count as i64));
            tables.int(8, Some(object.columns.len() as i64));
            tables.text(9, loaded.map(|t| t.format.clone()));
            tables.text(10, Some(seen.rel(&c.doc.file)));
            tables.text(11, object.business_name.clone());
            tables.bool(12, Some(object.deprecated));
            tables.list(13, synonym_words(&object.synonyms));
        }
    };
    per_product(seen, cache, tables_rows, no_signature, fill)
}

fn columns_rows() -> Rows {
    Rows::new(
        "columns",
        &[
            ("domain", t),
            ("product", t),
            ("table_name", t),
            ("column_name", t),
            ("data_type", t),
            ("logical_type", t),
            ("physical_type", t),
            ("classification", t),
            ("required", b),
            ("is_unique", b),
            ("primary_key", b),
            ("declared", b),
            ("description", t),
            ("tags", l),
            ("pii_detector", t),
            ("pii_share", f),
            ("pii_confidence", f),
            ("business_name", t),
            ("semantic_type", t),
            ("transform_logic", t),
            ("deprecated", b),
            ("synonyms", l),
        ],
    )
}

fn columns_table(seen: &Seen, cache: Option<&RowCache>) -> MetaTable {
    let fill = |columns: &mut Rows, p: &Product, _sight: &Sight| {
        for (_, object, loaded) in declared_tables(p) {
            // The declared columns, then those found in the data only.
            let mut names: Vec<&str> = object.columns.iter().map(|c| c.name.as_str()).collect();
            if let Some(t) = loaded {
                names.extend(t.columns.iter().filter(|c| !c.declared).map(|c| c.name.as_str()));
            }
            for name in names {
                let decl = object.columns.iter().find(|c| c.name == name);
                let lc = loaded.and_then(|t| t.columns.iter().find(|c| c.name == name));
                let pii = loaded.and_then(|t| t.pii.iter().find(|f| f.column == name));
                columns.text(0, Some(p.domain.clone()));
                columns.text(1, Some(p.name.clone()));
                columns.text(2, Some(object.name.clone()));
                columns.text(3, Some(name.to_string()));
                columns.text(4, lc.map(|c| c.data_type.clone()));
                columns.text(5, decl.and_then(|c| c.logical_type.clone()));
                columns.text(6, decl.and_then(|c| c.physical_type.clone()));
                columns.text(7, effective_classification(decl, lc));
                columns.bool(8, Some(decl.is_some_and(|c| c.required)));
                columns.bool(9, Some(decl.is_some_and(|c| c.unique)));
                columns.bool(10, Some(decl.is_some_and(|c| c.primary_key)));
                columns.bool(11, Some(decl.is_some()));
                columns.text(12, decl.and_then(|c| c.description.clone()));
                columns.list(13, decl.map(|c| c.tags.clone()).unwrap_or_default());
                columns.text(14, pii.map(|f| f.detector.to_string()));
                columns.float(15, pii.map(|f| f.share));
                columns.float(16, pii.map(|f| f.confidence));
                columns.text(17, decl.and_then(|c| c.business_name.clone()));
                columns.text(18, decl.and_then(|c| c.semantic_type.clone()));
                columns.text(19, decl.and_then(|c| c.transform_logic.clone()));
                columns.bool(20, Some(decl.is_some_and(|c| c.deprecated)));
                columns.list(21, decl.map(|c| synonym_words(&c.synonyms)).unwrap_or_default());
            }
        }
    };
    per_product(seen, cache, columns_rows, no_signature, fill)
}

/// The classification a column is served under: the declared one, or the strictest it inherits from the input
/// columns it is computed from where that is stricter (a derived product's column is masked by both).
fn effective_classification(declared: Option<&Column>, loaded: Option<&LoadedColumn>) -> Option<String> {
    let declared = declared.and_then(|c| c.classification.clone());
    match loaded.and_then(|c| c.inherited.first()) {
        Some(h) if classification_rank(Some(&h.classification)) > classification_rank(declared.as_deref()) => {
            Some(h.classification.clone())
        }
        _ => declared,
    }
}

fn checks_rows() -> Rows {
    Rows::new(
        "checks",
        &[
            ("domain", t),
            ("product", t),
            ("table_name", t),
            ("column_name", t),
            ("check_key", t),
            ("check_kind", t),
            ("check_name", t),
            ("category", t),
            ("dimension", t),
            ("severity", t),
            ("status", t),
            ("measured", f),
            ("unit", t),
            ("threshold", t),
        ],
    )
}

fn checks_table(seen: &Seen, cache: Option<&RowCache>) -> MetaTable {
    let fill = |checks: &mut Rows, p: &Product, sight: &Sight| {
        for c in &p.checks {
            checks.text(0, Some(p.domain.clone()));
            checks.text(1, Some(p.name.clone()));
            checks.text(2, c.table.clone());
            checks.text(3, c.column.clone());
            checks.text(4, Some(c.key.clone()));
            checks.text(5, Some(c.kind.clone()));
            checks.text(6, Some(c.name.clone()));
            checks.text(7, serde_name(c.category));
            checks.text(8, c.dimension.clone());
            checks.text(9, c.severity.clone());
            checks.text(10, Some(c.status.as_str().to_string()));
            checks.float(11, c.measured.filter(|_| sight.sees(c.table.as_deref(), &c.reads)));
            checks.text(12, c.unit.clone());
            checks.text(13, c.threshold.as_ref().map(|t| t.to_string()));
        }
    };
    per_product(seen, cache, checks_rows, checks_signature, fill)
}

/// The name a value serializes to (an enum's variant as the manifests spell it).
fn serde_name(value: impl serde::Serialize) -> Option<String> {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
}

fn lineage_table(seen: &Seen) -> MetaTable {
    let mut lineage = Rows::new(
        "lineage",
        &[
            ("consumer_domain", t),
            ("consumer_product", t),
            ("input_port", t),
            ("contract_id", t),
            ("provider_domain", t),
            ("provider_product", t),
        ],
    );
    // The product providing each contract id (the first in folder order), looked up once per port.
    let mut providers: HashMap<&str, &Product> = HashMap::new();
    for q in &seen.catalog.products {
        for id in q.contracts.iter().filter_map(|c| c.id.as_deref()) {
            providers.entry(id).or_insert(q);
        }
    }
    for (p, _) in seen.granted() {
        for port in p.descriptor.iter().flat_map(|d| d.input_ports.iter()) {
            // A provider the role may not read is left unnamed.
            let provider = port
                .contract_id
                .as_deref()
                .and_then(|id| providers.get(id).copied())
                .filter(|q| seen.reads(q));
            lineage.text(0, Some(p.domain.clone()));
            lineage.text(1, Some(p.name.clone()));
            lineage.text(2, port.name.clone());
            lineage.text(3, port.contract_id.clone());
            lineage.text(4, provider.map(|q| q.domain.clone()));
            lineage.text(5, provider.map(|q| q.name.clone()));
        }
    }
    lineage.seal()
}

fn policies_table(seen: &Seen) -> MetaTable {
    let mut policies = Rows::new(
        "policies",
        &[
            ("policy_id", t),
            ("title", t),
            ("description", t),
            ("severity", t),
            ("level", t),
            ("rule_kind", t),
            ("rule", t),
            ("scope_domain", t),
            ("file", t),
            ("line", i),
            ("violations", i),
        ],
    );
    for p in &seen.gov.policies.policies {
        policies.text(0, Some(p.id.clone()));
        policies.text(1, Some(p.title.clone()));
        policies.text(2, p.description.clone());
        policies.text(3, Some(p.severity.to_string()));
        policies.text(4, serde_name(p.applies_to.level));
        let (kind, rule) = match &p.rule {
            Rule::Builtin { name, .. } => ("builtin", name.clone()),
            Rule::Sql { query } => ("sql", query.clone()),
        };
        policies.text(5, Some(kind.into()));
        policies.text(6, Some(rule));
        policies.text(7, p.domain.clone());
        policies.text(8, Some(p.file.display().to_string()));
        policies.int(9, p.line.map(|l| l as i64));
        policies.int(
            10,
            seen.compliance.map(|c| {
                c.violations
                    .iter()
                    .filter(|v| v.policy == p.id && seen.reads_violation(v))
                    .count() as i64
            }),
        );
    }
    policies.seal()
}

fn violations_table(seen: &Seen) -> MetaTable {
    let mut violations = Rows::new(
        "violations",
        &[
            ("policy_id", t),
            ("severity", t),
            ("domain", t),
            ("product", t),
            ("table_name", t),
            ("column_name", t),
            ("message", t),
            ("file", t),
            ("line", i),
            ("field", t),
        ],
    );
    for v in seen
        .compliance
        .iter()
        .flat_map(|c| c.violations.iter())
        .filter(|v| seen.reads_violation(v))
    {
        violations.text(0, Some(v.policy.clone()));
        violations.text(1, Some(v.severity.to_string()));
        violations.text(2, Some(v.domain.clone()));
        violations.text(3, Some(v.product.clone()));
        violations.text(4, v.table.clone());
        violations.text(5, v.column.clone());
        violations.text(6, Some(v.message.clone()));
        violations.text(7, v.file.as_ref().map(|f| f.display().to_string()));
        violations.int(8, v.line.map(|l| l as i64));
        violations.text(9, v.field.clone());
    }
    violations.seal()
}

/// What `role` may see of each product of `catalog`, in its order: what [`view_of`] and [`tables`] take.
pub fn sights_of(catalog: &Catalog, gov: &Governance, role: &Role) -> Vec<Sight> {
    catalog
        .products
        .iter()
        .map(|p| Sight::of(catalog, gov, role, p))
        .collect()
}

/// What `role` may see of the complete tables, as a digest of which products it reads and which check measures it
/// sees, and whether that is everything. With the complete tables' digest it identifies the role's tables (they
/// are a function of both), so roles are grouped and databases left alone without building the tables.
pub fn view_of(catalog: &Catalog, sights: &[Sight]) -> (u64, bool) {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    let mut everything = true;
    for (p, sight) in catalog.products.iter().zip(sights) {
        (&p.domain, &p.name).hash(&mut h);
        sight.granted.hash(&mut h);
        everything &= sight.granted;
        if sight.granted {
            for c in &p.checks {
                // A measure that is NULL anyway reads the same either way.
                let shown = c.measured.is_none() || sight.sees(c.table.as_deref(), &c.reads);
                shown.hash(&mut h);
                everything &= shown;
            }
        }
    }
    (h.finish(), everything)
}

/// A digest of the tables' content: a database whose metadata has this digest needs no republishing.
pub fn digest(tables: &[MetaTable]) -> u64 {
    use std::hash::Hash;
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for t in tables {
        t.digest.hash(&mut h);
    }
    std::hash::Hasher::finish(&h)
}

/// Creates (or replaces) the metadata tables on `conn`, inside the caller's transaction if there is one.
pub fn publish(conn: &Connection, tables: &[MetaTable]) -> anyhow::Result<()> {
    conn.execute_batch(&format!("CREATE SCHEMA IF NOT EXISTS {}", quote_ident(SCHEMA)))?;
    for t in tables {
        write_table(conn, t)?;
    }
    Ok(())
}

fn write_table(conn: &Connection, t: &MetaTable) -> anyhow::Result<()> {
    conn.execute_batch(&t.ddl())?;
    append(conn, t.name, t.batch.clone())
}

fn append(conn: &Connection, table: &str, rows: RecordBatch) -> anyhow::Result<()> {
    if rows.num_rows() == 0 {
        return Ok(());
    }
    let mut appender = conn.appender_to_db(table, SCHEMA)?;
    appender.append_record_batch(rows)?;
    appender.flush()?;
    Ok(())
}

/// Brings the metadata tables a database holds (`held`) up to date with `tables`, in the caller's transaction:
/// a table whose content is the same is left alone; in a per-product table where a few products' rows changed,
/// those rows are replaced; any other table is rewritten. Returns what the database holds afterwards.
pub fn publish_changed(
    conn: &Connection,
    tables: Vec<MetaTable>,
    held: &BTreeMap<&'static str, Held>,
) -> anyhow::Result<BTreeMap<&'static str, Held>> {
    let mut now = BTreeMap::new();
    let mut schema_made = false;
    for t in tables {
        let before = held.get(t.name);
        if before.is_some_and(|b| b.digest == t.digest) {
            now.insert(t.name, t.held());
            continue;
        }
        if !schema_made {
            conn.execute_batch(&format!("CREATE SCHEMA IF NOT EXISTS {}", quote_ident(SCHEMA)))?;
            schema_made = true;
        }
        let replaced = match before.and_then(|b| b.parts.as_deref()) {
            Some(parts) => replace_changed_parts(conn, &t, parts)?,
            None => false,
        };
        if !replaced {
            write_table(conn, &t)?;
        }
        now.insert(t.name, t.held());
    }
    Ok(now)
}

/// Replaces the rows of the products whose part changed, when they are few. False when the table should be
/// rewritten instead (not a per-product table, or most of it changed).
fn replace_changed_parts(
    conn: &Connection,
    t: &MetaTable,
    before: &HashMap<(String, String), u64>,
) -> anyhow::Result<bool> {
    let Some(parts) = &t.parts else {
        return Ok(false);
    };
    let current: HashMap<&(String, String), u64> = parts.iter().map(|p| (&p.key, p.rows.digest)).collect();
    let stale: Vec<&(String, String)> = before
        .iter()
        .filter(|(k, d)| current.get(k) != Some(*d))
        .map(|(k, _)| k)
        .collect();
    let fresh: Vec<&Arc<MetaTable>> = parts
        .iter()
        .filter(|p| before.get(&p.key) != Some(&p.rows.digest))
        .map(|p| &p.rows)
        .collect();
    if stale.len() + fresh.len() > (parts.len() / 4).max(8) {
        return Ok(false);
    }
    let mut delete = conn.prepare(&format!(
        "DELETE FROM {}.{} WHERE domain = ? AND product = ?",
        quote_ident(SCHEMA),
        quote_ident(t.name)
    ))?;
    for (domain, product) in stale {
        delete.execute([domain, product])?;
    }
    append(conn, t.name, t.rows_of(fresh.into_iter()))?;
    Ok(true)
}

/// (name, type) of each column of a table.
pub type Columns = Vec<(String, String)>;

/// The metadata tables and their columns as a database holds them (for the console's schema browser).
pub fn describe(conn: &Connection) -> anyhow::Result<Vec<(String, Columns)>> {
    let mut stmt = conn.prepare(
        "SELECT table_name, column_name, data_type FROM duckdb_columns() WHERE schema_name = ? \
         ORDER BY table_name, column_index",
    )?;
    let rows = stmt.query_map([SCHEMA], |r| Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?)))?;
    let mut out: Vec<(String, Columns)> = Vec::new();
    for row in rows {
        let (table, column, ty) = row?;
        match out.last_mut() {
            Some((t, cols)) if *t == table => cols.push((column, ty)),
            _ => out.push((table, vec![(column, ty)])),
        }
    }
    Ok(out)
}
