//! ODCS relationships (foreign keys) read from a contract: property-level and schema-level, composite keys, every path form.
