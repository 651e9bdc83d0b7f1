//! The issuing commands, step by step: resolve every certificate's settings
//! (flags over profile over defaults), refuse before generating anything if
//! a file is in the way, build everything in memory, check it against the
//! CA's name constraints, then write it all at once.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context, Result};
use rcgen::KeyPair;
use time::OffsetDateTime;

use crate::ca::Ca;
use crate::cli::{AllArgs, CaArgs, CertFlags, IssuerArgs, LeafArgs, NamedLeafArgs, OutputArgs};
use crate::constraints::NameRules;
use crate::error::{Failure, Kind, ResultExt};
use crate::files::{self, Access, Output};
use crate::issue::{self, CaSpec, IssuedLeaf, LeafSpec, Role, Validity};
use crate::keys::KeyType;
use crate::parallel;
use crate::profile::Profile;
use crate::quote::shell_word;
use crate::san::San;
use crate::serial::Serial;
use crate::settings::{Settings, DEFAULT_LEAF_CN};
use crate::subject::Subject;

/// The human summary on stderr, silenced by `--quiet`.
pub struct Report {
    /// Whether to print nothing.
    pub quiet: bool,
}

impl Report {
    pub fn line(&self, text: impl AsRef<str>) {
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

/// The CA's file names.
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

    /// The CA given with `--ca-cert` and `--ca-key`, or the one in `out`.
    fn chosen(issuer: &IssuerArgs, out: &Path) -> CaPaths {
        match (&issuer.ca_cert, &issuer.ca_key) {
            (Some(cert), Some(key)) => CaPaths::from_files(cert.clone(), key.clone()),
            _ => CaPaths::in_dir(out),
        }
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

/// A new CA to create when the folder has none.
struct NewCa {
    spec: CaSpec,
    key_type: KeyType,
}

/// One leaf to issue, its settings resolved.
struct PlannedLeaf {
    /// Base name of its files.
    name: String,
    role: Role,
    subject: Subject,
    sans: Vec<San>,
    days: u32,
    key_type: KeyType,
}

/// Everything one issuing run makes, decided before anything is generated.
struct Plan {
    output: OutputArgs,
    ca_paths: CaPaths,
    /// `None`: the CA must exist. `Some`: create it when the folder has none.
    new_ca: Option<NewCa>,
    leaves: Vec<PlannedLeaf>,
    /// The command, for advice in messages (`certgen all`).
    command: String,
}

/// `certgen server` and `certgen client`.
pub fn server_or_client(
    args: &LeafArgs,
    role: Role,
    now: OffsetDateTime,
    report: &Report,
) -> Result<Vec<PathBuf>, Failure> {
    let profile = load_profile(&args.cert)?;
    let section = match role {
        Role::Client => &profile.client,
        _ => &profile.server,
    };
    let name = args.name.clone().unwrap_or_else(|| role.name().to_owned());
    let leaf = plan_leaf(&args.cert, section, &profile.shared, name, role)?;
    let plan = Plan {
        ca_paths: CaPaths::chosen(&args.issuer, &args.output.out),
        output: args.output.clone(),
        new_ca: None,
        leaves: vec![leaf],
        command: format!("certgen {}", role.name()),
    };
    execute(&plan, now, report)
}

/// `certgen leaf NAME`: one `[[leaf]]` of the profile.
pub fn named_leaf(
    args: &NamedLeafArgs,
    now: OffsetDateTime,
    report: &Report,
) -> Result<Vec<PathBuf>, Failure> {
    if args.cert.profile.is_none() {
        return Err(Failure::new(
            Kind::Input,
            anyhow!(
                "`certgen leaf {}` needs --profile FILE naming that [[leaf]]",
                args.name
            ),
        ));
    }
    let profile = load_profile(&args.cert)?;
    let entry = profile.leaf(&args.name).or_fail(Kind::Input)?;
    let leaf = plan_leaf(
        &args.cert,
        &entry.settings,
        &profile.shared,
        entry.name.clone(),
        entry.role,
    )?;
    let plan = Plan {
        ca_paths: CaPaths::chosen(&args.issuer, &args.output.out),
        output: args.output.clone(),
        new_ca: None,
        leaves: vec![leaf],
        command: format!("certgen leaf {}", args.name),
    };
    execute(&plan, now, report)
}

/// `certgen all`: the CA unless it exists, server, client, and every
/// `[[leaf]]` of the profile.
pub fn all(args: &AllArgs, now: OffsetDateTime, report: &Report) -> Result<Vec<PathBuf>, Failure> {
    let profile = load_profile(&args.cert)?;
    let mut leaves = vec![
        plan_leaf(
            &args.cert,
            &profile.server,
            &profile.shared,
            "server".into(),
            Role::Server,
        )?,
        plan_leaf(
            &args.cert,
            &profile.client,
            &profile.shared,
            "client".into(),
            Role::Client,
        )?,
    ];
    for entry in &profile.leaves {
        let name = entry.name.clone();
        leaves.push(plan_leaf(
            &args.cert,
            &entry.settings,
            &profile.shared,
            name,
            entry.role,
        )?);
    }
    let ca_flags = Settings {
        cn: args.ca_cn.clone(),
        days: args.ca_days,
        sans: None,
        added_sans: Vec::new(),
        ..Settings::from_flags(&args.cert)
    };
    let plan = Plan {
        ca_paths: CaPaths::in_dir(&args.output.out),
        output: args.output.clone(),
        new_ca: Some(plan_ca(&ca_flags, &profile, now)?),
        leaves,
        command: "certgen all".to_owned(),
    };
    let written = execute(&plan, now, report)?;
    if written.is_empty() {
        return Ok(written);
    }
    let dir = shell_word(&args.output.out.display().to_string());
    report.line(format!(
        "next: certgen config milvus --dir {dir}      the milvus.yaml lines for these files\n      \
         certgen config pymilvus --dir {dir}    a client call (--mode 2 for mutual TLS)\n      \
         certgen verify {dir} --handshake       a TLS handshake with them, in process"
    ));
    Ok(written)
}

/// `certgen ca`: create the CA, or with `--force` replace it, keeping the
/// old pair beside the new.
///
/// What is in the folder is judged twice: once to refuse before a key is
/// generated, and again under the folder's lock, since another run may have
/// made or replaced the CA while this one generated its key. Only the second
/// judgement decides what is kept aside and replaced.
pub fn ca(args: &CaArgs, now: OffsetDateTime, report: &Report) -> Result<Vec<PathBuf>, Failure> {
    let out = &args.output.out;
    let paths = CaPaths::in_dir(out);
    refuse_leaf_names(&args.cert)?;
    refuse_folders(&[&paths.key, &paths.cert])?;
    let profile = load_profile(&args.cert)?;
    let new_ca = plan_ca(&Settings::from_flags(&args.cert), &profile, now)?;
    finish_interrupted_ca(&paths, now)?;
    if let CaState::Sound(subject) = judge_ca(&paths, &args.output, now)? {
        report_sound_ca(report, out, &subject);
        return Ok(Vec::new());
    }

    let key = new_ca.key_type.generate().or_fail(Kind::Internal)?;
    files::ensure_dir(out).or_fail(Kind::Write)?;
    let _lock = files::lock_folder(out).or_fail(Kind::Write)?;
    files::remove_stale_temps(out);
    let present = match judge_ca(&paths, &args.output, now)? {
        CaState::Sound(subject) => {
            report_sound_ca(report, out, &subject);
            return Ok(Vec::new());
        }
        CaState::Absent => Vec::new(),
        CaState::Replace(present) => present,
    };

    let serial = Serial::random().or_fail(Kind::Internal)?;
    let ca = issue::make_ca(&new_ca.spec, key, &serial).or_fail(Kind::Internal)?;
    let outputs = ca_outputs(&paths, &ca, !present.is_empty());
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

/// What `certgen ca` found in its folder.
enum CaState {
    /// No CA file: create one.
    Absent,
    /// A sound CA, and `--if-missing` asks to keep it; its subject.
    Sound(String),
    /// CA files that `--force` asks to replace.
    Replace(Vec<PathBuf>),
}

/// Judges the CA files in the folder against `--force` and `--if-missing`,
/// refusing (exit 3) to replace a CA unless forced, and (exit 2) to keep a
/// broken or half CA under `--if-missing`, since only a person should decide
/// to replace it.
fn judge_ca(paths: &CaPaths, output: &OutputArgs, now: OffsetDateTime) -> Result<CaState, Failure> {
    let present: Vec<PathBuf> = [&paths.key, &paths.cert]
        .into_iter()
        .filter(|p| files::occupied(p))
        .cloned()
        .collect();
    if present.is_empty() {
        return Ok(CaState::Absent);
    }
    if output.if_missing {
        if let Some(ca) = load_ca_if_present(paths, now)? {
            return Ok(CaState::Sound(ca.subject));
        }
    }
    if !output.force {
        let present: Vec<&Path> = present.iter().map(PathBuf::as_path).collect();
        let command = if output.out == Path::new(".") {
            "certgen ca --force".to_owned()
        } else {
            let dir = shell_word(&output.out.display().to_string());
            format!("certgen ca --out {dir} --force")
        };
        return Err(Failure::new(
            Kind::Exists,
            anyhow!(
                "refusing to replace the CA: {} already exist{}; `{command}` replaces it \
                 (keeping the old files beside it), and certificates it issued will no longer \
                 verify",
                join_paths(&present),
                if present.len() == 1 { "s" } else { "" },
            ),
        ));
    }
    Ok(CaState::Replace(present))
}

fn report_sound_ca(report: &Report, out: &Path, subject: &str) {
    report.line(format!(
        "nothing to do: {} holds a sound CA ({subject})",
        out.display()
    ));
}

/// Refuses `--san` and `--k8s-service` on `certgen ca`: a CA certificate
/// names no host, so they would otherwise be silently ignored.
fn refuse_leaf_names(flags: &CertFlags) -> Result<(), Failure> {
    let flag = if !flags.san.is_empty() {
        "--san"
    } else if !flags.k8s_service.is_empty() {
        "--k8s-service"
    } else {
        return Ok(());
    };
    Err(Failure::new(
        Kind::Input,
        anyhow!(
            "{flag} names the hosts of a server or client certificate, and a CA certificate \
             has none; give it to `certgen server`, `certgen client` or `certgen all`"
        ),
    ))
}

/// The profile named by `--profile`, or an empty one.
fn load_profile(flags: &CertFlags) -> Result<Profile, Failure> {
    match &flags.profile {
        Some(path) => Profile::load(path).or_fail(Kind::Input),
        None => Ok(Profile::default()),
    }
}

/// Resolves one leaf: flags over its section over the shared settings.
///
/// Without a CN anywhere, `server` and `client` are `localhost`, as in the
/// recipe, and a `[[leaf]]` is named after itself (`querynode`).
fn plan_leaf(
    flags: &CertFlags,
    section: &Settings,
    shared: &Settings,
    name: String,
    role: Role,
) -> Result<PlannedLeaf, Failure> {
    let settings = Settings::from_flags(flags).or(section).or(shared);
    let default_cn = if name == role.name() {
        DEFAULT_LEAF_CN
    } else {
        name.as_str()
    };
    let subject = settings.subject(default_cn);
    let sans = settings
        .sans_for(&subject.cn)
        .with_context(|| format!("the {name} certificate"))
        .or_fail(Kind::Input)?;
    Ok(PlannedLeaf {
        name,
        role,
        subject,
        sans,
        days: settings.days(),
        key_type: settings.key_type(),
    })
}

/// Resolves a new CA: the given settings over `[ca]` over the shared ones.
fn plan_ca(given: &Settings, profile: &Profile, now: OffsetDateTime) -> Result<NewCa, Failure> {
    let settings = given.or(&profile.ca.settings).or(&profile.shared);
    let cn = ca_name(settings.cn.as_deref()).or_fail(Kind::Internal)?;
    Ok(NewCa {
        spec: CaSpec {
            subject: settings.subject(&cn),
            validity: Validity::from_now(now, settings.days()),
            path_len: profile.ca.path_len.unwrap_or(0),
            rules: profile.ca.rules.clone(),
        },
        key_type: settings.key_type(),
    })
}

/// Carries out a plan: the CA (loaded or new), then every leaf.
///
/// Everything that can fail on the user's input is checked, and every key
/// generated, before the CA's folder is locked; under the lock the state is
/// read again, the serials handed out, everything signed and written. So
/// parallel runs against one CA wait for each other only for milliseconds,
/// and never repeat a serial.
fn execute(plan: &Plan, now: OffsetDateTime, report: &Report) -> Result<Vec<PathBuf>, Failure> {
    let out = &plan.output.out;
    let ca_paths = &plan.ca_paths;
    let if_missing = plan.output.if_missing;

    // A first look, to refuse early and to know which keys to make.
    finish_interrupted_ca(ca_paths, now)?;
    let existing = match &plan.new_ca {
        None => Some(load_existing_ca(ca_paths, out, now)?),
        Some(_) => load_ca_if_present(ca_paths, now)?,
    };
    let wanted = leaves_to_issue(plan, existing.as_ref(), now);
    if wanted.is_empty() && existing.is_some() {
        return keep_sound_set(plan, report);
    }
    // With --if-missing, a leaf is issued only when its files are missing or
    // unsound, so what is left of them is replaced.
    let replace = plan.output.force || if_missing;
    let targets = leaf_targets(plan, &wanted);
    refuse_existing(&paths_of(&targets), replace, &plan.command)?;
    refuse_folders(&[&ca_paths.serial])?;
    if existing.is_none() {
        refuse_orphan_serial(&ca_paths.serial, replace)?;
    }
    let rules = match (&existing, &plan.new_ca) {
        (Some(ca), _) => NameRules::of_certificate(ca.cert_der()).or_fail(Kind::Input)?,
        (None, Some(new_ca)) => new_ca.spec.rules.clone(),
        (None, None) => NameRules::default(),
    };
    for leaf in &wanted {
        rules
            .check(&leaf.sans)
            .with_context(|| format!("refusing to issue the {} certificate", leaf.name))
            .or_fail(Kind::Input)?;
    }

    // Key generation dominates the run time and the keys are independent,
    // so they are made side by side, before the lock; the CA's comes first.
    let new_ca = plan.new_ca.as_ref().filter(|_| existing.is_none());
    let key_types: Vec<KeyType> = new_ca
        .map(|ca| ca.key_type)
        .into_iter()
        .chain(wanted.iter().map(|l| l.key_type))
        .collect();
    let mut keys = generate_keys(&key_types)
        .or_fail(Kind::Internal)?
        .into_iter();
    let ca_key = new_ca.map(|_| keys.next().expect("a key for every certificate"));

    let ca_dir = files::parent_dir(&ca_paths.cert);
    files::ensure_dir(&ca_dir).or_fail(Kind::Write)?;
    files::ensure_dir(out).or_fail(Kind::Write)?;
    let _lock = files::lock_folder(&ca_dir).or_fail(Kind::Write)?;
    files::remove_stale_temps(&ca_dir);
    if out.as_path() != ca_dir {
        files::remove_stale_temps(out);
    }

    // Another run may have made the CA, or the same files, while this one
    // was generating keys: look again, under the lock.
    let mut outputs = Vec::new();
    let ca = match (load_ca_if_present(ca_paths, now)?, ca_key, new_ca) {
        (Some(ca), _, _) => ca,
        (None, Some(key), Some(new_ca)) => {
            let serial = Serial::random().or_fail(Kind::Internal)?;
            let ca = issue::make_ca(&new_ca.spec, key, &serial).or_fail(Kind::Internal)?;
            outputs.extend(ca_outputs(ca_paths, &ca, false));
            ca
        }
        _ => {
            return Err(load_existing_ca(ca_paths, out, now)
                .err()
                .unwrap_or_else(|| {
                    Failure::new(
                        Kind::Input,
                        anyhow!("the CA in {} disappeared", ca_dir.display()),
                    )
                }))
        }
    };
    let created_ca = !outputs.is_empty();
    if !created_ca {
        let rules = NameRules::of_certificate(ca.cert_der()).or_fail(Kind::Input)?;
        for leaf in &wanted {
            rules
                .check(&leaf.sans)
                .with_context(|| format!("refusing to issue the {} certificate", leaf.name))
                .or_fail(Kind::Input)?;
        }
    }
    refuse_existing(&paths_of(&targets), replace, &plan.command)?;

    // Serials are handed out in plan order, one past the serial file's.
    let mut serial = next_serial(&ca_paths.serial).or_fail(Kind::Input)?;
    let mut jobs = Vec::with_capacity(wanted.len());
    for leaf in &wanted {
        let (spec, capped) = leaf_spec(leaf, serial.clone(), &ca, now);
        serial = serial.next().or_fail(Kind::Input)?;
        let key = keys.next().expect("a key for every certificate");
        jobs.push((spec, capped, key));
    }
    // Each leaf is signed on its own; a profile with many leaves signs them
    // side by side, its serials already fixed above.
    let made = parallel::map_ordered(&jobs, parallel::cores(), |(spec, _, key)| {
        issue::make_leaf(spec, key, &ca)
    });
    let mut issued = Vec::with_capacity(wanted.len());
    let mut leaf_outputs = Vec::new();
    for (((leaf, paths), (spec, capped, _)), made) in
        wanted.iter().zip(&targets).zip(jobs).zip(made)
    {
        leaf_outputs.extend(paths.outputs(made.or_fail(Kind::Internal)?, replace));
        issued.push((leaf, paths, spec, capped));
    }
    // The serial file goes in place before the certificates, so that a run
    // killed halfway may skip a serial but never leaves one to be repeated.
    if let Some((_, _, spec, _)) = issued.last() {
        outputs.push(serial_output(&ca_paths.serial, &spec.serial));
    }
    outputs.extend(leaf_outputs);
    files::commit(&outputs).or_fail(Kind::Write)?;
    drop(_lock);

    if plan.new_ca.is_some() {
        report_ca(report, &ca, ca_paths, created_ca, now);
    }
    for (leaf, paths, spec, capped) in &issued {
        report_leaf(report, &leaf.name, spec, paths, leaf.key_type, *capped, now);
    }
    if !issued.is_empty() {
        report.files("updated the serial file", &[&ca_paths.serial]);
    }
    Ok(written_paths(&outputs))
}

/// Ends an `--if-missing` run that finds every file sound: nothing is
/// written, but a serial file that could not be read would stop the next
/// issue, so it is refused now, and the temporary files of killed runs are
/// removed, with the folder locked so that no live run is writing them.
fn keep_sound_set(plan: &Plan, report: &Report) -> Result<Vec<PathBuf>, Failure> {
    let serial = &plan.ca_paths.serial;
    if files::occupied(serial) {
        next_serial(serial)
            .context(
                "the CA's serial file is damaged; restore it, or write the highest serial issued \
                 into it",
            )
            .or_fail(Kind::Input)?;
    }
    let ca_dir = files::parent_dir(&plan.ca_paths.cert);
    let out = &plan.output.out;
    let lock = files::lock_folder(&ca_dir).or_fail(Kind::Write)?;
    files::remove_stale_temps(&ca_dir);
    if out.as_path() != ca_dir {
        files::remove_stale_temps(out);
    }
    drop(lock);
    report.line(format!(
        "nothing to do: every file in {} is there and sound",
        out.display()
    ));
    Ok(Vec::new())
}

/// Refuses to start a new CA's numbering on a serial file that is already
/// there: it belongs to a CA whose files are gone, and continuing it
/// silently would hide that. With `--force` (or `--if-missing`) the new CA
/// continues it, which never repeats a serial.
fn refuse_orphan_serial(serial: &Path, replace: bool) -> Result<(), Failure> {
    if replace || !files::occupied(serial) {
        return Ok(());
    }
    Err(Failure::new(
        Kind::Exists,
        anyhow!(
            "refusing to create a new CA beside the serial file {}, which an earlier CA left; \
             move it away, or add --force to continue its numbering",
            serial.display()
        ),
    ))
}

/// The leaves this run issues: all of them, or with `--if-missing` those
/// whose files are missing or unsound under `ca` (all, when there is no CA).
fn leaves_to_issue<'a>(
    plan: &'a Plan,
    ca: Option<&Ca>,
    now: OffsetDateTime,
) -> Vec<&'a PlannedLeaf> {
    plan.leaves
        .iter()
        .filter(|leaf| {
            let paths = LeafPaths::new(&plan.output.out, &leaf.name);
            match ca {
                Some(ca) if plan.output.if_missing => !leaf_is_sound(&paths, ca, now),
                _ => true,
            }
        })
        .collect()
}

fn leaf_targets(plan: &Plan, leaves: &[&PlannedLeaf]) -> Vec<LeafPaths> {
    leaves
        .iter()
        .map(|l| LeafPaths::new(&plan.output.out, &l.name))
        .collect()
}

fn paths_of(targets: &[LeafPaths]) -> Vec<&Path> {
    targets.iter().flat_map(LeafPaths::all).collect()
}

/// Whether a leaf's three files are there, its key belongs to its
/// certificate and to its request, the request is validly signed, and the
/// certificate is signed by `ca` and valid now: what `certgen verify` would
/// find no problem with.
fn leaf_is_sound(paths: &LeafPaths, ca: &Ca, now: OffsetDateTime) -> bool {
    let sound = || -> Option<bool> {
        let key_text = std::fs::read_to_string(&paths.key).ok()?;
        let key = crate::keys::parse_private_key(&key_text).ok()?;
        let csr = crate::decode::read_file(&paths.csr).ok()?;
        let request = crate::facts::request(csr.first()?.as_request()?).ok()?;
        let request_matches = request.signature_valid
            && request.public_key_bits == rcgen::PublicKeyData::der_bytes(&key);
        let cert_file = crate::decode::read_file(&paths.cert).ok()?;
        let cert_der = cert_file.first()?.as_certificate()?;
        let (_, cert) = x509_parser::prelude::parse_x509_certificate(cert_der).ok()?;
        let (_, ca_cert) = x509_parser::prelude::parse_x509_certificate(ca.cert_der()).ok()?;
        let key_matches = cert.public_key().subject_public_key.data.as_ref()
            == rcgen::PublicKeyData::der_bytes(&key);
        let signed = cert.verify_signature(Some(ca_cert.public_key())).is_ok();
        let valid = cert.validity().not_before.to_datetime() <= now
            && now <= cert.validity().not_after.to_datetime();
        Some(request_matches && key_matches && signed && valid)
    };
    sound().unwrap_or(false)
}

/// The CA in the folder when both its files are there, none when neither is;
/// one without the other is an error rather than a reason to make a new CA.
fn load_ca_if_present(paths: &CaPaths, now: OffsetDateTime) -> Result<Option<Ca>, Failure> {
    match (files::occupied(&paths.key), files::occupied(&paths.cert)) {
        (true, true) => load_existing_ca(paths, Path::new("."), now).map(Some),
        (false, false) => Ok(None),
        (key_present, _) => {
            let (present, missing) = if key_present {
                (&paths.key, &paths.cert)
            } else {
                (&paths.cert, &paths.key)
            };
            Err(Failure::new(
                Kind::Input,
                anyhow!(
                    "{} exists but {} does not; restore the missing file, or move {} away \
                     to create a new CA",
                    present.display(),
                    missing.display(),
                    present.display()
                ),
            ))
        }
    }
}

/// Completes the creation or replacement of a CA that a killed run left
/// halfway.
///
/// A new CA's key and certificate are moved into place one after the other,
/// the key first. A run killed between the two leaves one file in place and
/// the other, complete and flushed, in a temporary file whose process is
/// gone: beside nothing when the CA was being created, or, under
/// `ca --force`, the new key beside the old certificate (the old pair was
/// kept aside before anything moved). Every later run would refuse such a
/// CA. The temporary file is moved into place only if it pairs with the file
/// in place, so a key is never matched with another CA's certificate; an
/// old certificate it replaces is kept aside first unless a copy of it is
/// already there.
fn finish_interrupted_ca(paths: &CaPaths, now: OffsetDateTime) -> Result<(), Failure> {
    // The file to complete and the temporaries a killed run left for it:
    // the missing file, or the certificate beside a key it does not pair
    // with (loaded only when a temporary certificate is there at all).
    let unfinished = |paths: &CaPaths| {
        let target = match (files::occupied(&paths.key), files::occupied(&paths.cert)) {
            (true, false) | (true, true) => &paths.cert,
            (false, true) => &paths.key,
            (false, false) => return None,
        };
        let temps = files::stale_temps_of(target);
        let paired = || files::occupied(target) && Ca::load(&paths.cert, &paths.key).is_ok();
        (!temps.is_empty() && !paired()).then(|| (target.clone(), temps))
    };
    if unfinished(paths).is_none() {
        return Ok(());
    }
    let _lock = files::lock_folder(&files::parent_dir(&paths.cert)).or_fail(Kind::Write)?;
    // Looked at again under the lock: another run may have finished it.
    let Some((target, temps)) = unfinished(paths) else {
        return Ok(());
    };
    for temp in temps {
        let (cert, key) = if target == paths.cert {
            (&temp, &paths.key)
        } else {
            (&paths.cert, &temp)
        };
        if Ca::load(cert, key).is_err() {
            continue;
        }
        if !files::occupied(&target) {
            return files::finish_move(&temp, &target).or_fail(Kind::Write);
        }
        if !files::has_kept_copy(&target) {
            files::keep_aside(&target, &file_stamp(now)).or_fail(Kind::Write)?;
        }
        return files::finish_replace(&temp, &target).or_fail(Kind::Write);
    }
    Ok(())
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

fn written_paths(outputs: &[Output]) -> Vec<PathBuf> {
    outputs.iter().map(|o| o.path.clone()).collect()
}

/// Loads the CA a leaf is issued from, turning a missing CA into advice.
fn load_existing_ca(paths: &CaPaths, out: &Path, now: OffsetDateTime) -> Result<Ca, Failure> {
    let missing: Vec<&Path> = [paths.cert.as_path(), paths.key.as_path()]
        .into_iter()
        .filter(|p| !files::occupied(p))
        .collect();
    if missing.len() == 1 {
        // Half a CA is a damaged CA, not a missing one: making a new CA
        // would orphan the half that is there.
        let present = if missing[0] == paths.cert {
            &paths.key
        } else {
            &paths.cert
        };
        return Err(Failure::new(
            Kind::Input,
            anyhow!(
                "{} exists but {} does not; restore the missing file",
                present.display(),
                missing[0].display()
            ),
        ));
    }
    if !missing.is_empty() {
        let in_out = paths.cert == out.join("ca.pem");
        let advice = if in_out {
            format!(
                "run `certgen ca --out {}` first, or pass --ca-cert and --ca-key",
                out.display()
            )
        } else {
            "check the paths given with --ca-cert and --ca-key".to_owned()
        };
        return Err(Failure::new(
            Kind::Input,
            anyhow!(
                "no CA to issue from: {} not found; {advice}",
                join_paths(&missing)
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
            "refusing to overwrite {}; add --force to `{command}` to issue new ones",
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

/// A leaf's request, its validity fitted inside the CA's. The flag says
/// whether the validity had to be cut.
fn leaf_spec(leaf: &PlannedLeaf, serial: Serial, ca: &Ca, now: OffsetDateTime) -> (LeafSpec, bool) {
    let mut validity = Validity::from_now(now, leaf.days);
    let capped = validity.fit_inside(ca);
    let spec = LeafSpec {
        role: leaf.role,
        subject: leaf.subject.clone(),
        sans: leaf.sans.clone(),
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
    name: &str,
    spec: &LeafSpec,
    paths: &LeafPaths,
    key_type: KeyType,
    capped: bool,
    now: OffsetDateTime,
) {
    let what = if name == spec.role.name() {
        format!("issued the {name} certificate")
    } else {
        format!("issued {name} ({} certificate)", spec.role.name())
    };
    report.files(&what, &paths.all());
    report.detail("subject", spec.subject.to_string());
    let sans: Vec<String> = spec.sans.iter().map(San::to_string).collect();
    report.detail("SANs", sans.join(", "));
    report.detail("key", key_type.name());
    report.detail("serial", spec.serial.to_string());
    report.expiry(spec.validity.not_after, now);
    if capped {
        report.line("  note: its validity was cut so that it does not outlive its CA");
    }
}

/// Generates one key of each type given, in order, on one thread per core.
fn generate_keys(types: &[KeyType]) -> Result<Vec<KeyPair>> {
    parallel::map_ordered(types, parallel::cores(), |key_type| key_type.generate())
        .into_iter()
        .collect()
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
