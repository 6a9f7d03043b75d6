//! Discovery pages and their JSON twins: `/search` (results update while typing), `/lineage` (the mesh map),
//! `/glossary` (the mesh's shared vocabulary, as the caller's role may see it) and
//! `GET /api/products/{domain}/{product}/impact`.

use super::pages::{Chrome, render};
use super::{AppError, AppState, Caller};
use crate::discovery::glossary::Glossary;
use crate::discovery::search::{FACETS, Filter, Results};
use askama::Template;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

/// Runs a search from query parameters: `q`, one parameter per facet, `limit`.
pub fn run_search(st: &AppState, params: &HashMap<String, String>) -> Result<Results, AppError> {
    let q = params.get("q").map(String::as_str).unwrap_or("");
    if q.len() > 500 {
        return Err(AppError::new(
            axum::http::StatusCode::BAD_REQUEST,
            "bad_request",
            "the search text is longer than 500 characters",
        ));
    }
    let filters: Vec<Filter> = FACETS
        .iter()
        .filter_map(|f| {
            params.get(*f).filter(|v| !v.is_empty()).map(|v| Filter {
                facet: f.to_string(),
                value: v.clone(),
            })
        })
        .collect();
    let limit = params
        .get("limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(20usize)
        .clamp(1, 200);
    let recent = st.usage.recent_all(crate::governance::audit::now_ms());
    st.mesh
        .search()
        .search(q, &filters, limit, &|key| recent.get(key).copied().unwrap_or(0))
        .map_err(AppError::internal)
}

/// `GET /api/search?q=&domain=&tag=&owner=&classification=&type=&compliance=&health=&limit=`.
pub async fn search(
    State(st): State<Arc<AppState>>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<Value>, AppError> {
    let r = run_search(&st, &params)?;
    serde_json::to_value(&r).map(Json).map_err(AppError::internal)
}

/// A facet value on the page: the link that toggles it.
struct FacetLink {
    value: String,
    count: usize,
    active: bool,
    href: String,
}

struct FacetGroup {
    name: &'static str,
    links: Vec<FacetLink>,
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    chrome: Chrome,
    q: String,
    r: Results,
    facets: Vec<FacetGroup>,
    active: Vec<(String, String, String)>,
}

fn href(params: &HashMap<String, String>, toggle: Option<(&str, &str)>) -> String {
    let mut pairs: Vec<(String, String)> = params
        .iter()
        .filter(|(k, v)| (k.as_str() == "q" || FACETS.contains(&k.as_str())) && !v.is_empty())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if let Some((facet, value)) = toggle {
        match pairs.iter().position(|(k, v)| k == facet && v == value) {
            Some(i) => {
                pairs.remove(i);
            }
            None => {
                pairs.retain(|(k, _)| k != facet);
                pairs.push((facet.to_string(), value.to_string()));
            }
        }
    }
    pairs.sort();
    format!("/search?{}", serde_urlencoded::to_string(&pairs).unwrap_or_default())
}

pub async fn search_page(
    State(st): State<Arc<AppState>>,
    caller: Caller,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let r = run_search(&st, &params).map_err(AppError::page)?;
    let facets = r
        .facets
        .iter()
        .map(|(name, values)| FacetGroup {
            name,
            links: values
                .iter()
                .take(12)
                .map(|(v, n)| FacetLink {
                    active: params.get(*name) == Some(v),
                    href: href(&params, Some((name, v))),
                    value: v.clone(),
                    count: *n,
                })
                .collect(),
        })
        .filter(|g| !g.links.is_empty())
        .collect();
    let active = FACETS
        .iter()
        .filter_map(|f| {
            params
                .get(*f)
                .filter(|v| !v.is_empty())
                .map(|v| (f.to_string(), v.clone(), href(&params, Some((f, v)))))
        })
        .collect();
    let q = params.get("q").cloned().unwrap_or_default();
    let json_url = href(&params, None).replacen("/search", "/api/search", 1);
    render(&SearchPage {
        chrome: Chrome::new(&st, &caller, "search", json_url).at(&href(&params, None)),
        q,
        r,
        facets,
        active,
    })
}

/// `GET /api/lineage`: every product and dependency, and the cycles.
pub async fn lineage(State(st): State<Arc<AppState>>) -> Result<Json<Value>, AppError> {
    let s = st.mesh.snapshot();
    serde_json::to_value(&*s.lineage).map(Json).map_err(AppError::internal)
}

#[derive(Template)]
#[template(path = "lineage.html")]
struct LineagePage {
    chrome: Chrome,
    svg: String,
    products: usize,
    edges: usize,
    cycles: Vec<Vec<String>>,
    domains: Vec<(String, usize)>,
}

pub async fn lineage_page(State(st): State<Arc<AppState>>, caller: Caller) -> Result<Response, AppError> {
    let s = st.mesh.snapshot();
    let l = &s.lineage;
    render(&LineagePage {
        chrome: Chrome::new(&st, &caller, "lineage", "/api/lineage".into()).at("/lineage"),
        svg: l.svg(None),
        products: s.catalog.products.len(),
        edges: l.edges.len(),
        cycles: l.cycles.clone(),
        domains: s
            .catalog
            .domains
            .iter()
            .map(|d| (d.name.clone(), s.catalog.products_in(&d.name).count()))
            .collect(),
    })
}

/// The glossary of the products `caller` may read: the rule of the `mesh.*` metadata tables — a product the role may
/// not read (its level, the contract's roles, quarantine) is left out, with every term, synonym and definition only it
/// carries.
fn glossary_for(st: &AppState, caller: &Caller) -> Glossary {
    let s = st.mesh.snapshot();
    Glossary::of(&s.catalog, &|p| s.decide(&caller.role, p).granted)
}

/// `GET /api/glossary`: every term, its synonyms, definitions and carriers, and the synonym index.
pub async fn glossary(State(st): State<Arc<AppState>>, caller: Caller) -> Result<Json<Value>, AppError> {
    serde_json::to_value(glossary_for(&st, &caller))
        .map(Json)
        .map_err(AppError::internal)
}

#[derive(Template)]
#[template(path = "glossary.html")]
struct GlossaryPage {
    chrome: Chrome,
    g: Glossary,
    /// Products of the mesh in all (the glossary may show fewer to this role).
    all_products: usize,
}

pub async fn glossary_page(State(st): State<Arc<AppState>>, caller: Caller) -> Result<Response, AppError> {
    let all_products = st.mesh.snapshot().catalog.products.len();
    render(&GlossaryPage {
        chrome: Chrome::new(&st, &caller, "glossary", "/api/glossary".into()).at("/glossary"),
        g: glossary_for(&st, &caller),
        all_products,
    })
}

/// `GET /api/products/{domain}/{product}/impact[?column=table.column]`: the products downstream and their owners.
pub async fn impact(
    State(st): State<Arc<AppState>>,
    Path((domain, name)): Path<(String, String)>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<Value>, AppError> {
    let column = params.get("column").map(String::as_str);
    impact_of(&st.mesh.snapshot(), &domain, &name, column).map(Json)
}

/// The products downstream of `domain/name` and their owners; with `column` (`table.column` or `column`), only the
/// consumers of the contracts declaring that column.
pub fn impact_of(
    s: &crate::live::snapshot::Snapshot,
    domain: &str,
    name: &str,
    column: Option<&str>,
) -> Result<Value, AppError> {
    let p = super::models::find_product(s, domain, name)?;
    let l = &s.lineage;
    let start = l
        .index_of(&p.key())
        .ok_or_else(|| AppError::internal("a product missing from the lineage"))?;
    let column = column.filter(|c| !c.is_empty());
    let contracts: Option<Vec<String>> = match column {
        None => None,
        Some(c) => {
            let (table, col) = c.split_once('.').unwrap_or(("", c));
            let declares = |k: &crate::model::manifest::odcs::Contract| {
                k.tables
                    .iter()
                    .any(|t| (table.is_empty() || t.name == table) && t.columns.iter().any(|x| x.name == col))
            };
            if !p.contracts.iter().any(declares) {
                return Err(AppError::not_found(format!("{domain}/{name} declares no column `{c}`")));
            }
            Some(
                p.contracts
                    .iter()
                    .filter(|&k| declares(k))
                    .filter_map(|k| k.id.clone())
                    .collect(),
            )
        }
    };
    let impacted = l.impact(start, contracts.as_deref());
    let owners: Vec<String> = {
        let mut o: Vec<String> = impacted.iter().filter_map(|i| i.owner.clone()).collect();
        o.sort();
        o.dedup();
        o
    };
    Ok(json!({
        "product": p.key(),
        "column": column,
        "level": if column.is_some() { "column (consumers of the contract declaring it)" } else { "product" },
        "impacted": impacted,
        "owners": owners,
    }))
}
