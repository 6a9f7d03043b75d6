//! `meshbox mcp`: the MCP server over standard input and output, as desktop assistants and IDEs start it — one
//! session, one role. Standard output carries only protocol messages; logs go to standard error.

use super::{McpServer, RoleSource};
use crate::serve::http::AppState;
use rmcp::ServiceExt;
use std::sync::Arc;

/// Serves MCP on stdin/stdout as `role` until the client closes the session (or standard input ends).
pub async fn serve_stdio(state: Arc<AppState>, role: String) -> anyhow::Result<()> {
    let server = McpServer::new(state, RoleSource::Named(role.clone()));
    let running = server
        .serve(rmcp::transport::stdio())
        .await
        .map_err(|e| anyhow::anyhow!("the MCP session did not start: {e}"))?;
    tracing::info!(role = %role, "MCP session started on standard input/output");
    let reason = running.waiting().await?;
    tracing::info!(?reason, "MCP session ended");
    Ok(())
}
