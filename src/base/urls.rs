//! The web addresses of the catalog's pages, built in one place: every link and every API answer uses these.

/// Percent-encodes one URL path segment.
pub fn seg(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The page of a product.
pub fn product_url(domain: &str, name: &str) -> String {
    format!("/products/{}/{}", seg(domain), seg(name))
}

/// The page of a domain.
pub fn domain_url(domain: &str) -> String {
    format!("/domains/{}", seg(domain))
}
