//! `/mcp`: the Streamable HTTP transport, mounted by `serve` behind the same host, origin, room and role checks as
//! every route. Each request acts as the role the API would give it; a request from a page of another site (an
//! `Origin` that is not a host meshbox answers to) is refused before MCP sees it.

use super::{McpServer, RoleSource};
use crate::serve::http::{AppError, AppState};
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};
use std::sync::Arc;

/// The path of the endpoint.
pub const PATH: &str = "/mcp";

/// The `/mcp` route, for [`crate::serve::http::router_with`].
pub fn routes(state: Arc<AppState>) -> Router<Arc<AppState>> {
    // meshbox's own middleware checks Host (with the --public-url name) and Origin; rmcp's loopback-only list
    // would refuse a room's public name.
    let config = StreamableHttpServerConfig::default()
        .disable_allowed_hosts()
        .with_max_request_body_bytes(state.max_body_bytes);
    let factory_state = state.clone();
    let service = StreamableHttpService::new(
        move || Ok(McpServer::new(factory_state.clone(), RoleSource::PerRequest)),
        Arc::new(LocalSessionManager::default()),
        config,
    );
    Router::new()
        .nest_service(PATH, service)
        .layer(middleware::from_fn_with_state(state, same_site_origin))
}

/// Refuses any request whose `Origin` names a host meshbox does not answer to (or `null`): MCP clients send none,
/// a browser page of another site would. Writes are also refused by the router's cross-site check; this covers the
/// event stream (`GET`) and `DELETE` too.
async fn same_site_origin(State(st): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let origin = req.headers().get(header::ORIGIN).map(|v| v.to_str().unwrap_or("null"));
    if let Some(origin) = origin {
        let ours = origin
            .split_once("://")
            .is_some_and(|(_, authority)| st.web.hosts.allows(authority));
        if !ours {
            return AppError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                format!(
                    "requests from the origin `{}` are not accepted; MCP clients send no Origin header",
                    origin.chars().take(100).collect::<String>()
                ),
            )
            .into_response();
        }
    }
    next.run(req).await
}
