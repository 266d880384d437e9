//! Emergency mode (design §4, issue 4), through the public API: triggers
//! (conditions and rule references, `for`, `min_samples`, tags),
//! deactivation (`clear_for`, the dwell), the flap back-off, manual control
//! and its precedence, no data, the history and listeners, `status()`,
//! validation, the background evaluator, and property tests over arbitrary
//! metric streams.
//!
//! Every scenario runs on a `ManualClock` and calls `evaluate()` once per
//! second unless it says otherwise. Most use a gauge trigger (`load > 0.9`):
//! a gauge reads its current value, so a scenario is "set the gauge, move
//! the clock, evaluate". Latency scenarios use p95 over a 1 s window: the
//! window is then the current interval, so each second reads exactly the
//! values recorded in it, and a second without values reads as no data.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use perf_core::{
    Emergency, EmergencyChange, EmergencyConfig, EmergencySource, EmergencyTransition, ManualClock,
    Monitor, MonitorBuilder, Op, PerfError, Rule, Severity, Target, Timestamp, Trigger,
    TriggerCondition, DEFAULT_CLEAR_FOR, DEFAULT_FLAP_WINDOW, DEFAULT_MAX_DWELL, DEFAULT_MIN_DWELL,
};
use proptest::prelude::*;

use EmergencyChange::{Activated, Deactivated, Held};

const LOAD: &str = "load";
const LATENCY: &str = "api.response_time";

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn at(s: u64) -> Timestamp {
    Timestamp::from_secs(s)
}

/// Whole seconds of a timestamp.
fn sec_of(t: Timestamp) -> u64 {
    t.as_nanos() / 1_000_000_000
}

/// `load > threshold` (a gauge: no window).
fn load_above(threshold: f64) -> Trigger {
    Trigger::condition(TriggerCondition::new(
        Target::gauge(LOAD),
        Op::Gt,
        threshold,
    ))
}

/// `p95(api.response_time) > 1000` over a 1 s window.
fn slow_p95() -> TriggerCondition {
    TriggerCondition::new(Target::percentile(LATENCY, 95.0), Op::Gt, 1000.0).window(secs(1))
}

/// A monitor on a manual clock standing at 0, its emergency mode, and what
/// a listener got.
struct Env {
    clock: ManualClock,
    monitor: Monitor,
    emergency: Emergency,
    seen: Arc<Mutex<Vec<EmergencyTransition>>>,
}

fn env_with(
    builder: impl FnOnce(MonitorBuilder) -> MonitorBuilder,
    config: EmergencyConfig,
) -> Env {
    let clock = ManualClock::new(Timestamp::ZERO);
    let monitor = builder(Monitor::builder().clock(clock.clone()))
        .build()
        .unwrap();
    monitor.configure_emergency(config).unwrap();
    let emergency = monitor.emergency().clone();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    emergency.subscribe(move |t| sink.lock().unwrap().push(t.clone()));
    Env {
        clock,
        monitor,
        emergency,
        seen,
    }
}

fn env(config: EmergencyConfig) -> Env {
    env_with(|b| b, config)
}

impl Env {
    /// Sets the gauge `load{}`.
    fn set(&self, value: f64) {
        self.monitor.gauge(LOAD, &[]).unwrap().set(value).unwrap();
    }

    /// Moves to second `t` and evaluates.
    fn eval_at(&self, t: u64) {
        self.clock.set(at(t));
        self.monitor.evaluate();
    }

    /// Evaluates at every second of `from..=to`, checking after each that
    /// `is_active()` agrees with the last transition in the history.
    fn run(&self, from: u64, to: u64) {
        for t in from..=to {
            self.eval_at(t);
            let last = self.emergency.history().last().map(|t| t.change);
            let expected = matches!(last, Some(Activated | Held));
            assert_eq!(self.emergency.is_active(), expected, "at {t} s");
        }
    }

    /// The transitions delivered since the last call, as `(change, second)`.
    fn take(&self) -> Vec<(EmergencyChange, u64)> {
        assert!(self.emergency.flush_notifications(secs(10)));
        let seen = std::mem::take(&mut *self.seen.lock().unwrap());
        seen.iter().map(|t| (t.change, sec_of(t.at))).collect()
    }

    /// The transitions delivered since the last call, whole.
    fn take_full(&self) -> Vec<EmergencyTransition> {
        assert!(self.emergency.flush_notifications(secs(10)));
        std::mem::take(&mut *self.seen.lock().unwrap())
    }
}

fn field_of(err: PerfError) -> String {
    match err {
        PerfError::InvalidEmergency { field, .. } => field,
        other => panic!("expected InvalidEmergency, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------
// The seed scenario
// ---------------------------------------------------------------------------

/// "Activate when response_time p95 > 1000 ms for 60 s", one request per
/// second, over the default 60 s window.
#[test]
fn seed_p95_above_1000ms_for_60s_activates_then_clears() {
    let slow = TriggerCondition::new(Target::percentile(LATENCY, 95.0), Op::Gt, 1000.0);
    assert_eq!(slow.watch.window, secs(60));
    let e = env(EmergencyConfig::default()
        .trigger(Trigger::condition(slow).for_duration(secs(60)))
        .clear_for(secs(120))
        .min_dwell(secs(60)));
    // 1.5 s responses from second 0 to second 60: true from 0, holds at 60.
    for t in 0..=60 {
        e.clock.set(at(t));
        e.monitor.record(LATENCY, &[], 1500.0).unwrap();
        e.monitor.evaluate();
        assert_eq!(e.emergency.is_active(), t >= 60, "at {t} s");
    }
    let activation = e.take_full();
    assert_eq!(activation.len(), 1);
    let on = &activation[0];
    assert_eq!((on.change, on.at), (Activated, at(60)));
    assert_eq!(
        on.source,
        EmergencySource::Triggers(vec!["p95(api.response_time) > 1000".into()])
    );
    assert_eq!(on.dwell, Some(secs(60)));
    assert!(
        on.reason
            .contains("p95(api.response_time) > 1000 held for 1m"),
        "{}",
        on.reason
    );
    assert_eq!(on.values.len(), 1);
    let value = on.values[0].value.unwrap();
    assert!((value - 1500.0).abs() / 1500.0 < 0.01, "{value}");
    assert_eq!((on.values[0].op, on.values[0].threshold), (Op::Gt, 1000.0));
    let line = on.to_string();
    assert!(
        line.contains("activated") && line.contains("1000"),
        "{line}"
    );

    // Back to 200 ms from second 61: the window holds 120 - t slow values of
    // 60 at second t, and p95 (rank 57 of 60) is slow while 4 or more are.
    // So the condition is first false at 117, and clear for 120 s at 237.
    for t in 61..=300 {
        e.clock.set(at(t));
        e.monitor.record(LATENCY, &[], 200.0).unwrap();
        e.monitor.evaluate();
        let status = e.emergency.status();
        assert_eq!(status.triggers[0].true_since.is_some(), t < 117, "at {t} s");
        assert_eq!(e.emergency.is_active(), t < 237, "at {t} s");
    }
    let off = e.take_full();
    assert_eq!(off.len(), 1);
    assert_eq!((off[0].change, off[0].at), (Deactivated, at(237)));
    assert!(
        off[0].reason.contains("all triggers clear for 2m"),
        "{}",
        off[0].reason
    );
    assert_eq!(off[0].dwell, None);
    assert_eq!(e.emergency.history(), vec![on.clone(), off[0].clone()]);
}

// ---------------------------------------------------------------------------
// Triggers
// ---------------------------------------------------------------------------

#[test]
fn defaults_are_documented_values() {
    let config = EmergencyConfig::default();
    assert_eq!(
        (
            config.clear_for,
            config.min_dwell,
            config.flap_window,
            config.max_dwell
        ),
        (
            DEFAULT_CLEAR_FOR,
            DEFAULT_MIN_DWELL,
            DEFAULT_FLAP_WINDOW,
            DEFAULT_MAX_DWELL
        )
    );
    assert_eq!(DEFAULT_CLEAR_FOR, secs(60));
    assert_eq!(DEFAULT_MIN_DWELL, secs(60));
    assert_eq!(DEFAULT_FLAP_WINDOW, secs(600));
    assert_eq!(DEFAULT_MAX_DWELL, secs(1800));
    assert!(config.triggers.is_empty() && config.evaluate_every.is_none());
}

#[test]
fn condition_trigger_needs_its_for_at_every_evaluation() {
    let e = env(EmergencyConfig::default().trigger(load_above(0.9).for_duration(secs(10))));
    e.set(1.0);
    e.run(0, 5);
    // One evaluation below the threshold restarts the `for`.
    e.set(0.5);
    e.run(6, 6);
    e.set(1.0);
    e.run(7, 16);
    assert_eq!(e.take(), vec![]);
    e.run(17, 17);
    assert_eq!(e.take(), vec![(Activated, 17)]);
    // Ops are compared as written: exactly the threshold does not hold.
    let e = env(EmergencyConfig::default().trigger(load_above(0.9)));
    e.set(0.9);
    e.run(0, 10);
    assert_eq!(e.take(), vec![]);
}

#[test]
fn any_trigger_holding_activates_and_names_only_those_holding() {
    let e = env(EmergencyConfig::default()
        .trigger(load_above(0.9).named("hot").for_duration(secs(30)))
        .trigger(load_above(0.5).named("warm").for_duration(secs(5))));
    e.set(0.7);
    e.run(0, 4);
    assert!(!e.emergency.is_active());
    e.run(5, 5);
    let on = e.take_full();
    assert_eq!((on[0].change, on[0].at), (Activated, at(5)));
    assert_eq!(on[0].source, EmergencySource::Triggers(vec!["warm".into()]));
    assert_eq!(on[0].values.len(), 1);
    assert_eq!(&*on[0].values[0].trigger, "warm");
    assert!(
        on[0].reason.starts_with("warm held for 5s"),
        "{}",
        on[0].reason
    );
}

#[test]
fn lower_bound_condition_triggers_below_its_threshold() {
    let cache = Trigger::condition(TriggerCondition::new(
        Target::gauge("cache.hit_ratio"),
        Op::Lt,
        0.5,
    ))
    .for_duration(secs(3));
    let e = env(EmergencyConfig::default().trigger(cache));
    let gauge = e.monitor.gauge("cache.hit_ratio", &[]).unwrap();
    gauge.set(0.9).unwrap();
    e.run(0, 10);
    gauge.set(0.2).unwrap();
    e.run(11, 14);
    assert_eq!(e.take(), vec![(Activated, 14)]);
}

#[test]
fn min_samples_counts_values_in_the_window() {
    let condition = slow_p95().window(secs(10)).min_samples(5);
    let e = env(EmergencyConfig::default().trigger(Trigger::condition(condition)));
    // One slow value a second: the 10 s window has t + 1 values at second t.
    for t in 0..=6 {
        e.clock.set(at(t));
        e.monitor.record(LATENCY, &[], 3000.0).unwrap();
        e.monitor.evaluate();
        assert_eq!(e.emergency.is_active(), t >= 4, "at {t} s");
    }
    assert_eq!(e.take(), vec![(Activated, 4)]);
}

#[test]
fn trigger_tags_select_the_series() {
    let condition = slow_p95()
        .tag("route", "/api")
        .exclude_tag("region", "test");
    let e = env(EmergencyConfig::default().trigger(Trigger::condition(condition)));
    let record_at = |t: u64, tags: &[(&str, &str)]| {
        e.clock.set(at(t));
        e.monitor
            .record(LATENCY, &[("route", "/api"), ("region", "eu")], 100.0)
            .unwrap();
        e.monitor.record(LATENCY, tags, 5000.0).unwrap();
        e.monitor.evaluate();
    };
    record_at(0, &[("route", "/static"), ("region", "eu")]);
    record_at(1, &[("route", "/api"), ("region", "test")]);
    record_at(2, &[("region", "eu")]);
    assert!(!e.emergency.is_active());
    assert_eq!(e.take(), vec![]);
    // The fast /api series alone reads false, not no data.
    assert_eq!(e.emergency.status().triggers[0].true_since, None);
    assert!(e.emergency.status().triggers[0].last.is_some());
    record_at(3, &[("region", "us"), ("route", "/api")]);
    let on = e.take_full();
    assert_eq!((on[0].change, on[0].at), (Activated, at(3)));
    // The value is the most extreme series the trigger read.
    let value = &on[0].values[0];
    let series = value.series.as_ref().unwrap().to_string();
    assert!(
        series.contains("region") && series.contains("us"),
        "{series}"
    );
    assert!(value.value.unwrap() > 4900.0);
}

#[test]
fn rule_reference_holds_while_the_rule_alerts_at_that_severity() {
    let rule = Rule::new("load-high", Target::gauge(LOAD))
        .level(Severity::Warning, 0.5)
        .level(Severity::Critical, 0.9)
        .for_duration(secs(10))
        .clear_for(secs(20));
    let clock = ManualClock::new(Timestamp::ZERO);
    let monitor = Monitor::builder().clock(clock.clone()).build().unwrap();
    monitor.add_rule(rule).unwrap();
    let config = EmergencyConfig::default()
        .trigger(Trigger::rule("load-high", Severity::Critical).for_duration(secs(5)))
        .clear_for(secs(30))
        .min_dwell(secs(10));
    monitor.configure_emergency(config).unwrap();
    let e = Env {
        emergency: monitor.emergency().clone(),
        seen: Arc::new(Mutex::new(Vec::new())),
        clock,
        monitor,
    };
    let sink = e.seen.clone();
    e.emergency
        .subscribe(move |t| sink.lock().unwrap().push(t.clone()));

    // A warning alert does not count.
    e.set(0.7);
    e.run(0, 40);
    assert!(!e.monitor.alerts().is_empty());
    assert_eq!(e.take(), vec![]);
    // Critical from 41: the rule escalates at once (its `for` has been met
    // by the warning), and the trigger holds 5 s later.
    e.set(1.0);
    e.run(41, 46);
    let on = e.take_full();
    assert_eq!(on.len(), 1);
    assert_eq!((on[0].change, on[0].at), (Activated, at(46)));
    assert_eq!(
        on[0].source,
        EmergencySource::Triggers(vec!["load-high".into()])
    );
    assert_eq!(on[0].values[0].value, Some(1.0));
    assert_eq!(on[0].values[0].threshold, 0.9);
    // Calm from 100: the alert recovers (still active) for the rule's 20 s,
    // resolves at 120, and the emergency's clear_for runs from then.
    e.set(0.0);
    e.run(100, 149);
    assert!(e.emergency.is_active());
    e.run(150, 150);
    assert_eq!(e.take(), vec![(Deactivated, 150)]);
}

#[test]
fn a_removed_rule_reads_as_false() {
    let clock = ManualClock::new(Timestamp::ZERO);
    let monitor = Monitor::builder().clock(clock.clone()).build().unwrap();
    monitor
        .add_rule(Rule::new("hot", Target::gauge(LOAD)).level(Severity::Error, 0.9))
        .unwrap();
    monitor
        .configure_emergency(
            EmergencyConfig::default()
                .trigger(Trigger::rule("hot", Severity::Warning))
                .clear_for(secs(5))
                .min_dwell(Duration::ZERO),
        )
        .unwrap();
    monitor.gauge(LOAD, &[]).unwrap().set(1.0).unwrap();
    monitor.evaluate();
    assert!(monitor.emergency().is_active());
    assert!(monitor.remove_rule("hot"));
    for t in 1..=6 {
        clock.set(at(t));
        monitor.evaluate();
        assert_eq!(monitor.emergency().is_active(), t < 6, "at {t} s");
    }
}

// ---------------------------------------------------------------------------
// Deactivation
// ---------------------------------------------------------------------------

#[test]
fn deactivates_after_clear_for_once_the_dwell_has_passed() {
    // clear_for is the later condition here...
    let e = env(EmergencyConfig::default()
        .trigger(load_above(0.9))
        .clear_for(secs(30))
        .min_dwell(secs(10)));
    e.set(1.0);
    e.run(0, 0);
    e.set(0.1);
    e.run(1, 30);
    assert!(e.emergency.is_active());
    e.run(31, 31);
    assert_eq!(e.take(), vec![(Activated, 0), (Deactivated, 31)]);

    // ... and the dwell here: clear for 30 s long before the 300 s dwell.
    let e = env(EmergencyConfig::default()
        .trigger(load_above(0.9))
        .clear_for(secs(30))
        .min_dwell(secs(300)));
    e.set(1.0);
    e.run(0, 0);
    e.set(0.1);
    e.run(1, 299);
    assert!(e.emergency.is_active());
    assert_eq!(e.emergency.status().dwell_until, Some(at(300)));
    e.run(300, 300);
    assert_eq!(e.take(), vec![(Activated, 0), (Deactivated, 300)]);
}

#[test]
fn a_true_reading_within_clear_for_restarts_it() {
    let e = env(EmergencyConfig::default()
        .trigger(load_above(0.9).for_duration(secs(60)))
        .clear_for(secs(20))
        .min_dwell(Duration::ZERO));
    e.set(1.0);
    e.run(0, 60);
    e.set(0.1);
    e.run(61, 75);
    // True again for one second, far short of the trigger's `for`: the
    // trigger does not hold, but its condition is not clear either.
    e.set(1.0);
    e.run(76, 76);
    e.set(0.1);
    e.run(77, 96);
    assert!(e.emergency.is_active());
    e.run(97, 97);
    assert_eq!(e.take(), vec![(Activated, 60), (Deactivated, 97)]);
}

#[test]
fn every_trigger_must_be_clear() {
    let e = env(EmergencyConfig::default()
        .trigger(load_above(0.9))
        .trigger(Trigger::condition(TriggerCondition::new(
            Target::gauge("queue"),
            Op::Gt,
            100.0,
        )))
        .clear_for(secs(10))
        .min_dwell(Duration::ZERO));
    let queue = e.monitor.gauge("queue", &[]).unwrap();
    e.set(1.0);
    queue.set(500.0).unwrap();
    e.run(0, 0);
    e.set(0.1);
    e.run(1, 30);
    assert!(e.emergency.is_active());
    queue.set(0.0).unwrap();
    e.run(31, 41);
    assert_eq!(e.take(), vec![(Activated, 0), (Deactivated, 41)]);
}

#[test]
fn reconfiguring_keeps_the_mode_until_the_new_triggers_clear() {
    let e = env(EmergencyConfig::default()
        .trigger(load_above(0.9))
        .clear_for(secs(5))
        .min_dwell(Duration::ZERO));
    e.set(1.0);
    e.run(0, 0);
    e.monitor
        .configure_emergency(
            EmergencyConfig::default()
                .trigger(load_above(2.0))
                .clear_for(secs(5))
                .min_dwell(Duration::ZERO),
        )
        .unwrap();
    assert!(e.emergency.is_active());
    e.run(1, 5);
    assert!(e.emergency.is_active());
    e.run(6, 6);
    assert_eq!(e.take(), vec![(Activated, 0), (Deactivated, 6)]);
    assert_eq!(e.emergency.config().triggers[0].name, "value(load) > 2");
}

// ---------------------------------------------------------------------------
// Flap back-off
// ---------------------------------------------------------------------------

/// Goes hot at `on`, calm at `on + 1`, evaluating every second up to `to`.
fn spike(e: &Env, on: u64, to: u64) {
    e.set(1.0);
    e.run(on, on);
    e.set(0.0);
    e.run(on + 1, to);
}

fn dwells(e: &Env) -> Vec<(u64, Option<u64>)> {
    e.take_full()
        .iter()
        .filter(|t| t.change == Activated)
        .map(|t| (sec_of(t.at), t.dwell.map(|d| d.as_secs())))
        .collect()
}

#[test]
fn re_entering_within_the_flap_window_doubles_the_dwell_up_to_max_dwell() {
    let e = env(EmergencyConfig::default()
        .trigger(load_above(0.9))
        .clear_for(Duration::ZERO)
        .min_dwell(secs(10))
        .max_dwell(secs(35))
        .flap_window(secs(60)));
    spike(&e, 0, 14);
    spike(&e, 15, 39);
    spike(&e, 40, 79);
    spike(&e, 80, 120);
    assert_eq!(
        dwells(&e),
        vec![
            (0, Some(10)),
            (15, Some(20)),
            (40, Some(35)),
            (80, Some(35))
        ]
    );
    // Each exit came exactly at its dwell.
    let exits: Vec<u64> = e
        .emergency
        .history()
        .iter()
        .filter(|t| t.change == Deactivated)
        .map(|t| sec_of(t.at))
        .collect();
    assert_eq!(exits, vec![10, 35, 75, 115]);
}

#[test]
fn a_calm_period_resets_the_dwell() {
    let e = env(EmergencyConfig::default()
        .trigger(load_above(0.9))
        .clear_for(Duration::ZERO)
        .min_dwell(secs(10))
        .max_dwell(secs(100))
        .flap_window(secs(60)));
    spike(&e, 0, 14);
    spike(&e, 15, 39); // exit at 35
    spike(&e, 100, 140); // 65 s after the exit: calm
    spike(&e, 141, 200); // within 60 s of the exit at 110
    assert_eq!(
        dwells(&e),
        vec![
            (0, Some(10)),
            (15, Some(20)),
            (100, Some(10)),
            (141, Some(20))
        ]
    );
}

#[test]
fn status_and_history_show_the_lengthened_dwell() {
    let e = env(EmergencyConfig::default()
        .trigger(load_above(0.9))
        .clear_for(Duration::ZERO)
        .min_dwell(secs(10))
        .flap_window(secs(60)));
    spike(&e, 0, 12);
    e.set(1.0);
    e.run(13, 13);
    let status = e.emergency.status();
    assert_eq!(
        (status.since, status.dwell_until),
        (Some(at(13)), Some(at(33)))
    );
    let history = e.emergency.history();
    assert!(
        history[2].reason.contains("held for 0s"),
        "{}",
        history[2].reason
    );
    assert_eq!(history[2].dwell, Some(secs(20)));
}

// ---------------------------------------------------------------------------
// Manual control
// ---------------------------------------------------------------------------

#[test]
fn manual_activation_holds_until_manual_deactivation() {
    let e = env(EmergencyConfig::default()
        .trigger(load_above(0.9))
        .clear_for(Duration::ZERO)
        .min_dwell(Duration::ZERO));
    e.set(0.0);
    e.run(0, 0);
    assert!(e.emergency.activate("database failover").unwrap());
    assert!(!e.emergency.activate("again").unwrap(), "already held");
    e.run(1, 500);
    assert!(e.emergency.is_active());
    let status = e.emergency.status();
    assert!(status.active && status.manual);
    assert_eq!((status.since, status.dwell_until), (Some(at(0)), None));
    e.clock.set(at(501));
    assert!(e.emergency.deactivate("failover done").unwrap());
    assert!(!e.emergency.is_active());
    assert!(!e.emergency.deactivate("again").unwrap(), "already off");
    let got = e.take_full();
    assert_eq!(got.len(), 2);
    assert_eq!(
        (
            got[0].change,
            &got[0].source,
            got[0].reason.as_str(),
            got[0].at
        ),
        (
            Activated,
            &EmergencySource::Manual,
            "database failover",
            at(0)
        )
    );
    assert_eq!(
        (
            got[1].change,
            &got[1].source,
            got[1].reason.as_str(),
            got[1].at
        ),
        (
            Deactivated,
            &EmergencySource::Manual,
            "failover done",
            at(501)
        )
    );
    assert!(got.iter().all(|t| t.values.is_empty() && t.dwell.is_none()));
}

#[test]
fn manual_activation_over_an_automatic_one_is_held() {
    let e = env(EmergencyConfig::default()
        .trigger(load_above(0.9))
        .clear_for(secs(5))
        .min_dwell(secs(10)));
    e.set(1.0);
    e.run(0, 3);
    assert!(e.emergency.activate("ops takes over").unwrap());
    e.set(0.0);
    e.run(4, 400);
    assert!(e.emergency.is_active());
    let status = e.emergency.status();
    assert!(status.manual);
    assert_eq!(
        status.since,
        Some(at(0)),
        "on since the automatic activation"
    );
    assert_eq!(status.dwell_until, None);
    assert!(e.emergency.deactivate("all good").unwrap());
    let got = e.take_full();
    let summary: Vec<_> = got
        .iter()
        .map(|t| (t.change, t.source.clone(), sec_of(t.at)))
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                Activated,
                EmergencySource::Triggers(vec!["value(load) > 0.9".into()]),
                0
            ),
            (Held, EmergencySource::Manual, 3),
            (Deactivated, EmergencySource::Manual, 400),
        ]
    );
    assert_eq!(got[1].reason, "ops takes over");
}

#[test]
fn manual_deactivation_ends_at_once_within_the_dwell_and_restarts_for() {
    let e = env(EmergencyConfig::default()
        .trigger(load_above(0.9).for_duration(secs(30)))
        .clear_for(secs(5))
        .min_dwell(secs(300))
        .max_dwell(secs(1000))
        .flap_window(secs(600)));
    e.set(1.0);
    e.run(0, 30);
    assert_eq!(e.emergency.status().dwell_until, Some(at(330)));
    e.clock.set(at(40));
    assert!(e.emergency.deactivate("false alarm").unwrap());
    assert!(!e.emergency.is_active());
    let status = e.emergency.status();
    assert_eq!(status.triggers[0].true_since, Some(at(40)));
    assert!(!status.triggers[0].holding);
    // Still true: it needs its full 30 s again, counted from 40.
    e.run(40, 69);
    assert!(!e.emergency.is_active());
    e.run(70, 70);
    let got = e.take_full();
    let summary: Vec<_> = got
        .iter()
        .map(|t| (t.change, sec_of(t.at), t.dwell))
        .collect();
    assert_eq!(
        summary,
        vec![
            (Activated, 30, Some(secs(300))),
            (Deactivated, 40, None),
            // Re-entering within the flap window: twice the last dwell.
            (Activated, 70, Some(secs(600))),
        ]
    );
    assert_eq!(got[1].source, EmergencySource::Manual);
}

#[test]
fn blank_manual_reasons_are_rejected_and_change_nothing() {
    let e = env(EmergencyConfig::default());
    for blank in ["", "   ", "\n\t"] {
        assert_eq!(field_of(e.emergency.activate(blank).unwrap_err()), "reason");
    }
    assert!(!e.emergency.is_active());
    e.emergency.activate("real").unwrap();
    assert_eq!(field_of(e.emergency.deactivate(" ").unwrap_err()), "reason");
    assert!(e.emergency.is_active());
    assert_eq!(e.emergency.history().len(), 1);
}

// ---------------------------------------------------------------------------
// No data
// ---------------------------------------------------------------------------

/// No data keeps the trigger's state: a trigger true before a silence is
/// still true through it, its `for` keeps counting, and once on, silence
/// never clears the mode.
#[test]
fn no_data_keeps_a_true_trigger_true() {
    let e = env(EmergencyConfig::default()
        .trigger(Trigger::condition(slow_p95()).for_duration(secs(30)))
        .clear_for(Duration::ZERO)
        .min_dwell(Duration::ZERO));
    for t in 0..=9 {
        e.clock.set(at(t));
        e.monitor.record(LATENCY, &[], 2000.0).unwrap();
        e.monitor.evaluate();
    }
    // Silence from 10: no data, the trigger stays true since 0...
    e.run(10, 40);
    let status = e.emergency.status();
    assert_eq!(status.triggers[0].true_since, Some(at(0)));
    // ... and its `for` ran out at 30, but no data activates nothing (as a
    // pending rule does not fire on no data) ...
    assert!(status.triggers[0].holding);
    assert_eq!(e.take(), vec![]);
    // ... until the next reading, still true, activates at once.
    e.clock.set(at(41));
    e.monitor.record(LATENCY, &[], 2000.0).unwrap();
    e.monitor.evaluate();
    let on = e.take_full();
    assert_eq!((on.len(), on[0].change, on[0].at), (1, Activated, at(41)));
    assert!(on[0].values[0].value.unwrap() > 1000.0);
    // Silence while on does not clear it either.
    e.run(42, 1000);
    assert!(e.emergency.is_active());
    assert_eq!(e.take(), vec![]);
    let status = e.emergency.status();
    assert!(status.triggers[0].holding);
    assert_eq!(status.triggers[0].true_since, Some(at(0)));
    // The first reading with data decides.
    e.clock.set(at(1001));
    e.monitor.record(LATENCY, &[], 100.0).unwrap();
    e.monitor.evaluate();
    assert_eq!(e.take(), vec![(Deactivated, 1001)]);
}

#[test]
fn no_data_never_starts_a_trigger() {
    let e = env(EmergencyConfig::default()
        .trigger(Trigger::condition(slow_p95().min_samples(3)).for_duration(secs(5)))
        .clear_for(Duration::ZERO)
        .min_dwell(Duration::ZERO));
    // No series at all, then too few samples (2 slow values a second).
    e.run(0, 20);
    for t in 21..=40 {
        e.clock.set(at(t));
        e.monitor.record(LATENCY, &[], 9000.0).unwrap();
        e.monitor.record(LATENCY, &[], 9000.0).unwrap();
        e.monitor.evaluate();
    }
    let status = e.emergency.status();
    assert_eq!(status.triggers[0].true_since, None);
    assert_eq!(status.triggers[0].last, None);
    assert_eq!(e.take(), vec![]);
}

#[test]
fn no_data_keeps_a_false_trigger_false_and_clear_for_running() {
    let e = env(EmergencyConfig::default()
        .trigger(Trigger::condition(slow_p95()))
        .clear_for(secs(20))
        .min_dwell(Duration::ZERO));
    let record = |t: u64, v: f64| {
        e.clock.set(at(t));
        e.monitor.record(LATENCY, &[], v).unwrap();
        e.monitor.evaluate();
    };
    record(0, 2000.0);
    record(1, 100.0);
    e.run(2, 20);
    assert!(e.emergency.is_active());
    e.run(21, 21);
    assert_eq!(e.take(), vec![(Activated, 0), (Deactivated, 21)]);
}

// ---------------------------------------------------------------------------
// History, listeners, status
// ---------------------------------------------------------------------------

#[test]
fn history_is_bounded_and_oldest_first() {
    let e = env_with(|b| b.alert_history(3), EmergencyConfig::default());
    for i in 0..5u64 {
        e.clock.set(at(i));
        if i % 2 == 0 {
            e.emergency.activate(&format!("on {i}")).unwrap();
        } else {
            e.emergency.deactivate(&format!("off {i}")).unwrap();
        }
    }
    let reasons: Vec<String> = e
        .emergency
        .history()
        .into_iter()
        .map(|t| t.reason)
        .collect();
    assert_eq!(reasons, ["on 2", "off 3", "on 4"]);
    // Listeners got all five, in order.
    let seen: Vec<String> = e.take_full().into_iter().map(|t| t.reason).collect();
    assert_eq!(seen, ["on 0", "off 1", "on 2", "off 3", "on 4"]);

    let none = env_with(|b| b.alert_history(0), EmergencyConfig::default());
    none.emergency.activate("x").unwrap();
    assert!(none.emergency.history().is_empty());
    assert!(none.emergency.is_active());
    assert_eq!(none.take_full().len(), 1);
}

#[test]
fn a_panicking_listener_is_isolated_and_counted() {
    let e = env(EmergencyConfig::default()
        .trigger(load_above(0.9))
        .clear_for(Duration::ZERO)
        .min_dwell(Duration::ZERO));
    let panicky = e.emergency.subscribe(|_| panic!("listener bug"));
    let after = Arc::new(Mutex::new(Vec::new()));
    let sink = after.clone();
    e.emergency
        .subscribe(move |t| sink.lock().unwrap().push(t.change));
    e.set(1.0);
    e.run(0, 0);
    e.set(0.0);
    e.run(1, 1);
    e.emergency.activate("manual").unwrap();
    assert!(e.emergency.flush_notifications(secs(10)));
    assert_eq!(e.emergency.listener_panics(), 3);
    assert_eq!(
        *after.lock().unwrap(),
        vec![Activated, Deactivated, Activated]
    );
    assert_eq!(
        e.take(),
        vec![(Activated, 0), (Deactivated, 1), (Activated, 1)]
    );
    assert!(e.emergency.is_active());
    assert!(e.emergency.unsubscribe(panicky));
    assert!(!e.emergency.unsubscribe(panicky));
    e.emergency.deactivate("manual").unwrap();
    assert!(e.emergency.flush_notifications(secs(10)));
    assert_eq!(e.emergency.listener_panics(), 3);
    assert_eq!(after.lock().unwrap().len(), 4);
}

/// A listener that switches the mode (here: replaces every automatic
/// activation with a manual one) does not deadlock, and every listener
/// still gets the transitions in history order: those a listener makes come
/// after the one being delivered.
#[test]
fn a_listener_may_switch_the_mode_and_order_is_kept() {
    let e = env(EmergencyConfig::default()
        .trigger(load_above(0.9))
        .min_dwell(secs(60)));
    // Subscribed after `Env`'s own listener, before `last`.
    let handle = e.emergency.clone();
    e.emergency.subscribe(move |t| {
        if t.change == Activated && t.source != EmergencySource::Manual {
            assert!(handle.deactivate("vetoed by a listener").unwrap());
            assert!(!handle.is_active());
            assert!(handle.activate("held by hand instead").unwrap());
            assert!(handle.is_active());
        }
    });
    let last = Arc::new(Mutex::new(Vec::new()));
    let sink = last.clone();
    e.emergency
        .subscribe(move |t| sink.lock().unwrap().push((t.change, t.source.clone())));
    e.set(1.0);
    let done = Arc::new(AtomicBool::new(false));
    let (monitor, finished) = (e.monitor.clone(), done.clone());
    let evaluation = thread::spawn(move || {
        monitor.evaluate();
        finished.store(true, Ordering::SeqCst);
    });
    // A deadlock shows up as a failure here, not as a hung test.
    eventually("evaluate() returns", || done.load(Ordering::SeqCst));
    evaluation.join().unwrap();
    assert!(e.emergency.flush_notifications(secs(10)));
    assert_eq!(e.emergency.listener_panics(), 0);
    assert!(e.emergency.is_active() && e.emergency.status().manual);
    let history: Vec<_> = e
        .emergency
        .history()
        .iter()
        .map(|t| (t.change, t.source.clone()))
        .collect();
    let triggers = EmergencySource::Triggers(vec!["value(load) > 0.9".into()]);
    assert_eq!(
        history,
        vec![
            (Activated, triggers),
            (Deactivated, EmergencySource::Manual),
            (Activated, EmergencySource::Manual),
        ]
    );
    assert_eq!(*last.lock().unwrap(), history, "the last listener");
    let first: Vec<_> = e
        .take_full()
        .iter()
        .map(|t| (t.change, t.source.clone()))
        .collect();
    assert_eq!(first, history, "the first listener");
}

#[test]
fn status_reports_the_mode_and_each_trigger() {
    let e = env(EmergencyConfig::default()
        .trigger(load_above(0.9).named("hot").for_duration(secs(10)))
        .trigger(load_above(5.0).named("melting"))
        .min_dwell(secs(30)));
    let status = e.emergency.status();
    assert!(!status.active && !status.manual);
    assert_eq!((status.since, status.dwell_until), (None, None));
    let names: Vec<&str> = status.triggers.iter().map(|t| &*t.name).collect();
    assert_eq!(names, ["hot", "melting"]);
    assert!(status
        .triggers
        .iter()
        .all(|t| !t.holding && t.true_since.is_none() && t.last.is_none()));

    e.set(1.0);
    e.run(0, 5);
    let status = e.emergency.status();
    assert!(!status.active);
    assert_eq!(status.triggers[0].true_since, Some(at(0)));
    assert!(!status.triggers[0].holding);
    assert_eq!(status.triggers[0].last.as_ref().unwrap().value, Some(1.0));
    assert_eq!(status.triggers[1].true_since, None);
    assert_eq!(status.triggers[1].last.as_ref().unwrap().value, Some(1.0));
    // status() reads the clock's now: holding at 10 even before evaluating.
    e.clock.set(at(10));
    assert!(e.emergency.status().triggers[0].holding);
    assert!(!e.emergency.status().active);
    e.run(10, 10);
    let status = e.emergency.status();
    assert!(status.active && !status.manual);
    assert_eq!(
        (status.since, status.dwell_until),
        (Some(at(10)), Some(at(40)))
    );

    e.emergency.deactivate("done").unwrap();
    let status = e.emergency.status();
    assert!(!status.active);
    assert_eq!((status.since, status.dwell_until), (None, None));
}

// ---------------------------------------------------------------------------
// Concurrency
// ---------------------------------------------------------------------------

/// Readers spin on `is_active()` while another thread evaluates a stream
/// that toggles the mode every few seconds. A reader that has seen the mode
/// turn on `n` times finds at least `n` activations in the history (the
/// flag is written after the history), and all readers agree at the end.
#[test]
fn is_active_from_several_threads_while_another_evaluates() {
    let e = env(EmergencyConfig::default()
        .trigger(load_above(0.9))
        .clear_for(Duration::ZERO)
        .min_dwell(Duration::ZERO));
    let done = Arc::new(AtomicBool::new(false));
    let started = Arc::new(AtomicUsize::new(0));
    let readers: Vec<_> = (0..3)
        .map(|_| {
            let emergency = e.emergency.clone();
            let (done, started) = (done.clone(), started.clone());
            thread::spawn(move || {
                started.fetch_add(1, Ordering::SeqCst);
                let (mut was_on, mut turned_on) = (false, 0usize);
                loop {
                    let finished = done.load(Ordering::SeqCst);
                    let on = emergency.is_active();
                    if on && !was_on {
                        turned_on += 1;
                        let activations = emergency
                            .history()
                            .iter()
                            .filter(|t| t.change == Activated)
                            .count();
                        assert!(activations >= turned_on, "{activations} < {turned_on}");
                    }
                    was_on = on;
                    if finished {
                        return (turned_on, on);
                    }
                }
            })
        })
        .collect();
    eventually("the readers start", || started.load(Ordering::SeqCst) == 3);
    // Hot for 3 s, calm for 3 s: 67 activations in 400 s.
    for t in 0..400u64 {
        e.set(if (t / 3) % 2 == 0 { 1.0 } else { 0.0 });
        e.eval_at(t);
    }
    done.store(true, Ordering::SeqCst);
    let activations = e
        .emergency
        .history()
        .iter()
        .filter(|t| t.change == Activated)
        .count();
    assert_eq!(activations, 67);
    for reader in readers {
        let (turned_on, last) = reader.join().unwrap();
        assert!(turned_on <= activations);
        assert_eq!(last, e.emergency.is_active(), "the final state");
    }
}

// ---------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------

#[test]
fn validation_errors_name_the_field() {
    let monitor = Monitor::builder().build().unwrap();
    let check =
        |config: EmergencyConfig| field_of(monitor.configure_emergency(config).unwrap_err());
    let lat = || Target::percentile(LATENCY, 95.0);
    let nan = TriggerCondition::new(lat(), Op::Gt, f64::NAN);
    assert_eq!(
        check(EmergencyConfig::default().trigger(Trigger::condition(nan))),
        "triggers[0].threshold"
    );
    let inf = TriggerCondition::new(lat(), Op::Gt, f64::INFINITY);
    assert_eq!(
        check(
            EmergencyConfig::default()
                .trigger(load_above(1.0))
                .trigger(Trigger::condition(inf))
        ),
        "triggers[1].threshold"
    );
    assert_eq!(
        check(
            EmergencyConfig::default().trigger(Trigger::rule("no-such-rule", Severity::Critical))
        ),
        "triggers[0].rule"
    );
    let p150 = TriggerCondition::new(Target::percentile(LATENCY, 150.0), Op::Gt, 1.0);
    assert_eq!(
        check(EmergencyConfig::default().trigger(Trigger::condition(p150))),
        "triggers[0].stat"
    );
    let bad_metric = TriggerCondition::new(Target::gauge("no spaces allowed"), Op::Gt, 1.0);
    assert_eq!(
        check(EmergencyConfig::default().trigger(Trigger::condition(bad_metric))),
        "triggers[0].metric"
    );
    let zero_window = TriggerCondition::new(lat(), Op::Gt, 1.0).window(Duration::ZERO);
    assert_eq!(
        check(EmergencyConfig::default().trigger(Trigger::condition(zero_window))),
        "triggers[0].window"
    );
    // Longer than the monitor's retention (300 s by default).
    let long_window = TriggerCondition::new(lat(), Op::Gt, 1.0).window(secs(3600));
    assert_eq!(
        check(EmergencyConfig::default().trigger(Trigger::condition(long_window))),
        "triggers[0].window"
    );
    assert_eq!(
        check(EmergencyConfig::default().trigger(load_above(1.0).named(""))),
        "triggers[0].name"
    );
    assert_eq!(
        check(
            EmergencyConfig::default()
                .trigger(load_above(1.0))
                .trigger(load_above(1.0))
        ),
        "triggers[1].name"
    );
    assert_eq!(
        check(
            EmergencyConfig::default()
                .min_dwell(secs(10))
                .max_dwell(secs(5))
        ),
        "max_dwell"
    );
    assert_eq!(
        check(EmergencyConfig::default().evaluate_every(Duration::from_micros(10))),
        "evaluate_every"
    );
    // A rejected configuration leaves the previous one in effect.
    assert_eq!(monitor.emergency().config(), EmergencyConfig::default());
    let err = monitor
        .configure_emergency(EmergencyConfig::default().trigger(Trigger::rule("x", Severity::Info)))
        .unwrap_err();
    assert!(err.to_string().contains("triggers[0].rule"), "{err}");
    // A rule that exists is accepted.
    monitor
        .add_rule(Rule::new("x", Target::gauge(LOAD)).level(Severity::Info, 1.0))
        .unwrap();
    monitor
        .configure_emergency(EmergencyConfig::default().trigger(Trigger::rule("x", Severity::Info)))
        .unwrap();
}

#[test]
fn windowed_triggers_need_windows() {
    let monitor = Monitor::builder().windows(false).build().unwrap();
    let config = EmergencyConfig::default().trigger(Trigger::condition(slow_p95()));
    assert_eq!(
        field_of(monitor.configure_emergency(config).unwrap_err()),
        "triggers[0].window"
    );
    // A gauge needs no window.
    monitor
        .configure_emergency(EmergencyConfig::default().trigger(load_above(1.0)))
        .unwrap();
}

// ---------------------------------------------------------------------------
// The background evaluator
// ---------------------------------------------------------------------------

/// Polls `condition` every millisecond until it holds; a generous deadline
/// turns a hang into a failure (this asserts progress, not timing).
fn eventually(what: &str, mut condition: impl FnMut() -> bool) {
    let start = Instant::now();
    while !condition() {
        assert!(start.elapsed() < secs(30), "{what}: not within 30 s");
        thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn the_background_evaluator_switches_the_mode() {
    let e = env(EmergencyConfig::default()
        .trigger(load_above(0.9))
        .clear_for(secs(10))
        .min_dwell(secs(10)));
    e.set(1.0);
    e.monitor.start(Duration::from_millis(2)).unwrap();
    eventually("activated in the background", || e.emergency.is_active());
    e.set(0.0);
    eventually("the calm reading is seen", || {
        e.emergency.status().triggers[0].true_since.is_none()
    });
    assert!(e.emergency.is_active(), "the manual clock has not moved");
    e.clock.advance(secs(60));
    eventually("deactivated in the background", || !e.emergency.is_active());
    e.monitor.stop();
    assert_eq!(e.take(), vec![(Activated, 0), (Deactivated, 60)]);
}

/// Started with the mode on and a normal interval of an hour, the evaluator
/// runs at `evaluate_every`: evaluations (seen through a rule's alert) come
/// at once rather than in an hour.
#[test]
fn the_background_evaluator_runs_at_evaluate_every_while_active() {
    let e = env(EmergencyConfig::default().evaluate_every(Duration::from_millis(1)));
    e.monitor
        .add_rule(Rule::new("hot", Target::gauge(LOAD)).level(Severity::Warning, 0.5))
        .unwrap();
    let (tx, rx) = mpsc::channel();
    e.monitor.subscribe(move |a| {
        let _ = tx.send(a.kind);
    });
    e.set(1.0);
    e.emergency.activate("drill").unwrap();
    e.monitor.start(secs(3600)).unwrap();
    let fired = rx.recv_timeout(secs(30));
    e.monitor.stop();
    assert_eq!(fired, Ok(perf_core::AlertKind::Fired));
}

/// The same monitor with the mode off: the first evaluation is an hour away,
/// so nothing fires before `stop()` (no waiting involved).
#[test]
fn the_background_evaluator_keeps_its_interval_while_inactive() {
    let e = env(EmergencyConfig::default().evaluate_every(Duration::from_millis(1)));
    e.monitor
        .add_rule(Rule::new("hot", Target::gauge(LOAD)).level(Severity::Warning, 0.5))
        .unwrap();
    let fired = Arc::new(AtomicUsize::new(0));
    let count = fired.clone();
    e.monitor.subscribe(move |_| {
        count.fetch_add(1, Ordering::SeqCst);
    });
    e.set(1.0);
    e.monitor.start(secs(3600)).unwrap();
    thread::sleep(Duration::from_millis(50));
    e.monitor.stop();
    assert_eq!(fired.load(Ordering::SeqCst), 0);
}

// ---------------------------------------------------------------------------
// Property tests
// ---------------------------------------------------------------------------

/// One second of the stream: `count` values at `level` ms.
#[derive(Clone, Copy, Debug)]
struct Second {
    level: f64,
    count: u8,
}

/// Timings, in whole seconds.
#[derive(Clone, Copy, Debug)]
struct Timing {
    for_s: u64,
    clear_for: u64,
    min_dwell: u64,
    max_dwell: u64,
    flap_window: u64,
    min_samples: u64,
}

impl Timing {
    fn config(&self) -> EmergencyConfig {
        let condition = slow_p95().min_samples(self.min_samples);
        EmergencyConfig::default()
            .trigger(Trigger::condition(condition).for_duration(secs(self.for_s)))
            .clear_for(secs(self.clear_for))
            .min_dwell(secs(self.min_dwell))
            .max_dwell(secs(self.max_dwell))
            .flap_window(secs(self.flap_window))
    }

    /// What one second reads: `None` is no data. The levels are far from
    /// the 1000 ms threshold, beyond the histogram's relative error.
    fn truth(&self, s: Second) -> Option<bool> {
        let enough = s.count > 0 && u64::from(s.count) >= self.min_samples;
        enough.then_some(s.level > 1000.0)
    }

    /// The dwell of an activation at `now`, from the last exit and dwell.
    fn dwell(&self, now: u64, last_exit: Option<u64>, last_dwell: Option<u64>) -> u64 {
        match (last_exit, last_dwell) {
            (Some(exit), Some(last)) if now - exit < self.flap_window => {
                (last * 2).clamp(self.min_dwell, self.max_dwell)
            }
            _ => self.min_dwell,
        }
    }
}

fn timing() -> impl Strategy<Value = Timing> {
    (0u64..=6, 0u64..=6, 0u64..=8, 0u64..=30, 0u64..=40, 0u64..=2).prop_map(
        |(for_s, clear_for, min_dwell, extra, flap_window, min_samples)| Timing {
            for_s,
            clear_for,
            min_dwell,
            max_dwell: min_dwell + extra,
            flap_window,
            min_samples,
        },
    )
}

/// Runs of equal seconds, so that triggers hold and clear, flap or calm.
fn run_of_seconds() -> impl Strategy<Value = Vec<Second>> {
    let level = prop::sample::select(vec![100.0, 700.0, 1300.0, 5000.0]);
    let count = prop_oneof![1 => Just(0u8), 4 => 1u8..=3];
    (level, count, 1usize..=12).prop_map(|(level, count, len)| vec![Second { level, count }; len])
}

fn stream() -> impl Strategy<Value = Vec<Second>> {
    prop::collection::vec(run_of_seconds(), 1..=16).prop_map(|runs| runs.concat())
}

/// A monitor on a manual clock with the timing's trigger, and a listener.
fn stream_monitor(timing: &Timing) -> (ManualClock, Monitor, Arc<Mutex<Vec<EmergencyTransition>>>) {
    let clock = ManualClock::new(Timestamp::ZERO);
    let monitor = Monitor::builder().clock(clock.clone()).build().unwrap();
    monitor.configure_emergency(timing.config()).unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    monitor
        .emergency()
        .subscribe(move |t| sink.lock().unwrap().push(t.clone()));
    (clock, monitor, seen)
}

/// Moves to second `k`, records the second's values and evaluates.
fn feed(clock: &ManualClock, monitor: &Monitor, k: u64, s: Second) {
    clock.set(at(k));
    for _ in 0..s.count {
        monitor.record(LATENCY, &[], s.level).unwrap();
    }
    monitor.evaluate();
    // Listeners run on the notification thread: wait for them.
    assert!(monitor.flush_notifications(secs(10)));
}

/// The trigger's `true_since` and the mode's `clear_since` after each
/// reading, as the design states them: a true reading starts (or keeps) the
/// trigger, a false one ends it, no data changes nothing — and activates
/// nothing (`fresh`: the latest reading had data).
#[derive(Default)]
struct TriggerModel {
    true_since: Option<u64>,
    clear_since: Option<u64>,
    fresh: bool,
}

impl TriggerModel {
    fn observe(&mut self, k: u64, truth: Option<bool>) {
        match truth {
            Some(true) => _ = self.true_since.get_or_insert(k),
            Some(false) => self.true_since = None,
            None => {}
        }
        self.fresh = truth.is_some();
        self.clear_since = match self.true_since {
            Some(_) => None,
            None => self.clear_since.or(Some(k)),
        };
    }

    fn holds(&self, k: u64, for_s: u64) -> bool {
        self.true_since.is_some_and(|s| k - s >= for_s)
    }

    /// Whether the trigger activates the mode at `k`: it holds, and this
    /// reading had data.
    fn activates(&self, k: u64, for_s: u64) -> bool {
        self.fresh && self.holds(k, for_s)
    }

    fn clear_for(&self, k: u64, clear_for: u64) -> bool {
        self.clear_since.is_some_and(|c| k - c >= clear_for)
    }
}

/// The mode as seen from the transitions.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    Off,
    Auto { since: u64, dwell: u64 },
    Manual,
}

fn check_transition_basics(t: &EmergencyTransition) -> Result<(), TestCaseError> {
    prop_assert!(!t.reason.trim().is_empty(), "empty reason: {t:?}");
    match &t.source {
        EmergencySource::Manual => prop_assert!(t.values.is_empty() && t.dwell.is_none()),
        EmergencySource::Triggers(names) => {
            prop_assert_eq!(
                names,
                &vec![Arc::<str>::from("p95(api.response_time) > 1000")]
            );
            prop_assert!(t.change != Held);
            prop_assert_eq!(t.dwell.is_some(), t.change == Activated);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Triggers alone: the transitions follow the design, checked against
    /// the readings second by second.
    #[test]
    fn automatic_transitions_follow_the_stream(timing in timing(), stream in stream()) {
        let (clock, monitor, seen) = stream_monitor(&timing);
        let emergency = monitor.emergency().clone();
        let mut model = TriggerModel::default();
        let mut mode = Mode::Off;
        let (mut last_exit, mut last_dwell) = (None, None);
        for (k, &s) in stream.iter().enumerate() {
            let k = k as u64;
            feed(&clock, &monitor, k, s);
            model.observe(k, timing.truth(s));
            let now: Vec<_> = std::mem::take(&mut *seen.lock().unwrap());
            prop_assert!(now.len() <= 1, "one transition per evaluation: {now:?}");
            match now.first() {
                Some(t) => {
                    check_transition_basics(t)?;
                    prop_assert!(matches!(t.source, EmergencySource::Triggers(_)));
                    prop_assert_eq!(t.at, at(k));
                    match (t.change, mode) {
                        (Activated, Mode::Off) => {
                            // The trigger held: true at every reading for `for`.
                            prop_assert!(model.activates(k, timing.for_s), "at {k}: {t:?}");
                            let dwell = t.dwell.unwrap().as_secs();
                            prop_assert!((timing.min_dwell..=timing.max_dwell).contains(&dwell));
                            // Flap back-off: doubled within flap_window, else min_dwell.
                            prop_assert_eq!(dwell, timing.dwell(k, last_exit, last_dwell), "at {}", k);
                            prop_assert_eq!(t.values.len(), 1);
                            prop_assert!(t.values[0].value.unwrap() > 1000.0);
                            mode = Mode::Auto { since: k, dwell };
                            last_dwell = Some(dwell);
                        }
                        (Deactivated, Mode::Auto { since, dwell }) => {
                            // Never faster than the dwell allows...
                            prop_assert!(k - since >= dwell, "at {k}: on at {since}, dwell {dwell}");
                            // ... and only after all triggers were false for clear_for.
                            prop_assert!(model.clear_for(k, timing.clear_for), "at {}", k);
                            prop_assert_eq!(t.dwell, None);
                            mode = Mode::Off;
                            last_exit = Some(k);
                        }
                        (change, mode) => prop_assert!(false, "{change:?} while {mode:?} at {k}"),
                    }
                }
                // Nothing due was missed.
                None => match mode {
                    Mode::Off => prop_assert!(!model.activates(k, timing.for_s), "no activation at {}", k),
                    Mode::Auto { since, dwell } => prop_assert!(
                        !(model.clear_for(k, timing.clear_for) && k - since >= dwell),
                        "no deactivation at {}", k
                    ),
                    Mode::Manual => unreachable!(),
                },
            }
            prop_assert_eq!(emergency.is_active(), mode != Mode::Off, "at {}", k);
            prop_assert_eq!(emergency.status().active, mode != Mode::Off);
        }
        // History and listeners agree, and changes alternate.
        let history = emergency.history();
        for pair in history.windows(2) {
            prop_assert!(pair[0].change != pair[1].change);
            prop_assert!(pair[0].at <= pair[1].at);
        }
        prop_assert!(history.first().map_or(true, |t| t.change == Activated));
        prop_assert_eq!(
            history.last().is_some_and(|t| t.change == Activated),
            emergency.is_active()
        );
    }

    /// Manual switches mixed into the stream: a manual activation is never
    /// ended by the triggers, a manual deactivation ends at once, and the
    /// whole run matches a model of the design.
    #[test]
    fn manual_control_takes_precedence(timing in timing(), ops in ops()) {
        let (clock, monitor, seen) = stream_monitor(&timing);
        let emergency = monitor.emergency().clone();
        let mut model = Model::new(timing);
        let mut k = 0u64;
        for op in ops {
            let got = match op {
                Step::Second(s) => {
                    k += 1;
                    feed(&clock, &monitor, k, s);
                    model.second(k, timing.truth(s))
                }
                Step::Activate => {
                    let changed = emergency.activate("operator on").unwrap();
                    let expected = model.activate();
                    prop_assert_eq!(changed, expected.is_some());
                    expected
                }
                Step::Deactivate => {
                    let changed = emergency.deactivate("operator off").unwrap();
                    let expected = model.deactivate(k);
                    prop_assert_eq!(changed, expected.is_some());
                    expected
                }
            };
            prop_assert!(emergency.flush_notifications(secs(10)));
            let now: Vec<_> = std::mem::take(&mut *seen.lock().unwrap());
            for t in &now {
                check_transition_basics(t)?;
                prop_assert_eq!(t.at, at(k));
            }
            let summary: Vec<_> = now
                .iter()
                .map(|t| (t.change, t.source == EmergencySource::Manual, t.dwell.map(|d| d.as_secs())))
                .collect();
            prop_assert_eq!(summary, got.into_iter().collect::<Vec<_>>(), "at {} after {:?}", k, op);
            prop_assert_eq!(emergency.is_active(), model.mode != Mode::Off);
            prop_assert_eq!(emergency.status().manual, model.mode == Mode::Manual);
        }
        // Over the whole history: after a manual activation or hold, the
        // next deactivation is manual.
        let mut held = false;
        for t in emergency.history() {
            match t.change {
                Activated | Held => held |= t.source == EmergencySource::Manual,
                Deactivated => {
                    prop_assert!(!held || t.source == EmergencySource::Manual, "{t:?}");
                    held = false;
                }
            }
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Step {
    Second(Second),
    Activate,
    Deactivate,
}

fn ops() -> impl Strategy<Value = Vec<Step>> {
    let item = prop_oneof![
        6 => run_of_seconds().prop_map(|run| run.into_iter().map(Step::Second).collect::<Vec<_>>()),
        1 => Just(vec![Step::Activate]),
        1 => Just(vec![Step::Deactivate]),
    ];
    prop::collection::vec(item, 1..=24).prop_map(|items| items.concat())
}

/// The design's state machine, for one trigger, in whole seconds.
/// Transitions are `(change, manual, dwell)`.
struct Model {
    timing: Timing,
    trigger: TriggerModel,
    mode: Mode,
    last_exit: Option<u64>,
    last_dwell: Option<u64>,
}

type Expected = Option<(EmergencyChange, bool, Option<u64>)>;

impl Model {
    fn new(timing: Timing) -> Model {
        Model {
            timing,
            trigger: TriggerModel::default(),
            mode: Mode::Off,
            last_exit: None,
            last_dwell: None,
        }
    }

    fn second(&mut self, k: u64, truth: Option<bool>) -> Expected {
        self.trigger.observe(k, truth);
        match self.mode {
            Mode::Off if self.trigger.activates(k, self.timing.for_s) => {
                let dwell = self.timing.dwell(k, self.last_exit, self.last_dwell);
                self.mode = Mode::Auto { since: k, dwell };
                self.last_dwell = Some(dwell);
                Some((Activated, false, Some(dwell)))
            }
            Mode::Auto { since, dwell }
                if self.trigger.clear_for(k, self.timing.clear_for) && k - since >= dwell =>
            {
                self.mode = Mode::Off;
                self.last_exit = Some(k);
                Some((Deactivated, false, None))
            }
            _ => None,
        }
    }

    fn activate(&mut self) -> Expected {
        let change = match self.mode {
            Mode::Manual => return None,
            Mode::Auto { .. } => Held,
            Mode::Off => Activated,
        };
        self.mode = Mode::Manual;
        Some((change, true, None))
    }

    fn deactivate(&mut self, k: u64) -> Expected {
        if self.mode == Mode::Off {
            return None;
        }
        self.mode = Mode::Off;
        self.last_exit = Some(k);
        // A trigger still true needs its full `for` again.
        if self.trigger.true_since.is_some() {
            self.trigger.true_since = Some(k);
        }
        Some((Deactivated, true, None))
    }
}

/// A regression seed for the proptests above, as a plain test: a flapping
/// stream whose dwells go 2, 4, 8, then back to 2 after a calm spell.
#[test]
fn a_flapping_stream_backs_off_and_recovers() {
    let timing = Timing {
        for_s: 0,
        clear_for: 1,
        min_dwell: 2,
        max_dwell: 8,
        flap_window: 10,
        min_samples: 1,
    };
    let (clock, monitor, seen) = stream_monitor(&timing);
    let slow = Second {
        level: 5000.0,
        count: 2,
    };
    let fast = Second {
        level: 100.0,
        count: 2,
    };
    let mut pattern = VecDeque::new();
    for _ in 0..4 {
        pattern.push_back(slow);
        pattern.extend([fast; 9]);
    }
    pattern.extend([fast; 20]);
    pattern.push_back(slow);
    pattern.extend([fast; 5]);
    for (k, s) in pattern.into_iter().enumerate() {
        feed(&clock, &monitor, k as u64, s);
    }
    assert!(monitor.flush_notifications(secs(10)));
    let dwells: Vec<(u64, u64)> = seen
        .lock()
        .unwrap()
        .iter()
        .filter(|t| t.change == Activated)
        .map(|t| (sec_of(t.at), t.dwell.unwrap().as_secs()))
        .collect();
    assert_eq!(dwells, vec![(0, 2), (10, 4), (20, 8), (30, 8), (60, 2)]);
}

/// A listener that evaluates, called after a manual switch on one thread
/// while another thread evaluates: no lock is held while listeners run, so
/// the two cannot wait for each other.
#[test]
fn a_listener_may_evaluate_while_another_thread_evaluates() {
    let e = env(EmergencyConfig::default().trigger(load_above(0.9)));
    let monitor = e.monitor.clone();
    e.emergency.subscribe(move |_| {
        monitor.evaluate();
    });
    let (done, finished) = mpsc::channel();
    let switcher = {
        let emergency = e.emergency.clone();
        let done = done.clone();
        thread::spawn(move || {
            for i in 0..2_000 {
                emergency.activate(&format!("drill {i}")).unwrap();
                emergency.deactivate("drill over").unwrap();
            }
            done.send(()).unwrap();
        })
    };
    let evaluator = {
        let monitor = e.monitor.clone();
        thread::spawn(move || {
            for _ in 0..2_000 {
                monitor.evaluate();
            }
            done.send(()).unwrap();
        })
    };
    for _ in 0..2 {
        finished
            .recv_timeout(Duration::from_secs(60))
            .expect("no deadlock between listeners and evaluation");
    }
    switcher.join().unwrap();
    evaluator.join().unwrap();
    assert!(e.emergency.flush_notifications(secs(60)));
    let history = e.emergency.history();
    assert!(!e.emergency.is_active());
    assert_eq!(history.last().map(|t| t.change), Some(Deactivated));
    assert_eq!(
        e.seen.lock().unwrap().len(),
        4_000,
        "every transition delivered"
    );
}
