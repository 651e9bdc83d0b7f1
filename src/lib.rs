//! certgen makes the files of one-way and mutual TLS: a private CA, server
//! and client certificates with the SANs that TLS clients check, and the
//! requests and serial file an openssl-based workflow expects.
//!
//! The binary is a thin wrapper around [`run::run`]; the modules below are
//! public so that tests and other programs can build certificates the same
//! way the command line does.

pub mod ca;
pub mod cli;
pub mod config;
pub mod constraints;
pub mod decode;
pub mod error;
pub mod export;
pub mod facts;
pub mod files;
pub mod handshake;
pub mod init;
pub mod inspect;
pub mod issue;
pub mod issuing;
pub mod keys;
pub mod parallel;
pub mod profile;
pub mod quote;
pub mod run;
pub mod san;
pub mod serial;
pub mod settings;
pub mod subject;
pub mod verify;
