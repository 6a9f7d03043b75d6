//! PII detection: looks at a bounded sample of each text column's values for e-mail addresses, phone numbers, IBANs,
//! payment card numbers (Luhn), US social security numbers, IP addresses, and dates of birth (by column name and
//! value), and reports the share of matching values with a confidence.

use crate::base::errors::clean_error;
use crate::base::sql::quote_ident;
use duckdb::Connection;
use std::net::IpAddr;

/// Values looked at per column.
pub const SAMPLE: usize = 500;
/// Share of sampled values that must match before a column is reported.
const MIN_SHARE: f64 = 0.6;

pub use crate::model::findings::PiiFinding;

fn email(v: &str) -> bool {
    let Some((local, domain)) = v.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !local.contains(char::is_whitespace)
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && domain
            .rsplit('.')
            .next()
            .is_some_and(|tld| tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()))
        && !domain.contains(['@', ' '])
}

fn digits(v: &str) -> String {
    v.chars().filter(char::is_ascii_digit).collect()
}

fn phone(v: &str) -> bool {
    let t = v.trim();
    let d = digits(t);
    let allowed = t.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c));
    // A bare integer is not a phone number; a leading + or separators between digit groups make it one.
    let shaped = t.starts_with('+') || t.starts_with("00") || t.contains([' ', '-', '(', ')', '.']);
    // Dates (2024-01-31, 31.01.2024) and decimals (1234.567) are not phone numbers.
    let groups: Vec<usize> = t.split(['-', '/', '.']).map(str::len).collect();
    let date_like = matches!(groups.as_slice(), [4, 2, 2] | [2, 2, 4] | [1 | 2, 1 | 2, 4]);
    let decimal = t.matches('.').count() == 1 && !t.contains([' ', '-', '(', ')', '+']);
    allowed && shaped && !date_like && !decimal && (7..=15).contains(&d.len())
}

fn luhn(d: &str) -> bool {
    let mut sum = 0;
    for (i, c) in d.chars().rev().enumerate() {
        let mut n = c.to_digit(10).unwrap_or(0);
        if i % 2 == 1 {
            n *= 2;
            if n > 9 {
                n -= 9;
            }
        }
        sum += n;
    }
    sum % 10 == 0
}

fn card(v: &str) -> bool {
    let t = v.trim();
    if !t.chars().all(|c| c.is_ascii_digit() || c == ' ' || c == '-') {
        return false;
    }
    let d = digits(t);
    (13..=19).contains(&d.len()) && luhn(&d) && !d.chars().all(|c| c == d.chars().next().unwrap_or('0'))
}

fn iban(v: &str) -> bool {
    let s: String = v
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase();
    if !(15..=34).contains(&s.len()) || !s.chars().all(|c| c.is_ascii_alphanumeric()) {
        return false;
    }
    let (head, rest) = s.split_at(4);
    if !head[..2].chars().all(|c| c.is_ascii_alphabetic()) || !head[2..].chars().all(|c| c.is_ascii_digit()) {
        return false;
    }
    // mod 97 of the rearranged number, letters as 10..35, computed piecewise.
    let mut rem: u32 = 0;
    for c in rest.chars().chain(head.chars()) {
        let n = c.to_digit(36).unwrap_or(0);
        rem = if n >= 10 {
            (rem * 100 + n) % 97
        } else {
            (rem * 10 + n) % 97
        };
    }
    rem == 1
}

fn ssn(v: &str) -> bool {
    let t = v.trim();
    let parts: Vec<&str> = t.split('-').collect();
    if parts.len() != 3
        || parts[0].len() != 3
        || parts[1].len() != 2
        || parts[2].len() != 4
        || !parts.iter().all(|p| p.chars().all(|c| c.is_ascii_digit()))
    {
        return false;
    }
    let area: u32 = parts[0].parse().unwrap_or(0);
    area != 0 && area != 666 && area < 900 && parts[1] != "00" && parts[2] != "0000"
}

fn ip(v: &str) -> bool {
    v.trim().parse::<IpAddr>().is_ok()
}

/// A plausible birth date: a date between 1900 and 2020.
fn birth_date(v: &str) -> bool {
    let t = v.trim();
    let year = t
        .get(..4)
        .and_then(|y| y.parse::<u32>().ok())
        .or_else(|| t.rsplit(['/', '.', '-']).next().and_then(|y| y.parse().ok()));
    let looks_like_date =
        t.len() >= 8 && t.chars().filter(|c| c.is_ascii_digit()).count() >= 6 && t.contains(['-', '/', '.']);
    looks_like_date && year.is_some_and(|y| (1900..=2020).contains(&y))
}

fn name_hint(column: &str, detector: &str) -> bool {
    let c = column.to_ascii_lowercase();
    let words: &[&str] = match detector {
        "email" => &["mail"],
        "phone" => &["phone", "mobile", "tel", "fax"],
        "iban" => &["iban", "account", "bank"],
        "card" => &["card", "pan", "cc_"],
        "ssn" => &["ssn", "social"],
        "ip" => &["ip", "addr"],
        _ => &["birth", "dob"],
    };
    words.iter().any(|w| c.contains(w))
}

/// Does one value match?
type Detector = fn(&str) -> bool;

const DETECTORS: &[(&str, Detector)] = &[
    ("email", email),
    ("iban", iban),
    ("card", card),
    ("ssn", ssn),
    ("ip", ip),
    ("phone", phone),
];

/// Runs every detector on one column's sampled values; the best match above the threshold, if any.
pub fn detect(column: &str, values: &[String]) -> Option<PiiFinding> {
    if values.is_empty() {
        return None;
    }
    let mut best: Option<PiiFinding> = None;
    let mut consider = |detector: &'static str, hits: usize| {
        let share = hits as f64 / values.len() as f64;
        if share < MIN_SHARE {
            return;
        }
        let confidence = (share + if name_hint(column, detector) { 0.2 } else { 0.0 }).min(1.0);
        let better = best.as_ref().is_none_or(|b| confidence > b.confidence);
        if better {
            best = Some(PiiFinding {
                column: column.to_string(),
                detector,
                share: (share * 1000.0).round() / 1000.0,
                confidence: (confidence * 100.0).round() / 100.0,
                sampled: values.len(),
            });
        }
    };
    for (name, f) in DETECTORS {
        consider(name, values.iter().filter(|v| f(v)).count());
    }
    // Dates of birth only by name and value together: most dates are not birthdays.
    if name_hint(column, "date_of_birth") {
        consider("date_of_birth", values.iter().filter(|v| birth_date(v)).count());
    }
    best
}

/// Samples the text and date columns of `relation` (one query) and returns the findings.
pub fn scan_table(conn: &Connection, relation: &str, columns: &[(String, String)]) -> Result<Vec<PiiFinding>, String> {
    let candidates: Vec<&(String, String)> = columns
        .iter()
        .filter(|(name, ty)| {
            let t = ty.to_ascii_uppercase();
            t == "VARCHAR"
                || t.starts_with("VARCHAR")
                || (name_hint(name, "date_of_birth") && (t == "DATE" || t.starts_with("TIMESTAMP")))
        })
        .take(100)
        .collect();
    if candidates.is_empty() {
        return Ok(Vec::new());
    }
    let select: Vec<String> = candidates
        .iter()
        .map(|(n, _)| format!("CAST({} AS VARCHAR)", quote_ident(n)))
        .collect();
    let sql = format!("SELECT {} FROM {relation} LIMIT {SAMPLE}", select.join(", "));
    let mut stmt = conn.prepare(&sql).map_err(clean_error)?;
    let mut values: Vec<Vec<String>> = vec![Vec::new(); candidates.len()];
    let mut rows = stmt.query([]).map_err(clean_error)?;
    while let Some(row) = rows.next().map_err(clean_error)? {
        for (i, bucket) in values.iter_mut().enumerate() {
            if let Some(v) = row.get::<_, Option<String>>(i).map_err(clean_error)? {
                bucket.push(v);
            }
        }
    }
    Ok(candidates
        .iter()
        .zip(values)
        .filter_map(|((name, _), vals)| detect(name, &vals))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn detectors() {
        assert!(email("ada@example.com") && !email("not an email") && !email("a@b"));
        assert!(phone("+41 44 668 18 00") && phone("(555) 123-4567") && !phone("12345678") && !phone("2024-01-01"));
        assert!(card("4111 1111 1111 1111") && !card("4111 1111 1111 1112") && !card("0000000000000"));
        assert!(
            iban("DE89 3704 0044 0532 0130 00") && iban("GB82WEST12345698765432") && !iban("GB82WEST12345698765433")
        );
        assert!(ssn("123-45-6789") && !ssn("000-12-3456") && !ssn("666-12-3456") && !ssn("123456789"));
        assert!(ip("192.168.1.20") && ip("2001:db8::1") && !ip("999.1.1.1"));
        assert!(birth_date("1984-07-12") && !birth_date("2026-01-01"));
    }

    #[test]
    fn a_column_is_reported_with_share_and_confidence() {
        let f = detect("contact", &v(&["a@x.io", "b@y.org", "c@z.net", "none"])).unwrap();
        assert_eq!((f.detector, f.share, f.confidence), ("email", 0.75, 0.75));
        let f = detect("customer_email", &v(&["a@x.io", "b@y.org", "c@z.net", "none"])).unwrap();
        assert_eq!(f.confidence, 0.95);
        assert!(detect("city", &v(&["Berlin", "Paris"])).is_none());
        // Dates are birthdays only when the name says so.
        assert!(detect("signup_date", &v(&["1984-07-12", "1990-01-02"])).is_none());
        assert_eq!(
            detect("birth_date", &v(&["1984-07-12", "1990-01-02"]))
                .unwrap()
                .detector,
            "date_of_birth"
        );
    }
}
