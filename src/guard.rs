//! Decides whether an SQL text may run: exactly one read-only SELECT, naming only table functions known to be safe.
//! DuckDB's own parser does the work (`json_serialize_sql` only serializes SELECT statements).

use duckdb::Connection;
use serde_json::Value;

/// Table functions a query may call. Everything else (file readers, `query()`, pointer-taking internals) is refused
/// even though the serving database cannot reach files: defence in depth.
const ALLOWED_TABLE_FUNCTIONS: &[&str] = &[
    "range",
    "generate_series",
    "unnest",
    "duckdb_tables",
    "duckdb_columns",
    "duckdb_views",
    "duckdb_schemas",
    "duckdb_types",
    "duckdb_functions",
    "duckdb_keywords",
    "duckdb_constraints",
    "duckdb_indexes",
    "duckdb_databases",
    "pragma_table_info",
    "pragma_show",
    "summary",
];

/// Scalar functions refused in queries.
const DENIED_FUNCTIONS: &[&str] = &["getenv", "current_setting", "getvariable", "read_text", "read_blob"];

/// What a validated query names.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Inspection {
    /// Tables as written: (schema, table), schema None when unqualified.
    pub tables: Vec<(Option<String>, String)>,
    pub table_functions: Vec<String>,
}

/// Why a query may not run.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    /// The text does not parse: nothing in it can have run, and DuckDB's own message points at the position.
    Syntax(String),
    /// It parses, but is not one read-only SELECT of allowed functions.
    Refused(String),
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Syntax(m) | Refusal::Refused(m) => f.write_str(m),
        }
    }
}

/// Accepts exactly one SELECT and returns what it names; refuses anything else with a message for the user.
pub fn inspect(conn: &Connection, sql: &str) -> Result<Inspection, Refusal> {
    check(conn, sql).map_err(|e| match e {
        Found::Syntax(m) => Refusal::Syntax(m),
        Found::Other(m) => Refusal::Refused(m),
    })
}

enum Found {
    Syntax(String),
    Other(String),
}

impl From<String> for Found {
    fn from(s: String) -> Found {
        Found::Other(s)
    }
}

impl From<&str> for Found {
    fn from(s: &str) -> Found {
        Found::Other(s.to_string())
    }
}

fn check(conn: &Connection, sql: &str) -> Result<Inspection, Found> {
    if sql.trim().is_empty() {
        return Err("the query is empty".into());
    }
    let json: String = conn
        .query_row("SELECT json_serialize_sql(?::VARCHAR)", [sql], |r| r.get(0))
        .map_err(crate::ingest::clean_error)?;
    let tree: Value = serde_json::from_str(&json).map_err(|e| format!("cannot read the parse tree: {e}"))?;
    if tree.get("error").and_then(Value::as_bool) == Some(true) {
        let msg = tree
            .get("error_message")
            .and_then(Value::as_str)
            .unwrap_or("the query cannot be parsed");
        if msg.contains("Only SELECT") {
            return Err("only read-only SELECT queries are allowed".into());
        }
        if tree.get("error_type").and_then(Value::as_str) == Some("parser") {
            return Err(Found::Syntax(msg.to_string()));
        }
        return Err(msg.into());
    }
    let statements = tree
        .get("statements")
        .and_then(Value::as_array)
        .map(Vec::len)
        .unwrap_or(0);
    match statements {
        0 => return Err("the query holds no statement".into()),
        1 => {}
        n => return Err(format!("exactly one statement is allowed, found {n}").into()),
    }
    let mut found = Inspection::default();
    walk(&tree, &mut found).map_err(Found::Other)?;
    for f in &found.table_functions {
        if !ALLOWED_TABLE_FUNCTIONS.contains(&f.as_str()) {
            return Err(format!("the table function `{f}` is not allowed here").into());
        }
    }
    Ok(found)
}

fn walk(v: &Value, found: &mut Inspection) -> Result<(), String> {
    match v {
        Value::Object(map) => {
            match map.get("type").and_then(Value::as_str) {
                Some("TABLE_FUNCTION") => {
                    let name = map
                        .get("function")
                        .and_then(|f| f.get("function_name"))
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_ascii_lowercase();
                    found.table_functions.push(name);
                }
                Some("BASE_TABLE") => {
                    let schema = map
                        .get("schema_name")
                        .and_then(Value::as_str)
                        .filter(|s| !s.is_empty())
                        .map(str::to_string);
                    let table = map.get("table_name").and_then(Value::as_str).unwrap_or("").to_string();
                    found.tables.push((schema, table));
                }
                _ => {}
            }
            if map.get("class").and_then(Value::as_str) == Some("FUNCTION")
                && let Some(name) = map.get("function_name").and_then(Value::as_str)
            {
                let lower = name.to_ascii_lowercase();
                if DENIED_FUNCTIONS.contains(&lower.as_str()) {
                    return Err(format!("the function `{name}` is not allowed here"));
                }
            }
            for child in map.values() {
                walk(child, found)?;
            }
        }
        Value::Array(items) => {
            for i in items {
                walk(i, found)?;
            }
        }
        _ => {}
    }
    Ok(())
}
