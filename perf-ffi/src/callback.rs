//! What C callbacks need on the Rust side: the `void *user_data` carried to
//! the thread that calls them.

use std::ffi::c_void;

/// The `user_data` pointer a C callback was registered with, handed back
/// to it unchanged on every call.
#[derive(Clone, Copy)]
pub(crate) struct UserData(pub(crate) *mut c_void);

// SAFETY: the library never dereferences the pointer; it only passes it
// back to the C callback, possibly from another thread (the background
// evaluator's). The C API documents that whatever `user_data` points to
// must then be safe to use from that thread.
unsafe impl Send for UserData {}
// SAFETY: as for `Send`: the pointer is only copied, never dereferenced.
unsafe impl Sync for UserData {}
