//! What a contract's SQL quality rule reads, from DuckDB's own parse tree (`json_serialize_sql`): the columns its
//! measured value is computed from (so roles that see one of them masked are not shown the value), and whether it
//! stays inside its own product (a rule that reaches another product's table or the catalog is refused).

use super::Reads;
use serde_json::Value;
use std::collections::BTreeSet;

/// Table functions a quality rule may call: generators only, nothing that lists the database's tables or sizes.
const RULE_TABLE_FUNCTIONS: &[&str] = &["range", "generate_series", "unnest"];

/// What the parse tree of one SELECT names.
#[derive(Debug, Default)]
struct Named {
    /// (catalog, schema, table) as written; empty strings when not given.
    tables: Vec<(String, String, String)>,
    table_functions: Vec<String>,
    /// Every part of every column reference, lower case (`o.amount` gives `o` and `amount`).
    columns: BTreeSet<String>,
    /// Common table expressions, lower case.
    ctes: BTreeSet<String>,
    /// `*`, `COLUMNS(...)`, `#1`, NATURAL joins, PIVOT: columns the tree does not name one by one.
    unnamed: bool,
}

fn walk(v: &Value, out: &mut Named) {
    match v {
        Value::Object(map) => {
            let text = |k: &str| map.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            match map.get("type").and_then(Value::as_str) {
                Some("BASE_TABLE") => out
                    .tables
                    .push((text("catalog_name"), text("schema_name"), text("table_name"))),
                Some("TABLE_FUNCTION") => out.table_functions.push(
                    map.get("function")
                        .and_then(|f| f.get("function_name"))
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_ascii_lowercase(),
                ),
                Some("PIVOT") => out.unnamed = true,
                _ => {}
            }
            match map.get("class").and_then(Value::as_str) {
                Some("COLUMN_REF") => {
                    for part in map.get("column_names").and_then(Value::as_array).into_iter().flatten() {
                        if let Some(p) = part.as_str() {
                            out.columns.insert(p.to_lowercase());
                        }
                    }
                }
                Some("STAR" | "POSITIONAL_REFERENCE") => out.unnamed = true,
                _ => {}
            }
            if map.get("ref_type").and_then(Value::as_str) == Some("NATURAL") {
                out.unnamed = true;
            }
            for using in map.get("using_columns").and_then(Value::as_array).into_iter().flatten() {
                if let Some(c) = using.as_str() {
                    out.columns.insert(c.to_lowercase());
                }
            }
            if let Some(ctes) = map.get("cte_map").and_then(|m| m.get("map")).and_then(Value::as_array) {
                for cte in ctes {
                    if let Some(k) = cte.get("key").and_then(Value::as_str) {
                        out.ctes.insert(k.to_lowercase());
                    }
                }
            }
            for child in map.values() {
                walk(child, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| walk(i, out)),
        _ => {}
    }
}

/// The tables of the schema the rule runs in (its product's staging schema, the connection's search path).
fn own_tables(conn: &duckdb::Connection) -> Result<(String, BTreeSet<String>), String> {
    let schema: String = conn
        .query_row("SELECT current_schema()", [], |r| r.get(0))
        .map_err(crate::base::errors::clean_error)?;
    let mut stmt = conn
        .prepare("SELECT table_name FROM duckdb_tables() WHERE schema_name = current_schema()")
        .map_err(crate::base::errors::clean_error)?;
    let names = stmt
        .query_map([], |r| r.get::<_, String>(0))
        .map_err(crate::base::errors::clean_error)?
        .collect::<Result<BTreeSet<String>, _>>()
        .map_err(crate::base::errors::clean_error)?;
    Ok((schema, names.into_iter().map(|n| n.to_lowercase()).collect()))
}

/// What the rule `sql` (already accepted by the guard) reads, with `table` the table it belongs to; an error when it
/// reaches outside its own product: another schema, a database catalog, or a table function that lists tables.
pub fn of_rule(conn: &duckdb::Connection, sql: &str, table: &str) -> Result<Reads, String> {
    let refuse = |what: String| {
        Err(format!(
            "A quality rule reads only the tables of its own product, so it was not executed: {what}"
        ))
    };
    let json: String = conn
        .query_row("SELECT json_serialize_sql(?::VARCHAR)", [sql], |r| r.get(0))
        .map_err(crate::base::errors::clean_error)?;
    let Ok(tree) = serde_json::from_str::<Value>(&json) else {
        return Ok(Reads::Everything);
    };
    if tree.get("error").and_then(Value::as_bool) == Some(true) {
        return Ok(Reads::Everything);
    }
    let mut named = Named::default();
    walk(&tree, &mut named);
    if let Some(f) = named
        .table_functions
        .iter()
        .find(|f| !RULE_TABLE_FUNCTIONS.contains(&f.as_str()))
    {
        return refuse(format!("the table function `{f}` is not allowed in a quality rule"));
    }
    let (schema, own) = own_tables(conn)?;
    let mut other_table = false;
    for (catalog, sch, name) in &named.tables {
        let lower = name.to_lowercase();
        let foreign_schema = !sch.is_empty() && !sch.eq_ignore_ascii_case(&schema);
        if !catalog.is_empty() || foreign_schema {
            let shown = [catalog.as_str(), sch.as_str(), name.as_str()]
                .iter()
                .filter(|s| !s.is_empty())
                .copied()
                .collect::<Vec<_>>()
                .join(".");
            return refuse(format!("`{shown}` is not a table of this product"));
        }
        if named.ctes.contains(&lower) {
            continue;
        }
        if !own.contains(&lower) {
            return refuse(format!("`{name}` is not a table of this product"));
        }
        other_table |= !lower.eq_ignore_ascii_case(table);
    }
    if named.unnamed || other_table {
        return Ok(Reads::Everything);
    }
    Ok(Reads::Columns(named.columns.into_iter().collect()))
}
