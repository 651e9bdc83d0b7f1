//! Certificate serial numbers and OpenSSL's serial file (`ca.srl`).
//!
//! `openssl x509 -req -CA ca.pem -CAserial ca.srl` keeps, in a file beside
//! the CA, the last serial it issued as upper-case hex with an even number of
//! digits. Next time it issues that value plus one; with `-CAcreateserial`
//! and no file it draws a random 159-bit value and uses it as is. certgen
//! keeps the same file the same way, so openssl and certgen can take turns
//! issuing from one CA without ever repeating a serial.

use std::fmt;

use anyhow::{bail, Result};

/// RFC 5280 section 4.1.2.2: serials are positive and at most 20 octets.
const MAX_OCTETS: usize = 20;

/// A positive certificate serial number, big-endian, without leading zero
/// bytes (its minimal unsigned encoding).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Serial(Vec<u8>);

impl Serial {
    /// A random serial of 159 bits, as openssl draws one: the top bit of 20
    /// octets stays clear so the DER integer needs no sign octet and fits in
    /// RFC 5280's 20-octet limit.
    pub fn random() -> Result<Serial> {
        let mut bytes = [0u8; MAX_OCTETS];
        aws_lc_rs::rand::fill(&mut bytes)
            .map_err(|_| anyhow::anyhow!("the system random number generator failed"))?;
        bytes[0] &= 0x7f;
        let serial = Serial::from_be_bytes(&bytes);
        if serial.0.is_empty() {
            // All 159 random bits were zero; zero is not a valid serial.
            return Ok(Serial(vec![1]));
        }
        Ok(serial)
    }

    /// The serial from big-endian bytes, leading zeros dropped.
    pub fn from_be_bytes(bytes: &[u8]) -> Serial {
        let first = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
        Serial(bytes[first..].to_vec())
    }

    /// Reads the content of a serial file: hex digits, optionally followed by
    /// a newline. The caller names the file in the error.
    pub fn parse_srl(text: &str) -> Result<Serial> {
        let hex = text.trim();
        if hex.is_empty() {
            bail!("the serial file is empty");
        }
        if !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            bail!("the serial file must hold one hexadecimal number, as openssl writes it");
        }
        // Pad odd-length input so each byte has two digits.
        let padded = if hex.len() % 2 == 1 {
            format!("0{hex}")
        } else {
            hex.to_owned()
        };
        let bytes: Vec<u8> = (0..padded.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&padded[i..i + 2], 16).expect("checked hex digits"))
            .collect();
        let serial = Serial::from_be_bytes(&bytes);
        if serial.0.is_empty() {
            bail!("the serial file holds zero, which is not a valid serial number");
        }
        if serial.0.len() > MAX_OCTETS || (serial.0.len() == MAX_OCTETS && serial.0[0] & 0x80 != 0)
        {
            bail!("the serial file holds a number too large for a certificate serial (RFC 5280 allows 20 octets)");
        }
        Ok(serial)
    }

    /// The serial after this one, refusing to grow past RFC 5280's limit.
    pub fn next(&self) -> Result<Serial> {
        let mut bytes = self.0.clone();
        let mut carry = true;
        for byte in bytes.iter_mut().rev() {
            let (sum, overflow) = byte.overflowing_add(1);
            *byte = sum;
            if !overflow {
                carry = false;
                break;
            }
        }
        if carry {
            bytes.insert(0, 1);
        }
        if bytes.len() > MAX_OCTETS || (bytes.len() == MAX_OCTETS && bytes[0] & 0x80 != 0) {
            bail!("the serial number space of this CA is exhausted (RFC 5280 allows 20 octets)");
        }
        Ok(Serial(bytes))
    }

    /// The big-endian bytes, without leading zeros.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The serial-file content: upper-case hex with an even number of digits
    /// and a trailing newline, byte for byte what openssl writes.
    pub fn to_srl(&self) -> String {
        format!("{self}\n")
    }
}

impl Ord for Serial {
    /// Numeric order: with minimal encodings, a longer number is larger.
    fn cmp(&self, other: &Serial) -> std::cmp::Ordering {
        self.0
            .len()
            .cmp(&other.0.len())
            .then_with(|| self.0.cmp(&other.0))
    }
}

impl PartialOrd for Serial {
    fn partial_cmp(&self, other: &Serial) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Serial {
    /// Upper-case hex, two digits a byte: the form `openssl x509 -serial`
    /// prints.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for byte in &self.0 {
            write!(f, "{byte:02X}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn increments_with_carry_and_keeps_even_digits() {
        let serial = Serial::parse_srl("0FFF\n").unwrap();
        assert_eq!(serial.next().unwrap().to_srl(), "1000\n");
        let serial = Serial::parse_srl("FF").unwrap();
        assert_eq!(serial.next().unwrap().to_srl(), "0100\n");
        let serial = Serial::parse_srl("7c78e63c02151cee924796020f700ec769307cd0").unwrap();
        assert_eq!(
            serial.next().unwrap().to_string(),
            "7C78E63C02151CEE924796020F700EC769307CD1"
        );
    }

    #[test]
    fn orders_numerically() {
        let small = Serial::parse_srl("FF").unwrap();
        let large = Serial::parse_srl("0100").unwrap();
        assert!(small < large);
        assert!(small.next().unwrap() == large);
    }

    #[test]
    fn reads_odd_length_and_leading_zero_forms() {
        assert_eq!(Serial::parse_srl("abc").unwrap().to_string(), "0ABC");
        assert_eq!(Serial::parse_srl("000102").unwrap().to_string(), "0102");
    }

    #[test]
    fn rejects_malformed_serial_files() {
        for bad in ["", "\n", "xyz", "12 34", "-01", "00", &"FF".repeat(21)] {
            assert!(Serial::parse_srl(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn refuses_to_grow_past_twenty_octets() {
        let top = Serial::parse_srl(&format!("7F{}", "FF".repeat(19))).unwrap();
        assert!(top.next().is_err());
    }

    #[test]
    fn random_serials_are_positive_and_at_most_159_bits() {
        for _ in 0..64 {
            let serial = Serial::random().unwrap();
            assert!(!serial.as_bytes().is_empty());
            assert!(serial.as_bytes().len() <= 20);
            if serial.as_bytes().len() == 20 {
                assert_eq!(serial.as_bytes()[0] & 0x80, 0);
            }
        }
        assert_ne!(Serial::random().unwrap(), Serial::random().unwrap());
    }
}
