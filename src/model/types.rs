//! From a contract's `physicalType`/`logicalType` to the DuckDB type a column is loaded as.
//! Warehouse spellings (Snowflake, Spark, Postgres, BigQuery) are understood; anything else falls back to the logical type.

use crate::model::manifest::odcs::Column;

/// The DuckDB type chosen for a declared column, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct DeclaredType {
    /// A DuckDB type, e.g. `BIGINT`, `DECIMAL(10,2)`; None means "keep whatever type the data has".
    pub sql: Option<String>,
    /// Set when the physical type was not understood and the logical type was used instead.
    pub note: Option<String>,
}

/// The DuckDB type for an ODCS logical type.
pub fn logical_to_duckdb(logical: &str) -> Option<&'static str> {
    Some(match logical.trim().to_ascii_lowercase().as_str() {
        "string" | "text" => "VARCHAR",
        "integer" | "int" | "long" => "BIGINT",
        "number" | "decimal" | "double" | "float" => "DOUBLE",
        "boolean" | "bool" => "BOOLEAN",
        "date" => "DATE",
        "timestamp" | "datetime" => "TIMESTAMP",
        "time" => "TIME",
        // object, array, map, vector: keep the structure the data brings (JSON text in CSV).
        _ => return None,
    })
}

/// Parses warehouse type names into DuckDB types. Returns None for names it does not know.
pub fn physical_to_duckdb(physical: &str) -> Option<String> {
    let t = physical.trim();
    let lower = t.to_ascii_lowercase();
    let (base, args) = match lower.find('(') {
        Some(i) if lower.ends_with(')') => (
            lower[..i].trim().to_string(),
            Some(lower[i + 1..lower.len() - 1].to_string()),
        ),
        Some(_) => return None,
        None => (lower.clone(), None),
    };
    let numbers: Option<Vec<u32>> = args
        .as_deref()
        .map(|a| {
            a.split(',')
                .map(|p| p.trim().parse::<u32>())
                .collect::<Result<Vec<_>, _>>()
                .ok()
        })
        .unwrap_or(Some(Vec::new()));
    let numbers = numbers?;
    let s = match base.as_str() {
        "varchar" | "string" | "text" | "char" | "character" | "nvarchar" | "nchar" | "bpchar"
        | "character varying" | "clob" | "str" | "varchar2" | "nvarchar2" => "VARCHAR".to_string(),
        "tinyint" | "int1" | "byte" => "TINYINT".into(),
        "smallint" | "int2" | "short" => "SMALLINT".into(),
        "int" | "integer" | "int4" | "int32" | "mediumint" => "INTEGER".into(),
        "bigint" | "int8" | "long" | "int64" => "BIGINT".into(),
        "hugeint" | "int128" => "HUGEINT".into(),
        "utinyint" | "usmallint" | "uinteger" | "ubigint" | "uhugeint" => base.to_ascii_uppercase(),
        "float" | "float4" | "real" => {
            // FLOAT(p) in ANSI SQL means DOUBLE above 24 bits of precision.
            if numbers.first().is_some_and(|p| *p > 24) {
                "DOUBLE".into()
            } else {
                "FLOAT".into()
            }
        }
        "double" | "float8" | "double precision" | "float64" => "DOUBLE".into(),
        "decimal" | "numeric" | "number" | "bignumeric" => match numbers.as_slice() {
            [] if base == "number" => "DECIMAL(38,0)".into(),
            [] => "DECIMAL(18,3)".into(),
            [p] if (1..=38).contains(p) => format!("DECIMAL({p},0)"),
            [p, s] if (1..=38).contains(p) && s <= p => format!("DECIMAL({p},{s})"),
            _ => return None,
        },
        "bool" | "boolean" | "bit" => "BOOLEAN".into(),
        "date" => "DATE".into(),
        "time" | "time without time zone" => "TIME".into(),
        "timestamp" | "datetime" | "timestamp_ntz" | "timestamp without time zone" | "datetime2" => "TIMESTAMP".into(),
        "timestamptz" | "timestamp_tz" | "timestamp_ltz" | "timestamp with time zone" | "datetimeoffset" => {
            "TIMESTAMPTZ".into()
        }
        "timestamp_s" | "timestamp_ms" | "timestamp_ns" => base.to_ascii_uppercase(),
        "interval" => "INTERVAL".into(),
        "uuid" | "uniqueidentifier" => "UUID".into(),
        "json" | "jsonb" | "variant" => "JSON".into(),
        "blob" | "binary" | "varbinary" | "bytea" | "bytes" => "BLOB".into(),
        _ => return None,
    };
    // Lengths on text types (VARCHAR(255)) are not enforced by DuckDB; maxLength checks do that.
    Some(s)
}

/// Decides the DuckDB type of a declared column: physical type when understood, else logical type.
pub fn declared_type(col: &Column) -> DeclaredType {
    if let Some(p) = col.physical_type.as_deref() {
        if let Some(sql) = physical_to_duckdb(p) {
            return DeclaredType {
                sql: Some(sql),
                note: None,
            };
        }
        let fallback = col.logical_type.as_deref().and_then(logical_to_duckdb);
        return DeclaredType {
            sql: fallback.map(str::to_string),
            note: Some(match (fallback, col.logical_type.as_deref()) {
                (Some(f), Some(l)) => {
                    format!("physicalType `{p}` is not a type meshbox knows; loading as {f} from logicalType `{l}`")
                }
                _ => format!("physicalType `{p}` is not a type meshbox knows; keeping the type found in the data"),
            }),
        };
    }
    DeclaredType {
        sql: col
            .logical_type
            .as_deref()
            .and_then(logical_to_duckdb)
            .map(str::to_string),
        note: None,
    }
}

/// The broad family of a DuckDB type, for choosing which checks apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Text,
    Integer,
    Number,
    Boolean,
    Temporal,
    Other,
}

pub fn family(duckdb_type: &str) -> Family {
    let t = duckdb_type.to_ascii_uppercase();
    let base = t.split('(').next().unwrap_or("").trim();
    match base {
        "VARCHAR" | "JSON" | "UUID" => Family::Text,
        "TINYINT" | "SMALLINT" | "INTEGER" | "BIGINT" | "HUGEINT" | "UTINYINT" | "USMALLINT" | "UINTEGER"
        | "UBIGINT" | "UHUGEINT" => Family::Integer,
        "FLOAT" | "DOUBLE" | "DECIMAL" => Family::Number,
        "BOOLEAN" => Family::Boolean,
        "DATE"
        | "TIME"
        | "TIMESTAMP"
        | "TIMESTAMPTZ"
        | "TIMESTAMP WITH TIME ZONE"
        | "TIMESTAMP_S"
        | "TIMESTAMP_MS"
        | "TIMESTAMP_NS"
        | "TIME WITH TIME ZONE" => Family::Temporal,
        _ => Family::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn physical_types_from_warehouses() {
        assert_eq!(physical_to_duckdb("BIGINT").as_deref(), Some("BIGINT"));
        assert_eq!(physical_to_duckdb("varchar(255)").as_deref(), Some("VARCHAR"));
        assert_eq!(physical_to_duckdb("NUMBER(38, 2)").as_deref(), Some("DECIMAL(38,2)"));
        assert_eq!(physical_to_duckdb("decimal(10,2)").as_deref(), Some("DECIMAL(10,2)"));
        assert_eq!(physical_to_duckdb("timestamp_ntz").as_deref(), Some("TIMESTAMP"));
        assert_eq!(
            physical_to_duckdb("TIMESTAMP WITH TIME ZONE").as_deref(),
            Some("TIMESTAMPTZ")
        );
        assert_eq!(physical_to_duckdb("long").as_deref(), Some("BIGINT"));
        assert_eq!(physical_to_duckdb("decimal(50,2)"), None);
        assert_eq!(physical_to_duckdb("struct<a:int>"), None);
        assert_eq!(physical_to_duckdb("x); DROP TABLE y; --"), None);
    }

    #[test]
    fn families() {
        assert_eq!(family("DECIMAL(10,2)"), Family::Number);
        assert_eq!(family("BIGINT"), Family::Integer);
        assert_eq!(family("TIMESTAMP WITH TIME ZONE"), Family::Temporal);
    }
}
