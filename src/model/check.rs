//! What a check found: its status, category, where it is declared, what it read, and its measure and samples.

use crate::model::manifest::odcs::Threshold;
use serde::Serialize;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    Pass,
    /// A blocking check whose measured value misses its threshold.
    Fail,
    /// A non-blocking check (severity info/warning) that misses, or a rule that cannot be tested as written.
    Warn,
    /// The check could not run (SQL error, unknown column).
    Error,
    /// Not executed by design (custom and text rules), with the reason.
    Skipped,
}

impl CheckStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            CheckStatus::Pass => "pass",
            CheckStatus::Fail => "fail",
            CheckStatus::Warn => "warn",
            CheckStatus::Error => "error",
            CheckStatus::Skipped => "skipped",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    /// Declared columns, types and constraints.
    Schema,
    /// `quality[]` rules.
    Quality,
    /// `slaProperties[]`.
    Servicelevel,
    /// Reading the data itself (malformed lines).
    Load,
}

/// Where a check comes from: the contract file and the field that declares it.
#[derive(Debug, Clone, Serialize)]
pub struct Origin {
    pub file: PathBuf,
    pub line: Option<usize>,
    pub field: String,
}

/// What a check's measure, reason and failed rows are computed from: decides which roles may see them
/// (see governance's `disclosure`). The default, `Everything`, is the safe answer when nothing more precise is known.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Reads {
    /// Every column of every table of the product.
    #[default]
    Everything,
    /// These columns of the check's table; none: only its row count.
    Columns(Vec<String>),
    /// Only the contract and the shape of the data (column names, presence): nothing a catalog reader cannot see.
    Schema,
    /// A relationship: these columns of the check's table compared with the key columns `keys` of `table` in the
    /// product `domain`/`product`. Its count and rows tell which keys that table lacks, so they are data of both.
    Related {
        columns: Vec<String>,
        domain: String,
        product: String,
        table: String,
        keys: Vec<String>,
    },
}

impl Reads {
    pub fn column(name: &str) -> Reads {
        Reads::Columns(vec![name.to_string()])
    }
}

/// One check and its verdict.
#[derive(Debug, Clone, Serialize)]
pub struct CheckResult {
    /// Stable key in datacontract-cli's style: `orders__amount__field_required`.
    pub key: String,
    pub category: Category,
    /// The kind of check, in datacontract-cli's vocabulary (`field_required`, `field_null_values`, `model_quality_sql`, ...).
    pub kind: String,
    pub name: String,
    pub table: Option<String>,
    pub column: Option<String>,
    /// The rule's `id` in the contract, if any.
    pub quality_id: Option<String>,
    pub dimension: Option<String>,
    pub severity: Option<String>,
    pub status: CheckStatus,
    /// The measured value: a count of rows (or a percentage with `unit: percent`), or seconds for SLAs.
    pub measured: Option<f64>,
    pub unit: Option<String>,
    /// The count behind a percentage, or the rows in duplicated groups.
    pub count: Option<u64>,
    pub row_count: Option<u64>,
    pub threshold: Option<Threshold>,
    /// Why it failed, warned, errored or was skipped.
    pub reason: Option<String>,
    /// The SQL that measured it.
    pub sql: Option<String>,
    pub origin: Option<Origin>,
    /// Up to five offending rows, classified columns masked.
    pub samples: Option<Sample>,
    /// What `measured`, `count`, `reason` and `samples` are computed from.
    #[serde(skip)]
    pub reads: Reads,
    /// `reason` without any value from the data, for roles that may not see what the check reads (None: a
    /// generic text). Set wherever `reason` is set.
    #[serde(skip)]
    pub public_reason: Option<String>,
}

impl CheckResult {
    /// Sets `reason`, and the form of it shown to roles that may not see what the check reads (None: generic).
    pub fn explain(&mut self, reason: String, public: Option<String>) {
        self.reason = Some(reason);
        self.public_reason = public;
    }

    /// Sets a `reason` that quotes nothing from the data: every role may see it as it is.
    pub fn explain_publicly(&mut self, reason: String) {
        self.public_reason = Some(reason.clone());
        self.reason = Some(reason);
    }

    pub fn is_problem(&self) -> bool {
        matches!(self.status, CheckStatus::Fail | CheckStatus::Error | CheckStatus::Warn)
    }

    /// `measured` as people read it: `37`, `12.5 %`.
    pub fn measured_text(&self) -> String {
        match self.measured {
            None => String::new(),
            Some(v) if self.unit.as_deref() == Some("percent") => {
                format!("{} %", crate::base::format::number(v))
            }
            Some(v) if self.unit.as_deref() == Some("seconds") => crate::base::format::number(v) + " s",
            Some(v) => crate::base::format::number(v),
        }
    }

    pub fn threshold_text(&self) -> String {
        match &self.threshold {
            None => String::new(),
            Some(t) if self.unit.as_deref() == Some("percent") => format!("{t} %"),
            Some(t) if self.unit.as_deref() == Some("seconds") => format!("{t} s"),
            Some(t) => t.to_string(),
        }
    }
}

/// Rows as JSON values, with their column names.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Sample {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<serde_json::Value>>,
}
