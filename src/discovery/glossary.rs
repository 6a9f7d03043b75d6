//! The mesh glossary: every business term, synonym and authoritative definition, with the columns and products that carry it.
