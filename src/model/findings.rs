//! What the load stage found in a table besides its rows: column profiles and PII findings, as plain data.

use serde::Serialize;

/// A column's profile: NULLs, distinct values, range, most frequent values and a histogram.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ColumnProfile {
    pub name: String,
    pub data_type: String,
    pub nulls: u64,
    pub null_pct: f64,
    /// Approximate (HyperLogLog) distinct count.
    pub distinct: u64,
    pub min: Option<String>,
    pub max: Option<String>,
    /// Most frequent values with their counts (text-like columns).
    pub top: Vec<(String, u64)>,
    /// Equal-width bins between min and max (numbers, dates, times).
    pub histogram: Vec<u64>,
    /// The column is classified: values are not shown, only counts.
    pub masked: bool,
}

/// A text column whose sampled values look like personal data.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PiiFinding {
    pub column: String,
    /// email, phone, iban, card, ssn, ip, date_of_birth.
    pub detector: &'static str,
    /// Share of the sampled non-null values that match (0–1).
    pub share: f64,
    /// 0–1: the share, raised when the column name says the same.
    pub confidence: f64,
    pub sampled: usize,
}
