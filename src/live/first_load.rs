//! What the first load of a served mesh has done so far: the web server answers from the moment it starts, and
//! until the mesh is ready every page shows this (and `/api/status` says it) instead of a catalog not built yet.

use crate::base::progress::Progress;
use serde::Serialize;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// The first load's progress, told by the stages through a [`crate::base::progress::ProgressSink`].
#[derive(Debug)]
pub struct FirstLoad {
    started: Instant,
    now: Mutex<Step>,
    ready: AtomicBool,
}

#[derive(Debug, Clone, Default)]
struct Step {
    phase: String,
    done: usize,
    total: usize,
    error: Option<String>,
}

/// A moment of the first load, as `/api/status` and the progress page show it.
#[derive(Debug, Clone, Serialize)]
pub struct LoadProgress {
    pub ready: bool,
    /// What runs now: `reading the folder`, `loading`, `testing`, ...
    pub phase: String,
    /// Steps of the phase done, of `total` (0 when the phase has no count).
    pub done: usize,
    pub total: usize,
    pub elapsed_ms: u64,
    /// Set when the first load failed: the mesh cannot be served.
    pub error: Option<String>,
}

impl FirstLoad {
    /// A first load about to begin.
    pub fn starting() -> FirstLoad {
        FirstLoad {
            started: Instant::now(),
            now: Mutex::new(Step {
                phase: "starting".into(),
                ..Step::default()
            }),
            ready: AtomicBool::new(false),
        }
    }

    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    /// The mesh is served from now on.
    pub fn finish(&self) {
        self.ready.store(true, Ordering::Release);
    }

    /// The first load failed: nothing will be served; pages say why.
    pub fn fail(&self, error: String) {
        self.step_mut().error = Some(error);
    }

    pub fn progress(&self) -> LoadProgress {
        let step = self.step_mut().clone();
        LoadProgress {
            ready: self.is_ready(),
            phase: step.phase,
            done: step.done,
            total: step.total,
            elapsed_ms: self.started.elapsed().as_millis() as u64,
            error: step.error,
        }
    }

    fn step_mut(&self) -> std::sync::MutexGuard<'_, Step> {
        self.now.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Progress for FirstLoad {
    fn phase(&self, name: &str, total: usize) {
        let mut step = self.step_mut();
        step.phase = name.to_string();
        step.done = 0;
        step.total = total;
    }

    fn step(&self) {
        self.step_mut().done += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_steps_of_each_phase_and_says_when_ready() {
        let load = FirstLoad::starting();
        load.phase("loading", 3);
        load.step();
        load.step();
        let p = load.progress();
        assert_eq!((p.phase.as_str(), p.done, p.total, p.ready), ("loading", 2, 3, false));
        load.phase("testing", 3);
        assert_eq!(load.progress().done, 0);
        load.finish();
        assert!(load.progress().ready);
    }
}
