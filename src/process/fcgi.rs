//! The listening socket an `[fcgi-program:x]` group hands its processes as stdin
//! (`socket_manager.SocketManager` and the socket configs' `create_and_bind`).
//!
//! supervisor reference-counts the socket per running process, so it is closed whenever no
//! process of the group runs, and a restart of a one-process group refuses the clients that
//! connect meanwhile. Here the socket lives as long as the group: it is created when the
//! group is added (or at the first spawn, if that failed) and closed when the group is
//! removed, so clients queue in the backlog across restarts.

use crate::config::FcgiSocketConfig;
use crate::logs::mainlog::Logger;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

/// One group's socket.
#[derive(Debug)]
pub struct FcgiSocket {
    config: FcgiSocketConfig,
    socket: Option<OwnedFd>,
}

impl FcgiSocket {
    pub fn new(config: FcgiSocketConfig) -> FcgiSocket {
        FcgiSocket { config, socket: None }
    }

    /// The socket's descriptor, created, bound and listening first if need be. The error is
    /// supervisor's `Could not create FastCGI socket <url>: <error>`.
    pub fn fd(&mut self, logger: &Logger) -> Result<RawFd, String> {
        if let Some(socket) = &self.socket {
            return Ok(socket.as_raw_fd());
        }
        let url = self.config.url();
        logger.info(&format!("Creating socket {url}"));
        let socket = create_and_bind(&self.config)
            .map_err(|e| format!("Could not create FastCGI socket {url}: {e}"))?;
        let fd = socket.as_raw_fd();
        self.socket = Some(socket);
        Ok(fd)
    }

    /// Closes the socket (the group is going away).
    pub fn close(&mut self, logger: &Logger) {
        if self.socket.take().is_some() {
            logger.info(&format!("Closing socket {}", self.config.url()));
        }
    }
}

/// `create_and_bind` and `listen`: TCP with SO_REUSEADDR (std sets it); a unix socket's stale
/// file is removed first, then it gets its owner and mode. The backlog is the configured one,
/// else `SOMAXCONN`.
fn create_and_bind(config: &FcgiSocketConfig) -> Result<OwnedFd, String> {
    let os = |e: std::io::Error| crate::python::os_error(&e, None);
    let (socket, backlog): (OwnedFd, Option<i64>) = match config {
        FcgiSocketConfig::Tcp { host, port, backlog } => {
            let listener = std::net::TcpListener::bind((host.as_str(), *port)).map_err(os)?;
            (listener.into(), *backlog)
        }
        FcgiSocketConfig::Unix { path, mode, owner, backlog } => {
            if std::path::Path::new(path).exists() {
                std::fs::remove_file(path).map_err(os)?;
            }
            let listener = std::os::unix::net::UnixListener::bind(path).map_err(os)?;
            let fail = |e: String| {
                let _ = std::fs::remove_file(path);
                e
            };
            if let Some((uid, gid)) = owner {
                let id = |v: i64| u32::try_from(v).ok();
                std::os::unix::fs::chown(path, id(*uid), id(*gid)).map_err(|e| {
                    fail(format!("Could not change ownership of socket file: {}", os(e)))
                })?;
            }
            let perms =
                std::os::unix::fs::PermissionsExt::from_mode(u32::try_from(*mode).unwrap_or(0o700));
            std::fs::set_permissions(path, perms).map_err(|e| {
                fail(format!("Could not change permissions of socket file: {}", os(e)))
            })?;
            (listener.into(), *backlog)
        }
    };
    let backlog =
        backlog.filter(|b| *b != 0).and_then(|b| i32::try_from(b).ok()).unwrap_or(libc::SOMAXCONN);
    // SAFETY: listen(2) on a socket descriptor we own.
    if unsafe { libc::listen(socket.as_raw_fd(), backlog) } != 0 {
        return Err(os(std::io::Error::last_os_error()));
    }
    Ok(socket)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::datatypes::LogLevel;

    #[test]
    fn tcp_socket_listens_until_closed() {
        let logger = Logger::new(LogLevel::Info);
        let config = FcgiSocketConfig::Tcp { host: "127.0.0.1".into(), port: 0, backlog: Some(5) };
        let mut socket = FcgiSocket::new(config);
        let fd = socket.fd(&logger).unwrap();
        assert_eq!(socket.fd(&logger).unwrap(), fd);
        socket.close(&logger);
        assert!(socket.socket.is_none());
    }

    #[test]
    fn unix_socket_replaces_a_stale_file_and_reports_bind_errors() {
        let logger = Logger::new(LogLevel::Info);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fcgi.sock").to_str().unwrap().to_string();
        std::fs::write(&path, b"stale").unwrap();
        let config =
            FcgiSocketConfig::Unix { path: path.clone(), mode: 0o600, owner: None, backlog: None };
        let mut socket = FcgiSocket::new(config);
        socket.fd(&logger).unwrap();
        let _client = std::os::unix::net::UnixStream::connect(&path).unwrap();
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        let bad = FcgiSocketConfig::Unix {
            path: dir.path().join("no/such/dir.sock").to_str().unwrap().to_string(),
            mode: 0o700,
            owner: None,
            backlog: None,
        };
        let err = FcgiSocket::new(bad).fd(&logger).unwrap_err();
        assert!(err.starts_with("Could not create FastCGI socket unix://"), "{err}");
        assert!(err.ends_with("[Errno 2] No such file or directory"), "{err}");
    }
}
