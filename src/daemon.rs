//! supervisord's life, in supervisor's order (`supervisord.main`, `Supervisor.main/run`): drop
//! privileges, raise rlimits, open the main log, clean old AUTO logs, add the groups, open the
//! HTTP servers, daemonize, write the pidfile, run the actor until shutdown, clean up; and, on
//! SIGHUP or `restart`, do it all again from the same command line in the same process.

use crate::config::{ConfigError, Environ, ServerOptions};
use crate::http::{Backend, BoxFuture, HttpServers, RpcOutcome};
use crate::logs::mainlog::Logger;
use crate::process::actor::{Actor, SupervisorHandle};
use crate::process::io::clear_auto_logs;
use crate::process::state::SupervisorState;
use crate::process::supervisor::LogfileMap;
use crate::process::supervisor::Supervisor;
use crate::rpc::Outcome;
use std::sync::Arc;

/// Why supervisord stopped before running: the text Python passes to `usage()` (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("{0}")]
    Usage(String),
    #[error("could not start the event loop: {0}")]
    Runtime(std::io::Error),
}

const ROOT_WARNING: &str = "Supervisor is running as root.  Privileges were not dropped because no user is specified in the config file.  If you intend to run as root, you can set user=root in the config file to avoid this message.";

/// Messages gathered before the main log exists, logged as soon as it does (`make_logger`).
#[derive(Default)]
struct ParseMessages {
    criticals: Vec<String>,
    warnings: Vec<String>,
    infos: Vec<String>,
}

/// `set_uid_or_exit`: drop to the configured user, or note that we stay root.
fn set_uid(options: &ServerOptions, messages: &mut ParseMessages) -> Result<(), StartupError> {
    match options.uid {
        None => {
            if nix::unistd::getuid().is_root() {
                messages.criticals.push(ROOT_WARNING.to_string());
            }
        }
        Some(uid) => match crate::process::spawn::drop_privileges(uid) {
            Some(why) => return Err(StartupError::Usage(why)),
            None => messages.infos.push(format!("Set uid to user {uid} succeeded")),
        },
    }
    Ok(())
}

/// `set_rlimits_or_exit`: raise the soft limits to `minfds`/`minprocs`, the hard ones too when
/// needed (only root can), or stop with supervisor's explanation.
fn set_rlimits(options: &ServerOptions, messages: &mut ParseMessages) -> Result<(), StartupError> {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let limits = [
        (
            Resource::RLIMIT_NOFILE,
            "RLIMIT_NOFILE",
            options.minfds,
            "The minimum number of file descriptors required to run this process is {min} as per the \"minfds\" command-line argument or config file setting. The current environment will only allow you to open {hard} file descriptors.  Either raise the number of usable file descriptors in your environment (see README.rst) or lower the minfds setting in the config file to allow the process to start.",
        ),
        (
            Resource::RLIMIT_NPROC,
            "RLIMIT_NPROC",
            options.minprocs,
            "The minimum number of available processes required to run this program is {min} as per the \"minprocs\" command-line argument or config file setting. The current environment will only allow you to open {hard} processes.  Either raise the number of usable processes in your environment (see README.rst) or lower the minprocs setting in the config file to allow the program to start.",
        ),
    ];
    for (resource, name, min, message) in limits {
        let Ok((soft, hard)) = getrlimit(resource) else { continue };
        let unlimited = libc::RLIM_INFINITY;
        let min_u = u64::try_from(min.max(0)).unwrap_or(0);
        if soft != unlimited && soft < min_u {
            let hard = if hard != unlimited && hard < min_u { min_u } else { hard };
            match setrlimit(resource, min_u, hard) {
                Ok(()) => messages.infos.push(format!("Increased {name} limit to {min}")),
                Err(_) => {
                    let shown = if hard == unlimited { "-1".to_string() } else { hard.to_string() };
                    return Err(StartupError::Usage(
                        message.replace("{min}", &min.to_string()).replace("{hard}", &shown),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// `make_logger`: stdout echo in the foreground, then the file (or syslog), then the messages
/// gathered so far: criticals, warnings, infos.
fn make_logger(options: &ServerOptions, messages: &ParseMessages) -> Logger {
    let logger = Logger::new(options.loglevel);
    if options.nodaemon && !options.silent {
        logger.add_stdout();
    }
    if options.logfile == "syslog" {
        logger.add_syslog();
    } else if let Err(e) =
        logger.add_file(&options.logfile, options.logfile_maxbytes, options.logfile_backups)
    {
        logger.critical(&format!("could not open log file {}: {e}", options.logfile));
    }
    for m in &messages.criticals {
        logger.critical(m);
    }
    for m in options.file.warnings.iter().chain(&messages.warnings) {
        logger.warn(m);
    }
    for m in options.file.infos.iter().chain(&messages.infos) {
        logger.info(m);
    }
    logger
}

/// `_daemonize`: one fork (the parent exits at once), then in the child: chdir, stdio to
/// /dev/null, a new session, the umask. Runs before the tokio runtime exists.
fn daemonize(options: &ServerOptions, logger: &Logger) {
    use nix::unistd::{ForkResult, fork};
    // SAFETY: no other thread exists yet (the runtime is built after this), so the child may
    // continue normally.
    match unsafe { fork() } {
        Ok(ForkResult::Parent { .. }) => {
            logger.blather("supervisord forked; parent exiting");
            // SAFETY: _exit skips atexit handlers and buffers, as Python's os._exit does.
            unsafe { libc::_exit(0) };
        }
        Ok(ForkResult::Child) => {}
        Err(e) => {
            logger.critical(&format!("could not fork to daemonize: {e}"));
            return;
        }
    }
    logger.info("daemonizing the supervisord process");
    if let Some(dir) = &options.directory {
        match std::env::set_current_dir(dir) {
            Ok(()) => logger.info(&format!("set current directory: {}", crate::python::repr(dir))),
            Err(e) => {
                logger.critical(&format!("can't chdir into {}: {e}", crate::python::repr(dir)))
            }
        }
    }
    if let Ok(null) = std::fs::OpenOptions::new().read(true).write(true).open("/dev/null") {
        use std::os::fd::AsRawFd;
        for fd in 0..3 {
            // SAFETY: dup2 onto the standard descriptors, which nothing else owns.
            unsafe { libc::dup2(null.as_raw_fd(), fd) };
        }
    }
    let _ = nix::unistd::setsid();
    let mask = nix::sys::stat::Mode::from_bits_truncate((options.umask & 0o7777) as libc::mode_t);
    nix::sys::stat::umask(mask);
}

/// `openhttpservers`: bind every server and log what supervisor logs while making them. The
/// standard rpcinterface factory takes no settings, so extra keys (e.g. inherited from
/// `[DEFAULT]`) make it fail as Python's does.
fn open_http_servers(
    options: &ServerOptions,
    logger: &Logger,
) -> Result<HttpServers, StartupError> {
    let servers =
        HttpServers::bind(&options.file.servers).map_err(|e| StartupError::Usage(e.to_string()))?;
    if !options.file.servers.is_empty()
        && let Some(bad) = options.file.rpcinterfaces.iter().find(|r| !r.extras.is_empty())
    {
        let keys: Vec<&str> = bad.extras.iter().map(|(k, _)| k.as_str()).collect();
        logger.warn(&format!(
            "make_main_rpcinterface() got unexpected keyword arguments: {}",
            keys.join(", ")
        ));
        servers.close();
        return Err(StartupError::Usage(format!("Could not make {} rpc interface", bad.name)));
    }
    let names: Vec<&str> = options.file.rpcinterfaces.iter().map(|r| r.name.as_str()).collect();
    for (level, line) in servers.startup_log(&names) {
        logger.log(level, &line);
    }
    Ok(servers)
}

/// The daemon seen from the HTTP layer: XML-RPC through the actor, log paths from the table's
/// published map.
struct DaemonBackend {
    handle: SupervisorHandle,
    replies: Arc<crate::rpc::ReplyCache>,
    logger: Logger,
    logfiles: LogfileMap,
    mainlog: String,
}

impl Backend for DaemonBackend {
    fn xmlrpc(&self, body: bytes::Bytes) -> BoxFuture<RpcOutcome> {
        let (handle, logger) = (self.handle.clone(), self.logger.clone());
        let replies = Arc::clone(&self.replies);
        Box::pin(async move {
            match crate::rpc::handle_request(&handle, &replies, &body, &logger).await {
                Outcome::Xml(xml) => RpcOutcome::Xml(xml),
                Outcome::BadRequest => RpcOutcome::BadRequest,
                Outcome::ServerError => RpcOutcome::ServerError,
            }
        })
    }

    fn web(
        &self,
        request: crate::web::WebRequest,
    ) -> Option<BoxFuture<http::Response<crate::http::Body>>> {
        let rpc = Arc::new(WebCalls { handle: self.handle.clone() });
        crate::web::respond(rpc, request)
    }

    fn process_logfile(&self, namespec: &str, channel: &str) -> Option<String> {
        let map = self.logfiles.lock().ok()?;
        let [stdout, stderr] = map.get(namespec)?;
        let path = if channel == "stderr" { stderr } else { stdout };
        path.clone().filter(|p| std::path::Path::new(p).exists())
    }

    fn main_logfile(&self) -> Option<String> {
        Some(self.mainlog.clone()).filter(|p| std::path::Path::new(p).exists())
    }

    fn log(&self, level: crate::config::datatypes::LogLevel, message: &str) {
        self.logger.log(level, message);
    }

    fn log_enabled(&self, level: crate::config::datatypes::LogLevel) -> bool {
        self.logger.enabled(level)
    }
}

/// The web UI's calls, through the same methods `/RPC2` runs.
struct WebCalls {
    handle: SupervisorHandle,
}

impl crate::web::WebRpc for WebCalls {
    fn call(
        &self,
        method: &str,
        params: Vec<crate::rpc::xmlrpc::Value>,
    ) -> BoxFuture<Result<crate::rpc::xmlrpc::Value, crate::rpc::faults::Fault>> {
        let (handle, method) = (self.handle.clone(), method.to_string());
        Box::pin(async move {
            let answer = if method == "system.multicall" {
                crate::rpc::multicall(&handle, params).await
            } else {
                crate::rpc::call_one(&handle, method, params).await
            };
            answer.map(crate::rpc::xmlrpc::unmarshal)
        })
    }
}

/// Keeps reply-sized buffers (a `getAllProcessInfo` of 1,000 processes is about 1 MiB) in the
/// heap: by default glibc maps each one above 128 KiB freshly and unmaps it on free, so every
/// such request paid for page faults and zeroed pages, which cost more than building the reply.
fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only adjusts allocator parameters; called before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 4 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 8 << 20);
    }
}

/// `write_pidfile`; returns whether the file is ours to remove at exit.
fn write_pidfile(options: &ServerOptions, logger: &Logger) -> bool {
    let pid = std::process::id();
    match std::fs::write(&options.pidfile, format!("{pid}\n")) {
        Ok(()) => {
            logger.info(&format!("supervisord started with pid {pid}"));
            true
        }
        Err(_) => {
            logger.critical(&format!("could not write pidfile {}", options.pidfile));
            false
        }
    }
}

/// Runs supervisord until it shuts down. `realize` re-reads the config from the same command
/// line for every (re)start, as supervisor builds a new options object each time.
pub fn run(
    realize: impl Fn() -> Result<ServerOptions, ConfigError> + Send + Sync + 'static,
) -> Result<(), StartupError> {
    tune_allocator();
    let realize: crate::process::supervisor::Reread = Arc::new(realize);
    let mut first = true;
    loop {
        let options = Arc::new(realize()?);
        let mut messages = ParseMessages::default();
        set_uid(&options, &mut messages)?;
        if first {
            set_rlimits(&options, &mut messages)?;
        }
        let logger = make_logger(&options, &messages);
        if !options.nocleanup {
            clear_auto_logs(&options.childlogdir, &options.identifier, &logger);
        }
        let environ = Environ::from_process().vars;
        let mut supervisor = Supervisor::new(Arc::clone(&options), logger.clone(), environ);
        supervisor.reread = Some(Arc::clone(&realize));
        for group in &options.file.groups {
            supervisor.add_process_group(Arc::clone(group));
        }
        let servers = open_http_servers(&options, &logger)?;
        if !options.nodaemon && first {
            daemonize(&options, &logger);
        }
        let owns_pidfile = write_pidfile(&options, &logger);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(StartupError::Runtime)?;
        let logfiles = Arc::clone(&supervisor.logfiles);
        let mood = runtime.block_on(async {
            let (actor, handle) = Actor::new(supervisor);
            let backend = DaemonBackend {
                handle,
                replies: Arc::default(),
                logger: logger.clone(),
                logfiles,
                mainlog: options.logfile.clone(),
            };
            let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
            let serving = tokio::spawn(servers.serve(Arc::new(backend), stop_rx));
            // A task of its own rather than the `block_on` future: waking that future from a
            // connection task writes to the runtime's eventfd, one syscall per request.
            let result = match tokio::spawn(actor.run()).await {
                Ok(result) => result,
                // As if it had run inline: a panic stays a panic.
                Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                Err(e) => Err(std::io::Error::other(e)),
            };
            let _ = stop_tx.send(true);
            let _ = serving.await;
            result
        });
        servers.close();
        if owns_pidfile {
            let _ = std::fs::remove_file(&options.pidfile);
        }
        drop(runtime);
        let mood = match mood {
            Ok(mood) => mood,
            Err(e) => {
                logger.critical(&format!("could not install signal handlers: {e}"));
                SupervisorState::Shutdown
            }
        };
        logger.close();
        first = false;
        if mood < SupervisorState::Restarting {
            return Ok(());
        }
    }
}
