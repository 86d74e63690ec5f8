//! `supervisorctl`: not built yet (the Python-free toolset is a later issue); says so and fails rather
//! than pretending to work.

use std::process::ExitCode;

fn main() -> ExitCode {
    eprintln!(
        "supervisorctl: not implemented yet in supervisor-rs; use Python supervisor's supervisorctl for now"
    );
    ExitCode::from(1)
}
