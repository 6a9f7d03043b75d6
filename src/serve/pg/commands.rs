//! The statements the endpoint answers itself, without DuckDB: `SET`/`RESET` of Postgres client settings (accepted,
//! no effect), `SHOW` of settings, transaction control (accepted: every statement is a read anyway), `DISCARD` and
//! `DEALLOCATE`. Everything else is a query for the guarded path.

use super::sql_text::{Kind, Token, meaningful};

/// What a statement asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Set {
        name: String,
        value: String,
    },
    Reset {
        name: Option<String>,
    },
    /// `SHOW name` of a setting (`all` for every one).
    Show {
        name: String,
    },
    Begin,
    Commit,
    Rollback,
    /// Accepted with no effect, answered with this command tag.
    NoOp(&'static str),
    /// `DEALLOCATE name` (None: `ALL`).
    Deallocate(Option<String>),
    /// Refused before it reaches DuckDB, with the reason.
    Refused(String),
    /// A query for the guarded path.
    Query,
}

/// A Postgres setting the endpoint knows: clients may `SET` the client ones (no effect) and `SHOW` all of them.
pub struct Setting {
    pub name: &'static str,
    pub value: &'static str,
    pub client: bool,
}

const fn client(name: &'static str, value: &'static str) -> Setting {
    Setting {
        name,
        value,
        client: true,
    }
}

const fn server(name: &'static str, value: &'static str) -> Setting {
    Setting {
        name,
        value,
        client: false,
    }
}

/// The settings, with the values a Postgres 16 server in the UTC zone would show. `server_version`,
/// `session_authorization`, `statement_timeout` and `application_name` are filled in per connection.
pub const SETTINGS: &[Setting] = &[
    client("application_name", ""),
    client("array_nulls", "on"),
    client("backslash_quote", "safe_encoding"),
    client("bytea_output", "hex"),
    client("check_function_bodies", "on"),
    client("client_encoding", "UTF8"),
    client("client_min_messages", "notice"),
    client("datestyle", "ISO, MDY"),
    client("default_transaction_deferrable", "off"),
    client("default_transaction_isolation", "read committed"),
    client("default_transaction_read_only", "on"),
    client("escape_string_warning", "on"),
    client("extra_float_digits", "1"),
    client("geqo", "on"),
    client("idle_in_transaction_session_timeout", "0"),
    client("idle_session_timeout", "0"),
    client("intervalstyle", "postgres"),
    client("jit", "off"),
    client("lc_messages", "C"),
    client("lc_monetary", "C"),
    client("lc_numeric", "C"),
    client("lc_time", "C"),
    client("lock_timeout", "0"),
    client("max_parallel_workers_per_gather", "2"),
    client("plan_cache_mode", "auto"),
    client("quote_all_identifiers", "off"),
    client("row_security", "on"),
    client("search_path", "\"$user\", public"),
    client("standard_conforming_strings", "on"),
    client("statement_timeout", "0"),
    client("synchronous_commit", "on"),
    client("timezone", "UTC"),
    client("transaction_deferrable", "off"),
    client("transaction_isolation", "read committed"),
    client("transaction_read_only", "on"),
    client("work_mem", "4MB"),
    client("xmloption", "content"),
    server("block_size", "8192"),
    server("in_hot_standby", "off"),
    server("integer_datetimes", "on"),
    server("is_superuser", "off"),
    server("lc_collate", "C"),
    server("lc_ctype", "C"),
    server("max_connections", "100"),
    server("max_identifier_length", "63"),
    server("max_index_keys", "32"),
    server("server_encoding", "UTF8"),
    server("server_version", "16.6"),
    server("server_version_num", "160006"),
    server("session_authorization", ""),
];

pub fn setting(name: &str) -> Option<&'static Setting> {
    let name = name.to_ascii_lowercase();
    SETTINGS.iter().find(|s| s.name == name)
}

/// What `sql` (one statement) asks for.
pub fn classify(sql: &str) -> Command {
    let t = meaningful(sql);
    let word = |i: usize| {
        t.get(i)
            .filter(|t| t.kind == Kind::Word)
            .map(|t| t.text.to_ascii_uppercase())
    };
    let Some(first) = word(0) else {
        return Command::Query;
    };
    let second = word(1);
    match first.as_str() {
        "SET" => set(&t[1..]),
        "RESET" => reset(&t[1..]),
        "SHOW" => show(&t[1..]),
        "BEGIN" | "START" => Command::Begin,
        "COMMIT" | "END" => Command::Commit,
        "ROLLBACK" | "ABORT" if t.iter().any(|x| x.is_word("TO")) => Command::NoOp("ROLLBACK"),
        "ROLLBACK" | "ABORT" => Command::Rollback,
        "SAVEPOINT" => Command::NoOp("SAVEPOINT"),
        "RELEASE" => Command::NoOp("RELEASE"),
        "DISCARD" => Command::NoOp("DISCARD ALL"),
        "UNLISTEN" => Command::NoOp("UNLISTEN"),
        "CLOSE" => Command::NoOp("CLOSE CURSOR"),
        "DEALLOCATE" => {
            let name = t
                .iter()
                .skip(1)
                .find(|x| !x.is_word("PREPARE"))
                .and_then(Token::identifier);
            Command::Deallocate(name.filter(|n| n != "all"))
        }
        "DECLARE" if second.is_some() => Command::Refused(
            "server-side cursors (DECLARE) are not supported: fetch with a client-side cursor; results stream anyway"
                .into(),
        ),
        _ => Command::Query,
    }
}

/// `SET [SESSION|LOCAL] name {=|TO} value`, `SET TIME ZONE …`, `SET NAMES …`, `SET [SESSION CHARACTERISTICS AS]
/// TRANSACTION …`.
fn set(t: &[Token]) -> Command {
    let t = match t.first() {
        Some(x) if x.is_word("SESSION") && !t.get(1).is_some_and(|y| y.is_word("AUTHORIZATION")) => &t[1..],
        Some(x) if x.is_word("LOCAL") => &t[1..],
        _ => t,
    };
    let Some(first) = t.first() else {
        return Command::Refused("SET needs a setting name".into());
    };
    if first.is_word("TRANSACTION") || first.is_word("CHARACTERISTICS") {
        return Command::NoOp("SET");
    }
    if first.is_word("ROLE") || first.is_word("SESSION") {
        return Command::Refused(
            "the role is the user name this connection was opened with: connect again as another role".into(),
        );
    }
    let (name, rest) = if first.is_word("TIME") && t.get(1).is_some_and(|x| x.is_word("ZONE")) {
        ("timezone".to_string(), &t[2..])
    } else if first.is_word("NAMES") {
        ("client_encoding".to_string(), &t[1..])
    } else {
        let (name, used) = dotted_name(t);
        let rest = &t[used..];
        match rest.first() {
            Some(x) if x.is_symbol("=") || x.is_word("TO") => (name, &rest[1..]),
            _ => return Command::Refused(format!("cannot read `SET {name} …`: write SET name = value")),
        }
    };
    if !setting(&name).is_some_and(|s| s.client) {
        return Command::Refused(refused_setting("SET", &name));
    }
    if rest.first().is_some_and(|x| x.is_word("DEFAULT") || x.is_word("LOCAL")) {
        return Command::Reset { name: Some(name) };
    }
    Command::Set {
        name,
        value: rest.iter().map(|x| unquote(x)).collect::<Vec<_>>().join(" "),
    }
}

fn reset(t: &[Token]) -> Command {
    if t.first().is_some_and(|x| x.is_word("ALL")) {
        return Command::Reset { name: None };
    }
    let (name, _) = dotted_name(t);
    if !setting(&name).is_some_and(|s| s.client) {
        return Command::Refused(refused_setting("RESET", &name));
    }
    Command::Reset { name: Some(name) }
}

/// `SHOW name` of a setting; DuckDB's own `SHOW TABLES`, `SHOW table` stay queries.
fn show(t: &[Token]) -> Command {
    let words: Vec<String> = t.iter().filter_map(Token::identifier).collect();
    let name = match words.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["all"] => "all".to_string(),
        ["time", "zone"] => "timezone".to_string(),
        ["transaction", "isolation", "level"] => "transaction_isolation".to_string(),
        ["session", "authorization"] => "session_authorization".to_string(),
        [one] if t.len() == 1 && setting(one).is_some() => one.to_string(),
        _ => return Command::Query,
    };
    Command::Show { name }
}

/// A possibly dotted name (`a`, `a.b`) and how many tokens it took.
fn dotted_name(t: &[Token]) -> (String, usize) {
    let mut parts = Vec::new();
    let mut i = 0;
    while let Some(id) = t.get(i).and_then(Token::identifier) {
        parts.push(id);
        if t.get(i + 1).is_some_and(|x| x.is_symbol(".")) {
            i += 2;
        } else {
            i += 1;
            break;
        }
    }
    (parts.join("."), i)
}

fn unquote(t: &Token) -> String {
    match t.kind {
        Kind::String if t.text.starts_with('\'') => t.text[1..t.text.len() - 1].replace("''", "'"),
        _ => t.identifier().unwrap_or_else(|| t.text.to_string()),
    }
}

fn refused_setting(verb: &str, name: &str) -> String {
    format!(
        "`{verb} {name}` is not allowed here: only Postgres client settings (application_name, DateStyle, TimeZone, \
         search_path, statement_timeout, extra_float_digits, …) can be set, and they have no effect; the database's \
         own settings cannot be changed"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_settings_are_accepted_and_database_settings_refused() {
        assert_eq!(
            classify("SET extra_float_digits = 3"),
            Command::Set {
                name: "extra_float_digits".into(),
                value: "3".into()
            }
        );
        assert_eq!(
            classify("set SESSION DateStyle TO 'ISO, MDY'"),
            Command::Set {
                name: "datestyle".into(),
                value: "ISO, MDY".into()
            }
        );
        assert_eq!(
            classify("SET TIME ZONE 'UTC'"),
            Command::Set {
                name: "timezone".into(),
                value: "UTC".into()
            }
        );
        assert_eq!(
            classify("SET application_name TO DEFAULT"),
            Command::Reset {
                name: Some("application_name".into())
            }
        );
        assert_eq!(
            classify("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY"),
            Command::NoOp("SET")
        );
        for refused in [
            "SET enable_external_access = true",
            "SET lock_configuration TO false",
            "RESET lock_configuration",
            "SET memory_limit = '100GB'",
            "SET ROLE admin",
            "SET SESSION AUTHORIZATION admin",
            "DECLARE c CURSOR FOR SELECT 1",
        ] {
            assert!(matches!(classify(refused), Command::Refused(_)), "{refused}");
        }
        assert_eq!(classify("RESET ALL"), Command::Reset { name: None });
    }

    #[test]
    fn show_answers_settings_and_leaves_duckdb_show_alone() {
        assert_eq!(
            classify("SHOW DateStyle"),
            Command::Show {
                name: "datestyle".into()
            }
        );
        assert_eq!(
            classify("show server_version"),
            Command::Show {
                name: "server_version".into()
            }
        );
        assert_eq!(
            classify("SHOW TRANSACTION ISOLATION LEVEL"),
            Command::Show {
                name: "transaction_isolation".into()
            }
        );
        assert_eq!(classify("SHOW ALL"), Command::Show { name: "all".into() });
        assert_eq!(classify("SHOW TABLES"), Command::Query);
        assert_eq!(classify("SHOW crm.customers"), Command::Query);
    }

    #[test]
    fn transactions_and_session_housekeeping_are_accepted() {
        assert_eq!(classify("BEGIN"), Command::Begin);
        assert_eq!(classify("start transaction read only"), Command::Begin);
        assert_eq!(classify("COMMIT"), Command::Commit);
        assert_eq!(classify("ROLLBACK"), Command::Rollback);
        assert_eq!(classify("ROLLBACK TO SAVEPOINT s"), Command::NoOp("ROLLBACK"));
        assert_eq!(classify("DISCARD ALL"), Command::NoOp("DISCARD ALL"));
        assert_eq!(
            classify("DEALLOCATE PREPARE s1"),
            Command::Deallocate(Some("s1".into()))
        );
        assert_eq!(classify("DEALLOCATE ALL"), Command::Deallocate(None));
        assert_eq!(classify("SELECT 1"), Command::Query);
        assert_eq!(classify("/* hi */ select 1"), Command::Query);
    }
}
