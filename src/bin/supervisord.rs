//! `supervisord`: parses the command line, loads the config exactly as supervisor 4.3.0 does,
//! reports problems the way Python's `Options.usage` does (`Error: ...`, exit 2), and runs the
//! daemon.

use std::io::Write;
use std::process::ExitCode;
use supervisor::config::options::{ROOT_SEARCH_WARNING, SUPERVISORD_HELP, parse_command_line};
use supervisor::config::{ConfigError, Environ, Invocation, ServerOptions};

/// Python's `Options.usage`: the message, a pointer to `-h`, and exit status 2.
fn usage(progname: &str, error: &ConfigError) -> ExitCode {
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "Error: {error}\nFor help, use {progname} -h\n");
    ExitCode::from(2)
}

/// The Go port's subcommands (`supervisord version`, `supervisord service ...`). Python's
/// supervisord refuses positional arguments, so none of these can mean anything else.
fn subcommand(args: &[String]) -> Option<ExitCode> {
    let (first, rest) = args.split_first()?;
    match first.as_str() {
        "version" if rest.is_empty() => {
            let _ = writeln!(std::io::stdout(), "{}", supervisor::SUPERVISOR_VERSION);
            Some(ExitCode::SUCCESS)
        }
        "service" => {
            let binary = std::env::current_exe().unwrap_or_else(|_| "supervisord".into());
            Some(match supervisor::service::run(&binary, rest) {
                Ok(line) => {
                    let _ = writeln!(std::io::stdout(), "{line}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    let _ = writeln!(std::io::stderr(), "Error: {e}");
                    ExitCode::from(2)
                }
            })
        }
        _ => None,
    }
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args_os().map(|a| a.to_string_lossy().into_owned()).collect();
    let progname = argv.first().cloned().unwrap_or_else(|| "supervisord".to_string());
    let args = argv.get(1..).unwrap_or_default();
    if let Some(code) = subcommand(args) {
        return code;
    }
    let command_line = match parse_command_line(args) {
        Ok(Invocation::Run(c)) => *c,
        Ok(Invocation::Help) => {
            let _ = writeln!(std::io::stdout(), "{}", SUPERVISORD_HELP.replace("%s", &progname));
            return ExitCode::SUCCESS;
        }
        Ok(Invocation::Version) => {
            let _ = writeln!(std::io::stdout(), "{}", supervisor::SUPERVISOR_VERSION);
            return ExitCode::SUCCESS;
        }
        Err(e) => return usage(&progname, &e),
    };
    if command_line.configfile.is_none() && nix::unistd::getuid().is_root() {
        let _ = writeln!(std::io::stderr(), "UserWarning: {ROOT_SEARCH_WARNING}");
    }
    let name = progname.clone();
    let realize =
        move || ServerOptions::realize(command_line.clone(), &name, &Environ::from_process());
    match supervisor::daemon::run(realize) {
        Ok(()) => ExitCode::SUCCESS,
        Err(supervisor::daemon::StartupError::Config(e)) => usage(&progname, &e),
        Err(e) => {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "Error: {e}\nFor help, use {progname} -h\n");
            ExitCode::from(2)
        }
    }
}
