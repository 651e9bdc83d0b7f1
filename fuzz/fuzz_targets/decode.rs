//! Any bytes as a file given to `certgen inspect`: decode them, then take
//! the facts of every object found and render them as text and JSON, and
//! read them as a serial file when they are text. Errors are expected; a
//! panic or a crash is a bug.
//!
//! `tests/integration/parse_robustness.rs` does the same with proptest on
//! every `cargo test`; inputs found here that crash go there as regression
//! tests.

#![no_main]

use certgen::decode::{self, FileObjects, Object};
use certgen::facts;
use certgen::inspect;
use certgen::serial::Serial;
use libfuzzer_sys::fuzz_target;
use time::OffsetDateTime;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(text) = std::str::from_utf8(bytes) {
        let _ = Serial::parse_srl(text);
    }
    let Ok(objects) = decode::decode(bytes) else {
        return;
    };
    // A fixed moment, so that a crash reproduces on any day.
    let now = OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000);
    for object in &objects {
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
            Object::EncryptedKey | Object::Serial(_) | Object::Other { .. } => {}
        }
    }
    let files = [FileObjects {
        path: "input".into(),
        objects,
    }];
    if let Ok(entries) = inspect::entries_of(&files, now) {
        inspect::render_text(&entries, &mut Vec::new()).expect("writing to memory");
        inspect::render_json(&entries, &[], &mut Vec::new()).expect("writing to memory");
    }
});
