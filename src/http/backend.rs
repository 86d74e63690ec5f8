//! The seam between the HTTP layer and the daemon: everything a request may ask of supervisord
//! (run an XML-RPC call, name a log file, render a web page, write a log line).

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full};

use crate::config::datatypes::LogLevel;

/// A response body for [`Backend::web`]. Boxed so that pages and streams share one type; the
/// error type is `Infallible` because a page that cannot be produced is a 500 decided before
/// the body exists.
pub type Body = http_body_util::combinators::BoxBody<Bytes, Infallible>;

/// A boxed future the HTTP layer can await from a `Send` connection task.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// A body holding `data` whole (its length is known, so a `Content-Length` is written for it).
pub fn full_body(data: impl Into<Bytes>) -> Body {
    Full::new(data.into()).boxed()
}

/// A body with no bytes.
pub fn empty_body() -> Body {
    Empty::<Bytes>::new().boxed()
}

/// What became of one XML-RPC request body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RpcOutcome {
    /// A complete `<methodResponse>` document (a fault is a response too): HTTP 200, `text/xml`.
    Xml(Bytes),
    /// The body could not be unmarshalled or named no method: HTTP 400.
    BadRequest,
    /// The call failed unexpectedly (supervisor's "raised an unexpected exception"): HTTP 500.
    ServerError,
}

/// What the HTTP layer asks of the daemon. One backend serves every configured server.
pub trait Backend: Send + Sync + 'static {
    /// Handle one XML-RPC POST body (already known to be a POST to `/RPC2*` with a
    /// Content-Length). May take long (`wait=True` calls); other connections keep being served
    /// while it runs because every connection is its own task.
    fn xmlrpc(&self, body: Bytes) -> BoxFuture<RpcOutcome>;

    /// The log file for `/logtail/‹namespec›/‹channel›` (channel already checked to be `stdout`
    /// or `stderr`); `None` answers 404.
    fn process_logfile(&self, namespec: &str, channel: &str) -> Option<String>;

    /// The main log file for `/mainlogtail`; `None` answers 404.
    fn main_logfile(&self) -> Option<String>;

    /// The web UI: views and static files (see [`crate::web::WebRequest`]). `None` falls
    /// through to supervisor's default handling (`ok.html`, 400 for methods other than GET and
    /// HEAD, 404 otherwise).
    fn web(&self, request: crate::web::WebRequest) -> Option<BoxFuture<http::Response<Body>>> {
        let _ = request;
        None
    }

    /// Write a line through supervisord's logger (access log at TRACE, or ERROR when the line
    /// contains "error", as supervisor's `LogWrapper` sniffs it).
    fn log(&self, level: LogLevel, message: &str);

    /// Whether a line at `level` would be written; lets the access log skip building lines
    /// that would be thrown away (one per request, usually at TRACE).
    fn log_enabled(&self, level: LogLevel) -> bool {
        let _ = level;
        true
    }
}
