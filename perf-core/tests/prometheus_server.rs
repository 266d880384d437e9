#![cfg(feature = "http")]
//! A real Prometheus server (Debian's `prometheus`, installed by
//! `scripts/test-all.sh`) scrapes perf-core's `/metrics` endpoint on
//! loopback; the test then asks Prometheus's query API for the counters and
//! for `histogram_quantile(0.95, …)` and checks them against perf-core's own
//! statistics. Without `prometheus` on `PATH` the test prints a note and
//! passes, unless `PERF_CORE_REQUIRE_EXTERNAL=1`.

mod common;

use perf_core::{Monitor, DEFAULT_LATENCY_BUCKETS};

#[path = "common/prometheus.rs"]
mod prometheus;

use prometheus::{prometheus_available, Prometheus};

const ROUTE: &str = "/a \"quoted\"\\path";

/// Prometheus's `histogram_quantile(q, …)` over perf-core's cumulative
/// buckets: the rank `q × count` interpolated linearly within its bucket.
/// Returns the estimate and the bucket's bounds.
fn expected_histogram_quantile(monitor: &Monitor, q: f64) -> (f64, f64, f64) {
    let stats = monitor
        .stats("http.server.duration", &[("route", ROUTE)])
        .unwrap();
    let rank = q * stats.count as f64;
    let mut below = 0u64;
    let mut lower = 0.0;
    for le in DEFAULT_LATENCY_BUCKETS {
        let cumulative = stats
            .snapshot()
            .buckets()
            .filter(|&(lo, _, _)| lo < le)
            .map(|b| b.2)
            .sum::<u64>()
            + stats.snapshot().zero_count();
        if cumulative as f64 >= rank {
            let fraction = (rank - below as f64) / (cumulative - below) as f64;
            return (lower + fraction * (le - lower), lower, le);
        }
        (below, lower) = (cumulative, le);
    }
    panic!("p{q} beyond the last finite bucket");
}

#[test]
fn prometheus_scrapes_counters_and_histogram_quantiles() {
    if !prometheus_available() {
        return;
    }
    let monitor = Monitor::builder().build().unwrap();
    let h = monitor
        .histogram("http.server.duration", &[("route", ROUTE)])
        .unwrap();
    for i in 0..2_000u32 {
        h.record(20.0 + f64::from(i % 100) * 0.8).unwrap();
    }
    let jobs = monitor.counter("jobs.done", &[("queue", "mail")]).unwrap();
    jobs.increment(42);
    let server = monitor.serve_metrics("127.0.0.1:0").unwrap();
    let prometheus = Prometheus::start(&[server.local_addr().to_string()], &[]);

    let selector = format!("{{route={ROUTE:?}}}");
    let count = prometheus.query_until(&format!("http_server_duration_count{selector}"), |_| true);
    assert_eq!(count, 2_000.0);
    assert_eq!(
        prometheus.query_until("jobs_done_total{queue=\"mail\"}", |_| true),
        42.0
    );

    let p95 = prometheus.query_until(
        &format!("histogram_quantile(0.95, http_server_duration_bucket{selector})"),
        |_| true,
    );
    let (expected, lower, upper) = expected_histogram_quantile(&monitor, 0.95);
    assert!(
        (p95 - expected).abs() <= 1e-9 * expected,
        "Prometheus {p95}, expected {expected}"
    );
    let ours = monitor
        .stats("http.server.duration", &[("route", ROUTE)])
        .unwrap()
        .percentile(95.0)
        .unwrap();
    assert!(
        (lower..=upper).contains(&ours),
        "perf-core p95 {ours} outside Prometheus's bucket ({lower}, {upper}]"
    );

    // Later scrapes see new values.
    jobs.increment(8);
    assert_eq!(
        prometheus.query_until("jobs_done_total{queue=\"mail\"}", |v| v == 50.0),
        50.0
    );
}
