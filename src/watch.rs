//! Watches the mesh folder and rebuilds the snapshot after changes settle. Editor temp files are ignored; a burst of
//! events (a save, a `git checkout`) becomes one rebuild.

use crate::snapshot::Mesh;
use notify::event::{MetadataKind, ModifyKind};
use notify::{EventKind, RecursiveMode};
use notify_debouncer_full::{DebounceEventResult, new_debouncer};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

/// Keeps the watcher alive; dropping it stops watching.
pub struct Watcher {
    _debouncer: Box<dyn std::any::Any + Send>,
}

/// Does this event path matter? Temp and swap files of editors never do. Only the part below the mesh root counts
/// (the root itself may well live under a hidden folder).
fn relevant_path(root: &std::path::Path, path: &std::path::Path) -> bool {
    let rel = path.strip_prefix(root).unwrap_or(path);
    !rel.components()
        .any(|c| c.as_os_str().to_str().is_some_and(crate::scan::is_ignored_name))
}

/// Reads (meshbox's own, while it rebuilds) must never trigger a rebuild; changes must.
fn relevant_kind(kind: &EventKind) -> bool {
    !matches!(
        kind,
        EventKind::Access(_) | EventKind::Modify(ModifyKind::Metadata(MetadataKind::AccessTime))
    )
}

/// Starts watching `mesh.root`; each settled batch of changes triggers one rebuild on a background thread.
pub fn spawn(mesh: Arc<Mesh>) -> anyhow::Result<Watcher> {
    let (tx, rx) = mpsc::channel::<()>();
    let root = mesh.root.clone();
    let mut debouncer = new_debouncer(
        Duration::from_millis(150),
        None,
        move |result: DebounceEventResult| match result {
            Ok(events) => {
                if events
                    .iter()
                    .any(|e| relevant_kind(&e.kind) && e.paths.iter().any(|p| relevant_path(&root, p)))
                {
                    let _ = tx.send(());
                }
            }
            Err(errors) => {
                for e in errors {
                    tracing::warn!(error = %e, "watch error");
                }
                let _ = tx.send(());
            }
        },
    )?;
    debouncer.watch(&mesh.root, RecursiveMode::Recursive)?;
    std::thread::Builder::new()
        .name("meshbox-rebuild".into())
        .spawn(move || {
            while rx.recv().is_ok() {
                // Fold everything that arrived meanwhile into this rebuild.
                while rx.try_recv().is_ok() {}
                let _ = mesh.rebuild();
            }
        })?;
    Ok(Watcher {
        _debouncer: Box::new(debouncer),
    })
}
