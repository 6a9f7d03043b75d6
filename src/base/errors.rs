//! DuckDB's error text made fit to show: cut to its first lines for people (`clean_error`), and stripped of any
//! value it may quote for roles that may not read the data (`public_error`, `scrub_values`).

use regex::Regex;
use std::sync::OnceLock;

/// DuckDB error text for people: the first lines, without quoted file content (which may hold protected data).
pub fn clean_error(e: impl std::fmt::Display) -> String {
    let text = e.to_string();
    let mut lines = Vec::new();
    for line in text.lines() {
        let l = line.trim();
        if l.is_empty() {
            continue;
        }
        if l.starts_with("Original Line")
            || l.starts_with("Possible fixes")
            || l.starts_with("Possible Solution")
            || l.starts_with("LINE ")
        {
            break;
        }
        lines.push(l.to_string());
        if lines.len() == 3 {
            break;
        }
    }
    lines.join(" ")
}

/// DuckDB error classes raised before any data is read (parsing, binding, the catalog, files): their messages name
/// the query's text and the schema, never a value.
const DATA_FREE_CLASSES: &[&str] = &["Parser", "Syntax", "Binder", "Catalog", "IO", "Permission", "INTERRUPT"];

fn error_class() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"\b(Invalid Input|Out of Range|Mismatch Type|Not implemented|Invalid Configuration|Out of Memory|Invalid type|[A-Za-z]+) Error:",
        )
        .expect("valid regex")
    })
}

/// Whether `text` carries a DuckDB error (`<Class> Error: …`).
pub fn carries_duckdb_error(text: &str) -> bool {
    error_class().is_match(text)
}

/// A message that may hold DuckDB's error text, in a form that quotes no value: errors raised while reading data
/// (conversion, invalid input, out of range, …) are cut to their class; the others keep their text with known
/// quoting patterns scrubbed.
pub fn public_error(text: &str) -> String {
    if let Some(caps) = error_class().captures(text) {
        let class = caps.get(1).map(|m| m.as_str()).unwrap_or("");
        if !DATA_FREE_CLASSES.contains(&class) {
            let start = caps.get(0).map(|m| m.start()).unwrap_or(0);
            return format!(
                "{}{class} Error (its text may quote values from the data, so it is shown only to roles that read them unmasked)",
                &text[..start]
            );
        }
    }
    scrub_values(text)
}

fn quoting_patterns() -> &'static [(Regex, &'static str)] {
    static RE: OnceLock<Vec<(Regex, &'static str)>> = OnceLock::new();
    RE.get_or_init(|| {
        [
            // A quoted line or input: everything after it.
            (
                r"(?s)\b(Original Line|Input|Line content|Raw value|Value)\s*:.*$",
                "$1: •••",
            ),
            // `string 'x'`, `value "x"`, `format: "x"`, `out of range: "x"`, `Duplicate key "x"`.
            (
                r#"\b(string|value|key|format|range|input|text|Value|String|Key)(:?)\s*'[^']*'"#,
                "$1$2 '•••'",
            ),
            (
                r#"\b(string|value|key|format|range|input|text|Value|String|Key)(:?)\s*"[^"]*""#,
                "$1$2 \"•••\"",
            ),
            // `Type INT64 with value 99 can't be cast`, `Overflow in addition of INT32 (1 + 2)`.
            (r"\bwith value \S+", "with value •••"),
            (r"\b(Overflow in \w+ of \w+) \([^)]*\)", "$1 (•••)"),
        ]
        .into_iter()
        .map(|(re, with)| (Regex::new(re).expect("valid regex"), with))
        .collect()
    })
}

/// Replaces the values DuckDB's messages are known to quote (conversion errors, CSV lines, JSON input) with `•••`.
pub fn scrub_values(text: &str) -> String {
    let mut out = text.to_string();
    for (re, with) in quoting_patterns() {
        out = re.replace_all(&out, *with).into_owned();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_raised_while_reading_data_keep_only_their_class() {
        for (text, class) in [
            (
                "Conversion Error: Could not convert string 'ada@example.com' to INT32",
                "Conversion Error",
            ),
            ("Invalid Input Error: ada@example.com", "Invalid Input Error"),
            (
                "Out of Range Error: Overflow in multiplication of INT32 (98765 * 87654)!",
                "Out of Range Error",
            ),
            (
                "cannot load table `t` (declared at t.yaml:3): Invalid Input Error: CSV Error on Line: 2 \
                 Original Line: 1,ada@example.com",
                "Invalid Input Error",
            ),
        ] {
            let public = public_error(text);
            assert!(public.contains(class), "{public}");
            for secret in ["ada@example.com", "98765", "87654"] {
                assert!(!public.contains(secret), "{text} -> {public}");
            }
        }
        assert!(
            public_error("cannot load table `t` (declared at t.yaml:3): Conversion Error: x")
                .starts_with("cannot load table `t` (declared at t.yaml:3): Conversion Error (")
        );
    }

    #[test]
    fn errors_about_the_query_keep_their_text() {
        let binder = "Binder Error: Referenced column \"nope\" not found in FROM clause!";
        assert_eq!(public_error(binder), binder);
        let parser = "Parser Error: syntax error at or near \"SELEC\"";
        assert_eq!(public_error(parser), parser);
        assert_eq!(public_error("the query is empty"), "the query is empty");
    }

    #[test]
    fn known_quoting_patterns_are_scrubbed() {
        for (text, secret) in [
            (
                "Could not convert string \"bo@example.org\" to 'BIGINT'",
                "bo@example.org",
            ),
            (
                "invalid date field format: \"1815-12-10\", expected format is (YYYY-MM-DD)",
                "1815-12-10",
            ),
            ("Type INT64 with value 98765 can't be cast", "98765"),
            (
                "at byte 3 of input: unexpected character. Input: {\"a\": \"TOPSECRET\"}",
                "TOPSECRET",
            ),
            ("Duplicate key \"id: 98765\" violates primary key constraint", "98765"),
        ] {
            let scrubbed = scrub_values(text);
            assert!(!scrubbed.contains(secret), "{text} -> {scrubbed}");
            assert!(scrubbed.contains("•••"), "{scrubbed}");
        }
    }

    #[test]
    fn a_short_error_is_kept_as_it_is() {
        let text = "Catalog Error: Table with name nope does not exist!";
        assert_eq!(clean_error(text), text);
        assert_eq!(clean_error(""), "");
        assert_eq!(clean_error("\n  \n"), "");
    }

    #[test]
    fn lines_are_trimmed_joined_and_cut_after_three() {
        let text = "  Binder Error: first  \n\n\tsecond\n   \nthird\nfourth\nfifth";
        assert_eq!(clean_error(text), "Binder Error: first second third");
    }

    #[test]
    fn the_quoted_line_and_what_follows_it_are_dropped() {
        // Each marker ends the message, even before three lines are reached, and whatever follows goes with it.
        for marker in [
            "Original Line: 1,ada@example.com,DE89370400440532013000",
            "LINE 1: SELECT * FROM customers WHERE email = 'ada@example.com'",
            "Possible fixes: * set ignore_errors",
            "Possible Solution: cast 'ada@example.com'",
        ] {
            let text = format!("Invalid Input Error: CSV Error on Line: 2\n  {marker}\nada@example.com\nmore");
            let clean = clean_error(&text);
            assert_eq!(clean, "Invalid Input Error: CSV Error on Line: 2", "{marker}");
        }
        // A marker is recognised only at the start of a line.
        assert_eq!(
            clean_error("Parser Error: syntax error near LINE 1: x"),
            "Parser Error: syntax error near LINE 1: x"
        );
    }

    #[test]
    fn anything_that_displays_can_be_cleaned() {
        let io = std::io::Error::other("Permission Error: cannot open\nLINE 1: secret");
        assert_eq!(clean_error(io), "Permission Error: cannot open");
        assert_eq!(clean_error(format_args!("{}\n{}", "a", "b")), "a b");
    }
}
