//! One serving database per access profile. Roles that read the same products with the same masks (and so see the
//! same `mesh.*` metadata) share one; a role that reads everything unmasked uses the unmasked database itself. Every
//! other database is built from already-masked copies and holds the metadata of what its roles may read, so no SQL
//! sent on a role's connection can reach a value, a measure or a row count the role may not see.

use crate::base::sql::quote_ident;
use crate::governance::Governance;
use crate::governance::access::Role;
use crate::governance::disclosure::Sight;
use crate::governance::masking::Salt;
use crate::governance::metadata::MetaTable;
use crate::governance::policy::MaskMethod;
use crate::load::ingest::EngineSettings;
use crate::load::serving_db::ServingDb;
use crate::model::catalog::{Catalog, Product};
use duckdb::Connection;
use std::collections::{BTreeMap, HashMap};
use std::hash::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// What a profile holds of one table: the version of the product's data and each column's mask.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct TableState {
    generation: u64,
    masks: Vec<(String, Option<MaskMethod>)>,
}

/// The tables a role may read, by (schema, table).
type Plan = BTreeMap<(String, String), TableState>;

/// What a database holds of each metadata table, by name: only what changes is written again.
type MetaDigests = BTreeMap<&'static str, crate::governance::metadata::Held>;

#[derive(Clone)]
struct ProfileDb {
    db: Arc<ServingDb>,
    roles: Vec<String>,
    signature: u64,
    tables: Plan,
    /// What it holds of each metadata table.
    meta_tables: MetaDigests,
}

/// The databases of every role of one snapshot.
#[derive(Default, Clone)]
pub struct Profiles {
    by_role: HashMap<String, Arc<ServingDb>>,
    dbs: Vec<ProfileDb>,
    /// Roles whose database could not be brought up to date: their queries are refused until a rebuild works.
    pub unavailable: Vec<String>,
    /// The digests of the metadata tables in the unmasked database.
    raw_meta: MetaDigests,
    /// Each product's metadata rows, for the next update.
    rows: Arc<crate::governance::metadata::RowCache>,
}

/// Per profile, for `/api/status` and the benchmark: which roles share it and what it holds.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ProfileInfo {
    pub roles: Vec<String>,
    pub tables: usize,
    pub masked_columns: usize,
    /// True for the unmasked database (roles that may read everything as it is).
    pub unmasked: bool,
}

impl Profiles {
    /// The database `role` queries, if it has one.
    pub fn for_role(&self, role: &str) -> Option<Arc<ServingDb>> {
        self.by_role.get(role).cloned()
    }

    pub fn info(&self) -> Vec<ProfileInfo> {
        let mut out: Vec<ProfileInfo> = self
            .dbs
            .iter()
            .map(|p| ProfileInfo {
                roles: p.roles.clone(),
                tables: p.tables.len(),
                masked_columns: p
                    .tables
                    .values()
                    .map(|t| t.masks.iter().filter(|m| m.1.is_some()).count())
                    .sum(),
                unmasked: false,
            })
            .collect();
        let shared: Vec<String> = {
            let mut r: Vec<String> = self
                .by_role
                .iter()
                .filter(|(name, _)| !self.dbs.iter().any(|p| p.roles.contains(name)))
                .map(|(name, _)| name.clone())
                .collect();
            r.sort();
            r
        };
        if !shared.is_empty() {
            out.insert(
                0,
                ProfileInfo {
                    roles: shared,
                    tables: 0,
                    masked_columns: 0,
                    unmasked: true,
                },
            );
        }
        out
    }

    pub fn is_poisoned(&self) -> bool {
        self.dbs.iter().any(|p| p.db.is_poisoned())
    }
}

/// What `role` may read of the catalog, with masks.
fn plan_of(catalog: &Catalog, gov: &Governance, role: &Role) -> Plan {
    plan_of_products(catalog.products.iter(), gov, role)
}

/// What `role` may read of `products`, with masks.
fn plan_of_products<'a>(products: impl Iterator<Item = &'a Arc<Product>>, gov: &Governance, role: &Role) -> Plan {
    let mut plan = Plan::new();
    for p in products {
        if !gov.decide(role, p).granted {
            continue;
        }
        for t in &p.tables {
            let masks = gov.access.table_masks(role, p, t);
            plan.insert(
                (t.schema.clone(), t.name.clone()),
                TableState {
                    generation: p.loaded_generation,
                    masks: t.columns.iter().map(|c| c.name.clone()).zip(masks).collect(),
                },
            );
        }
    }
    plan
}

/// Every table, unmasked: what the unmasked database holds.
fn is_everything(plan: &Plan, catalog: &Catalog) -> bool {
    let tables: usize = catalog.products.iter().map(|p| p.tables.len()).sum();
    plan.len() == tables && plan.values().all(|t| t.masks.iter().all(|m| m.1.is_none()))
}

/// What a role's database holds: its tables with their masks, and its view of the metadata.
fn signature(plan: &Plan, view: u64) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    plan.hash(&mut h);
    view.hash(&mut h);
    h.finish()
}

/// Roles that share one database: what they read, and the digest of the metadata they see (built from one of
/// them only when the database must be republished).
struct Group {
    signature: u64,
    plan: Plan,
    roles: Vec<String>,
    /// What its first role sees of each product (every role of the group sees the same).
    sights: Vec<Sight>,
}

/// Which roles get a database of their own: every one, or (built on first use) only those asked for so far.
#[derive(Debug, Clone, Copy)]
pub enum Wanted<'a> {
    All,
    Only(&'a std::collections::BTreeSet<String>),
}

impl Wanted<'_> {
    fn any_of(&self, roles: &[String]) -> bool {
        match self {
            Wanted::All => true,
            Wanted::Only(set) => roles.iter().any(|r| set.contains(r)),
        }
    }
}

/// Brings the databases of the `wanted` roles up to date with `catalog`, reusing the previous ones where it can
/// (only tables whose data or masks changed are copied again). `raw` is the unmasked database, already up to date.
/// A role that reads everything unmasked always gets `raw`; a role not wanted gets no database (yet).
#[allow(clippy::too_many_arguments)]
pub fn update(
    prev: Option<&Profiles>,
    catalog: &Catalog,
    gov: &Governance,
    raw: &Arc<ServingDb>,
    engine: &EngineSettings,
    max_execution_ms: u64,
    salt: &Salt,
    wanted: Wanted<'_>,
) -> Profiles {
    let started = std::time::Instant::now();
    // The complete metadata (for the unmasked database) and what each role sees do not depend on each other.
    // Rows of products that did not change are reused from the last update.
    let rows = prev.map(|p| p.rows.clone()).unwrap_or_default();
    rows.keep_only(catalog);
    let views = role_views(catalog, gov);
    let mut next = Profiles {
        rows: rows.clone(),
        ..Profiles::default()
    };
    let mut groups = group_roles(views, raw, &mut next);
    groups.retain(|g| wanted.any_of(&g.roles));
    tracing::debug!(views_ms = started.elapsed().as_secs_f64() * 1e3, "role views");
    // Read before the unmasked database's metadata is written: that holds its administrative connection.
    let columns = raw_columns(raw);
    let old = prev.map(|p| p.dbs.clone()).unwrap_or_default();
    let jobs = pair_with_databases(groups, old, engine, max_execution_ms, &mut next);
    let jobs: Vec<Job> = jobs.into_iter().map(|(g, p)| (g, p, raw.connect())).collect();
    // The profiles copy from the unmasked tables, never from its metadata: both are written side by side, and
    // each profile's data before its metadata, so that an edit is visible as soon as it can be.
    let (raw_meta, synced) = std::thread::scope(|scope| {
        let raw_meta = scope.spawn(|| {
            let meta = crate::governance::metadata::tables(catalog, gov, None, Some(&rows));
            let digests = digests_of(&meta);
            publish_raw_meta(prev, raw, meta, digests)
        });
        let synced = match &columns {
            Ok(columns) => sync_side_by_side(jobs, catalog, gov, columns, salt, &rows),
            Err(e) => unavailable(jobs, e),
        };
        (raw_meta.join().expect("the metadata thread panicked"), synced)
    });
    next.raw_meta = raw_meta;
    keep_synced(&mut next, synced);
    tracing::debug!(
        took_ms = started.elapsed().as_secs_f64() * 1e3,
        profiles = next.dbs.len(),
        "profiles updated"
    );
    next
}

/// Copies the tables of the products a rebuild reloaded into every role database whose roles all read them alike,
/// before [`update`] works out each role's view of the whole mesh: an edit is visible to a role's queries once its
/// own table is copied. Returns `prev` with what the databases now hold, for [`update`], which finds those tables
/// up to date and brings everything else (other products, grants that changed, the metadata) in line.
pub fn publish_reloaded_first(
    prev: &Profiles,
    reloaded: &[String],
    catalog: &Catalog,
    gov: &Governance,
    raw: &ServingDb,
    salt: &Salt,
) -> Profiles {
    let mut next = prev.clone();
    let products: Vec<&Arc<Product>> = reloaded
        .iter()
        .filter_map(|key| key.split_once('/'))
        .filter_map(|(domain, name)| catalog.product(domain, name))
        .collect();
    if products.is_empty() || next.dbs.is_empty() {
        return next;
    }
    let schemas: Vec<&str> = products
        .iter()
        .flat_map(|p| p.tables.iter().map(|t| t.schema.as_str()))
        .collect();
    let Ok(columns) = raw_columns_in(raw, &schemas) else {
        return next;
    };
    std::thread::scope(|scope| {
        for profile in next.dbs.iter_mut() {
            let (products, columns) = (&products, &columns);
            scope.spawn(move || {
                let Some(entries) = agreed_entries(profile, products, gov) else {
                    return;
                };
                if let Err(e) = copy_entries(profile, &entries, raw, columns, salt) {
                    // The full update copies them again.
                    tracing::debug!(error = %format!("{e:#}"), "early copy of reloaded tables failed");
                }
            });
        }
    });
    next
}

/// What every role of `profile` may read of `products`, when they all read it alike (else the full update decides).
fn agreed_entries(profile: &ProfileDb, products: &[&Arc<Product>], gov: &Governance) -> Option<Plan> {
    let mut agreed: Option<Plan> = None;
    for name in &profile.roles {
        let role = gov.access.roles.iter().find(|r| &r.name == name)?;
        let plan = plan_of_products(products.iter().copied(), gov, role);
        match &agreed {
            Some(a) if *a != plan => return None,
            Some(_) => {}
            None => agreed = Some(plan),
        }
    }
    agreed
}

/// Copies the tables of `entries` whose data or masks differ from what `profile` holds, in one transaction.
fn copy_entries(
    profile: &mut ProfileDb,
    entries: &Plan,
    raw: &ServingDb,
    columns: &RawColumns,
    salt: &Salt,
) -> anyhow::Result<()> {
    let before: Plan = entries
        .keys()
        .filter_map(|k| profile.tables.get_key_value(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if before == *entries {
        return Ok(());
    }
    let raw_conn = raw.connect()?;
    let held = profile
        .db
        .transaction(|conn| copy_changed(conn, &raw_conn, &before, entries, columns, salt))?;
    for key in entries.keys() {
        profile.tables.remove(key);
    }
    profile.tables.extend(held);
    Ok(())
}

/// The digest of each metadata table.
fn digests_of(tables: &[MetaTable]) -> MetaDigests {
    tables.iter().map(|t| (t.name, t.held())).collect()
}

/// One digest for all the tables.
fn combined(digests: &MetaDigests) -> u64 {
    let mut h = DefaultHasher::new();
    for (name, held) in digests {
        (name, held.digest).hash(&mut h);
    }
    h.finish()
}

/// Brings the complete metadata tables in the unmasked database up to date, writing only those that changed. Returns
/// the digests of what it holds: none when publishing failed, so that the next update writes every table again.
fn publish_raw_meta(
    prev: Option<&Profiles>,
    raw: &ServingDb,
    meta: Vec<MetaTable>,
    digests: MetaDigests,
) -> MetaDigests {
    let held = prev.map(|p| p.raw_meta.clone()).unwrap_or_default();
    if combined(&held) == combined(&digests) && held.len() == digests.len() {
        return digests;
    }
    match raw.transaction(|conn| crate::governance::metadata::publish_changed(conn, meta, &held)) {
        Ok(now) => now,
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "metadata tables could not be published");
            MetaDigests::new()
        }
    }
}

/// What one role may read: its tables with their masks, the digest of its view of the metadata, and whether that is
/// everything as it is.
struct RoleView<'a> {
    role: &'a Role,
    plan: Plan,
    view: u64,
    everything: bool,
    /// What it sees of each product (for its metadata tables).
    sights: Vec<Sight>,
}

fn role_views<'a>(catalog: &Catalog, gov: &'a Governance) -> Vec<RoleView<'a>> {
    gov.access
        .roles
        .iter()
        .map(|role| {
            let plan = plan_of(catalog, gov, role);
            let sights = crate::governance::metadata::sights_of(catalog, gov, role);
            let (view, sees_all) = crate::governance::metadata::view_of(catalog, &sights);
            let everything = is_everything(&plan, catalog) && sees_all;
            RoleView {
                role,
                plan,
                view,
                everything,
                sights,
            }
        })
        .collect()
}

/// Roles grouped by what they may see: the same tables with the same masks, and the same metadata. A role that
/// sees everything as it is gets the unmasked database in `next` and no group.
fn group_roles(views: Vec<RoleView>, raw: &Arc<ServingDb>, next: &mut Profiles) -> Vec<Group> {
    let mut groups: Vec<Group> = Vec::new();
    for RoleView {
        role,
        plan,
        view,
        everything,
        sights,
    } in views
    {
        if everything {
            next.by_role.insert(role.name.clone(), raw.clone());
            continue;
        }
        let sig = signature(&plan, view);
        match groups.iter_mut().find(|g| g.signature == sig) {
            Some(g) => g.roles.push(role.name.clone()),
            None => groups.push(Group {
                signature: sig,
                plan,
                roles: vec![role.name.clone()],
                sights,
            }),
        }
    }
    groups
}

/// Pairs every group with its database: the previous one of the same signature, else one that served one of its
/// roles, else a new one. A group whose database cannot be opened has its roles marked unavailable in `next`.
fn pair_with_databases(
    groups: Vec<Group>,
    mut old: Vec<ProfileDb>,
    engine: &EngineSettings,
    max_execution_ms: u64,
    next: &mut Profiles,
) -> Vec<(Group, ProfileDb)> {
    let mut jobs = Vec::new();
    for g in groups {
        let reuse = old
            .iter()
            .position(|o| o.signature == g.signature)
            .or_else(|| old.iter().position(|o| o.roles.iter().any(|r| g.roles.contains(r))));
        let profile = match reuse {
            Some(i) => old.swap_remove(i),
            None => match ServingDb::open(engine, max_execution_ms) {
                Ok(db) => ProfileDb {
                    db: Arc::new(db),
                    roles: Vec::new(),
                    signature: 0,
                    tables: Plan::new(),
                    meta_tables: MetaDigests::new(),
                },
                Err(e) => {
                    tracing::error!(error = %format!("{e:#}"), roles = ?g.roles, "cannot open a profile database");
                    next.unavailable.extend(g.roles);
                    continue;
                }
            },
        };
        jobs.push((g, profile));
    }
    jobs
}

/// A group's database after its sync: the group's signature and roles, the database, and how the sync went.
type Synced = (u64, Vec<String>, ProfileDb, anyhow::Result<()>);

/// A group, its database and a connection to the unmasked database to copy from.
type Job = (Group, ProfileDb, anyhow::Result<Connection>);

/// Every job failed: the unmasked tables could not be listed.
fn unavailable(jobs: Vec<Job>, error: &anyhow::Error) -> Vec<Synced> {
    tracing::error!(error = %format!("{error:#}"), "cannot list the unmasked tables");
    jobs.into_iter()
        .map(|(g, profile, _)| {
            let failed = Err(anyhow::anyhow!("the unmasked tables could not be listed"));
            (g.signature, g.roles, profile, failed)
        })
        .collect()
}

/// Brings every paired database up to date, one thread each.
fn sync_side_by_side(
    jobs: Vec<Job>,
    catalog: &Catalog,
    gov: &Governance,
    columns: &RawColumns,
    salt: &Salt,
    rows: &crate::governance::metadata::RowCache,
) -> Vec<Synced> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = jobs
            .into_iter()
            .map(|(g, mut profile, raw)| {
                scope.spawn(move || {
                    let meta = || crate::governance::metadata::tables(catalog, gov, Some(&g.sights), Some(rows));
                    let r = sync(&mut profile, &g.plan, raw, columns, salt, &meta);
                    (g.signature, g.roles, profile, r)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a profile sync thread panicked"))
            .collect()
    })
}

/// Keeps the databases that synced, for their roles; the roles of the others get none.
fn keep_synced(next: &mut Profiles, synced: Vec<Synced>) {
    for (sig, roles, mut profile, result) in synced {
        match result {
            Ok(()) => {
                profile.signature = sig;
                profile.roles = roles.clone();
                for r in &roles {
                    next.by_role.insert(r.clone(), profile.db.clone());
                }
                next.dbs.push(profile);
            }
            Err(e) => {
                // Fail closed: a role whose database may be out of date gets no database at all.
                tracing::error!(error = %format!("{e:#}"), ?roles, "a profile database could not be updated");
                next.unavailable.extend(roles);
            }
        }
    }
}

/// The columns and types of every table of the unmasked database, in one catalog query.
type RawColumns = HashMap<(String, String), Vec<(String, String)>>;

fn raw_columns(raw: &ServingDb) -> anyhow::Result<RawColumns> {
    raw_columns_where(raw, "")
}

/// The columns and types of the tables of the unmasked database in `schemas` only.
fn raw_columns_in(raw: &ServingDb, schemas: &[&str]) -> anyhow::Result<RawColumns> {
    let filter = format!(
        "AND list_contains({}, schema_name)",
        crate::base::sql::literal_list(schemas)
    );
    raw_columns_where(raw, &filter)
}

fn raw_columns_where(raw: &ServingDb, filter: &str) -> anyhow::Result<RawColumns> {
    let conn = raw.connect()?;
    let mut stmt = conn.prepare(&format!(
        "SELECT schema_name, table_name, column_name, data_type FROM duckdb_columns() \
         WHERE NOT internal AND schema_name <> 'mesh' {filter} ORDER BY schema_name, table_name, column_index"
    ))?;
    let mut out = RawColumns::new();
    let rows = stmt.query_map([], |r| {
        Ok((
            (r.get::<_, String>(0)?, r.get::<_, String>(1)?),
            (r.get::<_, String>(2)?, r.get::<_, String>(3)?),
        ))
    })?;
    for row in rows {
        let (key, col) = row?;
        out.entry(key).or_default().push(col);
    }
    Ok(out)
}

/// Makes one profile database hold exactly `plan` and its role's metadata, in one transaction.
fn sync(
    profile: &mut ProfileDb,
    plan: &Plan,
    raw: anyhow::Result<Connection>,
    columns: &RawColumns,
    salt: &Salt,
    meta: &(dyn Fn() -> Vec<MetaTable> + Sync),
) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    // The data first, in a transaction of its own: an edit is visible to the role's queries once it commits (the
    // database is the one they already use), without waiting for the metadata.
    let raw_conn = raw?;
    let held = profile
        .db
        .transaction(|conn| copy_changed(conn, &raw_conn, &profile.tables, plan, columns, salt))?;
    profile.tables = held;
    let copied = started.elapsed();
    // Built outside the transaction (the role's queries wait for the database while one runs); only the tables
    // (and products' rows) that changed are written.
    let tables = meta();
    let built = started.elapsed() - copied;
    // Tables whose digest is unchanged are not written (an empty transaction when nothing changed).
    let meta_tables = profile
        .db
        .transaction(|conn| crate::governance::metadata::publish_changed(conn, tables, &profile.meta_tables))?;
    tracing::debug!(
        copy_ms = copied.as_secs_f64() * 1e3,
        meta_build_ms = built.as_secs_f64() * 1e3,
        total_ms = started.elapsed().as_secs_f64() * 1e3,
        "profile sync"
    );
    profile.meta_tables = meta_tables;
    Ok(())
}

/// Drops the tables `plan` no longer holds and copies those whose data or masks changed (inside the caller's
/// transaction). Returns what the database holds afterwards: a table whose copy failed is dropped, not kept stale.
fn copy_changed(
    conn: &Connection,
    raw_conn: &Connection,
    before: &Plan,
    plan: &Plan,
    columns: &RawColumns,
    salt: &Salt,
) -> anyhow::Result<Plan> {
    let mut held = before.clone();
    for key in before.keys() {
        if !plan.contains_key(key) {
            drop_table(conn, key)?;
            held.remove(key);
        }
    }
    for (key, state) in plan {
        if before.get(key) == Some(state) {
            continue;
        }
        held.remove(key);
        let cols = columns.get(key).map(Vec::as_slice).unwrap_or_default();
        match copy_masked(raw_conn, conn, key, cols, state, salt) {
            Ok(()) => {
                held.insert(key.clone(), state.clone());
            }
            Err(e) => {
                tracing::warn!(table = %format!("{}.{}", key.0, key.1), error = %e, "masked copy failed");
                drop_table(conn, key)?;
            }
        }
    }
    Ok(held)
}

fn drop_table(conn: &Connection, (schema, table): &(String, String)) -> anyhow::Result<()> {
    conn.execute_batch(&format!(
        "DROP TABLE IF EXISTS {}.{}",
        quote_ident(schema),
        quote_ident(table)
    ))?;
    Ok(())
}

/// Copies `schema.table` from the unmasked database into `target`, every column through its mask. Columns the
/// catalog does not know are redacted.
fn copy_masked(
    raw: &Connection,
    target: &Connection,
    (schema, table): &(String, String),
    cols: &[(String, String)],
    state: &TableState,
    salt: &Salt,
) -> Result<(), String> {
    let clean = crate::base::errors::clean_error;
    if cols.is_empty() {
        return Err(format!("{schema}.{table} is not in the unmasked database"));
    }
    let mut select = Vec::new();
    let mut defs = Vec::new();
    for (name, ty) in cols {
        let mask = match state.masks.iter().find(|(n, _)| n == name) {
            Some((_, m)) => *m,
            None => Some(MaskMethod::Redact),
        };
        select.push(crate::governance::masking::sql(mask, name, ty, salt));
        defs.push(format!(
            "{} {}",
            quote_ident(name),
            crate::governance::masking::masked_type(mask, ty)
        ));
    }
    let qualified = format!("{}.{}", quote_ident(schema), quote_ident(table));
    target
        .execute_batch(&format!(
            "CREATE SCHEMA IF NOT EXISTS {}; CREATE OR REPLACE TABLE {qualified} ({});",
            quote_ident(schema),
            defs.join(", ")
        ))
        .map_err(clean)?;
    let mut read = raw
        .prepare(&format!("SELECT {} FROM {qualified}", select.join(", ")))
        .map_err(clean)?;
    let batches = read.stream_arrow([]).map_err(clean)?;
    let mut appender = target.appender_to_db(table, schema).map_err(clean)?;
    for batch in batches {
        appender.append_record_batch(batch.map_err(clean)?).map_err(clean)?;
    }
    appender.flush().map_err(clean)?;
    Ok(())
}
