//! The Postgres wire endpoint, driven by real clients against the `governed` fixture: `psql` (simple protocol,
//! `\dt`, `\d`, exit codes) and Python psycopg (extended protocol, parameters, binary types, cancel, 50 clients at
//! once), plus a raw protocol client for portals with row limits. Masked values, refusals and other roles' tables
//! must come out exactly as over HTTP, and every query lands in the audit log.

use crate::attacks::{SECRETS, sql_attacks};
use crate::common::{copy_fixture, options, query_as};
use meshbox::governance::audit::Audit;
use meshbox::live::snapshot::Mesh;
use meshbox::serve::http::{AppState, RoomLock, WebSecurity};
use meshbox::serve::pg::PgOptions;
use meshbox::serve::query::Limits;
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A served copy of a fixture: the Postgres endpoint on an ephemeral port, and the HTTP router over the same state.
struct PgServer {
    port: u16,
    state: Arc<AppState>,
    app: axum::Router,
    root: PathBuf,
    runtime: Option<tokio::runtime::Runtime>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    _dirs: Vec<tempfile::TempDir>,
}

impl PgServer {
    fn start(fixture: &str) -> PgServer {
        PgServer::with(fixture, PgOptions::default(), None)
    }

    fn with(fixture: &str, opts: PgOptions, room_token: Option<&str>) -> PgServer {
        let dir = copy_fixture(fixture);
        let scratch = tempfile::tempdir().unwrap();
        let state_dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        let mesh = Arc::new(Mesh::open(&root, options(scratch.path()), 10_000).unwrap());
        let audit = Arc::new(Audit::in_dir(state_dir.path()).unwrap());
        let limits = Limits {
            time_limit: Duration::from_secs(3),
            max_rows: 1000,
        };
        let web = WebSecurity {
            room: room_token.map(|t| RoomLock::with_token(t.to_string())),
            ..WebSecurity::default()
        };
        let state = AppState::with_security(mesh, limits, 64 * 1024, 1000, audit, web);
        let app = meshbox::serve::http::router(state.clone());
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime
            .block_on(meshbox::serve::pg::bind("127.0.0.1:0".parse().unwrap()))
            .unwrap();
        let port = listener.local_addr().unwrap().port();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        runtime.spawn(meshbox::serve::pg::serve(listener, state.clone(), opts, async move {
            let _ = stopped.await;
        }));
        PgServer {
            port,
            state,
            app,
            root,
            runtime: Some(runtime),
            stop: Some(stop),
            _dirs: vec![dir, scratch, state_dir],
        }
    }

    /// Runs psql as `user` (no password prompt: `-w`), stopping at the first error.
    fn psql(&self, user: &str, password: Option<&str>, args: &[&str]) -> Output {
        let mut cmd = Command::new(psql_path());
        cmd.args(["-X", "-w", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-d", "meshbox"])
            .args(["-p", &self.port.to_string(), "-U", user])
            .args(args)
            .env("PGCONNECT_TIMEOUT", "10")
            .env_remove("PGPASSWORD");
        if let Some(p) = password {
            cmd.env("PGPASSWORD", p);
        }
        cmd.output().expect("psql runs")
    }

    /// psql's unaligned, tuples-only output of one statement (panics when psql fails).
    fn psql_rows(&self, user: &str, sql: &str) -> String {
        let out = self.psql(user, None, &["-q", "-A", "-t", "-c", sql]);
        assert!(
            out.status.success(),
            "psql {sql}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs a client script from tests/clients as `user` and parses the JSON it prints.
    fn python(&self, script: &str, user: &str, args: &[&str], stdin: Option<&Value>) -> Value {
        let clients = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients");
        let mut child = Command::new(python_path())
            .arg(clients.join(script))
            .args(args)
            .current_dir(&clients)
            .env("MESHBOX_PG_PORT", self.port.to_string())
            .env("MESHBOX_PG_USER", user)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("python runs");
        let input = stdin.map(|v| v.to_string()).unwrap_or_default();
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{script} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "{script} printed no JSON ({e}): {}",
                String::from_utf8_lossy(&out.stdout)
            )
        })
    }

    /// Queries through psycopg; one result (or error) per query.
    fn psycopg(&self, user: &str, queries: &[&str]) -> Vec<Value> {
        let out = self.python("pg_query.py", user, &[], Some(&json!({ "queries": queries })));
        out.as_array().unwrap().clone()
    }

    /// The same query through `POST /api/query`.
    fn http(&self, role: &str, sql: &str) -> (axum::http::StatusCode, Value) {
        self.runtime.as_ref().unwrap().block_on(query_as(&self.app, role, sql))
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_timeout(Duration::from_secs(5));
        }
    }
}

fn psql_path() -> PathBuf {
    let found = ["/usr/bin/psql", "/usr/local/bin/psql"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.exists());
    found.unwrap_or_else(|| {
        panic!("psql is not installed: the Postgres endpoint tests need it (Debian package postgresql-client)")
    })
}

fn python_path() -> PathBuf {
    let path = std::env::var_os("MESHBOX_CLIENTS_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cache/meshbox-clients/bin/python")
        });
    assert!(
        path.exists(),
        "{} does not exist: run tests/clients/setup.sh (it installs psycopg into a venv and prints its python), \
         or point MESHBOX_CLIENTS_PYTHON at a python with psycopg",
        path.display()
    );
    path
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn psql_lists_describes_reads_and_refuses() {
    let pg = PgServer::start("governed");
    let tables = stdout(&pg.psql("analyst", None, &["-c", "\\dt"]));
    for shown in ["crm    | customers", "sales  | orders", "mesh   | products"] {
        assert!(tables.contains(shown), "\\dt lacks {shown}:\n{tables}");
    }
    for hidden in ["salaries", "leads"] {
        assert!(!tables.contains(hidden), "\\dt shows {hidden}:\n{tables}");
    }
    let described = pg.psql("analyst", None, &["-c", "\\d crm.customers"]);
    let text = stdout(&described);
    assert!(described.status.success(), "{}", stderr(&described));
    assert!(text.contains("Table \"crm.customers\""), "{text}");
    // The analyst sees the birth date hashed (text); the steward sees it as it is.
    assert!(text.contains(" id         | bigint"), "{text}");
    assert!(text.contains(" birth_date | text"), "{text}");
    let steward = stdout(&pg.psql("steward", None, &["-c", "\\d crm.customers"]));
    assert!(steward.contains(" birth_date | date"), "{steward}");
    assert_eq!(pg.psql_rows("analyst", "SELECT count(*) FROM sales.orders"), "3\n");
    // A script stops at its first error with psql's exit code 3; the statement after it never runs.
    let script = pg.root.join("../script.sql");
    std::fs::write(
        &script,
        "SELECT 1 AS first;\nCOPY crm.customers TO '/tmp/meshbox-pg-copy.csv';\nSELECT 'never' AS third;\n",
    )
    .unwrap();
    let out = pg.psql("analyst", None, &["-f", script.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("only read-only SELECT queries are allowed"),
        "{}",
        stderr(&out)
    );
    assert!(!stdout(&out).contains("never"), "{}", stdout(&out));
    assert!(!Path::new("/tmp/meshbox-pg-copy.csv").exists());
    let out = pg.psql("analyst", None, &["-c", "SELECT * FROM read_csv('/etc/passwd')"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("read_csv"), "{}", stderr(&out));
}

#[test]
fn roles_are_user_names_and_locked_roles_need_the_token() {
    let pg = PgServer::with("governed", PgOptions::default(), Some("room-secret"));
    let out = pg.psql("nobody", None, &["-c", "SELECT 1"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("no role named \"nobody\"") && err.contains("viewer, analyst"),
        "{err}"
    );
    // The least privileged role is free; one that reads more needs the room token as its password.
    assert_eq!(pg.psql_rows("viewer", "SELECT 1"), "1\n");
    let out = pg.psql("analyst", None, &["-c", "SELECT 1"]);
    assert!(!out.status.success(), "a locked role got in without the token");
    let out = pg.psql("analyst", Some("wrong"), &["-c", "SELECT 1"]);
    assert!(stderr(&out).contains("locked in this room"), "{}", stderr(&out));
    let out = pg.psql("analyst", Some("room-secret"), &["-A", "-t", "-c", "SELECT 1"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "1\n");
}

#[test]
fn session_commands_answer_like_postgres() {
    let pg = PgServer::start("governed");
    let out = pg.psql_rows(
        "analyst",
        "SET application_name = 'bi-tool'; SET extra_float_digits = 3; SHOW application_name; SHOW DateStyle; \
         SHOW client_encoding; SHOW standard_conforming_strings; SHOW server_version; BEGIN; SELECT \
         current_database(), current_schema(), current_user, version() LIKE 'PostgreSQL 16%'; COMMIT",
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(&lines[..4], ["bi-tool", "ISO, MDY", "UTF8", "on"], "{out}");
    assert!(lines[4].starts_with("16.6"), "{out}");
    assert_eq!(lines[5], "meshbox|main|analyst|t", "{out}");
    let named = pg.psql("analyst", None, &["-c", "SELECT version(), current_database()"]);
    assert!(stdout(&named).contains("version") && stdout(&named).contains("current_database"));
    let out = pg.psql("analyst", None, &["-c", "SET enable_external_access = true"]);
    assert!(stderr(&out).contains("is not allowed here"), "{}", stderr(&out));
    // As in the console, one query per message: a second one cannot ride along.
    let out = pg.psql("analyst", None, &["-c", "SELECT 1 AS one; SELECT 2 AS two"]);
    assert!(stderr(&out).contains("exactly one query"), "{}", stderr(&out));
    assert!(!stdout(&out).contains("one"), "{}", stdout(&out));
}

/// `name` of the types result: (python type, value, type oid).
fn typed<'a>(v: &'a Value, section: &str, name: &str) -> (&'a str, &'a Value, i64) {
    let cell = &v[section][name];
    (
        cell["type"]
            .as_str()
            .unwrap_or_else(|| panic!("{section}.{name} missing: {v}")),
        &cell["value"],
        cell["oid"].as_i64().unwrap_or(-1),
    )
}

#[test]
fn types_round_trip_in_text_and_binary() {
    let pg = PgServer::start("governed");
    let v = pg.python("pg_types.py", "analyst", &[], None);
    for section in ["text", "binary"] {
        let t = |name| typed(&v, section, name);
        assert_eq!(t("int2"), ("int", &json!(42), 21), "{section}");
        assert_eq!(t("int4"), ("int", &json!(420000), 23), "{section}");
        assert_eq!(t("int8"), ("int", &json!(4200000000i64), 20), "{section}");
        assert_eq!(t("numeric"), ("Decimal", &json!("12.50"), 1700), "{section}");
        assert_eq!(t("float8"), ("float", &json!(1.5), 701), "{section}");
        assert_eq!(t("float4"), ("float", &json!(2.25), 700), "{section}");
        assert_eq!(t("bool"), ("bool", &json!(true), 16), "{section}");
        assert_eq!(t("text"), ("str", &json!("héllo"), 25), "{section}");
        assert_eq!(t("date"), ("date", &json!("2024-02-29"), 1082), "{section}");
        assert_eq!(
            t("ts"),
            ("datetime", &json!("2024-01-02T03:04:05.123456"), 1114),
            "{section}"
        );
        assert_eq!(
            t("tstz"),
            ("datetime", &json!("2024-01-02T01:04:05+00:00"), 1184),
            "{section}"
        );
        assert_eq!(t("time"), ("time", &json!("10:11:12.500000"), 1083), "{section}");
        assert_eq!(t("interval"), ("timedelta", &json!(273600.0), 1186), "{section}");
        assert_eq!(
            t("uuid"),
            ("UUID", &json!("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"), 2950),
            "{section}"
        );
        assert_eq!(t("list"), ("list", &json!([1, 2, 3]), 114), "{section}");
        assert_eq!(t("struct"), ("dict", &json!({"a": 1, "b": "x"}), 114), "{section}");
        assert_eq!(t("bytea"), ("bytes", &json!("00ff"), 17), "{section}");
        assert_eq!(
            t("ubigint"),
            ("Decimal", &json!("18446744073709551615"), 1700),
            "{section}"
        );
        assert_eq!(t("null_int"), ("NoneType", &Value::Null, 23), "{section}");
        assert_eq!(t("null_text"), ("NoneType", &Value::Null, 25), "{section}");
    }
    for section in ["params_text", "params_binary"] {
        let p = |name: &str| (v[section][name]["type"].clone(), v[section][name]["value"].clone());
        assert_eq!(p("int"), (json!("int"), json!(7)), "{section}");
        assert_eq!(p("big"), (json!("int"), json!(1099511627776i64)), "{section}");
        assert_eq!(p("float"), (json!("float"), json!(2.5)), "{section}");
        assert_eq!(p("decimal"), (json!("Decimal"), json!("123.456")), "{section}");
        assert_eq!(p("text"), (json!("str"), json!("it's ok; DROP TABLE x")), "{section}");
        assert_eq!(p("bool"), (json!("bool"), json!(true)), "{section}");
        assert_eq!(p("date"), (json!("date"), json!("2024-02-29")), "{section}");
        assert_eq!(
            p("timestamp"),
            (json!("datetime"), json!("2024-01-02T03:04:05.123456")),
            "{section}"
        );
        assert_eq!(
            p("timestamptz"),
            (json!("datetime"), json!("2024-01-02T03:04:05+00:00")),
            "{section}"
        );
        assert_eq!(
            p("uuid"),
            (json!("UUID"), json!("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")),
            "{section}"
        );
        assert_eq!(p("bytes"), (json!("bytes"), json!("0001ff")), "{section}");
        assert_eq!(p("interval"), (json!("timedelta"), json!(93600.0)), "{section}");
        assert_eq!(p("none"), (json!("NoneType"), Value::Null), "{section}");
    }
}

/// HTTP rows as psql's unaligned output prints them (`|` between values, NULL as nothing).
fn as_psql_lines(rows: &Value) -> String {
    let cell = |v: &Value| match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    rows.as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_array().unwrap().iter().map(cell).collect::<Vec<_>>().join("|") + "\n")
        .collect()
}

#[test]
fn masked_values_and_hidden_tables_match_the_console() {
    let pg = PgServer::start("governed");
    let sql = "SELECT id, name, email, iban, birth_date::VARCHAR, segment, country FROM crm.customers ORDER BY id";
    for role in ["viewer", "analyst", "steward"] {
        let (status, body) = pg.http(role, sql);
        assert_eq!(status, 200, "{body}");
        assert_eq!(pg.psql_rows(role, sql), as_psql_lines(&body["rows"]), "{role}");
    }
    let masked = pg.psql_rows("analyst", "SELECT email FROM crm.customers WHERE id = 1");
    assert!(
        !masked.contains("ada@example.com") && masked.trim().len() == 16,
        "{masked}"
    );
    // Another role's product: neither listed nor queryable, the same error as over HTTP.
    let answers = pg.psycopg(
        "viewer",
        &[
            "SELECT * FROM hr.salaries",
            "SELECT table_schema || '.' || table_name FROM information_schema.tables ORDER BY 1",
            "SELECT n.nspname || '.' || c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n \
             ON n.oid = c.relnamespace WHERE c.relkind = 'r' ORDER BY 1",
        ],
    );
    assert_eq!(answers[0]["error"]["sqlstate"], "42P01", "{}", answers[0]);
    let (_, http) = pg.http("viewer", "SELECT * FROM hr.salaries");
    assert_eq!(answers[0]["error"]["message"].as_str(), http["error"].as_str());
    for listing in &answers[1..] {
        let names: Vec<&str> = listing["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r[0].as_str().unwrap())
            .collect();
        assert!(names.contains(&"crm.customers"), "{names:?}");
        assert!(
            !names.iter().any(|n| n.contains("salaries") || n.contains("leads")),
            "{names:?}"
        );
        assert!(!names.iter().any(|n| n.starts_with("pgc.")), "{names:?}");
    }
    let admin = pg.psql_rows(
        "admin",
        "SELECT count(*) FROM pg_catalog.pg_tables WHERE tablename = 'salaries'",
    );
    assert_eq!(admin, "1\n");
}

/// An HTTP answer's verdict: `ok` or the error kind.
fn http_verdict(status: axum::http::StatusCode, body: &Value) -> String {
    if status == 200 {
        "ok".into()
    } else {
        body["kind"].as_str().unwrap_or("?").to_string()
    }
}

/// A psycopg answer's verdict, named like the console's error kinds. DuckDB's own `Permission Error` (a file it
/// may not touch) is an `sql` error over HTTP and `42501`, as Postgres reports file access, over Postgres.
fn pg_verdict(answer: &Value) -> String {
    let message = answer["error"]["message"].as_str().unwrap_or("");
    match answer["error"]["sqlstate"].as_str() {
        None => "ok".into(),
        Some("42501") if message.starts_with("Permission Error") => "sql".into(),
        Some("42501") => "refused".into(),
        Some("57014") => "timeout".into(),
        Some("57P03") => "unavailable".into(),
        Some(_) => "sql".into(),
    }
}

#[test]
fn attacks_get_the_same_verdicts_as_over_http_and_leak_nothing() {
    let pg = PgServer::start("governed");
    std::fs::write(pg.root.join("hr/salaries/data/notes.txt"), "meshbox-attack-marker\n").unwrap();
    let outside = tempfile::tempdir().unwrap();
    let cases = sql_attacks(&pg.root, outside.path());
    let mut failures = Vec::new();
    for role in ["viewer", "analyst"] {
        let sqls: Vec<&str> = cases.iter().map(|(_, s)| s.as_str()).collect();
        let answers = pg.psycopg(role, &sqls);
        for ((name, sql), answer) in cases.iter().zip(&answers) {
            let (status, body) = pg.http(role, sql);
            let (over_http, over_pg) = (http_verdict(status, &body), pg_verdict(answer));
            if over_http != over_pg {
                failures.push(format!(
                    "{role}: {name}: HTTP says {over_http}, Postgres {over_pg}: {answer}"
                ));
            }
            let text = answer.to_string();
            for secret in SECRETS.iter().filter(|s| text.contains(*s)) {
                failures.push(format!("{role}: {name}: leaked `{secret}`: {text}"));
            }
        }
    }
    let written: Vec<_> = std::fs::read_dir(outside.path()).unwrap().collect();
    assert!(written.is_empty(), "files were written outside the mesh: {written:?}");
    assert!(
        failures.is_empty(),
        "{} case(s) differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(pg.psql_rows("viewer", "SELECT count(*) FROM crm.customers"), "3\n");
}

#[test]
fn errors_carry_sqlstates_and_positions() {
    let pg = PgServer::start("governed");
    let answers = pg.psycopg(
        "analyst",
        &[
            "SELECT *\n  FORM crm.customers",
            "SELECT * FROM nope",
            "SELECT nope FROM crm.customers",
            "COPY crm.customers TO '/tmp/x.csv'",
            "SELECT count(*) FROM range(1000000000) a, range(1000000) b",
            "SELECT 1",
        ],
    );
    let state = |i: usize| answers[i]["error"]["sqlstate"].as_str().unwrap_or("none").to_string();
    assert_eq!(state(0), "42601", "{}", answers[0]);
    assert_eq!(answers[0]["error"]["position"], "17", "{}", answers[0]);
    assert_eq!(state(1), "42P01", "{}", answers[1]);
    assert_eq!(state(2), "42703", "{}", answers[2]);
    assert_eq!(state(3), "42501", "{}", answers[3]);
    assert_eq!(state(4), "57014", "{}", answers[4]);
    assert!(
        answers[4]["error"]["message"].as_str().unwrap().contains("time limit"),
        "{}",
        answers[4]
    );
    assert_eq!(answers[5]["rows"], json!([[1]]));
}

#[test]
fn a_cancel_request_stops_the_running_query() {
    let pg = PgServer::start("governed");
    let v = pg.python("pg_cancel.py", "analyst", &[], None);
    assert_eq!(v["error"]["sqlstate"], "57014", "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("user request"), "{v}");
    assert!(v["seconds"].as_f64().unwrap() < 2.5, "the cancel took too long: {v}");
    assert_eq!(v["after"], 42, "{v}");
    let cancelled = pg
        .state
        .audit
        .recent(50)
        .into_iter()
        .any(|e| e.endpoint == "pg" && e.outcome == "cancelled");
    assert!(cancelled, "no cancelled query in the audit log");
}

#[test]
fn fifty_clients_at_once_are_served_with_no_crash() {
    let pg = PgServer::start("governed");
    let started = Instant::now();
    let v = pg.python("pg_concurrency.py", "analyst", &["50"], None);
    assert_eq!(v["ok"], 50, "{v}");
    assert_eq!(v["errors"], json!([]), "{v}");
    assert!(started.elapsed() < Duration::from_secs(120));
    assert_eq!(pg.psql_rows("viewer", "SELECT count(*) FROM crm.customers"), "3\n");
}

#[test]
fn results_stream_past_the_console_cap_up_to_the_pg_cap() {
    let opts = PgOptions {
        max_rows: 5000,
        ..PgOptions::default()
    };
    let pg = PgServer::with("governed", opts, None);
    let answers = pg.psycopg(
        "analyst",
        &[
            "SELECT range AS n FROM range(4000)",
            "SELECT range AS n FROM range(6000)",
        ],
    );
    assert_eq!(
        answers[0]["rows"].as_array().unwrap().len(),
        4000,
        "the console's cap of 1000 applied"
    );
    assert_eq!(answers[0]["status"], "SELECT 4000");
    assert_eq!(answers[1]["error"]["sqlstate"], "54000", "{}", answers[1]);
    assert!(
        answers[1]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("--pg-max-rows")
    );
}

#[test]
fn every_query_is_audited_and_counted_as_usage() {
    let pg = PgServer::start("governed");
    pg.psycopg(
        "analyst",
        &[
            "SELECT count(*) FROM sales.orders",
            "COPY crm.customers TO '/tmp/x.csv'",
        ],
    );
    let entries: Vec<_> = pg
        .state
        .audit
        .recent(20)
        .into_iter()
        .filter(|e| e.endpoint == "pg")
        .collect();
    let ok = entries
        .iter()
        .find(|e| e.outcome == "ok" && e.products == ["sales/orders"]);
    let ok = ok.unwrap_or_else(|| panic!("no audit entry for the query: {entries:?}"));
    assert_eq!((ok.role.as_str(), ok.rows), ("analyst", 1));
    assert!(
        entries.iter().any(|e| e.outcome == "refused" && e.role == "analyst"),
        "{entries:?}"
    );
    let now = meshbox::governance::audit::now_ms();
    assert!(pg.state.usage.recent("sales/orders", now) >= 1);
    let log = std::fs::read_to_string(pg.state.audit.file().unwrap()).unwrap();
    assert!(log.contains("\"endpoint\":\"pg\""), "{log}");
}

/// A minimal protocol-3 client, for what libpq-based clients do not send (Execute with a row limit).
struct Raw(std::net::TcpStream);

impl Raw {
    fn connect(port: u16, user: &str) -> Raw {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut body = 196_608i32.to_be_bytes().to_vec();
        for part in ["user", user, "database", "meshbox", ""] {
            body.extend(part.as_bytes());
            body.push(0);
        }
        let mut msg = ((body.len() + 4) as i32).to_be_bytes().to_vec();
        msg.extend(body);
        s.write_all(&msg).unwrap();
        let mut raw = Raw(s);
        raw.until(b'Z');
        raw
    }

    fn send(&mut self, tag: u8, body: &[u8]) {
        let mut msg = vec![tag];
        msg.extend(((body.len() + 4) as i32).to_be_bytes());
        msg.extend(body);
        self.0.write_all(&msg).unwrap();
    }

    fn read(&mut self) -> (u8, Vec<u8>) {
        let mut head = [0u8; 5];
        self.0.read_exact(&mut head).unwrap();
        let len = i32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize;
        let mut body = vec![0u8; len - 4];
        self.0.read_exact(&mut body).unwrap();
        (head[0], body)
    }

    /// Message tags up to and including `last`.
    fn until(&mut self, last: u8) -> Vec<(u8, Vec<u8>)> {
        let mut out = Vec::new();
        loop {
            let m = self.read();
            let done = m.0 == last;
            out.push(m);
            if done {
                return out;
            }
        }
    }
}

fn cstr(s: &str) -> Vec<u8> {
    let mut v = s.as_bytes().to_vec();
    v.push(0);
    v
}

#[test]
fn portals_suspend_at_the_row_limit_and_resume() {
    let pg = PgServer::start("governed");
    let mut raw = Raw::connect(pg.port, "analyst");
    let mut parse = cstr("s1");
    parse.extend(cstr("SELECT range AS n FROM range(5)"));
    parse.extend(0i16.to_be_bytes());
    raw.send(b'P', &parse);
    // Bind portal p to s1, no parameters, results in binary.
    let mut bind = cstr("p");
    bind.extend(cstr("s1"));
    bind.extend([0, 0, 0, 0, 0, 1, 0, 1]);
    raw.send(b'B', &bind);
    let mut execute = cstr("p");
    execute.extend(2i32.to_be_bytes());
    for _ in 0..3 {
        raw.send(b'E', &execute);
    }
    raw.send(b'S', &[]);
    let tags: String = raw.until(b'Z').iter().map(|(t, _)| *t as char).collect();
    assert_eq!(tags, "12DDsDDsDCZ");
    // The binary int8 of the fifth row is 4.
    let mut raw = Raw::connect(pg.port, "analyst");
    raw.send(b'P', &parse);
    raw.send(b'B', &bind);
    let mut all = cstr("p");
    all.extend(0i32.to_be_bytes());
    raw.send(b'E', &all);
    raw.send(b'S', &[]);
    let messages = raw.until(b'Z');
    let rows: Vec<&Vec<u8>> = messages.iter().filter(|(t, _)| *t == b'D').map(|(_, b)| b).collect();
    assert_eq!(rows.len(), 5);
    assert_eq!(&rows[4][2..], &[0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 4]);
    let complete = messages.iter().find(|(t, _)| *t == b'C').unwrap();
    assert_eq!(complete.1, cstr("SELECT 5"));
}

/// What pgjdbc (DBeaver's and Metabase's driver), Metabase and DBeaver send to browse a database, as they send it.
const BROWSER_QUERIES: &[&str] = &[
    // pgjdbc getSchemas
    "SELECT nspname AS TABLE_SCHEM, NULL AS TABLE_CATALOG FROM pg_catalog.pg_namespace WHERE nspname <> 'pg_toast' \
     AND (nspname !~ '^pg_temp_' OR nspname = (pg_catalog.current_schemas(true))[1]) AND (nspname !~ \
     '^pg_toast_temp_' OR nspname = replace((pg_catalog.current_schemas(true))[1], 'pg_temp_', 'pg_toast_temp_')) \
     ORDER BY TABLE_SCHEM",
    // pgjdbc getTables(null, null, "%", {"TABLE", "VIEW"})
    "SELECT NULL AS TABLE_CAT, n.nspname AS TABLE_SCHEM, c.relname AS TABLE_NAME, CASE n.nspname ~ '^pg_' OR \
     n.nspname = 'information_schema' WHEN true THEN CASE WHEN n.nspname = 'pg_catalog' OR n.nspname = \
     'information_schema' THEN CASE c.relkind WHEN 'r' THEN 'SYSTEM TABLE' WHEN 'v' THEN 'SYSTEM VIEW' ELSE NULL END \
     ELSE NULL END WHEN false THEN CASE c.relkind WHEN 'r' THEN 'TABLE' WHEN 'p' THEN 'PARTITIONED TABLE' WHEN 'v' \
     THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE NULL END ELSE NULL END AS TABLE_TYPE, d.description AS \
     REMARKS, '' as TYPE_CAT, '' as TYPE_SCHEM, '' as TYPE_NAME, '' AS SELF_REFERENCING_COL_NAME, '' AS \
     REF_GENERATION FROM pg_catalog.pg_namespace n, pg_catalog.pg_class c LEFT JOIN pg_catalog.pg_description d ON \
     (c.oid = d.objoid AND d.objsubid = 0 and d.classoid = 'pg_class'::regclass) WHERE c.relnamespace = n.oid AND \
     c.relname LIKE '%' AND (false OR ( c.relkind IN ('r','p') AND n.nspname !~ '^pg_' AND n.nspname <> \
     'information_schema' ) OR ( c.relkind = 'v' AND n.nspname <> 'pg_catalog' AND n.nspname <> \
     'information_schema' ) ) ORDER BY TABLE_TYPE,TABLE_SCHEM,TABLE_NAME",
    // pgjdbc getColumns(null, "crm", "customers", "%")
    "SELECT * FROM (SELECT n.nspname,c.relname,a.attname,a.atttypid,a.attnotnull OR (t.typtype = 'd' AND \
     t.typnotnull) AS attnotnull,a.atttypmod,a.attlen,t.typtypmod,row_number() OVER (PARTITION BY a.attrelid ORDER \
     BY a.attnum) AS attnum, nullif(a.attidentity, '') as attidentity,nullif(a.attgenerated, '') as attgenerated,\
     pg_catalog.pg_get_expr(def.adbin, def.adrelid) AS adsrc,dsc.description,t.typbasetype,t.typtype FROM \
     pg_catalog.pg_namespace n JOIN pg_catalog.pg_class c ON (c.relnamespace = n.oid) JOIN pg_catalog.pg_attribute \
     a ON (a.attrelid=c.oid) JOIN pg_catalog.pg_type t ON (a.atttypid = t.oid) LEFT JOIN pg_catalog.pg_attrdef def \
     ON (a.attrelid=def.adrelid AND a.attnum = def.adnum) LEFT JOIN pg_catalog.pg_description dsc ON \
     (c.oid=dsc.objoid AND a.attnum = dsc.objsubid) LEFT JOIN pg_catalog.pg_class dc ON (dc.oid=dsc.classoid AND \
     dc.relname='pg_class') LEFT JOIN pg_catalog.pg_namespace dn ON (dc.relnamespace=dn.oid AND \
     dn.nspname='pg_catalog') WHERE c.relkind in ('r','p','v','f','m') and a.attnum > 0 AND NOT a.attisdropped AND \
     n.nspname LIKE 'crm' AND c.relname LIKE 'customers') c WHERE true ORDER BY nspname,c.relname,attnum",
    // pgjdbc getPrimaryKeys(null, "crm", "customers")
    "SELECT NULL AS TABLE_CAT, n.nspname AS TABLE_SCHEM, ct.relname AS TABLE_NAME, a.attname AS COLUMN_NAME, \
     (information_schema._pg_expandarray(i.indkey)).n AS KEY_SEQ, ci.relname AS PK_NAME, \
     information_schema._pg_expandarray(i.indkey) AS KEYS, a.attnum AS A_ATTNUM FROM pg_catalog.pg_class ct JOIN \
     pg_catalog.pg_attribute a ON (ct.oid = a.attrelid) JOIN pg_catalog.pg_namespace n ON (ct.relnamespace = n.oid) \
     JOIN pg_catalog.pg_index i ON ( a.attrelid = i.indrelid) JOIN pg_catalog.pg_class ci ON (ci.oid = \
     i.indexrelid) WHERE true AND n.nspname = E'crm' AND ct.relname = E'customers' AND i.indisprimary",
    // Metabase: startup, schemas, privileges, tables
    "SET extra_float_digits = 2",
    "SHOW TRANSACTION ISOLATION LEVEL",
    "SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL READ UNCOMMITTED",
    "with table_privileges as ( select NULL as role, t.schemaname as schema, t.objectname as table, \
     pg_catalog.has_any_column_privilege(current_user, '\"' || replace(t.schemaname, '\"', '\"\"') || '\"' || '.' \
     || '\"' || replace(t.objectname, '\"', '\"\"') || '\"', 'update') as update, \
     pg_catalog.has_any_column_privilege(current_user, '\"' || replace(t.schemaname, '\"', '\"\"') || '\"' || '.' \
     || '\"' || replace(t.objectname, '\"', '\"\"') || '\"', 'select') as select from ( select schemaname, \
     tablename as objectname from pg_catalog.pg_tables union select schemaname, viewname as objectname from \
     pg_catalog.pg_views union select schemaname, matviewname as objectname from pg_catalog.pg_matviews ) t where \
     t.schemaname !~ '^pg_' and t.schemaname <> 'information_schema' and \
     pg_catalog.has_schema_privilege(current_user, t.schemaname, 'usage') ) select t.* from table_privileges t \
     ORDER BY 2, 3",
    "SELECT \"n\".\"nspname\" AS \"schema\", \"c\".\"relname\" AS \"name\", CASE \"c\".\"relkind\" WHEN 'r' THEN \
     'TABLE' WHEN 'v' THEN 'VIEW' ELSE NULL END AS \"type\", \"d\".\"description\" AS \"description\", \
     \"stat\".\"n_live_tup\" AS \"estimated_row_count\" FROM \"pg_catalog\".\"pg_class\" AS \"c\" INNER JOIN \
     \"pg_catalog\".\"pg_namespace\" AS \"n\" ON \"c\".\"relnamespace\" = \"n\".\"oid\" LEFT JOIN \
     \"pg_catalog\".\"pg_description\" AS \"d\" ON (\"c\".\"oid\" = \"d\".\"objoid\") AND (\"d\".\"objsubid\" = \
     '0') AND (\"d\".\"classoid\" = 'pg_class'::regclass) LEFT JOIN \"pg_stat_user_tables\" AS \"stat\" ON \
     (\"n\".\"nspname\" = \"stat\".\"schemaname\") AND (\"c\".\"relname\" = \"stat\".\"relname\") WHERE \
     (\"c\".\"relnamespace\" = \"n\".\"oid\") AND (\"n\".\"nspname\" !~ '^pg_') AND (\"n\".\"nspname\" <> \
     'information_schema') AND c.relkind in ('r', 'p', 'v', 'f', 'm') ORDER BY \"type\" ASC, \"schema\" ASC, \
     \"name\" ASC",
    "show timezone",
    // DBeaver: session, schemas, database, roles, settings
    "SELECT current_schema(),session_user",
    "SELECT n.oid,n.*,d.description FROM pg_catalog.pg_namespace n left outer join pg_catalog.pg_description d on \
     d.objoid=n.oid and d.objsubid=0 and d.classoid='pg_namespace'::regclass ORDER BY nspname",
    "SELECT db.oid,db.* FROM pg_catalog.pg_database db WHERE datallowconn AND NOT datistemplate ORDER BY db.datname",
    "SELECT a.oid,a.* FROM pg_catalog.pg_roles a ORDER BY a.rolname",
    "select * from pg_catalog.pg_settings where name='standard_conforming_strings'",
    "SELECT t.oid,t.*,c.relkind,format_type(nullif(t.typbasetype, 0), t.typtypmod) as base_type_name, \
     d.description FROM pg_catalog.pg_type t LEFT OUTER JOIN pg_catalog.pg_class c ON c.oid=t.typrelid LEFT OUTER \
     JOIN pg_catalog.pg_description d ON t.oid=d.objoid WHERE t.typname IS NOT NULL AND (c.relkind IS NULL OR \
     c.relkind = 'c') ORDER BY t.oid",
];

/// DBeaver's table and column queries, bound to a namespace and a table OID.
const DBEAVER_BOUND: &[&str] = &[
    "select c.oid,c.*,t.relname as tabrelname,rt.relnamespace as refnamespace,d.description, case when \
     c.relkind='p' then e.expr else null end as partition_expr, case when c.relkind='p' then \
     pg_get_partkeydef(c.oid) else null end as partition_key from pg_catalog.pg_class c left outer join \
     pg_catalog.pg_class t on c.reltoastrelid=t.oid left outer join pg_catalog.pg_class rt on rt.oid=c.reltype left \
     outer join pg_catalog.pg_description d on d.objoid=c.oid and d.objsubid=0 and \
     d.classoid='pg_class'::regclass left outer join (select pg_get_expr(p.partexprs, p.partrelid) as \
     expr,partrelid from pg_catalog.pg_partitioned_table p) as e on e.partrelid = c.oid where c.relnamespace=%s and \
     c.relkind not in ('i','I','c') ORDER BY c.relname",
    "select c.relname,a.*,pg_catalog.pg_get_expr(ad.adbin, ad.adrelid, true) as def_value,dsc.description,dep.objid \
     from pg_catalog.pg_attribute a inner join pg_catalog.pg_class c on (a.attrelid=c.oid) left outer join \
     pg_catalog.pg_attrdef ad on (a.attrelid=ad.adrelid and a.attnum = ad.adnum) left outer join \
     pg_catalog.pg_description dsc on (c.oid=dsc.objoid and a.attnum = dsc.objsubid) left outer join pg_depend dep \
     on dep.refobjid = a.attrelid AND dep.deptype = 'i' and dep.refobjsubid = a.attnum and dep.classid = \
     dep.refclassid where NOT a.attisdropped and c.relkind not in ('i','I','c') and c.oid=%s order by a.attnum",
];

/// The names in the first column of a result.
fn first_column(answer: &Value) -> Vec<String> {
    let rows = answer["rows"].as_array().unwrap_or_else(|| panic!("no rows: {answer}"));
    rows.iter()
        .map(|r| r[0].as_str().map_or(r[0].to_string(), str::to_string))
        .collect()
}

#[test]
fn schema_browsers_see_the_roles_tables_and_nothing_else() {
    let pg = PgServer::start("governed");
    let answers = pg.psycopg("viewer", BROWSER_QUERIES);
    for (sql, answer) in BROWSER_QUERIES.iter().zip(&answers) {
        assert!(answer.get("error").is_none(), "{sql}\n→ {answer}");
    }
    let schemas = first_column(&answers[0]);
    assert!(
        schemas.contains(&"crm".to_string()) && !schemas.contains(&"hr".to_string()),
        "{schemas:?}"
    );
    let tables: Vec<String> = answers[1]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| format!("{}.{}", r[1], r[2]))
        .collect();
    assert!(tables.contains(&"\"crm\".\"customers\"".to_string()), "{tables:?}");
    assert!(
        !tables.iter().any(|t| t.contains("salaries") || t.contains("leads")),
        "{tables:?}"
    );
    let columns: Vec<&str> = answers[2]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r[2].as_str().unwrap())
        .collect();
    assert_eq!(
        columns,
        ["id", "name", "email", "iban", "birth_date", "segment", "country"]
    );
    let privileges = &answers[7]["rows"];
    assert!(
        privileges
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r[3] == false && r[4] == true),
        "{privileges}"
    );
    let metabase_tables = first_column(&answers[8]);
    assert!(metabase_tables.iter().all(|s| s != "hr"), "{metabase_tables:?}");
    assert_eq!(answers[9]["rows"], json!([["UTC"]]));
    assert_eq!(answers[10]["rows"], json!([["main", "viewer"]]));
    assert_eq!(answers[12]["rows"][0][2], "meshbox");
    assert_eq!(answers[13]["rows"][0][2], "viewer");
    assert_eq!(answers[14]["rows"][0][1], "on");
    // DBeaver's bound queries (extended protocol, parameters) for schema `crm` and table `crm.customers`.
    let crm = &answers[11]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r[2] == "crm")
        .unwrap()[0];
    let out = pg.python(
        "pg_query.py",
        "viewer",
        &[],
        Some(&json!({ "queries": DBEAVER_BOUND, "params": [[crm], [null]] })),
    );
    let tables = first_column(&out[0]);
    let customers = &out[0]["rows"].as_array().unwrap().iter().find(|r| r[2] == "customers");
    assert!(customers.is_some(), "{tables:?}");
    let table_oid = &customers.unwrap()[0];
    let out = pg.python(
        "pg_query.py",
        "viewer",
        &[],
        Some(&json!({ "queries": &DBEAVER_BOUND[1..], "params": [[table_oid]] })),
    );
    assert_eq!(out[0]["rows"].as_array().map(Vec::len), Some(7), "{}", out[0]);
}
