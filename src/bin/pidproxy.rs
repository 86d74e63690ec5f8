//! `pidproxy`: thin wrapper over [`supervisor::tools::pidproxy::main`].

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> =
        std::env::args_os().skip(1).map(|a| a.to_string_lossy().into_owned()).collect();
    supervisor::tools::pidproxy::main(&args)
}
