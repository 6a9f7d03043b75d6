//! The live folder: edits become new snapshots; a broken edit keeps the last good version serving.

use crate::common::{copy_fixture, get_json, query, serve};
use meshbox::snapshot::Event;
use std::time::Duration;

/// Waits for the next snapshot event after `after` (never sleeps blindly: it listens to the mesh).
async fn next_generation(rx: &mut tokio::sync::broadcast::Receiver<Event>, after: u64) -> u64 {
    let wait = async {
        loop {
            match rx.recv().await {
                Ok(Event::Snapshot { generation }) if generation > after => return generation,
                Ok(_) => {}
                Err(e) => panic!("event stream ended: {e}"),
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(30), wait)
        .await
        .expect("no new snapshot within 30 s")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edited_data_file_is_reloaded_and_queryable() {
    let dir = copy_fixture("basic");
    let s = serve(dir.path());
    let _watcher = meshbox::watch::spawn(s.mesh.clone()).unwrap();
    let mut rx = s.mesh.events.subscribe();
    let csv = dir.path().join("shop/orders/data/orders.csv");
    let mut text = std::fs::read_to_string(&csv).unwrap();
    text.push_str("4,12,7.25,2024-03-04 08:00:00\n");
    std::fs::write(&csv, text).unwrap();
    let g = next_generation(&mut rx, 1).await;
    let (_, v) = query(&s.app, "SELECT count(*) FROM shop.orders").await;
    assert_eq!(v["rows"][0][0], 4);
    let (_, status) = get_json(&s.app, "/api/status").await;
    assert_eq!(status["generation"], g);
    assert_eq!(status["reload"]["reloaded"], serde_json::json!(["shop/orders"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_edit_keeps_serving_the_last_good_version_until_fixed() {
    let dir = copy_fixture("basic");
    let s = serve(dir.path());
    let _watcher = meshbox::watch::spawn(s.mesh.clone()).unwrap();
    let mut rx = s.mesh.events.subscribe();
    let contract = dir.path().join("shop/orders/orders.odcs.yaml");
    let good = std::fs::read_to_string(&contract).unwrap();
    std::fs::write(&contract, good.replace("schema:", "schema: [")).unwrap();
    let g = next_generation(&mut rx, 1).await;
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
    std::fs::write(&contract, good).unwrap();
    next_generation(&mut rx, g).await;
    let (_, p) = get_json(&s.app, "/api/products/shop/orders").await;
    assert_eq!(p["stale"], false);
    assert_eq!(p["status"], "passing");
}
