//! supervisor-rs: a drop-in replacement for Python supervisor 4.3.0, as one library and the
//! `supervisord`, `supervisorctl`, `echo_supervisord_conf` and `pidproxy` binaries.
//!
//! # Layout
//! - [`config`]: text in, typed configuration out, in two stages (the INI reader gives raw
//!   sections, then the typed loader gives [`config::ServerConfig`]). Reads the filesystem and
//!   the user database the way supervisor's own parser does, but never writes or spawns.
//! - [`getopt`]: Python's `getopt` as supervisor's command lines use it, with its error texts.
//! - [`python`]: Python text rules (`repr`, `isspace`) that user-visible messages depend on.

pub mod config;
pub mod ctl;
pub mod daemon;
pub mod events;
pub mod getopt;
pub mod http;
pub mod logs;
pub mod process;
pub mod python;
pub mod rpc;
pub mod service;
pub mod tools;

/// The supervisor release whose behaviour this implementation reproduces; `supervisord -v`
/// prints it and `getSupervisorVersion` returns it.
pub const SUPERVISOR_VERSION: &str = "4.3.0";
