//! The configuration loader: `supervisord.conf` text in, a typed [`ServerConfig`] out, meaning
//! exactly what it means to supervisor 4.3.0.
//!
//! Two stages, as in supervisor's `options.py`: [`ini`] reads raw sections the way Python's
//! `RawConfigParser` does (plus `[include]` via [`glob`]), then the typed loader converts every
//! option with the [`datatypes`] converters after `%(name)s` expansion by [`expand`].

pub mod datatypes;
pub mod expand;
pub mod glob;
pub mod ini;
