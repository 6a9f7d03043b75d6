//! Watches the mesh folder and rebuilds the snapshot once changes settle. Editors' temp files, `.gitignore`d paths and
//! `--ignore` globs never trigger anything; a burst (a save by rename, a `git checkout`) becomes one rebuild; a file
//! still being written is waited for until its size and modification time stop changing — unless its writer closed
//! it (or it was renamed into place, or removed), which says it is complete. Native notifications by default, polling
//! on request or when the system's watch limit is reached. What changed is always decided the same way: [`changes`]
//! between two listings of the folder (path → kind, size, modification time).

use crate::folder::scan::Ignorer;
use crate::live::snapshot::Mesh;
use notify::event::{AccessKind, AccessMode, CreateKind, MetadataKind, ModifyKind};
use notify::{EventKind, RecursiveMode};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

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
    /// How long the folder must stay quiet, and a file still open keep its size and modification time, before a
    /// rebuild.
    pub quiet: Duration,
    /// How long the folder must stay quiet before a rebuild when every changed file was closed by its writer, renamed
    /// into place or removed: enough for a burst still going on (a `git checkout`) to be heard.
    pub quiet_after_close: Duration,
    pub poll_interval: Duration,
}

impl Default for WatchOptions {
    fn default() -> Self {
        WatchOptions {
            mode: WatchMode::Native,
            quiet: Duration::from_millis(50),
            quiet_after_close: Duration::from_millis(15),
            poll_interval: Duration::from_millis(1000),
        }
    }
}

/// Keeps the watcher alive; dropping it stops watching.
pub struct Watcher {
    _watching: Box<dyn std::any::Any + Send>,
    pub mode: WatchMode,
}

/// What an entry of the folder is. Links are never followed: a link is its own kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    File,
    Folder,
    Link,
    /// A FIFO, socket or device.
    Other,
}

/// What the watcher compares of one entry. It never reads content: a rewrite that keeps both the size and the
/// modification time (`touch -r`, a restore that sets times) goes unseen — as it does for the snapshot, which compares
/// the same two to decide what to reload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fingerprint {
    pub kind: EntryKind,
    pub size: u64,
    /// Modification time in nanoseconds since the Unix epoch (negative before it).
    pub modified_ns: i128,
}

impl Fingerprint {
    fn of(m: &std::fs::Metadata) -> Fingerprint {
        let t = m.file_type();
        let kind = if t.is_symlink() {
            EntryKind::Link
        } else if t.is_dir() {
            EntryKind::Folder
        } else if t.is_file() {
            EntryKind::File
        } else {
            EntryKind::Other
        };
        Fingerprint {
            kind,
            size: m.len(),
            modified_ns: m.modified().map(unix_ns).unwrap_or(0),
        }
    }

    /// A folder's own size and time change with its entries, which are listed themselves: only its kind counts (so a
    /// temp file that comes and goes beside real ones changes nothing).
    fn same_as(&self, other: &Fingerprint) -> bool {
        self.kind == other.kind
            && (self.kind == EntryKind::Folder || (self.size == other.size && self.modified_ns == other.modified_ns))
    }
}

fn unix_ns(t: SystemTime) -> i128 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(after) => after.as_nanos() as i128,
        Err(before) => -(before.duration().as_nanos() as i128),
    }
}

/// A look at (part of) the folder: each path with its fingerprint.
pub type Listing = BTreeMap<PathBuf, Fingerprint>;

/// What differs between two listings.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Changes {
    pub added: BTreeSet<PathBuf>,
    pub removed: BTreeSet<PathBuf>,
    /// Present in both, with another kind, size or modification time.
    pub changed: BTreeSet<PathBuf>,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

/// The change detection itself, from two listings alone: a rename is the old path removed and the new one added; a
/// folder is changed only when it stops being a folder.
pub fn changes(before: &Listing, after: &Listing) -> Changes {
    let mut out = Changes::default();
    for (path, old) in before {
        match after.get(path) {
            None => {
                out.removed.insert(path.clone());
            }
            Some(new) if !old.same_as(new) => {
                out.changed.insert(path.clone());
            }
            Some(_) => {}
        }
    }
    out.added = after.keys().filter(|p| !before.contains_key(*p)).cloned().collect();
    out
}

/// Is this path (relative to the mesh root) left out of the mesh: an editor's temp file, a hidden entry, a name that
/// is not UTF-8 (the scan skips those too), or ignored by `.gitignore` / `--ignore`?
fn left_out(ignore: &Ignorer, rel: &Path, is_dir: bool) -> bool {
    rel.components()
        .any(|c| c.as_os_str().to_str().is_none_or(crate::folder::scan::is_ignored_name))
        || ignore.is_ignored(rel, is_dir)
}

/// Every entry below `root` that belongs to the mesh, by path relative to `root`. Links are listed, never followed.
pub fn list_folder(root: &Path, ignore: &Ignorer) -> Listing {
    let mut out = Listing::new();
    let mut folders = vec![root.to_path_buf()];
    while let Some(dir) = folders.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            // Gone since the folder was read: it is simply not part of this look.
            let Ok(meta) = entry.metadata() else {
                continue;
            };
            let rel = path.strip_prefix(root).unwrap_or(&path).to_path_buf();
            if left_out(ignore, &rel, meta.is_dir()) {
                continue;
            }
            let fingerprint = Fingerprint::of(&meta);
            if fingerprint.kind == EntryKind::Folder {
                folders.push(path);
            }
            out.insert(rel, fingerprint);
        }
    }
    out
}

/// A look at just these paths (as given); a path that does not exist is left out.
fn list_paths<'a>(paths: impl IntoIterator<Item = &'a PathBuf>) -> Listing {
    paths
        .into_iter()
        .filter_map(|p| Some((p.clone(), Fingerprint::of(&std::fs::symlink_metadata(p).ok()?))))
        .collect()
}

/// What the polling watcher does after a look at the folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PollStep {
    /// Nothing changed since the last rebuild.
    Idle,
    /// Something changed and was still changing at this look (a file being written): look again shortly.
    Settling,
    /// Something changed since the last rebuild and held still since the last look.
    Rebuild,
}

/// Decides from three listings: the one the last rebuild followed, the previous look and this one.
fn poll_step(built: &Listing, last_look: &Listing, now: &Listing) -> PollStep {
    if changes(built, now).is_empty() {
        PollStep::Idle
    } else if changes(last_look, now).is_empty() {
        PollStep::Rebuild
    } else {
        PollStep::Settling
    }
}

/// What a batch of events asks for.
#[derive(Debug, Default)]
struct Batch {
    paths: BTreeSet<PathBuf>,
    /// The paths whose last event says they are complete: closed by their writer, renamed into place or removed.
    complete: BTreeSet<PathBuf>,
    /// The watcher lost events (queue overflow): reconcile everything.
    rescan: bool,
    /// A folder appeared: files created in it at once may have been missed; look again shortly after.
    new_folder: bool,
    /// When the earliest of its events happened.
    first: Option<Instant>,
}

impl Batch {
    fn merge(&mut self, other: Batch) {
        // The later batch's events are the later ones: a path it saw still being written is no longer complete.
        for p in &other.paths {
            if !other.complete.contains(p) {
                self.complete.remove(p);
            }
        }
        self.complete.extend(other.complete);
        self.paths.extend(other.paths);
        self.rescan |= other.rescan;
        self.new_folder |= other.new_folder;
        self.first = match (self.first, other.first) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }

    /// Every file of the batch is complete, and nothing asks for a wider look: no need to watch sizes settle.
    fn is_complete(&self) -> bool {
        !self.rescan && !self.new_folder && self.paths.iter().all(|p| self.complete.contains(p))
    }

    /// Adds one notified event (in order: a later event of a path decides whether it is complete).
    fn add(&mut self, kind: &EventKind, paths: Vec<&PathBuf>, at: Instant) {
        if matches!(kind, EventKind::Create(CreateKind::Folder)) || paths.iter().any(|p| p.is_dir()) {
            self.new_folder = true;
        }
        for p in paths {
            if completes(kind) {
                self.complete.insert(p.clone());
            } else {
                self.complete.remove(p);
            }
            self.paths.insert(p.clone());
        }
        self.first = Some(self.first.map_or(at, |f| f.min(at)));
    }

    /// The changes a look found that no notification reported, as a batch of their own (paths below `root`).
    fn missed(root: &Path, found: Changes, now: &Listing) -> Batch {
        let new_folder = found
            .added
            .iter()
            .any(|p| now.get(p).is_some_and(|f| f.kind == EntryKind::Folder));
        let paths = found.added.into_iter().chain(found.removed).chain(found.changed);
        Batch {
            paths: paths.map(|p| root.join(p)).collect(),
            new_folder,
            ..Batch::default()
        }
    }
}

/// A writer closing a file it wrote says the file is complete.
fn closed_after_writing(kind: &EventKind) -> bool {
    matches!(kind, EventKind::Access(AccessKind::Close(AccessMode::Write)))
}

/// Events after which a path needs no waiting: closed by its writer, renamed into place (a rename is atomic), or
/// removed.
fn completes(kind: &EventKind) -> bool {
    closed_after_writing(kind) || matches!(kind, EventKind::Modify(ModifyKind::Name(_)) | EventKind::Remove(_))
}

/// Reads (meshbox's own, while it rebuilds) never count; changes do, and so does a writer closing a file.
fn relevant_kind(kind: &EventKind) -> bool {
    closed_after_writing(kind)
        || !matches!(
            kind,
            EventKind::Access(_) | EventKind::Modify(ModifyKind::Metadata(MetadataKind::AccessTime))
        )
}

/// Temp files, swap files, hidden entries and ignored paths never count. Only the part below the mesh root is
/// looked at (the root itself may well live under a hidden folder).
fn relevant_path(root: &Path, ignore: &Ignorer, path: &Path) -> bool {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.as_os_str().is_empty() || !left_out(ignore, rel, path.is_dir())
}

/// Turns each notification into a batch of its own, as it comes (gathering bursts is `settle`'s job).
fn handler(
    root: PathBuf,
    ignore: Ignorer,
    tx: mpsc::Sender<Batch>,
) -> impl FnMut(notify::Result<notify::Event>) + Send {
    move |result: notify::Result<notify::Event>| match result {
        Ok(e) => {
            let mut batch = Batch {
                rescan: e.need_rescan(),
                ..Batch::default()
            };
            if relevant_kind(&e.kind) {
                let paths: Vec<&PathBuf> = e.paths.iter().filter(|p| relevant_path(&root, &ignore, p)).collect();
                if !paths.is_empty() {
                    batch.add(&e.kind, paths, Instant::now());
                }
            }
            if batch.rescan || !batch.paths.is_empty() {
                let _ = tx.send(batch);
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, "watch error; reconciling the whole folder");
            let _ = tx.send(Batch {
                rescan: true,
                first: Some(Instant::now()),
                ..Default::default()
            });
        }
    }
}

fn ignorer(mesh: &Mesh) -> Ignorer {
    Ignorer::new(&mesh.root, &mesh.opts.ignore).unwrap_or_else(|_| Ignorer::none())
}

fn start<T: notify::Watcher>(mesh: &Mesh, tx: mpsc::Sender<Batch>, config: notify::Config) -> Result<T, notify::Error> {
    let mut watcher = T::new(handler(mesh.root.clone(), ignorer(mesh), tx), config)?;
    watcher.watch(&mesh.root, RecursiveMode::Recursive)?;
    Ok(watcher)
}

fn is_watch_limit(e: &notify::Error) -> bool {
    match &e.kind {
        notify::ErrorKind::MaxFilesWatch => true,
        notify::ErrorKind::Io(io) => io.raw_os_error() == Some(28),
        _ => false,
    }
}

/// The polling watcher: every `interval`, a listing of the whole folder (paths, kinds, sizes, modification times in
/// nanoseconds; notify's poller compares whole seconds and misses quick edits); a change is looked at again shortly
/// and rebuilt once it holds still. `first` is the listing the current snapshot follows.
fn poll(mesh: Arc<Mesh>, ignore: Ignorer, first: Listing, interval: Duration, stop: Arc<AtomicBool>) {
    let settle = interval.min(Duration::from_millis(200));
    let (mut built, mut last_look) = (first.clone(), first);
    let mut wait = interval;
    // When a look first found the change being rebuilt for.
    let mut seen: Option<Instant> = None;
    loop {
        std::thread::sleep(wait);
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let looked = Instant::now();
        let now = list_folder(&mesh.root, &ignore);
        wait = match poll_step(&built, &last_look, &now) {
            PollStep::Idle => {
                seen = None;
                interval
            }
            PollStep::Settling => {
                seen.get_or_insert(looked);
                settle
            }
            PollStep::Rebuild => {
                // `now` was taken before the rebuild reads the folder: whatever changes meanwhile is seen next time.
                let _ = mesh.rebuild_after(Some(seen.take().unwrap_or(looked)));
                built = now.clone();
                interval
            }
        };
        last_look = now;
    }
}

/// Stops the polling thread when the watcher is dropped.
struct PollHandle(Arc<AtomicBool>);

impl Drop for PollHandle {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

fn start_polling(mesh: &Arc<Mesh>, interval: Duration) -> anyhow::Result<Watcher> {
    let stop = Arc::new(AtomicBool::new(false));
    let (m, s) = (mesh.clone(), stop.clone());
    // The starting point is taken now, before returning: a change right after `spawn` must count as a change.
    let ignore = ignorer(mesh);
    let first = list_folder(&mesh.root, &ignore);
    std::thread::Builder::new()
        .name("meshbox-poll".into())
        .spawn(move || poll(m, ignore, first, interval, s))?;
    mesh.set_watch_mode("poll");
    Ok(Watcher {
        _watching: Box::new(PollHandle(stop)),
        mode: WatchMode::Poll,
    })
}

/// Starts watching `mesh.root`; each settled batch of changes triggers one rebuild on a background thread.
pub fn spawn(mesh: Arc<Mesh>, opts: WatchOptions) -> anyhow::Result<Watcher> {
    if opts.mode == WatchMode::Poll {
        return start_polling(&mesh, opts.poll_interval);
    }
    let (tx, rx) = mpsc::channel::<Batch>();
    let config = notify::Config::default().with_follow_symlinks(false);
    let watcher = match start::<notify::RecommendedWatcher>(&mesh, tx, config) {
        Ok(d) => d,
        Err(e) if is_watch_limit(&e) => {
            tracing::warn!(
                error = %e,
                "the system's file watch limit is reached (raise fs.inotify.max_user_watches); watching by polling every {} ms instead",
                opts.poll_interval.as_millis()
            );
            return start_polling(&mesh, opts.poll_interval);
        }
        Err(e) => return Err(e.into()),
    };
    mesh.set_watch_mode("native");
    let (quiet, quiet_after_close) = (opts.quiet, opts.quiet_after_close);
    std::thread::Builder::new()
        .name("meshbox-rebuild".into())
        .spawn(move || rebuild_on_batches(&mesh, &rx, quiet, quiet_after_close))?;
    Ok(Watcher {
        _watching: Box::new(watcher),
        mode: WatchMode::Native,
    })
}

/// How long after a rebuild for a new folder the folder is looked at again.
const NEW_FOLDER_LOOK: Duration = Duration::from_millis(300);

/// Rebuilds once per settled batch of notified changes, until the watcher is dropped.
fn rebuild_on_batches(mesh: &Mesh, rx: &mpsc::Receiver<Batch>, quiet: Duration, quiet_after_close: Duration) {
    let ignore = ignorer(mesh);
    let mut pending: Option<Batch> = None;
    loop {
        let mut batch = match pending.take() {
            Some(b) => b,
            None => match rx.recv() {
                Ok(b) => b,
                Err(_) => return,
            },
        };
        // Events arriving while the files settle join the batch.
        settle(rx, &mut batch, quiet, quiet_after_close);
        // Taken before the rebuild reads the folder: a later look compares against what the rebuild saw at least.
        let built = batch.new_folder.then(|| list_folder(&mesh.root, &ignore));
        let _ = mesh.rebuild_after(batch.first);
        let Some(built) = built else { continue };
        // Files written into a folder right after it was created can escape the watch: look once more (unless new
        // changes arrive first, which cause a rebuild anyway); what the look finds is handled like a notified batch.
        match rx.recv_timeout(NEW_FOLDER_LOOK) {
            Ok(more) => pending = Some(more),
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let now = list_folder(&mesh.root, &ignore);
                let missed = changes(&built, &now);
                if !missed.is_empty() {
                    pending = Some(Batch::missed(&mesh.root, missed, &now));
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => return,
        }
    }
}

/// Waits (at most 60 s) until the batch is settled; batches arriving meanwhile join it. A complete batch (every file
/// closed by its writer, renamed into place or removed) is settled once nothing more came for `gap`. Otherwise the
/// folder must stay quiet for `quiet` and none of the batch's paths change between two looks `quiet` apart: a big
/// export copied in several writes is loaded once, complete.
fn settle(rx: &mpsc::Receiver<Batch>, batch: &mut Batch, quiet: Duration, gap: Duration) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut before = list_paths(&batch.paths);
    while Instant::now() < deadline {
        let complete = batch.is_complete();
        match rx.recv_timeout(if complete { gap } else { quiet }) {
            Ok(more) => {
                batch.merge(more);
                continue;
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => return,
            Err(mpsc::RecvTimeoutError::Timeout) if complete => return,
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        let now = list_paths(&batch.paths);
        if changes(&before, &now).is_empty() {
            return;
        }
        before = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i128 = 1_700_000_000_000_000_000;

    fn file(size: u64, modified_ns: i128) -> Fingerprint {
        Fingerprint {
            kind: EntryKind::File,
            size,
            modified_ns,
        }
    }

    fn folder(size: u64, modified_ns: i128) -> Fingerprint {
        Fingerprint {
            kind: EntryKind::Folder,
            size,
            modified_ns,
        }
    }

    fn listing(entries: &[(&str, Fingerprint)]) -> Listing {
        entries.iter().map(|(p, f)| (PathBuf::from(p), *f)).collect()
    }

    fn paths(list: &[&str]) -> BTreeSet<PathBuf> {
        list.iter().map(PathBuf::from).collect()
    }

    fn only_changed(list: &[&str]) -> Changes {
        Changes {
            changed: paths(list),
            ..Changes::default()
        }
    }

    const CSV: &str = "shop/orders/data/orders.csv";
    const CONTRACT: &str = "shop/orders/orders.odcs.yaml";

    fn mesh_listing() -> Listing {
        listing(&[
            ("shop", folder(4096, T0)),
            ("shop/orders", folder(4096, T0)),
            ("shop/orders/data", folder(4096, T0)),
            (CSV, file(120, T0)),
            (CONTRACT, file(800, T0)),
        ])
    }

    #[test]
    fn identical_listings_have_no_changes() {
        assert!(changes(&mesh_listing(), &mesh_listing()).is_empty());
        assert!(changes(&Listing::new(), &Listing::new()).is_empty());
    }

    #[test]
    fn an_edit_is_a_change_of_size_or_of_modification_time_down_to_the_nanosecond() {
        let before = mesh_listing();
        let mut grown = before.clone();
        grown.insert(CSV.into(), file(150, T0));
        assert_eq!(changes(&before, &grown), only_changed(&[CSV]));
        let mut touched = before.clone();
        touched.insert(CONTRACT.into(), file(800, T0 + 1));
        assert_eq!(changes(&before, &touched), only_changed(&[CONTRACT]));
        let mut both = grown.clone();
        both.insert(CONTRACT.into(), file(800, T0 + 1));
        assert_eq!(changes(&before, &both), only_changed(&[CONTRACT, CSV]));
    }

    #[test]
    fn a_rewrite_keeping_size_and_modification_time_is_not_seen_because_content_is_never_read() {
        // `touch -r` after an edit of the same length: the listing cannot tell, and neither can the snapshot.
        let before = mesh_listing();
        let rewritten = mesh_listing();
        assert!(changes(&before, &rewritten).is_empty());
    }

    #[test]
    fn adds_and_removes_are_told_apart() {
        let before = mesh_listing();
        let mut after = before.clone();
        after.remove(Path::new(CONTRACT));
        after.insert("shop/orders/orders.odps.yaml".into(), file(300, T0 + 5));
        let found = changes(&before, &after);
        assert_eq!(found.added, paths(&["shop/orders/orders.odps.yaml"]));
        assert_eq!(found.removed, paths(&[CONTRACT]));
        assert!(found.changed.is_empty(), "{found:?}");
        // The other way round, the roles swap.
        let back = changes(&after, &before);
        assert_eq!((back.added, back.removed), (found.removed, found.added));
    }

    #[test]
    fn a_rename_is_the_old_path_removed_and_the_new_one_added() {
        let before = mesh_listing();
        // A renamed product folder: every path below it moves; the fingerprints travel along.
        let after: Listing = before
            .iter()
            .map(|(p, f)| {
                let moved = p.to_str().unwrap().replacen("shop/orders", "shop/sales", 1);
                (PathBuf::from(moved), *f)
            })
            .collect();
        let found = changes(&before, &after);
        let under = |product: &str| {
            paths(&[
                &format!("shop/{product}"),
                &format!("shop/{product}/data"),
                &format!("shop/{product}/data/orders.csv"),
                &format!("shop/{product}/orders.odcs.yaml"),
            ])
        };
        assert_eq!(found.removed, under("orders"));
        assert_eq!(found.added, under("sales"));
        assert!(
            found.changed.is_empty(),
            "the domain folder `shop` itself did not change: {found:?}"
        );
        // A save by rename over the original (write a temp file, rename it over): the path stays, its fingerprint
        // changes.
        let mut saved = before.clone();
        saved.insert(CSV.into(), file(120, T0 + 2_000_000));
        assert_eq!(changes(&before, &saved), only_changed(&[CSV]));
    }

    #[test]
    fn a_folder_changes_only_when_it_stops_being_a_folder() {
        let before = mesh_listing();
        // Its size and time follow its entries (a temp file that came and went): not a change by itself.
        let mut busy = before.clone();
        busy.insert("shop/orders/data".into(), folder(8192, T0 + 9));
        assert!(changes(&before, &busy).is_empty());
        // A new empty folder is added, a deleted one removed.
        let mut created = before.clone();
        created.insert("lab".into(), folder(4096, T0 + 1));
        assert_eq!(changes(&before, &created).added, paths(&["lab"]));
        assert_eq!(changes(&created, &before).removed, paths(&["lab"]));
        // A file replaced by a folder of the same name, or by a link, changes kind.
        let mut replaced = before.clone();
        replaced.insert(CSV.into(), folder(120, T0));
        assert_eq!(changes(&before, &replaced), only_changed(&[CSV]));
        let mut linked = before.clone();
        linked.insert(
            CSV.into(),
            Fingerprint {
                kind: EntryKind::Link,
                size: 120,
                modified_ns: T0,
            },
        );
        assert_eq!(changes(&before, &linked), only_changed(&[CSV]));
    }

    #[test]
    fn the_poller_rebuilds_once_a_change_holds_still() {
        let built = mesh_listing();
        assert_eq!(poll_step(&built, &built, &built), PollStep::Idle);
        // A file being written: it differs from the last rebuild and from the previous look, look after look.
        let mut looks = Vec::new();
        for size in [1_000, 2_000, 3_000] {
            let mut l = built.clone();
            l.insert(CSV.into(), file(size, T0 + size as i128));
            looks.push(l);
        }
        assert_eq!(poll_step(&built, &built, &looks[0]), PollStep::Settling);
        assert_eq!(poll_step(&built, &looks[0], &looks[1]), PollStep::Settling);
        assert_eq!(poll_step(&built, &looks[1], &looks[2]), PollStep::Settling);
        // Complete: the same twice in a row.
        assert_eq!(poll_step(&built, &looks[2], &looks[2]), PollStep::Rebuild);
        // After that rebuild, the same listing is nothing new.
        assert_eq!(poll_step(&looks[2], &looks[2], &looks[2]), PollStep::Idle);
    }

    #[test]
    fn the_poller_does_not_lose_a_change_that_settles_later() {
        let built = mesh_listing();
        let mut writing = built.clone();
        writing.insert(CSV.into(), file(500, T0 + 1));
        let mut done = built.clone();
        done.insert(CSV.into(), file(900, T0 + 2));
        assert_eq!(poll_step(&built, &built, &writing), PollStep::Settling);
        assert_eq!(poll_step(&built, &writing, &done), PollStep::Settling);
        // Compared with the last rebuild, not with the last look: the finished file is still a change.
        assert_eq!(poll_step(&built, &done, &done), PollStep::Rebuild);
        // A change undone before it settled is nothing to rebuild.
        assert_eq!(poll_step(&built, &writing, &built), PollStep::Idle);
    }

    #[test]
    fn missed_changes_become_a_batch_below_the_root() {
        let before = mesh_listing();
        let mut now = before.clone();
        now.insert("lab".into(), folder(4096, T0));
        now.insert("lab/fresh.csv".into(), file(6, T0));
        now.remove(Path::new(CONTRACT));
        let batch = Batch::missed(Path::new("/m"), changes(&before, &now), &now);
        assert_eq!(
            batch.paths,
            paths(&["/m/lab", "/m/lab/fresh.csv", &format!("/m/{CONTRACT}")])
        );
        assert!(batch.new_folder, "a new folder is looked at once more");
        let mut edited = before.clone();
        edited.insert(CSV.into(), file(1, T0 + 1));
        assert!(!Batch::missed(Path::new("/m"), changes(&before, &edited), &edited).new_folder);
    }

    fn events(batch: &mut Batch, list: &[(EventKind, &str)]) {
        let at = Instant::now();
        for (kind, path) in list {
            let p = PathBuf::from(path);
            batch.add(kind, vec![&p], at);
        }
    }

    const WRITE: EventKind = EventKind::Modify(ModifyKind::Data(notify::event::DataChange::Any));
    const CLOSE_WRITE: EventKind = EventKind::Access(AccessKind::Close(AccessMode::Write));

    #[test]
    fn a_file_its_writer_closed_is_complete_until_it_is_written_again() {
        let mut batch = Batch::default();
        events(&mut batch, &[(WRITE, CSV)]);
        assert!(!batch.is_complete(), "still open: its size must settle first");
        events(&mut batch, &[(CLOSE_WRITE, CSV)]);
        assert!(batch.is_complete());
        events(&mut batch, &[(WRITE, CSV)]);
        assert!(!batch.is_complete(), "opened and written again");
        // Every path must be complete, not just one.
        let mut two = Batch::default();
        events(&mut two, &[(WRITE, CSV), (CLOSE_WRITE, CSV), (WRITE, CONTRACT)]);
        assert!(!two.is_complete());
        events(&mut two, &[(CLOSE_WRITE, CONTRACT)]);
        assert!(two.is_complete());
    }

    #[test]
    fn renamed_into_place_and_removed_files_are_complete_new_folders_and_rescans_are_not() {
        let rename = EventKind::Modify(ModifyKind::Name(notify::event::RenameMode::Both));
        let remove = EventKind::Remove(notify::event::RemoveKind::File);
        let mut batch = Batch::default();
        events(&mut batch, &[(rename, CSV), (remove, CONTRACT)]);
        assert!(batch.is_complete());
        let created = EventKind::Create(CreateKind::File);
        let mut touched = Batch::default();
        events(&mut touched, &[(created, CSV)]);
        assert!(!touched.is_complete(), "created, not yet closed");
        let mut folder = Batch::default();
        events(
            &mut folder,
            &[
                (EventKind::Create(CreateKind::Folder), "lab"),
                (CLOSE_WRITE, "lab/a.csv"),
            ],
        );
        assert!(!folder.is_complete(), "files in a new folder may have been missed");
        let mut rescan = Batch {
            rescan: true,
            ..Batch::default()
        };
        events(&mut rescan, &[(CLOSE_WRITE, CSV)]);
        assert!(!rescan.is_complete());
    }

    #[test]
    fn a_later_batch_decides_whether_a_path_is_complete_and_the_first_event_is_kept() {
        let early = Instant::now();
        let mut first = Batch::default();
        first.add(&CLOSE_WRITE, vec![&PathBuf::from(CSV)], early);
        let mut later = Batch::default();
        later.add(&WRITE, vec![&PathBuf::from(CSV)], early + Duration::from_millis(5));
        first.merge(later);
        assert!(!first.is_complete(), "written again after it was closed");
        assert_eq!(first.first, Some(early));
        let mut closed = Batch::default();
        closed.add(
            &CLOSE_WRITE,
            vec![&PathBuf::from(CSV)],
            early + Duration::from_millis(9),
        );
        first.merge(closed);
        assert!(first.is_complete());
        assert_eq!(first.first, Some(early));
    }

    #[test]
    fn a_writer_closing_a_file_counts_and_reads_do_not() {
        assert!(relevant_kind(&CLOSE_WRITE));
        assert!(relevant_kind(&WRITE));
        for read in [
            EventKind::Access(AccessKind::Open(AccessMode::Any)),
            EventKind::Access(AccessKind::Close(AccessMode::Read)),
            EventKind::Access(AccessKind::Read),
            EventKind::Modify(ModifyKind::Metadata(MetadataKind::AccessTime)),
        ] {
            assert!(!relevant_kind(&read), "{read:?}");
        }
    }

    fn write(root: &Path, rel: &str, text: &str) {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    fn set_modified(path: &Path, at: SystemTime) {
        std::fs::File::options()
            .write(true)
            .open(path)
            .unwrap()
            .set_modified(at)
            .unwrap();
    }

    #[test]
    fn a_listing_holds_what_belongs_to_the_mesh_and_never_follows_links() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path();
        write(root, CSV, "a\n1\n");
        write(root, CONTRACT, "kind: DataContract\n");
        for junk in [
            "shop/orders/data/.orders.csv.swp",
            "shop/orders/data/orders.csv~",
            "shop/orders/data/4913",
            "shop/orders/data/x.tmp",
            "shop/.hidden/file.csv",
            "scratch/notes.csv",
            "shop/orders/data/big.parquet",
        ] {
            write(root, junk, "junk");
        }
        write(root, ".gitignore", "scratch/\n");
        std::os::unix::fs::symlink("/etc/passwd", root.join("shop/orders/data/link.csv")).unwrap();
        let ignore = Ignorer::new(root, &["**/*.parquet".into()]).unwrap();
        let listed = list_folder(root, &ignore);
        let kinds: Vec<(&str, EntryKind)> = listed.iter().map(|(p, f)| (p.to_str().unwrap(), f.kind)).collect();
        assert_eq!(
            kinds,
            [
                ("shop", EntryKind::Folder),
                ("shop/orders", EntryKind::Folder),
                ("shop/orders/data", EntryKind::Folder),
                ("shop/orders/data/link.csv", EntryKind::Link),
                (CSV, EntryKind::File),
                (CONTRACT, EntryKind::File),
            ]
        );
        assert_eq!(listed[Path::new(CSV)].size, 4);
        assert_eq!(
            listed[Path::new("shop/orders/data/link.csv")].size,
            "/etc/passwd".len() as u64,
            "the link itself, not what it points to"
        );
    }

    #[test]
    fn a_listing_sees_what_the_folder_holds_now() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path();
        let ignore = Ignorer::none();
        write(root, CSV, "a\n1\n");
        let csv = root.join(CSV);
        let at = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        set_modified(&csv, at);
        let before = list_folder(root, &ignore);
        // Same length, other content, the time put back: unseen (content is never read).
        std::fs::write(&csv, "a\n2\n").unwrap();
        set_modified(&csv, at);
        assert!(changes(&before, &list_folder(root, &ignore)).is_empty());
        // Same length, a millisecond later: seen.
        set_modified(&csv, at + Duration::from_millis(1));
        assert_eq!(changes(&before, &list_folder(root, &ignore)), only_changed(&[CSV]));
        // A temp file beside it comes and goes: nothing.
        write(root, "shop/orders/data/.orders.csv.swp", "x");
        set_modified(&csv, at);
        assert!(changes(&before, &list_folder(root, &ignore)).is_empty());
        // Deleted: removed, with nothing else.
        std::fs::remove_file(&csv).unwrap();
        let found = changes(&before, &list_folder(root, &ignore));
        assert_eq!((found.removed, found.added.len()), (paths(&[CSV]), 0));
    }

    #[test]
    fn notified_paths_count_unless_they_are_temp_files_hidden_or_ignored() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path();
        let ignore = Ignorer::new(root, &["scratch".into()]).unwrap();
        for rel in ["", CSV, "shop/orders/orders.odcs.yaml", "lab/fresh"] {
            assert!(relevant_path(root, &ignore, &root.join(rel)), "{rel}");
        }
        for rel in [
            "shop/orders/data/.orders.csv.swp",
            "shop/orders/data/#orders.csv#",
            "shop/orders/data/___jb_tmp___",
            "shop/.git/index",
            "scratch/a.csv",
        ] {
            assert!(!relevant_path(root, &ignore, &root.join(rel)), "{rel}");
        }
        // The root's own location never counts against it.
        let hidden_root = root.join(".meshes/m");
        assert!(relevant_path(&hidden_root, &Ignorer::none(), &hidden_root.join(CSV)));
    }
}
