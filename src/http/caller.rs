//! Which role a request acts as: the `X-Meshbox-Role` header, else the `meshbox_role` cookie the role switcher
//! sets, else the mesh's default (least privileged) role. Roles are chosen, not authenticated: this is a sandbox.

use super::{AppError, AppState};
use crate::access::Role;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use std::sync::Arc;

pub const ROLE_HEADER: &str = "x-meshbox-role";
pub const ROLE_COOKIE: &str = "meshbox_role";

/// The role of the current request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub role: Role,
}

fn cookie<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

impl FromRequestParts<Arc<AppState>> for Caller {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, st: &Arc<AppState>) -> Result<Caller, AppError> {
        let snapshot = st.mesh.snapshot();
        let access = &snapshot.catalog.access;
        if let Some(value) = parts.headers.get(ROLE_HEADER) {
            let name = value.to_str().unwrap_or("").trim();
            return match access.role(name) {
                Some(role) => Ok(Caller { role: role.clone() }),
                None => Err(AppError::new(
                    StatusCode::BAD_REQUEST,
                    "unknown_role",
                    format!(
                        "no role named `{}`; the roles of this mesh are {}",
                        name.chars().take(64).collect::<String>(),
                        access.role_names().join(", ")
                    ),
                )),
            };
        }
        // A cookie naming a role that no longer exists falls back to the default.
        let role = cookie(parts, ROLE_COOKIE)
            .and_then(|v| serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("r={v}")).ok())
            .and_then(|mut pairs| pairs.pop())
            .and_then(|(_, name)| access.role(&name))
            .unwrap_or_else(|| access.default());
        Ok(Caller { role: role.clone() })
    }
}

#[derive(serde::Deserialize)]
pub struct RoleForm {
    role: String,
    #[serde(default)]
    back: Option<String>,
}

/// `POST /role` (the role switcher): remembers the role in a cookie and goes back to the page.
pub async fn switch(
    State(st): State<Arc<AppState>>,
    axum::extract::Form(form): axum::extract::Form<RoleForm>,
) -> Result<Response, AppError> {
    let snapshot = st.mesh.snapshot();
    let Some(role) = snapshot.catalog.access.role(&form.role) else {
        return Err(AppError::new(
            StatusCode::BAD_REQUEST,
            "unknown_role",
            format!("no role named `{}`", form.role),
        )
        .page());
    };
    // Only a path on this site: never an open redirect.
    let back = form
        .back
        .filter(|b| b.starts_with('/') && !b.starts_with("//") && !b.contains('\\'))
        .unwrap_or_else(|| "/".into());
    let mut res = Redirect::to(&back).into_response();
    let cookie = format!(
        "{ROLE_COOKIE}={}; Path=/; SameSite=Strict; HttpOnly",
        super::views::seg(&role.name)
    );
    res.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(AppError::internal)?,
    );
    Ok(res)
}
