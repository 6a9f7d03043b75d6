//! Snapshots of the mesh and how they are built: read manifests, reload only what changed, publish to the serving
//! database, then swap the new immutable snapshot in. A product whose new files are broken keeps its last good version.

use crate::base::diagnostics::{Diagnostic, Severity};
use crate::checks::pipeline::{Options, Outcome};
use crate::folder::manifests::{MeshSpec, ProductSpec, read_mesh};
use crate::governance::Governance;
use crate::live::first_load::FirstLoad;
use crate::load::ingest::{TableLoad, contract_diag};
use crate::load::serving_db::{Publish, ServingDb};
use crate::model::catalog::{Catalog, LoadedColumn, Previous, Product, Status, Table};
use arc_swap::ArcSwap;
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// What the last rebuild did, for `/api/status` and the log.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ReloadInfo {
    pub took_ms: f64,
    /// Products (re)loaded and tested by this build.
    pub reloaded: Vec<String>,
    pub unchanged: usize,
    pub removed: Vec<String>,
    /// Where the build's time went.
    pub phases: BuildPhases,
}

/// Where the time of one build went, in milliseconds (rounded to 0.1), in the order the steps run.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct BuildPhases {
    /// Listing the folder and reading the manifests, governance and policies.
    pub read_ms: f64,
    /// Deciding what to reload.
    pub plan_ms: f64,
    /// Loading and testing the products to reload (they run side by side).
    pub load_ms: f64,
    /// Of `load_ms`: the tests (checks, SLAs, PII scan, column profiles), each product's added up.
    pub checks_ms: f64,
    /// Copying what changed into the unmasked serving database.
    pub publish_ms: f64,
    /// The relationship checks across products.
    pub references_ms: f64,
    /// Contract history, lineage and the governance policies.
    pub policies_ms: f64,
}

/// Milliseconds rounded to 0.1.
fn ms(d: std::time::Duration) -> f64 {
    (d.as_secs_f64() * 1e4).round() / 10.0
}

/// One immutable view of the mesh.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub generation: u64,
    /// Unix milliseconds when this snapshot was built.
    pub built_at: u64,
    /// The mesh as plain data.
    pub catalog: Catalog,
    /// Beside the catalog: the roles, masking and policies in force (the folder's, the last good ones, or a lock)
    /// and what the policies found.
    pub governance: Governance,
    /// Product-level lineage from ODPS input ports.
    pub lineage: Arc<crate::discovery::lineage::Lineage>,
    /// The previous version of each contract file (relative path) that has one: the history the
    /// `breaking_changes_versioned` policy compares against.
    pub previous: Arc<HashMap<PathBuf, Previous>>,
    pub reload: ReloadInfo,
    /// The manifests as read, to skip re-parsing unchanged products next time.
    spec: MeshSpec,
    /// Data files each product read, with their fingerprint.
    data: HashMap<String, (Vec<PathBuf>, u64)>,
    /// The tables each product was assigned (a product whose assignment changes is reloaded).
    served: Served,
}

impl Snapshot {
    /// The governance this snapshot enforces, for the next build to keep while files are broken.
    fn last_good(&self) -> crate::governance::last_good::LastGood<'_> {
        crate::governance::last_good::LastGood {
            mesh_file: &self.spec.mesh_file,
            domains: &self.catalog.domains,
            policies: &self.governance.policies,
            access: &self.governance.access,
        }
    }

    /// What `meshbox validate` exits 0 on: every product healthy, governance read whole, no `error` policy violated
    /// and every policy could run.
    pub fn passes(&self) -> bool {
        self.governance.passes(&self.catalog)
    }

    /// What a mesh serves before its first load: nothing, and every role but admins locked out.
    fn placeholder(root: &Path) -> Snapshot {
        let spec = MeshSpec {
            root: root.to_path_buf(),
            name: String::new(),
            mesh_file: Default::default(),
            domains: Vec::new(),
            products: Vec::new(),
            diagnostics: Vec::new(),
            governance_broken: Vec::new(),
        };
        let governance = crate::governance::last_good::locked_until_read(&spec);
        Snapshot {
            generation: 0,
            built_at: unix_ms(),
            catalog: catalog_of(root, &spec, &governance, Vec::new()),
            governance,
            lineage: Default::default(),
            previous: Default::default(),
            reload: ReloadInfo::default(),
            spec,
            data: HashMap::new(),
            served: HashMap::new(),
        }
    }

    /// May this role read this product's data?
    pub fn decide(&self, role: &crate::governance::access::Role, p: &Product) -> crate::governance::access::Decision {
        self.governance.decide(role, p)
    }
}

fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// The served name of a table, compared case-insensitively (DuckDB identifiers are).
fn table_key(schema: &str, table: &str) -> (String, String) {
    (schema.to_lowercase(), table.to_lowercase())
}

/// Per product key: the (contract, schema object) pairs it serves.
type Served = HashMap<String, Vec<(usize, usize)>>;

/// Which tables of which product are served: the first product (in domain/product order) to claim a name wins.
fn assign_tables(spec: &MeshSpec) -> (Served, HashMap<String, Vec<Diagnostic>>) {
    let mut owners: HashMap<(String, String), String> = HashMap::new();
    let mut served: Served = HashMap::new();
    let mut diags: HashMap<String, Vec<Diagnostic>> = HashMap::new();
    for p in &spec.products {
        let key = p.key();
        let list = served.entry(key.clone()).or_default();
        if p.domain.eq_ignore_ascii_case(crate::governance::metadata::SCHEMA) {
            diags.entry(key.clone()).or_default().push(Diagnostic::error(
                "reserved-name",
                format!(
                    "the domain name `{}` is reserved for meshbox's metadata tables (mesh.products, mesh.columns, ...); \
                     its tables are not served",
                    p.domain
                ),
            ));
            continue;
        }
        for (ci, c) in p.contracts.iter().enumerate() {
            for (oi, t) in c.tables.iter().enumerate() {
                let k = table_key(&p.domain, &t.name);
                match owners.get(&k) {
                    Some(owner) => diags.entry(key.clone()).or_default().push(
                        contract_diag(
                            c,
                            Severity::Error,
                            "name-collision",
                            &format!("{}.name", t.path),
                            format!("table `{}.{}` is already provided by {owner}", p.domain, t.name),
                            Some("give the schema object another `name`; every table in a domain needs its own".into()),
                        )
                        .relative_to(&spec.root),
                    ),
                    None => {
                        owners.insert(k, key.clone());
                        list.push((ci, oi));
                    }
                }
            }
        }
    }
    (served, diags)
}

/// Reads the folder's manifests and its governance files; governance that cannot be read keeps the last good one
/// (or locks non-admin roles out on a cold start).
fn read_folder(root: &Path, opts: &Options, prev: Option<&Snapshot>) -> anyhow::Result<(MeshSpec, Governance)> {
    let ignorer = crate::folder::scan::Ignorer::new(root, &opts.ignore).map_err(anyhow::Error::msg)?;
    let mut spec = read_mesh(root, prev.map(|p| &p.spec), &ignorer);
    let domain_names: Vec<String> = spec.domains.iter().map(|d| d.name.clone()).collect();
    let governance = crate::governance::last_good::govern(
        &mut spec,
        crate::governance::policy::read_policies(root, &domain_names),
        prev.map(Snapshot::last_good),
    );
    Ok((spec, governance))
}

/// The catalog of a build: the folder's domains, the products in folder order, and every diagnostic of the mesh
/// (governance first, then the folder's, then the policies').
fn catalog_of(root: &Path, spec: &MeshSpec, governance: &Governance, products: Vec<Arc<Product>>) -> Catalog {
    let mut diagnostics = governance.diagnostics.clone();
    diagnostics.extend(spec.diagnostics.iter().cloned());
    diagnostics.extend(governance.policies.diagnostics.iter().cloned());
    Catalog {
        name: spec.name.clone(),
        description: spec.mesh_file.description.clone(),
        root: root.to_path_buf(),
        domains: spec.domains.clone(),
        products,
        diagnostics,
    }
}

/// Builds a snapshot. With `serving`, changed tables are published to it; without, only loaded and tested.
pub fn build(
    root: &Path,
    opts: &Options,
    prev: Option<&Snapshot>,
    serving: Option<&ServingDb>,
) -> anyhow::Result<Snapshot> {
    let started = Instant::now();
    if !root.is_dir() {
        anyhow::bail!("the mesh folder {} does not exist or is not a folder", root.display());
    }
    opts.progress.phase("reading the folder", 0);
    let (spec, mut governance) = read_folder(root, opts, prev)?;
    let t_read = started.elapsed();
    let mut opts = opts.clone();
    if opts.server.is_none() {
        opts.server = spec.mesh_file.server.clone();
    }
    let (served, collisions) = assign_tables(&spec);
    let prev_products: HashMap<String, &Arc<Product>> = prev
        .map(|s| s.catalog.products.iter().map(|p| (p.key(), p)).collect())
        .unwrap_or_default();
    let (to_load, mut reused) = plan_reload(&spec, prev, &served, &prev_products);
    let to_load_keys: HashSet<String> = to_load.iter().map(|p| p.key()).collect();
    let t_plan = started.elapsed();
    // Nothing changed: no staging database to open at all.
    let (staging, outcomes) = if to_load.is_empty() {
        (None, Vec::new())
    } else {
        let inputs = derived_inputs(&spec, &served, serving, prev);
        let (staging, outcomes) = crate::checks::pipeline::load_and_check_with(&to_load, root, &opts, &inputs)?;
        (Some(staging), outcomes)
    };
    let checks_ms: f64 = outcomes.iter().map(|o| o.checks_ms).sum();
    let generation = prev.map(|p| p.generation + 1).unwrap_or(1);
    let context = BuildContext {
        root,
        generation,
        served: &served,
        collisions: &collisions,
        prev_products: &prev_products,
    };
    let mut built = Built::default();
    for (p, outcome) in to_load.iter().zip(outcomes) {
        built.add(&context, p, outcome);
    }
    let removed = built.remove_vanished(&spec, &prev_products);
    let t_load = started.elapsed();
    opts.progress.phase("publishing", 0);
    if let Some(db) = serving {
        built.publish(db, staging.as_ref())?;
    }
    let t_publish = started.elapsed();
    opts.progress.phase("relationships and policies", 0);
    let (products, reloaded) = built.in_folder_order(&spec, &mut reused, prev);
    let products = built.check_references(products, &reloaded, serving, staging.as_ref(), root);
    drop(staging);
    let t_references = started.elapsed();
    let unchanged = products.len() - reloaded.len();
    let mut catalog = catalog_of(root, &spec, &governance, products);
    let previous = previous_versions(
        &catalog,
        &governance,
        &spec,
        prev,
        &to_load_keys,
        opts.state_dir.as_deref(),
    );
    let lineage = evaluate_beside(&mut catalog, &mut governance, &previous, &opts);
    let phases = BuildPhases {
        read_ms: ms(t_read),
        plan_ms: ms(t_plan - t_read),
        load_ms: ms(t_load - t_plan),
        checks_ms: (checks_ms * 10.0).round() / 10.0,
        publish_ms: ms(t_publish - t_load),
        references_ms: ms(t_references - t_publish),
        policies_ms: ms(started.elapsed() - t_references),
    };
    tracing::debug!(
        products = spec.products.len(),
        reloaded = to_load.len(),
        ?phases,
        "build phases"
    );
    Ok(Snapshot {
        generation,
        built_at: unix_ms(),
        catalog,
        governance,
        lineage: Arc::new(lineage),
        previous: Arc::new(previous),
        reload: ReloadInfo {
            took_ms: (started.elapsed().as_secs_f64() * 1000.0 * 10.0).round() / 10.0,
            reloaded,
            unchanged,
            removed,
            phases,
        },
        spec,
        data: built.data,
        served,
    })
}

/// What sits beside the catalog: the policies' compliance (into `governance`) and the lineage, their diagnostics
/// added to the catalog's.
fn evaluate_beside(
    catalog: &mut Catalog,
    governance: &mut Governance,
    previous: &HashMap<PathBuf, Previous>,
    opts: &Options,
) -> crate::discovery::lineage::Lineage {
    let compliance = crate::governance::evaluation::evaluate(catalog, governance, previous, &opts.engine);
    catalog.diagnostics.extend(compliance.diagnostics.iter().cloned());
    governance.compliance = Arc::new(compliance);
    let lineage = crate::discovery::lineage::Lineage::of(catalog, &governance.compliance);
    catalog
        .diagnostics
        .extend(crate::discovery::lineage::cycle_diagnostics(&lineage));
    lineage
}

/// Which products must be (re)loaded, and the previous snapshot's products that are kept as they are. A product
/// is reused when its manifests, data files and assigned tables are unchanged and it is not stale; products that
/// consume a reloaded one (ODPS input ports) are re-evaluated with it, transitively.
fn plan_reload<'a>(
    spec: &'a MeshSpec,
    prev: Option<&Snapshot>,
    served: &Served,
    prev_products: &HashMap<String, &Arc<Product>>,
) -> (Vec<&'a ProductSpec>, HashMap<String, Arc<Product>>) {
    let mut to_load: Vec<&ProductSpec> = Vec::new();
    let mut reused: HashMap<String, Arc<Product>> = HashMap::new();
    for p in &spec.products {
        let key = p.key();
        let unchanged = prev.and_then(|s| {
            let old = prev_products.get(&key)?;
            let (files, fp) = s.data.get(&key)?;
            let same_data = crate::folder::scan::fingerprint(files.iter().map(PathBuf::as_path)) == *fp;
            let same_tables = s.served.get(&key) == served.get(&key);
            (old.fingerprint == p.fingerprint && same_data && same_tables && !old.stale).then(|| (*old).clone())
        });
        match unchanged {
            Some(old) => {
                reused.insert(key, old);
            }
            None => to_load.push(p),
        }
    }
    if prev.is_some() {
        reload_consumers(spec, &mut to_load, &mut reused);
        to_load.sort_by_key(|p| p.key());
    }
    (to_load, reused)
}

/// Moves every product that consumes one in `to_load` (through an input port's contract id) from `reused` to
/// `to_load`, until nothing more changes.
fn reload_consumers<'a>(
    spec: &'a MeshSpec,
    to_load: &mut Vec<&'a ProductSpec>,
    reused: &mut HashMap<String, Arc<Product>>,
) {
    let provider_of: HashMap<&str, String> = spec
        .products
        .iter()
        .flat_map(|p| {
            p.contracts
                .iter()
                .filter_map(|c| c.id.as_deref())
                .map(move |id| (id, p.key()))
        })
        .collect();
    loop {
        let changed: HashSet<String> = to_load.iter().map(|p| p.key()).collect();
        let consumers: Vec<&ProductSpec> = spec
            .products
            .iter()
            .filter(|p| !changed.contains(&p.key()))
            .filter(|p| {
                p.descriptor.iter().flat_map(|d| d.input_ports.iter()).any(|port| {
                    port.contract_id
                        .as_deref()
                        .and_then(|id| provider_of.get(id))
                        .is_some_and(|k| changed.contains(k))
                })
            })
            .map(|p| p.as_ref())
            .collect();
        if consumers.is_empty() {
            return;
        }
        for c in consumers {
            reused.remove(&c.key());
            to_load.push(c);
        }
    }
}

/// What derived products need to find their inputs: who provides each contract id (with the tables it serves), the
/// serving database and the catalog that published it.
fn derived_inputs<'a>(
    spec: &MeshSpec,
    served: &Served,
    serving: Option<&'a ServingDb>,
    prev: Option<&'a Snapshot>,
) -> crate::checks::pipeline::Inputs<'a> {
    crate::checks::pipeline::Inputs {
        providers: spec
            .products
            .iter()
            .flat_map(|p| {
                let assigned = served.get(&p.key()).cloned().unwrap_or_default();
                p.contracts.iter().enumerate().filter_map(move |(ci, c)| {
                    let tables = assigned
                        .iter()
                        .filter(|(sci, _)| *sci == ci)
                        .map(|(_, oi)| c.tables[*oi].name.clone())
                        .collect();
                    c.id.clone().map(|id| (id, (p.key(), p.domain.clone(), tables)))
                })
            })
            .collect(),
        serving,
        previous: prev.map(|s| &s.catalog),
    }
}

/// What every reloaded product of one build shares.
struct BuildContext<'a> {
    root: &'a Path,
    generation: u64,
    served: &'a Served,
    collisions: &'a HashMap<String, Vec<Diagnostic>>,
    prev_products: &'a HashMap<String, &'a Arc<Product>>,
}

/// The reloaded products of one build, and what publishing them changes in the serving database.
#[derive(Default)]
struct Built {
    products: HashMap<String, Arc<Product>>,
    updates: Vec<Publish>,
    removals: Vec<(String, String)>,
    /// Data files each product read, with their fingerprint.
    data: HashMap<String, (Vec<PathBuf>, u64)>,
}

impl Built {
    /// Adds one loaded product. Last good, always: a broken product that served before keeps serving its old
    /// tables, marked stale.
    fn add(&mut self, cx: &BuildContext<'_>, p: &ProductSpec, outcome: Outcome) {
        let key = p.key();
        let old = cx.prev_products.get(&key);
        let mut diagnostics = p.diagnostics.clone();
        diagnostics.extend(cx.collisions.get(&key).cloned().unwrap_or_default());
        diagnostics.extend(outcome.diagnostics.iter().cloned());
        // A manifest that only breaks the standard (a lint error) was read: its data loads as written, the product
        // marked invalid. Any other error keeps the last good version serving.
        let broken = diagnostics.iter().any(|d| d.is_error() && !d.breaks_standard());
        let files_fp = crate::folder::scan::fingerprint(outcome.data_files.iter().map(PathBuf::as_path));
        self.data.insert(key.clone(), (outcome.data_files.clone(), files_fp));
        if let Some(old) = old.filter(|o| broken && o.status != Status::Failed && !o.tables.is_empty()) {
            let mut kept = Product::clone(old);
            kept.stale = true;
            // The last good data keeps serving, but a product whose manifest breaks the standard is not passing.
            if diagnostics.iter().any(Diagnostic::breaks_standard) {
                kept.status = kept.status.min(Status::Invalid);
            }
            kept.diagnostics = diagnostics;
            kept.fingerprint = p.fingerprint;
            self.products.insert(key, Arc::new(kept));
            return;
        }
        let served_here = cx.served.get(&key).cloned().unwrap_or_default();
        let tables = served_tables(p, &outcome, &served_here);
        self.publish_tables(&outcome, &tables, old.map(|o| &o.tables[..]));
        let status = Product::derive_status(&diagnostics, &outcome.checks);
        let product = Product {
            domain: p.domain.clone(),
            name: p.name.clone(),
            dir: p.dir.clone(),
            descriptor: p.descriptor.clone(),
            contracts: p.contracts.clone(),
            tables,
            checks: outcome.checks,
            diagnostics,
            status,
            stale: false,
            loaded_generation: cx.generation,
            load_ms: (outcome.load_ms * 10.0).round() / 10.0,
            fingerprint: p.fingerprint,
            derived: derived_tables(p, cx.root),
        };
        self.products.insert(key, Arc::new(product));
    }

    /// Publishes a product's new tables and removes those of its old version it no longer serves.
    fn publish_tables(&mut self, outcome: &Outcome, tables: &[Table], old: Option<&[Table]>) {
        for t in tables {
            let load = outcome
                .tables
                .iter()
                .find(|l| l.contract == t.contract && l.object == t.object)
                .expect("served tables were loaded");
            self.updates.push(Publish {
                from: load.qualified(),
                schema: t.schema.clone(),
                table: t.name.clone(),
                columns: load
                    .columns
                    .iter()
                    .map(|c| (c.name.clone(), c.data_type.clone()))
                    .collect(),
            });
        }
        for t in old.unwrap_or_default() {
            if !tables
                .iter()
                .any(|n| table_key(&n.schema, &n.name) == table_key(&t.schema, &t.name))
            {
                self.removals.push((t.schema.clone(), t.name.clone()));
            }
        }
    }

    /// Removes the tables of products no longer in the folder; returns their keys.
    fn remove_vanished(&mut self, spec: &MeshSpec, prev_products: &HashMap<String, &Arc<Product>>) -> Vec<String> {
        let current: HashSet<String> = spec.products.iter().map(|p| p.key()).collect();
        let mut removed = Vec::new();
        for (key, old) in prev_products {
            if !current.contains(key) {
                removed.push(key.clone());
                for t in &old.tables {
                    self.removals.push((t.schema.clone(), t.name.clone()));
                }
            }
        }
        removed
    }

    /// Publishes to the serving database; a table that cannot be served fails its product with a diagnostic.
    fn publish(&mut self, db: &ServingDb, staging: Option<&crate::load::ingest::Staging>) -> anyhow::Result<()> {
        // A table moving from one product to another must not be dropped after it was re-created.
        let created: HashSet<(String, String)> = self.updates.iter().map(|u| table_key(&u.schema, &u.table)).collect();
        self.removals.retain(|(s, t)| !created.contains(&table_key(s, t)));
        let failures = match staging {
            Some(staging) => db.publish(staging, &self.updates, &self.removals)?,
            None if !self.removals.is_empty() => db.remove(&self.removals).map(|()| Vec::new())?,
            None => Vec::new(),
        };
        for (publish, error) in failures {
            self.fail_unpublished(&publish, &error);
        }
        Ok(())
    }

    /// Marks the product serving `publish`'s table failed, without that table.
    fn fail_unpublished(&mut self, publish: &Publish, error: &str) {
        let serves = |p: &Product| {
            p.tables
                .iter()
                .any(|t| t.schema == publish.schema && t.name == publish.table)
        };
        let Some(key) = self.products.iter().find(|(_, p)| serves(p)).map(|(k, _)| k.clone()) else {
            return;
        };
        let mut p = Product::clone(&self.products[&key]);
        p.diagnostics.push(Diagnostic::error(
            "publish",
            format!(
                "table `{}.{}` could not be served: {error}",
                publish.schema, publish.table
            ),
        ));
        p.tables
            .retain(|t| !(t.schema == publish.schema && t.name == publish.table));
        p.status = Status::Failed;
        self.products.insert(key, Arc::new(p));
    }

    /// Runs the mesh's relationship checks on the database holding every product's tables (the serving one; when
    /// only loading, staging, which then holds every product) and attaches them to the referencing products.
    fn check_references(
        &self,
        products: Vec<Arc<Product>>,
        reloaded: &[String],
        serving: Option<&ServingDb>,
        staging: Option<&crate::load::ingest::Staging>,
        root: &Path,
    ) -> Vec<Arc<Product>> {
        let started = Instant::now();
        let served = match serving.map(ServingDb::connect).transpose() {
            Ok(conn) => conn,
            Err(e) => {
                tracing::warn!(error = %e, "relationship checks not run: no connection to the serving database");
                return products;
            }
        };
        let Some(conn) = served.as_ref().or(staging.map(|s| &s.conn)) else {
            return products;
        };
        let staged: HashMap<(String, String), String> = self
            .updates
            .iter()
            .map(|u| (table_key(&u.schema, &u.table), u.from.clone()))
            .collect();
        let quote = crate::base::sql::quote_ident;
        let relation = |t: &Table| match serving {
            Some(_) => Some(format!("{}.{}", quote(&t.schema), quote(&t.name))),
            None => staged.get(&table_key(&t.schema, &t.name)).cloned(),
        };
        let reloaded: HashSet<String> = reloaded.iter().cloned().collect();
        let products = crate::checks::references::attach(products, &reloaded, conn, &relation, root);
        tracing::debug!(
            references_ms = started.elapsed().as_secs_f64() * 1e3,
            "relationship checks"
        );
        products
    }

    /// Every product of the folder in its order, reloaded or reused, and the keys of those reloaded.
    fn in_folder_order(
        &mut self,
        spec: &MeshSpec,
        reused: &mut HashMap<String, Arc<Product>>,
        prev: Option<&Snapshot>,
    ) -> (Vec<Arc<Product>>, Vec<String>) {
        let mut products = Vec::with_capacity(spec.products.len());
        let mut reloaded = Vec::new();
        for p in &spec.products {
            let key = p.key();
            if let Some(b) = self.products.remove(&key) {
                reloaded.push(key);
                products.push(b);
            } else if let Some(r) = reused.remove(&key) {
                if let Some(d) = prev.and_then(|s| s.data.get(&key)) {
                    self.data.insert(key, d.clone());
                }
                products.push(r);
            }
        }
        (products, reloaded)
    }
}

/// The derived tables of a product: each built by a `<table>.sql` transform.
fn derived_tables(p: &ProductSpec, root: &Path) -> Vec<crate::model::catalog::DerivedTable> {
    p.transforms
        .iter()
        .map(|t| crate::model::catalog::DerivedTable {
            table: p.contracts[t.contract].tables[t.object].name.clone(),
            file: t.file.strip_prefix(root).unwrap_or(&t.file).to_path_buf(),
            sql: t.sql.clone(),
        })
        .collect()
}

/// Records the contracts of reloaded products in the state folder's history and finds each contract's previous
/// version (state folder and git) — only when a policy needs it; unchanged products keep what the last snapshot found.
fn previous_versions(
    catalog: &Catalog,
    governance: &Governance,
    spec: &MeshSpec,
    prev: Option<&Snapshot>,
    reloaded: &HashSet<String>,
    state: Option<&Path>,
) -> HashMap<PathBuf, Previous> {
    let root = &catalog.root;
    if let Some(state) = state {
        for p in spec.products.iter().filter(|p| reloaded.contains(&p.key())) {
            for c in &p.contracts {
                let rel = c.doc.file.strip_prefix(root).unwrap_or(&c.doc.file);
                if let Some(text) = crate::base::safe_read::read_manifest_text(&c.doc.file)
                    && let Err(e) = crate::lifecycle::history::record(state, rel, &text, c.version.as_deref())
                {
                    tracing::warn!(error = %e, "cannot keep the contract's history");
                }
            }
        }
    }
    let wanted =
        governance.policies.policies.iter().any(
            |p| matches!(&p.rule, crate::governance::policy::Rule::Builtin { name, .. } if name == "breaking_changes_versioned"),
        );
    let mut out = HashMap::new();
    if !wanted {
        return out;
    }
    for p in &spec.products {
        for c in &p.contracts {
            let rel = c.doc.file.strip_prefix(root).unwrap_or(&c.doc.file).to_path_buf();
            if !reloaded.contains(&p.key())
                && let Some(v) = prev.and_then(|s| s.previous.get(&rel))
            {
                out.insert(rel, v.clone());
                continue;
            }
            let Some(text) = crate::base::safe_read::read_manifest_text(&c.doc.file) else {
                continue;
            };
            if let Some(v) = crate::lifecycle::history::previous(state, root, &rel, &text)
                && let Some(contract) = crate::lifecycle::history::parse(&rel, &v.text)
            {
                out.insert(
                    rel,
                    Previous {
                        label: v.label,
                        contract,
                    },
                );
            }
        }
    }
    out
}

/// The tables a product serves, with what loading found.
fn served_tables(p: &ProductSpec, outcome: &Outcome, served: &[(usize, usize)]) -> Vec<Table> {
    let mut out = Vec::new();
    for (ci, oi) in served {
        let Some(load) = outcome.tables.iter().find(|l| l.contract == *ci && l.object == *oi) else {
            continue;
        };
        out.push(table_of(p, load));
    }
    out
}

fn table_of(p: &ProductSpec, load: &TableLoad) -> Table {
    let object = &p.contracts[load.contract].tables[load.object];
    Table {
        schema: p.domain.clone(),
        name: object.name.clone(),
        contract: load.contract,
        object: load.object,
        columns: load
            .columns
            .iter()
            .map(|c| LoadedColumn {
                name: c.name.clone(),
                data_type: c.data_type.clone(),
                declared: c.declared,
                inherited: c.inherited.clone(),
            })
            .collect(),
        row_count: load.row_count,
        format: load.format.name().to_string(),
        files: load
            .files
            .iter()
            .map(|f| {
                f.strip_prefix(&p.dir)
                    .map(Path::to_path_buf)
                    .unwrap_or_else(|_| f.clone())
            })
            .collect(),
        sample: load.sample.clone(),
        profiles: load.profiles.clone(),
        pii: load.pii.clone(),
        reads: load.reads.clone(),
    }
}

/// Every rebuild opens and drops a staging DuckDB; hand the memory it freed back to the system so a long session's
/// resident size tracks what is really in use.
fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free heap pages; it has no preconditions.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// One entry of the mesh's recent history (shown on the home page).
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    pub generation: u64,
    /// Unix milliseconds.
    pub at: u64,
    pub took_ms: f64,
    pub reloaded: Vec<String>,
    pub removed: Vec<String>,
    /// Products that are broken after this rebuild (failed or stale).
    pub broken: Vec<String>,
    /// Set when the rebuild itself failed.
    pub error: Option<String>,
    /// Where the time went, from the change the watcher saw to the new snapshot in place.
    pub phases: Phases,
}

impl Change {
    fn of(s: &Snapshot, phases: Phases) -> Change {
        Change {
            generation: s.generation,
            at: s.built_at,
            took_ms: s.reload.took_ms,
            reloaded: s.reload.reloaded.clone(),
            removed: s.reload.removed.clone(),
            broken: s
                .catalog
                .products
                .iter()
                .filter(|p| {
                    p.stale
                        || matches!(
                            p.status,
                            crate::model::catalog::Status::Failed | crate::model::catalog::Status::Invalid
                        )
                })
                .filter(|p| s.reload.reloaded.contains(&p.key()))
                .map(|p| p.key())
                .collect(),
            error: None,
            phases,
        }
    }
}

/// Where the time of one rebuild went, in milliseconds (rounded to 0.1): for `/api/status` (each history entry),
/// the log and `meshbox bench reload`. A change is visible to a role's queries once its database is synced.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Phases {
    /// From the first change the watcher was told of until this rebuild began: the debounce, the wait for files
    /// still being written, a rebuild still running. 0 when no watcher asked for the rebuild.
    pub watch_wait_ms: f64,
    /// The snapshot's build: reading the folder, loading and testing what changed, publishing it to the unmasked
    /// database, the relationship checks, evaluating the policies.
    pub build_ms: f64,
    /// The build's own phases.
    #[serde(flatten)]
    pub build: BuildPhases,
    /// Copying the reloaded products' tables into the role databases, ahead of the rest (part of `profiles_ms`).
    pub reloaded_first_ms: f64,
    /// Bringing the role databases up to date (masked copies of changed tables and their `mesh.*` tables).
    pub profiles_ms: f64,
    /// Updating the search index.
    pub index_ms: f64,
    /// From the start of the rebuild until the new snapshot was in place.
    pub rebuild_ms: f64,
}

const HISTORY: usize = 20;

/// Events pages listen to (Server-Sent Events).
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Event {
    /// A new snapshot is live.
    Snapshot { generation: u64 },
    /// A rebuild failed; the previous snapshot keeps serving.
    Error { message: String },
}

/// The live mesh: the current snapshot, the serving database, and how to rebuild.
pub struct Mesh {
    pub root: PathBuf,
    pub opts: Options,
    max_execution_ms: u64,
    /// The unmasked database. Replaced wholesale when DuckDB reports an internal error (the instance cannot be
    /// trusted after one).
    serving: ArcSwap<ServingDb>,
    /// The database of each role (built from masked copies), swapped together with the snapshot.
    profiles: ArcSwap<crate::governance::role_dbs::Profiles>,
    salt: crate::governance::masking::Salt,
    /// The catalog search index, updated with every snapshot.
    search: crate::discovery::search::SearchIndex,
    current: ArcSwap<Snapshot>,
    /// The error of the last failed rebuild, shown over every page until a rebuild succeeds.
    last_error: ArcSwap<Option<String>>,
    rebuilding: Mutex<()>,
    history: Mutex<std::collections::VecDeque<Change>>,
    /// How the folder is watched (`native`, `poll`), once a watcher runs.
    watch_mode: ArcSwap<Option<&'static str>>,
    pub events: tokio::sync::broadcast::Sender<Event>,
    /// The first load: until it is done, pages show its progress and serve nothing of the mesh.
    first_load: Arc<FirstLoad>,
    /// Roles that get a database: every one (`None`), or only those asked for so far (built on first use).
    wanted_roles: Mutex<Option<std::collections::BTreeSet<String>>>,
    /// Bumped whenever the role databases change, for queries waiting for theirs.
    roles_changed: tokio::sync::watch::Sender<u64>,
}

/// When role databases are built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RolePreparation {
    /// With every snapshot, for every role.
    Eager,
    /// When a role first asks for data (a query answered "preparing" meanwhile), then kept up to date.
    OnFirstUse,
}

/// A role's database, as a query finds it.
#[derive(Clone)]
pub enum RoleDb {
    Ready(Arc<ServingDb>),
    /// Not built yet (built on first use, or the mesh is still loading): ask again in a moment.
    Preparing,
    /// Could not be brought up to date: refused until a rebuild works.
    Unavailable,
}

impl Mesh {
    /// Loads the mesh for serving, every role's database built. Fails only when the folder cannot be used at all.
    pub fn open(root: &Path, opts: Options, max_execution_ms: u64) -> anyhow::Result<Mesh> {
        Mesh::open_salted(root, opts, max_execution_ms, crate::governance::masking::Salt::random())
    }

    /// Like `open`, with the secret that `hash` masking mixes in (kept in the state folder by `meshbox serve`).
    pub fn open_salted(
        root: &Path,
        opts: Options,
        max_execution_ms: u64,
        salt: crate::governance::masking::Salt,
    ) -> anyhow::Result<Mesh> {
        let mesh = Mesh::preparing(root, opts, max_execution_ms, salt, RolePreparation::Eager)?;
        mesh.load_first()?;
        Ok(mesh)
    }

    /// A mesh not loaded yet (`load_first` loads it): what `meshbox serve` answers from while it loads. Its
    /// placeholder snapshot holds nothing and locks every role out.
    pub fn preparing(
        root: &Path,
        opts: Options,
        max_execution_ms: u64,
        salt: crate::governance::masking::Salt,
        roles: RolePreparation,
    ) -> anyhow::Result<Mesh> {
        if !root.is_dir() {
            anyhow::bail!("the mesh folder {} does not exist or is not a folder", root.display());
        }
        let mut opts = opts;
        let first_load = Arc::new(FirstLoad::starting());
        opts.progress = opts.progress.clone().and(first_load.clone());
        let serving = Arc::new(ServingDb::open(&opts.engine, max_execution_ms)?);
        let (events, _) = tokio::sync::broadcast::channel(64);
        Ok(Mesh {
            root: root.to_path_buf(),
            opts,
            max_execution_ms,
            serving: ArcSwap::new(serving),
            profiles: ArcSwap::from_pointee(Default::default()),
            salt,
            search: crate::discovery::search::SearchIndex::new()?,
            current: ArcSwap::from_pointee(Snapshot::placeholder(root)),
            last_error: ArcSwap::from_pointee(None),
            rebuilding: Mutex::new(()),
            history: Mutex::new(Default::default()),
            watch_mode: ArcSwap::from_pointee(None),
            events,
            first_load,
            wanted_roles: Mutex::new(match roles {
                RolePreparation::Eager => None,
                RolePreparation::OnFirstUse => Some(Default::default()),
            }),
            roles_changed: tokio::sync::watch::channel(0).0,
        })
    }

    /// Loads the mesh the first time: the snapshot, the role databases wanted so far and the search index. The
    /// mesh is served from the moment this returns `Ok`.
    pub fn load_first(&self) -> anyhow::Result<()> {
        let _one_at_a_time = self.rebuilding.lock().unwrap_or_else(|e| e.into_inner());
        let loaded = self.load_first_locked();
        self.opts.progress.done();
        // The staging database is gone: hand its memory back.
        release_free_memory();
        if let Err(e) = &loaded {
            self.first_load.fail(format!("{e:#}"));
        }
        loaded
    }

    fn load_first_locked(&self) -> anyhow::Result<()> {
        let started = Instant::now();
        let serving = self.serving();
        let first = build(&self.root, &self.opts, None, Some(&serving))?;
        let mut phases = Phases {
            build_ms: ms(started.elapsed()),
            build: first.reload.phases,
            ..Phases::default()
        };
        self.opts.progress.phase("role databases", 0);
        let profiles = self.update_roles(None, &first, &serving);
        phases.profiles_ms = ms(started.elapsed()) - phases.build_ms;
        self.opts.progress.phase("search index", 0);
        let indexed = Instant::now();
        self.search.update(&first.catalog, &first.governance.compliance)?;
        phases.index_ms = ms(indexed.elapsed());
        phases.rebuild_ms = ms(started.elapsed());
        self.remember(Change::of(&first, phases));
        self.store_profiles(profiles);
        self.current.store(Arc::new(first));
        self.first_load.finish();
        let _ = self.events.send(Event::Snapshot {
            generation: self.snapshot().generation,
        });
        Ok(())
    }

    /// Is the mesh loaded (the first load done)?
    pub fn is_ready(&self) -> bool {
        self.first_load.is_ready()
    }

    /// How far the first load has come.
    pub fn first_load(&self) -> crate::live::first_load::LoadProgress {
        self.first_load.progress()
    }

    /// The role databases for `snapshot` (published to `serving`), from `prev` where it can: only the roles wanted.
    fn update_roles(
        &self,
        prev: Option<&crate::governance::role_dbs::Profiles>,
        snapshot: &Snapshot,
        serving: &Arc<ServingDb>,
    ) -> crate::governance::role_dbs::Profiles {
        let wanted = self.wanted_roles.lock().unwrap_or_else(|e| e.into_inner()).clone();
        crate::governance::role_dbs::update(
            prev,
            &snapshot.catalog,
            &snapshot.governance,
            serving,
            &self.opts.engine,
            self.max_execution_ms,
            &self.salt,
            match &wanted {
                None => crate::governance::role_dbs::Wanted::All,
                Some(set) => crate::governance::role_dbs::Wanted::Only(set),
            },
        )
    }

    fn store_profiles(&self, profiles: crate::governance::role_dbs::Profiles) {
        self.profiles.store(Arc::new(profiles));
        self.roles_changed.send_modify(|n| *n += 1);
    }

    /// The database of `role` as it stands: built, being prepared (built on first use: asking starts it), or
    /// unavailable. Never another role's.
    pub fn role_db(self: &Arc<Self>, role: &str) -> RoleDb {
        if !self.is_ready() {
            return RoleDb::Preparing;
        }
        let profiles = self.profiles.load();
        if let Some(db) = profiles.for_role(role) {
            return RoleDb::Ready(db);
        }
        if profiles.unavailable.iter().any(|r| r == role) {
            return RoleDb::Unavailable;
        }
        if self.want_role(role) {
            let mesh = self.clone();
            std::thread::spawn(move || mesh.prepare_roles());
        }
        RoleDb::Preparing
    }

    /// Waits up to `patience` for the database of `role` (started by asking for it).
    pub async fn role_db_within(self: &Arc<Self>, role: &str, patience: std::time::Duration) -> RoleDb {
        let mut changed = self.roles_changed.subscribe();
        let deadline = tokio::time::Instant::now() + patience;
        loop {
            match self.role_db(role) {
                RoleDb::Preparing => {}
                found => return found,
            }
            match tokio::time::timeout_at(deadline, changed.changed()).await {
                Ok(Ok(())) => {}
                _ => return self.role_db(role),
            }
        }
    }

    /// Adds `role` to the roles that get a database; false when it was there already (its build is under way) or
    /// every role gets one.
    fn want_role(&self, role: &str) -> bool {
        match &mut *self.wanted_roles.lock().unwrap_or_else(|e| e.into_inner()) {
            Some(set) => set.insert(role.to_string()),
            None => false,
        }
    }

    /// Does every wanted role have its database (or is it known unavailable)? Then there is nothing to prepare.
    fn wanted_are_built(&self) -> bool {
        let profiles = self.profiles.load();
        let wanted = self.wanted_roles.lock().unwrap_or_else(|e| e.into_inner());
        wanted
            .iter()
            .flatten()
            .all(|r| profiles.for_role(r).is_some() || profiles.unavailable.contains(r))
    }

    /// Builds the databases of roles asked for since the last update (between rebuilds, which build them too).
    fn prepare_roles(&self) {
        let _one_at_a_time = self.rebuilding.lock().unwrap_or_else(|e| e.into_inner());
        if self.wanted_are_built() {
            return;
        }
        let started = Instant::now();
        let snapshot = self.snapshot();
        let serving = self.serving();
        let prev = self.profiles.load_full();
        let profiles = self.update_roles(Some(&prev), &snapshot, &serving);
        self.store_profiles(profiles);
        tracing::info!(took_ms = ms(started.elapsed()), "role databases prepared");
    }

    /// The unmasked database (meshbox's own use; queries go through `serving_for`).
    pub fn serving(&self) -> Arc<ServingDb> {
        self.serving.load_full()
    }

    /// The database a role's queries run on when it is built: None for a role without one (unknown, not built
    /// yet, or its database could not be brought up to date).
    pub fn serving_for(&self, role: &str) -> Option<Arc<ServingDb>> {
        self.profiles.load().for_role(role)
    }

    pub fn profiles(&self) -> Arc<crate::governance::role_dbs::Profiles> {
        self.profiles.load_full()
    }

    pub fn salt(&self) -> &crate::governance::masking::Salt {
        &self.salt
    }

    pub fn search(&self) -> &crate::discovery::search::SearchIndex {
        &self.search
    }

    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.current.load_full()
    }

    pub fn set_watch_mode(&self, mode: &'static str) {
        self.watch_mode.store(Arc::new(Some(mode)));
    }

    pub fn watch_mode(&self) -> Option<&'static str> {
        **self.watch_mode.load()
    }

    /// The most recent rebuilds, newest first.
    pub fn history(&self) -> Vec<Change> {
        self.history
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .rev()
            .cloned()
            .collect()
    }

    fn remember(&self, change: Change) {
        let mut h = self.history.lock().unwrap_or_else(|e| e.into_inner());
        h.push_back(change);
        while h.len() > HISTORY {
            h.pop_front();
        }
    }

    pub fn last_error(&self) -> Option<String> {
        (*self.last_error.load_full()).clone()
    }

    /// Rebuilds from the folder and swaps the new snapshot in; on failure the current one keeps serving.
    pub fn rebuild(&self) -> Result<Arc<Snapshot>, String> {
        self.rebuild_after(None)
    }

    /// Like `rebuild`, for a change a watcher was told of at `noticed` (the wait is reported with the phases).
    pub fn rebuild_after(&self, noticed: Option<Instant>) -> Result<Arc<Snapshot>, String> {
        let result = {
            let _one_at_a_time = self.rebuilding.lock().unwrap_or_else(|e| e.into_inner());
            let waited = noticed.map(|t| t.elapsed()).unwrap_or_default();
            self.rebuild_locked(Phases {
                watch_wait_ms: ms(waited),
                ..Phases::default()
            })
        };
        // After the lock: the next rebuild need not wait for the memory to be handed back.
        release_free_memory();
        result
    }

    fn rebuild_locked(&self, mut phases: Phases) -> Result<Arc<Snapshot>, String> {
        let started = Instant::now();
        let prev = self.snapshot();
        let serving = self.serving();
        // After an internal error the database is rebuilt from scratch: a fresh instance and every product reloaded.
        let fresh = if serving.is_poisoned() || self.profiles.load().is_poisoned() {
            match ServingDb::open(&self.opts.engine, self.max_execution_ms) {
                Ok(db) => Some(Arc::new(db)),
                Err(e) => return Err(format!("cannot reopen the serving database: {e:#}")),
            }
        } else {
            None
        };
        let (db, previous) = match &fresh {
            Some(db) => (db.clone(), None),
            // Before the first load, the placeholder holds nothing to reuse.
            None => (serving, self.is_ready().then_some(prev.as_ref())),
        };
        let built = build(&self.root, &self.opts, previous, Some(&db));
        phases.build_ms = ms(started.elapsed());
        match built {
            Ok(mut next) => {
                if fresh.is_some() {
                    next.generation = prev.generation + 1;
                    self.serving.store(db.clone());
                }
                phases.build = next.reload.phases;
                let next = Arc::new(next);
                self.swap_in(next.clone(), &db, fresh.is_some(), &mut phases);
                phases.rebuild_ms = ms(started.elapsed());
                self.remember(Change::of(&next, phases));
                self.last_error.store(Arc::new(None));
                tracing::info!(
                    generation = next.generation,
                    took_ms = next.reload.took_ms,
                    reloaded = ?next.reload.reloaded,
                    removed = ?next.reload.removed,
                    unchanged = next.reload.unchanged,
                    phases = ?phases,
                    "snapshot rebuilt"
                );
                let _ = self.events.send(Event::Snapshot {
                    generation: next.generation,
                });
                Ok(next)
            }
            Err(e) => {
                let message = format!("{e:#}");
                tracing::error!(error = %message, "rebuild failed; the previous snapshot keeps serving");
                self.last_error.store(Arc::new(Some(message.clone())));
                self.remember(Change {
                    generation: prev.generation,
                    at: unix_ms(),
                    took_ms: 0.0,
                    reloaded: Vec::new(),
                    removed: Vec::new(),
                    broken: Vec::new(),
                    error: Some(message.clone()),
                    phases,
                });
                let _ = self.events.send(Event::Error {
                    message: message.clone(),
                });
                Err(message)
            }
        }
    }

    /// Brings the role databases up to date with `next` (from scratch after a `fresh` unmasked database: the old
    /// ones may hold what the new snapshot hides), then swaps both in and updates the search index.
    fn swap_in(&self, next: Arc<Snapshot>, db: &Arc<ServingDb>, fresh: bool, phases: &mut Phases) {
        let started = Instant::now();
        let old_profiles = self.profiles.load_full();
        // The reloaded products' own tables first: an edit is visible before every role's view is worked out.
        let early = (!fresh).then(|| {
            crate::governance::role_dbs::publish_reloaded_first(
                &old_profiles,
                &next.reload.reloaded,
                &next.catalog,
                &next.governance,
                db,
                &self.salt,
            )
        });
        phases.reloaded_first_ms = ms(started.elapsed());
        let profiles = self.update_roles(early.as_ref(), &next, db);
        phases.profiles_ms = ms(started.elapsed());
        self.store_profiles(profiles);
        self.current.store(next.clone());
        self.first_load.finish();
        let indexed = Instant::now();
        match self.search.update(&next.catalog, &next.governance.compliance) {
            Ok(n) => tracing::debug!(documents = n, "search index updated"),
            Err(e) => tracing::error!(error = %e, "the search index could not be updated"),
        }
        phases.index_ms = ms(indexed.elapsed());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::folder::scan::Ignorer;
    use std::collections::BTreeMap;

    /// An ODCS contract with one schema object per name.
    fn contract(id: &str, tables: &[&str]) -> String {
        let mut text =
            format!("apiVersion: v3.1.0\nkind: DataContract\nid: {id}\nversion: 1.0.0\nstatus: active\nschema:\n");
        for t in tables {
            text.push_str(&format!(
                "  - name: {t}\n    properties:\n      - name: a\n        logicalType: integer\n"
            ));
        }
        text
    }

    /// The manifests of a mesh holding one contract per product (`domain/product` → its tables), as a build reads them.
    fn spec(products: &[(&str, &[&str])]) -> (tempfile::TempDir, MeshSpec) {
        let t = tempfile::tempdir().unwrap();
        for (key, tables) in products {
            let (domain, product) = key.split_once('/').unwrap();
            let dir = t.path().join(domain).join(product);
            std::fs::create_dir_all(&dir).unwrap();
            let id = format!("urn:test:{domain}:{product}");
            std::fs::write(dir.join(format!("{product}.odcs.yaml")), contract(&id, tables)).unwrap();
        }
        let spec = read_mesh(t.path(), None, &Ignorer::none());
        (t, spec)
    }

    /// What `assign_tables` decided, readably: each product's served tables by name, and its diagnostics as
    /// (code, file, field, message).
    type Readable = (
        BTreeMap<String, Vec<String>>,
        BTreeMap<String, Vec<(&'static str, String, String, String)>>,
    );

    fn assigned(spec: &MeshSpec) -> Readable {
        let (served, diags) = assign_tables(spec);
        let tables = spec
            .products
            .iter()
            .map(|p| {
                let names = served[&p.key()]
                    .iter()
                    .map(|(ci, oi)| p.contracts[*ci].tables[*oi].name.clone())
                    .collect();
                (p.key(), names)
            })
            .collect();
        let diags = diags
            .into_iter()
            .map(|(key, list)| {
                let list = list
                    .into_iter()
                    .map(|d| {
                        let file = d.file.map(|f| f.display().to_string()).unwrap_or_default();
                        (d.code, file, d.field.unwrap_or_default(), d.message)
                    })
                    .collect();
                (key, list)
            })
            .collect();
        (tables, diags)
    }

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn every_product_serves_its_tables_and_domains_keep_names_apart() {
        let (_t, spec) = spec(&[
            ("sales/orders", &["orders", "order_lines"]),
            ("crm/customers", &["customers"]),
            // The same table name in another domain is another table.
            ("crm/archive", &["orders"]),
        ]);
        let (tables, diags) = assigned(&spec);
        assert_eq!(
            tables,
            BTreeMap::from([
                ("crm/archive".to_string(), names(&["orders"])),
                ("crm/customers".to_string(), names(&["customers"])),
                ("sales/orders".to_string(), names(&["orders", "order_lines"])),
            ])
        );
        assert!(diags.is_empty(), "{diags:?}");
    }

    #[test]
    fn the_first_product_in_folder_order_keeps_a_name_and_the_next_is_told_who_has_it() {
        let (_t, spec) = spec(&[("shop/beta", &["orders", "returns"]), ("shop/alpha", &["orders"])]);
        let (tables, diags) = assigned(&spec);
        assert_eq!(tables["shop/alpha"], names(&["orders"]));
        assert_eq!(
            tables["shop/beta"],
            names(&["returns"]),
            "beta's other table is still served"
        );
        assert_eq!(
            diags["shop/beta"],
            [(
                "name-collision",
                "shop/beta/beta.odcs.yaml".to_string(),
                "schema[0].name".to_string(),
                "table `shop.orders` is already provided by shop/alpha".to_string()
            )]
        );
        assert!(!diags.contains_key("shop/alpha"), "{diags:?}");
    }

    #[test]
    fn names_collide_whatever_their_case_as_they_do_in_duckdb() {
        let (_t, spec) = spec(&[
            ("shop/alpha", &["Orders"]),
            ("shop/beta", &["ORDERS"]),
            ("Shop/gamma", &["orders"]),
        ]);
        let (tables, diags) = assigned(&spec);
        // `Shop` sorts before `shop`: its product claims the name first.
        assert_eq!(tables["Shop/gamma"], names(&["orders"]));
        assert_eq!(tables["shop/alpha"], Vec::<String>::new());
        assert_eq!(tables["shop/beta"], Vec::<String>::new());
        for key in ["shop/alpha", "shop/beta"] {
            let codes: Vec<&str> = diags[key].iter().map(|d| d.0).collect();
            assert_eq!(codes, ["name-collision"], "{key}");
            assert!(
                diags[key][0].3.ends_with("already provided by Shop/gamma"),
                "{:?}",
                diags[key]
            );
        }
    }

    #[test]
    fn a_product_cannot_serve_one_name_twice() {
        let (_t, spec) = spec(&[("shop/orders", &["orders", "lines", "orders"])]);
        let (tables, diags) = assigned(&spec);
        assert_eq!(tables["shop/orders"], names(&["orders", "lines"]));
        let fields: Vec<(&str, &str)> = diags["shop/orders"].iter().map(|d| (d.0, d.2.as_str())).collect();
        assert_eq!(fields, [("name-collision", "schema[2].name")]);
        assert!(diags["shop/orders"][0].3.ends_with("already provided by shop/orders"));
    }

    #[test]
    fn the_domain_of_the_metadata_tables_serves_nothing_whatever_its_case() {
        let (_t, spec) = spec(&[
            ("mesh/orders", &["orders"]),
            ("MESH/people", &["people"]),
            ("shop/orders", &["orders"]),
        ]);
        let (tables, diags) = assigned(&spec);
        assert_eq!(tables["mesh/orders"], Vec::<String>::new());
        assert_eq!(tables["MESH/people"], Vec::<String>::new());
        assert_eq!(
            tables["shop/orders"],
            names(&["orders"]),
            "other domains are unaffected"
        );
        for key in ["mesh/orders", "MESH/people"] {
            let found = &diags[key];
            assert_eq!(found.len(), 1, "{found:?}");
            assert_eq!(found[0].0, "reserved-name");
            assert!(
                found[0].3.contains("is reserved for meshbox's metadata tables"),
                "{found:?}"
            );
        }
        assert!(!diags.contains_key("shop/orders"), "{diags:?}");
    }
}
