//! Series identity and the registry's limits: tag order, kinds, unknown
//! series, the per-metric series cap with its overflow series and folded
//! counter, the metric-name cap, and name/tag validation.

use perf_core::{
    MetricKind, Monitor, PerfError, Tag, FOLDED_COUNTER, MAX_NAME_LEN, MAX_TAGS, MAX_TAG_KEY_LEN,
    MAX_TAG_VALUE_LEN, OVERFLOW_TAG,
};

fn monitor() -> Monitor {
    Monitor::builder().windows(false).build().unwrap()
}

fn capped(series_per_metric: usize) -> Monitor {
    Monitor::builder()
        .windows(false)
        .max_series_per_metric(series_per_metric)
        .build()
        .unwrap()
}

fn folded(monitor: &Monitor, name: &str) -> u64 {
    monitor
        .counter(FOLDED_COUNTER, &[("metric", name)])
        .expect("the folded counter exists once something was folded")
        .value()
}

/// All six orders of three tags.
fn permutations() -> Vec<[Tag<'static>; 3]> {
    let (a, b, c) = (("a", "1"), ("b", "2"), ("c", "3"));
    vec![
        [a, b, c],
        [a, c, b],
        [b, a, c],
        [b, c, a],
        [c, a, b],
        [c, b, a],
    ]
}

// ---------------------------------------------------------------------------
// Identity
// ---------------------------------------------------------------------------

#[test]
fn tag_order_does_not_matter_for_histograms() {
    let monitor = monitor();
    let handles: Vec<_> = permutations()
        .iter()
        .map(|tags| monitor.histogram("m", tags).unwrap())
        .collect();
    for (i, h) in handles.iter().enumerate() {
        h.record(i as f64 + 1.0).unwrap();
    }
    for tags in permutations() {
        monitor.record("m", &tags, 100.0).unwrap();
    }
    assert_eq!(monitor.series().len(), 1);
    let first = handles[0].snapshot();
    for h in &handles {
        assert_eq!(h.snapshot(), first, "handles of one series share data");
    }
    for tags in permutations() {
        let s = monitor.stats("m", &tags).unwrap();
        assert_eq!(s.count, 12);
        assert_eq!(s.sum, 21.0 + 600.0);
        assert_eq!((s.min, s.max), (1.0, 100.0));
    }
    let key = &monitor.series()[0].key;
    assert_eq!(key.name(), "m");
    assert_eq!(
        key.tags().collect::<Vec<_>>(),
        vec![("a", "1"), ("b", "2"), ("c", "3")]
    );
    assert_eq!(key.tag("b"), Some("2"));
    assert_eq!(key.to_string(), r#"m{a="1",b="2",c="3"}"#);
}

#[test]
fn tag_order_does_not_matter_for_counters_and_gauges() {
    let monitor = monitor();
    for tags in permutations() {
        monitor.counter("c", &tags).unwrap().increment(2);
        monitor.gauge("g", &tags).unwrap().add(1.5).unwrap();
    }
    assert_eq!(
        monitor
            .counter("c", &[("c", "3"), ("a", "1"), ("b", "2")])
            .unwrap()
            .value(),
        12
    );
    assert_eq!(
        monitor
            .gauge("g", &[("b", "2"), ("c", "3"), ("a", "1")])
            .unwrap()
            .value(),
        9.0
    );
    let series = monitor.series();
    assert_eq!(series.len(), 2);
    assert_eq!(series[0].kind, MetricKind::Counter);
    assert_eq!(series[1].kind, MetricKind::Gauge);
}

#[test]
fn different_tag_sets_are_different_series() {
    let monitor = monitor();
    let sets: [&[Tag]; 6] = [
        &[],
        &[("a", "1")],
        &[("a", "2")],
        &[("b", "1")],
        &[("ab", "c")],
        &[("a", "bc")],
    ];
    for (i, tags) in sets.iter().enumerate() {
        for _ in 0..=i {
            monitor.record("m", tags, 1.0).unwrap();
        }
    }
    assert_eq!(monitor.series().len(), sets.len());
    for (i, tags) in sets.iter().enumerate() {
        assert_eq!(
            monitor.stats("m", tags).unwrap().count,
            i as u64 + 1,
            "{tags:?}"
        );
    }
    // A subset or superset of a series' tags is another series.
    assert!(matches!(
        monitor.stats("m", &[("a", "1"), ("b", "1")]),
        Err(PerfError::UnknownSeries { .. })
    ));
}

#[test]
fn series_are_listed_sorted_by_name_then_tags() {
    let monitor = monitor();
    monitor.record("zeta", &[], 1.0).unwrap();
    monitor.record("alpha", &[("k", "2")], 1.0).unwrap();
    monitor.counter("beta", &[]).unwrap();
    monitor.record("alpha", &[("k", "1")], 1.0).unwrap();
    monitor.gauge("alpha.x", &[]).unwrap();
    let listed: Vec<String> = monitor.series().iter().map(|s| s.key.to_string()).collect();
    assert_eq!(
        listed,
        vec![
            r#"alpha{k="1"}"#,
            r#"alpha{k="2"}"#,
            "alpha.x",
            "beta",
            "zeta"
        ]
    );
}

// ---------------------------------------------------------------------------
// Kinds and unknown series
// ---------------------------------------------------------------------------

#[test]
fn kind_mismatch_is_an_error_and_changes_nothing() {
    let monitor = monitor();
    monitor.record("x", &[("t", "1")], 5.0).unwrap();
    monitor.counter("n", &[]).unwrap().increment(4);
    monitor.gauge("g", &[]).unwrap().set(2.5).unwrap();
    let mismatch = |name: &str, existing, requested| PerfError::KindMismatch {
        name: name.into(),
        existing,
        requested,
    };
    use MetricKind::*;
    // Same tags and other tags alike: a name has one kind.
    for tags in [&[("t", "1")][..], &[("t", "2")][..], &[][..]] {
        assert_eq!(
            monitor.counter("x", tags).unwrap_err(),
            mismatch("x", Histogram, Counter)
        );
        assert_eq!(
            monitor.gauge("x", tags).unwrap_err(),
            mismatch("x", Histogram, Gauge)
        );
    }
    assert_eq!(
        monitor.histogram("n", &[]).unwrap_err(),
        mismatch("n", Counter, Histogram)
    );
    assert_eq!(
        monitor.record("n", &[], 1.0).unwrap_err(),
        mismatch("n", Counter, Histogram)
    );
    assert_eq!(
        monitor.record("g", &[], 1.0).unwrap_err(),
        mismatch("g", Gauge, Histogram)
    );
    assert_eq!(
        monitor.counter("g", &[("k", "v")]).unwrap_err(),
        mismatch("g", Gauge, Counter)
    );
    assert_eq!(
        monitor.stats("n", &[]).unwrap_err(),
        mismatch("n", Counter, Histogram)
    );
    assert_eq!(
        monitor.stats("g", &[]).unwrap_err(),
        mismatch("g", Gauge, Histogram)
    );
    // Nothing was created or touched.
    assert_eq!(monitor.series().len(), 3);
    let s = monitor.stats("x", &[("t", "1")]).unwrap();
    assert_eq!((s.count, s.sum, s.rejected), (1, 5.0, 0));
    assert_eq!(monitor.counter("n", &[]).unwrap().value(), 4);
    assert_eq!(monitor.gauge("g", &[]).unwrap().value(), 2.5);
}

#[test]
fn statistics_of_never_created_series_are_unknown() {
    let monitor = monitor();
    assert_eq!(
        monitor.stats("never", &[]).unwrap_err(),
        PerfError::UnknownSeries {
            series: "never".into()
        }
    );
    monitor.record("m", &[("a", "1")], 1.0).unwrap();
    assert_eq!(
        monitor.stats("m", &[("b", "2"), ("a", "1")]).unwrap_err(),
        PerfError::UnknownSeries {
            series: r#"m{a="1",b="2"}"#.into()
        }
    );
    assert!(matches!(
        monitor.stats("m", &[]),
        Err(PerfError::UnknownSeries { .. })
    ));
    // Reading never creates.
    assert_eq!(monitor.series().len(), 1);
    // A handle creates the series, empty: its statistics are empty, not unknown.
    monitor.histogram("empty", &[]).unwrap();
    let s = monitor.stats("empty", &[]).unwrap();
    assert!(s.is_empty());
    assert_eq!(s.count, 0);
    assert!(s.min.is_nan() && s.max.is_nan() && s.mean.is_nan() && s.p99.is_nan());
}

// ---------------------------------------------------------------------------
// The per-metric series cap
// ---------------------------------------------------------------------------

#[test]
fn past_the_series_cap_new_tag_sets_fold_into_the_overflow_series() {
    let monitor = capped(3);
    for a in ["1", "2", "3"] {
        monitor
            .histogram("req", &[("a", a)])
            .unwrap()
            .record(1.0)
            .unwrap();
    }
    // Folded: two one-shot lookups for a=4, one for a=5, one handle for a=6.
    monitor.record("req", &[("a", "4")], 10.0).unwrap();
    monitor.record("req", &[("a", "4")], 10.0).unwrap();
    monitor.record("req", &[("a", "5")], 20.0).unwrap();
    let h6 = monitor.histogram("req", &[("a", "6")]).unwrap();
    for _ in 0..3 {
        h6.record(30.0).unwrap();
    }
    let overflow = monitor.stats("req", &[(OVERFLOW_TAG, "true")]).unwrap();
    assert_eq!(overflow.count, 6);
    assert_eq!(overflow.sum, 130.0);
    assert_eq!((overflow.min, overflow.max), (10.0, 30.0));
    assert_eq!(folded(&monitor, "req"), 4);
    // Series under the cap are untouched and still reachable directly.
    for a in ["1", "2", "3"] {
        let s = monitor.stats("req", &[("a", a)]).unwrap();
        assert_eq!((s.count, s.sum), (1, 1.0), "a={a}");
    }
    monitor.record("req", &[("a", "2")], 1.0).unwrap();
    assert_eq!(monitor.stats("req", &[("a", "2")]).unwrap().count, 2);
    assert_eq!(folded(&monitor, "req"), 4, "existing series are not folded");
    // Folded tag sets are not series of their own.
    assert!(matches!(
        monitor.stats("req", &[("a", "4")]),
        Err(PerfError::UnknownSeries { .. })
    ));
    let listed: Vec<(String, MetricKind)> = monitor
        .series()
        .iter()
        .map(|s| (s.key.to_string(), s.kind))
        .collect();
    assert_eq!(
        listed,
        vec![
            (
                format!(r#"{FOLDED_COUNTER}{{metric="req"}}"#),
                MetricKind::Counter
            ),
            (r#"req{a="1"}"#.to_string(), MetricKind::Histogram),
            (r#"req{a="2"}"#.to_string(), MetricKind::Histogram),
            (r#"req{a="3"}"#.to_string(), MetricKind::Histogram),
            (
                r#"req{perf_overflow="true"}"#.to_string(),
                MetricKind::Histogram
            ),
        ]
    );
}

#[test]
fn failed_lookups_past_the_cap_are_not_counted_as_folded() {
    let monitor = capped(1);
    monitor.record("m", &[("a", "1")], 1.0).unwrap();
    monitor.record("m", &[("a", "2")], 2.0).unwrap(); // folded
    assert_eq!(folded(&monitor, "m"), 1);
    // Invalid tags are refused before anything is counted.
    assert!(matches!(
        monitor.record("m", &[("le", "x")], 3.0),
        Err(PerfError::InvalidTag { .. })
    ));
    assert!(matches!(
        monitor.histogram("m", &[("a", "")]),
        Err(PerfError::InvalidTag { .. })
    ));
    assert_eq!(
        folded(&monitor, "m"),
        1,
        "an invalid tag set was counted as folded"
    );
    // So is a lookup of the wrong kind: nothing is folded, it is an error.
    assert_eq!(
        monitor.counter("m", &[("a", "3")]).unwrap_err(),
        PerfError::KindMismatch {
            name: "m".into(),
            existing: MetricKind::Histogram,
            requested: MetricKind::Counter,
        }
    );
    assert_eq!(
        monitor.gauge("m", &[("a", "4")]).unwrap_err(),
        PerfError::KindMismatch {
            name: "m".into(),
            existing: MetricKind::Histogram,
            requested: MetricKind::Gauge,
        }
    );
    assert_eq!(
        folded(&monitor, "m"),
        1,
        "a kind mismatch was counted as folded"
    );
    let overflow = monitor.stats("m", &[(OVERFLOW_TAG, "true")]).unwrap();
    assert_eq!((overflow.count, overflow.sum), (1, 2.0));
}

#[test]
fn each_metric_has_its_own_cap_and_overflow_of_its_kind() {
    let monitor = capped(2);
    for i in 0..5 {
        let v = i.to_string();
        monitor.counter("hits", &[("i", &v)]).unwrap().increment(10);
        monitor
            .gauge("temp", &[("i", &v)])
            .unwrap()
            .set(f64::from(i))
            .unwrap();
        monitor.record("lat", &[("i", &v)], 1.0).unwrap();
    }
    let overflow = [(OVERFLOW_TAG, "true")];
    assert_eq!(monitor.counter("hits", &overflow).unwrap().value(), 30);
    assert_eq!(monitor.gauge("temp", &overflow).unwrap().value(), 4.0);
    assert_eq!(monitor.stats("lat", &overflow).unwrap().count, 3);
    assert_eq!(monitor.counter("hits", &[("i", "1")]).unwrap().value(), 10);
    for name in ["hits", "temp", "lat"] {
        assert_eq!(folded(&monitor, name), 3, "{name}");
    }
    let series = monitor.series();
    for (name, kind) in [
        ("hits", MetricKind::Counter),
        ("temp", MetricKind::Gauge),
        ("lat", MetricKind::Histogram),
    ] {
        let of_name: Vec<_> = series.iter().filter(|s| s.key.name() == name).collect();
        assert_eq!(of_name.len(), 3, "{name}: 2 own + overflow");
        assert!(of_name.iter().all(|s| s.kind == kind));
    }
    // 3 metrics x (2 + overflow) + 3 folded counters.
    assert_eq!(series.len(), 12);
}

#[test]
fn memory_stays_bounded_under_unbounded_tag_values() {
    let monitor = capped(10);
    let n = 100_000u64;
    for i in 0..n {
        let user = i.to_string();
        monitor.record("by_user", &[("user", &user)], 1.0).unwrap();
    }
    let series = monitor.series();
    let of_name = series.iter().filter(|s| s.key.name() == "by_user").count();
    assert_eq!(of_name, 11, "10 series + overflow");
    assert_eq!(series.len(), 12, "plus the folded counter");
    let overflow = monitor.stats("by_user", &[(OVERFLOW_TAG, "true")]).unwrap();
    assert_eq!(overflow.count, n - 10);
    assert_eq!(overflow.sum, (n - 10) as f64);
    assert_eq!(folded(&monitor, "by_user"), n - 10);
}

#[test]
fn histogram_memory_grows_with_octaves_not_with_values() {
    let monitor = monitor();
    let h = monitor.histogram("mem", &[]).unwrap();
    h.record(1.5).unwrap();
    let one = h.memory_bytes();
    assert!(one > 0);
    for i in 0..100_000 {
        h.record(1.0 + f64::from(i % 1000) / 1000.0).unwrap(); // same octave [1, 2)
    }
    assert_eq!(h.memory_bytes(), one);
    // A typical latency series (1 ms .. 2 s, 11 octaves) recorded from one
    // thread stays within the 16 KiB budget of the spec.
    let typical = monitor.histogram("typical", &[]).unwrap();
    let mut v = 1.0;
    while v < 2_000.0 {
        typical.record(v).unwrap();
        v *= 1.01;
    }
    assert!(
        typical.memory_bytes() <= 16 * 1024,
        "{} bytes for a typical series",
        typical.memory_bytes()
    );
}

// ---------------------------------------------------------------------------
// The metric-name cap
// ---------------------------------------------------------------------------

#[test]
fn too_many_metric_names_is_an_error() {
    let monitor = Monitor::builder()
        .windows(false)
        .max_metrics(2)
        .build()
        .unwrap();
    monitor.record("a", &[], 1.0).unwrap();
    monitor.counter("b", &[]).unwrap().increment(1);
    let too_many = PerfError::TooManyMetrics { limit: 2 };
    assert_eq!(monitor.histogram("c", &[]).unwrap_err(), too_many);
    assert_eq!(
        monitor.record("c", &[("k", "v")], 1.0).unwrap_err(),
        too_many
    );
    assert_eq!(monitor.counter("c", &[]).unwrap_err(), too_many);
    assert_eq!(monitor.gauge("d", &[]).unwrap_err(), too_many);
    // Existing names take new tag sets.
    monitor.record("a", &[("k", "v")], 2.0).unwrap();
    monitor.counter("b", &[("k", "v")]).unwrap().increment(1);
    assert!(matches!(
        monitor.stats("c", &[]),
        Err(PerfError::UnknownSeries { .. })
    ));
    assert_eq!(monitor.series().len(), 4);
    assert_eq!(monitor.stats("a", &[]).unwrap().count, 1);
}

#[test]
fn folding_works_even_when_the_metric_name_cap_is_reached() {
    // The overflow series and the folded counter are perf-core's own: a full
    // name budget must not make a folded record fail or get lost.
    let monitor = Monitor::builder()
        .windows(false)
        .max_metrics(1)
        .max_series_per_metric(1)
        .build()
        .unwrap();
    monitor.record("only", &[("x", "1")], 1.0).unwrap();
    monitor.record("only", &[("x", "2")], 2.0).unwrap();
    monitor.record("only", &[("x", "3")], 3.0).unwrap();
    assert_eq!(
        monitor
            .stats("only", &[(OVERFLOW_TAG, "true")])
            .unwrap()
            .count,
        2
    );
    assert_eq!(folded(&monitor, "only"), 2);
    assert_eq!(
        monitor.record("other", &[], 1.0).unwrap_err(),
        PerfError::TooManyMetrics { limit: 1 }
    );
}

#[test]
fn zero_caps_are_invalid_configuration() {
    for builder in [
        Monitor::builder().max_metrics(0),
        Monitor::builder().max_series_per_metric(0),
    ] {
        assert!(matches!(builder.build(), Err(PerfError::InvalidConfig(_))));
    }
}

// ---------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------

#[test]
fn invalid_names_are_refused_and_touch_nothing() {
    let monitor = monitor();
    monitor.record("good", &[("k", "v")], 3.0).unwrap();
    let before = monitor.stats("good", &[("k", "v")]).unwrap();
    let too_long = "a".repeat(MAX_NAME_LEN + 1);
    let reserved = format!("{FOLDED_COUNTER}_x");
    let bad: Vec<&str> = vec![
        "",
        "1abc",
        "a-b",
        "a b",
        "a/b",
        "é",
        "aé",
        "__x",
        "perf_core_x",
        reserved.as_str(),
        FOLDED_COUNTER,
        &too_long,
        ".a",
        "a\n",
    ];
    for name in bad {
        let is_invalid_name = |r: Result<(), PerfError>| match r {
            Err(PerfError::InvalidName { name: n, .. }) => n == name,
            _ => false,
        };
        assert!(
            is_invalid_name(monitor.histogram(name, &[]).map(drop)),
            "{name:?}"
        );
        assert!(is_invalid_name(monitor.record(name, &[], 1.0)), "{name:?}");
        assert!(
            is_invalid_name(monitor.counter(name, &[("k", "v")]).map(drop)),
            "{name:?}"
        );
        assert!(
            is_invalid_name(monitor.gauge(name, &[]).map(drop)),
            "{name:?}"
        );
        assert!(perf_core::validate_name(name).is_err());
    }
    assert_eq!(monitor.series().len(), 1);
    assert_eq!(monitor.stats("good", &[("k", "v")]).unwrap(), before);
}

#[test]
fn valid_edge_case_names_are_accepted() {
    let monitor = monitor();
    let longest = "a".repeat(MAX_NAME_LEN);
    for name in [
        "a",
        "_",
        ":",
        "a:b",
        "a.b.c",
        "A_9.x:y",
        "_perf_core_x",
        &longest,
    ] {
        monitor
            .record(name, &[], 1.0)
            .unwrap_or_else(|e| panic!("{name:?}: {e}"));
    }
    assert_eq!(monitor.series().len(), 8);
}

#[test]
fn invalid_tags_are_refused_and_touch_nothing() {
    let monitor = monitor();
    monitor.record("good", &[("k", "v")], 3.0).unwrap();
    monitor.counter("count", &[]).unwrap().increment(2);
    let before = monitor.stats("good", &[("k", "v")]).unwrap();
    let long_key = "k".repeat(MAX_TAG_KEY_LEN + 1);
    let long_value = "v".repeat(MAX_TAG_VALUE_LEN + 1);
    let many: Vec<(String, String)> = (0..=MAX_TAGS)
        .map(|i| (format!("k{i}"), "v".to_string()))
        .collect();
    let many: Vec<Tag> = many.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let bad: Vec<Vec<Tag>> = vec![
        vec![("", "v")],
        vec![("1k", "v")],
        vec![("k-k", "v")],
        vec![("k.k", "v")],
        vec![("é", "v")],
        vec![("le", "1")],
        vec![("quantile", "0.5")],
        vec![(OVERFLOW_TAG, "true")],
        vec![("__name__", "x")],
        vec![("k", "")],
        vec![("k", "a\nb")],
        vec![("k", "\u{7f}")],
        vec![("k", "tab\there")],
        vec![(long_key.as_str(), "v")],
        vec![("k", long_value.as_str())],
        vec![("k", "1"), ("k", "2")],
        vec![("k", "1"), ("j", "2"), ("k", "1")],
        many,
    ];
    for tags in &bad {
        let invalid_tag = |r: Result<(), PerfError>| matches!(r, Err(PerfError::InvalidTag { .. }));
        assert!(
            invalid_tag(monitor.histogram("good", tags).map(drop)),
            "{tags:?}"
        );
        assert!(invalid_tag(monitor.record("good", tags, 1.0)), "{tags:?}");
        assert!(invalid_tag(monitor.record("fresh", tags, 1.0)), "{tags:?}");
        assert!(
            invalid_tag(monitor.counter("count", tags).map(drop)),
            "{tags:?}"
        );
        assert!(
            invalid_tag(monitor.gauge("gauge", tags).map(drop)),
            "{tags:?}"
        );
        assert!(perf_core::validate_tags(tags).is_err());
    }
    // The error names the offending key.
    match monitor.record("good", &[("ok", "1"), ("le", "2")], 1.0) {
        Err(PerfError::InvalidTag { key, .. }) => assert_eq!(key, "le"),
        other => panic!("{other:?}"),
    }
    assert_eq!(monitor.series().len(), 2);
    assert_eq!(monitor.stats("good", &[("k", "v")]).unwrap(), before);
    assert_eq!(monitor.counter("count", &[]).unwrap().value(), 2);
}

#[test]
fn valid_edge_case_tags_are_accepted() {
    let monitor = monitor();
    let longest_key = "k".repeat(MAX_TAG_KEY_LEN);
    let longest_value = "v".repeat(MAX_TAG_VALUE_LEN);
    let sixteen: Vec<(String, String)> = (0..MAX_TAGS)
        .map(|i| (format!("k{i}"), format!("v{i}")))
        .collect();
    let sixteen: Vec<Tag> = sixteen
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let ok: Vec<Vec<Tag>> = vec![
        vec![("_k", "v")],
        vec![("K9_", "v")],
        vec![("lee", "x"), ("quantiles", "y")],
        vec![(longest_key.as_str(), "v")],
        vec![("k", longest_value.as_str())],
        vec![("route", "/users/:id?x=\"1\" ✓ \\")],
        vec![("k", " ")],
        sixteen,
    ];
    for tags in &ok {
        monitor
            .record("m", tags, 1.0)
            .unwrap_or_else(|e| panic!("{tags:?}: {e}"));
        assert_eq!(monitor.stats("m", tags).unwrap().count, 1);
    }
    assert_eq!(monitor.series().len(), ok.len());
}
