//! How far out of order late lines arrived, and the `--max-delay` that
//! would have counted them on time.
//!
//! Each late line needs a `--max-delay` of at least
//! [`MaxDelay::needed`] to have been on time. The counts of
//! what each late line needed, up to [`MAX_DELAY`], are kept; at the end
//! of a run with more than 1 % of hits late, the `--max-delay` that would
//! have counted them all on time is named, or if that is more than
//! [`MAX_DELAY`], the smallest one that would leave at most 1 % late: one
//! line from last week is not worth waiting for.

use super::interface::{LateLines, MAX_DELAY};
use super::schedule::MaxDelay;
use super::timestamp::Epoch;

#[derive(Debug, Default)]
pub struct Lateness {
    /// `needed[d]`: late lines that `--max-delay d` would have counted on
    /// time; the last slot, those that no legal value would have.
    needed: Vec<u64>,
    late: u64,
    /// The farthest out of order a late line arrived, seconds.
    farthest: i64,
}

impl Lateness {
    /// A line stamped `time` arrived late, with the clock at `now`.
    #[cold]
    pub fn late(&mut self, time: Epoch, now: Epoch) {
        let needed = MaxDelay::needed(time, now);
        if self.needed.is_empty() {
            self.needed = vec![0; MAX_DELAY as usize + 2];
        }
        let slot = usize::try_from(needed).unwrap_or(0).min(MAX_DELAY as usize + 1);
        self.needed[slot] += 1;
        self.late += 1;
        self.farthest = self.farthest.max(needed);
    }

    /// Worth saying when more than 1 % of `hits` were late.
    pub fn explain(&self, hits: u64) -> Option<LateLines> {
        if self.late * 100 <= hits {
            return None;
        }
        // Late lines that a delay of d would still leave late: those that
        // needed more than d.
        if self.farthest <= i64::from(MAX_DELAY) {
            let max_delay = Some(self.farthest as u32);
            return Some(LateLines { late: self.late, hits, farthest: self.farthest, max_delay, all: true });
        }
        let allowed = hits / 100;
        let mut still_late = self.late;
        let mut max_delay = None;
        for (d, &n) in self.needed.iter().enumerate().take(MAX_DELAY as usize + 1) {
            still_late -= n;
            if still_late <= allowed {
                max_delay = Some(d as u32);
                break;
            }
        }
        Some(LateLines { late: self.late, hits, farthest: self.farthest, max_delay, all: false })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_percent_late_is_not_worth_saying() {
        let mut l = Lateness::default();
        l.late(100, 110);
        assert_eq!(l.explain(100), None);
        assert!(l.explain(99).is_some());
    }

    #[test]
    fn names_the_delay_that_leaves_at_most_one_percent_late() {
        let mut l = Lateness::default();
        for i in 0..50 {
            l.late(1000, 1003 + i % 50);
        }
        let said = l.explain(200).expect("more than 1 % late");
        assert_eq!((said.farthest, said.max_delay, said.all), (52, Some(52), true));
        l.late(0, 1000); // one ancient line is not worth waiting for
        let said = l.explain(200).expect("more than 1 % late");
        assert_eq!((said.late, said.farthest, said.all), (51, 1000, false));
        // 200 hits allow 2 late: waiting 51 s leaves the line that needed
        // 52 s and the ancient one late, and no shorter wait does as well.
        assert_eq!(said.max_delay, Some(51));
    }

    #[test]
    fn no_legal_delay_is_named_when_none_would_do() {
        let mut l = Lateness::default();
        for _ in 0..10 {
            l.late(0, 100_000);
        }
        let said = l.explain(10).expect("all late");
        assert_eq!(said.max_delay, None);
        assert_eq!(said.farthest, 100_000);
    }
}
