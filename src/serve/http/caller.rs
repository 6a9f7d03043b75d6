//! Which role a request acts as: the `X-Meshbox-Role` header, else the `meshbox_role` cookie the role switcher
//! sets, else the mesh's default (least privileged) role. Roles are chosen, not authenticated: this is a sandbox —
//! except in a locked room (`room.rs`), where the roles that read more need the room's token.

use super::{AppError, AppState};
use crate::governance::access::Role;
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
        let access = &snapshot.governance.access;
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
        // A cookie naming a role that no longer exists falls back to the default; in a locked room, a default
        // role that needs the token falls back to the least privileged role for a request without it.
        let fallback = || {
            let default = access.default();
            if super::room::locked_for(st, &default.name, &parts.headers) {
                super::room::least_privileged(access)
            } else {
                default
            }
        };
        let role = cookie(parts, ROLE_COOKIE)
            .and_then(|v| serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("r={v}")).ok())
            .and_then(|mut pairs| pairs.pop())
            .and_then(|(_, name)| access.role(&name))
            .unwrap_or_else(fallback);
        Ok(Caller { role: role.clone() })
    }
}

#[derive(serde::Deserialize)]
pub struct RoleForm {
    role: String,
    #[serde(default)]
    back: Option<String>,
}

/// `POST /role` (the role switcher): remembers the role in a cookie and goes back to the page (a path of this site
/// only). In a locked room, a role that needs the token is refused without it.
pub async fn switch(
    State(st): State<Arc<AppState>>,
    headers: axum::http::HeaderMap,
    axum::extract::Form(form): axum::extract::Form<RoleForm>,
) -> Result<Response, AppError> {
    let snapshot = st.mesh.snapshot();
    let Some(role) = snapshot.governance.access.role(&form.role) else {
        return Err(AppError::new(
            StatusCode::BAD_REQUEST,
            "unknown_role",
            format!("no role named `{}`", form.role),
        )
        .page());
    };
    if super::room::locked_for(&st, &role.name, &headers) {
        return Err(super::room::needs_token(&role.name).page());
    }
    let back = safe_back_path(form.back.as_deref().unwrap_or("/"));
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

/// The longest `back=` path followed.
const MAX_BACK_PATH: usize = 2048;

/// Where a redirect may go after a form on this site: `back` when it is a path of this site, else `/`. A path of
/// this site has one leading `/` (not `//` or `/\\`, which browsers read as another host), only visible ASCII (no
/// whitespace or control character: browsers drop tabs and newlines, so `/\t/evil.example` is `//evil.example`),
/// no backslash and no scheme — and still none of that once its `%XX` escapes are decoded (twice).
pub fn safe_back_path(back: &str) -> String {
    fn starts_as_path(p: &str) -> bool {
        p.starts_with('/') && !matches!(p.as_bytes().get(1), Some(b'/' | b'\\'))
    }
    let raw = starts_as_path(back) && back.bytes().all(|b| b.is_ascii_graphic() && b != b'\\');
    let decoded_ok = |d: &str| starts_as_path(d) && !d.chars().any(|c| c.is_control() || c == '\\');
    let once = percent_decode(back);
    if back.len() <= MAX_BACK_PATH && raw && decoded_ok(&once) && decoded_ok(&percent_decode(&once)) {
        back.to_string()
    } else {
        "/".into()
    }
}

/// `%XX` escapes decoded (bytes that are not UTF-8 become U+FFFD).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(h), Some(l)) = (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            )
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::safe_back_path;

    #[test]
    fn back_paths_stay_on_this_site() {
        let kept = [
            "/",
            "/products/sales/orders",
            "/search?q=customer%20id&domain=sales",
            "/source/sales/orders/odcs.yaml",
            "/products/caf%C3%A9/menu",
            "/sql?sql=SELECT%201",
            "/a/b/../c",
            "/%2e%2e/x",
            "/products/x%2Fy",
            "/%E2%80%A8",
        ];
        for back in kept {
            assert_eq!(safe_back_path(back), back, "{back:?} should be kept");
        }
        let refused = [
            "",
            "//evil.example",
            "///evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r\n/evil.example",
            "/%09/evil.example",
            "/%0a/evil.example",
            "/%0D%0A/evil.example",
            "/%2509/evil.example",
            "/%2f/evil.example",
            "/%2F%2Fevil.example",
            "/%5c/evil.example",
            "/%5C%5Cevil.example",
            "/ /evil.example",
            "/\u{0}/evil.example",
            "/\u{7f}/evil.example",
            "/\u{a0}/evil.example",
            "/\u{3000}/evil.example",
            "/\u{feff}/evil.example",
            "http://evil.example/",
            "https:evil.example",
            "javascript:alert(1)",
            "evil.example",
            " /products",
            "\t/products",
            "/products\\..\\..",
            "/products#\u{2028}",
            "/%C2%85/evil.example",
        ];
        for back in refused {
            assert_eq!(safe_back_path(back), "/", "{back:?} should be refused");
        }
        assert_eq!(safe_back_path(&format!("/{}", "a".repeat(5000))), "/");
    }
}
