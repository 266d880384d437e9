#![cfg(feature = "http")]
//! A fleet p95 through real Prometheus servers (Debian's `prometheus` 2.42,
//! installed by `scripts/test-all.sh`), on loopback:
//!
//! * three perf-core worker processes (this test binary re-executed with
//!   [`WORKER_ENV`]) each serve `/metrics` and record a different latency
//!   mix with a fixed seed, steadily for a few seconds;
//! * one Prometheus with `--enable-feature=native-histograms` scrapes them
//!   every second (it asks for the protobuf exposition and ingests the
//!   native histograms), and a second one without the feature scrapes the
//!   text exposition's classic buckets;
//! * `histogram_quantile(0.95, sum(rate(…)))` over the native histograms must
//!   equal the exact p95 of every value the three recorded within the
//!   documented bound ([`NativeHistogram::error_bound`], 0.663 %); the same
//!   query over the classic buckets is printed beside it;
//! * the alerting rules `RulesConfig::to_prometheus_rules` writes for a p95
//!   rule (native and classic form) read the same p95 on the server each
//!   form is meant for.
//!
//! The rate window spans the whole run: it starts before Prometheus's first
//! scrape and ends after the workers are gone, so Prometheus extrapolates
//! every target alike (by half a scrape interval at each end) and the rate
//! is the union of the recorded values, scaled. Without `prometheus` on
//! `PATH` the test prints a note and passes, unless
//! `PERF_CORE_REQUIRE_EXTERNAL=1`. Everything it starts is killed at the end.

mod common;

#[path = "common/prometheus.rs"]
mod prometheus;

use std::io::{BufRead, BufReader, Lines};
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use perf_core::{Monitor, NativeHistogram, Precision, PrometheusRulesOptions, RulesConfig};
use prometheus::{prometheus_available, Prometheus};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, LogNormal};

/// Set (to the worker's index) in a re-executed worker process.
const WORKER_ENV: &str = "PERF_CORE_FLEET_WORKER";
/// The file whose existence tells the workers to start recording.
const GO_ENV: &str = "PERF_CORE_FLEET_GO";
const METRIC: &str = "fleet.latency";
const WORKERS: usize = 3;
/// Values per worker; `0.95 × 3 × 7001` is not a whole number, so the p95
/// rank is not on a tie.
const PER_WORKER: usize = 7001;
/// Recording is spread over this many batches, [`BATCH_PAUSE`] apart.
const BATCHES: usize = 20;
const BATCH_PAUSE: Duration = Duration::from_millis(300);
/// How long a worker waits for the go signal, then serves after recording.
const WORKER_LIFETIME: Duration = Duration::from_secs(120);

/// Worker `index`'s latencies in milliseconds, from its fixed seed: a
/// lognormal with median 20 ms, one with median 80 ms, and a bimodal mix
/// (70 % around 5 ms, 30 % around 300 ms).
fn latencies(index: usize) -> Vec<f64> {
    let mut rng = StdRng::seed_from_u64(0x5eed_0000 + index as u64);
    let lognormal = |median: f64, sigma: f64| LogNormal::new(f64::ln(median), sigma).unwrap();
    let (fast, slow) = (lognormal(5.0, 0.3), lognormal(300.0, 0.4));
    (0..PER_WORKER)
        .map(|_| match index {
            0 => lognormal(20.0, 0.5).sample(&mut rng),
            1 => lognormal(80.0, 0.5).sample(&mut rng),
            _ if rng.random_bool(0.7) => fast.sample(&mut rng),
            _ => slow.sample(&mut rng),
        })
        .collect()
}

/// The worker's body when re-executed; an ordinary run skips it.
#[test]
fn fleet_worker() {
    let Ok(index) = std::env::var(WORKER_ENV) else {
        return;
    };
    let index: usize = index.parse().unwrap();
    let go = PathBuf::from(std::env::var(GO_ENV).unwrap());
    let monitor = Monitor::builder().build().unwrap();
    let histogram = monitor.histogram(METRIC, &[]).unwrap();
    let server = monitor.serve_metrics("127.0.0.1:0").unwrap();
    println!("PORT {}", server.local_addr().port());
    let deadline = Instant::now() + WORKER_LIFETIME;
    while !go.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let values = latencies(index);
    for batch in values.chunks(PER_WORKER.div_ceil(BATCHES)) {
        for &v in batch {
            histogram.record(v).unwrap();
        }
        std::thread::sleep(BATCH_PAUSE);
    }
    println!("DONE");
    while Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A running worker process, killed on drop.
struct Worker {
    child: Child,
    lines: Lines<BufReader<ChildStdout>>,
    port: u16,
}

impl Worker {
    fn start(index: usize, go: &std::path::Path) -> Worker {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["fleet_worker", "--exact", "--nocapture", "--test-threads=1"])
            .env(WORKER_ENV, index.to_string())
            .env(GO_ENV, go)
            .stdout(Stdio::piped())
            .spawn()
            .expect("start a worker");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let port = lines
            .by_ref()
            .map_while(Result::ok)
            // The harness may have written `test fleet_worker ... ` first.
            .find_map(|line| Some(line.split_once("PORT ")?.1.trim().parse().unwrap()))
            .expect("the worker's port");
        Worker { child, lines, port }
    }

    /// Blocks until the worker has recorded everything.
    fn wait_done(&mut self) {
        let done = self
            .lines
            .by_ref()
            .map_while(Result::ok)
            .any(|l| l.trim_end().ends_with("DONE"));
        assert!(done, "a worker ended before recording everything");
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// The exact p95 of all values, as `histogram_quantile`'s rank
/// `0.95 × count` picks it (nearest rank).
fn exact_p95() -> f64 {
    let mut all: Vec<f64> = (0..WORKERS).flat_map(latencies).collect();
    all.sort_by(f64::total_cmp);
    let rank = (0.95 * all.len() as f64).ceil() as usize;
    all[rank - 1]
}

#[test]
fn fleet_p95_from_native_histograms_is_within_the_bound() {
    if std::env::var(WORKER_ENV).is_ok() || !prometheus_available() {
        return;
    }
    let started = Instant::now();
    let go =
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("fleet-go-{}", std::process::id()));
    let _ = std::fs::remove_file(&go);
    let mut workers: Vec<Worker> = (0..WORKERS).map(|i| Worker::start(i, &go)).collect();
    let targets: Vec<String> = workers
        .iter()
        .map(|w| format!("127.0.0.1:{}", w.port))
        .collect();

    let window_start = unix_now() - 2.0; // before any scrape
    let native = Prometheus::start(&targets, &["--enable-feature=native-histograms"]);
    let classic = Prometheus::start(&targets, &[]);
    // Every target scraped (with nothing recorded yet) by both.
    native.query_until("count(histogram_count(fleet_latency) == 0)", |n| {
        n == WORKERS as f64
    });
    classic.query_until("count(fleet_latency_count == 0)", |n| n == WORKERS as f64);
    std::thread::sleep(Duration::from_secs(2));

    std::fs::write(&go, b"go").unwrap();
    for worker in &mut workers {
        worker.wait_done();
    }
    let total = (WORKERS * PER_WORKER) as f64;
    native.query_until("sum(histogram_count(fleet_latency))", |n| n == total);
    classic.query_until("sum(fleet_latency_count)", |n| n == total);
    // The last scrapes are in; with the workers gone, no target has a
    // sample near the end of the window.
    std::thread::sleep(Duration::from_millis(1500));
    drop(workers);
    std::thread::sleep(Duration::from_millis(2500));
    let _ = std::fs::remove_file(&go);

    let at = unix_now();
    let range = format!("{}s", (at - window_start).ceil() as u64);
    let native_query = format!("histogram_quantile(0.95, sum(rate(fleet_latency[{range}])))");
    let classic_query =
        format!("histogram_quantile(0.95, sum by (le) (rate(fleet_latency_bucket[{range}])))");
    let from_native = native
        .query_at(&native_query, Some(at))
        .expect(&native_query);
    let from_classic = classic
        .query_at(&classic_query, Some(at))
        .expect(&classic_query);

    let exact = exact_p95();
    let bound = NativeHistogram::error_bound(Precision::DEFAULT);
    let error = |x: f64| (x - exact) / exact;
    println!(
        "fleet p95 of {total} values from {WORKERS} processes: exact {exact:.4} ms; \
         native {from_native:.4} ms (error {:+.3} %, bound {:.3} %); \
         classic {from_classic:.4} ms (error {:+.3} %); {:.1} s",
        error(from_native) * 100.0,
        bound * 100.0,
        error(from_classic) * 100.0,
        started.elapsed().as_secs_f64()
    );
    assert!(
        error(from_native).abs() <= bound,
        "native p95 {from_native} vs exact {exact}: error {} > bound {bound}",
        error(from_native)
    );
    generated_rules_read_the_same_p95(&native, &classic, &range, at, from_native, from_classic);
}

/// The alerting rules `to_prometheus_rules` writes for a p95 rule over the
/// same window, native and classic form, each evaluated by the server it
/// is meant for: the condition holds at the p95 the hand-written query
/// gave (less 1 %), with the value being that p95, and not above it.
fn generated_rules_read_the_same_p95(
    native: &Prometheus,
    classic: &Prometheus,
    range: &str,
    at: f64,
    from_native: f64,
    from_classic: f64,
) {
    let min_samples = WORKERS * PER_WORKER / 2;
    let expr = |native_histograms: bool, threshold: f64| {
        let document = format!(
            r#"{{"version": 1, "rules": [{{"name": "fleet-p95", "metric": "{METRIC}", "stat": "p95",
                "window": "{range}", "threshold": {threshold}, "min_samples": {min_samples}}}]}}"#
        );
        let options = PrometheusRulesOptions::new().native_histograms(native_histograms);
        let rules = RulesConfig::from_json(&document).unwrap();
        let alert = rules
            .to_prometheus_rules(&options)
            .unwrap()
            .groups
            .remove(0)
            .alerts
            .remove(0);
        alert.expr
    };
    for (server, native_histograms, p95) in
        [(native, true, from_native), (classic, false, from_classic)]
    {
        let holds = expr(native_histograms, p95 * 0.99);
        let value = server.query_at(&holds, Some(at));
        assert_eq!(value, Some(p95), "{holds}");
        let above = expr(native_histograms, p95 * 1.01);
        assert_eq!(server.query_at(&above, Some(at)), None, "{above}");
    }
}
