//! What a group shares besides its series: the emergency word, read by
//! every process from one page of shared memory, and small documents that
//! every process reads and that writers replace under a lock (the
//! emergency state, the leader's alerts).
//!
//! ```text
//! group.page       8 bytes of magic, then the emergency word (mmap, shared)
//! emergency.json   the group's emergency state machine and its history
//! emergency.lock   held (flock) while a process changes emergency.json
//! alerts.json      the leader's active alerts and alert history
//! ack-{id}         an acknowledgement for the leader to apply
//! ```
//!
//! # Invariants
//!
//! * The page is mapped `MAP_SHARED` from a file in the directory, so every
//!   process of the group — and a child after `fork()` — reads and writes
//!   the same word. It is only ever accessed atomically.
//! * A document is replaced whole (rename), so a reader without the lock
//!   sees an old or a new version, never a torn one.
//! * A document lock is taken on a descriptor opened for that one change
//!   and closed at its end, inside a background step (see
//!   [`crate::lifecycle`]): a fork never copies a held lock into a child.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use super::directory::{self, io_error, Directory};
use crate::error::{PerfError, Result};
use crate::lifecycle;

const PAGE: &str = "group.page";
const PAGE_LEN: usize = 64;
/// `PERFGRP` and the layout version.
const PAGE_MAGIC: u64 = u64::from_le_bytes(*b"PERFGRP\x01");
const EMERGENCY: &str = "emergency.json";
const EMERGENCY_LOCK: &str = "emergency.lock";
const ALERTS: &str = "alerts.json";
const ACK_PREFIX: &str = "ack-";

/// The group's page of shared memory.
///
/// Layout: bytes 0–7 the magic (written once, by the first process), bytes
/// 8–11 the emergency word (0 off, 1 on); the rest is reserved as zeros.
pub(crate) struct SharedPage {
    base: NonNull<u8>,
}

// SAFETY: the mapping lives as long as the value and is only accessed
// through atomics.
unsafe impl Send for SharedPage {}
// SAFETY: as for `Send`: shared access goes through atomics only.
unsafe impl Sync for SharedPage {}

impl SharedPage {
    /// Maps the directory's page, creating it if needed. Errors if the
    /// file holds something else.
    #[cfg(unix)]
    fn open(dir: &Path) -> Result<SharedPage> {
        use std::os::unix::io::AsRawFd;
        let path = dir.join(PAGE);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| io_error(&path, e))?;
        // Growing to the page's size zero-fills; a concurrent grow to the
        // same size changes nothing.
        let len = file.metadata().map_err(|e| io_error(&path, e))?.len();
        if len < PAGE_LEN as u64 {
            file.set_len(PAGE_LEN as u64)
                .map_err(|e| io_error(&path, e))?;
        }
        // SAFETY: a fresh shared read-write mapping of PAGE_LEN bytes of a
        // file at least that long; checked for failure below.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                PAGE_LEN,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                file.as_raw_fd(),
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(io_error(&path, io::Error::last_os_error()));
        }
        let page = SharedPage {
            base: NonNull::new(base.cast()).expect("mmap returns non-null on success"),
        };
        let magic = page.magic();
        let found = match magic.compare_exchange(0, PAGE_MAGIC, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => PAGE_MAGIC,
            Err(found) => found,
        };
        if found != PAGE_MAGIC {
            return Err(PerfError::Io {
                path: path.display().to_string(),
                reason: format!("not a perf-core group page (magic {found:#018x})"),
            });
        }
        Ok(page)
    }

    #[cfg(not(unix))]
    fn open(dir: &Path) -> Result<SharedPage> {
        Err(io_error(
            &dir.join(PAGE),
            io::Error::new(
                io::ErrorKind::Unsupported,
                "multi-process mode needs mmap (Unix)",
            ),
        ))
    }

    fn magic(&self) -> &AtomicU64 {
        // SAFETY: offset 0 of a live, page-aligned mapping of PAGE_LEN
        // bytes, only accessed atomically.
        unsafe { &*self.base.as_ptr().cast::<AtomicU64>() }
    }

    /// The emergency word: 0 off, 1 on.
    pub(crate) fn emergency_word(&self) -> &AtomicU32 {
        // SAFETY: offset 8 of a live, page-aligned mapping of PAGE_LEN
        // bytes, only accessed atomically.
        unsafe { &*self.base.as_ptr().add(8).cast::<AtomicU32>() }
    }
}

impl Drop for SharedPage {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `open`, unmapped once.
        #[cfg(unix)]
        unsafe {
            libc::munmap(self.base.as_ptr().cast(), PAGE_LEN);
        }
    }
}

/// The group's shared emergency mode: the word every process reads, and
/// the state document transitions rewrite under the lock.
pub(crate) struct SharedEmergency {
    page: SharedPage,
    dir: Directory,
}

impl SharedEmergency {
    /// The emergency word of the group whose directory is `dir`.
    pub(crate) fn open(dir: &Directory) -> Result<SharedEmergency> {
        Ok(SharedEmergency {
            page: SharedPage::open(dir.path())?,
            dir: dir.clone(),
        })
    }

    /// The word: 0 off, 1 on.
    #[inline]
    pub(crate) fn word(&self) -> &AtomicU32 {
        self.page.emergency_word()
    }

    /// Runs `change` with the state document's current bytes (`None` if
    /// there is none yet or it cannot be read) while holding the lock;
    /// writes back the document it returns, then sets the word to whether
    /// the mode is on — both under the lock, so the word always follows
    /// the latest document, and a reader who sees the word sees its
    /// transition in the document.
    pub(crate) fn update<R>(
        &self,
        change: impl FnOnce(Option<Vec<u8>>) -> (Vec<u8>, bool, R),
    ) -> Result<R> {
        lifecycle::background_step(|| {
            let _lock = self.dir.lock_named(EMERGENCY_LOCK)?;
            let (bytes, on, out) = change(self.load());
            let written = self.dir.replace_named(EMERGENCY, &bytes);
            self.word().store(u32::from(on), Ordering::Release);
            written.map(|()| out)
        })
    }

    /// The state document's current bytes, read without the lock.
    pub(crate) fn load(&self) -> Option<Vec<u8>> {
        directory::read(&self.dir.path().join(EMERGENCY))
            .ok()
            .flatten()
            .map(|(bytes, _)| bytes)
    }
}

/// The leader's alerts document and the acknowledgements waiting for it.
pub(crate) struct SharedAlerts {
    dir: Directory,
}

impl SharedAlerts {
    pub(crate) fn new(dir: &Directory) -> SharedAlerts {
        SharedAlerts { dir: dir.clone() }
    }

    /// Replaces the alerts document (the leader, after each evaluation).
    pub(crate) fn publish(&self, bytes: &[u8]) -> Result<()> {
        self.dir.replace_named(ALERTS, bytes)
    }

    /// The alerts document, if the leader wrote one.
    pub(crate) fn load(&self) -> Option<Vec<u8>> {
        directory::read(&self.dir.path().join(ALERTS))
            .ok()
            .flatten()
            .map(|(bytes, _)| bytes)
    }

    /// Leaves an acknowledgement of alert `id` for the leader.
    pub(crate) fn request_ack(&self, id: u64) -> Result<()> {
        let path = self.dir.path().join(format!("{ACK_PREFIX}{id}"));
        File::create(&path)
            .map(drop)
            .map_err(|e| io_error(&path, e))
    }

    /// Takes the acknowledgements waiting (removing their files).
    pub(crate) fn take_acks(&self) -> Vec<u64> {
        let Ok(entries) = fs::read_dir(self.dir.path()) else {
            return Vec::new();
        };
        let mut ids = Vec::new();
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(id) = name.to_str().and_then(|n| n.strip_prefix(ACK_PREFIX)) else {
                continue;
            };
            let path: PathBuf = entry.path();
            if let (Ok(id), Ok(())) = (id.parse(), fs::remove_file(&path)) {
                ids.push(id);
            }
        }
        ids
    }
}
