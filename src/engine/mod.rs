//! The pure engine: lines and clock instants in, reports, alert transitions
//! and a summary out, as values. It never reads a clock, a file or a
//! terminal, so replay, live mode and tests drive it alike.
//!
//! Time is counted in whole seconds. A second is *closed* once no more lines
//! are expected for it: `max_delay` seconds after it, on the log's clock in
//! replay and on the wall clock live. Closing second `t` evaluates the alert
//! over the window `t - window + 1 ..= t`, and closing the last second of a
//! report interval emits that report.

pub mod alert;
mod bytes;
pub mod parse;
pub mod section;
pub mod skew;
pub mod stats;
pub mod timestamp;
pub mod topk;
pub mod window;

use std::collections::VecDeque;

use alert::{AlertEvent, Alerts, Threshold};
use parse::{LogFormat, Malformed, Parsed, Parser, Record};
use stats::{Report, Summary, Tallies, Tally};
use timestamp::Epoch;
use window::{Placement, Window};

/// How far ahead of the wall clock a line may be stamped and still count in
/// the alert window. Clocks of the same fleet rarely disagree by more.
pub const AHEAD: u32 = 10;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clock {
    /// The log's own timestamps drive time: the newest one seen is "now".
    Log,
    /// The caller drives time with [`Engine::handle_time`].
    Wall,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// Alert window, seconds.
    pub window: u32,
    /// Report interval, seconds.
    pub interval: u32,
    /// How long a second stays open for out-of-order lines, seconds.
    pub max_delay: u32,
    pub threshold: Threshold,
    /// Sections listed per report.
    pub top: usize,
    pub format: LogFormat,
    pub clock: Clock,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            window: 120,
            interval: 10,
            max_delay: 2,
            threshold: Threshold::per_second(10),
            top: 5,
            format: LogFormat::Auto,
            clock: Clock::Log,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    Report(Report),
    Alert(AlertEvent),
    /// Always the last event.
    Summary(Summary),
}

/// What became of one line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// `time` is the line's own timestamp, before any clock offset.
    Hit {
        time: Epoch,
        placement: Placement,
    },
    Malformed(Malformed),
    /// Not a log line (a CSV header).
    Skipped,
}

#[derive(Debug, Default)]
struct Totals {
    lines: u64,
    hits: u64,
    malformed: u64,
    late: u64,
    early: u64,
    skipped: u64,
    first: Option<Epoch>,
    last: Option<Epoch>,
}

/// Time-dependent state, which exists once the clock has started.
#[derive(Debug)]
struct Running {
    window: Window,
    tallies: Tallies,
    /// When the clock started: reports that end before it and hold nothing
    /// are not worth printing.
    started: Epoch,
    /// The clock: the newest timestamp in replay, the wall clock live.
    now: Epoch,
    /// The newest second that holds a hit or that the clock reached.
    newest: Epoch,
}

impl Running {
    /// The report of the moment: where lines without a second of their own
    /// (late, early, malformed) are counted.
    fn tally_now(&mut self) -> &mut Tally {
        self.tallies.at(self.now)
    }
}

#[derive(Debug)]
pub struct Engine {
    config: Config,
    parser: Parser,
    running: Option<Running>,
    alerts: Alerts,
    events: VecDeque<Event>,
    /// Consecutive report intervals without a line, reported as one report
    /// when something else happens (or, live, when the clock step ends).
    quiet: Option<(Epoch, Epoch)>,
    totals: Totals,
    /// Malformed lines read before the clock started, for the first report.
    malformed_before_start: u64,
    /// Added to every timestamp: the log's clock error, when live mode
    /// decided the log's clock is off (see [`skew`]).
    offset: i64,
    /// Replay: a hit stamped far ahead of the log's clock, until the next
    /// hit says whether the log jumped (it is then counted in its second) or
    /// the timestamp is wrong (it is then counted as early).
    held: Option<Held>,
    finished: bool,
}

/// A hit kept across lines: the line's bytes will be gone by then.
#[derive(Debug)]
struct Held {
    time: Epoch,
    status: u16,
    bytes: u64,
    section: Option<([u8; section::MAX_SECTION_LEN], u8)>,
}

impl Held {
    fn new(record: &Record<'_>) -> Held {
        let section = record.section.map(|s| {
            let mut copy = [0; section::MAX_SECTION_LEN];
            copy[..s.len()].copy_from_slice(s);
            (copy, s.len() as u8)
        });
        Held { time: record.time, status: record.status, bytes: record.bytes, section }
    }

    fn record(&self) -> Record<'_> {
        // Only what reports count is kept of a held line.
        Record {
            time: self.time,
            status: self.status,
            bytes: self.bytes,
            section: self.section.as_ref().map(|(s, len)| &s[..usize::from(*len)]),
            ..Record::default()
        }
    }
}

impl Engine {
    pub fn new(config: Config) -> Engine {
        Engine {
            parser: Parser::new(config.format),
            alerts: Alerts::new(config.threshold, config.window),
            config,
            running: None,
            events: VecDeque::new(),
            quiet: None,
            totals: Totals::default(),
            malformed_before_start: 0,
            offset: 0,
            held: None,
            finished: false,
        }
    }

    /// Alerts triggered since the start.
    pub fn alerts_triggered(&self) -> u64 {
        self.alerts.triggered()
    }

    /// The next event, oldest first.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Counts one line (without its newline).
    #[inline]
    pub fn handle_line(&mut self, line: &[u8]) -> Outcome {
        self.totals.lines += 1;
        match self.parser.parse(line) {
            Parsed::Hit(record) => self.hit(&record),
            Parsed::Header => {
                self.totals.skipped += 1;
                Outcome::Skipped
            }
            Parsed::Malformed(why) => self.malformed(why),
        }
    }

    /// Counts a line that was too long to keep, as malformed.
    pub fn handle_overlong_line(&mut self) -> Outcome {
        self.totals.lines += 1;
        self.malformed(Malformed::TooLong)
    }

    /// Moves the clock to `now`, closing every second that is `max_delay`
    /// seconds in the past. The first call starts a wall clock.
    pub fn handle_time(&mut self, now: Epoch) {
        match &mut self.running {
            Some(running) => running.now = running.now.max(now),
            None => self.start(now),
        }
        self.close_through(now - i64::from(self.config.max_delay) - 1);
    }

    /// The instant at which [`handle_time`](Self::handle_time) next has work
    /// to do; `None` on the log's clock, where lines alone move time.
    pub fn next_deadline(&self) -> Option<Epoch> {
        match (self.config.clock, &self.running) {
            // Second c + 1 closes once the clock reads c + 1 + max_delay + 1.
            (Clock::Wall, Some(r)) => Some(r.window.closed() + i64::from(self.config.max_delay) + 2),
            _ => None,
        }
    }

    /// Shifts the timestamps of the lines that follow by `offset` seconds.
    pub fn set_offset(&mut self, offset: i64) {
        self.offset = offset;
    }

    /// Queues a report of the oldest interval still open, as it stands up
    /// to `now` (`None`: the engine's own clock), without closing anything.
    /// Its time is never later than the reports still to come.
    pub fn request_report(&mut self, now: Option<Epoch>) {
        let Some(running) = &self.running else { return };
        let (start, end) = running.tallies.current_bounds();
        let end = (now.unwrap_or(running.now) + 1).clamp(start + 1, end);
        let empty = Tally::default();
        let tally = running.tallies.peek(running.tallies.current_number()).unwrap_or(&empty);
        let report =
            Report { requested: true, ..tally.report(start, end, self.config.interval, self.config.top, &self.alerts) };
        self.flush_quiet();
        self.events.push_back(Event::Report(report));
    }

    /// Ends the run: closes every second up to the newest one seen (and up
    /// to `now` on a wall clock), queues the last, partial report and the
    /// summary. Later calls do nothing.
    pub fn finish(&mut self, now: Option<Epoch>) {
        if std::mem::replace(&mut self.finished, true) {
            return;
        }
        // Nothing came after it to say otherwise: the log did jump.
        if let Some(held) = self.held.take() {
            self.place(&held.record(), held.record().time + self.offset, false);
        }
        if let Some(running) = &self.running {
            let through = now.map_or(running.newest, |now| now.max(running.newest));
            self.close_through(through);
            self.finish_partial_report();
        }
        let summary = self.summary();
        self.events.push_back(Event::Summary(summary));
    }

    fn summary(&self) -> Summary {
        let t = &self.totals;
        Summary {
            time: self.running.as_ref().map(|r| r.window.closed() + 1),
            lines: t.lines,
            hits: t.hits,
            malformed: t.malformed,
            late: t.late,
            early: t.early,
            skipped: t.skipped,
            alerts: self.alerts.triggered(),
            alert: self.alerts.active().copied(),
            first: t.first,
            last: t.last,
            format: self.parser.format(),
        }
    }

    fn start(&mut self, now: Epoch) {
        // Seconds that may still receive lines: the max_delay + 1 not yet
        // closed up to now, and, live, those a clock a little ahead writes.
        let open = self.config.max_delay
            + 1
            + match self.config.clock {
                Clock::Log => 0,
                Clock::Wall => AHEAD,
            };
        // Lines up to max_delay older than the first instant are on time.
        let closed = now - i64::from(self.config.max_delay) - 1;
        let tallies = Tallies::new(self.config.interval, closed + 1);
        let window = Window::new(self.config.window, open, closed);
        let mut running = Running { window, tallies, started: now, now, newest: now };
        running.tally_now().malformed = std::mem::take(&mut self.malformed_before_start);
        self.running = Some(running);
    }

    fn malformed(&mut self, why: Malformed) -> Outcome {
        self.totals.malformed += 1;
        match &mut self.running {
            Some(running) => running.tally_now().malformed += 1,
            None => self.malformed_before_start += 1,
        }
        Outcome::Malformed(why)
    }

    #[inline]
    fn hit(&mut self, record: &Record<'_>) -> Outcome {
        let time = record.time + self.offset;
        match &self.running {
            None => self.start(time),
            Some(running)
                if self.config.clock == Clock::Log
                    && (self.held.is_some() || time > running.now + self.jump_tolerance()) =>
            {
                return self.hit_with_held(record, time);
            }
            Some(_) => {}
        }
        self.place(record, time, false)
    }

    /// Replay: one line far ahead of the log's clock must not drag it along;
    /// it waits for the next hit to say whether the log jumped.
    #[cold]
    fn hit_with_held(&mut self, record: &Record<'_>, time: Epoch) -> Outcome {
        let now = self.running.as_ref().map_or(time, |r| r.now);
        if let Some(held) = self.held.take() {
            let confirmed = time > now + self.jump_tolerance();
            self.place(&held.record(), held.record().time + self.offset, !confirmed);
        }
        let now = self.running.as_ref().map_or(time, |r| r.now);
        if time > now + self.jump_tolerance() {
            self.held = Some(Held::new(record));
            return Outcome::Hit { time: record.time, placement: Placement::Open };
        }
        self.place(record, time, false)
    }

    /// How far ahead of the log's clock a hit may be before it waits for a
    /// second one to confirm the jump: past the window, a jump empties it.
    fn jump_tolerance(&self) -> i64 {
        i64::from(self.config.window) + i64::from(self.config.max_delay)
    }

    /// Counts a hit stamped `time` (shifted); `early` counts it outside the
    /// window, in the report of the moment.
    #[inline(always)]
    fn place(&mut self, record: &Record<'_>, time: Epoch, early: bool) -> Outcome {
        if self.config.clock == Clock::Log && !early {
            let running = self.running.as_mut().expect("placing needs a started clock");
            running.now = running.now.max(time);
            let target = time - i64::from(self.config.max_delay) - 1;
            if target > running.window.closed() {
                self.close_through(target);
            }
        }
        let running = self.running.as_mut().expect("placing needs a started clock");
        let placement = if early { Placement::Early } else { running.window.add(time) };
        let tally = match placement {
            Placement::Open => {
                running.newest = running.newest.max(time);
                running.tallies.at(time)
            }
            Placement::LateInWindow | Placement::LateOutside => {
                self.totals.late += 1;
                let tally = running.tally_now();
                tally.late += 1;
                tally
            }
            Placement::Early => {
                self.totals.early += 1;
                let tally = running.tally_now();
                tally.early += 1;
                tally
            }
        };
        tally.add(record);
        let totals = &mut self.totals;
        totals.hits += 1;
        // As logged: they describe the log, whatever shift live mode applies.
        totals.first = Some(totals.first.map_or(record.time, |t| t.min(record.time)));
        totals.last = Some(totals.last.map_or(record.time, |t| t.max(record.time)));
        Outcome::Hit { time: record.time, placement }
    }

    /// Closes every second up to and including `target`.
    fn close_through(&mut self, target: Epoch) {
        loop {
            let running = self.running.as_mut().expect("closing needs a started clock");
            let closed = running.window.closed();
            if closed >= target {
                break;
            }
            running.newest = running.newest.max(target);
            if running.window.is_quiet() && self.alerts.active().is_none() && target - closed > 1 {
                self.skip_quiet_stretch(target);
                break;
            }
            let (t, hits) = running.window.close_next();
            if let Some(event) = self.alerts.observe(t, hits) {
                self.flush_quiet();
                self.events.push_back(Event::Alert(event));
            }
            if (t + 1).rem_euclid(i64::from(self.config.interval)) == 0 {
                self.finish_report(t + 1);
            }
        }
        // Live, a quiet interval is reported when it ends, as a heartbeat. In
        // replay a run of them waits for the next thing to say, and so
        // becomes one report however it was reached.
        if self.config.clock == Clock::Wall {
            self.flush_quiet();
        }
    }

    /// Closes `(closed, target]` at once. Nothing is in the window or
    /// waiting, and no alert is active, so no alert can change. Reports that
    /// hold something (late, early or malformed lines, or hits closed
    /// earlier) are finished one by one; the empty rest is skipped in one
    /// step: this is what makes a gap of months in a log (or a suspended
    /// laptop) cost no more than a second.
    fn skip_quiet_stretch(&mut self, target: Epoch) {
        let interval = i64::from(self.config.interval);
        loop {
            let running = self.running.as_mut().expect("closing needs a started clock");
            let last = running.tallies.number(target + 1);
            if running.tallies.current_number() >= last {
                break;
            }
            let (start, end) = running.tallies.current_bounds();
            if running.tallies.skip_empty_to(last) {
                self.note_quiet(start, last * interval);
                break;
            }
            self.finish_report(end);
        }
        let running = self.running.as_mut().expect("still running");
        running.window.skip_to(target);
    }

    /// Emits the report being built, which ends at `end`.
    fn finish_report(&mut self, end: Epoch) {
        let running = self.running.as_mut().expect("reports need a started clock");
        let (start, _) = running.tallies.current_bounds();
        let (interval, top, alerts) = (self.config.interval, self.config.top, &self.alerts);
        let report = running
            .tallies
            .finish_current(|tally| (!tally.is_empty()).then(|| tally.report(start, end, interval, top, alerts)));
        match report {
            Some(report) => {
                self.flush_quiet();
                self.events.push_back(Event::Report(report));
            }
            None if end <= running.started => {}
            None => self.note_quiet(start, end),
        }
    }

    /// The last report of a run, cut at the last closed second.
    fn finish_partial_report(&mut self) {
        let running = self.running.as_ref().expect("reports need a started clock");
        let (start, _) = running.tallies.current_bounds();
        let end = running.window.closed() + 1;
        if end > start {
            self.finish_report(end);
        }
        self.flush_quiet();
    }

    fn note_quiet(&mut self, start: Epoch, end: Epoch) {
        self.quiet = match self.quiet {
            Some((from, to)) if to == start => Some((from, end)),
            _ => {
                self.flush_quiet();
                Some((start, end))
            }
        };
    }

    fn flush_quiet(&mut self) {
        if let Some((start, end)) = self.quiet.take() {
            let report = Tally::default().report(start, end, self.config.interval, self.config.top, &self.alerts);
            self.events.push_back(Event::Report(report));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::alert::AlertState;
    use super::*;

    /// 2019-02-07T21:11:00Z, on a multiple of 10 and 60 seconds.
    const T0: Epoch = 1_549_573_860;

    fn line(t: Epoch, path: &str, status: u16) -> Vec<u8> {
        format!(r#""10.0.0.1","-","u",{t},"GET {path} HTTP/1.0",{status},100"#).into_bytes()
    }

    fn engine(window: u32, threshold: u64, clock: Clock) -> Engine {
        Engine::new(Config { window, threshold: Threshold::per_second(threshold), clock, ..Config::default() })
    }

    fn events(e: &mut Engine) -> Vec<Event> {
        std::iter::from_fn(|| e.poll_event()).collect()
    }

    fn alerts(events: &[Event]) -> Vec<(AlertState, Epoch, u64)> {
        events
            .iter()
            .filter_map(|e| match e {
                Event::Alert(a) => Some((a.state, a.at - T0, a.hits)),
                _ => None,
            })
            .collect()
    }

    fn reports(events: &[Event]) -> Vec<&Report> {
        events
            .iter()
            .filter_map(|e| match e {
                Event::Report(r) => Some(r),
                _ => None,
            })
            .collect()
    }

    fn summary(events: &[Event]) -> &Summary {
        match events.last() {
            Some(Event::Summary(s)) => s,
            other => panic!("no summary last: {other:?}"),
        }
    }

    /// `n` hits in each second of `from..to` (offsets from T0).
    fn feed(e: &mut Engine, from: i64, to: i64, n: usize) {
        for s in from..to {
            for _ in 0..n {
                e.handle_line(&line(T0 + s, "/api/x", 200));
            }
        }
    }

    #[test]
    fn exactly_at_the_threshold_does_not_trigger() {
        // 2 hits/s over a 10 s window average exactly 2.
        let mut e = engine(10, 2, Clock::Log);
        feed(&mut e, 0, 30, 2);
        e.finish(None);
        assert_eq!(alerts(&events(&mut e)), []);
    }

    #[test]
    fn one_hit_over_triggers_and_the_window_recovers() {
        let mut e = engine(10, 2, Clock::Log);
        feed(&mut e, 0, 30, 2);
        // One extra hit at second 30 puts the window at 21 hits.
        feed(&mut e, 30, 31, 3);
        feed(&mut e, 31, 60, 2);
        e.finish(None);
        // It recovers once second 30 leaves the window, at 40.
        assert_eq!(alerts(&events(&mut e)), [(AlertState::Triggered, 30, 21), (AlertState::Recovered, 40, 20)]);
    }

    #[test]
    fn seconds_without_lines_count_as_zero() {
        let mut e = engine(10, 1, Clock::Log);
        feed(&mut e, 0, 5, 5); // 25 hits in 10 s: 2.5/s
        feed(&mut e, 100, 101, 1);
        e.finish(None);
        let evs = events(&mut e);
        // Above from second 2 (15 hits); back at or below 10 hits at 12.
        assert_eq!(alerts(&evs), [(AlertState::Triggered, 2, 15), (AlertState::Recovered, 12, 10)]);
    }

    #[test]
    fn reports_are_aligned_and_account_for_every_hit() {
        let mut e = engine(120, 10, Clock::Log);
        // Starts mid-interval, in arbitrary order within the delay.
        for s in [3, 5, 4, 9, 8, 10, 12, 11, 19, 20, 25] {
            e.handle_line(&line(T0 + s, "/a", 200));
        }
        e.finish(None);
        let evs = events(&mut e);
        let rs = reports(&evs);
        let bounds: Vec<(i64, i64, u64)> = rs.iter().map(|r| (r.start - T0, r.end - T0, r.hits)).collect();
        assert_eq!(bounds, [(0, 10, 5), (10, 20, 4), (20, 26, 2)]);
        assert!(rs[2].partial && !rs[0].partial);
        assert_eq!(rs.iter().map(|r| r.late).sum::<u64>(), 0);
        assert_eq!(summary(&evs).hits, 11);
    }

    #[test]
    fn late_lines_count_once_in_the_report_being_built() {
        let mut e = engine(120, 10, Clock::Log);
        feed(&mut e, 0, 15, 1);
        // Second 3 closed long ago (max delay 2): late, and its report is out.
        e.handle_line(&line(T0 + 3, "/late", 200));
        // Second 11 closed too, but its report is still being built.
        e.handle_line(&line(T0 + 11, "/late", 200));
        e.finish(None);
        let evs = events(&mut e);
        let rs = reports(&evs);
        assert_eq!(rs.iter().map(|r| (r.hits, r.late)).collect::<Vec<_>>(), [(10, 0), (7, 2)]);
        let s = summary(&evs);
        assert_eq!((s.hits, s.late, s.lines), (17, 2, 17));
    }

    #[test]
    fn late_lines_inside_the_window_still_raise_it() {
        let mut e = engine(10, 1, Clock::Log);
        feed(&mut e, 0, 20, 1); // exactly 1/s: no alert
        // A burst of stragglers for second 15, already closed.
        for _ in 0..5 {
            e.handle_line(&line(T0 + 15, "/late", 200));
        }
        e.handle_line(&line(T0 + 20, "/a", 200));
        e.finish(None);
        let evs = events(&mut e);
        // Seconds up to 16 are closed when they arrive; 17 is the first to
        // close after, with 15 hits in its window.
        assert_eq!(alerts(&evs).first(), Some(&(AlertState::Triggered, 17, 15)));
    }

    #[test]
    fn late_lines_outside_the_window_only_count_in_reports() {
        let mut e = engine(10, 0, Clock::Log);
        e.handle_line(&line(T0 + 100, "/a", 200));
        let evs = events(&mut e);
        assert!(alerts(&evs).is_empty());
        e.handle_line(&line(T0 + 50, "/old", 200));
        e.finish(None);
        let evs = events(&mut e);
        // Replay closes seconds up to the newest line only.
        assert_eq!(alerts(&evs), [(AlertState::Triggered, 100, 1)]);
        assert_eq!(summary(&evs).late, 1);
    }

    #[test]
    fn a_quiet_stretch_is_one_report_and_costs_nothing() {
        let mut e = engine(120, 10, Clock::Log);
        e.handle_line(&line(T0, "/a", 200));
        // Ten years later.
        e.handle_line(&line(T0 + 315_360_000, "/b", 200));
        e.finish(None);
        let evs = events(&mut e);
        let rs: Vec<(i64, i64, u64)> = reports(&evs).iter().map(|r| (r.start - T0, r.end - T0, r.hits)).collect();
        assert_eq!(rs, [(0, 10, 1), (10, 315_360_000, 0), (315_360_000, 315_360_001, 1)]);
    }

    #[test]
    fn a_lone_timestamp_far_ahead_does_not_drag_the_clock() {
        let run = |bogus: bool| {
            let mut e = engine(10, 1, Clock::Log);
            feed(&mut e, 0, 20, 1);
            if bogus {
                e.handle_line(&line(T0 + 1_000_000_000, "/bogus", 200));
            }
            feed(&mut e, 20, 40, 3);
            e.finish(None);
            events(&mut e)
        };
        let evs = run(true);
        assert_eq!(alerts(&evs), alerts(&run(false)), "as if the bogus line were not there");
        assert_eq!(alerts(&evs).first(), Some(&(AlertState::Triggered, 20, 12)));
        let s = summary(&evs);
        assert_eq!((s.hits, s.early, s.late), (81, 1, 0));
        assert_eq!(reports(&evs).iter().map(|r| r.hits).sum::<u64>(), 81);
        assert!(reports(&evs).last().is_some_and(|r| r.end - T0 < 100));
    }

    #[test]
    fn a_jump_confirmed_by_the_next_line_moves_the_clock() {
        let mut e = engine(10, 1, Clock::Log);
        for t in [0, 1_000_000, 1_000_001] {
            e.handle_line(&line(T0 + t, "/a", 200));
        }
        e.finish(None);
        let evs = events(&mut e);
        let rs: Vec<(i64, i64, u64)> = reports(&evs).iter().map(|r| (r.start - T0, r.end - T0, r.hits)).collect();
        assert_eq!(rs, [(0, 10, 1), (10, 1_000_000, 0), (1_000_000, 1_000_002, 2)]);
        assert_eq!(summary(&evs).early, 0);
    }

    #[test]
    fn a_sparse_log_is_counted_in_its_own_seconds() {
        let mut e = engine(10, 0, Clock::Log);
        for i in 0..5 {
            e.handle_line(&line(T0 + 300 * i, "/a", 200));
        }
        e.finish(None);
        let evs = events(&mut e);
        let s = summary(&evs);
        assert_eq!((s.hits, s.early, s.late), (5, 0, 0));
        let busy: Vec<i64> = reports(&evs).iter().filter(|r| r.hits > 0).map(|r| r.start - T0).collect();
        assert_eq!(busy, [0, 300, 600, 900, 1200], "the last line too, though nothing came after it");
        assert_eq!(alerts(&evs).len(), 9, "each line alerts and recovers on its own");
    }

    #[test]
    fn malformed_lines_before_the_first_hit_go_to_the_first_report() {
        let mut e = engine(120, 10, Clock::Log);
        e.handle_line(b"garbage");
        e.handle_line(b"");
        e.handle_line(&line(T0 + 1, "/a", 200));
        e.handle_overlong_line();
        e.finish(None);
        let evs = events(&mut e);
        let rs = reports(&evs);
        assert_eq!((rs[0].hits, rs[0].malformed), (1, 3));
        let s = summary(&evs);
        assert_eq!((s.lines, s.hits, s.malformed), (4, 1, 3));
    }

    #[test]
    fn no_hits_at_all_gives_a_summary_only() {
        let mut e = engine(120, 10, Clock::Log);
        e.handle_line(b"garbage");
        e.finish(None);
        e.finish(None);
        let evs = events(&mut e);
        assert_eq!(evs.len(), 1);
        let s = summary(&evs);
        assert_eq!((s.time, s.malformed, s.first), (None, 1, None));
    }

    #[test]
    fn the_csv_header_is_skipped() {
        let mut e = engine(120, 10, Clock::Log);
        e.handle_line(br#""remotehost","rfc931","authuser","date","request","status","bytes""#);
        e.handle_line(&line(T0, "/a", 200));
        e.finish(None);
        let evs = events(&mut e);
        let s = summary(&evs);
        assert_eq!((s.lines, s.hits, s.skipped, s.malformed), (2, 1, 1, 0));
        assert_eq!(s.format, LogFormat::Csv);
    }

    #[test]
    fn the_wall_clock_closes_seconds_and_reports_without_lines() {
        let mut e = engine(10, 1, Clock::Wall);
        e.handle_time(T0 + 5);
        // Closed through 2 (max delay 2): the next second closes at 6.
        assert_eq!(e.next_deadline(), Some(T0 + 6));
        feed(&mut e, 5, 6, 20);
        e.handle_time(T0 + 7);
        assert!(alerts(&events(&mut e)).is_empty(), "second 5 is not closed yet");
        e.handle_time(T0 + 8);
        assert_eq!(alerts(&events(&mut e)), [(AlertState::Triggered, 5, 20)]);
        // No more lines: the wall clock alone recovers and reports, one
        // quiet report per interval as the clock ticks.
        let mut evs = Vec::new();
        for t in 9..=40 {
            e.handle_time(T0 + t);
            evs.extend(events(&mut e));
        }
        assert_eq!(alerts(&evs), [(AlertState::Recovered, 15, 0)], "second 5 left the window");
        let rs: Vec<(i64, i64, u64)> = reports(&evs).iter().map(|r| (r.start - T0, r.end - T0, r.hits)).collect();
        assert_eq!(rs, [(0, 10, 20), (10, 20, 0), (20, 30, 0)]);
        // A jump of the clock (a suspended machine) says it in one report.
        e.handle_time(T0 + 100);
        let rs: Vec<(i64, i64)> = reports(&events(&mut e)).iter().map(|r| (r.start - T0, r.end - T0)).collect();
        assert_eq!(rs, [(30, 90)]);
    }

    #[test]
    fn lines_counted_ahead_survive_a_quiet_stretch() {
        // Live, an old line read just after a boundary counts in the report
        // of the moment, the next one; a jump of the clock must still
        // report it rather than skip it as quiet.
        let mut e = engine(10, 1, Clock::Wall);
        e.handle_time(T0 + 11);
        e.handle_line(&line(T0 - 3600, "/old", 200));
        e.handle_line(b"junk");
        e.handle_time(T0 + 500);
        e.finish(Some(T0 + 500));
        let evs = events(&mut e);
        let rs: Vec<(i64, i64, u64, u64)> =
            reports(&evs).iter().map(|r| (r.start - T0, r.end - T0, r.hits, r.malformed)).collect();
        assert_eq!(rs, [(10, 20, 1, 1), (20, 490, 0, 0), (490, 500, 0, 0), (500, 501, 0, 0)]);
        assert_eq!(summary(&evs).hits, 1);
    }

    #[test]
    fn wall_clock_lines_far_ahead_are_early() {
        let mut e = engine(10, 1, Clock::Wall);
        e.handle_time(T0);
        let ahead = e.handle_line(&line(T0 + AHEAD as i64, "/a", 200));
        assert_eq!(ahead, Outcome::Hit { time: T0 + AHEAD as i64, placement: Placement::Open });
        let early = e.handle_line(&line(T0 + AHEAD as i64 + 1, "/a", 200));
        assert_eq!(early, Outcome::Hit { time: T0 + AHEAD as i64 + 1, placement: Placement::Early });
        e.finish(Some(T0 + 1));
        let evs = events(&mut e);
        let s = summary(&evs);
        assert_eq!((s.hits, s.early), (2, 1));
        assert_eq!(reports(&evs).iter().map(|r| r.hits).sum::<u64>(), 2);
    }

    #[test]
    fn an_offset_shifts_timestamps() {
        let mut e = engine(10, 1, Clock::Wall);
        e.handle_time(T0);
        e.set_offset(3600);
        let outcome = e.handle_line(&line(T0 - 3600, "/a", 200));
        assert_eq!(outcome, Outcome::Hit { time: T0 - 3600, placement: Placement::Open });
    }

    #[test]
    fn a_report_on_request_leaves_the_schedule_alone() {
        let mut e = engine(120, 10, Clock::Wall);
        e.handle_time(T0 + 3);
        feed(&mut e, 3, 4, 7);
        e.request_report(Some(T0 + 4));
        let evs = events(&mut e);
        let rs = reports(&evs);
        assert_eq!((rs[0].start - T0, rs[0].end - T0, rs[0].hits, rs[0].partial), (0, 5, 7, true));
        assert!(rs[0].requested);
        e.handle_time(T0 + 13);
        let evs = events(&mut e);
        let rs = reports(&evs);
        assert_eq!((rs[0].start - T0, rs[0].end - T0, rs[0].hits, rs[0].partial), (0, 10, 7, false));
        assert!(!rs[0].requested);
    }

    #[test]
    fn sections_and_statuses_reach_the_report() {
        let mut e = engine(120, 10, Clock::Log);
        for (path, status) in [("/api/a", 200), ("/api/b", 404), ("/img/x", 503), ("/", 301)] {
            e.handle_line(&line(T0, path, status));
        }
        e.handle_line(&line(T0, "-", 400));
        e.finish(None);
        let evs = events(&mut e);
        let r = reports(&evs)[0];
        assert_eq!(r.status, [0, 1, 1, 2, 1]);
        assert_eq!(r.no_section, 1);
        let top: Vec<(&[u8], u64)> = r.sections.iter().map(|s| (s.section.as_slice(), s.hits)).collect();
        assert_eq!(top, [(&b"/api"[..], 2), (b"/", 1), (b"/img", 1)]);
    }

    #[test]
    fn an_alert_still_active_at_the_end_is_in_the_summary() {
        let mut e = engine(10, 0, Clock::Log);
        feed(&mut e, 0, 3, 1);
        e.finish(None);
        let evs = events(&mut e);
        let s = summary(&evs);
        assert_eq!((s.alerts, s.alert.map(|a| a.id)), (1, Some(1)));
    }
}
