//! Events inside the process table: `events.notify` over the pools' subscriptions, the ticks,
//! pool dispatch to READY listeners (`EventListenerPool.transition`/`dispatch`), rejected
//! events going back to their pool, and what capture tasks send (output events and listener
//! protocol bytes).

use crate::events::listener::Step;
use crate::events::pool::{EventRecord, Queued, next_serial};
use crate::events::{Event, EventType, envelope, timeslice};
use crate::process::io::{Captured, OutputEvent, OutputEventKind};
use crate::process::state::ProcessState;
use crate::process::supervisor::Supervisor;
use std::sync::Arc;

/// supervisor's module-level event state: the callbacks list (as (type, pool) pairs, in
/// subscription order), `GlobalSerial`, and the last tick slice of each period.
#[derive(Debug)]
pub struct EventBus {
    subscriptions: Vec<(EventType, String)>,
    serial: i64,
    ticks: [Option<i64>; 3],
    /// The last dispatch found a READY listener but could not write to it (EPIPE); retrying
    /// at once would spin, so the loop falls back to supervisor's one-second cadence.
    stalled: bool,
}

impl Default for EventBus {
    fn default() -> Self {
        EventBus { subscriptions: Vec::new(), serial: -1, ticks: [None; 3], stalled: false }
    }
}

impl EventBus {
    /// A pool's `_subscribe`, for its configured event names (unknown names were refused by
    /// the loader).
    pub fn subscribe(&mut self, pool: &str, names: &[String]) {
        for name in names {
            if let Some(kind) = EventType::from_name(name) {
                self.subscriptions.push((kind, pool.to_string()));
            }
        }
    }

    /// `_unsubscribe`, when the pool's group is removed.
    pub fn unsubscribe(&mut self, pool: &str) {
        self.subscriptions.retain(|(_, p)| p != pool);
    }

    fn next_serial(&mut self) -> i64 {
        next_serial(&mut self.serial)
    }

    /// Whether anyone receives events of `kind`.
    fn wanted(&self, kind: EventType) -> bool {
        self.subscriptions.iter().any(|(t, _)| kind.is_a(*t))
    }

    /// When the next tick anyone receives is due, so an idle daemon sleeps until then and no
    /// longer (and not at all on account of ticks when nobody listens for them).
    pub fn next_tick(&self) -> Option<f64> {
        EventType::TICKS
            .iter()
            .zip(self.ticks)
            .filter(|((kind, _), _)| self.wanted(*kind))
            .filter_map(|((_, period), last)| last.map(|l| (l + period) as f64))
            .min_by(f64::total_cmp)
    }
}

impl Supervisor {
    /// `events.notify`: every subscription the event is an instance of hands it to its pool.
    /// The daemon-wide serial is taken when the first pool accepts it, so events nobody
    /// receives use no serial.
    pub fn notify(&mut self, event: Event) {
        if self.events.subscriptions.is_empty() {
            return;
        }
        let mut record: Option<Arc<EventRecord>> = None;
        for i in 0..self.events.subscriptions.len() {
            let (kind, pool) = &self.events.subscriptions[i];
            if !event.kind.is_a(*kind) {
                continue;
            }
            let Some(g) = self.group_index(pool) else { continue };
            let record = record
                .get_or_insert_with(|| EventRecord::new(event.clone(), self.events.next_serial()));
            let logger = &self.logger;
            if let Some(pool) = self.groups[g].pool.as_mut() {
                pool.accept(record, false, logger);
            }
        }
    }

    /// An event a pool could not give to any listener goes back to the head of that pool.
    fn requeue(&mut self, g: usize, queued: &Queued) {
        let logger = &self.logger;
        if let Some(pool) = self.groups[g].pool.as_mut() {
            pool.accept(&queued.record, true, logger);
        }
    }

    /// `notify(EventRejectedEvent(process, event))` for the listener at `(g, p)`: every pool's
    /// `handle_rejected` puts the event back at its head when `process in self.processes`,
    /// and `Subprocess.__eq__` compares priorities only, so every pool (in creation order)
    /// with a process of the same priority takes it back, not just the listener's own.
    pub(crate) fn reject(&mut self, g: usize, p: usize, queued: Queued) {
        let priority = self.groups[g].processes[p].process.config.priority;
        let mut pools: Vec<usize> = (0..self.groups.len())
            .filter(|&i| {
                self.groups[i].pool.is_some()
                    && self.groups[i]
                        .processes
                        .iter()
                        .any(|s| s.process.config.priority == priority)
            })
            .collect();
        pools.sort_by_key(|&i| self.groups[i].added);
        for i in pools {
            self.requeue(i, &queued);
        }
    }

    /// `supervisord.tick`: a TICK event each time the wall clock enters a new slice of a
    /// period (the first call only records the current slices).
    pub fn tick(&mut self, now: f64) {
        for (i, (kind, period)) in EventType::TICKS.into_iter().enumerate() {
            let this = timeslice(period, now);
            match self.events.ticks[i] {
                Some(last) if last == this => {}
                Some(_) => {
                    self.events.ticks[i] = Some(this);
                    self.notify(Event::tick(kind, this));
                }
                None => self.events.ticks[i] = Some(this),
            }
        }
    }

    /// Whether some pool holds events and has a listener ready for one: the next loop
    /// iteration must come at once (an event notified after the pools' transitions, such as
    /// PROCESS_STATE_EXITED at reap, would otherwise wait for an unrelated wake-up).
    pub fn dispatch_due(&self) -> bool {
        !self.events.stalled && self.events_waiting()
    }

    /// Whether some pool holds events and has a listener ready for one.
    pub fn events_waiting(&self) -> bool {
        self.groups.iter().any(|group| {
            group.pool.as_ref().is_some_and(|pool| !pool.is_empty())
                && group.processes.iter().any(|s| {
                    s.process.state == ProcessState::Running
                        && s.listener.as_ref().is_some_and(|l| {
                            l.protocol.state == crate::events::listener::ListenerState::Ready
                        })
                })
        })
    }

    /// `EventListenerPool.transition`'s dispatch: when a listener is RUNNING and READY, hand
    /// it the oldest events until one cannot be given to anyone (that one goes back first).
    pub(crate) fn dispatch(&mut self, g: usize) {
        let capable = self.groups[g].processes.iter().any(|s| {
            s.process.state == ProcessState::Running
                && s.listener.as_ref().is_some_and(|l| {
                    l.protocol.state == crate::events::listener::ListenerState::Ready
                })
        });
        if !capable {
            return;
        }
        self.events.stalled = false;
        while let Some(queued) = self.groups[g].pool.as_mut().and_then(|p| p.pop()) {
            if !self.dispatch_event(g, &queued) {
                self.events.stalled = true;
                self.requeue(g, &queued);
                break;
            }
        }
    }

    /// `_dispatchEvent`: the first RUNNING, READY listener gets the envelope on its stdin and
    /// becomes BUSY with the event in hand.
    fn dispatch_event(&mut self, g: usize, queued: &Queued) -> bool {
        use crate::events::listener::ListenerState;
        let group = &mut self.groups[g];
        for slot in &mut group.processes {
            if slot.process.state != ProcessState::Running {
                continue;
            }
            let Some(listener) = slot.listener.as_mut() else { continue };
            if listener.protocol.state != ListenerState::Ready {
                continue;
            }
            let name = &slot.process.config.name;
            let data = envelope(
                &self.options.identifier,
                queued.serial(),
                &group.config.name,
                queued.pool_serial,
                queued.event(),
            );
            // `Subprocess.write` raises EPIPE for a process that is not running, is being
            // killed, or whose stdin is closed.
            let sent = slot.process.pid != 0
                && !slot.process.killing
                && slot.io.as_mut().is_some_and(|io| io.write_stdin(data).is_ok());
            if !sent {
                self.logger.debug(&format!(
                    "epipe occurred while sending event {} to listener {name}, listener state \
                     unchanged",
                    queued.serial()
                ));
                continue;
            }
            listener.protocol.sent_event();
            listener.event = Some(queued.clone());
            self.logger.debug(&format!("event {} sent to listener {name}", queued.serial()));
            return true;
        }
        false
    }

    /// Handles everything capture tasks have sent so far.
    pub fn take_captured(&mut self) {
        while let Ok(captured) = self.inbox.try_recv() {
            self.captured(captured);
        }
    }

    /// One message from a capture task.
    pub fn captured(&mut self, captured: Captured) {
        match captured {
            Captured::Event(OutputEvent { kind, channel, process, group, pid, data }) => {
                let stderr = channel == "stderr";
                let event = match kind {
                    OutputEventKind::Log => {
                        Event::process_log(stderr, &process, &group, pid, &data)
                    }
                    OutputEventKind::Communication => {
                        Event::process_communication(stderr, &process, &group, pid, &data)
                    }
                };
                self.notify(event);
            }
            Captured::Listener { pid, data } => self.listener_output(pid, &data),
        }
    }

    /// Protocol bytes from the listener running as `pid` (ignored once it is reaped).
    fn listener_output(&mut self, pid: i32, data: &[u8]) {
        let Some((g, p)) = self.slot_of_pid(pid) else { return };
        let slot = &mut self.groups[g].processes[p];
        let Some(listener) = slot.listener.as_mut() else { return };
        let steps = listener.protocol.feed(data, &slot.process.config.name);
        for step in steps {
            match step {
                Step::Log(level, message) => self.logger.log(level, &message),
                Step::ForgetEvent => {
                    if let Some(l) = self.groups[g].processes[p].listener.as_mut() {
                        l.event = None;
                    }
                }
                Step::Reject => {
                    let event =
                        self.groups[g].processes[p].listener.as_mut().and_then(|l| l.event.take());
                    if let Some(event) = event {
                        self.reject(g, p, event);
                    }
                }
            }
        }
    }
}
