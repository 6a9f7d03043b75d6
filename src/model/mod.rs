//! Stage 1, model: the mesh as plain data — manifest types (ODCS, ODPS, `mesh.yaml`, `domain.yaml`), the catalog
//! (domains, products, loaded tables, check results, findings) and the contract-type → DuckDB-type mapping. No I/O.
//! Takes in parsed YAML; hands on the types every later stage reads.

pub mod catalog;
pub mod check;
pub mod findings;
pub mod manifest;
pub mod types;
