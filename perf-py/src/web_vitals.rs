//! Web Vitals: a mapping `{"lcp": 1800, "cls": 0.02, ...}` read into the
//! core's [`WebVitals`], rated by it ([`WebVitals::rate`]) and recorded by
//! it ([`perf_core::Monitor::record_web_vitals`]).

use perf_core::{Rating, WebVitals, WebVitalsRatings};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyMapping, PyString};

use crate::convert::real;
use crate::errors::{invalid_argument, wrong_type};

/// The vitals of a mapping whose keys are among [`WebVitals::NAMES`]
/// (values: real numbers; None leaves a vital out).
pub(crate) fn vitals(value: &Bound<'_, PyAny>) -> PyResult<WebVitals> {
    let py = value.py();
    let mapping = value
        .cast::<PyMapping>()
        .map_err(|_| wrong_type(py, "vitals", "a mapping of str to float", value))?;
    let mut vitals = WebVitals::default();
    for item in mapping.items()?.iter() {
        let (key, value): (Bound<'_, PyAny>, Bound<'_, PyAny>) = item.extract()?;
        let key = key
            .cast::<PyString>()
            .map_err(|_| wrong_type(py, "a Web Vital's name", "a str", &key))?
            .to_str()?
            .to_owned();
        let slot = match key.as_str() {
            "lcp" => &mut vitals.lcp,
            "inp" => &mut vitals.inp,
            "cls" => &mut vitals.cls,
            "fcp" => &mut vitals.fcp,
            "ttfb" => &mut vitals.ttfb,
            "fid" => &mut vitals.fid,
            _ => {
                let names = WebVitals::NAMES.join(", ");
                let reason = format!("unknown Web Vital {key:?} (use {names})");
                return Err(invalid_argument(py, "vitals", reason));
            }
        };
        if !value.is_none() {
            *slot = Some(real(&key, &value)?);
        }
    }
    Ok(vitals)
}

/// `{name: rating}` of every vital rated (`good`, `needs-improvement`,
/// `poor`), in the order of [`WebVitals::NAMES`].
pub(crate) fn ratings<'py>(
    py: Python<'py>,
    ratings: &WebVitalsRatings,
) -> PyResult<Bound<'py, PyDict>> {
    let all = [
        ratings.lcp,
        ratings.inp,
        ratings.cls,
        ratings.fcp,
        ratings.ttfb,
        ratings.fid,
    ];
    let dict = PyDict::new(py);
    for (name, rating) in WebVitals::NAMES.iter().zip(all) {
        if let Some(rating) = rating {
            dict.set_item(name, Rating::as_str(rating))?;
        }
    }
    Ok(dict)
}

/// The rating of each Web Vital given (`{"lcp": 1800, "cls": 0.3}` →
/// `{"lcp": "good", "cls": "poor"}`) under Google's thresholds
/// (`Budget.web_vitals()`; a value on a boundary gets the better rating).
/// Nothing is recorded.
#[pyfunction(name = "rate_web_vitals")]
pub(crate) fn py_rate_web_vitals<'py>(
    py: Python<'py>,
    vitals: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyDict>> {
    ratings(py, &self::vitals(vitals)?.rate())
}
