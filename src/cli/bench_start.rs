//! `meshbox bench start`: how long `meshbox serve` takes from process start to its first answer and to a loaded
//! catalog, per phase, with its memory — side by side in one run with the floor: the same data files read into one
//! DuckDB by `read_csv`/`read_parquet`/`read_json`, one statement per file, in one process.

use crate::cli::bench::Scratch;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// One `meshbox serve` from process start until its catalog answered.
#[derive(Debug, Clone, Default)]
struct Start {
    /// Until the first HTTP answer (the loading page).
    first_answer_s: f64,
    /// Until `/api/products` answered 200.
    ready_s: f64,
    /// The first load's phases, from `/api/status`.
    phases: serde_json::Value,
    /// Resident memory once loaded, and its peak, MiB.
    rss_mib: f64,
    peak_rss_mib: f64,
}

/// Cold start of the sample mesh and a synthetic mesh of `products` products, `runs` times each, with the floor:
/// for each of `binaries` (this one when empty), interleaved.
pub fn start(sample: &Path, products: usize, runs: usize, binaries: &[PathBuf]) -> anyhow::Result<String> {
    let binaries = match binaries {
        [] => vec![std::env::current_exe()?],
        some => some.to_vec(),
    };
    let synthetic = Scratch::new("start");
    crate::cli::bench_mesh::generate(&synthetic.0, products, 50, 50)?;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| mesh | binary | data files | floor: DuckDB `read_*` per file, s | meshbox first answer, s | meshbox catalog ready, s | × floor | \
         read | load + checks | checks (thread-sum) | publish | policies | search | RSS MiB | peak RSS MiB |\n\
         |---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    );
    for (label, root) in [
        ("sample mesh".to_string(), sample.to_path_buf()),
        (format!("synthetic, {products} products × 50 rows"), synthetic.0.clone()),
    ] {
        let root = std::fs::canonicalize(&root)?;
        let files = data_files(&root);
        let mut floors = Vec::new();
        let mut starts: Vec<Vec<Start>> = vec![Vec::new(); binaries.len()];
        // Interleaved, so that every binary and the floor see the same machine.
        for _ in 0..runs {
            floors.push(floor(&files)?);
            for (bin, found) in binaries.iter().zip(starts.iter_mut()) {
                found.push(cold_start(bin, &root)?);
            }
        }
        let floor_s = median(floors.iter().copied());
        for (bin, found) in binaries.iter().zip(&starts) {
            let name = bin
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            out.push_str(&row(&label, &name, files.len(), floor_s, found));
        }
    }
    let _ = writeln!(
        out,
        "\nMedians of {runs} runs, meshbox and the floor interleaved; phases (seconds) and memory of the run closest to \
         the median. Role databases are built when a role first asks for data, not at start."
    );
    Ok(out)
}

/// One table row: the medians of `starts` against the floor, phases and memory of the run closest to the median.
fn row(label: &str, binary: &str, files: usize, floor_s: f64, starts: &[Start]) -> String {
    let ready_s = median(starts.iter().map(|s| s.ready_s));
    let first_s = median(starts.iter().map(|s| s.first_answer_s));
    let middle = starts
        .iter()
        .min_by(|a, b| (a.ready_s - ready_s).abs().total_cmp(&(b.ready_s - ready_s).abs()))
        .cloned()
        .unwrap_or_default();
    let phase = |name: &str| {
        let ms = middle.phases[name].as_f64().unwrap_or(0.0);
        format!("{:.2}", ms / 1000.0)
    };
    format!(
        "| {label} | {binary} | {files} | {floor_s:.2} | {first_s:.3} | {ready_s:.2} | {:.1} | {} | {} | {} | {} | {} | {} | {:.0} | {:.0} |\n",
        ready_s / floor_s,
        phase("read_ms"),
        phase("load_ms"),
        phase("checks_ms"),
        phase("publish_ms"),
        phase("policies_ms"),
        phase("index_ms"),
        middle.rss_mib,
        middle.peak_rss_mib,
    )
}

fn median(values: impl Iterator<Item = f64>) -> f64 {
    let mut v: Vec<f64> = values.collect();
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

/// Every data file of the mesh, in path order.
fn data_files(root: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if reader_of(&path).is_some() {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

fn reader_of(path: &Path) -> Option<&'static str> {
    match path.extension()?.to_str()? {
        "csv" => Some("read_csv"),
        "parquet" => Some("read_parquet"),
        "json" | "jsonl" | "ndjson" => Some("read_json"),
        _ => None,
    }
}

/// The floor: one in-memory DuckDB (meshbox's own build) reading each file into a table, one statement per file.
/// Returns seconds.
fn floor(files: &[PathBuf]) -> anyhow::Result<f64> {
    let started = Instant::now();
    let conn = duckdb::Connection::open_in_memory()?;
    for (i, f) in files.iter().enumerate() {
        let reader = reader_of(f).expect("only data files are listed");
        let path = crate::base::sql::quote_literal(&f.to_string_lossy());
        // A broken file (the sample mesh has one on purpose) costs the floor its failed read, as it costs meshbox.
        let _ = conn.execute_batch(&format!("CREATE TABLE t{i} AS SELECT * FROM {reader}({path})"));
    }
    Ok(started.elapsed().as_secs_f64())
}

/// Starts `binary serve` on `root` and measures until its catalog answers.
fn cold_start(binary: &Path, root: &Path) -> anyhow::Result<Start> {
    let state = Scratch::new("start-state");
    let started = Instant::now();
    let mut child = Command::new(binary)
        .args(["serve", "--port", "0", "--no-watch", "--no-pg", "--state-dir"])
        .arg(&state.0)
        .arg(root)
        .env("MESHBOX_CACHE_DIR", state.0.join("cache"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let measured = measure(&mut child, started);
    let _ = child.kill();
    let _ = child.wait();
    measured
}

fn measure(child: &mut Child, started: Instant) -> anyhow::Result<Start> {
    let port = port_from_banner(child)?;
    let mut start = Start::default();
    loop {
        match get(port, "/api/products") {
            Ok((200, _)) => break,
            Ok(_) if start.first_answer_s == 0.0 => start.first_answer_s = started.elapsed().as_secs_f64(),
            _ => {}
        }
        if started.elapsed() > Duration::from_secs(600) {
            anyhow::bail!("meshbox serve did not load the mesh within 10 minutes");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    start.ready_s = started.elapsed().as_secs_f64();
    if start.first_answer_s == 0.0 {
        start.first_answer_s = start.ready_s;
    }
    let (_, status) = get(port, "/api/status")?;
    let status: serde_json::Value = serde_json::from_str(&status)?;
    start.phases = status["history"][0]["phases"].clone();
    let memory = |field: &str| -> f64 {
        let text = std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap_or_default();
        let kib: f64 = text
            .lines()
            .find(|l| l.starts_with(field))
            .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
            .unwrap_or(0.0);
        kib / 1024.0
    };
    start.rss_mib = memory("VmRSS:");
    start.peak_rss_mib = memory("VmHWM:");
    Ok(start)
}

/// The port of the first banner line, `meshbox is serving … at http://127.0.0.1:PORT/`.
fn port_from_banner(child: &mut Child) -> anyhow::Result<u16> {
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| anyhow::anyhow!("no standard output"))?;
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    line.trim_end()
        .trim_end_matches('/')
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no port in the banner `{}`", line.trim_end()))
}

/// `GET path` on the local port: status code and body.
fn get(port: u16, path: &str) -> std::io::Result<(u16, String)> {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok((status, dechunk(&body)))
}

/// A chunked body, joined (hyper sends JSON of unknown length chunked).
fn dechunk(body: &str) -> String {
    let mut out = String::new();
    let mut rest = body;
    while let Some((size, after)) = rest.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            return body.to_string();
        };
        if n == 0 || after.len() < n {
            break;
        }
        out.push_str(&after[..n]);
        rest = after[n..].trim_start_matches("\r\n");
    }
    if out.is_empty() { body.to_string() } else { out }
}
