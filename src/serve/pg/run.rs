//! Running one query for a client: the console's guarded `execute` on a fresh connection of the role's database
//! (or of its catalog database), on a blocking thread that encodes each Arrow batch into `DataRow`s and hands them
//! over a bounded channel. The client's reading counts against the time limit; more rows than `--pg-max-rows` end
//! the query with an error; every query is audited under the `pg` endpoint.

use super::Endpoint;
use super::encode::BatchEncoder;
use super::errors::{self, PROGRAM_LIMIT_EXCEEDED, query_error};
use super::session::Session;
use super::types::{self, PgColumn};
use crate::load::serving_db::ServingDb;
use crate::serve::query::{QueryError, execute};
use duckdb::arrow::array::{Array, AsArray};
use duckdb::arrow::datatypes::{DataType, SchemaRef};
use duckdb::arrow::record_batch::RecordBatch;
use futures_util::stream::{self, StreamExt};
use pgwire::api::portal::Format;
use pgwire::api::results::{FieldFormat, FieldInfo, SendableRowStream};
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::messages::data::DataRow;
use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// Which database a statement runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// The role's serving database.
    Data,
    /// The role's catalog database (Postgres system catalogs over the role's own tables, no rows).
    Catalog,
}

/// A statement ready to run.
#[derive(Debug, Clone)]
pub struct Job {
    /// What DuckDB runs.
    pub sql: String,
    /// The statement as the client wrote it (hashed into the audit log).
    pub audited: String,
    pub route: Route,
    /// Characters of the client's query before `sql`, when `sql` is the client's own text (for error positions).
    pub offset: Option<usize>,
}

/// A query that has started: its columns, and its rows as they come.
pub struct Started {
    pub columns: Arc<Vec<FieldInfo>>,
    pub rows: SendableRowStream,
}

enum Produced {
    Header(Arc<Vec<FieldInfo>>),
    Rows(Vec<DataRow>),
    Failed(PgWireError),
    Done,
}

/// The format of result column `i` (text when the client named fewer formats than columns).
pub fn field_format(formats: &Format, i: usize) -> FieldFormat {
    match formats {
        Format::Individual(codes) => codes.get(i).map_or(FieldFormat::Text, |c| FieldFormat::from(*c)),
        other => other.format_for(i),
    }
}

impl Endpoint {
    /// Starts `job` and waits for its columns (or its error).
    pub async fn start(&self, session: &Arc<Session>, mut job: Job, formats: Format) -> PgWireResult<Started> {
        let db = self.target(session, &mut job).await?;
        let permit = self
            .running_queries
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| errors::error(errors::CANNOT_CONNECT_NOW, "the server is shutting down"))?;
        let (tx, mut rx) = mpsc::channel::<Produced>(4);
        let producer = Producer {
            state: self.state.clone(),
            max_rows: self.opts.max_rows,
            session: session.clone(),
            db,
            job,
            formats,
            tx,
            runtime: tokio::runtime::Handle::current(),
        };
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            producer.run();
        });
        match rx.recv().await {
            Some(Produced::Header(columns)) => Ok(Started {
                columns,
                rows: row_stream(rx),
            }),
            Some(Produced::Failed(e)) => Err(e),
            _ => Err(errors::error(
                errors::CANNOT_CONNECT_NOW,
                "the query stopped before it started",
            )),
        }
    }

    /// The database `job` runs on (a catalog query is rewritten for the role's catalog database); unavailable is
    /// audited like a console query.
    pub(super) async fn target(&self, session: &Session, job: &mut Job) -> PgWireResult<Arc<ServingDb>> {
        let found = match job.route {
            Route::Data => self.state.serving_for(&session.caller).await.map_err(|e| e.message),
            Route::Catalog => self
                .catalogs
                .for_role(&self.state, session.role())
                .await
                .map(|catalog| {
                    let setting = |name: &str| self.setting_value(session, name);
                    let version = Endpoint::version_text();
                    let cx = super::catalog::Context {
                        role: session.role(),
                        database: super::catalog::DATABASE,
                        pid: session.pid,
                        version: &version,
                        setting: &setting,
                        relations: &catalog.relations,
                    };
                    job.sql = super::catalog::rewrite(&job.sql, &cx);
                    catalog.db.clone()
                }),
        };
        found.map_err(|message| {
            self.state
                .audit(&session.caller, "pg", &job.audited, 0, "unavailable", 0.0);
            errors::error(errors::CANNOT_CONNECT_NOW, message)
        })
    }
}

/// The rows of a started query, then its end (or its error).
fn row_stream(rx: mpsc::Receiver<Produced>) -> SendableRowStream {
    let chunks = stream::unfold(Some(rx), |rx| async move {
        let mut rx = rx?;
        match rx.recv().await {
            Some(Produced::Rows(rows)) => Some((Ok(rows), Some(rx))),
            Some(Produced::Failed(e)) => Some((Err(e), None)),
            Some(Produced::Done) => None,
            Some(Produced::Header(_)) | None => Some((
                Err(errors::error("XX000", "the query stopped without finishing its result")),
                None,
            )),
        }
    });
    Box::pin(chunks.flat_map(|chunk| match chunk {
        Ok(rows) => stream::iter(rows.into_iter().map(Ok)).left_stream(),
        Err(e) => stream::iter([Err(e)]).right_stream(),
    }))
}

/// The blocking side of one query.
struct Producer {
    state: Arc<crate::serve::http::AppState>,
    max_rows: usize,
    session: Arc<Session>,
    db: Arc<ServingDb>,
    job: Job,
    formats: Format,
    tx: mpsc::Sender<Produced>,
    runtime: tokio::runtime::Handle,
}

/// Why the producer stopped reading batches before DuckDB finished.
enum Stop {
    TooManyRows,
    ClientGone,
    ClientTooSlow,
    Encoding(String),
}

/// What the producer has sent so far.
struct Output {
    columns: Option<Vec<PgColumn>>,
    rows: usize,
    stop: Option<Stop>,
}

impl Producer {
    fn run(self) {
        let started = Instant::now();
        let limit = self.state.limits.time_limit;
        let deadline = started + limit + Duration::from_millis(500);
        let running = self.session.running.clone();
        let id = running.begin();
        let mut out = Output {
            columns: None,
            rows: 0,
            stop: None,
        };
        let result = execute(
            &self.db,
            &self.job.sql,
            limit,
            &|h| running.attach(id, h),
            &mut |schema, batch| self.batch(&mut out, schema, batch, deadline),
        );
        running.finish(id);
        let elapsed = started.elapsed().as_secs_f64() * 1000.0;
        let outcome = match (&result, &out.stop) {
            (_, Some(Stop::TooManyRows)) => "too_large",
            (_, Some(Stop::ClientTooSlow)) => "timeout",
            (_, Some(Stop::Encoding(_))) => "sql",
            (Ok(_), _) => "ok",
            (Err(e), _) => e.kind(),
        };
        self.state.audit(
            &self.session.caller,
            "pg",
            &self.job.audited,
            out.rows as u64,
            outcome,
            elapsed,
        );
        self.finish(result, &mut out, deadline);
    }

    /// Sends the end of the result: `Done`, or the error that ended it.
    fn finish(&self, result: Result<SchemaRef, QueryError>, out: &mut Output, deadline: Instant) {
        let failure = match (&out.stop, result) {
            (Some(Stop::ClientGone), _) => return,
            (Some(Stop::TooManyRows), _) => errors::error(
                PROGRAM_LIMIT_EXCEEDED,
                format!(
                    "the result has more than {} rows (--pg-max-rows): add a LIMIT or an aggregate, or raise the cap",
                    self.max_rows
                ),
            ),
            (Some(Stop::ClientTooSlow), _) => query_error(
                &QueryError::Timeout {
                    limit_ms: self.state.limits.time_limit.as_millis() as u64,
                },
                "",
                None,
            ),
            (Some(Stop::Encoding(e)), _) => errors::error("22P03", e.clone()),
            (None, Ok(schema)) => {
                if out.columns.is_none() {
                    let empty = RecordBatch::new_empty(schema.clone());
                    let _ = self.batch(out, &schema, &empty, deadline);
                }
                let _ = self.send(Produced::Done, deadline);
                return;
            }
            (None, Err(e)) => {
                if matches!(e, QueryError::Unavailable(_)) && self.job.route == Route::Data {
                    // Rebuild the database in the background; later queries fail until it is back.
                    let mesh = self.state.mesh.clone();
                    std::thread::spawn(move || {
                        let _ = mesh.rebuild();
                    });
                }
                query_error(&e, &self.job.sql, self.job.offset)
            }
        };
        let _ = self.send(Produced::Failed(failure), deadline);
    }

    /// Encodes and sends one batch (the column header first).
    fn batch(&self, out: &mut Output, schema: &SchemaRef, batch: &RecordBatch, deadline: Instant) -> ControlFlow<()> {
        if out.columns.is_none() {
            let columns = self.columns(schema);
            let fields: Vec<FieldInfo> = columns
                .iter()
                .enumerate()
                .map(|(i, c)| c.field(field_format(&self.formats, i)))
                .collect();
            out.columns = Some(columns);
            if let Err(stop) = self.send(Produced::Header(Arc::new(fields)), deadline) {
                out.stop = Some(stop);
                return ControlFlow::Break(());
            }
        }
        let room = self.max_rows.saturating_sub(out.rows);
        let take = batch.num_rows().min(room);
        let formats: Vec<FieldFormat> = (0..batch.num_columns())
            .map(|i| field_format(&self.formats, i))
            .collect();
        let fields = crate::base::values::fields(batch);
        let options = crate::base::values::json_options();
        let columns = out.columns.as_deref().unwrap_or_default();
        let encoded = BatchEncoder::new(batch, &fields, &options, columns, &formats).rows(0, take);
        let rows = match encoded {
            Ok(rows) => rows,
            Err(e) => {
                out.stop = Some(Stop::Encoding(e));
                return ControlFlow::Break(());
            }
        };
        out.rows += rows.len();
        if !rows.is_empty()
            && let Err(stop) = self.send(Produced::Rows(rows), deadline)
        {
            out.stop = Some(stop);
            return ControlFlow::Break(());
        }
        if take < batch.num_rows() {
            out.stop = Some(Stop::TooManyRows);
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    }

    /// The Postgres columns of the result; DuckDB names the types that Arrow carries as text.
    fn columns(&self, schema: &SchemaRef) -> Vec<PgColumn> {
        let names = if types::needs_duckdb_names(schema) {
            describe(&self.db, &self.job.sql, self.state.limits.time_limit).ok()
        } else {
            None
        };
        let names = names.filter(|n| n.len() == schema.fields().len());
        schema
            .fields()
            .iter()
            .enumerate()
            .map(|(i, f)| types::column(f, names.as_ref().map(|n| n[i].1.as_str())))
            .collect()
    }

    /// Hands a message to the client side, waiting at most until the deadline.
    fn send(&self, message: Produced, deadline: Instant) -> Result<(), Stop> {
        let wait = deadline.saturating_duration_since(Instant::now());
        match self.runtime.block_on(tokio::time::timeout(wait, self.tx.send(message))) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(Stop::ClientGone),
            Err(_) => Err(Stop::ClientTooSlow),
        }
    }
}

/// DuckDB's name and type for each column `sql` returns, read with `DESCRIBE` (binds the query, runs nothing).
pub fn describe(db: &ServingDb, sql: &str, limit: Duration) -> Result<Vec<(String, String)>, QueryError> {
    let mut out = Vec::new();
    execute(db, &format!("DESCRIBE {sql}"), limit, &|_| {}, &mut |_, batch| {
        let text = |i: usize| duckdb::arrow::compute::cast(batch.column(i), &DataType::Utf8).ok();
        if let (Some(names), Some(types)) = (text(0), text(1)) {
            let (names, types) = (names.as_string::<i32>(), types.as_string::<i32>());
            for row in 0..batch.num_rows() {
                if !names.is_null(row) && !types.is_null(row) {
                    out.push((names.value(row).to_string(), types.value(row).to_string()));
                }
            }
        }
        ControlFlow::Continue(())
    })?;
    Ok(out)
}
