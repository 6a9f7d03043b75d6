//! The endpoint's errors as Postgres `ErrorResponse`s: a SQLSTATE code for each kind of failure (refusals are
//! `42501 insufficient_privilege`, timeouts and cancels `57014 query_canceled`, DuckDB's errors by their class) and
//! the character position DuckDB points at.

use crate::serve::query::QueryError;
use pgwire::error::{ErrorInfo, PgWireError, SEVERITY_ERROR, SEVERITY_FATAL};

pub const INSUFFICIENT_PRIVILEGE: &str = "42501";
pub const QUERY_CANCELED: &str = "57014";
pub const PROGRAM_LIMIT_EXCEEDED: &str = "54000";
pub const FEATURE_NOT_SUPPORTED: &str = "0A000";
pub const CANNOT_CONNECT_NOW: &str = "57P03";
pub const TOO_MANY_CONNECTIONS: &str = "53300";
pub const INVALID_AUTHORIZATION: &str = "28000";
pub const INVALID_PASSWORD: &str = "28P01";
pub const PROTOCOL_VIOLATION: &str = "08P01";

/// An `ERROR` with `code`.
pub fn error(code: &str, message: impl Into<String>) -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new(
        SEVERITY_ERROR.to_owned(),
        code.to_owned(),
        message.into(),
    )))
}

/// A `FATAL` error: the connection ends after it.
pub fn fatal(code: &str, message: impl Into<String>) -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new(
        SEVERITY_FATAL.to_owned(),
        code.to_owned(),
        message.into(),
    )))
}

/// A failed query as an error response. `sql` is the text DuckDB saw; `offset` how many characters of the client's
/// query string come before it, when the client's text is what ran (otherwise no position is given).
pub fn query_error(e: &QueryError, sql: &str, offset: Option<usize>) -> PgWireError {
    let mut info = ErrorInfo::new(SEVERITY_ERROR.to_owned(), sqlstate(e).to_owned(), message(e));
    if let (
        QueryError::Sql {
            line: Some(l),
            column: Some(c),
            ..
        },
        Some(offset),
    ) = (e, offset)
    {
        info.position = char_position(sql, *l, *c).map(|p| (p + offset).to_string());
    }
    if let QueryError::Refused(_) = e {
        info.hint = Some(
            "the Postgres endpoint answers read-only SELECT queries on the tables this role may read, as the SQL \
             console does"
                .into(),
        );
    }
    PgWireError::UserError(Box::new(info))
}

fn message(e: &QueryError) -> String {
    match e {
        QueryError::Timeout { .. } => format!("canceling statement due to statement timeout: {e}"),
        QueryError::Cancelled => "canceling statement due to user request".into(),
        other => other.to_string(),
    }
}

/// The SQLSTATE of a query error.
pub fn sqlstate(e: &QueryError) -> &'static str {
    match e {
        QueryError::Refused(_) => INSUFFICIENT_PRIVILEGE,
        QueryError::Timeout { .. } | QueryError::Cancelled => QUERY_CANCELED,
        QueryError::Unavailable(_) => CANNOT_CONNECT_NOW,
        QueryError::Sql { message, .. } => duckdb_sqlstate(message),
    }
}

/// DuckDB's error classes as Postgres codes.
pub fn duckdb_sqlstate(message: &str) -> &'static str {
    let lower = message.to_ascii_lowercase();
    let class = message.split(" Error").next().unwrap_or("");
    match class {
        "Parser" => "42601",
        "Catalog" if lower.contains("table with name") || lower.contains("table or view") => "42P01",
        "Catalog" if lower.contains("function") || lower.contains("macro") => "42883",
        "Catalog" if lower.contains("schema") => "3F000",
        "Catalog" if lower.contains("type with name") => "42704",
        "Catalog" => "42P01",
        "Binder" if lower.contains("column") => "42703",
        "Binder" if lower.contains("function") || lower.contains("no function matches") => "42883",
        "Binder" => "42P18",
        "Conversion" => "22P02",
        "Out of Range" => "22003",
        "Invalid Input" => "22023",
        "Permission" => INSUFFICIENT_PRIVILEGE,
        "Out of Memory" => "53200",
        "Not implemented" => FEATURE_NOT_SUPPORTED,
        "INTERRUPT" => QUERY_CANCELED,
        _ if lower.contains("division by zero") => "22012",
        _ => "XX000",
    }
}

/// The 1-based character position of (`line`, `column`) in `sql`.
fn char_position(sql: &str, line: usize, column: usize) -> Option<usize> {
    let mut chars_before = 0;
    for (i, text) in sql.split('\n').enumerate() {
        if i + 1 == line {
            return Some(chars_before + column.min(text.chars().count() + 1));
        }
        chars_before += text.chars().count() + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(e: PgWireError) -> (String, Option<String>) {
        match e {
            PgWireError::UserError(info) => (info.code, info.position),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn query_errors_carry_sqlstates_and_positions() {
        let syntax = QueryError::Sql {
            message: "Parser Error: syntax error at or near \"FORM\"".into(),
            line: Some(2),
            column: Some(3),
        };
        assert_eq!(
            code(query_error(&syntax, "SELECT *\n  FORM t", Some(0))),
            ("42601".into(), Some("12".into()))
        );
        assert_eq!(
            code(query_error(&syntax, "SELECT *\n  FORM t", Some(4))).1.as_deref(),
            Some("16")
        );
        assert_eq!(code(query_error(&syntax, "SELECT *\n  FORM t", None)).1, None);
        assert_eq!(
            code(query_error(&QueryError::Refused("no".into()), "", None)).0,
            "42501"
        );
        assert_eq!(code(query_error(&QueryError::Cancelled, "", None)).0, "57014");
        assert_eq!(
            code(query_error(&QueryError::Timeout { limit_ms: 5 }, "", None)).0,
            "57014"
        );
        assert_eq!(
            duckdb_sqlstate("Catalog Error: Table with name nope does not exist!"),
            "42P01"
        );
        assert_eq!(
            duckdb_sqlstate("Binder Error: Referenced column \"x\" not found"),
            "42703"
        );
        assert_eq!(
            duckdb_sqlstate("Conversion Error: Could not convert string 'a' to INT32"),
            "22P02"
        );
    }
}
