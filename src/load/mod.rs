//! Stage 3, load: data into DuckDB — a contract's files into staging with its types (`ingest`), derived products
//! built in a sandbox holding only their inputs (`derived`, `sandbox`, `reach`), column profiles and the PII scan,
//! and the serving database tables are published to. Takes in a `MeshSpec`; hands on loaded tables.

pub mod column_profiles;
pub mod derived;
pub mod ingest;
pub mod pii;
pub mod plain_csv;
pub mod product_load;
pub mod reach;
pub mod sandbox;
pub mod serving_db;
