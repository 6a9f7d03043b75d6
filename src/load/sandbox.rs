//! A private DuckDB for the SQL of one derived product: it holds copies of exactly the product's input tables under
//! their `<domain>.<table>` names and nothing else (no staging schema, no other product, no file, no setting to
//! change), the same construction that makes role databases airtight. Tables move in and out as Arrow batches.

use crate::base::errors::clean_error;
use crate::base::sql::quote_ident;
use crate::load::ingest::EngineSettings;
use anyhow::Context;
use duckdb::Connection;

/// How long one transform may run before DuckDB stops it.
pub const TRANSFORM_TIME_LIMIT_MS: u64 = 60_000;

/// Where the transform's result is kept inside the sandbox (`main` never holds an input: inputs live in their domain).
const RESULT: &str = "derived_result";

pub struct Sandbox {
    conn: Connection,
}

impl Sandbox {
    /// Opens an empty in-memory database that cannot touch files, load extensions or change its configuration.
    pub fn open(engine: &EngineSettings) -> anyhow::Result<Sandbox> {
        let config = engine
            .config()?
            .enable_external_access(false)?
            .with("max_execution_time", TRANSFORM_TIME_LIMIT_MS.to_string())?
            .with("lock_configuration", "true")?;
        let conn = Connection::open_in_memory_with_flags(config).context("opening a derived product's sandbox")?;
        Ok(Sandbox { conn })
    }

    /// The sandbox's connection (for parsing SQL; its catalog holds only the inputs).
    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    /// Copies `relation` (a table or view `from` can read) into the sandbox as `domain.table`.
    pub fn add_input(&self, from: &Connection, relation: &str, domain: &str, table: &str) -> Result<(), String> {
        copy_relation(from, relation, &self.conn, domain, table)
    }

    /// Copies a served table into the sandbox under the same name.
    pub fn add_served_input(
        &self,
        serving: &crate::load::serving_db::ServingDb,
        domain: &str,
        table: &str,
    ) -> Result<(), String> {
        serving.copy_table_to_as(&self.conn, domain, table, domain, table)
    }

    /// Runs one SELECT (already accepted by the guard) and keeps its rows as the sandbox's result.
    pub fn run(&self, select: &str) -> Result<(), String> {
        let select = select.trim().trim_end_matches(';');
        self.conn
            .execute_batch(&format!(
                "DROP TABLE IF EXISTS main.{RESULT}; CREATE TABLE main.{RESULT} AS SELECT * FROM ({select}\n) AS derived"
            ))
            .map_err(clean_error)
    }

    /// Copies the last result to `schema.table` of `to` (replacing it).
    pub fn copy_result_to(&self, to: &Connection, schema: &str, table: &str) -> Result<(), String> {
        copy_relation(&self.conn, &format!("main.{RESULT}"), to, schema, table)
    }
}

/// Column names and types of a relation.
fn columns_of(conn: &Connection, relation: &str) -> Result<Vec<(String, String)>, String> {
    let mut stmt = conn
        .prepare(&format!("DESCRIBE SELECT * FROM {relation}"))
        .map_err(clean_error)?;
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
        .map_err(clean_error)?;
    rows.collect::<Result<Vec<_>, _>>().map_err(clean_error)
}

/// Copies `relation` from one DuckDB to `schema.table` of another, streaming Arrow batches through the appender.
/// Types the Arrow round trip does not preserve travel as text and are cast back on arrival (kept as text if the
/// cast fails), so the copy has the source's types.
pub fn copy_relation(
    from: &Connection,
    relation: &str,
    to: &Connection,
    schema: &str,
    table: &str,
) -> Result<(), String> {
    let cols = columns_of(from, relation)?;
    if cols.is_empty() {
        return Err(format!("{relation} has no columns"));
    }
    let target = format!("{}.{}", quote_ident(schema), quote_ident(table));
    let mut select = Vec::new();
    let mut defs = Vec::new();
    let mut retype = Vec::new();
    for (name, ty) in &cols {
        let q = quote_ident(name);
        if crate::load::serving_db::arrow_safe(ty) {
            select.push(q.clone());
            defs.push(format!("{q} {ty}"));
        } else {
            select.push(format!("CAST({q} AS VARCHAR) AS {q}"));
            defs.push(format!("{q} VARCHAR"));
            retype.push((name, ty));
        }
    }
    to.execute_batch(&format!(
        "CREATE SCHEMA IF NOT EXISTS {}; DROP TABLE IF EXISTS {target}; CREATE TABLE {target} ({});",
        quote_ident(schema),
        defs.join(", ")
    ))
    .map_err(clean_error)?;
    {
        let mut read = from
            .prepare(&format!("SELECT {} FROM {relation}", select.join(", ")))
            .map_err(clean_error)?;
        let mut appender = to.appender_to_db(table, schema).map_err(clean_error)?;
        for batch in read.stream_arrow([]).map_err(clean_error)? {
            appender
                .append_record_batch(batch.map_err(clean_error)?)
                .map_err(clean_error)?;
        }
        appender.flush().map_err(clean_error)?;
    }
    for (name, ty) in retype {
        let q = quote_ident(name);
        let cast = format!("ALTER TABLE {target} ALTER COLUMN {q} SET DATA TYPE {ty} USING CAST({q} AS {ty})");
        if let Err(e) = to.execute_batch(&cast) {
            tracing::debug!(column = %name, to_type = %ty, error = %clean_error(e), "kept as text after the copy");
        }
    }
    Ok(())
}
