//! The issuing subcommands end to end: which files they write, with which
//! permissions, what the certificates say (read back with x509-parser), and
//! how an existing CA and existing files are treated.

use std::fs;
use std::path::Path;

use x509_parser::extensions::GeneralName;
use x509_parser::prelude::{parse_x509_certificate, X509Certificate};

use crate::util::{Env, KEY_TYPES, NINE_FILES};

/// A certificate file read back: its DER, for parsing in the test.
fn cert_der(path: &Path) -> Vec<u8> {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    pem::parse(text).expect("PEM certificate").into_contents()
}

fn parse(der: &[u8]) -> X509Certificate<'_> {
    parse_x509_certificate(der).expect("valid certificate").1
}

fn sans(cert: &X509Certificate<'_>) -> Vec<String> {
    let ext = cert
        .subject_alternative_name()
        .unwrap()
        .expect("a SAN extension");
    ext.value
        .general_names
        .iter()
        .map(|name| match name {
            GeneralName::DNSName(dns) => format!("DNS:{dns}"),
            GeneralName::IPAddress(bytes) => match bytes.len() {
                4 => format!(
                    "IP:{}",
                    std::net::Ipv4Addr::from(<[u8; 4]>::try_from(*bytes).unwrap())
                ),
                _ => format!(
                    "IP:{}",
                    std::net::Ipv6Addr::from(<[u8; 16]>::try_from(*bytes).unwrap())
                ),
            },
            GeneralName::RFC822Name(mail) => format!("email:{mail}"),
            GeneralName::URI(uri) => format!("URI:{uri}"),
            other => format!("{other:?}"),
        })
        .collect()
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn serial_hex(cert: &X509Certificate<'_>) -> String {
    cert.raw_serial()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect()
}

#[test]
fn all_writes_exactly_the_nine_files_with_key_modes_and_nothing_on_stdout() {
    let env = Env::new();
    let run = env
        .certgen(&["all", "--cn", "localhost", "--out", "cert"])
        .success();
    assert_eq!(env.listing("cert"), NINE_FILES, "{}", run.describe());
    assert_eq!(run.stdout(), "", "stdout must stay empty unless asked");
    assert!(
        run.stderr().contains("cert/server.pem"),
        "{}",
        run.describe()
    );
    #[cfg(unix)]
    for name in NINE_FILES {
        let expected = if name.ends_with(".key") { 0o600 } else { 0o644 };
        assert_eq!(
            mode(&env.join("cert").join(name)),
            expected,
            "mode of {name}"
        );
    }
}

#[test]
fn every_key_type_gives_sans_roles_and_a_ca_chain() {
    for key_type in KEY_TYPES {
        let env = Env::new();
        env.certgen(&["all", "--key-type", key_type, "--out", "cert", "-q"])
            .success();
        let ca_der = cert_der(&env.join("cert/ca.pem"));
        let ca = parse(&ca_der);
        for (name, server) in [("server.pem", true), ("client.pem", false)] {
            let der = cert_der(&env.join("cert").join(name));
            let cert = parse(&der);
            cert.verify_signature(Some(ca.public_key()))
                .unwrap_or_else(|e| panic!("{key_type} {name}: signature: {e}"));
            assert_eq!(cert.issuer(), ca.subject());
            assert_eq!(
                sans(&cert),
                ["DNS:localhost", "IP:127.0.0.1", "IP:::1"],
                "{key_type}"
            );
            let eku = cert.extended_key_usage().unwrap().expect("EKU").value;
            assert_eq!(
                (eku.server_auth, eku.client_auth),
                (server, !server),
                "{key_type} {name}"
            );
            let ku = cert.key_usage().unwrap().expect("key usage");
            assert!(ku.critical && ku.value.digital_signature());
            assert_eq!(
                ku.value.key_encipherment(),
                key_type.starts_with("rsa"),
                "{key_type}"
            );
            let bc = cert.basic_constraints().unwrap().expect("basicConstraints");
            assert!(!bc.value.ca);
        }
    }
}

#[test]
fn subject_follows_the_recipe_order_and_not_before_is_backdated() {
    let env = Env::new();
    let args = [
        "all",
        "--country",
        "cn",
        "--state",
        "Shanghai",
        "--locality",
        "Shanghai",
        "--org",
        "milvus",
        "--ou",
        "milvus",
        "--cn",
        "localhost",
        "--ca-cn",
        "milvus CA",
        "-q",
    ];
    env.certgen(&args).success();
    let der = cert_der(&env.join("server.pem"));
    let cert = parse(&der);
    assert_eq!(
        cert.subject().to_string(),
        "C=CN, ST=Shanghai, L=Shanghai, O=milvus, OU=milvus, CN=localhost"
    );
    let ca_der = cert_der(&env.join("ca.pem"));
    assert_eq!(
        parse(&ca_der).subject().to_string(),
        "C=CN, ST=Shanghai, L=Shanghai, O=milvus, OU=milvus, CN=milvus CA"
    );
    let now = time::OffsetDateTime::now_utc();
    let not_before = cert.validity().not_before.to_datetime();
    assert!(
        not_before < now - time::Duration::minutes(4),
        "notBefore {not_before} is not backdated"
    );
    let lifetime = cert.validity().not_after.to_datetime() - now;
    assert!(
        (lifetime.whole_days() - 3650).abs() <= 1,
        "default lifetime is {lifetime}"
    );
}

#[test]
fn explicit_sans_replace_the_defaults_and_keep_their_types() {
    let env = Env::new();
    let args = [
        "all",
        "--cn",
        "milvus",
        "--san",
        "milvus.example.com",
        "--san",
        "*.milvus.svc",
        "--san",
        "10.1.2.3",
        "--san",
        "fd00::7",
        "--san",
        "ops@example.com",
        "--san",
        "spiffe://example.org/milvus",
        "-q",
    ];
    env.certgen(&args).success();
    let der = cert_der(&env.join("server.pem"));
    assert_eq!(
        sans(&parse(&der)),
        [
            "DNS:milvus.example.com",
            "DNS:*.milvus.svc",
            "IP:10.1.2.3",
            "IP:fd00::7",
            "email:ops@example.com",
            "URI:spiffe://example.org/milvus",
        ]
    );
}

#[test]
fn all_reuses_an_existing_ca_and_does_not_touch_it() {
    let env = Env::new();
    env.certgen(&["ca", "--key-type", "ecdsa-p256", "--cn", "kept CA", "-q"])
        .success();
    let ca_before = env.snapshot(".");
    let run = env.certgen(&["all", "--key-type", "ecdsa-p256"]).success();
    assert!(
        run.stderr().contains("reused the CA: ./ca.key, ./ca.pem"),
        "{}",
        run.describe()
    );
    for (name, bytes) in ca_before {
        assert_eq!(fs::read(env.join(&name)).unwrap(), bytes, "{name} changed");
    }
    let ca_der = cert_der(&env.join("ca.pem"));
    let server_der = cert_der(&env.join("server.pem"));
    parse(&server_der)
        .verify_signature(Some(parse(&ca_der).public_key()))
        .expect("server signed by the reused CA");
    assert_eq!(env.listing("."), NINE_FILES);
}

#[test]
fn all_refuses_to_overwrite_and_leaves_every_byte_unchanged() {
    let env = Env::new();
    env.certgen(&["all", "--key-type", "ecdsa-p256", "-q"])
        .success();
    let before = env.snapshot(".");
    let run = env.certgen(&["all", "--key-type", "ecdsa-p256"]).failure(3);
    assert_eq!(env.snapshot("."), before, "a refused run changed files");
    let stderr = run.stderr();
    assert_eq!(stderr.lines().count(), 1, "{}", run.describe());
    assert!(
        stderr.starts_with("error: refusing to overwrite ./server.key"),
        "{stderr}"
    );
    assert!(stderr.contains("--force"), "{stderr}");
}

#[test]
fn all_force_reissues_leaves_but_keeps_the_ca() {
    let env = Env::new();
    env.certgen(&["all", "--key-type", "ecdsa-p256", "-q"])
        .success();
    let ca_key = fs::read(env.join("ca.key")).unwrap();
    let server_before = fs::read(env.join("server.pem")).unwrap();
    let srl_before = fs::read_to_string(env.join("ca.srl")).unwrap();
    env.certgen(&["all", "--key-type", "ecdsa-p256", "--force", "-q"])
        .success();
    assert_eq!(
        fs::read(env.join("ca.key")).unwrap(),
        ca_key,
        "the CA key was replaced"
    );
    assert_ne!(fs::read(env.join("server.pem")).unwrap(), server_before);
    let srl_after = fs::read_to_string(env.join("ca.srl")).unwrap();
    assert_ne!(srl_after, srl_before);
    assert_eq!(
        env.listing("."),
        NINE_FILES,
        "no backup or temporary file is left"
    );
}

#[test]
fn ca_refuses_to_replace_and_force_keeps_the_old_pair() {
    let env = Env::new();
    env.certgen(&["ca", "--key-type", "ed25519", "-q"])
        .success();
    let old_key = fs::read(env.join("ca.key")).unwrap();
    let old_cert = fs::read(env.join("ca.pem")).unwrap();

    let run = env.certgen(&["ca", "--key-type", "ed25519"]).failure(3);
    assert!(
        run.stderr().contains("certgen ca --force"),
        "{}",
        run.describe()
    );
    assert_eq!(fs::read(env.join("ca.key")).unwrap(), old_key);

    env.certgen(&["ca", "--key-type", "ed25519", "--force", "-q"])
        .success();
    assert_ne!(fs::read(env.join("ca.key")).unwrap(), old_key);
    let names = env.listing(".");
    let kept_key = names
        .iter()
        .find(|n| n.starts_with("ca.key.replaced-"))
        .expect("old key kept");
    let kept_cert = names
        .iter()
        .find(|n| n.starts_with("ca.pem.replaced-"))
        .expect("old cert kept");
    assert_eq!(fs::read(env.join(kept_key)).unwrap(), old_key);
    assert_eq!(fs::read(env.join(kept_cert)).unwrap(), old_cert);
    #[cfg(unix)]
    assert_eq!(mode(&env.join(kept_key)), 0o600);
}

#[test]
fn server_and_client_issue_from_the_folder_ca_and_advance_the_serial() {
    let env = Env::new();
    env.certgen(&["ca", "--key-type", "ecdsa-p384", "-q"])
        .success();
    assert!(
        !env.join("ca.srl").exists(),
        "ca alone writes no serial file"
    );
    let server = [
        "server",
        "--cn",
        "db",
        "--san",
        "db.internal",
        "--key-type",
        "ecdsa-p256",
        "-q",
    ];
    env.certgen(&server).success();
    let first = fs::read_to_string(env.join("ca.srl")).unwrap();
    let server_der = cert_der(&env.join("server.pem"));
    assert_eq!(format!("{}\n", serial_hex(&parse(&server_der))), first);

    let client = [
        "client",
        "--name",
        "alice",
        "--cn",
        "alice",
        "--key-type",
        "ed25519",
        "-q",
    ];
    env.certgen(&client).success();
    let alice_der = cert_der(&env.join("alice.pem"));
    let alice = parse(&alice_der);
    let second = fs::read_to_string(env.join("ca.srl")).unwrap();
    assert_eq!(format!("{}\n", serial_hex(&alice)), second);
    assert_eq!(
        u128::from_str_radix(&second.trim()[24..], 16).unwrap(),
        u128::from_str_radix(&first.trim()[24..], 16).unwrap() + 1,
        "serial file {first:?} -> {second:?} is not an increment"
    );
    assert_eq!(sans(&alice), ["DNS:alice"]);
    assert!(env.join("alice.key").exists() && env.join("alice.csr").exists());
    assert!(!env.join("client.pem").exists());
}

#[test]
fn server_takes_a_ca_from_elsewhere_and_keeps_the_serial_file_beside_it() {
    let env = Env::new();
    env.certgen(&["ca", "--key-type", "ecdsa-p256", "--out", "pki", "-q"])
        .success();
    let args = [
        "server",
        "--ca-cert",
        "pki/ca.pem",
        "--ca-key",
        "pki/ca.key",
        "--out",
        "srv",
        "--key-type",
        "ecdsa-p256",
        "-q",
    ];
    env.certgen(&args).success();
    assert_eq!(
        env.listing("srv"),
        ["server.csr", "server.key", "server.pem"]
    );
    assert_eq!(env.listing("pki"), ["ca.key", "ca.pem", "ca.srl"]);
}

#[test]
fn leaf_days_are_cut_to_the_ca_and_the_cut_is_reported() {
    let env = Env::new();
    env.certgen(&["ca", "--days", "30", "--key-type", "ecdsa-p256", "-q"])
        .success();
    let run = env
        .certgen(&["server", "--days", "365", "--key-type", "ecdsa-p256"])
        .success();
    assert!(
        run.stderr().contains("does not outlive its CA"),
        "{}",
        run.describe()
    );
    let ca_der = cert_der(&env.join("ca.pem"));
    let server_der = cert_der(&env.join("server.pem"));
    assert_eq!(
        parse(&server_der).validity().not_after,
        parse(&ca_der).validity().not_after
    );
}

#[test]
fn quiet_prints_nothing_on_success() {
    let env = Env::new();
    let run = env
        .certgen(&["--quiet", "all", "--key-type", "ecdsa-p256"])
        .success();
    assert_eq!((run.stdout(), run.stderr()), (String::new(), String::new()));
    let run = env.certgen(&["client", "--name", "bob", "-q"]).success();
    assert_eq!((run.stdout(), run.stderr()), (String::new(), String::new()));
}

#[cfg(unix)]
#[test]
fn modes_hold_whatever_the_umask() {
    for umask in ["000", "077", "027"] {
        let env = Env::new();
        let script = format!("umask {umask} && exec \"$0\" all --key-type ecdsa-p256 -q",);
        let status = std::process::Command::new("sh")
            .arg("-c")
            .arg(&script)
            .arg(env!("CARGO_BIN_EXE_certgen"))
            .current_dir(env.path())
            .status()
            .unwrap();
        assert!(status.success());
        for name in NINE_FILES {
            let expected = if name.ends_with(".key") { 0o600 } else { 0o644 };
            assert_eq!(
                mode(&env.join(name)),
                expected,
                "umask {umask}: mode of {name}"
            );
        }
    }
}

#[test]
fn out_folder_is_created_with_parents() {
    let env = Env::new();
    env.certgen(&["all", "--key-type", "ecdsa-p256", "--out", "a/b/c", "-q"])
        .success();
    assert_eq!(env.listing("a/b/c"), NINE_FILES);
}

/// The key type of a certificate's public key, in certgen's naming.
fn key_type_of(cert: &X509Certificate<'_>) -> String {
    use x509_parser::public_key::PublicKey;
    match cert
        .public_key()
        .parsed()
        .expect("a public key x509-parser knows")
    {
        PublicKey::RSA(rsa) => format!("rsa{}", rsa.key_size()),
        PublicKey::EC(ec) => format!("ecdsa-p{}", ec.key_size()),
        _ if cert.public_key().algorithm.algorithm
            == x509_parser::oid_registry::OID_SIG_ED25519 =>
        {
            "ed25519".to_owned()
        }
        other => format!("{other:?}"),
    }
}

#[test]
fn ca_server_and_client_work_with_every_key_type_and_mixed_types() {
    for (index, key_type) in KEY_TYPES.iter().enumerate() {
        // Each CA also signs a client key of another type, so every
        // signature algorithm meets a foreign key type once.
        let other = KEY_TYPES[(index + 1) % KEY_TYPES.len()];
        let env = Env::new();
        env.certgen(&["ca", "--key-type", key_type, "-q"]).success();
        env.certgen(&["server", "--key-type", key_type, "-q"])
            .success();
        env.certgen(&["client", "--key-type", other, "-q"])
            .success();

        for (name, expected) in [
            ("ca.pem", *key_type),
            ("server.pem", key_type),
            ("client.pem", other),
        ] {
            let der = cert_der(&env.join(name));
            assert_eq!(key_type_of(&parse(&der)), expected, "{name}");
        }
        let ca_der = cert_der(&env.join("ca.pem"));
        let ca = parse(&ca_der);
        for name in ["server.pem", "client.pem"] {
            let der = cert_der(&env.join(name));
            parse(&der)
                .verify_signature(Some(ca.public_key()))
                .unwrap_or_else(|e| panic!("{key_type} CA, {name}: {e}"));
        }
        assert_eq!(env.listing("."), NINE_FILES, "{key_type}");
    }
}

#[test]
fn default_ca_names_are_unique_and_explicit_ones_are_kept() {
    let env = Env::new();
    env.certgen(&["ca", "--key-type", "ecdsa-p256", "--out", "one", "-q"])
        .success();
    env.certgen(&["ca", "--key-type", "ecdsa-p256", "--out", "two", "-q"])
        .success();
    env.certgen(&[
        "all",
        "--key-type",
        "ecdsa-p256",
        "--ca-cn",
        "Acme CA",
        "--out",
        "three",
        "-q",
    ])
    .success();
    let names: Vec<String> = ["one", "two", "three"]
        .iter()
        .map(|dir| {
            let der = cert_der(&env.join(dir).join("ca.pem"));
            parse(&der).subject().to_string()
        })
        .collect();
    assert!(names[0].starts_with("CN=certgen CA "), "{names:?}");
    assert_eq!(names[0].len(), "CN=certgen CA ".len() + 8, "{names:?}");
    assert_ne!(names[0], names[1]);
    assert_eq!(names[2], "CN=Acme CA");
}

#[test]
fn json_lists_every_written_file_with_mode_kind_serial_and_fingerprint() {
    let env = Env::new();
    let run = env.certgen(&[
        "all",
        "--json",
        "-q",
        "--key-type",
        "ecdsa-p256",
        "--out",
        "cert",
    ]);
    let doc: serde_json::Value = serde_json::from_str(&run.success().stdout()).expect("JSON");
    assert_eq!(doc["schema"], 1);
    assert_eq!(doc["unreadable"], serde_json::json!([]));
    let objects = doc["objects"].as_array().expect("objects");
    let listed: Vec<(String, String, String)> = objects
        .iter()
        .map(|o| {
            let field = |name: &str| o[name].as_str().unwrap_or_default().to_owned();
            (field("path"), field("kind"), field("mode"))
        })
        .collect();
    let expected: Vec<(String, String, String)> = [
        ("ca.key", "private_key", "0600"),
        ("ca.pem", "certificate", "0644"),
        ("ca.srl", "serial_file", "0644"),
        ("server.key", "private_key", "0600"),
        ("server.csr", "certificate_request", "0644"),
        ("server.pem", "certificate", "0644"),
        ("client.key", "private_key", "0600"),
        ("client.csr", "certificate_request", "0644"),
        ("client.pem", "certificate", "0644"),
    ]
    .iter()
    .map(|(n, k, m)| (format!("cert/{n}"), k.to_string(), m.to_string()))
    .collect();
    assert_eq!(listed, expected);

    let server = &objects[5];
    let der = cert_der(&env.join("cert/server.pem"));
    let cert = parse(&der);
    assert_eq!(server["serial"], serial_hex(&cert));
    assert_eq!(server["subject"], "CN=localhost");
    assert_eq!(
        server["sans"],
        serde_json::json!(["DNS:localhost", "IP:127.0.0.1", "IP:::1"])
    );
    let fingerprint = server["sha256_fingerprint"].as_str().unwrap();
    assert_eq!(fingerprint.len(), 95, "{fingerprint}");
    assert!(server["not_before"].as_str().unwrap().ends_with('Z'));
    assert_eq!(
        objects[2]["serial"],
        serial_hex(&parse(&cert_der(&env.join("cert/client.pem"))))
    );
    assert_eq!(
        objects[3]["matches"],
        serde_json::json!(["cert/server.csr", "cert/server.pem"])
    );

    // The same schema as inspect: inspecting the files listed gives the
    // same document.
    let mut args = vec!["inspect", "--json"];
    args.extend(expected.iter().map(|(path, _, _)| path.as_str()));
    let inspected: serde_json::Value =
        serde_json::from_str(&env.certgen(&args).success().stdout()).expect("JSON");
    assert_eq!(inspected, doc);
}

#[test]
fn json_after_reusing_a_ca_lists_only_what_was_written() {
    let env = Env::new();
    env.certgen(&["ca", "-q", "--key-type", "ecdsa-p256"])
        .success();
    let run = env
        .certgen(&["server", "--json", "-q", "--key-type", "ecdsa-p256"])
        .success();
    let doc: serde_json::Value = serde_json::from_str(&run.stdout()).expect("JSON");
    let paths: Vec<&str> = doc["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        ["./ca.srl", "./server.key", "./server.csr", "./server.pem"]
    );
}
