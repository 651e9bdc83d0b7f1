//! The subject distinguished name of a certificate: the recipe's six
//! variables, checked against the limits other TLS tools enforce.

use anyhow::{bail, Result};
use rcgen::{DistinguishedName, DnType, DnValue};

/// Subject fields, each optional but the common name.
///
/// They are written in the order the openssl recipe uses (C, ST, L, O, OU,
/// CN), so that certgen's subjects read the same in `openssl x509 -subject`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Subject {
    /// Two-letter ISO 3166 country code, upper case.
    pub country: Option<String>,
    /// State or province name.
    pub state: Option<String>,
    /// Locality (city) name.
    pub locality: Option<String>,
    /// Organization name.
    pub org: Option<String>,
    /// Organizational unit name.
    pub ou: Option<String>,
    /// Common name. Never used for host name checks by modern clients; the
    /// subjectAltName extension carries the names that are checked.
    pub cn: String,
}

impl Subject {
    /// The fields in certificate order, with their openssl short names.
    pub fn fields(&self) -> Vec<(&'static str, &str)> {
        let optional = [
            ("C", &self.country),
            ("ST", &self.state),
            ("L", &self.locality),
            ("O", &self.org),
            ("OU", &self.ou),
        ];
        let mut fields: Vec<(&'static str, &str)> = optional
            .into_iter()
            .filter_map(|(label, value)| value.as_deref().map(|v| (label, v)))
            .collect();
        fields.push(("CN", &self.cn));
        fields
    }

    /// The subject as rcgen writes it.
    pub fn to_distinguished_name(&self) -> Result<DistinguishedName> {
        let mut dn = DistinguishedName::new();
        for (label, value) in self.fields() {
            let (ty, value) = match label {
                // RFC 5280 appendix A fixes countryName to PrintableString.
                "C" => (
                    DnType::CountryName,
                    DnValue::PrintableString(value.try_into()?),
                ),
                "ST" => (DnType::StateOrProvinceName, value.into()),
                "L" => (DnType::LocalityName, value.into()),
                "O" => (DnType::OrganizationName, value.into()),
                "OU" => (DnType::OrganizationalUnitName, value.into()),
                _ => (DnType::CommonName, value.into()),
            };
            dn.push(ty, value);
        }
        Ok(dn)
    }
}

impl std::fmt::Display for Subject {
    /// One line in the style of `openssl x509 -subject -nameopt oneline`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self
            .fields()
            .iter()
            .map(|(label, value)| format!("{label}={value}"))
            .collect();
        f.write_str(&parts.join(", "))
    }
}

/// Checks a `--country` value: two ASCII letters, returned in upper case.
pub fn parse_country(value: &str) -> Result<String> {
    if value.len() != 2 || !value.chars().all(|c| c.is_ascii_alphabetic()) {
        bail!("must be a two-letter ISO 3166 country code such as CN or US");
    }
    Ok(value.to_ascii_uppercase())
}

/// Checks a subject attribute value against the upper bound RFC 5280
/// (appendix A.1, `ub-*`) sets for it; openssl refuses longer values, so a
/// longer one would make a certificate other tools cannot re-create or
/// check.
pub fn check_attribute(value: &str, max_chars: usize) -> Result<String> {
    if value.trim().is_empty() {
        bail!("must not be empty");
    }
    if value.chars().any(char::is_control) {
        bail!("must not contain control characters");
    }
    let chars = value.chars().count();
    if chars > max_chars {
        bail!("is {chars} characters long; the limit is {max_chars}");
    }
    Ok(value.to_owned())
}

/// RFC 5280 upper bound for common, organization and unit names.
pub const MAX_NAME: usize = 64;
/// RFC 5280 upper bound for state and locality names.
pub const MAX_PLACE: usize = 128;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn country_is_two_letters_upper_cased() {
        assert_eq!(parse_country("cn").unwrap(), "CN");
        assert_eq!(parse_country("US").unwrap(), "US");
        for bad in ["", "C", "CHN", "C1", "China", "Ü1"] {
            assert!(parse_country(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn attributes_respect_rfc5280_bounds() {
        assert!(check_attribute(&"a".repeat(64), MAX_NAME).is_ok());
        assert!(check_attribute(&"a".repeat(65), MAX_NAME).is_err());
        assert!(check_attribute("  ", MAX_NAME).is_err());
        assert!(check_attribute("a\nb", MAX_NAME).is_err());
    }

    #[test]
    fn fields_follow_the_recipe_order_and_skip_absent_ones() {
        let subject = Subject {
            country: Some("CN".into()),
            org: Some("milvus".into()),
            ou: Some("db".into()),
            cn: "localhost".into(),
            ..Subject::default()
        };
        assert_eq!(subject.to_string(), "C=CN, O=milvus, OU=db, CN=localhost");
    }
}
