//! HTTP transport: the unix and inet servers, Basic auth, supervisor's (medusa's) response
//! conventions, and the `/logtail` streams. Dispatches XML-RPC bodies to a backend.
//!
//! The wire format is written by hand rather than by hyper's server because what clients see is
//! medusa's: header order and spelling (`WWW-Authenticate`), the request's version echoed in the
//! status line (`HTTP/None` for a request line without one), `Connection: Keep-Alive` only for
//! HTTP/1.0, no `Connection: close` header when a 1.x connection is closed, and connections
//! dropped without an answer where medusa drops them. The `http` crate's types are the currency of
//! the web UI hook ([`Backend::web`] returns an `http::Response<Body>`).
//!
//! - [`server`]: [`HttpServers`]: binding (the unix socket's temp-name, hard-link and
//!   stale-socket dance), accept loops, shutdown, socket-file cleanup.
//! - `connection`: one client connection: request heads, routing, auth, keep-alive.
//! - `request`, `response`, `auth`, `logtail`: medusa's request parsing, reply headers and
//!   error pages, `Authorization: Basic` checking, and `tail -f` over a file.

mod auth;
mod backend;
mod bind;
mod connection;
mod logtail;
mod request;
mod response;
pub mod server;

pub use backend::{Backend, Body, BoxFuture, RpcOutcome, empty_body, full_body};
pub use bind::HttpError;
pub use response::{error_page, http_date};
pub use server::{Endpoint, HttpServers, MAX_REQUEST_BODY};
