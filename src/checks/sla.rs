//! Service levels measured from the data: freshness/latency (age of the newest `element` value) and retention
//! (age of the oldest), against an injectable "now" so results are reproducible.

use super::{Category, CheckResult, CheckStatus, Origin, Reads};
use crate::base::errors::clean_error;
use crate::base::sql::quote_ident;
use crate::model::manifest::odcs::{Contract, SlaProperty, Threshold};
use duckdb::Connection;
use serde_yaml::Value;
use std::path::Path;

/// Which measured service level a property name means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Freshness,
    Retention,
}

pub fn kind_of(property: &str) -> Option<Kind> {
    match property.trim().to_ascii_lowercase().as_str() {
        "freshness" | "latency" | "ly" => Some(Kind::Freshness),
        "retention" | "re" => Some(Kind::Retention),
        _ => None,
    }
}

/// Seconds in one `unit`. For retention `m` means months (as datacontract-cli reads it); for freshness, minutes.
pub fn unit_seconds(unit: &str, kind: Kind) -> Option<f64> {
    let u = unit.trim().to_ascii_lowercase();
    Some(match u.as_str() {
        "s" | "sec" | "secs" | "second" | "seconds" => 1.0,
        "min" | "mins" | "minute" | "minutes" => 60.0,
        "m" if kind == Kind::Freshness => 60.0,
        "m" | "mo" | "month" | "months" => 30.0 * 86_400.0,
        "h" | "hr" | "hrs" | "hour" | "hours" => 3_600.0,
        "d" | "day" | "days" => 86_400.0,
        "w" | "wk" | "week" | "weeks" => 7.0 * 86_400.0,
        "y" | "yr" | "yrs" | "year" | "years" => 365.0 * 86_400.0,
        _ => return None,
    })
}

/// `P1Y2M10DT2H30M`, with Y = 365 d, M = 30 d, W = 7 d.
fn iso_duration_seconds(text: &str) -> Option<f64> {
    let s = text
        .trim()
        .strip_prefix('P')
        .or_else(|| text.trim().strip_prefix('p'))?;
    let (date, time) = match s.find(['T', 't']) {
        Some(i) => (&s[..i], &s[i + 1..]),
        None => (s, ""),
    };
    let mut total = 0.0;
    let mut parse = |part: &str, units: &[(char, f64)]| -> Option<()> {
        let mut num = String::new();
        for ch in part.chars() {
            if ch.is_ascii_digit() || ch == '.' {
                num.push(ch);
            } else {
                let mult = units.iter().find(|(u, _)| u.eq_ignore_ascii_case(&ch))?.1;
                total += num.parse::<f64>().ok()? * mult;
                num.clear();
            }
        }
        num.is_empty().then_some(())
    };
    parse(
        date,
        &[
            ('Y', 365.0 * 86_400.0),
            ('M', 30.0 * 86_400.0),
            ('W', 7.0 * 86_400.0),
            ('D', 86_400.0),
        ],
    )?;
    parse(time, &[('H', 3_600.0), ('M', 60.0), ('S', 1.0)])?;
    Some(total)
}

/// The declared limit in seconds, or why it cannot be read.
pub fn limit_seconds(sla: &SlaProperty, kind: Kind) -> Result<f64, String> {
    let unit = sla.unit.as_deref().unwrap_or("d");
    let number = match &sla.value {
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(s)) if s.trim().chars().all(|c| c.is_ascii_digit() || c == '.') && !s.trim().is_empty() => {
            s.trim().parse().ok()
        }
        Some(Value::String(s)) => {
            return iso_duration_seconds(s)
                .ok_or_else(|| format!("`{s}` is neither a number nor an ISO 8601 duration"));
        }
        _ => None,
    };
    let n = number.ok_or("the SLA has no numeric `value`")?;
    let per = unit_seconds(unit, kind).ok_or_else(|| format!("unknown unit `{unit}` (use d, h, m, s, y)"))?;
    Ok(n * per)
}

/// Evaluates the measurable SLAs of a contract. `relation` maps a schema object name to its loaded DuckDB table.
pub fn run(
    conn: &Connection,
    contract: &Contract,
    relation: &dyn Fn(&str) -> Option<String>,
    now_micros: i64,
    root: &Path,
) -> Vec<CheckResult> {
    let mut out = Vec::new();
    for sla in &contract.sla {
        let Some(kind) = kind_of(&sla.property) else {
            continue;
        };
        let Some(element) = sla.element.as_deref() else {
            continue;
        };
        for element in element.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            out.push(run_one(conn, contract, sla, kind, element, relation, now_micros, root));
        }
    }
    out
}

impl Kind {
    /// The check kind, the label in check names and the aggregate that picks the value whose age is measured.
    fn names(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Kind::Freshness => ("servicelevel_freshness", "Freshness", "max"),
            Kind::Retention => ("servicelevel_retention", "Retention", "min"),
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn run_one(
    conn: &Connection,
    contract: &Contract,
    sla: &SlaProperty,
    kind: Kind,
    element: &str,
    relation: &dyn Fn(&str) -> Option<String>,
    now_micros: i64,
    root: &Path,
) -> CheckResult {
    let (table, column) = split_element(contract, element);
    let (_, label, agg) = kind.names();
    let mut r = unmeasured_result(contract, sla, kind, &table, &column, root);
    let limit = match limit_seconds(sla, kind) {
        Ok(l) => l,
        Err(e) => {
            r.status = CheckStatus::Fail;
            r.explain_publicly(format!("cannot evaluate the service level: {e}"));
            return r;
        }
    };
    r.threshold = Some(Threshold::MustBeLessThan(limit));
    let object = contract
        .tables
        .iter()
        .find(|t| t.name == table || t.physical_name.as_deref() == Some(table.as_str()));
    let Some(object) = object else {
        r.status = CheckStatus::Skipped;
        r.explain_publicly(format!(
            "`{element}` names no table of this contract, so the service level cannot be measured"
        ));
        return r;
    };
    let Some(rel) = relation(&object.name) else {
        r.status = CheckStatus::Skipped;
        r.explain_publicly(format!("table `{table}` has no data to measure"));
        return r;
    };
    let sql = format!(
        "SELECT epoch_us(TRY_CAST({agg}({c}) AS TIMESTAMP)) FROM {rel}",
        c = quote_ident(&column)
    );
    r.sql = Some(sql.clone());
    judge_age(conn, &sql, &column, label, limit, now_micros, &mut r);
    r
}

/// `table.column`, or a bare column of the contract's first table.
fn split_element(contract: &Contract, element: &str) -> (String, String) {
    match element.split_once('.') {
        Some((t, c)) => (t.to_string(), c.to_string()),
        None => (
            contract.tables.first().map(|t| t.name.clone()).unwrap_or_default(),
            element.to_string(),
        ),
    }
}

/// The result as it stands before anything is measured: named, located in the contract, status `Error`.
fn unmeasured_result(
    contract: &Contract,
    sla: &SlaProperty,
    kind: Kind,
    table: &str,
    column: &str,
    root: &Path,
) -> CheckResult {
    let (kind_name, label, _) = kind.names();
    let (line, _) = contract.doc.position(&sla.path).unwrap_or((0, 0));
    CheckResult {
        key: format!("{table}__{column}__{kind_name}"),
        category: Category::Servicelevel,
        kind: kind_name.into(),
        name: format!(
            "{label} of {table}.{column} < {}{}",
            sla.value
                .as_ref()
                .and_then(crate::base::yaml::scalar_text)
                .unwrap_or_default(),
            sla.unit.as_deref().unwrap_or("d")
        ),
        table: Some(table.to_string()),
        column: Some(column.to_string()),
        quality_id: sla.id.clone(),
        dimension: Some(
            if kind == Kind::Freshness {
                "timeliness"
            } else {
                "conformity"
            }
            .into(),
        ),
        severity: None,
        status: CheckStatus::Error,
        measured: None,
        unit: Some("seconds".into()),
        count: None,
        row_count: None,
        threshold: None,
        reason: None,
        sql: None,
        origin: Some(Origin {
            file: contract
                .doc
                .file
                .strip_prefix(root)
                .map(Path::to_path_buf)
                .unwrap_or_else(|_| contract.doc.file.clone()),
            line: (line > 0).then_some(line),
            field: sla.path.clone(),
        }),
        samples: None,
        // The age of the newest (oldest) value is that value, seen from now.
        reads: Reads::column(column),
        public_reason: None,
    }
}

/// Runs `sql` for the newest (oldest) timestamp and passes the result if its age from now is under `limit`.
fn judge_age(
    conn: &Connection,
    sql: &str,
    column: &str,
    label: &str,
    limit: f64,
    now_micros: i64,
    r: &mut CheckResult,
) {
    match conn.query_row(sql, [], |row| row.get::<_, Option<i64>>(0)) {
        Err(e) => {
            let e = clean_error(e);
            let public = crate::base::errors::public_error(&e);
            r.explain(e, Some(public));
        }
        Ok(None) => {
            r.status = CheckStatus::Fail;
            r.explain(format!("No timestamp value found in '{column}'"), None);
        }
        Ok(Some(ts)) => {
            let age = (now_micros - ts) as f64 / 1e6;
            r.measured = Some(age.round());
            if age < limit {
                r.status = CheckStatus::Pass;
            } else {
                r.status = CheckStatus::Fail;
                r.explain(
                    format!(
                        "{label} is {}s, which exceeds the threshold of {}s",
                        crate::base::format::number(age.round()),
                        crate::base::format::number(limit)
                    ),
                    Some(format!(
                        "{label} exceeds the threshold of {}s",
                        crate::base::format::number(limit)
                    )),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(iso_duration_seconds("P1D"), Some(86_400.0));
        assert_eq!(iso_duration_seconds("PT6H30M"), Some(6.0 * 3600.0 + 1800.0));
        assert_eq!(iso_duration_seconds("P1Y"), Some(365.0 * 86_400.0));
        assert_eq!(iso_duration_seconds("1 day"), None);
        assert_eq!(unit_seconds("m", Kind::Freshness), Some(60.0));
        assert_eq!(unit_seconds("m", Kind::Retention), Some(30.0 * 86_400.0));
    }
}
