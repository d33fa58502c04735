//! Live mode's rule for a log whose clock is off.
//!
//! Live mode buckets lines by their own timestamps but closes seconds by the
//! wall clock, so a log stamped an hour behind would land every line outside
//! the alert window and leave logmon blind. The rule, decided by the
//! majority of lines and never by the newest one:
//!
//! - Each wall second, the lines read during it vote: a line is *off* when
//!   its timestamp is more than [`TOLERANCE`] seconds from the wall clock
//!   (after the shift in force). The second is evidence only if most of its
//!   lines are off; its error is the median error of its off lines (a
//!   bounded, evenly spread sample of them).
//! - A second whose lines are mostly on time resets the evidence: 2 % of
//!   lines stamped an hour ahead (one server of a merged log without NTP)
//!   never outvote the other 98 %.
//! - A second whose lines' median timestamp advanced faster than the wall
//!   clock since the previous evidence is a backlog being read (`tail -F`
//!   printing old lines, `--from-start`, an old log through a pipe), whatever
//!   the size of each read: it resets the evidence, so old lines alone never
//!   shift the clock.
//! - After [`SETTLE`] seconds of evidence in a row, the log's clock is taken
//!   to be off by the median of their errors, and every later timestamp is
//!   shifted by it. Seconds without lines change nothing.

use super::timestamp::Epoch;

/// Seconds a log may be off before it is treated as wrong, not just slow.
pub const TOLERANCE: i64 = 10;

/// Seconds of evidence in a row it takes to decide.
pub const SETTLE: usize = 10;

/// Off lines sampled per second, at most: their median is the second's
/// error.
const SAMPLE: usize = 64;

#[derive(Debug, Default)]
pub struct Skew {
    /// The shift in force: add it to a timestamp to get wall-clock time.
    offset: i64,
    /// The wall second whose lines are being counted.
    second: Epoch,
    on_time: u64,
    off: u64,
    /// Every `stride`-th off line's timestamp, as logged.
    sample: Vec<Epoch>,
    /// `stride - 1`, the stride a power of two: a mask, so that picking
    /// costs no division a line.
    stride_mask: u64,
    /// The off lines looked at for the sample are those whose count has no
    /// bit of this mask: the stride's, or none while the sample is full,
    /// so that the next off line halves it. The others cost a test.
    look_mask: u64,
    /// The errors of the seconds of evidence so far.
    evidence: Vec<i64>,
    /// The last second of evidence and its lines' median timestamp.
    last: Option<(Epoch, Epoch)>,
    /// Lines stamped `run_time`, the last ones read, not voted yet: a run
    /// of lines that share a stamp votes alike (only `second` and `offset`
    /// decide, and those change only at a tick), so it votes once, when a
    /// line of another stamp or the tick comes (see [`vote`](Self::vote)).
    run: u64,
    run_time: Epoch,
}

impl Skew {
    /// The shift in force.
    pub fn offset(&self) -> i64 {
        self.offset
    }

    /// A line stamped `time` was read during the current wall second.
    /// Most lines share the stamp of the line before: they cost a compare
    /// and a count, and their run votes later, as one.
    #[inline(always)]
    pub fn line(&mut self, time: Epoch) {
        if time != self.run_time {
            self.vote();
            self.run_time = time;
        }
        self.run += 1;
    }

    /// The run's lines vote, as each would have alone, in the order read:
    /// on time, or off, each off line whose count has no bit of
    /// `look_mask` looked at for the sample (the next such count after
    /// `off` is `(off | look_mask) + 1`).
    #[inline(never)]
    fn vote(&mut self) {
        let (n, time) = (std::mem::take(&mut self.run), self.run_time);
        if n == 0 {
            return;
        }
        let error = self.second - time - self.offset;
        if error.abs() <= TOLERANCE {
            self.on_time += n;
            return;
        }
        let end = self.off + n;
        loop {
            let next = (self.off | self.look_mask) + 1;
            if next > end {
                break;
            }
            self.off = next;
            self.pick(time);
        }
        self.off = end;
    }

    /// An off line stamped `time` that may go into the sample: the first
    /// after the sample filled, or one of the stride's.
    fn pick(&mut self, time: Epoch) {
        if self.sample.len() == SAMPLE {
            // Full: keep every other one and sample half as often, so the
            // sample stays spread over the whole second.
            let mut i = 0;
            self.sample.retain(|_| {
                i += 1;
                i % 2 == 0
            });
            self.stride_mask = self.stride_mask * 2 + 1;
        }
        if self.off & self.stride_mask == 0 {
            self.sample.push(time);
        }
        self.look_mask = if self.sample.len() == SAMPLE { 0 } else { self.stride_mask };
    }

    /// The wall clock reads `now`: the second before it is over and votes.
    /// Returns the new shift when the evidence settles on one.
    pub fn tick(&mut self, now: Epoch) -> Option<i64> {
        if now <= self.second {
            return None;
        }
        // The lines of the second that ends vote as it ends.
        self.vote();
        let second = std::mem::replace(&mut self.second, now);
        let (on_time, off) = (std::mem::take(&mut self.on_time), std::mem::take(&mut self.off));
        (self.stride_mask, self.look_mask) = (0, 0);
        if on_time + off == 0 {
            return None;
        }
        if on_time >= off || self.sample.is_empty() {
            self.reset();
            return None;
        }
        self.sample.sort_unstable();
        let median = self.sample[self.sample.len() / 2];
        self.sample.clear();
        if self.last.is_some_and(|(before, was)| median - was > second - before + TOLERANCE) {
            // Faster than the wall clock: a backlog.
            self.reset();
            return None;
        }
        self.last = Some((second, median));
        self.evidence.push(second - median - self.offset);
        if self.evidence.len() < SETTLE {
            return None;
        }
        self.evidence.sort_unstable();
        self.offset += self.evidence[SETTLE / 2];
        self.reset();
        Some(self.offset)
    }

    fn reset(&mut self) {
        self.evidence.clear();
        self.sample.clear();
        self.last = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `lines` lines stamped `error` seconds behind wall second `now`, then
    /// the tick that ends that second.
    fn second(s: &mut Skew, now: Epoch, lines: &[(usize, i64)]) -> Option<i64> {
        for &(n, error) in lines {
            (0..n).for_each(|_| s.line(now - error));
        }
        s.tick(now + 1)
    }

    #[test]
    fn a_clock_that_is_right_changes_nothing() {
        let mut s = Skew::default();
        for now in 0..100 {
            assert_eq!(second(&mut s, now, &[(10, 3), (10, -TOLERANCE)]), None);
        }
        assert_eq!(s.offset, 0);
    }

    #[test]
    fn a_log_an_hour_behind_is_followed() {
        let mut s = Skew::default();
        for now in 0..SETTLE as i64 - 1 {
            assert_eq!(second(&mut s, now, &[(50, 3600)]), None);
        }
        assert_eq!(second(&mut s, 9, &[(50, 3600)]), Some(3600));
        // From then on the shifted stamps are on time.
        assert_eq!(second(&mut s, 10, &[(50, 3600)]), None);
        assert_eq!(s.offset, 3600);
    }

    #[test]
    fn a_log_ahead_is_followed() {
        let mut s = Skew::default();
        let decided = (0..SETTLE as i64).filter_map(|now| second(&mut s, now, &[(5, -300)])).last();
        assert_eq!(decided, Some(-300));
    }

    #[test]
    fn a_few_lines_far_off_never_outvote_the_rest() {
        // 98 lines a second on time, two an hour ahead (issue: 2 % of
        // lines shifted the clock by -3599 s when the newest one decided).
        // The on-time lines share one stamp, so they are one run: with two
        // off lines, a run that voted once instead of once a line would lose.
        let mut s = Skew::default();
        for now in 0..1000 {
            assert_eq!(second(&mut s, now, &[(98, 0), (2, -3600)]), None);
        }
    }

    #[test]
    fn a_second_mostly_on_time_resets_the_evidence() {
        let mut s = Skew::default();
        for now in 0..SETTLE as i64 - 1 {
            second(&mut s, now, &[(5, 3600)]);
        }
        assert_eq!(second(&mut s, 9, &[(5, 0)]), None);
        assert_eq!(second(&mut s, 10, &[(5, 3600)]), None);
        assert_eq!(s.offset, 0);
    }

    #[test]
    fn a_backlog_never_shifts_the_clock() {
        // An old log through a pipe: each wall second reads a day of it.
        let mut s = Skew::default();
        let start = 1_000_000_000;
        s.tick(start + 29_000_000);
        for k in 0..1000 {
            let now = start + 29_000_000 + k;
            for i in 0..5000 {
                s.line(start + k * 86_400 + i * 17);
            }
            assert_eq!(s.tick(now + 1), None, "second {k}");
        }
        assert_eq!(s.offset, 0);
    }

    #[test]
    fn the_median_resists_stragglers() {
        let mut s = Skew::default();
        let errors = [3600, 3601, 3600, 3599, 3600, 3600, 3600, 3600, 3602, 3600];
        let decided = errors
            .iter()
            .enumerate()
            .filter_map(|(i, &e)| second(&mut s, i as i64, &[(5, e), (2, 90_000), (1, 7_200)]))
            .last();
        assert_eq!(decided, Some(3600));
    }

    #[test]
    fn a_corrected_log_that_drifts_back_is_followed_again() {
        let mut s = Skew::default();
        (0..SETTLE as i64).for_each(|now| _ = second(&mut s, now, &[(5, 3600)]));
        assert_eq!(s.offset, 3600);
        let decided = (100..100 + SETTLE as i64).filter_map(|now| second(&mut s, now, &[(5, 0)])).last();
        assert_eq!(decided, Some(0));
    }

    impl Skew {
        /// The sample, once the lines read so far have voted.
        fn voted(&mut self) -> &[Epoch] {
            self.vote();
            &self.sample
        }
    }

    /// The sample as it was first written: every off line checks whether
    /// the sample is full, and whether its count is a multiple of the stride.
    #[derive(Default)]
    struct Model {
        off: u64,
        stride: u64,
        sample: Vec<Epoch>,
    }

    impl Model {
        fn off_line(&mut self, time: Epoch) {
            self.off += 1;
            if self.sample.len() == SAMPLE {
                let mut i = 0;
                self.sample.retain(|_| {
                    i += 1;
                    i % 2 == 0
                });
                self.stride = self.stride.max(1) * 2;
            }
            if self.off.is_multiple_of(self.stride.max(1)) {
                self.sample.push(time);
            }
        }
    }

    #[test]
    fn the_sample_is_the_model_s_at_every_line() {
        // Seconds of up to a few thousand lines, mostly off, each ending in
        // a tick that votes (and so clears the sample): the sample holds the
        // same lines as the model's after every line, whenever the second
        // ends.
        // Lines come in runs of one stamp (of 1 to 40 lines), as a log's
        // lines share their second; a run votes when it ends, or when the
        // sample is looked at (`voted`), which may cut it in two.
        let mut rng = crate::engine::testkit::Rng::seeded(7);
        let mut s = Skew::default();
        let mut model = Model::default();
        for now in 1..300 {
            let mut lines = rng.below(3000);
            while lines > 0 {
                let time = if rng.below(10) < 8 { now - 3600 - rng.below(50) as i64 } else { now };
                for _ in 0..(1 + rng.below(40)).min(lines) {
                    lines -= 1;
                    // Off as the shift in force has it (the log is taken
                    // to be an hour behind after a while).
                    if (now - time - s.offset).abs() > TOLERANCE {
                        model.off_line(time);
                    }
                    s.line(time);
                    if rng.below(8) == 0 {
                        assert_eq!(s.voted(), model.sample, "second {now}, off line {}", model.off);
                    }
                }
                assert_eq!(s.voted(), model.sample, "second {now}, off line {}", model.off);
            }
            s.tick(now + 1);
            model = Model::default();
            assert!(s.sample.is_empty(), "a tick after lines clears the sample");
        }
    }

    #[test]
    fn the_sample_stays_bounded_and_spread() {
        let mut s = Skew::default();
        for i in 0..100_000 {
            s.line(-3600 - i % 7);
            assert!(s.voted().len() <= SAMPLE);
        }
        assert!(s.sample.contains(&-3606) && s.sample.contains(&-3600));
    }

    #[test]
    fn a_run_of_lines_votes_as_its_lines_would() {
        // One run of 10,000 off lines, voted once: the sample as the model
        // took it line by line, and every line counted off.
        let mut s = Skew::default();
        let mut model = Model::default();
        for _ in 0..10_000 {
            s.line(-3600);
            model.off_line(-3600);
        }
        assert_eq!(s.voted(), model.sample);
        assert_eq!((s.off, s.on_time), (10_000, 0));
    }
}
