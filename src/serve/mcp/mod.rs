//! The MCP server: AI assistants search, read and query the mesh as a role, through the same guarded query path as the console.
