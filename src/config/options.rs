//! supervisord's command line and the merge of it over the config file: supervisor's
//! `ServerOptions.__init__` option table, `Options.realize` and `ServerOptions.realize`.

use crate::config::datatypes::{
    self, LogLevel, byte_size, existing_directory, existing_dirpath, integer, logging_level,
    octal_type, profile_options,
};
use crate::config::expand::Expansions;
use crate::config::{
    ConfigError, ConfigFile, Environ, HttpServerConfig, ServerAddress, paths, read_config,
};
use crate::getopt::getopt;

/// `supervisord -h` (`supervisord.py`'s docstring); `%s` becomes argv0.
pub const SUPERVISORD_HELP: &str = r#"supervisord -- run a set of applications as daemons.

Usage: %s [options]

Options:
-c/--configuration FILENAME -- configuration file path (searches if not given)
-n/--nodaemon -- run in the foreground (same as 'nodaemon=true' in config file)
-s/--silent -- no logs to stdout (maps to 'silent=true' in config file)
-h/--help -- print this usage message and exit
-v/--version -- print supervisord version number and exit
-u/--user USER -- run supervisord as this user (or numeric uid)
-m/--umask UMASK -- use this umask for daemon subprocess (default is 022)
-d/--directory DIRECTORY -- directory to chdir to when daemonized
-l/--logfile FILENAME -- use FILENAME as logfile path
-y/--logfile_maxbytes BYTES -- use BYTES to limit the max size of logfile
-z/--logfile_backups NUM -- number of backups to keep when max bytes reached
-e/--loglevel LEVEL -- use LEVEL as log level (debug,info,warn,error,critical)
-j/--pidfile FILENAME -- write a pid file for the daemon process to FILENAME
-i/--identifier STR -- identifier used for this instance of supervisord
-q/--childlogdir DIRECTORY -- the log directory for child process logs
-k/--nocleanup --  prevent the process from performing cleanup (removal of
                   old automatic child log files) at startup.
-a/--minfds NUM -- the minimum number of file descriptors for start success
-t/--strip_ansi -- strip ansi escape codes from process output
--minprocs NUM  -- the minimum number of processes available for start success
--profile_options OPTIONS -- run supervisord under profiler and output
                             results based on OPTIONS, which  is a comma-sep'd
                             list of 'cumulative', 'calls', and/or 'callers',
                             e.g. 'cumulative,callers')
"#;

const SHORT_OPTIONS: &str = "h?c:vnu:m:d:l:y:z:e:j:i:q:a:kts";
const LONG_OPTIONS: &[&str] = &[
    "help",
    "configuration=",
    "version",
    "nodaemon",
    "user=",
    "umask=",
    "directory=",
    "logfile=",
    "logfile_maxbytes=",
    "logfile_backups=",
    "loglevel=",
    "pidfile=",
    "identifier=",
    "childlogdir=",
    "minfds=",
    "minprocs=",
    "nocleanup",
    "strip_ansi",
    "profile_options=",
    "silent",
];

/// The values given on the command line; each beats the config file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommandLine {
    pub configfile: Option<String>,
    pub nodaemon: Option<bool>,
    pub silent: Option<bool>,
    pub user: Option<String>,
    pub umask: Option<i64>,
    pub directory: Option<String>,
    pub logfile: Option<String>,
    pub logfile_maxbytes: Option<i64>,
    pub logfile_backups: Option<i64>,
    pub loglevel: Option<LogLevel>,
    pub pidfile: Option<String>,
    pub identifier: Option<String>,
    pub childlogdir: Option<String>,
    pub nocleanup: Option<bool>,
    pub strip_ansi: Option<bool>,
    pub minfds: Option<i64>,
    pub minprocs: Option<i64>,
    pub profile_options: Option<(Vec<String>, bool)>,
}

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invocation {
    Run(Box<CommandLine>),
    /// `-h`, `--help` or `-?`: print [`SUPERVISORD_HELP`] and exit 0.
    Help,
    /// `-v` or `--version`: print the version and exit 0.
    Version,
}

/// Stores a value unless the option was already given (`conflicting command line option`).
fn set<T>(slot: &mut Option<T>, value: T, opt: &str) -> Result<(), ConfigError> {
    if slot.is_some() {
        return Err(ConfigError::ConflictingOption(opt.to_string()));
    }
    *slot = Some(value);
    Ok(())
}

/// Parses supervisord's arguments (without argv0). Options act in order, as in Python: `-h`
/// after a bad value reports the bad value, `-h` before it prints the help.
pub fn parse_command_line(args: &[String]) -> Result<Invocation, ConfigError> {
    let (opts, positional) = getopt(args, SHORT_OPTIONS, LONG_OPTIONS)?;
    if !positional.is_empty() {
        return Err(ConfigError::PositionalArguments(positional));
    }
    let mut c = CommandLine::default();
    for opt in opts {
        let (name, arg) = (opt.name.as_str(), opt.value.as_str());
        let invalid = |error| ConfigError::InvalidOptionValue {
            opt: name.to_string(),
            value: arg.to_string(),
            error,
        };
        match name {
            "-h" | "--help" | "-?" => return Ok(Invocation::Help),
            "-v" | "--version" => return Ok(Invocation::Version),
            "-c" | "--configuration" => set(&mut c.configfile, arg.to_string(), name)?,
            "-n" | "--nodaemon" => set(&mut c.nodaemon, true, name)?,
            "-s" | "--silent" => set(&mut c.silent, true, name)?,
            "-k" | "--nocleanup" => set(&mut c.nocleanup, true, name)?,
            "-t" | "--strip_ansi" => set(&mut c.strip_ansi, true, name)?,
            "-u" | "--user" => set(&mut c.user, arg.to_string(), name)?,
            "-i" | "--identifier" => set(&mut c.identifier, arg.to_string(), name)?,
            "-m" | "--umask" => set(&mut c.umask, octal_type(arg).map_err(invalid)?, name)?,
            "-d" | "--directory" => {
                set(&mut c.directory, existing_directory(arg).map_err(invalid)?, name)?
            }
            "-l" | "--logfile" => {
                set(&mut c.logfile, existing_dirpath(arg).map_err(invalid)?, name)?
            }
            "-y" | "--logfile_maxbytes" => {
                set(&mut c.logfile_maxbytes, byte_size(arg).map_err(invalid)?, name)?
            }
            "-z" | "--logfile_backups" => {
                set(&mut c.logfile_backups, integer(arg).map_err(invalid)?, name)?
            }
            "-e" | "--loglevel" => {
                set(&mut c.loglevel, logging_level(arg).map_err(invalid)?, name)?
            }
            "-j" | "--pidfile" => {
                set(&mut c.pidfile, existing_dirpath(arg).map_err(invalid)?, name)?
            }
            "-q" | "--childlogdir" => {
                set(&mut c.childlogdir, existing_directory(arg).map_err(invalid)?, name)?
            }
            "-a" | "--minfds" => set(&mut c.minfds, integer(arg).map_err(invalid)?, name)?,
            "--minprocs" => set(&mut c.minprocs, integer(arg).map_err(invalid)?, name)?,
            "--profile_options" => set(&mut c.profile_options, profile_options(arg), name)?,
            // getopt only returns names from the tables above.
            _ => {}
        }
    }
    Ok(Invocation::Run(Box::new(c)))
}

/// Where supervisord looks for its config when `-c` is absent, in order: relative to the
/// directory above argv0's, then the current directory, then `/etc`.
pub fn config_search_paths(progname: &str) -> Vec<String> {
    let here = paths::dirname(paths::dirname(progname));
    vec![
        paths::join(&paths::join(here, "etc"), "supervisord.conf"),
        paths::join(here, "supervisord.conf"),
        "supervisord.conf".to_string(),
        "etc/supervisord.conf".to_string(),
        "/etc/supervisord.conf".to_string(),
        "/etc/supervisor/supervisord.conf".to_string(),
    ]
}

/// The first existing search path (`Options.default_configfile`).
pub fn default_configfile(progname: &str) -> Result<String, ConfigError> {
    let candidates = config_search_paths(progname);
    candidates
        .iter()
        .find(|p| std::path::Path::new(p.as_str()).exists())
        .cloned()
        .ok_or_else(|| ConfigError::NoConfigFile(candidates.join(", ")))
}

/// Python prints this `UserWarning` before searching, when running as root without `-c`.
pub const ROOT_SEARCH_WARNING: &str = "Supervisord is running as root and it is searching for its configuration file in default locations (including its current working directory); you probably want to specify a \"-c\" argument specifying an absolute path to a configuration file for improved security.";

/// supervisord's effective settings: the command line merged over the config file.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// The config path as given or found (not made absolute).
    pub configfile: String,
    /// `%(here)s`: the absolute directory of `configfile`.
    pub here: String,
    pub nodaemon: bool,
    pub silent: bool,
    pub user: Option<String>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    pub umask: i64,
    pub directory: Option<String>,
    /// Absolute and normalised, or the literal `syslog`.
    pub logfile: String,
    pub logfile_maxbytes: i64,
    pub logfile_backups: i64,
    pub loglevel: LogLevel,
    /// Absolute and normalised.
    pub pidfile: String,
    pub identifier: String,
    pub childlogdir: String,
    pub nocleanup: bool,
    pub strip_ansi: bool,
    pub minfds: i64,
    pub minprocs: i64,
    pub profile_options: Option<(Vec<String>, bool)>,
    /// `SUPERVISOR_SERVER_URL` for children: the first unix server, else the last inet one.
    pub serverurl: Option<String>,
    pub file: ConfigFile,
    pub command_line: CommandLine,
    /// `ENV_*` names, which outlive a reread (supervisor keeps adding to the same dict).
    pub environ_expansions: Expansions,
}

impl ServerOptions {
    /// `ServerOptions.realize` after argument parsing: find and read the config, merge the
    /// command line over it, check the user and absolutise the log and pid files.
    pub fn realize(
        command_line: CommandLine,
        progname: &str,
        environ: &Environ,
    ) -> Result<ServerOptions, ConfigError> {
        let configfile = match &command_line.configfile {
            Some(path) => path.clone(),
            None => default_configfile(progname)?,
        };
        let here = paths::abspath(paths::dirname(&configfile));
        let mut environ_expansions = environ.expansions();
        let file = read_config(&configfile, &here, environ, &mut environ_expansions)?;
        let c = &command_line;
        let s = &file.supervisord;
        let user = c.user.clone().or_else(|| s.user.clone());
        let (uid, gid) = match &user {
            Some(name) => {
                let uid = datatypes::name_to_uid(name)?;
                (Some(uid), datatypes::gid_for_uid(uid))
            }
            None => (None, None),
        };
        let logfile = c.logfile.clone().unwrap_or_else(|| s.logfile.clone());
        let logfile =
            if logfile == "syslog" { logfile } else { datatypes::normalize_path(&logfile) };
        let pidfile = datatypes::normalize_path(c.pidfile.as_ref().unwrap_or(&s.pidfile));
        let serverurl = server_url(&file.servers);
        Ok(ServerOptions {
            here,
            nodaemon: c.nodaemon.unwrap_or(s.nodaemon),
            silent: c.silent.unwrap_or(s.silent),
            user,
            uid,
            gid,
            umask: c.umask.unwrap_or(s.umask),
            directory: c.directory.clone().or_else(|| s.directory.clone()),
            logfile,
            logfile_maxbytes: c.logfile_maxbytes.unwrap_or(s.logfile_maxbytes),
            logfile_backups: c.logfile_backups.unwrap_or(s.logfile_backups),
            loglevel: c.loglevel.unwrap_or(s.loglevel),
            pidfile,
            identifier: c.identifier.clone().unwrap_or_else(|| s.identifier.clone()),
            childlogdir: c.childlogdir.clone().unwrap_or_else(|| s.childlogdir.clone()),
            nocleanup: c.nocleanup.unwrap_or(s.nocleanup),
            strip_ansi: c.strip_ansi.unwrap_or(s.strip_ansi),
            minfds: c.minfds.unwrap_or(s.minfds),
            minprocs: c.minprocs.unwrap_or(s.minprocs),
            profile_options: c.profile_options.clone(),
            serverurl,
            configfile,
            command_line,
            environ_expansions,
            file,
        })
    }
}

/// Supervisor prefers a unix socket; failing that its loop over inet servers keeps the last one,
/// with `localhost` for an empty host.
fn server_url(servers: &[HttpServerConfig]) -> Option<String> {
    let unix = servers.iter().find_map(|s| match &s.address {
        ServerAddress::Unix { file, .. } => Some(format!("unix://{file}")),
        ServerAddress::Inet { .. } => None,
    });
    unix.or_else(|| {
        servers.iter().rev().find_map(|s| match &s.address {
            ServerAddress::Inet { host, port } => {
                let host = if host.is_empty() { "localhost" } else { host };
                Some(format!("http://{host}:{port}"))
            }
            ServerAddress::Unix { .. } => None,
        })
    })
}
