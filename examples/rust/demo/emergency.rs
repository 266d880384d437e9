//! The demo's emergency mode: switched on by the slow spell, consulted by
//! the service on every request to shed part of the slow route's load, and
//! switched off after the recovery. Its transitions are printed with their
//! reasons.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use perf_core::{
    EmergencyConfig, EmergencyTransition, Monitor, Op, PerfError, Severity, Target, Timestamp,
    Trigger, TriggerCondition,
};

use crate::alerting::SLOW_ENDPOINT;
use crate::service::LATENCY;

/// Any endpoint's p95 over 10 s above 800 ms for 5 s (with at least 100
/// requests in the window), or the slow-endpoint rule critical for 3 s;
/// off once both have been clear for 10 s, and not before 30 s in the mode.
pub fn config() -> EmergencyConfig {
    let slow = TriggerCondition::new(Target::percentile(LATENCY, 95.0), Op::Gt, 800.0)
        .window(Duration::from_secs(10))
        .min_samples(100);
    EmergencyConfig::default()
        .trigger(
            Trigger::condition(slow)
                .named("p95 > 800 ms")
                .for_duration(Duration::from_secs(5)),
        )
        .trigger(
            Trigger::rule(SLOW_ENDPOINT, Severity::Critical).for_duration(Duration::from_secs(3)),
        )
        .clear_for(Duration::from_secs(10))
        .min_dwell(Duration::from_secs(30))
}

/// Keeps every transition for [`EmergencyLog::print`].
pub struct EmergencyLog {
    start: Timestamp,
    received: Arc<Mutex<Vec<EmergencyTransition>>>,
}

impl EmergencyLog {
    /// Configures the monitor's emergency mode (its trigger rule must
    /// already be added) and listens to its transitions.
    pub fn new(monitor: &Monitor) -> Result<Self, PerfError> {
        monitor.configure_emergency(config())?;
        let received = Arc::new(Mutex::new(Vec::new()));
        let sink = received.clone();
        monitor
            .emergency()
            .subscribe(move |t| sink.lock().unwrap().push(t.clone()));
        Ok(EmergencyLog {
            start: monitor.now(),
            received,
        })
    }

    /// Prints the transitions, and how many requests were shed.
    pub fn print(&self, shed: u64) {
        crate::report::title(
            "Emergency mode (on: an endpoint's p95 over 10 s > 800 ms for 5 s, or slow-endpoint \
             critical for 3 s; off: all clear for 10 s, at least 30 s on); while on, the service \
             sheds half of /api/search:",
        );
        for t in self.received.lock().unwrap().iter() {
            let at = t.at.saturating_duration_since(self.start).as_secs_f64();
            println!(
                "{at:>6.1} s  {:<12} by {}: {}",
                t.change.as_str().to_uppercase(),
                t.source,
                t.reason
            );
            for value in &t.values {
                println!("            {value}");
            }
        }
        println!("Requests shed while on: {shed}");
    }
}
