//! The audit log of console and API queries: time, role, endpoint, a hash of the statement, rows returned and the
//! outcome. Appended as JSON lines to `audit.jsonl` in the state folder (never the mesh folder); the most recent
//! entries are also kept in memory for `/audit`.

use md5::Digest;
use serde::Serialize;
use std::collections::VecDeque;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Entries `/audit` can show without reading the file.
const RECENT: usize = 1000;

#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct Entry {
    /// Unix milliseconds.
    pub at: u64,
    pub role: String,
    /// `query`, `export`, `download`.
    pub endpoint: String,
    /// The first 16 hex digits of the MD5 of the statement: equal statements are recognisable, texts are not kept.
    pub statement_hash: String,
    pub rows: u64,
    /// `ok`, `refused`, `sql`, `timeout`, `cancelled`, `unavailable`, `denied`.
    pub outcome: String,
    pub elapsed_ms: f64,
    /// The products (domain/product) whose tables the statement names.
    #[serde(default)]
    pub products: Vec<String>,
}

pub struct Audit {
    file: Option<PathBuf>,
    writer: Mutex<Option<std::fs::File>>,
    recent: Mutex<VecDeque<Entry>>,
}

pub fn statement_hash(sql: &str) -> String {
    md5::Md5::digest(sql.as_bytes())
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl Audit {
    /// Keeps entries in memory only.
    pub fn in_memory() -> Audit {
        Audit {
            file: None,
            writer: Mutex::new(None),
            recent: Mutex::new(VecDeque::new()),
        }
    }

    /// Appends to `dir/audit.jsonl` (the folder is created).
    pub fn in_dir(dir: &Path) -> anyhow::Result<Audit> {
        std::fs::create_dir_all(dir)?;
        let file = dir.join("audit.jsonl");
        let writer = std::fs::OpenOptions::new().create(true).append(true).open(&file)?;
        Ok(Audit {
            file: Some(file),
            writer: Mutex::new(Some(writer)),
            recent: Mutex::new(VecDeque::new()),
        })
    }

    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    pub fn record(&self, entry: Entry) {
        if let Some(w) = self.writer.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
            let mut line = serde_json::to_vec(&entry).expect("entries serialize");
            line.push(b'\n');
            if let Err(e) = w.write_all(&line) {
                tracing::warn!(error = %e, "cannot append to the audit log");
            }
        }
        let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        recent.push_back(entry);
        while recent.len() > RECENT {
            recent.pop_front();
        }
    }

    /// The most recent entries, newest first.
    pub fn recent(&self, n: usize) -> Vec<Entry> {
        let recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        recent.iter().rev().take(n).cloned().collect()
    }
}
