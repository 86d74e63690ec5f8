//! XML-RPC: the wire codec and (later) the `supervisor.*`/`system.*` namespaces. Knows nothing
//! about HTTP.

pub mod xmlrpc;
