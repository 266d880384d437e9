#![cfg(feature = "remote-write")]
//! Remote write into a real Prometheus (Debian's `prometheus` 2.42,
//! installed by `scripts/test-all.sh`) on loopback, started with
//! `--web.enable-remote-write-receiver --enable-feature=native-histograms`:
//!
//! * a monitor pushes a counter, a gauge and a histogram every 200 ms; the
//!   query API returns them, the histogram as a native histogram and as
//!   classic buckets;
//! * Prometheus is stopped and started again (same data directory) while
//!   the monitor keeps recording: a gauge value set only while it was down
//!   reaches it once it is back, and nothing is dropped.
//!
//! Without `prometheus` on `PATH` the test prints a note and passes, unless
//! `PERF_CORE_REQUIRE_EXTERNAL=1`. Everything it starts is killed at the end.

mod common;

#[path = "common/prometheus.rs"]
mod prometheus;

use std::time::{Duration, Instant};

use perf_core::{ExpositionConfig, Monitor, RemoteWriteConfig};
use prometheus::{prometheus_available, Prometheus};

/// A gauge value set only while Prometheus is down.
const MARKER: f64 = 4242.0;

#[test]
fn prometheus_receives_pushed_series_across_a_restart() {
    if !prometheus_available() {
        return;
    }
    let started = Instant::now();
    let mut server = Prometheus::start(
        &[],
        &[
            "--web.enable-remote-write-receiver",
            "--enable-feature=native-histograms",
        ],
    );
    server.wait_ready();
    let config = RemoteWriteConfig {
        interval: Duration::from_millis(200),
        timeout: Duration::from_secs(2),
        max_backoff: Duration::from_millis(500),
        exposition: ExpositionConfig::new()
            .global_label("instance", "rw-test")
            .unwrap(),
        ..RemoteWriteConfig::new(format!("{}/api/v1/write", server.url))
    };
    let monitor = Monitor::builder().remote_write(config).build().unwrap();
    let jobs = monitor.counter("rw.jobs", &[]).unwrap();
    let depth = monitor.gauge("rw.depth", &[]).unwrap();
    let latency = monitor.histogram("rw.latency", &[]).unwrap();
    jobs.increment(5);
    depth.set(3.0).unwrap();
    for v in 1..=100 {
        latency.record(f64::from(v)).unwrap();
    }

    server.query_until("rw_jobs_total{instance=\"rw-test\"}", |v| v == 5.0);
    server.query_until("rw_depth", |v| v == 3.0);
    server.query_until("histogram_count(rw_latency)", |v| v == 100.0);
    server.query_until("histogram_sum(rw_latency)", |v| v == 5050.0);
    server.query_until("rw_latency_bucket{le=\"+Inf\"}", |v| v == 100.0);
    server.query_until("rw_latency_count", |v| v == 100.0);
    let p50 = server.query_until("histogram_quantile(0.5, rw_latency)", |v| v > 0.0);
    assert!((p50 - 50.0).abs() <= 50.0 * 0.01, "p50 {p50}");

    server.stop();
    depth.set(MARKER).unwrap();
    jobs.increment(1);
    std::thread::sleep(Duration::from_secs(1)); // several collections while down
    depth.set(1.0).unwrap();
    assert!(monitor.remote_write_status().unwrap().retries > 0);
    server.restart();
    server.wait_ready();
    assert!(monitor.flush_remote_write(Duration::from_secs(30)));

    server.query_until("max_over_time(rw_depth[10m])", |v| v == MARKER);
    server.query_until("rw_jobs_total", |v| v == 6.0);
    server.query_until("rw_depth", |v| v == 1.0);
    let status = monitor.remote_write_status().unwrap();
    assert_eq!(
        (status.samples_dropped, status.samples_failed),
        (0, 0),
        "{status:?}"
    );
    println!(
        "remote write through a Prometheus restart: {status:?}; {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
