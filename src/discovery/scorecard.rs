//! The data product scorecard: the six usability attributes of a data product (discoverable, addressable,
//! trustworthy, self-describing, interoperable, secure), each scored from what the product declares and what its
//! checks show, with what to fix for every missing point.

use crate::checks::{Category, CheckStatus};
use crate::model::catalog::{Product, Status};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Criterion {
    pub met: bool,
    pub what: String,
    /// What to change to earn the point (None when met).
    pub fix: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Attribute {
    pub name: &'static str,
    pub question: &'static str,
    pub score: usize,
    pub max: usize,
    pub criteria: Vec<Criterion>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Scorecard {
    pub score: usize,
    pub max: usize,
    pub attributes: Vec<Attribute>,
}

fn criterion(met: bool, what: impl Into<String>, fix: impl Into<String>) -> Criterion {
    Criterion {
        met,
        what: what.into(),
        fix: if met { None } else { Some(fix.into()) },
    }
}

fn attribute(name: &'static str, question: &'static str, criteria: Vec<Criterion>) -> Attribute {
    Attribute {
        name,
        question,
        score: criteria.iter().filter(|c| c.met).count(),
        max: criteria.len(),
        criteria,
    }
}

/// At most five names, then "and N more".
fn some(names: &[String]) -> String {
    let mut s = names.iter().take(5).cloned().collect::<Vec<_>>().join(", ");
    if names.len() > 5 {
        s.push_str(&format!(" and {} more", names.len() - 5));
    }
    s
}

pub fn score(p: &Product) -> Scorecard {
    let desc = p.description();
    let columns: Vec<(&crate::model::manifest::odcs::Column, &str)> = p
        .contracts
        .iter()
        .flat_map(|c| {
            c.tables
                .iter()
                .flat_map(|t| t.columns.iter().map(move |col| (col, t.name.as_str())))
        })
        .collect();
    let missing = |f: &dyn Fn(&crate::model::manifest::odcs::Column) -> bool| -> Vec<String> {
        columns
            .iter()
            .filter(|(c, _)| !f(c))
            .map(|(c, t)| format!("{t}.{}", c.name))
            .collect()
    };
    let undescribed = missing(&|c| c.description.as_deref().is_some_and(|d| !d.trim().is_empty()));
    let untyped = missing(&|c| c.logical_type.is_some() || c.physical_type.is_some());
    let unclassified = missing(&|c| c.classification.is_some());
    let descriptor = p.descriptor.as_ref();
    let contracts_identified =
        !p.contracts.is_empty() && p.contracts.iter().all(|c| c.id.is_some() && c.version.is_some());
    let ports_resolve = descriptor.is_some_and(|d| {
        !d.output_ports.is_empty()
            && d.output_ports.iter().all(|o| {
                o.contract_id
                    .as_deref()
                    .is_some_and(|id| p.contracts.iter().any(|c| c.id.as_deref() == Some(id)))
            })
    });
    let quality_rules = p.contracts.iter().any(|c| {
        c.tables
            .iter()
            .any(|t| !t.quality.is_empty() || t.columns.iter().any(|col| !col.quality.is_empty()))
    });
    let blocking_fail = p
        .checks
        .iter()
        .any(|c| matches!(c.status, CheckStatus::Fail | CheckStatus::Error));
    let sla_checks: Vec<_> = p
        .checks
        .iter()
        .filter(|c| c.category == Category::Servicelevel && c.kind == "servicelevel_freshness")
        .collect();
    let known_versions = p.contracts.iter().all(|c| {
        c.api_version
            .as_deref()
            .is_some_and(|v| crate::model::manifest::odcs::KNOWN_API_VERSIONS.contains(&v))
    }) && descriptor.is_none_or(|d| {
        d.api_version
            .as_deref()
            .is_some_and(|v| crate::model::manifest::odps::KNOWN_API_VERSIONS.contains(&v))
    });
    let has_pk = p
        .contracts
        .iter()
        .flat_map(|c| &c.tables)
        .all(|t| t.columns.iter().any(|c| c.primary_key || c.unique));
    let extra: Vec<String> = p
        .tables
        .iter()
        .flat_map(|t| {
            t.columns
                .iter()
                .filter(|c| !c.declared)
                .map(move |c| format!("{}.{}", t.name, c.name))
        })
        .collect();
    let roles = p.contracts.iter().any(|c| !c.roles.is_empty());

    let attributes = vec![
        attribute(
            "discoverable",
            "Can people find it?",
            vec![
                criterion(
                    descriptor.and_then(|d| d.name.as_ref()).is_some(),
                    "has a name",
                    "give it a `name` in its ODPS descriptor",
                ),
                criterion(
                    desc.purpose.is_some(),
                    "says what it is for",
                    "write `description.purpose`",
                ),
                criterion(!p.tags().is_empty(), "is tagged", "add `tags` people would search for"),
                criterion(
                    p.owner().is_some(),
                    "names its owning team",
                    "name the owning team: `team: {name: ...}`",
                ),
            ],
        ),
        attribute(
            "addressable",
            "Can it be reached by a stable name?",
            vec![
                criterion(
                    descriptor.and_then(|d| d.id.as_ref()).is_some(),
                    "has an ODPS descriptor with an id",
                    "add a `*.odps.yaml` descriptor with an `id`",
                ),
                criterion(
                    contracts_identified,
                    "its contracts have an id and a version",
                    "give every contract an `id` and a `version`",
                ),
                criterion(
                    !p.tables.is_empty(),
                    "serves its tables in SQL",
                    "point the contract at its data with a `type: local` server",
                ),
                criterion(
                    ports_resolve,
                    "its output ports name its contracts",
                    "set each output port's `contractId` to a contract of this product",
                ),
            ],
        ),
        attribute(
            "trustworthy",
            "Can people rely on it?",
            vec![
                criterion(
                    p.status != Status::Failed && !p.stale,
                    "loads without errors",
                    "fix the problems listed at the top of the page",
                ),
                criterion(
                    quality_rules,
                    "declares quality rules",
                    "add `quality` rules (e.g. `metric: nullValues`) to the contract",
                ),
                criterion(
                    !blocking_fail && !p.checks.is_empty(),
                    "passes its checks",
                    "fix the failing checks, or the data",
                ),
                criterion(
                    !sla_checks.is_empty() && sla_checks.iter().all(|c| c.status == CheckStatus::Pass),
                    "promises and keeps a freshness SLA",
                    if sla_checks.is_empty() {
                        "declare a `latency` SLA with an `element` (e.g. `orders.order_ts`)".to_string()
                    } else {
                        "the data is older than the declared latency".to_string()
                    },
                ),
            ],
        ),
        attribute(
            "self-describing",
            "Can people understand it without asking?",
            vec![
                criterion(
                    undescribed.is_empty() && !columns.is_empty(),
                    "every column is described",
                    format!("describe {}", some(&undescribed)),
                ),
                criterion(
                    desc.usage.is_some(),
                    "explains how to use it",
                    "write `description.usage`",
                ),
                criterion(
                    desc.limitations.is_some(),
                    "states its limitations",
                    "write `description.limitations`",
                ),
                criterion(!p.support().is_empty(), "says where to ask", "add a `support` channel"),
            ],
        ),
        attribute(
            "interoperable",
            "Does it fit with the rest of the mesh?",
            vec![
                criterion(
                    known_versions,
                    "follows a released ODCS/ODPS version",
                    "use ODCS v3.0.x–v3.2.0 and ODPS v1.0.0/v1.1.0",
                ),
                criterion(
                    untyped.is_empty() && !columns.is_empty(),
                    "every column has a type",
                    format!("give a `logicalType` to {}", some(&untyped)),
                ),
                criterion(
                    has_pk,
                    "every table has a key",
                    "mark the identifying column `primaryKey: true` (or `unique: true`)",
                ),
                criterion(
                    extra.is_empty(),
                    "the data matches the contract's columns",
                    format!("declare or drop {}", some(&extra)),
                ),
            ],
        ),
        attribute(
            "secure",
            "Is access to it governed?",
            vec![
                criterion(
                    unclassified.is_empty() && !columns.is_empty(),
                    "every column is classified",
                    format!("set `classification` on {}", some(&unclassified)),
                ),
                criterion(roles, "declares who may read it", "add `roles` to the contract"),
            ],
        ),
    ];
    Scorecard {
        score: attributes.iter().map(|a| a.score).sum(),
        max: attributes.iter().map(|a| a.max).sum(),
        attributes,
    }
}
