//! Streamed exports of a query result as CSV or JSON: batches are encoded as DuckDB produces them and handed to
//! the HTTP response through a bounded channel, up to an export row cap.

use crate::load::serving_db::ServingDb;
use crate::serve::query::{QueryError, execute};
use duckdb::arrow::record_batch::RecordBatch;
use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Json,
}

impl ExportFormat {
    pub fn parse(s: &str) -> Option<ExportFormat> {
        match s.to_ascii_lowercase().as_str() {
            "csv" => Some(ExportFormat::Csv),
            "json" => Some(ExportFormat::Json),
            _ => None,
        }
    }

    pub fn content_type(&self) -> &'static str {
        match self {
            ExportFormat::Csv => "text/csv; charset=utf-8",
            ExportFormat::Json => "application/json",
        }
    }

    pub fn extension(&self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::Json => "json",
        }
    }
}

/// Encodes batches one after the other; `finish` closes the document.
struct Encoder {
    format: ExportFormat,
    wrote_header: bool,
    rows: usize,
}

impl Encoder {
    fn batch(&mut self, batch: &RecordBatch) -> Result<Vec<u8>, String> {
        let mut out = Vec::with_capacity(batch.num_rows() * 64);
        match self.format {
            ExportFormat::Csv => {
                let mut w = arrow_csv::WriterBuilder::new()
                    .with_header(!self.wrote_header)
                    .build(&mut out);
                w.write(&crate::base::values::flat(batch)?).map_err(|e| e.to_string())?;
                drop(w);
            }
            ExportFormat::Json => {
                let fields = crate::base::values::fields(batch);
                let names: Vec<Vec<u8>> = fields
                    .iter()
                    .map(|f| serde_json::to_vec(f.name()).expect("names serialize"))
                    .collect();
                let options = crate::base::values::json_options();
                let mut enc = crate::base::values::RowEncoder::new(batch, &fields, &options);
                if !self.wrote_header {
                    out.push(b'[');
                }
                for row in 0..batch.num_rows() {
                    if self.rows + row > 0 {
                        out.push(b',');
                    }
                    out.extend_from_slice(b"\n{");
                    for (i, name) in names.iter().enumerate() {
                        if i > 0 {
                            out.push(b',');
                        }
                        out.extend_from_slice(name);
                        out.push(b':');
                        enc.cell(row, i, &mut out);
                    }
                    out.push(b'}');
                }
            }
        }
        self.wrote_header = true;
        self.rows += batch.num_rows();
        Ok(out)
    }

    fn finish(&self) -> Vec<u8> {
        match self.format {
            ExportFormat::Csv => Vec::new(),
            ExportFormat::Json if self.wrote_header => b"\n]\n".to_vec(),
            ExportFormat::Json => b"[]\n".to_vec(),
        }
    }
}

/// Runs `sql` on a blocking thread and streams the encoded result. Errors before the first row are returned as
/// `Err` (so the caller can answer 4xx); later ones end the stream early.
/// Called once when an export ends, with the rows written and the outcome (`ok` or an error kind).
pub type Finished = Box<dyn FnOnce(u64, &str) + Send>;

pub async fn stream(
    db: Arc<ServingDb>,
    sql: String,
    format: ExportFormat,
    time_limit: Duration,
    max_rows: usize,
    finished: Finished,
) -> Result<tokio::sync::mpsc::Receiver<Result<Vec<u8>, std::io::Error>>, QueryError> {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(8);
    let (started_tx, started_rx) = tokio::sync::oneshot::channel::<Result<(), QueryError>>();
    tokio::task::spawn_blocking(move || {
        let mut started = Some(started_tx);
        let mut enc = Encoder {
            format,
            wrote_header: false,
            rows: 0,
        };
        let result = execute(&db, &sql, time_limit, &|_| {}, &mut |_, batch| {
            if let Some(s) = started.take() {
                let _ = s.send(Ok(()));
            }
            let room = max_rows.saturating_sub(enc.rows);
            let batch = if batch.num_rows() > room {
                batch.slice(0, room)
            } else {
                batch.clone()
            };
            match enc.batch(&batch) {
                Ok(bytes) => {
                    if tx.blocking_send(Ok(bytes)).is_err() {
                        return ControlFlow::Break(());
                    }
                }
                Err(e) => {
                    let _ = tx.blocking_send(Err(std::io::Error::other(e)));
                    return ControlFlow::Break(());
                }
            }
            if enc.rows >= max_rows {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        });
        finished(
            enc.rows as u64,
            match &result {
                Ok(_) => "ok",
                Err(e) => e.kind(),
            },
        );
        match result {
            Ok(schema) => {
                if let Some(s) = started.take() {
                    let _ = s.send(Ok(()));
                }
                if !enc.wrote_header {
                    // No rows at all: still write the CSV header (or `[]`).
                    if let Ok(bytes) = enc.batch(&RecordBatch::new_empty(schema)) {
                        let _ = tx.blocking_send(Ok(bytes));
                    }
                }
                let _ = tx.blocking_send(Ok(enc.finish()));
            }
            Err(e) => match started.take() {
                Some(s) => {
                    let _ = s.send(Err(e));
                }
                None => {
                    let _ = tx.blocking_send(Err(std::io::Error::other(e.to_string())));
                }
            },
        }
    });
    match started_rx.await {
        Ok(Ok(())) => Ok(rx),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(QueryError::Unavailable("the export stopped before it started".into())),
    }
}
