//! The simple query protocol (psql, most consoles): a query string may hold session commands around one query
//! (`SET …; SELECT …`), run one after the other — each answered before the next starts, so a streaming result never
//! waits behind the next statement — until one fails. As in the console, two queries in one message are refused.
//! Session commands are answered by the endpoint, queries go through the guarded path.

use super::commands::{self, Command};
use super::errors;
use super::run::Started;
use super::session::Session;
use super::sql_text::split_statements;
use super::startup::BoxFuture;
use super::{Answer, Endpoint, text_rows};
use futures_util::{Sink, SinkExt};
use pgwire::api::portal::Format;
use pgwire::api::query::{SimpleQueryHandler, send_query_response, send_ready_for_query};
use pgwire::api::results::{FieldFormat, QueryResponse, Response, Tag};
use pgwire::api::store::PortalStore;
use pgwire::api::{ClientInfo, ClientPortalStore, PgWireConnectionState};
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use pgwire::messages::PgWireBackendMessage;
use pgwire::messages::data::RowDescription;
use pgwire::messages::response::{EmptyQueryResponse, TransactionStatus};
use pgwire::messages::simplequery::Query;
use std::fmt::Debug;
use std::sync::Arc;

impl SimpleQueryHandler for Endpoint {
    fn on_query<'life0, 'life1, 'async_trait, C>(
        &'life0 self,
        client: &'life1 mut C,
        query: Query,
    ) -> BoxFuture<'async_trait, PgWireResult<()>>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
        C: 'async_trait,
        'life0: 'async_trait,
        'life1: 'async_trait,
        Self: 'async_trait,
    {
        Box::pin(async move { self.simple_query(client, &query.query).await })
    }

    fn do_query<'life0, 'life1, 'life2, 'async_trait, C>(
        &'life0 self,
        _client: &'life1 mut C,
        _query: &'life2 str,
    ) -> BoxFuture<'async_trait, PgWireResult<Vec<Response>>>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
        C: 'async_trait,
        'life0: 'async_trait,
        'life1: 'async_trait,
        'life2: 'async_trait,
        Self: 'async_trait,
    {
        // `on_query` answers each statement as it runs; nothing calls this.
        Box::pin(async move { Err(errors::error("XX000", "statements are answered one by one")) })
    }
}

/// The session a connection opened at startup.
pub fn session_of<C: ClientInfo>(client: &C) -> PgWireResult<Arc<Session>> {
    client.session_extensions().get::<Session>().ok_or_else(|| {
        errors::error(
            errors::PROTOCOL_VIOLATION,
            "the connection has not completed its startup",
        )
    })
}

impl Endpoint {
    async fn simple_query<C>(&self, client: &mut C, text: &str) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        if !matches!(client.state(), PgWireConnectionState::ReadyForQuery) {
            return Err(PgWireError::NotReadyForQuery);
        }
        client.set_state(PgWireConnectionState::QueryInProgress);
        let session = session_of(client)?;
        let pieces = split_statements(text);
        if pieces.is_empty() {
            client
                .feed(PgWireBackendMessage::EmptyQueryResponse(EmptyQueryResponse::new()))
                .await?;
        }
        let mut status = client.transaction_status();
        let queries = pieces
            .iter()
            .filter(|p| commands::classify(p.text) == Command::Query)
            .count();
        let pieces = if queries > 1 {
            // As in the console: one query per message, so no statement rides along with another one.
            self.state.audit(&session.caller, "pg", text, 0, "refused", 0.0);
            let refusal = errors::error(
                errors::INSUFFICIENT_PRIVILEGE,
                format!(
                    "exactly one query is allowed per message, found {queries}: send them one at a time (psql does \
                     for a script run with -f)"
                ),
            );
            let info: ErrorInfo = refusal.into();
            client.feed(PgWireBackendMessage::ErrorResponse(info.into())).await?;
            status = status.to_error_state();
            Vec::new()
        } else {
            pieces
        };
        for piece in pieces {
            let offset = text[..piece.start].chars().count();
            match self
                .simple_statement(client, &session, piece.text, offset, &mut status)
                .await
            {
                Ok(()) => {}
                Err(e @ PgWireError::IoError(_)) => return Err(e),
                Err(e) => {
                    let info: ErrorInfo = e.into();
                    client.feed(PgWireBackendMessage::ErrorResponse(info.into())).await?;
                    status = status.to_error_state();
                    break;
                }
            }
        }
        client.set_state(PgWireConnectionState::ReadyForQuery);
        client.set_transaction_status(status);
        send_ready_for_query(client, status).await
    }

    async fn simple_statement<C>(
        &self,
        client: &mut C,
        session: &Arc<Session>,
        sql: &str,
        offset: usize,
        status: &mut TransactionStatus,
    ) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        match commands::classify(sql) {
            Command::Query => {
                let job = self.job(sql, Some(offset), None)?;
                let Started { columns, rows } = self.start(session, job, Format::UnifiedText).await?;
                send_query_response(client, QueryResponse::new(columns, rows), true).await
            }
            Command::Deallocate(name) => {
                if let Some(name) = name {
                    client.portal_store().rm_statement(&name);
                }
                send_answer(client, Answer::Tag(Tag::new("DEALLOCATE")), true, status).await
            }
            command => {
                let answer = self.answer(session, command, sql)?;
                send_answer(client, answer, true, status).await
            }
        }
    }
}

/// Sends what the endpoint answered itself; `describe` sends the row description of `SHOW` first (the extended
/// protocol sends it for `Describe`).
pub async fn send_answer<C>(
    client: &mut C,
    answer: Answer,
    describe: bool,
    status: &mut TransactionStatus,
) -> PgWireResult<()>
where
    C: Sink<PgWireBackendMessage> + Unpin + Send,
    C::Error: Debug,
    PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
{
    let tag = match answer {
        Answer::Tag(tag) => tag,
        Answer::Begin => {
            *status = status.to_in_transaction_state();
            Tag::new("BEGIN")
        }
        end @ (Answer::Commit | Answer::Rollback) => {
            let failed = *status == TransactionStatus::Error;
            *status = status.to_idle_state();
            Tag::new(if failed || matches!(end, Answer::Rollback) {
                "ROLLBACK"
            } else {
                "COMMIT"
            })
        }
        Answer::Rows(columns, rows) => {
            if describe {
                let fields = columns.iter().map(|c| (&c.field(FieldFormat::Text)).into()).collect();
                client
                    .feed(PgWireBackendMessage::RowDescription(RowDescription::new(fields)))
                    .await?;
            }
            for row in text_rows(rows) {
                client.feed(PgWireBackendMessage::DataRow(row)).await?;
            }
            Tag::new("SHOW")
        }
    };
    client.feed(PgWireBackendMessage::CommandComplete(tag.into())).await?;
    Ok(())
}
