//! In-process timings of the work behind `certgen all`: key generation for
//! each key type, a CA with a server and a client certificate, and a batch
//! of 1,000 ECDSA leaves from one CA. Nothing here touches the disk; the
//! whole-process timings, with the writes, are in `scripts/bench.sh`.
//!
//! Run with `cargo bench`, or one group with `cargo bench -- one_leaf`.

use certgen::ca::Ca;
use certgen::issue::{make_ca, make_leaf, CaSpec, IssuedLeaf, LeafSpec, Role, Validity};
use certgen::keys::KeyType;
use certgen::san::San;
use certgen::serial::Serial;
use certgen::subject::Subject;
use divan::counter::ItemsCount;
use divan::Bencher;
use rcgen::KeyPair;
use time::OffsetDateTime;

/// The number of leaves in the batch benchmark, as in `scripts/bench.sh`.
const BATCH: usize = 1000;

fn main() {
    divan::main();
}

/// One key of each type. RSA generation searches for primes, so its time
/// varies from key to key far more than the others'; the time cap keeps
/// RSA-4096 to a few samples.
#[divan::bench(args = KeyType::ALL, max_time = 5)]
fn generate_key(key_type: KeyType) -> KeyPair {
    key_type.generate().unwrap()
}

/// What `certgen all` computes: three keys, the CA and two leaves, one after
/// another on one thread (the command makes the keys on parallel threads).
#[divan::bench(args = [KeyType::Rsa2048, KeyType::EcdsaP256], max_time = 5)]
fn ca_and_two_leaves(key_type: KeyType) -> (Ca, IssuedLeaf, IssuedLeaf) {
    let now = OffsetDateTime::now_utc();
    let ca = new_ca(key_type, now);
    let mut serial = Serial::random().unwrap();
    let mut issue = |role| {
        let key = key_type.generate().unwrap();
        let leaf = make_leaf(&leaf_spec(role, &ca, serial.clone(), now), &key, &ca).unwrap();
        serial = serial.next().unwrap();
        leaf
    };
    let server = issue(Role::Server);
    let client = issue(Role::Client);
    (ca, server, client)
}

/// Signing alone: the CSR and the certificate of one ECDSA leaf, its key
/// made beforehand. Set against `generate_key`, it shows which of the two
/// a leaf's time goes to.
#[divan::bench]
fn one_leaf_signing(bencher: Bencher) {
    let now = OffsetDateTime::now_utc();
    let ca = new_ca(KeyType::EcdsaP256, now);
    let key = KeyType::EcdsaP256.generate().unwrap();
    let spec = leaf_spec(Role::Server, &ca, Serial::random().unwrap(), now);
    bencher.bench(|| make_leaf(&spec, &key, &ca).unwrap());
}

/// 1,000 server leaves with ECDSA P-256 keys from one ECDSA P-256 CA, each
/// with its own key and serial, on one thread. The CA is made once,
/// outside the timing. The items counter gives the rate per leaf.
#[divan::bench(sample_count = 10)]
fn thousand_leaves(bencher: Bencher) {
    let now = OffsetDateTime::now_utc();
    let ca = new_ca(KeyType::EcdsaP256, now);
    let first = Serial::random().unwrap();
    bencher
        .counter(ItemsCount::new(BATCH))
        .bench(|| issue_batch(&ca, &first, now));
}

fn issue_batch(ca: &Ca, first: &Serial, now: OffsetDateTime) -> Vec<IssuedLeaf> {
    let mut serial = first.clone();
    let mut leaves = Vec::with_capacity(BATCH);
    for _ in 0..BATCH {
        let key = KeyType::EcdsaP256.generate().unwrap();
        let spec = leaf_spec(Role::Server, ca, serial.clone(), now);
        leaves.push(make_leaf(&spec, &key, ca).unwrap());
        serial = serial.next().unwrap();
    }
    leaves
}

/// A CA as `certgen all` makes it by default: ten years, leaves only.
fn new_ca(key_type: KeyType, now: OffsetDateTime) -> Ca {
    let spec = CaSpec {
        subject: Subject {
            org: Some("bench".into()),
            cn: "certgen bench CA".into(),
            ..Subject::default()
        },
        validity: Validity::from_now(now, 3650),
        path_len: 0,
        rules: Default::default(),
    };
    let key = key_type.generate().unwrap();
    make_ca(&spec, key, &Serial::random().unwrap()).unwrap()
}

/// A `localhost` leaf, as `certgen all --cn localhost` issues it.
fn leaf_spec(role: Role, ca: &Ca, serial: Serial, now: OffsetDateTime) -> LeafSpec {
    let mut validity = Validity::from_now(now, 3650);
    validity.fit_inside(ca);
    LeafSpec {
        role,
        subject: Subject {
            cn: "localhost".into(),
            ..Subject::default()
        },
        sans: San::defaults_for("localhost").unwrap(),
        validity,
        serial,
    }
}
