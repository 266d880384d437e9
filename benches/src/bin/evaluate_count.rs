//! Rule evaluation for an instruction count (docs/benchmarks.md, issue 17's
//! before and after): the rules bench's setup, smaller — 200 rules over 10
//! series each, 60 s of values — then 20 evaluations at `next_interval`
//! inside `measured()`, whose inclusive count callgrind reports:
//! `valgrind --tool=callgrind target/release/evaluate-count`, then
//! `callgrind_annotate --inclusive=yes callgrind.out.* | grep measured`.
use perf_core::{ManualClock, Monitor, Rule, Severity, Target, Timestamp};
use std::hint::black_box;
use std::time::Duration;

#[inline(never)]
fn measured(monitor: &Monitor, clock: &ManualClock, handles: &[perf_core::Histogram]) {
    for _ in 0..20 {
        handles.iter().for_each(|h| h.record(25.0).unwrap());
        clock.advance(Duration::from_secs(1));
        black_box(monitor.evaluate());
    }
}

fn main() {
    let clock = ManualClock::new(Timestamp::from_secs(1_000_000));
    let monitor = Monitor::builder().clock(clock.clone()).build().unwrap();
    let mut handles = Vec::new();
    for m in 0..200 {
        let name = format!("svc.op{m}.duration");
        for r in 0..10 {
            let route = format!("/route/{r}");
            handles.push(monitor.histogram(&name, &[("route", &route)]).unwrap());
        }
        let rule = Rule::new(format!("slow-op{m}"), Target::percentile(name, 95.0))
            .level(Severity::Warning, 150.0)
            .level(Severity::Critical, 400.0)
            .window(Duration::from_secs(60));
        monitor.add_rule(rule).unwrap();
    }
    for second in 0..60u64 {
        for (i, h) in handles.iter().enumerate() {
            for k in 0..10u64 {
                h.record(((i as u64 * 31 + second * 7 + k) % 300) as f64 + 1.0)
                    .unwrap();
            }
        }
        clock.advance(Duration::from_secs(1));
    }
    monitor.evaluate();
    measured(&monitor, &clock, &handles);
}
