//! The shortcuts for the usual hit (in the second of the one before, on
//! time or aside) against the full placement they stand for: the same
//! seeded random input through an engine that takes them and through one
//! made to forget them before every line gives the same outcomes, reports,
//! alerts, notices and summary, on the fake clock.

use std::time::Duration;

use super::alert::Threshold;
use super::interface::AHEAD;
use super::rule::Rule;
use super::testkit::Rng;
use super::timestamp::Epoch;
use super::*;

/// 2019-02-07T21:11:00Z.
const T0: Epoch = 1_549_573_860;

/// Two engines fed alike; `placed` forgets the shortcuts before each line.
struct Pair {
    fast: Engine,
    placed: Engine,
    /// The seed, said when they differ.
    case: u64,
}

impl Pair {
    fn new(case: u64, rng: &mut Rng, clock: Clock) -> Pair {
        let window = 1 + rng.below(8) as u32;
        let rules = match rng.below(3) {
            0 => vec![],
            1 => vec!["5xx > 1/s over 3"],
            _ => vec!["5xx > 1/s over 3", "rate > 2/s over 5"],
        };
        let config = Config {
            window,
            interval: 1 + rng.below(6) as u32,
            // Up to 7: replay then opens more seconds than RECENT (4), so
            // that one recent second displaces another.
            max_delay: rng.below(8) as u32,
            threshold: Threshold::per_second(rng.below(6)),
            clock,
            rules: rules.iter().map(|r| Rule::parse(r, window).expect("valid rule")).collect(),
            default_rule: rules.is_empty() || rng.below(2) == 0,
            ..Config::default()
        };
        Pair { fast: Engine::new(config.clone()), placed: Engine::new(config), case }
    }

    /// Does `f` to both, then checks they said the same since.
    fn both<T: PartialEq + std::fmt::Debug>(&mut self, what: &str, mut f: impl FnMut(&mut Engine) -> T) {
        self.both_told(what, |e, _| f(e));
    }

    /// [`both`](Self::both), `f` told which engine is the placed one.
    fn both_told<T: PartialEq + std::fmt::Debug>(&mut self, what: &str, mut f: impl FnMut(&mut Engine, bool) -> T) {
        let fast = f(&mut self.fast, false);
        let placed = f(&mut self.placed, true);
        let what = format!("case {}, {what}", self.case);
        assert_eq!(fast, placed, "{what}");
        assert_eq!(self.fast.window_hits(), self.placed.window_hits(), "{what}: window");
        let drain = |e: &mut Engine| {
            let events: Vec<Event> = std::iter::from_fn(|| e.poll_event()).collect();
            let notices: Vec<Notice> = std::iter::from_fn(|| e.poll_notice()).collect();
            (events, notices)
        };
        assert_eq!(drain(&mut self.fast), drain(&mut self.placed), "{what}: events");
    }

    fn line(&mut self, t: Epoch, rng: &mut Rng) {
        let path = ["/a/x", "/b/y"][rng.below(2) as usize];
        let status = [200, 404, 503][rng.below(3) as usize];
        let line = format!(r#""10.0.0.1","-","u",{t},"GET {path} HTTP/1.0",{status},100"#).into_bytes();
        self.both_told(&format!("line {t}"), |e, placed| {
            if placed {
                e.forget_shortcuts();
            }
            e.handle_line(&line)
        });
    }
}

/// The second of the next line: mostly that of the line before, else
/// anywhere from outside the window to past the open seconds of `now`.
fn next_second(rng: &mut Rng, before: Epoch, now: Epoch, reach: i64) -> Epoch {
    if rng.below(10) < 7 { before } else { now - reach + rng.below(reach as u64 + AHEAD as u64 + 4) as i64 }
}

#[test]
fn live_the_shortcuts_count_as_placing_would() {
    for case in 0..100 {
        let mut rng = Rng::seeded(case);
        let mut pair = Pair::new(case, &mut rng, Clock::Wall);
        // Some logs run behind or ahead of the wall clock, by more than the
        // skew rule tolerates: after a while the engine shifts them.
        let error = [0, 0, 3600, -300][rng.below(4) as usize];
        let (mut monotonic, mut realtime) = (Duration::from_secs(1), Duration::from_secs(T0 as u64));
        let mut t = T0 - error;
        for _ in 0..400 {
            match rng.below(100) {
                0..12 => {
                    let tick = Duration::from_millis(rng.below(2_500));
                    monotonic += tick;
                    realtime += tick;
                    // A step of the realtime clock: the shift changes.
                    if rng.below(20) == 0 {
                        let step = Duration::from_secs(2 + rng.below(20));
                        realtime = if rng.below(2) == 0 { realtime + step } else { realtime - step };
                    }
                    let now = Now { monotonic, realtime };
                    pair.both("clock", |e| e.handle_clock(now));
                }
                12..14 => pair.both("report", |e| e.request_report(None)),
                14..16 => pair.both("malformed", |e| e.handle_line(b"not a log line")),
                _ => {
                    let now = realtime.as_secs() as Epoch - error;
                    t = next_second(&mut rng, t, now, 12);
                    pair.line(t, &mut rng);
                }
            }
        }
        pair.both("finish", |e| e.finish(None));
    }
}

#[test]
fn replay_the_shortcuts_count_as_placing_would() {
    for case in 0..100 {
        let mut rng = Rng::seeded(case);
        let mut pair = Pair::new(case, &mut rng, Clock::Log);
        let (mut now, mut t) = (T0, T0);
        for _ in 0..400 {
            match rng.below(100) {
                0..10 => now += rng.below(3) as Epoch,
                // A jump far ahead: a lone wrong timestamp, or the log's
                // clock moving on.
                10 => now += 1_000,
                11..13 => pair.both("report", |e| e.request_report(None)),
                13..15 => pair.both("malformed", |e| e.handle_line(b"not a log line")),
                _ => {
                    t = next_second(&mut rng, t, now, 12);
                    pair.line(t, &mut rng);
                    now = now.max(t);
                }
            }
        }
        pair.both("finish", |e| e.finish(None));
    }
}
