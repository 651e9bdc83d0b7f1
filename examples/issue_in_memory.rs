//! Using certgen as a library: a CA and a server certificate built in
//! memory, without touching the disk, e.g. for a test fixture.
//!
//! Run with `cargo run --example issue_in_memory`; it prints the server
//! certificate chain as PEM on stdout.

use std::io::Write;

use anyhow::Result;
use certgen::issue::{make_ca, make_leaf, CaSpec, LeafSpec, Role, Validity};
use certgen::keys::KeyType;
use certgen::san::San;
use certgen::serial::Serial;
use certgen::subject::Subject;
use time::OffsetDateTime;

fn main() -> Result<()> {
    let now = OffsetDateTime::now_utc();
    let ca_spec = CaSpec {
        subject: Subject {
            org: Some("example".into()),
            cn: "example CA".into(),
            ..Subject::default()
        },
        validity: Validity::from_now(now, 30),
        path_len: 0,
        rules: Default::default(),
    };
    let ca = make_ca(&ca_spec, KeyType::EcdsaP256.generate()?, &Serial::random()?)?;

    let mut validity = Validity::from_now(now, 7);
    validity.fit_inside(&ca);
    let leaf_spec = LeafSpec {
        role: Role::Server,
        subject: Subject {
            cn: "localhost".into(),
            ..Subject::default()
        },
        sans: San::defaults_for("localhost")?,
        validity,
        serial: Serial::random()?,
    };
    let key = KeyType::EcdsaP256.generate()?;
    let leaf = make_leaf(&leaf_spec, &key, &ca)?;

    // Written, not print!ed, so that a reader that stops early ends the
    // program with an error instead of a panic.
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(leaf.cert_pem.as_bytes())?;
    stdout.write_all(ca.cert_pem().as_bytes())?;
    Ok(())
}
