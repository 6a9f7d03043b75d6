//! Referential-integrity checks across the mesh: each ODCS relationship becomes one anti-join counting orphan rows.
//! A relationship is resolved through the contracts the mesh knows (their ids, files, table and column names and ids):
//! its `from` columns are the child (referencing) table of the declaring contract, its `to` columns the parent table
//! anywhere in the mesh. The check belongs to the child's product; it counts the child rows whose key (no column
//! NULL) has no parent row, and samples a few of them — child rows only, masked by the child's classification. A
//! reference to something the mesh does not hold is reported as unresolved (skipped, with a warning on the contract),
//! never as a failure.

use super::{Category, CheckResult, CheckStatus, Origin, Reads};
use crate::base::diagnostics::{Diagnostic, Severity};
use crate::base::errors::{clean_error, public_error};
use crate::base::sql::{quote_ident, quote_ident_if_needed};
use crate::base::yaml::Problem;
use crate::load::ingest::{TableLoad, normalize, read_sample};
use crate::model::catalog::{Product, Table as ServedTable, classification_rank};
use crate::model::manifest::odcs::{Contract, Table, Threshold, is_warning_severity};
use crate::model::manifest::relationships::{self, FOREIGN_KEY, Reference, Relationship, Target, id_at};
use crate::model::types::{Family, family};
use duckdb::Connection;
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

/// The kind of every relationship check (datacontract-cli's vocabulary: `<what>_<how>`).
pub const KIND: &str = "relationship_foreign_key";

/// The code of the warning on a contract whose relationship names something the mesh does not hold.
pub const UNRESOLVED: &str = "unresolved-reference";

/// A contract the mesh knows, with where the data of each of its schema objects is.
pub struct Known<'a> {
    /// The product's key, `domain/name`.
    pub product: String,
    pub domain: String,
    pub contract: &'a Contract,
    /// Per schema object (as in `contract.tables`): its loaded table, when it has one.
    pub tables: Vec<Option<Data>>,
}

/// A loaded table a relationship reads.
#[derive(Debug, Clone)]
pub struct Data {
    /// How the table is read on the connection the checks run on.
    pub relation: String,
    /// How it is named in the SQL shown to people (`sales.orders`).
    pub shown: String,
    pub row_count: u64,
    /// Loaded columns: name and DuckDB type.
    pub columns: Vec<(String, String)>,
    /// Columns that inherit a classification (derived tables), masked in samples like classified ones.
    pub inherited: Vec<String>,
}

impl Data {
    /// A table a product serves; `relation` says where it is read.
    pub fn served(t: &ServedTable, relation: String) -> Data {
        Data {
            relation,
            shown: t.sql_name(),
            row_count: t.row_count,
            columns: t
                .columns
                .iter()
                .map(|c| (c.name.clone(), c.data_type.clone()))
                .collect(),
            inherited: t
                .columns
                .iter()
                .filter(|c| {
                    c.inherited
                        .iter()
                        .any(|i| classification_rank(Some(&i.classification)) > 0)
                })
                .map(|c| c.name.clone())
                .collect(),
        }
    }

    /// A table loaded into staging (`meshbox test`).
    pub fn staged(load: &TableLoad) -> Data {
        Data {
            relation: load.qualified(),
            shown: quote_ident_if_needed(&load.table),
            row_count: load.row_count,
            columns: load
                .columns
                .iter()
                .map(|c| (c.name.clone(), c.data_type.clone()))
                .collect(),
            inherited: Vec::new(),
        }
    }

    fn type_of(&self, column: &str) -> Option<&str> {
        self.columns
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(column))
            .map(|(_, t)| t.as_str())
    }
}

/// Every contract of these products, with the tables they serve; `relation` says where a served table is read.
pub fn known_of<'a>(products: &'a [Arc<Product>], relation: &dyn Fn(&ServedTable) -> Option<String>) -> Vec<Known<'a>> {
    let mut out = Vec::new();
    for p in products {
        for (ci, contract) in p.contracts.iter().enumerate() {
            let tables = (0..contract.tables.len())
                .map(|oi| {
                    let t = p.tables.iter().find(|t| t.contract == ci && t.object == oi)?;
                    Some(Data::served(t, relation(t)?))
                })
                .collect();
            out.push(Known {
                product: p.key(),
                domain: p.domain.clone(),
                contract,
                tables,
            });
        }
    }
    out
}

/// One end of a resolved relationship: a table of a known contract and its key columns, in key order.
#[derive(Debug, Clone, PartialEq)]
struct Side {
    known: usize,
    object: usize,
    columns: Vec<String>,
}

/// Why a relationship is not measured.
#[derive(Debug, Clone, PartialEq)]
enum Verdict {
    /// It names a contract, table or column the mesh does not hold: skipped, with a warning on the contract.
    Unresolved(String),
    /// It cannot be tested as written: a warning check.
    Untestable(String),
}

/// Which part of a relationship a verdict is about: where its warning points.
#[derive(Debug, Clone, Copy, PartialEq)]
enum End {
    Whole,
    From,
    To,
}

/// Resolves references against the known contracts, from the contract at `home`.
struct Resolver<'k, 'a> {
    known: &'k [Known<'a>],
    home: usize,
    /// Only one contract is known (`meshbox test`): references elsewhere are expected not to resolve.
    alone: bool,
}

impl Resolver<'_, '_> {
    fn unresolved(&self, what: String) -> Verdict {
        if self.alone {
            Verdict::Unresolved(format!(
                "{what} (`meshbox test` reads one contract; `meshbox validate` resolves references across the mesh)"
            ))
        } else {
            Verdict::Unresolved(what)
        }
    }

    /// Both ends of a relationship, the child in the declaring contract; or why not, and about which end.
    fn resolve(&self, r: &Relationship) -> Result<(Side, Side), (Verdict, End)> {
        if let Some(problem) = &r.problem {
            return Err((Verdict::Untestable(problem.clone()), End::Whole));
        }
        if !r.kind.eq_ignore_ascii_case(FOREIGN_KEY) {
            let why = format!(
                "`type: {}` is not a relationship ODCS defines (only `{FOREIGN_KEY}`)",
                r.kind
            );
            return Err((Verdict::Untestable(why), End::Whole));
        }
        let child = self.side(&r.from, "from").map_err(|v| (v, End::From))?;
        if child.known != self.home {
            let why =
                "`from` names columns of another contract: a relationship is declared by the referencing contract";
            return Err((Verdict::Untestable(why.into()), End::From));
        }
        let parent = self.side(&r.to, "to").map_err(|v| (v, End::To))?;
        Ok((child, parent))
    }

    /// One end: every reference must land on the same table.
    fn side(&self, refs: &[Reference], end: &str) -> Result<Side, Verdict> {
        let mut side: Option<Side> = None;
        for r in refs {
            let (known, object, column) = self.land(r)?;
            match &mut side {
                None => {
                    side = Some(Side {
                        known,
                        object,
                        columns: vec![column],
                    })
                }
                Some(s) if s.known == known && s.object == object => s.columns.push(column),
                Some(_) => {
                    return Err(Verdict::Untestable(format!(
                        "the columns of `{end}` lie in different tables"
                    )));
                }
            }
        }
        side.ok_or_else(|| Verdict::Untestable(format!("`{end}` names no column")))
    }

    /// The contract, schema object and column one reference names.
    fn land(&self, r: &Reference) -> Result<(usize, usize, String), Verdict> {
        match &r.target {
            Target::Malformed(why) => Err(Verdict::Untestable(why.clone())),
            Target::Declared { object, names } => self.column(self.home, *object, names, &r.text),
            Target::Names(names) => match &r.contract {
                Some(c) => {
                    let k = self.contract_named(c)?;
                    self.by_names_in(k, names, &r.text)
                }
                None => self.by_names(names, &r.text),
            },
            Target::Ids { object, properties } => {
                let k = match &r.contract {
                    Some(c) => self.contract_named(c)?,
                    None => self.home,
                };
                self.by_ids(k, object, properties, &r.text)
            }
        }
    }

    /// The column `names` (one name: a top-level column) of a schema object.
    fn column(&self, k: usize, object: usize, names: &[String], text: &str) -> Result<(usize, usize, String), Verdict> {
        let table = &self.known[k].contract.tables[object];
        if names.len() > 1 {
            return Err(Verdict::Unresolved(format!(
                "`{text}` is a nested property; meshbox tests relationships between top-level columns"
            )));
        }
        let name = names.first().map(String::as_str).unwrap_or("");
        match table.columns.iter().find(|c| c.name.eq_ignore_ascii_case(name)) {
            Some(c) => Ok((k, object, c.name.clone())),
            None => Err(self.unresolved(format!("table `{}` has no column `{name}`", table.name))),
        }
    }

    /// The schema object named `name` in the contract at `k`.
    fn table_named(&self, k: usize, name: &str) -> Option<usize> {
        self.known[k]
            .contract
            .tables
            .iter()
            .position(|t| t.name.eq_ignore_ascii_case(name))
    }

    /// Shorthand inside a named contract: `table.column`.
    fn by_names_in(&self, k: usize, names: &[String], text: &str) -> Result<(usize, usize, String), Verdict> {
        match self.table_named(k, &names[0]) {
            Some(object) => self.column(k, object, &names[1..], text),
            None => Err(Verdict::Unresolved(format!(
                "contract `{}` has no table `{}`",
                self.known[k].contract.title(),
                names[0]
            ))),
        }
    }

    /// Shorthand without a contract: the declaring contract's `table.column` first, then a table of the mesh by name
    /// (the declaring product's, then its domain's, then the one table of that name), or `domain.table.column`.
    fn by_names(&self, names: &[String], text: &str) -> Result<(usize, usize, String), Verdict> {
        if let Some(object) = self.table_named(self.home, &names[0]) {
            return self.column(self.home, object, &names[1..], text);
        }
        if self.alone {
            return Err(self.unresolved(format!("no table `{}` in this contract", names[0])));
        }
        if let Some((k, object)) = self.mesh_table(None, &names[0])? {
            return self.column(k, object, &names[1..], text);
        }
        if names.len() >= 3
            && let Some((k, object)) = self.mesh_table(Some(&names[0]), &names[1])?
        {
            return self.column(k, object, &names[2..], text);
        }
        Err(Verdict::Unresolved(format!("no table `{}` in the mesh", names[0])))
    }

    /// The table `name` of the mesh (in `domain`, when given): the declaring product's first, then its domain's,
    /// then the only one; an error when several domains have one.
    fn mesh_table(&self, domain: Option<&str>, name: &str) -> Result<Option<(usize, usize)>, Verdict> {
        let home = &self.known[self.home];
        let mut found: Vec<(usize, usize)> = Vec::new();
        for (k, known) in self.known.iter().enumerate() {
            if domain.is_some_and(|d| !known.domain.eq_ignore_ascii_case(d)) {
                continue;
            }
            if let Some(object) = self.table_named(k, name) {
                found.push((k, object));
            }
        }
        // Served tables before declared ones (a name two products claim is served by one of them).
        found.sort_by_key(|(k, o)| self.known[*k].tables[*o].is_none());
        let rank = |pick: &dyn Fn(&Known) -> bool| found.iter().copied().find(|(k, _)| pick(&self.known[*k]));
        if let Some(hit) =
            rank(&|k: &Known| k.product == home.product).or_else(|| rank(&|k: &Known| k.domain == home.domain))
        {
            return Ok(Some(hit));
        }
        let mut domains: Vec<&str> = found.iter().map(|(k, _)| self.known[*k].domain.as_str()).collect();
        domains.sort();
        domains.dedup();
        if domains.len() > 1 {
            return Err(Verdict::Unresolved(format!(
                "`{name}` is a table of several domains ({}): write `<domain>.{name}.<column>` or `<contract id>#{name}.<column>`",
                domains.join(", ")
            )));
        }
        Ok(found.first().copied())
    }

    /// Fully qualified by ids inside the contract at `k` (an object or property without `id` is matched by name).
    fn by_ids(
        &self,
        k: usize,
        object: &str,
        properties: &[String],
        text: &str,
    ) -> Result<(usize, usize, String), Verdict> {
        let contract = self.known[k].contract;
        let matches = |path: &str, name: &str, wanted: &str| match id_at(contract, path) {
            Some(id) => id == wanted,
            None => name == wanted,
        };
        let Some(oi) = contract.tables.iter().position(|t| matches(&t.path, &t.name, object)) else {
            return Err(self.unresolved(format!(
                "contract `{}` has no schema object with id `{object}`",
                contract.title()
            )));
        };
        if properties.len() > 1 {
            return Err(Verdict::Unresolved(format!(
                "`{text}` is a nested property; meshbox tests relationships between top-level columns"
            )));
        }
        let table = &contract.tables[oi];
        match table.columns.iter().find(|c| matches(&c.path, &c.name, &properties[0])) {
            Some(c) => Ok((k, oi, c.name.clone())),
            None => Err(self.unresolved(format!(
                "table `{}` has no property with id `{}`",
                table.name, properties[0]
            ))),
        }
    }

    /// The contract named before `#`: a contract id of the mesh, or a contract file (relative to the declaring one).
    fn contract_named(&self, name: &str) -> Result<usize, Verdict> {
        if let Some(k) = self.known.iter().position(|k| k.contract.id.as_deref() == Some(name)) {
            return Ok(k);
        }
        let lower = name.to_ascii_lowercase();
        if lower.starts_with("http://") || lower.starts_with("https://") {
            return Err(Verdict::Unresolved(format!(
                "`{name}` is a contract outside the mesh (no contract of the mesh has that id)"
            )));
        }
        let home_file = &self.known[self.home].contract.doc.file;
        let path = Path::new(name.strip_prefix("file://").unwrap_or(name));
        let wanted = normalize(&home_file.parent().unwrap_or(Path::new("")).join(path));
        let wanted = std::fs::canonicalize(&wanted).unwrap_or(wanted);
        match self
            .known
            .iter()
            .position(|k| normalize(&k.contract.doc.file) == wanted)
        {
            Some(k) => Ok(k),
            None if self.alone => Err(self.unresolved(format!("`{name}` is another contract"))),
            None => Err(Verdict::Unresolved(format!(
                "no contract of the mesh has the id or file `{name}`"
            ))),
        }
    }
}

/// A relationship check before it runs.
pub struct Planned<'k> {
    /// The product owning the check: the child's (referencing) product.
    pub product: String,
    /// The referenced product, when the relationship resolved.
    pub referenced: Option<String>,
    pub result: CheckResult,
    /// A failure is reported as a warning (`severity` custom property info/warning/…).
    pub warn_only: bool,
    /// The warning on the contract when a reference is unresolved.
    pub diagnostic: Option<Diagnostic>,
    anti_join: Option<AntiJoin<'k>>,
}

/// What one relationship check reads: the child's key columns against the parent's.
struct AntiJoin<'k> {
    child: &'k Data,
    parent: &'k Data,
    /// (child column, parent column), in key order.
    pairs: Vec<(String, String)>,
    /// The child's schema object: its classification masks the failed-row samples.
    table: &'k Table,
}

impl AntiJoin<'_> {
    /// `p.k = c.k`, compared as text when the two columns' types do not compare directly.
    fn comparison(&self, child: &str, parent: &str) -> String {
        let (c, p) = (
            format!("c.{}", quote_ident(child)),
            format!("p.{}", quote_ident(parent)),
        );
        let comparable = match (self.child.type_of(child), self.parent.type_of(parent)) {
            (Some(a), Some(b)) => {
                let (fa, fb) = (family(a), family(b));
                let numeric = |f: Family| matches!(f, Family::Integer | Family::Number);
                a.eq_ignore_ascii_case(b) || (fa == fb && fa != Family::Other) || (numeric(fa) && numeric(fb))
            }
            _ => true,
        };
        if comparable {
            format!("{p} = {c}")
        } else {
            format!("CAST({p} AS VARCHAR) = CAST({c} AS VARCHAR)")
        }
    }

    /// The anti-join over `child` and `parent` (relations as the caller names them), selecting `what`.
    fn sql(&self, child: &str, parent: &str, what: &str, tail: &str) -> String {
        let not_null: Vec<String> = self
            .pairs
            .iter()
            .map(|(c, _)| format!("c.{} IS NOT NULL", quote_ident(c)))
            .collect();
        let matches: Vec<String> = self.pairs.iter().map(|(c, p)| self.comparison(c, p)).collect();
        // DuckDB's ANTI JOIN is a hash anti-join; `NOT EXISTS` is planned as a mark join, about twice as slow.
        format!(
            "SELECT {what} FROM {child} AS c ANTI JOIN {parent} AS p ON {} WHERE {}{tail}",
            matches.join(" AND "),
            not_null.join(" AND ")
        )
    }

    /// The count as shown to people, on the served names.
    fn shown_sql(&self) -> String {
        self.sql(&self.child.shown, &self.parent.shown, "count(*)", "")
    }
}

/// Plans every relationship of every known contract (`alone`: only one contract is known, `meshbox test`). A
/// relationship whose child table has no data plans nothing, as every other check of that table.
pub fn plan<'k>(known: &'k [Known<'_>], root: &Path, alone: bool) -> Vec<Planned<'k>> {
    let mut out: Vec<Planned<'k>> = Vec::new();
    let mut keys: HashMap<(String, String), usize> = HashMap::new();
    for home in 0..known.len() {
        let resolver = Resolver { known, home, alone };
        for r in relationships::read(known[home].contract) {
            let Some(mut p) = plan_one(&resolver, &r, root) else {
                continue;
            };
            // Two relationships on the same columns keep distinct, stable keys.
            let n = keys.entry((p.product.clone(), p.result.key.clone())).or_insert(0);
            *n += 1;
            if *n > 1 {
                p.result.key = format!("{}_{n}", p.result.key);
            }
            out.push(p);
        }
    }
    out
}

/// The check of one relationship, measured later when it resolved.
fn plan_one<'k>(resolver: &Resolver<'k, '_>, r: &Relationship, root: &Path) -> Option<Planned<'k>> {
    let known = resolver.known;
    let home = &known[resolver.home];
    let resolved = resolver.resolve(r);
    let (object, columns) = match &resolved {
        Ok((child, _)) => (child.object, child.columns.clone()),
        Err(_) => (r.object, r.from.iter().map(last_name).collect()),
    };
    let child = home.tables.get(object)?.as_ref()?;
    let table = &home.contract.tables[object];
    let mut result = new_result(home.contract, table, r, &columns, root);
    result.row_count = Some(child.row_count);
    let mut planned = Planned {
        product: home.product.clone(),
        referenced: None,
        result,
        warn_only: is_warning_severity(r.severity.as_deref()),
        diagnostic: None,
        anti_join: None,
    };
    match resolved {
        Ok((child_side, parent_side)) => {
            let parent = &known[parent_side.known];
            let parent_table = &parent.contract.tables[parent_side.object];
            planned.referenced = Some(parent.product.clone());
            // The orphans are the child's keys the parent lacks: data of both tables.
            planned.result.reads = Reads::Related {
                columns: child_side.columns.clone(),
                domain: parent.domain.clone(),
                product: parent
                    .product
                    .strip_prefix(&format!("{}/", parent.domain))
                    .unwrap_or(&parent.product)
                    .to_string(),
                table: parent_table.name.clone(),
                keys: parent_side.columns.clone(),
            };
            planned.result.name = format!(
                "{} references {}",
                columns_text(table, &child_side.columns),
                columns_text(parent_table, &parent_side.columns)
            );
            match &parent.tables[parent_side.object] {
                Some(data) => {
                    let join = AntiJoin {
                        child,
                        parent: data,
                        pairs: child_side.columns.into_iter().zip(parent_side.columns).collect(),
                        table,
                    };
                    planned.result.sql = Some(join.shown_sql());
                    planned.anti_join = Some(join);
                }
                None => preset(
                    &mut planned.result,
                    CheckStatus::Skipped,
                    format!("`{}` has no data loaded, so nothing was compared", parent_table.name),
                ),
            }
        }
        Err((verdict, end)) => decide_unmeasured(&mut planned, home.contract, r, verdict, end, root),
    }
    Some(planned)
}

/// A relationship that is not measured: unresolved (skipped, with a warning on the contract) or untestable (a
/// warning check).
fn decide_unmeasured(
    planned: &mut Planned,
    contract: &Contract,
    r: &Relationship,
    verdict: Verdict,
    end: End,
    root: &Path,
) {
    let to: Vec<&str> = r.to.iter().map(|t| t.text.as_str()).collect();
    planned.result.name = format!("{} references {}", planned.result.name, to.join(", "));
    match verdict {
        Verdict::Unresolved(why) => {
            let what = match end {
                End::From => r.from.iter().map(|f| f.text.as_str()).collect::<Vec<_>>().join(", "),
                _ => to.join(", "),
            };
            preset(
                &mut planned.result,
                CheckStatus::Skipped,
                format!("unresolved reference `{what}`: {why}"),
            );
            planned.diagnostic = Some(unresolved_warning(contract, r, end, &what, &why, root));
        }
        Verdict::Untestable(why) => preset(
            &mut planned.result,
            CheckStatus::Warn,
            format!("the relationship cannot be tested as written: {why}"),
        ),
    }
}

/// Decided from the contract alone: nothing measured, nothing from the data in the reason.
fn preset(r: &mut CheckResult, status: CheckStatus, reason: String) {
    r.status = status;
    r.reads = Reads::Schema;
    r.explain_publicly(reason);
}

/// The warning shown on the contract (and on /problems) for an unresolved reference.
fn unresolved_warning(
    contract: &Contract,
    r: &Relationship,
    end: End,
    what: &str,
    why: &str,
    root: &Path,
) -> Diagnostic {
    let path = match end {
        End::From if r.property_level => r.path.clone(),
        End::From => format!("{}.from", r.path),
        _ => format!("{}.to", r.path),
    };
    contract
        .doc
        .diagnostic(Problem {
            severity: Severity::Warning,
            code: UNRESOLVED,
            path,
            message: format!("the relationship's reference `{what}` is not resolved, so it is not tested: {why}"),
            hint: Some(
                "name a table of the mesh: `table.column`, `<domain>.<table>.<column>`, `<contract id>#<table>.<column>` \
                 or `<contract file>#/schema/<id>/properties/<id>`"
                    .into(),
            ),
        })
        .relative_to(root)
}

/// The column a reference names, for keys and names when it did not resolve.
fn last_name(r: &Reference) -> String {
    match &r.target {
        Target::Names(n) | Target::Declared { names: n, .. } => n.last().cloned().unwrap_or_default(),
        Target::Ids { properties, .. } => properties.last().cloned().unwrap_or_default(),
        Target::Malformed(_) => r.text.clone(),
    }
}

/// `orders.customer_id`, `order_lines.(order_id, line_no)`.
fn columns_text(table: &Table, columns: &[String]) -> String {
    match columns {
        [one] => format!("{}.{one}", table.name),
        many => format!("{}.({})", table.name, many.join(", ")),
    }
}

/// A relationship check before it is decided: where it is declared and what it reads.
fn new_result(contract: &Contract, table: &Table, r: &Relationship, columns: &[String], root: &Path) -> CheckResult {
    let (line, _) = contract.doc.position(&r.path).unwrap_or((0, 0));
    let file = &contract.doc.file;
    CheckResult {
        key: format!("{}__{}__relationship", table.name, columns.join("_")),
        category: Category::Schema,
        kind: KIND.to_string(),
        name: columns_text(table, columns),
        table: Some(table.name.clone()),
        column: (columns.len() == 1).then(|| columns[0].clone()),
        quality_id: r.id.clone(),
        dimension: Some("consistency".into()),
        severity: r.severity.clone(),
        status: CheckStatus::Skipped,
        measured: None,
        unit: None,
        count: None,
        row_count: None,
        threshold: Some(Threshold::MustBe(0.0)),
        reason: None,
        sql: None,
        origin: Some(Origin {
            file: file
                .strip_prefix(root)
                .map(Path::to_path_buf)
                .unwrap_or_else(|_| file.clone()),
            line: (line > 0).then_some(line),
            field: r.path.clone(),
        }),
        samples: None,
        // Unresolved, nothing is measured; resolved, `plan_one` names the parent's key columns too.
        reads: Reads::Columns(columns.to_vec()),
        public_reason: None,
    }
}

impl Planned<'_> {
    /// Measures the relationship on `conn` (nothing to do when it was decided from the contracts).
    pub fn run(&mut self, conn: &Connection) {
        let Some(join) = &self.anti_join else {
            return;
        };
        let r = &mut self.result;
        let count = join.sql(&join.child.relation, &join.parent.relation, "count(*)", "");
        match conn.query_row(&count, [], |row| row.get::<_, i64>(0)) {
            Err(e) => {
                // DuckDB's message may quote a cell (a failed conversion): its class only for other roles.
                let e = clean_error(e);
                let public = public_error(&e);
                r.status = CheckStatus::Error;
                r.explain(e, Some(public));
            }
            Ok(orphans) => {
                let orphans = orphans.max(0) as u64;
                r.measured = Some(orphans as f64);
                r.count = Some(orphans);
                if orphans == 0 {
                    r.status = CheckStatus::Pass;
                    return;
                }
                r.status = if self.warn_only {
                    CheckStatus::Warn
                } else {
                    CheckStatus::Fail
                };
                r.explain(
                    format!(
                        "{orphans} of {} rows have a key with no match in `{}`, expected {}",
                        join.child.row_count,
                        join.parent.shown,
                        r.threshold_text()
                    ),
                    Some(format!(
                        "rows without a match in `{}`: misses the expected {}; the measured value is not shown to this role",
                        join.parent.shown,
                        r.threshold_text()
                    )),
                );
                r.samples = orphan_rows(conn, join);
            }
        }
    }
}

/// Up to five orphan rows of the child, ordered by key, classified (and inherited-classified) columns masked.
fn orphan_rows(conn: &Connection, join: &AntiJoin) -> Option<crate::model::check::Sample> {
    let order: Vec<String> = join
        .pairs
        .iter()
        .map(|(c, _)| format!("c.{}", quote_ident(c)))
        .collect();
    let tail = format!(" ORDER BY {} LIMIT 5", order.join(", "));
    let sql = join.sql(&join.child.relation, &join.parent.relation, "c.*", &tail);
    let mut sample = super::run::mask_sample(read_sample(conn, &sql).ok()?, join.table);
    let inherited: Vec<bool> = sample
        .columns
        .iter()
        .map(|name| join.child.inherited.iter().any(|i| i == name))
        .collect();
    for row in &mut sample.rows {
        for (v, masked) in row.iter_mut().zip(&inherited) {
            if *masked && !v.is_null() {
                *v = serde_json::Value::String(super::run::MASK.into());
            }
        }
    }
    Some(sample)
}

/// What `products` reference, product → referenced product, with the relationship's name; a product referencing
/// its own tables is left out.
pub fn edges(products: &[Arc<Product>]) -> Vec<(String, String, String)> {
    let known = known_of(products, &|t| Some(t.sql_name()));
    plan(&known, Path::new(""), false)
        .into_iter()
        .filter_map(|p| {
            let to = p.referenced?;
            (to != p.product).then_some((p.product, to, p.result.name))
        })
        .collect()
}

/// Runs the relationship checks of the mesh on `conn` (where `relation` finds every served table) and attaches each
/// to the product of its child table, with its warnings, the product's status re-derived. A product keeps the
/// checks it has when neither it nor any product it references was reloaded (`reloaded`) and its relationships
/// resolve as before. Stale products keep their last good version as it is.
pub fn attach(
    products: Vec<Arc<Product>>,
    reloaded: &HashSet<String>,
    conn: &Connection,
    relation: &dyn Fn(&ServedTable) -> Option<String>,
    root: &Path,
) -> Vec<Arc<Product>> {
    let mut fresh: HashMap<String, (Vec<CheckResult>, Vec<Diagnostic>)> = HashMap::new();
    {
        let known = known_of(&products, relation);
        let mut by_product: HashMap<String, Vec<Planned>> = HashMap::new();
        for p in plan(&known, root, false) {
            by_product.entry(p.product.clone()).or_default().push(p);
        }
        for p in products.iter().filter(|p| !p.stale) {
            let mut planned = by_product.remove(&p.key()).unwrap_or_default();
            if !needs_run(p, &planned, reloaded) {
                continue;
            }
            let mut checks = Vec::with_capacity(planned.len());
            let mut diagnostics = Vec::new();
            for mut one in planned.drain(..) {
                one.run(conn);
                diagnostics.extend(one.diagnostic);
                checks.push(one.result);
            }
            fresh.insert(p.key(), (checks, diagnostics));
        }
    }
    products
        .into_iter()
        .map(|p| match fresh.remove(&p.key()) {
            Some((checks, diagnostics)) => Arc::new(with_references(&p, checks, diagnostics)),
            None => p,
        })
        .collect()
}

/// Must the product's relationship checks be (re)measured? When it or a product it references was reloaded, or
/// its relationships no longer resolve to what its current checks measured.
fn needs_run(p: &Product, planned: &[Planned], reloaded: &HashSet<String>) -> bool {
    let old: Vec<(&str, Option<&str>)> = p.checks.iter().filter(|c| c.kind == KIND).map(signature).collect();
    if planned.is_empty() && old.is_empty() {
        return false;
    }
    reloaded.contains(&p.key())
        || planned
            .iter()
            .any(|pl| pl.referenced.as_ref().is_some_and(|r| reloaded.contains(r)))
        || old != planned.iter().map(|pl| signature(&pl.result)).collect::<Vec<_>>()
}

/// What a relationship check was decided on: its key, and its SQL (or, when nothing ran, its reason).
fn signature(c: &CheckResult) -> (&str, Option<&str>) {
    (c.key.as_str(), c.sql.as_deref().or(c.reason.as_deref()))
}

/// The product with these relationship checks and warnings in place of its previous ones.
fn with_references(p: &Product, checks: Vec<CheckResult>, diagnostics: Vec<Diagnostic>) -> Product {
    let mut out = p.clone();
    out.checks.retain(|c| c.kind != KIND);
    out.checks.extend(checks);
    out.diagnostics.retain(|d| d.code != UNRESOLVED);
    out.diagnostics.extend(diagnostics);
    out.status = Product::derive_status(&out.diagnostics, &out.checks);
    out
}

/// The relationship checks of one contract tested alone (`meshbox test`): references inside it run on its loaded
/// tables, references elsewhere are skipped as unresolved.
pub fn check_contract(
    conn: &Connection,
    domain: &str,
    contract: &Contract,
    loads: &[TableLoad],
    root: &Path,
) -> Vec<CheckResult> {
    let tables = (0..contract.tables.len())
        .map(|oi| {
            loads
                .iter()
                .find(|l| l.contract == 0 && l.object == oi)
                .map(Data::staged)
        })
        .collect();
    let known = [Known {
        product: domain.to_string(),
        domain: domain.to_string(),
        contract,
        tables,
    }];
    plan(&known, root, true)
        .into_iter()
        .map(|mut p| {
            p.run(conn);
            p.result
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::yaml::Document;

    fn contract(file: &str, text: &str) -> Contract {
        let doc = Document::parse(Path::new(file), text).unwrap();
        Contract::read(doc, &mut Vec::new()).unwrap()
    }

    /// A loaded table named `<schema>.<table>` with these (column, type) pairs.
    fn data(schema: &str, table: &str, columns: &[(&str, &str)]) -> Option<Data> {
        Some(Data {
            relation: format!("{schema}.{table}"),
            shown: format!("{schema}.{table}"),
            row_count: 0,
            columns: columns.iter().map(|(n, t)| (n.to_string(), t.to_string())).collect(),
            inherited: Vec::new(),
        })
    }

    const CUSTOMERS: &str = "\
apiVersion: v3.1.0
kind: DataContract
id: urn:crm:customers
schema:
  - name: customers
    id: cust_tbl
    properties:
      - name: id
        id: cust_pk
      - name: region
";

    const PARTNERS: &str = "\
apiVersion: v3.1.0
kind: DataContract
id: urn:partners:customers
schema:
  - name: customers
    properties:
      - name: id
";

    const ORDERS: &str = "\
apiVersion: v3.2.0
kind: DataContract
id: urn:sales:orders
schema:
  - name: orders
    properties:
      - name: id
      - name: customer_id
        relationships:
          - to: crm.customers.id
          - to: urn:crm:customers#customers.id
          - to: ../../crm/customers/customers.odcs.yaml#/schema/cust_tbl/properties/cust_pk
          - to: customers.id
          - to: https://example.com/c.yaml#customers.id
          - to: crm.customers.id.nested
          - type: oneToMany
            to: crm.customers.id
      - name: parent_id
        relationships:
          - to: orders.id
          - to: schema/orders/properties/id
";

    fn mesh<'a>(orders: &'a Contract, customers: &'a Contract, partners: &'a Contract) -> Vec<Known<'a>> {
        let known = |product: &str, domain: &str, c: &'a Contract, d: Option<Data>| Known {
            product: product.into(),
            domain: domain.into(),
            contract: c,
            tables: vec![d],
        };
        vec![
            known(
                "sales/orders",
                "sales",
                orders,
                data(
                    "sales",
                    "orders",
                    &[("id", "BIGINT"), ("customer_id", "BIGINT"), ("parent_id", "BIGINT")],
                ),
            ),
            known(
                "crm/customers",
                "crm",
                customers,
                data("crm", "customers", &[("id", "VARCHAR")]),
            ),
            known(
                "partners/customers",
                "partners",
                partners,
                data("partners", "customers", &[("id", "BIGINT")]),
            ),
        ]
    }

    #[test]
    fn every_reference_form_resolves_through_the_mesh() {
        let orders = contract("/m/sales/orders/orders.odcs.yaml", ORDERS);
        let customers = contract("/m/crm/customers/customers.odcs.yaml", CUSTOMERS);
        let partners = contract("/m/partners/customers/customers.odcs.yaml", PARTNERS);
        let known = mesh(&orders, &customers, &partners);
        let planned = plan(&known, Path::new("/m"), false);
        let got: Vec<(&str, Option<&str>, CheckStatus)> = planned
            .iter()
            .map(|p| (p.result.key.as_str(), p.referenced.as_deref(), p.result.status))
            .collect();
        let key = "orders__customer_id__relationship";
        let crm = Some("crm/customers");
        assert_eq!(
            got,
            [
                // domain.table.column, contract id, contract file with ids: the crm table.
                (key, crm, CheckStatus::Skipped),
                ("orders__customer_id__relationship_2", crm, CheckStatus::Skipped),
                ("orders__customer_id__relationship_3", crm, CheckStatus::Skipped),
                // `customers` alone is a table of two domains; a URL is outside the mesh; nested is not tested.
                ("orders__customer_id__relationship_4", None, CheckStatus::Skipped),
                ("orders__customer_id__relationship_5", None, CheckStatus::Skipped),
                ("orders__customer_id__relationship_6", None, CheckStatus::Skipped),
                // A type ODCS does not define cannot be tested.
                ("orders__customer_id__relationship_7", None, CheckStatus::Warn),
                // Inside the contract, by name and by path.
                (
                    "orders__parent_id__relationship",
                    Some("sales/orders"),
                    CheckStatus::Skipped
                ),
                (
                    "orders__parent_id__relationship_2",
                    Some("sales/orders"),
                    CheckStatus::Skipped
                ),
            ]
        );
        let reason = |i: usize| planned[i].result.reason.clone().unwrap_or_default();
        assert!(reason(3).contains("several domains (crm, partners)"), "{}", reason(3));
        assert!(reason(4).contains("outside the mesh"), "{}", reason(4));
        assert!(reason(5).contains("nested property"), "{}", reason(5));
        assert!(reason(6).contains("oneToMany"), "{}", reason(6));
        // Unresolved ones warn on the contract at their `to`; the untestable one does not.
        let warned: Vec<usize> = (0..planned.len())
            .filter(|i| planned[*i].diagnostic.is_some())
            .collect();
        assert_eq!(warned, [3, 4, 5]);
        let d = planned[3].diagnostic.as_ref().unwrap();
        assert_eq!(d.field.as_deref(), Some("schema[0].properties[1].relationships[3].to"));
        assert_eq!(d.file.as_deref(), Some(Path::new("sales/orders/orders.odcs.yaml")));
        assert_eq!(d.line, Some(13));
        // Resolved ones compare as text where the key types differ (BIGINT against VARCHAR).
        let sql = planned[0].result.sql.as_deref().unwrap();
        assert!(
            sql.contains(r#"CAST(p."id" AS VARCHAR) = CAST(c."customer_id" AS VARCHAR)"#),
            "{sql}"
        );
        let sql = planned[7].result.sql.as_deref().unwrap();
        assert_eq!(
            sql,
            r#"SELECT count(*) FROM sales.orders AS c ANTI JOIN sales.orders AS p ON p."id" = c."parent_id" WHERE c."parent_id" IS NOT NULL"#
        );
        assert_eq!(
            edges_of(&planned),
            [("sales/orders", "crm/customers")],
            "a product referencing itself draws no edge"
        );
    }

    fn edges_of<'p>(planned: &'p [Planned]) -> Vec<(&'p str, &'p str)> {
        let mut out: Vec<(&str, &str)> = planned
            .iter()
            .filter_map(|p| Some((p.product.as_str(), p.referenced.as_deref()?)))
            .filter(|(a, b)| a != b)
            .collect();
        out.dedup();
        out
    }

    #[test]
    fn one_contract_alone_resolves_only_inside_itself() {
        let orders = contract("/m/sales/orders/orders.odcs.yaml", ORDERS);
        let known = [Known {
            product: "sales".into(),
            domain: "sales".into(),
            contract: &orders,
            tables: vec![data("s", "orders", &[])],
        }];
        let planned = plan(&known, Path::new("/m"), true);
        let resolved: Vec<bool> = planned.iter().map(|p| p.anti_join.is_some()).collect();
        assert_eq!(resolved, [false, false, false, false, false, false, false, true, true]);
        let reason = planned[1].result.reason.as_deref().unwrap();
        assert!(reason.contains("`urn:crm:customers` is another contract") && reason.contains("meshbox validate"));
        assert!(planned.iter().all(|p| p.diagnostic.is_none() || p.anti_join.is_none()));
    }

    #[test]
    fn orphans_are_child_rows_whose_whole_key_is_set_and_unmatched() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE SCHEMA s;
             CREATE TABLE s.parent (a VARCHAR, b BIGINT);
             INSERT INTO s.parent VALUES ('x', 1), ('x', 2), ('y', 1);
             CREATE TABLE s.child (id BIGINT, a VARCHAR, b BIGINT, secret VARCHAR);
             INSERT INTO s.child VALUES (1, 'x', 1, 's1'), (2, 'x', 3, 's2'), (3, 'z', 1, 's3'), (4, NULL, 9, 's4'),
                                        (5, 'y', NULL, 's5'), (6, 'z', 1, 's6');",
        )
        .unwrap();
        let text = "\
apiVersion: v3.1.0
kind: DataContract
schema:
  - name: child
    properties:
      - name: id
      - name: a
      - name: b
      - name: secret
        classification: restricted
    relationships:
      - from: [child.a, child.b]
        to: [parent.a, parent.b]
  - name: parent
    properties:
      - name: a
      - name: b
";
        let c = contract("/m/d/p/p.odcs.yaml", text);
        let known = [Known {
            product: "d/p".into(),
            domain: "d".into(),
            contract: &c,
            tables: vec![
                data("s", "child", &[("id", "BIGINT"), ("a", "VARCHAR"), ("b", "BIGINT")]),
                data("s", "parent", &[("a", "VARCHAR"), ("b", "BIGINT")]),
            ],
        }];
        let mut planned = plan(&known, Path::new("/m"), false);
        assert_eq!(planned.len(), 1);
        planned[0].run(&conn);
        let r = &planned[0].result;
        assert_eq!((r.status, r.measured), (CheckStatus::Fail, Some(3.0)), "{:?}", r.reason);
        assert_eq!(
            r.reads,
            Reads::Related {
                columns: vec!["a".into(), "b".into()],
                domain: "d".into(),
                product: "p".into(),
                table: "parent".into(),
                keys: vec!["a".into(), "b".into()],
            }
        );
        let sample = r.samples.as_ref().unwrap();
        let ids: Vec<&serde_json::Value> = sample.rows.iter().map(|row| &row[0]).collect();
        assert_eq!(
            ids,
            [&serde_json::json!(2), &serde_json::json!(3), &serde_json::json!(6)]
        );
        assert!(sample.rows.iter().all(|row| row[3] == super::super::run::MASK));
    }
}
