//! Result columns as Postgres clients see them: the type OID, size and modifier each Arrow/DuckDB column type maps
//! to, and the `RowDescription` fields built from them. DuckDB's own type name (from `DESCRIBE`) tells the types
//! Arrow carries as plain text apart: UUID and JSON.

use duckdb::arrow::datatypes::{DataType, Field};
use pgwire::api::Type;
use pgwire::api::results::{FieldFormat, FieldInfo};

/// How the values of a column are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Bool,
    /// A signed integer of the Postgres width `typlen` (2, 4 or 8 bytes).
    Int,
    Float4,
    Float8,
    /// `numeric`: decimals, 64-bit unsigned and 128-bit integers.
    Numeric,
    Text,
    Uuid,
    /// Lists, structs and maps (and DuckDB's JSON) as JSON text.
    Json,
    Bytea,
    Date,
    Time,
    Timestamp,
    TimestampTz,
    Interval,
}

/// One result column.
#[derive(Debug, Clone, PartialEq)]
pub struct PgColumn {
    pub name: String,
    pub pg: Type,
    pub kind: Kind,
    /// `pg_type.typlen`: the byte width, or -1 for variable-width types.
    pub typlen: i16,
    /// `pg_attribute.atttypmod`: precision and scale of a numeric, else -1.
    pub typmod: i32,
}

impl PgColumn {
    fn new(name: &str, pg: Type, kind: Kind, typlen: i16) -> PgColumn {
        PgColumn {
            name: name.to_string(),
            pg,
            kind,
            typlen,
            typmod: -1,
        }
    }

    /// A text column (answers the endpoint makes itself: `SHOW`, settings).
    pub fn text(name: &str) -> PgColumn {
        PgColumn::new(name, Type::TEXT, Kind::Text, -1)
    }

    /// The `RowDescription` field, in the format the client asked for.
    pub fn field(&self, format: FieldFormat) -> FieldInfo {
        FieldInfo::new(self.name.clone(), None, None, self.pg.clone(), format)
            .with_type_size(self.typlen)
            .with_type_modifier(self.typmod)
    }
}

/// The Postgres column for an Arrow field; `duckdb_type` is DuckDB's name for it when known.
pub fn column(field: &Field, duckdb_type: Option<&str>) -> PgColumn {
    let name = field.name().as_str();
    let int = |pg: Type, len: i16| PgColumn::new(name, pg, Kind::Int, len);
    match field.data_type() {
        DataType::Boolean => PgColumn::new(name, Type::BOOL, Kind::Bool, 1),
        DataType::Int8 | DataType::Int16 | DataType::UInt8 => int(Type::INT2, 2),
        DataType::Int32 | DataType::UInt16 => int(Type::INT4, 4),
        DataType::Int64 | DataType::UInt32 => int(Type::INT8, 8),
        DataType::UInt64 => PgColumn::new(name, Type::NUMERIC, Kind::Numeric, -1),
        DataType::Float16 | DataType::Float32 => PgColumn::new(name, Type::FLOAT4, Kind::Float4, 4),
        DataType::Float64 => PgColumn::new(name, Type::FLOAT8, Kind::Float8, 8),
        DataType::Decimal32(p, s) | DataType::Decimal64(p, s) | DataType::Decimal128(p, s) => PgColumn {
            typmod: ((i32::from(*p) << 16) | i32::from((*s).max(0) as u8)) + 4,
            ..PgColumn::new(name, Type::NUMERIC, Kind::Numeric, -1)
        },
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => text_column(name, duckdb_type),
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView | DataType::FixedSizeBinary(_) => {
            PgColumn::new(name, Type::BYTEA, Kind::Bytea, -1)
        }
        DataType::Date32 | DataType::Date64 => PgColumn::new(name, Type::DATE, Kind::Date, 4),
        DataType::Time32(_) | DataType::Time64(_) => PgColumn::new(name, Type::TIME, Kind::Time, 8),
        DataType::Timestamp(_, None) => PgColumn::new(name, Type::TIMESTAMP, Kind::Timestamp, 8),
        DataType::Timestamp(_, Some(_)) => PgColumn::new(name, Type::TIMESTAMPTZ, Kind::TimestampTz, 8),
        DataType::Interval(_) | DataType::Duration(_) => PgColumn::new(name, Type::INTERVAL, Kind::Interval, 16),
        DataType::List(_)
        | DataType::LargeList(_)
        | DataType::ListView(_)
        | DataType::LargeListView(_)
        | DataType::FixedSizeList(..)
        | DataType::Struct(_)
        | DataType::Map(..)
        | DataType::Union(..) => PgColumn::new(name, Type::JSON, Kind::Json, -1),
        _ => PgColumn::text(name),
    }
}

/// Text in Arrow: a UUID, JSON, or text, as DuckDB names it.
fn text_column(name: &str, duckdb_type: Option<&str>) -> PgColumn {
    match duckdb_type.map(|t| t.trim().to_ascii_uppercase()).as_deref() {
        Some("UUID") => PgColumn::new(name, Type::UUID, Kind::Uuid, 16),
        Some("JSON") => PgColumn::new(name, Type::JSON, Kind::Json, -1),
        _ => PgColumn::text(name),
    }
}

/// The Postgres column for a DuckDB type name (`DECIMAL(10,2)`, `VARCHAR[]`, `TIMESTAMP WITH TIME ZONE`): for
/// statements described before they run, and for the catalogs. Agrees with `column` on what Arrow carries.
pub fn column_from_duckdb(name: &str, duckdb_type: &str) -> PgColumn {
    let t = duckdb_type.trim().to_ascii_uppercase();
    let base = t.split('(').next().unwrap_or("").trim();
    let nested = t.ends_with(']') || ["STRUCT", "MAP", "UNION"].iter().any(|n| base.starts_with(n));
    if nested || base == "JSON" {
        return PgColumn::new(name, Type::JSON, Kind::Json, -1);
    }
    let int = |pg: Type, len: i16| PgColumn::new(name, pg, Kind::Int, len);
    match base {
        "BOOLEAN" | "BOOL" => PgColumn::new(name, Type::BOOL, Kind::Bool, 1),
        "TINYINT" | "SMALLINT" | "UTINYINT" | "INT1" | "INT2" => int(Type::INT2, 2),
        "INTEGER" | "USMALLINT" | "INT" | "INT4" => int(Type::INT4, 4),
        "BIGINT" | "UINTEGER" | "INT8" => int(Type::INT8, 8),
        "UBIGINT" | "HUGEINT" | "UHUGEINT" => PgColumn::new(name, Type::NUMERIC, Kind::Numeric, -1),
        "FLOAT" | "REAL" | "FLOAT4" => PgColumn::new(name, Type::FLOAT4, Kind::Float4, 4),
        "DOUBLE" | "FLOAT8" => PgColumn::new(name, Type::FLOAT8, Kind::Float8, 8),
        "DECIMAL" | "NUMERIC" => {
            let args: Vec<i32> = t
                .split_once('(')
                .map(|(_, a)| {
                    a.trim_end_matches(')')
                        .split(',')
                        .filter_map(|x| x.trim().parse().ok())
                        .collect()
                })
                .unwrap_or_default();
            let typmod = match args.as_slice() {
                [p, s] => ((p << 16) | s) + 4,
                [p] => (p << 16) + 4,
                _ => -1,
            };
            PgColumn {
                typmod,
                ..PgColumn::new(name, Type::NUMERIC, Kind::Numeric, -1)
            }
        }
        "UUID" => PgColumn::new(name, Type::UUID, Kind::Uuid, 16),
        "BLOB" | "BYTEA" | "BINARY" | "VARBINARY" => PgColumn::new(name, Type::BYTEA, Kind::Bytea, -1),
        "DATE" => PgColumn::new(name, Type::DATE, Kind::Date, 4),
        "TIME" | "TIME WITH TIME ZONE" | "TIMETZ" => PgColumn::new(name, Type::TIME, Kind::Time, 8),
        "TIMESTAMP" | "TIMESTAMP_S" | "TIMESTAMP_MS" | "TIMESTAMP_NS" | "DATETIME" => {
            PgColumn::new(name, Type::TIMESTAMP, Kind::Timestamp, 8)
        }
        "TIMESTAMP WITH TIME ZONE" | "TIMESTAMPTZ" => PgColumn::new(name, Type::TIMESTAMPTZ, Kind::TimestampTz, 8),
        "INTERVAL" => PgColumn::new(name, Type::INTERVAL, Kind::Interval, 16),
        _ => PgColumn::text(name),
    }
}

/// Would DuckDB's type name tell more than the Arrow type does (text that may be a UUID or JSON)?
pub fn needs_duckdb_names(schema: &duckdb::arrow::datatypes::Schema) -> bool {
    schema
        .fields()
        .iter()
        .any(|f| matches!(f.data_type(), DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View))
}

/// The Postgres type a client declared for a parameter, as DuckDB names it (None: let DuckDB infer it).
pub fn duckdb_type_for(pg: &Type) -> Option<&'static str> {
    Some(match *pg {
        Type::BOOL => "BOOLEAN",
        Type::INT2 => "SMALLINT",
        Type::INT4 => "INTEGER",
        Type::INT8 | Type::OID => "BIGINT",
        Type::FLOAT4 => "FLOAT",
        Type::FLOAT8 => "DOUBLE",
        Type::NUMERIC => "DECIMAL(38, 10)",
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::CHAR => "VARCHAR",
        Type::BYTEA => "BLOB",
        Type::DATE => "DATE",
        Type::TIME => "TIME",
        Type::TIMESTAMP => "TIMESTAMP",
        Type::TIMESTAMPTZ => "TIMESTAMPTZ",
        Type::INTERVAL => "INTERVAL",
        Type::UUID => "UUID",
        Type::JSON | Type::JSONB => "JSON",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use duckdb::arrow::datatypes::TimeUnit;

    fn pg(dt: DataType, duck: Option<&str>) -> (u32, Kind, i16, i32) {
        let c = column(&Field::new("c", dt, true), duck);
        (c.pg.oid(), c.kind, c.typlen, c.typmod)
    }

    #[test]
    fn arrow_types_map_to_postgres_oids() {
        assert_eq!(pg(DataType::Boolean, None), (16, Kind::Bool, 1, -1));
        assert_eq!(pg(DataType::Int8, None).0, 21);
        assert_eq!(pg(DataType::Int32, None).0, 23);
        assert_eq!(pg(DataType::UInt32, None).0, 20);
        assert_eq!(pg(DataType::UInt64, None).0, 1700);
        assert_eq!(pg(DataType::Float64, None).0, 701);
        assert_eq!(
            pg(DataType::Decimal128(10, 2), None),
            (1700, Kind::Numeric, -1, (10 << 16 | 2) + 4)
        );
        assert_eq!(pg(DataType::Utf8, Some("VARCHAR")).0, 25);
        assert_eq!(pg(DataType::Utf8, Some("UUID")).0, 2950);
        assert_eq!(pg(DataType::Utf8, Some("JSON")).0, 114);
        assert_eq!(pg(DataType::Date32, None).0, 1082);
        assert_eq!(pg(DataType::Timestamp(TimeUnit::Microsecond, None), None).0, 1114);
        assert_eq!(
            pg(DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())), None).0,
            1184
        );
        assert_eq!(
            pg(
                DataType::Interval(duckdb::arrow::datatypes::IntervalUnit::MonthDayNano),
                None
            )
            .0,
            1186
        );
        let list = DataType::List(Field::new("item", DataType::Int32, true).into());
        assert_eq!(pg(list, None), (114, Kind::Json, -1, -1));
        assert_eq!(pg(DataType::Null, None).0, 25);
    }
}
