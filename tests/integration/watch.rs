//! The live folder against a real watcher on a temporary copy: every case waits on snapshot events, never on sleeps.

use crate::common::{Served, copy_fixture, get_json, query, serve, write};
use meshbox::live::snapshot::{Event, Snapshot};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::Receiver;

/// Waits until a new snapshot satisfies `done` (or 30 s pass); returns it and how many snapshots it took.
async fn until(s: &Served, rx: &mut Receiver<Event>, done: impl Fn(&Snapshot) -> bool) -> (Arc<Snapshot>, usize) {
    let mut seen = 0;
    let wait = async {
        loop {
            match rx.recv().await {
                Ok(Event::Snapshot { .. }) => {
                    seen += 1;
                    let snap = s.mesh.snapshot();
                    eprintln!(
                        "snapshot {} reloaded {:?} removed {:?}",
                        snap.generation, snap.reload.reloaded, snap.reload.removed
                    );
                    for p in snap
                        .catalog
                        .products
                        .iter()
                        .filter(|p| snap.reload.reloaded.contains(&p.key()))
                    {
                        eprintln!(
                            "  {} {:?} tables={:?} diags={:?}",
                            p.key(),
                            p.status,
                            p.tables.iter().map(|t| t.row_count).collect::<Vec<_>>(),
                            p.diagnostics.iter().map(|d| d.to_string()).collect::<Vec<_>>()
                        );
                    }
                    if done(&snap) {
                        return snap;
                    }
                }
                Ok(Event::Error { message }) => panic!("rebuild failed: {message}"),
                Err(e) => panic!("event stream ended: {e}"),
            }
        }
    };
    let snap = tokio::time::timeout(Duration::from_secs(30), wait)
        .await
        .expect("the expected snapshot did not come within 30 s");
    (snap, seen)
}

fn rows(s: &Snapshot, key: &str) -> Option<u64> {
    let (d, n) = key.split_once('/').unwrap();
    s.catalog
        .product(d, n)
        .and_then(|p| p.tables.first())
        .map(|t| t.row_count)
}

/// Every file below `root` with its bytes: to prove the folder is never written to.
fn contents(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let e = e.unwrap();
            let ft = e.file_type().unwrap();
            if ft.is_dir() {
                stack.push(e.path());
            } else if ft.is_file() {
                out.insert(
                    e.path().strip_prefix(root).unwrap().display().to_string(),
                    std::fs::read(e.path()).unwrap(),
                );
            }
        }
    }
    out
}

fn start(dir: &Path) -> (Served, meshbox::live::watch::Watcher, Receiver<Event>) {
    let s = serve(dir);
    let w = meshbox::live::watch::spawn(s.mesh.clone(), Default::default()).unwrap();
    let rx = s.mesh.events.subscribe();
    (s, w, rx)
}

const ORDERS_CSV: &str = "shop/orders/data/orders.csv";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edited_data_file_is_reloaded_and_queryable() {
    let dir = copy_fixture("basic");
    let (s, _w, mut rx) = start(dir.path());
    let csv = dir.path().join(ORDERS_CSV);
    let mut text = std::fs::read_to_string(&csv).unwrap();
    text.push_str("4,12,7.25,2024-03-04 08:00:00\n");
    std::fs::write(&csv, text).unwrap();
    let (snap, _) = until(&s, &mut rx, |s| rows(s, "shop/orders") == Some(4)).await;
    let (_, v) = query(&s.app, "SELECT count(*) FROM shop.orders").await;
    assert_eq!(v["rows"][0][0], 4);
    let (_, status) = get_json(&s.app, "/api/status").await;
    assert_eq!(status["generation"], snap.generation);
    assert_eq!(status["reload"]["reloaded"], serde_json::json!(["shop/orders"]));
    assert_eq!(status["watching"], "native");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saves_by_rename_are_seen_and_temp_files_are_not() {
    let dir = copy_fixture("basic");
    let (s, _w, mut rx) = start(dir.path());
    let product = dir.path().join("shop/orders");
    // Editor debris only: nothing to load.
    for junk in [
        "data/.orders.csv.swp",
        "data/orders.csv~",
        "data/4913",
        "data/.#orders.csv",
        "data/#orders.csv#",
        "data/x.tmp",
        "data/___jb_tmp___",
    ] {
        std::fs::write(product.join(junk), "junk").unwrap();
    }
    // Vim/JetBrains style save: write a temp file, then rename it over the original.
    let tmp = product.join("data/orders.csv.tmp");
    std::fs::write(
        &tmp,
        "order_id,customer_id,amount,placed_at\n1,10,1.00,2024-03-01 10:00:00\n",
    )
    .unwrap();
    std::fs::rename(&tmp, product.join("data/orders.csv")).unwrap();
    let (snap, _) = until(&s, &mut rx, |s| rows(s, "shop/orders") == Some(1)).await;
    assert_eq!(snap.reload.reloaded, ["shop/orders"]);
    // The temp files did not become part of the product (nothing new to reload).
    let csv = dir.path().join("people/customers/customers.json");
    std::fs::write(&csv, r#"[{"id": 10, "name": "Ada", "tier": "gold"}]"#).unwrap();
    let (snap, _) = until(&s, &mut rx, |s| rows(s, "people/customers") == Some(1)).await;
    // shop/orders consumes people/customers (an ODPS input port): it is re-evaluated with it, nothing else is.
    assert_eq!(snap.reload.reloaded, ["people/customers", "shop/orders"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_file_written_in_pieces_is_loaded_once_complete() {
    let dir = copy_fixture("basic");
    let (s, _w, mut rx) = start(dir.path());
    let path = dir.path().join(ORDERS_CSV);
    let header = "order_id,customer_id,amount,placed_at\n";
    let mut body = String::new();
    for i in 0..20_000 {
        body.push_str(&format!("{i},10,1.50,2024-03-01 10:00:00\n"));
    }
    let bytes = format!("{header}{body}").into_bytes();
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        let mut f = std::fs::File::create(&path).unwrap();
        for chunk in bytes.chunks(bytes.len() / 25 + 1) {
            f.write_all(chunk).unwrap();
            f.flush().unwrap();
            std::thread::sleep(Duration::from_millis(20));
        }
    });
    let (_, seen) = until(&s, &mut rx, |s| rows(s, "shop/orders") == Some(20_000)).await;
    writer.join().unwrap();
    assert_eq!(seen, 1, "the half-written file was loaded {} times", seen - 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_two_thousand_files_is_a_handful_of_rebuilds() {
    let dir = copy_fixture("basic");
    let (s, _w, mut rx) = start(dir.path());
    // Like a `git checkout`: thousands of files land at once, here in a product folder, with one real data change.
    let extras = dir.path().join("shop/orders/docs");
    std::fs::create_dir_all(&extras).unwrap();
    for i in 0..2000 {
        std::fs::write(extras.join(format!("page-{i:04}.md")), format!("# page {i}\n")).unwrap();
    }
    std::fs::write(
        dir.path().join(ORDERS_CSV),
        "order_id,customer_id,amount,placed_at\n1,10,1.00,2024-03-01 10:00:00\n",
    )
    .unwrap();
    let (snap, seen) = until(&s, &mut rx, |s| rows(s, "shop/orders") == Some(1)).await;
    assert!(seen <= 3, "{seen} rebuilds for one burst");
    assert_eq!(snap.reload.reloaded, ["shop/orders"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_nested_folders_deletes_and_renames_are_followed() {
    let dir = copy_fixture("basic");
    let (s, _w, mut rx) = start(dir.path());
    // mkdir -p and a file written at once.
    std::fs::create_dir_all(dir.path().join("lab/fresh/data")).unwrap();
    std::fs::write(dir.path().join("lab/fresh/data/fresh.csv"), "a\n1\n2\n").unwrap();
    std::fs::write(
        dir.path().join("lab/fresh/fresh.odcs.yaml"),
        "apiVersion: v3.1.0\nkind: DataContract\nid: fresh\nversion: 1.0.0\nstatus: active\nschema:\n  - name: fresh\n    properties:\n      - name: a\n        logicalType: integer\n",
    )
    .unwrap();
    until(&s, &mut rx, |s| rows(s, "lab/fresh") == Some(2)).await;
    let (_, v) = query(&s.app, "SELECT sum(a) FROM lab.fresh").await;
    assert_eq!(v["rows"][0][0], 3);
    // Rename a product folder: it moves.
    std::fs::rename(dir.path().join("people/visits"), dir.path().join("people/sessions")).unwrap();
    let (snap, _) = until(&s, &mut rx, |s| rows(s, "people/sessions") == Some(6)).await;
    assert!(snap.catalog.product("people", "visits").is_none());
    // Delete one: it disappears, with its table.
    std::fs::remove_dir_all(dir.path().join("lab/fresh")).unwrap();
    until(&s, &mut rx, |s| s.catalog.product("lab", "fresh").is_none()).await;
    let (status, v) = query(&s.app, "SELECT * FROM lab.fresh").await;
    assert_eq!(status.as_u16(), 400, "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_to_outside_and_ignored_paths_are_never_loaded() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(
        outside.path().join("secret.csv"),
        "order_id,customer_id,amount,placed_at\n99,99,99.00,2024-01-01 00:00:00\n",
    )
    .unwrap();
    let dir = copy_fixture("basic");
    std::fs::write(dir.path().join(".gitignore"), "scratch/\n").unwrap();
    let (s, _w, mut rx) = start(dir.path());
    // A product in an ignored folder, and a data file replaced by a link to a file outside the mesh.
    write(
        dir.path(),
        "scratch/tmp/tmp.odcs.yaml",
        "apiVersion: v3.1.0\nkind: DataContract\nid: t\nversion: 1\nstatus: active\n",
    );
    std::fs::remove_file(dir.path().join(ORDERS_CSV)).unwrap();
    std::os::unix::fs::symlink(outside.path().join("secret.csv"), dir.path().join(ORDERS_CSV)).unwrap();
    let (snap, _) = until(&s, &mut rx, |s| {
        s.catalog.product("shop", "orders").is_some_and(|p| p.stale)
    })
    .await;
    let orders = snap.catalog.product("shop", "orders").unwrap();
    assert!(
        orders
            .diagnostics
            .iter()
            .any(|d| d.message.contains("outside the mesh folder")),
        "{:?}",
        orders.diagnostics
    );
    assert!(snap.catalog.domain("scratch").is_none());
    // The last good data keeps serving; the secret never arrives.
    let (_, v) = query(&s.app, "SELECT max(order_id) FROM shop.orders").await;
    assert_eq!(v["rows"][0][0], 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_edit_keeps_serving_the_last_good_version_until_fixed() {
    let dir = copy_fixture("basic");
    let before = contents(dir.path());
    let (s, _w, mut rx) = start(dir.path());
    let contract = dir.path().join("shop/orders/orders.odcs.yaml");
    let good = std::fs::read_to_string(&contract).unwrap();
    std::fs::write(&contract, good.replace("schema:", "schema: [")).unwrap();
    until(&s, &mut rx, |s| {
        s.catalog.product("shop", "orders").is_some_and(|p| p.stale)
    })
    .await;
    let (_, p) = get_json(&s.app, "/api/products/shop/orders").await;
    assert_eq!(p["stale"], true);
    assert!(
        p["diagnostics"][0]["file"]
            .as_str()
            .unwrap()
            .ends_with("orders.odcs.yaml")
    );
    let (status, v) = query(&s.app, "SELECT count(*) FROM shop.orders").await;
    assert_eq!((status.as_u16(), &v["rows"][0][0]), (200, &serde_json::json!(3)));
    std::fs::write(&contract, &good).unwrap();
    until(&s, &mut rx, |s| {
        s.catalog.product("shop", "orders").is_some_and(|p| !p.stale)
    })
    .await;
    let (_, p) = get_json(&s.app, "/api/products/shop/orders").await;
    assert_eq!(p["status"], "passing");
    // After a session of edits the folder holds exactly what the test wrote: meshbox wrote nothing.
    assert_eq!(contents(dir.path()), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_works_where_notifications_do_not() {
    let dir = copy_fixture("basic");
    let s = serve(dir.path());
    let opts = meshbox::live::watch::WatchOptions {
        mode: meshbox::live::watch::WatchMode::Poll,
        poll_interval: Duration::from_millis(200),
        ..Default::default()
    };
    let _w = meshbox::live::watch::spawn(s.mesh.clone(), opts).unwrap();
    let mut rx = s.mesh.events.subscribe();
    let csv = dir.path().join(ORDERS_CSV);
    std::fs::write(
        &csv,
        "order_id,customer_id,amount,placed_at\n7,10,1.00,2024-03-01 10:00:00\n",
    )
    .unwrap();
    until(&s, &mut rx, |s| rows(s, "shop/orders") == Some(1)).await;
    assert_eq!(s.mesh.watch_mode(), Some("poll"));
}
