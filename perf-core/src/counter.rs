//! [`Counter`]: a monotonic `u64` count, striped across cache lines so threads
//! incrementing together do not contend on one line.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

use crossbeam_utils::CachePadded;

use crate::thread_slot;

/// Number of stripes; a thread increments stripe `slot % STRIPES`.
const STRIPES: usize = 8;

/// The storage behind a counter series.
pub(crate) struct CounterCore {
    stripes: [CachePadded<AtomicU64>; STRIPES],
}

impl CounterCore {
    pub(crate) fn new() -> Self {
        CounterCore {
            stripes: std::array::from_fn(|_| CachePadded::new(AtomicU64::new(0))),
        }
    }

    #[inline]
    pub(crate) fn increment(&self, n: u64) {
        self.stripes[thread_slot::current() % STRIPES].fetch_add(n, Relaxed);
    }

    /// The total. Wraps only after 2^64 increments in all.
    pub(crate) fn value(&self) -> u64 {
        self.stripes
            .iter()
            .fold(0u64, |total, s| total.wrapping_add(s.load(Relaxed)))
    }
}

/// A handle to one counter series: monotonic, cheap to clone and share.
///
/// ```
/// use perf_core::Monitor;
/// let monitor = Monitor::builder().build()?;
/// let errors = monitor.counter("http.errors", &[("code", "503")])?;
/// errors.increment(1);
/// errors.increment(2);
/// assert_eq!(errors.value(), 3);
/// # Ok::<(), perf_core::PerfError>(())
/// ```
#[derive(Clone)]
pub struct Counter {
    pub(crate) core: Arc<CounterCore>,
}

impl Counter {
    /// Adds `n`.
    #[inline]
    pub fn increment(&self, n: u64) {
        self.core.increment(n);
    }

    /// The current total.
    pub fn value(&self) -> u64 {
        self.core.value()
    }
}

impl std::fmt::Debug for Counter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Counter")
            .field("value", &self.value())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concurrent_increments_are_all_counted() {
        let core = Arc::new(CounterCore::new());
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let core = core.clone();
                std::thread::spawn(move || (0..10_000).for_each(|_| core.increment(3)))
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        assert_eq!(core.value(), 120_000);
    }
}
