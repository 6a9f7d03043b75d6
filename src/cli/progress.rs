//! The progress bar `serve`, `validate` and `test` draw on standard error while a load runs, when it is a terminal and
//! the work takes longer than half a second; in CI, in a pipe or with `--format json` nothing extra is printed.

use crate::base::progress::{Progress, ProgressSink};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Work shorter than this shows nothing.
const SHOW_AFTER: Duration = Duration::from_millis(500);

/// A bar drawn on standard error once [`SHOW_AFTER`] has passed.
struct TerminalBar {
    bar: ProgressBar,
    finished: AtomicBool,
}

/// Where the CLI reports a load's progress: a terminal bar when `wanted` (text output) and standard error is a
/// terminal (or `MESHBOX_PROGRESS=always`, for tests through a pseudo-terminal), else nowhere.
pub fn sink(wanted: bool) -> ProgressSink {
    let forced = std::env::var("MESHBOX_PROGRESS").is_ok_and(|v| v == "always");
    if !wanted || !(forced || std::io::stderr().is_terminal()) {
        return ProgressSink::default();
    }
    let bar = Arc::new(TerminalBar {
        bar: ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden()),
        finished: AtomicBool::new(false),
    });
    let shown = bar.clone();
    std::thread::spawn(move || {
        std::thread::sleep(SHOW_AFTER);
        if !shown.finished.load(Ordering::SeqCst) {
            shown.bar.set_draw_target(ProgressDrawTarget::stderr());
            shown.bar.enable_steady_tick(Duration::from_millis(120));
        }
    });
    ProgressSink::to(bar)
}

fn counted() -> ProgressStyle {
    ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {pos}/{len} products · {elapsed}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

fn uncounted() -> ProgressStyle {
    ProgressStyle::with_template("{spinner} {msg} · {elapsed}").unwrap_or_else(|_| ProgressStyle::default_spinner())
}

impl Progress for TerminalBar {
    fn phase(&self, name: &str, total: usize) {
        if total > 0 {
            self.bar.set_style(counted());
            self.bar.set_length(total as u64);
            self.bar.set_position(0);
        } else {
            self.bar.set_style(uncounted());
        }
        self.bar.set_message(name.to_string());
    }

    fn step(&self) {
        self.bar.inc(1);
    }

    fn done(&self) {
        self.finished.store(true, Ordering::SeqCst);
        self.bar.finish_and_clear();
    }
}
