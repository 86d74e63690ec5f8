//! supervisor's events (`events.py`): the event types with their class hierarchy (which decides
//! what a subscription to an abstract type receives), each event's payload text, the envelope a
//! listener reads, and the tick time slices. Pools and the listener protocol are in the
//! submodules; the process table owns the pools and notifies them.

pub mod listener;
pub mod pool;

use crate::process::state::ProcessState;

/// Declares [`EventType`] once: the variants, their names, and the list of all of them.
macro_rules! event_types {
    ($($variant:ident => $name:literal,)*) => {
        /// Every event type supervisor names, concrete and abstract, in `EventTypes` order.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum EventType {
            $($variant,)*
        }

        const ALL: &[EventType] = &[$(EventType::$variant,)*];

        impl EventType {
            /// The name listeners see in `eventname:` and configs use in `events=`.
            pub fn name(self) -> &'static str {
                match self {
                    $(EventType::$variant => $name,)*
                }
            }
        }
    };
}

event_types! {
    Event => "EVENT",
    ProcessState => "PROCESS_STATE",
    ProcessStateStopped => "PROCESS_STATE_STOPPED",
    ProcessStateExited => "PROCESS_STATE_EXITED",
    ProcessStateStarting => "PROCESS_STATE_STARTING",
    ProcessStateStopping => "PROCESS_STATE_STOPPING",
    ProcessStateBackoff => "PROCESS_STATE_BACKOFF",
    ProcessStateFatal => "PROCESS_STATE_FATAL",
    ProcessStateRunning => "PROCESS_STATE_RUNNING",
    ProcessStateUnknown => "PROCESS_STATE_UNKNOWN",
    ProcessCommunication => "PROCESS_COMMUNICATION",
    ProcessCommunicationStdout => "PROCESS_COMMUNICATION_STDOUT",
    ProcessCommunicationStderr => "PROCESS_COMMUNICATION_STDERR",
    ProcessLog => "PROCESS_LOG",
    ProcessLogStdout => "PROCESS_LOG_STDOUT",
    ProcessLogStderr => "PROCESS_LOG_STDERR",
    RemoteCommunication => "REMOTE_COMMUNICATION",
    SupervisorStateChange => "SUPERVISOR_STATE_CHANGE",
    SupervisorStateChangeRunning => "SUPERVISOR_STATE_CHANGE_RUNNING",
    SupervisorStateChangeStopping => "SUPERVISOR_STATE_CHANGE_STOPPING",
    Tick => "TICK",
    Tick5 => "TICK_5",
    Tick60 => "TICK_60",
    Tick3600 => "TICK_3600",
    ProcessGroup => "PROCESS_GROUP",
    ProcessGroupAdded => "PROCESS_GROUP_ADDED",
    ProcessGroupRemoved => "PROCESS_GROUP_REMOVED",
}

impl EventType {
    /// `getattr(EventTypes, name)` for an upper-cased `events=` entry.
    pub fn from_name(name: &str) -> Option<EventType> {
        ALL.iter().copied().find(|t| t.name() == name)
    }

    /// The Python base class, for `isinstance` (the `ProcessStateStartingOrBackoffEvent`
    /// class between BACKOFF/STARTING and PROCESS_STATE has no name and no subscribers).
    fn parent(self) -> Option<EventType> {
        use EventType::*;
        Some(match self {
            Event => return None,
            ProcessState
            | ProcessCommunication
            | ProcessLog
            | RemoteCommunication
            | SupervisorStateChange
            | Tick
            | ProcessGroup => Event,
            ProcessStateStopped | ProcessStateExited | ProcessStateStarting
            | ProcessStateStopping | ProcessStateBackoff | ProcessStateFatal
            | ProcessStateRunning | ProcessStateUnknown => ProcessState,
            ProcessCommunicationStdout | ProcessCommunicationStderr => ProcessCommunication,
            ProcessLogStdout | ProcessLogStderr => ProcessLog,
            SupervisorStateChangeRunning | SupervisorStateChangeStopping => SupervisorStateChange,
            Tick5 | Tick60 | Tick3600 => Tick,
            ProcessGroupAdded | ProcessGroupRemoved => ProcessGroup,
        })
    }

    /// `isinstance(event, subscribed)`: whether a subscription to `subscribed` receives
    /// events of this type.
    pub fn is_a(self, subscribed: EventType) -> bool {
        let mut t = Some(self);
        while let Some(ty) = t {
            if ty == subscribed {
                return true;
            }
            t = ty.parent();
        }
        false
    }

    /// The event type of a process state, as `Subprocess.event_map` has it.
    pub fn of_state(state: ProcessState) -> EventType {
        match state {
            ProcessState::Stopped => EventType::ProcessStateStopped,
            ProcessState::Starting => EventType::ProcessStateStarting,
            ProcessState::Running => EventType::ProcessStateRunning,
            ProcessState::Backoff => EventType::ProcessStateBackoff,
            ProcessState::Stopping => EventType::ProcessStateStopping,
            ProcessState::Exited => EventType::ProcessStateExited,
            ProcessState::Fatal => EventType::ProcessStateFatal,
            ProcessState::Unknown => EventType::ProcessStateUnknown,
        }
    }

    /// The tick types with their periods in seconds (`TICK_EVENTS`).
    pub const TICKS: [(EventType, i64); 3] =
        [(EventType::Tick5, 5), (EventType::Tick60, 60), (EventType::Tick3600, 3600)];
}

/// One event: its type and its payload, rendered when it happens (Python renders the payload
/// at delivery, but every value in it is fixed by then: the extra values are captured eagerly
/// and names do not change).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub kind: EventType,
    pub payload: String,
}

/// Output data as a payload shows it: decoded, or `Undecodable: b'...'`.
fn payload_data(data: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(data) {
        Ok(text) => std::borrow::Cow::Borrowed(text),
        Err(_) => std::borrow::Cow::Owned(format!(
            "Undecodable: {}",
            crate::process::io::bytes_repr(data)
        )),
    }
}

impl Event {
    /// A `PROCESS_STATE_*` event. `tries` is the backoff count (STARTING and BACKOFF), `pid`
    /// and `expected` are as the process had them at the change.
    pub fn process_state(
        to: ProcessState,
        process: &str,
        group: &str,
        from: ProcessState,
        tries: i64,
        expected: bool,
        pid: i32,
    ) -> Event {
        let mut payload =
            format!("processname:{process} groupname:{group} from_state:{}", from.name());
        match to {
            ProcessState::Starting | ProcessState::Backoff => {
                payload.push_str(&format!(" tries:{tries}"));
            }
            ProcessState::Exited => {
                payload.push_str(&format!(" expected:{} pid:{pid}", i32::from(expected)));
            }
            ProcessState::Running | ProcessState::Stopping | ProcessState::Stopped => {
                payload.push_str(&format!(" pid:{pid}"));
            }
            ProcessState::Fatal | ProcessState::Unknown => {}
        }
        Event { kind: EventType::of_state(to), payload }
    }

    /// `PROCESS_LOG_STDOUT` / `PROCESS_LOG_STDERR`.
    pub fn process_log(stderr: bool, process: &str, group: &str, pid: i32, data: &[u8]) -> Event {
        let (kind, channel) = if stderr {
            (EventType::ProcessLogStderr, "stderr")
        } else {
            (EventType::ProcessLogStdout, "stdout")
        };
        let payload = format!(
            "processname:{process} groupname:{group} pid:{pid} channel:{channel}\n{}",
            payload_data(data)
        );
        Event { kind, payload }
    }

    /// `PROCESS_COMMUNICATION_STDOUT` / `PROCESS_COMMUNICATION_STDERR`.
    pub fn process_communication(
        stderr: bool,
        process: &str,
        group: &str,
        pid: i32,
        data: &[u8],
    ) -> Event {
        let kind = if stderr {
            EventType::ProcessCommunicationStderr
        } else {
            EventType::ProcessCommunicationStdout
        };
        let payload =
            format!("processname:{process} groupname:{group} pid:{pid}\n{}", payload_data(data));
        Event { kind, payload }
    }

    /// `REMOTE_COMMUNICATION` from `sendRemoteCommEvent`.
    pub fn remote_communication(kind: &str, data: &str) -> Event {
        Event { kind: EventType::RemoteCommunication, payload: format!("type:{kind}\n{data}") }
    }

    /// `SUPERVISOR_STATE_CHANGE_RUNNING` / `_STOPPING`: no payload.
    pub fn supervisor_state(running: bool) -> Event {
        let kind = if running {
            EventType::SupervisorStateChangeRunning
        } else {
            EventType::SupervisorStateChangeStopping
        };
        Event { kind, payload: String::new() }
    }

    /// `PROCESS_GROUP_ADDED` / `PROCESS_GROUP_REMOVED`.
    pub fn process_group(added: bool, group: &str) -> Event {
        let kind =
            if added { EventType::ProcessGroupAdded } else { EventType::ProcessGroupRemoved };
        Event { kind, payload: format!("groupname:{group}\n") }
    }

    /// `TICK_5` / `TICK_60` / `TICK_3600` for the slice starting at `when`.
    pub fn tick(kind: EventType, when: i64) -> Event {
        Event { kind, payload: format!("when:{when}") }
    }
}

/// `timeslice(period, when)`: the start of the `period`-second slice holding `when`.
pub fn timeslice(period: i64, when: f64) -> i64 {
    let period_f = period as f64;
    (when - when.rem_euclid(period_f)) as i64
}

/// The header and payload a listener reads for one event. `len` counts the payload's
/// characters, as Python's `len(str)` does, though the bytes sent are UTF-8 (GOT-2).
pub fn envelope(
    identifier: &str,
    serial: i64,
    pool: &str,
    pool_serial: i64,
    event: &Event,
) -> Vec<u8> {
    format!(
        "ver:3.0 server:{identifier} serial:{serial} pool:{pool} poolserial:{pool_serial} \
         eventname:{} len:{}\n{}",
        event.kind.name(),
        event.payload.chars().count(),
        event.payload
    )
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_hierarchy_matches_isinstance() {
        // The loader validates `events=` against its own list; both must name the same types.
        let names: Vec<&str> = ALL.iter().map(|t| t.name()).collect();
        assert_eq!(names, crate::config::process::EVENT_TYPE_NAMES);
        for &t in ALL {
            assert_eq!(EventType::from_name(t.name()), Some(t));
            assert!(t.is_a(EventType::Event));
            assert!(t.is_a(t));
        }
        assert_eq!(EventType::from_name("NOPE"), None);
        assert!(EventType::ProcessStateBackoff.is_a(EventType::ProcessState));
        assert!(EventType::Tick60.is_a(EventType::Tick));
        assert!(!EventType::Tick60.is_a(EventType::Tick5));
        assert!(EventType::ProcessLogStderr.is_a(EventType::ProcessLog));
        assert!(!EventType::ProcessLogStderr.is_a(EventType::ProcessCommunication));
        assert!(!EventType::RemoteCommunication.is_a(EventType::ProcessState));
    }

    #[test]
    fn payloads_are_supervisors() {
        let e = Event::process_state(
            ProcessState::Exited,
            "cat",
            "grp",
            ProcessState::Running,
            0,
            false,
            123,
        );
        assert_eq!(e.kind, EventType::ProcessStateExited);
        assert_eq!(
            e.payload,
            "processname:cat groupname:grp from_state:RUNNING expected:0 pid:123"
        );
        let e = Event::process_state(
            ProcessState::Starting,
            "cat",
            "cat",
            ProcessState::Backoff,
            2,
            true,
            0,
        );
        assert_eq!(e.payload, "processname:cat groupname:cat from_state:BACKOFF tries:2");
        let e =
            Event::process_state(ProcessState::Fatal, "a", "b", ProcessState::Backoff, 3, true, 0);
        assert_eq!(e.payload, "processname:a groupname:b from_state:BACKOFF");
        assert_eq!(
            Event::process_log(true, "a", "g", 7, b"x\xff").payload,
            "processname:a groupname:g pid:7 channel:stderr\nUndecodable: b'x\\xff'"
        );
        assert_eq!(
            Event::process_communication(false, "a", "g", 7, b"hi").payload,
            "processname:a groupname:g pid:7\nhi"
        );
        assert_eq!(Event::remote_communication("t", "d").payload, "type:t\nd");
        assert_eq!(Event::process_group(true, "g").payload, "groupname:g\n");
        assert_eq!(Event::tick(EventType::Tick5, 1_700_000_005).payload, "when:1700000005");
    }

    #[test]
    fn envelope_counts_characters() {
        let e = Event::remote_communication("t", "\u{e9}t\u{e9}");
        let env = envelope("supervisor", 4, "pool", 2, &e);
        assert_eq!(
            String::from_utf8(env).unwrap(),
            "ver:3.0 server:supervisor serial:4 pool:pool poolserial:2 \
             eventname:REMOTE_COMMUNICATION len:10\ntype:t\n\u{e9}t\u{e9}"
        );
    }

    #[test]
    fn timeslices() {
        assert_eq!(timeslice(5, 1_700_000_003.7), 1_700_000_000);
        assert_eq!(timeslice(60, 1_700_000_003.7), 1_699_999_980);
        assert_eq!(timeslice(3600, 7200.0), 7200);
    }
}
