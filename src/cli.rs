//! The command line: clap definitions only. Doc comments here are the
//! `--help` text, so they are written for the person at the terminal.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::keys::KeyType;
use crate::san::San;
use crate::subject;

const ABOUT: &str = "Make the TLS files for one-way and mutual TLS: a private CA, a server \
certificate and a client certificate";

const LONG_ABOUT: &str = "\
Make the TLS files for one-way and mutual TLS: a private CA, a server certificate and a client
certificate, with subjectAltNames that Go, rustls and browsers accept.

`certgen all --cn localhost --out cert` writes the nine files of the Milvus TLS recipe:
ca.key ca.pem ca.srl, server.key server.csr server.pem, client.key client.csr client.pem.

Private keys are written owner-only (0600). No existing file is replaced without --force, and a
CA is never replaced except by `certgen ca --force`, which keeps the old pair beside the new.";

const EXAMPLES_AND_EXIT_CODES: &str = "\
Examples:
  certgen all --cn localhost --out cert      CA, server and client for a local service
  certgen all --cn milvus.example.com --san milvus.example.com --san 10.0.0.5 --out cert
  certgen ca --org Acme --cn 'Acme CA' --out pki
  certgen server --out pki --name proxy --cn proxy --san proxy.milvus.svc
  certgen client --out pki --name alice --cn alice --key-type ecdsa-p256
  certgen init && certgen all --profile certgen.toml --out cert
  certgen config milvus --dir cert --mode 2    milvus.yaml lines for these files
  certgen export k8s --dir cert --out secrets.yaml
  certgen inspect cert/server.pem             what a certificate, key or request holds
  certgen verify cert --host localhost --handshake --mutual

Exit codes:
  0  success
  1  verify found a problem
  2  bad usage or unusable input (flag value, CA files, serial file, unreadable file)
  3  a file to be written already exists (see --force)
  4  writing the output failed (permissions, disk full)
  5  internal error (key generation or signing failed); please report it";

const EXIT_CODES: &str = "\
Exit codes:
  0  success
  2  bad usage or unusable input (flag value, CA files, serial file)
  3  a file to be written already exists (see --force)
  4  writing the output failed (permissions, disk full)
  5  internal error (key generation or signing failed); please report it";

const INSPECT_EXIT_CODES: &str = "\
Exit codes:
  0  every path was read
  2  bad usage, or a path that is missing, unreadable or not a TLS file";

const VERIFY_EXIT_CODES: &str = "\
Exit codes:
  0  every check passed
  1  at least one problem was found
  2  bad usage, or a folder without ca.pem, or a file that cannot be read";

const DAYS_RANGE: std::ops::RangeInclusive<i64> = 1..=36500;

/// The parsed command line.
#[derive(Parser, Debug)]
#[command(
    name = "certgen",
    version,
    about = ABOUT,
    long_about = LONG_ABOUT,
    after_help = EXAMPLES_AND_EXIT_CODES,
    propagate_version = true
)]
pub struct Cli {
    /// Print nothing on success; errors still go to stderr. For verify: print only problems.
    // Listed last in every subcommand's help, after its own options.
    #[arg(short, long, global = true, display_order = 1000)]
    pub quiet: bool,

    /// Print results as one JSON document on stdout (schema in the README). For the issuing
    /// commands: the facts of every file written, as `inspect --json` gives them.
    #[arg(long, global = true, display_order = 1000)]
    pub json: bool,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Write a starter profile (certgen.toml) to edit, with a comment on every key.
    #[command(after_help = EXIT_CODES)]
    Init(InitArgs),

    /// Create the certificate authority: ca.key and ca.pem.
    // A CA certificate names no hosts: the SAN flags it shares with the
    // leaves stay out of its help, and are refused when given.
    #[command(
        after_help = EXIT_CODES,
        mut_arg("san", |a| a.hide(true)),
        mut_arg("k8s_service", |a| a.hide(true)),
        mut_arg("namespace", |a| a.hide(true))
    )]
    Ca(CaArgs),

    /// Issue a server certificate from the CA: server.key, server.csr, server.pem; updates ca.srl.
    #[command(after_help = EXIT_CODES)]
    Server(LeafArgs),

    /// Issue a client certificate from the CA: client.key, client.csr, client.pem; updates ca.srl.
    #[command(after_help = EXIT_CODES)]
    Client(LeafArgs),

    /// Create the CA (or reuse the one in --out) and issue a server and a client certificate.
    ///
    /// Writes ca.key ca.pem ca.srl server.key server.csr server.pem client.key client.csr
    /// client.pem, and with --profile also every [[leaf]] the profile names. A CA already in
    /// --out is checked (its key must match its certificate) and reused; --force re-issues the
    /// other files but never replaces the CA.
    #[command(after_help = EXIT_CODES)]
    All(AllArgs),

    /// Issue one [[leaf]] of a profile from the CA: NAME.key, NAME.csr, NAME.pem.
    #[command(after_help = EXIT_CODES)]
    Leaf(NamedLeafArgs),

    /// Show what TLS files hold: certificates, requests, keys, serial files.
    ///
    /// Reads PEM or DER certificates (one or a bundle), certificate requests, private keys
    /// (PKCS#8, PKCS#1, SEC1; never printed) and openssl serial files, from any tool. A folder
    /// stands for every such file in it. For each key it names the certificates and requests
    /// beside it that carry its public key. Inspecting does not check trust: use `verify`.
    #[command(after_help = INSPECT_EXIT_CODES)]
    Inspect(InspectArgs),

    /// Check that the TLS files in a folder work together, and say why not.
    ///
    /// The set is ca.pem (with ca.key and ca.srl when present) and every other certificate in
    /// the folder, each with NAME.key and NAME.csr when present. Checks: each certificate chains
    /// to ca.pem (rustls-webpki), keys match certificates, requests are signed by their keys,
    /// server certificates are valid for each --host and have serverAuth, client certificates
    /// have clientAuth, nothing is expired or not yet valid, every certificate has a
    /// subjectAltName, ca.srl is not behind, and no certificate is one whose private key is
    /// public (the samples in the Milvus source tree). Prints one line per finding, then a
    /// verdict.
    #[command(after_help = VERIFY_EXIT_CODES)]
    Verify(VerifyArgs),

    /// Print configuration that uses the files in a folder: milvus.yaml, docker compose,
    /// pymilvus, curl, Helm values, milvus-operator.
    ///
    /// Paths are absolute, or under --mount when the folder is mounted into a container. Names
    /// clients must ask for are taken from the server certificate, and a --server-name it does
    /// not carry is refused.
    #[command(after_help = EXIT_CODES)]
    Config(ConfigArgs),

    /// Write Kubernetes objects holding the files: Secrets in the layouts the Helm chart and
    /// milvus-operator read, and optionally a cert-manager Issuer on the same CA.
    #[command(after_help = EXIT_CODES)]
    Export(ExportArgs),

    /// Print a shell completion script: certgen completions bash > /etc/bash_completion.d/certgen
    Completions(CompletionsArgs),

    /// Write the man page (certgen.1) to stdout or to a folder.
    Man(ManArgs),
}

/// What `certgen config` prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ConfigTarget {
    /// The milvus.yaml (or user.yaml) fragment: tls.* and common.security.tlsMode.
    Milvus,
    /// Volume lines for the Milvus standalone service in docker-compose.yml.
    Compose,
    /// The MilvusClient(...) call of pymilvus.
    Pymilvus,
    /// curl commands for the Milvus REST API.
    Curl,
    /// Values for the Milvus Helm chart.
    Helm,
    /// The Milvus custom resource of milvus-operator.
    Operator,
}

/// Options of `certgen config`.
#[derive(Args, Debug, Clone)]
pub struct ConfigArgs {
    /// What to print.
    #[arg(value_enum)]
    pub target: ConfigTarget,

    /// The folder holding ca.pem, server.pem, server.key (and client.pem, client.key).
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub dir: PathBuf,

    /// Milvus common.security.tlsMode: 1 for one-way TLS (clients check the server), 2 for
    /// mutual TLS (the server also checks clients).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=2))]
    pub mode: u8,

    /// Where the folder is mounted inside the container, such as /milvus/tls; paths in the
    /// output use it instead of the folder's absolute path.
    #[arg(long, value_name = "PATH")]
    pub mount: Option<String>,

    /// The name clients ask for (pymilvus server_name, internal TLS sni): one of the server
    /// certificate's SANs [default: its first DNS name].
    #[arg(long, value_name = "NAME")]
    pub server_name: Option<String>,

    /// For milvus: also turn on internal TLS between Milvus components (internaltls.*).
    #[arg(long)]
    pub internal: bool,

    /// Base name of the Kubernetes Secrets, as `certgen export k8s --name` gives them.
    #[arg(long, default_value = "milvus", value_name = "NAME")]
    pub name: String,
}

/// What `certgen export` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportTarget {
    /// Kubernetes manifests (YAML).
    K8s,
}

/// Which Secret layouts `export k8s` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SecretLayout {
    /// A generic Secret with server.pem, server.key and ca.pem, as milvus-operator mounts it.
    Operator,
    /// A kubernetes.io/tls Secret with tls.crt, tls.key and ca.crt, as the Helm chart and
    /// ingress controllers read it.
    Tls,
    /// Both.
    Both,
}

/// Options of `certgen export`.
#[derive(Args, Debug, Clone)]
pub struct ExportArgs {
    /// What to export.
    #[arg(value_enum)]
    pub target: ExportTarget,

    /// The folder holding the files.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub dir: PathBuf,

    /// Namespace of the objects.
    #[arg(long, default_value = "default", value_name = "NS")]
    pub namespace: String,

    /// Base name of the objects: NAME (operator layout), NAME-tls (tls layout),
    /// NAME-client (the client's pair), NAME-ca (the CA, with --cert-manager).
    #[arg(long, default_value = "milvus", value_name = "NAME")]
    pub name: String,

    /// Which Secret layouts to write.
    #[arg(long, value_enum, default_value_t = SecretLayout::Both)]
    pub layout: SecretLayout,

    /// Also write the CA certificate and key as a Secret, and a cert-manager Issuer of kind CA
    /// on it, so that cert-manager issues and renews leaves in the cluster from the same CA.
    #[arg(long)]
    pub cert_manager: bool,

    /// With --cert-manager: a ClusterIssuer (for every namespace) instead of an Issuer.
    #[arg(long, requires = "cert_manager")]
    pub cluster_issuer: bool,

    /// Write to FILE (mode 0600: it holds private keys) instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// Options of `certgen completions`.
#[derive(Args, Debug, Clone)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Options of `certgen man`.
#[derive(Args, Debug, Clone)]
pub struct ManArgs {
    /// Write certgen.1 into this folder instead of printing it.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// Options of `certgen verify`.
#[derive(Args, Debug, Clone)]
pub struct VerifyArgs {
    /// The folder holding the set.
    #[arg(default_value = ".", value_name = "DIR")]
    pub dir: PathBuf,

    /// A name clients use to reach the server: DNS name or IP address. Repeatable
    /// [default: each server certificate's CN].
    #[arg(long, value_name = "NAME", value_parser = parse_host)]
    pub host: Vec<String>,

    /// Also report certificates that expire within this window: a number and s, m, h, d or w,
    /// such as 30d, 12h or 2w. For cron jobs and CI.
    #[arg(long, value_name = "WINDOW", value_parser = parse_window)]
    pub expires_within: Option<time::Duration>,

    /// Also run a real TLS 1.3 handshake over loopback, in process, for each server
    /// certificate and host: a server with NAME.pem and NAME.key, a client trusting ca.pem.
    #[arg(long)]
    pub handshake: bool,

    /// Make the handshakes mutual: the server requires a client certificate chaining to
    /// ca.pem, and the client presents client.pem and client.key. Implies --handshake.
    #[arg(long)]
    pub mutual: bool,
}

/// Options of `certgen inspect`.
#[derive(Args, Debug, Clone)]
pub struct InspectArgs {
    /// Files or folders to read.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}

/// Subject fields other than the common name: the recipe's Country, State,
/// Location, Organization and Organizational variables.
#[derive(Args, Debug, Clone, Default)]
pub struct SubjectArgs {
    /// Country: a two-letter ISO 3166 code such as CN or US (subject C).
    #[arg(long, value_name = "CODE", value_parser = parse_country)]
    pub country: Option<String>,

    /// State or province (subject ST).
    #[arg(long, value_parser = parse_place)]
    pub state: Option<String>,

    /// Locality, usually the city (subject L).
    #[arg(long, value_parser = parse_place)]
    pub locality: Option<String>,

    /// Organization (subject O).
    #[arg(long, value_parser = parse_name)]
    pub org: Option<String>,

    /// Organizational unit (subject OU).
    #[arg(long, value_parser = parse_name)]
    pub ou: Option<String>,
}

/// What the issuing commands share about one certificate. Every field is
/// optional, so that a value given here can be told from one left to a
/// profile or to the built-in default.
#[derive(Args, Debug, Clone, Default)]
pub struct CertFlags {
    #[command(flatten)]
    pub subject: SubjectArgs,

    /// Common name (subject CN); on `all`, of the server and client certificates (the CA's is
    /// --ca-cn). Also a leaf's subjectAltName when no --san is given; for localhost that default
    /// adds 127.0.0.1 and ::1 [default: localhost; for `certgen ca`, "certgen CA" and a random
    /// tag, such as "certgen CA 5e1f09ab", so that no two CAs share a name].
    #[arg(long, value_parser = parse_name)]
    pub cn: Option<String>,

    /// A subjectAltName: DNS name (wildcards allowed), IPv4 or IPv6 address, email or URI, told
    /// apart by form; prefix DNS:, IP:, email: or URI: to force one. Repeatable. When given,
    /// these are the certificate's only names.
    #[arg(long, value_name = "NAME", value_parser = parse_san)]
    pub san: Vec<San>,

    /// A Kubernetes Service that clients reach the certificate's holder through: adds the SANs
    /// NAME, NAME.NS, NAME.NS.svc and NAME.NS.svc.cluster.local (NS from --namespace) to the
    /// certificate's other SANs (those of --san, of the profile, or the CN's default).
    /// Repeatable. milvus-operator names the Service RELEASE-milvus; the Milvus Helm chart does
    /// too, unless the release name already contains "milvus" (then it is RELEASE).
    #[arg(long, value_name = "NAME", value_parser = parse_k8s_label)]
    pub k8s_service: Vec<String>,

    /// Namespace of the --k8s-service Services.
    #[arg(long, value_name = "NS", default_value = "default", value_parser = parse_k8s_label)]
    pub namespace: String,

    /// Days a new certificate is valid (on `all`, the leaves; the CA's is --ca-days); a leaf is
    /// cut to end with its CA [default: 3650].
    #[arg(long, value_parser = clap::value_parser!(u32).range(DAYS_RANGE))]
    pub days: Option<u32>,

    /// Key algorithm of each new key [default: rsa2048]. The CA's key decides the signature
    /// algorithm.
    #[arg(long, value_enum)]
    pub key_type: Option<KeyType>,

    /// A TOML profile with the settings of the CA and of each certificate; flags given here
    /// win over it. `certgen init` writes one to start from.
    #[arg(long, value_name = "FILE")]
    pub profile: Option<PathBuf>,
}

/// Where the files go, and whether existing ones may be replaced.
#[derive(Args, Debug, Clone)]
pub struct OutputArgs {
    /// Folder to write to; created if missing.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub out: PathBuf,

    /// Replace existing files. For `ca`: the CA, keeping the old ca.key and ca.pem beside the
    /// new ones as *.replaced-TIME. For the others: the certificates they issue; never the CA.
    #[arg(long, conflicts_with = "if_missing")]
    pub force: bool,

    /// Make only what is missing, for scripts that run again and again: touch nothing when
    /// every file is there and sound; issue a certificate whose files are missing, whose key
    /// does not belong to it, or that is not valid under the CA; refuse (exit 2) when the CA
    /// itself is broken. Exit 0 in every case that ends with a sound set.
    #[arg(long)]
    pub if_missing: bool,
}

/// The CA to issue from, when it is not the one in the output folder.
#[derive(Args, Debug, Clone, Default)]
pub struct IssuerArgs {
    /// CA certificate to issue from [default: DIR/ca.pem]. The serial file is kept beside it,
    /// with the extension .srl, as openssl does.
    #[arg(long, value_name = "FILE", requires = "ca_key")]
    pub ca_cert: Option<PathBuf>,

    /// CA private key to issue with [default: DIR/ca.key].
    #[arg(long, value_name = "FILE", requires = "ca_cert")]
    pub ca_key: Option<PathBuf>,
}

/// Options of `certgen ca`.
#[derive(Args, Debug, Clone)]
pub struct CaArgs {
    #[command(flatten)]
    pub cert: CertFlags,

    #[command(flatten)]
    pub output: OutputArgs,
}

/// Options of `certgen server` and `certgen client`.
#[derive(Args, Debug, Clone)]
pub struct LeafArgs {
    #[command(flatten)]
    pub cert: CertFlags,

    /// Base name of the files written: NAME.key, NAME.csr, NAME.pem [default: server or client].
    #[arg(long, value_parser = parse_file_stem)]
    pub name: Option<String>,

    #[command(flatten)]
    pub issuer: IssuerArgs,

    #[command(flatten)]
    pub output: OutputArgs,
}

/// Options of `certgen leaf`.
#[derive(Args, Debug, Clone)]
pub struct NamedLeafArgs {
    /// The `name` of a [[leaf]] in the profile; also the base name of its files.
    #[arg(value_parser = parse_file_stem)]
    pub name: String,

    #[command(flatten)]
    pub cert: CertFlags,

    #[command(flatten)]
    pub issuer: IssuerArgs,

    #[command(flatten)]
    pub output: OutputArgs,
}

/// Options of `certgen all`.
#[derive(Args, Debug, Clone)]
pub struct AllArgs {
    #[command(flatten)]
    pub cert: CertFlags,

    /// Common name of the CA, when one is created [default: "certgen CA" and a random tag].
    #[arg(long, value_parser = parse_name)]
    pub ca_cn: Option<String>,

    /// Days the CA is valid, when one is created [default: 3650].
    #[arg(long, value_parser = clap::value_parser!(u32).range(DAYS_RANGE))]
    pub ca_days: Option<u32>,

    #[command(flatten)]
    pub output: OutputArgs,
}

/// Options of `certgen init`.
#[derive(Args, Debug, Clone)]
pub struct InitArgs {
    /// Where to write the profile.
    #[arg(default_value = "certgen.toml", value_name = "FILE")]
    pub file: PathBuf,

    /// Which starter profile to write; see --list.
    #[arg(long, default_value = "recipe", value_name = "NAME")]
    pub template: String,

    /// List the starter profiles and write nothing.
    #[arg(long)]
    pub list: bool,

    /// Replace FILE if it exists.
    #[arg(long)]
    pub force: bool,
}

fn parse_country(value: &str) -> Result<String, String> {
    subject::parse_country(value).map_err(|e| e.to_string())
}

fn parse_name(value: &str) -> Result<String, String> {
    subject::check_attribute(value, subject::MAX_NAME).map_err(|e| e.to_string())
}

fn parse_place(value: &str) -> Result<String, String> {
    subject::check_attribute(value, subject::MAX_PLACE).map_err(|e| e.to_string())
}

/// A Kubernetes Service or namespace name: an RFC 1123 label.
fn parse_k8s_label(value: &str) -> Result<String, String> {
    let ok = !value.is_empty()
        && value.len() <= 63
        && value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !value.starts_with('-')
        && !value.ends_with('-');
    if ok {
        Ok(value.to_owned())
    } else {
        Err(
            "must be a Kubernetes name: lowercase letters, digits and '-', at most 63, \
             starting and ending with a letter or digit"
                .to_owned(),
        )
    }
}

fn parse_host(value: &str) -> Result<String, String> {
    rustls::pki_types::ServerName::try_from(value)
        .map(|_| value.to_owned())
        .map_err(|_| "must be a DNS name or an IP address".to_owned())
}

fn parse_window(value: &str) -> Result<time::Duration, String> {
    crate::verify::parse_window(value).map_err(|e| e.to_string())
}

fn parse_san(value: &str) -> Result<San, String> {
    San::parse(value).map_err(|e| format!("{e:#}"))
}

/// A file base name: letters, digits, dot, hyphen and underscore, so that
/// `--name` can never point outside the output folder.
fn parse_file_stem(value: &str) -> Result<String, String> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "._-".contains(c);
    if value.is_empty() || value.starts_with('.') || !value.chars().all(allowed) {
        return Err(
            "must be a plain file name: letters, digits, '.', '-' and '_', \
                    not starting with '.'"
                .into(),
        );
    }
    if value == "ca" {
        return Err("\"ca\" would overwrite the CA's own files".into());
    }
    Ok(value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn all_leaves_unset_values_to_the_profile_and_defaults() {
        let cli = Cli::try_parse_from(["certgen", "all"]).unwrap();
        let Command::All(args) = cli.command else {
            panic!("parsed as another subcommand");
        };
        assert_eq!(args.cert.cn, None);
        assert_eq!(args.cert.days, None);
        assert_eq!(args.ca_days, None);
        assert_eq!(args.cert.key_type, None);
        assert_eq!(args.output.out, PathBuf::from("."));
        assert!(args.cert.san.is_empty());
    }

    #[test]
    fn rejects_bad_flag_values() {
        let bad: [&[&str]; 8] = [
            &["certgen", "all", "--country", "China"],
            &["certgen", "all", "--days", "0"],
            &["certgen", "all", "--days", "36501"],
            &["certgen", "all", "--key-type", "dsa"],
            &["certgen", "all", "--san", "bad name"],
            &["certgen", "server", "--name", "../x"],
            &["certgen", "server", "--ca-cert", "ca.pem"],
            &["certgen", "ca", "--cn", ""],
        ];
        for args in bad {
            assert!(Cli::try_parse_from(args).is_err(), "{args:?} was accepted");
        }
    }

    #[test]
    fn quiet_is_accepted_after_the_subcommand() {
        let cli = Cli::try_parse_from(["certgen", "ca", "--quiet"]).unwrap();
        assert!(cli.quiet);
    }
}
