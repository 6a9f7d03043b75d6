//! Referential-integrity checks across the mesh: each ODCS relationship becomes one anti-join counting orphan rows.
