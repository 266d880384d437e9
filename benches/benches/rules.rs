//! Rule evaluation at scale: 1,000 rules over 10,000 series (spec target:
//! ≤ 10 ms per evaluation).
//!
//! Setup: 1,000 histogram metrics with 10 series each (tag `route`), every
//! series fed 10 realistic latencies (lognormal, median 20 ms, σ = 1) per
//! second for the last 60 s on a `ManualClock`. Each metric has one rule:
//! p95 over 60 s with a warning and a critical level (a few series fire).
//!
//! * `evaluate/steady` — again at the same instant, nothing recorded since
//!   the last evaluation (windows are read from their running sums).
//! * `evaluate/next_interval` — one new value in every series, then the
//!   clock moves 1 s (which files the values, as the ticker thread does),
//!   then the evaluation: each window adds the newest interval and drops the
//!   oldest. This is the steady state of a service evaluating every second.
//! * `evaluate/after_new_values` — one new value in every series just before
//!   the evaluation, at the same instant: every series is re-snapshotted
//!   first (the worst case).
//!
//! No peer evaluates rules in-process (Prometheus and Grafana do it in a
//! server), so this bench has no side-by-side entry.
//!
//! Run: `cargo bench -p perf-core-benches --bench rules`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use perf_core::{Histogram, ManualClock, Monitor, Rule, Severity, Target, Timestamp};
use perf_core_benches::lognormal_ms;

const METRICS: usize = 1_000;
const SERIES_PER_METRIC: usize = 10;
const VALUES_PER_SECOND: usize = 10;
const SECONDS: u64 = 60;

fn setup() -> (Monitor, ManualClock, Vec<Histogram>) {
    let clock = ManualClock::new(Timestamp::from_secs(1_000_000));
    let monitor = Monitor::builder().clock(clock.clone()).build().unwrap();
    let mut handles = Vec::with_capacity(METRICS * SERIES_PER_METRIC);
    for m in 0..METRICS {
        let name = format!("svc.op{m}.duration");
        for r in 0..SERIES_PER_METRIC {
            let route = format!("/route/{r}");
            handles.push(monitor.histogram(&name, &[("route", &route)]).unwrap());
        }
        let rule = Rule::new(format!("slow-op{m}"), Target::percentile(name, 95.0))
            .level(Severity::Warning, 150.0)
            .level(Severity::Critical, 400.0)
            .window(Duration::from_secs(SECONDS));
        monitor.add_rule(rule).unwrap();
    }
    let values = lognormal_ms(VALUES_PER_SECOND * 97, 20.0, 1.0, 7);
    for second in 0..SECONDS as usize {
        for (i, h) in handles.iter().enumerate() {
            for k in 0..VALUES_PER_SECOND {
                h.record(values[(i * 31 + second * 7 + k) % values.len()])
                    .unwrap();
            }
        }
        clock.advance(Duration::from_secs(1));
    }
    monitor.evaluate();
    (monitor, clock, handles)
}

fn evaluate(c: &mut Criterion) {
    let (monitor, clock, handles) = setup();
    let record_all = || handles.iter().for_each(|h| h.record(25.0).unwrap());
    let mut group = c.benchmark_group("evaluate");
    group.sample_size(20);
    group.bench_function("steady", |b| b.iter(|| black_box(monitor.evaluate())));
    group.bench_function("next_interval", |b| {
        b.iter_batched(
            || {
                record_all();
                clock.advance(Duration::from_secs(1));
            },
            |()| black_box(monitor.evaluate()),
            BatchSize::PerIteration,
        )
    });
    group.bench_function("after_new_values", |b| {
        b.iter_batched(
            record_all,
            |()| black_box(monitor.evaluate()),
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(benches, evaluate);
criterion_main!(benches);
