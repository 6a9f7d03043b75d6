//! Serving a room (`--bind` beyond loopback, or `--lock-roles`): roles that read more than the least privileged
//! role — classified columns unmasked, products it cannot read, the audit log — need the token printed at start,
//! carried by a cookie after one visit to `/?token=…` (or an `Authorization: Bearer` / `X-Meshbox-Token` header).

use super::{AppError, AppState, ROLE_COOKIE, ROLE_HEADER};
use crate::governance::access::{AccessModel, Role};
use crate::live::snapshot::Snapshot;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

pub const TOKEN_COOKIE: &str = "meshbox_token";
pub const TOKEN_HEADER: &str = "x-meshbox-token";
pub const TOKEN_PARAM: &str = "token";

/// The room's secret and which roles it guards (recomputed when the snapshot changes).
pub struct RoomLock {
    token: String,
    /// (snapshot generation, roles that need the token)
    guarded: Mutex<Option<(u64, Arc<BTreeSet<String>>)>>,
}

impl std::fmt::Debug for RoomLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RoomLock { token: <hidden> }")
    }
}

impl RoomLock {
    /// A lock with a fresh random token (32 bytes from the operating system, hex).
    pub fn random() -> std::io::Result<RoomLock> {
        let mut bytes = [0u8; 32];
        std::io::Read::read_exact(&mut std::fs::File::open("/dev/urandom")?, &mut bytes)?;
        Ok(RoomLock::with_token(bytes.iter().map(|b| format!("{b:02x}")).collect()))
    }

    /// A lock with a known token (tests).
    pub fn with_token(token: String) -> RoomLock {
        RoomLock {
            token,
            guarded: Mutex::new(None),
        }
    }

    pub fn token(&self) -> &str {
        &self.token
    }

    /// Is `candidate` the token? Compared in constant time.
    pub fn accepts(&self, candidate: &str) -> bool {
        same_secret(candidate.as_bytes(), self.token.as_bytes())
    }

    /// Does the request carry the token (cookie, `Authorization: Bearer`, `X-Meshbox-Token`)?
    pub fn admits(&self, headers: &HeaderMap) -> bool {
        let bearer = headers
            .get_all(header::AUTHORIZATION)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")));
        let header = headers.get_all(TOKEN_HEADER).iter().filter_map(|v| v.to_str().ok());
        let cookies = cookie_values(headers, TOKEN_COOKIE);
        bearer
            .chain(header)
            .chain(cookies)
            .any(|candidate| self.accepts(candidate.trim()))
    }

    /// The roles that need the token in this snapshot.
    pub fn guarded(&self, generation: u64, s: &Snapshot) -> Arc<BTreeSet<String>> {
        let mut cached = self.guarded.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((g, set)) = cached.as_ref()
            && *g == generation
        {
            return set.clone();
        }
        let set: Arc<BTreeSet<String>> = Arc::new(guarded_roles(s));
        *cached = Some((generation, set.clone()));
        set
    }
}

/// Equal secrets, in time that depends only on their length.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

/// Every value of a cookie named `name`.
pub fn cookie_values<'a>(headers: &'a HeaderMap, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .filter(move |(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The least privileged role: the one a participant without the token acts as.
pub fn least_privileged(access: &AccessModel) -> &Role {
    let sees_all = |r: &Role| r.admin || r.unmasked.iter().any(|c| c == "*");
    access
        .roles
        .iter()
        .min_by_key(|r| (r.admin, sees_all(r), r.clearance, r.unmasked.len() + r.domains.len()))
        .unwrap_or_else(|| access.default())
}

/// The roles that read anything the least privileged role does not: admins (the audit log), and roles that see a
/// classification unmasked, reach a clearance, belong to a domain, or are granted a product that it does not —
/// by their declaration (so the answer does not flicker with the data) or by the current catalog (contract grants,
/// columns the PII scan flagged).
pub fn guarded_roles(s: &Snapshot) -> BTreeSet<String> {
    let access = &s.governance.access;
    let least = least_privileged(access);
    access
        .roles
        .iter()
        .filter(|r| r.name != least.name && (declares_more(r, least) || reads_more(s, r, least)))
        .map(|r| r.name.clone())
        .collect()
}

fn declares_more(role: &Role, least: &Role) -> bool {
    let sees_all = |r: &Role| r.admin || r.unmasked.iter().any(|c| c == "*");
    if role.admin || (sees_all(role) && !sees_all(least)) || role.clearance > least.clearance {
        return true;
    }
    let extra_class = role.unmasked.iter().any(|c| {
        let c = c.trim().to_ascii_lowercase();
        c != "public" && !sees_all(least) && !least.unmasked.iter().any(|l| l.trim().eq_ignore_ascii_case(&c))
    });
    extra_class || role.domains.iter().any(|d| !least.belongs_to(d))
}

fn reads_more(s: &Snapshot, role: &Role, least: &Role) -> bool {
    let catalog = &s.catalog;
    catalog.products.iter().any(|p| {
        let mine = s.decide(role, p).granted;
        if mine && !s.decide(least, p).granted {
            return true;
        }
        mine && p.tables.iter().any(|t| {
            let theirs = s.governance.access.table_masks(least, p, t);
            let ours = s.governance.access.table_masks(role, p, t);
            ours.iter().zip(&theirs).any(|(o, t)| o.is_none() && t.is_some())
        })
    })
}

/// The role a request asks for by name (header, else cookie), if any.
fn requested_role(headers: &HeaderMap) -> Option<String> {
    if let Some(v) = headers.get(ROLE_HEADER) {
        return Some(v.to_str().unwrap_or("").trim().to_string());
    }
    let v = cookie_values(headers, ROLE_COOKIE).next()?;
    serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("r={v}"))
        .ok()
        .and_then(|mut pairs| pairs.pop())
        .map(|(_, name)| name)
}

/// The refusal for a guarded role asked for without the token.
pub fn needs_token(role: &str) -> AppError {
    AppError::new(
        StatusCode::FORBIDDEN,
        "role_locked",
        format!(
            "the role `{}` is locked in this room: it reads data other roles see masked or not at all. Open the \
             address with ?token=… that meshbox printed at start (or send the token in an X-Meshbox-Token or \
             Authorization: Bearer header), or pick another role",
            role.chars().take(64).collect::<String>()
        ),
    )
}

/// Is `role` guarded for a request with these headers? False when the server is not locked.
pub fn locked_for(st: &AppState, role: &str, headers: &HeaderMap) -> bool {
    let Some(lock) = &st.web.room else {
        return false;
    };
    let s = st.mesh.snapshot();
    lock.guarded(s.generation, &s).contains(role) && !lock.admits(headers)
}

/// The middleware: a visit with `?token=` stores the token in a cookie and comes back without it; a request that
/// asks for a guarded role (header or cookie) without the token is refused with 403 (and the role cookie reset).
pub async fn room_gate(State(st): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let Some(lock) = &st.web.room else {
        return next.run(req).await;
    };
    if let Some(response) = token_visit(lock, &req) {
        return response;
    }
    if req.uri().path().starts_with("/static/") {
        return next.run(req).await;
    }
    if let Some(role) = requested_role(req.headers())
        && locked_for(&st, &role, req.headers())
    {
        let api = req.uri().path().starts_with("/api/") || req.headers().contains_key(ROLE_HEADER);
        let error = needs_token(&role);
        let mut res = if api {
            error.into_response()
        } else {
            error.page().into_response()
        };
        if !req.headers().contains_key(ROLE_HEADER) {
            // Forget the choice, so the next page opens as a free role.
            res.headers_mut().append(
                header::SET_COOKIE,
                HeaderValue::from_static("meshbox_role=; Path=/; Max-Age=0; SameSite=Strict; HttpOnly"),
            );
        }
        return res;
    }
    next.run(req).await
}

/// `GET …?token=…`: the right token becomes an HttpOnly SameSite=Strict cookie and the browser goes to the same
/// address without it (out of the history and the address bar); a wrong one is refused.
fn token_visit(lock: &RoomLock, req: &Request) -> Option<Response> {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return None;
    }
    let query = req.uri().query()?;
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).ok()?;
    let (_, given) = pairs.iter().find(|(k, _)| k == TOKEN_PARAM)?;
    if !lock.accepts(given) {
        return Some(
            AppError::new(
                StatusCode::FORBIDDEN,
                "bad_token",
                "this is not the token meshbox printed at start; ask the trainer for the address again",
            )
            .page()
            .into_response(),
        );
    }
    let rest: Vec<&(String, String)> = pairs.iter().filter(|(k, _)| k != TOKEN_PARAM).collect();
    let mut target = req.uri().path().to_string();
    if !rest.is_empty() {
        target.push('?');
        target.push_str(&serde_urlencoded::to_string(&rest).unwrap_or_default());
    }
    let mut res = Redirect::to(&super::caller::safe_back_path(&target)).into_response();
    let cookie = format!("{TOKEN_COOKIE}={}; Path=/; SameSite=Strict; HttpOnly", lock.token);
    res.headers_mut()
        .insert(header::SET_COOKIE, HeaderValue::from_str(&cookie).ok()?);
    Some(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret(b"abcdef", b"abcdef"));
        assert!(!same_secret(b"abcdef", b"abcdeg"));
        assert!(!same_secret(b"abcdef", b"abcde"));
        assert!(!same_secret(b"", b"a"));
    }

    #[test]
    fn the_token_is_accepted_from_cookie_bearer_and_header_only() {
        let lock = RoomLock::with_token("s3cret".into());
        let with = |name: header::HeaderName, value: &str| {
            let mut h = HeaderMap::new();
            h.insert(name, value.parse().unwrap());
            h
        };
        assert!(lock.admits(&with(header::COOKIE, "a=b; meshbox_token=s3cret")));
        assert!(lock.admits(&with(header::AUTHORIZATION, "Bearer s3cret")));
        assert!(lock.admits(&with(header::HeaderName::from_static(TOKEN_HEADER), "s3cret")));
        assert!(!lock.admits(&with(header::COOKIE, "meshbox_token=s3cre")));
        assert!(!lock.admits(&with(header::COOKIE, "xmeshbox_token=s3cret")));
        assert!(!lock.admits(&with(header::AUTHORIZATION, "Basic s3cret")));
        assert!(!lock.admits(&with(header::AUTHORIZATION, "Bearer s3cret2")));
        assert!(!lock.admits(&HeaderMap::new()));
        let random = RoomLock::random().unwrap();
        assert_eq!(random.token().len(), 64);
        assert_ne!(random.token(), RoomLock::random().unwrap().token());
    }
}
