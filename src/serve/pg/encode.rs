//! Arrow batches as Postgres `DataRow`s: each cell read into a plain value, then written in the text or binary
//! format the client asked for (Postgres output conventions: ISO dates, `t`/`f`, `\x` byte strings, `postgres`
//! interval style, numeric in base 10000).

use super::types::{Kind, PgColumn};
use duckdb::arrow::array::{Array, ArrayRef, AsArray};
use duckdb::arrow::datatypes::{self as dt, DataType, TimeUnit};
use duckdb::arrow::record_batch::RecordBatch;
use duckdb::arrow::util::display::{ArrayFormatter, FormatOptions};
use pgwire::api::results::FieldFormat;
use pgwire::messages::data::DataRow;
use std::fmt::Write;

/// Microseconds between 1970-01-01 and 2000-01-01, Postgres's binary epoch.
const PG_EPOCH_MICROS: i64 = 946_684_800_000_000;
const PG_EPOCH_DAYS: i32 = 10_957;
const MICROS_PER_DAY: i64 = 86_400_000_000;

/// The byte buffer a `DataRow` is written into (pgwire's `BytesMut`), named by what the encoders need of it.
pub trait RowBuffer: Extend<u8> + Write + std::ops::DerefMut<Target = [u8]> {}

impl<T: Extend<u8> + Write + std::ops::DerefMut<Target = [u8]>> RowBuffer for T {}

fn put(buf: &mut impl RowBuffer, bytes: &[u8]) {
    buf.extend(bytes.iter().copied());
}

fn put_str(buf: &mut impl RowBuffer, text: &str) {
    let _ = buf.write_str(text);
}

/// One cell, read out of its Arrow array.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    Bool(bool),
    Int(i64),
    /// An unscaled decimal and its scale (also 64-bit unsigned and 128-bit integers, scale 0).
    Decimal(i128, i8),
    Float(f64),
    Str(&'a str),
    Owned(String),
    Bytes(&'a [u8]),
    /// Days since 1970-01-01.
    Date(i64),
    /// Microseconds since midnight.
    Time(i64),
    /// Microseconds since 1970-01-01 (UTC for `timestamptz`).
    Timestamp(i64),
    Interval {
        months: i32,
        days: i32,
        micros: i64,
    },
}

/// Encodes the rows of one batch.
pub struct BatchEncoder<'a> {
    arrays: Vec<&'a ArrayRef>,
    formatters: Vec<Option<ArrayFormatter<'a>>>,
    json: Option<crate::base::values::RowEncoder<'a>>,
    columns: &'a [PgColumn],
    formats: &'a [FieldFormat],
    scratch: Vec<u8>,
}

impl<'a> BatchEncoder<'a> {
    /// `fields` and `options` must outlive the encoder (`crate::base::values::fields`/`json_options`).
    pub fn new(
        batch: &'a RecordBatch,
        fields: &'a [duckdb::arrow::datatypes::FieldRef],
        options: &'a arrow_json::writer::EncoderOptions,
        columns: &'a [PgColumn],
        formats: &'a [FieldFormat],
    ) -> BatchEncoder<'a> {
        let arrays: Vec<&ArrayRef> = batch.columns().iter().collect();
        let formatters = batch
            .columns()
            .iter()
            .map(|a| {
                let plain = is_plain(a.data_type());
                (!plain).then(|| ArrayFormatter::try_new(a.as_ref(), &FormatOptions::default()).ok())?
            })
            .collect();
        let json = columns
            .iter()
            .any(|c| c.kind == Kind::Json)
            .then(|| crate::base::values::RowEncoder::new(batch, fields, options));
        BatchEncoder {
            arrays,
            formatters,
            json,
            columns,
            formats,
            scratch: Vec::new(),
        }
    }

    /// Rows `from..to` as `DataRow`s.
    pub fn rows(&mut self, from: usize, to: usize) -> Result<Vec<DataRow>, String> {
        let mut buf = DataRow::default().data;
        buf.reserve((to - from) * 16 * self.arrays.len().max(1));
        let mut out = Vec::with_capacity(to - from);
        for row in from..to {
            for col in 0..self.arrays.len() {
                self.cell(row, col, &mut buf)?;
            }
            out.push(DataRow::new(buf.split(), self.arrays.len() as i16));
        }
        Ok(out)
    }

    /// Writes one cell: its length, then its bytes (-1 for NULL).
    fn cell(&mut self, row: usize, col: usize, buf: &mut impl RowBuffer) -> Result<(), String> {
        let array = self.arrays[col];
        if array.is_null(row) || array.data_type() == &DataType::Null {
            put(buf, &(-1i32).to_be_bytes());
            return Ok(());
        }
        let value = self.value(row, col);
        let at = buf.len();
        put(buf, &0i32.to_be_bytes());
        let column = &self.columns[col];
        match self.formats.get(col).copied().unwrap_or(FieldFormat::Text) {
            FieldFormat::Text => write_text(&value, column.kind, buf),
            FieldFormat::Binary => write_binary(&value, column, buf)?,
        }
        let len = (buf.len() - at - 4) as i32;
        buf[at..at + 4].copy_from_slice(&len.to_be_bytes());
        Ok(())
    }

    fn value(&mut self, row: usize, col: usize) -> Value<'a> {
        if self.columns[col].kind == Kind::Json
            && let Some(json) = self.json.as_mut()
        {
            self.scratch.clear();
            json.cell(row, col, &mut self.scratch);
            return Value::Owned(String::from_utf8_lossy(&self.scratch).into_owned());
        }
        if let Some(v) = read_plain(self.arrays[col].as_ref(), row) {
            return v;
        }
        match &self.formatters[col] {
            Some(f) => Value::Owned(f.value(row).to_string()),
            None => Value::Owned(format!("({} value)", self.arrays[col].data_type())),
        }
    }
}

/// Types `read_plain` reads; the rest are written as Arrow displays them.
fn is_plain(t: &DataType) -> bool {
    use DataType as D;
    matches!(
        t,
        D::Boolean
            | D::Int8
            | D::Int16
            | D::Int32
            | D::Int64
            | D::UInt8
            | D::UInt16
            | D::UInt32
            | D::UInt64
            | D::Float32
            | D::Float64
            | D::Decimal32(..)
            | D::Decimal64(..)
            | D::Decimal128(..)
            | D::Utf8
            | D::LargeUtf8
            | D::Utf8View
            | D::Binary
            | D::LargeBinary
            | D::BinaryView
            | D::Date32
            | D::Time64(_)
            | D::Timestamp(..)
            | D::Interval(dt::IntervalUnit::MonthDayNano)
    )
}

/// Cell `row` of `a` as a value, for the types `is_plain` names.
fn read_plain(a: &dyn Array, row: usize) -> Option<Value<'_>> {
    use DataType as D;
    Some(match a.data_type() {
        D::Boolean => Value::Bool(a.as_boolean().value(row)),
        D::Int8 => Value::Int(a.as_primitive::<dt::Int8Type>().value(row).into()),
        D::Int16 => Value::Int(a.as_primitive::<dt::Int16Type>().value(row).into()),
        D::Int32 => Value::Int(a.as_primitive::<dt::Int32Type>().value(row).into()),
        D::Int64 => Value::Int(a.as_primitive::<dt::Int64Type>().value(row)),
        D::UInt8 => Value::Int(a.as_primitive::<dt::UInt8Type>().value(row).into()),
        D::UInt16 => Value::Int(a.as_primitive::<dt::UInt16Type>().value(row).into()),
        D::UInt32 => Value::Int(a.as_primitive::<dt::UInt32Type>().value(row).into()),
        D::UInt64 => Value::Decimal(a.as_primitive::<dt::UInt64Type>().value(row).into(), 0),
        D::Float32 => Value::Float(a.as_primitive::<dt::Float32Type>().value(row).into()),
        D::Float64 => Value::Float(a.as_primitive::<dt::Float64Type>().value(row)),
        D::Decimal32(_, s) => Value::Decimal(a.as_primitive::<dt::Decimal32Type>().value(row).into(), *s),
        D::Decimal64(_, s) => Value::Decimal(a.as_primitive::<dt::Decimal64Type>().value(row).into(), *s),
        D::Decimal128(_, s) => Value::Decimal(a.as_primitive::<dt::Decimal128Type>().value(row), *s),
        D::Utf8 => Value::Str(a.as_string::<i32>().value(row)),
        D::LargeUtf8 => Value::Str(a.as_string::<i64>().value(row)),
        D::Utf8View => Value::Str(a.as_string_view().value(row)),
        D::Binary => Value::Bytes(a.as_binary::<i32>().value(row)),
        D::LargeBinary => Value::Bytes(a.as_binary::<i64>().value(row)),
        D::BinaryView => Value::Bytes(a.as_binary_view().value(row)),
        D::Date32 => Value::Date(a.as_primitive::<dt::Date32Type>().value(row).into()),
        D::Time64(TimeUnit::Microsecond) => Value::Time(a.as_primitive::<dt::Time64MicrosecondType>().value(row)),
        D::Time64(_) => Value::Time(a.as_primitive::<dt::Time64NanosecondType>().value(row) / 1000),
        D::Timestamp(unit, _) => Value::Timestamp(timestamp_micros(a, unit, row)),
        D::Interval(dt::IntervalUnit::MonthDayNano) => {
            let v = a.as_primitive::<dt::IntervalMonthDayNanoType>().value(row);
            Value::Interval {
                months: v.months,
                days: v.days,
                micros: v.nanoseconds / 1000,
            }
        }
        _ => return None,
    })
}

fn timestamp_micros(a: &dyn Array, unit: &TimeUnit, row: usize) -> i64 {
    match unit {
        TimeUnit::Second => a
            .as_primitive::<dt::TimestampSecondType>()
            .value(row)
            .saturating_mul(1_000_000),
        TimeUnit::Millisecond => a
            .as_primitive::<dt::TimestampMillisecondType>()
            .value(row)
            .saturating_mul(1000),
        TimeUnit::Microsecond => a.as_primitive::<dt::TimestampMicrosecondType>().value(row),
        TimeUnit::Nanosecond => a
            .as_primitive::<dt::TimestampNanosecondType>()
            .value(row)
            .div_euclid(1000),
    }
}

/// Appends the text format of `value`.
pub fn write_text(value: &Value, kind: Kind, buf: &mut impl RowBuffer) {
    match value {
        Value::Bool(b) => put_str(buf, if *b { "t" } else { "f" }),
        Value::Int(i) => {
            let _ = write!(buf, "{i}");
        }
        Value::Decimal(v, s) => put_str(buf, &decimal_text(*v, *s)),
        Value::Float(f) => put_str(buf, &float_text(*f, kind == Kind::Float4)),
        Value::Str(s) => put_str(buf, s),
        Value::Owned(s) => put_str(buf, s),
        Value::Bytes(b) => {
            put_str(buf, "\\x");
            for byte in *b {
                let _ = write!(buf, "{byte:02x}");
            }
        }
        Value::Date(days) => put_str(buf, &date_text(*days)),
        Value::Time(micros) => put_str(buf, &time_text(*micros)),
        Value::Timestamp(micros) => put_str(buf, &timestamp_text(*micros, kind == Kind::TimestampTz)),
        Value::Interval { months, days, micros } => put_str(buf, &interval_text(*months, *days, *micros)),
    }
}

/// Appends the binary format of `value` for `column`'s type.
pub fn write_binary(value: &Value, column: &PgColumn, buf: &mut impl RowBuffer) -> Result<(), String> {
    match value {
        Value::Bool(b) => put(buf, &[u8::from(*b)]),
        Value::Int(i) => match column.typlen {
            2 => put(
                buf,
                &i16::try_from(*i)
                    .map_err(|_| format!("{i} does not fit in int2"))?
                    .to_be_bytes(),
            ),
            4 => put(
                buf,
                &i32::try_from(*i)
                    .map_err(|_| format!("{i} does not fit in int4"))?
                    .to_be_bytes(),
            ),
            _ => put(buf, &i.to_be_bytes()),
        },
        Value::Decimal(v, s) => numeric_binary(*v, *s, buf),
        Value::Float(f) if column.kind == Kind::Float4 => put(buf, &(*f as f32).to_be_bytes()),
        Value::Float(f) => put(buf, &f.to_be_bytes()),
        Value::Str(s) if column.kind == Kind::Uuid => put(buf, &uuid_bytes(s)?),
        Value::Str(s) => put_str(buf, s),
        Value::Owned(s) => put_str(buf, s),
        Value::Bytes(b) => put(buf, b),
        Value::Date(days) => put(buf, &(*days as i32).wrapping_sub(PG_EPOCH_DAYS).to_be_bytes()),
        Value::Time(micros) => put(buf, &micros.to_be_bytes()),
        Value::Timestamp(micros) => put(buf, &micros.saturating_sub(PG_EPOCH_MICROS).to_be_bytes()),
        Value::Interval { months, days, micros } => {
            put(buf, &micros.to_be_bytes());
            put(buf, &days.to_be_bytes());
            put(buf, &months.to_be_bytes());
        }
    }
    Ok(())
}

fn uuid_bytes(text: &str) -> Result<[u8; 16], String> {
    let hex: Vec<u8> = text.bytes().filter(|b| *b != b'-').collect();
    let mut out = [0u8; 16];
    if hex.len() != 32 {
        return Err(format!("`{text}` is not a UUID"));
    }
    for (i, pair) in hex.chunks(2).enumerate() {
        let s = std::str::from_utf8(pair).map_err(|e| e.to_string())?;
        out[i] = u8::from_str_radix(s, 16).map_err(|_| format!("`{text}` is not a UUID"))?;
    }
    Ok(out)
}

/// `12.50` from (1250, 2).
pub fn decimal_text(v: i128, scale: i8) -> String {
    if scale <= 0 {
        return (v * 10i128.pow(u32::from(scale.unsigned_abs()))).to_string();
    }
    let scale = scale as usize;
    let digits = v.unsigned_abs().to_string();
    let digits = format!("{}{digits}", "0".repeat((scale + 1).saturating_sub(digits.len())));
    let (int, frac) = digits.split_at(digits.len() - scale);
    format!("{}{int}.{frac}", if v < 0 { "-" } else { "" })
}

/// Postgres's `float8out`: shortest exact digits, exponent form for very large or small magnitudes.
pub fn float_text(f: f64, single: bool) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    let sci = if single {
        format!("{:e}", f as f32)
    } else {
        format!("{f:e}")
    };
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let limit = if single { 6 } else { 15 };
    if f != 0.0 && (exp < -4 || exp >= limit) {
        format!("{mantissa}e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs())
    } else if single {
        (f as f32).to_string()
    } else {
        f.to_string()
    }
}

/// Postgres's binary `numeric`: base-10000 digit groups around the decimal point.
pub fn numeric_binary(v: i128, scale: i8, buf: &mut impl RowBuffer) {
    let (v, scale) = if scale < 0 {
        (v * 10i128.pow(u32::from(scale.unsigned_abs())), 0usize)
    } else {
        (v, scale as usize)
    };
    let digits = v.unsigned_abs().to_string();
    let digits = format!("{}{digits}", "0".repeat((scale + 1).saturating_sub(digits.len())));
    let (int, frac) = digits.split_at(digits.len() - scale);
    let int = int.trim_start_matches('0');
    let int = format!("{}{int}", "0".repeat((4 - int.len() % 4) % 4));
    let frac = format!("{frac}{}", "0".repeat((4 - frac.len() % 4) % 4));
    let group = |chunk: &[u8]| -> i16 {
        std::str::from_utf8(chunk)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    };
    let mut groups: Vec<i16> = int.as_bytes().chunks(4).map(group).collect();
    let mut weight = groups.len() as i16 - 1;
    groups.extend(frac.as_bytes().chunks(4).map(group));
    while groups.first() == Some(&0) {
        groups.remove(0);
        weight -= 1;
    }
    while groups.last() == Some(&0) {
        groups.pop();
    }
    if groups.is_empty() {
        weight = 0;
    }
    put(buf, &(groups.len() as i16).to_be_bytes());
    put(buf, &weight.to_be_bytes());
    put(
        buf,
        &(if v < 0 && !groups.is_empty() { 0x4000u16 } else { 0 }).to_be_bytes(),
    );
    put(buf, &(scale as i16).to_be_bytes());
    for g in groups {
        put(buf, &g.to_be_bytes());
    }
}

/// (year, month, day) of a day count since 1970-01-01 (proleptic Gregorian).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// `2024-01-31`, and `0044-03-15 BC` before year 1; the era suffix separately.
fn date_parts(days: i64) -> (String, &'static str) {
    let (y, m, d) = civil_from_days(days);
    if y <= 0 {
        (format!("{:04}-{m:02}-{d:02}", 1 - y), " BC")
    } else {
        (format!("{y:04}-{m:02}-{d:02}"), "")
    }
}

pub fn date_text(days: i64) -> String {
    let (date, era) = date_parts(days);
    format!("{date}{era}")
}

/// `HH:MM:SS` with the fraction of a second when there is one (`10:00:01.5`); hours may pass 24 (intervals).
pub fn time_text(micros: i64) -> String {
    let micros = micros.unsigned_abs();
    let (secs, frac) = (micros / 1_000_000, micros % 1_000_000);
    let mut out = format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60);
    if frac > 0 {
        let f = format!("{frac:06}");
        out.push('.');
        out.push_str(f.trim_end_matches('0'));
    }
    out
}

pub fn timestamp_text(micros: i64, with_zone: bool) -> String {
    let (date, era) = date_parts(micros.div_euclid(MICROS_PER_DAY));
    let time = time_text(micros.rem_euclid(MICROS_PER_DAY));
    format!("{date} {time}{}{era}", if with_zone { "+00" } else { "" })
}

/// Postgres's `IntervalStyle = postgres`: `1 year 2 mons 3 days 04:05:06.5`.
pub fn interval_text(months: i32, days: i32, micros: i64) -> String {
    let mut parts: Vec<String> = Vec::new();
    let unit = |n: i64, one: &str| format!("{n} {one}{}", if n == 1 { "" } else { "s" });
    let (years, mons) = (months / 12, months % 12);
    if years != 0 {
        parts.push(unit(years.into(), "year"));
    }
    if mons != 0 {
        parts.push(unit(mons.into(), "mon"));
    }
    if days != 0 {
        parts.push(unit(days.into(), "day"));
    }
    if micros != 0 || parts.is_empty() {
        let negative_before = years < 0 || mons < 0 || days < 0;
        let sign = if micros < 0 {
            "-"
        } else if negative_before {
            "+"
        } else {
            ""
        };
        parts.push(format!("{sign}{}", time_text(micros)));
    }
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_follow_postgres_output_conventions() {
        assert_eq!(decimal_text(1250, 2), "12.50");
        assert_eq!(decimal_text(-5, 3), "-0.005");
        assert_eq!(decimal_text(42, 0), "42");
        assert_eq!(float_text(1.5, false), "1.5");
        assert_eq!(float_text(1e16, false), "1e+16");
        assert_eq!(float_text(123456789012345.0, false), "123456789012345");
        assert_eq!(float_text(0.00001, false), "1e-05");
        assert_eq!(float_text(0.0001, false), "0.0001");
        assert_eq!(float_text(1234567.0, true), "1.234567e+06");
        assert_eq!(float_text(0.1, true), "0.1");
        assert_eq!(float_text(f64::NEG_INFINITY, false), "-Infinity");
        assert_eq!(date_text(0), "1970-01-01");
        assert_eq!(date_text(19_723), "2024-01-01");
        assert_eq!(date_text(-719_528), "0001-01-01 BC");
        assert_eq!(date_text(-719_529), "0002-12-31 BC");
        assert_eq!(time_text(36_001_500_000), "10:00:01.5");
        assert_eq!(timestamp_text(1_704_103_200_000_000, true), "2024-01-01 10:00:00+00");
        assert_eq!(timestamp_text(-1, false), "1969-12-31 23:59:59.999999");
        assert_eq!(interval_text(14, 3, 14_706_500_000), "1 year 2 mons 3 days 04:05:06.5");
        assert_eq!(interval_text(0, 0, 0), "00:00:00");
        assert_eq!(interval_text(0, -1, 7_200_000_000), "-1 days +02:00:00");
        assert_eq!(interval_text(1, 1, 0), "1 mon 1 day");
    }

    fn numeric(v: i128, s: i8) -> Vec<i16> {
        let mut buf = DataRow::default().data;
        numeric_binary(v, s, &mut buf);
        buf.chunks(2).map(|c| i16::from_be_bytes([c[0], c[1]])).collect()
    }

    #[test]
    fn numerics_are_base_10000_groups() {
        // ndigits, weight, sign, dscale, digits…
        assert_eq!(numeric(1250, 2), [2, 0, 0, 2, 12, 5000]);
        assert_eq!(numeric(1, 4), [1, -1, 0, 4, 1]);
        assert_eq!(numeric(1, 5), [1, -2, 0, 5, 1000]);
        assert_eq!(numeric(100_000_000, 0), [1, 2, 0, 0, 1]);
        assert_eq!(numeric(-123_456_789, 3), [3, 1, 0x4000, 3, 12, 3456, 7890]);
        assert_eq!(numeric(0, 2), [0, 0, 0, 2]);
    }

    #[test]
    fn binary_values_use_the_postgres_epoch() {
        let col = super::super::types::PgColumn::text("t");
        let mut buf = DataRow::default().data;
        write_binary(&Value::Date(10_957), &col, &mut buf).unwrap();
        write_binary(&Value::Timestamp(946_684_800_000_001), &col, &mut buf).unwrap();
        assert_eq!(&buf[..], &[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        assert_eq!(
            uuid_bytes("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11").unwrap()[..3],
            [0xa0, 0xee, 0xbc]
        );
        assert!(uuid_bytes("nope").is_err());
    }
}
