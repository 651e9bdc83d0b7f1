//! `certgen config`: every snippet for a real set of files, parsed back as
//! YAML where it is YAML, and checked for the keys Milvus, the Helm chart and
//! milvus-operator read, at the nesting they read them.

use std::fs;
use std::path::{Path, PathBuf};

use serde_yaml::Value;

use crate::util::Env;

const TARGETS: [&str; 6] = ["milvus", "compose", "pymilvus", "curl", "helm", "operator"];

/// The names the test set's server certificate carries.
const SANS: [&str; 3] = ["milvus.local", "localhost", "127.0.0.1"];

/// A folder `cert` with the nine files, the server certificate carrying SANS.
fn issued() -> Env {
    let env = Env::new();
    env.certgen(&[
        "all",
        "-q",
        "--key-type",
        "ecdsa-p256",
        "--cn",
        "milvus.local",
        "--san",
        "milvus.local",
        "--san",
        "localhost",
        "--san",
        "127.0.0.1",
        "--out",
        "cert",
    ])
    .success();
    env
}

/// The folder as `certgen config` prints it: canonical.
fn cert_dir(env: &Env) -> PathBuf {
    fs::canonicalize(env.join("cert")).unwrap()
}

/// What `certgen config TARGET --dir cert --mode MODE [extra]` prints.
fn config(env: &Env, target: &str, mode: u8, extra: &[&str]) -> String {
    let mode = mode.to_string();
    let mut args = vec!["config", target, "--dir", "cert", "--mode", &mode];
    args.extend_from_slice(extra);
    env.certgen(&args).success().stdout()
}

fn yaml(text: &str) -> Value {
    serde_yaml::from_str(text).unwrap_or_else(|e| panic!("not YAML: {e}\n{text}"))
}

/// The value at a dotted path of mapping keys; Null when any step is missing.
fn at<'a>(value: &'a Value, path: &str) -> &'a Value {
    path.split('.')
        .fold(value, |v, key| v.get(key).unwrap_or(&Value::Null))
}

fn text<'a>(value: &'a Value, path: &str) -> &'a str {
    at(value, path)
        .as_str()
        .unwrap_or_else(|| panic!("{path} is not a string in {value:?}"))
}

fn file_in(dir: &Path, name: &str) -> String {
    dir.join(name).to_str().unwrap().to_owned()
}

/// The lines that are not comments.
fn code_lines(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|line| !line.trim_start().starts_with('#'))
        .collect()
}

#[test]
fn every_target_renders_in_both_modes() {
    let env = issued();
    for target in TARGETS {
        for mode in [1, 2] {
            let out = config(&env, target, mode, &[]);
            assert!(
                !out.trim().is_empty(),
                "{target} --mode {mode} printed nothing"
            );
        }
    }
}

#[test]
fn milvus_puts_tls_at_the_top_level_with_absolute_paths() {
    let env = issued();
    let dir = cert_dir(&env);
    for mode in [1, 2] {
        let doc = yaml(&config(&env, "milvus", mode, &[]));
        assert_eq!(text(&doc, "tls.serverPemPath"), file_in(&dir, "server.pem"));
        assert_eq!(text(&doc, "tls.serverKeyPath"), file_in(&dir, "server.key"));
        assert_eq!(text(&doc, "tls.caPemPath"), file_in(&dir, "ca.pem"));
        assert_eq!(
            at(&doc, "common.security.tlsMode").as_u64(),
            Some(mode.into())
        );
        assert!(at(&doc, "common.tls").is_null(), "tls under common");
        assert!(
            at(&doc, "common.security.tls").is_null(),
            "tls under security"
        );
        // REST cannot share the gRPC port once TLS is on.
        let rest = at(&doc, "proxy.http.port").as_u64().unwrap();
        assert_ne!(rest, 19530);
        assert!(at(&doc, "internaltls").is_null());
        assert!(at(&doc, "common.security.internaltlsEnabled").is_null());
    }
}

#[test]
fn milvus_internal_tls_names_a_san_of_the_server_certificate() {
    let env = issued();
    let dir = cert_dir(&env);
    let doc = yaml(&config(&env, "milvus", 2, &["--internal"]));
    assert_eq!(
        at(&doc, "common.security.internaltlsEnabled").as_bool(),
        Some(true)
    );
    assert_eq!(
        text(&doc, "internaltls.serverPemPath"),
        file_in(&dir, "server.pem")
    );
    assert_eq!(
        text(&doc, "internaltls.serverKeyPath"),
        file_in(&dir, "server.key")
    );
    assert_eq!(text(&doc, "internaltls.caPemPath"), file_in(&dir, "ca.pem"));
    let sni = text(&doc, "internaltls.sni");
    assert!(SANS.contains(&sni), "sni {sni:?} is not a SAN");
    assert_eq!(sni, "milvus.local", "the default is the first DNS name");

    for chosen in ["localhost", "127.0.0.1"] {
        let doc = yaml(&config(
            &env,
            "milvus",
            1,
            &["--internal", "--server-name", chosen],
        ));
        assert_eq!(text(&doc, "internaltls.sni"), chosen);
    }
}

#[test]
fn rejects_a_server_name_the_certificate_does_not_carry() {
    let env = issued();
    let tries: [&[&str]; 3] = [
        &["milvus", "--internal"],
        &["pymilvus"],
        &["curl", "--mode", "2"],
    ];
    for target in tries {
        let mut args = vec![
            "config",
            "--dir",
            "cert",
            "--server-name",
            "nothere.example",
        ];
        args.extend_from_slice(target);
        let run = env.certgen(&args).failure(2);
        let stderr = run.stderr();
        assert!(stderr.contains("\"nothere.example\""), "{stderr}");
        for san in ["DNS:milvus.local", "DNS:localhost", "IP:127.0.0.1"] {
            assert!(stderr.contains(san), "{san} missing from: {stderr}");
        }
        assert!(run.stdout().is_empty());
    }
}

#[test]
fn mount_replaces_the_folder_in_milvus_paths() {
    let env = issued();
    let doc = yaml(&config(
        &env,
        "milvus",
        2,
        &["--mount", "/milvus/tls", "--internal"],
    ));
    for key in [
        "tls.serverPemPath",
        "tls.serverKeyPath",
        "tls.caPemPath",
        "internaltls.serverPemPath",
        "internaltls.serverKeyPath",
        "internaltls.caPemPath",
    ] {
        let path = text(&doc, key);
        assert!(path.starts_with("/milvus/tls/"), "{key}: {path}");
    }
    assert_eq!(text(&doc, "tls.caPemPath"), "/milvus/tls/ca.pem");
}

#[test]
fn rejects_a_relative_mount() {
    let env = issued();
    let run = env
        .certgen(&["config", "milvus", "--dir", "cert", "--mount", "milvus/tls"])
        .failure(2);
    assert!(run.stderr().contains("--mount"), "{}", run.stderr());
}

#[test]
fn compose_mounts_the_folder_read_only_with_a_user_yaml() {
    let env = issued();
    let dir = cert_dir(&env);
    for (extra, mount) in [
        (&[][..], "/milvus/tls"),
        (&["--mount", "/certs"][..], "/certs"),
    ] {
        let doc = yaml(&config(&env, "compose", 1, extra));
        let volumes: Vec<&str> = at(&doc, "services.standalone.volumes")
            .as_sequence()
            .expect("a volumes list")
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let folder = format!("{}:{mount}:ro", dir.display());
        assert!(volumes.contains(&folder.as_str()), "{volumes:?}");
        assert!(
            volumes
                .iter()
                .any(|v| v.contains(":/milvus/configs/user.yaml")),
            "{volumes:?}"
        );
    }
}

#[test]
fn helm_values_mount_the_tls_secret_and_carry_a_user_yaml() {
    let env = issued();
    for mode in [1, 2] {
        let doc = yaml(&config(&env, "helm", mode, &["--name", "milvus"]));
        assert_eq!(at(&doc, "proxy.tls.enabled").as_bool(), Some(true));
        assert_eq!(text(&doc, "proxy.tls.secretName"), "milvus-tls");

        let volume = &at(&doc, "proxy.volumes")[0];
        assert_eq!(text(volume, "secret.secretName"), "milvus-tls");
        let mount = &at(&doc, "proxy.volumeMounts")[0];
        assert_eq!(text(mount, "name"), text(volume, "name"));
        assert_eq!(text(mount, "mountPath"), "/milvus/tls");

        let user = at(&doc, "extraConfigFiles")["user.yaml"].as_str().unwrap();
        let user = yaml(user);
        assert_eq!(text(&user, "tls.serverPemPath"), "/milvus/tls/tls.crt");
        assert_eq!(text(&user, "tls.serverKeyPath"), "/milvus/tls/tls.key");
        assert_eq!(text(&user, "tls.caPemPath"), "/milvus/tls/ca.crt");
        assert_eq!(
            at(&user, "common.security.tlsMode").as_u64(),
            Some(mode.into())
        );
        assert!(at(&user, "common.tls").is_null(), "tls under common");
        assert_ne!(at(&user, "proxy.http.port").as_u64(), Some(19530));
    }
}

#[test]
fn helm_values_tell_how_to_make_the_secret() {
    let env = issued();
    let out = config(&env, "helm", 2, &["--name", "milvus"]);
    assert!(
        out.contains("certgen export k8s") && out.contains("--layout tls --name milvus"),
        "{out}"
    );
}

#[test]
fn operator_puts_tls_at_the_top_of_spec_config() {
    let env = issued();
    for mode in [1, 2] {
        let doc = yaml(&config(&env, "operator", mode, &["--mount", "/certs"]));
        assert_eq!(text(&doc, "apiVersion"), "milvus.io/v1beta1");
        assert_eq!(text(&doc, "kind"), "Milvus");
        assert_eq!(
            text(&doc, "spec.config.tls.serverPemPath"),
            "/certs/server.pem"
        );
        assert_eq!(
            text(&doc, "spec.config.tls.serverKeyPath"),
            "/certs/server.key"
        );
        assert_eq!(text(&doc, "spec.config.tls.caPemPath"), "/certs/ca.pem");
        assert!(
            at(&doc, "spec.config.common.tls").is_null(),
            "tls under common"
        );
        assert_eq!(
            at(&doc, "spec.config.common.security.tlsMode").as_u64(),
            Some(mode.into())
        );
        let volume = &at(&doc, "spec.components.volumes")[0];
        assert_eq!(text(volume, "secret.secretName"), "milvus");
        let mount = &at(&doc, "spec.components.volumeMounts")[0];
        assert_eq!(text(mount, "name"), text(volume, "name"));
        assert_eq!(text(mount, "mountPath"), "/certs");
    }
}

/// The values of `key="..."` arguments in a Python call.
fn python_argument<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    code_lines(text).into_iter().find_map(|line| {
        let value = line.trim().strip_prefix(key)?.strip_prefix("=\"")?;
        value.strip_suffix("\",")
    })
}

#[test]
fn pymilvus_names_files_that_exist_and_a_san() {
    let env = issued();
    let dir = cert_dir(&env);
    for mode in [1, 2] {
        let out = config(&env, "pymilvus", mode, &[]);
        let paths: Vec<&str> = code_lines(&out)
            .into_iter()
            .flat_map(|line| line.split('"').skip(1).step_by(2))
            .filter(|s| s.starts_with('/'))
            .collect();
        assert!(!paths.is_empty(), "{out}");
        for path in &paths {
            assert!(Path::new(path).is_file(), "{path} does not exist");
        }
        let server_name = python_argument(&out, "server_name").expect("server_name");
        assert!(SANS.contains(&server_name), "{server_name}");
        assert_eq!(
            python_argument(&out, "uri"),
            Some("https://milvus.local:19530")
        );

        let ca = file_in(&dir, "ca.pem");
        if mode == 1 {
            // The CA is the root gRPC trusts, under pymilvus's name for it.
            assert_eq!(python_argument(&out, "server_pem_path"), Some(ca.as_str()));
            assert_eq!(python_argument(&out, "client_pem_path"), None);
        } else {
            assert_eq!(python_argument(&out, "ca_pem_path"), Some(ca.as_str()));
            let client = file_in(&dir, "client.pem");
            assert_eq!(
                python_argument(&out, "client_pem_path"),
                Some(client.as_str())
            );
            let key = file_in(&dir, "client.key");
            assert_eq!(python_argument(&out, "client_key_path"), Some(key.as_str()));
            // pymilvus would take it over the client pair.
            assert_eq!(python_argument(&out, "server_pem_path"), None);
        }
    }
}

#[test]
fn curl_names_files_that_exist_and_a_san() {
    let env = issued();
    for mode in [1, 2] {
        let out = config(&env, "curl", mode, &[]);
        let code = code_lines(&out);
        let words: Vec<&str> = code
            .iter()
            .flat_map(|line| line.split_whitespace())
            .collect();
        let paths: Vec<&str> = words
            .iter()
            .copied()
            .filter(|w| w.starts_with('/'))
            .collect();
        assert!(!paths.is_empty(), "{out}");
        for path in &paths {
            assert!(Path::new(path).is_file(), "{path} does not exist");
        }
        assert!(words.contains(&"--cacert"), "{out}");
        assert_eq!(words.contains(&"--cert"), mode == 2, "{out}");
        assert_eq!(words.contains(&"--key"), mode == 2, "{out}");

        let url = words
            .iter()
            .find(|w| w.starts_with("https://"))
            .expect("a URL");
        let host = url["https://".len()..].split(':').next().unwrap();
        assert!(SANS.contains(&host), "{host}");
        assert!(url.ends_with("/v2/vectordb/collections/list"), "{url}");
        // milvus.local may not resolve yet: a commented --resolve shows the way.
        assert!(out.contains("#   --resolve milvus.local:"), "{out}");
    }
}

#[test]
fn curl_to_an_address_needs_no_resolve_hint() {
    let env = issued();
    let out = config(&env, "curl", 1, &["--server-name", "127.0.0.1"]);
    assert!(out.contains("https://127.0.0.1:"), "{out}");
    assert!(!out.contains("--resolve"), "{out}");
}

#[test]
fn rejects_a_folder_without_server_pem() {
    let env = Env::new();
    fs::create_dir(env.join("cert")).unwrap();
    for target in TARGETS {
        let run = env.certgen(&["config", target, "--dir", "cert"]).failure(2);
        assert!(
            run.stderr().contains("server.pem not found"),
            "{}",
            run.stderr()
        );
        assert!(run.stdout().is_empty());
    }
}

#[test]
fn rejects_client_snippets_for_mutual_tls_without_client_pem() {
    let env = issued();
    fs::remove_file(env.join("cert/client.pem")).unwrap();
    for target in ["pymilvus", "curl"] {
        let run = env
            .certgen(&["config", target, "--dir", "cert", "--mode", "2"])
            .failure(2);
        assert!(
            run.stderr().contains("client.pem not found"),
            "{}",
            run.stderr()
        );
        // One-way TLS needs no client files.
        config(&env, target, 1, &[]);
    }
    // The server's side needs no client files either.
    config(&env, "milvus", 2, &[]);
}
