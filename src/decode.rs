//! Reading TLS files of any origin: PEM or DER certificates (one or a
//! bundle), certificate requests, private keys in PKCS#8, PKCS#1 or SEC1
//! form, and openssl serial files. Each file becomes a list of [`Object`]s;
//! nothing here judges them.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use x509_parser::certification_request::X509CertificationRequest;
use x509_parser::error::X509Error;
use x509_parser::nom;
use x509_parser::prelude::{parse_x509_certificate, FromDer};

use crate::files;
use crate::serial::Serial;

/// Files larger than this are refused unread: the largest real bundles
/// (system trust stores) are a few hundred kilobytes.
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// How a private key is encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum KeyFormat {
    /// PKCS#8 `PRIVATE KEY`, what certgen and OpenSSL 3 write.
    #[serde(rename = "PKCS#8")]
    Pkcs8,
    /// PKCS#1 `RSA PRIVATE KEY`, from older openssl or `genrsa -traditional`.
    #[serde(rename = "PKCS#1")]
    Pkcs1,
    /// SEC1 `EC PRIVATE KEY`, from `openssl ecparam -genkey`.
    #[serde(rename = "SEC1")]
    Sec1,
}

impl KeyFormat {
    /// The name used in output.
    pub fn name(self) -> &'static str {
        match self {
            KeyFormat::Pkcs8 => "PKCS#8",
            KeyFormat::Pkcs1 => "PKCS#1",
            KeyFormat::Sec1 => "SEC1",
        }
    }
}

/// One thing found in a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Object {
    /// An X.509 certificate, DER. Parses with x509-parser.
    Certificate(Vec<u8>),
    /// A PKCS#10 certificate request, DER. Parses with x509-parser.
    Request(Vec<u8>),
    /// A private key, DER, in the given encoding; not yet checked.
    PrivateKey {
        /// The key's DER.
        der: Vec<u8>,
        /// Its encoding.
        format: KeyFormat,
    },
    /// A password-protected PKCS#8 key, which certgen does not open.
    EncryptedKey,
    /// The content of a serial file.
    Serial(Serial),
    /// A PEM block of a kind certgen does not read, such as `PUBLIC KEY`.
    Other {
        /// The PEM label.
        label: String,
    },
}

impl Object {
    /// The DER of a certificate; `None` for any other object.
    pub fn as_certificate(&self) -> Option<&[u8]> {
        match self {
            Object::Certificate(der) => Some(der),
            _ => None,
        }
    }

    /// The DER of a certificate request; `None` for any other object.
    pub fn as_request(&self) -> Option<&[u8]> {
        match self {
            Object::Request(der) => Some(der),
            _ => None,
        }
    }
}

/// The objects of one file.
#[derive(Debug)]
pub struct FileObjects {
    /// The file, as named on the command line or found in a folder.
    pub path: PathBuf,
    /// What it holds, in file order.
    pub objects: Vec<Object>,
}

/// A file of a folder that has the name or the content of a TLS file, but
/// could not be read or decoded: a truncated `server.pem`, an empty
/// `ca.key`. Reported, never silently skipped.
#[derive(Debug, serde::Serialize)]
pub struct Unreadable {
    /// The file.
    pub path: PathBuf,
    /// Why, on one line.
    pub error: String,
}

/// What a set of paths holds.
#[derive(Debug, Default)]
pub struct Decoded {
    /// The files that decoded, in the order of the paths given.
    pub files: Vec<FileObjects>,
    /// Files in the folders given that look like TLS files but did not decode.
    pub unreadable: Vec<Unreadable>,
}

/// Reads every path: a file must decode; a folder contributes each of its
/// files (not subfolders) that decodes, in name order, and reports those that
/// look like TLS files but do not decode; any other file is skipped.
pub fn read_paths(paths: &[PathBuf]) -> Result<Decoded> {
    let mut found = Decoded::default();
    for path in paths {
        let meta =
            fs::metadata(path).with_context(|| format!("failed to read {}", path.display()))?;
        if meta.is_dir() {
            let folder = read_folder(path)?;
            found.files.extend(folder.files);
            found.unreadable.extend(folder.unreadable);
        } else {
            let objects = read_file(path)?;
            found.files.push(FileObjects {
                path: path.clone(),
                objects,
            });
        }
    }
    Ok(found)
}

/// The files of one folder, in name order: those that decode, and those
/// that look like TLS files but do not. certgen's own temporary files are
/// left out: they are a run's work in progress or a killed run's remains,
/// which the next issuing run removes.
pub fn read_folder(dir: &Path) -> Result<Decoded> {
    let mut found = Decoded::default();
    for path in list_files(dir)? {
        if files::is_temporary(&path) {
            continue;
        }
        match read_file(&path) {
            Ok(objects) => found.files.push(FileObjects { path, objects }),
            // Read again only for a file that failed without a TLS name.
            Err(error)
                if named_like_tls(&path)
                    || read_bytes(&path).is_ok_and(|b| contains(&b, b"-----BEGIN ")) =>
            {
                let error = format!("{error:#}");
                found.unreadable.push(Unreadable { path, error });
            }
            Err(_) => {}
        }
    }
    Ok(found)
}

/// Whether a file's name says it is a TLS file, by the endings certgen,
/// openssl and the usual tools give them.
pub fn named_like_tls(path: &Path) -> bool {
    const ENDINGS: [&str; 9] = ["pem", "crt", "cer", "der", "key", "csr", "req", "srl", "p8"];
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| ENDINGS.iter().any(|x| x.eq_ignore_ascii_case(e)))
}

/// The regular files of one folder (not its subfolders), in name order.
/// Files of the current folder are named plainly (`server.pem`, not
/// `./server.pem`), as a user would type them.
pub fn list_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = fs::read_dir(dir)
        .with_context(|| format!("failed to read the folder {}", dir.display()))?;
    let here = dir == Path::new(".");
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok())
        .map(|e| {
            if here {
                PathBuf::from(e.file_name())
            } else {
                e.path()
            }
        })
        .filter(|path| path.is_file())
        .collect();
    paths.sort();
    Ok(paths)
}

/// Reads one file, naming it in any error.
pub fn read_file(path: &Path) -> Result<Vec<Object>> {
    let bytes = read_bytes(path)?;
    decode(&bytes).with_context(|| path.display().to_string())
}

/// The bytes of a regular file of at most [`MAX_FILE_BYTES`].
///
/// The size is checked on the open file and the read is bounded too, since
/// a size can lie: `/dev/zero` and `/proc` files say 0. Pipes and devices
/// are refused outright, as reading one may never end.
fn read_bytes(path: &Path) -> Result<Vec<u8>> {
    let failed = || format!("failed to read {}", path.display());
    let not_regular = || anyhow!("{}: not a regular file; not read", path.display());
    // Looked at before opening, as opening a pipe waits for a writer.
    if !fs::metadata(path).with_context(failed)?.is_file() {
        return Err(not_regular());
    }
    let file = fs::File::open(path).with_context(failed)?;
    let meta = file.metadata().with_context(failed)?;
    if !meta.is_file() {
        return Err(not_regular());
    }
    // `size` is what is known of the length: the file's own for a file
    // that says it is too big, a bound for one that said less and read more.
    let too_big = |size: String| {
        anyhow!(
            "{}: the file is {size}, more than the {} MiB of any TLS file; not read",
            path.display(),
            MAX_FILE_BYTES / (1024 * 1024)
        )
    };
    if meta.len() > MAX_FILE_BYTES {
        return Err(too_big(format!("{} bytes", meta.len())));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .with_context(failed)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_big("larger than it said".to_owned()));
    }
    Ok(bytes)
}

/// Decodes a file's bytes: PEM blocks, a serial file, or a single DER object.
pub fn decode(bytes: &[u8]) -> Result<Vec<Object>> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        bail!("the file is empty");
    }
    if contains(bytes, b"-----BEGIN ") {
        return decode_pem(bytes);
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        let trimmed = text.trim();
        if !trimmed.is_empty() && trimmed.chars().all(|c| c.is_ascii_hexdigit()) {
            return Ok(vec![Object::Serial(Serial::parse_srl(text)?)]);
        }
    }
    decode_der(bytes).map(|object| vec![object])
}

fn decode_pem(bytes: &[u8]) -> Result<Vec<Object>> {
    let blocks = pem::parse_many(bytes).map_err(|e| anyhow!("malformed PEM: {e}"))?;
    if blocks.is_empty() {
        bail!("a PEM block has no END line; the file looks truncated");
    }
    let begins = count(bytes, b"-----BEGIN ");
    if begins > blocks.len() {
        bail!("a PEM block has no END line; the file looks truncated");
    }
    blocks
        .into_iter()
        .enumerate()
        .map(|(index, block)| {
            from_pem_block(block).with_context(|| format!("PEM block {}", index + 1))
        })
        .collect()
}

fn from_pem_block(block: pem::Pem) -> Result<Object> {
    let label = block.tag().to_owned();
    let der = block.into_contents();
    if der.is_empty() {
        bail!("the {label} block is empty");
    }
    let object = match label.as_str() {
        // "TRUSTED CERTIFICATE" is openssl's certificate plus trust settings;
        // the certificate comes first and parses alone.
        "CERTIFICATE" | "X509 CERTIFICATE" | "TRUSTED CERTIFICATE" => {
            Object::Certificate(certificate_alone(&der)?)
        }
        "CERTIFICATE REQUEST" | "NEW CERTIFICATE REQUEST" => {
            X509CertificationRequest::from_der(&der).map_err(|e| {
                anyhow!(
                    "the certificate request could not be parsed: {}",
                    parse_problem("a certificate request", &e)
                )
            })?;
            Object::Request(der)
        }
        "PRIVATE KEY" | "RSA PRIVATE KEY" | "EC PRIVATE KEY" => {
            // The label names the encoding; the content must at least be
            // shaped like a private key, so that a certificate pasted under
            // a key's label is called what it is.
            if key_format(&der).is_none() {
                bail!("the {label} block does not hold a private key");
            }
            let format = match label.as_str() {
                "RSA PRIVATE KEY" => KeyFormat::Pkcs1,
                "EC PRIVATE KEY" => KeyFormat::Sec1,
                _ => KeyFormat::Pkcs8,
            };
            Object::PrivateKey { der, format }
        }
        "ENCRYPTED PRIVATE KEY" => Object::EncryptedKey,
        _ => Object::Other { label },
    };
    Ok(object)
}

/// The DER of the certificate at the start of `bytes`, without what may
/// follow it (openssl's trust settings in a `TRUSTED CERTIFICATE`), so
/// that fingerprints are those of the certificate alone.
fn certificate_alone(bytes: &[u8]) -> Result<Vec<u8>> {
    let (rest, _) = parse_x509_certificate(bytes).map_err(|e| {
        anyhow!(
            "the certificate could not be parsed: {}",
            parse_problem("a certificate", &e)
        )
    })?;
    Ok(bytes[..bytes.len() - rest.len()].to_vec())
}

/// A lone DER object: a certificate, a request or a private key, tried in
/// that order.
fn decode_der(bytes: &[u8]) -> Result<Object> {
    if let Ok(der) = certificate_alone(bytes) {
        return Ok(Object::Certificate(der));
    }
    if X509CertificationRequest::from_der(bytes).is_ok() {
        return Ok(Object::Request(bytes.to_vec()));
    }
    let Some(format) = key_format(bytes) else {
        bail!("not a certificate, request, private key or serial file (PEM or DER)");
    };
    Ok(Object::PrivateKey {
        der: bytes.to_vec(),
        format,
    })
}

/// The encoding a private key's DER is shaped like, told from its first
/// fields (as rustls tells them); `None` when it is not shaped like a key.
fn key_format(der: &[u8]) -> Option<KeyFormat> {
    use rustls::pki_types::PrivateKeyDer;
    match PrivateKeyDer::try_from(der) {
        Ok(PrivateKeyDer::Pkcs8(_)) => Some(KeyFormat::Pkcs8),
        Ok(PrivateKeyDer::Pkcs1(_)) => Some(KeyFormat::Pkcs1),
        Ok(PrivateKeyDer::Sec1(_)) => Some(KeyFormat::Sec1),
        _ => None,
    }
}

/// Why x509-parser refused `what` ("a certificate"), in words: its DER
/// errors print as Rust debug output (`Der(UnexpectedTag { .. })`).
pub fn parse_problem(what: &str, error: &nom::Err<X509Error>) -> String {
    match error {
        nom::Err::Incomplete(_) => "the data ends too early".to_owned(),
        nom::Err::Error(X509Error::Der(_)) | nom::Err::Failure(X509Error::Der(_)) => {
            format!("the content is not {what} in DER")
        }
        nom::Err::Error(other) | nom::Err::Failure(other) => other.to_string(),
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    count(haystack, needle) > 0
}

fn count(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .filter(|w| *w == needle)
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    const JUNK_CERT: &str = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";

    #[test]
    fn rejects_empty_and_garbage_input() {
        assert!(decode(b"").is_err());
        assert!(decode(b"  \n").is_err());
        assert!(decode(b"hello world").is_err());
        assert!(decode(&[0x30, 0x03, 0x02, 0x01]).is_err());
        assert!(decode(JUNK_CERT.as_bytes()).is_err());
    }

    #[test]
    fn rejects_truncated_pem() {
        let err = decode(b"-----BEGIN CERTIFICATE-----\nMIIB").unwrap_err();
        assert!(format!("{err:#}").contains("truncated"), "{err:#}");
    }

    #[test]
    fn reads_serial_files_and_unknown_blocks() {
        let objects = decode(b"0A1B\n").unwrap();
        assert!(matches!(&objects[..], [Object::Serial(s)] if s.to_string() == "0A1B"));
        let public = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n";
        assert_eq!(
            decode(public.as_bytes()).unwrap(),
            [Object::Other {
                label: "PUBLIC KEY".into()
            }]
        );
        let encrypted =
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n";
        assert_eq!(
            decode(encrypted.as_bytes()).unwrap(),
            [Object::EncryptedKey]
        );
    }
}
