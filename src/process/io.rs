//! A running child's pipes: output captured into its log files (and mirrored into the main log
//! at debug level), input written to its stdin, and the AUTO log files named and cleaned up as
//! supervisor does.
//!
//! Log bytes never pass through the actor: a task per output pipe writes them. The actor only
//! drains what is left when the child is reaped, so the last output lands before `exited:`.

use crate::config::datatypes::LogLevel;
use crate::logs::files::LogFile;
use crate::logs::mainlog::Logger;
use std::os::fd::OwnedFd;
use std::sync::{Arc, Mutex};
use tokio::net::unix::pipe;
use tokio::sync::mpsc;

/// supervisor reads child output in chunks of this size (`options.readfd`).
const READ_CHUNK: usize = 2 << 16;

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

/// The log files of one output channel of one running process.
struct Channel {
    name: String,
    channel: &'static str,
    file: Option<LogFile>,
}

impl Channel {
    /// `POutputDispatcher._log`: the file gets the raw bytes; the main log, at DEBG, gets them
    /// decoded (or their repr when they are not UTF-8).
    fn record(&mut self, data: &[u8], logger: &Logger) {
        if data.is_empty() {
            return;
        }
        if let Some(file) = &mut self.file
            && let Err(e) = file.write(data)
        {
            logger.error(&format!("could not write to log file {}: {e}", file.path()));
        }
        if logger.level() <= LogLevel::Debug {
            let text = match std::str::from_utf8(data) {
                Ok(t) => t.to_string(),
                Err(_) => format!("Undecodable: {}", bytes_repr(data)),
            };
            logger.debug(&format!(
                "{} {} output:\n{text}",
                crate::python::repr(&self.name),
                self.channel
            ));
        }
    }
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
    /// The final read at reap time. It calls read(2) on the non-blocking fd directly: tokio's
    /// `try_read` answers WouldBlock without reading when the reactor has not yet seen the
    /// pipe become readable, which is exactly the case right after a quick child exits.
    fn drain_at_exit(&self, logger: &Logger) {
        use std::os::fd::AsFd;
        with_read_buffer(|buf| {
            loop {
                match nix::unistd::read(self.pipe.as_fd(), &mut *buf) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => self.record(&buf[..n], logger),
                }
            }
        });
    }

    /// Reads what is available now without waiting; false once the pipe is at EOF.
    fn drain_now(&self, logger: &Logger) -> bool {
        with_read_buffer(|buf| {
            loop {
                match self.pipe.try_read(&mut *buf) {
                    Ok(0) => return false,
                    Ok(n) => self.record(&buf[..n], logger),
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return true,
                    Err(_) => return false,
                }
            }
        })
    }

    fn record(&self, data: &[u8], logger: &Logger) {
        if let Ok(mut channel) = self.channel.lock() {
            channel.record(data, logger);
        }
    }
}

/// Where a channel's output goes: the resolved log file path (AUTO already named) and rotation.
#[derive(Debug, Clone)]
pub struct LogTarget {
    pub path: Option<String>,
    pub maxbytes: i64,
    pub backups: i64,
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
    /// Starts capturing `stdout` and `stderr` and opens the log files (supervisor opens them when
    /// the dispatchers are made, at spawn). Must run inside the tokio runtime.
    pub fn start(
        name: &str,
        stdin: Option<OwnedFd>,
        stdout: OwnedFd,
        stderr: Option<OwnedFd>,
        targets: [&LogTarget; 2],
        logger: &Logger,
    ) -> std::io::Result<ChildIo> {
        let stdin = match stdin {
            Some(fd) => Stdin::Idle(fd),
            None => Stdin::None,
        };
        let mut io = ChildIo { outputs: Vec::new(), tasks: Vec::new(), stdin };
        let channels = [("stdout", Some(stdout)), ("stderr", stderr)];
        for ((channel, fd), target) in channels.into_iter().zip(targets) {
            let Some(fd) = fd else { continue };
            let file = match &target.path {
                Some(path) => match LogFile::open(path, target.maxbytes, target.backups) {
                    Ok(f) => Some(f),
                    Err(e) => {
                        logger.error(&format!("could not open log file {path} for '{name}': {e}"));
                        None
                    }
                },
                None => None,
            };
            let output = Arc::new(Output {
                pipe: pipe::Receiver::from_owned_fd(fd)?,
                channel: Mutex::new(Channel { name: name.to_string(), channel, file }),
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

    /// `clearProcessLogs`: truncate the live log files (only a running process has them).
    pub fn clear_logs(&self) -> std::io::Result<()> {
        for output in &self.outputs {
            if let Ok(mut channel) = output.channel.lock()
                && let Some(file) = &mut channel.file
            {
                file.remove_and_reopen()?;
            }
        }
        Ok(())
    }

    /// SIGUSR2: reopen the live log files.
    pub fn reopen_logs(&self) {
        for output in &self.outputs {
            if let Ok(mut channel) = output.channel.lock()
                && let Some(file) = &mut channel.file
            {
                let _ = file.reopen();
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
        if !output.drain_now(&logger) {
            return;
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

    #[test]
    fn bytes_repr_matches_python() {
        assert_eq!(bytes_repr(b"\x88\n"), "b'\\x88\\n'");
        assert_eq!(bytes_repr(b"it's"), "b\"it's\"");
        assert_eq!(bytes_repr(b"a'\"b"), "b'a\\'\"b'");
    }
}
