//! Unit tests for the XML-RPC codec.
