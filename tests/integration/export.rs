//! `certgen export k8s`: the manifests parse as YAML, every Secret value decodes to exactly the
//! bytes of its file, each layout writes the Secrets and keys its readers expect, and bad input
//! (a key of another pair, a name Kubernetes would refuse, an existing --out) fails with its
//! exit code before anything is written.
//!
//! Every set is made here by `certgen all`; the YAML is read back with serde_yaml, so the tests
//! check what a YAML parser sees, not how the text is laid out.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use serde::Deserialize;
use serde_yaml::Value;

use crate::util::{Env, Run};

/// A folder `cert` holding the nine files of the recipe, ECDSA for speed.
fn env_with_set() -> Env {
    let env = Env::new();
    env.certgen(&["all", "-q", "--key-type", "ecdsa-p256", "--out", "cert"])
        .success();
    env
}

/// Runs `certgen export k8s --dir cert ARGS`, which must succeed.
fn export(env: &Env, args: &[&str]) -> Run {
    let mut all = vec!["export", "k8s", "--dir", "cert"];
    all.extend_from_slice(args);
    env.certgen(&all).success()
}

/// Every YAML document of `text`.
fn parse(text: &str) -> Vec<Value> {
    serde_yaml::Deserializer::from_str(text)
        .map(|doc| Value::deserialize(doc).expect("every document parses"))
        .collect()
}

fn manifests(env: &Env, args: &[&str]) -> Vec<Value> {
    parse(&export(env, args).stdout())
}

fn str_at<'a>(value: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter()
        .try_fold(value, |v, key| v.get(*key))
        .and_then(Value::as_str)
}

/// "Kind/name" of each document, in order.
fn objects(docs: &[Value]) -> Vec<String> {
    docs.iter()
        .map(|d| {
            let kind = str_at(d, &["kind"]).unwrap_or("?");
            format!("{kind}/{}", str_at(d, &["metadata", "name"]).unwrap_or("?"))
        })
        .collect()
}

/// The document of `kind` named `name`.
fn find<'a>(docs: &'a [Value], kind: &str, name: &str) -> &'a Value {
    docs.iter()
        .find(|d| {
            str_at(d, &["kind"]) == Some(kind) && str_at(d, &["metadata", "name"]) == Some(name)
        })
        .unwrap_or_else(|| panic!("no {kind} {name} among {:?}", objects(docs)))
}

/// A Secret's data, base64-decoded.
fn data(secret: &Value) -> BTreeMap<String, Vec<u8>> {
    secret["data"]
        .as_mapping()
        .expect("data is a mapping")
        .iter()
        .map(|(key, value)| {
            let key = key.as_str().expect("data keys are strings").to_owned();
            let text = value.as_str().expect("data values are strings");
            (key, BASE64.decode(text).expect("data values are base64"))
        })
        .collect()
}

/// Asserts the Secret `name` has `type` and exactly `files` as data: key and file name.
#[track_caller]
fn assert_secret(env: &Env, docs: &[Value], name: &str, kind: &str, files: &[(&str, &str)]) {
    let secret = find(docs, "Secret", name);
    assert_eq!(str_at(secret, &["apiVersion"]), Some("v1"));
    assert_eq!(str_at(secret, &["type"]), Some(kind), "type of {name}");
    let expected: BTreeMap<String, Vec<u8>> = files
        .iter()
        .map(|(key, file)| {
            let bytes = fs::read(env.join("cert").join(file)).unwrap();
            (key.to_string(), bytes)
        })
        .collect();
    let actual = data(secret);
    assert_eq!(
        actual.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>(),
        "keys of {name}"
    );
    for (key, bytes) in &expected {
        assert!(
            actual[key] == *bytes,
            "{name} {key} is not the file's bytes"
        );
    }
}

/// The YAML comments of `text` as one line of prose, however they were wrapped.
fn comments(text: &str) -> String {
    let lines: Vec<&str> = text
        .lines()
        .filter_map(|line| line.strip_prefix("# "))
        .collect();
    lines.join(" ")
}

/// The one line of an error, which must also be the only line on stderr.
#[track_caller]
fn one_line_error(run: &Run) -> String {
    let stderr = run.stderr();
    assert_eq!(stderr.lines().count(), 1, "{}", run.describe());
    assert!(stderr.starts_with("error: "), "{}", run.describe());
    assert!(run.stdout().is_empty(), "{}", run.describe());
    stderr.trim_end().to_owned()
}

const OPERATOR: [(&str, &str); 3] = [
    ("ca.pem", "ca.pem"),
    ("server.key", "server.key"),
    ("server.pem", "server.pem"),
];

const TLS: [(&str, &str); 3] = [
    ("ca.crt", "ca.pem"),
    ("tls.crt", "server.pem"),
    ("tls.key", "server.key"),
];

const CLIENT: [(&str, &str); 3] = [
    ("ca.crt", "ca.pem"),
    ("tls.crt", "client.pem"),
    ("tls.key", "client.key"),
];

#[test]
fn secrets_hold_exactly_the_bytes_of_the_files_in_both_layouts() {
    let env = env_with_set();
    let docs = manifests(&env, &[]);
    assert_eq!(
        objects(&docs),
        ["Secret/milvus", "Secret/milvus-tls", "Secret/milvus-client"]
    );
    assert_secret(&env, &docs, "milvus", "Opaque", &OPERATOR);
    assert_secret(&env, &docs, "milvus-tls", "kubernetes.io/tls", &TLS);
    assert_secret(&env, &docs, "milvus-client", "kubernetes.io/tls", &CLIENT);
}

#[test]
fn each_layout_writes_only_its_own_server_secret() {
    let env = env_with_set();
    let cases = [
        ("operator", vec!["Secret/db", "Secret/db-client"]),
        ("tls", vec!["Secret/db-tls", "Secret/db-client"]),
        (
            "both",
            vec!["Secret/db", "Secret/db-tls", "Secret/db-client"],
        ),
    ];
    for (layout, expected) in cases {
        let docs = manifests(&env, &["--layout", layout, "--name", "db"]);
        assert_eq!(objects(&docs), expected, "--layout {layout}");
        if layout != "tls" {
            assert_secret(&env, &docs, "db", "Opaque", &OPERATOR);
        }
        if layout != "operator" {
            assert_secret(&env, &docs, "db-tls", "kubernetes.io/tls", &TLS);
        }
        assert_secret(&env, &docs, "db-client", "kubernetes.io/tls", &CLIENT);
    }
}

#[test]
fn every_object_has_the_namespace_and_the_managed_by_label() {
    let env = env_with_set();
    let docs = manifests(&env, &["--namespace", "vectors", "--cert-manager"]);
    assert_eq!(docs.len(), 5, "{:?}", objects(&docs));
    for doc in &docs {
        let what = objects(std::slice::from_ref(doc));
        assert_eq!(
            str_at(doc, &["metadata", "namespace"]),
            Some("vectors"),
            "{what:?}"
        );
        let labels = &doc["metadata"]["labels"];
        assert_eq!(
            str_at(labels, &["app.kubernetes.io/managed-by"]),
            Some("certgen"),
            "{what:?}"
        );
    }
}

#[test]
fn cert_manager_adds_the_ca_secret_and_an_issuer_that_signs_with_it() {
    let env = env_with_set();
    let docs = manifests(&env, &["--cert-manager", "--layout", "tls"]);
    assert_eq!(
        objects(&docs),
        [
            "Secret/milvus-tls",
            "Secret/milvus-client",
            "Secret/milvus-ca",
            "Issuer/milvus-ca"
        ]
    );
    let ca_files = [("tls.crt", "ca.pem"), ("tls.key", "ca.key")];
    assert_secret(&env, &docs, "milvus-ca", "kubernetes.io/tls", &ca_files);
    let issuer = find(&docs, "Issuer", "milvus-ca");
    assert_eq!(str_at(issuer, &["apiVersion"]), Some("cert-manager.io/v1"));
    assert_eq!(
        str_at(issuer, &["spec", "ca", "secretName"]),
        Some("milvus-ca")
    );
    assert_eq!(str_at(issuer, &["metadata", "namespace"]), Some("default"));
}

#[test]
fn cluster_issuer_reads_its_ca_secret_from_cert_managers_namespace() {
    let env = env_with_set();
    let run = export(
        &env,
        &[
            "--cert-manager",
            "--cluster-issuer",
            "--namespace",
            "vectors",
        ],
    );
    let docs = parse(&run.stdout());
    let secret = find(&docs, "Secret", "milvus-ca");
    assert_eq!(
        str_at(secret, &["metadata", "namespace"]),
        Some("cert-manager")
    );
    let issuer = find(&docs, "ClusterIssuer", "milvus-ca");
    assert_eq!(str_at(issuer, &["apiVersion"]), Some("cert-manager.io/v1"));
    assert_eq!(
        str_at(issuer, &["spec", "ca", "secretName"]),
        Some("milvus-ca")
    );
    // Cluster-scoped: a namespace there would be dropped by the API server
    // and show as a difference to GitOps tools.
    assert!(issuer["metadata"].get("namespace").is_none());
    for name in ["milvus", "milvus-tls", "milvus-client"] {
        let leaf = find(&docs, "Secret", name);
        assert_eq!(str_at(leaf, &["metadata", "namespace"]), Some("vectors"));
    }
    let notes = comments(&run.stdout());
    assert!(
        notes.contains("cluster resource namespace"),
        "the YAML does not say why the CA Secret is in cert-manager: {notes}"
    );
}

#[test]
fn cert_manager_without_the_ca_key_is_refused() {
    let env = env_with_set();
    fs::remove_file(env.join("cert/ca.key")).unwrap();
    let run = env
        .certgen(&["export", "k8s", "--dir", "cert", "--cert-manager"])
        .failure(2);
    let line = one_line_error(&run);
    assert!(
        line.contains("--cert-manager") && line.contains("ca.key"),
        "{line}"
    );
}

#[test]
fn leaves_out_the_client_secret_and_says_so_when_the_client_pair_is_missing() {
    let env = env_with_set();
    fs::remove_file(env.join("cert/client.key")).unwrap();
    let run = export(&env, &[]);
    assert_eq!(
        objects(&parse(&run.stdout())),
        ["Secret/milvus", "Secret/milvus-tls"]
    );
    assert!(
        run.stderr().contains("no milvus-client Secret") && run.stderr().contains("client.key"),
        "{}",
        run.describe()
    );
    let quiet = export(&env, &["-q"]);
    assert_eq!(quiet.stderr(), "", "{}", quiet.describe());
}

#[test]
fn out_writes_an_owner_only_file_and_never_replaces_it() {
    let env = env_with_set();
    export(&env, &["--out", "k8s/milvus.yaml", "-q"]);
    let path = env.join("k8s/milvus.yaml");
    let written = fs::read_to_string(&path).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    assert!(
        written.contains("kubectl apply -f k8s/milvus.yaml"),
        "{written}"
    );
    assert_eq!(parse(&written), manifests(&env, &[]));

    let again = env
        .certgen(&["export", "k8s", "--dir", "cert", "--out", "k8s/milvus.yaml"])
        .failure(3);
    let line = one_line_error(&again);
    assert!(line.contains("k8s/milvus.yaml"), "{line}");
    assert_eq!(fs::read_to_string(&path).unwrap(), written);
}

#[test]
fn rejects_a_key_that_belongs_to_another_certificate() {
    for (copied, over, culprit) in [
        ("client.key", "server.key", "server.pem"),
        ("server.key", "client.key", "client.pem"),
    ] {
        let env = env_with_set();
        fs::copy(env.join("cert").join(copied), env.join("cert").join(over)).unwrap();
        let before = env.snapshot("cert");
        let run = env
            .certgen(&["export", "k8s", "--dir", "cert", "--out", "k8s.yaml"])
            .failure(2);
        let line = one_line_error(&run);
        assert!(
            line.contains(&format!("cert/{over} does not belong to cert/{culprit}")),
            "{line}"
        );
        assert!(!env.join("k8s.yaml").exists());
        assert_eq!(env.snapshot("cert"), before);
    }
}

#[test]
fn rejects_names_kubernetes_would_refuse() {
    let env = env_with_set();
    let long_name = "n".repeat(247);
    let long_namespace = "s".repeat(64);
    let cases: [(&str, &str, &str); 6] = [
        ("--name", "Milvus", "not a Kubernetes name"),
        ("--name", "milvus_tls", "not a Kubernetes name"),
        ("--name", "-milvus", "not a Kubernetes name"),
        ("--name", &long_name, "NAME-client"),
        ("--namespace", "Prod", "not a Kubernetes name"),
        ("--namespace", &long_namespace, "at most 63"),
    ];
    for (flag, value, message) in cases {
        // FLAG=VALUE, so that clap takes "-milvus" as a value.
        let pair = format!("{flag}={value}");
        let args = ["export", "k8s", "--dir", "cert", &pair, "--out", "k8s.yaml"];
        let run = env.certgen(&args).failure(2);
        let line = one_line_error(&run);
        assert!(line.contains(flag) && line.contains(message), "{line}");
        assert!(!env.join("k8s.yaml").exists());
    }
}

#[test]
fn accepts_names_at_the_kubernetes_limits() {
    let env = env_with_set();
    let name = "n".repeat(246);
    let namespace = "s".repeat(63);
    let docs = manifests(&env, &["--name", &name, "--namespace", &namespace]);
    let client = format!("{name}-client");
    assert_eq!(client.len(), 253);
    let secret = find(&docs, "Secret", &client);
    assert_eq!(
        str_at(secret, &["metadata", "namespace"]),
        Some(namespace.as_str())
    );
}

#[test]
fn names_that_yaml_would_read_as_numbers_or_booleans_stay_strings() {
    let env = env_with_set();
    let text = export(
        &env,
        &["--name", "no", "--namespace", "1e3", "--cert-manager"],
    )
    .stdout();
    // kubectl reads YAML 1.1, where a plain `no` is false; serde_yaml reads
    // 1.2, where it is a string. So that one is checked in the text.
    assert!(text.contains("  name: \"no\"\n"), "{text}");
    let docs = parse(&text);
    let names: BTreeSet<&str> = docs
        .iter()
        .map(|d| str_at(d, &["metadata", "name"]).expect("names are strings"))
        .collect();
    assert_eq!(
        names,
        BTreeSet::from(["no", "no-tls", "no-client", "no-ca"])
    );
    for doc in &docs {
        assert_eq!(str_at(doc, &["metadata", "namespace"]), Some("1e3"));
    }
}

#[test]
fn rejects_der_files_that_pods_could_not_read() {
    let env = env_with_set();
    let pem_text = fs::read(env.join("cert/server.pem")).unwrap();
    let der = pem::parse(pem_text).unwrap().into_contents();
    fs::write(env.join("cert/server.pem"), der).unwrap();
    let run = env.certgen(&["export", "k8s", "--dir", "cert"]).failure(2);
    let line = one_line_error(&run);
    assert!(
        line.contains("server.pem") && line.contains("DER"),
        "{line}"
    );
}

#[test]
fn refuses_a_folder_without_the_server_files() {
    let env = Env::new();
    env.certgen(&["ca", "-q", "--key-type", "ecdsa-p256", "--out", "cert"])
        .success();
    let run = env.certgen(&["export", "k8s", "--dir", "cert"]).failure(2);
    let line = one_line_error(&run);
    assert!(line.contains("server.pem, server.key"), "{line}");
}

#[test]
fn output_is_the_same_on_every_run() {
    let env = env_with_set();
    let args = ["--cert-manager", "--namespace", "vectors"];
    let first = export(&env, &args).stdout();
    let second = export(&env, &args).stdout();
    assert_eq!(first, second);
}

#[test]
fn header_names_the_folder_and_how_to_apply() {
    let env = env_with_set();
    let text = export(&env, &[]).stdout();
    let header = comments(text.split("\n\n").next().unwrap());
    let folder = fs::canonicalize(env.join("cert")).unwrap();
    assert!(header.contains(&folder.display().to_string()), "{header}");
    assert!(header.contains("kubectl apply -f"), "{header}");
}

/// Secrets printed to a terminal get a warning on stderr, even with
/// --quiet; printed into a pipe, where they go to a file or to kubectl,
/// they do not. The terminal is a pseudo-terminal made by `script`.
#[test]
fn warns_when_private_keys_go_to_a_terminal_and_only_then() {
    let env = env_with_set();
    let warning = "warning: private keys were printed to this terminal";
    let command = format!(
        "'{}' export k8s --dir cert --quiet",
        env!("CARGO_BIN_EXE_certgen")
    );
    let mut script = std::process::Command::new("script");
    script
        .args(["-qec", &command, "/dev/null"])
        .current_dir(env.path());
    let on_terminal = Run {
        command: format!("script -qec {command} /dev/null"),
        output: script.output().expect("run script"),
    }
    .success();
    assert!(
        on_terminal.stdout().contains(warning),
        "{}",
        on_terminal.describe()
    );
    assert!(on_terminal.stdout().contains("kind: Secret"));

    let piped = export(&env, &["--quiet"]);
    assert!(!piped.stderr().contains("warning"), "{}", piped.describe());
    assert!(piped.stdout().contains("kind: Secret"));
}
