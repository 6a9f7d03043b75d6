//! What a derived product's SQL reaches for, read from DuckDB's own parse tree (`json_serialize_sql`): every table it
//! names (with its place in the file), the table functions it calls, and — conservatively — which columns of the
//! tables it names can flow into its result (named anywhere, or all of them behind `*`, `COLUMNS(…)`, `#n`, a whole-row
//! reference, renamed columns, NATURAL joins, PIVOT and DESCRIBE/SUMMARIZE).

use duckdb::Connection;
use serde_json::{Map, Value};
use std::collections::HashSet;

/// A table named in the SQL (references to the query's own CTEs are not tables).
#[derive(Debug, Clone, PartialEq)]
pub struct TableRef {
    pub catalog: Option<String>,
    pub schema: Option<String>,
    pub table: String,
    pub alias: Option<String>,
    /// Byte offset in the SQL text, when DuckDB reports it.
    pub offset: Option<usize>,
}

impl TableRef {
    /// The name as written, without quotes: `memory.__meshbox_p0.x`, `sales.orders`, `orders`.
    pub fn display(&self) -> String {
        [
            self.catalog.as_deref(),
            self.schema.as_deref(),
            Some(self.table.as_str()),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(".")
    }

    /// Does this reference name `domain.table` (DuckDB matches names case-insensitively)? A catalog, if written, must
    /// be the sandbox's own (`memory`).
    pub fn names(&self, domain: &str, table: &str) -> bool {
        self.catalog.as_deref().is_none_or(|c| c.eq_ignore_ascii_case("memory"))
            && self.schema.as_deref().is_some_and(|s| s.eq_ignore_ascii_case(domain))
            && self.table.eq_ignore_ascii_case(table)
    }
}

/// A table function call.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionRef {
    /// Lower case.
    pub name: String,
    pub offset: Option<usize>,
}

/// What one SELECT names.
#[derive(Debug, Default)]
pub struct Reach {
    pub tables: Vec<TableRef>,
    pub table_functions: Vec<FunctionRef>,
    /// Every part of every column reference, lower case (`c.email` → `c`, `email`).
    names: HashSet<String>,
    /// The last part of every column reference, lower case: a table name or alias there is the whole row.
    row_names: HashSet<String>,
    /// Indexes into `tables` whose every column may reach the result.
    whole: HashSet<usize>,
}

impl Reach {
    /// Parses `sql` with DuckDB's parser. Err when it is not one parseable SELECT (the guard says why in detail).
    pub fn of(conn: &Connection, sql: &str) -> Result<Reach, String> {
        let json: String = conn
            .query_row("SELECT json_serialize_sql(?::VARCHAR)", [sql], |r| r.get(0))
            .map_err(crate::base::errors::clean_error)?;
        let tree: Value = serde_json::from_str(&json).map_err(|e| format!("cannot read the parse tree: {e}"))?;
        if tree.get("error").and_then(Value::as_bool) == Some(true) {
            return Err(tree
                .get("error_message")
                .and_then(Value::as_str)
                .unwrap_or("the SQL cannot be parsed")
                .to_string());
        }
        Ok(Reach::from_tree(&tree))
    }

    /// Reads a `json_serialize_sql` tree.
    pub fn from_tree(tree: &Value) -> Reach {
        let mut ctes = HashSet::new();
        collect_ctes(tree, &mut ctes);
        let mut walker = Walker {
            reach: Reach::default(),
            ctes,
        };
        walker.visit(tree, &[]);
        walker.reach
    }

    /// Which of `columns` (the columns of the table `self.tables[i]` names) the SQL may read, as indexes.
    pub fn columns_read(&self, i: usize, columns: &[String]) -> Vec<usize> {
        let t = &self.tables[i];
        let whole = self.whole.contains(&i)
            || self.row_names.contains(&t.table.to_ascii_lowercase())
            || t.alias
                .as_ref()
                .is_some_and(|a| self.row_names.contains(&a.to_ascii_lowercase()));
        (0..columns.len())
            .filter(|&c| whole || self.names.contains(&columns[c].to_ascii_lowercase()))
            .collect()
    }
}

fn text(m: &Map<String, Value>, key: &str) -> Option<String> {
    m.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn offset(m: &Map<String, Value>) -> Option<usize> {
    m.get("query_location")
        .and_then(Value::as_u64)
        .filter(|o| *o < u32::MAX as u64)
        .map(|o| o as usize)
}

/// The names of every CTE anywhere in the tree, lower case.
fn collect_ctes(v: &Value, out: &mut HashSet<String>) {
    match v {
        Value::Object(m) => {
            if let Some(entries) = m.get("cte_map").and_then(|c| c.get("map")).and_then(Value::as_array) {
                for e in entries {
                    if let Some(k) = e.get("key").and_then(Value::as_str) {
                        out.insert(k.to_ascii_lowercase());
                    }
                }
            }
            m.values().for_each(|c| collect_ctes(c, out));
        }
        Value::Array(items) => items.iter().for_each(|c| collect_ctes(c, out)),
        _ => {}
    }
}

/// Table reference types of the parse tree (objects without a `class`; expressions have one).
const TABLE_REFS: &[&str] = &[
    "BASE_TABLE",
    "JOIN",
    "SUBQUERY",
    "TABLE_FUNCTION",
    "EXPRESSION_LIST",
    "EMPTY",
    "PIVOT",
    "SHOW_REF",
    "COLUMN_DATA",
    "DELIM_GET",
];

struct Walker {
    reach: Reach,
    ctes: HashSet<String>,
}

impl Walker {
    /// Visits anything; `scope` holds the tables of the FROM clause the expressions here belong to.
    fn visit(&mut self, v: &Value, scope: &[usize]) {
        match v {
            Value::Array(items) => items.iter().for_each(|c| self.visit(c, scope)),
            Value::Object(m) => self.visit_object(m, scope),
            _ => {}
        }
    }

    fn visit_object(&mut self, m: &Map<String, Value>, scope: &[usize]) {
        let kind = m.get("type").and_then(Value::as_str).unwrap_or("");
        if let Some(class) = m.get("class").and_then(Value::as_str) {
            match class {
                "STAR" => self.star(m, scope),
                "POSITIONAL_REFERENCE" => self.reach.whole.extend(scope),
                "COLUMN_REF" => self.column_ref(m),
                _ => {}
            }
            m.values().for_each(|c| self.visit(c, scope));
        } else if kind == "SELECT_NODE" {
            let direct = m.get("from_table").map(|f| self.visit_from(f)).unwrap_or_default();
            for (key, child) in m {
                if key != "from_table" {
                    self.visit(child, &direct);
                }
            }
        } else if TABLE_REFS.contains(&kind) {
            self.visit_from_item(m);
        } else {
            m.values().for_each(|c| self.visit(c, scope));
        }
    }

    /// Visits a FROM item and returns the tables it brings into scope directly (not through a subquery).
    fn visit_from(&mut self, v: &Value) -> Vec<usize> {
        v.as_object().map(|m| self.visit_from_item(m)).unwrap_or_default()
    }

    fn visit_from_item(&mut self, m: &Map<String, Value>) -> Vec<usize> {
        match m.get("type").and_then(Value::as_str).unwrap_or("") {
            "BASE_TABLE" => self.base_table(m).into_iter().collect(),
            "JOIN" => {
                let mut direct = m.get("left").map(|l| self.visit_from(l)).unwrap_or_default();
                direct.extend(m.get("right").map(|r| self.visit_from(r)).unwrap_or_default());
                if m.get("ref_type").and_then(Value::as_str) == Some("NATURAL") {
                    self.reach.whole.extend(&direct);
                }
                for (key, child) in m {
                    if key == "using_columns" {
                        for name in child.as_array().into_iter().flatten().filter_map(Value::as_str) {
                            self.reach.names.insert(name.to_ascii_lowercase());
                        }
                    } else if key != "left" && key != "right" {
                        self.visit(child, &direct);
                    }
                }
                direct
            }
            "TABLE_FUNCTION" => {
                let name = m
                    .get("function")
                    .and_then(|f| f.get("function_name"))
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_ascii_lowercase();
                self.reach.table_functions.push(FunctionRef {
                    name,
                    offset: offset(m),
                });
                m.values().for_each(|c| self.visit(c, &[]));
                Vec::new()
            }
            "SUBQUERY" | "EXPRESSION_LIST" | "EMPTY" => {
                m.values().for_each(|c| self.visit(c, &[]));
                Vec::new()
            }
            _ => {
                // PIVOT (implicit GROUP BY every other column), DESCRIBE/SUMMARIZE, anything newer: every table
                // below reaches the result whole.
                let before = self.reach.tables.len();
                m.values().for_each(|c| self.visit(c, &[]));
                self.reach.whole.extend(before..self.reach.tables.len());
                Vec::new()
            }
        }
    }

    fn base_table(&mut self, m: &Map<String, Value>) -> Option<usize> {
        let table = m.get("table_name").and_then(Value::as_str).unwrap_or("").to_string();
        let (catalog, schema) = (text(m, "catalog_name"), text(m, "schema_name"));
        if catalog.is_none() && schema.is_none() && self.ctes.contains(&table.to_ascii_lowercase()) {
            return None;
        }
        let renamed = m
            .get("column_name_alias")
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty());
        let i = self.reach.tables.len();
        self.reach.tables.push(TableRef {
            catalog,
            schema,
            table,
            alias: text(m, "alias"),
            offset: offset(m),
        });
        if renamed {
            self.reach.whole.insert(i);
        }
        Some(i)
    }

    fn column_ref(&mut self, m: &Map<String, Value>) {
        let parts: Vec<String> = m
            .get("column_names")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_ascii_lowercase)
            .collect();
        if let Some(last) = parts.last() {
            self.reach.row_names.insert(last.clone());
        }
        self.reach.names.extend(parts);
    }

    /// `*`, `t.*`, `COLUMNS(…)`: every column of the tables in scope (of `t`, when it is one of them; a `t.*` reaching
    /// out of a LATERAL subquery marks every table called `t`).
    fn star(&mut self, m: &Map<String, Value>, scope: &[usize]) {
        let Some(relation) = text(m, "relation_name").map(|r| r.to_ascii_lowercase()) else {
            self.reach.whole.extend(scope);
            return;
        };
        let called = |t: &TableRef| {
            t.alias.as_deref().unwrap_or(&t.table).eq_ignore_ascii_case(&relation)
                || t.table.eq_ignore_ascii_case(&relation)
        };
        let in_scope: Vec<usize> = scope
            .iter()
            .copied()
            .filter(|&i| called(&self.reach.tables[i]))
            .collect();
        let targets: Vec<usize> = if in_scope.is_empty() {
            (0..self.reach.tables.len())
                .filter(|&i| called(&self.reach.tables[i]))
                .collect()
        } else {
            in_scope
        };
        if targets.is_empty() {
            // `s.*` of a subquery or CTE: its own select list named what it reads.
            return;
        }
        self.reach.whole.extend(targets);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reach(sql: &str) -> Reach {
        let conn = Connection::open_in_memory().unwrap();
        Reach::of(&conn, sql).unwrap()
    }

    /// The columns of `customers.p` (id, email, name) that `sql` may read.
    fn read_of_p(sql: &str) -> Vec<&'static str> {
        let r = reach(sql);
        let cols = ["id".to_string(), "email".to_string(), "name".to_string()];
        let mut out: Vec<&'static str> = Vec::new();
        for (i, t) in r.tables.iter().enumerate() {
            if t.names("customers", "p") {
                for c in r.columns_read(i, &cols) {
                    let name = ["id", "email", "name"][c];
                    if !out.contains(&name) {
                        out.push(name);
                    }
                }
            }
        }
        out.sort();
        out
    }

    #[test]
    fn tables_are_named_with_their_place_and_ctes_are_not_tables() {
        let r = reach("WITH x AS (SELECT 1 AS a) SELECT * FROM x, \"__meshbox_p0\".T, memory.sales.o, read_csv('f')");
        let names: Vec<String> = r.tables.iter().map(TableRef::display).collect();
        assert_eq!(names, ["__meshbox_p0.T", "memory.sales.o"]);
        assert!(r.tables[1].names("SALES", "O"));
        assert!(!r.tables[0].names("__meshbox_p0", "x"));
        assert_eq!(r.tables[0].offset, Some(43));
        assert_eq!(r.table_functions[0].name, "read_csv");
        let r = reach("SELECT * FROM duckdb_tables() UNION ALL SELECT * FROM pg_catalog.pg_settings");
        assert_eq!(r.table_functions[0].name, "duckdb_tables");
        assert_eq!(r.tables[0].display(), "pg_catalog.pg_settings");
    }

    #[test]
    fn columns_that_reach_the_result() {
        let cases: &[(&str, &[&str])] = &[
            ("SELECT id FROM customers.p", &["id"]),
            ("SELECT count(*) FROM customers.p", &[]),
            ("SELECT id FROM customers.p WHERE EMAIL LIKE '%x'", &["email", "id"]),
            ("SELECT c.id, c.\"Name\" FROM customers.p AS c", &["id", "name"]),
            ("SELECT * FROM customers.p", &["email", "id", "name"]),
            ("FROM customers.p", &["email", "id", "name"]),
            ("SELECT c.* FROM customers.p c", &["email", "id", "name"]),
            ("SELECT * EXCLUDE (email) FROM customers.p", &["email", "id", "name"]),
            ("SELECT COLUMNS('e.*') FROM customers.p", &["email", "id", "name"]),
            ("SELECT #2 FROM customers.p", &["email", "id", "name"]),
            ("SELECT to_json(c) FROM customers.p c", &["email", "id", "name"]),
            ("SELECT p FROM customers.p", &["email", "id", "name"]),
            ("SELECT x FROM customers.p AS c(a, x)", &["email", "id", "name"]),
            ("SELECT x FROM (SELECT email AS x FROM customers.p)", &["email"]),
            ("WITH s AS (SELECT id FROM customers.p) SELECT * FROM s", &["id"]),
            (
                "WITH s AS (SELECT * FROM customers.p) SELECT id FROM s",
                &["email", "id", "name"],
            ),
            (
                "SELECT l.y FROM customers.p c, LATERAL (SELECT c.*) l(y)",
                &["email", "id", "name"],
            ),
            (
                "SELECT o.n FROM customers.p NATURAL JOIN sales.o",
                &["email", "id", "name"],
            ),
            ("SELECT 1 FROM customers.p JOIN sales.o USING (email)", &["email"]),
            ("SUMMARIZE customers.p", &["email", "id", "name"]),
            (
                "SELECT * FROM (UNPIVOT customers.p ON COLUMNS(*) INTO NAME k VALUE v)",
                &["email", "id", "name"],
            ),
            ("SELECT (SELECT max(email) FROM customers.p) AS m", &["email"]),
        ];
        for (sql, want) in cases {
            assert_eq!(read_of_p(sql), *want, "{sql}");
        }
    }
}
