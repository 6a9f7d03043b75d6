//! CSV files plain enough to read without DuckDB's sniffer: one file, a header line whose delimiter is beyond doubt,
//! RFC 4180 quoting, `\n` line ends. The sniffer costs most of a small file's load (it tries dialects and date
//! formats); for such files the header is read here and DuckDB reads with every option given. Anything else — or a
//! read that fails — goes the sniffing way, which stays the reference.

use crate::base::sql::quote_literal;
use std::io::Read;
use std::path::Path;

/// How much of the file is looked at before trusting it.
const SAMPLE_BYTES: usize = 64 * 1024;

/// Delimiters told apart without a sniffer, when exactly one of them appears in the header line.
const CANDIDATES: [char; 4] = [',', ';', '\t', '|'];

/// What a plain file's header says: its delimiter and column names.
#[derive(Debug, Clone, PartialEq)]
pub struct PlainHeader {
    pub delimiter: char,
    pub names: Vec<String>,
}

/// The header of `file` when the file is plain (see the module doc); `declared` is the contract's delimiter, if any.
pub fn header_of(file: &Path, declared: Option<&str>) -> Option<PlainHeader> {
    let mut sample = Vec::with_capacity(SAMPLE_BYTES);
    std::fs::File::open(file)
        .ok()?
        .take(SAMPLE_BYTES as u64)
        .read_to_end(&mut sample)
        .ok()?;
    plain_header(&sample, declared)
}

/// [`header_of`] on the first bytes of a file.
fn plain_header(sample: &[u8], declared: Option<&str>) -> Option<PlainHeader> {
    // A byte-order mark, `\r\n` line ends, backslash escapes or blank lines: the sniffer knows what to do.
    if sample.starts_with(&[0xEF, 0xBB, 0xBF]) || sample.iter().any(|b| matches!(b, b'\r' | b'\\' | 0)) {
        return None;
    }
    if sample.windows(2).any(|w| w == b"\n\n") {
        return None;
    }
    let end = sample.iter().position(|&b| b == b'\n')?;
    let line = std::str::from_utf8(&sample[..end]).ok()?;
    let delimiter = match declared {
        Some(d) => declared_delimiter(d)?,
        None => only_candidate(line)?,
    };
    let names = split_fields(line, delimiter)?;
    let sound = |n: &String| !n.is_empty() && n.trim() == n;
    let mut seen = std::collections::HashSet::new();
    let unique = names.iter().all(|n| seen.insert(n.to_lowercase()));
    (names.len() > 1 && names.iter().all(sound) && unique).then_some(PlainHeader { delimiter, names })
}

/// A contract's `delimiter` as one character (`\t` and `tab` name the tab).
fn declared_delimiter(d: &str) -> Option<char> {
    if d == "\\t" || d.eq_ignore_ascii_case("tab") {
        return Some('\t');
    }
    let mut chars = d.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) if c != '"' && c != '\n' => Some(c),
        _ => None,
    }
}

/// The one candidate delimiter found outside quotes in `line`; None when none or several are.
fn only_candidate(line: &str) -> Option<char> {
    let mut found = Vec::new();
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => quoted = !quoted,
            c if !quoted && CANDIDATES.contains(&c) && !found.contains(&c) => found.push(c),
            _ => {}
        }
    }
    match found.as_slice() {
        [one] => Some(*one),
        _ => None,
    }
}

/// The fields of one line, RFC 4180 quoting (`""` is a quote inside a quoted field); None when the quoting is odd.
fn split_fields(line: &str, delimiter: char) -> Option<Vec<String>> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut chars = line.chars().peekable();
    let mut at_start = true;
    loop {
        match chars.next() {
            None => {
                fields.push(field);
                return Some(fields);
            }
            Some('"') if at_start => {
                // A quoted field runs to the next lone quote, which must end the field.
                loop {
                    match chars.next()? {
                        '"' if chars.peek() == Some(&'"') => {
                            chars.next();
                            field.push('"');
                        }
                        '"' => break,
                        c => field.push(c),
                    }
                }
                match chars.peek() {
                    None => {}
                    Some(&c) if c == delimiter => {}
                    Some(_) => return None,
                }
                at_start = false;
            }
            Some('"') => return None,
            Some(c) if c == delimiter => {
                fields.push(std::mem::take(&mut field));
                at_start = true;
            }
            Some(c) => {
                field.push(c);
                at_start = false;
            }
        }
    }
}

/// The reader for a plain file: every dialect option and every column given, so DuckDB sniffs nothing.
/// `columns` are the header's names with the types to read them as.
pub fn reader(file: &Path, delimiter: char, columns: &[(String, String)]) -> String {
    let columns: Vec<String> = columns
        .iter()
        .map(|(n, t)| format!("{}: {}", quote_literal(n), quote_literal(t)))
        .collect();
    format!(
        "read_csv({}, auto_detect = false, header = true, delim = {}, quote = '\"', escape = '\"', columns = {{{}}})",
        quote_literal(&file.to_string_lossy()),
        quote_literal(&delimiter.to_string()),
        columns.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(text: &str, declared: Option<&str>) -> Option<(char, Vec<String>)> {
        plain_header(text.as_bytes(), declared).map(|h| (h.delimiter, h.names))
    }

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_plain_header_gives_its_delimiter_and_names() {
        assert_eq!(header("id,name\n1,a\n", None), Some((',', names(&["id", "name"]))));
        assert_eq!(header("id;name\n1;a\n", None), Some((';', names(&["id", "name"]))));
        assert_eq!(header("id\tname\n", None), Some(('\t', names(&["id", "name"]))));
        assert_eq!(
            header("\"order id\",\"a \"\"b\"\"\",c\n", None),
            Some((',', names(&["order id", "a \"b\"", "c"])))
        );
        // A delimiter inside quotes is not a candidate.
        assert_eq!(header("\"a;b\",c\n", None), Some((',', names(&["a;b", "c"]))));
        assert_eq!(header("a|b\n", Some("|")), Some(('|', names(&["a", "b"]))));
        assert_eq!(header("a\tb\n", Some("\\t")), Some(('\t', names(&["a", "b"]))));
    }

    #[test]
    fn anything_unusual_is_left_to_the_sniffer() {
        for (text, why) in [
            ("a,b;c\n1,2;3\n", "two candidate delimiters"),
            ("abc\n1\n", "no delimiter at all"),
            ("a,b\r\n1,2\r\n", "CRLF line ends"),
            ("\u{feff}a,b\n1,2\n", "a byte-order mark"),
            ("a,b\n\"x\\\"y\",2\n", "backslash escapes"),
            ("a,b\n\n1,2\n", "a blank line"),
            ("a,a\n1,2\n", "duplicate names"),
            ("a,A\n1,2\n", "names equal but for case"),
            ("a,,b\n1,2,3\n", "an empty name"),
            ("a, b\n1,2\n", "a name with spaces around it"),
            ("a\"x,b\n", "a quote inside an unquoted name"),
            ("\"a\"x,b\n", "text after a closing quote"),
            ("\"a,b\n", "an unterminated quote"),
            ("a,b", "no complete line"),
        ] {
            assert_eq!(header(text, None), None, "{why}");
        }
        assert_eq!(header("a;b\n", Some(",,")), None, "a delimiter of two characters");
    }
}
