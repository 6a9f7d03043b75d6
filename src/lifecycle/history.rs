//! The history of every contract: each distinct version meshbox has seen, kept in the state folder (never the mesh
//! folder), and — when the mesh is a git repository — the versions in its git log. Feeds the changelog on product
//! pages and the policy that breaking changes need a major version.

use md5::Digest;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Versions read from git per contract.
const GIT_DEPTH: usize = 10;

#[derive(Debug, Clone, Serialize)]
pub struct Version {
    /// Unix milliseconds: when meshbox first saw it, or the commit time.
    pub at: u64,
    /// `seen` (the state folder) or `git`.
    pub source: &'static str,
    /// The contract's `version` field, and for git the commit.
    pub label: String,
    #[serde(skip)]
    pub text: String,
    pub hash: String,
}

#[derive(Serialize, Deserialize)]
struct IndexLine {
    at: u64,
    hash: String,
    version: Option<String>,
}

fn hash(text: &str) -> String {
    md5::Md5::digest(text.as_bytes())
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The folder keeping one contract file's versions.
fn folder(state: &Path, rel: &Path) -> PathBuf {
    let name: String = rel
        .to_string_lossy()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    state.join("contracts").join(name)
}

/// Keeps the current text of a contract file if meshbox has not seen it before. Returns true when it was new.
pub fn record(state: &Path, rel: &Path, text: &str, version: Option<&str>) -> std::io::Result<bool> {
    let dir = folder(state, rel);
    let h = hash(text);
    let file = dir.join(format!("{h}.odcs.yaml"));
    if file.exists() {
        return Ok(false);
    }
    std::fs::create_dir_all(&dir)?;
    std::fs::write(&file, text)?;
    let line = serde_json::to_string(&IndexLine {
        at: crate::governance::audit::now_ms(),
        hash: h,
        version: version.map(str::to_string),
    })
    .expect("index lines serialize");
    use std::io::Write;
    let mut index = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("index.jsonl"))?;
    writeln!(index, "{line}")?;
    Ok(true)
}

fn seen(state: &Path, rel: &Path) -> Vec<Version> {
    let dir = folder(state, rel);
    let Ok(index) = std::fs::read_to_string(dir.join("index.jsonl")) else {
        return Vec::new();
    };
    index
        .lines()
        .filter_map(|l| serde_json::from_str::<IndexLine>(l).ok())
        .filter_map(|l| {
            let text = std::fs::read_to_string(dir.join(format!("{}.odcs.yaml", l.hash))).ok()?;
            Some(Version {
                at: l.at,
                source: "seen",
                label: l.version.unwrap_or_else(|| "(no version)".into()),
                text,
                hash: l.hash,
            })
        })
        .collect()
}

fn git(root: &Path, args: &[&str]) -> Option<String> {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(root)
        .args(args)
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Is `root` inside a git work tree (asked once per folder and process)?
fn in_git(root: &Path) -> bool {
    static KNOWN: std::sync::OnceLock<std::sync::Mutex<std::collections::HashMap<PathBuf, bool>>> =
        std::sync::OnceLock::new();
    let known = KNOWN.get_or_init(Default::default);
    if let Some(v) = known.lock().unwrap_or_else(|e| e.into_inner()).get(root) {
        return *v;
    }
    let v = root.join(".git").exists() || git(root, &["rev-parse", "--git-dir"]).is_some();
    known
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(root.to_path_buf(), v);
    v
}

/// The committed versions of `rel` (relative to the mesh root), newest first; empty outside a git repository.
fn committed(root: &Path, rel: &Path) -> Vec<Version> {
    if !in_git(root) {
        return Vec::new();
    }
    let Some(prefix) = git(root, &["rev-parse", "--show-prefix"]) else {
        return Vec::new();
    };
    let path = format!("{}{}", prefix.trim(), rel.to_string_lossy());
    let Some(log) = git(
        root,
        &[
            "log",
            &format!("-n{GIT_DEPTH}"),
            "--format=%H%x1f%ct%x1f%s",
            "--",
            &rel.to_string_lossy(),
        ],
    ) else {
        return Vec::new();
    };
    log.lines()
        .filter_map(|line| {
            let mut parts = line.split('\u{1f}');
            let (sha, time, subject) = (parts.next()?, parts.next()?, parts.next().unwrap_or(""));
            let text = git(root, &["show", &format!("{sha}:{path}")])?;
            let version = crate::base::yaml::Document::parse(rel, &text)
                .ok()
                .and_then(|d| d.value.get("version").and_then(crate::base::yaml::scalar_text));
            Some(Version {
                at: time.parse::<u64>().ok()? * 1000,
                source: "git",
                label: format!(
                    "{} ({} {})",
                    version.unwrap_or_else(|| "(no version)".into()),
                    &sha[..8.min(sha.len())],
                    subject.chars().take(60).collect::<String>()
                ),
                hash: hash(&text),
                text,
            })
        })
        .collect()
}

/// Every known version of a contract file, oldest first, one per distinct content.
pub fn versions(state: Option<&Path>, root: &Path, rel: &Path) -> Vec<Version> {
    let mut all = committed(root, rel);
    if let Some(s) = state {
        all.extend(seen(s, rel));
    }
    all.sort_by_key(|v| v.at);
    let mut out: Vec<Version> = Vec::new();
    for v in all {
        if !out.iter().any(|o| o.hash == v.hash) {
            out.push(v);
        }
    }
    out
}

/// The most recent version whose content differs from `current`.
pub fn previous(state: Option<&Path>, root: &Path, rel: &Path, current: &str) -> Option<Version> {
    let h = hash(current);
    versions(state, root, rel).into_iter().rev().find(|v| v.hash != h)
}

/// Parses a stored version as a contract.
pub fn parse(rel: &Path, text: &str) -> Option<crate::model::manifest::odcs::Contract> {
    let doc = crate::base::yaml::Document::parse(rel, text).ok()?;
    crate::model::manifest::odcs::Contract::read(doc, &mut Vec::new())
}

/// One step of a product page's changelog.
#[derive(Debug, Clone, Serialize)]
pub struct ChangelogEntry {
    pub file: String,
    pub at: String,
    pub source: &'static str,
    pub label: String,
    pub breaking: usize,
    pub changes: Vec<crate::checks::diff::Change>,
}

/// The changelog of a contract file: each version against the one before it (the current file last), newest first.
pub fn changelog(state: Option<&Path>, root: &Path, rel: &Path, current: &str) -> Vec<ChangelogEntry> {
    let mut vs = versions(state, root, rel);
    if vs.last().is_none_or(|v| v.hash != hash(current)) {
        vs.push(Version {
            at: crate::governance::audit::now_ms(),
            source: "current",
            label: "working copy".into(),
            text: current.to_string(),
            hash: hash(current),
        });
    }
    let mut out = Vec::new();
    for pair in vs.windows(2) {
        let (Some(a), Some(b)) = (parse(rel, &pair[0].text), parse(rel, &pair[1].text)) else {
            continue;
        };
        let changes = crate::checks::diff::diff(&a, &b);
        out.push(ChangelogEntry {
            file: rel.display().to_string(),
            at: crate::base::format::utc_time(pair[1].at),
            source: pair[1].source,
            label: pair[1].label.clone(),
            breaking: changes
                .iter()
                .filter(|c| c.impact == crate::checks::diff::Impact::Breaking)
                .count(),
            changes,
        });
    }
    out.reverse();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_kept_once_each_in_order() {
        let state = tempfile::tempdir().unwrap();
        let rel = Path::new("sales/orders/orders.odcs.yaml");
        assert!(record(state.path(), rel, "a: 1\n", Some("1.0.0")).unwrap());
        assert!(!record(state.path(), rel, "a: 1\n", Some("1.0.0")).unwrap());
        assert!(record(state.path(), rel, "a: 2\n", Some("2.0.0")).unwrap());
        let v = versions(Some(state.path()), state.path(), rel);
        assert_eq!(
            v.iter().map(|v| v.label.as_str()).collect::<Vec<_>>(),
            ["1.0.0", "2.0.0"]
        );
        assert_eq!(
            previous(Some(state.path()), state.path(), rel, "a: 2\n").unwrap().label,
            "1.0.0"
        );
        assert!(previous(Some(state.path()), state.path(), rel, "a: 1\n").is_some());
    }
}
