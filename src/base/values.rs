//! Query results as JSON, straight from DuckDB's Arrow batches: numbers stay numbers while a double holds them
//! exactly (longer decimals become strings of their exact digits), times as ISO text, nested values as arrays and
//! objects; types Arrow misstates are cast to text on DuckDB's side. Used for the console, exports and samples.

use duckdb::arrow::array::Array;
use duckdb::arrow::datatypes::{Field, FieldRef};
use duckdb::arrow::record_batch::RecordBatch;
use duckdb::arrow::util::display::{ArrayFormatter, FormatOptions};
use serde_json::Value as Json;

/// Writes cell `row` of every column of `batch` as JSON text into `out` (`[v1,v2,...]`).
pub struct RowEncoder<'a> {
    encoders: Vec<CellEncoder<'a>>,
}

enum CellEncoder<'a> {
    Json(arrow_json::writer::NullableEncoder<'a>),
    /// Decimals (and DuckDB's HUGEINT, exported as a 38-digit decimal): a number while a double holds it exactly,
    /// else its exact digits as a string — never a rounded value.
    Decimal(ArrayFormatter<'a>, &'a dyn Array),
    /// Types arrow-json cannot write (intervals, some binaries) are written as their display text.
    Text(ArrayFormatter<'a>, &'a dyn Array),
    /// A type Arrow can neither write nor display: a placeholder naming it, never a panic.
    Unrenderable(String, &'a dyn Array),
}

impl<'a> RowEncoder<'a> {
    pub fn new(
        batch: &'a RecordBatch,
        fields: &'a [FieldRef],
        options: &'a arrow_json::writer::EncoderOptions,
    ) -> Self {
        let mut encoders = Vec::with_capacity(batch.num_columns());
        for (field, column) in fields.iter().zip(batch.columns()) {
            if is_decimal(field)
                && let Ok(f) = ArrayFormatter::try_new(column.as_ref(), &text_options())
            {
                encoders.push(CellEncoder::Decimal(f, column.as_ref()));
                continue;
            }
            let enc = match arrow_json::writer::make_encoder(field, column.as_ref(), options) {
                Ok(e) => CellEncoder::Json(e),
                Err(_) => match ArrayFormatter::try_new(column.as_ref(), &text_options()) {
                    Ok(f) => CellEncoder::Text(f, column.as_ref()),
                    Err(_) => CellEncoder::Unrenderable(format!("({} value)", type_name(field)), column.as_ref()),
                },
            };
            encoders.push(enc);
        }
        RowEncoder { encoders }
    }

    /// Appends cell (`row`, `col`) as JSON text.
    pub fn cell(&mut self, row: usize, col: usize, out: &mut Vec<u8>) {
        match &mut self.encoders[col] {
            CellEncoder::Json(e) => {
                if e.is_null(row) {
                    out.extend_from_slice(b"null");
                } else {
                    e.encode(row, out);
                }
            }
            CellEncoder::Decimal(f, array) => {
                if array.is_null(row) {
                    out.extend_from_slice(b"null");
                } else {
                    write_decimal(&f.value(row).to_string(), out);
                }
            }
            CellEncoder::Text(f, array) => {
                if array.is_null(row) {
                    out.extend_from_slice(b"null");
                } else {
                    write_json_string(&f.value(row).to_string(), out);
                }
            }
            CellEncoder::Unrenderable(placeholder, array) => {
                if array.is_null(row) {
                    out.extend_from_slice(b"null");
                } else {
                    write_json_string(placeholder, out);
                }
            }
        }
    }

    /// Appends row `row` as a JSON array.
    pub fn row(&mut self, row: usize, out: &mut Vec<u8>) {
        out.push(b'[');
        for col in 0..self.encoders.len() {
            if col > 0 {
                out.push(b',');
            }
            self.cell(row, col, out);
        }
        out.push(b']');
    }
}

fn is_decimal(field: &Field) -> bool {
    use duckdb::arrow::datatypes::DataType as D;
    matches!(
        field.data_type(),
        D::Decimal32(..) | D::Decimal64(..) | D::Decimal128(..) | D::Decimal256(..)
    )
}

/// The most significant digits a JSON number may carry and still read back exactly as a double.
const EXACT_DIGITS: usize = 15;

/// Appends a decimal's text as a JSON number when it has at most [`EXACT_DIGITS`] significant digits, else as a
/// string of its exact digits (a JSON reader would round it).
fn write_decimal(text: &str, out: &mut Vec<u8>) {
    let digits = text.trim_start_matches('-').trim_start_matches(['0', '.']);
    let significant = digits.chars().filter(char::is_ascii_digit).count();
    if significant <= EXACT_DIGITS && text.parse::<f64>().is_ok() {
        out.extend_from_slice(text.as_bytes());
    } else {
        write_json_string(text, out);
    }
}

/// Appends `text` as a JSON string.
fn write_json_string(text: &str, out: &mut Vec<u8>) {
    // Writing into a Vec cannot fail, and a &str is always valid JSON string content.
    let _ = serde_json::to_writer(&mut *out, text);
}

fn text_options() -> FormatOptions<'static> {
    FormatOptions::new().with_display_error(true)
}

/// Encoder options: nulls written explicitly, structs as objects.
pub fn json_options() -> arrow_json::writer::EncoderOptions {
    arrow_json::writer::EncoderOptions::default().with_explicit_nulls(true)
}

/// Fields of a batch, as the encoder wants them.
pub fn fields(batch: &RecordBatch) -> Vec<FieldRef> {
    batch.schema().fields().iter().cloned().collect()
}

/// Every row of a batch as JSON values (at most `limit`).
pub fn batch_rows(batch: &RecordBatch, limit: usize) -> Vec<Vec<Json>> {
    let fields = fields(batch);
    let options = json_options();
    let mut enc = RowEncoder::new(batch, &fields, &options);
    let mut out = Vec::new();
    let mut buf = Vec::new();
    for row in 0..batch.num_rows().min(limit) {
        buf.clear();
        enc.row(row, &mut buf);
        match serde_json::from_slice::<Json>(&buf) {
            Ok(Json::Array(cells)) => out.push(cells),
            _ => out.push(vec![Json::String(String::from_utf8_lossy(&buf).into_owned())]),
        }
    }
    out
}

/// A DuckDB-like type name for an Arrow field, for result headers.
pub fn type_name(field: &Field) -> String {
    use duckdb::arrow::datatypes::DataType as D;
    match field.data_type() {
        D::Boolean => "BOOLEAN".into(),
        D::Int8 => "TINYINT".into(),
        D::Int16 => "SMALLINT".into(),
        D::Int32 => "INTEGER".into(),
        D::Int64 => "BIGINT".into(),
        D::UInt8 => "UTINYINT".into(),
        D::UInt16 => "USMALLINT".into(),
        D::UInt32 => "UINTEGER".into(),
        D::UInt64 => "UBIGINT".into(),
        D::Float32 => "FLOAT".into(),
        D::Float64 => "DOUBLE".into(),
        D::Decimal128(p, s) | D::Decimal64(p, s) | D::Decimal32(p, s) => {
            format!("DECIMAL({p},{s})")
        }
        D::Utf8 | D::LargeUtf8 | D::Utf8View => "VARCHAR".into(),
        D::Date32 | D::Date64 => "DATE".into(),
        D::Decimal256(p, s) => format!("DECIMAL({p},{s})"),
        D::Timestamp(duckdb::arrow::datatypes::TimeUnit::Nanosecond, None) => "TIMESTAMP_NS".into(),
        D::Timestamp(_, None) => "TIMESTAMP".into(),
        D::Timestamp(_, Some(_)) => "TIMESTAMPTZ".into(),
        D::Time32(_) | D::Time64(_) => "TIME".into(),
        D::Interval(_) | D::Duration(_) => "INTERVAL".into(),
        D::Binary | D::LargeBinary | D::BinaryView | D::FixedSizeBinary(_) => "BLOB".into(),
        D::List(_) | D::LargeList(_) | D::FixedSizeList(..) => "LIST".into(),
        D::Struct(_) => "STRUCT".into(),
        D::Map(..) => "MAP".into(),
        D::Dictionary(..) => "VARCHAR".into(),
        D::Union(fields, _) => {
            let members: Vec<String> = fields
                .iter()
                .map(|(_, f)| format!("{} {}", f.name(), type_name(f)))
                .collect();
            format!("UNION({})", members.join(", "))
        }
        other => format!("{other}"),
    }
}

/// `batch` with every nested column (lists, structs, maps, unions) as text in DuckDB's notation, for writers that
/// take flat columns only (CSV). NULL cells stay NULL; NULLs inside a value read `NULL`.
pub fn flat(batch: &RecordBatch) -> Result<RecordBatch, String> {
    use duckdb::arrow::array::{ArrayRef, StringArray};
    use duckdb::arrow::datatypes::{DataType as D, Schema};
    let nested = |t: &D| {
        matches!(
            t,
            D::List(_) | D::LargeList(_) | D::FixedSizeList(..) | D::Struct(_) | D::Map(..) | D::Union(..)
        )
    };
    if !batch.schema().fields().iter().any(|f| nested(f.data_type())) {
        return Ok(batch.clone());
    }
    let options = FormatOptions::new().with_display_error(true).with_null("NULL");
    let mut fields = Vec::with_capacity(batch.num_columns());
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(batch.num_columns());
    for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
        if !nested(field.data_type()) {
            fields.push(field.as_ref().clone());
            columns.push(column.clone());
            continue;
        }
        let formatter = ArrayFormatter::try_new(column.as_ref(), &options).map_err(|e| e.to_string())?;
        let text: StringArray = (0..column.len())
            .map(|i| (!column.is_null(i)).then(|| formatter.value(i).to_string()))
            .collect();
        fields.push(Field::new(field.name(), D::Utf8, true));
        columns.push(std::sync::Arc::new(text));
    }
    RecordBatch::try_new(std::sync::Arc::new(Schema::new(fields)), columns).map_err(|e| e.to_string())
}

/// DuckDB types whose Arrow form misstates the value (UHUGEINT above 2^127 wraps, BIT travels as its internal
/// bytes, BIGNUM as an opaque blob, TIME WITH TIME ZONE loses its offset): cast to text on DuckDB's side.
fn misstated_in_arrow(duckdb_type: &str) -> bool {
    static WORD: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    WORD.get_or_init(|| {
        regex::Regex::new(r"\b(UHUGEINT|BIT|BITSTRING|BIGNUM|VARINT|TIME WITH TIME ZONE)\b").expect("a valid regex")
    })
    .is_match(duckdb_type)
}

/// `sql` wrapped so that the columns whose type Arrow misstates come out as text; None when there are none (or the
/// result cannot be described, or its column names repeat), and `sql` runs as it is. `sql` passed the guard: the
/// wrapper only adds casts around it.
pub fn with_text_columns(conn: &duckdb::Connection, sql: &str) -> Option<String> {
    let query = sql.trim().trim_end_matches(';').trim_end();
    let mut stmt = conn.prepare(&format!("DESCRIBE {query}\n")).ok()?;
    let columns: Vec<(String, String)> = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
        .ok()?
        .collect::<Result<_, _>>()
        .ok()?;
    if !columns.iter().any(|(_, ty)| misstated_in_arrow(ty)) {
        return None;
    }
    let names: std::collections::HashSet<String> = columns.iter().map(|(n, _)| n.to_lowercase()).collect();
    if names.len() != columns.len() {
        return None;
    }
    let select: Vec<String> = columns
        .iter()
        .map(|(name, ty)| {
            let q = crate::base::sql::quote_ident(name);
            if misstated_in_arrow(ty) {
                format!("CAST({q} AS VARCHAR) AS {q}")
            } else {
                q
            }
        })
        .collect();
    Some(format!(
        "SELECT {} FROM ({query}\n) AS meshbox_rendered",
        select.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use duckdb::arrow::array::{ArrayRef, TimestampMicrosecondArray};
    use duckdb::arrow::datatypes::Schema;
    use std::sync::Arc;

    fn one_column(array: ArrayRef) -> RecordBatch {
        let schema = Schema::new(vec![Field::new("v", array.data_type().clone(), true)]);
        RecordBatch::try_new(Arc::new(schema), vec![array]).unwrap()
    }

    #[test]
    fn decimals_stay_exact_numbers_or_become_exact_strings() {
        for (text, json) in [
            ("12.34", "12.34"),
            ("-0.50", "-0.50"),
            ("123456789012345", "123456789012345"),
            ("1234567890123456", "\"1234567890123456\""),
            ("0.000001234567890123456", "\"0.000001234567890123456\""),
            (
                "170141183460469231731687303715884105727",
                "\"170141183460469231731687303715884105727\"",
            ),
        ] {
            let mut out = Vec::new();
            write_decimal(text, &mut out);
            assert_eq!(String::from_utf8(out).unwrap(), json, "{text}");
        }
    }

    #[test]
    fn timestamps_render_in_named_zones_and_offsets() {
        for (zone, want) in [
            ("UTC", "1970-01-01T00:00:00Z"),
            ("Europe/Berlin", "1970-01-01T01:00:00+01:00"),
            ("+05:30", "1970-01-01T05:30:00+05:30"),
        ] {
            let array = TimestampMicrosecondArray::from(vec![Some(0), None]).with_timezone(zone);
            let rows = batch_rows(&one_column(Arc::new(array)), 10);
            assert_eq!(rows, vec![vec![Json::from(want)], vec![Json::Null]], "{zone}");
        }
    }
}
