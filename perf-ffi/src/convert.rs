//! Arguments from C and results to C: strings, tag arrays,
//! out-pointers, owned strings and durations. Each conversion checks for
//! NULL and invalid UTF-8 and names the argument in its error.

use std::ffi::{c_char, CStr, CString};
use std::fmt::Display;
use std::ptr::NonNull;
use std::time::Duration;

use perf_core::Tag;
use smallvec::SmallVec;

use crate::error::FfiError;

/// One tag of a series: `key` and `value`, both NUL-terminated UTF-8.
///
/// Series are identified by a metric name plus a set of tags (order does
/// not matter); functions take them as an array `const perf_tag *tags` and
/// its length `size_t tags_len` (`tags` may be NULL when `tags_len` is 0).
/// The strings are only read during the call.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Clone, Copy, Debug)]
pub struct perf_tag {
    /// The tag key, `[A-Za-z_][A-Za-z0-9_]*`, 1-100 bytes.
    pub key: *const c_char,
    /// The tag value, 1-256 bytes of UTF-8 without control characters.
    pub value: *const c_char,
}

/// The NUL-terminated UTF-8 string argument `what` (formatted only for an
/// error, so `format_args!` costs nothing on success).
///
/// # Safety
/// `ptr` is NULL or points to a NUL-terminated string that outlives `'a`.
pub(crate) unsafe fn str_arg<'a>(
    ptr: *const c_char,
    what: impl Display,
) -> Result<&'a str, FfiError> {
    if ptr.is_null() {
        return Err(FfiError::null(what));
    }
    // SAFETY: non-NULL, so a NUL-terminated string that outlives `'a` (the
    // contract).
    unsafe { CStr::from_ptr(ptr) }
        .to_str()
        .map_err(|e| FfiError::utf8(what, e))
}

/// Inline capacity of [`Tags`]: most series have a few tags.
const INLINE_TAGS: usize = 4;

/// Tags converted from C: on the stack up to [`INLINE_TAGS`], so the
/// one-shot calls allocate nothing for typical series.
pub(crate) type Tags<'a> = SmallVec<[Tag<'a>; INLINE_TAGS]>;

/// The array `ptr[0..len]`: empty if `len` is 0 (`ptr` may then be NULL).
/// Errors: `PERF_ERR_NULL_POINTER` if `ptr` is NULL with `len > 0`.
///
/// # Safety
/// `ptr` is NULL or points to `len` initialized values that outlive `'a`.
pub(crate) unsafe fn slice_arg<'a, T>(
    ptr: *const T,
    len: usize,
    what: &str,
) -> Result<&'a [T], FfiError> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(FfiError::null(format_args!("{what} (with {what}_len > 0)")));
    }
    // SAFETY: non-NULL with `len > 0`, so `len` initialized values that
    // outlive `'a` (the contract).
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// The tag array `tags[0..len]` as perf-core tags.
///
/// # Safety
/// `tags` is NULL or points to `len` tags whose strings outlive `'a`.
pub(crate) unsafe fn tags_arg<'a>(tags: *const perf_tag, len: usize) -> Result<Tags<'a>, FfiError> {
    // SAFETY: `tags` is NULL or `len` tags that outlive `'a` (the contract).
    let tags = unsafe { slice_arg(tags, len, "tags") }?;
    let mut out = Tags::with_capacity(tags.len());
    for (i, tag) in tags.iter().enumerate() {
        // SAFETY: each tag's strings are NULL or NUL-terminated and outlive
        // `'a` (the contract).
        let (key, value) = unsafe {
            (
                str_arg(tag.key, format_args!("tags[{i}].key"))?,
                str_arg(tag.value, format_args!("tags[{i}].value"))?,
            )
        };
        out.push((key, value));
    }
    Ok(out)
}

/// A series argument: the metric name and its tags.
///
/// # Safety
/// As [`str_arg`] and [`tags_arg`].
pub(crate) unsafe fn series_arg<'a>(
    name: *const c_char,
    tags: *const perf_tag,
    tags_len: usize,
) -> Result<(&'a str, Tags<'a>), FfiError> {
    // SAFETY: as this function's contract, which is theirs.
    unsafe { Ok((str_arg(name, "name")?, tags_arg(tags, tags_len)?)) }
}

/// An out-pointer the result is written through. Check every out-pointer
/// before doing anything, so a NULL one fails the call without effects.
pub(crate) struct Out<T>(Option<NonNull<T>>);

impl<T> Out<T> {
    /// A required out-pointer: NULL is an error naming `what`.
    pub(crate) fn required(ptr: *mut T, what: &'static str) -> Result<Out<T>, FfiError> {
        NonNull::new(ptr)
            .map(|p| Out(Some(p)))
            .ok_or_else(|| FfiError::null(what))
    }

    /// An optional out-pointer: NULL means the caller does not want it.
    pub(crate) fn optional(ptr: *mut T) -> Out<T> {
        Out(NonNull::new(ptr))
    }

    /// Writes `value` (without reading or dropping what was there).
    ///
    /// # Safety
    /// The pointer is valid for a write of `T`.
    pub(crate) unsafe fn write(self, value: T) {
        if let Some(ptr) = self.0 {
            // SAFETY: non-NULL and valid for a write of `T` (the contract).
            unsafe { ptr.as_ptr().write(value) };
        }
    }
}

/// A Rust string as a C string owned by the caller (`perf_string_free`).
/// NUL bytes, which perf-core's outputs never contain, would be escaped.
pub(crate) fn owned_string(text: String) -> *mut c_char {
    c_string(text).into_raw()
}

/// A Rust string as a `CString`, with any NUL byte written `\0`.
pub(crate) fn c_string(text: impl Into<String>) -> CString {
    let text = text.into();
    CString::new(text).unwrap_or_else(|e| {
        let escaped = String::from_utf8_lossy(&e.into_vec()).replace('\0', "\\0");
        CString::new(escaped).expect("NUL bytes were escaped")
    })
}

/// Frees a string returned by an owned-string [`Out`]; NULL does nothing.
///
/// # Safety
/// `ptr` is NULL or came from [`owned_string`] and is not used again.
pub(crate) unsafe fn free_string(ptr: *mut c_char) {
    if !ptr.is_null() {
        // SAFETY: made by `CString::into_raw` in `owned_string`, freed once
        // (the contract).
        drop(unsafe { CString::from_raw(ptr) });
    }
}

/// A duration given in milliseconds.
pub(crate) fn millis(ms: u64) -> Duration {
    Duration::from_millis(ms)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::perf_status;

    #[test]
    fn strings() {
        let s = c"api.latency";
        assert_eq!(
            // SAFETY: every pointer passed is NULL or points to a live value of this test.
            unsafe { str_arg(s.as_ptr(), "name") }.unwrap(),
            "api.latency"
        );
        // SAFETY: every pointer passed is NULL or points to a live value of this test.
        let err = unsafe { str_arg(std::ptr::null(), "name") }.unwrap_err();
        assert_eq!(
            (err.status, err.message.as_str()),
            (perf_status::PERF_ERR_NULL_POINTER, "name is NULL")
        );
        let bad = b"caf\xe9\0";
        // SAFETY: every pointer passed is NULL or points to a live value of this test.
        let err = unsafe { str_arg(bad.as_ptr().cast(), "name") }.unwrap_err();
        assert_eq!(err.status, perf_status::PERF_ERR_INVALID_UTF8);
        assert!(
            err.message.starts_with("name is not valid UTF-8"),
            "{}",
            err.message
        );
    }

    #[test]
    fn tags() {
        let tags = [
            perf_tag {
                key: c"route".as_ptr(),
                value: c"/users".as_ptr(),
            },
            perf_tag {
                key: c"method".as_ptr(),
                value: std::ptr::null(),
            },
        ];
        assert_eq!(
            // SAFETY: every pointer passed is NULL or points to a live value of this test.
            unsafe { tags_arg(tags.as_ptr(), 1) }.unwrap().as_slice(),
            [("route", "/users")]
        );
        // SAFETY: every pointer passed is NULL or points to a live value of this test.
        let err = unsafe { tags_arg(tags.as_ptr(), 2) }.unwrap_err();
        assert_eq!(err.message, "tags[1].value is NULL");
        // SAFETY: every pointer passed is NULL or points to a live value of this test.
        assert!(unsafe { tags_arg(std::ptr::null(), 0) }.unwrap().is_empty());
        // SAFETY: every pointer passed is NULL or points to a live value of this test.
        let err = unsafe { tags_arg(std::ptr::null(), 1) }.unwrap_err();
        assert_eq!(err.status, perf_status::PERF_ERR_NULL_POINTER);
    }

    #[test]
    fn owned_strings_round_trip_and_escape_nul() {
        let ptr = owned_string("a\0b".into());
        // SAFETY: the library returns NUL-terminated strings that live at least until the next call on this thread.
        assert_eq!(unsafe { CStr::from_ptr(ptr) }.to_str().unwrap(), "a\\0b");
        // SAFETY: made by this test, freed once and not used after.
        unsafe { free_string(ptr) };
        // SAFETY: made by this test, freed once and not used after.
        unsafe { free_string(std::ptr::null_mut()) };
    }

    #[test]
    fn out_pointers() {
        let mut x = 0_u64;
        let out = Out::required(&mut x, "out").unwrap();
        // SAFETY: every pointer passed is NULL or points to a live value of this test.
        unsafe { out.write(5) };
        assert_eq!(x, 5);
        assert!(Out::<u64>::required(std::ptr::null_mut(), "out").is_err());
        // SAFETY: every pointer passed is NULL or points to a live value of this test.
        unsafe { Out::<u64>::optional(std::ptr::null_mut()).write(1) };
    }
}
