//! Reading the emergency flag on the hot path (spec target: `is_active()`
//! ≤ 1 ns).
//!
//! Group `emergency`:
//!
//! * `perf-core is_active()` — through a cloned `Emergency` handle, as a
//!   request handler keeps it: one `Acquire` load behind one pointer.
//! * `perf-core monitor.emergency().is_active()` — through the monitor: one
//!   more pointer hop.
//! * `perf-core is_active(), multi-process mode` — a member of a process
//!   group: the load of the group's word in a shared memory page.
//! * `AtomicBool load (Acquire)` — the floor: a bare atomic load.
//! * `std RwLock<bool> read` — what a flag behind a lock would cost
//!   (parking_lot is not a dependency of this crate, so std's lock).
//! * `is_active() while another thread toggles the mode` — the same read
//!   while a background thread calls `activate` / `deactivate` in a loop:
//!   every transition writes the flag's cache line, so reads miss. The
//!   toggling thread starts with this function and stops (joined) at its
//!   end; the number of transitions it made is printed to stderr.
//!
//! Run: `benches/run.sh emergency`, or
//! `cargo bench -p perf-core-benches --bench emergency -- --warm-up-time 1 --measurement-time 3`.

use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::thread::{self, JoinHandle};

use criterion::{criterion_group, criterion_main, Criterion};
use perf_core::{Emergency, Monitor};

/// A thread switching the mode on and off until dropped.
struct Toggler {
    stop: Arc<AtomicBool>,
    transitions: Arc<AtomicU64>,
    thread: Option<JoinHandle<()>>,
}

impl Toggler {
    fn start(emergency: Emergency) -> Toggler {
        let stop = Arc::new(AtomicBool::new(false));
        let transitions = Arc::new(AtomicU64::new(0));
        let thread = thread::Builder::new()
            .name("emergency-toggler".into())
            .spawn({
                let (stop, transitions) = (stop.clone(), transitions.clone());
                move || {
                    while !stop.load(Ordering::Relaxed) {
                        emergency.activate("bench: on").expect("non-blank reason");
                        emergency
                            .deactivate("bench: off")
                            .expect("non-blank reason");
                        transitions.fetch_add(2, Ordering::Relaxed);
                    }
                }
            })
            .expect("spawn the toggling thread");
        Toggler {
            stop,
            transitions,
            thread: Some(thread),
        }
    }
}

impl Drop for Toggler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            thread.join().expect("the toggling thread ended cleanly");
        }
        eprintln!(
            "emergency: the toggling thread made {} transitions",
            self.transitions.load(Ordering::Relaxed)
        );
    }
}

fn emergency(c: &mut Criterion) {
    let monitor = Monitor::builder().build().expect("default monitor");
    let handle = monitor.emergency().clone();
    let flag = AtomicBool::new(false);
    let lock = RwLock::new(false);

    let mut group = c.benchmark_group("emergency");
    group.bench_function("perf-core is_active()", |b| {
        b.iter(|| black_box(black_box(&handle).is_active()))
    });
    group.bench_function("perf-core monitor.emergency().is_active()", |b| {
        b.iter(|| black_box(black_box(&monitor).emergency().is_active()))
    });
    // Multi-process mode: the word in the group's shared memory page.
    let dir =
        std::env::temp_dir().join(format!("perf-core-bench-emergency-{}", std::process::id()));
    let member = Monitor::builder()
        .multiprocess_dir(&dir)
        .build()
        .expect("group member");
    let group_handle = member.emergency().clone();
    group.bench_function("perf-core is_active(), multi-process mode", |b| {
        b.iter(|| black_box(black_box(&group_handle).is_active()))
    });
    group.bench_function("AtomicBool load (Acquire)", |b| {
        b.iter(|| black_box(black_box(&flag).load(Ordering::Acquire)))
    });
    group.bench_function("std RwLock<bool> read", |b| {
        b.iter(|| black_box(*black_box(&lock).read().expect("not poisoned")))
    });
    // Started on the first call (so a filter that skips this function
    // starts no thread), stopped when `toggler` drops below.
    let mut toggler: Option<Toggler> = None;
    group.bench_function("is_active() while another thread toggles the mode", |b| {
        toggler.get_or_insert_with(|| Toggler::start(handle.clone()));
        b.iter(|| black_box(black_box(&handle).is_active()))
    });
    drop(toggler);
    group.finish();
    drop(member);
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, emergency);
criterion_main!(benches);
