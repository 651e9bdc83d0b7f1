//! A harness for running the certgen binary in a temporary folder, and for
//! asking the `openssl` command line about what it wrote.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A temporary working folder that is removed when the test ends.
pub struct Env {
    dir: tempfile::TempDir,
}

/// What one run of a command printed, with the command line for messages.
pub struct Run {
    pub command: String,
    pub output: Output,
}

impl Run {
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }

    pub fn code(&self) -> Option<i32> {
        self.output.status.code()
    }

    /// Everything a failed assertion should show.
    pub fn describe(&self) -> String {
        format!(
            "command: {}\nexit: {:?}\n--- stdout\n{}--- stderr\n{}",
            self.command,
            self.code(),
            self.stdout(),
            self.stderr()
        )
    }

    /// Panics unless the command exited 0.
    #[track_caller]
    pub fn success(self) -> Run {
        assert!(
            self.output.status.success(),
            "expected success\n{}",
            self.describe()
        );
        self
    }

    /// Panics unless the command exited with `code`.
    #[track_caller]
    pub fn failure(self, code: i32) -> Run {
        assert_eq!(
            self.code(),
            Some(code),
            "unexpected exit code\n{}",
            self.describe()
        );
        self
    }
}

impl Env {
    pub fn new() -> Env {
        Env {
            dir: tempfile::tempdir().expect("create a temporary folder"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn join(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Runs certgen with `args` in this folder.
    pub fn certgen(&self, args: &[&str]) -> Run {
        let mut command = Command::new(env!("CARGO_BIN_EXE_certgen"));
        command.args(args).current_dir(self.path());
        run(command, "certgen", args)
    }

    /// Runs the openssl command line with `args` in this folder.
    pub fn openssl(&self, args: &[&str]) -> Run {
        let mut command = Command::new("openssl");
        command.args(args).current_dir(self.path());
        run(command, "openssl", args)
    }

    /// The serial number of a certificate file as `openssl x509 -serial`
    /// prints it: upper-case hex.
    pub fn openssl_serial(&self, cert: &str) -> String {
        let run = self
            .openssl(&["x509", "-in", cert, "-noout", "-serial"])
            .success();
        run.stdout().trim().trim_start_matches("serial=").to_owned()
    }

    /// The names of the files in a folder below this one, sorted.
    pub fn listing(&self, sub: &str) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(self.join(sub))
            .map(|entries| {
                entries
                    .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }

    /// Every entry of the folder `sub` with its bytes (a folder as the
    /// marker `<folder>`), to prove a failed run changed nothing.
    pub fn snapshot(&self, sub: &str) -> Vec<(String, Vec<u8>)> {
        self.listing(sub)
            .into_iter()
            .map(|name| {
                let path = self.join(sub).join(&name);
                let bytes = if path.is_dir() {
                    b"<folder>".to_vec()
                } else {
                    fs::read(&path).unwrap()
                };
                (name, bytes)
            })
            .collect()
    }
}

fn run(mut command: Command, name: &str, args: &[&str]) -> Run {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("failed to start {name}: {e}"));
    Run {
        command: format!("{name} {}", args.join(" ")),
        output,
    }
}

/// The nine files of the Milvus recipe, sorted.
pub const NINE_FILES: [&str; 9] = [
    "ca.key",
    "ca.pem",
    "ca.srl",
    "client.csr",
    "client.key",
    "client.pem",
    "server.csr",
    "server.key",
    "server.pem",
];

/// Every key type certgen offers, by its command-line name.
pub const KEY_TYPES: [&str; 6] = [
    "rsa2048",
    "rsa3072",
    "rsa4096",
    "ecdsa-p256",
    "ecdsa-p384",
    "ed25519",
];

/// One more than an upper-case hex number of any length: the serial openssl
/// and certgen issue after the one in a serial file.
pub fn hex_plus_one(hex: &str) -> String {
    let mut digits: Vec<u32> = hex.chars().map(|c| c.to_digit(16).unwrap()).collect();
    for digit in digits.iter_mut().rev() {
        *digit = (*digit + 1) % 16;
        if *digit != 0 {
            return digits
                .iter()
                .map(|d| char::from_digit(*d, 16).unwrap().to_ascii_uppercase())
                .collect();
        }
    }
    format!("1{}", "0".repeat(hex.len()))
}
