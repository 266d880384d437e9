//! The simulated service: its endpoints, their latency models, and the
//! perf-core instruments every request records into.
//!
//! Instruments (the names the reports and, later, rules read):
//!
//! | metric | kind | tags |
//! |---|---|---|
//! | [`LATENCY`] `http.server.duration` (ms) | histogram | `method`, `route` |
//! | [`REQUESTS`] `http.server.requests` | counter | `method`, `route` |
//! | [`ERRORS`] `http.server.errors` | counter | `method`, `route`, `status` |
//! | [`IN_FLIGHT`] `http.server.in_flight` | gauge | — |
//! | [`SHED`] `http.server.shed` | counter | `method`, `route` |
//!
//! While the monitor's emergency mode is on, every other request to a
//! sheddable endpoint is turned away at once (counted in [`SHED`], not
//! served): the check is one atomic load per request.

use std::time::Duration;

use perf_core::{Counter, Emergency, Gauge, Histogram, Monitor, PerfError};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, LogNormal};

/// Request latency in milliseconds.
pub const LATENCY: &str = "http.server.duration";
/// Requests served.
pub const REQUESTS: &str = "http.server.requests";
/// Failed requests, by `status`.
pub const ERRORS: &str = "http.server.errors";
/// Requests in flight.
pub const IN_FLIGHT: &str = "http.server.in_flight";
/// Requests turned away in emergency mode.
pub const SHED: &str = "http.server.shed";

/// The error statuses: a failure inside the handler, and a request cut off
/// at [`TIMEOUT_MS`].
pub const ERROR_STATUSES: [&str; 2] = ["500", "504"];
const INTERNAL_ERROR: usize = 0;
const GATEWAY_TIMEOUT: usize = 1;

/// Requests still running after this long are answered with a 504.
pub const TIMEOUT_MS: f64 = 2_000.0;

/// How one endpoint behaves.
pub struct EndpointSpec {
    pub method: &'static str,
    pub route: &'static str,
    /// Requests per second.
    pub rate: f64,
    /// Median latency (ms) and spread (lognormal sigma) of the body.
    pub median_ms: f64,
    pub sigma: f64,
    /// Probability that a request hits the heavy tail, and how much slower
    /// it then is.
    pub tail_probability: f64,
    pub tail_factor: f64,
    /// Probability that the handler fails (a 500).
    pub error_probability: f64,
    /// Whether half its requests are shed in emergency mode.
    pub sheddable: bool,
}

/// A span of simulated time in which one route is `factor` times slower.
pub struct SlowSpell {
    pub route: &'static str,
    pub from: Duration,
    pub until: Duration,
    pub factor: f64,
}

impl SlowSpell {
    /// The slowdown of `route` at simulated time `now`.
    fn factor(&self, route: &str, now: Duration) -> f64 {
        let active = route == self.route && (self.from..self.until).contains(&now);
        if active {
            self.factor
        } else {
            1.0
        }
    }
}

/// One endpoint: its behaviour and the perf-core handles it records into.
pub struct Endpoint {
    spec: &'static EndpointSpec,
    body: LogNormal<f64>,
    latency: Histogram,
    requests: Counter,
    /// One counter per entry of [`ERROR_STATUSES`].
    errors: [Counter; 2],
    shed: Counter,
}

impl Endpoint {
    fn new(monitor: &Monitor, spec: &'static EndpointSpec) -> Result<Self, PerfError> {
        let tags = route_tags(spec);
        let error_counter = |status| monitor.counter(ERRORS, &status_tags(spec, status));
        Ok(Endpoint {
            spec,
            body: LogNormal::new(spec.median_ms.ln(), spec.sigma).expect("valid lognormal"),
            latency: monitor.histogram(LATENCY, &tags)?,
            requests: monitor.counter(REQUESTS, &tags)?,
            errors: [
                error_counter(ERROR_STATUSES[INTERNAL_ERROR])?,
                error_counter(ERROR_STATUSES[GATEWAY_TIMEOUT])?,
            ],
            shed: monitor.counter(SHED, &tags)?,
        })
    }

    /// `METHOD /route`, for reports.
    pub fn name(&self) -> String {
        format!("{} {}", self.spec.method, self.spec.route)
    }

    pub fn route(&self) -> &'static str {
        self.spec.route
    }

    /// The tags of its latency histogram and request counter.
    pub fn tags(&self) -> [(&'static str, &'static str); 2] {
        route_tags(self.spec)
    }

    /// The tags of its error counter for `status`.
    pub fn error_tags(&self, status: &'static str) -> [(&'static str, &'static str); 3] {
        status_tags(self.spec, status)
    }

    /// Serves one request, `slowdown` times slower than usual, and records
    /// it. Returns its latency in ms.
    fn serve(&self, slowdown: f64, rng: &mut StdRng) -> Result<f64, PerfError> {
        let mut latency = self.body.sample(rng) * slowdown;
        if rng.random::<f64>() < self.spec.tail_probability {
            latency *= self.spec.tail_factor;
        }
        let status = if latency >= TIMEOUT_MS {
            latency = TIMEOUT_MS;
            Some(GATEWAY_TIMEOUT)
        } else if rng.random::<f64>() < self.spec.error_probability {
            Some(INTERNAL_ERROR)
        } else {
            None
        };
        self.latency.record(latency)?;
        self.requests.increment(1);
        if let Some(status) = status {
            self.errors[status].increment(1);
        }
        Ok(latency)
    }

    /// Requests arriving in `[from, to)`: the rate's share, with fractions
    /// carried over deterministically so the long-run rate is exact.
    fn arrivals(&self, from: Duration, to: Duration) -> u64 {
        let arrived_by = |t: Duration| (self.spec.rate * t.as_secs_f64()) as u64;
        arrived_by(to) - arrived_by(from)
    }
}

fn route_tags(spec: &EndpointSpec) -> [(&'static str, &'static str); 2] {
    [("method", spec.method), ("route", spec.route)]
}

fn status_tags(spec: &EndpointSpec, status: &'static str) -> [(&'static str, &'static str); 3] {
    [
        ("method", spec.method),
        ("route", spec.route),
        ("status", status),
    ]
}

/// The simulated service: endpoints served by a pool of worker threads.
pub struct Service {
    pub endpoints: Vec<Endpoint>,
    slow_spell: SlowSpell,
    workers: usize,
    in_flight: Gauge,
    emergency: Emergency,
}

impl Service {
    pub fn new(
        monitor: &Monitor,
        specs: &'static [EndpointSpec],
        slow_spell: SlowSpell,
        workers: usize,
    ) -> Result<Self, PerfError> {
        Ok(Service {
            endpoints: specs
                .iter()
                .map(|spec| Endpoint::new(monitor, spec))
                .collect::<Result<_, _>>()?,
            slow_spell,
            workers,
            in_flight: monitor.gauge(IN_FLIGHT, &[])?,
            emergency: monitor.emergency().clone(),
        })
    }

    pub fn slow_spell(&self) -> &SlowSpell {
        &self.slow_spell
    }

    pub fn workers(&self) -> usize {
        self.workers
    }

    /// Requests shed so far, over all endpoints.
    pub fn shed(&self) -> u64 {
        self.endpoints.iter().map(|e| e.shed.value()).sum()
    }

    /// The endpoint serving `route`.
    pub fn endpoint(&self, route: &str) -> Option<&Endpoint> {
        self.endpoints.iter().find(|e| e.route() == route)
    }

    /// Serves the requests arriving in `[from, to)` on the worker threads
    /// concurrently; every one is recorded when this returns. Then sets the
    /// in-flight gauge by Little's law: busy time / elapsed time.
    pub fn serve(&self, from: Duration, to: Duration) -> Result<(), PerfError> {
        let busy_ms = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..self.workers)
                .map(|worker| scope.spawn(move || self.work(from, to, worker)))
                .collect();
            workers
                .into_iter()
                .map(|w| w.join().expect("worker panicked"))
                .sum::<Result<f64, PerfError>>()
        })?;
        self.in_flight
            .set(busy_ms / (to - from).as_secs_f64() / 1e3)
    }

    /// Whether `request` (its number in the step) is turned away: every
    /// other one of a sheddable endpoint while emergency mode is on.
    fn sheds(&self, endpoint: &Endpoint, request: u64) -> bool {
        endpoint.spec.sheddable && request % 2 == 0 && self.emergency.is_active()
    }

    /// Worker `worker`'s share of `[from, to)`: every `workers`-th request of
    /// each endpoint, from its own seeded generator (reproducible runs).
    /// Returns the milliseconds spent serving.
    fn work(&self, from: Duration, to: Duration, worker: usize) -> Result<f64, PerfError> {
        let seed = from.as_millis() as u64 * self.workers as u64 + worker as u64;
        let mut rng = StdRng::seed_from_u64(seed);
        let mut busy_ms = 0.0;
        for endpoint in &self.endpoints {
            let slowdown = self.slow_spell.factor(endpoint.route(), from);
            let mine = (worker as u64..endpoint.arrivals(from, to)).step_by(self.workers);
            for request in mine {
                if self.sheds(endpoint, request) {
                    endpoint.shed.increment(1);
                    continue;
                }
                busy_ms += endpoint.serve(slowdown, &mut rng)?;
            }
        }
        Ok(busy_ms)
    }
}
