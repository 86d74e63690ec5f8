//! The actor: the one task that owns the [`Supervisor`] (the process table and the mood), and
//! the cloneable [`SupervisorHandle`] everyone else reaches it through.
//!
//! It replaces supervisor's poll loop: instead of waking every second it sleeps until the next
//! deadline of any process (or a request, a signal, a child exit), then does what one loop
//! iteration of `runforever` does, in the same order. Work that must wait for a state (RPC
//! `wait=True`) is a [`Waiter`], re-checked after every step; this replaces `NOT_DONE_YET`.
//!
//! A read job ([`SupervisorHandle::read`]) only borrows the table, so it cannot change anything
//! a loop iteration would act on: it is answered without one. Only the deadline matters then,
//! and it is cached from the last full iteration (nothing else moves it).

use crate::events::Event;
use crate::process::state::SupervisorState;
use crate::process::supervisor::{Supervisor, now};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::{mpsc, oneshot};

/// The signals supervisord acts on, as (kind, number).
const SIGNALS: [(fn() -> SignalKind, i32); 6] = [
    (SignalKind::child, libc::SIGCHLD),
    (SignalKind::terminate, libc::SIGTERM),
    (SignalKind::interrupt, libc::SIGINT),
    (SignalKind::quit, libc::SIGQUIT),
    (SignalKind::hangup, libc::SIGHUP),
    (SignalKind::user_defined2, libc::SIGUSR2),
];

/// Installs the handlers now and forwards each delivery as its number: the actor then waits
/// on one channel instead of six signal streams in every turn of its loop.
fn forward_signals() -> std::io::Result<mpsc::UnboundedReceiver<i32>> {
    let (tx, rx) = mpsc::unbounded_channel();
    for (kind, number) in SIGNALS {
        let mut stream = signal(kind())?;
        let tx = tx.clone();
        tokio::spawn(async move {
            while stream.recv().await.is_some() {
                if tx.send(number).is_err() {
                    break;
                }
            }
        });
    }
    Ok(rx)
}

/// A pending check, true once it has delivered its answer.
pub type Waiter = Box<dyn FnMut(&mut Supervisor) -> bool + Send>;

/// Work that only looks at the table.
pub type ReadJob = Box<dyn FnOnce(&Supervisor) + Send>;

/// Work that may change the table; it may leave a [`Waiter`] behind.
pub type WriteJob = Box<dyn FnOnce(&mut Supervisor) -> Option<Waiter> + Send>;

/// Work run inside the actor.
pub enum Job {
    /// No loop iteration follows it.
    Read(ReadJob),
    Write(WriteJob),
}

/// How many requests may queue before senders wait; requests are small and quick to run.
const QUEUE: usize = 1024;

/// The actor's address. Cheap to clone; when the actor has stopped, calls return `None`.
#[derive(Clone)]
pub struct SupervisorHandle {
    tx: mpsc::Sender<Job>,
    mood: Arc<AtomicI64>,
}

impl SupervisorHandle {
    /// The mood as of the actor's last turn, without a round trip: the actor publishes it
    /// before it next yields, and the daemon's runtime has one thread, so no request can see
    /// an older mood than a reply it already received implies.
    pub fn mood(&self) -> SupervisorState {
        SupervisorState::from_code(self.mood.load(Ordering::Acquire))
            .unwrap_or(SupervisorState::Shutdown)
    }

    /// Runs `f` inside the actor and returns its result.
    pub async fn run<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Supervisor) -> R + Send + 'static,
    ) -> Option<R> {
        let (tx, rx) = oneshot::channel();
        let job = Job::Write(Box::new(move |sup| {
            let _ = tx.send(f(sup));
            None
        }));
        self.tx.send(job).await.ok()?;
        rx.await.ok()
    }

    /// Runs `f` inside the actor with a shared borrow of the table and returns its result.
    pub async fn read<R: Send + 'static>(
        &self,
        f: impl FnOnce(&Supervisor) -> R + Send + 'static,
    ) -> Option<R> {
        let (tx, rx) = oneshot::channel();
        let job = Job::Read(Box::new(move |sup| {
            let _ = tx.send(f(sup));
        }));
        self.tx.send(job).await.ok()?;
        rx.await.ok()
    }

    /// Runs `f` inside the actor; if it returns a [`Waiter`], the actor keeps checking it until
    /// it delivers. `f` gets the sender its answer must go to.
    pub async fn run_waiting<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Supervisor, oneshot::Sender<R>) -> Option<Waiter> + Send + 'static,
    ) -> Option<R> {
        let (tx, rx) = oneshot::channel();
        let job = Job::Write(Box::new(move |sup| f(sup, tx)));
        self.tx.send(job).await.ok()?;
        rx.await.ok()
    }
}

/// The actor's state besides the table.
pub struct Actor {
    pub supervisor: Supervisor,
    rx: mpsc::Receiver<Job>,
    waiters: Vec<Waiter>,
    /// `next_deadline()` as of the last full iteration.
    deadline: Option<f64>,
    /// The mood, published for [`SupervisorHandle::mood`].
    mood: Arc<AtomicI64>,
}

impl Actor {
    pub fn new(supervisor: Supervisor) -> (Actor, SupervisorHandle) {
        let (tx, rx) = mpsc::channel(QUEUE);
        let deadline = supervisor.next_deadline();
        let mood = Arc::new(AtomicI64::new(supervisor.mood.code()));
        let handle = SupervisorHandle { tx, mood: Arc::clone(&mood) };
        (Actor { supervisor, rx, waiters: Vec::new(), deadline, mood }, handle)
    }

    /// Runs until a shutdown or restart has stopped every process; returns the final mood
    /// (`Shutdown` or `Restarting`) so the daemon knows whether to start again.
    pub async fn run(mut self) -> std::io::Result<SupervisorState> {
        // Installed before anything is spawned, so no child exit can be missed.
        let mut signals = forward_signals()?;
        let mut requests_open = true;
        // Received signals waiting to be handled, without duplicates, one per iteration
        // (supervisor's SignalReceiver).
        let mut pending: Vec<i32> = Vec::new();
        self.deadline = self.supervisor.next_deadline();
        // One timer, moved only when the wake-up time changes (after full iterations), rather
        // than a new one per request.
        // `runforever` starts by telling listeners the daemon is running.
        self.supervisor.notify(Event::supervisor_state(true));
        let sleep = tokio::time::sleep(self.sleep_duration());
        tokio::pin!(sleep);
        loop {
            // The top of `runforever`: shutdown progress comes first.
            let sup = &mut self.supervisor;
            if sup.mood < SupervisorState::Running {
                sup.generation += 1;
                if !sup.shutdown_phase_1(now()) {
                    self.mood.store(sup.mood.code(), Ordering::Release);
                    return Ok(sup.mood);
                }
            }
            tokio::select! {
                job = self.rx.recv(), if requests_open => match job {
                    Some(job) => {
                        // During a shutdown every turn is a full one, as before reads existed:
                        // phase 1 above may have moved deadlines the cache does not know.
                        let quiet = pending.is_empty()
                            && !self.deadline_passed()
                            && self.supervisor.mood >= SupervisorState::Running;
                        if !self.run_jobs(job) && quiet {
                            continue;
                        }
                    }
                    None => requests_open = false,
                },
                Some(sig) = signals.recv() => {
                    if !pending.contains(&sig) {
                        pending.push(sig);
                    }
                }
                Some(captured) = self.supervisor.inbox.recv() => {
                    self.supervisor.captured(captured);
                    self.supervisor.take_captured();
                }
                () = &mut sleep => {}
            }
            // The rest of one loop iteration, in supervisor's order.
            let sup = &mut self.supervisor;
            sup.generation += 1;
            sup.take_captured();
            sup.transition_all(now());
            sup.reap();
            if !pending.is_empty() {
                let sig = pending.remove(0);
                sup.handle_signal(sig);
            }
            sup.tick(now());
            self.poll_waiters();
            let sup = &mut self.supervisor;
            if sup.mood < SupervisorState::Running {
                sup.shutdown_phase_2();
            }
            self.deadline = self.supervisor.next_deadline();
            self.mood.store(self.supervisor.mood.code(), Ordering::Release);
            let wait = if pending.is_empty() && !self.supervisor.dispatch_due() {
                self.sleep_duration()
            } else {
                Duration::ZERO
            };
            sleep.as_mut().reset(tokio::time::Instant::now() + wait);
        }
    }

    /// Runs `first` and whatever else is already queued, up to and including the first write
    /// job; returns whether a write job ran (so a loop iteration must follow).
    fn run_jobs(&mut self, first: Job) -> bool {
        let mut job = first;
        loop {
            match job {
                Job::Read(f) => f(&self.supervisor),
                Job::Write(f) => {
                    self.supervisor.generation += 1;
                    if let Some(mut waiter) = f(&mut self.supervisor)
                        && !waiter(&mut self.supervisor)
                    {
                        self.waiters.push(waiter);
                    }
                    return true;
                }
            }
            match self.rx.try_recv() {
                Ok(next) => job = next,
                Err(_) => return false,
            }
        }
    }

    fn deadline_passed(&self) -> bool {
        self.deadline.is_some_and(|d| now() >= d)
    }

    fn poll_waiters(&mut self) {
        let sup = &mut self.supervisor;
        self.waiters.retain_mut(|waiter| !waiter(sup));
    }

    /// Until the next process deadline (a little after it, since supervisor's comparisons are
    /// strict); at most a second while something waits or a shutdown is in progress, matching
    /// the cadence of supervisor's loop for `waiting for ...` reports.
    fn sleep_duration(&self) -> Duration {
        const EPSILON: f64 = 0.001;
        let sup = &self.supervisor;
        let busy =
            !self.waiters.is_empty() || sup.mood < SupervisorState::Running || sup.events_waiting();
        let cap = if busy { 1.0 } else { 3600.0 };
        let until = self.deadline.map_or(cap, |d| (d - now() + EPSILON).clamp(0.0, cap));
        Duration::from_secs_f64(until)
    }
}
