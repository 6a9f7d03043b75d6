//! Postgres catalog queries rewritten for the role's catalog database: `pg_catalog.x` and `information_schema.x`
//! name the emulated tables and functions in schema `pgc`, Postgres-only syntax DuckDB does not read
//! (`OPERATOR(pg_catalog.~)`, `COLLATE "default"`, `::regclass`) becomes DuckDB's, and session functions
//! (`version()`, `current_user`, `current_setting('x')`) become constants. The rewritten text still goes through the
//! query guard.

use super::schema::{FUNCTIONS, INFORMATION_SCHEMA, RENAMED, SCHEMA, TABLES};
use crate::serve::pg::sql_text::{Kind, Token, meaningful, string_literal, tokens};
use std::collections::HashMap;

/// What a rewrite fills in for the session's own functions.
pub struct Context<'a> {
    pub role: &'a str,
    pub database: &'a str,
    pub pid: i32,
    pub version: &'a str,
    /// The value `SHOW`/`current_setting` gives a setting, if it is one.
    pub setting: &'a dyn Fn(&str) -> Option<String>,
    /// Tables of the role by `schema.table` and `table` (lower case), for `'name'::regclass`.
    pub relations: &'a HashMap<String, i64>,
}

/// Functions answered from the session rather than the catalog.
const SESSION_FUNCTIONS: &[&str] = &[
    "version",
    "current_database",
    "current_schema",
    "current_schemas",
    "current_setting",
    "set_config",
    "pg_backend_pid",
    "inet_server_addr",
    "inet_client_addr",
    "inet_server_port",
];

/// Keywords that name the session without parentheses.
const SESSION_KEYWORDS: &[&str] = &[
    "current_user",
    "session_user",
    "current_role",
    "current_catalog",
    "current_schema",
];

/// Postgres types with no DuckDB equivalent, as the DuckDB type a cast to them becomes.
const CAST_TYPES: &[(&str, &str)] = &[
    ("regclass", "BIGINT"),
    ("regtype", "BIGINT"),
    ("regproc", "BIGINT"),
    ("regprocedure", "BIGINT"),
    ("regnamespace", "BIGINT"),
    ("regrole", "BIGINT"),
    ("regoper", "BIGINT"),
    ("regconfig", "BIGINT"),
    ("oid", "BIGINT"),
    ("xid", "BIGINT"),
    ("cid", "BIGINT"),
    ("tid", "VARCHAR"),
    ("name", "VARCHAR"),
    ("char", "VARCHAR"),
    ("bpchar", "VARCHAR"),
    ("int2vector", "VARCHAR"),
    ("oidvector", "VARCHAR"),
    ("aclitem", "VARCHAR"),
    ("pg_node_tree", "VARCHAR"),
    ("sql_identifier", "VARCHAR"),
    ("character_data", "VARCHAR"),
    ("yes_or_no", "VARCHAR"),
    ("cardinal_number", "INTEGER"),
    ("time_stamp", "TIMESTAMPTZ"),
];

fn is_relation(name: &str) -> bool {
    TABLES.iter().any(|(t, _)| *t == name) || RENAMED.iter().any(|(pg, _)| *pg == name)
}

/// The emulated table a `pg_catalog` relation name stands for.
fn relation(name: &str) -> String {
    let stored = RENAMED
        .iter()
        .find(|(pg, _)| *pg == name)
        .map_or(name, |(_, ours)| ours);
    format!("{SCHEMA}.{stored}")
}

fn is_function(name: &str) -> bool {
    name == "format_type" || FUNCTIONS.iter().any(|(f, _)| *f == name)
}

/// Does `sql` ask the Postgres catalogs or the session (and so belong to the catalog database)?
pub fn is_catalog_query(sql: &str) -> bool {
    let t = meaningful(sql);
    t.iter().enumerate().any(|(i, tok)| {
        let Some(id) = tok.identifier() else {
            return false;
        };
        let called = t.get(i + 1).is_some_and(|n| n.is_symbol("("));
        let after_cast = i > 0 && t[i - 1].is_symbol("::");
        id == "pg_catalog"
            || id == "information_schema"
            || (tok.kind == Kind::Word && is_relation(&id))
            || (called && id.starts_with("pg_"))
            || (called && (is_function(&id) || SESSION_FUNCTIONS.contains(&id.as_str())))
            || (tok.kind == Kind::Word && SESSION_KEYWORDS.contains(&id.as_str()))
            || (after_cast && CAST_TYPES.iter().any(|(n, _)| *n == id))
    })
}

/// `sql` rewritten for the catalog database.
pub fn rewrite(sql: &str, cx: &Context) -> String {
    let all = tokens(sql);
    let mut out = String::with_capacity(sql.len() + 64);
    let mut i = 0;
    while i < all.len() {
        let (text, used) = step(&all, i, cx);
        out.push_str(&text);
        i += used.max(1);
    }
    out
}

/// The next meaningful token at or after `i`, and its index.
fn next<'a>(all: &[Token<'a>], i: usize) -> Option<(usize, Token<'a>)> {
    all.iter()
        .enumerate()
        .skip(i)
        .find(|(_, t)| t.is_meaningful())
        .map(|(j, t)| (j, *t))
}

/// The previous meaningful token before `i`.
fn prev<'a>(all: &[Token<'a>], i: usize) -> Option<Token<'a>> {
    all[..i].iter().rev().find(|t| t.is_meaningful()).copied()
}

/// Rewrites the construct starting at token `i`: its replacement text and how many tokens it used.
fn step(all: &[Token], i: usize, cx: &Context) -> (String, usize) {
    let t = all[i];
    let id = t.identifier();
    let after_dot = prev(all, i).is_some_and(|p| p.is_symbol("."));
    if t.is_word("OPERATOR")
        && let Some(r) = operator(all, i)
    {
        return r;
    }
    if t.is_word("COLLATE")
        && let Some(r) = collate(all, i)
    {
        return r;
    }
    if t.is_symbol("::")
        && let Some(r) = cast(all, i)
    {
        return r;
    }
    if t.kind == Kind::String
        && let Some(r) = regclass_constant(all, i, cx)
    {
        return r;
    }
    if t.kind == Kind::String
        && let Some(r) = partial_match_pattern(all, i)
    {
        return r;
    }
    let Some(id) = id.filter(|_| !after_dot) else {
        return (t.text.to_string(), 1);
    };
    if id == "pg_catalog" || id == "information_schema" {
        if let Some(r) = qualified(all, i, &id, cx) {
            return r;
        }
        return (t.text.to_string(), 1);
    }
    if let Some(r) = session_value(all, i, i, &id, cx) {
        return r;
    }
    let called = next(all, i + 1).is_some_and(|(_, n)| n.is_symbol("("));
    if called && is_function(&id) {
        return (format!("{SCHEMA}.{id}"), 1);
    }
    if !called && matches!(t.kind, Kind::Word | Kind::QuotedIdent) && is_relation(&id) {
        return (relation(&id), 1);
    }
    (t.text.to_string(), 1)
}

/// `pg_catalog.x` / `information_schema.x` at token `i`.
fn qualified(all: &[Token], i: usize, schema: &str, cx: &Context) -> Option<(String, usize)> {
    let (dot, d) = next(all, i + 1)?;
    if !d.is_symbol(".") {
        return None;
    }
    let (j, name_tok) = next(all, dot + 1)?;
    let name = name_tok.identifier()?;
    let called = next(all, j + 1).is_some_and(|(_, n)| n.is_symbol("("));
    let used = j + 1 - i;
    if schema == "information_schema" {
        if called && is_function(&name) {
            return Some((format!("{SCHEMA}.{name}"), used));
        }
        let known = INFORMATION_SCHEMA.iter().any(|(n, _)| *n == name);
        return known.then(|| (format!("{SCHEMA}.information_schema_{name}"), used));
    }
    if called {
        if is_function(&name) {
            return Some((format!("{SCHEMA}.{name}"), used));
        }
        if let Some((text, more)) = session_value(all, i, j, &name, cx) {
            return Some((text, j - i + more));
        }
        // A built-in DuckDB also has (`unnest`, `array_to_string`, `lower`…).
        return Some((name_tok.text.to_string(), used));
    }
    if is_relation(&name) {
        return Some((relation(&name), used));
    }
    // A type (`pg_catalog.text`) or a catalog this endpoint does not emulate: the bare name.
    Some((name_tok.text.to_string(), used))
}

/// `OPERATOR(pg_catalog.~)` → `~`.
fn operator(all: &[Token], i: usize) -> Option<(String, usize)> {
    let (open, o) = next(all, i + 1)?;
    if !o.is_symbol("(") {
        return None;
    }
    let close = (open + 1..all.len()).find(|&k| all[k].is_symbol(")"))?;
    let inner: Vec<&Token> = all[open + 1..close].iter().filter(|t| t.is_meaningful()).collect();
    let start = inner.iter().position(|t| t.is_symbol(".")).map_or(0, |p| p + 1);
    let op: String = inner[start..].iter().map(|t| t.text).collect();
    Some((format!(" {op} "), close + 1 - i))
}

/// `COLLATE pg_catalog."default"`, `COLLATE "C"` → nothing (DuckDB's comparisons are already binary).
fn collate(all: &[Token], i: usize) -> Option<(String, usize)> {
    let (mut j, first) = next(all, i + 1)?;
    first.identifier()?;
    while let Some((dot, d)) = next(all, j + 1) {
        if !d.is_symbol(".") {
            break;
        }
        let (k, part) = next(all, dot + 1)?;
        part.identifier()?;
        j = k;
    }
    Some((" ".into(), j + 1 - i))
}

/// `::regclass`, `::pg_catalog.name`, `::oid[]` → a DuckDB type.
fn cast(all: &[Token], i: usize) -> Option<(String, usize)> {
    let (mut j, mut name_tok) = next(all, i + 1)?;
    if matches!(
        name_tok.identifier().as_deref(),
        Some("pg_catalog" | "information_schema")
    ) && let Some((dot, d)) = next(all, j + 1)
        && d.is_symbol(".")
    {
        (j, name_tok) = next(all, dot + 1)?;
    }
    let name = name_tok.identifier()?;
    let mapped = CAST_TYPES.iter().find(|(n, _)| *n == name).map(|(_, t)| *t);
    let qualified = j > next(all, i + 1)?.0;
    match (mapped, qualified) {
        (Some(t), _) => Some((format!("::{t}"), j + 1 - i)),
        (None, true) => Some((format!("::{}", name_tok.text), j + 1 - i)),
        (None, false) => None,
    }
}

/// `'crm.customers'::regclass` → the table's OID (0 when the role has no such table).
fn regclass_constant(all: &[Token], i: usize, cx: &Context) -> Option<(String, usize)> {
    let (c, colons) = next(all, i + 1)?;
    if !colons.is_symbol("::") {
        return None;
    }
    let (mut j, mut ty) = next(all, c + 1)?;
    if ty.identifier().as_deref() == Some("pg_catalog")
        && let Some((dot, d)) = next(all, j + 1)
        && d.is_symbol(".")
    {
        (j, ty) = next(all, dot + 1)?;
    }
    if ty.identifier().as_deref() != Some("regclass") {
        return None;
    }
    let text = all[i].text;
    let name = text[1..text.len().saturating_sub(1)].replace("''", "'");
    let key: String = name
        .split('.')
        .map(|p| p.trim_matches('"'))
        .collect::<Vec<_>>()
        .join(".");
    let key = key.to_ascii_lowercase();
    let system = SYSTEM_OIDS
        .iter()
        .find(|(name, _)| key == *name || key.strip_prefix("pg_catalog.") == Some(name));
    let oid = match (key.trim().parse::<i64>(), system) {
        (Ok(oid), _) => oid,
        (_, Some((_, oid))) => *oid,
        _ => cx.relations.get(&key).copied().unwrap_or(0),
    };
    Some((oid.to_string(), j + 1 - i))
}

/// The OIDs Postgres gives its own catalogs (`'pg_class'::regclass` in description joins).
const SYSTEM_OIDS: &[(&str, i64)] = &[
    ("pg_class", 1259),
    ("pg_type", 1247),
    ("pg_attribute", 1249),
    ("pg_proc", 1255),
    ("pg_namespace", 2615),
    ("pg_constraint", 2606),
    ("pg_database", 1262),
    ("pg_index", 2610),
    ("pg_trigger", 2620),
];

/// The pattern of `x ~ 'pattern'`: Postgres finds it anywhere in `x`, DuckDB's `~` must match all of `x`, so
/// the pattern is wrapped to match anywhere (`'^pg_'` → `'(?s).*(?:^pg_).*'`).
fn partial_match_pattern(all: &[Token], i: usize) -> Option<(String, usize)> {
    let op = prev(all, i)?;
    if !op.is_symbol("~") || !all[i].text.starts_with('\'') {
        return None;
    }
    let pattern = &all[i].text[1..all[i].text.len().saturating_sub(1)];
    Some((format!("'(?s).*(?:{pattern}).*'"), 1))
}

/// The session's own functions and keywords as constants: (text, tokens used).
/// A session function as a constant, named as Postgres names its column when it is a whole select item
/// (`SELECT version()` has a column `version`). `start` is where the expression starts (its `pg_catalog.`).
fn session_value(all: &[Token], start: usize, i: usize, id: &str, cx: &Context) -> Option<(String, usize)> {
    let (text, used) = session_constant(all, i, id, cx)?;
    let end = i + used;
    let before = prev(all, start).is_some_and(|p| p.is_word("SELECT") || p.is_symbol(","));
    let after = next(all, end).is_none_or(|(_, n)| {
        n.is_symbol(",") || n.is_symbol(";") || n.is_word("FROM") || n.is_word("UNION") || n.is_word("ORDER")
    });
    let named = if before && after {
        format!("{text} AS \"{id}\"")
    } else {
        text
    };
    Some((named, used))
}

fn session_constant(all: &[Token], i: usize, id: &str, cx: &Context) -> Option<(String, usize)> {
    let call = next(all, i + 1).filter(|(_, n)| n.is_symbol("("));
    let args_end = call.and_then(|(open, _)| (open + 1..all.len()).find(|&k| all[k].is_symbol(")")));
    let with_args = |text: String| Some((text, args_end? + 1 - i));
    let keyword = |text: String| match args_end {
        Some(end) if call.is_some_and(|(open, _)| next(all, open + 1).is_some_and(|(k, _)| k == end)) => {
            Some((text, end + 1 - i))
        }
        _ => Some((text, 1)),
    };
    match id {
        "version" if call.is_some() => with_args(string_literal(cx.version)),
        "current_database" if call.is_some() => with_args(string_literal(cx.database)),
        "current_catalog" => keyword(string_literal(cx.database)),
        "current_schema" => keyword("'main'".into()),
        "current_schemas" if call.is_some() => {
            let all_schemas = args_end.is_some_and(|end| all[i..end].iter().any(|t| t.is_word("true")));
            with_args(
                if all_schemas {
                    "['pg_catalog', 'main']"
                } else {
                    "['main']"
                }
                .into(),
            )
        }
        "current_user" | "session_user" | "current_role" => keyword(string_literal(cx.role)),
        "pg_backend_pid" if call.is_some() => with_args(cx.pid.to_string()),
        "inet_server_addr" | "inet_client_addr" | "inet_server_port" if call.is_some() => with_args("NULL".into()),
        "current_setting" | "set_config" if call.is_some() => {
            let (open, _) = call?;
            let (_, arg) = next(all, open + 1)?;
            if arg.kind != Kind::String || !arg.text.starts_with('\'') {
                return None;
            }
            let name = arg.text[1..arg.text.len() - 1].replace("''", "'");
            let value = if id == "set_config" {
                let (_, value) = next(all, next(all, next(all, open + 1)?.0 + 1)?.0 + 1)?;
                (value.kind == Kind::String).then(|| value.text.to_string())?
            } else {
                // Only Postgres settings are answered; any other name is left for the guard to refuse.
                string_literal(&(cx.setting)(&name)?)
            };
            with_args(value)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(sql: &str) -> String {
        let relations = HashMap::from([("crm.customers".to_string(), 20001i64)]);
        let setting = |n: &str| (n == "server_version_num").then(|| "160006".to_string());
        let cx = Context {
            role: "analyst",
            database: "meshbox",
            pid: 7,
            version: "PostgreSQL 16.6",
            setting: &setting,
            relations: &relations,
        };
        rewrite(sql, &cx).split_whitespace().collect::<Vec<_>>().join(" ")
    }

    #[test]
    fn catalog_names_point_at_the_emulated_catalogs() {
        assert_eq!(
            rewritten("SELECT c.relname FROM pg_catalog.pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"),
            "SELECT c.relname FROM pgc.pg_class c JOIN pgc.pg_namespace n ON n.oid = c.relnamespace"
        );
        assert_eq!(
            rewritten("SELECT pg_catalog.pg_get_userbyid(c.relowner), format_type(1, 2), pg_catalog.lower('A')"),
            "SELECT pgc.pg_get_userbyid(c.relowner), pgc.format_type(1, 2), lower('A')"
        );
        assert_eq!(
            rewritten("SELECT * FROM pg_settings"),
            "SELECT * FROM pgc.pg_settings_emulated"
        );
        assert_eq!(
            rewritten("SELECT * FROM information_schema.tables"),
            "SELECT * FROM pgc.information_schema_tables"
        );
        // Column references qualified by a catalog name keep working.
        assert_eq!(
            rewritten("SELECT pg_class.relname FROM pg_class"),
            "SELECT pgc.pg_class.relname FROM pgc.pg_class"
        );
    }

    #[test]
    fn postgres_only_syntax_becomes_duckdb_syntax() {
        assert_eq!(
            rewritten("WHERE c.relname OPERATOR(pg_catalog.~) '^(t)$' COLLATE pg_catalog.default AND x = 1"),
            "WHERE c.relname ~ '^(t)$' AND x = 1"
        );
        assert_eq!(
            rewritten("SELECT c.oid::pg_catalog.regclass, x::oid[], y::pg_catalog.text"),
            "SELECT c.oid::BIGINT, x::BIGINT[], y::text"
        );
        assert_eq!(
            rewritten("WHERE c.oid = 'crm.customers'::regclass"),
            "WHERE c.oid = 20001"
        );
        assert_eq!(rewritten("WHERE c.oid = 'nope'::regclass"), "WHERE c.oid = 0");
        assert_eq!(rewritten("VALUES ('16384'::pg_catalog.regclass)"), "VALUES (16384)");
        assert_eq!(rewritten("SELECT 'x' COLLATE \"C\""), "SELECT 'x'");
        assert_eq!(
            rewritten("WHERE n.nspname !~ '^pg_' AND d.classoid = 'pg_class'::regclass"),
            "WHERE n.nspname !~ '(?s).*(?:^pg_).*' AND d.classoid = 1259"
        );
        assert_eq!(
            rewritten("FROM \"pg_catalog\".\"pg_class\" AS \"c\" LEFT JOIN \"pg_stat_user_tables\" AS s"),
            "FROM pgc.pg_class AS \"c\" LEFT JOIN pgc.pg_stat_user_tables AS s"
        );
    }

    #[test]
    fn session_functions_become_constants() {
        assert_eq!(
            rewritten("SELECT version(), current_database(), current_schema() AS s, current_schema, current_user"),
            "SELECT 'PostgreSQL 16.6' AS \"version\", 'meshbox' AS \"current_database\", 'main' AS s, \
             'main' AS \"current_schema\", 'analyst' AS \"current_user\""
        );
        assert_eq!(
            rewritten("SELECT x FROM t WHERE current_setting('server_version_num') > '1' OR pg_backend_pid() = 1"),
            "SELECT x FROM t WHERE '160006' > '1' OR 7 = 1"
        );
        // A name that is not a Postgres setting is left for the guard to refuse.
        assert_eq!(
            rewritten("SELECT current_setting('temp_directory')"),
            "SELECT current_setting('temp_directory')"
        );
        assert_eq!(
            rewritten("SELECT pg_catalog.current_schemas(true)"),
            "SELECT ['pg_catalog', 'main'] AS \"current_schemas\""
        );
        assert_eq!(rewritten("SELECT current_setting(x)"), "SELECT current_setting(x)");
    }

    #[test]
    fn only_catalog_and_session_queries_are_routed_to_the_catalog() {
        for sql in [
            "SELECT * FROM pg_catalog.pg_class",
            "select * from information_schema.columns",
            "SELECT version()",
            "SELECT current_user",
            "SELECT current_setting('x')",
            "SELECT 1::regclass",
            "SELECT format_type(23, -1)",
        ] {
            assert!(is_catalog_query(sql), "{sql}");
        }
        for sql in [
            "SELECT * FROM crm.customers",
            "SELECT version FROM mesh.products",
            "SELECT 'pg_class'",
            "SELECT * FROM duckdb_tables()",
        ] {
            assert!(!is_catalog_query(sql), "{sql}");
        }
    }
}
