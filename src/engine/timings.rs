//! The response times of a latency rule's window, for the value its alerts
//! show: exact in time (the very hits the rule decides on), within 1 % in
//! value (the buckets of [`super::histogram`]), bounded in memory.
//!
//! Each second of the window keeps a sparse list of `(bucket, count)`
//! entries, 4 bytes each, so that the second can be taken out of the window
//! totals when it leaves. A closed second holds at most one entry per
//! bucket it has times in (one more per 2^21 times in one bucket), never
//! more than its hits: 4 bytes x min(hits, buckets used) a second, at most
//! 4 x 1984 bytes. The window's totals are 1984 counts (16 KiB), and a
//! quantile is read from them only when an alert changes state.
//!
//! A line costs one increment: the newest open second that hits came for
//! is counted in a dense array of buckets, and becomes entries when a newer
//! second takes its place or it closes. Hits of older open seconds (out of
//! order) and late ones are pushed as entries of their own, and a list that
//! fills merges its equal buckets, growing when that frees less than half:
//! it holds at most about four times its merged size, and merging costs
//! O(1) a push.

use super::histogram::{BUCKETS, bucket, midpoint, rank, ranked_bucket};
use super::timestamp::Epoch;

/// Bits of an entry holding its count; the bucket is in the bits above.
const COUNT_BITS: u32 = 21;
const MAX_COUNT: u32 = (1 << COUNT_BITS) - 1;
const _: () = assert!(BUCKETS <= 1 << (32 - COUNT_BITS), "a bucket fits in an entry");

/// Lists shorter than this grow without merging: merging pays from here.
const MERGE_FROM: usize = 64;

/// Response times per second over `span` closed seconds and the `open`
/// seconds after them, placed as a rule's counts are (see
/// [`super::alert`]): a late time counts while its second is in the
/// window, an early one not at all.
#[derive(Debug)]
pub struct Timings {
    /// Entries of each second, indexed by the second modulo their length.
    slots: Box<[Vec<u32>]>,
    span: i64,
    open: i64,
    closed: Epoch,
    /// The open second counted in `newest`, or [`Epoch::MIN`] when none is.
    newest_second: Epoch,
    /// Times per bucket of `newest_second`, not yet in its entries.
    newest: Box<[u64]>,
    /// The buckets of `newest` that are not zero.
    touched: Vec<u16>,
    /// Times per bucket over the closed seconds of the window.
    totals: Box<[u64]>,
    count: u64,
    /// Zero between merges: each bucket's count while merging a list.
    scratch: Box<[u64]>,
}

impl Timings {
    pub fn new(span: u32, open: u32, closed: Epoch) -> Timings {
        // As the rule's counts: at least one open second, so that the
        // second entering the window never shares a slot with the one
        // leaving it.
        let len = (span as usize + open.max(1) as usize).next_power_of_two();
        Timings {
            slots: (0..len).map(|_| Vec::new()).collect(),
            span: i64::from(span),
            open: i64::from(open),
            closed,
            newest_second: Epoch::MIN,
            newest: vec![0; BUCKETS].into_boxed_slice(),
            touched: Vec::new(),
            totals: vec![0; BUCKETS].into_boxed_slice(),
            count: 0,
            scratch: vec![0; BUCKETS].into_boxed_slice(),
        }
    }

    fn slot(&self, t: Epoch) -> usize {
        (t as usize) & (self.slots.len() - 1)
    }

    /// Counts a time of `us` microseconds stamped `t`.
    #[inline]
    pub fn add(&mut self, t: Epoch, us: u64) {
        if t > self.closed + self.open || t <= self.closed - self.span {
            return;
        }
        let b = bucket(us);
        if t != self.newest_second {
            if t < self.newest_second || t <= self.closed {
                return self.add_entry(t, b);
            }
            self.flush_newest();
            self.newest_second = t;
        }
        let n = &mut self.newest[b];
        if *n == 0 {
            self.touched.push(b as u16);
        }
        *n += 1;
    }

    /// A time of a second other than the newest: an entry of its own.
    #[inline(never)]
    fn add_entry(&mut self, t: Epoch, b: usize) {
        let slot = self.slot(t);
        push(&mut self.slots[slot], &mut self.scratch, entry(b, 1));
        if t <= self.closed {
            // Late, in a closed second still in the window.
            self.totals[b] += 1;
            self.count += 1;
        }
    }

    /// Moves the newest second's counts into its entries.
    fn flush_newest(&mut self) {
        if self.touched.is_empty() {
            return;
        }
        let slot = self.slot(self.newest_second);
        // Usually an empty list: sized once rather than grown.
        self.slots[slot].reserve(self.touched.len());
        for b in self.touched.drain(..) {
            let mut n = std::mem::take(&mut self.newest[usize::from(b)]);
            while n > 0 {
                let part = n.min(u64::from(MAX_COUNT));
                push(&mut self.slots[slot], &mut self.scratch, entry(usize::from(b), part as u32));
                n -= part;
            }
        }
    }

    /// Closes the next second: it enters the window's totals, and the one
    /// `span` before leaves them.
    pub fn close_next(&mut self) {
        let t = self.closed + 1;
        if self.newest_second == t {
            self.flush_newest();
            self.newest_second = Epoch::MIN;
        }
        let entering = self.slot(t);
        let list = &mut self.slots[entering];
        merge(list, &mut self.scratch);
        list.shrink_to_fit();
        for &e in list.iter() {
            self.totals[e as usize >> COUNT_BITS] += u64::from(e & MAX_COUNT);
            self.count += u64::from(e & MAX_COUNT);
        }
        let leaving = self.slot(t - self.span);
        for e in std::mem::take(&mut self.slots[leaving]) {
            self.totals[e as usize >> COUNT_BITS] -= u64::from(e & MAX_COUNT);
            self.count -= u64::from(e & MAX_COUNT);
        }
        self.closed = t;
    }

    /// Closes every second up to `t` at once: only while none of them holds
    /// a time and none of the window leaves, which the rule's counts,
    /// holding the same hits, tell (see `Alerts::steady_until`).
    pub fn skip_to(&mut self, t: Epoch) {
        debug_assert!(self.touched.is_empty(), "no time waits in an open second");
        self.closed = self.closed.max(t);
    }

    /// Times in the window.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The window's nearest-rank `percent` quantile (100: the maximum) in
    /// microseconds, as its bucket's midpoint moved into `known`, the range
    /// the rule's exact decision puts it in (`None` when the window holds no
    /// time). The exact value lies in both the bucket and `known`, so moving
    /// the midpoint toward `known` only brings it closer: within 1/128 still,
    /// and never on the wrong side of the rule's limit.
    pub fn quantile(&self, percent: u8, known: (u64, u64)) -> Option<u64> {
        let i = ranked_bucket(&self.totals, rank(percent, self.count))?;
        let (low, high) = known;
        Some(midpoint(i).max(low).min(high))
    }
}

/// Pushes an entry, merging the list's equal buckets first when it is full.
fn push(list: &mut Vec<u32>, scratch: &mut [u64], e: u32) {
    if list.len() == list.capacity() && list.len() >= MERGE_FROM {
        merge(list, scratch);
        // Room for at least half as many pushes as the list holds before
        // the next merge, so that merging costs O(1) a push.
        if list.len() > list.capacity() / 2 {
            list.reserve(list.capacity());
        }
    }
    list.push(e);
}

fn entry(bucket: usize, count: u32) -> u32 {
    ((bucket as u32) << COUNT_BITS) | count
}

/// Merges a list's entries of the same bucket, in the order buckets first
/// appear; a bucket past [`MAX_COUNT`] keeps more than one entry. `scratch`
/// is all zeros before and after.
fn merge(list: &mut Vec<u32>, scratch: &mut [u64]) {
    for &e in list.iter() {
        scratch[e as usize >> COUNT_BITS] += u64::from(e & MAX_COUNT);
    }
    let mut kept = 0;
    for i in 0..list.len() {
        // At most one entry written for each one read, so none is
        // overwritten unread; a bucket's entries each held at most
        // MAX_COUNT, so by its last one its whole count is written.
        let b = list[i] as usize >> COUNT_BITS;
        let part = scratch[b].min(u64::from(MAX_COUNT));
        if part > 0 {
            scratch[b] -= part;
            list[kept] = entry(b, part as u32);
            kept += 1;
        }
    }
    list.truncate(kept);
}

#[cfg(test)]
mod tests {
    use super::*;

    const ANY: (u64, u64) = (0, u64::MAX);

    #[test]
    fn the_window_holds_exactly_its_seconds() {
        // A window of 3 seconds, one open second after it.
        let near = |got: Option<u64>, want: u64| got.is_some_and(|g| g.abs_diff(want) * 128 <= want);
        let mut w = Timings::new(3, 1, 99);
        w.add(100, 100);
        w.add(101, 5_000);
        assert_eq!(w.count(), 0, "nothing closed yet; 101 is beyond the open second");
        w.close_next();
        assert_eq!((w.count(), w.quantile(100, ANY)), (1, Some(100)), "exact below 128us");
        w.add(101, 5_000);
        w.close_next();
        w.add(102, 9_000);
        w.close_next();
        assert_eq!(w.count(), 3);
        assert!(near(w.quantile(100, ANY), 9_000) && near(w.quantile(50, ANY), 5_000));
        w.add(101, 7_000); // late, in the window
        assert_eq!(w.count(), 4);
        w.close_next();
        assert_eq!(w.count(), 3, "second 100 left");
        assert!(near(w.quantile(1, ANY), 5_000));
        w.add(100, 1); // late, outside: ignored
        for _ in 0..3 {
            w.close_next();
        }
        assert_eq!((w.count(), w.quantile(50, ANY)), (0, None));
        assert!(w.slots.iter().all(Vec::is_empty), "every second gone");
    }

    #[test]
    fn a_value_moves_only_toward_what_the_decision_knows() {
        let mut w = Timings::new(1, 1, 0);
        // 500 ms plus 1 us shares its bucket (499,712..503,808 us, midpoint
        // 501,760) with times under 500 ms.
        w.add(1, 500_001);
        w.close_next();
        assert_eq!(w.quantile(99, ANY), Some(501_760));
        assert_eq!(w.quantile(99, (0, 500_000)), Some(500_000), "not above 500ms: at most 500ms");
        let mut w = Timings::new(1, 1, 0);
        w.add(1, 499_999);
        w.close_next();
        assert_eq!(w.quantile(99, (0, 499_999)), Some(499_999), "below 500ms never shows 500ms");
        assert_eq!(w.quantile(99, (500_001, u64::MAX)), Some(501_760));
    }

    #[test]
    fn out_of_order_times_merge_and_each_second_stays_bounded() {
        let buckets = (1_000..1_300).map(bucket).collect::<std::collections::BTreeSet<_>>().len();
        // Two open seconds; 2 is the newest, so second 1's times are
        // entries of their own.
        let mut w = Timings::new(2, 2, 0);
        w.add(2, 5);
        for i in 0..100_000u64 {
            w.add(1, 1_000 + i % 300);
        }
        assert!(w.slots[1].capacity() <= 4 * buckets + MERGE_FROM, "{}", w.slots[1].capacity());
        w.close_next();
        assert_eq!(w.count(), 100_000);
        assert_eq!(w.slots[1].len(), buckets, "one entry a bucket once closed");
        assert!(w.scratch.iter().all(|n| *n == 0));
        w.close_next();
        assert_eq!((w.count(), w.slots[2].as_slice()), (100_001, &[entry(5, 1)][..]));
    }

    #[test]
    fn the_newest_second_is_counted_densely_until_a_newer_one_comes() {
        let mut w = Timings::new(4, 3, 0);
        w.add(1, 10);
        w.add(1, 10);
        assert_eq!((w.newest_second, w.touched.as_slice(), w.slots[1].len()), (1, &[10][..], 0));
        w.add(2, 20);
        assert_eq!((w.newest_second, w.slots[1].as_slice()), (2, &[entry(10, 2)][..]), "1 became entries");
        w.add(1, 30); // out of order: an entry of its own
        w.add(3, 40);
        w.add(2, 20);
        w.close_next();
        assert_eq!(w.count(), 3);
        w.close_next();
        assert_eq!(w.count(), 5);
        w.close_next();
        assert_eq!((w.count(), w.newest_second, w.touched.len()), (6, Epoch::MIN, 0), "3 closed: nothing newest");
        w.add(3, 50); // late, in the window
        assert_eq!((w.count(), w.newest_second), (7, Epoch::MIN));
        // A bucket of more times than an entry holds takes two.
        w.add(4, 60);
        w.newest[60] += u64::from(MAX_COUNT);
        w.close_next();
        assert_eq!(w.slots[4], [entry(60, MAX_COUNT), entry(60, 1)]);
        assert_eq!(w.count(), 7 + u64::from(MAX_COUNT) + 1);
    }

    #[test]
    fn a_crowded_bucket_takes_several_entries() {
        let mut list = vec![entry(7, MAX_COUNT), entry(3, 1), entry(7, MAX_COUNT), entry(7, 5), entry(3, 2)];
        let mut scratch = vec![0; BUCKETS];
        merge(&mut list, &mut scratch);
        assert_eq!(list, [entry(7, MAX_COUNT), entry(3, 3), entry(7, MAX_COUNT), entry(7, 5)]);
        assert!(scratch.iter().all(|n| *n == 0));
        let mut w = Timings::new(1, 1, 0);
        w.slots[1] = list;
        w.close_next();
        assert_eq!(w.count(), 2 * u64::from(MAX_COUNT) + 8);
        w.close_next();
        assert_eq!(w.count(), 0);
    }
}
