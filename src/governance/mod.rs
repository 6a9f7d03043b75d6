//! Stage 5, governance: federated computational governance — policies (built-in and SQL rules) and their
//! compliance, roles and access, masking, what a role may see of measures and messages (`disclosure`), the `mesh.*`
//! metadata tables, per-role databases, the audit log and usage, and the last good governance when a file breaks.
//! Takes in a catalog; hands on governance that sits beside it in the snapshot.

pub mod access;
pub mod audit;
pub mod compliance;
pub mod disclosure;
pub mod evaluation;
pub mod last_good;
pub mod masking;
pub mod metadata;
pub mod policy;
pub mod role_dbs;
pub mod usage;

pub use crate::governance::last_good::{Governance, GovernanceState};
