//! The demo's alerting: a latency rule evaluated every simulated second,
//! the alert events it raises, and a latency budget's report.
//!
//! The rule applies to every endpoint's latency series; its state is kept
//! per series, so only the endpoint with the slow spell alerts.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use perf_core::{
    AlertEvent, AlertKind, Budget, Monitor, PerfError, Rule, Severity, Target, Timestamp,
};

use crate::service::LATENCY;

/// The rule's name.
pub const SLOW_ENDPOINT: &str = "slow-endpoint";
/// The latency budget's name.
pub const API_BUDGET: &str = "api-latency";
/// How often the demo evaluates its rules.
const EVALUATE_EVERY: Duration = Duration::from_secs(1);

/// p95 over 10 s: warning above 300 ms (clearing below 200 ms), critical
/// above 600 ms; it must hold 5 s to fire and stay clear 10 s to resolve;
/// windows with fewer than 100 requests do not count.
pub fn latency_rule() -> Rule {
    Rule::new(SLOW_ENDPOINT, Target::percentile(LATENCY, 95.0))
        .level_with_clear(Severity::Warning, 300.0, 200.0)
        .level(Severity::Critical, 600.0)
        .window(Duration::from_secs(10))
        .for_duration(Duration::from_secs(5))
        .clear_for(Duration::from_secs(10))
        .min_samples(100)
        .description("an endpoint's p95 latency is high")
}

/// Every endpoint's p50 / p95 / p99 at most 50 / 250 / 500 ms over the run.
pub fn latency_budget() -> Budget {
    Budget::api_latency(API_BUDGET, LATENCY, 50.0, 250.0, 500.0)
}

/// Evaluates the rules once per simulated second and keeps each event for
/// [`Alerting::print`].
pub struct Alerting<'a> {
    monitor: &'a Monitor,
    start: Timestamp,
    next: Duration,
    /// Filled by the subscriber.
    received: Arc<Mutex<Vec<AlertEvent>>>,
}

impl<'a> Alerting<'a> {
    /// Adds the rule and the budget, and subscribes to the rule's events.
    pub fn new(monitor: &'a Monitor) -> Result<Self, PerfError> {
        monitor.add_rule(latency_rule())?;
        monitor.add_budget(latency_budget())?;
        let received = Arc::new(Mutex::new(Vec::new()));
        let sink = received.clone();
        monitor.subscribe(move |event| sink.lock().unwrap().push(event.clone()));
        Ok(Alerting {
            monitor,
            start: monitor.now(),
            next: EVALUATE_EVERY,
            received,
        })
    }

    /// Called after every simulation step; evaluates when due.
    pub fn observe(&mut self, elapsed: Duration) -> Result<(), PerfError> {
        if elapsed < self.next {
            return Ok(());
        }
        self.next += EVALUATE_EVERY;
        self.monitor.evaluate();
        Ok(())
    }

    /// Prints the events received, then the alerts still active.
    pub fn print(&self) {
        crate::report::title(&format!(
            "Alerts from rule {SLOW_ENDPOINT} (p95 over 10 s; warning > 300 ms, clear <= 200 ms; \
             critical > 600 ms; for 5 s; clear for 10 s), evaluated every second:"
        ));
        for event in self.received.lock().unwrap().iter() {
            println!("{}", self.describe(event));
        }
        println!("Active alerts at the end: {}", self.monitor.alerts().len());
    }

    /// Prints the budget report: every endpoint rated against the budget.
    pub fn print_budget(&self) {
        crate::report::title(&format!(
            "Budget {API_BUDGET} (p50 <= 50 ms, p95 <= 250 ms, p99 <= 500 ms, whole run); \
             headroom = limit - value:"
        ));
        print!("{}", self.monitor.budget_report());
    }

    fn describe(&self, e: &AlertEvent) -> String {
        let at = e.at.saturating_duration_since(self.start).as_secs_f64();
        let value = e
            .value
            .map_or("no data".to_owned(), |v| format!("{v:.0} ms"));
        let relation = match e.kind {
            AlertKind::Recovered | AlertKind::Resolved => "<=",
            _ => ">",
        };
        let severity = match e.previous_severity {
            Some(from) => format!("{from} -> {}", e.severity),
            None => e.severity.to_string(),
        };
        format!(
            "{at:>6.1} s  {:<12} {:<20} {}  p95 {value} {relation} {} ms",
            e.kind.as_str().to_uppercase(),
            severity,
            e.series,
            e.threshold
        )
    }
}
