//! The escaper of every HTML template: the one HTML escaping of `base::html`, plus a cap on any one value, so a
//! manifest with a 10 MB description (or title, or any other text) renders as its first 64 KiB and a visible
//! truncation warning.
//! The JSON twins keep the full text: they are the manifest's data, and API clients choose what to show.

use crate::base::html::write_escaped;
use askama::filters::Escaper;
use std::fmt::{self, Write};

/// The most bytes of one value a page shows.
pub const MAX_TEXT_BYTES: usize = 64 * 1024;

/// `askama.toml` names this escaper for `.html` templates.
#[derive(Debug, Clone, Copy, Default)]
pub struct CappedHtml;

impl Escaper for CappedHtml {
    fn write_escaped_str<W: Write>(&self, mut dest: W, string: &str) -> fmt::Result {
        if string.len() <= MAX_TEXT_BYTES {
            return write_escaped(&mut dest, string);
        }
        let cut = (0..=MAX_TEXT_BYTES)
            .rev()
            .find(|i| string.is_char_boundary(*i))
            .unwrap_or(0);
        write_escaped(&mut dest, &string[..cut])?;
        write!(
            dest,
            " … (truncated: this text is {} bytes; pages show the first {} KiB — the manifest holds the rest)",
            string.len(),
            MAX_TEXT_BYTES / 1024
        )
    }

    fn write_escaped_char<W: Write>(&self, mut dest: W, c: char) -> fmt::Result {
        write_escaped(&mut dest, c.encode_utf8(&mut [0; 4]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn escape(s: &str) -> String {
        let mut out = String::new();
        CappedHtml.write_escaped_str(&mut out, s).unwrap();
        out
    }

    #[test]
    fn short_text_is_escaped_as_html() {
        assert_eq!(
            escape("a <b> & \"c\" 'd'"),
            "a &lt;b&gt; &amp; &quot;c&quot; &#39;d&#39;"
        );
        assert_eq!(
            escape("a <b> & \"c\" 'd'"),
            crate::base::html::escape("a <b> & \"c\" 'd'")
        );
    }

    #[test]
    fn single_characters_are_escaped_the_same_way() {
        let mut out = String::new();
        for c in ['<', '\'', 'é'] {
            CappedHtml.write_escaped_char(&mut out, c).unwrap();
        }
        assert_eq!(out, "&lt;&#39;é");
    }

    #[test]
    fn long_text_is_capped_on_a_character_boundary_with_a_warning() {
        let long = format!("{}é<script>", "x".repeat(MAX_TEXT_BYTES - 1));
        let out = escape(&long);
        assert!(out.starts_with(&"x".repeat(MAX_TEXT_BYTES - 1)));
        assert!(
            !out.contains('é') && !out.contains("<script>"),
            "cut before the split character"
        );
        assert!(
            out.contains(&format!("truncated: this text is {} bytes", long.len())),
            "{}",
            &out[out.len() - 200..]
        );
        let ten_mb = "y".repeat(10 * 1024 * 1024);
        assert!(escape(&ten_mb).len() < MAX_TEXT_BYTES + 200);
    }
}
