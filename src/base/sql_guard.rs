//! Decides whether an SQL text may run: exactly one read-only SELECT, naming only table functions known to be safe
//! and no catalog view or function that shows settings, secrets, files, memory, extensions or databases.
//! DuckDB's own parser does the work (`json_serialize_sql` only serializes SELECT statements).

use duckdb::Connection;
use serde_json::Value;
use std::collections::BTreeSet;
use std::sync::OnceLock;

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
    "pragma_table_info",
    "pragma_show",
    "summary",
];

/// Scalar functions refused in queries: the environment, settings, variables, secrets and files.
const DENIED_FUNCTIONS: &[&str] = &[
    "getenv",
    "current_setting",
    "getvariable",
    "read_text",
    "read_blob",
    "which_secret",
    "write_log",
];

/// The views DuckDB defines itself (`pg_catalog`, `information_schema`, `main.duckdb_*`, `pragma_database_list`…)
/// that a query may read: they describe tables, columns, types and functions. Every other system view — over
/// settings (`pg_settings`), databases and their files (`duckdb_databases`, `pragma_database_list`), prepared
/// statements, secrets, logs, or anything a later DuckDB adds — is refused, however it is qualified or spelled.
const ALLOWED_SYSTEM_VIEWS: &[&str] = &[
    // information_schema
    "schemata",
    "tables",
    "columns",
    "views",
    "character_sets",
    "key_column_usage",
    "referential_constraints",
    "table_constraints",
    "constraint_column_usage",
    "constraint_table_usage",
    "check_constraints",
    // pg_catalog
    "pg_am",
    "pg_attrdef",
    "pg_attribute",
    "pg_class",
    "pg_collation",
    "pg_constraint",
    "pg_database",
    "pg_depend",
    "pg_description",
    "pg_enum",
    "pg_index",
    "pg_indexes",
    "pg_namespace",
    "pg_proc",
    "pg_sequence",
    "pg_sequences",
    "pg_tables",
    "pg_tablespace",
    "pg_type",
    "pg_views",
    // main
    "duckdb_columns",
    "duckdb_constraints",
    "duckdb_indexes",
    "duckdb_schemas",
    "duckdb_tables",
    "duckdb_types",
    "duckdb_views",
    "sqlite_master",
    "sqlite_schema",
    "sqlite_temp_master",
    "sqlite_temp_schema",
];

/// System views refused even when the catalog cannot be asked which views are DuckDB's own.
const DENIED_SYSTEM_VIEWS: &[&str] = &[
    "pg_settings",
    "pg_prepared_statements",
    "pg_roles",
    "pg_user",
    "duckdb_databases",
    "duckdb_settings",
    "duckdb_secrets",
    "duckdb_secret_types",
    "duckdb_extensions",
    "duckdb_temporary_files",
    "duckdb_memory",
    "duckdb_logs",
    "duckdb_log_contexts",
    "duckdb_variables",
    "duckdb_external_file_cache",
    "duckdb_prepared_statements",
    "pragma_database_list",
    "pragma_database_size",
];

/// The lower-case names of DuckDB's own views, asked once from the catalog (they depend only on the DuckDB build).
/// None when the catalog cannot answer (then only `DENIED_SYSTEM_VIEWS` applies, and the next query asks again).
fn system_views(conn: &Connection) -> Option<&'static BTreeSet<String>> {
    static VIEWS: OnceLock<BTreeSet<String>> = OnceLock::new();
    if let Some(v) = VIEWS.get() {
        return Some(v);
    }
    let names: BTreeSet<String> = conn
        .prepare("SELECT lower(view_name) FROM duckdb_views() WHERE internal")
        .and_then(|mut st| st.query_map([], |r| r.get::<_, String>(0))?.collect())
        .ok()?;
    Some(VIEWS.get_or_init(|| names))
}

/// Why a table reference is refused: a system view not known to be harmless.
fn refused_relation(table: &str, system: Option<&BTreeSet<String>>) -> Option<String> {
    let name = table.to_ascii_lowercase();
    let listed = DENIED_SYSTEM_VIEWS.contains(&name.as_str());
    let system_view = system.is_some_and(|s| s.contains(&name)) && !ALLOWED_SYSTEM_VIEWS.contains(&name.as_str());
    (listed || system_view).then(|| {
        format!(
            "the catalog view `{table}` is not allowed here: it shows settings, secrets, files or databases of the \
             server; the products, `mesh.*` and catalog views such as information_schema.tables answer"
        )
    })
}

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
        .map_err(crate::base::errors::clean_error)?;
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
    let system = system_views(conn);
    if let Some(refusal) = found.tables.iter().find_map(|(_, t)| refused_relation(t, system)) {
        return Err(refusal.into());
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
                // `SHOW x` / `DESCRIBE x` name a table by its path (`SHOW DATABASES` and `SHOW TABLES` are special).
                Some("SHOW_REF") if map.get("show_type").and_then(Value::as_str) != Some("SHOW_SPECIAL") => {
                    let path: Vec<String> = map
                        .get("qualified_name")
                        .and_then(|q| q.get("path"))
                        .and_then(Value::as_array)
                        .map(|p| {
                            p.iter()
                                .filter_map(Value::as_str)
                                .map(|s| s.trim_matches('"').to_string())
                                .collect()
                        })
                        .unwrap_or_default();
                    if let Some((table, rest)) = path.split_last() {
                        found.tables.push((rest.last().cloned(), table.clone()));
                    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(sql: &str) -> Result<Inspection, Refusal> {
        let conn = Connection::open_in_memory().unwrap();
        inspect(&conn, sql)
    }

    #[test]
    fn views_and_functions_over_settings_secrets_and_files_are_refused() {
        let refused = [
            "SELECT * FROM pg_catalog.pg_settings",
            "SELECT * FROM pg_settings",
            "SELECT * FROM PG_SETTINGS",
            r#"SELECT * FROM "pg_catalog"."Pg_Settings""#,
            "SELECT * FROM system.pg_catalog.pg_settings",
            "SELECT * FROM memory.pg_catalog.pg_settings",
            "SELECT name FROM (SELECT * FROM pg_settings) s",
            "SELECT (SELECT setting FROM pg_settings LIMIT 1)",
            "WITH s AS (SELECT * FROM pg_settings) SELECT * FROM s",
            "SELECT 1 WHERE EXISTS (SELECT 1 FROM pg_catalog.pg_settings)",
            "SELECT 1 UNION ALL SELECT 2 FROM pg_settings",
            "SELECT * FROM pg_catalog.pg_prepared_statements",
            "SELECT * FROM duckdb_databases",
            "SELECT * FROM main.duckdb_databases",
            "SELECT * FROM duckdb_databases()",
            "SELECT * FROM pragma_database_list",
            "SELECT * FROM main.pragma_database_list",
            "SELECT * FROM duckdb_logs",
            "SELECT * FROM duckdb_settings()",
            "SELECT * FROM duckdb_secrets()",
            "SELECT * FROM duckdb_extensions()",
            "SELECT * FROM duckdb_temporary_files()",
            "SELECT * FROM duckdb_memory()",
            "SELECT * FROM duckdb_variables()",
            "SELECT * FROM pragma_database_size()",
            "SELECT * FROM duckdb_profiling_settings()",
            "SELECT current_setting('temp_directory')",
            "SELECT pg_catalog.current_setting('memory_limit')",
            "SELECT CURRENT_SETTING('threads')",
            "SELECT getenv('HOME')",
            "SELECT getvariable('x')",
            "SELECT which_secret('s3://bucket/x', 's3')",
            "SELECT write_log('x')",
            "SHOW pg_settings",
            "DESCRIBE pg_catalog.pg_settings",
            "SUMMARIZE pg_settings",
            "SUMMARIZE SELECT * FROM duckdb_databases",
            "FROM pg_settings",
            "TABLE pg_settings",
        ];
        for sql in refused {
            assert!(
                matches!(verdict(sql), Err(Refusal::Refused(_))),
                "{sql} should be refused: {:?}",
                verdict(sql)
            );
        }
    }

    #[test]
    fn catalog_views_over_tables_and_products_still_answer() {
        let allowed = [
            "SELECT 1",
            "SELECT * FROM sales.orders",
            "SELECT * FROM ops.settings",
            "SELECT setting FROM ops.settings_history",
            "SELECT * FROM information_schema.tables",
            "SELECT * FROM information_schema.columns",
            "SELECT * FROM information_schema.schemata",
            "SELECT * FROM pg_catalog.pg_tables",
            "SELECT * FROM pg_namespace",
            "SELECT * FROM duckdb_tables()",
            "SELECT * FROM duckdb_columns",
            "SELECT * FROM range(10)",
            "SELECT * FROM mesh.products",
            "SHOW TABLES",
            "SHOW DATABASES",
            "DESCRIBE sales.orders",
            "SUMMARIZE sales.orders",
        ];
        for sql in allowed {
            assert!(verdict(sql).is_ok(), "{sql}: {:?}", verdict(sql));
        }
    }

    /// The refusal of `sql`, failing the test when it is accepted.
    fn refusal(sql: &str) -> Refusal {
        match verdict(sql) {
            Ok(found) => panic!("{sql:?} was accepted: {found:?}"),
            Err(r) => r,
        }
    }

    fn accepted(sql: &str) -> Inspection {
        verdict(sql).unwrap_or_else(|r| panic!("{sql:?} was refused: {r}"))
    }

    fn table(schema: Option<&str>, name: &str) -> (Option<String>, String) {
        (schema.map(str::to_string), name.to_string())
    }

    #[test]
    fn an_accepted_query_reports_the_tables_and_table_functions_it_names() {
        let found = accepted("SELECT * FROM sales.orders o JOIN crm.customers c ON o.customer_id = c.id");
        assert_eq!(
            found,
            Inspection {
                tables: vec![table(Some("sales"), "orders"), table(Some("crm"), "customers")],
                table_functions: vec![],
            }
        );
        assert_eq!(accepted("SELECT * FROM orders").tables, [table(None, "orders")]);
        let found = accepted("SELECT * FROM RANGE(3) r, generate_series(1, 2) g");
        assert_eq!(
            (found.tables.len(), found.table_functions),
            (0, vec!["range".to_string(), "generate_series".to_string()])
        );
        // A common table expression is read like a table of that name.
        assert_eq!(
            accepted("WITH x AS (SELECT 1 AS a) SELECT a FROM x").tables,
            [table(None, "x")]
        );
        assert_eq!(
            accepted(r#"SELECT * FROM "Weird ""Name""""#).tables,
            [table(None, r#"Weird "Name""#)]
        );
    }

    #[test]
    fn quotes_and_comments_hide_nothing_and_refuse_nothing() {
        // What sits in a string, a quoted identifier or a comment is not a statement, a table or a call.
        for sql in [
            "SELECT 'DROP TABLE x; SELECT getenv(''HOME'')' AS s",
            "SELECT $$; DROP TABLE x$$ AS s",
            "SELECT 1 -- ; DROP TABLE x",
            "SELECT 1 /* ; DROP TABLE x; SELECT * FROM pg_settings */",
            "SELECT 'read_csv(''/etc/passwd'')' AS s",
            "SELECT 1 AS \"getenv\", 2 AS \"pg_settings\"",
            "  SELECT 1 ;  ",
            "SELECT 1; -- the end",
        ] {
            let found = accepted(sql);
            assert!(
                found.tables.is_empty() && found.table_functions.is_empty(),
                "{sql}: {found:?}"
            );
        }
        // A column that happens to be named like a refused function is a column.
        assert_eq!(
            accepted("SELECT getenv FROM ops.env").tables,
            [table(Some("ops"), "env")]
        );
        // Quoting a refused name does not unlock it, nor does a comment inside the statement.
        for sql in [
            r#"SELECT "GETENV"('HOME')"#,
            r#"SELECT * FROM "read_csv"('/etc/passwd')"#,
            "SELECT/* x */getenv/* y */('HOME')",
            "SELECT 1 UNION ALL SELECT getenv('HOME') -- ; SELECT 1",
        ] {
            assert!(matches!(refusal(sql), Refusal::Refused(_)), "{sql}");
        }
    }

    #[test]
    fn anything_but_one_read_only_select_is_refused() {
        let read_only = "only read-only SELECT queries are allowed";
        for sql in [
            "INSERT INTO t VALUES (1)",
            "UPDATE t SET a = 1",
            "DELETE FROM t",
            "CREATE TABLE t AS SELECT 1",
            "CREATE TEMP VIEW v AS SELECT 1",
            "DROP TABLE t",
            "ALTER TABLE t ADD COLUMN b INTEGER",
            "COPY t TO '/tmp/x.csv'",
            "COPY t FROM '/etc/passwd'",
            "ATTACH '/tmp/x.db' AS x",
            "DETACH x",
            "INSTALL httpfs",
            "LOAD httpfs",
            "SET enable_external_access = true",
            "RESET memory_limit",
            "PRAGMA database_list",
            "CALL pragma_version()",
            "CHECKPOINT",
            "VACUUM",
            "BEGIN TRANSACTION",
            "EXPORT DATABASE '/tmp/x'",
            "USE memory",
            "EXPLAIN SELECT 1",
            "WITH x AS (SELECT 1) DELETE FROM t",
        ] {
            assert_eq!(refusal(sql), Refusal::Refused(read_only.into()), "{sql}");
        }
        for (sql, why) in [
            ("SELECT 1; SELECT 2", "exactly one statement is allowed, found 2"),
            ("", "the query is empty"),
            (" \n\t ", "the query is empty"),
        ] {
            assert_eq!(refusal(sql), Refusal::Refused(why.into()), "{sql:?}");
        }
        // A harmless first statement does not carry a second one through.
        for sql in [
            "SELECT 1; DROP TABLE t",
            "SELECT 1; SELECT * FROM read_csv('/etc/passwd')",
        ] {
            assert!(matches!(refusal(sql), Refusal::Refused(_)), "{sql}");
        }
    }

    #[test]
    fn syntax_errors_are_told_apart_from_refusals() {
        for sql in ["SELEC 1", "SELECT 'unterminated", "SELECT * FROM", "SELECT (1"] {
            match refusal(sql) {
                Refusal::Syntax(m) => assert!(!m.is_empty(), "{sql}"),
                other => panic!("{sql}: {other:?}"),
            }
        }
    }

    #[test]
    fn refused_functions_are_named_wherever_they_hide() {
        for (sql, name) in [
            ("SELECT * FROM read_csv('/etc/passwd')", "read_csv"),
            ("SELECT * FROM READ_PARQUET('x.parquet')", "read_parquet"),
            ("SELECT * FROM (SELECT * FROM glob('/*')) g", "glob"),
            ("WITH q AS (SELECT * FROM query('SELECT 1')) SELECT * FROM q", "query"),
            (
                "SELECT * FROM range(2) r, LATERAL (SELECT * FROM read_json_auto('/etc/passwd'))",
                "read_json_auto",
            ),
        ] {
            assert_eq!(
                refusal(sql),
                Refusal::Refused(format!("the table function `{name}` is not allowed here")),
                "{sql}"
            );
        }
        for (sql, name) in [
            ("SELECT 1 WHERE getenv('HOME') IS NOT NULL", "getenv"),
            ("SELECT 1 ORDER BY current_setting('threads')", "current_setting"),
            ("SELECT list_transform([1], x -> getvariable('v'))", "getvariable"),
            ("SELECT CASE WHEN true THEN read_blob('x') END", "read_blob"),
            ("SELECT (SELECT max(write_log('x')))", "write_log"),
        ] {
            assert_eq!(
                refusal(sql),
                Refusal::Refused(format!("the function `{name}` is not allowed here")),
                "{sql}"
            );
        }
    }
}
