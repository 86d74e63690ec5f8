//! supervisorctl's options: its command line and the `[supervisorctl]` and `[ctlplugin:x]`
//! sections (supervisor's `ClientOptions`).

use crate::config::datatypes::{normalize_path, url};
use crate::config::expand::Expansions;
use crate::config::ini::IniParser;
use crate::config::options::config_search_paths;
use crate::config::reader::SectionReader;
use crate::config::server::{RpcInterfaceConfig, plugins};
use crate::config::{ConfigError, Environ, paths};
use crate::getopt::getopt;

/// `supervisorctl -h` (`supervisorctl.py`'s docstring); `%s` becomes argv0.
pub const SUPERVISORCTL_HELP: &str = r#"supervisorctl -- control applications run by supervisord from the cmd line.

Usage: %s [options] [action [arguments]]

Options:
-c/--configuration FILENAME -- configuration file path (searches if not given)
-h/--help -- print usage message and exit
-i/--interactive -- start an interactive shell after executing commands
-s/--serverurl URL -- URL on which supervisord server is listening
     (default "http://localhost:9001").
-u/--username USERNAME -- username to use for authentication with server
-p/--password PASSWORD -- password to use for authentication with server
-r/--history-file -- keep a readline history (if readline is available)

action [arguments] -- see below

Actions are commands like "tail" or "stop".  If -i is specified or no action is
specified on the command line, a "shell" interpreting actions typed
interactively is started.  Use the action "help" to find out about available
actions.
"#;

const SHORT_OPTIONS: &str = "h?c:is:u:p:r:";
const LONG_OPTIONS: &[&str] = &[
    "help",
    "configuration=",
    "interactive",
    "serverurl=",
    "username=",
    "password=",
    "history_file=",
];

/// supervisorctl's effective settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientOptions {
    /// The config file used, if any was given or found (supervisorctl runs without one).
    pub configfile: Option<String>,
    pub interactive: bool,
    pub prompt: String,
    pub serverurl: String,
    pub username: Option<String>,
    pub password: Option<String>,
    /// `-r`: kept because Python keeps it, but only the config's `history_file` is used.
    pub history: Option<String>,
    /// From `[supervisorctl] history_file`, absolute.
    pub history_file: Option<String>,
    /// `[ctlplugin:x]` sections.
    pub plugins: Vec<RpcInterfaceConfig>,
    /// The action and its arguments.
    pub args: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CtlInvocation {
    Run(Box<ClientOptions>),
    /// `-h`, `--help` or `-?`: print [`SUPERVISORCTL_HELP`] and exit 0.
    Help,
}

/// The command-line values, each beating the config file.
#[derive(Default)]
struct CtlCommandLine {
    configfile: Option<String>,
    interactive: Option<bool>,
    serverurl: Option<String>,
    username: Option<String>,
    password: Option<String>,
    history: Option<String>,
}

fn set(slot: &mut Option<String>, value: &str, opt: &str) -> Result<(), ConfigError> {
    if slot.is_some() {
        return Err(ConfigError::ConflictingOption(opt.to_string()));
    }
    *slot = Some(value.to_string());
    Ok(())
}

/// `ClientOptions.realize`: parse `args` (without argv0), then read the config if one is given
/// or found.
pub fn realize_ctl(
    args: &[String],
    progname: &str,
    environ: &Environ,
) -> Result<CtlInvocation, ConfigError> {
    let (opts, positional) = getopt(args, SHORT_OPTIONS, LONG_OPTIONS)?;
    let mut c = CtlCommandLine::default();
    for opt in opts {
        let (name, arg) = (opt.name.as_str(), opt.value.as_str());
        match name {
            "-h" | "--help" | "-?" => return Ok(CtlInvocation::Help),
            "-c" | "--configuration" => set(&mut c.configfile, arg, name)?,
            "-i" | "--interactive" => {
                if c.interactive.is_some() {
                    return Err(ConfigError::ConflictingOption(name.to_string()));
                }
                c.interactive = Some(true);
            }
            "-s" | "--serverurl" => {
                let value = url(arg).map_err(|error| ConfigError::InvalidOptionValue {
                    opt: name.to_string(),
                    value: arg.to_string(),
                    error,
                })?;
                set(&mut c.serverurl, &value, name)?;
            }
            "-u" | "--username" => set(&mut c.username, arg, name)?,
            "-p" | "--password" => set(&mut c.password, arg, name)?,
            "-r" | "--history_file" => set(&mut c.history, arg, name)?,
            _ => {}
        }
    }
    let configfile = match c.configfile {
        Some(path) => Some(path),
        None => {
            config_search_paths(progname).into_iter().find(|p| std::path::Path::new(p).exists())
        }
    };
    let section = match configfile.as_deref() {
        // Python skips the file for an empty path too.
        Some(path) if !path.is_empty() => Some(read_ctl_config(path, environ)?),
        _ => None,
    };
    let section = section.unwrap_or_default();
    Ok(CtlInvocation::Run(Box::new(ClientOptions {
        configfile,
        interactive: c.interactive.unwrap_or(false) || positional.is_empty(),
        prompt: section.prompt.unwrap_or_else(|| "supervisor".to_string()),
        serverurl: c
            .serverurl
            .or(section.serverurl)
            .unwrap_or_else(|| "http://localhost:9001".to_string()),
        username: c.username.or(section.username),
        password: c.password.or(section.password),
        history: c.history,
        history_file: section.history_file,
        plugins: section.plugins,
        args: positional,
    })))
}

#[derive(Default)]
struct CtlSection {
    serverurl: Option<String>,
    prompt: Option<String>,
    username: Option<String>,
    password: Option<String>,
    history_file: Option<String>,
    plugins: Vec<RpcInterfaceConfig>,
}

/// `ClientOptions.read_config`. Unlike supervisord, `%(here)s` comes from the normalised path.
fn read_ctl_config(path: &str, environ: &Environ) -> Result<CtlSection, ConfigError> {
    let here = paths::dirname(&normalize_path(path)).to_string();
    if !std::path::Path::new(path).exists() {
        return Err(ConfigError::NotFound(path.to_string()));
    }
    let text =
        crate::config::read_text(path)?.ok_or_else(|| ConfigError::Unreadable(path.to_string()))?;
    // Python lets a ParsingError escape here as a traceback; we report it like supervisord does.
    let mut parser = IniParser::new();
    parser.read(&text, path)?;
    if !parser.has_section("supervisorctl") {
        return Err(ConfigError::MissingSection("supervisorctl"));
    }
    let r = SectionReader {
        parser: &parser,
        here: here.clone(),
        configfile: path,
        host_node_name: &environ.host_node_name,
        environ: environ.expansions(),
        warnings: Vec::new(),
    };
    const S: &str = "supervisorctl";
    let none = Expansions::new();
    let serverurl = r.get(S, "serverurl", &r.here())?.map(|u| match u.strip_prefix("unix://") {
        Some(p) => format!("unix://{}", normalize_path(p)),
        None => u,
    });
    let history_file =
        r.get(S, "history_file", &r.here())?.filter(|h| !h.is_empty()).map(|h| normalize_path(&h));
    Ok(CtlSection {
        serverurl,
        prompt: r.get(S, "prompt", &none)?,
        username: r.get(S, "username", &none)?,
        password: r.get(S, "password", &none)?,
        history_file,
        plugins: plugins(&r, "supervisor.ctl_factory", "ctlplugin:", &[])?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn environ() -> Environ {
        Environ { vars: vec![], host_node_name: "host".into() }
    }

    /// Python's supervisorctl dies with a ParsingError traceback here (compatibility notes).
    #[test]
    fn malformed_config_is_an_error_not_a_crash() {
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("ctl.conf");
        std::fs::write(&conf, "[supervisorctl]\nno value here\n").unwrap();
        let args = vec!["-c".to_string(), conf.to_string_lossy().into_owned(), "status".into()];
        let err = realize_ctl(&args, "supervisorctl", &environ()).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "Source contains parsing errors: {}\n\t[line  2]: 'no value here\\n'",
                crate::python::repr(&conf.to_string_lossy())
            )
        );
    }

    #[test]
    fn no_action_means_interactive() {
        let args = vec!["-c".to_string(), String::new()];
        let Ok(CtlInvocation::Run(o)) = realize_ctl(&args, "supervisorctl", &environ()) else {
            panic!("expected options");
        };
        assert!(o.interactive);
        assert_eq!(o.serverurl, "http://localhost:9001");
        assert_eq!(o.prompt, "supervisor");
    }
}
