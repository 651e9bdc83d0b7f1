//! TOML profiles end to end: each template and sample profile issued and
//! judged by the openssl command line, the order in which settings win,
//! broken profiles refused with their place in the file, and CAs held to
//! their name constraints.
//!
//! The Milvus recipe (gen.sh with its openssl.cnf) is rerun here step by
//! step with openssl, so nothing outside the repository is read.

use std::fs;

use certgen::ca::Ca;
use certgen::issue::{make_leaf, LeafSpec, Role, Validity};
use certgen::keys::KeyType;
use certgen::san::San;
use certgen::serial::Serial;
use certgen::subject::Subject;
use time::{Date, Month, OffsetDateTime};

use crate::util::{hex_plus_one, Env};

/// The sample profile of a single-host Milvus with a name-constrained CA.
const STANDALONE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/examples/profiles/standalone.toml"
);

/// The Milvus components of the `milvus-cluster` template, each a [[leaf]].
const COMPONENTS: [&str; 6] = [
    "rootcoord",
    "datacoord",
    "querycoord",
    "datanode",
    "querynode",
    "indexnode",
];

/// The templates `certgen init --list` names, in its order.
const TEMPLATES: [&str; 3] = ["recipe", "milvus-cluster", "minimal"];

/// Writes a profile into the folder and returns its name, for `--profile`.
fn write_profile(env: &Env, name: &'static str, text: &str) -> &'static str {
    fs::write(env.join(name), text).unwrap();
    name
}

/// `openssl x509 -noout -subject`, without the trailing newline.
fn subject(env: &Env, cert: &str) -> String {
    let run = env.openssl(&["x509", "-in", cert, "-noout", "-subject"]);
    run.success().stdout().trim_end().to_owned()
}

/// The subjectAltName entries as openssl prints them (`DNS:a`,
/// `IP Address:10.0.0.1`); empty when the certificate has none.
fn sans(env: &Env, cert: &str) -> Vec<String> {
    let run = env.openssl(&["x509", "-in", cert, "-noout", "-ext", "subjectAltName"]);
    let stdout = run.success().stdout();
    let mut lines = stdout.lines();
    match lines.next() {
        Some(header) if header.starts_with("X509v3 Subject Alternative Name") => lines
            .flat_map(|line| line.split(", "))
            .map(|entry| entry.trim().to_owned())
            .collect(),
        _ => Vec::new(),
    }
}

/// `openssl x509 -noout -text`.
fn text(env: &Env, cert: &str) -> String {
    let run = env.openssl(&["x509", "-in", cert, "-noout", "-text"]);
    run.success().stdout()
}

/// The certificate's key type, by certgen's name for it, as openssl reads
/// the subject public key.
fn key_type(env: &Env, cert: &str) -> &'static str {
    let text = text(env, cert);
    let has = |needle: &str| text.contains(needle);
    if has("Public Key Algorithm: ED25519") {
        "ed25519"
    } else if has("NIST CURVE: P-256") {
        "ecdsa-p256"
    } else if has("NIST CURVE: P-384") {
        "ecdsa-p384"
    } else if has("Public Key Algorithm: rsaEncryption") {
        let bits = ["2048", "3072", "4096"]
            .into_iter()
            .find(|bits| has(&format!("Public-Key: ({bits} bit)")))
            .unwrap_or_else(|| panic!("{cert}: RSA of an unexpected size\n{text}"));
        match bits {
            "2048" => "rsa2048",
            "3072" => "rsa3072",
            _ => "rsa4096",
        }
    } else {
        panic!("{cert}: unknown key type\n{text}")
    }
}

/// notAfter from `openssl x509 -enddate`, which prints it in the form
/// `notAfter=Dec  3 19:52:45 2027 GMT`.
fn not_after(env: &Env, cert: &str) -> OffsetDateTime {
    let run = env.openssl(&["x509", "-in", cert, "-noout", "-enddate"]);
    let stdout = run.success().stdout();
    let value = stdout.trim().strip_prefix("notAfter=").unwrap();
    let parts: Vec<&str> = value.split_whitespace().collect();
    assert_eq!(parts.len(), 5, "{value:?}");
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = months.iter().position(|m| *m == parts[0]).unwrap() as u8 + 1;
    let hms: Vec<u8> = parts[2].split(':').map(|p| p.parse().unwrap()).collect();
    Date::from_calendar_date(
        parts[3].parse().unwrap(),
        Month::try_from(month).unwrap(),
        parts[1].parse().unwrap(),
    )
    .unwrap()
    .with_hms(hms[0], hms[1], hms[2])
    .unwrap()
    .assume_utc()
}

/// Asserts that a certificate ends `days` days from now, give or take one.
#[track_caller]
fn assert_days(env: &Env, cert: &str, days: i64) {
    let left = (not_after(env, cert) - OffsetDateTime::now_utc()).as_seconds_f64() / 86_400.0;
    assert!(
        (left - days as f64).abs() <= 1.0,
        "{cert}: ends in {left:.2} days, expected {days}"
    );
}

/// Runs `openssl verify -CAfile CA` with `extra` before the certificate.
fn openssl_verify(env: &Env, ca: &str, extra: &[&str], cert: &str) -> crate::util::Run {
    let mut args = vec!["verify", "-CAfile", ca];
    args.extend_from_slice(extra);
    args.push(cert);
    env.openssl(&args)
}

/// Asserts that openssl verifies `cert` for each of its SANs and for the
/// purposes of `role`, and refuses it for the purpose `role` lacks.
#[track_caller]
fn assert_verifies_for_names_and_role(env: &Env, ca: &str, cert: &str, role: Role) {
    let names = sans(env, cert);
    assert!(!names.is_empty(), "{cert} has no SANs");
    for name in &names {
        let check = match name.split_once(':') {
            Some(("DNS", host)) => ["-verify_hostname", host],
            Some(("IP Address", ip)) => ["-verify_ip", ip],
            _ => panic!("{cert}: unexpected SAN {name}"),
        };
        let run = openssl_verify(env, ca, &check, cert).success();
        assert_eq!(run.stdout(), format!("{cert}: OK\n"), "{name}");
    }
    let (server, client) = match role {
        Role::Server => (true, false),
        Role::Client => (false, true),
        Role::Both => (true, true),
    };
    for (purpose, expected) in [("sslserver", server), ("sslclient", client)] {
        let run = openssl_verify(env, ca, &["-purpose", purpose], cert);
        assert_eq!(
            run.code() == Some(0),
            expected,
            "{cert} for {purpose}\n{}",
            run.describe()
        );
    }
}

#[test]
fn recipe_template_matches_the_subjects_of_gen_sh_and_adds_sans() {
    let env = Env::new();

    // gen.sh with its variables, step by step. The openssl.cnf it names
    // contributes only the v3_req section to these commands.
    fs::write(
        env.join("recipe.cnf"),
        "[ req ]\ndistinguished_name = req_distinguished_name\n\
         [ req_distinguished_name ]\n\
         [ v3_req ]\nbasicConstraints = CA:FALSE\n\
         keyUsage = nonRepudiation, digitalSignature, keyEncipherment\n",
    )
    .unwrap();
    fs::create_dir(env.join("recipe")).unwrap();
    let ca_subject = "/C=CN/ST=Shanghai/L=Shanghai/O=milvus/OU=milvus/CN=localhost";
    let leaf_subject = "/C=CN/O=milvus/OU=milvus/CN=localhost";
    env.openssl(&["genrsa", "-out", "recipe/ca.key", "2048"])
        .success();
    env.openssl(&[
        "req",
        "-new",
        "-x509",
        "-key",
        "recipe/ca.key",
        "-out",
        "recipe/ca.pem",
        "-days",
        "3650",
        "-subj",
        ca_subject,
    ])
    .success();
    for leaf in ["server", "client"] {
        let key = format!("recipe/{leaf}.key");
        let csr = format!("recipe/{leaf}.csr");
        let pem = format!("recipe/{leaf}.pem");
        env.openssl(&["genpkey", "-algorithm", "RSA", "-out", &key])
            .success();
        env.openssl(&[
            "req",
            "-new",
            "-nodes",
            "-key",
            &key,
            "-out",
            &csr,
            "-days",
            "3650",
            "-subj",
            leaf_subject,
            "-config",
            "recipe.cnf",
            "-extensions",
            "v3_req",
        ])
        .success();
        env.openssl(&[
            "x509",
            "-req",
            "-days",
            "3650",
            "-in",
            &csr,
            "-out",
            &pem,
            "-CA",
            "recipe/ca.pem",
            "-CAkey",
            "recipe/ca.key",
            "-CAcreateserial",
            "-extfile",
            "recipe.cnf",
            "-extensions",
            "v3_req",
        ])
        .success();
    }

    env.certgen(&["init", "--template", "recipe", "recipe.toml"])
        .success();
    env.certgen(&["all", "--profile", "recipe.toml", "--out", "certgen", "-q"])
        .success();

    let expected = [
        (
            "ca.pem",
            "subject=C = CN, ST = Shanghai, L = Shanghai, O = milvus, OU = milvus, CN = localhost",
        ),
        (
            "server.pem",
            "subject=C = CN, O = milvus, OU = milvus, CN = localhost",
        ),
        (
            "client.pem",
            "subject=C = CN, O = milvus, OU = milvus, CN = localhost",
        ),
    ];
    for (file, line) in expected {
        let ours = format!("certgen/{file}");
        let theirs = format!("recipe/{file}");
        assert_eq!(subject(&env, &theirs), line, "the recipe's {file}");
        assert_eq!(subject(&env, &ours), subject(&env, &theirs), "{file}");
        // The same key type and lifetime as the recipe's, too.
        assert_eq!(key_type(&env, &ours), "rsa2048", "{file}");
        assert_eq!(key_type(&env, &theirs), "rsa2048", "{file}");
        assert_days(&env, &ours, 3650);
        assert_days(&env, &theirs, 3650);
    }

    let loopback = [
        "DNS:localhost",
        "IP Address:127.0.0.1",
        "IP Address:0:0:0:0:0:0:0:1",
    ];
    for leaf in ["server.pem", "client.pem"] {
        assert_eq!(sans(&env, &format!("certgen/{leaf}")), loopback, "{leaf}");
        assert_eq!(
            sans(&env, &format!("recipe/{leaf}")),
            Vec::<String>::new(),
            "the recipe's {leaf}"
        );
    }
}

#[test]
fn cluster_template_issues_every_file_and_each_leaf_verifies_for_its_names_and_usage() {
    let env = Env::new();
    env.certgen(&["init", "--template", "milvus-cluster", "cluster.toml"])
        .success();
    env.certgen(&["all", "--profile", "cluster.toml", "--out", "c", "-q"])
        .success();

    let mut expected = vec![
        "ca.key".to_owned(),
        "ca.pem".to_owned(),
        "ca.srl".to_owned(),
    ];
    for name in COMPONENTS.iter().chain(&["server", "client"]) {
        for ext in ["csr", "key", "pem"] {
            expected.push(format!("{name}.{ext}"));
        }
    }
    expected.sort();
    assert_eq!(env.listing("c"), expected);

    for component in COMPONENTS {
        let cert = format!("c/{component}.pem");
        let service = format!("my-release-milvus-{component}.milvus.svc");
        let names = [
            format!("DNS:{service}"),
            format!("DNS:{service}.cluster.local"),
        ];
        assert_eq!(sans(&env, &cert), names);
        assert_verifies_for_names_and_role(&env, "c/ca.pem", &cert, Role::Both);
    }
    assert_eq!(
        sans(&env, "c/server.pem"),
        [
            "DNS:my-release-milvus.milvus.svc",
            "DNS:my-release-milvus.milvus.svc.cluster.local",
            "DNS:localhost",
            "IP Address:127.0.0.1",
        ]
    );
    assert_verifies_for_names_and_role(&env, "c/ca.pem", "c/server.pem", Role::Server);
    assert_eq!(sans(&env, "c/client.pem"), ["DNS:milvus-app.milvus.svc"]);
    assert_verifies_for_names_and_role(&env, "c/ca.pem", "c/client.pem", Role::Client);

    // Re-issuing one leaf rewrites its three files and the serial file,
    // and nothing else.
    let before = env.snapshot("c");
    let old_srl = fs::read_to_string(env.join("c/ca.srl")).unwrap();
    let old_serial = env.openssl_serial("c/querynode.pem");
    env.certgen(&[
        "leaf",
        "querynode",
        "--profile",
        "cluster.toml",
        "--out",
        "c",
        "--force",
        "-q",
    ])
    .success();
    let after = env.snapshot("c");
    let names = |s: &[(String, Vec<u8>)]| s.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(names(&after), names(&before), "files appeared or vanished");
    let changed: Vec<&str> = before
        .iter()
        .zip(&after)
        .filter(|(old, new)| old.1 != new.1)
        .map(|(old, _)| old.0.as_str())
        .collect();
    assert_eq!(
        changed,
        ["ca.srl", "querynode.csr", "querynode.key", "querynode.pem"]
    );

    let new_serial = env.openssl_serial("c/querynode.pem");
    assert_eq!(
        new_serial,
        hex_plus_one(old_srl.trim()),
        "serial after ca.srl"
    );
    assert_ne!(new_serial, old_serial);
    assert_eq!(
        fs::read_to_string(env.join("c/ca.srl")).unwrap().trim(),
        new_serial
    );
    assert_verifies_for_names_and_role(&env, "c/ca.pem", "c/querynode.pem", Role::Both);
}

/// One level of the precedence tests: what a profile and flags give, and
/// what the certificate must then say.
struct Level {
    /// Which level wins, for messages.
    name: &'static str,
    profile: &'static str,
    flags: &'static [&'static str],
    subject: &'static str,
    sans: &'static [&'static str],
    days: i64,
    key_type: &'static str,
}

const SHARED: &str = "country = \"CN\"\norg = \"shared org\"\ndays = 400\n\
                      key_type = \"ecdsa-p384\"\n";

const SERVER_SECTION: &str = "country = \"CN\"\norg = \"shared org\"\ndays = 400\n\
    key_type = \"ecdsa-p384\"\n\n\
    [server]\norg = \"server org\"\ncn = \"section.example\"\n\
    san = [\"section.example\", \"10.1.1.1\"]\ndays = 300\nkey_type = \"ed25519\"\n\n\
    [client]\ncn = \"client.example\"\n";

#[test]
fn server_settings_take_flag_over_section_over_shared_over_default() {
    let levels = [
        Level {
            name: "default",
            profile: "",
            flags: &[],
            subject: "subject=CN = localhost",
            sans: &[
                "DNS:localhost",
                "IP Address:127.0.0.1",
                "IP Address:0:0:0:0:0:0:0:1",
            ],
            days: 3650,
            key_type: "rsa2048",
        },
        Level {
            name: "shared",
            profile: SHARED,
            flags: &[],
            subject: "subject=C = CN, O = shared org, CN = localhost",
            sans: &[
                "DNS:localhost",
                "IP Address:127.0.0.1",
                "IP Address:0:0:0:0:0:0:0:1",
            ],
            days: 400,
            key_type: "ecdsa-p384",
        },
        Level {
            name: "[server]",
            profile: SERVER_SECTION,
            flags: &[],
            subject: "subject=C = CN, O = server org, CN = section.example",
            sans: &["DNS:section.example", "IP Address:10.1.1.1"],
            days: 300,
            key_type: "ed25519",
        },
        Level {
            name: "flag",
            profile: SERVER_SECTION,
            flags: &[
                "--org",
                "flag org",
                "--cn",
                "flag.example",
                "--san",
                "flag.example",
                "--san",
                "10.2.2.2",
                "--days",
                "200",
                "--key-type",
                "ecdsa-p256",
            ],
            subject: "subject=C = CN, O = flag org, CN = flag.example",
            sans: &["DNS:flag.example", "IP Address:10.2.2.2"],
            days: 200,
            key_type: "ecdsa-p256",
        },
    ];
    for level in &levels {
        let env = Env::new();
        write_profile(&env, "p.toml", level.profile);
        env.certgen(&["ca", "--key-type", "ecdsa-p256", "--cn", "test CA", "-q"])
            .success();
        let mut args = vec!["server", "--profile", "p.toml", "-q"];
        args.extend_from_slice(level.flags);
        env.certgen(&args).success();

        let what = level.name;
        assert_eq!(subject(&env, "server.pem"), level.subject, "{what}");
        assert_eq!(sans(&env, "server.pem"), level.sans, "{what}");
        assert_days(&env, "server.pem", level.days);
        assert_eq!(key_type(&env, "server.pem"), level.key_type, "{what}");
    }

    // [server] is the server's alone: the client falls through it to the
    // shared settings.
    let env = Env::new();
    write_profile(&env, "p.toml", SERVER_SECTION);
    env.certgen(&["ca", "--key-type", "ecdsa-p256", "--cn", "test CA", "-q"])
        .success();
    env.certgen(&["client", "--profile", "p.toml", "-q"])
        .success();
    assert_eq!(
        subject(&env, "client.pem"),
        "subject=C = CN, O = shared org, CN = client.example"
    );
    assert_eq!(sans(&env, "client.pem"), ["DNS:client.example"]);
    assert_days(&env, "client.pem", 400);
    assert_eq!(key_type(&env, "client.pem"), "ecdsa-p384");
}

/// One level of the CA precedence test; the default subject ends in a
/// space, where the random tag follows.
struct CaLevel {
    name: &'static str,
    profile: &'static str,
    flags: &'static [&'static str],
    subject: &'static str,
    days: i64,
    key_type: &'static str,
    path_len: u8,
}

const CA_SECTION: &str = "org = \"shared org\"\ndays = 400\nkey_type = \"ecdsa-p384\"\n\n\
    [ca]\norg = \"ca org\"\ncn = \"section CA\"\ndays = 1000\nkey_type = \"ed25519\"\n\
    path_len = 2\n";

#[test]
fn ca_settings_take_flag_over_ca_section_over_shared_over_default() {
    let levels = [
        CaLevel {
            name: "default",
            profile: "",
            flags: &[],
            subject: "subject=CN = certgen CA ",
            days: 3650,
            key_type: "rsa2048",
            path_len: 0,
        },
        CaLevel {
            name: "shared",
            profile: "org = \"shared org\"\ndays = 400\nkey_type = \"ecdsa-p384\"\n",
            flags: &[],
            subject: "subject=O = shared org, CN = certgen CA ",
            days: 400,
            key_type: "ecdsa-p384",
            path_len: 0,
        },
        CaLevel {
            name: "[ca]",
            profile: CA_SECTION,
            flags: &[],
            subject: "subject=O = ca org, CN = section CA",
            days: 1000,
            key_type: "ed25519",
            path_len: 2,
        },
        CaLevel {
            name: "flag",
            profile: CA_SECTION,
            flags: &[
                "--ca-cn",
                "flag CA",
                "--ca-days",
                "1200",
                "--key-type",
                "ecdsa-p256",
                "--org",
                "flag org",
                // Sets the leaves only; the CA's days come from --ca-days.
                "--days",
                "100",
            ],
            subject: "subject=O = flag org, CN = flag CA",
            days: 1200,
            key_type: "ecdsa-p256",
            path_len: 2,
        },
    ];
    for level in levels {
        let CaLevel {
            name,
            profile,
            flags,
            subject: ca_subject,
            days,
            key_type: key,
            path_len,
        } = level;
        let env = Env::new();
        write_profile(&env, "p.toml", profile);
        let mut args = vec!["all", "--profile", "p.toml", "-q"];
        args.extend_from_slice(flags);
        env.certgen(&args).success();

        let line = subject(&env, "ca.pem");
        if ca_subject.ends_with("certgen CA ") {
            // The default name carries a random tag of eight hex digits.
            let tag = line
                .strip_prefix(ca_subject)
                .unwrap_or_else(|| panic!("{name}: {line:?} does not start with {ca_subject:?}"));
            assert!(
                tag.len() == 8 && tag.chars().all(|c| c.is_ascii_hexdigit()),
                "{name}: {line:?}"
            );
        } else {
            assert_eq!(line, ca_subject, "{name}");
        }
        assert_days(&env, "ca.pem", days);
        assert_eq!(key_type(&env, "ca.pem"), key, "{name}");
        let text = text(&env, "ca.pem");
        assert!(
            text.contains(&format!("CA:TRUE, pathlen:{path_len}")),
            "{name}\n{text}"
        );
    }

    // What [ca] sets stays with the CA: the leaves keep the shared values.
    let env = Env::new();
    write_profile(&env, "p.toml", CA_SECTION);
    env.certgen(&["all", "--profile", "p.toml", "-q"]).success();
    assert_eq!(
        subject(&env, "server.pem"),
        "subject=O = shared org, CN = localhost"
    );
    assert_days(&env, "server.pem", 400);
    assert_eq!(key_type(&env, "server.pem"), "ecdsa-p384");
}

#[test]
fn named_leaf_takes_its_own_settings_over_shared_and_flags_over_both() {
    let env = Env::new();
    write_profile(
        &env,
        "p.toml",
        "org = \"shared org\"\ndays = 400\nkey_type = \"ecdsa-p384\"\n\n\
         [[leaf]]\nname = \"worker\"\nusage = \"client\"\norg = \"worker org\"\n\
         cn = \"worker.example\"\ndays = 90\nkey_type = \"ecdsa-p256\"\n\n\
         [[leaf]]\nname = \"plain\"\nusage = \"server\"\ncn = \"plain.example\"\n",
    );
    env.certgen(&["all", "--profile", "p.toml", "--ca-cn", "test CA", "-q"])
        .success();

    assert_eq!(
        subject(&env, "worker.pem"),
        "subject=O = worker org, CN = worker.example"
    );
    assert_eq!(sans(&env, "worker.pem"), ["DNS:worker.example"]);
    assert_days(&env, "worker.pem", 90);
    assert_eq!(key_type(&env, "worker.pem"), "ecdsa-p256");
    assert_verifies_for_names_and_role(&env, "ca.pem", "worker.pem", Role::Client);

    assert_eq!(
        subject(&env, "plain.pem"),
        "subject=O = shared org, CN = plain.example"
    );
    assert_days(&env, "plain.pem", 400);
    assert_eq!(key_type(&env, "plain.pem"), "ecdsa-p384");
    assert_verifies_for_names_and_role(&env, "ca.pem", "plain.pem", Role::Server);

    env.certgen(&[
        "leaf",
        "worker",
        "--profile",
        "p.toml",
        "--force",
        "--org",
        "flag org",
        "--days",
        "30",
        "-q",
    ])
    .success();
    assert_eq!(
        subject(&env, "worker.pem"),
        "subject=O = flag org, CN = worker.example"
    );
    assert_days(&env, "worker.pem", 30);
    assert_eq!(key_type(&env, "worker.pem"), "ecdsa-p256");
}

/// A broken profile and where its error must point.
struct Broken {
    what: &'static str,
    text: &'static str,
    line: u32,
    column: u32,
    /// The start of the message after `p.toml:LINE:COLUMN: `: it names the
    /// key and section.
    message: &'static str,
}

const BROKEN: &[Broken] = &[
    Broken {
        what: "misspelt key",
        text: "[server]\ncn = \"db\"\ncommn_name = \"db\"\n",
        line: 3,
        column: 1,
        message: "unknown key \"commn_name\" in [server]",
    },
    Broken {
        what: "section key at the top level",
        text: "org = \"milvus\"\ncn = \"db\"\n",
        line: 2,
        column: 1,
        message: "unknown key \"cn\" in the top level; it belongs in",
    },
    Broken {
        what: "days as a word",
        text: "[client]\ndays = \"ten\"\n",
        line: 2,
        column: 8,
        message: "\"days\" in [client]: must be a whole number, not string \"ten\"",
    },
    Broken {
        what: "san as a string, not a list",
        text: "[server]\nsan = \"db.example\"\n",
        line: 2,
        column: 7,
        message: "\"san\" in [server]: must be a list",
    },
    Broken {
        what: "SAN with a space",
        text: "[server]\ncn = \"db\"\nsan = [\"db.example\", \"bad name\"]\n",
        line: 3,
        column: 22,
        message: "\"san\" in [server]: \"bad name\" is not a valid DNS name",
    },
    Broken {
        what: "empty SAN list",
        text: "[client]\nsan = []\n",
        line: 2,
        column: 7,
        message: "\"san\" in [client]: the list is empty",
    },
    Broken {
        what: "country spelt out",
        text: "country = \"China\"\n",
        line: 1,
        column: 11,
        message: "\"country\" in the top level: ",
    },
    Broken {
        what: "zero days",
        text: "[ca]\ndays = 0\n",
        line: 2,
        column: 8,
        message: "\"days\" in [ca]: must be a whole number of days from 1 to 36500",
    },
    Broken {
        what: "unknown key type",
        text: "key_type = \"dsa\"\n",
        line: 1,
        column: 12,
        message: "\"key_type\" in the top level: \"dsa\" is not a key type",
    },
    Broken {
        what: "unknown usage",
        text: "[[leaf]]\nname = \"db\"\nusage = \"peer\"\n",
        line: 3,
        column: 9,
        message: "\"usage\" in [[leaf]] \"db\": \"peer\" is not a usage",
    },
    Broken {
        what: "[[leaf]] without a name",
        text: "org = \"milvus\"\n\n[[leaf]]\nusage = \"both\"\n",
        line: 3,
        column: 1,
        message: "[[leaf]] number 1 has no \"name\"",
    },
    Broken {
        what: "[[leaf]] without a usage",
        text: "[[leaf]]\nname = \"db\"\n",
        line: 2,
        column: 8,
        message: "[[leaf]] \"db\" has no \"usage\"",
    },
    Broken {
        what: "two leaves of one name",
        text: "[[leaf]]\nname = \"db\"\nusage = \"both\"\n\n\
               [[leaf]]\nname = \"db\"\nusage = \"server\"\n",
        line: 6,
        column: 8,
        message: "\"name\" in [[leaf]] number 2: \"db\" is already the name of the leaf at \
                  p.toml:2:8",
    },
    Broken {
        what: "[[leaf]] named server",
        text: "[[leaf]]\nname = \"server\"\nusage = \"server\"\n",
        line: 2,
        column: 8,
        message: "\"name\" in [[leaf]] number 1: \"server\" would write the files of [server]",
    },
    Broken {
        what: "path_len in [server]",
        text: "[server]\npath_len = 1\n",
        line: 2,
        column: 12,
        message: "key \"path_len\" is not allowed in [server]",
    },
    Broken {
        what: "san in [ca]",
        text: "[ca]\ncn = \"CA\"\nsan = [\"ca.example\"]\n",
        line: 3,
        column: 7,
        message: "key \"san\" is not allowed in [ca]",
    },
    Broken {
        what: "IP range with a prefix over 32",
        text: "[ca]\npermitted_ip = [\"10.0.0.0/8\", \"10.0.0.0/33\"]\n",
        line: 2,
        column: 31,
        message: "\"permitted_ip\" in [ca]: \"10.0.0.0/33\"",
    },
    Broken {
        what: "wildcard in a name constraint",
        text: "[ca]\npermitted_dns = [\"*.example.com\"]\n",
        line: 2,
        column: 18,
        message: "\"permitted_dns\" in [ca]: \"*.example.com\" has a wildcard",
    },
    Broken {
        what: "IP range with a prefix that is not a number",
        text: "[ca]\nexcluded_ip = [\"10.0.0.0/8x\"]\n",
        line: 2,
        column: 16,
        message: "\"excluded_ip\" in [ca]: \"10.0.0.0/8x\": the prefix length must be a whole \
                  number from 0 to 32",
    },
    Broken {
        what: "IPv6 range with a prefix over 128",
        text: "[ca]\npermitted_ip = [\"fe80::/129\"]\n",
        line: 2,
        column: 17,
        message: "\"permitted_ip\" in [ca]: \"fe80::/129\": the prefix length must be a whole \
                  number from 0 to 128",
    },
    Broken {
        what: "excluded name that is not a DNS name",
        text: "[ca]\nexcluded_dns = [\"bad name\"]\n",
        line: 2,
        column: 17,
        message: "\"excluded_dns\" in [ca]: \"bad name\" is not a valid DNS name",
    },
    Broken {
        what: "negative path length",
        text: "[ca]\npath_len = -1\n",
        line: 2,
        column: 12,
        message: "\"path_len\" in [ca]: must be a whole number from 0 to 255",
    },
    Broken {
        what: "path length as a word",
        text: "[ca]\npath_len = \"one\"\n",
        line: 2,
        column: 12,
        message: "\"path_len\" in [ca]: must be a whole number, not string \"one\"",
    },
    Broken {
        what: "state with a control character",
        text: "state = \"Shang\\u0007hai\"\n",
        line: 1,
        column: 9,
        message: "\"state\" in the top level: ",
    },
    Broken {
        what: "locality as a number",
        text: "[server]\nlocality = 5\n",
        line: 2,
        column: 12,
        message: "\"locality\" in [server]: must be a string, not integer 5",
    },
    Broken {
        what: "OU over 64 characters",
        text:
            "[client]\nou = \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"\n",
        line: 2,
        column: 6,
        message: "\"ou\" in [client]: is 65 characters long; the limit is 64",
    },
    Broken {
        what: "empty CN",
        text: "[server]\ncn = \"\"\n",
        line: 2,
        column: 6,
        message: "\"cn\" in [server]: must not be empty",
    },
    Broken {
        what: "org as a number",
        text: "org = 7\n",
        line: 1,
        column: 7,
        message: "\"org\" in the top level: must be a string, not integer 7",
    },
    Broken {
        what: "leaf name with a path",
        text: "[[leaf]]\nname = \"../x\"\nusage = \"both\"\n",
        line: 2,
        column: 8,
        message: "\"name\" in [[leaf]] number 1: \"../x\" is not a plain file name",
    },
    Broken {
        what: "half an IP address in a leaf's SANs",
        text: "[[leaf]]\nname = \"db\"\nusage = \"server\"\nsan = [\"10.0.0\"]\n",
        line: 4,
        column: 8,
        message: "\"san\" in [[leaf]] \"db\": \"10.0.0\" is not a valid DNS name",
    },
    Broken {
        what: "key type in a section",
        text: "[server]\nkey_type = \"rsa1024\"\n",
        line: 2,
        column: 12,
        message: "\"key_type\" in [server]: \"rsa1024\" is not a key type",
    },
    Broken {
        what: "key given twice",
        text: "org = \"a\"\norg = \"b\"\n",
        line: 2,
        column: 1,
        message: "duplicate key \"org\"",
    },
    Broken {
        what: "unclosed table header",
        text: "[server\ncn = \"db\"\n",
        line: 1,
        column: 8,
        message: "",
    },
];

#[test]
fn rejects_broken_profiles_at_their_line_and_column_and_writes_nothing() {
    for case in BROKEN {
        let env = Env::new();
        write_profile(&env, "p.toml", case.text);
        let before = env.snapshot(".");
        let run = env
            .certgen(&["all", "--profile", "p.toml", "--out", "out"])
            .failure(2);
        let stderr = run.stderr();
        let what = case.what;
        assert_eq!(stderr.lines().count(), 1, "{what}: {stderr}");
        let prefix = format!(
            "error: p.toml:{}:{}: {}",
            case.line, case.column, case.message
        );
        assert!(
            stderr.starts_with(&prefix),
            "{what}:\n  expected {prefix:?}\n  got      {stderr:?}"
        );
        assert!(
            stderr.trim_end().len() > "error: p.toml:1:1: ".len(),
            "{what}: no message"
        );
        assert_eq!(env.snapshot("."), before, "{what}: files changed");
        assert!(!env.join("out").exists(), "{what}: --out was created");
    }
}

#[test]
fn rejects_a_missing_profile_naming_the_file() {
    let env = Env::new();
    for command in ["all", "ca", "server", "client"] {
        let run = env
            .certgen(&[command, "--profile", "absent.toml", "--out", "out"])
            .failure(2);
        let stderr = run.stderr();
        assert_eq!(stderr.lines().count(), 1, "{command}: {stderr}");
        assert!(
            stderr.starts_with("error: ") && stderr.contains("absent.toml"),
            "{command}: {stderr}"
        );
        assert_eq!(env.listing("."), Vec::<String>::new(), "{command}");
    }
}

#[test]
fn every_template_round_trips_through_all_and_verify() {
    for template in TEMPLATES {
        let env = Env::new();
        env.certgen(&["init", "--template", template, "p.toml"])
            .success();
        env.certgen(&["all", "--profile", "p.toml", "--out", "out", "-q"])
            .success();
        let run = env.certgen(&["verify", "out"]);
        assert_eq!(run.code(), Some(0), "{template}\n{}", run.describe());
        assert!(
            env.listing("out").len() >= 9,
            "{template}: {:?}",
            env.listing("out")
        );
    }
}

#[test]
fn init_lists_three_templates_refuses_to_overwrite_and_rejects_unknown_ones() {
    let env = Env::new();
    let run = env.certgen(&["init", "--list"]).success();
    let names: Vec<String> = run
        .stdout()
        .lines()
        .map(|line| line.split_whitespace().next().unwrap_or("").to_owned())
        .collect();
    assert_eq!(names, TEMPLATES);
    assert_eq!(
        env.listing("."),
        Vec::<String>::new(),
        "--list wrote a file"
    );

    // The default file name and template.
    let mine = "# my own settings\norg = \"mine\"\n";
    fs::write(env.join("certgen.toml"), mine).unwrap();
    let run = env.certgen(&["init"]).failure(3);
    assert!(run.stderr().contains("--force"), "{}", run.describe());
    assert_eq!(fs::read_to_string(env.join("certgen.toml")).unwrap(), mine);

    env.certgen(&["init", "--force", "-q"]).success();
    let written = fs::read_to_string(env.join("certgen.toml")).unwrap();
    assert!(written.contains("country = \"CN\""), "{written}");
    assert_ne!(written, mine);

    let run = env
        .certgen(&["init", "--template", "nope", "other.toml"])
        .failure(2);
    let stderr = run.stderr();
    assert!(stderr.contains("\"nope\""), "{stderr}");
    for template in TEMPLATES {
        assert!(
            stderr.contains(template),
            "{template} not offered: {stderr}"
        );
    }
    assert!(!env.join("other.toml").exists());
}

/// Forges a server certificate for `sans` with the CA's key, as someone
/// holding a leaked key would, bypassing certgen's constraint check.
fn forge(env: &Env, dir: &str, file: &str, sans: &[&str]) {
    let ca = Ca::load(
        &env.join(&format!("{dir}/ca.pem")),
        &env.join(&format!("{dir}/ca.key")),
    )
    .unwrap();
    let mut validity = Validity::from_now(OffsetDateTime::now_utc(), 30);
    validity.fit_inside(&ca);
    let spec = LeafSpec {
        role: Role::Server,
        subject: Subject {
            cn: "forged".into(),
            ..Subject::default()
        },
        sans: sans.iter().map(|s| San::parse(s).unwrap()).collect(),
        validity,
        serial: Serial::random().unwrap(),
    };
    let key = KeyType::EcdsaP256.generate().unwrap();
    let leaf = make_leaf(&spec, &key, &ca).unwrap();
    fs::write(env.join(file), leaf.cert_pem).unwrap();
}

#[test]
fn name_constrained_ca_issues_inside_its_names_and_nothing_outside_them() {
    let env = Env::new();
    env.certgen(&["all", "--profile", STANDALONE, "--out", "tls", "-q"])
        .success();

    let ca = text(&env, "tls/ca.pem");
    assert!(ca.contains("X509v3 Name Constraints: critical"), "{ca}");
    for rule in [
        "DNS:lab.internal",
        "DNS:milvus-standalone",
        "IP:192.168.10.0/255.255.255.0",
        "IP:127.0.0.0/255.0.0.0",
    ] {
        let permitted = ca.split("Excluded:").next().unwrap();
        assert!(permitted.contains(rule), "{rule} not permitted\n{ca}");
    }
    let excluded = ca.split("Excluded:").nth(1).expect("an Excluded list");
    assert!(excluded.contains("DNS:sso.lab.internal"), "{ca}");
    assert!(ca.contains("CA:TRUE, pathlen:0"), "{ca}");

    assert_verifies_for_names_and_role(&env, "tls/ca.pem", "tls/server.pem", Role::Server);
    assert_verifies_for_names_and_role(&env, "tls/ca.pem", "tls/client.pem", Role::Client);
    assert_days(&env, "tls/ca.pem", 1825);
    assert_days(&env, "tls/client.pem", 90);

    // Inside the names, through the command line too.
    env.certgen(&[
        "server",
        "--profile",
        STANDALONE,
        "--out",
        "tls",
        "--name",
        "inside",
        "--san",
        "vectors.lab.internal",
        "--san",
        "192.168.10.30",
        "-q",
    ])
    .success();
    assert_verifies_for_names_and_role(&env, "tls/ca.pem", "tls/inside.pem", Role::Server);

    // Outside: a DNS name, an address, and a name inside excluded_dns.
    let outside = [
        (
            "milvus.example.com",
            "DNS:milvus.example.com is outside the CA's permitted names (lab.internal, \
             standalone, milvus-standalone, localhost)",
        ),
        (
            "10.0.0.5",
            "IP:10.0.0.5 is outside the CA's permitted ranges (192.168.10.0/24, 127.0.0.0/8, \
             ::1/128)",
        ),
        (
            "sso.lab.internal",
            "DNS:sso.lab.internal is excluded by the CA's name constraint \"sso.lab.internal\"",
        ),
    ];
    for (san, message) in outside {
        let before = env.snapshot("tls");
        let run = env
            .certgen(&[
                "server",
                "--profile",
                STANDALONE,
                "--out",
                "tls",
                "--name",
                "outside",
                "--san",
                san,
            ])
            .failure(2);
        assert_eq!(
            run.stderr(),
            format!("error: refusing to issue the outside certificate: {message}\n"),
            "{san}"
        );
        assert_eq!(env.snapshot("tls"), before, "{san}: files changed");
    }

    // The same names forged with the CA key: openssl refuses each.
    let forged = [
        ("DNS:milvus.example.com", "permitted subtree violation"),
        ("IP:10.0.0.5", "permitted subtree violation"),
        ("DNS:sso.lab.internal", "excluded subtree violation"),
    ];
    for (san, violation) in forged {
        forge(&env, "tls", "forged.pem", &[san]);
        let run = openssl_verify(&env, "tls/ca.pem", &[], "forged.pem");
        assert_ne!(run.code(), Some(0), "{san}: openssl accepted it");
        assert!(
            run.describe().contains(violation),
            "{san}\n{}",
            run.describe()
        );
    }
    // The forging itself is sound: inside the names, openssl accepts it.
    forge(&env, "tls", "forged.pem", &["DNS:milvus.lab.internal"]);
    openssl_verify(&env, "tls/ca.pem", &[], "forged.pem").success();
}

#[test]
fn ca_path_len_from_the_profile_reaches_basic_constraints() {
    let env = Env::new();
    write_profile(
        &env,
        "p.toml",
        "key_type = \"ecdsa-p256\"\n[ca]\ncn = \"test CA\"\npath_len = 3\n",
    );
    env.certgen(&["ca", "--profile", "p.toml", "-q"]).success();
    let text = text(&env, "ca.pem");
    assert!(text.contains("CA:TRUE, pathlen:3"), "{text}");
    assert!(!text.contains("Name Constraints"), "{text}");
}

#[test]
fn leaf_needs_a_profile_that_names_it() {
    let env = Env::new();
    let run = env.certgen(&["leaf", "db"]).failure(2);
    assert_eq!(
        run.stderr(),
        "error: `certgen leaf db` needs --profile FILE naming that [[leaf]]\n"
    );

    write_profile(
        &env,
        "p.toml",
        "key_type = \"ecdsa-p256\"\n\n[[leaf]]\nname = \"a\"\nusage = \"both\"\n\n\
         [[leaf]]\nname = \"b\"\nusage = \"client\"\n",
    );
    env.certgen(&["all", "--profile", "p.toml", "--out", "out", "-q"])
        .success();
    let before = env.snapshot("out");
    let run = env
        .certgen(&["leaf", "c", "--profile", "p.toml", "--out", "out"])
        .failure(2);
    assert_eq!(
        run.stderr(),
        "error: p.toml: no [[leaf]] named \"c\"; the profile names a, b\n"
    );
    let run = env
        .certgen(&["leaf", "server", "--profile", "p.toml", "--out", "out"])
        .failure(2);
    assert_eq!(
        run.stderr(),
        "error: p.toml: no [[leaf]] named \"server\"; [server] is issued by \
         `certgen server --profile p.toml`\n"
    );
    assert_eq!(env.snapshot("out"), before);
}

/// A `[[leaf]]` that sets no CN is named after itself, not `localhost`, so a
/// cluster profile does not issue a row of certificates for the same host.
#[test]
fn a_leaf_without_a_cn_is_named_after_itself() {
    let env = Env::new();
    let profile = write_profile(
        &env,
        "leaf.toml",
        "key_type = \"ecdsa-p256\"\n\n[[leaf]]\nname = \"querynode\"\nusage = \"both\"\n",
    );
    env.certgen(&["all", "-q", "--profile", profile]).success();
    assert_eq!(subject(&env, "querynode.pem"), "subject=CN = querynode");
    assert_eq!(sans(&env, "querynode.pem"), ["DNS:querynode"]);
    assert_eq!(subject(&env, "server.pem"), "subject=CN = localhost");
}
