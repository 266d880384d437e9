#![cfg(feature = "http")]
//! A real Prometheus server (Debian's `prometheus`, installed by
//! `scripts/test-all.sh`) scrapes perf-core's `/metrics` endpoint on
//! loopback; the test then asks Prometheus's query API for the counters and
//! for `histogram_quantile(0.95, …)` and checks them against perf-core's own
//! statistics. Without `prometheus` on `PATH` the test prints a note and
//! passes, unless `PERF_CORE_REQUIRE_EXTERNAL=1`.

mod common;

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use perf_core::{Monitor, DEFAULT_LATENCY_BUCKETS};
use serde_json::Value;

const ROUTE: &str = "/a \"quoted\"\\path";
const WAIT: Duration = Duration::from_secs(60);

/// A Prometheus server scraping one target every second; killed (and its
/// data removed) on drop.
struct Prometheus {
    child: Child,
    url: String,
    dir: PathBuf,
}

impl Prometheus {
    fn start(target: &str) -> Prometheus {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("prometheus-{port}"));
        std::fs::create_dir_all(&dir).unwrap();
        let config = dir.join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
                 scrape_configs:\n  - job_name: perf-core\n    static_configs:\n      - targets: ['{target}']\n"
            ),
        )
        .unwrap();
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--log.level=warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start prometheus");
        Prometheus {
            child,
            url: format!("http://127.0.0.1:{port}"),
            dir,
        }
    }

    /// The value of an instant query with exactly one result, once
    /// Prometheus has one that satisfies `ready` (polling up to [`WAIT`]).
    fn query_until(&self, query: &str, ready: impl Fn(f64) -> bool) -> f64 {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(v) = self.query(query).filter(|&v| ready(v)) {
                return v;
            }
            assert!(
                Instant::now() < deadline,
                "no result for {query} within {WAIT:?}"
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    fn query(&self, query: &str) -> Option<f64> {
        let text = ureq::get(&format!("{}/api/v1/query", self.url))
            .query("query", query)
            .call()
            .ok()?
            .body_mut()
            .read_to_string()
            .ok()?;
        let body: Value = serde_json::from_str(&text).ok()?;
        let result = body["data"]["result"].as_array()?;
        assert!(result.len() <= 1, "{query}: {result:?}");
        result.first()?["value"][1].as_str()?.parse().ok()
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn prometheus_available() -> bool {
    let found = Command::new("prometheus")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    common::external_tool_available(found, "prometheus")
}

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
    let prometheus = Prometheus::start(&server.local_addr().to_string());

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
