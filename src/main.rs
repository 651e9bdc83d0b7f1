//! The `certgen` command: parse the command line, run it, and turn a
//! failure into one line on stderr and its exit code.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = certgen::cli::Cli::parse();
    match certgen::run::run(cli) {
        Ok(outcome) => ExitCode::from(outcome.exit_code()),
        Err(failure) => {
            eprintln!("error: {failure}");
            ExitCode::from(failure.kind.exit_code())
        }
    }
}
