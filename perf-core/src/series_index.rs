//! [`SeriesIndex`]: a grow-only concurrent hash index from [`SeriesKey`] to
//! a value (the registry's series), with lookups that take no lock, no guard and no atomic
//! read-modify-write.
//!
//! General-purpose concurrent maps (papaya, dashmap, …) pay on every read for
//! the ability to remove entries: an epoch guard or a reader lock, each an
//! atomic RMW on a shared or per-thread line. perf-core never removes a series
//! (memory is bounded by the registry's caps instead), so this index can skip
//! reclamation entirely:
//!
//! # Invariants
//!
//! * An entry, once published, stays at the same address until the index is
//!   dropped, so `&Entry` borrowed from `&self` is always valid.
//! * A table is an open-addressing array of `AtomicPtr<Entry>`, linear
//!   probing, at most half full. Slots go from null to an entry once and are
//!   never cleared, so a probe that meets null proves the key is absent *from
//!   that table*.
//! * Only one thread inserts at a time (`insert_lock`). When a table would
//!   pass half full, the inserter copies every pointer into a table twice the
//!   size, publishes it with a `Release` store, and keeps the old one in
//!   `retired` until drop. A reader still probing an old table sees a
//!   consistent (if older) set of entries; a miss sends the caller to the
//!   registry's locked create path, which looks again in the current table.
//! * Entries and tables are published with `Release` and read with
//!   `Acquire`, so a reader that sees a pointer sees the fully built entry.

use std::ptr;
use std::sync::atomic::{AtomicPtr, Ordering::*};

use parking_lot::Mutex;

use crate::series::SeriesKey;

/// A key and its value.
pub(crate) struct Entry<V> {
    pub(crate) key: SeriesKey,
    pub(crate) value: V,
}

struct Table<V> {
    mask: usize,
    slots: Box<[AtomicPtr<Entry<V>>]>,
}

impl<V> Table<V> {
    fn with_capacity(capacity: usize) -> Box<Table<V>> {
        Box::new(Table {
            mask: capacity - 1,
            slots: (0..capacity)
                .map(|_| AtomicPtr::new(ptr::null_mut()))
                .collect(),
        })
    }

    /// The first slot at or after `hash`'s home that is null or holds an
    /// entry matching `is_match`.
    #[inline]
    fn probe(
        &self,
        hash: u64,
        mut is_match: impl FnMut(&Entry<V>) -> bool,
    ) -> (usize, *mut Entry<V>) {
        let mut i = hash as usize & self.mask;
        loop {
            let p = self.slots[i].load(Acquire);
            // SAFETY: non-null slots point at published entries that live as
            // long as the index (see the module invariants).
            if p.is_null() || is_match(unsafe { &*p }) {
                return (i, p);
            }
            i = (i + 1) & self.mask;
        }
    }
}

/// Writer-side state: the number of entries and the tables replaced so far.
struct Writer<V> {
    len: usize,
    retired: Vec<*mut Table<V>>,
}

/// The lock-free index of all series of a registry.
pub(crate) struct SeriesIndex<V> {
    current: AtomicPtr<Table<V>>,
    writer: Mutex<Writer<V>>,
}

// SAFETY: the raw pointers are owned by the index (entries and tables are
// freed only in `drop`); sharing the index shares `&Entry<V>` (so `V: Sync`)
// and moves values' ownership with it (so `V: Send`).
unsafe impl<V: Send + Sync> Send for SeriesIndex<V> {}
// SAFETY: as for `Send`: shared use hands out `&Entry<V>` (`V: Sync`) and
// mutation goes through the writer's mutex.
unsafe impl<V: Send + Sync> Sync for SeriesIndex<V> {}

const INITIAL_CAPACITY: usize = 64;

impl<V> SeriesIndex<V> {
    pub(crate) fn new() -> Self {
        SeriesIndex {
            current: AtomicPtr::new(Box::into_raw(Table::with_capacity(INITIAL_CAPACITY))),
            writer: Mutex::new(Writer {
                len: 0,
                retired: Vec::new(),
            }),
        }
    }

    fn table(&self) -> &Table<V> {
        // SAFETY: `current` always points at a live table; replaced tables
        // are retired, not freed, until `drop`.
        unsafe { &*self.current.load(Acquire) }
    }

    /// The entry with this hash for which `is_match` holds, if any.
    #[inline]
    pub(crate) fn get(
        &self,
        hash: u64,
        is_match: impl FnMut(&SeriesKey) -> bool,
    ) -> Option<&Entry<V>> {
        let mut is_match = is_match;
        let (_, p) = self
            .table()
            .probe(hash, |e| e.key.hash() == hash && is_match(&e.key));
        // SAFETY: as in `Table::probe`.
        (!p.is_null()).then(|| unsafe { &*p })
    }

    /// The entry for `key`, inserting `make()` under it if absent.
    pub(crate) fn get_or_insert_with(&self, key: SeriesKey, make: impl FnOnce() -> V) -> &Entry<V> {
        let mut writer = self.writer.lock();
        let hash = key.hash();
        let (_, found) = self.table().probe(hash, |e| e.key == key);
        if !found.is_null() {
            // SAFETY: as in `Table::probe`.
            return unsafe { &*found };
        }
        if (writer.len + 1) * 2 > self.table().slots.len() {
            self.grow(&mut writer);
        }
        let table = self.table();
        let (slot, _) = table.probe(hash, |_| false);
        let entry = Box::into_raw(Box::new(Entry { key, value: make() }));
        table.slots[slot].store(entry, Release);
        writer.len += 1;
        // SAFETY: just published; lives until drop.
        unsafe { &*entry }
    }

    /// Replaces the table by one twice its size. Called with the writer lock.
    fn grow(&self, writer: &mut Writer<V>) {
        let old = self.current.load(Acquire);
        // SAFETY: `old` is the live current table.
        let old_table = unsafe { &*old };
        let bigger = Table::with_capacity(old_table.slots.len() * 2);
        for slot in old_table.slots.iter() {
            let p = slot.load(Acquire);
            if !p.is_null() {
                // SAFETY: as in `Table::probe`.
                let (i, _) = bigger.probe(unsafe { &*p }.key.hash(), |_| false);
                bigger.slots[i].store(p, Relaxed); // published with the table
            }
        }
        self.current.store(Box::into_raw(bigger), Release);
        writer.retired.push(old);
    }

    /// Every entry, in no particular order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Entry<V>> {
        self.table().slots.iter().filter_map(|slot| {
            let p = slot.load(Acquire);
            // SAFETY: as in `Table::probe`.
            (!p.is_null()).then(|| unsafe { &*p })
        })
    }
}

impl<V> Drop for SeriesIndex<V> {
    fn drop(&mut self) {
        let current = *self.current.get_mut();
        // SAFETY: `&mut self`: no reader is left. Entries appear once in the
        // current table (the retired ones share the same pointers), and each
        // table was leaked from a `Box` exactly once.
        unsafe {
            for slot in (*current).slots.iter() {
                let p = slot.load(Relaxed);
                if !p.is_null() {
                    drop(Box::from_raw(p));
                }
            }
            drop(Box::from_raw(current));
            for &table in &self.writer.get_mut().retired {
                drop(Box::from_raw(table));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn series() -> String {
        "a value".to_owned()
    }

    fn key(i: u64) -> SeriesKey {
        // A deliberately poor hash (many collisions) exercises probing.
        SeriesKey::new(i % 7, "m", &[("i", &i.to_string())])
    }

    #[test]
    fn finds_everything_inserted_across_growth() {
        let index = SeriesIndex::new();
        for i in 0..1000 {
            index.get_or_insert_with(key(i), series);
        }
        for i in 0..1000 {
            let k = key(i);
            assert!(index.get(k.hash(), |stored| *stored == k).is_some(), "{i}");
        }
        assert!(index
            .get(key(5000).hash(), |stored| *stored == key(5000))
            .is_none());
        assert_eq!(index.iter().count(), 1000);
        // Inserting again returns the existing entry.
        let first = index.get_or_insert_with(key(3), series) as *const Entry<String>;
        assert_eq!(
            first,
            index.get_or_insert_with(key(3), series) as *const Entry<String>
        );
        assert_eq!(index.iter().count(), 1000);
    }

    #[test]
    fn readers_racing_with_growth_never_see_a_broken_entry() {
        let index = Arc::new(SeriesIndex::new());
        let reader = {
            let index = index.clone();
            std::thread::spawn(move || {
                let mut seen = 0;
                for round in 0..200 {
                    for i in 0..round * 10 {
                        let k = key(i);
                        if let Some(e) = index.get(k.hash(), |stored| *stored == k) {
                            assert_eq!(e.key, k);
                            seen += 1;
                        }
                    }
                }
                seen
            })
        };
        for i in 0..2000 {
            index.get_or_insert_with(key(i), series);
        }
        assert!(reader.join().unwrap() > 0);
        assert_eq!(index.iter().count(), 2000);
    }
}
