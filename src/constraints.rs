//! Name constraints (RFC 5280 section 4.2.1.10): the DNS names and IP
//! ranges a CA may issue for. A CA constrained to its deployment's names is
//! of no use for impersonating anything else, even if its key leaks.

use std::fmt;
use std::net::IpAddr;

use anyhow::{anyhow, bail, Result};
use rcgen::{CidrSubnet, GeneralSubtree, NameConstraints};
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::prelude::parse_x509_certificate;

use crate::san::San;

/// An IP range, `10.0.0.0/8` or `fd00::/8`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpRange {
    addr: IpAddr,
    prefix: u8,
}

impl IpRange {
    /// Reads `ADDRESS/PREFIX`; a bare address is a range of one.
    pub fn parse(text: &str) -> Result<IpRange> {
        let (addr, prefix) = match text.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (text, None),
        };
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| anyhow!("{text:?} is not an IP range such as 10.0.0.0/8"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(|| {
                anyhow!("{text:?}: the prefix length must be a whole number from 0 to {max}")
            })?,
        };
        Ok(IpRange { addr, prefix })
    }

    /// Whether `ip` lies in the range.
    pub fn contains(&self, ip: &IpAddr) -> bool {
        let (range, ip) = match (self.addr, ip) {
            (IpAddr::V4(a), IpAddr::V4(b)) => (a.to_bits() as u128, b.to_bits() as u128),
            (IpAddr::V6(a), IpAddr::V6(b)) => (a.to_bits(), b.to_bits()),
            _ => return false,
        };
        let bits = if self.addr.is_ipv4() { 32 } else { 128 };
        let shift = bits - u32::from(self.prefix);
        shift >= bits || (range >> shift) == (ip >> shift)
    }

    fn from_address_and_mask(bytes: &[u8]) -> Option<IpRange> {
        let half = bytes.len() / 2;
        let addr = match half {
            4 => IpAddr::from(<[u8; 4]>::try_from(&bytes[..4]).ok()?),
            16 => IpAddr::from(<[u8; 16]>::try_from(&bytes[..16]).ok()?),
            _ => return None,
        };
        let prefix = bytes[half..].iter().map(|b| b.count_ones()).sum::<u32>() as u8;
        Some(IpRange { addr, prefix })
    }
}

impl fmt::Display for IpRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// The permitted and excluded names of a CA. Empty lists constrain nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NameRules {
    /// DNS subtrees leaves may use: `example.com` allows it and every name
    /// below it; `.example.com` only the names below.
    pub permitted_dns: Vec<String>,
    /// DNS subtrees leaves may not use.
    pub excluded_dns: Vec<String>,
    /// IP ranges leaves may use.
    pub permitted_ip: Vec<IpRange>,
    /// IP ranges leaves may not use.
    pub excluded_ip: Vec<IpRange>,
}

impl NameRules {
    /// Whether no rule is set.
    pub fn is_empty(&self) -> bool {
        self.permitted_dns.is_empty()
            && self.excluded_dns.is_empty()
            && self.permitted_ip.is_empty()
            && self.excluded_ip.is_empty()
    }

    /// The extension rcgen writes, or `None` when there are no rules.
    pub fn to_rcgen(&self) -> Option<NameConstraints> {
        if self.is_empty() {
            return None;
        }
        let subtrees = |dns: &[String], ip: &[IpRange]| {
            let names = dns.iter().map(|d| GeneralSubtree::DnsName(d.clone()));
            let ranges = ip
                .iter()
                .map(|r| GeneralSubtree::IpAddress(CidrSubnet::from_addr_prefix(r.addr, r.prefix)));
            names.chain(ranges).collect()
        };
        Some(NameConstraints {
            permitted_subtrees: subtrees(&self.permitted_dns, &self.permitted_ip),
            excluded_subtrees: subtrees(&self.excluded_dns, &self.excluded_ip),
        })
    }

    /// The rules a CA certificate carries. Rules on other name types
    /// (email, URI, directory names) are not read: certgen checks DNS names
    /// and IP addresses only, and the TLS clients enforce the rest.
    pub fn of_certificate(der: &[u8]) -> Result<NameRules> {
        let (_, cert) = parse_x509_certificate(der)
            .map_err(|e| anyhow!("the CA certificate could not be parsed: {e}"))?;
        let mut rules = NameRules::default();
        for ext in cert.extensions() {
            let ParsedExtension::NameConstraints(nc) = ext.parsed_extension() else {
                continue;
            };
            let sets = [
                (&nc.permitted_subtrees, true),
                (&nc.excluded_subtrees, false),
            ];
            for (subtrees, permitted) in sets {
                for subtree in subtrees.iter().flatten() {
                    match &subtree.base {
                        GeneralName::DNSName(name) => {
                            let list = if permitted {
                                &mut rules.permitted_dns
                            } else {
                                &mut rules.excluded_dns
                            };
                            list.push((*name).to_owned());
                        }
                        GeneralName::IPAddress(bytes) => {
                            let Some(range) = IpRange::from_address_and_mask(bytes) else {
                                continue;
                            };
                            let list = if permitted {
                                &mut rules.permitted_ip
                            } else {
                                &mut rules.excluded_ip
                            };
                            list.push(range);
                        }
                        _ => {}
                    }
                }
            }
        }
        Ok(rules)
    }

    /// Fails, naming the first offending SAN and the rule, when a SAN falls
    /// outside the permitted names or inside the excluded ones.
    pub fn check(&self, sans: &[San]) -> Result<()> {
        for san in sans {
            match san {
                San::Dns(name) => {
                    if let Some(rule) = self.excluded_dns.iter().find(|r| dns_within(name, r)) {
                        bail!("{san} is excluded by the CA's name constraint {rule:?}");
                    }
                    let permitted = self.permitted_dns.is_empty()
                        || self.permitted_dns.iter().any(|r| dns_within(name, r));
                    if !permitted {
                        bail!(
                            "{san} is outside the CA's permitted names ({})",
                            self.permitted_dns.join(", ")
                        );
                    }
                }
                San::Ip(ip) => {
                    if let Some(rule) = self.excluded_ip.iter().find(|r| r.contains(ip)) {
                        bail!("{san} is excluded by the CA's name constraint {rule}");
                    }
                    let permitted = self.permitted_ip.is_empty()
                        || self.permitted_ip.iter().any(|r| r.contains(ip));
                    if !permitted {
                        let ranges: Vec<String> =
                            self.permitted_ip.iter().map(IpRange::to_string).collect();
                        bail!(
                            "{san} is outside the CA's permitted ranges ({})",
                            ranges.join(", ")
                        );
                    }
                }
                San::Email(_) | San::Uri(_) => {}
            }
        }
        Ok(())
    }
}

/// RFC 5280 DNS subtree matching: `example.com` covers itself and every name
/// ending in `.example.com`; `.example.com` only the latter. Case-blind.
fn dns_within(name: &str, rule: &str) -> bool {
    let name = name.to_ascii_lowercase();
    let rule = rule.to_ascii_lowercase();
    if rule.is_empty() {
        return true;
    }
    if let Some(below) = rule.strip_prefix('.') {
        return name.ends_with(&format!(".{below}"));
    }
    name == rule || name.ends_with(&format!(".{rule}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_subtrees_match_as_rfc5280_says() {
        assert!(dns_within("example.com", "example.com"));
        assert!(dns_within("db.Example.com", "example.com"));
        assert!(dns_within("*.svc.example.com", "example.com"));
        assert!(!dns_within("badexample.com", "example.com"));
        assert!(!dns_within("example.com", ".example.com"));
        assert!(dns_within("a.example.com", ".example.com"));
    }

    #[test]
    fn ip_ranges_contain_their_addresses() {
        let range = IpRange::parse("10.0.0.0/8").unwrap();
        assert!(range.contains(&"10.200.3.4".parse().unwrap()));
        assert!(!range.contains(&"11.0.0.1".parse().unwrap()));
        assert!(!range.contains(&"::1".parse().unwrap()));
        let one = IpRange::parse("::1").unwrap();
        assert!(one.contains(&"::1".parse().unwrap()));
        assert!(!one.contains(&"::2".parse().unwrap()));
        assert!(IpRange::parse("0.0.0.0/0")
            .unwrap()
            .contains(&"8.8.8.8".parse().unwrap()));
        for bad in ["10.0.0.0/33", "x/8", "10.0.0.0/-1", "fd00::/129"] {
            assert!(IpRange::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn check_refuses_names_outside_and_inside_exclusions() {
        let rules = NameRules {
            permitted_dns: vec!["milvus.svc".into()],
            excluded_dns: vec!["admin.milvus.svc".into()],
            permitted_ip: vec![IpRange::parse("10.0.0.0/8").unwrap()],
            excluded_ip: vec![],
        };
        let ok = [
            San::Dns("proxy.milvus.svc".into()),
            San::Ip("10.1.2.3".parse().unwrap()),
        ];
        rules.check(&ok).unwrap();
        assert!(rules.check(&[San::Dns("evil.example.com".into())]).is_err());
        assert!(rules.check(&[San::Dns("admin.milvus.svc".into())]).is_err());
        assert!(rules
            .check(&[San::Ip("192.168.1.1".parse().unwrap())])
            .is_err());
        rules.check(&[San::Email("a@b.c".into())]).unwrap();
        NameRules::default()
            .check(&[San::Dns("anything.example".into())])
            .unwrap();
    }
}
