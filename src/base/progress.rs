//! Progress of long work (loading a mesh), told to whoever shows it: a bar on a terminal in the CLI, nothing
//! otherwise. The stages below `cli` only report; they never draw.

use std::sync::Arc;

/// What shows progress.
pub trait Progress: Send + Sync {
    /// A new phase begins: `total` steps (0 when it has no count).
    fn phase(&self, name: &str, total: usize);
    /// One more step of the current phase is done.
    fn step(&self);
    /// The work is over: whatever was shown goes away.
    fn done(&self) {}
}

/// Where a stage reports its progress; reporting to the default sink costs nothing.
#[derive(Clone, Default)]
pub struct ProgressSink(Option<Arc<dyn Progress>>);

impl std::fmt::Debug for ProgressSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "ProgressSink(shown)"
        } else {
            "ProgressSink(none)"
        })
    }
}

impl ProgressSink {
    pub fn to(progress: Arc<dyn Progress>) -> Self {
        ProgressSink(Some(progress))
    }

    /// Reports to this sink and to `also`.
    pub fn and(self, also: Arc<dyn Progress>) -> Self {
        match self.0 {
            None => ProgressSink(Some(also)),
            Some(first) => ProgressSink(Some(Arc::new(Both(first, also)))),
        }
    }

    pub fn phase(&self, name: &str, total: usize) {
        if let Some(p) = &self.0 {
            p.phase(name, total);
        }
    }

    pub fn step(&self) {
        if let Some(p) = &self.0 {
            p.step();
        }
    }

    pub fn done(&self) {
        if let Some(p) = &self.0 {
            p.done();
        }
    }
}

/// Two sinks told the same.
struct Both(Arc<dyn Progress>, Arc<dyn Progress>);

impl Progress for Both {
    fn phase(&self, name: &str, total: usize) {
        self.0.phase(name, total);
        self.1.phase(name, total);
    }

    fn step(&self) {
        self.0.step();
        self.1.step();
    }

    fn done(&self) {
        self.0.done();
        self.1.done();
    }
}
