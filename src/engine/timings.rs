//! The response times of a latency rule's window, for the value its alerts
//! show: within 1 % in value (the buckets of [`super::histogram`]), in
//! memory bounded whatever the window, and exact in time (the very hits the
//! rule decides on) for windows up to `SLICES` seconds.
//!
//! The window is cut into slices of `g = ceil(window / 600)` seconds,
//! aligned on multiples of `g` since the epoch: one second each up to 10
//! minutes, 144 seconds at 24 hours. Each slice keeps a sparse list of
//! `(bucket, count)` entries, 4 bytes each, of its closed seconds' times, so
//! that it can be taken out of the window totals when it leaves. A slice
//! holds at most one entry per bucket its seconds have times in (one more
//! per 2^21 times in one bucket), never more than its times: at most
//! 4 x 1984 bytes, and at most 601 slices whatever the window (4.6 MiB).
//!
//! A slice leaves the totals when its last second leaves the window, so the
//! value is read over the window and the seconds of its oldest slice before
//! it: closed up to second `c`, over the seconds from
//! `g * floor((c - window + 1) / g)` to `c`, never fewer than the window's
//! and at most `g - 1` more (none up to 10 minutes). The decision stays the
//! rule's exact counts (see [`super::alert`]), and the value is moved onto
//! the side of the limit it took (see [`Timings::quantile`]). The window's
//! totals are 1984 counts (16 KiB), and a quantile is read from them only
//! when an alert changes state.
//!
//! The open seconds keep lists of their own, one a second, and join their
//! slice as they close. A line costs one increment: the newest open second
//! that hits came for is counted in a dense array of buckets, and becomes
//! entries when a newer second takes its place or it closes. Hits of older
//! open seconds (out of order) and late ones are pushed as entries of their
//! own, and a list that fills merges its equal buckets, growing when that
//! frees less than half: it holds at most about four times its merged size,
//! and merging costs O(1) a push.

use super::histogram::{BUCKETS, bucket, midpoint, rank, ranked_bucket};
use super::timestamp::Epoch;

/// Bits of an entry holding its count; the bucket is in the bits above.
const COUNT_BITS: u32 = 21;
const MAX_COUNT: u32 = (1 << COUNT_BITS) - 1;
const _: () = assert!(BUCKETS <= 1 << (32 - COUNT_BITS), "a bucket fits in an entry");

/// Lists shorter than this grow without merging: merging pays from here.
const MERGE_FROM: usize = 64;

/// Windows up to this many seconds keep a slice a second; longer ones are
/// cut into at most this many slices of several seconds (and one more
/// straddles the window's old end).
const SLICES: u32 = 600;

/// Response times over the `span` closed seconds of a window, by slice, and
/// the `open` seconds after them, by second; placed as a rule's counts are
/// (see [`super::alert`]): a late time counts while its second is in the
/// window, an early one not at all.
#[derive(Debug)]
pub struct Timings {
    /// Entries of each open second, indexed by the second modulo their
    /// length.
    open_seconds: Box<[Vec<u32>]>,
    /// Entries of the closed seconds of each slice in the totals, indexed by
    /// the slice's number modulo their length.
    slices: Box<[Vec<u32>]>,
    /// Seconds a slice: `g`.
    width: i64,
    span: i64,
    open: i64,
    closed: Epoch,
    /// The open second counted in `newest`, or [`Epoch::MIN`] when none is.
    newest_second: Epoch,
    /// Times per bucket of `newest_second`, not yet in its entries.
    newest: Box<[u64]>,
    /// The buckets of `newest` that are not zero.
    touched: Vec<u16>,
    /// Times per bucket over the slices in the totals.
    totals: Box<[u64]>,
    count: u64,
    /// Zero between merges: each bucket's count while merging a list.
    scratch: Box<[u64]>,
}

impl Timings {
    pub fn new(span: u32, open: u32, closed: Epoch) -> Timings {
        let (width, slices) = slicing(span);
        Timings {
            open_seconds: (0..open.max(1)).map(|_| Vec::new()).collect(),
            slices: (0..slices).map(|_| Vec::new()).collect(),
            width: i64::from(width),
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

    fn open_slot(&self, t: Epoch) -> usize {
        t.rem_euclid(self.open_seconds.len() as i64) as usize
    }

    /// The number of the slice holding second `t`.
    fn slice_of(&self, t: Epoch) -> i64 {
        t.div_euclid(self.width)
    }

    fn slice_slot(&self, slice: i64) -> usize {
        slice.rem_euclid(self.slices.len() as i64) as usize
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
        if t > self.closed {
            let slot = self.open_slot(t);
            push(&mut self.open_seconds[slot], &mut self.scratch, entry(b, 1));
        } else {
            // Late, in a closed second still in the window: its slice is in
            // the totals too.
            let slot = self.slice_slot(self.slice_of(t));
            push(&mut self.slices[slot], &mut self.scratch, entry(b, 1));
            self.totals[b] += 1;
            self.count += 1;
        }
    }

    /// Moves the newest second's counts into its entries.
    fn flush_newest(&mut self) {
        if self.touched.is_empty() {
            return;
        }
        let slot = self.open_slot(self.newest_second);
        let list = &mut self.open_seconds[slot];
        // Usually an empty list: sized once rather than grown.
        list.reserve(self.touched.len());
        for b in self.touched.drain(..) {
            let mut n = std::mem::take(&mut self.newest[usize::from(b)]);
            while n > 0 {
                let part = n.min(u64::from(MAX_COUNT));
                push(list, &mut self.scratch, entry(usize::from(b), part as u32));
                n -= part;
            }
        }
    }

    /// Closes the next second: it enters the window's totals and its slice,
    /// and the slice whose last second leaves the window leaves them.
    pub fn close_next(&mut self) {
        let t = self.closed + 1;
        if self.newest_second == t {
            self.flush_newest();
            self.newest_second = Epoch::MIN;
        }
        let slot = self.open_slot(t);
        let mut entering = std::mem::take(&mut self.open_seconds[slot]);
        merge(&mut entering, &mut self.scratch);
        for &e in &entering {
            self.totals[e as usize >> COUNT_BITS] += u64::from(e & MAX_COUNT);
            self.count += u64::from(e & MAX_COUNT);
        }
        self.join_slice(t, entering);
        let leaving = t - self.span;
        if self.slice_of(leaving) != self.slice_of(leaving + 1) {
            self.remove_slice(self.slice_of(leaving));
        }
        self.closed = t;
    }

    /// Adds the entries of closed second `t` to its slice's, merged: a
    /// slice keeps one entry a bucket, however many seconds it holds.
    fn join_slice(&mut self, t: Epoch, entries: Vec<u32>) {
        let slot = self.slice_slot(self.slice_of(t));
        let slice = &mut self.slices[slot];
        if slice.is_empty() {
            *slice = entries;
        } else {
            slice.extend_from_slice(&entries);
            merge(slice, &mut self.scratch);
        }
        slice.shrink_to_fit();
    }

    /// Takes a slice's times out of the totals.
    fn remove_slice(&mut self, slice: i64) {
        let slot = self.slice_slot(slice);
        for e in std::mem::take(&mut self.slices[slot]) {
            self.totals[e as usize >> COUNT_BITS] -= u64::from(e & MAX_COUNT);
            self.count -= u64::from(e & MAX_COUNT);
        }
    }

    /// Closes every second up to `t` at once: only while none of them holds
    /// a time and none of the window's seconds that do leaves, which the
    /// rule's counts, holding the same hits, tell (see
    /// `Alerts::steady_until`). Slices whose last second leaves on the way
    /// leave the totals: they hold only seconds already out of the window.
    pub fn skip_to(&mut self, t: Epoch) {
        debug_assert!(self.touched.is_empty(), "no time waits in an open second");
        if t <= self.closed {
            return;
        }
        // From the oldest slice in the totals to the oldest one left in
        // them; each slot once: past that many slices, the window has moved
        // past all it held.
        let from = self.slice_of(self.closed - self.span + 1);
        let to = self.slice_of(t - self.span + 1);
        for slice in from..to.min(from + self.slices.len() as i64) {
            self.remove_slice(slice);
        }
        self.closed = t;
    }

    /// Times in the totals: the window's, and for windows longer than
    /// `SLICES` seconds those of the oldest slice before it.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The nearest-rank `percent` quantile (100: the maximum) of the times
    /// in the totals, in microseconds, as its bucket's midpoint moved into
    /// `known`, the range the rule's exact decision puts the window's in
    /// (`None` when the totals hold no time). Up to `SLICES` seconds the
    /// totals are the window's, whose exact value lies in both the bucket
    /// and `known`, so moving the midpoint toward `known` only brings it
    /// closer: within 1/128 still. Longer, they may hold up to `g - 1`
    /// seconds more. Either way the value is never on the wrong side of the
    /// rule's limit.
    pub fn quantile(&self, percent: u8, known: (u64, u64)) -> Option<u64> {
        let i = ranked_bucket(&self.totals, rank(percent, self.count))?;
        let (low, high) = known;
        Some(midpoint(i).max(low).min(high))
    }
}

/// The seconds a slice of a window of `span` seconds, and how many slices
/// it needs: the `span + 1` seconds from the one leaving the window to the
/// one entering it reach into at most that many.
fn slicing(span: u32) -> (u32, usize) {
    let width = span.div_ceil(SLICES).max(1);
    (width, span.div_ceil(width) as usize + 1)
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
    use crate::engine::testkit::Rng;

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
        assert!(w.slices.iter().chain(&w.open_seconds).all(Vec::is_empty), "every second gone");
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
        assert!(w.open_seconds[1].capacity() <= 4 * buckets + MERGE_FROM, "{}", w.open_seconds[1].capacity());
        w.close_next();
        assert_eq!(w.count(), 100_000);
        assert_eq!(w.slices[1].len(), buckets, "one entry a bucket once closed");
        assert!(w.scratch.iter().all(|n| *n == 0));
        w.close_next();
        assert_eq!((w.count(), w.slices[2].as_slice()), (100_001, &[entry(5, 1)][..]));
    }

    #[test]
    fn the_newest_second_is_counted_densely_until_a_newer_one_comes() {
        let mut w = Timings::new(4, 3, 0);
        w.add(1, 10);
        w.add(1, 10);
        assert_eq!((w.newest_second, w.touched.as_slice(), w.open_seconds[1].len()), (1, &[10][..], 0));
        w.add(2, 20);
        assert_eq!((w.newest_second, w.open_seconds[1].as_slice()), (2, &[entry(10, 2)][..]), "1 became entries");
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
        assert_eq!(w.slices[4], [entry(60, MAX_COUNT), entry(60, 1)]);
        assert_eq!(w.count(), 7 + u64::from(MAX_COUNT) + 1);
    }

    #[test]
    fn a_window_holds_at_most_601_slices_of_one_second_up_to_10_minutes() {
        let shape = slicing;
        let w = Timings::new(86_400, 3, 0);
        assert_eq!((w.width, w.slices.len()), (144, 601));
        assert_eq!((shape(1), shape(600), shape(601)), ((1, 2), (1, 601), (2, 302)));
        assert_eq!((shape(1200), shape(1201), shape(86_400)), ((2, 601), (3, 402), (144, 601)));
        assert!((1..=86_400).all(|span| shape(span).1 <= SLICES as usize + 1));
    }

    #[test]
    fn a_slice_leaves_when_its_last_second_leaves_the_window() {
        // 20 minutes: slices of 2 seconds, {0, 1}, {2, 3}...
        let mut w = Timings::new(1_200, 1, -1);
        w.add(0, 10);
        w.close_next();
        w.add(1, 20);
        w.close_next();
        w.add(2, 30);
        w.close_next();
        assert_eq!(
            (w.count(), w.slices[0].as_slice(), w.slices[1].as_slice()),
            (3, &[entry(10, 1), entry(20, 1)][..], &[entry(30, 1)][..])
        );
        while w.closed < 1_199 {
            w.close_next();
        }
        assert_eq!(w.count(), 3, "the window is 0..=1199");
        w.close_next();
        assert_eq!(w.count(), 3, "1..=1200, and 0 with it: its slice is still in");
        w.add(1, 40); // late, in the window: in its slice
        assert_eq!((w.count(), w.slices[0].len()), (4, 3));
        w.close_next();
        assert_eq!(w.count(), 1, "2..=1201: the slice of 0 and 1 left");
        w.add(1, 50); // late, out of the window: ignored
        w.close_next();
        assert_eq!(w.count(), 1, "3..=1202, and 2 with it");
        w.close_next();
        assert_eq!((w.count(), w.quantile(50, ANY)), (0, None));
        assert!(w.slices.iter().chain(&w.open_seconds).all(Vec::is_empty));
    }

    #[test]
    fn a_slice_takes_one_entry_a_bucket_whatever_its_seconds() {
        // 24 hours: slices of 144 seconds, every second in every bucket.
        let mut w = Timings::new(86_400, 2, -1);
        for t in 0..144 {
            for b in 0..BUCKETS {
                w.add(t, midpoint(b));
                w.add(t + 1, midpoint(b));
            }
            w.close_next();
        }
        assert_eq!(w.count(), 144 * 2 * BUCKETS as u64 - BUCKETS as u64);
        assert_eq!((w.slices[0].len(), w.slices[0].capacity(), w.slices[1].len()), (BUCKETS, BUCKETS, 0));
        assert_eq!(w.touched.len(), BUCKETS, "second 144, still open");
        w.close_next();
        assert_eq!(w.slices[1].len(), BUCKETS);
        assert_eq!(w.quantile(100, ANY), Some(midpoint(BUCKETS - 1)));
    }

    #[test]
    fn skipping_takes_out_the_slices_left_behind() {
        let mut w = Timings::new(1_200, 1, -1);
        w.add(0, 10);
        w.add(0, 10);
        for _ in 0..5 {
            w.close_next();
        }
        w.add(4, 30);
        w.close_next();
        w.skip_to(1_200);
        assert_eq!(w.count(), 3, "1..=1200 and 0: the slice of 0 and 1 is in");
        w.skip_to(1_201);
        assert_eq!(w.count(), 1, "2..=1201");
        w.skip_to(1_000_000);
        assert_eq!(w.count(), 0);
        // Far past the window at once, slots of all slices reused.
        let mut w = Timings::new(1_200, 1, -1);
        w.add(0, 10);
        w.close_next();
        w.skip_to(1_000_001);
        assert_eq!(w.count(), 0);
        w.add(1_000_002, 20);
        w.close_next();
        assert_eq!((w.count(), w.quantile(50, ANY)), (1, Some(20)));
    }

    /// A model: every time kept with its second, the covered seconds
    /// counted again at each close.
    #[test]
    fn the_totals_are_the_seconds_of_the_slices_in_the_window() {
        for (span, open, seed) in [(5, 2, 1_u64), (600, 3, 2), (601, 3, 3), (1_250, 2, 4), (1_800, 1, 5)] {
            let mut rng = Rng::seeded(seed);
            let mut w = Timings::new(span, open, 99);
            let mut kept: Vec<(Epoch, usize)> = Vec::new();
            let g = w.width;
            for c in 100..100 + 3 * Epoch::from(span) {
                for _ in 0..rng.below(4) {
                    let t = c + rng.below(u64::from(open) + 1) as Epoch - rng.below(u64::from(span) + 5) as Epoch / 2;
                    let us = rng.below(3_000_000);
                    if t <= w.closed + i64::from(open) && t > w.closed - i64::from(span) {
                        kept.push((t, bucket(us)));
                    }
                    w.add(t, us);
                }
                w.close_next();
                let first = g * (c - Epoch::from(span) + 1).div_euclid(g);
                kept.retain(|&(t, _)| t >= first);
                let mut want = vec![0; BUCKETS];
                for &(_, b) in kept.iter().filter(|(t, _)| *t <= c) {
                    want[b] += 1;
                }
                assert_eq!((&*w.totals, w.count), (&want[..], want.iter().sum()), "span {span}, closed {c}");
            }
        }
    }

    #[test]
    fn a_crowded_bucket_takes_several_entries() {
        let mut list = vec![entry(7, MAX_COUNT), entry(3, 1), entry(7, MAX_COUNT), entry(7, 5), entry(3, 2)];
        let mut scratch = vec![0; BUCKETS];
        merge(&mut list, &mut scratch);
        assert_eq!(list, [entry(7, MAX_COUNT), entry(3, 3), entry(7, MAX_COUNT), entry(7, 5)]);
        assert!(scratch.iter().all(|n| *n == 0));
        let mut w = Timings::new(1, 1, 0);
        let slot = w.open_slot(1);
        w.open_seconds[slot] = list;
        w.close_next();
        assert_eq!(w.count(), 2 * u64::from(MAX_COUNT) + 8);
        w.close_next();
        assert_eq!(w.count(), 0);
    }
}
