//! The one-way rule of `src/`, checked: every file's `crate::` paths name only its own stage or a lower one, and no
//! two modules import each other, directly or around a loop. The stage order is written here, once.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The stages, lowest first. A file in `src/<stage>/` may use `crate::<s>` only for `s` at or before its stage.
const STAGES: [&str; 11] = [
    "base",
    "model",
    "folder",
    "load",
    "checks",
    "governance",
    "discovery",
    "lifecycle",
    "live",
    "serve",
    "cli",
];

/// Every `.rs` file under `dir`, with its path relative to `src/`.
fn rust_files(src: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(src, &path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path.strip_prefix(src).expect("below src").to_path_buf());
        }
    }
}

/// The module a file belongs to, two levels deep: `governance/policy.rs` → `governance::policy`,
/// `serve/http/views.rs` → `serve::http`, `checks/mod.rs` → `checks`. Top-level files (`lib.rs`) have none.
fn module_of(rel: &Path) -> Option<String> {
    let parts: Vec<String> = rel
        .with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .filter(|p| p != "mod")
        .collect();
    (parts.len() >= 2 || rel.parent().is_some_and(|p| !p.as_os_str().is_empty()))
        .then(|| parts.iter().take(2).cloned().collect::<Vec<_>>().join("::"))
}

/// Source text without comments and string literals, so a doc comment naming a module is not an import.
fn code_only(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let line = match line.find("//") {
            Some(i) if !line[..i].contains('"') => &line[..i],
            _ => line,
        };
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// The modules (`stage::module`, or `stage` for a stage's own `mod.rs` items) a text's `crate::` paths name,
/// including grouped imports (`use crate::{a::b, c::d}`).
fn imported_modules(code: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        let groups: Vec<&str> = if let Some(inner) = rest.strip_prefix('{') {
            let end = inner.find('}').unwrap_or(inner.len());
            inner[..end].split(',').collect()
        } else {
            vec![rest]
        };
        for g in groups {
            let path: Vec<&str> = g
                .trim()
                .split("::")
                // Each segment's leading identifier (`args as a` → `args`); a type name ends the path.
                .map(|s| {
                    let s = s.trim_start();
                    &s[..s.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(s.len())]
                })
                .take_while(|s| {
                    !s.is_empty()
                        && s.chars()
                            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                })
                .take(2)
                .collect();
            if let Some(stage) = path.first().filter(|s| STAGES.contains(s)) {
                found.insert(match path.get(1) {
                    Some(m) => format!("{stage}::{m}"),
                    None => stage.to_string(),
                });
            }
        }
    }
    found
}

fn stage_rank(module: &str) -> Option<usize> {
    let stage = module.split("::").next()?;
    STAGES.iter().position(|s| *s == stage)
}

/// (file, its module, the modules it imports) for every file of `src/` that belongs to a stage.
fn import_graph() -> Vec<(PathBuf, String, BTreeSet<String>)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &src, &mut files);
    files
        .into_iter()
        .filter_map(|rel| {
            let module = module_of(&rel)?;
            let text = std::fs::read_to_string(src.join(&rel)).expect("readable source");
            // Unit tests may reach anywhere; what ships may not.
            let shipped = text.split("#[cfg(test)]").next().unwrap_or("");
            Some((rel, module, imported_modules(&code_only(shipped))))
        })
        .collect()
}

/// Upward imports: (file, the module it names above its stage).
fn upward_imports(graph: &[(PathBuf, String, BTreeSet<String>)]) -> Vec<(PathBuf, String)> {
    let mut found = Vec::new();
    for (file, module, imports) in graph {
        let own = stage_rank(module).unwrap_or_else(|| panic!("{}: not in a stage folder", file.display()));
        for target in imports {
            if stage_rank(target).is_some_and(|r| r > own) {
                found.push((file.clone(), target.clone()));
            }
        }
    }
    found
}

/// One import cycle between modules, if there is any (depth-first search).
fn a_cycle(edges: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|p| p == node) {
            return Some(path[i..].iter().cloned().chain([node.to_string()]).collect());
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in edges.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, edges, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    edges.keys().find_map(|n| visit(n, edges, &mut Vec::new(), &mut done))
}

/// Module → the other modules it imports; a stage's own `mod.rs` items count as the stage's module.
fn module_edges(graph: &[(PathBuf, String, BTreeSet<String>)]) -> BTreeMap<String, BTreeSet<String>> {
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (_, module, imports) in graph {
        let entry = edges.entry(module.clone()).or_default();
        entry.extend(
            imports
                .iter()
                .filter(|t| *t != module && !module.starts_with(&format!("{t}::")))
                .cloned(),
        );
    }
    edges
}

#[test]
fn no_file_imports_a_stage_above_its_own() {
    let graph = import_graph();
    assert!(graph.len() > 50, "the source tree was not found: {} files", graph.len());
    let upward = upward_imports(&graph);
    assert!(
        upward.is_empty(),
        "upward imports (stage order: {}):\n{}",
        STAGES.join(" → "),
        upward
            .iter()
            .map(|(f, t)| format!("  src/{} uses crate::{t}", f.display()))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn no_two_modules_import_each_other() {
    let edges = module_edges(&import_graph());
    if let Some(cycle) = a_cycle(&edges) {
        panic!("an import cycle: {}", cycle.join(" → "));
    }
}

#[test]
fn the_checker_sees_upward_imports_cycles_and_grouped_paths() {
    let code = code_only(
        "use crate::serve::http::views;\n// crate::cli::args in a comment\nuse crate::{base::sql, live::snapshot::Snapshot};\nuse crate::folder::scan as s;\n",
    );
    assert_eq!(
        imported_modules(&code).into_iter().collect::<Vec<_>>(),
        ["base::sql", "folder::scan", "live::snapshot", "serve::http"]
    );
    let graph = vec![(
        PathBuf::from("load/ingest.rs"),
        "load::ingest".to_string(),
        imported_modules(&code),
    )];
    let upward: Vec<String> = upward_imports(&graph).into_iter().map(|(_, t)| t).collect();
    assert_eq!(upward, ["live::snapshot", "serve::http"]);
    let mut edges = BTreeMap::new();
    edges.insert("a::x".to_string(), BTreeSet::from(["a::y".to_string()]));
    edges.insert("a::y".to_string(), BTreeSet::from(["a::z".to_string()]));
    edges.insert("a::z".to_string(), BTreeSet::from(["a::x".to_string()]));
    assert_eq!(a_cycle(&edges).map(|c| c.len()), Some(4));
    edges.get_mut("a::z").unwrap().clear();
    assert_eq!(a_cycle(&edges), None);
    assert_eq!(
        module_of(Path::new("serve/http/views.rs")).as_deref(),
        Some("serve::http")
    );
    assert_eq!(module_of(Path::new("checks/mod.rs")).as_deref(), Some("checks"));
    assert_eq!(module_of(Path::new("lib.rs")), None);
}

#[test]
fn every_file_is_listed_in_the_architecture_doc() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(root.join("docs/architecture.md")).expect("docs/architecture.md");
    let src = root.join("src");
    let mut files = Vec::new();
    rust_files(&src, &src, &mut files);
    let missing: Vec<String> = files
        .iter()
        // Every file below a stage folder; a stage's own `mod.rs` is the section's introduction.
        .filter(|f| match f.components().count() {
            0 | 1 => false,
            2 => !f.ends_with("mod.rs"),
            _ => true,
        })
        .map(|f| f.to_string_lossy().into_owned())
        .filter(|f| !doc.contains(&format!("`{f}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/architecture.md does not list {missing:?} (regenerate its stage sections from the files' //! lines)"
    );
}
