//! Nothing recorded concurrently is lost: exact count, sum, min and max from
//! many threads (including more than the 64 exclusive thread slots), exact
//! counter totals, and snapshots that race with writers stay sane.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use perf_core::{Monitor, Precision, FOLDED_COUNTER, OVERFLOW_TAG};

fn monitor() -> Monitor {
    Monitor::builder().windows(false).build().unwrap()
}

/// The value thread `t` records as its `i`-th value: distinct integers
/// `0 .. threads * per_thread`, so the totals are known exactly.
fn value(t: usize, i: usize, per_thread: usize) -> f64 {
    (t * per_thread + i) as f64
}

/// Runs `work(t)` for `t in 0..threads` on as many threads, released together
/// by a barrier, and waits for all of them (a panic in one fails the test).
fn run_together(threads: usize, work: impl Fn(usize) + Sync) {
    let barrier = Barrier::new(threads);
    thread::scope(|scope| {
        for t in 0..threads {
            let (barrier, work) = (&barrier, &work);
            scope.spawn(move || {
                barrier.wait();
                work(t);
            });
        }
    });
}

/// Sum of `0 .. n`.
fn triangle(n: usize) -> f64 {
    (n as u64 * (n as u64 - 1) / 2) as f64
}

/// `threads` threads, all alive at once, each records `per_thread` values:
/// half through a clone of one handle, half one-shot by name.
fn record_from_threads(threads: usize, per_thread: usize) {
    let monitor = monitor();
    let tags = [("route", "/shared")];
    let handle = monitor.histogram("concurrent", &tags).unwrap();
    // Every thread records its first value before the barrier, so each holds
    // its thread slot while all the others do: with more than 64 threads,
    // some must use the shared, lock-guarded slot.
    let barrier = Arc::new(Barrier::new(threads));
    let workers: Vec<_> = (0..threads)
        .map(|t| {
            let h = handle.clone();
            let monitor = monitor.clone();
            let barrier = barrier.clone();
            thread::spawn(move || {
                h.record(value(t, 0, per_thread)).unwrap();
                barrier.wait();
                for i in 1..per_thread {
                    let v = value(t, i, per_thread);
                    if i % 2 == 0 {
                        h.record(v).unwrap();
                    } else {
                        monitor
                            .record("concurrent", &[("route", "/shared")], v)
                            .unwrap();
                    }
                }
                barrier.wait();
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let n = threads * per_thread;
    let stats = monitor.stats("concurrent", &tags).unwrap();
    assert_eq!(stats.count, n as u64, "values lost");
    assert_eq!(stats.sum, triangle(n), "sum is not exact");
    assert_eq!(stats.min, 0.0);
    assert_eq!(stats.max, (n - 1) as f64);
    assert_eq!(stats.rejected, 0);
    assert_eq!(handle.stats(), stats);
    // The merged percentiles still meet the bound: the values are 0..n.
    let sorted: Vec<f64> = (0..n).map(|v| v as f64).collect();
    common::check_percentiles(
        &sorted,
        &common::FIXED_QS,
        Precision::DEFAULT.relative_error(),
        |q| stats.percentile(q).unwrap(),
    )
    .unwrap_or_else(|e| panic!("{threads} threads: {e}"));
}

#[test]
fn eight_threads_record_exactly() {
    record_from_threads(8, 20_000);
}

#[test]
fn a_hundred_threads_record_exactly_through_the_shared_slot() {
    record_from_threads(100, 2_000);
}

#[test]
fn short_lived_threads_reuse_slots_without_losing_counts() {
    // 400 threads in waves of 50: exclusive slots are released and handed to
    // new threads, which must continue from their predecessors' counts.
    let monitor = monitor();
    let h = monitor.histogram("waves", &[]).unwrap();
    let per_thread = 100;
    let (waves, width) = (8, 50);
    for wave in 0..waves {
        let workers: Vec<_> = (0..width)
            .map(|i| {
                let h = h.clone();
                let t = wave * width + i;
                thread::spawn(move || {
                    for j in 0..per_thread {
                        h.record(value(t, j, per_thread)).unwrap();
                    }
                })
            })
            .collect();
        for w in workers {
            w.join().unwrap();
        }
        let done = (wave + 1) * width * per_thread;
        let stats = h.stats();
        assert_eq!(stats.count, done as u64, "after wave {wave}");
        assert_eq!(stats.sum, triangle(done), "after wave {wave}");
        assert_eq!(stats.max, (done - 1) as f64);
    }
}

#[test]
fn counters_incremented_concurrently_are_exact() {
    let monitor = monitor();
    let counter = monitor.counter("requests", &[("code", "200")]).unwrap();
    let threads = 100;
    let per_thread = 1_000u64;
    run_together(threads, |t| {
        let by_name = monitor.counter("requests", &[("code", "200")]).unwrap();
        for i in 0..per_thread {
            if i % 2 == 0 {
                counter.increment(t as u64 + 1);
            } else {
                by_name.increment(1);
            }
        }
    });
    let half = per_thread / 2;
    let expected: u64 = (1..=threads as u64).map(|k| k * half + half).sum();
    assert_eq!(counter.value(), expected);
    assert_eq!(
        monitor
            .counter("requests", &[("code", "200")])
            .unwrap()
            .value(),
        expected
    );
}

#[test]
fn gauges_adjusted_concurrently_are_exact() {
    let monitor = monitor();
    let gauge = monitor.gauge("in_flight", &[]).unwrap();
    let workers: Vec<_> = (0..16)
        .map(|_| {
            let g = gauge.clone();
            thread::spawn(move || {
                for _ in 0..1_000 {
                    g.add(3.0).unwrap();
                    g.add(-1.0).unwrap();
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    assert_eq!(gauge.value(), 32_000.0);
}

#[test]
fn snapshots_racing_with_writers_are_sane() {
    let monitor = monitor();
    let h = monitor.histogram("racing", &[]).unwrap();
    let (writers, per_thread) = (8, 20_000);
    // Values 1..=1000 (repeating), so every snapshot is within [1, 1000].
    let done = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..3)
        .map(|r| {
            let h = h.clone();
            let monitor = monitor.clone();
            let done = done.clone();
            thread::spawn(move || {
                let mut last_count = 0;
                let mut reads = 0u64;
                let bound = Precision::DEFAULT.relative_error();
                while !done.load(Ordering::Acquire) || reads < 10 {
                    let stats = if r == 0 {
                        h.stats()
                    } else {
                        monitor.stats("racing", &[]).unwrap()
                    };
                    assert!(stats.count >= last_count, "count went backwards");
                    assert!(stats.count <= (writers * per_thread) as u64);
                    let snap = stats.snapshot();
                    let in_buckets: u64 = snap.buckets().map(|b| b.2).sum();
                    assert_eq!(snap.zero_count() + in_buckets, stats.count);
                    last_count = stats.count;
                    if stats.count > 0 {
                        let ps = snap.percentiles(&[0.0, 50.0, 99.0, 100.0]).unwrap();
                        for p in ps.into_iter().chain([stats.p999, stats.min, stats.max]) {
                            // A racing snapshot may see a shard's first value in
                            // its bucket before its extremes (documented), so
                            // NaN or 0 from an unset extreme are tolerated.
                            assert!(
                                p.is_nan()
                                    || p == 0.0
                                    || (1.0 - bound..=1000.0 * (1.0 + bound)).contains(&p),
                                "racing percentile {p} outside the recorded range"
                            );
                        }
                    }
                    reads += 1;
                }
                last_count
            })
        })
        .collect();
    let workers: Vec<_> = (0..writers)
        .map(|_| {
            let h = h.clone();
            thread::spawn(move || {
                for i in 0..per_thread {
                    h.record((i % 1000 + 1) as f64).unwrap();
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    done.store(true, Ordering::Release);
    let total = (writers * per_thread) as u64;
    for r in readers {
        let last = r.join().expect("a racing reader panicked");
        assert!(last <= total);
    }
    let stats = h.stats();
    assert_eq!(stats.count, total);
    assert_eq!(stats.sum, (writers * per_thread / 1000 * 500_500) as f64);
    assert_eq!((stats.min, stats.max), (1.0, 1000.0));
}

#[test]
fn window_reads_racing_with_writers_and_the_ticker_lose_nothing() {
    // A real clock with 1 ms intervals: the ticker thread and readers tick
    // the series while writers record.
    let monitor = Monitor::builder()
        .window_interval(Duration::from_millis(1))
        .window_retention(Duration::from_secs(60))
        .build()
        .unwrap();
    let h = monitor.histogram("windowed", &[]).unwrap();
    let done = Arc::new(AtomicBool::new(false));
    let reader = {
        let monitor = monitor.clone();
        let done = done.clone();
        thread::spawn(move || {
            let mut reads = 0;
            while !done.load(Ordering::Acquire) || reads < 5 {
                let s = monitor
                    .window_stats("windowed", &[], Duration::from_secs(60))
                    .unwrap();
                assert!(s.count <= 4 * 10_000);
                reads += 1;
            }
        })
    };
    let workers: Vec<_> = (0..4)
        .map(|t| {
            let h = h.clone();
            thread::spawn(move || {
                for i in 0..10_000 {
                    h.record(value(t, i, 10_000)).unwrap();
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    done.store(true, Ordering::Release);
    reader.join().unwrap();
    let n = 40_000;
    let w = monitor
        .window_stats("windowed", &[], Duration::from_secs(60))
        .unwrap();
    assert_eq!(w.count, n as u64);
    assert_eq!(w.sum, triangle(n));
    assert_eq!(monitor.stats("windowed", &[]).unwrap().count, n as u64);
}

#[test]
fn concurrent_creation_of_the_same_series_yields_one_series() {
    let monitor = monitor();
    let threads = 16;
    run_together(threads, |t| {
        for k in 0..50 {
            let k = if t % 2 == 0 { k } else { 49 - k };
            let v = k.to_string();
            // Tag order differs between threads.
            let tags: [(&str, &str); 2] = if t % 3 == 0 {
                [("k", &v), ("z", "1")]
            } else {
                [("z", "1"), ("k", &v)]
            };
            monitor
                .histogram("created", &tags)
                .unwrap()
                .record(1.0)
                .unwrap();
        }
    });
    let series = monitor.series();
    assert_eq!(series.len(), 50);
    for k in 0..50 {
        let v = k.to_string();
        let s = monitor.stats("created", &[("k", &v), ("z", "1")]).unwrap();
        assert_eq!(s.count, threads as u64, "series k={k}");
    }
}

#[test]
fn concurrent_creation_past_the_series_cap_folds_exactly() {
    let monitor = Monitor::builder()
        .windows(false)
        .max_series_per_metric(10)
        .build()
        .unwrap();
    let threads = 100;
    let per_thread = 50;
    run_together(threads, |t| {
        let user = format!("u{t}");
        let h = monitor.histogram("per_user", &[("user", &user)]).unwrap();
        for _ in 0..per_thread {
            h.record(2.0).unwrap();
        }
    });
    let series = monitor.series();
    let own: Vec<_> = series
        .iter()
        .filter(|s| s.key.name() == "per_user" && s.key.tag(OVERFLOW_TAG).is_none())
        .collect();
    assert_eq!(own.len(), 10);
    let overflow = monitor
        .stats("per_user", &[(OVERFLOW_TAG, "true")])
        .unwrap();
    assert_eq!(overflow.count, (90 * per_thread) as u64);
    let folded = monitor
        .counter(FOLDED_COUNTER, &[("metric", "per_user")])
        .unwrap();
    assert_eq!(folded.value(), 90);
    let total: u64 = own
        .iter()
        .map(|s| {
            let tags: Vec<_> = s.key.tags().collect();
            monitor.stats("per_user", &tags).unwrap().count
        })
        .sum::<u64>()
        + overflow.count;
    assert_eq!(total, (threads * per_thread) as u64);
    assert_eq!(series.len(), 12); // 10 own + overflow + folded counter
}
