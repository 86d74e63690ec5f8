//! Typed `[supervisord]`, `[unix_http_server]`, `[inet_http_server]` (and every section whose
//! name starts with those words) and `[rpcinterface:x]` sections.

use crate::config::ConfigError;
use crate::config::datatypes::{
    LogLevel, boolean, byte_size, colon_separated_user_group, dict_of_key_value_pairs,
    existing_directory, existing_dirpath, inet_address, integer, logging_level, normalize_path,
    octal_type,
};
use crate::config::expand::{Expansions, expand};
use crate::config::process::Environment;
use crate::config::reader::SectionReader;

/// The `[supervisord]` values as written in the file, validated; command-line flags are merged
/// over them later (`ServerOptions`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupervisordSection {
    pub minfds: i64,
    pub minprocs: i64,
    pub directory: Option<String>,
    pub user: Option<String>,
    pub umask: i64,
    /// As written (after `~` expansion), not yet made absolute.
    pub logfile: String,
    pub logfile_maxbytes: i64,
    pub logfile_backups: i64,
    pub loglevel: LogLevel,
    pub pidfile: String,
    pub identifier: String,
    pub nodaemon: bool,
    pub silent: bool,
    pub childlogdir: String,
    pub nocleanup: bool,
    pub strip_ansi: bool,
    pub environment: Environment,
}

/// Where an HTTP server listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerAddress {
    /// An empty host means every interface.
    Inet {
        host: String,
        port: u16,
    },
    Unix {
        file: String,
        chmod: i64,
        chown: (i64, i64),
    },
}

/// One `[inet_http_server*]` or `[unix_http_server*]` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpServerConfig {
    /// The part after `:` in the section name, if any.
    pub name: Option<String>,
    pub section: String,
    pub address: ServerAddress,
    pub username: Option<String>,
    pub password: Option<String>,
}

/// One `[rpcinterface:x]` section: `x` is the XML-RPC namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpcInterfaceConfig {
    pub name: String,
    pub factory: String,
    /// The other keys (including inherited `[DEFAULT]` ones), passed to the factory as kwargs.
    pub extras: Vec<(String, String)>,
}

/// The standard factory, the only one this binary can provide.
pub const MAIN_RPCINTERFACE_FACTORY: &str = "supervisor.rpcinterface:make_main_rpcinterface";

/// `tempfile.gettempdir()`: the first usable of `$TMPDIR`, `$TEMP`, `$TMP`, `/tmp`, `/var/tmp`,
/// `/usr/tmp` and the current directory. Python proves a candidate by creating a file in it; an
/// access(2) check for write and search permission answers the same question without writing.
pub fn default_tempdir(environ: &[(String, String)]) -> String {
    let from_env = ["TMPDIR", "TEMP", "TMP"]
        .iter()
        .filter_map(|name| environ.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()));
    let fixed = ["/tmp", "/var/tmp", "/usr/tmp"].iter().map(|s| s.to_string());
    for dir in from_env.chain(fixed) {
        let abs = crate::config::paths::abspath(&dir);
        let ok = std::path::Path::new(&abs).is_dir()
            && nix::unistd::access(
                abs.as_str(),
                nix::unistd::AccessFlags::W_OK | nix::unistd::AccessFlags::X_OK,
            )
            .is_ok();
        if ok {
            return abs;
        }
    }
    crate::config::paths::getcwd()
}

/// Reads `[supervisord]` in supervisor's order (the first bad value is the one reported), and
/// extends `r.environ` with `ENV_*` names for its `environment`.
pub(crate) fn supervisord_section(
    r: &mut SectionReader,
    host_expansions: &Expansions,
    tempdir: &str,
) -> Result<SupervisordSection, ConfigError> {
    const S: &str = "supervisord";
    let here = r.here();
    let get = |r: &SectionReader, opt: &str| r.get(S, opt, &here);
    let minfds = get(r, "minfds")?.map(|v| integer(&v)).transpose()?.unwrap_or(1024);
    let minprocs = get(r, "minprocs")?.map(|v| integer(&v)).transpose()?.unwrap_or(200);
    let directory = get(r, "directory")?.map(|v| existing_directory(&v)).transpose()?;
    let user = get(r, "user")?;
    let umask = octal_type(get(r, "umask")?.as_deref().unwrap_or("022"))?;
    let logfile = existing_dirpath(get(r, "logfile")?.as_deref().unwrap_or("supervisord.log"))?;
    let logfile_maxbytes = byte_size(get(r, "logfile_maxbytes")?.as_deref().unwrap_or("50MB"))?;
    let logfile_backups =
        get(r, "logfile_backups")?.map(|v| integer(&v)).transpose()?.unwrap_or(10);
    let loglevel = logging_level(get(r, "loglevel")?.as_deref().unwrap_or("info"))?;
    let pidfile = existing_dirpath(get(r, "pidfile")?.as_deref().unwrap_or("supervisord.pid"))?;
    let identifier = get(r, "identifier")?.unwrap_or_else(|| "supervisor".to_string());
    let nodaemon = boolean(get(r, "nodaemon")?.as_deref().unwrap_or("false"))?;
    let silent = boolean(get(r, "silent")?.as_deref().unwrap_or("false"))?;
    let childlogdir = existing_directory(get(r, "childlogdir")?.as_deref().unwrap_or(tempdir))?;
    let nocleanup = boolean(get(r, "nocleanup")?.as_deref().unwrap_or("false"))?;
    let strip_ansi = boolean(get(r, "strip_ansi")?.as_deref().unwrap_or("false"))?;
    // Expanded twice: once on read with here+ENV, once more with host_node_name too, so `%%`
    // must be written `%%%%` to reach the program (GOT-11).
    let environ_str = get(r, "environment")?.unwrap_or_default();
    let environ_str = expand(&environ_str, host_expansions, "environment")?;
    let environment = dict_of_key_value_pairs(&environ_str)?;
    for (k, v) in &environment {
        r.environ.insert_str(format!("ENV_{k}"), v.clone());
    }
    Ok(SupervisordSection {
        minfds,
        minprocs,
        directory,
        user,
        umask,
        logfile,
        logfile_maxbytes,
        logfile_backups,
        loglevel,
        pidfile,
        identifier,
        nodaemon,
        silent,
        childlogdir,
        nocleanup,
        strip_ansi,
        environment,
    })
}

/// `Options.get_plugins` for `[rpcinterface:x]` (and, with another key and prefix, for
/// `[ctlplugin:x]`). Python imports the factory here; we can only provide `known` ones, and any
/// other gets the message Python prints when the module is not installed.
pub(crate) fn plugins(
    r: &SectionReader,
    factory_key: &'static str,
    prefix: &str,
    known: &[&str],
) -> Result<Vec<RpcInterfaceConfig>, ConfigError> {
    let none = Expansions::new();
    let mut out = Vec::new();
    for section in r.parser.sections() {
        let Some(name) = section.strip_prefix(prefix) else { continue };
        let Some(spec) = r.get(section, factory_key, &none)? else {
            return Err(ConfigError::NoFactory { section: section.to_string(), key: factory_key });
        };
        // An entry point allows spaces around the colon.
        let normalized: String = spec.split(':').map(str::trim).collect::<Vec<_>>().join(":");
        if !known.contains(&normalized.as_str()) {
            return Err(ConfigError::Unresolvable { spec, section: section.to_string() });
        }
        let mut extras = Vec::new();
        for key in r.parser.options(section) {
            if key != factory_key {
                let value = r.get(section, key, &none)?.unwrap_or_default();
                extras.push((key.to_string(), value));
            }
        }
        out.push(RpcInterfaceConfig { name: name.to_string(), factory: normalized, extras });
    }
    Ok(out)
}

fn credentials(
    r: &SectionReader,
    section: &str,
) -> Result<(Option<String>, Option<String>), ConfigError> {
    let none = Expansions::new();
    let username = r.get(section, "username", &none)?;
    let password = r.get(section, "password", &none)?;
    if username.is_some() != password.is_some() {
        return Err(ConfigError::IncompleteAuth(section.to_string()));
    }
    Ok((username, password))
}

fn server_name(section: &str) -> Option<String> {
    section.split_once(':').map(|(_, name)| name.to_string())
}

/// Every HTTP server: all inet ones first, then all unix ones, each in section order.
pub(crate) fn http_servers(r: &SectionReader) -> Result<Vec<HttpServerConfig>, ConfigError> {
    let mut out = Vec::new();
    let none = Expansions::new();
    for section in r.parser.sections().into_iter().filter(|s| s.starts_with("inet_http_server")) {
        let (username, password) = credentials(r, section)?;
        let Some(port) = r.get(section, "port", &none)? else {
            return Err(ConfigError::NoPort(section.to_string()));
        };
        let (host, port) = inet_address(&port)?;
        out.push(HttpServerConfig {
            name: server_name(section),
            section: section.to_string(),
            address: ServerAddress::Inet { host, port },
            username,
            password,
        });
    }
    for section in r.parser.sections().into_iter().filter(|s| s.starts_with("unix_http_server")) {
        let Some(file) = r.get(section, "file", &r.here())? else {
            return Err(ConfigError::NoFile(section.to_string()));
        };
        let file = normalize_path(crate::python::strip(&file));
        let (username, password) = credentials(r, section)?;
        let chown = match r.get(section, "chown", &none)? {
            Some(v) => colon_separated_user_group(&v).map_err(|_| ConfigError::BadChown(v))?,
            None => (-1, -1),
        };
        let chmod = match r.get(section, "chmod", &none)? {
            Some(v) => octal_type(&v).map_err(|_| ConfigError::BadChmod(v))?,
            None => 0o700,
        };
        out.push(HttpServerConfig {
            name: server_name(section),
            section: section.to_string(),
            address: ServerAddress::Unix { file, chmod, chown },
            username,
            password,
        });
    }
    Ok(out)
}
