//! Fleet-wide percentiles through a real Prometheus (Debian's `prometheus`
//! 2.42, as `scripts/test-all.sh` installs it), on loopback: perf-core's
//! native histograms, perf-core's classic buckets and the
//! `prometheus-client` crate's classic buckets, side by side in one run,
//! against the exact percentiles of every recorded value.
//!
//! ```text
//! cargo run --release -p perf-core-benches --features http --bin fleet-accuracy
//! cargo run --release -p perf-core-benches --features http --bin fleet-accuracy -- --smoke
//! ```
//!
//! * Three worker processes (this program re-executed with `worker <index>
//!   <go-file>`) record a different latency mix each, from a fixed seed —
//!   lognormal with median 20 ms, lognormal with median 80 ms, and a
//!   bimodal mix (70 % around 5 ms, 30 % around 300 ms), as in
//!   `perf-core/tests/native_histogram_prometheus.rs` — steadily over a few
//!   seconds. Every value goes into a perf-core histogram (served by
//!   `Monitor::serve_metrics`) and into two prometheus-client histograms
//!   (served by a minimal HTTP server on a second port): one with
//!   perf-core's default classic bounds, one with the Go client's
//!   `DefBuckets` in milliseconds (prometheus-client has no default
//!   bounds of its own: `Histogram::new` takes them).
//! * One Prometheus with `--enable-feature=native-histograms` scrapes the
//!   perf-core endpoints every second (it negotiates the protobuf
//!   exposition and ingests the native histograms; 2.42 then drops the
//!   classic buckets of the same series), a second one without the
//!   feature scrapes the perf-core and prometheus-client endpoints'
//!   classic buckets.
//! * After the workers are gone, `histogram_quantile(q, sum(rate(…)))` is
//!   asked of both, over a window that spans the whole run (so `rate`
//!   extrapolates every target alike and is the union of the values,
//!   scaled), and compared with the exact nearest-rank percentile of the
//!   union of all values, which this process regenerates from the seeds.
//!   The same is asked of the targets' last counts (an instant selector,
//!   just before the workers stop): without `rate`'s per-target
//!   extrapolation, two libraries with the same bounds must agree.
//!
//! `--smoke` records fewer values and fails unless the native p95 is within
//! 1 % of the exact one (the documented bound is 0.663 %). Without
//! `prometheus` on `PATH` it prints a note and exits successfully, unless
//! `PERF_CORE_REQUIRE_EXTERNAL=1`. Everything it starts is killed at the end.

#[path = "../../../perf-core/tests/common/mod.rs"]
mod common;

#[path = "../../../perf-core/tests/common/prometheus.rs"]
mod prometheus;

use std::io::{BufRead, BufReader, Lines, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use perf_core::{Monitor, NativeHistogram, Precision, DEFAULT_LATENCY_BUCKETS};
use prometheus::{prometheus_available, Prometheus};
use prometheus_client::metrics::histogram::Histogram as PcHistogram;
use prometheus_client::registry::Registry as PcRegistry;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, LogNormal};

/// perf-core's metric; exposed as `fleet_latency`.
const METRIC: &str = "fleet.latency";
/// The prometheus-client histogram with perf-core's default bounds.
const PC_SAME: &str = "pc_fleet_latency_perfcore_bounds";
/// The prometheus-client histogram with the Go client's default bounds.
const PC_GO: &str = "pc_fleet_latency_go_default_bounds";
/// client_golang's `DefBuckets` (seconds), here in milliseconds.
const GO_DEFAULT_BUCKETS_MS: [f64; 11] = [
    5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0, 10000.0,
];
const WORKERS: usize = 3;
/// Recording is spread over this many batches, [`BATCH_PAUSE`] apart.
const BATCHES: usize = 20;
const BATCH_PAUSE: Duration = Duration::from_millis(300);
/// How long a worker waits for the go signal, then serves after recording.
const WORKER_LIFETIME: Duration = Duration::from_secs(180);
/// The percentiles compared (`histogram_quantile`'s φ is a hundredth).
const PERCENTILES: [f64; 3] = [50.0, 95.0, 99.0];
/// The smoke run's limit on the native p95's relative error.
const SMOKE_LIMIT: f64 = 0.01;

/// Values per worker: `q × 3 × n` is not a whole number for any of
/// [`QUANTILES`], so no percentile's rank is on a tie.
fn per_worker(smoke: bool) -> usize {
    if smoke {
        7_001
    } else {
        100_001
    }
}

/// Worker `index`'s latencies in milliseconds, from its fixed seed.
fn latencies(index: usize, n: usize) -> Vec<f64> {
    let mut rng = StdRng::seed_from_u64(0x5eed_0000 + index as u64);
    let lognormal = |median: f64, sigma: f64| LogNormal::new(f64::ln(median), sigma).unwrap();
    let (fast, slow) = (lognormal(5.0, 0.3), lognormal(300.0, 0.4));
    (0..n)
        .map(|_| match index {
            0 => lognormal(20.0, 0.5).sample(&mut rng),
            1 => lognormal(80.0, 0.5).sample(&mut rng),
            _ if rng.random_bool(0.7) => fast.sample(&mut rng),
            _ => slow.sample(&mut rng),
        })
        .collect()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("worker") => worker(
            args[1].parse().expect("worker index"),
            Path::new(&args[2]),
            args[3].parse().expect("values per worker"),
        ),
        Some("--smoke") => parent(true),
        None => parent(false),
        Some(other) => panic!("unknown argument {other:?} (expected nothing or --smoke)"),
    }
}

/// A worker process: serves both libraries' endpoints, records its values
/// once `go` exists, says `DONE` and serves until killed.
fn worker(index: usize, go: &Path, n: usize) {
    let monitor = Monitor::builder().build().unwrap();
    let histogram = monitor.histogram(METRIC, &[]).unwrap();
    let server = monitor.serve_metrics("127.0.0.1:0").unwrap();

    let same = PcHistogram::new(DEFAULT_LATENCY_BUCKETS);
    let go_default = PcHistogram::new(GO_DEFAULT_BUCKETS_MS);
    let mut registry = PcRegistry::default();
    registry.register(PC_SAME, "perf-core's default bounds", same.clone());
    registry.register(
        PC_GO,
        "client_golang's DefBuckets in ms",
        go_default.clone(),
    );
    let pc_port = serve_prometheus_client(registry);

    println!("PORT {} {pc_port}", server.local_addr().port());
    let deadline = Instant::now() + WORKER_LIFETIME;
    while !go.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let values = latencies(index, n);
    for batch in values.chunks(n.div_ceil(BATCHES)) {
        for &v in batch {
            histogram.record(v).unwrap();
            same.observe(v);
            go_default.observe(v);
        }
        std::thread::sleep(BATCH_PAUSE);
    }
    println!("DONE");
    while Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Serves prometheus-client's OpenMetrics text of `registry` on a free
/// loopback port (any request, one per connection); returns the port.
fn serve_prometheus_client(registry: PcRegistry) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().map_while(Result::ok) {
            let _ = answer(stream, &registry);
        }
    });
    port
}

fn answer(mut stream: TcpStream, registry: &PcRegistry) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut head = Vec::new();
    let mut chunk = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut chunk)? {
            0 => return Ok(()),
            n => head.extend_from_slice(&chunk[..n]),
        }
    }
    let mut body = String::new();
    prometheus_client::encoding::text::encode(&mut body, registry).unwrap();
    write!(
        stream,
        "HTTP/1.1 200 OK\r\n\
         Content-Type: application/openmetrics-text; version=1.0.0; charset=utf-8\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

/// A running worker process, killed on drop.
struct Worker {
    child: Child,
    lines: Lines<BufReader<ChildStdout>>,
    perf_core_port: u16,
    pc_port: u16,
}

impl Worker {
    fn start(index: usize, go: &Path, n: usize) -> Worker {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .arg("worker")
            .arg(index.to_string())
            .arg(go)
            .arg(n.to_string())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start a worker");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let line = lines
            .by_ref()
            .map_while(Result::ok)
            .find(|l| l.starts_with("PORT "))
            .expect("the worker's ports");
        let ports: Vec<u16> = line[5..].split(' ').map(|p| p.parse().unwrap()).collect();
        Worker {
            child,
            lines,
            perf_core_port: ports[0],
            pc_port: ports[1],
        }
    }

    /// Blocks until the worker has recorded everything.
    fn wait_done(&mut self) {
        let done = self
            .lines
            .by_ref()
            .map_while(Result::ok)
            .any(|l| l.trim_end() == "DONE");
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

/// One way of getting a fleet percentile: a label, the Prometheus to ask,
/// and the series to sum.
struct Method {
    name: &'static str,
    native: bool,
    series: &'static str,
}

impl Method {
    /// The fleet percentile's query (φ = `q`), from the rate over `window`.
    fn query(&self, q: f64, window: &str) -> String {
        let sum = if self.native { "sum" } else { "sum by (le) " };
        format!(
            "histogram_quantile({q}, {sum}(rate({}[{window}])))",
            self.series
        )
    }

    /// The same from each target's last counts (an instant selector,
    /// asked while the workers are still up: no rate, so no
    /// extrapolation): the buckets as the libraries hold them.
    fn query_final(&self, q: f64) -> String {
        let sum = if self.native { "sum" } else { "sum by (le) " };
        format!("histogram_quantile({q}, {sum}({}))", self.series)
    }
}

const METHODS: [Method; 4] = [
    Method {
        name: "perf-core, native histogram",
        native: true,
        series: "fleet_latency",
    },
    Method {
        name: "perf-core, classic buckets (default bounds)",
        native: false,
        series: "fleet_latency_bucket",
    },
    Method {
        name: "prometheus-client, classic, perf-core's bounds",
        native: false,
        series: "pc_fleet_latency_perfcore_bounds_bucket",
    },
    Method {
        name: "prometheus-client, classic, Go client's DefBuckets",
        native: false,
        series: "pc_fleet_latency_go_default_bounds_bucket",
    },
];

fn parent(smoke: bool) {
    if !prometheus_available() {
        return;
    }
    let n = per_worker(smoke);
    let started = Instant::now();
    let go = std::env::temp_dir().join(format!("perf-core-fleet-go-{}", std::process::id()));
    let _ = std::fs::remove_file(&go);
    let mut workers: Vec<Worker> = (0..WORKERS).map(|i| Worker::start(i, &go, n)).collect();
    let perf_core_targets: Vec<String> = workers
        .iter()
        .map(|w| format!("127.0.0.1:{}", w.perf_core_port))
        .collect();
    let mut classic_targets = perf_core_targets.clone();
    classic_targets.extend(workers.iter().map(|w| format!("127.0.0.1:{}", w.pc_port)));

    let window_start = unix_now() - 2.0; // before any scrape
    let native = Prometheus::start(&perf_core_targets, &["--enable-feature=native-histograms"]);
    let classic = Prometheus::start(&classic_targets, &[]);
    // Every target scraped (with nothing recorded yet) by both.
    let all = |n: usize| move |v: f64| v == n as f64;
    native.query_until("count(histogram_count(fleet_latency) == 0)", all(WORKERS));
    classic.query_until("count(fleet_latency_count == 0)", all(WORKERS));
    classic.query_until(&format!("count({PC_SAME}_count == 0)"), all(WORKERS));
    std::thread::sleep(Duration::from_secs(2));

    std::fs::write(&go, b"go").unwrap();
    for worker in &mut workers {
        worker.wait_done();
    }
    let total = WORKERS * n;
    native.query_until("sum(histogram_count(fleet_latency))", all(total));
    classic.query_until("sum(fleet_latency_count)", all(total));
    classic.query_until(&format!("sum({PC_SAME}_count)"), all(total));
    classic.query_until(&format!("sum({PC_GO}_count)"), all(total));
    // The last scrapes are in; with the workers gone, no target has a
    // sample near the end of the window.
    std::thread::sleep(Duration::from_millis(1500));
    let final_at = unix_now();
    drop(workers);
    std::thread::sleep(Duration::from_millis(2500));
    let _ = std::fs::remove_file(&go);

    let at = unix_now();
    let window = format!("{}s", (at - window_start).ceil() as u64);
    let mut all_values: Vec<f64> = (0..WORKERS).flat_map(|i| latencies(i, n)).collect();
    all_values.sort_by(f64::total_cmp);

    println!(
        "{total} values from {WORKERS} worker processes; rate window [{window}] spanning the run"
    );
    println!(
        "| method | percentile | from PromQL, rate (ms) | exact (ms) | relative error | \
         from the final counts, no rate (ms) | relative error |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|");
    let mut native_p95_error = None;
    for method in &METHODS {
        let server = if method.native { &native } else { &classic };
        for p in PERCENTILES {
            let ask = |query: String, at| server.query_at(&query, Some(at)).expect(&query);
            let reported = ask(method.query(p / 100.0, &window), at);
            let from_final = ask(method.query_final(p / 100.0), final_at);
            let exact = common::exact_percentile(&all_values, p);
            let error = |x: f64| (x - exact) / exact * 100.0;
            if method.native && p == 95.0 {
                native_p95_error = Some(error(reported) / 100.0);
            }
            println!(
                "| {} | p{p} | {reported:.3} | {exact:.3} | {:+.2} % | {from_final:.3} | {:+.2} % |",
                method.name,
                error(reported),
                error(from_final)
            );
        }
    }
    println!("Queries (p95; p50 and p99 alike):");
    for method in &METHODS {
        println!("  {}", method.query(0.95, &window));
    }
    for method in &METHODS {
        println!("  {}", method.query_final(0.95));
    }
    let bound = NativeHistogram::error_bound(Precision::DEFAULT);
    println!(
        "native histograms' documented bound: {:.3} %; run took {:.1} s",
        bound * 100.0,
        started.elapsed().as_secs_f64()
    );
    let error = native_p95_error.unwrap();
    if smoke {
        assert!(
            error.abs() <= SMOKE_LIMIT,
            "native p95 error {:+.3} % is over {} %",
            error * 100.0,
            SMOKE_LIMIT * 100.0
        );
        println!("smoke: native p95 within {} %: ok", SMOKE_LIMIT * 100.0);
    }
}
