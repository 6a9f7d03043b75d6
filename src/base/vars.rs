//! ODCS v3.2 variable references: `${VAR}` and `${VAR:-default}` in server fields and SQL rules, resolved from the environment.

/// Replaces every `${NAME}` / `${NAME:-default}` in `text`. An empty variable counts as unset (as in POSIX `:-`).
/// A reference to an unset variable without a default is an error naming it: it is never silently replaced by "".
pub fn resolve(text: &str, lookup: impl Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            return Ok(out);
        };
        let inner = &after[..end];
        let (name, default) = match inner.find(":-") {
            Some(i) => (&inner[..i], Some(&inner[i + 2..])),
            None => (inner, None),
        };
        if !is_var_name(name) {
            // Not a variable reference (e.g. an SQL placeholder that was already handled): keep it verbatim.
            out.push_str(&rest[start..start + 2 + end + 1]);
        } else {
            match (lookup(name).filter(|v| !v.is_empty()), default) {
                (Some(v), _) => out.push_str(&v),
                (None, Some(d)) => out.push_str(d),
                (None, None) => {
                    return Err(format!(
                        "variable `{name}` is not set; set it in the environment or write `${{{name}:-default}}`"
                    ));
                }
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Resolves from the process environment.
pub fn resolve_env(text: &str) -> Result<String, String> {
    resolve(text, |n| std::env::var(n).ok())
}

fn is_var_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "DATA" => Some("/srv/data".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn resolves_values_defaults_and_reports_unset() {
        assert_eq!(resolve("${DATA}/x.csv", env).unwrap(), "/srv/data/x.csv");
        assert_eq!(
            resolve("${NOPE:-/tmp}/${STEM:-orders}.csv", env).unwrap(),
            "/tmp/orders.csv"
        );
        assert_eq!(resolve("${EMPTY:-fallback}", env).unwrap(), "fallback");
        assert!(resolve("${NOPE}/x", env).unwrap_err().contains("`NOPE`"));
        assert_eq!(
            resolve("no refs, {model} stays", env).unwrap(),
            "no refs, {model} stays"
        );
        assert_eq!(resolve("cost ${ 1 }", env).unwrap(), "cost ${ 1 }");
    }
}
