//! supervisor-rs: a drop-in replacement for Python supervisor 4.3.0, as one library and the
//! `supervisord`, `supervisorctl`, `echo_supervisord_conf` and `pidproxy` binaries.
//!
//! # Layout
//! - [`config`]: text in, typed configuration out, in two stages (the INI reader gives raw
//!   sections, then the typed loader gives [`config::ServerOptions`]). Reads the filesystem and
//!   the user database the way supervisor's own parser does, but never writes or spawns.
//! - [`process`]: the process table and its actor, the state machine, spawning and reaping,
//!   child output capture, events inside the table, fcgi sockets.
//! - [`events`]: event types, payloads, pool buffers and the listener protocol, without I/O.
//! - [`logs`]: log files (rotation, reads and tails), the capture dispatcher, the main log.
//! - [`rpc`]: the XML-RPC codec and the `supervisor.*`/`system.*` namespace.
//! - [`http`]: supervisor's HTTP surface (medusa's wire format, auth, logtail).
//! - [`web`]: the web interface (supervisor's views, actions and redirects; our live page).
//! - [`daemon`]: supervisord's startup, restart and shutdown sequence.
//! - [`ctl`]: the native `supervisorctl`; [`tools`]: `pidproxy` and `echo_supervisord_conf`;
//!   [`service`]: the systemd unit.
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
pub mod web;

/// The supervisor release whose behaviour this implementation reproduces; `supervisord -v`
/// prints it and `getSupervisorVersion` returns it.
pub const SUPERVISOR_VERSION: &str = "4.3.0";
