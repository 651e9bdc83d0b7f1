//! `certgen export k8s`: the TLS files of one folder as Kubernetes manifests.
//!
//! certgen writes the YAML itself, so neither kubectl nor a cluster is needed
//! to make it; `kubectl apply -f FILE` loads it. The objects:
//!
//! - `NAME`, a generic (`type: Opaque`) Secret with `server.pem`, `server.key`
//!   and `ca.pem`: the file names milvus-operator mounts and the `tls.*` paths
//!   of milvus.yaml point at. Written for `--layout operator` and `both`.
//! - `NAME-tls`, a `kubernetes.io/tls` Secret with `tls.crt`, `tls.key` and
//!   `ca.crt`: the layout of the Milvus Helm chart and of ingress controllers.
//!   Written for `--layout tls` and `both` (the default).
//! - `NAME-client`, a `kubernetes.io/tls` Secret with the client's certificate
//!   and key and `ca.crt`, for mutual TLS. Written when `client.pem` and
//!   `client.key` are in the folder; otherwise a note on stderr says it was
//!   left out.
//! - With `--cert-manager`: `NAME-ca`, a `kubernetes.io/tls` Secret with the
//!   CA's certificate and key, and a cert-manager `Issuer` named `NAME-ca` of
//!   kind CA that signs with it. Certificates that cert-manager then issues and
//!   renews in the cluster chain to the same `ca.pem` that clients outside
//!   already trust. cert-manager must be installed before the Issuer is applied.
//! - With `--cert-manager --cluster-issuer`: a `ClusterIssuer` instead, which
//!   serves every namespace. A ClusterIssuer has no namespace, and cert-manager
//!   looks for its Secret in its *cluster resource namespace*, `cert-manager`
//!   unless the controller runs with `--cluster-resource-namespace`; so
//!   `NAME-ca` is put in the `cert-manager` namespace, whatever `--namespace`
//!   says. Move it if your cert-manager uses another one.
//!
//! Every namespaced object is in `--namespace` (default `default`) and every
//! object carries the label `app.kubernetes.io/managed-by: certgen`. `--name`
//! and `--namespace` must be Kubernetes names: lowercase letters, digits and
//! `-`, starting and ending with a letter or digit; a namespace has at most 63
//! characters, and NAME at most 246, so that `NAME-client` fits the 253 of an
//! object name.
//!
//! Before anything is written, the set is checked: `ca.pem`, `server.pem` and
//! `server.key` (and `ca.key` for `--cert-manager`) must exist and be readable
//! PEM, and each key must belong to its certificate; a mismatched pair is
//! refused (exit 2) naming both files. Secret values are the files' bytes,
//! base64-encoded, so they decode to exactly what is on disk.
//!
//! The output holds private keys. `--out FILE` writes it owner-only (0600) and
//! never replaces an existing FILE (exit 3). Printed to a terminal, it is
//! followed by a warning on stderr, even with `--quiet`.

use std::fs;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use time::OffsetDateTime;

use crate::cli::{ExportArgs, ExportTarget, SecretLayout};
use crate::decode::{self, Object};
use crate::error::{Failure, Kind, ResultExt};
use crate::facts;
use crate::files::{self, Access, Output};
use crate::issuing::Report;
use crate::quote::shell_word;

/// Where cert-manager looks for a ClusterIssuer's Secret, unless its
/// controller runs with `--cluster-resource-namespace`.
/// <https://cert-manager.io/docs/configuration/#cluster-resource-namespace>
pub const CLUSTER_RESOURCE_NAMESPACE: &str = "cert-manager";

/// The label every object carries, so that `kubectl get -l` finds them.
const MANAGED_BY: (&str, &str) = ("app.kubernetes.io/managed-by", "certgen");

/// A namespace is a DNS-1123 label: at most 63 characters.
const MAX_NAMESPACE: usize = 63;

/// An object name is a DNS-1123 subdomain: at most 253 characters.
const MAX_OBJECT_NAME: usize = 253;

/// The longest suffix added to `--name`; NAME plus it must be a valid name.
const LONGEST_SUFFIX: &str = "-client";

/// The files that go into the manifests, as they are on disk, each key
/// checked against its certificate.
pub struct Set {
    /// The folder they were read from.
    pub dir: PathBuf,
    /// ca.pem.
    pub ca_cert: Vec<u8>,
    /// server.pem and server.key.
    pub server: Pair,
    /// client.pem and client.key, when both exist.
    pub client: Option<Pair>,
    /// ca.key, read only when the CA goes into the cluster (`--cert-manager`).
    pub ca_key: Option<Vec<u8>>,
}

/// A certificate file and the key file that belongs to it.
pub struct Pair {
    /// The certificate file's bytes.
    pub cert: Vec<u8>,
    /// The key file's bytes.
    pub key: Vec<u8>,
}

/// Writes the objects `certgen export` is asked for.
pub fn run(args: &ExportArgs, report: &Report) -> Result<(), Failure> {
    match args.target {
        ExportTarget::K8s => k8s(args, report),
    }
}

fn k8s(args: &ExportArgs, report: &Report) -> Result<(), Failure> {
    check_names(&args.name, &args.namespace).or_fail(Kind::Input)?;
    if let Some(out) = &args.out {
        if files::occupied(out) {
            let error = anyhow!(
                "{} already exists; export never replaces a file: remove it or choose another \
                 --out",
                out.display()
            );
            return Err(Failure::new(Kind::Exists, error));
        }
    }
    let set = read_set(&args.dir, args.cert_manager).or_fail(Kind::Input)?;
    if set.client.is_none() {
        report.line(client_note(args));
    }
    let text = render(args, &set);
    match &args.out {
        Some(out) => {
            write_file(out, &text)?;
            report.line(format!("wrote {}", out.display()));
        }
        None => {
            print(&text)?;
            if std::io::stdout().is_terminal() {
                // Not through `report`: --quiet must not hide this.
                eprintln!(
                    "warning: private keys were printed to this terminal; use --out FILE, or \
                     pipe the output to `kubectl apply -f -`"
                );
            }
        }
    }
    Ok(())
}

/// Checks `--name` and `--namespace` the way the Kubernetes API server will,
/// so that a bad one fails here and not halfway through `kubectl apply`.
pub fn check_names(name: &str, namespace: &str) -> Result<()> {
    let namespace_limit = format!("a namespace has at most {MAX_NAMESPACE}");
    check_dns_label("--namespace", namespace, MAX_NAMESPACE, &namespace_limit)?;
    let max_name = MAX_OBJECT_NAME - LONGEST_SUFFIX.len();
    let name_limit = format!(
        "at most {max_name}, so that NAME{LONGEST_SUFFIX} fits Kubernetes' {MAX_OBJECT_NAME}"
    );
    check_dns_label("--name", name, max_name, &name_limit)
}

/// Lowercase letters, digits and '-', starting and ending with a letter or
/// digit (RFC 1123 host name rules, as Kubernetes applies them).
fn check_dns_label(flag: &str, value: &str, max: usize, limit: &str) -> Result<()> {
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
    if value.is_empty() {
        bail!("{flag} is empty; Kubernetes needs a name");
    }
    if !value.chars().all(allowed) || value.starts_with('-') || value.ends_with('-') {
        bail!(
            "{flag} {value:?} is not a Kubernetes name: use lowercase letters, digits and '-', \
             starting and ending with a letter or digit"
        );
    }
    if value.len() > max {
        bail!("{flag} is {} characters long: {limit}", value.len());
    }
    Ok(())
}

/// Reads and checks the files of `dir`: ca.pem, the server's pair, the
/// client's pair when both files exist, and ca.key when `with_ca_key`.
pub fn read_set(dir: &Path, with_ca_key: bool) -> Result<Set> {
    if !dir.is_dir() {
        bail!(
            "{} is not a folder; --dir names the folder with the TLS files",
            dir.display()
        );
    }
    let absent = missing(dir, &["ca.pem", "server.pem", "server.key"]);
    if !absent.is_empty() {
        bail!(
            "{} has no {}; export needs ca.pem, server.pem and server.key \
             (`certgen all --out {}` makes them)",
            dir.display(),
            absent.join(", "),
            dir.display()
        );
    }
    let ca_path = in_dir(dir, "ca.pem");
    let (ca_cert, ca_public_key) = read_cert(&ca_path)?;
    let server = read_pair(dir, "server")?;
    let client = if missing(dir, &["client.pem", "client.key"]).is_empty() {
        Some(read_pair(dir, "client")?)
    } else {
        None
    };
    let ca_key = if with_ca_key {
        let key_path = in_dir(dir, "ca.key");
        if !files::occupied(&key_path) {
            bail!(
                "--cert-manager needs the CA's key, for cert-manager to sign with, and {} does \
                 not exist",
                key_path.display()
            );
        }
        let (key, public_key) = read_key(&key_path)?;
        check_belongs(&key_path, &public_key, &ca_path, &ca_public_key)?;
        Some(key)
    } else {
        None
    };
    Ok(Set {
        dir: dir.to_path_buf(),
        ca_cert,
        server,
        client,
        ca_key,
    })
}

/// Reads STEM.pem and STEM.key and checks that they belong together.
fn read_pair(dir: &Path, stem: &str) -> Result<Pair> {
    let cert_path = in_dir(dir, &format!("{stem}.pem"));
    let key_path = in_dir(dir, &format!("{stem}.key"));
    let (cert, cert_public_key) = read_cert(&cert_path)?;
    let (key, key_public_key) = read_key(&key_path)?;
    check_belongs(&key_path, &key_public_key, &cert_path, &cert_public_key)?;
    Ok(Pair { cert, key })
}

fn check_belongs(key_path: &Path, key: &[u8], cert_path: &Path, cert: &[u8]) -> Result<()> {
    if key != cert {
        bail!(
            "{} does not belong to {}: their public keys differ (keys swapped, or files from \
             different runs)",
            key_path.display(),
            cert_path.display()
        );
    }
    Ok(())
}

/// A PEM certificate file's bytes and the public key of its first
/// certificate (the leaf, when the file is a chain).
fn read_cert(path: &Path) -> Result<(Vec<u8>, Vec<u8>)> {
    let (bytes, objects) = read_pem(path)?;
    let der = objects
        .iter()
        .find_map(Object::as_certificate)
        .ok_or_else(|| anyhow!("{}: holds no certificate", path.display()))?;
    let facts = facts::certificate(der, OffsetDateTime::now_utc())
        .with_context(|| path.display().to_string())?;
    Ok((bytes, facts.public_key_bits))
}

/// A PEM key file's bytes and the public key of the key in it.
fn read_key(path: &Path) -> Result<(Vec<u8>, Vec<u8>)> {
    let (bytes, objects) = read_pem(path)?;
    for object in objects {
        match object {
            Object::PrivateKey { der, format } => {
                let facts = facts::private_key(&der, format);
                if let Some(problem) = facts.problem {
                    bail!("{}: {problem}", path.display());
                }
                return Ok((bytes, facts.public_key_bits));
            }
            Object::EncryptedKey => bail!(
                "{}: the key is password-protected; Milvus reads keys in the clear, so \
                 decrypt it first (openssl pkey -in KEY -out KEY.plain)",
                path.display()
            ),
            _ => {}
        }
    }
    bail!("{}: holds no private key", path.display())
}

/// A file's bytes and what they decode to; DER is refused, because the
/// pods read the Secret's values as PEM files.
fn read_pem(path: &Path) -> Result<(Vec<u8>, Vec<Object>)> {
    let size = fs::metadata(path)
        .with_context(|| format!("failed to read {}", path.display()))?
        .len();
    if size > decode::MAX_FILE_BYTES {
        bail!(
            "{}: the file is {size} bytes, too large for a TLS file",
            path.display()
        );
    }
    let bytes = fs::read(path).with_context(|| format!("failed to read {}", path.display()))?;
    let objects = decode::decode(&bytes).with_context(|| path.display().to_string())?;
    if !bytes.windows(11).any(|w| w == b"-----BEGIN ") {
        bail!(
            "{}: the file is DER, and Milvus and ingress controllers read PEM; convert it \
             (openssl x509 -inform der, or openssl pkey -inform der) and export again",
            path.display()
        );
    }
    Ok((bytes, objects))
}

/// The names in `names` that `dir` does not hold.
fn missing(dir: &Path, names: &[&'static str]) -> Vec<&'static str> {
    names
        .iter()
        .copied()
        .filter(|name| !in_dir(dir, name).is_file())
        .collect()
}

/// `dir/name`, or plain `name` in the current folder, as a user types it.
fn in_dir(dir: &Path, name: &str) -> PathBuf {
    if dir == Path::new(".") {
        PathBuf::from(name)
    } else {
        dir.join(name)
    }
}

fn client_note(args: &ExportArgs) -> String {
    let absent = missing(&args.dir, &["client.pem", "client.key"]);
    format!(
        "note: no {}-client Secret for mutual TLS: {} has no {} (`certgen client --out {}` \
         makes the pair)",
        args.name,
        args.dir.display(),
        absent.join(" and "),
        args.dir.display()
    )
}

/// The manifests: a comment header, then one YAML document per object,
/// separated by `---`. The text depends only on the arguments and the files,
/// so the same input always gives the same bytes.
pub fn render(args: &ExportArgs, set: &Set) -> String {
    let mut docs = Vec::new();
    let operator = matches!(args.layout, SecretLayout::Operator | SecretLayout::Both);
    let tls = matches!(args.layout, SecretLayout::Tls | SecretLayout::Both);
    if operator {
        docs.push(operator_secret(args, set));
    }
    if tls {
        docs.push(tls_secret(args, set));
    }
    if let Some(client) = &set.client {
        docs.push(client_secret(args, set, client));
    }
    if let Some(ca_key) = &set.ca_key {
        docs.push(ca_secret(args, set, ca_key));
        docs.push(issuer(args));
    }
    let mut text = header(args, set);
    text.push_str(&docs.join("---\n"));
    text
}

fn header(args: &ExportArgs, set: &Set) -> String {
    let dir = fs::canonicalize(&set.dir).unwrap_or_else(|_| set.dir.clone());
    let apply = match &args.out {
        Some(out) => format!(
            "Apply with: kubectl apply -f {}",
            shell_word(&out.to_string_lossy())
        ),
        None => "Apply with `kubectl apply -f FILE` once saved as FILE, or pipe it to \
                 `kubectl apply -f -`."
            .to_owned(),
    };
    let mut lines = vec![
        format!(
            "Kubernetes objects made by `certgen export k8s` from the TLS files in {}.",
            dir.display()
        ),
        "They hold private keys: keep them owner-only and out of version control.".to_owned(),
        apply,
    ];
    if args.namespace != "default" {
        lines.push(format!(
            "The namespace {} must exist first: kubectl create namespace {}",
            args.namespace, args.namespace
        ));
    }
    if args.cert_manager {
        lines.push(
            "cert-manager must be installed before this is applied: the issuer is one of its \
             resource kinds."
                .to_owned(),
        );
    }
    let mut text = comment(&lines);
    text.push('\n');
    text
}

fn operator_secret(args: &ExportArgs, set: &Set) -> String {
    let data = [
        ("ca.pem", set.ca_cert.as_slice()),
        ("server.key", &set.server.key),
        ("server.pem", &set.server.cert),
    ];
    let note = "The milvus-operator layout: server.pem, server.key and ca.pem, the file names \
                that milvus.yaml's tls.* paths use.";
    secret(note, &args.name, &args.namespace, "Opaque", &data)
}

fn tls_secret(args: &ExportArgs, set: &Set) -> String {
    let data = [
        ("ca.crt", set.ca_cert.as_slice()),
        ("tls.crt", &set.server.cert),
        ("tls.key", &set.server.key),
    ];
    let note = "The server's pair in the kubernetes.io/tls layout of the Milvus Helm chart and \
                ingress controllers, with the CA as ca.crt.";
    let name = format!("{}-tls", args.name);
    secret(note, &name, &args.namespace, "kubernetes.io/tls", &data)
}

fn client_secret(args: &ExportArgs, set: &Set, client: &Pair) -> String {
    let data = [
        ("ca.crt", set.ca_cert.as_slice()),
        ("tls.crt", &client.cert),
        ("tls.key", &client.key),
    ];
    let note = "The client's pair, for mutual TLS (tlsMode 2): mount it in the pods that \
                connect to Milvus.";
    let name = format!("{}-client", args.name);
    secret(note, &name, &args.namespace, "kubernetes.io/tls", &data)
}

fn ca_secret(args: &ExportArgs, set: &Set, ca_key: &[u8]) -> String {
    let data = [("tls.crt", set.ca_cert.as_slice()), ("tls.key", ca_key)];
    let name = format!("{}-ca", args.name);
    if args.cluster_issuer {
        let not_namespace = if args.namespace == CLUSTER_RESOURCE_NAMESPACE {
            String::new()
        } else {
            format!(", not {},", args.namespace)
        };
        let note = format!(
            "The CA's certificate and key, for the ClusterIssuer below to sign with. It is in \
             the namespace {CLUSTER_RESOURCE_NAMESPACE}{not_namespace} because cert-manager \
             reads a ClusterIssuer's Secret from its cluster resource namespace, which is \
             {CLUSTER_RESOURCE_NAMESPACE} unless the controller runs with \
             --cluster-resource-namespace; if yours does, change the namespace here to match."
        );
        secret(
            &note,
            &name,
            CLUSTER_RESOURCE_NAMESPACE,
            "kubernetes.io/tls",
            &data,
        )
    } else {
        let note = "The CA's certificate and key, for the Issuer below to sign with; an Issuer \
                    reads its Secret from its own namespace.";
        secret(note, &name, &args.namespace, "kubernetes.io/tls", &data)
    }
}

fn issuer(args: &ExportArgs) -> String {
    let name = format!("{}-ca", args.name);
    let (kind, namespace, note) = if args.cluster_issuer {
        let note = "A cert-manager ClusterIssuer signing with the CA above, for Certificates in \
                    every namespace. It is cluster-scoped, so it has no namespace.";
        ("ClusterIssuer", None, note)
    } else {
        let note = "A cert-manager Issuer signing with the CA above, for Certificates in this \
                    namespace: they chain to the same ca.pem as the files.";
        ("Issuer", Some(args.namespace.as_str()), note)
    };
    let mut doc = comment(&[note]);
    field(&mut doc, 0, "apiVersion", "cert-manager.io/v1");
    field(&mut doc, 0, "kind", kind);
    metadata(&mut doc, &name, namespace);
    doc.push_str("spec:\n  ca:\n");
    field(&mut doc, 2, "secretName", &name);
    doc
}

/// One Secret, its data keys sorted as kubectl sorts them.
fn secret(note: &str, name: &str, namespace: &str, kind: &str, data: &[(&str, &[u8])]) -> String {
    let mut doc = comment(&[note]);
    field(&mut doc, 0, "apiVersion", "v1");
    field(&mut doc, 0, "kind", "Secret");
    metadata(&mut doc, name, Some(namespace));
    field(&mut doc, 0, "type", kind);
    doc.push_str("data:\n");
    let mut data = data.to_vec();
    data.sort_by_key(|(key, _)| *key);
    for (key, bytes) in data {
        field(&mut doc, 1, key, &BASE64.encode(bytes));
    }
    doc
}

fn metadata(doc: &mut String, name: &str, namespace: Option<&str>) {
    doc.push_str("metadata:\n");
    field(doc, 1, "name", name);
    if let Some(namespace) = namespace {
        field(doc, 1, "namespace", namespace);
    }
    doc.push_str("  labels:\n");
    field(doc, 2, MANAGED_BY.0, MANAGED_BY.1);
}

/// `key: value` at `depth` levels of two-space indentation.
fn field(doc: &mut String, depth: usize, key: &str, value: &str) {
    let indent = "  ".repeat(depth);
    doc.push_str(&format!("{indent}{}: {}\n", scalar(key), scalar(value)));
}

/// A YAML scalar that reads back as the string `value`: plain when no YAML
/// 1.1 or 1.2 parser could take it for anything else, double-quoted
/// otherwise. Plain means: starts with a letter, holds only letters, digits
/// and `-._/+=`, and is not a boolean or null word (`yes`, `off`, `null`...),
/// so numbers, dates, `.inf` and `~` are all quoted.
pub fn scalar(value: &str) -> String {
    const WORDS: [&str; 9] = ["y", "n", "yes", "no", "on", "off", "true", "false", "null"];
    let starts_with_letter = value.starts_with(|c: char| c.is_ascii_alphabetic());
    let safe = |c: char| c.is_ascii_alphanumeric() || "-._/+=".contains(c);
    let word = WORDS.iter().any(|w| w.eq_ignore_ascii_case(value));
    if starts_with_letter && value.chars().all(safe) && !word {
        return value.to_owned();
    }
    let mut quoted = String::with_capacity(value.len() + 2);
    quoted.push('"');
    for c in value.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            '\n' => quoted.push_str("\\n"),
            '\t' => quoted.push_str("\\t"),
            c if breaks_lines(c) => quoted.push_str(&format!("\\u{:04x}", c as u32)),
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

/// YAML comment lines, wrapped at 100 columns. Control characters (a line
/// break in a folder name) are escaped, so a comment can never end early and
/// let text through as YAML.
fn comment<S: AsRef<str>>(lines: &[S]) -> String {
    let mut text = String::new();
    for line in lines {
        let mut escaped = String::new();
        for c in line.as_ref().chars() {
            if breaks_lines(c) {
                escaped.extend(c.escape_default());
            } else {
                escaped.push(c);
            }
        }
        for wrapped in wrap(&escaped, 98) {
            text.push_str(&format!("# {wrapped}\n"));
        }
    }
    text
}

/// Control characters, and the Unicode line and paragraph separators that
/// YAML 1.1 parsers take for line breaks.
fn breaks_lines(c: char) -> bool {
    c.is_control() || c == '\u{2028}' || c == '\u{2029}'
}

/// Splits `text` at spaces into lines of at most `width` characters (a
/// longer word gets a line of its own).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = String::new();
    for word in text.split(' ') {
        let needed = current.chars().count() + 1 + word.chars().count();
        if !current.is_empty() && needed > width {
            lines.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(word);
    }
    lines.push(current);
    lines
}

/// Writes the manifests to FILE, owner-only, never over an existing file.
fn write_file(out: &Path, text: &str) -> Result<(), Failure> {
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        files::ensure_dir(parent).or_fail(Kind::Write)?;
    }
    let output = Output {
        path: out.to_path_buf(),
        contents: text.as_bytes().to_vec(),
        access: Access::Secret,
        replace: false,
    };
    files::commit(&[output]).or_fail(Kind::Write)
}

/// Prints the manifests; a reader that stops early (`| head`) is no error.
fn print(text: &str) -> Result<(), Failure> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other
            .context("failed to write to standard output")
            .or_fail(Kind::Write),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_kubernetes_names_up_to_their_limits() {
        for (name, namespace) in [("milvus-tls", "default"), ("a", "0"), ("9lives", "team-1")] {
            check_names(name, namespace).unwrap();
        }
        check_names(&"n".repeat(246), &"s".repeat(63)).unwrap();
    }

    #[test]
    fn rejects_names_kubernetes_refuses() {
        let bad = [
            ("", "default"),
            ("Milvus", "default"),
            ("milvus_tls", "default"),
            ("milvus.tls", "default"),
            ("-milvus", "default"),
            ("milvus-", "default"),
            ("milvus tls", "default"),
            ("milvus", ""),
            ("milvus", "Prod"),
            ("milvus", "prod-"),
        ];
        for (name, namespace) in bad {
            assert!(
                check_names(name, namespace).is_err(),
                "{name:?} {namespace:?}"
            );
        }
    }

    #[test]
    fn rejects_names_one_past_the_limits() {
        let err = check_names(&"n".repeat(247), "default").unwrap_err();
        assert!(format!("{err:#}").contains("NAME-client"), "{err:#}");
        assert!(check_names("milvus", &"s".repeat(64)).is_err());
    }

    #[test]
    fn quotes_scalars_yaml_would_read_as_something_else() {
        for value in [
            "yes", "No", "ON", "null", "y", "123", "1e3", "0x1f", "", "~", "-a", ".inf",
        ] {
            assert!(scalar(value).starts_with('"'), "{value} left plain");
        }
        for value in [
            "milvus-tls",
            "kubernetes.io/tls",
            "LS0tLS1CRUdJTg==",
            "cert-manager.io/v1",
        ] {
            assert_eq!(scalar(value), value);
        }
        assert_eq!(scalar("a\"b\\c\nd"), r#""a\"b\\c\nd""#);
    }

    #[test]
    fn comments_escape_line_breaks_and_wrap() {
        let text = comment(&["folder /tmp/a\nkind: Secret"]);
        assert_eq!(text, "# folder /tmp/a\\nkind: Secret\n");
        let long = comment(&["word ".repeat(40)]);
        assert!(
            long.lines().all(|l| l.len() <= 100 && l.starts_with("# ")),
            "{long}"
        );
    }
}
