//! Conversions of Python arguments into the engine's types: tags (keyword
//! arguments or a mapping), values, counts, durations, timestamps and JSON
//! documents. Every failure names the argument.

use std::time::Duration;

use perf_core::{PerfError, SeriesKey, Tag, Timestamp, MAX_TAGS};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyMapping, PyString};

use crate::errors::{invalid_argument, to_py, wrong_type};

/// Tags of one call: a positional mapping and/or keyword arguments, both
/// `str` → `str`. Holds the Python strings so the engine can borrow them.
pub(crate) struct Tags<'py> {
    pairs: Vec<(Bound<'py, PyString>, Bound<'py, PyString>)>,
}

impl<'py> Tags<'py> {
    /// Reads `mapping` (the optional positional `tags`) and `kwargs`.
    pub(crate) fn extract(
        mapping: Option<&Bound<'py, PyAny>>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Self> {
        let mut tags = Tags::from_mapping(mapping)?;
        if let Some(kwargs) = kwargs {
            for (key, value) in kwargs.iter() {
                tags.push(&key, &value)?;
            }
        }
        Ok(tags)
    }

    /// Reads the optional positional `tags` mapping (None: no tags).
    pub(crate) fn from_mapping(mapping: Option<&Bound<'py, PyAny>>) -> PyResult<Self> {
        let mut tags = Tags { pairs: Vec::new() };
        let Some(mapping) = mapping.filter(|m| !m.is_none()) else {
            return Ok(tags);
        };
        if let Ok(dict) = mapping.cast::<PyDict>() {
            for (key, value) in dict.iter() {
                tags.push(&key, &value)?;
            }
            return Ok(tags);
        }
        let py = mapping.py();
        let mapping = mapping
            .cast::<PyMapping>()
            .map_err(|_| wrong_type(py, "tags", "a mapping of str to str", mapping))?;
        for item in mapping.items()?.iter() {
            let (key, value): (Bound<'py, PyAny>, Bound<'py, PyAny>) = item.extract()?;
            tags.push(&key, &value)?;
        }
        Ok(tags)
    }

    /// Adds one tag: key and value must both be `str`.
    pub(crate) fn push(
        &mut self,
        key: &Bound<'py, PyAny>,
        value: &Bound<'py, PyAny>,
    ) -> PyResult<()> {
        let py = key.py();
        let key = key
            .cast::<PyString>()
            .map_err(|_| wrong_type(py, "a tag key", "a str", key))?;
        let value = value.cast::<PyString>().map_err(|_| {
            let arg = format!("tag {:?}", key.to_string());
            wrong_type(py, &arg, "a str", value)
        })?;
        self.pairs.push((key.clone(), value.clone()));
        Ok(())
    }

    /// Calls `f` with the tags as the engine takes them (on the stack up
    /// to the engine's limit of tags per series).
    #[inline]
    pub(crate) fn with<R>(&self, f: impl FnOnce(&[Tag<'_>]) -> R) -> PyResult<R> {
        let n = self.pairs.len();
        if n > MAX_TAGS {
            let tags: Vec<Tag<'_>> = self.pairs.iter().map(as_strs).collect::<PyResult<_>>()?;
            return Ok(f(&tags));
        }
        let mut tags: [Tag<'_>; MAX_TAGS] = [("", ""); MAX_TAGS];
        for (slot, pair) in tags.iter_mut().zip(&self.pairs) {
            *slot = as_strs(pair)?;
        }
        Ok(f(&tags[..n]))
    }
}

/// A tag as the engine borrows it. A key or value that is not valid
/// Unicode (an unpaired surrogate) is an invalid tag.
fn as_strs<'a>(pair: &'a (Bound<'_, PyString>, Bound<'_, PyString>)) -> PyResult<Tag<'a>> {
    let invalid = |_| {
        let key = pair.0.to_string_lossy().chars().take(64).collect();
        to_py(
            pair.0.py(),
            PerfError::InvalidTag {
                key,
                reason: NOT_UNICODE,
            },
        )
    };
    Ok((
        pair.0.to_str().map_err(invalid)?,
        pair.1.to_str().map_err(invalid)?,
    ))
}

/// Why a name or tag with an unpaired surrogate is refused.
const NOT_UNICODE: &str = "must be valid Unicode (it holds an unpaired surrogate)";

/// The `str` argument `arg` (its content is the engine's to check).
#[inline]
pub(crate) fn text<'a>(arg: &str, value: &'a Bound<'_, PyAny>) -> PyResult<&'a str> {
    match value.cast::<PyString>() {
        Ok(text) => text.to_str(),
        Err(_) => Err(wrong_type(value.py(), arg, "a str", value)),
    }
}

/// A metric name. One that is not valid Unicode (an unpaired surrogate, as
/// `surrogateescape`-decoded bytes hold) is an invalid name.
#[inline]
pub(crate) fn name<'a>(value: &'a Bound<'_, PyAny>) -> PyResult<&'a str> {
    text("name", value).map_err(|err| {
        if !err.is_instance_of::<pyo3::exceptions::PyUnicodeEncodeError>(value.py()) {
            return err;
        }
        let shown = value
            .str()
            .map(|s| s.to_string_lossy().chars().take(64).collect());
        let name = shown.unwrap_or_default();
        to_py(
            value.py(),
            PerfError::InvalidName {
                name,
                reason: NOT_UNICODE,
            },
        )
    })
}

/// A measurement: any real number (`float`, `int`, or with `__float__`).
#[inline]
pub(crate) fn real(arg: &str, value: &Bound<'_, PyAny>) -> PyResult<f64> {
    value
        .extract::<f64>()
        .map_err(|_| wrong_type(value.py(), arg, "a real number", value))
}

/// A non-negative integer.
pub(crate) fn count(arg: &str, value: &Bound<'_, PyAny>) -> PyResult<u64> {
    let py = value.py();
    if value.is_instance_of::<pyo3::types::PyBool>()
        || !value.is_instance_of::<pyo3::types::PyInt>()
    {
        return Err(wrong_type(py, arg, "an int", value));
    }
    value
        .extract::<u64>()
        .map_err(|_| invalid_argument(py, arg, format!("must be within [0, 2**64), got {value}")))
}

/// A duration: seconds as a non-negative real number, or a
/// `datetime.timedelta`.
pub(crate) fn duration(arg: &str, value: &Bound<'_, PyAny>) -> PyResult<Duration> {
    let py = value.py();
    let seconds = if is_timedelta(value)? {
        value.call_method0("total_seconds")?.extract::<f64>()?
    } else if value.is_instance_of::<pyo3::types::PyBool>() {
        return Err(wrong_type(
            py,
            arg,
            "seconds (a real number) or a timedelta",
            value,
        ));
    } else {
        value
            .extract::<f64>()
            .map_err(|_| wrong_type(py, arg, "seconds (a real number) or a timedelta", value))?
    };
    Duration::try_from_secs_f64(seconds).map_err(|_| {
        invalid_argument(
            py,
            arg,
            format!("must be a finite, non-negative number of seconds, got {seconds}"),
        )
    })
}

/// An optional duration (`None` passes through).
pub(crate) fn opt_duration(
    arg: &str,
    value: Option<&Bound<'_, PyAny>>,
) -> PyResult<Option<Duration>> {
    value
        .filter(|v| !v.is_none())
        .map(|v| duration(arg, v))
        .transpose()
}

/// Whether `value` is a `datetime.timedelta`.
fn is_timedelta(value: &Bound<'_, PyAny>) -> PyResult<bool> {
    static TIMEDELTA: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let py = value.py();
    let class = TIMEDELTA.get_or_try_init(py, || {
        Ok::<_, PyErr>(py.import("datetime")?.getattr("timedelta")?.unbind())
    })?;
    value.is_instance(class.bind(py))
}

/// A timestamp as seconds (a float, like `time.time()`; Unix time with the
/// system clock, time since the start with a `ManualClock`).
pub(crate) fn seconds(t: Timestamp) -> f64 {
    t.as_nanos() as f64 / 1e9
}

/// A timestamp from seconds.
pub(crate) fn timestamp(arg: &str, value: &Bound<'_, PyAny>) -> PyResult<Timestamp> {
    let d = duration(arg, value)?;
    let nanos = u64::try_from(d.as_nanos())
        .map_err(|_| invalid_argument(value.py(), arg, "is too far in the future"))?;
    Ok(Timestamp::from_nanos(nanos))
}

/// A series' tags as a dict.
pub(crate) fn tags_dict<'py>(py: Python<'py>, key: &SeriesKey) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    for (k, v) in key.tags() {
        dict.set_item(k, v)?;
    }
    Ok(dict)
}

/// A JSON document given as `str` or as a Python object (a dict), which
/// `perf_core._config.dumps` turns into JSON (durations given as seconds
/// or timedeltas become duration strings; `for_` becomes `for`).
pub(crate) fn document(arg: &str, value: &Bound<'_, PyAny>) -> PyResult<String> {
    if let Ok(text) = value.cast::<PyString>() {
        return Ok(text.to_str()?.to_owned());
    }
    let py = value.py();
    if value.cast::<PyMapping>().is_err() {
        return Err(wrong_type(py, arg, "a JSON str or a dict", value));
    }
    config_module(py)?
        .call_method1("dumps", (value,))?
        .extract::<String>()
}

/// Parses JSON text into Python objects with the `json` module.
pub(crate) fn json_loads<'py>(py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyAny>> {
    static LOADS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let loads = LOADS.get_or_try_init(py, || {
        Ok::<_, PyErr>(py.import("json")?.getattr("loads")?.unbind())
    })?;
    loads.bind(py).call1((text,))
}

/// `perf_core._config`, the pure-Python normalizer of documents.
fn config_module(py: Python<'_>) -> PyResult<&Bound<'_, PyModule>> {
    static CONFIG: PyOnceLock<Py<PyModule>> = PyOnceLock::new();
    CONFIG
        .get_or_try_init(py, || {
            Ok::<_, PyErr>(py.import("perf_core._config")?.unbind())
        })
        .map(|m| m.bind(py))
}
