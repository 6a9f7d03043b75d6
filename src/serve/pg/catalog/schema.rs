//! The Postgres system catalogs the endpoint emulates, as DuckDB tables in schema `pgc` of a role's catalog
//! database: their columns (the ones psql, pgjdbc, DBeaver and Metabase read), the fixed rows (types, access
//! methods, the database), and the `pg_*` functions as macros. The per-role rows come from `build.rs`.

/// The schema of the catalog database that holds the emulated catalogs.
pub const SCHEMA: &str = "pgc";

/// Emulated catalog tables that the query guard refuses by name (their Postgres names are also DuckDB views over
/// settings and roles): they live under another name, which the rewriter uses.
pub const RENAMED: &[(&str, &str)] = &[
    ("pg_settings", "pg_settings_emulated"),
    ("pg_roles", "pg_roles_emulated"),
    ("pg_user", "pg_user_emulated"),
    ("pg_authid", "pg_authid_emulated"),
];

/// `(name, columns)` of every emulated `pg_catalog` table.
pub const TABLES: &[(&str, &str)] = &[
    (
        "pg_namespace",
        "oid BIGINT, nspname VARCHAR, nspowner BIGINT, nspacl VARCHAR[]",
    ),
    (
        "pg_class",
        "oid BIGINT, relname VARCHAR, relnamespace BIGINT, reltype BIGINT, reloftype BIGINT, relowner BIGINT, \
         relam BIGINT, relfilenode BIGINT, reltablespace BIGINT, relpages INTEGER, reltuples DOUBLE, \
         relallvisible INTEGER, reltoastrelid BIGINT, relhasindex BOOLEAN, relisshared BOOLEAN, \
         relpersistence VARCHAR, relkind VARCHAR, relnatts SMALLINT, relchecks SMALLINT, relhasrules BOOLEAN, \
         relhastriggers BOOLEAN, relhassubclass BOOLEAN, relrowsecurity BOOLEAN, relforcerowsecurity BOOLEAN, \
         relispopulated BOOLEAN, relreplident VARCHAR, relispartition BOOLEAN, relrewrite BIGINT, \
         relfrozenxid BIGINT, relminmxid BIGINT, relacl VARCHAR[], reloptions VARCHAR[], relpartbound VARCHAR, \
         relhasoids BOOLEAN",
    ),
    (
        "pg_attribute",
        "attrelid BIGINT, attname VARCHAR, atttypid BIGINT, attstattarget INTEGER, attlen SMALLINT, attnum SMALLINT, \
         attndims INTEGER, attcacheoff INTEGER, atttypmod INTEGER, attbyval BOOLEAN, attalign VARCHAR, \
         attstorage VARCHAR, attcompression VARCHAR, attnotnull BOOLEAN, atthasdef BOOLEAN, atthasmissing BOOLEAN, \
         attidentity VARCHAR, attgenerated VARCHAR, attisdropped BOOLEAN, attislocal BOOLEAN, attinhcount INTEGER, \
         attcollation BIGINT, attacl VARCHAR[], attoptions VARCHAR[], attfdwoptions VARCHAR[], attmissingval VARCHAR",
    ),
    (
        "pg_type",
        "oid BIGINT, typname VARCHAR, typnamespace BIGINT, typowner BIGINT, typlen SMALLINT, typbyval BOOLEAN, \
         typtype VARCHAR, typcategory VARCHAR, typispreferred BOOLEAN, typisdefined BOOLEAN, typdelim VARCHAR, \
         typrelid BIGINT, typsubscript VARCHAR, typelem BIGINT, typarray BIGINT, typinput VARCHAR, \
         typoutput VARCHAR, typreceive VARCHAR, typsend VARCHAR, typmodin VARCHAR, typmodout VARCHAR, \
         typanalyze VARCHAR, typalign VARCHAR, typstorage VARCHAR, typnotnull BOOLEAN, typbasetype BIGINT, \
         typtypmod INTEGER, typndims INTEGER, typcollation BIGINT, typdefaultbin VARCHAR, typdefault VARCHAR, \
         typacl VARCHAR[]",
    ),
    (
        "pg_database",
        "oid BIGINT, datname VARCHAR, datdba BIGINT, encoding INTEGER, datlocprovider VARCHAR, \
         datistemplate BOOLEAN, datallowconn BOOLEAN, datconnlimit INTEGER, datfrozenxid BIGINT, \
         datminmxid BIGINT, dattablespace BIGINT, datcollate VARCHAR, datctype VARCHAR, daticulocale VARCHAR, \
         daticurules VARCHAR, datcollversion VARCHAR, datacl VARCHAR[]",
    ),
    (
        "pg_description",
        "objoid BIGINT, classoid BIGINT, objsubid INTEGER, description VARCHAR",
    ),
    (
        "pg_shdescription",
        "objoid BIGINT, classoid BIGINT, description VARCHAR",
    ),
    (
        "pg_index",
        "indexrelid BIGINT, indrelid BIGINT, indnatts SMALLINT, indnkeyatts SMALLINT, indisunique BOOLEAN, \
         indnullsnotdistinct BOOLEAN, indisprimary BOOLEAN, indisexclusion BOOLEAN, indimmediate BOOLEAN, \
         indisclustered BOOLEAN, indisvalid BOOLEAN, indcheckxmin BOOLEAN, indisready BOOLEAN, indislive BOOLEAN, \
         indisreplident BOOLEAN, indkey SMALLINT[], indcollation BIGINT[], indclass BIGINT[], indoption SMALLINT[], \
         indexprs VARCHAR, indpred VARCHAR",
    ),
    (
        "pg_constraint",
        "oid BIGINT, conname VARCHAR, connamespace BIGINT, contype VARCHAR, condeferrable BOOLEAN, \
         condeferred BOOLEAN, convalidated BOOLEAN, conrelid BIGINT, contypid BIGINT, conindid BIGINT, \
         conparentid BIGINT, confrelid BIGINT, confupdtype VARCHAR, confdeltype VARCHAR, confmatchtype VARCHAR, \
         conislocal BOOLEAN, coninhcount INTEGER, connoinherit BOOLEAN, conkey SMALLINT[], confkey SMALLINT[], \
         conpfeqop BIGINT[], conppeqop BIGINT[], conffeqop BIGINT[], confdelsetcols SMALLINT[], \
         conexclop BIGINT[], conbin VARCHAR",
    ),
    (
        "pg_attrdef",
        "oid BIGINT, adrelid BIGINT, adnum SMALLINT, adbin VARCHAR",
    ),
    (
        "pg_inherits",
        "inhrelid BIGINT, inhparent BIGINT, inhseqno INTEGER, inhdetachpending BOOLEAN",
    ),
    ("pg_am", "oid BIGINT, amname VARCHAR, amhandler VARCHAR, amtype VARCHAR"),
    (
        "pg_tablespace",
        "oid BIGINT, spcname VARCHAR, spcowner BIGINT, spcacl VARCHAR[], spcoptions VARCHAR[]",
    ),
    (
        "pg_collation",
        "oid BIGINT, collname VARCHAR, collnamespace BIGINT, collowner BIGINT, collprovider VARCHAR, \
         collisdeterministic BOOLEAN, collencoding INTEGER, collcollate VARCHAR, collctype VARCHAR, \
         colliculocale VARCHAR, collversion VARCHAR",
    ),
    (
        "pg_proc",
        "oid BIGINT, proname VARCHAR, pronamespace BIGINT, proowner BIGINT, prolang BIGINT, procost REAL, \
         prorows REAL, provariadic BIGINT, prosupport VARCHAR, prokind VARCHAR, prosecdef BOOLEAN, \
         proleakproof BOOLEAN, proisstrict BOOLEAN, proretset BOOLEAN, provolatile VARCHAR, proparallel VARCHAR, \
         pronargs SMALLINT, pronargdefaults SMALLINT, prorettype BIGINT, proargtypes BIGINT[], \
         proallargtypes BIGINT[], proargmodes VARCHAR[], proargnames VARCHAR[], proargdefaults VARCHAR, \
         protrftypes BIGINT[], prosrc VARCHAR, probin VARCHAR, prosqlbody VARCHAR, proconfig VARCHAR[], \
         proacl VARCHAR[]",
    ),
    (
        "pg_policy",
        "oid BIGINT, polname VARCHAR, polrelid BIGINT, polcmd VARCHAR, polpermissive BOOLEAN, polroles BIGINT[], \
         polqual VARCHAR, polwithcheck VARCHAR",
    ),
    (
        "pg_trigger",
        "oid BIGINT, tgrelid BIGINT, tgparentid BIGINT, tgname VARCHAR, tgfoid BIGINT, tgtype SMALLINT, \
         tgenabled VARCHAR, tgisinternal BOOLEAN, tgconstrrelid BIGINT, tgconstrindid BIGINT, \
         tgconstraint BIGINT, tgdeferrable BOOLEAN, tginitdeferred BOOLEAN, tgnargs SMALLINT, tgattr SMALLINT[], \
         tgargs BLOB, tgqual VARCHAR, tgoldtable VARCHAR, tgnewtable VARCHAR",
    ),
    (
        "pg_rewrite",
        "oid BIGINT, rulename VARCHAR, ev_class BIGINT, ev_type VARCHAR, ev_enabled VARCHAR, is_instead BOOLEAN, \
         ev_qual VARCHAR, ev_action VARCHAR",
    ),
    (
        "pg_statistic_ext",
        "oid BIGINT, stxrelid BIGINT, stxname VARCHAR, stxnamespace BIGINT, stxowner BIGINT, \
         stxstattarget INTEGER, stxkeys SMALLINT[], stxkind VARCHAR[], stxexprs VARCHAR",
    ),
    (
        "pg_publication",
        "oid BIGINT, pubname VARCHAR, pubowner BIGINT, puballtables BOOLEAN, pubinsert BOOLEAN, \
         pubupdate BOOLEAN, pubdelete BOOLEAN, pubtruncate BOOLEAN, pubviaroot BOOLEAN",
    ),
    (
        "pg_publication_rel",
        "oid BIGINT, prpubid BIGINT, prrelid BIGINT, prqual VARCHAR, prattrs SMALLINT[]",
    ),
    ("pg_publication_namespace", "oid BIGINT, pnpubid BIGINT, pnnspid BIGINT"),
    (
        "pg_partitioned_table",
        "partrelid BIGINT, partstrat VARCHAR, partnatts SMALLINT, partdefid BIGINT, partattrs SMALLINT[], \
         partclass BIGINT[], partcollation BIGINT[], partexprs VARCHAR",
    ),
    (
        "pg_foreign_table",
        "ftrelid BIGINT, ftserver BIGINT, ftoptions VARCHAR[]",
    ),
    (
        "pg_foreign_server",
        "oid BIGINT, srvname VARCHAR, srvowner BIGINT, srvfdw BIGINT, srvtype VARCHAR, srvversion VARCHAR, srvacl VARCHAR[], srvoptions VARCHAR[]",
    ),
    (
        "pg_foreign_data_wrapper",
        "oid BIGINT, fdwname VARCHAR, fdwowner BIGINT, fdwhandler BIGINT, fdwvalidator BIGINT, fdwacl VARCHAR[], fdwoptions VARCHAR[]",
    ),
    (
        "pg_extension",
        "oid BIGINT, extname VARCHAR, extowner BIGINT, extnamespace BIGINT, extrelocatable BOOLEAN, \
         extversion VARCHAR, extconfig BIGINT[], extcondition VARCHAR[]",
    ),
    (
        "pg_language",
        "oid BIGINT, lanname VARCHAR, lanowner BIGINT, lanispl BOOLEAN, lanpltrusted BOOLEAN, lanplcallfoid BIGINT, laninline BIGINT, lanvalidator BIGINT, lanacl VARCHAR[]",
    ),
    (
        "pg_enum",
        "oid BIGINT, enumtypid BIGINT, enumsortorder REAL, enumlabel VARCHAR",
    ),
    (
        "pg_range",
        "rngtypid BIGINT, rngsubtype BIGINT, rngmultitypid BIGINT, rngcollation BIGINT, rngsubopc BIGINT, rngcanonical VARCHAR, rngsubdiff VARCHAR",
    ),
    (
        "pg_depend",
        "classid BIGINT, objid BIGINT, objsubid INTEGER, refclassid BIGINT, refobjid BIGINT, refobjsubid INTEGER, deptype VARCHAR",
    ),
    (
        "pg_sequence",
        "seqrelid BIGINT, seqtypid BIGINT, seqstart BIGINT, seqincrement BIGINT, seqmax BIGINT, seqmin BIGINT, seqcache BIGINT, seqcycle BOOLEAN",
    ),
    (
        "pg_event_trigger",
        "oid BIGINT, evtname VARCHAR, evtevent VARCHAR, evtowner BIGINT, evtfoid BIGINT, evtenabled VARCHAR, evttags VARCHAR[]",
    ),
    (
        "pg_auth_members",
        "oid BIGINT, roleid BIGINT, member BIGINT, grantor BIGINT, admin_option BOOLEAN",
    ),
    (
        "pg_opclass",
        "oid BIGINT, opcmethod BIGINT, opcname VARCHAR, opcnamespace BIGINT, opcowner BIGINT, opcfamily BIGINT, opcintype BIGINT, opcdefault BOOLEAN, opckeytype BIGINT",
    ),
    (
        "pg_operator",
        "oid BIGINT, oprname VARCHAR, oprnamespace BIGINT, oprowner BIGINT, oprkind VARCHAR, oprleft BIGINT, oprright BIGINT, oprresult BIGINT",
    ),
    (
        "pg_cast",
        "oid BIGINT, castsource BIGINT, casttarget BIGINT, castfunc BIGINT, castcontext VARCHAR, castmethod VARCHAR",
    ),
    (
        "pg_aggregate",
        "aggfnoid BIGINT, aggkind VARCHAR, aggnumdirectargs SMALLINT, aggtransfn VARCHAR, aggfinalfn VARCHAR",
    ),
    (
        "pg_conversion",
        "oid BIGINT, conname VARCHAR, connamespace BIGINT, conowner BIGINT, conforencoding INTEGER, contoencoding INTEGER, conproc VARCHAR, condefault BOOLEAN",
    ),
    (
        "pg_tables",
        "schemaname VARCHAR, tablename VARCHAR, tableowner VARCHAR, tablespace VARCHAR, hasindexes BOOLEAN, \
         hasrules BOOLEAN, hastriggers BOOLEAN, rowsecurity BOOLEAN",
    ),
    (
        "pg_views",
        "schemaname VARCHAR, viewname VARCHAR, viewowner VARCHAR, definition VARCHAR",
    ),
    (
        "pg_matviews",
        "schemaname VARCHAR, matviewname VARCHAR, matviewowner VARCHAR, tablespace VARCHAR, hasindexes BOOLEAN, ispopulated BOOLEAN, definition VARCHAR",
    ),
    (
        "pg_indexes",
        "schemaname VARCHAR, tablename VARCHAR, indexname VARCHAR, tablespace VARCHAR, indexdef VARCHAR",
    ),
    (
        "pg_sequences",
        "schemaname VARCHAR, sequencename VARCHAR, sequenceowner VARCHAR, data_type VARCHAR, start_value BIGINT, min_value BIGINT, max_value BIGINT, increment_by BIGINT, cycle BOOLEAN, cache_size BIGINT, last_value BIGINT",
    ),
    (
        "pg_settings_emulated",
        "name VARCHAR, setting VARCHAR, unit VARCHAR, category VARCHAR, short_desc VARCHAR, extra_desc VARCHAR, \
         context VARCHAR, vartype VARCHAR, source VARCHAR, min_val VARCHAR, max_val VARCHAR, enumvals VARCHAR[], \
         boot_val VARCHAR, reset_val VARCHAR, sourcefile VARCHAR, sourceline INTEGER, pending_restart BOOLEAN",
    ),
    (
        "pg_roles_emulated",
        "oid BIGINT, rolname VARCHAR, rolsuper BOOLEAN, rolinherit BOOLEAN, rolcreaterole BOOLEAN, \
         rolcreatedb BOOLEAN, rolcanlogin BOOLEAN, rolreplication BOOLEAN, rolconnlimit INTEGER, \
         rolpassword VARCHAR, rolvaliduntil TIMESTAMPTZ, rolbypassrls BOOLEAN, rolconfig VARCHAR[]",
    ),
    (
        "pg_user_emulated",
        "usename VARCHAR, usesysid BIGINT, usecreatedb BOOLEAN, usesuper BOOLEAN, userepl BOOLEAN, \
         usebypassrls BOOLEAN, passwd VARCHAR, valuntil TIMESTAMPTZ, useconfig VARCHAR[]",
    ),
    (
        "pg_authid_emulated",
        "oid BIGINT, rolname VARCHAR, rolsuper BOOLEAN, rolinherit BOOLEAN, rolcreaterole BOOLEAN, \
         rolcreatedb BOOLEAN, rolcanlogin BOOLEAN, rolreplication BOOLEAN, rolbypassrls BOOLEAN, \
         rolconnlimit INTEGER, rolpassword VARCHAR, rolvaliduntil TIMESTAMPTZ",
    ),
    (
        "pg_stat_user_tables",
        "relid BIGINT, schemaname VARCHAR, relname VARCHAR, seq_scan BIGINT, n_live_tup BIGINT, n_dead_tup BIGINT",
    ),
];

/// `(name, columns)` of the emulated `information_schema` views, stored as `pgc.information_schema_<name>`.
pub const INFORMATION_SCHEMA: &[(&str, &str)] = &[
    (
        "schemata",
        "catalog_name VARCHAR, schema_name VARCHAR, schema_owner VARCHAR, default_character_set_catalog VARCHAR, \
         default_character_set_schema VARCHAR, default_character_set_name VARCHAR, sql_path VARCHAR",
    ),
    (
        "tables",
        "table_catalog VARCHAR, table_schema VARCHAR, table_name VARCHAR, table_type VARCHAR, \
         self_referencing_column_name VARCHAR, reference_generation VARCHAR, user_defined_type_catalog VARCHAR, \
         user_defined_type_schema VARCHAR, user_defined_type_name VARCHAR, is_insertable_into VARCHAR, \
         is_typed VARCHAR, commit_action VARCHAR",
    ),
    (
        "columns",
        "table_catalog VARCHAR, table_schema VARCHAR, table_name VARCHAR, column_name VARCHAR, \
         ordinal_position INTEGER, column_default VARCHAR, is_nullable VARCHAR, data_type VARCHAR, \
         character_maximum_length INTEGER, character_octet_length INTEGER, numeric_precision INTEGER, \
         numeric_precision_radix INTEGER, numeric_scale INTEGER, datetime_precision INTEGER, \
         interval_type VARCHAR, interval_precision INTEGER, character_set_catalog VARCHAR, \
         character_set_schema VARCHAR, character_set_name VARCHAR, collation_catalog VARCHAR, \
         collation_schema VARCHAR, collation_name VARCHAR, domain_catalog VARCHAR, domain_schema VARCHAR, \
         domain_name VARCHAR, udt_catalog VARCHAR, udt_schema VARCHAR, udt_name VARCHAR, scope_catalog VARCHAR, \
         scope_schema VARCHAR, scope_name VARCHAR, maximum_cardinality INTEGER, dtd_identifier VARCHAR, \
         is_self_referencing VARCHAR, is_identity VARCHAR, identity_generation VARCHAR, identity_start VARCHAR, \
         identity_increment VARCHAR, identity_maximum VARCHAR, identity_minimum VARCHAR, identity_cycle VARCHAR, \
         is_generated VARCHAR, generation_expression VARCHAR, is_updatable VARCHAR",
    ),
    (
        "views",
        "table_catalog VARCHAR, table_schema VARCHAR, table_name VARCHAR, view_definition VARCHAR, \
         check_option VARCHAR, is_updatable VARCHAR, is_insertable_into VARCHAR, is_trigger_updatable VARCHAR, \
         is_trigger_deletable VARCHAR, is_trigger_insertable_into VARCHAR",
    ),
    (
        "table_constraints",
        "constraint_catalog VARCHAR, constraint_schema VARCHAR, constraint_name VARCHAR, table_catalog VARCHAR, \
         table_schema VARCHAR, table_name VARCHAR, constraint_type VARCHAR, is_deferrable VARCHAR, \
         initially_deferred VARCHAR, enforced VARCHAR, nulls_distinct VARCHAR",
    ),
    (
        "key_column_usage",
        "constraint_catalog VARCHAR, constraint_schema VARCHAR, constraint_name VARCHAR, table_catalog VARCHAR, \
         table_schema VARCHAR, table_name VARCHAR, column_name VARCHAR, ordinal_position INTEGER, \
         position_in_unique_constraint INTEGER",
    ),
    (
        "referential_constraints",
        "constraint_catalog VARCHAR, constraint_schema VARCHAR, constraint_name VARCHAR, \
         unique_constraint_catalog VARCHAR, unique_constraint_schema VARCHAR, unique_constraint_name VARCHAR, \
         match_option VARCHAR, update_rule VARCHAR, delete_rule VARCHAR",
    ),
    (
        "routines",
        "specific_catalog VARCHAR, specific_schema VARCHAR, specific_name VARCHAR, routine_catalog VARCHAR, \
         routine_schema VARCHAR, routine_name VARCHAR, routine_type VARCHAR, data_type VARCHAR",
    ),
    (
        "table_privileges",
        "grantor VARCHAR, grantee VARCHAR, table_catalog VARCHAR, table_schema VARCHAR, table_name VARCHAR, \
         privilege_type VARCHAR, is_grantable VARCHAR, with_hierarchy VARCHAR",
    ),
];

/// The built-in types clients ask about: (oid, name, typlen, category, array oid, element oid).
pub const TYPES: &[(i64, &str, i16, &str, i64, i64)] = &[
    (16, "bool", 1, "B", 1000, 0),
    (17, "bytea", -1, "U", 1001, 0),
    (18, "char", 1, "Z", 1002, 0),
    (19, "name", 64, "S", 1003, 0),
    (20, "int8", 8, "N", 1016, 0),
    (21, "int2", 2, "N", 1005, 0),
    (23, "int4", 4, "N", 1007, 0),
    (25, "text", -1, "S", 1009, 0),
    (26, "oid", 4, "N", 1028, 0),
    (114, "json", -1, "U", 199, 0),
    (700, "float4", 4, "N", 1021, 0),
    (701, "float8", 8, "N", 1022, 0),
    (705, "unknown", -2, "X", 0, 0),
    (1042, "bpchar", -1, "S", 1014, 0),
    (1043, "varchar", -1, "S", 1015, 0),
    (1082, "date", 4, "D", 1182, 0),
    (1083, "time", 8, "D", 1183, 0),
    (1114, "timestamp", 8, "D", 1115, 0),
    (1184, "timestamptz", 8, "D", 1185, 0),
    (1186, "interval", 16, "T", 1187, 0),
    (1700, "numeric", -1, "N", 1231, 0),
    (2950, "uuid", 16, "U", 2951, 0),
    (3802, "jsonb", -1, "U", 3807, 0),
    (1000, "_bool", -1, "A", 0, 16),
    (1001, "_bytea", -1, "A", 0, 17),
    (1005, "_int2", -1, "A", 0, 21),
    (1007, "_int4", -1, "A", 0, 23),
    (1009, "_text", -1, "A", 0, 25),
    (1015, "_varchar", -1, "A", 0, 1043),
    (1016, "_int8", -1, "A", 0, 20),
    (1021, "_float4", -1, "A", 0, 700),
    (1022, "_float8", -1, "A", 0, 701),
    (1028, "_oid", -1, "A", 0, 26),
    (1182, "_date", -1, "A", 0, 1082),
    (1115, "_timestamp", -1, "A", 0, 1114),
    (1185, "_timestamptz", -1, "A", 0, 1184),
    (1231, "_numeric", -1, "A", 0, 1700),
    (2951, "_uuid", -1, "A", 0, 2950),
    (199, "_json", -1, "A", 0, 114),
];

/// The SQL name `format_type` gives each type.
pub const TYPE_NAMES: &[(i64, &str)] = &[
    (16, "boolean"),
    (17, "bytea"),
    (18, "\"char\""),
    (19, "name"),
    (20, "bigint"),
    (21, "smallint"),
    (23, "integer"),
    (25, "text"),
    (26, "oid"),
    (114, "json"),
    (700, "real"),
    (701, "double precision"),
    (705, "unknown"),
    (1042, "character"),
    (1043, "character varying"),
    (1082, "date"),
    (1083, "time without time zone"),
    (1114, "timestamp without time zone"),
    (1184, "timestamp with time zone"),
    (1186, "interval"),
    (1700, "numeric"),
    (2950, "uuid"),
    (3802, "jsonb"),
    (1000, "boolean[]"),
    (1005, "smallint[]"),
    (1007, "integer[]"),
    (1009, "text[]"),
    (1016, "bigint[]"),
    (1022, "double precision[]"),
];

/// Functions clients call, as macros in `pgc` (calls to them are rewritten to `pgc.name`). `{role}` is the role's
/// name as a SQL string.
pub const FUNCTIONS: &[(&str, &str)] = &[
    (
        "reads",
        "(p) AS regexp_matches(lower(p), '(^|,)\\s*(select|usage|connect|execute|references)\\b')",
    ),
    ("pg_get_userbyid", "(role_oid) AS {role}"),
    ("pg_table_is_visible", "(rel) AS TRUE"),
    ("pg_type_is_visible", "(t) AS TRUE"),
    ("pg_function_is_visible", "(f) AS TRUE"),
    (
        "pg_get_expr",
        "(expr, rel) AS NULL::VARCHAR, (expr, rel, pretty) AS NULL::VARCHAR",
    ),
    (
        "pg_get_constraintdef",
        "(c) AS NULL::VARCHAR, (c, pretty) AS NULL::VARCHAR",
    ),
    (
        "pg_get_indexdef",
        "(i) AS NULL::VARCHAR, (i, col, pretty) AS NULL::VARCHAR",
    ),
    ("pg_get_viewdef", "(v) AS NULL::VARCHAR, (v, pretty) AS NULL::VARCHAR"),
    (
        "pg_get_triggerdef",
        "(t) AS NULL::VARCHAR, (t, pretty) AS NULL::VARCHAR",
    ),
    ("pg_get_partkeydef", "(r) AS NULL::VARCHAR"),
    ("pg_get_serial_sequence", "(t, c) AS NULL::VARCHAR"),
    ("pg_get_statisticsobjdef_columns", "(s) AS NULL::VARCHAR"),
    ("pg_get_function_arguments", "(f) AS NULL::VARCHAR"),
    ("pg_get_function_result", "(f) AS NULL::VARCHAR"),
    ("pg_get_function_identity_arguments", "(f) AS NULL::VARCHAR"),
    ("pg_relation_is_publishable", "(r) AS FALSE"),
    ("_pg_expandarray", "(a) AS {'x': NULL::INTEGER, 'n': NULL::INTEGER}"),
    ("pg_partition_ancestors", "(r) AS r"),
    ("pg_partition_root", "(r) AS r"),
    ("pg_get_partition_constraintdef", "(r) AS NULL::VARCHAR"),
    ("pg_get_ruledef", "(r) AS NULL::VARCHAR, (r, pretty) AS NULL::VARCHAR"),
    ("pg_get_statisticsobjdef", "(s) AS NULL::VARCHAR"),
    ("pg_encoding_to_char", "(e) AS 'UTF8'"),
    ("pg_tablespace_location", "(t) AS ''"),
    ("pg_is_in_recovery", "() AS FALSE"),
    ("pg_total_relation_size", "(r) AS 0::BIGINT"),
    ("pg_relation_size", "(r) AS 0::BIGINT, (r, fork) AS 0::BIGINT"),
    ("pg_table_size", "(r) AS 0::BIGINT"),
    ("pg_indexes_size", "(r) AS 0::BIGINT"),
    ("pg_database_size", "(d) AS 0::BIGINT"),
    ("pg_postmaster_start_time", "() AS now()"),
    ("pg_conf_load_time", "() AS now()"),
    ("txid_current", "() AS 1::BIGINT"),
    // A role may read (select, use, connect to) what its catalog lists, and change nothing: true when any of the
    // privileges asked is a reading one.
    (
        "has_table_privilege",
        "(t, p) AS pgc.reads(p), (u, t, p) AS pgc.reads(p)",
    ),
    (
        "has_schema_privilege",
        "(s, p) AS pgc.reads(p), (u, s, p) AS pgc.reads(p)",
    ),
    (
        "has_database_privilege",
        "(d, p) AS pgc.reads(p), (u, d, p) AS pgc.reads(p)",
    ),
    (
        "has_column_privilege",
        "(t, c, p) AS pgc.reads(p), (u, t, c, p) AS pgc.reads(p)",
    ),
    (
        "has_any_column_privilege",
        "(t, p) AS pgc.reads(p), (u, t, p) AS pgc.reads(p)",
    ),
    (
        "has_function_privilege",
        "(f, p) AS pgc.reads(p), (u, f, p) AS pgc.reads(p)",
    ),
    (
        "has_sequence_privilege",
        "(s, p) AS pgc.reads(p), (u, s, p) AS pgc.reads(p)",
    ),
    ("pg_has_role", "(r, p) AS TRUE, (u, r, p) AS TRUE"),
    (
        "obj_description",
        "(o) AS (SELECT max(description) FROM pgc.pg_description d WHERE d.objoid = o AND d.objsubid = 0), \
         (o, c) AS (SELECT max(description) FROM pgc.pg_description d WHERE d.objoid = o AND d.objsubid = 0)",
    ),
    (
        "col_description",
        "(o, n) AS (SELECT max(description) FROM pgc.pg_description d WHERE d.objoid = o AND d.objsubid = n)",
    ),
    ("shobj_description", "(o, c) AS NULL::VARCHAR"),
    (
        "array_upper",
        "(a, d) AS CASE WHEN len(a) = 0 THEN NULL ELSE len(a) END",
    ),
    ("array_lower", "(a, d) AS CASE WHEN len(a) = 0 THEN NULL ELSE 1 END"),
    (
        "quote_ident",
        "(s) AS CASE WHEN regexp_full_match(s, '[a-z_][a-z0-9_$]*') THEN s ELSE '\"' || replace(s, '\"', '\"\"') || '\"' END",
    ),
];

/// `format_type(oid, typmod)` from `TYPE_NAMES`, with `numeric(p,s)` and `character varying(n)`.
pub fn format_type_macro() -> String {
    let cases: String = TYPE_NAMES
        .iter()
        .map(|(oid, name)| format!(" WHEN {oid} THEN '{}'", name.replace('\'', "''")))
        .collect();
    format!(
        "CREATE MACRO {SCHEMA}.format_type(t, m) AS CASE \
         WHEN t = 1700 AND m > 4 THEN 'numeric(' || ((m - 4) >> 16) || ',' || ((m - 4) & 65535) || ')' \
         WHEN t = 1043 AND m > 4 THEN 'character varying(' || (m - 4) || ')' \
         ELSE (CASE t{cases} ELSE '???' END) END"
    )
}
