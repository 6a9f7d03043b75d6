//! The Postgres catalogs of each role, for the queries SQL clients and BI tools send to browse a database
//! (`\dt`, `\d table`, DBeaver's and Metabase's schema browsers). DuckDB's own `pg_catalog` answers only part of
//! them and cannot be extended, so each role gets a catalog database: a separate, locked-down DuckDB holding the
//! emulated catalogs over the role's own tables — and not one row of data. Catalog queries are rewritten for it
//! (`rewrite.rs`) and run through the same guarded path as every query. Built on first use per snapshot.

mod build;
mod rewrite;
mod schema;

pub use build::DATABASE;
pub use rewrite::{Context, is_catalog_query, rewrite};

use crate::load::serving_db::ServingDb;
use crate::serve::http::AppState;
use std::collections::HashMap;
use std::sync::Arc;

/// A role's catalog database.
pub struct Catalog {
    pub db: Arc<ServingDb>,
    /// The role's tables by `schema.table` and `table` (lower case), for `'name'::regclass`.
    pub relations: HashMap<String, i64>,
}

/// (snapshot generation, address of the role's serving database): a catalog is rebuilt when either changes.
type Key = (u64, usize);

/// The catalogs built so far, by role.
#[derive(Default)]
pub struct Catalogs {
    built: tokio::sync::Mutex<HashMap<String, (Key, Arc<Catalog>)>>,
}

impl Catalogs {
    /// The catalog of `role` for the current snapshot, built when missing or stale.
    pub async fn for_role(&self, state: &Arc<AppState>, role: &str) -> Result<Arc<Catalog>, String> {
        let role_db = state.serving_for_role(role).await.map_err(|e| e.message)?;
        let key = (state.mesh.snapshot().generation, Arc::as_ptr(&role_db) as usize);
        let mut built = self.built.lock().await;
        if let Some((k, c)) = built.get(role)
            && *k == key
            && !c.db.is_poisoned()
        {
            return Ok(c.clone());
        }
        let engine = state.mesh.opts.engine.clone();
        let max_ms = (state.limits.time_limit.as_millis() as u64).saturating_mul(2).max(1000);
        let name = role.to_string();
        let made = tokio::task::spawn_blocking(move || build::build(&role_db, &engine, max_ms, &name))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| {
                tracing::error!(role, error = %format!("{e:#}"), "cannot build the Postgres catalogs");
                "the Postgres catalogs of this role cannot be built (see the meshbox log)".to_string()
            })?;
        let catalog = Arc::new(Catalog {
            db: Arc::new(made.db),
            relations: made.relations,
        });
        built.insert(role.to_string(), (key, catalog.clone()));
        Ok(catalog)
    }
}
