//! The `logmon` binary: parse the arguments, run, map the result to an exit
//! status. A reader that closes the pipe early ends the run with success.

use std::process::ExitCode;

fn main() -> ExitCode {
    let result = logmon::cli::parse_args(std::env::args_os().skip(1)).and_then(logmon::run);
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            if e.exit_code() != 0 {
                logmon::diag::say(format_args!("{e}"));
            }
            ExitCode::from(e.exit_code())
        }
    }
}
