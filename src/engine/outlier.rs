//! Replay's rule for timestamps that disagree with the majority.
//!
//! In replay the log's own timestamps are the clock, so one line stamped
//! years ahead could drag the clock along and make every later line late.
//! A hit stamped more than the window plus `max_delay` ahead of the clock
//! (the *tolerance*: past it a jump would empty the window) is therefore
//! *held*, and the hits after it decide:
//!
//! - a hit back near the clock says the held ones were wrong: they count
//!   as early, outside the alert window;
//! - a hit more than the tolerance *before* a held one says that one was
//!   wrong (it counts as early), the others stay held;
//! - once [`CONFIRM`] hits in a row are held, the log did jump (a gap in
//!   traffic): they count in their own seconds and move the clock.
//!
//! The first hits of a run are held the same way, since there is no clock
//! yet to compare them with: the clock starts at the first of the first
//! [`CONFIRM`] hits that no later one of them contradicts. At the end of
//! input no more hits can confirm the held ones, so their size decides
//! ([`believed_at_end`]): the last hits of a quiet site come minutes or
//! hours apart and count in their own seconds; one line years ahead at the
//! end is as suspect as one at the start and counts as early.

use super::parse::Record;
use super::section;
use super::timestamp::Epoch;

/// Hits in a row it takes to believe that the log's clock jumped: more than
/// the few lines one misconfigured writer or one retried request stamps
/// wrong together, and few enough that a real jump costs nothing but these
/// lines' wait (replay does not wait on a clock).
pub const CONFIRM: usize = 5;

/// At the end of input, how far ahead of the log's clock a held hit may be
/// and still count in its own second: a night without traffic, but not the
/// years of a clock set wrong.
pub const END_JUMP: i64 = 86_400;

/// Whether a hit held at the end of input, stamped `time`, is believed with
/// the log's clock at `now` (the held hits before it already counted).
pub fn believed_at_end(time: Epoch, now: Epoch) -> bool {
    time - now <= END_JUMP
}

/// A hit kept across lines: the line's bytes will be gone by then.
#[derive(Debug)]
pub struct Held {
    pub time: Epoch,
    status: u16,
    bytes: u64,
    latency_us: Option<u64>,
    section: Option<Copied>,
    /// Cut to the length reports count clients by.
    client: Option<Copied>,
}

/// A short byte string kept inline.
type Copied = ([u8; section::MAX_SECTION_LEN], u8);

fn copied(bytes: &[u8]) -> Copied {
    let len = bytes.len().min(section::MAX_SECTION_LEN);
    let mut copy = [0; section::MAX_SECTION_LEN];
    copy[..len].copy_from_slice(&bytes[..len]);
    (copy, len as u8)
}

fn kept(copy: &Copied) -> &[u8] {
    &copy.0[..usize::from(copy.1)]
}

impl Held {
    pub fn new(record: &Record<'_>) -> Held {
        Held {
            time: record.time,
            status: record.status,
            bytes: record.bytes,
            latency_us: record.latency_us,
            section: record.section.map(copied),
            client: record.client.map(copied),
        }
    }

    pub fn record(&self) -> Record<'_> {
        // Only what reports and rules count is kept of a held line.
        Record {
            time: self.time,
            status: self.status,
            bytes: self.bytes,
            latency_us: self.latency_us,
            section: self.section.as_ref().map(kept),
            client: self.client.as_ref().map(kept),
            ..Record::default()
        }
    }
}

/// Where the clock starts, given the first hits of a run in the order they
/// were read: the first time that no later one is more than `tolerance`
/// before. A lone line far ahead at the top of a log is passed over; a
/// sparse log starts at its first line.
pub fn start(times: &[Epoch], tolerance: i64) -> Option<Epoch> {
    (0..times.len()).find(|&i| times[i + 1..].iter().all(|&later| later >= times[i] - tolerance)).map(|i| times[i])
}

/// Whether a hit at `later` contradicts a held hit at `held`.
pub fn contradicts(later: Epoch, held: Epoch, tolerance: i64) -> bool {
    later < held - tolerance
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_start_passes_over_a_lone_line_far_ahead() {
        assert_eq!(start(&[2_000_000, 100, 101, 101, 102], 10), Some(100));
        assert_eq!(start(&[100, 2_000_000, 101, 101, 102], 10), Some(100));
    }

    #[test]
    fn a_sparse_log_starts_at_its_first_line() {
        assert_eq!(start(&[0, 300, 600, 900, 1200], 10), Some(0));
    }

    #[test]
    fn lines_a_little_out_of_order_start_at_the_first() {
        assert_eq!(start(&[105, 100, 103, 110, 104], 10), Some(105));
        assert_eq!(start(&[], 10), None);
    }

    #[test]
    fn at_the_end_a_day_ahead_is_believed_and_more_is_not() {
        assert!(believed_at_end(100 + END_JUMP, 100));
        assert!(!believed_at_end(101 + END_JUMP, 100));
    }

    #[test]
    fn only_a_line_before_by_more_than_the_tolerance_contradicts() {
        assert!(!contradicts(95, 100, 5));
        assert!(contradicts(94, 100, 5));
        assert!(!contradicts(1_000, 100, 5));
    }
}
