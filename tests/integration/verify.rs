//! `certgen verify`: a fresh certgen set passes, and each way a set goes wrong in practice is
//! caught by its own check, with the exit code a script can branch on: 0 good, 1 problems,
//! 2 unreadable input or bad usage.
//!
//! Every broken set is made here from scratch, by certgen, by the certgen library or by the
//! openssl command line, so the tests need nothing but `openssl` on the PATH. Findings are
//! read from `--json`, so each test names the check and file it expects and a telling part of
//! the message, never the layout of the text report.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use certgen::ca::Ca;
use certgen::issue::{make_leaf, LeafSpec, Role, Validity};
use certgen::keys::KeyType;
use certgen::san::San;
use certgen::serial::Serial;
use certgen::subject::Subject;
use certgen::verify::{self, Options, PublishedCert, Status};
use serde_json::Value;
use time::{Duration, OffsetDateTime};
use x509_parser::prelude::{parse_x509_certificate, X509Version};

use crate::util::{Env, Run, KEY_TYPES};

/// The check names `verify` documents, and nothing else.
const CHECKS: [&str; 12] = [
    "chain",
    "key",
    "csr",
    "name",
    "usage",
    "san",
    "validity",
    "expiry",
    "serial",
    "ca",
    "published",
    "handshake",
];

/// The parsed output of one `certgen verify --json` run.
struct Outcome {
    run: Run,
    doc: Value,
}

impl Outcome {
    fn findings(&self) -> &[Value] {
        self.doc["findings"].as_array().expect("findings is a list")
    }

    /// The findings of `status` as "check file" lines, sorted, such as "key server.key".
    fn with_status(&self, status: &str) -> Vec<String> {
        let mut lines: Vec<String> = self
            .findings()
            .iter()
            .filter(|f| f["status"] == status)
            .map(|f| format!("{} {}", str_of(f, "check"), file_name(str_of(f, "path"))))
            .collect();
        lines.sort();
        lines
    }

    fn problems(&self) -> Vec<String> {
        self.with_status("problem")
    }

    /// The message of the one finding of `status` and `check` about `file`.
    #[track_caller]
    fn message(&self, status: &str, check: &str, file: &str) -> String {
        let matching: Vec<&Value> = self
            .findings()
            .iter()
            .filter(|f| f["status"] == status && f["check"] == check)
            .filter(|f| file_name(str_of(f, "path")) == file)
            .collect();
        match matching.as_slice() {
            [finding] => str_of(finding, "message").to_owned(),
            _ => panic!(
                "expected one {status} finding of {check} for {file}, found {}\n{}",
                matching.len(),
                self.run.describe()
            ),
        }
    }

    #[track_caller]
    fn problem(&self, check: &str, file: &str) -> String {
        self.message("problem", check, file)
    }

    /// Panics unless the problems are exactly `expected` ("check file", any order).
    #[track_caller]
    fn assert_problems(&self, expected: &[&str]) {
        let mut expected: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
        expected.sort();
        let context = self.run.describe();
        assert_eq!(self.problems(), expected, "\n{context}");
        assert_eq!(self.doc["problems"], expected.len(), "{context}");
        assert_eq!(self.doc["ok"], expected.is_empty(), "{context}");
    }
}

fn str_of<'a>(finding: &'a Value, field: &str) -> &'a str {
    finding[field]
        .as_str()
        .unwrap_or_else(|| panic!("{field} is not a string in {finding}"))
}

fn file_name(path: &str) -> &str {
    Path::new(path)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or(path)
}

/// Runs `certgen verify --json ARGS`, expects exit `code`, and parses stdout.
#[track_caller]
fn verify_json(env: &Env, args: &[&str], code: i32) -> Outcome {
    let mut full = vec!["verify", "--json"];
    full.extend_from_slice(args);
    let run = env.certgen(&full).failure(code);
    let doc = serde_json::from_str(&run.stdout())
        .unwrap_or_else(|e| panic!("stdout is not JSON: {e}\n{}", run.describe()));
    Outcome { run, doc }
}

#[track_caller]
fn assert_contains(text: &str, part: &str) {
    assert!(text.contains(part), "{part:?} is not in {text:?}");
}

/// `certgen all` into `dir`, with `extra` flags.
fn certgen_set(env: &Env, dir: &str, extra: &[&str]) {
    let mut args = vec!["all", "-q", "--out", dir];
    args.extend_from_slice(extra);
    env.certgen(&args).success();
}

/// A quick set for the tests that do not depend on the key type.
fn quick_set(env: &Env, dir: &str) {
    certgen_set(env, dir, &["--key-type", "ecdsa-p256"]);
}

fn copy(env: &Env, from: &str, to: &str) {
    fs::copy(env.join(from), env.join(to)).unwrap();
}

/// The openssl configuration the recipe commands read, so that the result does not depend on
/// the machine's own openssl.cnf: the CA extensions of the stock file and the recipe's
/// `v3_req`, which names no subjectAltName and no extended key usage.
const RECIPE_CNF: &str = "\
[req]
distinguished_name = dn
x509_extensions = v3_ca

[dn]

[v3_ca]
subjectKeyIdentifier = hash
basicConstraints = critical, CA:true

[v3_req]
basicConstraints = CA:FALSE
keyUsage = nonRepudiation, digitalSignature, keyEncipherment
";

/// The nine files of the Milvus TLS recipe (gen.sh) in `dir`, made the recipe's way by the
/// openssl command line: a self-signed CA, then a request and a CA-signed certificate for the
/// server and the client, all with `CN=localhost` and no subjectAltName. With `extfile` the
/// leaves get the recipe's `v3_req` extensions; without it they get none at all, which
/// openssl before 3.2 writes as an X.509 version 1 certificate.
fn recipe_set(env: &Env, dir: &str, extfile: bool) {
    fs::create_dir_all(env.join(dir)).unwrap();
    fs::write(env.join("recipe.cnf"), RECIPE_CNF).unwrap();
    let ca_subject = "/C=CN/ST=Shanghai/L=Shanghai/O=milvus/OU=milvus/CN=localhost";
    openssl_line(
        env,
        &format!(
            "req -x509 -newkey rsa:2048 -nodes -config recipe.cnf -days 3650 \
             -keyout {dir}/ca.key -out {dir}/ca.pem -subj {ca_subject}"
        ),
    );
    let extensions = if extfile {
        "-extfile recipe.cnf -extensions v3_req"
    } else {
        ""
    };
    for leaf in ["server", "client"] {
        openssl_line(
            env,
            &format!(
                "req -new -newkey rsa:2048 -nodes -config recipe.cnf \
                 -keyout {dir}/{leaf}.key -out {dir}/{leaf}.csr \
                 -subj /C=CN/O=milvus/OU=milvus/CN=localhost"
            ),
        );
        openssl_line(
            env,
            &format!(
                "x509 -req -days 3650 -in {dir}/{leaf}.csr -out {dir}/{leaf}.pem \
                 -CA {dir}/ca.pem -CAkey {dir}/ca.key -CAcreateserial {extensions}"
            ),
        );
    }
}

/// Runs an openssl command written as one line; no argument may hold a space.
fn openssl_line(env: &Env, line: &str) {
    let args: Vec<&str> = line.split_whitespace().collect();
    env.openssl(&args).success();
}

/// The field names of a JSON object, sorted.
fn field_names(object: &Value) -> Vec<&str> {
    let mut names: Vec<&str> = object
        .as_object()
        .expect("a JSON object")
        .keys()
        .map(String::as_str)
        .collect();
    names.sort();
    names
}

/// The SHA-256 fingerprint of a certificate as openssl computes it: AB:CD:...
fn openssl_fingerprint(env: &Env, cert: &str) -> String {
    let run = env
        .openssl(&["x509", "-in", cert, "-noout", "-fingerprint", "-sha256"])
        .success();
    let out = run.stdout();
    let (_, hex) = out.trim().split_once('=').expect("openssl prints NAME=HEX");
    hex.to_owned()
}

/// The lines certgen wrote to stderr.
fn stderr_lines(run: &Run) -> Vec<String> {
    run.stderr().lines().map(str::to_owned).collect()
}

/// Exit 2, nothing on stdout, and one `error:` line on stderr that names `culprit`.
#[track_caller]
fn assert_input_error(run: Run, culprit: &str) {
    let run = run.failure(2);
    assert_eq!(run.stdout(), "", "{}", run.describe());
    let lines = stderr_lines(&run);
    assert_eq!(lines.len(), 1, "{}", run.describe());
    assert!(lines[0].starts_with("error: "), "{}", run.describe());
    assert_contains(&lines[0], culprit);
}

#[test]
fn passes_a_fresh_set_of_every_key_type_with_one_way_and_mutual_handshakes() {
    let env = Env::new();
    for key_type in KEY_TYPES {
        certgen_set(&env, key_type, &["--key-type", key_type]);

        let outcome = verify_json(&env, &[key_type], 0);
        outcome.assert_problems(&[]);
        assert_eq!(outcome.with_status("note"), Vec::<String>::new());
        for (leaf, role) in [("server.pem", "serverAuth"), ("client.pem", "clientAuth")] {
            assert_contains(&outcome.message("ok", "chain", leaf), role);
        }
        assert_eq!(
            outcome.message("ok", "name", "server.pem"),
            "is valid for localhost"
        );

        let outcome = verify_json(&env, &[key_type, "--handshake"], 0);
        outcome.assert_problems(&[]);
        assert_eq!(
            outcome.message("ok", "handshake", "server.pem"),
            "TLS 1.3 one-way handshake as localhost succeeded",
            "{key_type}"
        );

        let mut args = vec![key_type, "--handshake", "--mutual"];
        args.extend("--host localhost --host 127.0.0.1 --host ::1".split(' '));
        let outcome = verify_json(&env, &args, 0);
        outcome.assert_problems(&[]);
        let handshakes: BTreeSet<&str> = outcome
            .findings()
            .iter()
            .filter(|f| f["check"] == "handshake")
            .map(|f| str_of(f, "message"))
            .collect();
        let expected: BTreeSet<&str> = [
            "TLS 1.3 mutual handshake as localhost succeeded",
            "TLS 1.3 mutual handshake as 127.0.0.1 succeeded",
            "TLS 1.3 mutual handshake as ::1 succeeded",
        ]
        .into();
        assert_eq!(handshakes, expected, "{key_type}");
    }
}

#[test]
fn finds_server_and_client_keys_swapped() {
    let env = Env::new();
    quick_set(&env, "set");
    fs::rename(env.join("set/server.key"), env.join("set/key.tmp")).unwrap();
    fs::rename(env.join("set/client.key"), env.join("set/server.key")).unwrap();
    fs::rename(env.join("set/key.tmp"), env.join("set/client.key")).unwrap();

    let outcome = verify_json(&env, &["set"], 1);
    // Each request was made with the key that moved away, so they no longer match either.
    outcome.assert_problems(&[
        "csr client.csr",
        "csr server.csr",
        "key client.key",
        "key server.key",
    ]);
    for (key, cert) in [("server.key", "server.pem"), ("client.key", "client.pem")] {
        let message = outcome.problem("key", key);
        assert_contains(&message, &format!("does not belong to set/{cert}"));
        assert_contains(&message, "keys swapped");
    }
}

#[test]
fn finds_a_server_certificate_from_another_ca_as_unknown_issuer() {
    let env = Env::new();
    quick_set(&env, "set");
    quick_set(&env, "other");
    copy(&env, "other/server.pem", "set/server.pem");
    copy(&env, "other/server.key", "set/server.key");

    let outcome = verify_json(&env, &["set"], 1);
    // server.csr is still the one made with the replaced key.
    outcome.assert_problems(&["chain server.pem", "csr server.csr"]);
    let message = outcome.problem("chain", "server.pem");
    assert_contains(
        &message,
        "is not signed by the CA in set/ca.pem (unknown issuer)",
    );
    assert_contains(&message, "another CA");
}

#[test]
fn finds_an_expired_server_certificate() {
    let env = Env::new();
    quick_set(&env, "set");
    let ca = Ca::load(&env.join("set/ca.pem"), &env.join("set/ca.key")).unwrap();
    let now = OffsetDateTime::now_utc();
    let not_after = now - Duration::days(1);
    let spec = LeafSpec {
        role: Role::Server,
        subject: Subject {
            cn: "localhost".into(),
            ..Subject::default()
        },
        sans: San::defaults_for("localhost").unwrap(),
        validity: Validity {
            not_before: now - Duration::days(30),
            not_after,
        },
        // Below every serial certgen drew, so ca.srl stays ahead.
        serial: Serial::parse_srl("01").unwrap(),
    };
    let key = KeyType::EcdsaP256.generate().unwrap();
    let leaf = make_leaf(&spec, &key, &ca).unwrap();
    fs::write(env.join("set/server.pem"), &leaf.cert_pem).unwrap();
    fs::write(env.join("set/server.key"), &leaf.key_pem).unwrap();
    fs::write(env.join("set/server.csr"), &leaf.csr_pem).unwrap();

    let outcome = verify_json(&env, &["set"], 1);
    // The leaf ended before the CA began, so besides being expired it can never have
    // chained: the chain check says so with both periods.
    outcome.assert_problems(&["chain server.pem", "validity server.pem"]);
    let message = outcome.problem("validity", "server.pem");
    assert_contains(&message, &format!("expired on {}", not_after.date()));
    let message = outcome.problem("chain", "server.pem");
    assert_contains(&message, "never both at once");
}

#[test]
fn finds_missing_sans_in_the_openssl_recipes_output() {
    let env = Env::new();
    recipe_set(&env, "recipe", true);

    let outcome = verify_json(&env, &["recipe"], 1);
    outcome.assert_problems(&["name server.pem", "san client.pem", "san server.pem"]);
    for leaf in ["server.pem", "client.pem"] {
        let message = outcome.problem("san", leaf);
        assert_contains(&message, "has no subjectAltName");
        assert_contains(&message, "Go (since 1.15) and rustls");
        // Without an extended key usage, webpki accepts the leaf in either role.
        assert_contains(
            &outcome.message("note", "usage", leaf),
            "has no extendedKeyUsage",
        );
    }
    assert_eq!(
        outcome.problem("name", "server.pem"),
        "is not valid for localhost: its SANs are missing"
    );
}

/// Whatever the openssl version, a leaf signed without -extfile has no SAN; where openssl
/// writes it as version 1 (before 3.2), rustls cannot read it at all, and the chain check
/// says so in words.
#[test]
fn explains_leaves_openssl_signed_without_extensions() {
    let env = Env::new();
    recipe_set(&env, "bare", false);
    let pem = fs::read(env.join("bare/server.pem")).unwrap();
    let der = pem::parse(pem).unwrap();
    let (_, cert) = parse_x509_certificate(der.contents()).unwrap();
    let version_1 = cert.version() == X509Version::V1;

    let outcome = verify_json(&env, &["bare"], 1);
    let mut expected = vec!["name server.pem", "san client.pem", "san server.pem"];
    if version_1 {
        expected.extend(["chain client.pem", "chain server.pem"]);
        for leaf in ["server.pem", "client.pem"] {
            let message = outcome.problem("chain", leaf);
            assert_contains(&message, "is an X.509 version 1 certificate");
        }
    }
    outcome.assert_problems(&expected);
    assert_eq!(
        outcome.problem("name", "server.pem"),
        "is not valid for localhost: its SANs are missing"
    );

    let outcome = verify_json(&env, &["bare", "--handshake"], 1);
    let reason = if version_1 {
        "the server refused: version 1 certificate"
    } else {
        "the client refused: name mismatch"
    };
    assert_contains(&outcome.problem("handshake", "server.pem"), reason);
}

#[test]
fn rejects_a_host_the_server_certificate_does_not_name() {
    let env = Env::new();
    quick_set(&env, "set");

    let outcome = verify_json(&env, &["set", "--host", "milvus.example.com"], 1);
    outcome.assert_problems(&["name server.pem"]);
    let message = outcome.problem("name", "server.pem");
    assert_contains(&message, "is not valid for milvus.example.com");
    assert_contains(&message, "DNS:localhost");
}

#[test]
fn accepts_localhost_and_both_loopback_addresses() {
    let env = Env::new();
    quick_set(&env, "set");

    let args = [
        "set",
        "--host",
        "127.0.0.1",
        "--host",
        "::1",
        "--host",
        "localhost",
    ];
    let outcome = verify_json(&env, &args, 0);
    outcome.assert_problems(&[]);
    let names: BTreeSet<&str> = outcome
        .findings()
        .iter()
        .filter(|f| f["check"] == "name")
        .map(|f| str_of(f, "message"))
        .collect();
    let expected: BTreeSet<&str> = [
        "is valid for 127.0.0.1",
        "is valid for ::1",
        "is valid for localhost",
    ]
    .into();
    assert_eq!(names, expected);
}

#[test]
fn finds_a_server_certificate_used_as_the_client_certificate() {
    let env = Env::new();
    quick_set(&env, "set");
    copy(&env, "set/server.pem", "set/client.pem");
    copy(&env, "set/server.key", "set/client.key");

    let outcome = verify_json(&env, &["set"], 1);
    // client.csr was made with the client key that was replaced.
    outcome.assert_problems(&["chain client.pem", "csr client.csr", "usage client.pem"]);
    let message = outcome.problem("usage", "client.pem");
    assert_contains(
        &message,
        "is used as a client certificate but lacks clientAuth",
    );
    assert_contains(&message, "(it has serverAuth)");
    let message = outcome.problem("chain", "client.pem");
    assert_contains(&message, "its extended key usage lacks clientAuth");
}

#[test]
fn finds_a_serial_file_behind_the_highest_issued_serial() {
    let env = Env::new();
    quick_set(&env, "set");
    fs::write(env.join("set/ca.srl"), "01\n").unwrap();
    let highest = ["set/server.pem", "set/client.pem"]
        .map(|cert| env.openssl_serial(cert))
        .into_iter()
        .max_by_key(|hex| (hex.len(), hex.clone()))
        .unwrap();

    let outcome = verify_json(&env, &["set"], 1);
    outcome.assert_problems(&["serial ca.srl"]);
    let message = outcome.problem("serial", "ca.srl");
    assert_contains(&message, &format!("holds 01, below the serial {highest}"));
    assert_contains(&message, "would repeat a serial");
}

#[test]
fn expires_within_reports_the_certificates_inside_the_window() {
    let env = Env::new();
    certgen_set(&env, "set", &["--key-type", "ecdsa-p256", "--days", "10"]);

    for window in ["30d", "2w"] {
        let outcome = verify_json(&env, &["set", "--expires-within", window], 1);
        outcome.assert_problems(&["expiry client.pem", "expiry server.pem"]);
        let message = outcome.problem("expiry", "server.pem");
        assert_contains(&message, "within the --expires-within window");
    }
    for window in ["1d", "12h"] {
        let outcome = verify_json(&env, &["set", "--expires-within", window], 0);
        outcome.assert_problems(&[]);
    }
}

#[test]
fn rejects_an_expires_within_window_with_an_unknown_unit() {
    let env = Env::new();
    quick_set(&env, "set");
    let run = env
        .certgen(&["verify", "set", "--expires-within", "30x"])
        .failure(2);
    assert_eq!(run.stdout(), "");
    assert_contains(&stderr_lines(&run)[0], "--expires-within");
}

#[test]
fn finds_a_request_that_does_not_match_its_key() {
    let env = Env::new();
    quick_set(&env, "set");
    copy(&env, "set/client.csr", "set/server.csr");

    let outcome = verify_json(&env, &["set"], 1);
    outcome.assert_problems(&["csr server.csr"]);
    let message = outcome.problem("csr", "server.csr");
    assert_eq!(message, "was not made with set/server.key");
}

#[test]
fn published_certs_holds_the_three_milvus_samples() {
    let published = verify::published_certs();
    assert_eq!(published.len(), 3);
    let defaults: Vec<String> = Options::default()
        .published
        .into_iter()
        .map(|p| p.fingerprint)
        .collect();
    let listed: Vec<&str> = published.iter().map(|p| p.fingerprint.as_str()).collect();
    assert_eq!(defaults, listed, "Options::default() checks the samples");
    let distinct: BTreeSet<&str> = published.iter().map(|p| p.fingerprint.as_str()).collect();
    assert_eq!(distinct.len(), 3);
    for cert in &published {
        let octets: Vec<&str> = cert.fingerprint.split(':').collect();
        assert_eq!(octets.len(), 32, "{}", cert.fingerprint);
        for octet in octets {
            let upper_hex = |c: char| c.is_ascii_digit() || ('A'..='F').contains(&c);
            assert!(octet.len() == 2 && octet.chars().all(upper_hex), "{octet}");
        }
        assert_contains(&cert.source, "Milvus");
    }
}

#[test]
fn finds_a_ca_whose_private_key_is_published() {
    let env = Env::new();
    quick_set(&env, "set");
    let dir = env.join("set");
    let now = OffsetDateTime::now_utc();

    // The Milvus samples, checked by default, are not this CA: nothing to report.
    let options = Options::default();
    let findings = verify::verify(&dir, &options, now).unwrap();
    assert!(
        findings.iter().all(|f| f.status == Status::Ok),
        "{findings:#?}"
    );
    assert!(!findings.iter().any(|f| f.check == "published"));

    // The same set, once its CA is known to be public.
    let mut options = options;
    options.published.push(PublishedCert {
        fingerprint: openssl_fingerprint(&env, "set/ca.pem"),
        source: "a test that published it".to_owned(),
    });
    let findings = verify::verify(&dir, &options, now).unwrap();
    let problems: Vec<_> = findings
        .iter()
        .filter(|f| f.status == Status::Problem)
        .collect();
    assert_eq!(problems.len(), 1, "{findings:#?}");
    assert_eq!(problems[0].check, "published");
    assert_eq!(problems[0].path, dir.join("ca.pem").display().to_string());
    assert_contains(
        &problems[0].message,
        "is a sample certificate from a test that published it",
    );
    assert_eq!(verify::count_problems(&findings), 1);
}

#[test]
fn handshake_fails_on_the_openssl_recipes_output_with_a_name_mismatch() {
    let env = Env::new();
    recipe_set(&env, "recipe", true);

    let outcome = verify_json(&env, &["recipe", "--handshake"], 1);
    outcome.assert_problems(&[
        "handshake server.pem",
        "name server.pem",
        "san client.pem",
        "san server.pem",
    ]);
    let message = outcome.problem("handshake", "server.pem");
    assert_contains(
        &message,
        "TLS 1.3 one-way handshake as localhost failed: the client refused: name mismatch",
    );
}

#[test]
fn mutual_handshake_fails_when_the_client_certificate_lacks_client_auth() {
    let env = Env::new();
    quick_set(&env, "set");
    copy(&env, "set/server.pem", "set/client.pem");
    copy(&env, "set/server.key", "set/client.key");

    // One-way TLS never looks at the client certificate.
    let outcome = verify_json(&env, &["set", "--handshake"], 1);
    outcome.message("ok", "handshake", "server.pem");

    let outcome = verify_json(&env, &["set", "--handshake", "--mutual"], 1);
    let message = outcome.problem("handshake", "server.pem");
    assert_contains(
        &message,
        "TLS 1.3 mutual handshake as localhost failed: the server refused: bad key usage",
    );
}

#[test]
fn mutual_handshake_needs_a_client_certificate() {
    let env = Env::new();
    quick_set(&env, "set");
    fs::remove_file(env.join("set/client.pem")).unwrap();

    let outcome = verify_json(&env, &["set", "--mutual"], 1);
    outcome.assert_problems(&["handshake client.pem"]);
    let message = outcome.problem("handshake", "client.pem");
    assert_contains(&message, "--mutual needs client.pem and client.key");
}

#[test]
fn handshake_is_noted_as_not_tried_without_a_server_certificate() {
    let env = Env::new();
    quick_set(&env, "set");
    for name in ["server.pem", "server.key", "server.csr"] {
        fs::remove_file(env.join("set").join(name)).unwrap();
    }

    let outcome = verify_json(&env, &["set", "--handshake"], 0);
    assert_eq!(outcome.with_status("note"), ["handshake set"]);
    assert_eq!(
        outcome.message("note", "handshake", "set"),
        "no server certificate in the folder, so no handshake was tried"
    );
}

#[test]
fn notes_a_password_protected_key_instead_of_calling_it_missing() {
    let env = Env::new();
    quick_set(&env, "set");
    openssl_line(
        &env,
        "pkcs8 -topk8 -in set/server.key -out set/locked.key -passout pass:secret",
    );
    fs::rename(env.join("set/locked.key"), env.join("set/server.key")).unwrap();

    let outcome = verify_json(&env, &["set", "--handshake"], 0);
    assert_eq!(
        outcome.with_status("note"),
        ["handshake server.pem", "key server.key"]
    );
    assert_eq!(
        outcome.message("note", "key", "server.key"),
        "is password-protected, so whether it belongs to set/server.pem was not checked"
    );
    assert_eq!(
        outcome.message("note", "handshake", "server.pem"),
        "set/server.key is password-protected, so no handshake was tried"
    );
}

#[test]
fn json_output_has_exactly_the_documented_fields() {
    let env = Env::new();
    quick_set(&env, "good");
    // The recipe's output gives findings of all three kinds.
    recipe_set(&env, "recipe", true);

    for (dir, code) in [("good", 0), ("recipe", 1)] {
        let outcome = verify_json(&env, &[dir], code);
        let doc = &outcome.doc;
        let top = ["dir", "findings", "ok", "problems", "schema"];
        assert_eq!(field_names(doc), top);
        assert_eq!(doc["schema"], 1);
        assert_eq!(doc["dir"], dir);

        let mut statuses = BTreeSet::new();
        for finding in outcome.findings() {
            let fields = ["check", "message", "path", "status"];
            assert_eq!(field_names(finding), fields, "{finding}");
            let status = str_of(finding, "status");
            assert!(["ok", "problem", "note"].contains(&status), "{finding}");
            statuses.insert(status.to_owned());
            assert!(CHECKS.contains(&str_of(finding, "check")), "{finding}");
            assert!(str_of(finding, "path").starts_with(&format!("{dir}/")));
            assert!(!str_of(finding, "message").is_empty());
        }
        let problems = outcome.problems().len();
        assert_eq!(doc["problems"], problems);
        assert_eq!(doc["ok"], problems == 0);
        if dir == "recipe" {
            assert_eq!(statuses, ["note", "ok", "problem"].map(String::from).into());
        }
    }
}

#[test]
fn text_output_has_a_line_per_finding_and_ends_with_the_verdict() {
    let env = Env::new();
    quick_set(&env, "set");
    let run = env.certgen(&["verify", "set"]).success();
    let stdout = run.stdout();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.last(), Some(&"verdict: the set in set is good"));
    for line in &lines[..lines.len() - 1] {
        assert!(line.starts_with("ok      set/"), "{line}");
    }

    fs::write(env.join("set/ca.srl"), "01\n").unwrap();
    let run = env.certgen(&["verify", "set"]).failure(1);
    let stdout = run.stdout();
    assert_eq!(stdout.lines().last(), Some("verdict: 1 problem in set"));
    assert_eq!(
        stdout.lines().filter(|l| l.starts_with("PROBLEM ")).count(),
        1
    );
}

#[test]
fn rejects_a_folder_without_ca_pem() {
    let env = Env::new();
    quick_set(&env, "set");
    fs::remove_file(env.join("set/ca.pem")).unwrap();
    assert_input_error(env.certgen(&["verify", "set"]), "no ca.pem in set");
}

#[test]
fn rejects_a_missing_folder() {
    let env = Env::new();
    let run = env.certgen(&["verify", "--json", "missing"]);
    assert_input_error(run, "failed to read the folder missing");
}

#[test]
fn rejects_a_server_certificate_holding_garbage() {
    let env = Env::new();
    quick_set(&env, "set");
    fs::write(env.join("set/server.pem"), "not a certificate\n").unwrap();
    assert_input_error(env.certgen(&["verify", "set"]), "set/server.pem");
}

#[test]
fn rejects_a_host_that_is_not_a_name() {
    let env = Env::new();
    quick_set(&env, "set");
    let run = env
        .certgen(&["verify", "set", "--host", "not a name"])
        .failure(2);
    assert_eq!(run.stdout(), "");
    let first = &stderr_lines(&run)[0];
    assert_contains(first, "'not a name'");
    assert_contains(first, "--host");
}

#[test]
fn quiet_prints_nothing_for_a_good_set_and_only_problems_otherwise() {
    let env = Env::new();
    env.certgen(&["all", "-q", "--key-type", "ecdsa-p256"])
        .success();
    let run = env.certgen(&["verify", "-q"]).success();
    assert_eq!(run.stdout(), "", "{}", run.describe());
    fs::write(env.join("ca.srl"), "01\n").unwrap();
    let run = env.certgen(&["verify", "-q"]).failure(1);
    let lines: Vec<String> = run.stdout().lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), 2, "{}", run.describe());
    assert!(
        lines[0].starts_with("PROBLEM ca.srl: holds 01, below the serial"),
        "{}",
        run.describe()
    );
    assert_eq!(lines[1], "verdict: 1 problem in .");
}
