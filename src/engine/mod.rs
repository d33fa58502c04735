//! The pure engine: lines and clock instants in, reports, alert transitions
//! and a summary out, as values. It never reads a clock, a file or a
//! terminal, so replay, live mode and tests drive it alike.
//!
//! Time is counted in whole seconds. A second is *closed* once no more lines
//! are expected for it: `max_delay` seconds after it, on the log's clock in
//! replay and on the wall clock live. Closing second `t` evaluates the alert
//! over the window `t - window + 1 ..= t`, and closing the last second of a
//! report interval emits that report.
//!
//! # Calling rules
//!
//! An [`Engine`] is driven by one caller, in this order:
//!
//! 1. [`Engine::new`] with a [`Config`] whose [`Clock`] says what drives time.
//! 2. Lines in the order they were read, many at a time with
//!    [`Engine::handle_lines`] (what replay and live mode do): it tells a
//!    [`LineSink`] each line's [`Outcome`] and stops after a line that
//!    queued an event or a notice, so rule 4 applies after it as after any
//!    call, and it is called again for the rest. Or one at a time:
//!    [`Engine::handle_line`], [`Engine::handle_overlong_line`] for one too
//!    long to keep, [`Engine::handle_cut_line`] for a live run's last line
//!    cut off without its newline; each returns the line's [`Outcome`].
//! 3. On [`Clock::Wall`] only: [`Engine::handle_clock`] with a reading of
//!    the monotonic and realtime clocks ([`Now`]), once before the first
//!    line (that starts the clock), then whenever the monotonic clock
//!    reaches [`Engine::poll_timeout`] (the driver's poll timeout), and
//!    whenever it wakes for another reason. Calling it more often is
//!    harmless. [`Engine::handle_time`] does the same with a single clock
//!    that is never stepped (tests, and callers with one clock; then
//!    [`Engine::next_deadline`] is its timeout). On [`Clock::Log`] the
//!    lines' timestamps are the clock and neither is needed.
//! 4. After any call, [`Engine::poll_event`] until it returns `None` (events
//!    are queued in the order they happened and are never dropped), and
//!    [`Engine::poll_notice`] likewise for what to say on stderr.
//! 5. At any time, [`Engine::request_report`] for a look at the report being
//!    built; it changes no count.
//! 6. Once, at the end: [`Engine::finish`]. It closes what is open and queues
//!    the last report and the [`Event::Summary`], always the last event.
//!    After it every call does nothing; lines handed in are counted nowhere.
//!
//! A live driver loop, with a fake pair of clocks standing in for the poll
//! timeout:
//!
//! ```
//! use std::time::Duration;
//! use logmon::engine::{Clock, Config, Engine, Event, Line, Now};
//!
//! /// Rule 4: what the engine queued, oldest first.
//! fn drain(engine: &mut Engine, reports: &mut u32) {
//!     while let Some(event) = engine.poll_event() {
//!         if let Event::Report(_) = event {
//!             *reports += 1;
//!         }
//!     }
//!     while let Some(notice) = engine.poll_notice() {
//!         eprintln!("{notice:?}");
//!     }
//! }
//!
//! let mut engine = Engine::new(Config { clock: Clock::Wall, ..Config::default() });
//! let start = Duration::from_secs(1_549_573_860); // realtime, since 1970
//! let mut now = Now { monotonic: Duration::ZERO, realtime: start };
//! engine.handle_clock(now);
//! let mut reports = 0;
//! for _ in 0..30 {
//!     // Sleep until the deadline or input, whichever comes first...
//!     if let Some(deadline) = engine.poll_timeout() {
//!         now.monotonic = now.monotonic.max(deadline);
//!         now.realtime = start + now.monotonic;
//!     }
//!     engine.handle_clock(now);
//!     drain(&mut engine, &mut reports);
//!     // ...count what was read, numbered, a batch at a time...
//!     let t = now.realtime.as_secs();
//!     let read = format!("\"10.0.0.1\",\"-\",\"u\",{t},\"GET /a HTTP/1.0\",200,512\n").repeat(2);
//!     let mut lines = (1..).zip(read.lines().map(|l| Line::Text(l.as_bytes()))).peekable();
//!     while lines.peek().is_some() {
//!         engine.handle_lines(&mut lines, &mut ());
//!         // ...and write what the engine says.
//!         drain(&mut engine, &mut reports);
//!     }
//! }
//! engine.finish(None);
//! let last = std::iter::from_fn(|| engine.poll_event()).last();
//! assert!(matches!(last, Some(Event::Summary(s)) if s.hits == 60 && s.late == 0));
//! assert!(reports >= 2);
//! ```

// What crosses the boundary: configuration, clocks, events, outcomes.
mod interface;
// Live time from the monotonic and realtime clocks; steps of the latter.
mod clock;
// The engine and its phases; counts every line.
mod machine;
// The clock, open seconds, report boundaries, the max-delay rule.
mod schedule;
// How far out of order late lines arrived.
mod lateness;
// Replay's rule for a timestamp that disagrees with the majority.
pub mod outlier;

// Counting per second and per report.
pub mod histogram;
pub mod stats;
pub mod timings;
pub mod window;

// Judging lines and clocks.
pub mod alert;
pub mod rule;
pub mod skew;

// Reading lines.
mod bytes;
pub mod format;
pub mod parse;
pub mod section;
pub mod timestamp;
pub mod topk;

pub use interface::{
    AHEAD, Clock, Config, Event, LateLines, Line, LineSink, MAX_DELAY, MAX_LINE, Notice, Now, Outcome,
};
pub use machine::Engine;

#[cfg(test)]
mod shortcut_tests;
#[cfg(test)]
mod testkit;
#[cfg(test)]
mod tests;
