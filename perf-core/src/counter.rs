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

    /// Adds `n`, saturating at `u64::MAX`: an add that wraps the stripe
    /// puts it at `u64::MAX`, where every later add (which wraps too)
    /// puts it again, so a saturated stripe stays saturated.
    #[inline]
    pub(crate) fn increment(&self, n: u64) {
        let stripe = &self.stripes[thread_slot::current() % STRIPES];
        if stripe.fetch_add(n, Relaxed).checked_add(n).is_none() {
            saturate(stripe);
        }
    }

    /// Makes the total exactly `total`. Only for a merged view's series,
    /// which nothing increments: the caller keeps readers out meanwhile.
    pub(crate) fn replace_with(&self, total: u64) {
        for (i, stripe) in self.stripes.iter().enumerate() {
            stripe.store(if i == 0 { total } else { 0 }, Relaxed);
        }
    }

    /// The total, saturating at `u64::MAX`.
    pub(crate) fn value(&self) -> u64 {
        self.stripes
            .iter()
            .fold(0u64, |total, s| total.saturating_add(s.load(Relaxed)))
    }
}

/// Puts a stripe whose add wrapped at `u64::MAX`.
#[cold]
fn saturate(stripe: &AtomicU64) {
    stripe.store(u64::MAX, Relaxed);
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
    /// Adds `n`. The total saturates at `u64::MAX`: it never wraps.
    ///
    /// ```
    /// # let monitor = perf_core::Monitor::builder().build()?;
    /// let c = monitor.counter("bytes", &[])?;
    /// c.increment(u64::MAX);
    /// c.increment(5);
    /// assert_eq!(c.value(), u64::MAX);
    /// # Ok::<(), perf_core::PerfError>(())
    /// ```
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

    #[test]
    fn the_total_saturates_instead_of_wrapping() {
        let core = CounterCore::new();
        core.increment(u64::MAX);
        core.increment(2);
        assert_eq!(core.value(), u64::MAX);
        // Stripes saturate on their own, and their sum does too.
        let threads: Vec<_> = (0..4)
            .map(|_| {
                std::thread::spawn(|| {
                    let core = CounterCore::new();
                    core.increment(u64::MAX / 2);
                    core
                })
            })
            .collect();
        for t in threads {
            let other = t.join().unwrap();
            other.increment(u64::MAX / 2);
            other.increment(u64::MAX / 2);
            assert_eq!(other.value(), u64::MAX);
        }
    }
}
