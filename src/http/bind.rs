//! Opening the listening sockets the way supervisor does (`supervisor_af_inet_http_server`,
//! `supervisor_af_unix_http_server`, `ServerOptions.openhttpservers`), with its error texts.
//!
//! The unix socket is bound under a temporary name, chmod-ed, then hard-linked to the configured
//! path: the link fails if the path exists, and a connect probe tells a live server (refuse to
//! start) from a stale socket file left by a crash (unlink it and retry).

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpListener, ToSocketAddrs};
use std::os::fd::AsRawFd;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::errno::Errno;
use nix::unistd::{Gid, Uid};

use crate::config::datatypes::LogLevel;

/// Why a server could not be opened. `Display` is the text supervisord passes to `usage()`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpError {
    /// The address is taken, or another live server answers on the unix socket path.
    #[error(
        "Another program is already listening on a port that one of our HTTP servers is \
         configured to use.  Shut this program down first before starting supervisord."
    )]
    AddressInUse,
    /// chown of the unix socket failed with EPERM.
    #[error(
        "Not permitted to chown {path} to uid/gid ({uid}, {gid}); adjust \"sockchown\" value in \
         config file or on command line to values that the current user ({user}) can \
         successfully chown"
    )]
    ChownNotPermitted { path: String, uid: i64, gid: i64, user: String },
    /// Any other socket, chmod or chown failure, by errno (negative: a resolver error code).
    #[error("Cannot open an HTTP server: socket.error reported {}", errno_text(*.errno))]
    Socket { errno: i32 },
    /// An inet server for all interfaces on a machine whose own hostname does not resolve.
    #[error(
        "Could not determine IP address for hostname {0}, please try setting an explicit IP \
         address in the \"port\" setting of your [inet_http_server] section.  For example, \
         instead of \"port = 9001\", try \"port = 127.0.0.1:9001.\""
    )]
    UnresolvableHostname(String),
}

/// `errno.EACCES (13)`, or the bare number when Python's `errno.errorcode` has no name for it.
fn errno_text(errno: i32) -> String {
    if errno <= 0 {
        return errno.to_string();
    }
    let name = match Errno::from_raw(errno) {
        Errno::UnknownErrno => return errno.to_string(),
        // Python's table keeps the other name of these aliased numbers.
        Errno::EDEADLK => "EDEADLOCK".to_string(),
        Errno::EOPNOTSUPP => "ENOTSUP".to_string(),
        e => format!("{e:?}"),
    };
    format!("errno.{name} ({errno})")
}

fn socket_error(e: &io::Error) -> HttpError {
    match e.raw_os_error() {
        Some(n) if n == Errno::EADDRINUSE as i32 => HttpError::AddressInUse,
        Some(n) => HttpError::Socket { errno: n },
        None => HttpError::Socket { errno: Errno::EINVAL as i32 },
    }
}

/// medusa's listen backlog; std listens with 128, and listen() again only raises it.
const BACKLOG: libc::c_int = 1024;

fn raise_backlog(fd: &impl AsRawFd) {
    // SAFETY: `fd` is a listening socket owned by the caller for the duration of the call.
    unsafe {
        libc::listen(fd.as_raw_fd(), BACKLOG);
    }
}

/// An inet listener plus what supervisor logs while opening it.
pub(crate) struct InetBound {
    pub listener: TcpListener,
    pub log: Vec<(LogLevel, String)>,
    pub server_name: String,
}

/// Bind `host:port` with SO_REUSEADDR (std sets it on unix); an empty host means every
/// interface, and supervisor then computes a hostname for its log.
pub(crate) fn bind_inet(host: &str, port: u16) -> Result<InetBound, HttpError> {
    let addr = if host.is_empty() {
        SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, port))
    } else {
        resolve_v4(host, port).map_err(|errno| HttpError::Socket { errno })?
    };
    let listener = TcpListener::bind(addr).map_err(|e| socket_error(&e))?;
    raise_backlog(&listener);
    let mut log = Vec::new();
    let ip = if host.is_empty() {
        log.push((LogLevel::Trace, ":Computing default hostname".to_string()));
        let hostname = nix::unistd::gethostname()
            .map(|h| h.to_string_lossy().into_owned())
            .unwrap_or_default();
        match resolve_v4(&hostname, 0) {
            Ok(SocketAddr::V4(a)) => *a.ip(),
            _ => return Err(HttpError::UnresolvableHostname(hostname)),
        }
    } else {
        match addr {
            SocketAddr::V4(a) => *a.ip(),
            SocketAddr::V6(_) => Ipv4Addr::UNSPECIFIED,
        }
    };
    let server_name = reverse_lookup(ip).unwrap_or_else(|| {
        log.push((LogLevel::Trace, format!("{host}:Cannot do reverse lookup")));
        ip.to_string()
    });
    Ok(InetBound { listener, log, server_name })
}

/// `socket.gethostbyname`-style resolution to the first IPv4 address; the error is what
/// Python's `socket.gaierror` would carry (EAI_NONAME).
fn resolve_v4(host: &str, port: u16) -> Result<SocketAddr, i32> {
    const EAI_NONAME: i32 = -2;
    (host, port)
        .to_socket_addrs()
        .map_err(|_| EAI_NONAME)?
        .find(SocketAddr::is_ipv4)
        .ok_or(EAI_NONAME)
}

/// `socket.gethostbyaddr(ip)[0]`: the name for an address, if the resolver has one.
fn reverse_lookup(ip: Ipv4Addr) -> Option<String> {
    let sa = libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: 0,
        sin_addr: libc::in_addr { s_addr: u32::from(ip).to_be() },
        sin_zero: [0; 8],
    };
    let mut host = [0 as libc::c_char; 1025];
    // SAFETY: `sa` is a valid sockaddr_in of the size passed, `host` is writable for its full
    // length, and getnameinfo NUL-terminates what it writes there on success.
    let rc = unsafe {
        libc::getnameinfo(
            (&raw const sa).cast::<libc::sockaddr>(),
            std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
            host.as_mut_ptr(),
            host.len() as libc::socklen_t,
            std::ptr::null_mut(),
            0,
            libc::NI_NAMEREQD,
        )
    };
    if rc != 0 {
        return None;
    }
    // SAFETY: on success `host` holds a NUL-terminated string (see above).
    let name = unsafe { std::ffi::CStr::from_ptr(host.as_ptr()) };
    name.to_str().ok().map(str::to_string)
}

/// How often the stale-socket loop may go round. supervisor retries forever; a path that can
/// never be linked (a directory, say) would then hang startup while printing every 0.3 s.
const STALE_RETRIES: u32 = 20;

/// Bind the unix socket at `path` with supervisor's temp-name, chmod, link, chown sequence.
pub(crate) fn bind_unix(
    path: &str,
    chmod: i64,
    chown: (i64, i64),
) -> Result<UnixListener, HttpError> {
    let temp = PathBuf::from(format!("{path}.{}", std::process::id()));
    let _ = std::fs::remove_file(&temp);
    let mut attempts = 0;
    loop {
        let step = bind_unix_once(path, &temp, chmod, chown);
        let _ = std::fs::remove_file(&temp);
        match step {
            Step::Bound(listener) => return Ok(listener),
            Step::Failed(e) => return Err(e),
            Step::Stale(link_error) => {
                attempts += 1;
                if attempts > STALE_RETRIES {
                    return Err(socket_error(&link_error));
                }
                let _ = std::io::stderr()
                    .write_all(format!("Unlinking stale socket {path}\n").as_bytes());
                let _ = std::fs::remove_file(path);
                std::thread::sleep(Duration::from_millis(300));
            }
        }
    }
}

enum Step {
    Bound(UnixListener),
    Failed(HttpError),
    /// The link failed and nobody answers at the path; carries the link error.
    Stale(io::Error),
}

fn bind_unix_once(path: &str, temp: &Path, chmod: i64, chown: (i64, i64)) -> Step {
    let listener = match UnixListener::bind(temp) {
        Ok(l) => l,
        Err(e) => return Step::Failed(socket_error(&e)),
    };
    let mode = (chmod & 0o7777) as u32;
    if let Err(e) = std::fs::set_permissions(temp, std::fs::Permissions::from_mode(mode)) {
        return Step::Failed(socket_error(&e));
    }
    if let Err(link_error) = std::fs::hard_link(temp, path) {
        if check_used(Path::new(path)) {
            return Step::Failed(HttpError::AddressInUse);
        }
        return Step::Stale(link_error);
    }
    let id = |n: i64| u32::try_from(n).ok();
    let owner = id(chown.0).map(Uid::from_raw);
    let group = id(chown.1).map(Gid::from_raw);
    if let Err(errno) = nix::unistd::chown(path, owner, group) {
        // supervisor leaves the linked socket behind here; nothing will ever serve it.
        let _ = std::fs::remove_file(path);
        if errno == Errno::EPERM {
            let euid = nix::unistd::geteuid();
            let user = nix::unistd::User::from_uid(euid)
                .ok()
                .flatten()
                .map(|u| u.name)
                .unwrap_or_else(|| euid.to_string());
            return Step::Failed(HttpError::ChownNotPermitted {
                path: path.to_string(),
                uid: chown.0,
                gid: chown.1,
                user,
            });
        }
        return Step::Failed(HttpError::Socket { errno: errno as i32 });
    }
    raise_backlog(&listener);
    Step::Bound(listener)
}

/// supervisor's `checkused`: connect, send a request, wait for one byte. A server that accepts
/// but stays silent counts as live here (supervisor would wait for it forever).
fn check_used(path: &Path) -> bool {
    let Ok(mut s) = UnixStream::connect(path) else { return false };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    let _ = s.set_write_timeout(Some(Duration::from_secs(2)));
    if s.write_all(b"GET / HTTP/1.0\r\n\r\n").is_err() {
        return false;
    }
    let mut byte = [0u8; 1];
    // One byte or end-of-file both prove a live peer; only how it went matters.
    match s.read(&mut byte).map(|_n| ()) {
        Ok(()) => true,
        Err(e) => matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_texts_are_supervisors() {
        assert_eq!(
            HttpError::AddressInUse.to_string(),
            "Another program is already listening on a port that one of our HTTP servers is \
             configured to use.  Shut this program down first before starting supervisord."
        );
        assert_eq!(
            HttpError::Socket { errno: 13 }.to_string(),
            "Cannot open an HTTP server: socket.error reported errno.EACCES (13)"
        );
        assert_eq!(
            HttpError::Socket { errno: -2 }.to_string(),
            "Cannot open an HTTP server: socket.error reported -2"
        );
        assert_eq!(
            HttpError::Socket { errno: 35 }.to_string(),
            "Cannot open an HTTP server: socket.error reported errno.EDEADLOCK (35)"
        );
        assert_eq!(
            HttpError::ChownNotPermitted {
                path: "/tmp/s".into(),
                uid: 1000,
                gid: -1,
                user: "bob".into()
            }
            .to_string(),
            "Not permitted to chown /tmp/s to uid/gid (1000, -1); adjust \"sockchown\" value in \
             config file or on command line to values that the current user (bob) can \
             successfully chown"
        );
        assert!(HttpError::UnresolvableHostname("h".into()).to_string().starts_with(
            "Could not determine IP address for hostname h, please try setting an explicit IP"
        ));
    }

    #[test]
    fn inet_in_use_is_reported() {
        let first = bind_inet("127.0.0.1", 0).unwrap();
        let port = first.listener.local_addr().unwrap().port();
        assert_eq!(bind_inet("127.0.0.1", port).err(), Some(HttpError::AddressInUse));
        assert!(!first.server_name.is_empty());
    }

    #[test]
    fn unix_socket_gets_mode_and_no_temp_file_remains() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sock");
        let p = path.to_str().unwrap();
        let _l = bind_unix(p, 0o640, (-1, -1)).unwrap();
        let meta = std::fs::metadata(&path).unwrap();
        assert_eq!(meta.permissions().mode() & 0o7777, 0o640);
        let names: Vec<_> =
            std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from("s.sock")]);
    }

    #[test]
    fn unix_bind_errors_carry_errno() {
        let err = bind_unix("/nonexistent-dir/x/s.sock", 0o700, (-1, -1)).unwrap_err();
        assert_eq!(err, HttpError::Socket { errno: Errno::ENOENT as i32 });
    }
}
