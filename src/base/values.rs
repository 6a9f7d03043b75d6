//! Query results as JSON, straight from DuckDB's Arrow batches: numbers stay numbers (decimals exact), times as
//! ISO text, nested values as arrays and objects. Used for the console, sample rows and failed-row samples.

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
        D::Timestamp(_, None) => "TIMESTAMP".into(),
        D::Timestamp(_, Some(_)) => "TIMESTAMPTZ".into(),
        D::Time32(_) | D::Time64(_) => "TIME".into(),
        D::Interval(_) | D::Duration(_) => "INTERVAL".into(),
        D::Binary | D::LargeBinary | D::BinaryView | D::FixedSizeBinary(_) => "BLOB".into(),
        D::List(_) | D::LargeList(_) | D::FixedSizeList(..) => "LIST".into(),
        D::Struct(_) => "STRUCT".into(),
        D::Map(..) => "MAP".into(),
        D::Dictionary(..) => "VARCHAR".into(),
        other => format!("{other}"),
    }
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
