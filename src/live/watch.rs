//! Watches the mesh folder and rebuilds the snapshot once changes settle. Editors' temp files, `.gitignore`d paths and
//! `--ignore` globs never trigger anything; a burst (a save by rename, a `git checkout`) becomes one rebuild; a file
//! still being written is waited for until its size and modification time stop changing. Native notifications by
//! default, polling on request or when the system's watch limit is reached.

use crate::folder::scan::Ignorer;
use crate::live::snapshot::Mesh;
use notify::event::{CreateKind, MetadataKind, ModifyKind};
use notify::{EventKind, RecursiveMode};
use notify_debouncer_full::{DebounceEventResult, Debouncer, FileIdMap, new_debouncer_opt};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatchMode {
    /// Native file system notifications (inotify, FSEvents, ...).
    Native,
    /// Compare the folder every second: for network drives, container bind mounts, and when notifications fail.
    Poll,
}

#[derive(Debug, Clone)]
pub struct WatchOptions {
    pub mode: WatchMode,
    /// How long the folder must stay quiet before a rebuild.
    pub quiet: Duration,
    pub poll_interval: Duration,
}

impl Default for WatchOptions {
    fn default() -> Self {
        WatchOptions {
            mode: WatchMode::Native,
            quiet: Duration::from_millis(50),
            poll_interval: Duration::from_millis(1000),
        }
    }
}

/// Keeps the watcher alive; dropping it stops watching.
pub struct Watcher {
    _debouncer: Box<dyn std::any::Any + Send>,
    pub mode: WatchMode,
}

/// What a batch of events asks for.
#[derive(Debug, Default)]
struct Batch {
    paths: BTreeSet<PathBuf>,
    /// The watcher lost events (queue overflow): reconcile everything.
    rescan: bool,
    /// A folder appeared: files created in it at once may have been missed; look again shortly after.
    new_folder: bool,
}

impl Batch {
    fn merge(&mut self, other: Batch) {
        self.paths.extend(other.paths);
        self.rescan |= other.rescan;
        self.new_folder |= other.new_folder;
    }
}

/// Reads (meshbox's own, while it rebuilds) never count; changes do.
fn relevant_kind(kind: &EventKind) -> bool {
    !matches!(
        kind,
        EventKind::Access(_) | EventKind::Modify(ModifyKind::Metadata(MetadataKind::AccessTime))
    )
}

/// Temp files, swap files, hidden entries and ignored paths never count. Only the part below the mesh root is
/// looked at (the root itself may well live under a hidden folder).
fn relevant_path(root: &Path, ignore: &Ignorer, path: &Path) -> bool {
    let rel = path.strip_prefix(root).unwrap_or(path);
    if rel.as_os_str().is_empty() {
        return true;
    }
    !rel.components()
        .any(|c| c.as_os_str().to_str().is_some_and(crate::folder::scan::is_ignored_name))
        && !ignore.is_ignored(rel, path.is_dir())
}

fn handler(
    root: PathBuf,
    ignore: Ignorer,
    tx: mpsc::Sender<Batch>,
) -> impl FnMut(DebounceEventResult) + Send + 'static {
    move |result: DebounceEventResult| match result {
        Ok(events) => {
            let mut batch = Batch::default();
            for e in &events {
                if e.need_rescan() {
                    batch.rescan = true;
                }
                if !relevant_kind(&e.kind) {
                    continue;
                }
                let paths: Vec<&PathBuf> = e.paths.iter().filter(|p| relevant_path(&root, &ignore, p)).collect();
                if paths.is_empty() {
                    continue;
                }
                if matches!(e.kind, EventKind::Create(CreateKind::Folder)) || paths.iter().any(|p| p.is_dir()) {
                    batch.new_folder = true;
                }
                batch.paths.extend(paths.into_iter().cloned());
            }
            if batch.rescan || !batch.paths.is_empty() {
                let _ = tx.send(batch);
            }
        }
        Err(errors) => {
            for e in errors {
                tracing::warn!(error = %e, "watch error; reconciling the whole folder");
            }
            let _ = tx.send(Batch {
                rescan: true,
                ..Default::default()
            });
        }
    }
}

fn start<T: notify::Watcher>(
    mesh: &Mesh,
    opts: &WatchOptions,
    tx: mpsc::Sender<Batch>,
    config: notify::Config,
) -> Result<Debouncer<T, FileIdMap>, notify::Error> {
    let ignore = Ignorer::new(&mesh.root, &mesh.opts.ignore).unwrap_or_else(|_| Ignorer::none());
    let mut d = new_debouncer_opt::<_, T, FileIdMap>(
        opts.quiet,
        Some(opts.quiet / 2),
        handler(mesh.root.clone(), ignore, tx),
        FileIdMap::new(),
        config,
    )?;
    d.watch(&mesh.root, RecursiveMode::Recursive)?;
    Ok(d)
}

fn is_watch_limit(e: &notify::Error) -> bool {
    match &e.kind {
        notify::ErrorKind::MaxFilesWatch => true,
        notify::ErrorKind::Io(io) => io.raw_os_error() == Some(28),
        _ => false,
    }
}

/// The polling watcher: every `interval`, a fingerprint of the whole folder (paths, sizes, modification times in
/// nanoseconds); any difference rebuilds. (notify's poller compares whole seconds and misses quick edits.)
fn poll(mesh: Arc<Mesh>, ignore: Ignorer, mut last: u64, interval: Duration, stop: Arc<std::sync::atomic::AtomicBool>) {
    while !stop.load(std::sync::atomic::Ordering::SeqCst) {
        std::thread::sleep(interval);
        let now = crate::folder::scan::tree_fingerprint(&mesh.root, &ignore);
        if now != last {
            // Let a file that is still being written settle for one more interval.
            std::thread::sleep(interval.min(Duration::from_millis(200)));
            last = crate::folder::scan::tree_fingerprint(&mesh.root, &ignore);
            if last == now {
                let _ = mesh.rebuild();
            }
        }
    }
}

/// Stops the polling thread when the watcher is dropped.
struct PollHandle(Arc<std::sync::atomic::AtomicBool>);

impl Drop for PollHandle {
    fn drop(&mut self) {
        self.0.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

fn start_polling(mesh: &Arc<Mesh>, interval: Duration) -> anyhow::Result<Box<dyn std::any::Any + Send>> {
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (m, s) = (mesh.clone(), stop.clone());
    // The starting point is taken now, before returning: a change right after `spawn` must count as a change.
    let ignore = Ignorer::new(&mesh.root, &mesh.opts.ignore).unwrap_or_else(|_| Ignorer::none());
    let first = crate::folder::scan::tree_fingerprint(&mesh.root, &ignore);
    std::thread::Builder::new()
        .name("meshbox-poll".into())
        .spawn(move || poll(m, ignore, first, interval, s))?;
    Ok(Box::new(PollHandle(stop)))
}

/// Starts watching `mesh.root`; each settled batch of changes triggers one rebuild on a background thread.
pub fn spawn(mesh: Arc<Mesh>, opts: WatchOptions) -> anyhow::Result<Watcher> {
    if opts.mode == WatchMode::Poll {
        let handle = start_polling(&mesh, opts.poll_interval)?;
        mesh.set_watch_mode("poll");
        return Ok(Watcher {
            _debouncer: handle,
            mode: WatchMode::Poll,
        });
    }
    let (tx, rx) = mpsc::channel::<Batch>();
    let config = notify::Config::default().with_follow_symlinks(false);
    let debouncer: Box<dyn std::any::Any + Send> = match start::<notify::RecommendedWatcher>(&mesh, &opts, tx, config) {
        Ok(d) => Box::new(d),
        Err(e) if is_watch_limit(&e) => {
            tracing::warn!(
                error = %e,
                "the system's file watch limit is reached (raise fs.inotify.max_user_watches); watching by polling every {} ms instead",
                opts.poll_interval.as_millis()
            );
            let handle = start_polling(&mesh, opts.poll_interval)?;
            mesh.set_watch_mode("poll");
            return Ok(Watcher {
                _debouncer: handle,
                mode: WatchMode::Poll,
            });
        }
        Err(e) => return Err(e.into()),
    };
    mesh.set_watch_mode("native");
    let quiet = opts.quiet;
    std::thread::Builder::new()
        .name("meshbox-rebuild".into())
        .spawn(move || {
            let mut pending: Option<Batch> = None;
            loop {
                let mut batch = match pending.take() {
                    Some(b) => b,
                    None => match rx.recv() {
                        Ok(b) => b,
                        Err(_) => return,
                    },
                };
                // The debouncer already waited for `quiet`; events arriving while the files settle join the batch.
                let changed = batch.paths.clone();
                wait_until_written(&changed, &rx, &mut batch, quiet);
                let _ = mesh.rebuild();
                if batch.new_folder {
                    // Files written into a folder right after it was created can escape the watch: look once more
                    // (unless new changes arrive first, which cause a rebuild anyway).
                    match rx.recv_timeout(Duration::from_millis(300)) {
                        Ok(more) => pending = Some(more),
                        Err(mpsc::RecvTimeoutError::Timeout) => {
                            let _ = mesh.rebuild();
                        }
                        Err(mpsc::RecvTimeoutError::Disconnected) => return,
                    }
                }
            }
        })?;
    Ok(Watcher {
        _debouncer: debouncer,
        mode: WatchMode::Native,
    })
}

/// Size and modification time of a file, when it is one.
fn stat(p: &Path) -> Option<(u64, std::time::SystemTime)> {
    let m = std::fs::metadata(p).ok()?;
    if !m.is_file() {
        return None;
    }
    Some((m.len(), m.modified().ok()?))
}

/// Waits (at most 60 s) until none of the changed files grows any more: a big export copied in several writes is
/// loaded once, complete. Events arriving meanwhile join the batch.
fn wait_until_written(paths: &BTreeSet<PathBuf>, rx: &mpsc::Receiver<Batch>, batch: &mut Batch, interval: Duration) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut watched: Vec<PathBuf> = paths.iter().filter(|p| p.is_file()).cloned().collect();
    let mut before: Vec<_> = watched.iter().map(|p| stat(p)).collect();
    loop {
        match rx.recv_timeout(interval) {
            Ok(more) => {
                for p in &more.paths {
                    if p.is_file() && !watched.contains(p) {
                        watched.push(p.clone());
                        before.push(None);
                    }
                }
                batch.merge(more);
                continue;
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => return,
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        let now: Vec<_> = watched.iter().map(|p| stat(p)).collect();
        if now == before || Instant::now() > deadline {
            return;
        }
        before = now;
    }
}
