//! Bad input: each case must fail with its documented exit code, an error
//! that names the flag or file at fault, no panic, and no file changed.

use std::fs;

use crate::util::Env;

/// One bad invocation and what it must produce.
struct Case {
    /// What is wrong, for the failure message.
    what: &'static str,
    /// Prepares the folder; runs before the snapshot is taken.
    setup: fn(&Env),
    args: &'static [&'static str],
    code: i32,
    /// Must appear in the first line of stderr.
    message: &'static str,
}

fn nothing(_: &Env) {}

fn make_ca(env: &Env) {
    env.certgen(&["ca", "--key-type", "ecdsa-p256", "-q"])
        .success();
}

/// A CA whose key file holds the key of another CA.
fn mismatched_ca(env: &Env) {
    make_ca(env);
    env.certgen(&["ca", "--key-type", "ecdsa-p256", "--out", "other", "-q"])
        .success();
    fs::copy(env.join("other/ca.key"), env.join("ca.key")).unwrap();
    fs::remove_dir_all(env.join("other")).unwrap();
}

fn garbage_ca_cert(env: &Env) {
    make_ca(env);
    fs::write(env.join("ca.pem"), "this is not a certificate\n").unwrap();
}

fn truncated_ca_cert(env: &Env) {
    make_ca(env);
    let text = fs::read_to_string(env.join("ca.pem")).unwrap();
    fs::write(env.join("ca.pem"), &text[..text.len() / 2]).unwrap();
}

fn empty_ca_cert(env: &Env) {
    make_ca(env);
    fs::write(env.join("ca.pem"), "").unwrap();
}

fn leaf_as_ca(env: &Env) {
    env.certgen(&["all", "--key-type", "ecdsa-p256", "--out", "set", "-q"])
        .success();
    fs::copy(env.join("set/server.pem"), env.join("ca.pem")).unwrap();
    fs::copy(env.join("set/server.key"), env.join("ca.key")).unwrap();
    fs::remove_dir_all(env.join("set")).unwrap();
}

fn garbage_ca_key(env: &Env) {
    make_ca(env);
    fs::write(
        env.join("ca.key"),
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
}

fn corrupt_serial(env: &Env) {
    make_ca(env);
    fs::write(env.join("ca.srl"), "not hex\n").unwrap();
}

fn key_without_cert(env: &Env) {
    make_ca(env);
    fs::remove_file(env.join("ca.pem")).unwrap();
}

fn file_as_out(env: &Env) {
    fs::write(env.join("out"), "a plain file").unwrap();
}

fn folder_in_the_way(env: &Env) {
    make_ca(env);
    fs::create_dir(env.join("server.pem")).unwrap();
}

const CASES: &[Case] = &[
    Case {
        what: "country of three letters",
        setup: nothing,
        args: &["all", "--country", "CHN"],
        code: 2,
        message: "--country",
    },
    Case {
        what: "SAN with a space",
        setup: nothing,
        args: &["all", "--san", "my host"],
        code: 2,
        message: "--san",
    },
    Case {
        what: "SAN that is half an IP address",
        setup: nothing,
        args: &["server", "--san", "10.0.0"],
        code: 2,
        message: "--san",
    },
    Case {
        what: "zero days",
        setup: nothing,
        args: &["all", "--days", "0"],
        code: 2,
        message: "--days",
    },
    Case {
        what: "zero CA days",
        setup: nothing,
        args: &["all", "--ca-days", "0"],
        code: 2,
        message: "--ca-days",
    },
    Case {
        what: "unknown key type",
        setup: nothing,
        args: &["all", "--key-type", "dsa1024"],
        code: 2,
        message: "--key-type",
    },
    Case {
        what: "common name that is no host name, with no --san",
        setup: nothing,
        args: &["all", "--cn", "My Server"],
        code: 2,
        message: "give the names clients use with --san",
    },
    Case {
        what: "name that escapes the folder",
        setup: make_ca,
        args: &["server", "--name", "../server"],
        code: 2,
        message: "--name",
    },
    Case {
        what: "missing CA",
        setup: nothing,
        args: &["server"],
        code: 2,
        message: "run `certgen ca --out .` first",
    },
    Case {
        what: "CA key that belongs to another CA",
        setup: mismatched_ca,
        args: &["server"],
        code: 2,
        message: "does not belong to the CA certificate",
    },
    Case {
        what: "CA key that belongs to another CA, in all",
        setup: mismatched_ca,
        args: &["all"],
        code: 2,
        message: "./ca.pem and ./ca.key: the CA key does not belong",
    },
    Case {
        what: "garbage CA certificate",
        setup: garbage_ca_cert,
        args: &["client"],
        code: 2,
        message: "./ca.pem: neither a PEM nor a DER certificate",
    },
    Case {
        what: "truncated CA certificate",
        setup: truncated_ca_cert,
        args: &["client"],
        code: 2,
        message: "./ca.pem: the CERTIFICATE block has no END line",
    },
    Case {
        what: "empty CA certificate",
        setup: empty_ca_cert,
        args: &["client"],
        code: 2,
        message: "./ca.pem: the file is empty",
    },
    Case {
        what: "leaf certificate in place of the CA",
        setup: leaf_as_ca,
        args: &["server"],
        code: 2,
        message: "not a CA certificate",
    },
    Case {
        what: "garbage CA key",
        setup: garbage_ca_key,
        args: &["server"],
        code: 2,
        message: "./ca.key: the private key could not be read",
    },
    Case {
        what: "corrupt serial file",
        setup: corrupt_serial,
        args: &["server"],
        code: 2,
        message: "./ca.srl: the serial file must hold one hexadecimal number",
    },
    Case {
        what: "CA key without its certificate",
        setup: key_without_cert,
        args: &["all"],
        code: 2,
        message: "./ca.key exists but ./ca.pem does not",
    },
    Case {
        what: "output path that is a file",
        setup: file_as_out,
        args: &["all", "--key-type", "ecdsa-p256", "--out", "out"],
        code: 4,
        message: "out exists and is not a folder",
    },
    Case {
        what: "folder where a certificate goes, even with --force",
        setup: folder_in_the_way,
        args: &["server", "--force"],
        code: 2,
        message: "./server.pem is a folder",
    },
];

#[test]
fn each_bad_input_fails_cleanly_and_writes_nothing() {
    for case in CASES {
        let env = Env::new();
        (case.setup)(&env);
        let before = env.snapshot(".");
        let run = env.certgen(case.args);
        let first_line = run.stderr().lines().next().unwrap_or_default().to_owned();
        assert_eq!(
            run.code(),
            Some(case.code),
            "{}\n{}",
            case.what,
            run.describe()
        );
        assert!(
            first_line.starts_with("error:"),
            "{}\n{}",
            case.what,
            run.describe()
        );
        assert!(
            first_line.contains(case.message),
            "{}: expected {:?} in the first line\n{}",
            case.what,
            case.message,
            run.describe()
        );
        assert!(
            !run.stderr().contains("panicked"),
            "{}\n{}",
            case.what,
            run.describe()
        );
        assert_eq!(env.snapshot("."), before, "{}: files changed", case.what);
        assert!(run.stdout().is_empty(), "{}\n{}", case.what, run.describe());
    }
}

/// certgen's own errors (not clap's usage errors) fit on one line, so that
/// a log or a CI summary shows the whole of them.
#[test]
fn own_errors_are_one_line() {
    let env = Env::new();
    mismatched_ca(&env);
    let run = env.certgen(&["server"]).failure(2);
    assert_eq!(run.stderr().lines().count(), 1, "{}", run.describe());
}

#[test]
fn nothing_is_created_when_the_ca_is_missing() {
    let env = Env::new();
    env.certgen(&["client", "--out", "new"]).failure(2);
    assert!(
        !env.join("new").exists(),
        "the output folder was created for nothing"
    );
}
