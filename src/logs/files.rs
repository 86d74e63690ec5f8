//! Log files on disk as supervisor handles them: the appending, rotating writer behind child
//! output logs and the main log (`loggers.FileHandler` / `RotatingFileHandler`), and the
//! byte-offset readers behind the log RPCs (`options.readFile` / `options.tailFile`).

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, IntoRawFd};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::{Duration, Instant};

/// How often a log file's path is checked for having been moved or deleted under us.
pub const MOVED_CHECK_INTERVAL: Duration = Duration::from_secs(1);

/// An appending log file with supervisor's size-based rollover.
///
/// Writes are whole: a chunk is never split across a rollover, so a file can exceed `maxbytes`
/// by up to one write (GOT-20). After each write, when `maxbytes > 0` and the file position is
/// at least `maxbytes`, the file is closed, backups shift up (`path.(n-1)` → `path.n` …
/// `path` → `path.1`, existing targets removed first, vanished files tolerated) and `path` is
/// created again empty. With `backups <= 0` the rollover only truncates.
///
/// Python opens the file with `O_APPEND`. We open it without, and move to the end before every
/// write instead, because `splice(2)` refuses `O_APPEND` targets; every writer in the daemon
/// runs on one thread, so two programs sharing a log file still never overwrite each other,
/// and a file truncated by someone else (logrotate's `copytruncate`) is written from its new
/// end, as with `O_APPEND`.
#[derive(Debug)]
pub struct LogFile {
    path: String,
    maxbytes: i64,
    backups: i64,
    /// `None` between a close and the reopen that follows it, or while reopening fails.
    file: Option<File>,
    /// The file's (device, inode) when it is a regular file: only those can be spliced into,
    /// rotated, and noticed when moved or deleted.
    identity: Option<(u64, u64)>,
    /// Where the last write ended; `None` for a target that cannot seek (a pipe or a tty
    /// behind `/dev/stdout`), which is then never rotated (Python raises `Illegal seek`).
    position: Option<u64>,
    checked_at: Option<Instant>,
    /// Why the file is closed, when an open failed: writes report that error, not just
    /// "not open".
    open_error: Option<i32>,
    /// A path into `/dev` or `/proc` (`/dev/stdout`, `/proc/self/fd/1`): whatever file is
    /// behind it is never rotated and never checked for having moved. Python would rename
    /// `/dev/stdout` itself, or truncate the file the daemon's stdout was sent to.
    special: bool,
}

/// Why [`LogFile::reopen_if_lost`] reopened a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lost {
    /// `path` names another file now, or none.
    Moved,
    /// The file was closed because an earlier reopen failed.
    Closed,
}

/// Bytes that could not be written, and why.
#[derive(Debug, thiserror::Error)]
#[error("{error}")]
pub struct Dropped {
    pub bytes: usize,
    pub error: io::Error,
}

impl LogFile {
    /// Opens (creating if needed) `path` for appending. `maxbytes <= 0` disables rotation.
    pub fn open(path: &str, maxbytes: i64, backups: i64) -> io::Result<LogFile> {
        let mut log = LogFile {
            path: path.to_string(),
            maxbytes,
            backups,
            file: None,
            identity: None,
            position: None,
            checked_at: None,
            open_error: None,
            special: path.starts_with("/dev/") || path.starts_with("/proc/"),
        };
        log.open_at_end()?;
        Ok(log)
    }

    /// The path this handler writes to.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Whether a descriptor is open (false after a reopen failed).
    pub fn is_open(&self) -> bool {
        self.file.is_some()
    }

    /// Whether the target is a regular file, so output can be spliced into it.
    pub fn is_regular(&self) -> bool {
        self.file.is_some() && self.identity.is_some()
    }

    /// Appends `data` in full, then rolls over if the file has reached `maxbytes`: the main
    /// log's whole write path.
    ///
    /// The rollover check runs even for an empty write, as Python's `emit` still calls
    /// `doRollover`.
    pub fn write(&mut self, data: &[u8]) -> Result<(), Dropped> {
        let appended = self.append(data);
        let rolled = self.rollover_if_due().map_err(|error| Dropped { bytes: 0, error });
        appended.and(rolled)
    }

    /// Appends `data` at the end of the file without rolling over.
    pub fn append(&mut self, data: &[u8]) -> Result<(), Dropped> {
        let Some(file) = self.file.as_mut() else {
            return Err(Dropped { bytes: data.len(), error: self.closed() });
        };
        let mut written = 0;
        let start = match self.position {
            Some(_) => file.seek(SeekFrom::End(0)).ok(),
            None => None,
        };
        while written < data.len() {
            match file.write(&data[written..]) {
                Ok(0) => {
                    let error = io::Error::from(io::ErrorKind::WriteZero);
                    return Err(Dropped { bytes: data.len() - written, error });
                }
                Ok(n) => written += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(error) => {
                    self.advance(start, written);
                    return Err(Dropped { bytes: data.len() - written, error });
                }
            }
        }
        self.advance(start, written);
        Ok(())
    }

    /// Moves what the pipe `from` holds (up to `max` bytes) to the end of the file with
    /// `splice(2)`, so the bytes never enter user space. `Ok(0)` is end of file; an error is
    /// the kernel's (`WouldBlock` when the pipe is empty), and on error nothing was taken from
    /// the pipe. Only for regular files (see [`LogFile::is_regular`]); does not roll over.
    pub fn splice_from(&mut self, from: BorrowedFd<'_>, max: usize) -> io::Result<usize> {
        use nix::fcntl::{SpliceFFlags, splice};
        let Some(file) = self.file.as_mut() else { return Err(self.closed()) };
        let start = file.seek(SeekFrom::End(0))?;
        loop {
            match splice(from, None, file.as_fd(), None, max, SpliceFFlags::SPLICE_F_NONBLOCK) {
                Ok(n) => {
                    self.advance(Some(start), n);
                    return Ok(n);
                }
                Err(nix::errno::Errno::EINTR) => {}
                Err(e) => return Err(io::Error::from(e)),
            }
        }
    }

    fn advance(&mut self, start: Option<u64>, written: usize) {
        if let (Some(_), Some(start)) = (self.position, start) {
            self.position = Some(start + written as u64);
        }
    }

    /// Closes and reopens `path` for appending (SIGUSR2): a file moved or deleted meanwhile is
    /// created again at `path`. On failure the handler stays closed.
    pub fn reopen(&mut self) -> io::Result<()> {
        self.close();
        self.open_at_end()
    }

    /// Gets the file back when it was lost: reopens it when `path` no longer names the file we
    /// write to (moved or deleted by someone else, such as logrotate without a postrotate
    /// signal), or when an earlier reopen failed. Looks at most once per
    /// [`MOVED_CHECK_INTERVAL`]. `None` when nothing was done; otherwise why the file was
    /// reopened and the reopen's result. Python keeps writing into the moved file (or the
    /// void) until the next SIGUSR2.
    pub fn reopen_if_lost(&mut self, now: Instant) -> Option<(Lost, io::Result<()>)> {
        if self.file.is_some() && self.identity.is_none() {
            return None;
        }
        if self
            .checked_at
            .is_some_and(|at| now.saturating_duration_since(at) < MOVED_CHECK_INTERVAL)
        {
            return None;
        }
        self.checked_at = Some(now);
        let Some(identity) = self.identity.filter(|_| self.file.is_some()) else {
            return Some((Lost::Closed, self.reopen()));
        };
        match std::fs::metadata(&self.path) {
            Ok(meta) if (meta.dev(), meta.ino()) == identity => None,
            Ok(_) => Some((Lost::Moved, self.reopen())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Some((Lost::Moved, self.reopen())),
            Err(_) => None,
        }
    }

    /// clearLog / clearProcessLogs: close, unlink `path` (already gone is fine), reopen empty.
    /// Backups are left alone, as in supervisor.
    ///
    /// When the unlink fails, supervisor leaves its handler closed (every later line is lost
    /// until a SIGUSR2); we reopen the still-present file so logging carries on, and report the
    /// error for the RPC's FAILED fault.
    pub fn remove_and_reopen(&mut self) -> io::Result<()> {
        self.close();
        let removed = remove_tolerating_enoent(&self.path);
        let reopened = self.reopen();
        removed.and(reopened)
    }

    fn close(&mut self) {
        if let Some(file) = self.file.take() {
            // Handler.close never closes descriptors 0-2: if stdio was closed when we opened,
            // the log may sit on one of them and something else may own it by now.
            if file.as_raw_fd() < 3 {
                let _ = file.into_raw_fd();
            }
        }
    }

    /// `open(path, 'ab')`: Python seeks to the end right away (so the position is the size
    /// even before the first write) and tolerates targets that cannot seek.
    fn open_at_end(&mut self) -> io::Result<()> {
        let mut file =
            OpenOptions::new().write(true).create(true).truncate(false).open(&self.path)?;
        self.position = match file.seek(SeekFrom::End(0)) {
            Ok(position) => Some(position),
            Err(e) if e.raw_os_error() == Some(libc::ESPIPE) => None,
            Err(e) => return Err(e),
        };
        let meta = file.metadata()?;
        self.identity =
            (meta.file_type().is_file() && !self.special).then(|| (meta.dev(), meta.ino()));
        self.file = Some(file);
        Ok(())
    }

    /// Rolls over if the last write reached `maxbytes` (supervisor's `doRollover`, called
    /// after every write). A failed backup shift still reopens `path`, unlike Python, so the
    /// log is not lost for good; if even that fails the handler stays closed.
    pub fn rollover_if_due(&mut self) -> io::Result<()> {
        if self.maxbytes <= 0 || self.file.is_none() || self.special {
            return Ok(());
        }
        let Some(position) = self.position else { return Ok(()) };
        if i128::from(position) < i128::from(self.maxbytes) {
            return Ok(());
        }
        self.close();
        let shifted = self.shift_backups();
        // Python reopens with 'wb' here (truncating).
        let reopened = OpenOptions::new().write(true).create(true).truncate(true).open(&self.path);
        self.open_error = reopened.as_ref().err().and_then(io::Error::raw_os_error);
        let reopened = reopened.and_then(|f| {
            let meta = f.metadata()?;
            self.identity = meta.file_type().is_file().then(|| (meta.dev(), meta.ino()));
            self.position = Some(0);
            self.file = Some(f);
            Ok(())
        });
        shifted.and(reopened)
    }

    fn shift_backups(&self) -> io::Result<()> {
        if self.backups <= 0 {
            return Ok(());
        }
        for i in (1..self.backups).rev() {
            let source = format!("{}.{}", self.path, i);
            if Path::new(&source).exists() {
                remove_and_rename(&source, &format!("{}.{}", self.path, i + 1))?;
            }
        }
        remove_and_rename(&self.path, &format!("{}.1", self.path))
    }
}

impl LogFile {
    fn closed(&self) -> io::Error {
        match self.open_error {
            Some(errno) => io::Error::from_raw_os_error(errno),
            None => io::Error::other("log file is not open"),
        }
    }
}

fn remove_tolerating_enoent(path: &str) -> io::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// `RotatingFileHandler.removeAndRename`: a cleanup script may delete files under our feet, so
/// a missing target or source is not an error.
fn remove_and_rename(source: &str, target: &str) -> io::Result<()> {
    if Path::new(target).exists() {
        remove_tolerating_enoent(target)?;
    }
    match std::fs::rename(source, target) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Why a log read was refused; the variant names are the RPC fault names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    /// A negative offset with a nonzero length, or a negative length.
    #[error("BAD_ARGUMENTS")]
    BadArguments,
    /// The file could not be opened, positioned or read.
    #[error("FAILED")]
    Failed,
}

/// `options.readFile`: with `offset >= 0`, `length` bytes from `offset` (`length == 0`: to the
/// end); with `offset < 0` and `length == 0`, the last `-offset` bytes (the whole file if it is
/// shorter). Other negative combinations are [`ReadError::BadArguments`]; an offset past the
/// end reads nothing. The file is opened before the arguments are checked, as in Python, so an
/// unreadable file reports `Failed` whatever the arguments.
pub fn read_file(path: &str, offset: i64, length: i64) -> Result<Vec<u8>, ReadError> {
    let mut file = open_for_read(path).map_err(|_| ReadError::Failed)?;
    let mut data = Vec::new();
    if offset < 0 {
        if length != 0 {
            return Err(ReadError::BadArguments);
        }
        let size = file.seek(SeekFrom::End(0)).map_err(|_| ReadError::Failed)?;
        let wanted = offset.unsigned_abs();
        file.seek(SeekFrom::Start(size.saturating_sub(wanted))).map_err(|_| ReadError::Failed)?;
        file.take(wanted).read_to_end(&mut data).map_err(|_| ReadError::Failed)?;
    } else {
        if length < 0 {
            return Err(ReadError::BadArguments);
        }
        file.seek(SeekFrom::Start(offset.unsigned_abs())).map_err(|_| ReadError::Failed)?;
        if length == 0 {
            file.read_to_end(&mut data)
        } else {
            file.take(length.unsigned_abs()).read_to_end(&mut data)
        }
        .map_err(|_| ReadError::Failed)?;
    }
    Ok(data)
}

/// `options.tailFile`: returns `(bytes, size, overflow)`. When the file has grown past
/// `offset + length`, the window jumps to the end and `overflow` is set; when fewer than
/// `length` bytes follow `offset`, the window is moved back so it ends at the end of file
/// (yielding nothing if `offset` is already at or past the end).
///
/// A file that does not exist gives `("", 0, false)`, the answer of the tail RPCs' existence
/// check; a file that exists but cannot be opened or read gives `("", offset, false)`, as
/// `tailFile` itself does.
pub fn tail_file(path: &str, offset: i64, length: i64) -> (Vec<u8>, i64, bool) {
    if !Path::new(path).exists() {
        return (Vec::new(), 0, false);
    }
    let failed = (Vec::new(), offset, false);
    let Ok(mut file) = open_for_read(path) else { return failed };
    let Ok(size) = file.seek(SeekFrom::End(0)) else { return failed };
    // Python's integers do not overflow; i128 holds every sum of two i64 and a file size.
    let sz = i128::from(size);
    let (mut offset, mut length) = (i128::from(offset), i128::from(length));
    let mut overflow = false;
    if sz > offset + length {
        overflow = true;
        offset = sz - 1;
    }
    if offset + length > sz {
        if offset > sz - 1 {
            length = 0;
        }
        offset = sz - length;
    }
    offset = offset.max(0);
    length = length.max(0);
    let mut data = Vec::new();
    if length > 0 {
        // Both are within [0, sz] or capped by it, so they fit a u64.
        let start = u64::try_from(offset).unwrap_or(u64::MAX);
        let take = u64::try_from(length).unwrap_or(u64::MAX);
        let read =
            file.seek(SeekFrom::Start(start)).and_then(|_| file.take(take).read_to_end(&mut data));
        if read.is_err() {
            return (Vec::new(), i64::try_from(offset).unwrap_or(i64::MAX), false);
        }
    }
    (data, i64::try_from(sz).unwrap_or(i64::MAX), overflow)
}

/// Python's `open(path, 'rb')`, which refuses directories outright.
fn open_for_read(path: &str) -> io::Result<File> {
    let file = File::open(path)?;
    if file.metadata()?.is_dir() {
        return Err(io::Error::from_raw_os_error(libc::EISDIR));
    }
    Ok(file)
}

/// Log bytes as the API hands them out. Python decodes strictly and answers HTTP 500 on bytes
/// that are not UTF-8 (GOT-24); we substitute U+FFFD instead, which is what a Python client
/// decoding with `errors='replace'` would see. One function so the rule lives in one place.
pub fn decode_for_rpc(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp() -> tempfile::TempDir {
        tempfile::tempdir().unwrap()
    }

    fn path_in(dir: &tempfile::TempDir, name: &str) -> String {
        dir.path().join(name).to_str().unwrap().to_string()
    }

    fn contents(path: &str) -> Option<Vec<u8>> {
        std::fs::read(path).ok()
    }

    #[test]
    fn appends_to_existing_content() {
        let dir = tmp();
        let p = path_in(&dir, "a.log");
        std::fs::write(&p, b"old\n").unwrap();
        let mut f = LogFile::open(&p, 0, 0).unwrap();
        f.write(b"new\n").unwrap();
        assert_eq!(contents(&p).unwrap(), b"old\nnew\n");
        assert_eq!(f.path(), p);
    }

    #[test]
    fn rotates_after_the_write_that_reaches_maxbytes_without_splitting_it() {
        let dir = tmp();
        let p = path_in(&dir, "r.log");
        let mut f = LogFile::open(&p, 10, 3).unwrap();
        f.write(b"12345").unwrap();
        f.write(b"6789").unwrap();
        assert_eq!(contents(&p).unwrap(), b"123456789");
        f.write(b"abcdefghijkl").unwrap();
        assert_eq!(contents(&p).unwrap(), b"");
        assert_eq!(contents(&format!("{p}.1")).unwrap(), b"123456789abcdefghijkl");
        f.write(b"0123456789").unwrap();
        assert_eq!(contents(&format!("{p}.2")).unwrap(), b"123456789abcdefghijkl");
        assert_eq!(contents(&format!("{p}.1")).unwrap(), b"0123456789");
    }

    #[test]
    fn oldest_backup_falls_off() {
        let dir = tmp();
        let p = path_in(&dir, "r.log");
        let mut f = LogFile::open(&p, 1, 2).unwrap();
        for chunk in [b"a", b"b", b"c", b"d"] {
            f.write(chunk).unwrap();
        }
        assert_eq!(contents(&p).unwrap(), b"");
        assert_eq!(contents(&format!("{p}.1")).unwrap(), b"d");
        assert_eq!(contents(&format!("{p}.2")).unwrap(), b"c");
        assert_eq!(contents(&format!("{p}.3")), None);
    }

    #[test]
    fn zero_backups_truncates_in_place() {
        let dir = tmp();
        let p = path_in(&dir, "z.log");
        let mut f = LogFile::open(&p, 4, 0).unwrap();
        f.write(b"abcdef").unwrap();
        assert_eq!(contents(&p).unwrap(), b"");
        assert_eq!(contents(&format!("{p}.1")), None);
        f.write(b"xy").unwrap();
        assert_eq!(contents(&p).unwrap(), b"xy");
    }

    #[test]
    fn preexisting_oversized_file_rolls_on_first_write_even_empty() {
        let dir = tmp();
        let p = path_in(&dir, "o.log");
        std::fs::write(&p, b"0123456789").unwrap();
        let mut f = LogFile::open(&p, 5, 1).unwrap();
        f.write(b"").unwrap();
        assert_eq!(contents(&format!("{p}.1")).unwrap(), b"0123456789");
        assert_eq!(contents(&p).unwrap(), b"");
    }

    #[test]
    fn rotation_tolerates_a_deleted_active_file() {
        let dir = tmp();
        let p = path_in(&dir, "d.log");
        let mut f = LogFile::open(&p, 3, 2).unwrap();
        std::fs::remove_file(&p).unwrap();
        f.write(b"abcd").unwrap();
        assert_eq!(contents(&p).unwrap(), b"");
        assert_eq!(contents(&format!("{p}.1")), None);
    }

    #[test]
    fn non_positive_maxbytes_never_rotates() {
        let dir = tmp();
        let p = path_in(&dir, "n.log");
        for maxbytes in [0, -1] {
            let mut f = LogFile::open(&p, maxbytes, 5).unwrap();
            f.write(&[b'x'; 100]).unwrap();
        }
        assert_eq!(contents(&p).unwrap().len(), 200);
        assert_eq!(contents(&format!("{p}.1")), None);
    }

    #[test]
    fn reopen_recreates_a_moved_file() {
        let dir = tmp();
        let p = path_in(&dir, "m.log");
        let mut f = LogFile::open(&p, 0, 0).unwrap();
        f.write(b"one").unwrap();
        std::fs::rename(&p, format!("{p}.moved")).unwrap();
        f.write(b"two").unwrap();
        f.reopen().unwrap();
        f.write(b"three").unwrap();
        assert_eq!(contents(&format!("{p}.moved")).unwrap(), b"onetwo");
        assert_eq!(contents(&p).unwrap(), b"three");
    }

    #[test]
    fn remove_and_reopen_empties_and_keeps_backups() {
        let dir = tmp();
        let p = path_in(&dir, "c.log");
        let mut f = LogFile::open(&p, 3, 1).unwrap();
        f.write(b"abc").unwrap();
        f.write(b"de").unwrap();
        f.remove_and_reopen().unwrap();
        assert_eq!(contents(&p).unwrap(), b"");
        assert_eq!(contents(&format!("{p}.1")).unwrap(), b"abc");
        f.write(b"z").unwrap();
        assert_eq!(contents(&p).unwrap(), b"z");
        std::fs::remove_file(&p).unwrap();
        f.remove_and_reopen().unwrap();
        assert_eq!(contents(&p).unwrap(), b"");
    }

    #[test]
    fn unseekable_target_is_written_without_rotation() {
        let (reader, writer) = nix::unistd::pipe().unwrap();
        let fd = writer.as_raw_fd();
        let path = format!("/proc/self/fd/{fd}");
        let mut f = LogFile::open(&path, 1, 3).unwrap();
        f.write(b"through the pipe").unwrap();
        drop(f);
        drop(writer);
        let mut got = Vec::new();
        File::from(reader).read_to_end(&mut got).unwrap();
        assert_eq!(got, b"through the pipe");
    }

    #[test]
    fn a_moved_or_deleted_file_is_reopened_at_most_once_a_second() {
        let dir = tmp();
        let p = path_in(&dir, "w.log");
        let mut f = LogFile::open(&p, 0, 0).unwrap();
        let t0 = Instant::now();
        assert!(f.reopen_if_lost(t0).is_none());
        std::fs::rename(&p, format!("{p}.moved")).unwrap();
        // Checked less than a second ago: not looked at yet.
        assert!(f.reopen_if_lost(t0 + Duration::from_millis(500)).is_none());
        f.write(b"into the moved file\n").unwrap();
        let (lost, result) = f.reopen_if_lost(t0 + MOVED_CHECK_INTERVAL).unwrap();
        assert_eq!(lost, Lost::Moved);
        result.unwrap();
        f.write(b"at the path again\n").unwrap();
        assert_eq!(contents(&p).unwrap(), b"at the path again\n");
        assert_eq!(contents(&format!("{p}.moved")).unwrap(), b"into the moved file\n");
        std::fs::remove_file(&p).unwrap();
        let (lost, result) = f.reopen_if_lost(t0 + 2 * MOVED_CHECK_INTERVAL).unwrap();
        assert_eq!((lost, result.is_ok()), (Lost::Moved, true));
        assert_eq!(contents(&p).unwrap(), b"");
    }

    #[test]
    fn a_file_that_cannot_be_reopened_is_retried_once_a_second() {
        let dir = tmp();
        let sub = dir.path().join("sub");
        std::fs::create_dir(&sub).unwrap();
        let p = sub.join("w.log").to_str().unwrap().to_string();
        let mut f = LogFile::open(&p, 0, 0).unwrap();
        std::fs::remove_dir_all(&sub).unwrap();
        let t0 = Instant::now();
        let (lost, result) = f.reopen_if_lost(t0).unwrap();
        assert_eq!(lost, Lost::Moved);
        assert_eq!(result.unwrap_err().kind(), io::ErrorKind::NotFound);
        assert!(!f.is_open());
        let dropped = f.write(b"lost").unwrap_err();
        assert_eq!(dropped.bytes, 4);
        std::fs::create_dir(&sub).unwrap();
        assert!(f.reopen_if_lost(t0 + Duration::from_millis(999)).is_none());
        let (lost, result) = f.reopen_if_lost(t0 + MOVED_CHECK_INTERVAL).unwrap();
        assert_eq!((lost, result.is_ok()), (Lost::Closed, true));
        f.write(b"back").unwrap();
        assert_eq!(contents(&p).unwrap(), b"back");
    }

    #[test]
    fn writes_land_at_the_end_after_someone_truncates_the_file() {
        // logrotate's copytruncate: without O_APPEND we must not leave a hole.
        let dir = tmp();
        let p = path_in(&dir, "t.log");
        let mut f = LogFile::open(&p, 0, 0).unwrap();
        f.write(b"0123456789").unwrap();
        std::fs::OpenOptions::new().write(true).open(&p).unwrap().set_len(0).unwrap();
        f.write(b"ab").unwrap();
        assert_eq!(contents(&p).unwrap(), b"ab");
    }

    #[test]
    fn splice_moves_pipe_contents_and_rotates_on_request() {
        use std::os::fd::AsFd;
        let dir = tmp();
        let p = path_in(&dir, "s.log");
        let mut f = LogFile::open(&p, 8, 1).unwrap();
        assert!(f.is_regular());
        let (reader, writer) = nix::unistd::pipe2(nix::fcntl::OFlag::O_NONBLOCK).unwrap();
        let mut writer = File::from(writer);
        assert_eq!(
            f.splice_from(reader.as_fd(), 1 << 16).unwrap_err().kind(),
            io::ErrorKind::WouldBlock
        );
        writer.write_all(b"0123456789").unwrap();
        assert_eq!(f.splice_from(reader.as_fd(), 1 << 16).unwrap(), 10);
        f.rollover_if_due().unwrap();
        assert_eq!(contents(&format!("{p}.1")).unwrap(), b"0123456789");
        writer.write_all(b"abc").unwrap();
        drop(writer);
        assert_eq!(f.splice_from(reader.as_fd(), 1 << 16).unwrap(), 3);
        assert_eq!(f.splice_from(reader.as_fd(), 1 << 16).unwrap(), 0);
        assert_eq!(contents(&p).unwrap(), b"abc");
    }

    #[test]
    fn open_fails_for_a_missing_directory() {
        let dir = tmp();
        assert!(LogFile::open(&path_in(&dir, "no/such.log"), 0, 0).is_err());
    }

    fn twelve(dir: &tempfile::TempDir) -> String {
        let p = path_in(dir, "t.log");
        std::fs::write(&p, b"0123456789AB").unwrap();
        p
    }

    #[test]
    fn read_file_windows() {
        let dir = tmp();
        let p = twelve(&dir);
        assert_eq!(read_file(&p, 0, 0).unwrap(), b"0123456789AB");
        assert_eq!(read_file(&p, 2, 3).unwrap(), b"234");
        assert_eq!(read_file(&p, 10, 100).unwrap(), b"AB");
        assert_eq!(read_file(&p, 50, 5).unwrap(), b"");
        assert_eq!(read_file(&p, -4, 0).unwrap(), b"89AB");
        assert_eq!(read_file(&p, -100, 0).unwrap(), b"0123456789AB");
        assert_eq!(read_file(&p, i64::MIN, 0).unwrap(), b"0123456789AB");
    }

    #[test]
    fn read_file_errors() {
        let dir = tmp();
        let p = twelve(&dir);
        assert_eq!(read_file(&p, -1, 1), Err(ReadError::BadArguments));
        assert_eq!(read_file(&p, 0, -1), Err(ReadError::BadArguments));
        assert_eq!(read_file(&path_in(&dir, "missing"), -1, 1), Err(ReadError::Failed));
        assert_eq!(read_file(dir.path().to_str().unwrap(), 0, 0), Err(ReadError::Failed));
        assert_eq!(ReadError::BadArguments.to_string(), "BAD_ARGUMENTS");
        assert_eq!(ReadError::Failed.to_string(), "FAILED");
    }

    #[test]
    fn tail_file_windows() {
        let dir = tmp();
        let p = twelve(&dir);
        assert_eq!(tail_file(&p, 0, 5), (b"789AB".to_vec(), 12, true));
        assert_eq!(tail_file(&p, 50, 100), (Vec::new(), 12, false));
        assert_eq!(tail_file(&p, 10, 100), (b"0123456789AB".to_vec(), 12, false));
        assert_eq!(tail_file(&p, 12, 100), (Vec::new(), 12, false));
        assert_eq!(tail_file(&p, 8, 4), (b"89AB".to_vec(), 12, false));
        assert_eq!(tail_file(&p, 0, -3), (Vec::new(), 12, true));
        assert_eq!(tail_file(&p, i64::MAX, i64::MAX), (Vec::new(), 12, false));
        assert_eq!(tail_file(&path_in(&dir, "missing"), 7, 5), (Vec::new(), 0, false));
        assert_eq!(tail_file(dir.path().to_str().unwrap(), 7, 5), (Vec::new(), 7, false));
    }

    #[test]
    fn decode_replaces_invalid_bytes() {
        assert_eq!(decode_for_rpc(b"ok \xe2\x82\xac"), "ok \u{20ac}");
        assert_eq!(decode_for_rpc(b"a\xffb\xe2\x82"), "a\u{fffd}b\u{fffd}");
    }
}
