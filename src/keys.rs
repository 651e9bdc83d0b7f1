//! Key types: generating a key pair and reading one back from a PEM file.

use std::fmt;

use anyhow::{anyhow, bail, Result};
use rcgen::{KeyPair, RsaKeySize, SignatureAlgorithm};

/// The key algorithms certgen can generate.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum KeyType {
    /// RSA 2048-bit, the recipe's choice and the most widely accepted.
    #[default]
    Rsa2048,
    /// RSA 3072-bit (NIST's recommendation past 2030).
    Rsa3072,
    /// RSA 4096-bit.
    Rsa4096,
    /// ECDSA on P-256: small, fast and accepted everywhere TLS 1.2+ runs.
    EcdsaP256,
    /// ECDSA on P-384; a P-384 CA signs with SHA-384.
    EcdsaP384,
    /// Ed25519; not accepted by some older TLS stacks and browsers.
    Ed25519,
}

impl KeyType {
    /// Every key type, in the order `--help` lists them.
    pub const ALL: [KeyType; 6] = [
        KeyType::Rsa2048,
        KeyType::Rsa3072,
        KeyType::Rsa4096,
        KeyType::EcdsaP256,
        KeyType::EcdsaP384,
        KeyType::Ed25519,
    ];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            KeyType::Rsa2048 => "rsa2048",
            KeyType::Rsa3072 => "rsa3072",
            KeyType::Rsa4096 => "rsa4096",
            KeyType::EcdsaP256 => "ecdsa-p256",
            KeyType::EcdsaP384 => "ecdsa-p384",
            KeyType::Ed25519 => "ed25519",
        }
    }

    /// The algorithm a key of this type signs with: SHA-256 everywhere but
    /// P-384, whose security level calls for SHA-384 (RFC 5480 section 4).
    pub fn signature_algorithm(self) -> &'static SignatureAlgorithm {
        match self {
            KeyType::Rsa2048 | KeyType::Rsa3072 | KeyType::Rsa4096 => &rcgen::PKCS_RSA_SHA256,
            KeyType::EcdsaP256 => &rcgen::PKCS_ECDSA_P256_SHA256,
            KeyType::EcdsaP384 => &rcgen::PKCS_ECDSA_P384_SHA384,
            KeyType::Ed25519 => &rcgen::PKCS_ED25519,
        }
    }

    /// Generates a fresh key pair of this type.
    pub fn generate(self) -> Result<KeyPair> {
        let rsa = |size| KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, size);
        let pair = match self {
            KeyType::Rsa2048 => rsa(RsaKeySize::_2048),
            KeyType::Rsa3072 => rsa(RsaKeySize::_3072),
            KeyType::Rsa4096 => rsa(RsaKeySize::_4096),
            KeyType::Ed25519 => return generate_ed25519(),
            other => KeyPair::generate_for(other.signature_algorithm()),
        };
        pair.map_err(|e| anyhow!("failed to generate a {} key: {e}", self.name()))
    }
}

impl fmt::Display for KeyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Generates an Ed25519 key in PKCS#8 version 1 form.
///
/// The default form of aws-lc (RFC 5958 version 2, with the public key
/// appended) is one that OpenSSL 3.0 refuses to read, so a key in it could
/// not be used with the openssl tools a Milvus setup is checked with.
fn generate_ed25519() -> Result<KeyPair> {
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let pkcs8 = aws_lc_rs::signature::Ed25519KeyPair::generate_pkcs8v1(&rng)
        .map_err(|_| anyhow!("failed to generate an ed25519 key"))?;
    KeyPair::try_from(pkcs8.as_ref())
        .map_err(|e| anyhow!("failed to load the generated ed25519 key: {e}"))
}

/// Whether a key pair is RSA, whose TLS 1.2 key exchange needs the
/// keyEncipherment key usage that ECDSA and Ed25519 keys must not carry.
pub fn is_rsa(key: &KeyPair) -> bool {
    key.algorithm() == &rcgen::PKCS_RSA_SHA256
        || key.algorithm() == &rcgen::PKCS_RSA_SHA384
        || key.algorithm() == &rcgen::PKCS_RSA_SHA512
}

/// PEM labels of the private key encodings certgen reads: PKCS#8 (what it
/// writes and what OpenSSL 3 writes), PKCS#1 and SEC1 (older openssl).
const PRIVATE_KEY_LABELS: [&str; 3] = ["PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"];

/// Reads a private key from PEM text.
///
/// The caller adds the file name to the error.
pub fn parse_private_key(text: &str) -> Result<KeyPair> {
    let block = pem::parse(text).map_err(|e| anyhow!("not a PEM file: {e}"))?;
    if block.tag() == "ENCRYPTED PRIVATE KEY" {
        bail!("the key is encrypted; decrypt it first (openssl pkey -in KEY -out PLAIN.key)");
    }
    if !PRIVATE_KEY_LABELS.contains(&block.tag()) {
        bail!(
            "expected a PEM private key, found a {:?} block",
            block.tag()
        );
    }
    KeyPair::try_from(block.contents())
        .map_err(|e| anyhow!("the private key could not be read: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ed25519_keys_are_pkcs8_version_1() {
        let key = KeyType::Ed25519.generate().unwrap();
        let der = key.serialize_der();
        // SEQUENCE, INTEGER 0 (version 1), then the Ed25519 algorithm.
        assert_eq!(&der[..5], &[0x30, 0x2e, 0x02, 0x01, 0x00]);
        assert_eq!(der.len(), 48);
    }

    #[test]
    fn reads_back_every_generated_key_type() {
        for key_type in KeyType::ALL {
            let key = key_type.generate().unwrap();
            let back = parse_private_key(&key.serialize_pem()).unwrap();
            assert_eq!(back.public_key_raw(), key.public_key_raw(), "{key_type}");
            assert_eq!(
                back.algorithm(),
                key_type.signature_algorithm(),
                "{key_type}"
            );
        }
    }

    #[test]
    fn rejects_keys_it_cannot_use() {
        assert!(parse_private_key("").is_err());
        assert!(parse_private_key(
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
        )
        .is_err());
        let encrypted =
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n";
        let err = parse_private_key(encrypted).unwrap_err();
        assert!(err.to_string().contains("encrypted"), "{err}");
    }
}
