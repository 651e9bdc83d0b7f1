//! `certgen inspect`: the facts of any TLS file, as aligned text or as JSON.
//!
//! Inspecting does not judge trust; `certgen verify` does that.

use std::collections::BTreeSet;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use anyhow::Result;
use serde::Serialize;
use time::OffsetDateTime;

use crate::decode::{self, FileObjects, Object, Unreadable};
use crate::facts::{self, CertFacts, KeyFacts, RequestFacts};

/// The version of the JSON layout; raised on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

/// One object found in one file.
#[derive(Clone, Debug, Serialize)]
pub struct Entry {
    /// The file, as given or found.
    pub path: String,
    /// Position of the object in its file, from 0 (bundles hold several).
    pub index: usize,
    /// Unix permission bits, such as `0600`; absent where unknown.
    pub mode: Option<String>,
    /// What the object is and says.
    #[serde(flatten)]
    pub facts: Facts,
}

/// The facts of one object, tagged by its kind.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Facts {
    /// An X.509 certificate.
    Certificate(Box<CertFacts>),
    /// A PKCS#10 certificate request.
    CertificateRequest(RequestFacts),
    /// A private key (never its content).
    PrivateKey(KeyFacts),
    /// A password-protected private key, not opened.
    EncryptedPrivateKey,
    /// An openssl serial file.
    SerialFile {
        /// The last serial issued, upper-case hex.
        serial: String,
    },
    /// A PEM block certgen does not read.
    Unsupported {
        /// Its PEM label.
        label: String,
    },
}

/// The JSON document `inspect --json` prints.
#[derive(Serialize)]
pub struct Document<'a> {
    /// [`SCHEMA_VERSION`].
    pub schema: u32,
    /// Every object, in the order of the paths given.
    pub objects: &'a [Entry],
    /// Files of the folders given that look like TLS files but could not be
    /// read; empty when every one could.
    pub unreadable: &'a [Unreadable],
}

/// What `inspect` found.
#[derive(Debug, Default)]
pub struct Inspection {
    /// Every object, in the order of the paths given.
    pub entries: Vec<Entry>,
    /// Files in the folders given that look like TLS files but do not decode.
    pub unreadable: Vec<Unreadable>,
}

/// Decodes every path (files, and the files of folders) into entries, and
/// finds for each private key the certificates and requests that hold its
/// public key, among those given and those beside the key.
pub fn inspect(paths: &[PathBuf], now: OffsetDateTime) -> Result<Inspection> {
    let decoded = decode::read_paths(paths)?;
    let mut entries = entries_of(&decoded.files, now)?;
    match_keys(&mut entries, now);
    Ok(Inspection {
        entries,
        unreadable: decoded.unreadable,
    })
}

/// The entries of decoded files.
pub fn entries_of(files: &[FileObjects], now: OffsetDateTime) -> Result<Vec<Entry>> {
    let mut entries = Vec::new();
    for file in files {
        let mode = file_mode(&file.path);
        for (index, object) in file.objects.iter().enumerate() {
            entries.push(Entry {
                path: file.path.display().to_string(),
                index,
                mode: mode.clone(),
                facts: facts_of(object, now)?,
            });
        }
    }
    Ok(entries)
}

fn facts_of(object: &Object, now: OffsetDateTime) -> Result<Facts> {
    Ok(match object {
        Object::Certificate(der) => Facts::Certificate(Box::new(facts::certificate(der, now)?)),
        Object::Request(der) => Facts::CertificateRequest(facts::request(der)?),
        Object::PrivateKey { der, format } => Facts::PrivateKey(facts::private_key(der, *format)),
        Object::EncryptedKey => Facts::EncryptedPrivateKey,
        Object::Serial(serial) => Facts::SerialFile {
            serial: serial.to_string(),
        },
        Object::Other { label } => Facts::Unsupported {
            label: facts::clean(label),
        },
    })
}

/// Fills each key's `matches` from the entries given and the files in the
/// key's own folder.
fn match_keys(entries: &mut [Entry], now: OffsetDateTime) {
    let mut neighbours: Vec<Entry> = Vec::new();
    let key_dirs: BTreeSet<PathBuf> = entries
        .iter()
        .filter(|e| matches!(e.facts, Facts::PrivateKey(_)))
        .map(|e| parent(Path::new(&e.path)))
        .collect();
    for dir in key_dirs {
        if let Ok(folder) = decode::read_folder(&dir) {
            // A neighbour that fails to parse is not a match; skip it.
            neighbours.extend(entries_of(&folder.files, now).unwrap_or_default());
        }
    }
    // The same file may be both given and found beside a key, spelled
    // differently (`server.pem`, `./server.pem`); keep its first spelling.
    let mut seen = BTreeSet::new();
    let candidates: Vec<(String, Vec<u8>)> = entries
        .iter()
        .chain(&neighbours)
        .filter_map(|e| match &e.facts {
            Facts::Certificate(c) => Some((e, c.public_key_bits.clone())),
            Facts::CertificateRequest(r) => Some((e, r.public_key_bits.clone())),
            _ => None,
        })
        .filter(|(e, _)| {
            let identity = std::fs::canonicalize(&e.path).unwrap_or_else(|_| e.path.clone().into());
            seen.insert((identity, e.index))
        })
        .map(|(e, bits)| (e.path.clone(), bits))
        .collect();
    for entry in entries.iter_mut() {
        let Facts::PrivateKey(key) = &mut entry.facts else {
            continue;
        };
        if key.public_key_bits.is_empty() {
            continue;
        }
        let mut matches: Vec<String> = candidates
            .iter()
            .filter(|(_, bits)| *bits == key.public_key_bits)
            .map(|(path, _)| path.clone())
            .collect();
        matches.dedup();
        key.matches = matches;
    }
}

fn parent(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

#[cfg(unix)]
fn file_mode(path: &Path) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o7777;
    Some(format!("{mode:04o}"))
}

#[cfg(not(unix))]
fn file_mode(_: &Path) -> Option<String> {
    None
}

/// Writes the entries, and the files that could not be read, as JSON: one
/// document.
pub fn render_json(
    entries: &[Entry],
    unreadable: &[Unreadable],
    out: &mut dyn Write,
) -> io::Result<()> {
    let document = Document {
        schema: SCHEMA_VERSION,
        objects: entries,
        unreadable,
    };
    serde_json::to_writer_pretty(&mut *out, &document)?;
    writeln!(out)
}

/// Writes the entries as aligned text, a block per object.
pub fn render_text(entries: &[Entry], out: &mut dyn Write) -> io::Result<()> {
    for (number, entry) in entries.iter().enumerate() {
        if number > 0 {
            writeln!(out)?;
        }
        let place = if entry.index > 0 {
            format!("{} (object {})", entry.path, entry.index + 1)
        } else {
            entry.path.clone()
        };
        writeln!(out, "{place}: {}", kind_name(&entry.facts))?;
        for (label, value) in lines(entry) {
            writeln!(out, "  {label:<14} {value}")?;
        }
    }
    Ok(())
}

fn kind_name(facts: &Facts) -> &'static str {
    match facts {
        Facts::Certificate(c) if c.basic_constraints.as_ref().is_some_and(|b| b.ca) => {
            "CA certificate"
        }
        Facts::Certificate(_) => "certificate",
        Facts::CertificateRequest(_) => "certificate request",
        Facts::PrivateKey(_) => "private key",
        Facts::EncryptedPrivateKey => "encrypted private key",
        Facts::SerialFile { .. } => "serial file",
        Facts::Unsupported { .. } => "unsupported PEM block",
    }
}

/// The label-value lines of one entry.
fn lines(entry: &Entry) -> Vec<(&'static str, String)> {
    let mut lines = Vec::new();
    match &entry.facts {
        Facts::Certificate(cert) => certificate_lines(cert, &mut lines),
        Facts::CertificateRequest(req) => {
            lines.push(("subject", req.subject.clone()));
            lines.push(("key", req.public_key.to_string()));
            lines.push(("signature", req.signature_algorithm.clone()));
            let verdict = if req.signature_valid {
                "valid (signed by its own key)"
            } else {
                "INVALID: not signed by the key it carries"
            };
            lines.push(("self-signature", verdict.to_owned()));
            lines.push(("SANs", list_or_none(&req.sans)));
        }
        Facts::PrivateKey(key) => {
            lines.push(("format", key.format.name().to_owned()));
            match (&key.public_key, &key.problem) {
                (Some(info), _) => lines.push(("key", info.to_string())),
                (None, Some(problem)) => lines.push(("problem", problem.clone())),
                (None, None) => {}
            }
            if key.problem.is_none() {
                let matches = if key.matches.is_empty() {
                    "no certificate or request beside it".to_owned()
                } else {
                    key.matches.join(", ")
                };
                lines.push(("matches", matches));
            }
        }
        Facts::EncryptedPrivateKey => {
            lines.push((
                "note",
                "password-protected; certgen does not open it".to_owned(),
            ));
        }
        Facts::SerialFile { serial } => lines.push(("last serial", serial.clone())),
        Facts::Unsupported { label } => lines.push(("label", label.clone())),
    }
    if let Some(mode) = &entry.mode {
        lines.push(("mode", mode.clone()));
    }
    lines
}

fn certificate_lines(cert: &CertFacts, lines: &mut Vec<(&'static str, String)>) {
    lines.push(("subject", cert.subject.clone()));
    let issuer = if cert.self_issued {
        format!("{} (self-issued)", cert.issuer)
    } else {
        cert.issuer.clone()
    };
    lines.push(("issuer", issuer));
    lines.push(("serial", cert.serial.clone()));
    lines.push(("not before", cert.not_before.clone()));
    let left = match cert.time_status {
        facts::TimeStatus::Expired => format!("expired {} ago", facts::days(-cert.days_left)),
        facts::TimeStatus::NotYetValid => "not valid yet".to_owned(),
        facts::TimeStatus::Valid => format!("{} left", facts::days(cert.days_left)),
    };
    lines.push(("not after", format!("{} ({left})", cert.not_after)));
    lines.push(("key", cert.public_key.to_string()));
    lines.push(("signature", cert.signature_algorithm.clone()));
    lines.push(("SANs", list_or_none(&cert.sans)));
    let usage = match &cert.key_usage {
        Some(ku) => critical(ku.usages.join(", "), ku.critical),
        None => "none".to_owned(),
    };
    lines.push(("key usage", usage));
    lines.push(("ext key usage", list_or_none(&cert.extended_key_usage)));
    let basic = match &cert.basic_constraints {
        Some(bc) if bc.ca => {
            let len = bc
                .path_len
                .map(|n| format!(", pathlen:{n}"))
                .unwrap_or_default();
            critical(format!("CA:TRUE{len}"), bc.critical)
        }
        Some(bc) => critical("CA:FALSE".to_owned(), bc.critical),
        None => "none".to_owned(),
    };
    lines.push(("basic", basic));
    if let Some(id) = &cert.subject_key_id {
        lines.push(("subject key id", id.clone()));
    }
    if let Some(id) = &cert.authority_key_id {
        lines.push(("auth. key id", id.clone()));
    }
    lines.push(("sha256", cert.sha256_fingerprint.clone()));
}

fn critical(text: String, critical: bool) -> String {
    if critical {
        format!("{text} (critical)")
    } else {
        text
    }
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_owned()
    } else {
        items.join(", ")
    }
}
