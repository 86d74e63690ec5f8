//! `pidproxy`: runs a command and relays the signals it receives to whatever pid the
//! command's pidfile names, for programs that daemonize themselves. Port of supervisor 4.3.0's
//! `supervisor/pidproxy.py`, including its quirks (see [`main`]).

use std::io::Write;
use std::process::ExitCode;

use nix::errno::Errno;
use nix::sys::signal::{SigSet, SigmaskHow, Signal, pthread_sigmask};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};

use crate::process::spawn::spawn_inheriting;

/// Signals relayed to the pidfile's pid, in the order pidproxy.py installs its handlers.
const RELAYED: [Signal; 6] = [
    Signal::SIGTERM,
    Signal::SIGHUP,
    Signal::SIGINT,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
    Signal::SIGQUIT,
];

/// After relaying one of these, pidproxy.py exits 0 at once without waiting for its child.
const RELAY_AND_EXIT: [Signal; 3] = [Signal::SIGTERM, Signal::SIGINT, Signal::SIGQUIT];

/// The module docstring pidproxy.py prints (with `print`, so a newline follows) on a bad
/// command line; `{argv0}` stands for its `%s`.
const USAGE: &str = "pidproxy -- run command and proxy signals to it via its pidfile.

This executable runs a command and then monitors a pidfile.  When this
executable receives a signal, it sends the same signal to the pid
in the pidfile.

Usage: {argv0} <pidfile name> <command> [<cmdarg1> ...]
";

/// What ends pidproxy.py with an uncaught exception (a traceback and status 1).
#[derive(Debug, thiserror::Error)]
pub enum PidProxyError {
    /// An `OSError` from `os.getcwd`, `os.fork` or `os.kill`.
    #[error("{}", os_error_line(*.0))]
    Os(Errno),
    /// `os.kill` given a pid outside what a C long / pid_t holds.
    #[error("OverflowError: {0}")]
    Overflow(&'static str),
}

/// The usage text for this `argv0`, byte for byte what pidproxy.py prints.
pub fn usage(argv0: &str) -> String {
    format!("{}\n", USAGE.replace("{argv0}", argv0))
}

/// Entry point; `args` is argv without argv0.
///
/// Like pidproxy.py: fewer than two arguments print the usage to stdout and exit 1; the
/// command is run by its absolute path without a PATH search; an unreadable pidfile at signal
/// time prints a note and the signal is dropped (even TERM); after relaying TERM, INT or QUIT
/// pidproxy exits 0 at once; otherwise it exits 0 once its child has exited, whatever the
/// child's status. Unlike pidproxy.py, which polls `waitpid` every 5 seconds, we notice the
/// child's exit as soon as SIGCHLD arrives.
pub fn main(args: &[String]) -> ExitCode {
    let argv0 = std::env::args_os()
        .next()
        .map_or_else(|| "pidproxy".to_owned(), |a| a.to_string_lossy().into_owned());
    let (Some(pidfile), Some(command)) = (args.first(), args.get(1)) else {
        let _ = std::io::stdout().write_all(usage(&argv0).as_bytes());
        return ExitCode::from(1);
    };
    match run(pidfile, command, args.get(1..).unwrap_or_default()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = std::io::stdout().flush();
            let _ = writeln!(std::io::stderr(), "{e}");
            ExitCode::from(1)
        }
    }
}

fn run(pidfile: &str, command: &str, cmdargs: &[String]) -> Result<(), PidProxyError> {
    let abscmd = abspath(command)?;
    let relayed: SigSet = RELAYED.iter().copied().chain([Signal::SIGCHLD]).collect();
    // pidproxy.py installs handlers for these, which resets an inherited SIG_IGN; we take
    // them with sigwait instead, so they go back to SIG_DFL (a blocked SIG_IGN signal could be
    // discarded) and are blocked before the child exists, so its SIGCHLD can't be missed.
    for sig in relayed.iter() {
        // SAFETY: installing SIG_DFL runs no code of ours in signal context.
        unsafe { nix::sys::signal::signal(sig, nix::sys::signal::SigHandler::SigDfl) }
            .map_err(PidProxyError::Os)?;
    }
    let mut original = SigSet::empty();
    pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&relayed), Some(&mut original))
        .map_err(PidProxyError::Os)?;
    // The child gets the mask we were started with, as under Python (which blocks nothing).
    spawn_inheriting(&abscmd, cmdargs, &original).map_err(PidProxyError::Os)?;
    loop {
        let sig = relayed.wait().map_err(PidProxyError::Os)?;
        if sig == Signal::SIGCHLD {
            if child_exited() {
                return Ok(());
            }
            continue;
        }
        if relay(pidfile, sig)? && RELAY_AND_EXIT.contains(&sig) {
            return Ok(());
        }
    }
}

/// Reaps; true once a child has exited (pidproxy.py's `waitpid(-1, WNOHANG)` loop).
fn child_exited() -> bool {
    loop {
        match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) => return false,
            Ok(_) => return true,
            Err(Errno::EINTR) => {}
            // ECHILD: pidproxy.py swallows the OSError and keeps waiting, forever.
            Err(_) => return false,
        }
    }
}

/// `PidProxy.passtochild`: true when the signal was sent; false when the pidfile couldn't be
/// read (noted on stdout, as pidproxy.py's bare `except:` does).
fn relay(pidfile: &str, sig: Signal) -> Result<bool, PidProxyError> {
    let Some(pid) = read_pid(pidfile) else {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "Can't read child pidfile {pidfile}!");
        let _ = out.flush();
        return Ok(false);
    };
    let pid = match pid {
        PidValue::Fits(pid) => i32::try_from(pid).map_err(|_| {
            PidProxyError::Overflow(if pid > 0 {
                "signed integer is greater than maximum"
            } else {
                "signed integer is less than minimum"
            })
        })?,
        PidValue::TooBig => {
            return Err(PidProxyError::Overflow("Python int too large to convert to C long"));
        }
    };
    // SAFETY: kill takes plain integers; any pid (0 and negatives address process groups, as
    // Python's os.kill allows) is valid input.
    if unsafe { libc::kill(pid, sig as libc::c_int) } != 0 {
        return Err(PidProxyError::Os(Errno::last()));
    }
    Ok(true)
}

/// A pid as Python's `int()` reads it, before `os.kill` narrows it.
#[derive(Debug, PartialEq)]
enum PidValue {
    Fits(i64),
    TooBig,
}

/// `int(open(pidfile).read().strip())`; None for anything that would raise.
fn read_pid(pidfile: &str) -> Option<PidValue> {
    let bytes = std::fs::read(pidfile).ok()?;
    let text = std::str::from_utf8(&bytes).ok()?;
    parse_python_int(crate::python::strip(text))
}

/// Python's `int(s)` for base 10 on an already stripped string: optional sign, ASCII digits
/// with single underscores between them. (Python also accepts non-ASCII decimal digits; a
/// pidfile written by a program never holds those.)
fn parse_python_int(s: &str) -> Option<PidValue> {
    // Python refuses to convert strings longer than sys.get_int_max_str_digits() digits.
    const MAX_STR_DIGITS: usize = 4300;
    let (negative, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, s.get(1..)?),
        Some(b'+') => (false, s.get(1..)?),
        _ => (false, s),
    };
    if digits.is_empty() || digits.starts_with('_') || digits.ends_with('_') {
        return None;
    }
    if digits.contains("__") || !digits.bytes().all(|b| b.is_ascii_digit() || b == b'_') {
        return None;
    }
    if digits.bytes().filter(u8::is_ascii_digit).count() > MAX_STR_DIGITS {
        return None;
    }
    let mut value: i128 = 0;
    for b in digits.bytes().filter(u8::is_ascii_digit) {
        value = value * 10 + i128::from(b - b'0');
        if value > i128::from(i64::MAX) + 1 {
            return Some(PidValue::TooBig);
        }
    }
    let value = if negative { -value } else { value };
    Some(i64::try_from(value).map_or(PidValue::TooBig, PidValue::Fits))
}

/// `os.path.abspath`: joined to the cwd when relative, then `normpath`ed.
fn abspath(path: &str) -> Result<String, PidProxyError> {
    if path.starts_with('/') {
        return Ok(normpath(path));
    }
    let cwd = nix::unistd::getcwd().map_err(PidProxyError::Os)?;
    let cwd = cwd.to_string_lossy();
    let joined = if path.is_empty() || cwd.ends_with('/') {
        format!("{cwd}{path}")
    } else {
        format!("{cwd}/{path}")
    };
    Ok(normpath(&joined))
}

/// `posixpath.normpath`, which keeps exactly two leading slashes and drops `.` and `..`
/// without looking at the filesystem.
fn normpath(path: &str) -> String {
    if path.is_empty() {
        return ".".to_owned();
    }
    let leading = if path.starts_with("//") && !path.starts_with("///") {
        2
    } else {
        usize::from(path.starts_with('/'))
    };
    let mut parts: Vec<&str> = Vec::new();
    for comp in path.split('/') {
        if comp.is_empty() || comp == "." {
            continue;
        }
        if comp != ".." || (leading == 0 && parts.is_empty()) || parts.last() == Some(&"..") {
            parts.push(comp);
        } else if !parts.is_empty() {
            parts.pop();
        }
    }
    let joined = format!("{}{}", "/".repeat(leading), parts.join("/"));
    if joined.is_empty() { ".".to_owned() } else { joined }
}

/// Python's one-line rendering of an uncaught `OSError`, with the subclass it picks by errno.
fn os_error_line(errno: Errno) -> String {
    let class = match errno {
        Errno::EPERM | Errno::EACCES => "PermissionError",
        Errno::ESRCH => "ProcessLookupError",
        Errno::ENOENT => "FileNotFoundError",
        Errno::EAGAIN => "BlockingIOError",
        Errno::ECHILD => "ChildProcessError",
        Errno::EINTR => "InterruptedError",
        _ => "OSError",
    };
    format!("{class}: [Errno {}] {}", errno as i32, errno.desc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normpath_matches_posixpath() {
        for (input, want) in [
            ("/a/b/../c/./d", "/a/c/d"),
            ("//a//b", "//a/b"),
            ("///a", "/a"),
            ("/..", "/"),
            ("a/../..", ".."),
            ("", "."),
        ] {
            assert_eq!(normpath(input), want, "{input}");
        }
    }

    #[test]
    fn pids_parse_like_python_int() {
        assert_eq!(parse_python_int("+0_12"), Some(PidValue::Fits(12)));
        assert_eq!(parse_python_int("-5"), Some(PidValue::Fits(-5)));
        assert_eq!(parse_python_int("99999999999999999999"), Some(PidValue::TooBig));
        for bad in ["", "_1", "1_", "1__2", "0x10", "1.0", "- 1", "+"] {
            assert_eq!(parse_python_int(bad), None, "{bad}");
        }
    }

    #[test]
    fn usage_substitutes_argv0_and_ends_with_a_blank_line() {
        let text = usage("./pidproxy");
        assert!(text.starts_with("pidproxy -- run command"));
        assert!(text.ends_with("Usage: ./pidproxy <pidfile name> <command> [<cmdarg1> ...]\n\n"));
    }
}
