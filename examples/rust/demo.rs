//! The perf-core demo: two minutes in the life of a small web service.
//!
//! Four endpoints with realistic latency distributions (lognormal bodies, a
//! rare heavy tail) are served by several worker threads that record into
//! perf-core handles concurrently. Halfway through, the search backend has a
//! slow spell. Time is simulated with a [`ManualClock`] advanced in 100 ms
//! steps, so two minutes of traffic take about a second and every number is
//! reproducible (fixed seeds).
//!
//! Run it with `cargo run --release -p perf-examples --bin demo`.
//!
//! The pieces are kept apart so later features slot in: `Service` owns the
//! simulated traffic and its instruments, `simulate` drives time, and the
//! `print_*` functions report.

use std::time::Duration;

use perf_core::{Counter, Gauge, Histogram, ManualClock, Monitor, PerfError, Stats, Timestamp};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, LogNormal};

/// Simulated time per step; every step's requests are recorded before the
/// clock moves on.
const STEP: Duration = Duration::from_millis(100);
/// Simulated run length.
const RUN: Duration = Duration::from_secs(120);
/// Threads serving requests concurrently.
const WORKERS: usize = 4;
/// The slow spell: the search backend is this much slower in this time span.
const SLOW_ROUTE: &str = "/api/search";
const SLOW_FROM: Duration = Duration::from_secs(55);
const SLOW_UNTIL: Duration = Duration::from_secs(80);
const SLOW_FACTOR: f64 = 8.0;
/// The window of the "recent" table and of the rates.
const RECENT: Duration = Duration::from_secs(60);

/// How one endpoint behaves.
struct EndpointSpec {
    method: &'static str,
    route: &'static str,
    /// Requests per second.
    rate: f64,
    /// Median latency and spread (lognormal sigma).
    median_ms: f64,
    sigma: f64,
    /// Probability that a request hits the heavy tail, and how much slower.
    tail_probability: f64,
    tail_factor: f64,
    /// Probability that a request fails.
    error_probability: f64,
}

const ENDPOINTS: [EndpointSpec; 4] = [
    EndpointSpec {
        method: "GET",
        route: "/api/users",
        rate: 400.0,
        median_ms: 12.0,
        sigma: 0.35,
        tail_probability: 0.002,
        tail_factor: 15.0,
        error_probability: 0.001,
    },
    EndpointSpec {
        method: "GET",
        route: SLOW_ROUTE,
        rate: 150.0,
        median_ms: 45.0,
        sigma: 0.5,
        tail_probability: 0.005,
        tail_factor: 10.0,
        error_probability: 0.004,
    },
    EndpointSpec {
        method: "POST",
        route: "/api/orders",
        rate: 60.0,
        median_ms: 85.0,
        sigma: 0.6,
        tail_probability: 0.01,
        tail_factor: 6.0,
        error_probability: 0.01,
    },
    EndpointSpec {
        method: "GET",
        route: "/health",
        rate: 20.0,
        median_ms: 0.8,
        sigma: 0.2,
        tail_probability: 0.0,
        tail_factor: 1.0,
        error_probability: 0.0,
    },
];

/// An endpoint and the perf-core handles it records into.
struct Endpoint {
    spec: &'static EndpointSpec,
    body: LogNormal<f64>,
    latency: Histogram,
    requests: Counter,
    errors: Counter,
}

impl Endpoint {
    fn new(monitor: &Monitor, spec: &'static EndpointSpec) -> Result<Self, PerfError> {
        let tags = [("method", spec.method), ("route", spec.route)];
        Ok(Endpoint {
            spec,
            body: LogNormal::new(spec.median_ms.ln(), spec.sigma).expect("valid lognormal"),
            latency: monitor.histogram("http.server.duration", &tags)?,
            requests: monitor.counter("http.server.requests", &tags)?,
            errors: monitor.counter("http.server.errors", &tags)?,
        })
    }

    fn name(&self) -> String {
        format!("{} {}", self.spec.method, self.spec.route)
    }

    fn tags(&self) -> [(&'static str, &'static str); 2] {
        [("method", self.spec.method), ("route", self.spec.route)]
    }

    /// Serves one simulated request at simulated time `now`.
    fn serve(&self, now: Duration, rng: &mut StdRng) -> Result<(), PerfError> {
        let mut latency = self.body.sample(rng);
        if rng.random::<f64>() < self.spec.tail_probability {
            latency *= self.spec.tail_factor;
        }
        if self.spec.route == SLOW_ROUTE && (SLOW_FROM..SLOW_UNTIL).contains(&now) {
            latency *= SLOW_FACTOR;
        }
        self.latency.record(latency)?;
        self.requests.increment(1);
        if rng.random::<f64>() < self.spec.error_probability {
            self.errors.increment(1);
        }
        Ok(())
    }

    /// Requests arriving in step `step`: the rate's share, with the
    /// fractional part carried by a deterministic rounding.
    fn arrivals(&self, step: u64) -> u64 {
        let per_step = self.spec.rate * STEP.as_secs_f64();
        ((step + 1) as f64 * per_step) as u64 - (step as f64 * per_step) as u64
    }
}

/// The simulated service: its endpoints and a gauge of requests in flight.
struct Service {
    endpoints: Vec<Endpoint>,
    in_flight: Gauge,
}

impl Service {
    fn new(monitor: &Monitor) -> Result<Self, PerfError> {
        Ok(Service {
            endpoints: ENDPOINTS
                .iter()
                .map(|spec| Endpoint::new(monitor, spec))
                .collect::<Result<_, _>>()?,
            in_flight: monitor.gauge("http.server.in_flight", &[])?,
        })
    }

    /// Serves one step of traffic on `WORKERS` threads: worker `w` takes
    /// every `WORKERS`-th request of each endpoint.
    fn serve_step(&self, step: u64) -> Result<(), PerfError> {
        let now = STEP * step as u32;
        std::thread::scope(|scope| {
            let workers: Vec<_> = (0..WORKERS)
                .map(|worker| scope.spawn(move || self.work(step, now, worker)))
                .collect();
            workers
                .into_iter()
                .try_for_each(|w| w.join().expect("worker panicked"))
        })?;
        let arrivals: u64 = self.endpoints.iter().map(|e| e.arrivals(step)).sum();
        // Little's law with a nominal 40 ms mean: a plausible in-flight count.
        self.in_flight
            .set(arrivals as f64 / STEP.as_secs_f64() * 0.040)
    }

    fn work(&self, step: u64, now: Duration, worker: usize) -> Result<(), PerfError> {
        let mut rng = StdRng::seed_from_u64(step * WORKERS as u64 + worker as u64);
        for endpoint in &self.endpoints {
            for request in 0..endpoint.arrivals(step) {
                if request as usize % WORKERS == worker {
                    endpoint.serve(now, &mut rng)?;
                }
            }
        }
        Ok(())
    }
}

fn main() -> Result<(), PerfError> {
    let clock = ManualClock::new(Timestamp::from_secs(1_700_000_000));
    let monitor = Monitor::builder().clock(clock.clone()).build()?;
    let service = Service::new(&monitor)?;
    println!(
        "perf-core demo: {} s of simulated traffic, {} endpoints, {WORKERS} worker threads",
        RUN.as_secs(),
        service.endpoints.len()
    );
    println!(
        "slow spell: {SLOW_ROUTE} is {SLOW_FACTOR}x slower from {} s to {} s\n",
        SLOW_FROM.as_secs(),
        SLOW_UNTIL.as_secs()
    );
    simulate(&monitor, &clock, &service)?;
    print_cumulative(&monitor, &service)?;
    print_recent(&monitor, &service)?;
    Ok(())
}

/// Drives simulated time and prints the slow endpoint's p95 every 10 s.
fn simulate(monitor: &Monitor, clock: &ManualClock, service: &Service) -> Result<(), PerfError> {
    let slow = service
        .endpoints
        .iter()
        .find(|e| e.spec.route == SLOW_ROUTE)
        .expect("the slow route is an endpoint");
    println!("p95 of {} over the last 10 s:", slow.name());
    let steps = (RUN.as_millis() / STEP.as_millis()) as u64;
    for step in 0..steps {
        // The clock stands at the step's start while its requests are served,
        // so reads after the last step happen mid-interval, as in a live
        // service (a read exactly on a boundary sees an empty current interval).
        if step > 0 {
            clock.advance(STEP);
        }
        service.serve_step(step)?;
        let elapsed = STEP * (step + 1) as u32;
        if elapsed.as_millis().is_multiple_of(10_000) {
            let recent = monitor.window_stats(
                "http.server.duration",
                &slow.tags(),
                Duration::from_secs(10),
            )?;
            println!(
                "  t = {:>3} s  p95 = {:>7.1} ms  {}",
                elapsed.as_secs(),
                recent.p95,
                bar(recent.p95, 20.0)
            );
        }
    }
    println!();
    Ok(())
}

fn print_cumulative(monitor: &Monitor, service: &Service) -> Result<(), PerfError> {
    println!("Latency since start (ms):");
    print_header(&["count", "mean", "p50", "p90", "p95", "p99", "p99.9", "max"]);
    for endpoint in &service.endpoints {
        let s = monitor.stats("http.server.duration", &endpoint.tags())?;
        print_row(&endpoint.name(), &latency_columns(&s, true));
    }
    println!();
    Ok(())
}

fn print_recent(monitor: &Monitor, service: &Service) -> Result<(), PerfError> {
    println!("Last {} s (sliding window):", RECENT.as_secs());
    print_header(&[
        "count", "mean", "p50", "p95", "p99", "max", "req/s", "err/s", "err %",
    ]);
    for endpoint in &service.endpoints {
        let tags = endpoint.tags();
        let s = monitor.window_stats("http.server.duration", &tags, RECENT)?;
        let requests = monitor.counter_rate("http.server.requests", &tags, RECENT)?;
        let errors = monitor.counter_rate("http.server.errors", &tags, RECENT)?;
        let mut columns = latency_columns(&s, false);
        columns.push(format!("{requests:.1}"));
        columns.push(format!("{errors:.2}"));
        columns.push(format!(
            "{:.2}",
            100.0 * errors / requests.max(f64::MIN_POSITIVE)
        ));
        print_row(&endpoint.name(), &columns);
    }
    let in_flight = monitor.gauge("http.server.in_flight", &[])?.value();
    println!("\nin flight now: {in_flight:.1}");
    Ok(())
}

/// Count and latency columns; `full` adds p90 and p99.9.
fn latency_columns(s: &Stats, full: bool) -> Vec<String> {
    let mut values = vec![s.mean, s.p50];
    if full {
        values.push(s.p90);
    }
    values.extend([s.p95, s.p99]);
    if full {
        values.push(s.p999);
    }
    values.push(s.max);
    std::iter::once(s.count.to_string())
        .chain(values.iter().map(|v| format!("{v:.2}")))
        .collect()
}

fn print_header(columns: &[&str]) {
    print_row(
        "endpoint",
        &columns.iter().map(|c| c.to_string()).collect::<Vec<_>>(),
    );
}

fn print_row(name: &str, columns: &[String]) {
    let cells: String = columns.iter().map(|c| format!("{c:>9}")).collect();
    println!("  {name:<18}{cells}");
}

/// A text bar, one `#` per `unit`.
fn bar(value: f64, unit: f64) -> String {
    "#".repeat((value / unit).round().clamp(0.0, 60.0) as usize)
}
