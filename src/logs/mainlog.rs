//! supervisord's own log (`loggers.Logger` as `options.make_logger` sets it up): the level
//! filter, the line format, its handlers (file, stdout echo, syslog), the SIGUSR2 reopen and
//! clearLog; plus the syslog channel that child `*_syslog` logs share with it.

use crate::config::datatypes::LogLevel;
use crate::logs::files::{LogFile, Lost};
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Once, PoisonError};

/// `asctime` as supervisor's `LogRecord.asdict` computes it from a `time.time()` float:
/// `YYYY-MM-DD HH:MM:SS` in local time, then `,` and the milliseconds truncated to three
/// digits. The float arithmetic is Python's, so the digits agree for any given float.
pub fn asctime(epoch_secs: f64) -> String {
    // `time.localtime` floors the float; the milliseconds come from `now - int(now)`, which
    // truncates toward zero. Both agree for every time after 1970.
    let msecs = (epoch_secs - epoch_secs.trunc()) * 1000.0;
    let floor = epoch_secs.floor();
    let second = if floor.is_finite() { floor as i64 } else { 0 };
    let tz = jiff::tz::TimeZone::system();
    let stamp = jiff::Timestamp::from_second(second).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    let dt = tz.to_datetime(stamp);
    format!(
        "{}-{:02}-{:02} {:02}:{:02}:{:02},{:03}",
        dt.year(),
        dt.month(),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second(),
        msecs as i64
    )
}

/// One main-log line: `'%(asctime)s %(levelname)s %(message)s\n'`. The message is inserted
/// verbatim (no `%` interpolation happens for messages logged without keywords), and a
/// multi-line message stays one record: only its first line carries the prefix.
pub fn format_line(level: LogLevel, message: &str, epoch_secs: f64) -> String {
    format!("{} {} {}\n", asctime(epoch_secs), level.name(), message)
}

/// The lines `SyslogHandler.emit` sends for one message: trailing newlines dropped, then one
/// syslog call per `\n`-separated line (an empty message still sends one empty line).
pub fn syslog_lines(message: &str) -> impl Iterator<Item = &str> {
    message.trim_end_matches('\n').split('\n')
}

/// Sends one already formatted line to syslog(3) the way Python's `syslog.syslog(msg)` does:
/// priority LOG_INFO whatever the supervisor level, facility LOG_USER, ident `supervisord`
/// (Python derives it from `sys.argv[0]`). A line holding a NUL is dropped, as Python raises
/// on it and its handler discards the record.
pub fn send_to_syslog(line: &str) {
    static OPEN: Once = Once::new();
    let Ok(text) = std::ffi::CString::new(line) else { return };
    OPEN.call_once(|| {
        // SAFETY: the ident is a static C string, which openlog may keep a pointer to.
        unsafe { libc::openlog(c"supervisord".as_ptr(), 0, libc::LOG_USER) };
    });
    // SAFETY: a constant "%s" format with one valid NUL-terminated string argument.
    unsafe { libc::syslog(libc::LOG_INFO, c"%s".as_ptr(), text.as_ptr()) };
}

/// Why clearLog refused; the variant names are the RPC fault names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ClearError {
    /// There is no main log file, or it does not exist on disk.
    #[error("NO_FILE")]
    NoFile,
    /// The file could not be removed or opened again.
    #[error("FAILED")]
    Failed,
}

enum Handler {
    Stdout,
    File(LogFile),
    Syslog,
}

impl Handler {
    fn emit(&mut self, asctime: &str, level: LogLevel, message: &str) {
        match self {
            Handler::Stdout => {
                let mut out = std::io::stdout().lock();
                // Python ignores EPIPE here and prints a traceback for anything else; a lost
                // echo line is not worth more than that.
                let _ = out
                    .write_all(format!("{asctime} {} {message}\n", level.name()).as_bytes())
                    .and_then(|()| out.flush());
            }
            Handler::File(file) => {
                match file.reopen_if_lost(std::time::Instant::now()) {
                    None => {}
                    Some((lost, Ok(()))) => {
                        let why = match lost {
                            Lost::Moved => "was moved or deleted; reopened it",
                            Lost::Closed => "could be opened again",
                        };
                        let note = format!("{asctime} WARN log file {} {why}\n", file.path());
                        let _ = file.write(note.as_bytes());
                    }
                    Some((_, Err(e))) => {
                        eprintln!("supervisord: cannot reopen log file {}: {e}", file.path());
                    }
                }
                let line = format!("{asctime} {} {message}\n", level.name());
                if let Err(dropped) = file.write(line.as_bytes()) {
                    // Python's handleError prints to stderr and carries on.
                    eprintln!(
                        "supervisord: cannot write log file {}: {}",
                        file.path(),
                        dropped.error
                    );
                }
            }
            Handler::Syslog => {
                for line in syslog_lines(message) {
                    send_to_syslog(&format!("{asctime} {} {line}\n", level.name()));
                }
            }
        }
    }

    fn reopen(&mut self) -> std::io::Result<()> {
        match self {
            Handler::File(file) => file.reopen(),
            Handler::Stdout | Handler::Syslog => Ok(()),
        }
    }
}

struct Inner {
    level: AtomicI64,
    handlers: Mutex<Vec<Handler>>,
}

/// supervisord's logger. Clones share the level and the handlers, so the actor, the RPC
/// handlers and the HTTP layer can all log; each record is written under one short lock.
///
/// Handlers are emitted to in the order they were added (supervisor adds the stdout echo
/// before the file). A record logged while there are no handlers is dropped, as in Python:
/// supervisor keeps its configuration messages in lists and logs them once `make_logger` has
/// added the handlers, and callers are expected to do the same (criticals, then warnings, then
/// infos).
#[derive(Clone)]
pub struct Logger {
    inner: Arc<Inner>,
}

impl Logger {
    /// A logger with no handlers yet.
    pub fn new(level: LogLevel) -> Logger {
        Logger {
            inner: Arc::new(Inner {
                level: AtomicI64::new(level.number()),
                handlers: Mutex::new(Vec::new()),
            }),
        }
    }

    fn handlers(&self) -> MutexGuard<'_, Vec<Handler>> {
        self.inner.handlers.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// `handle_file`: a file handler appending to `path`, rotating when `maxbytes > 0`. The
    /// magic name `syslog` adds a syslog handler instead, as supervisor's does.
    pub fn add_file(&self, path: &str, maxbytes: i64, backups: i64) -> std::io::Result<()> {
        let handler = if path == "syslog" {
            Handler::Syslog
        } else {
            Handler::File(LogFile::open(path, maxbytes, backups)?)
        };
        self.handlers().push(handler);
        Ok(())
    }

    /// `handle_stdout`: echo every line to standard output (nodaemon and not silent).
    pub fn add_stdout(&self) {
        self.handlers().push(Handler::Stdout);
    }

    /// `handle_syslog`: send every line to syslog(3), one call per message line.
    pub fn add_syslog(&self) {
        self.handlers().push(Handler::Syslog);
    }

    /// The current threshold.
    pub fn level(&self) -> LogLevel {
        level_from_number(self.inner.level.load(Ordering::Relaxed))
    }

    /// Changes the threshold for every handler. (Python's handlers copy the logger's level
    /// when added, but supervisor builds a fresh logger whenever the level can change, so one
    /// shared threshold behaves the same.)
    pub fn set_level(&self, level: LogLevel) {
        self.inner.level.store(level.number(), Ordering::Relaxed);
    }

    /// Whether a record at `level` would be written; lets callers skip building costly
    /// messages (such as the child output mirror at DEBG).
    pub fn enabled(&self, level: LogLevel) -> bool {
        level.number() >= self.inner.level.load(Ordering::Relaxed)
    }

    /// Writes `message` at `level` to every handler if the level passes the threshold.
    pub fn log(&self, level: LogLevel, message: &str) {
        if !self.enabled(level) {
            return;
        }
        let stamp = asctime(now_as_python_float());
        for handler in self.handlers().iter_mut() {
            handler.emit(&stamp, level, message);
        }
    }

    /// `log` at CRIT.
    pub fn critical(&self, m: &str) {
        self.log(LogLevel::Critical, m);
    }

    /// `log` at ERRO.
    pub fn error(&self, m: &str) {
        self.log(LogLevel::Error, m);
    }

    /// `log` at WARN.
    pub fn warn(&self, m: &str) {
        self.log(LogLevel::Warn, m);
    }

    /// `log` at INFO.
    pub fn info(&self, m: &str) {
        self.log(LogLevel::Info, m);
    }

    /// `log` at DEBG.
    pub fn debug(&self, m: &str) {
        self.log(LogLevel::Debug, m);
    }

    /// `log` at TRAC.
    pub fn trace(&self, m: &str) {
        self.log(LogLevel::Trace, m);
    }

    /// `log` at BLAT.
    pub fn blather(&self, m: &str) {
        self.log(LogLevel::Blather, m);
    }

    /// SIGUSR2, as `options.reopenlogs`: logs INFO `supervisord logreopen` (to the old files),
    /// then reopens every file handler at its path in append mode. The caller logs the
    /// `received SIGUSR2 indicating log reopen request` line before this, as supervisord does.
    /// A file that cannot be opened again is reported on stderr and stays closed until the
    /// next reopen (Python raises out of the signal handling instead).
    pub fn reopen(&self) {
        self.info("supervisord logreopen");
        for handler in self.handlers().iter_mut() {
            if let (Err(e), Handler::File(file)) = (handler.reopen(), &*handler) {
                eprintln!("supervisord: cannot reopen log file {}: {e}", file.path());
            }
        }
    }

    /// clearLog, as `rpcinterface.clearLog`: `NoFile` when there is no log file or it is
    /// missing on disk, `Failed` when it cannot be removed; then, for each handler in turn,
    /// INFO `reopening log file` is logged and that handler reopened. Because the line is
    /// logged before the file handler reopens, it lands in the unlinked file: the new file
    /// starts empty, while a stdout echo shows the line once per handler.
    pub fn clear(&self) -> Result<(), ClearError> {
        let mut handlers = self.handlers();
        let path = handlers
            .iter()
            .find_map(|h| match h {
                Handler::File(file) => Some(file.path().to_string()),
                _ => None,
            })
            .ok_or(ClearError::NoFile)?;
        if !Path::new(&path).exists() {
            return Err(ClearError::NoFile);
        }
        std::fs::remove_file(&path).map_err(|_| ClearError::Failed)?;
        let level = LogLevel::Info;
        for i in 0..handlers.len() {
            if self.enabled(level) {
                let stamp = asctime(now_as_python_float());
                for handler in handlers.iter_mut() {
                    handler.emit(&stamp, level, "reopening log file");
                }
            }
            handlers[i].reopen().map_err(|_| ClearError::Failed)?;
        }
        Ok(())
    }

    /// The main log file's path, for readLog and `/mainlogtail`; `None` when the log goes to
    /// syslog only. (Python checks its configured `logfile` there, so with `logfile=syslog` it
    /// looks for a file named `syslog` in the current directory; we answer NO_FILE outright.)
    pub fn logfile(&self) -> Option<String> {
        self.handlers().iter().find_map(|h| match h {
            Handler::File(file) => Some(file.path().to_string()),
            _ => None,
        })
    }

    /// `options.close_logger`: drops every handler (files are closed, stdout stays open).
    pub fn close(&self) {
        self.handlers().clear();
    }
}

fn level_from_number(n: i64) -> LogLevel {
    LogLevel::from_number(n).unwrap_or(LogLevel::Info)
}

/// `time.time()`: CPython turns the clock's nanoseconds into a float by one division, which
/// decides the millisecond digit in the rare cases where rounding crosses a boundary.
fn now_as_python_float() -> f64 {
    jiff::Timestamp::now().as_nanosecond() as f64 / 1e9
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strip_stamps(text: &str) -> String {
        text.split_inclusive('\n')
            .map(|l| {
                let b = l.as_bytes();
                let stamped = b.len() > 24
                    && b[4] == b'-'
                    && b[10] == b' '
                    && b[19] == b','
                    && b[23] == b' '
                    && b[..4].iter().all(u8::is_ascii_digit);
                if stamped { format!("<T>{}", &l[23..]) } else { l.to_string() }
            })
            .collect()
    }

    fn read(path: &str) -> String {
        std::fs::read_to_string(path).unwrap_or_default()
    }

    #[test]
    fn line_format_is_python_asctime_level_message() {
        // TZ is not controlled here; the differential tests pin it. The shape is fixed.
        let line = format_line(LogLevel::Warn, "100% done\nsecond", 1_700_000_000.999_9);
        let (stamp, rest) = line.split_at(23);
        assert!(stamp.ends_with(",999"), "{stamp}");
        assert_eq!(rest, " WARN 100% done\nsecond\n");
    }

    #[test]
    fn milliseconds_truncate() {
        assert!(asctime(1.0019).ends_with(",001"));
        assert!(asctime(1.9999999).ends_with(",999"));
        assert!(asctime(2.0).ends_with(",000"));
    }

    #[test]
    fn syslog_lines_split_like_python() {
        assert_eq!(syslog_lines("a\nb\n\n").collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(syslog_lines("").collect::<Vec<_>>(), [""]);
        assert_eq!(syslog_lines("a\n\nb").collect::<Vec<_>>(), ["a", "", "b"]);
        assert_eq!(syslog_lines("\n").collect::<Vec<_>>(), [""]);
    }

    #[test]
    fn filters_by_level() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.log").to_str().unwrap().to_string();
        let log = Logger::new(LogLevel::Warn);
        log.info("dropped before handlers");
        log.add_file(&p, 0, 0).unwrap();
        log.info("no");
        log.warn("yes");
        log.critical("crit");
        log.set_level(LogLevel::Blather);
        assert_eq!(log.level(), LogLevel::Blather);
        log.blather("blat");
        log.trace("trac");
        log.debug("debg");
        log.error("erro");
        assert_eq!(
            strip_stamps(&read(&p)),
            "<T> WARN yes\n<T> CRIT crit\n<T> BLAT blat\n<T> TRAC trac\n<T> DEBG debg\n<T> ERRO erro\n"
        );
        assert_eq!(log.logfile().as_deref(), Some(p.as_str()));
    }

    #[test]
    fn main_log_rotates_per_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.log").to_str().unwrap().to_string();
        let log = Logger::new(LogLevel::Info);
        log.add_file(&p, 50, 2).unwrap();
        log.info("first line");
        log.info("second");
        assert_eq!(strip_stamps(&read(&p)), "");
        assert_eq!(
            strip_stamps(&read(&format!("{p}.1"))),
            "<T> INFO first line\n<T> INFO second\n"
        );
    }

    #[test]
    fn clear_empties_the_file_and_logs_into_the_old_one() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.log").to_str().unwrap().to_string();
        let log = Logger::new(LogLevel::Info);
        assert_eq!(log.clear(), Err(ClearError::NoFile));
        log.add_file(&p, 0, 0).unwrap();
        log.info("before");
        log.clear().unwrap();
        assert_eq!(read(&p), "");
        log.info("after");
        assert_eq!(strip_stamps(&read(&p)), "<T> INFO after\n");
        std::fs::remove_file(&p).unwrap();
        assert_eq!(log.clear(), Err(ClearError::NoFile));
    }

    #[test]
    fn reopen_logs_then_follows_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.log").to_str().unwrap().to_string();
        let moved = format!("{p}.old");
        let log = Logger::new(LogLevel::Info);
        log.add_file(&p, 0, 0).unwrap();
        log.info("one");
        std::fs::rename(&p, &moved).unwrap();
        log.clone().reopen();
        log.info("two");
        assert_eq!(strip_stamps(&read(&moved)), "<T> INFO one\n<T> INFO supervisord logreopen\n");
        assert_eq!(strip_stamps(&read(&p)), "<T> INFO two\n");
    }

    #[test]
    fn syslog_name_and_close() {
        let log = Logger::new(LogLevel::Info);
        log.add_file("syslog", 0, 0).unwrap();
        assert_eq!(log.logfile(), None);
        assert_eq!(log.clear(), Err(ClearError::NoFile));
        log.close();
        log.info("nowhere");
    }

    #[test]
    fn clones_share_state_across_threads() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.log").to_str().unwrap().to_string();
        let log = Logger::new(LogLevel::Info);
        log.add_file(&p, 0, 0).unwrap();
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let log = log.clone();
                std::thread::spawn(move || {
                    for i in 0..50 {
                        log.info(&format!("t{t} {i}"));
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let text = read(&p);
        assert_eq!(text.lines().count(), 200);
        assert!(text.lines().all(|l| l.len() > 24 && l[23..].starts_with(" INFO t")));
    }
}
