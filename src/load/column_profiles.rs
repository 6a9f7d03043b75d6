//! Column profiles for the catalog: share of NULLs, distinct values, min/max, the most frequent values and a
//! ten-bin histogram, measured in the staging database while the product loads. Classified columns keep only counts.

use crate::base::errors::clean_error;
use crate::base::sql::quote_ident;
use crate::model::types::{Family, family};
use duckdb::Connection;

/// Profiles stop after this many columns per table (wide tables stay cheap).
const MAX_COLUMNS: usize = 60;
const BINS: usize = 10;

pub use crate::model::findings::ColumnProfile;

/// How a column's values become numbers for the histogram (None: no histogram).
fn numeric_expr(q: &str, ty: &str) -> Option<String> {
    match family(ty) {
        Family::Integer | Family::Number => Some(format!("CAST({q} AS DOUBLE)")),
        Family::Temporal if ty.eq_ignore_ascii_case("TIME") => Some(format!("CAST(epoch({q}) AS DOUBLE)")),
        Family::Temporal => Some(format!("CAST(epoch(CAST({q} AS TIMESTAMP)) AS DOUBLE)")),
        _ => None,
    }
}

/// Measures every column of `relation` in two statements: one aggregate pass (NULLs, distinct values, min and
/// max), then one query for every column's top values or histogram. `classified(name)` says which columns must
/// not reveal values.
pub fn profile_table(
    conn: &Connection,
    relation: &str,
    columns: &[(String, String)],
    classified: &dyn Fn(&str) -> bool,
) -> Result<Vec<ColumnProfile>, String> {
    let cols: Vec<&(String, String)> = columns.iter().take(MAX_COLUMNS).collect();
    if cols.is_empty() {
        return Ok(Vec::new());
    }
    let (rows, mut out, ranges) = measure_aggregates(conn, relation, &cols, classified)?;
    if rows == 0 {
        return Ok(out);
    }
    let parts = value_queries(relation, &out, &ranges);
    if parts.is_empty() {
        return Ok(out);
    }
    fill_values(conn, &parts.join(" UNION ALL "), &mut out)?;
    for p in out.iter_mut() {
        p.top.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    }
    Ok(out)
}

/// A numeric column's finite (lowest, highest) value, which sets its histogram's bins.
type Range = Option<(f64, f64)>;

/// First pass: the row count, one profile per column (without top values or histogram) and each column's
/// numeric range.
fn measure_aggregates(
    conn: &Connection,
    relation: &str,
    cols: &[&(String, String)],
    classified: &dyn Fn(&str) -> bool,
) -> Result<(i64, Vec<ColumnProfile>, Vec<Range>), String> {
    let sql = format!("SELECT {} FROM {relation}", aggregate_exprs(cols).join(", "));
    let mut ranges: Vec<Range> = Vec::with_capacity(cols.len());
    let (rows, out) = conn
        .query_row(&sql, [], |r| {
            let rows: i64 = r.get(0)?;
            let mut out = Vec::with_capacity(cols.len());
            for (i, (name, ty)) in cols.iter().enumerate() {
                let base = 1 + i * 6;
                let nulls: i64 = r.get(base)?;
                let distinct: i64 = r.get(base + 1)?;
                let masked = classified(name);
                let lo: Option<f64> = r.get(base + 4)?;
                let hi: Option<f64> = r.get(base + 5)?;
                ranges.push(lo.zip(hi).filter(|(a, b)| a.is_finite() && b.is_finite()));
                out.push(ColumnProfile {
                    name: name.clone(),
                    data_type: ty.clone(),
                    nulls: nulls as u64,
                    null_pct: if rows > 0 {
                        (nulls as f64 / rows as f64 * 1000.0).round() / 10.0
                    } else {
                        0.0
                    },
                    distinct: distinct as u64,
                    min: if masked { None } else { r.get(base + 2)? },
                    max: if masked { None } else { r.get(base + 3)? },
                    top: Vec::new(),
                    histogram: Vec::new(),
                    masked,
                });
            }
            Ok((rows, out))
        })
        .map_err(clean_error)?;
    Ok((rows, out, ranges))
}

/// The first pass's select list: the row count, then six values per column (NULLs, distinct values, min and max
/// as text, min and max as numbers).
fn aggregate_exprs(cols: &[&(String, String)]) -> Vec<String> {
    let orderable = |t: &str| family(t) != Family::Other;
    let mut exprs = vec!["count(*)".to_string()];
    for (name, ty) in cols {
        let q = quote_ident(name);
        exprs.push(format!("count(*) FILTER (WHERE {q} IS NULL)"));
        exprs.push(format!("approx_count_distinct({q})"));
        if orderable(ty) {
            exprs.push(format!("CAST(min({q}) AS VARCHAR)"));
            exprs.push(format!("CAST(max({q}) AS VARCHAR)"));
        } else {
            exprs.push("NULL::VARCHAR".into());
            exprs.push("NULL::VARCHAR".into());
        }
        match numeric_expr(&q, ty) {
            Some(x) => {
                exprs.push(format!("min({x})"));
                exprs.push(format!("max({x})"));
            }
            None => {
                exprs.push("NULL::DOUBLE".into());
                exprs.push("NULL::DOUBLE".into());
            }
        }
    }
    exprs
}

/// Second pass, one sub-query per column that shows values: (column, value, bin, count) rows, binned for
/// numbers and times, the five most frequent values for text and booleans.
fn value_queries(relation: &str, out: &[ColumnProfile], ranges: &[Range]) -> Vec<String> {
    let mut parts = Vec::new();
    for (i, p) in out.iter().enumerate().filter(|(_, p)| !p.masked) {
        let q = quote_ident(&p.name);
        match (numeric_expr(&q, &p.data_type), ranges[i]) {
            (Some(x), Some((lo, hi))) => {
                let bin = if hi > lo {
                    format!("least({}, CAST(floor(({x} - {lo:?}) / ({hi:?} - {lo:?}) * {BINS}) AS INTEGER))", BINS - 1)
                } else {
                    "0".into()
                };
                parts.push(format!(
                    "(SELECT {i} AS c, NULL::VARCHAR AS v, {bin} AS b, count(*) AS n FROM {relation} WHERE {q} IS NOT NULL GROUP BY b)"
                ));
            }
            (None, _) if matches!(family(&p.data_type), Family::Text | Family::Boolean) => parts.push(format!(
                "(SELECT {i} AS c, CAST({q} AS VARCHAR) AS v, NULL::INTEGER AS b, count(*) AS n FROM {relation} WHERE {q} IS NOT NULL GROUP BY v ORDER BY n DESC, v LIMIT 5)"
            )),
            _ => {}
        }
    }
    parts
}

/// Runs the second pass and files each row under its column: a value into `top`, a bin count into `histogram`.
fn fill_values(conn: &Connection, sql: &str, out: &mut [ColumnProfile]) -> Result<(), String> {
    let mut stmt = conn.prepare(sql).map_err(clean_error)?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)? as usize,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, Option<i32>>(2)?,
                r.get::<_, i64>(3)? as u64,
            ))
        })
        .map_err(clean_error)?;
    for row in rows {
        let (c, v, b, n) = row.map_err(clean_error)?;
        let p = &mut out[c];
        match (v, b) {
            (Some(v), _) => p.top.push((v, n)),
            (None, Some(b)) if (0..BINS as i32).contains(&b) => {
                if p.histogram.is_empty() {
                    p.histogram = vec![0; BINS];
                }
                p.histogram[b as usize] += n;
            }
            _ => {}
        }
    }
    Ok(())
}

/// A small bar chart of the bins as inline SVG (numbers only: nothing from the data is written into it).
pub fn histogram_svg(bins: &[u64]) -> String {
    let max = bins.iter().copied().max().unwrap_or(0).max(1) as f64;
    let (w, h, gap) = (12.0, 28.0, 2.0);
    let mut bars = String::new();
    for (i, n) in bins.iter().enumerate() {
        let bh = if *n == 0 {
            0.0
        } else {
            (*n as f64 / max * (h - 2.0)).max(1.5)
        };
        bars.push_str(&format!(
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{w:.1}\" height=\"{bh:.1}\" rx=\"1\"><title>{n}</title></rect>",
            i as f64 * (w + gap),
            h - bh
        ));
    }
    format!(
        "<svg class=\"histogram\" viewBox=\"0 0 {:.0} {h:.0}\" width=\"{:.0}\" height=\"{h:.0}\" role=\"img\" aria-label=\"distribution\">{bars}</svg>",
        bins.len() as f64 * (w + gap),
        bins.len() as f64 * (w + gap)
    )
}

/// A horizontal bar for a share between 0 and 1, as inline SVG.
pub fn share_svg(share: f64) -> String {
    let w = (share.clamp(0.0, 1.0) * 80.0).max(if share > 0.0 { 1.0 } else { 0.0 });
    format!(
        "<svg class=\"share\" viewBox=\"0 0 80 8\" width=\"80\" height=\"8\" aria-hidden=\"true\"><rect class=\"track\" width=\"80\" height=\"8\" rx=\"2\"></rect><rect width=\"{w:.1}\" height=\"8\" rx=\"2\"></rect></svg>"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn svg_holds_only_numbers() {
        let s = histogram_svg(&[0, 5, 10]);
        assert!(s.starts_with("<svg") && s.contains("<title>10</title>"));
        assert_eq!(share_svg(0.5).matches("<rect").count(), 2);
    }

    #[test]
    fn profiles_count_nulls_distinct_and_bins() {
        let c = Connection::open_in_memory().unwrap();
        c.execute_batch("CREATE TABLE t AS SELECT range AS n, CASE WHEN range % 4 = 0 THEN NULL ELSE 'v' || (range % 3) END AS s, 'secret' AS pii FROM range(100)").unwrap();
        let cols = vec![
            ("n".to_string(), "BIGINT".to_string()),
            ("s".into(), "VARCHAR".into()),
            ("pii".into(), "VARCHAR".into()),
        ];
        let p = profile_table(&c, "t", &cols, &|name| name == "pii").unwrap();
        assert_eq!(
            (p[0].nulls, p[0].min.as_deref(), p[0].max.as_deref()),
            (0, Some("0"), Some("99"))
        );
        assert_eq!(p[0].histogram, vec![10; 10]);
        assert_eq!(p[1].nulls, 25);
        assert_eq!(p[1].null_pct, 25.0);
        assert_eq!(p[1].top.len(), 3);
        assert!(p[2].masked && p[2].min.is_none() && p[2].top.is_empty());
    }
}
