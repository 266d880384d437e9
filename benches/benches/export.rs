//! Exporting 10,000 histogram series in every format perf-core writes, side
//! by side with the Prometheus client libraries rendering the same series.
//!
//! Setup: 100 histogram metrics × 100 series (tag `route`), each fed 100
//! realistic latencies (lognormal, median 20 ms, σ = 1). The peers hold the
//! same values in histograms with perf-core's default latency buckets (13
//! bounds plus +Inf), so every text export writes the same samples.
//!
//! Group `export` (time for all 10,000 series):
//!
//! * `perf-core prometheus` / `openmetrics` — `export_prometheus()`,
//!   `export_openmetrics()`: snapshot every series, cumulate buckets, write.
//! * `perf-core json` / `csv` — `export_json()`, `export_csv()`: every
//!   series' statistics (count, sum, min, max, mean, stddev, p50..p99.9).
//! * `perf-core hdr (each series)` — `export_hdr(name, tags)` for each of
//!   the 10,000 series (base64 of compressed V2).
//! * `prometheus-client encode` — `prometheus_client::encoding::text::encode`
//!   of a registry with the same 100 families (OpenMetrics text).
//! * `prometheus TextEncoder` — `prometheus::TextEncoder` over `gather()`
//!   of the same 100 `HistogramVec`s (text 0.0.4).
//!
//! Run: `benches/run.sh export`, or
//! `cargo bench -p perf-core-benches --bench export -- --warm-up-time 1 --measurement-time 3`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use perf_core::{Monitor, DEFAULT_LATENCY_BUCKETS};
use perf_core_benches::lognormal_ms;
use prometheus::Encoder as _;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram as PcHistogram;
use prometheus_client::registry::Registry as PcRegistry;

const METRICS: usize = 100;
const ROUTES: usize = 100;
const VALUES_PER_SERIES: usize = 100;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

type PcFamily = Family<RouteLabels, PcHistogram, fn() -> PcHistogram>;

fn pc_histogram() -> PcHistogram {
    PcHistogram::new(DEFAULT_LATENCY_BUCKETS)
}

/// The same values in perf-core, prometheus-client and prometheus.
struct Fixture {
    monitor: Monitor,
    keys: Vec<(String, String)>,
    pc_registry: PcRegistry,
    prom_registry: prometheus::Registry,
}

fn fixture() -> Fixture {
    let monitor = Monitor::builder()
        .max_series_per_metric(ROUTES)
        .build()
        .unwrap();
    let mut pc_registry = PcRegistry::default();
    let prom_registry = prometheus::Registry::new();
    let mut keys = Vec::with_capacity(METRICS * ROUTES);
    for m in 0..METRICS {
        let name = format!("svc.op{m}.duration");
        let exported = name.replace('.', "_");
        let pc_family = PcFamily::new_with_constructor(pc_histogram);
        pc_registry.register(&exported, "latency", pc_family.clone());
        let opts = prometheus::HistogramOpts::new(exported.as_str(), "latency")
            .buckets(DEFAULT_LATENCY_BUCKETS.to_vec());
        let prom_vec = prometheus::HistogramVec::new(opts, &["route"]).unwrap();
        prom_registry.register(Box::new(prom_vec.clone())).unwrap();
        for r in 0..ROUTES {
            let route = format!("/route/{r}");
            let h = monitor.histogram(&name, &[("route", &route)]).unwrap();
            let pc = pc_family.get_or_create(&RouteLabels {
                route: route.clone(),
            });
            let prom = prom_vec.with_label_values(&[route.as_str()]);
            for v in lognormal_ms(VALUES_PER_SERIES, 20.0, 1.0, (m * ROUTES + r) as u64) {
                h.record(v).unwrap();
                pc.observe(v);
                prom.observe(v);
            }
            keys.push((name.clone(), route));
        }
    }
    Fixture {
        monitor,
        keys,
        pc_registry,
        prom_registry,
    }
}

fn bench_export(c: &mut Criterion) {
    let f = fixture();
    let mut group = c.benchmark_group("export");
    group.sample_size(10);
    let m = &f.monitor;
    group.bench_function("perf-core prometheus", |b| {
        b.iter(|| black_box(m.export_prometheus()))
    });
    group.bench_function("perf-core openmetrics", |b| {
        b.iter(|| black_box(m.export_openmetrics()))
    });
    group.bench_function("perf-core json", |b| b.iter(|| black_box(m.export_json())));
    group.bench_function("perf-core csv", |b| b.iter(|| black_box(m.export_csv())));
    group.bench_function("perf-core hdr (each series)", |b| {
        b.iter(|| {
            for (name, route) in &f.keys {
                black_box(m.export_hdr(name, &[("route", route)]).unwrap());
            }
        })
    });
    group.bench_function("prometheus-client encode", |b| {
        b.iter(|| {
            let mut text = String::new();
            prometheus_client::encoding::text::encode(&mut text, &f.pc_registry).unwrap();
            black_box(text)
        })
    });
    group.bench_function("prometheus TextEncoder", |b| {
        b.iter(|| {
            let mut text = Vec::new();
            prometheus::TextEncoder::new()
                .encode(&f.prom_registry.gather(), &mut text)
                .unwrap();
            black_box(text)
        })
    });
    group.finish();
}

criterion_group!(benches, bench_export);
criterion_main!(benches);
