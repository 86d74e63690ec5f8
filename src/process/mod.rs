//! Processes: the state machine, the actor that owns the process table, and the one module that
//! forks children.

pub mod spawn;
