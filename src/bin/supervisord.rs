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

/// The one executable answers to every name it is linked as: `supervisorctl`, `pidproxy` and
/// `echo_supervisord_conf` run those tools; any other name is supervisord.
fn multicall(argv0: &str, args: &[String]) -> Option<ExitCode> {
    let name = std::path::Path::new(argv0).file_name()?.to_str()?;
    match name {
        "supervisorctl" => Some(supervisor::ctl::main(argv0, args)),
        "pidproxy" => Some(supervisor::tools::pidproxy::main(args)),
        "echo_supervisord_conf" => Some(supervisor::tools::echo_conf::main(args)),
        _ => None,
    }
}

/// The Go port's subcommands (`supervisord ctl ...`, `init -o FILE`, `version`,
/// `service ...`). Python's supervisord refuses positional arguments, so none of these can
/// mean anything else.
fn subcommand(argv0: &str, args: &[String]) -> Option<ExitCode> {
    let (first, rest) = args.split_first()?;
    match first.as_str() {
        "ctl" => Some(supervisor::ctl::main(argv0, rest)),
        "init" => Some(init(rest)),
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

/// `supervisord init [-o FILE]`: the sample config (echo_supervisord_conf's) to FILE, or to
/// standard output.
fn init(args: &[String]) -> ExitCode {
    match args {
        [] => supervisor::tools::echo_conf::main(&[]),
        [flag, file] if flag == "-o" || flag == "--output" => {
            match std::fs::write(file, supervisor::tools::echo_conf::SAMPLE_CONF) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    let _ = writeln!(std::io::stderr(), "Error: could not write {file}: {e}");
                    ExitCode::from(2)
                }
            }
        }
        _ => {
            let _ = writeln!(std::io::stderr(), "Error: usage: supervisord init [-o FILE]");
            ExitCode::from(2)
        }
    }
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args_os().map(|a| a.to_string_lossy().into_owned()).collect();
    let progname = argv.first().cloned().unwrap_or_else(|| "supervisord".to_string());
    let args = argv.get(1..).unwrap_or_default();
    if let Some(code) = multicall(&progname, args) {
        return code;
    }
    if let Some(code) = subcommand(&progname, args) {
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
