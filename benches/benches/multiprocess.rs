//! Multi-process mode: the scrape of a group's merged view against a
//! one-process scrape of the same data, with and without 200 dead workers,
//! and recording into a handle with the mode on and off.
//!
//! Setup: 1,000 histogram series (10 metrics × 100 routes). Four workers
//! each record 100 lognormal latencies (median 20 ms, σ = 1) into every
//! series; the workers are monitors of one group in this process (each is
//! a member of its own, with its own file, exactly as separate processes
//! are), and three of them publish once. Members run on a manual clock, so
//! no publisher or ticker thread competes with the measurement. The scraping worker renders the
//! merged view: its own live state plus the three files.
//!
//! Group `multiprocess_scrape` (time for one `export_prometheus()`):
//!
//! * `one process` — a plain monitor holding all four workers' values.
//! * `merged, 4 live` — the group's merged view of the same values.
//! * `one process, every series changed` and `merged, 4 live, every series
//!   changed` — the same, recording one more value into each of the
//!   scraping worker's 1,000 series before every scrape: nothing is left
//!   as it was, so the merged view merges every series again (an unchanged
//!   series is not merged again: see `multiproc::merge`).
//! * `one process, with the dead workers' values` — a plain monitor holding
//!   the four workers' values and those of 200 more, 10 per series each.
//! * `merged, 4 live + 200 dead` — the group after those 200 workers
//!   recorded, published, exited and were compacted into the archive.
//!
//! Group `multiprocess_record` (one `Histogram::record` through a handle):
//! `off` and `on` (the handle of a group member whose publisher thread
//! publishes every second meanwhile).
//!
//! Run: `benches/run.sh multiprocess`, or
//! `cargo bench -p perf-core-benches --bench multiprocess -- --warm-up-time 1 --measurement-time 3`.

use std::hint::black_box;
use std::path::{Path, PathBuf};

use criterion::{criterion_group, criterion_main, Criterion};
use perf_core::{ManualClock, Monitor, Timestamp};
use perf_core_benches::lognormal_ms;

const METRICS: usize = 10;
const ROUTES: usize = 100;
const WORKERS: usize = 4;
const VALUES: usize = 100;
const DEAD_WORKERS: usize = 200;

/// Records `values` values into every series of `monitor`, from `seed`.
fn fill(monitor: &Monitor, values: usize, seed: u64) {
    for m in 0..METRICS {
        let name = format!("svc.op{m}.duration");
        for r in 0..ROUTES {
            let route = format!("/route/{r}");
            let h = monitor.histogram(&name, &[("route", &route)]).unwrap();
            let series_seed = seed * 1_000_003 + (m * ROUTES + r) as u64;
            for v in lognormal_ms(values, 20.0, 1.0, series_seed) {
                h.record(v).unwrap();
            }
        }
    }
}

/// Handles on every series of `monitor`, to record one more value into
/// each between scrapes (so every series changed).
fn handles(monitor: &Monitor) -> Vec<perf_core::Histogram> {
    (0..METRICS)
        .flat_map(|m| (0..ROUTES).map(move |r| (m, r)))
        .map(|(m, r)| {
            let name = format!("svc.op{m}.duration");
            let route = format!("/route/{r}");
            monitor.histogram(&name, &[("route", &route)]).unwrap()
        })
        .collect()
}

/// A member of the group in `dir`. On a manual clock, so no ticker or
/// publisher thread runs beside the measurement (members publish by hand,
/// and as they drop).
fn member(dir: &Path) -> Monitor {
    Monitor::builder()
        .clock(ManualClock::new(Timestamp::ZERO))
        .multiprocess_dir(dir)
        .max_series_per_metric(ROUTES)
        .build()
        .unwrap()
}

fn fresh_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("perf-core-bench-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// The scraping worker and the other live workers of a group.
fn group(dir: &Path) -> (Monitor, Vec<Monitor>) {
    let reader = member(dir);
    fill(&reader, VALUES, 0);
    let others: Vec<Monitor> = (1..WORKERS as u64)
        .map(|seed| {
            let worker = member(dir);
            fill(&worker, VALUES, seed);
            worker.publish().unwrap();
            worker
        })
        .collect();
    (reader, others)
}

fn bench_scrape(c: &mut Criterion) {
    let single = Monitor::builder()
        .max_series_per_metric(ROUTES)
        .build()
        .unwrap();
    for seed in 0..WORKERS as u64 {
        fill(&single, VALUES, seed);
    }
    // The same data as the group with dead workers, in one process.
    let single_with_dead = Monitor::builder()
        .max_series_per_metric(ROUTES)
        .build()
        .unwrap();
    for seed in 0..WORKERS as u64 {
        fill(&single_with_dead, VALUES, seed);
    }
    for seed in 0..DEAD_WORKERS as u64 {
        fill(&single_with_dead, 10, 100 + seed);
    }
    let live_dir = fresh_dir("live");
    let (live, _live_others) = group(&live_dir);
    let dead_dir = fresh_dir("dead");
    let (with_dead, _dead_others) = group(&dead_dir);
    for seed in 0..DEAD_WORKERS as u64 {
        let worker = member(&dead_dir);
        fill(&worker, 10, 100 + seed);
    } // each publishes as it drops, and is then dead
      // Compact the dead (retried, should the compaction lock be taken).
    let files = || std::fs::read_dir(&dead_dir).unwrap().count();
    for _ in 0..100 {
        with_dead.compact_multiprocess().unwrap();
        if files() < 20 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(
        files() < 20,
        "{} files: the dead were not compacted",
        files()
    );
    // Same text: the merged view is exact.
    assert_eq!(live.export_prometheus(), single.export_prometheus());
    assert_eq!(
        with_dead.export_prometheus(),
        single_with_dead.export_prometheus()
    );

    let mut group = c.benchmark_group("multiprocess_scrape");
    group.sample_size(20);
    group.bench_function("one process", |b| {
        b.iter(|| black_box(single.export_prometheus()))
    });
    group.bench_function("merged, 4 live", |b| {
        b.iter(|| black_box(live.export_prometheus()))
    });
    // The worst case: every series changed since the last scrape, so
    // every merge is made again (one more value in each, per scrape).
    for (label, monitor) in [
        ("one process, every series changed", &single),
        ("merged, 4 live, every series changed", &live),
    ] {
        let series = handles(monitor);
        group.bench_function(label, |b| {
            b.iter(|| {
                series.iter().for_each(|h| h.record(20.0).unwrap());
                black_box(monitor.export_prometheus())
            })
        });
    }
    group.bench_function("one process, with the dead workers' values", |b| {
        b.iter(|| black_box(single_with_dead.export_prometheus()))
    });
    group.bench_function("merged, 4 live + 200 dead", |b| {
        b.iter(|| black_box(with_dead.export_prometheus()))
    });
    group.finish();
    drop((live, with_dead));
    let _ = std::fs::remove_dir_all(&live_dir);
    let _ = std::fs::remove_dir_all(&dead_dir);
}

fn bench_record(c: &mut Criterion) {
    let values = lognormal_ms(1024, 20.0, 1.0, 7);
    let off = Monitor::builder().build().unwrap();
    let dir = fresh_dir("record");
    // A real clock: the publisher thread runs while the handle records.
    let on = Monitor::builder().multiprocess_dir(&dir).build().unwrap();
    let mut group = c.benchmark_group("multiprocess_record");
    for (label, monitor) in [("off", &off), ("on", &on)] {
        let h = monitor
            .histogram("latency", &[("route", "/users")])
            .unwrap();
        group.bench_function(label, |b| {
            let mut i = 0;
            b.iter(|| {
                i = (i + 1) & 1023;
                h.record(black_box(values[i])).unwrap()
            })
        });
    }
    group.finish();
    drop(on);
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, bench_scrape, bench_record);
criterion_main!(benches);
