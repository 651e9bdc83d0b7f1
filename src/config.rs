//! `certgen config`: configuration that puts the files of a folder to use in
//! milvus.yaml, docker compose, pymilvus, curl, the Helm chart and
//! milvus-operator. The text lives in `templates/config/`; this module checks
//! the folder, works out the paths and the server name, and fills it in.

use std::fs;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use clap::ValueEnum;
use time::OffsetDateTime;

use crate::cli::{ConfigArgs, ConfigTarget};
use crate::decode::{self, Object};
use crate::facts;
use crate::quote::shell_word;

/// The port Milvus serves gRPC on (`proxy.port`).
const GRPC_PORT: u16 = 19530;

/// The port the output gives the REST API (`proxy.http.port`). With TLS on,
/// Milvus serves REST only on a port other than the gRPC one.
const REST_PORT: u16 = 19531;

/// Where the folder sits in a container when --mount is not given; compose,
/// Helm and the operator always need a container path.
const DEFAULT_MOUNT: &str = "/milvus/tls";

/// The REST call the curl command makes: one that any running Milvus answers.
const REST_PROBE: &str = "/v2/vectordb/collections/list";

// The snippets, one template file each.
const MILVUS: &str = include_str!("../templates/config/milvus.yaml");
const COMPOSE: &str = include_str!("../templates/config/compose.yaml");
const PYMILVUS: &str = include_str!("../templates/config/pymilvus.py");
const CURL: &str = include_str!("../templates/config/curl.sh");
const HELM: &str = include_str!("../templates/config/helm.yaml");
const OPERATOR: &str = include_str!("../templates/config/operator.yaml");

/// The text `certgen config` prints.
pub fn render(args: &ConfigArgs) -> Result<String> {
    check_flags(args)?;
    let folder = Folder::read(args)?;
    if args.server_name.is_some() {
        // Checked for every target, so that a name the certificate does not
        // carry is never accepted silently.
        server_name(args, &folder)?;
    }
    match args.target {
        ConfigTarget::Milvus => milvus(args, &folder),
        ConfigTarget::Compose => compose(args, &folder),
        ConfigTarget::Pymilvus => pymilvus(args, &folder),
        ConfigTarget::Curl => curl(args, &folder),
        ConfigTarget::Helm => helm(args, &folder),
        ConfigTarget::Operator => operator(args, &folder),
    }
}

/// The folder as `certgen config` found it.
struct Folder {
    /// The folder, canonical, as text for the output.
    dir: String,
    /// The server certificate, for messages.
    server_pem: PathBuf,
    /// The DNS names and IP addresses of the server certificate's
    /// subjectAltName, in certificate order: what clients can ask for.
    names: Vec<Name>,
}

impl Folder {
    /// Checks that the files the target names are there and reads the names
    /// of the server certificate.
    fn read(args: &ConfigArgs) -> Result<Folder> {
        let canonical = fs::canonicalize(&args.dir)
            .with_context(|| format!("failed to read the folder {}", args.dir.display()))?;
        if !canonical.is_dir() {
            bail!("{} is not a folder", args.dir.display());
        }
        let dir = path_text(&canonical)?;
        for file in server_files(args.target) {
            let path = canonical.join(file);
            if !path.is_file() {
                bail!(
                    "{} not found: `certgen config {}` needs the server's files, ca.pem, \
                     server.pem and server.key; make them with `certgen all --out {}`",
                    path.display(),
                    target_name(args.target),
                    shell_word(&args.dir.to_string_lossy())
                );
            }
        }
        if args.mode == 2 && matches!(args.target, ConfigTarget::Pymilvus | ConfigTarget::Curl) {
            for file in ["client.pem", "client.key"] {
                let path = canonical.join(file);
                if !path.is_file() {
                    bail!(
                        "{} not found: with mutual TLS (--mode 2) the client shows client.pem \
                         and proves it with client.key; make them with `certgen client --out {}`",
                        path.display(),
                        shell_word(&args.dir.to_string_lossy())
                    );
                }
            }
        }
        let server_pem = canonical.join("server.pem");
        let names = certificate_names(&server_pem)?;
        Ok(Folder {
            dir,
            server_pem,
            names,
        })
    }

    /// Where `file` is as the configuration names it: under --mount when
    /// given, else in the folder itself.
    fn path(&self, args: &ConfigArgs, file: &str) -> String {
        join(args.mount.as_deref().unwrap_or(&self.dir), file)
    }
}

/// The files of the folder that every output for `target` relies on, the
/// server certificate first.
fn server_files(target: ConfigTarget) -> &'static [&'static str] {
    match target {
        // Clients need only the CA, and server.pem for its names.
        ConfigTarget::Pymilvus | ConfigTarget::Curl => &["server.pem", "ca.pem"],
        _ => &["server.pem", "server.key", "ca.pem"],
    }
}

/// Refuses flag combinations before any file is read.
fn check_flags(args: &ConfigArgs) -> Result<()> {
    if args.internal && args.target != ConfigTarget::Milvus {
        bail!(
            "--internal is for `certgen config milvus` only: internal TLS is switched on in \
             milvus.yaml"
        );
    }
    if let Some(mount) = &args.mount {
        check_mount(mount)?;
    }
    if matches!(args.target, ConfigTarget::Helm | ConfigTarget::Operator) {
        check_secret_name(&args.name)?;
    }
    Ok(())
}

/// A container path goes into YAML, shell lines and Kubernetes mountPaths, so
/// it is held to plain characters.
fn check_mount(mount: &str) -> Result<()> {
    let plain = mount
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-".contains(c));
    if !mount.starts_with('/') || mount.trim_end_matches('/').is_empty() || !plain {
        bail!(
            "--mount {mount:?}: give an absolute container path other than /, of letters, \
             digits, '/', '.', '-' and '_', such as {DEFAULT_MOUNT}"
        );
    }
    Ok(())
}

/// Secret names are DNS subdomains (RFC 1123): lowercase letters, digits,
/// '-' and '.', at most 253 characters, here including the `-tls` suffix.
fn check_secret_name(name: &str) -> Result<()> {
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "-.".contains(c);
    let ends_ok = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if name.len() + "-tls".len() > 253
        || !name.chars().all(allowed)
        || !ends_ok(name.chars().next())
        || !ends_ok(name.chars().last())
    {
        bail!(
            "--name {name:?}: Kubernetes Secret names are lowercase letters, digits, '-' and '.', \
             starting and ending with a letter or digit"
        );
    }
    Ok(())
}

/// The subcommand name of a target, as typed.
fn target_name(target: ConfigTarget) -> String {
    target
        .to_possible_value()
        .map(|v| v.get_name().to_owned())
        .unwrap_or_default()
}

/// A path as text for the output. Paths that cannot be written into YAML,
/// Python and shell lines unchanged are refused rather than mangled.
fn path_text(path: &Path) -> Result<String> {
    let text = path
        .to_str()
        .ok_or_else(|| anyhow!("{}: the path is not valid UTF-8", path.display()))?;
    if text.chars().any(char::is_control) {
        bail!(
            "{}: the path holds control characters; move the files to a plain folder",
            facts::clean(text)
        );
    }
    Ok(text.to_owned())
}

fn join(base: &str, file: &str) -> String {
    format!("{}/{file}", base.trim_end_matches('/'))
}

/// The DNS and IP subjectAltNames of the first certificate in a file.
fn certificate_names(path: &Path) -> Result<Vec<Name>> {
    let objects = decode::read_file(path)?;
    let der = objects
        .iter()
        .find_map(Object::as_certificate)
        .ok_or_else(|| anyhow!("{}: no certificate in the file", path.display()))?;
    let cert = facts::certificate(der, OffsetDateTime::now_utc())
        .with_context(|| path.display().to_string())?;
    Ok(cert
        .sans
        .iter()
        .filter_map(|san| Name::from_san(san))
        .collect())
}

/// A name a client asks the server for, as TLS checks it against the DNS and
/// IP entries of a certificate's subjectAltName.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Name {
    /// A DNS name; in a certificate, maybe a wildcard such as `*.example.com`.
    Dns(String),
    /// An IPv4 or IPv6 address.
    Ip(IpAddr),
}

impl Name {
    /// What a client typed: an address if it parses as one, else a DNS name.
    fn parse(text: &str) -> Name {
        match text.parse::<IpAddr>() {
            Ok(ip) => Name::Ip(ip),
            Err(_) => Name::Dns(text.to_owned()),
        }
    }

    /// A subjectAltName as `facts` writes it (`DNS:x`, `IP:y`); None for the
    /// kinds TLS clients do not match server names against.
    fn from_san(san: &str) -> Option<Name> {
        if let Some(dns) = san.strip_prefix("DNS:") {
            Some(Name::Dns(dns.to_owned()))
        } else {
            san.strip_prefix("IP:")?.parse().ok().map(Name::Ip)
        }
    }

    /// Whether this certificate name covers the name a client asked for:
    /// addresses by value, DNS names without regard to case, and a wildcard
    /// for exactly one leftmost label (RFC 6125 section 6.4.3).
    fn covers(&self, asked: &Name) -> bool {
        match (self, asked) {
            (Name::Ip(mine), Name::Ip(theirs)) => mine == theirs,
            (Name::Dns(mine), Name::Dns(theirs)) => match mine.strip_prefix("*.") {
                Some(parent) => theirs.split_once('.').is_some_and(|(label, rest)| {
                    !label.is_empty() && !label.contains('*') && rest.eq_ignore_ascii_case(parent)
                }),
                None => mine.eq_ignore_ascii_case(theirs),
            },
            _ => false,
        }
    }

    /// The host part of a URL: IPv6 addresses in brackets.
    fn url_host(&self) -> String {
        match self {
            Name::Ip(IpAddr::V6(ip)) => format!("[{ip}]"),
            other => other.text(),
        }
    }

    fn text(&self) -> String {
        match self {
            Name::Dns(dns) => dns.clone(),
            Name::Ip(ip) => ip.to_string(),
        }
    }

    fn labelled(&self) -> String {
        match self {
            Name::Dns(dns) => format!("DNS:{dns}"),
            Name::Ip(ip) => format!("IP:{ip}"),
        }
    }
}

/// The name clients ask for: --server-name if the certificate carries it,
/// else its first DNS name that is not a wildcard, else its first address.
fn server_name(args: &ConfigArgs, folder: &Folder) -> Result<Name> {
    let carried: Vec<String> = folder.names.iter().map(Name::labelled).collect();
    if let Some(text) = &args.server_name {
        let asked = Name::parse(text);
        if folder.names.iter().any(|name| name.covers(&asked)) {
            return Ok(asked);
        }
        let carries = if carried.is_empty() {
            "no DNS name or IP address".to_owned()
        } else {
            carried.join(", ")
        };
        bail!(
            "{} does not carry the name {text:?}; it carries {carries}. Pick one of those with \
             --server-name, or issue a server certificate with that name (`certgen server \
             --force --san {} ...`)",
            folder.server_pem.display(),
            shell_word(text)
        );
    }
    let plain_dns = folder
        .names
        .iter()
        .find(|name| matches!(name, Name::Dns(dns) if !dns.contains('*')));
    let address = folder.names.iter().find(|name| matches!(name, Name::Ip(_)));
    if let Some(name) = plain_dns.or(address) {
        return Ok(name.clone());
    }
    if carried.is_empty() {
        bail!(
            "{} has no DNS name or IP address in its subjectAltName, so no TLS client will \
             accept it; issue one with `certgen server --force --san NAME ...`",
            folder.server_pem.display()
        );
    }
    bail!(
        "{} carries only wildcard names ({}); pick a name they cover with --server-name",
        folder.server_pem.display(),
        carried.join(", ")
    )
}

/// The values one template is filled with.
struct Values {
    /// `{{name}}` placeholders and their text, inserted as it is.
    text: Vec<(&'static str, String)>,
    /// `{{#flag}}` sections and whether they are kept.
    flags: Vec<(&'static str, bool)>,
}

impl Values {
    /// The values every template may use.
    fn new(args: &ConfigArgs, folder: &Folder) -> Values {
        let mut values = Values {
            text: Vec::new(),
            flags: Vec::new(),
        };
        values.set("source", &folder.dir);
        values.set("dir_shell", &shell_word(&folder.dir));
        values.set("mode", &args.mode.to_string());
        values.set("grpc_port", &GRPC_PORT.to_string());
        values.set("rest_port", &REST_PORT.to_string());
        values.flag("one_way", args.mode == 1);
        values.flag("mutual", args.mode == 2);
        values
    }

    fn set(&mut self, name: &'static str, value: &str) {
        self.text.push((name, value.to_owned()));
    }

    fn flag(&mut self, name: &'static str, on: bool) {
        self.flags.push((name, on));
    }

    fn fill(&self, template: &str) -> Result<String> {
        fill(template, &self.text, &self.flags)
    }
}

fn milvus(args: &ConfigArgs, folder: &Folder) -> Result<String> {
    let mut values = Values::new(args, folder);
    values.set("server_pem", &yaml_scalar(&folder.path(args, "server.pem")));
    values.set("server_key", &yaml_scalar(&folder.path(args, "server.key")));
    values.set("ca_pem", &yaml_scalar(&folder.path(args, "ca.pem")));
    values.flag("internal", args.internal);
    if args.internal {
        values.set("sni", &yaml_scalar(&server_name(args, folder)?.text()));
    }
    values.fill(MILVUS)
}

fn compose(args: &ConfigArgs, folder: &Folder) -> Result<String> {
    // The short volume syntax splits on ':', so a folder with one in its
    // path cannot be written there.
    if folder.dir.contains(':') {
        bail!(
            "{}: docker compose volume lines cannot hold a path with ':'; move the files to \
             another folder",
            folder.dir
        );
    }
    let mount = args.mount.as_deref().unwrap_or(DEFAULT_MOUNT);
    let mount = mount.trim_end_matches('/');
    let mut values = Values::new(args, folder);
    values.set("mount", mount);
    values.set(
        "folder_volume",
        &yaml_scalar(&format!("{}:{mount}:ro", folder.dir)),
    );
    values.fill(COMPOSE)
}

fn pymilvus(args: &ConfigArgs, folder: &Folder) -> Result<String> {
    let name = server_name(args, folder)?;
    let uri = format!("https://{}:{GRPC_PORT}", name.url_host());
    let mut values = Values::new(args, folder);
    values.set("uri", &quoted(&uri));
    values.set("server_name", &quoted(&name.text()));
    values.set("ca_pem", &quoted(&folder.path(args, "ca.pem")));
    values.set("client_pem", &quoted(&folder.path(args, "client.pem")));
    values.set("client_key", &quoted(&folder.path(args, "client.key")));
    values.fill(PYMILVUS)
}

fn curl(args: &ConfigArgs, folder: &Folder) -> Result<String> {
    let name = server_name(args, folder)?;
    let url = format!("https://{}:{REST_PORT}{REST_PROBE}", name.url_host());
    // A made-up name such as milvus.local often has no DNS entry yet, while
    // localhost and addresses need none.
    let may_not_resolve = matches!(&name, Name::Dns(dns) if !dns.eq_ignore_ascii_case("localhost"));
    let mut values = Values::new(args, folder);
    values.set("server_name", &name.text());
    values.set("url", &shell_word(&url));
    values.set(
        "resolve",
        &shell_word(&format!("{}:{REST_PORT}:127.0.0.1", name.text())),
    );
    values.flag("resolve_hint", may_not_resolve);
    values.set("ca_pem", &shell_word(&folder.path(args, "ca.pem")));
    values.set("client_pem", &shell_word(&folder.path(args, "client.pem")));
    values.set("client_key", &shell_word(&folder.path(args, "client.key")));
    values.fill(CURL)
}

fn helm(args: &ConfigArgs, folder: &Folder) -> Result<String> {
    // The files as the kubernetes.io/tls Secret names them, where the
    // Secret is mounted.
    let mount = args.mount.as_deref().unwrap_or(DEFAULT_MOUNT);
    let mut values = Values::new(args, folder);
    values.set("name", &args.name);
    values.set("secret", &format!("{}-tls", args.name));
    values.set("mount", &yaml_scalar(mount.trim_end_matches('/')));
    values.set("server_pem", &yaml_scalar(&join(mount, "tls.crt")));
    values.set("server_key", &yaml_scalar(&join(mount, "tls.key")));
    values.set("ca_pem", &yaml_scalar(&join(mount, "ca.crt")));
    values.fill(HELM)
}

fn operator(args: &ConfigArgs, folder: &Folder) -> Result<String> {
    // The generic Secret keeps the folder's file names.
    let mount = args.mount.as_deref().unwrap_or(DEFAULT_MOUNT);
    let mut values = Values::new(args, folder);
    values.set("name", &args.name);
    values.set("mount", &yaml_scalar(mount.trim_end_matches('/')));
    values.set("server_pem", &yaml_scalar(&join(mount, "server.pem")));
    values.set("server_key", &yaml_scalar(&join(mount, "server.key")));
    values.set("ca_pem", &yaml_scalar(&join(mount, "ca.pem")));
    values.fill(OPERATOR)
}

/// Fills a template. Each `{{name}}` takes its value, inserted as it is and
/// never scanned again. A line `{{#flag}}` opens a section that a line
/// `{{/flag}}` closes; its lines stay only when the flag is set. Sections
/// may nest. An unknown name or an unbalanced section is a bug in a
/// template, reported as an error.
fn fill(template: &str, values: &[(&str, String)], flags: &[(&str, bool)]) -> Result<String> {
    let mut out = String::with_capacity(template.len() + 512);
    let mut open: Vec<(&str, bool)> = Vec::new();
    for line in template.split_inclusive('\n') {
        let marker = line.trim();
        if let Some(flag) = marker
            .strip_prefix("{{#")
            .and_then(|m| m.strip_suffix("}}"))
        {
            let on = flags
                .iter()
                .find(|(name, _)| *name == flag)
                .map(|(_, on)| *on)
                .ok_or_else(|| anyhow!("template bug: no flag named {flag:?}"))?;
            open.push((flag, on));
            continue;
        }
        if let Some(flag) = marker
            .strip_prefix("{{/")
            .and_then(|m| m.strip_suffix("}}"))
        {
            match open.pop() {
                Some((name, _)) if name == flag => continue,
                _ => bail!("template bug: the end of section {flag:?} matches no start"),
            }
        }
        if open.iter().all(|(_, on)| *on) {
            substitute(line, values, &mut out)?;
        }
    }
    if let Some((flag, _)) = open.last() {
        bail!("template bug: section {flag:?} is never closed");
    }
    Ok(out)
}

fn substitute(line: &str, values: &[(&str, String)], out: &mut String) -> Result<()> {
    let mut rest = line;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .ok_or_else(|| anyhow!("template bug: an unclosed placeholder in {line:?}"))?;
        let name = &after[..end];
        let value = values
            .iter()
            .find(|(known, _)| *known == name)
            .map(|(_, value)| value)
            .ok_or_else(|| anyhow!("template bug: no value for {name:?}"))?;
        out.push_str(value);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(())
}

/// A double-quoted string in JSON syntax, which YAML and Python read the
/// same way.
fn quoted(text: &str) -> String {
    serde_json::Value::String(text.to_owned()).to_string()
}

/// A YAML scalar that reads back as the string `text`: plain when it is a
/// path or a name of safe characters, else double-quoted. Words YAML 1.1
/// reads as booleans or null, and anything starting with a digit (a number,
/// an address), are quoted.
fn yaml_scalar(text: &str) -> String {
    let safe = text.starts_with(|c: char| c == '/' || c.is_ascii_alphabetic())
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-".contains(c));
    let special = matches!(
        text.to_ascii_lowercase().as_str(),
        "y" | "n" | "yes" | "no" | "true" | "false" | "on" | "off" | "null"
    );
    if safe && !special {
        text.to_owned()
    } else {
        quoted(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(target: ConfigTarget, mode: u8, internal: bool) -> ConfigArgs {
        ConfigArgs {
            target,
            dir: PathBuf::from("cert"),
            mode,
            mount: None,
            server_name: None,
            internal,
            name: "milvus-tls".into(),
        }
    }

    fn folder(names: &[&str]) -> Folder {
        Folder {
            dir: "/srv/milvus/cert".into(),
            server_pem: PathBuf::from("/srv/milvus/cert/server.pem"),
            names: names.iter().map(|n| Name::parse(n)).collect(),
        }
    }

    fn text(values: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
        values.iter().map(|(n, v)| (*n, v.to_string())).collect()
    }

    #[test]
    fn every_template_fills_for_every_target_and_mode() {
        let targets = [
            ConfigTarget::Milvus,
            ConfigTarget::Compose,
            ConfigTarget::Pymilvus,
            ConfigTarget::Curl,
            ConfigTarget::Helm,
            ConfigTarget::Operator,
        ];
        let folder = folder(&["milvus.local", "localhost", "127.0.0.1"]);
        for target in targets {
            for mode in [1, 2] {
                for internal in [false, target == ConfigTarget::Milvus] {
                    let args = args(target, mode, internal);
                    let out = match target {
                        ConfigTarget::Milvus => milvus(&args, &folder),
                        ConfigTarget::Compose => compose(&args, &folder),
                        ConfigTarget::Pymilvus => pymilvus(&args, &folder),
                        ConfigTarget::Curl => curl(&args, &folder),
                        ConfigTarget::Helm => helm(&args, &folder),
                        ConfigTarget::Operator => operator(&args, &folder),
                    }
                    .unwrap_or_else(|e| panic!("{target:?} mode {mode}: {e:#}"));
                    assert!(!out.contains("{{"), "{target:?} mode {mode}:\n{out}");
                    assert!(!out.contains("}}"), "{target:?} mode {mode}:\n{out}");
                }
            }
        }
    }

    #[test]
    fn templates_keep_within_100_columns() {
        for template in [MILVUS, COMPOSE, PYMILVUS, CURL, HELM, OPERATOR] {
            for line in template.lines() {
                assert!(line.chars().count() <= 100, "too wide: {line}");
            }
        }
    }

    #[test]
    fn fill_keeps_sections_whose_flag_is_set() {
        let template = "a\n{{#on}}\nb {{x}}\n{{#off}}\nc\n{{/off}}\n{{/on}}\nd\n";
        let out = fill(
            template,
            &text(&[("x", "1")]),
            &[("on", true), ("off", false)],
        )
        .unwrap();
        assert_eq!(out, "a\nb 1\nd\n");
    }

    #[test]
    fn fill_never_rescans_inserted_values() {
        let out = fill("{{a}}{{b}}\n", &text(&[("a", "{{b}}"), ("b", "!")]), &[]).unwrap();
        assert_eq!(out, "{{b}}!\n");
    }

    #[test]
    fn fill_rejects_unknown_names_and_unbalanced_sections() {
        assert!(fill("{{nope}}\n", &[], &[]).is_err());
        assert!(fill("{{#nope}}\n{{/nope}}\n", &[], &[]).is_err());
        assert!(fill("{{#a}}\n", &[], &[("a", true)]).is_err());
        assert!(fill("{{/a}}\n", &[], &[("a", true)]).is_err());
        assert!(fill("{{a\n", &text(&[("a", "x")]), &[]).is_err());
    }

    #[test]
    fn names_match_as_tls_clients_match_them() {
        let wildcard = Name::parse("*.example.com");
        assert!(wildcard.covers(&Name::parse("milvus.example.com")));
        assert!(wildcard.covers(&Name::parse("Milvus.EXAMPLE.com")));
        assert!(!wildcard.covers(&Name::parse("a.b.example.com")));
        assert!(!wildcard.covers(&Name::parse("example.com")));
        assert!(Name::parse("::1").covers(&Name::parse("0:0::1")));
        assert!(Name::parse("LocalHost").covers(&Name::parse("localhost")));
        assert!(!Name::parse("127.0.0.1").covers(&Name::parse("localhost")));
    }

    #[test]
    fn server_name_defaults_to_the_first_plain_dns_name() {
        let args = args(ConfigTarget::Curl, 1, false);
        let pick = |names: &[&str]| server_name(&args, &folder(names)).map(|n| n.text());
        assert_eq!(
            pick(&["127.0.0.1", "*.a.test", "b.test"]).unwrap(),
            "b.test"
        );
        assert_eq!(pick(&["*.a.test", "::1"]).unwrap(), "::1");
        assert!(pick(&["*.a.test"]).is_err());
        assert!(pick(&[]).is_err());
    }

    #[test]
    fn rejects_a_server_name_outside_the_certificate() {
        let mut args = args(ConfigTarget::Curl, 1, false);
        args.server_name = Some("other.test".into());
        let error = server_name(&args, &folder(&["a.test", "10.0.0.1"])).unwrap_err();
        let message = format!("{error:#}");
        assert!(message.contains("\"other.test\""), "{message}");
        assert!(message.contains("DNS:a.test, IP:10.0.0.1"), "{message}");
    }

    #[test]
    fn ipv6_hosts_are_bracketed_in_urls() {
        assert_eq!(Name::parse("::1").url_host(), "[::1]");
        assert_eq!(Name::parse("10.0.0.1").url_host(), "10.0.0.1");
        assert_eq!(Name::parse("a.test").url_host(), "a.test");
    }

    #[test]
    fn yaml_scalars_read_back_as_strings() {
        assert_eq!(yaml_scalar("/milvus/tls/ca.pem"), "/milvus/tls/ca.pem");
        assert_eq!(yaml_scalar("milvus.local"), "milvus.local");
        assert_eq!(yaml_scalar("127.0.0.1"), "\"127.0.0.1\"");
        assert_eq!(yaml_scalar("yes"), "\"yes\"");
        assert_eq!(yaml_scalar("/a b/c: d"), "\"/a b/c: d\"");
        assert_eq!(yaml_scalar("/a\"b"), "\"/a\\\"b\"");
    }

    #[test]
    fn rejects_mount_paths_that_are_not_plain_and_absolute() {
        for bad in ["milvus/tls", "/", "//", "/a b", "/a:b", "/a\nb"] {
            assert!(check_mount(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(check_mount("/milvus/tls/").is_ok());
    }

    #[test]
    fn rejects_secret_names_kubernetes_refuses() {
        for bad in ["", "Milvus", "-a", "a-", "a_b", &"a".repeat(250)] {
            assert!(check_secret_name(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(check_secret_name("milvus-tls").is_ok());
    }
}
