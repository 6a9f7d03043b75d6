//! Stage 6, discovery: finding and understanding products — lineage from input ports (and its SVG map), full-text
//! search, the glossary, and the data product scorecard. Takes in a catalog and its governance; hands on indexes
//! and views.

pub mod glossary;
pub mod lineage;
pub mod scorecard;
pub mod search;
