//! `ConfigError`: every way loading a config can fail, each rendered with the exact text
//! supervisor 4.3.0 puts after `Error: ` (or in a `CANT_REREAD` fault).

use crate::config::datatypes::DatatypeError;
use crate::config::expand::ExpandError;
use crate::config::ini::IniError;
use crate::python::repr;

/// Why an `[fcgi-program:x] socket` value was refused. Python raises two of these with two
/// arguments, so their text is the repr of a tuple; that oddity is part of the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FcgiSocketError {
    #[error("('Unix socket path %s is not an absolute path', {})", repr(.0))]
    NotAbsolute(String),
    #[error("socket_owner and socket_mode params should only be used with a Unix domain socket")]
    OwnerOrModeWithTcp,
    #[error("('Bad socket format %s', {})", repr(.0))]
    BadFormat(String),
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    #[error(transparent)]
    Datatype(#[from] DatatypeError),
    #[error(transparent)]
    Expand(#[from] ExpandError),
    #[error(transparent)]
    Ini(#[from] IniError),
    /// Errors inside a `[program:x]`-like section carry where they came from.
    #[error("{error} in section {} (file: {})", repr(.section), repr(.file))]
    InSection { error: Box<ConfigError>, section: String, file: String },
    #[error("could not find config file {0}")]
    NotFound(String),
    #[error("could not read config file {0}")]
    Unreadable(String),
    /// A config file that is not UTF-8: Python's `UnicodeDecodeError` text.
    #[error(transparent)]
    Decode(#[from] crate::python::Utf8FileError),
    #[error(
        "No config file found at default paths ({0}); use the -c option to specify a config file at a different path"
    )]
    NoConfigFile(String),
    #[error(".ini file has [include] section, but no files setting")]
    IncludeWithoutFiles,
    #[error(".ini file does not include {0} section")]
    MissingSection(&'static str),
    #[error("section [{section}] does not specify a {key}")]
    NoFactory { section: String, key: &'static str },
    /// A Python entry point we cannot load: this is what Python says when it is not installed.
    #[error("{spec} cannot be resolved within [{section}]")]
    Unresolvable { spec: String, section: String },
    #[error("[{section}] names unknown program or fcgi-program {program}")]
    UnknownGroupMember { section: String, program: String },
    #[error("[{section}] name {program} is ambiguous (exists as program and fcgi-program)")]
    AmbiguousGroupMember { section: String, program: String },
    #[error("[{section}] section sets invalid buffer_size ({size})")]
    BadBufferSize { section: String, size: i64 },
    #[error("[{0}] section requires an \"events\" line")]
    NoEvents(String),
    #[error("Unknown event type {event} in [{section}] events")]
    UnknownEvent { event: String, section: String },
    #[error(
        "[{0}] section sets redirect_stderr=true but this is not allowed because it will interfere with the eventlistener protocol"
    )]
    ListenerRedirectsStderr(String),
    #[error("Invalid socket_backlog value {0}")]
    BadSocketBacklog(i64),
    #[error("Invalid socket_owner value {0}")]
    BadSocketOwner(String),
    #[error("Invalid socket_mode value {0}")]
    BadSocketMode(String),
    #[error("[{0}] section requires a \"socket\" line")]
    NoSocket(String),
    #[error("{error} in [{section}] socket")]
    FcgiSocket { error: FcgiSocketError, section: String },
    #[error("program section {0} does not specify a command")]
    NoCommand(String),
    #[error("%(process_num) must be present within process_name when numprocs > 1")]
    ProcessNumMissing,
    #[error("Cannot set stopasgroup=true and killasgroup=false")]
    StopAsGroupWithoutKill,
    #[error("section [{0}] has no port value")]
    NoPort(String),
    #[error("section [{0}] has no file value")]
    NoFile(String),
    #[error(
        "Section [{0}] contains incomplete authentication: If a username or a password is specified, both the username and password must be specified"
    )]
    IncompleteAuth(String),
    #[error("Invalid sockchown value {0}")]
    BadChown(String),
    #[error("Invalid chmod value {0}")]
    BadChmod(String),
    /// Command-line errors, worded as Python's `Options.realize`.
    #[error("{0}")]
    Getopt(#[from] crate::getopt::GetoptError),
    #[error("positional arguments are not supported: {}", crate::python::repr_list(.0))]
    PositionalArguments(Vec<String>),
    #[error("invalid value for {opt} {}: {error}", repr(.value))]
    InvalidOptionValue { opt: String, value: String, error: DatatypeError },
    #[error("conflicting command line option {}", repr(.0))]
    ConflictingOption(String),
}

impl ConfigError {
    pub(crate) fn in_section(self, section: &str, file: &str) -> ConfigError {
        ConfigError::InSection {
            error: Box::new(self),
            section: section.to_string(),
            file: file.to_string(),
        }
    }
}
