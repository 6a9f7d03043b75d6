//! Server-side render times of the catalog pages, in-process (no network), on the sample mesh and on a generated
//! 1,000-product mesh: cold start to first answer, then p50/p95 of home, product and problems pages.
//!
//!   cargo bench --bench render            # prints a Markdown table (recorded in BENCHMARKS.md)
//!   RENDER_PRODUCTS=200 cargo bench --bench render

#[path = "support/synthetic.rs"]
mod synthetic;

use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
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

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

async fn time_page(app: &axum::Router, uri: &str, runs: usize) -> (f64, f64, usize) {
    let mut times = Vec::with_capacity(runs);
    let mut bytes = 0;
    for _ in 0..runs {
        let started = Instant::now();
        let res = app
            .clone()
            .oneshot(Request::get(uri).body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert!(res.status().is_success(), "{uri}: {}", res.status());
        bytes = res.into_body().collect().await.unwrap().to_bytes().len();
        times.push(started.elapsed());
    }
    times.sort();
    (percentile(&times, 0.5), percentile(&times, 0.95), bytes)
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let runs: usize = std::env::var("RENDER_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let products: usize = std::env::var("RENDER_PRODUCTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let synthetic_dir = tempfile::tempdir().unwrap();
    synthetic::generate(synthetic_dir.path(), products, 50, 50);
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-mesh");
    println!("| mesh | cold start (load + test + serve) | page | p50 ms | p95 ms | bytes |");
    println!("|---|---|---|---|---|---|");
    for (label, root) in [
        ("sample mesh (12 products)".to_string(), sample),
        (
            format!("synthetic ({products} products)"),
            synthetic_dir.path().to_path_buf(),
        ),
    ] {
        let scratch = tempfile::tempdir().unwrap();
        let started = Instant::now();
        let mesh = Arc::new(
            meshbox::snapshot::Mesh::open(&std::fs::canonicalize(&root).unwrap(), options(scratch.path()), 60_000)
                .unwrap(),
        );
        let cold = started.elapsed();
        let snapshot = mesh.snapshot();
        let product = snapshot.catalog.products.iter().find(|p| !p.tables.is_empty()).unwrap();
        let product_uri = format!("/products/{}/{}", product.domain, product.name);
        let limits = meshbox::query::Limits {
            time_limit: Duration::from_secs(5),
            max_rows: 1000,
        };
        let app = meshbox::http::router(meshbox::http::AppState::new(mesh.clone(), limits, 1 << 20));
        for uri in ["/", product_uri.as_str(), "/problems", "/api/products"] {
            let (p50, p95, bytes) = rt.block_on(time_page(&app, uri, runs));
            println!(
                "| {label} | {:.2} s | `{uri}` | {p50:.2} | {p95:.2} | {bytes} |",
                cold.as_secs_f64()
            );
        }
    }
}
