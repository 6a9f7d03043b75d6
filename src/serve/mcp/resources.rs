//! MCP resources and prompts: every product's ODCS contracts and ODPS descriptor as written (read as `/source` reads
//! them), and the `mesh_naming` prompt that teaches a model the mesh's names (`domain.table`) and the terms of use of
//! what its role reads.

use crate::live::snapshot::Snapshot;
use crate::serve::http::{AppState, Caller};
use rmcp::ErrorData;
use rmcp::model::{
    GetPromptResult, Prompt, PromptMessage, ReadResourceResult, Resource, ResourceContents, Role as MessageRole,
};
use std::path::PathBuf;

/// The address of a manifest: `meshbox://manifest/<path below the mesh root>`.
const SCHEME: &str = "meshbox://manifest/";

/// The prompt's name.
const NAMING: &str = "mesh_naming";

/// One manifest a resource stands for: its path below the mesh root, the product, and what kind it is.
struct Manifest {
    file: PathBuf,
    product: String,
    kind: &'static str,
    title: String,
}

/// Every contract and descriptor of the current snapshot.
fn manifests(s: &Snapshot) -> Vec<Manifest> {
    let root = &s.catalog.root;
    let rel = |p: &std::path::Path| p.strip_prefix(root).unwrap_or(p).to_path_buf();
    let mut out = Vec::new();
    for p in &s.catalog.products {
        if let Some(d) = &p.descriptor {
            out.push(Manifest {
                file: rel(&d.doc.file),
                product: p.key(),
                kind: "ODPS descriptor",
                title: p.title(),
            });
        }
        for c in &p.contracts {
            out.push(Manifest {
                file: rel(&c.doc.file),
                product: p.key(),
                kind: "ODCS contract",
                title: c.title(),
            });
        }
    }
    out
}

/// The resources: one per contract and descriptor (metadata, shown to every role as the catalog's `/source` does).
pub fn list(st: &AppState) -> Vec<Resource> {
    manifests(&st.mesh.snapshot())
        .into_iter()
        .map(|m| {
            let path = m.file.display().to_string();
            Resource::new(format!("{SCHEME}{path}"), path)
                .with_title(format!("{}: {} of {}", m.title, m.kind, m.product))
                .with_description(format!("The {} of the data product {}, as written.", m.kind, m.product))
                .with_mime_type("application/yaml")
        })
        .collect()
}

/// Reads one resource: only a manifest of the current snapshot, through the `/source` reader (a regular file below
/// the mesh root, never through a symlink, capped in size).
pub async fn read(st: &AppState, _caller: &Caller, uri: &str) -> Result<ReadResourceResult, ErrorData> {
    let not_found = || ErrorData::resource_not_found(format!("`{uri}` is not a manifest of this mesh"), None);
    let wanted = PathBuf::from(uri.strip_prefix(SCHEME).ok_or_else(not_found)?);
    let s = st.mesh.snapshot();
    if crate::serve::http::source::plain_parts(&wanted).is_none() || !manifests(&s).iter().any(|m| m.file == wanted) {
        return Err(not_found());
    }
    let bytes = crate::serve::http::read_manifest(s.catalog.root.clone(), wanted.clone())
        .await
        .map_err(|e| ErrorData::resource_not_found(format!("`{uri}` is not shown: {e}"), None))?;
    let text = String::from_utf8_lossy(&bytes).into_owned();
    Ok(ReadResourceResult::new(vec![
        ResourceContents::text(text, uri).with_mime_type("application/yaml"),
    ]))
}

/// The prompts this server offers.
pub fn prompts() -> Vec<Prompt> {
    vec![
        Prompt::new(
            NAMING,
            Some("How this data mesh names things (`domain.table`), and what your role may read on which terms."),
            None,
        )
        .with_title("The mesh's naming"),
    ]
}

/// The prompt `name` for `caller`.
pub fn prompt(st: &AppState, caller: &Caller, name: &str) -> Result<GetPromptResult, ErrorData> {
    if name != NAMING {
        return Err(ErrorData::invalid_params(
            format!("no prompt named `{name}`; the prompts are {NAMING}"),
            None,
        ));
    }
    let s = st.mesh.snapshot();
    Ok(GetPromptResult::new(vec![PromptMessage::new_text(
        MessageRole::User,
        naming_text(&s, caller),
    )])
    .with_description("The mesh's names and the terms of use of what this role reads"))
}

/// The text of `mesh_naming`: the rules, each domain with the tables the role may read, and their terms of use.
fn naming_text(s: &Snapshot, caller: &Caller) -> String {
    let mut text = String::from(
        "You are working with a data mesh served by meshbox. Its names:\n\
         - A domain (e.g. `sales`) owns data products; a product is named `domain/product` (e.g. `sales/orders`) in \
         the catalog and in the tools' `domain` and `product` arguments.\n\
         - Each product serves tables. In SQL a table is named `domain.table` (the domain is the schema), e.g. \
         `SELECT * FROM sales.orders LIMIT 10`. Quote names that are not plain identifiers: \"my-domain\".\"table\".\n\
         - Columns are described in the product's ODCS contract (`get_product`, `explain_column`, `get_contract`).\n\
         - Metadata tables under `mesh.` (e.g. `mesh.products`, `mesh.columns`) describe the products your role \
         may read.\n\
         - Classified columns come back masked for roles that may not see them: do not try to recover the values.\n",
    );
    text.push_str(&format!("\nYou act as the role `{}`.", caller.role.name));
    for d in &s.catalog.domains {
        let tables: Vec<String> = s
            .catalog
            .products_in(&d.name)
            .filter(|p| s.decide(&caller.role, p).granted)
            .flat_map(|p| p.tables.iter().map(crate::model::catalog::Table::sql_name))
            .collect();
        if !tables.is_empty() {
            text.push_str(&format!("\n- domain `{}`: {}", d.name, tables.join(", ")));
        }
    }
    text.push_str("\n\n");
    text.push_str(&super::terms::overview(s, &caller.role));
    text
}
