//! From an ODCS contract to the list of checks of one table: schema conformance, constraints and quality rules.
//! Nothing runs here; each check says how it is measured so the runner can batch them into as few scans as possible.

use super::{Category, CheckResult, CheckStatus, Origin, Reads};
use crate::base::sql::{quote_ident, quote_literal, yaml_literal};
use crate::load::ingest::TableLoad;
use crate::model::manifest::odcs::{
    Column, Contract, Metric, QualityRule, RuleKind, Table, Threshold, is_warning_severity,
};
use crate::model::types::{Family, declared_type, family};
use serde_yaml::Value;
use std::path::Path;

/// How a check is measured.
#[derive(Debug, Clone)]
pub enum Measure {
    /// Rows matching `predicate`, counted in the table's single aggregate pass.
    Count { predicate: String },
    /// The table's row count.
    RowCount,
    /// Distinct non-null key values occurring more than once.
    Duplicates { columns: Vec<String> },
    /// A contract SQL rule (placeholders already substituted); its first value.
    Sql { query: String },
    /// Known from loading (presence, conversion failures).
    Known { value: f64 },
    /// Decided without measuring.
    Preset { status: CheckStatus, reason: String },
}

#[derive(Debug, Clone)]
pub struct Planned {
    pub result: CheckResult,
    pub measure: Measure,
    /// Compare the share of rows (0–100) instead of the count.
    pub percent: bool,
    /// A failure is reported as a warning (severity info/warning/…).
    pub warn_only: bool,
}

fn origin(contract: &Contract, field: &str, root: &Path) -> Origin {
    let (line, _) = contract.doc.position(field).unwrap_or((0, 0));
    Origin {
        file: contract
            .doc
            .file
            .strip_prefix(root)
            .map(Path::to_path_buf)
            .unwrap_or_else(|_| contract.doc.file.clone()),
        line: (line > 0).then_some(line),
        field: field.to_string(),
    }
}

struct Builder<'a> {
    contract: &'a Contract,
    table: &'a Table,
    root: &'a Path,
    out: Vec<Planned>,
    /// SQL for properties nested in an object column, by their dotted name (`customer.id`).
    nested: std::collections::HashMap<String, String>,
}

impl Builder<'_> {
    /// The SQL expression of a property: its quoted column, or the field of the object it is nested in.
    fn sql(&self, col: &Column) -> String {
        self.nested
            .get(&col.name)
            .cloned()
            .unwrap_or_else(|| quote_ident(&col.name))
    }

    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        category: Category,
        kind: &str,
        column: Option<&str>,
        name: String,
        field: &str,
        measure: Measure,
        threshold: Option<Threshold>,
        dimension: Option<&str>,
    ) -> &mut Planned {
        let key = match column {
            Some(c) => format!("{}__{}__{}", self.table.name, c, kind),
            None => format!("{}__{}", self.table.name, kind),
        };
        self.out.push(Planned {
            result: CheckResult {
                key,
                category,
                kind: kind.to_string(),
                name,
                table: Some(self.table.name.clone()),
                column: column.map(str::to_string),
                quality_id: None,
                dimension: dimension.map(str::to_string),
                severity: None,
                status: CheckStatus::Skipped,
                measured: None,
                unit: None,
                count: None,
                row_count: None,
                threshold,
                reason: None,
                sql: None,
                origin: Some(origin(self.contract, field, self.root)),
                samples: None,
                // A column's check reads that column; a table's, anything (narrowed where known).
                reads: column.map(Reads::column).unwrap_or_default(),
                public_reason: None,
            },
            measure,
            percent: false,
            warn_only: false,
        });
        self.out.last_mut().expect("just pushed")
    }
}

fn zero() -> Option<Threshold> {
    Some(Threshold::MustBe(0.0))
}

/// A literal to compare a column with: numbers as numbers, anything else as text.
fn bound_literal(v: &Value) -> Option<String> {
    match v {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(quote_literal(s)),
        _ => None,
    }
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => serde_yaml::to_string(other).unwrap_or_default().trim().to_string(),
    }
}

/// Plans every check of the table `object` of `contract`. `load` is None when the table has no data.
pub fn plan_table(contract: &Contract, object: usize, load: Option<&TableLoad>, root: &Path) -> Vec<Planned> {
    let table = &contract.tables[object];
    let mut b = Builder {
        contract,
        table,
        root,
        out: Vec::new(),
        nested: std::collections::HashMap::new(),
    };
    let Some(load) = load else {
        return b.out;
    };
    for col in &table.columns {
        plan_column(&mut b, col, load);
    }
    for col in table.columns.iter().filter(|c| !c.fields.is_empty()) {
        let first = b.out.len();
        plan_nested(&mut b, col, &quote_ident(&col.name), &col.name, load);
        // What they measure is data of the object column: disclosed only to roles that read it unmasked.
        for p in &mut b.out[first..] {
            p.result.reads = Reads::column(&col.name);
        }
    }
    // Composite primary key, ordered by primaryKeyPosition.
    let mut pk: Vec<&Column> = table.columns.iter().filter(|c| c.primary_key).collect();
    if pk.len() > 1 {
        pk.sort_by_key(|c| c.primary_key_position.unwrap_or(i64::MAX));
        let names: Vec<String> = pk.iter().map(|c| c.name.clone()).collect();
        b.push(
            Category::Schema,
            "primary_key_unique",
            None,
            format!("primary key ({}) has no duplicate values", names.join(", ")),
            &pk[0].path,
            Measure::Duplicates { columns: names.clone() },
            zero(),
            Some("uniqueness"),
        )
        .result
        .reads = Reads::Columns(names.clone());
    }
    if !load.extra.is_empty() {
        let p = b.push(
            Category::Schema,
            "schema_extra_columns",
            None,
            "the data has no columns the contract does not declare".into(),
            &table.path,
            Measure::Known {
                value: load.extra.len() as f64,
            },
            zero(),
            Some("conformity"),
        );
        p.warn_only = true;
        p.result.reads = Reads::Schema;
        p.result
            .explain_publicly(format!("undeclared columns: {}", load.extra.join(", ")));
    }
    if load.malformed_count > 0 {
        let detail: Vec<String> = load
            .malformed
            .iter()
            .map(|m| match &m.file {
                Some(file) => format!("{file} line {}: {}", m.line, m.error),
                None => format!("line {}: {}", m.line, m.error),
            })
            .collect();
        let p = b.push(
            Category::Load,
            "load_malformed_lines",
            None,
            "every line of the file can be read".into(),
            &table.path,
            Measure::Known {
                value: load.malformed_count as f64,
            },
            zero(),
            Some("conformity"),
        );
        // Line numbers and kinds of error, no content: for roles that may read the rows.
        p.result.reads = Reads::Columns(Vec::new());
        p.result.explain(
            format!(
                "{} unreadable lines were skipped ({})",
                load.malformed_count,
                detail.join("; ")
            ),
            Some("some lines of the file could not be read and were skipped".into()),
        );
    }
    for (i, rule) in table.quality.iter().enumerate() {
        plan_rule(&mut b, rule, None, i, load);
    }
    b.out
}

/// Every check of one column, family by family; the order is the order of the report.
/// The properties nested in object column `col` (at SQL `expr`, named `name`): each is checked as datacontract-cli does
/// — required (an absent object does not make its property missing), lengths, bounds, pattern, format, enum — under
/// its dotted name (`customer.id`). Only objects loaded as structs (JSON, Parquet) have fields to read.
fn plan_nested(b: &mut Builder, col: &Column, expr: &str, name: &str, load: &TableLoad) {
    if !loaded_type(load, &col.name).to_ascii_uppercase().starts_with("STRUCT") && expr == quote_ident(&col.name) {
        return;
    }
    for field in &col.fields {
        let mut nested = field.clone();
        nested.name = format!("{name}.{}", field.name);
        let field_expr = format!("struct_extract({expr}, {})", quote_literal(&field.name));
        b.nested.insert(nested.name.clone(), field_expr.clone());
        let c = nested.name.clone();
        if nested.required {
            b.push(
                Category::Schema,
                "field_required",
                Some(&c),
                format!("{c} has no missing values"),
                &nested.path,
                Measure::Count {
                    predicate: format!("{expr} IS NOT NULL AND {field_expr} IS NULL"),
                },
                zero(),
                Some("completeness"),
            );
        }
        plan_lengths(b, &nested);
        plan_bounds(b, &nested);
        plan_exclusive_bounds(b, &nested);
        plan_pattern(b, &nested);
        plan_enum(b, &nested);
        if !nested.fields.is_empty() {
            plan_nested(b, &nested, &field_expr, &c, load);
        }
    }
}

fn plan_column(b: &mut Builder, col: &Column, load: &TableLoad) {
    let present = plan_presence(b, col, load);
    if present {
        plan_type(b, col, load);
    }
    let fam = family(&loaded_type(load, &col.name));
    plan_nullability_and_keys(b, col);
    plan_lengths(b, col);
    plan_bounds(b, col);
    plan_exclusive_bounds(b, col);
    plan_multiple_of(b, col, fam);
    plan_pattern(b, col);
    plan_format(b, col, fam);
    plan_enum(b, col);
    for (i, rule) in col.quality.iter().enumerate() {
        plan_rule(b, rule, Some(col), i, load);
    }
}

/// The DuckDB type the column was loaded as ("" when the data lacks it).
fn loaded_type(load: &TableLoad, column: &str) -> String {
    load.columns
        .iter()
        .find(|lc| lc.name == column)
        .map(|lc| lc.data_type.clone())
        .unwrap_or_default()
}

/// A column's values as text, for length, pattern, format and enum checks.
fn as_text(quoted: &str) -> String {
    format!("CAST({quoted} AS VARCHAR)")
}

/// Where a `logicalTypeOptions` entry of a column sits in the contract.
fn option_field(col: &Column, key: &str) -> String {
    format!("{}.logicalTypeOptions.{key}", col.path)
}

/// `field_is_present`; returns whether the data has the column.
fn plan_presence(b: &mut Builder, col: &Column, load: &TableLoad) -> bool {
    let c = col.name.as_str();
    let present = !load.missing.iter().any(|m| m == c);
    let p = b.push(
        Category::Schema,
        "field_is_present",
        Some(c),
        format!("{c} is present"),
        &col.path,
        Measure::Known {
            value: if present { 0.0 } else { 1.0 },
        },
        zero(),
        Some("conformity"),
    );
    p.result.reads = Reads::Schema;
    if !present {
        p.result.explain_publicly(format!("Required column '{c}' is missing"));
    }
    present
}

/// `field_type`: the values that did not convert to the declared type while loading.
fn plan_type(b: &mut Builder, col: &Column, load: &TableLoad) {
    let c = col.name.as_str();
    let declared = declared_type(col);
    if declared.sql.is_none() && col.logical_type.is_none() {
        return;
    }
    let failures = load.cast_failures.iter().find(|f| f.column == c);
    let shown = col
        .logical_type
        .clone()
        .or(col.physical_type.clone())
        .unwrap_or_default();
    let p = b.push(
        Category::Schema,
        "field_type",
        Some(c),
        format!("{c} has type {shown}"),
        &col.path,
        Measure::Known {
            value: failures.map(|f| f.count as f64).unwrap_or(0.0),
        },
        zero(),
        Some("conformity"),
    );
    if let Some(f) = failures {
        let cells: Vec<String> = f
            .samples
            .iter()
            .map(|s| format!("row {}: {}", s.row, crate::checks::run::mask_if(col, &s.value)))
            .collect();
        // The cells quoted are the column's values: shown only to roles that see the column unmasked.
        p.result.explain(
            format!(
                "{} {} not convert to {} (loaded as NULL): {}",
                f.count,
                if f.count == 1 { "value does" } else { "values do" },
                f.to_type,
                cells.join(", ")
            ),
            Some(format!("some values do not convert to {} (loaded as NULL)", f.to_type)),
        );
    } else if let Some(note) = declared.note.clone().or_else(|| {
        load.type_notes
            .iter()
            .find(|n| n.starts_with(&format!("`{c}`")))
            .cloned()
    }) {
        p.result.explain_publicly(note);
    }
}

/// `required`, `unique` and a single-column primary key (which implies both).
fn plan_nullability_and_keys(b: &mut Builder, col: &Column) {
    let c = col.name.as_str();
    let q = b.sql(col);
    if col.required {
        b.push(
            Category::Schema,
            "field_required",
            Some(c),
            format!("{c} has no missing values"),
            &col.path,
            Measure::Count {
                predicate: format!("{q} IS NULL"),
            },
            zero(),
            Some("completeness"),
        );
    }
    if col.unique {
        b.push(
            Category::Schema,
            "field_unique",
            Some(c),
            format!("{c} (unique) has no duplicate values"),
            &col.path,
            Measure::Duplicates {
                columns: vec![c.into()],
            },
            zero(),
            Some("uniqueness"),
        );
    }
    let single_pk = col.primary_key && b.table.columns.iter().filter(|x| x.primary_key).count() == 1;
    if col.primary_key && !col.required {
        b.push(
            Category::Schema,
            "field_primary_key_required",
            Some(c),
            format!("{c} (primary key) has no missing values"),
            &col.path,
            Measure::Count {
                predicate: format!("{q} IS NULL"),
            },
            zero(),
            Some("completeness"),
        );
    }
    if single_pk && !col.unique {
        b.push(
            Category::Schema,
            "field_primary_key_unique",
            Some(c),
            format!("{c} (primary key) has no duplicate values"),
            &col.path,
            Measure::Duplicates {
                columns: vec![c.into()],
            },
            zero(),
            Some("uniqueness"),
        );
    }
}

/// `minLength` and `maxLength`.
fn plan_lengths(b: &mut Builder, col: &Column) {
    let c = col.name.as_str();
    let q = b.sql(col);
    let text = as_text(&q);
    let o = &col.options;
    if let Some(n) = o.min_length {
        b.push(
            Category::Schema,
            "field_min_length",
            Some(c),
            format!("{c} has a min length of {n}"),
            &option_field(col, "minLength"),
            Measure::Count {
                predicate: format!("{q} IS NOT NULL AND length({text}) < {n}"),
            },
            zero(),
            Some("conformity"),
        );
    }
    if let Some(n) = o.max_length {
        b.push(
            Category::Schema,
            "field_max_length",
            Some(c),
            format!("{c} has a max length of {n}"),
            &option_field(col, "maxLength"),
            Measure::Count {
                predicate: format!("{q} IS NOT NULL AND length({text}) > {n}"),
            },
            zero(),
            Some("conformity"),
        );
    }
}

/// `minimum` and `maximum`.
fn plan_bounds(b: &mut Builder, col: &Column) {
    let c = col.name.as_str();
    let q = b.sql(col);
    let o = &col.options;
    // v3.0 wrote `exclusiveMinimum: true` to make `minimum` exclusive; v3.1+ gives the bound itself.
    let excl_min_flag = matches!(o.exclusive_minimum, Some(Value::Bool(true)));
    let excl_max_flag = matches!(o.exclusive_maximum, Some(Value::Bool(true)));
    for (kind, bound, op, what, key) in [
        (
            "field_minimum",
            &o.minimum,
            if excl_min_flag { ">" } else { ">=" },
            "a minimum of",
            "minimum",
        ),
        (
            "field_maximum",
            &o.maximum,
            if excl_max_flag { "<" } else { "<=" },
            "a maximum of",
            "maximum",
        ),
    ] {
        let Some(lit) = bound.as_ref().and_then(bound_literal) else {
            continue;
        };
        b.push(
            Category::Schema,
            kind,
            Some(c),
            format!(
                "field `{c}` has {what} {}",
                value_text(bound.as_ref().expect("checked"))
            ),
            &option_field(col, key),
            Measure::Count {
                predicate: format!("{q} IS NOT NULL AND NOT ({q} {op} {lit})"),
            },
            zero(),
            Some("conformity"),
        );
    }
}

/// v3.1+ `exclusiveMinimum` and `exclusiveMaximum` given as bounds.
fn plan_exclusive_bounds(b: &mut Builder, col: &Column) {
    let c = col.name.as_str();
    let q = b.sql(col);
    let o = &col.options;
    // As datacontract-cli, an inclusive bound plus "is not equal to the bound".
    for (bound, op, what, key) in [
        (&o.exclusive_minimum, ">=", "a minimum of", "exclusiveMinimum"),
        (&o.exclusive_maximum, "<=", "a maximum of", "exclusiveMaximum"),
    ] {
        let Some(v) = bound.as_ref().filter(|v| !v.is_bool()) else {
            continue;
        };
        let Some(lit) = bound_literal(v) else { continue };
        let kind = if key == "exclusiveMinimum" {
            "field_minimum"
        } else {
            "field_maximum"
        };
        b.push(
            Category::Schema,
            kind,
            Some(c),
            format!("{c} has {what} {}", value_text(v)),
            &option_field(col, key),
            Measure::Count {
                predicate: format!("{q} IS NOT NULL AND NOT ({q} {op} {lit})"),
            },
            zero(),
            Some("conformity"),
        );
        b.push(
            Category::Schema,
            "field_not_equal",
            Some(c),
            format!("{c} is not equal to {}", value_text(v)),
            &option_field(col, key),
            Measure::Count {
                predicate: format!("{q} IS NOT NULL AND {q} = {lit}"),
            },
            zero(),
            Some("conformity"),
        );
    }
}

/// `multipleOf`: exact on integers, within a rounding tolerance otherwise.
fn plan_multiple_of(b: &mut Builder, col: &Column, fam: Family) {
    let Some(m) = col.options.multiple_of.filter(|m| *m > 0.0) else {
        return;
    };
    let c = col.name.as_str();
    let q = b.sql(col);
    let pred = if fam == Family::Integer && m.fract() == 0.0 {
        format!("{q} IS NOT NULL AND {q} % {} <> 0", m as i64)
    } else {
        format!("{q} IS NOT NULL AND abs(CAST({q} AS DOUBLE) / {m} - round(CAST({q} AS DOUBLE) / {m})) > 1e-9")
    };
    b.push(
        Category::Schema,
        "field_multiple_of",
        Some(c),
        format!("{c} is a multiple of {}", crate::base::format::number(m)),
        &option_field(col, "multipleOf"),
        Measure::Count { predicate: pred },
        zero(),
        Some("conformity"),
    );
}

/// `pattern`: a regular expression the values contain a match of.
fn plan_pattern(b: &mut Builder, col: &Column) {
    let Some(pat) = &col.options.pattern else {
        return;
    };
    let c = col.name.as_str();
    let q = b.sql(col);
    b.push(
        Category::Schema,
        "field_regex",
        Some(c),
        format!("{c} matches regex pattern {pat}"),
        &option_field(col, "pattern"),
        Measure::Count {
            predicate: format!(
                "{q} IS NOT NULL AND NOT regexp_matches({}, {})",
                as_text(&q),
                quote_literal(pat)
            ),
        },
        zero(),
        Some("conformity"),
    );
}

/// The regular expression a known `format` stands for.
fn format_regex(format: &str) -> Option<&'static str> {
    match format.to_ascii_lowercase().as_str() {
        "email" => Some(r"^[^@\s]+@[^@\s]+\.[^@\s]+$"),
        "uuid" => Some(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"),
        "uri" | "url" => Some(r"^[a-zA-Z][a-zA-Z0-9+.-]*:[^\s]*$"),
        "ipv4" => {
            Some(r"^((25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])$")
        }
        "hostname" => {
            Some(r"^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$")
        }
        _ => None,
    }
}

/// `format` (email, uuid, uri, ipv4, hostname) on a text column.
fn plan_format(b: &mut Builder, col: &Column, fam: Family) {
    let Some(fmt) = col.options.format.as_deref().filter(|_| matches!(fam, Family::Text)) else {
        return;
    };
    let Some(re) = format_regex(fmt) else {
        return;
    };
    let c = col.name.as_str();
    let q = b.sql(col);
    b.push(
        Category::Schema,
        "field_format",
        Some(c),
        format!("{c} has format {fmt}"),
        &option_field(col, "format"),
        Measure::Count {
            predicate: format!(
                "{q} IS NOT NULL AND NOT regexp_full_match({}, {})",
                as_text(&q),
                quote_literal(re)
            ),
        },
        zero(),
        Some("conformity"),
    );
}

/// `enum`: the only values allowed.
fn plan_enum(b: &mut Builder, col: &Column) {
    if col.enum_values.is_empty() {
        return;
    }
    let c = col.name.as_str();
    let q = b.sql(col);
    let list: Vec<String> = col.enum_values.iter().map(|v| quote_literal(v)).collect();
    b.push(
        Category::Schema,
        "field_enum",
        Some(c),
        format!("{c} only contains enum values {}", col.enum_values.join(", ")),
        &format!("{}.enum", col.path),
        Measure::Count {
            predicate: format!("{q} IS NOT NULL AND {} NOT IN ({})", as_text(&q), list.join(", ")),
        },
        zero(),
        Some("conformity"),
    );
}

/// `Some(reason)` when a library rule cannot be tested as written (datacontract-cli reports these as warnings).
fn unrunnable(rule: &QualityRule, metric: &Metric, on_column: bool) -> Option<String> {
    let level_ok = match metric {
        Metric::RowCount => !on_column,
        Metric::DuplicateValues => true,
        Metric::NullValues | Metric::MissingValues | Metric::InvalidValues => on_column,
        Metric::Other(m) => {
            return Some(format!(
                "Metric {m} is not supported. Supported metrics are rowCount, duplicateValues, nullValues, missingValues, invalidValues."
            ));
        }
    };
    if !level_ok {
        let (supported, declared) = if on_column {
            ("schema", "property")
        } else {
            ("property", "schema")
        };
        return Some(format!(
            "Metric {} is only supported at {supported} level, but this rule is declared at {declared} level.",
            metric.name()
        ));
    }
    if rule.percent
        && !matches!(
            metric,
            Metric::NullValues | Metric::MissingValues | Metric::InvalidValues
        )
    {
        return Some(format!("unit: percent is not supported for {}.", metric.name()));
    }
    if *metric == Metric::InvalidValues && rule.valid_values.is_empty() && rule.pattern.is_none() {
        return Some("invalidValues needs arguments.validValues or arguments.pattern.".into());
    }
    if *metric == Metric::DuplicateValues && !on_column && rule.properties.is_empty() {
        return Some(
            "duplicateValues on a table needs arguments.properties (the columns that must be unique together).".into(),
        );
    }
    if rule.threshold.is_none() {
        return Some("The rule has no valid comparator.".into());
    }
    None
}

/// Plans one quality rule of the table (`col` None) or of a column; a rule with nothing to go on plans nothing.
fn plan_rule(b: &mut Builder, rule: &QualityRule, col: Option<&Column>, index: usize, load: &TableLoad) {
    let c = col.map(|c| c.name.as_str());
    let described = rule.name.clone().or_else(|| rule.description.clone());
    let planned = match rule.kind {
        RuleKind::Text => plan_text_rule(b, rule, c, index, described),
        RuleKind::Custom => plan_custom_rule(b, rule, c, index, described),
        RuleKind::Sql => match plan_sql_rule(b, rule, c, index, described) {
            Some(p) => p,
            None => return,
        },
        RuleKind::Library => match plan_library_rule(b, rule, col, index, described, load) {
            Some(p) => p,
            None => return,
        },
    };
    planned.result.quality_id = rule.id.clone();
    planned.result.severity = rule.severity.clone();
    planned.result.dimension = rule.dimension.clone().or(planned.result.dimension.take());
    planned.warn_only = is_warning_severity(rule.severity.as_deref());
    planned.percent = rule.percent;
}

/// A rule check keyed by its position among the rules: `field_quality_{what}` or `model_quality_{what}`.
#[allow(clippy::too_many_arguments)]
fn push_positional<'b>(
    b: &'b mut Builder,
    rule: &QualityRule,
    c: Option<&str>,
    index: usize,
    what: &str,
    name: String,
    measure: Measure,
    threshold: Option<Threshold>,
) -> &'b mut Planned {
    let table_name = b.table.name.clone();
    let level = if c.is_some() { "field" } else { "model" };
    let p = b.push(
        Category::Quality,
        &format!("{level}_quality_{what}"),
        c,
        name,
        &rule.path,
        measure,
        threshold,
        rule.dimension.as_deref(),
    );
    p.result.key = rule_key(&table_name, c, &p.result.kind, index);
    p
}

/// A text rule: an expectation for people, skipped.
fn plan_text_rule<'b>(
    b: &'b mut Builder,
    rule: &QualityRule,
    c: Option<&str>,
    index: usize,
    described: Option<String>,
) -> &'b mut Planned {
    push_positional(
        b,
        rule,
        c,
        index,
        "text",
        described.unwrap_or_else(|| "text rule".into()),
        Measure::Preset {
            status: CheckStatus::Skipped,
            reason: "text rules describe an expectation for people; there is nothing to execute".into(),
        },
        None,
    )
}

/// A custom rule: meant for another engine, skipped.
fn plan_custom_rule<'b>(
    b: &'b mut Builder,
    rule: &QualityRule,
    c: Option<&str>,
    index: usize,
    described: Option<String>,
) -> &'b mut Planned {
    let engine = rule.engine.clone().unwrap_or_else(|| "an unnamed engine".into());
    push_positional(
        b,
        rule,
        c,
        index,
        "custom",
        described.unwrap_or_else(|| format!("custom rule for {engine}")),
        Measure::Preset {
            status: CheckStatus::Skipped,
            reason: format!("custom rules for {engine} run in that engine; meshbox does not execute them"),
        },
        None,
    )
}

/// An SQL rule with its placeholders and environment variables substituted; None without a query.
fn plan_sql_rule<'b>(
    b: &'b mut Builder,
    rule: &QualityRule,
    c: Option<&str>,
    index: usize,
    described: Option<String>,
) -> Option<&'b mut Planned> {
    let query = rule.query.as_deref()?;
    let substituted = substitute_placeholders(query, &b.table.name, c);
    let measure = match crate::base::vars::resolve_env(&substituted) {
        Ok(q) => Measure::Sql { query: q },
        Err(e) => Measure::Preset {
            status: CheckStatus::Fail,
            reason: e,
        },
    };
    let measure = match (&measure, rule.threshold) {
        (Measure::Sql { .. }, None) => Measure::Preset {
            status: CheckStatus::Warn,
            reason: "The rule has no valid comparator.".into(),
        },
        _ => measure,
    };
    Some(push_positional(
        b,
        rule,
        c,
        index,
        "sql",
        described.unwrap_or_else(|| "Quality Check".into()),
        measure,
        rule.threshold,
    ))
}

/// A library rule (a named metric), or a warning when it cannot be tested as written; None without a metric.
fn plan_library_rule<'b>(
    b: &'b mut Builder,
    rule: &QualityRule,
    col: Option<&Column>,
    index: usize,
    described: Option<String>,
    load: &TableLoad,
) -> Option<&'b mut Planned> {
    let c = col.map(|c| c.name.as_str());
    let metric = rule.metric.clone()?;
    let Some(reason) = unrunnable(rule, &metric, c.is_some()) else {
        return Some(plan_metric(b, rule, &metric, col, described, load));
    };
    let name = described.unwrap_or_else(|| format!("Quality rule on {} cannot be tested", b.table.name));
    Some(push_positional(
        b,
        rule,
        c,
        index,
        "library",
        name,
        Measure::Preset {
            status: CheckStatus::Warn,
            reason,
        },
        rule.threshold,
    ))
}

/// datacontract-cli's key for a rule that is keyed by position: `orders__amount__quality_sql_1`, `orders__quality_sql_0`.
fn rule_key(table: &str, column: Option<&str>, kind: &str, index: usize) -> String {
    let suffix = kind.trim_start_matches("field_").trim_start_matches("model_");
    match column {
        Some(c) => format!("{table}__{c}__{suffix}_{index}"),
        None => format!("{table}__{suffix}_{index}"),
    }
}

/// A library rule that can be tested: what its metric measures, keyed by kind rather than position.
fn plan_metric<'b>(
    b: &'b mut Builder,
    rule: &QualityRule,
    metric: &Metric,
    col: Option<&Column>,
    described: Option<String>,
    load: &TableLoad,
) -> &'b mut Planned {
    let c = col.map(|c| c.name.as_str());
    let (kind, name, measure) = metric_check(&b.table.name, rule, metric, c, load);
    let reads = match &measure {
        Measure::RowCount => Reads::Columns(Vec::new()),
        Measure::Duplicates { columns } => Reads::Columns(columns.clone()),
        _ => c.map(Reads::column).unwrap_or_default(),
    };
    let p = b.push(
        Category::Quality,
        kind,
        c,
        described.unwrap_or(name),
        &rule.path,
        measure,
        rule.threshold,
        None,
    );
    p.result.reads = reads;
    p
}

/// A metric's check kind, default name and measure.
fn metric_check(
    table: &str,
    rule: &QualityRule,
    metric: &Metric,
    c: Option<&str>,
    load: &TableLoad,
) -> (&'static str, String, Measure) {
    let q = c.map(quote_ident).unwrap_or_default();
    let thr = rule.threshold.map(|t| t.to_string()).unwrap_or_default();
    match metric {
        Metric::RowCount => ("row_count", format!("{table} has row count {thr}"), Measure::RowCount),
        Metric::NullValues => (
            "field_null_values",
            format!("{} has null values {thr}", c.unwrap_or_default()),
            Measure::Count {
                predicate: format!("{q} IS NULL"),
            },
        ),
        Metric::MissingValues => (
            "field_missing_values",
            format!("{} has missing values {thr}", c.unwrap_or_default()),
            Measure::Count {
                predicate: missing_values_predicate(rule, &q),
            },
        ),
        Metric::InvalidValues => (
            "field_invalid_values",
            format!("{} has invalid values {thr}", c.unwrap_or_default()),
            Measure::Count {
                predicate: invalid_values_predicate(rule, c, &q, load),
            },
        ),
        Metric::DuplicateValues => match c {
            Some(c) => (
                "field_duplicate_values",
                format!("{c} has duplicate values {thr}"),
                Measure::Duplicates {
                    columns: vec![c.to_string()],
                },
            ),
            None => (
                "model_duplicate_values",
                format!(
                    "table `{table}` has duplicate values {thr} for ({})",
                    rule.properties.join(", ")
                ),
                Measure::Duplicates {
                    columns: rule.properties.clone(),
                },
            ),
        },
        Metric::Other(_) => unreachable!("rejected by unrunnable()"),
    }
}

/// Rows that are NULL or one of the rule's `missingValues`.
fn missing_values_predicate(rule: &QualityRule, q: &str) -> String {
    let values: Vec<String> = rule.missing_values.iter().filter_map(yaml_literal).collect();
    if values.is_empty() {
        format!("{q} IS NULL")
    } else {
        format!("{q} IS NULL OR {} IN ({})", as_text(q), values.join(", "))
    }
}

/// Non-NULL rows outside the rule's `validValues` or not matching its `pattern`; numbers compare as numbers on a
/// numeric column.
fn invalid_values_predicate(rule: &QualityRule, c: Option<&str>, q: &str, load: &TableLoad) -> String {
    let text = as_text(q);
    let loaded = load
        .columns
        .iter()
        .find(|lc| Some(lc.name.as_str()) == c)
        .map(|lc| lc.data_type.as_str())
        .unwrap_or("");
    let numeric = matches!(family(loaded), Family::Integer | Family::Number)
        && rule
            .valid_values
            .iter()
            .all(|v| matches!(v, Value::Number(_) | Value::Null));
    let mut valid = Vec::new();
    let listed: Vec<String> = rule
        .valid_values
        .iter()
        .filter_map(|v| if numeric { bound_literal(v) } else { yaml_literal(v) })
        .collect();
    if !listed.is_empty() {
        let lhs = if numeric { q.to_string() } else { text.clone() };
        valid.push(format!("{lhs} IN ({})", listed.join(", ")));
    }
    if let Some(p) = &rule.pattern {
        valid.push(format!("regexp_matches({text}, {})", quote_literal(p)));
    }
    format!("{q} IS NOT NULL AND NOT ({})", valid.join(" AND "))
}

/// Replaces `{model}`/`${table}`/`'{object}'`… and `{field}`/`${column}`/`"{property}"` placeholders in an SQL rule.
/// Quotes around a placeholder are dropped and the name is quoted as an identifier (as datacontract-cli does).
pub fn substitute_placeholders(query: &str, table: &str, column: Option<&str>) -> String {
    let re = placeholder_regex();
    re.replace_all(query, |caps: &regex::Captures| {
        let name = &caps[2];
        match name {
            "model" | "table" | "object" | "schema" | "dataset" | "project" | "catalog" | "database" => {
                crate::base::sql::quote_ident_if_needed(table)
            }
            "field" | "column" | "property" => match column {
                Some(c) => crate::base::sql::quote_ident_if_needed(c),
                None => caps[0].to_string(),
            },
            _ => caps[0].to_string(),
        }
    })
    .into_owned()
}

fn placeholder_regex() -> &'static regex::Regex {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        regex::Regex::new(r#"(["'`]?)\$?\{(model|table|object|schema|dataset|project|catalog|database|field|column|property)\}["'`]?"#)
            .expect("valid regex")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_in_all_spellings() {
        assert_eq!(
            substitute_placeholders(
                "SELECT COUNT(*) FROM ${table} WHERE ${column} < 0",
                "orders",
                Some("amount")
            ),
            "SELECT COUNT(*) FROM orders WHERE amount < 0"
        );
        assert_eq!(
            substitute_placeholders(
                "SELECT count(*) FROM {model} WHERE \"{field}\" IS NULL",
                "Order Lines",
                Some("qty")
            ),
            "SELECT count(*) FROM \"Order Lines\" WHERE qty IS NULL"
        );
        assert_eq!(substitute_placeholders("FROM '{object}'", "t", None), "FROM t");
        assert_eq!(substitute_placeholders("x > ${LIMIT:-5}", "t", None), "x > ${LIMIT:-5}");
    }
}
