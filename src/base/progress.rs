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
