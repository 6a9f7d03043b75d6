//! Stage 7, lifecycle: a product's life around the running mesh — contract history, scaffolding new meshes and
//! products (`init`, `new`, `import`), the bundled sample mesh, and export to ODCS/ODPS/dbt/DDL/Markdown.

pub mod export;
pub mod history;
pub mod sample_mesh;
pub mod scaffold;
