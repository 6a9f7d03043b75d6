//! The live folder. One end-to-end test runs a real watcher (native, then polling) on a temporary copy and waits on
//! snapshot events, never on sleeps; how the watcher decides what changed is unit-tested in `src/live/watch.rs`. The
//! snapshot's reaction to each kind of edit is tested with explicit rebuilds, so a missed notification can never pass
//! for a reload bug, nor a slow machine for a missed notification.

use crate::common::{Served, copy_fixture, get_json, query, serve, write};
use meshbox::live::snapshot::{Event, Snapshot};
use meshbox::live::watch::{WatchMode, WatchOptions};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::Receiver;

/// Waits until a new snapshot satisfies `done` (or 30 s pass) and returns it; every snapshot seen on the way is
/// printed, to tell a missed change from a wrong one.
async fn until(s: &Served, rx: &mut Receiver<Event>, done: impl Fn(&Snapshot) -> bool) -> Arc<Snapshot> {
    let wait = async {
        loop {
            match rx.recv().await {
                Ok(Event::Snapshot { .. }) => {
                    let snap = s.mesh.snapshot();
                    print_reload(&snap);
                    if done(&snap) {
                        return snap;
                    }
                }
                Ok(Event::Error { message }) => panic!("rebuild failed: {message}"),
                Err(e) => panic!("event stream ended: {e}"),
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(30), wait)
        .await
        .expect("the expected snapshot did not come within 30 s")
}

fn print_reload(snap: &Snapshot) {
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

const ORDERS_CSV: &str = "shop/orders/data/orders.csv";

const FRESH_CONTRACT: &str = "apiVersion: v3.1.0\nkind: DataContract\nid: fresh\nversion: 1.0.0\nstatus: active\nschema:\n  - name: fresh\n    properties:\n      - name: a\n        logicalType: integer\n";

/// Writes `text` to a temporary file beside `path`, then renames it over `path`: how Vim and JetBrains IDEs save.
fn save_by_rename(path: &Path, text: &str) {
    let tmp = path.with_extension("csv.tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_watcher_follows_edits_saves_new_renamed_and_deleted_products() {
    follow_a_session(WatchMode::Native, "native").await;
    follow_a_session(WatchMode::Poll, "poll").await;
}

/// One session of edits on a fresh copy, each waited for by its snapshot.
async fn follow_a_session(mode: WatchMode, name: &str) {
    eprintln!("-- watching by {name}");
    let dir = copy_fixture("basic");
    let root = dir.path();
    let s = serve(root);
    let mut rx = s.mesh.events.subscribe();
    let opts = WatchOptions {
        mode,
        poll_interval: Duration::from_millis(200),
        ..Default::default()
    };
    let w = meshbox::live::watch::spawn(s.mesh.clone(), opts).unwrap();
    assert_eq!((w.mode, s.mesh.watch_mode()), (mode, Some(name)));
    // An edit in place.
    let csv = root.join(ORDERS_CSV);
    let mut text = std::fs::read_to_string(&csv).unwrap();
    text.push_str("4,12,7.25,2024-03-04 08:00:00\n");
    std::fs::write(&csv, text).unwrap();
    let snap = until(&s, &mut rx, |s| rows(s, "shop/orders") == Some(4)).await;
    assert_eq!(snap.reload.reloaded, ["shop/orders"]);
    let (_, v) = query(&s.app, "SELECT count(*) FROM shop.orders").await;
    assert_eq!(v["rows"][0][0], 4);
    let (_, status) = get_json(&s.app, "/api/status").await;
    assert_eq!(status["watching"], name);
    assert!(status["generation"].as_u64() >= Some(snap.generation), "{status}");
    // The rebuild the watcher asked for says where its time went, the wait for the watcher included.
    let phases = &status["history"][0]["phases"];
    for phase in ["watch_wait_ms", "build_ms", "profiles_ms", "rebuild_ms"] {
        assert!(phases[phase].as_f64().is_some_and(|ms| ms > 0.0), "{phase}: {status}");
    }
    assert!(phases["rebuild_ms"].as_f64() >= phases["build_ms"].as_f64(), "{status}");
    // A save by rename.
    save_by_rename(
        &csv,
        "order_id,customer_id,amount,placed_at\n1,10,1.00,2024-03-01 10:00:00\n",
    );
    until(&s, &mut rx, |s| rows(s, "shop/orders") == Some(1)).await;
    // `mkdir -p` and files written into the new folders at once.
    write(root, "lab/fresh/data/fresh.csv", "a\n1\n2\n");
    write(root, "lab/fresh/fresh.odcs.yaml", FRESH_CONTRACT);
    until(&s, &mut rx, |s| rows(s, "lab/fresh") == Some(2)).await;
    let (_, v) = query(&s.app, "SELECT sum(a) FROM lab.fresh").await;
    assert_eq!(v["rows"][0][0], 3);
    // A product folder renamed, then one deleted.
    std::fs::rename(root.join("people/visits"), root.join("people/sessions")).unwrap();
    until(&s, &mut rx, |s| {
        rows(s, "people/sessions") == Some(6) && s.catalog.product("people", "visits").is_none()
    })
    .await;
    std::fs::remove_dir_all(root.join("lab/fresh")).unwrap();
    until(&s, &mut rx, |s| s.catalog.product("lab", "fresh").is_none()).await;
    let (status, v) = query(&s.app, "SELECT * FROM lab.fresh").await;
    assert_eq!(status.as_u16(), 400, "{v}");
}

/// The snapshot after an explicit rebuild.
fn rebuild(s: &Served) -> Arc<Snapshot> {
    let snap = s.mesh.rebuild().unwrap_or_else(|e| panic!("rebuild failed: {e}"));
    print_reload(&snap);
    snap
}

#[tokio::test]
async fn temp_files_change_nothing_and_a_consumer_reloads_with_its_provider() {
    let dir = copy_fixture("basic");
    let s = serve(dir.path());
    let product = dir.path().join("shop/orders");
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
    let snap = rebuild(&s);
    assert_eq!(
        snap.reload.reloaded,
        Vec::<String>::new(),
        "editor debris is not part of a product"
    );
    save_by_rename(
        &dir.path().join(ORDERS_CSV),
        "order_id,customer_id,amount,placed_at\n1,10,1.00,2024-03-01 10:00:00\n",
    );
    let snap = rebuild(&s);
    assert_eq!(
        (snap.reload.reloaded.as_slice(), rows(&snap, "shop/orders")),
        (&["shop/orders".to_string()][..], Some(1))
    );
    // shop/orders consumes people/customers (an ODPS input port): it is re-evaluated with it, nothing else is.
    let customers = dir.path().join("people/customers/customers.json");
    std::fs::write(&customers, r#"[{"id": 10, "name": "Ada", "tier": "gold"}]"#).unwrap();
    let snap = rebuild(&s);
    assert_eq!(rows(&snap, "people/customers"), Some(1));
    assert_eq!(snap.reload.reloaded, ["people/customers", "shop/orders"]);
}

#[tokio::test]
async fn a_burst_of_two_thousand_files_in_a_product_reloads_that_product_alone() {
    let dir = copy_fixture("basic");
    let s = serve(dir.path());
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
    let snap = rebuild(&s);
    assert_eq!(snap.reload.reloaded, ["shop/orders"]);
    assert_eq!(rows(&snap, "shop/orders"), Some(1));
    // Once loaded, the burst is history: the next rebuild reloads nothing.
    let snap = rebuild(&s);
    assert_eq!(snap.reload.reloaded, Vec::<String>::new());
}

#[tokio::test]
async fn new_renamed_and_deleted_product_folders_are_added_moved_and_dropped() {
    let dir = copy_fixture("basic");
    let s = serve(dir.path());
    write(dir.path(), "lab/fresh/data/fresh.csv", "a\n1\n2\n");
    write(dir.path(), "lab/fresh/fresh.odcs.yaml", FRESH_CONTRACT);
    let snap = rebuild(&s);
    assert_eq!(
        (snap.reload.reloaded.as_slice(), rows(&snap, "lab/fresh")),
        (&["lab/fresh".to_string()][..], Some(2))
    );
    std::fs::rename(dir.path().join("people/visits"), dir.path().join("people/sessions")).unwrap();
    let snap = rebuild(&s);
    assert_eq!(snap.reload.reloaded, ["people/sessions"]);
    assert_eq!(snap.reload.removed, ["people/visits"]);
    assert_eq!(rows(&snap, "people/sessions"), Some(6));
    std::fs::remove_dir_all(dir.path().join("lab/fresh")).unwrap();
    let snap = rebuild(&s);
    assert_eq!(snap.reload.removed, ["lab/fresh"]);
    let (status, v) = query(&s.app, "SELECT * FROM lab.fresh").await;
    assert_eq!(status.as_u16(), 400, "{v}");
}

#[tokio::test]
async fn links_to_outside_and_ignored_paths_are_never_loaded() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(
        outside.path().join("secret.csv"),
        "order_id,customer_id,amount,placed_at\n99,99,99.00,2024-01-01 00:00:00\n",
    )
    .unwrap();
    let dir = copy_fixture("basic");
    std::fs::write(dir.path().join(".gitignore"), "scratch/\n").unwrap();
    let s = serve(dir.path());
    // A product in an ignored folder, and a data file replaced by a link to a file outside the mesh.
    write(
        dir.path(),
        "scratch/tmp/tmp.odcs.yaml",
        "apiVersion: v3.1.0\nkind: DataContract\nid: t\nversion: 1\nstatus: active\n",
    );
    std::fs::remove_file(dir.path().join(ORDERS_CSV)).unwrap();
    std::os::unix::fs::symlink(outside.path().join("secret.csv"), dir.path().join(ORDERS_CSV)).unwrap();
    let snap = rebuild(&s);
    let orders = snap.catalog.product("shop", "orders").unwrap();
    assert!(orders.stale, "{:?}", orders.diagnostics);
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

#[tokio::test]
async fn a_broken_edit_keeps_serving_the_last_good_version_until_fixed() {
    let dir = copy_fixture("basic");
    let before = contents(dir.path());
    let s = serve(dir.path());
    let contract = dir.path().join("shop/orders/orders.odcs.yaml");
    let good = std::fs::read_to_string(&contract).unwrap();
    std::fs::write(&contract, good.replace("schema:", "schema: [")).unwrap();
    rebuild(&s);
    let (_, p) = get_json(&s.app, "/api/products/shop/orders").await;
    assert_eq!(p["stale"], true);
    assert!(
        p["diagnostics"][0]["file"]
            .as_str()
            .is_some_and(|f| f.ends_with("orders.odcs.yaml")),
        "{p}"
    );
    let (status, v) = query(&s.app, "SELECT count(*) FROM shop.orders").await;
    assert_eq!((status.as_u16(), &v["rows"][0][0]), (200, &serde_json::json!(3)));
    std::fs::write(&contract, &good).unwrap();
    rebuild(&s);
    let (_, p) = get_json(&s.app, "/api/products/shop/orders").await;
    assert_eq!(
        (&p["stale"], &p["status"]),
        (&serde_json::json!(false), &serde_json::json!("passing"))
    );
    // After a session of edits the folder holds exactly what the test wrote: meshbox wrote nothing.
    assert_eq!(contents(dir.path()), before);
}
