//! Vectorcall entry points for the two hot calls that take tags as keyword
//! arguments: `Monitor.record` and `Monitor.timer`.
//!
//! PyO3 implements a method with `**kwargs` in the tuple-and-dict calling
//! convention: every call packs its arguments into a new tuple and a new
//! dict. These two take CPython's `METH_FASTCALL | METH_KEYWORDS` layout
//! instead (positional arguments, then keyword values, in one array, with
//! the keyword names in a tuple the caller's code object owns), so a call
//! with tags allocates nothing. [`install`] puts them on the `Monitor`
//! type; the work itself is [`PyMonitor::record_with`] and
//! [`PyMonitor::timer_with`], shared with nothing else.

use std::ffi::{c_char, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

use pyo3::ffi;
use pyo3::panic::PanicException;
use pyo3::prelude::*;
use pyo3::types::{PyTuple, PyType};

use crate::convert::Tags;
use crate::errors::{new_err, Class};
use crate::monitor::PyMonitor;

/// The arguments of one vectorcall.
struct Args<'a, 'py> {
    /// Positional arguments (after `self`).
    positional: &'a [*mut ffi::PyObject],
    /// Keyword argument values, in the order of `names`.
    values: &'a [*mut ffi::PyObject],
    /// Keyword argument names (`str`), or `None` without keywords.
    names: Option<Borrowed<'a, 'py, PyTuple>>,
    py: Python<'py>,
}

impl<'a, 'py> Args<'a, 'py> {
    /// # Safety
    /// The arguments of a `METH_FASTCALL | METH_KEYWORDS` call: `args`
    /// holds `nargs` positional arguments followed by one value per name
    /// of `kwnames` (a tuple, or null).
    unsafe fn new(
        py: Python<'py>,
        args: *const *mut ffi::PyObject,
        nargs: ffi::Py_ssize_t,
        kwnames: *mut ffi::PyObject,
    ) -> Self {
        // SAFETY: CPython passes a tuple of str (or null) as kwnames.
        let names = unsafe { Borrowed::from_ptr_or_opt(py, kwnames) }
            // SAFETY: as above, a non-null kwnames is a tuple.
            .map(|names| unsafe { names.cast_unchecked::<PyTuple>() });
        let positional = usize::try_from(nargs).unwrap_or(0);
        let total = positional + names.map_or(0, |n| n.len());
        let all: &[*mut ffi::PyObject] = if total == 0 || args.is_null() {
            &[]
        } else {
            // SAFETY: the caller lays out `total` arguments at `args`.
            unsafe { std::slice::from_raw_parts(args, total) }
        };
        Args {
            positional: &all[..positional],
            values: &all[positional..],
            names,
            py,
        }
    }

    /// Positional argument `i`, which [`Args::expect`] has checked is
    /// there (None otherwise).
    fn required(&self, i: usize) -> Bound<'py, PyAny> {
        self.arg(i)
            .unwrap_or_else(|| self.py.None().into_bound(self.py))
    }

    /// Positional argument `i`, if given.
    fn arg(&self, i: usize) -> Option<Bound<'py, PyAny>> {
        self.positional
            .get(i)
            // SAFETY: the argument array holds live references for the call.
            .map(|&p| unsafe { Bound::from_borrowed_ptr(self.py, p) })
    }

    /// Checks the number of positional arguments: `min..=max`.
    fn expect(&self, method: &str, min: usize, max: usize, names: &str) -> PyResult<()> {
        let n = self.positional.len();
        if (min..=max).contains(&n) {
            return Ok(());
        }
        let message =
            format!("{method}() takes {min} to {max} positional arguments ({names}), got {n}");
        Err(new_err(self.py, Class::ArgumentType, message))
    }

    /// The tags: the positional mapping at `index` (if given) and the
    /// keyword arguments.
    fn tags(&self, index: usize) -> PyResult<Tags<'py>> {
        let mapping = self.arg(index);
        let mut tags = Tags::from_mapping(mapping.as_ref())?;
        if let Some(names) = self.names {
            for (name, &value) in names.iter().zip(self.values) {
                // SAFETY: the argument array holds live references for the call.
                let value = unsafe { Bound::from_borrowed_ptr(self.py, value) };
                tags.push(&name, &value)?;
            }
        }
        Ok(tags)
    }
}

/// Runs `body` as the body of a C-level method: an error is set as the
/// Python exception and a panic becomes a `PanicException`, never
/// unwinding into the interpreter.
fn trampoline(
    body: impl for<'py> FnOnce(Python<'py>) -> PyResult<*mut ffi::PyObject>,
) -> *mut ffi::PyObject {
    // SAFETY: CPython calls methods with the thread attached.
    let py = unsafe { Python::assume_attached() };
    match catch_unwind(AssertUnwindSafe(|| body(py))) {
        Ok(Ok(object)) => object,
        Ok(Err(err)) => {
            err.restore(py);
            ptr::null_mut()
        }
        Err(_) => {
            PanicException::new_err("perf_core panicked; please report it").restore(py);
            ptr::null_mut()
        }
    }
}

/// The monitor a method was called on.
fn monitor<'a, 'py>(
    py: Python<'py>,
    slf: *mut ffi::PyObject,
) -> PyResult<Borrowed<'a, 'py, PyMonitor>> {
    // SAFETY: the method descriptor passes its instance as `slf`.
    let slf = unsafe { Borrowed::from_ptr(py, slf) };
    slf.cast::<PyMonitor>().map_err(PyErr::from)
}

/// `Monitor.record(name, value, tags=None, /, **kwargs)`.
unsafe extern "C" fn record(
    slf: *mut ffi::PyObject,
    args: *const *mut ffi::PyObject,
    nargs: ffi::Py_ssize_t,
    kwnames: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    trampoline(|py| {
        // SAFETY: called by CPython with the METH_FASTCALL | METH_KEYWORDS layout.
        let args = unsafe { Args::new(py, args, nargs, kwnames) };
        args.expect("record", 2, 3, "name, value, tags")?;
        let tags = args.tags(2)?;
        let monitor = monitor(py, slf)?;
        monitor
            .get()
            .record_with(py, &args.required(0), &args.required(1), &tags)?;
        Ok(py.None().into_ptr())
    })
}

/// `Monitor.timer(name, tags=None, /, **kwargs)`.
unsafe extern "C" fn timer(
    slf: *mut ffi::PyObject,
    args: *const *mut ffi::PyObject,
    nargs: ffi::Py_ssize_t,
    kwnames: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    trampoline(|py| {
        // SAFETY: called by CPython with the METH_FASTCALL | METH_KEYWORDS layout.
        let args = unsafe { Args::new(py, args, nargs, kwnames) };
        args.expect("timer", 1, 2, "name, tags")?;
        let tags = args.tags(1)?;
        let timer = monitor(py, slf)?
            .get()
            .timer_with(py, &args.required(0), &tags)?;
        Ok(Bound::new(py, timer)?.into_ptr())
    })
}

/// One method: its name, its C function and its docstring, which starts
/// with the text signature (`inspect.signature` and stubtest read it).
const METHODS: [(&CStr, ffi::PyCFunctionFastWithKeywords, &CStr); 2] = [
    (
        c"record",
        record,
        c"record($self, name, value, tags=None, /, **kwargs)\n--\n\n\
          Records `value` into the histogram `name{tags}` (a lookup per call;\n\
          keep a handle from `histogram()` on hot paths).",
    ),
    (
        c"timer",
        timer,
        c"timer($self, name, tags=None, /, **kwargs)\n--\n\n\
          A context manager timing its block into the histogram `name{tags}`\n\
          (milliseconds, on the monitor's clock).",
    ),
];

/// Installs the vectorcall methods on the `Monitor` type.
pub(crate) fn install(monitor_type: &Bound<'_, PyType>) -> PyResult<()> {
    let py = monitor_type.py();
    for (name, function, doc) in METHODS {
        // The definition must outlive the type: leaked once per module
        // initialization (two small structs).
        let def: &'static mut ffi::PyMethodDef = Box::leak(Box::new(ffi::PyMethodDef {
            ml_name: name.as_ptr(),
            ml_meth: ffi::PyMethodDefPointer {
                PyCFunctionFastWithKeywords: function,
            },
            ml_flags: ffi::METH_FASTCALL | ffi::METH_KEYWORDS,
            ml_doc: doc.as_ptr() as *const c_char,
        }));
        // SAFETY: a valid type and a 'static method definition.
        let descriptor = unsafe {
            Bound::from_owned_ptr_or_err(
                py,
                ffi::PyDescr_NewMethod(monitor_type.as_type_ptr(), def),
            )?
        };
        monitor_type.setattr(name.to_string_lossy().as_ref(), descriptor)?;
    }
    Ok(())
}
