//! supervisorctl's side of the terminal outside the line editor: what Ctrl-C does, stdin read
//! as Python's `sys.stdin` reads it, and `getpass`.
//!
//! Ctrl-C is Python's `KeyboardInterrupt`. Where supervisorctl catches it (`tail -f`, `fg`),
//! the command ends and the shell goes on; everywhere else it ends supervisorctl with an empty
//! line and status 0, which is what `exec_cmdloop` and the one-shot paths do. The handler
//! tells the two apart by a flag a [`Catch`] guard raises, and wakes the catching command
//! through a pipe (the self-pipe trick), because std's buffered reads retry `EINTR` and would
//! not return.

use std::io::Write;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

use std::path::PathBuf;

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};

use super::line::{LineEditor, ReadLine};
use super::{Console, Entered};

/// The write end of the wake pipe, for the handler; -1 until [`install_interrupt`].
static WAKE_WRITE: AtomicI32 = AtomicI32::new(-1);
static WAKE_READ: AtomicI32 = AtomicI32::new(-1);
/// Raised while a command catches Ctrl-C.
static CATCHING: AtomicBool = AtomicBool::new(false);

extern "C" fn on_sigint(_: libc::c_int) {
    if CATCHING.load(Ordering::SeqCst) {
        let fd = WAKE_WRITE.load(Ordering::SeqCst);
        // SAFETY: write(2) is async-signal-safe; a full pipe already holds a wake-up.
        unsafe {
            libc::write(fd, b"!".as_ptr().cast(), 1);
        }
    } else {
        // SAFETY: write(2) and _exit(2) are async-signal-safe. Output is flushed as it is
        // produced wherever a command waits, so exiting here loses nothing.
        unsafe {
            libc::write(1, b"\n".as_ptr().cast(), 1);
            libc::_exit(0);
        }
    }
}

/// Installs the SIGINT handler and its wake pipe (once, in the binary).
pub fn install_interrupt() -> std::io::Result<()> {
    let (read, write) =
        nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC | nix::fcntl::OFlag::O_NONBLOCK)?;
    WAKE_READ.store(into_raw(read), Ordering::SeqCst);
    WAKE_WRITE.store(into_raw(write), Ordering::SeqCst);
    // No SA_RESTART: a wait in poll(2) must come back to look at the pipe.
    let action = SigAction::new(SigHandler::Handler(on_sigint), SaFlags::empty(), SigSet::empty());
    // SAFETY: the handler only calls async-signal-safe functions.
    unsafe { sigaction(Signal::SIGINT, &action) }?;
    Ok(())
}

fn into_raw(fd: OwnedFd) -> RawFd {
    use std::os::fd::IntoRawFd;
    fd.into_raw_fd()
}

/// While alive, Ctrl-C wakes [`wait`] instead of ending supervisorctl.
pub struct Catch(());

impl Catch {
    pub fn new() -> Catch {
        drain_wake();
        CATCHING.store(true, Ordering::SeqCst);
        Catch(())
    }
}

impl Default for Catch {
    fn default() -> Self {
        Catch::new()
    }
}

impl Drop for Catch {
    fn drop(&mut self) {
        CATCHING.store(false, Ordering::SeqCst);
        drain_wake();
    }
}

fn drain_wake() {
    let fd = WAKE_READ.load(Ordering::SeqCst);
    if fd >= 0 {
        let mut buf = [0u8; 64];
        // SAFETY: fd is the pipe's non-blocking read end, open for the process's lifetime.
        while unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) } > 0 {}
    }
}

/// What ended a [`wait`].
#[derive(Debug, PartialEq, Eq)]
pub enum Woken {
    /// These of the given descriptors are readable (or hung up).
    Ready(Vec<bool>),
    /// Ctrl-C.
    Interrupted,
}

/// Blocks until one of `fds` is readable or Ctrl-C is pressed under `_catch`.
pub fn wait(fds: &[BorrowedFd<'_>], _catch: &Catch) -> std::io::Result<Woken> {
    let wake = WAKE_READ.load(Ordering::SeqCst);
    loop {
        let mut polled: Vec<PollFd<'_>> =
            fds.iter().map(|fd| PollFd::new(*fd, PollFlags::POLLIN)).collect();
        // SAFETY: the wake pipe stays open for the process's lifetime once installed.
        let wake_fd = (wake >= 0).then(|| unsafe { BorrowedFd::borrow_raw(wake) });
        if let Some(fd) = wake_fd {
            polled.push(PollFd::new(fd, PollFlags::POLLIN));
        }
        match poll(&mut polled, PollTimeout::NONE) {
            Ok(_) => {}
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(e.into()),
        }
        let ready: Vec<bool> = polled.iter().map(|p| p.any().unwrap_or(false)).collect();
        if wake_fd.is_some() && ready[fds.len()] {
            return Ok(Woken::Interrupted);
        }
        return Ok(Woken::Ready(ready[..fds.len()].to_vec()));
    }
}

/// stdin as Python's `sys.stdin` reads it: one buffer for the shell's lines and `fg`'s, so
/// lines piped after `fg x` reach the process rather than a read-ahead buffer.
pub struct Stdin {
    fd: RawFd,
    buf: Vec<u8>,
    eof: bool,
}

impl Stdin {
    pub fn new(fd: RawFd) -> Stdin {
        Stdin { fd, buf: Vec::new(), eof: false }
    }

    pub fn fd(&self) -> BorrowedFd<'_> {
        // SAFETY: the descriptor (0 in the binary, a test's pipe otherwise) outlives self.
        unsafe { BorrowedFd::borrow_raw(self.fd) }
    }

    /// A whole line already read, without its newline; at end of input, what is left.
    pub fn buffered_line(&mut self) -> Option<String> {
        let line = if let Some(i) = self.buf.iter().position(|&b| b == b'\n') {
            let mut line: Vec<u8> = self.buf.drain(..=i).collect();
            line.pop();
            line
        } else if self.eof && !self.buf.is_empty() {
            std::mem::take(&mut self.buf)
        } else {
            return None;
        };
        Some(String::from_utf8_lossy(&line).into_owned())
    }

    /// One read(2) into the buffer; false at end of input.
    pub fn fill(&mut self) -> bool {
        let mut chunk = [0u8; 4096];
        loop {
            match nix::unistd::read(self.fd(), &mut chunk) {
                Ok(0) => {
                    self.eof = true;
                    return false;
                }
                Ok(n) => {
                    self.buf.extend_from_slice(&chunk[..n]);
                    return true;
                }
                Err(nix::errno::Errno::EINTR) => continue,
                Err(_) => {
                    self.eof = true;
                    return false;
                }
            }
        }
    }

    /// `input()`: the next line, or `None` at end of input (`EOFError`).
    pub fn read_line(&mut self) -> Option<String> {
        loop {
            if let Some(line) = self.buffered_line() {
                return Some(line);
            }
            if self.eof || !self.fill() {
                return self.buffered_line();
            }
        }
    }

    pub fn at_eof(&self) -> bool {
        self.eof && self.buf.is_empty()
    }
}

/// `getpass.getpass(prompt)`: from the controlling terminal with echo off, or, without one,
/// Python's fallback: a warning and the prompt on stderr, and the line from stdin.
pub fn getpass(prompt: &str, stdin: &mut Stdin) -> Option<String> {
    match std::fs::OpenOptions::new().read(true).write(true).open("/dev/tty") {
        Ok(tty) => read_hidden(&tty, prompt),
        Err(_) => {
            let _ = write!(std::io::stderr(), "Warning: Password input may be echoed.\n{prompt}");
            let _ = std::io::stderr().flush();
            stdin.read_line()
        }
    }
}

fn read_hidden(tty: &std::fs::File, prompt: &str) -> Option<String> {
    use nix::sys::termios::{LocalFlags, SetArg, tcgetattr, tcsetattr};
    let mut out = tty;
    let _ = out.write_all(prompt.as_bytes());
    let _ = out.flush();
    let saved = tcgetattr(tty.as_fd()).ok();
    if let Some(saved) = &saved {
        let mut quiet = saved.clone();
        quiet.local_flags.remove(LocalFlags::ECHO);
        let _ = tcsetattr(tty.as_fd(), SetArg::TCSAFLUSH, &quiet);
    }
    // A reader of its own: the tty is not stdin, and nothing else reads it.
    let mut reader = Stdin::new(tty.as_raw_fd());
    let line = reader.read_line();
    if let Some(saved) = &saved {
        let _ = tcsetattr(tty.as_fd(), SetArg::TCSAFLUSH, saved);
    }
    let _ = out.write_all(b"\n");
    line
}

/// The binary's console: the terminal, or whatever stdin and stdout are.
pub struct TerminalConsole {
    stdin: Stdin,
    /// Present when stdin and stdout are a terminal, as Python's `input()` uses readline only
    /// then.
    editor: Option<LineEditor>,
    /// The history file: read now, written after every shell command (Python writes it at
    /// exit; writing as we go loses nothing when the shell is killed).
    history_file: Option<PathBuf>,
}

impl TerminalConsole {
    pub fn new(history_file: Option<String>) -> TerminalConsole {
        let tty = nix::unistd::isatty(std::io::stdin()).unwrap_or(false)
            && nix::unistd::isatty(std::io::stdout()).unwrap_or(false);
        let mut editor = tty.then(LineEditor::new);
        let history_file = history_file.map(PathBuf::from);
        if let (Some(editor), Some(path)) = (&mut editor, &history_file) {
            // A missing or unreadable file starts an empty history, as Python's `IOError: pass`.
            let _ = editor.read_history_file(path);
        }
        TerminalConsole { stdin: Stdin::new(0), editor, history_file }
    }
}

impl Console for TerminalConsole {
    fn show(&mut self, out: &mut Vec<u8>) {
        let mut stdout = std::io::stdout().lock();
        let _ = stdout.write_all(out);
        let _ = stdout.flush();
        out.clear();
    }

    fn read_line(
        &mut self,
        prompt: &str,
        complete: &mut dyn FnMut(&str, usize, usize) -> Vec<String>,
    ) -> Entered {
        if let Some(editor) = &mut self.editor {
            return match editor.read_line(prompt, complete) {
                Ok(ReadLine::Line(line)) => Entered::Line(line),
                Ok(ReadLine::Eof) | Err(_) => Entered::Eof,
                Ok(ReadLine::Interrupted) => Entered::Interrupted,
            };
        }
        // Python's `input()` without readline: the prompt on stdout, the line from stdin.
        self.show(&mut prompt.as_bytes().to_vec());
        match self.stdin.read_line() {
            Some(line) => Entered::Line(line),
            None => Entered::Eof,
        }
    }

    fn getpass(&mut self, prompt: &str) -> Option<String> {
        getpass(prompt, &mut self.stdin)
    }

    fn stdin(&mut self) -> Option<&mut Stdin> {
        Some(&mut self.stdin)
    }

    fn command_done(&mut self) {
        if let (Some(editor), Some(path)) = (&self.editor, &self.history_file) {
            // Python ignores an unwritable history file (`except IOError: pass`).
            let _ = editor.write_history_file(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pipe() -> (OwnedFd, std::fs::File) {
        let (r, w) = nix::unistd::pipe().unwrap();
        (r, std::fs::File::from(w))
    }

    #[test]
    fn lines_come_from_one_buffer_and_the_last_without_newline() {
        let (r, mut w) = pipe();
        w.write_all(b"one\ntwo\nthr").unwrap();
        drop(w);
        let mut stdin = Stdin::new(r.as_raw_fd());
        assert_eq!(stdin.read_line().as_deref(), Some("one"));
        // The rest was read ahead with "one" and is still there for `fg`.
        assert_eq!(stdin.buffered_line().as_deref(), Some("two"));
        assert_eq!(stdin.read_line().as_deref(), Some("thr"));
        assert_eq!(stdin.read_line(), None);
        assert!(stdin.at_eof());
    }

    #[test]
    fn wait_reports_the_readable_descriptor() {
        let (r1, _w1) = pipe();
        let (r2, mut w2) = pipe();
        w2.write_all(b"x").unwrap();
        let catch = Catch::new();
        let woken = wait(&[r1.as_fd(), r2.as_fd()], &catch).unwrap();
        assert_eq!(woken, Woken::Ready(vec![false, true]));
    }
}
