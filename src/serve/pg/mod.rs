//! The Postgres wire endpoint: BI tools and SQL clients query the mesh as a role, through the same guarded query path as the console.
