//! The SQL console's query path: one read-only SELECT, run on a fresh connection of the serving database under a
//! time limit, streamed batch by batch so a row cap stops the work instead of buffering the whole result.

use crate::base::sql_guard;
use crate::load::serving_db::ServingDb;
use duckdb::InterruptHandle;
use duckdb::arrow::datatypes::SchemaRef;
use duckdb::arrow::record_batch::RecordBatch;
use serde::Serialize;
use serde_json::Value as Json;
use std::ops::ControlFlow;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub time_limit: Duration,
    pub max_rows: usize,
}

/// A column of a result.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ResultColumn {
    pub name: String,
    #[serde(rename = "type")]
    pub data_type: String,
}

/// The answer of `POST /api/query`.
#[derive(Debug, Clone, Serialize)]
pub struct QueryOutput {
    pub columns: Vec<String>,
    pub types: Vec<String>,
    pub rows: Vec<Vec<Json>>,
    /// More rows existed than `max_rows`; only the first `max_rows` are returned.
    pub truncated: bool,
    pub row_count: usize,
    pub elapsed_ms: f64,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum QueryError {
    /// Not a single read-only SELECT, or a forbidden function.
    #[error("{0}")]
    Refused(String),
    /// DuckDB refused or failed the query; position when DuckDB points at one.
    #[error("{message}")]
    Sql {
        message: String,
        line: Option<usize>,
        column: Option<usize>,
    },
    #[error("the query took longer than the time limit of {limit_ms} ms and was stopped")]
    Timeout { limit_ms: u64 },
    #[error("the query was cancelled")]
    Cancelled,
    /// The database must be rebuilt (after an internal DuckDB error).
    #[error("{0}")]
    Unavailable(String),
}

impl QueryError {
    /// A short stable name for the JSON error object.
    pub fn kind(&self) -> &'static str {
        match self {
            QueryError::Refused(_) => "refused",
            QueryError::Sql { .. } => "sql",
            QueryError::Timeout { .. } => "timeout",
            QueryError::Cancelled => "cancelled",
            QueryError::Unavailable(_) => "unavailable",
        }
    }
}

/// Splits DuckDB's error text into a message and the position its caret line points at.
pub fn sql_error(text: &str) -> QueryError {
    let mut message = String::new();
    let mut line = None;
    let mut column = None;
    let lines: Vec<&str> = text.lines().collect();
    for (i, l) in lines.iter().enumerate() {
        if let Some(rest) = l.strip_prefix("LINE ") {
            if let Some((n, code)) = rest.split_once(": ") {
                line = n.trim().parse().ok();
                let prefix = l.len() - code.len();
                if let Some(caret) = lines.get(i + 1).and_then(|c| c.find('^')) {
                    column = Some(caret.saturating_sub(prefix) + 1);
                }
            }
            break;
        }
        if !l.trim().is_empty() && message.len() < 500 {
            if !message.is_empty() {
                message.push(' ');
            }
            message.push_str(l.trim());
        }
    }
    QueryError::Sql { message, line, column }
}

/// Runs `sql` and hands every result batch to `on_batch` until it says stop. `register` receives the interrupt handle
/// (for a cancel button) before execution starts.
pub fn execute(
    db: &ServingDb,
    sql: &str,
    time_limit: Duration,
    register: &dyn Fn(Arc<InterruptHandle>),
    on_batch: &mut dyn FnMut(&SchemaRef, &RecordBatch) -> ControlFlow<()>,
) -> Result<SchemaRef, QueryError> {
    if db.is_poisoned() {
        return Err(QueryError::Unavailable(
            "the database is being rebuilt after an internal error; try again in a moment".into(),
        ));
    }
    let conn = db.connect().map_err(|e| QueryError::Unavailable(e.to_string()))?;
    match sql_guard::inspect(&conn, sql) {
        Ok(_) => {}
        // A text that does not parse runs nothing, even when prepared: let DuckDB say where it stumbled.
        Err(sql_guard::Refusal::Syntax(m)) => {
            return Err(match conn.prepare(sql) {
                Err(e) => sql_error(&e.to_string()),
                Ok(_) => QueryError::Refused(m),
            });
        }
        Err(sql_guard::Refusal::Refused(m)) => return Err(QueryError::Refused(m)),
    }
    let handle = conn.interrupt_handle();
    register(handle.clone());
    let timed_out = Arc::new(AtomicBool::new(false));
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let watchdog = {
        let timed_out = timed_out.clone();
        let handle = handle.clone();
        std::thread::spawn(move || {
            if done_rx.recv_timeout(time_limit) == Err(mpsc::RecvTimeoutError::Timeout) {
                timed_out.store(true, Ordering::SeqCst);
                // An interrupt that lands before execution starts is dropped by DuckDB: repeat until done.
                loop {
                    handle.interrupt();
                    if done_rx.recv_timeout(Duration::from_millis(20)) != Err(mpsc::RecvTimeoutError::Timeout) {
                        break;
                    }
                }
            }
        })
    };
    let rendered = crate::base::values::with_text_columns(&conn, sql);
    let sql = rendered.as_deref().unwrap_or(sql);
    let result = (|| -> Result<SchemaRef, duckdb::Error> {
        let mut stmt = conn.prepare(sql)?;
        let stream = stmt.stream_arrow([])?;
        let schema = stream.get_schema();
        for batch in stream {
            let batch = batch?;
            if on_batch(&schema, &batch).is_break() {
                break;
            }
        }
        Ok(schema)
    })();
    let _ = done_tx.send(());
    let _ = watchdog.join();
    result.map_err(|e| {
        let text = e.to_string();
        if text.contains("INTERRUPT") {
            if timed_out.load(Ordering::SeqCst) {
                QueryError::Timeout {
                    limit_ms: time_limit.as_millis() as u64,
                }
            } else {
                QueryError::Cancelled
            }
        } else if text.contains("INTERNAL Error") {
            db.mark_poisoned();
            QueryError::Unavailable("DuckDB reported an internal error; the database is being rebuilt".into())
        } else {
            sql_error(&text)
        }
    })
}

/// Runs a query and returns at most `max_rows` rows as JSON, flagging `truncated` when more exist.
pub fn run(
    db: &ServingDb,
    sql: &str,
    limits: &Limits,
    register: &dyn Fn(Arc<InterruptHandle>),
) -> Result<QueryOutput, QueryError> {
    let started = Instant::now();
    let mut rows: Vec<Vec<Json>> = Vec::new();
    let mut truncated = false;
    let schema = execute(db, sql, limits.time_limit, register, &mut |_, batch| {
        let room = limits.max_rows + 1 - rows.len();
        rows.extend(crate::base::values::batch_rows(batch, room));
        if rows.len() > limits.max_rows {
            truncated = true;
            rows.truncate(limits.max_rows);
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    })?;
    let columns = schema.fields().iter().map(|f| f.name().clone()).collect();
    let types = schema
        .fields()
        .iter()
        .map(|f| crate::base::values::type_name(f))
        .collect();
    Ok(QueryOutput {
        columns,
        types,
        row_count: rows.len(),
        rows,
        truncated,
        elapsed_ms: (started.elapsed().as_secs_f64() * 1000.0 * 10.0).round() / 10.0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_position_from_caret() {
        let e =
            sql_error("Parser Error: syntax error at or near \"FORM\"\n\nLINE 1: SELECT * FORM t\n                 ^");
        assert_eq!(
            e,
            QueryError::Sql {
                message: "Parser Error: syntax error at or near \"FORM\"".into(),
                line: Some(1),
                column: Some(10)
            }
        );
    }
}
