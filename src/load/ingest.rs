//! Loads a contract's data files into the staging DuckDB with the contract's declared types.
//! A cell that does not convert becomes NULL and is reported (file row, column, value) instead of aborting the load.

use crate::base::diagnostics::{Diagnostic, Severity};
use crate::base::errors::clean_error;
use crate::base::sql::{literal_list, quote_ident, quote_literal};
use crate::base::yaml::{Problem, path_of};
use crate::model::catalog::{LoadedColumn, Sample};
use crate::model::manifest::odcs::{Column, Contract, Server, Table};
use crate::model::types::{Family, declared_type, family};
use duckdb::{Config, Connection};
use globset::GlobBuilder;
use std::path::{Component, Path, PathBuf};

/// Resources for a DuckDB instance: never let DuckDB pick a temp folder (its default is `.tmp` in the working
/// directory, which may be the user's mesh folder).
#[derive(Debug, Clone)]
pub struct EngineSettings {
    pub threads: Option<usize>,
    pub memory_limit: Option<String>,
    pub temp_dir: PathBuf,
}

impl EngineSettings {
    /// DuckDB configuration shared by every instance meshbox opens.
    pub fn config(&self) -> anyhow::Result<Config> {
        std::fs::create_dir_all(&self.temp_dir).ok();
        let mut config = Config::default()
            .enable_autoload_extension(false)?
            .with("autoinstall_known_extensions", "false")?
            .with("allow_community_extensions", "false")?
            .with("temp_directory", self.temp_dir.to_string_lossy())?;
        if let Some(t) = self.threads {
            config = config.threads(t as i64)?;
        }
        if let Some(m) = &self.memory_limit {
            config = config.max_memory(m)?;
        }
        Ok(config)
    }
}

/// The DuckDB instance data files are read into. It can read files until [`Staging::forbid_files`] is called,
/// which happens before any SQL written in a contract runs.
pub struct Staging {
    pub conn: Connection,
}

impl Staging {
    pub fn open(engine: &EngineSettings) -> anyhow::Result<Staging> {
        let conn = Connection::open_in_memory_with_flags(engine.config()?)?;
        Ok(Staging { conn })
    }

    /// One-way switch: from now on no SQL on this instance can read or write files.
    pub fn forbid_files(&self) -> anyhow::Result<()> {
        self.conn.execute_batch("SET enable_external_access = false")?;
        Ok(())
    }
}

/// The file formats meshbox reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Parquet,
    Json,
    /// A derived table: the result of a `*.sql` transform over other products.
    Sql,
}

impl Format {
    pub fn name(&self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Parquet => "parquet",
            Format::Json => "json",
            Format::Sql => "sql",
        }
    }

    fn from_name(name: &str) -> Result<Format, String> {
        match name.trim().to_ascii_lowercase().as_str() {
            "csv" | "tsv" | "txt" => Ok(Format::Csv),
            "parquet" | "pq" => Ok(Format::Parquet),
            "json" | "jsonl" | "ndjson" | "json_lines" => Ok(Format::Json),
            other => Err(format!(
                "the `{other}` format is not supported (meshbox reads csv, parquet and json)"
            )),
        }
    }

    /// The format a file name implies (`orders.csv.gz` → csv).
    fn from_file(path: &Path) -> Option<Format> {
        let name = path.file_name()?.to_str()?.to_ascii_lowercase();
        let name = name.strip_suffix(".gz").or(name.strip_suffix(".zst")).unwrap_or(&name);
        let ext = name.rsplit('.').next()?;
        Format::from_name(ext).ok()
    }
}

/// Where a table's data comes from.
#[derive(Debug, Clone)]
pub struct Source {
    pub format: Format,
    pub files: Vec<PathBuf>,
    pub delimiter: Option<String>,
    /// For `Format::Sql`: the SELECT that produces the table.
    pub sql: Option<String>,
}

/// A value that did not convert to the declared type.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BadCell {
    /// 1-based data row (the header is not counted).
    pub row: u64,
    pub value: String,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct CastFailure {
    pub column: String,
    pub to_type: String,
    pub count: u64,
    pub samples: Vec<BadCell>,
}

/// A line of a file that could not be read at all (too many columns, unterminated quote, bad encoding).
#[derive(Debug, Clone, serde::Serialize)]
pub struct MalformedLine {
    /// The file's name, when the table reads several files.
    pub file: Option<String>,
    pub line: u64,
    pub error: String,
}

/// What loading one table found.
#[derive(Debug, Clone)]
pub struct TableLoad {
    pub contract: usize,
    pub object: usize,
    /// The staging schema and table, e.g. `s3`, `orders`.
    pub schema: String,
    pub table: String,
    pub format: Format,
    pub files: Vec<PathBuf>,
    pub row_count: u64,
    pub columns: Vec<LoadedColumn>,
    /// Declared columns absent from the data (loaded as all-NULL columns).
    pub missing: Vec<String>,
    /// Columns in the data the contract does not declare (loaded as they are).
    pub extra: Vec<String>,
    pub cast_failures: Vec<CastFailure>,
    pub malformed: Vec<MalformedLine>,
    pub malformed_count: u64,
    /// Declared columns stored with another type in the file (e.g. Parquet INT32 for a BIGINT), all values converted.
    pub type_notes: Vec<String>,
    pub sample: Sample,
    /// Column profiles, when the caller asked for them (serving; not `meshbox test`).
    pub profiles: Vec<crate::load::column_profiles::ColumnProfile>,
    /// Columns whose values look personal (when the caller asked for the PII scan).
    pub pii: Vec<crate::load::pii::PiiFinding>,
    /// For a derived table: the input tables its SQL reads, as (domain, table).
    pub reads: Vec<(String, String)>,
}

impl TableLoad {
    /// `"s3"."orders"`.
    pub fn qualified(&self) -> String {
        format!("{}.{}", quote_ident(&self.schema), quote_ident(&self.table))
    }
}

/// How data paths are resolved.
#[derive(Debug, Clone)]
pub struct PathPolicy {
    /// The mesh root (canonical). Files outside it are refused unless `allow_outside`.
    pub root: PathBuf,
    pub allow_outside: bool,
    /// Where a relative server path is tried when nothing exists at it next to the contract (`meshbox test`: the
    /// working directory); a note says so.
    pub fallback: Option<PathBuf>,
}

/// Result of loading all tables of one contract.
#[derive(Debug, Default)]
pub struct ContractLoad {
    pub tables: Vec<TableLoad>,
    pub diagnostics: Vec<Diagnostic>,
    /// Every data file read, for change detection.
    pub files: Vec<PathBuf>,
}

/// A diagnostic positioned at `field` of the contract file.
pub fn contract_diag(
    contract: &Contract,
    severity: Severity,
    code: &'static str,
    field: &str,
    message: String,
    hint: Option<String>,
) -> Diagnostic {
    contract.doc.diagnostic(Problem {
        severity,
        code,
        path: field.to_string(),
        message,
        hint,
    })
}

/// Picks the server to read: the one named `preferred`, else the first `local` one, else the first with a path.
pub fn choose_server<'c>(contract: &'c Contract, preferred: Option<&str>) -> Option<&'c Server> {
    if let Some(name) = preferred
        && let Some(s) = contract.servers.iter().find(|s| s.server.as_deref() == Some(name))
    {
        return Some(s);
    }
    contract
        .servers
        .iter()
        .find(|s| s.kind.as_deref().is_some_and(|k| k.eq_ignore_ascii_case("local")))
        .or_else(|| contract.servers.iter().find(|s| s.kind.is_none() && s.path.is_some()))
}

/// Loads every table of `contract` into `schema` of the staging instance.
pub fn load_contract(
    conn: &Connection,
    contract: &Contract,
    contract_idx: usize,
    schema: &str,
    server: Option<&Server>,
    policy: &PathPolicy,
    derived: &[usize],
) -> ContractLoad {
    let mut out = ContractLoad::default();
    let contract_dir = contract.doc.file.parent().map(Path::to_path_buf).unwrap_or_default();
    if let Some(s) = server
        && let Some(kind) = s.kind.as_deref()
        && !kind.eq_ignore_ascii_case("local")
    {
        out.diagnostics.push(contract_diag(
            contract,
            Severity::Warning,
            "unsupported-server",
            &path_of(&s.path_in_doc, "type"),
            format!("server type `{kind}` is not read by meshbox; the tables are listed without data"),
            Some("add a `type: local` server with `path` and `format` pointing at a file in the product folder".into()),
        ));
        return out;
    }
    for (object, table) in contract.tables.iter().enumerate() {
        // Built later from the product's SQL transform.
        if derived.contains(&object) {
            continue;
        }
        let source = match server {
            Some(s) => resolve_server_source(contract, s, table, &contract_dir, policy, &mut out.diagnostics),
            None => find_conventional_source(contract, table, &contract_dir, policy),
        };
        let source = match source {
            Ok(Some(src)) => src,
            Ok(None) => {
                out.diagnostics.push(contract_diag(
                    contract,
                    Severity::Warning,
                    "no-data",
                    &table.path,
                    format!(
                        "no data for table `{}`: the contract has no local server, and no file named {}.csv, .parquet or .json lies next to it",
                        table.name,
                        table.physical_name.as_deref().unwrap_or(&table.name)
                    ),
                    Some("add `servers: [{server: local, type: local, format: csv, path: data/orders.csv}]`".into()),
                ));
                continue;
            }
            Err(d) => {
                out.diagnostics.push(*d);
                continue;
            }
        };
        out.files.extend(source.files.iter().cloned());
        out.diagnostics.extend(empty_files(&source.files, table, &policy.root));
        match load_table(conn, schema, table, &source) {
            Ok(mut t) => {
                t.contract = contract_idx;
                t.object = object;
                out.tables.push(t);
            }
            Err(message) => {
                let file = source.files.first().cloned().unwrap_or_default();
                let what = format!(
                    "cannot load table `{}` (declared at {}:{})",
                    table.name,
                    relative(&contract.doc.file, &policy.root).display(),
                    contract.doc.position(&table.path).map(|p| p.0).unwrap_or(1)
                );
                // DuckDB's reader quotes the cell or line it stopped at.
                let public = format!("{what}: {}", crate::base::errors::public_error(&message));
                out.diagnostics.push(
                    Diagnostic::error("data-read", format!("{what}: {message}"))
                        .quoting_data(public)
                        .in_file(relative(&file, &policy.root))
                        .hint(read_hint(source.format, &message)),
                );
            }
        }
    }
    out
}

/// A warning for each 0-byte data file: it would otherwise serve no rows without a word.
fn empty_files(files: &[PathBuf], table: &Table, root: &Path) -> Vec<Diagnostic> {
    files
        .iter()
        .filter(|f| std::fs::metadata(f).is_ok_and(|m| m.len() == 0))
        .map(|f| {
            Diagnostic::warning(
                "empty-data",
                format!(
                    "the data file is empty (0 bytes): it adds no rows to table `{}`",
                    table.name
                ),
            )
            .in_file(relative(f, root))
            .hint("a file caught half-way through a copy is empty; write the data again")
        })
        .collect()
}

fn read_hint(format: Format, message: &str) -> String {
    let m = message.to_ascii_lowercase();
    if m.contains("magic bytes") || m.contains("not a parquet file") {
        "the Parquet file is truncated or not Parquet at all; export it again".into()
    } else if m.contains("malformed json") || m.contains("json") && format == Format::Json {
        "the JSON is not valid; check the byte position named above".into()
    } else if m.contains("unicode") || m.contains("utf-8") {
        "the file is not UTF-8; save it as UTF-8 or declare the encoding".into()
    } else {
        format!("check that the file is valid {}", format.name())
    }
}

fn relative(path: &Path, root: &Path) -> PathBuf {
    path.strip_prefix(root)
        .map(Path::to_path_buf)
        .unwrap_or_else(|_| path.to_path_buf())
}

/// The source a server entry describes for one table (with `{model}` in the path replaced by the table name).
fn resolve_server_source(
    contract: &Contract,
    server: &Server,
    table: &Table,
    contract_dir: &Path,
    policy: &PathPolicy,
    notes: &mut Vec<Diagnostic>,
) -> Result<Option<Source>, Box<Diagnostic>> {
    let field = |k: &str| path_of(&server.path_in_doc, k);
    let Some(raw_path) = server.path.as_deref() else {
        return Err(Box::new(contract_diag(
            contract,
            Severity::Error,
            "missing-field",
            &server.path_in_doc,
            "a local server needs a `path` to the data file(s)".into(),
            Some("e.g. `path: data/orders.csv` (relative to the contract file)".into()),
        )));
    };
    let resolved = crate::base::vars::resolve_env(raw_path).map_err(|e| {
        Box::new(contract_diag(
            contract,
            Severity::Error,
            "unresolved-variable",
            &field("path"),
            e,
            None,
        ))
    })?;
    let with_model = resolved
        .replace("{model}", &table.name)
        .replace("{table}", &table.name)
        .replace("{object}", &table.name);
    let format = match server.format.as_deref() {
        Some(f) => Some(Format::from_name(f).map_err(|e| {
            Box::new(contract_diag(
                contract,
                Severity::Error,
                "unsupported-format",
                &field("format"),
                e,
                Some("convert the data to csv, parquet or json".into()),
            ))
        })?),
        None => None,
    };
    let files = expand_with_fallback(&with_model, contract_dir, format, policy).map(|(files, used)| {
        if let Some(dir) = used {
            notes.push(contract_diag(
                contract,
                Severity::Info,
                "path-from-working-directory",
                &field("path"),
                format!(
                    "`{with_model}` does not exist next to the contract; read relative to the working directory {} instead",
                    dir.display()
                ),
                Some("write the path relative to the contract file to make the contract work from anywhere".into()),
            ));
        }
        files
    });
    let files = files.map_err(|e| {
        Box::new(contract_diag(
            contract,
            Severity::Error,
            "data-path",
            &field("path"),
            e,
            None,
        ))
    })?;
    let format = match format.or_else(|| files.first().and_then(|f| Format::from_file(f))) {
        Some(f) => f,
        None => {
            return Err(Box::new(contract_diag(
                contract,
                Severity::Error,
                "unknown-format",
                &server.path_in_doc,
                "cannot tell the data format from the file name".into(),
                Some("add `format: csv` (or parquet, json) to the server".into()),
            )));
        }
    };
    let delimiter = server
        .delimiter
        .clone()
        .filter(|d| format == Format::Csv && !matches!(d.as_str(), "new_line" | "array"));
    Ok(Some(Source {
        sql: None,
        format,
        files,
        delimiter,
    }))
}

/// Without a local server: a file named after the table next to the contract (or in `data/`).
fn find_conventional_source(
    _contract: &Contract,
    table: &Table,
    contract_dir: &Path,
    policy: &PathPolicy,
) -> Result<Option<Source>, Box<Diagnostic>> {
    let names: Vec<&str> = [Some(table.name.as_str()), table.physical_name.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    for dir in [contract_dir.to_path_buf(), contract_dir.join("data")] {
        for name in &names {
            for ext in ["csv", "parquet", "json", "jsonl", "ndjson", "csv.gz"] {
                let p = dir.join(format!("{name}.{ext}"));
                if p.is_file()
                    && let Ok(files) = check_inside(vec![p], policy)
                {
                    let format = Format::from_file(&files[0]).unwrap_or(Format::Csv);
                    return Ok(Some(Source {
                        sql: None,
                        format,
                        files,
                        delimiter: None,
                    }));
                }
            }
        }
    }
    Ok(None)
}

fn has_glob(s: &str) -> bool {
    s.contains(['*', '?', '[', '{'])
}

/// Removes `.` and resolves `..` lexically (before the file exists, so canonicalize cannot be used).
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// `expand_files` relative to `base`; when that finds nothing and the policy has a fallback folder, relative to it
/// (returned with the files). The first error is the one reported.
fn expand_with_fallback(
    path: &str,
    base: &Path,
    format: Option<Format>,
    policy: &PathPolicy,
) -> Result<(Vec<PathBuf>, Option<PathBuf>), String> {
    let first = match expand_files(path, base, format, policy) {
        Ok(files) => return Ok((files, None)),
        Err(e) => e,
    };
    match &policy.fallback {
        Some(dir) if Path::new(path).is_relative() && dir != base => expand_files(path, dir, format, policy)
            .map(|files| (files, Some(dir.clone())))
            .map_err(|_| first),
        _ => Err(first),
    }
}

/// Expands a server path into files: a file, a folder (every file of the format inside it), or a glob.
pub fn expand_files(
    path: &str,
    base: &Path,
    format: Option<Format>,
    policy: &PathPolicy,
) -> Result<Vec<PathBuf>, String> {
    let p = Path::new(path);
    let full = normalize(&if p.is_absolute() { p.to_path_buf() } else { base.join(p) });
    let full_text = full.to_string_lossy().to_string();
    let mut files = Vec::new();
    if has_glob(&full_text) {
        // The folder part before the first wildcard is walked; the rest is matched as a glob.
        let cut = full_text.find(['*', '?', '[', '{']).unwrap_or(0);
        let dir_end = full_text[..cut].rfind('/').unwrap_or(0);
        let dir = PathBuf::from(&full_text[..dir_end.max(1)]);
        let glob = GlobBuilder::new(&full_text)
            .literal_separator(true)
            .build()
            .map_err(|e| format!("`{path}` is not a valid file pattern: {e}"))?
            .compile_matcher();
        collect_files(&dir, &mut |f| {
            if glob.is_match(f) {
                files.push(f.to_path_buf());
            }
        });
        if files.is_empty() {
            return Err(format!("no file matches `{path}`"));
        }
    } else if full.is_dir() {
        collect_files(&full, &mut |f| {
            let matches = match (format, Format::from_file(f)) {
                (Some(want), Some(got)) => want == got,
                (None, Some(_)) => true,
                _ => false,
            };
            if matches {
                files.push(f.to_path_buf());
            }
        });
        if files.is_empty() {
            return Err(format!(
                "the folder `{path}` holds no {} files",
                format.map(|f| f.name()).unwrap_or("data")
            ));
        }
    } else if full.is_file() {
        files.push(full.clone());
    } else {
        return Err(format!("file not found: `{path}` (looked at {})", full.display()));
    }
    files.sort();
    check_inside(files, policy)
}

fn collect_files(dir: &Path, f: &mut dyn FnMut(&Path)) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = rd.flatten().collect();
    entries.sort_by_key(|e| e.path());
    for e in entries {
        let name = e.file_name();
        if crate::folder::scan::is_ignored_name(&name.to_string_lossy()) {
            continue;
        }
        let Ok(ft) = e.file_type() else { continue };
        if ft.is_dir() {
            collect_files(&e.path(), f);
        } else if ft.is_file() {
            f(&e.path());
        }
    }
}

/// Refuses files outside the mesh root (after resolving symlinks), unless the policy allows it.
fn check_inside(files: Vec<PathBuf>, policy: &PathPolicy) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::with_capacity(files.len());
    for f in files {
        let canon = std::fs::canonicalize(&f).map_err(|e| format!("cannot open {}: {e}", f.display()))?;
        if !policy.allow_outside && !canon.starts_with(&policy.root) {
            return Err(format!(
                "`{}` lies outside the mesh folder; meshbox only reads files inside it",
                f.display()
            ));
        }
        out.push(canon);
    }
    Ok(out)
}

/// The SQL that reads a source; `csv_types` maps CSV header names to types (None: read every column as text).
fn reader_sql(source: &Source, csv_types: Option<&[(String, String)]>, rejects: Option<&str>) -> String {
    let files: Vec<String> = source.files.iter().map(|f| f.to_string_lossy().into_owned()).collect();
    let many = source.files.len() > 1;
    match source.format {
        // DuckDB cannot keep rejected lines while matching columns by name across files: read each file on its own
        // (they share the rejects tables) and stack them by name, so columns added or reordered over time line up.
        Format::Csv if many && rejects.is_some() => {
            let each: Vec<String> = files
                .iter()
                .map(|f| {
                    format!(
                        "SELECT * FROM {}",
                        csv_reader(
                            &literal_list(std::slice::from_ref(f)),
                            source,
                            false,
                            csv_types,
                            rejects
                        )
                    )
                })
                .collect();
            format!("({}) AS evolving", each.join(" UNION ALL BY NAME "))
        }
        _ => single_reader_sql(source, &literal_list(&files), many, csv_types, rejects),
    }
}

/// `read_csv` over `files` (a SQL list), matching columns by name across them when `by_name`.
fn csv_reader(
    files: &str,
    source: &Source,
    by_name: bool,
    csv_types: Option<&[(String, String)]>,
    rejects: Option<&str>,
) -> String {
    let mut opts = vec!["header = true".to_string()];
    if let Some(d) = &source.delimiter {
        let d = if d == "\\t" || d.eq_ignore_ascii_case("tab") {
            "\t"
        } else {
            d.as_str()
        };
        opts.push(format!("delim = {}", quote_literal(d)));
    }
    if by_name {
        opts.push("union_by_name = true".into());
    }
    match csv_types {
        Some(types) => {
            let pairs: Vec<String> = types
                .iter()
                .map(|(n, t)| format!("{}: {}", quote_literal(n), quote_literal(t)))
                .collect();
            opts.push(format!("types = {{{}}}", pairs.join(", ")));
        }
        None => opts.push("all_varchar = true".into()),
    }
    if let Some(r) = rejects {
        opts.push("store_rejects = true".into());
        opts.push(format!("rejects_table = {}", quote_literal(&format!("{r}_errors"))));
        opts.push(format!("rejects_scan = {}", quote_literal(&format!("{r}_scans"))));
    }
    format!("read_csv({files}, {})", opts.join(", "))
}

/// The SQL reading one source in a single reader call (every format; evolving CSV files are stacked by the caller).
fn single_reader_sql(
    source: &Source,
    files: &str,
    many: bool,
    csv_types: Option<&[(String, String)]>,
    rejects: Option<&str>,
) -> String {
    match source.format {
        Format::Csv => csv_reader(files, source, many, csv_types, rejects),
        Format::Parquet => {
            if many {
                format!("read_parquet({files}, union_by_name = true)")
            } else {
                format!("read_parquet({files})")
            }
        }
        Format::Json => match csv_types {
            Some(columns) => {
                let pairs: Vec<String> = columns
                    .iter()
                    .map(|(n, t)| format!("{}: {}", quote_literal(n), quote_literal(t)))
                    .collect();
                format!(
                    "read_json({files}, format = 'auto', columns = {{{}}})",
                    pairs.join(", ")
                )
            }
            None => format!("read_json({files}, format = 'auto', union_by_name = true)"),
        },
        Format::Sql => format!(
            "({}\n) AS derived",
            source.sql.as_deref().unwrap_or("SELECT 1 WHERE false")
        ),
    }
}

/// Column names and types of a source, as DuckDB sees them.
fn describe(conn: &Connection, relation: &str) -> Result<Vec<(String, String)>, String> {
    let mut stmt = conn
        .prepare(&format!("DESCRIBE SELECT * FROM {relation}"))
        .map_err(clean_error)?;
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
        .map_err(clean_error)?;
    rows.collect::<Result<Vec<_>, _>>().map_err(clean_error)
}

/// Safe widenings that cannot fail, so the raw value need not be kept to count failures.
fn cast_cannot_fail(from: &str, to: &str) -> bool {
    let (f, t) = (from.to_ascii_uppercase(), to.to_ascii_uppercase());
    if f == t || t == "VARCHAR" {
        return true;
    }
    let ints = ["TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT"];
    let rank = |s: &str| ints.iter().position(|i| *i == s);
    match (rank(&f), rank(&t)) {
        (Some(a), Some(b)) => a <= b,
        (Some(_), None) => t == "DOUBLE",
        _ => (f == "FLOAT" && t == "DOUBLE") || (f == "DATE" && t.starts_with("TIMESTAMP")),
    }
}

/// How one declared column is produced from the source.
struct Plan {
    decl: String,
    /// The target DuckDB type (None: keep the source type).
    target: Option<String>,
    source: Option<String>,
    source_type: Option<String>,
    /// Convert with TRY_CAST/TRY_STRPTIME and keep the raw value to count failures.
    convert: bool,
    strptime: Option<String>,
}

/// Translates a Java/ODCS date format (`yyyy-MM-dd HH:mm:ss`) into strptime codes.
fn strptime_format(java: &str) -> Option<String> {
    let mut out = String::new();
    let mut rest = java;
    let table = [
        ("yyyy", "%Y"),
        ("yy", "%y"),
        ("MMMM", "%B"),
        ("MMM", "%b"),
        ("MM", "%m"),
        ("dd", "%d"),
        ("HH", "%H"),
        ("hh", "%I"),
        ("mm", "%M"),
        ("ss", "%S"),
        ("SSSSSS", "%f"),
        ("SSS", "%g"),
        ("a", "%p"),
        ("XXX", "%z"),
        ("Z", "%z"),
    ];
    'outer: while !rest.is_empty() {
        for (pat, code) in table {
            if let Some(r) = rest.strip_prefix(pat) {
                out.push_str(code);
                rest = r;
                continue 'outer;
            }
        }
        let c = rest.chars().next()?;
        if c.is_ascii_alphabetic() {
            return None;
        }
        if c == '\'' {
            // 'T' and other quoted text is literal.
            let end = rest[1..].find('\'')? + 1;
            out.push_str(&rest[1..end].replace('%', "%%"));
            rest = &rest[end + 1..];
            continue;
        }
        if c == '%' {
            out.push('%');
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    Some(out)
}

fn plan_columns(
    columns: &[Column],
    source_cols: &[(String, String)],
    all_text_source: bool,
) -> (Vec<Plan>, Vec<String>) {
    let mut used = vec![false; source_cols.len()];
    let mut plans = Vec::new();
    for c in columns {
        let idx = source_cols
            .iter()
            .position(|(n, _)| *n == c.name)
            .or_else(|| source_cols.iter().position(|(n, _)| n.eq_ignore_ascii_case(&c.name)));
        let declared = declared_type(c);
        let temporal = declared.sql.as_deref().is_some_and(|t| family(t) == Family::Temporal);
        let strptime = if temporal {
            c.options.format.as_deref().and_then(strptime_format)
        } else {
            None
        };
        let Some(i) = idx else {
            plans.push(Plan {
                decl: c.name.clone(),
                target: declared.sql,
                source: None,
                source_type: None,
                convert: false,
                strptime: None,
            });
            continue;
        };
        used[i] = true;
        let (src, src_type) = &source_cols[i];
        let convert = match &declared.sql {
            None => false,
            Some(t) => all_text_source && t != "VARCHAR" || strptime.is_some() || !cast_cannot_fail(src_type, t),
        };
        plans.push(Plan {
            decl: c.name.clone(),
            target: declared.sql,
            source: Some(src.clone()),
            source_type: Some(src_type.clone()),
            convert,
            strptime,
        });
    }
    let extras = source_cols
        .iter()
        .zip(used)
        .filter(|(_, u)| !u)
        .map(|((n, _), _)| n.clone())
        .collect();
    (plans, extras)
}

fn shadow(i: usize) -> String {
    quote_ident(&format!("__meshbox_raw_{i}"))
}

fn projection(plans: &[Plan], extras: &[String]) -> String {
    let mut items = Vec::new();
    for (i, p) in plans.iter().enumerate() {
        let alias = quote_ident(&p.decl);
        match (&p.source, &p.target) {
            (None, Some(t)) => items.push(format!("CAST(NULL AS {t}) AS {alias}")),
            (None, None) => items.push(format!("CAST(NULL AS VARCHAR) AS {alias}")),
            (Some(s), Some(t)) if p.convert => {
                let src = quote_ident(s);
                let expr = match &p.strptime {
                    Some(fmt) => format!(
                        "TRY_CAST(TRY_STRPTIME(CAST({src} AS VARCHAR), {}) AS {t})",
                        quote_literal(fmt)
                    ),
                    None => format!("TRY_CAST({src} AS {t})"),
                };
                items.push(format!("{expr} AS {alias}"));
                items.push(format!("{src} AS {}", shadow(i)));
            }
            (Some(s), Some(t)) if p.source_type.as_deref().is_some_and(|st| !st.eq_ignore_ascii_case(t)) => {
                items.push(format!("CAST({} AS {t}) AS {alias}", quote_ident(s)))
            }
            (Some(s), _) => items.push(format!("{} AS {alias}", quote_ident(s))),
        }
    }
    for e in extras {
        items.push(quote_ident(e));
    }
    if items.is_empty() { "*".into() } else { items.join(", ") }
}

/// Loads one table. Errors are DuckDB's message, cleaned.
pub fn load_table(conn: &Connection, schema: &str, table: &Table, source: &Source) -> Result<TableLoad, String> {
    let target = format!("{}.{}", quote_ident(schema), quote_ident(&table.name));
    let all_empty = source.format != Format::Sql
        && source
            .files
            .iter()
            .all(|f| std::fs::metadata(f).map(|m| m.len() == 0).unwrap_or(false));
    let mut malformed = Vec::new();
    let mut malformed_count = 0;
    let (plans, extras) = if all_empty {
        create_declared_table(conn, &target, table)?
    } else {
        match source.format {
            Format::Csv => load_csv(conn, &target, table, source, &mut malformed, &mut malformed_count)?,
            Format::Parquet | Format::Json | Format::Sql => load_read(conn, &target, table, source)?,
        }
    };
    let cast_failures = count_cast_failures(conn, &target, &plans)?;
    let row_count: i64 = conn
        .query_row(&format!("SELECT count(*) FROM {target}"), [], |r| r.get(0))
        .map_err(clean_error)?;
    let loaded = describe(conn, &target)?;
    let columns = loaded_columns(&loaded, table);
    let type_notes = type_notes(&plans, source.format);
    let sample = read_sample(conn, &format!("SELECT * FROM {target} LIMIT 10"))?;
    Ok(TableLoad {
        contract: 0,
        object: 0,
        schema: schema.to_string(),
        table: table.name.clone(),
        format: source.format,
        files: source.files.clone(),
        row_count: row_count as u64,
        columns,
        missing: plans
            .iter()
            .filter(|p| p.source.is_none())
            .map(|p| p.decl.clone())
            .collect(),
        extra: extras,
        cast_failures,
        malformed,
        malformed_count,
        type_notes,
        sample,
        profiles: Vec::new(),
        pii: Vec::new(),
        reads: Vec::new(),
    })
}

/// Empty files: an empty table with the declared columns and types.
fn create_declared_table(conn: &Connection, target: &str, table: &Table) -> Result<(Vec<Plan>, Vec<String>), String> {
    let (plans, _) = plan_columns(&table.columns, &[], false);
    let cols: Vec<String> = plans
        .iter()
        .map(|p| format!("{} {}", quote_ident(&p.decl), p.target.as_deref().unwrap_or("VARCHAR")))
        .collect();
    if cols.is_empty() {
        return Err("the file is empty and the contract declares no columns".into());
    }
    conn.execute_batch(&format!("CREATE TABLE {target} ({})", cols.join(", ")))
        .map_err(clean_error)?;
    Ok((plans, Vec::new()))
}

/// Parquet, JSON and SQL sources: one read that converts the declared columns.
fn load_read(
    conn: &Connection,
    target: &str,
    table: &Table,
    source: &Source,
) -> Result<(Vec<Plan>, Vec<String>), String> {
    let discover = reader_sql(source, None, None);
    let source_cols = describe(conn, &discover)?;
    let (plans, extras) = plan_columns(&table.columns, &source_cols, false);
    let (reader, plans) = if source.format == Format::Json {
        (json_text_reader(source, &source_cols, &plans), json_text_plans(plans))
    } else {
        (discover, plans)
    };
    conn.execute_batch(&format!(
        "CREATE TABLE {target} AS SELECT {} FROM {reader}",
        projection(&plans, &extras)
    ))
    .map_err(clean_error)?;
    Ok((plans, extras))
}

/// JSON: declared columns are read as JSON text and converted, so one odd value cannot abort the read.
fn json_text_reader(source: &Source, source_cols: &[(String, String)], plans: &[Plan]) -> String {
    let mut cols: Vec<(String, String)> = Vec::new();
    for (n, t) in source_cols {
        let declared = plans
            .iter()
            .any(|p| p.source.as_deref() == Some(n) && p.target.is_some());
        let keep = if declared { "VARCHAR".to_string() } else { t.clone() };
        cols.push((n.clone(), keep));
    }
    reader_sql(source, Some(&cols), None)
}

/// The plans for [`json_text_reader`]: every declared column comes as text and is converted from it.
fn json_text_plans(plans: Vec<Plan>) -> Vec<Plan> {
    plans
        .into_iter()
        .map(|mut p| {
            if p.source.is_some() && p.target.is_some() {
                p.convert = p.target.as_deref() != Some("VARCHAR") || p.strptime.is_some();
                p.source_type = Some("VARCHAR".into());
            }
            p
        })
        .collect()
}

/// The loaded table's columns, each marked as declared by the contract or not.
fn loaded_columns(loaded: &[(String, String)], table: &Table) -> Vec<LoadedColumn> {
    loaded
        .iter()
        .map(|(n, t)| LoadedColumn {
            name: n.clone(),
            data_type: t.clone(),
            declared: table.columns.iter().any(|c| c.name == *n),
            inherited: Vec::new(),
        })
        .collect()
}

/// Parquet columns stored as another type than the contract declares.
fn type_notes(plans: &[Plan], format: Format) -> Vec<String> {
    plans
        .iter()
        .filter_map(|p| match (&p.source_type, &p.target) {
            (Some(st), Some(t)) if format == Format::Parquet && !st.eq_ignore_ascii_case(t) => {
                Some(format!("`{}` is stored as {st} in the file; loaded as {t}", p.decl))
            }
            _ => None,
        })
        .collect()
}

/// CSV: a fast typed read; if any value does not convert, read again as text and convert per cell. A plain file
/// (see `plain_csv`) is first read without DuckDB's sniffer; any problem there and it is read the sniffing way.
fn load_csv(
    conn: &Connection,
    target: &str,
    table: &Table,
    source: &Source,
    malformed: &mut Vec<MalformedLine>,
    malformed_count: &mut u64,
) -> Result<(Vec<Plan>, Vec<String>), String> {
    if let Some(read) = load_plain_csv(conn, target, table, source) {
        return Ok(read);
    }
    let source_cols = describe(conn, &reader_sql(source, None, None))?;
    let (plans, extras) = plan_columns(&table.columns, &source_cols, true);
    let (types, typed_plans) = typed_read(&source_cols, &plans);
    let rejects = "meshbox_rejects";
    let reader = reader_sql(source, Some(&types), Some(rejects));
    conn.execute_batch(&format!(
        "CREATE TABLE {target} AS SELECT {} FROM {reader}",
        projection(&typed_plans, &extras)
    ))
    .map_err(clean_error)?;
    let (cast_errors, structural) = read_rejects(conn, rejects)?;
    if cast_errors == 0 {
        *malformed_count = structural.0;
        *malformed = structural.1;
        return Ok((typed_plans, extras));
    }
    // Some values do not convert: read every column as text and convert cell by cell, keeping every row.
    conn.execute_batch(&format!("DROP TABLE {target}"))
        .map_err(clean_error)?;
    let reader = reader_sql(source, None, Some(rejects));
    conn.execute_batch(&format!(
        "CREATE TABLE {target} AS SELECT {} FROM {reader}",
        projection(&plans, &extras)
    ))
    .map_err(clean_error)?;
    let (_, structural) = read_rejects(conn, rejects)?;
    *malformed_count = structural.0;
    *malformed = structural.1;
    Ok((plans, extras))
}

/// The types a typed read gives each source column (declared types straight to the CSV parser, everything else
/// text), and the plans that go with it (dates with a format are read as text and converted after).
fn typed_read(source_cols: &[(String, String)], plans: &[Plan]) -> (Vec<(String, String)>, Vec<Plan>) {
    let types: Vec<(String, String)> = source_cols
        .iter()
        .map(|(n, _)| {
            let t = plans
                .iter()
                .find(|p| p.source.as_deref() == Some(n))
                .and_then(|p| if p.strptime.is_some() { None } else { p.target.clone() })
                .unwrap_or_else(|| "VARCHAR".into());
            (n.clone(), t)
        })
        .collect();
    let typed_plans: Vec<Plan> = plans
        .iter()
        .map(|p| Plan {
            decl: p.decl.clone(),
            target: p.target.clone(),
            source: p.source.clone(),
            source_type: if p.strptime.is_some() {
                Some("VARCHAR".into())
            } else {
                p.target.clone()
            },
            convert: p.strptime.is_some(),
            strptime: p.strptime.clone(),
        })
        .collect();
    (types, typed_plans)
}

/// A plain single CSV file read in one statement, without the sniffer. None (and no table left behind) when the
/// file is not plain or any line or value does not read: the sniffing read decides then.
fn load_plain_csv(conn: &Connection, target: &str, table: &Table, source: &Source) -> Option<(Vec<Plan>, Vec<String>)> {
    let [file] = source.files.as_slice() else {
        return None;
    };
    let header = crate::load::plain_csv::header_of(file, source.delimiter.as_deref())?;
    let source_cols: Vec<(String, String)> = header.names.iter().map(|n| (n.clone(), "VARCHAR".into())).collect();
    let (plans, extras) = plan_columns(&table.columns, &source_cols, true);
    let (types, typed_plans) = typed_read(&source_cols, &plans);
    let reader = crate::load::plain_csv::reader(file, header.delimiter, &types);
    let sql = format!(
        "CREATE TABLE {target} AS SELECT {} FROM {reader}",
        projection(&typed_plans, &extras)
    );
    match conn.execute_batch(&sql) {
        Ok(()) => Some((typed_plans, extras)),
        Err(e) => {
            tracing::debug!(error = %e, file = %file.display(), "plain CSV read failed; sniffing");
            let _ = conn.execute_batch(&format!("DROP TABLE IF EXISTS {target}"));
            None
        }
    }
}

/// Counts rejected CSV lines: (conversion errors, (structural error count, first structural errors)). Drops the tables.
fn read_rejects(conn: &Connection, rejects: &str) -> Result<(u64, (u64, Vec<MalformedLine>)), String> {
    let errors = quote_ident(&format!("{rejects}_errors"));
    let scans = quote_ident(&format!("{rejects}_scans"));
    // The reader creates the table when it stores rejects; without it there is nothing to report.
    let Ok((cast, other)) = conn.query_row(
        &format!("SELECT count(*) FILTER (WHERE error_type = 'CAST'), count(DISTINCT (scan_id, file_id, line)) FILTER (WHERE error_type <> 'CAST') FROM {errors}"),
        [],
        |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)),
    ) else {
        return Ok((0, (0, Vec::new())));
    };
    let mut samples = Vec::new();
    if other > 0 {
        let mut stmt = conn
            .prepare(&format!(
                "SELECT e.line, min(e.error_type), min(s.file_path), (SELECT count(*) FROM {scans}) > 1 \
                 FROM {errors} e LEFT JOIN {scans} s USING (scan_id, file_id) WHERE e.error_type <> 'CAST' \
                 GROUP BY e.scan_id, e.file_id, e.line ORDER BY e.scan_id, e.file_id, e.line LIMIT 5"
            ))
            .map_err(clean_error)?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, bool>(3)?,
                ))
            })
            .map_err(clean_error)?;
        for row in rows {
            let (line, kind, path, several_files) = row.map_err(clean_error)?;
            let file = path.filter(|_| several_files).map(|p| {
                Path::new(&p)
                    .file_name()
                    .map_or(p.clone(), |n| n.to_string_lossy().into_owned())
            });
            samples.push(MalformedLine {
                file,
                line: line as u64,
                error: kind.replace('_', " ").to_lowercase(),
            });
        }
    }
    conn.execute_batch(&format!("DROP TABLE IF EXISTS {errors}; DROP TABLE IF EXISTS {scans};"))
        .map_err(clean_error)?;
    Ok((cast as u64, (other as u64, samples)))
}

/// Counts values that did not convert (raw value present, converted value NULL), keeps up to 5 per column,
/// then drops the raw columns.
fn count_cast_failures(conn: &Connection, target: &str, plans: &[Plan]) -> Result<Vec<CastFailure>, String> {
    let converted: Vec<(usize, &Plan)> = plans
        .iter()
        .enumerate()
        .filter(|(_, p)| p.convert && p.source.is_some())
        .collect();
    if converted.is_empty() {
        return Ok(Vec::new());
    }
    let counts: Vec<String> = converted
        .iter()
        .map(|(i, p)| {
            format!(
                "count(*) FILTER (WHERE {} IS NOT NULL AND {} IS NULL)",
                shadow(*i),
                quote_ident(&p.decl)
            )
        })
        .collect();
    let values: Vec<i64> = conn
        .query_row(&format!("SELECT {} FROM {target}", counts.join(", ")), [], |r| {
            (0..converted.len()).map(|k| r.get::<_, i64>(k)).collect()
        })
        .map_err(clean_error)?;
    let mut failures = Vec::new();
    for ((i, p), n) in converted.iter().zip(values) {
        if n == 0 {
            continue;
        }
        let mut stmt = conn
            .prepare(&format!(
                "SELECT rowid + 1, CAST({s} AS VARCHAR) FROM {target} WHERE {s} IS NOT NULL AND {d} IS NULL ORDER BY rowid LIMIT 5",
                s = shadow(*i),
                d = quote_ident(&p.decl)
            ))
            .map_err(clean_error)?;
        let samples = stmt
            .query_map([], |r| {
                Ok(BadCell {
                    row: r.get::<_, i64>(0)? as u64,
                    value: r.get(1)?,
                })
            })
            .map_err(clean_error)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(clean_error)?;
        failures.push(CastFailure {
            column: p.decl.clone(),
            to_type: p.target.clone().unwrap_or_default(),
            count: n as u64,
            samples,
        });
    }
    for (i, _) in &converted {
        conn.execute_batch(&format!("ALTER TABLE {target} DROP COLUMN {}", shadow(*i)))
            .map_err(clean_error)?;
    }
    Ok(failures)
}

/// Runs a query and returns its rows as JSON values.
pub fn read_sample(conn: &Connection, sql: &str) -> Result<Sample, String> {
    let rendered = crate::base::values::with_text_columns(conn, sql);
    let mut stmt = conn.prepare(rendered.as_deref().unwrap_or(sql)).map_err(clean_error)?;
    let batches: Vec<duckdb::arrow::record_batch::RecordBatch> = stmt.query_arrow([]).map_err(clean_error)?.collect();
    let columns = stmt.column_names();
    let rows = batches
        .iter()
        .flat_map(|b| crate::base::values::batch_rows(b, usize::MAX))
        .collect();
    Ok(Sample { columns, rows })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_date_formats_become_strptime() {
        assert_eq!(strptime_format("yyyy-MM-dd").as_deref(), Some("%Y-%m-%d"));
        assert_eq!(
            strptime_format("dd/MM/yyyy HH:mm:ss").as_deref(),
            Some("%d/%m/%Y %H:%M:%S")
        );
        assert_eq!(
            strptime_format("yyyy-MM-dd'T'HH:mm:ss.SSS").as_deref(),
            Some("%Y-%m-%dT%H:%M:%S.%g")
        );
        assert_eq!(strptime_format("qqq"), None);
    }

    #[test]
    fn widening_casts_cannot_fail() {
        assert!(cast_cannot_fail("INTEGER", "BIGINT"));
        assert!(cast_cannot_fail("BIGINT", "VARCHAR"));
        assert!(!cast_cannot_fail("VARCHAR", "BIGINT"));
        assert!(!cast_cannot_fail("BIGINT", "INTEGER"));
    }

    #[test]
    fn paths_are_normalized_lexically() {
        assert_eq!(normalize(Path::new("/m/a/./b/../c.csv")), PathBuf::from("/m/a/c.csv"));
    }
}
