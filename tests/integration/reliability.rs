//! What certgen promises when things go wrong around it: runs in parallel
//! on one CA, runs killed halfway, symbolic links and odd umasks, scripts
//! that run it again and again, and malformed flags. Each test is named
//! after the promise it checks; README.md's "Guarantees" points here.
//!
//! Nothing here asserts on time: the machine may be busy, and a slow run
//! must still pass. The kill loop measures how long a run takes only to
//! spread its kills over the whole of one.

#![cfg(unix)]

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use certgen::ca::Ca;
use certgen::keys::parse_private_key;
use certgen::serial::Serial;
use rcgen::PublicKeyData;
use x509_parser::certification_request::X509CertificationRequest;
use x509_parser::prelude::{parse_x509_certificate, FromDer};

use crate::util::{Env, Run, NINE_FILES};

/// Runs an issuing command quietly with ECDSA P-256 keys, the fastest kind.
fn issue(env: &Env, args: &[&str]) -> Run {
    let mut all = args.to_vec();
    all.extend(["--key-type", "ecdsa-p256", "-q"]);
    env.certgen(&all)
}

/// Starts certgen under `sh` with the given umask, its stderr captured.
fn spawn_with_umask(env: &Env, umask: &str, args: &[&str]) -> Child {
    Command::new("sh")
        .arg("-c")
        .arg(format!("umask {umask}; exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_certgen"))
        .args(args)
        .current_dir(env.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start sh")
}

/// Runs certgen to completion under the given umask.
fn run_with_umask(env: &Env, umask: &str, args: &[&str]) -> Run {
    let output = spawn_with_umask(env, umask, args)
        .wait_with_output()
        .unwrap();
    Run {
        command: format!("umask {umask}; certgen {}", args.join(" ")),
        output,
    }
}

fn mode(path: &Path) -> u32 {
    fs::symlink_metadata(path).unwrap().permissions().mode() & 0o777
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Names in `dir` in the form of certgen's temporary files,
/// `.NAME.certgen-PID-N.tmp`.
fn temporaries(dir: &Path) -> Vec<String> {
    names(dir)
        .into_iter()
        .filter(|n| n.starts_with('.') && n.contains(".certgen-") && n.ends_with(".tmp"))
        .collect()
}

/// Whether `path` holds a whole, usable file of the kind its name says:
/// a certificate, a request, a private key that loads, or a serial file.
fn check_complete(path: &Path) -> Result<(), String> {
    let text = fs::read_to_string(path).map_err(|e| e.to_string())?;
    let der = || -> Result<Vec<u8>, String> {
        pem::parse(&text)
            .map(pem::Pem::into_contents)
            .map_err(|e| e.to_string())
    };
    match path.extension().and_then(|e| e.to_str()) {
        Some("pem") => parse_x509_certificate(&der()?)
            .map(|_| ())
            .map_err(|e| e.to_string()),
        Some("csr") => X509CertificationRequest::from_der(&der()?)
            .map(|_| ())
            .map_err(|e| e.to_string()),
        Some("key") => parse_private_key(&text)
            .map(|_| ())
            .map_err(|e| format!("{e:#}")),
        Some("srl") => Serial::parse_srl(&text)
            .map(|_| ())
            .map_err(|e| format!("{e:#}")),
        _ => Err("not a file certgen writes".into()),
    }
}

/// Whether `NAME.key` belongs to `NAME.pem` in `dir`; `None` unless both
/// are there.
fn key_matches(dir: &Path, stem: &str) -> Option<bool> {
    let key_text = fs::read_to_string(dir.join(format!("{stem}.key"))).ok()?;
    let cert_text = fs::read_to_string(dir.join(format!("{stem}.pem"))).ok()?;
    let key = parse_private_key(&key_text).unwrap();
    let der = pem::parse(cert_text).unwrap().into_contents();
    let (_, cert) = parse_x509_certificate(&der).unwrap();
    Some(cert.public_key().subject_public_key.data.as_ref() == key.der_bytes())
}

fn serial_of(path: &Path) -> Serial {
    let der = pem::parse(fs::read_to_string(path).unwrap())
        .unwrap()
        .into_contents();
    let (_, cert) = parse_x509_certificate(&der).unwrap();
    Serial::from_be_bytes(cert.raw_serial())
}

/// Every file of a folder with its bytes and modification time, and the
/// folder's own modification time, which moves when an entry is added or
/// removed (so even a temporary file created and deleted again shows).
#[derive(Debug, PartialEq)]
struct Stamped {
    folder: SystemTime,
    files: BTreeMap<String, (Vec<u8>, SystemTime)>,
}

fn stamped(dir: &Path) -> Stamped {
    let files = names(dir)
        .into_iter()
        .map(|name| {
            let path = dir.join(&name);
            let modified = fs::metadata(&path).unwrap().modified().unwrap();
            (name, (fs::read(&path).unwrap(), modified))
        })
        .collect();
    Stamped {
        folder: fs::metadata(dir).unwrap().modified().unwrap(),
        files,
    }
}

/// The names whose bytes differ between two snapshots, or that are in only
/// one of them.
fn changed(before: &Stamped, after: &Stamped) -> BTreeSet<String> {
    let names: BTreeSet<&String> = before.files.keys().chain(after.files.keys()).collect();
    names
        .into_iter()
        .filter(|n| before.files.get(*n).map(|f| &f.0) != after.files.get(*n).map(|f| &f.0))
        .cloned()
        .collect()
}

/// The checks `certgen verify --json` reported as problems.
fn verify_problems(env: &Env, dir: &str) -> (Option<i32>, Vec<String>) {
    let run = env.certgen(&["verify", dir, "--json"]);
    let document: serde_json::Value = serde_json::from_str(&run.stdout())
        .unwrap_or_else(|e| panic!("verify --json: {e}\n{}", run.describe()));
    let problems = document["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["status"] == "problem")
        .map(|f| f["check"].as_str().unwrap().to_owned())
        .collect();
    (run.code(), problems)
}

/// The error line of a run that must fail with `code` in one line.
#[track_caller]
fn one_line_error(run: Run, code: i32) -> String {
    let run = run.failure(code);
    let stderr = run.stderr();
    assert_eq!(stderr.lines().count(), 1, "{}", run.describe());
    assert!(stderr.starts_with("error: "), "{}", run.describe());
    stderr.trim_end().to_owned()
}

// 1. Parallel runs

/// Four runners issuing 25 client certificates each, at the same time, from
/// one CA folder. Nothing outside shows the lock itself, so the test checks
/// all that a lost race would break: serials repeated, skipped or issued out
/// of order, a serial file behind, certificates that do not verify, and
/// temporary files left over.
#[test]
fn parallel_issues_from_one_ca_get_distinct_consecutive_serials() {
    const RUNNERS: usize = 4;
    const EACH: usize = 25;
    let env = Env::new();
    issue(&env, &["ca"]).success();
    thread::scope(|scope| {
        for runner in 0..RUNNERS {
            let env = &env;
            scope.spawn(move || {
                for index in 0..EACH {
                    let name = format!("c{runner}-{index}");
                    issue(env, &["client", "--name", &name]).success();
                }
            });
        }
    });

    let mut serials = BTreeSet::new();
    let mut files = Vec::new();
    for runner in 0..RUNNERS {
        let mut previous: Option<Serial> = None;
        for index in 0..EACH {
            let name = format!("c{runner}-{index}.pem");
            let serial = serial_of(&env.join(&name));
            // One runner's certificates were issued one after another.
            if let Some(previous) = previous {
                assert!(
                    previous < serial,
                    "{name}: serial {serial} not after {previous}"
                );
            }
            previous = Some(serial.clone());
            assert!(
                serials.insert(serial.clone()),
                "{name}: serial {serial} repeated"
            );
            files.push(name);
        }
    }
    assert_eq!(serials.len(), RUNNERS * EACH);
    // No serial skipped: without kills each run takes the next one.
    let sorted: Vec<&Serial> = serials.iter().collect();
    for pair in sorted.windows(2) {
        assert_eq!(
            pair[0].next().unwrap(),
            *pair[1],
            "serials are not consecutive"
        );
    }
    let srl = Serial::parse_srl(&fs::read_to_string(env.join("ca.srl")).unwrap()).unwrap();
    assert_eq!(
        Some(&srl),
        serials.last(),
        "ca.srl is not the highest serial"
    );

    let mut args = vec!["verify", "-CAfile", "ca.pem"];
    args.extend(files.iter().map(String::as_str));
    let run = env.openssl(&args).success();
    assert_eq!(
        run.stdout().matches(": OK").count(),
        RUNNERS * EACH,
        "{}",
        run.describe()
    );
    assert_eq!(temporaries(env.path()), Vec::<String>::new());
    assert_eq!(names(env.path()).len(), 3 + 3 * RUNNERS * EACH);
}

// 2. Killed runs

/// A small xorshift generator, so that the kill delays repeat from run to
/// run without a dependency.
struct XorShift(u64);

impl XorShift {
    fn below(&mut self, bound: u64) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x % bound
    }
}

/// How a round of the kill loop ended; the counts are printed at the end.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Landing {
    /// Left to run to the end, to measure how long a run takes.
    Uninterrupted,
    /// Exited 0 before the kill.
    Finished,
    /// `server` refused on its own: no CA yet.
    RefusedNoCa,
    /// Killed with every target as it was (temporary files aside).
    Unchanged,
    /// Killed after some files were replaced, every key still matching its
    /// certificate.
    PartlyReplaced,
    /// Killed after every file it writes was replaced.
    AllReplaced,
    /// Killed between a leaf's key and its certificate: a mismatched pair.
    KeyMismatch,
    /// Killed between the CA's key and certificate: one without the other.
    HalfCa,
}

/// The files a run of `command` replaces in a folder with a CA.
fn written_by(command: &str) -> &'static [&'static str] {
    match command {
        "server" => &["ca.srl", "server.csr", "server.key", "server.pem"],
        _ => &NINE_FILES[2..],
    }
}

/// Checks that each of the nine targets is absent or whole, that keys (and
/// the temporary files of keys) are owner-only, and says whether a leaf's
/// key and certificate disagree.
fn check_targets(dir: &Path, round: usize) -> bool {
    for name in NINE_FILES {
        let path = dir.join(name);
        if !path.exists() {
            continue;
        }
        if let Err(why) = check_complete(&path) {
            panic!("round {round}: {name} is not whole: {why}");
        }
    }
    for name in names(dir).iter().filter(|n| n.contains(".key")) {
        assert_eq!(
            mode(&dir.join(name)),
            0o600,
            "round {round}: mode of {name}"
        );
    }
    ["server", "client"]
        .iter()
        .any(|stem| key_matches(dir, stem) == Some(false))
}

/// At least 100 runs of `all --force` and `server --force`, each killed
/// after a random delay, under umask 000 so that a key created with the
/// wrong mode would show. After each: every target absent or whole, keys
/// 0600, the CA never changed once made, `verify` passing unless a leaf's
/// key and certificate come from different runs, and then `--if-missing`
/// repairing it. Runs that finish leave no temporary file.
#[test]
fn killed_runs_leave_only_whole_files_and_never_lose_the_ca() {
    const ROUNDS: usize = 130;
    const SEED: u64 = 0x5eed_cafe_f00d_0001;
    let env = Env::new();
    let dir = env.join("set");
    let mut rng = XorShift(SEED);
    let mut counts: BTreeMap<Landing, usize> = BTreeMap::new();
    let mut temporaries_seen = 0;
    let mut the_ca: Option<(Vec<u8>, Vec<u8>)> = None;
    // Delays are drawn from 0 to `window`: 40 ms at first, then 5/4 of the
    // last run left to finish, so that on a busy machine, where a run takes
    // longer, kills still land over the whole of it. Timing only spreads
    // the kills; nothing is asserted on it.
    let mut window = Duration::from_millis(40);
    let mut windows = Vec::new();

    for round in 0..ROUNDS {
        let command = if rng.below(3) == 0 { "server" } else { "all" };
        let window_micros = u64::try_from(window.as_micros()).unwrap();
        let delay = Duration::from_micros(rng.below(window_micros + 1));
        let measure = round % 10 == 9;
        let args = [
            command,
            "--out",
            "set",
            "--force",
            "--key-type",
            "ecdsa-p256",
            "-q",
        ];
        let before = dir.exists().then(|| stamped(&dir));
        let started = Instant::now();
        let mut child = spawn_with_umask(&env, "000", &args);
        if !measure {
            thread::sleep(delay);
            let _ = child.kill();
        }
        let output = child.wait_with_output().unwrap();
        if measure && output.status.success() {
            window = started.elapsed() * 5 / 4;
            windows.push(window.as_millis());
        }
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        let after = dir.exists().then(|| stamped(&dir));

        let mismatch = dir.exists() && check_targets(&dir, round);
        let ca_files = ["ca.key", "ca.pem"].map(|n| dir.join(n).exists());
        let landing = match (output.status.code(), output.status.signal()) {
            (Some(0), _) if measure => Landing::Uninterrupted,
            (Some(0), _) => Landing::Finished,
            (Some(2), _)
                if command == "server"
                    && ca_files == [false, false]
                    && stderr.contains("no CA to issue from") =>
            {
                Landing::RefusedNoCa
            }
            (Some(code), _) => panic!("round {round}: {command} exited {code}: {stderr}"),
            (None, signal) => {
                assert_eq!(signal, Some(9), "round {round}");
                let differ = match (&before, &after) {
                    (Some(before), Some(after)) => changed(before, after),
                    (None, Some(after)) => after.files.keys().cloned().collect(),
                    _ => BTreeSet::new(),
                };
                let replaced: BTreeSet<&str> = differ
                    .iter()
                    .map(String::as_str)
                    .filter(|n| NINE_FILES.contains(n))
                    .collect();
                if ca_files[0] != ca_files[1] {
                    Landing::HalfCa
                } else if mismatch {
                    Landing::KeyMismatch
                } else if replaced.is_empty() {
                    Landing::Unchanged
                } else if written_by(command).iter().all(|n| replaced.contains(n)) {
                    Landing::AllReplaced
                } else {
                    Landing::PartlyReplaced
                }
            }
        };
        *counts.entry(landing).or_default() += 1;
        if dir.exists() && !temporaries(&dir).is_empty() {
            temporaries_seen += 1;
        }

        // The CA: once made, the same two files for good.
        if ca_files == [true, true] {
            let pair = (
                fs::read(dir.join("ca.key")).unwrap(),
                fs::read(dir.join("ca.pem")).unwrap(),
            );
            match &the_ca {
                None => {
                    Ca::load(&dir.join("ca.pem"), &dir.join("ca.key"))
                        .unwrap_or_else(|e| panic!("round {round}: the CA: {e:#}"));
                    the_ca = Some(pair);
                }
                Some(first) => assert!(*first == pair, "round {round}: the CA changed"),
            }
        } else {
            assert!(the_ca.is_none(), "round {round}: the CA lost a file");
        }
        if matches!(landing, Landing::Finished | Landing::Uninterrupted) {
            assert_eq!(ca_files, [true, true], "round {round}");
            assert!(
                !mismatch,
                "round {round}: a finished run left a mismatched pair"
            );
            assert_eq!(
                temporaries(&dir),
                Vec::<String>::new(),
                "round {round}: left over"
            );
        }

        // The set is sound, or it holds a mismatched pair that verify names
        // and `--if-missing` re-issues. (Unchanged, it was checked before.)
        if ca_files == [true, true] && landing != Landing::Unchanged {
            let (code, problems) = verify_problems(&env, "set");
            if mismatch {
                assert_eq!(code, Some(1), "round {round}");
                assert!(
                    problems.iter().any(|p| p == "key"),
                    "round {round}: {problems:?}"
                );
                assert!(
                    problems.iter().all(|p| p == "key" || p == "csr"),
                    "{problems:?}"
                );
                issue(&env, &["all", "--out", "set", "--if-missing"]).success();
                assert_eq!(verify_problems(&env, "set"), (Some(0), Vec::new()));
            } else {
                assert_eq!((code, problems), (Some(0), Vec::new()), "round {round}");
            }
        }
    }

    // The loop proves something only if its kills landed inside runs, some
    // of them while files were being written (a temporary file left).
    let killed = ROUNDS
        - counts.get(&Landing::Uninterrupted).unwrap_or(&0)
        - counts.get(&Landing::Finished).unwrap_or(&0)
        - counts.get(&Landing::RefusedNoCa).unwrap_or(&0);
    assert!(
        killed >= ROUNDS / 4 && temporaries_seen > 0,
        "too few kills landed inside runs to show anything: {counts:?}, \
         {temporaries_seen} left temporary files"
    );

    // One ordinary run cleans up after all the killed ones.
    issue(&env, &["all", "--out", "set", "--force"]).success();
    assert_eq!(temporaries(&dir), Vec::<String>::new());
    assert_eq!(names(&dir), NINE_FILES);
    env.certgen(&["verify", "set", "-q"]).success();
    eprintln!(
        "killed runs (seed {SEED:#x}, {ROUNDS} rounds, windows in ms {windows:?}): {counts:?}; \
         rounds after which temporary files were left: {temporaries_seen}"
    );
}

/// Lays out what a run killed between moving the CA's two files into place
/// leaves: one file in place, the other in a temporary file of a process
/// that no longer runs (process ids stay far below 4000000000).
fn half_made_ca(env: &Env, in_place: &str, pending: &str, pending_from: &str) {
    issue(env, &["ca", "--out", "made"]).success();
    issue(env, &["ca", "--out", "other"]).success();
    fs::create_dir(env.join("set")).unwrap();
    fs::copy(
        env.join("made").join(in_place),
        env.join("set").join(in_place),
    )
    .unwrap();
    let temp = format!("set/.{pending}.certgen-4000000000-0.tmp");
    fs::copy(env.join(pending_from).join(pending), env.join(&temp)).unwrap();
}

/// A kill between the two moves of a new CA is too brief a moment for the
/// loop above to land in reliably, so its result is laid out by hand: the
/// next run finishes the move instead of refusing the half CA for good.
#[test]
fn a_ca_left_half_made_by_a_killed_run_is_completed_by_the_next_run() {
    for (in_place, pending, command) in [
        ("ca.key", "ca.pem", "all"),
        ("ca.pem", "ca.key", "server"),
        ("ca.key", "ca.pem", "ca"),
    ] {
        let env = Env::new();
        half_made_ca(&env, in_place, pending, "made");
        let run = match command {
            "ca" => issue(&env, &["ca", "--out", "set", "--if-missing"]),
            _ => issue(&env, &[command, "--out", "set"]),
        };
        run.success();
        for name in ["ca.key", "ca.pem"] {
            assert_eq!(
                fs::read(env.join("set").join(name)).unwrap(),
                fs::read(env.join("made").join(name)).unwrap(),
                "{command}: {name}"
            );
        }
        assert_eq!(mode(&env.join("set/ca.key")), 0o600);
        assert_eq!(
            temporaries(&env.join("set")),
            Vec::<String>::new(),
            "{command}"
        );
        if command != "ca" {
            env.certgen(&["verify", "set", "-q"]).success();
        }
    }
}

/// `ca --force` keeps the old pair aside, then moves the new key and the new
/// certificate into place. A kill between those two moves leaves the new
/// key beside the old certificate, a pair every later run would refuse. The
/// next run finishes the move; the old certificate is kept aside, by the
/// killed run or, when that copy is gone, by the run that finishes.
#[test]
fn a_ca_replacement_cut_between_its_two_moves_is_completed_by_the_next_run() {
    for copy_survived in [true, false] {
        let env = Env::new();
        issue(&env, &["ca", "--out", "set"]).success();
        issue(&env, &["ca", "--out", "made"]).success();
        let old_cert = fs::read(env.join("set/ca.pem")).unwrap();
        let old_key = fs::read(env.join("set/ca.key")).unwrap();
        // What the killed `ca --force` had done: the old pair kept aside,
        // the new key in place, the new certificate still in its temporary.
        fs::write(env.join("set/ca.key.replaced-20261204T000000Z"), &old_key).unwrap();
        if copy_survived {
            fs::write(env.join("set/ca.pem.replaced-20261204T000000Z"), &old_cert).unwrap();
        }
        fs::copy(env.join("made/ca.key"), env.join("set/ca.key")).unwrap();
        fs::copy(
            env.join("made/ca.pem"),
            env.join("set/.ca.pem.certgen-4000000000-0.tmp"),
        )
        .unwrap();

        issue(&env, &["all", "--out", "set"]).success();

        for name in ["ca.key", "ca.pem"] {
            assert_eq!(
                fs::read(env.join("set").join(name)).unwrap(),
                fs::read(env.join("made").join(name)).unwrap(),
                "{name} (copy survived: {copy_survived})"
            );
        }
        let kept: Vec<String> = names(&env.join("set"))
            .into_iter()
            .filter(|n| n.starts_with("ca.pem.replaced-"))
            .collect();
        assert_eq!(kept.len(), 1, "{kept:?} (copy survived: {copy_survived})");
        assert_eq!(fs::read(env.join("set").join(&kept[0])).unwrap(), old_cert);
        assert_eq!(temporaries(&env.join("set")), Vec::<String>::new());
        env.certgen(&["verify", "set", "-q"]).success();
    }
}

/// A leftover temporary file that does not pair with the CA file in place
/// is not used: the run refuses the half CA, as without it.
#[test]
fn a_leftover_temporary_of_another_ca_is_never_paired() {
    let env = Env::new();
    half_made_ca(&env, "ca.key", "ca.pem", "other");
    let before = stamped(&env.join("set"));
    let message = one_line_error(issue(&env, &["all", "--out", "set"]), 2);
    assert!(
        message.contains("set/ca.key exists but set/ca.pem does not"),
        "{message}"
    );
    assert_eq!(stamped(&env.join("set")), before);
}

// 3. Hostile paths

/// Where a symbolic link sits at a target, certgen refuses without --force
/// and with --force replaces the link itself; the file it points to keeps
/// its bytes. Links relative, absolute and dangling.
#[test]
fn symlinked_targets_are_never_written_through() {
    let env = Env::new();
    issue(&env, &["all", "--out", "set"]).success();
    fs::create_dir(env.join("outside")).unwrap();
    fs::write(env.join("outside/secret"), "not certgen's\n").unwrap();
    // Stands in for /etc/passwd: a file outside, owned by the test.
    fs::write(env.join("outside/passwd"), "root:x:0:0::/root:/bin/sh\n").unwrap();
    fs::copy(env.join("set/ca.srl"), env.join("outside/serial")).unwrap();
    let links: [(&str, PathBuf); 4] = [
        ("server.key", PathBuf::from("../outside/secret")),
        ("client.pem", env.join("outside/passwd")),
        ("client.key", PathBuf::from("../outside/absent")),
        ("ca.srl", PathBuf::from("../outside/serial")),
    ];
    for (name, target) in &links {
        let path = env.join("set").join(name);
        fs::remove_file(&path).unwrap();
        symlink(target, &path).unwrap();
    }
    let outside = env.snapshot("outside");

    for command in ["server", "client", "all"] {
        let message = one_line_error(issue(&env, &[command, "--out", "set"]), 3);
        assert!(message.contains("refusing to overwrite"), "{message}");
        assert_eq!(env.snapshot("outside"), outside, "{command}");
        for (name, target) in &links {
            assert_eq!(&fs::read_link(env.join("set").join(name)).unwrap(), target);
        }
    }

    issue(&env, &["server", "--out", "set", "--force"]).success();
    issue(&env, &["client", "--out", "set", "--force"]).success();
    assert_eq!(env.snapshot("outside"), outside);
    assert!(!env.join("outside/absent").exists());
    for (name, _) in &links {
        let path = env.join("set").join(name);
        assert!(
            fs::symlink_metadata(&path).unwrap().is_file(),
            "{name} is still a link"
        );
        check_complete(&path).unwrap();
    }
    assert_eq!(mode(&env.join("set/server.key")), 0o600);
    assert_eq!(mode(&env.join("set/client.key")), 0o600);
    env.certgen(&["verify", "set", "-q"]).success();

    // `ca --force` keeps the old pair aside; a linked ca.key is kept as the
    // link, and its target keeps its bytes.
    issue(&env, &["ca", "--out", "pki"]).success();
    fs::remove_file(env.join("pki/ca.key")).unwrap();
    symlink("../outside/secret", env.join("pki/ca.key")).unwrap();
    one_line_error(issue(&env, &["ca", "--out", "pki"]), 3);
    issue(&env, &["ca", "--out", "pki", "--force"]).success();
    assert_eq!(env.snapshot("outside"), outside);
    assert!(fs::symlink_metadata(env.join("pki/ca.key"))
        .unwrap()
        .is_file());
    assert_eq!(mode(&env.join("pki/ca.key")), 0o600);
    let aside = names(&env.join("pki"))
        .into_iter()
        .find(|n| n.starts_with("ca.key.replaced-"))
        .expect("the old ca.key kept aside");
    assert_eq!(
        fs::read_link(env.join("pki").join(aside)).unwrap(),
        Path::new("../outside/secret")
    );
}

/// Keys are created 0600 and everything else 0644 whatever the umask, and a
/// folder certgen creates is never writable by others, even under umask 000.
#[test]
fn keys_are_owner_only_under_any_umask() {
    let env = Env::new();
    for (umask, folder) in [("000", 0o755), ("077", 0o700)] {
        let out = format!("u{umask}/nested");
        let common = ["--out", out.as_str(), "--key-type", "ecdsa-p256", "-q"];
        for command in [
            &["all"][..],
            &["client", "--name", "extra"],
            &["ca", "--force"],
        ] {
            let args: Vec<&str> = command.iter().chain(&common).copied().collect();
            run_with_umask(&env, umask, &args).success();
        }
        let dir = env.join(&out);
        for name in names(&dir) {
            let expected = if name.contains(".key") { 0o600 } else { 0o644 };
            assert_eq!(mode(&dir.join(&name)), expected, "umask {umask}: {name}");
        }
        assert!(names(&dir)
            .iter()
            .any(|n| n.starts_with("ca.key.replaced-")));
        assert_eq!(mode(&dir), folder, "umask {umask}: the folder");
        assert_eq!(
            mode(&env.join(&format!("u{umask}"))),
            folder,
            "umask {umask}: its parent"
        );
    }
}

/// An output path that is a file, or that cannot be created because a file
/// is in the way, stops the run with one line and exit 4, before anything
/// is written.
#[test]
fn unusable_output_paths_fail_in_one_line_and_write_nothing() {
    let env = Env::new();
    issue(&env, &["ca"]).success();
    fs::write(env.join("plain"), "a file\n").unwrap();
    let cases: [(&[&str], &str); 5] = [
        (
            &["all", "--out", "plain"],
            "error: plain exists and is not a folder",
        ),
        (
            &["ca", "--out", "plain"],
            "error: plain exists and is not a folder",
        ),
        (
            &["all", "--out", "plain/sub"],
            "error: failed to create the folder plain/sub",
        ),
        (
            &["ca", "--out", "plain/sub/deeper"],
            "error: failed to create the folder plain/sub",
        ),
        (
            &[
                "server",
                "--ca-cert",
                "ca.pem",
                "--ca-key",
                "ca.key",
                "--out",
                "plain/sub",
            ],
            "error: failed to create the folder plain/sub",
        ),
    ];
    for (args, expected) in cases {
        let before = env.snapshot(".");
        let message = one_line_error(issue(&env, args), 4);
        assert!(message.starts_with(expected), "{args:?}: {message}");
        assert_eq!(env.snapshot("."), before, "{args:?}");
    }
}

/// A folder the user may not write to fails with exit 4 and one line.
///
/// Root ignores permissions, so as root (as in CI) the runs are made as the
/// unprivileged user `nobody` with `setpriv`, from a copy of the binary in
/// the test's folder so that nobody can reach it; the CA files are nobody's
/// so that only the writing can fail.
#[test]
fn a_read_only_folder_fails_in_one_line_and_writes_nothing() {
    const NOBODY: u32 = 65534;
    let env = Env::new();
    issue(&env, &["ca", "--out", "ro"]).success();
    let as_root = Command::new("id").arg("-u").output().unwrap().stdout == b"0\n";
    let certgen = if as_root {
        fs::set_permissions(env.path(), fs::Permissions::from_mode(0o755)).unwrap();
        let copy = env.join("certgen");
        fs::copy(env!("CARGO_BIN_EXE_certgen"), &copy).unwrap();
        for path in [env.join("ro"), env.join("ro/ca.key"), env.join("ro/ca.pem")] {
            std::os::unix::fs::chown(&path, Some(NOBODY), Some(NOBODY)).unwrap();
        }
        copy
    } else {
        PathBuf::from(env!("CARGO_BIN_EXE_certgen"))
    };
    fs::set_permissions(env.join("ro"), fs::Permissions::from_mode(0o555)).unwrap();
    let before = env.snapshot("ro");
    for command in ["all", "server", "client"] {
        let args = [command, "--out", "ro", "--key-type", "ecdsa-p256", "-q"];
        let mut run = if as_root {
            let mut setpriv = Command::new("setpriv");
            setpriv.args(["--reuid=65534", "--regid=65534", "--clear-groups"]);
            setpriv.arg(&certgen);
            setpriv
        } else {
            Command::new(&certgen)
        };
        let output = run.args(args).current_dir(env.path()).output().unwrap();
        let run = Run {
            command: format!("certgen {}", args.join(" ")),
            output,
        };
        let message = one_line_error(run, 4);
        assert!(message.contains("ro/"), "{message}");
        assert_eq!(env.snapshot("ro"), before, "{command}");
    }
    fs::set_permissions(env.join("ro"), fs::Permissions::from_mode(0o755)).unwrap();
}

// 4. --if-missing

fn sound_set(env: &Env) -> PathBuf {
    issue(env, &["all", "--out", "set"]).success();
    env.join("set")
}

/// On a sound set, every issuing command with --if-missing exits 0 and
/// touches nothing: the same bytes, modification times and entries.
#[test]
fn if_missing_touches_nothing_when_the_set_is_sound() {
    let env = Env::new();
    let dir = sound_set(&env);
    let before = stamped(&dir);
    for command in ["all", "server", "client", "ca"] {
        let run = env
            .certgen(&[command, "--out", "set", "--if-missing"])
            .success();
        assert!(
            run.stderr().starts_with("nothing to do"),
            "{}",
            run.describe()
        );
        assert_eq!(
            stamped(&dir),
            before,
            "{command} --if-missing changed the set"
        );
    }
}

/// A missing file gets its leaf re-issued, and nothing else changes but the
/// serial file.
#[test]
fn if_missing_issues_only_what_is_missing() {
    let env = Env::new();
    let dir = sound_set(&env);
    fs::remove_file(dir.join("client.pem")).unwrap();
    let before = stamped(&dir);
    issue(&env, &["all", "--out", "set", "--if-missing"]).success();
    let after = stamped(&dir);
    let expected = ["ca.srl", "client.csr", "client.key", "client.pem"];
    assert_eq!(changed(&before, &after), expected.map(String::from).into());
    for (name, (bytes, modified)) in &before.files {
        if !expected.contains(&name.as_str()) {
            assert_eq!(
                after.files[name],
                (bytes.clone(), *modified),
                "{name} was touched"
            );
        }
    }
    env.certgen(&["verify", "set", "-q"]).success();
}

/// A leaf whose key is not its certificate's is re-issued, and the set
/// verifies again.
#[test]
fn if_missing_reissues_a_leaf_whose_key_does_not_match() {
    let env = Env::new();
    let dir = sound_set(&env);
    fs::copy(dir.join("client.key"), dir.join("server.key")).unwrap();
    assert_eq!(verify_problems(&env, "set").0, Some(1));
    let before = stamped(&dir);
    issue(&env, &["all", "--out", "set", "--if-missing"]).success();
    let expected = ["ca.srl", "server.csr", "server.key", "server.pem"];
    assert_eq!(
        changed(&before, &stamped(&dir)),
        expected.map(String::from).into()
    );
    assert_eq!(key_matches(&dir, "server"), Some(true));
    env.certgen(&["verify", "set", "-q"]).success();
}

/// A CA that is not sound is never repaired by guesswork: --if-missing
/// refuses it with a message that says what is wrong, and writes nothing.
#[test]
fn if_missing_refuses_a_broken_ca_and_writes_nothing() {
    let env = Env::new();
    let dir = sound_set(&env);
    issue(&env, &["ca", "--out", "other"]).success();
    let original_key = fs::read(dir.join("ca.key")).unwrap();

    fs::copy(env.join("other/ca.key"), dir.join("ca.key")).unwrap();
    fs::remove_file(dir.join("client.pem")).unwrap();
    let before = stamped(&dir);
    for command in ["all", "server", "client", "ca"] {
        let message = one_line_error(issue(&env, &[command, "--out", "set", "--if-missing"]), 2);
        assert!(
            message.contains("does not belong to the CA certificate"),
            "{message}"
        );
        assert_eq!(stamped(&dir), before, "{command}");
    }

    fs::write(dir.join("ca.key"), original_key).unwrap();
    fs::remove_file(dir.join("ca.pem")).unwrap();
    let before = stamped(&dir);
    for command in ["all", "ca"] {
        let message = one_line_error(issue(&env, &[command, "--out", "set", "--if-missing"]), 2);
        assert!(
            message.contains("set/ca.key exists but set/ca.pem does not"),
            "{message}"
        );
        assert_eq!(stamped(&dir), before, "{command}");
    }
}

/// --if-missing and --force ask for opposite things.
#[test]
fn if_missing_and_force_together_are_a_usage_error() {
    let env = Env::new();
    for command in ["all", "ca", "server", "client"] {
        let run = env
            .certgen(&[command, "--if-missing", "--force"])
            .failure(2);
        assert!(
            run.stderr().contains("cannot be used with"),
            "{}",
            run.describe()
        );
        assert_eq!(env.listing("."), Vec::<String>::new());
    }
}

// 5. Bad input

/// Malformed values for the flags of every command, each with the text that
/// must appear in stderr (the flag, or for --profile the file). The
/// commands that read a set read the one in `set`.
const BAD_FLAGS: &[(&[&str], &str)] = &[
    (&["all", "--country", "CHN"], "--country"),
    (&["all", "--country", "C"], "--country"),
    (&["ca", "--country", "C1"], "--country"),
    (&["server", "--country", ""], "--country"),
    (&["client", "--country", "Ü1"], "--country"),
    (&["all", "--state", LONG_129], "--state"),
    (&["all", "--state", "Shang\u{7}hai"], "--state"),
    (&["ca", "--state", " "], "--state"),
    (&["all", "--locality", LONG_129], "--locality"),
    (&["server", "--locality", "tab\there"], "--locality"),
    (&["all", "--org", LONG_65], "--org"),
    (&["client", "--org", "new\nline"], "--org"),
    (&["all", "--ou", LONG_65], "--ou"),
    (&["ca", "--ou", "delete\u{7f}"], "--ou"),
    (&["all", "--cn", LONG_65], "--cn"),
    (&["ca", "--cn", "escape\u{1b}[31m"], "--cn"),
    (&["server", "--cn", "next\u{85}line"], "--cn"),
    (&["all", "--cn", ""], "--cn"),
    (&["all", "--ca-cn", LONG_65], "--ca-cn"),
    (&["all", "--ca-cn", "a\rb"], "--ca-cn"),
    (&["all", "--san", ""], "--san"),
    (&["all", "--san", "my host"], "--san"),
    (&["all", "--san", "a..b"], "--san"),
    (&["all", "--san", "*.*.example.com"], "--san"),
    (&["all", "--san", "under_score.example"], "--san"),
    (&["all", "--san=-leading.example"], "--san"),
    (&["server", "--san", "10.0.0"], "--san"),
    (&["server", "--san", "IP:10.0.0.256"], "--san"),
    (&["server", "--san", "DNS:"], "--san"),
    (&["client", "--san", "email:nobody"], "--san"),
    (&["client", "--san", "URI:no-scheme"], "--san"),
    (&["all", "--days", "0"], "--days"),
    (&["all", "--days", "36501"], "--days"),
    (&["server", "--days", "abc"], "--days"),
    (&["client", "--days=-1"], "--days"),
    (&["ca", "--days", "1.5"], "--days"),
    (&["all", "--ca-days", "0"], "--ca-days"),
    (&["all", "--ca-days", "36501"], "--ca-days"),
    (&["all", "--ca-days", "ten"], "--ca-days"),
    (&["all", "--key-type", "dsa"], "--key-type"),
    (&["ca", "--key-type", "RSA2048"], "--key-type"),
    (&["server", "--key-type", ""], "--key-type"),
    (&["server", "--name", "../x"], "--name"),
    (&["server", "--name", ".hidden"], "--name"),
    (&["client", "--name", "ca"], "--name"),
    (&["client", "--name", ""], "--name"),
    (&["client", "--name", "a/b"], "--name"),
    (&["server", "--ca-cert", "ca.pem"], "--ca-key"),
    (&["client", "--ca-key", "ca.key"], "--ca-cert"),
    (&["all", "--k8s-service", "Milvus"], "--k8s-service"),
    (&["server", "--k8s-service=-x"], "--k8s-service"),
    (&["server", "--k8s-service", LONG_64_LABEL], "--k8s-service"),
    (&["all", "--k8s-service", "a.b"], "--k8s-service"),
    (&["all", "--namespace", "Bad_NS"], "--namespace"),
    (&["server", "--namespace", ""], "--namespace"),
    (&["all", "--profile", "nope.toml"], "the profile nope.toml"),
    (
        &["ca", "--out", "new", "--profile", "nope.toml"],
        "the profile nope.toml",
    ),
    (&["server", "--profile", "."], "the profile ."),
    (&["all", "--profile", "bad.toml"], "bad.toml:1:8: \"days\""),
    (&["leaf", "db"], "--profile"),
    (
        &["leaf", "db", "--profile", "nope.toml"],
        "the profile nope.toml",
    ),
    (&["inspect", "nowhere.pem"], "nowhere.pem"),
    (
        &["verify", "set", "--expires-within", "3x"],
        "--expires-within",
    ),
    (
        &["verify", "set", "--expires-within", "0d"],
        "--expires-within",
    ),
    (&["verify", "nowhere"], "nowhere"),
    (&["config", "nginx", "--dir", "set"], "<TARGET>"),
    (
        &["config", "milvus", "--dir", "set", "--mode", "3"],
        "--mode",
    ),
    (
        &[
            "config",
            "milvus",
            "--dir",
            "set",
            "--mount",
            "relative/path",
        ],
        "--mount",
    ),
    (
        &[
            "config",
            "pymilvus",
            "--dir",
            "set",
            "--server-name",
            "other.example",
        ],
        "--server-name",
    ),
    (&["config", "curl", "--dir", "nowhere"], "nowhere"),
    (
        &["export", "k8s", "--dir", "set", "--layout", "foo"],
        "--layout",
    ),
    (
        &["export", "k8s", "--dir", "set", "--namespace", "Bad_NS"],
        "--namespace",
    ),
    (
        &["export", "k8s", "--dir", "set", "--name", "Bad_Name"],
        "--name",
    ),
    (&["init", "--template", "nope"], "nope"),
    (&["completions", "tcsh"], "<SHELL>"),
];

const LONG_65: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const LONG_129: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const LONG_64_LABEL: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

/// Every case of [`BAD_FLAGS`] exits 2, names its flag and writes nothing,
/// run in a folder that holds a CA (so that `server` and `client` get as
/// far as they can), a profile with a bad value, and a whole set in `set`
/// for the commands that read one.
#[test]
fn every_flag_rejects_malformed_values_with_exit_2_naming_it() {
    assert_eq!(
        (LONG_65.len(), LONG_129.len(), LONG_64_LABEL.len()),
        (65, 129, 64)
    );
    let env = Env::new();
    issue(&env, &["ca"]).success();
    issue(&env, &["all", "--out", "set"]).success();
    fs::write(env.join("bad.toml"), "days = 0\n").unwrap();
    let before = (env.snapshot("."), env.snapshot("set"));
    for (args, expected) in BAD_FLAGS {
        let run = env.certgen(args).failure(2);
        let stderr = run.stderr();
        assert!(stderr.starts_with("error: "), "{}", run.describe());
        assert!(
            stderr.contains(expected),
            "expected {expected:?}\n{}",
            run.describe()
        );
        assert!(!stderr.contains("panicked"), "{}", run.describe());
        assert_eq!(run.stdout(), "", "{}", run.describe());
        let after = (env.snapshot("."), env.snapshot("set"));
        assert_eq!(after, before, "{args:?} changed the folder");
    }
}
