//! [`HttpServers`]: one listener per `[inet_http_server*]` / `[unix_http_server*]` section,
//! bound up front (plain fds, so binding may precede daemonizing), served by accept loops that
//! give every connection its own task, and cleaned up (socket files unlinked) at exit.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::config::datatypes::LogLevel;
use crate::config::{HttpServerConfig, ServerAddress};
use crate::http::auth::Credentials;
use crate::http::backend::Backend;
use crate::http::bind::{self, HttpError};
use crate::http::connection::{self, Peer, ServerCtx, shutdown_signalled};

pub use crate::http::connection::MAX_REQUEST_BODY;

/// How long connections get, once shutdown is signalled, to finish the reply they are writing
/// (the answer to the `shutdown` or `restart` call itself, typically) before they are dropped.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(1);

/// After a failed accept (out of fds, say), wait this long before the next, instead of spinning.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Where a server listens, as bound (an inet port 0 in the config becomes the real port).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    Inet(SocketAddr),
    Unix(PathBuf),
}

/// Every configured HTTP server, bound and not yet serving.
#[derive(Debug)]
pub struct HttpServers {
    servers: Vec<BoundServer>,
}

#[derive(Debug)]
struct BoundServer {
    config: HttpServerConfig,
    listener: StdListener,
    /// What medusa logs while opening the server (hostname lookups, "Medusa ... started").
    startup: Vec<(LogLevel, String)>,
    /// medusa prefixes its own log lines with the server's `ip` (the host, or the socket path).
    log_ip: String,
    /// See `ServerCtx::server_url`.
    server_url: String,
}

#[derive(Debug)]
enum StdListener {
    Tcp(std::net::TcpListener),
    Unix { listener: std::os::unix::net::UnixListener, path: PathBuf },
}

enum Listener {
    Tcp(tokio::net::TcpListener),
    Unix(tokio::net::UnixListener),
}

impl HttpServers {
    /// Bind every server in config order, as supervisor's `make_http_servers` does. On error
    /// the servers bound so far are closed (their socket files unlinked) and the error's
    /// `Display` is the text for `usage()`.
    pub fn bind(configs: &[HttpServerConfig]) -> Result<HttpServers, HttpError> {
        let mut bound = HttpServers { servers: Vec::with_capacity(configs.len()) };
        for config in configs {
            match bind_one(config) {
                Ok(server) => bound.servers.push(server),
                Err(e) => {
                    bound.close();
                    return Err(e);
                }
            }
        }
        Ok(bound)
    }

    /// Where each server listens, in config order.
    pub fn endpoints(&self) -> Vec<Endpoint> {
        self.servers
            .iter()
            .filter_map(|s| match &s.listener {
                StdListener::Tcp(l) => l.local_addr().ok().map(Endpoint::Inet),
                StdListener::Unix { path, .. } => Some(Endpoint::Unix(path.clone())),
            })
            .collect()
    }

    /// The lines supervisor logs while making its servers, in its order: per server, medusa's
    /// own (TRACE), `RPC interface 'x' initialized` (INFO) for each of `rpc_interfaces`, then
    /// the CRIT warning when the server has no authentication.
    pub fn startup_log(&self, rpc_interfaces: &[&str]) -> Vec<(LogLevel, String)> {
        let mut out = Vec::new();
        for server in &self.servers {
            out.extend(server.startup.iter().cloned());
            for name in rpc_interfaces {
                let repr = crate::python::repr(name);
                out.push((LogLevel::Info, format!("RPC interface {repr} initialized")));
            }
            if credentials(&server.config).is_none() {
                let section = crate::python::repr(&server.config.section);
                out.push((
                    LogLevel::Critical,
                    format!("Server {section} running without any HTTP authentication checking"),
                ));
            }
        }
        out
    }

    /// Accept and serve connections on every server until `shutdown` becomes true (or its
    /// sender is dropped). Needs a tokio runtime when first polled; the listeners are duplicated
    /// so `self` can still be [closed](HttpServers::close) afterwards.
    pub fn serve(
        &self,
        backend: Arc<dyn Backend>,
        shutdown: watch::Receiver<bool>,
    ) -> impl Future<Output = ()> + Send + 'static {
        let prepared: Vec<_> = self
            .servers
            .iter()
            .map(|s| {
                let ctx = Arc::new(ServerCtx {
                    credentials: credentials(&s.config),
                    backend: Arc::clone(&backend),
                    server_url: s.server_url.clone(),
                });
                (s.listener.try_clone(), ctx, s.log_ip.clone())
            })
            .collect();
        async move {
            let mut loops = JoinSet::new();
            for (listener, ctx, log_ip) in prepared {
                match listener.and_then(StdListener::into_tokio) {
                    Ok(listener) => {
                        loops.spawn(accept_loop(listener, ctx, log_ip, shutdown.clone()));
                    }
                    Err(e) => backend
                        .log(LogLevel::Error, &format!("{log_ip}:Cannot serve HTTP requests: {e}")),
                }
            }
            while loops.join_next().await.is_some() {}
        }
    }

    /// Unlink the unix socket files, as supervisord does at exit (`ServerOptions.cleanup`),
    /// and close the listeners.
    pub fn close(self) {
        for server in &self.servers {
            if let StdListener::Unix { path, .. } = &server.listener {
                let _ = std::fs::remove_file(path);
            }
        }
    }
}

fn credentials(config: &HttpServerConfig) -> Option<Credentials> {
    Credentials::from_config(config.username.as_deref(), config.password.as_deref())
}

fn bind_one(config: &HttpServerConfig) -> Result<BoundServer, HttpError> {
    let now = jiff::ZonedDateTime::now().strftime("%a %b %e %H:%M:%S %Y").to_string();
    match &config.address {
        ServerAddress::Inet { host, port } => {
            let bound = bind::bind_inet(host, *port)?;
            let mut startup = bound.log;
            startup.push((
                LogLevel::Trace,
                format!(
                    "{host}:Medusa (V1.12) started at {now}\n\tHostname: {}\n\tPort:{port}",
                    bound.server_name
                ),
            ));
            Ok(BoundServer {
                config: config.clone(),
                listener: StdListener::Tcp(bound.listener),
                startup,
                log_ip: host.clone(),
                server_url: format!("http://{}:{port}", bound.server_name),
            })
        }
        ServerAddress::Unix { file, chmod, chown } => {
            let listener = bind::bind_unix(file, *chmod, *chown)?;
            let startup = vec![(
                LogLevel::Trace,
                format!(
                    "{file}:Medusa (V1.12) started at {now}\n\tHostname: <unix domain socket>\
                     \n\tPort:{file}"
                ),
            )];
            Ok(BoundServer {
                config: config.clone(),
                listener: StdListener::Unix { listener, path: PathBuf::from(file) },
                startup,
                log_ip: file.clone(),
                server_url: format!("http://<unix domain socket>:{file}"),
            })
        }
    }
}

impl StdListener {
    fn try_clone(&self) -> std::io::Result<StdListener> {
        Ok(match self {
            StdListener::Tcp(l) => StdListener::Tcp(l.try_clone()?),
            StdListener::Unix { listener, path } => {
                StdListener::Unix { listener: listener.try_clone()?, path: path.clone() }
            }
        })
    }

    fn into_tokio(self) -> std::io::Result<Listener> {
        Ok(match self {
            StdListener::Tcp(l) => {
                l.set_nonblocking(true)?;
                Listener::Tcp(tokio::net::TcpListener::from_std(l)?)
            }
            StdListener::Unix { listener, .. } => {
                listener.set_nonblocking(true)?;
                Listener::Unix(tokio::net::UnixListener::from_std(listener)?)
            }
        })
    }
}

/// Accept until shutdown, one task per connection; the connections live in this loop's
/// `JoinSet`, so dropping the loop (or the whole `serve` future) aborts them.
async fn accept_loop(
    listener: Listener,
    ctx: Arc<ServerCtx>,
    log_ip: String,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            () = shutdown_signalled(&mut shutdown) => break,
            accepted = accept(&listener) => match accepted {
                Ok(Accepted::Tcp(stream, addr)) => {
                    // Tail chunks are small writes; don't let Nagle hold them back.
                    let _ = stream.set_nodelay(true);
                    let peer = Peer::Inet(addr);
                    conns.spawn(connection::run(stream, peer, Arc::clone(&ctx), shutdown.clone()));
                }
                Ok(Accepted::Unix(stream)) => {
                    let conn = connection::run(stream, Peer::Unix, Arc::clone(&ctx), shutdown.clone());
                    conns.spawn(conn);
                }
                Err(_) => {
                    let message = format!("{log_ip}:warning: server accept() threw an exception");
                    ctx.backend.log(LogLevel::Trace, &message);
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                }
            },
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
    drop(listener);
    let _ =
        tokio::time::timeout(SHUTDOWN_GRACE, async { while conns.join_next().await.is_some() {} })
            .await;
}

enum Accepted {
    Tcp(tokio::net::TcpStream, SocketAddr),
    Unix(tokio::net::UnixStream),
}

async fn accept(listener: &Listener) -> std::io::Result<Accepted> {
    match listener {
        Listener::Tcp(l) => l.accept().await.map(|(s, a)| Accepted::Tcp(s, a)),
        Listener::Unix(l) => l.accept().await.map(|(s, _)| Accepted::Unix(s)),
    }
}
