//! `meshbox export`: the way out when a team outgrows the laptop. ODCS contracts and ODPS descriptors are written as
//! they are (every field kept, known or not, comments included), plus dbt `sources.yml` with tests from the
//! contracts, DuckDB/ANSI DDL, and Markdown documentation.

use crate::base::sql::quote_ident;
use crate::model::catalog::Catalog;
use serde_yaml::{Mapping, Value};
use std::fmt::Write as _;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Odcs,
    Odps,
    DbtSources,
    SqlDdl,
    Markdown,
}

/// One exported file: its path relative to the output folder, and its content.
pub type Exported = Vec<(PathBuf, String)>;

fn rel(catalog: &Catalog, p: &std::path::Path) -> PathBuf {
    p.strip_prefix(&catalog.root).unwrap_or(p).to_path_buf()
}

/// Generated YAML that every reader reads back the same.
pub fn to_yaml(value: &Value) -> String {
    crate::base::yaml_out::to_string(value)
}

/// A manifest as written: the file itself (every field, comment and quote kept); the parsed value re-written
/// when the file cannot be read any more.
fn manifest_text(doc: &crate::base::yaml::Document) -> String {
    crate::base::safe_read::read_manifest_text(&doc.file).unwrap_or_else(|| to_yaml(&doc.value))
}

pub fn export(catalog: &Catalog, format: ExportFormat) -> Exported {
    match format {
        ExportFormat::Odcs => catalog
            .products
            .iter()
            .flat_map(|p| p.contracts.iter())
            .map(|c| (rel(catalog, &c.doc.file), manifest_text(&c.doc)))
            .collect(),
        ExportFormat::Odps => catalog
            .products
            .iter()
            .filter_map(|p| p.descriptor.as_ref())
            .map(|d| (rel(catalog, &d.doc.file), manifest_text(&d.doc)))
            .collect(),
        ExportFormat::DbtSources => vec![("sources.yml".into(), dbt_sources(catalog))],
        ExportFormat::SqlDdl => vec![("schema.sql".into(), ddl(catalog))],
        ExportFormat::Markdown => vec![("mesh.md".into(), markdown(catalog))],
    }
}

fn s(v: &str) -> Value {
    Value::String(v.to_string())
}

/// dbt sources: one source per domain (the DuckDB schema), a table per schema object, tests from the contract.
pub fn dbt_sources(catalog: &Catalog) -> String {
    let mut sources: Vec<Value> = Vec::new();
    for d in &catalog.domains {
        let mut tables = Vec::new();
        for p in catalog.products_in(&d.name) {
            for c in &p.contracts {
                for t in &c.tables {
                    let mut columns = Vec::new();
                    for col in &t.columns {
                        let mut m = Mapping::new();
                        m.insert(s("name"), s(&col.name));
                        if let Some(desc) = &col.description {
                            m.insert(s("description"), s(desc));
                        }
                        if let Some(ty) = crate::model::types::declared_type(col).sql {
                            m.insert(s("data_type"), s(&ty));
                        }
                        let mut tests: Vec<Value> = Vec::new();
                        if col.required || col.primary_key {
                            tests.push(s("not_null"));
                        }
                        if col.unique || (col.primary_key && t.columns.iter().filter(|c| c.primary_key).count() == 1) {
                            tests.push(s("unique"));
                        }
                        if !col.enum_values.is_empty() {
                            let mut av = Mapping::new();
                            let mut args = Mapping::new();
                            args.insert(
                                s("values"),
                                Value::Sequence(col.enum_values.iter().map(|v| s(v)).collect()),
                            );
                            av.insert(s("accepted_values"), Value::Mapping(args));
                            tests.push(Value::Mapping(av));
                        }
                        if !tests.is_empty() {
                            m.insert(s("data_tests"), Value::Sequence(tests));
                        }
                        let mut meta = Mapping::new();
                        if let Some(cl) = &col.classification {
                            meta.insert(s("classification"), s(cl));
                        }
                        if let Some(lt) = &col.logical_type {
                            meta.insert(s("logical_type"), s(lt));
                        }
                        if !meta.is_empty() {
                            m.insert(s("meta"), Value::Mapping(meta));
                        }
                        columns.push(Value::Mapping(m));
                    }
                    let mut tm = Mapping::new();
                    tm.insert(s("name"), s(&t.name));
                    if let Some(desc) = t.description.clone().or(c.description.purpose.clone()) {
                        tm.insert(s("description"), s(&desc));
                    }
                    let mut meta = Mapping::new();
                    meta.insert(s("data_product"), s(&p.key()));
                    if let Some(id) = &c.id {
                        meta.insert(s("contract_id"), s(id));
                    }
                    if let Some(v) = &c.version {
                        meta.insert(s("contract_version"), s(v));
                    }
                    if let Some(o) = p.owner() {
                        meta.insert(s("owner"), s(&o));
                    }
                    tm.insert(s("meta"), Value::Mapping(meta));
                    tm.insert(s("columns"), Value::Sequence(columns));
                    tables.push(Value::Mapping(tm));
                }
            }
        }
        if tables.is_empty() {
            continue;
        }
        let mut src = Mapping::new();
        src.insert(s("name"), s(&d.name));
        src.insert(s("schema"), s(&d.name));
        if let Some(desc) = &d.description {
            src.insert(s("description"), s(desc));
        }
        src.insert(s("tables"), Value::Sequence(tables));
        sources.push(Value::Mapping(src));
    }
    let mut root = Mapping::new();
    root.insert(s("version"), Value::Number(2.into()));
    root.insert(s("sources"), Value::Sequence(sources));
    format!(
        "# dbt sources exported by meshbox from {} — one source per domain, tests from the contracts.\n{}",
        catalog.name,
        to_yaml(&Value::Mapping(root))
    )
}

fn sql_comment(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// DuckDB (ANSI where it can be) DDL: a schema per domain, a table per schema object, keys and NOT NULL from the
/// contract, descriptions as comments.
pub fn ddl(catalog: &Catalog) -> String {
    let mut out = format!("-- DDL exported by meshbox from {}.\n", catalog.name);
    for d in &catalog.domains {
        let tables: Vec<_> = catalog
            .products_in(&d.name)
            .flat_map(|p| {
                p.contracts
                    .iter()
                    .flat_map(move |c| c.tables.iter().map(move |t| (p, c, t)))
            })
            .collect();
        if tables.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\nCREATE SCHEMA IF NOT EXISTS {};", quote_ident(&d.name));
        for (p, c, t) in tables {
            let name = format!("{}.{}", quote_ident(&d.name), quote_ident(&t.name));
            let _ = writeln!(
                out,
                "\n-- {} ({}{})",
                p.key(),
                c.id.as_deref().unwrap_or("contract without id"),
                c.version.as_deref().map(|v| format!(" v{v}")).unwrap_or_default()
            );
            let mut lines: Vec<String> = t
                .columns
                .iter()
                .map(|col| {
                    let ty = crate::model::types::declared_type(col)
                        .sql
                        .unwrap_or_else(|| "VARCHAR".into());
                    let not_null = if col.required || col.primary_key {
                        " NOT NULL"
                    } else {
                        ""
                    };
                    let unique = if col.unique && !col.primary_key { " UNIQUE" } else { "" };
                    format!("    {} {ty}{not_null}{unique}", quote_ident(&col.name))
                })
                .collect();
            let mut keys: Vec<(i64, &str)> = t
                .columns
                .iter()
                .enumerate()
                .filter(|(_, c)| c.primary_key)
                .map(|(i, c)| (c.primary_key_position.unwrap_or(i as i64), c.name.as_str()))
                .collect();
            keys.sort();
            if !keys.is_empty() {
                lines.push(format!(
                    "    PRIMARY KEY ({})",
                    keys.iter().map(|(_, n)| quote_ident(n)).collect::<Vec<_>>().join(", ")
                ));
            }
            let _ = writeln!(out, "CREATE TABLE {name} (\n{}\n);", lines.join(",\n"));
            if let Some(desc) = t.description.clone().or(c.description.purpose.clone()) {
                let _ = writeln!(out, "COMMENT ON TABLE {name} IS {};", sql_comment(&desc));
            }
            for col in t.columns.iter().filter(|c| c.description.is_some()) {
                let _ = writeln!(
                    out,
                    "COMMENT ON COLUMN {name}.{} IS {};",
                    quote_ident(&col.name),
                    sql_comment(col.description.as_deref().unwrap_or_default())
                );
            }
        }
    }
    out
}

fn md(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// One Markdown document: domains, products (owner, purpose, ports), and each table's columns.
pub fn markdown(catalog: &Catalog) -> String {
    let mut out = format!("# {}\n\n", catalog.name);
    if let Some(d) = &catalog.description {
        let _ = writeln!(out, "{d}\n");
    }
    for d in &catalog.domains {
        let _ = writeln!(out, "## {}\n", d.display_title());
        if let Some(o) = d.owner() {
            let _ = writeln!(out, "Owned by **{o}**.\n");
        }
        for p in catalog.products_in(&d.name) {
            let _ = writeln!(out, "### {} (`{}`)\n", p.title(), p.key());
            let desc = p.description();
            if let Some(x) = &desc.purpose {
                let _ = writeln!(out, "{x}\n");
            }
            let mut facts = Vec::new();
            if let Some(o) = p.owner() {
                facts.push(format!("owner: {o}"));
            }
            if let Some(t) = p.product_type() {
                facts.push(format!("type: {t}"));
            }
            if let Some(s) = p.lifecycle() {
                facts.push(format!("status: {s}"));
            }
            let inputs = p.input_contract_ids();
            if !inputs.is_empty() {
                facts.push(format!("consumes: {}", inputs.join(", ")));
            }
            if !facts.is_empty() {
                let _ = writeln!(out, "- {}\n", facts.join("\n- "));
            }
            for c in &p.contracts {
                for t in &c.tables {
                    let _ = writeln!(
                        out,
                        "#### `{}.{}`{}\n",
                        p.domain,
                        t.name,
                        c.version
                            .as_deref()
                            .map(|v| format!(" — contract v{v}"))
                            .unwrap_or_default()
                    );
                    let _ = writeln!(
                        out,
                        "| column | type | required | classification | description |\n|---|---|---|---|---|"
                    );
                    for col in &t.columns {
                        let _ = writeln!(
                            out,
                            "| `{}` | {} | {} | {} | {} |",
                            col.name,
                            col.logical_type.as_deref().unwrap_or(""),
                            if col.required { "yes" } else { "" },
                            col.classification.as_deref().unwrap_or(""),
                            md(col.description.as_deref().unwrap_or(""))
                        );
                    }
                    out.push('\n');
                }
            }
        }
    }
    out
}
