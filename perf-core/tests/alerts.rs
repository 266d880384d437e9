//! Notifications, through the public API: repeats per severity,
//! acknowledgement, inhibition, the alert history, subscribers (panicking
//! ones, and ones that call back into the monitor) and the background
//! evaluator's lifecycle.
//!
//! Most scenarios use gauge rules on a `ManualClock`: a gauge's reading is
//! its current value, so a scenario is "set the gauge, move the clock,
//! evaluate".

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use perf_core::{
    AlertEvent, AlertId, AlertKind, ManualClock, Monitor, PerfError, RepeatIntervals, Rule,
    Severity, Statistic, Target, Timestamp,
};

use AlertKind::*;
use Severity::{Critical, Warning};

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn at(s: u64) -> Timestamp {
    Timestamp::from_secs(s)
}

fn mins(m: u64) -> u64 {
    m * 60
}

/// `(kind, severity)` of each event.
fn kinds(events: &[AlertEvent]) -> Vec<(AlertKind, Severity)> {
    events.iter().map(|e| (e.kind, e.severity)).collect()
}

/// A monitor on a manual clock standing at 0, and what its subscriber got.
struct Env {
    clock: ManualClock,
    monitor: Monitor,
    delivered: Arc<Mutex<Vec<AlertEvent>>>,
}

fn env_with(builder: impl FnOnce(perf_core::MonitorBuilder) -> perf_core::MonitorBuilder) -> Env {
    let clock = ManualClock::new(Timestamp::ZERO);
    let monitor = builder(Monitor::builder().clock(clock.clone()))
        .build()
        .unwrap();
    let delivered = Arc::new(Mutex::new(Vec::new()));
    let sink = delivered.clone();
    monitor.subscribe(move |e| sink.lock().unwrap().push(e.clone()));
    Env {
        clock,
        monitor,
        delivered,
    }
}

fn env() -> Env {
    env_with(|b| b)
}

impl Env {
    /// Sets the gauge `name{}`.
    fn set(&self, name: &str, value: f64) {
        self.monitor.gauge(name, &[]).unwrap().set(value).unwrap();
    }

    /// Moves to second `t` and evaluates; checks that the subscriber got
    /// exactly what `evaluate` returned, once delivered.
    fn eval_at(&self, t: u64) -> Vec<AlertEvent> {
        self.clock.set(at(t));
        self.delivered.lock().unwrap().clear();
        let events = self.monitor.evaluate();
        assert!(self.monitor.flush_notifications(secs(10)));
        assert_eq!(*self.delivered.lock().unwrap(), events);
        events
    }

    /// Evaluates at every `t` of `times`; all the events.
    fn eval_over(&self, times: impl IntoIterator<Item = u64>) -> Vec<AlertEvent> {
        times.into_iter().flat_map(|t| self.eval_at(t)).collect()
    }
}

/// A gauge rule with one level per `(severity, threshold)`, `>`.
fn gauge_rule(name: &str, metric: &str, levels: &[(Severity, f64)]) -> Rule {
    levels
        .iter()
        .fold(Rule::new(name, Target::gauge(metric)), |rule, &(s, t)| {
            rule.level(s, t)
        })
}

/// The times of the `Repeated` events of rule `rule`.
fn repeats_of(events: &[AlertEvent], rule: &str) -> Vec<Timestamp> {
    events
        .iter()
        .filter(|e| e.kind == Repeated && &*e.rule == rule)
        .map(|e| e.at)
        .collect()
}

fn multiples(step: u64, upto: u64) -> Vec<Timestamp> {
    (1..=upto / step).map(|k| at(k * step)).collect()
}

// ---------------------------------------------------------------------------
// Repeats
// ---------------------------------------------------------------------------

#[test]
fn repeats_follow_the_default_interval_of_each_severity() {
    let env = env();
    for severity in Severity::ALL {
        let name = severity.as_str();
        env.monitor
            .add_rule(gauge_rule(name, name, &[(severity, 0.0)]))
            .unwrap();
        env.set(name, 1.0);
    }
    let fired = env.eval_at(0);
    assert_eq!(fired.len(), 4);
    assert!(fired.iter().all(|e| e.kind == Fired));
    // Evaluated every minute for 4 h 5 min.
    let horizon = mins(245);
    let events = env.eval_over((1..=horizon / 60).map(|k| k * 60));
    assert!(events.iter().all(|e| e.kind == Repeated));
    assert_eq!(repeats_of(&events, "critical"), multiples(mins(5), horizon));
    assert_eq!(repeats_of(&events, "error"), multiples(mins(15), horizon));
    assert_eq!(repeats_of(&events, "warning"), multiples(mins(60), horizon));
    assert_eq!(repeats_of(&events, "info"), multiples(mins(240), horizon));
    // A repeat carries the alert's id, severity, fire threshold and latest
    // value.
    let repeat = events.iter().find(|e| &*e.rule == "critical").unwrap();
    let first = fired.iter().find(|e| &*e.rule == "critical").unwrap();
    assert_eq!(repeat.id, first.id);
    assert_eq!(
        (repeat.severity, repeat.threshold, repeat.value),
        (Critical, 0.0, Some(1.0))
    );
    assert_eq!((repeat.at, repeat.fired_at), (at(300), at(0)));
    assert_eq!(
        env.monitor
            .alerts()
            .iter()
            .find(|a| &*a.rule == "critical")
            .unwrap()
            .last_notified,
        Some(at(mins(245)))
    );
}

#[test]
fn a_repeat_waits_for_the_next_evaluation_and_counts_from_it() {
    let env = env();
    env.monitor
        .add_rule(gauge_rule("hot", "temp", &[(Critical, 0.0)]))
        .unwrap();
    env.set("temp", 1.0);
    env.eval_at(0);
    // Evaluated every 7 minutes: each repeat is due at the first evaluation
    // 5 minutes after the previous notification.
    let events = env.eval_over((1..=6).map(|k| k * mins(7)));
    assert_eq!(repeats_of(&events, "hot"), multiples(mins(7), mins(42)));
    // Just before the interval: nothing.
    assert!(env.eval_at(mins(47) - 1).is_empty());
    assert_eq!(kinds(&env.eval_at(mins(47))), [(Repeated, Critical)]);
}

#[test]
fn repeat_intervals_come_from_the_builder_or_the_rule() {
    let mut fast = RepeatIntervals::default();
    fast.set(Critical, secs(60));
    let env = env_with(|b| b.repeat_intervals(fast));
    env.monitor
        .add_rule(gauge_rule("builder", "a", &[(Critical, 0.0)]))
        .unwrap();
    let mut slow = RepeatIntervals::default();
    slow.set(Critical, secs(600));
    env.monitor
        .add_rule(gauge_rule("own", "b", &[(Critical, 0.0)]).repeat(slow))
        .unwrap();
    env.set("a", 1.0);
    env.set("b", 1.0);
    assert_eq!(env.eval_at(0).len(), 2);
    let horizon = mins(20);
    let events = env.eval_over((1..=horizon / 30).map(|k| k * 30));
    assert_eq!(repeats_of(&events, "builder"), multiples(60, horizon));
    assert_eq!(repeats_of(&events, "own"), multiples(600, horizon));
}

#[test]
fn every_notification_restarts_the_repeat_interval() {
    let env = env();
    env.monitor
        .add_rule(
            gauge_rule("temp", "temp", &[(Warning, 10.0), (Critical, 20.0)])
                .clear_for(secs(mins(30))),
        )
        .unwrap();
    env.set("temp", 15.0);
    env.eval_at(0);
    // Escalated at 30 min: critical repeats every 5 min from there.
    env.set("temp", 25.0);
    assert_eq!(kinds(&env.eval_at(mins(30))), [(Escalated, Critical)]);
    let events = env.eval_over((31..=40).map(mins));
    assert_eq!(repeats_of(&events, "temp"), [at(mins(35)), at(mins(40))]);
    // Recovered at 42 min: the next repeat is 5 min after the recovery,
    // not 5 min after the last repeat.
    env.set("temp", 15.0);
    assert_eq!(kinds(&env.eval_at(mins(42))), [(Recovered, Critical)]);
    let events = env.eval_over((43..=50).map(mins));
    assert_eq!(repeats_of(&events, "temp"), [at(mins(47))]);
}

// ---------------------------------------------------------------------------
// Acknowledgement
// ---------------------------------------------------------------------------

fn every_minute() -> RepeatIntervals {
    let mut r = RepeatIntervals::default();
    for s in Severity::ALL {
        r.set(s, secs(60));
    }
    r
}

#[test]
fn acknowledgement_suppresses_repeats_but_not_escalation_which_clears_it() {
    let env = env_with(|b| b.repeat_intervals(every_minute()));
    env.monitor
        .add_rule(gauge_rule(
            "temp",
            "temp",
            &[(Warning, 10.0), (Critical, 20.0)],
        ))
        .unwrap();
    env.set("temp", 15.0);
    let id = env.eval_at(0)[0].id;
    assert_eq!(kinds(&env.eval_at(60)), [(Repeated, Warning)]);
    env.monitor.acknowledge(id).unwrap();
    assert!(env.monitor.alerts()[0].acknowledged);
    // Acknowledging twice is fine.
    env.monitor.acknowledge(id).unwrap();
    assert!(env.eval_over((2..=10).map(mins)).is_empty());
    // The escalation is notified although acknowledged, and ends the
    // acknowledgement: the new severity was not acknowledged.
    env.set("temp", 25.0);
    let events = env.eval_at(mins(11));
    assert_eq!(kinds(&events), [(Escalated, Critical)]);
    assert_eq!(events[0].id, id);
    assert!(!env.monitor.alerts()[0].acknowledged);
    assert_eq!(kinds(&env.eval_at(mins(12))), [(Repeated, Critical)]);
    // Acknowledged again; a de-escalation keeps it acknowledged (the lower
    // severity is less urgent than what was acknowledged).
    env.monitor.acknowledge(id).unwrap();
    assert!(env.eval_over((13..=15).map(mins)).is_empty());
    env.set("temp", 15.0);
    assert_eq!(
        kinds(&env.eval_at(mins(16))),
        [(Recovered, Critical), (DeEscalated, Warning)]
    );
    assert!(env.monitor.alerts()[0].acknowledged);
    assert!(env.eval_over((17..=20).map(mins)).is_empty());
}

#[test]
fn acknowledgement_ends_when_the_alert_resolves() {
    let env = env_with(|b| b.repeat_intervals(every_minute()));
    env.monitor
        .add_rule(gauge_rule("temp", "temp", &[(Warning, 10.0)]))
        .unwrap();
    env.set("temp", 15.0);
    let id = env.eval_at(0)[0].id;
    env.monitor.acknowledge(id).unwrap();
    assert!(env.eval_over((1..=3).map(mins)).is_empty());
    env.set("temp", 5.0);
    assert_eq!(
        kinds(&env.eval_at(mins(4))),
        [(Recovered, Warning), (Resolved, Warning)]
    );
    assert_eq!(
        env.monitor.acknowledge(id),
        Err(PerfError::UnknownAlert { id: id.0 })
    );
    // The next alert of the same (rule, series) is a new one, not
    // acknowledged: it repeats.
    env.set("temp", 15.0);
    let events = env.eval_at(mins(5));
    assert_eq!(kinds(&events), [(Fired, Warning)]);
    assert_ne!(events[0].id, id);
    assert!(!env.monitor.alerts()[0].acknowledged);
    assert_eq!(kinds(&env.eval_at(mins(6))), [(Repeated, Warning)]);
}

#[test]
fn acknowledging_an_unknown_alert_is_an_error() {
    let env = env();
    assert_eq!(
        env.monitor.acknowledge(AlertId(999)),
        Err(PerfError::UnknownAlert { id: 999 })
    );
    // Pending is not an alert yet either.
    env.monitor
        .add_rule(gauge_rule("temp", "temp", &[(Warning, 10.0)]).for_duration(secs(60)))
        .unwrap();
    env.set("temp", 15.0);
    assert!(env.eval_at(0).is_empty());
    assert!(env.monitor.alerts().is_empty());
    assert!(env.monitor.acknowledge(AlertId(1)).is_err());
}

// ---------------------------------------------------------------------------
// Inhibition
// ---------------------------------------------------------------------------

/// Two rules on `lat{}`: a warning on the mean, a critical on the max, both
/// over one interval.
fn two_rules(env: &Env) {
    env.monitor
        .add_rule(
            Rule::new("lat-warning", Target::stat("lat", Statistic::Mean))
                .window(secs(1))
                .level(Warning, 500.0),
        )
        .unwrap();
    env.monitor
        .add_rule(
            Rule::new("lat-critical", Target::stat("lat", Statistic::Max))
                .window(secs(1))
                .level(Critical, 1000.0),
        )
        .unwrap();
}

fn record_at(env: &Env, t: u64, values: &[f64]) -> Vec<AlertEvent> {
    env.clock.set(at(t));
    for &v in values {
        env.monitor.record("lat", &[], v).unwrap();
    }
    env.eval_at(t)
}

#[test]
fn a_critical_alert_inhibits_a_warning_on_the_same_series_until_it_resolves() {
    let mut fast = every_minute();
    fast.set(Critical, secs(3600));
    let env = env_with(|b| b.repeat_intervals(fast));
    two_rules(&env);
    // Both hold: only the critical is announced.
    let events = record_at(&env, 0, &[1200.0]);
    assert_eq!(kinds(&events), [(Fired, Critical)]);
    assert_eq!(&*events[0].rule, "lat-critical");
    let alerts = env.monitor.alerts();
    assert_eq!(alerts.len(), 2);
    let warning = alerts.iter().find(|a| &*a.rule == "lat-warning").unwrap();
    assert!(warning.inhibited);
    assert_eq!(warning.last_notified, None);
    let critical = alerts.iter().find(|a| &*a.rule == "lat-critical").unwrap();
    assert!(!critical.inhibited);
    // The inhibited warning neither announces nor repeats.
    let events: Vec<AlertEvent> = (1..=5)
        .flat_map(|k| record_at(&env, mins(k), &[1200.0]))
        .collect();
    assert!(events.is_empty(), "{events:#?}");
    // The critical resolves while the warning still holds: the warning is
    // announced as Fired (it fired at 0, announced now).
    let events = record_at(&env, mins(6), &[700.0]);
    let mut got = kinds(&events);
    got.sort_by_key(|&(k, _)| k.as_str());
    assert_eq!(
        got,
        [
            (Fired, Warning),
            (Recovered, Critical),
            (Resolved, Critical)
        ]
    );
    let fired = events.iter().find(|e| e.kind == Fired).unwrap();
    assert_eq!(&*fired.rule, "lat-warning");
    assert_eq!((fired.at, fired.fired_at), (at(mins(6)), at(0)));
    assert_eq!((fired.value, fired.threshold), (Some(700.0), 500.0));
    let alerts = env.monitor.alerts();
    assert_eq!(alerts.len(), 1);
    assert!(!alerts[0].inhibited);
    assert_eq!(alerts[0].id, fired.id);
    // From then on it repeats on its own interval.
    assert_eq!(
        kinds(&record_at(&env, mins(7), &[700.0])),
        [(Repeated, Warning)]
    );
}

#[test]
fn an_announced_warning_is_held_back_while_a_critical_is_active_but_its_resolve_is_sent() {
    let mut fast = every_minute();
    fast.set(Critical, secs(3600));
    let env = env_with(|b| b.repeat_intervals(fast));
    two_rules(&env);
    let events = record_at(&env, 0, &[600.0]);
    assert_eq!(kinds(&events), [(Fired, Warning)]);
    let warning_id = events[0].id;
    // A critical on the same series: the warning's repeats stop.
    let events = record_at(&env, 1, &[1200.0]);
    assert_eq!(kinds(&events), [(Fired, Critical)]);
    let events: Vec<AlertEvent> = (1..=5)
        .flat_map(|k| record_at(&env, mins(k), &[1200.0]))
        .collect();
    assert!(events.is_empty(), "{events:#?}");
    let warning = env
        .monitor
        .alerts()
        .into_iter()
        .find(|a| a.id == warning_id)
        .unwrap();
    assert!(warning.inhibited);
    assert_eq!(warning.last_notified, Some(at(0)));
    // The warning resolves (mean 307) while the critical holds (max 1200):
    // its subscribers saw it fire, so they see it resolve.
    let events = record_at(&env, mins(6), &[1200.0, 10.0, 10.0, 10.0]);
    assert_eq!(kinds(&events), [(Recovered, Warning), (Resolved, Warning)]);
    assert!(events.iter().all(|e| e.id == warning_id));
    assert_eq!(env.monitor.alerts().len(), 1);
}

#[test]
fn an_inhibited_alert_that_was_never_announced_resolves_silently() {
    let env = env();
    two_rules(&env);
    assert_eq!(kinds(&record_at(&env, 0, &[1200.0])), [(Fired, Critical)]);
    // Mean 307: the warning resolves, never having been announced.
    let events = record_at(&env, 1, &[1200.0, 10.0, 10.0, 10.0]);
    assert!(events.is_empty(), "{:?}", kinds(&events));
    let alerts = env.monitor.alerts();
    assert_eq!(alerts.len(), 1);
    assert_eq!(&*alerts[0].rule, "lat-critical");
    // When the critical resolves, nothing is announced for the warning.
    assert_eq!(
        kinds(&record_at(&env, 2, &[10.0])),
        [(Recovered, Critical), (Resolved, Critical)]
    );
    assert!(env.monitor.alerts().is_empty());
    assert!(env
        .monitor
        .alert_history()
        .iter()
        .all(|e| &*e.rule == "lat-critical"));
}

#[test]
fn removing_the_inhibiting_rule_announces_the_inhibited_alert() {
    let env = env();
    two_rules(&env);
    assert_eq!(kinds(&record_at(&env, 0, &[1200.0])), [(Fired, Critical)]);
    assert!(env.monitor.remove_rule("lat-critical"));
    let events = record_at(&env, 1, &[1200.0]);
    assert_eq!(kinds(&events), [(Fired, Warning)]);
    assert_eq!(
        (&*events[0].rule, events[0].fired_at),
        ("lat-warning", at(0))
    );
}

#[test]
fn inhibition_is_per_series() {
    let env = env();
    two_rules(&env);
    env.clock.set(at(0));
    env.monitor
        .record("lat", &[("route", "/a")], 1200.0)
        .unwrap();
    env.monitor
        .record("lat", &[("route", "/b")], 600.0)
        .unwrap();
    let events = env.eval_at(0);
    let mut got: Vec<(&str, Option<&str>)> = events
        .iter()
        .map(|e| (&*e.rule, e.series.tag("route")))
        .collect();
    got.sort();
    // /a: critical (its warning inhibited); /b: warning.
    assert_eq!(
        got,
        [("lat-critical", Some("/a")), ("lat-warning", Some("/b"))]
    );
    assert!(events.iter().all(|e| e.kind == Fired));
    let inhibited: Vec<_> = env
        .monitor
        .alerts()
        .into_iter()
        .filter(|a| a.inhibited)
        .map(|a| (a.rule, a.series.tag("route").map(str::to_owned)))
        .collect();
    assert_eq!(inhibited, [("lat-warning".into(), Some("/a".to_owned()))]);
}

// ---------------------------------------------------------------------------
// History
// ---------------------------------------------------------------------------

/// Flips the gauge `temp` over and under 10 `n` times, evaluating each time.
fn flip(env: &Env, n: u64) -> Vec<AlertEvent> {
    (0..n)
        .flat_map(|k| {
            env.set("temp", if k % 2 == 0 { 15.0 } else { 5.0 });
            env.eval_at(k)
        })
        .collect()
}

#[test]
fn the_alert_history_is_bounded() {
    let small = env_with(|b| b.alert_history(4));
    small
        .monitor
        .add_rule(gauge_rule("temp", "temp", &[(Warning, 10.0)]))
        .unwrap();
    let all = flip(&small, 6); // 3 × (fired, recovered, resolved)
    assert_eq!(all.len(), 9);
    assert_eq!(small.monitor.alert_history(), all[5..]);

    let none = env_with(|b| b.alert_history(0));
    none.monitor
        .add_rule(gauge_rule("temp", "temp", &[(Warning, 10.0)]))
        .unwrap();
    assert_eq!(flip(&none, 6).len(), 9);
    assert!(none.monitor.alert_history().is_empty());

    let default = env();
    default
        .monitor
        .add_rule(gauge_rule("temp", "temp", &[(Warning, 10.0)]))
        .unwrap();
    let all = flip(&default, 1_000);
    assert_eq!(all.len(), 1_500);
    assert_eq!(default.monitor.alert_history(), all[500..]);
}

// ---------------------------------------------------------------------------
// Subscribers
// ---------------------------------------------------------------------------

#[test]
fn a_panicking_subscriber_does_not_stop_the_others_and_is_counted() {
    let env = env();
    env.monitor
        .add_rule(gauge_rule("a", "a", &[(Warning, 10.0)]))
        .unwrap();
    env.monitor
        .add_rule(gauge_rule("b", "b", &[(Warning, 10.0)]))
        .unwrap();
    let before = Arc::new(Mutex::new(Vec::new()));
    let after = Arc::new(Mutex::new(Vec::new()));
    let sink = before.clone();
    env.monitor
        .subscribe(move |e| sink.lock().unwrap().push(e.kind));
    let panicking = env
        .monitor
        .subscribe(|e| panic!("subscriber failure on {}", e.kind));
    let sink = after.clone();
    env.monitor
        .subscribe(move |e| sink.lock().unwrap().push(e.kind));
    assert_eq!(env.monitor.subscriber_panics(), 0);

    env.set("a", 15.0);
    env.set("b", 15.0);
    let events = env.eval_at(0);
    assert_eq!(events.len(), 2, "the evaluation itself is unaffected");
    assert_eq!(*before.lock().unwrap(), [Fired, Fired]);
    assert_eq!(*after.lock().unwrap(), [Fired, Fired]);
    assert_eq!(env.monitor.subscriber_panics(), 2, "one per call");
    // The engine goes on: the next evaluation is delivered as well.
    env.set("a", 5.0);
    assert_eq!(env.eval_at(1).len(), 2);
    assert_eq!(after.lock().unwrap().len(), 4);
    assert_eq!(env.monitor.subscriber_panics(), 4);
    // Without it, nothing more is counted.
    assert!(env.monitor.unsubscribe(panicking));
    assert!(!env.monitor.unsubscribe(panicking));
    env.set("a", 15.0);
    assert_eq!(env.eval_at(2).len(), 1);
    assert_eq!(after.lock().unwrap().len(), 5);
    assert_eq!(env.monitor.subscriber_panics(), 4);
}

/// Runs `f` on another thread; fails if it does not finish within 10 s (a
/// deadlock).
fn within_deadline<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(secs(10))
        .unwrap_or_else(|_| panic!("{what}: no answer within 10 s (deadlock?)"))
}

#[test]
fn a_subscriber_may_call_back_into_the_monitor() {
    let env = env();
    env.monitor
        .add_rule(gauge_rule("temp", "temp", &[(Warning, 10.0)]))
        .unwrap();
    let m = env.monitor.clone();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let id = env.monitor.subscribe(move |e| {
        // The evaluation's state is committed: the alert is listed.
        let listed = m.alerts().iter().any(|a| a.id == e.id);
        let acknowledged = m.acknowledge(e.id);
        let nested = m.evaluate();
        let history = m.alert_history().len();
        log.lock()
            .unwrap()
            .push((e.kind, listed, acknowledged, nested.len(), history));
    });
    env.set("temp", 15.0);
    let monitor = env.monitor.clone();
    let events = within_deadline("evaluate", move || monitor.evaluate());
    assert_eq!(kinds(&events), [(Fired, Warning)]);
    assert!(env.monitor.flush_notifications(secs(10)));
    assert_eq!(*seen.lock().unwrap(), [(Fired, true, Ok(()), 0, 1)]);
    assert!(env.monitor.alerts()[0].acknowledged);
    // Recovered and resolved in one evaluation: subscribers run after it
    // is committed, so from both callbacks the alert is gone.
    env.set("temp", 5.0);
    env.clock.advance(secs(1));
    let monitor = env.monitor.clone();
    within_deadline("evaluate", move || monitor.evaluate());
    assert!(env.monitor.flush_notifications(secs(10)));
    let unknown = Err(PerfError::UnknownAlert { id: events[0].id.0 });
    assert_eq!(
        seen.lock().unwrap()[1..],
        [
            (Recovered, false, unknown.clone(), 0, 3),
            (Resolved, false, unknown, 0, 3)
        ]
    );
    // Break the cycle (the subscriber holds a clone of the monitor).
    assert!(env.monitor.unsubscribe(id));
}

// ---------------------------------------------------------------------------
// The background evaluator
// ---------------------------------------------------------------------------

/// Serializes the tests that start evaluator threads, so thread counts are
/// theirs alone.
static EVALUATORS: Mutex<()> = Mutex::new(());

fn evaluator_lock() -> std::sync::MutexGuard<'static, ()> {
    EVALUATORS.lock().unwrap_or_else(|e| e.into_inner())
}

/// The number of live evaluator threads of this process (`None` where that
/// cannot be told).
fn evaluator_threads() -> Option<usize> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    let tasks = std::fs::read_dir("/proc/self/task").ok()?;
    Some(
        tasks
            .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
            // Thread names are cut to 15 bytes: "perf-core-evalu".
            .filter(|name| "perf-core-evaluator".starts_with(name.trim_end()))
            .filter(|name| name.trim_end().len() >= 15)
            .count(),
    )
}

/// Polls `condition` every millisecond until it holds or `deadline` passes.
fn eventually(what: &str, deadline: Duration, mut condition: impl FnMut() -> bool) {
    let start = Instant::now();
    while !condition() {
        assert!(
            start.elapsed() < deadline,
            "{what}: not within {deadline:?}"
        );
        thread::sleep(Duration::from_millis(1));
    }
}

fn hot_monitor() -> Monitor {
    let monitor = Monitor::builder().build().unwrap(); // SystemClock
    monitor
        .add_rule(gauge_rule("hot", "temp", &[(Warning, 50.0)]))
        .unwrap();
    monitor.gauge("temp", &[]).unwrap().set(80.0).unwrap();
    monitor
}

#[test]
fn the_background_evaluator_fires_subscribers_and_stop_joins_it() {
    let _serial = evaluator_lock();
    let monitor = hot_monitor();
    let (tx, rx) = mpsc::channel();
    monitor.subscribe(move |e| {
        let _ = tx.send((e.kind, thread::current().name().map(str::to_owned)));
    });
    assert!(!monitor.is_evaluating());
    monitor.start(Duration::from_millis(10)).unwrap();
    assert!(monitor.is_evaluating());
    let (kind, thread_name) = rx
        .recv_timeout(secs(10))
        .expect("an evaluation within 10 s");
    assert_eq!(kind, Fired);
    assert_eq!(thread_name.as_deref(), Some("perf-core-notify"));
    if evaluator_threads().is_some() {
        eventually("one evaluator thread", secs(10), || {
            evaluator_threads() == Some(1)
        });
    }
    monitor.stop();
    assert!(!monitor.is_evaluating());
    // Joined: the thread is gone, and nothing evaluates any more.
    if evaluator_threads().is_some() {
        eventually("the evaluator thread ends", secs(10), || {
            evaluator_threads() == Some(0)
        });
    }
    monitor.gauge("temp", &[]).unwrap().set(0.0).unwrap();
    thread::sleep(Duration::from_millis(100));
    assert!(rx.try_recv().is_err(), "evaluated after stop()");
    assert_eq!(monitor.alerts().len(), 1);
    // A manual evaluation still works, and sees the change.
    assert_eq!(
        kinds(&monitor.evaluate()),
        [(Recovered, Warning), (Resolved, Warning)]
    );
    assert!(monitor.flush_notifications(secs(10)));
    let delivered: Vec<AlertKind> = rx.try_iter().map(|(kind, _)| kind).collect();
    assert_eq!(delivered, [Recovered, Resolved]);
    // Stopping again does nothing; restarting works.
    monitor.stop();
    monitor.gauge("temp", &[]).unwrap().set(80.0).unwrap();
    monitor.start(Duration::from_millis(10)).unwrap();
    let (kind, _) = rx
        .recv_timeout(secs(10))
        .expect("an evaluation within 10 s");
    assert_eq!(kind, Fired);
    monitor.stop();
    if evaluator_threads().is_some() {
        eventually("the evaluator thread ends", secs(10), || {
            evaluator_threads() == Some(0)
        });
    }
}

#[test]
fn start_replaces_a_running_evaluator_and_rejects_tiny_intervals() {
    let _serial = evaluator_lock();
    let monitor = hot_monitor();
    assert!(matches!(
        monitor.start(Duration::from_micros(100)),
        Err(PerfError::InvalidConfig(_))
    ));
    assert!(!monitor.is_evaluating());
    monitor.start(Duration::from_millis(10)).unwrap();
    monitor.start(Duration::from_millis(20)).unwrap();
    if evaluator_threads().is_some() {
        eventually("one evaluator thread", secs(10), || {
            evaluator_threads() == Some(1)
        });
    }
    monitor.stop();
    if evaluator_threads().is_some() {
        eventually("no evaluator thread", secs(10), || {
            evaluator_threads() == Some(0)
        });
    }
}

#[test]
fn dropping_the_monitor_without_stop_ends_the_evaluator() {
    let _serial = evaluator_lock();
    let monitor = hot_monitor();
    // The subscriber holds a token: once the monitor is gone, the subscriber
    // is dropped with it and the token's count falls back to 1.
    let token = Arc::new(());
    let held = token.clone();
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let (tx, rx) = mpsc::channel();
    monitor.subscribe(move |e| {
        let _keep = &held;
        counter.fetch_add(1, Ordering::SeqCst);
        let _ = tx.send(e.kind);
    });
    monitor.start(Duration::from_millis(10)).unwrap();
    assert_eq!(rx.recv_timeout(secs(10)), Ok(Fired));
    let clone = monitor.clone();
    drop(monitor);
    // A clone keeps it running.
    assert!(clone.is_evaluating());
    drop(clone);
    eventually("the monitor is released", secs(10), || {
        Arc::strong_count(&token) == 1
    });
    if evaluator_threads().is_some() {
        eventually("the evaluator thread ends", secs(10), || {
            evaluator_threads() == Some(0)
        });
    }
    let n = calls.load(Ordering::SeqCst);
    thread::sleep(Duration::from_millis(50));
    assert_eq!(calls.load(Ordering::SeqCst), n);
}

#[test]
fn a_subscriber_may_stop_the_evaluator_or_evaluate() {
    let _serial = evaluator_lock();
    let monitor = hot_monitor();
    let m = monitor.clone();
    let (tx, rx) = mpsc::channel();
    let id = monitor.subscribe(move |e| {
        let nested = m.evaluate();
        let listed = m.alerts().len();
        let acknowledged = m.acknowledge(e.id).is_ok();
        m.stop(); // on the notification thread: joins the evaluator
        let _ = tx.send((e.kind, nested.len(), listed, acknowledged));
    });
    monitor.start(Duration::from_millis(10)).unwrap();
    assert_eq!(rx.recv_timeout(secs(10)), Ok((Fired, 0, 1, true)));
    eventually("stopped", secs(10), || !monitor.is_evaluating());
    if evaluator_threads().is_some() {
        eventually("the evaluator thread ends", secs(10), || {
            evaluator_threads() == Some(0)
        });
    }
    assert!(monitor.unsubscribe(id));
}

#[test]
fn a_blocking_subscriber_delays_neither_evaluation_nor_emergency_mode() {
    let env = env();
    env.monitor
        .add_rule(gauge_rule("temp", "temp", &[(Warning, 10.0)]))
        .unwrap();
    let hot = perf_core::TriggerCondition::new(Target::gauge("temp"), perf_core::Op::Gt, 10.0);
    env.monitor
        .configure_emergency(
            perf_core::EmergencyConfig::default().trigger(perf_core::Trigger::condition(hot)),
        )
        .unwrap();
    let (release, blocked) = mpsc::channel::<()>();
    let blocked = Mutex::new(blocked);
    env.monitor.subscribe(move |_| {
        // Blocks until the test lets go (at most 10 s).
        let _ = blocked.lock().unwrap().recv_timeout(secs(10));
    });
    env.set("temp", 15.0);
    for t in 0..5 {
        env.clock.set(at(t));
        let started = Instant::now();
        let monitor = env.monitor.clone();
        within_deadline("evaluate", move || monitor.evaluate());
        assert!(
            started.elapsed() < Duration::from_millis(500),
            "evaluation {t} waited {:?}",
            started.elapsed()
        );
    }
    assert!(env.monitor.emergency().is_active(), "switched on at once");
    assert!(!env.monitor.flush_notifications(Duration::from_millis(50)));
    release.send(()).unwrap();
    assert!(env.monitor.flush_notifications(secs(10)));
}

#[test]
fn unsubscribe_waits_for_a_delivery_in_progress() {
    let env = env();
    env.monitor
        .add_rule(gauge_rule("temp", "temp", &[(Warning, 10.0)]))
        .unwrap();
    let (started_tx, started) = mpsc::channel();
    let started_tx = Mutex::new(started_tx);
    let finished = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let done = finished.clone();
    let id = env.monitor.subscribe(move |_| {
        started_tx.lock().unwrap().send(()).unwrap();
        thread::sleep(Duration::from_millis(300));
        done.store(true, Ordering::SeqCst);
    });
    env.set("temp", 15.0);
    env.monitor.evaluate();
    started.recv_timeout(secs(10)).unwrap();
    assert!(env.monitor.unsubscribe(id));
    // Once unsubscribe returns, the callback is not running.
    assert!(finished.load(Ordering::SeqCst));
    // A callback may unsubscribe itself without waiting for itself.
    let m = env.monitor.clone();
    let own = Arc::new(Mutex::new(None));
    let own_id = own.clone();
    let id = env.monitor.subscribe(move |_| {
        if let Some(id) = own_id.lock().unwrap().take() {
            assert!(m.unsubscribe(id));
        }
    });
    *own.lock().unwrap() = Some(id);
    env.set("temp", 5.0);
    env.clock.advance(secs(1));
    env.monitor.evaluate();
    assert!(env.monitor.flush_notifications(secs(10)));
    assert!(
        own.lock().unwrap().is_none(),
        "the callback ran and unsubscribed"
    );
}

#[test]
fn a_full_notification_queue_drops_and_counts_without_waiting() {
    let clock = ManualClock::new(Timestamp::ZERO);
    let monitor = Monitor::builder()
        .clock(clock.clone())
        .notification_capacity(2)
        .build()
        .unwrap();
    for i in 0..10 {
        let name = format!("temp{i}");
        monitor
            .add_rule(gauge_rule(&name, &name, &[(Warning, 10.0)]))
            .unwrap();
        monitor.gauge(&name, &[]).unwrap().set(15.0).unwrap();
    }
    let (release, blocked) = mpsc::channel::<()>();
    let blocked = Mutex::new(blocked);
    let delivered = Arc::new(AtomicUsize::new(0));
    let count = delivered.clone();
    monitor.subscribe(move |_| {
        let _ = blocked.lock().unwrap().recv_timeout(secs(10));
        count.fetch_add(1, Ordering::SeqCst);
    });
    let events = monitor.evaluate();
    assert_eq!(events.len(), 10);
    // One is being delivered (or waits), at most two more wait: the rest
    // were dropped, not waited for.
    let dropped = monitor.notifications_dropped();
    assert!((7..=8).contains(&dropped), "{dropped} dropped");
    drop(release);
    assert!(monitor.flush_notifications(secs(10)));
    assert_eq!(delivered.load(Ordering::SeqCst) as u64 + dropped, 10);
    let exported = monitor.export_prometheus();
    let line = format!("perf_core_notifications_dropped_total {dropped}\n");
    assert!(exported.contains(&line), "{exported}");
    assert!(Monitor::builder().notification_capacity(0).build().is_err());
}

#[test]
fn a_zero_repeat_interval_repeats_at_every_later_evaluation_only() {
    let env = env_with(|b| {
        b.repeat_intervals(RepeatIntervals {
            info: Duration::ZERO,
            warning: Duration::ZERO,
            error: Duration::ZERO,
            critical: Duration::ZERO,
        })
    });
    env.monitor
        .add_rule(gauge_rule(
            "temp",
            "temp",
            &[(Warning, 10.0), (Critical, 20.0)],
        ))
        .unwrap();
    env.set("temp", 15.0);
    assert_eq!(kinds(&env.eval_at(0)), [(Fired, Warning)]);
    assert_eq!(kinds(&env.eval_at(1)), [(Repeated, Warning)]);
    assert_eq!(kinds(&env.eval_at(2)), [(Repeated, Warning)]);
    env.set("temp", 25.0);
    assert_eq!(kinds(&env.eval_at(3)), [(Escalated, Critical)]);
    assert_eq!(kinds(&env.eval_at(4)), [(Repeated, Critical)]);
}
