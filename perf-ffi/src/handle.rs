//! Typed handles: each opaque C type (`perf_monitor`, `perf_histogram`, ...)
//! is tied by [`Handle`] to the Rust value a pointer to it really points to
//! and to how that value is owned, so [`handle`], [`into_handle`] and
//! [`free_handle`] can only be called with a matching pairing (a
//! `perf_gauge` pointer cannot be freed as a `Monitor`, nor a borrowed
//! handle freed at all).
//!
//! The C types are zero-sized markers that are never instantiated: a
//! `*mut perf_monitor` given to C is really a `*mut Monitor` made by
//! `Box::into_raw`. cbindgen declares them as opaque structs.

use crate::error::FfiError;

/// How the value behind a handle is owned, and so how it is made and freed.
/// Every handle of the C API is [`Boxed`] today; a handle shared with the
/// library (an `Arc`) would be another implementation, with its own
/// `into_raw` and `free`.
pub(crate) trait Ownership: private::Sealed {
    /// Moves `value` to the heap: the raw pointer C keeps.
    fn into_raw<T>(value: T) -> *mut T;

    /// Frees what [`Ownership::into_raw`] made.
    ///
    /// # Safety
    /// `ptr` came from `into_raw::<T>` of this ownership and is not used
    /// again.
    unsafe fn free<T>(ptr: *mut T);
}

/// The handle owns its value in a `Box`: created by one function, freed
/// once by its `_free`.
pub(crate) struct Boxed;

impl Ownership for Boxed {
    fn into_raw<T>(value: T) -> *mut T {
        Box::into_raw(Box::new(value))
    }

    unsafe fn free<T>(ptr: *mut T) {
        // SAFETY: the caller guarantees `ptr` came from `Box::into_raw`
        // (`Boxed::into_raw`) and is freed only once.
        drop(unsafe { Box::from_raw(ptr) });
    }
}

mod private {
    /// Only this module's ownership kinds exist.
    pub trait Sealed {}
    impl Sealed for super::Boxed {}
}

/// An opaque C handle type: what its pointers point to and how it is owned.
/// A type has one implementation, so one ownership.
pub(crate) trait Handle {
    /// The Rust value behind the pointer.
    type Rust;
    /// How that value is owned.
    type Ownership: Ownership;
}

/// The handle argument `what` as its Rust value.
/// Errors: `PERF_ERR_NULL_POINTER` if `ptr` is NULL.
///
/// # Safety
/// `ptr` is NULL or a live handle of type `H` (made by [`into_handle`] and
/// not freed) that outlives `'a`, not used mutably meanwhile.
pub(crate) unsafe fn handle<'a, H: Handle>(
    ptr: *const H,
    what: &'static str,
) -> Result<&'a H::Rust, FfiError> {
    // SAFETY: by the contract, a non-NULL `ptr` points to a live `H::Rust`
    // (the handle type is only a name for it).
    unsafe { ptr.cast::<H::Rust>().as_ref() }.ok_or_else(|| FfiError::null(what))
}

/// The handle argument `what` as its Rust value, for changing it.
/// Errors: `PERF_ERR_NULL_POINTER` if `ptr` is NULL.
///
/// # Safety
/// As [`handle`], and nothing else uses the handle meanwhile.
pub(crate) unsafe fn handle_mut<'a, H: Handle>(
    ptr: *mut H,
    what: &'static str,
) -> Result<&'a mut H::Rust, FfiError> {
    // SAFETY: as in `handle`; the caller guarantees exclusive use.
    unsafe { ptr.cast::<H::Rust>().as_mut() }.ok_or_else(|| FfiError::null(what))
}

/// A new handle of type `H` for `value`, owned by the caller and freed with
/// [`free_handle`].
pub(crate) fn into_handle<H: Handle>(value: H::Rust) -> *mut H {
    H::Ownership::into_raw(value).cast()
}

/// Frees a handle made by [`into_handle`]; NULL does nothing.
///
/// # Safety
/// `ptr` is NULL or was returned by [`into_handle`] for this `H` and is not
/// used again.
pub(crate) unsafe fn free_handle<H: Handle>(ptr: *mut H) {
    if !ptr.is_null() {
        // SAFETY: by the contract `ptr` came from `into_handle::<H>`, that is
        // from `H::Ownership::into_raw::<H::Rust>`, and is freed once.
        unsafe { H::Ownership::free(ptr.cast::<H::Rust>()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    static DROPS: AtomicUsize = AtomicUsize::new(0);

    struct Counted(u32);

    impl Drop for Counted {
        fn drop(&mut self) {
            DROPS.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[allow(non_camel_case_types)]
    struct test_handle {
        _opaque: [u8; 0],
    }

    impl Handle for test_handle {
        type Rust = Counted;
        type Ownership = Boxed;
    }

    #[test]
    fn a_handle_round_trips_and_is_freed_once() {
        let ptr: *mut test_handle = into_handle(Counted(7));
        // SAFETY: every pointer passed is NULL or points to a live value of this test.
        assert_eq!(unsafe { handle(ptr, "h") }.unwrap().0, 7);
        // SAFETY: every pointer passed is NULL or points to a live value of this test.
        unsafe { handle_mut(ptr, "h") }.unwrap().0 = 8;
        // SAFETY: every pointer passed is NULL or points to a live value of this test.
        assert_eq!(unsafe { handle(ptr, "h") }.unwrap().0, 8);
        let before = DROPS.load(Ordering::SeqCst);
        // SAFETY: made by this test, freed once and not used after.
        unsafe { free_handle(ptr) };
        assert_eq!(DROPS.load(Ordering::SeqCst), before + 1);
        // SAFETY: made by this test, freed once and not used after.
        unsafe { free_handle(std::ptr::null_mut::<test_handle>()) };
    }

    #[test]
    fn null_handles_are_errors() {
        // SAFETY: every pointer passed is NULL or points to a live value of this test.
        let err = unsafe { handle(std::ptr::null::<test_handle>(), "monitor") }.err();
        assert_eq!(err.unwrap().message, "monitor is NULL");
        // SAFETY: every pointer passed is NULL or points to a live value of this test.
        let err = unsafe { handle_mut(std::ptr::null_mut::<test_handle>(), "b") }.err();
        assert_eq!(err.unwrap().message, "b is NULL");
    }
}
