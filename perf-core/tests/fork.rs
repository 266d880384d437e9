//! `fork()` with a monitor whose background threads (ticker, publisher,
//! evaluator) are running: the child's monitor works, nothing of the
//! parent's is counted twice, and nothing hangs or panics at exit.
#![cfg(unix)]

use std::path::PathBuf;
use std::time::Duration;

mod common;

use perf_core::Monitor;

/// Forks; the child runs `child` (its exit status is 0 if it returns true)
/// under a 20 s alarm and leaves with `exit` (running `atexit` handlers),
/// never returning into the test harness.
fn fork_child(child: impl FnOnce() -> bool) -> libc::pid_t {
    // SAFETY: the child runs Rust code after fork, which perf-core's fork
    // handlers make safe for its own locks; glibc's malloc is fork-safe. It
    // leaves with `_exit`, never unwinding into the harness.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        // SAFETY: `alarm` only arms a timer for this process.
        unsafe { libc::alarm(20) };
        let ok = std::panic::catch_unwind(std::panic::AssertUnwindSafe(child)).unwrap_or(false);
        // SAFETY: the child leaves here, never returning into the harness.
        unsafe { libc::exit(if ok { 0 } else { 1 }) };
    }
    pid
}

/// Waits for a child (killing it after 20 s: a hang fails, never blocks).
fn wait_ok(pid: libc::pid_t) {
    let mut status = 0;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    // SAFETY: waiting for, and if need be killing, our own child.
    while unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) } == 0 {
        if std::time::Instant::now() > deadline {
            // SAFETY: `pid` is our own child, not yet reaped.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            panic!("child {pid} hung");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "child {pid} failed: status {status:#x}"
    );
}

fn fresh_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("perf-core-fork-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn forked_workers_add_up_exactly_without_the_parents_values_twice() {
    let dir = fresh_dir("group");
    let monitor = Monitor::builder()
        .multiprocess_dir(&dir)
        .publish_interval(Duration::from_millis(2))
        .window_interval(Duration::from_millis(5))
        .build()
        .unwrap();
    monitor.start(Duration::from_millis(3)).unwrap();
    let latency = monitor.histogram("latency", &[]).unwrap();
    let requests = monitor.counter("requests", &[]).unwrap();
    for i in 0..100 {
        latency.record(f64::from(i)).unwrap();
        requests.increment(1);
    }
    std::thread::sleep(Duration::from_millis(20)); // every thread has run
    let children: Vec<_> = (0..4)
        .map(|i| {
            let (monitor, latency, requests) = (monitor.clone(), latency.clone(), requests.clone());
            fork_child(move || {
                if i % 2 == 0 {
                    monitor.after_fork(); // as the Python binding does
                }
                for v in 0..1000 {
                    latency.record(f64::from(v)).unwrap();
                    requests.increment(1);
                }
                // The evaluator runs again, and stops without waiting on
                // the parent's thread.
                let evaluating = monitor.is_evaluating();
                monitor.stop();
                // The final state is published at exit: the test's own
                // `monitor`, copied into this child, is never dropped.
                evaluating
            })
        })
        .collect();
    children.into_iter().for_each(wait_ok);
    assert_eq!(monitor.stats("latency", &[]).unwrap().count, 4_100);
    assert_eq!(monitor.local().stats("latency", &[]).unwrap().count, 100);
    let status = monitor.multiprocess().unwrap();
    assert_eq!(status.skipped_files, 0, "{status:?}");
    monitor.stop();
    drop((monitor, latency, requests));
    common::remove_group_dir(&dir);
}

#[test]
fn a_single_process_monitor_keeps_working_in_the_child() {
    let monitor = Monitor::builder()
        .window_interval(Duration::from_millis(5))
        .build()
        .unwrap();
    monitor.start(Duration::from_millis(2)).unwrap();
    monitor.record("q", &[], 1.0).unwrap();
    let child = fork_child({
        let monitor = monitor.clone();
        move || {
            monitor.record("q", &[], 2.0).unwrap();
            let evaluating = monitor.is_evaluating();
            std::thread::sleep(Duration::from_millis(20)); // the ticker runs again
            let window = monitor.window_stats("q", &[], Duration::from_millis(100));
            monitor.stop();
            // Without multi-process mode the child's monitor is a copy:
            // it continues from the parent's values.
            evaluating && window.is_ok_and(|w| w.count == 2)
        }
    });
    wait_ok(child);
    assert_eq!(monitor.stats("q", &[]).unwrap().count, 1);
    assert!(monitor.is_evaluating());
    monitor.stop();
}
