//! Stage 2, folder: the user's mesh folder read as files — walk it (`scan`), read its manifests into the model with
//! diagnostics (`manifests`), and lint them against the standards (`lint`). Takes in a path; hands on a `MeshSpec`.

pub mod lint;
pub mod manifests;
pub mod scan;
