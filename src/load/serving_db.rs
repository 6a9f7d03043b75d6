//! The serving DuckDB: the only database user SQL ever reaches. It cannot touch files (external access is off and the
//! configuration locked from the moment it opens); tables arrive from staging as Arrow batches through the appender.

use crate::base::errors::clean_error;
use crate::base::sql::quote_ident;
use crate::load::ingest::{EngineSettings, Staging};
use anyhow::Context;
use duckdb::Connection;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// A table to (re)publish: from a staging relation to `schema.table` in the serving database.
#[derive(Debug, Clone)]
pub struct Publish {
    pub from: String,
    pub schema: String,
    pub table: String,
    /// The staging table's columns and DuckDB types when known from loading it (saves asking DuckDB again);
    /// empty: asked for.
    pub columns: Vec<(String, String)>,
}

pub struct ServingDb {
    /// The administrative connection: publishing only. Queries get a fresh clone each.
    base: Mutex<Connection>,
    /// Set after DuckDB reported an INTERNAL error; the instance must be rebuilt before it is trusted again.
    poisoned: AtomicBool,
}

/// Column types the Arrow round trip preserves exactly; others are published as text.
pub(crate) fn arrow_safe(t: &str) -> bool {
    let u = t.to_ascii_uppercase();
    let base = u.split('(').next().unwrap_or("").trim();
    matches!(
        base,
        "BOOLEAN"
            | "TINYINT"
            | "SMALLINT"
            | "INTEGER"
            | "BIGINT"
            | "UTINYINT"
            | "USMALLINT"
            | "UINTEGER"
            | "UBIGINT"
            | "FLOAT"
            | "DOUBLE"
            | "DECIMAL"
            | "VARCHAR"
            | "DATE"
            | "TIME"
            | "TIMESTAMP"
            | "TIMESTAMP WITH TIME ZONE"
            | "BLOB"
    ) || (u.ends_with("[]") && arrow_safe(&u[..u.len() - 2]))
}

impl ServingDb {
    /// Opens an empty, locked-down in-memory database.
    pub fn open(engine: &EngineSettings, max_execution_ms: u64) -> anyhow::Result<ServingDb> {
        let config = engine
            .config()?
            .enable_external_access(false)?
            .with("max_execution_time", max_execution_ms.to_string())?
            .with("lock_configuration", "true")?;
        let conn = Connection::open_in_memory_with_flags(config).context("opening the serving database")?;
        Ok(ServingDb {
            base: Mutex::new(conn),
            poisoned: AtomicBool::new(false),
        })
    }

    /// A fresh connection for one query (so a late interrupt cannot hit the next query).
    pub fn connect(&self) -> anyhow::Result<Connection> {
        let base = self
            .base
            .lock()
            .map_err(|_| anyhow::anyhow!("serving database lock poisoned"))?;
        Ok(base.try_clone()?)
    }

    pub fn is_poisoned(&self) -> bool {
        self.poisoned.load(Ordering::SeqCst)
    }

    pub fn mark_poisoned(&self) {
        self.poisoned.store(true, Ordering::SeqCst);
    }

    /// Runs `work` on the administrative connection inside one transaction (rolled back when it fails).
    pub fn transaction<T>(&self, work: impl FnOnce(&Connection) -> anyhow::Result<T>) -> anyhow::Result<T> {
        let base = self
            .base
            .lock()
            .map_err(|_| anyhow::anyhow!("serving database lock poisoned"))?;
        base.execute_batch("BEGIN TRANSACTION")?;
        match work(&base) {
            Ok(v) => {
                base.execute_batch("COMMIT")?;
                Ok(v)
            }
            Err(e) => {
                let _ = base.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }

    /// Replaces and removes tables in one transaction: readers see the old tables or the new ones, never a mix.
    pub fn publish(
        &self,
        staging: &Staging,
        updates: &[Publish],
        removals: &[(String, String)],
    ) -> anyhow::Result<Vec<(Publish, String)>> {
        let base = self
            .base
            .lock()
            .map_err(|_| anyhow::anyhow!("serving database lock poisoned"))?;
        let mut failures = Vec::new();
        base.execute_batch("BEGIN TRANSACTION")?;
        let result = (|| -> anyhow::Result<()> {
            let schemas: std::collections::BTreeSet<&str> = updates.iter().map(|p| p.schema.as_str()).collect();
            let create: String = schemas
                .iter()
                .map(|s| format!("CREATE SCHEMA IF NOT EXISTS {};", quote_ident(s)))
                .collect();
            base.execute_batch(&create)?;
            for (schema, table) in removals {
                base.execute_batch(&format!(
                    "DROP TABLE IF EXISTS {}.{}",
                    quote_ident(schema),
                    quote_ident(table)
                ))?;
            }
            for p in updates {
                if let Err(e) = copy_table(&base, staging, p) {
                    // Never serve half a table.
                    let _ = base.execute_batch(&format!(
                        "DROP TABLE IF EXISTS {}.{}",
                        quote_ident(&p.schema),
                        quote_ident(&p.table)
                    ));
                    failures.push((p.clone(), e));
                }
            }
            Ok(())
        })();
        match result {
            Ok(()) => base.execute_batch("COMMIT")?,
            Err(e) => {
                let _ = base.execute_batch("ROLLBACK");
                return Err(e);
            }
        }
        Ok(failures)
    }

    /// Drops tables in one transaction (products that disappeared, with nothing new to load).
    pub fn remove(&self, removals: &[(String, String)]) -> anyhow::Result<()> {
        let base = self
            .base
            .lock()
            .map_err(|_| anyhow::anyhow!("serving database lock poisoned"))?;
        let mut sql = String::from("BEGIN TRANSACTION;");
        for (schema, table) in removals {
            sql.push_str(&format!(
                "DROP TABLE IF EXISTS {}.{};",
                quote_ident(schema),
                quote_ident(table)
            ));
        }
        sql.push_str("COMMIT;");
        base.execute_batch(&sql)?;
        Ok(())
    }

    /// Copies one served table into another DuckDB as `to_schema.to_table` (meshbox's own use: the inputs of a
    /// derived product).
    pub fn copy_table_to_as(
        &self,
        target: &Connection,
        schema: &str,
        table: &str,
        to_schema: &str,
        to_table: &str,
    ) -> Result<(), String> {
        let conn = self.connect().map_err(|e| e.to_string())?;
        let mut stmt = conn
            .prepare(
                "SELECT column_name, data_type FROM duckdb_columns() WHERE schema_name = ? AND table_name = ? \
                 ORDER BY column_index",
            )
            .map_err(clean_error)?;
        let cols: Vec<(String, String)> = stmt
            .query_map([schema, table], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(clean_error)?
            .collect::<Result<_, _>>()
            .map_err(clean_error)?;
        if cols.is_empty() {
            return Err(format!("`{schema}.{table}` is not served"));
        }
        let qualified = format!("{}.{}", quote_ident(schema), quote_ident(table));
        let defs: Vec<String> = cols.iter().map(|(n, t)| format!("{} {t}", quote_ident(n))).collect();
        target
            .execute_batch(&format!(
                "CREATE SCHEMA IF NOT EXISTS {}; CREATE OR REPLACE TABLE {}.{} ({});",
                quote_ident(to_schema),
                quote_ident(to_schema),
                quote_ident(to_table),
                defs.join(", ")
            ))
            .map_err(clean_error)?;
        let mut read = conn
            .prepare(&format!("SELECT * FROM {qualified}"))
            .map_err(clean_error)?;
        let mut appender = target.appender_to_db(to_table, to_schema).map_err(clean_error)?;
        for batch in read.stream_arrow([]).map_err(clean_error)? {
            appender
                .append_record_batch(batch.map_err(clean_error)?)
                .map_err(clean_error)?;
        }
        appender.flush().map_err(clean_error)?;
        Ok(())
    }

    /// Names of the tables currently served, as (schema, table).
    pub fn tables(&self) -> anyhow::Result<Vec<(String, String)>> {
        let base = self
            .base
            .lock()
            .map_err(|_| anyhow::anyhow!("serving database lock poisoned"))?;
        let mut stmt =
            base.prepare("SELECT schema_name, table_name FROM duckdb_tables() WHERE NOT temporary ORDER BY 1, 2")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }
}

/// The columns and DuckDB types of a staging relation.
fn staging_columns(staging: &Staging, relation: &str) -> Result<Vec<(String, String)>, String> {
    let mut stmt = staging
        .conn
        .prepare(&format!("DESCRIBE SELECT * FROM {relation}"))
        .map_err(clean_error)?;
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(clean_error)?
        .collect::<Result<_, _>>()
        .map_err(clean_error)
}

/// Copies one staging table into the serving database (inside the caller's transaction, its schema created).
fn copy_table(base: &Connection, staging: &Staging, p: &Publish) -> Result<(), String> {
    let target = format!("{}.{}", quote_ident(&p.schema), quote_ident(&p.table));
    let cols = match p.columns.as_slice() {
        [] => staging_columns(staging, &p.from)?,
        known => known.to_vec(),
    };
    let mut select = Vec::new();
    let mut defs = Vec::new();
    for (name, ty) in &cols {
        let q = quote_ident(name);
        if arrow_safe(ty) {
            select.push(q.clone());
            defs.push(format!("{q} {ty}"));
        } else {
            select.push(format!("CAST({q} AS VARCHAR) AS {q}"));
            defs.push(format!("{q} VARCHAR"));
        }
    }
    base.execute_batch(&format!("CREATE OR REPLACE TABLE {target} ({})", defs.join(", ")))
        .map_err(clean_error)?;
    let mut read = staging
        .conn
        .prepare(&format!("SELECT {} FROM {}", select.join(", "), p.from))
        .map_err(clean_error)?;
    let batches = read.stream_arrow([]).map_err(clean_error)?;
    let mut appender = base.appender_to_db(&p.table, &p.schema).map_err(clean_error)?;
    for batch in batches {
        let batch = batch.map_err(clean_error)?;
        appender.append_record_batch(batch).map_err(clean_error)?;
    }
    appender.flush().map_err(clean_error)?;
    Ok(())
}
