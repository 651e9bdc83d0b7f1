//! One certgen command line from start to end: dispatch to the command,
//! print what was asked for on stdout, and say how the run ended.

use std::path::PathBuf;

use anyhow::Context;
use time::OffsetDateTime;

use clap::CommandFactory;

use crate::cli::{Cli, Command, ManArgs, VerifyArgs};
use crate::config;
use crate::error::{Failure, Kind, ResultExt};
use crate::export;
use crate::files;
use crate::init;
use crate::inspect;
use crate::issue::Role;
use crate::issuing;
use crate::verify;

/// How a run that did not fail ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Everything asked for was done, or every check passed. Exit code 0.
    Success,
    /// `verify` found at least one problem. Exit code 1.
    Findings,
}

impl Outcome {
    /// The process exit code.
    pub fn exit_code(self) -> u8 {
        match self {
            Outcome::Success => 0,
            Outcome::Findings => 1,
        }
    }
}

/// Runs one certgen command line.
pub fn run(cli: Cli) -> Result<Outcome, Failure> {
    let report = issuing::Report { quiet: cli.quiet };
    // One clock reading for the whole run, at whole seconds as X.509 keeps
    // time, so a CA and the leaves made with it share their end exactly.
    let now = OffsetDateTime::now_utc();
    let now = now.replace_nanosecond(0).unwrap_or(now);
    let written = match cli.command {
        Command::Init(args) => {
            init::run(&args, &report)?;
            return Ok(Outcome::Success);
        }
        Command::Ca(args) => issuing::ca(&args, now, &report)?,
        Command::Server(args) => issuing::server_or_client(&args, Role::Server, now, &report)?,
        Command::Client(args) => issuing::server_or_client(&args, Role::Client, now, &report)?,
        Command::All(args) => issuing::all(&args, now, &report)?,
        Command::Leaf(args) => issuing::named_leaf(&args, now, &report)?,
        Command::Inspect(args) => {
            print_facts(&args.paths, cli.json, now)?;
            return Ok(Outcome::Success);
        }
        Command::Verify(args) => return run_verify(&args, cli.json, cli.quiet, now),
        Command::Config(args) => {
            let text = config::render(&args).or_fail(Kind::Input)?;
            print_text(&text)?;
            return Ok(Outcome::Success);
        }
        Command::Export(args) => {
            export::run(&args, &report)?;
            return Ok(Outcome::Success);
        }
        Command::Completions(args) => {
            let mut command = Cli::command();
            let mut stdout = std::io::stdout().lock();
            clap_complete::generate(args.shell, &mut command, "certgen", &mut stdout);
            return Ok(Outcome::Success);
        }
        Command::Man(args) => {
            write_man_page(&args)?;
            return Ok(Outcome::Success);
        }
    };
    if cli.json {
        // What was written, in the schema of `inspect --json`, so that a
        // script learns paths, serials and fingerprints without parsing text.
        print_facts(&written, true, now)?;
    }
    Ok(Outcome::Success)
}

fn run_verify(
    args: &VerifyArgs,
    json: bool,
    quiet: bool,
    now: OffsetDateTime,
) -> Result<Outcome, Failure> {
    let options = verify::Options {
        hosts: args.host.clone(),
        expires_within: args.expires_within,
        handshake: args.handshake || args.mutual,
        mutual: args.mutual,
        published: verify::published_certs(),
    };
    let findings = verify::verify(&args.dir, &options, now).or_fail(Kind::Input)?;
    let mut stdout = std::io::stdout().lock();
    let written = if json {
        verify::render_json(&args.dir, &findings, &mut stdout)
    } else {
        verify::render_text(&args.dir, &findings, quiet, &mut stdout)
    };
    ignore_broken_pipe(written)?;
    if verify::count_problems(&findings) == 0 {
        Ok(Outcome::Success)
    } else {
        Ok(Outcome::Findings)
    }
}

/// Prints the facts of `paths` on stdout, as JSON or as text.
///
/// Files of a folder that look like TLS files but cannot be read fail the
/// run (exit 2), after the facts of the others are printed.
fn print_facts(paths: &[PathBuf], json: bool, now: OffsetDateTime) -> Result<(), Failure> {
    let found = inspect::inspect(paths, now).or_fail(Kind::Input)?;
    let mut stdout = std::io::stdout().lock();
    let written = if json {
        inspect::render_json(&found.entries, &found.unreadable, &mut stdout)
    } else {
        inspect::render_text(&found.entries, &mut stdout)
    };
    ignore_broken_pipe(written)?;
    if found.unreadable.is_empty() {
        return Ok(());
    }
    let reasons: Vec<&str> = found.unreadable.iter().map(|u| u.error.as_str()).collect();
    Err(Failure::new(
        Kind::Input,
        anyhow::anyhow!(
            "{} of the files could not be read: {}",
            reasons.len(),
            reasons.join("; ")
        ),
    ))
}

/// Prints text on stdout as it is.
fn print_text(text: &str) -> Result<(), Failure> {
    use std::io::Write;
    ignore_broken_pipe(std::io::stdout().lock().write_all(text.as_bytes()))
}

/// The man page, rendered from the same definitions as `--help`.
fn write_man_page(args: &ManArgs) -> Result<(), Failure> {
    let page = clap_mangen::Man::new(Cli::command());
    let mut buffer = Vec::new();
    page.render(&mut buffer)
        .context("failed to render the man page")
        .or_fail(Kind::Internal)?;
    match &args.out {
        None => print_text(&String::from_utf8_lossy(&buffer)),
        Some(dir) => {
            files::ensure_dir(dir).or_fail(Kind::Write)?;
            let output = files::Output {
                path: dir.join("certgen.1"),
                contents: buffer,
                access: files::Access::Public,
                replace: true,
            };
            files::commit(&[output]).or_fail(Kind::Write)
        }
    }
}

/// A reader that stops early (`certgen inspect . | head`) is not an error.
fn ignore_broken_pipe(result: std::io::Result<()>) -> Result<(), Failure> {
    match result {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other
            .context("failed to write to standard output")
            .or_fail(Kind::Write),
    }
}
