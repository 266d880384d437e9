//! What emergency mode reports: its transitions, their sources and the
//! triggering values, and its status.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::numbers::compact;
use crate::rules::Op;
use crate::series::SeriesKey;

/// What a transition did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmergencyChange {
    /// The mode turned on.
    Activated,
    /// A manual activation took over an automatic one: the mode stays on,
    /// now until a manual deactivation.
    Held,
    /// The mode turned off.
    Deactivated,
}

impl EmergencyChange {
    /// The lowercase name (`"activated"`).
    pub fn as_str(self) -> &'static str {
        match self {
            EmergencyChange::Activated => "activated",
            EmergencyChange::Held => "held",
            EmergencyChange::Deactivated => "deactivated",
        }
    }
}

impl fmt::Display for EmergencyChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who made a transition.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmergencySource {
    /// [`Emergency::activate`](super::Emergency::activate) or [`Emergency::deactivate`](super::Emergency::deactivate).
    Manual,
    /// The triggers: those holding (activation) or all of them, clear
    /// (deactivation).
    Triggers(Vec<Arc<str>>),
}

impl fmt::Display for EmergencySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EmergencySource::Manual => f.write_str("manual"),
            EmergencySource::Triggers(names) => {
                let names: Vec<&str> = names.iter().map(|n| &**n).collect();
                write!(f, "triggers [{}]", names.join(", "))
            }
        }
    }
}

/// A trigger's reading: the most extreme series it read.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TriggerValue {
    /// The trigger's name.
    pub trigger: Arc<str>,
    /// The series read (for a rule reference, the strongest alert's).
    pub series: Option<SeriesKey>,
    /// The value (`None`: the referenced alert has no data).
    pub value: Option<f64>,
    /// The comparison.
    pub op: Op,
    /// The threshold it was compared with.
    pub threshold: f64,
}

impl fmt::Display for TriggerValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.trigger)?;
        if let Some(series) = &self.series {
            write!(f, " on {series}")?;
        }
        let value = self.value.map_or_else(|| "no data".into(), compact);
        write!(
            f,
            ": {value} (holds when {} {})",
            self.op,
            compact(self.threshold)
        )
    }
}

/// One change of the mode.
///
/// Displays as one line: `at`, change, source, reason and values.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EmergencyTransition {
    /// What changed.
    pub change: EmergencyChange,
    /// Who changed it.
    pub source: EmergencySource,
    /// Why, in words: the manual reason, or what the triggers did.
    pub reason: String,
    /// When (the clock's now).
    pub at: Timestamp,
    /// The triggers' latest readings: those holding for an activation,
    /// every trigger's for an automatic deactivation; empty for manual
    /// changes.
    pub values: Vec<TriggerValue>,
    /// For an automatic activation, the least time the mode stays on.
    pub dwell: Option<Duration>,
}

impl fmt::Display for EmergencyTransition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = self.at.as_nanos() as f64 / 1e9;
        write!(
            f,
            "{at:.3} s {} by {}: {}",
            self.change, self.source, self.reason
        )?;
        for value in &self.values {
            write!(f, "; {value}")?;
        }
        Ok(())
    }
}

/// Where the mode stands, for status pages.
#[derive(Clone, Debug, PartialEq)]
pub struct EmergencyStatus {
    /// Whether the mode is on.
    pub active: bool,
    /// Whether it is held on by hand.
    pub manual: bool,
    /// When it turned on.
    pub since: Option<Timestamp>,
    /// Before this, an automatic activation cannot end (the dwell).
    pub dwell_until: Option<Timestamp>,
    /// Each trigger, in configuration order.
    pub triggers: Vec<TriggerStatus>,
}

/// One trigger's state.
#[derive(Clone, Debug, PartialEq)]
pub struct TriggerStatus {
    /// Its name.
    pub name: Arc<str>,
    /// Whether it holds (true for its `for`).
    pub holding: bool,
    /// Since when it has been true, if it is.
    pub true_since: Option<Timestamp>,
    /// Its latest reading with data.
    pub last: Option<TriggerValue>,
}
