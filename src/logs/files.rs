//! Log files on disk as supervisor handles them: the appending, rotating writer behind child
//! output logs and the main log (`loggers.FileHandler` / `RotatingFileHandler`), and the
//! byte-offset readers behind the log RPCs (`options.readFile` / `options.tailFile`).

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::fd::{AsRawFd, IntoRawFd};
use std::path::Path;

/// An append-mode log file with supervisor's size-based rollover.
///
/// Writes are whole: a chunk is never split across a rollover, so a file can exceed `maxbytes`
/// by up to one write (GOT-20). After each write, when `maxbytes > 0` and the file position is
/// at least `maxbytes`, the file is closed, backups shift up (`path.(n-1)` → `path.n` …
/// `path` → `path.1`, existing targets removed first, vanished files tolerated) and `path` is
/// created again empty. With `backups <= 0` the rollover only truncates.
#[derive(Debug)]
pub struct LogFile {
    path: String,
    maxbytes: i64,
    backups: i64,
    /// `None` only between a close and the reopen that follows it.
    file: Option<File>,
}

impl LogFile {
    /// Opens (creating if needed) `path` for appending. `maxbytes <= 0` disables rotation.
    pub fn open(path: &str, maxbytes: i64, backups: i64) -> io::Result<LogFile> {
        Ok(LogFile { path: path.to_string(), maxbytes, backups, file: Some(open_append(path)?) })
    }

    /// The path this handler writes to.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Appends `data` in full, then rolls over if the file has reached `maxbytes`.
    ///
    /// The rollover check runs even for an empty write or a failed one, as Python's `emit`
    /// swallows the write error and still calls `doRollover`. A target that cannot report its
    /// position (a pipe behind `/dev/stdout`) is never rotated; Python would raise `Illegal
    /// seek` out of the logging call there instead.
    pub fn write(&mut self, data: &[u8]) -> io::Result<()> {
        let written = match self.file.as_mut() {
            Some(f) if !data.is_empty() => f.write_all(data),
            Some(_) => Ok(()),
            None => Err(io::Error::other("log file is closed")),
        };
        let rolled = self.rollover_if_due();
        written.and(rolled)
    }

    /// Closes and reopens `path` in append mode (SIGUSR2): a file moved or deleted meanwhile is
    /// created again at `path`.
    pub fn reopen(&mut self) -> io::Result<()> {
        self.close();
        self.file = Some(open_append(&self.path)?);
        Ok(())
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

    fn rollover_if_due(&mut self) -> io::Result<()> {
        if self.maxbytes <= 0 {
            return Ok(());
        }
        let Some(file) = self.file.as_mut() else { return Ok(()) };
        let position = match file.stream_position() {
            Ok(p) => p,
            Err(e) if e.raw_os_error() == Some(libc::ESPIPE) => return Ok(()),
            Err(e) => return Err(e),
        };
        if i128::from(position) < i128::from(self.maxbytes) {
            return Ok(());
        }
        self.close();
        let shifted = self.shift_backups();
        // Python reopens with 'wb' here (truncating, not appending) and keeps that descriptor
        // until the next reopen; the difference shows if someone else truncates the file.
        // Unlike Python, a failed shift still reopens the file so the log is not lost for good.
        let reopened = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&self.path)
            .map(|f| self.file = Some(f));
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

/// `open(path, 'ab')`: Python seeks to the end right away (so the position is the size even
/// before the first write) and tolerates targets that cannot seek.
fn open_append(path: &str) -> io::Result<File> {
    let mut file = OpenOptions::new().append(true).create(true).open(path)?;
    match file.seek(SeekFrom::End(0)) {
        Err(e) if e.raw_os_error() != Some(libc::ESPIPE) => Err(e),
        _ => Ok(file),
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
