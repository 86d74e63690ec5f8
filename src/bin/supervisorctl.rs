//! `supervisorctl`: argv to [`supervisor::ctl::main`].

use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args();
    let argv0 = args.next().unwrap_or_else(|| "supervisorctl".to_string());
    let rest: Vec<String> = args.collect();
    supervisor::ctl::main(&argv0, &rest)
}
