//! Typed `[program:x]`, `[group:x]`, `[eventlistener:x]` and `[fcgi-program:x]` sections: the
//! process group configs supervisord runs, with `numprocs` expanded into one `ProcessConfig` per
//! process (supervisor's `process_groups_from_parser` and `_processes_from_section`).

use crate::config::ConfigError;
use crate::config::datatypes::{
    self, AutoRestart, LogfileName, auto_restart, boolean, byte_size, colon_separated_user_group,
    dict_of_key_value_pairs, integer, list_of_exitcodes, list_of_strings, logfile_name,
    name_to_uid, octal_type, process_or_group_name, signal_number,
};
use crate::config::error::FcgiSocketError;
use crate::config::expand::{ExpansionValue, Expansions, expand};
use crate::config::reader::SectionReader;

/// An environment as supervisor keeps it: a dict, so insertion order is kept and a repeated key
/// replaces the earlier value in place.
pub type Environment = Vec<(String, String)>;

/// `dict.update` on an [`Environment`].
pub fn update_environment(env: &mut Environment, other: &[(String, String)]) {
    for (k, v) in other {
        match env.iter_mut().find(|(key, _)| key == k) {
            Some(slot) => slot.1 = v.clone(),
            None => env.push((k.clone(), v.clone())),
        }
    }
}

/// Where one output channel of a process is logged, after the deprecated `syslog` file name has
/// been turned into `*_syslog=true`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Logfile {
    None,
    /// `AUTO`: a file in `childlogdir` named when the group is added.
    Auto,
    Path(String),
}

/// The six per-channel options (`stdout_*` or `stderr_*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelConfig {
    pub logfile: Logfile,
    pub logfile_maxbytes: i64,
    pub logfile_backups: i64,
    pub capture_maxbytes: i64,
    pub events_enabled: bool,
    pub syslog: bool,
}

/// One process of a group, as supervisor's `ProcessConfig`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessConfig {
    pub name: String,
    pub command: String,
    pub directory: Option<String>,
    pub umask: Option<i64>,
    pub priority: i64,
    pub autostart: bool,
    pub autorestart: AutoRestart,
    pub startsecs: i64,
    pub startretries: i64,
    pub uid: Option<u32>,
    pub stdout: ChannelConfig,
    pub stderr: ChannelConfig,
    pub stopsignal: i32,
    pub stopwaitsecs: i64,
    pub stopasgroup: bool,
    pub killasgroup: bool,
    pub exitcodes: Vec<i64>,
    pub redirect_stderr: bool,
    /// The `[supervisord] environment` merged under the program's own `environment`.
    pub environment: Environment,
    pub serverurl: Option<String>,
}

/// The socket an `[fcgi-program:x]` group shares among its processes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FcgiSocketConfig {
    Unix { path: String, mode: i64, owner: Option<(i64, i64)>, backlog: Option<i64> },
    Tcp { host: String, port: u16, backlog: Option<i64> },
}

impl FcgiSocketConfig {
    /// The socket's url as supervisor prints it (`unix:///path`, `tcp://host:port`).
    pub fn url(&self) -> String {
        match self {
            FcgiSocketConfig::Unix { path, .. } => format!("unix://{path}"),
            FcgiSocketConfig::Tcp { host, port, .. } => format!("tcp://{host}:{port}"),
        }
    }
}

/// An `[eventlistener:x]` pool's own settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolConfig {
    pub buffer_size: i64,
    /// Subscribed event type names, upper-cased and without duplicates, in first-seen order.
    pub events: Vec<String>,
    pub result_handler: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupKind {
    /// `[program:x]` (a homogeneous group) or `[group:x]`.
    Program,
    EventListenerPool(PoolConfig),
    FastCgi(FcgiSocketConfig),
}

/// A process group: what `supervisorctl` names `group:*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessGroupConfig {
    pub name: String,
    pub priority: i64,
    pub kind: GroupKind,
    pub processes: Vec<std::sync::Arc<ProcessConfig>>,
}

impl ChannelConfig {
    /// `ProcessConfig.__eq__` for one channel's parameters, `self` being the reread config and
    /// `other` the active one. supervisor skips `Automatic` values, but an active group's AUTO
    /// logs were replaced by their real temporary names when it was added
    /// (`create_autochildlogs`): so a new AUTO is never a change, while an active AUTO compares
    /// as that temporary name, unequal to any path or NONE a config would name.
    fn same_as(&self, other: &ChannelConfig) -> bool {
        let logfile_equal = match (&self.logfile, &other.logfile) {
            (Logfile::Auto, _) => true,
            (_, Logfile::Auto) => false,
            (new, active) => new == active,
        };
        logfile_equal
            && self.logfile_maxbytes == other.logfile_maxbytes
            && self.logfile_backups == other.logfile_backups
            && self.capture_maxbytes == other.capture_maxbytes
            && self.events_enabled == other.events_enabled
            && self.syslog == other.syslog
    }
}

impl ProcessConfig {
    /// `ProcessConfig.__eq__` of the reread config `self` against the active `other`: every
    /// parameter, the environment compared as a dict (order does not matter), AUTO logfiles as
    /// `ChannelConfig::same_as` explains.
    pub fn same_as(&self, other: &ProcessConfig) -> bool {
        let env_equal = self.environment.len() == other.environment.len()
            && self.environment.iter().all(|kv| other.environment.contains(kv));
        self.name == other.name
            && self.command == other.command
            && self.directory == other.directory
            && self.umask == other.umask
            && self.priority == other.priority
            && self.autostart == other.autostart
            && self.autorestart == other.autorestart
            && self.startsecs == other.startsecs
            && self.startretries == other.startretries
            && self.uid == other.uid
            && self.stdout.same_as(&other.stdout)
            && self.stderr.same_as(&other.stderr)
            && self.stopsignal == other.stopsignal
            && self.stopwaitsecs == other.stopwaitsecs
            && self.stopasgroup == other.stopasgroup
            && self.killasgroup == other.killasgroup
            && self.exitcodes == other.exitcodes
            && self.redirect_stderr == other.redirect_stderr
            && env_equal
            && self.serverurl == other.serverurl
    }
}

impl ProcessGroupConfig {
    /// Whether a reread leaves this group unchanged, as `cand != curdict[name]` decides it in
    /// `diff_to_active` (`self` is the new config, `active` the running one). The class rules
    /// are Python's: a plain group compares equal to an fcgi group with the same processes
    /// (`FastCGIGroupConfig` subclasses `ProcessGroupConfig`) but not the other way round, and
    /// a pool's events are a set.
    pub fn same_as(&self, active: &ProcessGroupConfig) -> bool {
        let kind_equal = match (&self.kind, &active.kind) {
            (GroupKind::Program, GroupKind::Program | GroupKind::FastCgi(_)) => true,
            // `SocketConfig.__eq__` compares urls only.
            (GroupKind::FastCgi(a), GroupKind::FastCgi(b)) => a.url() == b.url(),
            (GroupKind::EventListenerPool(a), GroupKind::EventListenerPool(b)) => {
                a.buffer_size == b.buffer_size
                    && a.result_handler == b.result_handler
                    && a.events.len() == b.events.len()
                    && a.events.iter().all(|e| b.events.contains(e))
            }
            _ => false,
        };
        kind_equal
            && self.name == active.name
            && self.priority == active.priority
            && self.processes.len() == active.processes.len()
            && self.processes.iter().zip(&active.processes).all(|(a, b)| a.same_as(b))
    }
}

/// Every event type a listener may subscribe to, abstract ones included (`events.EventTypes`).
pub const EVENT_TYPE_NAMES: &[&str] = &[
    "EVENT",
    "PROCESS_STATE",
    "PROCESS_STATE_STOPPED",
    "PROCESS_STATE_EXITED",
    "PROCESS_STATE_STARTING",
    "PROCESS_STATE_STOPPING",
    "PROCESS_STATE_BACKOFF",
    "PROCESS_STATE_FATAL",
    "PROCESS_STATE_RUNNING",
    "PROCESS_STATE_UNKNOWN",
    "PROCESS_COMMUNICATION",
    "PROCESS_COMMUNICATION_STDOUT",
    "PROCESS_COMMUNICATION_STDERR",
    "PROCESS_LOG",
    "PROCESS_LOG_STDOUT",
    "PROCESS_LOG_STDERR",
    "REMOTE_COMMUNICATION",
    "SUPERVISOR_STATE_CHANGE",
    "SUPERVISOR_STATE_CHANGE_RUNNING",
    "SUPERVISOR_STATE_CHANGE_STOPPING",
    "TICK",
    "TICK_5",
    "TICK_60",
    "TICK_3600",
    "PROCESS_GROUP",
    "PROCESS_GROUP_ADDED",
    "PROCESS_GROUP_REMOVED",
];

/// The only result handler we can run: supervisor's own default.
pub const DEFAULT_RESULT_HANDLER: &str = "supervisor.dispatchers:default_handler";

/// Builds every process group, sorted by priority then name as supervisor sorts them.
pub(crate) fn process_groups(
    r: &mut SectionReader,
) -> Result<Vec<ProcessGroupConfig>, ConfigError> {
    let all_sections: Vec<String> = r.parser.sections().into_iter().map(String::from).collect();
    let has = |s: &str| all_sections.iter().any(|x| x == s);
    let mut groups = Vec::new();
    let mut homogeneous_exclude: Vec<String> = Vec::new();

    for section in all_sections.iter().filter(|s| s.starts_with("group:")) {
        let group_name = process_or_group_name(after_colon(section))?;
        let programs =
            list_of_strings(r.get(section, "programs", &r.here())?.as_deref().unwrap_or(""));
        let priority = r.get_int(section, "priority", 999)?;
        let mut processes = Vec::new();
        // Supervisor reuses its loop variable here, so after the first member the errors name
        // that member's section instead of the group; the messages keep that quirk.
        let mut label = section.clone();
        for program in &programs {
            let program_section = format!("program:{program}");
            let fcgi_section = format!("fcgi-program:{program}");
            match (has(&program_section), has(&fcgi_section)) {
                (false, false) => {
                    return Err(ConfigError::UnknownGroupMember {
                        section: label,
                        program: program.clone(),
                    });
                }
                (true, true) => {
                    return Err(ConfigError::AmbiguousGroupMember {
                        section: label,
                        program: program.clone(),
                    });
                }
                (true, false) => label = program_section,
                (false, true) => label = fcgi_section,
            }
            homogeneous_exclude.push(label.clone());
            processes.extend(processes_from_section(r, &label, &group_name)?);
        }
        groups.push(ProcessGroupConfig {
            name: group_name,
            priority,
            kind: GroupKind::Program,
            processes: processes.into_iter().map(std::sync::Arc::new).collect(),
        });
    }

    for section in all_sections.iter().filter(|s| s.starts_with("program:")) {
        if homogeneous_exclude.contains(section) {
            continue;
        }
        let program_name = process_or_group_name(after_colon(section))?;
        let priority = r.get_int(section, "priority", 999)?;
        let processes = processes_from_section(r, section, &program_name)?;
        groups.push(ProcessGroupConfig {
            name: program_name,
            priority,
            kind: GroupKind::Program,
            processes: processes.into_iter().map(std::sync::Arc::new).collect(),
        });
    }

    for section in all_sections.iter().filter(|s| s.starts_with("eventlistener:")) {
        let pool_name = after_colon(section).to_string();
        // Listeners default to a high priority so they start first and stop last.
        let priority = r.get_int(section, "priority", -1)?;
        let buffer_size = r.get_int(section, "buffer_size", 10)?;
        if buffer_size < 1 {
            return Err(ConfigError::BadBufferSize { section: section.clone(), size: buffer_size });
        }
        let result_handler = r
            .get(section, "result_handler", &Expansions::new())?
            .unwrap_or_else(|| DEFAULT_RESULT_HANDLER.to_string());
        if result_handler != DEFAULT_RESULT_HANDLER {
            return Err(ConfigError::Unresolvable {
                spec: result_handler,
                section: section.clone(),
            });
        }
        let raw_events = r.get(section, "events", &r.here())?.unwrap_or_default();
        let mut events: Vec<String> = Vec::new();
        for name in list_of_strings(&raw_events) {
            let name = name.to_uppercase();
            if !events.contains(&name) {
                events.push(name);
            }
        }
        if events.is_empty() {
            return Err(ConfigError::NoEvents(section.clone()));
        }
        if let Some(unknown) = events.iter().find(|e| !EVENT_TYPE_NAMES.contains(&e.as_str())) {
            return Err(ConfigError::UnknownEvent {
                event: unknown.clone(),
                section: section.clone(),
            });
        }
        if r.get_bool(section, "redirect_stderr", false)? {
            return Err(ConfigError::ListenerRedirectsStderr(section.clone()));
        }
        let processes = processes_from_section(r, section, &pool_name)?;
        groups.push(ProcessGroupConfig {
            name: pool_name,
            priority,
            kind: GroupKind::EventListenerPool(PoolConfig { buffer_size, events, result_handler }),
            processes: processes.into_iter().map(std::sync::Arc::new).collect(),
        });
    }

    for section in all_sections.iter().filter(|s| s.starts_with("fcgi-program:")) {
        if homogeneous_exclude.contains(section) {
            continue;
        }
        let program_name = process_or_group_name(after_colon(section))?;
        let priority = r.get_int(section, "priority", 999)?;
        let none = r.here();
        let proc_uid = match r.get(section, "user", &none)? {
            Some(user) => Some(name_to_uid(&user)?),
            None => None,
        };
        let backlog = match r.get(section, "socket_backlog", &none)? {
            Some(v) => {
                let n = integer(&v)?;
                if !(1..=65535).contains(&n) {
                    return Err(ConfigError::BadSocketBacklog(n));
                }
                Some(n)
            }
            None => None,
        };
        let owner = match r.get(section, "socket_owner", &none)? {
            Some(v) => {
                Some(colon_separated_user_group(&v).map_err(|_| ConfigError::BadSocketOwner(v))?)
            }
            None => None,
        };
        let mode = match r.get(section, "socket_mode", &none)? {
            Some(v) => Some(octal_type(&v).map_err(|_| ConfigError::BadSocketMode(v))?),
            None => None,
        };
        let mut fcgi = Expansions::new();
        fcgi.insert_str("program_name", program_name.clone());
        fcgi.extend(&r.here());
        let socket = r.get(section, "socket", &fcgi)?.unwrap_or_default();
        if socket.is_empty() {
            return Err(ConfigError::NoSocket(section.clone()));
        }
        let socket = parse_fcgi_socket(&socket, proc_uid, owner, mode, backlog)
            .map_err(|error| ConfigError::FcgiSocket { error, section: section.clone() })?;
        let processes = processes_from_section(r, section, &program_name)?;
        groups.push(ProcessGroupConfig {
            name: program_name,
            priority,
            kind: GroupKind::FastCgi(socket),
            processes: processes.into_iter().map(std::sync::Arc::new).collect(),
        });
    }

    groups.sort_by(|a, b| (a.priority, &a.name).cmp(&(b.priority, &b.name)));
    Ok(groups)
}

fn after_colon(section: &str) -> &str {
    section.split_once(':').map_or("", |(_, rest)| rest)
}

fn parse_fcgi_socket(
    sock: &str,
    proc_uid: Option<u32>,
    owner: Option<(i64, i64)>,
    mode: Option<i64>,
    backlog: Option<i64>,
) -> Result<FcgiSocketConfig, FcgiSocketError> {
    if let Some(path) = sock.strip_prefix("unix://") {
        if !path.starts_with('/') {
            return Err(FcgiSocketError::NotAbsolute(path.to_string()));
        }
        let path = datatypes::normalize_path(path);
        let owner = owner.or_else(|| {
            let uid = proc_uid?;
            if uid == nix::unistd::getuid().as_raw() {
                return None;
            }
            let gid = datatypes::gid_for_uid(uid)?;
            Some((i64::from(uid), i64::from(gid)))
        });
        return Ok(FcgiSocketConfig::Unix { path, mode: mode.unwrap_or(0o700), owner, backlog });
    }
    if owner.is_some() || mode.is_some() {
        return Err(FcgiSocketError::OwnerOrModeWithTcp);
    }
    // Python's `tcp://([^\s:]+):(\d+)$`: a host without whitespace or colons, then ASCII-or-
    // Unicode digits; `$` also accepts one trailing newline.
    let bad = || FcgiSocketError::BadFormat(sock.to_string());
    let rest = sock.strip_prefix("tcp://").ok_or_else(bad)?;
    let rest = rest.strip_suffix('\n').unwrap_or(rest);
    let (host, port) = rest.split_once(':').ok_or_else(bad)?;
    if host.is_empty() || host.chars().any(crate::python::is_space) {
        return Err(bad());
    }
    if port.is_empty() || !port.chars().all(|c| c.is_ascii_digit()) {
        return Err(bad());
    }
    // The regex accepted it, so a port that does not fit is InetStreamSocketConfig's range error;
    // supervisor lets that ValueError escape as the bare range message.
    let port = datatypes::port_number(port).map_err(|_| bad())?;
    Ok(FcgiSocketConfig::Tcp { host: host.to_lowercase(), port, backlog })
}

fn processes_from_section(
    r: &mut SectionReader,
    section: &str,
    group_name: &str,
) -> Result<Vec<ProcessConfig>, ConfigError> {
    processes_from_section_inner(r, section, group_name).map_err(|e| {
        let file = r.parser.section_file(section).unwrap_or(r.configfile).to_string();
        e.in_section(section, &file)
    })
}

fn processes_from_section_inner(
    r: &mut SectionReader,
    section: &str,
    group_name: &str,
) -> Result<Vec<ProcessConfig>, ConfigError> {
    let program_name = process_or_group_name(after_colon(section))?;
    // Supervisor mutates this one dict as it goes: per-process names added in the loop below
    // stay visible to every later lookup in the section, and the messages show it.
    let mut common = Expansions::new();
    common.insert_str("here", r.here.to_string());
    common.insert_str("program_name", program_name.clone());
    common.insert_str("host_node_name", r.host_node_name.to_string());
    common.insert_str("group_name", group_name.to_string());

    let priority = integer_or(r.get(section, "priority", &common)?, 999)?;
    let autostart = bool_or(r.get(section, "autostart", &common)?, true)?;
    let autorestart = match r.get(section, "autorestart", &common)? {
        Some(v) => auto_restart(&v)?,
        None => AutoRestart::Unexpected,
    };
    let startsecs = integer_or(r.get(section, "startsecs", &common)?, 1)?;
    let startretries = integer_or(r.get(section, "startretries", &common)?, 3)?;
    let stopsignal = match r.get(section, "stopsignal", &common)? {
        Some(v) => signal_number(&v)?,
        None => libc::SIGTERM,
    };
    let stopwaitsecs = integer_or(r.get(section, "stopwaitsecs", &common)?, 10)?;
    let stopasgroup = bool_or(r.get(section, "stopasgroup", &common)?, false)?;
    let killasgroup = bool_or(r.get(section, "killasgroup", &common)?, stopasgroup)?;
    let exitcodes =
        list_of_exitcodes(r.get(section, "exitcodes", &common)?.as_deref().unwrap_or("0"))?;
    let redirect_stderr = bool_or(r.get(section, "redirect_stderr", &common)?, false)?;
    let numprocs = integer_or(r.get(section, "numprocs", &common)?, 1)?;
    let numprocs_start = integer_or(r.get(section, "numprocs_start", &common)?, 0)?;
    let environment_str = r.parser.get(section, "environment").unwrap_or("").to_string();
    let stdout_capture = bytes_or(r.get(section, "stdout_capture_maxbytes", &common)?, 0)?;
    let stdout_events = bool_or(r.get(section, "stdout_events_enabled", &common)?, false)?;
    let stderr_capture = bytes_or(r.get(section, "stderr_capture_maxbytes", &common)?, 0)?;
    let stderr_events = bool_or(r.get(section, "stderr_events_enabled", &common)?, false)?;
    let serverurl = r
        .get(section, "serverurl", &common)?
        .filter(|u| !crate::python::strip(u).eq_ignore_ascii_case("auto"));
    let uid = match r.get(section, "user", &common)? {
        Some(user) => Some(name_to_uid(&user)?),
        None => None,
    };
    let umask = match r.get(section, "umask", &common)? {
        Some(v) => Some(octal_type(&v)?),
        None => None,
    };
    let process_name =
        process_or_group_name(r.parser.get(section, "process_name").unwrap_or("%(program_name)s"))?;
    if numprocs > 1 && !process_name.contains("%(process_num)") {
        return Err(ConfigError::ProcessNumMissing);
    }
    if stopasgroup && !killasgroup {
        return Err(ConfigError::StopAsGroupWithoutKill);
    }

    let mut programs = Vec::new();
    for process_num in numprocs_start..numprocs_start.saturating_add(numprocs) {
        common.insert("process_num", ExpansionValue::Int(process_num));
        common.insert("numprocs", ExpansionValue::Int(numprocs));
        common.extend(&r.environ);
        let environment =
            dict_of_key_value_pairs(&expand(&environment_str, &common, "environment")?)?;
        for (k, v) in &environment {
            common.insert_str(format!("ENV_{k}"), v.clone());
        }
        let directory = r.get(section, "directory", &common)?;
        let stdout = channel(r, section, "stdout", &common, stdout_capture, stdout_events)?;
        let mut stderr = channel(r, section, "stderr", &common, stderr_capture, stderr_events)?;
        if redirect_stderr {
            if let Logfile::Path(_) = stderr.logfile {
                r.warnings.push(format!(
                    "For [{section}], redirect_stderr=true but stderr_logfile has also been set to a filename, the filename has been ignored"
                ));
            }
            // A redirected stderr never gets a log file of its own.
            stderr.logfile = Logfile::None;
        }
        let Some(command) = r.get(section, "command", &common)? else {
            return Err(ConfigError::NoCommand(section.to_string()));
        };
        programs.push(ProcessConfig {
            name: expand(&process_name, &common, "process_name")?,
            command,
            directory,
            umask,
            priority,
            autostart,
            autorestart,
            startsecs,
            startretries,
            uid,
            stdout,
            stderr,
            stopsignal,
            stopwaitsecs,
            stopasgroup,
            killasgroup,
            exitcodes: exitcodes.clone(),
            redirect_stderr,
            environment,
            serverurl: serverurl.clone(),
        });
    }
    programs.sort_by(|a, b| (a.priority, &a.name).cmp(&(b.priority, &b.name)));
    Ok(programs)
}

fn channel(
    r: &mut SectionReader,
    section: &str,
    channel: &str,
    expansions: &Expansions,
    capture_maxbytes: i64,
    events_enabled: bool,
) -> Result<ChannelConfig, ConfigError> {
    let lf_key = format!("{channel}_logfile");
    // Supervisor expands the file name twice (once on read, once explicitly), so `%%` must be
    // written `%%%%` to survive.
    let logfile = match r.get(section, &lf_key, expansions)? {
        Some(v) => logfile_name(&expand(&v, expansions, &lf_key)?)?,
        None => LogfileName::Auto,
    };
    let logfile_backups =
        integer_or(r.get(section, &format!("{channel}_logfile_backups"), expansions)?, 10)?;
    let logfile_maxbytes = bytes_or(
        r.get(section, &format!("{channel}_logfile_maxbytes"), expansions)?,
        50 * 1024 * 1024,
    )?;
    let sy_key = format!("{channel}_syslog");
    let mut syslog = bool_or(r.get(section, &sy_key, expansions)?, false)?;
    let logfile = match logfile {
        LogfileName::None => Logfile::None,
        LogfileName::Auto => Logfile::Auto,
        LogfileName::Path(p) => Logfile::Path(p),
        LogfileName::Syslog => {
            r.warnings.push(format!(
                "For [{section}], {lf_key}=syslog but this is deprecated and will be removed.  Use {sy_key}=true to enable syslog instead."
            ));
            syslog = true;
            Logfile::None
        }
    };
    if logfile == Logfile::Auto && logfile_maxbytes == 0 {
        r.warnings.push(format!(
            "For [{section}], AUTO logging used for {lf_key} without rollover, set maxbytes > 0 to avoid filling up filesystem unintentionally"
        ));
    }
    Ok(ChannelConfig {
        logfile,
        logfile_maxbytes,
        logfile_backups,
        capture_maxbytes,
        events_enabled,
        syslog,
    })
}

fn integer_or(value: Option<String>, default: i64) -> Result<i64, ConfigError> {
    Ok(value.map(|v| integer(&v)).transpose()?.unwrap_or(default))
}

fn bool_or(value: Option<String>, default: bool) -> Result<bool, ConfigError> {
    Ok(value.map(|v| boolean(&v)).transpose()?.unwrap_or(default))
}

fn bytes_or(value: Option<String>, default: i64) -> Result<i64, ConfigError> {
    Ok(value.map(|v| byte_size(&v)).transpose()?.unwrap_or(default))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn process(edit: impl FnOnce(&mut ProcessConfig)) -> Arc<ProcessConfig> {
        let channel = ChannelConfig {
            logfile: Logfile::Auto,
            logfile_maxbytes: 0,
            logfile_backups: 0,
            capture_maxbytes: 0,
            events_enabled: false,
            syslog: false,
        };
        let mut c = ProcessConfig {
            name: "p".into(),
            command: "/bin/true".into(),
            directory: None,
            umask: None,
            priority: 999,
            autostart: true,
            autorestart: AutoRestart::Unexpected,
            startsecs: 1,
            startretries: 3,
            uid: None,
            stdout: channel.clone(),
            stderr: channel,
            stopsignal: 15,
            stopwaitsecs: 10,
            stopasgroup: false,
            killasgroup: false,
            exitcodes: vec![0],
            redirect_stderr: false,
            environment: vec![("A".into(), "1".into()), ("B".into(), "2".into())],
            serverurl: None,
        };
        edit(&mut c);
        Arc::new(c)
    }

    fn group(kind: GroupKind, processes: Vec<Arc<ProcessConfig>>) -> ProcessGroupConfig {
        ProcessGroupConfig { name: "g".into(), priority: 999, kind, processes }
    }

    #[test]
    fn auto_logfiles_and_environment_order_are_not_changes() {
        let base = process(|_| {});
        let to_path = process(|c| c.stdout.logfile = Logfile::Path("/x.log".into()));
        let reordered = process(|c| c.environment.reverse());
        // path -> AUTO: the new AUTO is skipped; AUTO -> path: the active AUTO has its real
        // temporary name by now, which the path is not.
        assert!(base.same_as(&to_path));
        assert!(!to_path.same_as(&base));
        assert!(!process(|c| c.stdout.logfile = Logfile::None).same_as(&base));
        assert!(base.same_as(&reordered));
        let a = process(|c| c.stdout.logfile = Logfile::Path("/a.log".into()));
        assert!(!a.same_as(&to_path));
        assert!(!base.same_as(&process(|c| c.environment[0].1 = "9".into())));
        assert!(!base.same_as(&process(|c| c.command = "/bin/false".into())));
    }

    #[test]
    fn group_kinds_compare_as_pythons_classes_do() {
        let p = vec![process(|_| {})];
        let tcp = |backlog| FcgiSocketConfig::Tcp { host: "h".into(), port: 1, backlog };
        let plain = group(GroupKind::Program, p.clone());
        let fcgi = group(GroupKind::FastCgi(tcp(None)), p.clone());
        assert!(plain.same_as(&fcgi));
        assert!(!fcgi.same_as(&plain));
        assert!(fcgi.same_as(&group(GroupKind::FastCgi(tcp(Some(5))), p.clone())));
        let pool = |events: &[&str]| {
            group(
                GroupKind::EventListenerPool(PoolConfig {
                    buffer_size: 10,
                    events: events.iter().map(|e| e.to_string()).collect(),
                    result_handler: "r".into(),
                }),
                p.clone(),
            )
        };
        assert!(pool(&["TICK_5", "EVENT"]).same_as(&pool(&["EVENT", "TICK_5"])));
        assert!(!pool(&["EVENT"]).same_as(&pool(&["TICK_5"])));
        assert!(!pool(&["EVENT"]).same_as(&plain));
        let mut fewer = plain.clone();
        fewer.processes.clear();
        assert!(!plain.same_as(&fewer));
    }
}
