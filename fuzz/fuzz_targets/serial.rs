//! Any text as the content of a serial file (`ca.srl`). Whatever
//! `Serial::parse_srl` accepts must survive the round trips certgen relies
//! on when it issues: writing a serial back gives the same serial, and the
//! next serial, once written, reads back as itself and is larger. Errors are
//! expected; a panic or a failed round trip is a bug.

#![no_main]

use certgen::serial::Serial;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let Ok(serial) = Serial::parse_srl(text) else {
        return;
    };
    let written = serial.to_srl();
    let again = Serial::parse_srl(&written).expect("a written serial file reads back");
    assert_eq!(again, serial, "parse(to_srl(s)) != s for {text:?}");
    assert_eq!(again.to_srl(), written, "to_srl is not stable for {text:?}");

    // `next` may refuse at RFC 5280's 20-octet limit; otherwise its result
    // is one larger and round-trips too.
    let Ok(next) = serial.next() else {
        return;
    };
    assert!(next > serial, "next() did not grow {serial}");
    let next_again = Serial::parse_srl(&next.to_srl()).expect("the next serial reads back");
    assert_eq!(next_again, next, "parse(to_srl(next)) != next for {text:?}");
});
