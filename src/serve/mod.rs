//! Stage 9, serve: answering users — the console's query path, streamed downloads, the web server (`http`:
//! pages, JSON API, events), the Postgres wire endpoint (`pg`) and the MCP server (`mcp`). Takes in the live mesh;
//! hands on answers.

pub mod downloads;
pub mod http;
pub mod mcp;
pub mod pg;
pub mod query;
