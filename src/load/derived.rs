//! Builds derived products. Each product's `<table>.sql` runs in its own sandbox (`sandbox.rs`) holding copies of
//! exactly its input tables; the result comes back to staging and is typed against the contract like a data file.
//! A table the SQL names without an input port is a diagnostic, and classification follows the data: every column of
//! a derived table inherits the classifications of the classified input columns its SQL reads (`reach.rs`).

use crate::base::diagnostics::{Diagnostic, Severity};
use crate::base::sql::quote_ident;
use crate::folder::manifests::{ProductSpec, Transform};
use crate::load::ingest::{EngineSettings, Format, Staging, TableLoad, contract_diag};
use crate::load::product_load::{Inputs, Outcome};
use crate::load::reach::Reach;
use crate::load::sandbox::Sandbox;
use crate::model::catalog::{InheritedClass, LoadedColumn};
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// Table functions a transform may call: generators only (no catalog, settings, files or nested queries).
const TRANSFORM_FUNCTIONS: &[&str] = &["range", "generate_series", "unnest"];

/// Where a result waits in staging between the sandbox and its typed load.
const RESULT_SCHEMA: &str = "__meshbox_derived";

/// What building the derived products of one load needs.
pub struct Context<'a> {
    pub staging: &'a Staging,
    pub specs: &'a [&'a ProductSpec],
    /// The staging schema of each spec.
    pub schemas: &'a [String],
    pub inputs: &'a Inputs<'a>,
    pub root: &'a Path,
    pub engine: &'a EngineSettings,
}

/// One input table of a derived product: where its rows are and what a reader of each column inherits.
struct Input {
    contract_id: String,
    domain: String,
    table: String,
    /// A staging relation, or None for the served table.
    staging_relation: Option<String>,
    columns: Vec<(String, Vec<InheritedClass>)>,
}

fn diag(code: &'static str, message: String, file: &Path, root: &Path) -> Diagnostic {
    Diagnostic::error(code, message).in_file(file.strip_prefix(root).unwrap_or(file))
}

fn port_ids(s: &ProductSpec) -> Vec<String> {
    s.descriptor
        .iter()
        .flat_map(|d| d.input_ports.iter().filter_map(|p| p.contract_id.clone()))
        .collect()
}

/// Builds the derived products among `cx.specs` (those with SQL transforms), inputs first; a cycle through input
/// ports is a diagnostic on every product in it.
pub fn build(cx: &Context, outcomes: &mut [Outcome]) {
    let specs = cx.specs;
    let in_build: HashMap<String, usize> = specs.iter().enumerate().map(|(i, s)| (s.key(), i)).collect();
    let mut pending: Vec<usize> = (0..specs.len()).filter(|i| !specs[*i].transforms.is_empty()).collect();
    let mut done: HashSet<usize> = (0..specs.len()).filter(|i| specs[*i].transforms.is_empty()).collect();
    while !pending.is_empty() {
        // Ready: every input provided in this build is built already.
        let ready: Vec<usize> = pending
            .iter()
            .copied()
            .filter(|&i| {
                port_ids(specs[i]).iter().all(|id| {
                    cx.inputs
                        .providers
                        .get(id)
                        .and_then(|(key, _, _)| in_build.get(key))
                        .is_none_or(|j| *j == i || done.contains(j))
                })
            })
            .collect();
        if ready.is_empty() {
            for &i in &pending {
                outcomes[i].diagnostics.push(
                    diag(
                        "derived-cycle",
                        format!(
                            "{} cannot be built: its inputs depend on it (a cycle through input ports)",
                            specs[i].key()
                        ),
                        &specs[i].transforms[0].file,
                        cx.root,
                    )
                    .hint("a derived product cannot consume, directly or not, a product built from it"),
                );
            }
            return;
        }
        for i in ready {
            pending.retain(|p| *p != i);
            done.insert(i);
            build_product(cx, &in_build, i, outcomes);
        }
    }
}

/// Builds every table of derived product `i` in one sandbox holding its inputs.
fn build_product(cx: &Context, in_build: &HashMap<String, usize>, i: usize, outcomes: &mut [Outcome]) {
    let spec = cx.specs[i];
    let first_file = &spec.transforms[0].file;
    let (inputs, problems) = gather_inputs(cx, in_build, i, outcomes);
    if !problems.is_empty() {
        outcomes[i].diagnostics.extend(problems);
        return;
    }
    let sandbox = match open_sandbox(cx, &inputs) {
        Ok(s) => s,
        Err(d) => {
            outcomes[i]
                .diagnostics
                .push(d.in_file(first_file.strip_prefix(cx.root).unwrap_or(first_file)));
            return;
        }
    };
    for tr in &spec.transforms {
        let started = std::time::Instant::now();
        match run_transform(cx, i, tr, &sandbox, &inputs) {
            Ok((load, warnings)) => {
                outcomes[i].tables.push(load);
                outcomes[i].data_files.push(tr.file.clone());
                outcomes[i].diagnostics.extend(warnings);
            }
            Err(problems) => outcomes[i].diagnostics.extend(problems),
        }
        tracing::debug!(
            product = %spec.key(),
            took_ms = started.elapsed().as_secs_f64() * 1e3,
            "derived table built"
        );
    }
}

/// Finds every input table of product `i` and what its columns carry; problems are diagnostics on the SQL file.
fn gather_inputs(
    cx: &Context,
    in_build: &HashMap<String, usize>,
    i: usize,
    outcomes: &[Outcome],
) -> (Vec<Input>, Vec<Diagnostic>) {
    let file = &cx.specs[i].transforms[0].file;
    let mut inputs: Vec<Input> = Vec::new();
    let mut problems = Vec::new();
    for id in port_ids(cx.specs[i]) {
        let Some((key, domain, tables)) = cx.inputs.providers.get(&id) else {
            problems.push(
                diag(
                    "derived-input",
                    format!("input `{id}` is provided by no product of the mesh"),
                    file,
                    cx.root,
                )
                .hint("check the `contractId` of the input port against the provider's contract `id`"),
            );
            continue;
        };
        for t in tables {
            if inputs.iter().any(|x| &x.domain == domain && &x.table == t) {
                continue;
            }
            match find_input(cx, in_build, outcomes, key, domain, t) {
                Ok((staging_relation, columns)) => inputs.push(Input {
                    contract_id: id.clone(),
                    domain: domain.clone(),
                    table: t.clone(),
                    staging_relation,
                    columns,
                }),
                Err(e) => problems.push(diag(
                    "derived-input",
                    format!("input `{domain}.{t}` (contract `{id}`) is not available: {e}"),
                    file,
                    cx.root,
                )),
            }
        }
    }
    (inputs, problems)
}

type Columns = Vec<(String, Vec<InheritedClass>)>;

/// Where input `domain.table` of provider `key` is (a staging relation when it is loaded in this build, else the
/// served table) and the classifications each of its columns carries.
fn find_input(
    cx: &Context,
    in_build: &HashMap<String, usize>,
    outcomes: &[Outcome],
    key: &str,
    domain: &str,
    table: &str,
) -> Result<(Option<String>, Columns), String> {
    if let Some(&j) = in_build.get(key) {
        let load = outcomes[j]
            .tables
            .iter()
            .find(|l| l.table == table)
            .ok_or_else(|| format!("{key} has no loaded data for `{domain}.{table}`"))?;
        let object = &cx.specs[j].contracts[load.contract].tables[load.object];
        return Ok((Some(load.qualified()), carried(object, domain, &load.columns)));
    }
    if cx.inputs.serving.is_none() {
        return Err(format!("{key} is not loaded"));
    }
    // Served from an earlier build: the catalog of that build says what its columns carry. Without it the input
    // is not used (fail closed: its classifications would be unknown).
    let (d, n) = key.split_once('/').unwrap_or((key, ""));
    let product = cx.inputs.previous.and_then(|c| c.product(d, n));
    let served = product.and_then(|p| {
        p.tables
            .iter()
            .find(|t| t.schema == domain && t.name == table)
            .map(|t| (p, t))
    });
    let Some((p, t)) = served else {
        return Err(format!("{key} serves no table `{domain}.{table}`"));
    };
    let object = &p.contracts[t.contract].tables[t.object];
    Ok((None, carried(object, domain, &t.columns)))
}

/// Per loaded column of an input: its own classification (when it is classified) and what it inherited.
fn carried(object: &crate::model::manifest::odcs::Table, domain: &str, columns: &[LoadedColumn]) -> Columns {
    columns
        .iter()
        .map(|c| {
            let mut classes = c.inherited.clone();
            let declared = object.columns.iter().find(|d| d.name == c.name);
            if let Some(class) = declared.and_then(|d| d.classification.as_deref())
                && crate::model::catalog::classification_rank(Some(class)) > 0
            {
                classes.push(InheritedClass {
                    classification: class.trim().to_ascii_lowercase(),
                    domain: domain.to_string(),
                    from: format!("{domain}.{}.{}", object.name, c.name),
                });
            }
            (c.name.clone(), classes)
        })
        .collect()
}

/// A sandbox holding copies of exactly `inputs`.
fn open_sandbox(cx: &Context, inputs: &[Input]) -> Result<Sandbox, Diagnostic> {
    let sandbox = Sandbox::open(cx.engine).map_err(|e| {
        Diagnostic::error(
            "derived-sandbox",
            format!("the transform's private database could not be opened: {e:#}"),
        )
    })?;
    for input in inputs {
        let copied = match (&input.staging_relation, cx.inputs.serving) {
            (Some(relation), _) => sandbox.add_input(&cx.staging.conn, relation, &input.domain, &input.table),
            (None, Some(db)) => sandbox.add_served_input(db, &input.domain, &input.table),
            (None, None) => Err("it is not loaded".to_string()),
        };
        copied.map_err(|e| {
            Diagnostic::error(
                "derived-input",
                format!(
                    "input `{}.{}` (contract `{}`) is not available: {e}",
                    input.domain, input.table, input.contract_id
                ),
            )
        })?;
    }
    Ok(sandbox)
}

/// 1-based line and column of a byte offset in `text`.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut end = offset.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let before = &text[..end];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map(|l| l.chars().count()).unwrap_or(0) + 1;
    (line, column)
}

/// The inputs as `domain.table`, for hints.
fn input_names(inputs: &[Input]) -> String {
    if inputs.is_empty() {
        return "none".into();
    }
    inputs
        .iter()
        .map(|x| format!("{}.{}", x.domain, x.table))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Checks what the SQL names before it runs: one SELECT (the guard), no table without an input port, no table
/// function but generators. Every problem found is returned, each naming what it is about.
fn check_sql(
    cx: &Context,
    spec: &ProductSpec,
    tr: &Transform,
    conn: &duckdb::Connection,
    inputs: &[Input],
) -> Result<Reach, Vec<Diagnostic>> {
    let mut problems = Vec::new();
    let reach = Reach::of(conn, &tr.sql);
    if let Ok(reach) = &reach
        && let Some(d) = undeclared_tables(cx, spec, tr, reach, inputs)
    {
        problems.push(d);
    }
    if let Err(e) = crate::base::sql_guard::inspect(conn, &tr.sql) {
        problems.push(
            diag(
                "derived-sql",
                format!("the transform must be one read-only SELECT: {e}"),
                &tr.file,
                cx.root,
            )
            .hint("write a single SELECT over the input products' tables, e.g. SELECT … FROM sales.orders"),
        );
        return Err(problems);
    }
    let reach = reach.map_err(|e| vec![diag("derived-sql", e, &tr.file, cx.root)])?;
    problems.extend(refused_functions(cx, tr, &reach, inputs));
    if problems.is_empty() { Ok(reach) } else { Err(problems) }
}

/// Places a diagnostic at a byte offset of the transform's SQL, when it has one.
fn at_offset(d: Diagnostic, sql: &str, offset: Option<usize>) -> Diagnostic {
    match offset {
        Some(o) => {
            let (l, c) = line_col(sql, o);
            d.at(l, c)
        }
        None => d,
    }
}

/// One diagnostic naming every table the SQL reads without an input port, placed at the first.
fn undeclared_tables(
    cx: &Context,
    spec: &ProductSpec,
    tr: &Transform,
    reach: &Reach,
    inputs: &[Input],
) -> Option<Diagnostic> {
    let undeclared: Vec<&crate::load::reach::TableRef> = reach
        .tables
        .iter()
        .filter(|t| !inputs.iter().any(|x| t.names(&x.domain, &x.table)))
        .collect();
    let first = undeclared.first()?;
    let mut names: Vec<String> = Vec::new();
    for t in &undeclared {
        let name = format!("`{}`", t.display());
        if !names.contains(&name) {
            names.push(name);
        }
    }
    let descriptor = spec
        .descriptor
        .as_ref()
        .map(|d| {
            d.doc
                .file
                .strip_prefix(cx.root)
                .unwrap_or(&d.doc.file)
                .display()
                .to_string()
        })
        .unwrap_or_else(|| "the product's *.odps.yaml".into());
    let d = diag(
        "derived-undeclared",
        format!(
            "the transform reads {} without an input port; a transform sees only its product's inputs",
            names.join(", ")
        ),
        &tr.file,
        cx.root,
    )
    .hint(format!(
        "declared inputs: {}; to read another product, add an input port naming its contract to {descriptor} \
         (inputPorts: - name: …, contractId: <the provider's contract id>) and read its tables as <domain>.<table>",
        input_names(inputs)
    ));
    Some(at_offset(d, &tr.sql, first.offset))
}

/// One diagnostic per table function the SQL calls that is not a generator.
fn refused_functions(cx: &Context, tr: &Transform, reach: &Reach, inputs: &[Input]) -> Vec<Diagnostic> {
    reach
        .table_functions
        .iter()
        .filter(|f| !TRANSFORM_FUNCTIONS.contains(&f.name.as_str()))
        .map(|f| {
            let d = diag(
                "derived-sql",
                format!(
                    "the transform may not call `{}()`: catalog, settings and file functions are refused",
                    f.name
                ),
                &tr.file,
                cx.root,
            )
            .hint(format!(
                "a transform reads its inputs ({}) and may generate rows with {}",
                input_names(inputs),
                TRANSFORM_FUNCTIONS.join(", ")
            ));
            at_offset(d, &tr.sql, f.offset)
        })
        .collect()
}

/// Runs one transform in the sandbox and loads its result into the product's staging schema, typed by the contract.
/// Returns the load (with what it read and inherited) and warnings on the contract.
fn run_transform(
    cx: &Context,
    i: usize,
    tr: &Transform,
    sandbox: &Sandbox,
    inputs: &[Input],
) -> Result<(TableLoad, Vec<Diagnostic>), Vec<Diagnostic>> {
    let spec = cx.specs[i];
    let contract = &spec.contracts[tr.contract];
    let table = &contract.tables[tr.object];
    let reach = check_sql(cx, spec, tr, sandbox.conn(), inputs)?;
    let failed = |e: String| {
        // DuckDB's "Did you mean …" may name meshbox's own schemas: not useful to anyone.
        let e = match e.find(" Did you mean") {
            Some(at) if e[at..].contains("__meshbox") => e[..at].to_string(),
            _ => e,
        };
        let mut d = diag(
            "derived-sql",
            format!("the transform for `{}` failed: {e}", table.name),
            &tr.file,
            cx.root,
        );
        if e.contains("does not exist") {
            d = d.hint(format!(
                "a transform reads only the tables of the product's input ports: {}",
                input_names(inputs)
            ));
        } else if e.contains("INTERRUPT") {
            d = d.hint(format!(
                "a transform may run {} s at most",
                crate::load::sandbox::TRANSFORM_TIME_LIMIT_MS / 1000
            ));
        }
        vec![d]
    };
    sandbox.run(&tr.sql).map_err(failed)?;
    let holding = format!("p{i}_{}_{}", tr.contract, tr.object);
    sandbox
        .copy_result_to(&cx.staging.conn, RESULT_SCHEMA, &holding)
        .map_err(failed)?;
    let source = crate::load::ingest::Source {
        format: Format::Sql,
        files: vec![tr.file.clone()],
        delimiter: None,
        sql: Some(format!(
            "SELECT * FROM {}.{}",
            quote_ident(RESULT_SCHEMA),
            quote_ident(&holding)
        )),
    };
    let loaded = crate::load::ingest::load_table(&cx.staging.conn, &cx.schemas[i], table, &source);
    let _ = cx.staging.conn.execute_batch(&format!(
        "DROP TABLE IF EXISTS {}.{}",
        quote_ident(RESULT_SCHEMA),
        quote_ident(&holding)
    ));
    let mut load = loaded.map_err(failed)?;
    load.contract = tr.contract;
    load.object = tr.object;
    let (reads, inherited) = follow(&reach, inputs);
    load.reads = reads;
    for c in load.columns.iter_mut() {
        c.inherited = inherited.clone();
    }
    let warnings = weaker_than_inputs(contract, table, &inherited)
        .into_iter()
        .map(|d| d.relative_to(cx.root))
        .collect();
    Ok((load, warnings))
}

/// The inputs the SQL reads, and the classifications of the input columns that may reach its result (one entry
/// per classification and declaring domain).
fn follow(reach: &Reach, inputs: &[Input]) -> (Vec<(String, String)>, Vec<InheritedClass>) {
    let mut reads: Vec<(String, String)> = Vec::new();
    let mut inherited: Vec<InheritedClass> = Vec::new();
    for (ti, t) in reach.tables.iter().enumerate() {
        let Some(input) = inputs.iter().find(|x| t.names(&x.domain, &x.table)) else {
            continue;
        };
        let key = (input.domain.clone(), input.table.clone());
        if !reads.contains(&key) {
            reads.push(key);
        }
        let names: Vec<String> = input.columns.iter().map(|(n, _)| n.clone()).collect();
        for c in reach.columns_read(ti, &names) {
            for class in &input.columns[c].1 {
                if !inherited
                    .iter()
                    .any(|h| h.classification == class.classification && h.domain == class.domain)
                {
                    inherited.push(class.clone());
                }
            }
        }
    }
    inherited.sort_by_key(|h| {
        std::cmp::Reverse(crate::model::catalog::classification_rank(Some(
            h.classification.as_str(),
        )))
    });
    (reads, inherited)
}

/// Warnings on each declared column whose classification is weaker than what its data inherits.
fn weaker_than_inputs(
    contract: &crate::model::manifest::odcs::Contract,
    table: &crate::model::manifest::odcs::Table,
    inherited: &[InheritedClass],
) -> Vec<Diagnostic> {
    let rank = |c: Option<&str>| crate::model::catalog::classification_rank(c);
    let Some(strictest) = inherited.first() else {
        return Vec::new();
    };
    let sources: Vec<String> = inherited
        .iter()
        .map(|h| format!("{} ({})", h.from, h.classification))
        .collect();
    table
        .columns
        .iter()
        .filter(|c| rank(c.classification.as_deref()) < rank(Some(strictest.classification.as_str())))
        .map(|c| {
            contract_diag(
                contract,
                Severity::Warning,
                "derived-classification",
                &crate::base::yaml::path_of(&c.path, "classification"),
                format!(
                    "`{}.{}` is computed from classified input columns ({}) but declares {}; it is masked as `{}` anyway",
                    table.name,
                    c.name,
                    sources.join(", "),
                    c.classification
                        .as_deref()
                        .map(|x| format!("`{x}`"))
                        .unwrap_or_else(|| "no classification".into()),
                    strictest.classification
                ),
                Some(format!(
                    "declare `classification: {}` (or stricter) so the contract says what readers get",
                    strictest.classification
                )),
            )
        })
        .collect()
}

/// The contract table as checks and profiles should treat it: a derived column is at least as classified as what
/// it inherited, so failed-row samples and value statistics hide it like a declared classification.
pub fn effective_object<'t>(
    object: &'t crate::model::manifest::odcs::Table,
    load: &TableLoad,
) -> Cow<'t, crate::model::manifest::odcs::Table> {
    let rank = |c: Option<&str>| crate::model::catalog::classification_rank(c);
    let stricter = |c: &crate::model::manifest::odcs::Column| {
        let inherited = load.columns.iter().find(|l| l.name == c.name)?.inherited.first()?;
        (rank(Some(inherited.classification.as_str())) > rank(c.classification.as_deref()))
            .then(|| inherited.classification.clone())
    };
    if !object.columns.iter().any(|c| stricter(c).is_some()) {
        return Cow::Borrowed(object);
    }
    let mut owned = object.clone();
    for c in owned.columns.iter_mut() {
        if let Some(class) = stricter(c) {
            c.classification = Some(class);
        }
    }
    Cow::Owned(owned)
}

#[cfg(test)]
mod tests {
    use super::line_col;

    #[test]
    fn offsets_become_lines_and_columns() {
        let sql = "-- über\nSELECT *\n  FROM x";
        assert_eq!(line_col(sql, 0), (1, 1));
        assert_eq!(line_col(sql, sql.find("SELECT").unwrap()), (2, 1));
        assert_eq!(line_col(sql, sql.find('x').unwrap()), (3, 8));
        assert_eq!(line_col(sql, 4), (1, 4), "inside a multi-byte character");
        assert_eq!(line_col(sql, 999), (3, 9));
    }
}
