//! HTML escaping, the one way every page, template and drawing does it: `&`, `<`, `>`, `"` and `'` become
//! `&amp;`, `&lt;`, `&gt;`, `&quot;` and `&#39;`, so the text is safe in element content and in quoted attributes
//! (HTML, SVG and XML alike); everything else passes through unchanged.

use std::fmt::{self, Write};

/// The entity a character is written as, or None for one that passes through.
fn entity(c: u8) -> Option<&'static str> {
    match c {
        b'&' => Some("&amp;"),
        b'<' => Some("&lt;"),
        b'>' => Some("&gt;"),
        b'"' => Some("&quot;"),
        b'\'' => Some("&#39;"),
        _ => None,
    }
}

/// Writes `text` escaped into `dest`, copying the runs between special characters whole.
pub fn write_escaped<W: Write + ?Sized>(dest: &mut W, text: &str) -> fmt::Result {
    // Every special character is ASCII, so cutting at one never splits a multi-byte character.
    let mut copied = 0;
    for (i, byte) in text.bytes().enumerate() {
        if let Some(entity) = entity(byte) {
            dest.write_str(&text[copied..i])?;
            dest.write_str(entity)?;
            copied = i + 1;
        }
    }
    dest.write_str(&text[copied..])
}

/// `text` escaped, as a new string.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    // Writing to a String cannot fail.
    let _ = write_escaped(&mut out, text);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_the_five_special_characters() {
        assert_eq!(
            escape(r#"<a href="x?a=1&b='2'">"#),
            "&lt;a href=&quot;x?a=1&amp;b=&#39;2&#39;&quot;&gt;"
        );
    }

    #[test]
    fn plain_and_non_ascii_text_passes_through() {
        assert_eq!(escape(""), "");
        assert_eq!(escape("orders · Straße 北京 🚚"), "orders · Straße 北京 🚚");
        assert_eq!(escape("é<ü>"), "é&lt;ü&gt;");
    }

    #[test]
    fn escaping_is_not_idempotent_so_entities_stay_visible_as_text() {
        assert_eq!(escape("&amp;"), "&amp;amp;");
        assert_eq!(escape("&#39;"), "&amp;#39;");
    }

    #[test]
    fn escaped_text_has_no_markup_left() {
        let nasty = "'\"><script>alert('x')</script><img src=x onerror=\"y\">&";
        let out = escape(nasty);
        assert!(!out.contains(['<', '>', '"', '\'']), "{out}");
        assert_eq!(out.matches('&').count(), out.matches(';').count(), "{out}");
    }

    #[test]
    fn writing_into_a_formatter_matches_escape() {
        let mut out = String::from("prefix ");
        write_escaped(&mut out, "a & b").unwrap();
        assert_eq!(out, "prefix a &amp; b");
    }
}
