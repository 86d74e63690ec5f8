//! A running child's pipes: output captured into its log files (and syslog, the main log at
//! debug level and the output event hook), input written to its stdin, and the AUTO log files
//! named and cleaned up as supervisor does.
//!
//! Log bytes never pass through the actor: a task per output pipe writes them. When nothing
//! needs to look at the bytes (no capture mode, events, `strip_ansi`, syslog or debug
//! mirroring) and the log is a regular file, they go from the pipe to the file with
//! `splice(2)` and never enter user space. The actor only drains what is left when the child
//! is reaped, so the last output lands before `exited:`.

use crate::logs::capture::{OutputDispatcher, OutputSettings, OutputSink};
use crate::logs::files::{Dropped, LogFile, Lost};
use crate::logs::mainlog::{Logger, send_to_syslog, syslog_lines};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::net::unix::pipe;
use tokio::sync::mpsc;

/// supervisor reads child output in chunks of this size (`options.readfd`).
const READ_CHUNK: usize = 2 << 16;

/// Chunks one capture task handles before letting other tasks run, so a child writing without
/// pause cannot starve the actor or the HTTP servers.
const CHUNKS_PER_TURN: usize = 16;

thread_local! {
    /// The one read buffer for every pipe. Captures and the final drain run on the daemon's
    /// single runtime thread and never hold it across an await, so a thousand idle programs
    /// cost no buffers at all, and a busy one reuses this without zeroing it again.
    static READ_BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Runs `f` with the thread's read buffer (allocated on first use), or with a fresh one in the
/// unlikely case it is already borrowed.
fn with_read_buffer<R>(f: impl FnOnce(&mut [u8]) -> R) -> R {
    READ_BUFFER.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buf) => {
            if buf.is_empty() {
                buf.resize(READ_CHUNK, 0);
            }
            f(&mut buf)
        }
        Err(_) => f(&mut vec![0u8; READ_CHUNK]),
    })
}

/// Which kind of output event a capture produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputEventKind {
    /// PROCESS_LOG_STDOUT / PROCESS_LOG_STDERR (`*_events_enabled`).
    Log,
    /// PROCESS_COMMUNICATION_STDOUT / PROCESS_COMMUNICATION_STDERR (capture mode).
    Communication,
}

/// An output event as a capture produces it, for the event listeners.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputEvent {
    pub kind: OutputEventKind,
    /// `stdout` or `stderr`.
    pub channel: &'static str,
    pub process: String,
    pub group: String,
    pub pid: i32,
    pub data: Vec<u8>,
}

/// What capture tasks hand to the process table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Captured {
    /// A PROCESS_LOG or PROCESS_COMMUNICATION event from a program's output.
    Event(OutputEvent),
    /// Bytes an event listener wrote on its stdout, the protocol channel.
    Listener { pid: i32, data: Vec<u8> },
}

/// Where capture tasks send what the table must see.
pub type CaptureInbox = mpsc::UnboundedSender<Captured>;

/// A child log file and whether output is being dropped because it cannot be written.
struct ChildLog {
    file: LogFile,
    /// While writing fails: the bytes dropped so far. The failure is logged once, when it
    /// starts, and the recovery once, with the count.
    dropping: Option<u64>,
}

impl ChildLog {
    /// Gets a moved, deleted or closed file back before writing (see
    /// [`LogFile::reopen_if_lost`]).
    fn recover(&mut self, label: &str, logger: &Logger) {
        match self.file.reopen_if_lost(Instant::now()) {
            None | Some((Lost::Closed, Ok(()))) => {}
            Some((Lost::Moved, Ok(()))) => logger.warn(&format!(
                "{label} log file {} was moved or deleted; reopened it",
                self.file.path()
            )),
            Some((_, Err(error))) => {
                let text = crate::python::os_error(&error, Some(self.file.path()));
                self.failed(0, &text, label, logger);
            }
        }
    }

    fn write(&mut self, data: &[u8], label: &str, logger: &Logger) {
        self.recover(label, logger);
        match self.file.append(data) {
            Ok(()) => self.wrote(label, logger),
            Err(Dropped { bytes, error }) => {
                let text = crate::python::os_error(&error, None);
                self.failed(bytes, &text, label, logger);
            }
        }
        self.roll_over(label, logger);
    }

    fn roll_over(&mut self, label: &str, logger: &Logger) {
        if let Err(error) = self.file.rollover_if_due() {
            let text = crate::python::os_error(&error, Some(self.file.path()));
            self.failed(0, &text, label, logger);
        }
    }

    fn wrote(&mut self, label: &str, logger: &Logger) {
        if let Some(dropped) = self.dropping.take() {
            logger.info(&format!(
                "{label} log file {} is written again; {dropped} bytes were dropped",
                self.file.path()
            ));
        }
    }

    fn failed(&mut self, bytes: usize, error: &str, label: &str, logger: &Logger) {
        let dropped = self.dropping.get_or_insert_with(|| {
            logger.error(&format!(
                "{label} log file {}: {error}; output is dropped until it can be written again",
                self.file.path()
            ));
            0
        });
        *dropped += bytes as u64;
    }
}

/// One output channel of one running process: its dispatcher and what it writes to.
struct Channel {
    dispatcher: OutputDispatcher,
    out: ChannelOut,
    /// Nothing looks at the bytes, so they may be spliced when the log is a regular file.
    pass_through: bool,
    /// The pipe was found full once and enlarged.
    grown: bool,
}

/// Everything a channel's output goes to.
struct ChannelOut {
    /// `'name' stdout`: how the main log names this channel.
    label: String,
    name: String,
    group: String,
    pid: i32,
    channel: &'static str,
    log: Option<ChildLog>,
    syslog: bool,
    events: Option<CaptureInbox>,
    /// This is an event listener's stdout: the bytes go to the table for the protocol.
    listener: bool,
    strip_ansi: bool,
}

/// The effects of one dispatcher call, applied to a channel.
struct ChannelSink<'a> {
    channel: &'a mut ChannelOut,
    logger: &'a Logger,
}

impl OutputSink for ChannelSink<'_> {
    fn normal(&mut self, data: &[u8]) {
        let c = &mut *self.channel;
        if let Some(log) = &mut c.log {
            log.write(data, &c.label, self.logger);
        }
        if c.syslog {
            // `SyslogHandler` formats `name message` per line of the decoded text; bytes that
            // are not UTF-8 fail to decode there and the record is dropped.
            let Ok(text) = std::str::from_utf8(data) else { return };
            for line in syslog_lines(text) {
                if line.contains('\0') {
                    // Python's syslog raises on a NUL, which ends the record there.
                    break;
                }
                send_to_syslog(&format!("{} {line}", c.name));
            }
        }
    }

    fn mirror(&mut self, data: &[u8]) {
        let text = match std::str::from_utf8(data) {
            Ok(t) => std::borrow::Cow::Borrowed(t),
            Err(_) => std::borrow::Cow::Owned(format!("Undecodable: {}", bytes_repr(data))),
        };
        self.logger.debug(&format!("{} output:\n{text}", self.channel.label));
    }

    fn log_event(&mut self, data: &[u8]) {
        self.channel.send_event(OutputEventKind::Log, data.to_vec());
    }

    fn communication(&mut self, data: Vec<u8>) {
        self.channel.send_event(OutputEventKind::Communication, data);
        self.logger.debug(&format!("{} emitted a comm event", self.channel.label));
    }
}

impl ChannelOut {
    fn send_event(&self, kind: OutputEventKind, data: Vec<u8>) {
        if let Some(events) = &self.events {
            let _ = events.send(Captured::Event(OutputEvent {
                kind,
                channel: self.channel,
                process: self.name.clone(),
                group: self.group.clone(),
                pid: self.pid,
                data,
            }));
        }
    }

    /// `PEventListenerDispatcher.handle_read_event`: the main log at DEBG shows the bytes'
    /// repr, the log file (if any) gets them, and the table gets them for the protocol.
    fn listener_output(&mut self, data: &[u8], logger: &Logger) {
        if data.is_empty() {
            return;
        }
        logger.debug(&format!("{} output:\n{}", self.label, bytes_repr(data)));
        if let Some(log) = &mut self.log {
            if self.strip_ansi {
                log.write(&crate::logs::capture::strip_escapes(data), &self.label, logger);
            } else {
                log.write(data, &self.label, logger);
            }
        }
        if let Some(inbox) = &self.events {
            let _ = inbox.send(Captured::Listener { pid: self.pid, data: data.to_vec() });
        }
    }
}

impl Channel {
    fn feed(&mut self, data: &[u8], logger: &Logger) {
        if self.out.listener {
            self.out.listener_output(data, logger);
            return;
        }
        self.dispatcher.feed(data, &mut ChannelSink { channel: &mut self.out, logger });
    }

    fn finish(&mut self, logger: &Logger) {
        self.dispatcher.finish(&mut ChannelSink { channel: &mut self.out, logger });
    }

    /// Moves one chunk from the pipe to the log file, in the kernel when it can.
    fn pump(&mut self, pipe: BorrowedFd<'_>, logger: &Logger) -> Pump {
        if self.pass_through
            && let Some(log) = &mut self.out.log
        {
            let label = &self.out.label;
            log.recover(label, logger);
            if log.file.is_regular() {
                match log.file.splice_from(pipe, READ_CHUNK) {
                    Ok(0) => return Pump::Eof,
                    Ok(n) => {
                        if n >= DEFAULT_PIPE_SIZE && !self.grown {
                            self.grown = true;
                            grow_pipe(pipe);
                        }
                        log.wrote(label, logger);
                        log.roll_over(label, logger);
                        return Pump::More;
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Pump::Empty,
                    // The file system cannot splice: write from user space from now on.
                    Err(e) if e.raw_os_error() == Some(libc::EINVAL) => self.pass_through = false,
                    // A full or failing disk: the bytes are still in the pipe. Read them so the
                    // child is not blocked, and let the write path count and report the loss.
                    Err(_) => {}
                }
            }
        }
        with_read_buffer(|buf| match nix::unistd::read(pipe, buf) {
            Ok(0) => Pump::Eof,
            Ok(n) => {
                self.feed(&buf[..n], logger);
                Pump::More
            }
            Err(nix::errno::Errno::EAGAIN) => Pump::Empty,
            Err(nix::errno::Errno::EINTR) => Pump::More,
            Err(_) => Pump::Eof,
        })
    }
}

/// Linux's pipe capacity, unless changed.
const DEFAULT_PIPE_SIZE: usize = 1 << 16;

/// What a busy pipe is enlarged to.
const BUSY_PIPE_SIZE: i32 = 1 << 20;

/// Enlarges the pipe of a child that filled it: fewer, larger splices and far fewer context
/// switches between the writer and us. Only pipes seen full are enlarged, because an
/// unprivileged user's pipes share a page budget (`fs.pipe-user-pages-soft`) and a thousand
/// idle programs must not spend it. Failure (over that budget) just keeps the default size.
fn grow_pipe(pipe: BorrowedFd<'_>) {
    let _ = nix::fcntl::fcntl(pipe, nix::fcntl::FcntlArg::F_SETPIPE_SZ(BUSY_PIPE_SIZE));
}

/// What one [`Channel::pump`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pump {
    More,
    Empty,
    Eof,
}

/// Python's `repr()` of a bytes object: `b'...'` with Python's escapes.
pub fn bytes_repr(data: &[u8]) -> String {
    let quote = if data.contains(&b'\'') && !data.contains(&b'"') { '"' } else { '\'' };
    let mut out = format!("b{quote}");
    for &b in data {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'\t' => out.push_str("\\t"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b if b == quote as u8 => {
                out.push('\\');
                out.push(quote);
            }
            0x20..=0x7e => out.push(b as char),
            b => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push(quote);
    out
}

/// One output pipe, readable by its task and, at reap time, by the actor.
struct Output {
    pipe: pipe::Receiver,
    channel: Mutex<Channel>,
}

impl Output {
    fn pump(&self, logger: &Logger) -> Pump {
        match self.channel.lock() {
            Ok(mut channel) => channel.pump(self.pipe.as_fd(), logger),
            Err(_) => Pump::Eof,
        }
    }

    /// The final read at reap time, then what capture mode still holds back. It reads the
    /// non-blocking fd directly, whatever the reactor has seen so far, which is exactly the
    /// case right after a quick child exits.
    fn drain_at_exit(&self, logger: &Logger) {
        while self.pump(logger) == Pump::More {}
        if let Ok(mut channel) = self.channel.lock() {
            channel.finish(logger);
        }
    }
}

/// Where a channel's output goes and what looks at it, as configured (AUTO already named).
#[derive(Debug, Clone, Default)]
pub struct LogTarget {
    pub path: Option<String>,
    pub maxbytes: i64,
    pub backups: i64,
    pub syslog: bool,
    pub capture_maxbytes: i64,
    pub events_enabled: bool,
}

/// Who is writing, for the main log's lines and the output events.
pub struct OutputOwner<'a> {
    pub name: &'a str,
    pub group: &'a str,
    pub pid: i32,
    /// `strip_ansi` of `[supervisord]`.
    pub strip_ansi: bool,
    /// An event listener: its stdout is the protocol channel.
    pub listener: bool,
    pub events: Option<&'a CaptureInbox>,
}

/// The pipes of a running child. Dropping it closes them (supervisor's `close_parent_pipes`).
pub struct ChildIo {
    outputs: Vec<Arc<Output>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    stdin: Stdin,
}

/// The child's stdin. Most programs are never sent input, so the queue and the task that feeds
/// it are made on the first `sendProcessStdin`, not for every process at spawn.
enum Stdin {
    None,
    Idle(OwnedFd),
    Feeding(mpsc::UnboundedSender<Vec<u8>>),
}

/// Why input could not be sent (supervisor raises EPIPE and the RPC answers NO_FILE).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StdinClosed;

impl ChildIo {
    /// Starts capturing `stdout` and `stderr` into `files`, the log files opened before the
    /// fork (see `make_dispatchers`), with what `targets` configures. Must run inside the
    /// tokio runtime.
    pub fn start(
        owner: &OutputOwner<'_>,
        stdin: Option<OwnedFd>,
        stdout: OwnedFd,
        stderr: Option<OwnedFd>,
        targets: &[LogTarget; 2],
        files: [Option<LogFile>; 2],
        logger: &Logger,
    ) -> std::io::Result<ChildIo> {
        let stdin = match stdin {
            Some(fd) => Stdin::Idle(fd),
            None => Stdin::None,
        };
        let mut io = ChildIo { outputs: Vec::new(), tasks: Vec::new(), stdin };
        let channels = [("stdout", Some(stdout)), ("stderr", stderr)];
        for (((channel, fd), target), file) in channels.into_iter().zip(targets).zip(files) {
            let Some(fd) = fd else { continue };
            let label = format!("{} {channel}", crate::python::repr(owner.name));
            let log = file.map(|file| ChildLog { file, dropping: None });
            let settings = OutputSettings {
                strip_ansi: owner.strip_ansi,
                mirror: logger.enabled(crate::config::datatypes::LogLevel::Debug),
                events: target.events_enabled,
                capture_maxbytes: target.capture_maxbytes,
            };
            let listener = owner.listener && channel == "stdout";
            let output = Arc::new(Output {
                pipe: pipe::Receiver::from_owned_fd(fd)?,
                channel: Mutex::new(Channel {
                    pass_through: !settings.looks_at_bytes() && !target.syslog && !listener,
                    grown: false,
                    dispatcher: OutputDispatcher::new(settings),
                    out: ChannelOut {
                        label,
                        name: owner.name.to_string(),
                        group: owner.group.to_string(),
                        pid: owner.pid,
                        channel,
                        log,
                        syslog: target.syslog,
                        events: owner.events.cloned(),
                        listener,
                        strip_ansi: owner.strip_ansi,
                    },
                }),
            });
            io.tasks.push(tokio::spawn(capture(Arc::clone(&output), logger.clone())));
            io.outputs.push(output);
        }
        Ok(io)
    }

    /// `sendProcessStdin`: queue bytes for the child's stdin. Must run inside the runtime.
    pub fn write_stdin(&mut self, data: Vec<u8>) -> Result<(), StdinClosed> {
        if let Stdin::Idle(_) = self.stdin
            && let Stdin::Idle(fd) = std::mem::replace(&mut self.stdin, Stdin::None)
        {
            let sender = pipe::Sender::from_owned_fd(fd).map_err(|_| StdinClosed)?;
            let (tx, rx) = mpsc::unbounded_channel();
            self.tasks.push(tokio::spawn(feed_stdin(sender, rx)));
            self.stdin = Stdin::Feeding(tx);
        }
        match &self.stdin {
            Stdin::Feeding(tx) => tx.send(data).map_err(|_| StdinClosed),
            Stdin::None | Stdin::Idle(_) => Err(StdinClosed),
        }
    }

    /// supervisor's `drain()` at reap: take whatever output is waiting, so it is logged before
    /// the exit is.
    pub fn drain(&self, logger: &Logger) {
        for output in &self.outputs {
            output.drain_at_exit(logger);
        }
    }

    /// `clearProcessLogs` (`removelogs`): truncate the live log files and forget what capture
    /// mode holds (only a running process has them).
    pub fn clear_logs(&self) -> std::io::Result<()> {
        for output in &self.outputs {
            if let Ok(mut channel) = output.channel.lock() {
                channel.dispatcher.clear();
                if let Some(log) = &mut channel.out.log {
                    log.file.remove_and_reopen()?;
                }
            }
        }
        Ok(())
    }

    /// SIGUSR2: reopen the live log files. One that cannot be opened starts a dropping
    /// episode now, with the open's error; it is retried when output next arrives.
    pub fn reopen_logs(&self, logger: &Logger) {
        for output in &self.outputs {
            if let Ok(mut channel) = output.channel.lock() {
                let out = &mut channel.out;
                if let Some(log) = &mut out.log
                    && let Err(error) = log.file.reopen()
                {
                    let text = crate::python::os_error(&error, Some(log.file.path()));
                    log.failed(0, &text, &out.label, logger);
                }
            }
        }
    }
}

impl Drop for ChildIo {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

async fn capture(output: Arc<Output>, logger: Logger) {
    loop {
        if output.pipe.readable().await.is_err() {
            return;
        }
        let mut emptied = false;
        for _ in 0..CHUNKS_PER_TURN {
            // try_io clears the reactor's readiness when the pipe turns out to be empty.
            let pumped = output.pipe.try_io(|| match output.pump(&logger) {
                Pump::Empty => Err(std::io::ErrorKind::WouldBlock.into()),
                other => Ok(other),
            });
            match pumped {
                Ok(Pump::More) => continue,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    emptied = true;
                    break;
                }
                Ok(_) | Err(_) => {
                    if let Ok(mut channel) = output.channel.lock() {
                        channel.finish(&logger);
                    }
                    return;
                }
            }
        }
        if !emptied {
            tokio::task::yield_now().await;
        }
    }
}

async fn feed_stdin(sender: pipe::Sender, mut rx: mpsc::UnboundedReceiver<Vec<u8>>) {
    use tokio::io::AsyncWriteExt;
    let mut sender = sender;
    while let Some(data) = rx.recv().await {
        if sender.write_all(&data).await.is_err() {
            // EPIPE: the child closed its stdin; later sends fail.
            return;
        }
    }
}

/// `get_autochildlog_name`: `‹name›-‹channel›---‹identifier›-‹8 random›.log` in `dir`, created
/// empty with mode 0600 as `tempfile.mkstemp` does.
pub fn create_auto_log(
    dir: &str,
    name: &str,
    channel: &str,
    identifier: &str,
) -> std::io::Result<String> {
    use std::os::unix::fs::OpenOptionsExt;
    const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789_";
    for _ in 0..100 {
        let mut random = [0u8; 8];
        std::fs::File::open("/dev/urandom")
            .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut random))?;
        let suffix: String =
            random.iter().map(|b| LETTERS[*b as usize % LETTERS.len()] as char).collect();
        let path = crate::config::paths::join(
            dir,
            &format!("{name}-{channel}---{identifier}-{suffix}.log"),
        );
        match std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&path) {
            Ok(_) => return Ok(path),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::new(std::io::ErrorKind::AlreadyExists, "no unused temporary name"))
}

/// Whether `file_name` is an AUTO log of `identifier`: supervisor's
/// `re.match(r'.+?---%s-\S+\.log\.{0,1}\d{0,4}' % identifier, name)`, which anchors only at the
/// start.
pub fn is_auto_log_of(file_name: &str, identifier: &str) -> bool {
    let marker = format!("---{identifier}-");
    let mut from = 0;
    while let Some(found) = file_name[from..].find(&marker) {
        let at = from + found;
        let rest = &file_name[at + marker.len()..];
        // `\S+\.log`: at least one non-space, then `.log`, all before any whitespace.
        let word_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        if at >= 1
            && !file_name[..at].contains('\n')
            && rest[..word_end].get(1..).is_some_and(|w| w.contains(".log"))
        {
            return true;
        }
        from = at + 1;
    }
    false
}

/// `clear_autochildlogdir`: remove this identifier's AUTO logs left by an earlier run.
pub fn clear_auto_logs(dir: &str, identifier: &str, logger: &Logger) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        logger.warn("Could not clear childlog dir");
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if is_auto_log_of(&name, identifier) {
            let path = crate::config::paths::join(dir, &name);
            if std::fs::remove_file(&path).is_err() {
                logger.warn(&format!("Failed to clean up {}", crate::python::repr(&path)));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_log_names_match_supervisors_cleanup_pattern() {
        assert!(is_auto_log_of("cat-stdout---supervisor-a1b2c3d4.log", "supervisor"));
        assert!(is_auto_log_of("cat-stdout---supervisor-a1b2c3d4.log.3", "supervisor"));
        assert!(!is_auto_log_of("cat-stdout---other-a1b2c3d4.log", "supervisor"));
        assert!(!is_auto_log_of("---supervisor-a1b2c3d4.log", "supervisor"));
        assert!(!is_auto_log_of("cat-stdout---supervisor-.log", "supervisor"));
        assert!(!is_auto_log_of("cat-stdout---supervisor-a b.log", "supervisor"));
    }

    #[test]
    fn auto_logs_are_created_empty_and_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let dir_s = dir.path().to_str().unwrap();
        let path = create_auto_log(dir_s, "web", "stdout", "supervisor").unwrap();
        let meta = std::fs::metadata(&path).unwrap();
        assert_eq!((meta.len(), meta.permissions().mode() & 0o777), (0, 0o600));
        let file_name = std::path::Path::new(&path).file_name().unwrap().to_str().unwrap();
        assert!(file_name.starts_with("web-stdout---supervisor-") && file_name.ends_with(".log"));
        assert!(is_auto_log_of(file_name, "supervisor"));
    }

    use crate::config::datatypes::LogLevel;
    use std::io::Write;

    /// A pipe as spawn makes it: the daemon's read end non-blocking.
    fn pipe() -> (OwnedFd, std::fs::File) {
        let (reader, writer) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).unwrap();
        let flags = nix::fcntl::fcntl(&reader, nix::fcntl::FcntlArg::F_GETFL).unwrap();
        let flags = nix::fcntl::OFlag::from_bits_truncate(flags) | nix::fcntl::OFlag::O_NONBLOCK;
        nix::fcntl::fcntl(&reader, nix::fcntl::FcntlArg::F_SETFL(flags)).unwrap();
        (reader, std::fs::File::from(writer))
    }

    async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
        while !done() {
            assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    }

    fn target(path: &str) -> LogTarget {
        LogTarget { path: Some(path.to_string()), ..LogTarget::default() }
    }

    /// Starts capturing one stdout pipe into `target`, as the table does after a spawn.
    fn start(
        owner: &OutputOwner<'_>,
        reader: OwnedFd,
        target: LogTarget,
        logger: &Logger,
    ) -> ChildIo {
        let file = target
            .path
            .as_deref()
            .map(|p| LogFile::open(p, target.maxbytes, target.backups).unwrap());
        ChildIo::start(
            owner,
            None,
            reader,
            None,
            &[target, LogTarget::default()],
            [file, None],
            logger,
        )
        .unwrap()
    }

    fn owner<'a>(events: Option<&'a CaptureInbox>) -> OutputOwner<'a> {
        OutputOwner { name: "w", group: "g", pid: 42, strip_ansi: false, listener: false, events }
    }

    #[tokio::test]
    async fn output_reaches_the_log_file_whole_and_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("w.log").to_str().unwrap().to_string();
        let logger = Logger::new(LogLevel::Info);
        let (reader, mut writer) = pipe();
        let io = start(&owner(None), reader, target(&log), &logger);
        let mut expected = Vec::new();
        for i in 0..2000u32 {
            let line = format!("line {i} \x00\u{e9}\n").into_bytes();
            writer.write_all(&line).unwrap();
            expected.extend_from_slice(&line);
        }
        drop(writer);
        let len = expected.len() as u64;
        eventually("the whole output", || {
            std::fs::metadata(&log).map(|m| m.len()).unwrap_or(0) >= len
        })
        .await;
        io.drain(&logger);
        assert_eq!(std::fs::read(&log).unwrap(), expected);
    }

    #[tokio::test]
    async fn events_are_produced_for_log_and_communication() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("w.log").to_str().unwrap().to_string();
        let logger = Logger::new(LogLevel::Info);
        let (tx, mut rx) = mpsc::unbounded_channel();
        let (reader, mut writer) = pipe();
        let t = LogTarget { events_enabled: true, capture_maxbytes: 1000, ..target(&log) };
        let io = start(&owner(Some(&tx)), reader, t, &logger);
        writer
            .write_all(b"<!--XSUPERVISOR:BEGIN-->hello listener<!--XSUPERVISOR:END-->and a tail")
            .unwrap();
        drop(writer);
        let mut got = Vec::new();
        let deadline = std::time::Duration::from_secs(10);
        while got.len() < 3 {
            let Captured::Event(event) =
                tokio::time::timeout(deadline, rx.recv()).await.unwrap().unwrap()
            else {
                panic!("not an output event")
            };
            got.push((event.kind, event.data, event.process, event.group, event.pid));
        }
        io.drain(&logger);
        let ev = |kind, data: &[u8]| (kind, data.to_vec(), "w".to_string(), "g".to_string(), 42);
        assert_eq!(
            got,
            vec![
                ev(OutputEventKind::Log, b"hello listener"),
                ev(OutputEventKind::Communication, b"hello listener"),
                ev(OutputEventKind::Log, b"and a tail"),
            ]
        );
        // The captured text is not in the normal log (GOT-21); the short tail is written at
        // the end of output instead of being held forever.
        assert_eq!(std::fs::read(&log).unwrap(), b"and a tail");
    }

    #[tokio::test]
    async fn debug_level_mirrors_output_into_the_main_log() {
        let dir = tempfile::tempdir().unwrap();
        let main = dir.path().join("main.log").to_str().unwrap().to_string();
        let logger = Logger::new(LogLevel::Debug);
        logger.add_file(&main, 0, 0).unwrap();
        let (reader, mut writer) = pipe();
        let io = start(&owner(None), reader, LogTarget::default(), &logger);
        writer.write_all(b"caf\xe9\n").unwrap();
        drop(writer);
        eventually("the mirrored line", || {
            std::fs::read_to_string(&main).unwrap_or_default().contains("output:")
        })
        .await;
        io.drain(&logger);
        let text = std::fs::read_to_string(&main).unwrap();
        assert!(text.contains(" DEBG 'w' stdout output:\nUndecodable: b'caf\\xe9\\n'\n"), "{text}");
    }

    #[test]
    fn bytes_repr_matches_python() {
        assert_eq!(bytes_repr(b"\x88\n"), "b'\\x88\\n'");
        assert_eq!(bytes_repr(b"it's"), "b\"it's\"");
        assert_eq!(bytes_repr(b"a'\"b"), "b'a\\'\"b'");
    }
}
