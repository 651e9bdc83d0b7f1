//! `certgen inspect` against the openssl command line: for the same file,
//! every fact inspect reports (subject, issuer, serial, dates, SANs, extended
//! key usage, key type and size, fingerprint) must be what openssl prints.
//! The files come from certgen itself and from a recipe-like set that the
//! tests make with openssl commands: PKCS#1 and PKCS#8 keys, and leaves
//! signed without an extensions file, so with no SAN and no EKU.
//!
//! Then the shapes inspect must read (DER, bundles, folders), what its text
//! output must never show (key material), and the files it must refuse with
//! exit code 2 and a one-line error naming the file.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::net::IpAddr;

use serde_json::Value;

use crate::util::{Env, Run, KEY_TYPES, NINE_FILES};

/// The subject of the recipe's CA, as the recipe's `openssl req` sets it.
const RECIPE_CA_SUBJECT: &str = "/C=CN/ST=Shanghai/L=Shanghai/O=milvus/OU=milvus/CN=localhost";

/// The subject of the recipe's server and client requests.
const RECIPE_LEAF_SUBJECT: &str = "/C=CN/O=milvus/OU=milvus/CN=localhost";

/// Runs `certgen inspect --json` on `paths` and returns its objects.
fn inspect_json(env: &Env, paths: &[&str]) -> Vec<Value> {
    let mut args = vec!["inspect", "--json"];
    args.extend_from_slice(paths);
    let run = env.certgen(&args).success();
    let document: Value = serde_json::from_str(&run.stdout())
        .unwrap_or_else(|e| panic!("inspect --json printed no JSON: {e}\n{}", run.describe()));
    assert_eq!(document["schema"], 1, "{}", run.describe());
    document["objects"]
        .as_array()
        .unwrap_or_else(|| panic!("no objects array\n{}", run.describe()))
        .clone()
}

/// The one object inspect reports for a single-object file.
fn inspect_one(env: &Env, path: &str) -> Value {
    let objects = inspect_json(env, &[path]);
    assert_eq!(objects.len(), 1, "{path}: {objects:#?}");
    objects.into_iter().next().unwrap()
}

fn text(value: &Value, key: &str) -> String {
    value[key]
        .as_str()
        .unwrap_or_else(|| panic!("no string {key:?} in {value:#}"))
        .to_owned()
}

fn strings(value: &Value, key: &str) -> Vec<String> {
    value[key]
        .as_array()
        .unwrap_or_else(|| panic!("no array {key:?} in {value:#}"))
        .iter()
        .map(|item| item.as_str().unwrap().to_owned())
        .collect()
}

/// Stdout of an openssl command that must succeed.
fn openssl_out(env: &Env, args: &[&str]) -> String {
    env.openssl(args).success().stdout()
}

/// The `name=value` lines that `openssl x509 -noout -serial -subject ...`
/// prints, by name.
fn openssl_fields(env: &Env, cert: &str) -> BTreeMap<String, String> {
    let args = [
        "x509",
        "-in",
        cert,
        "-noout",
        "-serial",
        "-subject",
        "-issuer",
        "-nameopt",
        "RFC2253",
        "-startdate",
        "-enddate",
        "-dateopt",
        "iso_8601",
        "-fingerprint",
        "-sha256",
    ];
    openssl_out(env, &args)
        .lines()
        .filter_map(|line| line.split_once('='))
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect()
}

/// An RFC 2253 name from openssl (`CN=a,O=b,C=CN`, last RDN first) in the
/// order certgen prints names (`C=CN, O=b, CN=a`, as encoded). The tests
/// use no commas inside values, so a plain split is exact.
fn from_rfc2253(name: &str) -> String {
    let mut parts: Vec<&str> = name.split(',').collect();
    parts.reverse();
    parts.join(", ")
}

/// `2026-01-02 03:04:05Z` (openssl's `-dateopt iso_8601`) as RFC 3339.
fn from_openssl_iso(date: &str) -> String {
    date.replacen(' ', "T", 1)
}

/// The value line under an extension header in openssl's text output
/// (`-ext NAME` or `-text`), or `None` if the extension is absent.
fn extension_line(openssl_text: &str, header: &str) -> Option<String> {
    let mut lines = openssl_text.lines();
    lines.find(|line| line.trim_start().starts_with(header))?;
    Some(lines.next()?.trim().to_owned())
}

/// openssl's subjectAltName entries in certgen's `TYPE:value` form, with IP
/// addresses normalised (openssl 3.0 writes `::1` as `0:0:0:0:0:0:0:1`).
fn openssl_sans(openssl_text: &str) -> Vec<String> {
    let Some(line) = extension_line(openssl_text, "X509v3 Subject Alternative Name") else {
        return Vec::new();
    };
    line.split(", ")
        .map(|entry| match entry.strip_prefix("IP Address:") {
            Some(ip) => format!("IP:{}", ip.parse::<IpAddr>().unwrap()),
            None => entry.to_owned(),
        })
        .collect()
}

/// certgen's SANs with IP addresses normalised the same way.
fn certgen_sans(value: &Value) -> Vec<String> {
    strings(value, "sans")
        .into_iter()
        .map(|entry| match entry.strip_prefix("IP:") {
            Some(ip) => format!("IP:{}", ip.parse::<IpAddr>().unwrap()),
            None => entry,
        })
        .collect()
}

/// openssl's extended key usages under RFC 5280's short names.
fn openssl_ekus(openssl_text: &str) -> Vec<String> {
    let Some(line) = extension_line(openssl_text, "X509v3 Extended Key Usage") else {
        return Vec::new();
    };
    line.split(", ")
        .map(|usage| match usage {
            "TLS Web Server Authentication" => "serverAuth".to_owned(),
            "TLS Web Client Authentication" => "clientAuth".to_owned(),
            other => panic!("no short name known for the usage {other:?}"),
        })
        .collect()
}

/// A public key as both tools describe it.
#[derive(Debug, PartialEq, Eq)]
struct KeyDesc {
    algorithm: String,
    /// openssl prints no size for Ed25519 keys; then this is `None` on the
    /// openssl side and the sizes are not compared.
    bits: Option<u64>,
    curve: Option<String>,
}

/// The key openssl's `-text` output describes (`x509`, `req` or `pkey`).
fn openssl_key(openssl_text: &str) -> KeyDesc {
    let bits = openssl_text.lines().find_map(|line| {
        let size = line.split_once("Key: (")?.1;
        size.split(" bit").next()?.parse().ok()
    });
    let curve = openssl_text
        .lines()
        .find_map(|line| line.trim().strip_prefix("NIST CURVE: "))
        .map(str::to_owned);
    let ed25519 =
        openssl_text.contains("ED25519 Public-Key") || openssl_text.contains("ED25519 Private-Key");
    let algorithm = match (ed25519, &curve) {
        (true, _) => "Ed25519",
        (false, Some(_)) => "ECDSA",
        (false, None) => "RSA",
    };
    KeyDesc {
        algorithm: algorithm.to_owned(),
        bits,
        curve,
    }
}

/// The key certgen reports in a `public_key` object.
fn certgen_key(public_key: &Value) -> KeyDesc {
    KeyDesc {
        algorithm: text(public_key, "algorithm"),
        bits: public_key["bits"].as_u64(),
        curve: public_key["curve"].as_str().map(str::to_owned),
    }
}

#[track_caller]
fn assert_same_key(certgen: KeyDesc, openssl: KeyDesc, what: &str) {
    assert_eq!(certgen.algorithm, openssl.algorithm, "{what}: algorithm");
    assert_eq!(certgen.curve, openssl.curve, "{what}: curve");
    if openssl.algorithm == "Ed25519" {
        assert_eq!(openssl.bits, None, "{what}: openssl's Ed25519 text changed");
    } else {
        assert!(openssl.bits.is_some(), "{what}: no size in openssl's text");
        assert_eq!(certgen.bits, openssl.bits, "{what}: key size");
    }
}

/// Checks every fact inspect reports for the certificate `cert` against
/// openssl's view of the same file.
fn assert_certificate_facts_match_openssl(env: &Env, cert: &str, what: &str) {
    let facts = inspect_one(env, cert);
    let what = format!("{what} {cert}");
    assert_eq!(text(&facts, "kind"), "certificate", "{what}");
    let fields = openssl_fields(env, cert);

    assert_eq!(text(&facts, "serial"), fields["serial"], "{what}: serial");
    assert_eq!(
        text(&facts, "subject"),
        from_rfc2253(&fields["subject"]),
        "{what}: subject"
    );
    assert_eq!(
        text(&facts, "issuer"),
        from_rfc2253(&fields["issuer"]),
        "{what}: issuer"
    );
    assert_eq!(
        text(&facts, "not_before"),
        from_openssl_iso(&fields["notBefore"]),
        "{what}: not before"
    );
    assert_eq!(
        text(&facts, "not_after"),
        from_openssl_iso(&fields["notAfter"]),
        "{what}: not after"
    );
    assert_eq!(
        text(&facts, "sha256_fingerprint"),
        fields["sha256 Fingerprint"],
        "{what}: fingerprint"
    );

    let extensions = openssl_out(
        env,
        &[
            "x509",
            "-in",
            cert,
            "-noout",
            "-ext",
            "subjectAltName,extendedKeyUsage",
        ],
    );
    assert_eq!(
        certgen_sans(&facts),
        openssl_sans(&extensions),
        "{what}: SANs"
    );
    assert_eq!(
        strings(&facts, "extended_key_usage"),
        openssl_ekus(&extensions),
        "{what}: extended key usage"
    );

    let full = openssl_out(env, &["x509", "-in", cert, "-noout", "-text"]);
    assert_same_key(certgen_key(&facts["public_key"]), openssl_key(&full), &what);
    let signature = format!(
        "Signature Algorithm: {}",
        text(&facts, "signature_algorithm")
    );
    assert!(
        full.to_lowercase().contains(&signature.to_lowercase()),
        "{what}: {signature:?} not in\n{full}"
    );
}

/// Checks a request's subject, key, SANs and self-signature against openssl.
fn assert_request_facts_match_openssl(env: &Env, csr: &str, what: &str) {
    let facts = inspect_one(env, csr);
    let what = format!("{what} {csr}");
    assert_eq!(text(&facts, "kind"), "certificate_request", "{what}");
    let subject = openssl_out(
        env,
        &[
            "req", "-in", csr, "-noout", "-subject", "-nameopt", "RFC2253",
        ],
    );
    let subject = subject.trim().strip_prefix("subject=").unwrap();
    assert_eq!(
        text(&facts, "subject"),
        from_rfc2253(subject),
        "{what}: subject"
    );

    let full = openssl_out(env, &["req", "-in", csr, "-noout", "-text"]);
    assert_eq!(certgen_sans(&facts), openssl_sans(&full), "{what}: SANs");
    assert_same_key(certgen_key(&facts["public_key"]), openssl_key(&full), &what);

    let verify = env.openssl(&["req", "-in", csr, "-noout", "-verify"]);
    assert!(
        verify.describe().contains("verify OK"),
        "{}",
        verify.describe()
    );
    assert_eq!(facts["signature_valid"], true, "{what}: signature");
}

/// Checks a key's format and size against openssl, and returns its facts.
fn assert_key_facts_match_openssl(env: &Env, key: &str, format: &str, what: &str) -> Value {
    let facts = inspect_one(env, key);
    let what = format!("{what} {key}");
    assert_eq!(text(&facts, "kind"), "private_key", "{what}");
    assert_eq!(text(&facts, "format"), format, "{what}: format");
    assert!(facts["problem"].is_null(), "{what}: {facts:#}");
    let full = openssl_out(env, &["pkey", "-in", key, "-noout", "-text"]);
    assert_same_key(certgen_key(&facts["public_key"]), openssl_key(&full), &what);
    facts
}

/// The serial openssl prints for a certificate.
fn openssl_serial(env: &Env, cert: &str) -> String {
    openssl_fields(env, cert)["serial"].clone()
}

#[test]
fn reports_what_openssl_reports_for_certgen_sets_of_every_key_type() {
    for key_type in KEY_TYPES {
        let env = Env::new();
        env.certgen(&["all", "--key-type", key_type, "-q"])
            .success();
        for cert in ["ca.pem", "server.pem", "client.pem"] {
            assert_certificate_facts_match_openssl(&env, cert, key_type);
        }
        for name in ["server", "client"] {
            assert_request_facts_match_openssl(&env, &format!("{name}.csr"), key_type);
            let key =
                assert_key_facts_match_openssl(&env, &format!("{name}.key"), "PKCS#8", key_type);
            assert_eq!(
                strings(&key, "matches"),
                [format!("{name}.csr"), format!("{name}.pem")],
                "{key_type} {name}.key"
            );
        }
        // The leaves carry what `all` puts in them, so the comparisons
        // above were not between two empty lists.
        for (cert, usage) in [("server.pem", "serverAuth"), ("client.pem", "clientAuth")] {
            let facts = inspect_one(&env, cert);
            assert_eq!(
                certgen_sans(&facts),
                ["DNS:localhost", "IP:127.0.0.1", "IP:::1"],
                "{key_type} {cert}"
            );
            assert_eq!(
                strings(&facts, "extended_key_usage"),
                [usage],
                "{key_type} {cert}"
            );
        }
        let ca_key = assert_key_facts_match_openssl(&env, "ca.key", "PKCS#8", key_type);
        assert_eq!(strings(&ca_key, "matches"), ["ca.pem"], "{key_type}");

        let srl = inspect_one(&env, "ca.srl");
        assert_eq!(text(&srl, "kind"), "serial_file", "{key_type}");
        let leaves = [
            openssl_serial(&env, "server.pem"),
            openssl_serial(&env, "client.pem"),
        ];
        assert!(
            leaves.contains(&text(&srl, "serial")),
            "{key_type}: ca.srl holds {srl:#}, the leaves {leaves:?}"
        );
    }
}

/// Keys certgen does not generate but reads: a P-521 key and an RSA key
/// whose modulus is not a whole number of bytes. Both are reported with
/// the wrong size today (528 and 2048 bits), because the sizes come from
/// x509-parser's `key_size`, which counts bytes of the encoded point or
/// modulus; see `key_info` in src/facts.rs.
#[test]
fn reports_the_key_size_openssl_reports_for_p521_and_odd_rsa_sizes() {
    let env = Env::new();
    env.openssl(&[
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:P-521",
        "-out",
        "p521.key",
    ])
    .success();
    env.openssl(&[
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:2052",
        "-out",
        "rsa2052.key",
    ])
    .success();
    for key in ["p521.key", "rsa2052.key"] {
        let cert = key.replace(".key", ".pem");
        env.openssl(&[
            "req", "-x509", "-new", "-key", key, "-out", &cert, "-days", "1", "-subj", "/CN=odd",
        ])
        .success();
        assert_key_facts_match_openssl(&env, key, "PKCS#8", "odd size");
        assert_certificate_facts_match_openssl(&env, &cert, "odd size");
    }
}

/// openssl's `-trustout` form (`TRUSTED CERTIFICATE`) appends trust
/// settings after the certificate, and a DER file may carry bytes after
/// it. Both are read as the certificate, so the fingerprint must be the
/// certificate's alone, as openssl prints it. Today it covers the extra
/// bytes: `from_pem_block` and `decode_der` in src/decode.rs keep them.
#[test]
fn fingerprints_the_certificate_alone_when_bytes_follow_it() {
    let env = Env::new();
    env.certgen(&["all", "--key-type", "ecdsa-p256", "-q"])
        .success();
    env.openssl(&[
        "x509",
        "-in",
        "server.pem",
        "-addtrust",
        "serverAuth",
        "-trustout",
        "-out",
        "trusted.pem",
    ])
    .success();
    let pem = fs::read_to_string(env.join("server.pem")).unwrap();
    let mut padded = pem::parse(pem).unwrap().into_contents();
    padded.extend_from_slice(b"trailing bytes");
    fs::write(env.join("padded.der"), padded).unwrap();

    let expected = openssl_fields(&env, "server.pem")["sha256 Fingerprint"].clone();
    for file in ["trusted.pem", "padded.der"] {
        let facts = inspect_one(&env, file);
        assert_eq!(text(&facts, "sha256_fingerprint"), expected, "{file}");
    }
}

/// Makes the recipe's nine files with openssl alone, as the recipe does: a
/// CA from `req -x509`, a PKCS#1 server key (`genrsa -traditional`), a
/// PKCS#8 client key (`genpkey`), and leaves signed by `x509 -req` with no
/// extensions file, so with neither SAN nor EKU.
fn recipe_set(env: &Env) {
    env.openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "30",
        "-subj",
        RECIPE_CA_SUBJECT,
    ])
    .success();
    env.openssl(&["genrsa", "-traditional", "-out", "server.key", "2048"])
        .success();
    env.openssl(&["genpkey", "-algorithm", "RSA", "-out", "client.key"])
        .success();
    for name in ["server", "client"] {
        let (key, csr, cert) = (
            format!("{name}.key"),
            format!("{name}.csr"),
            format!("{name}.pem"),
        );
        env.openssl(&[
            "req",
            "-new",
            "-key",
            &key,
            "-out",
            &csr,
            "-subj",
            RECIPE_LEAF_SUBJECT,
        ])
        .success();
        env.openssl(&[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "30",
            "-out",
            &cert,
        ])
        .success();
    }
    assert_eq!(env.listing("."), NINE_FILES);
}

#[test]
fn reports_what_openssl_reports_for_a_recipe_set_made_by_openssl() {
    let env = Env::new();
    recipe_set(&env);
    for cert in ["ca.pem", "server.pem", "client.pem"] {
        assert_certificate_facts_match_openssl(&env, cert, "recipe");
    }
    for csr in ["server.csr", "client.csr"] {
        assert_request_facts_match_openssl(&env, csr, "recipe");
    }
    assert_key_facts_match_openssl(&env, "ca.key", "PKCS#8", "recipe");
    assert_key_facts_match_openssl(&env, "server.key", "PKCS#1", "recipe");
    assert_key_facts_match_openssl(&env, "client.key", "PKCS#8", "recipe");
}

#[test]
fn reports_no_san_and_no_eku_for_leaves_signed_without_extensions() {
    let env = Env::new();
    recipe_set(&env);
    for name in ["server", "client"] {
        let cert = inspect_one(&env, &format!("{name}.pem"));
        assert_eq!(strings(&cert, "sans"), Vec::<String>::new(), "{cert:#}");
        assert_eq!(
            strings(&cert, "extended_key_usage"),
            Vec::<String>::new(),
            "{cert:#}"
        );
        assert!(cert["basic_constraints"].is_null(), "{cert:#}");
        let csr = inspect_one(&env, &format!("{name}.csr"));
        assert_eq!(strings(&csr, "sans"), Vec::<String>::new(), "{csr:#}");
        assert_eq!(
            text(&csr, "subject"),
            "C=CN, O=milvus, OU=milvus, CN=localhost"
        );
    }
    let text_output = env.certgen(&["inspect", "server.pem"]).success().stdout();
    assert!(
        text_output.contains("  SANs           none\n"),
        "{text_output}"
    );
    assert!(
        text_output.contains("  ext key usage  none\n"),
        "{text_output}"
    );
}

#[test]
fn tells_pkcs1_pkcs8_and_sec1_keys_apart() {
    let env = Env::new();
    recipe_set(&env);
    env.openssl(&[
        "ecparam",
        "-genkey",
        "-name",
        "prime256v1",
        "-noout",
        "-out",
        "sec1.key",
    ])
    .success();
    for (key, label, format) in [
        ("server.key", "RSA PRIVATE KEY", "PKCS#1"),
        ("client.key", "PRIVATE KEY", "PKCS#8"),
        ("sec1.key", "EC PRIVATE KEY", "SEC1"),
    ] {
        let pem = fs::read_to_string(env.join(key)).unwrap();
        assert!(
            pem.starts_with(&format!("-----BEGIN {label}-----\n")),
            "{pem}"
        );
        assert_key_facts_match_openssl(&env, key, format, "openssl-made");
    }
}

#[test]
fn names_the_certificate_and_request_of_each_key() {
    let env = Env::new();
    recipe_set(&env);
    // Given alone, a key is matched against the files beside it.
    for name in ["server", "client"] {
        let key = inspect_one(&env, &format!("{name}.key"));
        assert_eq!(
            strings(&key, "matches"),
            [format!("{name}.csr"), format!("{name}.pem")]
        );
    }
    let ca = inspect_one(&env, "ca.key");
    assert_eq!(strings(&ca, "matches"), ["ca.pem"]);

    // The server and client keys share subject names; only the public key
    // may decide a match, so a key moved away from its files matches none.
    fs::create_dir(env.join("alone")).unwrap();
    fs::copy(env.join("server.key"), env.join("alone/server.key")).unwrap();
    let alone = inspect_one(&env, "alone/server.key");
    assert_eq!(strings(&alone, "matches"), Vec::<String>::new());
    let shown = env.certgen(&["inspect", "alone/server.key"]).success();
    assert!(
        shown
            .stdout()
            .contains("no certificate or request beside it"),
        "{}",
        shown.describe()
    );
}

#[test]
fn reports_the_serial_file_openssl_created() {
    let env = Env::new();
    recipe_set(&env);
    let srl = inspect_one(&env, "ca.srl");
    assert_eq!(text(&srl, "kind"), "serial_file");
    let on_disk = fs::read_to_string(env.join("ca.srl")).unwrap();
    assert_eq!(text(&srl, "serial"), on_disk.trim());
    // openssl writes back the serial it used last: the client's.
    assert_eq!(text(&srl, "serial"), openssl_serial(&env, "client.pem"));
}

#[test]
fn reports_openssl_made_requests_as_validly_signed() {
    let env = Env::new();
    recipe_set(&env);
    for csr in ["server.csr", "client.csr"] {
        let facts = inspect_one(&env, csr);
        assert_eq!(facts["signature_valid"], true, "{facts:#}");
        let shown = env.certgen(&["inspect", csr]).success().stdout();
        assert!(
            shown.contains("  self-signature valid (signed by its own key)\n"),
            "{shown}"
        );
    }
}

#[test]
fn reads_a_der_certificate_as_its_pem() {
    let env = Env::new();
    env.certgen(&["all", "--key-type", "ecdsa-p256", "-q"])
        .success();
    env.openssl(&[
        "x509",
        "-in",
        "server.pem",
        "-outform",
        "DER",
        "-out",
        "server.der",
    ])
    .success();
    let mut from_pem = inspect_one(&env, "server.pem");
    let mut from_der = inspect_one(&env, "server.der");
    assert_eq!(text(&from_der, "kind"), "certificate");
    // The path differs, and so may the mode openssl gave its output.
    for facts in [&mut from_pem, &mut from_der] {
        facts["path"] = Value::Null;
        facts["mode"] = Value::Null;
    }
    assert_eq!(from_der, from_pem);

    let fingerprint = openssl_out(
        &env,
        &[
            "x509",
            "-in",
            "server.der",
            "-inform",
            "DER",
            "-noout",
            "-fingerprint",
            "-sha256",
        ],
    );
    assert_eq!(
        format!(
            "sha256 Fingerprint={}\n",
            text(&from_der, "sha256_fingerprint")
        ),
        fingerprint
    );
}

#[test]
fn reads_each_certificate_of_a_bundle_in_order() {
    let env = Env::new();
    env.certgen(&["all", "--key-type", "ecdsa-p256", "-q"])
        .success();
    let bundle = [
        fs::read_to_string(env.join("server.pem")).unwrap(),
        fs::read_to_string(env.join("ca.pem")).unwrap(),
    ]
    .concat();
    fs::write(env.join("chain.pem"), bundle).unwrap();

    let objects = inspect_json(&env, &["chain.pem"]);
    assert_eq!(objects.len(), 2, "{objects:#?}");
    for (index, (object, source)) in objects.iter().zip(["server.pem", "ca.pem"]).enumerate() {
        assert_eq!(text(object, "path"), "chain.pem");
        assert_eq!(object["index"], index);
        assert_eq!(text(object, "kind"), "certificate");
        assert_eq!(text(object, "serial"), openssl_serial(&env, source));
    }
    let shown = env.certgen(&["inspect", "chain.pem"]).success().stdout();
    assert!(shown.starts_with("chain.pem: certificate\n"), "{shown}");
    assert!(
        shown.contains("\nchain.pem (object 2): CA certificate\n"),
        "{shown}"
    );
}

#[test]
fn a_folder_stands_for_every_tls_file_in_it() {
    let env = Env::new();
    env.certgen(&["all", "--key-type", "ecdsa-p256", "--out", "set", "-q"])
        .success();
    // Neither a note nor a subfolder is a TLS file of the folder.
    fs::write(
        env.join("set/notes.txt"),
        "issued for the staging cluster\n",
    )
    .unwrap();
    fs::create_dir(env.join("set/old")).unwrap();
    fs::copy(env.join("set/ca.pem"), env.join("set/old/ca.pem")).unwrap();

    let objects = inspect_json(&env, &["set"]);
    let paths: Vec<String> = objects.iter().map(|o| text(o, "path")).collect();
    let expected: Vec<String> = NINE_FILES.iter().map(|f| format!("set/{f}")).collect();
    assert_eq!(paths, expected);
}

/// A file of a folder that is named or shaped like a TLS file but does not
/// decode is reported, not skipped: the facts of the others are printed, the
/// run exits 2, and the error and the JSON name the broken file.
#[test]
fn a_folder_reports_the_tls_files_it_cannot_read() {
    let env = Env::new();
    env.certgen(&["all", "--key-type", "ecdsa-p256", "--out", "set", "-q"])
        .success();
    let cert = fs::read_to_string(env.join("set/server.pem")).unwrap();
    fs::write(env.join("set/server.pem"), &cert[..cert.len() / 2]).unwrap();
    fs::write(env.join("set/client.key"), "").unwrap();
    fs::write(env.join("set/notes.txt"), "not a TLS file\n").unwrap();
    // What a killed run left is not one of the folder's files.
    fs::write(
        env.join("set/.ca.pem.certgen-4000000000-0.tmp"),
        &cert[..cert.len() / 3],
    )
    .unwrap();

    let run = env.certgen(&["inspect", "--json", "set"]).failure(2);
    let document: Value = serde_json::from_str(&run.stdout())
        .unwrap_or_else(|e| panic!("no JSON: {e}\n{}", run.describe()));
    let paths: Vec<String> = document["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| text(o, "path"))
        .collect();
    let expected: Vec<String> = NINE_FILES
        .iter()
        .filter(|f| !["server.pem", "client.key"].contains(f))
        .map(|f| format!("set/{f}"))
        .collect();
    assert_eq!(paths, expected, "{}", run.describe());
    let unreadable = document["unreadable"].as_array().unwrap();
    let reported: Vec<(String, String)> = unreadable
        .iter()
        .map(|u| (text(u, "path"), text(u, "error")))
        .collect();
    assert_eq!(reported.len(), 2, "{reported:?}");
    assert_eq!(reported[0].0, "set/client.key");
    assert!(reported[0].1.contains("empty"), "{reported:?}");
    assert_eq!(reported[1].0, "set/server.pem");
    assert!(reported[1].1.contains("truncated"), "{reported:?}");

    let stderr = run.stderr();
    assert_eq!(stderr.lines().count(), 1, "{}", run.describe());
    assert!(stderr.starts_with("error: 2 of the files could not be read"));
    assert!(stderr.contains("set/server.pem") && stderr.contains("set/client.key"));

    // As text too: the readable files are shown, the broken ones named.
    let run = env.certgen(&["inspect", "set"]).failure(2);
    assert!(
        run.stdout().contains("set/ca.pem: CA certificate"),
        "{}",
        run.describe()
    );
    assert!(
        !run.stdout().contains("set/server.pem:"),
        "{}",
        run.describe()
    );
    assert!(
        run.stderr().contains("set/server.pem"),
        "{}",
        run.describe()
    );
}

/// A named pipe or a device is refused at once: reading one may wait for a
/// writer or never end.
#[test]
fn refuses_pipes_and_devices_without_reading_them() {
    let env = Env::new();
    let made = std::process::Command::new("mkfifo")
        .arg(env.join("pipe.pem"))
        .status()
        .expect("run mkfifo");
    assert!(made.success());
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_certgen"))
        .args(["inspect", "pipe.pem", "/dev/zero"])
        .current_dir(env.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // A certgen that opened the pipe would wait for ever; give it ten seconds.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            panic!("certgen inspect waited on a named pipe");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let run = Run {
        command: "certgen inspect pipe.pem /dev/zero".to_owned(),
        output: child.wait_with_output().unwrap(),
    }
    .failure(2);
    assert_one_line_error(&run, &["pipe.pem", "not a regular file"]);
    assert_rejected(&env, "/dev/zero", "not a regular file");
}

/// Each detail line is `  LABEL VALUE`, the labels padded to one width so
/// that the values start in one column; neither the text nor the JSON shows
/// any part of a key.
#[test]
fn text_output_aligns_labels_and_never_shows_key_material() {
    let env = Env::new();
    recipe_set(&env);
    let run = env.certgen(&["inspect", "."]).success();
    let shown = run.stdout();

    let detail_lines: Vec<&str> = shown.lines().filter(|l| l.starts_with(' ')).collect();
    assert!(detail_lines.len() > 40, "{shown}");
    let column = detail_lines[0].find("PKCS#8").expect("ca.key comes first");
    for line in &detail_lines {
        let (label, value) = line.split_at(column);
        assert!(
            label.starts_with("  ") && label.ends_with(' ') && !value.starts_with(' '),
            "misaligned: {line:?}\n{shown}"
        );
    }
    for label in [
        "format",
        "key",
        "matches",
        "subject",
        "issuer",
        "serial",
        "not before",
        "not after",
        "SANs",
        "ext key usage",
        "sha256",
        "last serial",
        "self-signature",
        "mode",
    ] {
        assert!(
            detail_lines
                .iter()
                .any(|line| line[..column].trim() == label),
            "no {label:?} line\n{shown}"
        );
    }

    let json = env.certgen(&["inspect", "--json", "."]).success().stdout();
    for output in [&shown, &json] {
        assert!(!output.contains("BEGIN"), "{output}");
        for key in ["ca.key", "server.key", "client.key"] {
            let pem = fs::read_to_string(env.join(key)).unwrap();
            let body: Vec<&str> = pem.lines().filter(|l| !l.starts_with("-----")).collect();
            assert!(!output.contains(&body.concat()), "{key} body shown");
            for line in body {
                assert!(!output.contains(line), "{key} line {line:?} shown");
            }
        }
    }
}

#[test]
fn reports_a_public_key_block_as_unsupported() {
    let env = Env::new();
    env.openssl(&[
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-out",
        "pair.key",
    ])
    .success();
    env.openssl(&["pkey", "-in", "pair.key", "-pubout", "-out", "public.pem"])
        .success();
    let public = inspect_one(&env, "public.pem");
    assert_eq!(text(&public, "kind"), "unsupported");
    assert_eq!(text(&public, "label"), "PUBLIC KEY");
    let shown = env.certgen(&["inspect", "public.pem"]).success().stdout();
    assert!(
        shown.starts_with("public.pem: unsupported PEM block\n  label          PUBLIC KEY\n"),
        "{shown}"
    );
}

/// Has openssl write a password-protected P-256 key (PKCS#8, encrypted).
fn write_encrypted_key(env: &Env, path: &str) {
    env.openssl(&[
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-aes256",
        "-pass",
        "pass:secret",
        "-out",
        path,
    ])
    .success();
}

#[test]
fn reports_an_encrypted_key_without_opening_it() {
    let env = Env::new();
    write_encrypted_key(&env, "locked.key");
    let locked = inspect_one(&env, "locked.key");
    assert_eq!(text(&locked, "kind"), "encrypted_private_key");
}

/// A valid block under the wrong label: a key's DER labelled as a
/// certificate is refused, naming the block; a certificate's DER labelled
/// as a key is a key certgen cannot load, reported with its problem.
#[test]
fn judges_a_block_by_its_label() {
    let env = Env::new();
    env.certgen(&["all", "--key-type", "ecdsa-p256", "-q"])
        .success();
    let relabel = |from: &str, to: &str, label: &str| {
        let pem = fs::read_to_string(env.join(from)).unwrap();
        let block = pem::parse(pem).unwrap();
        let moved = pem::Pem::new(label, block.into_contents());
        fs::write(env.join(to), pem::encode(&moved)).unwrap();
    };

    relabel("server.key", "key-as-cert.pem", "CERTIFICATE");
    let run = env.certgen(&["inspect", "key-as-cert.pem"]).failure(2);
    assert_one_line_error(
        &run,
        &[
            "key-as-cert.pem",
            "PEM block 1",
            "the certificate could not be parsed",
        ],
    );

    relabel("server.pem", "cert-as-key.pem", "PRIVATE KEY");
    let run = env.certgen(&["inspect", "cert-as-key.pem"]).failure(2);
    assert_one_line_error(
        &run,
        &[
            "cert-as-key.pem",
            "PEM block 1",
            "the PRIVATE KEY block does not hold a private key",
        ],
    );
}

/// A block with a label and nothing inside is refused as empty, not read as
/// a zero-length object.
#[test]
fn rejects_an_empty_pem_block() {
    let env = Env::new();
    for label in ["CERTIFICATE", "PRIVATE KEY", "CERTIFICATE REQUEST"] {
        let name = format!("empty-{}.pem", label.replace(' ', "-").to_lowercase());
        fs::write(
            env.join(&name),
            format!("-----BEGIN {label}-----\n-----END {label}-----\n"),
        )
        .unwrap();
        assert_rejected(&env, &name, &format!("the {label} block is empty"));
    }
}

/// Panics unless `run` printed nothing on stdout and one line on stderr,
/// `error: ` first, containing each of `fragments`.
#[track_caller]
fn assert_one_line_error(run: &Run, fragments: &[&str]) {
    let stderr = run.stderr();
    assert_eq!(stderr.lines().count(), 1, "{}", run.describe());
    assert!(stderr.starts_with("error: "), "{}", run.describe());
    for fragment in fragments {
        assert!(
            stderr.contains(fragment),
            "expected {fragment:?}\n{}",
            run.describe()
        );
    }
    assert!(!stderr.contains("panicked"), "{}", run.describe());
    assert!(run.stdout().is_empty(), "{}", run.describe());
}

/// Runs `certgen inspect` on `name` and checks it fails with exit code 2
/// and a one-line error naming the file and saying `why`.
fn assert_rejected(env: &Env, name: &str, why: &str) {
    let run = env.certgen(&["inspect", name]).failure(2);
    assert_one_line_error(&run, &[name, why]);
}

#[test]
fn rejects_a_missing_path() {
    let env = Env::new();
    assert_rejected(&env, "missing.pem", "No such file");
}

#[test]
fn rejects_a_missing_path_even_beside_good_ones() {
    let env = Env::new();
    env.certgen(&["ca", "--key-type", "ecdsa-p256", "-q"])
        .success();
    let run = env
        .certgen(&["inspect", "ca.pem", "missing.pem"])
        .failure(2);
    assert_one_line_error(&run, &["missing.pem"]);
}

#[test]
fn rejects_an_empty_file() {
    let env = Env::new();
    fs::write(env.join("empty.pem"), "").unwrap();
    assert_rejected(&env, "empty.pem", "empty");
    fs::write(env.join("blank.pem"), "\n  \n").unwrap();
    assert_rejected(&env, "blank.pem", "empty");
}

#[test]
fn rejects_truncated_pem() {
    let env = Env::new();
    env.certgen(&["all", "--key-type", "ecdsa-p256", "-q"])
        .success();
    let cert = fs::read_to_string(env.join("server.pem")).unwrap();
    fs::write(env.join("half.pem"), &cert[..cert.len() / 2]).unwrap();
    assert_rejected(&env, "half.pem", "truncated");
    // A whole first block does not excuse a cut second one.
    let ca = fs::read_to_string(env.join("ca.pem")).unwrap();
    fs::write(env.join("cut-chain.pem"), format!("{cert}{}", &ca[..100])).unwrap();
    assert_rejected(&env, "cut-chain.pem", "truncated");
}

#[test]
fn rejects_garbage_text() {
    let env = Env::new();
    fs::write(env.join("notes.pem"), "issued for the staging cluster\n").unwrap();
    assert_rejected(&env, "notes.pem", "not a certificate, request, private key");
}

#[test]
fn rejects_a_binary_file_of_random_bytes() {
    let env = Env::new();
    // Fixed pseudo-random bytes (an xorshift stream), so that a failure
    // can be reproduced.
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let bytes: Vec<u8> = (0..4096)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    fs::write(env.join("random.bin"), bytes).unwrap();
    assert_rejected(
        &env,
        "random.bin",
        "not a certificate, request, private key",
    );
}

#[test]
fn rejects_a_file_over_16_mib_unread() {
    let env = Env::new();
    let file = fs::File::create(env.join("huge.pem")).unwrap();
    // Sparse: the size is there, the 16 MiB are not written.
    file.set_len(16 * 1024 * 1024 + 1).unwrap();
    assert_rejected(&env, "huge.pem", "16777217 bytes");
}

#[test]
fn reads_a_file_of_exactly_16_mib_before_judging_it() {
    let env = Env::new();
    let file = fs::File::create(env.join("limit.bin")).unwrap();
    file.set_len(16 * 1024 * 1024).unwrap();
    assert_rejected(&env, "limit.bin", "not a certificate, request, private key");
}

/// Real certificates carry extensions certgen never writes: policies,
/// authority information access, CRL distribution points, name
/// constraints, private OIDs. inspect reads past them, and a comma in a name
/// stays inside its field.
#[test]
fn reads_certificates_with_unusual_but_legal_extensions() {
    let env = Env::new();
    let ext = "\
[v3]
basicConstraints = critical, CA:TRUE, pathlen:1
keyUsage = critical, keyCertSign, cRLSign
nameConstraints = critical, permitted;DNS:.example.com, excluded;IP:10.0.0.0/255.0.0.0
certificatePolicies = 2.23.140.1.2.1, 1.3.6.1.4.1.99999.1
authorityInfoAccess = OCSP;URI:http://ocsp.example.com/, caIssuers;URI:http://ca.example.com/ca.cer
crlDistributionPoints = URI:http://crl.example.com/ca.crl
subjectAltName = DNS:ca.example.com, email:pki@example.com, URI:urn:example:ca, RID:1.2.3.4, dirName:dir_sect
1.3.6.1.4.1.99999.7 = ASN1:UTF8String:private extension
[dir_sect]
CN = directory name
";
    fs::write(env.join("ext.cnf"), ext).unwrap();
    env.openssl(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        "odd.key",
        "-out",
        "odd.pem",
        "-days",
        "5",
        "-subj",
        "/C=US/O=Acme, Inc./CN=odd CA",
        "-config",
        "ext.cnf",
        "-extensions",
        "v3",
    ])
    .success();

    let cert = inspect_one(&env, "odd.pem");
    assert_eq!(text(&cert, "kind"), "certificate");
    assert_eq!(text(&cert, "subject"), "C=US, O=Acme\\, Inc., CN=odd CA");
    let sans = strings(&cert, "sans");
    assert!(sans.contains(&"DNS:ca.example.com".to_owned()), "{sans:?}");
    assert!(
        sans.contains(&"email:pki@example.com".to_owned()),
        "{sans:?}"
    );
    assert!(sans.contains(&"URI:urn:example:ca".to_owned()), "{sans:?}");
    assert!(
        sans.contains(&"DirName:CN=directory name".to_owned()),
        "{sans:?}"
    );
    assert_eq!(cert["basic_constraints"]["path_len"], 1);
    let run = env.certgen(&["inspect", "odd.pem", "odd.key"]).success();
    assert!(
        run.stdout().contains("odd.key: private key"),
        "{}",
        run.describe()
    );
    assert!(
        run.stdout().contains("matches        odd.pem"),
        "{}",
        run.describe()
    );
}

/// The README's field table of `inspect --json`, read as kind -> fields: a
/// row names its fields in backquotes and the kinds they appear in (or
/// "every object"). The `unreadable` row describes the document, not an
/// object, and is left out.
fn readme() -> String {
    fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap()
}

fn documented_fields() -> BTreeMap<String, BTreeSet<String>> {
    const KINDS: [&str; 6] = [
        "certificate",
        "certificate_request",
        "private_key",
        "encrypted_private_key",
        "serial_file",
        "unsupported",
    ];
    let readme = readme();
    let table = readme
        .split("| field | in | meaning |")
        .nth(1)
        .expect("the README has the inspect field table");
    let mut fields: BTreeMap<String, BTreeSet<String>> = KINDS
        .iter()
        .map(|k| (k.to_string(), BTreeSet::new()))
        .collect();
    for row in table.lines().skip(2).take_while(|l| l.starts_with('|')) {
        let cells: Vec<&str> = row.split(" | ").collect();
        let names: Vec<String> = cells[0]
            .split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_owned)
            .collect();
        if names == ["unreadable"] {
            continue;
        }
        let kinds: Vec<&str> = if cells[1] == "every object" {
            KINDS.to_vec()
        } else {
            cells[1].split(", ").collect()
        };
        for kind in kinds {
            let set = fields
                .get_mut(kind)
                .unwrap_or_else(|| panic!("unknown kind {kind:?} in README row {row}"));
            set.extend(names.iter().cloned());
        }
    }
    fields
}

fn keys_of(value: &Value) -> BTreeSet<String> {
    value.as_object().unwrap().keys().cloned().collect()
}

/// Every kind of object `inspect --json` reports carries exactly the
/// fields the README documents for it, and the README's example is a
/// certificate as inspect prints one.
#[test]
fn json_output_has_exactly_the_documented_fields() {
    let documented = documented_fields();
    let env = Env::new();
    env.certgen(&["all", "--key-type", "ecdsa-p256", "--out", "set", "-q"])
        .success();
    write_encrypted_key(&env, "set/locked.key");
    env.openssl(&[
        "pkey",
        "-in",
        "set/ca.key",
        "-pubout",
        "-out",
        "set/public.pem",
    ])
    .success();

    let run = env.certgen(&["inspect", "--json", "set"]).success();
    let doc: Value = serde_json::from_str(&run.stdout()).unwrap();
    let top: BTreeSet<String> = ["objects", "schema", "unreadable"].map(String::from).into();
    assert_eq!(keys_of(&doc), top);
    let mut seen = BTreeSet::new();
    for object in doc["objects"].as_array().unwrap() {
        let kind = text(object, "kind");
        assert_eq!(keys_of(object), documented[&kind], "{kind}: {object:#}");
        seen.insert(kind);
    }
    let every_kind: BTreeSet<String> = documented.keys().cloned().collect();
    assert_eq!(seen, every_kind, "the test set should hold every kind");

    let readme = readme();
    let example = readme
        .split("```json\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("the README has a JSON example");
    let example: Value = serde_json::from_str(example).expect("the README's example parses");
    assert_eq!(keys_of(&example), top);
    assert_eq!(keys_of(&example["objects"][0]), documented["certificate"]);
}
