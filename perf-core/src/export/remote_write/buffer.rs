//! The pending writes: compressed request bodies waiting to be sent, in
//! the order they were collected, within a capacity in bytes.
//!
//! Invariants:
//! * `bytes` is the sum of the bodies' lengths and never exceeds
//!   `capacity` after [`Buffer::push`] returns;
//! * writes leave in the order they came (a series' samples reach the
//!   receiver in time order);
//! * to make room, the oldest writes are dropped first (the newest hold
//!   the latest cumulative values, the most useful ones), and `push`
//!   returns how many samples it dropped so the caller counts them.

use std::collections::VecDeque;

/// One collection of every series, ready to send.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Batch {
    /// The snappy-compressed `WriteRequest`.
    pub(crate) body: Vec<u8>,
    /// Float samples plus native histograms in it.
    pub(crate) samples: u64,
}

/// Pending batches, oldest first.
#[derive(Debug)]
pub(crate) struct Buffer {
    capacity: usize,
    bytes: usize,
    batches: VecDeque<Batch>,
}

impl Buffer {
    /// An empty buffer holding at most `capacity` bytes of bodies.
    pub(crate) fn new(capacity: usize) -> Buffer {
        Buffer {
            capacity,
            bytes: 0,
            batches: VecDeque::new(),
        }
    }

    /// Queues `batch` after the others, dropping the oldest to make room
    /// (or `batch` itself if it alone is larger than the capacity).
    /// Returns the samples dropped.
    pub(crate) fn push(&mut self, batch: Batch) -> u64 {
        if batch.body.len() > self.capacity {
            return batch.samples;
        }
        let mut dropped = 0;
        while self.bytes + batch.body.len() > self.capacity {
            dropped += self.pop().map_or(0, |b| b.samples);
        }
        self.bytes += batch.body.len();
        self.batches.push_back(batch);
        dropped
    }

    /// The oldest batch, the next to send (it stays until popped).
    pub(crate) fn front(&self) -> Option<&Batch> {
        self.batches.front()
    }

    /// Takes the oldest batch.
    pub(crate) fn pop(&mut self) -> Option<Batch> {
        let batch = self.batches.pop_front()?;
        self.bytes -= batch.body.len();
        Some(batch)
    }

    /// Bytes of bodies waiting.
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    /// Samples waiting.
    pub(crate) fn samples(&self) -> u64 {
        self.batches.iter().map(|b| b.samples).sum()
    }

    /// Whether nothing waits.
    pub(crate) fn is_empty(&self) -> bool {
        self.batches.is_empty()
    }

    /// Empties the buffer; returns the samples it held.
    pub(crate) fn clear(&mut self) -> u64 {
        let samples = self.samples();
        self.batches.clear();
        self.bytes = 0;
        samples
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(len: usize, samples: u64) -> Batch {
        Batch {
            body: vec![0; len],
            samples,
        }
    }

    #[test]
    fn the_oldest_make_room_and_the_capacity_holds() {
        let mut buffer = Buffer::new(100);
        assert_eq!(buffer.push(batch(40, 1)), 0);
        assert_eq!(buffer.push(batch(40, 2)), 0);
        assert_eq!(buffer.push(batch(40, 3)), 1); // the first goes
        assert_eq!((buffer.bytes(), buffer.samples()), (80, 5));
        assert_eq!(buffer.push(batch(101, 9)), 9); // too big alone
        assert_eq!(buffer.pop().unwrap().samples, 2);
        assert_eq!(buffer.pop().unwrap().samples, 3);
        assert!(buffer.pop().is_none() && buffer.bytes() == 0);
    }

    #[test]
    fn the_front_stays_until_popped() {
        let mut buffer = Buffer::new(100);
        buffer.push(batch(50, 1));
        buffer.push(batch(10, 2));
        assert_eq!(buffer.front().unwrap().samples, 1);
        assert_eq!(buffer.front().unwrap().samples, 1);
        assert_eq!(buffer.clear(), 3);
        assert!(buffer.is_empty() && buffer.front().is_none());
    }
}
