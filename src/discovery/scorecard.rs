//! The data product scorecard: the six usability attributes of a data product (discoverable, addressable,
//! trustworthy, self-describing, interoperable, secure), each scored from what the product declares and what its
//! checks show, with what to fix for every missing point.

use crate::checks::{Category, CheckStatus};
use crate::model::catalog::{Product, Status};
use crate::model::manifest::odcs::Column;
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

/// A criterion judged on one product.
type Judge = fn(&Product) -> Criterion;

/// The attributes, the question each answers, and its criteria (each worth one point), in the order shown.
const ATTRIBUTES: &[(&str, &str, &[Judge])] = &[
    (
        "discoverable",
        "Can people find it?",
        &[has_a_name, says_what_it_is_for, is_tagged, names_its_owner],
    ),
    (
        "addressable",
        "Can it be reached by a stable name?",
        &[
            has_a_descriptor_id,
            contracts_are_identified,
            serves_its_tables,
            output_ports_name_its_contracts,
        ],
    ),
    (
        "trustworthy",
        "Can people rely on it?",
        &[
            loads_without_errors,
            declares_quality_rules,
            passes_its_checks,
            keeps_a_freshness_sla,
        ],
    ),
    (
        "self-describing",
        "Can people understand it without asking?",
        &[
            every_column_is_described,
            explains_its_usage,
            states_its_limitations,
            says_where_to_ask,
        ],
    ),
    (
        "interoperable",
        "Does it fit with the rest of the mesh?",
        &[
            follows_a_released_version,
            every_column_is_typed,
            every_table_has_a_key,
            data_matches_the_contract,
        ],
    ),
    (
        "secure",
        "Is access to it governed?",
        &[every_column_is_classified, declares_its_readers],
    ),
];

pub fn score(p: &Product) -> Scorecard {
    let attributes: Vec<Attribute> = ATTRIBUTES
        .iter()
        .map(|(name, question, judges)| attribute(name, question, judges.iter().map(|judge| judge(p)).collect()))
        .collect();
    Scorecard {
        score: attributes.iter().map(|a| a.score).sum(),
        max: attributes.iter().map(|a| a.max).sum(),
        attributes,
    }
}

/// Met when the product has columns and every one of them has the property; the fix names those lacking it.
fn every_column(p: &Product, has: fn(&Column) -> bool, what: &str, fix: &str) -> Criterion {
    let columns: Vec<(&Column, &str)> = p
        .contracts
        .iter()
        .flat_map(|c| &c.tables)
        .flat_map(|t| t.columns.iter().map(move |col| (col, t.name.as_str())))
        .collect();
    let lacking: Vec<String> = columns
        .iter()
        .filter(|(c, _)| !has(c))
        .map(|(c, t)| format!("{t}.{}", c.name))
        .collect();
    criterion(
        lacking.is_empty() && !columns.is_empty(),
        what,
        format!("{fix} {}", some(&lacking)),
    )
}

// Discoverable.

fn has_a_name(p: &Product) -> Criterion {
    criterion(
        p.descriptor.as_ref().and_then(|d| d.name.as_ref()).is_some(),
        "has a name",
        "give it a `name` in its ODPS descriptor",
    )
}

fn says_what_it_is_for(p: &Product) -> Criterion {
    criterion(
        p.description().purpose.is_some(),
        "says what it is for",
        "write `description.purpose`",
    )
}

fn is_tagged(p: &Product) -> Criterion {
    criterion(!p.tags().is_empty(), "is tagged", "add `tags` people would search for")
}

fn names_its_owner(p: &Product) -> Criterion {
    criterion(
        p.owner().is_some(),
        "names its owning team",
        "name the owning team: `team: {name: ...}`",
    )
}

// Addressable.

fn has_a_descriptor_id(p: &Product) -> Criterion {
    criterion(
        p.descriptor.as_ref().and_then(|d| d.id.as_ref()).is_some(),
        "has an ODPS descriptor with an id",
        "add a `*.odps.yaml` descriptor with an `id`",
    )
}

fn contracts_are_identified(p: &Product) -> Criterion {
    criterion(
        !p.contracts.is_empty() && p.contracts.iter().all(|c| c.id.is_some() && c.version.is_some()),
        "its contracts have an id and a version",
        "give every contract an `id` and a `version`",
    )
}

fn serves_its_tables(p: &Product) -> Criterion {
    criterion(
        !p.tables.is_empty(),
        "serves its tables in SQL",
        "point the contract at its data with a `type: local` server",
    )
}

fn output_ports_name_its_contracts(p: &Product) -> Criterion {
    let ports_resolve = p.descriptor.as_ref().is_some_and(|d| {
        !d.output_ports.is_empty()
            && d.output_ports.iter().all(|o| {
                o.contract_id
                    .as_deref()
                    .is_some_and(|id| p.contracts.iter().any(|c| c.id.as_deref() == Some(id)))
            })
    });
    criterion(
        ports_resolve,
        "its output ports name its contracts",
        "set each output port's `contractId` to a contract of this product",
    )
}

// Trustworthy.

fn loads_without_errors(p: &Product) -> Criterion {
    criterion(
        p.status != Status::Failed && !p.stale,
        "loads without errors",
        "fix the problems listed at the top of the page",
    )
}

fn declares_quality_rules(p: &Product) -> Criterion {
    let quality_rules = p
        .contracts
        .iter()
        .flat_map(|c| &c.tables)
        .any(|t| !t.quality.is_empty() || t.columns.iter().any(|col| !col.quality.is_empty()));
    criterion(
        quality_rules,
        "declares quality rules",
        "add `quality` rules (e.g. `metric: nullValues`) to the contract",
    )
}

fn passes_its_checks(p: &Product) -> Criterion {
    let blocking_fail = p
        .checks
        .iter()
        .any(|c| matches!(c.status, CheckStatus::Fail | CheckStatus::Error));
    criterion(
        !blocking_fail && !p.checks.is_empty(),
        "passes its checks",
        "fix the failing checks, or the data",
    )
}

fn keeps_a_freshness_sla(p: &Product) -> Criterion {
    let sla_checks: Vec<_> = p
        .checks
        .iter()
        .filter(|c| c.category == Category::Servicelevel && c.kind == "servicelevel_freshness")
        .collect();
    criterion(
        !sla_checks.is_empty() && sla_checks.iter().all(|c| c.status == CheckStatus::Pass),
        "promises and keeps a freshness SLA",
        if sla_checks.is_empty() {
            "declare a `latency` SLA with an `element` (e.g. `orders.order_ts`)"
        } else {
            "the data is older than the declared latency"
        },
    )
}

// Self-describing.

fn every_column_is_described(p: &Product) -> Criterion {
    every_column(
        p,
        |c| c.description.as_deref().is_some_and(|d| !d.trim().is_empty()),
        "every column is described",
        "describe",
    )
}

fn explains_its_usage(p: &Product) -> Criterion {
    criterion(
        p.description().usage.is_some(),
        "explains how to use it",
        "write `description.usage`",
    )
}

fn states_its_limitations(p: &Product) -> Criterion {
    criterion(
        p.description().limitations.is_some(),
        "states its limitations",
        "write `description.limitations`",
    )
}

fn says_where_to_ask(p: &Product) -> Criterion {
    criterion(!p.support().is_empty(), "says where to ask", "add a `support` channel")
}

// Interoperable.

fn follows_a_released_version(p: &Product) -> Criterion {
    let known_versions = p.contracts.iter().all(|c| {
        c.api_version
            .as_deref()
            .is_some_and(|v| crate::model::manifest::odcs::KNOWN_API_VERSIONS.contains(&v))
    }) && p.descriptor.as_ref().is_none_or(|d| {
        d.api_version
            .as_deref()
            .is_some_and(|v| crate::model::manifest::odps::KNOWN_API_VERSIONS.contains(&v))
    });
    // A manifest that breaks its standard does not follow it: the first error says where.
    if let Some(d) = p.diagnostics.iter().find(|d| d.breaks_standard()) {
        return criterion(
            false,
            "follows a released ODCS/ODPS version",
            format!(
                "{}: {} ({})",
                d.location(),
                d.message,
                d.standard.as_deref().unwrap_or_default()
            ),
        );
    }
    criterion(
        known_versions,
        "follows a released ODCS/ODPS version",
        "use ODCS v3.0.x–v3.2.0 and ODPS v1.0.0/v1.1.0",
    )
}

fn every_column_is_typed(p: &Product) -> Criterion {
    every_column(
        p,
        |c| c.logical_type.is_some() || c.physical_type.is_some(),
        "every column has a type",
        "give a `logicalType` to",
    )
}

fn every_table_has_a_key(p: &Product) -> Criterion {
    let has_pk = p
        .contracts
        .iter()
        .flat_map(|c| &c.tables)
        .all(|t| t.columns.iter().any(|c| c.primary_key || c.unique));
    criterion(
        has_pk,
        "every table has a key",
        "mark the identifying column `primaryKey: true` (or `unique: true`)",
    )
}

fn data_matches_the_contract(p: &Product) -> Criterion {
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
    criterion(
        extra.is_empty(),
        "the data matches the contract's columns",
        format!("declare or drop {}", some(&extra)),
    )
}

// Secure.

fn every_column_is_classified(p: &Product) -> Criterion {
    every_column(
        p,
        |c| c.classification.is_some(),
        "every column is classified",
        "set `classification` on",
    )
}

fn declares_its_readers(p: &Product) -> Criterion {
    criterion(
        p.contracts.iter().any(|c| !c.roles.is_empty()),
        "declares who may read it",
        "add `roles` to the contract",
    )
}
