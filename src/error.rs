//! How a failed run is reported: one line on stderr and an exit code that
//! tells a script what kind of failure it was.

use std::fmt;

/// What went wrong, grouped by what the user has to do about it.
///
/// Each kind has its own exit code, so that provisioning scripts can branch
/// on the code instead of parsing the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Kind {
    /// A flag value or an input file (CA certificate, CA key, serial file) is
    /// unusable. Exit code 2, the same code clap uses for usage errors.
    Input,
    /// A file certgen would write already exists and `--force` was not given.
    /// Exit code 3.
    Exists,
    /// Writing the output failed: a read-only folder, a full disk. Exit code 4.
    Write,
    /// Something that should not fail did: key generation, the system random
    /// number generator, encoding a certificate. Exit code 5.
    Internal,
}

impl Kind {
    /// The process exit code for this kind of failure.
    pub fn exit_code(self) -> u8 {
        match self {
            Kind::Input => 2,
            Kind::Exists => 3,
            Kind::Write => 4,
            Kind::Internal => 5,
        }
    }
}

/// An error together with the kind that decides the exit code.
#[derive(Debug)]
pub struct Failure {
    /// Decides the exit code.
    pub kind: Kind,
    /// The message chain, printed on one line with `{:#}`.
    pub error: anyhow::Error,
}

impl Failure {
    /// Wraps `error` as a failure of `kind`.
    pub fn new(kind: Kind, error: impl Into<anyhow::Error>) -> Failure {
        Failure {
            kind,
            error: error.into(),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#}", self.error)
    }
}

/// Attaches a [`Kind`] to any error on its way out of a step of a command.
pub trait ResultExt<T> {
    /// Marks the error, if any, as a failure of `kind`.
    fn or_fail(self, kind: Kind) -> Result<T, Failure>;
}

impl<T, E: Into<anyhow::Error>> ResultExt<T> for Result<T, E> {
    fn or_fail(self, kind: Kind) -> Result<T, Failure> {
        self.map_err(|error| Failure::new(kind, error))
    }
}
