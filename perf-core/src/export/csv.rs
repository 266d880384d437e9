//! CSV export: one row per (series, statistic).
//!
//! ```text
//! timestamp,metric,tags,stat,value
//! 2023-11-14T22:13:20.000Z,db.query,table=users,count,2
//! 2023-11-14T22:13:20.000Z,db.query,table=users,sum,12.5
//! …
//! 2023-11-14T22:13:20.000Z,jobs,,value,3
//! ```
//!
//! * `timestamp`: the export time (the same on every row), RFC 3339 in UTC
//!   with milliseconds (truncated).
//! * `metric`: the series name.
//! * `tags`: `k=v;k2=v2`, sorted by key; empty without tags. Keys are
//!   `[A-Za-z0-9_]`; in values `\` is written `\\` and `;` is written `\;`,
//!   so a reader splits on unescaped `;`, then at the first `=`.
//! * `stat`, `value`: a histogram's count, sum, min, max, mean, stddev,
//!   p50, p75, p90, p95, p99, p999 and rejected (in that order); a counter's
//!   or gauge's `value`. Counts are integers; other numbers the shortest
//!   decimal that reads back as the same `f64`, without exponent; no value
//!   (NaN, e.g. an empty histogram's percentiles) is an empty field.
//! * Rows are sorted by metric, then tags (the statistics in the order
//!   above). Lines end with `\n`, the last one too. A field containing `,`,
//!   `"`, CR or LF is quoted per RFC 4180, `"` doubled.

use std::fmt::Write;

use super::{exported_series, StatValue};
use crate::clock::Timestamp;
use crate::registry::Registry;
use crate::series::SeriesKey;

/// The header line's columns.
const HEADER: &str = "timestamp,metric,tags,stat,value";

/// The CSV export of every series of `registry` at `now`.
pub(crate) fn export_csv(registry: &Registry, now: Timestamp) -> String {
    let timestamp = rfc3339_millis(now);
    let mut out = format!("{HEADER}\n");
    for series in exported_series(registry) {
        let metric = field(series.key.name());
        let tags = tags_field(&series.key);
        let tags = field(&tags);
        for (stat, value) in &series.stats {
            let value = value_field(*value);
            writeln!(out, "{timestamp},{metric},{tags},{stat},{value}").expect("a String");
        }
    }
    out
}

/// `field` as a CSV field: quoted, with `"` doubled, if it contains a comma,
/// a quote, CR or LF (RFC 4180); as is otherwise.
fn field(field: &str) -> std::borrow::Cow<'_, str> {
    if field.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", field.replace('"', "\"\"")).into()
    } else {
        field.into()
    }
}

/// `k=v;k2=v2`, sorted by key, with `\` and `;` in values escaped by `\`.
fn tags_field(key: &SeriesKey) -> String {
    let tags: Vec<String> = key
        .tags()
        .map(|(k, v)| format!("{k}={}", v.replace('\\', "\\\\").replace(';', "\\;")))
        .collect();
    tags.join(";")
}

/// Integers as integers, finite numbers in shortest round-trip decimal,
/// NaN and ±∞ as an empty field.
fn value_field(value: StatValue) -> String {
    match value {
        StatValue::Integer(n) => n.to_string(),
        StatValue::Number(v) if v.is_finite() => v.to_string(),
        StatValue::Number(_) => String::new(),
    }
}

/// `t` as RFC 3339 in UTC with milliseconds: `2023-11-14T22:13:20.123Z`.
fn rfc3339_millis(t: Timestamp) -> String {
    let nanos = t.as_nanos();
    let secs = nanos / 1_000_000_000;
    let millis = nanos / 1_000_000 % 1000;
    let (year, month, day) = civil_date(secs / 86_400);
    let of_day = secs % 86_400;
    let (h, m, s) = (of_day / 3600, of_day / 60 % 60, of_day % 60);
    format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{millis:03}Z")
}

/// The proleptic Gregorian `(year, month, day)` of `days` since 1970-01-01
/// (Howard Hinnant's `civil_from_days`, for days on or after the epoch).
fn civil_date(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468; // days since 0000-03-01
    let era = z / 146_097;
    let doe = z % 146_097; // day of the 400-year era
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // from March 1st
    let mp = (5 * doy + 2) / 153; // month, March = 0
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = era * 400 + yoe + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::testing::{count, record, registry, set};

    fn rows(r: &Registry) -> Vec<String> {
        let csv = export_csv(r, Timestamp::from_nanos(1_700_000_000_123_456_789));
        assert!(csv.ends_with('\n'));
        csv.lines().map(str::to_owned).collect()
    }

    #[test]
    fn timestamps_are_rfc3339_utc_with_milliseconds() {
        let cases = [
            (0, "1970-01-01T00:00:00.000Z"),
            (951_782_400_999_999_999, "2000-02-29T00:00:00.999Z"),
            (1_700_000_000_123_456_789, "2023-11-14T22:13:20.123Z"),
            (4_107_542_399_000_000_000, "2100-02-28T23:59:59.000Z"),
            (4_107_542_400_000_000_000, "2100-03-01T00:00:00.000Z"),
            (u64::MAX, "2554-07-21T23:34:33.709Z"),
        ];
        for (nanos, text) in cases {
            assert_eq!(rfc3339_millis(Timestamp::from_nanos(nanos)), text);
        }
    }

    #[test]
    fn an_empty_registry_is_the_header_alone() {
        assert_eq!(rows(&registry()), [HEADER]);
    }

    #[test]
    fn fields_are_quoted_only_when_needed() {
        assert_eq!(field("a.b"), "a.b");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("a\nb"), "\"a\nb\"");
    }

    #[test]
    fn tags_are_sorted_and_escaped() {
        let r = registry();
        count(&r, "c", &[("z", "a;b=c\\d"), ("a", "x,\"y\"")], 1);
        assert_eq!(
            rows(&r)[1],
            r#"2023-11-14T22:13:20.123Z,c,"a=x,""y"";z=a\;b=c\\d",value,1"#
        );
    }

    #[test]
    fn rows_are_sorted_with_stats_in_order_and_nan_empty() {
        let r = registry();
        set(&r, "g", &[], 0.25);
        record(&r, "h", &[], &[]);
        count(&r, "c", &[("k", "v")], 3);
        let rows = rows(&r);
        assert_eq!(rows.len(), 1 + 1 + 13 + 1);
        assert_eq!(rows[1], "2023-11-14T22:13:20.123Z,c,k=v,value,3");
        assert_eq!(rows[2], "2023-11-14T22:13:20.123Z,g,,value,0.25");
        let stats: Vec<&str> = rows[3..]
            .iter()
            .map(|r| r.split(',').nth(3).unwrap())
            .collect();
        let expected = "count sum min max mean stddev p50 p75 p90 p95 p99 p999 rejected";
        assert_eq!(stats, expected.split(' ').collect::<Vec<_>>());
        let values: Vec<&str> = rows[3..]
            .iter()
            .map(|r| r.rsplit(',').next().unwrap())
            .collect();
        assert_eq!(values[..3], ["0", "0", ""]);
        assert!(values[2..12].iter().all(|v| v.is_empty()));
        assert_eq!(values[12], "0");
    }
}
