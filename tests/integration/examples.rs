//! The scripts and files in examples/ do what their comments say: the
//! Makefile makes only what is missing and re-issues on a profile change,
//! ci.sh is idempotent, the Compose files match `certgen config`, and the
//! Kubernetes script writes manifests that parse.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;

use crate::util::{Env, Run};

fn example(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(path)
}

fn certgen_bin() -> &'static str {
    env!("CARGO_BIN_EXE_certgen")
}

/// Runs `program` in the folder with CERTGEN pointing at the built binary.
fn run(env: &Env, program: &str, args: &[&str]) -> Run {
    let output = Command::new(program)
        .args(args)
        .current_dir(env.path())
        .env("CERTGEN", certgen_bin())
        .output()
        .unwrap_or_else(|e| panic!("failed to start {program}: {e}"));
    Run {
        command: format!("{program} {}", args.join(" ")),
        output,
    }
}

fn yaml(text: &str) -> serde_yaml::Value {
    serde_yaml::from_str(text).unwrap_or_else(|e| panic!("not YAML ({e}):\n{text}"))
}

fn at<'a>(value: &'a serde_yaml::Value, path: &str) -> &'a serde_yaml::Value {
    path.split('.').fold(value, |v, key| &v[key])
}

/// Sets a file's modification time `seconds` into the future, so that make
/// sees it as newer than what was built from it a moment ago.
fn touch_later(path: &Path, seconds: u64) {
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(seconds);
    fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(later)
        .unwrap();
}

#[test]
fn makefile_makes_what_is_missing_and_reissues_leaves_when_the_profile_changes() {
    let env = Env::new();
    env.certgen(&["init", "--template", "minimal", "-q"])
        .success();
    fs::write(
        env.join("certgen.toml"),
        "key_type = \"ecdsa-p256\"\n\n[server]\ncn = \"localhost\"\n",
    )
    .unwrap();
    let makefile = example("Makefile");
    let certgen = format!("CERTGEN={}", certgen_bin());
    let make = |target: &[&str]| {
        let mut args = vec!["-f", makefile.to_str().unwrap(), certgen.as_str()];
        args.extend(target);
        run(&env, "make", &args).success()
    };

    make(&[]);
    assert_eq!(
        env.listing("cert"),
        [
            "ca.key",
            "ca.pem",
            "ca.srl",
            "client.csr",
            "client.key",
            "client.pem",
            "server.csr",
            "server.key",
            "server.pem"
        ]
    );
    let first = env.snapshot("cert");
    let again = make(&[]);
    assert!(
        again.stdout().contains("Nothing to be done"),
        "{}",
        again.describe()
    );
    assert_eq!(env.snapshot("cert"), first, "a second make changed files");

    touch_later(&env.join("certgen.toml"), 5);
    make(&[]);
    let after = env.snapshot("cert");
    let changed: Vec<&str> = first
        .iter()
        .zip(&after)
        .filter(|(a, b)| a != b)
        .map(|(a, _)| a.0.as_str())
        .collect();
    assert_eq!(
        changed,
        [
            "ca.srl",
            "client.csr",
            "client.key",
            "client.pem",
            "server.csr",
            "server.key",
            "server.pem"
        ],
        "the CA must survive a profile change"
    );
    make(&["check"]);

    // A server certificate that expires within 30 days fails the check.
    env.certgen(&[
        "server",
        "--force",
        "--days",
        "10",
        "--out",
        "cert",
        "--key-type",
        "ecdsa-p256",
        "-q",
    ])
    .success();
    let args = ["-f", makefile.to_str().unwrap(), certgen.as_str(), "check"];
    let failed = run(&env, "make", &args).failure(2);
    assert!(
        failed.stdout().contains("expires") || failed.stderr().contains("expires"),
        "{}",
        failed.describe()
    );
}

#[test]
fn ci_script_is_idempotent_and_repairs_a_missing_leaf_from_the_same_ca() {
    let env = Env::new();
    let script = example("ci.sh");
    let script = script.to_str().unwrap();
    let made = run(&env, "sh", &[script, "cert"]).success();
    assert!(
        made.stdout().contains("issued TLS files in cert"),
        "{}",
        made.describe()
    );
    let first = env.snapshot("cert");
    assert_eq!(first.len(), 9);

    let again = run(&env, "sh", &[script, "cert"]).success();
    assert!(again.stdout().contains("are good"), "{}", again.describe());
    assert_eq!(env.snapshot("cert"), first, "a second run changed files");

    fs::remove_file(env.join("cert/client.pem")).unwrap();
    run(&env, "sh", &[script, "cert"]).success();
    let ca_before = first.iter().find(|(n, _)| n == "ca.key").unwrap();
    let ca_after = fs::read(env.join("cert/ca.key")).unwrap();
    assert_eq!(ca_after, ca_before.1, "the CA key was replaced");
    env.certgen(&["verify", "cert", "-q"]).success();
}

#[test]
fn compose_example_mounts_the_files_and_its_user_yaml_matches_certgen_config() {
    let compose =
        yaml(&fs::read_to_string(example("milvus-standalone/docker-compose.yml")).unwrap());
    let volumes: Vec<&str> = at(&compose, "services.standalone.volumes")
        .as_sequence()
        .expect("volumes")
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    assert!(volumes.contains(&"./cert:/milvus/tls:ro"), "{volumes:?}");
    assert!(
        volumes.contains(&"./user.yaml:/milvus/configs/user.yaml:ro"),
        "{volumes:?}"
    );

    let env = Env::new();
    env.certgen(&["all", "-q", "--key-type", "ecdsa-p256", "--out", "cert"])
        .success();
    for mode in ["1", "2"] {
        let file = example(&format!("milvus-standalone/user-tls{mode}.yaml"));
        let committed = yaml(&fs::read_to_string(&file).unwrap());
        let args = [
            "config",
            "milvus",
            "--dir",
            "cert",
            "--mount",
            "/milvus/tls",
            "--mode",
            mode,
        ];
        let printed = yaml(&env.certgen(&args).success().stdout());
        assert_eq!(
            committed,
            printed,
            "{} differs from certgen config",
            file.display()
        );
    }
}

#[test]
fn kubernetes_script_writes_manifests_for_the_release_service() {
    let env = Env::new();
    // The script writes beside itself; run a copy so the source tree stays clean.
    let script = env.join("make-manifests.sh");
    fs::copy(example("kubernetes/make-manifests.sh"), &script).unwrap();
    let run = Command::new("sh")
        .arg(&script)
        .current_dir(env.path())
        .env("CERTGEN", certgen_bin())
        .env("RELEASE", "vectors")
        .env("NAMESPACE", "db")
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );

    let secrets = fs::read_to_string(env.join("out/secrets.yaml")).unwrap();
    let kinds: Vec<String> = serde_yaml::Deserializer::from_str(&secrets)
        .map(|doc| {
            let value = serde_yaml::Value::deserialize(doc).expect("a YAML document");
            format!(
                "{}/{}",
                at(&value, "kind").as_str().unwrap(),
                at(&value, "metadata.name").as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "Secret/milvus",
            "Secret/milvus-tls",
            "Secret/milvus-client",
            "Secret/milvus-ca",
            "Issuer/milvus-ca"
        ]
    );
    for name in ["values.yaml", "milvus.yaml"] {
        yaml(&fs::read_to_string(env.join("out").join(name)).unwrap());
    }
    for host in ["vectors-milvus", "vectors-milvus.db.svc.cluster.local"] {
        env.certgen(&["verify", "out/cert", "-q", "--host", host])
            .success();
    }
}
