//! The actor: the one task that owns the [`Supervisor`] (the process table and the mood), and
//! the cloneable [`SupervisorHandle`] everyone else reaches it through.
//!
//! It replaces supervisor's poll loop: instead of waking every second it sleeps until the next
//! deadline of any process (or a request, a signal, a child exit), then does what one loop
//! iteration of `runforever` does, in the same order. Work that must wait for a state (RPC
//! `wait=True`) is a [`Waiter`], re-checked after every step; this replaces `NOT_DONE_YET`.

use crate::process::state::SupervisorState;
use crate::process::supervisor::{Supervisor, now};
use std::time::Duration;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::{mpsc, oneshot};

/// A pending check, true once it has delivered its answer.
pub type Waiter = Box<dyn FnMut(&mut Supervisor) -> bool + Send>;

/// Work run inside the actor; it may leave a [`Waiter`] behind.
pub type Job = Box<dyn FnOnce(&mut Supervisor) -> Option<Waiter> + Send>;

/// How many requests may queue before senders wait; requests are small and quick to run.
const QUEUE: usize = 1024;

/// The actor's address. Cheap to clone; when the actor has stopped, calls return `None`.
#[derive(Clone)]
pub struct SupervisorHandle {
    tx: mpsc::Sender<Job>,
}

impl SupervisorHandle {
    /// Runs `f` inside the actor and returns its result.
    pub async fn run<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Supervisor) -> R + Send + 'static,
    ) -> Option<R> {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move |sup| {
            let _ = tx.send(f(sup));
            None
        });
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
        let job: Job = Box::new(move |sup| f(sup, tx));
        self.tx.send(job).await.ok()?;
        rx.await.ok()
    }
}

/// The actor's state besides the table.
pub struct Actor {
    pub supervisor: Supervisor,
    rx: mpsc::Receiver<Job>,
    waiters: Vec<Waiter>,
}

impl Actor {
    pub fn new(supervisor: Supervisor) -> (Actor, SupervisorHandle) {
        let (tx, rx) = mpsc::channel(QUEUE);
        (Actor { supervisor, rx, waiters: Vec::new() }, SupervisorHandle { tx })
    }

    /// Runs until a shutdown or restart has stopped every process; returns the final mood
    /// (`Shutdown` or `Restarting`) so the daemon knows whether to start again.
    pub async fn run(mut self) -> std::io::Result<SupervisorState> {
        // Installed before anything is spawned, so no child exit can be missed.
        let mut sigchld = signal(SignalKind::child())?;
        let mut sigterm = signal(SignalKind::terminate())?;
        let mut sigint = signal(SignalKind::interrupt())?;
        let mut sigquit = signal(SignalKind::quit())?;
        let mut sighup = signal(SignalKind::hangup())?;
        let mut sigusr2 = signal(SignalKind::user_defined2())?;
        let mut requests_open = true;
        // Received signals waiting to be handled, without duplicates, one per iteration
        // (supervisor's SignalReceiver).
        let mut pending: Vec<i32> = Vec::new();
        loop {
            // The top of `runforever`: shutdown progress comes first.
            let sup = &mut self.supervisor;
            if sup.mood < SupervisorState::Running && !sup.shutdown_phase_1(now()) {
                return Ok(sup.mood);
            }
            let sleep = if pending.is_empty() { self.sleep_duration() } else { Duration::ZERO };
            let mut received = None;
            tokio::select! {
                job = self.rx.recv(), if requests_open => match job {
                    Some(job) => {
                        if let Some(mut waiter) = job(&mut self.supervisor)
                            && !waiter(&mut self.supervisor)
                        {
                            self.waiters.push(waiter);
                        }
                    }
                    None => requests_open = false,
                },
                _ = sigchld.recv() => received = Some(libc::SIGCHLD),
                _ = sigterm.recv() => received = Some(libc::SIGTERM),
                _ = sigint.recv() => received = Some(libc::SIGINT),
                _ = sigquit.recv() => received = Some(libc::SIGQUIT),
                _ = sighup.recv() => received = Some(libc::SIGHUP),
                _ = sigusr2.recv() => received = Some(libc::SIGUSR2),
                _ = tokio::time::sleep(sleep) => {}
            }
            if let Some(sig) = received
                && !pending.contains(&sig)
            {
                pending.push(sig);
            }
            // The rest of one loop iteration, in supervisor's order.
            let sup = &mut self.supervisor;
            sup.transition_all(now());
            sup.reap();
            if !pending.is_empty() {
                let sig = pending.remove(0);
                sup.handle_signal(sig);
            }
            self.poll_waiters();
            let sup = &mut self.supervisor;
            if sup.mood < SupervisorState::Running {
                sup.shutdown_phase_2();
            }
        }
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
        let busy = !self.waiters.is_empty() || sup.mood < SupervisorState::Running;
        let cap = if busy { 1.0 } else { 3600.0 };
        let until = sup.next_deadline().map_or(cap, |d| (d - now() + EPSILON).clamp(0.0, cap));
        Duration::from_secs_f64(until)
    }
}
