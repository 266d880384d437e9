//! Rules driven by a `ManualClock`, through the public API only: `for`,
//! hysteresis, `clear_for`, the no-data policies, minimum sample counts,
//! severity ladders, every kind of target, tag matchers, adding and removing
//! rules — and a property test that the delivered event sequence of every
//! alert is valid for arbitrary value streams and rule parameters.
//!
//! Most scenarios read a histogram `lat{}` through a rule window of one
//! interval (1 s), so the reading of an evaluation at second `t` is exactly
//! what was recorded in second `t`: `Env::step(t, values)` moves the clock to
//! `t`, records `values` and evaluates.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use perf_core::{
    AlertEvent, AlertId, AlertKind, AlertState, ManualClock, Monitor, NoDataPolicy, Op, PerfError,
    RepeatIntervals, Rule, Severity, Statistic, Target, Timestamp,
};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn at(s: u64) -> Timestamp {
    Timestamp::from_secs(s)
}

/// A monitor on a manual clock standing at 0.
struct Env {
    clock: ManualClock,
    monitor: Monitor,
}

fn env() -> Env {
    let clock = ManualClock::new(Timestamp::ZERO);
    let monitor = Monitor::builder().clock(clock.clone()).build().unwrap();
    Env { clock, monitor }
}

impl Env {
    /// Moves to second `t`, records `values` into `lat{}` and evaluates.
    fn step(&self, t: u64, values: &[f64]) -> Vec<AlertEvent> {
        self.step_into("lat", &[], t, values)
    }

    /// Moves to second `t`, records `values` into `name{tags}` and evaluates.
    fn step_into(
        &self,
        name: &str,
        tags: &[(&str, &str)],
        t: u64,
        values: &[f64],
    ) -> Vec<AlertEvent> {
        self.clock.set(at(t));
        for &v in values {
            self.monitor.record(name, tags, v).unwrap();
        }
        let events = self.monitor.evaluate();
        // Subscribers run on the notification thread: wait for them.
        assert!(self.monitor.flush_notifications(Duration::from_secs(10)));
        events
    }

    /// `step(t, values)` for every `t` of `times`; all the events.
    fn steps(&self, times: impl IntoIterator<Item = u64>, values: &[f64]) -> Vec<AlertEvent> {
        times
            .into_iter()
            .flat_map(|t| self.step(t, values))
            .collect()
    }
}

/// `(kind, severity)` of each event.
fn kinds(events: &[AlertEvent]) -> Vec<(AlertKind, Severity)> {
    events.iter().map(|e| (e.kind, e.severity)).collect()
}

/// Mean of `lat` over one interval: the reading is the value of the step.
fn latency_rule(name: &str) -> Rule {
    Rule::new(name, Target::stat("lat", Statistic::Mean)).window(secs(1))
}

use AlertKind::*;
use Severity::{Critical, Info, Warning};

// ---------------------------------------------------------------------------
// `for`
// ---------------------------------------------------------------------------

#[test]
fn fires_only_after_the_condition_held_for_for() {
    let env = env();
    env.monitor
        .add_rule(
            latency_rule("slow")
                .level(Warning, 500.0)
                .for_duration(secs(60)),
        )
        .unwrap();
    // Pending from 0: nothing before 60 s, nothing listed as an alert.
    assert!(env.steps((0..60).step_by(10), &[600.0]).is_empty());
    assert!(env.monitor.alerts().is_empty());
    let events = env.step(60, &[600.0]);
    assert_eq!(kinds(&events), [(Fired, Warning)]);
    let fired = &events[0];
    assert_eq!(&*fired.rule, "slow");
    assert_eq!(fired.series.name(), "lat");
    assert_eq!((fired.value, fired.threshold), (Some(600.0), 500.0));
    assert_eq!((fired.at, fired.fired_at), (at(60), at(60)));
    assert_eq!(fired.previous_severity, None);
    let alerts = env.monitor.alerts();
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].id, fired.id);
    assert_eq!(alerts[0].state, AlertState::Firing);
    assert_eq!(alerts[0].last_notified, Some(at(60)));
    assert!(!alerts[0].acknowledged && !alerts[0].inhibited);
    // Still firing: no second Fired.
    assert!(env.steps([70, 80], &[600.0]).is_empty());
}

#[test]
fn a_break_in_the_condition_restarts_for() {
    let env = env();
    env.monitor
        .add_rule(
            latency_rule("slow")
                .level(Warning, 500.0)
                .for_duration(secs(60)),
        )
        .unwrap();
    assert!(env.steps((0..=50).step_by(10), &[600.0]).is_empty());
    // One reading below the threshold 5 s before `for` would have passed.
    assert!(env.step(55, &[100.0]).is_empty());
    // Pending again from 60: fires at 120, not at 60 or 115.
    assert!(env.steps((60..120).step_by(5), &[600.0]).is_empty());
    assert_eq!(kinds(&env.step(120, &[600.0])), [(Fired, Warning)]);
}

#[test]
fn for_zero_fires_at_the_first_reading() {
    let env = env();
    env.monitor
        .add_rule(latency_rule("slow").level(Warning, 500.0))
        .unwrap();
    assert!(env.step(0, &[500.0]).is_empty()); // not > 500
    assert_eq!(kinds(&env.step(1, &[500.5])), [(Fired, Warning)]);
}

#[test]
fn a_pending_alert_fires_at_the_highest_level_holding_when_for_passes() {
    let env = env();
    env.monitor
        .add_rule(
            latency_rule("slow")
                .level(Warning, 500.0)
                .level(Critical, 1000.0)
                .for_duration(secs(30)),
        )
        .unwrap();
    assert!(env.step(0, &[600.0]).is_empty());
    assert!(env.step(10, &[1500.0]).is_empty());
    assert!(env.step(20, &[700.0]).is_empty());
    // Both levels count towards `for` from 0; critical holds at 30.
    let events = env.step(30, &[1200.0]);
    assert_eq!(kinds(&events), [(Fired, Critical)]);
    assert_eq!(events[0].threshold, 1000.0);
}

// ---------------------------------------------------------------------------
// Hysteresis and `clear_for`
// ---------------------------------------------------------------------------

/// 120 s of a value alternating 520 / 480 around a 500 threshold.
fn flapping(env: &Env, from: u64) -> Vec<AlertEvent> {
    (from..from + 120)
        .flat_map(|t| env.step(t, &[if t % 2 == 0 { 520.0 } else { 480.0 }]))
        .collect()
}

#[test]
fn a_value_flapping_around_the_threshold_does_not_flap_alerts_under_hysteresis() {
    let env = env();
    env.monitor
        .add_rule(latency_rule("slow").level_with_clear(Warning, 500.0, 400.0))
        .unwrap();
    let events = flapping(&env, 0);
    assert_eq!(kinds(&events), [(Fired, Warning)]);
    assert_eq!(env.monitor.alerts()[0].state, AlertState::Firing);
    // Only past the clear threshold does it recover (and, with clear_for 0,
    // resolve).
    assert!(env.step(200, &[401.0]).is_empty());
    let events = env.step(201, &[400.0]);
    assert_eq!(kinds(&events), [(Recovered, Warning), (Resolved, Warning)]);
    assert_eq!(events[1].threshold, 400.0);
    assert_eq!(events[1].value, Some(400.0));
    assert!(env.monitor.alerts().is_empty());
}

#[test]
fn without_hysteresis_the_same_stream_flaps() {
    let env = env();
    env.monitor
        .add_rule(latency_rule("slow").level(Warning, 500.0))
        .unwrap();
    let events = flapping(&env, 0);
    let fired = events.iter().filter(|e| e.kind == Fired).count();
    assert_eq!(fired, 60);
    let ids: HashSet<AlertId> = events.iter().map(|e| e.id).collect();
    assert_eq!(ids.len(), 60, "each flap is a new alert");
}

#[test]
fn clear_for_resolves_only_after_the_clear_condition_held_that_long() {
    let env = env();
    env.monitor
        .add_rule(
            latency_rule("slow")
                .level_with_clear(Warning, 500.0, 400.0)
                .clear_for(secs(30)),
        )
        .unwrap();
    let id = env.step(0, &[600.0])[0].id;
    let events = env.step(10, &[100.0]);
    assert_eq!(kinds(&events), [(Recovered, Warning)]);
    assert_eq!((events[0].threshold, events[0].value), (400.0, Some(100.0)));
    let alert = &env.monitor.alerts()[0];
    assert_eq!((alert.id, alert.state), (id, AlertState::Recovering));
    assert!(env.steps([20, 30, 39], &[100.0]).is_empty());
    let events = env.step(40, &[100.0]);
    assert_eq!(kinds(&events), [(Resolved, Warning)]);
    assert_eq!(events[0].id, id);
    assert_eq!(events[0].fired_at, at(0));
    assert!(env.monitor.alerts().is_empty());
}

#[test]
fn a_relapse_during_clear_for_emits_relapsed_and_keeps_the_alert() {
    let env = env();
    env.monitor
        .add_rule(
            latency_rule("slow")
                .level_with_clear(Warning, 500.0, 400.0)
                .clear_for(secs(30)),
        )
        .unwrap();
    let id = env.step(0, &[600.0])[0].id;
    assert_eq!(kinds(&env.step(10, &[300.0])), [(Recovered, Warning)]);
    // 450 does not hold the level (> 500), but it does not clear it either
    // (> 400): the alert is firing again.
    let events = env.step(20, &[450.0]);
    assert_eq!(kinds(&events), [(Relapsed, Warning)]);
    assert_eq!((events[0].id, events[0].threshold), (id, 500.0));
    assert_eq!(env.monitor.alerts()[0].state, AlertState::Firing);
    // clear_for starts over from the next recovery.
    assert_eq!(kinds(&env.step(30, &[300.0])), [(Recovered, Warning)]);
    assert!(env.step(50, &[300.0]).is_empty());
    let events = env.step(60, &[300.0]);
    assert_eq!(kinds(&events), [(Resolved, Warning)]);
    assert_eq!(events[0].id, id);
}

// ---------------------------------------------------------------------------
// Severity ladders
// ---------------------------------------------------------------------------

#[test]
fn escalation_is_immediate_and_de_escalation_goes_through_clear_for() {
    let env = env();
    env.monitor
        .add_rule(
            latency_rule("slow")
                .level_with_clear(Warning, 500.0, 400.0)
                .level(Critical, 1000.0)
                .clear_for(secs(30)),
        )
        .unwrap();
    let id = env.step(0, &[600.0])[0].id;
    let events = env.step(1, &[1500.0]);
    assert_eq!(kinds(&events), [(Escalated, Critical)]);
    let e = &events[0];
    assert_eq!(
        (e.id, e.previous_severity, e.threshold),
        (id, Some(Warning), 1000.0)
    );
    assert_eq!(env.monitor.alerts()[0].severity, Critical);
    // 700 clears critical but still holds warning: recovering from critical.
    let events = env.step(2, &[700.0]);
    assert_eq!(kinds(&events), [(Recovered, Critical)]);
    assert_eq!(events[0].threshold, 1000.0);
    assert!(env.steps([10, 20, 31], &[700.0]).is_empty());
    let events = env.step(32, &[700.0]);
    assert_eq!(kinds(&events), [(DeEscalated, Warning)]);
    let e = &events[0];
    assert_eq!(
        (e.id, e.previous_severity, e.threshold),
        (id, Some(Critical), 500.0)
    );
    let alert = &env.monitor.alerts()[0];
    assert_eq!((alert.severity, alert.state), (Warning, AlertState::Firing));
    // Down the ladder, again through clear_for.
    assert_eq!(kinds(&env.step(40, &[300.0])), [(Recovered, Warning)]);
    assert_eq!(kinds(&env.step(70, &[300.0])), [(Resolved, Warning)]);
}

#[test]
fn de_escalation_lands_on_a_lower_level_still_held_by_its_hysteresis() {
    let env = env();
    env.monitor
        .add_rule(
            latency_rule("slow")
                .level_with_clear(Warning, 500.0, 400.0)
                .level(Critical, 1000.0),
        )
        .unwrap();
    assert_eq!(kinds(&env.step(0, &[1500.0])), [(Fired, Critical)]);
    // 450 holds no level, yet the warning has not cleared (> 400).
    let events = env.step(1, &[450.0]);
    assert_eq!(
        kinds(&events),
        [(Recovered, Critical), (DeEscalated, Warning)]
    );
    assert_eq!(
        kinds(&env.step(2, &[350.0])),
        [(Recovered, Warning), (Resolved, Warning)]
    );
}

#[test]
fn a_recovering_alert_escalates_at_once() {
    let env = env();
    env.monitor
        .add_rule(
            latency_rule("slow")
                .level(Info, 100.0)
                .level(Severity::Error, 500.0)
                .level(Critical, 1000.0)
                .clear_for(secs(60)),
        )
        .unwrap();
    assert_eq!(kinds(&env.step(0, &[200.0])), [(Fired, Info)]);
    assert_eq!(kinds(&env.step(1, &[50.0])), [(Recovered, Info)]);
    let events = env.step(2, &[2000.0]);
    assert_eq!(kinds(&events), [(Escalated, Critical)]);
    assert_eq!(events[0].previous_severity, Some(Info));
    assert_eq!(env.monitor.alerts()[0].state, AlertState::Firing);
}

// ---------------------------------------------------------------------------
// No data and minimum sample counts
// ---------------------------------------------------------------------------

#[test]
fn no_data_keep_last_changes_nothing_and_never_resolves() {
    let env = env();
    env.monitor
        .add_rule(
            latency_rule("slow")
                .level(Warning, 500.0)
                .clear_for(secs(30)),
        )
        .unwrap();
    let id = env.step(0, &[600.0])[0].id;
    // Ten minutes without a value: nothing at all.
    assert!(env.steps((1..=600).step_by(7), &[]).is_empty());
    let alert = &env.monitor.alerts()[0];
    assert_eq!((alert.id, alert.state), (id, AlertState::Firing));
    assert_eq!(alert.value, None, "the latest reading was no data");
    // Recovering, then a gap longer than clear_for: still recovering; the
    // clear_for clock kept running, so the next clearing value resolves.
    assert_eq!(kinds(&env.step(700, &[100.0])), [(Recovered, Warning)]);
    assert!(env.steps([710, 720, 740, 800], &[]).is_empty());
    assert_eq!(env.monitor.alerts()[0].state, AlertState::Recovering);
    let events = env.step(801, &[100.0]);
    assert_eq!(kinds(&events), [(Resolved, Warning)]);
    assert_eq!(events[0].value, Some(100.0));
}

#[test]
fn no_data_keep_last_keeps_a_pending_for_clock_running() {
    let env = env();
    env.monitor
        .add_rule(
            latency_rule("slow")
                .level(Warning, 500.0)
                .for_duration(secs(60)),
        )
        .unwrap();
    assert!(env.step(0, &[600.0]).is_empty());
    assert!(env.steps([10, 30, 59, 60, 90], &[]).is_empty());
    // The first value after the gap still holds: pending since 0, fires now.
    assert_eq!(kinds(&env.step(91, &[600.0])), [(Fired, Warning)]);
}

#[test]
fn no_data_keep_last_then_a_holding_value_relapses() {
    let env = env();
    env.monitor
        .add_rule(
            latency_rule("slow")
                .level(Warning, 500.0)
                .clear_for(secs(30)),
        )
        .unwrap();
    env.step(0, &[600.0]);
    env.step(1, &[100.0]);
    assert!(env.steps([10, 50], &[]).is_empty());
    assert_eq!(kinds(&env.step(60, &[700.0])), [(Relapsed, Warning)]);
}

#[test]
fn no_data_resolve_resolves_with_no_value_and_drops_pending() {
    let env = env();
    env.monitor
        .add_rule(
            latency_rule("slow")
                .level(Warning, 500.0)
                .clear_for(secs(300))
                .no_data(NoDataPolicy::Resolve),
        )
        .unwrap();
    let id = env.step(0, &[600.0])[0].id;
    let events = env.step(10, &[]);
    assert_eq!(kinds(&events), [(Resolved, Warning)]);
    assert_eq!((events[0].id, events[0].value), (id, None));
    assert!(env.monitor.alerts().is_empty());

    // Pending, then no data: the pending state is dropped, `for` restarts.
    env.monitor.remove_rule("slow");
    env.monitor
        .add_rule(
            latency_rule("slow")
                .level(Warning, 500.0)
                .for_duration(secs(30))
                .no_data(NoDataPolicy::Resolve),
        )
        .unwrap();
    assert!(env.step(100, &[600.0]).is_empty());
    assert!(env.step(110, &[]).is_empty());
    assert!(env.steps([120, 130, 140], &[600.0]).is_empty());
    assert_eq!(kinds(&env.step(150, &[600.0])), [(Fired, Warning)]);
}

#[test]
fn no_data_fire_fires_at_the_top_severity_after_for() {
    let env = env();
    env.monitor
        .add_rule(
            latency_rule("silent")
                .level(Warning, 500.0)
                .level(Critical, 1000.0)
                .for_duration(secs(60))
                .no_data(NoDataPolicy::Fire),
        )
        .unwrap();
    // The series exists but never receives a value.
    env.monitor.histogram("lat", &[]).unwrap();
    assert!(env.steps((0..60).step_by(10), &[]).is_empty());
    let events = env.step(60, &[]);
    assert_eq!(kinds(&events), [(Fired, Critical)]);
    assert_eq!((events[0].value, events[0].threshold), (None, 1000.0));
    // Values come back, below every level: recovered and resolved, with the
    // value that cleared it.
    let events = env.step(61, &[10.0]);
    assert_eq!(
        kinds(&events),
        [(Recovered, Critical), (Resolved, Critical)]
    );
    assert_eq!(events[1].value, Some(10.0));
}

#[test]
fn no_data_fire_escalates_a_firing_alert_to_the_top_severity() {
    let env = env();
    env.monitor
        .add_rule(
            latency_rule("silent")
                .level(Warning, 500.0)
                .level(Critical, 1000.0)
                .no_data(NoDataPolicy::Fire),
        )
        .unwrap();
    assert_eq!(kinds(&env.step(0, &[600.0])), [(Fired, Warning)]);
    let events = env.step(1, &[]);
    assert_eq!(kinds(&events), [(Escalated, Critical)]);
    assert_eq!(events[0].value, None);
}

#[test]
fn fewer_than_min_samples_counts_as_no_data() {
    let env = env();
    env.monitor
        .add_rule(latency_rule("slow").level(Warning, 500.0).min_samples(5))
        .unwrap();
    // Four slow values a second: not enough to judge.
    assert!(env.steps(0..10, &[900.0; 4]).is_empty());
    assert_eq!(kinds(&env.step(10, &[900.0; 5])), [(Fired, Warning)]);
    // Four fast values: still no data, so (keep last) still firing.
    assert!(env.steps(11..20, &[1.0; 4]).is_empty());
    assert_eq!(env.monitor.alerts().len(), 1);

    // Under `resolve`, too few samples resolve with no value.
    env.monitor
        .add_rule(
            Rule::new("slow-resolve", Target::stat("lat", Statistic::Mean))
                .window(secs(1))
                .level(Warning, 500.0)
                .min_samples(5)
                .no_data(NoDataPolicy::Resolve),
        )
        .unwrap();
    assert_eq!(kinds(&env.step(30, &[900.0; 5])), [(Fired, Warning)]);
    let events = env.step(31, &[900.0; 4]);
    assert_eq!(kinds(&events), [(Resolved, Warning)]);
    assert_eq!((&*events[0].rule, events[0].value), ("slow-resolve", None));
}

// ---------------------------------------------------------------------------
// Targets
// ---------------------------------------------------------------------------

#[test]
fn percentile_rule_over_a_window() {
    let env = env();
    env.monitor
        .add_rule(
            Rule::new("p95", Target::percentile("lat", 95.0))
                .window(secs(10))
                .level(Warning, 200.0),
        )
        .unwrap();
    // 100 fast requests: p95 is fast.
    assert!(env.step(0, &[20.0; 100]).is_empty());
    // 4 slow ones make 4 % (p95 still fast); a 6th slow one makes p95 slow.
    assert!(env.step(1, &[900.0; 4]).is_empty());
    let events = env.step(2, &[900.0; 2]);
    assert_eq!(kinds(&events), [(Fired, Warning)]);
    let p95 = events[0].value.unwrap();
    assert!((p95 - 900.0).abs() <= 9.0, "p95 {p95}");
    // Nothing recorded until 10: the 100 fast values of second 0 have left
    // the window (intervals 1..=10), only slow values remain.
    assert!(env.steps([5, 10], &[]).is_empty());
    // At 11 the four slow values of second 1 are gone; the two of second 2
    // are the top 2 of 32 values, p95 among them.
    assert!(env.step(11, &[20.0; 30]).is_empty());
    // At 12 they are gone too.
    let events = env.step(12, &[]);
    assert_eq!(kinds(&events), [(Recovered, Warning), (Resolved, Warning)]);
    assert!((events[1].value.unwrap() - 20.0).abs() <= 0.2);
}

#[test]
fn ratio_rule_error_rate_with_the_same_tags() {
    let env = env();
    env.monitor
        .add_rule(
            Rule::new("error-rate", Target::ratio("http.errors", "http.requests"))
                .window(secs(10))
                .level(Warning, 0.01)
                .level(Critical, 0.05),
        )
        .unwrap();
    let m = &env.monitor;
    let route = |r: &'static str| [("route", r)];
    let requests_a = m.counter("http.requests", &route("/a")).unwrap();
    let requests_b = m.counter("http.requests", &route("/b")).unwrap();
    let errors_a = m.counter("http.errors", &route("/a")).unwrap();
    let errors_b = m.counter("http.errors", &route("/b")).unwrap();
    let mut all = Vec::new();
    // /a: 0.5 % errors; /b: 2 % errors.
    for t in 0..20 {
        env.clock.set(at(t));
        requests_a.increment(200);
        errors_a.increment(1);
        requests_b.increment(100);
        errors_b.increment(2);
        all.extend(m.evaluate());
    }
    assert_eq!(kinds(&all), [(Fired, Warning)]);
    assert_eq!(all[0].series.tag("route"), Some("/b"));
    assert_eq!(all[0].series.name(), "http.errors");
    assert_eq!(all[0].value, Some(0.02));
    // /b at 10 % errors: the 10 s ratio rises past 5 % within the window.
    let mut all = Vec::new();
    for t in 20..30 {
        env.clock.set(at(t));
        requests_a.increment(200);
        requests_b.increment(100);
        errors_b.increment(10);
        all.extend(m.evaluate());
    }
    assert_eq!(kinds(&all), [(Escalated, Critical)]);
    // At 20 + j the window holds j + 1 seconds at 10 % and 9 - j at 2 %:
    // (28 + 8j) / 1000 errors, over 5 % from j = 3.
    assert_eq!(all[0].at, at(23));
    assert_eq!(all[0].value, Some(52.0 / 1000.0));
}

#[test]
fn ratio_rule_zero_denominator_is_no_data() {
    let env = env();
    env.monitor
        .add_rule(
            Rule::new("error-rate", Target::ratio("http.errors", "http.requests"))
                .window(secs(5))
                .level(Warning, 0.01),
        )
        .unwrap();
    env.monitor
        .add_rule(
            Rule::new(
                "error-rate-resolve",
                Target::ratio("http.errors", "http.requests"),
            )
            .window(secs(5))
            .level(Warning, 0.01)
            .no_data(NoDataPolicy::Resolve),
        )
        .unwrap();
    let m = &env.monitor;
    let errors = m.counter("http.errors", &[("route", "/x")]).unwrap();
    // Errors but no requests series at all: no data, not an infinite ratio.
    for t in 0..5 {
        env.clock.set(at(t));
        errors.increment(3);
        assert!(m.evaluate().is_empty());
    }
    // Requests that did not increase within the window: still no data.
    let requests = m.counter("http.requests", &[("route", "/x")]).unwrap();
    for t in 5..10 {
        env.clock.set(at(t));
        errors.increment(3);
        assert!(m.evaluate().is_empty());
    }
    // With requests, the ratio is a value.
    env.clock.set(at(10));
    requests.increment(100);
    let events = m.evaluate();
    // Window 6..=10: 12 errors over 100 requests.
    assert_eq!(events.len(), 2);
    assert!(events
        .iter()
        .all(|e| e.kind == Fired && e.value == Some(0.12)));
    // The requests stop (errors go on) for a whole window: keep_last keeps
    // the alert, resolve resolves it with no value once the last requests
    // (second 10) leave the window.
    let mut all = Vec::new();
    for t in 11..=15 {
        env.clock.set(at(t));
        errors.increment(3);
        all.extend(m.evaluate());
    }
    assert_eq!(kinds(&all), [(Resolved, Warning)]);
    assert_eq!((&*all[0].rule, all[0].value), ("error-rate-resolve", None));
    assert_eq!(all[0].at, at(15));
    let alerts = m.alerts();
    assert_eq!(alerts.len(), 1);
    assert_eq!(&*alerts[0].rule, "error-rate");
}

#[test]
fn counter_rate_rule() {
    let env = env();
    env.monitor
        .add_rule(
            Rule::new("failures", Target::rate("jobs.failed"))
                .window(secs(10))
                .level(Warning, 5.0),
        )
        .unwrap();
    let failed = env.monitor.counter("jobs.failed", &[]).unwrap();
    for t in 0..30 {
        env.clock.set(at(t));
        failed.increment(3);
        assert!(env.monitor.evaluate().is_empty(), "3/s at {t}");
    }
    // 10/s from 30: k seconds at 10 and 10 - k at 3 give (30 + 7k) / 10,
    // above 5/s from k = 3.
    let mut all = Vec::new();
    for t in 30..40 {
        env.clock.set(at(t));
        failed.increment(10);
        all.extend(env.monitor.evaluate());
    }
    assert_eq!(kinds(&all), [(Fired, Warning)]);
    assert_eq!((all[0].at, all[0].value), (at(32), Some(51.0 / 10.0)));
    // Nothing from 40: at 44 the window holds 35..=39 at 10/s, exactly 5/s,
    // which is not > 5.
    let mut all = Vec::new();
    for t in 40..=50 {
        env.clock.set(at(t));
        all.extend(env.monitor.evaluate());
    }
    assert_eq!(kinds(&all), [(Recovered, Warning), (Resolved, Warning)]);
    assert_eq!((all[1].at, all[1].value), (at(44), Some(5.0)));
}

#[test]
fn gauge_rule_with_less_than() {
    let clock = ManualClock::new(Timestamp::ZERO);
    // Gauges read no window: rules on them work without windows.
    let monitor = Monitor::builder()
        .clock(clock.clone())
        .windows(false)
        .build()
        .unwrap();
    monitor
        .add_rule(
            Rule::new("disk", Target::gauge("disk.free_gb"))
                .op(Op::Lt)
                .level_with_clear(Warning, 10.0, 12.0)
                .level(Critical, 5.0),
        )
        .unwrap();
    let free = monitor.gauge("disk.free_gb", &[("mount", "/")]).unwrap();
    let step = |v: f64| {
        clock.advance(secs(1));
        free.set(v).unwrap();
        kinds(&monitor.evaluate())
    };
    assert_eq!(step(20.0), []);
    assert_eq!(step(10.0), []); // not < 10
    assert_eq!(step(9.5), [(Fired, Warning)]);
    assert_eq!(step(4.0), [(Escalated, Critical)]);
    // 11 clears critical (not < 5) and holds warning by hysteresis (< 12).
    assert_eq!(step(11.0), [(Recovered, Critical), (DeEscalated, Warning)]);
    assert_eq!(step(11.9), []);
    assert_eq!(step(12.0), [(Recovered, Warning), (Resolved, Warning)]);
    let last = monitor.alert_history();
    assert_eq!(last.last().unwrap().threshold, 12.0);
    assert_eq!(last.last().unwrap().value, Some(12.0));
}

#[test]
fn a_rule_ignores_series_of_another_kind() {
    let env = env();
    env.monitor
        .add_rule(Rule::new("rate", Target::rate("lat")).level(Warning, 0.0))
        .unwrap();
    // `lat` is a histogram: a counter-rate rule does not apply to it.
    assert!(env.steps(0..5, &[100.0]).is_empty());
}

// ---------------------------------------------------------------------------
// Tag matchers and per-series state
// ---------------------------------------------------------------------------

#[test]
fn state_is_per_series() {
    let env = env();
    env.monitor
        .add_rule(
            latency_rule("slow")
                .level(Warning, 500.0)
                .clear_for(secs(5)),
        )
        .unwrap();
    // Moves to `t`, records `a` into lat{route=/a} and `b` into lat{route=/b}.
    let step = |t: u64, a: f64, b: f64| {
        env.clock.set(at(t));
        env.monitor.record("lat", &[("route", "/a")], a).unwrap();
        env.monitor.record("lat", &[("route", "/b")], b).unwrap();
        env.monitor.evaluate()
    };
    let events = step(0, 900.0, 10.0);
    assert_eq!(kinds(&events), [(Fired, Warning)]);
    assert_eq!(events[0].series.tag("route"), Some("/a"));
    let id_a = events[0].id;
    // /b becomes slow too: a second alert with its own id.
    let events = step(1, 900.0, 900.0);
    assert_eq!(kinds(&events), [(Fired, Warning)]);
    assert_eq!(events[0].series.tag("route"), Some("/b"));
    let id_b = events[0].id;
    assert_ne!(id_a, id_b);
    assert_eq!(env.monitor.alerts().len(), 2);
    // /a recovers and resolves; /b stays.
    let all: Vec<AlertEvent> = (2..=7).flat_map(|t| step(t, 10.0, 900.0)).collect();
    assert_eq!(kinds(&all), [(Recovered, Warning), (Resolved, Warning)]);
    assert!(all.iter().all(|e| e.id == id_a));
    assert_eq!((all[0].at, all[1].at), (at(2), at(7)));
    let alerts = env.monitor.alerts();
    assert_eq!(alerts.len(), 1);
    assert_eq!(
        (alerts[0].id, alerts[0].series.tag("route")),
        (id_b, Some("/b"))
    );
}

#[test]
fn tag_matchers_select_the_series_a_rule_applies_to() {
    let env = env();
    env.monitor
        .add_rule(
            latency_rule("prod-slow")
                .level(Warning, 500.0)
                .tag("env", "prod")
                .exclude_tag("route", "/health"),
        )
        .unwrap();
    let series: [&[(&str, &str)]; 5] = [
        &[("env", "prod"), ("route", "/a")],
        &[("env", "prod"), ("route", "/health")],
        &[("env", "staging"), ("route", "/a")],
        &[("route", "/a")],
        &[("env", "prod")], // no route tag: not excluded
    ];
    env.clock.set(at(5));
    for tags in series {
        env.monitor.record("lat", tags, 900.0).unwrap();
    }
    // A different metric with matching tags is not selected either.
    env.monitor
        .record("other", &[("env", "prod"), ("route", "/a")], 900.0)
        .unwrap();
    let events = env.monitor.evaluate();
    let mut fired: Vec<Vec<(String, String)>> = events
        .iter()
        .map(|e| {
            assert_eq!((e.kind, e.series.name()), (Fired, "lat"));
            e.series
                .tags()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect()
        })
        .collect();
    fired.sort();
    let expected = |tags: &[(&str, &str)]| -> Vec<(String, String)> {
        tags.iter()
            .map(|&(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    };
    assert_eq!(fired, [expected(series[4]), expected(series[0])]);
}

// ---------------------------------------------------------------------------
// Adding and removing rules
// ---------------------------------------------------------------------------

#[test]
fn add_rule_errors() {
    let env = env();
    let m = &env.monitor;
    // Invalid: no levels, naming the field.
    match m.add_rule(latency_rule("empty")) {
        Err(PerfError::InvalidRule { rule, field, .. }) => {
            assert_eq!((rule.as_str(), field.as_str()), ("empty", "levels"));
        }
        other => panic!("expected InvalidRule, got {other:?}"),
    }
    match m.add_rule(latency_rule("nan").level(Warning, f64::NAN)) {
        Err(PerfError::InvalidRule { field, .. }) => assert_eq!(field, "levels[0].threshold"),
        other => panic!("expected InvalidRule, got {other:?}"),
    }
    // Duplicate name.
    m.add_rule(latency_rule("slow").level(Warning, 1.0))
        .unwrap();
    assert_eq!(
        m.add_rule(latency_rule("slow").level(Critical, 2.0)),
        Err(PerfError::DuplicateRule {
            name: "slow".into()
        })
    );
    // A window longer than the retention (300 s by default).
    assert!(matches!(
        m.add_rule(latency_rule("long").window(secs(301)).level(Warning, 1.0)),
        Err(PerfError::InvalidWindow { window, .. }) if window == secs(301)
    ));
    m.add_rule(latency_rule("whole").window(secs(300)).level(Warning, 1.0))
        .unwrap();
    // Windows disabled: windowed targets cannot be read; gauges can.
    let no_windows = Monitor::builder().windows(false).build().unwrap();
    for target in [
        Target::percentile("lat", 95.0),
        Target::rate("c"),
        Target::ratio("e", "r"),
    ] {
        assert_eq!(
            no_windows.add_rule(Rule::new("w", target).level(Warning, 1.0)),
            Err(PerfError::WindowsDisabled)
        );
    }
    no_windows
        .add_rule(Rule::new("g", Target::gauge("g")).level(Warning, 1.0))
        .unwrap();
    // Failed additions added nothing.
    let names: Vec<String> = m.rules().into_iter().map(|r| r.name).collect();
    assert_eq!(names, ["slow", "whole"]);
}

#[test]
fn remove_rule_drops_its_alerts_without_notifying() {
    let env = env();
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = events.clone();
    env.monitor
        .subscribe(move |e| seen.lock().unwrap().push(e.clone()));
    env.monitor
        .add_rule(latency_rule("slow").level(Warning, 500.0))
        .unwrap();
    env.monitor
        .add_rule(
            Rule::new("other", Target::stat("lat2", Statistic::Mean))
                .window(secs(1))
                .level(Critical, 5000.0),
        )
        .unwrap();
    let id = env.step(0, &[900.0])[0].id;
    assert!(env.monitor.remove_rule("slow"));
    assert!(!env.monitor.remove_rule("slow"));
    assert!(env.monitor.alerts().is_empty());
    assert_eq!(
        env.monitor.acknowledge(id),
        Err(PerfError::UnknownAlert { id: id.0 })
    );
    assert!(env.steps(1..5, &[900.0]).is_empty());
    assert_eq!(events.lock().unwrap().len(), 1, "no resolve was sent");
    let names: Vec<String> = env.monitor.rules().into_iter().map(|r| r.name).collect();
    assert_eq!(names, ["other"]);
    // The remaining rule still evaluates, and the name can be reused.
    assert_eq!(
        kinds(&env.step_into("lat2", &[], 5, &[6000.0])),
        [(Fired, Critical)]
    );
    env.monitor
        .add_rule(latency_rule("slow").level(Warning, 500.0))
        .unwrap();
    let events = env.step(6, &[900.0]);
    assert_eq!(kinds(&events), [(Fired, Warning)]);
    assert_ne!(events[0].id, id, "a new alert, a new id");
}

// ---------------------------------------------------------------------------
// Property: delivered event sequences are valid
// ---------------------------------------------------------------------------

/// Rule parameters for the property test.
#[derive(Clone, Debug)]
struct Params {
    op: Op,
    /// `(severity, threshold, clear)`, lowest severity first.
    levels: Vec<(Severity, f64, Option<f64>)>,
    for_s: u64,
    clear_for_s: u64,
    min_samples: u64,
    no_data: NoDataPolicy,
    /// Repeat interval per severity, in seconds (`None`: the defaults).
    repeat: Option<[u64; 4]>,
}

impl Params {
    fn rule(&self) -> Rule {
        let mut rule = Rule::new("prop", Target::stat("lat", Statistic::Mean))
            .op(self.op)
            .window(secs(1))
            .for_duration(secs(self.for_s))
            .clear_for(secs(self.clear_for_s))
            .min_samples(self.min_samples)
            .no_data(self.no_data);
        for &(severity, threshold, clear) in &self.levels {
            rule = match clear {
                Some(clear) => rule.level_with_clear(severity, threshold, clear),
                None => rule.level(severity, threshold),
            };
        }
        if let Some(r) = self.repeat {
            let mut intervals = RepeatIntervals::default();
            for (s, secs_) in Severity::ALL.into_iter().zip(r) {
                intervals.set(s, secs(secs_));
            }
            rule = rule.repeat(intervals);
        }
        rule
    }

    fn repeat_interval(&self, severity: Severity) -> Duration {
        match self.repeat {
            Some(r) => secs(r[Severity::ALL.iter().position(|&s| s == severity).unwrap()]),
            None => RepeatIntervals::default().get(severity),
        }
    }

    fn level(&self, severity: Severity) -> (f64, f64) {
        let &(_, threshold, clear) = self
            .levels
            .iter()
            .find(|l| l.0 == severity)
            .expect("events name a severity of the ladder");
        (threshold, clear.unwrap_or(threshold))
    }

    fn holds(&self, v: f64, threshold: f64) -> bool {
        match self.op {
            Op::Gt => v > threshold,
            Op::Ge => v >= threshold,
            Op::Lt => v < threshold,
            Op::Le => v <= threshold,
        }
    }

    /// The highest severity whose level holds at `v`.
    fn hit(&self, v: f64) -> Option<Severity> {
        self.levels
            .iter()
            .rev()
            .find(|l| self.holds(v, l.1))
            .map(|l| l.0)
    }

    /// Whether the level of `severity` clears at `v`.
    fn clears(&self, severity: Severity, v: f64) -> bool {
        !self.holds(v, self.level(severity).1)
    }

    fn top(&self) -> Severity {
        self.levels.last().unwrap().0
    }

    /// The severity a reading holds (no data holds the top one under `fire`).
    fn reading_hit(&self, reading: Option<f64>) -> Option<Severity> {
        match reading {
            Some(v) => self.hit(v),
            None if self.no_data == NoDataPolicy::Fire => Some(self.top()),
            None => None,
        }
    }

    /// Whether a reading keeps a pending `for` clock running.
    fn supports(&self, reading: Option<f64>) -> bool {
        self.reading_hit(reading).is_some()
            || (reading.is_none() && self.no_data == NoDataPolicy::KeepLast)
    }
}

fn params() -> impl Strategy<Value = Params> {
    let op = prop_oneof![Just(Op::Gt), Just(Op::Ge), Just(Op::Lt), Just(Op::Le)];
    let severities = proptest::sample::subsequence(Severity::ALL.to_vec(), 1..=3);
    let steps = proptest::collection::vec((1u32..=6, proptest::option::of(0u32..=5)), 3);
    let no_data = prop_oneof![
        Just(NoDataPolicy::KeepLast),
        Just(NoDataPolicy::Resolve),
        Just(NoDataPolicy::Fire)
    ];
    let repeat = proptest::option::of(proptest::array::uniform4(prop_oneof![
        1 => Just(0u64),
        9 => 5u64..=600,
    ]));
    (
        op,
        severities,
        5u32..=25,
        steps,
        0u64..=120,
        0u64..=120,
        0u64..=3,
        no_data,
        repeat,
    )
        .prop_map(
            |(op, severities, base, steps, for_s, clear_for_s, min_samples, no_data, repeat)| {
                // Thresholds and values are multiples of 10, so readings
                // often sit exactly on a threshold (> versus >=).
                let upper = matches!(op, Op::Gt | Op::Ge);
                let base = if upper { base } else { base + 15 };
                let mut threshold = f64::from(base) * 10.0;
                let mut levels = Vec::new();
                for (i, severity) in severities.into_iter().enumerate() {
                    let (rise, clear_offset) = steps[i];
                    if i > 0 {
                        let d = f64::from(rise) * 10.0;
                        threshold += if upper { d } else { -d };
                    }
                    let clear = clear_offset.map(|o| {
                        let o = f64::from(o) * 10.0;
                        if upper {
                            threshold - o
                        } else {
                            threshold + o
                        }
                    });
                    levels.push((severity, threshold, clear));
                }
                Params {
                    op,
                    levels,
                    for_s,
                    clear_for_s,
                    min_samples,
                    no_data,
                    repeat,
                }
            },
        )
}

/// One step of the stream: advance the clock, record `copies` copies of
/// `value` (0: a gap), evaluate, maybe acknowledge the active alert.
#[derive(Clone, Debug)]
struct Step {
    advance_ms: u64,
    copies: u32,
    value: u32,
    acknowledge: bool,
}

fn stream() -> impl Strategy<Value = Vec<Step>> {
    let advance = prop_oneof![
        2 => 100u64..1_000,
        5 => 1_000u64..20_000,
        2 => 20_000u64..400_000,
    ];
    let copies = prop_oneof![1 => Just(0u32), 3 => 1u32..=3];
    let step = (advance, copies, 0u32..=50, proptest::bool::weighted(0.15)).prop_map(
        |(advance_ms, copies, value, acknowledge)| Step {
            advance_ms,
            copies,
            value: value * 10,
            acknowledge,
        },
    );
    proptest::collection::vec(step, 1..80)
}

/// What the checker knows of the active alert.
#[derive(Debug)]
struct Active {
    id: AlertId,
    severity: Severity,
    recovering_since: Option<Timestamp>,
    fired_at: Timestamp,
    last_notified: Timestamp,
    acknowledged: bool,
}

fn check_stream(params: &Params, steps: &[Step]) -> Result<(), TestCaseError> {
    let clock = ManualClock::new(Timestamp::ZERO);
    let monitor = Monitor::builder()
        .clock(clock.clone())
        .alert_history(1_000_000)
        .build()
        .unwrap();
    monitor.add_rule(params.rule()).unwrap();
    monitor.histogram("lat", &[]).unwrap(); // the series exists from the start
    let delivered = Arc::new(Mutex::new(Vec::new()));
    let sink = delivered.clone();
    monitor.subscribe(move |e| sink.lock().unwrap().push(e.clone()));

    let interval = |t: Timestamp| t.as_nanos() / 1_000_000_000;
    // Values recorded in the current interval: (interval, sum, count).
    let mut current = (u64::MAX, 0u64, 0u64);
    // Every evaluation: (time, reading).
    let mut readings: Vec<(Timestamp, Option<f64>)> = Vec::new();
    let mut active: Option<Active> = None;
    let mut seen = HashSet::new();
    let mut all_events = Vec::new();

    for (n, step) in steps.iter().enumerate() {
        clock.advance(Duration::from_millis(step.advance_ms));
        let now = monitor.now();
        for _ in 0..step.copies {
            monitor.record("lat", &[], f64::from(step.value)).unwrap();
        }
        if current.0 != interval(now) {
            current = (interval(now), 0, 0);
        }
        current.1 += u64::from(step.value) * u64::from(step.copies);
        current.2 += u64::from(step.copies);
        let reading =
            (current.2 >= params.min_samples.max(1)).then(|| current.1 as f64 / current.2 as f64);
        readings.push((now, reading));

        delivered.lock().unwrap().clear();
        let events = monitor.evaluate();
        prop_assert!(monitor.flush_notifications(Duration::from_secs(10)));
        prop_assert_eq!(
            &*delivered.lock().unwrap(),
            &events,
            "subscribers get what evaluate returns"
        );
        all_events.extend(events.iter().cloned());
        let ctx = || format!("step {n} at {now} reading {reading:?}, events {events:#?}");

        let was_active = active.is_some();
        let mut fired = false;
        for e in &events {
            prop_assert_eq!(e.at, now);
            prop_assert_eq!(&*e.rule, "prop");
            prop_assert_eq!(e.value, reading, "an event carries the reading: {}", ctx());
            let (threshold, clear) = params.level(e.severity);
            let expected_threshold = match e.kind {
                Recovered | Resolved => clear,
                _ => threshold,
            };
            prop_assert_eq!(e.threshold, expected_threshold, "{}", ctx());
            let Some(a) = active.as_mut() else {
                // No alert: the only possible event starts one.
                prop_assert_eq!(e.kind, Fired, "first event of an alert: {}", ctx());
                prop_assert!(seen.insert(e.id), "ids are unique: {}", ctx());
                prop_assert_eq!(e.fired_at, now);
                prop_assert_eq!(Some(e.severity), params.reading_hit(reading), "{}", ctx());
                fired = true;
                active = Some(Active {
                    id: e.id,
                    severity: e.severity,
                    recovering_since: None,
                    fired_at: now,
                    last_notified: now,
                    acknowledged: false,
                });
                continue;
            };
            prop_assert_eq!(e.id, a.id, "{}", ctx());
            prop_assert_eq!(e.fired_at, a.fired_at);
            match e.kind {
                Fired => prop_assert!(false, "fired twice: {}", ctx()),
                Escalated => {
                    prop_assert_eq!(e.previous_severity, Some(a.severity));
                    prop_assert!(e.severity > a.severity, "{}", ctx());
                    prop_assert_eq!(Some(e.severity), params.reading_hit(reading), "{}", ctx());
                    a.acknowledged = false;
                    a.recovering_since = None;
                }
                DeEscalated => {
                    prop_assert_eq!(e.previous_severity, Some(a.severity));
                    prop_assert!(e.severity < a.severity, "{}", ctx());
                    let since = a.recovering_since;
                    prop_assert!(since.is_some(), "de-escalated while firing: {}", ctx());
                    prop_assert!(
                        now - since.unwrap() >= secs(params.clear_for_s),
                        "{}",
                        ctx()
                    );
                    let v = reading.expect("no data never clears");
                    prop_assert!(!params.clears(e.severity, v), "{}", ctx());
                    a.recovering_since = None;
                }
                Recovered => {
                    prop_assert_eq!(e.severity, a.severity);
                    prop_assert!(a.recovering_since.is_none(), "recovered twice: {}", ctx());
                    let v = reading.expect("no data never clears");
                    prop_assert!(params.clears(a.severity, v), "{}", ctx());
                    a.recovering_since = Some(now);
                }
                Relapsed => {
                    prop_assert_eq!(e.severity, a.severity);
                    prop_assert!(
                        a.recovering_since.is_some(),
                        "relapsed without recovering: {}",
                        ctx()
                    );
                    if let Some(v) = reading {
                        prop_assert!(!params.clears(a.severity, v), "{}", ctx());
                    } else {
                        prop_assert_eq!(params.no_data, NoDataPolicy::Fire);
                    }
                    a.recovering_since = None;
                }
                Resolved => {
                    prop_assert_eq!(e.severity, a.severity);
                    match reading {
                        None => prop_assert_eq!(
                            params.no_data,
                            NoDataPolicy::Resolve,
                            "resolved for no data: {}",
                            ctx()
                        ),
                        Some(v) => {
                            let since = a.recovering_since;
                            prop_assert!(since.is_some(), "resolved while firing: {}", ctx());
                            prop_assert!(
                                now - since.unwrap() >= secs(params.clear_for_s),
                                "{}",
                                ctx()
                            );
                            for &(s, _, _) in params.levels.iter().filter(|l| l.0 <= a.severity) {
                                prop_assert!(params.clears(s, v), "{s} still holds: {}", ctx());
                            }
                        }
                    }
                    active = None;
                    continue;
                }
                Repeated => {
                    prop_assert_eq!(e.severity, a.severity);
                    prop_assert!(!a.acknowledged, "repeated while acknowledged: {}", ctx());
                    prop_assert_eq!(events.len(), 1, "a repeat comes alone: {}", ctx());
                    let interval = params.repeat_interval(a.severity);
                    prop_assert!(
                        now - a.last_notified >= interval,
                        "repeated early: {}",
                        ctx()
                    );
                }
            }
            if e.kind != Escalated && e.kind != DeEscalated {
                prop_assert_eq!(e.previous_severity, None);
            }
            a.severity = e.severity;
            // Every notification, `Recovered` included, restarts the
            // repeat interval.
            a.last_notified = now;
        }

        // Firing exactly when the condition held for `for`: since the first
        // holding reading of the run of readings that kept it pending.
        let hit = params.reading_hit(reading);
        let mut start = None;
        for &(t, r) in readings.iter().rev() {
            if !params.supports(r) {
                break;
            }
            if params.reading_hit(r).is_some() {
                start = Some(t);
            }
        }
        let due =
            !was_active && hit.is_some() && start.is_some_and(|s| now - s >= secs(params.for_s));
        prop_assert_eq!(fired, due, "fired iff held for `for`: {}", ctx());

        // The listing agrees with the events.
        let alerts = monitor.alerts();
        match &active {
            None => prop_assert!(alerts.is_empty(), "{}", ctx()),
            Some(a) => {
                prop_assert_eq!(alerts.len(), 1, "{}", ctx());
                let listed = &alerts[0];
                prop_assert_eq!(listed.id, a.id);
                prop_assert_eq!(listed.severity, a.severity);
                let state = if a.recovering_since.is_some() {
                    AlertState::Recovering
                } else {
                    AlertState::Firing
                };
                prop_assert_eq!(listed.state, state, "{}", ctx());
                prop_assert_eq!(listed.acknowledged, a.acknowledged);
                prop_assert_eq!(listed.value, reading);
                prop_assert!(!listed.inhibited);
                prop_assert_eq!(listed.last_notified, Some(a.last_notified));
                // A repeat is sent as soon as it is due, unless acknowledged.
                if events.is_empty() && !a.acknowledged {
                    let interval = params.repeat_interval(a.severity);
                    prop_assert!(
                        now - a.last_notified < interval,
                        "repeat missing: {}",
                        ctx()
                    );
                }
                // Escalation is immediate.
                if let Some(hit) = hit {
                    prop_assert!(a.severity >= hit, "not escalated: {}", ctx());
                }
                if let Some(v) = reading {
                    match a.recovering_since {
                        // Recovering no longer than clear_for on a value.
                        Some(since) => {
                            prop_assert!(now - since < secs(params.clear_for_s), "{}", ctx())
                        }
                        // Firing means the level has not cleared.
                        None => prop_assert!(!params.clears(a.severity, v), "{}", ctx()),
                    }
                }
            }
        }

        // Acknowledge at random points; unknown ids are refused.
        if step.acknowledge {
            if let Some(a) = active.as_mut() {
                prop_assert_eq!(monitor.acknowledge(a.id), Ok(()));
                a.acknowledged = true;
            }
            for &old in seen
                .iter()
                .filter(|&&id| Some(id) != active.as_ref().map(|a| a.id))
            {
                prop_assert_eq!(
                    monitor.acknowledge(old),
                    Err(PerfError::UnknownAlert { id: old.0 })
                );
            }
        }
    }
    prop_assert_eq!(monitor.alert_history(), all_events);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn delivered_event_sequences_are_valid(params in params(), steps in stream()) {
        check_stream(&params, &steps)?;
    }
}
