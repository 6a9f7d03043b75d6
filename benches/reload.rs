//! The live folder's costs: latency from a file's last write to the new data answering a query (through the real
//! watcher), the cost of a reload as the mesh grows, and a soak of 1,000 edits (memory and file descriptors).
//!
//!   cargo bench --bench reload            # prints Markdown tables (recorded in BENCHMARKS.md)

#[path = "support/synthetic.rs"]
mod synthetic;

use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use meshbox::snapshot::{Event, Mesh};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tower::ServiceExt;

fn options(scratch: &Path) -> meshbox::pipeline::Options {
    meshbox::pipeline::Options {
        engine: meshbox::ingest::EngineSettings {
            threads: None,
            memory_limit: None,
            temp_dir: scratch.join("tmp"),
        },
        server: None,
        allow_outside_root: false,
        now_micros: None,
        profiles: true,
        ignore: Vec::new(),
    }
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[((v.len() as f64 - 1.0) * p).round() as usize]
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

fn big_csv(path: &Path, rows: usize, marker: u64) {
    let mut s = String::with_capacity(rows * 40);
    s.push_str("id,col_1,col_2\n");
    for i in 0..rows {
        s.push_str(&format!("{i},{marker},row-{i}\n"));
    }
    std::fs::write(path, s).unwrap();
}

async fn answer(app: &axum::Router, sql: &str) -> serde_json::Value {
    let body = serde_json::json!({ "sql": sql }).to_string();
    let res = app
        .clone()
        .oneshot(Request::post("/api/query").body(Body::from(body)).unwrap())
        .await
        .unwrap();
    serde_json::from_slice(&res.into_body().collect().await.unwrap().to_bytes()).unwrap()
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let runs: usize = std::env::var("RELOAD_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);

    // 1. Write-to-query latency: a 100k-row CSV product in a 50-product mesh, through the watcher.
    let dir = tempfile::tempdir().unwrap();
    let keys = synthetic::generate(dir.path(), 50, 10, 50);
    let big = dir.path().join(&keys[0]).join("data.csv");
    let contract = dir
        .path()
        .join(&keys[0])
        .join(format!("{}.odcs.yaml", keys[0].split('/').nth(1).unwrap()));
    // Make the first product a 3-column table with 100k rows.
    let text = std::fs::read_to_string(&contract).unwrap();
    let table = text
        .lines()
        .find_map(|l| l.strip_prefix("  - name: "))
        .unwrap()
        .to_string();
    std::fs::write(
        &contract,
        format!(
            "apiVersion: v3.1.0\nkind: DataContract\nid: urn:synthetic:0\nversion: 1.0.0\nstatus: active\nschema:\n  - name: {table}\n    properties:\n      - name: id\n        logicalType: integer\n      - name: col_1\n        logicalType: integer\n      - name: col_2\n        logicalType: string\nservers:\n  - server: local\n    type: local\n    format: csv\n    path: data.csv\n"
        ),
    )
    .unwrap();
    big_csv(&big, 100_000, 0);
    let scratch = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap();
    let mesh = Arc::new(Mesh::open(&root, options(scratch.path()), 60_000).unwrap());
    let domain = keys[0].split('/').next().unwrap().to_string();
    let limits = meshbox::query::Limits {
        time_limit: Duration::from_secs(10),
        max_rows: 10,
    };
    let app = meshbox::http::router(meshbox::http::AppState::new(mesh.clone(), limits, 1 << 20));
    let _watcher = meshbox::watch::spawn(mesh.clone(), Default::default()).unwrap();
    let sql = format!("SELECT max(col_1) FROM {domain}.{table}");
    let mut latencies = Vec::new();
    let mut rebuilds = Vec::new();
    for i in 1..=runs as u64 {
        let mut rx = mesh.events.subscribe();
        big_csv(&big, 100_000, i);
        let written = Instant::now();
        rt.block_on(async {
            loop {
                if let Ok(Event::Snapshot { .. }) = rx.recv().await {
                    let v = answer(&app, &sql).await;
                    if v["rows"][0][0] == serde_json::json!(i) {
                        break;
                    }
                }
            }
        });
        latencies.push(written.elapsed().as_secs_f64() * 1000.0);
        rebuilds.push(mesh.snapshot().reload.took_ms);
    }
    println!("### Write → query latency (100k-row CSV product, 50-product mesh, {runs} edits, native watcher)\n");
    println!("| | p50 ms | p95 ms |\n|---|---|---|");
    println!(
        "| last write → new data answers `/api/query` | {:.0} | {:.0} |",
        pct(&mut latencies.clone(), 0.5),
        pct(&mut latencies, 0.95)
    );
    println!(
        "| of which the rebuild itself | {:.0} | {:.0} |\n",
        pct(&mut rebuilds.clone(), 0.5),
        pct(&mut rebuilds, 0.95)
    );
    drop(_watcher);

    // 2. Reload cost as the mesh grows: touch one product's data, rebuild.
    println!("### Reload cost of one changed product\n");
    println!(
        "| mesh | cold start s | reload of one product: median ms | p95 ms | products reloaded |\n|---|---|---|---|---|"
    );
    for size in [10usize, 1000] {
        let dir = tempfile::tempdir().unwrap();
        let keys = synthetic::generate(dir.path(), size, (size / 20).max(2), 50);
        let scratch = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        let started = Instant::now();
        let mesh = Mesh::open(&root, options(scratch.path()), 60_000).unwrap();
        let cold = started.elapsed().as_secs_f64();
        let csv = dir.path().join(&keys[size / 2]).join("data.csv");
        let original = std::fs::read_to_string(&csv).unwrap();
        let mut times = Vec::new();
        let mut touched = 0;
        for i in 0..runs {
            // Append a copy of the first data row (same columns and types), so the product really changes.
            let mut text = original.clone();
            for _ in 0..=i {
                text.push_str(original.lines().nth(1).unwrap());
                text.push('\n');
            }
            std::fs::write(&csv, text).unwrap();
            let next = mesh.rebuild().unwrap();
            times.push(next.reload.took_ms);
            touched = next.reload.reloaded.len();
        }
        println!(
            "| {size} products | {cold:.2} | {:.1} | {:.1} | {touched} |",
            pct(&mut times.clone(), 0.5),
            pct(&mut times, 0.95)
        );
    }

    // 3. Soak: 1,000 edits of a 20-product mesh (rebuild after each), memory and descriptors sampled every 100.
    let edits: usize = std::env::var("SOAK_EDITS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let dir = tempfile::tempdir().unwrap();
    let keys = synthetic::generate(dir.path(), 20, 4, 200);
    let scratch = tempfile::tempdir().unwrap();
    let mesh = Mesh::open(
        &std::fs::canonicalize(dir.path()).unwrap(),
        options(scratch.path()),
        60_000,
    )
    .unwrap();
    let mut samples = Vec::new();
    for i in 0..edits {
        let csv = dir.path().join(&keys[i % keys.len()]).join("data.csv");
        let mut text = std::fs::read_to_string(&csv).unwrap();
        let first = text.lines().nth(1).unwrap().to_string();
        text.push_str(&first);
        text.push('\n');
        std::fs::write(&csv, text).unwrap();
        mesh.rebuild().unwrap();
        if (i + 1) % 100 == 0 {
            samples.push((i + 1, rss_kib(), open_fds()));
        }
    }
    println!("\n### Soak: {edits} edits on a 20-product mesh\n");
    println!("| edits | RSS MiB | open fds |\n|---|---|---|");
    for (n, rss, fds) in &samples {
        println!("| {n} | {:.1} | {fds} |", *rss as f64 / 1024.0);
    }
    let (first, last) = (samples[0].1 as f64, samples.last().unwrap().1 as f64);
    println!(
        "\nRSS change from edit 100 to edit {edits}: {:+.1} %",
        (last - first) / first * 100.0
    );
}
