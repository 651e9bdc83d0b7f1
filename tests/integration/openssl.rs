//! The openssl command line as an independent judge of what certgen
//! writes, and as the other tool in a mixed workflow: openssl issuing from
//! certgen's serial file, and certgen issuing from an openssl-made CA.
//!
//! These tests need `openssl` on the PATH (`apt-get install openssl`);
//! `.ci/run` installs it when missing.

use std::fs;

use x509_parser::prelude::parse_x509_certificate;

use crate::util::{hex_plus_one, Env, KEY_TYPES};

/// The signature algorithm `openssl x509 -text` names for a CA of each type.
fn signature_name(key_type: &str) -> &'static str {
    match key_type {
        "ecdsa-p256" => "ecdsa-with-SHA256",
        "ecdsa-p384" => "ecdsa-with-SHA384",
        "ed25519" => "ED25519",
        _ => "sha256WithRSAEncryption",
    }
}

fn srl(env: &Env) -> String {
    fs::read_to_string(env.join("ca.srl"))
        .unwrap()
        .trim()
        .to_owned()
}

#[test]
fn openssl_verifies_chain_purpose_names_and_csrs_for_every_key_type() {
    for key_type in KEY_TYPES {
        let env = Env::new();
        env.certgen(&["all", "--key-type", key_type, "-q"])
            .success();

        for (cert, purpose) in [("server.pem", "sslserver"), ("client.pem", "sslclient")] {
            let args = [
                "verify",
                "-x509_strict",
                "-purpose",
                purpose,
                "-CAfile",
                "ca.pem",
                cert,
            ];
            let run = env.openssl(&args).success();
            assert_eq!(run.stdout().trim(), format!("{cert}: OK"), "{key_type}");
        }
        // The client certificate must not pass as a server one, and vice
        // versa: this is what makes the purpose checks above meaningful.
        let wrong = [
            "verify",
            "-purpose",
            "sslserver",
            "-CAfile",
            "ca.pem",
            "client.pem",
        ];
        assert_ne!(
            env.openssl(&wrong).code(),
            Some(0),
            "{key_type}: client passed as server"
        );

        for name in [
            ["-verify_hostname", "localhost"],
            ["-verify_ip", "127.0.0.1"],
            ["-verify_ip", "::1"],
        ] {
            let args = [
                "verify",
                name[0],
                name[1],
                "-CAfile",
                "ca.pem",
                "server.pem",
            ];
            env.openssl(&args).success();
        }
        let other = [
            "verify",
            "-verify_hostname",
            "example.com",
            "-CAfile",
            "ca.pem",
            "server.pem",
        ];
        assert_ne!(
            env.openssl(&other).code(),
            Some(0),
            "{key_type}: wrong host accepted"
        );

        for name in ["server", "client"] {
            let csr = format!("{name}.csr");
            let run = env
                .openssl(&["req", "-in", &csr, "-noout", "-verify"])
                .success();
            assert!(run.describe().contains("verify OK"), "{}", run.describe());

            let key = env
                .openssl(&["pkey", "-in", &format!("{name}.key"), "-pubout"])
                .success();
            let cert = env.openssl(&["x509", "-in", &format!("{name}.pem"), "-noout", "-pubkey"]);
            let req = env
                .openssl(&["req", "-in", &csr, "-noout", "-pubkey"])
                .success();
            assert_eq!(
                key.stdout(),
                cert.success().stdout(),
                "{key_type} {name}: key vs cert"
            );
            assert_eq!(key.stdout(), req.stdout(), "{key_type} {name}: key vs csr");

            let text = env
                .openssl(&["req", "-in", &csr, "-noout", "-text"])
                .success()
                .stdout();
            assert!(text.contains("Subject: CN = localhost"), "{text}");
            assert!(
                text.contains("DNS:localhost, IP Address:127.0.0.1"),
                "{text}"
            );
        }

        let text = env
            .openssl(&["x509", "-in", "server.pem", "-noout", "-text"])
            .success();
        let text = text.stdout();
        assert!(text.contains(&format!(
            "Signature Algorithm: {}",
            signature_name(key_type)
        )));
        assert!(text.contains("X509v3 Subject Alternative Name"), "{text}");
        assert!(text.contains("X509v3 Authority Key Identifier"), "{text}");
        assert!(text.contains("X509v3 Key Usage: critical"), "{text}");
        assert!(text.contains("TLS Web Server Authentication"), "{text}");

        let ca = env
            .openssl(&["x509", "-in", "ca.pem", "-noout", "-text"])
            .success()
            .stdout();
        assert!(ca.contains("CA:TRUE, pathlen:0"), "{ca}");
        assert!(
            ca.contains("Digital Signature, Certificate Sign, CRL Sign"),
            "{ca}"
        );
        assert!(ca.contains("X509v3 Subject Key Identifier"), "{ca}");
    }
}

#[test]
fn openssl_and_certgen_take_turns_on_one_serial_file() {
    let env = Env::new();
    env.certgen(&["all", "--key-type", "ecdsa-p256", "-q"])
        .success();
    let after_certgen = srl(&env);
    assert_eq!(env.openssl_serial("client.pem"), after_certgen);
    assert_eq!(
        fs::read_to_string(env.join("ca.srl")).unwrap(),
        format!("{after_certgen}\n")
    );
    assert_eq!(after_certgen.len() % 2, 0, "odd number of hex digits");

    let args = [
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAserial",
        "ca.srl",
        "-days",
        "1",
        "-out",
        "by-openssl.pem",
    ];
    env.openssl(&args).success();
    let by_openssl = env.openssl_serial("by-openssl.pem");
    assert_eq!(by_openssl, hex_plus_one(&after_certgen));
    assert_eq!(srl(&env), by_openssl);

    env.certgen(&[
        "client",
        "--name",
        "again",
        "--key-type",
        "ecdsa-p256",
        "-q",
    ])
    .success();
    let again = env.openssl_serial("again.pem");
    assert_eq!(again, hex_plus_one(&by_openssl));
    assert_eq!(srl(&env), again);

    let serials = [
        env.openssl_serial("server.pem"),
        env.openssl_serial("client.pem"),
        by_openssl,
        again,
    ];
    let mut unique = serials.to_vec();
    unique.sort();
    unique.dedup();
    assert_eq!(
        unique.len(),
        serials.len(),
        "repeated serial in {serials:?}"
    );
}

#[test]
fn certgen_continues_a_serial_file_that_openssl_created() {
    let env = Env::new();
    env.certgen(&["ca", "--key-type", "ecdsa-p256", "-q"])
        .success();
    env.openssl(&[
        "req",
        "-new",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        "o.key",
        "-subj",
        "/CN=o",
        "-out",
        "o.csr",
    ])
    .success();
    let args = [
        "x509",
        "-req",
        "-in",
        "o.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "o.pem",
    ];
    env.openssl(&args).success();
    let created = srl(&env);
    assert_eq!(env.openssl_serial("o.pem"), created);

    env.certgen(&["server", "--key-type", "ecdsa-p256", "-q"])
        .success();
    assert_eq!(env.openssl_serial("server.pem"), hex_plus_one(&created));
}

/// An RSA CA made by openssl with a PKCS#1 key (`-traditional`), as older
/// recipes do, and an EC CA with a SEC1 key: certgen issues from both, and
/// the issuer name of its certificates matches the CA subject byte for byte
/// (rustls and Go compare names as bytes).
#[test]
fn certgen_issues_from_openssl_made_cas_with_pkcs1_and_sec1_keys() {
    let cases: [(&str, &[&str]); 2] = [
        (
            "RSA PRIVATE KEY",
            &["genrsa", "-traditional", "-out", "ca.key", "2048"],
        ),
        (
            "EC PRIVATE KEY",
            &[
                "ecparam",
                "-genkey",
                "-name",
                "prime256v1",
                "-noout",
                "-out",
                "ca.key",
            ],
        ),
    ];
    for (label, genkey) in cases {
        let env = Env::new();
        env.openssl(genkey).success();
        let key_text = fs::read_to_string(env.join("ca.key")).unwrap();
        assert!(
            key_text.starts_with(&format!("-----BEGIN {label}-----")),
            "{key_text}"
        );
        let req = [
            "req",
            "-x509",
            "-new",
            "-key",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "30",
            "-subj",
            "/C=CN/ST=Shanghai/L=Shanghai/O=milvus/OU=milvus/CN=openssl CA",
        ];
        env.openssl(&req).success();

        env.certgen(&["all", "--key-type", "ecdsa-p256", "-q"])
            .success();
        // No -x509_strict here: it faults the openssl-made CA for lacking
        // a key usage extension, which is not what this test is about.
        let run = env.openssl(&["verify", "-CAfile", "ca.pem", "server.pem", "client.pem"]);
        assert_eq!(
            run.success().stdout(),
            "server.pem: OK\nclient.pem: OK\n",
            "{label}"
        );

        let ca_der = pem::parse(fs::read(env.join("ca.pem")).unwrap())
            .unwrap()
            .into_contents();
        let leaf_der = pem::parse(fs::read(env.join("server.pem")).unwrap())
            .unwrap()
            .into_contents();
        let (_, ca) = parse_x509_certificate(&ca_der).unwrap();
        let (_, leaf) = parse_x509_certificate(&leaf_der).unwrap();
        assert_eq!(
            leaf.issuer().as_raw(),
            ca.subject().as_raw(),
            "{label}: issuer bytes differ"
        );
        assert_eq!(
            key_text,
            fs::read_to_string(env.join("ca.key")).unwrap(),
            "CA key rewritten"
        );
    }
}

#[test]
fn hex_plus_one_carries() {
    assert_eq!(hex_plus_one("0F"), "10");
    assert_eq!(hex_plus_one("FF"), "100");
    assert_eq!(hex_plus_one("7C78E63C02151CEE"), "7C78E63C02151CEF");
}
