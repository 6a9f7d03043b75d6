//! Which checks of a contract `meshbox test` runs, and on which rows: datacontract-cli's selection flags
//! (`--checks`, `--dimension`, `--quality-id`, `--tag`, `--schema-name`, `--filter`/`--filters`, `--metadata-only`),
//! checked against the contract before anything is loaded.

use super::{Category, CheckResult};
use crate::model::manifest::odcs::{Column, Contract, QualityRule};
use std::collections::{BTreeMap, BTreeSet};

/// What to run. The default runs every check on every row.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// `--schema-name`: only this schema object is loaded and tested.
    pub schema: Option<String>,
    /// Per schema object, a SQL predicate over its rows (`--filter`, `--filters`).
    pub filters: BTreeMap<String, String>,
    /// Only the checks that read no row values (presence and types); the others are listed as skipped.
    pub metadata_only: bool,
    /// `--checks`: check categories (`schema`, `quality`, `servicelevel`, `custom`).
    pub categories: Option<BTreeSet<String>>,
    /// `--dimension`: the rule's declared dimension, or the default one of a schema or SLA check.
    pub dimensions: Option<BTreeSet<String>>,
    /// `--quality-id`: rules by `id`.
    pub quality_ids: Option<BTreeSet<String>>,
    /// `--tag`: rules declaring one of these `tags`.
    pub tags: Option<BTreeSet<String>>,
}

/// The dimensions ODCS knows.
pub const DIMENSIONS: &[&str] = crate::model::manifest::odcs::QUALITY_DIMENSIONS;

/// The reason a check carries when `--metadata-only` kept it from reading rows (datacontract-cli's wording).
pub const METADATA_ONLY_REASON: &str = "Row-value check disabled by --metadata-only";

/// The selection flags as given on the command line, before they are checked against the contract.
#[derive(Debug, Clone, Default)]
pub struct Flags {
    pub checks: Option<String>,
    pub dimension: Option<String>,
    pub quality_id: Option<String>,
    pub tag: Option<String>,
    pub schema_name: Option<String>,
    pub filter: Option<String>,
    pub filters: Option<String>,
    pub metadata_only: bool,
}

/// A comma-separated flag value as a set of trimmed, non-empty items; an empty list is an error.
fn items(flag: &str, text: &str) -> Result<BTreeSet<String>, String> {
    let set: BTreeSet<String> = text
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    if set.is_empty() {
        return Err(format!("{flag} needs at least one value"));
    }
    Ok(set)
}

/// `--checks` values to meshbox's category names (datacontract-cli's current and legacy names, any case).
fn category_of(value: &str) -> Option<&'static str> {
    match value.to_ascii_lowercase().as_str() {
        "properties" | "schema" => Some("schema"),
        "quality" => Some("quality"),
        "slaproperties" | "servicelevel" => Some("servicelevel"),
        "custom" => Some("custom"),
        _ => None,
    }
}

impl Selection {
    /// Checks the flags against `contract` and makes the selection; every mistake is named with what the contract has.
    pub fn of(flags: &Flags, contract: &Contract) -> Result<Selection, String> {
        let names: Vec<&str> = contract.tables.iter().map(|t| t.name.as_str()).collect();
        let mut selection = Selection {
            metadata_only: flags.metadata_only,
            ..Selection::default()
        };
        if let Some(name) = flags.schema_name.as_deref().filter(|n| *n != "all") {
            if !names.contains(&name) {
                return Err(format!(
                    "--schema-name: no schema `{name}` in the contract (it has: {})",
                    names.join(", ")
                ));
            }
            selection.schema = Some(name.to_string());
        }
        selection.filters = filters_of(flags, &names, selection.schema.as_deref())?;
        if let Some(text) = &flags.checks {
            let mut set = BTreeSet::new();
            for v in items("--checks", text)? {
                let c = category_of(&v).ok_or_else(|| {
                    format!("--checks: unknown category `{v}` (properties, quality, slaProperties, custom)")
                })?;
                set.insert(c.to_string());
            }
            selection.categories = Some(set);
        }
        if let Some(text) = &flags.dimension {
            let set: BTreeSet<String> = items("--dimension", text)?.iter().map(|d| d.to_lowercase()).collect();
            if let Some(bad) = set.iter().find(|d| !DIMENSIONS.contains(&d.as_str())) {
                return Err(format!(
                    "--dimension: unknown dimension `{bad}` ({})",
                    DIMENSIONS.join(", ")
                ));
            }
            selection.dimensions = Some(set);
        }
        if let Some(text) = &flags.quality_id {
            let wanted = items("--quality-id", text)?;
            let known = rule_ids(contract, selection.schema.as_deref());
            let unknown: Vec<&String> = wanted.iter().filter(|id| !known.contains(id.as_str())).collect();
            if !unknown.is_empty() {
                let known: Vec<&str> = known.into_iter().collect();
                return Err(format!(
                    "--quality-id: no rule with id {} in the contract (it has: {})",
                    unknown.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", "),
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                ));
            }
            selection.quality_ids = Some(wanted);
        }
        if let Some(text) = &flags.tag {
            selection.tags = Some(items("--tag", text)?);
        }
        Ok(selection)
    }

    /// Whether any flag narrows the checks (a selection that leaves none is a mistake worth an error).
    pub fn narrows(&self) -> bool {
        self.schema.is_some()
            || self.categories.is_some()
            || self.dimensions.is_some()
            || self.quality_ids.is_some()
            || self.tags.is_some()
    }

    /// Whether schema object `table` is loaded and tested.
    pub fn tests_table(&self, table: &str) -> bool {
        self.schema.as_deref().is_none_or(|s| s == table)
    }

    /// The row predicate for schema object `table`, if any.
    pub fn filter_for(&self, table: &str) -> Option<&str> {
        self.filters.get(table).map(String::as_str)
    }

    /// Whether `check` is one the selection runs; `rules` are the contract's quality rules by path.
    pub fn keeps(&self, check: &CheckResult, rules: &Rules) -> bool {
        let rule = check.origin.as_ref().and_then(|o| rules.get(o.field.as_str()));
        let table_ok = match (&self.schema, &check.table) {
            (Some(s), Some(t)) => s == t,
            _ => true,
        };
        table_ok
            && self.categories.as_ref().is_none_or(|set| {
                set.iter().any(|c| match c.as_str() {
                    "schema" => matches!(check.category, Category::Schema | Category::Load),
                    "quality" => check.category == Category::Quality,
                    "servicelevel" => check.category == Category::Servicelevel,
                    _ => check.category == Category::Quality && check.kind.ends_with("quality_custom"),
                })
            })
            && self
                .dimensions
                .as_ref()
                .is_none_or(|set| dimension_of(check, rule.copied()).is_some_and(|d| set.contains(&d.to_lowercase())))
            && self
                .quality_ids
                .as_ref()
                .is_none_or(|set| check.quality_id.as_ref().is_some_and(|id| set.contains(id)))
            && self
                .tags
                .as_ref()
                .is_none_or(|set| rule.is_some_and(|r| r.tags.iter().any(|t| set.contains(t))))
    }

    /// Whether `check` may read row values (false only for presence and type checks under `--metadata-only`).
    pub fn reads_rows(&self, check: &CheckResult) -> bool {
        !self.metadata_only || matches!(check.kind.as_str(), "field_is_present" | "field_type")
    }
}

/// Makes a check that was run into one listed as skipped by `--metadata-only`: no measure, no rows.
pub fn skip_unread(check: &mut CheckResult) {
    check.status = super::CheckStatus::Skipped;
    check.measured = None;
    check.count = None;
    check.samples = None;
    check.explain_publicly(METADATA_ONLY_REASON.into());
}

/// `--filter` (one schema under test) or `--filters` (a JSON object by schema) as predicates by schema name.
fn filters_of(flags: &Flags, names: &[&str], schema: Option<&str>) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    let filter = flags.filter.as_deref().map(str::trim).filter(|f| !f.is_empty());
    match (filter, &flags.filters) {
        (Some(_), Some(_)) => return Err("give either --filter or --filters, not both".into()),
        (Some(predicate), None) => {
            let one = schema.or(match names {
                [only] => Some(*only),
                _ => None,
            });
            let Some(table) = one else {
                return Err(format!(
                    "--filter is ambiguous: the contract has several schemas ({}); use --filters '{{\"<schema>\": \
                     \"<predicate>\"}}' or pick one with --schema-name",
                    names.join(", ")
                ));
            };
            out.insert(table.to_string(), predicate.to_string());
        }
        (None, Some(json)) => {
            let map: BTreeMap<String, String> = serde_json::from_str(json)
                .map_err(|e| format!("--filters must be a JSON object mapping schema names to SQL predicates: {e}"))?;
            for (table, predicate) in map {
                if !names.contains(&table.as_str()) {
                    return Err(format!(
                        "--filters: no schema `{table}` in the contract (it has: {})",
                        names.join(", ")
                    ));
                }
                if !predicate.trim().is_empty() {
                    out.insert(table, predicate);
                }
            }
        }
        (None, None) => {}
    }
    Ok(out)
}

/// A contract's quality rules by their path in the file (a check's `origin.field`).
pub type Rules<'a> = BTreeMap<&'a str, &'a QualityRule>;

/// Every quality rule of `contract`: on schema objects and on their properties.
pub fn rules_of(contract: &Contract) -> Rules<'_> {
    let mut out = Rules::new();
    for t in &contract.tables {
        let on_columns = t.columns.iter().flat_map(|c: &Column| c.quality.iter());
        for r in t.quality.iter().chain(on_columns) {
            out.insert(r.path.as_str(), r);
        }
    }
    out
}

/// The ids a `--quality-id` may name: every rule's and every service-level property's, within `schema` if given.
fn rule_ids<'a>(contract: &'a Contract, schema: Option<&str>) -> BTreeSet<&'a str> {
    let mut ids: BTreeSet<&str> = BTreeSet::new();
    for (i, t) in contract.tables.iter().enumerate() {
        if schema.is_some_and(|s| s != t.name) {
            continue;
        }
        let prefix = format!("schema[{i}]");
        ids.extend(
            rules_of(contract)
                .into_iter()
                .filter(|(path, _)| path.starts_with(&prefix) && path[prefix.len()..].starts_with('.'))
                .filter_map(|(_, r)| r.id.as_deref()),
        );
    }
    ids.extend(contract.sla.iter().filter_map(|s| s.id.as_deref()));
    ids
}

/// The dimension a check counts for: a rule's declared one (rules without one count for none, as in
/// datacontract-cli), else the default of its kind.
fn dimension_of<'a>(check: &'a CheckResult, rule: Option<&'a QualityRule>) -> Option<&'a str> {
    if check.category == Category::Quality {
        return rule.and_then(|r| r.dimension.as_deref());
    }
    Some(match check.kind.as_str() {
        "field_required" | "field_primary_key_required" => "completeness",
        "field_unique" | "field_primary_key_unique" | "primary_key_unique" | "field_unique_items" => "uniqueness",
        "servicelevel_freshness" => "timeliness",
        "relationship_foreign_key" | "field_relationships" => "consistency",
        _ => "conformity",
    })
}
