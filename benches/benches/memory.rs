//! Heap bytes per histogram series: perf-core against HdrHistogram.
//!
//! A plain `main` (harness = false) printing two markdown tables:
//!
//! 1. **Recording storage** per series for 1e5 values of three distributions,
//!    from `Histogram::memory_bytes()` (the `HistogramCore` plus every thread
//!    shard and its lazily allocated octave chunks), recorded by 1 thread and
//!    by 2 threads. HdrHistogram (3 significant digits) is sized two ways:
//!    * *fitted*: the tightest bounds for the data's own `[min, max]` in
//!      nanoseconds (`hdr_fitted`: lowest discernible value
//!      `2^floor(log2(min/1024))`, highest = max), the most favourable case;
//!    * *1 ns .. 1 h*: the usual fixed latency configuration (264 KiB).
//!
//!    Its bytes are the counts array, `distinct_values() × 8` (its only heap
//!    allocation), plus the struct. With 2 threads HdrHistogram users keep one
//!    histogram per thread, each sized for the whole range: twice the bytes.
//!    perf-core at 9 bits (0.098 % error) is shown too, the precision closest
//!    to HdrHistogram's 3 digits; the default is 7 bits (0.39 %).
//!
//! 2. **Total heap per series** as the process sees it: a counting global
//!    allocator measures the live heap growth of a monitor whose series
//!    receive values at a steady rate for the whole window retention
//!    (default 1 s intervals, 300 s), i.e. the registry entry, the recording
//!    storage and the sliding-window history together.
//!
//! Run: `cargo bench -p perf-core-benches --bench memory`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering::Relaxed};
use std::sync::Barrier;
use std::time::Duration;

use perf_core::{ManualClock, Monitor, Precision, Timestamp};
use perf_core_benches::{
    hdr_bytes, hdr_fitted, hdr_latency, log_uniform_ms, lognormal_ms, ms_to_ns, MEDIAN_MS,
};

/// The system allocator, counting live bytes.
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: forwards to `System` unchanged; only adds bookkeeping.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: our caller meets `GlobalAlloc::alloc`'s contract, which is
        // `System`'s too.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            LIVE.fetch_add(layout.size() as isize, Relaxed);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as in `alloc`.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            LIVE.fetch_add(layout.size() as isize, Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` with `layout` (every
        // allocation of this allocator is `System`'s).
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size() as isize, Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as in `dealloc`, and our caller meets `realloc`'s contract.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE.fetch_add(new_size as isize - layout.size() as isize, Relaxed);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const N: usize = 100_000;

fn kib(bytes: usize) -> String {
    format!("{:.1} KiB", bytes as f64 / 1024.0)
}

/// Octaves (powers of two) the values span.
fn octaves(values: &[f64]) -> i32 {
    let (min, max) = min_max(values);
    max.log2().floor() as i32 - min.log2().floor() as i32 + 1
}

fn min_max(values: &[f64]) -> (f64, f64) {
    values
        .iter()
        .fold((f64::INFINITY, 0f64), |(lo, hi), &v| (lo.min(v), hi.max(v)))
}

/// perf-core recording bytes for `values` recorded by `threads` threads.
fn perf_core_bytes(values: &[f64], bits: u8, threads: usize) -> usize {
    let monitor = Monitor::builder()
        .precision(Precision::new(bits).unwrap())
        .windows(false)
        .build()
        .unwrap();
    let h = monitor.histogram("latency", &[]).unwrap();
    // Threads stay alive until all have recorded: a thread that exited would
    // hand its slot (and so its shard) to the next one.
    let all_recorded = Barrier::new(threads);
    std::thread::scope(|s| {
        for part in values.chunks(values.len().div_ceil(threads)) {
            let (h, all_recorded) = (&h, &all_recorded);
            s.spawn(move || {
                part.iter().for_each(|&v| h.record(v).unwrap());
                all_recorded.wait();
            });
        }
    });
    assert_eq!(h.stats().count, values.len() as u64);
    h.memory_bytes()
}

/// HdrHistogram bytes, fitted to the data, per thread times `threads`.
fn hdr_fitted_bytes(values: &[f64], threads: usize) -> usize {
    let ns = ms_to_ns(values);
    let (min, max) = (*ns.iter().min().unwrap(), *ns.iter().max().unwrap());
    let mut total = 0;
    for part in ns.chunks(ns.len().div_ceil(threads)) {
        let mut h = hdr_fitted(min, max);
        part.iter().for_each(|&v| h.record(v).unwrap());
        total += hdr_bytes(&h);
    }
    total
}

fn storage_table() {
    let distributions: [(&str, Vec<f64>); 3] = [
        (
            "typical: lognormal, median 20 ms, σ = 1",
            lognormal_ms(N, MEDIAN_MS, 1.0, 1),
        ),
        (
            "narrow: lognormal, median 20 ms, σ = 0.3",
            lognormal_ms(N, MEDIAN_MS, 0.3, 2),
        ),
        (
            "wide: log-uniform 1e-3 .. 1e6 ms",
            log_uniform_ms(N, 1e-3, 1e6, 3),
        ),
    ];
    let fixed_hdr = hdr_bytes(&hdr_latency());

    println!("### Recording storage per histogram series (1e5 values, milliseconds)\n");
    println!(
        "| distribution | octaves | perf-core 7 bits, 1 thread | perf-core 7 bits, 2 threads \
         | perf-core 9 bits, 1 thread | HdrHistogram 3 digits fitted, 1 thread \
         | HdrHistogram fitted, 2 threads (one each) | HdrHistogram 1 ns .. 1 h |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for (label, values) in &distributions {
        println!(
            "| {label} | {} | {} | {} | {} | {} | {} | {} |",
            octaves(values),
            kib(perf_core_bytes(values, 7, 1)),
            kib(perf_core_bytes(values, 7, 2)),
            kib(perf_core_bytes(values, 9, 1)),
            kib(hdr_fitted_bytes(values, 1)),
            kib(hdr_fitted_bytes(values, 2)),
            kib(fixed_hdr),
        );
    }
    println!();
}

/// Live heap growth per series after `seconds` of `rate` values per second
/// into each of `series` series, with windows on or off.
fn total_heap_per_series(series: usize, rate: usize, seconds: usize, windows: bool) -> usize {
    let values = lognormal_ms(rate * seconds, MEDIAN_MS, 1.0, 11);
    let clock = ManualClock::new(Timestamp::from_secs(1_000_000));
    let monitor = Monitor::builder()
        .clock(clock.clone())
        .windows(windows)
        .build()
        .unwrap();
    let names: Vec<String> = (0..series).map(|i| format!("/route{i}")).collect();
    let before = LIVE.load(Relaxed);
    let handles: Vec<_> = names
        .iter()
        .map(|route| monitor.histogram("latency", &[("route", route)]).unwrap())
        .collect();
    for second in values.chunks(rate) {
        for h in &handles {
            second.iter().for_each(|&v| h.record(v).unwrap());
        }
        clock.advance(Duration::from_secs(1));
    }
    let grown = LIVE.load(Relaxed) - before;
    drop(handles);
    drop(monitor);
    grown.max(0) as usize / series
}

fn total_table() {
    const SERIES: usize = 10;
    const SECONDS: usize = 300;
    println!(
        "### Total heap per series: registry + recording + window history \
         ({SERIES} series, {SECONDS} s of recording, lognormal σ = 1)\n"
    );
    println!("| values per second per series | windows off | windows on (1 s × 300 s) |");
    println!("|---:|---:|---:|");
    for rate in [10, 100, 1000] {
        println!(
            "| {rate} | {} | {} |",
            kib(total_heap_per_series(SERIES, rate, SECONDS, false)),
            kib(total_heap_per_series(SERIES, rate, SECONDS, true)),
        );
    }
    println!();
}

fn main() {
    // `cargo bench` passes `--bench`; criterion-style filters are ignored.
    // `--test` (as in `cargo bench -- --test`) runs a smaller smoke check.
    if std::env::args().any(|a| a == "--test") {
        println!(
            "memory: {} bytes for one value",
            perf_core_bytes(&[1.0], 7, 1)
        );
        return;
    }
    storage_table();
    total_table();
}
