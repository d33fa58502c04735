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
    /// The newest second that holds a hit, or that the clock reached.
    newest: Epoch,
}

#[derive(Debug)]
pub struct Engine {
    config: Config,
    parser: Parser,
    running: Option<Running>,
    alerts: Alerts,
    events: VecDeque<Event>,
    /// Consecutive empty report intervals closed in one step, reported as
    /// one report when the step ends or something else happens.
    quiet: Option<(Epoch, Epoch)>,
    totals: Totals,
    /// Malformed lines read before the clock started, for the first report.
    malformed_before_start: u64,
    /// Added to every timestamp: the log's clock error, when live mode
    /// decided the log's clock is off (see [`skew`]).
    offset: i64,
    finished: bool,
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
            finished: false,
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
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
        if self.running.is_none() {
            self.start(now);
        }
        self.close_through(now - i64::from(self.config.max_delay) - 1);
    }

    /// The instant at which [`handle_time`](Self::handle_time) next has work
    /// to do; `None` on the log's clock, where lines alone move time.
    pub fn next_deadline(&self) -> Option<Epoch> {
        match (self.config.clock, &self.running) {
            (Clock::Wall, Some(r)) => Some(r.window.closed() + i64::from(self.config.max_delay) + 2),
            _ => None,
        }
    }

    /// Shifts the timestamps of the lines that follow by `offset` seconds.
    pub fn set_offset(&mut self, offset: i64) {
        self.offset = offset;
    }

    /// Queues a report of the interval so far, as it stands at `now`,
    /// without closing anything.
    pub fn request_report(&mut self, now: Epoch) {
        let Some(running) = &self.running else { return };
        let (start, end) = running.tallies.current_bounds();
        let end = now.clamp(start + 1, end);
        let empty = Tally::default();
        let tally = running.tallies.peek().unwrap_or(&empty);
        let report = tally.report(start, end, self.config.interval, self.config.top, &self.alerts);
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
        let open = self.config.max_delay
            + 1
            + match self.config.clock {
                Clock::Log => 0,
                Clock::Wall => AHEAD,
            };
        // Lines up to max_delay older than the first instant are on time.
        let closed = now - i64::from(self.config.max_delay) - 1;
        let mut tallies = Tallies::new(self.config.interval, closed + 1);
        tallies.current().malformed = std::mem::take(&mut self.malformed_before_start);
        self.running = Some(Running { window: Window::new(self.config.window, open, closed), tallies, newest: now });
    }

    fn malformed(&mut self, why: Malformed) -> Outcome {
        self.totals.malformed += 1;
        match &mut self.running {
            Some(running) => running.tallies.current().malformed += 1,
            None => self.malformed_before_start += 1,
        }
        Outcome::Malformed(why)
    }

    fn hit(&mut self, record: &Record<'_>) -> Outcome {
        let time = record.time + self.offset;
        if self.running.is_none() {
            self.start(time);
        }
        if self.config.clock == Clock::Log {
            self.close_through(time - i64::from(self.config.max_delay) - 1);
        }
        let running = self.running.as_mut().expect("started above");
        let placement = running.window.add(time);
        let tally = match placement {
            Placement::Open => {
                running.newest = running.newest.max(time);
                running.tallies.get(running.tallies.number(time))
            }
            Placement::LateInWindow | Placement::LateOutside => {
                self.totals.late += 1;
                let tally = running.tallies.current();
                tally.late += 1;
                tally
            }
            Placement::Early => {
                self.totals.early += 1;
                let tally = running.tallies.current();
                tally.early += 1;
                tally
            }
        };
        tally.add(record);
        let totals = &mut self.totals;
        totals.hits += 1;
        totals.first = Some(totals.first.map_or(time, |t| t.min(time)));
        totals.last = Some(totals.last.map_or(time, |t| t.max(time)));
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
        self.flush_quiet();
    }

    /// Closes `(closed, target]` at once. Nothing is in the window or
    /// waiting, and no alert is active, so no alert can change and every
    /// report but the current one is empty: this is what makes a gap of
    /// months in a log (or a suspended laptop) cost no more than a second.
    fn skip_quiet_stretch(&mut self, target: Epoch) {
        let running = self.running.as_mut().expect("closing needs a started clock");
        let last = running.tallies.number(target + 1);
        if running.tallies.current_number() < last {
            let (_, end) = running.tallies.current_bounds();
            self.finish_report(end);
            let running = self.running.as_mut().expect("still running");
            if running.tallies.current_number() < last {
                let (start, _) = running.tallies.current_bounds();
                let end = last * i64::from(self.config.interval);
                running.tallies.skip_to(last);
                self.note_quiet(start, end);
            }
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
