//! The MCP server, driven by the official MCP Python SDK (`tests/clients/mcp_session.py`) against the `governed`
//! fixture: over stdio (the `meshbox mcp DIR --role R` binary, as an assistant starts it) and over Streamable HTTP
//! (`/mcp` of the served router on an ephemeral port). Every tool answers; masked values, refusals and other roles'
//! products come out exactly as over the JSON API; the attack suite through `query` leaks nothing and changes
//! nothing; every call lands in the audit log attributed to `mcp:<role>`; `/mcp` keeps the Host, Origin and room
//! checks of every route.

use super::attacks::{ATTACKERS, leaks, snapshot_folder, sql_attacks};
use crate::common::{copy_fixture, options, query_as, send};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use meshbox::governance::audit::{Audit, Entry};
use meshbox::live::snapshot::Mesh;
use meshbox::serve::http::{AppState, RoomLock, WebSecurity};
use meshbox::serve::query::Limits;
use serde_json::{Value, json};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceExt;

/// The tools every role sees.
const TOOLS: [&str; 8] = [
    "search_products",
    "get_product",
    "get_contract",
    "query",
    "explain_column",
    "impact",
    "list_problems",
    "compliance",
];

/// The first customer, every column: raw for the admin, masked for the analyst.
const FIRST_CUSTOMER: &str =
    "SELECT id, name, email, iban, birth_date, segment, country FROM crm.customers ORDER BY id LIMIT 1";

/// A served copy of the `governed` fixture: the router (with `/mcp`) on an ephemeral port, and its state.
struct Served {
    root: PathBuf,
    url: String,
    state: Arc<AppState>,
    app: axum::Router,
    runtime: tokio::runtime::Runtime,
    _dirs: Vec<tempfile::TempDir>,
}

impl Served {
    fn start(room_token: Option<&str>) -> Served {
        let dir = copy_fixture("governed");
        let scratch = tempfile::tempdir().unwrap();
        let state_dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        // A file no product declares, for the file-reading attacks.
        std::fs::write(root.join("hr/salaries/data/notes.txt"), "meshbox-attack-marker\n").unwrap();
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
        let app = meshbox::serve::http::router_with(state.clone(), meshbox::serve::mcp::routes(state.clone()));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
        let url = format!("http://127.0.0.1:{}/mcp", listener.local_addr().unwrap().port());
        let served = app.clone();
        runtime.spawn(async move { axum::serve(listener, served).await });
        Served {
            root,
            url,
            state,
            app,
            runtime,
            _dirs: vec![dir, scratch, state_dir],
        }
    }

    /// An MCP session over HTTP as `role` (the `X-Meshbox-Role` header): the SDK's answer to every step.
    fn http(&self, role: &str, mode: &str, steps: &Value) -> Value {
        session(&["http", self.url.as_str(), "--role", role, "--mode", mode], &[], steps)
    }

    /// A console query through the JSON API, for comparison.
    fn api_query(&self, role: &str, sql: &str) -> (StatusCode, Value) {
        self.runtime.block_on(query_as(&self.app, role, sql))
    }

    /// A JSON API answer as `role`.
    fn api_get(&self, role: &str, uri: &str) -> Value {
        let req = Request::get(uri)
            .header("x-meshbox-role", role)
            .body(Body::empty())
            .unwrap();
        let (status, _, body) = self.runtime.block_on(send(&self.app, req));
        assert_eq!(status, StatusCode::OK, "{uri}: {}", String::from_utf8_lossy(&body));
        serde_json::from_slice(&body).unwrap()
    }

    /// The audit entries attributed to `who`, oldest first.
    fn audited(&self, who: &str) -> Vec<Entry> {
        let mut entries: Vec<Entry> = self
            .state
            .audit
            .recent(1000)
            .into_iter()
            .filter(|e| e.role == who)
            .collect();
        entries.reverse();
        entries
    }
}

/// The python of the client tools' venv (`tests/clients/setup.sh`).
fn python_path() -> PathBuf {
    let path = std::env::var_os("MESHBOX_CLIENTS_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cache/meshbox-clients/bin/python")
        });
    assert!(
        path.exists(),
        "{} does not exist: run tests/clients/setup.sh (it installs the MCP SDK into a venv and prints its python), \
         or point MESHBOX_CLIENTS_PYTHON at a python with `mcp` installed",
        path.display()
    );
    path
}

/// Runs `mcp_session.py` with `args` and `env`, the steps on its standard input; its JSON answer.
fn session(args: &[&str], env: &[(&str, &Path)], steps: &Value) -> Value {
    let clients = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients");
    let mut cmd = Command::new(python_path());
    cmd.arg(clients.join("mcp_session.py"))
        .args(args)
        .current_dir(&clients)
        .env_remove("RUST_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("python runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(steps.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "mcp_session.py {args:?} failed:\n{stderr}");
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "mcp_session.py printed no JSON ({e}):\n{}\n{stderr}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// A `query` step.
fn query_step(sql: &str) -> Value {
    json!({"op": "call", "tool": "query", "args": {"sql": sql}})
}

/// A tool call step.
fn call(tool: &str, args: Value) -> Value {
    json!({"op": "call", "tool": tool, "args": args})
}

/// The answer of a tool call that worked: its structured content.
fn ok(answer: &Value) -> &Value {
    assert_eq!(answer["is_error"], false, "the tool failed: {answer}");
    assert!(
        answer["text"]
            .as_array()
            .is_some_and(|t| !t.is_empty() && t[0].as_str().is_some_and(|s| !s.is_empty())),
        "no short text first: {answer}"
    );
    &answer["structured"]
}

/// The answer of a tool call that was refused: its structured error (`error`, `kind`).
fn refused(answer: &Value) -> &Value {
    assert_eq!(answer["is_error"], true, "the tool answered: {answer}");
    &answer["structured"]
}

/// The tool names of a `list_tools` answer.
fn tool_names(answer: &Value) -> Vec<&str> {
    answer["tools"]
        .as_array()
        .unwrap_or_else(|| panic!("no tools: {answer}"))
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect()
}

/// A tool's description in a `list_tools` answer.
fn description<'a>(answer: &'a Value, tool: &str) -> &'a str {
    answer["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == tool)
        .and_then(|t| t["description"].as_str())
        .unwrap_or_else(|| panic!("no tool {tool}: {answer}"))
}

#[test]
fn http_tools_answer_as_the_json_api_does_for_the_role() {
    let s = Served::start(None);
    let steps = json!([
        {"op": "list_tools"},
        query_step(FIRST_CUSTOMER),
        query_step("SELECT * FROM read_csv('/etc/passwd')"),
        query_step("SELECT count(*) FROM hr.salaries"),
        call("get_product", json!({"domain": "crm", "product": "customers"})),
        call("get_product", json!({"domain": "hr", "product": "salaries"})),
        call("explain_column", json!({"domain": "crm", "product": "customers", "column": "email"})),
        call("impact", json!({"domain": "crm", "product": "customers"})),
        call("list_problems", json!({})),
        call("compliance", json!({})),
        call("search_products", json!({"query": "salaries"})),
        call("get_contract", json!({"domain": "crm", "product": "customers"})),
    ]);
    let out = s.http("analyst", "auto", &steps);
    assert_eq!(out["server"], "meshbox", "{out}");
    let r = out["results"].as_array().unwrap();
    assert_eq!(tool_names(&r[0]), TOOLS);
    let query_terms = description(&r[0], "query");
    assert!(
        query_terms.contains("crm/customers") && query_terms.contains("Customers of the fixture shop"),
        "{query_terms}"
    );
    assert!(
        !query_terms.contains("hr/salaries"),
        "terms of a product the analyst may not read: {query_terms}"
    );
    // The rows the console gives the analyst, masked the same way.
    let (status, api) = s.api_query("analyst", FIRST_CUSTOMER);
    assert_eq!(status, StatusCode::OK, "{api}");
    let rows = ok(&r[1]);
    assert_eq!(rows["rows"], api["rows"]);
    assert_eq!(rows["columns"], api["columns"]);
    assert_eq!(rows["rows"][0][1], "A•••", "pii is partial for the analyst");
    assert_eq!(rows["rows"][0][3], "•••", "confidential is redacted");
    assert_eq!(rows["rows"][0][5], "enterprise", "internal is clear for the analyst");
    assert_eq!(rows["row_cap"], 200);
    assert_eq!(rows["terms_of_use"][0]["product"], "crm/customers");
    // Refusals: the same verdict and message as the console's.
    for (answer, sql) in [
        (&r[2], "SELECT * FROM read_csv('/etc/passwd')"),
        (&r[3], "SELECT count(*) FROM hr.salaries"),
    ] {
        let (status, api) = s.api_query("analyst", sql);
        assert_eq!(status, StatusCode::BAD_REQUEST, "{api}");
        let e = refused(answer);
        assert_eq!((&e["kind"], &e["error"]), (&api["kind"], &api["error"]), "{sql}");
    }
    assert_eq!(refused(&r[2])["kind"], "refused");
    assert!(refused(&r[3])["error"].as_str().unwrap().contains("does not exist"));
    product_answers_match_the_api(&s, &r[4], &r[5], &r[6]);
    catalog_answers_match_the_api(&s, &r[7..]);
    every_call_is_audited_as_mcp(&s, "mcp:analyst");
}

/// `get_product` and `explain_column` show what `GET /api/products/…` shows the analyst, and no data of a product
/// it may not read.
fn product_answers_match_the_api(s: &Served, customers: &Value, salaries: &Value, email: &Value) {
    let api = s.api_get("analyst", "/api/products/crm/customers");
    let mine = ok(customers);
    assert_eq!(mine["terms_of_use"]["purpose"], "Customers of the fixture shop.");
    assert_eq!(mine["terms_of_use"]["readable"], true);
    assert_eq!(mine["product"]["access"], api["access"]);
    let (t, api_t) = (&mine["product"]["table_details"][0], &api["table_details"][0]);
    assert_eq!(t["columns"], api_t["columns"]);
    assert_eq!(t["sample"], api_t["sample"]);
    assert!(
        t.get("profile").is_none() && t.get("console_url").is_none(),
        "browser fields are left out: {t}"
    );
    let hidden = ok(salaries);
    assert_eq!(hidden["product"]["access"]["granted"], false);
    assert_eq!(hidden["terms_of_use"]["readable"], false);
    assert_eq!(hidden["product"]["table_details"][0]["row_count"], Value::Null);
    assert_eq!(hidden["product"]["table_details"][0]["sample"]["rows"], json!([]));
    assert!(
        leaks("get_product hr/salaries", StatusCode::OK, &salaries.to_string()).is_empty(),
        "{salaries}"
    );
    let column = ok(email);
    let api_email = api_t["columns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "email")
        .unwrap();
    assert_eq!(&column["column"], api_email);
    assert_eq!(column["column"]["classification"], "restricted");
    assert_eq!(column["produced_by"]["product"], "crm/customers");
    assert_eq!(column["table"], "crm.customers");
}

/// `impact`, `list_problems`, `compliance`, `search_products` and `get_contract` answer what the API and the folder say.
fn catalog_answers_match_the_api(s: &Served, r: &[Value]) {
    let impact = ok(&r[0]);
    assert_eq!(impact, &s.api_get("analyst", "/api/products/crm/customers/impact"));
    let problems = ok(&r[1]);
    let api_problems = s.api_get("analyst", "/api/problems");
    assert_eq!(problems["total"], api_problems.as_array().unwrap().len());
    assert_eq!(&problems["problems"], &api_problems);
    let compliance = ok(&r[2]);
    let api_compliance = s.api_get("analyst", "/api/compliance");
    assert_eq!(compliance["products"], api_compliance["products"]);
    assert_eq!(compliance["violations"], api_compliance["violations"]);
    let search = ok(&r[3]);
    let hit = search["hits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["key"] == "hr/salaries")
        .unwrap_or_else(|| panic!("hr/salaries not found: {search}"));
    assert_eq!(hit["readable"], false, "the analyst may not read hr/salaries");
    let contract = ok(&r[4]);
    let written = std::fs::read_to_string(s.root.join("crm/customers/customers.odcs.yaml")).unwrap();
    assert_eq!(contract["yaml"], written.as_str());
    assert_eq!(contract["file"], "crm/customers/customers.odcs.yaml");
}

/// Every tool call of the session is in the audit log, attributed to `who`; the queries under the endpoint `mcp`
/// with the console's outcomes, the reads under `mcp:<tool>` with the product they read.
fn every_call_is_audited_as_mcp(s: &Served, who: &str) {
    let entries = s.audited(who);
    let queries: Vec<(&str, &str)> = entries
        .iter()
        .filter(|e| e.endpoint == "mcp")
        .map(|e| (e.outcome.as_str(), e.endpoint.as_str()))
        .collect();
    assert_eq!(
        queries,
        [("ok", "mcp"), ("refused", "mcp"), ("sql", "mcp")],
        "{entries:#?}"
    );
    let first = entries.iter().find(|e| e.endpoint == "mcp").unwrap();
    assert_eq!(first.products, ["crm/customers"]);
    assert_eq!(first.rows, 1);
    let reads: Vec<String> = entries
        .iter()
        .filter(|e| e.endpoint != "mcp")
        .map(|e| format!("{} {}", e.endpoint, e.products.join(",")))
        .collect();
    let expected = [
        "mcp:get_product crm/customers",
        // Audited, but not a use of a product the analyst may not read.
        "mcp:get_product ",
        "mcp:explain_column crm/customers",
        "mcp:impact crm/customers",
        "mcp:list_problems ",
        "mcp:compliance ",
        "mcp:search_products ",
        "mcp:get_contract crm/customers",
    ];
    assert_eq!(reads, expected);
    let usage = s
        .state
        .usage
        .summary("crm/customers", meshbox::governance::audit::now_ms());
    assert!(
        usage.roles.iter().any(|(role, n)| role == who && *n >= 5),
        "{:?}",
        usage.roles
    );
}

#[test]
fn http_roles_are_resolved_per_request_and_sessions_work_too() {
    let s = Served::start(None);
    let steps = json!([{"op": "list_tools"}, query_step("SELECT count(*) AS n FROM sales.orders")]);
    // The legacy handshake (a session per client), as older assistants speak it.
    let analyst = s.http("analyst", "legacy", &steps);
    let r = analyst["results"].as_array().unwrap();
    assert_eq!(tool_names(&r[0]), TOOLS);
    assert_eq!(ok(&r[1])["columns"], json!(["n"]));
    let viewer = s.http("viewer", "auto", &steps);
    let r = viewer["results"].as_array().unwrap();
    assert!(
        !description(&r[0], "query").contains("sales/orders"),
        "the viewer may not read sales/orders"
    );
    let (_, api) = s.api_query("viewer", "SELECT count(*) AS n FROM sales.orders");
    assert_eq!(refused(&r[1])["error"], api["error"]);
    assert_eq!(s.audited("mcp:analyst").len(), 1);
    assert_eq!(s.audited("mcp:viewer")[0].outcome, "sql");
}

#[test]
fn resources_prompts_and_protocol_errors() {
    let s = Served::start(None);
    let contract = "meshbox://manifest/crm/customers/customers.odcs.yaml";
    let steps = json!([
        {"op": "list_resources"},
        {"op": "read_resource", "uri": contract},
        {"op": "read_resource", "uri": "meshbox://manifest/../../etc/passwd"},
        {"op": "read_resource", "uri": "meshbox://manifest/hr/salaries/data/notes.txt"},
        {"op": "list_prompts"},
        {"op": "get_prompt", "name": "mesh_naming"},
        call("no_such_tool", json!({})),
        call("get_product", json!({"domain": "crm"})),
        call("get_product", json!({"domain": "crm", "product": "nothing"})),
    ]);
    let out = s.http("analyst", "auto", &steps);
    let r = out["results"].as_array().unwrap();
    let uris: Vec<&str> = r[0]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["uri"].as_str().unwrap())
        .collect();
    assert!(uris.contains(&contract), "{uris:?}");
    assert!(
        uris.iter().all(|u| u.ends_with(".yaml") || u.ends_with(".yml")),
        "{uris:?}"
    );
    let written = std::fs::read_to_string(s.root.join("crm/customers/customers.odcs.yaml")).unwrap();
    assert_eq!(r[1]["contents"][0]["text"], written.as_str());
    assert_eq!(r[1]["contents"][0]["mime_type"], "application/yaml");
    for answer in [&r[2], &r[3]] {
        assert!(
            answer["protocol_error"]["message"]
                .as_str()
                .unwrap()
                .contains("not a manifest"),
            "{answer}"
        );
        assert!(!answer.to_string().contains("meshbox-attack-marker") && !answer.to_string().contains("root:"));
    }
    assert_eq!(r[4]["prompts"][0]["name"], "mesh_naming");
    let naming = r[5]["messages"][0]["text"].as_str().unwrap();
    assert!(
        naming.contains("`domain.table`") && naming.contains("crm.customers"),
        "{naming}"
    );
    assert!(
        !naming.contains("hr.salaries"),
        "a table the analyst may not read: {naming}"
    );
    assert_eq!(r[6]["protocol_error"]["code"], -32602, "{}", r[6]);
    assert_eq!(refused(&r[7])["kind"], "bad_request");
    assert_eq!(refused(&r[8])["kind"], "not_found");
}

#[test]
fn http_attacks_through_query_leak_nothing_and_change_nothing() {
    let s = Served::start(None);
    let outside = tempfile::tempdir().unwrap();
    let before = snapshot_folder(&s.root);
    let attacks = sql_attacks(&s.root, outside.path());
    let steps: Vec<Value> = attacks.iter().map(|(_, sql)| query_step(sql)).collect();
    let mut failures = Vec::new();
    for role in ATTACKERS {
        let out = s.http(role, "auto", &json!(steps));
        let answers = out["results"].as_array().unwrap();
        assert_eq!(answers.len(), attacks.len());
        for ((what, _), answer) in attacks.iter().zip(answers) {
            failures.extend(leaks(
                &format!("mcp {role}: {what}"),
                StatusCode::OK,
                &answer.to_string(),
            ));
        }
    }
    let written: Vec<_> = std::fs::read_dir(outside.path()).unwrap().collect();
    assert!(written.is_empty(), "files were written outside the mesh");
    assert!(snapshot_folder(&s.root) == before, "the mesh folder changed");
    assert!(
        failures.is_empty(),
        "{} attack(s) got through:\n{}",
        failures.len(),
        failures.join("\n")
    );
    let (status, api) = s.api_query("viewer", "SELECT count(*) FROM crm.customers");
    assert_eq!(
        (status, &api["rows"]),
        (StatusCode::OK, &json!([[3]])),
        "the server still serves"
    );
}

#[test]
fn mcp_endpoint_keeps_the_host_origin_and_room_checks() {
    let s = Served::start(Some("s3cret"));
    let initialize = json!({
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}
    })
    .to_string();
    // Only the status and a refusal's body are read: an accepted request opens an event stream.
    let post = |headers: &[(&str, &str)]| {
        let mut req = Request::post("/mcp")
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream");
        if !headers.iter().any(|(k, _)| *k == "host") {
            req = req.header("host", "localhost");
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = req.body(Body::from(initialize.clone())).unwrap();
        s.runtime.block_on(async {
            let res = s.app.clone().oneshot(req).await.unwrap();
            let status = res.status();
            if status == StatusCode::OK {
                return (status, String::new());
            }
            let body = res.into_body().collect().await.unwrap().to_bytes();
            (status, String::from_utf8_lossy(&body).into_owned())
        })
    };
    let (status, body) = post(&[("host", "evil.example")]);
    assert_eq!(status, StatusCode::MISDIRECTED_REQUEST, "{body}");
    let (status, body) = post(&[("origin", "http://evil.example")]);
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) = post(&[("x-meshbox-role", "steward")]);
    assert_eq!(status, StatusCode::FORBIDDEN, "a locked role without the token: {body}");
    assert!(body.contains("role_locked"), "{body}");
    let (status, body) = post(&[("x-meshbox-role", "nobody")]);
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.contains("unknown_role"), "{body}");
    let (status, body) = post(&[("x-meshbox-role", "steward"), ("x-meshbox-token", "s3cret")]);
    assert_eq!(status, StatusCode::OK, "with the token: {body}");
    let (status, body) = post(&[("origin", "http://localhost")]);
    assert_eq!(status, StatusCode::OK, "this site's own origin: {body}");
}

#[test]
fn stdio_serves_one_role_with_the_same_guards() {
    let dir = copy_fixture("governed");
    let root = std::fs::canonicalize(dir.path()).unwrap();
    std::fs::write(root.join("hr/salaries/data/notes.txt"), "meshbox-attack-marker\n").unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let state = scratch.path().join("state");
    let outside = tempfile::tempdir().unwrap();
    let before = snapshot_folder(&root);
    let attacks = sql_attacks(&root, outside.path());
    let mut steps = vec![
        json!({"op": "list_tools"}),
        query_step(FIRST_CUSTOMER),
        query_step("SELECT count(*) FROM hr.salaries"),
        call("get_product", json!({"domain": "crm", "product": "customers"})),
        json!({"op": "get_prompt", "name": "mesh_naming"}),
    ];
    steps.extend(attacks.iter().map(|(_, sql)| query_step(sql)));
    let root_arg = root.to_str().unwrap();
    let args = [
        "stdio",
        env!("CARGO_BIN_EXE_meshbox"),
        root_arg,
        "--role",
        "analyst",
        "--arg=--no-watch",
        "--arg=--sql-time-limit-ms=3000",
    ];
    let env = [
        ("MESHBOX_STATE_DIR", state.as_path()),
        ("MESHBOX_CACHE_DIR", scratch.path()),
        ("MESHBOX_THREADS", Path::new("2")),
    ];
    let out = session(&args, &env, &json!(steps));
    let r = out["results"].as_array().unwrap();
    assert_eq!(tool_names(&r[0]), TOOLS);
    let row = &ok(&r[1])["rows"][0];
    assert_eq!(row[1], "A•••");
    let hash = row[2].as_str().unwrap();
    assert!(
        hash.len() == 16 && hash.chars().all(|c| c.is_ascii_hexdigit()),
        "e-mails are hashed: {hash}"
    );
    assert_eq!(row[3], "•••");
    assert_eq!(row[5], "enterprise");
    assert!(
        refused(&r[2])["error"].as_str().unwrap().contains("does not exist"),
        "{}",
        r[2]
    );
    assert_eq!(ok(&r[3])["product"]["access"]["granted"], true);
    assert!(
        r[4]["messages"][0]["text"]
            .as_str()
            .unwrap()
            .contains("as the role `analyst`")
    );
    let mut failures = Vec::new();
    for ((what, _), answer) in attacks.iter().zip(&r[5..]) {
        failures.extend(leaks(
            &format!("mcp stdio: {what}"),
            StatusCode::OK,
            &answer.to_string(),
        ));
    }
    assert!(
        failures.is_empty(),
        "{} attack(s) got through:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(snapshot_folder(&root) == before, "the mesh folder changed");
    assert!(
        std::fs::read_dir(outside.path()).unwrap().next().is_none(),
        "files were written outside the mesh"
    );
    stdio_calls_are_in_the_audit_file(&state.join("audit.jsonl"), attacks.len());
}

/// The audit file of the state folder holds every call of the stdio session, attributed to `mcp:analyst`.
fn stdio_calls_are_in_the_audit_file(file: &Path, attacks: usize) {
    let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let entries: Vec<Entry> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(entries.iter().all(|e| e.role == "mcp:analyst"), "{entries:#?}");
    let queries = entries.iter().filter(|e| e.endpoint == "mcp").count();
    assert_eq!(queries, 2 + attacks, "every query, refused or not");
    assert_eq!(entries[0].outcome, "ok");
    assert_eq!(entries[0].products, ["crm/customers"]);
    assert!(
        entries
            .iter()
            .any(|e| e.endpoint == "mcp:get_product" && e.products == ["crm/customers"])
    );
}

#[test]
fn stdio_refuses_an_unknown_role_with_the_list_of_roles() {
    let scratch = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_meshbox"))
        .args([
            "mcp",
            crate::common::fixture("governed").to_str().unwrap(),
            "--role",
            "nobody",
            "--no-watch",
        ])
        .env("MESHBOX_STATE_DIR", scratch.path().join("state"))
        .env("MESHBOX_CACHE_DIR", scratch.path())
        .env("MESHBOX_THREADS", "2")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("no role named `nobody`; the roles of this mesh are viewer, analyst, crm_team, steward, admin"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty(), "nothing but protocol on standard output");
}
