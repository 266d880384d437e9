//! `NativeMonitor`: the perf-core [`Monitor`] as the facade's `Monitor`
//! sees it. Each method converts its arguments, calls the monitor, and
//! converts the result; see the facade (`ts/monitor.ts`) for the public API.

use napi::bindgen_prelude::{AsyncTask, Buffer, Function, Uint8Array};
use napi_derive::napi;
use perf_core::{
    Budget, EmergencyConfig, Monitor, Precision, Rating, RepeatIntervals, Rule, Severity,
};
use std::collections::HashMap;

use crate::callbacks::{emergency_flag, subscribe_alerts, subscribe_emergency};
use crate::clock::NativeManualClock;
use crate::convert::{
    count, duration_from_ms, ms, positive_duration_from_ms, tag_slice, timestamp_ms,
    AlertEventObject, AlertObject, BudgetRowObject, EmergencyStatusObject,
    EmergencyTransitionObject, SeriesObject, StatsObject,
};
use crate::error::{binding_error, from_napi, IntoJs, Result};
use crate::export::{exposition_config, hdr_options, ExportTask, HdrExportOptions, ProtobufTask};
use crate::handles::{NativeCounter, NativeGauge, NativeHistogram};
use crate::regression::{NativeBaseline, PolicyOptions};

/// Settings of a monitor; every field is optional.
#[napi(object)]
pub struct MonitorOptions {
    /// Histogram precision in bits, 2-10 (default 7: percentiles within 0.39 %).
    pub precision: Option<u32>,
    /// Most distinct metric names (default 10 000).
    pub max_metrics: Option<u32>,
    /// Most tag sets per metric before new ones fold into the overflow
    /// series (default 1 000).
    pub max_series_per_metric: Option<u32>,
    /// Length of the intervals sliding windows are made of, in ms (default 1 000).
    pub window_interval: Option<f64>,
    /// Longest window that can be asked for, in ms (default 300 000).
    pub window_retention: Option<f64>,
    /// Whether to keep sliding-window history (default true).
    pub windows: Option<bool>,
    /// Notifications and emergency transitions kept in history (default 1 000).
    pub alert_history: Option<u32>,
    /// Notifications that may wait for callbacks (default 10 000).
    pub notification_capacity: Option<u32>,
    /// Multi-process mode: the process group's shared directory (else the
    /// environment's `PERF_CORE_MULTIPROC_DIR`).
    pub multiprocess_dir: Option<String>,
    /// How often this process publishes its state to the group, in ms
    /// (default 1 000).
    pub publish_interval: Option<f64>,
    /// How gauges combine across processes: `sum` (default), `max`, `min`,
    /// `latest` or `per_process`.
    pub default_gauge_mode: Option<String>,
    /// Gauge modes per metric name.
    pub gauge_modes: Option<std::collections::HashMap<String, String>>,
    /// How long to wait before repeating a notification of a still-active
    /// alert, per severity (`critical`, `error`, `warning`, `info`), in ms;
    /// severities left out keep their defaults (5 min, 15 min, 1 h, 4 h).
    pub repeat_intervals: Option<std::collections::HashMap<String, f64>>,
}

/// The process group of a monitor in multi-process mode.
#[napi(object)]
pub struct MultiprocessStatusObject {
    /// The shared directory.
    pub dir: String,
    /// This process's pid.
    pub pid: u32,
    /// This process's instance id (random per process start), as a decimal string.
    pub instance: String,
    /// Whether this process leads the group (evaluates rules for all).
    pub leader: bool,
    /// Processes the last read merged, this one included.
    pub processes: u32,
    /// Of those, the live ones.
    pub live_processes: u32,
    /// Dead processes compacted into the archive by this process.
    pub archived: f64,
    /// Times this process published its state.
    pub publishes: f64,
    /// Publishes that failed.
    pub publish_errors: f64,
    /// Files skipped as truncated, corrupt or foreign.
    pub skipped_files: f64,
    /// Series left out of the merged view (kind conflicts, caps).
    pub dropped_series: f64,
    /// The latest reason a file was skipped or a publish failed.
    pub last_error: Option<String>,
}

impl From<perf_core::MultiprocessStatus> for MultiprocessStatusObject {
    fn from(s: perf_core::MultiprocessStatus) -> Self {
        MultiprocessStatusObject {
            dir: s.dir.display().to_string(),
            pid: s.pid,
            instance: s.instance.to_string(),
            leader: s.leader,
            processes: s.processes as u32,
            live_processes: s.live_processes as u32,
            archived: s.archived as f64,
            publishes: s.publishes as f64,
            publish_errors: s.publish_errors as f64,
            skipped_files: s.skipped_files as f64,
            dropped_series: s.dropped_series as f64,
            last_error: s.last_error,
        }
    }
}

/// Web Vitals values (ms; CLS unitless), or their ratings.
#[napi(object)]
pub struct WebVitals {
    /// Largest Contentful Paint.
    pub lcp: Option<f64>,
    /// Interaction to Next Paint.
    pub inp: Option<f64>,
    /// Cumulative Layout Shift.
    pub cls: Option<f64>,
    /// First Contentful Paint.
    pub fcp: Option<f64>,
    /// Time to First Byte.
    pub ttfb: Option<f64>,
    /// First Input Delay.
    pub fid: Option<f64>,
}

/// Ratings of Web Vitals: `good`, `needs-improvement` or `poor`.
#[napi(object)]
pub struct WebVitalsRatings {
    /// Largest Contentful Paint.
    pub lcp: Option<String>,
    /// Interaction to Next Paint.
    pub inp: Option<String>,
    /// Cumulative Layout Shift.
    pub cls: Option<String>,
    /// First Contentful Paint.
    pub fcp: Option<String>,
    /// Time to First Byte.
    pub ttfb: Option<String>,
    /// First Input Delay.
    pub fid: Option<String>,
}

impl From<&WebVitals> for perf_core::WebVitals {
    fn from(v: &WebVitals) -> Self {
        perf_core::WebVitals {
            lcp: v.lcp,
            inp: v.inp,
            cls: v.cls,
            fcp: v.fcp,
            ttfb: v.ttfb,
            fid: v.fid,
        }
    }
}

impl From<perf_core::WebVitalsRatings> for WebVitalsRatings {
    fn from(r: perf_core::WebVitalsRatings) -> Self {
        let text = |rating: Option<Rating>| rating.map(|r| r.as_str().to_owned());
        WebVitalsRatings {
            lcp: text(r.lcp),
            inp: text(r.inp),
            cls: text(r.cls),
            fcp: text(r.fcp),
            ttfb: text(r.ttfb),
            fid: text(r.fid),
        }
    }
}

/// A budget report.
#[napi(object)]
pub struct BudgetReportObject {
    /// When it was computed, in ms since the epoch.
    pub at: f64,
    /// One row per budget item and series.
    pub rows: Vec<BudgetRowObject>,
    /// The worst rating of any row (absent without data).
    pub worst: Option<String>,
}

/// The native monitor behind the facade's `Monitor`.
#[napi]
pub struct NativeMonitor {
    pub(crate) inner: Monitor,
}

/// The builder of `options`, with `clock` if given.
fn builder(
    options: &MonitorOptions,
    clock: Option<&NativeManualClock>,
) -> Result<perf_core::MonitorBuilder> {
    let mut b = Monitor::builder();
    if let Some(clock) = clock {
        b = b.clock(clock.inner.clone());
    }
    if let Some(bits) = options.precision {
        let bits = u8::try_from(bits).unwrap_or(u8::MAX);
        b = b.precision(Precision::new(bits).js()?);
    }
    if let Some(n) = options.max_metrics {
        b = b.max_metrics(n as usize);
    }
    if let Some(n) = options.max_series_per_metric {
        b = b.max_series_per_metric(n as usize);
    }
    if let Some(ms) = options.window_interval {
        b = b.window_interval(positive_duration_from_ms("windowInterval", ms)?);
    }
    if let Some(ms) = options.window_retention {
        b = b.window_retention(positive_duration_from_ms("windowRetention", ms)?);
    }
    if let Some(on) = options.windows {
        b = b.windows(on);
    }
    if let Some(n) = options.alert_history {
        b = b.alert_history(n as usize);
    }
    if let Some(n) = options.notification_capacity {
        b = b.notification_capacity(n as usize);
    }
    if let Some(dir) = &options.multiprocess_dir {
        b = b.multiprocess_dir(dir);
    }
    if let Some(ms) = options.publish_interval {
        b = b.publish_interval(positive_duration_from_ms("publishInterval", ms)?);
    }
    if let Some(mode) = &options.default_gauge_mode {
        b = b.default_gauge_mode(mode.parse().js()?);
    }
    for (name, mode) in options.gauge_modes.iter().flatten() {
        b = b.gauge_mode(name, mode.parse().js()?);
    }
    if let Some(intervals) = &options.repeat_intervals {
        b = b.repeat_intervals(repeat_intervals(intervals)?);
    }
    Ok(b)
}

/// `{ critical: ms, … }`: repeat intervals per severity, the others at
/// their defaults.
fn repeat_intervals(given: &HashMap<String, f64>) -> Result<RepeatIntervals> {
    let mut intervals = RepeatIntervals::default();
    for (name, ms) in given {
        let severity: Severity = name.parse().map_err(|reason: String| {
            binding_error(
                "ERR_PERF_INVALID_CONFIG",
                format!("repeatIntervals: {reason}"),
            )
        })?;
        let what = format!("repeatIntervals.{name}");
        intervals.set(severity, duration_from_ms(&what, *ms)?);
    }
    Ok(intervals)
}

#[napi]
impl NativeMonitor {
    /// A monitor with `options`, reading `clock` if given (else the system clock).
    #[napi(constructor)]
    pub fn new(options: MonitorOptions, clock: Option<&NativeManualClock>) -> Result<Self> {
        let inner = builder(&options, clock)?.build().js()?;
        Ok(NativeMonitor { inner })
    }

    /// Publishes this process's state to the group now (multi-process mode).
    #[napi]
    pub fn publish(&self) -> Result<()> {
        self.inner.publish().js()
    }

    /// Moves dead processes' files into the group's archive; returns how
    /// many processes it archived.
    #[napi]
    pub fn compact_multiprocess(&self) -> Result<u32> {
        self.inner.compact_multiprocess().js().map(|n| n as u32)
    }

    /// The process group, or null outside multi-process mode.
    #[napi]
    pub fn multiprocess(&self) -> Option<MultiprocessStatusObject> {
        self.inner.multiprocess().map(Into::into)
    }

    /// This monitor seen from this process alone.
    #[napi]
    pub fn local(&self) -> NativeMonitor {
        NativeMonitor {
            inner: self.inner.local(),
        }
    }

    /// The histogram series `name{tags}`, created on first use.
    #[napi]
    pub fn histogram(
        &self,
        name: String,
        tags: Option<HashMap<String, String>>,
    ) -> Result<NativeHistogram> {
        let inner = self.inner.histogram(&name, &tag_slice(&tags)).js()?;
        Ok(NativeHistogram { inner })
    }

    /// The counter series `name{tags}`, created on first use.
    #[napi]
    pub fn counter(
        &self,
        name: String,
        tags: Option<HashMap<String, String>>,
    ) -> Result<NativeCounter> {
        let inner = self.inner.counter(&name, &tag_slice(&tags)).js()?;
        Ok(NativeCounter { inner })
    }

    /// The gauge series `name{tags}`, created on first use.
    #[napi]
    pub fn gauge(
        &self,
        name: String,
        tags: Option<HashMap<String, String>>,
    ) -> Result<NativeGauge> {
        let inner = self.inner.gauge(&name, &tag_slice(&tags)).js()?;
        Ok(NativeGauge { inner })
    }

    /// Cumulative statistics of a histogram series.
    #[napi]
    pub fn stats(
        &self,
        name: String,
        tags: Option<HashMap<String, String>>,
    ) -> Result<StatsObject> {
        let stats = self.inner.stats(&name, &tag_slice(&tags)).js()?;
        Ok(StatsObject::from(&stats))
    }

    /// Statistics over the last `window_ms` milliseconds.
    #[napi]
    pub fn window_stats(
        &self,
        name: String,
        tags: Option<HashMap<String, String>>,
        window_ms: f64,
    ) -> Result<StatsObject> {
        let window = duration_from_ms("window", window_ms)?;
        let stats = self
            .inner
            .window_stats(&name, &tag_slice(&tags), window)
            .js()?;
        Ok(StatsObject::from(&stats))
    }

    /// Any percentile `q` in [0, 100], cumulative or over `window_ms`.
    #[napi]
    pub fn percentile(
        &self,
        name: String,
        tags: Option<HashMap<String, String>>,
        q: f64,
        window_ms: Option<f64>,
    ) -> Result<f64> {
        let tags = tag_slice(&tags);
        let stats = match window_ms {
            Some(ms) => self
                .inner
                .window_stats(&name, &tags, duration_from_ms("window", ms)?),
            None => self.inner.stats(&name, &tags),
        }
        .js()?;
        stats.percentile(q).js()
    }

    /// The rate per second of a counter over the last `window_ms` milliseconds.
    #[napi]
    pub fn counter_rate(
        &self,
        name: String,
        tags: Option<HashMap<String, String>>,
        window_ms: f64,
    ) -> Result<f64> {
        let window = duration_from_ms("window", window_ms)?;
        self.inner
            .counter_rate(&name, &tag_slice(&tags), window)
            .js()
    }

    /// Every series, sorted by name and tags.
    #[napi]
    pub fn series(&self) -> Vec<SeriesObject> {
        self.inner
            .series()
            .iter()
            .map(|s| SeriesObject::new(&s.key, Some(s.kind.to_string())))
            .collect()
    }

    /// The monitor's clock, in ms since the epoch.
    #[napi]
    pub fn now(&self) -> f64 {
        timestamp_ms(self.inner.now())
    }

    /// The short names of the Web Vitals (`lcp`, `inp`, …), in the order
    /// of the metrics they are recorded under (`web_vitals.lcp`, …).
    #[napi]
    pub fn web_vitals_names() -> Vec<String> {
        perf_core::WebVitals::NAMES
            .iter()
            .map(|n| (*n).to_owned())
            .collect()
    }

    /// The ratings of Web Vitals values under Google's thresholds
    /// ([`perf_core::WebVitals::rate`]).
    #[napi]
    pub fn rate_web_vitals(vitals: WebVitals) -> WebVitalsRatings {
        WebVitalsRatings::from(perf_core::WebVitals::from(&vitals).rate())
    }

    /// Records Web Vitals into `web_vitals.lcp`, … with `tags`, all or
    /// nothing ([`Monitor::record_web_vitals`]), and returns their ratings.
    #[napi]
    pub fn record_web_vitals(
        &self,
        vitals: WebVitals,
        tags: Option<HashMap<String, String>>,
    ) -> Result<WebVitalsRatings> {
        let vitals = perf_core::WebVitals::from(&vitals);
        let ratings = self
            .inner
            .record_web_vitals(&vitals, &tag_slice(&tags))
            .js()?;
        Ok(WebVitalsRatings::from(ratings))
    }

    /// The histogram precision in bits.
    #[napi(getter)]
    pub fn precision(&self) -> u32 {
        u32::from(self.inner.precision().bits())
    }

    /// The window interval in ms, or null without windows.
    #[napi(getter)]
    pub fn window_interval(&self) -> Option<f64> {
        self.inner.window_interval().map(ms)
    }

    /// Files everything recorded so far under the current window interval
    /// ([`Monitor::tick`]).
    #[napi]
    pub fn tick(&self) {
        self.inner.tick();
    }

    /// The regression policy of the last rules document loaded with a
    /// `regression` section, or the default ([`Monitor::regression_policy`]).
    #[napi]
    pub fn regression_policy(&self) -> PolicyOptions {
        PolicyOptions::from(&self.inner.regression_policy())
    }

    /// Adds one rule, written as an entry of a rules document's `rules`
    /// ([`Rule::from_json`], [`Monitor::add_rule`]).
    #[napi]
    pub fn add_rule(&self, json: String) -> Result<()> {
        let rule = Rule::from_json(&json).js()?;
        self.inner.add_rule(rule).js()
    }

    /// Adds one budget, written as an entry of a rules document's
    /// `budgets` ([`Budget::from_json`], [`Monitor::add_budget`]).
    #[napi]
    pub fn add_budget(&self, json: String) -> Result<()> {
        let budget = Budget::from_json(&json).js()?;
        self.inner.add_budget(budget).js()
    }

    /// The rules ([`Monitor::rules`], those budgets generate included),
    /// each as a rules document's entry ([`Rule::to_json`]).
    #[napi]
    pub fn rules(&self) -> Vec<String> {
        self.inner.rules().iter().map(Rule::to_json).collect()
    }

    /// The budgets, each as a rules document's entry ([`Budget::to_json`]).
    #[napi]
    pub fn budgets(&self) -> Vec<String> {
        self.inner.budgets().iter().map(Budget::to_json).collect()
    }

    /// Adds the rules, budgets and emergency section of a rules document.
    /// Returns how many rules and budgets were added.
    #[napi]
    pub fn load_rules(&self, json: String) -> Result<u32> {
        let added = self.inner.load_rules(&json).js()?;
        Ok(u32::try_from(added).unwrap_or(u32::MAX))
    }

    /// [`NativeMonitor::load_rules`] with the contents of the file `path`.
    #[napi]
    pub fn load_rules_file(&self, path: String) -> Result<u32> {
        let added = self.inner.load_rules_file(path).js()?;
        Ok(u32::try_from(added).unwrap_or(u32::MAX))
    }

    /// The rules, budgets and emergency configuration as a rules document.
    #[napi]
    pub fn rules_json(&self) -> String {
        self.inner.rules_json()
    }

    /// Removes a rule; returns whether it existed.
    #[napi]
    pub fn remove_rule(&self, name: String) -> bool {
        self.inner.remove_rule(&name)
    }

    /// Removes a budget; returns whether it existed.
    #[napi]
    pub fn remove_budget(&self, name: String) -> bool {
        self.inner.remove_budget(&name)
    }

    /// Every budget rated at the clock's now.
    #[napi]
    pub fn budget_report(&self) -> BudgetReportObject {
        let report = self.inner.budget_report();
        BudgetReportObject {
            at: timestamp_ms(report.at),
            rows: report.rows.iter().map(BudgetRowObject::from).collect(),
            worst: report.worst().map(|r| r.as_str().to_owned()),
        }
    }

    /// Evaluates every rule now; returns the notifications it produced
    /// (subscribers get them too).
    #[napi]
    pub fn evaluate(&self) -> Vec<AlertEventObject> {
        self.inner
            .evaluate()
            .iter()
            .map(AlertEventObject::from)
            .collect()
    }

    /// Starts the background evaluator, every `interval_ms` milliseconds.
    #[napi]
    pub fn start(&self, interval_ms: f64) -> Result<()> {
        let interval = positive_duration_from_ms("interval", interval_ms)?;
        self.inner.start(interval).js()
    }

    /// Stops the background evaluator (no-op if none runs).
    #[napi]
    pub fn stop(&self) {
        self.inner.stop();
    }

    /// Whether the background evaluator runs.
    #[napi]
    pub fn is_evaluating(&self) -> bool {
        self.inner.is_evaluating()
    }

    /// The active alerts.
    #[napi]
    pub fn alerts(&self) -> Vec<AlertObject> {
        self.inner.alerts().iter().map(AlertObject::from).collect()
    }

    /// The latest notifications, oldest first.
    #[napi]
    pub fn alert_history(&self) -> Vec<AlertEventObject> {
        self.inner
            .alert_history()
            .iter()
            .map(AlertEventObject::from)
            .collect()
    }

    /// Acknowledges an active alert (its repeats stop).
    #[napi]
    pub fn acknowledge(&self, id: f64) -> Result<()> {
        if !(id >= 0.0 && id.fract() == 0.0) {
            return Err(binding_error(
                "ERR_PERF_INVALID_VALUE",
                format!("an alert id is a non-negative integer, got {id}"),
            ));
        }
        self.inner.acknowledge(perf_core::AlertId(id as u64)).js()
    }

    /// Subscribers that panicked so far (always 0 for JavaScript callbacks,
    /// whose exceptions the facade catches).
    #[napi]
    pub fn subscriber_panics(&self) -> f64 {
        count(self.inner.subscriber_panics())
    }

    /// Waits (at most `timeout_ms`) until every notification made so far
    /// has been handed to the JavaScript callbacks' queue; whether all were.
    #[napi]
    pub fn flush_notifications(&self, timeout_ms: f64) -> bool {
        let timeout = std::time::Duration::from_secs_f64(timeout_ms.clamp(0.0, 3.6e6) / 1e3);
        self.inner.flush_notifications(timeout)
    }

    /// Notifications dropped because callbacks fell `notificationCapacity`
    /// behind.
    #[napi]
    pub fn notifications_dropped(&self) -> f64 {
        count(self.inner.notifications_dropped())
    }

    /// Calls `callback` with every notification, on the JavaScript thread,
    /// without keeping the process alive. Returns the subscription id.
    #[napi]
    pub fn on_alert(&self, callback: Function<AlertEventObject, ()>) -> Result<f64> {
        subscribe_alerts(&self.inner, callback).map_err(from_napi)
    }

    /// Ends a subscription of [`NativeMonitor::on_alert`].
    #[napi]
    pub fn off_alert(&self, id: f64) -> bool {
        self.inner.unsubscribe(perf_core::SubscriptionId(id as u64))
    }

    /// Turns the emergency mode on by hand; returns whether anything changed.
    #[napi]
    pub fn emergency_activate(&self, reason: String) -> Result<bool> {
        self.inner.emergency().activate(&reason).js()
    }

    /// Turns the emergency mode off by hand; returns whether it was on.
    #[napi]
    pub fn emergency_deactivate(&self, reason: String) -> Result<bool> {
        self.inner.emergency().deactivate(&reason).js()
    }

    /// Whether the emergency mode is on (one atomic load).
    #[napi]
    pub fn emergency_is_active(&self) -> bool {
        self.inner.emergency().is_active()
    }

    /// A one-byte view that reads 1 while the emergency mode is on and 0
    /// while it is off, kept current by a listener; the facade's
    /// `isActive()` reads it without a native call.
    #[napi]
    pub fn emergency_flag(&self) -> Uint8Array {
        emergency_flag(self.inner.emergency())
    }

    /// The latest emergency transitions, oldest first.
    #[napi]
    pub fn emergency_history(&self) -> Vec<EmergencyTransitionObject> {
        let history = self.inner.emergency().history();
        history
            .iter()
            .map(EmergencyTransitionObject::from)
            .collect()
    }

    /// Replaces the emergency configuration with the `emergency` section
    /// of a rules document ([`EmergencyConfig::from_json`],
    /// [`Monitor::configure_emergency`]).
    #[napi]
    pub fn emergency_configure(&self, json: String) -> Result<()> {
        let config = EmergencyConfig::from_json(&json).js()?;
        self.inner.configure_emergency(config).js()
    }

    /// The emergency configuration in effect as the `emergency` section of
    /// a rules document (`{}` for the default).
    #[napi]
    pub fn emergency_config(&self) -> String {
        self.inner.emergency().config().to_json()
    }

    /// The emergency mode and each trigger, now.
    #[napi]
    pub fn emergency_status(&self) -> EmergencyStatusObject {
        EmergencyStatusObject::from(&self.inner.emergency().status())
    }

    /// Calls `callback` with every emergency transition, on the JavaScript
    /// thread, without keeping the process alive. Returns the subscription id.
    #[napi]
    pub fn on_emergency(&self, callback: Function<EmergencyTransitionObject, ()>) -> Result<f64> {
        subscribe_emergency(self.inner.emergency(), callback).map_err(from_napi)
    }

    /// Ends a subscription of [`NativeMonitor::on_emergency`].
    #[napi]
    pub fn off_emergency(&self, id: f64) -> bool {
        let id = perf_core::SubscriptionId(id as u64);
        self.inner.emergency().unsubscribe(id)
    }

    /// A baseline of every histogram series as recorded so far.
    #[napi]
    pub fn baseline(&self, version: String) -> NativeBaseline {
        NativeBaseline {
            inner: self.inner.baseline(version),
        }
    }

    /// The histogram `name{tags}` as an HdrHistogram V2 string (base64 of
    /// the compressed encoding), which other processes and HdrHistogram
    /// implementations merge exactly.
    #[napi]
    pub fn export_hdr(
        &self,
        name: String,
        tags: Option<HashMap<String, String>>,
        options: Option<HdrExportOptions>,
    ) -> Result<String> {
        let options = hdr_options(options);
        self.inner
            .export_hdr_with(&name, &tag_slice(&tags), &options)
            .js()
    }

    /// Merges an HdrHistogram V2 string into the histogram `name{tags}`
    /// (created if needed); all or nothing.
    #[napi]
    pub fn import_hdr(
        &self,
        name: String,
        tags: Option<HashMap<String, String>>,
        encoded: String,
        options: Option<HdrExportOptions>,
    ) -> Result<()> {
        let options = hdr_options(options);
        self.inner
            .import_hdr_with(&name, &tag_slice(&tags), &encoded, &options)
            .js()
    }

    /// Prometheus text exposition, OpenMetrics, JSON or CSV, computed now;
    /// `options` is [`perf_core::ExpositionOptions`] as JSON (text formats
    /// only).
    #[napi]
    pub fn export_sync(&self, format: String, options: Option<String>) -> Result<String> {
        let format: perf_core::ExportFormat = format.parse().js()?;
        let config = exposition_config(format, options.as_deref())?;
        Ok(ExportTask::new(self.inner.clone(), format, config).run())
    }

    /// The same as [`NativeMonitor::export_sync`], computed on the libuv
    /// thread pool; the promise resolves with the text.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn export_async(
        &self,
        format: String,
        options: Option<String>,
    ) -> Result<AsyncTask<ExportTask>> {
        let format: perf_core::ExportFormat = format.parse().js()?;
        let config = exposition_config(format, options.as_deref())?;
        Ok(AsyncTask::new(ExportTask::new(
            self.inner.clone(),
            format,
            config,
        )))
    }

    /// The Prometheus protobuf exposition (delimited `MetricFamily`
    /// messages, native histograms), computed now; `options` as
    /// [`NativeMonitor::export_sync`]'s.
    #[napi]
    pub fn export_protobuf_sync(&self, options: Option<String>) -> Result<Buffer> {
        let config = exposition_config(perf_core::ExportFormat::Protobuf, options.as_deref())?;
        Ok(ProtobufTask::new(self.inner.clone(), config).run().into())
    }

    /// The same as [`NativeMonitor::export_protobuf_sync`], computed on the
    /// libuv thread pool; the promise resolves with the bytes.
    #[napi(ts_return_type = "Promise<Buffer>")]
    pub fn export_protobuf_async(
        &self,
        options: Option<String>,
    ) -> Result<AsyncTask<ProtobufTask>> {
        let config = exposition_config(perf_core::ExportFormat::Protobuf, options.as_deref())?;
        Ok(AsyncTask::new(ProtobufTask::new(
            self.inner.clone(),
            config,
        )))
    }
}
