//! Log files: supervisord's main log and the child output logs, with supervisor's rotation and
//! its byte-offset read and tail semantics. Log bytes never pass through the process actor.

pub mod capture;
pub mod files;
pub mod mainlog;
