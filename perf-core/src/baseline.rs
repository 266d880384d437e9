//! Baselines: what a run of the service looked like, kept to compare later
//! runs against ([`crate::compare`]).
//!
//! A [`Baseline`] holds, per histogram series, the full histogram — every
//! bucket of perf-core's layout with its count, so nothing is lost — plus
//! count, sum, min, max and the squared deviations, and the summary
//! statistics derived from them; a version label, a creation time and free
//! metadata (commit, host, runs).
//!
//! # File format (version 1)
//!
//! One JSON document:
//!
//! ```json
//! {
//!   "format": "perf-core-baseline",
//!   "format_version": 1,
//!   "version": "v1.4.2",
//!   "created_unix_nanos": 1700000000000000000,
//!   "metadata": {"commit": "4f1c2e9", "perf_core": "0.1.0"},
//!   "series": [
//!     {"name": "http.server.duration", "tags": {"route": "/search"},
//!      "precision_bits": 7, "count": 3, "zero_count": 0,
//!      "sum": 360.5, "sum_compensation": 0.0, "m2": 49140.166666666664,
//!      "min": 12.5, "max": 300.0,
//!      "buckets": [[131400, 1], [131648, 1], [131990, 1]],
//!      "summary": {"mean": 120.16666666666667, "stddev": 127.9845910864099,
//!                  "p50": 48.125, "p90": 300.0, "p95": 300.0, "p99": 300.0, "p999": 300.0}}
//!   ]
//! }
//! ```
//!
//! * `buckets` are `[key, count]` pairs, keys strictly increasing: the key is
//!   perf-core's bucket index at `precision_bits`, covering
//!   `Precision::bounds(key)`; values below 2^-64 are in `zero_count`.
//! * `summary` is derived from the histogram and written for readers and
//!   other tools (absent for an empty series); on loading only its shape is
//!   checked — the histogram is the truth.
//! * Loading checks everything: the format name and version, every key, the
//!   counts adding up, finite numbers. A truncated or corrupt file is a
//!   [`PerfError::InvalidBaseline`] naming what is wrong.
//! * [`Baseline::save`] writes atomically: a temporary file in the same
//!   directory, flushed to disk, then renamed over the target — a crash
//!   leaves either the old file or the new one, never a mix.
//!
//! ```
//! use perf_core::{Baseline, Monitor};
//! let monitor = Monitor::builder().build()?;
//! for ms in [12.5, 48.0, 300.0] {
//!     monitor.record("http.server.duration", &[("route", "/search")], ms)?;
//! }
//! let baseline = monitor.baseline("v1.4.2").with_metadata("commit", "4f1c2e9");
//! let path = std::env::temp_dir().join(format!("perf-core-doc-{}.json", std::process::id()));
//! baseline.save(&path)?;
//! let loaded = Baseline::load(&path)?;
//! assert_eq!(loaded, baseline);
//! assert_eq!(loaded.series[0].stats().count, 3);
//! # std::fs::remove_file(&path).ok();
//! # Ok::<(), perf_core::PerfError>(())
//! ```

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::bucket::{Precision, MAX_EXCLUSIVE, MIN_BUCKETED};
use crate::clock::Timestamp;
use crate::error::{PerfError, Result};
use crate::series::SeriesKey;
use crate::snapshot::HistogramSnapshot;
use crate::stats::Stats;

/// The `format` of baseline files.
pub const BASELINE_FORMAT: &str = "perf-core-baseline";
/// The file format version this perf-core reads and writes.
pub const BASELINE_FORMAT_VERSION: u32 = 1;

/// A run's histograms, per series, to compare later runs against.
///
/// ```
/// use perf_core::{Baseline, HistogramSnapshot, Precision, Timestamp};
/// let a = HistogramSnapshot::from_values(Precision::DEFAULT, &[10.0, 20.0])?;
/// let b = HistogramSnapshot::from_values(Precision::DEFAULT, &[30.0])?;
/// let run1 = Baseline::new("v2", Timestamp::from_secs(1)).with_series("lat", &[], a)?;
/// let run2 = Baseline::new("v2", Timestamp::from_secs(2)).with_series("lat", &[], b)?;
/// let merged = Baseline::from_runs("v2", &[run1, run2])?;
/// assert_eq!(merged.series[0].snapshot.count(), 3);
/// assert_eq!(merged.metadata["runs"], "2");
/// # Ok::<(), perf_core::PerfError>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Baseline {
    /// The version it describes (a release, a commit): the user's label.
    pub version: String,
    /// When it was taken.
    pub created: Timestamp,
    /// Free metadata: commit, host, number of runs, …
    pub metadata: BTreeMap<String, String>,
    /// One entry per series, sorted by series.
    pub series: Vec<BaselineSeries>,
}

/// One series of a [`Baseline`].
#[derive(Clone, Debug, PartialEq)]
pub struct BaselineSeries {
    /// Name and tags.
    pub key: SeriesKey,
    /// The full histogram.
    pub snapshot: HistogramSnapshot,
}

impl BaselineSeries {
    /// The summary statistics of the histogram.
    pub fn stats(&self) -> Stats {
        Stats::from_snapshot(self.snapshot.clone(), 0)
    }
}

impl Baseline {
    /// An empty baseline of `version`, taken at `created`.
    pub fn new(version: impl Into<String>, created: Timestamp) -> Baseline {
        Baseline {
            version: version.into(),
            created,
            metadata: BTreeMap::new(),
            series: Vec::new(),
        }
    }

    /// Sets metadata `key` to `value`.
    pub fn with_metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Baseline {
        self.metadata.insert(key.into(), value.into());
        self
    }

    /// Adds (or merges into) the series `name{tags}`. Errors: an invalid
    /// name or tags.
    pub fn with_series(
        mut self,
        name: &str,
        tags: &[(&str, &str)],
        snapshot: HistogramSnapshot,
    ) -> Result<Baseline> {
        crate::series::validate_name(name)?;
        crate::series::validate_tags(tags)?;
        self.add(SeriesKey::detached(name, tags), snapshot);
        Ok(self)
    }

    /// Adds `snapshot` under `key`, merging it into an existing entry; keeps
    /// the series sorted.
    pub(crate) fn add(&mut self, key: SeriesKey, snapshot: HistogramSnapshot) {
        match self.series.binary_search_by(|s| s.key.cmp(&key)) {
            Ok(i) => self.series[i].snapshot.merge(&snapshot),
            Err(i) => self.series.insert(i, BaselineSeries { key, snapshot }),
        }
    }

    /// The series `name{tags}` (tags in any order).
    pub fn get(&self, name: &str, tags: &[(&str, &str)]) -> Option<&BaselineSeries> {
        let key = SeriesKey::detached(name, tags);
        self.find(&key)
    }

    /// The entry for `key` (compared by name and tags).
    pub fn find(&self, key: &SeriesKey) -> Option<&BaselineSeries> {
        let i = self.series.binary_search_by(|s| s.key.cmp(key)).ok()?;
        Some(&self.series[i])
    }

    /// Several runs merged into one baseline of `version`: per series, the
    /// histograms of every run added together; `created` is the latest
    /// run's, metadata `runs` is the number of runs (other metadata from the
    /// first run). Errors: no runs.
    pub fn from_runs(version: impl Into<String>, runs: &[Baseline]) -> Result<Baseline> {
        let Some(first) = runs.first() else {
            let reason = "at least one run is needed".to_owned();
            return Err(PerfError::InvalidComparison(reason));
        };
        let created = runs
            .iter()
            .map(|r| r.created)
            .max()
            .unwrap_or(first.created);
        let mut merged = Baseline::new(version, created);
        merged.metadata = first.metadata.clone();
        merged
            .metadata
            .insert("runs".into(), runs.len().to_string());
        for run in runs {
            for s in &run.series {
                merged.add(s.key.clone(), s.snapshot.clone());
            }
        }
        Ok(merged)
    }

    /// The baseline as a file document (pretty JSON).
    pub fn to_json(&self) -> String {
        let file = BaselineFile::of(self);
        serde_json::to_string_pretty(&file).expect("baseline documents serialize")
    }

    /// Reads a baseline document. Errors: [`PerfError::InvalidBaseline`]
    /// (path `-`) naming what is wrong.
    pub fn from_json(json: &str) -> Result<Baseline> {
        Self::parse(json, "-")
    }

    fn parse(json: &str, path: &str) -> Result<Baseline> {
        let invalid = |reason: String| PerfError::InvalidBaseline {
            path: path.to_owned(),
            reason,
        };
        check_format(json).map_err(&invalid)?;
        let file: BaselineFile = serde_json::from_str(json).map_err(|e| invalid(e.to_string()))?;
        file.baseline().map_err(invalid)
    }

    /// Writes the baseline to `path` atomically: a temporary file next to
    /// it, synced, then renamed over it. On any error the previous file at
    /// `path` is intact and the temporary file is removed. Errors:
    /// [`PerfError::Io`].
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        write_atomically(path.as_ref(), self.to_json().as_bytes())
    }

    /// Reads a baseline file. Errors: [`PerfError::InvalidBaseline`] for a
    /// file that cannot be read or is not a valid baseline (truncated,
    /// corrupt, another format version).
    pub fn load(path: impl AsRef<Path>) -> Result<Baseline> {
        let path = path.as_ref();
        let shown = path.display().to_string();
        let json = fs::read_to_string(path).map_err(|e| PerfError::InvalidBaseline {
            path: shown.clone(),
            reason: format!("cannot read: {e}"),
        })?;
        Self::parse(&json, &shown)
    }
}

/// `Err` naming the problem if `json` is not a baseline document of this
/// format version — checked before the strict parse, so that a file of a
/// newer version says so instead of naming its first unknown field.
fn check_format(json: &str) -> std::result::Result<(), String> {
    #[derive(Deserialize)]
    struct Header {
        format: Option<String>,
        format_version: Option<u32>,
    }
    let Ok(header) = serde_json::from_str::<Header>(json) else {
        return Ok(()); // not even JSON: the strict parse says where
    };
    match (header.format.as_deref(), header.format_version) {
        (Some(BASELINE_FORMAT), Some(BASELINE_FORMAT_VERSION)) => Ok(()),
        (Some(BASELINE_FORMAT), Some(v)) => Err(format!(
            "format_version {v} is not supported: this perf-core reads version {BASELINE_FORMAT_VERSION}"
        )),
        (Some(other), _) => Err(format!("format {other:?} is not {BASELINE_FORMAT:?}")),
        _ => Ok(()), // missing fields: the strict parse names them
    }
}

/// Writes `bytes` to `path` through a temporary file in the same directory
/// (so the rename stays on one file system), synced before the rename; the
/// directory is synced after it where the platform allows.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let io = |e: std::io::Error| PerfError::Io {
        path: path.display().to_string(),
        reason: e.to_string(),
    };
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let name = path.file_name().ok_or_else(|| {
        io(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a file name",
        ))
    })?;
    // Unique per process and per call, so concurrent saves of one path
    // (from several threads) never share a temporary file.
    static SAVES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let call = SAVES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let temp = dir.join(format!(
        ".{}.tmp-{}-{call}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let written = (|| {
        let mut file = File::create(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&temp, path)
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&temp);
        return Err(io(e));
    }
    if let Ok(dir) = File::open(dir) {
        let _ = dir.sync_all(); // not supported everywhere (e.g. Windows)
    }
    remove_stale_temporaries(dir, &name.to_string_lossy());
    Ok(())
}

/// Removes the temporary files that writers of `dir/name` killed mid-write
/// (`kill -9`) left: those whose writer's pid names no running process.
/// A temporary file of a live process — this one's, or another's still
/// saving — is left alone (a reused pid only keeps a stale file longer).
fn remove_stale_temporaries(dir: &Path, name: &str) {
    let prefix = format!(".{name}.tmp-");
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(rest) = file_name.to_str().and_then(|n| n.strip_prefix(&prefix)) else {
            continue;
        };
        let writer = rest
            .split_once('-')
            .and_then(|(pid, _)| pid.parse::<u32>().ok());
        if writer.is_some_and(|pid| !process_exists(pid)) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Whether a process `pid` runs (on other platforms: assumed so).
fn process_exists(pid: u32) -> bool {
    #[cfg(unix)]
    {
        let Ok(pid) = libc::pid_t::try_from(pid) else {
            return true;
        };
        // SAFETY: signal 0 only checks that the process exists.
        if pid <= 0 || unsafe { libc::kill(pid, 0) } == 0 {
            return true;
        }
        std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        true
    }
}

/// The file document, field for field.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct BaselineFile {
    format: String,
    format_version: u32,
    version: String,
    created_unix_nanos: u64,
    #[serde(default)]
    metadata: BTreeMap<String, String>,
    series: Vec<SeriesFile>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeriesFile {
    name: String,
    #[serde(default)]
    tags: BTreeMap<String, String>,
    precision_bits: u8,
    count: u64,
    zero_count: u64,
    sum: f64,
    #[serde(default)]
    sum_compensation: f64,
    m2: f64,
    /// `null` when empty.
    min: Option<f64>,
    max: Option<f64>,
    buckets: Vec<(u32, u64)>,
    /// Written for readers; on loading only its shape is checked (the
    /// statistics are derived from the histogram again).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    summary: Option<Summary>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Summary {
    mean: Option<f64>,
    stddev: Option<f64>,
    p50: Option<f64>,
    p90: Option<f64>,
    p95: Option<f64>,
    p99: Option<f64>,
    p999: Option<f64>,
}

impl BaselineFile {
    fn of(baseline: &Baseline) -> BaselineFile {
        BaselineFile {
            format: BASELINE_FORMAT.into(),
            format_version: BASELINE_FORMAT_VERSION,
            version: baseline.version.clone(),
            created_unix_nanos: baseline.created.as_nanos(),
            metadata: baseline.metadata.clone(),
            series: baseline.series.iter().map(SeriesFile::of).collect(),
        }
    }

    fn baseline(self) -> std::result::Result<Baseline, String> {
        if self.format != BASELINE_FORMAT {
            return Err(format!(
                "format {:?} is not {BASELINE_FORMAT:?}",
                self.format
            ));
        }
        if self.format_version != BASELINE_FORMAT_VERSION {
            return Err(format!(
                "format_version {} is not supported: this perf-core reads version {BASELINE_FORMAT_VERSION}",
                self.format_version
            ));
        }
        let mut baseline =
            Baseline::new(self.version, Timestamp::from_nanos(self.created_unix_nanos));
        baseline.metadata = self.metadata;
        for (i, s) in self.series.into_iter().enumerate() {
            let (key, snapshot) = s
                .parts()
                .map_err(|reason| format!("series[{i}]: {reason}"))?;
            if baseline.find(&key).is_some() {
                return Err(format!("series[{i}]: {key} appears twice"));
            }
            baseline.add(key, snapshot);
        }
        Ok(baseline)
    }
}

impl SeriesFile {
    fn of(series: &BaselineSeries) -> SeriesFile {
        let s = &series.snapshot;
        let stats = series.stats();
        let optional = |v: f64| v.is_finite().then_some(v);
        SeriesFile {
            name: series.key.name().to_owned(),
            tags: series
                .key
                .tags()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            precision_bits: s.precision.bits(),
            count: s.count,
            zero_count: s.zero_count,
            sum: s.sum,
            sum_compensation: s.sum_compensation,
            m2: s.m2,
            min: optional(s.min),
            max: optional(s.max),
            buckets: s.buckets.clone(),
            summary: (s.count > 0).then_some(Summary {
                mean: optional(stats.mean),
                stddev: optional(stats.stddev),
                p50: optional(stats.p50),
                p90: optional(stats.p90),
                p95: optional(stats.p95),
                p99: optional(stats.p99),
                p999: optional(stats.p999),
            }),
        }
    }

    /// The key and histogram, checked.
    fn parts(self) -> std::result::Result<(SeriesKey, HistogramSnapshot), String> {
        let tags: Vec<(&str, &str)> = self.tags.iter().map(|(k, v)| (&**k, &**v)).collect();
        crate::series::validate_name(&self.name).map_err(|e| e.to_string())?;
        crate::series::validate_stored_tags(&tags).map_err(|e| e.to_string())?;
        let precision = Precision::new(self.precision_bits).map_err(|e| e.to_string())?;
        check_buckets(precision, &self.buckets, self.zero_count, self.count)?;
        let (min, max) = self.extremes()?;
        for (field, v) in [
            ("sum", self.sum),
            ("sum_compensation", self.sum_compensation),
            ("m2", self.m2),
        ] {
            if !v.is_finite() || (field != "sum_compensation" && v < 0.0) {
                return Err(format!("{field} {v} must be finite and not negative"));
            }
        }
        let snapshot = HistogramSnapshot {
            precision,
            zero_count: self.zero_count,
            buckets: self.buckets,
            count: self.count,
            sum: self.sum,
            sum_compensation: self.sum_compensation,
            m2: self.m2,
            min,
            max,
        };
        Ok((SeriesKey::detached(&self.name, &tags), snapshot))
    }

    /// `(min, max)`: both present, finite and ordered when the series has
    /// values; both absent (NaN) when it has none.
    fn extremes(&self) -> std::result::Result<(f64, f64), String> {
        match (self.min, self.max, self.count) {
            (None, None, 0) => Ok((f64::NAN, f64::NAN)),
            (Some(min), Some(max), n)
                if n > 0 && min.is_finite() && max.is_finite() && 0.0 <= min && min <= max =>
            {
                Ok((min, max))
            }
            _ => Err(
                "min and max must be finite with 0 <= min <= max, or null for an empty series"
                    .into(),
            ),
        }
    }
}

/// Keys strictly increasing and valid at `precision`, counts positive, and
/// `zero_count` plus the bucket counts equal to `count`.
fn check_buckets(
    precision: Precision,
    buckets: &[(u32, u64)],
    zero_count: u64,
    count: u64,
) -> std::result::Result<(), String> {
    let mut total = zero_count;
    for (j, &(key, n)) in buckets.iter().enumerate() {
        let (lo, hi) = precision.bounds(key);
        if !(lo >= MIN_BUCKETED && hi <= MAX_EXCLUSIVE) {
            return Err(format!(
                "buckets[{j}]: key {key} is outside the bucketed range"
            ));
        }
        if j > 0 && key <= buckets[j - 1].0 {
            return Err(format!("buckets[{j}]: keys must be strictly increasing"));
        }
        if n == 0 {
            return Err(format!("buckets[{j}]: a bucket's count must be positive"));
        }
        // Counts saturate (as the histograms that wrote them do).
        total = total.saturating_add(n);
    }
    if total != count {
        return Err(format!(
            "zero_count and the bucket counts add up to {total}, not count {count}"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn baseline() -> Baseline {
        let values: Vec<f64> = (1..=1000).map(|i| f64::from(i) * 0.37).collect();
        let snapshot = HistogramSnapshot::from_values(Precision::DEFAULT, &values).unwrap();
        Baseline::new("v1", Timestamp::from_secs(7))
            .with_metadata("host", "ci")
            .with_series("lat", &[("route", "/a")], snapshot)
            .unwrap()
    }

    #[test]
    fn documents_round_trip_exactly() {
        let b = baseline();
        let back = Baseline::from_json(&b.to_json()).unwrap();
        assert_eq!(back, b);
        assert_eq!(back.series[0].stats().p50, b.series[0].stats().p50);
    }

    #[test]
    fn inconsistent_documents_are_rejected() {
        let json = baseline().to_json();
        let corrupt = [
            json.replacen("\"count\": 1000", "\"count\": 999", 1),
            json.replacen("perf-core-baseline", "other", 1),
            json.replacen("\"format_version\": 1", "\"format_version\": 2", 1),
            json.replacen("\"precision_bits\": 7", "\"precision_bits\": 1", 1),
            json[..json.len() / 2].to_owned(),
        ];
        for doc in corrupt {
            assert!(
                matches!(
                    Baseline::from_json(&doc),
                    Err(PerfError::InvalidBaseline { .. })
                ),
                "accepted: {doc}"
            );
        }
    }

    #[test]
    fn a_newer_format_says_so_before_its_new_fields() {
        let json = baseline().to_json().replacen(
            "\"format_version\": 1",
            "\"format_version\": 2, \"compression\": \"zstd\"",
            1,
        );
        match Baseline::from_json(&json) {
            Err(PerfError::InvalidBaseline { reason, .. }) => {
                assert!(
                    reason.starts_with("format_version 2 is not supported"),
                    "{reason}"
                )
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bucket_checks_name_the_problem() {
        let p = Precision::DEFAULT;
        let key = p.key_of_bits(1.0f64.to_bits());
        assert!(check_buckets(p, &[(key, 2)], 1, 3).is_ok());
        let err = check_buckets(p, &[(key, 2), (key, 1)], 0, 3).unwrap_err();
        assert!(err.contains("strictly increasing"), "{err}");
        let err = check_buckets(p, &[(0, 1)], 0, 1).unwrap_err();
        assert!(err.contains("outside"), "{err}");
    }

    #[test]
    fn a_baseline_with_an_overflow_series_reads_back() {
        let monitor = crate::Monitor::builder()
            .max_series_per_metric(1)
            .build()
            .unwrap();
        for route in ["/a", "/b", "/c"] {
            monitor.record("latency", &[("route", route)], 5.0).unwrap();
        }
        let baseline = monitor.baseline("v1");
        let json = baseline.to_json();
        assert!(json.contains(crate::series::OVERFLOW_TAG), "{json}");
        let read = Baseline::from_json(&json).unwrap();
        assert_eq!(read, baseline);
        // Only the overflow series' own tag: a user's is still refused.
        let forged = json.replace("\"true\"", "\"yes\"");
        assert!(Baseline::from_json(&forged).is_err());
    }

    #[test]
    fn saving_removes_what_killed_writers_left_and_nothing_else() {
        let dir = std::env::temp_dir().join(format!("perf-core-stale-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        // A writer that has exited (as after kill -9 mid-write).
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let stale = dir.join(format!(".b.json.tmp-{dead}-0"));
        let live = dir.join(format!(".b.json.tmp-{}-999", std::process::id()));
        let other = dir.join(format!(".other.json.tmp-{dead}-0"));
        for file in [&stale, &live, &other] {
            fs::write(file, "partial").unwrap();
        }
        Baseline::new("v1", Timestamp::ZERO)
            .save(dir.join("b.json"))
            .unwrap();
        assert!(!stale.exists(), "a dead writer's temporary file stays");
        assert!(live.exists() && other.exists());
        fs::remove_dir_all(&dir).unwrap();
    }
}
