//! End to end in headless Chromium (driven through chromedriver): a first visit finds a product, opens its example
//! query in the console, runs it, cancels a long query and exports a CSV. Screenshots of each step are kept in
//! `$CARGO_TARGET_DIR/e2e-screenshots/` (or `target/e2e-screenshots/`). These tests fail, never skip, when
//! Chromium or chromedriver is missing, with one message naming the packages: `.ci/run` installs them, and
//! `cargo test -- --skip browser` runs everything else.

use crate::common::{copy_fixture, options};
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The first of `names` that is installed: an absolute path that exists, or a name found on `PATH`.
fn find_binary(names: &[&str]) -> Option<PathBuf> {
    names.iter().find_map(|name| {
        let direct = Path::new(name);
        if direct.is_absolute() {
            return direct.is_file().then(|| direct.to_path_buf());
        }
        let paths = std::env::var_os("PATH")?;
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    })
}

/// The browser and its driver, both installed.
struct Tools {
    chromium: PathBuf,
    chromedriver: PathBuf,
}

/// Finds Chromium and chromedriver, or fails the test with the one message that says what to install. Called first
/// in every browser test, before anything else is set up.
fn installed_tools() -> Tools {
    let chromium = find_binary(&["chromium", "/usr/bin/chromium", "chromium-browser", "google-chrome"]);
    let chromedriver = find_binary(&[
        "chromedriver",
        "/usr/bin/chromedriver",
        "/usr/lib/chromium/chromedriver",
    ]);
    match (chromium, chromedriver) {
        (Some(chromium), Some(chromedriver)) => Tools { chromium, chromedriver },
        (chromium, chromedriver) => {
            let missing: Vec<&str> = [
                ("Chromium", chromium.is_none()),
                ("chromedriver", chromedriver.is_none()),
            ]
            .into_iter()
            .filter_map(|(name, gone)| gone.then_some(name))
            .collect();
            panic!(
                "the browser tests need Chromium and chromedriver; missing: {}. Install them with \
                 `apt-get install chromium chromium-driver` (Debian/Ubuntu), or run every other test with \
                 `cargo test -- --skip browser`",
                missing.join(", ")
            )
        }
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// chromedriver, stopped when dropped.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn start_driver(tools: &Tools) -> (Driver, u16) {
    let port = free_port();
    let child = Command::new(&tools.chromedriver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", tools.chromedriver.display()));
    let driver = Driver(child);
    // Ready when it accepts connections (bounded wait, not a blind sleep).
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (driver, port)
}

async fn browser(tools: &Tools, port: u16, downloads: &Path) -> Client {
    let chromium = &tools.chromium;
    let caps: serde_json::Map<String, serde_json::Value> = serde_json::from_value(serde_json::json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": chromium,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1280,1000",
            ],
            "prefs": {
                "download.default_directory": downloads,
                "download.prompt_for_download": false,
            }
        }
    }))
    .unwrap();
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("connecting to chromedriver")
}

fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    let dir = target.join("e2e-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn shot(c: &Client, name: &str) {
    let png = c.screenshot().await.unwrap();
    std::fs::write(screenshot_dir().join(format!("{name}.png")), png).unwrap();
}

/// Serves a copy of the basic fixture on a free port; returns the base URL.
async fn start_meshbox(dir: &Path, scratch: &Path) -> String {
    let root = std::fs::canonicalize(dir).unwrap();
    let opts = options(scratch);
    let mesh = tokio::task::spawn_blocking(move || meshbox::live::snapshot::Mesh::open(&root, opts, 120_000))
        .await
        .unwrap()
        .unwrap();
    let limits = meshbox::serve::query::Limits {
        time_limit: Duration::from_secs(60),
        max_rows: 1000,
    };
    let app = meshbox::serve::http::router(meshbox::serve::http::AppState::new(Arc::new(mesh), limits, 64 * 1024));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = meshbox::serve::http::serve(listener, app).await;
    });
    format!("http://{addr}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_visit_finds_a_product_queries_it_cancels_and_exports() {
    let tools = installed_tools();
    let dir = copy_fixture("basic");
    let scratch = tempfile::tempdir().unwrap();
    let downloads = tempfile::tempdir().unwrap();
    let base = start_meshbox(dir.path(), scratch.path()).await;
    let (_driver, port) = start_driver(&tools).await;
    let c = browser(&tools, port, downloads.path()).await;
    let wait = Duration::from_secs(30);

    // Home: the mesh at a glance, then into a product.
    c.goto(&base).await.unwrap();
    let title = c.find(Locator::Css("main h1")).await.unwrap().text().await.unwrap();
    assert_eq!(title, "Basic fixture");
    shot(&c, "01-home").await;
    c.find(Locator::LinkText("Shop orders"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .at_most(wait)
        .for_element(Locator::Css("#scorecard"))
        .await
        .unwrap();
    let heading = c.find(Locator::Css("main h1")).await.unwrap().text().await.unwrap();
    assert_eq!(heading, "Shop orders");
    shot(&c, "02-product").await;

    // The example query opens in the console and runs by itself.
    c.find(Locator::LinkText("Open in console"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .at_most(wait)
        .for_element(Locator::Css("#results tbody tr"))
        .await
        .unwrap();
    let rows = c.find_all(Locator::Css("#results tbody tr")).await.unwrap();
    assert_eq!(rows.len(), 3);
    let meta = c
        .find(Locator::Css("#result-meta"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(meta.starts_with("3 rows"), "{meta}");
    shot(&c, "03-console-results").await;

    // Ctrl+Enter runs what is typed.
    let editor = c.find(Locator::Css("#sql")).await.unwrap();
    editor.clear().await.unwrap();
    editor.send_keys("SELECT 40 + 2 AS answer").await.unwrap();
    editor
        .send_keys(&format!("{}{}", char::from(Key::Control), char::from(Key::Enter)))
        .await
        .unwrap();
    c.wait()
        .at_most(wait)
        .for_element(Locator::XPath("//table[@id='results']//td[text()='42']"))
        .await
        .unwrap();

    // A long query is cancelled by the button and says so.
    editor.clear().await.unwrap();
    editor
        .send_keys("SELECT count(*) FROM range(10000000000) a, range(1000) b")
        .await
        .unwrap();
    c.find(Locator::Css("#run")).await.unwrap().click().await.unwrap();
    let cancel = c.find(Locator::Css("#cancel")).await.unwrap();
    let deadline = Instant::now() + wait;
    while cancel.attr("disabled").await.unwrap().is_some() {
        assert!(Instant::now() < deadline, "the query never started");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let started = Instant::now();
    cancel.click().await.unwrap();
    let error = c
        .wait()
        .at_most(wait)
        .for_element(Locator::Css("#query-error:not([hidden])"))
        .await
        .unwrap();
    assert!(error.text().await.unwrap().contains("cancelled"));
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "cancel took {:?}",
        started.elapsed()
    );
    shot(&c, "04-cancelled").await;

    // Export the result as CSV: the browser downloads it.
    editor.clear().await.unwrap();
    editor
        .send_keys("SELECT order_id, amount FROM shop.orders ORDER BY order_id")
        .await
        .unwrap();
    c.find(Locator::Css("#export-csv"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let file = downloads.path().join("query.csv");
    let deadline = Instant::now() + wait;
    while !file.exists() {
        if Instant::now() > deadline {
            shot(&c, "99-no-download").await;
            let url = c.current_url().await.unwrap();
            let src = c.source().await.unwrap();
            panic!(
                "no download in {:?}; page {url}: {}",
                std::fs::read_dir(downloads.path()).unwrap().collect::<Vec<_>>(),
                &src[..src.len().min(600)]
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "order_id,amount\n1,19.99\n2,5.00\n3,42.50\n"
    );

    // The history remembers what ran.
    c.goto(&format!("{base}/sql")).await.unwrap();
    // console.js fills the list from local storage once the page has loaded: wait for it.
    c.wait()
        .at_most(wait)
        .for_element(Locator::Css("#history li:nth-child(2)"))
        .await
        .unwrap();
    let mut history = Vec::new();
    for li in c.find_all(Locator::Css("#history li")).await.unwrap() {
        // The list may sit in a closed <details>: read what it holds, not what is on screen.
        history.push(li.prop("textContent").await.unwrap().unwrap_or_default());
    }
    assert_eq!(
        history.get(..2),
        Some(
            &[
                "SELECT count(*) FROM range(10000000000) a, range(1000) b".to_string(),
                "SELECT 40 + 2 AS answer".to_string()
            ][..]
        ),
        "newest first: {history:?}"
    );
    shot(&c, "05-history").await;
    c.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_edit_shows_over_the_page_and_a_fix_refreshes_it() {
    let tools = installed_tools();
    let dir = copy_fixture("basic");
    let scratch = tempfile::tempdir().unwrap();
    let downloads = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap();
    let opts = options(scratch.path());
    let mesh = Arc::new(
        tokio::task::spawn_blocking(move || meshbox::live::snapshot::Mesh::open(&root, opts, 60_000))
            .await
            .unwrap()
            .unwrap(),
    );
    let _watcher = meshbox::live::watch::spawn(mesh.clone(), Default::default()).unwrap();
    let limits = meshbox::serve::query::Limits {
        time_limit: Duration::from_secs(10),
        max_rows: 100,
    };
    let app = meshbox::serve::http::router(meshbox::serve::http::AppState::new(mesh.clone(), limits, 64 * 1024));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = meshbox::serve::http::serve(listener, app).await;
    });
    let (_driver, port) = start_driver(&tools).await;
    let c = browser(&tools, port, downloads.path()).await;
    c.goto(&format!("{base}/products/shop/orders")).await.unwrap();
    c.wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css("#scorecard"))
        .await
        .unwrap();

    // Break the product: the page refreshes itself and shows it stale, still serving.
    let contract = dir.path().join("shop/orders/orders.odcs.yaml");
    let good = std::fs::read_to_string(&contract).unwrap();
    std::fs::write(&contract, good.replace("schema:", "schema: [")).unwrap();
    c.wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css(".card.stale"))
        .await
        .unwrap();
    shot(&c, "06-stale").await;

    // Fix it: the stale banner goes away by itself.
    std::fs::write(&contract, good).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while c.find(Locator::Css(".card.stale")).await.is_ok() {
        assert!(Instant::now() < deadline, "the page did not refresh after the fix");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    shot(&c, "07-fixed").await;
    c.close().await.unwrap();
}

/// Runs `sql` in the console and returns the first cell of the result.
async fn first_cell(c: &Client, sql: &str) -> String {
    let editor = c.find(Locator::Css("#sql")).await.unwrap();
    editor.clear().await.unwrap();
    editor.send_keys(sql).await.unwrap();
    c.find(Locator::Css("#run")).await.unwrap().click().await.unwrap();
    let cell = c
        .wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css("#results tbody tr td"))
        .await
        .unwrap();
    cell.text().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_role_switcher_changes_what_the_console_returns() {
    let tools = installed_tools();
    let dir = copy_fixture("governed");
    let scratch = tempfile::tempdir().unwrap();
    let downloads = tempfile::tempdir().unwrap();
    let base = start_meshbox(dir.path(), scratch.path()).await;
    let (_driver, port) = start_driver(&tools).await;
    let c = browser(&tools, port, downloads.path()).await;
    c.goto(&format!("{base}/sql")).await.unwrap();
    let note = c
        .find(Locator::Css(".sandbox-note"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(note, "sandbox: roles are chosen, not authenticated");
    let sql = "SELECT name FROM crm.customers ORDER BY id LIMIT 1";
    assert_eq!(
        first_cell(&c, sql).await,
        "A•••",
        "the default role is the least privileged"
    );
    assert!(
        c.find(Locator::LinkText("Audit")).await.is_err(),
        "no audit link for viewer"
    );
    shot(&c, "06-console-as-viewer").await;
    // Picking another role submits the switcher and comes back to the same page.
    c.find(Locator::Css("#role-select option[value='admin']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::LinkText("Audit"))
        .await
        .unwrap();
    assert!(c.current_url().await.unwrap().as_str().ends_with("/sql"));
    assert_eq!(first_cell(&c, sql).await, "Ada Lovelace");
    shot(&c, "07-console-as-admin").await;
    // The audit page lists both queries with their roles.
    c.goto(&format!("{base}/audit")).await.unwrap();
    let roles: Vec<String> = {
        let mut out = Vec::new();
        for row in c
            .find_all(Locator::Css("table.audit tbody tr td:nth-child(2)"))
            .await
            .unwrap()
        {
            out.push(row.text().await.unwrap());
        }
        out
    };
    assert_eq!(roles, ["admin", "viewer"]);
    shot(&c, "08-audit").await;
    c.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_results_follow_the_typing() {
    let tools = installed_tools();
    let dir = copy_fixture("governed");
    let scratch = tempfile::tempdir().unwrap();
    let downloads = tempfile::tempdir().unwrap();
    let base = start_meshbox(dir.path(), scratch.path()).await;
    let (_driver, port) = start_driver(&tools).await;
    let c = browser(&tools, port, downloads.path()).await;
    // The box in the header leads to the search page.
    c.goto(&base).await.unwrap();
    let header_box = c.find(Locator::Css("#search-q")).await.unwrap();
    header_box.send_keys("salar").await.unwrap();
    header_box.send_keys(&char::from(Key::Enter).to_string()).await.unwrap();
    let first = c
        .wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css("#hits li.hit a.title"))
        .await
        .unwrap();
    assert_eq!(first.text().await.unwrap(), "Salaries");
    // Typing on the search page updates the results without a page load (a typo included).
    let input = c.find(Locator::Css("#search-main")).await.unwrap();
    input.clear().await.unwrap();
    input.send_keys("custmers").await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let titles = c.find_all(Locator::Css("#hits li.hit a.title")).await.unwrap();
        let first = match titles.first() {
            Some(t) => t.text().await.unwrap_or_default(),
            None => String::new(),
        };
        if first == "Customers" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the results never showed Customers (first: {first:?})"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let marked = c.find(Locator::Css("#hits li.hit ul.why mark")).await.unwrap();
    assert_eq!(marked.text().await.unwrap().to_lowercase(), "customers");
    assert!(c.current_url().await.unwrap().as_str().contains("q=custmers"));
    shot(&c, "09-search").await;
    c.close().await.unwrap();
}
