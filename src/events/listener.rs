//! The event listener protocol as supervisor reads it from a listener's stdout
//! (`PEventListenerDispatcher.handle_listener_state_change`): `READY\n`, then
//! `RESULT <len>\n<result>` after each event, with the listener states and their log lines.
//! Pure: what the table must do (forget or re-queue the event in hand) comes back as [`Step`]s.

use crate::config::datatypes::LogLevel;

/// `EventListenerStates`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListenerState {
    Ready,
    Busy,
    Acknowledged,
    Unknown,
}

impl ListenerState {
    pub fn name(self) -> &'static str {
        match self {
            ListenerState::Ready => "READY",
            ListenerState::Busy => "BUSY",
            ListenerState::Acknowledged => "ACKNOWLEDGED",
            ListenerState::Unknown => "UNKNOWN",
        }
    }
}

/// What the table does for one protocol step, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Log(LogLevel, String),
    /// `process.event = None`.
    ForgetEvent,
    /// `notify(EventRejectedEvent(process, process.event))`: the pool puts the event in hand
    /// back at the head of its buffer. The event is forgotten afterwards.
    Reject,
}

const READY_TOKEN: &[u8] = b"READY\n";
const RESULT_TOKEN_START_LEN: usize = b"RESULT ".len();

/// One listener process's side of the protocol, made fresh at every spawn.
#[derive(Debug)]
pub struct Protocol {
    pub state: ListenerState,
    buffer: Vec<u8>,
    result: Vec<u8>,
    resultlen: Option<usize>,
}

impl Default for Protocol {
    fn default() -> Self {
        Protocol::new()
    }
}

impl Protocol {
    /// A new listener starts ACKNOWLEDGED: busy until it says READY.
    pub fn new() -> Protocol {
        Protocol {
            state: ListenerState::Acknowledged,
            buffer: Vec::new(),
            result: Vec::new(),
            resultlen: None,
        }
    }

    /// Dispatch marks a listener BUSY directly (no log line) when it writes an event to it.
    pub fn sent_event(&mut self) {
        self.state = ListenerState::Busy;
    }

    /// Bytes read from the listener's stdout. `name` is the process name for log lines.
    pub fn feed(&mut self, data: &[u8], name: &str) -> Vec<Step> {
        let mut steps = Vec::new();
        self.buffer.extend_from_slice(data);
        while !self.buffer.is_empty() {
            match self.state {
                ListenerState::Unknown => {
                    // Fatal: whatever it says is ignored.
                    self.buffer.clear();
                }
                ListenerState::Acknowledged => {
                    if self.buffer.len() < READY_TOKEN.len() {
                        break;
                    }
                    if self.buffer.starts_with(READY_TOKEN) {
                        self.change(ListenerState::Ready, name, &mut steps);
                        self.buffer.drain(..READY_TOKEN.len());
                    } else {
                        self.change(ListenerState::Unknown, name, &mut steps);
                        self.buffer.clear();
                    }
                    steps.push(Step::ForgetEvent);
                }
                ListenerState::Ready => {
                    // Anything said while READY is a protocol violation.
                    self.change(ListenerState::Unknown, name, &mut steps);
                    self.buffer.clear();
                    steps.push(Step::ForgetEvent);
                }
                ListenerState::Busy => {
                    if !self.busy(name, &mut steps) {
                        break;
                    }
                }
            }
        }
        steps
    }

    /// One pass of the BUSY branch; false when more bytes are needed.
    fn busy(&mut self, name: &str, steps: &mut Vec<Step>) -> bool {
        let Some(resultlen) = self.resultlen else {
            let Some(pos) = self.buffer.iter().position(|&b| b == b'\n') else { return false };
            let line: Vec<u8> = self.buffer.drain(..=pos).take(pos).collect();
            match parse_length(line.get(RESULT_TOKEN_START_LEN..).unwrap_or_default()) {
                Some(len) => {
                    self.resultlen = Some(len);
                    return true;
                }
                None => {
                    let shown = match std::str::from_utf8(&line) {
                        Ok(text) => text.to_string(),
                        Err(_) => {
                            format!("Undecodable: {}", crate::process::io::bytes_repr(&line))
                        }
                    };
                    steps.push(Step::Log(
                        LogLevel::Warn,
                        format!("{name}: bad result line: '{shown}'"),
                    ));
                    self.change(ListenerState::Unknown, name, steps);
                    self.buffer.clear();
                    steps.push(Step::Reject);
                    return true;
                }
            }
        };
        let needed = resultlen - self.result.len();
        let take = needed.min(self.buffer.len());
        self.result.extend(self.buffer.drain(..take));
        if self.result.len() == resultlen {
            let result = std::mem::take(&mut self.result);
            self.resultlen = None;
            // The default result handler: `OK` accepts, anything else rejects.
            if result == b"OK" {
                steps.push(Step::Log(LogLevel::Debug, format!("{name}: event was processed")));
                self.change(ListenerState::Acknowledged, name, steps);
                steps.push(Step::ForgetEvent);
            } else {
                steps.push(Step::Log(LogLevel::Warn, format!("{name}: event was rejected")));
                self.change(ListenerState::Acknowledged, name, steps);
                steps.push(Step::Reject);
            }
            return true;
        }
        !self.buffer.is_empty()
    }

    /// `_change_listener_state`.
    fn change(&mut self, to: ListenerState, name: &str, steps: &mut Vec<Step>) {
        steps.push(Step::Log(
            LogLevel::Debug,
            format!("{name}: {} -> {}", self.state.name(), to.name()),
        ));
        self.state = to;
        if to == ListenerState::Unknown {
            steps.push(Step::Log(
                LogLevel::Warn,
                format!(
                    "{name}: has entered the UNKNOWN state and will no longer receive events, \
                     this usually indicates the process violated the eventlistener protocol"
                ),
            ));
        }
    }
}

/// The result length after `RESULT `, as Python's `int(bytes)` reads it: surrounding
/// whitespace, an optional sign, decimal digits with single underscores between them.
/// A negative length is refused here; Python accepts it and then recurses until its
/// dispatcher dies with a RecursionError, closing the listener's stdout.
fn parse_length(text: &[u8]) -> Option<usize> {
    let is_space = |b: &u8| matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c);
    let start = text.iter().position(|b| !is_space(b))?;
    let end = text.iter().rposition(|b| !is_space(b))? + 1;
    let mut digits = &text[start..end];
    let mut negative = false;
    if let Some((&sign, rest)) = digits.split_first()
        && (sign == b'+' || sign == b'-')
    {
        negative = sign == b'-';
        digits = rest;
    }
    if digits.is_empty()
        || digits.first() == Some(&b'_')
        || digits.last() == Some(&b'_')
        || digits.windows(2).any(|w| w == b"__")
    {
        return None;
    }
    let mut value: usize = 0;
    for &b in digits {
        match b {
            b'_' => continue,
            b'0'..=b'9' => {
                // A length beyond memory never completes, as in Python.
                value = value.saturating_mul(10).saturating_add(usize::from(b - b'0'));
            }
            _ => return None,
        }
    }
    if negative && value != 0 { None } else { Some(value) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn logs(steps: &[Step]) -> Vec<String> {
        steps
            .iter()
            .filter_map(|s| match s {
                Step::Log(level, m) => Some(format!("{} {m}", level.name())),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn ready_then_ok_then_ready() {
        let mut p = Protocol::new();
        let steps = p.feed(b"READY\n", "l");
        assert_eq!(p.state, ListenerState::Ready);
        assert_eq!(logs(&steps), ["DEBG l: ACKNOWLEDGED -> READY"]);
        p.sent_event();
        let steps = p.feed(b"RESULT 2\nOKREADY\n", "l");
        assert_eq!(
            logs(&steps),
            [
                "DEBG l: event was processed",
                "DEBG l: BUSY -> ACKNOWLEDGED",
                "DEBG l: ACKNOWLEDGED -> READY"
            ]
        );
        assert!(!steps.contains(&Step::Reject));
        assert_eq!(p.state, ListenerState::Ready);
    }

    #[test]
    fn input_split_at_every_byte_gives_the_same_result() {
        let input = b"READY\n";
        let mut p = Protocol::new();
        for b in input {
            p.feed(&[*b], "l");
        }
        assert_eq!(p.state, ListenerState::Ready);
        p.sent_event();
        let mut steps = Vec::new();
        for b in b"RESULT 4\nFAIL" {
            steps.extend(p.feed(&[*b], "l"));
        }
        assert_eq!(p.state, ListenerState::Acknowledged);
        assert!(steps.contains(&Step::Reject));
        assert!(logs(&steps).contains(&"WARN l: event was rejected".to_string()));
    }

    #[test]
    fn protocol_violations_make_the_listener_unknown() {
        let mut p = Protocol::new();
        let steps = p.feed(b"READX\n", "l");
        assert_eq!(p.state, ListenerState::Unknown);
        assert!(logs(&steps)[1].starts_with("WARN l: has entered the UNKNOWN state"));
        assert!(p.feed(b"READY\n", "l").is_empty());

        let mut p = Protocol::new();
        p.feed(b"READY\n", "l");
        p.feed(b"x", "l");
        assert_eq!(p.state, ListenerState::Unknown);

        let mut p = Protocol::new();
        p.feed(b"READY\n", "l");
        p.sent_event();
        let steps = p.feed(b"RESULT two\n", "l");
        assert_eq!(logs(&steps)[0], "WARN l: bad result line: 'RESULT two'");
        assert!(steps.contains(&Step::Reject));
        assert_eq!(p.state, ListenerState::Unknown);
    }

    #[test]
    fn short_ready_waits_and_the_result_prefix_is_not_checked() {
        let mut p = Protocol::new();
        assert!(p.feed(b"READ", "l").is_empty());
        assert_eq!(p.state, ListenerState::Acknowledged);
        p.feed(b"Y\n", "l");
        p.sent_event();
        p.feed(b"XXXXXXX 2\nOK", "l");
        assert_eq!(p.state, ListenerState::Acknowledged);
    }

    #[test]
    fn lengths_parse_like_python_int() {
        assert_eq!(parse_length(b"2"), Some(2));
        assert_eq!(parse_length(b" 1_0 "), Some(10));
        assert_eq!(parse_length(b"+3"), Some(3));
        assert_eq!(parse_length(b"-0"), Some(0));
        assert_eq!(parse_length(b"007"), Some(7));
        for bad in [&b""[..], b"_1", b"1_", b"1__0", b"0x1", b"-1", b"+", b"1 2"] {
            assert_eq!(parse_length(bad), None, "{bad:?}");
        }
    }
}
