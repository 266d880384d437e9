//! The budget report of a monitor: [`crate::budget_report`] over its
//! budgets, series and windows.

use super::Monitor;
use crate::budget_report::BudgetReport;

/// Budgets: the report.
impl Monitor {
    /// Rates every budget item on every histogram series it applies to:
    /// value, limits, rating and headroom. Items with a window read that
    /// window (exactly, as [`Monitor::window_stats`]); others read
    /// everything since start.
    pub fn budget_report(&self) -> BudgetReport {
        let budgets = self.budgets();
        let inner = &self.inner;
        BudgetReport::new(&budgets, &self.view(), inner.windows.as_ref(), self.now())
    }
}
