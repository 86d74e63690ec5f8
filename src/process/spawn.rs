//! Building OS processes: the one module that forks. It resolves a command the way supervisor's
//! `get_execv_args` does, forks and execs a child with supervisor's child-side setup and error
//! texts, and names wait statuses, signals and errnos for log lines.
//!
//! The daemon reaps every child with one `waitpid(-1)` loop elsewhere, so nothing here ever waits
//! for a child (see DEPS.md §4 for why this is `fork` + `execve` and not `std::process`).
//!
//! # After fork
//! The child of a multi-threaded process may only call async-signal-safe functions: another
//! thread may have held the allocator's lock at the moment of the fork. So [`spawn`] prepares
//! every C string, pointer array, user record, group list and message prefix in the parent, and
//! the child only makes raw libc calls, copies bytes into a stack buffer and calls `_exit`.

use std::collections::HashMap;
use std::ffi::CString;
use std::fs::Metadata;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::fs::PermissionsExt;

use libc::{c_char, c_int, gid_t, mode_t, uid_t};
use nix::errno::Errno;
use nix::fcntl::{FcntlArg, OFlag, fcntl};
use nix::sys::signal::{SigSet, SigmaskHow, pthread_sigmask};
use nix::unistd::{AccessFlags, ForkResult, Gid, Pid, Uid, User, access, getgrouplist, getuid};

use crate::python::repr;

/// `ServerOptions.get_path`'s fallback when supervisord has no (or an empty) `PATH`.
pub const DEFAULT_PATH: &str = "/bin:/usr/bin:/usr/local/bin";

/// The last line every failed child writes before `_exit(127)`.
const NOT_SPAWNED: &[u8] = b"supervisor: child process was not spawned\n";

/// Highest signal number on Linux; `sigaction` rejects the few in range it doesn't allow
/// (SIGKILL, SIGSTOP, glibc's reserved 32 and 33), and those errors are ignored.
const MAX_SIGNAL: c_int = 64;

/// What `get_execv_args` found: the file to execve and the argv (argv0 as written in the command).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecArgs {
    /// The resolved file: argv0 itself when it holds a `/`, else the first `PATH` hit.
    pub filename: String,
    /// The command split by POSIX `shlex`; `argv[0]` is what the user wrote, not `filename`.
    pub argv: Vec<String>,
}

/// Why Python's `shlex.split` rejected a command; the texts are `ValueError`'s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ShlexError {
    /// The text ended inside `'…'` or `"…"`.
    #[error("No closing quotation")]
    NoClosingQuotation,
    /// The text ended right after a backslash.
    #[error("No escaped character")]
    NoEscapedCharacter,
}

/// Failures before the child exists, with supervisor's exact texts: they become `spawnerr:` log
/// lines, and the `get_execv_args` ones become RPC faults (see [`SpawnError::kind`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpawnError {
    /// Python's `NotFound`: nothing to stat at the path or anywhere on `PATH`.
    #[error("can't find command {}", repr(.0))]
    NotFound(String),
    /// Python's `NotExecutable`, directory case.
    #[error("command at {} is a directory", repr(.0))]
    IsDirectory(String),
    /// Python's `NotExecutable`: no execute bit at all in the mode.
    #[error("command at {} is not executable", repr(.0))]
    NotExecutable(String),
    /// Python's `NoPermission`: an execute bit exists but `access(X_OK)` says no to us.
    #[error("no permission to run command {}", repr(.0))]
    NoPermission(String),
    /// Python's `BadCommand` from `shlex`.
    #[error("can't parse command {}: {reason}", repr(command))]
    BadCommand {
        /// The command as configured.
        command: String,
        /// What `shlex` said.
        reason: ShlexError,
    },
    /// Python's `BadCommand` for a command with no words.
    #[error("command is empty")]
    EmptyCommand,
    /// `EMFILE` while making the pipes.
    #[error("too many open files to spawn '{0}'")]
    TooManyOpenFiles(String),
    /// Any other error while making the pipes.
    #[error("unknown error making dispatchers for '{name}': {errno}")]
    Pipes {
        /// The process name.
        name: String,
        /// The errno as [`errno_name`] gives it.
        errno: String,
    },
    /// `EAGAIN` from fork.
    #[error("Too many processes in process table to spawn '{0}'")]
    ProcessTableFull(String),
    /// Any other fork error.
    #[error("unknown error during fork for '{name}': {errno}")]
    Fork {
        /// The process name.
        name: String,
        /// The errno as [`errno_name`] gives it.
        errno: String,
    },
}

/// How `startProcess` classifies a [`SpawnError`] (rpcinterface.py catches the exception classes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpawnErrorKind {
    /// `NotFound`: the RPC raises `NO_FILE` (20).
    NotFound,
    /// `NotExecutable`, `NoPermission` and `BadCommand`: the RPC raises `NOT_EXECUTABLE` (21).
    NotExecutable,
    /// Pipe and fork failures, which `get_execv_args` never raises.
    Other,
}

impl SpawnError {
    /// The exception class Python would have raised, for the RPC fault mapping.
    pub fn kind(&self) -> SpawnErrorKind {
        match self {
            Self::NotFound(_) => SpawnErrorKind::NotFound,
            Self::IsDirectory(_)
            | Self::NotExecutable(_)
            | Self::NoPermission(_)
            | Self::BadCommand { .. }
            | Self::EmptyCommand => SpawnErrorKind::NotExecutable,
            Self::TooManyOpenFiles(_)
            | Self::Pipes { .. }
            | Self::ProcessTableFull(_)
            | Self::Fork { .. } => SpawnErrorKind::Other,
        }
    }
}

/// The `PATH` that `ProcessConfig.get_path` searches. `program_env_path` is `PATH` from the
/// program's configured environment (`[supervisord] environment` overlaid by the program's), not
/// from the complete child environment: a configured empty `PATH` is honoured (and searches
/// relative to supervisord's cwd), while an empty `PATH` in supervisord's own environment falls
/// back to [`DEFAULT_PATH`].
pub fn search_path<'a>(program_env_path: Option<&'a str>, daemon_path: Option<&'a str>) -> &'a str {
    match (program_env_path, daemon_path) {
        (Some(path), _) => path,
        (None, Some(path)) if !path.is_empty() => path,
        _ => DEFAULT_PATH,
    }
}

/// Python's `shlex.split(s)`: POSIX mode, whitespace splitting, no comments.
pub fn shlex_split(s: &str) -> Result<Vec<String>, ShlexError> {
    /// The lexer states of `shlex.read_token` that POSIX splitting reaches.
    #[derive(Clone, Copy)]
    enum State {
        /// Between words (`' '`).
        Space,
        /// Inside a word (`'a'`).
        Word,
        /// Inside quotes; the char is the quote.
        Quote(char),
        /// After a backslash; `true` when it was inside double quotes.
        Escape { in_quotes: bool },
    }
    let is_whitespace = |c: char| matches!(c, ' ' | '\t' | '\r' | '\n');
    let mut words = Vec::new();
    let mut word = String::new();
    // shlex emits an empty word only if some part of it was quoted (`''`).
    let mut quoted = false;
    let mut state = State::Space;
    let mut chars = s.chars();
    loop {
        let next = chars.next();
        match state {
            State::Space => match next {
                None => break,
                Some(c) if is_whitespace(c) => {}
                Some('\\') => state = State::Escape { in_quotes: false },
                Some(q @ ('\'' | '"')) => state = State::Quote(q),
                Some(c) => {
                    word.push(c);
                    state = State::Word;
                }
            },
            State::Quote(q) => {
                quoted = true;
                match next {
                    None => return Err(ShlexError::NoClosingQuotation),
                    Some(c) if c == q => state = State::Word,
                    // Only double quotes honour escapes (`escapedquotes = '"'`).
                    Some('\\') if q == '"' => state = State::Escape { in_quotes: true },
                    Some(c) => word.push(c),
                }
            }
            State::Escape { in_quotes } => match next {
                None => return Err(ShlexError::NoEscapedCharacter),
                Some(c) => {
                    // Inside double quotes only `\"` and `\\` are escapes; the backslash stays
                    // before anything else.
                    if in_quotes && c != '\\' && c != '"' {
                        word.push('\\');
                    }
                    word.push(c);
                    state = if in_quotes { State::Quote('"') } else { State::Word };
                }
            },
            State::Word => match next {
                None => {
                    if !word.is_empty() || quoted {
                        words.push(std::mem::take(&mut word));
                    }
                    break;
                }
                Some(c) if is_whitespace(c) => {
                    if !word.is_empty() || quoted {
                        words.push(std::mem::take(&mut word));
                    }
                    quoted = false;
                    state = State::Space;
                }
                Some(q @ ('\'' | '"')) => state = State::Quote(q),
                Some('\\') => state = State::Escape { in_quotes: false },
                Some(c) => word.push(c),
            },
        }
    }
    Ok(words)
}

/// Python's `os.path.join(dir, name)` for a `name` without `/`.
fn path_join(dir: &str, name: &str) -> String {
    if dir.is_empty() || dir.ends_with('/') {
        format!("{dir}{name}")
    } else {
        format!("{dir}/{name}")
    }
}

/// Port of `Subprocess.get_execv_args`: split the command, resolve argv0 through `path` (a
/// `:`-separated list, see [`search_path`]) unless it holds a `/`, then `check_execv_args`.
pub fn get_execv_args(command: &str, path: &str) -> Result<ExecArgs, SpawnError> {
    let argv = shlex_split(command)
        .map_err(|reason| SpawnError::BadCommand { command: command.to_owned(), reason })?;
    let Some(program) = argv.first() else {
        return Err(SpawnError::EmptyCommand);
    };
    let (filename, stat) = if program.contains('/') {
        (program.clone(), std::fs::metadata(program).ok())
    } else {
        // The first entry that stats at all wins, even if it is a directory or not executable:
        // supervisor does not keep looking the way a shell would.
        path.split(':')
            .find_map(|dir| {
                let candidate = path_join(dir, program);
                std::fs::metadata(&candidate).ok().map(|st| (candidate, Some(st)))
            })
            .unwrap_or_else(|| (program.clone(), None))
    };
    check_execv_args(&filename, stat.as_ref())?;
    Ok(ExecArgs { filename, argv })
}

/// Port of `ServerOptions.check_execv_args`.
fn check_execv_args(filename: &str, stat: Option<&Metadata>) -> Result<(), SpawnError> {
    let Some(stat) = stat else {
        return Err(SpawnError::NotFound(filename.to_owned()));
    };
    if stat.is_dir() {
        return Err(SpawnError::IsDirectory(filename.to_owned()));
    }
    if stat.permissions().mode() & 0o111 == 0 {
        return Err(SpawnError::NotExecutable(filename.to_owned()));
    }
    if access(filename, AccessFlags::X_OK).is_err() {
        return Err(SpawnError::NoPermission(filename.to_owned()));
    }
    Ok(())
}

/// Everything the child needs, resolved before fork (no allocation or lookups after fork).
#[derive(Debug, Clone)]
pub struct ChildSpec {
    /// The process name, for error texts.
    pub name: String,
    /// What [`get_execv_args`] returned.
    pub exec: ExecArgs,
    /// The complete environment, already merged by the caller; a repeated key keeps its first
    /// position and takes its last value, as a Python dict update would.
    pub env: Vec<(String, String)>,
    /// `directory=`: the child chdirs there after dropping privileges.
    pub directory: Option<String>,
    /// `umask=`: applied in the child just before exec.
    pub umask: Option<i64>,
    /// `user=`, as a uid: the child drops privileges to it (see `options.drop_privileges`).
    pub uid: Option<u32>,
    /// Child fd 2 is the stdout pipe, and no stderr pipe is made.
    pub redirect_stderr: bool,
    /// FastCGI: this fd becomes the child's fd 0 and no stdin pipe is made. The caller keeps
    /// ownership; the parent never closes it here.
    pub stdin_socket: Option<RawFd>,
    /// `minfds`: Python closes fds `3..minfds` in the child. This module closes every fd from 3
    /// up with `close_range`, and only falls back to `3..minfds` on kernels without it (Python's
    /// own fds are close-on-exec, so its children never see fds above `minfds` either).
    pub minfds: i64,
}

/// The parent's view of a forked child. The pipe ends are non-blocking and close-on-exec.
#[derive(Debug)]
pub struct SpawnedChild {
    /// The child's pid, which is also its process group id.
    pub pid: Pid,
    /// Write end of the child's stdin; `None` for a FastCGI child.
    pub stdin: Option<OwnedFd>,
    /// Read end of the child's stdout (and stderr when redirected).
    pub stdout: OwnedFd,
    /// Read end of the child's stderr; `None` when redirected.
    pub stderr: Option<OwnedFd>,
}

/// What the child does about `user=`, decided in the parent (`options.drop_privileges`).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Privileges {
    /// No `user=`, or already that uid.
    Keep,
    /// `drop_privileges` returned this message; the child reports it and exits.
    Fail(String),
    /// setgroups, setgid, setuid, in that order.
    Drop { uid: uid_t, gid: gid_t, groups: Vec<gid_t> },
}

/// `options.drop_privileges(uid)` up to the point where it changes anything; `current_uid` is
/// `os.getuid()` (the real uid).
fn plan_privileges(uid: Option<u32>, current_uid: uid_t) -> Privileges {
    let Some(uid) = uid else {
        return Privileges::Keep;
    };
    // The user record is looked up before the same-uid shortcut, as in Python.
    let Ok(Some(user)) = User::from_uid(Uid::from_raw(uid)) else {
        return Privileges::Fail(format!("Can't find uid {uid}"));
    };
    if current_uid == uid {
        return Privileges::Keep;
    }
    if current_uid != 0 {
        return Privileges::Fail("Can't drop privilege as nonroot user".to_owned());
    }
    let gid = user.gid.as_raw();
    // Python lists every group naming the user as a member, with the primary gid put first so
    // that the later setgid cannot lose it; getgrouplist gives the same set without duplicates.
    let mut groups = vec![gid];
    if let Ok(name) = CString::new(user.name.as_bytes())
        && let Ok(list) = getgrouplist(&name, Gid::from_raw(gid))
    {
        groups.extend(list.iter().map(|g| g.as_raw()).filter(|&g| g != gid));
    }
    Privileges::Drop { uid, gid, groups }
}

/// `ServerOptions.drop_privileges` for supervisord itself (`set_uid_or_exit`), applied to the
/// calling process: `None` on success or when already running as `uid`, else supervisor's
/// message. Call it before starting any thread other than the main one.
///
/// Python lets an `os.setuid` failure escape as a traceback; here it becomes that exception's
/// text (`[Errno 1] Operation not permitted`) so the daemon can report it as a usage error.
pub fn drop_privileges(uid: u32) -> Option<String> {
    match plan_privileges(Some(uid), getuid().as_raw()) {
        Privileges::Keep => None,
        Privileges::Fail(why) => Some(why),
        Privileges::Drop { uid, gid, groups } => {
            let groups: Vec<Gid> = groups.into_iter().map(Gid::from_raw).collect();
            if nix::unistd::setgroups(&groups).is_err() {
                return Some("Could not set groups of effective user".to_owned());
            }
            if nix::unistd::setgid(Gid::from_raw(gid)).is_err() {
                return Some("Could not set group id of effective user".to_owned());
            }
            nix::unistd::setuid(Uid::from_raw(uid))
                .err()
                .map(|errno| format!("[Errno {}] {}", errno as i32, errno.desc()))
        }
    }
}

/// The `ValueError` text CPython's `os.execve` raises before calling execve, checked in its order.
fn execve_value_error(
    filename: &str,
    argv: &[String],
    env: &[(String, String)],
) -> Option<&'static str> {
    const NUL: &str = "embedded null byte";
    if filename.contains('\0') {
        return Some(NUL);
    }
    if argv.is_empty() {
        return Some("execve: argv must not be empty");
    }
    if argv.iter().any(|a| a.contains('\0')) {
        return Some(NUL);
    }
    if argv.first().is_some_and(|a| a.is_empty()) {
        return Some("execve: argv first element cannot be empty");
    }
    for (key, value) in env {
        if key.contains('\0') || value.contains('\0') {
            return Some(NUL);
        }
        // CPython looks for `=` from the second byte on, so a leading `=` passes.
        if key.is_empty() || key.get(1..).is_some_and(|rest| rest.contains('=')) {
            return Some("illegal environment variable name");
        }
    }
    None
}

/// Dict-update semantics for the caller's environment.
fn dedup_env(env: &[(String, String)]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::with_capacity(env.len());
    let mut index: HashMap<&str, usize> = HashMap::with_capacity(env.len());
    for (key, value) in env {
        match index.get(key.as_str()) {
            Some(&i) => {
                if let Some(slot) = out.get_mut(i) {
                    slot.1 = value.clone();
                }
            }
            None => {
                index.insert(key, out.len());
                out.push((key.clone(), value.clone()));
            }
        }
    }
    out
}

/// A NUL-terminated array of pointers into `strings`, which must outlive it.
fn pointer_array(strings: &[CString]) -> Vec<*const c_char> {
    strings.iter().map(|s| s.as_ptr()).chain(std::iter::once(std::ptr::null())).collect()
}

/// Everything [`child_after_fork`] reads, built in the parent.
struct Prepared {
    filename: CString,
    /// Keeps the strings `argv_ptrs` points into alive.
    _argv: Vec<CString>,
    argv_ptrs: Vec<*const c_char>,
    /// Keeps the strings `envp_ptrs` points into alive.
    _envp: Vec<CString>,
    envp_ptrs: Vec<*const c_char>,
    /// `Some(None)`: a directory with a NUL, which Python's `os.chdir` rejects with a
    /// `ValueError` that `_spawn_as_child` does not catch, so only the last line is written.
    directory: Option<Option<CString>>,
    umask: Option<mode_t>,
    privileges: Privileges,
    /// `supervisor: couldn't setuid to ‹uid›: `
    setuid_prefix: Vec<u8>,
    /// `supervisor: couldn't chdir to ‹dir›: `
    chdir_prefix: Vec<u8>,
    /// `supervisor: couldn't exec ‹argv0›: `
    exec_prefix: Vec<u8>,
    /// The whole line for an argument `os.execve` would refuse with `ValueError`.
    exec_invalid: Option<Vec<u8>>,
    minfds: c_int,
}

impl Prepared {
    fn new(spec: &ChildSpec) -> Self {
        let env = dedup_env(&spec.env);
        let exec_invalid =
            execve_value_error(&spec.exec.filename, &spec.exec.argv, &env).map(|why| {
                // Python's bare `except:` reports the exception class and text (plus the file and
                // line inside supervisor's own source, which has no counterpart here).
                format!(
                    "supervisor: couldn't exec {}: <class 'ValueError'>, {why}\n",
                    spec.exec.filename
                )
                .into_bytes()
            });
        // With `exec_invalid` set, execve is never reached, so lossy strings are harmless.
        let cstring = |s: &str| CString::new(s).unwrap_or_default();
        let argv: Vec<CString> = spec.exec.argv.iter().map(|a| cstring(a)).collect();
        let envp: Vec<CString> = env.iter().map(|(k, v)| cstring(&format!("{k}={v}"))).collect();
        let uid_text = spec.uid.map(|u| u.to_string()).unwrap_or_else(|| "None".to_owned());
        let argv0 = spec.exec.argv.first().map(String::as_str).unwrap_or_default();
        let dir_text = spec.directory.as_deref().unwrap_or_default();
        Self {
            filename: cstring(&spec.exec.filename),
            argv_ptrs: pointer_array(&argv),
            _argv: argv,
            envp_ptrs: pointer_array(&envp),
            _envp: envp,
            directory: spec.directory.as_deref().map(|d| CString::new(d).ok()),
            // umask(2) only keeps the permission bits.
            umask: spec.umask.map(|m| (m & 0o777) as mode_t),
            privileges: plan_privileges(spec.uid, getuid().as_raw()),
            setuid_prefix: format!("supervisor: couldn't setuid to {uid_text}: ").into_bytes(),
            chdir_prefix: format!("supervisor: couldn't chdir to {dir_text}: ").into_bytes(),
            exec_prefix: format!("supervisor: couldn't exec {argv0}: ").into_bytes(),
            exec_invalid,
            minfds: c_int::try_from(spec.minfds).unwrap_or(c_int::MAX),
        }
    }
}

/// The three fds the child puts on 0, 1 and 2.
#[derive(Clone, Copy)]
struct ChildFds {
    stdin: RawFd,
    stdout: RawFd,
    stderr: RawFd,
}

/// Moves an fd that landed on 0, 1 or 2 (possible when supervisord's own stdio is closed) out of
/// the way, so the child's dup2 sequence can't overwrite one pipe with another.
fn above_stdio(fd: OwnedFd) -> nix::Result<OwnedFd> {
    if fd.as_raw_fd() > 2 {
        return Ok(fd);
    }
    let raised = fcntl(&fd, FcntlArg::F_DUPFD_CLOEXEC(3))?;
    // SAFETY: F_DUPFD_CLOEXEC just returned this new descriptor, and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(raised) })
}

/// One pipe as `(parent end, child end)`: parent end non-blocking, both close-on-exec (the child
/// end's copy on 0/1/2 loses the flag through dup2).
fn make_pipe(parent_reads: bool) -> nix::Result<(OwnedFd, OwnedFd)> {
    let (read, write) = nix::unistd::pipe2(OFlag::O_CLOEXEC)?;
    let (read, write) = (above_stdio(read)?, above_stdio(write)?);
    let (parent, child) = if parent_reads { (read, write) } else { (write, read) };
    let flags = OFlag::from_bits_retain(fcntl(&parent, FcntlArg::F_GETFL)?);
    fcntl(&parent, FcntlArg::F_SETFL(flags | OFlag::O_NONBLOCK))?;
    Ok((parent, child))
}

/// The pipes of one spawn, in `make_pipes` order (stdin, stdout, stderr).
struct Pipes {
    stdin: Option<(OwnedFd, OwnedFd)>,
    stdout: (OwnedFd, OwnedFd),
    stderr: Option<(OwnedFd, OwnedFd)>,
}

fn make_pipes(spec: &ChildSpec) -> nix::Result<Pipes> {
    let stdin = if spec.stdin_socket.is_some() { None } else { Some(make_pipe(false)?) };
    let stdout = make_pipe(true)?;
    let stderr = if spec.redirect_stderr { None } else { Some(make_pipe(true)?) };
    Ok(Pipes { stdin, stdout, stderr })
}

/// Forks and execs `spec`. Returns once the child exists; whether it managed to exec shows up
/// later as an exit status of 127 and `supervisor: …` lines on its stderr (GOT-33), never here.
/// The caller must reap the pid (this module never waits).
pub fn spawn(spec: &ChildSpec) -> Result<SpawnedChild, SpawnError> {
    let prepared = Prepared::new(spec);
    let pipes = make_pipes(spec).map_err(|errno| match errno {
        Errno::EMFILE => SpawnError::TooManyOpenFiles(spec.name.clone()),
        other => SpawnError::Pipes { name: spec.name.clone(), errno: errno_name(other as i32) },
    })?;
    let stdout_child = pipes.stdout.1.as_raw_fd();
    let fds = ChildFds {
        stdin: match (&pipes.stdin, spec.stdin_socket) {
            (Some((_, child)), _) => child.as_raw_fd(),
            (None, Some(socket)) => socket,
            // make_pipes only skips stdin when there is a socket.
            (None, None) => -1,
        },
        stdout: stdout_child,
        stderr: pipes.stderr.as_ref().map_or(stdout_child, |(_, child)| child.as_raw_fd()),
    };

    // SAFETY: only runs in the freshly forked child, and `prepared`/`fds` were built before.
    let in_child = || unsafe { child_after_fork(&prepared, fds) };
    // SAFETY: `child_after_fork` is restricted to async-signal-safe calls on data prepared
    // above and never returns (it execs or `_exit`s).
    let forked = unsafe { fork_with_signals_blocked(in_child) };
    match forked {
        Ok(child) => {
            // Dropping the child ends here closes them in the parent (`close_child_pipes`), so
            // the parent sees EOF once the child is gone.
            let Pipes { stdin, stdout, stderr } = pipes;
            Ok(SpawnedChild {
                pid: child,
                stdin: stdin.map(|(parent, _)| parent),
                stdout: stdout.0,
                stderr: stderr.map(|(parent, _)| parent),
            })
        }
        Err(Errno::EAGAIN) => Err(SpawnError::ProcessTableFull(spec.name.clone())),
        Err(errno) => {
            Err(SpawnError::Fork { name: spec.name.clone(), errno: errno_name(errno as i32) })
        }
    }
}

/// Forks and `execv`s `file` with `argv` for a child that shares the caller's stdio,
/// environment, cwd and process group, as `os.spawnv(os.P_NOWAIT, …)` does for `pidproxy`.
/// The child runs with `child_mask` as its signal mask and SIGPIPE/SIGXFSZ ignored (Python's
/// startup state, which `os.spawnv` children inherit); if execv fails it `_exit(127)`s
/// silently, as `os.spawnv`'s child does. The caller must reap the pid.
pub fn spawn_inheriting(file: &str, argv: &[String], child_mask: &SigSet) -> Result<Pid, Errno> {
    // Everything the child touches is built here: after fork only raw libc calls are safe.
    let file = CString::new(file).map_err(|_| Errno::EINVAL)?;
    let argv: Vec<CString> = argv
        .iter()
        .map(|a| CString::new(a.as_str()))
        .collect::<Result<_, _>>()
        .map_err(|_| Errno::EINVAL)?;
    let argv_ptrs = pointer_array(&argv);
    let child_mask = *child_mask.as_ref();

    let in_child = || {
        for sig in [libc::SIGPIPE, libc::SIGXFSZ] {
            // SAFETY: an all-zero sigaction is a valid value (empty mask, no flags).
            let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
            action.sa_sigaction = libc::SIG_IGN;
            // SAFETY: `action` is a valid sigaction for a catchable signal.
            unsafe { libc::sigaction(sig, &action, std::ptr::null_mut()) };
        }
        // SAFETY: `child_mask` is a valid sigset copied before fork; the pointers in
        // `argv_ptrs` point into `argv`, which lives until exec replaces the image.
        unsafe {
            libc::sigprocmask(libc::SIG_SETMASK, &child_mask, std::ptr::null_mut());
            libc::execv(file.as_ptr(), argv_ptrs.as_ptr());
        }
    };
    // SAFETY: the child makes only async-signal-safe calls (sigaction, sigprocmask, execv,
    // then `_exit` when execv fails) on data prepared above.
    unsafe { fork_with_signals_blocked(in_child) }
}

/// `fork(2)` with every signal blocked across it, so the child cannot run one of the parent's
/// handlers (tokio's would write into the parent's wake-up pipe) before it resets or replaces
/// them; the parent's mask is restored afterwards. Returns the child's pid in the parent.
///
/// # Safety
/// `in_child` runs in the forked child: it may only make async-signal-safe calls on data
/// prepared before the fork. Should it return (an exec that failed), the child `_exit`s 127.
unsafe fn fork_with_signals_blocked(in_child: impl FnOnce()) -> nix::Result<Pid> {
    let mut saved_mask = SigSet::empty();
    let blocked =
        pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::all()), Some(&mut saved_mask))
            .is_ok();
    // SAFETY: the caller guarantees that `in_child` is fit to run in a forked child.
    let forked = unsafe { nix::unistd::fork() };
    if let Ok(ForkResult::Child) = forked {
        in_child();
        unreachable_child()
    }
    if blocked {
        // Restoring the mask we just read can't fail; a failure would leave signals blocked
        // until the next spawn, which is not worth aborting this one for.
        let _ = pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(&saved_mask), None);
    }
    match forked {
        Ok(ForkResult::Parent { child }) => Ok(child),
        Ok(ForkResult::Child) => unreachable_child(),
        Err(errno) => Err(errno),
    }
}

/// Where a forked child ends if it gets past its exec: `_exit(127)`, as `os.spawnv`'s child
/// does, and never a panic path.
fn unreachable_child() -> ! {
    // SAFETY: `_exit` is always safe to call.
    unsafe { libc::_exit(127) }
}

/// `write(2)` all of `bytes` to fd 2, retrying on EINTR; gives up quietly on other errors since
/// the child has nowhere else to report them. Async-signal-safe.
fn write_stderr(mut bytes: &[u8]) {
    while !bytes.is_empty() {
        // SAFETY: the pointer and length come from a live slice.
        let n = unsafe { libc::write(2, bytes.as_ptr().cast(), bytes.len()) };
        if n < 0 && Errno::last_raw() == libc::EINTR {
            continue;
        }
        let Ok(written) = usize::try_from(n) else { return };
        if written == 0 {
            return;
        }
        bytes = bytes.get(written..).unwrap_or_default();
    }
}

/// A message line assembled after fork without allocating, written in one `write` when it fits
/// (Python writes each line with a single `os.write`).
struct StackMessage {
    buf: [u8; 1024],
    len: usize,
}

impl StackMessage {
    const fn new() -> Self {
        Self { buf: [0; 1024], len: 0 }
    }

    fn push(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            if self.len >= self.buf.len() {
                self.flush();
            }
            let room = self.buf.len().saturating_sub(self.len);
            let n = room.min(bytes.len());
            if let (Some(dst), Some(src)) =
                (self.buf.get_mut(self.len..self.len + n), bytes.get(..n))
            {
                dst.copy_from_slice(src);
            }
            self.len += n;
            bytes = bytes.get(n..).unwrap_or_default();
        }
    }

    /// `errno.errorcode.get(code, code)`: the name, or the number when Python has no name.
    fn push_errno(&mut self, errno: i32) {
        if let Some(name) = errno_static(errno) {
            self.push(name.as_bytes());
            return;
        }
        let mut digits = [0u8; 12];
        let mut at = digits.len();
        let mut value = i64::from(errno).unsigned_abs();
        loop {
            at -= 1;
            if let Some(slot) = digits.get_mut(at) {
                *slot = b'0' + (value % 10) as u8;
            }
            value /= 10;
            if value == 0 || at == 1 {
                break;
            }
        }
        if errno < 0 {
            at -= 1;
            if let Some(slot) = digits.get_mut(at) {
                *slot = b'-';
            }
        }
        self.push(digits.get(at..).unwrap_or_default());
    }

    fn flush(&mut self) {
        write_stderr(self.buf.get(..self.len).unwrap_or_default());
        self.len = 0;
    }
}

/// `_spawn_as_child`'s `finally:` clause.
fn not_spawned() -> ! {
    write_stderr(NOT_SPAWNED);
    // SAFETY: `_exit` is async-signal-safe and skips the parent's atexit handlers and buffers.
    unsafe { libc::_exit(127) }
}

/// Writes `prefix`, the errno name and a newline as one line, then gives up.
fn fail_with_errno(prefix: &[u8], errno: i32) -> ! {
    let mut msg = StackMessage::new();
    msg.push(prefix);
    msg.push_errno(errno);
    msg.push(b"\n");
    msg.flush();
    not_spawned()
}

/// Writes a prepared line, then gives up.
fn fail_with(prefix: &[u8], text: &[u8]) -> ! {
    let mut msg = StackMessage::new();
    msg.push(prefix);
    msg.push(text);
    msg.push(b"\n");
    msg.flush();
    not_spawned()
}

/// Puts `src` on `dst`. When they are already equal dup2 would do nothing, so the inherited
/// close-on-exec flag is cleared instead.
fn install_fd(src: RawFd, dst: RawFd) -> bool {
    if src == dst {
        // SAFETY: plain fcntl on an fd number; an invalid fd just fails.
        return unsafe { libc::fcntl(dst, libc::F_SETFD, 0) } != -1;
    }
    // SAFETY: plain dup2 on fd numbers; an invalid fd just fails.
    unsafe { libc::dup2(src, dst) != -1 }
}

/// Closes every fd from 3 up. `close_range` (Linux 5.9) does it in one call; older kernels get
/// Python's loop over `3..minfds`.
fn close_inherited_fds(minfds: c_int) {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        let (first, last, flags): (libc::c_uint, libc::c_uint, libc::c_uint) =
            (3, libc::c_uint::MAX, 0);
        // SAFETY: close_range takes plain integers and touches no memory.
        let closed = unsafe { libc::syscall(libc::SYS_close_range, first, last, flags) };
        if closed == 0 {
            return;
        }
    }
    for fd in 3..minfds {
        // SAFETY: closing fd numbers in the child, where nothing else uses them.
        unsafe { libc::close(fd) };
    }
}

/// SIG_DFL for everything, except SIGPIPE and SIGXFSZ left ignored: Python ignores both at
/// startup, and supervisor's children inherit that (`SigIgn: 0x1001000`, DEPS.md §4).
/// glibc refuses to touch its reserved signals 32 and 33, so whatever supervisord inherited for
/// those passes through, exactly as it does under Python.
fn reset_signal_dispositions() {
    for sig in 1..=MAX_SIGNAL {
        // SAFETY: an all-zero sigaction is a valid value (empty mask, no flags).
        let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
        action.sa_sigaction = if sig == libc::SIGPIPE || sig == libc::SIGXFSZ {
            libc::SIG_IGN
        } else {
            libc::SIG_DFL
        };
        // SAFETY: `action` is a valid sigaction; the signals sigaction refuses return EINVAL.
        unsafe { libc::sigaction(sig, &action, std::ptr::null_mut()) };
    }
}

/// The child's side of `_spawn_as_child`, in supervisor's order. Never returns.
///
/// # Safety
/// Call only in the child right after fork. Everything it calls is async-signal-safe: raw libc
/// calls, reads of `p`, and byte copies into a stack buffer.
unsafe fn child_after_fork(p: &Prepared, fds: ChildFds) -> ! {
    // A new process group (os.setpgrp), not a new session, so Ctrl-C at a foreground supervisord
    // doesn't reach the children.
    // SAFETY: setpgid takes plain integers.
    if unsafe { libc::setpgid(0, 0) } != 0 {
        not_spawned();
    }
    // stdin first: the FastCGI socket may sit on 1 or 2, and the pipes never do (above_stdio).
    if !(install_fd(fds.stdin, 0) && install_fd(fds.stdout, 1) && install_fd(fds.stderr, 2)) {
        not_spawned();
    }
    close_inherited_fds(p.minfds);
    reset_signal_dispositions();

    match &p.privileges {
        Privileges::Keep => {}
        Privileges::Fail(why) => fail_with(&p.setuid_prefix, why.as_bytes()),
        Privileges::Drop { uid, gid, groups } => {
            // These are the libc wrappers, as std's Command uses after fork: in the forked child
            // there is one thread, so glibc and musl apply them directly to it.
            // SAFETY: pointer and length come from a live Vec prepared before fork.
            if unsafe { libc::setgroups(groups.len(), groups.as_ptr()) } != 0 {
                fail_with(&p.setuid_prefix, b"Could not set groups of effective user");
            }
            // SAFETY: plain integer argument.
            if unsafe { libc::setgid(*gid) } != 0 {
                fail_with(&p.setuid_prefix, b"Could not set group id of effective user");
            }
            // Python's os.setuid raises here, which only the `finally:` line reports.
            // SAFETY: plain integer argument.
            if unsafe { libc::setuid(*uid) } != 0 {
                not_spawned();
            }
        }
    }

    if let Some(dir) = &p.directory {
        let Some(dir) = dir else { not_spawned() };
        // SAFETY: `dir` is a NUL-terminated string built before fork.
        if unsafe { libc::chdir(dir.as_ptr()) } != 0 {
            fail_with_errno(&p.chdir_prefix, Errno::last_raw());
        }
    }
    if let Some(mask) = p.umask {
        // SAFETY: plain integer argument.
        unsafe { libc::umask(mask) };
    }
    if let Some(line) = &p.exec_invalid {
        write_stderr(line);
        not_spawned();
    }

    // An empty mask for the new program, as Python's children have; execve keeps the mask.
    // SAFETY: an empty sigset built in place, passed by pointer to sigprocmask.
    unsafe {
        let mut empty: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut empty);
        libc::sigprocmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut());
    }
    // SAFETY: every pointer is NUL-terminated or a NULL-terminated array built before fork, and
    // the backing CStrings in `p` outlive this call.
    unsafe { libc::execve(p.filename.as_ptr(), p.argv_ptrs.as_ptr(), p.envp_ptrs.as_ptr()) };
    fail_with_errno(&p.exec_prefix, Errno::last_raw())
}

/// `options.decode_wait_status` on a raw `waitpid` status: `(exitstatus, message)` where the
/// message is `exit status ‹n›`, `terminated by ‹SIGNAME›` (exitstatus -1, plus ` (core dumped)`)
/// or `unknown termination cause 0x%04x`.
///
/// This takes the raw status on purpose: nix's `waitpid` returns `EINVAL` (after reaping!) for a
/// child killed by a signal nix has no `Signal` for, such as any real-time signal, so the reaper
/// should call `libc::waitpid` and pass the status here.
pub fn decode_wait_status(status: i32) -> (i64, String) {
    if libc::WIFEXITED(status) {
        let code = i64::from(libc::WEXITSTATUS(status) & 0xffff);
        (code, format!("exit status {code}"))
    } else if libc::WIFSIGNALED(status) {
        let mut msg = format!("terminated by {}", signame(libc::WTERMSIG(status)));
        if libc::WCOREDUMP(status) {
            msg.push_str(" (core dumped)");
        }
        (-1, msg)
    } else {
        // Python's `%04x`: a minus sign counts toward the width.
        let hex = if status < 0 {
            format!("-{:03x}", i64::from(status).unsigned_abs())
        } else {
            format!("{status:04x}")
        };
        (-1, format!("unknown termination cause 0x{hex}"))
    }
}

/// `options.signame`: the name Python's `signal` module gives the number (the last alias wins,
/// hence `SIGPOLL` for 29 and `SIGABRT` for 6), else `signal ‹n›`.
pub fn signame(sig: i32) -> String {
    let name = match sig {
        1 => "SIGHUP",
        2 => "SIGINT",
        3 => "SIGQUIT",
        4 => "SIGILL",
        5 => "SIGTRAP",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        10 => "SIGUSR1",
        11 => "SIGSEGV",
        12 => "SIGUSR2",
        13 => "SIGPIPE",
        14 => "SIGALRM",
        15 => "SIGTERM",
        16 => "SIGSTKFLT",
        17 => "SIGCHLD",
        18 => "SIGCONT",
        19 => "SIGSTOP",
        20 => "SIGTSTP",
        21 => "SIGTTIN",
        22 => "SIGTTOU",
        23 => "SIGURG",
        24 => "SIGXCPU",
        25 => "SIGXFSZ",
        26 => "SIGVTALRM",
        27 => "SIGPROF",
        28 => "SIGWINCH",
        29 => "SIGPOLL",
        30 => "SIGPWR",
        31 => "SIGSYS",
        34 => "SIGRTMIN",
        64 => "SIGRTMAX",
        _ => return format!("signal {sig}"),
    };
    name.to_owned()
}

/// The errno name as Python's `errno.errorcode` gives it (`ENOENT`, `EACCES`, …), or the number
/// for errnos Python doesn't name (`errorcode.get(code, code)`).
pub fn errno_name(errno: i32) -> String {
    errno_static(errno).map_or_else(|| errno.to_string(), str::to_owned)
}

/// Python 3.11's `errno.errorcode` on Linux; where Linux has aliases, the one Python keeps.
fn errno_static(errno: i32) -> Option<&'static str> {
    Some(match errno {
        1 => "EPERM",
        2 => "ENOENT",
        3 => "ESRCH",
        4 => "EINTR",
        5 => "EIO",
        6 => "ENXIO",
        7 => "E2BIG",
        8 => "ENOEXEC",
        9 => "EBADF",
        10 => "ECHILD",
        11 => "EAGAIN",
        12 => "ENOMEM",
        13 => "EACCES",
        14 => "EFAULT",
        15 => "ENOTBLK",
        16 => "EBUSY",
        17 => "EEXIST",
        18 => "EXDEV",
        19 => "ENODEV",
        20 => "ENOTDIR",
        21 => "EISDIR",
        22 => "EINVAL",
        23 => "ENFILE",
        24 => "EMFILE",
        25 => "ENOTTY",
        26 => "ETXTBSY",
        27 => "EFBIG",
        28 => "ENOSPC",
        29 => "ESPIPE",
        30 => "EROFS",
        31 => "EMLINK",
        32 => "EPIPE",
        33 => "EDOM",
        34 => "ERANGE",
        35 => "EDEADLOCK",
        36 => "ENAMETOOLONG",
        37 => "ENOLCK",
        38 => "ENOSYS",
        39 => "ENOTEMPTY",
        40 => "ELOOP",
        42 => "ENOMSG",
        43 => "EIDRM",
        44 => "ECHRNG",
        45 => "EL2NSYNC",
        46 => "EL3HLT",
        47 => "EL3RST",
        48 => "ELNRNG",
        49 => "EUNATCH",
        50 => "ENOCSI",
        51 => "EL2HLT",
        52 => "EBADE",
        53 => "EBADR",
        54 => "EXFULL",
        55 => "ENOANO",
        56 => "EBADRQC",
        57 => "EBADSLT",
        59 => "EBFONT",
        60 => "ENOSTR",
        61 => "ENODATA",
        62 => "ETIME",
        63 => "ENOSR",
        64 => "ENONET",
        65 => "ENOPKG",
        66 => "EREMOTE",
        67 => "ENOLINK",
        68 => "EADV",
        69 => "ESRMNT",
        70 => "ECOMM",
        71 => "EPROTO",
        72 => "EMULTIHOP",
        73 => "EDOTDOT",
        74 => "EBADMSG",
        75 => "EOVERFLOW",
        76 => "ENOTUNIQ",
        77 => "EBADFD",
        78 => "EREMCHG",
        79 => "ELIBACC",
        80 => "ELIBBAD",
        81 => "ELIBSCN",
        82 => "ELIBMAX",
        83 => "ELIBEXEC",
        84 => "EILSEQ",
        85 => "ERESTART",
        86 => "ESTRPIPE",
        87 => "EUSERS",
        88 => "ENOTSOCK",
        89 => "EDESTADDRREQ",
        90 => "EMSGSIZE",
        91 => "EPROTOTYPE",
        92 => "ENOPROTOOPT",
        93 => "EPROTONOSUPPORT",
        94 => "ESOCKTNOSUPPORT",
        95 => "ENOTSUP",
        96 => "EPFNOSUPPORT",
        97 => "EAFNOSUPPORT",
        98 => "EADDRINUSE",
        99 => "EADDRNOTAVAIL",
        100 => "ENETDOWN",
        101 => "ENETUNREACH",
        102 => "ENETRESET",
        103 => "ECONNABORTED",
        104 => "ECONNRESET",
        105 => "ENOBUFS",
        106 => "EISCONN",
        107 => "ENOTCONN",
        108 => "ESHUTDOWN",
        109 => "ETOOMANYREFS",
        110 => "ETIMEDOUT",
        111 => "ECONNREFUSED",
        112 => "EHOSTDOWN",
        113 => "EHOSTUNREACH",
        114 => "EALREADY",
        115 => "EINPROGRESS",
        116 => "ESTALE",
        117 => "EUCLEAN",
        118 => "ENOTNAM",
        119 => "ENAVAIL",
        120 => "EISNAM",
        121 => "EREMOTEIO",
        122 => "EDQUOT",
        123 => "ENOMEDIUM",
        124 => "EMEDIUMTYPE",
        125 => "ECANCELED",
        126 => "ENOKEY",
        127 => "EKEYEXPIRED",
        128 => "EKEYREVOKED",
        129 => "EKEYREJECTED",
        130 => "EOWNERDEAD",
        131 => "ENOTRECOVERABLE",
        132 => "ERFKILL",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::os::unix::fs::PermissionsExt;
    use std::path::Path;

    /// A child's output and raw wait status.
    struct Outcome {
        status: i32,
        stdout: String,
        stderr: String,
    }

    fn spec(argv: &[&str]) -> ChildSpec {
        ChildSpec {
            name: "test".to_owned(),
            exec: ExecArgs {
                filename: argv[0].to_owned(),
                argv: argv.iter().map(|s| (*s).to_owned()).collect(),
            },
            env: vec![("PATH".to_owned(), "/bin:/usr/bin".to_owned())],
            directory: None,
            umask: None,
            uid: None,
            redirect_stderr: false,
            stdin_socket: None,
            minfds: 1024,
        }
    }

    fn read_to_end(fd: OwnedFd) -> String {
        let flags = OFlag::from_bits_retain(fcntl(&fd, FcntlArg::F_GETFL).unwrap());
        fcntl(&fd, FcntlArg::F_SETFL(flags - OFlag::O_NONBLOCK)).unwrap();
        let mut out = Vec::new();
        std::fs::File::from(fd).read_to_end(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    /// Waits for this one pid (tests only: the daemon reaps with waitpid(-1) elsewhere).
    fn wait_raw(pid: Pid) -> i32 {
        let mut status = 0;
        loop {
            // SAFETY: `status` is a valid out-pointer.
            let got = unsafe { libc::waitpid(pid.as_raw(), &mut status, 0) };
            if got == -1 && Errno::last() == Errno::EINTR {
                continue;
            }
            assert_eq!(got, pid.as_raw());
            return status;
        }
    }

    fn finish(child: SpawnedChild) -> Outcome {
        let SpawnedChild { pid, stdin, stdout, stderr } = child;
        drop(stdin);
        let stdout = read_to_end(stdout);
        let stderr = stderr.map(read_to_end).unwrap_or_default();
        Outcome { status: wait_raw(pid), stdout, stderr }
    }

    fn run(spec: &ChildSpec) -> Outcome {
        finish(spawn(spec).unwrap())
    }

    fn exited(outcome: &Outcome) -> i64 {
        let (code, msg) = decode_wait_status(outcome.status);
        assert!(msg.starts_with("exit status"), "{msg}; stderr={:?}", outcome.stderr);
        code
    }

    fn write_file(path: &Path, text: &str, mode: u32) {
        std::fs::write(path, text).unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    /// A temp dir with `dir/`, `noexec` (0644), `exec` (0755), and `a/`, `b/` PATH entries.
    fn fixture() -> tempfile::TempDir {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::create_dir(root.join("dir")).unwrap();
        write_file(&root.join("noexec"), "#!/bin/sh\n", 0o644);
        write_file(&root.join("exec"), "#!/bin/sh\necho hi\n", 0o755);
        for sub in ["a", "b"] {
            std::fs::create_dir(root.join(sub)).unwrap();
        }
        write_file(&root.join("a/first"), "#!/bin/sh\n", 0o755);
        write_file(&root.join("b/first"), "#!/bin/sh\n", 0o755);
        write_file(&root.join("a/blocked"), "#!/bin/sh\n", 0o644);
        write_file(&root.join("b/blocked"), "#!/bin/sh\n", 0o755);
        write_file(&root.join("b/only_b"), "#!/bin/sh\n", 0o755);
        std::fs::create_dir(root.join("a/isdir")).unwrap();
        write_file(&root.join("b/isdir"), "#!/bin/sh\n", 0o755);
        tmp
    }

    fn text(r: Result<ExecArgs, SpawnError>) -> String {
        match r {
            Ok(args) => format!("ok {} {:?}", args.filename, args.argv),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn shlex_split_matches_python() {
        // Expected values printed by Python 3.11's shlex.split.
        let ok: &[(&str, &[&str])] = &[
            ("a b  c", &["a", "b", "c"]),
            ("'a b' \"c d\"", &["a b", "c d"]),
            ("a\\ b", &["a b"]),
            ("\"x\"", &["x"]),
            ("\"a\\\"b\"", &["a\"b"]),
            ("\"a\\b\"", &["a\\b"]),
            ("\"a\\\\b\"", &["a\\b"]),
            ("'a\\b'", &["a\\b"]),
            ("\"\"", &[""]),
            ("''", &[""]),
            ("x\"\"y", &["xy"]),
            ("a\"b c\"d", &["ab cd"]),
            ("\ta\r\nb\n", &["a", "b"]),
            ("é ß", &["é", "ß"]),
            ("#c d", &["#c", "d"]),
            ("a#b", &["a#b"]),
            ("\"\\$x\"", &["\\$x"]),
            ("\\\\", &["\\"]),
            ("a 'b\\\" c'", &["a", "b\\\" c"]),
            ("x\\\ny", &["x\ny"]),
            ("\x0bv\x0c", &["\x0bv\x0c"]),
            ("", &[]),
            ("  \t ", &[]),
        ];
        for (input, expected) in ok {
            assert_eq!(shlex_split(input).unwrap(), *expected, "input {input:?}");
        }
        let bad: &[(&str, ShlexError)] = &[
            ("\\", ShlexError::NoEscapedCharacter),
            ("a\\", ShlexError::NoEscapedCharacter),
            ("\"abc\\", ShlexError::NoEscapedCharacter),
            ("\"a\\", ShlexError::NoEscapedCharacter),
            ("'abc", ShlexError::NoClosingQuotation),
            ("it's", ShlexError::NoClosingQuotation),
        ];
        for (input, expected) in bad {
            assert_eq!(shlex_split(input), Err(*expected), "input {input:?}");
        }
        assert_eq!(ShlexError::NoClosingQuotation.to_string(), "No closing quotation");
        assert_eq!(ShlexError::NoEscapedCharacter.to_string(), "No escaped character");
    }

    #[test]
    fn get_execv_args_messages() {
        let tmp = fixture();
        let root = tmp.path().to_str().unwrap();
        let path = format!("{root}/a:{root}/b");
        let check = |command: &str| text(get_execv_args(command, &path));

        assert_eq!(check(""), "command is empty");
        assert_eq!(check("  "), "command is empty");
        assert_eq!(check("'oops"), "can't parse command \"'oops\": No closing quotation");
        assert_eq!(check("it's"), "can't parse command \"it's\": No closing quotation");
        assert_eq!(check("x \\"), "can't parse command 'x \\\\': No escaped character");
        assert_eq!(check("nosuchprog_zz"), "can't find command 'nosuchprog_zz'");
        assert_eq!(check("\"it's\""), "can't find command \"it's\"");
        assert_eq!(check("/nonexistent/x"), "can't find command '/nonexistent/x'");
        assert_eq!(
            check(&format!("{root}/dir")),
            format!("command at '{root}/dir' is a directory")
        );
        assert_eq!(
            check(&format!("{root}/noexec")),
            format!("command at '{root}/noexec' is not executable")
        );
        assert_eq!(
            check(&format!("{root}/exec  -x")),
            format!("ok {root}/exec [\"{root}/exec\", \"-x\"]")
        );
        // PATH order: the first entry that stats wins, whatever it turns out to be.
        assert_eq!(check("first 1"), format!("ok {root}/a/first [\"first\", \"1\"]"));
        assert_eq!(check("only_b"), format!("ok {root}/b/only_b [\"only_b\"]"));
        assert_eq!(check("blocked"), format!("command at '{root}/a/blocked' is not executable"));
        assert_eq!(check("isdir"), format!("command at '{root}/a/isdir' is a directory"));
        // An empty argv0 joins to the PATH entry itself.
        assert_eq!(check("''"), format!("command at '{root}/a/' is a directory"));
        // Quoting survives into argv; argv0 stays as written.
        assert_eq!(
            check("first 'a b' c\\ d \"e\\\"f\" 'g\\h'"),
            format!("ok {root}/a/first [\"first\", \"a b\", \"c d\", \"e\\\"f\", \"g\\\\h\"]")
        );
        // A trailing slash on a PATH entry is not doubled.
        assert_eq!(
            text(get_execv_args("first", &format!("{root}/b/"))),
            format!("ok {root}/b/first [\"first\"]")
        );
        assert_eq!(
            text(get_execv_args("sh -c x", "/nonexistent:/bin")),
            "ok /bin/sh [\"sh\", \"-c\", \"x\"]"
        );
    }

    #[test]
    fn error_kinds_follow_the_rpc_mapping() {
        assert_eq!(SpawnError::NotFound("x".into()).kind(), SpawnErrorKind::NotFound);
        for e in [
            SpawnError::IsDirectory("x".into()),
            SpawnError::NotExecutable("x".into()),
            SpawnError::NoPermission("x".into()),
            SpawnError::EmptyCommand,
            SpawnError::BadCommand { command: "'".into(), reason: ShlexError::NoClosingQuotation },
        ] {
            assert_eq!(e.kind(), SpawnErrorKind::NotExecutable, "{e}");
        }
        assert_eq!(
            SpawnError::TooManyOpenFiles("p".into()).to_string(),
            "too many open files to spawn 'p'"
        );
        assert_eq!(
            SpawnError::Pipes { name: "p".into(), errno: errno_name(libc::ENFILE) }.to_string(),
            "unknown error making dispatchers for 'p': ENFILE"
        );
        assert_eq!(
            SpawnError::ProcessTableFull("p".into()).to_string(),
            "Too many processes in process table to spawn 'p'"
        );
        assert_eq!(
            SpawnError::Fork { name: "p".into(), errno: errno_name(libc::ENOMEM) }.to_string(),
            "unknown error during fork for 'p': ENOMEM"
        );
        assert_eq!(
            SpawnError::NoPermission("/x".into()).to_string(),
            "no permission to run command '/x'"
        );
        assert_eq!(SpawnError::TooManyOpenFiles("x".into()).kind(), SpawnErrorKind::Other);
    }

    #[test]
    fn search_path_fallbacks() {
        assert_eq!(search_path(Some("/p"), Some("/d")), "/p");
        assert_eq!(search_path(Some(""), Some("/d")), "");
        assert_eq!(search_path(None, Some("/d")), "/d");
        assert_eq!(search_path(None, Some("")), DEFAULT_PATH);
        assert_eq!(search_path(None, None), "/bin:/usr/bin:/usr/local/bin");
    }

    /// Runs the same commands through supervisor 4.3.0's own `get_execv_args` in the oracle venv
    /// (when the checkout has one) and compares class and text.
    #[test]
    fn get_execv_args_agrees_with_python() {
        let python = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python");
        if !python.exists() {
            return;
        }
        let tmp = fixture();
        let root = tmp.path().to_str().unwrap();
        let path = format!("{root}/a:{root}/b");
        let commands = [
            String::new(),
            "   ".into(),
            "'oops".into(),
            "it's".into(),
            "x \\".into(),
            "\"x\\".into(),
            "nosuchprog_zz".into(),
            "\"it's\"".into(),
            "\"tab\there\"".into(),
            "'\u{e9}t\u{e9}'".into(),
            "/nonexistent/x".into(),
            format!("{root}/dir"),
            format!("{root}/noexec"),
            format!("{root}/exec -x 'y z'"),
            "first a\\ b \"c\\\"d\" 'e\\f'".into(),
            "only_b".into(),
            "blocked".into(),
            "isdir".into(),
            "''".into(),
            "\"\" x".into(),
        ];
        let cases: Vec<(String, String)> = commands
            .iter()
            .map(|c| (c.clone(), path.clone()))
            .chain([
                ("first".to_owned(), String::new()),
                ("sh".to_owned(), "/nonexistent:/bin".to_owned()),
            ])
            .collect();
        let script = r#"
import json, sys
from supervisor.options import ServerOptions, ProcessException
from supervisor.process import Subprocess
class Config: pass
out = []
for command, path in json.loads(sys.argv[1]):
    c = Config(); c.command = command; c.options = ServerOptions()
    c.get_path = lambda p=path: p.split(':')
    proc = Subprocess.__new__(Subprocess); proc.config = c
    try:
        filename, argv = proc.get_execv_args()
        out.append(['ok', filename, argv])
    except ProcessException as e:
        out.append([type(e).__name__, e.args[0]])
print(json.dumps(out))
"#;
        let python = python.to_str().unwrap();
        let mut child = spec(&[python, "-c", script, &serde_json::to_string(&cases).unwrap()]);
        child.env = std::env::vars().collect();
        child.directory = Some(std::env::current_dir().unwrap().to_str().unwrap().to_owned());
        let outcome = run(&child);
        assert_eq!(exited(&outcome), 0, "{}", outcome.stderr);
        let expected: Vec<serde_json::Value> = serde_json::from_str(&outcome.stdout).unwrap();
        assert_eq!(expected.len(), cases.len());
        for ((command, path), want) in cases.iter().zip(expected) {
            let got = match get_execv_args(command, path) {
                Ok(args) => serde_json::json!(["ok", args.filename, args.argv]),
                Err(e) => {
                    let class = match &e {
                        SpawnError::NotFound(_) => "NotFound",
                        SpawnError::IsDirectory(_) | SpawnError::NotExecutable(_) => {
                            "NotExecutable"
                        }
                        SpawnError::NoPermission(_) => "NoPermission",
                        _ => "BadCommand",
                    };
                    serde_json::json!([class, e.to_string()])
                }
            };
            assert_eq!(got, want, "command {command:?} path {path:?}");
        }
    }

    /// `no permission to run command`: an execute bit exists, but not one that applies to us.
    #[test]
    fn no_permission() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let file = tmp.path().join("owner_only");
        if getuid().is_root() {
            // Root passes access(X_OK) whenever any x bit is set, so ask a copy of this test
            // binary running as nobody.
            write_file(&file, "#!/bin/sh\n", 0o700);
            let exe = std::env::current_exe().unwrap();
            let exe = exe.to_str().unwrap();
            let mut probe = spec(&[
                exe,
                "--exact",
                "process::spawn::tests::no_permission_probe",
                "--nocapture",
                "--test-threads=1",
            ]);
            probe.env.push(("SPAWN_PROBE_FILE".into(), file.to_str().unwrap().into()));
            probe.uid = Some(65534);
            let outcome = run(&probe);
            assert_eq!(exited(&outcome), 0, "{} {}", outcome.stdout, outcome.stderr);
            let line =
                outcome.stdout.split("PROBE:").nth(1).and_then(|rest| rest.lines().next()).unwrap();
            assert_eq!(line, format!("no permission to run command '{}'", file.display()));
        } else {
            write_file(&file, "#!/bin/sh\n", 0o011);
            let err = get_execv_args(file.to_str().unwrap(), "").unwrap_err();
            assert_eq!(err, SpawnError::NoPermission(file.to_str().unwrap().into()));
        }
    }

    /// Half of `no_permission`: does nothing unless that test runs it as another user.
    #[test]
    fn no_permission_probe() {
        if let Ok(file) = std::env::var("SPAWN_PROBE_FILE") {
            println!("PROBE:{}", text(get_execv_args(&file, "")));
        }
    }

    #[test]
    fn spawn_echo_reads_stdout_pipe() {
        let child = spawn(&spec(&["/bin/echo", "hello", "world"])).unwrap();
        // Parent ends are non-blocking and close-on-exec; the child's are closed in the parent.
        for fd in [child.stdin.as_ref().unwrap(), &child.stdout, child.stderr.as_ref().unwrap()] {
            let fl = OFlag::from_bits_retain(fcntl(fd, FcntlArg::F_GETFL).unwrap());
            assert!(fl.contains(OFlag::O_NONBLOCK));
            let fdfl = nix::fcntl::FdFlag::from_bits_retain(fcntl(fd, FcntlArg::F_GETFD).unwrap());
            assert!(fdfl.contains(nix::fcntl::FdFlag::FD_CLOEXEC));
        }
        let outcome = finish(child);
        assert_eq!(outcome.stdout, "hello world\n");
        assert_eq!(outcome.stderr, "");
        assert_eq!(decode_wait_status(outcome.status), (0, "exit status 0".to_owned()));
    }

    #[test]
    fn stdin_pipe_reaches_the_child() {
        let child = spawn(&spec(&["/bin/cat"])).unwrap();
        let mut stdin = std::fs::File::from(child.stdin.unwrap());
        stdin.write_all(b"ping\n").unwrap();
        drop(stdin);
        let stdout = read_to_end(child.stdout);
        drop(child.stderr);
        assert_eq!(stdout, "ping\n");
        assert_eq!(decode_wait_status(wait_raw(child.pid)).0, 0);
    }

    #[test]
    fn fcgi_socket_becomes_stdin() {
        let (ours, theirs) = std::os::unix::net::UnixStream::pair().unwrap();
        let mut s = spec(&["/bin/cat"]);
        s.stdin_socket = Some(theirs.as_raw_fd());
        let child = spawn(&s).unwrap();
        assert!(child.stdin.is_none());
        drop(theirs);
        let mut ours = ours;
        ours.write_all(b"over the socket\n").unwrap();
        ours.shutdown(std::net::Shutdown::Write).unwrap();
        let outcome = finish(child);
        assert_eq!(outcome.stdout, "over the socket\n");
        assert_eq!(exited(&outcome), 0);
    }

    #[test]
    fn stderr_pipe_and_redirect() {
        let mut s = spec(&["/bin/sh", "-c", "echo out; echo err >&2"]);
        let outcome = run(&s);
        assert_eq!((outcome.stdout.as_str(), outcome.stderr.as_str()), ("out\n", "err\n"));

        s.redirect_stderr = true;
        let child = spawn(&s).unwrap();
        assert!(child.stderr.is_none());
        let outcome = finish(child);
        assert_eq!(outcome.stdout, "out\nerr\n");
    }

    #[test]
    fn env_is_passed_exactly() {
        let mut s = spec(&["/usr/bin/env"]);
        s.env = vec![
            ("A".into(), "1".into()),
            ("B".into(), "x y=z".into()),
            ("A".into(), "2".into()),
            ("=LEAD".into(), "v".into()),
        ];
        let outcome = run(&s);
        assert_eq!(outcome.stdout, "A=2\nB=x y=z\n=LEAD=v\n");

        s.env.clear();
        assert_eq!(run(&s).stdout, "");
    }

    #[test]
    fn directory_and_umask_are_applied() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().canonicalize().unwrap();
        let mut s = spec(&["/bin/sh", "-c", "pwd; umask"]);
        s.directory = Some(dir.to_str().unwrap().to_owned());
        s.umask = Some(0o027);
        let outcome = run(&s);
        assert_eq!(outcome.stdout, format!("{}\n0027\n", dir.display()));
        assert_eq!(exited(&outcome), 0);
    }

    #[test]
    fn child_gets_its_own_process_group_in_our_session() {
        let outcome = run(&spec(&["/bin/cat", "/proc/self/stat"]));
        // pid (comm) state ppid pgrp session ...: comm is "cat", without spaces.
        let fields: Vec<&str> = outcome.stdout.split_whitespace().collect();
        let (pid, ppid, pgrp, session) = (fields[0], fields[3], fields[4], fields[5]);
        assert_eq!(pgrp, pid);
        assert_eq!(ppid, std::process::id().to_string());
        assert_eq!(session, nix::unistd::getsid(None).unwrap().to_string());
    }

    #[test]
    fn exec_failure_writes_two_lines_and_exits_127() {
        let mut s = spec(&["/nonexistent/prog", "x"]);
        let outcome = run(&s);
        assert_eq!(decode_wait_status(outcome.status), (127, "exit status 127".to_owned()));
        assert_eq!(
            outcome.stderr,
            "supervisor: couldn't exec /nonexistent/prog: ENOENT\nsupervisor: child process was not spawned\n"
        );
        assert_eq!(outcome.stdout, "");

        // The message names argv0 as written, not the resolved file; with redirect_stderr the
        // lines land in the stdout pipe.
        s.exec.argv[0] = "prog".into();
        s.redirect_stderr = true;
        let outcome = run(&s);
        assert_eq!(
            outcome.stdout,
            "supervisor: couldn't exec prog: ENOENT\nsupervisor: child process was not spawned\n"
        );
    }

    #[test]
    fn exec_of_a_script_without_shebang_is_enoexec() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("plain");
        write_file(&file, "echo hi\n", 0o755);
        let outcome = run(&spec(&[file.to_str().unwrap()]));
        assert_eq!(exited(&outcome), 127);
        assert_eq!(
            outcome.stderr,
            format!(
                "supervisor: couldn't exec {}: ENOEXEC\nsupervisor: child process was not spawned\n",
                file.display()
            )
        );
    }

    #[test]
    fn chdir_failure_message() {
        let mut s = spec(&["/bin/echo", "never"]);
        s.directory = Some("/no/such/dir".into());
        let outcome = run(&s);
        assert_eq!(exited(&outcome), 127);
        assert_eq!(
            outcome.stderr,
            "supervisor: couldn't chdir to /no/such/dir: ENOENT\nsupervisor: child process was not spawned\n"
        );
        s.directory = Some("/etc/passwd".into());
        assert_eq!(
            run(&s).stderr,
            "supervisor: couldn't chdir to /etc/passwd: ENOTDIR\nsupervisor: child process was not spawned\n"
        );
        // Python's os.chdir raises ValueError for a NUL, which only the last line reports.
        s.directory = Some("/tmp\0x".into());
        assert_eq!(run(&s).stderr, "supervisor: child process was not spawned\n");
    }

    #[test]
    fn arguments_execve_refuses_are_reported_like_python() {
        let mut s = spec(&["/bin/echo", "a\0b"]);
        assert_eq!(
            run(&s).stderr,
            "supervisor: couldn't exec /bin/echo: <class 'ValueError'>, embedded null byte\n\
             supervisor: child process was not spawned\n"
        );
        s.exec.argv = vec!["/bin/echo".into()];
        s.env = vec![("A=B".into(), "c".into())];
        let outcome = run(&s);
        assert_eq!(exited(&outcome), 127);
        assert_eq!(
            outcome.stderr,
            "supervisor: couldn't exec /bin/echo: <class 'ValueError'>, illegal environment variable name\n\
             supervisor: child process was not spawned\n"
        );
    }

    #[test]
    fn signal_state_matches_python_children() {
        let mask = |status: &str, name: &str| {
            let hex = status.lines().find_map(|l| l.strip_prefix(name)).unwrap().trim();
            u64::from_str_radix(hex, 16).unwrap()
        };
        let ours = std::fs::read_to_string("/proc/self/status").unwrap();
        let outcome = run(&spec(&["/bin/cat", "/proc/self/status"]));
        // glibc keeps signals 32 and 33 for itself and refuses to change them, so (as under
        // Python) whatever this process inherited for them passes through; cargo's test runner
        // happens to leave 32 ignored.
        let glibc_reserved = (1u64 << 31) | (1u64 << 32);
        let inherited = mask(&ours, "SigIgn:") & glibc_reserved;
        // SIGPIPE (13) and SIGXFSZ (25) ignored, nothing blocked or caught.
        assert_eq!(mask(&outcome.stdout, "SigIgn:"), 0x0100_1000 | inherited);
        assert_eq!(mask(&outcome.stdout, "SigBlk:"), 0);
        assert_eq!(mask(&outcome.stdout, "SigCgt:"), 0);
    }

    #[test]
    fn fds_above_2_are_closed_in_the_child() {
        // A descriptor without close-on-exec, which exec alone would leak.
        // SAFETY: F_DUPFD on our own stdout returns a fresh fd that we close below.
        let leaked = unsafe { libc::fcntl(1, libc::F_DUPFD, 200) };
        assert!(leaked >= 200);
        let outcome = run(&spec(&["/bin/ls", "/proc/self/fd"]));
        // SAFETY: `leaked` is the fd made above.
        unsafe { libc::close(leaked) };
        // ls itself holds fd 3 open on the directory it lists.
        assert_eq!(outcome.stdout, "0\n1\n2\n3\n");
    }

    #[test]
    fn dropping_privileges_as_root() {
        if !getuid().is_root() {
            return;
        }
        let mut s = spec(&["/bin/cat", "/proc/self/status"]);
        s.uid = Some(65534);
        let outcome = run(&s);
        assert_eq!(exited(&outcome), 0, "{}", outcome.stderr);
        let field = |name: &str| {
            outcome.stdout.lines().find_map(|l| l.strip_prefix(name)).unwrap().trim().to_owned()
        };
        let nobody = User::from_uid(Uid::from_raw(65534)).unwrap().unwrap();
        let gid = nobody.gid.as_raw().to_string();
        assert_eq!(field("Uid:").split_whitespace().collect::<Vec<_>>(), ["65534"; 4]);
        assert_eq!(field("Gid:").split_whitespace().collect::<Vec<_>>(), [gid.as_str(); 4]);
        assert_eq!(field("Groups:").split_whitespace().next(), Some(gid.as_str()));

        // Same uid: nothing to do.
        s.uid = Some(0);
        assert_eq!(exited(&run(&s)), 0);
    }

    #[test]
    fn unknown_uid_is_reported_by_the_child() {
        let mut s = spec(&["/bin/echo", "never"]);
        s.uid = Some(4_242_424);
        let outcome = run(&s);
        assert_eq!(exited(&outcome), 127);
        assert_eq!(
            outcome.stderr,
            "supervisor: couldn't setuid to 4242424: Can't find uid 4242424\n\
             supervisor: child process was not spawned\n"
        );
    }

    #[test]
    fn privilege_plans() {
        assert_eq!(plan_privileges(None, 1000), Privileges::Keep);
        assert_eq!(plan_privileges(Some(0), 0), Privileges::Keep);
        assert_eq!(
            plan_privileges(Some(0), 1000),
            Privileges::Fail("Can't drop privilege as nonroot user".into())
        );
        assert_eq!(
            plan_privileges(Some(4_242_424), 4_242_424),
            Privileges::Fail("Can't find uid 4242424".into())
        );
        match plan_privileges(Some(65534), 0) {
            Privileges::Drop { uid, gid, groups } => {
                assert_eq!(uid, 65534);
                assert_eq!(groups.first(), Some(&gid));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn drop_privileges_in_this_process() {
        assert_eq!(drop_privileges(getuid().as_raw()), None);
        assert_eq!(drop_privileges(4_242_424), Some("Can't find uid 4242424".to_owned()));
        if !getuid().is_root() {
            assert_eq!(drop_privileges(0), Some("Can't drop privilege as nonroot user".to_owned()));
            return;
        }
        // Dropping for real would break this test process, so a copy of it does the drop.
        let exe = std::env::current_exe().unwrap();
        let exe = exe.to_str().unwrap();
        let mut probe = spec(&[
            exe,
            "--exact",
            "process::spawn::tests::drop_privileges_probe",
            "--nocapture",
            "--test-threads=1",
        ]);
        probe.env.push(("SPAWN_PROBE_DROP".into(), "65534".into()));
        let outcome = run(&probe);
        assert_eq!(exited(&outcome), 0, "{} {}", outcome.stdout, outcome.stderr);
        let line =
            outcome.stdout.split("PROBE:").nth(1).and_then(|rest| rest.lines().next()).unwrap();
        let nobody = User::from_uid(Uid::from_raw(65534)).unwrap().unwrap();
        assert_eq!(line, format!("None 65534 65534 {}", nobody.gid));
    }

    /// Half of `drop_privileges_in_this_process`: does nothing unless that test runs it.
    #[test]
    fn drop_privileges_probe() {
        if let Ok(uid) = std::env::var("SPAWN_PROBE_DROP") {
            let result = drop_privileges(uid.parse().unwrap());
            let (real, effective) = (getuid(), nix::unistd::geteuid());
            println!("PROBE:{result:?} {real} {effective} {}", nix::unistd::getgid());
        }
    }

    #[test]
    fn decode_wait_status_texts() {
        assert_eq!(decode_wait_status(3 << 8), (3, "exit status 3".to_owned()));
        assert_eq!(
            decode_wait_status(0x8b),
            (-1, "terminated by SIGSEGV (core dumped)".to_owned())
        );
        assert_eq!(decode_wait_status(0x0b), (-1, "terminated by SIGSEGV".to_owned()));
        assert_eq!(decode_wait_status(0x7f), (-1, "unknown termination cause 0x007f".to_owned()));
        assert_eq!(decode_wait_status(0x137f), (-1, "unknown termination cause 0x137f".to_owned()));
        assert_eq!(decode_wait_status(0xffff), (-1, "unknown termination cause 0xffff".to_owned()));
        assert_eq!(decode_wait_status(35), (-1, "terminated by signal 35".to_owned()));

        // Real children.
        let outcome = run(&spec(&["/bin/sh", "-c", "exit 3"]));
        assert_eq!(decode_wait_status(outcome.status), (3, "exit status 3".to_owned()));
        let outcome = run(&spec(&["/bin/sh", "-c", "kill -TERM $$"]));
        assert_eq!(decode_wait_status(outcome.status), (-1, "terminated by SIGTERM".to_owned()));
    }

    #[test]
    fn signame_and_errno_name_texts() {
        assert_eq!(signame(15), "SIGTERM");
        assert_eq!(signame(6), "SIGABRT");
        assert_eq!(signame(17), "SIGCHLD");
        assert_eq!(signame(29), "SIGPOLL");
        assert_eq!(signame(34), "SIGRTMIN");
        assert_eq!(signame(64), "SIGRTMAX");
        assert_eq!(signame(0), "signal 0");
        assert_eq!(signame(32), "signal 32");
        assert_eq!(signame(35), "signal 35");
        assert_eq!(signame(65), "signal 65");
        assert_eq!(errno_name(libc::ENOENT), "ENOENT");
        assert_eq!(errno_name(libc::EACCES), "EACCES");
        assert_eq!(errno_name(libc::EWOULDBLOCK), "EAGAIN");
        assert_eq!(errno_name(libc::EDEADLK), "EDEADLOCK");
        assert_eq!(errno_name(libc::EOPNOTSUPP), "ENOTSUP");
        assert_eq!(errno_name(41), "41");
        assert_eq!(errno_name(133), "133");
        let mut msg = StackMessage::new();
        msg.push_errno(4321);
        msg.push_errno(-7);
        msg.push_errno(0);
        assert_eq!(msg.buf.get(..msg.len).unwrap(), b"4321-70");
    }

    #[test]
    fn stack_message_handles_long_lines() {
        let long = "x".repeat(3000);
        let mut s = spec(&["/bin/echo"]);
        s.directory = Some(format!("/tmp/{long}"));
        let outcome = run(&s);
        assert_eq!(
            outcome.stderr,
            format!(
                "supervisor: couldn't chdir to /tmp/{long}: ENAMETOOLONG\nsupervisor: child process was not spawned\n"
            )
        );
    }

    #[test]
    fn many_concurrent_spawns() {
        let threads: Vec<_> = (0..8)
            .map(|t| {
                std::thread::spawn(move || {
                    for i in 0..25 {
                        let word = format!("{t}-{i}");
                        let outcome = run(&spec(&["/bin/echo", &word]));
                        assert_eq!(outcome.stdout, format!("{word}\n"));
                        assert_eq!(exited(&outcome), 0);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
    }
}
