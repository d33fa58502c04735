//! Live time from two clocks. The monotonic clock never jumps, so the
//! engine's time and every deadline run on it; the realtime clock names the
//! seconds, and may be stepped (NTP, a resumed virtual machine, an admin).
//!
//! The engine's time is the monotonic clock plus an anchor, set from the
//! realtime clock at the start. A reading whose two clocks disagree with
//! the anchor by more than [`STEP`] is a step of the realtime clock:
//!
//! - forward (a suspended machine, a clock set right): the engine's time
//!   jumps with it, as if the time had passed: the seconds in between close
//!   at once and are reported as one stretch;
//! - back: the engine's time cannot go back (those seconds are closed and
//!   reported), so it goes on from where it was, and lines are shifted
//!   forward by the step, as for a log whose clock is off: reports keep
//!   coming each interval and the alert window keeps moving. A later step
//!   forward takes the shift back first.

use std::time::Duration;

use super::interface::Now;
use super::timestamp::Epoch;

/// How far the two clocks may move apart between two readings before it is
/// a step: NTP slews both alike, and readings come at least once a second.
pub const STEP: i64 = 1_000;

/// Milliseconds.
type Millis = i64;

#[derive(Debug)]
pub struct WallClock {
    /// Realtime minus monotonic, as last read.
    real: Millis,
    /// Engine time minus monotonic: never decreases, so engine time never
    /// goes back.
    engine: Millis,
}

impl WallClock {
    pub fn new(now: Now) -> WallClock {
        let real = millis(now.realtime) - millis(now.monotonic);
        WallClock { real, engine: real }
    }

    /// Reads both clocks: the engine's second, and the step of the realtime
    /// clock since the last reading, if there was one.
    pub fn read(&mut self, now: Now) -> (Epoch, Option<Millis>) {
        let real = millis(now.realtime) - millis(now.monotonic);
        let step = real - self.real;
        self.real = real;
        self.engine = self.engine.max(real);
        (self.second(now.monotonic), (step.abs() > STEP).then_some(step))
    }

    /// The engine's second at monotonic time `monotonic`.
    pub fn second(&self, monotonic: Duration) -> Epoch {
        (millis(monotonic) + self.engine).div_euclid(1_000)
    }

    /// The monotonic time at which the engine's second `second` begins.
    pub fn monotonic_at(&self, second: Epoch) -> Duration {
        Duration::from_millis(u64::try_from(second.saturating_mul(1_000) - self.engine).unwrap_or(0))
    }

    /// What to add to a timestamp written on the realtime clock to place it
    /// on the engine's time, in whole seconds.
    pub fn shift(&self) -> i64 {
        (self.engine - self.real + 500).div_euclid(1_000)
    }
}

fn millis(d: Duration) -> Millis {
    Millis::try_from(d.as_millis()).unwrap_or(Millis::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(monotonic: u64, realtime: u64) -> Now {
        Now { monotonic: Duration::from_millis(monotonic), realtime: Duration::from_millis(realtime) }
    }

    const T0: u64 = 1_549_573_860_000;

    #[test]
    fn clocks_that_agree_name_the_realtime_second() {
        let mut c = WallClock::new(at(5_000, T0 + 500));
        assert_eq!(c.read(at(6_000, T0 + 1_500)), (1_549_573_861, None));
        assert_eq!(c.read(at(6_499, T0 + 1_999)), (1_549_573_861, None));
        assert_eq!(c.read(at(6_500, T0 + 2_000)), (1_549_573_862, None));
        assert_eq!(c.monotonic_at(1_549_573_863), Duration::from_millis(7_500));
        assert_eq!(c.shift(), 0);
    }

    #[test]
    fn a_step_forward_moves_engine_time_with_it() {
        let mut c = WallClock::new(at(0, T0));
        assert_eq!(c.read(at(1_000, T0 + 3_601_000)), (1_549_577_461, Some(3_600_000)));
        assert_eq!(c.shift(), 0);
    }

    #[test]
    fn a_step_back_keeps_engine_time_and_shifts_lines() {
        let mut c = WallClock::new(at(0, T0));
        assert_eq!(c.read(at(1_000, T0 - 3_599_000)), (1_549_573_861, Some(-3_600_000)));
        assert_eq!(c.shift(), 3_600, "a line stamped by the stepped clock lands on engine time");
        assert_eq!(c.read(at(2_000, T0 - 3_598_000)), (1_549_573_862, None), "said once");
        // Set right again: the shift is taken back, time does not jump.
        assert_eq!(c.read(at(3_000, T0 + 3_000)), (1_549_573_863, Some(3_600_000)));
        assert_eq!(c.shift(), 0);
    }

    #[test]
    fn drift_below_the_step_is_not_a_step() {
        let mut c = WallClock::new(at(0, T0));
        assert_eq!(c.read(at(10_000, T0 + 10_900)).1, None);
        assert_eq!(c.read(at(20_000, T0 + 20_100)).1, None);
    }
}
