//! Building certificates with rcgen: the CA, server and client leaves and
//! their signing requests. Nothing here touches the file system, so every
//! profile of a certificate can be unit-tested in memory.

use anyhow::{Context, Result};
use rcgen::{
    BasicConstraints, CertificateParams, ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose,
    SerialNumber,
};
use time::{Duration, OffsetDateTime};

use crate::ca::Ca;
use crate::constraints::NameRules;
use crate::keys;
use crate::san::San;
use crate::serial::Serial;
use crate::subject::Subject;

/// How far notBefore is set back from now, so that a host whose clock runs
/// a little behind the issuer's accepts a certificate issued moments ago.
pub const BACKDATE: Duration = Duration::minutes(5);

/// The validity period of a certificate, at whole seconds as X.509 stores it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Validity {
    /// First moment the certificate is valid.
    pub not_before: OffsetDateTime,
    /// Last moment the certificate is valid.
    pub not_after: OffsetDateTime,
}

impl Validity {
    /// `days` days from `now`, with notBefore set back by [`BACKDATE`].
    /// X.509 keeps whole seconds; a fraction in `now` is dropped when the
    /// certificate is written.
    pub fn from_now(now: OffsetDateTime, days: u32) -> Validity {
        Validity {
            not_before: now - BACKDATE,
            not_after: now + Duration::days(i64::from(days)),
        }
    }

    /// Narrows the period to fit inside the issuing CA's, since a client
    /// rejects a chain as soon as any certificate in it has expired. Returns
    /// whether the end had to move.
    pub fn fit_inside(&mut self, ca: &Ca) -> bool {
        self.not_before = self.not_before.max(ca.not_before);
        let capped = self.not_after > ca.not_after;
        self.not_after = self.not_after.min(ca.not_after);
        capped
    }
}

/// What a CA certificate says.
#[derive(Clone, Debug)]
pub struct CaSpec {
    /// The CA's subject; its CN names the CA, not a host.
    pub subject: Subject,
    /// Validity period.
    pub validity: Validity,
    /// How many intermediate CAs may follow this one; 0 lets it sign leaves
    /// only, which is all certgen ever asks of it.
    pub path_len: u8,
    /// The names it may issue for; empty for no constraint.
    pub rules: NameRules,
}

/// The purpose a leaf certificate is issued for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// A TLS server: extendedKeyUsage serverAuth.
    Server,
    /// A TLS client in mutual TLS: extendedKeyUsage clientAuth.
    Client,
    /// Both, as Milvus components are to each other under internal TLS.
    Both,
}

impl Role {
    /// The word used in file names and messages.
    pub fn name(self) -> &'static str {
        match self {
            Role::Server => "server",
            Role::Client => "client",
            Role::Both => "server and client",
        }
    }
}

/// What a leaf certificate says.
#[derive(Clone, Debug)]
pub struct LeafSpec {
    /// Server or client.
    pub role: Role,
    /// The leaf's subject.
    pub subject: Subject,
    /// Never empty: a certificate without SANs fails host name checks in Go
    /// and rustls.
    pub sans: Vec<San>,
    /// Validity period, already fitted inside the CA's.
    pub validity: Validity,
    /// The serial number to issue under.
    pub serial: Serial,
}

/// A leaf certificate and what comes with it, PEM-encoded.
#[derive(Debug)]
pub struct IssuedLeaf {
    /// PKCS#8 private key.
    pub key_pem: String,
    /// PKCS#10 request, signed by the key.
    pub csr_pem: String,
    /// The certificate, signed by the CA.
    pub cert_pem: String,
}

/// Self-signs a CA certificate for `key` and returns the CA ready to issue.
pub fn make_ca(spec: &CaSpec, key: KeyPair, serial: &Serial) -> Result<Ca> {
    let mut params = CertificateParams::default();
    params.distinguished_name = spec.subject.to_distinguished_name()?;
    params.not_before = spec.validity.not_before;
    params.not_after = spec.validity.not_after;
    params.serial_number = Some(SerialNumber::from_slice(serial.as_bytes()));
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(spec.path_len));
    params.name_constraints = spec.rules.to_rcgen();
    // digitalSignature lets the CA key sign OCSP responses; keyCertSign and
    // cRLSign are what RFC 5280 section 4.2.1.3 requires of a CA.
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let cert = params
        .self_signed(&key)
        .context("failed to sign the CA certificate")?;
    Ca::from_parts(cert.der().to_vec(), key)
}

/// Issues a leaf certificate for `key` from `ca`, with the matching CSR.
pub fn make_leaf(spec: &LeafSpec, key: &KeyPair, ca: &Ca) -> Result<IssuedLeaf> {
    let mut params = CertificateParams::default();
    params.distinguished_name = spec.subject.to_distinguished_name()?;
    params.subject_alt_names = spec.sans.iter().map(San::to_rcgen).collect::<Result<_>>()?;
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    if keys::is_rsa(key) {
        // TLS 1.2 RSA key exchange encrypts the premaster secret to the key.
        params.key_usages.push(KeyUsagePurpose::KeyEncipherment);
    }
    params.extended_key_usages = match spec.role {
        Role::Server => vec![ExtendedKeyUsagePurpose::ServerAuth],
        Role::Client => vec![ExtendedKeyUsagePurpose::ClientAuth],
        Role::Both => vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ],
    };

    // A CSR carries neither serial, dates nor issuer, so it is serialized
    // before those are filled in.
    let csr = params
        .serialize_request(key)
        .context("failed to sign the certificate request")?;

    params.not_before = spec.validity.not_before;
    params.not_after = spec.validity.not_after;
    params.serial_number = Some(SerialNumber::from_slice(spec.serial.as_bytes()));
    params.use_authority_key_identifier_extension = true;
    let cert = params
        .signed_by(key, &ca.issuer()?)
        .with_context(|| format!("failed to sign the {} certificate", spec.role.name()))?;

    Ok(IssuedLeaf {
        key_pem: key.serialize_pem(),
        csr_pem: csr
            .pem()
            .context("failed to encode the certificate request")?,
        cert_pem: cert.pem(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::KeyType;
    use x509_parser::prelude::{parse_x509_certificate, ParsedExtension};

    fn test_ca(key_type: KeyType) -> Ca {
        let spec = CaSpec {
            subject: Subject {
                country: Some("CN".into()),
                org: Some("milvus".into()),
                cn: "certgen test CA".into(),
                ..Subject::default()
            },
            validity: Validity::from_now(OffsetDateTime::now_utc(), 30),
            path_len: 0,
            rules: NameRules::default(),
        };
        make_ca(
            &spec,
            key_type.generate().unwrap(),
            &Serial::random().unwrap(),
        )
        .unwrap()
    }

    fn leaf_spec(role: Role, ca: &Ca) -> LeafSpec {
        let mut validity = Validity::from_now(OffsetDateTime::now_utc(), 3650);
        validity.fit_inside(ca);
        LeafSpec {
            role,
            subject: Subject {
                cn: "localhost".into(),
                ..Subject::default()
            },
            sans: San::defaults_for("localhost").unwrap(),
            validity,
            serial: Serial::parse_srl("1000").unwrap(),
        }
    }

    #[test]
    fn ca_has_the_extensions_of_a_leaf_only_ca() {
        let ca = test_ca(KeyType::EcdsaP256);
        let (_, cert) = parse_x509_certificate(ca.cert_der()).unwrap();
        let bc = cert.basic_constraints().unwrap().unwrap();
        assert!(bc.critical);
        assert!(bc.value.ca);
        assert_eq!(bc.value.path_len_constraint, Some(0));
        let ku = cert.key_usage().unwrap().unwrap();
        assert!(ku.critical);
        assert!(ku.value.key_cert_sign() && ku.value.crl_sign() && ku.value.digital_signature());
        assert!(!ku.value.key_encipherment());
        let has_ski = cert.extensions().iter().any(|e| {
            matches!(
                e.parsed_extension(),
                ParsedExtension::SubjectKeyIdentifier(_)
            )
        });
        assert!(has_ski);
        assert_eq!(
            cert.subject().to_string(),
            "C=CN, O=milvus, CN=certgen test CA"
        );
        cert.verify_signature(None)
            .expect("self-signature verifies");
    }

    #[test]
    fn leaf_is_signed_by_the_ca_and_carries_its_role() {
        let ca = test_ca(KeyType::EcdsaP384);
        let key = KeyType::Rsa2048.generate().unwrap();
        let spec = leaf_spec(Role::Client, &ca);
        let issued = make_leaf(&spec, &key, &ca).unwrap();

        let der = pem::parse(&issued.cert_pem).unwrap();
        let (_, cert) = parse_x509_certificate(der.contents()).unwrap();
        let (_, ca_cert) = parse_x509_certificate(ca.cert_der()).unwrap();
        cert.verify_signature(Some(ca_cert.public_key())).unwrap();
        assert_eq!(cert.issuer(), ca_cert.subject());
        assert_eq!(cert.raw_serial(), [0x10, 0x00]);
        // P-384 CA signs with SHA-384, whatever the leaf key is.
        assert_eq!(
            cert.signature_algorithm.algorithm,
            x509_parser::oid_registry::OID_SIG_ECDSA_WITH_SHA384
        );

        let ku = cert.key_usage().unwrap().unwrap().value;
        assert!(ku.digital_signature() && ku.key_encipherment());
        let eku = cert.extended_key_usage().unwrap().unwrap().value;
        assert!(eku.client_auth && !eku.server_auth);
        let bc = cert.basic_constraints().unwrap().unwrap();
        assert!(!bc.value.ca);
        let sans = cert.subject_alternative_name().unwrap().unwrap();
        assert_eq!(sans.value.general_names.len(), 3);
    }

    #[test]
    fn ecdsa_leaf_has_no_key_encipherment() {
        let ca = test_ca(KeyType::Ed25519);
        let key = KeyType::EcdsaP256.generate().unwrap();
        let issued = make_leaf(&leaf_spec(Role::Server, &ca), &key, &ca).unwrap();
        let der = pem::parse(&issued.cert_pem).unwrap();
        let (_, cert) = parse_x509_certificate(der.contents()).unwrap();
        let ku = cert.key_usage().unwrap().unwrap().value;
        assert!(ku.digital_signature() && !ku.key_encipherment());
        let eku = cert.extended_key_usage().unwrap().unwrap().value;
        assert!(eku.server_auth && !eku.client_auth);
    }

    #[test]
    fn validity_is_fitted_inside_the_ca() {
        let ca = test_ca(KeyType::EcdsaP256);
        let mut validity = Validity::from_now(OffsetDateTime::now_utc(), 3650);
        assert!(validity.fit_inside(&ca));
        assert_eq!(validity.not_after, ca.not_after);
        let mut short = Validity::from_now(OffsetDateTime::now_utc(), 1);
        assert!(!short.fit_inside(&ca));
    }
}
