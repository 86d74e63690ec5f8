//! `echo_supervisord_conf`: thin wrapper over [`supervisor::tools::echo_conf::main`].

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> =
        std::env::args_os().skip(1).map(|a| a.to_string_lossy().into_owned()).collect();
    supervisor::tools::echo_conf::main(&args)
}
