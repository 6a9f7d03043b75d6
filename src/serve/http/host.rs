//! Which `Host` a request may name (DNS rebinding): meshbox answers only requests addressed to the address it is
//! bound to (loopback names, the `--bind` address, the `--public-url` host), and refuses the others with 421.

use super::AppError;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, Uri, Version, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

/// The host names a request may be addressed to. Ports are not compared: a port mapping (Docker, SSH tunnels)
/// changes the port the browser sees, and a rebinding attack is about the *name*, never the port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedHosts {
    /// Lower-case host names and IP literals (IPv6 without brackets).
    names: Vec<String>,
    /// Bound to every address (0.0.0.0 or ::): any IP literal is this machine seen from somewhere. An IP literal
    /// cannot be rebound (DNS rebinding needs a name the attacker controls), so accepting them is safe.
    any_ip_literal: bool,
}

impl Default for AllowedHosts {
    fn default() -> AllowedHosts {
        AllowedHosts::loopback()
    }
}

impl AllowedHosts {
    /// `localhost`, `127.0.0.1` and `[::1]`: what a server bound to loopback answers to.
    pub fn loopback() -> AllowedHosts {
        AllowedHosts {
            names: vec!["localhost".into(), "127.0.0.1".into(), "::1".into()],
            any_ip_literal: false,
        }
    }

    /// The names a server bound to `bind` answers to, plus `extra` names (the `--public-url` host).
    pub fn for_bind(bind: IpAddr, extra: &[String]) -> AllowedHosts {
        let mut hosts = AllowedHosts::loopback();
        if bind.is_unspecified() {
            hosts.any_ip_literal = true;
        } else {
            hosts.add(&bind.to_string());
        }
        for name in extra {
            hosts.add(name);
        }
        hosts
    }

    /// Accepts one more name (`Example.org`, `10.0.0.5`, `[fe80::1]`); IPv6 addresses in their canonical form, so
    /// `[0:0:0:0:0:0:0:1]` is `::1`.
    pub fn add(&mut self, name: &str) {
        let name = name
            .trim()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        let name = name.parse::<Ipv6Addr>().map(|ip| ip.to_string()).unwrap_or(name);
        if !name.is_empty() && !self.names.contains(&name) {
            self.names.push(name);
        }
    }

    /// The host name of an authority (`Name.lan:7700` → `name.lan`), as it would be compared; None when it is not
    /// a plain `name[:port]`.
    pub fn host_of(authority: &str) -> Option<String> {
        host_name(authority)
    }

    /// The names accepted, for messages.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .names
            .iter()
            .map(|n| if n.contains(':') { format!("[{n}]") } else { n.clone() })
            .collect();
        if self.any_ip_literal {
            names.push("any IP address of this machine".into());
        }
        names
    }

    /// Does a `Host` value (`name[:port]`) name this server?
    pub fn allows(&self, host: &str) -> bool {
        let Some(name) = host_name(host) else {
            return false;
        };
        if self.names.contains(&name) {
            return true;
        }
        self.any_ip_literal && (name.parse::<Ipv4Addr>().is_ok() || name.parse::<Ipv6Addr>().is_ok())
    }

    /// Checks every place a request names its host: the `Host` header and the authority of an absolute URI (also
    /// where HTTP/2 puts `:authority`). Every one must name this server; a request naming none is refused
    /// (HTTP/1.0 aside, which has no Host header).
    pub fn check(&self, version: Version, uri: &Uri, headers: &HeaderMap) -> Result<(), Refused> {
        let hosts: Vec<&axum::http::HeaderValue> = headers.get_all(header::HOST).iter().collect();
        if hosts.len() > 1 {
            return Err(Refused::Several);
        }
        let mut named: Vec<String> = Vec::new();
        for value in hosts {
            named.push(value.to_str().map(str::to_string).map_err(|_| Refused::Unreadable)?);
        }
        if let Some(authority) = uri.authority() {
            named.push(authority.as_str().to_string());
        }
        if named.is_empty() {
            // HTTP/1.0 had no Host header; every browser sends one (and HTTP/2 its :authority).
            return if version <= Version::HTTP_10 {
                Ok(())
            } else {
                Err(Refused::Missing)
            };
        }
        match named.into_iter().find(|n| !self.allows(n)) {
            Some(n) => Err(Refused::Foreign(n)),
            None => Ok(()),
        }
    }
}

/// Why a request's host was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    Missing,
    Several,
    Unreadable,
    Foreign(String),
}

/// The host name of a `Host` value, lower-case and without the port (IPv6 without brackets); None when the value is
/// not a plain `name[:port]` (user info, paths, spaces, control characters, a port that is not a number).
pub fn host_name(value: &str) -> Option<String> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_graphic()) {
        return None;
    }
    let (name, port) = if let Some(rest) = value.strip_prefix('[') {
        let (inner, after) = rest.split_once(']')?;
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':')?),
        };
        (inner, port)
    } else {
        match value.split_once(':') {
            Some((name, port)) => (name, Some(port)),
            None => (value, None),
        }
    };
    if let Some(port) = port
        && (port.is_empty() || port.len() > 5 || !port.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    if value.starts_with('[') {
        return name.parse::<Ipv6Addr>().ok().map(|ip| ip.to_string());
    }
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
    {
        return None;
    }
    Some(name.to_ascii_lowercase())
}

/// The middleware: a request that names another host gets 421 Misdirected Request, whatever the route.
pub async fn only_bound_hosts(State(st): State<Arc<super::AppState>>, req: Request, next: Next) -> Response {
    let hosts = &st.web.hosts;
    let Err(refused) = hosts.check(req.version(), req.uri(), req.headers()) else {
        return next.run(req).await;
    };
    let what = match refused {
        Refused::Missing => "the request names no host (no Host header)".to_string(),
        Refused::Several => "the request has several Host headers".to_string(),
        Refused::Unreadable => "the request's Host header is not readable text".to_string(),
        Refused::Foreign(h) => format!(
            "the request is addressed to `{}`",
            h.chars().take(100).collect::<String>()
        ),
    };
    let message = format!(
        "{what}; meshbox answers only requests addressed to {} (a page of another site must not reach it). \
         If you reach meshbox under another name, start it with --public-url http://that-name:PORT/",
        hosts.names().join(", ")
    );
    let error = AppError::new(StatusCode::MISDIRECTED_REQUEST, "misdirected", message);
    if req.uri().path().starts_with("/api/") {
        error.into_response()
    } else {
        error.page().into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names_are_parsed_strictly() {
        let cases: &[(&str, Option<&str>)] = &[
            ("localhost", Some("localhost")),
            ("LocalHost:7700", Some("localhost")),
            ("127.0.0.1:80", Some("127.0.0.1")),
            ("[::1]", Some("::1")),
            ("[::1]:7700", Some("::1")),
            ("[::1]7700", None),
            ("[::1]:", None),
            ("[evil]:80", None),
            ("::1", None),
            ("localhost:", None),
            ("localhost:abc", None),
            ("localhost:123456", None),
            ("localhost:80:80", None),
            ("user@localhost", None),
            ("localhost/evil", None),
            ("local host", None),
            ("localhost\t", None),
            ("", None),
            ("évil.example", None),
            ("evil.example:7700", Some("evil.example")),
        ];
        for (value, want) in cases {
            assert_eq!(host_name(value).as_deref(), *want, "Host: {value:?}");
        }
    }

    #[test]
    fn loopback_answers_loopback_names_only() {
        let hosts = AllowedHosts::loopback();
        for ok in [
            "localhost",
            "localhost:7700",
            "LOCALHOST:7700",
            "127.0.0.1",
            "127.0.0.1:7700",
            "[::1]",
            "[::1]:7700",
            "[0:0:0:0:0:0:0:1]:7700",
        ] {
            assert!(hosts.allows(ok), "{ok} should be answered");
        }
        for bad in [
            "evil.example",
            "evil.example:7700",
            "localhost.evil.example",
            "localhost.",
            "127.0.0.1.nip.io:7700",
            "127.0.0.2",
            "10.0.0.5:7700",
            "0.0.0.0:7700",
            "[::2]:7700",
            "localhost:7700@evil.example",
            "sub.localhost",
            "",
        ] {
            assert!(!hosts.allows(bad), "{bad} should be refused");
        }
    }

    #[test]
    fn bind_address_and_public_url_names_are_answered() {
        let hosts = AllowedHosts::for_bind("192.168.1.20".parse().unwrap(), &["Meshbox.Lan".into()]);
        for ok in ["192.168.1.20:7700", "meshbox.lan", "MESHBOX.LAN:8080", "localhost:7700"] {
            assert!(hosts.allows(ok), "{ok}");
        }
        for bad in ["192.168.1.21", "evil.example", "meshbox.lan.evil.example"] {
            assert!(!hosts.allows(bad), "{bad}");
        }
        // Bound to every address: any IP literal reaches this machine, names still must be known.
        let all = AllowedHosts::for_bind("0.0.0.0".parse().unwrap(), &[]);
        for ok in ["10.1.2.3:7700", "[fe80::1]:7700", "localhost"] {
            assert!(all.allows(ok), "{ok}");
        }
        for bad in ["evil.example:7700", "10.1.2.3.nip.io"] {
            assert!(!all.allows(bad), "{bad}");
        }
    }

    #[test]
    fn missing_several_and_absolute_uri_hosts() {
        let hosts = AllowedHosts::loopback();
        let uri: Uri = "/api/status".parse().unwrap();
        let mut headers = HeaderMap::new();
        assert_eq!(hosts.check(Version::HTTP_11, &uri, &headers), Err(Refused::Missing));
        assert_eq!(hosts.check(Version::HTTP_2, &uri, &headers), Err(Refused::Missing));
        assert_eq!(hosts.check(Version::HTTP_10, &uri, &headers), Ok(()));
        headers.append(header::HOST, "localhost:7700".parse().unwrap());
        assert_eq!(hosts.check(Version::HTTP_11, &uri, &headers), Ok(()));
        let absolute: Uri = "http://evil.example:7700/api/status".parse().unwrap();
        assert_eq!(
            hosts.check(Version::HTTP_11, &absolute, &headers),
            Err(Refused::Foreign("evil.example:7700".into()))
        );
        let h2: Uri = "http://localhost:7700/".parse().unwrap();
        assert_eq!(hosts.check(Version::HTTP_2, &h2, &HeaderMap::new()), Ok(()));
        headers.append(header::HOST, "evil.example".parse().unwrap());
        assert_eq!(hosts.check(Version::HTTP_11, &uri, &headers), Err(Refused::Several));
    }
}
