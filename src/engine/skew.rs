//! Live mode's rule for a log whose clock is off.
//!
//! Live mode buckets lines by their own timestamps but closes seconds by the
//! wall clock, so a log stamped an hour behind would land every line outside
//! the alert window and leave logmon blind. The rule: whenever logmon has
//! caught up with its input, the newest timestamp read in the last second is
//! compared with the wall clock. If it is off by more than [`TOLERANCE`]
//! seconds for [`SETTLE`] such observations in a row, the log's clock is
//! taken to be off by their median, and every later timestamp is shifted by
//! it. A backlog (`tail -F` printing old lines, `--from-start`) never counts,
//! and one fresh line resets the count, so old lines alone never shift it.

use super::timestamp::Epoch;

/// Seconds a log may be off before it is treated as wrong, not just slow.
pub const TOLERANCE: i64 = 10;

/// Observations in a row it takes to decide.
pub const SETTLE: usize = 10;

#[derive(Debug, Default)]
pub struct Skew {
    seen: [i64; SETTLE],
    count: usize,
    /// The shift in force: add it to a timestamp to get wall-clock time.
    offset: i64,
}

impl Skew {
    /// At wall second `now`, with the input caught up, the newest line read
    /// during the last second was stamped `newest`. Returns the new offset
    /// when the evidence settles on one.
    pub fn observe(&mut self, now: Epoch, newest: Epoch) -> Option<i64> {
        let error = now - newest;
        if (error - self.offset).abs() <= TOLERANCE {
            self.count = 0;
            return None;
        }
        self.seen[self.count] = error;
        self.count += 1;
        if self.count < SETTLE {
            return None;
        }
        self.count = 0;
        let mut sorted = self.seen;
        sorted.sort_unstable();
        self.offset = sorted[SETTLE / 2];
        Some(self.offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clock_that_is_right_changes_nothing() {
        let mut s = Skew::default();
        for now in 0..100 {
            assert_eq!(s.observe(now, now - 3), None);
            assert_eq!(s.observe(now, now + TOLERANCE), None);
        }
        assert_eq!(s.offset, 0);
    }

    #[test]
    fn a_log_an_hour_behind_is_followed() {
        let mut s = Skew::default();
        for now in 0..SETTLE as i64 - 1 {
            assert_eq!(s.observe(now, now - 3600), None);
        }
        assert_eq!(s.observe(9, 9 - 3600), Some(3600));
        // From then on the shifted stamps are on time.
        assert_eq!(s.observe(10, 10 - 3600), None);
    }

    #[test]
    fn a_log_ahead_is_followed() {
        let mut s = Skew::default();
        let decided = (0..SETTLE as i64).filter_map(|now| s.observe(now, now + 300)).last();
        assert_eq!(decided, Some(-300));
    }

    #[test]
    fn one_fresh_line_resets_the_evidence() {
        let mut s = Skew::default();
        for now in 0..SETTLE as i64 - 1 {
            s.observe(now, now - 3600);
        }
        assert_eq!(s.observe(9, 9), None);
        assert_eq!(s.observe(10, 10 - 3600), None);
        assert_eq!(s.offset, 0);
    }

    #[test]
    fn the_median_resists_stragglers() {
        let mut s = Skew::default();
        let errors = [3600, 3601, 7200, 3600, 3599, 3600, 90_000, 3600, 3602, 3600];
        let decided = errors.iter().enumerate().filter_map(|(i, e)| s.observe(i as i64, i as i64 - e)).last();
        assert_eq!(decided, Some(3600));
    }

    #[test]
    fn a_corrected_log_that_drifts_back_is_followed_again() {
        let mut s = Skew::default();
        (0..SETTLE as i64).for_each(|now| _ = s.observe(now, now - 3600));
        assert_eq!(s.offset, 3600);
        let decided = (100..100 + SETTLE as i64).filter_map(|now| s.observe(now, now)).last();
        assert_eq!(decided, Some(0));
    }
}
