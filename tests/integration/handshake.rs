//! Real TLS 1.3 handshakes with the files `certgen all` writes: a rustls server and a rustls
//! client talk over loopback TCP, first one-way (the client checks the server against ca.pem),
//! then mutual (the server also demands a client certificate that chains to ca.pem).
//!
//! Parsing the certificates is not enough to show that they work. Go and rustls match the
//! name a client asked for against the subjectAltName entries only and never fall back to the
//! subject CN, so a certificate made the classic openssl way, with `CN=localhost` and no SAN,
//! parses fine and still fails every handshake. The tests below therefore also prove the
//! opposite cases: a SAN-less certificate, a name missing from the certificate, a missing or
//! foreign client certificate and an untrusted CA must each make the handshake fail, and fail
//! for that reason, so that the passing tests mean something.
//!
//! Every connection dials 127.0.0.1 on a port the system picks, every socket has read and
//! write timeouts, and each server thread takes exactly one connection, so no test can hang
//! or reach beyond the machine.

use std::fmt;
use std::fs;
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use certgen::ca::Ca;
use rcgen::{
    CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use rustls::server::WebPkiClientVerifier;
use rustls::version::TLS13;
use rustls::{
    CertificateError, ClientConfig, ClientConnection, Error as TlsError, RootCertStore,
    ServerConfig, ServerConnection, Stream,
};

use crate::util::{Env, KEY_TYPES};

/// How long any socket operation may block before the test gives up on it.
const TIMEOUT: Duration = Duration::from_secs(10);

/// The names a client may ask for with a default `--cn localhost` set, in the order tried.
/// They are independent of the address dialled, which is always 127.0.0.1.
const SERVER_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// What the client sends once the handshake is done.
const PING: &[u8] = b"ping from the client\n";

/// What the server answers.
const PONG: &[u8] = b"pong from the server\n";

#[test]
fn every_key_type_completes_one_way_and_mutual_tls_for_every_default_name() {
    let env = Env::new();
    for key_type in KEY_TYPES {
        let set = issue_set(&env, key_type, key_type);
        for name in SERVER_NAMES {
            let outcome = one_way(&set, name);
            assert!(
                outcome.completed(),
                "{key_type}, one-way, {name}: {outcome}"
            );
            let outcome = mutual(&set, name);
            assert!(outcome.completed(), "{key_type}, mutual, {name}: {outcome}");
        }
    }
}

#[test]
fn rejects_a_server_certificate_without_sans_where_certgens_passes() {
    let env = Env::new();
    let set = issue_set(&env, "cert", "ecdsa-p256");
    let (cert, key) = issue_without_sans(&set);

    // The control: the same CA, client and name, with the certificate certgen wrote.
    let outcome = one_way(&set, "localhost");
    assert!(outcome.completed(), "certgen's server.pem: {outcome}");

    let server = server_config(&cert, &key, None);
    let client = client_config(&set.join("ca.pem"), None);
    let outcome = connect(server, client, "localhost");
    // rustls checks the name only after the chain has verified, so a name error also shows
    // that the certificate was otherwise acceptable: the missing SAN is its only fault.
    assert!(is_name_error(outcome.client_tls()), "nosan.pem: {outcome}");
}

#[test]
fn rejects_a_server_name_missing_from_the_certificate() {
    let env = Env::new();
    let set = issue_set(&env, "cert", "ecdsa-p256");
    let outcome = one_way(&set, "milvus.example.com");
    assert!(is_name_error(outcome.client_tls()), "{outcome}");
}

#[test]
fn mutual_tls_server_refuses_a_client_without_a_certificate() {
    let env = Env::new();
    let set = issue_set(&env, "cert", "ecdsa-p256");
    let server = mutual_server_config(&set);
    let client = client_config(&set.join("ca.pem"), None);
    let outcome = connect(server, client, "localhost");
    let refused = matches!(
        outcome.server_tls(),
        Some(TlsError::NoCertificatesPresented)
    );
    assert!(refused, "{outcome}");
}

#[test]
fn mutual_tls_server_refuses_a_client_certificate_from_another_ca() {
    let env = Env::new();
    let set = issue_set(&env, "cert", "ecdsa-p256");
    let other = issue_other_set(&env);
    let server = mutual_server_config(&set);
    // The client trusts the right CA, so only its own certificate can be at fault.
    let (cert, key) = (other.join("client.pem"), other.join("client.key"));
    let client = client_config(&set.join("ca.pem"), Some((&cert, &key)));
    let outcome = connect(server, client, "localhost");
    assert!(is_unknown_issuer(outcome.server_tls()), "{outcome}");
}

#[test]
fn client_rejects_a_server_whose_ca_it_does_not_trust() {
    let env = Env::new();
    let set = issue_set(&env, "cert", "ecdsa-p256");
    let other = issue_other_set(&env);
    let server = server_config(&set.join("server.pem"), &set.join("server.key"), None);
    let client = client_config(&other.join("ca.pem"), None);
    let outcome = connect(server, client, "localhost");
    assert!(is_unknown_issuer(outcome.client_tls()), "{outcome}");
}

/// Runs `certgen all --cn localhost --key-type KEY_TYPE --out OUT` and returns the folder.
fn issue_set(env: &Env, out: &str, key_type: &str) -> PathBuf {
    let args = [
        "all",
        "--cn",
        "localhost",
        "--key-type",
        key_type,
        "--out",
        out,
    ];
    env.certgen(&args).success();
    env.join(out)
}

/// A second, unrelated set in `other`, for the tests that need a CA nobody trusts.
///
/// Its CA gets its own common name: were both CAs called the same, webpki would find the
/// untrusted certificate's issuer name among its anchors and report a bad signature rather
/// than an unknown issuer.
fn issue_other_set(env: &Env) -> PathBuf {
    let args = [
        "all",
        "--ca-cn",
        "other CA",
        "--key-type",
        "ecdsa-p256",
        "--out",
        "other",
    ];
    env.certgen(&args).success();
    env.join("other")
}

/// Writes nosan.pem and nosan.key into `set`: a server certificate from the set's CA that
/// names its host only in the subject CN, as the openssl recipe does without an extension
/// file. Apart from the missing SANs it has what certgen's server.pem has.
fn issue_without_sans(set: &Path) -> (PathBuf, PathBuf) {
    let ca = Ca::load(&set.join("ca.pem"), &set.join("ca.key")).expect("load the CA");
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("generate a key");

    let mut subject = DistinguishedName::new();
    subject.push(DnType::CommonName, "localhost");
    let mut params = CertificateParams::default();
    params.distinguished_name = subject;
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::hours(1);
    params.not_after = now + time::Duration::days(1);
    let cert = params
        .signed_by(&key, &ca.issuer().expect("the CA can issue"))
        .expect("sign the SAN-less certificate");

    let (cert_path, key_path) = (set.join("nosan.pem"), set.join("nosan.key"));
    fs::write(&cert_path, cert.pem()).expect("write nosan.pem");
    fs::write(&key_path, key.serialize_pem()).expect("write nosan.key");
    (cert_path, key_path)
}

/// One-way TLS with `set`: the server presents server.pem, the client trusts ca.pem only.
fn one_way(set: &Path, server_name: &str) -> Outcome {
    let server = server_config(&set.join("server.pem"), &set.join("server.key"), None);
    let client = client_config(&set.join("ca.pem"), None);
    connect(server, client, server_name)
}

/// Mutual TLS with `set`: as [`one_way`], and the client presents client.pem.
///
/// Panics if the server completes without having received client.pem, since then the
/// connection was not mutual at all.
fn mutual(set: &Path, server_name: &str) -> Outcome {
    let (cert, key) = (set.join("client.pem"), set.join("client.key"));
    let server = mutual_server_config(set);
    let client = client_config(&set.join("ca.pem"), Some((&cert, &key)));
    let outcome = connect(server, client, server_name);
    if let Ok(seen) = &outcome.server {
        let sent = certs(&cert).into_iter().next();
        assert_eq!(*seen, sent, "the server did not receive client.pem");
    }
    outcome
}

/// A server presenting the set's server.pem and requiring a client certificate from its CA.
fn mutual_server_config(set: &Path) -> Arc<ServerConfig> {
    let ca = set.join("ca.pem");
    server_config(&set.join("server.pem"), &set.join("server.key"), Some(&ca))
}

/// The crypto provider, passed explicitly so no test depends on a process-wide default.
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// A TLS 1.3 server presenting `cert` and `key`. With `client_ca` it requires a client
/// certificate that chains to it; without, it asks for none.
fn server_config(cert: &Path, key: &Path, client_ca: Option<&Path>) -> Arc<ServerConfig> {
    let verifier = match client_ca {
        None => WebPkiClientVerifier::no_client_auth(),
        Some(ca) => WebPkiClientVerifier::builder_with_provider(roots(ca), provider())
            .build()
            .expect("build the client certificate verifier"),
    };
    // TLS 1.3 only, as a Milvus server in mutual mode runs.
    let config = ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&TLS13])
        .expect("the provider supports TLS 1.3")
        .with_client_cert_verifier(verifier)
        .with_single_cert(certs(cert), private_key(key))
        .unwrap_or_else(|e| panic!("{} as server certificate: {e}", cert.display()));
    Arc::new(config)
}

/// A TLS 1.3 client trusting only the CA in `trust`, presenting `identity` (certificate and
/// key files) when given.
fn client_config(trust: &Path, identity: Option<(&Path, &Path)>) -> Arc<ClientConfig> {
    let builder = ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&TLS13])
        .expect("the provider supports TLS 1.3")
        .with_root_certificates(roots(trust));
    let config = match identity {
        None => builder.with_no_client_auth(),
        Some((cert, key)) => builder
            .with_client_auth_cert(certs(cert), private_key(key))
            .unwrap_or_else(|e| panic!("{} as client certificate: {e}", cert.display())),
    };
    Arc::new(config)
}

/// The certificates in a PEM file.
fn certs(path: &Path) -> Vec<CertificateDer<'static>> {
    CertificateDer::pem_file_iter(path)
        .and_then(|iter| iter.collect())
        .unwrap_or_else(|e| panic!("read certificates from {}: {e}", path.display()))
}

/// The key in a PEM file, which must be PKCS#8 as certgen promises.
fn private_key(path: &Path) -> PrivateKeyDer<'static> {
    PrivatePkcs8KeyDer::from_pem_file(path)
        .unwrap_or_else(|e| panic!("read a PKCS#8 key from {}: {e}", path.display()))
        .into()
}

/// A trust store holding the certificates in `ca_pem` and nothing else.
fn roots(ca_pem: &Path) -> Arc<RootCertStore> {
    let mut store = RootCertStore::empty();
    for cert in certs(ca_pem) {
        store
            .add(cert)
            .expect("the CA certificate is a trust anchor");
    }
    Arc::new(store)
}

/// Whether `err` says the certificate does not cover the server name asked for.
fn is_name_error(err: Option<&TlsError>) -> bool {
    use CertificateError::{NotValidForName, NotValidForNameContext};
    matches!(
        err,
        Some(TlsError::InvalidCertificate(
            NotValidForName | NotValidForNameContext { .. }
        ))
    )
}

/// Whether `err` says the certificate does not chain to a trusted CA.
fn is_unknown_issuer(err: Option<&TlsError>) -> bool {
    let unknown = TlsError::InvalidCertificate(CertificateError::UnknownIssuer);
    err == Some(&unknown)
}

/// How both ends of one connection finished.
struct Outcome {
    /// The client's result.
    client: Result<(), Fault>,
    /// The server's result, with the end-entity certificate the client presented, if any.
    server: Result<Option<CertificateDer<'static>>, Fault>,
}

impl Outcome {
    /// Whether both sides got through the handshake, the exchange and the shutdown.
    fn completed(&self) -> bool {
        self.client.is_ok() && self.server.is_ok()
    }

    /// The rustls error the client stopped with, if it stopped with one.
    fn client_tls(&self) -> Option<&TlsError> {
        self.client.as_ref().err().and_then(Fault::tls)
    }

    /// The rustls error the server stopped with, if it stopped with one.
    fn server_tls(&self) -> Option<&TlsError> {
        self.server.as_ref().err().and_then(Fault::tls)
    }
}

impl fmt::Display for Outcome {
    /// Both sides, since the one that gave up first explains the other's error.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let side = |result: Result<(), &Fault>| match result {
            Ok(()) => "finished".to_owned(),
            Err(fault) => fault.to_string(),
        };
        let client = side(self.client.as_ref().map(|_| ()));
        let server = side(self.server.as_ref().map(|_| ()));
        write!(f, "client: {client}; server: {server}")
    }
}

/// Why one side of a connection stopped.
enum Fault {
    /// rustls refused the peer, or received the peer's alert; the tests match on this.
    Tls(TlsError),
    /// The socket failed or timed out, or the application bytes were wrong.
    Io(io::Error),
}

impl Fault {
    /// The rustls error, if this is one.
    fn tls(&self) -> Option<&TlsError> {
        match self {
            Fault::Tls(err) => Some(err),
            Fault::Io(_) => None,
        }
    }
}

impl From<io::Error> for Fault {
    /// rustls hands its own errors through `io::Error`; take them back out so that tests can
    /// match on the variant rather than on text.
    fn from(err: io::Error) -> Fault {
        let tls = err
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<TlsError>());
        match tls {
            Some(tls) => Fault::Tls(tls.clone()),
            None => Fault::Io(err),
        }
    }
}

impl fmt::Display for Fault {
    /// A rustls error in its Debug form, which names the variant the tests match on.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::Tls(err) => write!(f, "rustls error {err:?}"),
            Fault::Io(err) => write!(f, "i/o error: {err}"),
        }
    }
}

/// Runs one connection on loopback: a server thread with `server` accepts it, the client
/// with `client` dials 127.0.0.1 asking for `server_name`, and they exchange a line each.
fn connect(server: Arc<ServerConfig>, client: Arc<ClientConfig>, server_name: &str) -> Outcome {
    let name = ServerName::try_from(server_name.to_owned()).expect("a valid server name");
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind a loopback port");
    let addr = listener.local_addr().expect("the bound address");

    let server_thread = thread::spawn(move || serve(&listener, server));
    let client = dial(addr, client, name);
    // The client has closed its socket by now, so the server ends promptly whatever happened.
    let server = server_thread.join().expect("the server thread panicked");
    Outcome { client, server }
}

/// The server's side of [`connect`]: takes one connection, reads the ping, answers, and
/// waits for the client to close cleanly. Returns the client's certificate, if it sent one.
fn serve(
    listener: &TcpListener,
    config: Arc<ServerConfig>,
) -> Result<Option<CertificateDer<'static>>, Fault> {
    let mut tcp = accept_within(listener, TIMEOUT)?;
    set_timeouts(&tcp)?;
    let mut tls = ServerConnection::new(config).map_err(Fault::Tls)?;

    // In TLS 1.3 the server finishes last: this is where a client certificate is checked.
    while tls.is_handshaking() {
        tls.complete_io(&mut tcp)?;
    }
    let seen = tls
        .peer_certificates()
        .and_then(|chain| chain.first().cloned());

    let mut stream = Stream::new(&mut tls, &mut tcp);
    expect_bytes(&mut stream, PING)?;
    stream.write_all(PONG)?;
    stream.flush()?;
    // rustls reads a close_notify as the end of data and a bare TCP close as an error, so
    // this also checks that the client shut down properly.
    let mut rest = Vec::new();
    stream.read_to_end(&mut rest)?;
    if !rest.is_empty() {
        return Err(invalid_data(format!(
            "data after the ping: {}",
            quoted(&rest)
        )));
    }
    Ok(seen)
}

/// The client's side of [`connect`]: dials, handshakes, sends the ping, reads the pong and
/// closes with a close_notify.
fn dial(
    addr: SocketAddr,
    config: Arc<ClientConfig>,
    name: ServerName<'static>,
) -> Result<(), Fault> {
    let mut tcp = TcpStream::connect_timeout(&addr, TIMEOUT)?;
    set_timeouts(&tcp)?;
    let mut tls = ClientConnection::new(config, name).map_err(Fault::Tls)?;

    while tls.is_handshaking() {
        tls.complete_io(&mut tcp)?;
    }
    // A TLS 1.3 client is done before the server has judged its certificate, so only the
    // answer below proves that the server accepted the handshake too.
    let mut stream = Stream::new(&mut tls, &mut tcp);
    stream.write_all(PING)?;
    stream.flush()?;
    expect_bytes(&mut stream, PONG)?;

    tls.send_close_notify();
    while tls.wants_write() {
        tls.write_tls(&mut tcp)?;
    }
    Ok(())
}

/// Accepts one connection, giving up after `limit` so that a client that never dials cannot
/// keep the server thread waiting: a blocking accept has no timeout.
fn accept_within(listener: &TcpListener, limit: Duration) -> io::Result<TcpStream> {
    listener.set_nonblocking(true)?;
    let deadline = Instant::now() + limit;
    loop {
        match listener.accept() {
            Ok((tcp, _)) => {
                tcp.set_nonblocking(false)?;
                return Ok(tcp);
            }
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                if Instant::now() >= deadline {
                    return Err(io::ErrorKind::TimedOut.into());
                }
                thread::sleep(Duration::from_millis(5));
            }
            Err(err) => return Err(err),
        }
    }
}

/// Bounds every read and write on `tcp` by [`TIMEOUT`].
fn set_timeouts(tcp: &TcpStream) -> io::Result<()> {
    tcp.set_read_timeout(Some(TIMEOUT))?;
    tcp.set_write_timeout(Some(TIMEOUT))
}

/// Reads exactly `expected.len()` bytes and checks that they are `expected`.
fn expect_bytes(stream: &mut impl Read, expected: &[u8]) -> Result<(), Fault> {
    let mut got = vec![0; expected.len()];
    stream.read_exact(&mut got)?;
    if got != expected {
        let message = format!("expected {}, got {}", quoted(expected), quoted(&got));
        return Err(invalid_data(message));
    }
    Ok(())
}

/// A fault for application data other than the ping and pong these tests exchange.
fn invalid_data(message: String) -> Fault {
    Fault::Io(io::Error::new(io::ErrorKind::InvalidData, message))
}

/// Bytes as a quoted string, for messages.
fn quoted(bytes: &[u8]) -> String {
    format!("{:?}", String::from_utf8_lossy(bytes))
}
