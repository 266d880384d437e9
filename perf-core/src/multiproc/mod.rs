//! Multi-process mode: one view of every process of a group on a host.
//!
//! Each process of the group publishes its cumulative state — histograms,
//! counters, gauges — into its own file in a shared directory, at a publish
//! interval and on demand ([`crate::Monitor::publish`]). Readers merge
//! their own live state with every other process's latest file into a
//! *merged view*, a registry of its own whose sliding windows tick from the
//! merged cumulative state, so rules, windows and exports read the group as
//! one process. See `docs/multiprocess.md`.
//!
//! # Invariants
//!
//! * A process is alive exactly while its lock file is `flock`ed (see
//!   [`directory`]); pids are only labels.
//! * A file is replaced whole (rename), so readers never see a torn file;
//!   one that fails to decode is skipped and counted.
//! * Histograms and counters of a dead process stay in the merged state: its
//!   file is read until it has been compacted into the archive, and the
//!   archive lists the instances it holds, so a reader never counts one
//!   twice. A file that vanishes during a read means a compaction moved it:
//!   the read starts over. Merged counters therefore never go backwards.
//! * A compaction absorbs a dead instance at most once: one the archive
//!   already lists (its compactor died before deleting its files) only has
//!   its files deleted.
//! * Only live processes' gauges are merged.

mod directory;
mod format;
mod merge;
mod shared;

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use parking_lot::{Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::bucket::Precision;
use crate::clock::Clock;
use crate::error::{PerfError, Result};
use crate::registry::{Limits, Metric, Registry};
use crate::series::SeriesKey;

use directory::{Directory, Instance, Stamp};
use format::{Header, Role, SeriesState, StateFile};
use merge::{Merge, Source};

pub use merge::PID_TAG;
pub(crate) use shared::{SharedAlerts, SharedEmergency};

/// The environment variable that turns multi-process mode on: the shared
/// directory's path.
pub const MULTIPROC_DIR_ENV: &str = "PERF_CORE_MULTIPROC_DIR";
/// The default publish interval.
pub const DEFAULT_PUBLISH_INTERVAL: Duration = Duration::from_secs(1);
/// How many times a read starts over when a compaction moves a file under it.
const READ_ATTEMPTS: usize = 8;

/// How the gauges of a group's live processes combine in the merged view.
///
/// ```
/// use perf_core::{GaugeMode, Monitor};
/// let dir = std::env::temp_dir().join(format!("perf-core-doc-gauge-{}", std::process::id()));
/// let monitor = Monitor::builder()
///     .multiprocess_dir(&dir)
///     .gauge_mode("process_resident_bytes", GaugeMode::PerProcess)
///     .build()?;
/// monitor.gauge("in_flight", &[])?.set(3.0)?; // summed over the processes
/// assert_eq!(monitor.gauge("in_flight", &[])?.value(), 3.0);
/// # drop(monitor); std::fs::remove_dir_all(&dir).ok();
/// # Ok::<(), perf_core::PerfError>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum GaugeMode {
    /// The sum over live processes (the default): in-flight requests,
    /// queue depths, connections.
    #[default]
    Sum,
    /// The largest value of a live process.
    Max,
    /// The smallest value of a live process.
    Min,
    /// The value most recently changed, by publish time.
    Latest,
    /// One series per live process, told apart by a `pid` tag.
    PerProcess,
}

impl GaugeMode {
    pub(crate) fn code(self) -> u8 {
        match self {
            GaugeMode::Sum => 0,
            GaugeMode::Max => 1,
            GaugeMode::Min => 2,
            GaugeMode::Latest => 3,
            GaugeMode::PerProcess => 4,
        }
    }

    pub(crate) fn from_code(code: u8) -> Option<GaugeMode> {
        Some(match code {
            0 => GaugeMode::Sum,
            1 => GaugeMode::Max,
            2 => GaugeMode::Min,
            3 => GaugeMode::Latest,
            4 => GaugeMode::PerProcess,
            _ => return None,
        })
    }

    /// The mode's name as the rules JSON and the bindings spell it: `sum`,
    /// `max`, `min`, `latest`, `per_process`.
    pub fn as_str(self) -> &'static str {
        match self {
            GaugeMode::Sum => "sum",
            GaugeMode::Max => "max",
            GaugeMode::Min => "min",
            GaugeMode::Latest => "latest",
            GaugeMode::PerProcess => "per_process",
        }
    }
}

impl std::str::FromStr for GaugeMode {
    type Err = PerfError;

    /// Parses a name of [`GaugeMode::as_str`].
    fn from_str(s: &str) -> Result<GaugeMode> {
        [
            GaugeMode::Sum,
            GaugeMode::Max,
            GaugeMode::Min,
            GaugeMode::Latest,
            GaugeMode::PerProcess,
        ]
        .into_iter()
        .find(|mode| mode.as_str() == s)
        .ok_or_else(|| {
            PerfError::InvalidConfig(format!(
                "unknown gauge mode {:?}: expected sum, max, min, latest or per_process",
                s.chars().take(32).collect::<String>()
            ))
        })
    }
}

/// Multi-process settings, gathered by the monitor builder.
#[derive(Clone, Debug, Default)]
pub(crate) struct MultiprocessOptions {
    pub(crate) dir: Option<PathBuf>,
    pub(crate) publish_interval: Option<Duration>,
    pub(crate) default_gauge_mode: GaugeMode,
    pub(crate) gauge_modes: HashMap<String, GaugeMode>,
}

impl MultiprocessOptions {
    /// The directory: the one set on the builder, else the environment's.
    pub(crate) fn resolved_dir(&self) -> Option<PathBuf> {
        self.dir.clone().or_else(|| {
            std::env::var_os(MULTIPROC_DIR_ENV)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        })
    }

    pub(crate) fn publish_interval(&self) -> Duration {
        self.publish_interval.unwrap_or(DEFAULT_PUBLISH_INTERVAL)
    }

    fn gauge_mode(&self, name: &str) -> GaugeMode {
        self.gauge_modes
            .get(name)
            .copied()
            .unwrap_or(self.default_gauge_mode)
    }
}

/// What [`crate::Monitor::multiprocess`] reports about the group.
#[derive(Clone, Debug, PartialEq)]
pub struct MultiprocessStatus {
    /// The shared directory.
    pub dir: PathBuf,
    /// This process's pid, as its files name it.
    pub pid: u32,
    /// This process's instance id (random per process start).
    pub instance: u64,
    /// Processes whose files the last read merged, this one included.
    pub processes: usize,
    /// Of those, the live ones.
    pub live_processes: usize,
    /// Dead processes compacted into the archive by this process.
    pub archived: u64,
    /// Times this process published its state.
    pub publishes: u64,
    /// Publishes that failed (the previous file stays).
    pub publish_errors: u64,
    /// Distinct files skipped as truncated, corrupt or foreign.
    pub skipped_files: u64,
    /// Whether this process leads the group: it evaluates rules and
    /// emergency triggers for all of them and delivers the notifications.
    pub leader: bool,
    /// Series left out of the merged view: another kind or precision under
    /// the same name, or past the caps.
    pub dropped_series: u64,
    /// The latest reason a file was skipped or a publish failed.
    pub last_error: Option<String>,
}

/// Where a process stands in its group's leadership.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Lead {
    /// Another process leads.
    Follows,
    /// This process led already.
    Leads,
    /// This process has just taken the lead.
    TookOver,
}

/// This process's membership of the group.
struct Member {
    instance: Instance,
    /// Holds the lock that marks this process alive.
    _lock: File,
    publishes: u64,
    /// After a fork: the state the parent had recorded, which the parent
    /// publishes and this process leaves out of its own.
    inherited: HashMap<SeriesKey, SeriesState>,
}

/// A decoded file, kept while its stamp is unchanged.
struct Cached {
    stamp: Stamp,
    file: Arc<StateFile>,
}

/// What reads keep between them.
struct ReadState {
    cache: HashMap<PathBuf, Cached>,
    /// Files already counted as skipped, so a bad file counts once.
    bad: HashSet<(PathBuf, Stamp)>,
    /// Per gauge: the value last published and when it changed.
    gauge_changes: HashMap<SeriesKey, (f64, u64)>,
    processes: usize,
    live_processes: usize,
    /// The other processes' files as the last complete read found them:
    /// what a read that cannot complete merges instead, so that a merged
    /// counter never goes back.
    last_sources: Vec<(Arc<StateFile>, bool)>,
}

/// The group state of a monitor in multi-process mode.
pub(crate) struct Group {
    dir: Directory,
    options: MultiprocessOptions,
    precision: Precision,
    member: Mutex<Member>,
    reads: Mutex<ReadState>,
    /// The merged view. Refreshes rewrite it under the write lock.
    view: RwLock<Registry>,
    /// Until the first refresh: its state is not filed in the windows.
    first_read: AtomicBool,
    /// The leader lock, while this process leads the group.
    leader: Mutex<Option<File>>,
    /// In a forked child: the state inherited from the parent, captured by
    /// the fork handler until [`Self::rejoin`] takes it.
    forked: Mutex<Option<HashMap<SeriesKey, SeriesState>>>,
    /// The group's emergency word and state document.
    emergency: Arc<SharedEmergency>,
    /// The leader's alerts document and acknowledgements for it.
    alerts: SharedAlerts,
    archived: AtomicU64,
    publish_errors: AtomicU64,
    skipped_files: AtomicU64,
    dropped_series: AtomicU64,
    last_error: Mutex<Option<String>>,
}

impl Group {
    /// Joins the group whose directory is `dir` (created if needed).
    pub(crate) fn join(
        dir: &Path,
        options: MultiprocessOptions,
        limits: Limits,
        precision: Precision,
        clock: Arc<dyn Clock>,
    ) -> Result<Group> {
        let dir = Directory::open(dir)?;
        let instance = Instance::new();
        let lock = dir.claim(instance)?;
        let emergency = Arc::new(SharedEmergency::open(&dir)?);
        let alerts = SharedAlerts::new(&dir);
        Ok(Group {
            emergency,
            alerts,
            dir,
            options,
            precision,
            member: Mutex::new(Member {
                instance,
                _lock: lock,
                publishes: 0,
                inherited: HashMap::new(),
            }),
            reads: Mutex::new(ReadState {
                cache: HashMap::new(),
                bad: HashSet::new(),
                gauge_changes: HashMap::new(),
                processes: 0,
                live_processes: 0,
                last_sources: Vec::new(),
            }),
            view: RwLock::new(Registry::new(limits, precision, clock)),
            first_read: AtomicBool::new(true),
            leader: Mutex::new(None),
            forked: Mutex::new(None),
            archived: AtomicU64::new(0),
            publish_errors: AtomicU64::new(0),
            skipped_files: AtomicU64::new(0),
            dropped_series: AtomicU64::new(0),
            last_error: Mutex::new(None),
        })
    }

    /// Joins the group again as a new process: for a monitor copied into a
    /// child by `fork()`. The child's copy of the parent's lock is closed
    /// (the parent keeps its own), and everything recorded so far is
    /// remembered as inherited, to be left out of this process's state.
    pub(crate) fn rejoin(&self, local: &Registry) -> Result<()> {
        let instance = Instance::new();
        let lock = self.dir.claim(instance)?;
        // Captured at the fork by the fork handler; if it did not run,
        // everything so far counts as inherited.
        let captured = self.forked.lock().take();
        let inherited = captured.unwrap_or_else(|| current_state(local).into_iter().collect());
        // The parent's leadership is the parent's: closing this copy of its
        // descriptor leaves the parent's lock in place.
        *self.leader.lock() = None;
        let mut member = self.member.lock();
        *member = Member {
            instance,
            _lock: lock,
            publishes: 0,
            inherited,
        };
        Ok(())
    }

    /// Whether this process leads the group — the one process that
    /// evaluates rules and emergency triggers over the merged view and
    /// delivers their notifications — taking the lead if no process holds
    /// it. The kernel frees the lock of a leader that exits or is killed,
    /// so the next process to ask takes over.
    pub(crate) fn lead(&self) -> Lead {
        let mut leader = self.leader.lock();
        if leader.is_some() {
            return Lead::Leads;
        }
        *leader = self.dir.try_leader_lock();
        match *leader {
            Some(_) => Lead::TookOver,
            None => Lead::Follows,
        }
    }

    /// The group's emergency mode, for this process's
    /// [`crate::Emergency`].
    pub(crate) fn emergency(&self) -> Arc<SharedEmergency> {
        self.emergency.clone()
    }

    /// The leader's alerts document.
    pub(crate) fn alerts(&self) -> &SharedAlerts {
        &self.alerts
    }

    /// Whether this process leads the group, without trying to.
    pub(crate) fn is_leader(&self) -> bool {
        self.leader.lock().is_some()
    }

    pub(crate) fn publish_interval(&self) -> Duration {
        self.options.publish_interval()
    }

    /// Writes this process's state to its file.
    pub(crate) fn publish(&self, local: &Registry) -> Result<()> {
        let series = self.local_state(local);
        let mut member = self.member.lock();
        member.publishes += 1;
        let file = StateFile {
            header: self.header(Role::Process, &member),
            absorbed: Vec::new(),
            series,
        };
        let written = self.dir.publish(member.instance, &format::encode(&file));
        if let Err(e) = &written {
            self.publish_errors.fetch_add(1, Relaxed);
            *self.last_error.lock() = Some(e.to_string());
        }
        written
    }

    fn header(&self, role: Role, member: &Member) -> Header {
        Header {
            role,
            precision: self.precision,
            pid: member.instance.pid,
            instance: member.instance.id,
            generation: member.publishes,
            written_at: unix_nanos(),
        }
    }

    /// Every series of this process's registry, as published: less what
    /// it inherited through a fork (a gauge it has not set since is left
    /// out).
    fn local_state(&self, local: &Registry) -> Vec<(SeriesKey, SeriesState)> {
        let mut state = self.raw_local_state(local);
        let member = self.member.lock();
        if !member.inherited.is_empty() {
            state.retain_mut(|(key, s)| match member.inherited.get(key) {
                Some(before) => s.subtract(before),
                None => true,
            });
        }
        state
    }

    /// Every series of this process's registry as it is.
    fn raw_local_state(&self, local: &Registry) -> Vec<(SeriesKey, SeriesState)> {
        let now = unix_nanos();
        let mut reads = self.reads.lock();
        let mut out = current_state(local);
        for (key, state) in &mut out {
            if let SeriesState::Gauge {
                mode,
                value,
                changed_at,
            } = state
            {
                let changed = reads
                    .gauge_changes
                    .entry(key.clone())
                    .or_insert((*value, now));
                if changed.0.to_bits() != value.to_bits() {
                    *changed = (*value, now);
                }
                *mode = self.options.gauge_mode(key.name());
                *changed_at = changed.1;
            }
        }
        out
    }

    /// Remembers what this process (a child just forked) inherited, for
    /// [`Self::rejoin`]. Called from the fork handler in the child, before
    /// any other code runs there: it takes no lock another thread of the
    /// parent could have held (`forked` is only ever locked in children).
    pub(crate) fn capture_at_fork(&self, local: &Registry) {
        *self.forked.lock() = Some(current_state(local).into_iter().collect());
        // The parent's leadership must not outlive the parent through this
        // copy of its lock: let go of it now if no thread of the parent
        // was using it at the fork (else at `rejoin`).
        if let Some(mut leader) = self.leader.try_lock() {
            *leader = None;
        }
    }

    /// Brings the merged view up to date — this process's live state plus
    /// every other process's latest file and the archive — and returns it
    /// for reading.
    pub(crate) fn refreshed_view(&self, local: &Registry) -> RwLockReadGuard<'_, Registry> {
        let own = self.local_state(local);
        let own_instance = self.member.lock().instance;
        let sources = self.read_sources();
        let mut merge = Merge::new();
        merge.add(&Source {
            id: own_instance.id,
            pid: own_instance.pid,
            live: true,
            series: &own,
        });
        for (file, live) in &sources {
            merge.add(&Source {
                id: match file.header.role {
                    Role::Archive => 0,
                    Role::Process => file.header.instance,
                },
                pid: file.header.pid,
                live: *live,
                series: &file.series,
            });
        }
        let view = self.view.write();
        let dropped = merge.apply(&view);
        // What the group recorded before this process joined is history:
        // its windows start from the group's state at the first read,
        // made as the monitor is built.
        if self.first_read.swap(false, Relaxed) {
            view.for_each_including_hidden(|_, series| series.rebase_window());
        }
        let dropped = dropped.conflicts + dropped.over_limits;
        self.dropped_series.store(dropped, Relaxed);
        RwLockWriteGuard::downgrade(view)
    }

    /// The other processes' latest files and the archive, each with
    /// whether its process is alive.
    fn read_sources(&self) -> Vec<(Arc<StateFile>, bool)> {
        let own = self.member.lock().instance;
        let mut reads = self.reads.lock();
        for _ in 0..READ_ATTEMPTS {
            match self.try_read_sources(own, &mut reads) {
                Ok(sources) => {
                    reads.processes = sources.len() + 1;
                    reads.live_processes = 1 + sources.iter().filter(|s| s.1).count();
                    reads.last_sources = sources.clone();
                    return sources;
                }
                Err(Unread::Listing(e)) => {
                    self.note_error(&format!(
                        "{e}: the other processes' last read state is used"
                    ));
                    return reads.last_sources.clone();
                }
                Err(Unread::Vanished) => {}
            }
        }
        self.note_error(
            "the directory kept changing during a read: the other processes' last read state is used",
        );
        reads.last_sources.clone()
    }

    /// One attempt.
    fn try_read_sources(
        &self,
        own: Instance,
        reads: &mut ReadState,
    ) -> std::result::Result<Vec<(Arc<StateFile>, bool)>, Unread> {
        let listing = self.dir.list().map_err(Unread::Listing)?;
        let mut sources = Vec::new();
        let archive = self.read_cached(reads, self.dir.archive_path(), Role::Archive);
        let absorbed: HashSet<u64> = match &archive {
            Read::Found(file) => file.absorbed.iter().copied().collect(),
            _ => HashSet::new(),
        };
        if let Read::Found(file) = archive {
            sources.push((file, false));
        }
        let mut live_paths = HashSet::new();
        for instance in listing.states {
            if instance == own || absorbed.contains(&instance.id) {
                continue;
            }
            let path = self.dir.state_path(instance);
            live_paths.insert(path.clone());
            match self.read_cached(reads, path, Role::Process) {
                Read::Found(file) => sources.push((file, self.dir.is_alive(instance))),
                Read::Vanished => return Err(Unread::Vanished),
                Read::Skipped => {}
            }
        }
        reads
            .cache
            .retain(|path, _| live_paths.contains(path) || *path == self.dir.archive_path());
        Ok(sources)
    }

    /// Reads and decodes a file, or reuses its decoding if unchanged.
    fn read_cached(&self, reads: &mut ReadState, path: PathBuf, role: Role) -> Read {
        let stamp = match directory::stamp(&path) {
            Ok(Some(stamp)) => stamp,
            Ok(None) => return Read::Vanished,
            Err(e) => {
                self.note_error(&format!("{}: {e}", path.display()));
                return Read::Skipped;
            }
        };
        if let Some(cached) = reads.cache.get(&path).filter(|c| c.stamp == stamp) {
            return Read::Found(cached.file.clone());
        }
        let (bytes, stamp) = match directory::read(&path) {
            Ok(Some(read)) => read,
            Ok(None) => return Read::Vanished,
            Err(e) => {
                self.note_error(&format!("{}: {e}", path.display()));
                return Read::Skipped;
            }
        };
        let decoded = format::decode(&bytes).and_then(|file| self.check(file, role));
        match decoded {
            Ok(file) => {
                let file = Arc::new(file);
                reads.cache.insert(
                    path,
                    Cached {
                        stamp,
                        file: file.clone(),
                    },
                );
                Read::Found(file)
            }
            Err(reason) => {
                if reads.bad.insert((path.clone(), stamp)) {
                    self.skipped_files.fetch_add(1, Relaxed);
                    self.note_error(&format!("skipped {}: {reason}", path.display()));
                }
                Read::Skipped
            }
        }
    }

    /// Refuses a decoded file this group cannot merge.
    fn check(&self, file: StateFile, role: Role) -> std::result::Result<StateFile, String> {
        if file.header.role != role {
            return Err("the file's role does not match its name".into());
        }
        if file.header.precision != self.precision {
            return Err(format!(
                "precision {} bits differs from this group's {} bits",
                file.header.precision.bits(),
                self.precision.bits()
            ));
        }
        Ok(file)
    }

    fn note_error(&self, reason: &str) {
        *self.last_error.lock() = Some(reason.to_owned());
    }

    /// Moves the files of dead processes into the archive, unless another
    /// process is compacting. Returns how many processes it archived.
    pub(crate) fn compact(&self) -> Result<usize> {
        let Some(_compacting) = self.dir.try_compaction_lock() else {
            return Ok(0);
        };
        let own = self.member.lock().instance;
        let listing = self.dir.list()?;
        let dead: Vec<Instance> = listing
            .locks
            .iter()
            .chain(&listing.states)
            .copied()
            .filter(|&i| i != own && !self.dir.is_alive(i))
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        for (name, writer) in &listing.temps {
            if writer.is_some_and(|w| w != own && dead.contains(&w)) {
                self.dir.remove_temp(name);
            }
        }
        if dead.is_empty() {
            return Ok(0);
        }
        let mut archive = self.load_archive(&listing.states);
        // A compactor stopped between writing the archive and removing the
        // files it absorbed (killed, or a child's `_exit`) left files the
        // archive already holds: they are removed below, not added again.
        let absorbed: HashSet<u64> = archive.absorbed.iter().copied().collect();
        let mut merge = ArchiveMerge::new(&mut archive);
        for &instance in dead.iter().filter(|i| !absorbed.contains(&i.id)) {
            merge.absorb(self, instance);
        }
        let member = self.member.lock();
        archive.header = self.header(Role::Archive, &member);
        archive.header.pid = 0;
        drop(member);
        self.dir.write_archive(own, &format::encode(&archive))?;
        for &instance in &dead {
            self.dir.remove_instance(instance);
        }
        self.archived.fetch_add(dead.len() as u64, Relaxed);
        Ok(dead.len())
    }

    /// The archive to extend: the current one with its `absorbed` list
    /// pruned to instances whose state files still exist, or a new one if
    /// there is none or it cannot be read (then set aside, and counted).
    fn load_archive(&self, states: &[Instance]) -> StateFile {
        let existing: HashSet<u64> = states.iter().map(|i| i.id).collect();
        let read = self.dir.read_archive().map_err(|e| e.to_string());
        let decoded = read.and_then(|found| match found {
            Some((bytes, _)) => format::decode(&bytes)
                .and_then(|f| self.check(f, Role::Archive))
                .map(Some),
            None => Ok(None),
        });
        let mut archive = match decoded {
            Ok(Some(archive)) => archive,
            Ok(None) => empty_archive(self.precision),
            Err(reason) => {
                self.skipped_files.fetch_add(1, Relaxed);
                self.note_error(&format!("archive set aside: {reason}"));
                self.dir.set_archive_aside();
                empty_archive(self.precision)
            }
        };
        archive.absorbed.retain(|id| existing.contains(id));
        archive
    }

    /// What [`crate::Monitor::multiprocess`] reports.
    pub(crate) fn status(&self) -> MultiprocessStatus {
        let member = self.member.lock();
        let reads = self.reads.lock();
        MultiprocessStatus {
            dir: self.dir.path().to_owned(),
            pid: member.instance.pid,
            instance: member.instance.id,
            processes: reads.processes.max(1),
            live_processes: reads.live_processes.max(1),
            archived: self.archived.load(Relaxed),
            publishes: member.publishes,
            publish_errors: self.publish_errors.load(Relaxed),
            skipped_files: self.skipped_files.load(Relaxed),
            leader: self.is_leader(),
            dropped_series: self.dropped_series.load(Relaxed),
            last_error: self.last_error.lock().clone(),
        }
    }
}

/// Why an attempt to read the other processes' files failed.
enum Unread {
    /// The directory could not be listed.
    Listing(PerfError),
    /// A listed file is gone: a compaction moved it (try again).
    Vanished,
}

/// The outcome of reading one file.
enum Read {
    Found(Arc<StateFile>),
    /// It was listed but is gone: a compaction moved it.
    Vanished,
    /// Unreadable or refused (counted).
    Skipped,
}

/// Adds dead processes' histograms and counters to an archive.
struct ArchiveMerge<'a> {
    archive: &'a mut StateFile,
    index: HashMap<SeriesKey, usize>,
}

impl<'a> ArchiveMerge<'a> {
    fn new(archive: &'a mut StateFile) -> Self {
        let index = archive
            .series
            .iter()
            .enumerate()
            .map(|(i, (key, _))| (key.clone(), i))
            .collect();
        ArchiveMerge { archive, index }
    }

    /// Adds `instance`'s file (if it has a readable one) and lists it as
    /// absorbed, so readers skip its file until it is removed.
    fn absorb(&mut self, group: &Group, instance: Instance) {
        let read = group.dir.read_state(instance).map_err(|e| e.to_string());
        let decoded = read.and_then(|found| match found {
            Some((bytes, _)) => format::decode(&bytes)
                .and_then(|f| group.check(f, Role::Process))
                .map(Some),
            None => Ok(None),
        });
        match decoded {
            Ok(Some(file)) => file.series.iter().for_each(|(k, s)| self.add(k, s)),
            Ok(None) => {}
            Err(reason) => {
                group.skipped_files.fetch_add(1, Relaxed);
                group.note_error(&format!(
                    "dead process {} not archived: {reason}",
                    instance.pid
                ));
            }
        }
        self.archive.absorbed.push(instance.id);
    }

    fn add(&mut self, key: &SeriesKey, state: &SeriesState) {
        if matches!(state, SeriesState::Gauge { .. }) {
            return; // a dead process's gauges drop out
        }
        let Some(&i) = self.index.get(key) else {
            self.index.insert(key.clone(), self.archive.series.len());
            self.archive.series.push((key.clone(), state.clone()));
            return;
        };
        match (&mut self.archive.series[i].1, state) {
            (
                SeriesState::Histogram { snapshot, rejected },
                SeriesState::Histogram {
                    snapshot: more,
                    rejected: refused,
                },
            ) => {
                snapshot.merge(more);
                *rejected = rejected.saturating_add(*refused);
            }
            (SeriesState::Counter(total), SeriesState::Counter(n)) => {
                *total = total.wrapping_add(*n);
            }
            _ => {} // a kind conflict: the first kind's state is kept
        }
    }
}

/// Every series of `local` as it is now, read without locks (gauges with
/// the default mode and no change time: callers fill those in).
fn current_state(local: &Registry) -> Vec<(SeriesKey, SeriesState)> {
    let mut out = Vec::new();
    local.for_each(|key, series| {
        let state = match &series.metric {
            Metric::Histogram(core) => SeriesState::Histogram {
                snapshot: core.snapshot(),
                rejected: core.rejected(),
            },
            Metric::Counter(core) => SeriesState::Counter(core.value()),
            Metric::Gauge(core) => SeriesState::Gauge {
                mode: GaugeMode::default(),
                value: core.value(),
                changed_at: 0,
            },
        };
        out.push((key.clone(), state));
    });
    out
}

fn empty_archive(precision: Precision) -> StateFile {
    StateFile {
        header: Header {
            role: Role::Archive,
            precision,
            pid: 0,
            instance: 0,
            generation: 0,
            written_at: 0,
        },
        absorbed: Vec::new(),
        series: Vec::new(),
    }
}

fn unix_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}
