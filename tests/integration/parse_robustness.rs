//! Hostile input for the code behind `certgen inspect`: arbitrary bytes and
//! damaged copies of valid files go through `decode`, the facts of every
//! object, and both renderings. Errors are fine; a panic is a bug.
//!
//! The valid files are made once, in memory, with the library. The fuzz
//! target in `fuzz/` drives the same path for longer; inputs it finds that
//! panic belong in the regression tests at the end of this file.

use std::sync::LazyLock;

use certgen::decode::{self, FileObjects, Object};
use certgen::facts;
use certgen::inspect;
use certgen::issue::{make_ca, make_leaf, CaSpec, LeafSpec, Role, Validity};
use certgen::keys::KeyType;
use certgen::san::San;
use certgen::serial::Serial;
use certgen::subject::Subject;
use proptest::prelude::*;
use proptest::sample::Index;
use time::macros::datetime;
use time::OffsetDateTime;

/// A few hundred cases a property keep the file within a second or two in
/// a debug build; `fuzz/` is the place for long runs. Nothing is persisted: a
/// failure prints its minimal input, which then becomes a regression test
/// below.
fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 512,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Moments to judge certificates at: now, and either end of what X.509
/// dates can say, so that day counts meet their extremes.
fn moments() -> [OffsetDateTime; 3] {
    [
        OffsetDateTime::now_utc(),
        datetime!(1950-01-01 0:00 UTC),
        datetime!(9999-12-31 23:59:59 UTC),
    ]
}

/// Everything `inspect` does with a file's bytes, minus the file system.
fn inspect_bytes(bytes: &[u8]) {
    if let Ok(text) = std::str::from_utf8(bytes) {
        let _ = Serial::parse_srl(text);
    }
    let Ok(objects) = decode::decode(bytes) else {
        return;
    };
    for now in moments() {
        for object in &objects {
            object_facts(object, now);
        }
        let files = [FileObjects {
            path: "input".into(),
            objects: objects.clone(),
        }];
        if let Ok(entries) = inspect::entries_of(&files, now) {
            inspect::render_text(&entries, &mut Vec::new()).unwrap();
            inspect::render_json(&entries, &[], &mut Vec::new()).unwrap();
        }
    }
}

fn object_facts(object: &Object, now: OffsetDateTime) {
    match object {
        Object::Certificate(der) => {
            let _ = facts::certificate(der, now);
        }
        Object::Request(der) => {
            let _ = facts::request(der);
        }
        Object::PrivateKey { der, format } => {
            let _ = facts::private_key(der, *format);
        }
        Object::Serial(serial) => {
            // What decode accepted as a serial file reads back the same.
            let again = Serial::parse_srl(&serial.to_srl()).unwrap();
            assert_eq!(&again, serial);
        }
        Object::EncryptedKey | Object::Other { .. } => {}
    }
}

/// One valid file, as its PEM label and DER.
struct Sample {
    label: &'static str,
    der: Vec<u8>,
}

impl Sample {
    fn pem(&self) -> Vec<u8> {
        pem::encode(&pem::Pem::new(self.label, self.der.clone())).into_bytes()
    }
}

/// Valid files of each kind `decode` reads, made with the library: a CA
/// and a server certificate, the server's request, PKCS#8 keys of two
/// types, and a serial file (text, so its "DER" is the text itself).
static SAMPLES: LazyLock<Vec<Sample>> = LazyLock::new(|| {
    let now = OffsetDateTime::now_utc();
    let ca_spec = CaSpec {
        subject: Subject {
            country: Some("CN".into()),
            org: Some("milvus".into()),
            cn: "robustness CA".into(),
            ..Subject::default()
        },
        validity: Validity::from_now(now, 30),
        path_len: 0,
        rules: Default::default(),
    };
    let ca_key = KeyType::EcdsaP256.generate().unwrap();
    let ca = make_ca(&ca_spec, ca_key, &Serial::random().unwrap()).unwrap();
    let serial = Serial::random().unwrap();
    let mut validity = Validity::from_now(now, 7);
    validity.fit_inside(&ca);
    let leaf_spec = LeafSpec {
        role: Role::Server,
        subject: Subject {
            cn: "localhost".into(),
            ..Subject::default()
        },
        sans: San::defaults_for("localhost").unwrap(),
        validity,
        serial: serial.clone(),
    };
    let key = KeyType::EcdsaP256.generate().unwrap();
    let leaf = make_leaf(&leaf_spec, &key, &ca).unwrap();
    let ed25519 = KeyType::Ed25519.generate().unwrap();

    let der_of = |text: &str| pem::parse(text).unwrap().into_contents();
    vec![
        Sample {
            label: "CERTIFICATE",
            der: der_of(&ca.cert_pem()),
        },
        Sample {
            label: "CERTIFICATE",
            der: der_of(&leaf.cert_pem),
        },
        Sample {
            label: "CERTIFICATE REQUEST",
            der: der_of(&leaf.csr_pem),
        },
        Sample {
            label: "PRIVATE KEY",
            der: key.serialize_der(),
        },
        Sample {
            label: "PRIVATE KEY",
            der: ed25519.serialize_der(),
        },
        Sample {
            label: "SERIAL",
            der: serial.to_srl().into_bytes(),
        },
    ]
});

/// The PEM file of every sample but the serial file, which has none, plus
/// a chain of two certificates in one file.
fn pem_files() -> Vec<Vec<u8>> {
    let mut files: Vec<Vec<u8>> = SAMPLES
        .iter()
        .map(|s| {
            if s.label == "SERIAL" {
                s.der.clone()
            } else {
                s.pem()
            }
        })
        .collect();
    files.push([SAMPLES[1].pem(), SAMPLES[0].pem()].concat());
    files
}

/// One change to a byte string; positions scale to its length.
#[derive(Clone, Debug)]
enum Mutation {
    /// XOR one byte with a non-zero mask.
    Flip(Index, u8),
    /// Cut everything from a position on.
    Truncate(Index),
    /// Insert bytes at a position.
    Insert(Index, Vec<u8>),
    /// Remove up to `len` bytes from a position.
    Delete(Index, usize),
}

impl Mutation {
    fn apply(&self, data: &mut Vec<u8>) {
        match self {
            Mutation::Flip(at, mask) if !data.is_empty() => {
                let at = at.index(data.len());
                data[at] ^= mask;
            }
            Mutation::Flip(..) => {}
            Mutation::Truncate(at) => data.truncate(at.index(data.len() + 1)),
            Mutation::Insert(at, bytes) => {
                let at = at.index(data.len() + 1);
                data.splice(at..at, bytes.iter().copied());
            }
            Mutation::Delete(at, len) => {
                let start = at.index(data.len() + 1);
                let end = (start + len).min(data.len());
                data.drain(start..end);
            }
        }
    }
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        6 => (any::<Index>(), 1..=255u8).prop_map(|(at, mask)| Mutation::Flip(at, mask)),
        1 => any::<Index>().prop_map(Mutation::Truncate),
        2 => (any::<Index>(), prop::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(at, bytes)| Mutation::Insert(at, bytes)),
        2 => (any::<Index>(), 1..64usize).prop_map(|(at, len)| Mutation::Delete(at, len)),
    ]
}

fn mutations() -> impl Strategy<Value = Vec<Mutation>> {
    // Few changes at a time: DER breaks at its first bad length, and the
    // aim is to reach the code behind the parser, not only the parser.
    prop::collection::vec(mutation(), 1..4)
}

fn mutated(original: &[u8], changes: &[Mutation]) -> Vec<u8> {
    let mut data = original.to_vec();
    for change in changes {
        change.apply(&mut data);
    }
    data
}

/// The PEM labels `decode` gives a meaning to, and one it does not.
const LABELS: [&str; 8] = [
    "CERTIFICATE",
    "TRUSTED CERTIFICATE",
    "CERTIFICATE REQUEST",
    "PRIVATE KEY",
    "RSA PRIVATE KEY",
    "EC PRIVATE KEY",
    "ENCRYPTED PRIVATE KEY",
    "PUBLIC KEY",
];

proptest! {
    #![proptest_config(config())]

    #[test]
    fn survives_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        inspect_bytes(&bytes);
    }

    /// Text that looks like PEM around random base64, so that the DER
    /// parsers see random input rather than the PEM reader refusing it.
    #[test]
    fn survives_pem_around_random_base64(
        label in prop::sample::select(&LABELS[..]),
        body in "[A-Za-z0-9+/]{0,400}={0,2}",
        ending in prop::bool::ANY,
    ) {
        let end = if ending { format!("-----END {label}-----\n") } else { String::new() };
        let text = format!("-----BEGIN {label}-----\n{body}\n{end}");
        inspect_bytes(text.as_bytes());
    }

    #[test]
    fn survives_damaged_pem_files(
        file in prop::sample::select(pem_files()),
        changes in mutations(),
    ) {
        inspect_bytes(&mutated(&file, &changes));
    }

    #[test]
    fn survives_damaged_der_files(
        which in any::<Index>(),
        changes in mutations(),
    ) {
        let sample = which.get(&SAMPLES);
        inspect_bytes(&mutated(&sample.der, &changes));
    }

    /// Damaged DER inside intact PEM, under every label: the certificate,
    /// request and key parsers each get every kind of damaged object.
    #[test]
    fn survives_damaged_der_under_any_label(
        which in any::<Index>(),
        label in prop::sample::select(&LABELS[..]),
        changes in mutations(),
    ) {
        let der = mutated(&which.get(&SAMPLES).der, &changes);
        let text = pem::encode(&pem::Pem::new(label, der));
        inspect_bytes(text.as_bytes());
    }

    #[test]
    fn survives_serial_like_text(text in "[0-9a-fA-F \n\r\t]{0,80}") {
        inspect_bytes(text.as_bytes());
    }
}

/// The valid samples themselves decode to one object each, with facts: the
/// mutations above start from files that reach the deepest code.
#[test]
fn samples_decode_with_facts() {
    let now = OffsetDateTime::now_utc();
    for (sample, file) in SAMPLES.iter().zip(pem_files()) {
        let objects = decode::decode(&file).unwrap();
        assert_eq!(objects.len(), 1, "{}", sample.label);
        match &objects[0] {
            Object::Certificate(der) => {
                facts::certificate(der, now).unwrap();
            }
            Object::Request(der) => {
                assert!(facts::request(der).unwrap().signature_valid);
            }
            Object::PrivateKey { der, format } => {
                assert!(facts::private_key(der, *format).problem.is_none());
            }
            Object::Serial(_) => {}
            other => panic!("{}: decoded as {other:?}", sample.label),
        }
        if sample.label != "SERIAL" {
            assert_eq!(decode::decode(&sample.der).unwrap(), objects);
        }
    }
}
