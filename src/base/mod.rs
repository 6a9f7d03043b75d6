//! Stage 0, base: what every stage needs and that knows nothing of meshes — diagnostics (file, line, field,
//! hint), YAML with positions and YAML out, SQL quoting and the SQL guard, DuckDB error text (cleaned and data-free),
//! values as JSON, `${VAR}` references, number/time formats, URL building, the one HTML escaper, and reading a file
//! without trusting its path.
//! Takes in text and paths; hands on plain functions and types.

pub mod diagnostics;
pub mod errors;
pub mod format;
pub mod html;
pub mod progress;
pub mod safe_read;
pub mod sql;
pub mod sql_guard;
pub mod urls;
pub mod values;
pub mod vars;
pub mod yaml;
pub mod yaml_out;
