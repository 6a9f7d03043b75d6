//! Writing SQL text safely: identifier and literal quoting, and the few value formats every query builder needs.

/// `"name"` with embedded quotes doubled. Every identifier taken from a manifest goes through this.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `'text'` with embedded quotes doubled. NUL bytes are dropped (DuckDB rejects them in literals).
pub fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\0', "").replace('\'', "''"))
}

/// `['a', 'b']`: a DuckDB list of text literals.
pub fn literal_list<S: AsRef<str>>(items: &[S]) -> String {
    let parts: Vec<String> = items.iter().map(|s| quote_literal(s.as_ref())).collect();
    format!("[{}]", parts.join(", "))
}

/// Keywords that must be quoted when used as a name.
const RESERVED: &[&str] = &[
    "all",
    "analyse",
    "analyze",
    "and",
    "any",
    "array",
    "as",
    "asc",
    "asymmetric",
    "both",
    "case",
    "cast",
    "check",
    "collate",
    "column",
    "constraint",
    "create",
    "default",
    "deferrable",
    "desc",
    "describe",
    "distinct",
    "do",
    "else",
    "end",
    "except",
    "false",
    "fetch",
    "for",
    "foreign",
    "from",
    "grant",
    "group",
    "having",
    "in",
    "initially",
    "intersect",
    "into",
    "lateral",
    "leading",
    "limit",
    "not",
    "null",
    "offset",
    "on",
    "only",
    "or",
    "order",
    "pivot",
    "placing",
    "primary",
    "qualify",
    "references",
    "returning",
    "select",
    "show",
    "some",
    "summarize",
    "symmetric",
    "table",
    "then",
    "to",
    "trailing",
    "true",
    "union",
    "unique",
    "unpivot",
    "using",
    "variadic",
    "when",
    "where",
    "window",
    "with",
];

/// The name as it can be typed in SQL: bare when it is a plain lower-case identifier, quoted otherwise.
pub fn quote_ident_if_needed(name: &str) -> String {
    let plain = !name.is_empty()
        && name.chars().next().is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !RESERVED.contains(&name);
    if plain { name.to_string() } else { quote_ident(name) }
}

/// A literal for a YAML scalar used in a comparison (valid values, missing values): numbers stay numbers.
pub fn yaml_literal(v: &serde_yaml::Value) -> Option<String> {
    match v {
        serde_yaml::Value::Null => None,
        serde_yaml::Value::Bool(b) => Some(quote_literal(&b.to_string())),
        serde_yaml::Value::Number(n) => Some(quote_literal(&n.to_string())),
        serde_yaml::Value::String(s) => Some(quote_literal(s)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(quote_literal("it's"), "'it''s'");
        assert_eq!(literal_list(&["a", "b'c"]), "['a', 'b''c']");
        assert_eq!(quote_ident_if_needed("orders"), "orders");
        assert_eq!(quote_ident_if_needed("customer-360"), "\"customer-360\"");
        assert_eq!(quote_ident_if_needed("Orders"), "\"Orders\"");
        assert_eq!(quote_ident_if_needed("order"), "\"order\"");
    }
}
