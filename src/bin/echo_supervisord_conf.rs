//! `echo_supervisord_conf`: not built yet (the Python-free toolset is a later issue); says so and fails rather
//! than pretending to work.

use std::process::ExitCode;

fn main() -> ExitCode {
    eprintln!(
        "echo_supervisord_conf: not implemented yet in supervisor-rs; use Python supervisor's echo_supervisord_conf for now"
    );
    ExitCode::from(1)
}
