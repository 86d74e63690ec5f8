//! `tail -f` over a log file, as supervisor's `tail_f_producer` does it: start `head` bytes
//! before the end, send what is appended, say `==> File truncated <==` and start over when the
//! file shrinks, and reopen the path when its inode changes (rotation).

use std::fs::File;
use std::io;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::PathBuf;

/// The text sent when the file got shorter than what was already sent.
pub(crate) const TRUNCATED: &[u8] = b"==> File truncated <==\n";

/// How far back from the end a tail starts (`logtail_handler` passes 1024).
pub(crate) const HEAD: u64 = 1024;

/// The most one poll reads, so a log that grew by gigabytes is streamed in pieces.
pub(crate) const MAX_READ: usize = 64 * 1024;

/// An open file being followed.
#[derive(Debug)]
pub(crate) struct Tail {
    path: PathBuf,
    file: File,
    ino: u64,
    /// How much of the current file has been sent.
    pos: u64,
}

/// What one poll found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TailEvent {
    Data(Vec<u8>),
    Truncated,
    /// Nothing new; poll again after a pause.
    Idle,
}

impl Tail {
    /// Open `path` and position `head` bytes before its end (at the start if it is shorter).
    pub fn open(path: impl Into<PathBuf>, head: u64) -> io::Result<Tail> {
        let path = path.into();
        let file = File::open(&path)?;
        let meta = file.metadata()?;
        Ok(Tail { path, ino: meta.ino(), pos: meta.len().saturating_sub(head), file })
    }

    /// Follow a rotation if there was one, then report what changed since the last poll.
    /// An error means the open file can no longer be examined, which ends the stream.
    pub fn poll(&mut self, max: usize) -> io::Result<TailEvent> {
        self.follow();
        let size = self.file.metadata()?.len();
        if size < self.pos {
            self.pos = 0;
            return Ok(TailEvent::Truncated);
        }
        if size == self.pos {
            return Ok(TailEvent::Idle);
        }
        let want = usize::try_from(size - self.pos).unwrap_or(usize::MAX).min(max);
        let mut buf = vec![0; want];
        let n = self.file.read_at(&mut buf, self.pos)?;
        buf.truncate(n);
        self.pos += n as u64;
        Ok(if n == 0 { TailEvent::Idle } else { TailEvent::Data(buf) })
    }

    /// A different inode at the path means the log was rotated: stream the new file from its
    /// start. A missing path (between a rename and the next create) keeps the old file, and so
    /// does a new file that cannot be opened yet.
    fn follow(&mut self) {
        let Ok(meta) = std::fs::metadata(&self.path) else { return };
        if meta.ino() == self.ino {
            return;
        }
        if let Ok(file) = File::open(&self.path) {
            let ino = file.metadata().map(|m| m.ino()).unwrap_or(meta.ino());
            *self = Tail { path: self.path.clone(), file, ino, pos: 0 };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn append(path: &std::path::Path, data: &[u8]) {
        std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)
            .unwrap()
            .write_all(data)
            .unwrap();
    }

    #[test]
    fn starts_head_bytes_back_then_follows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        let content: Vec<u8> = (0..3000u32).map(|i| b'a' + (i % 26) as u8).collect();
        append(&path, &content);
        let mut tail = Tail::open(&path, HEAD).unwrap();
        assert_eq!(tail.poll(MAX_READ).unwrap(), TailEvent::Data(content[3000 - 1024..].to_vec()));
        assert_eq!(tail.poll(MAX_READ).unwrap(), TailEvent::Idle);
        append(&path, b"more\n");
        assert_eq!(tail.poll(MAX_READ).unwrap(), TailEvent::Data(b"more\n".to_vec()));
        append(&path, b"0123456789");
        assert_eq!(tail.poll(4).unwrap(), TailEvent::Data(b"0123".to_vec()));
        assert_eq!(tail.poll(100).unwrap(), TailEvent::Data(b"456789".to_vec()));
    }

    #[test]
    fn short_file_is_sent_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        append(&path, b"short\n");
        let mut tail = Tail::open(&path, HEAD).unwrap();
        assert_eq!(tail.poll(MAX_READ).unwrap(), TailEvent::Data(b"short\n".to_vec()));
    }

    #[test]
    fn truncation_restarts_from_zero() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        append(&path, b"hello world\n");
        let mut tail = Tail::open(&path, HEAD).unwrap();
        tail.poll(MAX_READ).unwrap();
        std::fs::OpenOptions::new().write(true).open(&path).unwrap().set_len(0).unwrap();
        append(&path, b"new\n");
        assert_eq!(tail.poll(MAX_READ).unwrap(), TailEvent::Truncated);
        assert_eq!(tail.poll(MAX_READ).unwrap(), TailEvent::Data(b"new\n".to_vec()));
    }

    #[test]
    fn rotation_reopens_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        append(&path, b"old\n");
        let mut tail = Tail::open(&path, HEAD).unwrap();
        tail.poll(MAX_READ).unwrap();
        std::fs::rename(&path, dir.path().join("log.1")).unwrap();
        assert_eq!(tail.poll(MAX_READ).unwrap(), TailEvent::Idle);
        append(&path, b"fresh start\n");
        assert_eq!(tail.poll(MAX_READ).unwrap(), TailEvent::Data(b"fresh start\n".to_vec()));
    }
}
