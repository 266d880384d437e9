//! Alerts of a process group (multi-process mode): the leader evaluates
//! and writes its active alerts and history to the group's alerts
//! document after each evaluation; the other processes answer `alerts()`
//! and `alert_history()` from it and leave acknowledgements there for the
//! leader. A new leader takes the document over, so an alert that still
//! holds is not fired again and ids go on.

use serde::{Deserialize, Serialize};

use super::Monitor;
use crate::alerts::{Alert, AlertEvent, AlertId};
use crate::error::{PerfError, Result};
use crate::multiproc::Lead;

/// The alerts document's version; another version is ignored.
const VERSION: u32 = 1;

/// What the leader writes.
#[derive(Serialize, Deserialize)]
pub(super) struct AlertsDocument {
    version: u32,
    /// The id the leader's next alert gets.
    next_id: u64,
    pub(super) alerts: Vec<Alert>,
    pub(super) history: Vec<AlertEvent>,
}

impl Monitor {
    /// Whether this process evaluates for the group (see
    /// [`Monitor::evaluate`]); a process that just took the lead first
    /// takes over the alerts of the last leader and applies the
    /// acknowledgements left for it.
    pub(super) fn take_lead(&self) -> bool {
        let Some(group) = &self.inner.group else {
            return true;
        };
        let lead = group.lead();
        if lead == Lead::TookOver {
            if let Some(document) = self.alerts_document() {
                let mut engine = self.inner.alerting.engine().lock();
                engine.adopt(&document.alerts, document.history, document.next_id);
            }
        }
        if lead != Lead::Follows {
            let acks = group.alerts().take_acks();
            let mut engine = self.inner.alerting.engine().lock();
            for id in acks {
                // An alert resolved meanwhile: nothing to acknowledge.
                let _ = engine.acknowledge(AlertId(id));
            }
        }
        lead != Lead::Follows
    }

    /// Writes the leader's alerts document (after an evaluation).
    pub(super) fn publish_alerts(&self) {
        let Some(group) = &self.inner.group else {
            return;
        };
        let document = {
            let engine = self.inner.alerting.engine().lock();
            AlertsDocument {
                version: VERSION,
                next_id: engine.next_id(),
                alerts: engine.alerts(),
                history: engine.history(),
            }
        };
        let bytes = serde_json::to_vec(&document).expect("alerts serialize");
        // A failed write leaves the last document; the next evaluation
        // writes again.
        let _ = group.alerts().publish(&bytes);
    }

    /// The group's alerts document, when another process leads the group
    /// and has written one: what `alerts()` and `alert_history()` read.
    pub(super) fn leader_alerts(&self) -> Option<AlertsDocument> {
        let group = self.inner.group.as_ref()?;
        if group.is_leader() {
            return None;
        }
        self.alerts_document()
    }

    fn alerts_document(&self) -> Option<AlertsDocument> {
        let bytes = self.inner.group.as_ref()?.alerts().load()?;
        let document: AlertsDocument = serde_json::from_slice(&bytes).ok()?;
        (document.version == VERSION).then_some(document)
    }

    /// Acknowledges `id` in the leader's alerts: left for the leader to
    /// apply at its next evaluation. Errors like
    /// [`Monitor::acknowledge`] if the alert is not active.
    pub(super) fn acknowledge_for_leader(
        &self,
        document: &AlertsDocument,
        id: AlertId,
    ) -> Result<()> {
        if !document.alerts.iter().any(|alert| alert.id == id) {
            return Err(PerfError::UnknownAlert { id: id.0 });
        }
        let group = self.inner.group.as_ref().expect("a leader's document");
        group.alerts().request_ack(id.0)
    }
}
