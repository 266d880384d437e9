//! The `emergency` section of rules documents: every field and its default,
//! errors naming the field's path, all-or-nothing loading, the export round
//! trip, and loaded triggers that switch the mode.

use std::time::Duration;

use perf_core::{
    EmergencyChange, EmergencyConfig, EmergencySource, ManualClock, Monitor, Op, PerfError, Rule,
    RulesConfig, Severity, Target, Timestamp, Trigger, TriggerCondition,
};
use Severity::{Critical, Info, Warning};

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn new_monitor() -> Monitor {
    Monitor::builder().build().unwrap()
}

/// A document whose `emergency` section is `section` (a JSON object).
fn emergency_doc(section: &str) -> String {
    format!(r#"{{"version": 1, "emergency": {section}}}"#)
}

/// A document of `triggers` (JSON objects separated by commas).
fn triggers_doc(triggers: &str) -> String {
    emergency_doc(&format!(r#"{{"triggers": [{triggers}]}}"#))
}

/// The emergency configuration of `doc`, which must have one.
fn emergency(doc: &str) -> EmergencyConfig {
    let config = RulesConfig::from_json(doc).unwrap();
    config.emergency().unwrap().expect("an emergency section")
}

/// The one trigger of a document holding `trigger`.
fn trigger(trigger: &str) -> Trigger {
    let config = emergency(&triggers_doc(trigger));
    assert_eq!(config.triggers.len(), 1);
    config.triggers.into_iter().next().unwrap()
}

/// A condition trigger on `target`, `op` and `threshold`, named after it.
fn condition(target: Target, op: Op, threshold: f64) -> TriggerCondition {
    TriggerCondition::new(target, op, threshold)
}

/// `(path, reason)` of the error of loading `doc` into `monitor`, which
/// must have kept its rules, budgets and emergency configuration.
fn load_error_on(monitor: &Monitor, doc: &str) -> (String, String) {
    let before = (
        monitor.rules(),
        monitor.budgets(),
        monitor.emergency().config(),
    );
    let result = monitor.load_rules(doc);
    let after = (
        monitor.rules(),
        monitor.budgets(),
        monitor.emergency().config(),
    );
    assert_eq!(after, before, "a failed load changed the monitor");
    match result {
        Err(PerfError::InvalidRulesJson { path, reason }) => (path, reason),
        other => panic!("expected InvalidRulesJson, got {other:?}"),
    }
}

/// Asserts that loading `doc` into a fresh monitor fails at `path` with a
/// reason containing `reason`, changing nothing.
#[track_caller]
fn assert_error(doc: &str, path: &str, reason: &str) {
    let (actual_path, actual_reason) = load_error_on(&new_monitor(), doc);
    assert_eq!(actual_path, path, "reason: {actual_reason}");
    assert!(
        actual_reason.contains(reason),
        "{actual_reason:?} does not contain {reason:?}"
    );
}

/// The issue's example, with a rule the second trigger refers to.
const SEED: &str = r#"{"version": 1,
    "rules": [{"name": "http-errors", "metric": "http.errors", "stat": "ratio",
               "denominator": "http.requests",
               "levels": [{"severity": "warning", "threshold": 0.01},
                          {"severity": "critical", "threshold": 0.05}]}],
    "emergency": {
        "triggers": [
            {"metric": "api.response_time", "stat": "p95", "op": ">", "threshold": 1000,
             "window": "60s", "min_samples": 20, "for": "60s"},
            {"rule": "http-errors", "severity": "critical"}
        ],
        "clear_for": "120s",
        "min_dwell": "300s"
    }}"#;

/// The emergency configuration of [`SEED`].
fn seed_config() -> EmergencyConfig {
    let slow = condition(
        Target::percentile("api.response_time", 95.0),
        Op::Gt,
        1000.0,
    )
    .window(secs(60))
    .min_samples(20);
    EmergencyConfig::default()
        .trigger(Trigger::condition(slow).for_duration(secs(60)))
        .trigger(Trigger::rule("http-errors", Critical))
        .clear_for(secs(120))
        .min_dwell(secs(300))
}

#[test]
fn the_issue_example_reads_as_written() {
    let issue = emergency(
        r#"{"version": 1, "emergency": {"triggers": [{"metric": "api.response_time", "stat": "p95",
            "op": ">", "threshold": 1000, "for": "60s"}], "clear_for": "120s", "min_dwell": "300s"}}"#,
    );
    let slow = condition(
        Target::percentile("api.response_time", 95.0),
        Op::Gt,
        1000.0,
    );
    let expected = EmergencyConfig::default()
        .trigger(Trigger::condition(slow).for_duration(secs(60)))
        .clear_for(secs(120))
        .min_dwell(secs(300));
    assert_eq!(issue, expected);
    assert_eq!(issue.triggers[0].name, "p95(api.response_time) > 1000");
    assert_eq!(emergency(SEED), seed_config());
}

#[test]
fn every_field_of_a_condition_trigger() {
    let full = trigger(
        r#"{"name": "slow-login", "metric": "api.response_time", "stat": "p99.9", "op": ">=",
            "threshold": 250.5, "window": "2m", "min_samples": 50,
            "tags": {"route": "/login", "method": "POST"}, "exclude_tags": {"status": "404"},
            "for": "1m 30s"}"#,
    );
    let expected = condition(Target::percentile("api.response_time", 99.9), Op::Ge, 250.5)
        .window(secs(120))
        .min_samples(50)
        .tag("route", "/login")
        .tag("method", "POST")
        .exclude_tag("status", "404");
    let expected = Trigger::condition(expected)
        .named("slow-login")
        .for_duration(secs(90));
    assert_eq!(full, expected);
}

#[test]
fn stat_names_the_target_as_in_rules() {
    let target = |fields: &str| {
        let trigger = trigger(&format!(r#"{{"metric": "m", {fields}, "threshold": 1}}"#));
        match trigger.source {
            perf_core::TriggerSource::Condition(c) => c.watch.target,
            other => panic!("expected a condition, got {other:?}"),
        }
    };
    assert_eq!(target(r#""stat": "p999""#), Target::percentile("m", 99.9));
    assert_eq!(
        target(r#""stat": "mean""#),
        Target::stat("m", perf_core::Statistic::Mean)
    );
    assert_eq!(target(r#""stat": "rate""#), Target::rate("m"));
    assert_eq!(target(r#""stat": "value""#), Target::gauge("m"));
    assert_eq!(
        target(r#""stat": "ratio", "denominator": "all""#),
        Target::ratio("m", "all")
    );
}

#[test]
fn defaults_fill_what_the_document_leaves_out() {
    assert_eq!(emergency(&emergency_doc("{}")), EmergencyConfig::default());
    assert_eq!(
        RulesConfig::from_json(r#"{"version": 1}"#)
            .unwrap()
            .emergency(),
        Ok(None)
    );

    let plain = trigger(r#"{"metric": "lat", "stat": "p95", "threshold": 500}"#);
    let expected = Trigger::condition(condition(Target::percentile("lat", 95.0), Op::Gt, 500.0));
    assert_eq!(plain, expected);
    assert_eq!(plain.name, "p95(lat) > 500");
    assert_eq!(plain.for_duration, Duration::ZERO);
    let perf_core::TriggerSource::Condition(c) = &plain.source else {
        unreachable!()
    };
    assert_eq!((c.watch.window, c.watch.min_samples), (secs(60), 0));
    assert!(c.watch.tags.is_empty() && c.watch.exclude_tags.is_empty());

    // A rule reference counts any severity by default, and is named after the rule.
    assert_eq!(trigger(r#"{"rule": "slow"}"#), Trigger::rule("slow", Info));
    assert_eq!(
        trigger(r#"{"rule": "slow", "severity": "warning", "name": "paged", "for": "5m"}"#),
        Trigger::rule("slow", Warning)
            .named("paged")
            .for_duration(secs(300))
    );
}

#[test]
fn timings_override_the_defaults() {
    let config = emergency(&emergency_doc(
        r#"{"clear_for": "30s", "min_dwell": "2m", "flap_window": "1h", "max_dwell": "2h",
            "evaluate_every": "250ms"}"#,
    ));
    let expected = EmergencyConfig::default()
        .clear_for(secs(30))
        .min_dwell(secs(120))
        .flap_window(secs(3600))
        .max_dwell(secs(7200))
        .evaluate_every(Duration::from_millis(250));
    assert_eq!(config, expected);
}

#[test]
fn syntax_errors_name_the_field() {
    let base = r#""metric": "m", "stat": "p95""#;
    assert_error(
        &triggers_doc(&format!(r#"{{{base}, "thresold": 5}}"#)),
        "emergency.triggers[0].thresold",
        "unknown field `thresold`",
    );
    assert_error(
        &emergency_doc(r#"{"clear_after": "1m"}"#),
        "emergency.clear_after",
        "unknown field `clear_after`",
    );
    assert_error(
        &triggers_doc(&format!(r#"{{{base}, "threshold": "high"}}"#)),
        "emergency.triggers[0].threshold",
        "invalid type: string",
    );
    assert_error(
        &triggers_doc(&format!(r#"{{{base}, "threshold": 1, "for": "a while"}}"#)),
        "emergency.triggers[0].for",
        r#"invalid duration "a while""#,
    );
    assert_error(
        &triggers_doc(r#"{"metric": "m", "stat": "p95th", "threshold": 1}"#),
        "emergency.triggers[0].stat",
        r#"unknown statistic "p95th""#,
    );
    assert_error(
        &triggers_doc(r#"{"rule": "r", "severity": "fatal"}"#),
        "emergency.triggers[0].severity",
        r#"unknown severity "fatal""#,
    );
    assert_error(
        &emergency_doc(r#"{"min_dwell": 300}"#),
        "emergency.min_dwell",
        "expected a duration such as",
    );
    assert_error(
        &emergency_doc(r#"{"triggers": {}}"#),
        "emergency.triggers",
        "invalid type: map",
    );
}

#[test]
fn a_trigger_has_one_form() {
    assert_error(
        &triggers_doc(r#"{"rule": "r", "metric": "m"}"#),
        "emergency.triggers[0].metric",
        "is not allowed with rule",
    );
    assert_error(
        &triggers_doc(r#"{"rule": "r", "threshold": 5}"#),
        "emergency.triggers[0].threshold",
        "is not allowed with rule",
    );
    assert_error(
        &triggers_doc(r#"{"rule": "r", "tags": {"a": "b"}}"#),
        "emergency.triggers[0].tags",
        "is not allowed with rule",
    );
    assert_error(
        &triggers_doc(r#"{"metric": "m", "stat": "p95", "threshold": 1, "severity": "critical"}"#),
        "emergency.triggers[0].severity",
        "is not allowed with metric",
    );
    assert_error(
        &triggers_doc(r#"{"name": "x", "for": "1m"}"#),
        "emergency.triggers[0].metric",
        "is required (or rule)",
    );
}

#[test]
fn condition_errors_name_the_field() {
    assert_error(
        &triggers_doc(
            r#"{"metric": "m", "stat": "p95", "threshold": 1}, {"metric": "m", "stat": "p95"}"#,
        ),
        "emergency.triggers[1].threshold",
        "is required with metric",
    );
    assert_error(
        &triggers_doc(r#"{"metric": "m", "threshold": 1}"#),
        "emergency.triggers[0].stat",
        "is required with metric",
    );
    assert_error(
        &triggers_doc(r#"{"metric": "m", "stat": "ratio", "threshold": 1}"#),
        "emergency.triggers[0].denominator",
        r#"is required with "ratio""#,
    );
    assert_error(
        &triggers_doc(r#"{"metric": "m", "stat": "p95", "denominator": "d", "threshold": 1}"#),
        "emergency.triggers[0].denominator",
        r#"is only allowed with "ratio""#,
    );
    assert_error(
        &triggers_doc(r#"{"metric": "9lives", "stat": "p95", "threshold": 1}"#),
        "emergency.triggers[0].metric",
        "must start with a letter",
    );
    assert_error(
        &triggers_doc(r#"{"metric": "m", "stat": "p95", "threshold": 1, "window": "0s"}"#),
        "emergency.triggers[0].window",
        "must be greater than zero",
    );
    assert_error(
        &triggers_doc(
            r#"{"metric": "m", "stat": "p95", "threshold": 1, "exclude_tags": {"status": ""}}"#,
        ),
        "emergency.triggers[0].exclude_tags",
        "empty",
    );
    assert_error(
        &triggers_doc(r#"{"name": "", "metric": "m", "stat": "p95", "threshold": 1}"#),
        "emergency.triggers[0].name",
        "must be 1-200 characters",
    );
}

#[test]
fn configuration_errors_name_the_field() {
    assert_error(
        &emergency_doc(r#"{"min_dwell": "1h", "max_dwell": "30m"}"#),
        "emergency.max_dwell",
        "must be at least min_dwell",
    );
    assert_error(
        &emergency_doc(r#"{"evaluate_every": "0s"}"#),
        "emergency.evaluate_every",
        "must be at least 1 ms",
    );
    assert_error(
        &triggers_doc(
            r#"{"metric": "m", "stat": "p95", "threshold": 1, "name": "a"}, {"rule": "a"}"#,
        ),
        "emergency.triggers[1].name",
        r#""a" appears twice"#,
    );
}

#[test]
fn monitor_errors_name_the_field() {
    // A rule neither the document nor the monitor has.
    let doc = r#"{"version": 1,
        "rules": [{"name": "known", "metric": "m", "stat": "p95", "threshold": 1}],
        "emergency": {"triggers": [{"rule": "known"}, {"rule": "unknown"}]}}"#;
    assert_error(
        doc,
        "emergency.triggers[1].rule",
        r#"no rule named "unknown""#,
    );
    // The default retention is 5 minutes.
    assert_error(
        &triggers_doc(r#"{"metric": "m", "stat": "p95", "threshold": 1, "window": "10m"}"#),
        "emergency.triggers[0].window",
        "retention",
    );
}

#[test]
fn a_bad_emergency_section_adds_no_rules() {
    let monitor = new_monitor();
    monitor
        .configure_emergency(EmergencyConfig::default().min_dwell(secs(120)))
        .unwrap();
    let bad = SEED.replace(
        r#""min_dwell": "300s""#,
        r#""min_dwell": "300s", "max_dwell": "1m""#,
    );
    let (path, _) = load_error_on(&monitor, &bad);
    assert_eq!(path, "emergency.max_dwell");
    assert!(monitor.rules().is_empty());
    assert_eq!(
        monitor.emergency().config(),
        EmergencyConfig::default().min_dwell(secs(120))
    );

    let unknown_rule = SEED.replace(r#""rule": "http-errors""#, r#""rule": "http-error""#);
    let (path, _) = load_error_on(&monitor, &unknown_rule);
    assert_eq!(path, "emergency.triggers[1].rule");
}

#[test]
fn a_taken_name_applies_no_emergency_section() {
    let monitor = new_monitor();
    let taken = Rule::new("http-errors", Target::rate("x")).level(Info, 1.0);
    monitor.add_rule(taken).unwrap();
    assert_eq!(
        monitor.load_rules(SEED),
        Err(PerfError::DuplicateRule {
            name: "http-errors".into()
        })
    );
    assert_eq!(monitor.emergency().config(), EmergencyConfig::default());
}

#[test]
fn rule_references_find_rules_of_the_document_the_monitor_and_budgets() {
    let monitor = new_monitor();
    // The rule is in the same document; the count is of rules and budgets.
    assert_eq!(monitor.load_rules(SEED), Ok(1));
    assert_eq!(monitor.emergency().config(), seed_config());

    // A rule already on the monitor, and a rule a budget of the document generates.
    let doc = r#"{"version": 1,
        "budgets": [{"name": "web", "preset": "web_vitals", "alerts": {}}],
        "emergency": {"triggers": [{"rule": "http-errors", "severity": "critical"},
                                   {"rule": "budget:web:web_vitals.lcp:p75", "severity": "critical"}]}}"#;
    assert_eq!(monitor.load_rules(doc), Ok(1));
    let names: Vec<String> = (monitor.emergency().config().triggers.into_iter())
        .map(|t| t.name)
        .collect();
    assert_eq!(names, ["http-errors", "budget:web:web_vitals.lcp:p75"]);
}

#[test]
fn a_document_replaces_the_emergency_configuration_only_if_it_has_one() {
    let monitor = new_monitor();
    monitor
        .load_rules(&emergency_doc(r#"{"min_dwell": "10m"}"#))
        .unwrap();
    assert_eq!(
        monitor.emergency().config(),
        EmergencyConfig::default().min_dwell(secs(600))
    );
    monitor
        .load_rules(r#"{"version": 1, "rules": [{"name": "r", "metric": "m", "stat": "p95", "threshold": 1}]}"#)
        .unwrap();
    assert_eq!(monitor.emergency().config().min_dwell, secs(600));
    monitor.load_rules(&emergency_doc("{}")).unwrap();
    assert_eq!(monitor.emergency().config(), EmergencyConfig::default());
}

#[test]
fn documents_read_back_as_written() {
    let config = RulesConfig::from_json(SEED).unwrap();
    let json = config.to_json();
    assert_eq!(RulesConfig::from_json(&json).unwrap(), config);
    assert!(json.contains(r#""min_dwell": "5m""#), "{json}");
    assert!(json.contains(r#""rule": "http-errors""#), "{json}");
}

/// A monitor with every kind of trigger and every timing set.
fn everything() -> Monitor {
    let monitor = new_monitor();
    monitor.load_rules(SEED).unwrap();
    let errors = condition(Target::ratio("http.errors", "http.requests"), Op::Ge, 0.1)
        .window(secs(30))
        .tag("route", "/pay")
        .exclude_tag("status", "404");
    let free = condition(Target::gauge("memory.free"), Op::Lt, 100.0).min_samples(3);
    let config = seed_config()
        .trigger(
            Trigger::condition(errors)
                .named("pay-errors")
                .for_duration(secs(10)),
        )
        .trigger(Trigger::condition(free))
        .trigger(Trigger::condition(condition(
            Target::rate("requests"),
            Op::Le,
            0.5,
        )))
        .trigger(Trigger::rule("http-errors", Warning).named("errors-warning"))
        .flap_window(secs(3600))
        .max_dwell(secs(7200))
        .evaluate_every(Duration::from_millis(500));
    monitor.configure_emergency(config).unwrap();
    monitor
}

#[test]
fn rules_json_round_trips_through_a_new_monitor() {
    for original in [everything(), new_monitor()] {
        let exported = original.rules_json();
        let copy = new_monitor();
        copy.load_rules(&exported).unwrap();
        assert_eq!(copy.emergency().config(), original.emergency().config());
        assert_eq!(copy.rules(), original.rules());
        assert_eq!(copy.rules_json(), exported);
    }
}

#[test]
fn exports_leave_defaults_out() {
    let json = |monitor: &Monitor| -> serde_json::Value {
        serde_json::from_str(&monitor.rules_json()).unwrap()
    };
    let monitor = new_monitor();
    assert!(json(&monitor).get("emergency").is_none());

    monitor
        .configure_emergency(EmergencyConfig::default().clear_for(secs(90)))
        .unwrap();
    assert_eq!(
        json(&monitor)["emergency"],
        serde_json::json!({"clear_for": "1m 30s"})
    );

    let named = Trigger::condition(condition(Target::percentile("lat", 95.0), Op::Gt, 500.0))
        .for_duration(secs(60));
    let config = EmergencyConfig::default()
        .trigger(named)
        .trigger(Trigger::condition(condition(Target::gauge("free"), Op::Lt, 1.0)).named("low"));
    monitor.configure_emergency(config).unwrap();
    assert_eq!(
        json(&monitor)["emergency"],
        serde_json::json!({"triggers": [
            {"metric": "lat", "stat": "p95", "threshold": 500.0, "for": "1m"},
            {"name": "low", "metric": "free", "stat": "value", "op": "<", "threshold": 1.0}
        ]})
    );
}

/// Records `n` values of `value` ms into `http.server.duration`.
fn record(monitor: &Monitor, n: usize, value: f64) {
    for _ in 0..n {
        monitor.record("http.server.duration", &[], value).unwrap();
    }
}

#[test]
fn a_loaded_seed_trigger_turns_the_mode_on_after_its_for() {
    let clock = ManualClock::new(Timestamp::ZERO);
    let monitor = Monitor::builder().clock(clock.clone()).build().unwrap();
    let doc = emergency_doc(
        r#"{"triggers": [{"name": "slow", "metric": "http.server.duration", "stat": "p95",
            "threshold": 1000, "window": "60s", "min_samples": 20, "for": "60s"}],
            "clear_for": "120s", "min_dwell": "300s"}"#,
    );
    monitor.load_rules(&doc).unwrap();
    let emergency = monitor.emergency().clone();

    // Too few samples: no data, which starts nothing.
    record(&monitor, 10, 1500.0);
    monitor.evaluate();
    assert!(emergency.status().triggers[0].true_since.is_none());

    for second in 1..=60 {
        clock.set(Timestamp::from_secs(second));
        record(&monitor, 30, 1500.0);
        monitor.evaluate();
        // True since second 1: it holds from second 61.
        assert!(!emergency.is_active(), "active at {second} s");
    }
    clock.set(Timestamp::from_secs(61));
    record(&monitor, 30, 1500.0);
    monitor.evaluate();
    assert!(emergency.is_active());
    let history = emergency.history();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].change, EmergencyChange::Activated);
    assert_eq!(
        history[0].source,
        EmergencySource::Triggers(vec!["slow".into()])
    );
    assert_eq!(history[0].dwell, Some(secs(300)));
}

#[test]
fn a_loaded_rule_reference_turns_the_mode_on_at_its_severity() {
    let clock = ManualClock::new(Timestamp::ZERO);
    let monitor = Monitor::builder().clock(clock.clone()).build().unwrap();
    monitor.load_rules(SEED).unwrap();
    let emergency = monitor.emergency();
    let requests = monitor.counter("http.requests", &[]).unwrap();
    let errors = monitor.counter("http.errors", &[]).unwrap();

    // 3 %: a warning, below the trigger's severity.
    requests.increment(100);
    errors.increment(3);
    monitor.evaluate();
    assert!(!emergency.is_active());

    // 10 % more in the window: critical, and the trigger holds at once.
    clock.advance(secs(1));
    requests.increment(100);
    errors.increment(17);
    monitor.evaluate();
    assert!(emergency.is_active());
    assert_eq!(
        emergency.history()[0].source,
        EmergencySource::Triggers(vec!["http-errors".into()])
    );
}
