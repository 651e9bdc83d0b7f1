//! Subject alternative names: the names TLS clients actually check.
//!
//! Since RFC 6125 (and in Go since 1.15, in rustls always) a client ignores
//! the common name and matches the host it dialled against these entries
//! only, which is why every certificate certgen issues carries at least one.

use std::fmt;
use std::net::IpAddr;

use anyhow::{anyhow, bail, Context, Result};
use rcgen::SanType;

/// One subjectAltName entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum San {
    /// A DNS name, possibly with a `*` as its whole leftmost label.
    Dns(String),
    /// An IPv4 or IPv6 address.
    Ip(IpAddr),
    /// An email address (rfc822Name).
    Email(String),
    /// A URI, such as a SPIFFE ID.
    Uri(String),
}

impl San {
    /// Reads a `--san` value, detecting its type from its form.
    ///
    /// An explicit openssl-style prefix (`DNS:`, `IP:`, `email:`, `URI:`)
    /// forces the type; without one, an address that parses as IPv4 or IPv6
    /// (brackets allowed) is an IP, a value with `://` is a URI, one with `@`
    /// an email, and anything else must be a valid DNS name.
    pub fn parse(value: &str) -> Result<San> {
        if let Some((prefix, rest)) = value.split_once(':') {
            match prefix.to_ascii_lowercase().as_str() {
                "dns" => return parse_dns(rest).map(San::Dns),
                "ip" => return parse_ip(rest).map(San::Ip),
                "email" => return parse_email(rest).map(San::Email),
                "uri" => return parse_uri(rest).map(San::Uri),
                _ => {}
            }
        }
        if let Ok(ip) = parse_ip(value) {
            return Ok(San::Ip(ip));
        }
        if value.contains("://") {
            return parse_uri(value).map(San::Uri);
        }
        if value.contains('@') {
            return parse_email(value).map(San::Email);
        }
        parse_dns(value).map(San::Dns)
    }

    /// The SANs a certificate gets when none are given: the common name, and
    /// for `localhost` also both loopback addresses, because clients dial
    /// `127.0.0.1` and `::1` as often as the name.
    pub fn defaults_for(cn: &str) -> Result<Vec<San>> {
        let first = San::parse(cn).with_context(|| {
            format!(
                "the common name {cn:?} is not a DNS name or IP address, so it cannot \
                 serve as the certificate's subjectAltName; give the names clients use with \
                 --san, or with san in a profile"
            )
        })?;
        let mut sans = vec![first];
        if cn.eq_ignore_ascii_case("localhost") {
            sans.push(San::Ip(IpAddr::from([127, 0, 0, 1])));
            sans.push(San::Ip(IpAddr::from([0u16, 0, 0, 0, 0, 0, 0, 1])));
        }
        Ok(sans)
    }

    /// The entry in rcgen's form.
    pub fn to_rcgen(&self) -> Result<SanType> {
        Ok(match self {
            San::Dns(name) => SanType::DnsName(name.as_str().try_into()?),
            San::Ip(ip) => SanType::IpAddress(*ip),
            San::Email(addr) => SanType::Rfc822Name(addr.as_str().try_into()?),
            San::Uri(uri) => SanType::URI(uri.as_str().try_into()?),
        })
    }
}

impl fmt::Display for San {
    /// The type prefix and value, as `--san` accepts them back: `DNS:name`,
    /// `IP:addr`, `email:addr`, `URI:uri`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            San::Dns(name) => write!(f, "DNS:{name}"),
            San::Ip(ip) => write!(f, "IP:{ip}"),
            San::Email(addr) => write!(f, "email:{addr}"),
            San::Uri(uri) => write!(f, "URI:{uri}"),
        }
    }
}

/// Accepts `::1` and `[::1]` alike, since URLs bracket IPv6 addresses.
fn parse_ip(value: &str) -> Result<IpAddr> {
    let bare = value
        .strip_prefix('[')
        .and_then(|v| v.strip_suffix(']'))
        .unwrap_or(value);
    bare.parse()
        .map_err(|_| anyhow!("{value:?} is not an IPv4 or IPv6 address"))
}

/// Checks a host name against RFC 1035 label rules, allowing one leading
/// `*` label for wildcards (RFC 6125 section 6.4.3).
fn parse_dns(value: &str) -> Result<String> {
    let problem = dns_problem(value);
    match problem {
        None => Ok(value.to_owned()),
        Some(why) => bail!("{value:?} is not a valid DNS name: {why}"),
    }
}

fn dns_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        return Some("it is empty");
    }
    if name.len() > 253 {
        return Some("it is longer than 253 characters");
    }
    let labels: Vec<&str> = name.split('.').collect();
    for (index, label) in labels.iter().enumerate() {
        if *label == "*" {
            if index != 0 || labels.len() < 2 {
                return Some("a wildcard must be the whole leftmost label, as in *.example.com");
            }
            continue;
        }
        if label.is_empty() {
            return Some("it has an empty label (two dots in a row, or a dot at an end)");
        }
        if label.len() > 63 {
            return Some("a label is longer than 63 characters");
        }
        if !label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Some("only letters, digits, hyphens and dots are allowed");
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Some("a label starts or ends with a hyphen");
        }
    }
    let last = labels.last().copied().unwrap_or_default();
    if last.chars().all(|c| c.is_ascii_digit()) {
        return Some("it looks like an IP address but does not parse as one");
    }
    None
}

fn parse_email(value: &str) -> Result<String> {
    let Some((local, domain)) = value.split_once('@') else {
        bail!("{value:?} is not an email address: it has no @");
    };
    let local_ok = !local.is_empty()
        && local
            .chars()
            .all(|c| c.is_ascii_graphic() && !"@<>()[]\\,;:\"".contains(c));
    if !local_ok {
        bail!("{value:?} is not a valid email address");
    }
    parse_dns(domain).with_context(|| format!("{value:?} is not a valid email address"))?;
    Ok(value.to_owned())
}

fn parse_uri(value: &str) -> Result<String> {
    let Some((scheme, rest)) = value.split_once("://") else {
        bail!("{value:?} is not a URI: it has no scheme:// part");
    };
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    if !scheme_ok || rest.is_empty() || !value.chars().all(|c| c.is_ascii_graphic()) {
        bail!("{value:?} is not a valid URI");
    }
    Ok(value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_the_type_of_each_form() {
        let cases = [
            ("localhost", "DNS:localhost"),
            ("*.milvus.example.com", "DNS:*.milvus.example.com"),
            ("milvus-proxy.db.svc", "DNS:milvus-proxy.db.svc"),
            ("10.0.0.7", "IP:10.0.0.7"),
            ("::1", "IP:::1"),
            ("[fe80::1]", "IP:fe80::1"),
            ("ops@example.com", "email:ops@example.com"),
            (
                "spiffe://example.org/milvus",
                "URI:spiffe://example.org/milvus",
            ),
            ("DNS:10.0.0.7.nip.io", "DNS:10.0.0.7.nip.io"),
            ("ip:192.168.1.2", "IP:192.168.1.2"),
        ];
        for (input, expected) in cases {
            let san = San::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(san.to_string(), expected, "for input {input:?}");
        }
    }

    #[test]
    fn rejects_malformed_names() {
        let bad = [
            "",
            "exa mple.com",
            "a..b",
            "-a.com",
            "a-.com",
            "foo.*.com",
            "*",
            "under_score.com",
            "1.2.3",
            "999.1.1.1",
            "trailing.dot.",
            "IP:localhost",
            "@example.com",
            "http://",
        ];
        for input in bad {
            assert!(San::parse(input).is_err(), "{input:?} was accepted");
        }
        assert!(San::parse(&format!("{}.com", "a".repeat(64))).is_err());
    }

    #[test]
    fn localhost_defaults_include_both_loopback_addresses() {
        let sans: Vec<String> = San::defaults_for("localhost")
            .unwrap()
            .iter()
            .map(San::to_string)
            .collect();
        assert_eq!(sans, ["DNS:localhost", "IP:127.0.0.1", "IP:::1"]);
        let sans = San::defaults_for("db.example.com").unwrap();
        assert_eq!(sans, [San::Dns("db.example.com".into())]);
        assert!(San::defaults_for("My Server").is_err());
    }
}
