//! The issuing subcommands, step by step: resolve the request, refuse
//! before generating anything if a file is in the way, build everything in
//! memory, then write it all at once.

use std::path::{Path, PathBuf};
use std::thread;

use anyhow::{anyhow, bail, Context, Result};
use rcgen::KeyPair;
use time::OffsetDateTime;

use crate::ca::Ca;
use crate::cli::{AllArgs, CaArgs, Cli, Command, LeafArgs, SubjectArgs, VerifyArgs};
use crate::error::{Failure, Kind, ResultExt};
use crate::files::{self, Access, Output};
use crate::inspect;
use crate::issue::{self, CaSpec, IssuedLeaf, LeafSpec, Role, Validity};
use crate::keys::KeyType;
use crate::san::San;
use crate::serial::Serial;
use crate::subject::Subject;
use crate::verify;

/// How a run that did not fail ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Everything asked for was done, or every check passed. Exit code 0.
    Success,
    /// `verify` found at least one problem. Exit code 1.
    Findings,
}

impl Outcome {
    /// The process exit code.
    pub fn exit_code(self) -> u8 {
        match self {
            Outcome::Success => 0,
            Outcome::Findings => 1,
        }
    }
}

/// Runs one certgen command line.
pub fn run(cli: Cli) -> Result<Outcome, Failure> {
    let report = Report { quiet: cli.quiet };
    // One clock reading for the whole run, at whole seconds as X.509 keeps
    // time, so a CA and the leaves made with it share their end exactly.
    let now = OffsetDateTime::now_utc();
    let now = now.replace_nanosecond(0).unwrap_or(now);
    let written = match cli.command {
        Command::Ca(args) => run_ca(&args, now, &report)?,
        Command::Server(args) => run_leaf(&args, Role::Server, now, &report)?,
        Command::Client(args) => run_leaf(&args, Role::Client, now, &report)?,
        Command::All(args) => run_all(&args, now, &report)?,
        Command::Inspect(args) => {
            print_facts(&args.paths, cli.json, now)?;
            return Ok(Outcome::Success);
        }
        Command::Verify(args) => return run_verify(&args, cli.json, cli.quiet, now),
    };
    if cli.json {
        // What was written, in the schema of `inspect --json`, so that a
        // script learns paths, serials and fingerprints without parsing text.
        print_facts(&written, true, now)?;
    }
    Ok(Outcome::Success)
}

fn run_verify(
    args: &VerifyArgs,
    json: bool,
    quiet: bool,
    now: OffsetDateTime,
) -> Result<Outcome, Failure> {
    let options = verify::Options {
        hosts: args.host.clone(),
        expires_within: args.expires_within,
        handshake: args.handshake || args.mutual,
        mutual: args.mutual,
        published: verify::published_certs(),
    };
    let findings = verify::verify(&args.dir, &options, now).or_fail(Kind::Input)?;
    let mut stdout = std::io::stdout().lock();
    let written = if json {
        verify::render_json(&args.dir, &findings, &mut stdout)
    } else {
        verify::render_text(&args.dir, &findings, quiet, &mut stdout)
    };
    ignore_broken_pipe(written)?;
    if verify::count_problems(&findings) == 0 {
        Ok(Outcome::Success)
    } else {
        Ok(Outcome::Findings)
    }
}

/// Prints the facts of `paths` on stdout, as JSON or as text.
fn print_facts(paths: &[PathBuf], json: bool, now: OffsetDateTime) -> Result<(), Failure> {
    let entries = inspect::inspect(paths, now).or_fail(Kind::Input)?;
    let mut stdout = std::io::stdout().lock();
    let written = if json {
        inspect::render_json(&entries, &mut stdout)
    } else {
        inspect::render_text(&entries, &mut stdout)
    };
    ignore_broken_pipe(written)
}

/// A reader that stops early (`certgen inspect . | head`) is not an error.
fn ignore_broken_pipe(result: std::io::Result<()>) -> Result<(), Failure> {
    match result {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other
            .context("failed to write to standard output")
            .or_fail(Kind::Write),
    }
}

/// The human summary on stderr, silenced by `--quiet`.
struct Report {
    quiet: bool,
}

impl Report {
    fn line(&self, text: impl AsRef<str>) {
        if !self.quiet {
            eprintln!("{}", text.as_ref());
        }
    }

    fn files(&self, what: &str, paths: &[&Path]) {
        self.line(format!("{what}: {}", join_paths(paths)));
    }

    fn detail(&self, label: &str, value: impl AsRef<str>) {
        self.line(format!("  {label:<8} {}", value.as_ref()));
    }

    fn expiry(&self, not_after: OffsetDateTime, now: OffsetDateTime) {
        let days = crate::facts::days((not_after - now).whole_days());
        self.detail("expires", format!("{} (in {days})", format_time(not_after)));
    }
}

/// The CA's file names in a folder.
struct CaPaths {
    key: PathBuf,
    cert: PathBuf,
    serial: PathBuf,
}

impl CaPaths {
    fn in_dir(dir: &Path) -> CaPaths {
        CaPaths::from_files(dir.join("ca.pem"), dir.join("ca.key"))
    }

    /// The serial file sits beside the certificate, named after it, which is
    /// where `openssl x509 -CA FILE -CAcreateserial` looks for it.
    fn from_files(cert: PathBuf, key: PathBuf) -> CaPaths {
        let serial = cert.with_extension("srl");
        CaPaths { key, cert, serial }
    }
}

/// The three files of one leaf.
struct LeafPaths {
    key: PathBuf,
    csr: PathBuf,
    cert: PathBuf,
}

impl LeafPaths {
    fn new(dir: &Path, name: &str) -> LeafPaths {
        LeafPaths {
            key: dir.join(format!("{name}.key")),
            csr: dir.join(format!("{name}.csr")),
            cert: dir.join(format!("{name}.pem")),
        }
    }

    fn all(&self) -> [&Path; 3] {
        [&self.key, &self.csr, &self.cert]
    }

    fn outputs(&self, leaf: IssuedLeaf, replace: bool) -> [Output; 3] {
        let output = |path: &Path, text: String, access| Output {
            path: path.to_path_buf(),
            contents: text.into_bytes(),
            access,
            replace,
        };
        [
            output(&self.key, leaf.key_pem, Access::Secret),
            output(&self.csr, leaf.csr_pem, Access::Public),
            output(&self.cert, leaf.cert_pem, Access::Public),
        ]
    }
}

fn run_ca(args: &CaArgs, now: OffsetDateTime, report: &Report) -> Result<Vec<PathBuf>, Failure> {
    let paths = CaPaths::in_dir(&args.out);
    refuse_folders(&[&paths.key, &paths.cert])?;
    let present: Vec<&Path> = [paths.key.as_path(), paths.cert.as_path()]
        .into_iter()
        .filter(|p| files::occupied(p))
        .collect();
    if !present.is_empty() && !args.force {
        return Err(Failure::new(
            Kind::Exists,
            anyhow!(
                "refusing to replace the CA: {} already exist{}; `certgen ca --force` replaces \
                 it (keeping the old files beside it), and certificates it issued will no \
                 longer verify",
                join_paths(&present),
                if present.len() == 1 { "s" } else { "" }
            ),
        ));
    }

    let spec = CaSpec {
        subject: subject(
            &args.subject,
            &ca_name(args.cn.as_deref()).or_fail(Kind::Internal)?,
        ),
        validity: Validity::from_now(now, args.days),
        path_len: 0,
    };
    let key = args.key_type.generate().or_fail(Kind::Internal)?;
    let serial = Serial::random().or_fail(Kind::Internal)?;
    let ca = issue::make_ca(&spec, key, &serial).or_fail(Kind::Internal)?;
    let outputs = ca_outputs(&paths, &ca, args.force);

    files::ensure_dir(&args.out).or_fail(Kind::Write)?;
    let stamp = file_stamp(now);
    for path in &present {
        let aside = files::keep_aside(path, &stamp).or_fail(Kind::Write)?;
        report.line(format!(
            "kept the old {} as {}",
            path.display(),
            aside.display()
        ));
    }
    files::commit(&outputs).or_fail(Kind::Write)?;

    report_ca(report, &ca, &paths, true, now);
    Ok(written_paths(&outputs))
}

fn ca_outputs(paths: &CaPaths, ca: &Ca, replace: bool) -> [Output; 2] {
    [
        Output {
            path: paths.key.clone(),
            contents: ca.key().serialize_pem().into_bytes(),
            access: Access::Secret,
            replace,
        },
        Output {
            path: paths.cert.clone(),
            contents: ca.cert_pem().into_bytes(),
            access: Access::Public,
            replace,
        },
    ]
}

fn run_leaf(
    args: &LeafArgs,
    role: Role,
    now: OffsetDateTime,
    report: &Report,
) -> Result<Vec<PathBuf>, Failure> {
    let ca_paths = match (&args.ca_cert, &args.ca_key) {
        (Some(cert), Some(key)) => CaPaths::from_files(cert.clone(), key.clone()),
        _ => CaPaths::in_dir(&args.out),
    };
    let ca = load_existing_ca(&ca_paths, &args.out, now)?;
    let name = args.name.as_deref().unwrap_or(role.name());
    let paths = LeafPaths::new(&args.out, name);
    refuse_existing(
        &paths.all(),
        args.force,
        &format!("certgen {}", role.name()),
    )?;
    refuse_folders(&[&ca_paths.serial])?;

    let serial = next_serial(&ca_paths.serial).or_fail(Kind::Input)?;
    let subject = subject(&args.subject, &args.cn);
    let sans = sans_or_defaults(&args.san, &args.cn).or_fail(Kind::Input)?;
    let (spec, capped) = leaf_spec(role, subject, sans, args.days, serial, &ca, now);
    let key = args.key_type.generate().or_fail(Kind::Internal)?;
    let leaf = issue::make_leaf(&spec, &key, &ca).or_fail(Kind::Internal)?;

    let mut outputs = vec![serial_output(&ca_paths.serial, &spec.serial)];
    outputs.extend(paths.outputs(leaf, args.force));
    files::ensure_dir(&args.out).or_fail(Kind::Write)?;
    files::commit(&outputs).or_fail(Kind::Write)?;

    report_leaf(report, &spec, &paths, args.key_type, capped, now);
    report.files("updated the serial file", &[&ca_paths.serial]);
    Ok(written_paths(&outputs))
}

fn run_all(args: &AllArgs, now: OffsetDateTime, report: &Report) -> Result<Vec<PathBuf>, Failure> {
    let ca_paths = CaPaths::in_dir(&args.out);
    let existing_ca = match (
        files::occupied(&ca_paths.key),
        files::occupied(&ca_paths.cert),
    ) {
        (true, true) => Some(load_existing_ca(&ca_paths, &args.out, now)?),
        (false, false) => None,
        (key_present, _) => {
            let (present, missing) = if key_present {
                (&ca_paths.key, &ca_paths.cert)
            } else {
                (&ca_paths.cert, &ca_paths.key)
            };
            return Err(Failure::new(
                Kind::Input,
                anyhow!(
                    "{} exists but {} does not; restore the missing file, or move {} away \
                     to create a new CA",
                    present.display(),
                    missing.display(),
                    present.display()
                ),
            ));
        }
    };
    let server_paths = LeafPaths::new(&args.out, "server");
    let client_paths = LeafPaths::new(&args.out, "client");
    let leaf_files: Vec<&Path> = server_paths
        .all()
        .into_iter()
        .chain(client_paths.all())
        .collect();
    refuse_existing(&leaf_files, args.force, "certgen all")?;
    refuse_folders(&[&ca_paths.serial])?;

    let subject = subject(&args.subject, &args.cn);
    let sans = sans_or_defaults(&args.san, &args.cn).or_fail(Kind::Input)?;
    let server_serial = next_serial(&ca_paths.serial).or_fail(Kind::Input)?;
    let client_serial = server_serial.next().or_fail(Kind::Input)?;

    // RSA key generation dominates the run time; the three keys are
    // independent, so make them side by side.
    let key_count = if existing_ca.is_some() { 2 } else { 3 };
    let mut keys = generate_keys(args.key_type, key_count).or_fail(Kind::Internal)?;
    let client_key = keys.pop().expect("generated one key per certificate");
    let server_key = keys.pop().expect("generated one key per certificate");

    let created_ca = existing_ca.is_none();
    let mut outputs = Vec::new();
    let ca = match existing_ca {
        Some(ca) => ca,
        None => {
            let spec = CaSpec {
                subject: Subject {
                    cn: ca_name(args.ca_cn.as_deref()).or_fail(Kind::Internal)?,
                    ..subject.clone()
                },
                validity: Validity::from_now(now, args.ca_days),
                path_len: 0,
            };
            let ca_key = keys.pop().expect("generated the CA key");
            let serial = Serial::random().or_fail(Kind::Internal)?;
            let ca = issue::make_ca(&spec, ca_key, &serial).or_fail(Kind::Internal)?;
            outputs.extend(ca_outputs(&ca_paths, &ca, false));
            ca
        }
    };

    let (server, server_capped) = leaf_spec(
        Role::Server,
        subject.clone(),
        sans.clone(),
        args.days,
        server_serial,
        &ca,
        now,
    );
    let (client, client_capped) = leaf_spec(
        Role::Client,
        subject,
        sans,
        args.days,
        client_serial,
        &ca,
        now,
    );
    let server_leaf = issue::make_leaf(&server, &server_key, &ca).or_fail(Kind::Internal)?;
    let client_leaf = issue::make_leaf(&client, &client_key, &ca).or_fail(Kind::Internal)?;
    outputs.push(serial_output(&ca_paths.serial, &client.serial));
    outputs.extend(server_paths.outputs(server_leaf, args.force));
    outputs.extend(client_paths.outputs(client_leaf, args.force));

    files::ensure_dir(&args.out).or_fail(Kind::Write)?;
    files::commit(&outputs).or_fail(Kind::Write)?;

    report_ca(report, &ca, &ca_paths, created_ca, now);
    report_leaf(
        report,
        &server,
        &server_paths,
        args.key_type,
        server_capped,
        now,
    );
    report_leaf(
        report,
        &client,
        &client_paths,
        args.key_type,
        client_capped,
        now,
    );
    report.files("updated the serial file", &[&ca_paths.serial]);
    Ok(written_paths(&outputs))
}

fn written_paths(outputs: &[Output]) -> Vec<PathBuf> {
    outputs.iter().map(|o| o.path.clone()).collect()
}

/// Loads the CA a leaf is issued from, turning a missing CA into advice.
fn load_existing_ca(paths: &CaPaths, out: &Path, now: OffsetDateTime) -> Result<Ca, Failure> {
    let missing: Vec<&Path> = [paths.cert.as_path(), paths.key.as_path()]
        .into_iter()
        .filter(|p| !files::occupied(p))
        .collect();
    if !missing.is_empty() {
        return Err(Failure::new(
            Kind::Input,
            anyhow!(
                "no CA to issue from: {} not found; run `certgen ca --out {}` first, or pass \
                 --ca-cert and --ca-key",
                join_paths(&missing),
                out.display()
            ),
        ));
    }
    let ca = Ca::load(&paths.cert, &paths.key).or_fail(Kind::Input)?;
    if ca.not_after < now {
        return Err(Failure::new(
            Kind::Input,
            anyhow!(
                "{}: the CA expired on {}; create a new one with `certgen ca --force`",
                paths.cert.display(),
                format_time(ca.not_after)
            ),
        ));
    }
    Ok(ca)
}

/// Refuses a folder where a file is to go, even with `--force`: found only
/// when moving files into place, it would stop the run halfway.
fn refuse_folders(paths: &[&Path]) -> Result<(), Failure> {
    match paths.iter().find(|p| p.is_dir()) {
        Some(dir) => Err(Failure::new(
            Kind::Input,
            anyhow!(
                "{} is a folder; certgen needs to write a file there",
                dir.display()
            ),
        )),
        None => Ok(()),
    }
}

/// Fails with [`Kind::Exists`], naming every occupied path, unless `force`.
fn refuse_existing(paths: &[&Path], force: bool, command: &str) -> Result<(), Failure> {
    refuse_folders(paths)?;
    let present: Vec<&Path> = paths
        .iter()
        .copied()
        .filter(|p| files::occupied(p))
        .collect();
    if present.is_empty() || force {
        return Ok(());
    }
    Err(Failure::new(
        Kind::Exists,
        anyhow!(
            "refusing to overwrite {}; run `{command} --force` to issue new ones",
            join_paths(&present)
        ),
    ))
}

/// The serial for the next certificate: one past the serial file's value,
/// or a random one when there is no serial file yet.
fn next_serial(path: &Path) -> Result<Serial> {
    if !files::occupied(path) {
        return Serial::random();
    }
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("failed to read {}", path.display()))?;
    let last = Serial::parse_srl(&text).with_context(|| path.display().to_string())?;
    last.next().with_context(|| path.display().to_string())
}

fn serial_output(path: &Path, serial: &Serial) -> Output {
    Output {
        path: path.to_path_buf(),
        contents: serial.to_srl().into_bytes(),
        access: Access::Public,
        replace: true,
    }
}

fn subject(fields: &SubjectArgs, cn: &str) -> Subject {
    Subject {
        country: fields.country.clone(),
        state: fields.state.clone(),
        locality: fields.locality.clone(),
        org: fields.org.clone(),
        ou: fields.ou.clone(),
        cn: cn.to_owned(),
    }
}

/// The CA's common name: the one given, or "certgen CA" with a random tag.
///
/// Clients find a certificate's issuer by name. Were every certgen CA called
/// the same, a certificate from one set checked against another set's CA
/// would fail as a bad signature instead of an unknown issuer, and two CAs
/// in one trust store would shadow each other.
fn ca_name(given: Option<&str>) -> Result<String> {
    if let Some(name) = given {
        return Ok(name.to_owned());
    }
    let mut tag = [0u8; 4];
    aws_lc_rs::rand::fill(&mut tag)
        .map_err(|_| anyhow!("the system random number generator failed"))?;
    let hex: String = tag.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!("certgen CA {hex}"))
}

fn sans_or_defaults(given: &[San], cn: &str) -> Result<Vec<San>> {
    if given.is_empty() {
        San::defaults_for(cn)
    } else {
        Ok(given.to_vec())
    }
}

/// A leaf's request, its validity fitted inside the CA's. The flag says
/// whether `days` had to be cut.
fn leaf_spec(
    role: Role,
    subject: Subject,
    sans: Vec<San>,
    days: u32,
    serial: Serial,
    ca: &Ca,
    now: OffsetDateTime,
) -> (LeafSpec, bool) {
    let mut validity = Validity::from_now(now, days);
    let capped = validity.fit_inside(ca);
    let spec = LeafSpec {
        role,
        subject,
        sans,
        validity,
        serial,
    };
    (spec, capped)
}

fn report_ca(report: &Report, ca: &Ca, paths: &CaPaths, created: bool, now: OffsetDateTime) {
    if created {
        report.files("created the CA", &[&paths.key, &paths.cert]);
    } else {
        report.files("reused the CA", &[&paths.key, &paths.cert]);
    }
    report.detail("subject", &ca.subject);
    report.expiry(ca.not_after, now);
}

fn report_leaf(
    report: &Report,
    spec: &LeafSpec,
    paths: &LeafPaths,
    key_type: KeyType,
    capped: bool,
    now: OffsetDateTime,
) {
    report.files(
        &format!("issued the {} certificate", spec.role.name()),
        &paths.all(),
    );
    report.detail("subject", spec.subject.to_string());
    let sans: Vec<String> = spec.sans.iter().map(San::to_string).collect();
    report.detail("SANs", sans.join(", "));
    report.detail("key", key_type.name());
    report.detail("serial", spec.serial.to_string());
    report.expiry(spec.validity.not_after, now);
    if capped {
        report.line("  note: --days was cut so that the certificate does not outlive its CA");
    }
}

/// Generates `count` keys of one type, one thread each, bounded by the
/// number of cores.
fn generate_keys(key_type: KeyType, count: usize) -> Result<Vec<KeyPair>> {
    let cores = thread::available_parallelism().map_or(1, |n| n.get());
    let mut keys = Vec::with_capacity(count);
    while keys.len() < count {
        let batch = (count - keys.len()).min(cores);
        let generated: Vec<Result<KeyPair>> = thread::scope(|scope| {
            let handles: Vec<_> = (0..batch)
                .map(|_| scope.spawn(move || key_type.generate()))
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| bail!("key generation panicked"))
                })
                .collect()
        });
        for key in generated {
            keys.push(key?);
        }
    }
    Ok(keys)
}

fn join_paths(paths: &[&Path]) -> String {
    let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    names.join(", ")
}

fn format_time(t: OffsetDateTime) -> String {
    let format =
        time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
    t.format(&format).unwrap_or_else(|_| t.to_string())
}

/// A compact UTC timestamp for file names: 20261203T190204Z.
fn file_stamp(t: OffsetDateTime) -> String {
    let format = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    t.format(&format)
        .unwrap_or_else(|_| t.unix_timestamp().to_string())
}
