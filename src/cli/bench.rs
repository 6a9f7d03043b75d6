//! `meshbox bench`: measurements run in-process with the release binary, printed as Markdown for BENCHMARKS.md —
//! page render times, cold start, write-to-query latency through the watcher, reload cost as the mesh grows, and a
//! soak of edits. Timings are wall clock on a shared machine: compare figures from one run, not across runs.

use crate::checks::pipeline::Options;
use crate::live::snapshot::{Event, Mesh};
use crate::serve::query::Limits;
use axum::body::Body;
use axum::http::Request;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tower::ServiceExt;

/// A scratch folder under the system temp folder, removed when dropped.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(label: &str) -> Scratch {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let p = std::env::temp_dir().join(format!("meshbox-bench-{}-{label}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("creating a scratch folder");
        Scratch(p)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn options(scratch: &Path) -> Options {
    Options {
        engine: crate::load::ingest::EngineSettings {
            threads: None,
            memory_limit: None,
            temp_dir: scratch.join("duckdb-tmp"),
        },
        server: None,
        allow_outside_root: false,
        now_micros: None,
        profiles: true,
        pii: true,
        ignore: Vec::new(),
        state_dir: None,
    }
}

fn pct(v: &[f64], p: f64) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.partial_cmp(b).expect("no NaN timings"));
    s[((s.len() as f64 - 1.0) * p).round() as usize]
}

fn router(mesh: Arc<Mesh>) -> axum::Router {
    let limits = Limits {
        time_limit: Duration::from_secs(30),
        max_rows: 1000,
    };
    crate::serve::http::router(crate::serve::http::AppState::new(mesh, limits, 1 << 20))
}

async fn get(app: &axum::Router, uri: &str) -> usize {
    let res = app
        .clone()
        .oneshot(
            Request::get(uri)
                .header("host", "localhost")
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("infallible");
    assert!(res.status().is_success(), "{uri}: {}", res.status());
    axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .expect("body")
        .len()
}

async fn query(app: &axum::Router, sql: &str) -> serde_json::Value {
    let body = serde_json::json!({ "sql": sql }).to_string();
    let res = app
        .clone()
        .oneshot(
            Request::post("/api/query")
                .header("host", "localhost")
                .body(Body::from(body))
                .expect("request"),
        )
        .await
        .expect("infallible");
    serde_json::from_slice(&axum::body::to_bytes(res.into_body(), usize::MAX).await.expect("body")).expect("JSON")
}

/// Cold start and p50/p95 render times of the catalog pages on the sample mesh and a synthetic mesh.
pub fn render(sample: &Path, products: usize, runs: usize) -> anyhow::Result<String> {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let synthetic = Scratch::new("render");
    crate::cli::bench_mesh::generate(&synthetic.0, products, 50, 50)?;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| mesh | cold start (load, test, serve) | page | p50 ms | p95 ms | bytes |\n|---|---|---|---|---|---|"
    );
    for (label, root) in [
        ("sample mesh (12 products)".to_string(), sample.to_path_buf()),
        (format!("synthetic, {products} products"), synthetic.0.clone()),
    ] {
        let scratch = Scratch::new("render-db");
        let started = Instant::now();
        let mesh = Arc::new(Mesh::open(&std::fs::canonicalize(&root)?, options(&scratch.0), 60_000)?);
        let cold = started.elapsed().as_secs_f64();
        let snapshot = mesh.snapshot();
        let product = snapshot
            .catalog
            .products
            .iter()
            .find(|p| !p.tables.is_empty())
            .expect("a product with data");
        let product_uri = format!(
            "/products/{}/{}",
            crate::serve::http::segment(&product.domain),
            crate::serve::http::segment(&product.name)
        );
        let app = router(mesh.clone());
        for uri in ["/", product_uri.as_str(), "/problems", "/api/products"] {
            let mut times = Vec::with_capacity(runs);
            let mut bytes = 0;
            for _ in 0..runs {
                let t = Instant::now();
                bytes = rt.block_on(get(&app, uri));
                times.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            let _ = writeln!(
                out,
                "| {label} | {cold:.2} s | `{uri}` | {:.2} | {:.2} | {bytes} |",
                pct(&times, 0.5),
                pct(&times, 0.95)
            );
        }
    }
    Ok(out)
}

fn big_csv(path: &Path, rows: usize, marker: u64) -> std::io::Result<()> {
    let mut s = String::with_capacity(rows * 32);
    s.push_str("id,col_1,col_2\n");
    for i in 0..rows {
        let _ = writeln!(s, "{i},{marker},row-{i}");
    }
    std::fs::write(path, s)
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map(|d| d.count()).unwrap_or(0)
}

/// Write-to-query latency through the watcher, reload cost at two mesh sizes, and a soak of `edits` edits.
pub fn reload(runs: usize, edits: usize) -> anyhow::Result<String> {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let mut out = String::new();
    watcher_latency(&rt, runs, &mut out)?;
    reload_by_mesh_size(runs, &mut out)?;
    soak(edits, &mut out)?;
    Ok(out)
}

/// A 50-product mesh whose first product is a 100k-row CSV table: the table's SQL name and its CSV file.
fn latency_mesh(dir: &Path) -> anyhow::Result<(String, PathBuf)> {
    let keys = crate::cli::bench_mesh::generate(dir, 50, 10, 50)?;
    let (domain, name) = keys[0].split_once('/').expect("domain/product");
    let product_dir = dir.join(&keys[0]);
    let table = "big_table";
    std::fs::write(
        product_dir.join(format!("{name}.odcs.yaml")),
        format!(
            "apiVersion: v3.1.0\nkind: DataContract\nid: urn:synthetic:0\nversion: 1.0.0\nstatus: active\nschema:\n  - name: {table}\n    properties:\n\
             \x20     - name: id\n        logicalType: integer\n      - name: col_1\n        logicalType: integer\n      - name: col_2\n        logicalType: string\n\
             servers:\n  - server: local\n    type: local\n    format: csv\n    path: data.csv\n"
        ),
    )?;
    let csv = product_dir.join("data.csv");
    big_csv(&csv, 100_000, 0)?;
    Ok((format!("{domain}.{table}"), csv))
}

/// 1. A 100k-row CSV product in a 50-product mesh, edited while the real watcher runs: write to query answer.
fn watcher_latency(rt: &tokio::runtime::Runtime, runs: usize, out: &mut String) -> anyhow::Result<()> {
    let dir = Scratch::new("latency");
    let (table, csv) = latency_mesh(&dir.0)?;
    let scratch = Scratch::new("latency-db");
    let mesh = Arc::new(Mesh::open(
        &std::fs::canonicalize(&dir.0)?,
        options(&scratch.0),
        60_000,
    )?);
    let app = router(mesh.clone());
    let watcher = crate::live::watch::spawn(mesh.clone(), Default::default())?;
    let sql = format!("SELECT max(col_1) FROM {table}");
    let (mut latency, mut rebuild) = (Vec::new(), Vec::new());
    for i in 1..=runs as u64 {
        let mut rx = mesh.events.subscribe();
        big_csv(&csv, 100_000, i)?;
        let written = Instant::now();
        rt.block_on(async {
            loop {
                if let Ok(Event::Snapshot { .. }) = rx.recv().await
                    && query(&app, &sql).await["rows"][0][0] == serde_json::json!(i)
                {
                    break;
                }
            }
        });
        latency.push(written.elapsed().as_secs_f64() * 1000.0);
        rebuild.push(mesh.snapshot().reload.took_ms);
    }
    drop(watcher);
    let _ = writeln!(
        out,
        "### Last write → new data answers `/api/query` (100k-row CSV product in a 50-product mesh, {runs} edits, {} watcher)\n",
        mesh.watch_mode().unwrap_or("?")
    );
    let _ = writeln!(out, "| | p50 ms | p95 ms |\n|---|---|---|");
    let _ = writeln!(
        out,
        "| end to end (debounce, settle, reload, query) | {:.0} | {:.0} |",
        pct(&latency, 0.5),
        pct(&latency, 0.95)
    );
    let _ = writeln!(
        out,
        "| of which the rebuild | {:.0} | {:.0} |\n",
        pct(&rebuild, 0.5),
        pct(&rebuild, 0.95)
    );
    Ok(())
}

/// 2. Reload cost of one changed product as the mesh grows.
fn reload_by_mesh_size(runs: usize, out: &mut String) -> anyhow::Result<()> {
    let _ = writeln!(
        out,
        "### Reload of one changed product\n\n| mesh | cold start s | reload median ms | reload p95 ms | products reloaded |\n|---|---|---|---|---|"
    );
    for size in [10usize, 1000] {
        let dir = Scratch::new("scale");
        let keys = crate::cli::bench_mesh::generate(&dir.0, size, (size / 20).max(2), 50)?;
        let scratch = Scratch::new("scale-db");
        let started = Instant::now();
        let mesh = Mesh::open(&std::fs::canonicalize(&dir.0)?, options(&scratch.0), 60_000)?;
        let cold = started.elapsed().as_secs_f64();
        let csv = dir.0.join(&keys[size / 2]).join("data.csv");
        let original = std::fs::read_to_string(&csv)?;
        let first_row = original.lines().nth(1).unwrap_or_default().to_string();
        let (mut times, mut touched) = (Vec::new(), 0);
        for i in 0..runs {
            let mut text = original.clone();
            for _ in 0..=i {
                text.push_str(&first_row);
                text.push('\n');
            }
            std::fs::write(&csv, text)?;
            let next = mesh.rebuild().map_err(anyhow::Error::msg)?;
            times.push(next.reload.took_ms);
            touched = next.reload.reloaded.len();
        }
        let _ = writeln!(
            out,
            "| {size} products | {cold:.2} | {:.1} | {:.1} | {touched} |",
            pct(&times, 0.5),
            pct(&times, 0.95)
        );
    }
    Ok(())
}

/// 3. Soak: edits across a 20-product mesh, a rebuild after each; memory and open files sampled ten times.
fn soak(edits: usize, out: &mut String) -> anyhow::Result<()> {
    let dir = Scratch::new("soak");
    let keys = crate::cli::bench_mesh::generate(&dir.0, 20, 4, 200)?;
    let scratch = Scratch::new("soak-db");
    let mesh = Mesh::open(&std::fs::canonicalize(&dir.0)?, options(&scratch.0), 60_000)?;
    let mut samples = Vec::new();
    for i in 0..edits {
        let csv = dir.0.join(&keys[i % keys.len()]).join("data.csv");
        let mut text = std::fs::read_to_string(&csv)?;
        let first = text.lines().nth(1).unwrap_or_default().to_string();
        text.push_str(&first);
        text.push('\n');
        std::fs::write(&csv, text)?;
        mesh.rebuild().map_err(anyhow::Error::msg)?;
        if (i + 1) % (edits / 10).max(1) == 0 {
            samples.push((i + 1, rss_kib(), open_fds()));
        }
    }
    let _ = writeln!(
        out,
        "\n### Soak: {edits} edits on a 20-product mesh (a rebuild after each)\n\n| edits | RSS MiB | open fds |\n|---|---|---|"
    );
    for (n, rss, fds) in &samples {
        let _ = writeln!(out, "| {n} | {:.1} | {fds} |", *rss as f64 / 1024.0);
    }
    if let (Some(first), Some(last)) = (samples.first(), samples.last()) {
        let _ = writeln!(
            out,
            "\nRSS from edit {} to edit {}: {:+.1} %; open file descriptors {} → {}",
            first.0,
            last.0,
            (last.1 as f64 - first.1 as f64) / first.1 as f64 * 100.0,
            first.2,
            last.2
        );
    }
    Ok(())
}

/// The cost of masking: a 1M-row product queried as `admin` (the unmasked database) and as a role whose copy is
/// masked, side by side; the memory each profile database holds; and the load time with and without profiles.
pub fn access(rows: usize, runs: usize) -> anyhow::Result<String> {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let dir = Scratch::new("access");
    write_customers_mesh(&dir.0, rows)?;
    let mut out = String::new();
    let mesh = load_with_and_without_profiles(&dir.0, rows, &mut out)?;
    profile_memory(&mesh, &mut out)?;
    masked_query_times(&rt, &router(mesh), rows, runs, &mut out);
    Ok(out)
}

/// One `crm/customers` product of `rows` rows with a PII, a restricted and an internal column, and their masking.
fn write_customers_mesh(root: &Path, rows: usize) -> anyhow::Result<()> {
    let product = root.join("crm/customers");
    std::fs::create_dir_all(&product)?;
    let mut csv = String::with_capacity(rows * 80);
    csv.push_str("id,name,email,country,segment,amount\n");
    let countries = ["DE", "FR", "GB", "US", "NL", "SE", "ES", "IT"];
    let segments = ["smb", "enterprise", "public", "startup"];
    for i in 0..rows {
        let _ = writeln!(
            csv,
            "{i},Customer {i},user{}@example.com,{},{},{}.{:02}",
            i % (rows / 2).max(1),
            countries[i % countries.len()],
            segments[i % segments.len()],
            i % 997,
            i % 100
        );
    }
    std::fs::write(product.join("customers.csv"), csv)?;
    std::fs::write(
        product.join("customers.odcs.yaml"),
        "apiVersion: v3.1.0\nkind: DataContract\nid: urn:bench:customers\nversion: 1.0.0\nstatus: active\nschema:\n  - name: customers\n    properties:\n\
         \x20     - {name: id, logicalType: integer}\n      - {name: name, logicalType: string, classification: pii}\n\
         \x20     - {name: email, logicalType: string, classification: restricted}\n      - {name: country, logicalType: string}\n\
         \x20     - {name: segment, logicalType: string, classification: internal}\n      - {name: amount, logicalType: number, physicalType: \"DECIMAL(10,2)\"}\n\
         servers:\n  - {server: local, type: local, format: csv, path: customers.csv}\n",
    )?;
    std::fs::create_dir_all(root.join("policies"))?;
    std::fs::write(
        root.join("policies/masking.yaml"),
        "masking: {pii: partial, restricted: hash, internal: redact}\n",
    )?;
    Ok(())
}

/// Loads the mesh with one unmasked database, then with a masked profile beside it; returns the second.
fn load_with_and_without_profiles(root: &Path, rows: usize, out: &mut String) -> anyhow::Result<Arc<Mesh>> {
    let roles = "roles:\n  analyst: {clearance: internal, unmasked: [public]}\n  admin: {admin: true}\n";
    let mut opened = Vec::new();
    for (label, extra) in [
        ("one unmasked database", "roles:\n  admin: {admin: true}\n"),
        ("unmasked + masked profile", roles),
    ] {
        std::fs::write(root.join("mesh.yaml"), format!("name: access bench\n{extra}"))?;
        let scratch = Scratch::new("access-db");
        let rss_before = rss_kib();
        let started = Instant::now();
        let mesh = Arc::new(Mesh::open(&std::fs::canonicalize(root)?, options(&scratch.0), 60_000)?);
        let took = started.elapsed().as_secs_f64();
        let rss = rss_kib().saturating_sub(rss_before);
        opened.push((label, took, rss, mesh));
    }
    let _ = writeln!(
        out,
        "Load of a {rows}-row product (load, test, publish, build profiles) and resident memory added:\n\n\
         | setup | load s | RSS added MiB |\n|---|---|---|"
    );
    for (label, took, rss, _) in &opened {
        let _ = writeln!(out, "| {label} | {took:.2} | {:.0} |", *rss as f64 / 1024.0);
    }
    Ok(opened.pop().expect("two setups").3)
}

/// Memory each database's buffer manager holds: the unmasked one and the analyst's masked profile.
fn profile_memory(mesh: &Mesh, out: &mut String) -> anyhow::Result<()> {
    let _ = writeln!(out, "\n| database | roles | tables | memory MiB |\n|---|---|---|---|");
    let memory = |db: &crate::load::serving_db::ServingDb| -> anyhow::Result<f64> {
        let conn = db.connect()?;
        let bytes: i64 = conn.query_row(
            "SELECT coalesce(sum(memory_usage_bytes), 0)::BIGINT FROM duckdb_memory()",
            [],
            |r| r.get(0),
        )?;
        Ok(bytes as f64 / 1048576.0)
    };
    let raw = mesh.serving();
    let _ = writeln!(out, "| unmasked | admin | 1 | {:.1} |", memory(&raw)?);
    let analyst = mesh.serving_for("analyst").expect("the analyst profile");
    let _ = writeln!(out, "| masked profile | analyst | 1 | {:.1} |", memory(&analyst)?);
    Ok(())
}

/// The same queries as `admin` and as the masked `analyst`, interleaved, through `POST /api/query`.
fn masked_query_times(rt: &tokio::runtime::Runtime, app: &axum::Router, rows: usize, runs: usize, out: &mut String) {
    let queries = [
        (
            "aggregate over clear columns",
            "SELECT country, count(*), sum(amount) FROM crm.customers GROUP BY 1",
        ),
        (
            "distinct count of a hashed column",
            "SELECT count(DISTINCT email) FROM crm.customers",
        ),
        (
            "group by a redacted column",
            "SELECT segment, count(*) FROM crm.customers GROUP BY 1",
        ),
        (
            "filter on a partial-masked column",
            "SELECT count(*) FROM crm.customers WHERE name LIKE 'C%'",
        ),
    ];
    let _ = writeln!(
        out,
        "\n{rows} rows, p50 of {runs} runs through `POST /api/query`, roles interleaved:\n\n\
         | query | admin p50 ms | analyst (masked) p50 ms | ratio |\n|---|---|---|---|"
    );
    for (label, sql) in queries {
        let (mut admin, mut masked) = (Vec::new(), Vec::new());
        for _ in 0..runs {
            for (role, times) in [("admin", &mut admin), ("analyst", &mut masked)] {
                let t = Instant::now();
                let v = rt.block_on(query_as(app, role, sql));
                times.push(t.elapsed().as_secs_f64() * 1000.0);
                assert!(v.get("rows").is_some(), "{role}: {sql}: {v}");
            }
        }
        let (a, m) = (pct(&admin, 0.5), pct(&masked, 0.5));
        let _ = writeln!(out, "| {label} | {a:.1} | {m:.1} | {:.2}× |", m / a);
    }
}

async fn query_as(app: &axum::Router, role: &str, sql: &str) -> serde_json::Value {
    let body = serde_json::json!({ "sql": sql }).to_string();
    let req = Request::post("/api/query")
        .header("host", "localhost")
        .header("x-meshbox-role", role)
        .body(Body::from(body))
        .expect("request");
    let res = app.clone().oneshot(req).await.expect("infallible");
    serde_json::from_slice(&axum::body::to_bytes(res.into_body(), usize::MAX).await.expect("body")).expect("JSON")
}

/// Peak resident memory of this process (VmHWM), in KiB.
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// The search queries of the discovery benchmark: names, typos, prefixes, several words, facets' words.
pub const SEARCH_QUERIES: &[&str] = &[
    "orders",
    "custmer",
    "inv",
    "shipments daily",
    "claims 0050",
    "pii",
    "ledger accounts",
    "suppl",
    "tickts",
    "email",
    "sensor",
    "domain07",
    "returns",
    "pricing kpi",
    "campains",
    "trip",
    "ledgr",
    "acc",
    "devices realtime",
    "contracts",
];

/// Discovery at scale: cold start to the first search answer, peak memory, search latency over a fixed query
/// list, product page (with its lineage drawing) and mesh map render times, and an incremental index update.
pub fn discovery(products: usize, runs: usize) -> anyhow::Result<String> {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let dir = Scratch::new("discovery");
    let keys = crate::cli::bench_mesh::generate(&dir.0, products, 50, 50)?;
    let scratch = Scratch::new("discovery-db");
    let started = Instant::now();
    let mesh = Arc::new(Mesh::open(
        &std::fs::canonicalize(&dir.0)?,
        options(&scratch.0),
        60_000,
    )?);
    let app = router(mesh.clone());
    let first = rt.block_on(get(&app, "/api/search?q=orders"));
    let cold = started.elapsed().as_secs_f64();
    assert!(first > 0);
    let peak = peak_rss_kib();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{products} products in 50 domains, {} lineage edges.\n\n| measure | value |\n|---|---|\n\
         | cold start to the first search answer | {cold:.2} s |\n| peak RSS (VmHWM) | {:.0} MiB |",
        mesh.snapshot().lineage.edges.len(),
        peak as f64 / 1024.0
    );
    let per_query = search_latency(&rt, &mesh, &app, runs, &mut out)?;
    page_render_times(&rt, &app, &keys, runs, &mut out);
    index_update_time(&mesh, &dir.0, &keys[0], &mut out)?;
    let _ = writeln!(out, "\n| query | matches | p50 ms |\n|---|---|---|");
    for (q, total, p50) in per_query {
        let _ = writeln!(out, "| `{q}` | {total} | {p50:.2} |");
    }
    Ok(out)
}

/// Search latency in-process (the index query, ranking, facets and snippets — not HTTP), then through HTTP with a
/// facet filter. Returns each query's matches and p50.
fn search_latency(
    rt: &tokio::runtime::Runtime,
    mesh: &Mesh,
    app: &axum::Router,
    runs: usize,
    out: &mut String,
) -> anyhow::Result<Vec<(&'static str, usize, f64)>> {
    let mut times = Vec::new();
    let mut per_query = Vec::new();
    for q in SEARCH_QUERIES {
        let mut mine = Vec::new();
        let mut total = 0;
        for _ in 0..runs {
            let t = Instant::now();
            let r = mesh.search().search(q, &[], 20, &|_| 0)?;
            let ms = t.elapsed().as_secs_f64() * 1000.0;
            total = r.total;
            mine.push(ms);
            times.push(ms);
        }
        per_query.push((*q, total, pct(&mine, 0.5)));
    }
    let _ = writeln!(
        out,
        "| search p50 over {} queries × {runs} runs | {:.2} ms |\n| search p99 | {:.2} ms |",
        SEARCH_QUERIES.len(),
        pct(&times, 0.5),
        pct(&times, 0.99)
    );
    let mut http = Vec::new();
    for _ in 0..runs {
        for q in SEARCH_QUERIES.iter().take(5) {
            let t = Instant::now();
            rt.block_on(get(
                app,
                &format!("/api/search?q={}&tag=pii", crate::serve::http::segment(q)),
            ));
            http.push(t.elapsed().as_secs_f64() * 1000.0);
        }
    }
    let _ = writeln!(
        out,
        "| `GET /api/search` (with a facet filter) p99 | {:.2} ms |",
        pct(&http, 0.99)
    );
    Ok(per_query)
}

/// p95 render times of a product page with its lineage, the mesh map and an impact answer.
fn page_render_times(rt: &tokio::runtime::Runtime, app: &axum::Router, keys: &[String], runs: usize, out: &mut String) {
    let (d, n) = keys[keys.len() / 2].split_once('/').expect("domain/product");
    for (label, uri) in [
        ("product page with lineage, p95", format!("/products/{d}/{n}")),
        ("mesh map `/lineage`, p95", "/lineage".to_string()),
        (
            "`GET /api/products/…/impact`, p95",
            format!("/api/products/{}/impact", keys[0]),
        ),
    ] {
        let mut t = Vec::new();
        let mut bytes = 0;
        for _ in 0..runs.min(50) {
            let s = Instant::now();
            bytes = rt.block_on(get(app, &uri));
            t.push(s.elapsed().as_secs_f64() * 1000.0);
        }
        let _ = writeln!(out, "| {label} | {:.2} ms ({} KiB) |", pct(&t, 0.95), bytes / 1024);
    }
}

/// Incremental index update: one product's contract gains a tag, the mesh rebuilds, the index rewrites its document.
fn index_update_time(mesh: &Mesh, root: &Path, key: &str, out: &mut String) -> anyhow::Result<()> {
    let index = crate::discovery::search::SearchIndex::new()?;
    {
        let s = mesh.snapshot();
        index.update(&s.catalog, &s.governance.compliance)?
    };
    let contract = root
        .join(key)
        .join(format!("{}.odcs.yaml", key.split_once('/').expect("key").1));
    let text = std::fs::read_to_string(&contract)?;
    std::fs::write(&contract, text.replacen("schema:", "tags: [benchmarked]\nschema:", 1))?;
    mesh.rebuild().map_err(anyhow::Error::msg)?;
    let t = Instant::now();
    let written = {
        let s = mesh.snapshot();
        index.update(&s.catalog, &s.governance.compliance)?
    };
    let _ = writeln!(
        out,
        "| index update after one product changed | {:.2} ms ({written} document rewritten) |",
        t.elapsed().as_secs_f64() * 1000.0
    );
    Ok(())
}
