//! Scaffolding: `meshbox init` (a new mesh), `meshbox new DOMAIN/PRODUCT --from FILE` (an ODCS contract and ODPS
//! descriptor inferred from the data with DuckDB) and `meshbox import odcs FILE`. These only create files: every
//! target is checked before anything is written, and an existing file is refused unless `--force`.

use crate::base::sql::{quote_ident, quote_literal};
use anyhow::{Context, bail};
use serde_yaml::{Mapping, Value};
use std::path::{Path, PathBuf};

/// Files to create, written only once all of them are known to be writable.
#[derive(Default)]
pub struct Plan {
    files: Vec<(PathBuf, Vec<u8>)>,
}

impl Plan {
    pub fn add(&mut self, path: PathBuf, content: impl Into<Vec<u8>>) {
        self.files.push((path, content.into()));
    }

    /// Writes every file; refuses (writing nothing) when one exists and `force` is off.
    pub fn write(&self, force: bool) -> anyhow::Result<Vec<PathBuf>> {
        if !force {
            let existing: Vec<String> = self
                .files
                .iter()
                .filter(|(p, _)| p.exists())
                .map(|(p, _)| p.display().to_string())
                .collect();
            if !existing.is_empty() {
                bail!(
                    "{} already exist{}; nothing was written (use --force to overwrite)",
                    existing.join(", "),
                    if existing.len() == 1 { "s" } else { "" }
                );
            }
        }
        for (p, content) in &self.files {
            if let Some(parent) = p.parent() {
                std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
            }
            std::fs::write(p, content).with_context(|| format!("writing {}", p.display()))?;
        }
        Ok(self.files.iter().map(|(p, _)| p.clone()).collect())
    }
}

/// A folder name for a domain or product: lower case letters, digits and dashes.
pub fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.trim().chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

/// `sales/orders` → ("sales", "orders"); both must already be slugs.
pub fn parse_target(target: &str) -> anyhow::Result<(String, String)> {
    let Some((d, p)) = target.split_once('/') else {
        bail!("name the product as DOMAIN/PRODUCT, e.g. sales/orders");
    };
    for part in [d, p] {
        if part.is_empty() || slug(part) != part {
            bail!(
                "`{part}` is not a folder name meshbox creates: use lower case letters, digits and dashes (e.g. `{}`)",
                slug(part)
            );
        }
    }
    if d == crate::governance::metadata::SCHEMA {
        bail!("`mesh` is reserved for meshbox's metadata tables; pick another domain name");
    }
    Ok((d.to_string(), p.to_string()))
}

fn title(s: &str) -> String {
    s.split(['-', '_', ' '])
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn yaml(v: &Value) -> String {
    crate::base::yaml_out::to_string(v)
}

fn map(pairs: Vec<(&str, Value)>) -> Value {
    let mut m = Mapping::new();
    for (k, v) in pairs {
        if !v.is_null() {
            m.insert(Value::String(k.into()), v);
        }
    }
    Value::Mapping(m)
}

fn s(v: &str) -> Value {
    Value::String(v.to_string())
}

/// The ODPS descriptor of a product whose output ports are `contracts` (id, table name, version).
fn descriptor(domain: &str, product: &str, contracts: &[(String, String, String)], product_type: &str) -> String {
    let ports: Vec<Value> = contracts
        .iter()
        .map(|(id, name, version)| {
            map(vec![
                ("name", s(name)),
                ("type", s("tables")),
                ("version", s(version)),
                ("contractId", s(id)),
            ])
        })
        .collect();
    let doc = map(vec![
        ("apiVersion", s("v1.1.0")),
        ("kind", s("DataProduct")),
        ("id", s(&format!("urn:meshbox:{domain}:{product}"))),
        ("name", s(&title(product))),
        ("version", s("0.1.0")),
        ("status", s("draft")),
        ("domain", s(domain)),
        ("type", s(product_type)),
        (
            "description",
            map(vec![(
                "purpose",
                s("TODO: what this product is for, and who should use it."),
            )]),
        ),
        ("team", map(vec![("name", s(&format!("{} team", title(domain))))])),
        ("outputPorts", Value::Sequence(ports)),
    ]);
    format!(
        "# ODPS product descriptor, scaffolded by meshbox. Fill in the purpose and the team.\n{}",
        yaml(&doc)
    )
}

/// What DuckDB learned about one column of a data file.
#[derive(Debug, Clone)]
pub struct ColumnGuess {
    pub name: String,
    pub duckdb_type: String,
    pub nulls: u64,
    pub distinct: u64,
    pub enum_values: Vec<String>,
    pub pii: Option<crate::load::pii::PiiFinding>,
}

/// The ODCS logical type of a DuckDB type.
pub fn logical_type(duckdb_type: &str) -> &'static str {
    let t = duckdb_type.to_ascii_uppercase();
    let base = t.split('(').next().unwrap_or("").trim();
    match base {
        "TINYINT" | "SMALLINT" | "INTEGER" | "BIGINT" | "HUGEINT" | "UTINYINT" | "USMALLINT" | "UINTEGER"
        | "UBIGINT" => "integer",
        "FLOAT" | "DOUBLE" | "DECIMAL" | "REAL" => "number",
        "BOOLEAN" => "boolean",
        "DATE" => "date",
        "TIME" => "time",
        _ if base.starts_with("TIMESTAMP") => "timestamp",
        _ if t.ends_with("[]") || base.starts_with("LIST") => "array",
        _ if base.starts_with("STRUCT") || base.starts_with("MAP") => "object",
        _ => "string",
    }
}

/// The DuckDB expression that reads a data file, by its extension.
pub fn reader(file: &Path) -> anyhow::Result<(String, &'static str)> {
    let path = quote_literal(&file.display().to_string());
    let name = file
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    Ok(
        if name.ends_with(".csv") || name.ends_with(".tsv") || name.ends_with(".txt") {
            (format!("read_csv({path}, sample_size = -1)"), "csv")
        } else if name.ends_with(".parquet") || name.ends_with(".pq") {
            (format!("read_parquet({path})"), "parquet")
        } else if name.ends_with(".json") || name.ends_with(".ndjson") || name.ends_with(".jsonl") {
            (format!("read_json_auto({path})"), "json")
        } else {
            bail!(
                "{}: meshbox infers a contract from CSV, Parquet or JSON files (by extension)",
                file.display()
            )
        },
    )
}

/// Profiles a data file with DuckDB: each column's type, nulls, distinct values, enum candidates and PII.
pub fn infer(file: &Path) -> anyhow::Result<(u64, Vec<ColumnGuess>)> {
    let conn = duckdb::Connection::open_in_memory()?;
    let (read, _) = reader(file)?;
    conn.execute_batch(&format!("CREATE TABLE data AS SELECT * FROM {read}"))
        .map_err(|e| anyhow::anyhow!("{}: {}", file.display(), crate::base::errors::clean_error(e)))?;
    let rows: u64 = conn.query_row("SELECT count(*) FROM data", [], |r| r.get::<_, i64>(0))? as u64;
    let mut stmt = conn.prepare(
        "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = 'data' ORDER BY column_index",
    )?;
    let cols: Vec<(String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let pii = crate::load::pii::scan_table(&conn, "data", &cols).map_err(anyhow::Error::msg)?;
    let mut out = Vec::new();
    for (name, ty) in cols {
        let q = quote_ident(&name);
        let (nulls, distinct): (i64, i64) = conn.query_row(
            &format!("SELECT count(*) - count({q}), count(DISTINCT {q}) FROM data"),
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let mut enum_values = Vec::new();
        let text = logical_type(&ty) == "string";
        // A text column with few distinct values over many rows is probably a code list.
        if text && distinct > 0 && distinct <= 12 && rows >= 20 && (distinct as u64) * 4 <= rows {
            let mut s = conn.prepare(&format!(
                "SELECT DISTINCT CAST({q} AS VARCHAR) FROM data WHERE {q} IS NOT NULL ORDER BY 1"
            ))?;
            enum_values = s.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
        }
        out.push(ColumnGuess {
            pii: pii.iter().find(|f| f.column == name).cloned(),
            name,
            duckdb_type: ty,
            nulls: nulls as u64,
            distinct: distinct as u64,
            enum_values,
        });
    }
    Ok((rows, out))
}

/// The primary key candidate: a column with no nulls and no duplicates, preferring names ending in `id`.
fn key_candidate(rows: u64, cols: &[ColumnGuess]) -> Option<usize> {
    let unique = |c: &ColumnGuess| rows > 0 && c.nulls == 0 && c.distinct == rows;
    cols.iter()
        .position(|c| unique(c) && (c.name.eq_ignore_ascii_case("id") || c.name.to_ascii_lowercase().ends_with("_id")))
        .or_else(|| {
            cols.first()
                .filter(|c| unique(c) && logical_type(&c.duckdb_type) != "number")
                .map(|_| 0)
        })
}

/// The ODCS contract inferred from a file (served from `data/<file name>`).
pub fn contract_from(
    domain: &str,
    product: &str,
    table: &str,
    file_name: &str,
    format: &str,
    rows: u64,
    cols: &[ColumnGuess],
) -> String {
    let key = key_candidate(rows, cols);
    let properties: Vec<Value> = cols
        .iter()
        .enumerate()
        .map(|(i, c)| property(c, key == Some(i), rows))
        .collect();
    let notes = cols.iter().filter_map(|c| {
        c.pii.as_ref().map(|f| {
            format!(
                "{}: looks like {} ({:.0} % of {} sampled values) — classified restricted",
                c.name,
                f.detector,
                f.share * 100.0,
                f.sampled
            )
        })
    });
    let doc = contract_doc(domain, product, table, file_name, format, properties);
    let mut header = format!(
        "# ODCS contract inferred by meshbox from {file_name} ({rows} rows). Review it: types, keys and\n# enums are what the data showed, not what it promises.\n"
    );
    for n in notes {
        header.push_str(&format!("# PII: {n}\n"));
    }
    header + &yaml(&doc)
}

/// One inferred column as an ODCS property: its types, the key, required and unique as the data showed them,
/// PII classified restricted, and a code list as a quality rule.
fn property(c: &ColumnGuess, is_key: bool, rows: u64) -> Value {
    let mut pairs = vec![
        ("name", s(&c.name)),
        ("logicalType", s(logical_type(&c.duckdb_type))),
        ("physicalType", s(&c.duckdb_type)),
    ];
    if is_key {
        pairs.push(("primaryKey", Value::Bool(true)));
    }
    if rows > 0 && c.nulls == 0 {
        pairs.push(("required", Value::Bool(true)));
    }
    if !is_key && rows > 1 && c.nulls == 0 && c.distinct == rows && logical_type(&c.duckdb_type) == "string" {
        pairs.push(("unique", Value::Bool(true)));
    }
    if c.pii.is_some() {
        pairs.push(("classification", s("restricted")));
        pairs.push(("tags", Value::Sequence(vec![s("pii")])));
    }
    if !c.enum_values.is_empty() {
        pairs.push((
            "quality",
            Value::Sequence(vec![map(vec![
                ("metric", s("invalidValues")),
                (
                    "arguments",
                    map(vec![(
                        "validValues",
                        Value::Sequence(c.enum_values.iter().map(|v| s(v)).collect()),
                    )]),
                ),
                ("mustBe", Value::Number(0.into())),
                ("description", s("values seen when the contract was scaffolded")),
            ])]),
        ));
    }
    map(pairs)
}

/// The contract document around the inferred properties: identity, a placeholder purpose, the team, one table
/// that must not be empty, and the local server the file is read from.
fn contract_doc(
    domain: &str,
    product: &str,
    table: &str,
    file_name: &str,
    format: &str,
    properties: Vec<Value>,
) -> Value {
    map(vec![
        ("apiVersion", s("v3.1.0")),
        ("kind", s("DataContract")),
        ("id", s(&format!("urn:meshbox:{domain}:{product}:{table}"))),
        ("name", s(&title(table))),
        ("version", s("0.1.0")),
        ("status", s("draft")),
        ("domain", s(domain)),
        (
            "description",
            map(vec![(
                "purpose",
                s("TODO: what one row means, and what the data is for."),
            )]),
        ),
        ("team", map(vec![("name", s(&format!("{} team", title(domain))))])),
        (
            "schema",
            Value::Sequence(vec![map(vec![
                ("name", s(table)),
                ("physicalType", s("table")),
                (
                    "quality",
                    Value::Sequence(vec![map(vec![
                        ("metric", s("rowCount")),
                        ("mustBeGreaterThan", Value::Number(0.into())),
                    ])]),
                ),
                ("properties", Value::Sequence(properties)),
            ])]),
        ),
        (
            "servers",
            Value::Sequence(vec![map(vec![
                ("server", s("local")),
                ("type", s("local")),
                ("format", s(format)),
                ("path", s(&format!("data/{file_name}"))),
            ])]),
        ),
    ])
}

/// `meshbox new DOMAIN/PRODUCT --from FILE`: the files to create in `mesh`.
pub fn new_product(mesh: &Path, target: &str, from: &Path, table: Option<&str>) -> anyhow::Result<(Plan, String)> {
    let (domain, product) = parse_target(target)?;
    if !from.is_file() {
        bail!("{} is not a file", from.display());
    }
    let file_name = from
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| anyhow::anyhow!("{} has no usable file name", from.display()))?
        .to_string();
    let (_, format) = reader(from)?;
    let table = match table {
        Some(t) => t.to_string(),
        None => product.replace('-', "_"),
    };
    let (rows, cols) = infer(from)?;
    let dir = mesh.join(&domain).join(&product);
    let mut plan = Plan::default();
    let target_data = dir.join("data").join(&file_name);
    let same = std::fs::canonicalize(from).ok() == std::fs::canonicalize(&target_data).ok();
    if !same {
        plan.add(
            target_data,
            std::fs::read(from).with_context(|| format!("reading {}", from.display()))?,
        );
    }
    let contract = contract_from(&domain, &product, &table, &file_name, format, rows, &cols);
    plan.add(dir.join(format!("{product}.odcs.yaml")), contract);
    let id = format!("urn:meshbox:{domain}:{product}:{table}");
    plan.add(
        dir.join(format!("{product}.odps.yaml")),
        descriptor(
            &domain,
            &product,
            &[(id, table.clone(), "0.1.0".into())],
            "sourceAligned",
        ),
    );
    let domain_file = mesh.join(&domain).join("domain.yaml");
    if !domain_file.exists() {
        plan.add(
            domain_file,
            format!(
                "# The {domain} domain: who owns it and how to reach them.\ntitle: {}\ndescription: TODO\nowner: {} team\n",
                title(&domain),
                title(&domain)
            ),
        );
    }
    let pii = cols.iter().filter(|c| c.pii.is_some()).count();
    let summary = format!(
        "{domain}/{product}: {rows} rows, {} columns ({pii} look personal and were classified restricted); table {domain}.{table}",
        cols.len()
    );
    Ok((plan, summary))
}

/// `meshbox init DIR`: a mesh with settings and roles, the default policy set and one example product.
pub fn init(dir: &Path) -> anyhow::Result<Plan> {
    let name = dir
        .file_name()
        .and_then(|n| n.to_str())
        .map(title)
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "My mesh".into());
    let mut plan = Plan::default();
    plan.add(
        dir.join("mesh.yaml"),
        format!(
            "# meshbox's own (optional) file. Everything else is plain ODPS/ODCS plus policies (docs/governance.md).\n\
             name: {}\ndescription: A data mesh prototyped with meshbox.\n\n\
             access:\n  default_level: public        # products whose contracts list no roles[]\n  non_compliant: quarantine     # or flag\n\n\
             # Roles are chosen (header X-Meshbox-Role or the switcher), not authenticated: meshbox is a sandbox.\n\
             roles:\n  viewer:\n    clearance: public\n    unmasked: [public]\n  analyst:\n    clearance: internal\n    unmasked: [public, internal]\n  \
             steward:\n    clearance: restricted\n    unmasked: [\"*\"]\n  admin:\n    admin: true\n",
            serde_yaml::to_string(&s(&name)).unwrap_or_default().trim()
        ),
    );
    for f in crate::lifecycle::sample_mesh::files_under("policies/") {
        if let Some(data) = crate::lifecycle::sample_mesh::file(&f) {
            plan.add(dir.join(&f), data);
        }
    }
    plan.add(
        dir.join("example/domain.yaml"),
        "# A domain: a business area that owns its data products.\ntitle: Example\ndescription: Replace me with a real domain.\nowner: Example team\n",
    );
    plan.add(
        dir.join("example/greetings/data/greetings.csv"),
        "greeting_id,language,text\n1,en,Hello\n2,de,Hallo\n3,fr,Bonjour\n4,es,Hola\n",
    );
    plan.add(
        dir.join("example/greetings/greetings.odcs.yaml"),
        "apiVersion: v3.1.0\nkind: DataContract\nid: urn:example:greetings:contract\nname: Greetings\nversion: 1.0.0\nstatus: active\n\
         domain: example\ndataProduct: greetings\ndescription:\n  purpose: How to say hello, one row per language.\nteam:\n  name: Example team\n\
         schema:\n  - name: greetings\n    physicalType: table\n    properties:\n      - name: greeting_id\n        logicalType: integer\n        \
         primaryKey: true\n        required: true\n      - name: language\n        logicalType: string\n        required: true\n        \
         description: ISO 639-1 code.\n        logicalTypeOptions:\n          pattern: \"^[a-z]{2}$\"\n      - name: text\n        logicalType: string\n        \
         required: true\nservers:\n  - server: local\n    type: local\n    format: csv\n    path: data/greetings.csv\n",
    );
    plan.add(
        dir.join("example/greetings/greetings.odps.yaml"),
        "apiVersion: v1.1.0\nkind: DataProduct\nid: urn:example:greetings\nname: Greetings\nversion: 1.0.0\nstatus: active\ndomain: example\n\
         type: sourceAligned\ndescription:\n  purpose: How to say hello, one row per language.\ntags: [example]\nteam:\n  name: Example team\n\
         outputPorts:\n  - name: greetings\n    type: tables\n    version: 1.0.0\n    contractId: urn:example:greetings:contract\n",
    );
    plan.add(
        dir.join("README.md"),
        format!(
            "# {name}\n\nA data mesh folder for [meshbox](https://github.com/): `meshbox serve .` shows it, `meshbox validate .` tests it.\n\n\
             - `mesh.yaml` — name, access levels and roles.\n- `policies/` — the global policies (ownership, privacy and masking, naming, lineage).\n\
             - `<domain>/<product>/` — one folder per data product: an ODPS descriptor, ODCS contracts and the data.\n\n\
             Add a product from a data file: `meshbox new <domain>/<product> --from data.csv`.\n"
        ),
    );
    Ok(plan)
}

/// `meshbox import odcs FILE`: the contract (byte for byte), the data files its local servers name, and a descriptor.
pub fn import_odcs(
    mesh: &Path,
    file: &Path,
    domain: Option<&str>,
    product: Option<&str>,
) -> anyhow::Result<(Plan, Vec<String>)> {
    let base = file.parent().unwrap_or(Path::new("."));
    let (contract, diags) = crate::folder::manifests::read_contract(file, base);
    let Some(contract) = contract else {
        let text: Vec<String> = diags.iter().map(|d| d.to_string()).collect();
        bail!(
            "{} is not a readable ODCS contract:\n{}",
            file.display(),
            text.join("\n")
        );
    };
    let domain = slug(domain.or(contract.domain.as_deref()).unwrap_or("imported"));
    let product = slug(
        product
            .or(contract.data_product.as_deref())
            .map(str::to_string)
            .or(contract.name.clone())
            .unwrap_or_else(|| crate::folder::scan::manifest_stem(file))
            .as_str(),
    );
    if domain.is_empty() || product.is_empty() {
        bail!("cannot derive folder names from the contract; pass --domain and --product");
    }
    let dir = mesh.join(&domain).join(&product);
    let mut plan = Plan::default();
    let mut notes = Vec::new();
    plan.add(
        dir.join(format!("{product}.odcs.yaml")),
        std::fs::read(file).with_context(|| format!("reading {}", file.display()))?,
    );
    for server in contract.servers.iter().filter(|s| s.kind.as_deref() == Some("local")) {
        let Some(path) = server.path.as_deref() else { continue };
        let path = crate::base::vars::resolve_env(path).unwrap_or_else(|_| path.to_string());
        let rel = Path::new(&path);
        if rel.is_absolute()
            || rel.components().any(|c| matches!(c, std::path::Component::ParentDir))
            || path.contains('*')
        {
            notes.push(format!(
                "server `{}` reads {path}: copy that data into {} yourself",
                server.server.as_deref().unwrap_or("?"),
                dir.display()
            ));
            continue;
        }
        let source = base.join(rel);
        if source.is_file() {
            plan.add(dir.join(rel), std::fs::read(&source)?);
        } else {
            notes.push(format!(
                "{} was not found next to the contract; the product has no data until it is added",
                source.display()
            ));
        }
    }
    let ports: Vec<(String, String, String)> = contract
        .id
        .iter()
        .map(|id| {
            (
                id.clone(),
                contract
                    .tables
                    .first()
                    .map(|t| t.name.clone())
                    .unwrap_or_else(|| product.clone()),
                contract.version.clone().unwrap_or_else(|| "1.0.0".into()),
            )
        })
        .collect();
    let odps = dir.join(format!("{product}.odps.yaml"));
    if !odps.exists() {
        plan.add(odps, descriptor(&domain, &product, &ports, "sourceAligned"));
    }
    if contract.id.is_none() {
        notes.push(
            "the contract has no `id`: the descriptor lists no output port (consumers name contracts by id)".into(),
        );
    }
    notes.insert(0, format!("{domain}/{product}"));
    Ok((plan, notes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(slug("Customer Profiles!"), "customer-profiles");
        assert_eq!(title("order-lines"), "Order Lines");
        assert!(parse_target("sales/orders").is_ok());
        assert!(parse_target("Sales/orders").is_err());
        assert!(parse_target("orders").is_err());
        assert!(parse_target("mesh/x").is_err());
        assert_eq!(logical_type("DECIMAL(10,2)"), "number");
        assert_eq!(logical_type("TIMESTAMP WITH TIME ZONE"), "timestamp");
        assert_eq!(logical_type("VARCHAR[]"), "array");
    }
}
