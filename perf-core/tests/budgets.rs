//! Budgets through the public API: Web Vitals ratings exactly at their
//! boundaries, API latency and custom budgets, the report (values, limits,
//! ratings, headroom, windows, tag selection), validation naming the field,
//! and the alerts a budget raises.

use std::time::Duration;

use perf_core::{
    AlertKind, Budget, BudgetAlerts, BudgetItem, ManualClock, Monitor, PerfError, Rating, Severity,
    Statistic, Timestamp, WEB_VITALS_METRICS,
};

use Rating::{Good, NeedsImprovement, Poor};

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn monitor() -> (ManualClock, Monitor) {
    let clock = ManualClock::new(Timestamp::ZERO);
    let monitor = Monitor::builder().clock(clock.clone()).build().unwrap();
    (clock, monitor)
}

/// `(metric, good, poor)` of each Web Vital, as Google publishes them.
const WEB_VITALS: [(&str, f64, f64); 6] = [
    ("web_vitals.lcp", 2500.0, 4000.0),
    ("web_vitals.inp", 200.0, 500.0),
    ("web_vitals.cls", 0.1, 0.25),
    ("web_vitals.fcp", 1800.0, 3000.0),
    ("web_vitals.ttfb", 800.0, 1800.0),
    ("web_vitals.fid", 100.0, 300.0),
];

#[test]
fn web_vitals_has_googles_thresholds_at_p75() {
    let budget = Budget::web_vitals();
    assert_eq!(budget.name, "web_vitals");
    let metrics: Vec<&str> = budget.items.iter().map(|i| i.metric.as_str()).collect();
    assert_eq!(metrics, WEB_VITALS_METRICS);
    for (item, (metric, good, poor)) in budget.items.iter().zip(WEB_VITALS) {
        assert_eq!(item.metric, metric);
        assert_eq!((item.good, item.poor), (good, Some(poor)), "{metric}");
        assert_eq!(item.stat, Statistic::Percentile(75.0));
        assert_eq!(item.window, None);
    }
}

#[test]
fn a_value_on_a_boundary_gets_the_better_rating() {
    for (item, (metric, good, poor)) in Budget::web_vitals().items.iter().zip(WEB_VITALS) {
        let above = |v: f64| v + v * 1e-9;
        assert_eq!(item.rate(0.0), Good, "{metric}");
        assert_eq!(item.rate(good), Good, "{metric} at good");
        assert_eq!(item.rate(above(good)), NeedsImprovement, "{metric}");
        assert_eq!(item.rate(poor), NeedsImprovement, "{metric} at poor");
        assert_eq!(item.rate(above(poor)), Poor, "{metric}");
        assert_eq!(item.rate(f64::NAN), Poor, "{metric}: NaN is never good");
    }
}

/// Records `value` 100 times into every Web Vital's series.
fn record_vitals(monitor: &Monitor, value_of: impl Fn(f64, f64) -> f64) {
    for (metric, good, poor) in WEB_VITALS {
        for _ in 0..100 {
            monitor.record(metric, &[], value_of(good, poor)).unwrap();
        }
    }
}

#[test]
fn the_report_rates_web_vitals_exactly_at_the_boundaries() {
    // All values equal: p75 is that value exactly (clamped to min/max).
    for (value_of, rating) in [
        (|good: f64, _| good, Good),
        (|_, poor: f64| poor, NeedsImprovement),
        (|_, poor: f64| poor * 1.01, Poor),
    ] as [(fn(f64, f64) -> f64, Rating); 3]
    {
        let (_, monitor) = monitor();
        monitor.add_budget(Budget::web_vitals()).unwrap();
        record_vitals(&monitor, value_of);
        let report = monitor.budget_report();
        assert_eq!(report.rows.len(), 6);
        for (row, (metric, good, poor)) in report.rows.iter().zip(WEB_VITALS) {
            assert_eq!(row.metric, metric);
            assert_eq!(row.value, Some(value_of(good, poor)), "{metric}");
            assert_eq!(row.rating, Some(rating), "{metric}");
            assert_eq!(row.count, 100);
        }
        assert_eq!(report.worst(), Some(rating));
    }
}

#[test]
fn api_latency_report_values_limits_and_headroom() {
    let (_, monitor) = monitor();
    let budget = Budget::api_latency("api", "http.server.duration", 100.0, 300.0, 800.0);
    monitor.add_budget(budget).unwrap();
    // 1..=1000 ms once each: p50 = 500, p95 = 950, p99 = 990 within 1 %.
    for ms in 1..=1000 {
        let route = if ms % 2 == 0 { "/a" } else { "/b" };
        monitor
            .record("http.server.duration", &[("route", "/all")], ms as f64)
            .unwrap();
        monitor
            .record("http.server.duration", &[("route", route)], 50.0)
            .unwrap();
    }
    let report = monitor.budget_report();
    // Three items × three series: by series, then in item order.
    let order: Vec<(String, String)> = report
        .rows
        .iter()
        .map(|r| {
            (
                r.series.as_ref().unwrap().tag("route").unwrap().to_string(),
                r.stat.to_string(),
            )
        })
        .collect();
    let expected: Vec<(String, String)> = ["/a", "/all", "/b"]
        .iter()
        .flat_map(|route| ["p50", "p95", "p99"].map(|stat| (route.to_string(), stat.to_string())))
        .collect();
    assert_eq!(order, expected);
    let p95: Vec<_> = report
        .rows
        .iter()
        .filter(|r| r.stat == Statistic::Percentile(95.0))
        .collect();
    let routes: Vec<&str> = p95
        .iter()
        .map(|r| r.series.as_ref().unwrap().tag("route").unwrap())
        .collect();
    assert_eq!(routes, ["/a", "/all", "/b"]);
    let all = p95[1];
    assert_eq!((all.good, all.poor), (300.0, None));
    let value = all.value.unwrap();
    assert!((value - 950.0).abs() <= 950.0 * 0.01, "p95 {value}");
    assert_eq!(all.rating, Some(Poor), "no middle band: over good is poor");
    assert_eq!(all.headroom, Some(300.0 - value));
    assert!(all.headroom_ratio().unwrap() < -2.0);
    // The per-route series hold only 50 ms values: good everywhere.
    for row in report
        .rows
        .iter()
        .filter(|r| r.series.as_ref().unwrap().tag("route") != Some("/all"))
    {
        assert_eq!(row.value, Some(50.0));
        assert_eq!(row.rating, Some(Good));
        assert_eq!(row.count, 500);
    }
    assert_eq!(report.worst(), Some(Poor));
    assert_eq!(report.budget("api").count(), 9);
    assert_eq!(report.budget("other").count(), 0);
}

#[test]
fn an_item_with_no_matching_series_reports_no_data() {
    let (_, monitor) = monitor();
    monitor.add_budget(Budget::web_vitals()).unwrap();
    monitor.record("web_vitals.lcp", &[], 1200.0).unwrap();
    // A counter with a budgeted name is not rated.
    monitor.counter("web_vitals.cls", &[]).unwrap().increment(1);
    let report = monitor.budget_report();
    assert_eq!(report.rows.len(), 6);
    let lcp = &report.rows[0];
    assert_eq!((lcp.value, lcp.rating), (Some(1200.0), Some(Good)));
    assert_eq!(lcp.headroom, Some(1300.0));
    for row in &report.rows[1..] {
        assert_eq!(
            (row.series.as_ref(), row.value, row.rating),
            (None, None, None)
        );
        assert_eq!((row.count, row.headroom), (0, None));
    }
    assert_eq!(report.worst(), Some(Good));
}

#[test]
fn custom_items_select_series_by_tags_and_read_their_window() {
    let (clock, monitor) = monitor();
    let item = BudgetItem::new("db.query", Statistic::Max, 20.0)
        .poor(50.0)
        .window(secs(60))
        .tag("db", "main");
    monitor
        .add_budget(Budget::new("db").item(item.clone()))
        .unwrap();
    monitor
        .record("db.query", &[("db", "main")], 400.0)
        .unwrap();
    monitor
        .record("db.query", &[("db", "replica")], 400.0)
        .unwrap();
    clock.advance(secs(120)); // the 400 ms query leaves the window
    monitor.record("db.query", &[("db", "main")], 30.0).unwrap();
    let report = monitor.budget_report();
    assert_eq!(report.rows.len(), 1, "the replica is not budgeted");
    let row = &report.rows[0];
    assert_eq!(row.series.as_ref().unwrap().tag("db"), Some("main"));
    assert_eq!((row.window, row.count), (Some(secs(60)), 1));
    let value = row.value.unwrap();
    assert!((value - 30.0).abs() <= 0.3, "max {value}");
    assert_eq!(row.rating, Some(NeedsImprovement));
    assert_eq!(report.at, Timestamp::from_secs(120));
}

#[test]
fn the_report_prints_as_a_table() {
    let (_, monitor) = monitor();
    monitor.add_budget(Budget::web_vitals()).unwrap();
    monitor
        .record("web_vitals.cls", &[("page", "/")], 0.3)
        .unwrap();
    let text = monitor.budget_report().to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 7, "{text}");
    for column in [
        "budget", "series", "stat", "value", "good", "poor", "rating", "headroom",
    ] {
        assert!(lines[0].contains(column), "{text}");
    }
    let cls = lines.iter().find(|l| l.contains("cls")).unwrap();
    for cell in [
        r#"web_vitals.cls{page="/"}"#,
        "p75",
        "0.3",
        "0.1",
        "0.25",
        "poor",
        "-0.2",
    ] {
        assert!(cls.contains(cell), "{cell} missing from {cls:?}");
    }
    let lcp = lines.iter().find(|l| l.contains("lcp")).unwrap();
    assert!(lcp.contains("no data"), "{lcp:?}");
}

fn invalid_field(result: Result<(), PerfError>) -> String {
    match result {
        Err(PerfError::InvalidRule { field, .. }) => field,
        other => panic!("expected InvalidRule, got {other:?}"),
    }
}

#[test]
fn invalid_budgets_name_the_field_and_add_nothing() {
    let (_, monitor) = monitor();
    let p95 = |good| BudgetItem::new("api.latency", Statistic::Percentile(95.0), good);
    let cases = [
        (Budget::new("empty"), "items"),
        (Budget::new("").item(p95(1.0)), "name"),
        (
            Budget::new("b").item(p95(1.0)).item(p95(f64::NAN)),
            "items[1].good",
        ),
        (Budget::new("b").item(p95(10.0).poor(5.0)), "items[0].poor"),
        (
            Budget::new("b").item(p95(1.0).poor(f64::INFINITY)),
            "items[0].poor",
        ),
        (
            Budget::new("b").item(BudgetItem::new(
                "api.latency",
                Statistic::Percentile(101.0),
                1.0,
            )),
            "items[0].stat",
        ),
        (
            Budget::new("b").item(BudgetItem::new("bad name!", Statistic::Max, 1.0)),
            "items[0].metric",
        ),
        (
            Budget::new("b").item(p95(1.0).window(Duration::ZERO)),
            "items[0].window",
        ),
        (Budget::new("b").item(p95(1.0)).item(p95(2.0)), "items[1]"),
        (
            Budget::new("b").item(p95(1.0)).with_alerts(
                BudgetAlerts::default().severities(Severity::Warning, Severity::Warning),
            ),
            "alerts.poor",
        ),
    ];
    for (budget, field) in cases {
        assert_eq!(invalid_field(monitor.add_budget(budget)), field);
    }
    // The same item on different tags is fine.
    monitor
        .add_budget(
            Budget::new("b")
                .item(p95(1.0).tag("r", "1"))
                .item(p95(1.0).tag("r", "2")),
        )
        .unwrap();
    assert_eq!(monitor.budgets().len(), 1);
    assert!(monitor.rules().is_empty());
}

#[test]
fn budget_names_and_their_rule_names_must_be_new() {
    let (_, monitor) = monitor();
    let alerting = || Budget::web_vitals().with_alerts(BudgetAlerts::default());
    monitor.add_budget(alerting()).unwrap();
    assert_eq!(
        monitor.add_budget(Budget::web_vitals()),
        Err(PerfError::DuplicateRule {
            name: "web_vitals".into()
        })
    );
    assert_eq!(monitor.rules().len(), 6);
    // A budget whose rule would take an existing rule's name adds nothing.
    assert!(monitor.remove_budget("web_vitals"));
    let taken = "budget:web_vitals:web_vitals.inp:p75";
    monitor
        .add_rule(
            perf_core::Rule::new(taken, perf_core::Target::gauge("g")).level(Severity::Info, 1.0),
        )
        .unwrap();
    assert_eq!(
        monitor.add_budget(alerting()),
        Err(PerfError::DuplicateRule { name: taken.into() })
    );
    assert!(monitor.budgets().is_empty());
    assert_eq!(monitor.rules().len(), 1);
    // Windows longer than the retention (300 s) are refused.
    let long =
        Budget::new("long").item(BudgetItem::new("x", Statistic::Max, 1.0).window(secs(301)));
    assert!(matches!(
        monitor.add_budget(long),
        Err(PerfError::InvalidWindow { .. })
    ));
}

#[test]
fn a_budget_with_alerts_generates_one_rule_per_item() {
    let budget = Budget::new("checkout")
        .item(
            BudgetItem::new("http.server.duration", Statistic::Percentile(95.0), 300.0)
                .poor(800.0)
                .tag("route", "/pay"),
        )
        .item(
            BudgetItem::new("http.server.duration", Statistic::Percentile(99.0), 1000.0)
                .window(secs(60)),
        )
        .with_alerts(
            BudgetAlerts::default()
                .for_duration(secs(30))
                .min_samples(10),
        );
    let rules = budget.rules();
    let names: Vec<&str> = rules.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "budget:checkout:http.server.duration{route=/pay}:p95",
            "budget:checkout:http.server.duration:p99"
        ]
    );
    let ladder = |i: usize| -> Vec<(Severity, f64)> {
        rules[i]
            .levels
            .iter()
            .map(|l| (l.severity, l.threshold))
            .collect()
    };
    assert_eq!(
        ladder(0),
        [(Severity::Warning, 300.0), (Severity::Critical, 800.0)]
    );
    assert_eq!(
        ladder(1),
        [(Severity::Critical, 1000.0)],
        "no middle band: good is the poor line"
    );
    assert_eq!(
        (rules[0].watch.window, rules[1].watch.window),
        (secs(300), secs(60))
    );
    assert_eq!(
        (rules[0].for_duration, rules[0].watch.min_samples),
        (secs(30), 10)
    );
    assert_eq!(
        rules[0].watch.tags,
        [("route".to_string(), "/pay".to_string())]
    );
    assert!(
        Budget::web_vitals().rules().is_empty(),
        "no alerts, no rules"
    );
}

#[test]
fn budget_alerts_fire_escalate_and_resolve() {
    let (clock, monitor) = monitor();
    let alerts = BudgetAlerts::default().window(secs(10));
    monitor
        .add_budget(Budget::web_vitals().with_alerts(alerts))
        .unwrap();
    let lcp = monitor
        .histogram("web_vitals.lcp", &[("page", "/home")])
        .unwrap();
    let mut events = Vec::new();
    // Each second, 10 LCPs of the given value; evaluate.
    let mut run = |from: u64, to: u64, ms: f64| {
        for t in from..to {
            clock.set(Timestamp::from_secs(t));
            for _ in 0..10 {
                lcp.record(ms).unwrap();
            }
            events.extend(monitor.evaluate());
        }
    };
    run(0, 20, 2000.0); // good: nothing
    run(20, 40, 3000.0); // needs improvement: warning
    run(40, 60, 5000.0); // poor: escalates to critical
    run(60, 90, 1000.0); // good again: resolves
    let seen: Vec<(AlertKind, Severity)> = events.iter().map(|e| (e.kind, e.severity)).collect();
    assert_eq!(
        seen,
        [
            (AlertKind::Fired, Severity::Warning),
            (AlertKind::Escalated, Severity::Critical),
            (AlertKind::Recovered, Severity::Critical),
            (AlertKind::Resolved, Severity::Critical),
        ]
    );
    assert!(events
        .iter()
        .all(|e| e.rule.as_ref() == "budget:web_vitals:web_vitals.lcp:p75"));
    assert_eq!(events[0].threshold, 2500.0);
    assert_eq!(events[1].threshold, 4000.0);
    assert!(monitor.alerts().is_empty());
    // Removing the budget removes its rules.
    assert!(monitor.remove_budget("web_vitals"));
    assert!(monitor.rules().is_empty());
    assert!(!monitor.remove_budget("web_vitals"));
}
