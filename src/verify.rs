//! `certgen verify`: whether a folder of TLS files works as a set, with one
//! finding per check and the reason for every problem in plain words.
//!
//! The set is `ca.pem` (with `ca.key` and `ca.srl` when present) and every
//! other certificate file in the folder, each with `NAME.key` and `NAME.csr`
//! beside it when present. Chains are validated by rustls-webpki, the code
//! rustls clients run; nothing here re-implements path validation.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use serde::Serialize;
use time::OffsetDateTime;

use crate::decode::{self, Object};
use crate::facts::{self, CertFacts, KeyFacts, RequestFacts, TimeStatus};
use crate::handshake::{self, Identity, Setup};
use crate::serial::Serial;

/// Certificates whose private keys are public: a set that trusts one of
/// them can be impersonated by anyone.
#[derive(Clone, Debug)]
pub struct PublishedCert {
    /// SHA-256 fingerprint of the DER, colon-separated upper-case hex.
    pub fingerprint: String,
    /// Where the key was published, for the message.
    pub source: String,
}

/// The sample certificates committed under `configs/cert/` in the Milvus
/// source tree, together with their private keys. Milvus falls back to them
/// when its TLS paths are wrong, so they turn up in real deployments.
pub fn published_certs() -> Vec<PublishedCert> {
    let milvus = "the Milvus source tree (configs/cert), whose private keys are public";
    [
        // CA, C=CN, ST=GZ, L=GZ, O=ronething, OU=ronething, CN=localhost.
        "51:B9:8B:47:86:12:F0:C1:86:CC:A3:7A:3C:1A:5B:C7:44:84:3E:4F:6C:41:A1:DB:EA:26:29:80:A0:00:63:E7",
        // Its server certificate.
        "6C:5C:00:82:18:04:6A:50:CB:0D:B2:64:5D:C0:EA:73:DB:46:C9:FA:4B:8B:80:8F:A4:F2:E2:32:4A:C1:7D:8C",
        // Its client certificate.
        "8F:73:F8:15:D7:9B:75:C9:68:5A:E1:38:DC:F1:E0:64:92:5B:9E:EA:3F:3B:3D:98:22:A4:97:9D:C2:EA:D7:62",
    ]
    .into_iter()
    .map(|fingerprint| PublishedCert {
        fingerprint: fingerprint.to_owned(),
        source: milvus.to_owned(),
    })
    .collect()
}

/// What to check beyond the defaults.
#[derive(Clone, Debug)]
pub struct Options {
    /// Names the server certificates must be valid for; empty means each
    /// server certificate's own CN (or first SAN).
    pub hosts: Vec<String>,
    /// Report certificates that expire within this window.
    pub expires_within: Option<time::Duration>,
    /// Run a real TLS handshake for each server certificate and host.
    pub handshake: bool,
    /// Make those handshakes mutual, with client.pem and client.key.
    pub mutual: bool,
    /// Certificates known to have public keys; [`published_certs`] by default.
    pub published: Vec<PublishedCert>,
}

impl Default for Options {
    /// No extra checks, and the Milvus samples as the published certificates.
    fn default() -> Options {
        Options {
            hosts: Vec::new(),
            expires_within: None,
            handshake: false,
            mutual: false,
            published: published_certs(),
        }
    }
}

/// The outcome of one check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The check passed.
    Ok,
    /// The set will fail, or is unsafe, for the reason given.
    Problem,
    /// Worth knowing, not a failure.
    Note,
}

/// One line of the report.
#[derive(Clone, Debug, Serialize)]
pub struct Finding {
    /// Passed, failed, or informational.
    pub status: Status,
    /// A stable name of the check: `chain`, `key`, `csr`, `name`, `usage`,
    /// `san`, `validity`, `expiry`, `serial`, `ca`, `published`, `handshake`.
    pub check: &'static str,
    /// The file the finding is about.
    pub path: String,
    /// What was found, for a person.
    pub message: String,
}

/// The JSON document `verify --json` prints.
#[derive(Serialize)]
pub struct Document<'a> {
    /// The JSON layout version, shared with `inspect`.
    pub schema: u32,
    /// The folder checked.
    pub dir: String,
    /// Whether no check found a problem.
    pub ok: bool,
    /// How many problems were found.
    pub problems: usize,
    /// Every finding, in report order.
    pub findings: &'a [Finding],
}

/// A certificate of the set with what lies beside it.
struct Member {
    path: PathBuf,
    stem: String,
    chain: Vec<Vec<u8>>,
    facts: CertFacts,
}

/// Everything read from the folder.
struct Set {
    dir: PathBuf,
    now: OffsetDateTime,
    ca: Member,
    leaves: Vec<Member>,
    keys: BTreeMap<String, (PathBuf, KeyFacts, Vec<u8>)>,
    /// Password-protected keys, which certgen does not open, by stem.
    encrypted_keys: BTreeMap<String, PathBuf>,
    requests: BTreeMap<String, (PathBuf, RequestFacts)>,
    serial: Option<(PathBuf, Serial)>,
}

/// Checks the set in `dir`. An error means the set could not be read at all
/// (no `ca.pem`, an unreadable or corrupt file); problems with what was read
/// are findings.
pub fn verify(dir: &Path, options: &Options, now: OffsetDateTime) -> Result<Vec<Finding>> {
    let set = read_set(dir, now)?;
    let mut report = Report::default();
    check_ca(&set, options, now, &mut report);
    for leaf in &set.leaves {
        check_leaf(&set, leaf, options, now, &mut report);
    }
    check_serial(&set, &mut report);
    if options.handshake || options.mutual {
        check_handshakes(&set, options, &mut report)?;
    }
    Ok(report.findings)
}

#[derive(Default)]
struct Report {
    findings: Vec<Finding>,
}

impl Report {
    fn add(&mut self, status: Status, check: &'static str, path: &Path, message: String) {
        self.findings.push(Finding {
            status,
            check,
            path: path.display().to_string(),
            message,
        });
    }

    fn ok(&mut self, check: &'static str, path: &Path, message: String) {
        self.add(Status::Ok, check, path, message);
    }

    fn problem(&mut self, check: &'static str, path: &Path, message: String) {
        self.add(Status::Problem, check, path, message);
    }

    fn note(&mut self, check: &'static str, path: &Path, message: String) {
        self.add(Status::Note, check, path, message);
    }
}

fn read_set(dir: &Path, now: OffsetDateTime) -> Result<Set> {
    let paths: Vec<PathBuf> = decode::list_files(dir)?
        .into_iter()
        .filter(|p| decode::named_like_tls(p))
        .collect();

    let mut ca = None;
    let mut leaves = Vec::new();
    let mut keys = BTreeMap::new();
    let mut encrypted_keys = BTreeMap::new();
    let mut requests = BTreeMap::new();
    let mut serial = None;
    for path in paths {
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let objects = decode::read_file(&path)?;
        let mut chain = Vec::new();
        for object in objects {
            match object {
                Object::Certificate(der) => chain.push(der),
                Object::Request(der) => {
                    let facts = facts::request(&der).with_context(|| path.display().to_string())?;
                    requests.insert(stem.clone(), (path.clone(), facts));
                }
                Object::PrivateKey { der, format } => {
                    let facts = facts::private_key(&der, format);
                    keys.insert(stem.clone(), (path.clone(), facts, der));
                }
                Object::Serial(value) => serial = Some((path.clone(), value)),
                Object::EncryptedKey => {
                    encrypted_keys.insert(stem.clone(), path.clone());
                }
                Object::Other { .. } => {}
            }
        }
        if chain.is_empty() {
            continue;
        }
        let facts =
            facts::certificate(&chain[0], now).with_context(|| path.display().to_string())?;
        let member = Member {
            path: path.clone(),
            stem: stem.clone(),
            chain,
            facts,
        };
        if path.file_name().is_some_and(|n| n == "ca.pem") {
            ca = Some(member);
        } else {
            leaves.push(member);
        }
    }
    let Some(ca) = ca else {
        bail!(
            "no ca.pem in {}: verify checks a set made of ca.pem and the certificates beside it",
            dir.display()
        );
    };
    Ok(Set {
        dir: dir.to_path_buf(),
        now,
        ca,
        leaves,
        keys,
        encrypted_keys,
        requests,
        serial,
    })
}

fn check_ca(set: &Set, options: &Options, now: OffsetDateTime, report: &mut Report) {
    let ca = &set.ca;
    match &ca.facts.basic_constraints {
        Some(bc) if bc.ca => report.ok("ca", &ca.path, "is a CA certificate".to_owned()),
        _ => report.problem(
            "ca",
            &ca.path,
            "is not a CA certificate (basicConstraints lacks CA:TRUE); clients will not accept \
             certificates it signed"
                .to_owned(),
        ),
    }
    if let Some(ku) = &ca.facts.key_usage {
        if !ku.usages.iter().any(|u| u == "keyCertSign") {
            report.problem(
                "ca",
                &ca.path,
                "its key usage lacks keyCertSign, so it may not sign certificates".to_owned(),
            );
        }
    }
    check_time(&ca.path, &ca.facts, options, now, report);
    check_key(set, ca, report);
    check_published(&ca.path, &ca.facts, options, report);
}

fn check_leaf(
    set: &Set,
    leaf: &Member,
    options: &Options,
    now: OffsetDateTime,
    report: &mut Report,
) {
    let roles = roles(leaf);
    check_chain(set, leaf, &roles, report);
    check_time(&leaf.path, &leaf.facts, options, now, report);
    check_usage(leaf, &roles, report);
    if leaf.facts.sans.is_empty() {
        let command = if roles.server { "server" } else { "client" };
        report.problem(
            "san",
            &leaf.path,
            format!(
                "has no subjectAltName: Go (since 1.15) and rustls ignore the common name and \
                 reject this certificate for every host name; issue a new one with \
                 `certgen {command} --force --san NAME`"
            ),
        );
    }
    if roles.server {
        check_names(leaf, options, report);
    }
    check_key(set, leaf, report);
    check_request(set, leaf, report);
    check_published(&leaf.path, &leaf.facts, options, report);
}

/// Which roles a leaf is checked for: by its file name when that is
/// `server` or `client`, otherwise by its extended key usage.
struct Roles {
    server: bool,
    client: bool,
}

fn roles(leaf: &Member) -> Roles {
    let eku = &leaf.facts.extended_key_usage;
    match leaf.stem.as_str() {
        "server" => Roles {
            server: true,
            client: false,
        },
        "client" => Roles {
            server: false,
            client: true,
        },
        _ => {
            let server = eku.iter().any(|u| u == "serverAuth");
            let client = eku.iter().any(|u| u == "clientAuth");
            Roles {
                // A leaf without either usage is checked as a server, the
                // common case for a certificate of unknown purpose.
                server: server || !client,
                client,
            }
        }
    }
}

/// Path validation with rustls-webpki, at a moment inside the leaf's
/// validity, so that an expired certificate is reported once, as expired,
/// and not again as a broken chain. Only a leaf whose period does not
/// overlap the CA's at all fails here on time as well.
fn check_chain(set: &Set, leaf: &Member, roles: &Roles, report: &mut Report) {
    let ca_der = CertificateDer::from(set.ca.chain[0].as_slice());
    let anchor = match webpki::anchor_from_trusted_cert(&ca_der) {
        Ok(anchor) => anchor,
        Err(e) => {
            let message = format!("ca.pem cannot serve as a trust anchor: {e:?}");
            report.problem("chain", &leaf.path, message);
            return;
        }
    };
    let leaf_der = CertificateDer::from(leaf.chain[0].as_slice());
    let cert = match webpki::EndEntityCert::try_from(&leaf_der) {
        Ok(cert) => cert,
        Err(e) => {
            report.problem("chain", &leaf.path, unreadable(&e));
            return;
        }
    };
    let intermediates: Vec<CertificateDer<'_>> = leaf.chain[1..]
        .iter()
        .map(|der| CertificateDer::from(der.as_slice()))
        .collect();
    let at = check_time_for(&leaf.facts, &set.ca.facts, set.now);
    let algorithms = rustls::crypto::aws_lc_rs::default_provider()
        .signature_verification_algorithms
        .all;
    let usages = [
        (roles.server, webpki::KeyUsage::server_auth(), "serverAuth"),
        (roles.client, webpki::KeyUsage::client_auth(), "clientAuth"),
    ];
    for (wanted, usage, name) in usages {
        if !wanted {
            continue;
        }
        let anchors = [anchor.clone()];
        let result =
            cert.verify_for_usage(algorithms, &anchors, &intermediates, at, usage, None, None);
        match result {
            Ok(_) => report.ok(
                "chain",
                &leaf.path,
                format!("chains to {} for {name}", set.ca.path.display()),
            ),
            Err(e) => report.problem("chain", &leaf.path, chain_error(&e, name, set, leaf)),
        }
    }
}

/// A moment both certificates are valid at, so the chain check is about
/// signatures and usages only; now, when that works.
fn check_time_for(leaf: &CertFacts, ca: &CertFacts, now: OffsetDateTime) -> UnixTime {
    let start = leaf.not_before_time.max(ca.not_before_time);
    let end = leaf.not_after_time.min(ca.not_after_time);
    let at = if now >= start && now <= end {
        now
    } else {
        start
    };
    UnixTime::since_unix_epoch(std::time::Duration::from_secs(
        at.unix_timestamp().max(0) as u64
    ))
}

/// Why webpki, and so every rustls peer, cannot even read a certificate.
fn unreadable(err: &webpki::Error) -> String {
    match err {
        webpki::Error::UnsupportedCertVersion => "is an X.509 version 1 certificate, without \
             extensions, which rustls refuses outright; openssl before 3.2 makes one for \
             `openssl x509 -req` without -extfile"
            .to_owned(),
        other => format!("cannot be parsed by webpki: {other:?}"),
    }
}

fn chain_error(err: &webpki::Error, usage: &str, set: &Set, leaf: &Member) -> String {
    use webpki::Error as E;
    let ca = &set.ca.path;
    match err {
        E::UnknownIssuer => format!(
            "is not signed by the CA in {} (unknown issuer): it comes from another CA",
            ca.display()
        ),
        E::InvalidSignatureForPublicKey => format!(
            "its signature does not verify with the key of {}: issued by another CA of the same \
             name",
            ca.display()
        ),
        E::RequiredEkuNotFoundContext(_) => {
            format!("its extended key usage lacks {usage}, so TLS peers refuse it in that role")
        }
        E::CaUsedAsEndEntity => "is a CA certificate, not a server or client one".to_owned(),
        // Only when the two periods do not overlap; see `check_time_for`.
        E::CertExpired { .. } | E::CertNotValidYet { .. } => format!(
            "is valid from {} to {} and the CA in {} from {} to {}: never both at once, so no \
             client accepts this chain",
            leaf.facts.not_before,
            leaf.facts.not_after,
            ca.display(),
            set.ca.facts.not_before,
            set.ca.facts.not_after
        ),
        other => format!("does not validate against {}: {other:?}", ca.display()),
    }
}

fn check_time(
    path: &Path,
    facts: &CertFacts,
    options: &Options,
    now: OffsetDateTime,
    report: &mut Report,
) {
    match facts.time_status {
        TimeStatus::Expired => report.problem(
            "validity",
            path,
            format!(
                "expired on {} ({} ago)",
                facts.not_after,
                facts::days(-facts.days_left)
            ),
        ),
        TimeStatus::NotYetValid => report.problem(
            "validity",
            path,
            format!("is not valid until {}; check the clocks", facts.not_before),
        ),
        TimeStatus::Valid => {
            let left = facts::days(facts.days_left);
            let message = format!("valid until {} ({left})", facts.not_after);
            report.ok("validity", path, message);
            if let Some(window) = options.expires_within {
                if facts.not_after_time <= now + window {
                    let message = format!(
                        "expires on {}, within the --expires-within window",
                        facts.not_after
                    );
                    report.problem("expiry", path, message);
                }
            }
        }
    }
}

fn check_usage(leaf: &Member, roles: &Roles, report: &mut Report) {
    let eku = &leaf.facts.extended_key_usage;
    if eku.is_empty() {
        report.note(
            "usage",
            &leaf.path,
            "has no extendedKeyUsage: clients accept it for any purpose, which also lets a client \
             certificate pose as a server"
                .to_owned(),
        );
        return;
    }
    for (wanted, name, role) in [
        (roles.server, "serverAuth", "server"),
        (roles.client, "clientAuth", "client"),
    ] {
        if wanted && !eku.iter().any(|u| u == name) {
            report.problem(
                "usage",
                &leaf.path,
                format!(
                    "is used as a {role} certificate but lacks {name} (it has {}); TLS peers \
                     will refuse it",
                    eku.join(", ")
                ),
            );
        }
    }
}

fn check_names(leaf: &Member, options: &Options, report: &mut Report) {
    let hosts = if options.hosts.is_empty() {
        default_host(&leaf.facts).into_iter().collect()
    } else {
        options.hosts.clone()
    };
    let der = CertificateDer::from(leaf.chain[0].as_slice());
    // A certificate webpki cannot read is valid for no name in rustls; the
    // chain check says why it cannot be read.
    let cert = webpki::EndEntityCert::try_from(&der).ok();
    for host in hosts {
        let Ok(name) = ServerName::try_from(host.as_str()) else {
            report.problem(
                "name",
                &leaf.path,
                format!("{host:?} is not a DNS name or IP address"),
            );
            continue;
        };
        let valid = cert
            .as_ref()
            .is_some_and(|cert| cert.verify_is_valid_for_subject_name(&name).is_ok());
        if valid {
            report.ok("name", &leaf.path, format!("is valid for {host}"));
            continue;
        }
        let why = if leaf.facts.sans.is_empty() {
            "its SANs are missing".to_owned()
        } else if cert.is_none() {
            "rustls cannot read the certificate".to_owned()
        } else {
            format!("its SANs are {}", leaf.facts.sans.join(", "))
        };
        report.problem(
            "name",
            &leaf.path,
            format!("is not valid for {host}: {why}"),
        );
    }
}

/// The name a server certificate is checked for without `--host`: its CN,
/// which is what the recipe and most users put there, or else its first SAN.
fn default_host(facts: &CertFacts) -> Option<String> {
    facts.common_name.clone().or_else(|| {
        facts
            .sans
            .first()
            .and_then(|s| s.split_once(':'))
            .map(|(_, v)| v.to_owned())
    })
}

fn check_key(set: &Set, member: &Member, report: &mut Report) {
    let Some((path, key, _)) = set.keys.get(&member.stem) else {
        if let Some(path) = set.encrypted_keys.get(&member.stem) {
            let message = format!(
                "is password-protected, so whether it belongs to {} was not checked",
                member.path.display()
            );
            report.note("key", path, message);
        } else {
            let message = format!(
                "no {}.key beside it; fine where the key is not needed",
                member.stem
            );
            report.note("key", &member.path, message);
        }
        return;
    };
    if let Some(problem) = &key.problem {
        report.problem("key", path, problem.clone());
    } else if key.public_key_bits == member.facts.public_key_bits {
        let message = format!("belongs to {}", member.path.display());
        report.ok("key", path, message);
    } else {
        report.problem(
            "key",
            path,
            format!(
                "does not belong to {}: their public keys differ (keys swapped, or one file \
                 from another run)",
                member.path.display()
            ),
        );
    }
}

fn check_request(set: &Set, leaf: &Member, report: &mut Report) {
    let Some((path, request)) = set.requests.get(&leaf.stem) else {
        return;
    };
    if !request.signature_valid {
        let message = "its signature does not verify: the request is corrupt".to_owned();
        report.problem("csr", path, message);
        return;
    }
    match set.keys.get(&leaf.stem) {
        Some((key_path, key, _)) if !key.public_key_bits.is_empty() => {
            if key.public_key_bits == request.public_key_bits {
                report.ok("csr", path, format!("is signed by {}", key_path.display()));
            } else {
                let message = format!("was not made with {}", key_path.display());
                report.problem("csr", path, message);
            }
        }
        _ => report.ok("csr", path, "is validly self-signed".to_owned()),
    }
}

fn check_published(path: &Path, facts: &CertFacts, options: &Options, report: &mut Report) {
    if let Some(known) = options.published.iter().find(|p| {
        p.fingerprint
            .eq_ignore_ascii_case(&facts.sha256_fingerprint)
    }) {
        report.problem(
            "published",
            path,
            format!(
                "is a sample certificate from {}: anyone can impersonate the servers and \
                 clients of this set; make a CA of your own with `certgen all`",
                known.source
            ),
        );
    }
}

/// `ca.srl` must hold at least the highest serial the CA issued here, or the
/// next certificate would repeat a serial.
fn check_serial(set: &Set, report: &mut Report) {
    let Some((path, last)) = &set.serial else {
        return;
    };
    let issued = set
        .leaves
        .iter()
        .filter(|leaf| leaf.facts.issuer == set.ca.facts.subject)
        .filter_map(|leaf| Some((leaf, Serial::parse_srl(&leaf.facts.serial).ok()?)))
        .max_by(|a, b| a.1.cmp(&b.1));
    match issued {
        Some((leaf, highest)) if highest > *last => report.problem(
            "serial",
            path,
            format!(
                "holds {last}, below the serial {highest} of {}: the next certificate would \
                 repeat a serial; write {highest} into it",
                leaf.path.display()
            ),
        ),
        _ => report.ok(
            "serial",
            path,
            format!("{last} is at or above every serial issued here"),
        ),
    }
}

fn check_handshakes(set: &Set, options: &Options, report: &mut Report) -> Result<()> {
    let ca = CertificateDer::from(set.ca.chain[0].clone());
    let client = if options.mutual {
        match identity(set, "client") {
            Some(identity) => Some(identity),
            None => {
                let message = match set.encrypted_keys.get("client") {
                    Some(path) => format!(
                        "--mutual needs client.key unencrypted, and {} is password-protected",
                        path.display()
                    ),
                    None => "--mutual needs client.pem and client.key in the folder".to_owned(),
                };
                report.problem("handshake", &set.dir.join("client.pem"), message);
                return Ok(());
            }
        }
    } else {
        None
    };
    let servers: Vec<&Member> = set.leaves.iter().filter(|l| roles(l).server).collect();
    if servers.is_empty() {
        let message = "no server certificate in the folder, so no handshake was tried".to_owned();
        report.note("handshake", &set.dir, message);
    }
    for leaf in servers {
        let Some(server) = identity(set, &leaf.stem) else {
            let message = match set.encrypted_keys.get(&leaf.stem) {
                Some(path) => format!(
                    "{} is password-protected, so no handshake was tried",
                    path.display()
                ),
                None => format!("no {}.key beside it, so no handshake was tried", leaf.stem),
            };
            report.note("handshake", &leaf.path, message);
            continue;
        };
        let hosts = if options.hosts.is_empty() {
            default_host(&leaf.facts).into_iter().collect()
        } else {
            options.hosts.clone()
        };
        let mode = if client.is_some() {
            "mutual"
        } else {
            "one-way"
        };
        for host in hosts {
            let setup = Setup {
                ca: &ca,
                server: &server,
                client: client.as_ref(),
                server_name: &host,
            };
            match handshake::handshake(&setup) {
                Ok(()) => report.ok(
                    "handshake",
                    &leaf.path,
                    format!("TLS 1.3 {mode} handshake as {host} succeeded"),
                ),
                Err(failure) => report.problem(
                    "handshake",
                    &leaf.path,
                    format!("TLS 1.3 {mode} handshake as {host} failed: {failure}"),
                ),
            }
        }
    }
    Ok(())
}

/// The chain and key named `stem` in the set, when both are there.
fn identity(set: &Set, stem: &str) -> Option<Identity> {
    let member = set.leaves.iter().find(|l| l.stem == stem)?;
    let (_, key, der) = set.keys.get(stem)?;
    let key = match key.format {
        decode::KeyFormat::Pkcs8 => PrivateKeyDer::Pkcs8(der.clone().into()),
        decode::KeyFormat::Pkcs1 => PrivateKeyDer::Pkcs1(der.clone().into()),
        decode::KeyFormat::Sec1 => PrivateKeyDer::Sec1(der.clone().into()),
    };
    Some(Identity {
        chain: member
            .chain
            .iter()
            .cloned()
            .map(CertificateDer::from)
            .collect(),
        key,
    })
}

/// Reads `--expires-within`: a whole number and a unit, `s`, `m`, `h`, `d`
/// or `w`, such as `30d`, `12h` or `2w`.
pub fn parse_window(text: &str) -> Result<time::Duration> {
    let unit_at = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(unit_at);
    let Ok(number) = number.parse::<i64>() else {
        bail!("expected a number and a unit, such as 30d, 12h or 2w");
    };
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 604_800,
        _ => bail!("the unit must be s, m, h, d or w, as in 30d, 12h or 2w"),
    };
    match number.checked_mul(seconds) {
        Some(total) if total > 0 && total <= 200 * 365 * 86_400 => {
            Ok(time::Duration::seconds(total))
        }
        _ => bail!("must be more than zero and at most 200 years"),
    }
}

/// Writes the findings as text, one line each, then the verdict.
///
/// With `quiet`, only problems and the verdict are written, and nothing at
/// all for a good set, which suits cron jobs.
pub fn render_text(
    dir: &Path,
    findings: &[Finding],
    quiet: bool,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let problems = count_problems(findings);
    if quiet && problems == 0 {
        return Ok(());
    }
    for finding in findings {
        if quiet && finding.status != Status::Problem {
            continue;
        }
        let status = match finding.status {
            Status::Ok => "ok     ",
            Status::Problem => "PROBLEM",
            Status::Note => "note   ",
        };
        writeln!(out, "{status} {}: {}", finding.path, finding.message)?;
    }
    match problems {
        0 => writeln!(out, "verdict: the set in {} is good", dir.display()),
        1 => writeln!(out, "verdict: 1 problem in {}", dir.display()),
        n => writeln!(out, "verdict: {n} problems in {}", dir.display()),
    }
}

/// Writes the findings as one JSON document.
pub fn render_json(
    dir: &Path,
    findings: &[Finding],
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let problems = count_problems(findings);
    let document = Document {
        schema: crate::inspect::SCHEMA_VERSION,
        dir: dir.display().to_string(),
        ok: problems == 0,
        problems,
        findings,
    };
    serde_json::to_writer_pretty(&mut *out, &document)?;
    writeln!(out)
}

/// How many findings are problems.
pub fn count_problems(findings: &[Finding]) -> usize {
    findings
        .iter()
        .filter(|f| f.status == Status::Problem)
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_expiry_windows() {
        assert_eq!(parse_window("30d").unwrap(), time::Duration::days(30));
        assert_eq!(parse_window("12h").unwrap(), time::Duration::hours(12));
        assert_eq!(parse_window("2w").unwrap(), time::Duration::weeks(2));
        for bad in ["", "d", "30", "30x", "-1d", "0d", "1.5d", "99999999999w"] {
            assert!(parse_window(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn published_fingerprints_are_well_formed() {
        for cert in published_certs() {
            assert_eq!(cert.fingerprint.len(), 95, "{}", cert.fingerprint);
        }
    }
}
