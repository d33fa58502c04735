//! Live mode's warnings that the input may not be a log logmon reads: its
//! first lines all malformed, or too many malformed in a report. Replay
//! says so once at its end instead (see [`crate::replay`]).

use crate::diag;
use crate::engine::Outcome;
use crate::engine::stats::Report;
use crate::engine::timestamp::Epoch;
use crate::output::escape::Name;

/// Non-blank lines that, all malformed from the start, earn the warning.
pub const FIRST_LINES: u32 = 100;

/// A report warns when more than `1/SHARE` of its lines are malformed.
const SHARE: u64 = 10;

/// Report-time seconds between two warnings about a report's share.
const QUIET_FOR: Epoch = 600;

#[derive(Debug, Default)]
pub struct Suspect {
    /// Non-blank malformed lines before the first valid one.
    bad_start: u32,
    /// A valid line came, or the first lines were warned about.
    past_start: bool,
    /// The end of the report last warned about.
    warned_at: Option<Epoch>,
}

impl Suspect {
    /// Whether [`line`](Self::line) still looks at lines: not once the
    /// start is past.
    pub fn watches_lines(&self) -> bool {
        !self.past_start
    }

    /// Looks at what became of line of `source`, until the start is past.
    #[inline]
    pub fn line(&mut self, source: &Name, outcome: &Outcome) {
        if self.past_start {
            return;
        }
        match outcome {
            Outcome::Hit { .. } => self.past_start = true,
            Outcome::Skipped => {}
            Outcome::Malformed(_) => {
                self.bad_start += 1;
                if self.bad_start == FIRST_LINES {
                    self.past_start = true;
                    diag::say(format_args!(
                        "WARNING: the first {FIRST_LINES} lines of {source} are all malformed; \
                         is it in another format? --log-format names the formats logmon reads \
                         (logmon --help). Reading on."
                    ));
                }
            }
        }
    }

    /// A scheduled report: warns when more than a tenth of its lines were
    /// malformed, at most once per [`QUIET_FOR`].
    pub fn report(&mut self, report: &Report) {
        if report.requested || !self.share_is_news(report.end, report.hits, report.malformed) {
            return;
        }
        diag::say(format_args!(
            "warning: {} of {} lines in the report ending {} were malformed; \
             is part of the input in another format? (said at most every {})",
            report.malformed,
            report.hits + report.malformed,
            crate::output::Rfc3339(report.end),
            crate::output::Duration(QUIET_FOR),
        ));
    }

    /// Whether a report ending at `end` with these counts is to be warned
    /// about.
    fn share_is_news(&mut self, end: Epoch, hits: u64, malformed: u64) -> bool {
        if malformed * SHARE <= hits + malformed || self.warned_at.is_some_and(|t| end < t + QUIET_FOR) {
            return false;
        }
        self.warned_at = Some(end);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::parse::Malformed;

    #[test]
    fn the_first_lines_all_malformed_warn_once() {
        let name = Name::from("x.log");
        let mut s = Suspect::default();
        for _ in 0..FIRST_LINES - 1 {
            s.line(&name, &Outcome::Malformed(Malformed::NotClf));
        }
        assert!(!s.past_start);
        s.line(&name, &Outcome::Skipped);
        assert!(!s.past_start, "a blank line does not count");
        s.line(&name, &Outcome::Malformed(Malformed::NotClf));
        assert!(s.past_start);
    }

    #[test]
    fn a_valid_line_first_ends_the_watch() {
        let name = Name::from("x.log");
        let mut s = Suspect::default();
        s.line(&name, &Outcome::Skipped);
        assert!(!s.past_start);
        s.line(&name, &Outcome::Hit { time: 0, placement: crate::engine::window::Placement::Open, latency_us: None });
        assert!(s.past_start);
        assert_eq!(s.bad_start, 0);
    }

    #[test]
    fn more_than_a_tenth_malformed_warns_at_most_every_ten_minutes() {
        let mut s = Suspect::default();
        assert!(!s.share_is_news(10, 90, 10), "exactly a tenth is fine");
        assert!(s.share_is_news(20, 89, 11));
        assert!(!s.share_is_news(30, 0, 50), "rate-limited");
        assert!(!s.share_is_news(619, 0, 50), "rate-limited");
        assert!(s.share_is_news(620, 0, 50));
        assert!(!s.share_is_news(2000, 0, 0), "no lines, nothing to say");
    }
}
