//! Builds a role's catalog database: reads the schemas, tables and columns of the role's own serving database (and
//! their descriptions from its `mesh.*` tables), then fills the emulated Postgres catalogs with them in a fresh,
//! locked-down DuckDB that holds no rows of data at all.

use super::schema::{FUNCTIONS, INFORMATION_SCHEMA, SCHEMA, TABLES, TYPES, format_type_macro};
use crate::load::ingest::EngineSettings;
use crate::load::serving_db::ServingDb;
use crate::serve::pg::commands::SETTINGS;
use crate::serve::pg::sql_text::string_literal as s;
use crate::serve::pg::types::{Kind, PgColumn, column_from_duckdb};
use anyhow::Context;
use duckdb::Connection;
use std::collections::HashMap;

/// The name the catalogs give the database.
pub const DATABASE: &str = "meshbox";
const ROLE_OID: i64 = 10;
const PG_CATALOG_OID: i64 = 11;
const INFORMATION_SCHEMA_OID: i64 = 13_000;
const PG_CLASS_OID: i64 = 1259;

/// A table or view of the role, as the catalogs describe it.
struct Relation {
    oid: i64,
    schema: String,
    name: String,
    view: bool,
    rows: i64,
    description: Option<String>,
    columns: Vec<Attribute>,
}

struct Attribute {
    name: String,
    pg: PgColumn,
    nullable: bool,
    description: Option<String>,
}

/// What the role's database holds.
struct Metadata {
    schemas: Vec<(i64, String)>,
    relations: Vec<Relation>,
}

/// A built catalog database and the OIDs of the role's tables (by `schema.table` and `table`, lower case).
pub struct Built {
    pub db: ServingDb,
    pub relations: HashMap<String, i64>,
}

pub fn build(role_db: &ServingDb, engine: &EngineSettings, max_execution_ms: u64, role: &str) -> anyhow::Result<Built> {
    let meta = read_metadata(&role_db.connect()?).context("reading the role's tables")?;
    let db = ServingDb::open(engine, max_execution_ms)?;
    db.transaction(|conn| {
        create_objects(conn, role)?;
        fill(conn, &meta, role)
    })
    .context("building the Postgres catalogs")?;
    let mut relations = HashMap::new();
    for r in &meta.relations {
        relations.insert(format!("{}.{}", r.schema, r.name).to_ascii_lowercase(), r.oid);
        relations.entry(r.name.to_ascii_lowercase()).or_insert(r.oid);
    }
    Ok(Built { db, relations })
}

fn read_metadata(conn: &Connection) -> anyhow::Result<Metadata> {
    let mut rel_stmt = conn.prepare(
        "SELECT schema_name, table_name, false, coalesce(estimated_size, 0) FROM duckdb_tables() \
         WHERE NOT internal AND NOT temporary \
         UNION ALL SELECT schema_name, view_name, true, 0 FROM duckdb_views() WHERE NOT internal AND NOT temporary \
         ORDER BY 1, 2",
    )?;
    let found: Vec<(String, String, bool, i64)> = rel_stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<Result<_, _>>()?;
    let mut col_stmt = conn.prepare(
        "SELECT schema_name, table_name, column_name, data_type, is_nullable FROM duckdb_columns() \
         WHERE NOT internal ORDER BY schema_name, table_name, column_index",
    )?;
    let mut columns: HashMap<(String, String), Vec<ColumnFacts>> = HashMap::new();
    for row in col_stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))? {
        let (schema, table, name, ty, nullable): (String, String, String, String, bool) = row?;
        columns.entry((schema, table)).or_default().push((name, ty, nullable));
    }
    let (table_notes, column_notes) = descriptions(conn);
    let mut schemas: Vec<String> = found.iter().map(|r| r.0.clone()).collect();
    schemas.push("main".into());
    schemas.sort();
    schemas.dedup();
    let schemas: Vec<(i64, String)> = schemas
        .into_iter()
        .enumerate()
        .map(|(i, n)| (16_384 + i as i64, n))
        .collect();
    let relations = found
        .into_iter()
        .enumerate()
        .map(|(i, (schema, name, view, rows))| {
            let key = (schema.clone(), name.clone());
            let attributes = columns
                .remove(&key)
                .unwrap_or_default()
                .into_iter()
                .map(|(col, ty, nullable)| Attribute {
                    description: column_notes.get(&(schema.clone(), name.clone(), col.clone())).cloned(),
                    pg: column_from_duckdb(&col, &ty),
                    name: col,
                    nullable,
                })
                .collect();
            Relation {
                oid: 20_000 + i as i64,
                description: table_notes.get(&key).cloned(),
                schema,
                name,
                view,
                rows,
                columns: attributes,
            }
        })
        .collect();
    Ok(Metadata { schemas, relations })
}

/// (name, DuckDB type, nullable) of a column.
type ColumnFacts = (String, String, bool);
type TableNotes = HashMap<(String, String), String>;
type ColumnNotes = HashMap<(String, String, String), String>;

/// Table and column descriptions from the role's `mesh.tables` and `mesh.columns` (none when they are missing).
fn descriptions(conn: &Connection) -> (TableNotes, ColumnNotes) {
    let tables = conn
        .prepare("SELECT domain, table_name, description FROM mesh.tables WHERE description IS NOT NULL")
        .and_then(|mut st| {
            st.query_map([], |r| Ok(((r.get(0)?, r.get(1)?), r.get(2)?)))?
                .collect::<Result<TableNotes, _>>()
        })
        .unwrap_or_default();
    let columns = conn
        .prepare("SELECT domain, table_name, column_name, description FROM mesh.columns WHERE description IS NOT NULL")
        .and_then(|mut st| {
            st.query_map([], |r| Ok(((r.get(0)?, r.get(1)?, r.get(2)?), r.get(3)?)))?
                .collect::<Result<ColumnNotes, _>>()
        })
        .unwrap_or_default();
    (tables, columns)
}

/// The schema, the empty catalog tables and the functions.
fn create_objects(conn: &Connection, role: &str) -> anyhow::Result<()> {
    let mut sql = format!("CREATE SCHEMA {SCHEMA};");
    for (name, columns) in TABLES {
        sql.push_str(&format!("CREATE TABLE {SCHEMA}.{name} ({columns});"));
    }
    for (name, columns) in INFORMATION_SCHEMA {
        sql.push_str(&format!("CREATE TABLE {SCHEMA}.information_schema_{name} ({columns});"));
    }
    for (name, body) in FUNCTIONS {
        sql.push_str(&format!(
            "CREATE MACRO {SCHEMA}.{name}{};",
            body.replace("{role}", &s(role))
        ));
    }
    sql.push_str(&format_type_macro());
    sql.push(';');
    conn.execute_batch(&sql)
        .with_context(|| "creating the emulated catalogs".to_string())?;
    Ok(())
}

/// SQL constants for one row.
type Row = Vec<String>;

fn insert(conn: &Connection, table: &str, columns: &str, rows: &[Row]) -> anyhow::Result<()> {
    for chunk in rows.chunks(500) {
        let values: Vec<String> = chunk.iter().map(|r| format!("({})", r.join(", "))).collect();
        conn.execute_batch(&format!(
            "INSERT INTO {SCHEMA}.{table} ({columns}) VALUES {};",
            values.join(", ")
        ))
        .with_context(|| format!("filling {table}"))?;
    }
    Ok(())
}

fn n(v: i64) -> String {
    v.to_string()
}

fn b(v: bool) -> String {
    if v { "true" } else { "false" }.into()
}

fn fill(conn: &Connection, meta: &Metadata, role: &str) -> anyhow::Result<()> {
    fill_fixed(conn, role)?;
    fill_namespaces(conn, meta, role)?;
    fill_relations(conn, meta, role)?;
    fill_attributes(conn, meta)?;
    fill_information_schema(conn, meta, role)
}

/// Rows every role's catalogs share: types, access methods, the database, the role itself, settings.
fn fill_fixed(conn: &Connection, role: &str) -> anyhow::Result<()> {
    fill_types(conn)?;
    fill_database(conn)?;
    fill_role(conn, role)?;
    fill_settings(conn)
}

fn fill_types(conn: &Connection) -> anyhow::Result<()> {
    let types: Vec<Row> = TYPES
        .iter()
        .map(|(oid, name, len, category, array, element)| {
            let byval = matches!(len, 1 | 2 | 4 | 8);
            let collation = if *category == "S" { 100 } else { 0 };
            let io = [s(&format!("{name}in")), s(&format!("{name}out"))];
            let mut row = vec![
                n(*oid),
                s(name),
                n(PG_CATALOG_OID),
                n(ROLE_OID),
                n((*len).into()),
                b(byval),
            ];
            row.extend([
                s("b"),
                s(category),
                b(false),
                b(true),
                s(","),
                n(0),
                n(*element),
                n(*array),
            ]);
            row.extend(io);
            row.extend([s("i"), s("p"), b(false), n(0), n(-1), n(0), n(collation)]);
            row
        })
        .collect();
    let columns = "oid, typname, typnamespace, typowner, typlen, typbyval, typtype, typcategory, typispreferred, \
        typisdefined, typdelim, typrelid, typelem, typarray, typinput, typoutput, typalign, typstorage, typnotnull, \
        typbasetype, typtypmod, typndims, typcollation";
    insert(conn, "pg_type", columns, &types)
}

/// Access methods, tablespace, collations and the database itself.
fn fill_database(conn: &Connection) -> anyhow::Result<()> {
    let rows = |tuples: &[&str]| -> Vec<Row> { tuples.iter().map(|t| vec![t.to_string()]).collect() };
    insert(
        conn,
        "pg_am",
        "oid, amname, amhandler, amtype",
        &rows(&[
            "2, 'heap', 'heap_tableam_handler', 't'",
            "403, 'btree', 'bthandler', 'i'",
        ]),
    )?;
    insert(
        conn,
        "pg_tablespace",
        "oid, spcname, spcowner",
        &rows(&["1663, 'pg_default', 10"]),
    )?;
    insert(
        conn,
        "pg_collation",
        "oid, collname, collnamespace, collowner, collprovider, collisdeterministic, collencoding",
        &rows(&[
            "100, 'default', 11, 10, 'd', true, -1",
            "950, 'C', 11, 10, 'c', true, -1",
        ]),
    )?;
    let database = format!("16383, {}, 10, 6, 'c', false, true, -1, 1663, 'C', 'C'", s(DATABASE));
    insert(
        conn,
        "pg_database",
        "oid, datname, datdba, encoding, datlocprovider, datistemplate, datallowconn, datconnlimit, dattablespace, \
         datcollate, datctype",
        &[vec![database]],
    )
}

/// The role, as the only role there is (no superuser, may log in, password hidden).
fn fill_role(conn: &Connection, role: &str) -> anyhow::Result<()> {
    let columns = "oid, rolname, rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin, rolreplication, \
        rolconnlimit, rolpassword";
    let login = vec![format!(
        "{ROLE_OID}, {}, false, true, false, false, true, false, -1, '********'",
        s(role)
    )];
    insert(conn, "pg_roles_emulated", columns, std::slice::from_ref(&login))?;
    insert(conn, "pg_authid_emulated", columns, &[login])?;
    insert(
        conn,
        "pg_user_emulated",
        "usename, usesysid, usecreatedb, usesuper, userepl, usebypassrls, passwd",
        &[vec![format!(
            "{}, {ROLE_OID}, false, false, false, false, '********'",
            s(role)
        )]],
    )
}

/// The Postgres settings `SHOW` knows, with their default values.
fn fill_settings(conn: &Connection) -> anyhow::Result<()> {
    let settings: Vec<Row> = SETTINGS
        .iter()
        .map(|st| {
            let context = if st.client { "user" } else { "internal" };
            let (name, value) = (s(st.name), s(st.value));
            vec![format!(
                "{name}, {value}, '{context}', 'string', 'default', {value}, {value}"
            )]
        })
        .collect();
    insert(
        conn,
        "pg_settings_emulated",
        "name, setting, context, vartype, source, boot_val, reset_val",
        &settings,
    )
}

fn fill_namespaces(conn: &Connection, meta: &Metadata, role: &str) -> anyhow::Result<()> {
    let mut rows = vec![
        vec![n(PG_CATALOG_OID), s("pg_catalog"), n(ROLE_OID)],
        vec![n(INFORMATION_SCHEMA_OID), s("information_schema"), n(ROLE_OID)],
    ];
    rows.extend(
        meta.schemas
            .iter()
            .map(|(oid, name)| vec![n(*oid), s(name), n(ROLE_OID)]),
    );
    insert(conn, "pg_namespace", "oid, nspname, nspowner", &rows)?;
    let mut schemata = vec![
        vec![s(DATABASE), s("pg_catalog"), s(role)],
        vec![s(DATABASE), s("information_schema"), s(role)],
    ];
    schemata.extend(meta.schemas.iter().map(|(_, name)| vec![s(DATABASE), s(name), s(role)]));
    insert(
        conn,
        "information_schema_schemata",
        "catalog_name, schema_name, schema_owner",
        &schemata,
    )
}

fn namespace_of(meta: &Metadata, schema: &str) -> i64 {
    meta.schemas
        .iter()
        .find(|(_, n)| n == schema)
        .map_or(0, |(oid, _)| *oid)
}

fn fill_relations(conn: &Connection, meta: &Metadata, role: &str) -> anyhow::Result<()> {
    fill_class(conn, meta)?;
    fill_table_lists(conn, meta, role)?;
    fill_descriptions(conn, meta)
}

/// `pg_class`: one row per table or view (a heap with no indexes, rules or triggers).
fn fill_class(conn: &Connection, meta: &Metadata) -> anyhow::Result<()> {
    let rows: Vec<Row> = meta
        .relations
        .iter()
        .map(|r| {
            let (kind, access_method) = if r.view { ("v", 0) } else { ("r", 2) };
            vec![format!(
                "{oid}, {name}, {namespace}, 0, 0, {ROLE_OID}, {access_method}, {oid}, 0, 0, {rows}::DOUBLE, 0, 0, \
                 false, false, 'p', '{kind}', {columns}, 0, false, false, false, false, false, true, 'd', false, 0, \
                 0, 0, false",
                oid = r.oid,
                name = s(&r.name),
                namespace = namespace_of(meta, &r.schema),
                rows = r.rows,
                columns = r.columns.len(),
            )]
        })
        .collect();
    let columns = "oid, relname, relnamespace, reltype, reloftype, relowner, relam, relfilenode, reltablespace, \
        relpages, reltuples, relallvisible, reltoastrelid, relhasindex, relisshared, relpersistence, relkind, \
        relnatts, relchecks, relhasrules, relhastriggers, relhassubclass, relrowsecurity, relforcerowsecurity, \
        relispopulated, relreplident, relispartition, relrewrite, relfrozenxid, relminmxid, relhasoids";
    insert(conn, "pg_class", columns, &rows)
}

/// `pg_tables`, `pg_views` and the row counts of `pg_stat_user_tables`.
fn fill_table_lists(conn: &Connection, meta: &Metadata, role: &str) -> anyhow::Result<()> {
    let (views, tables): (Vec<&Relation>, Vec<&Relation>) = meta.relations.iter().partition(|r| r.view);
    let listed = |r: &&Relation| vec![s(&r.schema), s(&r.name), s(role)];
    let table_rows: Vec<Row> = tables.iter().map(|r| [listed(r), vec![b(false); 4]].concat()).collect();
    insert(
        conn,
        "pg_tables",
        "schemaname, tablename, tableowner, hasindexes, hasrules, hastriggers, rowsecurity",
        &table_rows,
    )?;
    insert(
        conn,
        "pg_views",
        "schemaname, viewname, viewowner",
        &views.iter().map(listed).collect::<Vec<_>>(),
    )?;
    let stats: Vec<Row> = tables
        .iter()
        .map(|r| vec![n(r.oid), s(&r.schema), s(&r.name), n(0), n(r.rows), n(0)])
        .collect();
    insert(
        conn,
        "pg_stat_user_tables",
        "relid, schemaname, relname, seq_scan, n_live_tup, n_dead_tup",
        &stats,
    )
}

/// `pg_description`: the contracts' descriptions of tables and columns.
fn fill_descriptions(conn: &Connection, meta: &Metadata) -> anyhow::Result<()> {
    let mut notes = Vec::new();
    for r in &meta.relations {
        if let Some(d) = &r.description {
            notes.push(vec![n(r.oid), n(PG_CLASS_OID), n(0), s(d)]);
        }
        for (i, c) in r.columns.iter().enumerate() {
            if let Some(d) = &c.description {
                notes.push(vec![n(r.oid), n(PG_CLASS_OID), n(i as i64 + 1), s(d)]);
            }
        }
    }
    insert(
        conn,
        "pg_description",
        "objoid, classoid, objsubid, description",
        &notes,
    )
}

fn fill_attributes(conn: &Connection, meta: &Metadata) -> anyhow::Result<()> {
    let mut rows = Vec::new();
    for r in &meta.relations {
        for (i, c) in r.columns.iter().enumerate() {
            let len = c.pg.typlen;
            let collation = if c.pg.kind == Kind::Text { 100 } else { 0 };
            rows.push(vec![
                n(r.oid),
                s(&c.name),
                n(c.pg.pg.oid().into()),
                n(-1),
                n(len.into()),
                n(i as i64 + 1),
                n(0),
                n(-1),
                n(c.pg.typmod.into()),
                b(matches!(len, 1 | 2 | 4 | 8)),
                s("i"),
                s("p"),
                s(""),
                b(!c.nullable),
                b(false),
                b(false),
                s(""),
                s(""),
                b(false),
                b(true),
                n(0),
                n(collation),
            ]);
        }
    }
    insert(
        conn,
        "pg_attribute",
        "attrelid, attname, atttypid, attstattarget, attlen, attnum, attndims, \
        attcacheoff, atttypmod, attbyval, attalign, attstorage, attcompression, attnotnull, atthasdef, \
        atthasmissing, attidentity, attgenerated, attisdropped, attislocal, attinhcount, attcollation",
        &rows,
    )
}

/// `information_schema.tables` and `.columns` with Postgres type names.
fn fill_information_schema(conn: &Connection, meta: &Metadata, role: &str) -> anyhow::Result<()> {
    let mut tables = Vec::new();
    let mut columns = Vec::new();
    let mut privileges = Vec::new();
    for r in &meta.relations {
        let kind = if r.view { "VIEW" } else { "BASE TABLE" };
        tables.push(vec![s(DATABASE), s(&r.schema), s(&r.name), s(kind), s("NO"), s("NO")]);
        privileges.push(vec![
            s(role),
            s(role),
            s(DATABASE),
            s(&r.schema),
            s(&r.name),
            s("SELECT"),
            s("NO"),
            s("YES"),
        ]);
        for (i, c) in r.columns.iter().enumerate() {
            let (precision, radix, scale) = numeric_facts(&c.pg);
            columns.push(vec![
                s(DATABASE),
                s(&r.schema),
                s(&r.name),
                s(&c.name),
                n(i as i64 + 1),
                s(if c.nullable { "YES" } else { "NO" }),
                s(&information_schema_type(&c.pg)),
                precision,
                radix,
                scale,
                s(DATABASE),
                s("pg_catalog"),
                s(c.pg.pg.name()),
                n(i as i64 + 1),
                s("NO"),
                s("NO"),
                s("NEVER"),
                s("NO"),
            ]);
        }
    }
    insert(
        conn,
        "information_schema_tables",
        "table_catalog, table_schema, table_name, table_type, \
        is_insertable_into, is_typed",
        &tables,
    )?;
    insert(
        conn,
        "information_schema_table_privileges",
        "grantor, grantee, table_catalog, table_schema, table_name, \
        privilege_type, is_grantable, with_hierarchy",
        &privileges,
    )?;
    insert(
        conn,
        "information_schema_columns",
        "table_catalog, table_schema, table_name, column_name, \
        ordinal_position, is_nullable, data_type, numeric_precision, numeric_precision_radix, numeric_scale, \
        udt_catalog, udt_schema, udt_name, dtd_identifier, is_self_referencing, is_identity, is_generated, \
        is_updatable",
        &columns,
    )
}

/// `information_schema.columns.data_type`: the SQL name without modifiers.
fn information_schema_type(c: &PgColumn) -> String {
    super::schema::TYPE_NAMES
        .iter()
        .find(|(oid, _)| i64::from(c.pg.oid()) == *oid)
        .map_or("text", |(_, name)| name)
        .to_string()
}

/// (numeric_precision, numeric_precision_radix, numeric_scale) as SQL constants.
fn numeric_facts(c: &PgColumn) -> (String, String, String) {
    let null = || "NULL".to_string();
    match c.kind {
        Kind::Int => (n(i64::from(c.typlen) * 8), n(2), n(0)),
        Kind::Float4 => (n(24), n(2), null()),
        Kind::Float8 => (n(53), n(2), null()),
        Kind::Numeric if c.typmod > 4 => (
            n(i64::from((c.typmod - 4) >> 16)),
            n(10),
            n(i64::from((c.typmod - 4) & 0xffff)),
        ),
        Kind::Numeric => (null(), n(10), null()),
        _ => (null(), null(), null()),
    }
}
