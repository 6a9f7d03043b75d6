//! The Postgres wire endpoint: BI tools and SQL clients query the mesh as a role, through the same guarded query path as the console.
//! The user name is the role (the room token is its password where the web server would ask for the token), every
//! statement runs on a fresh connection of the role's own database under the console's guard and time limit,
//! results stream up to `--pg-max-rows`, `CancelRequest` interrupts, and every query is audited as endpoint `pg`.
//! Catalog queries (`\dt`, schema browsers) are answered from the role's catalog database (`catalog`).

mod catalog;
mod commands;
mod encode;
mod errors;
mod extended;
mod params;
mod run;
mod session;
mod simple;
mod sql_text;
mod startup;
mod types;

use crate::serve::http::AppState;
use commands::Command;
use pgwire::api::results::Tag;
use pgwire::api::{PgWireServerHandlers, RandomPidSecretKeyGenerator};
use run::{Job, Route};
use session::{Backends, Session};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use types::PgColumn;

/// The port `meshbox serve` listens on for Postgres clients unless told otherwise.
pub const DEFAULT_PORT: u16 = 7732;

/// How the endpoint bounds its work.
#[derive(Debug, Clone)]
pub struct PgOptions {
    /// Rows one query may return; a larger result ends with an error.
    pub max_rows: usize,
    /// Open client connections; more are refused (`53300 too_many_connections`).
    pub max_connections: usize,
    /// Queries running at once; more wait for a turn.
    pub max_running: usize,
}

impl Default for PgOptions {
    fn default() -> PgOptions {
        PgOptions {
            max_rows: 1_000_000,
            max_connections: 100,
            max_running: 8,
        }
    }
}

/// What every connection shares.
pub struct Endpoint {
    state: Arc<AppState>,
    opts: PgOptions,
    backends: Arc<Backends>,
    running_queries: Arc<Semaphore>,
    catalogs: catalog::Catalogs,
    keys: RandomPidSecretKeyGenerator,
    parser: Arc<extended::Parser>,
}

/// The handlers of one connection (holding its place among the open connections).
struct Handlers {
    endpoint: Arc<Endpoint>,
    place: Option<OwnedSemaphorePermit>,
}

impl PgWireServerHandlers for Handlers {
    fn simple_query_handler(&self) -> Arc<impl pgwire::api::query::SimpleQueryHandler> {
        self.endpoint.clone()
    }

    fn extended_query_handler(&self) -> Arc<impl pgwire::api::query::ExtendedQueryHandler> {
        self.endpoint.clone()
    }

    fn startup_handler(&self) -> Arc<impl pgwire::api::auth::StartupHandler> {
        Arc::new(startup::Startup {
            endpoint: self.endpoint.clone(),
            admitted: self.place.is_some(),
        })
    }

    fn cancel_handler(&self) -> Arc<impl pgwire::api::cancel::CancelHandler> {
        self.endpoint.clone()
    }
}

/// Binds the endpoint's port.
pub async fn bind(addr: SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr).await.map_err(|e| {
        anyhow::anyhow!("cannot listen for Postgres clients on {addr}: {e} (pick another --pg-port, or --no-pg)")
    })
}

/// Binds `addr` and serves until `shutdown` completes.
pub async fn listen(
    addr: SocketAddr,
    state: Arc<AppState>,
    opts: PgOptions,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    serve(bind(addr).await?, state, opts, shutdown).await
}

/// Serves Postgres clients on `listener` until `shutdown` completes; open connections are then closed.
pub async fn serve(
    listener: TcpListener,
    state: Arc<AppState>,
    opts: PgOptions,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let places = Arc::new(Semaphore::new(opts.max_connections));
    let endpoint = Arc::new(Endpoint {
        running_queries: Arc::new(Semaphore::new(opts.max_running.max(1))),
        state,
        opts,
        backends: Arc::default(),
        catalogs: catalog::Catalogs::default(),
        keys: RandomPidSecretKeyGenerator::default(),
        parser: Arc::new(extended::Parser),
    });
    let mut connections = tokio::task::JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    Err(e) => {
                        tracing::warn!(error = %e, "accepting a Postgres client failed");
                        continue;
                    }
                };
                let handlers = Handlers {
                    endpoint: endpoint.clone(),
                    place: places.clone().try_acquire_owned().ok(),
                };
                connections.spawn(async move {
                    if let Err(e) = pgwire::tokio::process_socket(stream, None, handlers).await {
                        tracing::debug!(error = %e, "Postgres client connection ended with an error");
                    }
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            _ = &mut shutdown => break,
        }
    }
    connections.abort_all();
    Ok(())
}

/// What the endpoint answers itself.
pub enum Answer {
    Tag(Tag),
    Begin,
    Commit,
    Rollback,
    /// Rows of text (`SHOW`), with their command tag.
    Rows(Vec<PgColumn>, Vec<Vec<String>>),
}

impl Endpoint {
    /// The role a client names as its user; an unknown one ends the connection with the list of roles.
    fn role_named(&self, user: Option<&String>) -> pgwire::error::PgWireResult<crate::governance::access::Role> {
        let snapshot = self.state.mesh.snapshot();
        let access = &snapshot.governance.access;
        let name = user.map(String::as_str).unwrap_or("");
        access.role(name).cloned().ok_or_else(|| {
            errors::fatal(
                errors::INVALID_AUTHORIZATION,
                format!(
                    "no role named \"{}\": connect with one of the roles of this mesh as the user name: {}",
                    name.chars().take(64).collect::<String>(),
                    access.role_names().join(", ")
                ),
            )
        })
    }

    /// Does `role` need the room's token (as the password), as the web server would ask for it?
    fn needs_token(&self, role: &str) -> bool {
        let Some(lock) = &self.state.web.room else {
            return false;
        };
        let snapshot = self.state.mesh.snapshot();
        lock.guarded(snapshot.generation, &snapshot).contains(role)
    }

    fn token_matches(&self, password: &str) -> bool {
        self.state
            .web
            .room
            .as_ref()
            .is_some_and(|lock| lock.accepts(password.trim()))
    }

    /// `16.6 (meshbox 0.1.0)`: what clients read as the server's version.
    fn server_version() -> String {
        format!("16.6 (meshbox {})", env!("CARGO_PKG_VERSION"))
    }

    fn version_text() -> String {
        format!(
            "PostgreSQL {} on DuckDB, the Postgres wire endpoint of meshbox, 64-bit",
            Self::server_version()
        )
    }

    /// The value `SHOW name` gives: what is in effect (encodings and formats are fixed), else what the client set.
    fn setting_value(&self, session: &Session, name: &str) -> Option<String> {
        let known = commands::setting(name)?;
        let fixed = matches!(
            known.name,
            "client_encoding"
                | "datestyle"
                | "intervalstyle"
                | "timezone"
                | "standard_conforming_strings"
                | "bytea_output"
        );
        Some(match known.name {
            "server_version" => Self::server_version(),
            "session_authorization" => session.role().to_string(),
            "max_connections" => self.opts.max_connections.to_string(),
            "statement_timeout" => format!("{}ms", self.state.limits.time_limit.as_millis()),
            _ if fixed || !known.client => known.value.to_string(),
            _ => session.setting(known.name).unwrap_or_else(|| known.value.to_string()),
        })
    }

    /// A statement for the guarded path: parameters in place, routed to the data or the catalog database.
    fn job(
        &self,
        text: &str,
        offset: Option<usize>,
        parameters: Option<&[String]>,
    ) -> pgwire::error::PgWireResult<Job> {
        let sql = match parameters {
            Some(values) => sql_text::substitute_parameters(text, values)
                .map_err(|e| errors::error(errors::PROTOCOL_VIOLATION, e))?,
            None => text.to_string(),
        };
        let route = if catalog::is_catalog_query(&sql) {
            Route::Catalog
        } else {
            Route::Data
        };
        Ok(Job {
            offset: offset.filter(|_| parameters.is_none() && route == Route::Data),
            sql,
            audited: text.to_string(),
            route,
        })
    }

    /// Answers a statement the endpoint handles itself (`Command::Query` is not one).
    fn answer(&self, session: &Session, command: Command, text: &str) -> pgwire::error::PgWireResult<Answer> {
        Ok(match command {
            Command::Set { name, value } => {
                session.set(&name, &value);
                Answer::Tag(Tag::new("SET"))
            }
            Command::Reset { name } => {
                session.reset(name.as_deref());
                Answer::Tag(Tag::new("RESET"))
            }
            Command::Show { name } => self.show(session, &name),
            Command::Begin => Answer::Begin,
            Command::Commit => Answer::Commit,
            Command::Rollback => Answer::Rollback,
            Command::NoOp(tag) => Answer::Tag(Tag::new(tag)),
            Command::Deallocate(_) => Answer::Tag(Tag::new("DEALLOCATE")),
            Command::Refused(reason) => {
                self.state.audit(&session.caller, "pg", text, 0, "refused", 0.0);
                return Err(errors::error(errors::INSUFFICIENT_PRIVILEGE, reason));
            }
            Command::Query => return Err(errors::error("XX000", "a query is not a session command")),
        })
    }

    fn show(&self, session: &Session, name: &str) -> Answer {
        if name == "all" {
            let rows = commands::SETTINGS
                .iter()
                .filter_map(|s| {
                    Some(vec![
                        s.name.to_string(),
                        self.setting_value(session, s.name)?,
                        String::new(),
                    ])
                })
                .collect();
            let columns = ["name", "setting", "description"].map(PgColumn::text).to_vec();
            return Answer::Rows(columns, rows);
        }
        let value = self.setting_value(session, name).unwrap_or_default();
        Answer::Rows(vec![PgColumn::text(name)], vec![vec![value]])
    }
}

/// Rows of text as `DataRow`s.
fn text_rows(rows: Vec<Vec<String>>) -> Vec<pgwire::messages::data::DataRow> {
    rows.into_iter()
        .map(|row| {
            let mut buf = pgwire::messages::data::DataRow::default().data;
            for v in &row {
                buf.extend_from_slice(&(v.len() as i32).to_be_bytes());
                buf.extend_from_slice(v.as_bytes());
            }
            pgwire::messages::data::DataRow::new(buf, row.len() as i16)
        })
        .collect()
}
