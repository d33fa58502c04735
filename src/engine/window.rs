//! Hits per second in a ring, with the running total of the alert window.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::timestamp::Epoch;

/// Per-second hit counts for the `span` closed seconds of the alert window
/// and the `open` seconds after them that may still receive lines.
#[derive(Debug)]
pub struct Window {
    buckets: Box<[u64]>,
    span: i64,
    open: i64,
    /// The last closed second.
    closed: Epoch,
    /// Hits in the window: closed seconds `closed - span + 1 ..= closed`.
    sum: u64,
    /// Hits in open seconds.
    pending: u64,
    /// The closed seconds in the window that hold hits, each once, the
    /// oldest on top: the next one to change the total when it leaves.
    holding: BinaryHeap<Reverse<Epoch>>,
}

/// Where a hit landed, relative to the closed seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    /// Its second is still open: counted on time.
    Open,
    /// Its second had closed, but is still inside the window.
    LateInWindow,
    /// Its second has left the window: it counts nowhere in the alert.
    LateOutside,
    /// Beyond the open seconds: stamped ahead of the wall clock live, or a
    /// lone timestamp far ahead of the log's clock in replay. Not in the
    /// window.
    Early,
}

impl Window {
    /// `span` seconds of window, `open` seconds that may still fill, and the
    /// last second considered closed.
    pub fn new(span: u32, open: u32, closed: Epoch) -> Window {
        // Any length of at least span + open works (every second leaving
        // the window zeroes its slot); a power of two makes the slot of a
        // second a mask, not a division, on the per-line path.
        let len = (span as usize + open as usize).next_power_of_two();
        Window {
            buckets: vec![0; len].into_boxed_slice(),
            span: i64::from(span),
            open: i64::from(open),
            closed,
            sum: 0,
            pending: 0,
            holding: BinaryHeap::new(),
        }
    }

    pub fn closed(&self) -> Epoch {
        self.closed
    }

    /// Hits in the window's closed seconds.
    pub fn hits(&self) -> u64 {
        self.sum
    }

    #[inline]
    pub fn slot(&self, t: Epoch) -> usize {
        // Two's complement makes the mask a Euclidean remainder, negative
        // seconds included.
        (t as usize) & (self.buckets.len() - 1)
    }

    #[inline]
    pub fn add(&mut self, t: Epoch) -> Placement {
        if t > self.closed + self.open {
            return Placement::Early;
        }
        if t <= self.closed - self.span {
            return Placement::LateOutside;
        }
        let slot = self.slot(t);
        self.buckets[slot] += 1;
        if t > self.closed {
            self.pending += 1;
            Placement::Open
        } else {
            self.sum += 1;
            if self.buckets[slot] == 1 {
                self.holding.push(Reverse(t));
            }
            Placement::LateInWindow
        }
    }

    /// Counts `n` more hits in the open second whose slot is `slot`, as
    /// `n` calls of [`add`](Self::add) of that second would: for a caller
    /// that knows the second is still open (no second closed since it was
    /// added).
    pub fn add_open(&mut self, slot: usize, n: u64) {
        self.buckets[slot] += n;
        self.pending += n;
    }

    /// Closes the next second and returns it with the window's new total.
    pub fn close_next(&mut self) -> (Epoch, u64) {
        let t = self.closed + 1;
        let entering = self.buckets[self.slot(t)];
        self.pending -= entering;
        self.sum += entering;
        if entering > 0 {
            self.holding.push(Reverse(t));
        }
        // The second leaving the window is zeroed, so that its slot is clean
        // when a later second comes to use it.
        let leaving = self.slot(t - self.span);
        if self.buckets[leaving] > 0 {
            debug_assert_eq!(self.holding.peek(), Some(&Reverse(t - self.span)));
            self.holding.pop();
        }
        self.sum -= self.buckets[leaving];
        self.buckets[leaving] = 0;
        self.closed = t;
        (t, self.sum)
    }

    /// The last second that closing can reach without changing the
    /// window's total: no hit waits in an open second, and until then no
    /// second holding hits leaves the window. `None` while hits wait.
    pub fn steady_until(&self) -> Option<Epoch> {
        if self.pending > 0 {
            return None;
        }
        Some(self.holding.peek().map_or(Epoch::MAX, |&Reverse(oldest)| oldest + self.span - 1))
    }

    /// Closes every second up to `t` at once, `t` no later than
    /// [`steady_until`](Self::steady_until): closing them one by one would
    /// only move zeros about.
    pub fn skip_to(&mut self, t: Epoch) {
        debug_assert!(self.steady_until().is_some_and(|until| t <= until));
        self.closed = self.closed.max(t);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_the_last_span_seconds() {
        let mut w = Window::new(3, 4, 99);
        for t in [100, 100, 101, 102, 103] {
            assert_eq!(w.add(t), Placement::Open, "{t}");
        }
        assert_eq!(w.close_next(), (100, 2));
        assert_eq!(w.close_next(), (101, 3));
        assert_eq!(w.close_next(), (102, 4));
        assert_eq!(w.close_next(), (103, 3), "second 100 left the window");
        assert_eq!(w.close_next(), (104, 2));
        assert_eq!(w.close_next(), (105, 1));
        assert_eq!(w.close_next(), (106, 0));
        assert_eq!(w.steady_until(), Some(Epoch::MAX), "nothing left to change");
    }

    #[test]
    fn late_hits_count_while_their_second_is_in_the_window() {
        let mut w = Window::new(3, 1, 99);
        for _ in 0..4 {
            w.close_next();
        }
        assert_eq!(w.closed(), 103);
        assert_eq!(w.add(101), Placement::LateInWindow);
        assert_eq!(w.sum, 1);
        assert_eq!(w.add(100), Placement::LateOutside);
        assert_eq!(w.sum, 1);
        assert_eq!(w.close_next(), (104, 0), "second 101 left the window");
    }

    #[test]
    fn open_seconds_are_bounded() {
        let mut w = Window::new(3, 2, 99);
        assert_eq!(w.add(101), Placement::Open);
        assert_eq!(w.add(102), Placement::Early);
        assert_eq!(w.steady_until(), None, "a hit waits");
    }

    #[test]
    fn ring_reuse_keeps_counts_apart() {
        let mut w = Window::new(2, 1, -1);
        for t in 0..100 {
            w.add(t);
            w.add(t);
            let (closed, sum) = w.close_next();
            assert_eq!(closed, t);
            assert_eq!(sum, if t == 0 { 2 } else { 4 });
        }
    }

    #[test]
    fn skipping_while_the_total_stays() {
        let mut w = Window::new(3, 1, 99);
        w.add(100);
        assert_eq!(w.steady_until(), None);
        assert_eq!(w.close_next(), (100, 1));
        // Second 100 stays in the window through 102.
        assert_eq!(w.steady_until(), Some(102));
        w.skip_to(102);
        assert_eq!(w.add(101), Placement::LateInWindow);
        assert_eq!(w.close_next(), (103, 1), "100 left, 101 is still in");
        assert_eq!(w.steady_until(), Some(103));
        assert_eq!(w.close_next(), (104, 0));
        w.skip_to(1_000_000);
        assert_eq!(w.add(1_000_001), Placement::Open);
        assert_eq!(w.close_next(), (1_000_001, 1));
    }
}
