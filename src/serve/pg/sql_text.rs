//! A small SQL lexer for the Postgres endpoint: splits a simple-protocol query into statements, finds `$n`
//! placeholders, and names the leading keywords and identifiers the endpoint routes on. It never decides what may
//! run — every statement still goes through the query guard — so a wrong split can only cause an error, never a
//! way around it.

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An unquoted word: keyword or identifier.
    Word,
    /// A `"quoted"` identifier.
    QuotedIdent,
    /// A string constant: `'…'`, `E'…'`, `$tag$…$tag$`.
    String,
    Number,
    /// A `$1`-style parameter.
    Param,
    /// Operators and punctuation, one character each except `::`.
    Symbol,
    Space,
    Comment,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token<'a> {
    pub kind: Kind,
    pub text: &'a str,
    /// Byte offset in the text the token came from.
    pub start: usize,
}

impl Token<'_> {
    /// Is this the keyword or unquoted identifier `word` (any case)?
    pub fn is_word(&self, word: &str) -> bool {
        self.kind == Kind::Word && self.text.eq_ignore_ascii_case(word)
    }

    pub fn is_symbol(&self, symbol: &str) -> bool {
        self.kind == Kind::Symbol && self.text == symbol
    }

    /// The identifier it names: unquoted words fold to lower case, quoted ones keep their case.
    pub fn identifier(&self) -> Option<String> {
        match self.kind {
            Kind::Word => Some(self.text.to_ascii_lowercase()),
            Kind::QuotedIdent => Some(self.text[1..self.text.len() - 1].replace("\"\"", "\"")),
            _ => None,
        }
    }

    /// Neither whitespace nor a comment.
    pub fn is_meaningful(&self) -> bool {
        !matches!(self.kind, Kind::Space | Kind::Comment)
    }
}

/// Every token of `sql`, in order; concatenated they give `sql` back.
pub fn tokens(sql: &str) -> Vec<Token<'_>> {
    let bytes = sql.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let (kind, end) = next_token(sql, i);
        out.push(Token {
            kind,
            text: &sql[i..end],
            start: i,
        });
        i = end;
    }
    out
}

/// The kind and end of the token starting at byte `i`.
fn next_token(sql: &str, i: usize) -> (Kind, usize) {
    let bytes = sql.as_bytes();
    let b = bytes[i];
    let next = bytes.get(i + 1).copied();
    match b {
        b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' => (Kind::Space, scan_while(bytes, i, |c| c.is_ascii_whitespace())),
        b'-' if next == Some(b'-') => (Kind::Comment, find_from(bytes, i, b"\n").map_or(bytes.len(), |p| p + 1)),
        b'/' if next == Some(b'*') => (Kind::Comment, block_comment_end(bytes, i)),
        b'\'' => (Kind::String, quoted_end(bytes, i, b'\'', false)),
        b'e' | b'E' if next == Some(b'\'') => (Kind::String, quoted_end(bytes, i + 1, b'\'', true)),
        b'"' => (Kind::QuotedIdent, quoted_end(bytes, i, b'"', false)),
        b'$' if next.is_some_and(|c| c.is_ascii_digit()) => {
            (Kind::Param, scan_while(bytes, i + 1, |c| c.is_ascii_digit()))
        }
        b'$' => match dollar_quote_end(sql, i) {
            Some(end) => (Kind::String, end),
            None => (Kind::Symbol, i + 1),
        },
        b'0'..=b'9' => (Kind::Number, number_end(bytes, i)),
        b'.' if next.is_some_and(|c| c.is_ascii_digit()) => (Kind::Number, number_end(bytes, i)),
        b':' if next == Some(b':') => (Kind::Symbol, i + 2),
        c if c == b'_' || c.is_ascii_alphabetic() || c >= 0x80 => (
            Kind::Word,
            scan_while(bytes, i, |c| {
                c == b'_' || c == b'$' || c.is_ascii_alphanumeric() || c >= 0x80
            }),
        ),
        _ => (Kind::Symbol, i + char_len(sql, i)),
    }
}

fn char_len(sql: &str, i: usize) -> usize {
    sql[i..].chars().next().map_or(1, char::len_utf8)
}

fn scan_while(bytes: &[u8], mut i: usize, keep: impl Fn(u8) -> bool) -> usize {
    while i < bytes.len() && keep(bytes[i]) {
        i += 1;
    }
    i
}

fn find_from(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// The end of a (possibly nested) `/* … */` comment; an unterminated one runs to the end.
fn block_comment_end(bytes: &[u8], start: usize) -> usize {
    let mut depth = 0usize;
    let mut i = start;
    while i + 1 < bytes.len() {
        match (bytes[i], bytes[i + 1]) {
            (b'/', b'*') => {
                depth += 1;
                i += 2;
            }
            (b'*', b'/') => {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    return i;
                }
            }
            _ => i += 1,
        }
    }
    bytes.len()
}

/// The end of a quoted token opened at `start` (doubled quotes stay inside; with `backslash`, `\x` too).
fn quoted_end(bytes: &[u8], start: usize, quote: u8, backslash: bool) -> usize {
    let mut i = start + 1;
    while i < bytes.len() {
        if backslash && bytes[i] == b'\\' {
            i += 2;
            continue;
        }
        if bytes[i] == quote {
            if bytes.get(i + 1) == Some(&quote) {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    bytes.len()
}

/// The end of a `$tag$ … $tag$` string starting at `start`, if a tag opens there.
fn dollar_quote_end(sql: &str, start: usize) -> Option<usize> {
    let bytes = sql.as_bytes();
    let tag_end = scan_while(bytes, start + 1, |c| c == b'_' || c.is_ascii_alphanumeric());
    if bytes.get(tag_end) != Some(&b'$') {
        return None;
    }
    let tag = &bytes[start..=tag_end];
    Some(find_from(bytes, tag_end + 1, tag).map_or(bytes.len(), |p| p + tag.len()))
}

fn number_end(bytes: &[u8], start: usize) -> usize {
    let mut i = scan_while(bytes, start, |c| c.is_ascii_digit() || c == b'.' || c == b'_');
    if matches!(bytes.get(i), Some(b'e' | b'E')) {
        let mut j = i + 1;
        if matches!(bytes.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        if bytes.get(j).is_some_and(|c| c.is_ascii_digit()) {
            i = scan_while(bytes, j, |c| c.is_ascii_digit());
        }
    }
    i
}

/// One statement of a query text: its text without the terminating `;`, and where it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece<'a> {
    pub text: &'a str,
    pub start: usize,
}

/// The statements of a simple-protocol query, split at top-level `;`. Pieces holding only whitespace and comments
/// are left out.
pub fn split_statements(sql: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut meaningful = false;
    for t in tokens(sql) {
        if t.is_symbol(";") {
            if meaningful {
                out.push(Piece {
                    text: &sql[start..t.start],
                    start,
                });
            }
            start = t.start + 1;
            meaningful = false;
        } else if t.is_meaningful() {
            meaningful = true;
        }
    }
    if meaningful {
        out.push(Piece {
            text: &sql[start..],
            start,
        });
    }
    out
}

/// The meaningful tokens (no whitespace, no comments).
pub fn meaningful(sql: &str) -> Vec<Token<'_>> {
    tokens(sql).into_iter().filter(Token::is_meaningful).collect()
}

/// The highest `$n` placeholder number in `sql` (0 when there is none).
pub fn parameter_count(sql: &str) -> usize {
    tokens(sql)
        .iter()
        .filter(|t| t.kind == Kind::Param)
        .filter_map(|t| t.text[1..].parse::<usize>().ok())
        .max()
        .unwrap_or(0)
}

/// `sql` with every `$n` replaced by `values[n - 1]`; an `$n` without a value is an error.
pub fn substitute_parameters(sql: &str, values: &[String]) -> Result<String, String> {
    let mut out = String::with_capacity(sql.len() + values.iter().map(String::len).sum::<usize>());
    for t in tokens(sql) {
        if t.kind != Kind::Param {
            out.push_str(t.text);
            continue;
        }
        let value = t.text[1..]
            .parse::<usize>()
            .ok()
            .and_then(|n| n.checked_sub(1))
            .and_then(|i| values.get(i))
            .ok_or_else(|| {
                format!(
                    "the query uses the parameter {} but {} were given",
                    t.text,
                    values.len()
                )
            })?;
        out.push_str(value);
    }
    Ok(out)
}

/// `text` as a SQL string constant (quotes doubled; DuckDB and standard-conforming Postgres treat backslashes as
/// ordinary characters there).
pub fn string_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(sql: &str) -> Vec<&str> {
        split_statements(sql).into_iter().map(|p| p.text.trim()).collect()
    }

    #[test]
    fn statements_split_at_top_level_semicolons_only() {
        assert_eq!(texts("SELECT 1; SELECT 2;"), ["SELECT 1", "SELECT 2"]);
        assert_eq!(texts("SELECT ';'; SELECT 2"), ["SELECT ';'", "SELECT 2"]);
        assert_eq!(texts("SELECT \"a;b\" FROM t"), ["SELECT \"a;b\" FROM t"]);
        assert_eq!(
            texts("SELECT 1 -- ; not here\n; SELECT 2"),
            ["SELECT 1 -- ; not here", "SELECT 2"]
        );
        assert_eq!(
            texts("SELECT /* ; /* nested ; */ */ 1"),
            ["SELECT /* ; /* nested ; */ */ 1"]
        );
        assert_eq!(texts("SELECT $$a;b$$, $x$;$x$"), ["SELECT $$a;b$$, $x$;$x$"]);
        assert_eq!(texts("SELECT E'it\\'s;'; SELECT 2"), ["SELECT E'it\\'s;'", "SELECT 2"]);
        assert_eq!(texts(" ; ;; -- only a comment\n"), Vec::<&str>::new());
        assert_eq!(
            texts("SELECT 'unterminated; SELECT 2"),
            ["SELECT 'unterminated; SELECT 2"]
        );
        let pieces = split_statements("SELECT 1;  SELECT 2");
        assert_eq!(pieces[1].start, 9);
    }

    #[test]
    fn parameters_are_found_and_replaced_outside_strings_and_comments() {
        let sql = "SELECT $1, '$2', \"$3\", $$ $4 $$ /* $5 */ FROM t WHERE a = $2 -- $9\n AND b = $10";
        assert_eq!(parameter_count(sql), 10);
        let values: Vec<String> = (1..=10).map(|i| format!("<{i}>")).collect();
        assert_eq!(
            substitute_parameters(sql, &values).unwrap(),
            "SELECT <1>, '$2', \"$3\", $$ $4 $$ /* $5 */ FROM t WHERE a = <2> -- $9\n AND b = <10>"
        );
        assert!(substitute_parameters("SELECT $2", &["1".into()]).is_err());
        assert!(substitute_parameters("SELECT $0", &["1".into()]).is_err());
        assert_eq!(parameter_count("SELECT 1"), 0);
        assert_eq!(string_literal("it's \\ fine"), "'it''s \\ fine'");
    }

    #[test]
    fn tokens_give_the_text_back_and_fold_identifiers() {
        for sql in [
            "SELECT a::int, \"Mixed\"\"Q\" FROM x.y WHERE z ~ '^a' AND 1.5e-3 > .5",
            "é = 'ü'",
            "$",
        ] {
            let back: String = tokens(sql).iter().map(|t| t.text).collect();
            assert_eq!(back, sql);
        }
        let t = meaningful("SELECT \"Mixed\"\"Q\", Foo FROM pg_catalog.pg_class");
        assert_eq!(t[1].identifier().as_deref(), Some("Mixed\"Q"));
        assert_eq!(t[3].identifier().as_deref(), Some("foo"));
        assert!(t[5].is_word("PG_CATALOG") && t[6].is_symbol("."));
        assert_eq!(meaningful("a::b")[1].text, "::");
    }
}
