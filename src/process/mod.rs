//! Processes: the state machine, the actor that owns the process table, and the one module that
//! forks children.

pub mod actor;
pub mod fcgi;
pub mod fsm;
pub mod io;
pub mod notify;
pub mod spawn;
pub mod state;
pub mod supervisor;
