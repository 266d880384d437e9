//! Emergency mode shared by a process group (multi-process mode).
//!
//! The group has one mode: its word in shared memory says whether it is on
//! ([`Emergency::is_active`](super::Emergency::is_active) in any process
//! reads it), and its state machine — mode, dwell, back-off, each
//! trigger's progress and the history — lives in a document in the group's
//! directory. Every transition, in any process, loads that document under
//! its lock, steps, writes it back and sets the word, so a manual change
//! from any process applies to all of them, with its reason, and a new
//! leader carries on where the last one stopped (a trigger's `for` and the
//! dwell included).
//!
//! What each process keeps to itself: its configuration (the group's
//! processes are expected to configure the same triggers; progress is
//! matched by trigger name) and its listeners, which hear the transitions
//! this process makes.

use std::collections::VecDeque;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{EmergencyTransition, Mode, State, TriggerValue};
use crate::clock::Timestamp;

/// The state document's version; another version is ignored (and
/// replaced at the next transition).
const VERSION: u32 = 1;

/// The state document: [`State`] less what is per process.
#[derive(Serialize, Deserialize)]
struct Document {
    version: u32,
    mode: Mode,
    clear_since: Option<Timestamp>,
    last_exit: Option<Timestamp>,
    last_dwell: Option<Duration>,
    triggers: Vec<TriggerProgress>,
    history: VecDeque<EmergencyTransition>,
}

/// One trigger's progress, by name.
#[derive(Serialize, Deserialize)]
struct TriggerProgress {
    name: String,
    true_since: Option<Timestamp>,
    fresh: bool,
    last: Option<TriggerValue>,
}

impl State {
    /// Takes the group's state from its document, if it holds one this
    /// version can read; otherwise keeps this process's.
    pub(super) fn restore(&mut self, bytes: Option<&[u8]>) {
        let Some(document) = bytes.and_then(|b| serde_json::from_slice::<Document>(b).ok()) else {
            return;
        };
        if document.version != VERSION {
            return;
        }
        self.mode = document.mode;
        self.clear_since = document.clear_since;
        self.last_exit = document.last_exit;
        self.last_dwell = document.last_dwell;
        for trigger in &mut self.triggers {
            let progress = document.triggers.iter().find(|p| *p.name == *trigger.name);
            if let Some(progress) = progress {
                trigger.true_since = progress.true_since;
                trigger.fresh = progress.fresh;
                trigger.last = progress.last.clone();
            }
        }
        self.history = document.history;
        while self.history.len() > self.history_limit {
            self.history.pop_front();
        }
    }

    /// The group's document for this state.
    pub(super) fn persist(&self) -> Vec<u8> {
        let document = Document {
            version: VERSION,
            mode: self.mode,
            clear_since: self.clear_since,
            last_exit: self.last_exit,
            last_dwell: self.last_dwell,
            triggers: self
                .triggers
                .iter()
                .map(|t| TriggerProgress {
                    name: t.name.to_string(),
                    true_since: t.true_since,
                    fresh: t.fresh,
                    last: t.last.clone(),
                })
                .collect(),
            history: self.history.clone(),
        };
        serde_json::to_vec(&document).expect("emergency state serializes")
    }

    /// Whether the mode is on.
    pub(super) fn is_on(&self) -> bool {
        self.mode != Mode::Off
    }
}
