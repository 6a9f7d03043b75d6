//! Bind parameters as SQL constants: each value (text or binary format) is read as the type the client declared and
//! written into the statement as a quoted, typed constant. The guard then inspects the statement with its values in
//! place, so a parameter can change a value, never what the statement does.

use super::encode::{date_text, decimal_text, interval_text, time_text, timestamp_text};
use super::sql_text::string_literal;
use super::types::duckdb_type_for;
use pgwire::api::Type;
use pgwire::api::portal::Format;

/// The SQL constants for `values` (`None` is NULL), read as `declared` types in the given formats.
pub fn literals(
    values: &[Option<axum::body::Bytes>],
    formats: &Format,
    declared: &[Option<Type>],
) -> Result<Vec<String>, String> {
    values
        .iter()
        .enumerate()
        .map(|(i, value)| {
            let Some(bytes) = value else {
                return Ok("NULL".to_string());
            };
            let ty = declared.get(i).cloned().flatten();
            let text = if is_binary(formats, i)? {
                binary_as_text(ty.as_ref(), bytes)?
            } else {
                String::from_utf8(bytes.to_vec()).map_err(|_| format!("parameter ${} is not UTF-8 text", i + 1))?
            };
            literal(ty.as_ref(), &text).map_err(|e| format!("parameter ${}: {e}", i + 1))
        })
        .collect()
}

/// Is parameter `i` in binary format? A format list that does not cover it is the client's mistake.
fn is_binary(formats: &Format, i: usize) -> Result<bool, String> {
    match formats {
        Format::Individual(codes) => codes
            .get(i)
            .map(|c| *c == 1)
            .ok_or_else(|| format!("no format code was given for parameter ${}", i + 1)),
        other => Ok(other.is_binary(i)),
    }
}

/// The SQL constant for a parameter given as text.
pub fn literal(ty: Option<&Type>, text: &str) -> Result<String, String> {
    if text.contains('\0') {
        return Err("text cannot hold a zero byte".into());
    }
    let Some(ty) = ty else {
        return Ok(string_literal(text));
    };
    match *ty {
        Type::BOOL => bool_literal(text),
        Type::INT2 | Type::INT4 | Type::INT8 | Type::OID => {
            let n: i64 = text.trim().parse().map_err(|_| format!("`{text}` is not an integer"))?;
            Ok(format!("CAST({n} AS {})", duckdb_type_for(ty).unwrap_or("BIGINT")))
        }
        Type::NUMERIC => numeric_literal(text),
        Type::BYTEA => bytea_literal(text),
        _ => Ok(match duckdb_type_for(ty) {
            Some(t) => format!("CAST({} AS {t})", string_literal(text)),
            None => string_literal(text),
        }),
    }
}

fn bool_literal(text: &str) -> Result<String, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "t" | "true" | "1" | "y" | "yes" | "on" => Ok("TRUE".into()),
        "f" | "false" | "0" | "n" | "no" | "off" => Ok("FALSE".into()),
        _ => Err(format!("`{text}` is not a boolean")),
    }
}

fn numeric_literal(text: &str) -> Result<String, String> {
    let t = text.trim();
    let plain = !t.is_empty()
        && t.trim_start_matches(['-', '+'])
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.')
        && t.matches('.').count() <= 1;
    if !plain {
        // NaN, Infinity and exponents: as a double.
        return Ok(format!("CAST({} AS DOUBLE)", string_literal(t)));
    }
    let scale = t.split_once('.').map_or(0, |(_, f)| f.len());
    let digits = t.chars().filter(char::is_ascii_digit).count();
    if digits > 38 {
        return Ok(format!("CAST({} AS DOUBLE)", string_literal(t)));
    }
    Ok(format!("CAST({} AS DECIMAL(38, {}))", string_literal(t), scale.min(37)))
}

/// `\x0a0b` (Postgres hex format) or an escaped string, as a DuckDB blob constant.
fn bytea_literal(text: &str) -> Result<String, String> {
    let bytes: Vec<u8> = match text.strip_prefix("\\x") {
        Some(hex) => (0..hex.len())
            .step_by(2)
            .map(|i| {
                hex.get(i..i + 2)
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| "invalid hexadecimal bytea".to_string())
            })
            .collect::<Result<_, _>>()?,
        None => text.as_bytes().to_vec(),
    };
    Ok(blob_literal(&bytes))
}

pub fn blob_literal(bytes: &[u8]) -> String {
    let escaped: String = bytes.iter().map(|b| format!("\\x{b:02X}")).collect();
    format!("CAST('{escaped}' AS BLOB)")
}

/// A binary-format parameter as the text Postgres would print for it (bytea as `\x…`).
fn binary_as_text(ty: Option<&Type>, bytes: &[u8]) -> Result<String, String> {
    let fixed = |n: usize| -> Result<&[u8], String> {
        (bytes.len() == n)
            .then_some(bytes)
            .ok_or_else(|| format!("expected {n} bytes, got {}", bytes.len()))
    };
    let be_i64 = |b: &[u8]| i64::from_be_bytes(b.try_into().unwrap_or([0; 8]));
    let be_i32 = |b: &[u8]| i32::from_be_bytes(b.try_into().unwrap_or([0; 4]));
    let Some(ty) = ty else {
        return String::from_utf8(bytes.to_vec()).map_err(|_| "binary value of unknown type".into());
    };
    Ok(match *ty {
        Type::BOOL => (fixed(1)?[0] != 0).to_string(),
        Type::INT2 => i16::from_be_bytes(fixed(2)?.try_into().unwrap_or([0; 2])).to_string(),
        Type::INT4 | Type::OID => be_i32(fixed(4)?).to_string(),
        Type::INT8 => be_i64(fixed(8)?).to_string(),
        Type::FLOAT4 => f32::from_be_bytes(fixed(4)?.try_into().unwrap_or([0; 4])).to_string(),
        Type::FLOAT8 => f64::from_be_bytes(fixed(8)?.try_into().unwrap_or([0; 8])).to_string(),
        Type::NUMERIC => numeric_text(bytes)?,
        Type::BYTEA => bytes.iter().fold("\\x".to_string(), |s, b| s + &format!("{b:02x}")),
        Type::UUID => uuid_text(fixed(16)?),
        Type::DATE => date_text(i64::from(be_i32(fixed(4)?)) + 10_957),
        Type::TIME => time_text(be_i64(fixed(8)?)),
        Type::TIMESTAMP => timestamp_text(be_i64(fixed(8)?) + 946_684_800_000_000, false),
        Type::TIMESTAMPTZ => timestamp_text(be_i64(fixed(8)?) + 946_684_800_000_000, true),
        Type::INTERVAL => {
            let b = fixed(16)?;
            interval_text(be_i32(&b[12..16]), be_i32(&b[8..12]), be_i64(&b[0..8]))
        }
        Type::JSONB => String::from_utf8(bytes.get(1..).unwrap_or_default().to_vec()).map_err(|e| e.to_string())?,
        _ => String::from_utf8(bytes.to_vec()).map_err(|_| format!("binary {} values are not supported", ty.name()))?,
    })
}

fn uuid_text(b: &[u8]) -> String {
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// Postgres's binary numeric as decimal text.
fn numeric_text(b: &[u8]) -> Result<String, String> {
    let word = |i: usize| -> Result<i16, String> {
        b.get(i * 2..i * 2 + 2)
            .map(|w| i16::from_be_bytes([w[0], w[1]]))
            .ok_or_else(|| "truncated numeric".to_string())
    };
    let (ndigits, weight, sign, dscale) = (word(0)?, word(1)?, word(2)? as u16, word(3)?);
    if sign == 0xC000 {
        return Ok("NaN".into());
    }
    let mut value: i128 = 0;
    let digits: Vec<i16> = (0..ndigits.max(0) as usize)
        .map(|i| word(4 + i))
        .collect::<Result<_, _>>()?;
    // value = sum(d_i * 10000^(weight - i)), scaled by 10^dscale.
    for (i, d) in digits.iter().enumerate() {
        let exp = 4 * (i32::from(weight) - i as i32) + i32::from(dscale);
        let term = i128::from(*d)
            .checked_mul(pow10(exp.max(0))?)
            .ok_or("numeric too large")?
            / pow10((-exp).max(0))?;
        value = value.checked_add(term).ok_or("numeric too large")?;
    }
    let text = decimal_text(value, dscale.clamp(0, 38) as i8);
    Ok(if sign == 0x4000 { format!("-{text}") } else { text })
}

fn pow10(exp: i32) -> Result<i128, String> {
    10i128
        .checked_pow(exp as u32)
        .ok_or_else(|| "numeric too large".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_parameters_become_typed_constants() {
        assert_eq!(literal(None, "it's").unwrap(), "'it''s'");
        assert_eq!(literal(Some(&Type::INT4), " -5").unwrap(), "CAST(-5 AS INTEGER)");
        assert!(literal(Some(&Type::INT8), "1; DROP TABLE x").is_err());
        assert_eq!(literal(Some(&Type::BOOL), "t").unwrap(), "TRUE");
        assert_eq!(
            literal(Some(&Type::NUMERIC), "12.50").unwrap(),
            "CAST('12.50' AS DECIMAL(38, 2))"
        );
        assert_eq!(literal(Some(&Type::NUMERIC), "NaN").unwrap(), "CAST('NaN' AS DOUBLE)");
        assert_eq!(
            literal(Some(&Type::BYTEA), "\\x0aff").unwrap(),
            "CAST('\\x0A\\xFF' AS BLOB)"
        );
        assert_eq!(
            literal(Some(&Type::TIMESTAMPTZ), "2024-01-01 10:00:00+02").unwrap(),
            "CAST('2024-01-01 10:00:00+02' AS TIMESTAMPTZ)"
        );
        assert!(literal(Some(&Type::TEXT), "a\0b").is_err());
    }

    #[test]
    fn binary_parameters_are_read_as_their_type() {
        let text = |ty: Type, b: &[u8]| binary_as_text(Some(&ty), b).unwrap();
        assert_eq!(text(Type::INT8, &42i64.to_be_bytes()), "42");
        assert_eq!(text(Type::BOOL, &[1]), "true");
        assert_eq!(text(Type::DATE, &0i32.to_be_bytes()), "2000-01-01");
        assert_eq!(text(Type::UUID, &[0xa0; 16]), "a0a0a0a0-a0a0-a0a0-a0a0-a0a0a0a0a0a0");
        let mut n = Vec::new();
        for w in [2i16, 0, 0x4000u16 as i16, 2, 12, 5000] {
            n.extend(w.to_be_bytes());
        }
        assert_eq!(text(Type::NUMERIC, &n), "-12.50");
        assert!(binary_as_text(Some(&Type::INT4), &[1, 2]).is_err());
        assert!(is_binary(&Format::Individual(vec![1]), 1).is_err());
    }
}
