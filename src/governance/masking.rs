//! The four masking methods, twice: as SQL that builds a masked copy of a table (run on meshbox's own connection to
//! the unmasked database, never on a user's), and in Rust for the catalog's sample rows. Both give the same values.

use crate::base::sql::{quote_ident, quote_literal};
use serde::Serialize;
use serde_json::Value;

/// How a value of a classification is hidden from a role that may not see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum MaskMethod {
    /// A fixed text (`•••`), NULL for non-text columns.
    Redact,
    /// A stable hash: equal values hash alike, so joins still work.
    Hash,
    /// Part of the value: an e-mail keeps its domain, other text its first character.
    Partial,
    /// NULL.
    Null,
}

impl MaskMethod {
    pub fn as_str(&self) -> &'static str {
        match self {
            MaskMethod::Redact => "redact",
            MaskMethod::Hash => "hash",
            MaskMethod::Partial => "partial",
            MaskMethod::Null => "null",
        }
    }

    pub fn parse(s: &str) -> Option<MaskMethod> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "redact" => MaskMethod::Redact,
            "hash" => MaskMethod::Hash,
            "partial" => MaskMethod::Partial,
            "null" => MaskMethod::Null,
            _ => return None,
        })
    }
}

/// What `redact` shows in place of a text value.
pub const REDACTED: &str = "•••";

/// A secret mixed into every hash so that a hashed value cannot be looked up in a dictionary of known values.
#[derive(Clone)]
pub struct Salt(String);

impl std::fmt::Debug for Salt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Salt(…)")
    }
}

impl Salt {
    /// A new random salt (from the operating system's generator).
    pub fn random() -> Salt {
        let mut bytes = [0u8; 16];
        let filled = std::fs::File::open("/dev/urandom")
            .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut bytes))
            .is_ok();
        if !filled {
            // No /dev/urandom: the clock and the process id still make it unguessable from inside a query.
            let seed = format!("{:?}{}", std::time::SystemTime::now(), std::process::id());
            bytes.copy_from_slice(&md5::Md5::digest(seed.as_bytes())[..16]);
        }
        Salt(bytes.iter().map(|b| format!("{b:02x}")).collect())
    }

    /// The salt kept in `dir/hash-salt` (created on first use), so hashes stay the same across restarts.
    pub fn stored_in(dir: &std::path::Path) -> Salt {
        let file = dir.join("hash-salt");
        if let Ok(s) = std::fs::read_to_string(&file) {
            let s = s.trim();
            if s.len() >= 16 && s.chars().all(|c| c.is_ascii_hexdigit()) {
                return Salt(s.to_string());
            }
        }
        let salt = Salt::random();
        if std::fs::create_dir_all(dir).is_ok() {
            let _ = std::fs::write(&file, &salt.0);
        }
        salt
    }

    #[cfg(test)]
    pub fn fixed(s: &str) -> Salt {
        Salt(s.to_string())
    }
}

use md5::Digest;

fn is_text(data_type: &str) -> bool {
    data_type.to_ascii_uppercase().starts_with("VARCHAR")
}

/// The SQL expression for column `name` of type `data_type` under `method`, named `name`.
pub fn sql(method: Option<MaskMethod>, name: &str, data_type: &str, salt: &Salt) -> String {
    let q = quote_ident(name);
    let expr = match method {
        None => return q,
        Some(MaskMethod::Null) => format!("CAST(NULL AS {data_type})"),
        Some(MaskMethod::Redact) if is_text(data_type) => {
            format!("CASE WHEN {q} IS NULL THEN NULL ELSE {} END", quote_literal(REDACTED))
        }
        Some(MaskMethod::Redact | MaskMethod::Partial) if !is_text(data_type) => format!("CAST(NULL AS {data_type})"),
        Some(MaskMethod::Hash) => format!("left(md5({} || CAST({q} AS VARCHAR)), 16)", quote_literal(&salt.0)),
        Some(_) => format!(
            "CASE WHEN {q} IS NULL THEN NULL WHEN contains({q}, '@') THEN {} || '@' || split_part({q}, '@', -1) \
             ELSE left({q}, 1) || {} END",
            quote_literal(REDACTED),
            quote_literal(REDACTED)
        ),
    };
    format!("{expr} AS {q}")
}

/// The DuckDB type a column has after masking.
pub fn masked_type(method: Option<MaskMethod>, data_type: &str) -> String {
    match method {
        Some(MaskMethod::Hash) => "VARCHAR".into(),
        _ => data_type.to_string(),
    }
}

/// The same masking applied to one JSON value of a sample row.
pub fn value(method: Option<MaskMethod>, v: &Value, data_type: &str, salt: &Salt) -> Value {
    let Some(method) = method else { return v.clone() };
    if v.is_null() {
        return Value::Null;
    }
    let text = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    match method {
        MaskMethod::Null => Value::Null,
        MaskMethod::Redact | MaskMethod::Partial if !is_text(data_type) => Value::Null,
        MaskMethod::Redact => Value::String(REDACTED.into()),
        MaskMethod::Hash => {
            let digest = md5::Md5::digest(format!("{}{text}", salt.0).as_bytes());
            let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
            Value::String(hex[..16].to_string())
        }
        MaskMethod::Partial => Value::String(match text.rsplit_once('@') {
            Some((_, domain)) if text.contains('@') => format!("{REDACTED}@{domain}"),
            _ => format!(
                "{}{REDACTED}",
                text.chars().next().map(String::from).unwrap_or_default()
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_masked_by_method() {
        let salt = Salt::fixed("00");
        let email = Value::String("ada@example.com".into());
        assert_eq!(
            value(Some(MaskMethod::Partial), &email, "VARCHAR", &salt),
            "•••@example.com"
        );
        assert_eq!(
            value(Some(MaskMethod::Partial), &"Ada".into(), "VARCHAR", &salt),
            "A•••"
        );
        assert_eq!(value(Some(MaskMethod::Redact), &email, "VARCHAR", &salt), "•••");
        assert_eq!(
            value(Some(MaskMethod::Redact), &5.into(), "INTEGER", &salt),
            Value::Null
        );
        assert_eq!(value(Some(MaskMethod::Null), &email, "VARCHAR", &salt), Value::Null);
        assert_eq!(value(None, &email, "VARCHAR", &salt), email);
        let h = value(Some(MaskMethod::Hash), &email, "VARCHAR", &salt);
        assert_eq!(h, value(Some(MaskMethod::Hash), &email, "VARCHAR", &salt), "stable");
        // md5("00ada@example.com"), first 16 hex digits: the same as DuckDB's left(md5(...), 16).
        assert_eq!(h.as_str().unwrap().len(), 16);
        assert_ne!(h, value(Some(MaskMethod::Hash), &email, "VARCHAR", &Salt::fixed("01")));
    }
}
