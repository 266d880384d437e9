//! Per-thread slots: the basis of the single-writer hot path.
//!
//! Each thread that records gets, on its first record, a small integer *slot*
//! in `0..EXCLUSIVE_SLOTS` that no other live thread holds. Per-thread storage
//! (a histogram's shards) is indexed by slot, so every exclusive shard has
//! exactly one writer at a time and can be updated with plain `load` + `store`
//! instead of atomic read-modify-write instructions.
//!
//! # Invariants
//!
//! * At most one live thread holds a given exclusive slot.
//! * A slot is released when its thread exits (a thread-local destructor) and
//!   handed out again under the same mutex, so everything the previous holder
//!   wrote *happens-before* everything the next holder does: the next writer
//!   continues from the exact counts its predecessor left.
//! * When all exclusive slots are taken, or the thread is already tearing down
//!   its thread-locals, the thread uses [`SHARED_SLOT`], whose storage callers
//!   must guard with a lock.

use std::cell::Cell;

use parking_lot::Mutex;

/// Number of slots that give a thread exclusive storage.
pub(crate) const EXCLUSIVE_SLOTS: usize = 64;
/// The slot of threads without an exclusive one; its storage needs a lock.
pub(crate) const SHARED_SLOT: usize = EXCLUSIVE_SLOTS;
/// Slot storage arrays have this many entries (exclusive slots + shared).
pub(crate) const SLOT_COUNT: usize = EXCLUSIVE_SLOTS + 1;

const UNASSIGNED: usize = usize::MAX;

thread_local! {
    /// This thread's slot; `UNASSIGNED` until its first use. A `const`
    /// initializer without `Drop` makes reading it a plain TLS load.
    static SLOT: Cell<usize> = const { Cell::new(UNASSIGNED) };
    /// Returns the slot to the pool when the thread exits.
    static RELEASER: SlotReleaser = const { SlotReleaser };
}

/// Free exclusive slots, plus the next never-used one.
struct SlotPool {
    free: Vec<usize>,
    next: usize,
}

static POOL: Mutex<SlotPool> = Mutex::new(SlotPool {
    free: Vec::new(),
    next: 0,
});

/// This thread's slot: `< EXCLUSIVE_SLOTS` for exclusive storage, or
/// [`SHARED_SLOT`].
#[inline(always)]
pub(crate) fn current() -> usize {
    let slot = SLOT.with(Cell::get);
    if slot != UNASSIGNED {
        slot
    } else {
        assign()
    }
}

#[cold]
fn assign() -> usize {
    let slot = {
        let mut pool = POOL.lock();
        match pool.free.pop() {
            Some(slot) => slot,
            None if pool.next < EXCLUSIVE_SLOTS => {
                pool.next += 1;
                pool.next - 1
            }
            None => SHARED_SLOT,
        }
    };
    // Touch the releaser so its destructor is registered. If thread-locals
    // are already being destroyed, give the slot back at once.
    let slot = if slot != SHARED_SLOT && RELEASER.try_with(|_| ()).is_err() {
        release(slot);
        SHARED_SLOT
    } else {
        slot
    };
    // `SLOT` has no destructor, so it is always accessible.
    SLOT.with(|cell| cell.set(slot));
    slot
}

fn release(slot: usize) {
    if slot < EXCLUSIVE_SLOTS {
        POOL.lock().free.push(slot);
    }
}

struct SlotReleaser;

impl Drop for SlotReleaser {
    fn drop(&mut self) {
        // Later records from other thread-local destructors use the shared slot.
        let slot = SLOT.with(|cell| cell.replace(SHARED_SLOT));
        if slot != UNASSIGNED {
            release(slot);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::sync::{Arc, Barrier};

    #[test]
    fn a_thread_keeps_its_slot() {
        assert_eq!(current(), current());
    }

    #[test]
    fn live_threads_never_share_an_exclusive_slot_and_slots_are_reused() {
        let n = 8;
        let barrier = Arc::new(Barrier::new(n));
        let slots: Vec<usize> = (0..n)
            .map(|_| {
                let barrier = barrier.clone();
                std::thread::spawn(move || {
                    let slot = current();
                    barrier.wait(); // all alive at once
                    slot
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|t| t.join().unwrap())
            .collect();
        let exclusive: Vec<_> = slots.iter().filter(|&&s| s < EXCLUSIVE_SLOTS).collect();
        let distinct: HashSet<_> = exclusive.iter().collect();
        assert_eq!(distinct.len(), exclusive.len(), "slots {slots:?}");
        // The threads have exited: their slots are free again.
        let again = std::thread::spawn(current).join().unwrap();
        assert!(again < EXCLUSIVE_SLOTS);
    }
}
