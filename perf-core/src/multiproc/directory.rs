//! The shared directory of a process group: file names, the lock that
//! marks a process alive, atomic publishing and the listing readers use.
//!
//! ```text
//! p{pid}-{instance}.lock   held (flock, exclusive) for the life of a process
//! p{pid}-{instance}.state  that process's latest published state
//! archive.state            the state of compacted dead processes
//! compact.lock             held while one process compacts
//! leader.lock              held by the group's leader
//! .tmp-p{pid}-{instance}-n a state file being written
//! ```
//!
//! `instance` is 16 hex digits, random per process start, so a reused pid
//! never names an earlier process's files. A process is alive exactly while
//! its lock file is locked: the kernel drops an `flock` when the last
//! descriptor of its open file goes away, so even `kill -9` frees it, and
//! liveness never depends on pids. A lock file is created under a temporary
//! name, locked, then renamed into place, so no reader ever sees the lock
//! file of a live process unlocked.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use crate::error::{PerfError, Result};

/// The archive's file name.
pub(crate) const ARCHIVE: &str = "archive.state";
const COMPACT_LOCK: &str = "compact.lock";
const LEADER_LOCK: &str = "leader.lock";

/// Which process wrote a file: its pid and instance id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Instance {
    pub(crate) pid: u32,
    pub(crate) id: u64,
}

impl Instance {
    /// A fresh identity for this process.
    pub(crate) fn new() -> Instance {
        Instance {
            pid: std::process::id(),
            id: random_id(),
        }
    }

    fn stem(&self) -> String {
        format!("p{}-{:016x}", self.pid, self.id)
    }

    /// Parses `p{pid}-{id}` followed by `suffix`.
    fn parse(name: &str, suffix: &str) -> Option<Instance> {
        let stem = name.strip_prefix('p')?.strip_suffix(suffix)?;
        let (pid, id) = stem.split_once('-')?;
        (id.len() == 16).then_some(())?;
        Some(Instance {
            pid: pid.parse().ok()?,
            id: u64::from_str_radix(id, 16).ok()?,
        })
    }
}

/// 64 random bits: std's randomly seeded hasher over the time, the pid and
/// a counter (unique enough to tell process starts apart; not a secret).
fn random_id() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    static CALLS: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.write_u32(std::process::id());
    h.write_u64(CALLS.fetch_add(1, Relaxed));
    h.finish()
}

/// What a listing found.
#[derive(Debug, Default)]
pub(crate) struct Listing {
    /// State files of processes, by instance.
    pub(crate) states: Vec<Instance>,
    /// Lock files, by instance.
    pub(crate) locks: Vec<Instance>,
    /// Temporary files, with the instance that was writing them.
    pub(crate) temps: Vec<(String, Option<Instance>)>,
}

/// A shared directory.
#[derive(Clone, Debug)]
pub(crate) struct Directory {
    path: PathBuf,
}

impl Directory {
    /// Creates the directory if needed and checks that it is writable.
    pub(crate) fn open(path: &Path) -> Result<Directory> {
        fs::create_dir_all(path).map_err(|e| io_error(path, e))?;
        let dir = Directory { path: path.into() };
        let probe = dir.path.join(format!(".tmp-probe-{:016x}", random_id()));
        File::create(&probe)
            .and_then(|_| fs::remove_file(&probe))
            .map_err(|e| io_error(path, e))?;
        Ok(dir)
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn state_path(&self, instance: Instance) -> PathBuf {
        self.path.join(format!("{}.state", instance.stem()))
    }

    fn lock_path(&self, instance: Instance) -> PathBuf {
        self.path.join(format!("{}.lock", instance.stem()))
    }

    pub(crate) fn archive_path(&self) -> PathBuf {
        self.path.join(ARCHIVE)
    }

    /// Creates and locks `instance`'s lock file: the process is alive from
    /// here until the returned file (and every copy of its descriptor)
    /// is closed.
    pub(crate) fn claim(&self, instance: Instance) -> Result<File> {
        let temp = self.path.join(format!(".tmp-{}-lock", instance.stem()));
        let path = self.lock_path(instance);
        let claimed = (|| {
            let file = File::create(&temp)?;
            try_lock(&file, true)?.then_some(()).ok_or_else(|| {
                io::Error::new(io::ErrorKind::WouldBlock, "a new lock file is locked")
            })?;
            fs::rename(&temp, &path)?;
            Ok(file)
        })();
        claimed.map_err(|e| {
            let _ = fs::remove_file(&temp);
            io_error(&path, e)
        })
    }

    /// Whether `instance` is alive: its lock file exists and is locked.
    pub(crate) fn is_alive(&self, instance: Instance) -> bool {
        match File::open(self.lock_path(instance)) {
            // Locked by its owner: our shared lock is refused.
            Ok(file) => !matches!(try_lock(&file, false), Ok(true)),
            Err(e) => e.kind() != io::ErrorKind::NotFound,
        }
    }

    /// Publishes `bytes` as `instance`'s state: written to a temporary
    /// file and renamed over the old one, so a reader sees the old or the
    /// new file whole. Not synced: the directory holds live state, which
    /// does not outlive the processes (a `tmpfs` such as `/dev/shm` suits).
    pub(crate) fn publish(&self, instance: Instance, bytes: &[u8]) -> Result<()> {
        self.replace(&self.state_path(instance), &instance.stem(), bytes)
    }

    /// Replaces the archive (as [`Self::publish`]).
    pub(crate) fn write_archive(&self, writer: Instance, bytes: &[u8]) -> Result<()> {
        self.replace(&self.archive_path(), &writer.stem(), bytes)
    }

    fn replace(&self, path: &Path, stem: &str, bytes: &[u8]) -> Result<()> {
        static WRITES: AtomicU64 = AtomicU64::new(0);
        let n = WRITES.fetch_add(1, Relaxed);
        let temp = self.path.join(format!(".tmp-{stem}-{n}"));
        let written = (|| {
            let mut file = File::create(&temp)?;
            file.write_all(bytes)?;
            fs::rename(&temp, path)
        })();
        written.map_err(|e| {
            let _ = fs::remove_file(&temp);
            io_error(path, e)
        })
    }

    /// Reads `instance`'s state file; `Ok(None)` if there is none.
    pub(crate) fn read_state(&self, instance: Instance) -> io::Result<Option<(Vec<u8>, Stamp)>> {
        read(&self.state_path(instance))
    }

    /// Reads the archive; `Ok(None)` if there is none.
    pub(crate) fn read_archive(&self) -> io::Result<Option<(Vec<u8>, Stamp)>> {
        read(&self.archive_path())
    }

    /// Moves an unreadable archive aside (`archive.state.bad-N`) so that a
    /// new one can be started without destroying the evidence.
    pub(crate) fn set_archive_aside(&self) {
        let aside = self
            .path
            .join(format!("{ARCHIVE}.bad-{:016x}", random_id()));
        let _ = fs::rename(self.archive_path(), aside);
    }

    /// Lists the directory's state, lock and temporary files.
    pub(crate) fn list(&self) -> Result<Listing> {
        let entries = fs::read_dir(&self.path).map_err(|e| io_error(&self.path, e))?;
        let mut listing = Listing::default();
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if let Some(instance) = Instance::parse(name, ".state") {
                listing.states.push(instance);
            } else if let Some(instance) = Instance::parse(name, ".lock") {
                listing.locks.push(instance);
            } else if let Some(rest) = name.strip_prefix(".tmp-") {
                let writer = rest
                    .rsplit_once('-')
                    .and_then(|(stem, _)| Instance::parse(stem, ""));
                listing.temps.push((name.to_owned(), writer));
            }
        }
        Ok(listing)
    }

    /// Removes a dead instance's files (state first, then its lock).
    pub(crate) fn remove_instance(&self, instance: Instance) {
        let _ = fs::remove_file(self.state_path(instance));
        let _ = fs::remove_file(self.lock_path(instance));
    }

    pub(crate) fn remove_temp(&self, name: &str) {
        let _ = fs::remove_file(self.path.join(name));
    }

    /// Takes the compaction lock if no other process holds it.
    pub(crate) fn try_compaction_lock(&self) -> Option<File> {
        self.try_named_lock(COMPACT_LOCK)
    }

    /// Takes the leader lock if no other process holds it.
    pub(crate) fn try_leader_lock(&self) -> Option<File> {
        self.try_named_lock(LEADER_LOCK)
    }

    /// Waits for the exclusive lock on the file `name` (created if
    /// needed), opened for this one use: dropping the file frees it.
    pub(crate) fn lock_named(&self, name: &str) -> Result<File> {
        let path = self.path.join(name);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| io_error(&path, e))?;
        lock(&file).map_err(|e| io_error(&path, e))?;
        Ok(file)
    }

    /// Replaces the file `name` whole (as [`Self::publish`]).
    pub(crate) fn replace_named(&self, name: &str, bytes: &[u8]) -> Result<()> {
        let stem = format!("{name}-{:016x}", random_id());
        self.replace(&self.path.join(name), &stem, bytes)
    }

    fn try_named_lock(&self, name: &str) -> Option<File> {
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.path.join(name))
            .ok()?;
        matches!(try_lock(&file, true), Ok(true)).then_some(file)
    }
}

/// The bytes at the start of a file that a [`Stamp`] holds: a state
/// file's header, which names its writer, the writer's publish count and
/// the time of the write (see `format`).
const STAMP_HEAD: usize = super::format::HEADER_LEN;

/// What identifies one version of a file. Inode, size and modification
/// time alone do not: a replaced file's inode number is soon reused, and
/// the modification time has the kernel's clock tick as its resolution, so
/// two versions written within one tick can agree on all three. The first
/// [`STAMP_HEAD`] bytes tell them apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Stamp {
    inode: u64,
    len: u64,
    modified: i64,
    modified_nanos: i64,
    head: [u8; STAMP_HEAD],
}

impl Stamp {
    fn of(meta: &fs::Metadata, first_bytes: &[u8]) -> Stamp {
        let mut head = [0; STAMP_HEAD];
        let n = first_bytes.len().min(STAMP_HEAD);
        head[..n].copy_from_slice(&first_bytes[..n]);
        Stamp {
            head,
            ..Stamp::of_metadata(meta)
        }
    }

    #[cfg(unix)]
    fn of_metadata(meta: &fs::Metadata) -> Stamp {
        use std::os::unix::fs::MetadataExt;
        Stamp {
            inode: meta.ino(),
            len: meta.len(),
            modified: meta.mtime(),
            modified_nanos: meta.mtime_nsec(),
            head: [0; STAMP_HEAD],
        }
    }

    #[cfg(not(unix))]
    fn of_metadata(meta: &fs::Metadata) -> Stamp {
        let modified = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .unwrap_or_default();
        Stamp {
            inode: 0,
            len: meta.len(),
            modified: modified.as_secs() as i64,
            modified_nanos: i64::from(modified.subsec_nanos()),
            head: [0; STAMP_HEAD],
        }
    }
}

/// The stamp of the file at `path`, reading only its first bytes;
/// `Ok(None)` if there is none.
pub(crate) fn stamp(path: &Path) -> io::Result<Option<Stamp>> {
    use std::io::Read;
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let meta = file.metadata()?;
    let mut head = Vec::with_capacity(STAMP_HEAD);
    file.take(STAMP_HEAD as u64).read_to_end(&mut head)?;
    Ok(Some(Stamp::of(&meta, &head)))
}

/// Reads a whole file with its stamp (taken from the open file, so the two
/// agree even if the name is replaced meanwhile); `Ok(None)` if missing.
pub(crate) fn read(path: &Path) -> io::Result<Option<(Vec<u8>, Stamp)>> {
    use std::io::Read;
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let meta = file.metadata()?;
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.read_to_end(&mut bytes)?;
    let stamp = Stamp::of(&meta, &bytes);
    Ok(Some((bytes, stamp)))
}

/// Tries an `flock` (exclusive or shared) without waiting: `Ok(true)` if
/// taken, `Ok(false)` if another open file holds a conflicting lock.
#[cfg(unix)]
fn try_lock(file: &File, exclusive: bool) -> io::Result<bool> {
    use std::os::unix::io::AsRawFd;
    let op = if exclusive {
        libc::LOCK_EX
    } else {
        libc::LOCK_SH
    };
    // SAFETY: flock on a descriptor this `File` owns.
    if unsafe { libc::flock(file.as_raw_fd(), op | libc::LOCK_NB) } == 0 {
        return Ok(true);
    }
    let err = io::Error::last_os_error();
    if err.kind() == io::ErrorKind::WouldBlock {
        Ok(false)
    } else {
        Err(err)
    }
}

/// Waits for an exclusive `flock` (retrying when a signal interrupts).
#[cfg(unix)]
fn lock(file: &File) -> io::Result<()> {
    use std::os::unix::io::AsRawFd;
    loop {
        // SAFETY: flock on a descriptor this `File` owns.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } == 0 {
            return Ok(());
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

#[cfg(not(unix))]
fn lock(_file: &File) -> io::Result<()> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "multi-process mode needs flock (Unix)",
    ))
}

#[cfg(not(unix))]
fn try_lock(_file: &File, _exclusive: bool) -> io::Result<bool> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "multi-process mode needs flock (Unix)",
    ))
}

pub(crate) fn io_error(path: &Path, e: io::Error) -> PerfError {
    PerfError::Io {
        path: path.display().to_string(),
        reason: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_tell_apart_versions_with_the_same_inode_size_and_time() {
        let dir = std::env::temp_dir().join(format!("perf-core-stamp-{}", random_id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("p1-0000000000000001.state");
        let time = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000);
        let write = |bytes: &[u8]| {
            let mut file = OpenOptions::new()
                .create(true)
                .write(true)
                .truncate(false)
                .open(&path)
                .unwrap();
            file.write_all(bytes).unwrap();
            file.set_modified(time).unwrap();
        };
        write(&[1u8; 64]);
        let first = stamp(&path).unwrap().unwrap();
        // Rewritten in place: same inode, same size, same modification time.
        write(&[2u8; 64]);
        let second = stamp(&path).unwrap().unwrap();
        assert_ne!(first, second);
        let (bytes, read_stamp) = read(&path).unwrap().unwrap();
        assert_eq!((bytes.len(), read_stamp), (64, second));
        fs::remove_dir_all(&dir).unwrap();
    }
}
