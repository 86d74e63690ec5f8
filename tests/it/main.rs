//! Integration tests: the built binaries driven as a user would drive them, plus tree-wide
//! checks (every module says what it owns).

// A test binary: a failed unwrap is a failed test with its message.
#![allow(clippy::unwrap_used)]

mod http;
mod supervisord_cli;
mod tidy;
mod tools;
