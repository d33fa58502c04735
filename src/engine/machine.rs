//! The engine itself: its phases, the counting of every line, and the calls
//! a driver makes (see the calling rules in [`crate::engine`]).

use std::collections::VecDeque;
use std::time::Duration;

use super::alert::Alerts;
use super::clock::WallClock;
use super::interface::{Clock, Config, Event, Line, LineSink, Notice, Now, Outcome};
use super::lateness::Lateness;
use super::outlier::{self, CONFIRM, Held};
use super::parse::{LogFormat, Malformed, Parsed, Parser, Record, Scratch};
use super::rule::Rule;
use super::schedule::{Outbox, Schedule};
use super::skew::Skew;
use super::stats::{RunTally, Summary, Tally};
use super::timestamp::Epoch;
use super::window::Placement;

/// Where the engine is in its run.
#[derive(Debug)]
enum Phase {
    /// No clock yet: replay before its first hit, live before the first
    /// [`Engine::handle_time`]. Malformed lines read meanwhile wait for the
    /// first report.
    Waiting { malformed: u64 },
    /// The clock runs (boxed: the other phases are a word or nothing).
    Running(Box<Schedule>),
    /// [`Engine::finish`] was called: the summary is out, nothing changes.
    Finished,
}

impl Phase {
    /// The schedule, started at `now` if the clock was waiting; `None` once
    /// the run is finished.
    #[inline]
    fn schedule_or_start(&mut self, config: &Config, now: Epoch, out: &mut Outbox) -> Option<&mut Schedule> {
        if let Phase::Waiting { malformed } = *self {
            *self = Phase::Running(Box::new(Schedule::start(config, now, malformed, &mut out.alerts)));
        }
        match self {
            Phase::Running(schedule) => Some(schedule),
            _ => None,
        }
    }
}

/// The run's counts. Every line is one hit, malformed or skipped, so the
/// lines are their sum (see [`Engine::summary`]), not a count of their own.
#[derive(Debug)]
struct Totals {
    hits: u64,
    malformed: u64,
    late: u64,
    early: u64,
    skipped: u64,
    /// The earliest and latest hit timestamps, as logged, once `hits > 0`.
    first: Epoch,
    last: Epoch,
}

impl Default for Totals {
    fn default() -> Self {
        Totals { hits: 0, malformed: 0, late: 0, early: 0, skipped: 0, first: Epoch::MAX, last: Epoch::MIN }
    }
}

#[derive(Debug)]
pub struct Engine {
    config: Config,
    parser: Parser,
    /// Where the parser decodes lines that need it.
    scratch: Scratch,
    phase: Phase,
    out: Outbox,
    totals: Totals,
    /// Live: the two clocks read (see [`super::clock`]), once
    /// [`Engine::handle_clock`] was called.
    wall: Option<WallClock>,
    /// Live: whether the log's clock is off (see [`super::skew`]).
    skew: Skew,
    /// Added to every timestamp: the shift of a stepped wall clock plus the
    /// log's clock error. Always 0 on the log's clock, where only the
    /// lines move time (`update_offset` leaves it so, even when a caller
    /// passes clock readings): replay's usual hit does not read it (`hit`
    /// asserts so in tests).
    offset: i64,
    notices: VecDeque<Notice>,
    /// How far out of order late lines arrived.
    lateness: Lateness,
    /// Replay: hits whose timestamps are in doubt until later hits decide
    /// (see [`super::outlier`]), oldest first, at most [`CONFIRM`].
    held: Vec<Held>,
}

impl Engine {
    pub fn new(config: Config) -> Engine {
        Engine {
            parser: Parser::new(config.format.clone()),
            scratch: Scratch::default(),
            out: Outbox {
                alerts: Alerts::with_rules(config.threshold, config.window, config.default_rule, config.rules.clone()),
                events: VecDeque::new(),
                run: RunTally::default(),
            },
            config,
            phase: Phase::Waiting { malformed: 0 },
            totals: Totals::default(),
            wall: None,
            skew: Skew::default(),
            offset: 0,
            notices: VecDeque::new(),
            lateness: Lateness::default(),
            held: Vec::new(),
        }
    }

    /// The `--alert` rules.
    pub fn rules(&self) -> &[Rule] {
        &self.config.rules
    }

    /// The log format in use: the one asked for, or the one `auto` chose
    /// (`Auto` until the first valid line).
    pub fn log_format(&self) -> LogFormat {
        self.parser.format()
    }

    /// Alerts triggered since the start.
    pub fn alerts_triggered(&self) -> u64 {
        self.out.alerts.triggered()
    }

    /// Whether an event or a notice waits: a driver that handles lines one
    /// by one asks this first, as the answer is almost always no.
    #[inline]
    pub fn has_output(&self) -> bool {
        !self.out.events.is_empty() || !self.notices.is_empty()
    }

    /// The next event, oldest first.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.out.events.pop_front()
    }

    /// Counts one line (without its newline).
    #[inline]
    pub fn handle_line(&mut self, line: &[u8]) -> Outcome {
        // Taken out for the call, so the record may borrow it while the
        // engine counts; moving a Vec allocates nothing.
        let mut scratch = std::mem::take(&mut self.scratch);
        let (outcome, _) = match self.config.clock {
            Clock::Log => self.count::<false, false>(line, &mut scratch),
            Clock::Wall => self.count::<true, false>(line, &mut scratch),
        };
        self.scratch = scratch;
        outcome
    }

    /// Counts a batch of lines, numbered, in order, telling `sink` what
    /// became of each. It stops after a line that queued an event or a
    /// notice, so the caller drains them before the next line, as after a
    /// single one; the rest of `lines` is left for the next call. Events
    /// are rare (a report an interval), so a batch is usually all of a read.
    #[inline(always)]
    pub fn handle_lines<'a>(&mut self, lines: &mut impl Iterator<Item = (u64, Line<'a>)>, sink: &mut impl LineSink) {
        // The clock is chosen once for the batch: the loop of each has
        // the other's test a hit left out.
        match self.config.clock {
            Clock::Log => self.count_lines::<false>(lines, sink),
            Clock::Wall => self.count_lines::<true>(lines, sink),
        }
    }

    /// [`handle_lines`](Self::handle_lines) on a wall clock (`WALL`) or
    /// on the log's. A plain NCSA stream's route is settled for the batch
    /// (see [`Parser::reads_lenient`]): asked once here, its loop reads
    /// each line with no dispatch on it.
    #[inline(always)]
    fn count_lines<'a, const WALL: bool>(
        &mut self,
        lines: &mut impl Iterator<Item = (u64, Line<'a>)>,
        sink: &mut impl LineSink,
    ) {
        if self.parser.reads_lenient() {
            self.count_lines_read::<WALL, true>(lines, sink);
        } else {
            self.count_lines_read::<WALL, false>(lines, sink);
        }
    }

    /// [`count_lines`](Self::count_lines), each line read leniently
    /// (`LENIENT`) or as the parser's route says.
    #[inline(always)]
    fn count_lines_read<'a, const WALL: bool, const LENIENT: bool>(
        &mut self,
        lines: &mut impl Iterator<Item = (u64, Line<'a>)>,
        sink: &mut impl LineSink,
    ) {
        let mut scratch = std::mem::take(&mut self.scratch);
        for (number, line) in lines {
            let (outcome, usual) = match line {
                Line::Text(text) => self.count::<WALL, LENIENT>(text, &mut scratch),
                Line::Overlong => (self.handle_overlong_line(), false),
            };
            // The usual hit queues nothing: only another line may have.
            // Its own call of the sink, where the outcome is known a hit.
            if usual {
                sink.line(number, line, outcome);
                continue;
            }
            sink.line(number, line, outcome);
            if self.has_output() {
                break;
            }
        }
        self.scratch = scratch;
    }

    /// Counts one line, read leniently (`LENIENT`, see
    /// [`Parser::reads_lenient`]) or as the parser's route says; says too
    /// whether it was the usual hit, which queues no event and no notice
    /// (see [`hit`](Self::hit)).
    #[inline(always)]
    fn count<const WALL: bool, const LENIENT: bool>(&mut self, line: &[u8], scratch: &mut Scratch) -> (Outcome, bool) {
        // The record is read where the parser built it, not moved first.
        let mut parsed = Parsed::Skip;
        if LENIENT {
            self.parser.parse_lenient_into(line, scratch, &mut parsed);
        } else {
            self.parser.parse_into(line, scratch, &mut parsed);
        }
        if let Parsed::Hit(record) = &parsed {
            return self.hit::<WALL>(record);
        }
        (self.not_hit(line, &parsed), false)
    }

    /// A line that is no hit: malformed, or skipped. Out of line, so that
    /// the hit is told by one test of what the parser made of the line,
    /// not by a match of its three kinds in the loop over a batch's lines.
    #[inline(never)]
    fn not_hit(&mut self, line: &[u8], parsed: &Parsed<'_>) -> Outcome {
        debug_assert!(!matches!(parsed, Parsed::Hit(_)));
        match *parsed {
            Parsed::Malformed(why) if !self.parser.blank(line) => self.malformed(why),
            // A blank line is one the parser leaves malformed for us to ask.
            Parsed::Skip | Parsed::Malformed(_) | Parsed::Hit(_) => {
                self.totals.skipped += 1;
                Outcome::Skipped
            }
        }
    }

    /// Counts the last line of a live run cut off by its end (no newline:
    /// the writer was in the middle of it): a hit if it parses whole, else
    /// skipped rather than malformed, since nothing is wrong with the
    /// input. Once per run, so parsing twice costs nothing.
    pub fn handle_cut_line(&mut self, line: &[u8]) -> Outcome {
        let mut scratch = std::mem::take(&mut self.scratch);
        let whole = matches!(self.parser.parse(line, &mut scratch), Parsed::Hit(_));
        self.scratch = scratch;
        if whole {
            return self.handle_line(line);
        }
        self.totals.skipped += 1;
        Outcome::Skipped
    }

    /// Counts a line that was too long to keep, as malformed.
    pub fn handle_overlong_line(&mut self) -> Outcome {
        self.malformed(Malformed::TooLong)
    }

    /// Moves the clock to second `now`, closing every second that is
    /// `max_delay` seconds in the past. The first call starts a wall clock.
    /// A live driver calls [`handle_clock`](Self::handle_clock) instead;
    /// this is the same with one clock that is never stepped.
    pub fn handle_time(&mut self, now: Epoch) {
        if self.config.clock == Clock::Wall
            && let Some(offset) = self.skew.tick(now)
        {
            self.notices.push_back(Notice::LogClockOff { offset });
            self.update_offset();
        }
        if let Some(schedule) = self.phase.schedule_or_start(&self.config, now, &mut self.out) {
            schedule.advance(now, &mut self.out);
        }
    }

    /// Live: moves the clock to a reading of the monotonic and realtime
    /// clocks (see [`super::clock`] for what a step of the realtime clock
    /// does). The first call starts the clock.
    pub fn handle_clock(&mut self, now: Now) {
        let wall = self.wall.get_or_insert_with(|| WallClock::new(now));
        let (second, step) = wall.read(now);
        if let Some(step) = step {
            let by = (step + step.signum() * 500) / 1_000;
            self.notices.push_back(Notice::WallClockStepped { by, shift: wall.shift() });
            self.update_offset();
        }
        self.handle_time(second);
    }

    /// The second at which [`handle_time`](Self::handle_time) next has work
    /// to do; `None` on the log's clock, where lines alone move time.
    pub fn next_deadline(&self) -> Option<Epoch> {
        match (self.config.clock, &self.phase) {
            (Clock::Wall, Phase::Running(schedule)) => Some(schedule.next_deadline()),
            _ => None,
        }
    }

    /// Hits in the alert window (`config.window` seconds) as its last
    /// closed second left it; `None` before the clock starts.
    pub fn window_hits(&self) -> Option<u64> {
        match &self.phase {
            Phase::Running(schedule) => Some(schedule.window_hits()),
            _ => None,
        }
    }

    /// The monotonic time at which [`handle_clock`](Self::handle_clock)
    /// next has work to do: the driver's poll timeout.
    pub fn poll_timeout(&self) -> Option<Duration> {
        Some(self.wall.as_ref()?.monotonic_at(self.next_deadline()?))
    }

    /// The next thing to tell the user, oldest first.
    pub fn poll_notice(&mut self) -> Option<Notice> {
        self.notices.pop_front()
    }

    /// Tests: forgets the seconds the shortcuts remember (see
    /// [`Schedule::settle_recent`]), so that the next hit takes the full
    /// placement; what is counted stays the same.
    #[cfg(test)]
    pub(super) fn forget_shortcuts(&mut self) {
        if let Phase::Running(schedule) = &mut self.phase {
            schedule.settle_recent();
        }
    }

    fn update_offset(&mut self) {
        // On the log's clock the offset stays 0 whatever clock readings a
        // caller passes: its usual hit does not read it, and held hits
        // must not either (see `offset`).
        self.offset = match self.config.clock {
            Clock::Log => 0,
            Clock::Wall => self.wall.as_ref().map_or(0, WallClock::shift) + self.skew.offset(),
        };
        // The usual hit relies on its timestamp, as logged, being that of
        // the hit that opened its second (see `hit`): that second ends here,
        // its hits settled into the window.
        if let Phase::Running(schedule) = &mut self.phase {
            schedule.settle_recent();
        }
    }

    /// Queues a report of the oldest interval still open, as it stands up
    /// to `now` (`None`: the engine's own clock), without closing anything.
    /// Its time is never later than the reports still to come.
    pub fn request_report(&mut self, now: Option<Epoch>) {
        if let Phase::Running(schedule) = &mut self.phase {
            schedule.request_report(now, &mut self.out);
        }
    }

    /// Ends the run: closes every second up to the newest one seen (and up
    /// to `now` on a wall clock), queues the last, partial report and the
    /// summary. Later calls do nothing.
    pub fn finish(&mut self, now: Option<Epoch>) {
        if matches!(self.phase, Phase::Waiting { .. }) {
            self.start_from_held();
        }
        self.release_held_at_end();
        let time = match std::mem::replace(&mut self.phase, Phase::Finished) {
            Phase::Finished => return,
            Phase::Waiting { .. } => None,
            Phase::Running(mut schedule) => {
                schedule.finish(now, &mut self.out);
                Some(schedule.closed_until())
            }
        };
        if let Some(late) = self.lateness.explain(self.totals.hits) {
            self.notices.push_back(Notice::LateLines(late));
        }
        let summary = self.summary(time);
        self.out.events.push_back(Event::Summary(summary));
    }

    fn summary(&self, time: Option<Epoch>) -> Summary {
        let t = &self.totals;
        Summary {
            time,
            // Held hits are counted by now: `finish` released them.
            lines: t.hits + t.malformed + t.skipped,
            hits: t.hits,
            malformed: t.malformed,
            late: t.late,
            early: t.early,
            skipped: t.skipped,
            alerts: self.out.alerts.triggered(),
            alert: self.out.alerts.active().copied(),
            active: self.out.alerts.in_force(),
            first: (t.hits > 0).then_some(t.first),
            last: (t.hits > 0).then_some(t.last),
            format: self.parser.format(),
            totals: self.out.run.totals(self.config.top),
        }
    }

    fn malformed(&mut self, why: Malformed) -> Outcome {
        self.totals.malformed += 1;
        match &mut self.phase {
            Phase::Waiting { malformed } => *malformed += 1,
            Phase::Running(schedule) => schedule.tally_now().malformed += 1,
            Phase::Finished => {}
        }
        Outcome::Malformed(why)
    }

    /// Counts a hit, and says whether it was the usual one: in the second
    /// of the hit before, on time, or live late or early. That one is
    /// counted inline, in the loop over a batch's lines, and neither closes
    /// a second nor touches a clock, so it queues nothing; any other hit is
    /// counted out of line.
    #[inline(always)]
    fn hit<const WALL: bool>(&mut self, record: &Record<'_>) -> (Outcome, bool) {
        // On the log's clock nothing shifts timestamps (see `offset`).
        debug_assert!(WALL || self.offset == 0);
        let time = if WALL { record.time + self.offset } else { record.time };
        if WALL {
            self.skew.line(time - self.skew.offset());
            // Live, a backlog's usual hit is late (or, from a log ahead of
            // the clock, early): counted here, in the branch that replay
            // never takes, so that replay's usual hit stays as lean.
            if let Some(outcome) = self.hit_aside::<true>(record, time) {
                return (outcome, true);
            }
        }
        // The usual hit: in the open second of one of the last ones counted
        // on time, nothing held in doubt. It is not ahead of the clock, and
        // moves it nowhere: it is counted there at once. Its timestamp, as
        // logged, is that of the hit that opened the second (the shift has
        // not changed since: that forgets the second), which the run's
        // first and last already took.
        // No second is recent while hits are held (see `hit_in_doubt`):
        // that they are not needs no test here.
        if let Phase::Running(schedule) = &mut self.phase
            && let Some(tally) = schedule.again(time)
        {
            return (
                count::<false>(tally, &mut self.out.alerts, &mut self.totals, record, time, Placement::Open),
                true,
            );
        }
        (self.hit_elsewhere(record, time), false)
    }

    /// The usual hit of a backlog, or of a log whose clock is behind (or
    /// ahead of) the wall clock: in the second of the hit before, which was
    /// counted aside, late or early, with nothing held, no second closed and
    /// no clock read since. It is counted there at once, as
    /// [`place`](Self::place) would count it, and queues nothing. Its
    /// timestamp, as logged, is that of the hit before (the shift has not
    /// changed since: that forgets the second), which the run's first and
    /// last already took.
    /// On a wall clock (`WALL`) no hit is ever held (see
    /// [`start_from_held`](Self::start_from_held)): only the log's clock
    /// tests that none is.
    #[inline(always)]
    fn hit_aside<const WALL: bool>(&mut self, record: &Record<'_>, time: Epoch) -> Option<Outcome> {
        let Phase::Running(schedule) = &mut self.phase else { return None };
        if !WALL && !self.held.is_empty() {
            return None;
        }
        let (placement, tally) = schedule.again_aside(time)?;
        let outcome = count::<WALL>(tally, &mut self.out.alerts, &mut self.totals, record, time, placement);
        // Read after the count: the clock is where it was, and the two
        // are needed only by a late hit, not held across the count.
        note_late(&mut self.lateness, placement, time, schedule.now(), schedule.floor());
        Some(outcome)
    }

    /// A hit stamped `time` (shifted) not counted on time in the second of
    /// the one before: replay's usual late one (see
    /// [`hit_aside`](Self::hit_aside); live's was looked for in
    /// [`hit`](Self::hit), with nothing changed since, so it is not looked
    /// for again), else one to place. Out of line, so that replay's usual
    /// hit stays lean; and the placing is out of line again, so that the
    /// usual late hit does not pay for the registers it needs.
    #[inline(never)]
    fn hit_elsewhere(&mut self, record: &Record<'_>, time: Epoch) -> Outcome {
        if self.config.clock == Clock::Log
            && let Some(outcome) = self.hit_aside::<false>(record, time)
        {
            return outcome;
        }
        self.hit_placed(record, time)
    }

    /// A hit stamped `time` (shifted) in another second than the one
    /// before, or while others are held.
    #[inline(never)]
    fn hit_placed(&mut self, record: &Record<'_>, time: Epoch) -> Outcome {
        if self.config.clock == Clock::Log {
            match &self.phase {
                Phase::Running(schedule) if self.held.is_empty() && time <= schedule.now() + self.jump_tolerance() => {}
                Phase::Finished => {}
                _ => return self.hit_in_doubt(record, time),
            }
        }
        self.place(record, time, false)
    }

    /// Replay, a hit far ahead of the log's clock, or one while others are
    /// held: the majority decides (see [`super::outlier`]).
    #[cold]
    fn hit_in_doubt(&mut self, record: &Record<'_>, time: Epoch) -> Outcome {
        let held = Outcome::Hit { time: record.time, placement: Placement::Open, latency_us: record.latency_us };
        let tolerance = self.jump_tolerance();
        let now = match &self.phase {
            Phase::Running(schedule) => schedule.now(),
            _ => {
                self.held.push(Held::new(record));
                if self.held.len() == CONFIRM {
                    self.start_from_held();
                }
                return held;
            }
        };
        if time <= now + tolerance {
            // Back near the clock: the held hits were wrong.
            self.release_held(|_| true, true);
            return self.place(record, time, false);
        }
        let offset = self.offset;
        self.release_held(|h| outlier::contradicts(time, h.time + offset, tolerance), true);
        // While hits are held, the usual hit's shortcut must not count
        // another in a recent second: the held ones decide first.
        if let Phase::Running(schedule) = &mut self.phase {
            schedule.settle_recent();
        }
        self.held.push(Held::new(record));
        if self.held.len() == CONFIRM {
            // The log did jump.
            self.release_held(|_| true, false);
        }
        held
    }

    /// Starts the log's clock from the first hits, held so far, then counts
    /// them as if they had just been read. Only the log's clock holds hits
    /// (`hit_placed` sends no other to `hit_in_doubt`): a wall clock starts
    /// at its first time, or at its first hit, placed at once (test
    /// `a_wall_clock_counts_hits_before_its_first_time_at_once`).
    fn start_from_held(&mut self) {
        debug_assert!(self.held.is_empty() || self.config.clock == Clock::Log);
        let times: Vec<Epoch> = self.held.iter().map(|h| h.time + self.offset).collect();
        let Some(start) = outlier::start(&times, self.jump_tolerance()) else { return };
        self.phase.schedule_or_start(&self.config, start, &mut self.out);
        for held in std::mem::take(&mut self.held) {
            self.hit::<false>(&held.record());
        }
    }

    /// Counts the held hits that `which` picks, in the order they were read:
    /// as early, or in their own seconds.
    fn release_held(&mut self, which: impl Fn(&Held) -> bool, early: bool) {
        let mut i = 0;
        while i < self.held.len() {
            if which(&self.held[i]) {
                let held = self.held.remove(i);
                self.place(&held.record(), held.time + self.offset, early);
            } else {
                i += 1;
            }
        }
    }

    /// At the end of input too few hits came after the held ones to confirm
    /// a jump: each, in the order read, counts in its own second if it is
    /// near enough the clock as the ones before it left it, else as early.
    fn release_held_at_end(&mut self) {
        for held in std::mem::take(&mut self.held) {
            let time = held.time + self.offset;
            let believed = match &self.phase {
                Phase::Running(schedule) => outlier::believed_at_end(time, schedule.now()),
                _ => false,
            };
            self.place(&held.record(), time, !believed);
        }
    }

    /// How far ahead of the log's clock a hit may be before it is in doubt:
    /// past the window, a jump empties it.
    fn jump_tolerance(&self) -> i64 {
        i64::from(self.config.window) + i64::from(self.config.max_delay)
    }

    /// Counts a hit stamped `time` (shifted); `early` counts it outside the
    /// window, in the report of the moment. The first hit starts a log clock.
    #[inline(always)]
    fn place(&mut self, record: &Record<'_>, time: Epoch, early: bool) -> Outcome {
        let Some(schedule) = self.phase.schedule_or_start(&self.config, time, &mut self.out) else {
            return Outcome::Hit { time: record.time, placement: Placement::Early, latency_us: record.latency_us };
        };
        if self.config.clock == Clock::Log && !early {
            schedule.advance(time, &mut self.out);
        }
        let (now, floor) = (schedule.now(), schedule.floor());
        let (placement, tally) = schedule.place(time, early);
        let outcome = count::<false>(tally, &mut self.out.alerts, &mut self.totals, record, time, placement);
        // As logged: they describe the log, whatever shift live mode applies.
        self.totals.first = self.totals.first.min(record.time);
        self.totals.last = self.totals.last.max(record.time);
        note_late(&mut self.lateness, placement, time, now, floor);
        outcome
    }
}

/// Tells `lateness` of a hit stamped `time` (shifted), placed with the clock
/// at `now`, if it was late. Live, lines from before the start (`floor`) are
/// late whatever the delay: they say nothing of how out of order lines arrive.
#[inline(always)]
fn note_late(lateness: &mut Lateness, placement: Placement, time: Epoch, now: Epoch, floor: Epoch) {
    if matches!(placement, Placement::LateInWindow | Placement::LateOutside) && time >= floor {
        lateness.late(time, now);
    }
}

/// Counts a hit stamped `time` (shifted), placed, in its report's tally,
/// the alert rules and the run's totals (but for its first and last
/// timestamps: see [`Engine::place`]). The two counts touch nothing of
/// each other's; the alert rules are told first when `RULES_FIRST`, as for
/// a live run's usual hit, counted aside, which then holds `time` through
/// no table lookup: measured, 4 instructions a line fewer on a pipe, where
/// the same order costs replay's usual hit 3.5 more.
#[inline(always)]
fn count<const RULES_FIRST: bool>(
    tally: &mut Tally,
    alerts: &mut Alerts,
    totals: &mut Totals,
    record: &Record<'_>,
    time: Epoch,
    placement: Placement,
) -> Outcome {
    if RULES_FIRST && placement != Placement::Early {
        alerts.add(record, time);
    }
    tally.add(record);
    if !RULES_FIRST && placement != Placement::Early {
        alerts.add(record, time);
    }
    totals.hits += 1;
    match placement {
        Placement::Open => {}
        Placement::LateInWindow | Placement::LateOutside => totals.late += 1,
        Placement::Early => totals.early += 1,
    }
    Outcome::Hit { time: record.time, placement, latency_us: record.latency_us }
}
