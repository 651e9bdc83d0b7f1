//! Integration tests: the certgen binary run in temporary folders, judged by
//! x509 parsing, the openssl command line and real rustls handshakes.

mod bad_input;
mod config;
mod examples;
mod export;
mod handshake;
mod inspect;
mod issuing;
mod openssl;
mod packaging;
mod parse_robustness;
mod profiles;
mod reliability;
mod util;
mod verify;
