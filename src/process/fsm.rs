//! The process state machine: a line-by-line port of supervisor's `Subprocess` rules
//! (`transition`, `finish`, `change_state`, `spawn`, `kill`, `signal`, `give_up`, `stop_report`)
//! with the clock passed in and the OS behind [`ProcessOs`].
//!
//! Nothing here does I/O. Log lines and state changes come out as [`Effect`]s in the order
//! supervisor produces them; killing and spawning go through [`ProcessOs`] because their result
//! decides the next state synchronously, exactly where Python calls `options.kill`/`fork`.

use crate::config::ProcessConfig;
use crate::config::datatypes::{AutoRestart, LogLevel};
use crate::process::spawn::signame;
use crate::process::state::{ProcessState, SupervisorState};
use nix::errno::Errno;
use std::sync::Arc;

/// The operating-system calls a process needs: supervisor's `options.fork`/`options.kill` seam.
pub trait ProcessOs {
    /// Everything between `STARTING` and `spawned:`: resolve the command, make the pipes, fork.
    /// `Err` carries the `spawnerr` text (no process was created).
    fn spawn(&mut self, process: &Process) -> Result<i32, String>;
    /// `kill(2)`; a negative pid signals the process group.
    fn kill(&mut self, pid: i32, signal: i32) -> Result<(), Errno>;
}

/// A state change, with what the matching `PROCESS_STATE_*` event reports.
#[derive(Debug, Clone, PartialEq)]
pub struct StateChange {
    pub from: ProcessState,
    pub to: ProcessState,
    /// Only meaningful for `EXITED`: whether the exit status was in `exitcodes`.
    pub expected: bool,
    pub pid: i32,
    /// The backoff counter (`tries:` in STARTING and BACKOFF events).
    pub tries: i64,
}

/// What a step asks the owner to do, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Log(LogLevel, String),
    StateChange(StateChange),
}

/// One process's runtime state (supervisor's `Subprocess` attributes). Times are seconds since
/// the epoch, as Python's `time.time()`.
#[derive(Debug, Clone)]
pub struct Process {
    pub config: Arc<ProcessConfig>,
    pub group: String,
    pub state: ProcessState,
    /// 0 when not running.
    pub pid: i32,
    /// 0 if never started.
    pub laststart: f64,
    pub laststop: f64,
    pub laststopreport: f64,
    /// When to retry (BACKOFF) or send SIGKILL (STOPPING); 0 when unset.
    pub delay: f64,
    pub administrative_stop: bool,
    pub system_stop: bool,
    /// A stop signal has been sent and the exit is expected.
    pub killing: bool,
    pub backoff: i64,
    pub exitstatus: Option<i64>,
    pub spawnerr: Option<String>,
}

impl Process {
    pub fn new(config: Arc<ProcessConfig>, group: &str) -> Process {
        Process {
            config,
            group: group.to_string(),
            state: ProcessState::Stopped,
            pid: 0,
            laststart: 0.0,
            laststop: 0.0,
            laststopreport: 0.0,
            delay: 0.0,
            administrative_stop: false,
            system_stop: false,
            killing: false,
            backoff: 0,
            exitstatus: None,
            spawnerr: None,
        }
    }

    pub fn name(&self) -> &str {
        &self.config.name
    }

    fn log(fx: &mut Vec<Effect>, level: LogLevel, message: String) {
        fx.push(Effect::Log(level, message));
    }

    /// `change_state`: entering BACKOFF counts a try and schedules the retry.
    fn change_state(&mut self, to: ProcessState, expected: bool, now: f64, fx: &mut Vec<Effect>) {
        let from = self.state;
        if from == to {
            return;
        }
        self.state = to;
        if to == ProcessState::Backoff {
            self.backoff += 1;
            self.delay = now + self.backoff as f64;
        }
        fx.push(Effect::StateChange(StateChange {
            from,
            to,
            expected,
            pid: self.pid,
            tries: self.backoff,
        }));
    }

    fn record_spawnerr(&mut self, message: String, fx: &mut Vec<Effect>) {
        Self::log(fx, LogLevel::Info, format!("spawnerr: {message}"));
        self.spawnerr = Some(message);
    }

    /// `spawn`: STOPPED/EXITED/FATAL/BACKOFF -> STARTING, then either `spawned:` or, if the
    /// command or the fork failed, BACKOFF with `spawnerr`. Returns the pid when a child exists.
    pub fn spawn(&mut self, now: f64, os: &mut dyn ProcessOs, fx: &mut Vec<Effect>) -> Option<i32> {
        if self.pid != 0 {
            Self::log(fx, LogLevel::Warn, format!("process '{}' already running", self.name()));
            return None;
        }
        if !matches!(
            self.state,
            ProcessState::Exited
                | ProcessState::Fatal
                | ProcessState::Backoff
                | ProcessState::Stopped
        ) {
            // Python asserts here; every caller checks the state first.
            return None;
        }
        self.killing = false;
        self.spawnerr = None;
        self.exitstatus = None;
        self.system_stop = false;
        self.administrative_stop = false;
        self.laststart = now;
        self.change_state(ProcessState::Starting, true, now, fx);
        match os.spawn(self) {
            Err(message) => {
                self.record_spawnerr(message, fx);
                self.change_state(ProcessState::Backoff, true, now, fx);
                None
            }
            Ok(pid) => {
                self.pid = pid;
                Self::log(fx, LogLevel::Info, format!("spawned: '{}' with pid {pid}", self.name()));
                self.spawnerr = None;
                self.delay = now + self.config.startsecs as f64;
                Some(pid)
            }
        }
    }

    /// `stop`: an administrative stop with the configured stop signal.
    pub fn stop(
        &mut self,
        now: f64,
        os: &mut dyn ProcessOs,
        fx: &mut Vec<Effect>,
    ) -> Option<String> {
        self.administrative_stop = true;
        self.laststopreport = 0.0;
        self.kill(self.config.stopsignal, now, os, fx)
    }

    /// `stop_report`: `waiting for x to stop`, at most every 2 seconds.
    pub fn stop_report(&mut self, now: f64, fx: &mut Vec<Effect>) {
        if self.state == ProcessState::Stopping {
            self.adjust_for_clock_rollback(now);
            if now > self.laststopreport + 2.0 {
                Self::log(fx, LogLevel::Info, format!("waiting for {} to stop", self.name()));
                self.laststopreport = now;
            }
        }
    }

    /// `give_up`: BACKOFF -> FATAL.
    pub fn give_up(&mut self, now: f64, fx: &mut Vec<Effect>) {
        self.delay = 0.0;
        self.backoff = 0;
        self.system_stop = true;
        if self.state == ProcessState::Backoff {
            self.change_state(ProcessState::Fatal, true, now, fx);
        }
    }

    /// `kill`: send a signal meant to end the process. BACKOFF becomes STOPPED at once; otherwise
    /// the process enters STOPPING and SIGKILL follows after `stopwaitsecs`. Returns an error text
    /// when nothing could be signalled.
    pub fn kill(
        &mut self,
        sig: i32,
        now: f64,
        os: &mut dyn ProcessOs,
        fx: &mut Vec<Effect>,
    ) -> Option<String> {
        let name = self.name().to_string();
        if self.state == ProcessState::Backoff {
            Self::log(
                fx,
                LogLevel::Debug,
                format!("Attempted to kill {name}, which is in BACKOFF state."),
            );
            self.change_state(ProcessState::Stopped, true, now, fx);
            return None;
        }
        if self.pid == 0 {
            let message =
                format!("attempted to kill {name} with sig {} but it wasn't running", signame(sig));
            Self::log(fx, LogLevel::Debug, message.clone());
            return Some(message);
        }
        // A second kill while STOPPING is the SIGKILL, which follows killasgroup.
        let as_group = if self.state == ProcessState::Stopping {
            self.config.killasgroup
        } else {
            self.config.stopasgroup
        };
        Self::log(
            fx,
            LogLevel::Debug,
            format!(
                "killing {name} (pid {}) {}with signal {}",
                self.pid,
                if as_group { "process group " } else { "" },
                signame(sig)
            ),
        );
        self.killing = true;
        self.delay = now + self.config.stopwaitsecs as f64;
        self.change_state(ProcessState::Stopping, true, now, fx);
        let target = if as_group { -self.pid } else { self.pid };
        match os.kill(target, sig) {
            Ok(()) => None,
            Err(Errno::ESRCH) => {
                // The exit will be seen by the reaper; the state changes then.
                Self::log(
                    fx,
                    LogLevel::Debug,
                    format!(
                        "unable to signal {name} (pid {}), it probably just exited on its own: {}",
                        self.pid,
                        os_error_text(Errno::ESRCH)
                    ),
                );
                None
            }
            Err(e) => {
                let message =
                    format!("unknown problem killing {name} ({}):{}", self.pid, os_error_text(e));
                Self::log(fx, LogLevel::Critical, message.clone());
                self.change_state(ProcessState::Unknown, true, now, fx);
                self.killing = false;
                self.delay = 0.0;
                Some(message)
            }
        }
    }

    /// `signal`: send a signal without meaning to stop the process (always to the pid).
    pub fn signal(
        &mut self,
        sig: i32,
        now: f64,
        os: &mut dyn ProcessOs,
        fx: &mut Vec<Effect>,
    ) -> Option<String> {
        let name = self.name().to_string();
        if self.pid == 0 {
            let message =
                format!("attempted to send {name} sig {} but it wasn't running", signame(sig));
            Self::log(fx, LogLevel::Debug, message.clone());
            return Some(message);
        }
        Self::log(
            fx,
            LogLevel::Debug,
            format!("sending {name} (pid {}) sig {}", self.pid, signame(sig)),
        );
        match os.kill(self.pid, sig) {
            Ok(()) => None,
            Err(Errno::ESRCH) => {
                Self::log(
                    fx,
                    LogLevel::Debug,
                    format!(
                        "unable to signal {name} (pid {}), it probably just now exited on its own: {}",
                        self.pid,
                        os_error_text(Errno::ESRCH)
                    ),
                );
                None
            }
            Err(e) => {
                let message = format!(
                    "unknown problem sending sig {name} ({}):{}",
                    self.pid,
                    os_error_text(e)
                );
                Self::log(fx, LogLevel::Critical, message.clone());
                self.change_state(ProcessState::Unknown, true, now, fx);
                Some(message)
            }
        }
    }

    /// `finish`: the process was reaped with `exitstatus` (-1 for a signal death) described by
    /// `status_message` (`exit status 1`, `terminated by SIGTERM`).
    pub fn finish(
        &mut self,
        exitstatus: i64,
        status_message: &str,
        now: f64,
        fx: &mut Vec<Effect>,
    ) {
        self.adjust_for_clock_rollback(now);
        self.laststop = now;
        let name = self.name().to_string();
        let too_quickly = if now > self.laststart {
            now - self.laststart < self.config.startsecs as f64
        } else {
            Self::log(
                fx,
                LogLevel::Warn,
                format!(
                    "process '{name}' ({}) laststart time is in the future, don't know how long process was running so assuming it did not exit too quickly",
                    self.pid
                ),
            );
            false
        };
        let exit_expected = self.config.exitcodes.contains(&exitstatus);

        if self.killing {
            self.killing = false;
            self.delay = 0.0;
            self.exitstatus = Some(exitstatus);
            self.change_state(ProcessState::Stopped, true, now, fx);
            let level = if exit_expected { LogLevel::Info } else { LogLevel::Warn };
            Self::log(fx, level, format!("stopped: {name} ({status_message})"));
        } else if too_quickly {
            // Any exit before startsecs is a failed start, whatever the exit code (GOT-3).
            self.exitstatus = None;
            self.spawnerr = Some("Exited too quickly (process log may have details)".to_string());
            self.change_state(ProcessState::Backoff, true, now, fx);
            Self::log(
                fx,
                LogLevel::Warn,
                format!("exited: {name} ({status_message}; not expected)"),
            );
        } else {
            self.delay = 0.0;
            self.backoff = 0;
            self.exitstatus = Some(exitstatus);
            // A start that was never confirmed (startsecs <= 0 before a transition) still
            // passes through RUNNING, without the `success:` line (GOT-4).
            if self.state == ProcessState::Starting {
                self.change_state(ProcessState::Running, true, now, fx);
            }
            if exit_expected {
                self.change_state(ProcessState::Exited, true, now, fx);
                Self::log(
                    fx,
                    LogLevel::Info,
                    format!("exited: {name} ({status_message}; expected)"),
                );
            } else {
                self.spawnerr = Some(format!("Bad exit code {exitstatus}"));
                self.change_state(ProcessState::Exited, false, now, fx);
                Self::log(
                    fx,
                    LogLevel::Warn,
                    format!("exited: {name} ({status_message}; not expected)"),
                );
            }
        }
        self.pid = 0;
    }

    /// `transition`: what happens to this process with the passage of time, called by the owner
    /// whenever anything happens and at [`Process::next_deadline`].
    pub fn transition(
        &mut self,
        now: f64,
        mood: SupervisorState,
        os: &mut dyn ProcessOs,
        fx: &mut Vec<Effect>,
    ) {
        // Decisions below look at the state as it was on entry, as Python's do.
        let state = self.state;
        self.adjust_for_clock_rollback(now);

        if mood > SupervisorState::Restarting {
            match state {
                ProcessState::Exited => {
                    let restart = match self.config.autorestart {
                        AutoRestart::Always => true,
                        AutoRestart::Unexpected => {
                            !self.exitstatus.is_some_and(|es| self.config.exitcodes.contains(&es))
                        }
                        AutoRestart::Never => false,
                    };
                    if restart {
                        self.spawn(now, os, fx);
                    }
                }
                ProcessState::Stopped if self.laststart == 0.0 && self.config.autostart => {
                    self.spawn(now, os, fx);
                }
                ProcessState::Backoff
                    if self.backoff <= self.config.startretries && now > self.delay =>
                {
                    self.spawn(now, os, fx);
                }
                _ => {}
            }
        }

        let name = self.name().to_string();
        if state == ProcessState::Starting && now - self.laststart > self.config.startsecs as f64 {
            self.delay = 0.0;
            self.backoff = 0;
            self.change_state(ProcessState::Running, true, now, fx);
            Self::log(
                fx,
                LogLevel::Info,
                format!(
                    "success: {name} entered RUNNING state, process has stayed up for > than {} seconds (startsecs)",
                    self.config.startsecs
                ),
            );
        }

        if state == ProcessState::Backoff {
            if self.backoff > self.config.startretries {
                self.give_up(now, fx);
                Self::log(
                    fx,
                    LogLevel::Info,
                    format!(
                        "gave up: {name} entered FATAL state, too many start retries too quickly"
                    ),
                );
            }
        } else if state == ProcessState::Stopping && self.delay - now <= 0.0 {
            // If SIGKILL does not work either, this repeats every stopwaitsecs.
            Self::log(fx, LogLevel::Warn, format!("killing '{name}' ({}) with SIGKILL", self.pid));
            self.kill(libc::SIGKILL, now, os, fx);
        }
    }

    /// The earliest time at which [`Process::transition`] would act on its own; `None` if only
    /// an outside event can change this process. Comparisons in `transition` are strict, so the
    /// owner should wake a little after the returned time.
    pub fn next_deadline(&self, mood: SupervisorState) -> Option<f64> {
        let spawning = mood > SupervisorState::Restarting;
        match self.state {
            ProcessState::Starting => Some(self.laststart + self.config.startsecs as f64),
            ProcessState::Stopping => Some(self.delay),
            ProcessState::Backoff if self.backoff > self.config.startretries => Some(0.0),
            ProcessState::Backoff if spawning => Some(self.delay),
            ProcessState::Exited if spawning => {
                let restart = match self.config.autorestart {
                    AutoRestart::Always => true,
                    AutoRestart::Unexpected => {
                        !self.exitstatus.is_some_and(|es| self.config.exitcodes.contains(&es))
                    }
                    AutoRestart::Never => false,
                };
                restart.then_some(0.0)
            }
            ProcessState::Stopped if spawning && self.laststart == 0.0 && self.config.autostart => {
                Some(0.0)
            }
            _ => None,
        }
    }

    /// `_check_and_adjust_for_system_clock_rollback`: if the wall clock went backwards, pull the
    /// recorded times back so that no wait becomes impossibly long.
    fn adjust_for_clock_rollback(&mut self, now: f64) {
        let startsecs = self.config.startsecs as f64;
        match self.state {
            ProcessState::Starting => {
                if now < self.laststart {
                    self.laststart = now;
                }
                if self.delay > 0.0 && now < self.delay - startsecs {
                    self.delay = now + startsecs;
                }
            }
            ProcessState::Running if now > self.laststart && now < self.laststart + startsecs => {
                self.laststart = now - startsecs;
            }
            ProcessState::Stopping => {
                let stopwaitsecs = self.config.stopwaitsecs as f64;
                if now < self.laststopreport {
                    self.laststopreport = now;
                }
                if self.delay > 0.0 && now < self.delay - stopwaitsecs {
                    self.delay = now + stopwaitsecs;
                }
            }
            ProcessState::Backoff if self.delay > 0.0 && now < self.delay - self.backoff as f64 => {
                self.delay = now + self.backoff as f64;
            }
            _ => {}
        }
    }
}

/// `str(OSError)`: `[Errno 3] No such process`.
fn os_error_text(e: Errno) -> String {
    format!("[Errno {}] {}", e as i32, e.desc())
}

#[cfg(test)]
mod tests;
