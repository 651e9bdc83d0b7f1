//! Shell completions, the man page and Kubernetes service names: the parts
//! of certgen that meet the rest of a system.

use std::fs;
use std::process::Command;

use crate::util::Env;

#[test]
fn completions_generate_for_every_shell_and_bash_parses_them() {
    let env = Env::new();
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let run = env.certgen(&["completions", shell]).success();
        let script = run.stdout();
        for word in ["certgen", "verify", "inspect", "profile", "k8s-service"] {
            assert!(script.contains(word), "{shell} completions lack {word}");
        }
        if shell == "bash" {
            fs::write(env.join("certgen.bash"), &script).unwrap();
            let status = Command::new("bash")
                .args(["-n", "certgen.bash"])
                .current_dir(env.path())
                .status()
                .expect("bash");
            assert!(status.success(), "bash rejects the completion script");
        }
    }
    env.certgen(&["completions", "tcsh"]).failure(2);
}

#[test]
fn man_page_names_every_command_and_can_be_written_to_a_folder() {
    let env = Env::new();
    let page = env.certgen(&["man"]).success().stdout();
    assert!(
        page.starts_with(".ie") || page.contains(".TH certgen 1"),
        "{page}"
    );
    for command in [
        "init", "ca", "server", "client", "all", "leaf", "inspect", "verify", "config", "export",
    ] {
        assert!(
            page.contains(&format!("certgen\\-{command}")) || page.contains(command),
            "{command}"
        );
    }
    env.certgen(&["man", "--out", "man1"]).success();
    assert_eq!(
        fs::read_to_string(env.join("man1/certgen.1")).unwrap(),
        page
    );
}

#[test]
fn k8s_service_adds_four_names_that_verify_accepts() {
    let env = Env::new();
    let args = [
        "all",
        "-q",
        "--key-type",
        "ecdsa-p256",
        "--san",
        "localhost",
        "--k8s-service",
        "my-release-milvus",
        "--namespace",
        "milvus",
    ];
    env.certgen(&args).success();
    let sans = env
        .openssl(&[
            "x509",
            "-in",
            "server.pem",
            "-noout",
            "-ext",
            "subjectAltName",
        ])
        .success()
        .stdout();
    let names = [
        "my-release-milvus",
        "my-release-milvus.milvus",
        "my-release-milvus.milvus.svc",
        "my-release-milvus.milvus.svc.cluster.local",
    ];
    for name in names {
        assert!(
            sans.contains(&format!("DNS:{name},"))
                || sans.trim_end().ends_with(&format!("DNS:{name}")),
            "{sans}"
        );
        env.certgen(&["verify", "-q", "--host", name]).success();
    }
    assert!(
        sans.contains("DNS:localhost"),
        "--san and --k8s-service add up: {sans}"
    );
    env.certgen(&["all", "--k8s-service", "Bad_Name", "--out", "x"])
        .failure(2);
    assert!(!env.join("x").exists());
}

#[test]
fn all_points_at_certgen_config_unless_quiet() {
    let env = Env::new();
    let run = env
        .certgen(&["all", "--key-type", "ecdsa-p256", "--out", "cert"])
        .success();
    let stderr = run.stderr();
    let hint: Vec<&str> = stderr
        .lines()
        .skip_while(|l| !l.starts_with("next:"))
        .map(str::trim)
        .collect();
    assert_eq!(hint.len(), 3, "{}", run.describe());
    assert!(
        hint[0].contains("certgen config milvus --dir cert"),
        "{hint:?}"
    );
    let quiet = env
        .certgen(&["all", "-q", "--key-type", "ecdsa-p256", "--out", "other"])
        .success();
    assert_eq!(quiet.stderr(), "");
}
