//! The `query` tool: `POST /api/query` for an assistant — the console's guarded path (`serve::query`: SQL guard, the
//! role's database with its masks, time limit), a row cap fit for a model's context, and the same audit entry and
//! usage count, under the endpoint `mcp` and the role `mcp:<role>`.

use super::tools::{Answer, Refusal, ToolResult, attributed, count, required};
use crate::serve::http::{AppError, AppState, Caller};
use crate::serve::query::{Limits, QueryError, QueryOutput};
use rmcp::model::JsonObject;
use serde_json::json;
use std::sync::Arc;

/// The audit log's endpoint for queries sent by assistants.
pub const ENDPOINT: &str = "mcp";

/// Runs the `sql` argument as `caller`, audited like the console's query.
pub async fn run(st: &Arc<AppState>, caller: &Caller, args: &JsonObject) -> ToolResult {
    let sql = required(args, "sql")?.to_string();
    let cap = st.limits.max_rows.clamp(1, super::ROW_CAP);
    let limits = Limits {
        time_limit: st.limits.time_limit,
        max_rows: count(args, "max_rows", cap, cap)?,
    };
    let audited = attributed(caller);
    let db = match st.serving_for(caller).await {
        Ok(db) => db,
        Err(e) => {
            st.audit(&audited, ENDPOINT, &sql, 0, "unavailable", 0.0);
            return Err(e.into());
        }
    };
    let started = std::time::Instant::now();
    let result = {
        let (state, sql) = (st.clone(), sql.clone());
        tokio::task::spawn_blocking(move || {
            let out = crate::serve::query::run(&db, &sql, &limits, &|_: Arc<duckdb::InterruptHandle>| {});
            if matches!(out, Err(QueryError::Unavailable(_))) {
                // Rebuild the database in the background, as the console does; later queries wait for it.
                let mesh = state.mesh.clone();
                std::thread::spawn(move || {
                    let _ = mesh.rebuild();
                });
            }
            out
        })
        .await
        .map_err(|e| Refusal::from(AppError::internal(e)))?
    };
    let elapsed = started.elapsed().as_secs_f64() * 1000.0;
    match &result {
        Ok(out) => st.audit(&audited, ENDPOINT, &sql, out.row_count as u64, "ok", elapsed),
        Err(e) => st.audit(&audited, ENDPOINT, &sql, 0, e.kind(), elapsed),
    }
    let out = result.map_err(|e| Refusal::from(AppError::from(e)))?;
    Ok(answer(st, caller, &sql, out, limits.max_rows))
}

/// The rows with the terms of use of the products the statement read.
fn answer(st: &AppState, caller: &Caller, sql: &str, out: QueryOutput, cap: usize) -> Answer {
    let products = st.products_named(sql);
    let s = st.mesh.snapshot();
    let terms = super::terms::of_products(&s, &caller.role, &products);
    let summary = format!(
        "{} row(s){} of {} column(s){}{}",
        out.row_count,
        if out.truncated {
            format!(" (more exist: only the first {cap} are returned)")
        } else {
            String::new()
        },
        out.columns.len(),
        if out.columns.is_empty() {
            String::new()
        } else {
            format!(": {}", out.columns.join(", "))
        },
        if products.is_empty() {
            String::new()
        } else {
            format!("; read from {}", products.join(", "))
        }
    );
    Answer {
        summary,
        data: json!({
            "columns": out.columns,
            "types": out.types,
            "rows": out.rows,
            "row_count": out.row_count,
            "truncated": out.truncated,
            "row_cap": cap,
            "elapsed_ms": out.elapsed_ms,
            "role": caller.role.name,
            "terms_of_use": terms,
        }),
        // Usage is counted by the audit entry above (the products the statement names).
        products: Vec::new(),
    }
}
