//! The JSON API: the mesh, domains, products, problems, status, and the query endpoint.

use super::models;
use super::{AppError, AppState, Caller};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

type ApiResult = Result<Json<Value>, AppError>;

fn to_json<T: serde::Serialize>(v: &T) -> ApiResult {
    serde_json::to_value(v).map(Json).map_err(AppError::internal)
}

pub async fn mesh(State(st): State<Arc<AppState>>, caller: Caller) -> ApiResult {
    to_json(&models::mesh(&st, &caller))
}

pub async fn status(State(st): State<Arc<AppState>>) -> ApiResult {
    let s = st.mesh.snapshot();
    Ok(Json(json!({
        "ready": st.mesh.is_ready(),
        "loading": st.mesh.first_load(),
        "generation": s.generation,
        "built_at": s.built_at,
        "reload": s.reload,
        "last_error": st.mesh.last_error(),
        "governance": s.governance.state,
        "governance_alert": s.governance.state.alert(),
        "watching": st.mesh.watch_mode(),
        "history": st.mesh.history(),
        "products": s.catalog.products.len(),
        "healthy": s.catalog.is_healthy(),
        "compliant": s.governance.compliance.non_compliant.is_empty(),
        "profiles": st.mesh.profiles().info(),
    })))
}

pub async fn products(State(st): State<Arc<AppState>>) -> ApiResult {
    to_json(&models::products(&st))
}

pub async fn product(
    State(st): State<Arc<AppState>>,
    caller: Caller,
    Path((domain, name)): Path<(String, String)>,
) -> ApiResult {
    to_json(&models::product(&st, &caller, &domain, &name)?)
}

pub async fn domain(State(st): State<Arc<AppState>>, Path(domain): Path<String>) -> ApiResult {
    to_json(&models::domain(&st, &domain)?)
}

pub async fn problems(State(st): State<Arc<AppState>>, caller: Caller) -> ApiResult {
    to_json(&models::all_problems(&st, &caller))
}

#[derive(Deserialize)]
struct QueryRequest {
    sql: String,
    /// Client-chosen id, so `POST /api/query/{id}/cancel` can stop the query.
    #[serde(default)]
    query_id: Option<String>,
}

pub async fn query(
    State(st): State<Arc<AppState>>,
    caller: Caller,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> ApiResult {
    let body = body.map_err(|e| {
        let status = e.status();
        AppError::new(
            status,
            if status == StatusCode::PAYLOAD_TOO_LARGE {
                "too_large"
            } else {
                "bad_request"
            },
            if status == StatusCode::PAYLOAD_TOO_LARGE {
                format!("the request body is larger than {} bytes", st.max_body_bytes)
            } else {
                e.body_text()
            },
        )
    })?;
    let req: QueryRequest = serde_json::from_slice(&body).map_err(|e| {
        AppError::new(
            StatusCode::BAD_REQUEST,
            "bad_request",
            format!("expected a JSON body {{\"sql\": \"...\"}}: {e}"),
        )
    })?;
    let limits = st.limits;
    let state = st.clone();
    let id = req.query_id.clone().filter(|i| !i.is_empty() && i.len() <= 64);
    let db = match st.serving_for(&caller).await {
        Ok(db) => db,
        Err(e) => {
            st.audit(&caller, "query", &req.sql, 0, "unavailable", 0.0);
            return Err(e);
        }
    };
    let sql = req.sql.clone();
    let started = std::time::Instant::now();
    let result = tokio::task::spawn_blocking(move || {
        let register = |h: Arc<duckdb::InterruptHandle>| {
            if let Some(id) = &id {
                state
                    .running
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(id.clone(), h);
            }
        };
        let out = crate::serve::query::run(&db, &req.sql, &limits, &register);
        if let Some(id) = &id {
            state.running.lock().unwrap_or_else(|e| e.into_inner()).remove(id);
        }
        if matches!(out, Err(crate::serve::query::QueryError::Unavailable(_))) {
            // Rebuild the database in the background; later queries answer 503 until it is back.
            let mesh = state.mesh.clone();
            std::thread::spawn(move || {
                let _ = mesh.rebuild();
            });
        }
        out
    })
    .await
    .map_err(AppError::internal)?;
    let elapsed = started.elapsed().as_secs_f64() * 1000.0;
    match &result {
        Ok(out) => st.audit(&caller, "query", &sql, out.row_count as u64, "ok", elapsed),
        Err(e) => st.audit(&caller, "query", &sql, 0, e.kind(), elapsed),
    }
    to_json(&result?)
}

pub async fn cancel(State(st): State<Arc<AppState>>, Path(id): Path<String>) -> ApiResult {
    let running = |st: &AppState| st.running.lock().unwrap_or_else(|e| e.into_inner()).get(&id).cloned();
    let Some(handle) = running(&st) else {
        return Ok(Json(json!({"cancelled": false})));
    };
    // DuckDB drops an interrupt that arrives before execution starts: repeat until the query is gone (at most 2 s).
    for _ in 0..100 {
        handle.interrupt();
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        if running(&st).is_none() {
            break;
        }
    }
    Ok(Json(json!({"cancelled": true})))
}

#[derive(Deserialize)]
struct ExportRequest {
    sql: String,
    #[serde(default)]
    format: Option<String>,
}

/// Streams a query result as a CSV or JSON download (`{"sql", "format"}` as JSON or a form).
pub async fn export(
    State(st): State<Arc<AppState>>,
    caller: Caller,
    headers: axum::http::HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<axum::response::Response, AppError> {
    let body = body.map_err(|e| AppError::new(e.status(), "bad_request", e.body_text()))?;
    let form = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let req: ExportRequest = if form {
        serde_urlencoded::from_bytes(&body)
            .map_err(|e| AppError::new(StatusCode::BAD_REQUEST, "bad_request", e.to_string()))?
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            AppError::new(
                StatusCode::BAD_REQUEST,
                "bad_request",
                format!("expected {{\"sql\": \"...\", \"format\": \"csv\"}}: {e}"),
            )
        })?
    };
    let format = crate::serve::downloads::ExportFormat::parse(req.format.as_deref().unwrap_or("csv"))
        .ok_or_else(|| AppError::new(StatusCode::BAD_REQUEST, "bad_request", "format is csv or json"))?;
    stream_export(&st, &caller, "export", req.sql, format, "query").await
}

/// `GET /api/products/{domain}/{product}/tables/{table}.csv|.json`: a table of the product as a download.
pub async fn table_download(
    State(st): State<Arc<AppState>>,
    caller: Caller,
    Path((domain, name, file)): Path<(String, String, String)>,
) -> Result<axum::response::Response, AppError> {
    let (table, ext) = file
        .rsplit_once('.')
        .ok_or_else(|| AppError::not_found("name the file as <table>.csv or <table>.json"))?;
    let format = crate::serve::downloads::ExportFormat::parse(ext)
        .ok_or_else(|| AppError::not_found("downloads are .csv or .json"))?;
    let s = st.mesh.snapshot();
    let p = models::find_product(&s, &domain, &name)?;
    let t = p
        .tables
        .iter()
        .find(|t| t.name == table)
        .ok_or_else(|| AppError::not_found(format!("{domain}/{name} has no table {table}")))?;
    let sql = format!("SELECT * FROM {}", t.sql_name());
    let decision = s.decide(&caller.role, p);
    if !decision.granted {
        st.audit(&caller, "download", &sql, 0, "denied", 0.0);
        return Err(AppError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!(
                "role `{}` may not read {domain}/{name}: {}",
                caller.role.name, decision.reason
            ),
        ));
    }
    stream_export(&st, &caller, "download", sql, format, table).await
}

async fn stream_export(
    st: &Arc<AppState>,
    caller: &Caller,
    endpoint: &str,
    sql: String,
    format: crate::serve::downloads::ExportFormat,
    stem: &str,
) -> Result<axum::response::Response, AppError> {
    use axum::http::header;
    let db = st.serving_for(caller).await?;
    let finished = {
        let (st, caller, endpoint, sql) = (st.clone(), caller.clone(), endpoint.to_string(), sql.clone());
        let started = std::time::Instant::now();
        Box::new(move |rows: u64, outcome: &str| {
            st.audit(
                &caller,
                &endpoint,
                &sql,
                rows,
                outcome,
                started.elapsed().as_secs_f64() * 1000.0,
            )
        })
    };
    let rx =
        crate::serve::downloads::stream(db, sql, format, st.limits.time_limit, st.export_max_rows, finished).await?;
    let body = axum::body::Body::from_stream(tokio_stream::wrappers::ReceiverStream::new(rx));
    let filename: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    axum::response::Response::builder()
        .header(header::CONTENT_TYPE, format.content_type())
        .header(
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{filename}.{}\"", format.extension()),
        )
        .header("x-meshbox-row-cap", st.export_max_rows.to_string())
        .body(body)
        .map_err(AppError::internal)
}
