//! The certificate authority: its certificate and key, checked to belong
//! together before anything is signed with them.

use std::fs;
use std::path::Path;

use anyhow::{anyhow, bail, Context, Result};
use rcgen::{Issuer, KeyPair, PublicKeyData};
use time::OffsetDateTime;
use x509_parser::prelude::parse_x509_certificate;

use crate::keys;

/// A CA certificate with its private key.
///
/// Invariant: the key is the one the certificate's public key belongs to,
/// and the certificate is marked as a CA (basicConstraints CA:TRUE).
pub struct Ca {
    cert_der: Vec<u8>,
    key: KeyPair,
    /// The subject, one line, for messages.
    pub subject: String,
    /// Start of the CA's validity.
    pub not_before: OffsetDateTime,
    /// End of the CA's validity; no leaf may outlive it.
    pub not_after: OffsetDateTime,
}

impl Ca {
    /// Pairs a DER certificate with its key, checking that they match and
    /// that the certificate can act as a CA.
    pub fn from_parts(cert_der: Vec<u8>, key: KeyPair) -> Result<Ca> {
        let (_, cert) = parse_x509_certificate(&cert_der)
            .map_err(|e| anyhow!("the CA certificate could not be parsed: {e}"))?;
        if cert.subject_pki.subject_public_key.data.as_ref() != key.der_bytes() {
            bail!("the CA key does not belong to the CA certificate (their public keys differ)");
        }
        let is_ca = cert
            .basic_constraints()
            .map_err(|e| anyhow!("the CA certificate has a malformed basicConstraints: {e}"))?
            .is_some_and(|bc| bc.value.ca);
        if !is_ca {
            bail!("the certificate is not a CA certificate (basicConstraints lacks CA:TRUE)");
        }
        // rcgen copies the subject into each issued certificate's issuer
        // field and supports one attribute per RDN only; catch the rare CA
        // that has more here, with a message, rather than deep in signing.
        if cert.subject().iter().any(|rdn| rdn.iter().count() != 1) {
            bail!("the CA subject has a multi-valued RDN, which certgen cannot issue under");
        }
        // Reading the issuer name and key identifier now turns a CA rcgen
        // cannot issue under (an exotic string type in its subject) into an
        // input error here, rather than a failure halfway through issuing.
        Issuer::from_ca_cert_der(&cert_der.as_slice().into(), &key)
            .map_err(|e| anyhow!("the CA certificate cannot be used to issue: {e}"))?;
        let validity = cert.validity();
        Ok(Ca {
            subject: cert.subject().to_string(),
            not_before: validity.not_before.to_datetime(),
            not_after: validity.not_after.to_datetime(),
            cert_der,
            key,
        })
    }

    /// Loads a CA from a certificate file (PEM or DER) and a PEM key file,
    /// naming the file at fault in any error.
    pub fn load(cert_path: &Path, key_path: &Path) -> Result<Ca> {
        let cert_bytes = fs::read(cert_path)
            .with_context(|| format!("failed to read {}", cert_path.display()))?;
        let cert_der =
            certificate_der(&cert_bytes).with_context(|| format!("{}", cert_path.display()))?;
        let key_text = fs::read_to_string(key_path)
            .with_context(|| format!("failed to read {}", key_path.display()))?;
        let key = keys::parse_private_key(&key_text)
            .with_context(|| format!("{}", key_path.display()))?;
        Ca::from_parts(cert_der, key)
            .with_context(|| format!("{} and {}", cert_path.display(), key_path.display()))
    }

    /// The signer rcgen needs, with the issuer name and key identifier read
    /// from the certificate itself so that they match it byte for byte.
    pub fn issuer(&self) -> Result<Issuer<'_, &KeyPair>> {
        Issuer::from_ca_cert_der(&self.cert_der.as_slice().into(), &self.key)
            .map_err(|e| anyhow!("the CA certificate cannot be used to issue: {e}"))
    }

    /// The certificate, DER.
    pub fn cert_der(&self) -> &[u8] {
        &self.cert_der
    }

    /// The certificate, PEM.
    pub fn cert_pem(&self) -> String {
        pem::encode(&pem::Pem::new("CERTIFICATE", self.cert_der.clone()))
    }

    /// The private key.
    pub fn key(&self) -> &KeyPair {
        &self.key
    }
}

/// The DER of the first certificate in a PEM file, or the file itself when it
/// is not PEM (so a DER `ca.cer` works too).
fn certificate_der(bytes: &[u8]) -> Result<Vec<u8>> {
    if bytes.is_empty() {
        bail!("the file is empty");
    }
    let looks_like_pem = bytes
        .windows(b"-----BEGIN".len())
        .any(|w| w == b"-----BEGIN");
    if !looks_like_pem {
        parse_x509_certificate(bytes)
            .map_err(|_| anyhow!("neither a PEM nor a DER certificate"))?;
        return Ok(bytes.to_vec());
    }
    let blocks = pem::parse_many(bytes).map_err(|e| anyhow!("malformed PEM: {e}"))?;
    let Some(block) = blocks.into_iter().find(|b| b.tag() == "CERTIFICATE") else {
        // The pem crate skips a block with no END line rather than fail.
        let begin = bytes
            .windows(b"-----BEGIN CERTIFICATE-----".len())
            .any(|w| w == b"-----BEGIN CERTIFICATE-----");
        if begin {
            bail!("the CERTIFICATE block has no END line; the file looks truncated");
        }
        bail!("no CERTIFICATE block in the PEM file");
    };
    Ok(block.into_contents())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::issue::{make_ca, CaSpec, Validity};
    use crate::keys::KeyType;
    use crate::serial::Serial;
    use crate::subject::Subject;

    fn spec() -> CaSpec {
        CaSpec {
            subject: Subject {
                cn: "test CA".into(),
                ..Subject::default()
            },
            validity: Validity::from_now(OffsetDateTime::now_utc(), 10),
            path_len: 0,
            rules: Default::default(),
        }
    }

    #[test]
    fn rejects_a_key_from_another_pair() {
        let ca = make_ca(
            &spec(),
            KeyType::EcdsaP256.generate().unwrap(),
            &Serial::random().unwrap(),
        )
        .unwrap();
        let other = KeyType::EcdsaP256.generate().unwrap();
        let err = Ca::from_parts(ca.cert_der().to_vec(), other).err().unwrap();
        assert!(err.to_string().contains("does not belong"), "{err}");
    }

    #[test]
    fn reads_pem_and_der_certificates() {
        let ca = make_ca(
            &spec(),
            KeyType::Ed25519.generate().unwrap(),
            &Serial::random().unwrap(),
        )
        .unwrap();
        assert_eq!(
            certificate_der(ca.cert_pem().as_bytes()).unwrap(),
            ca.cert_der()
        );
        assert_eq!(certificate_der(ca.cert_der()).unwrap(), ca.cert_der());
        assert!(certificate_der(b"").is_err());
        assert!(certificate_der(b"garbage").is_err());
        assert!(certificate_der(b"-----BEGIN CERTIFICATE-----\nAAAA").is_err());
    }
}
