//! The extended query protocol (JDBC, psycopg, Npgsql, BI tools): Parse keeps one statement and counts its `$n`
//! parameters; Bind stores the values; Describe of a statement reads the result columns with `DESCRIBE` (NULLs for
//! the parameters, nothing runs); Describe of a portal starts the query — its rows then wait for Execute, which
//! streams them, `max_rows` at a time when the client asks for a row limit (portal suspended in between).

use super::commands::{self, Command};
use super::errors::{self, PROTOCOL_VIOLATION};
use super::run::{Started, describe, field_format};
use super::simple::{send_answer, session_of};
use super::startup::BoxFuture;
use super::types::{PgColumn, column_from_duckdb, duckdb_type_for};
use super::{Answer, Endpoint, params, sql_text, text_rows};
use futures_util::{Sink, SinkExt};
use pgwire::api::portal::{Format, Portal, PortalExecutionState};
use pgwire::api::query::{ExtendedQueryHandler, send_partial_query_response};
use pgwire::api::results::{
    DescribePortalResponse, DescribeResponse, DescribeStatementResponse, FieldFormat, FieldInfo, QueryResponse,
    Response, Tag,
};
use pgwire::api::stmt::{QueryParser, StoredStatement};
use pgwire::api::store::{Entry, PortalStore};
use pgwire::api::{ClientInfo, ClientPortalStore, DEFAULT_NAME, PgWireConnectionState, Type};
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::messages::PgWireBackendMessage;
use pgwire::messages::extendedquery::Execute;
use pgwire::messages::response::EmptyQueryResponse;
use std::fmt::Debug;
use std::sync::Arc;

/// A parsed statement: its text (without a trailing `;`) and how many parameters it uses.
#[derive(Debug, Clone)]
pub struct PgStatement {
    pub sql: String,
    pub parameters: usize,
}

/// Parse: one statement per prepared statement, as Postgres requires.
pub struct Parser;

fn parse(sql: &str) -> PgWireResult<Option<PgStatement>> {
    match sql_text::split_statements(sql).as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(PgStatement {
            sql: one.text.to_string(),
            parameters: sql_text::parameter_count(one.text),
        })),
        many => Err(errors::error(
            errors::INSUFFICIENT_PRIVILEGE,
            format!("exactly one statement is allowed, found {}", many.len()),
        )),
    }
}

impl QueryParser for Parser {
    type Statement = PgStatement;

    fn parse_sql<'life0, 'life1, 'life2, 'life3, 'async_trait, C>(
        &'life0 self,
        _client: &'life1 C,
        sql: &'life2 str,
        _types: &'life3 [Option<Type>],
    ) -> BoxFuture<'async_trait, PgWireResult<Option<PgStatement>>>
    where
        C: ClientInfo + Unpin + Send + Sync,
        C: 'async_trait,
        'life0: 'async_trait,
        'life1: 'async_trait,
        'life2: 'async_trait,
        'life3: 'async_trait,
        Self: 'async_trait,
    {
        let parsed = parse(sql);
        Box::pin(async move { parsed })
    }

    fn get_parameter_types(&self, stmt: &PgStatement) -> PgWireResult<Vec<Type>> {
        Ok(vec![Type::TEXT; stmt.parameters])
    }

    fn get_result_schema(&self, _stmt: &PgStatement, _formats: Option<&Format>) -> PgWireResult<Vec<FieldInfo>> {
        Ok(Vec::new())
    }
}

impl ExtendedQueryHandler for Endpoint {
    type Statement = PgStatement;
    type QueryParser = Parser;

    fn query_parser(&self) -> Arc<Parser> {
        self.parser.clone()
    }

    fn on_execute<'life0, 'life1, 'async_trait, C>(
        &'life0 self,
        client: &'life1 mut C,
        message: Execute,
    ) -> BoxFuture<'async_trait, PgWireResult<()>>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
        C: 'async_trait,
        'life0: 'async_trait,
        'life1: 'async_trait,
        Self: 'async_trait,
    {
        Box::pin(async move { self.execute(client, message).await })
    }

    fn do_describe_statement<'life0, 'life1, 'life2, 'async_trait, C>(
        &'life0 self,
        client: &'life1 mut C,
        target: &'life2 StoredStatement<PgStatement>,
    ) -> BoxFuture<'async_trait, PgWireResult<DescribeStatementResponse>>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
        C: 'async_trait,
        'life0: 'async_trait,
        'life1: 'async_trait,
        'life2: 'async_trait,
        Self: 'async_trait,
    {
        Box::pin(async move { self.describe_statement(client, target).await })
    }

    fn do_describe_portal<'life0, 'life1, 'life2, 'async_trait, C>(
        &'life0 self,
        client: &'life1 mut C,
        target: &'life2 Portal<PgStatement>,
    ) -> BoxFuture<'async_trait, PgWireResult<DescribePortalResponse>>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
        C: 'async_trait,
        'life0: 'async_trait,
        'life1: 'async_trait,
        'life2: 'async_trait,
        Self: 'async_trait,
    {
        Box::pin(async move { self.describe_portal(client, target).await })
    }

    fn do_query<'life0, 'life1, 'life2, 'async_trait, C>(
        &'life0 self,
        _client: &'life1 mut C,
        _portal: &'life2 Portal<PgStatement>,
        _max_rows: usize,
    ) -> BoxFuture<'async_trait, PgWireResult<Response>>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
        C: 'async_trait,
        'life0: 'async_trait,
        'life1: 'async_trait,
        'life2: 'async_trait,
        Self: 'async_trait,
    {
        // `on_execute` streams portals itself; nothing calls this.
        Box::pin(async move { Err(errors::error("XX000", "portals are executed by on_execute")) })
    }
}

impl Endpoint {
    async fn execute<C>(&self, client: &mut C, message: Execute) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = PgStatement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        if !matches!(client.state(), PgWireConnectionState::ReadyForQuery) {
            return Err(PgWireError::NotReadyForQuery);
        }
        let name = message.name.as_deref().unwrap_or(DEFAULT_NAME);
        let portal = match client.portal_store().get_portal(name) {
            Some(Entry::Value(portal)) => portal,
            Some(Entry::Empty) => {
                client
                    .feed(PgWireBackendMessage::EmptyQueryResponse(EmptyQueryResponse::new()))
                    .await?;
                return Ok(());
            }
            None => return Err(PgWireError::PortalNotFound(name.to_owned())),
        };
        client.set_state(PgWireConnectionState::QueryInProgress);
        let result = self
            .execute_portal(client, &portal, message.max_rows.max(0) as usize)
            .await;
        client.set_state(PgWireConnectionState::ReadyForQuery);
        result
    }

    /// Sends up to `max_rows` rows of the portal (all when 0), starting its query first if Describe did not.
    async fn execute_portal<C>(&self, client: &mut C, portal: &Portal<PgStatement>, max_rows: usize) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = PgStatement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let state = portal.state();
        let current = std::mem::replace(&mut *state.lock().await, PortalExecutionState::Finished);
        let mut response = match current {
            PortalExecutionState::Suspended(response) => response,
            PortalExecutionState::Finished => {
                let done = Tag::new("SELECT").with_rows(0);
                client.send(PgWireBackendMessage::CommandComplete(done.into())).await?;
                return Ok(());
            }
            PortalExecutionState::Initial => match self.begin_portal(client, portal).await? {
                Some(response) => response,
                None => return Ok(()),
            },
        };
        if send_partial_query_response(client, &mut response, max_rows).await? {
            *state.lock().await = PortalExecutionState::Suspended(response);
        }
        Ok(())
    }

    /// Runs a portal that has not started: a query starts streaming (returned), a session command is answered here.
    async fn begin_portal<C>(&self, client: &mut C, portal: &Portal<PgStatement>) -> PgWireResult<Option<QueryResponse>>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = PgStatement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let session = session_of(client)?;
        let sql = &portal.statement.statement.sql;
        let answer = match commands::classify(sql) {
            Command::Query => {
                let Started { columns, rows } = self.start_portal(client, portal).await?;
                return Ok(Some(QueryResponse::new(columns, rows)));
            }
            Command::Deallocate(name) => {
                if let Some(name) = name {
                    client.portal_store().rm_statement(&name);
                }
                Answer::Tag(Tag::new("DEALLOCATE"))
            }
            command => self.answer(&session, command, sql)?,
        };
        if let Answer::Rows(columns, rows) = answer {
            let fields = portal_fields(&columns, &portal.result_column_format);
            let mut response =
                QueryResponse::new(fields, futures_util::stream::iter(text_rows(rows).into_iter().map(Ok)));
            response.set_command_tag("SHOW");
            return Ok(Some(response));
        }
        let mut status = client.transaction_status();
        send_answer(client, answer, false, &mut status).await?;
        client.set_transaction_status(status);
        Ok(None)
    }

    /// Starts the portal's query with its parameters in place.
    async fn start_portal<C: ClientInfo>(&self, client: &C, portal: &Portal<PgStatement>) -> PgWireResult<Started> {
        let session = session_of(client)?;
        let statement = &portal.statement;
        if portal.parameters.len() != statement.statement.parameters {
            return Err(errors::error(
                PROTOCOL_VIOLATION,
                format!(
                    "bind message supplies {} parameters, but prepared statement requires {}",
                    portal.parameters.len(),
                    statement.statement.parameters
                ),
            ));
        }
        let values = params::literals(&portal.parameters, &portal.parameter_format, &statement.parameter_types)
            .map_err(|e| errors::error("22P02", e))?;
        let job = self.job(&statement.statement.sql, None, Some(&values))?;
        self.start(&session, job, portal.result_column_format.clone()).await
    }

    /// The result columns of a prepared statement, read with `DESCRIBE` (parameters as typed NULLs).
    async fn describe_statement<C: ClientInfo>(
        &self,
        client: &C,
        target: &StoredStatement<PgStatement>,
    ) -> PgWireResult<DescribeStatementResponse> {
        let session = session_of(client)?;
        let statement = &target.statement;
        let parameter_types: Vec<Type> = (0..statement.parameters)
            .map(|i| target.parameter_types.get(i).cloned().flatten().unwrap_or(Type::TEXT))
            .collect();
        let columns = match commands::classify(&statement.sql) {
            Command::Query => {
                let nulls: Vec<String> = parameter_types
                    .iter()
                    .map(|t| duckdb_type_for(t).map_or("NULL".into(), |d| format!("CAST(NULL AS {d})")))
                    .collect();
                self.statement_columns(&session, &statement.sql, &nulls).await?
            }
            command => self.answer_shape(&session, command).unwrap_or_default(),
        };
        let fields = columns.iter().map(|c| c.field(FieldFormat::Text)).collect();
        Ok(DescribeStatementResponse::new(parameter_types, fields))
    }

    /// Runs `DESCRIBE` on the statement's database for its columns.
    async fn statement_columns(
        &self,
        session: &Arc<super::session::Session>,
        sql: &str,
        nulls: &[String],
    ) -> PgWireResult<Vec<PgColumn>> {
        let mut job = self.job(sql, None, Some(nulls))?;
        let db = self.target(session, &mut job).await?;
        let limit = self.state.limits.time_limit;
        let described = tokio::task::spawn_blocking(move || describe(&db, &job.sql, limit).map_err(|e| (e, job.sql)))
            .await
            .map_err(|e| errors::error("XX000", e.to_string()))?;
        match described {
            Ok(columns) => Ok(columns.iter().map(|(name, ty)| column_from_duckdb(name, ty)).collect()),
            Err((e, sql)) => Err(errors::query_error(&e, &sql, None)),
        }
    }

    /// The columns a session command answers with (`SHOW`), without answering it.
    fn answer_shape(&self, session: &super::session::Session, command: Command) -> Option<Vec<PgColumn>> {
        match command {
            Command::Show { .. } => match self.answer(session, command, "").ok()? {
                Answer::Rows(columns, _) => Some(columns),
                _ => None,
            },
            _ => None,
        }
    }

    /// Describing a portal starts its query, so the columns are those of the rows Execute will send.
    async fn describe_portal<C: ClientInfo>(
        &self,
        client: &C,
        portal: &Portal<PgStatement>,
    ) -> PgWireResult<DescribePortalResponse> {
        let session = session_of(client)?;
        let command = commands::classify(&portal.statement.statement.sql);
        if command != Command::Query {
            return Ok(match self.answer_shape(&session, command) {
                Some(columns) => {
                    DescribePortalResponse::new(portal_fields(&columns, &portal.result_column_format).to_vec())
                }
                None => DescribePortalResponse::no_data(),
            });
        }
        let state = portal.state();
        let mut current = state.lock().await;
        match &*current {
            PortalExecutionState::Suspended(response) => {
                Ok(DescribePortalResponse::new(response.row_schema().to_vec()))
            }
            PortalExecutionState::Finished => Ok(DescribePortalResponse::no_data()),
            PortalExecutionState::Initial => {
                let Started { columns, rows } = self.start_portal(client, portal).await?;
                let fields = columns.to_vec();
                *current = PortalExecutionState::Suspended(QueryResponse::new(columns, rows));
                Ok(DescribePortalResponse::new(fields))
            }
        }
    }
}

/// Text columns in the formats a portal asked for.
fn portal_fields(columns: &[PgColumn], formats: &Format) -> Arc<Vec<FieldInfo>> {
    Arc::new(
        columns
            .iter()
            .enumerate()
            .map(|(i, c)| c.field(field_format(formats, i)))
            .collect(),
    )
}
