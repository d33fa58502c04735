//! What crosses the engine's boundary: its configuration, which clock drives
//! it, and the values it hands back (events, and the fate of each line).
//! A leaf: the rest of the engine builds on these, never the other way.

use std::time::Duration;

use super::alert::{AlertEvent, Threshold};
use super::parse::{LogFormat, Malformed};
use super::rule::Rule;
use super::stats::{Report, Summary};
use super::timestamp::Epoch;
use super::window::Placement;

/// The longest `--max-delay`, seconds: what memory is sized for.
pub const MAX_DELAY: u32 = 300;

/// How far ahead of the wall clock a line may be stamped and still count in
/// the alert window. Clocks of the same fleet rarely disagree by more.
pub const AHEAD: u32 = 10;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clock {
    /// The log's own timestamps drive time: the newest one seen is "now".
    Log,
    /// The caller drives time with [`Engine::handle_time`](super::Engine::handle_time).
    Wall,
}

#[derive(Clone, Debug, PartialEq, Eq)]
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
    /// `--alert` rules, evaluated with the default rule if `default_rule`.
    pub rules: Vec<Rule>,
    /// The default rule: `rate > threshold over window`.
    pub default_rule: bool,
    /// Reports are made. Off when nothing would read them (the caller
    /// decides: logmon's `Monitor::needs_reports`): one is then not built
    /// every interval only to be dropped. The run's totals, the alerts and
    /// the summary are the same either way.
    pub reports: bool,
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
            rules: Vec::new(),
            default_rule: true,
            reports: true,
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

/// A line as read, without its newline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Line<'a> {
    Text(&'a [u8]),
    /// Longer than [`MAX_LINE`]; its bytes were dropped.
    Overlong,
}

impl Line<'_> {
    /// The line's bytes, empty when they were dropped.
    pub fn bytes(&self) -> &[u8] {
        match self {
            Line::Text(t) => t,
            Line::Overlong => &[],
        }
    }
}

/// Longest line kept; longer ones are counted as malformed.
pub const MAX_LINE: usize = 64 * 1024;

/// Where [`Engine::handle_lines`](super::Engine::handle_lines) tells its
/// caller what became of each line of a batch: what a driver needs per line
/// (diagnostics for a malformed one, a hit's time). Called inline, so a
/// sink that ignores hits costs them nothing.
pub trait LineSink {
    fn line(&mut self, number: u64, line: Line<'_>, outcome: Outcome);
}

/// A sink that needs nothing.
impl LineSink for () {
    #[inline(always)]
    fn line(&mut self, _: u64, _: Line<'_>, _: Outcome) {}
}

/// What became of one line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// `time` is the line's own timestamp, before any clock offset;
    /// `latency_us` its response time, when the format logs one.
    Hit {
        time: Epoch,
        placement: Placement,
        latency_us: Option<u64>,
    },
    Malformed(Malformed),
    /// Not a log line (a CSV header).
    Skipped,
}

/// A reading of a live driver's two clocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Now {
    /// The monotonic clock, from any fixed origin: it never jumps, so the
    /// engine keeps its time and deadlines on it.
    pub monotonic: Duration,
    /// The realtime clock, since 1970: it names seconds, and may be stepped.
    pub realtime: Duration,
}

/// Something the user should be told once, on stderr, as it happens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Notice {
    /// Live: the log's clock is off; its timestamps are shifted by `offset`
    /// seconds from now on (positive: the log is behind).
    LogClockOff { offset: i64 },
    /// Live: the realtime clock stepped by `by` seconds (negative: back).
    /// Lines are shifted by `shift` seconds onto logmon's own time.
    WallClockStepped { by: i64, shift: i64 },
    /// The end of a run: more than 1 % of hits were late.
    LateLines(LateLines),
}

/// How far out of order late lines arrived (see [`super::lateness`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LateLines {
    pub late: u64,
    pub hits: u64,
    /// Seconds, the most any late line was out of order.
    pub farthest: i64,
    /// The `--max-delay` that counts them all on time (`all`), else the
    /// smallest that leaves at most 1 % of hits late; `None` if even
    /// [`MAX_DELAY`] would not.
    pub max_delay: Option<u32>,
    pub all: bool,
}
