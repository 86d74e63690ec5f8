//! `Supervisor`: the process table and supervisord's mood, with supervisor's group-level rules
//! (adding and removing groups, transitioning every process in priority order, reaping, the
//! ordered two-phase shutdown, signal handling). Owned by the actor and nothing else.

use crate::config::{GroupKind, Logfile, ProcessConfig, ProcessGroupConfig, ServerOptions};
use crate::events::Event;
use crate::events::pool::EventPool;
use crate::logs::files::LogFile;
use crate::logs::mainlog::Logger;
use crate::process::fsm::{Effect, Process, ProcessOs};
use crate::process::io::{
    CaptureInbox, Captured, ChildIo, LogTarget, OutputOwner, create_auto_log,
};
use crate::process::spawn::{self, ChildSpec, SpawnedChild, decode_wait_status, signame};
use crate::process::state::{ProcessState, SupervisorState};
use nix::errno::Errno;
use std::collections::HashMap;
use std::sync::Arc;

/// Seconds since the epoch, as Python's `time.time()`: supervisor's timing rules are written
/// against the wall clock (and guard against it going backwards).
pub fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// One process: its state machine, where its output goes, and its pipes while it runs.
pub struct ProcessSlot {
    pub process: Process,
    /// Where stdout and stderr go, in that order.
    pub logs: [LogTarget; 2],
    pub io: Option<ChildIo>,
    /// An event listener's protocol state and the event in hand, made at each spawn.
    pub listener: Option<Listener>,
}

/// What supervisor keeps on an event listener `Subprocess`: `listener_state` (inside the
/// protocol) and `event`.
#[derive(Debug, Default)]
pub struct Listener {
    pub protocol: crate::events::listener::Protocol,
    pub event: Option<crate::events::pool::Queued>,
}

/// A process group as it is active now.
pub struct Group {
    pub config: Arc<ProcessGroupConfig>,
    /// In the config's order: priority, then name.
    pub processes: Vec<ProcessSlot>,
    /// The event buffer of an `[eventlistener:x]` pool.
    pub pool: Option<crate::events::pool::EventPool>,
    /// When it was added, for supervisor's dict order of active groups.
    pub added: u64,
    /// An `[fcgi-program:x]` group's listening socket, lent to the OS side at spawn.
    pub socket: Option<crate::process::fcgi::FcgiSocket>,
}

impl Group {
    /// Processes that are not in a stopped state.
    pub fn unstopped(&self) -> impl Iterator<Item = &ProcessSlot> {
        self.processes.iter().filter(|s| !s.process.state.is_stopped())
    }
}

/// The real OS behind the state machine: spawns with [`spawn::spawn`] and keeps the new child's
/// pipes for the table to pick up.
pub struct RealOs {
    /// supervisord's own environment, the base of every child's.
    environ: Vec<(String, String)>,
    serverurl: Option<String>,
    minfds: i64,
    /// The log targets of the process being worked on, lent by [`Supervisor::with_process`]
    /// for the duration of one state-machine call.
    targets: [LogTarget; 2],
    /// A child just spawned, with its log files, for the table to pick up.
    spawned: Option<(SpawnedChild, [Option<LogFile>; 2])>,
    /// The group's fcgi socket, lent like `targets`.
    fcgi: Option<crate::process::fcgi::FcgiSocket>,
    logger: Logger,
}

/// `make_dispatchers`' log files, opened before the fork as supervisor opens them: a file that
/// cannot be opened is a spawn error, reported with the errno's name.
fn open_child_logs(
    name: &str,
    targets: &[LogTarget; 2],
    redirect_stderr: bool,
) -> Result<[Option<LogFile>; 2], String> {
    let open = |target: &LogTarget| -> Result<Option<LogFile>, String> {
        let Some(path) = &target.path else { return Ok(None) };
        LogFile::open(path, target.maxbytes, target.backups).map(Some).map_err(|e| {
            let errno = e.raw_os_error().unwrap_or(0);
            let error = if errno == libc::EMFILE {
                spawn::SpawnError::TooManyOpenFiles(name.to_string())
            } else {
                spawn::SpawnError::Pipes { name: name.to_string(), errno: spawn::errno_name(errno) }
            };
            error.to_string()
        })
    };
    let stdout = open(&targets[0])?;
    let stderr = if redirect_stderr { None } else { open(&targets[1])? };
    Ok([stdout, stderr])
}

/// Where a command without a slash is looked for (`ProcessConfig.get_path`): the program's own
/// PATH, else supervisord's, else supervisor's fallback.
fn exec_path(environ: &[(String, String)], config: &ProcessConfig) -> String {
    let find =
        |env: &[(String, String)]| env.iter().find(|(k, _)| k == "PATH").map(|(_, v)| v.clone());
    spawn::search_path(find(&config.environment).as_deref(), find(environ).as_deref()).to_string()
}

impl ProcessOs for RealOs {
    fn spawn(&mut self, process: &Process) -> Result<i32, String> {
        let config = &process.config;
        let exec = spawn::get_execv_args(&config.command, &exec_path(&self.environ, config))
            .map_err(|e| e.to_string())?;
        let logs = open_child_logs(&config.name, &self.targets, config.redirect_stderr)?;
        let stdin_socket = match &mut self.fcgi {
            Some(socket) => Some(socket.fd(&self.logger)?),
            None => None,
        };
        let spec = ChildSpec {
            name: config.name.clone(),
            exec,
            env: child_environment(&self.environ, self.serverurl.as_deref(), process),
            directory: config.directory.clone(),
            umask: config.umask,
            uid: config.uid,
            redirect_stderr: config.redirect_stderr,
            stdin_socket,
            minfds: self.minfds,
        };
        let child = spawn::spawn(&spec).map_err(|e| e.to_string())?;
        let pid = child.pid.as_raw();
        self.spawned = Some((child, logs));
        Ok(pid)
    }

    fn kill(&mut self, pid: i32, signal: i32) -> Result<(), Errno> {
        let sig = nix::sys::signal::Signal::try_from(signal)?;
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), sig)
    }
}

/// `_spawn_as_child`'s environment: supervisord's, then the SUPERVISOR_* variables, then the
/// configured environment, which may override them (GOT-31).
pub fn child_environment(
    base: &[(String, String)],
    serverurl: Option<&str>,
    process: &Process,
) -> Vec<(String, String)> {
    let mut env = base.to_vec();
    let mut set = |k: &str, v: &str| {
        crate::config::process::update_environment(&mut env, &[(k.to_string(), v.to_string())])
    };
    set("SUPERVISOR_ENABLED", "1");
    if let Some(url) = process.config.serverurl.as_deref().or(serverurl).filter(|u| !u.is_empty()) {
        set("SUPERVISOR_SERVER_URL", url);
    }
    set("SUPERVISOR_PROCESS_NAME", &process.config.name);
    set("SUPERVISOR_GROUP_NAME", &process.group);
    crate::config::process::update_environment(&mut env, &process.config.environment);
    env
}

/// Published log file paths: namespec -> [stdout, stderr].
pub type LogfileMap = Arc<std::sync::Mutex<HashMap<String, [Option<String>; 2]>>>;

pub struct Supervisor {
    pub options: Arc<ServerOptions>,
    pub logger: Logger,
    pub mood: SupervisorState,
    /// Active groups, sorted by priority then name.
    pub groups: Vec<Group>,
    /// Running children by pid: (group, process).
    pids: HashMap<i32, (String, String)>,
    stopping: bool,
    /// Groups still to stop during shutdown, lowest priority first (stopped from the end).
    stop_groups: Vec<String>,
    lastshutdownreport: f64,
    os: RealOs,
    /// Each active process's log files by namespec, published for the `/logtail` routes,
    /// which answer without going through the actor.
    pub logfiles: LogfileMap,
    /// Bumped by the actor after anything that may have changed the table (every write job
    /// and every loop iteration); equal generations mean an unchanged table, which lets a
    /// reply computed from it be reused.
    pub generation: u64,
    /// Subscriptions, serials and ticks (see `process::notify`).
    pub(crate) events: crate::process::notify::EventBus,
    /// Where capture tasks send output events and listener protocol bytes...
    pub(crate) inbox_tx: CaptureInbox,
    /// ...and where the table takes them from.
    pub inbox: tokio::sync::mpsc::UnboundedReceiver<Captured>,
    /// Reads the configuration again from the same command line (`reloadConfig`).
    pub reread: Option<Reread>,
    groups_added: u64,
}

/// How the table reads its configuration again: the daemon's own `realize`.
pub type Reread = Arc<dyn Fn() -> Result<ServerOptions, crate::config::ConfigError> + Send + Sync>;

/// `reloadConfig`'s answer: group names added, changed and removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigDiff {
    pub added: Vec<String>,
    pub changed: Vec<String>,
    pub removed: Vec<String>,
}

impl Supervisor {
    pub fn new(
        options: Arc<ServerOptions>,
        logger: Logger,
        environ: Vec<(String, String)>,
    ) -> Supervisor {
        let (inbox_tx, inbox) = tokio::sync::mpsc::unbounded_channel();
        let os = RealOs {
            environ,
            serverurl: options.serverurl.clone(),
            minfds: options.minfds,
            targets: Default::default(),
            spawned: None,
            fcgi: None,
            logger: logger.clone(),
        };
        Supervisor {
            options,
            logger,
            mood: SupervisorState::Running,
            groups: Vec::new(),
            pids: HashMap::new(),
            stopping: false,
            stop_groups: Vec::new(),
            lastshutdownreport: 0.0,
            os,
            logfiles: LogfileMap::default(),
            generation: 0,
            events: Default::default(),
            inbox_tx,
            inbox,
            reread: None,
            groups_added: 0,
        }
    }

    fn log_target(&self, config: &ProcessConfig, channel: &'static str) -> LogTarget {
        let c = if channel == "stdout" { &config.stdout } else { &config.stderr };
        let path = match &c.logfile {
            Logfile::None => None,
            Logfile::Path(p) => Some(p.clone()),
            Logfile::Auto => {
                match create_auto_log(
                    &self.options.childlogdir,
                    &config.name,
                    channel,
                    &self.options.identifier,
                ) {
                    Ok(p) => Some(p),
                    Err(e) => {
                        self.logger
                            .error(&format!("could not create AUTO log for {}: {e}", config.name));
                        None
                    }
                }
            }
        };
        LogTarget {
            path,
            maxbytes: c.logfile_maxbytes,
            backups: c.logfile_backups,
            syslog: c.syslog,
            capture_maxbytes: c.capture_maxbytes,
            events_enabled: c.events_enabled,
        }
    }

    /// `add_process_group`: false if a group of that name is already active. AUTO log files are
    /// created now, empty (GOT-19).
    pub fn add_process_group(&mut self, config: Arc<ProcessGroupConfig>) -> bool {
        if self.groups.iter().any(|g| g.config.name == config.name) {
            return false;
        }
        let processes = config
            .processes
            .iter()
            .map(|pc| {
                let pc = Arc::clone(pc);
                ProcessSlot {
                    logs: [self.log_target(&pc, "stdout"), self.log_target(&pc, "stderr")],
                    process: Process::new(pc, &config.name),
                    io: None,
                    listener: None,
                }
            })
            .collect();
        let pool = match &config.kind {
            GroupKind::EventListenerPool(pool) => {
                self.events.subscribe(&config.name, &pool.events);
                Some(EventPool::new(&config.name, pool.buffer_size))
            }
            _ => None,
        };
        let socket = match &config.kind {
            GroupKind::FastCgi(socket) => {
                let mut socket = crate::process::fcgi::FcgiSocket::new(socket.clone());
                // Created now, as supervisor does to fail early; a failure is retried (and
                // reported as a spawn error) at each spawn.
                if let Err(message) = socket.fd(&self.logger) {
                    self.logger.error(&message);
                }
                Some(socket)
            }
            _ => None,
        };
        let name = config.name.clone();
        self.groups_added += 1;
        let group = Group { config, processes, pool, added: self.groups_added, socket };
        if let Ok(mut map) = self.logfiles.lock() {
            for slot in &group.processes {
                let name = crate::rpc::namespace::namespec(&group.config.name, slot.process.name());
                map.insert(name, [slot.logs[0].path.clone(), slot.logs[1].path.clone()]);
            }
        }
        let at = self.groups.partition_point(|g| {
            (g.config.priority, &g.config.name) <= (group.config.priority, &group.config.name)
        });
        self.groups.insert(at, group);
        self.notify(Event::process_group(true, &name));
        true
    }

    /// `reloadConfig`: reads the configuration again and reports what differs from the
    /// active groups (`diff_to_active`); nothing is started or stopped. As supervisor's
    /// `process_config` does on its live options object, the new `[supervisord]` values
    /// replace the old ones except those given on the command line, and the log and pid
    /// file paths come back as written, not made absolute (GOT-17).
    pub fn reload_config(&mut self) -> Result<ConfigDiff, crate::config::ConfigError> {
        let Some(reread) = self.reread.clone() else { return Ok(ConfigDiff::default()) };
        let mut new = reread()?;
        let c = &new.command_line;
        if c.logfile.is_none() {
            new.logfile = new.file.supervisord.logfile.clone();
        }
        if c.pidfile.is_none() {
            new.pidfile = new.file.supervisord.pidfile.clone();
        }
        // Resolved once at startup and not again: the user's ids, and the serverurl children
        // are told (supervisor's `realize` sets those, `process_config` does not).
        new.uid = self.options.uid;
        new.gid = self.options.gid;
        new.serverurl = self.options.serverurl.clone();
        self.options = Arc::new(new);
        Ok(self.diff_to_active())
    }

    /// `diff_to_active`: new groups in config order, changed ones in config order, removed
    /// ones in the order they were added.
    pub fn diff_to_active(&self) -> ConfigDiff {
        let new = &self.options.file.groups;
        let mut active: Vec<&Group> = self.groups.iter().collect();
        active.sort_by_key(|g| g.added);
        let find = |name: &str| active.iter().find(|g| g.config.name == name);
        ConfigDiff {
            added: new.iter().filter(|g| find(&g.name).is_none()).map(|g| g.name.clone()).collect(),
            changed: new
                .iter()
                .filter(|g| find(&g.name).is_some_and(|a| !g.same_as(&a.config)))
                .map(|g| g.name.clone())
                .collect(),
            removed: active
                .iter()
                .filter(|a| !new.iter().any(|g| g.name == a.config.name))
                .map(|a| a.config.name.clone())
                .collect(),
        }
    }

    /// `remove_process_group`: only when none of its processes is running.
    pub fn remove_process_group(&mut self, name: &str) -> bool {
        let Some(i) = self.groups.iter().position(|g| g.config.name == name) else {
            return false;
        };
        if self.groups[i].unstopped().next().is_some() {
            return false;
        }
        let mut group = self.groups.remove(i);
        if let Some(socket) = &mut group.socket {
            socket.close(&self.logger);
        }
        if let Ok(mut map) = self.logfiles.lock() {
            for slot in &group.processes {
                map.remove(&crate::rpc::namespace::namespec(
                    &group.config.name,
                    slot.process.name(),
                ));
            }
        }
        self.events.unsubscribe(name);
        self.notify(Event::process_group(false, name));
        true
    }

    /// The PATH a process's command is resolved against.
    pub fn exec_path(&self, config: &ProcessConfig) -> String {
        exec_path(&self.os.environ, config)
    }

    /// The group and process indexes of the child running as `pid`.
    pub fn slot_of_pid(&self, pid: i32) -> Option<(usize, usize)> {
        let (group, name) = self.pids.get(&pid)?;
        let g = self.group_index(group)?;
        Some((g, self.process_index(g, name)?))
    }

    pub fn group_index(&self, name: &str) -> Option<usize> {
        self.groups.iter().position(|g| g.config.name == name)
    }

    pub fn process_index(&self, group: usize, name: &str) -> Option<usize> {
        self.groups[group].processes.iter().position(|s| s.process.config.name == name)
    }

    /// Runs one state-machine call on a process and applies what it asks for: log lines, state
    /// change notifications, and the pipes of a child it spawned.
    pub fn with_process<R>(
        &mut self,
        group: usize,
        index: usize,
        f: impl FnOnce(&mut Process, &mut dyn ProcessOs, &mut Vec<Effect>) -> R,
    ) -> R {
        let mut fx = Vec::new();
        let result = {
            let g = &mut self.groups[group];
            let slot = &mut g.processes[index];
            std::mem::swap(&mut self.os.targets, &mut slot.logs);
            std::mem::swap(&mut self.os.fcgi, &mut g.socket);
            let result = f(&mut slot.process, &mut self.os, &mut fx);
            std::mem::swap(&mut self.os.fcgi, &mut g.socket);
            std::mem::swap(&mut self.os.targets, &mut slot.logs);
            result
        };
        if let Some((child, files)) = self.os.spawned.take() {
            self.attach(group, index, child, files);
        }
        self.apply(group, index, fx);
        result
    }

    fn attach(
        &mut self,
        group: usize,
        index: usize,
        child: SpawnedChild,
        files: [Option<LogFile>; 2],
    ) {
        let pid = child.pid.as_raw();
        let group_name = self.groups[group].config.name.clone();
        let listener = self.groups[group].pool.is_some();
        let slot = &mut self.groups[group].processes[index];
        let name = slot.process.config.name.clone();
        if listener {
            slot.listener = Some(Listener::default());
        }
        let owner = OutputOwner {
            name: &name,
            group: &group_name,
            pid,
            strip_ansi: self.options.strip_ansi,
            listener,
            events: Some(&self.inbox_tx),
        };
        match ChildIo::start(
            &owner,
            child.stdin,
            child.stdout,
            child.stderr,
            &slot.logs,
            files,
            &self.logger,
        ) {
            Ok(io) => slot.io = Some(io),
            Err(e) => self.logger.error(&format!("could not watch the pipes of '{name}': {e}")),
        }
        self.pids.insert(pid, (group_name, name));
    }

    fn apply(&mut self, group: usize, index: usize, fx: Vec<Effect>) {
        for effect in fx {
            match effect {
                Effect::Log(level, message) => self.logger.log(level, &message),
                Effect::StateChange(change) => {
                    let event = Event::process_state(
                        change.to,
                        self.groups[group].processes[index].process.name(),
                        &self.groups[group].config.name,
                        change.from,
                        change.tries,
                        change.expected,
                        change.pid,
                    );
                    self.notify(event);
                }
            }
        }
    }

    /// Every group's `transition()`, in priority order; a pool then dispatches its buffer.
    pub fn transition_all(&mut self, now: f64) {
        let mood = self.mood;
        for g in 0..self.groups.len() {
            for p in 0..self.groups[g].processes.len() {
                self.with_process(g, p, |proc, os, fx| proc.transition(now, mood, os, fx));
            }
            if self.groups[g].pool.is_some() {
                self.dispatch(g);
            }
        }
    }

    /// The earliest time at which any process would act on its own.
    pub fn next_deadline(&self) -> Option<f64> {
        self.groups
            .iter()
            .flat_map(|g| g.processes.iter())
            .filter_map(|s| s.process.next_deadline(self.mood))
            .chain(self.events.next_tick())
            .min_by(f64::total_cmp)
    }

    /// `reap`: collect every exited child (`waitpid(-1, WNOHANG)` until none is left), finishing
    /// ours and logging orphans, which is what makes us safe as PID 1.
    pub fn reap(&mut self) {
        loop {
            let mut status = 0;
            // libc rather than nix: nix refuses (after reaping) statuses of signals it has no
            // name for, such as real-time signals.
            // SAFETY: waitpid only writes the status through the valid pointer given.
            let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
            if pid <= 0 {
                return;
            }
            let (exitstatus, message) = decode_wait_status(status);
            match self.pids.remove(&pid) {
                None => self.logger.info(&format!("reaped unknown pid {pid} ({message})")),
                Some((group, name)) => {
                    let Some(g) = self.group_index(&group) else { continue };
                    let Some(p) = self.process_index(g, &name) else { continue };
                    if let Some(io) = &self.groups[g].processes[p].io {
                        io.drain(&self.logger);
                    }
                    // What the drain (or earlier reads) sent, a listener's last words included,
                    // is handled before the exit, as supervisor reads before it reaps.
                    self.take_captured();
                    let now = now();
                    self.with_process(g, p, |proc, _, fx| {
                        proc.finish(exitstatus, &message, now, fx)
                    });
                    self.groups[g].processes[p].io = None;
                    // A listener that dies with an event in hand rejects it.
                    if let Some(event) =
                        self.groups[g].processes[p].listener.as_mut().and_then(|l| l.event.take())
                    {
                        self.reject(g, p, event);
                    }
                }
            }
        }
    }

    /// `handle_signal` for the signals supervisord installs handlers for.
    pub fn handle_signal(&mut self, sig: i32) {
        let name = signame(sig);
        match sig {
            libc::SIGTERM | libc::SIGINT | libc::SIGQUIT => {
                self.logger.warn(&format!("received {name} indicating exit request"));
                self.mood = SupervisorState::Shutdown;
            }
            libc::SIGHUP => {
                if self.mood == SupervisorState::Shutdown {
                    self.logger.warn(&format!(
                        "ignored {name} indicating restart request (shutdown in progress)"
                    ));
                } else {
                    self.logger.warn(&format!("received {name} indicating restart request"));
                    self.mood = SupervisorState::Restarting;
                }
            }
            libc::SIGCHLD => self.logger.debug(&format!("received {name} indicating a child quit")),
            libc::SIGUSR2 => {
                self.logger.info(&format!("received {name} indicating log reopen request"));
                self.logger.reopen();
                for slot in self.groups.iter().flat_map(|g| g.processes.iter()) {
                    if let Some(io) = &slot.io {
                        io.reopen_logs(&self.logger);
                    }
                }
            }
            _ => self.logger.blather(&format!("received {name} indicating nothing")),
        }
    }

    /// Shutdown phase 1 (`ordered_stop_groups_phase_1` plus `shutdown_report`): stop the
    /// highest-priority-number group still running. Returns false once nothing is left running.
    pub fn shutdown_phase_1(&mut self, now: f64) -> bool {
        if !self.stopping {
            self.stopping = true;
            self.stop_groups = self.groups.iter().map(|g| g.config.name.clone()).collect();
            self.notify(Event::supervisor_state(false));
        }
        if let Some(name) = self.stop_groups.last().cloned()
            && let Some(g) = self.group_index(&name)
        {
            self.stop_all(g, now);
        }
        let unstopped: Vec<(String, ProcessState)> = self
            .groups
            .iter()
            .flat_map(|g| g.unstopped())
            .map(|s| (s.process.config.name.clone(), s.process.state))
            .collect();
        if unstopped.is_empty() {
            return false;
        }
        if now > self.lastshutdownreport + 3.0 {
            let names: Vec<&str> = unstopped.iter().map(|(n, _)| n.as_str()).collect();
            self.logger.info(&format!("waiting for {} to die", names.join(", ")));
            self.lastshutdownreport = now;
            for (name, state) in &unstopped {
                self.logger.blather(&format!("{name} state: {}", state.name()));
            }
        }
        true
    }

    /// Shutdown phase 2: move on from a group once all its processes have stopped.
    pub fn shutdown_phase_2(&mut self) {
        if let Some(name) = self.stop_groups.last()
            && self.group_index(name).is_none_or(|g| self.groups[g].unstopped().next().is_none())
        {
            self.stop_groups.pop();
        }
    }

    /// `ProcessGroup.stop_all`: highest priority number first; BACKOFF processes give up.
    pub fn stop_all(&mut self, g: usize, now: f64) {
        // Python sorts ascending by priority (stable) and reverses the list, so equal priorities
        // stop in reverse config order.
        let mut order: Vec<usize> = (0..self.groups[g].processes.len()).collect();
        order.sort_by_key(|&i| self.groups[g].processes[i].process.config.priority);
        order.reverse();
        for p in order {
            match self.groups[g].processes[p].process.state {
                ProcessState::Running | ProcessState::Starting => {
                    self.with_process(g, p, |proc, os, fx| proc.stop(now, os, fx));
                }
                ProcessState::Backoff => {
                    self.with_process(g, p, |proc, _, fx| proc.give_up(now, fx))
                }
                _ => {}
            }
        }
    }

    /// SIGUSR2-style log reopening for one process, `clearProcessLogs` for another; both only
    /// touch live log files.
    pub fn clear_process_logs(&mut self, g: usize, p: usize) -> std::io::Result<()> {
        match &self.groups[g].processes[p].io {
            Some(io) => io.clear_logs(),
            None => Ok(()),
        }
    }
}
