//! supervisor's state codes and names (`states.py`): process states, supervisord's own states,
//! and the state sets the RPC rules are written in.

/// A process's state; the numbers are the `state` field of `getProcessInfo`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProcessState {
    Stopped = 0,
    Starting = 10,
    Running = 20,
    Backoff = 30,
    Stopping = 40,
    Exited = 100,
    Fatal = 200,
    Unknown = 1000,
}

impl ProcessState {
    pub fn code(self) -> i64 {
        self as i64
    }

    pub fn name(self) -> &'static str {
        match self {
            ProcessState::Stopped => "STOPPED",
            ProcessState::Starting => "STARTING",
            ProcessState::Running => "RUNNING",
            ProcessState::Backoff => "BACKOFF",
            ProcessState::Stopping => "STOPPING",
            ProcessState::Exited => "EXITED",
            ProcessState::Fatal => "FATAL",
            ProcessState::Unknown => "UNKNOWN",
        }
    }

    /// `STOPPED_STATES`: the process is not running and nothing is pending.
    pub fn is_stopped(self) -> bool {
        matches!(
            self,
            ProcessState::Stopped
                | ProcessState::Exited
                | ProcessState::Fatal
                | ProcessState::Unknown
        )
    }

    /// `RUNNING_STATES`: a start is in effect (note: STOPPING is in neither set).
    pub fn is_running(self) -> bool {
        matches!(self, ProcessState::Running | ProcessState::Backoff | ProcessState::Starting)
    }

    /// `SIGNALLABLE_STATES`.
    pub fn is_signallable(self) -> bool {
        matches!(self, ProcessState::Running | ProcessState::Starting | ProcessState::Stopping)
    }
}

/// supervisord's own state ("mood"); `getState` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SupervisorState {
    Shutdown = -1,
    Restarting = 0,
    Running = 1,
    /// Defined by supervisor but never entered.
    Fatal = 2,
}

impl SupervisorState {
    pub fn code(self) -> i64 {
        self as i64
    }

    pub fn from_code(code: i64) -> Option<SupervisorState> {
        [
            SupervisorState::Shutdown,
            SupervisorState::Restarting,
            SupervisorState::Running,
            SupervisorState::Fatal,
        ]
        .into_iter()
        .find(|s| s.code() == code)
    }

    pub fn name(self) -> &'static str {
        match self {
            SupervisorState::Shutdown => "SHUTDOWN",
            SupervisorState::Restarting => "RESTARTING",
            SupervisorState::Running => "RUNNING",
            SupervisorState::Fatal => "FATAL",
        }
    }
}
