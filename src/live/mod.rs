//! Stage 8, live: the running mesh — a snapshot built from the folder (reusing what did not change), swapped
//! atomically, and the watcher that rebuilds it when files settle. Takes in a folder; hands on `Arc<Snapshot>`.

pub mod first_load;
pub mod snapshot;
pub mod watch;
