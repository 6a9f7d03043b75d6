//! The immutable model of a loaded mesh: domains, products, their contracts, loaded tables and check results —
//! plain data. What governance, lineage and search compute from it sits beside it in the snapshot.
//! Built once per snapshot; unchanged products are shared between snapshots through `Arc`.

use crate::base::diagnostics::{Diagnostic, Severity};
use crate::base::sql::quote_ident_if_needed;
use crate::model::check::CheckResult;
pub use crate::model::check::Sample;
use crate::model::manifest::mesh::{Contact, DomainFile};
use crate::model::manifest::odcs::Contract;
use crate::model::manifest::odps::Descriptor;
use crate::model::manifest::{Description, Support, Team};
use serde::Serialize;
use std::path::PathBuf;
use std::sync::Arc;

/// The whole mesh as one snapshot sees it.
#[derive(Debug, Clone, Serialize)]
pub struct Catalog {
    pub name: String,
    pub description: Option<String>,
    #[serde(skip)]
    pub root: PathBuf,
    pub domains: Vec<Domain>,
    pub products: Vec<Arc<Product>>,
    /// Problems that belong to no single product (mesh.yaml, domain.yaml, unreadable folders, symlinks, policies).
    pub diagnostics: Vec<Diagnostic>,
}

/// An earlier version of a contract.
#[derive(Debug, Clone)]
pub struct Previous {
    pub label: String,
    pub contract: Contract,
}

impl Catalog {
    pub fn product(&self, domain: &str, name: &str) -> Option<&Arc<Product>> {
        self.products.iter().find(|p| p.domain == domain && p.name == name)
    }

    pub fn domain(&self, name: &str) -> Option<&Domain> {
        self.domains.iter().find(|d| d.name == name)
    }

    pub fn products_in<'a>(&'a self, domain: &'a str) -> impl Iterator<Item = &'a Arc<Product>> + 'a {
        self.products.iter().filter(move |p| p.domain == domain)
    }

    /// The product whose contract has this id (ODPS ports name contracts by id).
    pub fn product_by_contract_id(&self, id: &str) -> Option<&Arc<Product>> {
        self.products
            .iter()
            .find(|p| p.contracts.iter().any(|c| c.id.as_deref() == Some(id)))
    }

    /// Every diagnostic in the mesh, mesh-level first.
    pub fn all_diagnostics(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics
            .iter()
            .chain(self.products.iter().flat_map(|p| p.diagnostics.iter()))
    }

    /// True when every product loaded and no blocking check failed.
    pub fn is_healthy(&self) -> bool {
        self.products
            .iter()
            .all(|p| matches!(p.status, Status::Passing | Status::Warning))
    }
}

/// A business domain: a top-level folder, described by its optional `domain.yaml`.
#[derive(Debug, Clone, Serialize)]
pub struct Domain {
    pub name: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub team: Option<Team>,
    pub contacts: Vec<Contact>,
    pub support: Vec<Support>,
    pub file: Option<PathBuf>,
}

impl Domain {
    pub fn new(name: &str, file: Option<PathBuf>, info: DomainFile) -> Domain {
        Domain {
            name: name.to_string(),
            title: info.title,
            description: info.description,
            team: info.team,
            contacts: info.contacts,
            support: info.support,
            file,
        }
    }

    pub fn display_title(&self) -> &str {
        self.title.as_deref().unwrap_or(&self.name)
    }

    pub fn owner(&self) -> Option<String> {
        self.team.as_ref().and_then(Team::display_name)
    }
}

/// The health of a product, worst first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Its descriptor, contract or data could not be read.
    Failed,
    /// Its contract or descriptor breaks the standard it declares (a lint error): never passing, whatever its
    /// checks say; its data still loads and answers queries.
    Invalid,
    /// It loaded, but a blocking check fails.
    Failing,
    /// It loaded; only non-blocking checks fail or there are warnings.
    Warning,
    /// It loaded and every check passes.
    Passing,
}

impl Status {
    pub fn as_str(&self) -> &'static str {
        match self {
            Status::Failed => "failed",
            Status::Invalid => "invalid",
            Status::Failing => "failing",
            Status::Warning => "warning",
            Status::Passing => "passing",
        }
    }
}

/// A data product: its manifests, the tables it serves, and what its checks found.
#[derive(Debug, Clone, Serialize)]
pub struct Product {
    pub domain: String,
    pub name: String,
    #[serde(skip)]
    pub dir: PathBuf,
    pub descriptor: Option<Descriptor>,
    pub contracts: Vec<Contract>,
    pub tables: Vec<Table>,
    pub checks: Vec<CheckResult>,
    pub diagnostics: Vec<Diagnostic>,
    pub status: Status,
    /// Set when the current files are broken and the product keeps serving its last good version.
    pub stale: bool,
    /// The snapshot generation that last (re)loaded this product.
    pub loaded_generation: u64,
    /// How long loading and testing this product took.
    pub load_ms: f64,
    #[serde(skip)]
    pub fingerprint: u64,
    /// Tables built by SQL over the product's inputs.
    pub derived: Vec<DerivedTable>,
}

/// A table of a derived product and the SQL that builds it.
#[derive(Debug, Clone, Serialize)]
pub struct DerivedTable {
    pub table: String,
    /// The SQL file, relative to the mesh root.
    pub file: PathBuf,
    pub sql: String,
}

impl Product {
    pub fn key(&self) -> String {
        format!("{}/{}", self.domain, self.name)
    }

    pub fn title(&self) -> String {
        self.descriptor
            .as_ref()
            .and_then(|d| d.name.clone())
            .or_else(|| self.contracts.first().and_then(|c| c.name.clone()))
            .unwrap_or_else(|| self.name.clone())
    }

    pub fn description(&self) -> Description {
        match &self.descriptor {
            Some(d) if !d.description.is_empty() => d.description.clone(),
            _ => self
                .contracts
                .iter()
                .map(|c| c.description.clone())
                .find(|d| !d.is_empty())
                .unwrap_or_default(),
        }
    }

    pub fn team(&self) -> Option<&Team> {
        self.descriptor
            .as_ref()
            .and_then(|d| d.team.as_ref())
            .or_else(|| self.contracts.iter().find_map(|c| c.team.as_ref()))
    }

    pub fn owner(&self) -> Option<String> {
        self.team().and_then(Team::display_name)
    }

    /// sourceAligned / aggregate / consumerAligned, as declared.
    pub fn product_type(&self) -> Option<&str> {
        self.descriptor.as_ref().and_then(|d| d.product_type.as_deref())
    }

    /// The product's lifecycle status as declared (draft, active, deprecated, ...).
    pub fn lifecycle(&self) -> Option<&str> {
        self.descriptor
            .as_ref()
            .and_then(|d| d.status.as_deref())
            .or_else(|| self.contracts.first().and_then(|c| c.status.as_deref()))
    }

    /// Deprecated as a whole: its descriptor says `deprecated: true` (ODPS 1.1), or its lifecycle status is
    /// `deprecated` or `retired`.
    pub fn is_deprecated(&self) -> bool {
        self.descriptor.as_ref().is_some_and(|d| d.deprecated) || self.lifecycle().is_some_and(is_deprecated_status)
    }

    /// The schema objects (`table`) and columns (`table.column`) its contracts mark `deprecated` (ODCS 3.2).
    pub fn deprecated_elements(&self) -> Vec<String> {
        let mut out = Vec::new();
        for t in self.contracts.iter().flat_map(|c| c.tables.iter()) {
            if t.deprecated {
                out.push(t.name.clone());
            }
            out.extend(
                t.columns
                    .iter()
                    .filter(|col| col.deprecated)
                    .map(|col| format!("{}.{}", t.name, col.name)),
            );
        }
        out
    }

    pub fn tags(&self) -> Vec<String> {
        let mut tags: Vec<String> = self.descriptor.iter().flat_map(|d| d.tags.iter().cloned()).collect();
        for c in &self.contracts {
            for t in &c.tags {
                if !tags.contains(t) {
                    tags.push(t.clone());
                }
            }
        }
        tags
    }

    pub fn support(&self) -> Vec<Support> {
        let mut s: Vec<Support> = self.descriptor.iter().flat_map(|d| d.support.iter().cloned()).collect();
        if s.is_empty() {
            s = self.contracts.iter().flat_map(|c| c.support.iter().cloned()).collect();
        }
        s
    }

    /// Contract ids of the products this one consumes (ODPS input ports).
    pub fn input_contract_ids(&self) -> Vec<&str> {
        self.descriptor
            .iter()
            .flat_map(|d| d.input_ports.iter().filter_map(|p| p.contract_id.as_deref()))
            .collect()
    }

    pub fn count_checks(&self, status: crate::model::check::CheckStatus) -> usize {
        self.checks.iter().filter(|c| c.status == status).count()
    }

    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| d.severity == Severity::Error)
    }

    /// Derives the status from diagnostics and check results.
    pub fn derive_status(diagnostics: &[Diagnostic], checks: &[CheckResult]) -> Status {
        use crate::model::check::CheckStatus;
        let mut errors = diagnostics.iter().filter(|d| d.is_error()).peekable();
        if errors.peek().is_some() {
            if errors.all(Diagnostic::breaks_standard) {
                Status::Invalid
            } else {
                Status::Failed
            }
        } else if checks
            .iter()
            .any(|c| matches!(c.status, CheckStatus::Fail | CheckStatus::Error))
        {
            Status::Failing
        } else if checks.iter().any(|c| c.status == CheckStatus::Warn)
            || diagnostics.iter().any(|d| d.severity == Severity::Warning)
        {
            Status::Warning
        } else {
            Status::Passing
        }
    }
}

/// A table a product serves: one ODCS schema object loaded into DuckDB as `<domain>.<table>`.
#[derive(Debug, Clone, Serialize)]
pub struct Table {
    /// The DuckDB schema (the domain) and table name.
    pub schema: String,
    pub name: String,
    /// Which contract (index into `Product::contracts`) and schema object (index into its `tables`).
    pub contract: usize,
    pub object: usize,
    pub columns: Vec<LoadedColumn>,
    pub row_count: u64,
    pub format: String,
    /// Data files read, relative to the mesh root.
    pub files: Vec<PathBuf>,
    /// A few rows captured at load time, unmasked: views mask them for the role that asks.
    #[serde(skip)]
    pub sample: Sample,
    /// Column profiles (empty when not measured).
    pub profiles: Vec<crate::model::findings::ColumnProfile>,
    /// Columns whose values look personal (detector, share, confidence); no values.
    pub pii: Vec<crate::model::findings::PiiFinding>,
    /// For a derived table: the input tables its SQL reads, as (domain, table).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reads: Vec<(String, String)>,
}

impl Table {
    /// The name to type in SQL, quoted where needed: `sales.orders`, `"customer-360".profiles`.
    pub fn sql_name(&self) -> String {
        format!(
            "{}.{}",
            quote_ident_if_needed(&self.schema),
            quote_ident_if_needed(&self.name)
        )
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct LoadedColumn {
    pub name: String,
    /// The DuckDB type, e.g. `DECIMAL(10,2)`.
    pub data_type: String,
    /// False for a column present in the data but not declared in the contract.
    pub declared: bool,
    /// Classifications a derived column carries because its SQL reads classified input columns; masking applies
    /// them on top of the declared one.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub inherited: Vec<InheritedClass>,
}

/// A classification a derived column inherits from an input column its transform reads.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct InheritedClass {
    /// Lower case, as declared on the input column.
    pub classification: String,
    /// The domain that declared it: its members see it unmasked, as they see their own product.
    pub domain: String,
    /// The input column it comes from, `domain.table.column`.
    pub from: String,
}

/// How strictly a classification protects its values, for comparing a derived column with its inputs: unclassified
/// and `public` 0, `internal` 1, `confidential`/`sensitive`/`pii`/`personal` (and any classification meshbox does not
/// know) 2, `restricted`/`secret` 3.
pub fn classification_rank(class: Option<&str>) -> u8 {
    let Some(class) = class.map(|c| c.trim().to_ascii_lowercase()).filter(|c| !c.is_empty()) else {
        return 0;
    };
    match class.as_str() {
        "public" => 0,
        "internal" => 1,
        "confidential" | "sensitive" | "pii" | "personal" => 2,
        "restricted" | "secret" | "highly_confidential" | "highly-confidential" => 3,
        _ => 2,
    }
}

/// A lifecycle status that means "do not start depending on this": `deprecated` or `retired`, in any case.
pub fn is_deprecated_status(status: &str) -> bool {
    matches!(status.trim().to_ascii_lowercase().as_str(), "deprecated" | "retired")
}
