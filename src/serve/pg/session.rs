//! One client connection: the role it acts as, the client settings it `SET` (remembered for `SHOW`, no effect),
//! and its running queries — registered by backend key so a `CancelRequest` from another connection can interrupt
//! them.

use crate::serve::http::Caller;
use duckdb::InterruptHandle;
use pgwire::messages::startup::SecretKey;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub struct Session {
    pub caller: Caller,
    /// The database name the client connected to (any name is accepted).
    pub database: String,
    /// The backend process id the client was given (what `pg_backend_pid()` answers).
    pub pid: i32,
    /// Client settings sent with `SET` or at startup, by lower-case name.
    settings: Mutex<BTreeMap<String, String>>,
    pub running: Arc<Running>,
}

impl Session {
    pub fn new(caller: Caller, database: String, pid: i32, startup: &HashMap<String, String>) -> Session {
        let settings = startup
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "user" | "database" | "options" | "replication"))
            .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
            .collect();
        Session {
            caller,
            database,
            pid,
            settings: Mutex::new(settings),
            running: Arc::new(Running::default()),
        }
    }

    pub fn role(&self) -> &str {
        &self.caller.role.name
    }

    pub fn set(&self, name: &str, value: &str) {
        self.lock().insert(name.to_ascii_lowercase(), value.to_string());
    }

    pub fn reset(&self, name: Option<&str>) {
        match name {
            Some(n) => {
                self.lock().remove(&n.to_ascii_lowercase());
            }
            None => self.lock().clear(),
        }
    }

    /// What the client set for `name`, if anything.
    pub fn setting(&self, name: &str) -> Option<String> {
        self.lock().get(&name.to_ascii_lowercase()).cloned()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, String>> {
        self.settings.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The queries of one connection that are running, with their interrupt handles once DuckDB has one.
#[derive(Default)]
pub struct Running {
    next: AtomicU64,
    queries: Mutex<BTreeMap<u64, Option<Arc<InterruptHandle>>>>,
}

impl Running {
    /// Registers a query that is about to start; `finish` removes it.
    pub fn begin(&self) -> u64 {
        let id = self.next.fetch_add(1, Ordering::SeqCst);
        self.lock().insert(id, None);
        id
    }

    pub fn attach(&self, id: u64, handle: Arc<InterruptHandle>) {
        if let Some(slot) = self.lock().get_mut(&id) {
            *slot = Some(handle);
        }
    }

    pub fn finish(&self, id: u64) {
        self.lock().remove(&id);
    }

    /// Interrupts the queries running now until they are gone (at most 2 s): DuckDB drops an interrupt that
    /// arrives before execution starts, so it is repeated.
    pub async fn cancel(&self) {
        let targets: Vec<u64> = self.lock().keys().copied().collect();
        for _ in 0..100 {
            let handles: Vec<Arc<InterruptHandle>> = {
                let queries = self.lock();
                targets
                    .iter()
                    .filter_map(|id| queries.get(id).cloned())
                    .flatten()
                    .collect()
            };
            let still_running = targets.iter().any(|id| self.lock().contains_key(id));
            if !still_running {
                break;
            }
            for h in handles {
                h.interrupt();
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, Option<Arc<InterruptHandle>>>> {
        self.queries.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Every connection's running queries by backend process id, with the secret key a cancel must name.
#[derive(Default)]
pub struct Backends {
    by_pid: Mutex<HashMap<i32, (SecretKey, Arc<Running>)>>,
}

impl Backends {
    /// Registers a connection; it stays registered until the returned value is dropped.
    pub fn register(self: &Arc<Self>, pid: i32, key: SecretKey, running: Arc<Running>) -> Registration {
        self.lock().insert(pid, (key, running));
        Registration {
            pid,
            backends: self.clone(),
        }
    }

    /// The running queries of the connection a cancel request names, when its key matches.
    pub fn find(&self, pid: i32, key: &SecretKey) -> Option<Arc<Running>> {
        let map = self.lock();
        let (expected, running) = map.get(&pid)?;
        expected.eq_value(key).then(|| running.clone())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i32, (SecretKey, Arc<Running>)>> {
        self.by_pid.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Unregisters a connection when it ends.
pub struct Registration {
    pid: i32,
    backends: Arc<Backends>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.backends.lock().remove(&self.pid);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cancels_need_the_right_key_and_registrations_end_with_the_connection() {
        let backends = Arc::new(Backends::default());
        let running = Arc::new(Running::default());
        let registration = backends.register(7, SecretKey::I32(42), running.clone());
        assert!(backends.find(7, &SecretKey::I32(42)).is_some());
        assert!(backends.find(7, &SecretKey::I32(41)).is_none());
        assert!(backends.find(8, &SecretKey::I32(42)).is_none());
        drop(registration);
        assert!(backends.find(7, &SecretKey::I32(42)).is_none());
        let id = running.begin();
        assert_eq!(running.lock().len(), 1);
        running.finish(id);
        assert!(running.lock().is_empty());
    }
}
