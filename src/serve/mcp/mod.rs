//! The MCP server: AI assistants search, read and query the mesh as a role, through the same guarded query path as the console.
//!
//! Every answer comes from the JSON API's own code (`serve::http`): the same per-role visibility, masking and
//! disclosure, the same SQL guard, role database and time limit, the same audit log and usage counts — attributed to
//! `mcp:<role>`. Nothing here decides on its own what a role may see.

mod http;
mod query;
mod read;
mod resources;
mod stdio;
mod terms;
mod tools;

pub use http::routes;
pub use stdio::serve_stdio;

use crate::serve::http::{AppState, Caller};
use axum::extract::FromRequestParts;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, Extensions, GetPromptRequestParams, GetPromptResponse, Implementation,
    ListPromptsResult, ListResourcesResult, ListToolsResult, PaginatedRequestParams, ReadResourceRequestParams,
    ReadResourceResponse, ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler};
use std::sync::Arc;

/// Rows one `query` call returns at most: enough to answer a question, small enough for a model's context.
pub const ROW_CAP: usize = 200;

/// What the server tells every client when it connects.
const INSTRUCTIONS: &str = "meshbox serves a data mesh: data products owned by domains, each with ODCS contracts \
(schema, classifications, quality checks, service levels) and an ODPS descriptor (purpose, owner, ports). Tables are \
named `domain.table` in SQL. Find products with `search_products`, read one with `get_product` (its purpose, \
limitations and terms of use come first: respect them), then answer with `query` (one read-only SELECT, at most 200 \
rows, classified columns masked for your role). The `mesh_naming` prompt explains the names.";

/// Who the assistant acts as.
#[derive(Debug, Clone)]
pub enum RoleSource {
    /// `meshbox mcp --role R`: one role for the whole session, looked up in the current snapshot at every call.
    Named(String),
    /// `/mcp` over HTTP: each request's role, resolved like every API request (the `X-Meshbox-Role` header, the
    /// role cookie, the default role; in a locked room, a guarded role only with the token).
    PerRequest,
}

/// One MCP session's handler: the shared state of `serve` (or of `meshbox mcp`) and where its role comes from.
#[derive(Clone)]
pub struct McpServer {
    state: Arc<AppState>,
    role: RoleSource,
}

impl McpServer {
    pub fn new(state: Arc<AppState>, role: RoleSource) -> McpServer {
        McpServer { state, role }
    }

    /// The caller a request acts as, or why it cannot act at all.
    async fn caller(&self, extensions: &Extensions) -> Result<Caller, String> {
        match &self.role {
            RoleSource::Named(name) => {
                let s = self.state.mesh.snapshot();
                let access = &s.governance.access;
                access.role(name).map(|r| Caller { role: r.clone() }).ok_or_else(|| {
                    format!(
                        "the role `{name}` is no longer declared in this mesh; its roles are {} (restart meshbox mcp \
                         with --role)",
                        access.role_names().join(", ")
                    )
                })
            }
            RoleSource::PerRequest => {
                let Some(parts) = extensions.get::<axum::http::request::Parts>() else {
                    return Err("the request carries no HTTP headers to tell its role".into());
                };
                let mut parts = parts.clone();
                Caller::from_request_parts(&mut parts, &self.state)
                    .await
                    .map_err(|e| e.message)
            }
        }
    }

    /// The caller, or the protocol error a client sees when the role cannot be resolved.
    async fn caller_or_error(&self, extensions: &Extensions) -> Result<Caller, ErrorData> {
        self.caller(extensions)
            .await
            .map_err(|message| ErrorData::invalid_request(message, None))
    }
}

impl ServerHandler for McpServer {
    fn get_info(&self) -> ServerConfig {
        let capabilities = ServerCapabilities::builder()
            .enable_tools()
            .enable_resources()
            .enable_prompts()
            .build();
        ServerConfig::new(capabilities)
            .with_server_info(Implementation::new("meshbox", env!("CARGO_PKG_VERSION")).with_title("meshbox data mesh"))
            .with_instructions(INSTRUCTIONS)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let caller = self.caller_or_error(&context.extensions).await?;
        Ok(ListToolsResult::with_all_items(tools::list(&self.state, &caller)))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let caller = self.caller_or_error(&context.extensions).await?;
        let arguments = request.arguments.unwrap_or_default();
        let result = tools::call(&self.state, &caller, &request.name, &arguments).await?;
        Ok(result.into())
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        self.caller_or_error(&context.extensions).await?;
        Ok(ListResourcesResult::with_all_items(resources::list(&self.state)))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let caller = self.caller_or_error(&context.extensions).await?;
        let result = resources::read(&self.state, &caller, &request.uri).await?;
        Ok(result.into())
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, ErrorData> {
        self.caller_or_error(&context.extensions).await?;
        Ok(ListPromptsResult::with_all_items(resources::prompts()))
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, ErrorData> {
        let caller = self.caller_or_error(&context.extensions).await?;
        Ok(resources::prompt(&self.state, &caller, &request.name)?.into())
    }
}
