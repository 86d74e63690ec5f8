//! What happens to each chunk of a child's output (`dispatchers.POutputDispatcher`): capture
//! mode with its `<!--XSUPERVISOR:BEGIN-->`/`<!--XSUPERVISOR:END-->` tokens and bounded buffer,
//! `strip_ansi`, and the fan-out to the log file, syslog, the main log at DEBG and the
//! PROCESS_LOG / PROCESS_COMMUNICATION event hook. Pure: the effects go through an
//! [`OutputSink`], so the token parser is tested without pipes.

use std::borrow::Cow;

/// The token that starts capture mode.
pub const BEGIN_TOKEN: &[u8] = b"<!--XSUPERVISOR:BEGIN-->";
/// The token that ends it.
pub const END_TOKEN: &[u8] = b"<!--XSUPERVISOR:END-->";

/// Where a dispatcher's output goes. The dispatcher decides what goes where; the sink does it.
pub trait OutputSink {
    /// The normal log: the log file and `*_syslog`.
    fn normal(&mut self, data: &[u8]);
    /// The main log at DEBG (`'name' stdout output:`), only when the level lets it through.
    fn mirror(&mut self, data: &[u8]);
    /// A PROCESS_LOG_STDOUT/STDERR event (`*_events_enabled`).
    fn log_event(&mut self, data: &[u8]);
    /// A PROCESS_COMMUNICATION_STDOUT/STDERR event with what capture mode collected; the sink
    /// also logs `'name' stdout emitted a comm event` at DEBG.
    fn communication(&mut self, data: Vec<u8>);
}

/// What a channel does with its output besides the normal log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OutputSettings {
    /// `strip_ansi` of `[supervisord]` (or `-t`).
    pub strip_ansi: bool,
    /// The main log's level is DEBG or lower.
    pub mirror: bool,
    /// `*_events_enabled`.
    pub events: bool,
    /// `*_capture_maxbytes`; 0 disables capture mode.
    pub capture_maxbytes: i64,
}

impl OutputSettings {
    /// Whether anything must look at the bytes. When nothing does, they can go from the pipe
    /// to the file without passing through user space.
    pub fn looks_at_bytes(&self) -> bool {
        self.strip_ansi || self.mirror || self.events || self.capture_maxbytes != 0
    }
}

/// One output channel's dispatcher state.
#[derive(Debug)]
pub struct OutputDispatcher {
    settings: OutputSettings,
    capture: Option<Capture>,
}

/// Capture-mode state, present only when `*_capture_maxbytes` is set (Python's shortcut: with
/// no capture log, output is never searched for tokens nor held back).
#[derive(Debug)]
struct Capture {
    capturing: bool,
    /// `output_buffer`: bytes held back because they may start a token.
    pending: Vec<u8>,
    log: BoundIo,
}

impl OutputDispatcher {
    pub fn new(settings: OutputSettings) -> OutputDispatcher {
        let capture = (settings.capture_maxbytes != 0).then(|| Capture {
            capturing: false,
            pending: Vec::new(),
            log: BoundIo::new(settings.capture_maxbytes),
        });
        OutputDispatcher { settings, capture }
    }

    /// `handle_read_event` for one chunk read from the pipe (`record_output`).
    pub fn feed(&mut self, data: &[u8], sink: &mut dyn OutputSink) {
        let Some(capture) = &mut self.capture else {
            log(&self.settings, None, data, sink);
            return;
        };
        // Python appends to its buffer and re-splits; borrowing the chunk when nothing is held
        // back saves that copy on the common path.
        let mut held = std::mem::take(&mut capture.pending);
        let mut data: &[u8] = if held.is_empty() {
            data
        } else {
            held.extend_from_slice(data);
            &held
        };
        loop {
            let token = if capture.capturing { END_TOKEN } else { BEGIN_TOKEN };
            if data.len() <= token.len() {
                capture.pending = data.to_vec();
                return;
            }
            match find(data, token) {
                None => {
                    let keep = find_prefix_at_end(data, token);
                    let (logged, kept) = data.split_at(data.len() - keep);
                    capture.pending = kept.to_vec();
                    log(&self.settings, capturing_log(capture), logged, sink);
                    return;
                }
                Some(at) => {
                    log(&self.settings, capturing_log(capture), &data[..at], sink);
                    capture.toggle(sink);
                    data = &data[at + token.len()..];
                    if data.is_empty() {
                        return;
                    }
                }
            }
        }
    }

    /// End of output: what capture mode still holds back goes out through the current log.
    /// Python keeps it forever (GOT-21), so the last words of a program that ends with fewer
    /// than 24 bytes after a token never reach its log; we write them.
    pub fn finish(&mut self, sink: &mut dyn OutputSink) {
        if let Some(capture) = &mut self.capture {
            let held = std::mem::take(&mut capture.pending);
            log(&self.settings, capturing_log(capture), &held, sink);
        }
    }

    /// `removelogs` for the capture log: what was being captured is forgotten.
    pub fn clear(&mut self) {
        if let Some(capture) = &mut self.capture {
            capture.log.clear();
        }
    }
}

impl Capture {
    /// `toggle_capturemode`: leaving capture mode emits what was captured.
    fn toggle(&mut self, sink: &mut dyn OutputSink) {
        self.capturing = !self.capturing;
        if !self.capturing {
            sink.communication(self.log.take());
        }
    }
}

fn capturing_log(capture: &mut Capture) -> Option<&mut BoundIo> {
    if capture.capturing { Some(&mut capture.log) } else { None }
}

/// `_log`: strip escapes if asked, write to the capture log while capturing (else the normal
/// log), mirror into the main log, emit the PROCESS_LOG event.
fn log(
    settings: &OutputSettings,
    capturing: Option<&mut BoundIo>,
    data: &[u8],
    sink: &mut dyn OutputSink,
) {
    if data.is_empty() {
        return;
    }
    let data: Cow<'_, [u8]> =
        if settings.strip_ansi { Cow::Owned(strip_escapes(data)) } else { Cow::Borrowed(data) };
    match capturing {
        Some(log) => log.write(&data),
        None => sink.normal(&data),
    }
    if settings.mirror {
        sink.mirror(&data);
    }
    if settings.events {
        sink.log_event(&data);
    }
}

/// `loggers.BoundIO`, quirks included: when a write would take the buffer past `maxbytes`, as
/// many bytes as the write brings are dropped from the front first, so the buffer can hold
/// more than `maxbytes` after a large write.
#[derive(Debug)]
pub struct BoundIo {
    maxbytes: i64,
    buf: Vec<u8>,
}

impl BoundIo {
    pub fn new(maxbytes: i64) -> BoundIo {
        BoundIo { maxbytes, buf: Vec::new() }
    }

    pub fn write(&mut self, b: &[u8]) {
        if (self.buf.len() + b.len()) as i128 > i128::from(self.maxbytes) {
            let drop = b.len().min(self.buf.len());
            self.buf.drain(..drop);
        }
        self.buf.extend_from_slice(b);
    }

    /// `getvalue` followed by `clear`.
    pub fn take(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.buf)
    }

    pub fn clear(&mut self) {
        self.buf.clear();
    }
}

/// The first occurrence of `needle` in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// medusa's `find_prefix_at_end`: the length of the longest proper prefix of `needle` that
/// `haystack` ends with (bytes that may be the start of a token split across reads).
pub fn find_prefix_at_end(haystack: &[u8], needle: &[u8]) -> usize {
    let mut l = needle.len().saturating_sub(1);
    while l > 0 && !haystack.ends_with(&needle[..l]) {
        l -= 1;
    }
    l
}

/// The bytes that end an ANSI escape sequence for `stripEscapes`.
const ANSI_TERMINATORS: &[u8] = b"HfABCDRsuJKhlpm";

/// `stripEscapes`: drops everything from `ESC [` up to and including the next terminator
/// byte. The state does not carry across chunks, as in Python.
pub fn strip_escapes(s: &[u8]) -> Vec<u8> {
    let mut result = Vec::with_capacity(s.len());
    let mut show = true;
    let mut i = 0;
    while i < s.len() {
        if !show && ANSI_TERMINATORS.contains(&s[i]) {
            show = true;
        } else if show {
            match find(&s[i..], b"\x1b[") {
                None => {
                    result.extend_from_slice(&s[i..]);
                    return result;
                }
                Some(offset) => {
                    result.extend_from_slice(&s[i..i + offset]);
                    i += offset;
                    show = false;
                }
            }
        }
        i += 1;
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records what the dispatcher asked for, in order.
    #[derive(Default)]
    struct Recorder {
        normal: Vec<u8>,
        mirrored: Vec<Vec<u8>>,
        events: Vec<Vec<u8>>,
        comms: Vec<Vec<u8>>,
    }

    impl OutputSink for Recorder {
        fn normal(&mut self, data: &[u8]) {
            self.normal.extend_from_slice(data);
        }
        fn mirror(&mut self, data: &[u8]) {
            self.mirrored.push(data.to_vec());
        }
        fn log_event(&mut self, data: &[u8]) {
            self.events.push(data.to_vec());
        }
        fn communication(&mut self, data: Vec<u8>) {
            self.comms.push(data);
        }
    }

    fn capture(maxbytes: i64) -> OutputDispatcher {
        OutputDispatcher::new(OutputSettings { capture_maxbytes: maxbytes, ..Default::default() })
    }

    fn run(d: &mut OutputDispatcher, chunks: &[&[u8]]) -> Recorder {
        let mut r = Recorder::default();
        for chunk in chunks {
            d.feed(chunk, &mut r);
        }
        r
    }

    const LONG_TAIL: &[u8] = b" and then some more normal output";

    #[test]
    fn without_capture_everything_goes_to_the_normal_log_at_once() {
        let mut d = OutputDispatcher::new(OutputSettings::default());
        let r = run(&mut d, &[b"<!--XSUPERVISOR:BEGIN-->x", b"y"]);
        assert_eq!(r.normal, b"<!--XSUPERVISOR:BEGIN-->xy");
        assert!(r.comms.is_empty());
    }

    #[test]
    fn captured_text_is_a_comm_event_and_not_logged() {
        let mut d = capture(1 << 20);
        let mut chunk = b"before <!--XSUPERVISOR:BEGIN-->payload<!--XSUPERVISOR:END-->".to_vec();
        chunk.extend_from_slice(LONG_TAIL);
        let r = run(&mut d, &[&chunk]);
        assert_eq!(r.comms, vec![b"payload".to_vec()]);
        let mut expected = b"before ".to_vec();
        expected.extend_from_slice(LONG_TAIL);
        assert_eq!(r.normal, expected);
    }

    #[test]
    fn tokens_split_across_reads_at_every_position() {
        let mut whole =
            b"head text <!--XSUPERVISOR:BEGIN-->captured<!--XSUPERVISOR:END-->".to_vec();
        whole.extend_from_slice(LONG_TAIL);
        for cut in 1..whole.len() {
            for cut2 in cut..whole.len() {
                let mut d = capture(1 << 20);
                let mut r = run(&mut d, &[&whole[..cut], &whole[cut..cut2], &whole[cut2..]]);
                d.finish(&mut r);
                assert_eq!(r.comms, vec![b"captured".to_vec()], "cuts {cut} {cut2}");
                let mut expected = b"head text ".to_vec();
                expected.extend_from_slice(LONG_TAIL);
                assert_eq!(r.normal, expected, "cuts {cut} {cut2}");
            }
        }
    }

    #[test]
    fn short_output_is_held_until_more_arrives_or_the_end() {
        let mut d = capture(100);
        let mut r = run(&mut d, &[b"short"]);
        assert_eq!(r.normal, b"");
        d.feed(b" but now long enough to pass the token length", &mut r);
        assert_eq!(r.normal, b"short but now long enough to pass the token length");
        d.feed(b"tail <!--XSUPER", &mut r);
        d.finish(&mut r);
        assert!(r.normal.ends_with(b"tail <!--XSUPER"), "{:?}", String::from_utf8_lossy(&r.normal));
    }

    #[test]
    fn a_partial_begin_token_is_held_back() {
        let mut d = capture(100);
        let r = run(&mut d, &[b"0123456789012345678901234567890<!--XSUPERVISOR:BE"]);
        assert_eq!(r.normal, b"0123456789012345678901234567890");
    }

    #[test]
    fn events_and_mirror_see_captured_data_too() {
        let mut d = OutputDispatcher::new(OutputSettings {
            capture_maxbytes: 100,
            mirror: true,
            events: true,
            strip_ansi: false,
        });
        let mut chunk = b"<!--XSUPERVISOR:BEGIN-->abc<!--XSUPERVISOR:END-->".to_vec();
        chunk.extend_from_slice(LONG_TAIL);
        let r = run(&mut d, &[&chunk]);
        assert_eq!(r.mirrored, vec![b"abc".to_vec(), LONG_TAIL.to_vec()]);
        assert_eq!(r.events, r.mirrored);
        assert_eq!(r.normal, LONG_TAIL);
    }

    #[test]
    fn the_capture_buffer_is_bounded_like_bound_io() {
        let mut b = BoundIo::new(10);
        b.write(b"12345678");
        b.write(b"abcd");
        assert_eq!(b.take(), b"5678abcd");
        b.write(&[b'x'; 20]);
        assert_eq!(b.take().len(), 20);
    }

    #[test]
    fn clear_forgets_the_capture() {
        let mut d = capture(100);
        // Only what reached the capture log is forgotten; bytes held back for a possible
        // token are not, as in Python.
        let mut r =
            run(&mut d, &[b"<!--XSUPERVISOR:BEGIN-->this text is long enough to be captured"]);
        d.clear();
        let mut end = b"kept<!--XSUPERVISOR:END-->".to_vec();
        end.extend_from_slice(LONG_TAIL);
        d.feed(&end, &mut r);
        assert_eq!(r.comms, vec![b"kept".to_vec()]);
    }

    #[test]
    fn strip_escapes_matches_python() {
        assert_eq!(strip_escapes(b"\x1b[31mred\x1b[0m plain"), b"red plain");
        assert_eq!(strip_escapes(b"a\x1b[2J\x1b[1;1Hb"), b"ab");
        assert_eq!(strip_escapes(b"no escapes"), b"no escapes");
        assert_eq!(strip_escapes(b"cut \x1b[12;3"), b"cut ");
        assert_eq!(strip_escapes(b"\x1b[xyzmrest"), b"rest");
        assert_eq!(strip_escapes(b"lone \x1b here"), b"lone \x1b here");
        assert_eq!(strip_escapes(b""), b"");
    }

    #[test]
    fn strip_ansi_applies_before_everything() {
        let mut d = OutputDispatcher::new(OutputSettings {
            strip_ansi: true,
            mirror: true,
            ..Default::default()
        });
        let r = run(&mut d, &[b"\x1b[1mbold\x1b[0m"]);
        assert_eq!(r.normal, b"bold");
        assert_eq!(r.mirrored, vec![b"bold".to_vec()]);
    }

    #[test]
    fn prefix_at_end() {
        assert_eq!(find_prefix_at_end(b"abc<!--X", BEGIN_TOKEN), 5);
        assert_eq!(find_prefix_at_end(b"abc", BEGIN_TOKEN), 0);
        assert_eq!(find_prefix_at_end(b"<", BEGIN_TOKEN), 1);
        assert!(OutputSettings { capture_maxbytes: 1, ..Default::default() }.looks_at_bytes());
        assert!(!OutputSettings::default().looks_at_bytes());
    }
}
