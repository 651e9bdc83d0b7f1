//! The `certgen` command: parse the command line, run it, and turn a
//! failure into one line on stderr and its exit code.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = match certgen::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) if !err.use_stderr() => {
            // --help and --version: clap prints them, on stdout.
            err.exit();
        }
        Err(err) => {
            // clap echoes the offending value; escape control characters in
            // it so that a hostile argument cannot drive the terminal.
            let text = err.render().to_string();
            eprint!("{}", certgen::facts::clean_keeping_lines(&text));
            return ExitCode::from(2);
        }
    };
    match certgen::run::run(cli) {
        Ok(outcome) => ExitCode::from(outcome.exit_code()),
        Err(failure) => {
            eprintln!("error: {failure}");
            ExitCode::from(failure.kind.exit_code())
        }
    }
}
