//! The state machine of one (rule, series): a pure function from a phase and
//! a reading to the next phase and the transitions taken.
//!
//! ```text
//!            level holds                 held for `for`
//! Inactive ─────────────▶ Pending ──────────────────────▶ Firing ◀─┐
//!    ▲                      │ nothing holds                 │  ▲   │ higher level holds:
//!    │◀─────────────────────┘                 level clears  │  │   │ Escalated (at once)
//!    │                                           Recovered  ▼  │   │
//!    │   cleared for `clear_for`, no lower level holds:  Recovering ─┘
//!    └──────────────────────── Resolved ◀──────────────┘ │  level holds again: Relapsed
//!                                                         │
//!             cleared for `clear_for`, a lower level still holds:
//!             DeEscalated ─▶ Firing at the lower severity
//! ```
//!
//! Invariants (checked by the property tests in `tests/rules.rs`):
//!
//! * `Fired` only from `Pending` after the ladder held at every reading for
//!   at least `for` (or at once when `for` is 0); every later transition
//!   until `Resolved` belongs to that alert.
//! * `Resolved` only for an alert that fired, after its level stayed cleared
//!   for `clear_for` with no lower level still holding — or for lack of data
//!   under [`NoDataPolicy::Resolve`], marked as such. No data never counts as
//!   cleared, so it never resolves an alert by itself.
//! * Escalation is immediate; de-escalation goes through `clear_for`.

use crate::clock::Timestamp;
use crate::rules::{NoDataPolicy, Rule, Severity};

/// Where a (rule, series) stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    /// No level holds (or it never fired).
    Inactive,
    /// Some level holds, since `since`, but not yet for `for`.
    Pending {
        severity: Severity,
        since: Timestamp,
    },
    /// Alerting at `severity`.
    Firing { severity: Severity },
    /// Alerting at `severity`, whose level has been cleared since `since`.
    Recovering {
        severity: Severity,
        since: Timestamp,
    },
}

impl Phase {
    /// The severity of the alert, if one is active.
    pub(crate) fn alert_severity(self) -> Option<Severity> {
        match self {
            Phase::Firing { severity } | Phase::Recovering { severity, .. } => Some(severity),
            Phase::Inactive | Phase::Pending { .. } => None,
        }
    }
}

/// What one evaluation read for a (rule, series).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Reading {
    /// The target's value.
    Value(f64),
    /// No value in the window, or fewer than `min_samples`.
    NoData,
}

/// A change of an alert, as the state machine reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Transition {
    Fired(Severity),
    Escalated { from: Severity, to: Severity },
    DeEscalated { from: Severity, to: Severity },
    Recovered(Severity),
    Relapsed(Severity),
    Resolved { severity: Severity, no_data: bool },
}

/// What the ladder says about one reading.
struct Assessment<'a> {
    rule: &'a Rule,
    /// The highest severity whose level holds.
    hit: Option<Severity>,
    /// `None` when no data counts as holding (never as clearing).
    value: Option<f64>,
}

impl Assessment<'_> {
    fn clears(&self, severity: Severity) -> bool {
        let level = self.rule.level_for(severity);
        match (self.value, level) {
            (Some(v), Some(level)) => level.clears(self.rule.watch.op, v),
            (Some(_), None) => true,
            (None, _) => false,
        }
    }

    /// The reading's severity if it is above `current`.
    fn escalates_from(&self, current: Severity) -> Option<Severity> {
        self.hit.filter(|&hit| hit > current)
    }
}

/// The next phase after `reading` at `now`; transitions are appended to `out`.
pub(crate) fn step(
    rule: &Rule,
    phase: Phase,
    reading: Reading,
    now: Timestamp,
    out: &mut Vec<Transition>,
) -> Phase {
    let assessment = match reading {
        Reading::Value(v) => Assessment {
            rule,
            hit: rule.highest_holding(v),
            value: Some(v),
        },
        Reading::NoData => match rule.no_data {
            NoDataPolicy::KeepLast => return phase,
            NoDataPolicy::Resolve => return resolve_for_no_data(phase, out),
            NoDataPolicy::Fire => Assessment {
                rule,
                hit: rule.top_severity(),
                value: None,
            },
        },
    };
    advance(phase, &assessment, now, out)
}

fn resolve_for_no_data(phase: Phase, out: &mut Vec<Transition>) -> Phase {
    if let Some(severity) = phase.alert_severity() {
        out.push(Transition::Resolved {
            severity,
            no_data: true,
        });
    }
    Phase::Inactive
}

fn advance(phase: Phase, a: &Assessment<'_>, now: Timestamp, out: &mut Vec<Transition>) -> Phase {
    let held_for = |since: Timestamp| now.saturating_duration_since(since);
    match phase {
        Phase::Inactive => match a.hit {
            None => Phase::Inactive,
            Some(severity) if a.rule.for_duration.is_zero() => fire(severity, out),
            Some(severity) => Phase::Pending {
                severity,
                since: now,
            },
        },
        Phase::Pending { since, .. } => match a.hit {
            None => Phase::Inactive,
            Some(severity) if held_for(since) >= a.rule.for_duration => fire(severity, out),
            Some(severity) => Phase::Pending { severity, since },
        },
        Phase::Firing { severity } => {
            if let Some(to) = a.escalates_from(severity) {
                return escalate(severity, to, out);
            }
            if !a.clears(severity) {
                return phase;
            }
            out.push(Transition::Recovered(severity));
            if a.rule.clear_for.is_zero() {
                settle(severity, a, out)
            } else {
                Phase::Recovering {
                    severity,
                    since: now,
                }
            }
        }
        Phase::Recovering { severity, since } => {
            if let Some(to) = a.escalates_from(severity) {
                escalate(severity, to, out)
            } else if !a.clears(severity) {
                out.push(Transition::Relapsed(severity));
                Phase::Firing { severity }
            } else if held_for(since) >= a.rule.clear_for {
                settle(severity, a, out)
            } else {
                phase
            }
        }
    }
}

fn fire(severity: Severity, out: &mut Vec<Transition>) -> Phase {
    out.push(Transition::Fired(severity));
    Phase::Firing { severity }
}

fn escalate(from: Severity, to: Severity, out: &mut Vec<Transition>) -> Phase {
    out.push(Transition::Escalated { from, to });
    Phase::Firing { severity: to }
}

/// After `severity` stayed cleared for `clear_for`: down to the highest lower
/// level that has not cleared (hysteresis applies per level), or resolved.
fn settle(severity: Severity, a: &Assessment<'_>, out: &mut Vec<Transition>) -> Phase {
    let still_active = a
        .rule
        .levels
        .iter()
        .rev()
        .filter(|l| l.severity < severity)
        .find(|l| !a.clears(l.severity));
    match still_active {
        Some(lower) => {
            out.push(Transition::DeEscalated {
                from: severity,
                to: lower.severity,
            });
            Phase::Firing {
                severity: lower.severity,
            }
        }
        None => {
            out.push(Transition::Resolved {
                severity,
                no_data: false,
            });
            Phase::Inactive
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::Target;
    use std::time::Duration;
    use Transition::*;

    fn rule() -> Rule {
        Rule::new("r", Target::percentile("lat", 95.0))
            .level_with_clear(Severity::Warning, 500.0, 400.0)
            .level(Severity::Critical, 1000.0)
            .for_duration(Duration::from_secs(60))
            .clear_for(Duration::from_secs(30))
    }

    /// Feeds `(second, reading)` pairs; returns the final phase and every
    /// transition with its second.
    fn run(rule: &Rule, readings: &[(u64, Reading)]) -> (Phase, Vec<(u64, Transition)>) {
        let mut phase = Phase::Inactive;
        let mut all = Vec::new();
        for &(t, reading) in readings {
            let mut out = Vec::new();
            phase = step(rule, phase, reading, Timestamp::from_secs(t), &mut out);
            all.extend(out.into_iter().map(|tr| (t, tr)));
        }
        (phase, all)
    }

    fn values(pairs: &[(u64, f64)]) -> Vec<(u64, Reading)> {
        pairs.iter().map(|&(t, v)| (t, Reading::Value(v))).collect()
    }

    #[test]
    fn fires_only_after_for_and_resolves_after_clear_for() {
        let (phase, events) = run(
            &rule(),
            &values(&[
                (0, 600.0),
                (30, 600.0),
                (60, 600.0),
                (70, 300.0),
                (90, 300.0),
                (100, 300.0),
            ]),
        );
        assert_eq!(
            events,
            vec![
                (60, Fired(Severity::Warning)),
                (70, Recovered(Severity::Warning)),
                (
                    100,
                    Resolved {
                        severity: Severity::Warning,
                        no_data: false
                    }
                ),
            ]
        );
        assert_eq!(phase, Phase::Inactive);
    }

    #[test]
    fn a_gap_in_the_condition_restarts_for() {
        let (phase, events) = run(
            &rule(),
            &values(&[(0, 600.0), (30, 100.0), (40, 600.0), (90, 600.0)]),
        );
        assert!(events.is_empty());
        assert_eq!(
            phase,
            Phase::Pending {
                severity: Severity::Warning,
                since: Timestamp::from_secs(40)
            }
        );
    }

    #[test]
    fn escalates_at_once_and_de_escalates_through_clear_for() {
        let (_, events) = run(
            &rule(),
            &values(&[
                (0, 600.0),
                (60, 600.0),
                (61, 1500.0),
                (62, 700.0),
                (92, 700.0),
            ]),
        );
        assert_eq!(
            events,
            vec![
                (60, Fired(Severity::Warning)),
                (
                    61,
                    Escalated {
                        from: Severity::Warning,
                        to: Severity::Critical
                    }
                ),
                (62, Recovered(Severity::Critical)),
                (
                    92,
                    DeEscalated {
                        from: Severity::Critical,
                        to: Severity::Warning
                    }
                ),
            ]
        );
    }

    #[test]
    fn hysteresis_keeps_a_flapping_value_firing() {
        let mut readings = vec![(0, 600.0), (60, 600.0)];
        readings.extend((61..200).map(|t| (t, if t % 2 == 0 { 520.0 } else { 480.0 })));
        let (phase, events) = run(&rule(), &values(&readings));
        assert_eq!(events, vec![(60, Fired(Severity::Warning))]);
        assert_eq!(
            phase,
            Phase::Firing {
                severity: Severity::Warning
            }
        );
    }

    #[test]
    fn a_relapse_during_recovery_returns_to_firing() {
        let (phase, events) = run(
            &rule(),
            &values(&[(0, 600.0), (60, 600.0), (61, 100.0), (70, 450.0)]),
        );
        assert_eq!(
            events,
            vec![
                (60, Fired(Severity::Warning)),
                (61, Recovered(Severity::Warning)),
                (70, Relapsed(Severity::Warning)),
            ]
        );
        assert_eq!(
            phase,
            Phase::Firing {
                severity: Severity::Warning
            }
        );
    }

    #[test]
    fn no_data_policies() {
        let firing = [(0, Reading::Value(600.0)), (60, Reading::Value(600.0))];
        let with = |policy, extra: &[(u64, Reading)]| {
            let mut readings = firing.to_vec();
            readings.extend_from_slice(extra);
            run(&rule().no_data(policy), &readings)
        };
        let gap = [(70, Reading::NoData), (200, Reading::NoData)];
        // Keep last: still firing, nothing resolves.
        let (phase, events) = with(NoDataPolicy::KeepLast, &gap);
        assert_eq!(
            phase,
            Phase::Firing {
                severity: Severity::Warning
            }
        );
        assert_eq!(events.len(), 1);
        // Resolve: resolved, marked as no data.
        let (_, events) = with(NoDataPolicy::Resolve, &gap);
        assert_eq!(
            events[1],
            (
                70,
                Resolved {
                    severity: Severity::Warning,
                    no_data: true
                }
            )
        );
        // Fire: the top severity, at once since the alert is already firing.
        let (phase, _) = with(NoDataPolicy::Fire, &gap);
        assert_eq!(
            phase,
            Phase::Firing {
                severity: Severity::Critical
            }
        );
        // Fire from inactive goes through `for`.
        let (_, events) = run(
            &rule().no_data(NoDataPolicy::Fire),
            &[
                (0, Reading::NoData),
                (59, Reading::NoData),
                (60, Reading::NoData),
            ],
        );
        assert_eq!(events, vec![(60, Fired(Severity::Critical))]);
    }

    #[test]
    fn with_zero_durations_everything_is_immediate() {
        let rule = rule()
            .for_duration(Duration::ZERO)
            .clear_for(Duration::ZERO);
        let (_, events) = run(&rule, &values(&[(0, 1500.0), (1, 450.0), (2, 100.0)]));
        assert_eq!(
            events,
            vec![
                (0, Fired(Severity::Critical)),
                (1, Recovered(Severity::Critical)),
                (
                    1,
                    DeEscalated {
                        from: Severity::Critical,
                        to: Severity::Warning
                    }
                ),
                (2, Recovered(Severity::Warning)),
                (
                    2,
                    Resolved {
                        severity: Severity::Warning,
                        no_data: false
                    }
                ),
            ]
        );
    }
}
