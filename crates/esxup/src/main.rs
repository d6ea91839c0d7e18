//! The `esxup` binary: parse the command line, run one command, print errors
//! as a chain and exit with a documented code.
//!
//! Exit codes (see README): 0 ok / ready, 1 findings (a blocker, an exposure,
//! an unmet dependency), 2 error (bad input, unreachable host, unknown build).

mod cli;
mod cmd;

use clap::Parser;
use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    cmd::out::install_broken_pipe_hook();
    let cli = cli::Cli::parse();
    match cmd::dispatch(cli) {
        Ok(code) => code.into(),
        // The reader closed standard output (`| head`): stop quietly.
        Err(err) if cmd::out::is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            // Flush what was already printed on stdout before the diagnostics.
            let _ = std::io::stdout().flush();
            let mut stderr = std::io::stderr().lock();
            let v = |s: String| cmd::out::visible(&s).into_owned();
            let _ = writeln!(stderr, "error: {}", v(err.to_string()));
            for cause in err.chain().skip(1) {
                let _ = writeln!(stderr, "  caused by: {}", v(cause.to_string()));
            }
            if let Some(hint) = cmd::hint_of(&err) {
                let _ = writeln!(stderr, "hint: {}", v(hint.to_string()));
            }
            ExitCode::from(cmd::EXIT_ERROR)
        }
    }
}
