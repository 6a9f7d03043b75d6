//! Stage 2, folder: the user's mesh folder read as files — walk it (`scan`), read its manifests into the model with
//! diagnostics (`manifests`), and lint them against the standards (`lint`, judged by the official JSON schemas in
//! `standard_schema`). Takes in a path; hands on a `MeshSpec`.

pub mod lint;
pub mod manifests;
pub mod scan;
pub mod standard_schema;
