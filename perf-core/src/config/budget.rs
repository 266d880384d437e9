//! A budget as a rules document writes it: a `preset`, `limits` of one
//! metric, or `items`, with optional `alerts`; and [`Budget::from_json`] /
//! [`Budget::to_json`], one budget on its own.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::rule::RepeatSpec;
use super::text::{Keyword, Pairs, Text};
use super::{
    changed, checked, invalid_rule, item_name, or_default, read_object, split_index, FieldResult,
};
use crate::budget::{Budget, BudgetAlerts, BudgetItem};
use crate::error::Result;
use crate::rules::{Severity, Statistic};

/// A budget as the document writes it: one of `preset`, `limits`, `items`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct BudgetSpec {
    pub(super) name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    preset: Option<Text<Preset>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    metric: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tags: Option<Pairs<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    window: Option<Text<Duration>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    limits: Option<Pairs<Text<Statistic>, f64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    items: Option<Vec<ItemSpec>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    alerts: Option<AlertsSpec>,
}

impl BudgetSpec {
    /// The budget, unchecked; `default_repeat` applies to its alerts if
    /// they have no `repeat`.
    pub(super) fn to_budget(&self, default_repeat: Option<&RepeatSpec>) -> FieldResult<Budget> {
        let budget = match self.preset {
            Some(preset) => self.only_form("preset").map(|()| preset.0.budget())?,
            None => self
                .item_specs()?
                .iter()
                .map(ItemSpec::item)
                .fold(Budget::new(self.name.clone()), Budget::item),
        };
        Ok(Budget {
            name: self.name.clone(),
            alerts: self.alerts.as_ref().map(|a| a.alerts(default_repeat)),
            ..budget
        })
    }

    /// The items of a `limits` or `items` budget.
    fn item_specs(&self) -> FieldResult<Vec<ItemSpec>> {
        let (Some(limits), None) = (&self.limits, &self.items) else {
            let items = self.items.as_ref().ok_or_else(|| {
                let reason = "is required (or preset, or limits)";
                ("items", reason.to_owned())
            })?;
            return self.only_form("items").map(|()| items.clone());
        };
        let metric = self.metric.as_ref().ok_or_else(|| {
            let reason = "is required with limits";
            ("metric", reason.to_owned())
        })?;
        let item = |&(stat, good): &(Text<Statistic>, f64)| ItemSpec {
            metric: metric.clone(),
            stat,
            good,
            poor: None,
            window: self.window,
            tags: self.tags.clone().unwrap_or_default(),
        };
        Ok(limits.0.iter().map(item).collect())
    }

    /// `Err` if a budget of the form `form` has another form's fields too.
    fn only_form(&self, form: &str) -> FieldResult<()> {
        let others = [
            ("preset", self.preset.is_some()),
            ("limits", self.limits.is_some()),
            ("items", self.items.is_some()),
            ("metric", self.metric.is_some()),
            ("tags", self.tags.is_some()),
            ("window", self.window.is_some()),
        ];
        match others.into_iter().find(|&(f, given)| given && f != form) {
            Some((field, _)) => Err((field, format!("is not allowed with {form}"))),
            None => Ok(()),
        }
    }

    /// `field` of the built budget as this document spells it: the items of
    /// `limits` and of a preset are not written out.
    pub(super) fn doc_field(&self, field: &str) -> String {
        let item = split_index(field, "items");
        match (item, &self.limits) {
            _ if self.preset.is_some() && field.starts_with("items") => "preset".into(),
            (None, Some(_)) if field == "items" => "limits".into(),
            (Some((_, rest @ (".metric" | ".tags" | ".window"))), Some(_)) => rest[1..].into(),
            (Some((j, _)), Some(limits)) => match limits.0.get(j) {
                Some((stat, _)) => format!("limits.{stat}"),
                None => "limits".into(),
            },
            _ => field.to_owned(),
        }
    }

    /// The document form of `budget`: its items written out.
    pub(super) fn of(budget: &Budget) -> BudgetSpec {
        BudgetSpec {
            name: budget.name.clone(),
            preset: None,
            metric: None,
            tags: None,
            window: None,
            limits: None,
            items: Some(budget.items.iter().map(ItemSpec::of).collect()),
            alerts: budget.alerts.as_ref().map(AlertsSpec::of),
        }
    }
}

/// One entry of a budget's `items`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ItemSpec {
    metric: String,
    stat: Text<Statistic>,
    good: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    poor: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    window: Option<Text<Duration>>,
    #[serde(default, skip_serializing_if = "Pairs::is_empty")]
    tags: Pairs<String, String>,
}

impl ItemSpec {
    pub(super) fn item(&self) -> BudgetItem {
        BudgetItem {
            poor: self.poor,
            window: self.window.map(|w| w.0),
            tags: self.tags.0.clone(),
            ..BudgetItem::new(self.metric.clone(), self.stat.0, self.good)
        }
    }

    pub(super) fn of(item: &BudgetItem) -> ItemSpec {
        ItemSpec {
            metric: item.metric.clone(),
            stat: Text(item.stat),
            good: item.good,
            poor: item.poor,
            window: item.window.map(Text),
            tags: Pairs(item.tags.clone()),
        }
    }
}

/// A budget's `alerts`: every field overrides [`BudgetAlerts::default`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AlertsSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    needs_improvement: Option<Text<Severity>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    poor: Option<Text<Severity>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    window: Option<Text<Duration>>,
    #[serde(rename = "for", default, skip_serializing_if = "Option::is_none")]
    for_duration: Option<Text<Duration>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    clear_for: Option<Text<Duration>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    min_samples: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    repeat: Option<RepeatSpec>,
}

impl AlertsSpec {
    pub(super) fn alerts(&self, default_repeat: Option<&RepeatSpec>) -> BudgetAlerts {
        let defaults = BudgetAlerts::default();
        BudgetAlerts {
            needs_improvement: or_default(self.needs_improvement, defaults.needs_improvement),
            poor: or_default(self.poor, defaults.poor),
            window: or_default(self.window, defaults.window),
            for_duration: or_default(self.for_duration, defaults.for_duration),
            clear_for: or_default(self.clear_for, defaults.clear_for),
            min_samples: self.min_samples.unwrap_or(defaults.min_samples),
            repeat: self
                .repeat
                .as_ref()
                .or(default_repeat)
                .map(RepeatSpec::intervals),
        }
    }

    pub(super) fn of(alerts: &BudgetAlerts) -> AlertsSpec {
        let defaults = BudgetAlerts::default();
        AlertsSpec {
            needs_improvement: changed(alerts.needs_improvement, defaults.needs_improvement),
            poor: changed(alerts.poor, defaults.poor),
            window: changed(alerts.window, defaults.window),
            for_duration: changed(alerts.for_duration, defaults.for_duration),
            clear_for: changed(alerts.clear_for, defaults.clear_for),
            min_samples: (alerts.min_samples != defaults.min_samples).then_some(alerts.min_samples),
            repeat: alerts.repeat.as_ref().map(RepeatSpec::of_intervals),
        }
    }
}

/// A budget preset.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Preset {
    /// `web_vitals`: [`Budget::web_vitals`].
    WebVitals,
}

impl Preset {
    pub(super) fn budget(self) -> Budget {
        match self {
            Preset::WebVitals => Budget::web_vitals(),
        }
    }
}

impl Keyword for Preset {
    const EXPECTING: &'static str = "a preset: web_vitals";
    fn parse(text: &str) -> std::result::Result<Self, String> {
        match text {
            "web_vitals" => Ok(Preset::WebVitals),
            _ => Err(format!("unknown preset {text:?}: use web_vitals")),
        }
    }
    fn text(&self) -> String {
        match self {
            Preset::WebVitals => "web_vitals".into(),
        }
    }
}

/// One budget on its own, as an entry of a rules document's `budgets`.
impl Budget {
    /// Reads one budget written as an entry of a rules document's
    /// `budgets` (see [`crate::RulesConfig`]), checked
    /// ([`Budget::validate`]). Errors:
    /// [`PerfError::InvalidRule`](crate::PerfError::InvalidRule) naming the
    /// field as the entry spells it (`items[0].poor`, `alerts.poor`).
    ///
    /// ```
    /// use perf_core::{Budget, PerfError};
    /// let web = Budget::from_json(r#"{"name": "web", "preset": "web_vitals"}"#)?;
    /// assert_eq!(web.items, Budget::web_vitals().items);
    /// let json = r#"{"name": "api", "items": [{"metric": "lat", "stat": "p95", "good": 300, "poor": 100}]}"#;
    /// match Budget::from_json(json) {
    ///     Err(PerfError::InvalidRule { rule, field, .. }) => {
    ///         assert_eq!((rule.as_str(), field.as_str()), ("api", "items[0].poor"))
    ///     }
    ///     other => panic!("unexpected {other:?}"),
    /// }
    /// # Ok::<(), PerfError>(())
    /// ```
    pub fn from_json(json: &str) -> Result<Budget> {
        let spec: BudgetSpec = read_object(json, "a budget")
            .map_err(|(field, reason)| invalid_rule(&item_name(json))(field, reason))?;
        let built = spec.to_budget(None);
        checked(
            built,
            Budget::validate,
            |f| spec.doc_field(f),
            invalid_rule(&spec.name),
        )
    }

    /// The budget as an entry of a rules document's `budgets` (its items
    /// written out), which [`Budget::from_json`] reads back as it was.
    ///
    /// ```
    /// use perf_core::Budget;
    /// let budget = Budget::api_latency("api", "lat", 100.0, 300.0, 800.0);
    /// assert_eq!(Budget::from_json(&budget.to_json())?, budget);
    /// # Ok::<(), perf_core::PerfError>(())
    /// ```
    pub fn to_json(&self) -> String {
        serde_json::to_string(&BudgetSpec::of(self)).expect("a budget has string keys only")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_fields_map_to_the_document() {
        let limits: BudgetSpec = serde_json::from_str(
            r#"{"name": "b", "metric": "m", "window": "1m", "limits": {"p50": 1, "p999": 2}}"#,
        )
        .unwrap();
        assert_eq!(limits.doc_field("items[1].good"), "limits.p99.9");
        assert_eq!(limits.doc_field("items[0].window"), "window");
        assert_eq!(limits.doc_field("items"), "limits");
        assert_eq!(limits.doc_field("alerts.poor"), "alerts.poor");
        let preset: BudgetSpec =
            serde_json::from_str(r#"{"name": "b", "preset": "web_vitals"}"#).unwrap();
        assert_eq!(preset.doc_field("items[3].poor"), "preset");
        assert_eq!(preset.doc_field("name"), "name");
    }
}
