//! A real TLS 1.3 handshake over loopback, in process, with rustls: the
//! proof `verify --handshake` gives that a set of files works, and the
//! reason in plain words when it does not.
//!
//! The server and client run in this process on 127.0.0.1 with a port the
//! system picks; every socket has timeouts and the server takes exactly one
//! connection, so a check can neither hang nor reach another host.

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::server::WebPkiClientVerifier;
use rustls::{
    CertificateError, ClientConfig, ClientConnection, Error as TlsError, RootCertStore,
    ServerConfig, ServerConnection,
};

/// How long any socket operation may block.
const TIMEOUT: Duration = Duration::from_secs(10);

/// The byte the server sends once it has accepted the handshake. In TLS 1.3
/// the client finishes first, before the server has judged the client's
/// certificate, so only this byte proves the server agreed.
const ACCEPTED: u8 = b'!';

/// A certificate chain (leaf first) and its private key.
pub struct Identity {
    /// The chain, leaf first.
    pub chain: Vec<CertificateDer<'static>>,
    /// The leaf's key.
    pub key: PrivateKeyDer<'static>,
}

/// What to connect with.
pub struct Setup<'a> {
    /// The CA both sides trust.
    pub ca: &'a CertificateDer<'static>,
    /// What the server presents.
    pub server: &'a Identity,
    /// What the client presents; when given, the server requires a client
    /// certificate chaining to `ca` (mutual TLS, Milvus `tlsMode: 2`).
    pub client: Option<&'a Identity>,
    /// The name the client asks for: a DNS name or an IP address.
    pub server_name: &'a str,
}

/// Why a handshake failed, in plain words, and which side noticed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// `client` or `server`.
    pub side: &'static str,
    /// The reason, for a person.
    pub reason: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the {} refused: {}", self.side, self.reason)
    }
}

/// Runs one handshake and a one-byte exchange over loopback.
pub fn handshake(setup: &Setup<'_>) -> Result<(), Failure> {
    let (server_config, client_config) = configs(setup)?;
    let name = ServerName::try_from(setup.server_name.to_owned()).map_err(|_| Failure {
        side: "client",
        reason: format!(
            "{:?} is neither a DNS name nor an IP address",
            setup.server_name
        ),
    })?;
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(local_fault)?;
    let addr = listener.local_addr().map_err(local_fault)?;

    let server = thread::spawn(move || serve(&listener, server_config));
    let client = TcpStream::connect_timeout(&addr, TIMEOUT)
        .map_err(TlsFault::Io)
        .and_then(|tcp| dial(tcp, client_config, name));
    let server = server.join().unwrap_or_else(|_| {
        Err(TlsFault::Io(io::Error::other(
            "the test server thread panicked",
        )))
    });
    match (client, server) {
        (Ok(()), Ok(())) => Ok(()),
        (client, server) => Err(explain(client.err(), server.err())),
    }
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// Builds both configurations. A key that does not fit its certificate is
/// caught here, by rustls, and reported against the side that owns it.
fn configs(setup: &Setup<'_>) -> Result<(Arc<ServerConfig>, Arc<ClientConfig>), Failure> {
    let mut roots = RootCertStore::empty();
    roots.add(setup.ca.clone()).map_err(|e| Failure {
        side: "client",
        reason: format!("ca.pem cannot be a trust anchor: {}", plain(&e)),
    })?;
    let roots = Arc::new(roots);
    let setup_error = |side: &'static str| {
        move |e: TlsError| Failure {
            side,
            reason: plain(&e),
        }
    };

    let verifier = match setup.client {
        None => WebPkiClientVerifier::no_client_auth(),
        Some(_) => WebPkiClientVerifier::builder_with_provider(roots.clone(), provider())
            .build()
            .map_err(|e| Failure {
                side: "server",
                reason: format!("cannot check client certificates: {e}"),
            })?,
    };
    // TLS 1.3 only, as the Milvus server runs in mutual mode.
    let server = ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(setup_error("server"))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(setup.server.chain.clone(), setup.server.key.clone_key())
        .map_err(setup_error("server"))?;

    let client = ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(setup_error("client"))?
        .with_root_certificates(roots);
    let client = match setup.client {
        None => client.with_no_client_auth(),
        Some(identity) => client
            .with_client_auth_cert(identity.chain.clone(), identity.key.clone_key())
            .map_err(setup_error("client"))?,
    };
    Ok((Arc::new(server), Arc::new(client)))
}

/// Why one side stopped.
enum TlsFault {
    /// rustls refused the peer, or received the peer's alert.
    Tls(TlsError),
    /// The socket failed or timed out.
    Io(io::Error),
}

impl From<io::Error> for TlsFault {
    /// rustls passes its errors through `io::Error`; take them back out.
    fn from(err: io::Error) -> TlsFault {
        match err.get_ref().and_then(|e| e.downcast_ref::<TlsError>()) {
            Some(tls) => TlsFault::Tls(tls.clone()),
            None => TlsFault::Io(err),
        }
    }
}

fn serve(listener: &TcpListener, config: Arc<ServerConfig>) -> Result<(), TlsFault> {
    let mut tcp = accept_within(listener, TIMEOUT)?;
    set_timeouts(&tcp)?;
    let mut tls = ServerConnection::new(config).map_err(TlsFault::Tls)?;
    while tls.is_handshaking() {
        tls.complete_io(&mut tcp)?;
    }
    tls.writer().write_all(&[ACCEPTED])?;
    while tls.wants_write() {
        tls.write_tls(&mut tcp)?;
    }
    Ok(())
}

fn dial(
    mut tcp: TcpStream,
    config: Arc<ClientConfig>,
    name: ServerName<'static>,
) -> Result<(), TlsFault> {
    set_timeouts(&tcp)?;
    let mut tls = ClientConnection::new(config, name).map_err(TlsFault::Tls)?;
    while tls.is_handshaking() {
        tls.complete_io(&mut tcp)?;
    }
    let mut byte = [0u8; 1];
    rustls::Stream::new(&mut tls, &mut tcp).read_exact(&mut byte)?;
    if byte[0] != ACCEPTED {
        return Err(TlsFault::Io(io::Error::other(
            "the server sent unexpected data",
        )));
    }
    Ok(())
}

/// A blocking accept has no timeout; poll so a client that never connects
/// cannot keep the server thread waiting.
fn accept_within(listener: &TcpListener, limit: Duration) -> io::Result<TcpStream> {
    listener.set_nonblocking(true)?;
    let deadline = Instant::now() + limit;
    loop {
        match listener.accept() {
            Ok((tcp, _)) => {
                tcp.set_nonblocking(false)?;
                return Ok(tcp);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock && Instant::now() < deadline => {
                thread::sleep(Duration::from_millis(2));
            }
            Err(e) => return Err(e),
        }
    }
}

fn set_timeouts(tcp: &TcpStream) -> io::Result<()> {
    tcp.set_read_timeout(Some(TIMEOUT))?;
    tcp.set_write_timeout(Some(TIMEOUT))
}

fn local_fault(err: io::Error) -> Failure {
    Failure {
        side: "client",
        reason: format!("could not use the loopback interface: {err}"),
    }
}

/// Picks the side that found the fault: the other one only received an
/// alert or saw the connection close.
fn explain(client: Option<TlsFault>, server: Option<TlsFault>) -> Failure {
    let decisive = |fault: &Option<TlsFault>| matches!(fault, Some(TlsFault::Tls(e)) if !matches!(e, TlsError::AlertReceived(_)));
    let (side, fault) = if decisive(&client) || (!decisive(&server) && client.is_some()) {
        ("client", client)
    } else {
        ("server", server)
    };
    let reason = match fault {
        Some(TlsFault::Tls(e)) => plain(&e),
        Some(TlsFault::Io(e)) => format!("the connection failed: {e}"),
        None => "unknown failure".to_owned(),
    };
    Failure { side, reason }
}

/// A rustls error in words a person setting up TLS can act on.
pub fn plain(err: &TlsError) -> String {
    use CertificateError as C;
    match err {
        TlsError::InvalidCertificate(cert) => match cert {
            C::UnknownIssuer => {
                "unknown issuer: the certificate is not signed by the CA in ca.pem".to_owned()
            }
            C::NotValidForName | C::NotValidForNameContext { .. } => {
                "name mismatch: the server certificate has no subjectAltName for the name the \
                 client asked for"
                    .to_owned()
            }
            C::InvalidPurpose | C::InvalidPurposeContext { .. } => {
                "bad key usage: the certificate's extended key usage does not allow this role \
                 (a server needs serverAuth, a client clientAuth)"
                    .to_owned()
            }
            C::Expired | C::ExpiredContext { .. } => "expired: the certificate is past its \
                 notAfter date"
                .to_owned(),
            C::NotValidYet | C::NotValidYetContext { .. } => {
                "not yet valid: the certificate's notBefore date is in the future".to_owned()
            }
            C::BadSignature => "bad signature: the certificate does not verify against ca.pem's \
                 key (issued by another CA with the same name?)"
                .to_owned(),
            C::Other(other)
                if matches!(
                    other.0.downcast_ref::<webpki::Error>(),
                    Some(webpki::Error::UnsupportedCertVersion)
                ) =>
            {
                "version 1 certificate: rustls accepts X.509 version 3 only (openssl before 3.2 \
                 makes version 1 for `openssl x509 -req` without -extfile)"
                    .to_owned()
            }
            other => format!("invalid certificate: {other:?}"),
        },
        TlsError::NoCertificatesPresented => {
            "no client certificate: the server requires one and the client sent none".to_owned()
        }
        other => other.to_string(),
    }
}
