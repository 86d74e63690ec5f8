//! An `[eventlistener:x]` pool's event buffer (`EventListenerPool._acceptEvent`): serials,
//! the bounded buffer that drops its oldest event on overflow, and re-queuing at the head for
//! events a listener rejected or could not be given.

use crate::events::Event;
use crate::logs::mainlog::Logger;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

/// One notified event as the pools share it: supervisor sets `serial` and a `pool_serials`
/// dict on the event object itself, so a pool that accepts it again (a rejection, a second
/// matching subscription) finds the serial it gave it before.
#[derive(Debug)]
pub struct EventRecord {
    pub event: Event,
    /// Daemon-wide, given when the first pool accepted the event.
    pub serial: i64,
    pool_serials: Mutex<Vec<(String, i64)>>,
}

impl EventRecord {
    pub fn new(event: Event, serial: i64) -> Arc<EventRecord> {
        Arc::new(EventRecord { event, serial, pool_serials: Mutex::new(Vec::new()) })
    }

    fn pool_serial(&self, pool: &str) -> Option<i64> {
        let serials = self.pool_serials.lock().ok()?;
        serials.iter().find(|(p, _)| p == pool).map(|(_, s)| *s)
    }

    fn set_pool_serial(&self, pool: &str, serial: i64) {
        if let Ok(mut serials) = self.pool_serials.lock() {
            serials.push((pool.to_string(), serial));
        }
    }
}

/// An event waiting in (or taken from) a pool's buffer, with this pool's serial for it.
#[derive(Debug, Clone)]
pub struct Queued {
    pub record: Arc<EventRecord>,
    pub pool_serial: i64,
}

impl Queued {
    pub fn serial(&self) -> i64 {
        self.record.serial
    }

    pub fn event(&self) -> &Event {
        &self.record.event
    }
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

    /// `_acceptEvent`: an event this pool has not seen gets the next pool serial; one it has
    /// seen keeps its serial and is logged as a rebuffering. `head` puts it first (rejected
    /// or undelivered events).
    pub fn accept(&mut self, record: &Arc<EventRecord>, head: bool, logger: &Logger) {
        let pool_serial = match record.pool_serial(&self.name) {
            Some(pool_serial) => {
                logger.debug(&format!(
                    "rebuffering event {} for pool {} (buf size={}, max={})",
                    record.serial,
                    self.name,
                    self.buffer.len(),
                    self.buffer_size
                ));
                pool_serial
            }
            None => {
                let pool_serial = next_serial(&mut self.serial);
                record.set_pool_serial(&self.name, pool_serial);
                pool_serial
            }
        };
        self.push(Queued { record: Arc::clone(record), pool_serial }, head, logger);
    }

    fn push(&mut self, queued: Queued, head: bool, logger: &Logger) {
        if self.buffer.len() >= self.buffer_size
            && let Some(discarded) = self.buffer.pop_front()
        {
            logger.error(&format!(
                "pool {} event buffer overflowed, discarding event {}",
                self.name,
                discarded.serial()
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

    fn record(serial: i64) -> Arc<EventRecord> {
        EventRecord::new(Event::tick(crate::events::EventType::Tick5, serial), serial)
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
            pool.accept(&record(serial), false, &logger);
        }
        assert_eq!(pool.len(), 2);
        let first = pool.pop().unwrap();
        assert_eq!((first.serial(), first.pool_serial), (1, 1));
        let log = std::fs::read_to_string(path).unwrap();
        assert!(log.contains(" ERRO pool listener event buffer overflowed, discarding event 0\n"));
    }

    #[test]
    fn an_event_seen_before_keeps_its_pool_serial() {
        let dir = tempfile::tempdir().unwrap();
        let (logger, path) = logged(&dir);
        let mut pool = EventPool::new("p", 10);
        let (a, b) = (record(7), record(8));
        pool.accept(&a, false, &logger);
        pool.accept(&b, false, &logger);
        let first = pool.pop().unwrap();
        pool.accept(&first.record, true, &logger);
        let again = pool.pop().unwrap();
        assert_eq!((again.serial(), again.pool_serial), (7, 0));
        let mut other = EventPool::new("q", 10);
        other.accept(&b, true, &logger);
        assert_eq!(other.pop().unwrap().pool_serial, 0);
        let log = std::fs::read_to_string(path).unwrap();
        assert!(log.contains(" DEBG rebuffering event 7 for pool p (buf size=1, max=10)\n"));
        assert!(!log.contains("for pool q"));
    }

    #[test]
    fn serials_wrap_like_supervisors() {
        let mut counter = -1;
        assert_eq!(next_serial(&mut counter), 0);
        counter = i64::MAX;
        assert_eq!(next_serial(&mut counter), 0);
    }
}
