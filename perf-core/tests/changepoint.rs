//! Change-point detection: detection rates, false-positive control,
//! determinism, the online detector, bad input, and invariances.
//!
//! Series are 200 points of N(100, 5) noise (`StdRng` seeded per test), with
//! `rel · 100` added from index 120 on where there is a step — the issue's
//! targets. The rate tests use fixed seeds, so they are deterministic; the
//! seed counts are the (100 with a step, 300 without) and the debug
//! build runs this whole file in a few seconds, so none is reduced.
//!
//! `cargo test --release -p perf-core --test changepoint -- --ignored
//! --nocapture` runs the larger measurements (1,000 seeds, online false
//! alarms and delays, time per series) quoted in the module documentation.

use std::time::{Duration, Instant};

use perf_core::{
    detect_change_points, detect_change_points_at, ChangePoint, ChangePointConfig,
    ChangePointDetector, InvalidValueReason, PerfError, Timestamp,
};
use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::SeedableRng;
use rand_distr::{Distribution, Normal};

const N: usize = 200;
const STEP_AT: usize = 120;

/// `n` points of N(100, 5), plus `rel · 100` from `step_at` on.
fn series(seed: u64, n: usize, step_at: usize, rel: f64) -> Vec<f64> {
    let mut rng = StdRng::seed_from_u64(seed);
    let normal = Normal::new(100.0, 5.0).unwrap();
    (0..n)
        .map(|i| normal.sample(&mut rng) + if i >= step_at { 100.0 * rel } else { 0.0 })
        .collect()
}

/// The split an oracle knowing both means (100 and `100 + 100 · rel`)
/// would pick: the maximum-likelihood location with known parameters, the
/// best any method can do on average. Ties go to the earlier split.
fn oracle_split(x: &[f64], rel: f64, min_segment: usize) -> usize {
    let midpoint = 100.0 + 50.0 * rel;
    let mut best = (min_segment, f64::NEG_INFINITY);
    for k in min_segment..=x.len() - min_segment {
        let log_likelihood: f64 = x[k..].iter().map(|v| v - midpoint).sum();
        if log_likelihood > best.1 {
            best = (k, log_likelihood);
        }
    }
    best.0
}

/// Counts over a range of seeds, a step of `rel` at 120 (`rel = 0`: none).
#[derive(Debug, Default)]
struct Rates {
    series: usize,
    /// Series with at least one change reported.
    any: usize,
    /// Series with a change within ±5 of 120.
    near: usize,
    /// Series with a change within ±10 of 120.
    within_10: usize,
    /// Series with a change exactly at 120.
    exact: usize,
    /// Series whose oracle split (known means) is exactly 120.
    oracle_exact: usize,
    /// Series whose oracle split is within ±5 of 120.
    oracle_near: usize,
    /// Series with a change reported more than 5 from 120.
    elsewhere: usize,
}

fn rates(seeds: std::ops::Range<u64>, rel: f64, config: &ChangePointConfig) -> Rates {
    let mut r = Rates::default();
    for seed in seeds {
        let x = series(seed, N, STEP_AT, rel);
        let changes = detect_change_points(&x, config).unwrap();
        let near = |d: usize| changes.iter().any(|c| c.index.abs_diff(STEP_AT) <= d);
        r.series += 1;
        r.any += usize::from(!changes.is_empty());
        r.near += usize::from(near(5));
        r.within_10 += usize::from(near(10));
        r.exact += usize::from(near(0));
        let oracle = oracle_split(&x, rel, config.min_segment);
        r.oracle_exact += usize::from(oracle == STEP_AT);
        r.oracle_near += usize::from(oracle.abs_diff(STEP_AT) <= 5);
        r.elsewhere += usize::from(changes.iter().any(|c| c.index.abs_diff(STEP_AT) > 5));
    }
    r
}

fn check_sorted_and_in_bounds(changes: &[ChangePoint], n: usize, min_segment: usize) {
    for c in changes {
        assert!(
            c.index >= min_segment && c.index <= n - min_segment,
            "{c:?}"
        );
        assert!(c.p_value > 0.0 && c.p_value <= 1.0, "{c:?}");
    }
    for pair in changes.windows(2) {
        assert!(pair[1].index >= pair[0].index + min_segment, "{pair:?}");
    }
}

#[test]
fn a_clear_step_is_found_at_its_index() {
    let x = series(11, N, STEP_AT, 0.30);
    let changes = detect_change_points(&x, &ChangePointConfig::default()).unwrap();
    assert_eq!(changes.len(), 1, "{changes:?}");
    let c = changes[0];
    assert_eq!(c.index, STEP_AT);
    assert_eq!(c.at, None);
    assert!((c.before - 100.0).abs() < 1.5, "{c:?}");
    assert!((c.after - 130.0).abs() < 1.5, "{c:?}");
    assert!((c.relative_change - 0.30).abs() < 0.03, "{c:?}");
    assert_eq!(c.p_value, 1.0 / 500.0);
    assert!(c.statistic > 20.0, "{c:?}");
}

#[test]
fn two_steps_are_both_found_with_neighbouring_means() {
    let mut x = series(5, 300, 100, 0.2);
    x[200..].iter_mut().for_each(|v| *v -= 30.0);
    let changes = detect_change_points(&x, &ChangePointConfig::default()).unwrap();
    let indices: Vec<usize> = changes.iter().map(|c| c.index).collect();
    assert_eq!(indices, [100, 200]);
    assert!((changes[0].before - 100.0).abs() < 1.5);
    assert!((changes[0].after - 120.0).abs() < 1.5);
    assert!((changes[1].before - 120.0).abs() < 1.5);
    assert!((changes[1].after - 90.0).abs() < 1.5);
    check_sorted_and_in_bounds(&changes, x.len(), 5);
}

#[test]
fn no_step_is_flagged_in_at_most_alpha_of_series() {
    let r = rates(0..300, 0.0, &ChangePointConfig::default());
    // The level is exactly 1 % (5 of 500 attainable p-values) for i.i.d.
    // noise, so the count is Binomial(300, 0.01): mean 3, P(X >= 9) = 0.36 %.
    // Allow up to 8 (2.7 %). Measured: 5 (1,000 seeds in the ignored
    // measurement: 11, 1.1 %).
    println!("no step, 300 seeds: {r:?}");
    assert!(r.any <= 8, "{r:?}");
}

#[test]
fn min_relative_change_and_max_change_points_filter() {
    let x = series(21, N, STEP_AT, 0.05);
    let all = detect_change_points(&x, &ChangePointConfig::default()).unwrap();
    assert!(
        all.iter().any(|c| c.index.abs_diff(STEP_AT) <= 5),
        "{all:?}"
    );
    let big = ChangePointConfig::default().min_relative_change(0.10);
    assert!(detect_change_points(&x, &big).unwrap().is_empty());

    let mut stairs = Vec::new();
    for level in 0..6 {
        stairs.extend(
            series(level, 40, usize::MAX, 0.0)
                .iter()
                .map(|v| v + 20.0 * level as f64),
        );
    }
    let many = detect_change_points(&stairs, &ChangePointConfig::default()).unwrap();
    assert_eq!(many.len(), 5, "{many:?}");
    let capped = ChangePointConfig::default().max_change_points(2);
    assert_eq!(detect_change_points(&stairs, &capped).unwrap().len(), 2);
}

#[test]
fn a_15_percent_step_is_located() {
    let r = rates(0..100, 0.15, &ChangePointConfig::default());
    println!("+15%, 100 seeds: {r:?}");
    assert!(r.near >= 99, "{r:?}");
    // The target is exact >= 85 %. For a 3σ step that is the limit
    // of the information in the data: an oracle knowing both means finds
    // the exact index in 85.3 % of 4,000 seeds (our estimate: 85.2 %), and
    // over 100 seeds either count is 85 ± 3.5. So the test holds the
    // method to the oracle on the same series, not to a fixed count.
    assert!(r.exact + 3 >= r.oracle_exact, "{r:?}");
    assert!(r.exact >= 80, "{r:?}");
}

#[test]
fn a_5_percent_step_is_found() {
    let r = rates(0..100, 0.05, &ChangePointConfig::default());
    println!("+5%, 100 seeds: {r:?}");
    assert_eq!(r.any, 100, "{r:?}");
    assert!(r.within_10 >= 85, "{r:?}");
    // Within ±5 is limited by the information too: the oracle's split is
    // within ±5 in 82.8 % of 1,000 seeds (ours: 80.8 %).
    assert!(r.near >= 75 && r.near + 6 >= r.oracle_near, "{r:?}");
}

#[test]
fn results_are_deterministic() {
    let config = ChangePointConfig::default().seed(99);
    for seed in 0..5 {
        let mut x = series(seed, 150, 70, 0.08);
        x[110..].iter_mut().for_each(|v| *v += 10.0);
        let first = detect_change_points(&x, &config).unwrap();
        assert_eq!(first, detect_change_points(&x, &config).unwrap());
        assert_eq!(first, detect_change_points(&x, &config.clone()).unwrap());
        // The timestamped variant: the same changes, with `at` set.
        let points: Vec<(Timestamp, f64)> = x
            .iter()
            .enumerate()
            .map(|(i, &v)| (Timestamp::from_secs(60 * i as u64), v))
            .collect();
        let timed = detect_change_points_at(&points, &config).unwrap();
        assert_eq!(timed.len(), first.len());
        for (t, f) in timed.iter().zip(&first) {
            assert_eq!(t.at, Some(Timestamp::from_secs(60 * f.index as u64)));
            assert_eq!(ChangePoint { at: None, ..*t }, *f);
        }
    }
    // Another seed draws other permutations: the same change, p-values of
    // the same order.
    let x = series(3, N, STEP_AT, 0.05);
    let a = detect_change_points(&x, &ChangePointConfig::default().seed(1)).unwrap();
    let b = detect_change_points(&x, &ChangePointConfig::default().seed(2)).unwrap();
    assert_eq!(a[0].index, b[0].index);
    assert_eq!(a[0].statistic, b[0].statistic);
}

// ---------------------------------------------------------------------------
// Online.

/// Pushes `x` (one point a second) and returns `(push index, change)` for
/// every change reported.
fn run_online(detector: &mut ChangePointDetector, x: &[f64]) -> Vec<(usize, ChangePoint)> {
    let mut out = Vec::new();
    for (i, &v) in x.iter().enumerate() {
        if let Some(c) = detector.push(Timestamp::from_secs(i as u64), v).unwrap() {
            out.push((i, c));
        }
    }
    out
}

#[test]
fn online_finds_a_step_soon_and_once() {
    let x = series(7, 600, 300, 0.15);
    let mut d = ChangePointDetector::new(ChangePointConfig::for_online(), 200).unwrap();
    let found = run_online(&mut d, &x);
    assert_eq!(found.len(), 1, "{found:?}");
    let (pushed_at, c) = found[0];
    assert_eq!(c.index, 300);
    assert_eq!(c.at, Some(Timestamp::from_secs(300)));
    // Reported once 2 · min_segment points follow the change.
    assert!((309..=312).contains(&pushed_at), "{pushed_at}");
    assert!(
        (c.before - 100.0).abs() < 1.5 && (c.after - 115.0).abs() < 4.0,
        "{c:?}"
    );
    assert!(c.p_value <= 0.01);
    // The window was re-based on the new level, then filled up again.
    assert_eq!(d.len(), 200);
    assert_eq!(d.points_seen(), 600);
}

#[test]
fn online_over_many_seeds() {
    // Streams of 220 points (a full window), a +15 % step, 80 more points.
    // 100 streams in release; 30 in debug builds (CI), where the online
    // detector is about 20 times slower.
    let streams: u64 = if cfg!(debug_assertions) { 30 } else { 100 };
    let (mut found, mut exact, mut near, mut repeats, mut late) = (0, 0, 0, 0, 0);
    for seed in 0..streams {
        let x = series(seed, 300, 220, 0.15);
        let mut d = ChangePointDetector::new(ChangePointConfig::for_online(), 200).unwrap();
        let hits: Vec<_> = run_online(&mut d, &x)
            .into_iter()
            .filter(|(i, c)| *i >= 220 && c.index.abs_diff(220) <= 10)
            .collect();
        if let Some(&(i, c)) = hits.first() {
            found += 1;
            exact += u64::from(c.index == 220);
            near += u64::from(c.index.abs_diff(220) <= 5);
            late += u64::from(i > 235);
        }
        repeats += hits.len().saturating_sub(1) as u64;
    }
    println!(
        "online +15%, {streams} streams: found {found}, exact {exact}, near {near}, late {late}, \
         repeats {repeats}"
    );
    // Measured over 200 streams: exact 80.5 %, within ±5 99 %, repeated
    // 1.5 %, never later than 12 points after the step.
    assert_eq!(found, streams);
    assert_eq!(late, 0);
    assert!(near * 100 >= 95 * streams, "{near}");
    assert!(exact * 100 >= 70 * streams, "{exact}");
    assert!(repeats * 100 <= 3 * streams + 100, "{repeats}");
}

#[test]
fn online_false_alarms_are_rare() {
    // 4 streams of 2,500 points without a change, `for_online()`:
    // 0.24 false alarms per 1,000 points measured over 100,000 points, so
    // about 2.4 expected here; allow 8.
    let mut alarms = 0;
    for s in 0..4 {
        let x = series(2_000 + s, 2_500, usize::MAX, 0.0);
        let mut d = ChangePointDetector::new(ChangePointConfig::for_online(), 200).unwrap();
        alarms += run_online(&mut d, &x).len();
    }
    println!("online false alarms in 10,000 points: {alarms}");
    assert!(alarms <= 8, "{alarms}");
}

#[test]
fn online_is_deterministic_and_resets() {
    let x = series(8, 400, 250, 0.1);
    let mut a = ChangePointDetector::new(ChangePointConfig::default(), 100).unwrap();
    let mut b = a.clone();
    let first = run_online(&mut a, &x);
    assert_eq!(first, run_online(&mut b, &x));
    a.reset();
    assert_eq!((a.len(), a.points_seen()), (0, 0));
    assert_eq!(first, run_online(&mut a, &x));
}

#[test]
fn online_window_is_bounded() {
    let mut d = ChangePointDetector::new(ChangePointConfig::default(), 50).unwrap();
    assert!(d.is_empty());
    assert_eq!(d.capacity(), 50);
    for (i, v) in series(1, 500, usize::MAX, 0.0).into_iter().enumerate() {
        d.push(Timestamp::from_secs(i as u64), v).unwrap();
        assert!(d.len() <= 50);
    }
    assert_eq!(d.points_seen(), 500);
}

// ---------------------------------------------------------------------------
// Bad input.

#[test]
fn bad_values_are_typed_errors() {
    let config = ChangePointConfig::default();
    for (bad, reason) in [
        (f64::NAN, InvalidValueReason::NaN),
        (f64::INFINITY, InvalidValueReason::Infinite),
        (f64::NEG_INFINITY, InvalidValueReason::Infinite),
    ] {
        let mut x = series(1, 50, usize::MAX, 0.0);
        x[17] = bad;
        match detect_change_points(&x, &config) {
            Err(PerfError::InvalidValue { reason: r, .. }) => assert_eq!(r, reason),
            other => panic!("{other:?}"),
        }
        let mut d = ChangePointDetector::new(config.clone(), 20).unwrap();
        d.push(Timestamp::ZERO, 1.0).unwrap();
        match d.push(Timestamp::ZERO, bad) {
            Err(PerfError::InvalidValue { reason: r, .. }) => assert_eq!(r, reason),
            other => panic!("{other:?}"),
        }
        assert_eq!((d.len(), d.points_seen()), (1, 1));
    }
}

#[test]
fn short_series_and_bad_configs_are_typed_errors() {
    let config = ChangePointConfig::default();
    for n in [0, 1, 9] {
        let x = vec![1.0; n];
        assert!(
            matches!(
                detect_change_points(&x, &config),
                Err(PerfError::InvalidConfig(_))
            ),
            "{n}"
        );
    }
    assert!(detect_change_points(&[1.0; 10], &config)
        .unwrap()
        .is_empty());
    let bad = [
        config.clone().alpha(0.0),
        config.clone().alpha(1.0),
        config.clone().alpha(-0.5),
        config.clone().alpha(f64::NAN),
        config.clone().permutations(0),
        config.clone().alpha(0.001),
        config.clone().min_segment(0),
        config.clone().min_segment(1),
        config.clone().min_relative_change(-1.0),
        config.clone().min_relative_change(f64::NAN),
        config.clone().max_change_points(0),
    ];
    let x = series(1, 100, 50, 0.2);
    for c in bad {
        assert!(
            matches!(c.validate(), Err(PerfError::InvalidConfig(_))),
            "{c:?}"
        );
        assert!(
            matches!(
                detect_change_points(&x, &c),
                Err(PerfError::InvalidConfig(_))
            ),
            "{c:?}"
        );
        assert!(
            matches!(
                ChangePointDetector::new(c.clone(), 200),
                Err(PerfError::InvalidConfig(_))
            ),
            "{c:?}"
        );
    }
    assert!(matches!(
        ChangePointDetector::new(config.clone(), 14),
        Err(PerfError::InvalidConfig(_))
    ));
    assert!(ChangePointDetector::new(config, 15).is_ok());
}

#[test]
fn awkward_but_valid_series_do_not_panic() {
    let config = ChangePointConfig::default();
    let cases: Vec<Vec<f64>> = vec![
        vec![0.0; 40],
        vec![-5.0; 40],
        (0..40)
            .map(|i| if i % 2 == 0 { 1.0 } else { -1.0 })
            .collect(),
        (0..40).map(|i| i as f64).collect(),
        (0..40).map(|i| if i < 20 { 0.0 } else { 1e-300 }).collect(),
        (0..40)
            .map(|i| if i < 20 { -f64::MAX } else { f64::MAX })
            .collect(),
        (0..40).map(|i| f64::from_bits(1 + i as u64)).collect(),
    ];
    for x in cases {
        let changes = detect_change_points(&x, &config).unwrap();
        check_sorted_and_in_bounds(&changes, x.len(), config.min_segment);
        let mut d = ChangePointDetector::new(config.clone(), 30).unwrap();
        run_online(&mut d, &x);
    }
    // A linear trend is not a step, but it is a change of level: found.
    let trend: Vec<f64> = (0..100).map(|i| i as f64).collect();
    assert!(!detect_change_points(&trend, &config).unwrap().is_empty());
}

// ---------------------------------------------------------------------------
// Invariances.

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// `a·x + b` (a > 0) gives the same indices, p-values and statistics;
    /// before/after map through the same transformation; results are
    /// sorted and within bounds.
    #[test]
    fn affine_invariance(
        seed in any::<u64>(),
        n in 20usize..120,
        step_frac in 0.2f64..0.8,
        step in prop_oneof![Just(0.0), 0.02f64..0.3],
        log_scale in -3.0f64..3.0,
        shift in -1e4f64..1e4,
        min_segment in 2usize..8,
    ) {
        let x = series(seed, n, (n as f64 * step_frac) as usize, step);
        let config = ChangePointConfig::default().min_segment(min_segment).seed(seed);
        let base = detect_change_points(&x, &config).unwrap();
        check_sorted_and_in_bounds(&base, n, min_segment);
        let a = 10f64.powf(log_scale);
        for (mul, add) in [(a, 0.0), (1.0, shift), (a, shift)] {
            let y: Vec<f64> = x.iter().map(|v| v * mul + add).collect();
            let moved = detect_change_points(&y, &config).unwrap();
            prop_assert_eq!(moved.len(), base.len());
            for (m, b) in moved.iter().zip(&base) {
                prop_assert_eq!(m.index, b.index);
                prop_assert_eq!(m.p_value, b.p_value);
                prop_assert!((m.statistic - b.statistic).abs() <= 1e-6 * b.statistic);
                let expect = b.before * mul + add;
                prop_assert!((m.before - expect).abs() <= 1e-9 * expect.abs().max(mul * 100.0));
                if add == 0.0 {
                    prop_assert!((m.relative_change - b.relative_change).abs() <= 1e-9);
                }
            }
        }
    }

    /// With `min_relative_change`, positive scaling still changes nothing.
    #[test]
    fn scale_invariance_with_min_relative_change(
        seed in any::<u64>(),
        step in 0.0f64..0.2,
        log_scale in -3.0f64..3.0,
    ) {
        let x = series(seed, 100, 60, step);
        let config = ChangePointConfig::default().min_relative_change(0.05);
        let base = detect_change_points(&x, &config).unwrap();
        for c in &base {
            prop_assert!(c.relative_change.abs() >= 0.05);
        }
        let a = 10f64.powf(log_scale);
        let y: Vec<f64> = x.iter().map(|v| v * a).collect();
        let scaled = detect_change_points(&y, &config).unwrap();
        let idx = |c: &[ChangePoint]| c.iter().map(|c| c.index).collect::<Vec<_>>();
        prop_assert_eq!(idx(&scaled), idx(&base));
    }
}

// ---------------------------------------------------------------------------
// Measurements (ignored: run in release with --nocapture).

#[test]
#[ignore = "measurement: run in release with --nocapture"]
fn measure_rates_and_time() {
    let config = ChangePointConfig::default();
    for (label, rel) in [("no step", 0.0), ("+15%", 0.15), ("+5%", 0.05)] {
        let r = rates(0..1000, rel, &config);
        println!("{label}, 1,000 seeds: {r:?}");
    }
    let steps: Vec<Vec<f64>> = (0..200).map(|s| series(s, N, STEP_AT, 0.15)).collect();
    let small: Vec<Vec<f64>> = (0..200).map(|s| series(s, N, STEP_AT, 0.05)).collect();
    let nulls: Vec<Vec<f64>> = (0..200).map(|s| series(s, N, STEP_AT, 0.0)).collect();
    for (label, set) in [
        ("+15% step", &steps),
        ("+5% step", &small),
        ("no step", &nulls),
    ] {
        // Best of 7 rounds: the machine may be shared.
        let mut best = Duration::MAX;
        for _ in 0..7 {
            let start = Instant::now();
            for x in set {
                std::hint::black_box(detect_change_points(x, &config).unwrap());
            }
            best = best.min(start.elapsed() / set.len() as u32);
        }
        println!("time per 200-point series, {label}: {best:?} (best of 7 rounds of 200)");
    }
}

#[test]
#[ignore = "measurement: run in release with --nocapture"]
fn measure_online_false_alarms() {
    for config in [
        ChangePointConfig::default(),
        ChangePointConfig::for_online(),
    ] {
        let mut alarms = 0;
        let start = Instant::now();
        for s in 0..20 {
            let x = series(1_000 + s, 5_000, usize::MAX, 0.0);
            let mut d = ChangePointDetector::new(config.clone(), 200).unwrap();
            alarms += run_online(&mut d, &x).len();
        }
        let per_push = start.elapsed() / 100_000;
        println!(
            "alpha {}: {alarms} false alarms in 100,000 points ({:.2} per 1,000); {per_push:?} per push (incl. generating)",
            config.alpha,
            alarms as f64 / 100.0,
        );
    }
}

#[test]
#[ignore = "measurement: run in release with --nocapture"]
fn measure_online_delay() {
    for config in [
        ChangePointConfig::default(),
        ChangePointConfig::for_online(),
    ] {
        for rel in [0.15, 0.05] {
            let (mut delays, mut exact, mut near, mut repeats) = (Vec::new(), 0, 0, 0);
            for seed in 0..200 {
                let x = series(seed, 600, 300, rel);
                let mut d = ChangePointDetector::new(config.clone(), 200).unwrap();
                let hits: Vec<_> = run_online(&mut d, &x)
                    .into_iter()
                    .filter(|(i, c)| *i >= 300 && c.index.abs_diff(300) <= 10)
                    .collect();
                if let Some(&(i, c)) = hits.first() {
                    delays.push(i - 300);
                    exact += usize::from(c.index == 300);
                    near += usize::from(c.index.abs_diff(300) <= 5);
                }
                repeats += hits.len().saturating_sub(1);
            }
            delays.sort_unstable();
            println!(
                "alpha {} +{}%: found within ±10 {}/200 (exact {exact}, ±5 {near}), repeats {repeats}, \
                 points after the step until reported: median {} p90 {} max {}",
                config.alpha,
                rel * 100.0,
                delays.len(),
                delays[delays.len() / 2] + 1,
                delays[delays.len() * 9 / 10] + 1,
                delays[delays.len() - 1] + 1,
            );
        }
    }
}
