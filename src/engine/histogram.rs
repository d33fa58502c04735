//! Response times in bounded memory: a log-linear histogram whose
//! quantiles are within 1 % of the exact ones.
//!
//! Times below 128 µs have a bucket each. Above, each power of two
//! `[2^e, 2^(e+1))` is cut into 64 equal buckets of width `2^(e-6)`; a
//! bucket's midpoint is then within `2^(e-7) / 2^e = 1/128` (0.79 %) of any
//! value in it. Times from 2^36 µs (19 hours) on share the last bucket, and
//! the maximum is kept exactly. 1984 buckets, 16 KiB, whatever the input,
//! allocated at the first time counted: logs without times pay nothing.
//!
//! This file owns the bucket rule and the nearest rank; a rule's window of
//! times ([`super::timings`]) counts in the same buckets.

/// Buckets below the first power of two cut in 64.
const LINEAR: u64 = 128;
/// Sub-buckets per power of two.
const SUB_BITS: u32 = 6;
/// The first power of two not cut any further.
const TOP_EXP: u32 = 36;
pub const BUCKETS: usize = LINEAR as usize + (((TOP_EXP - 7) as usize) << SUB_BITS);

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Histogram {
    /// Empty until the first time is counted, then [`BUCKETS`] long.
    counts: Vec<u64>,
    count: u64,
    max: u64,
}

/// Quantiles of a set of response times, in microseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Latency {
    /// Times counted.
    pub count: u64,
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    /// Exact.
    pub max: u64,
}

impl Histogram {
    #[inline]
    pub fn add(&mut self, us: u64) {
        if self.counts.is_empty() {
            self.counts = vec![0; BUCKETS];
        }
        self.counts[bucket(us)] += 1;
        self.count += 1;
        self.max = self.max.max(us);
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    /// Adds another histogram's counts to this one.
    pub fn merge(&mut self, other: &Histogram) {
        if other.count == 0 {
            return;
        }
        if self.counts.is_empty() {
            self.counts = vec![0; BUCKETS];
        }
        for (mine, theirs) in self.counts.iter_mut().zip(other.counts.iter()) {
            *mine += theirs;
        }
        self.count += other.count;
        self.max = self.max.max(other.max);
    }

    pub fn clear(&mut self) {
        if self.count > 0 {
            self.counts.fill(0);
            self.count = 0;
            self.max = 0;
        }
    }

    /// The nearest-rank `percent` quantile (the value at rank
    /// `ceil(percent * count / 100)`), within 1 %; `None` when empty.
    pub fn quantile(&self, percent: u8) -> Option<u64> {
        if self.count == 0 {
            return None;
        }
        let i = ranked_bucket(&self.counts, rank(percent, self.count));
        Some(i.map_or(self.max, |i| midpoint(i).min(self.max)))
    }

    /// p50, p90, p99 and the maximum; `None` when no time was counted.
    pub fn latency(&self) -> Option<Latency> {
        Some(Latency {
            count: self.count,
            p50: self.quantile(50)?,
            p90: self.quantile(90)?,
            p99: self.quantile(99)?,
            max: self.max,
        })
    }
}

/// The nearest rank of the `percent` quantile of `count` values:
/// `ceil(percent * count / 100)`, at least 1.
pub fn rank(percent: u8, count: u64) -> u64 {
    // At most 100 * u64::MAX / 100: the division brings it back in range.
    let rank = (u128::from(percent) * u128::from(count)).div_ceil(100).max(1);
    u64::try_from(rank).unwrap_or(u64::MAX)
}

/// The bucket holding the value of rank `rank` (from 1) in bucket counts;
/// `None` when they hold fewer values.
pub fn ranked_bucket(counts: &[u64], rank: u64) -> Option<usize> {
    let mut seen = 0u64;
    counts.iter().position(|n| {
        seen = seen.saturating_add(*n);
        seen >= rank
    })
}

/// The bucket a time in microseconds is counted in, below [`BUCKETS`].
#[inline]
pub fn bucket(us: u64) -> usize {
    if us < LINEAR {
        return us as usize;
    }
    let exp = (63 - us.leading_zeros()).min(TOP_EXP - 1);
    let us = us.min((1 << TOP_EXP) - 1);
    let sub = (us >> (exp - SUB_BITS)) & ((1 << SUB_BITS) - 1);
    LINEAR as usize + (((exp - 7) as usize) << SUB_BITS) + sub as usize
}

/// The value a bucket stands for: its midpoint (a linear bucket's own
/// value), within 1/128 of any value counted in it.
pub fn midpoint(i: usize) -> u64 {
    if (i as u64) < LINEAR {
        return i as u64;
    }
    let k = i - LINEAR as usize;
    let exp = (k >> SUB_BITS) as u32 + 7;
    let sub = (k & ((1 << SUB_BITS) - 1)) as u64;
    let width = 1u64 << (exp - SUB_BITS);
    (1u64 << exp) + sub * width + width / 2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_cover_every_value_in_order() {
        let mut last = 0;
        for us in 0..1_000_000 {
            let b = bucket(us);
            assert!(b == last || b == last + 1, "{us}");
            last = b;
        }
        for e in 0..64 {
            assert!(bucket(1 << e) < BUCKETS, "2^{e}");
        }
        assert_eq!(bucket(u64::MAX), BUCKETS - 1);
    }

    #[test]
    fn the_relative_error_is_under_one_percent() {
        let mut us = 1u64;
        while us < (1 << TOP_EXP) {
            let shown = midpoint(bucket(us));
            let error = shown.abs_diff(us) as f64 / us as f64;
            assert!(error <= 1.0 / 128.0, "{us} shown as {shown}");
            us = us + us / 97 + 1;
        }
    }

    #[test]
    fn quantiles_are_nearest_rank() {
        let mut h = Histogram::default();
        assert_eq!(h.latency(), None);
        for ms in 1..=100 {
            h.add(ms * 1000);
        }
        let l = h.latency().expect("counted");
        let near = |got: u64, want: u64| got.abs_diff(want) * 100 <= want;
        assert!(near(l.p50, 50_000) && near(l.p90, 90_000) && near(l.p99, 99_000), "{l:?}");
        assert_eq!((l.count, l.max), (100, 100_000));
        // Small values are exact; one value is every quantile.
        let mut h = Histogram::default();
        h.add(7);
        assert_eq!(h.latency(), Some(Latency { count: 1, p50: 7, p90: 7, p99: 7, max: 7 }));
    }

    #[test]
    fn merging_adds_and_clearing_empties() {
        let (mut a, mut b) = (Histogram::default(), Histogram::default());
        a.add(1_000);
        b.add(3_000_000);
        b.add(u64::MAX);
        a.merge(&b);
        assert_eq!((a.count(), a.latency().map(|l| l.max)), (3, Some(u64::MAX)));
        a.clear();
        assert_eq!((a.count(), a.latency()), (0, None));
    }
}
