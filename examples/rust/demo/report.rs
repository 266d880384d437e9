//! What the demo prints: an intro, a live timeline of the slow endpoint, and
//! per-endpoint tables. Everything is read back through the monitor by name
//! and tags, as a dashboard or an exporter would.

use std::time::Duration;

use perf_core::{Monitor, PerfError, Stats};

use crate::service::{
    Endpoint, Service, ERRORS, ERROR_STATUSES, IN_FLIGHT, LATENCY, REQUESTS, TIMEOUT_MS,
};

/// Milliseconds of p95 per `#` in the timeline's bars.
const BAR_UNIT_MS: f64 = 20.0;
/// Widths of the row labels (endpoint names, times) and of the cells.
const NAME_WIDTH: usize = 18;
const TIME_WIDTH: usize = 6;
const CELL_WIDTH: usize = 10;

pub fn intro(service: &Service, run: Duration) {
    let spell = service.slow_spell();
    println!(
        "perf-core demo: {} s of simulated traffic, {} endpoints, {} worker threads",
        run.as_secs(),
        service.endpoints.len(),
        service.workers()
    );
    println!(
        "slow spell: {} is {}x slower from {} s to {} s; requests time out after {TIMEOUT_MS} ms (504)",
        spell.route,
        spell.factor,
        spell.from.as_secs(),
        spell.until.as_secs()
    );
}

/// Every `every` of simulated time, one row about one endpoint over the
/// last `every`: p95 latency, error rate and the in-flight gauge.
pub struct Timeline<'a> {
    monitor: &'a Monitor,
    endpoint: &'a Endpoint,
    every: Duration,
    /// When the next row is due.
    next: Duration,
}

impl<'a> Timeline<'a> {
    /// A timeline of `endpoint`; prints its header.
    pub fn new(monitor: &'a Monitor, endpoint: &'a Endpoint, every: Duration) -> Self {
        title(&format!(
            "{}, every {} s over the last {} s (# = {BAR_UNIT_MS} ms of p95):",
            endpoint.name(),
            every.as_secs(),
            every.as_secs()
        ));
        print_header(TIME_WIDTH, "t", &["p95 ms", "err %", "in flight"]);
        Timeline {
            monitor,
            endpoint,
            every,
            next: every,
        }
    }

    /// Called after every simulation step; prints a row when one is due.
    pub fn observe(&mut self, elapsed: Duration) -> Result<(), PerfError> {
        if elapsed < self.next {
            return Ok(());
        }
        self.next += self.every;
        let tags = self.endpoint.tags();
        let latency = self.monitor.window_stats(LATENCY, &tags, self.every)?;
        let requests = self.monitor.counter_rate(REQUESTS, &tags, self.every)?;
        let errors: f64 = error_rates(self.monitor, self.endpoint, self.every)?
            .iter()
            .sum();
        let in_flight = self.monitor.gauge(IN_FLIGHT, &[])?.value();
        let cells = [
            ms(latency.p95),
            format!("{:.2}", percent(errors, requests)),
            format!("{in_flight:.1}"),
        ];
        let label = format!("{} s", elapsed.as_secs());
        println!("{}  {}", row(TIME_WIDTH, &label, &cells), bar(latency.p95));
        Ok(())
    }
}

/// Latency statistics per endpoint: cumulative (`window` = `None`) or over
/// the last `window`.
pub fn latency_table(
    monitor: &Monitor,
    service: &Service,
    window: Option<Duration>,
) -> Result<(), PerfError> {
    match window {
        None => title("Latency since start (ms):"),
        Some(w) => title(&format!("Latency over the last {} s (ms):", w.as_secs())),
    }
    print_header(
        NAME_WIDTH,
        "endpoint",
        &["count", "mean", "p50", "p90", "p95", "p99", "p99.9", "max"],
    );
    for endpoint in &service.endpoints {
        let tags = endpoint.tags();
        let stats = match window {
            None => monitor.stats(LATENCY, &tags)?,
            Some(w) => monitor.window_stats(LATENCY, &tags, w)?,
        };
        println!(
            "{}",
            row(NAME_WIDTH, &endpoint.name(), &latency_cells(&stats))
        );
    }
    Ok(())
}

/// Request and error rates per endpoint over the last `window`, and the
/// in-flight gauge.
pub fn traffic_table(
    monitor: &Monitor,
    service: &Service,
    window: Duration,
) -> Result<(), PerfError> {
    title(&format!(
        "Traffic over the last {} s (per second):",
        window.as_secs()
    ));
    let error_columns = ERROR_STATUSES.map(|status| format!("{status}/s"));
    let mut columns = vec!["requests"];
    columns.extend(error_columns.iter().map(String::as_str));
    columns.push("error %");
    print_header(NAME_WIDTH, "endpoint", &columns);
    for endpoint in &service.endpoints {
        let requests = monitor.counter_rate(REQUESTS, &endpoint.tags(), window)?;
        let errors = error_rates(monitor, endpoint, window)?;
        let total_errors: f64 = errors.iter().sum();
        let cells: Vec<String> = std::iter::once(format!("{requests:.1}"))
            .chain(errors.iter().map(|rate| format!("{rate:.2}")))
            .chain([format!("{:.2}", percent(total_errors, requests))])
            .collect();
        println!("{}", row(NAME_WIDTH, &endpoint.name(), &cells));
    }
    let in_flight = monitor.gauge(IN_FLIGHT, &[])?.value();
    println!("\nIn flight now: {in_flight:.1}");
    Ok(())
}

/// The endpoint's error rates per second over `window`, one per entry of
/// [`ERROR_STATUSES`].
fn error_rates(
    monitor: &Monitor,
    endpoint: &Endpoint,
    window: Duration,
) -> Result<Vec<f64>, PerfError> {
    ERROR_STATUSES
        .iter()
        .map(|status| monitor.counter_rate(ERRORS, &endpoint.error_tags(status), window))
        .collect()
}

fn latency_cells(s: &Stats) -> Vec<String> {
    std::iter::once(s.count.to_string())
        .chain([s.mean, s.p50, s.p90, s.p95, s.p99, s.p999, s.max].map(ms))
        .collect()
}

/// A latency in ms; statistics of an empty series are NaN, shown as `-`.
fn ms(value: f64) -> String {
    if value.is_nan() {
        "-".to_string()
    } else {
        format!("{value:.2}")
    }
}

fn percent(part: f64, whole: f64) -> f64 {
    if whole > 0.0 {
        100.0 * part / whole
    } else {
        0.0
    }
}

/// A section title, after a blank line.
pub fn title(text: &str) {
    println!("\n{text}");
}

fn print_header(label_width: usize, label: &str, columns: &[&str]) {
    let columns: Vec<String> = columns.iter().map(|c| c.to_string()).collect();
    println!("{}", row(label_width, label, &columns));
}

/// A table row: the label left-aligned in `label_width`, then the cells
/// right-aligned in columns of [`CELL_WIDTH`].
fn row(label_width: usize, label: &str, cells: &[String]) -> String {
    let cells: String = cells.iter().map(|c| format!("{c:>CELL_WIDTH$}")).collect();
    format!("  {label:<label_width$}{cells}")
}

/// A text bar for a p95, one `#` per [`BAR_UNIT_MS`].
fn bar(p95: f64) -> String {
    let len = (p95 / BAR_UNIT_MS).round().clamp(0.0, 60.0) as usize;
    "#".repeat(len)
}

/// An excerpt of the Prometheus exposition a scrape of this process would
/// get: the `# HELP` / `# TYPE` lines of the HTTP families and the first
/// samples of `route`.
pub fn exposition_excerpt(monitor: &Monitor, route: &str) {
    let text = monitor.export_prometheus();
    title(&format!(
        "Prometheus exposition (excerpt: {route}; {} lines in all):",
        text.lines().count()
    ));
    let label = format!("route=\"{route}\"");
    let wanted = |line: &&str| {
        (line.starts_with("# ") && line.contains("http_server_")) || line.contains(&label)
    };
    let lines: Vec<&str> = text.lines().filter(wanted).collect();
    for line in lines.iter().take(16) {
        println!("  {line}");
    }
    if lines.len() > 16 {
        println!("  … {} more lines for this route", lines.len() - 16);
    }
}
