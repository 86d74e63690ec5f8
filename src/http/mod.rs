//! HTTP transport: the unix and inet servers, Basic auth, supervisor's (medusa's) response
//! conventions, and the `/logtail` streams. Dispatches XML-RPC bodies to a backend.

pub mod server;
