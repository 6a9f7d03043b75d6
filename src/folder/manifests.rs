//! Reads the manifests of a scanned mesh folder: mesh.yaml, domain.yaml files, and each product's ODPS descriptor
//! and ODCS contracts. Every problem becomes a diagnostic with file, line and field; nothing stops at a bad file.

use crate::base::diagnostics::Diagnostic;
use crate::base::safe_read::{MAX_MANIFEST_BYTES, read_regular};
use crate::base::yaml::Document;
pub use crate::base::yaml::read_document;
use crate::folder::scan::{Layout, ProductDir, fingerprint, scan};
use crate::model::catalog::Domain;
use crate::model::manifest::mesh::{DomainFile, MeshFile};
use crate::model::manifest::odcs::Contract;
use crate::model::manifest::odps::Descriptor;
use std::path::{Path, PathBuf};

/// DuckDB schema names a domain cannot take.
const RESERVED_DOMAINS: &[&str] = &["information_schema", "pg_catalog", "temp", "system", "mesh"];

/// A product's manifests, read but not loaded.
#[derive(Debug, Clone)]
pub struct ProductSpec {
    pub domain: String,
    pub name: String,
    pub dir: PathBuf,
    pub descriptor: Option<Descriptor>,
    pub contracts: Vec<Contract>,
    pub diagnostics: Vec<Diagnostic>,
    /// Changes whenever any file in the product folder changes.
    pub fingerprint: u64,
    /// Tables built by SQL over the product's inputs (derived products).
    pub transforms: Vec<Transform>,
}

/// A `*.sql` file that produces one table of a derived product from the products it consumes.
#[derive(Debug, Clone)]
pub struct Transform {
    pub file: PathBuf,
    /// Which contract (index) and schema object (index) it produces.
    pub contract: usize,
    pub object: usize,
    pub sql: String,
}

/// The SQL transforms of a product folder: `<table>.sql` produces that table; a single `*.sql` with a single table
/// produces it. Only products that consume others (ODPS input ports) are derived.
fn read_transforms(
    dir: &ProductDir,
    root: &Path,
    descriptor: Option<&Descriptor>,
    contracts: &[Contract],
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<Transform> {
    let sql_files: Vec<&PathBuf> = dir
        .files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e.eq_ignore_ascii_case("sql")))
        .collect();
    if sql_files.is_empty() {
        return Vec::new();
    }
    let rel = |p: &Path| p.strip_prefix(root).unwrap_or(p).to_path_buf();
    if descriptor.is_none_or(|d| d.input_ports.is_empty()) {
        for f in sql_files {
            diagnostics.push(
                Diagnostic::info(
                    "sql-ignored",
                    "a SQL transform builds a derived product from its inputs, but this product declares no ODPS input ports; the file is ignored",
                )
                .in_file(rel(f))
                .hint("add `inputPorts` naming the contracts it reads to the product's *.odps.yaml"),
            );
        }
        return Vec::new();
    }
    let tables: Vec<(usize, usize, &str)> = contracts
        .iter()
        .enumerate()
        .flat_map(|(ci, c)| {
            c.tables
                .iter()
                .enumerate()
                .map(move |(oi, t)| (ci, oi, t.name.as_str()))
        })
        .collect();
    let mut out: Vec<Transform> = Vec::new();
    for f in &sql_files {
        let stem = f.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        let target = tables.iter().find(|(_, _, name)| name.eq_ignore_ascii_case(stem)).or(
            if sql_files.len() == 1 && tables.len() == 1 {
                tables.first()
            } else {
                None
            },
        );
        let Some((ci, oi, _)) = target else {
            diagnostics.push(
                Diagnostic::warning(
                    "sql-unmatched",
                    format!(
                        "`{}` names no table of the product's contracts ({}); it is ignored",
                        f.file_name().and_then(|n| n.to_str()).unwrap_or(""),
                        tables.iter().map(|t| t.2).collect::<Vec<_>>().join(", ")
                    ),
                )
                .in_file(rel(f))
                .hint("name the file after the table it produces: <table>.sql"),
            );
            continue;
        };
        let text = read_regular(f, MAX_MANIFEST_BYTES)
            .map_err(|e| e.to_string())
            .and_then(|b| String::from_utf8(b).map_err(|_| "the file is not UTF-8 text".to_string()));
        match text {
            Ok(sql) => out.push(Transform {
                file: (*f).clone(),
                contract: *ci,
                object: *oi,
                sql,
            }),
            Err(e) => diagnostics
                .push(Diagnostic::error("unreadable", format!("cannot read the SQL transform: {e}")).in_file(rel(f))),
        }
    }
    out
}

impl ProductSpec {
    pub fn key(&self) -> String {
        format!("{}/{}", self.domain, self.name)
    }
}

/// The manifests of a whole mesh.
#[derive(Debug, Clone)]
pub struct MeshSpec {
    pub root: PathBuf,
    pub name: String,
    pub mesh_file: MeshFile,
    pub domains: Vec<Domain>,
    /// Shared with the previous snapshot when unchanged (no re-parse, no deep copy).
    pub products: Vec<std::sync::Arc<ProductSpec>>,
    pub diagnostics: Vec<Diagnostic>,
    /// `mesh.yaml` and `domain.yaml` files (relative to the root) that could not be read whole or hold an error.
    pub governance_broken: Vec<PathBuf>,
}

/// Reads one contract file, with its problems as diagnostics (positions relative to `root`).
pub fn read_contract(path: &Path, root: &Path) -> (Option<Contract>, Vec<Diagnostic>) {
    let doc = match read_document(path) {
        Ok(d) => d,
        Err(d) => return (None, vec![d.relative_to(root)]),
    };
    let mut problems = Vec::new();
    let probe = doc.clone();
    let contract = Contract::read(doc, &mut problems);
    (contract, with_lint(&probe, path, root, problems))
}

/// What reading a manifest found, and the lint findings it did not (one pass per read, so once per change of the
/// file), relative to `root`.
fn with_lint(doc: &Document, path: &Path, root: &Path, problems: Vec<crate::base::yaml::Problem>) -> Vec<Diagnostic> {
    let mut diags: Vec<Diagnostic> = problems.into_iter().map(|p| doc.diagnostic(p)).collect();
    crate::folder::lint::merge_into(&mut diags, crate::folder::lint::lint_document(doc, path));
    diags.into_iter().map(|d| d.relative_to(root)).collect()
}

fn read_descriptor(path: &Path, root: &Path) -> (Option<Descriptor>, Vec<Diagnostic>) {
    let doc = match read_document(path) {
        Ok(d) => d,
        Err(d) => return (None, vec![d.relative_to(root)]),
    };
    let mut problems = Vec::new();
    let probe = doc.clone();
    let descriptor = Descriptor::read(doc, &mut problems);
    (descriptor, with_lint(&probe, path, root, problems))
}

/// Reads the manifests of one product folder.
pub fn read_product(dir: &ProductDir, root: &Path) -> ProductSpec {
    let mut diagnostics = Vec::new();
    let mut descriptor = None;
    for (i, path) in dir.descriptors.iter().enumerate() {
        let (d, mut diags) = read_descriptor(path, root);
        diagnostics.append(&mut diags);
        if i == 0 {
            descriptor = d;
        } else {
            diagnostics.push(
                Diagnostic::warning(
                    "extra-descriptor",
                    "a product has one ODPS descriptor; this one is ignored",
                )
                .in_file(path.strip_prefix(root).unwrap_or(path))
                .hint(format!(
                    "keep one *.odps.yaml in {}",
                    dir.dir.strip_prefix(root).unwrap_or(&dir.dir).display()
                )),
            );
        }
    }
    let mut contracts = Vec::new();
    for path in &dir.contracts {
        let (c, mut diags) = read_contract(path, root);
        diagnostics.append(&mut diags);
        if let Some(c) = c {
            contracts.push(c);
        }
    }
    let domain = match &dir.domain {
        Some(folder) => {
            if let Some(declared) = descriptor.as_ref().and_then(|d: &Descriptor| d.domain.clone())
                && !declared.eq_ignore_ascii_case(folder)
            {
                diagnostics.push(
                        Diagnostic::info(
                            "domain-mismatch",
                            format!("the descriptor says domain `{declared}`, the folder says `{folder}`; the folder decides the SQL schema"),
                        )
                        .in_file(dir.descriptors[0].strip_prefix(root).unwrap_or(&dir.descriptors[0])),
                    );
            }
            folder.clone()
        }
        None => descriptor
            .as_ref()
            .and_then(|d| d.domain.clone())
            .or_else(|| contracts.iter().find_map(|c| c.domain.clone()))
            .unwrap_or_else(|| dir.name.clone()),
    };
    if RESERVED_DOMAINS.contains(&domain.to_ascii_lowercase().as_str()) {
        diagnostics.push(
            Diagnostic::error(
                "reserved-name",
                format!("`{domain}` is reserved in DuckDB and cannot name a domain"),
            )
            .in_file(dir.dir.strip_prefix(root).unwrap_or(&dir.dir))
            .hint("rename the domain folder"),
        );
    }
    let transforms = read_transforms(dir, root, descriptor.as_ref(), &contracts, &mut diagnostics);
    ProductSpec {
        domain,
        name: dir.name.clone(),
        dir: dir.dir.clone(),
        descriptor,
        contracts,
        diagnostics,
        fingerprint: fingerprint(dir.files.iter().map(PathBuf::as_path)),
        transforms,
    }
}

/// Scans and reads a whole mesh folder. `previous` lets unchanged products skip re-parsing.
pub fn read_mesh(root: &Path, previous: Option<&MeshSpec>, ignore: &crate::folder::scan::Ignorer) -> MeshSpec {
    let layout: Layout = scan(root, ignore);
    let mut diagnostics: Vec<Diagnostic> = layout
        .diagnostics
        .iter()
        .cloned()
        .map(|d| d.relative_to(root))
        .collect();
    let mut governance_broken = Vec::new();
    let mesh_file = match &layout.mesh_file {
        None => MeshFile::default(),
        Some(path) => read_governance_file(path, root, MeshFile::read, &mut diagnostics, &mut governance_broken),
    };
    let mut domains = Vec::new();
    for d in layout.domains.values() {
        let info = match &d.domain_file {
            None => DomainFile::default(),
            Some(path) => read_governance_file(path, root, DomainFile::read, &mut diagnostics, &mut governance_broken),
        };
        let file = d
            .domain_file
            .as_ref()
            .map(|f| f.strip_prefix(root).unwrap_or(f).to_path_buf());
        domains.push(Domain::new(&d.name, file, info));
    }
    let mut products = Vec::new();
    let known: std::collections::HashMap<(&Path, &str), &std::sync::Arc<ProductSpec>> = previous
        .map(|prev| {
            prev.products
                .iter()
                .map(|p| ((p.dir.as_path(), p.name.as_str()), p))
                .collect()
        })
        .unwrap_or_default();
    for dir in &layout.products {
        let fp = fingerprint(dir.files.iter().map(PathBuf::as_path));
        let reused = known
            .get(&(dir.dir.as_path(), dir.name.as_str()))
            .filter(|p| p.fingerprint == fp)
            .map(|p| std::sync::Arc::clone(p));
        products.push(reused.unwrap_or_else(|| std::sync::Arc::new(read_product(dir, root))));
    }
    // Domains named only by manifests (products directly under the root) still get a domain entry.
    for p in &products {
        if !domains.iter().any(|d| d.name == p.domain) {
            domains.push(Domain::new(&p.domain, None, DomainFile::default()));
        }
    }
    domains.sort_by(|a, b| a.name.cmp(&b.name));
    products.sort_by(|a, b| (&a.domain, &a.name).cmp(&(&b.domain, &b.name)));
    diagnostics.extend(duplicate_contract_ids(&products, root));
    let name = mesh_file.name.clone().unwrap_or_else(|| {
        root.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "mesh".into())
    });
    MeshSpec {
        root: root.to_path_buf(),
        name,
        mesh_file,
        domains,
        products,
        diagnostics,
        governance_broken,
    }
}

/// Contracts sharing one `id`: input ports name contracts by id, so a second one is ambiguous. Each repeat is an
/// error naming both files.
fn duplicate_contract_ids(products: &[std::sync::Arc<ProductSpec>], root: &Path) -> Vec<Diagnostic> {
    let mut first: std::collections::HashMap<&str, &Contract> = std::collections::HashMap::new();
    let mut out = Vec::new();
    for c in products.iter().flat_map(|p| p.contracts.iter()) {
        let Some(id) = c.id.as_deref() else { continue };
        match first.get(id) {
            None => {
                first.insert(id, c);
            }
            Some(earlier) => {
                let rel = |c: &Contract| c.doc.file.strip_prefix(root).unwrap_or(&c.doc.file).to_path_buf();
                let mut d = Diagnostic::error(
                    "duplicate-id",
                    format!(
                        "the contract id `{id}` is also used by {}; input ports cannot tell them apart",
                        rel(earlier).display()
                    ),
                )
                .in_file(rel(c))
                .field("id")
                .hint("give every contract its own `id` (a UUID or a `domain.product` name)");
                if let Some((line, column)) = c.doc.position("id") {
                    d = d.at(line, column);
                }
                out.push(d);
            }
        }
    }
    out
}

/// A governance file that declares nothing is an error: a save caught half-way (or a truncated file) must never
/// lift roles or policies silently.
pub fn refuse_empty(doc: Document) -> Result<Document, Diagnostic> {
    if !doc.value.is_null() {
        return Ok(doc);
    }
    Err(
        Diagnostic::error("empty-file", "this governance file is empty; it is treated as broken")
            .in_file(&doc.file)
            .at(1, 1)
            .hint("write its settings back, or delete the file if it should declare nothing"),
    )
}

/// Reads `mesh.yaml` or a `domain.yaml`. A file that cannot be read whole, or holds an error, is recorded in
/// `broken` (relative to `root`): governance then keeps its last good version instead of this partial reading.
fn read_governance_file<T: Default>(
    path: &Path,
    root: &Path,
    read: fn(Document, &mut Vec<crate::base::yaml::Problem>) -> T,
    diagnostics: &mut Vec<Diagnostic>,
    broken: &mut Vec<PathBuf>,
) -> T {
    let rel = path.strip_prefix(root).unwrap_or(path).to_path_buf();
    match read_document(path).and_then(refuse_empty) {
        Ok(doc) => {
            let mut problems = Vec::new();
            let probe = doc.clone();
            let value = read(doc, &mut problems);
            if problems
                .iter()
                .any(|p| p.severity == crate::base::diagnostics::Severity::Error)
            {
                broken.push(rel);
            }
            diagnostics.extend(problems.into_iter().map(|p| probe.diagnostic(p).relative_to(root)));
            value
        }
        Err(d) => {
            diagnostics.push(d.relative_to(root));
            broken.push(rel);
            T::default()
        }
    }
}
