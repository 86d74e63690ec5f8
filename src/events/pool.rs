//! An `[eventlistener:x]` pool's event buffer (`EventListenerPool._acceptEvent`): serials,
//! the bounded buffer that drops its oldest event on overflow, and re-queuing at the head for
//! events a listener rejected or could not be given.

use crate::events::Event;
use crate::logs::mainlog::Logger;
use std::collections::VecDeque;
use std::sync::Arc;

/// An event waiting in (or taken from) a pool's buffer, with the serials it was given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queued {
    pub event: Arc<Event>,
    /// Daemon-wide, given when the first pool accepted the event.
    pub serial: i64,
    /// This pool's own count.
    pub pool_serial: i64,
}

/// `new_serial`: counts from 0 and wraps at `sys.maxsize` back to 0.
pub fn next_serial(counter: &mut i64) -> i64 {
    if *counter == i64::MAX {
        *counter = -1;
    }
    *counter += 1;
    *counter
}

/// One pool's buffer.
#[derive(Debug)]
pub struct EventPool {
    name: String,
    buffer_size: usize,
    buffer: VecDeque<Queued>,
    serial: i64,
}

impl EventPool {
    pub fn new(name: &str, buffer_size: i64) -> EventPool {
        EventPool {
            name: name.to_string(),
            buffer_size: usize::try_from(buffer_size).unwrap_or(usize::MAX),
            buffer: VecDeque::new(),
            serial: -1,
        }
    }

    /// Accepts an event this pool has not seen before: gives it the next pool serial and
    /// appends it. Returns the pool serial.
    pub fn accept_new(&mut self, event: Arc<Event>, serial: i64, logger: &Logger) -> i64 {
        let pool_serial = next_serial(&mut self.serial);
        self.push(Queued { event, serial, pool_serial }, false, logger);
        pool_serial
    }

    /// Accepts an event again (it already has this pool's serial): a rejected or undelivered
    /// event goes back at the head; a second subscription matching the same event appends it
    /// once more, as supervisor does.
    pub fn accept_again(&mut self, queued: Queued, head: bool, logger: &Logger) {
        logger.debug(&format!(
            "rebuffering event {} for pool {} (buf size={}, max={})",
            queued.serial,
            self.name,
            self.buffer.len(),
            self.buffer_size
        ));
        self.push(queued, head, logger);
    }

    fn push(&mut self, queued: Queued, head: bool, logger: &Logger) {
        if self.buffer.len() >= self.buffer_size
            && let Some(discarded) = self.buffer.pop_front()
        {
            logger.error(&format!(
                "pool {} event buffer overflowed, discarding event {}",
                self.name, discarded.serial
            ));
        }
        if head {
            self.buffer.push_front(queued);
        } else {
            self.buffer.push_back(queued);
        }
    }

    /// The oldest event, for dispatch.
    pub fn pop(&mut self) -> Option<Queued> {
        self.buffer.pop_front()
    }

    pub fn is_empty(&self) -> bool {
        self.buffer.is_empty()
    }

    pub fn len(&self) -> usize {
        self.buffer.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::datatypes::LogLevel;

    fn event(n: i64) -> Arc<Event> {
        Arc::new(Event::tick(crate::events::EventType::Tick5, n))
    }

    fn logged(dir: &tempfile::TempDir) -> (Logger, String) {
        let path = dir.path().join("m.log").to_str().unwrap().to_string();
        let logger = Logger::new(LogLevel::Debug);
        logger.add_file(&path, 0, 0).unwrap();
        (logger, path)
    }

    #[test]
    fn overflow_discards_the_oldest_and_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let (logger, path) = logged(&dir);
        let mut pool = EventPool::new("listener", 2);
        for serial in 0..3 {
            assert_eq!(pool.accept_new(event(serial), serial, &logger), serial);
        }
        assert_eq!(pool.len(), 2);
        assert_eq!(pool.pop().unwrap().serial, 1);
        let log = std::fs::read_to_string(path).unwrap();
        assert!(log.contains(" ERRO pool listener event buffer overflowed, discarding event 0\n"));
    }

    #[test]
    fn rejected_events_go_back_to_the_head_with_their_serials() {
        let dir = tempfile::tempdir().unwrap();
        let (logger, path) = logged(&dir);
        let mut pool = EventPool::new("p", 10);
        pool.accept_new(event(1), 7, &logger);
        pool.accept_new(event(2), 8, &logger);
        let first = pool.pop().unwrap();
        pool.accept_again(first.clone(), true, &logger);
        assert_eq!(pool.pop(), Some(first));
        let log = std::fs::read_to_string(path).unwrap();
        assert!(log.contains(" DEBG rebuffering event 7 for pool p (buf size=1, max=10)\n"));
    }

    #[test]
    fn serials_wrap_like_supervisors() {
        let mut counter = -1;
        assert_eq!(next_serial(&mut counter), 0);
        counter = i64::MAX;
        assert_eq!(next_serial(&mut counter), 0);
    }
}
