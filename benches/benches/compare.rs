//! perf-core against its peers, side by side in one run.
//!
//! Groups (each peer is a benchmark function of the same group, so the
//! criterion report compares them):
//!
//! * `record` — one record into a histogram handle, 1 thread, cycling through
//!   1024 realistic latencies (lognormal, median 20 ms, σ = 1).
//! * `record_2threads` — the same from 2 threads at once into the same shared
//!   handle (HdrHistogram: one histogram per thread, as its users do). The
//!   reported time is wall time / iterations, i.e. per record per thread:
//!   "no slowdown" reads as the same ns as in `record`.
//! * `lookup` — finding an existing series by name + 2 tags among 100 series
//!   of that name (and getting a handle), and the one-shot lookup + record.
//! * `snapshot` — statistics and the 99th percentile of a series holding 1e6
//!   realistic values (recorded by 1 thread, or by 2 threads).
//!
//! What each peer measures:
//!
//! * `hdrhistogram`: `Histogram<u64>` (1 ns .. 1 h, 3 significant digits)
//!   owned by the recording thread, `record(u64 nanoseconds)`.
//! * `prometheus-client`: `metrics::histogram::Histogram` with 20 exponential
//!   buckets (0.1 ms × 2^k), `observe(f64)` (a mutex-guarded histogram).
//! * `prometheus`: `Histogram` with the same buckets, `observe(f64)`.
//! * `metrics`: the `metrics::Histogram` *handle* returned by a recorder over
//!   `metrics_util::registry::Registry<Key, AtomicStorage>` (storage
//!   `AtomicBucket<f64>`, what exporters build on), `record(f64)`. The
//!   recorded values are drained (cleared) between samples, outside the timed
//!   region, as an exporter would. `histogram!` macro lookups are in `lookup`.
//!
//! Run: `benches/run.sh`, or
//! `cargo bench -p perf-core-benches --bench compare -- --warm-up-time 1 --measurement-time 3`.

use std::hint::black_box;
use std::sync::{Arc, Barrier, OnceLock};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use metrics_util::storage::AtomicBucket;
use perf_core::Monitor;
use perf_core_benches::{
    hdr_latency, latency_values, lognormal_ms, ms_to_ns, prometheus_buckets, RegistryRecorder,
    Workers, MEDIAN_MS, VALUES_MASK,
};

const NAME: &str = "http.server.duration";
/// Prometheus metric names may not contain dots.
const PROM_NAME: &str = "http_server_duration";
const ROUTE: &str = "/users/:id";
const METHOD: &str = "GET";
const TAGS: &[(&str, &str)] = &[("route", ROUTE), ("method", METHOD)];

/// Times `iters` calls of `f(i)`, `i = 0, 1, ...`: the loop every record
/// bench (1 and 2 threads) uses, so their ns compare directly.
#[inline(always)]
fn time_loop(iters: u64, mut f: impl FnMut(usize)) -> Duration {
    let start = Instant::now();
    for i in 0..iters as usize {
        f(i);
    }
    start.elapsed()
}

/// A monitor with the default configuration (windows on, system clock).
fn monitor() -> Monitor {
    Monitor::builder().build().expect("default monitor")
}

fn prometheus_client_histogram() -> prometheus_client::metrics::histogram::Histogram {
    prometheus_client::metrics::histogram::Histogram::new(prometheus_buckets())
}

fn prometheus_histogram() -> prometheus::Histogram {
    prometheus::Histogram::with_opts(
        prometheus::HistogramOpts::new(PROM_NAME, "latency").buckets(prometheus_buckets()),
    )
    .expect("valid prometheus histogram")
}

/// A `metrics` handle over `AtomicStorage`, and its bucket (to drain it).
fn metrics_handle(rec: &RegistryRecorder) -> (metrics::Histogram, Arc<AtomicBucket<f64>>) {
    let key = metrics::Key::from_parts(NAME, vec![metrics::Label::new("route", ROUTE)]);
    rec.registry.get_or_create_histogram(&key, |bucket| {
        (metrics::Histogram::from_arc(bucket.clone()), bucket.clone())
    })
}

fn record(c: &mut Criterion) {
    let values = latency_values();
    let ns = ms_to_ns(&values);
    let mut group = c.benchmark_group("record");

    group.bench_function("baseline (loop only)", |b| {
        b.iter_custom(|iters| {
            time_loop(iters, |i| {
                black_box(values[i & VALUES_MASK]);
            })
        })
    });

    let monitor = monitor();
    let h = monitor.histogram(NAME, TAGS).unwrap();
    group.bench_function("perf-core", |b| {
        b.iter_custom(|iters| {
            time_loop(iters, |i| {
                let _ = black_box(h.record(black_box(values[i & VALUES_MASK])));
            })
        })
    });

    let mut hdr = hdr_latency();
    group.bench_function("hdrhistogram", |b| {
        b.iter_custom(|iters| {
            time_loop(iters, |i| {
                let _ = black_box(hdr.record(black_box(ns[i & VALUES_MASK])));
            })
        })
    });

    let pc = prometheus_client_histogram();
    group.bench_function("prometheus-client", |b| {
        b.iter_custom(|iters| time_loop(iters, |i| pc.observe(black_box(values[i & VALUES_MASK]))))
    });

    let p = prometheus_histogram();
    group.bench_function("prometheus", |b| {
        b.iter_custom(|iters| time_loop(iters, |i| p.observe(black_box(values[i & VALUES_MASK]))))
    });

    let rec = RegistryRecorder::new();
    let (mh, bucket) = metrics_handle(&rec);
    group.bench_function("metrics (handle)", |b| {
        b.iter_custom(|iters| {
            let t = time_loop(iters, |i| mh.record(black_box(values[i & VALUES_MASK])));
            bucket.clear();
            t
        })
    });

    group.finish();
}

/// Two workers, each recording `values` through its own `make()` (thread 1
/// starts half-way through the array).
fn pair<T, R>(values: &Arc<Vec<T>>, make: impl Fn() -> R) -> Workers
where
    T: Copy + Send + Sync + 'static,
    R: FnMut(T) + Send + 'static,
{
    Workers::start(2, |t| {
        let values = values.clone();
        let mut rec = make();
        let offset = t * (VALUES_MASK + 1) / 2;
        move |iters| {
            time_loop(iters, |i| {
                rec(black_box(values[(i + offset) & VALUES_MASK]))
            });
        }
    })
}

fn record_2threads(c: &mut Criterion) {
    let values = Arc::new(latency_values());
    let ns = Arc::new(ms_to_ns(&values));
    let mut group = c.benchmark_group("record_2threads");

    {
        let monitor = monitor();
        let h = monitor.histogram(NAME, TAGS).unwrap();
        let workers = pair(&values, || {
            let h = h.clone();
            move |v| {
                let _ = black_box(h.record(v));
            }
        });
        group.bench_function("perf-core", |b| b.iter_custom(|iters| workers.run(iters)));
    }

    {
        // One histogram per thread, owned by it: HdrHistogram is not shared.
        let workers = pair(&ns, || {
            let mut hdr = hdr_latency();
            move |v| {
                let _ = black_box(hdr.record(v));
            }
        });
        group.bench_function("hdrhistogram (per thread)", |b| {
            b.iter_custom(|iters| workers.run(iters))
        });
    }

    {
        let pc = prometheus_client_histogram();
        let workers = pair(&values, || {
            let pc = pc.clone();
            move |v| pc.observe(v)
        });
        group.bench_function("prometheus-client", |b| {
            b.iter_custom(|iters| workers.run(iters))
        });
    }

    {
        let p = prometheus_histogram();
        let workers = pair(&values, || {
            let p = p.clone();
            move |v| p.observe(v)
        });
        group.bench_function("prometheus", |b| b.iter_custom(|iters| workers.run(iters)));
    }

    {
        let rec = RegistryRecorder::new();
        let (mh, bucket) = metrics_handle(&rec);
        let workers = pair(&values, || {
            let mh = mh.clone();
            move |v| mh.record(v)
        });
        group.bench_function("metrics (handle)", |b| {
            b.iter_custom(|iters| {
                let t = workers.run(iters);
                bucket.clear();
                t
            })
        });
    }

    group.finish();
}

/// The routes and methods of the 100 series each system holds per name.
fn series_tags() -> Vec<(String, &'static str)> {
    let mut tags: Vec<(String, &'static str)> = (0..20)
        .flat_map(|r| {
            ["GET", "POST", "PUT", "DELETE", "PATCH"]
                .into_iter()
                .map(move |m| (format!("/api/v1/resource{r}"), m))
        })
        .collect();
    tags[37] = (ROUTE.to_owned(), METHOD); // the series the benches look up
    tags
}

type PcLabels = [(&'static str, &'static str); 2];
type PcStaticFamily = prometheus_client::metrics::family::Family<
    PcLabels,
    prometheus_client::metrics::histogram::Histogram,
    fn() -> prometheus_client::metrics::histogram::Histogram,
>;

/// The process-wide `metrics` recorder (the macros look it up globally).
fn global_metrics_recorder() -> &'static RegistryRecorder {
    static RECORDER: OnceLock<RegistryRecorder> = OnceLock::new();
    RECORDER.get_or_init(|| {
        let rec = RegistryRecorder::new();
        metrics::set_global_recorder(rec.clone()).expect("no other global recorder");
        rec
    })
}

fn lookup(c: &mut Criterion) {
    let values = latency_values();
    let tags = series_tags();
    let mut group = c.benchmark_group("lookup");

    // perf-core: 100 series of NAME plus 100 of another name in one monitor.
    let monitor = monitor();
    for (route, method) in &tags {
        monitor
            .histogram(NAME, &[("route", route), ("method", method)])
            .unwrap();
        monitor
            .histogram("db.query.duration", &[("table", route), ("op", method)])
            .unwrap();
    }
    group.bench_function("perf-core histogram(name, tags)", |b| {
        b.iter(|| monitor.histogram(black_box(NAME), black_box(TAGS)).unwrap())
    });
    group.bench_function("perf-core record(name, tags, v)", |b| {
        b.iter_custom(|iters| {
            time_loop(iters, |i| {
                monitor
                    .record(
                        black_box(NAME),
                        black_box(TAGS),
                        black_box(values[i & VALUES_MASK]),
                    )
                    .unwrap()
            })
        })
    });

    // prometheus-client: one Family per metric name; labels borrowed &str
    // (its cheapest label set, like perf-core's borrowed tags).
    let pc_family: PcStaticFamily =
        PcStaticFamily::new_with_constructor(prometheus_client_histogram);
    let leaked: Vec<PcLabels> = tags
        .iter()
        .map(|(r, m)| {
            let r: &'static str = Box::leak(r.clone().into_boxed_str());
            [("route", r), ("method", *m)]
        })
        .collect();
    for labels in &leaked {
        drop(pc_family.get_or_create(labels));
    }
    let pc_labels: PcLabels = [("route", ROUTE), ("method", METHOD)];
    group.bench_function("prometheus-client Family::get_or_create", |b| {
        b.iter(|| {
            let guard = pc_family.get_or_create(black_box(&pc_labels));
            black_box(&*guard);
        })
    });
    group.bench_function("prometheus-client get_or_create + observe", |b| {
        b.iter_custom(|iters| {
            time_loop(iters, |i| {
                pc_family
                    .get_or_create(black_box(&pc_labels))
                    .observe(black_box(values[i & VALUES_MASK]))
            })
        })
    });

    // prometheus: a HistogramVec per metric name.
    let vec = prometheus::HistogramVec::new(
        prometheus::HistogramOpts::new(PROM_NAME, "latency").buckets(prometheus_buckets()),
        &["route", "method"],
    )
    .unwrap();
    for (route, method) in &tags {
        vec.with_label_values(&[route.as_str(), method]);
    }
    group.bench_function("prometheus HistogramVec::with_label_values", |b| {
        b.iter(|| vec.with_label_values(black_box(&[ROUTE, METHOD])))
    });
    group.bench_function("prometheus with_label_values + observe", |b| {
        b.iter_custom(|iters| {
            time_loop(iters, |i| {
                vec.with_label_values(black_box(&[ROUTE, METHOD]))
                    .observe(black_box(values[i & VALUES_MASK]))
            })
        })
    });

    // metrics: the `histogram!` macro against a global recorder over a
    // metrics-util registry holding the same 200 series.
    let rec = global_metrics_recorder();
    for (route, method) in &tags {
        let _ = metrics::histogram!(NAME, "route" => route.clone(), "method" => *method);
        let _ = metrics::histogram!("db.query.duration", "table" => route.clone(), "op" => *method);
    }
    group.bench_function("metrics histogram!(name, labels)", |b| {
        b.iter(|| metrics::histogram!(NAME, "route" => ROUTE, "method" => METHOD))
    });
    group.bench_function("metrics histogram!(...).record(v)", |b| {
        b.iter_custom(|iters| {
            let t = time_loop(iters, |i| {
                metrics::histogram!(NAME, "route" => ROUTE, "method" => METHOD)
                    .record(black_box(values[i & VALUES_MASK]))
            });
            rec.clear_histograms();
            t
        })
    });

    group.finish();
}

const SNAPSHOT_VALUES: usize = 1_000_000;

fn snapshot(c: &mut Criterion) {
    let values = lognormal_ms(SNAPSHOT_VALUES, MEDIAN_MS, 1.0, 7);
    let ns = ms_to_ns(&values);
    let mut group = c.benchmark_group("snapshot");

    let monitor = monitor();
    let one = monitor.histogram(NAME, &[("threads", "1")]).unwrap();
    std::thread::scope(|s| {
        s.spawn(|| values.iter().for_each(|&v| one.record(v).unwrap()));
    });
    let two = monitor.histogram(NAME, &[("threads", "2")]).unwrap();
    // Both threads stay alive until both have recorded, so they hold
    // different slots and the series really has two shards to merge.
    let both_recorded = Barrier::new(2);
    std::thread::scope(|s| {
        for half in values.chunks(SNAPSHOT_VALUES / 2) {
            let (two, both_recorded) = (&two, &both_recorded);
            s.spawn(move || {
                half.iter().for_each(|&v| two.record(v).unwrap());
                both_recorded.wait();
            });
        }
    });
    assert_eq!(one.stats().count, SNAPSHOT_VALUES as u64);
    assert_eq!(two.stats().count, SNAPSHOT_VALUES as u64);
    assert!(two.memory_bytes() > one.memory_bytes(), "two shards");

    group.bench_function("perf-core stats() 1 thread", |b| b.iter(|| one.stats()));
    group.bench_function("perf-core snapshot().percentile(99) 1 thread", |b| {
        b.iter(|| one.snapshot().percentile(black_box(99.0)).unwrap())
    });
    group.bench_function("perf-core stats() 2 threads", |b| b.iter(|| two.stats()));
    group.bench_function("perf-core snapshot().percentile(99) 2 threads", |b| {
        b.iter(|| two.snapshot().percentile(black_box(99.0)).unwrap())
    });

    let mut hdr = hdr_latency();
    ns.iter().for_each(|&v| hdr.record(v).unwrap());
    group.bench_function("hdrhistogram value_at_quantile(0.99)", |b| {
        b.iter(|| hdr.value_at_quantile(black_box(0.99)))
    });
    // What `stats()` computes: count, min, max, mean, stddev, 6 percentiles.
    group.bench_function("hdrhistogram stats equivalent", |b| {
        b.iter(|| {
            let q = [0.5, 0.75, 0.9, 0.95, 0.99, 0.999].map(|q| hdr.value_at_quantile(q));
            black_box((hdr.len(), hdr.min(), hdr.max(), hdr.mean(), hdr.stdev(), q))
        })
    });
    // Two per-thread histograms, as HdrHistogram users record from 2
    // threads: a reader merges them, then asks for the percentile.
    let mut halves = [hdr_latency(), hdr_latency()];
    for (h, part) in halves.iter_mut().zip(ns.chunks(SNAPSHOT_VALUES / 2)) {
        part.iter().for_each(|&v| h.record(v).unwrap());
    }
    group.bench_function("hdrhistogram merge 2 + value_at_quantile(0.99)", |b| {
        b.iter(|| {
            let mut merged = halves[0].clone();
            merged.add(&halves[1]).unwrap();
            merged.value_at_quantile(black_box(0.99))
        })
    });

    group.finish();
}

criterion_group!(benches, record, record_2threads, lookup, snapshot);
criterion_main!(benches);
