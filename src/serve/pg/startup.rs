//! Connecting: the startup message names the role as the user; an unknown role ends the connection with the list of
//! roles; a role the room locks (as the web server would: bound beyond loopback or `--lock-roles`) must send the
//! room token as its (cleartext) password. Then the server parameters, the backend key for cancels, and the
//! session. Also the `CancelRequest` handler, which interrupts the queries of the connection a key names.

use super::errors::{self, INVALID_PASSWORD, TOO_MANY_CONNECTIONS};
use super::session::Session;
use super::{Endpoint, catalog};
use crate::serve::http::Caller;
use futures_util::SinkExt;
use pgwire::api::auth::{ServerParameterProvider, StartupHandler, finish_authentication, protocol_negotiation};
use pgwire::api::cancel::CancelHandler;
use pgwire::api::{ClientInfo, METADATA_APPLICATION_NAME, METADATA_DATABASE, METADATA_USER};
use pgwire::api::{PgWireConnectionState, PidSecretKeyGenerator};
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::messages::cancel::CancelRequest;
use pgwire::messages::startup::Authentication;
use pgwire::messages::{PgWireBackendMessage, PgWireFrontendMessage};
use std::collections::HashMap;
use std::fmt::Debug;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// What `async_trait` methods return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The startup handler of one connection.
pub struct Startup {
    pub endpoint: Arc<Endpoint>,
    /// False when the connection is over `max_connections`: it is told so after its startup message.
    pub admitted: bool,
}

impl StartupHandler for Startup {
    fn on_startup<'life0, 'life1, 'async_trait, C>(
        &'life0 self,
        client: &'life1 mut C,
        message: PgWireFrontendMessage,
    ) -> BoxFuture<'async_trait, PgWireResult<()>>
    where
        C: ClientInfo + futures_util::Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as futures_util::Sink<PgWireBackendMessage>>::Error>,
        C: 'async_trait,
        'life0: 'async_trait,
        'life1: 'async_trait,
        Self: 'async_trait,
    {
        Box::pin(async move { self.startup(client, message).await })
    }
}

impl Startup {
    async fn startup<C>(&self, client: &mut C, message: PgWireFrontendMessage) -> PgWireResult<()>
    where
        C: ClientInfo + futures_util::Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as futures_util::Sink<PgWireBackendMessage>>::Error>,
    {
        match message {
            PgWireFrontendMessage::Startup(startup) => {
                protocol_negotiation(client, &startup).await?;
                pgwire::api::auth::save_startup_parameters_to_metadata(client, &startup);
                if !self.admitted {
                    return Err(errors::fatal(
                        TOO_MANY_CONNECTIONS,
                        format!(
                            "sorry, too many clients already: meshbox accepts {} Postgres connections at once",
                            self.endpoint.opts.max_connections
                        ),
                    ));
                }
                let role = self.endpoint.role_named(client.metadata().get(METADATA_USER))?;
                if self.endpoint.needs_token(&role.name) {
                    client.set_state(PgWireConnectionState::AuthenticationInProgress);
                    client
                        .send(PgWireBackendMessage::Authentication(Authentication::CleartextPassword))
                        .await?;
                    return Ok(());
                }
                self.admit(client, role).await
            }
            PgWireFrontendMessage::PasswordMessageFamily(message) => {
                if !matches!(client.state(), PgWireConnectionState::AuthenticationInProgress) {
                    return Err(PgWireError::NoAuthenticationInProgress);
                }
                let password = message.into_password()?.password;
                let role = self.endpoint.role_named(client.metadata().get(METADATA_USER))?;
                if !self.endpoint.token_matches(&password) {
                    return Err(errors::fatal(
                        INVALID_PASSWORD,
                        format!(
                            "the role \"{}\" is locked in this room: its password is the token meshbox printed at \
                             start (or connect as a role that is not locked)",
                            role.name
                        ),
                    ));
                }
                self.admit(client, role).await
            }
            _ => Ok(()),
        }
    }

    /// Completes the startup: backend key, session, server parameters, ready.
    async fn admit<C>(&self, client: &mut C, role: crate::governance::access::Role) -> PgWireResult<()>
    where
        C: ClientInfo + futures_util::Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as futures_util::Sink<PgWireBackendMessage>>::Error>,
    {
        let (pid, key) = self.endpoint.keys.generate(&*client);
        client.set_pid_and_secret_key(pid, key.clone());
        let database = client
            .metadata()
            .get(METADATA_DATABASE)
            .cloned()
            .unwrap_or_else(|| catalog::DATABASE.to_string());
        let session = Session::new(Caller { role }, database, pid, client.metadata());
        let registration = self.endpoint.backends.register(pid, key, session.running.clone());
        client.session_extensions().insert(session);
        client.session_extensions().insert(registration);
        finish_authentication(client, &Parameters).await
    }
}

/// The `ParameterStatus` values sent at startup: a Postgres 16 server in UTC with ISO dates.
struct Parameters;

impl ServerParameterProvider for Parameters {
    fn server_parameters<C>(&self, client: &C) -> Option<HashMap<String, String>>
    where
        C: ClientInfo,
    {
        let user = client.metadata().get(METADATA_USER).cloned().unwrap_or_default();
        let application = client
            .metadata()
            .get(METADATA_APPLICATION_NAME)
            .cloned()
            .unwrap_or_default();
        let pairs = [
            ("server_version", Endpoint::server_version()),
            ("server_encoding", "UTF8".into()),
            ("client_encoding", "UTF8".into()),
            ("DateStyle", "ISO, MDY".into()),
            ("IntervalStyle", "postgres".into()),
            ("TimeZone", "UTC".into()),
            ("integer_datetimes", "on".into()),
            ("standard_conforming_strings", "on".into()),
            ("is_superuser", "off".into()),
            ("default_transaction_read_only", "on".into()),
            ("in_hot_standby", "off".into()),
            ("session_authorization", user),
            ("application_name", application),
        ];
        Some(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
    }
}

impl CancelHandler for Endpoint {
    fn on_cancel_request<'life0, 'async_trait>(
        &'life0 self,
        cancel_request: CancelRequest,
    ) -> BoxFuture<'async_trait, ()>
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        Box::pin(async move {
            if let Some(running) = self.backends.find(cancel_request.pid, &cancel_request.secret_key) {
                running.cancel().await;
            }
        })
    }
}
