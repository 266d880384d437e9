//! Emergency mode on a monitor: the public face of [`crate::emergency`],
//! fed with the monitor's rules, series and windows.

use super::Monitor;
use crate::clock::Timestamp;
use crate::emergency::{Emergency, EmergencyConfig};
#[cfg(doc)]
use crate::error::PerfError;
use crate::error::Result;
use crate::rules::Rule;

/// Emergency mode on a monitor.
impl Monitor {
    /// The monitor's emergency mode. Clone it to keep a handle on a hot
    /// path: `is_active()` is then one atomic load.
    pub fn emergency(&self) -> &Emergency {
        &self.inner.emergency
    }

    /// Replaces the emergency configuration. Triggers start afresh; the
    /// mode itself is kept (an automatic activation ends once the new
    /// triggers are clear for `clear_for`, and its dwell has passed).
    /// Errors: [`PerfError::InvalidEmergency`] naming the field — an
    /// invalid trigger, a rule reference to no rule
    /// (`triggers[0].rule`), a window the monitor cannot read
    /// (`triggers[0].window`).
    pub fn configure_emergency(&self, config: EmergencyConfig) -> Result<()> {
        self.check_emergency(&config, &[])?;
        self.inner.emergency.configure(config);
        Ok(())
    }

    /// Checks `config` against this monitor, whose rules will include
    /// `new_rules`.
    pub(super) fn check_emergency(
        &self,
        config: &EmergencyConfig,
        new_rules: &[Rule],
    ) -> Result<()> {
        let engine = self.inner.alerting.engine();
        config.check_against(engine, new_rules, |window| self.check_window(window))
    }

    /// Reads the triggers at `now` and makes the transition due, if any.
    pub(super) fn evaluate_emergency(&self, now: Timestamp) {
        let inner = &self.inner;
        let engine = inner.alerting.engine();
        inner
            .emergency
            .evaluate_triggers(&self.view(), inner.windows.as_ref(), engine, now);
    }
}
