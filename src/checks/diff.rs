//! What changed between two versions of an ODCS contract, and whether consumers would break: removed or renamed
//! columns, narrowed types, new `required`/`unique`, removed enum values, tightened constraints, changed primary
//! keys and weakened SLAs are breaking; additions and loosenings are not; the rest is information.

use crate::base::yaml::scalar_text;
use crate::checks::sla::{Kind, kind_of, unit_seconds};
use crate::model::manifest::odcs::{Column, Contract, SlaProperty, Table};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Impact {
    Breaking,
    NonBreaking,
    Info,
}

impl Impact {
    pub fn as_str(&self) -> &'static str {
        match self {
            Impact::Breaking => "breaking",
            Impact::NonBreaking => "non-breaking",
            Impact::Info => "info",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Change {
    /// A stable name, e.g. `column-removed`, `required-added`, `sla-weakened`.
    pub kind: &'static str,
    pub impact: Impact,
    pub table: Option<String>,
    pub column: Option<String>,
    pub message: String,
    pub old: Option<String>,
    pub new: Option<String>,
}

struct Out(Vec<Change>);

impl Out {
    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        kind: &'static str,
        impact: Impact,
        table: Option<&str>,
        column: Option<&str>,
        message: String,
        old: Option<String>,
        new: Option<String>,
    ) {
        self.0.push(Change {
            kind,
            impact,
            table: table.map(str::to_string),
            column: column.map(str::to_string),
            message,
            old,
            new,
        });
    }
}

fn text(v: &Option<serde_yaml::Value>) -> Option<String> {
    v.as_ref().and_then(scalar_text)
}

fn num(v: &Option<serde_yaml::Value>) -> Option<f64> {
    v.as_ref().and_then(|v| match v {
        serde_yaml::Value::Number(n) => n.as_f64(),
        serde_yaml::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    })
}

/// Order of classifications, least sensitive first; unknown ones sit with `internal`.
fn sensitivity(c: Option<&str>) -> u8 {
    match c.map(|s| s.trim().to_ascii_lowercase()).as_deref() {
        None | Some("") | Some("public") => 0,
        Some("internal") => 1,
        Some("restricted") | Some("pii") | Some("personal") => 2,
        Some("confidential") | Some("sensitive") | Some("secret") => 3,
        Some(_) => 1,
    }
}

/// How a logical type change reads for consumers.
fn logical_change(old: &str, new: &str) -> Impact {
    let (o, n) = (old.to_ascii_lowercase(), new.to_ascii_lowercase());
    match (o.as_str(), n.as_str()) {
        ("integer", "number") | ("date", "timestamp") | (_, "string") => Impact::NonBreaking,
        _ => Impact::Breaking,
    }
}

/// A physical type as (family, size) where a larger size holds every value of a smaller one.
fn physical_rank(t: &str) -> Option<(&'static str, Vec<i64>)> {
    let u = t.trim().to_ascii_uppercase();
    let (base, args) = match u.split_once('(') {
        Some((b, rest)) => (
            b.trim().to_string(),
            rest.trim_end_matches(')')
                .split(',')
                .filter_map(|x| x.trim().parse::<i64>().ok())
                .collect::<Vec<_>>(),
        ),
        None => (u.clone(), Vec::new()),
    };
    let int = |r: i64| Some(("int", vec![r]));
    match base.as_str() {
        "TINYINT" | "INT1" => int(1),
        "SMALLINT" | "INT2" => int(2),
        "INTEGER" | "INT" | "INT4" => int(4),
        "BIGINT" | "INT8" | "LONG" => int(8),
        "HUGEINT" => int(16),
        "FLOAT" | "REAL" | "FLOAT4" => Some(("float", vec![4])),
        "DOUBLE" | "FLOAT8" => Some(("float", vec![8])),
        // DECIMAL(p, s): integer digits p - s and scale s must both not shrink.
        "DECIMAL" | "NUMERIC" => {
            let p = args.first().copied().unwrap_or(18);
            let s = args.get(1).copied().unwrap_or(3);
            Some(("decimal", vec![p - s, s]))
        }
        "VARCHAR" | "TEXT" | "STRING" | "CHAR" => Some(("text", vec![args.first().copied().unwrap_or(i64::MAX)])),
        _ => None,
    }
}

fn physical_change(old: &str, new: &str) -> (&'static str, Impact) {
    if old.trim().eq_ignore_ascii_case(new.trim()) {
        return ("physical-type-unchanged", Impact::Info);
    }
    match (physical_rank(old), physical_rank(new)) {
        (Some((fo, so)), Some((f_n, sn))) if fo == f_n => {
            if so.iter().zip(&sn).all(|(a, b)| b >= a) {
                ("physical-type-widened", Impact::NonBreaking)
            } else {
                ("physical-type-narrowed", Impact::Breaking)
            }
        }
        // Integers fit in doubles and in wide enough decimals; anything fits in unbounded text.
        (Some(("int", _)), Some(("float", s))) if s[0] == 8 => ("physical-type-widened", Impact::NonBreaking),
        (Some(("int", o)), Some(("decimal", d))) if d[0] >= [3, 5, 10, 19, 39][o[0].trailing_zeros() as usize] => {
            ("physical-type-widened", Impact::NonBreaking)
        }
        (_, Some(("text", s))) if s[0] == i64::MAX => ("physical-type-widened", Impact::NonBreaking),
        _ => ("physical-type-changed", Impact::Breaking),
    }
}

/// Columns compared pairwise: by name, then (for removed/added pairs at the same position with the same type) as a rename.
fn diff_columns(t_old: &Table, t_new: &Table, out: &mut Out) {
    let table = Some(t_new.name.as_str());
    let removed: Vec<(usize, &Column)> = t_old
        .columns
        .iter()
        .enumerate()
        .filter(|(_, c)| !t_new.columns.iter().any(|n| n.name == c.name))
        .collect();
    let mut added: Vec<(usize, &Column)> = t_new
        .columns
        .iter()
        .enumerate()
        .filter(|(_, c)| !t_old.columns.iter().any(|o| o.name == c.name))
        .collect();
    for (i, c) in removed {
        let same_type = |n: &Column| n.logical_type == c.logical_type && n.physical_type == c.physical_type;
        if let Some(pos) = added.iter().position(|(j, n)| *j == i && same_type(n)) {
            let (_, n) = added.remove(pos);
            out.push(
                "column-renamed",
                Impact::Breaking,
                table,
                Some(&n.name),
                format!("column `{}` renamed to `{}`", c.name, n.name),
                Some(c.name.clone()),
                Some(n.name.clone()),
            );
            continue;
        }
        out.push(
            "column-removed",
            Impact::Breaking,
            table,
            Some(&c.name),
            format!("column `{}.{}` removed", t_old.name, c.name),
            Some(c.name.clone()),
            None,
        );
    }
    for (_, n) in added {
        if n.required {
            out.push(
                "required-column-added",
                Impact::Breaking,
                table,
                Some(&n.name),
                format!(
                    "required column `{}.{}` added (producers must fill it)",
                    t_new.name, n.name
                ),
                None,
                Some(n.name.clone()),
            );
        } else {
            out.push(
                "column-added",
                Impact::NonBreaking,
                table,
                Some(&n.name),
                format!("column `{}.{}` added", t_new.name, n.name),
                None,
                Some(n.name.clone()),
            );
        }
    }
    for o in &t_old.columns {
        if let Some(n) = t_new.columns.iter().find(|n| n.name == o.name) {
            diff_column(&t_new.name, o, n, out);
        }
    }
}

fn flag(out: &mut Out, table: &str, col: &str, name: &str, old: bool, new: bool, kinds: (&'static str, &'static str)) {
    if old == new {
        return;
    }
    let (kind, impact, verb) = if new {
        (kinds.0, Impact::Breaking, "added")
    } else {
        (kinds.1, Impact::NonBreaking, "removed")
    };
    out.push(
        kind,
        impact,
        Some(table),
        Some(col),
        format!("`{name}` {verb} on `{table}.{col}`"),
        Some(old.to_string()),
        Some(new.to_string()),
    );
}

/// A bound that may move: `tighter_when_higher` for minimums, false for maximums.
#[allow(clippy::too_many_arguments)]
fn bound(
    out: &mut Out,
    table: &str,
    col: &str,
    name: &str,
    old: Option<f64>,
    new: Option<f64>,
    tighter_when_higher: bool,
    kinds: (&'static str, &'static str),
) {
    let tightened = match (old, new) {
        (a, b) if a == b => return,
        (None, Some(_)) => true,
        (Some(_), None) => false,
        (Some(a), Some(b)) => (b > a) == tighter_when_higher,
        (None, None) => return,
    };
    let show = |v: Option<f64>| v.map(crate::base::format::number);
    out.push(
        if tightened { kinds.0 } else { kinds.1 },
        if tightened {
            Impact::Breaking
        } else {
            Impact::NonBreaking
        },
        Some(table),
        Some(col),
        format!(
            "`{name}` of `{table}.{col}` {} ({} → {})",
            if tightened { "tightened" } else { "loosened" },
            show(old).unwrap_or_else(|| "none".into()),
            show(new).unwrap_or_else(|| "none".into())
        ),
        show(old),
        show(new),
    );
}

/// Every change to one column kept under the same name, kind by kind.
fn diff_column(table: &str, o: &Column, n: &Column, out: &mut Out) {
    diff_types(table, o, n, out);
    diff_flags_and_key(table, o, n, out);
    diff_enum(table, o, n, out);
    diff_constraints(table, o, n, out);
    diff_pattern(table, o, n, out);
    diff_classification(table, o, n, out);
    diff_column_docs_and_rules(table, o, n, out);
}

/// Logical and physical type changes: widenings are safe, anything else breaks readers.
fn diff_types(table: &str, o: &Column, n: &Column, out: &mut Out) {
    let col = n.name.as_str();
    match (&o.logical_type, &n.logical_type) {
        (Some(a), Some(b)) if !a.eq_ignore_ascii_case(b) => {
            let impact = logical_change(a, b);
            out.push(
                if impact == Impact::Breaking {
                    "logical-type-changed"
                } else {
                    "logical-type-widened"
                },
                impact,
                Some(table),
                Some(col),
                format!("type of `{table}.{col}` changed from {a} to {b}"),
                Some(a.clone()),
                Some(b.clone()),
            );
        }
        _ => {}
    }
    if let (Some(a), Some(b)) = (&o.physical_type, &n.physical_type) {
        let (kind, impact) = physical_change(a, b);
        if impact != Impact::Info {
            out.push(
                kind,
                impact,
                Some(table),
                Some(col),
                format!("physical type of `{table}.{col}`: {a} → {b}"),
                Some(a.clone()),
                Some(b.clone()),
            );
        }
    }
}

/// `required`, `unique` and the column's place in the primary key.
fn diff_flags_and_key(table: &str, o: &Column, n: &Column, out: &mut Out) {
    let col = n.name.as_str();
    flag(
        out,
        table,
        col,
        "required",
        o.required,
        n.required,
        ("required-added", "required-removed"),
    );
    flag(
        out,
        table,
        col,
        "unique",
        o.unique,
        n.unique,
        ("unique-added", "unique-removed"),
    );
    if o.primary_key != n.primary_key || (o.primary_key && o.primary_key_position != n.primary_key_position) {
        out.push(
            "primary-key-changed",
            Impact::Breaking,
            Some(table),
            Some(col),
            format!(
                "`{table}.{col}` {} the primary key",
                if n.primary_key {
                    "joined or moved within"
                } else {
                    "left"
                }
            ),
            Some(o.primary_key.to_string()),
            Some(n.primary_key.to_string()),
        );
    }
}

/// Enum values removed (breaking), added to an existing enum (safe), or an enum newly imposed (breaking).
fn diff_enum(table: &str, o: &Column, n: &Column, out: &mut Out) {
    let col = n.name.as_str();
    for v in o.enum_values.iter().filter(|v| !n.enum_values.contains(v)) {
        out.push(
            "enum-value-removed",
            Impact::Breaking,
            Some(table),
            Some(col),
            format!("value `{v}` no longer allowed in `{table}.{col}`"),
            Some(v.clone()),
            None,
        );
    }
    if !o.enum_values.is_empty() {
        for v in n.enum_values.iter().filter(|v| !o.enum_values.contains(v)) {
            out.push(
                "enum-value-added",
                Impact::NonBreaking,
                Some(table),
                Some(col),
                format!("value `{v}` now allowed in `{table}.{col}`"),
                None,
                Some(v.clone()),
            );
        }
    } else if !n.enum_values.is_empty() {
        out.push(
            "enum-added",
            Impact::Breaking,
            Some(table),
            Some(col),
            format!("`{table}.{col}` is now limited to {}", n.enum_values.join(", ")),
            None,
            Some(n.enum_values.join(", ")),
        );
    }
}

/// Length and value bounds that moved.
fn diff_constraints(table: &str, o: &Column, n: &Column, out: &mut Out) {
    let col = n.name.as_str();
    let (oo, no) = (&o.options, &n.options);
    let f = |v: Option<i64>| v.map(|x| x as f64);
    bound(
        out,
        table,
        col,
        "minLength",
        f(oo.min_length),
        f(no.min_length),
        true,
        ("min-length-raised", "min-length-lowered"),
    );
    bound(
        out,
        table,
        col,
        "maxLength",
        f(oo.max_length),
        f(no.max_length),
        false,
        ("max-length-lowered", "max-length-raised"),
    );
    bound(
        out,
        table,
        col,
        "minimum",
        num(&oo.minimum),
        num(&no.minimum),
        true,
        ("minimum-raised", "minimum-lowered"),
    );
    bound(
        out,
        table,
        col,
        "maximum",
        num(&oo.maximum),
        num(&no.maximum),
        false,
        ("maximum-lowered", "maximum-raised"),
    );
}

/// A `pattern` added or changed (breaking) or removed (safe).
fn diff_pattern(table: &str, o: &Column, n: &Column, out: &mut Out) {
    let col = n.name.as_str();
    match (&o.options.pattern, &n.options.pattern) {
        (None, Some(p)) => out.push(
            "pattern-added",
            Impact::Breaking,
            Some(table),
            Some(col),
            format!("`{table}.{col}` must now match `{p}`"),
            None,
            Some(p.clone()),
        ),
        (Some(a), Some(b)) if a != b => out.push(
            "pattern-changed",
            Impact::Breaking,
            Some(table),
            Some(col),
            format!("pattern of `{table}.{col}` changed from `{a}` to `{b}`"),
            Some(a.clone()),
            Some(b.clone()),
        ),
        (Some(a), None) => out.push(
            "pattern-removed",
            Impact::NonBreaking,
            Some(table),
            Some(col),
            format!("`{table}.{col}` no longer has to match `{a}`"),
            Some(a.clone()),
            None,
        ),
        _ => {}
    }
}

/// A classification raised (consumers may lose access) or lowered.
fn diff_classification(table: &str, o: &Column, n: &Column, out: &mut Out) {
    let col = n.name.as_str();
    if o.classification.as_deref().map(str::to_ascii_lowercase)
        == n.classification.as_deref().map(str::to_ascii_lowercase)
    {
        return;
    }
    let stricter = sensitivity(n.classification.as_deref()) > sensitivity(o.classification.as_deref());
    out.push(
        if stricter {
            "classification-raised"
        } else {
            "classification-lowered"
        },
        if stricter {
            Impact::Breaking
        } else {
            Impact::NonBreaking
        },
        Some(table),
        Some(col),
        format!(
            "classification of `{table}.{col}`: {} → {}{}",
            o.classification.as_deref().unwrap_or("none"),
            n.classification.as_deref().unwrap_or("none"),
            if stricter {
                " (some consumers may lose access or see it masked)"
            } else {
                ""
            }
        ),
        o.classification.clone(),
        n.classification.clone(),
    );
}

/// The column's description and how many quality rules it has.
fn diff_column_docs_and_rules(table: &str, o: &Column, n: &Column, out: &mut Out) {
    let col = n.name.as_str();
    if o.description != n.description {
        out.push(
            "column-description-changed",
            Impact::NonBreaking,
            Some(table),
            Some(col),
            format!("description of `{table}.{col}` changed"),
            o.description.clone(),
            n.description.clone(),
        );
    }
    let on = format!("on `{table}.{col}`");
    diff_rule_count(
        o.quality.len(),
        n.quality.len(),
        "quality rule(s)",
        &on,
        (table, Some(col)),
        out,
    );
}

/// Quality rules added or removed (counted: rules have no identity to match them by), on a column or a table.
fn diff_rule_count(old: usize, new: usize, what: &str, on: &str, at: (&str, Option<&str>), out: &mut Out) {
    if old == new {
        return;
    }
    let (kind, verb) = if new > old {
        ("quality-rule-added", "added")
    } else {
        ("quality-rule-removed", "removed")
    };
    out.push(
        kind,
        Impact::NonBreaking,
        Some(at.0),
        at.1,
        format!("{} {what} {verb} {on}", new.abs_diff(old)),
        Some(old.to_string()),
        Some(new.to_string()),
    );
}

/// An SLA value in seconds (freshness/latency and retention), when its unit is known.
fn sla_seconds(s: &SlaProperty) -> Option<(Kind, f64)> {
    let kind = kind_of(&s.property)?;
    let value = num(&s.value)?;
    let unit = s.unit.as_deref().unwrap_or("d");
    Some((kind, value * unit_seconds(unit, kind)?))
}

/// Every change from `old` to `new`, breaking first.
pub fn diff(old: &Contract, new: &Contract) -> Vec<Change> {
    let mut out = Out(Vec::new());
    diff_identity(old, new, &mut out);
    diff_tables(old, new, &mut out);
    diff_slas(old, new, &mut out);
    diff_servers(old, new, &mut out);
    let mut changes = out.0;
    changes.sort_by_key(|c| c.impact);
    changes
}

/// The contract's id (breaking: consumers name it), version, status and description.
fn diff_identity(old: &Contract, new: &Contract, out: &mut Out) {
    if old.id != new.id {
        out.push(
            "id-changed",
            Impact::Breaking,
            None,
            None,
            "the contract `id` changed: consumers name contracts by id in their input ports".into(),
            old.id.clone(),
            new.id.clone(),
        );
    }
    if old.version != new.version {
        out.push(
            "version-changed",
            Impact::Info,
            None,
            None,
            format!(
                "version {} → {}",
                old.version.as_deref().unwrap_or("none"),
                new.version.as_deref().unwrap_or("none")
            ),
            old.version.clone(),
            new.version.clone(),
        );
    }
    if old.status != new.status {
        let retiring = new
            .status
            .as_deref()
            .is_some_and(|s| matches!(s.to_ascii_lowercase().as_str(), "deprecated" | "retired"));
        out.push(
            "status-changed",
            Impact::Info,
            None,
            None,
            format!(
                "status {} → {}{}",
                old.status.as_deref().unwrap_or("none"),
                new.status.as_deref().unwrap_or("none"),
                if retiring {
                    " (consumers should plan to move)"
                } else {
                    ""
                }
            ),
            old.status.clone(),
            new.status.clone(),
        );
    }
    if old.description != new.description {
        out.push(
            "description-changed",
            Impact::NonBreaking,
            None,
            None,
            "the contract's description changed".into(),
            old.description.purpose.clone(),
            new.description.purpose.clone(),
        );
    }
}

/// Tables removed, changed (by name) and added.
fn diff_tables(old: &Contract, new: &Contract, out: &mut Out) {
    for t in &old.tables {
        match new.tables.iter().find(|n| n.name == t.name) {
            None => out.push(
                "table-removed",
                Impact::Breaking,
                Some(&t.name),
                None,
                format!("table `{}` removed", t.name),
                Some(t.name.clone()),
                None,
            ),
            Some(n) => diff_table(t, n, out),
        }
    }
    for n in new
        .tables
        .iter()
        .filter(|n| !old.tables.iter().any(|t| t.name == n.name))
    {
        out.push(
            "table-added",
            Impact::NonBreaking,
            Some(&n.name),
            None,
            format!("table `{}` added", n.name),
            None,
            Some(n.name.clone()),
        );
    }
}

/// One table kept under the same name: its physical name, its columns and how many quality rules it has.
fn diff_table(t: &Table, n: &Table, out: &mut Out) {
    if t.physical_name != n.physical_name {
        out.push(
            "physical-name-changed",
            Impact::Breaking,
            Some(&t.name),
            None,
            format!("physical name of `{}` changed", t.name),
            t.physical_name.clone(),
            n.physical_name.clone(),
        );
    }
    diff_columns(t, n, out);
    let on = format!("on `{}`", t.name);
    diff_rule_count(
        t.quality.len(),
        n.quality.len(),
        "table quality rule(s)",
        &on,
        (&t.name, None),
        out,
    );
}

/// SLAs removed, changed and added.
fn diff_slas(old: &Contract, new: &Contract, out: &mut Out) {
    for s in &old.sla {
        let same = new.sla.iter().find(|n| {
            n.property.eq_ignore_ascii_case(&s.property) && n.element == s.element
                || (n.property.eq_ignore_ascii_case(&s.property) && s.element.is_none())
        });
        match same {
            None => out.push(
                "sla-removed",
                Impact::Breaking,
                None,
                None,
                format!("SLA `{}` removed", s.property),
                text(&s.value),
                None,
            ),
            Some(n) => diff_sla(s, n, out),
        }
    }
    for n in new
        .sla
        .iter()
        .filter(|n| !old.sla.iter().any(|s| s.property.eq_ignore_ascii_case(&n.property)))
    {
        out.push(
            "sla-added",
            Impact::NonBreaking,
            None,
            None,
            format!("SLA `{}` added", n.property),
            None,
            text(&n.value),
        );
    }
}

/// One SLA in both versions: weakened or tightened when both values are durations, otherwise just changed.
fn diff_sla(s: &SlaProperty, n: &SlaProperty, out: &mut Out) {
    let (Some((kind, a)), Some((_, b))) = (sla_seconds(s), sla_seconds(n)) else {
        if text(&s.value) != text(&n.value) || s.unit != n.unit {
            out.push(
                "sla-changed",
                Impact::Info,
                None,
                None,
                format!("SLA `{}` changed", s.property),
                text(&s.value),
                text(&n.value),
            );
        }
        return;
    };
    // Freshness is weaker when the allowed age grows; retention when data is kept shorter.
    let weaker = match kind {
        Kind::Freshness => b > a,
        Kind::Retention => b < a,
    };
    if a != b {
        out.push(
            if weaker { "sla-weakened" } else { "sla-tightened" },
            if weaker { Impact::Breaking } else { Impact::NonBreaking },
            None,
            None,
            format!(
                "SLA `{}` {}: {} {} → {} {}",
                s.property,
                if weaker { "weakened" } else { "tightened" },
                text(&s.value).unwrap_or_default(),
                s.unit.as_deref().unwrap_or(""),
                text(&n.value).unwrap_or_default(),
                n.unit.as_deref().unwrap_or("")
            ),
            text(&s.value),
            text(&n.value),
        );
    }
}

/// Where the data is served from.
fn diff_servers(old: &Contract, new: &Contract, out: &mut Out) {
    let server = |c: &Contract| {
        c.servers
            .iter()
            .map(|s| {
                format!(
                    "{}:{}",
                    s.kind.as_deref().unwrap_or(""),
                    s.path.as_deref().unwrap_or("")
                )
            })
            .collect::<Vec<_>>()
    };
    if server(old) != server(new) {
        out.push(
            "servers-changed",
            Impact::Info,
            None,
            None,
            "where the data is served from changed".into(),
            Some(server(old).join(", ")),
            Some(server(new).join(", ")),
        );
    }
}

/// The major part of a semantic version (`2.1.0` → 2).
pub fn major(version: Option<&str>) -> Option<u64> {
    version?
        .trim()
        .trim_start_matches(['v', 'V'])
        .split('.')
        .next()?
        .parse()
        .ok()
}

/// The changes as text, JSON or Markdown.
pub fn render(changes: &[Change], old: &str, new: &str, format: &str) -> String {
    let breaking = changes.iter().filter(|c| c.impact == Impact::Breaking).count();
    match format {
        "json" => {
            serde_json::to_string_pretty(&serde_json::json!({
                "old": old,
                "new": new,
                "breaking": breaking,
                "changes": changes,
            }))
            .expect("changes serialize")
                + "\n"
        }
        "markdown" => {
            let mut s = format!(
                "## Changes from `{old}` to `{new}`\n\n{} change(s), {breaking} breaking.\n\n| impact | change | where | details |\n|---|---|---|---|\n",
                changes.len()
            );
            for c in changes {
                let at = match (&c.table, &c.column) {
                    (Some(t), Some(col)) => format!("`{t}.{col}`"),
                    (Some(t), None) => format!("`{t}`"),
                    _ => "contract".into(),
                };
                s.push_str(&format!(
                    "| {} | {} | {at} | {} |\n",
                    c.impact.as_str(),
                    c.kind,
                    c.message.replace('|', "\\|")
                ));
            }
            s
        }
        _ => {
            let mut s = String::new();
            for c in changes {
                s.push_str(&format!("{:<13} {:<26} {}\n", c.impact.as_str(), c.kind, c.message));
            }
            s.push_str(&format!(
                "{} change(s) from {old} to {new}: {breaking} breaking\n",
                changes.len()
            ));
            s
        }
    }
}
