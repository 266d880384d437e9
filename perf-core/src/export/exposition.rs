//! Prometheus text exposition format 0.0.4 and OpenMetrics 1.0 text.
//!
//! [`render`] turns every series of a registry into one exposition
//! document; [`ExpositionConfig`] adds global labels and per-metric help
//! text, units and histogram layouts. The rules (documented for users in
//! `docs/export.md`):
//!
//! * **Names** are sanitized to `[a-zA-Z_:][a-zA-Z0-9_:]*`: every other
//!   character (perf-core's `.`) becomes `_`, and a leading digit gets a `_`
//!   prefix. With a configured unit, `_<unit>` is appended unless the name
//!   already ends with it. Counters end with `_total`.
//! * **Collisions**: perf-core names are taken in sorted order; one whose
//!   exported family, or any sample name it would write (`_total`,
//!   `_bucket`, `_sum`, `_count`, `_created`), was already claimed by an
//!   earlier name is left out whole and listed in [`Exposition::skipped`].
//! * **Labels** are the series' tags plus the global labels; a series tag
//!   wins over a global label of the same name.
//! * **Histograms** are cumulative buckets with explicit upper bounds
//!   (default [`DEFAULT_LATENCY_BUCKETS`], or
//!   [`DEFAULT_LATENCY_BUCKETS_SECONDS`] for the unit `seconds`), or
//!   summaries with quantiles (default [`DEFAULT_SUMMARY_QUANTILES`]).
//! * **Order**: families sorted by exported name, series by labels.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;

use crate::bucket::MIN_BUCKETED;
use crate::error::{MetricKind, PerfError, Result};
use crate::registry::{Metric, Registry};
use crate::series::{validate_tags, SeriesKey};
use crate::snapshot::HistogramSnapshot;

/// Default histogram bucket upper bounds, in milliseconds (perf-core's
/// latency unit): 1 ms to 10 s.
pub const DEFAULT_LATENCY_BUCKETS: [f64; 13] = [
    1.0, 2.5, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0, 10000.0,
];

/// The same bounds in seconds, the default for metrics whose configured
/// unit is `seconds`.
pub const DEFAULT_LATENCY_BUCKETS_SECONDS: [f64; 13] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Default quantiles of histograms rendered as summaries.
pub const DEFAULT_SUMMARY_QUANTILES: [f64; 4] = [0.5, 0.9, 0.95, 0.99];

/// The two text formats.
///
/// ```
/// use perf_core::ExpositionFormat;
/// assert_eq!(
///     ExpositionFormat::Prometheus.content_type(),
///     "text/plain; version=0.0.4; charset=utf-8"
/// );
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ExpositionFormat {
    /// Prometheus text exposition format 0.0.4.
    Prometheus,
    /// OpenMetrics 1.0 text (ends with `# EOF`).
    OpenMetrics,
}

impl ExpositionFormat {
    /// The HTTP `Content-Type` a scrape endpoint serves this format with.
    pub const fn content_type(self) -> &'static str {
        match self {
            Self::Prometheus => "text/plain; version=0.0.4; charset=utf-8",
            Self::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
        }
    }
}

/// How a histogram is exposed.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Rendering {
    /// Cumulative buckets with these upper bounds (plus `+Inf`).
    Buckets(Vec<f64>),
    /// A summary with these quantiles (fractions in `[0, 1]`).
    Summary(Vec<f64>),
}

/// Per-metric settings.
#[derive(Clone, Debug, Default, PartialEq)]
struct MetricOptions {
    help: Option<String>,
    unit: Option<String>,
    rendering: Option<Rendering>,
}

/// What an exposition adds to the series: global labels, and per-metric
/// help text, unit and histogram layout (keyed by the perf-core metric
/// name, e.g. `api.latency`). Builder methods that can be misused return
/// [`PerfError::InvalidConfig`] (or [`PerfError::InvalidTag`] for labels).
///
/// ```
/// use perf_core::{ExpositionConfig, Monitor};
/// let monitor = Monitor::builder().build()?;
/// monitor.record("api.latency", &[("route", "/login")], 12.0)?;
/// let config = ExpositionConfig::new()
///     .global_label("service", "checkout")?
///     .help("api.latency", "Latency of API requests.")
///     .unit("api.latency", "milliseconds")?
///     .buckets("api.latency", &[10.0, 100.0])?;
/// let text = monitor.export_prometheus_with(&config);
/// assert!(text.contains(
///     r#"api_latency_milliseconds_bucket{route="/login",service="checkout",le="100"} 1"#
/// ));
/// # Ok::<(), perf_core::PerfError>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
#[must_use]
pub struct ExpositionConfig {
    /// Sorted by name.
    global_labels: BTreeMap<String, String>,
    metrics: BTreeMap<String, MetricOptions>,
    default_rendering: Option<Rendering>,
}

impl ExpositionConfig {
    /// No global labels, default help text, no units, default buckets.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the label `key="value"` to every series. It follows the tag
    /// rules (see [`crate::validate_tags`]); a series' own tag of the same
    /// name wins over it.
    ///
    /// ```
    /// use perf_core::ExpositionConfig;
    /// assert!(ExpositionConfig::new().global_label("env", "prod").is_ok());
    /// assert!(ExpositionConfig::new().global_label("le", "1").is_err());
    /// ```
    pub fn global_label(mut self, key: &str, value: &str) -> Result<Self> {
        validate_tags(&[(key, value)])?;
        if self.global_labels.contains_key(key) {
            return Err(PerfError::InvalidTag {
                key: key.to_owned(),
                reason: "duplicate global label",
            });
        }
        self.global_labels.insert(key.to_owned(), value.to_owned());
        Ok(self)
    }

    /// The `# HELP` text of `metric` (default: `perf-core <kind> <name>`).
    pub fn help(mut self, metric: &str, text: &str) -> Self {
        self.options(metric).help = Some(text.to_owned());
        self
    }

    /// The unit of `metric`, e.g. `milliseconds`, `seconds`, `bytes`
    /// (letters, digits and `_`). The exported name gets the suffix
    /// `_<unit>` unless it already ends with it, and OpenMetrics writes
    /// `# UNIT`. Values are exported as recorded, not converted. Without
    /// explicit buckets, a histogram in `seconds` gets
    /// [`DEFAULT_LATENCY_BUCKETS_SECONDS`].
    ///
    /// ```
    /// use perf_core::ExpositionConfig;
    /// assert!(ExpositionConfig::new().unit("db.query", "seconds").is_ok());
    /// assert!(ExpositionConfig::new().unit("db.query", "µs").is_err());
    /// ```
    pub fn unit(mut self, metric: &str, unit: &str) -> Result<Self> {
        let valid = !unit.is_empty() && unit.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(PerfError::InvalidConfig(format!(
                "unit {unit:?} of {metric:?}: use letters, digits and '_'"
            )));
        }
        self.options(metric).unit = Some(unit.to_owned());
        Ok(self)
    }

    /// Exposes the histogram `metric` as cumulative buckets with these
    /// upper bounds (finite, positive, increasing), plus `+Inf`.
    ///
    /// ```
    /// use perf_core::ExpositionConfig;
    /// assert!(ExpositionConfig::new().buckets("q", &[0.5, 1.0, 5.0]).is_ok());
    /// assert!(ExpositionConfig::new().buckets("q", &[5.0, 1.0]).is_err());
    /// ```
    pub fn buckets(mut self, metric: &str, bounds: &[f64]) -> Result<Self> {
        check_bounds(bounds)?;
        self.options(metric).rendering = Some(Rendering::Buckets(bounds.to_vec()));
        Ok(self)
    }

    /// Exposes the histogram `metric` as a summary with these quantiles
    /// (fractions in `[0, 1]`, increasing), plus `_sum` and `_count`.
    ///
    /// ```
    /// use perf_core::ExpositionConfig;
    /// assert!(ExpositionConfig::new().summary("q", &[0.5, 0.99]).is_ok());
    /// assert!(ExpositionConfig::new().summary("q", &[99.0]).is_err());
    /// ```
    pub fn summary(mut self, metric: &str, quantiles: &[f64]) -> Result<Self> {
        check_quantiles(quantiles)?;
        self.options(metric).rendering = Some(Rendering::Summary(quantiles.to_vec()));
        Ok(self)
    }

    /// The bucket bounds of every histogram without its own setting.
    pub fn default_buckets(mut self, bounds: &[f64]) -> Result<Self> {
        check_bounds(bounds)?;
        self.default_rendering = Some(Rendering::Buckets(bounds.to_vec()));
        Ok(self)
    }

    /// Exposes every histogram without its own setting as a summary with
    /// these quantiles (e.g. [`DEFAULT_SUMMARY_QUANTILES`]).
    ///
    /// ```
    /// use perf_core::{ExpositionConfig, Monitor, DEFAULT_SUMMARY_QUANTILES};
    /// let monitor = Monitor::builder().build()?;
    /// monitor.record("q", &[], 4.0)?;
    /// let config = ExpositionConfig::new().default_summary(&DEFAULT_SUMMARY_QUANTILES)?;
    /// assert!(monitor.export_prometheus_with(&config).contains("q{quantile=\"0.99\"} 4\n"));
    /// # Ok::<(), perf_core::PerfError>(())
    /// ```
    pub fn default_summary(mut self, quantiles: &[f64]) -> Result<Self> {
        check_quantiles(quantiles)?;
        self.default_rendering = Some(Rendering::Summary(quantiles.to_vec()));
        Ok(self)
    }

    fn options(&mut self, metric: &str) -> &mut MetricOptions {
        self.metrics.entry(metric.to_owned()).or_default()
    }

    /// The rendering of the histogram `metric` with options `options`.
    fn rendering(&self, options: Option<&MetricOptions>) -> Rendering {
        let own = options.and_then(|o| o.rendering.clone());
        own.or_else(|| self.default_rendering.clone())
            .unwrap_or_else(|| match options.and_then(|o| o.unit.as_deref()) {
                Some("seconds") => Rendering::Buckets(DEFAULT_LATENCY_BUCKETS_SECONDS.to_vec()),
                _ => Rendering::Buckets(DEFAULT_LATENCY_BUCKETS.to_vec()),
            })
    }
}

fn check_bounds(bounds: &[f64]) -> Result<()> {
    let positive = bounds.iter().all(|b| b.is_finite() && *b > 0.0);
    if !positive || bounds.windows(2).any(|w| w[0] >= w[1]) {
        return Err(PerfError::InvalidConfig(format!(
            "bucket bounds {bounds:?}: must be finite, positive and increasing"
        )));
    }
    Ok(())
}

fn check_quantiles(quantiles: &[f64]) -> Result<()> {
    let in_range = quantiles.iter().all(|q| (0.0..=1.0).contains(q));
    if !in_range || quantiles.windows(2).any(|w| w[0] >= w[1]) {
        return Err(PerfError::InvalidConfig(format!(
            "summary quantiles {quantiles:?}: must be within [0, 1] and increasing"
        )));
    }
    Ok(())
}

/// The result of [`crate::Monitor::exposition`]: the document, and the metrics left out because
/// their exported names collided with an earlier metric's.
#[derive(Clone, Debug, PartialEq)]
pub struct Exposition {
    /// The exposition document.
    pub text: String,
    /// The metrics left out, in perf-core name order.
    pub skipped: Vec<SkippedMetric>,
}

/// A metric left out of an exposition: see [`Exposition::skipped`].
///
/// ```
/// use perf_core::{ExpositionConfig, ExpositionFormat, Monitor};
/// let monitor = Monitor::builder().build()?;
/// monitor.gauge("queue.depth", &[])?.set(3.0)?;
/// monitor.gauge("queue_depth", &[])?.set(4.0)?; // also `queue_depth` once sanitized
/// let out = monitor.exposition(ExpositionFormat::Prometheus, &ExpositionConfig::new());
/// assert_eq!(out.text.matches("queue_depth 3\n").count(), 1);
/// assert_eq!(out.skipped[0].metric, "queue_depth");
/// assert_eq!(out.skipped[0].conflicts_with, "queue.depth");
/// # Ok::<(), perf_core::PerfError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkippedMetric {
    /// The perf-core metric name.
    pub metric: String,
    /// The name it would have been exported under.
    pub exported_name: String,
    /// The earlier perf-core metric that claimed a name it needed.
    pub conflicts_with: String,
}

/// The value of one series, read once.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Sample {
    Histogram(HistogramSnapshot),
    Counter(u64),
    Gauge(f64),
}

impl Sample {
    fn kind(&self) -> MetricKind {
        match self {
            Sample::Histogram(_) => MetricKind::Histogram,
            Sample::Counter(_) => MetricKind::Counter,
            Sample::Gauge(_) => MetricKind::Gauge,
        }
    }
}

/// Renders every series of `registry` in `format`.
pub(crate) fn render(
    registry: &Registry,
    config: &ExpositionConfig,
    format: ExpositionFormat,
) -> Exposition {
    render_samples(collect(registry), config, format)
}

/// Reads every series once.
pub(crate) fn collect(registry: &Registry) -> Vec<(SeriesKey, Sample)> {
    let mut samples = Vec::new();
    registry.for_each(|key, series| {
        let sample = match &series.metric {
            Metric::Histogram(core) => Sample::Histogram(core.snapshot()),
            Metric::Counter(core) => Sample::Counter(core.value()),
            Metric::Gauge(core) => Sample::Gauge(core.value()),
        };
        samples.push((key.clone(), sample));
    });
    samples
}

/// One metric family as exported, in every exposition format.
pub(crate) struct Family {
    /// The exported name (for counters, without `_total`).
    pub(crate) name: String,
    pub(crate) kind: MetricKind,
    /// The help text, unescaped.
    pub(crate) help: String,
    pub(crate) unit: Option<String>,
    /// Histograms only.
    pub(crate) rendering: Rendering,
    /// Label sets (sorted by name) and values, sorted by labels.
    pub(crate) series: Vec<(Labels, Sample)>,
}

/// A series' labels: its tags and the global labels, sorted by name.
pub(crate) type Labels = Vec<(String, String)>;

/// Renders `samples` (every series of one registry) in `format`.
pub(crate) fn render_samples(
    samples: Vec<(SeriesKey, Sample)>,
    config: &ExpositionConfig,
    format: ExpositionFormat,
) -> Exposition {
    let (families, skipped) = families(samples, config);
    let mut text = String::new();
    for family in &families {
        write_family(&mut text, family, format);
    }
    if format == ExpositionFormat::OpenMetrics {
        text.push_str("# EOF\n");
    }
    Exposition { text, skipped }
}

/// The families of `samples` (every series of one registry) sorted by
/// exported name, and the metrics left out because their names collide:
/// what every exposition format writes.
pub(crate) fn families(
    samples: Vec<(SeriesKey, Sample)>,
    config: &ExpositionConfig,
) -> (Vec<Family>, Vec<SkippedMetric>) {
    let (mut families, skipped) = plan(group(samples), config);
    families.sort_by(|a, b| a.name.cmp(&b.name));
    (families, skipped)
}

/// Groups series by perf-core name (sorted), each with its sorted labels.
fn group(samples: Vec<(SeriesKey, Sample)>) -> BTreeMap<String, Vec<(SeriesKey, Sample)>> {
    let mut by_name: BTreeMap<String, Vec<(SeriesKey, Sample)>> = BTreeMap::new();
    for (key, sample) in samples {
        by_name
            .entry(key.name().to_owned())
            .or_default()
            .push((key, sample));
    }
    by_name
}

/// Builds the families, leaving out metrics whose names collide.
fn plan(
    by_name: BTreeMap<String, Vec<(SeriesKey, Sample)>>,
    config: &ExpositionConfig,
) -> (Vec<Family>, Vec<SkippedMetric>) {
    let mut claimed: HashMap<String, String> = HashMap::new();
    let (mut families, mut skipped) = (Vec::new(), Vec::new());
    for (metric, series) in by_name {
        let Some(kind) = series.first().map(|(_, s)| s.kind()) else {
            continue;
        };
        let options = config.metrics.get(&metric);
        let unit = options.and_then(|o| o.unit.clone());
        let name = family_name(&metric, kind, unit.as_deref());
        let claims = claims(&name, kind);
        if let Some(owner) = claims.iter().find_map(|c| claimed.get(c)) {
            skipped.push(SkippedMetric {
                conflicts_with: owner.clone(),
                exported_name: name,
                metric,
            });
            continue;
        }
        claimed.extend(claims.into_iter().map(|c| (c, metric.clone())));
        let help = options.and_then(|o| o.help.clone());
        families.push(Family {
            help: help.unwrap_or_else(|| format!("perf-core {kind} {metric}")),
            rendering: config.rendering(options),
            series: labelled(series, &config.global_labels),
            name,
            kind,
            unit,
        });
    }
    (families, skipped)
}

/// The exported family name of `metric`: sanitized, with the unit suffix,
/// and for counters without `_total` (the samples add it).
pub(crate) fn family_name(metric: &str, kind: MetricKind, unit: Option<&str>) -> String {
    let mut name = sanitize_name(metric);
    if kind == MetricKind::Counter {
        strip_total(&mut name);
    }
    if let Some(unit) = unit {
        let suffix = format!("_{unit}");
        if !name.ends_with(&suffix) {
            name.push_str(&suffix);
        }
    }
    name
}

fn strip_total(name: &mut String) {
    if name.len() > "_total".len() && name.ends_with("_total") {
        name.truncate(name.len() - "_total".len());
    }
}

/// Every name a family of `kind` named `name` uses, in either format.
fn claims(name: &str, kind: MetricKind) -> Vec<String> {
    let suffixes: &[&str] = match kind {
        MetricKind::Counter => &["", "_total", "_created"],
        MetricKind::Gauge => &[""],
        MetricKind::Histogram => &["", "_bucket", "_sum", "_count", "_created"],
    };
    suffixes.iter().map(|s| format!("{name}{s}")).collect()
}

/// The series with global labels added (a tag wins), sorted by labels.
fn labelled(
    series: Vec<(SeriesKey, Sample)>,
    globals: &BTreeMap<String, String>,
) -> Vec<(Labels, Sample)> {
    let mut out: Vec<(Labels, Sample)> = series
        .into_iter()
        .map(|(key, sample)| {
            let mut labels = globals.clone();
            for (k, v) in key.tags() {
                labels.insert(sanitize_label_name(k), v.to_owned());
            }
            (labels.into_iter().collect(), sample)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// A metric name per the Prometheus data model, `[a-zA-Z_:][a-zA-Z0-9_:]*`:
/// other characters become `_`, a leading digit is prefixed with `_`
/// (`api.response-time` → `api_response_time`, `9lives` → `_9lives`).
pub(crate) fn sanitize_name(name: &str) -> String {
    sanitize(name, |c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// A label name, `[a-zA-Z_][a-zA-Z0-9_]*`, sanitized like a metric name.
pub(crate) fn sanitize_label_name(name: &str) -> String {
    sanitize(name, |c| c.is_ascii_alphanumeric() || c == '_')
}

fn sanitize(name: &str, allowed: impl Fn(char) -> bool) -> String {
    let mut out = String::with_capacity(name.len() + 1);
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        out.push('_');
    }
    out.extend(name.chars().map(|c| if allowed(c) { c } else { '_' }));
    out
}

/// A label value with `\`, `"` and newlines escaped (both formats).
pub(crate) fn escape_label_value(value: &str) -> String {
    escape(value, true)
}

/// Help text escaped for `format`: `\` and newlines, and in OpenMetrics
/// also `"`.
pub(crate) fn escape_help(text: &str, format: ExpositionFormat) -> String {
    escape(text, format == ExpositionFormat::OpenMetrics)
}

fn escape(text: &str, quotes: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '"' if quotes => out.push_str("\\\""),
            c => out.push(c),
        }
    }
    out
}

/// A float as both formats read it: `NaN`, `+Inf`, `-Inf`, or the
/// shortest decimal that reads back exactly. Whole numbers get `.0` in
/// OpenMetrics (its canonical form, as for `le="1.0"`) and none in the
/// Prometheus format (as client_golang writes them).
pub(crate) fn format_float(v: f64, format: ExpositionFormat) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    let s = format!("{v:?}"); // `1.0`, `0.25`, `1e16`, `1e-7`
    match (format, s.strip_suffix(".0")) {
        (ExpositionFormat::Prometheus, Some(whole)) => whole.to_owned(),
        _ => s,
    }
}

/// The cumulative count at each upper bound: a bucket `[lo, hi)` counts in
/// every bound `>= hi` (the zero bucket `[0, MIN_BUCKETED)` likewise),
/// capped at the snapshot's count.
pub(crate) fn cumulative_counts(snapshot: &HistogramSnapshot, bounds: &[f64]) -> Vec<u64> {
    let zero = (0.0, MIN_BUCKETED, snapshot.zero_count());
    let mut buckets = std::iter::once(zero).chain(snapshot.buckets()).peekable();
    let mut running = 0u64;
    bounds
        .iter()
        .map(|&bound| {
            while let Some(&(_, hi, count)) = buckets.peek() {
                if hi > bound {
                    break;
                }
                running = running.saturating_add(count);
                buckets.next();
            }
            running.min(snapshot.count())
        })
        .collect()
}

fn write_family(out: &mut String, family: &Family, format: ExpositionFormat) {
    let om = format == ExpositionFormat::OpenMetrics;
    let (type_name, type_word) = match (family.kind, &family.rendering) {
        (MetricKind::Counter, _) if !om => (format!("{}_total", family.name), "counter"),
        (MetricKind::Counter, _) => (family.name.clone(), "counter"),
        (MetricKind::Gauge, _) => (family.name.clone(), "gauge"),
        (MetricKind::Histogram, Rendering::Buckets(_)) => (family.name.clone(), "histogram"),
        (MetricKind::Histogram, Rendering::Summary(_)) => (family.name.clone(), "summary"),
    };
    let help = escape_help(&family.help, format);
    let _ = writeln!(out, "# HELP {type_name} {help}");
    let _ = writeln!(out, "# TYPE {type_name} {type_word}");
    if let (true, Some(unit)) = (om, &family.unit) {
        let _ = writeln!(out, "# UNIT {type_name} {unit}");
    }
    for (labels, sample) in &family.series {
        write_series(out, family, labels, sample, format);
    }
}

fn write_series(
    out: &mut String,
    family: &Family,
    labels: &Labels,
    sample: &Sample,
    format: ExpositionFormat,
) {
    let name = &family.name;
    match sample {
        Sample::Counter(v) => write_sample(out, &format!("{name}_total"), labels, None, v),
        Sample::Gauge(v) => write_sample(out, name, labels, None, format_float(*v, format)),
        Sample::Histogram(snapshot) => match &family.rendering {
            Rendering::Buckets(bounds) => {
                write_buckets(out, name, labels, snapshot, bounds, format)
            }
            Rendering::Summary(qs) => write_summary(out, name, labels, snapshot, qs, format),
        },
    }
}

fn write_buckets(
    out: &mut String,
    name: &str,
    labels: &Labels,
    snapshot: &HistogramSnapshot,
    bounds: &[f64],
    format: ExpositionFormat,
) {
    let bucket = format!("{name}_bucket");
    let counts = cumulative_counts(snapshot, bounds);
    for (&bound, count) in bounds.iter().zip(counts) {
        let le = ("le", format_float(bound, format));
        write_sample(out, &bucket, labels, Some(le), count);
    }
    let inf = ("le", "+Inf".to_owned());
    write_sample(out, &bucket, labels, Some(inf), snapshot.count());
    write_sum_count(out, name, labels, snapshot, format);
}

fn write_summary(
    out: &mut String,
    name: &str,
    labels: &Labels,
    snapshot: &HistogramSnapshot,
    quantiles: &[f64],
    format: ExpositionFormat,
) {
    let percents: Vec<f64> = quantiles.iter().map(|q| q * 100.0).collect();
    let values = snapshot
        .percentiles(&percents)
        .unwrap_or_else(|_| vec![f64::NAN; quantiles.len()]); // checked in the config
    for (&q, v) in quantiles.iter().zip(values) {
        let quantile = ("quantile", format_float(q, format));
        write_sample(out, name, labels, Some(quantile), format_float(v, format));
    }
    write_sum_count(out, name, labels, snapshot, format);
}

fn write_sum_count(
    out: &mut String,
    name: &str,
    labels: &Labels,
    snapshot: &HistogramSnapshot,
    format: ExpositionFormat,
) {
    let sum = format_float(snapshot.sum(), format);
    write_sample(out, &format!("{name}_sum"), labels, None, sum);
    write_sample(
        out,
        &format!("{name}_count"),
        labels,
        None,
        snapshot.count(),
    );
}

/// Writes `name{labels,extra} value`; `extra` (`le`, `quantile`) goes last.
fn write_sample(
    out: &mut String,
    name: &str,
    labels: &Labels,
    extra: Option<(&str, String)>,
    value: impl std::fmt::Display,
) {
    out.push_str(name);
    let all = labels
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .chain(extra.as_ref().map(|(k, v)| (*k, v.as_str())));
    for (i, (k, v)) in all.enumerate() {
        out.push(if i == 0 { '{' } else { ',' });
        let _ = write!(out, "{k}=\"{}\"", escape_label_value(v));
    }
    if !labels.is_empty() || extra.is_some() {
        out.push('}');
    }
    let _ = writeln!(out, " {value}");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bucket::Precision;
    use ExpositionFormat::{OpenMetrics, Prometheus};

    fn key(name: &str, tags: &[(&str, &str)]) -> SeriesKey {
        SeriesKey::detached(name, tags)
    }

    fn hist(values: &[f64]) -> Sample {
        Sample::Histogram(HistogramSnapshot::from_values(Precision::DEFAULT, values).unwrap())
    }

    fn render_with(
        samples: Vec<(SeriesKey, Sample)>,
        config: &ExpositionConfig,
        format: ExpositionFormat,
    ) -> Exposition {
        render_samples(samples, config, format)
    }

    fn text(samples: Vec<(SeriesKey, Sample)>, format: ExpositionFormat) -> String {
        render_with(samples, &ExpositionConfig::new(), format).text
    }

    #[test]
    fn names_are_sanitized_per_the_prometheus_data_model() {
        assert_eq!(sanitize_name("api.response_time"), "api_response_time");
        assert_eq!(sanitize_name("ns:sub.x"), "ns:sub_x");
        assert_eq!(sanitize_name("9lives"), "_9lives");
        assert_eq!(sanitize_name("a-b c/é"), "a_b_c__");
        assert_eq!(sanitize_name(""), "_");
        assert_eq!(sanitize_label_name("a:b"), "a_b");
        assert_eq!(sanitize_label_name("1x"), "_1x");
    }

    #[test]
    fn label_values_and_help_are_escaped_per_format() {
        assert_eq!(escape_label_value("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
        assert_eq!(
            escape_help("say \"hi\"\\\n", Prometheus),
            "say \"hi\"\\\\\\n"
        );
        assert_eq!(escape_help("say \"hi\"", OpenMetrics), "say \\\"hi\\\"");
        let samples = vec![(key("g", &[("path", "C:\\x \"y\"")]), Sample::Gauge(1.0))];
        let out = text(samples, Prometheus);
        assert!(out.contains("g{path=\"C:\\\\x \\\"y\\\"\"} 1\n"), "{out}");
    }

    #[test]
    fn floats_read_back_in_both_formats() {
        assert_eq!(format_float(1.0, Prometheus), "1");
        assert_eq!(format_float(1.0, OpenMetrics), "1.0");
        assert_eq!(format_float(2.5, Prometheus), "2.5");
        assert_eq!(format_float(0.001, OpenMetrics), "0.001");
        assert_eq!(format_float(1e300, Prometheus), "1e300");
        assert_eq!(format_float(f64::NAN, OpenMetrics), "NaN");
        assert_eq!(format_float(f64::INFINITY, Prometheus), "+Inf");
        assert_eq!(format_float(f64::NEG_INFINITY, Prometheus), "-Inf");
        for v in [0.1, 1234.5678, 1e-9, 3.0e17] {
            assert_eq!(format_float(v, Prometheus).parse::<f64>().unwrap(), v);
        }
    }

    #[test]
    fn buckets_accumulate_exactly_at_bucket_edges() {
        let Sample::Histogram(s) = hist(&[0.0, 0.5, 1.0, 1.5, 2.5, 3.0, 100.0]) else {
            unreachable!()
        };
        // 1, 2.5 and 5 are bucket edges: `le` counts the values below them.
        assert_eq!(cumulative_counts(&s, &[1.0, 2.5, 5.0, 1e9]), [2, 4, 6, 7]);
        // The zero bucket is [0, MIN_BUCKETED), like any other.
        assert_eq!(cumulative_counts(&s, &[1e-30, 1e-19]), [0, 1]);
        let empty = HistogramSnapshot::empty(Precision::DEFAULT);
        assert_eq!(cumulative_counts(&empty, &[1.0, 2.0]), [0, 0]);
    }

    #[test]
    fn a_bound_inside_a_bucket_counts_it_from_the_next_bound() {
        // 2 bits: [1, 1.25) is one bucket; 1.1 lies inside it.
        let p = Precision::new(2).unwrap();
        let s = HistogramSnapshot::from_values(p, &[1.05, 1.2, 1.3]).unwrap();
        assert_eq!(cumulative_counts(&s, &[1.1, 1.25, 2.0]), [0, 2, 3]);
    }

    #[test]
    fn histograms_render_cumulative_buckets_sum_and_count() {
        let samples = vec![(key("lat", &[("route", "/a")]), hist(&[0.5, 3.0, 20000.0]))];
        let out = text(samples, Prometheus);
        let expected = [
            "# HELP lat perf-core histogram lat",
            "# TYPE lat histogram",
            "lat_bucket{route=\"/a\",le=\"1\"} 1",
            "lat_bucket{route=\"/a\",le=\"2.5\"} 1",
            "lat_bucket{route=\"/a\",le=\"5\"} 2",
            "lat_bucket{route=\"/a\",le=\"10000\"} 2",
            "lat_bucket{route=\"/a\",le=\"+Inf\"} 3",
            "lat_sum{route=\"/a\"} 20003.5",
            "lat_count{route=\"/a\"} 3",
        ];
        for line in expected {
            assert!(out.contains(&format!("{line}\n")), "{line} in\n{out}");
        }
        assert_eq!(out.lines().count(), 2 + 13 + 1 + 2);
    }

    #[test]
    fn summaries_report_quantiles_and_nan_when_empty() {
        let values: Vec<f64> = (1..=100).map(f64::from).collect();
        let empty = Sample::Histogram(HistogramSnapshot::empty(Precision::DEFAULT));
        let samples = vec![(key("q", &[]), hist(&values)), (key("e", &[]), empty)];
        let config = ExpositionConfig::new()
            .summary("q", &[0.0, 0.5, 1.0])
            .unwrap()
            .default_summary(&DEFAULT_SUMMARY_QUANTILES)
            .unwrap();
        let out = render_with(samples, &config, OpenMetrics).text;
        assert!(out.contains("# TYPE q summary\n"), "{out}");
        assert!(out.contains("q{quantile=\"0.0\"} 1.0\n"), "{out}");
        assert!(out.contains("q{quantile=\"1.0\"} 100.0\n"), "{out}");
        assert!(out.contains("q_sum 5050.0\nq_count 100\n"), "{out}");
        assert!(out.contains("e{quantile=\"0.99\"} NaN\n"), "{out}");
        assert!(out.contains("e_count 0\n"), "{out}");
    }

    #[test]
    fn counters_get_total_in_both_formats() {
        let samples = || {
            vec![
                (key("jobs.done", &[]), Sample::Counter(3)),
                (
                    key("perf_core_series_folded_total", &[("metric", "m")]),
                    Sample::Counter(2),
                ),
            ]
        };
        let prom = text(samples(), Prometheus);
        assert!(prom.contains("# TYPE jobs_done_total counter\njobs_done_total 3\n"));
        assert!(prom.contains("# TYPE perf_core_series_folded_total counter\n"));
        let om = text(samples(), OpenMetrics);
        assert!(
            om.contains("# TYPE jobs_done counter\njobs_done_total 3\n"),
            "{om}"
        );
        assert!(om.contains("# TYPE perf_core_series_folded counter\n"));
        assert!(om.contains("perf_core_series_folded_total{metric=\"m\"} 2\n"));
    }

    #[test]
    fn units_suffix_the_name_once_and_openmetrics_declares_them() {
        let samples = || {
            vec![
                (key("db.query", &[]), hist(&[0.002])),
                (key("io_bytes_total", &[]), Sample::Counter(9)),
                (key("mem_bytes", &[]), Sample::Gauge(1.5)),
            ]
        };
        let config = ExpositionConfig::new()
            .unit("db.query", "seconds")
            .unwrap()
            .unit("io_bytes_total", "bytes")
            .unwrap()
            .unit("mem_bytes", "bytes")
            .unwrap();
        let om = render_with(samples(), &config, OpenMetrics).text;
        assert!(om.contains("# UNIT db_query_seconds seconds\n"), "{om}");
        assert!(
            om.contains("db_query_seconds_bucket{le=\"0.0025\"} 1\n"),
            "{om}"
        );
        assert!(
            om.contains("# UNIT io_bytes bytes\nio_bytes_total 9\n"),
            "{om}"
        );
        assert!(
            om.contains("# UNIT mem_bytes bytes\nmem_bytes 1.5\n"),
            "{om}"
        );
        let prom = render_with(samples(), &config, Prometheus).text;
        assert!(!prom.contains("# UNIT"));
        assert!(prom.contains("# TYPE io_bytes_total counter\n"));
    }

    #[test]
    fn colliding_names_keep_the_first_and_report_the_rest() {
        let samples = vec![
            (key("a_b", &[]), Sample::Gauge(2.0)),
            (key("a.b", &[]), Sample::Gauge(1.0)),
            (key("jobs", &[]), Sample::Counter(1)),
            (key("jobs_total", &[]), Sample::Counter(2)),
            (key("x", &[]), hist(&[1.0])),
            (key("x_sum", &[]), Sample::Gauge(3.0)),
        ];
        let out = render_with(samples, &ExpositionConfig::new(), Prometheus);
        let skipped: Vec<(&str, &str)> = out
            .skipped
            .iter()
            .map(|s| (s.metric.as_str(), s.conflicts_with.as_str()))
            .collect();
        assert_eq!(
            skipped,
            [("a_b", "a.b"), ("jobs_total", "jobs"), ("x_sum", "x")]
        );
        assert!(out.text.contains("a_b 1\n") && !out.text.contains("a_b 2\n"));
        assert_eq!(out.text.matches("# TYPE jobs_total counter").count(), 1);
        assert!(out.text.contains("jobs_total 1\n"));
        assert!(out.text.contains("x_sum 1\n") && !out.text.contains("x_sum 3"));
    }

    #[test]
    fn a_unit_suffix_can_collide_too() {
        let samples = vec![
            (key("lat", &[]), Sample::Gauge(1.0)),
            (key("lat_ms", &[]), Sample::Gauge(2.0)),
        ];
        let config = ExpositionConfig::new().unit("lat", "ms").unwrap();
        let out = render_with(samples, &config, OpenMetrics);
        assert_eq!(out.skipped[0].metric, "lat_ms");
        assert_eq!(out.skipped[0].exported_name, "lat_ms");
    }

    #[test]
    fn global_labels_join_every_series_and_tags_win() {
        let samples = vec![
            (
                key("g", &[("zone", "b"), ("env", "dev")]),
                Sample::Gauge(1.0),
            ),
            (key("g", &[("zone", "a")]), Sample::Gauge(2.0)),
        ];
        let config = ExpositionConfig::new()
            .global_label("env", "prod")
            .unwrap()
            .global_label("app", "shop")
            .unwrap();
        let out = render_with(samples, &config, Prometheus).text;
        let lines: Vec<&str> = out.lines().skip(2).collect();
        assert_eq!(
            lines,
            [
                "g{app=\"shop\",env=\"dev\",zone=\"b\"} 1",
                "g{app=\"shop\",env=\"prod\",zone=\"a\"} 2",
            ]
        );
    }

    #[test]
    fn invalid_settings_are_refused() {
        let c = ExpositionConfig::new();
        assert!(c.clone().global_label("__x", "1").is_err());
        assert!(c.clone().global_label("quantile", "1").is_err());
        assert!(c.clone().global_label("a", "").is_err());
        assert!(c
            .clone()
            .global_label("a", "1")
            .unwrap()
            .global_label("a", "2")
            .is_err());
        assert!(c.clone().unit("m", "").is_err());
        assert!(c.clone().unit("m", "m s").is_err());
        for bounds in [&[0.0][..], &[1.0, 1.0], &[f64::INFINITY], &[f64::NAN]] {
            assert!(c.clone().buckets("m", bounds).is_err(), "{bounds:?}");
            assert!(c.clone().default_buckets(bounds).is_err(), "{bounds:?}");
        }
        for qs in [&[1.5][..], &[-0.1], &[0.9, 0.5], &[f64::NAN]] {
            assert!(c.clone().summary("m", qs).is_err(), "{qs:?}");
        }
    }

    #[test]
    fn output_is_sorted_whatever_the_input_order() {
        let mut samples = vec![
            (key("b", &[("k", "2")]), Sample::Gauge(1.0)),
            (key("b", &[("k", "1")]), Sample::Gauge(2.0)),
            (key("a.z", &[]), Sample::Counter(1)),
            (key("a", &[]), hist(&[1.0])),
        ];
        let first = text(samples.clone(), OpenMetrics);
        samples.reverse();
        assert_eq!(text(samples, OpenMetrics), first);
        let families: Vec<&str> = first.lines().filter(|l| l.starts_with("# TYPE")).collect();
        assert_eq!(
            families,
            ["# TYPE a histogram", "# TYPE a_z counter", "# TYPE b gauge"]
        );
        assert!(first.contains("b{k=\"1\"} 2.0\nb{k=\"2\"} 1.0\n"));
    }

    #[test]
    fn an_empty_registry_gives_an_empty_document() {
        assert_eq!(text(Vec::new(), Prometheus), "");
        assert_eq!(text(Vec::new(), OpenMetrics), "# EOF\n");
    }

    #[test]
    fn help_text_is_configurable() {
        let samples = vec![(key("g", &[]), Sample::Gauge(1.0))];
        let config = ExpositionConfig::new().help("g", "Line one\nline \"two\"");
        let om = render_with(samples, &config, OpenMetrics).text;
        assert!(om.starts_with("# HELP g Line one\\nline \\\"two\\\"\n# TYPE g gauge\n"));
    }
}
