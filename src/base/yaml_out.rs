//! Writes YAML that every reader reads back the same: block style, and every string a YAML 1.1 or 1.2 parser could
//! take for something else (dates, yes/no/on/off, numbers, nulls, anything with YAML syntax in it) double-quoted.
//! serde_yaml leaves `2024-01-31` or `yes` unquoted, which Python tools read as a date or a boolean.

use serde_yaml::Value;

/// Words some YAML version reads as booleans or null.
const SPECIAL: &[&str] = &["y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"];

fn plain_is_safe(s: &str) -> bool {
    let Some(first) = s.chars().next() else { return false };
    if s != s.trim() || SPECIAL.contains(&s.to_ascii_lowercase().as_str()) {
        return false;
    }
    // Anything that starts like a number, a date or a time is quoted.
    if first.is_ascii_digit() || matches!(first, '-' | '+' | '.') {
        return false;
    }
    s.chars()
        .all(|c| c.is_alphanumeric() || matches!(c, ' ' | '_' | '.' | '/' | '@' | '-' | '(' | ')' | ','))
        && !s.contains(": ")
        && !s.contains(" #")
}

fn scalar(v: &Value) -> Option<String> {
    Some(match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) if plain_is_safe(s) => s.clone(),
        Value::String(s) => serde_json::to_string(s).expect("strings serialize"),
        Value::Tagged(t) => return scalar(&t.value),
        Value::Sequence(s) if s.is_empty() => "[]".into(),
        Value::Mapping(m) if m.is_empty() => "{}".into(),
        _ => return None,
    })
}

fn write(v: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match v {
        Value::Mapping(m) if !m.is_empty() => {
            for (k, val) in m {
                let key = scalar(k).unwrap_or_else(|| serde_json::to_string(&format!("{k:?}")).unwrap_or_default());
                match scalar(val) {
                    Some(s) => out.push_str(&format!("{pad}{key}: {s}\n")),
                    None => {
                        out.push_str(&format!("{pad}{key}:\n"));
                        write(val, indent + 2, out);
                    }
                }
            }
        }
        Value::Sequence(items) if !items.is_empty() => {
            for item in items {
                match scalar(item) {
                    Some(s) => out.push_str(&format!("{pad}- {s}\n")),
                    None => {
                        // The item's first line goes after the dash, the rest is indented under it.
                        let mut nested = String::new();
                        write(item, indent + 2, &mut nested);
                        let trimmed = nested.trim_start_matches(' ');
                        out.push_str(&format!("{pad}- {trimmed}"));
                    }
                }
            }
        }
        other => {
            if let Some(s) = scalar(other) {
                out.push_str(&format!("{pad}{s}\n"));
            }
        }
    }
}

pub fn to_string(v: &Value) -> String {
    let mut out = String::new();
    write(v, 0, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ambiguous_strings_are_quoted_and_everything_reads_back() {
        let v: Value = serde_yaml::from_str(
            "a: '2024-01-31'\nb: 'yes'\nc: '1.0'\nd: plain text\ne: [x, 'on', {f: 'g: h', i: []}]\nj: {k: 1, l: true, m: null}\nn: '#hash'\n",
        )
        .unwrap();
        let out = to_string(&v);
        assert!(
            out.contains("a: \"2024-01-31\"") && out.contains("b: \"yes\"") && out.contains("d: plain text"),
            "{out}"
        );
        assert_eq!(serde_yaml::from_str::<Value>(&out).unwrap(), v, "{out}");
    }
}
