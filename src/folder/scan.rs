//! Walks a mesh folder and finds its parts: `mesh.yaml`, domains, and product folders with their manifests.
//! Only names and metadata are read here (plus a peek at unnamed YAML files); parsing is the loader's job.

use crate::base::diagnostics::Diagnostic;
use std::collections::BTreeMap;
use std::fs;
use std::hash::{Hash, Hasher};
use std::io::Read;
use std::path::{Path, PathBuf};

/// What a walk needs to know: where the mesh starts and what to leave out.
struct Ctx<'a> {
    root: &'a Path,
    ignore: &'a Ignorer,
}

/// Paths left out of the mesh: the root `.gitignore` and `--ignore` globs (on paths relative to the mesh root).
#[derive(Debug, Clone)]
pub struct Ignorer {
    gitignore: Option<ignore::gitignore::Gitignore>,
    globs: globset::GlobSet,
}

impl Ignorer {
    /// Nothing ignored beyond editor temp files and hidden entries.
    pub fn none() -> Ignorer {
        Ignorer {
            gitignore: None,
            globs: globset::GlobSet::empty(),
        }
    }

    /// The mesh's `.gitignore` (when present) plus `globs`. A bad glob is an error naming it.
    pub fn new(root: &Path, globs: &[String]) -> Result<Ignorer, String> {
        let gi = root.join(".gitignore");
        let gitignore = if fs::symlink_metadata(&gi).is_ok_and(|m| m.is_file()) {
            let mut b = ignore::gitignore::GitignoreBuilder::new(root);
            if let Some(e) = b.add(&gi) {
                tracing::warn!(error = %e, "part of .gitignore could not be read");
            }
            b.build().ok()
        } else {
            None
        };
        let mut set = globset::GlobSetBuilder::new();
        for g in globs {
            let glob = globset::GlobBuilder::new(g)
                .literal_separator(false)
                .build()
                .map_err(|e| format!("--ignore `{g}`: {e}"))?;
            set.add(glob);
            // `data/tmp` also means everything below it.
            if let Ok(below) = globset::Glob::new(&format!("{}/**", g.trim_end_matches('/'))) {
                set.add(below);
            }
        }
        Ok(Ignorer {
            gitignore,
            globs: set.build().map_err(|e| e.to_string())?,
        })
    }

    /// Is this path (relative to the mesh root) left out?
    pub fn is_ignored(&self, rel: &Path, is_dir: bool) -> bool {
        if self.globs.is_match(rel) {
            return true;
        }
        match &self.gitignore {
            Some(g) => g.matched_path_or_any_parents(rel, is_dir).is_ignore(),
            None => false,
        }
    }
}

/// What kind of manifest a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ManifestKind {
    Contract,
    Descriptor,
}

/// A product folder (or a single manifest standing in a domain folder) found in the mesh.
#[derive(Debug, Clone)]
pub struct ProductDir {
    /// The domain folder name; None when the product sits directly under the mesh root.
    pub domain: Option<String>,
    /// The product's name: its folder name, or the manifest's file stem for a bare manifest.
    pub name: String,
    /// The folder holding the product's files.
    pub dir: PathBuf,
    pub descriptors: Vec<PathBuf>,
    pub contracts: Vec<PathBuf>,
    /// Every file that belongs to the product (manifests, data, SQL), for change detection.
    pub files: Vec<PathBuf>,
}

/// A domain folder.
#[derive(Debug, Clone)]
pub struct DomainDir {
    pub name: String,
    pub dir: PathBuf,
    pub domain_file: Option<PathBuf>,
}

/// Everything found in a mesh folder.
#[derive(Debug, Clone)]
pub struct Layout {
    pub root: PathBuf,
    pub mesh_file: Option<PathBuf>,
    pub domains: BTreeMap<String, DomainDir>,
    pub products: Vec<ProductDir>,
    pub diagnostics: Vec<Diagnostic>,
}

/// `mesh.yaml` / `mesh.yml`, at the root of the mesh.
pub fn is_mesh_file_name(name: &str) -> bool {
    name.eq_ignore_ascii_case("mesh.yaml") || name.eq_ignore_ascii_case("mesh.yml")
}

/// `domain.yaml` / `domain.yml`, in a domain folder.
pub fn is_domain_file_name(name: &str) -> bool {
    name.eq_ignore_ascii_case("domain.yaml") || name.eq_ignore_ascii_case("domain.yml")
}

/// Files editors and tools write next to the real ones; never part of a mesh.
pub fn is_ignored_name(name: &str) -> bool {
    name.starts_with('.')
        || name.ends_with('~')
        || name.ends_with(".swp")
        || name.ends_with(".swx")
        || name.ends_with(".swo")
        || name.ends_with(".tmp")
        || name.ends_with(".kate-swp")
        || name.ends_with(".crdownload")
        || name.ends_with(".part")
        || (name.starts_with('#') && name.ends_with('#'))
        || name.starts_with("___jb_")
        || name == "4913"
}

/// The manifest kind a file name says it has (`*.odcs.yaml`, `*.odps.yml`, ...).
pub fn manifest_kind_by_name(name: &str) -> Option<ManifestKind> {
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".odcs.yaml") || lower.ends_with(".odcs.yml") {
        Some(ManifestKind::Contract)
    } else if lower.ends_with(".odps.yaml") || lower.ends_with(".odps.yml") {
        Some(ManifestKind::Descriptor)
    } else {
        None
    }
}

/// A YAML file without the naming convention is still a manifest when it says `kind: DataContract|DataProduct`.
fn manifest_kind_by_content(path: &Path) -> Option<ManifestKind> {
    let lower = path.file_name()?.to_str()?.to_ascii_lowercase();
    if !(lower.ends_with(".yaml") || lower.ends_with(".yml")) || lower == "mesh.yaml" || lower == "domain.yaml" {
        return None;
    }
    let mut head = Vec::with_capacity(8192);
    crate::base::safe_read::open_regular(path)
        .ok()?
        .take(8192)
        .read_to_end(&mut head)
        .ok()?;
    let text = String::from_utf8_lossy(&head);
    for line in text.lines() {
        let l = line.trim_end();
        match l {
            "kind: DataContract" | "kind: \"DataContract\"" | "kind: 'DataContract'" => {
                return Some(ManifestKind::Contract);
            }
            "kind: DataProduct" | "kind: \"DataProduct\"" | "kind: 'DataProduct'" => {
                return Some(ManifestKind::Descriptor);
            }
            _ => {}
        }
    }
    None
}

fn manifest_kind(path: &Path) -> Option<ManifestKind> {
    let name = path.file_name()?.to_str()?;
    manifest_kind_by_name(name).or_else(|| manifest_kind_by_content(path))
}

pub use crate::model::manifest::manifest_stem;

/// Walks `root` (which must exist) and returns what it holds. Never fails on a bad entry: it becomes a diagnostic.
pub fn scan(root: &Path, ignore: &Ignorer) -> Layout {
    let ctx = &Ctx { root, ignore };
    let mut layout = Layout {
        root: root.to_path_buf(),
        mesh_file: None,
        domains: BTreeMap::new(),
        products: Vec::new(),
        diagnostics: Vec::new(),
    };
    let root_files = list_dir(ctx, root, &mut layout.diagnostics);
    for entry in &root_files {
        match entry {
            // A mesh.yaml that is a link or a FIFO is still the mesh's governance file: the loader refuses to read
            // it and says so, rather than acting as if there were none.
            Entry::File(p) | Entry::Special(p, _) if is_mesh_file_name(file_name(p)) => {
                layout.mesh_file = Some(p.clone());
            }
            Entry::Special(p, kind) if file_name(p) != "policies" => {
                layout.diagnostics.push(special_warning(p, kind));
            }
            Entry::Dir(d) if file_name(d) != "policies" => scan_domain(ctx, d, &mut layout),
            _ => {}
        }
    }
    // Manifests directly at the root: each is a product of its own, its domain taken from the manifest.
    let bare: Vec<PathBuf> = root_files
        .iter()
        .filter_map(|e| match e {
            Entry::File(p) => Some(p.clone()),
            _ => None,
        })
        .collect();
    bare_manifest_products(None, root, &bare, &mut layout.products);
    layout
        .products
        .sort_by(|a, b| (a.domain.as_deref(), &a.name).cmp(&(b.domain.as_deref(), &b.name)));
    layout
}

fn scan_domain(ctx: &Ctx, dir: &Path, layout: &mut Layout) {
    let name = file_name(dir).to_string();
    let entries = list_dir(ctx, dir, &mut layout.diagnostics);
    let mut domain_file = None;
    let mut loose_files = Vec::new();
    let mut found_product = false;
    for entry in &entries {
        match entry {
            Entry::File(p) | Entry::Special(p, _) if is_domain_file_name(file_name(p)) => {
                domain_file = Some(p.clone());
            }
            Entry::File(p) => loose_files.push(p.clone()),
            Entry::Special(p, _) if file_name(p) == "policies" => {}
            Entry::Special(p, kind) => layout.diagnostics.push(special_warning(p, kind)),
            Entry::Dir(d) => {
                if file_name(d) == "policies" {
                    continue;
                }
                let mut files = Vec::new();
                walk_files(ctx, d, &mut files, &mut layout.diagnostics);
                let mut descriptors = Vec::new();
                let mut contracts = Vec::new();
                for f in &files {
                    match manifest_kind(f) {
                        Some(ManifestKind::Contract) => contracts.push(f.clone()),
                        Some(ManifestKind::Descriptor) => descriptors.push(f.clone()),
                        None => {}
                    }
                }
                if descriptors.is_empty() && contracts.is_empty() {
                    continue;
                }
                found_product = true;
                layout.products.push(ProductDir {
                    domain: Some(name.clone()),
                    name: file_name(d).to_string(),
                    dir: d.clone(),
                    descriptors,
                    contracts,
                    files,
                });
            }
        }
    }
    let before = layout.products.len();
    bare_manifest_products(Some(&name), dir, &loose_files, &mut layout.products);
    let is_domain = found_product || layout.products.len() > before || domain_file.is_some();
    if is_domain {
        layout.domains.insert(
            name.clone(),
            DomainDir {
                name,
                dir: dir.to_path_buf(),
                domain_file,
            },
        );
    }
}

/// Manifests lying directly in a domain folder (or the root): grouped by file stem into products.
fn bare_manifest_products(domain: Option<&str>, dir: &Path, files: &[PathBuf], out: &mut Vec<ProductDir>) {
    let mut by_stem: BTreeMap<String, ProductDir> = BTreeMap::new();
    for f in files {
        let Some(kind) = manifest_kind(f) else {
            continue;
        };
        let stem = manifest_stem(f);
        let p = by_stem.entry(stem.clone()).or_insert_with(|| ProductDir {
            domain: domain.map(str::to_string),
            name: stem,
            dir: dir.to_path_buf(),
            descriptors: Vec::new(),
            contracts: Vec::new(),
            files: Vec::new(),
        });
        match kind {
            ManifestKind::Contract => p.contracts.push(f.clone()),
            ManifestKind::Descriptor => p.descriptors.push(f.clone()),
        }
        p.files.push(f.clone());
    }
    out.extend(by_stem.into_values());
}

enum Entry {
    File(PathBuf),
    Dir(PathBuf),
    /// A symbolic link, FIFO, socket or device: never followed or opened. Its kind in words.
    Special(PathBuf, &'static str),
}

/// The warning for a special entry that is not a manifest meshbox needs (those are reported when read).
fn special_warning(path: &Path, kind: &'static str) -> Diagnostic {
    if kind == "a symbolic link" {
        Diagnostic::warning("symlink", "symbolic links are not followed; the entry is ignored")
            .in_file(path)
            .hint("copy the file into the mesh folder instead")
    } else {
        Diagnostic::warning(
            "not-regular",
            format!("this entry is {kind}, not a regular file; it is ignored"),
        )
        .in_file(path)
        .hint("meshbox reads only regular files and folders")
    }
}

fn file_name(p: &Path) -> &str {
    p.file_name().and_then(|n| n.to_str()).unwrap_or("")
}

/// The visible entries of one directory, sorted. Symlinks are followed only when they stay inside `dir`'s mesh.
fn list_dir(ctx: &Ctx, dir: &Path, diags: &mut Vec<Diagnostic>) -> Vec<Entry> {
    let rd = match fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) => {
            diags.push(Diagnostic::error("unreadable", format!("cannot read the folder: {e}")).in_file(dir));
            return Vec::new();
        }
    };
    let mut out = Vec::new();
    for entry in rd.flatten() {
        let path = entry.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            diags.push(Diagnostic::warning("bad-name", "file name is not valid UTF-8; ignored").in_file(&path));
            continue;
        };
        if is_ignored_name(name) {
            continue;
        }
        let Ok(ft) = entry.file_type() else { continue };
        if ctx
            .ignore
            .is_ignored(path.strip_prefix(ctx.root).unwrap_or(&path), ft.is_dir())
        {
            continue;
        }
        if ft.is_dir() {
            out.push(Entry::Dir(path));
        } else if ft.is_file() {
            out.push(Entry::File(path));
        } else {
            // Symlinks are never followed (a link could lead anywhere on the machine); FIFOs and devices never
            // opened (they block or never end).
            let kind = entry
                .metadata()
                .ok()
                .and_then(|m| crate::base::safe_read::irregular_kind(&m))
                .unwrap_or("not a regular file");
            out.push(Entry::Special(path, kind));
        }
    }
    out.sort_by(|a, b| entry_path(a).cmp(entry_path(b)));
    out
}

fn entry_path(e: &Entry) -> &Path {
    match e {
        Entry::File(p) | Entry::Dir(p) | Entry::Special(p, _) => p,
    }
}

fn walk_files(ctx: &Ctx, dir: &Path, out: &mut Vec<PathBuf>, diags: &mut Vec<Diagnostic>) {
    for entry in list_dir(ctx, dir, diags) {
        match entry {
            Entry::File(p) => out.push(p),
            Entry::Dir(d) => walk_files(ctx, &d, out, diags),
            Entry::Special(p, kind) => diags.push(special_warning(&p, kind)),
        }
    }
}

/// A fingerprint of files by path, size and modification time: equal fingerprints mean nothing changed.
pub fn fingerprint<'a>(files: impl IntoIterator<Item = &'a Path>) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for f in files {
        f.hash(&mut h);
        match fs::metadata(f) {
            Ok(m) => {
                m.len().hash(&mut h);
                if let Ok(t) = m.modified() {
                    t.hash(&mut h);
                }
            }
            Err(_) => 0u8.hash(&mut h),
        }
    }
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(root: &Path, rel: &str, text: &str) {
        let p = root.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
    }

    #[test]
    fn finds_domains_products_and_bare_manifests() {
        let t = tempfile::tempdir().unwrap();
        let r = t.path();
        touch(r, "mesh.yaml", "name: m");
        touch(r, "sales/domain.yaml", "title: Sales");
        touch(r, "sales/orders/orders.odcs.yaml", "kind: DataContract");
        touch(r, "sales/orders/data/orders.csv", "a\n1\n");
        touch(r, "sales/orders/.orders.odcs.yaml.swp", "x");
        touch(r, "sales/returns.odcs.yaml", "kind: DataContract");
        touch(r, "hr/people/contract.yaml", "apiVersion: v3.1.0\nkind: DataContract\n");
        touch(r, "hr/notes/readme.md", "no manifest here");
        touch(r, "policies/p.yaml", "id: x");
        let l = scan(r, &Ignorer::none());
        assert!(l.mesh_file.is_some());
        let names: Vec<_> = l
            .products
            .iter()
            .map(|p| format!("{}/{}", p.domain.as_deref().unwrap_or("-"), p.name))
            .collect();
        assert_eq!(names, ["hr/people", "sales/orders", "sales/returns"]);
        assert_eq!(l.domains.keys().collect::<Vec<_>>(), ["hr", "sales"]);
        let orders = &l.products[1];
        assert_eq!(orders.files.len(), 2, "{:?}", orders.files);
        assert_eq!(l.products[0].contracts.len(), 1);
    }

    #[test]
    fn editor_temp_files_are_ignored() {
        for n in [
            ".#a.yaml",
            "#a.yaml#",
            "a.yaml~",
            "a.swp",
            "4913",
            "x.tmp",
            "___jb_tmp___",
            "a.kate-swp",
        ] {
            assert!(is_ignored_name(n), "{n}");
        }
        assert!(!is_ignored_name("orders.odcs.yaml"));
    }
}
