//! Stage 4, checks: contracts tested against their loaded data. `plan` turns a contract into checks, `run` measures
//! them in one scan per table, `sla` evaluates service levels against an injectable "now", `reads` says what an SQL
//! rule reads; `select` picks the checks and rows `meshbox test` was asked for; `pipeline` loads and tests every product; `diff` compares two versions of a contract. Check results
//! themselves are plain data in `model::check`. Takes in loaded tables; hands on products with check results.

pub mod diff;
pub mod pipeline;
pub mod plan;
pub mod reads;
pub mod references;
pub mod run;
pub mod select;
pub mod sla;

pub use crate::model::check::{Category, CheckResult, CheckStatus, Origin, Reads};
