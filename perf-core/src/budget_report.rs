//! The budget report: every budget item rated on every series it applies
//! to, with its value, limits, rating and headroom.
//!
//! ```
//! use perf_core::{Budget, Monitor, Rating};
//! let monitor = Monitor::builder().build()?;
//! monitor.add_budget(Budget::api_latency("api", "http.server.duration", 100.0, 300.0, 800.0))?;
//! for ms in 1..=100 {
//!     monitor.record("http.server.duration", &[("route", "/users")], ms as f64 * 4.0)?;
//! }
//! let report = monitor.budget_report();
//! let p95 = &report.rows[1];
//! assert_eq!(p95.stat.to_string(), "p95");
//! assert_eq!(p95.rating, Some(Rating::Poor)); // p95 is about 380 ms > 300 ms
//! assert!(p95.headroom.unwrap() < 0.0);
//! assert_eq!(report.worst(), Some(Rating::Poor));
//! println!("{report}");
//! # Ok::<(), perf_core::PerfError>(())
//! ```

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

use crate::budget::{Budget, BudgetItem, Rating};
use crate::clock::Timestamp;
use crate::numbers::compact;
use crate::registry::{Metric, Registry, Series};
use crate::rules::Statistic;
use crate::series::SeriesKey;
use crate::snapshot::HistogramSnapshot;
use crate::window::WindowConfig;

/// A budget item rated on one series.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct BudgetRow {
    /// The budget's name.
    pub budget: String,
    /// The item's metric.
    pub metric: String,
    /// The series rated; `None` when the metric has no series the item
    /// applies to yet (then there is no value either).
    pub series: Option<SeriesKey>,
    /// The statistic rated.
    pub stat: Statistic,
    /// The item's window; `None`: everything since start.
    pub window: Option<Duration>,
    /// How many values the statistic was computed from.
    pub count: u64,
    /// The statistic; `None` without values.
    pub value: Option<f64>,
    /// The largest good value.
    pub good: f64,
    /// The largest needs-improvement value, if the item has that band.
    pub poor: Option<f64>,
    /// The value's rating; `None` without a value.
    pub rating: Option<Rating>,
    /// `good − value`: how far under its good limit the value is
    /// (negative: over it by that much).
    pub headroom: Option<f64>,
}

impl BudgetRow {
    fn new(
        budget: &Budget,
        item: &BudgetItem,
        series: Option<&SeriesKey>,
        values: Option<&HistogramSnapshot>,
    ) -> BudgetRow {
        let limits = [Some(item.good), item.poor];
        let value = values.and_then(|s| item.stat.compared_with(s, limits.into_iter().flatten()));
        BudgetRow {
            budget: budget.name.clone(),
            metric: item.metric.clone(),
            series: series.cloned(),
            stat: item.stat,
            window: item.window,
            count: values.map_or(0, HistogramSnapshot::count),
            value,
            good: item.good,
            poor: item.poor,
            rating: value.map(|v| item.rate(v)),
            headroom: value.map(|v| item.good - v),
        }
    }

    /// The headroom as a fraction of the good limit (`0.25`: 25 % under
    /// it); `None` without a value or with a zero limit.
    pub fn headroom_ratio(&self) -> Option<f64> {
        self.headroom
            .filter(|_| self.good != 0.0)
            .map(|h| h / self.good)
    }
}

/// Every budget item of a monitor rated on every series it applies to,
/// budgets in the order they were added, items in their order, series
/// sorted. `Display` prints it as a table.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct BudgetReport {
    /// When the report was taken (the monitor clock's now).
    pub at: Timestamp,
    /// One row per (item, series); one row without a series for an item
    /// no series matches yet.
    pub rows: Vec<BudgetRow>,
}

impl BudgetReport {
    /// The worst rating of any row; `None` if no row has a value.
    pub fn worst(&self) -> Option<Rating> {
        self.rows.iter().filter_map(|row| row.rating).max()
    }

    /// The rows of the budget `name`.
    pub fn budget<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a BudgetRow> + 'a {
        self.rows.iter().filter(move |row| row.budget == name)
    }
}

/// An item of a budget.
type BudgetedItem<'a> = (&'a Budget, &'a BudgetItem);

impl BudgetReport {
    /// Rates every item of `budgets` on every histogram series of
    /// `registry` it applies to, at `now`: items with a window read it
    /// from `windows` (no row value if they cannot), others everything
    /// since start. See [`BudgetReport`] for the order of the rows.
    pub(crate) fn new(
        budgets: &[Budget],
        registry: &Registry,
        windows: Option<&WindowConfig>,
        now: Timestamp,
    ) -> BudgetReport {
        let items: Vec<BudgetedItem<'_>> = budgets
            .iter()
            .flat_map(|budget| budget.items.iter().map(move |item| (budget, item)))
            .collect();
        let mut rows = series_rows(&items, registry, windows, now);
        for (i, &(budget, item)) in items.iter().enumerate() {
            if !rows.iter().any(|&(j, _)| j == i) {
                rows.push((i, BudgetRow::new(budget, item, None, None)));
            }
        }
        sort_rows(&items, &mut rows);
        BudgetReport {
            at: now,
            rows: rows.into_iter().map(|(_, row)| row).collect(),
        }
    }
}

/// The rows of `items` on the series of `registry` they apply to, each with
/// the index of its item.
fn series_rows(
    items: &[BudgetedItem<'_>],
    registry: &Registry,
    windows: Option<&WindowConfig>,
    now: Timestamp,
) -> Vec<(usize, BudgetRow)> {
    let mut by_metric: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, (_, item)) in items.iter().enumerate() {
        by_metric.entry(item.metric.as_str()).or_default().push(i);
    }
    let mut rows = Vec::new();
    registry.for_each(|key, series| {
        for &i in by_metric.get(key.name()).into_iter().flatten() {
            let (budget, item) = items[i];
            if !item.applies_to(key) {
                continue;
            }
            if let Some(values) = budget_values(series, windows, item.window, now) {
                rows.push((i, BudgetRow::new(budget, item, Some(key), values.as_ref())));
            }
        }
    });
    rows
}

/// Sorts rows (with the indices of their items): budgets in order; within
/// one, a metric's rows together (at its first item), by series, then in
/// item order.
fn sort_rows(items: &[BudgetedItem<'_>], rows: &mut [(usize, BudgetRow)]) {
    let group = |i: usize| {
        let (budget, item) = items[i];
        let same = |&(b, it): &BudgetedItem<'_>| b.name == budget.name && it.metric == item.metric;
        items.iter().position(same).unwrap_or(i)
    };
    rows.sort_by(|(i, a), (j, b)| {
        (group(*i).cmp(&group(*j)))
            .then_with(|| a.series.cmp(&b.series))
            .then(i.cmp(j))
    });
}

/// The values an item reads from `series`: `None` if it is not a
/// histogram, `Some(None)` if its window cannot be read.
fn budget_values(
    series: &Series,
    windows: Option<&WindowConfig>,
    window: Option<Duration>,
    now: Timestamp,
) -> Option<Option<HistogramSnapshot>> {
    let Metric::Histogram(core) = &series.metric else {
        return None;
    };
    let Some(window) = window else {
        return Some(Some(core.snapshot()));
    };
    let read = windows.map(|config| series.window_snapshot(config, now, window));
    Some(read.and_then(|r| r.ok().flatten()))
}

impl fmt::Display for BudgetReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const HEADER: [&str; 8] = [
            "budget", "series", "stat", "value", "good", "poor", "rating", "headroom",
        ];
        let cells: Vec<[String; 8]> = self.rows.iter().map(row_cells).collect();
        let mut widths = HEADER.map(str::len);
        for row in &cells {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let header = HEADER.map(String::from);
        for row in std::iter::once(&header).chain(&cells) {
            let line: Vec<String> = row
                .iter()
                .zip(widths)
                .enumerate()
                .map(|(i, (cell, width))| match i {
                    3..=5 | 7 => format!("{cell:>width$}"),
                    _ => format!("{cell:<width$}"),
                })
                .collect();
            writeln!(f, "{}", line.join("  ").trim_end())?;
        }
        Ok(())
    }
}

fn row_cells(row: &BudgetRow) -> [String; 8] {
    let series = row
        .series
        .as_ref()
        .map_or_else(|| row.metric.clone(), ToString::to_string);
    let stat = match row.window {
        Some(window) => format!("{} {}s", row.stat, window.as_secs_f64()),
        None => row.stat.to_string(),
    };
    let missing = || "-".to_string();
    [
        row.budget.clone(),
        series,
        stat,
        row.value.map_or_else(missing, compact),
        compact(row.good),
        row.poor.map_or_else(missing, compact),
        row.rating.map_or("no data", Rating::as_str).to_string(),
        row.headroom.map_or_else(missing, |h| {
            format!("{}{}", if h >= 0.0 { "+" } else { "" }, compact(h))
        }),
    ]
}
