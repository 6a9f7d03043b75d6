//! The MCP tools that read the catalog: each one is a JSON API answer for the caller's role (`serve::http`'s own
//! functions: search, product detail, impact, problems, compliance, the `/source` reader), trimmed for a model's
//! context — fields are only ever removed, never added from data the API would not show that role.

use super::tools::{Answer, Refusal, ToolResult, count, required, text};
use crate::serve::http::{AppError, AppState, Caller};
use rmcp::model::JsonObject;
use serde_json::{Value, json};
use std::collections::HashMap;

fn to_value<T: serde::Serialize>(v: &T) -> Result<Value, Refusal> {
    serde_json::to_value(v).map_err(|e| AppError::internal(e).into())
}

/// `search_products`: `GET /api/search`, each hit marked with whether the role may read it.
pub fn search(st: &AppState, caller: &Caller, args: &JsonObject) -> ToolResult {
    let mut params: HashMap<String, String> = HashMap::new();
    if let Some(q) = text(args, "query") {
        params.insert("q".into(), q.to_string());
    }
    for facet in crate::discovery::search::FACETS {
        if let Some(v) = text(args, facet) {
            params.insert(facet.to_string(), v.to_string());
        }
    }
    params.insert("limit".into(), count(args, "limit", 10, 50)?.to_string());
    let results = crate::serve::http::run_search(st, &params)?;
    let s = st.mesh.snapshot();
    let mut data = to_value(&results)?;
    if let Some(hits) = data["hits"].as_array_mut() {
        for hit in hits {
            let readable = hit["key"]
                .as_str()
                .and_then(|k| k.split_once('/'))
                .and_then(|(d, n)| s.catalog.product(d, n))
                .is_some_and(|p| s.decide(&caller.role, p).granted);
            hit["readable"] = readable.into();
        }
    }
    let keys: Vec<&str> = results.hits.iter().map(|h| h.key.as_str()).collect();
    Ok(Answer {
        summary: format!(
            "{} product(s) match{}: {}",
            results.total,
            if results.hits.len() < results.total {
                format!(" (first {} shown)", results.hits.len())
            } else {
                String::new()
            },
            keys.join(", ")
        ),
        data,
        products: Vec::new(),
    })
}

/// The fields of a product's API answer a model does not need (links for browsers, drawn charts' data).
const BROWSER_FIELDS: [&str; 4] = ["console_url", "csv_url", "json_url", "profile"];

/// `get_product`: `GET /api/products/{domain}/{product}` for the role, without browser links and column profiles
/// (`explain_column` gives those), with the terms of use first.
pub fn product(st: &AppState, caller: &Caller, args: &JsonObject) -> ToolResult {
    let (domain, name) = (required(args, "domain")?, required(args, "product")?);
    let detail = crate::serve::http::product_detail(st, caller, domain, name)?;
    let mut data = to_value(&detail)?;
    if let Some(tables) = data["table_details"].as_array_mut() {
        for t in tables.iter_mut().filter_map(Value::as_object_mut) {
            for field in BROWSER_FIELDS {
                t.remove(field);
            }
        }
    }
    let s = st.mesh.snapshot();
    let p = crate::serve::http::find_product(&s, domain, name)?;
    let terms = super::terms::of_product(&s, &caller.role, p);
    let summary = format!(
        "{} ({}), owned by {}: {}. Role `{}` {} read its data ({}).",
        p.title(),
        p.key(),
        p.owner().unwrap_or_else(|| "no declared team".into()),
        p.description().purpose.unwrap_or_else(|| "no declared purpose".into()),
        caller.role.name,
        if detail.access.granted { "may" } else { "may not" },
        detail.access.reason
    );
    Ok(Answer {
        summary,
        data: json!({"terms_of_use": terms, "product": data}),
        products: vec![p.key()],
    })
}

/// `get_contract`: an ODCS file of the product, read as `/source` reads it (regular file below the mesh root,
/// capped in size).
pub async fn contract(st: &AppState, args: &JsonObject) -> ToolResult {
    let (domain, name) = (required(args, "domain")?, required(args, "product")?);
    let wanted = text(args, "contract");
    let s = st.mesh.snapshot();
    let p = crate::serve::http::find_product(&s, domain, name)?;
    let root = s.catalog.root.clone();
    let rel = |c: &crate::model::manifest::odcs::Contract| {
        c.doc.file.strip_prefix(&root).unwrap_or(&c.doc.file).to_path_buf()
    };
    let chosen: Vec<&crate::model::manifest::odcs::Contract> = p
        .contracts
        .iter()
        .filter(|c| {
            wanted.is_none_or(|w| {
                c.id.as_deref() == Some(w) || c.name.as_deref() == Some(w) || rel(c).to_string_lossy() == w
            })
        })
        .collect();
    let names: Vec<String> = p
        .contracts
        .iter()
        .map(|c| c.id.clone().unwrap_or_else(|| c.title()))
        .collect();
    let c = match chosen.as_slice() {
        [one] => *one,
        [] if p.contracts.is_empty() => return Err(Refusal::new("not_found", format!("{} has no contract", p.key()))),
        [] => {
            return Err(Refusal::new(
                "not_found",
                format!(
                    "{} has no contract `{}`; its contracts are {}",
                    p.key(),
                    wanted.unwrap_or(""),
                    names.join(", ")
                ),
            ));
        }
        _ => {
            return Err(Refusal::new(
                "bad_request",
                format!(
                    "{} has several contracts; name one with `contract`: {}",
                    p.key(),
                    names.join(", ")
                ),
            ));
        }
    };
    let file = rel(c);
    let bytes = crate::serve::http::read_manifest(root.clone(), file.clone())
        .await
        .map_err(|e| Refusal::new("not_found", format!("`{}` is not shown: {e}", file.display())))?;
    let yaml = String::from_utf8_lossy(&bytes).into_owned();
    Ok(Answer {
        summary: format!(
            "{} of {}: {} ({} lines)",
            c.title(),
            p.key(),
            file.display(),
            yaml.lines().count()
        ),
        data: json!({
            "product": p.key(),
            "contract": c.id,
            "name": c.title(),
            "version": c.version,
            "file": file.display().to_string(),
            "yaml": yaml,
        }),
        products: vec![p.key()],
    })
}

/// The served tables (JSON, from the product's API answer) holding a column named `column`, in table `table` when
/// given.
fn tables_with<'a>(detail: &'a Value, table: Option<&str>, column: &str) -> Vec<&'a Value> {
    detail["table_details"]
        .as_array()
        .map(|tables| {
            tables
                .iter()
                .filter(|t| table.is_none_or(|want| t["name"] == want))
                .filter(|t| {
                    t["columns"]
                        .as_array()
                        .is_some_and(|cs| cs.iter().any(|c| c["name"] == column))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// `explain_column`: the column as the product's API answer shows it to the role (definition, classification,
/// mask, synonyms, profile), with the product producing it and the column-level impact (who consumes it).
pub fn column(st: &AppState, caller: &Caller, args: &JsonObject) -> ToolResult {
    let (domain, name) = (required(args, "domain")?, required(args, "product")?);
    let asked = required(args, "column")?;
    let (table, column) = match (text(args, "table"), asked.split_once('.')) {
        (Some(t), _) => (Some(t), asked),
        (None, Some((t, c))) => (Some(t), c),
        (None, None) => (None, asked),
    };
    let detail = to_value(&crate::serve::http::product_detail(st, caller, domain, name)?)?;
    let found = tables_with(&detail, table, column);
    let t = match found.as_slice() {
        [one] => *one,
        [] => {
            return Err(Refusal::new(
                "not_found",
                format!("{domain}/{name} serves no column `{asked}`; get_product lists its tables and columns"),
            ));
        }
        several => {
            let names: Vec<&str> = several.iter().filter_map(|t| t["name"].as_str()).collect();
            return Err(Refusal::new(
                "bad_request",
                format!(
                    "tables {} of {domain}/{name} all have a column `{column}`; name the table",
                    names.join(", ")
                ),
            ));
        }
    };
    let table_name = t["name"].as_str().unwrap_or_default().to_string();
    let pick = |list: &Value| {
        list.as_array()
            .and_then(|l| l.iter().find(|c| c["name"] == column))
            .cloned()
    };
    let definition = pick(&t["columns"]).unwrap_or(Value::Null);
    let profile = pick(&t["profile"]);
    let s = st.mesh.snapshot();
    let qualified = format!("{table_name}.{column}");
    let consumers = crate::serve::http::impact_of(&s, domain, name, Some(qualified.as_str()))
        .unwrap_or_else(|e| json!({"note": e.message}));
    let summary = format!(
        "{domain}/{name} {table_name}.{column}: {}{}",
        definition["description"].as_str().unwrap_or("no declared description"),
        match definition["masked"].as_str() {
            Some(m) => format!(" (role `{}` sees it masked: {m})", caller.role.name),
            None => String::new(),
        }
    );
    Ok(Answer {
        summary,
        data: json!({
            "product": format!("{domain}/{name}"),
            "table": t["sql_name"],
            "column": definition,
            "profile": profile,
            "produced_by": {"product": format!("{domain}/{name}"), "owner": detail["owner"], "contract_file": t["contract_file"]},
            "consumed_by": consumers,
        }),
        products: vec![format!("{domain}/{name}")],
    })
}

/// `impact`: `GET /api/products/{domain}/{product}/impact[?column=]`.
pub fn impact(st: &AppState, args: &JsonObject) -> ToolResult {
    let (domain, name) = (required(args, "domain")?, required(args, "product")?);
    let data = crate::serve::http::impact_of(&st.mesh.snapshot(), domain, name, text(args, "column"))?;
    let impacted: Vec<&str> = data["impacted"]
        .as_array()
        .map(|l| l.iter().filter_map(|i| i["key"].as_str()).collect())
        .unwrap_or_default();
    let owners: Vec<&str> = data["owners"]
        .as_array()
        .map(|l| l.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let summary = if impacted.is_empty() {
        format!("nothing downstream of {domain}/{name}")
    } else {
        format!(
            "{} product(s) downstream of {domain}/{name}: {}; owners: {}",
            impacted.len(),
            impacted.join(", "),
            owners.join(", ")
        )
    };
    let products = vec![format!("{domain}/{name}")];
    Ok(Answer {
        summary,
        data,
        products,
    })
}

/// `list_problems`: `GET /api/problems` for the role, optionally one domain's, at most `limit`.
pub fn problems(st: &AppState, caller: &Caller, args: &JsonObject) -> ToolResult {
    let domain = text(args, "domain");
    let limit = count(args, "limit", 50, 200)?;
    let all = crate::serve::http::all_problems(st, caller);
    let prefix = domain.map(|d| format!("{d}/"));
    let matching: Vec<_> = all
        .iter()
        .filter(|p| {
            prefix
                .as_ref()
                .is_none_or(|pre| p.product.as_deref().is_some_and(|k| k.starts_with(pre)))
        })
        .collect();
    let errors = matching.iter().filter(|p| p.severity == "error").count();
    let shown: Vec<_> = matching.iter().take(limit).collect();
    Ok(Answer {
        summary: format!(
            "{} problem(s), {errors} error(s){}",
            matching.len(),
            if shown.len() < matching.len() {
                format!("; first {} shown", shown.len())
            } else {
                String::new()
            }
        ),
        data: json!({"total": matching.len(), "errors": errors, "problems": to_value(&shown)?}),
        products: Vec::new(),
    })
}

/// `compliance`: `GET /api/compliance`, optionally one domain's or one product's rows.
pub fn compliance(st: &AppState, args: &JsonObject) -> ToolResult {
    let domain = text(args, "domain");
    let product = text(args, "product");
    let view = crate::serve::http::ComplianceView::of(&st.mesh.snapshot());
    let mut data = to_value(&view)?;
    let keep = |row: &Value| {
        domain.is_none_or(|d| row["domain"] == d)
            && product.is_none_or(|p| row["product"].is_null() || row["product"] == p)
    };
    for list in ["matrix", "violations", "domains"] {
        if let Some(rows) = data[list].as_array_mut() {
            rows.retain(&keep);
        }
    }
    let summary = format!(
        "{} of {} product(s) compliant; {} error(s), {} warning(s); non-compliant products are {}",
        view.compliant,
        view.products,
        view.errors,
        view.warnings,
        if view.non_compliant == "quarantine" {
            "quarantined"
        } else {
            "flagged"
        }
    );
    Ok(Answer {
        summary,
        data,
        products: Vec::new(),
    })
}
