//! Growable public structs. Every struct a caller fills for the library
//! (`perf_monitor_options`, `perf_policy`) or the library fills for a
//! caller (`perf_stats`, `perf_multiprocess_status`) starts with a
//! `size_t struct_size` the caller sets to `sizeof` the struct as its header
//! declares it. New fields are only ever added at the end, so a program
//! built against an older header passes a smaller size, and the library
//! reads or writes just that prefix:
//!
//! * reading ([`read_sized`]): the fields past the caller's size are zero,
//!   which every such struct reads as "the default"; fields past the
//!   library's own size (a newer header) are ignored;
//! * writing ([`SizedOut`]): only the bytes the caller's size covers, past
//!   `struct_size` itself (which stays as the caller set it).
//!
//! A size below the first version's is `PERF_ERR_INVALID_ARGUMENT` (and
//! nothing is written).

use std::mem::{size_of, MaybeUninit};
use std::ptr::{self, NonNull};

use crate::error::FfiError;

/// A `#[repr(C)]` struct whose first field is `struct_size: usize`.
///
/// # Safety
/// Implementors are `#[repr(C)]`, start with a `usize` field, and are valid
/// when all bytes are zero and when any prefix of them is copied from a C
/// struct of the same declaration over zeros (plain numbers, `bool`s,
/// nullable pointers and `Option`s of function pointers only).
pub(crate) unsafe trait Growable: Copy {
    /// The size of the struct's first version: the smallest `struct_size`
    /// accepted.
    const MIN_SIZE: usize;
}

/// The byte offset of the first field after `struct_size`.
const PAST_SIZE: usize = size_of::<usize>();

/// The caller's `struct_size` read from `ptr`, checked against `T`'s first
/// version, and capped at `T`'s own size: how many bytes to read or write.
///
/// # Safety
/// `ptr` is non-NULL and its first `size_t` is readable.
unsafe fn covered<T: Growable>(ptr: *const T, what: &str) -> Result<usize, FfiError> {
    // SAFETY: by the contract the leading `size_t` is readable; unaligned
    // in case the caller's struct sits in a packed buffer.
    let size = unsafe { ptr.cast::<usize>().read_unaligned() };
    if size < T::MIN_SIZE {
        return Err(FfiError::invalid_argument(format!(
            "{what}->struct_size is {size}, less than the {} bytes of its first version \
             (set it to sizeof the struct, e.g. with its _INIT macro)",
            T::MIN_SIZE
        )));
    }
    Ok(size.min(size_of::<T>()))
}

/// Reads the caller's struct at `ptr`: the prefix its `struct_size` covers,
/// zeros (the defaults) past it.
/// Errors: `PERF_ERR_NULL_POINTER`, `PERF_ERR_INVALID_ARGUMENT` (a size
/// below the first version's).
///
/// # Safety
/// `ptr` is NULL or points to a struct whose first `struct_size` bytes are
/// readable and hold the fields of `T`'s declaration.
pub(crate) unsafe fn read_sized<T: Growable>(ptr: *const T, what: &str) -> Result<T, FfiError> {
    if ptr.is_null() {
        return Err(FfiError::null(what));
    }
    // SAFETY: `ptr` is non-NULL and, by the contract, readable for its size.
    let len = unsafe { covered(ptr, what)? };
    let mut value = MaybeUninit::<T>::zeroed();
    // SAFETY: `len` bytes are readable at `ptr` (the caller's size covers
    // them) and writable in `value` (`len <= size_of::<T>()`); the regions
    // are distinct. Zeros past them and the caller's prefix make a valid `T`
    // (`Growable`'s contract).
    unsafe {
        ptr::copy_nonoverlapping(ptr.cast::<u8>(), value.as_mut_ptr().cast::<u8>(), len);
        Ok(value.assume_init())
    }
}

/// A required out-pointer to a growable struct the library fills: checked
/// (non-NULL, a valid `struct_size`) when made, written later.
pub(crate) struct SizedOut<T> {
    ptr: NonNull<T>,
    len: usize,
}

impl<T: Growable> SizedOut<T> {
    /// Checks the out-pointer `what` before anything else happens.
    /// Errors: `PERF_ERR_NULL_POINTER`, `PERF_ERR_INVALID_ARGUMENT`.
    ///
    /// # Safety
    /// `ptr` is NULL or points to a struct whose `struct_size` is set and
    /// whose first `struct_size` bytes are writable.
    pub(crate) unsafe fn required(ptr: *mut T, what: &str) -> Result<SizedOut<T>, FfiError> {
        let ptr = NonNull::new(ptr).ok_or_else(|| FfiError::null(what))?;
        // SAFETY: non-NULL, and its leading `size_t` is set (the contract).
        let len = unsafe { covered(ptr.as_ptr(), what)? };
        Ok(SizedOut { ptr, len })
    }

    /// Writes the fields of `value` that the caller's size covers, leaving
    /// `struct_size` and every byte past the size untouched.
    ///
    /// # Safety
    /// The struct checked by [`SizedOut::required`] is still writable.
    pub(crate) unsafe fn write(self, value: T) {
        let from = ptr::from_ref(&value).cast::<u8>();
        let to = self.ptr.as_ptr().cast::<u8>();
        // SAFETY: `PAST_SIZE <= MIN_SIZE <= len <= size_of::<T>()`, so both
        // ranges are in bounds: `value` is a `T`, and the caller's struct
        // has `len` writable bytes (`required`'s contract).
        unsafe {
            ptr::copy_nonoverlapping(from.add(PAST_SIZE), to.add(PAST_SIZE), self.len - PAST_SIZE)
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::perf_status;

    /// The first version of a growable struct.
    #[repr(C)]
    #[derive(Clone, Copy, Debug, PartialEq)]
    struct V1 {
        struct_size: usize,
        a: u64,
    }

    /// Its second version, as a newer library sees it.
    #[repr(C)]
    #[derive(Clone, Copy, Debug, PartialEq)]
    struct V2 {
        struct_size: usize,
        a: u64,
        b: u64,
    }

    // SAFETY: `repr(C)`, a leading `usize`, plain integers only.
    unsafe impl Growable for V2 {
        const MIN_SIZE: usize = size_of::<V1>();
    }

    /// A V1 struct followed by guard bytes, as an old program lays it out.
    #[repr(C)]
    struct Guarded {
        old: V1,
        guard: [u8; 16],
    }

    fn guarded(a: u64) -> Guarded {
        let struct_size = size_of::<V1>();
        Guarded {
            old: V1 { struct_size, a },
            guard: [0xAB; 16],
        }
    }

    #[test]
    fn an_old_struct_is_read_with_defaults_past_its_size() {
        let old = guarded(7);
        // SAFETY: every pointer passed is NULL or points to a live value of this test.
        let read = unsafe { read_sized(ptr::from_ref(&old).cast::<V2>(), "options") }.unwrap();
        assert_eq!((read.a, read.b), (7, 0));
    }

    #[test]
    fn only_an_old_structs_prefix_is_written() {
        let mut old = guarded(0);
        // SAFETY: every pointer passed is NULL or points to a live value of this test.
        let out = unsafe { SizedOut::required(ptr::from_mut(&mut old).cast::<V2>(), "out") };
        let value = V2 {
            struct_size: 999,
            a: 5,
            b: 6,
        };
        // SAFETY: every pointer passed is NULL or points to a live value of this test.
        unsafe { out.unwrap().write(value) };
        assert_eq!(
            old.old,
            V1 {
                struct_size: size_of::<V1>(),
                a: 5
            }
        );
        assert_eq!(
            old.guard, [0xAB; 16],
            "bytes past struct_size are untouched"
        );
    }

    #[test]
    fn a_newer_struct_is_read_and_written_up_to_this_librarys_size() {
        #[repr(C)]
        struct V3 {
            v2: V2,
            c: u64,
        }
        let size = size_of::<V3>();
        let mut newer = V3 {
            v2: V2 {
                struct_size: size,
                a: 1,
                b: 2,
            },
            c: 3,
        };
        // SAFETY: every pointer passed is NULL or points to a live value of this test.
        let read = unsafe { read_sized(ptr::from_ref(&newer).cast::<V2>(), "o") }.unwrap();
        assert_eq!((read.a, read.b), (1, 2));
        // SAFETY: every pointer passed is NULL or points to a live value of this test.
        let out = unsafe { SizedOut::required(ptr::from_mut(&mut newer).cast::<V2>(), "o") };
        // SAFETY: every pointer passed is NULL or points to a live value of this test.
        unsafe {
            out.unwrap().write(V2 {
                struct_size: 0,
                a: 8,
                b: 9,
            })
        };
        assert_eq!(
            (newer.v2.struct_size, newer.v2.a, newer.v2.b, newer.c),
            (size, 8, 9, 3)
        );
    }

    #[test]
    fn a_size_below_the_first_version_is_refused_and_nothing_is_written() {
        let mut old = guarded(4);
        old.old.struct_size = size_of::<V1>() - 1;
        let p = ptr::from_mut(&mut old).cast::<V2>();
        // SAFETY: every pointer passed is NULL or points to a live value of this test.
        let err = unsafe { read_sized(p, "options") }.unwrap_err();
        assert_eq!(err.status, perf_status::PERF_ERR_INVALID_ARGUMENT);
        assert!(
            err.message.starts_with("options->struct_size is 15,"),
            "{}",
            err.message
        );
        // SAFETY: every pointer passed is NULL or points to a live value of this test.
        assert!(unsafe { SizedOut::required(p, "out") }.is_err());
        assert_eq!((old.old.a, old.guard), (4, [0xAB; 16]));
        // SAFETY: every pointer passed is NULL or points to a live value of this test.
        let err = unsafe { read_sized(ptr::null::<V2>(), "options") }.unwrap_err();
        assert_eq!(err.status, perf_status::PERF_ERR_NULL_POINTER);
    }
}
