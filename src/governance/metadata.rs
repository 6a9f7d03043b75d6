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
use std::collections::HashSet;
use std::sync::Arc;

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

    fn array(&self) -> ArrayRef {
        match self {
            Values::Text(v) => Arc::new(StringArray::from(v.clone())),
            Values::Int(v) => Arc::new(Int64Array::from(v.clone())),
            Values::Float(v) => Arc::new(Float64Array::from(v.clone())),
            Values::Bool(v) => Arc::new(BooleanArray::from(v.clone())),
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
}

/// Makes an empty column of one type.
type MakeValues = fn() -> Values;

/// One metadata table, column by column.
pub struct MetaTable {
    pub name: &'static str,
    columns: Vec<(&'static str, Values)>,
}

impl MetaTable {
    fn new(name: &'static str, columns: &[(&'static str, MakeValues)]) -> MetaTable {
        MetaTable {
            name,
            columns: columns.iter().map(|(n, f)| (*n, f())).collect(),
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

    fn batch(&self) -> anyhow::Result<RecordBatch> {
        let fields: Vec<Field> = self
            .columns
            .iter()
            .map(|(n, v)| {
                let t = match v {
                    Values::Text(_) => DataType::Utf8,
                    Values::Int(_) => DataType::Int64,
                    Values::Float(_) => DataType::Float64,
                    Values::Bool(_) => DataType::Boolean,
                    Values::List(_) => DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))),
                };
                Field::new(*n, t, true)
            })
            .collect();
        let arrays = self.columns.iter().map(|(_, v)| v.array()).collect();
        Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)?)
    }

    fn ddl(&self) -> String {
        let cols: Vec<String> = self
            .columns
            .iter()
            .map(|(n, v)| format!("{} {}", quote_ident(n), v.sql_type()))
            .collect();
        format!(
            "CREATE OR REPLACE TABLE {}.{} ({})",
            quote_ident(SCHEMA),
            quote_ident(self.name),
            cols.join(", ")
        )
    }

    fn hash_into(&self, h: &mut impl std::hash::Hasher) {
        use std::hash::Hash;
        self.name.hash(h);
        for (name, values) in &self.columns {
            name.hash(h);
            match values {
                Values::Text(v) => v.hash(h),
                Values::Int(v) => v.hash(h),
                Values::Float(v) => v.iter().for_each(|x| x.map(f64::to_bits).hash(h)),
                Values::Bool(v) => v.hash(h),
                Values::List(v) => v.hash(h),
            }
        }
    }

    fn is_empty(&self) -> bool {
        match self.columns.first().map(|c| &c.1) {
            Some(Values::Text(v)) => v.is_empty(),
            Some(Values::Int(v)) => v.is_empty(),
            Some(Values::Float(v)) => v.is_empty(),
            Some(Values::Bool(v)) => v.is_empty(),
            Some(Values::List(v)) => v.is_empty(),
            None => true,
        }
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
pub fn tables(catalog: &Catalog, gov: &Governance, role: Option<&Role>) -> Vec<MetaTable> {
    build_tables(catalog, gov, Some(&gov.compliance), role)
}

/// The metadata tables the SQL policies read while they are being evaluated: everything, with the compliance
/// columns NULL and `mesh.violations` empty (there is no compliance yet).
pub fn tables_for_policies(catalog: &Catalog, gov: &Governance) -> Vec<MetaTable> {
    build_tables(catalog, gov, None, None)
}

fn build_tables(
    catalog: &Catalog,
    gov: &Governance,
    compliance: Option<&Compliance>,
    role: Option<&Role>,
) -> Vec<MetaTable> {
    let seen = Seen::new(catalog, gov, compliance, role);
    vec![
        domains_table(&seen),
        products_table(&seen),
        tables_table(&seen),
        columns_table(&seen),
        checks_table(&seen),
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
    sights: Vec<Sight>,
    /// The keys of the products the role may read.
    readable: HashSet<String>,
}

impl<'a> Seen<'a> {
    fn new(catalog: &'a Catalog, gov: &'a Governance, compliance: Option<&'a Compliance>, role: Option<&Role>) -> Self {
        let sights: Vec<Sight> = catalog
            .products
            .iter()
            .map(|p| match role {
                Some(r) => Sight::of(catalog, gov, r, p),
                None => Sight::everything(),
            })
            .collect();
        let readable = catalog
            .products
            .iter()
            .zip(&sights)
            .filter(|(_, s)| s.granted)
            .map(|(p, _)| p.key())
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
        let products = self.catalog.products.iter().map(|p| p.as_ref());
        products.zip(&self.sights).filter(|(_, s)| s.granted)
    }

    fn reads(&self, p: &Product) -> bool {
        self.readable.contains(&p.key())
    }

    /// May the role read the product a violation is about?
    fn reads_violation(&self, v: &Violation) -> bool {
        self.readable.contains(&format!("{}/{}", v.domain, v.product))
    }

    fn rel(&self, path: &std::path::Path) -> String {
        rel(path, &self.catalog.root)
    }
}

fn domains_table(seen: &Seen) -> MetaTable {
    let mut domains = MetaTable::new(
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
    domains
}

fn products_table(seen: &Seen) -> MetaTable {
    let mut products = MetaTable::new(
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
    );
    let compliance = seen.compliance;
    for (p, _) in seen.granted() {
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
    }
    products
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

fn tables_table(seen: &Seen) -> MetaTable {
    let mut tables = MetaTable::new(
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
    );
    for (p, _) in seen.granted() {
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
    }
    tables
}

fn columns_table(seen: &Seen) -> MetaTable {
    let mut columns = MetaTable::new(
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
    );
    for (p, _) in seen.granted() {
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
    }
    columns
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

fn checks_table(seen: &Seen) -> MetaTable {
    let mut checks = MetaTable::new(
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
    );
    for (p, sight) in seen.granted() {
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
    }
    checks
}

/// The name a value serializes to (an enum's variant as the manifests spell it).
fn serde_name(value: impl serde::Serialize) -> Option<String> {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
}

fn lineage_table(seen: &Seen) -> MetaTable {
    let mut lineage = MetaTable::new(
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
    for (p, _) in seen.granted() {
        for port in p.descriptor.iter().flat_map(|d| d.input_ports.iter()) {
            // A provider the role may not read is left unnamed.
            let provider = port
                .contract_id
                .as_deref()
                .and_then(|id| seen.catalog.product_by_contract_id(id))
                .filter(|q| seen.reads(q));
            lineage.text(0, Some(p.domain.clone()));
            lineage.text(1, Some(p.name.clone()));
            lineage.text(2, port.name.clone());
            lineage.text(3, port.contract_id.clone());
            lineage.text(4, provider.map(|q| q.domain.clone()));
            lineage.text(5, provider.map(|q| q.name.clone()));
        }
    }
    lineage
}

fn policies_table(seen: &Seen) -> MetaTable {
    let mut policies = MetaTable::new(
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
    policies
}

fn violations_table(seen: &Seen) -> MetaTable {
    let mut violations = MetaTable::new(
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
    violations
}

/// What `role` may see of the complete tables, as a digest of which products it reads and which check measures it
/// sees, and whether that is everything. With the complete tables' digest it identifies the role's tables (they
/// are a function of both), so roles are grouped and databases left alone without building the tables.
pub fn view_of(catalog: &Catalog, gov: &Governance, role: &Role) -> (u64, bool) {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    let mut everything = true;
    for p in &catalog.products {
        let sight = Sight::of(catalog, gov, role, p);
        p.key().hash(&mut h);
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
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for t in tables {
        t.hash_into(&mut h);
    }
    std::hash::Hasher::finish(&h)
}

/// Creates (or replaces) the metadata tables on `conn`, inside the caller's transaction if there is one.
pub fn publish(conn: &Connection, tables: &[MetaTable]) -> anyhow::Result<()> {
    conn.execute_batch(&format!("CREATE SCHEMA IF NOT EXISTS {}", quote_ident(SCHEMA)))?;
    for t in tables {
        conn.execute_batch(&t.ddl())?;
        if t.is_empty() {
            continue;
        }
        let mut appender = conn.appender_to_db(t.name, SCHEMA)?;
        appender.append_record_batch(t.batch()?)?;
        appender.flush()?;
    }
    Ok(())
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
