//! The process lifecycle events a monitor must act on: `fork()` and
//! `exit()`.
//!
//! **Fork safety.** `fork()` copies only the thread that calls it, so a lock
//! that one of perf-core's background threads (ticker, publisher,
//! evaluator) held at that moment would stay locked forever in the child.
//! Background threads therefore do each unit of work inside
//! [`background_step`], which holds a process-wide lock shared; a
//! `pthread_atfork` prepare handler takes it exclusively, so a fork waits
//! (up to [`QUIESCE_TIMEOUT`]) for running steps to finish and starts no
//! new ones until it is done. The parent and the child release it after
//! the fork.
//!
//! In the child, the handler then tells every registered [`ProcessHooks`]
//! target (monitors in multi-process mode) that it is in a new process, so
//! it can note what it inherited before any code of the child runs. The
//! rest — a new identity in the process group, background threads started
//! again — happens on the monitor's next use ([`crate::Monitor::after_fork`]).
//!
//! **Exit.** A monitor held by a static, a global or a `main` that calls
//! `exit` is never dropped, so an `atexit` handler gives every registered
//! target a last word ([`ProcessHooks::at_exit`]: publish the final state).
//! `_exit`, `kill -9` and aborts skip it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use parking_lot::Mutex;

/// How long a fork waits for running background steps before going ahead
/// without them (a step that calls a blocking alert subscriber, say).
pub(crate) const QUIESCE_TIMEOUT: Duration = Duration::from_secs(1);

/// The quiescing lock: the number of running background steps, plus
/// [`FORKING`] while a fork is under way. A hand-rolled lock rather than a
/// `parking_lot` one because the child must reset it without waking
/// anyone: a parked waiter of the parent does not exist in the child, and
/// waking it would take a lock of `parking_lot`'s global table that a
/// parent thread may have held at the fork. Waiters here sleep instead,
/// which only happens while a fork is under way.
///
/// Invariants: steps increment the count only while `FORKING` is clear; a
/// fork sets `FORKING` and then waits for the count to reach zero, so when
/// it proceeds no step is running (or it gave up after the timeout and
/// cleared `FORKING` again).
static QUIESCE: AtomicU64 = AtomicU64::new(0);
const FORKING: u64 = 1 << 63;
/// How often a waiting step or fork looks again.
const POLL: Duration = Duration::from_micros(200);

/// Runs one unit of a background thread's work so that no fork happens
/// in the middle of it.
pub(crate) fn background_step<R>(work: impl FnOnce() -> R) -> R {
    struct Running;
    impl Drop for Running {
        fn drop(&mut self) {
            QUIESCE.fetch_sub(1, Ordering::Release);
        }
    }
    loop {
        let state = QUIESCE.load(Ordering::Relaxed);
        if state & FORKING == 0
            && QUIESCE
                .compare_exchange_weak(state, state + 1, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
        {
            break;
        }
        if state & FORKING != 0 {
            std::thread::sleep(POLL);
        }
    }
    let _running = Running;
    work()
}

/// Something that must act on `fork()` and `exit()`.
pub(crate) trait ProcessHooks: Send + Sync {
    /// Called in the child, before any other code runs there, while every
    /// background step is quiesced. Must not take a lock that a thread of
    /// the parent (other than in a background step) could have held.
    fn in_child(&self);

    /// Called when the process exits normally (`exit`, the end of `main`).
    fn at_exit(&self);

    /// Called in a child by [`adopt_all`]: take over what was inherited
    /// (start threads, join groups). Ordinary code, not a fork handler.
    fn adopt(self: Arc<Self>);
}

/// Adopts every registered target in a child just forked (see
/// [`crate::after_fork`]).
pub(crate) fn adopt_all() {
    let targets = background_step(live_targets);
    targets.into_iter().for_each(ProcessHooks::adopt);
}

/// The registered targets. Locked only inside background steps (and by the
/// child handler), so never held by another thread across a fork.
static TARGETS: Mutex<Vec<Weak<dyn ProcessHooks>>> = Mutex::new(Vec::new());

/// Registers `target` for [`ProcessHooks::in_child`] while it lives.
pub(crate) fn register(target: Weak<dyn ProcessHooks>) {
    background_step(|| {
        let mut targets = TARGETS.lock();
        targets.retain(|t| t.strong_count() > 0);
        targets.push(target);
    });
}

/// Installs the fork and exit handlers, once per process.
pub(crate) fn install_handlers() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        // SAFETY: the handlers are `extern "C"` functions that never unwind.
        unsafe {
            #[cfg(unix)]
            libc::pthread_atfork(Some(prepare), Some(parent), Some(child));
            libc::atexit(exiting);
        }
    });
}

/// The live registered targets (taken inside a background step).
fn live_targets() -> Vec<Arc<dyn ProcessHooks>> {
    TARGETS.lock().iter().filter_map(Weak::upgrade).collect()
}

extern "C" fn exiting() {
    // No unwinding out of a C callback.
    let _ = std::panic::catch_unwind(|| {
        let targets = background_step(live_targets);
        targets.iter().for_each(|t| t.at_exit());
    });
}

/// Before a fork: stops new steps and waits for running ones.
#[cfg(unix)]
extern "C" fn prepare() {
    let deadline = Instant::now() + QUIESCE_TIMEOUT;
    if QUIESCE.fetch_or(FORKING, Ordering::Acquire) & FORKING != 0 {
        return; // another thread is forking: its handlers clear the flag
    }
    while QUIESCE.load(Ordering::Acquire) & !FORKING != 0 {
        if Instant::now() >= deadline {
            break; // go ahead; the running steps finish in the parent
        }
        std::thread::sleep(POLL);
    }
}

/// After a fork, in the parent: steps may run again.
#[cfg(unix)]
extern "C" fn parent() {
    QUIESCE.fetch_and(!FORKING, Ordering::Release);
}

/// After a fork, in the child: no step runs in this one-thread process
/// (any counted ones were the parent's threads), so the lock starts over;
/// then the targets note what they inherited.
#[cfg(unix)]
extern "C" fn child() {
    QUIESCE.store(0, Ordering::Release);
    // No unwinding out of a C callback: a panic here only means a target
    // notes nothing (its next use falls back, see `Group::rejoin`).
    let _ = std::panic::catch_unwind(|| {
        live_targets().iter().for_each(|t| t.in_child());
    });
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::sync::mpsc;

    #[test]
    fn a_fork_waits_for_a_running_step_and_the_child_can_step_again() {
        install_handlers();
        let (started, running) = mpsc::channel();
        let worker = std::thread::spawn(move || {
            background_step(|| {
                started.send(()).unwrap();
                std::thread::sleep(Duration::from_millis(200));
            })
        });
        running.recv().unwrap();
        let before = std::time::Instant::now();
        // SAFETY: the child only loads an atomic and `_exit`s.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            let ok = QUIESCE.load(Ordering::Relaxed) == 0;
            // SAFETY: `_exit` ends the forked child without running the
            // parent's exit handlers or unwinding into the harness.
            unsafe { libc::_exit(if ok { 0 } else { 1 }) };
        }
        let waited = before.elapsed();
        let mut status = 0;
        // SAFETY: waiting for the child just forked.
        unsafe { libc::waitpid(pid, &mut status, 0) };
        worker.join().unwrap();
        assert!(
            waited >= Duration::from_millis(100),
            "the fork did not wait: {waited:?}"
        );
        assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0);
        background_step(|| ()); // the parent's lock was released too
    }
}
