//! Measures planned checks against a loaded table: one aggregate scan for every count, one GROUP BY per key set,
//! one query per SQL rule; then verdicts and failed-row samples with classified columns masked.

use super::plan::{Measure, Planned};
use super::{CheckResult, CheckStatus, Reads};
use crate::base::errors::clean_error;
use crate::base::errors::public_error;
use crate::base::sql::quote_ident;
use crate::load::ingest::read_sample;
use crate::model::catalog::Sample;
use crate::model::manifest::odcs::{Column, Table, Threshold};
use duckdb::Connection;
use std::collections::HashMap;

/// What is shown instead of a protected value.
pub const MASK: &str = "•••";

/// A column whose values are not shown in samples and messages: any classification but `public`.
pub fn is_classified(col: &Column) -> bool {
    col.classification
        .as_deref()
        .is_some_and(|c| !c.trim().is_empty() && !c.trim().eq_ignore_ascii_case("public"))
}

pub fn mask_if(col: &Column, value: &str) -> String {
    if is_classified(col) {
        MASK.to_string()
    } else {
        format!("{value:?}")
    }
}

/// The table being checked: where it is in DuckDB and what the contract says about it.
pub struct Target<'a> {
    pub conn: &'a Connection,
    /// The rows under test: the qualified DuckDB name, e.g. `"s3"."orders"`, or a subquery keeping the rows a
    /// `--filter` selects.
    pub relation: String,
    /// The whole table (`relation` without the filter): a filtered row is a duplicate of any row of it.
    pub whole: String,
    pub table: &'a Table,
    pub row_count: u64,
    /// Accepts or refuses a contract's SQL rule before it runs (single read-only SELECT).
    pub guard: &'a dyn Fn(&str) -> Result<(), String>,
}

/// Runs every planned check of one table and returns the verdicts, in plan order.
pub fn run_table(target: &Target, planned: Vec<Planned>) -> Vec<CheckResult> {
    let counts = measure_counts(target, &planned);
    let mut dup_cache = DuplicateCache::new();
    let mut out = Vec::with_capacity(planned.len());
    for (i, p) in planned.into_iter().enumerate() {
        let mut r = p.result.clone();
        r.row_count = Some(target.row_count);
        if let Some(measured) = measure_check(target, &p.measure, &counts[i], &mut dup_cache, &mut r) {
            judge(target, &p, measured, &mut r);
        }
        out.push(r);
    }
    out
}

/// Duplicate measures by key set, so checks over the same keys share one GROUP BY.
type DuplicateCache = HashMap<Vec<String>, Result<(u64, u64), String>>;

/// The measured value of one check, recording on `r` the SQL that stands for it. None when the verdict is decided
/// from the contract alone (`r` then holds it).
fn measure_check(
    target: &Target,
    measure: &Measure,
    count: &Result<Option<u64>, String>,
    dup_cache: &mut DuplicateCache,
    r: &mut CheckResult,
) -> Option<Result<Option<f64>, String>> {
    Some(match measure {
        Measure::Preset { status, reason } => {
            // Decided from the contract alone: nothing measured, nothing from the data in the reason.
            r.status = *status;
            r.reads = Reads::Schema;
            r.explain_publicly(reason.clone());
            return None;
        }
        Measure::Known { value } => Ok(Some(*value)),
        Measure::RowCount => {
            r.sql = Some(format!("SELECT count(*) FROM {}", quote_ident(&target.table.name)));
            Ok(Some(target.row_count as f64))
        }
        Measure::Count { predicate } => {
            r.sql = Some(format!(
                "SELECT count(*) FROM {} WHERE {predicate}",
                quote_ident(&target.table.name)
            ));
            count.clone().map(|v| v.map(|n| n as f64))
        }
        Measure::Duplicates { columns } => {
            r.sql = Some(duplicates_sql(&quote_ident(&target.table.name), columns));
            let res = dup_cache
                .entry(columns.clone())
                .or_insert_with(|| measure_duplicates(target, columns))
                .clone();
            res.map(|(groups, rows)| {
                r.count = Some(rows);
                Some(groups as f64)
            })
        }
        Measure::Sql { query } => {
            r.sql = Some(query.clone());
            run_sql_rule(target, query, &mut r.reads)
        }
    })
}

/// The verdict on a measured value: an error, a missing value, or the value against the threshold.
fn judge(target: &Target, p: &Planned, measured: Result<Option<f64>, String>, r: &mut CheckResult) {
    match measured {
        Err(e) => {
            // DuckDB's message may quote a cell (a failed conversion, `error(column)`): kept for roles that
            // may see what the check reads, reduced to its error class for everyone else.
            r.status = CheckStatus::Error;
            let public = public_error(&e);
            r.explain(e, Some(public));
        }
        Ok(None) => {
            r.status = if p.warn_only {
                CheckStatus::Warn
            } else {
                CheckStatus::Fail
            };
            r.explain(
                format!("the query returned no value, expected {}", r.threshold_text()),
                None,
            );
        }
        Ok(Some(count)) => judge_value(target, p, count, r),
    }
}

/// Passes or fails a measured count (as a share of the rows for percent checks); a miss gets its reason and
/// failed-row samples.
fn judge_value(target: &Target, p: &Planned, count: f64, r: &mut CheckResult) {
    let value = if p.percent {
        r.count = Some(count as u64);
        r.unit = Some("percent".into());
        if target.row_count == 0 {
            0.0
        } else {
            round6(count / target.row_count as f64 * 100.0)
        }
    } else {
        count
    };
    r.measured = Some(value);
    let holds = r.threshold.map(|t: Threshold| t.holds(value)).unwrap_or(true);
    if holds {
        r.status = CheckStatus::Pass;
        return;
    }
    r.status = if p.warn_only {
        CheckStatus::Warn
    } else {
        CheckStatus::Fail
    };
    if r.reason.is_none() {
        let public = format!(
            "misses the expected {}; the measured value is not shown to this role",
            r.threshold_text()
        );
        r.public_reason = Some(public);
        r.reason = Some(if p.percent {
            format!(
                "measured {} % ({} of {} rows), expected {}",
                crate::base::format::number(value),
                count as u64,
                target.row_count,
                r.threshold_text()
            )
        } else {
            format!(
                "measured {}, expected {}",
                crate::base::format::number(value),
                r.threshold_text()
            )
        });
    }
    r.samples = failed_rows(target, &p.measure);
}

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// One aggregate scan for every `Count` measure. If it fails (an invalid regex, say), each count runs alone so one
/// broken check does not take the others down.
fn measure_counts(target: &Target, planned: &[Planned]) -> Vec<Result<Option<u64>, String>> {
    let mut results: Vec<Result<Option<u64>, String>> = vec![Ok(None); planned.len()];
    let preds: Vec<(usize, &str)> = planned
        .iter()
        .enumerate()
        .filter_map(|(i, p)| match &p.measure {
            Measure::Count { predicate } => Some((i, predicate.as_str())),
            _ => None,
        })
        .collect();
    if preds.is_empty() {
        return results;
    }
    let exprs: Vec<String> = preds
        .iter()
        .map(|(_, p)| format!("count(*) FILTER (WHERE {p})"))
        .collect();
    let sql = format!("SELECT {} FROM {}", exprs.join(", "), target.relation);
    let batch = target.conn.query_row(&sql, [], |row| {
        (0..preds.len())
            .map(|k| row.get::<_, i64>(k))
            .collect::<Result<Vec<i64>, _>>()
    });
    match batch {
        Ok(values) => {
            for ((i, _), v) in preds.iter().zip(values) {
                results[*i] = Ok(Some(v as u64));
            }
        }
        Err(_) => {
            for (i, p) in &preds {
                let one = format!("SELECT count(*) FILTER (WHERE {p}) FROM {}", target.relation);
                results[*i] = target
                    .conn
                    .query_row(&one, [], |r| r.get::<_, i64>(0))
                    .map(|v| Some(v as u64))
                    .map_err(clean_error);
            }
        }
    }
    results
}

fn duplicates_sql(relation: &str, columns: &[String]) -> String {
    let cols: Vec<String> = columns.iter().map(|c| quote_ident(c)).collect();
    let not_null: Vec<String> = cols.iter().map(|c| format!("{c} IS NOT NULL")).collect();
    format!(
        "SELECT count(*), coalesce(sum(n), 0) FROM (SELECT count(*) AS n FROM {relation} WHERE {} GROUP BY {} HAVING count(*) > 1)",
        not_null.join(" AND "),
        cols.join(", ")
    )
}

/// The rows whose duplicates count: the rows under test, or under a filter, every row of the table whose key occurs
/// among them (a key with one row inside the filter and one outside is duplicated, as in datacontract-cli).
fn duplicates_scope(target: &Target, columns: &[String]) -> String {
    if target.relation == target.whole {
        return target.relation.clone();
    }
    let cols: Vec<String> = columns.iter().map(|c| quote_ident(c)).collect();
    format!(
        "(SELECT * FROM {} SEMI JOIN (SELECT DISTINCT {} FROM {}) USING ({}))",
        target.whole,
        cols.join(", "),
        target.relation,
        cols.join(", ")
    )
}

/// (duplicated key values, rows holding them).
fn measure_duplicates(target: &Target, columns: &[String]) -> Result<(u64, u64), String> {
    let sql = duplicates_sql(&duplicates_scope(target, columns), columns);
    target
        .conn
        .query_row(&sql, [], |r| {
            Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64))
        })
        .map_err(clean_error)
}

/// Runs a contract's SQL rule: refused unless it is one read-only SELECT over its own product's tables. Sets `reads`
/// to what its value is computed from.
fn run_sql_rule(target: &Target, query: &str, reads: &mut Reads) -> Result<Option<f64>, String> {
    (target.guard)(query)
        .map_err(|e| format!("A quality rule query must be a single read-only query, so it was not executed: {e}"))?;
    *reads = super::reads::of_rule(target.conn, query, &target.table.name)?;
    let mut stmt = target.conn.prepare(query).map_err(clean_error)?;
    let mut rows = stmt.query([]).map_err(clean_error)?;
    let Some(row) = rows.next().map_err(clean_error)? else {
        return Ok(None);
    };
    let v = row.get_ref(0).map_err(clean_error)?;
    Ok(number_of(v))
}

fn number_of(v: duckdb::types::ValueRef<'_>) -> Option<f64> {
    use duckdb::types::ValueRef as V;
    Some(match v {
        V::Null => return None,
        V::Boolean(b) => b as u8 as f64,
        V::TinyInt(i) => i as f64,
        V::SmallInt(i) => i as f64,
        V::Int(i) => i as f64,
        V::BigInt(i) => i as f64,
        V::HugeInt(i) => i as f64,
        V::UTinyInt(i) => i as f64,
        V::USmallInt(i) => i as f64,
        V::UInt(i) => i as f64,
        V::UBigInt(i) => i as f64,
        V::Float(f) => f as f64,
        V::Double(f) => f,
        V::Decimal(d) => d.to_string().parse().ok()?,
        V::Text(t) => String::from_utf8_lossy(t).trim().parse().ok()?,
        _ => return None,
    })
}

/// Up to five offending rows (or duplicated keys) of a failed check, classified columns masked.
fn failed_rows(target: &Target, measure: &Measure) -> Option<Sample> {
    let sql = match measure {
        Measure::Count { predicate } => format!("SELECT * FROM {} WHERE {predicate} LIMIT 5", target.relation),
        Measure::Duplicates { columns } => {
            let cols: Vec<String> = columns.iter().map(|c| quote_ident(c)).collect();
            let not_null: Vec<String> = cols.iter().map(|c| format!("{c} IS NOT NULL")).collect();
            format!(
                "SELECT {cols}, count(*) AS duplicate_count FROM {rel} WHERE {nn} GROUP BY {cols} HAVING count(*) > 1 ORDER BY duplicate_count DESC, {cols} LIMIT 5",
                cols = cols.join(", "),
                rel = duplicates_scope(target, columns),
                nn = not_null.join(" AND ")
            )
        }
        _ => return None,
    };
    let sample = read_sample(target.conn, &sql).ok()?;
    Some(mask_sample(sample, target.table))
}

/// Replaces the values of classified columns with [`MASK`].
pub fn mask_sample(mut sample: Sample, table: &Table) -> Sample {
    let masked: Vec<bool> = sample
        .columns
        .iter()
        .map(|name| table.columns.iter().any(|c| &c.name == name && is_classified(c)))
        .collect();
    for row in &mut sample.rows {
        for (v, m) in row.iter_mut().zip(&masked) {
            if *m && !v.is_null() {
                *v = serde_json::Value::String(MASK.into());
            }
        }
    }
    sample
}
