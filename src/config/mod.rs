//! The configuration loader: `supervisord.conf` text in, a typed [`ServerOptions`] out, meaning
//! exactly what it means to supervisor 4.3.0.
//!
//! Two stages, as in supervisor's `options.py`: [`ini`] reads raw sections the way Python's
//! `RawConfigParser` does (plus `[include]` through [`glob`]), then [`read_config`] converts every
//! option with the [`datatypes`] converters after `%(name)s` expansion by [`expand`]. Finally
//! [`options`] merges the command line over the file, as `ServerOptions.realize` does.
//!
//! The loader reads files, directory entries and the user database, as supervisor's own parser
//! does when it validates paths and users; it never writes anything or starts a process.

pub mod ctl;
pub mod datatypes;
mod error;
pub mod expand;
pub mod glob;
pub mod ini;
pub mod options;
pub mod paths;
pub mod process;
mod reader;
pub mod server;

pub use error::{ConfigError, FcgiSocketError};
pub use options::{CommandLine, Invocation, ServerOptions};
pub use process::{
    ChannelConfig, Environment, FcgiSocketConfig, GroupKind, Logfile, PoolConfig, ProcessConfig,
    ProcessGroupConfig,
};
pub use server::{HttpServerConfig, RpcInterfaceConfig, ServerAddress, SupervisordSection};

use expand::Expansions;
use ini::IniParser;
use reader::SectionReader;

/// What supervisord takes from its own process when it reads a config: the environment (for
/// `ENV_*` and the temp directory) and the host name (for `%(host_node_name)s`).
#[derive(Debug, Clone)]
pub struct Environ {
    pub vars: Vec<(String, String)>,
    pub host_node_name: String,
}

impl Environ {
    pub fn from_process() -> Environ {
        let vars = std::env::vars_os()
            .map(|(k, v)| (k.to_string_lossy().into_owned(), v.to_string_lossy().into_owned()))
            .collect();
        let host_node_name = nix::unistd::gethostname()
            .map(|h| h.to_string_lossy().into_owned())
            .unwrap_or_default();
        Environ { vars, host_node_name }
    }

    /// `ENV_<name>` for every variable, as `Options.__init__` builds them.
    pub fn expansions(&self) -> Expansions {
        let mut e = Expansions::new();
        for (k, v) in &self.vars {
            e.insert_str(format!("ENV_{k}"), v.clone());
        }
        e
    }
}

/// Everything one read of the config file yields (supervisor's `read_config`).
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigFile {
    pub supervisord: SupervisordSection,
    pub rpcinterfaces: Vec<RpcInterfaceConfig>,
    /// Sorted by priority, then name.
    pub groups: Vec<std::sync::Arc<ProcessGroupConfig>>,
    pub servers: Vec<HttpServerConfig>,
    /// Logged at WARN once the main log exists.
    pub warnings: Vec<String>,
    /// Logged at INFO once the main log exists.
    pub infos: Vec<String>,
}

/// Reads the text of a config file as Python's text mode does; `None` if it cannot be read.
pub(crate) fn read_text(path: &str) -> Result<Option<String>, ConfigError> {
    let Ok(bytes) = std::fs::read(path) else {
        return Ok(None);
    };
    match crate::python::decode_utf8_file(&bytes) {
        Ok(text) => Ok(Some(text)),
        Err(e) => {
            // Python parses lines as it decodes chunks, so a missing section header on a line
            // decoded before the bad chunk is what it reports.
            let decoded = std::str::from_utf8(&bytes[..e.chunk_start]).unwrap_or_default();
            let complete_lines = &decoded[..decoded.rfind('\n').map_or(0, |i| i + 1)];
            if let Err(header @ ini::IniError::MissingSectionHeader { .. }) =
                IniParser::new().read(complete_lines, path)
            {
                return Err(header.into());
            }
            Err(e.into())
        }
    }
}

/// Python's `str.split()` with no separator.
fn split_whitespace(s: &str) -> impl Iterator<Item = &str> {
    s.split(crate::python::is_space).filter(|w| !w.is_empty())
}

/// Reads and types `configfile`. `environ_expansions` are the `ENV_*` names; supervisor keeps one
/// such dict for the life of the process and adds `[supervisord] environment` names to it on
/// every read, so the caller owns it.
pub fn read_config(
    configfile: &str,
    here: &str,
    environ: &Environ,
    environ_expansions: &mut Expansions,
) -> Result<ConfigFile, ConfigError> {
    if configfile.is_empty() || !std::path::Path::new(configfile).exists() {
        return Err(ConfigError::NotFound(configfile.to_string()));
    }
    let Some(text) = read_text(configfile)? else {
        return Err(ConfigError::Unreadable(configfile.to_string()));
    };
    let mut parser = IniParser::new();
    parser.read(&text, configfile)?;

    let mut host_expansions = Expansions::new();
    host_expansions.insert_str("here", here);
    host_expansions.insert_str("host_node_name", environ.host_node_name.clone());
    host_expansions.extend(environ_expansions);

    let mut infos = Vec::new();
    let mut warnings = Vec::new();
    if parser.has_section("include") {
        parser.expand_here(here);
        let Some(files) = parser.get("include", "files").map(str::to_string) else {
            return Err(ConfigError::IncludeWithoutFiles);
        };
        let files = expand::expand(&files, &host_expansions, "include.files")?;
        let base = paths::dirname(&paths::abspath(configfile)).to_string();
        for pattern in split_whitespace(&files) {
            let pattern = paths::join(&base, pattern);
            let mut filenames = glob::glob(&pattern);
            if filenames.is_empty() {
                warnings.push(format!("No file matches via include \"{pattern}\""));
                continue;
            }
            filenames.sort();
            for filename in filenames {
                infos.push(format!("Included extra file \"{filename}\" during parsing"));
                // RawConfigParser.read skips files it cannot open without a word.
                if let Some(text) = read_text(&filename)? {
                    parser.read(&text, &filename)?;
                    parser.expand_here(&paths::abspath(paths::dirname(&filename)));
                }
            }
        }
    }

    if !parser.has_section("supervisord") {
        return Err(ConfigError::MissingSection("supervisord"));
    }

    let mut r = SectionReader {
        parser: &parser,
        here: here.to_string(),
        configfile,
        host_node_name: &environ.host_node_name,
        environ: environ_expansions.clone(),
        warnings,
    };
    let tempdir = server::default_tempdir(&environ.vars);
    let supervisord = server::supervisord_section(&mut r, &host_expansions, &tempdir)?;
    let rpcinterfaces = server::plugins(
        &r,
        "supervisor.rpcinterface_factory",
        "rpcinterface:",
        &[server::MAIN_RPCINTERFACE_FACTORY],
    )?;
    let mut groups = process::process_groups(&mut r)?;
    for group in &mut groups {
        for proc in &mut group.processes {
            let mut env = supervisord.environment.clone();
            process::update_environment(&mut env, &proc.environment);
            // Each config has just been made and is not shared yet, so this never copies.
            std::sync::Arc::make_mut(proc).environment = env;
        }
    }
    let servers = server::http_servers(&r)?;
    *environ_expansions = r.environ;
    Ok(ConfigFile {
        supervisord,
        rpcinterfaces,
        groups: groups.into_iter().map(std::sync::Arc::new).collect(),
        servers,
        warnings: r.warnings,
        infos,
    })
}
