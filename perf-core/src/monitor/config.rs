//! Rules and budgets from JSON on a monitor: loads and writes the
//! documents of [`crate::config`].

use std::path::Path;

use super::Monitor;
use crate::budget::Budget;
use crate::config::{in_emergency, read_rules_file, RulesConfig};
use crate::emergency::EmergencyConfig;
#[cfg(doc)]
use crate::error::PerfError;
use crate::error::Result;
use crate::regression::Policy;
use crate::rules::Rule;

/// Rules and budgets from JSON ([`RulesConfig`]).
impl Monitor {
    /// Adds the rules and budgets of a rules document, all or none, and
    /// applies its `emergency` section, if it has one, in place of the
    /// monitor's emergency configuration (as
    /// [`Monitor::configure_emergency`]; without the section the
    /// configuration is left as it is), and its `regression` section, if
    /// any, as [`Monitor::regression_policy`]. Returns how many rules and
    /// budgets were added (the other sections do not count).
    ///
    /// Errors: [`PerfError::InvalidRulesJson`] naming the offending field
    /// (`rules[2].for`; also a window longer than the monitor's retention,
    /// `rules[0].window` or `emergency.triggers[0].window`, and a trigger
    /// naming a rule neither the document nor the monitor has,
    /// `emergency.triggers[1].rule`), [`PerfError::DuplicateRule`] if a
    /// name is taken, [`PerfError::WindowsDisabled`]. On any error nothing
    /// is added and the emergency configuration is unchanged.
    ///
    /// ```
    /// use perf_core::Monitor;
    /// let monitor = Monitor::builder().build()?;
    /// let added = monitor.load_rules(r#"{"version": 1, "rules": [
    ///     {"name": "errors", "metric": "http.errors", "stat": "ratio", "denominator": "http.requests",
    ///      "levels": [{"severity": "warning", "threshold": 0.01}, {"severity": "critical", "threshold": 0.05}],
    ///      "for": "2m"}
    /// ]}"#)?;
    /// assert_eq!(added, 1);
    /// assert_eq!(monitor.rules()[0].levels.len(), 2);
    ///
    /// // Emergency mode when the error rate is critical for a minute.
    /// monitor.load_rules(r#"{"version": 1, "emergency": {
    ///     "triggers": [{"rule": "errors", "severity": "critical", "for": "60s"}],
    ///     "min_dwell": "5m"
    /// }}"#)?;
    /// assert_eq!(monitor.emergency().config().triggers[0].name, "errors");
    /// # Ok::<(), perf_core::PerfError>(())
    /// ```
    pub fn load_rules(&self, json: &str) -> Result<usize> {
        let config = RulesConfig::from_json(json)?;
        let (rules, budgets) = config.parts()?;
        let emergency = config.emergency()?;
        let regression = config.regression()?;
        if let Some(emergency) = &emergency {
            self.check_loaded_emergency(emergency, &rules, &budgets)?;
        }
        let added = self
            .install(rules, budgets)
            .map_err(|err| config.locate(err))?;
        if let Some(emergency) = emergency {
            // Checked above: this fails only if a rule it names was removed
            // meanwhile by another thread.
            self.configure_emergency(emergency).map_err(in_emergency)?;
        }
        if let Some(policy) = regression {
            *self.inner.regression_policy.lock() = policy;
        }
        Ok(added)
    }

    /// Checks the emergency configuration of a document against this
    /// monitor once the document's `rules` and `budgets` (with the rules
    /// they raise alerts with) are added.
    fn check_loaded_emergency(
        &self,
        emergency: &EmergencyConfig,
        rules: &[Rule],
        budgets: &[Budget],
    ) -> Result<()> {
        let budget_rules = budgets.iter().flat_map(Budget::rules);
        let new_rules: Vec<Rule> = rules.iter().cloned().chain(budget_rules).collect();
        self.check_emergency(emergency, &new_rules)
            .map_err(in_emergency)
    }

    /// [`Monitor::load_rules`] with the contents of the file `path`. A file
    /// that cannot be read is a [`PerfError::InvalidRulesJson`] at path `.`.
    ///
    /// ```
    /// use perf_core::{Monitor, PerfError};
    /// let monitor = Monitor::builder().build()?;
    /// match monitor.load_rules_file("/no/such/rules.json") {
    ///     Err(PerfError::InvalidRulesJson { path, reason }) => {
    ///         assert_eq!(path, ".");
    ///         assert!(reason.starts_with("cannot read /no/such/rules.json"), "{reason}");
    ///     }
    ///     other => panic!("unexpected {other:?}"),
    /// }
    /// # Ok::<(), PerfError>(())
    /// ```
    pub fn load_rules_file(&self, path: impl AsRef<Path>) -> Result<usize> {
        let json = read_rules_file(path.as_ref())?;
        self.load_rules(&json)
    }

    /// The monitor's rules and budgets as a rules document, which
    /// [`Monitor::load_rules`] loads into another monitor as they are here.
    /// The rules budgets raise alerts with are left out: their budgets
    /// bring them back. The emergency configuration is the document's
    /// `emergency` section, left out if it is the default.
    ///
    /// ```
    /// use perf_core::{Budget, BudgetAlerts, EmergencyConfig, Monitor, Rule, Severity, Target, Trigger};
    /// let monitor = Monitor::builder().build()?;
    /// monitor.add_rule(Rule::new("slow", Target::percentile("lat", 95.0)).level(Severity::Warning, 500.0))?;
    /// monitor.add_budget(Budget::web_vitals().with_alerts(BudgetAlerts::default()))?;
    /// monitor.configure_emergency(EmergencyConfig::default().trigger(Trigger::rule("slow", Severity::Warning)))?;
    /// let copy = Monitor::builder().build()?;
    /// assert_eq!(copy.load_rules(&monitor.rules_json())?, 2);
    /// assert_eq!((copy.rules(), copy.budgets()), (monitor.rules(), monitor.budgets()));
    /// assert_eq!(copy.emergency().config(), monitor.emergency().config());
    /// # Ok::<(), perf_core::PerfError>(())
    /// ```
    pub fn rules_json(&self) -> String {
        let budgets = self.budgets();
        let rules = self.rules();
        let emergency = self.emergency().config();
        RulesConfig::of_monitor(rules, &budgets, &emergency, &self.regression_policy()).to_json()
    }

    /// The regression policy of the last rules document loaded with a
    /// `regression` section, or [`Policy::default`]: what a service passes
    /// to [`crate::compare`], so that one document sets the thresholds of
    /// its alerts and of its regression checks.
    ///
    /// ```
    /// use perf_core::{Monitor, Policy};
    /// let monitor = Monitor::builder().build()?;
    /// assert_eq!(monitor.regression_policy(), Policy::default());
    /// monitor.load_rules(r#"{"version": 1, "regression": {"threshold": 0.1, "alpha": 0.01}}"#)?;
    /// assert_eq!(monitor.regression_policy(), Policy::default().default_threshold(0.1).alpha(0.01));
    /// # Ok::<(), perf_core::PerfError>(())
    /// ```
    pub fn regression_policy(&self) -> Policy {
        self.inner.regression_policy.lock().clone()
    }
}
