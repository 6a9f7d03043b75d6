//! Column profiles for the catalog: share of NULLs, distinct values, min/max, the most frequent values and a
//! ten-bin histogram, measured in the staging database while the product loads. Classified columns keep only counts.

use crate::ingest::clean_error;
use crate::sql::quote_ident;
use crate::types::{Family, family};
use duckdb::Connection;
use serde::Serialize;

/// Profiles stop after this many columns per table (wide tables stay cheap).
const MAX_COLUMNS: usize = 60;
const BINS: usize = 10;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ColumnProfile {
    pub name: String,
    pub data_type: String,
    pub nulls: u64,
    pub null_pct: f64,
    /// Approximate (HyperLogLog) distinct count.
    pub distinct: u64,
    pub min: Option<String>,
    pub max: Option<String>,
    /// Most frequent values with their counts (text-like columns).
    pub top: Vec<(String, u64)>,
    /// Equal-width bins between min and max (numbers, dates, times).
    pub histogram: Vec<u64>,
    /// The column is classified: values are not shown, only counts.
    pub masked: bool,
}

/// Measures every column of `relation`. `classified(name)` says which columns must not reveal values.
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
    let orderable = |t: &str| family(t) != Family::Other;
    let mut exprs = vec!["count(*)".to_string()];
    for (name, ty) in &cols {
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
    }
    let sql = format!("SELECT {} FROM {relation}", exprs.join(", "));
    let (rows, mut out) = conn
        .query_row(&sql, [], |r| {
            let rows: i64 = r.get(0)?;
            let mut out = Vec::with_capacity(cols.len());
            for (i, (name, ty)) in cols.iter().enumerate() {
                let base = 1 + i * 4;
                let nulls: i64 = r.get(base)?;
                let distinct: i64 = r.get(base + 1)?;
                let masked = classified(name);
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
    if rows == 0 {
        return Ok(out);
    }
    for p in out.iter_mut().filter(|p| !p.masked) {
        let q = quote_ident(&p.name);
        match family(&p.data_type) {
            Family::Integer | Family::Number | Family::Temporal => {
                p.histogram = histogram(conn, relation, &q, &p.data_type).unwrap_or_default();
            }
            Family::Text | Family::Boolean => {
                let sql = format!(
                    "SELECT CAST({q} AS VARCHAR) AS v, count(*) AS n FROM {relation} WHERE {q} IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 5"
                );
                let mut stmt = conn.prepare(&sql).map_err(clean_error)?;
                p.top = stmt
                    .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64)))
                    .map_err(clean_error)?
                    .collect::<Result<_, _>>()
                    .map_err(clean_error)?;
            }
            Family::Other => {}
        }
    }
    Ok(out)
}

/// Ten equal-width bins between the column's min and max.
fn histogram(conn: &Connection, relation: &str, q: &str, ty: &str) -> Result<Vec<u64>, String> {
    let numeric = if family(ty) == Family::Temporal {
        if ty.eq_ignore_ascii_case("TIME") {
            format!("CAST(epoch({q}) AS DOUBLE)")
        } else {
            format!("CAST(epoch(CAST({q} AS TIMESTAMP)) AS DOUBLE)")
        }
    } else {
        format!("CAST({q} AS DOUBLE)")
    };
    let sql = format!(
        "WITH v AS (SELECT {numeric} AS x FROM {relation} WHERE {q} IS NOT NULL), \
         r AS (SELECT min(x) AS lo, max(x) AS hi FROM v) \
         SELECT least({last}, CAST(floor(CASE WHEN r.hi = r.lo THEN 0 ELSE (x - r.lo) / (r.hi - r.lo) * {BINS} END) AS INTEGER)) AS b, count(*) \
         FROM v, r WHERE isfinite(x) GROUP BY b ORDER BY b",
        last = BINS - 1
    );
    let mut stmt = conn.prepare(&sql).map_err(clean_error)?;
    let mut bins = vec![0u64; BINS];
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, Option<i32>>(0)?, r.get::<_, i64>(1)?)))
        .map_err(clean_error)?;
    for row in rows {
        let (b, n) = row.map_err(clean_error)?;
        if let Some(b) = b.filter(|b| (0..BINS as i32).contains(b)) {
            bins[b as usize] += n as u64;
        }
    }
    Ok(bins)
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
