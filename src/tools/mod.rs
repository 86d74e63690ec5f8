//! The two small helper programs supervisor ships besides supervisord and supervisorctl:
//! `pidproxy` and `echo_supervisord_conf`. Each exposes a `main(args)` that its `src/bin`
//! wrapper calls, so the behaviour lives in the library and can be tested here.

pub mod echo_conf;
pub mod pidproxy;
