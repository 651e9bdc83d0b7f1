//! Integration tests: the certgen binary run in temporary folders, judged by
//! x509 parsing, the openssl command line and real rustls handshakes.

mod util;
