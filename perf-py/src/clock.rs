//! `ManualClock`: time that moves only when told, for deterministic tests
//! of windows, rules, cooldowns, timers and emergency mode.

use perf_core::{Clock, ManualClock};
use pyo3::prelude::*;

use crate::convert::{duration, seconds, timestamp};

/// A clock that moves only when told. Pass it to `Monitor(clock=...)`;
/// times are seconds (floats).
#[pyclass(name = "ManualClock", module = "perf_core._native", frozen)]
pub(crate) struct PyManualClock {
    pub(crate) inner: ManualClock,
}

#[pymethods]
impl PyManualClock {
    /// A clock standing at `start` seconds.
    #[new]
    #[pyo3(signature = (start = None))]
    fn new(start: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        let start = match start {
            Some(s) => timestamp("start", s)?,
            None => perf_core::Timestamp::ZERO,
        };
        Ok(PyManualClock {
            inner: ManualClock::new(start),
        })
    }

    /// Moves time forward by `seconds` (a number or a timedelta).
    fn advance(&self, py: Python<'_>, seconds: &Bound<'_, PyAny>) -> PyResult<()> {
        let d = duration("seconds", seconds)?;
        let clock = self.inner.clone();
        py.detach(move || clock.advance(d));
        Ok(())
    }

    /// Moves time to `t` seconds; a time in the past is ignored.
    fn set(&self, py: Python<'_>, t: &Bound<'_, PyAny>) -> PyResult<()> {
        let t = timestamp("t", t)?;
        let clock = self.inner.clone();
        py.detach(move || clock.set(t));
        Ok(())
    }

    /// The current time in seconds.
    fn now(&self) -> f64 {
        seconds(self.inner.now())
    }

    fn __repr__(&self) -> String {
        format!("ManualClock(now={})", self.now())
    }
}
