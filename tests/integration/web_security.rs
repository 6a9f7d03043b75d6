//! The web server against hostile pages and a shared room (issue 11, §4–§6): the Host check on every route (DNS
//! rebinding), same-site redirects, cross-site writes, the console's auto-run, catalog views over settings and
//! files, the room token, `/source` on symlinks, FIFOs and paths that leave the folder, and capped descriptions.

use crate::common::{copy_fixture, options, send, send_raw, write};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use meshbox::live::snapshot::Mesh;
use meshbox::serve::http::{AllowedHosts, AppState, RoomLock, WebSecurity};
use meshbox::serve::query::Limits;
use serde_json::Value;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

const TOKEN: &str = "0123456789abcdef0123456789abcdef";

/// A served mesh with its own web settings.
struct Site {
    app: axum::Router,
    _mesh: Arc<Mesh>,
    _scratch: tempfile::TempDir,
}

fn site(root: &Path, web: WebSecurity) -> Site {
    let scratch = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(root).unwrap();
    let mesh = Arc::new(Mesh::open(&root, options(scratch.path()), 10_000).unwrap());
    let limits = Limits {
        time_limit: Duration::from_secs(3),
        max_rows: 1000,
    };
    let audit = Arc::new(meshbox::governance::audit::Audit::in_memory());
    let state = AppState::with_security(mesh.clone(), limits, 64 * 1024, 1000, audit, web);
    Site {
        app: meshbox::serve::http::router(state),
        _mesh: mesh,
        _scratch: scratch,
    }
}

fn room() -> WebSecurity {
    WebSecurity {
        hosts: AllowedHosts::loopback(),
        room: Some(RoomLock::with_token(TOKEN.into())),
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Requests an attacker's page can make once its name resolves to meshbox, each as admin.
fn every_kind_of_request(host: &str) -> Vec<(String, Request<Body>)> {
    let json = |sql: &str| Body::from(serde_json::json!({ "sql": sql }).to_string());
    let get = |uri: &str| {
        Request::get(uri)
            .header("host", host)
            .header("x-meshbox-role", "admin")
            .body(Body::empty())
            .unwrap()
    };
    // What a rebinding page sends: its own origin, which matches the Host it names.
    let post = |uri: &str, ctype: &str, body: Body| {
        Request::post(uri)
            .header("host", host)
            .header("origin", format!("http://{host}"))
            .header("sec-fetch-site", "same-origin")
            .header("x-meshbox-role", "admin")
            .header("content-type", ctype)
            .body(body)
            .unwrap()
    };
    vec![
        ("home".into(), get("/")),
        ("status".into(), get("/api/status")),
        ("products".into(), get("/api/products")),
        ("product page".into(), get("/products/crm/customers")),
        (
            "download".into(),
            get("/api/products/crm/customers/tables/customers.csv"),
        ),
        ("console".into(), get("/sql?sql=SELECT%201&run=1")),
        ("source".into(), get("/source/mesh.yaml")),
        ("audit".into(), get("/api/audit")),
        ("static".into(), get("/static/style.css")),
        ("events".into(), get("/api/events")),
        ("nowhere".into(), get("/no/such/page")),
        (
            "query".into(),
            post(
                "/api/query",
                "application/json",
                json("SELECT email FROM crm.customers"),
            ),
        ),
        (
            "export".into(),
            post(
                "/api/export",
                "application/x-www-form-urlencoded",
                Body::from("sql=SELECT+email+FROM+crm.customers&format=csv"),
            ),
        ),
        (
            "role".into(),
            post(
                "/role",
                "application/x-www-form-urlencoded",
                Body::from("role=admin&back=%2F"),
            ),
        ),
        (
            "cancel".into(),
            post("/api/query/abc/cancel", "application/json", Body::empty()),
        ),
    ]
}

#[tokio::test]
async fn every_route_refuses_hosts_that_do_not_name_the_server() {
    let dir = copy_fixture("governed");
    let s = site(dir.path(), WebSecurity::default());
    let foreign = [
        "evil.example",
        "evil.example:7700",
        "EVIL.example:7700",
        "localhost.evil.example:7700",
        "127.0.0.1.nip.io:7700",
        "localtest.me",
        "localhost.",
        "sub.localhost:7700",
        "10.0.0.5:7700",
        "0.0.0.0:7700",
        "[::2]:7700",
        "127.0.0.2",
        "localhost:7700@evil.example",
        "localhost:evil",
        "[::1]evil",
    ];
    for host in foreign {
        for (what, req) in every_kind_of_request(host) {
            let (status, _, body) = send_raw(&s.app, req).await;
            assert_eq!(
                status,
                StatusCode::MISDIRECTED_REQUEST,
                "Host {host}: {what} answered: {}",
                text(&body).chars().take(300).collect::<String>()
            );
            assert!(!text(&body).contains("ada@example.com"), "Host {host}: {what} leaked");
        }
    }
    // The names of this machine are answered, with or without the port, in any case.
    for host in [
        "localhost",
        "localhost:7700",
        "LocalHost:7700",
        "127.0.0.1",
        "127.0.0.1:7700",
        "[::1]:7700",
        "[::1]",
    ] {
        let req = Request::get("/api/status")
            .header("host", host)
            .body(Body::empty())
            .unwrap();
        let (status, _, _) = send_raw(&s.app, req).await;
        assert_eq!(status, StatusCode::OK, "Host {host}");
    }
    // No Host at all (HTTP/1.1), two of them, or an absolute URI naming another host.
    let none = Request::get("/api/status").body(Body::empty()).unwrap();
    assert_eq!(send_raw(&s.app, none).await.0, StatusCode::MISDIRECTED_REQUEST);
    let two = Request::get("/api/status")
        .header("host", "localhost")
        .header("host", "evil.example")
        .body(Body::empty())
        .unwrap();
    assert_eq!(send_raw(&s.app, two).await.0, StatusCode::MISDIRECTED_REQUEST);
    let absolute = Request::get("http://evil.example:7700/api/status")
        .header("host", "localhost")
        .body(Body::empty())
        .unwrap();
    assert_eq!(send_raw(&s.app, absolute).await.0, StatusCode::MISDIRECTED_REQUEST);
    // The refusal says why, in JSON for the API.
    let req = Request::get("/api/products")
        .header("host", "evil.example:7700")
        .body(Body::empty())
        .unwrap();
    let (_, _, body) = send_raw(&s.app, req).await;
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["kind"], "misdirected");
    assert!(v["error"].as_str().unwrap().contains("--public-url"), "{v}");
}

#[tokio::test]
async fn the_bind_address_and_public_url_host_are_answered_too() {
    let dir = copy_fixture("governed");
    let web = WebSecurity::for_bind("192.168.1.20".parse().unwrap(), Some("meshbox.lan"), false).unwrap();
    assert!(web.room.is_some(), "bound beyond loopback: the room is locked");
    let s = site(dir.path(), web);
    let cases = [
        ("192.168.1.20:7700", StatusCode::OK),
        ("meshbox.lan:8080", StatusCode::OK),
        ("MESHBOX.LAN", StatusCode::OK),
        ("localhost:7700", StatusCode::OK),
        ("192.168.1.21:7700", StatusCode::MISDIRECTED_REQUEST),
        ("meshbox.lan.evil.example", StatusCode::MISDIRECTED_REQUEST),
        ("evil.example:7700", StatusCode::MISDIRECTED_REQUEST),
    ];
    for (host, want) in cases {
        let req = Request::get("/api/status")
            .header("host", host)
            .body(Body::empty())
            .unwrap();
        assert_eq!(send_raw(&s.app, req).await.0, want, "Host {host}");
    }
    // Bound to every address: IP literals (which cannot be rebound) are answered, unknown names are not.
    let all = WebSecurity::for_bind("0.0.0.0".parse().unwrap(), None, false).unwrap();
    assert!(all.hosts.allows("10.1.2.3:7700") && !all.hosts.allows("evil.example:7700"));
    assert!(
        WebSecurity::for_bind("127.0.0.1".parse().unwrap(), None, false)
            .unwrap()
            .room
            .is_none()
    );
    assert!(
        WebSecurity::for_bind("::1".parse().unwrap(), None, false)
            .unwrap()
            .room
            .is_none()
    );
    assert!(
        WebSecurity::for_bind("127.0.0.1".parse().unwrap(), None, true)
            .unwrap()
            .room
            .is_some()
    );
}

#[tokio::test]
async fn the_role_switcher_goes_back_only_to_paths_of_this_site() {
    let dir = copy_fixture("governed");
    let s = site(dir.path(), WebSecurity::default());
    let kept = [
        "/",
        "/products/crm/customers",
        "/search?q=customer%20id",
        "/source/crm/customers/customers.odcs.yaml",
    ];
    // As the browser sends them: form-encoded, so `%09` arrives as a tab and `%2509` as `%09`.
    let refused = [
        "//evil.example",
        "///evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "/\t/evil.example",
        "/\n/evil.example",
        "/\r\n/evil.example",
        "/%09/evil.example",
        "/%0a/evil.example",
        "/%2f%2fevil.example",
        "/%5c%5cevil.example",
        "/ /evil.example",
        "/\u{0}/evil.example",
        "/\u{7f}/evil.example",
        "/\u{85}/evil.example",
        "/\u{a0}/evil.example",
        "/\u{3000}/evil.example",
        "https://evil.example/",
        "http:evil.example",
        "javascript:alert(1)",
        "evil.example",
        " //evil.example",
        "\t//evil.example",
    ];
    for (back, want) in kept.iter().map(|b| (*b, *b)).chain(refused.iter().map(|b| (*b, "/"))) {
        let body = serde_urlencoded::to_string([("role", "analyst"), ("back", back)]).unwrap();
        let req = Request::post("/role")
            .header("content-type", "application/x-www-form-urlencoded")
            .header("sec-fetch-site", "same-origin")
            .body(Body::from(body))
            .unwrap();
        let (status, headers, _) = send(&s.app, req).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "back={back:?}");
        assert_eq!(headers["location"], want, "back={back:?}");
    }
}

#[tokio::test]
async fn cross_site_writes_are_refused_including_through_a_rebound_name() {
    let dir = copy_fixture("governed");
    let s = site(dir.path(), WebSecurity::default());
    let writes: [(&str, &str, &str); 4] = [
        (
            "/api/query",
            "application/json",
            r#"{"sql":"SELECT email FROM crm.customers"}"#,
        ),
        (
            "/api/export",
            "application/x-www-form-urlencoded",
            "sql=SELECT+1&format=csv",
        ),
        ("/role", "application/x-www-form-urlencoded", "role=admin"),
        ("/api/query/abc/cancel", "application/json", ""),
    ];
    // (Host, extra headers): cross-site by Sec-Fetch-Site, by Origin, an opaque origin, and DNS rebinding, where
    // the page's origin *is* the name it rebound.
    let senders: [(&str, &[(&str, &str)]); 6] = [
        ("localhost:7700", &[("sec-fetch-site", "cross-site")]),
        ("localhost:7700", &[("sec-fetch-site", "same-site")]),
        ("localhost:7700", &[("origin", "http://evil.example")]),
        ("localhost:7700", &[("origin", "null")]),
        (
            "evil.example:7700",
            &[
                ("origin", "http://evil.example:7700"),
                ("sec-fetch-site", "same-origin"),
            ],
        ),
        ("evil.example:7700", &[("origin", "http://evil.example:7700")]),
    ];
    for (uri, ctype, body) in writes {
        for (host, headers) in senders {
            let mut req = Request::post(uri)
                .header("host", host)
                .header("x-meshbox-role", "admin")
                .header("content-type", ctype);
            for (k, v) in headers {
                req = req.header(*k, *v);
            }
            let (status, _, resp) = send_raw(&s.app, req.body(Body::from(body)).unwrap()).await;
            assert!(
                status == StatusCode::FORBIDDEN || status == StatusCode::MISDIRECTED_REQUEST,
                "{uri} from {host} {headers:?}: {status} {}",
                text(&resp)
            );
            assert!(!text(&resp).contains("ada@example.com"));
        }
    }
}

#[tokio::test]
async fn the_console_runs_a_linked_query_only_for_links_on_this_site() {
    let dir = copy_fixture("governed");
    let s = site(dir.path(), WebSecurity::default());
    let cases: [(Option<&str>, bool); 5] = [
        (Some("same-origin"), true),
        (Some("cross-site"), false),
        (Some("same-site"), false),
        (Some("none"), false),
        (None, false),
    ];
    for (site_header, runs) in cases {
        let mut req = Request::get("/sql?sql=SELECT%20email%20FROM%20crm.customers&run=1");
        if let Some(v) = site_header {
            req = req.header("sec-fetch-site", v);
        }
        let (status, _, body) = send(&s.app, req.body(Body::empty()).unwrap()).await;
        assert_eq!(status, StatusCode::OK);
        let html = text(&body);
        assert!(html.contains("SELECT email FROM crm.customers"), "the editor is filled");
        assert_eq!(
            html.contains("data-autorun=\"1\""),
            runs,
            "Sec-Fetch-Site {site_header:?}"
        );
    }
    // Without run=1 nothing runs, and the script never reads the address for it.
    let req = Request::get("/sql?sql=SELECT%201").header("sec-fetch-site", "same-origin");
    let (_, _, body) = send(&s.app, req.body(Body::empty()).unwrap()).await;
    assert!(!text(&body).contains("data-autorun"));
    let (_, _, js) = send(&s.app, Request::get("/static/console.js").body(Body::empty()).unwrap()).await;
    assert!(
        !text(&js).contains("location.search"),
        "console.js must not run from the URL"
    );
}

#[tokio::test]
async fn catalog_views_over_settings_secrets_and_files_are_refused_for_every_role() {
    let dir = copy_fixture("governed");
    let s = site(dir.path(), WebSecurity::default());
    let refused = [
        "SELECT * FROM pg_catalog.pg_settings",
        "SELECT * FROM pg_settings",
        "SELECT name, setting FROM PG_SETTINGS",
        r#"SELECT * FROM "pg_catalog"."Pg_Settings""#,
        "SELECT * FROM system.pg_catalog.pg_settings",
        "SELECT (SELECT setting FROM pg_settings WHERE name = 'temp_directory')",
        "WITH s AS (SELECT * FROM pg_catalog.pg_settings) SELECT * FROM s",
        "SELECT 1 WHERE EXISTS (SELECT 1 FROM pg_settings WHERE setting LIKE '/%')",
        "SELECT * FROM duckdb_databases",
        "SELECT * FROM main.duckdb_databases",
        "SELECT path FROM duckdb_databases()",
        "SELECT * FROM pragma_database_list",
        "SELECT * FROM pg_catalog.pg_prepared_statements",
        "SELECT * FROM duckdb_settings()",
        "SELECT * FROM duckdb_secrets()",
        "SELECT * FROM duckdb_extensions()",
        "SELECT * FROM duckdb_temporary_files()",
        "SELECT * FROM duckdb_memory()",
        "SELECT current_setting('temp_directory')",
        "SELECT pg_catalog.current_setting('memory_limit')",
        "SELECT getenv('HOME')",
        "SELECT * FROM crm.customers c, pg_settings s",
    ];
    let answered = [
        "SELECT 1",
        "SELECT table_schema, table_name FROM information_schema.tables",
        "SELECT * FROM information_schema.columns",
        "SELECT * FROM pg_catalog.pg_tables",
        "SELECT * FROM duckdb_tables()",
        "SELECT country FROM crm.customers",
    ];
    let state_hint = dir.path().display().to_string();
    for role in ["viewer", "analyst", "steward", "admin"] {
        for sql in refused {
            let (status, v) = crate::common::query_as(&s.app, role, sql).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{role}: {sql} answered {v}");
            let body = v.to_string();
            assert!(
                !body.contains(&state_hint) && !body.contains("/tmp"),
                "{role}: {sql}: {body}"
            );
        }
        for sql in answered {
            let (status, v) = crate::common::query_as(&s.app, role, sql).await;
            assert_eq!(status, StatusCode::OK, "{role}: {sql}: {v}");
        }
    }
}

/// A request as `role` (by the role header or the role cookie), with a token sent by `token_via` (`cookie`,
/// `bearer` or `header`) when given.
fn as_role(uri: &str, role: &str, channel: &str, token: Option<(&str, &str)>) -> Request<Body> {
    let mut req = Request::get(uri);
    let mut cookies: Vec<String> = Vec::new();
    match channel {
        "header" => req = req.header("x-meshbox-role", role),
        _ => cookies.push(format!("meshbox_role={role}")),
    }
    match token {
        Some(("cookie", t)) => cookies.push(format!("meshbox_token={t}")),
        Some(("bearer", t)) => req = req.header("authorization", format!("Bearer {t}")),
        Some((_, t)) => req = req.header("x-meshbox-token", t),
        None => {}
    }
    if !cookies.is_empty() {
        req = req.header("cookie", cookies.join("; "));
    }
    req.body(Body::empty()).unwrap()
}

#[tokio::test]
async fn a_locked_room_needs_the_token_for_roles_that_read_more() {
    let dir = copy_fixture("governed");
    let s = site(dir.path(), room());
    let guarded = ["analyst", "crm_team", "steward", "admin"];
    let uris = ["/api/products/crm/customers", "/products/crm/customers", "/sql"];
    for role in guarded {
        for channel in ["header", "cookie"] {
            for uri in uris {
                let (status, headers, body) = send(&s.app, as_role(uri, role, channel, None)).await;
                assert_eq!(
                    status,
                    StatusCode::FORBIDDEN,
                    "{role} by {channel} at {uri} without the token"
                );
                assert!(text(&body).contains("token"), "the refusal says why: {}", text(&body));
                assert!(!text(&body).contains("ada@example.com"));
                if channel == "cookie" {
                    let reset = headers["set-cookie"].to_str().unwrap();
                    assert!(
                        reset.starts_with("meshbox_role=;") && reset.contains("Max-Age=0"),
                        "{reset}"
                    );
                }
                for via in ["cookie", "bearer", "header"] {
                    for wrong in ["", "nope", &TOKEN[1..], &format!("{TOKEN}0")] {
                        let (status, _, _) = send(&s.app, as_role(uri, role, channel, Some((via, wrong)))).await;
                        assert_eq!(
                            status,
                            StatusCode::FORBIDDEN,
                            "{role} by {channel}, wrong token by {via}"
                        );
                    }
                    let (status, _, _) = send(&s.app, as_role(uri, role, channel, Some((via, TOKEN)))).await;
                    assert_eq!(status, StatusCode::OK, "{role} by {channel} at {uri}, token by {via}");
                }
            }
        }
        // The switcher refuses the role without the token and accepts it with.
        let switch = |cookie: Option<&str>| {
            let mut r = Request::post("/role")
                .header("content-type", "application/x-www-form-urlencoded")
                .header("sec-fetch-site", "same-origin");
            if let Some(c) = cookie {
                r = r.header("cookie", c);
            }
            r.body(Body::from(format!("role={role}&back=%2Fsql"))).unwrap()
        };
        assert_eq!(
            send(&s.app, switch(None)).await.0,
            StatusCode::FORBIDDEN,
            "switch to {role}"
        );
        let with = format!("meshbox_token={TOKEN}");
        assert_eq!(
            send(&s.app, switch(Some(&with))).await.0,
            StatusCode::SEE_OTHER,
            "{role}"
        );
        // A console query as the role: refused without the token, raw data with it.
        let q = |token: bool| {
            let mut r = Request::post("/api/query")
                .header("content-type", "application/json")
                .header("x-meshbox-role", role);
            if token {
                r = r.header("x-meshbox-token", TOKEN);
            }
            r.body(Body::from(r#"{"sql":"SELECT country FROM crm.customers"}"#))
                .unwrap()
        };
        assert_eq!(send(&s.app, q(false)).await.0, StatusCode::FORBIDDEN, "{role} query");
        assert_eq!(
            send(&s.app, q(true)).await.0,
            StatusCode::OK,
            "{role} query with the token"
        );
    }
    // The least privileged role stays free, by every channel.
    for channel in ["header", "cookie"] {
        for uri in uris {
            let (status, _, _) = send(&s.app, as_role(uri, "viewer", channel, None)).await;
            assert_eq!(status, StatusCode::OK, "viewer by {channel} at {uri}");
        }
    }
    // The audit log is an admin's: locked too.
    let (status, _, _) = send(&s.app, as_role("/api/audit", "admin", "header", None)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let v: Value = {
        let (_, _, b) = send(&s.app, Request::get("/api/roles").body(Body::empty()).unwrap()).await;
        serde_json::from_slice(&b).unwrap()
    };
    assert_eq!(
        v["locked"],
        serde_json::json!(["admin", "analyst", "crm_team", "steward"])
    );
    assert_eq!(v["token"], false);
}

#[tokio::test]
async fn the_printed_address_sets_a_strict_cookie_once() {
    let dir = copy_fixture("governed");
    let s = site(dir.path(), room());
    let (status, headers, _) = send(
        &s.app,
        Request::get(format!("/products/crm/customers?token={TOKEN}&tab=schema"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        headers["location"], "/products/crm/customers?tab=schema",
        "the token leaves the address"
    );
    let cookie = headers["set-cookie"].to_str().unwrap();
    assert!(cookie.starts_with(&format!("meshbox_token={TOKEN};")), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    for wrong in ["x", &TOKEN[..31], &TOKEN.to_uppercase()] {
        let (status, headers, _) = send(
            &s.app,
            Request::get(format!("/?token={wrong}")).body(Body::empty()).unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "token {wrong}");
        assert!(headers.get("set-cookie").is_none());
    }
}

#[tokio::test]
async fn a_privileged_default_role_is_not_given_away_in_a_room() {
    let dir = copy_fixture("governed");
    let mesh = std::fs::read_to_string(dir.path().join("mesh.yaml")).unwrap();
    write(
        dir.path(),
        "mesh.yaml",
        &mesh.replace(
            "  non_compliant: quarantine",
            "  non_compliant: quarantine\n  default_role: steward",
        ),
    );
    let locked = site(dir.path(), room());
    let current = |app: axum::Router, token: bool| async move {
        let mut r = Request::get("/api/roles");
        if token {
            r = r.header("cookie", format!("meshbox_token={TOKEN}"));
        }
        let (_, _, b) = send(&app, r.body(Body::empty()).unwrap()).await;
        serde_json::from_slice::<Value>(&b).unwrap()["current"].clone()
    };
    assert_eq!(current(locked.app.clone(), false).await, "viewer");
    assert_eq!(current(locked.app.clone(), true).await, "steward");
    // On loopback without --lock-roles, today's behaviour: the default role as declared, every role free.
    let open = site(dir.path(), WebSecurity::default());
    assert_eq!(current(open.app.clone(), false).await, "steward");
    let (status, _, _) = send(&open.app, as_role("/api/audit", "admin", "header", None)).await;
    assert_eq!(status, StatusCode::OK);
}

/// Opens the FIFO's write end and closes it, so a reader stuck on it (today's code) gets EOF and the test ends.
fn release(fifo: &Path) {
    use std::os::unix::fs::OpenOptionsExt;
    let _ = std::fs::OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(fifo);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn source_shows_only_regular_manifest_files_inside_the_folder() {
    let dir = copy_fixture("governed");
    let root = std::fs::canonicalize(dir.path()).unwrap();
    // Present when the mesh loads: the scanner ignores the symlink with a diagnostic naming it.
    std::fs::create_dir_all(root.join("hr")).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", root.join("hr/domain.yaml")).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", root.join("policies/linked.yaml")).unwrap();
    let s = site(&root, WebSecurity::default());
    let (status, _, body) = send(
        &s.app,
        Request::get("/source/crm/customers/customers.odcs.yaml")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "a regular manifest is shown: {}", text(&body));
    // Swapped after the load: the snapshot still lists them as manifests.
    let swap = |rel: &str| {
        std::fs::remove_file(root.join(rel)).unwrap();
        root.join(rel)
    };
    std::os::unix::fs::symlink("/etc/passwd", swap("crm/customers/customers.odcs.yaml")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", swap("crm/leads/leads.odcs.yaml")).unwrap();
    std::fs::write(swap("hr/salaries/salaries.odcs.yaml"), vec![b'#'; 17 * 1024 * 1024]).unwrap();
    let fifo = swap("mesh.yaml");
    let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid C string.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let refused = [
        "/source/hr/domain.yaml",
        "/source/policies/linked.yaml",
        "/source/crm/customers/customers.odcs.yaml",
        "/source/crm/leads/leads.odcs.yaml",
        "/source/hr/salaries/salaries.odcs.yaml",
        "/source/mesh.yaml",
        "/source/../../../../etc/passwd",
        "/source/crm/../../../../etc/passwd",
        "/source/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/source/crm%2f..%2f..%2f..%2fetc%2fpasswd",
        "/source//etc/passwd",
        "/source/crm/customers/data/customers.csv",
    ];
    for uri in refused {
        let req = Request::get(uri).body(Body::empty()).unwrap();
        // On a task of its own: a handler that blocks its worker must not stop the clock of this test.
        let app = s.app.clone();
        let request = tokio::spawn(async move { send(&app, req).await });
        let answer = tokio::time::timeout(Duration::from_secs(10), request).await;
        release(&fifo);
        let (status, _, body) = answer
            .unwrap_or_else(|_| panic!("{uri}: no answer within 10 s"))
            .unwrap();
        assert_eq!(
            status,
            StatusCode::NOT_FOUND,
            "{uri}: {}",
            text(&body).chars().take(300).collect::<String>()
        );
        assert!(!text(&body).contains("root:x:0:0"), "{uri} showed /etc/passwd");
    }
    // The server still answers everything else.
    let (status, _, _) = send(&s.app, Request::get("/api/status").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn huge_descriptions_are_capped_in_pages_and_kept_in_json() {
    let dir = copy_fixture("governed");
    let root = dir.path();
    let huge = |marker: &str| format!("{marker}{}END-OF-{marker}", "lorem ipsum ".repeat(90_000));
    let contract = std::fs::read_to_string(root.join("crm/customers/customers.odcs.yaml")).unwrap();
    let contract = contract
        .replace(
            "  purpose: Customers of the fixture shop.",
            &format!("  purpose: {}", huge("PURPOSE")),
        )
        .replace(
            "        classification: public",
            &format!(
                "        classification: public\n        description: {}",
                huge("COLUMN")
            ),
        );
    write(root, "crm/customers/customers.odcs.yaml", &contract);
    write(
        root,
        "crm/domain.yaml",
        &format!("name: crm\ndescription: {}\n", huge("DOMAIN")),
    );
    let s = site(root, WebSecurity::default());
    for (uri, markers) in [
        ("/products/crm/customers", &["PURPOSE", "COLUMN"][..]),
        ("/domains/crm", &["DOMAIN"][..]),
        ("/", &["DOMAIN"][..]),
    ] {
        let (status, _, body) = send(&s.app, Request::get(uri).body(Body::empty()).unwrap()).await;
        assert_eq!(status, StatusCode::OK, "{uri}");
        let html = text(&body);
        assert!(html.len() < 1024 * 1024, "{uri} is {} bytes", html.len());
        for m in markers {
            if html.contains(m) {
                assert!(!html.contains(&format!("END-OF-{m}")), "{uri}: {m} is not capped");
            }
        }
        assert!(html.contains("truncated: this text is"), "{uri} warns about the cut");
    }
    let (_, _, body) = send(
        &s.app,
        Request::get("/api/products/crm/customers").body(Body::empty()).unwrap(),
    )
    .await;
    assert!(
        text(&body).contains("END-OF-PURPOSE"),
        "the JSON twin keeps the whole text"
    );
}
