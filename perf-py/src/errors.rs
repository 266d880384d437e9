//! The one error-conversion module of the binding: the exception hierarchy
//! rooted at `perf_core.PerfError`, and the mapping of every
//! [`perf_core::PerfError`] variant (and of the binding's own argument
//! checks) onto it.
//!
//! Every exception of a core error carries the core's error code as
//! `code` (`"invalid_rule"`, `"duplicate_rule"`: several codes share a
//! class). Invalid arguments raise classes that are also `ValueError` or
//! `TypeError`; lookups of things that do not exist are also `LookupError`;
//! I/O failures are also `OSError`. Messages name the offending argument.

use perf_core::{ErrorCode, PerfError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyTuple, PyType};

/// Every exception class of `perf_core`; the discriminant indexes [`SPECS`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Class {
    Perf,
    InvalidArgument,
    ArgumentType,
    InvalidName,
    InvalidTag,
    InvalidValue,
    InvalidWindow,
    InvalidRule,
    InvalidConfig,
    InvalidBaseline,
    KindMismatch,
    UnknownSeries,
    UnknownAlert,
    TooManyMetrics,
    WindowsDisabled,
    Io,
}

/// A base of an exception class: another `perf_core` class or a builtin.
enum Base {
    Own(Class),
    Builtin(&'static str),
}

/// (class, name, bases, docstring), parents before children.
const SPECS: [(Class, &str, &[Base], &str); 16] = [
    (Class::Perf, "PerfError", &[Base::Builtin("Exception")],
     "Root of every exception perf_core raises."),
    (Class::InvalidArgument, "InvalidArgumentError",
     &[Base::Own(Class::Perf), Base::Builtin("ValueError")],
     "An argument has the right type but a value perf_core cannot use."),
    (Class::ArgumentType, "ArgumentTypeError",
     &[Base::Own(Class::Perf), Base::Builtin("TypeError")],
     "An argument has the wrong type."),
    (Class::InvalidName, "InvalidNameError", &[Base::Own(Class::InvalidArgument)],
     "A metric name breaks the naming rules."),
    (Class::InvalidTag, "InvalidTagError", &[Base::Own(Class::InvalidArgument)],
     "A tag key or value breaks the tag rules."),
    (Class::InvalidValue, "InvalidValueError", &[Base::Own(Class::InvalidArgument)],
     "A value is NaN, infinite, negative (histograms) or too large, or a percentile is outside [0, 100]."),
    (Class::InvalidWindow, "InvalidWindowError", &[Base::Own(Class::InvalidArgument)],
     "A sliding window is zero or longer than the retention."),
    (Class::InvalidRule, "InvalidRuleError", &[Base::Own(Class::InvalidArgument)],
     "A rule, budget or rules document is malformed, or a rule name is taken."),
    (Class::InvalidConfig, "InvalidConfigError", &[Base::Own(Class::InvalidArgument)],
     "A monitor option, emergency configuration or comparison policy is out of range."),
    (Class::InvalidBaseline, "InvalidBaselineError", &[Base::Own(Class::InvalidArgument)],
     "A baseline file or document is unreadable, corrupt or of an unknown version."),
    (Class::KindMismatch, "KindMismatchError", &[Base::Own(Class::ArgumentType)],
     "A metric name is already used by a metric of another kind."),
    (Class::UnknownSeries, "UnknownSeriesError",
     &[Base::Own(Class::Perf), Base::Builtin("LookupError")],
     "No series with this name and tags exists."),
    (Class::UnknownAlert, "UnknownAlertError",
     &[Base::Own(Class::Perf), Base::Builtin("LookupError")],
     "No active alert has this id."),
    (Class::TooManyMetrics, "TooManyMetricsError", &[Base::Own(Class::Perf)],
     "The number of metric names reached the monitor's limit."),
    (Class::WindowsDisabled, "WindowsDisabledError", &[Base::Own(Class::Perf)],
     "Sliding windows are disabled for this monitor."),
    (Class::Io, "PerfIOError", &[Base::Own(Class::Perf), Base::Builtin("OSError")],
     "A file could not be read or written."),
];

/// The classes, created once per interpreter by [`register`].
static CLASSES: PyOnceLock<Vec<Py<PyType>>> = PyOnceLock::new();

/// Creates the exception classes and adds them to `module`.
pub(crate) fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = module.py();
    let classes = CLASSES.get_or_try_init(py, || create_classes(py))?;
    for ((_, name, _, _), class) in SPECS.iter().zip(classes) {
        module.add(*name, class.bind(py))?;
    }
    Ok(())
}

/// Builds every class with `type(name, bases, namespace)`: PyO3's
/// `create_exception!` takes one base, and these need two.
fn create_classes(py: Python<'_>) -> PyResult<Vec<Py<PyType>>> {
    let builtins = py.import("builtins")?;
    let type_ = builtins.getattr("type")?;
    let mut classes: Vec<Py<PyType>> = Vec::with_capacity(SPECS.len());
    for (kind, name, bases, doc) in SPECS {
        debug_assert_eq!(kind as usize, classes.len());
        let bases: Vec<Bound<'_, PyAny>> = bases
            .iter()
            .map(|base| match base {
                Base::Own(parent) => Ok(classes[*parent as usize].bind(py).clone().into_any()),
                Base::Builtin(name) => builtins.getattr(*name),
            })
            .collect::<PyResult<_>>()?;
        let namespace = PyDict::new(py);
        namespace.set_item("__module__", "perf_core")?;
        namespace.set_item("__doc__", doc)?;
        if kind == Class::Perf {
            // The core's error code (`ErrorCode::as_str`) of an error the
            // core raised; None for the binding's own argument checks.
            namespace.set_item("code", py.None())?;
        }
        let class = type_.call1((name, PyTuple::new(py, bases)?, namespace))?;
        classes.push(class.cast_into::<PyType>()?.unbind());
    }
    Ok(classes)
}

/// An exception of class `kind` with `message`.
pub(crate) fn new_err(py: Python<'_>, kind: Class, message: String) -> PyErr {
    match CLASSES.get(py) {
        Some(classes) => PyErr::from_type(classes[kind as usize].bind(py).clone(), message),
        None => pyo3::exceptions::PyRuntimeError::new_err(message),
    }
}

/// `InvalidArgumentError("{arg}: {reason}")`.
pub(crate) fn invalid_argument(py: Python<'_>, arg: &str, reason: impl std::fmt::Display) -> PyErr {
    new_err(py, Class::InvalidArgument, format!("{arg}: {reason}"))
}

/// `ArgumentTypeError("{arg} must be {expected}, got {type}")`.
pub(crate) fn wrong_type(
    py: Python<'_>,
    arg: &str,
    expected: &str,
    got: &Bound<'_, PyAny>,
) -> PyErr {
    let type_name = got
        .get_type()
        .name()
        .map_or_else(|_| "?".to_owned(), |n| n.to_string());
    new_err(
        py,
        Class::ArgumentType,
        format!("{arg} must be {expected}, got {type_name}"),
    )
}

/// The class a core error maps to. Exhaustive over [`ErrorCode`]: a new
/// kind of error does not compile until it has its class here.
fn kind_of(err: &PerfError) -> Class {
    match err.code() {
        ErrorCode::InvalidName => Class::InvalidName,
        ErrorCode::InvalidTag => Class::InvalidTag,
        ErrorCode::InvalidValue | ErrorCode::InvalidPercentile | ErrorCode::InvalidHdr => {
            Class::InvalidValue
        }
        ErrorCode::InvalidWindow => Class::InvalidWindow,
        ErrorCode::WindowsDisabled => Class::WindowsDisabled,
        ErrorCode::KindMismatch => Class::KindMismatch,
        ErrorCode::UnknownSeries => Class::UnknownSeries,
        ErrorCode::UnknownAlert => Class::UnknownAlert,
        ErrorCode::TooManyMetrics => Class::TooManyMetrics,
        ErrorCode::InvalidRule | ErrorCode::InvalidRulesJson | ErrorCode::DuplicateRule => {
            Class::InvalidRule
        }
        ErrorCode::InvalidEmergency | ErrorCode::InvalidComparison | ErrorCode::InvalidConfig => {
            Class::InvalidConfig
        }
        ErrorCode::InvalidBaseline => Class::InvalidBaseline,
        ErrorCode::Io => Class::Io,
    }
}

/// Converts a core error.
pub(crate) fn to_py(py: Python<'_>, err: PerfError) -> PyErr {
    with_code(py, &err, err.to_string())
}

/// Converts a core error caused by the argument `arg`, naming it.
pub(crate) fn for_arg(py: Python<'_>, arg: &str, err: PerfError) -> PyErr {
    with_code(py, &err, format!("{arg}: {err}"))
}

/// The exception of the core error `err`, with `message` and the core's
/// error code as its `code` attribute.
fn with_code(py: Python<'_>, err: &PerfError, message: String) -> PyErr {
    let exception = new_err(py, kind_of(err), message);
    match exception.value(py).setattr("code", err.code().as_str()) {
        Ok(()) => exception,
        Err(failed) => failed,
    }
}

/// Converts a core error of a call taking a value as `arg`: errors about
/// the value name it ([`for_arg`]), others (a bad name or tag) do not.
pub(crate) fn for_value(py: Python<'_>, arg: &str, err: PerfError) -> PyErr {
    match err {
        PerfError::InvalidValue { .. } | PerfError::InvalidHdr { .. } => for_arg(py, arg, err),
        other => to_py(py, other),
    }
}

/// `Result<T, PerfError>` → `PyResult<T>`.
pub(crate) trait IntoPyResult<T> {
    /// Converts the error with [`to_py`].
    fn py_err(self, py: Python<'_>) -> PyResult<T>;
    /// Converts the error with [`for_arg`].
    fn arg_err(self, py: Python<'_>, arg: &str) -> PyResult<T>;
}

impl<T> IntoPyResult<T> for Result<T, PerfError> {
    #[inline]
    fn py_err(self, py: Python<'_>) -> PyResult<T> {
        self.map_err(|err| to_py(py, err))
    }

    #[inline]
    fn arg_err(self, py: Python<'_>, arg: &str) -> PyResult<T> {
        self.map_err(|err| for_arg(py, arg, err))
    }
}
