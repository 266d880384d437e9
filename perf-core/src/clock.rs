//! Time as perf-core sees it: the [`Clock`] trait, the real [`SystemClock`] and
//! the test [`ManualClock`].
//!
//! Every time-dependent behaviour (sliding windows, counter rates, timers and,
//! in later modules, rules, cooldowns and emergency transitions) reads the
//! monitor's clock, never the OS directly, so all of it can be driven
//! deterministically in tests.

use std::fmt;
use std::ops::{Add, Sub};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use parking_lot::Mutex;

/// A point in time: nanoseconds since the Unix epoch.
///
/// ```
/// use perf_core::Timestamp;
/// use std::time::Duration;
/// let t = Timestamp::from_secs(10) + Duration::from_millis(500);
/// assert_eq!(t.as_nanos(), 10_500_000_000);
/// assert_eq!(t - Timestamp::from_secs(10), Duration::from_millis(500));
/// ```
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(transparent)]
pub struct Timestamp(u64);

impl Timestamp {
    /// The Unix epoch itself.
    pub const ZERO: Timestamp = Timestamp(0);

    /// A timestamp `nanos` nanoseconds after the epoch.
    pub const fn from_nanos(nanos: u64) -> Self {
        Timestamp(nanos)
    }

    /// A timestamp `secs` seconds after the epoch.
    pub const fn from_secs(secs: u64) -> Self {
        Timestamp(secs.saturating_mul(1_000_000_000))
    }

    /// Nanoseconds since the epoch.
    pub const fn as_nanos(self) -> u64 {
        self.0
    }

    /// The time elapsed from `earlier` to `self`, zero if `earlier` is later.
    pub fn saturating_duration_since(self, earlier: Timestamp) -> Duration {
        Duration::from_nanos(self.0.saturating_sub(earlier.0))
    }
}

impl Add<Duration> for Timestamp {
    type Output = Timestamp;
    fn add(self, d: Duration) -> Timestamp {
        Timestamp(self.0.saturating_add(duration_nanos(d)))
    }
}

impl Sub for Timestamp {
    type Output = Duration;
    /// Saturates at zero, like [`Timestamp::saturating_duration_since`].
    fn sub(self, earlier: Timestamp) -> Duration {
        self.saturating_duration_since(earlier)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}.{:09}s",
            self.0 / 1_000_000_000,
            self.0 % 1_000_000_000
        )
    }
}

/// A `Duration` in whole nanoseconds, saturating at `u64::MAX` (584 years).
pub(crate) fn duration_nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// Told by a clock that drives time itself ([`ManualClock`]) just before time
/// moves, so that everything recorded so far is attributed to the old time.
pub(crate) trait TimeListener: Send + Sync {
    /// Time is about to move forward from `now`.
    fn before_advance(&self, now: Timestamp);
}

/// A source of time.
///
/// Implementations must be monotonic: `now()` never returns a value smaller
/// than one it returned before.
///
/// ```
/// use perf_core::{Clock, ManualClock, Timestamp};
/// let clock = ManualClock::new(Timestamp::from_secs(100));
/// assert_eq!(clock.now(), Timestamp::from_secs(100));
/// ```
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    /// The current time.
    fn now(&self) -> Timestamp;

    /// Whether this clock only moves when told to ([`ManualClock`]). Such a
    /// clock tells the monitor before it moves, so the monitor runs no
    /// background ticker of its own.
    fn is_manual(&self) -> bool {
        false
    }

    /// Registers a listener to be told before time moves. Only manual clocks
    /// keep it; the default drops it.
    #[doc(hidden)]
    #[allow(private_interfaces)]
    fn add_listener(&self, _listener: Weak<dyn TimeListener>) {}
}

/// The real clock: wall-clock time at creation, advanced by a monotonic
/// [`Instant`], so it never goes backwards when the system time is adjusted.
///
/// ```
/// use perf_core::{Clock, SystemClock};
/// let clock = SystemClock::new();
/// let a = clock.now();
/// assert!(clock.now() >= a);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct SystemClock {
    wall_at_start: Timestamp,
    start: Instant,
}

impl SystemClock {
    /// A clock anchored at the current system time.
    pub fn new() -> Self {
        let since_epoch = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        SystemClock {
            wall_at_start: Timestamp::ZERO + since_epoch,
            start: Instant::now(),
        }
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        self.wall_at_start + self.start.elapsed()
    }
}

/// A clock that moves only when told: the way to test windows, rates, timers
/// and everything time-dependent deterministically.
///
/// Clones share one time. Monitors built with a `ManualClock` are told before
/// each advance, so values recorded before `advance` belong to the old time
/// exactly.
///
/// ```
/// use perf_core::{Clock, ManualClock, Timestamp};
/// use std::time::Duration;
/// let clock = ManualClock::new(Timestamp::ZERO);
/// clock.advance(Duration::from_secs(5));
/// assert_eq!(clock.now(), Timestamp::from_secs(5));
/// ```
#[derive(Clone, Default)]
pub struct ManualClock {
    inner: Arc<ManualInner>,
}

#[derive(Default)]
struct ManualInner {
    nanos: AtomicU64,
    /// Also serializes advances, so listeners see time move in order.
    listeners: Mutex<Vec<Weak<dyn TimeListener>>>,
}

impl ManualClock {
    /// A clock standing at `start`.
    pub fn new(start: Timestamp) -> Self {
        let clock = ManualClock::default();
        clock.inner.nanos.store(start.as_nanos(), Ordering::Release);
        clock
    }

    /// Moves time forward by `d`.
    pub fn advance(&self, d: Duration) {
        let mut listeners = self.inner.listeners.lock();
        let now = self.now();
        listeners.retain(|l| match l.upgrade() {
            Some(listener) => {
                listener.before_advance(now);
                true
            }
            None => false,
        });
        self.inner
            .nanos
            .store((now + d).as_nanos(), Ordering::Release);
    }

    /// Moves time to `t`; a `t` in the past is ignored (clocks are monotonic).
    pub fn set(&self, t: Timestamp) {
        let now = self.now();
        if t > now {
            self.advance(t - now);
        }
    }
}

impl fmt::Debug for ManualClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ManualClock")
            .field("now", &self.now())
            .finish()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.inner.nanos.load(Ordering::Acquire))
    }

    fn is_manual(&self) -> bool {
        true
    }

    #[allow(private_interfaces)]
    fn add_listener(&self, listener: Weak<dyn TimeListener>) {
        self.inner.listeners.lock().push(listener);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    struct Recorder(Mutex<Vec<Timestamp>>, AtomicUsize);
    impl TimeListener for Recorder {
        fn before_advance(&self, now: Timestamp) {
            self.0.lock().push(now);
            self.1.fetch_add(1, Ordering::Relaxed);
        }
    }

    #[test]
    fn manual_clock_tells_listeners_the_old_time_before_moving() {
        let clock = ManualClock::new(Timestamp::from_secs(1));
        let rec = Arc::new(Recorder(Mutex::new(vec![]), AtomicUsize::new(0)));
        let weak: Weak<dyn TimeListener> = Arc::downgrade(&rec) as _;
        clock.add_listener(weak);
        clock.advance(Duration::from_secs(2));
        clock.set(Timestamp::from_secs(10));
        clock.set(Timestamp::from_secs(5)); // ignored: in the past
        assert_eq!(
            *rec.0.lock(),
            vec![Timestamp::from_secs(1), Timestamp::from_secs(3)]
        );
        assert_eq!(clock.now(), Timestamp::from_secs(10));
        drop(rec);
        clock.advance(Duration::from_secs(1)); // dead listener is dropped, no panic
        assert!(clock.inner.listeners.lock().is_empty());
    }

    #[test]
    fn system_clock_is_monotonic_and_near_wall_time() {
        let clock = SystemClock::new();
        let a = clock.now();
        let b = clock.now();
        assert!(b >= a);
        let wall = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
        let diff = (wall.as_nanos() as i128 - b.as_nanos() as i128).abs();
        assert!(diff < 1_000_000_000, "clock is {diff} ns off wall time");
    }

    #[test]
    fn timestamp_arithmetic_saturates() {
        let t = Timestamp::from_nanos(u64::MAX - 1) + Duration::from_secs(1);
        assert_eq!(t.as_nanos(), u64::MAX);
        assert_eq!(Timestamp::ZERO - Timestamp::from_secs(1), Duration::ZERO);
        assert_eq!(
            Timestamp::from_nanos(1_500_000_000).to_string(),
            "1.500000000s"
        );
    }
}
