//! The state machine against every transition of supervisor's `Subprocess`, with an injected
//! clock and a fake OS that records what would have been spawned and signalled.

use super::*;
use crate::config::{ChannelConfig, Logfile};
use ProcessState::*;

struct FakeOs {
    next_pid: i32,
    spawn_error: Option<String>,
    kill_error: Option<Errno>,
    kills: Vec<(i32, i32)>,
    spawns: usize,
}

impl FakeOs {
    fn new() -> FakeOs {
        FakeOs { next_pid: 42, spawn_error: None, kill_error: None, kills: vec![], spawns: 0 }
    }
}

impl ProcessOs for FakeOs {
    fn spawn(&mut self, _process: &Process) -> Result<i32, String> {
        self.spawns += 1;
        match &self.spawn_error {
            Some(e) => Err(e.clone()),
            None => Ok(self.next_pid),
        }
    }

    fn kill(&mut self, pid: i32, signal: i32) -> Result<(), Errno> {
        self.kills.push((pid, signal));
        match self.kill_error {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

fn channel() -> ChannelConfig {
    ChannelConfig {
        logfile: Logfile::None,
        logfile_maxbytes: 0,
        logfile_backups: 0,
        capture_maxbytes: 0,
        events_enabled: false,
        syslog: false,
    }
}

fn config(edit: impl FnOnce(&mut ProcessConfig)) -> Arc<ProcessConfig> {
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
        stdout: channel(),
        stderr: channel(),
        stopsignal: libc::SIGTERM,
        stopwaitsecs: 10,
        stopasgroup: false,
        killasgroup: false,
        exitcodes: vec![0],
        redirect_stderr: false,
        environment: vec![],
        serverurl: None,
    };
    edit(&mut c);
    Arc::new(c)
}

fn process(edit: impl FnOnce(&mut ProcessConfig)) -> Process {
    Process::new(config(edit), "p")
}

const RUN: SupervisorState = SupervisorState::Running;

fn logs(fx: &[Effect]) -> Vec<String> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Log(level, m) => Some(format!("{} {m}", level.name())),
            Effect::StateChange(_) => None,
        })
        .collect()
}

fn changes(fx: &[Effect]) -> Vec<(ProcessState, ProcessState)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::StateChange(c) => Some((c.from, c.to)),
            Effect::Log(..) => None,
        })
        .collect()
}

/// Starts `p` at t=100 and confirms it RUNNING at t=102.
fn running(p: &mut Process, os: &mut FakeOs) {
    let mut fx = vec![];
    p.transition(100.0, RUN, os, &mut fx);
    p.transition(102.0, RUN, os, &mut fx);
    assert_eq!(p.state, Running);
}

#[test]
fn autostart_spawns_once_and_logs_spawned() {
    let (mut p, mut os, mut fx) = (process(|_| {}), FakeOs::new(), vec![]);
    p.transition(100.0, RUN, &mut os, &mut fx);
    assert_eq!(p.state, Starting);
    assert_eq!(p.pid, 42);
    assert_eq!(logs(&fx), vec!["INFO spawned: 'p' with pid 42"]);
    assert_eq!(changes(&fx), vec![(Stopped, Starting)]);
    // Started once, never again by autostart even after it stops.
    p.transition(100.5, RUN, &mut os, &mut fx);
    assert_eq!(os.spawns, 1);
}

#[test]
fn autostart_false_and_shutdown_mood_do_not_spawn() {
    let (mut p, mut os, mut fx) = (process(|c| c.autostart = false), FakeOs::new(), vec![]);
    p.transition(100.0, RUN, &mut os, &mut fx);
    assert_eq!((p.state, os.spawns), (Stopped, 0));
    let mut q = process(|_| {});
    q.transition(100.0, SupervisorState::Shutdown, &mut os, &mut fx);
    q.transition(100.0, SupervisorState::Restarting, &mut os, &mut fx);
    assert_eq!((q.state, os.spawns), (Stopped, 0));
}

#[test]
fn running_needs_strictly_more_than_startsecs() {
    let (mut p, mut os, mut fx) = (process(|c| c.startsecs = 1), FakeOs::new(), vec![]);
    p.transition(100.0, RUN, &mut os, &mut fx);
    fx.clear();
    p.transition(101.0, RUN, &mut os, &mut fx);
    assert_eq!(p.state, Starting);
    p.transition(101.001, RUN, &mut os, &mut fx);
    assert_eq!(p.state, Running);
    assert_eq!(
        logs(&fx),
        vec![
            "INFO success: p entered RUNNING state, process has stayed up for > than 1 seconds (startsecs)"
        ]
    );
    assert_eq!(p.next_deadline(RUN), None);
}

#[test]
fn startsecs_zero_still_takes_a_later_transition() {
    let (mut p, mut os, mut fx) = (process(|c| c.startsecs = 0), FakeOs::new(), vec![]);
    p.transition(100.0, RUN, &mut os, &mut fx);
    p.transition(100.0, RUN, &mut os, &mut fx);
    assert_eq!(p.state, Starting);
    assert_eq!(p.next_deadline(RUN), Some(100.0));
    p.transition(100.01, RUN, &mut os, &mut fx);
    assert_eq!(p.state, Running);
}

#[test]
fn exit_before_startsecs_is_backoff_whatever_the_code() {
    let (mut p, mut os, mut fx) = (process(|_| {}), FakeOs::new(), vec![]);
    p.transition(100.0, RUN, &mut os, &mut fx);
    fx.clear();
    p.finish(0, "exit status 0", 100.5, &mut fx);
    assert_eq!(p.state, Backoff);
    assert_eq!((p.backoff, p.delay, p.exitstatus, p.pid), (1, 101.5, None, 0));
    assert_eq!(p.spawnerr.as_deref(), Some("Exited too quickly (process log may have details)"));
    assert_eq!(logs(&fx), vec!["WARN exited: p (exit status 0; not expected)"]);
    match &fx[0] {
        Effect::StateChange(c) => {
            assert_eq!((c.from, c.to, c.pid, c.tries), (Starting, Backoff, 42, 1))
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn startretries_n_means_n_plus_one_attempts_with_linear_backoff() {
    let (mut p, mut os, mut fx) = (process(|c| c.startretries = 2), FakeOs::new(), vec![]);
    let mut now = 100.0;
    p.transition(now, RUN, &mut os, &mut fx);
    let mut delays = vec![];
    loop {
        now += 0.1;
        p.finish(1, "exit status 1", now, &mut fx);
        if p.state != Backoff {
            break;
        }
        delays.push(p.delay - now);
        // Not yet: the retry waits for strictly after `delay`.
        p.transition(p.delay, RUN, &mut os, &mut fx);
        if p.state == Fatal {
            break;
        }
        assert_eq!(p.state, Backoff);
        now = p.delay + 0.001;
        p.transition(now, RUN, &mut os, &mut fx);
        if p.state == Fatal {
            break;
        }
        assert_eq!(p.state, Starting);
    }
    assert_eq!(os.spawns, 3);
    assert_eq!(delays, vec![1.0, 2.0, 3.0]);
    assert_eq!(p.state, Fatal);
    assert_eq!(p.backoff, 0);
    assert!(logs(&fx).contains(
        &"INFO gave up: p entered FATAL state, too many start retries too quickly".to_string()
    ));
}

#[test]
fn spawn_errors_use_retries_and_end_in_fatal_with_the_message() {
    let (mut p, mut os, mut fx) = (process(|c| c.startretries = 1), FakeOs::new(), vec![]);
    os.spawn_error = Some("can't find command '/nope'".into());
    p.transition(100.0, RUN, &mut os, &mut fx);
    assert_eq!(p.state, Backoff);
    assert_eq!(logs(&fx), vec!["INFO spawnerr: can't find command '/nope'"]);
    assert_eq!(changes(&fx), vec![(Stopped, Starting), (Starting, Backoff)]);
    fx.clear();
    // The retry fails too and, being in BACKOFF on entry, gives up in the same transition.
    p.transition(101.5, RUN, &mut os, &mut fx);
    assert_eq!(p.state, Fatal);
    assert_eq!(p.spawnerr.as_deref(), Some("can't find command '/nope'"));
    assert_eq!(
        logs(&fx),
        vec![
            "INFO spawnerr: can't find command '/nope'",
            "INFO gave up: p entered FATAL state, too many start retries too quickly"
        ]
    );
}

#[test]
fn exits_after_running_follow_exitcodes_and_autorestart() {
    for (autorestart, code, restarts) in [
        (AutoRestart::Unexpected, 0, false),
        (AutoRestart::Unexpected, 1, true),
        (AutoRestart::Always, 0, true),
        (AutoRestart::Never, 1, false),
    ] {
        let (mut p, mut os, mut fx) =
            (process(|c| c.autorestart = autorestart), FakeOs::new(), vec![]);
        running(&mut p, &mut os);
        p.finish(code, &format!("exit status {code}"), 200.0, &mut fx);
        assert_eq!(p.state, Exited);
        let expected = code == 0;
        let line = if expected {
            "INFO exited: p (exit status 0; expected)".to_string()
        } else {
            format!("WARN exited: p (exit status {code}; not expected)")
        };
        assert_eq!(logs(&fx), vec![line]);
        match &fx[0] {
            Effect::StateChange(c) => assert_eq!(c.expected, expected),
            other => panic!("{other:?}"),
        }
        assert_eq!(p.spawnerr, (!expected).then(|| format!("Bad exit code {code}")));
        p.transition(200.0, RUN, &mut os, &mut fx);
        assert_eq!(p.state == Starting, restarts, "{autorestart:?} {code}");
    }
}

#[test]
fn exit_while_starting_after_startsecs_passes_through_running() {
    let (mut p, mut os, mut fx) = (process(|c| c.startsecs = 0), FakeOs::new(), vec![]);
    p.transition(100.0, RUN, &mut os, &mut fx);
    fx.clear();
    p.finish(0, "exit status 0", 100.2, &mut fx);
    assert_eq!(changes(&fx), vec![(Starting, Running), (Running, Exited)]);
    assert_eq!(logs(&fx), vec!["INFO exited: p (exit status 0; expected)"]);
}

#[test]
fn stop_signals_then_sigkills_every_stopwaitsecs() {
    let (mut p, mut os, mut fx) = (process(|c| c.stopwaitsecs = 5), FakeOs::new(), vec![]);
    running(&mut p, &mut os);
    assert_eq!(p.stop(200.0, &mut os, &mut fx), None);
    assert_eq!(p.state, Stopping);
    assert_eq!(os.kills, vec![(42, libc::SIGTERM)]);
    assert_eq!(logs(&fx), vec!["DEBG killing p (pid 42) with signal SIGTERM"]);
    fx.clear();
    p.transition(204.9, RUN, &mut os, &mut fx);
    assert_eq!(os.kills.len(), 1);
    p.transition(205.0, RUN, &mut os, &mut fx);
    assert_eq!(os.kills[1], (42, libc::SIGKILL));
    assert_eq!(
        logs(&fx),
        vec!["WARN killing 'p' (42) with SIGKILL", "DEBG killing p (pid 42) with signal SIGKILL"]
    );
    p.transition(210.0, RUN, &mut os, &mut fx);
    assert_eq!(os.kills[2], (42, libc::SIGKILL));
    fx.clear();
    p.finish(-1, "terminated by SIGKILL", 211.0, &mut fx);
    assert_eq!(p.state, Stopped);
    assert_eq!(p.exitstatus, Some(-1));
    assert_eq!(logs(&fx), vec!["WARN stopped: p (terminated by SIGKILL)"]);
}

#[test]
fn stopasgroup_sends_the_stop_signal_and_killasgroup_the_sigkill_to_the_group() {
    let (mut p, mut os, mut fx) =
        (process(|c| (c.stopasgroup, c.killasgroup) = (true, true)), FakeOs::new(), vec![]);
    running(&mut p, &mut os);
    p.stop(200.0, &mut os, &mut fx);
    p.transition(211.0, RUN, &mut os, &mut fx);
    assert_eq!(os.kills, vec![(-42, libc::SIGTERM), (-42, libc::SIGKILL)]);
    assert!(logs(&fx)[0].ends_with("(pid 42) process group with signal SIGTERM"));
    let (mut q, mut os, mut fx) = (process(|c| c.killasgroup = true), FakeOs::new(), vec![]);
    running(&mut q, &mut os);
    q.stop(200.0, &mut os, &mut fx);
    q.transition(211.0, RUN, &mut os, &mut fx);
    assert_eq!(os.kills, vec![(42, libc::SIGTERM), (-42, libc::SIGKILL)]);
}

#[test]
fn clean_exit_after_stop_is_info() {
    let (mut p, mut os, mut fx) = (process(|_| {}), FakeOs::new(), vec![]);
    running(&mut p, &mut os);
    p.stop(200.0, &mut os, &mut fx);
    fx.clear();
    p.finish(0, "exit status 0", 200.1, &mut fx);
    assert_eq!(logs(&fx), vec!["INFO stopped: p (exit status 0)"]);
}

#[test]
fn stopping_a_backoff_process_stops_it_without_a_signal() {
    let (mut p, mut os, mut fx) = (process(|_| {}), FakeOs::new(), vec![]);
    p.transition(100.0, RUN, &mut os, &mut fx);
    p.finish(1, "exit status 1", 100.1, &mut fx);
    fx.clear();
    assert_eq!(p.stop(100.2, &mut os, &mut fx), None);
    assert_eq!(p.state, Stopped);
    assert!(os.kills.is_empty());
    assert_eq!(logs(&fx), vec!["DEBG Attempted to kill p, which is in BACKOFF state."]);
    match &fx[1] {
        Effect::StateChange(c) => assert_eq!((c.from, c.to, c.pid), (Backoff, Stopped, 0)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn kill_and_signal_of_a_stopped_process_report_it() {
    let (mut p, mut os, mut fx) = (process(|_| {}), FakeOs::new(), vec![]);
    assert_eq!(
        p.kill(libc::SIGTERM, 1.0, &mut os, &mut fx).as_deref(),
        Some("attempted to kill p with sig SIGTERM but it wasn't running")
    );
    assert_eq!(
        p.signal(libc::SIGHUP, 1.0, &mut os, &mut fx).as_deref(),
        Some("attempted to send p sig SIGHUP but it wasn't running")
    );
}

#[test]
fn esrch_is_ignored_and_other_kill_errors_make_the_state_unknown() {
    let (mut p, mut os, mut fx) = (process(|_| {}), FakeOs::new(), vec![]);
    running(&mut p, &mut os);
    os.kill_error = Some(Errno::ESRCH);
    assert_eq!(p.stop(200.0, &mut os, &mut fx), None);
    assert_eq!(p.state, Stopping);
    assert!(logs(&fx)[1].contains("it probably just exited on its own: [Errno 3] No such process"));

    let (mut q, mut os, mut fx) = (process(|_| {}), FakeOs::new(), vec![]);
    running(&mut q, &mut os);
    os.kill_error = Some(Errno::EPERM);
    let message = q.stop(200.0, &mut os, &mut fx).unwrap();
    assert!(message.starts_with("unknown problem killing p (42):"));
    assert_eq!((q.state, q.killing, q.delay), (Unknown, false, 0.0));
    assert!(logs(&fx).iter().any(|l| l.starts_with("CRIT unknown problem killing p (42)")));
}

#[test]
fn signal_goes_to_the_pid_only() {
    let (mut p, mut os, mut fx) = (process(|c| c.stopasgroup = true), FakeOs::new(), vec![]);
    running(&mut p, &mut os);
    assert_eq!(p.signal(libc::SIGUSR1, 200.0, &mut os, &mut fx), None);
    assert_eq!(os.kills, vec![(42, libc::SIGUSR1)]);
    assert_eq!(p.state, Running);
    assert_eq!(logs(&fx).last().map(String::as_str), Some("DEBG sending p (pid 42) sig SIGUSR1"));
}

#[test]
fn give_up_turns_backoff_into_fatal_for_shutdown() {
    let (mut p, mut os, mut fx) = (process(|_| {}), FakeOs::new(), vec![]);
    p.transition(100.0, RUN, &mut os, &mut fx);
    p.finish(1, "exit status 1", 100.1, &mut fx);
    p.give_up(100.2, &mut fx);
    assert_eq!((p.state, p.backoff, p.system_stop), (Fatal, 0, true));
}

#[test]
fn stop_report_is_throttled_to_every_two_seconds() {
    let (mut p, mut os, mut fx) = (process(|_| {}), FakeOs::new(), vec![]);
    running(&mut p, &mut os);
    p.stop(200.0, &mut os, &mut fx);
    fx.clear();
    for now in [200.0, 201.0, 202.5, 203.0, 204.6] {
        p.stop_report(now, &mut fx);
    }
    assert_eq!(logs(&fx), vec!["INFO waiting for p to stop"; 3]);
}

#[test]
fn spawning_a_running_process_warns() {
    let (mut p, mut os, mut fx) = (process(|_| {}), FakeOs::new(), vec![]);
    running(&mut p, &mut os);
    fx.clear();
    assert_eq!(p.spawn(300.0, &mut os, &mut fx), None);
    assert_eq!(logs(&fx), vec!["WARN process 'p' already running"]);
}

#[test]
fn a_clock_that_jumps_back_does_not_strand_a_starting_process() {
    let (mut p, mut os, mut fx) = (process(|c| c.startsecs = 5), FakeOs::new(), vec![]);
    p.transition(1000.0, RUN, &mut os, &mut fx);
    // The clock goes back an hour: laststart is pulled back so RUNNING still comes 5 s later.
    p.transition(-2600.0 + 1000.0, RUN, &mut os, &mut fx);
    assert_eq!(p.laststart, -1600.0);
    p.transition(-1594.0, RUN, &mut os, &mut fx);
    assert_eq!(p.state, Running);
}

#[test]
fn exit_with_laststart_in_the_future_is_not_too_quick() {
    let (mut p, mut os, mut fx) = (process(|_| {}), FakeOs::new(), vec![]);
    running(&mut p, &mut os);
    p.laststart = 500.0;
    fx.clear();
    p.finish(0, "exit status 0", 300.0, &mut fx);
    assert_eq!(p.state, Exited);
    assert!(logs(&fx)[0].starts_with("WARN process 'p' (42) laststart time is in the future"));
}

#[test]
fn deadlines_follow_the_state() {
    let (mut p, mut os, mut fx) = (process(|c| c.startsecs = 3), FakeOs::new(), vec![]);
    assert_eq!(p.next_deadline(RUN), Some(0.0));
    assert_eq!(p.next_deadline(SupervisorState::Shutdown), None);
    p.transition(100.0, RUN, &mut os, &mut fx);
    assert_eq!(p.next_deadline(RUN), Some(103.0));
    p.finish(1, "exit status 1", 100.5, &mut fx);
    assert_eq!(p.next_deadline(RUN), Some(101.5));
    assert_eq!(p.next_deadline(SupervisorState::Shutdown), None);
}
