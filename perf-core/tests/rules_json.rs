//! Rules documents (`RulesConfig`, `Monitor::load_rules`): the example file,
//! every field of the schema, errors naming the field's path, all-or-nothing
//! loading, the export round trip, and loaded rules that fire. The
//! `emergency` section has its own tests in `emergency_json.rs`.

use std::time::Duration;

use perf_core::{
    AlertKind, Budget, BudgetAlerts, BudgetItem, EmergencyConfig, Level, ManualClock, Monitor,
    NoDataPolicy, Op, PerfError, RepeatIntervals, Rule, RulesConfig, Severity, Statistic, Target,
    Timestamp, Trigger, TriggerCondition,
};
use Severity::{Critical, Error, Info, Warning};

const DEFAULT_RULES: &str = include_str!("../../examples/rules/default-rules.json");

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn new_monitor() -> Monitor {
    Monitor::builder().build().unwrap()
}

/// A document of `rules` (JSON objects separated by commas).
fn rules_doc(rules: &str) -> String {
    format!(r#"{{"version": 1, "rules": [{rules}]}}"#)
}

/// A document of `budgets`.
fn budgets_doc(budgets: &str) -> String {
    format!(r#"{{"version": 1, "budgets": [{budgets}]}}"#)
}

/// The one rule of a document holding `rule`.
fn rule(rule: &str) -> Rule {
    let (rules, budgets) = RulesConfig::from_json(&rules_doc(rule))
        .and_then(RulesConfig::into_parts)
        .unwrap();
    assert_eq!((rules.len(), budgets.len()), (1, 0));
    rules.into_iter().next().unwrap()
}

/// The one budget of a document holding `budget`.
fn budget(budget: &str) -> Budget {
    let (rules, budgets) = RulesConfig::from_json(&budgets_doc(budget))
        .and_then(RulesConfig::into_parts)
        .unwrap();
    assert_eq!((rules.len(), budgets.len()), (0, 1));
    budgets.into_iter().next().unwrap()
}

/// `(path, reason)` of the error of loading `doc` into a fresh monitor,
/// which must have added nothing.
fn load_error(doc: &str) -> (String, String) {
    let monitor = new_monitor();
    let result = monitor.load_rules(doc);
    assert!(monitor.rules().is_empty() && monitor.budgets().is_empty());
    match result {
        Err(PerfError::InvalidRulesJson { path, reason }) => (path, reason),
        other => panic!("expected InvalidRulesJson, got {other:?}"),
    }
}

/// Asserts that loading `doc` fails at `path` with a reason containing `reason`.
#[track_caller]
fn assert_error(doc: &str, path: &str, reason: &str) {
    let (actual_path, actual_reason) = load_error(doc);
    assert_eq!(actual_path, path, "reason: {actual_reason}");
    assert!(
        actual_reason.contains(reason),
        "{actual_reason:?} does not contain {reason:?}"
    );
}

/// The emergency configuration of the example file.
fn default_emergency() -> EmergencyConfig {
    let slow = TriggerCondition::new(
        Target::percentile("http.server.duration", 95.0),
        Op::Gt,
        1000.0,
    )
    .window(secs(60))
    .min_samples(20);
    EmergencyConfig::default()
        .trigger(
            Trigger::condition(slow)
                .named("http-latency-p95")
                .for_duration(secs(60)),
        )
        .trigger(Trigger::rule("http-error-rate", Critical))
        .clear_for(secs(120))
        .min_dwell(secs(300))
}

/// The rules of the example file, descriptions aside.
fn default_rules() -> Vec<Rule> {
    let latency = Target::percentile("http.server.duration", 95.0);
    let errors = Target::ratio("http.server.errors", "http.server.requests");
    vec![
        Rule::new("http-latency", latency.clone())
            .level(Warning, 500.0)
            .level(Critical, 1000.0),
        Rule::new("http-error-rate", errors.clone())
            .level(Warning, 0.01)
            .level(Critical, 0.05),
        Rule::new("http-latency-sustained", latency)
            .level(Warning, 200.0)
            .for_duration(secs(300)),
        Rule::new("http-error-rate-sustained", errors)
            .level(Error, 0.01)
            .for_duration(secs(120)),
    ]
}

/// The budgets of the example file.
fn default_budgets() -> Vec<Budget> {
    let mut vitals = Budget::web_vitals().with_alerts(BudgetAlerts::default());
    vitals.name = "web-vitals".into();
    let api = Budget::api_latency("api-latency", "http.server.duration", 100.0, 300.0, 800.0);
    vec![vitals, api]
}

#[test]
fn the_example_file_loads_the_default_rules_and_budgets() {
    let monitor = new_monitor();
    assert_eq!(monitor.load_rules(DEFAULT_RULES).unwrap(), 6);
    let mut rules = monitor.rules();
    // The four rules, then one alert rule per Web Vitals item.
    assert_eq!(rules.len(), 4 + 6);
    let vitals_rules = rules.split_off(4);
    for rule in &mut rules {
        let description = rule.description.take().unwrap();
        assert!(description.len() > 20, "{}: {description:?}", rule.name);
    }
    assert_eq!(rules, default_rules());
    assert_eq!(monitor.budgets(), default_budgets());
    assert_eq!(vitals_rules, default_budgets()[0].rules());
    assert_eq!(vitals_rules[0].name, "budget:web-vitals:web_vitals.lcp:p75");
    assert_eq!(monitor.emergency().config(), default_emergency());
    let config = RulesConfig::from_json(DEFAULT_RULES).unwrap();
    assert_eq!(config.emergency().unwrap(), Some(default_emergency()));
}

#[test]
fn stat_names_the_target() {
    let target = |stat: &str| {
        rule(&format!(
            r#"{{"name": "r", "metric": "m", "stat": "{stat}", "threshold": 1}}"#
        ))
        .watch
        .target
    };
    assert_eq!(target("p95"), Target::percentile("m", 95.0));
    assert_eq!(target("p999"), Target::percentile("m", 99.9));
    assert_eq!(target("p99.9"), Target::percentile("m", 99.9));
    assert_eq!(target("p50"), Target::percentile("m", 50.0));
    assert_eq!(target("mean"), Target::stat("m", Statistic::Mean));
    assert_eq!(target("max"), Target::stat("m", Statistic::Max));
    assert_eq!(target("count"), Target::stat("m", Statistic::Count));
    assert_eq!(target("stddev"), Target::stat("m", Statistic::Stddev));
    assert_eq!(target("rate"), Target::rate("m"));
    assert_eq!(target("value"), Target::gauge("m"));
    let ratio = rule(
        r#"{"name": "r", "metric": "errors", "stat": "ratio", "denominator": "requests", "threshold": 0.1}"#,
    );
    assert_eq!(ratio.watch.target, Target::ratio("errors", "requests"));
}

#[test]
fn levels_and_op_make_the_ladder_sorted_by_severity() {
    let upper = rule(
        r#"{"name": "r", "metric": "m", "stat": "p95", "op": ">=", "levels": [
            {"severity": "critical", "threshold": 1000, "clear": 900},
            {"severity": "warning", "threshold": 500, "clear": 400},
            {"severity": "info", "threshold": 100}
        ]}"#,
    );
    assert_eq!(upper.watch.op, Op::Ge);
    let level = |severity, threshold, clear| Level {
        severity,
        threshold,
        clear,
    };
    assert_eq!(
        upper.levels,
        [
            level(Info, 100.0, None),
            level(Warning, 500.0, Some(400.0)),
            level(Critical, 1000.0, Some(900.0)),
        ]
    );
    let lower = rule(
        r#"{"name": "r", "metric": "free", "stat": "value", "op": "<", "levels": [
            {"severity": "warning", "threshold": 10}, {"severity": "critical", "threshold": 5}]}"#,
    );
    assert_eq!(lower.watch.op, Op::Lt);
    assert_eq!(lower.highest_holding(4.0), Some(Critical));
    assert_eq!(lower.highest_holding(7.0), Some(Warning));
    for (text, op) in [(">", Op::Gt), ("<=", Op::Le)] {
        let json = format!(
            r#"{{"name": "r", "metric": "m", "stat": "p95", "op": "{text}", "threshold": 1}}"#
        );
        assert_eq!(rule(&json).watch.op, op);
    }
}

#[test]
fn the_shorthand_threshold_is_one_level() {
    let plain = rule(r#"{"name": "r", "metric": "m", "stat": "p95", "threshold": 250}"#);
    assert_eq!(
        plain,
        Rule::new("r", Target::percentile("m", 95.0)).level(Warning, 250.0)
    );
    let full = rule(
        r#"{"name": "r", "metric": "m", "stat": "p95", "threshold": 250, "severity": "critical", "clear": 200}"#,
    );
    assert_eq!(
        full.levels,
        [Level {
            severity: Critical,
            threshold: 250.0,
            clear: Some(200.0)
        }]
    );
}

#[test]
fn timing_fields_and_their_defaults() {
    let defaults = rule(r#"{"name": "r", "metric": "m", "stat": "p95", "threshold": 1}"#);
    assert_eq!(defaults.watch.window, secs(60));
    assert_eq!(defaults.watch.op, Op::Gt);
    assert_eq!(
        (defaults.for_duration, defaults.clear_for),
        (secs(0), secs(0))
    );
    assert_eq!(defaults.watch.min_samples, 0);
    assert_eq!(defaults.no_data, NoDataPolicy::KeepLast);
    assert_eq!((defaults.repeat, defaults.description), (None, None));
    let set = rule(
        r#"{"name": "r", "metric": "m", "stat": "p95", "threshold": 1, "window": "2m",
            "for": "1h 30m", "clear_for": "45s", "min_samples": 100, "no_data": "resolve"}"#,
    );
    assert_eq!(set.watch.window, secs(120));
    assert_eq!(set.for_duration, secs(5400));
    assert_eq!(set.clear_for, secs(45));
    assert_eq!(set.watch.min_samples, 100);
    assert_eq!(set.no_data, NoDataPolicy::Resolve);
    let fire = rule(
        r#"{"name": "r", "metric": "m", "stat": "p95", "threshold": 1, "no_data": "fire", "window": "250ms"}"#,
    );
    assert_eq!(fire.no_data, NoDataPolicy::Fire);
    assert_eq!(fire.watch.window, Duration::from_millis(250));
}

#[test]
fn tags_exclude_tags_and_description_keep_their_order() {
    let tagged = rule(
        r#"{"name": "r", "description": "login latency", "metric": "m", "stat": "p95", "threshold": 1,
            "tags": {"route": "/login", "method": "POST"}, "exclude_tags": {"status": "404"}}"#,
    );
    let pair = |k: &str, v: &str| (k.to_string(), v.to_string());
    assert_eq!(
        tagged.watch.tags,
        [pair("route", "/login"), pair("method", "POST")]
    );
    assert_eq!(tagged.watch.exclude_tags, [pair("status", "404")]);
    assert_eq!(tagged.description.as_deref(), Some("login latency"));
}

#[test]
fn repeat_overrides_some_severities_and_the_top_level_one_applies_to_the_rest() {
    let own = rule(
        r#"{"name": "r", "metric": "m", "stat": "p95", "threshold": 1, "repeat": {"critical": "10m"}}"#,
    );
    let expected = RepeatIntervals {
        critical: secs(600),
        ..RepeatIntervals::default()
    };
    assert_eq!(own.repeat, Some(expected));

    let doc = r#"{"version": 1, "repeat": {"warning": "30m", "info": "2h"},
        "rules": [
            {"name": "a", "metric": "m", "stat": "p95", "threshold": 1},
            {"name": "b", "metric": "m", "stat": "p95", "threshold": 1, "repeat": {"error": "1m"}}
        ],
        "budgets": [
            {"name": "with-alerts", "preset": "web_vitals", "alerts": {}},
            {"name": "own", "preset": "web_vitals", "alerts": {"repeat": {"critical": "1m"}}},
            {"name": "quiet", "preset": "web_vitals"}
        ]}"#;
    let (rules, budgets) = RulesConfig::from_json(doc).unwrap().into_parts().unwrap();
    let top = RepeatIntervals {
        warning: secs(1800),
        info: secs(7200),
        ..RepeatIntervals::default()
    };
    assert_eq!(rules[0].repeat, Some(top));
    let own_error = RepeatIntervals {
        error: secs(60),
        ..RepeatIntervals::default()
    };
    assert_eq!(rules[1].repeat, Some(own_error));
    assert_eq!(budgets[0].alerts.unwrap().repeat, Some(top));
    let own_critical = RepeatIntervals {
        critical: secs(60),
        ..RepeatIntervals::default()
    };
    assert_eq!(budgets[1].alerts.unwrap().repeat, Some(own_critical));
    assert_eq!(budgets[2].alerts, None);
}

#[test]
fn budgets_from_a_preset_limits_or_items() {
    let mut vitals = Budget::web_vitals();
    vitals.name = "web".into();
    assert_eq!(budget(r#"{"name": "web", "preset": "web_vitals"}"#), vitals);

    let limits = budget(
        r#"{"name": "checkout", "metric": "http.server.duration", "tags": {"route": "/checkout"},
            "window": "5m", "limits": {"p99": 800, "p50": 100, "p95": 300}}"#,
    );
    let item = |q, good| {
        BudgetItem::new("http.server.duration", Statistic::Percentile(q), good)
            .window(secs(300))
            .tag("route", "/checkout")
    };
    let expected = Budget::new("checkout")
        .item(item(99.0, 800.0))
        .item(item(50.0, 100.0))
        .item(item(95.0, 300.0));
    assert_eq!(limits, expected);

    let items = budget(
        r#"{"name": "db", "items": [
            {"metric": "db.query", "stat": "p95", "good": 20, "poor": 50, "window": "5m", "tags": {"db": "main"}},
            {"metric": "db.query", "stat": "max", "good": 500}]}"#,
    );
    let expected = Budget::new("db")
        .item(
            BudgetItem::new("db.query", Statistic::Percentile(95.0), 20.0)
                .poor(50.0)
                .window(secs(300))
                .tag("db", "main"),
        )
        .item(BudgetItem::new("db.query", Statistic::Max, 500.0));
    assert_eq!(items, expected);
}

#[test]
fn budget_alerts_override_the_defaults() {
    let defaults = budget(r#"{"name": "web", "preset": "web_vitals", "alerts": {}}"#);
    assert_eq!(defaults.alerts, Some(BudgetAlerts::default()));
    let set = budget(
        r#"{"name": "web", "preset": "web_vitals", "alerts": {"needs_improvement": "info",
            "poor": "error", "window": "1m", "for": "30s", "clear_for": "2m", "min_samples": 20,
            "repeat": {"warning": "2h"}}}"#,
    );
    let repeat = RepeatIntervals {
        warning: secs(7200),
        ..RepeatIntervals::default()
    };
    let expected = BudgetAlerts::default()
        .severities(Info, Error)
        .window(secs(60))
        .for_duration(secs(30))
        .clear_for(secs(120))
        .min_samples(20)
        .repeat(repeat);
    assert_eq!(set.alerts, Some(expected));
}

#[test]
fn syntax_errors_name_the_field() {
    let base = r#""name": "r", "metric": "m", "stat": "p95""#;
    assert_error(
        &rules_doc(&format!(r#"{{{base}, "thresold": 5}}"#)),
        "rules[0].thresold",
        "unknown field `thresold`",
    );
    assert_error(
        &rules_doc(&format!(
            r#"{{{base}, "threshold": 1}}, {{"name": "s", "metric": "m", "stat": "p95", "threshold": 1, "for": "5 parsecs"}}"#
        )),
        "rules[1].for",
        r#"invalid duration "5 parsecs""#,
    );
    assert_error(
        &rules_doc(&format!(r#"{{{base}, "threshold": 1, "window": 60}}"#)),
        "rules[0].window",
        "expected a duration such as",
    );
    assert_error(
        &rules_doc(r#"{"name": "r", "metric": "m", "stat": "p95th", "threshold": 1}"#),
        "rules[0].stat",
        r#"unknown statistic "p95th""#,
    );
    assert_error(
        &rules_doc(&format!(
            r#"{{{base}, "levels": [{{"severity": "fatal", "threshold": 1}}]}}"#
        )),
        "rules[0].levels[0].severity",
        r#"unknown severity "fatal""#,
    );
    assert_error(
        &rules_doc(&format!(r#"{{{base}, "threshold": 1, "op": "=>"}}"#)),
        "rules[0].op",
        r#"unknown operator "=>""#,
    );
    assert_error(
        &rules_doc(&format!(
            r#"{{{base}, "threshold": 1, "no_data": "ignore"}}"#
        )),
        "rules[0].no_data",
        r#"unknown no-data policy "ignore""#,
    );
    assert_error(
        &rules_doc(&format!(r#"{{{base}, "threshold": 1, "min_samples": -1}}"#)),
        "rules[0].min_samples",
        "invalid value: integer `-1`",
    );
    assert_error(
        &rules_doc(r#"{"metric": "m", "stat": "p95", "threshold": 1}"#),
        "rules[0]",
        "missing field `name`",
    );
    assert_error(
        &rules_doc(&format!(
            r#"{{{base}, "threshold": 1, "repeat": {{"fatal": "1m"}}}}"#
        )),
        "rules[0].repeat.fatal",
        r#"unknown severity "fatal""#,
    );
    assert_error(
        &rules_doc(&format!(
            r#"{{{base}, "threshold": 1, "tags": {{"a": "1", "a": "2"}}}}"#
        )),
        "rules[0].tags",
        r#"duplicate key "a""#,
    );
    assert_error(
        &rules_doc(&format!(
            r#"{{{base}, "threshold": 1, "exclude_tags": {{"status": ""}}}}"#
        )),
        "rules[0].exclude_tags",
        "empty",
    );
}

#[test]
fn document_errors_name_the_field() {
    assert_error(r#"{"version": 2}"#, "version", "unsupported version 2");
    assert_error(r#"{"rules": []}"#, ".", "missing field `version`");
    assert_error(
        r#"{"version": 1, "emergencies": {}}"#,
        "emergencies",
        "unknown field",
    );
    assert_error(r#"{"version": 1} trailing"#, ".", "trailing characters");
    // Only an object is a rules document (serde reads a struct from an
    // array too, fields in order).
    assert_error(r#""rules""#, ".", "a rules document is a JSON object");
    assert_error("[1]", ".", "a rules document is a JSON object");
    assert_error("[1, 2]", ".", "a rules document is a JSON object");
}

#[test]
fn rule_errors_name_the_field_as_the_document_spells_it() {
    let base = r#""name": "r", "metric": "m", "stat": "p95""#;
    assert_error(
        &rules_doc(&format!(
            r#"{{{base}, "threshold": 1, "levels": [{{"severity": "info", "threshold": 1}}]}}"#
        )),
        "rules[0].threshold",
        "is not allowed with levels",
    );
    assert_error(
        &rules_doc(&format!(
            r#"{{{base}, "severity": "info", "levels": [{{"severity": "info", "threshold": 1}}]}}"#
        )),
        "rules[0].severity",
        "is not allowed with levels",
    );
    assert_error(
        &rules_doc(&format!("{{{base}}}")),
        "rules[0].levels",
        "is required",
    );
    assert_error(
        &rules_doc(&format!(r#"{{{base}, "levels": []}}"#)),
        "rules[0].levels",
        "at least one threshold",
    );
    assert_error(
        &rules_doc(r#"{"name": "r", "metric": "errors", "stat": "ratio", "threshold": 0.1}"#),
        "rules[0].denominator",
        "is required",
    );
    assert_error(
        &rules_doc(&format!(
            r#"{{{base}, "denominator": "requests", "threshold": 1}}"#
        )),
        "rules[0].denominator",
        "is only allowed",
    );
    assert_error(
        &rules_doc(r#"{"name": "r", "metric": "9lives", "stat": "p95", "threshold": 1}"#),
        "rules[0].metric",
        "",
    );
    assert_error(
        &rules_doc(&format!(r#"{{{base}, "threshold": 1, "window": "0s"}}"#)),
        "rules[0].window",
        "must be greater than zero",
    );
}

#[test]
fn validation_errors_point_into_levels_as_written() {
    let base = r#""name": "r", "metric": "m", "stat": "p95""#;
    assert_error(
        &rules_doc(&format!(
            r#"{{{base}, "levels": [{{"severity": "warning", "threshold": 500, "clear": 600}}]}}"#
        )),
        "rules[0].levels[0].clear",
        "must be at or below the threshold 500",
    );
    // Written critical first: the rule sorts its levels, the path does not.
    assert_error(
        &rules_doc(&format!(
            r#"{{{base}, "levels": [{{"severity": "critical", "threshold": 1000}},
                {{"severity": "warning", "threshold": 500, "clear": 600}}]}}"#
        )),
        "rules[0].levels[1].clear",
        "must be at or below",
    );
    assert_error(
        &rules_doc(&format!(r#"{{{base}, "threshold": 500, "clear": 600}}"#)),
        "rules[0].clear",
        "must be at or below",
    );
    assert_error(
        &rules_doc(&format!(
            r#"{{{base}, "levels": [{{"severity": "warning", "threshold": 1000}},
                {{"severity": "critical", "threshold": 500}}]}}"#
        )),
        "rules[0].levels[1].threshold",
        "thresholds must rise with severity",
    );
}

#[test]
fn budget_errors_name_the_field() {
    assert_error(
        &budgets_doc(r#"{"name": "b", "preset": "web_vitals", "items": []}"#),
        "budgets[0].items",
        "is not allowed with preset",
    );
    assert_error(
        &budgets_doc(r#"{"name": "b", "limits": {"p50": 1}, "items": []}"#),
        "budgets[0].limits",
        "is not allowed with items",
    );
    assert_error(
        &budgets_doc(r#"{"name": "b"}"#),
        "budgets[0].items",
        "is required",
    );
    assert_error(
        &budgets_doc(r#"{"name": "b", "limits": {"p50": 1}}"#),
        "budgets[0].metric",
        "is required with limits",
    );
    assert_error(
        &budgets_doc(
            r#"{"name": "b", "metric": "m", "items": [{"metric": "m", "stat": "p50", "good": 1}]}"#,
        ),
        "budgets[0].metric",
        "is not allowed with items",
    );
    assert_error(
        &budgets_doc(r#"{"name": "b", "preset": "core_vitals"}"#),
        "budgets[0].preset",
        r#"unknown preset "core_vitals""#,
    );
    assert_error(
        &budgets_doc(
            r#"{"name": "b", "items": [{"metric": "m", "stat": "p50", "good": 100},
                {"metric": "m", "stat": "p95", "good": 300, "poor": 200}]}"#,
        ),
        "budgets[0].items[1].poor",
        "must be at or above good (300)",
    );
    assert_error(
        &budgets_doc(r#"{"name": "b", "metric": "m", "limits": {"p999": 1, "p99.9": 2}}"#),
        "budgets[0].limits",
        r#"duplicate key "p99.9""#,
    );
    assert_error(
        &budgets_doc(r#"{"name": "b", "metric": "9m", "limits": {"p50": 1}}"#),
        "budgets[0].metric",
        "",
    );
    assert_error(
        &budgets_doc(
            r#"{"name": "b", "preset": "web_vitals", "alerts": {"needs_improvement": "critical", "poor": "warning"}}"#,
        ),
        "budgets[0].alerts.poor",
        "must be above needs_improvement (critical)",
    );
    assert_error(
        &budgets_doc(r#"{"name": "b", "preset": "web_vitals", "alerts": {"severity": "info"}}"#),
        "budgets[0].alerts.severity",
        "unknown field",
    );
}

#[test]
fn windows_longer_than_the_retention_name_the_field() {
    // The default retention is 5 minutes.
    assert_error(
        &rules_doc(
            r#"{"name": "r", "metric": "m", "stat": "p95", "threshold": 1, "window": "10m"}"#,
        ),
        "rules[0].window",
        "retention",
    );
    assert_error(
        &budgets_doc(
            r#"{"name": "b", "items": [{"metric": "m", "stat": "p50", "good": 1},
            {"metric": "m", "stat": "p95", "good": 1, "window": "1h"}]}"#,
        ),
        "budgets[0].items[1].window",
        "retention",
    );
    assert_error(
        &budgets_doc(r#"{"name": "b", "metric": "m", "window": "1h", "limits": {"p50": 1}}"#),
        "budgets[0].window",
        "retention",
    );
    assert_error(
        &budgets_doc(r#"{"name": "b", "preset": "web_vitals", "alerts": {"window": "1h"}}"#),
        "budgets[0].alerts.window",
        "retention",
    );
}

#[test]
fn a_bad_third_rule_adds_nothing() {
    let doc = r#"{"version": 1,
        "rules": [
            {"name": "a", "metric": "m", "stat": "p95", "threshold": 1},
            {"name": "b", "metric": "m", "stat": "p99", "threshold": 1},
            {"name": "c", "metric": "m", "stat": "p95", "threshold": 1, "clear": 2}
        ],
        "budgets": [{"name": "web", "preset": "web_vitals", "alerts": {}}]}"#;
    let (path, _) = load_error(doc);
    assert_eq!(path, "rules[2].clear");
}

#[test]
fn a_taken_name_adds_nothing() {
    let monitor = new_monitor();
    let existing = Rule::new("http-latency", Target::rate("x")).level(Info, 1.0);
    monitor.add_rule(existing.clone()).unwrap();
    assert_eq!(
        monitor.load_rules(DEFAULT_RULES),
        Err(PerfError::DuplicateRule {
            name: "http-latency".into()
        })
    );
    assert_eq!(monitor.rules(), [existing]);
    assert!(monitor.budgets().is_empty());
    assert_eq!(monitor.emergency().config(), EmergencyConfig::default());

    let budget_taken = new_monitor();
    budget_taken
        .add_budget(Budget::new("api-latency").item(BudgetItem::new("m", Statistic::Mean, 1.0)))
        .unwrap();
    assert_eq!(
        budget_taken.load_rules(DEFAULT_RULES),
        Err(PerfError::DuplicateRule {
            name: "api-latency".into()
        })
    );
    assert!(budget_taken.rules().is_empty());
    assert_eq!(budget_taken.budgets().len(), 1);

    let twice = rules_doc(
        r#"{"name": "a", "metric": "m", "stat": "p95", "threshold": 1},
           {"name": "a", "metric": "m", "stat": "p99", "threshold": 1}"#,
    );
    let fresh = new_monitor();
    assert_eq!(
        fresh.load_rules(&twice),
        Err(PerfError::DuplicateRule { name: "a".into() })
    );
    assert!(fresh.rules().is_empty());
}

/// A document with every kind of target and every field set.
const EVERYTHING: &str = r#"{"version": 1,
    "repeat": {"warning": "30m"},
    "rules": [
        {"name": "everything", "description": "all fields", "metric": "db.query", "stat": "p99.9",
         "window": "2m", "op": ">=",
         "levels": [{"severity": "critical", "threshold": 1000, "clear": 900}, {"severity": "info", "threshold": 100}],
         "for": "1m 30s", "clear_for": "45s", "min_samples": 20, "no_data": "fire",
         "tags": {"db": "main", "action": "select"}, "exclude_tags": {"table": "audit"},
         "repeat": {"critical": "10m", "info": "1day"}},
        {"name": "free-memory", "metric": "process.memory.free", "stat": "value", "op": "<",
         "levels": [{"severity": "warning", "threshold": 100}, {"severity": "critical", "threshold": 50}],
         "no_data": "resolve"},
        {"name": "throughput", "metric": "http.server.requests", "stat": "rate", "op": "<=",
         "threshold": 0.5, "severity": "info", "window": "250ms"}
    ],
    "budgets": [
        {"name": "db", "items": [
            {"metric": "db.query", "stat": "p95", "good": 20, "poor": 50, "window": "5m", "tags": {"db": "main"}},
            {"metric": "db.query", "stat": "mean", "good": 0.1}],
         "alerts": {"needs_improvement": "info", "poor": "error", "window": "1m", "for": "1m",
                    "clear_for": "1m", "min_samples": 20, "repeat": {"error": "2h"}}},
        {"name": "checkout", "metric": "http.server.duration", "tags": {"route": "/checkout"},
         "window": "5m", "limits": {"p99": 800, "p50": 100}, "alerts": {}}
    ]}"#;

#[test]
fn rules_json_round_trips_through_a_new_monitor() {
    for doc in [DEFAULT_RULES, EVERYTHING] {
        let original = new_monitor();
        original.load_rules(doc).unwrap();
        let exported = original.rules_json();
        let copy = new_monitor();
        let added = copy.load_rules(&exported).unwrap();
        assert_eq!(added, original.budgets().len() + count_own_rules(&original));
        assert_eq!(copy.rules(), original.rules());
        assert_eq!(copy.budgets(), original.budgets());
        assert_eq!(copy.emergency().config(), original.emergency().config());
        assert_eq!(copy.rules_json(), exported);
    }
}

/// The rules of `monitor` that no budget generated.
fn count_own_rules(monitor: &Monitor) -> usize {
    monitor
        .rules()
        .iter()
        .filter(|rule| !rule.name.starts_with("budget:"))
        .count()
}

#[test]
fn exports_leave_defaults_out_and_write_presets_as_items() {
    let monitor = new_monitor();
    monitor
        .add_rule(Rule::new("slow", Target::percentile("lat", 95.0)).level(Warning, 500.0))
        .unwrap();
    monitor.add_budget(Budget::web_vitals()).unwrap();
    let json: serde_json::Value = serde_json::from_str(&monitor.rules_json()).unwrap();
    assert_eq!(
        json["rules"],
        serde_json::json!([{"name": "slow", "metric": "lat", "stat": "p95",
                            "levels": [{"severity": "warning", "threshold": 500.0}]}])
    );
    assert_eq!(json["version"], 1);
    let items = json["budgets"][0]["items"].as_array().unwrap();
    assert_eq!(items.len(), 6);
    assert_eq!(
        items[0],
        serde_json::json!({"metric": "web_vitals.lcp", "stat": "p75", "good": 2500.0, "poor": 4000.0})
    );
    assert!(json["budgets"][0].get("alerts").is_none());
}

#[test]
fn documents_read_back_as_written() {
    let config = RulesConfig::from_json(EVERYTHING).unwrap();
    assert_eq!(RulesConfig::from_json(&config.to_json()).unwrap(), config);
    let (rules, budgets) = config.into_parts().unwrap();
    let exported = RulesConfig::from_parts(&rules, &budgets);
    assert_eq!(exported.into_parts().unwrap(), (rules, budgets));
}

#[test]
fn a_loaded_rule_fires_and_escalates() {
    let clock = ManualClock::new(Timestamp::ZERO);
    let monitor = Monitor::builder().clock(clock.clone()).build().unwrap();
    monitor.load_rules(DEFAULT_RULES).unwrap();
    let route = [("route", "/login")];
    for _ in 0..100 {
        monitor
            .record("http.server.duration", &route, 800.0)
            .unwrap();
    }
    let events = monitor.evaluate();
    // The sustained rule is pending (for 5 min); the budgets have no
    // latency alerts.
    assert_eq!(events.len(), 1, "{events:?}");
    let fired = &events[0];
    assert_eq!(
        (&*fired.rule, fired.kind),
        ("http-latency", AlertKind::Fired)
    );
    assert_eq!((fired.severity, fired.threshold), (Warning, 500.0));
    assert_eq!(fired.series.tag("route"), Some("/login"));
    assert!(
        (fired.value.unwrap() - 800.0).abs() < 8.0,
        "{:?}",
        fired.value
    );

    clock.set(Timestamp::from_secs(10));
    for _ in 0..200 {
        monitor
            .record("http.server.duration", &route, 1500.0)
            .unwrap();
    }
    let events = monitor.evaluate();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(
        (events[0].kind, events[0].severity),
        (AlertKind::Escalated, Critical)
    );
    assert_eq!(events[0].threshold, 1000.0);
}

#[test]
fn a_loaded_error_rate_rule_fires() {
    let clock = ManualClock::new(Timestamp::ZERO);
    let monitor = Monitor::builder().clock(clock.clone()).build().unwrap();
    monitor.load_rules(DEFAULT_RULES).unwrap();
    let route = [("route", "/pay")];
    monitor
        .counter("http.server.requests", &route)
        .unwrap()
        .increment(100);
    monitor
        .counter("http.server.errors", &route)
        .unwrap()
        .increment(3);
    let events = monitor.evaluate();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(&*events[0].rule, "http-error-rate");
    assert_eq!(
        (events[0].kind, events[0].severity),
        (AlertKind::Fired, Warning)
    );
    assert_eq!(events[0].value, Some(0.03));

    // Still above 1 % two minutes later: the sustained rule fires at error.
    clock.set(Timestamp::from_secs(120));
    monitor
        .counter("http.server.requests", &route)
        .unwrap()
        .increment(100);
    monitor
        .counter("http.server.errors", &route)
        .unwrap()
        .increment(2);
    let events = monitor.evaluate();
    let sustained: Vec<_> = events
        .iter()
        .filter(|e| &*e.rule == "http-error-rate-sustained")
        .collect();
    assert_eq!(sustained.len(), 1, "{events:?}");
    assert_eq!(
        (sustained[0].kind, sustained[0].severity),
        (AlertKind::Fired, Error)
    );
}

#[test]
fn rules_files_load_and_unreadable_ones_are_named() {
    let path = std::env::temp_dir().join(format!("perf-core-rules-{}.json", std::process::id()));
    std::fs::write(&path, DEFAULT_RULES).unwrap();
    let monitor = new_monitor();
    let loaded = monitor.load_rules_file(&path);
    std::fs::remove_file(&path).unwrap();
    assert_eq!(loaded, Ok(6));
    assert_eq!(monitor.budgets(), default_budgets());

    match monitor.load_rules_file(&path) {
        Err(PerfError::InvalidRulesJson { path: at, reason }) => {
            assert_eq!(at, ".");
            assert!(
                reason.starts_with(&format!("cannot read {}: ", path.display())),
                "{reason}"
            );
        }
        other => panic!("expected InvalidRulesJson, got {other:?}"),
    }
}

#[test]
fn change_point_targets_read_and_write_as_change_of_a_statistic() {
    let doc = rules_doc(
        r#"{"name": "p95-step", "metric": "lat", "stat": "change(p99.9)", "window": "5m", "threshold": 0.2}"#,
    );
    let (rules, _) = RulesConfig::from_json(&doc).unwrap().into_parts().unwrap();
    let target = Target::change_point("lat", Statistic::Percentile(99.9));
    assert_eq!(rules[0].watch.target, target);
    let written = RulesConfig::from_parts(&rules, &[]).to_json();
    assert!(written.contains(r#""stat": "change(p99.9)""#), "{written}");
    assert_error(
        &rules_doc(r#"{"name": "r", "metric": "lat", "stat": "change(p101)", "threshold": 1}"#),
        "rules[0].stat",
        "",
    );
}
