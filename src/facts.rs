//! What a decoded object says, as plain data: the facts `inspect` prints and
//! serializes, and `verify` judges. Strings taken from certificates are
//! escaped so that a hostile file cannot put control characters on a
//! terminal.

use std::net::{Ipv4Addr, Ipv6Addr};

use anyhow::{anyhow, Result};
use rcgen::{KeyPair, PublicKeyData};
use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use x509_parser::certification_request::X509CertificationRequest;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::objects::{oid2sn, oid_registry};
use x509_parser::oid_registry::{Oid, OID_SIG_ED25519};
use x509_parser::prelude::{parse_x509_certificate, FromDer, X509Certificate};
use x509_parser::public_key::PublicKey;
use x509_parser::x509::{SubjectPublicKeyInfo, X509Name};

use crate::decode::{parse_problem, KeyFormat};
use crate::serial::Serial;

/// The public key of a certificate, request or private key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KeyInfo {
    /// `RSA`, `ECDSA`, `Ed25519`, or the algorithm's registered short name.
    pub algorithm: String,
    /// Key size in bits (RSA modulus, EC field size, 256 for Ed25519).
    pub bits: Option<usize>,
    /// `P-256`, `P-384` or `P-521` for ECDSA keys.
    pub curve: Option<String>,
}

impl std::fmt::Display for KeyInfo {
    /// `RSA 2048 bits`, `ECDSA P-256`, `Ed25519`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.curve, self.bits) {
            (Some(curve), _) => write!(f, "{} {curve}", self.algorithm),
            (None, Some(bits)) if self.algorithm == "RSA" => {
                write!(f, "{} {bits} bits", self.algorithm)
            }
            _ => f.write_str(&self.algorithm),
        }
    }
}

/// The key usage extension.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KeyUsageFacts {
    /// Whether the extension is marked critical.
    pub critical: bool,
    /// RFC 5280 names: `digitalSignature`, `keyEncipherment`, `keyCertSign`...
    pub usages: Vec<String>,
}

/// The basic constraints extension.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BasicConstraintsFacts {
    /// Whether the extension is marked critical.
    pub critical: bool,
    /// Whether the certificate may sign certificates.
    pub ca: bool,
    /// How many CAs may follow it, if limited.
    pub path_len: Option<u32>,
}

/// Where a certificate stands in time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeStatus {
    /// Between notBefore and notAfter.
    Valid,
    /// Past notAfter.
    Expired,
    /// Before notBefore.
    NotYetValid,
}

/// Everything certgen reports about a certificate.
#[derive(Clone, Debug, Serialize)]
pub struct CertFacts {
    /// Subject, RFC 4514 style (`C=CN, O=milvus, CN=localhost`).
    pub subject: String,
    /// The subject's common name, if it has one.
    pub common_name: Option<String>,
    /// Issuer, same style.
    pub issuer: String,
    /// Whether subject and issuer are the same name.
    pub self_issued: bool,
    /// Serial number, upper-case hex as `openssl x509 -serial` prints it.
    pub serial: String,
    /// Start of validity, RFC 3339.
    pub not_before: String,
    /// End of validity, RFC 3339.
    pub not_after: String,
    /// Whole days from now to notAfter; negative once expired.
    pub days_left: i64,
    /// Valid, expired or not yet valid, now.
    pub time_status: TimeStatus,
    /// The subject's public key.
    pub public_key: KeyInfo,
    /// The signature algorithm's registered short name.
    pub signature_algorithm: String,
    /// subjectAltName entries: `DNS:name`, `IP:addr`, `email:addr`, `URI:uri`.
    pub sans: Vec<String>,
    /// The key usage extension, if present.
    pub key_usage: Option<KeyUsageFacts>,
    /// Extended key usages (`serverAuth`, `clientAuth`, or dotted OIDs);
    /// empty when the extension is absent.
    pub extended_key_usage: Vec<String>,
    /// The basic constraints extension, if present.
    pub basic_constraints: Option<BasicConstraintsFacts>,
    /// Subject key identifier, colon-separated hex.
    pub subject_key_id: Option<String>,
    /// Authority key identifier, colon-separated hex.
    pub authority_key_id: Option<String>,
    /// SHA-256 of the DER, colon-separated upper-case hex, as
    /// `openssl x509 -fingerprint -sha256` prints it.
    pub sha256_fingerprint: String,
    /// The end-of-validity time, for checks in code.
    #[serde(skip)]
    pub not_after_time: OffsetDateTime,
    /// The start-of-validity time, for checks in code.
    #[serde(skip)]
    pub not_before_time: OffsetDateTime,
    /// The raw public key bits, to match keys against.
    #[serde(skip)]
    pub public_key_bits: Vec<u8>,
}

/// Everything certgen reports about a certificate request.
#[derive(Clone, Debug, Serialize)]
pub struct RequestFacts {
    /// Subject of the request.
    pub subject: String,
    /// The requested public key.
    pub public_key: KeyInfo,
    /// subjectAltName entries the request asks for.
    pub sans: Vec<String>,
    /// The signature algorithm's registered short name.
    pub signature_algorithm: String,
    /// Whether the request is signed by the key it carries.
    pub signature_valid: bool,
    /// The raw public key bits, to match keys against.
    #[serde(skip)]
    pub public_key_bits: Vec<u8>,
}

/// Everything certgen reports about a private key: never the key itself.
#[derive(Clone, Debug, Serialize)]
pub struct KeyFacts {
    /// How the key is encoded.
    pub format: KeyFormat,
    /// Its public half, or `None` if certgen cannot load this kind of key.
    pub public_key: Option<KeyInfo>,
    /// Why the key could not be loaded, if it could not.
    pub problem: Option<String>,
    /// Files (certificates and requests beside the key, or given with it)
    /// whose public key is this key's.
    pub matches: Vec<String>,
    /// The raw public key bits, to match certificates against.
    #[serde(skip)]
    pub public_key_bits: Vec<u8>,
}

/// Reads the facts of a DER certificate.
pub fn certificate(der: &[u8], now: OffsetDateTime) -> Result<CertFacts> {
    let (_, cert) = parse_x509_certificate(der).map_err(|e| {
        anyhow!(
            "the certificate could not be parsed: {}",
            parse_problem("a certificate", &e)
        )
    })?;
    let not_before = cert.validity().not_before.to_datetime();
    let not_after = cert.validity().not_after.to_datetime();
    let common_name = cert
        .subject()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .map(clean);
    let time_status = if now < not_before {
        TimeStatus::NotYetValid
    } else if now > not_after {
        TimeStatus::Expired
    } else {
        TimeStatus::Valid
    };
    Ok(CertFacts {
        subject: name_string(cert.subject()),
        common_name,
        issuer: name_string(cert.issuer()),
        self_issued: cert.subject().as_raw() == cert.issuer().as_raw(),
        serial: Serial::from_be_bytes(cert.raw_serial()).to_string(),
        not_before: rfc3339(not_before),
        not_after: rfc3339(not_after),
        days_left: (not_after - now).whole_days(),
        time_status,
        public_key: key_info(cert.public_key()),
        signature_algorithm: oid_name(&cert.signature_algorithm.algorithm),
        sans: certificate_sans(&cert),
        key_usage: key_usage(&cert),
        extended_key_usage: extended_key_usage(&cert),
        basic_constraints: basic_constraints(&cert),
        subject_key_id: key_id(&cert, true),
        authority_key_id: key_id(&cert, false),
        sha256_fingerprint: fingerprint(der),
        not_after_time: not_after,
        not_before_time: not_before,
        public_key_bits: cert.public_key().subject_public_key.data.to_vec(),
    })
}

/// Reads the facts of a DER certificate request.
pub fn request(der: &[u8]) -> Result<RequestFacts> {
    let (_, csr) = X509CertificationRequest::from_der(der).map_err(|e| {
        anyhow!(
            "the certificate request could not be parsed: {}",
            parse_problem("a certificate request", &e)
        )
    })?;
    let info = &csr.certification_request_info;
    let sans = csr
        .requested_extensions()
        .into_iter()
        .flatten()
        .filter_map(|ext| match ext {
            ParsedExtension::SubjectAlternativeName(san) => Some(&san.general_names),
            _ => None,
        })
        .flatten()
        .map(general_name)
        .collect();
    Ok(RequestFacts {
        subject: name_string(&info.subject),
        public_key: key_info(&info.subject_pki),
        sans,
        signature_algorithm: oid_name(&csr.signature_algorithm.algorithm),
        signature_valid: csr.verify_signature().is_ok(),
        public_key_bits: info.subject_pki.subject_public_key.data.to_vec(),
    })
}

/// Reads the facts of a private key. A key of a kind certgen cannot load
/// (DSA, Ed448, a corrupt one) is reported with its problem, not an error.
pub fn private_key(der: &[u8], format: KeyFormat) -> KeyFacts {
    let loaded = KeyPair::try_from(der);
    let (public_key, problem, bits) = match loaded {
        Ok(pair) => {
            let spki = pair.subject_public_key_info();
            let info = SubjectPublicKeyInfo::from_der(&spki)
                .map(|(_, parsed)| key_info(&parsed))
                .ok();
            (info, None, pair.der_bytes().to_vec())
        }
        Err(e) => (
            None,
            Some(format!(
                "the key could not be loaded ({e}); certgen reads RSA, ECDSA and Ed25519 keys"
            )),
            Vec::new(),
        ),
    };
    KeyFacts {
        format,
        public_key,
        problem,
        matches: Vec::new(),
        public_key_bits: bits,
    }
}

/// The SHA-256 fingerprint of DER bytes, `AB:CD:...`.
pub fn fingerprint(der: &[u8]) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, der);
    colon_hex(digest.as_ref())
}

/// The subjectAltName entries of a parsed certificate; empty without the
/// extension.
pub fn certificate_sans(cert: &X509Certificate<'_>) -> Vec<String> {
    match cert.subject_alternative_name() {
        Ok(Some(ext)) => ext.value.general_names.iter().map(general_name).collect(),
        _ => Vec::new(),
    }
}

/// A distinguished name in RFC 4514 syntax (`O=Acme\\, Inc., CN=x`), but in
/// certificate order, C first, as `openssl x509 -subject` lists it.
pub fn name_string(name: &X509Name<'_>) -> String {
    let rdns: Vec<String> = name
        .iter()
        .map(|rdn| {
            let parts: Vec<String> = rdn
                .iter()
                .map(|attr| {
                    let value = match attr.as_str() {
                        Ok(text) => escape_rfc4514(text),
                        // RFC 4514 section 2.4: a value that is not a string
                        // is written as # and the hex of its encoding.
                        Err(_) => format!("#{}", plain_hex(attr.as_slice())),
                    };
                    format!("{}={value}", attribute_name(attr.attr_type()))
                })
                .collect();
            parts.join("+")
        })
        .collect();
    clean(&rdns.join(", "))
}

/// The short names of RFC 4514 section 3 and the other attributes
/// certificates commonly carry; others as a dotted OID.
fn attribute_name(oid: &Oid<'_>) -> String {
    let name = match oid.to_id_string().as_str() {
        "2.5.4.3" => "CN",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.9" => "STREET",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "2.5.4.5" => "serialNumber",
        "2.5.4.17" => "postalCode",
        "0.9.2342.19200300.100.1.1" => "UID",
        "0.9.2342.19200300.100.1.25" => "DC",
        "1.2.840.113549.1.9.1" => "emailAddress",
        other => return other.to_owned(),
    };
    name.to_owned()
}

/// Escapes an attribute value as RFC 4514 section 2.4 requires.
fn escape_rfc4514(value: &str) -> String {
    let last = value.chars().count().saturating_sub(1);
    let mut out = String::with_capacity(value.len());
    for (index, c) in value.chars().enumerate() {
        let special = matches!(c, '"' | '+' | ',' | ';' | '<' | '>' | '\\')
            || (index == 0 && (c == '#' || c == ' '))
            || (index == last && c == ' ');
        if special {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn key_info(spki: &SubjectPublicKeyInfo<'_>) -> KeyInfo {
    let curve = spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.as_oid().ok())
        .and_then(|oid| match oid.to_id_string().as_str() {
            "1.2.840.10045.3.1.7" => Some("P-256".to_owned()),
            "1.3.132.0.34" => Some("P-384".to_owned()),
            "1.3.132.0.35" => Some("P-521".to_owned()),
            _ => None,
        });
    match spki.parsed() {
        Ok(PublicKey::RSA(rsa)) => KeyInfo {
            algorithm: "RSA".into(),
            bits: Some(bit_length(rsa.modulus)),
            curve: None,
        },
        Ok(PublicKey::EC(point)) => KeyInfo {
            algorithm: "ECDSA".into(),
            // The field size, as openssl reports it: 521 for P-521, whose
            // points take 66 bytes a coordinate.
            bits: Some(match curve.as_deref() {
                Some("P-256") => 256,
                Some("P-384") => 384,
                Some("P-521") => 521,
                _ => point.key_size(),
            }),
            curve,
        },
        _ if spki.algorithm.algorithm == OID_SIG_ED25519 => KeyInfo {
            algorithm: "Ed25519".into(),
            bits: Some(256),
            curve: None,
        },
        _ => KeyInfo {
            algorithm: oid_name(&spki.algorithm.algorithm),
            bits: None,
            curve: None,
        },
    }
}

/// The bit length of a big-endian unsigned number: 2052 for a 2052-bit
/// RSA modulus, which byte counting would round to 2048 or 2056.
fn bit_length(bytes: &[u8]) -> usize {
    let Some(first) = bytes.iter().position(|b| *b != 0) else {
        return 0;
    };
    (bytes.len() - first) * 8 - bytes[first].leading_zeros() as usize
}

fn key_usage(cert: &X509Certificate<'_>) -> Option<KeyUsageFacts> {
    let ext = cert.key_usage().ok()??;
    let ku = ext.value;
    let flags = [
        (ku.digital_signature(), "digitalSignature"),
        (ku.non_repudiation(), "nonRepudiation"),
        (ku.key_encipherment(), "keyEncipherment"),
        (ku.data_encipherment(), "dataEncipherment"),
        (ku.key_agreement(), "keyAgreement"),
        (ku.key_cert_sign(), "keyCertSign"),
        (ku.crl_sign(), "cRLSign"),
        (ku.encipher_only(), "encipherOnly"),
        (ku.decipher_only(), "decipherOnly"),
    ];
    Some(KeyUsageFacts {
        critical: ext.critical,
        usages: flags
            .iter()
            .filter(|(set, _)| *set)
            .map(|(_, name)| (*name).to_owned())
            .collect(),
    })
}

fn extended_key_usage(cert: &X509Certificate<'_>) -> Vec<String> {
    let Ok(Some(ext)) = cert.extended_key_usage() else {
        return Vec::new();
    };
    let eku = ext.value;
    let flags = [
        (eku.any, "anyExtendedKeyUsage"),
        (eku.server_auth, "serverAuth"),
        (eku.client_auth, "clientAuth"),
        (eku.code_signing, "codeSigning"),
        (eku.email_protection, "emailProtection"),
        (eku.time_stamping, "timeStamping"),
        (eku.ocsp_signing, "OCSPSigning"),
    ];
    let mut names: Vec<String> = flags
        .iter()
        .filter(|(set, _)| *set)
        .map(|(_, name)| (*name).to_owned())
        .collect();
    names.extend(eku.other.iter().map(|oid| oid.to_id_string()));
    names
}

fn basic_constraints(cert: &X509Certificate<'_>) -> Option<BasicConstraintsFacts> {
    let ext = cert.basic_constraints().ok()??;
    Some(BasicConstraintsFacts {
        critical: ext.critical,
        ca: ext.value.ca,
        path_len: ext.value.path_len_constraint,
    })
}

fn key_id(cert: &X509Certificate<'_>, subject: bool) -> Option<String> {
    cert.iter_extensions()
        .find_map(|ext| match ext.parsed_extension() {
            ParsedExtension::SubjectKeyIdentifier(id) if subject => Some(id.0),
            ParsedExtension::AuthorityKeyIdentifier(aki) if !subject => {
                aki.key_identifier.as_ref().map(|id| id.0)
            }
            _ => None,
        })
        .map(colon_hex)
}

/// One SAN in certgen's `TYPE:value` form.
fn general_name(name: &GeneralName<'_>) -> String {
    match name {
        GeneralName::DNSName(dns) => format!("DNS:{}", clean(dns)),
        GeneralName::IPAddress(bytes) => match bytes.len() {
            4 => format!(
                "IP:{}",
                Ipv4Addr::from(<[u8; 4]>::try_from(*bytes).unwrap_or_default())
            ),
            16 => format!(
                "IP:{}",
                Ipv6Addr::from(<[u8; 16]>::try_from(*bytes).unwrap_or_default())
            ),
            _ => format!("IP:<{} bytes>", bytes.len()),
        },
        GeneralName::RFC822Name(mail) => format!("email:{}", clean(mail)),
        GeneralName::URI(uri) => format!("URI:{}", clean(uri)),
        GeneralName::DirectoryName(dn) => format!("DirName:{}", name_string(dn)),
        GeneralName::RegisteredID(oid) => format!("RID:{}", oid.to_id_string()),
        GeneralName::OtherName(oid, _) => format!("othername:{}", oid.to_id_string()),
        other => clean(&format!("{other:?}")),
    }
}

fn oid_name(oid: &Oid<'_>) -> String {
    oid2sn(oid, oid_registry())
        .map(str::to_owned)
        .unwrap_or_else(|_| oid.to_id_string())
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_else(|_| t.to_string())
}

fn plain_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn colon_hex(bytes: &[u8]) -> String {
    let parts: Vec<String> = bytes.iter().map(|b| format!("{b:02X}")).collect();
    parts.join(":")
}

/// `1 day`, `2 days`: a count of days for messages.
pub fn days(count: i64) -> String {
    if count.abs() == 1 {
        format!("{count} day")
    } else {
        format!("{count} days")
    }
}

/// [`clean`] for text of several lines: the line breaks stay.
pub fn clean_keeping_lines(text: &str) -> String {
    let lines: Vec<String> = text.split('\n').map(clean).collect();
    lines.join("\n")
}

/// Escapes control characters, so that names from a hostile certificate
/// print as text and never as terminal commands.
pub fn clean(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(clean("evil\u{1b}[2Jname\n"), "evil\\u{1b}[2Jname\\n");
        assert_eq!(clean("plain name"), "plain name");
    }

    #[test]
    fn escapes_special_characters_in_names() {
        assert_eq!(escape_rfc4514("Acme, Inc."), "Acme\\, Inc.");
        assert_eq!(escape_rfc4514("#1 a+b "), "\\#1 a\\+b\\ ");
        assert_eq!(escape_rfc4514("plain"), "plain");
    }

    #[test]
    fn counts_bits_not_bytes() {
        assert_eq!(bit_length(&[0x00, 0x80, 0x00]), 16);
        assert_eq!(bit_length(&[0x0f, 0xff]), 12);
        assert_eq!(bit_length(&[0x00]), 0);
    }

    #[test]
    fn days_are_counted_in_words() {
        assert_eq!(days(1), "1 day");
        assert_eq!(days(-1), "-1 day");
        assert_eq!(days(0), "0 days");
        assert_eq!(days(3650), "3650 days");
    }

    #[test]
    fn fingerprint_is_colon_separated_upper_hex() {
        let fp = fingerprint(b"abc");
        assert_eq!(fp.len(), 32 * 3 - 1);
        assert!(fp.starts_with("BA:78:16:BF"), "{fp}");
    }
}
