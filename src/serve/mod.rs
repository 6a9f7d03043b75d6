//! Stage 9, serve: answering users — the console's query path, streamed downloads, and the web server (`http`:
//! pages, JSON API, events). Takes in the live mesh; hands on HTTP responses.

pub mod downloads;
pub mod http;
pub mod query;
