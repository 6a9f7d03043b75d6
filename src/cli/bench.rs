//! `meshbox bench`: measurements run in-process with the release binary, printed as Markdown for BENCHMARKS.md —
//! page render times, cold start, write-to-query latency through the watcher, reload cost as the mesh grows, and a
//! soak of edits. Timings are wall clock on a shared machine: compare figures from one run, not across runs.

use crate::checks::pipeline::Options;
use crate::live::snapshot::Mesh;
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
        paths_fallback: None,
        selection: Default::default(),
        progress: Default::default(),
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

/// Edits live: write to query answer through the real watcher on the sample mesh and a 1,000-product mesh with five
/// masked role databases, with the phases of each rebuild; reload cost at two mesh sizes; a soak of `edits` edits.
pub fn reload(runs: usize, edits: usize) -> anyhow::Result<String> {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let mut out = String::new();
    edits_live(&rt, runs, &mut out)?;
    reload_by_mesh_size(runs, &mut out)?;
    soak(edits, &mut out)?;
    Ok(out)
}

/// A mesh to edit: where it is, the CSV file to append to, and how a new line and the query that finds it look.
struct EditTarget {
    label: String,
    root: PathBuf,
    csv: PathBuf,
    /// The line for edit `n` (without its line ending) and the query counting it.
    edit: Box<dyn Fn(u64) -> anyhow::Result<(String, String)>>,
}

/// The bundled sample mesh, unpacked into `dir`: a line added to the 2,400-row stock levels.
fn sample_target(dir: &Path) -> anyhow::Result<EditTarget> {
    let root = crate::lifecycle::sample_mesh::unpack(dir)?;
    Ok(EditTarget {
        label: "sample mesh (12 products, 5 role databases), 2,400-row CSV".into(),
        csv: root.join("catalog/stock-levels/data/stock_levels.csv"),
        root,
        edit: Box::new(|n| {
            let sku = format!("SKU-BENCH-{n:05}");
            Ok((
                format!("2099-01-01,WH-BENCH,{sku},1,0"),
                format!("SELECT count(*) FROM catalog.stock_levels WHERE sku = '{sku}'"),
            ))
        }),
    })
}

/// A generated mesh of `products` products with [`crate::cli::bench_mesh::ROLES`]: a line added to the last
/// product, which no other product consumes (its last line with a new `id`).
fn synthetic_target(dir: &Path, products: usize) -> anyhow::Result<EditTarget> {
    let keys = crate::cli::bench_mesh::generate(dir, products, 50, 50)?;
    crate::cli::bench_mesh::add_roles(dir)?;
    let key = keys.last().expect("at least one product");
    let (schema, table) = crate::cli::bench_mesh::table_of(key);
    let csv = dir.join(key).join("data.csv");
    let file = csv.clone();
    Ok(EditTarget {
        label: format!("synthetic, {products} products, 5 masked role databases"),
        root: dir.to_path_buf(),
        csv,
        edit: Box::new(move |n| {
            let text = std::fs::read_to_string(&file)?;
            let last = text.lines().last().unwrap_or_default();
            let rest = last.split_once(',').map_or("", |(_, r)| r);
            let id = 10_000_000 + n;
            Ok((
                format!("{id},{rest}"),
                format!("SELECT count(*) FROM {schema}.{table} WHERE id = {id}"),
            ))
        }),
    })
}

/// Appends `line` with the file's own line ending (a CRLF file that gains an LF line is no longer one CSV dialect).
fn append_line(path: &Path, line: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let crlf = std::fs::read(path)?.ends_with(b"\r\n");
    let mut f = std::fs::OpenOptions::new().append(true).open(path)?;
    f.write_all(line.as_bytes())?;
    f.write_all(if crlf { b"\r\n" } else { b"\n" })
}

/// One edit's figures: write to answer, and the phases of the rebuild that made it visible.
struct Edit {
    visible_ms: f64,
    phases: crate::live::snapshot::Phases,
    reloaded: usize,
}

/// Part 1, edits live: each edit appends one line while the real watcher runs, then `POST /api/query` (as the
/// default role, as a user would) is asked until the line counts.
fn edits_live(rt: &tokio::runtime::Runtime, runs: usize, out: &mut String) -> anyhow::Result<()> {
    let (sample_dir, synthetic_dir) = (Scratch::new("edits-sample"), Scratch::new("edits-synthetic"));
    let targets = [sample_target(&sample_dir.0)?, synthetic_target(&synthetic_dir.0, 1000)?];
    let _ = writeln!(
        out,
        "### Edits live: one line appended → visible through `POST /api/query` (real watcher, default role, {runs} edits)\n\n\
         | mesh | p50 ms | p95 ms | max ms | products reloaded |\n|---|---|---|---|---|"
    );
    let mut phase_rows = String::new();
    for target in &targets {
        let edits = edit_while_watching(rt, target, runs)?;
        let visible: Vec<f64> = edits.iter().map(|e| e.visible_ms).collect();
        let _ = writeln!(
            out,
            "| {} | {:.0} | {:.0} | {:.0} | {} |",
            target.label,
            pct(&visible, 0.5),
            pct(&visible, 0.95),
            pct(&visible, 1.0),
            edits.iter().map(|e| e.reloaded).max().unwrap_or(0)
        );
        phase_rows.push_str(&phase_row(&target.label, &edits));
    }
    let _ = writeln!(
        out,
        "\nPhases, p50 ms (each rebuild's own timings, as `/api/status` reports them in `history[].phases`):\n\n\
         | mesh | watch wait | read | load + checks | of which checks | publish | references | policies | profiles | index | rebuild | visible − (wait + rebuild) |\n\
         |---|---|---|---|---|---|---|---|---|---|---|---|\n{phase_rows}"
    );
    Ok(())
}

fn phase_row(label: &str, edits: &[Edit]) -> String {
    let p50 = |f: &dyn Fn(&Edit) -> f64| pct(&edits.iter().map(f).collect::<Vec<_>>(), 0.5);
    format!(
        "| {label} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} |\n",
        p50(&|e| e.phases.watch_wait_ms),
        p50(&|e| e.phases.build.read_ms),
        p50(&|e| e.phases.build.load_ms),
        p50(&|e| e.phases.build.checks_ms),
        p50(&|e| e.phases.build.publish_ms),
        p50(&|e| e.phases.build.references_ms),
        p50(&|e| e.phases.build.policies_ms),
        p50(&|e| e.phases.profiles_ms),
        p50(&|e| e.phases.index_ms),
        p50(&|e| e.phases.rebuild_ms),
        p50(&|e| e.visible_ms - e.phases.watch_wait_ms - e.phases.rebuild_ms),
    )
}

/// Opens `target` as `meshbox serve` does (a state folder, the real watcher) and makes `runs` edits, one at a time.
fn edit_while_watching(rt: &tokio::runtime::Runtime, target: &EditTarget, runs: usize) -> anyhow::Result<Vec<Edit>> {
    let scratch = Scratch::new("edits-db");
    let mut opts = options(&scratch.0);
    opts.state_dir = Some(scratch.0.join("state"));
    let mesh = Arc::new(Mesh::open(&std::fs::canonicalize(&target.root)?, opts, 60_000)?);
    let app = router(mesh.clone());
    let _watcher = crate::live::watch::spawn(mesh.clone(), Default::default())?;
    let mut edits = Vec::with_capacity(runs);
    for n in 1..=runs as u64 {
        let generation = mesh.snapshot().generation;
        let (line, sql) = (target.edit)(n)?;
        let written = Instant::now();
        append_line(&target.csv, &line)?;
        rt.block_on(until_counted(&app, &sql))?;
        let visible_ms = written.elapsed().as_secs_f64() * 1000.0;
        let change = rt.block_on(rebuilt_after(&mesh, generation))?;
        edits.push(Edit {
            visible_ms,
            phases: change.phases,
            reloaded: change.reloaded.len(),
        });
        // Let the rebuild's aftermath (memory handed back) pass before the next edit.
        std::thread::sleep(Duration::from_millis(200));
    }
    Ok(edits)
}

/// Asks `sql` (a count) until it answers 1, for at most 30 s.
async fn until_counted(app: &axum::Router, sql: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let answer = query(app, sql).await;
        if answer["rows"][0][0] == serde_json::json!(1) {
            return Ok(());
        }
        if Instant::now() > deadline {
            anyhow::bail!("the new line is not visible after 30 s: {answer}");
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// The history entry of the first rebuild after `generation` (the rebuild that published the edit; its entry is
/// written just after its databases).
async fn rebuilt_after(mesh: &Mesh, generation: u64) -> anyhow::Result<crate::live::snapshot::Change> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let history = mesh.history();
        if let Some(c) = history
            .iter()
            .rev()
            .find(|c| c.generation > generation && c.error.is_none())
        {
            return Ok(c.clone());
        }
        if Instant::now() > deadline {
            anyhow::bail!("no rebuild after generation {generation} within 30 s");
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
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

/// The soak alone: `meshbox bench soak`.
pub fn soak_only(edits: usize) -> anyhow::Result<String> {
    let mut out = String::new();
    soak(edits, &mut out)?;
    Ok(out)
}

/// Soak (part 3 of `reload`): memory and open files over `edits` edits on a 20-product mesh, sampled every 100
/// edits (every tenth of them when fewer than 1,000), with the growth after warm-up (from edit 500).
fn soak(edits: usize, out: &mut String) -> anyhow::Result<()> {
    let dir = Scratch::new("soak");
    let keys = crate::cli::bench_mesh::generate(&dir.0, 20, 4, 200)?;
    let scratch = Scratch::new("soak-db");
    let mesh = Mesh::open(&std::fs::canonicalize(&dir.0)?, options(&scratch.0), 60_000)?;
    let every = if edits >= 1000 { 100 } else { (edits / 10).max(1) };
    let mut samples = Vec::new();
    for i in 0..edits {
        let csv = dir.0.join(&keys[i % keys.len()]).join("data.csv");
        let mut text = std::fs::read_to_string(&csv)?;
        let first = text.lines().nth(1).unwrap_or_default().to_string();
        text.push_str(&first);
        text.push('\n');
        std::fs::write(&csv, text)?;
        mesh.rebuild().map_err(anyhow::Error::msg)?;
        if (i + 1) % every == 0 {
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
    let warm = samples.iter().find(|s| s.0 >= 500).or(samples.first());
    if let (Some(first), Some(last)) = (warm, samples.last()) {
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
