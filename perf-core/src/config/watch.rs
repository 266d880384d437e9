//! What a rule and a trigger condition share — a [`Watch`]: the target read
//! per series, the comparison, the window, the minimum of data and the tag
//! matchers — as a document writes it (`metric`, `stat`, `denominator`,
//! `op`, `window`, `min_samples`, `tags`, `exclude_tags`), with the one
//! conversion each way that rules and triggers both use.
//!
//! The fields stay in `RuleSpec` and `TriggerSpec` themselves: serde's
//! `flatten` does not combine with `deny_unknown_fields` and loses the paths
//! of errors. Each spec moves them into [`WatchFields`] to read a watch and
//! out of it to write one.

use std::time::Duration;

use super::text::{Keyword, Pairs, Text};
use super::{changed, or_default, unless_default, FieldResult};
use crate::rules::{Op, Statistic, Target, Watch};

/// A [`Watch`]'s fields as a document writes them, settings left out
/// (`None`, empty) meaning the defaults of [`Watch::new`].
///
/// Invariant: `WatchFields::of(&watch).watch() == Ok(watch)`.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct WatchFields {
    /// `metric`: the histogram, counter (a ratio's numerator) or gauge.
    pub(super) metric: String,
    /// `stat`: how `metric` is read.
    pub(super) stat: StatSpec,
    /// `denominator`: with `stat` `ratio` only.
    pub(super) denominator: Option<String>,
    /// `op`.
    pub(super) op: Option<Text<Op>>,
    /// `window`.
    pub(super) window: Option<Text<Duration>>,
    /// `min_samples`.
    pub(super) min_samples: Option<u64>,
    /// `tags`.
    pub(super) tags: Pairs<String, String>,
    /// `exclude_tags`.
    pub(super) exclude_tags: Pairs<String, String>,
}

impl WatchFields {
    /// The watch these fields write, unchecked ([`Watch`]'s own checks run
    /// with the rule's or trigger's). Errors name the field: `denominator`
    /// missing with, or given without, `ratio`.
    pub(super) fn watch(self) -> FieldResult<Watch> {
        let target = self
            .stat
            .target(&self.metric, self.denominator.as_deref())?;
        let defaults = Watch::new(target);
        Ok(Watch {
            op: or_default(self.op, defaults.op),
            window: or_default(self.window, defaults.window),
            min_samples: self.min_samples.unwrap_or(defaults.min_samples),
            tags: self.tags.0,
            exclude_tags: self.exclude_tags.0,
            ..defaults
        })
    }

    /// The fields of `watch`, settings at their defaults left out.
    pub(super) fn of(watch: &Watch) -> WatchFields {
        let defaults = Watch::new(watch.target.clone());
        let (metric, stat, denominator) = StatSpec::of(&watch.target);
        WatchFields {
            metric,
            stat,
            denominator,
            op: changed(watch.op, defaults.op),
            window: changed(watch.window, defaults.window),
            min_samples: unless_default(watch.min_samples, defaults.min_samples),
            tags: Pairs(watch.tags.clone()),
            exclude_tags: Pairs(watch.exclude_tags.clone()),
        }
    }
}

/// What a `stat` names (a rule's, a trigger condition's): a histogram
/// statistic, or how a counter or gauge is read.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum StatSpec {
    /// A histogram statistic.
    Stat(Statistic),
    /// `rate`: a counter's increase per second.
    Rate,
    /// `ratio`: a counter divided by the `denominator` counter.
    Ratio,
    /// `value`: a gauge.
    Value,
    /// `change(p95)`: a step in a histogram statistic per interval.
    Change(Statistic),
}

impl StatSpec {
    /// The target reading `metric` this way: the inverse of
    /// [`StatSpec::of`]. A `denominator` is required with, and only allowed
    /// with, `ratio`.
    pub(super) fn target(self, metric: &str, denominator: Option<&str>) -> FieldResult<Target> {
        let metric = metric.to_owned();
        match (self, denominator) {
            (StatSpec::Ratio, Some(denominator)) => Ok(Target::ratio(metric, denominator)),
            (StatSpec::Ratio, None) => Err(("denominator", r#"is required with "ratio""#.into())),
            (_, Some(_)) => Err(("denominator", r#"is only allowed with "ratio""#.into())),
            (StatSpec::Stat(stat), None) => Ok(Target::stat(metric, stat)),
            (StatSpec::Rate, None) => Ok(Target::rate(metric)),
            (StatSpec::Value, None) => Ok(Target::gauge(metric)),
            (StatSpec::Change(stat), None) => Ok(Target::change_point(metric, stat)),
        }
    }

    /// `(metric, stat, denominator)` of `target`.
    pub(super) fn of(target: &Target) -> (String, StatSpec, Option<String>) {
        match target {
            Target::Histogram { metric, stat } => (metric.clone(), StatSpec::Stat(*stat), None),
            Target::CounterRate { metric } => (metric.clone(), StatSpec::Rate, None),
            Target::CounterRatio {
                numerator,
                denominator,
            } => (
                numerator.clone(),
                StatSpec::Ratio,
                Some(denominator.clone()),
            ),
            Target::Gauge { metric } => (metric.clone(), StatSpec::Value, None),
            Target::ChangePoint { metric, stat } => (metric.clone(), StatSpec::Change(*stat), None),
        }
    }
}

impl Keyword for StatSpec {
    const EXPECTING: &'static str =
        "a statistic such as \"p95\", change(p95), or rate, ratio or value";
    fn parse(text: &str) -> std::result::Result<Self, String> {
        let change = text
            .strip_prefix("change(")
            .and_then(|t| t.strip_suffix(')'));
        match (text, change) {
            (_, Some(stat)) => stat.parse().map(StatSpec::Change),
            ("rate", _) => Ok(StatSpec::Rate),
            ("ratio", _) => Ok(StatSpec::Ratio),
            ("value", _) => Ok(StatSpec::Value),
            _ => text.parse().map(StatSpec::Stat).map_err(|reason| {
                format!(
                    "{reason}; or change(<stat>), rate, ratio (of counters) or value (of a gauge)"
                )
            }),
        }
    }
    fn text(&self) -> String {
        match self {
            StatSpec::Stat(stat) => stat.to_string(),
            StatSpec::Rate => "rate".into(),
            StatSpec::Ratio => "ratio".into(),
            StatSpec::Value => "value".into(),
            StatSpec::Change(stat) => format!("change({stat})"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readings_parse_and_print_back() {
        let parse = |s: &str| StatSpec::parse(s);
        assert_eq!(
            parse("p999"),
            Ok(StatSpec::Stat(Statistic::Percentile(99.9)))
        );
        assert_eq!(parse("ratio"), Ok(StatSpec::Ratio));
        assert_eq!(StatSpec::Stat(Statistic::Percentile(99.9)).text(), "p99.9");
        let err = parse("median").unwrap_err();
        assert!(
            err.contains("unknown statistic") && err.contains("rate, ratio"),
            "{err}"
        );
    }

    #[test]
    fn fields_read_back_the_watch_they_write() {
        let watches = [
            Watch::new(Target::percentile("lat", 99.9)),
            Watch::new(Target::ratio("errors", "requests"))
                .op(Op::Ge)
                .window(Duration::from_secs(300))
                .min_samples(20)
                .tag("route", "/pay")
                .exclude_tag("status", "404"),
            Watch::new(Target::gauge("free")).op(Op::Lt),
        ];
        for watch in watches {
            assert_eq!(WatchFields::of(&watch).watch(), Ok(watch));
        }
        let defaults = WatchFields::of(&Watch::new(Target::rate("hits")));
        assert_eq!(
            (defaults.op, defaults.window, defaults.min_samples),
            (None, None, None)
        );
    }

    #[test]
    fn a_denominator_goes_with_ratio_only() {
        let fields = WatchFields::of(&Watch::new(Target::rate("hits")));
        let with = WatchFields {
            denominator: Some("requests".into()),
            ..fields.clone()
        };
        assert_eq!(with.watch().unwrap_err().0, "denominator");
        let ratio = WatchFields {
            stat: StatSpec::Ratio,
            ..fields
        };
        assert_eq!(ratio.watch().unwrap_err().0, "denominator");
    }
}
