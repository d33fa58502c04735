//! The report schedule: the clock, the seconds still open for lines, the
//! report boundaries, and what happens when a second closes (the alert is
//! evaluated, a report may be due). The max-delay rule is stated here, in
//! [`MaxDelay`], and nowhere else.

use std::collections::VecDeque;

use super::alert::Alerts;
use super::interface::{AHEAD, Clock, Config, Event};
use super::stats::{Report, RunTally, Tallies, Tally};
use super::timestamp::Epoch;
use super::window::{Placement, Window};

/// What closing seconds writes to: the alert state, the queue of events
/// the caller polls, and the run's totals, which every finished report adds to.
#[derive(Debug)]
pub struct Outbox {
    pub alerts: Alerts,
    pub events: VecDeque<Event>,
    pub run: RunTally,
}

/// The max-delay rule: second `t` stays open for lines until the clock
/// reads `t + max_delay + 1`, then closes for good. Lines stamped with a
/// closed second are late.
#[derive(Clone, Copy, Debug)]
pub(super) struct MaxDelay(u32);

impl MaxDelay {
    /// The newest second a clock reading `now` has closed.
    fn last_closed(self, now: Epoch) -> Epoch {
        now - i64::from(self.0) - 1
    }

    /// The clock reading at which second `t` closes.
    fn closes_at(self, t: Epoch) -> Epoch {
        t + i64::from(self.0) + 1
    }

    /// How many seconds are open for lines at any clock reading: the one
    /// it reads and the `max_delay` before it.
    fn open_seconds(self) -> u32 {
        self.0 + 1
    }

    /// The smallest `max_delay` under which a line stamped `t` that
    /// arrives with the clock at `now` is on time: `t` closes at
    /// `t + max_delay + 1`, which must be past `now`.
    pub(super) fn needed(t: Epoch, now: Epoch) -> i64 {
        now - t
    }
}

/// The schedule of a started clock.
#[derive(Debug)]
pub struct Schedule {
    clock: Clock,
    interval: u32,
    top: usize,
    /// Reports are made ([`Config::reports`]).
    reports: bool,
    delay: MaxDelay,
    window: Window,
    tallies: Tallies,
    /// When the clock started: reports that end before it and hold nothing
    /// are not worth printing.
    started: Epoch,
    /// Where reports may start at the earliest: live, the start; in replay,
    /// anywhere on the interval grid.
    floor: Epoch,
    /// The clock: the newest timestamp in replay, the wall clock live.
    now: Epoch,
    /// The newest second that holds a hit or that the clock reached.
    newest: Epoch,
    /// Consecutive report intervals without a line, reported as one report
    /// when something else happens (or, live, when the clock step ends).
    quiet: Option<Box<Report>>,
    /// The open seconds of the last hits counted on time, until a second
    /// closes, each at the place its second's low bits give: the next hit
    /// of one of them, the usual case, is counted with a compare. Lines
    /// written as requests end (nginx, Apache) interleave a few seconds: on
    /// a log of ~100 lines a second, the last second alone was the next
    /// hit's 86 % of the time, the last three 98.6 %.
    /// A place without one holds a vacant second (see [`Recents::vacate`]).
    recent: Recents,
    /// The second of the last hit counted aside (late or early, as the
    /// window placed it): the next hit of the same second, the usual case
    /// of a backlog or of a log whose clock is off, is counted with a
    /// compare. Forgotten when another hit is placed, and with the recent
    /// seconds (see [`settle_recent`](Self::settle_recent)): when the shift
    /// changes, or seconds close, which every reading of the wall clock
    /// does, and every move of the log's clock, so that the clock, the
    /// window and the tally of the moment are as they placed it.
    aside: Option<Aside>,
}

/// A second whose hits are counted aside, and where they go.
#[derive(Clone, Copy, Debug)]
struct Aside {
    second: Epoch,
    /// What the window made of it: late (in or outside it) or early.
    placement: Placement,
    /// The tally of the moment, as [`Tallies::place_of`] gave it.
    tally: usize,
}

/// Open seconds remembered for [`Schedule::again`], a power of two: more
/// than replay's default `--max-delay` leaves open (3), so that those never
/// take each other's place.
const RECENT: usize = 4;
// `recent_place` masks, and `Recents::vacate` leaves the next place's second.
const _: () = assert!(RECENT.is_power_of_two() && RECENT > 1);

/// Where second `t` is remembered among the recent ones.
#[inline(always)]
fn recent_place(t: Epoch) -> usize {
    // Two's complement makes the mask a Euclidean remainder.
    t as usize & (RECENT - 1)
}

/// The recent open seconds and where their hits go, a column per field,
/// each indexed by place: the usual hit then reads and counts each with
/// one indexed instruction.
#[derive(Clone, Copy, Debug)]
struct Recents {
    second: [Epoch; RECENT],
    /// Its slot in the window.
    slot: [usize; RECENT],
    /// Its report's tally, as [`Tallies::place_of`] gave it.
    tally: [usize; RECENT],
    /// Its hits counted by [`Schedule::again`], not yet in the window: they
    /// go there at once when the second stops being a recent one (see
    /// [`Schedule::settle_recent`]), which is before anything reads the
    /// window's open seconds. A count a line, not two and a bounds check.
    hits: [u64; RECENT],
}

impl Recents {
    /// Every place vacant.
    fn new() -> Recents {
        let mut recents = Recents { second: [0; RECENT], slot: [0; RECENT], tally: [0; RECENT], hits: [0; RECENT] };
        for place in 0..RECENT {
            recents.vacate(place);
        }
        recents
    }

    /// Empties place `place`, and returns the window slot and the hits of
    /// the second it held. A vacant place holds a second whose own place is
    /// the next, so that no hit looked up there can match it, and no hits.
    fn vacate(&mut self, place: usize) -> (usize, u64) {
        self.second[place] = place as Epoch + 1;
        (self.slot[place], std::mem::take(&mut self.hits[place]))
    }
}

impl Schedule {
    /// Starts the clock at `now`; `malformed` lines read before go to the
    /// first report.
    pub fn start(config: &Config, now: Epoch, malformed: u64, alerts: &mut Alerts) -> Schedule {
        let delay = MaxDelay(config.max_delay);
        // Seconds that may still receive lines: those not yet closed up to
        // now, and, live, those a clock a little ahead writes.
        let open = delay.open_seconds()
            + match config.clock {
                Clock::Log => 0,
                Clock::Wall => AHEAD,
            };
        // Replay: lines up to max_delay older than the first hit are on
        // time. Live: seconds before the start are closed, so that the first
        // report covers no time before logmon started; what `tail -F` prints
        // first is late, as it is.
        let closed = match config.clock {
            Clock::Log => delay.last_closed(now),
            Clock::Wall => now - 1,
        };
        alerts.start(now, closed, open);
        let mut schedule = Schedule {
            clock: config.clock,
            interval: config.interval,
            top: config.top,
            reports: config.reports,
            delay,
            window: Window::new(config.window, open, closed),
            tallies: Tallies::new(config.interval, closed + 1, open),
            started: now,
            floor: match config.clock {
                Clock::Log => Epoch::MIN,
                Clock::Wall => now,
            },
            now,
            newest: now,
            quiet: None,
            recent: Recents::new(),
            aside: None,
        };
        schedule.tally_now().malformed = malformed;
        schedule
    }

    /// The clock reading.
    pub fn now(&self) -> Epoch {
        self.now
    }

    /// Where reports may start at the earliest: live, the start.
    pub fn floor(&self) -> Epoch {
        self.floor
    }

    /// The end of the last closed second.
    pub fn closed_until(&self) -> Epoch {
        self.window.closed() + 1
    }

    /// Hits in the alert window's closed seconds.
    pub fn window_hits(&self) -> u64 {
        self.window.hits()
    }

    /// The clock reading at which the next second closes.
    pub fn next_deadline(&self) -> Epoch {
        self.delay.closes_at(self.window.closed() + 1)
    }

    /// Moves the clock to `now` (never back) and closes every second that
    /// reading closes.
    pub fn advance(&mut self, now: Epoch, out: &mut Outbox) {
        self.now = self.now.max(now);
        let target = self.delay.last_closed(now);
        if target > self.window.closed() || self.clock == Clock::Wall {
            self.close_through(target, out);
        }
    }

    /// The report of the moment: where lines without a second of their own
    /// (late, early, malformed) are counted.
    pub fn tally_now(&mut self) -> &mut Tally {
        self.tallies.at(self.now)
    }

    /// Counts a hit stamped `time` in the window if it falls in the open
    /// second of one of the last hits counted on time (no second has closed
    /// since), and returns its tally: [`place`](Self::place) of the usual
    /// hit, at the cost of a compare. `None` for any other.
    #[inline(always)]
    pub fn again(&mut self, time: Epoch) -> Option<&mut Tally> {
        let place = recent_place(time);
        if self.recent.second[place] != time {
            return None;
        }
        self.recent.hits[place] += 1;
        Some(self.tallies.nth(self.recent.tally[place]))
    }

    /// Ends the recent seconds: the hits [`again`](Self::again) counted in
    /// them go into the window, and they are forgotten, so that the next
    /// hit is placed. Called before anything reads or moves the window's
    /// open seconds, and by the engine when the shift applied to timestamps
    /// changes: a hit in a recent second would then no longer have the
    /// timestamp, as logged, of the one that opened it (see
    /// [`crate::engine::Engine`]'s usual hit). Their hits must not be lost
    /// with them.
    pub fn settle_recent(&mut self) {
        // The same goes for the second counted aside (see `again_aside`).
        self.aside = None;
        for place in 0..RECENT {
            let (slot, hits) = self.recent.vacate(place);
            if hits > 0 {
                self.window.add_open(slot, hits);
            }
        }
    }

    /// Remembers the open second `second`, whose hits go to the tally at
    /// place `tally`, as a recent one; the one in its place, if another
    /// (live, with seconds ahead of the clock open, or a `--max-delay` of
    /// `RECENT` or more), is settled into the window and forgotten.
    fn remember(&mut self, second: Epoch, tally: usize) {
        let place = recent_place(second);
        if self.recent.second[place] == second {
            return;
        }
        let (slot, hits) = self.recent.vacate(place);
        if hits > 0 {
            self.window.add_open(slot, hits);
        }
        self.recent.second[place] = second;
        self.recent.slot[place] = self.window.slot(second);
        self.recent.tally[place] = tally;
    }

    /// Counts a hit stamped `time` in the window, and returns the tally of
    /// the report it belongs to. `early` keeps it out of the window (replay
    /// decided its timestamp is wrong). A hit counted on time becomes the
    /// recent one, for [`again`](Self::again); one the window places late
    /// or early, the aside one, for [`again_aside`](Self::again_aside).
    pub fn place(&mut self, time: Epoch, early: bool) -> (Placement, &mut Tally) {
        // The recent seconds stay: the window takes this hit in its own
        // second whatever theirs hold, and no second closes here.
        self.aside = None;
        let placement = if early { Placement::Early } else { self.window.add(time) };
        let tally = match placement {
            Placement::Open => {
                self.newest = self.newest.max(time);
                let tally = self.tallies.place_of(time);
                self.remember(time, tally);
                self.tallies.nth(tally)
            }
            Placement::LateInWindow | Placement::LateOutside | Placement::Early => {
                let tally = self.tallies.place_of(self.now);
                // Not a second the caller decided early: the window may place its next hit otherwise.
                if !early {
                    self.aside = Some(Aside { second: time, placement, tally });
                }
                count_aside(self.tallies.nth(tally), placement)
            }
        };
        (placement, tally)
    }

    /// Counts a hit stamped `time` if it falls in the second of the last hit
    /// counted aside (nothing has closed and the clock is where it was),
    /// and returns its placement and tally: [`place`](Self::place) of the
    /// usual late or early hit, at the cost of a compare. `None` for any
    /// other.
    #[inline(always)]
    pub fn again_aside(&mut self, time: Epoch) -> Option<(Placement, &mut Tally)> {
        let aside = self.aside.filter(|a| a.second == time)?;
        if aside.placement == Placement::LateInWindow {
            // A closed second still in the window: it takes the hit.
            let placement = self.window.add(time);
            debug_assert_eq!(placement, aside.placement);
        }
        Some((aside.placement, count_aside(self.tallies.nth(aside.tally), aside.placement)))
    }

    /// A report of the oldest interval still open, as it stands up to `now`
    /// (`None`: the clock), without closing anything. Its time is never
    /// later than the reports still to come.
    pub fn request_report(&mut self, now: Option<Epoch>, out: &mut Outbox) {
        if !self.reports {
            return;
        }
        let (start, end) = self.current_bounds();
        let end = (now.unwrap_or(self.now) + 1).clamp(start + 1, end);
        let (interval, top, alerts) = (self.interval, self.top, &out.alerts);
        // A report nothing reached yet has no tally: it borrows a spare one,
        // as a quiet stretch's does, rather than make a full-size one.
        let report = match self.tallies.peek(self.tallies.current_number()) {
            Some(tally) => tally.report(start, end, interval, top, alerts),
            None => self.tallies.lend_empty(|tally| tally.report(start, end, interval, top, alerts)),
        };
        let report = Report { requested: true, ..report };
        self.flush_quiet(out);
        out.events.push_back(Event::Report(report));
    }

    /// Closes every second up to the newest one seen (and up to `now` on a
    /// wall clock: `None` is the clock's own reading), then emits the last,
    /// partial report.
    pub fn finish(&mut self, now: Option<Epoch>, out: &mut Outbox) {
        let now = now.or((self.clock == Clock::Wall).then_some(self.now));
        let through = now.map_or(self.newest, |now| now.max(self.newest));
        self.close_through(through, out);
        let (start, _) = self.current_bounds();
        let end = self.window.closed() + 1;
        if end > start {
            self.finish_report(end, out);
        }
        self.flush_quiet(out);
    }

    /// Closes every second up to and including `target`.
    fn close_through(&mut self, target: Epoch, out: &mut Outbox) {
        // Closing moves the window and finishes tallies: the recent seconds
        // may be neither open nor where they were.
        self.settle_recent();
        while self.window.closed() < target {
            self.newest = self.newest.max(target);
            self.close_next(out);
            // Until a second holding hits leaves the window or one waiting
            // enters it, closing seconds changes no alert: those close at
            // once. This is what makes a gap of months in a log, a quiet
            // stretch under a day-long window, or a suspended laptop cost no
            // more than a second.
            let steady = self.window.steady_until().zip(out.alerts.steady_until()).map(|(a, b)| a.min(b));
            if let Some(until) = steady.map(|until| until.min(target))
                && until > self.window.closed()
            {
                self.skip_steady_stretch(until, out);
            }
        }
        // Live, a quiet interval is reported when it ends, as a heartbeat. In
        // replay a run of them waits for the next thing to say, and so
        // becomes one report however it was reached.
        if self.clock == Clock::Wall {
            self.flush_quiet(out);
        }
    }

    /// Closes the next second: the alert is evaluated, and a report is due
    /// at the end of an interval.
    fn close_next(&mut self, out: &mut Outbox) {
        let (t, hits) = self.window.close_next();
        if out.alerts.close(t, hits) {
            self.flush_quiet(out);
            out.events.extend(out.alerts.drain().map(Event::Alert));
        }
        if (t + 1).rem_euclid(i64::from(self.interval)) == 0 {
            self.finish_report(t + 1, out);
        }
    }

    /// Closes `(closed, target]` at once, while no alert can change. Reports
    /// that hold something (late, early or malformed lines, or hits closed
    /// earlier) are finished one by one; the empty rest is skipped in one
    /// step.
    fn skip_steady_stretch(&mut self, target: Epoch, out: &mut Outbox) {
        let interval = i64::from(self.interval);
        loop {
            let last = self.tallies.number(target + 1);
            if self.tallies.current_number() >= last {
                break;
            }
            let (start, end) = self.current_bounds();
            if self.tallies.skip_empty_to(last) {
                self.note_quiet(start, last * interval, out);
                break;
            }
            self.finish_report(end, out);
        }
        self.window.skip_to(target);
        out.alerts.skip_to(target);
    }

    /// `[start, end)` of the report being built.
    fn current_bounds(&self) -> (Epoch, Epoch) {
        let (start, end) = self.tallies.current_bounds();
        (start.max(self.floor), end)
    }

    /// Emits the report being built, which ends at `end`, if reports are
    /// made; its hits go to the run's totals all the same.
    fn finish_report(&mut self, end: Epoch, out: &mut Outbox) {
        let (start, _) = self.current_bounds();
        let (interval, top, alerts, run) = (self.interval, self.top, &out.alerts, &mut out.run);
        let reports = self.reports;
        let report = self.tallies.finish_current(run, |tally| {
            (!tally.is_empty()).then(|| reports.then(|| tally.report(start, end, interval, top, alerts)))
        });
        match report {
            Some(Some(report)) => {
                self.flush_quiet(out);
                out.events.push_back(Event::Report(report));
            }
            Some(None) => {}
            None if end <= self.started => {}
            None => self.note_quiet(start, end, out),
        }
    }

    /// Adds `[start, end)` to the quiet stretch, or starts one. The stretch's
    /// report is made when it starts, so that it shows the alerts as they
    /// stood then: any change to them flushes it (see
    /// [`close_next`](Self::close_next)), and by the time it is written they
    /// may hold one from after its end.
    fn note_quiet(&mut self, start: Epoch, end: Epoch, out: &mut Outbox) {
        if !self.reports {
            return;
        }
        if let Some(report) = &mut self.quiet
            && report.end == start
        {
            return report.extend_to(end, self.interval);
        }
        self.flush_quiet(out);
        let (interval, top, alerts) = (self.interval, self.top, &out.alerts);
        let report = self.tallies.lend_empty(|tally| tally.report(start, end, interval, top, alerts));
        self.quiet = Some(Box::new(report));
    }

    fn flush_quiet(&mut self, out: &mut Outbox) {
        if let Some(report) = self.quiet.take() {
            out.events.push_back(Event::Report(*report));
        }
    }
}

/// Counts a hit placed late or early in `tally`, the report of the moment.
#[inline(always)]
fn count_aside(tally: &mut Tally, placement: Placement) -> &mut Tally {
    if placement == Placement::Early {
        tally.early += 1;
    } else {
        tally.late += 1;
    }
    tally
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_closes_max_delay_plus_one_after_it() {
        let delay = MaxDelay(2);
        assert_eq!(delay.closes_at(100), 103);
        assert_eq!(delay.last_closed(103), 100);
        assert_eq!(delay.last_closed(102), 99, "one tick earlier it is still open");
        assert_eq!(delay.open_seconds(), 3, "100, 101 and 102 at 102");
    }

    #[test]
    fn a_fresh_schedule_remembers_no_second_even_at_epoch_zero() {
        // Vacant places hold seconds too: none may be one a hit looks up.
        let config = Config::default();
        let mut alerts = Alerts::new(config.threshold, config.window);
        let mut schedule = Schedule::start(&config, 0, 0, &mut alerts);
        for t in -(2 * RECENT as Epoch)..2 * RECENT as Epoch {
            assert!(schedule.again(t).is_none(), "second {t} taken for a recent one");
        }
    }

    #[test]
    fn a_line_is_on_time_exactly_under_the_delay_it_needs() {
        for d in 0..5 {
            for (t, now) in [(100, 100), (100, 101), (100, 103), (100, 104), (100, 110)] {
                let on_time = t > MaxDelay(d).last_closed(now);
                assert_eq!(on_time, i64::from(d) >= MaxDelay::needed(t, now), "max_delay {d}, t {t}, now {now}");
            }
        }
    }
}
