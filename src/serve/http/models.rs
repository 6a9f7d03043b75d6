//! One view model per page: each HTML page and its JSON twin under `/api` compute the same value here, once — the
//! same lookup, the same 404 — then `pages` renders it and `api` serializes it.

use super::views::{DomainView, MeshView, Problem, ProductDetail, ProductSummary, Viewer, problems};
use super::{AppError, AppState, Caller};
use crate::live::snapshot::Snapshot;
use crate::model::catalog::{Domain, Product};
use std::sync::Arc;

/// The product `domain/name` of the snapshot, or the one 404 every route answers for a product that is not there.
pub fn find_product<'a>(s: &'a Snapshot, domain: &str, name: &str) -> Result<&'a Arc<Product>, AppError> {
    s.catalog
        .product(domain, name)
        .ok_or_else(|| AppError::not_found(format!("There is no product `{domain}/{name}`.")))
}

/// The domain `name` of the snapshot, or the one 404 for a domain that is not there.
pub fn find_domain<'a>(s: &'a Snapshot, name: &str) -> Result<&'a Domain, AppError> {
    s.catalog
        .domain(name)
        .ok_or_else(|| AppError::not_found(format!("There is no domain `{name}`.")))
}

/// `/` and `/api/mesh`: the mesh, its domains and recent rebuilds, as the caller's role sees them.
pub fn mesh(st: &AppState, caller: &Caller) -> MeshView {
    MeshView::with_history(&st.mesh.snapshot(), &st.mesh.history(), &caller.role)
}

/// `/domains/{d}` and `/api/domains/{d}`.
pub fn domain(st: &AppState, name: &str) -> Result<DomainView, AppError> {
    let s = st.mesh.snapshot();
    Ok(DomainView::of(find_domain(&s, name)?, &s))
}

/// `/products/{d}/{p}` and `/api/products/{d}/{p}`: the product with its checks, lineage, impact, usage and
/// changelog, as the caller's role may see them.
pub fn product(st: &AppState, caller: &Caller, domain: &str, name: &str) -> Result<ProductDetail, AppError> {
    let s = st.mesh.snapshot();
    let p = find_product(&s, domain, name)?;
    let viewer = Viewer {
        role: &caller.role,
        salt: st.mesh.salt(),
    };
    Ok(ProductDetail::of(p, &s, &viewer)
        .with_discovery(p, &s, &st.usage)
        .with_changelog(p, &s, st.mesh.opts.state_dir.as_deref()))
}

/// `/api/products`: every product's summary.
pub fn products(st: &AppState) -> Vec<ProductSummary> {
    let s = st.mesh.snapshot();
    s.catalog.products.iter().map(|p| ProductSummary::of(p, &s)).collect()
}

/// `/problems` and `/api/problems`, as the caller's role may see them.
pub fn all_problems(st: &AppState, caller: &Caller) -> Vec<Problem> {
    problems(&st.mesh.snapshot(), &caller.role)
}
