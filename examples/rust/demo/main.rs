//! The perf-core demo: two minutes in the life of a small web service.
//!
//! Four endpoints with realistic latency distributions (lognormal bodies, a
//! rare heavy tail, a 2 s timeout answered with a 504) are served by several
//! worker threads that record concurrently into perf-core handles: a latency
//! histogram, request and error counters, an in-flight gauge. Partway
//! through, the search backend has a slow spell.
//!
//! Time is simulated with a [`ManualClock`] advanced in 100 ms steps; each
//! step's requests are all recorded before the clock moves on, so two
//! minutes of traffic take about a second and every number is reproducible
//! (seeded generators).
//!
//! Run it with `cargo run --release -p perf-examples --bin demo`.
//!
//! Layout, so later features slot in:
//! * this file — the scenario (endpoints, slow spell, run length) and the
//!   driver loop, with [`simulate`]'s per-step hook for anything that
//!   watches the service live;
//! * `service` — the simulated traffic and the instruments it records into;
//! * `report` — the timeline, the tables and an excerpt of the Prometheus
//!   exposition, read back through the monitor;
//! * `alerting` — a latency rule, its alert events, a latency budget;
//! * `emergency` — emergency mode switched by the slow spell.

mod alerting;
mod emergency;
mod report;
mod service;

use std::time::Duration;

use perf_core::{ManualClock, Monitor, PerfError, Timestamp};

use alerting::Alerting;
use emergency::EmergencyLog;
use report::Timeline;
use service::{EndpointSpec, Service, SlowSpell};

/// Simulated time per step.
const STEP: Duration = Duration::from_millis(100);
/// Simulated run length.
const RUN: Duration = Duration::from_secs(120);
/// Threads serving requests concurrently.
const WORKERS: usize = 4;
/// The window of the "recent" tables and of the rates.
const RECENT: Duration = Duration::from_secs(60);
/// Spacing (and window) of the timeline rows.
const TIMELINE_EVERY: Duration = Duration::from_secs(10);
/// Simulated wall-clock time at the start of the run.
const START: Timestamp = Timestamp::from_secs(1_700_000_000);

/// The search backend is 8x slower from 55 s to 80 s.
const SLOW_SPELL: SlowSpell = SlowSpell {
    route: "/api/search",
    from: Duration::from_secs(55),
    until: Duration::from_secs(80),
    factor: 8.0,
};

static ENDPOINTS: [EndpointSpec; 4] = [
    EndpointSpec {
        method: "GET",
        route: "/api/users",
        rate: 400.0,
        median_ms: 12.0,
        sigma: 0.35,
        tail_probability: 0.002,
        tail_factor: 15.0,
        error_probability: 0.001,
        sheddable: false,
    },
    EndpointSpec {
        method: "GET",
        route: "/api/search",
        rate: 150.0,
        median_ms: 45.0,
        sigma: 0.5,
        tail_probability: 0.005,
        tail_factor: 10.0,
        error_probability: 0.004,
        sheddable: true,
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
        sheddable: false,
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
        sheddable: false,
    },
];

fn main() -> Result<(), PerfError> {
    let clock = ManualClock::new(START);
    let monitor = Monitor::builder().clock(clock.clone()).build()?;
    let service = Service::new(&monitor, &ENDPOINTS, SLOW_SPELL, WORKERS)?;
    report::intro(&service, RUN);

    let slow = service
        .endpoint(service.slow_spell().route)
        .expect("the slow route is an endpoint");
    let mut timeline = Timeline::new(&monitor, slow, TIMELINE_EVERY);
    let mut alerting = Alerting::new(&monitor)?;
    let emergency = EmergencyLog::new(&monitor)?;
    simulate(&clock, &service, |elapsed| {
        timeline.observe(elapsed)?;
        alerting.observe(elapsed)
    })?;
    // Subscribers run on the monitor's notification thread: let them finish.
    monitor.flush_notifications(Duration::from_secs(10));
    alerting.print();
    emergency.print(service.shed());

    report::latency_table(&monitor, &service, None)?;
    report::latency_table(&monitor, &service, Some(RECENT))?;
    report::traffic_table(&monitor, &service, RECENT)?;
    alerting.print_budget();
    report::exposition_excerpt(&monitor, service.slow_spell().route);
    Ok(())
}

/// Runs [`RUN`] of simulated traffic in steps of [`STEP`]. After each step,
/// `after_step` sees the monitor with the simulated time elapsed so far:
/// the place for anything that watches the service live.
///
/// The clock stands at a step's start while its requests are served and
/// observed, and moves on only after that: every record lands in the right
/// window interval, and reads see a whole last interval, as a live service
/// reading mid-interval would (a read exactly on an interval boundary sees
/// an empty current interval).
fn simulate(
    clock: &ManualClock,
    service: &Service,
    mut after_step: impl FnMut(Duration) -> Result<(), PerfError>,
) -> Result<(), PerfError> {
    let steps = RUN.as_nanos() / STEP.as_nanos();
    for step in 0..steps as u32 {
        if step > 0 {
            clock.advance(STEP);
        }
        let from = STEP * step;
        service.serve(from, from + STEP)?;
        after_step(from + STEP)?;
    }
    Ok(())
}
