//! Time you can trust: a few wrong timestamps never switch alerting off.

use std::fs;
use std::time::Duration;

use logmon::engine::alert::{AlertState, Threshold};
use logmon::engine::skew::SETTLE;
use logmon::engine::stats::Summary;
use logmon::engine::{Clock, Config, Engine, Event, Notice, Now};

use crate::util::{TempDir, clf_line, data, logmon};

/// 2030-01-01T00:00:00Z: a timestamp years ahead of the fixture's.
const YEARS_AHEAD: i64 = 1_893_456_000;

/// spike.log, with `line` before it or after it, replayed.
fn spike_with(line: &str, at_top: bool) -> crate::util::Run {
    let dir = TempDir::new(if at_top { "clock-top" } else { "clock-end" });
    let spike = fs::read(data("spike.log")).expect("fixture");
    let log = if at_top { [line.as_bytes(), &spike].concat() } else { [&spike, line.as_bytes()].concat() };
    let path = dir.path("access.log");
    fs::write(&path, log).expect("write the log");
    logmon().args(["-o", "json"]).arg(&path).run()
}

fn alert_times(run: &crate::util::Run) -> Vec<String> {
    run.json_of("alert").iter().map(|a| format!("{} {}", a.str("state"), a.str("time"))).collect()
}

#[test]
fn one_line_years_ahead_at_the_top_of_a_replay_changes_no_alert() {
    let control = logmon().args(["-o", "json"]).arg(data("spike.log")).run();
    let run = spike_with(&clf_line(YEARS_AHEAD, "/bogus"), true);
    run.expect_success();
    assert!(!alert_times(&control).is_empty());
    assert_eq!(alert_times(&run), alert_times(&control), "{run}");
    let summary = run.summary();
    assert_eq!((summary.int("early"), summary.int("late")), (1, control.summary().int("late")), "{run}");
    assert!(run.json_of("report").iter().all(|r| r.str("end").starts_with("2019-")), "no report in 2030{run}");
}

#[test]
fn one_line_years_ahead_at_the_end_of_a_replay_is_early() {
    let control = logmon().args(["-o", "json"]).arg(data("spike.log")).run();
    let run = spike_with(&clf_line(YEARS_AHEAD, "/bogus"), false);
    run.expect_success();
    assert_eq!(alert_times(&run), alert_times(&control), "{run}");
    let summary = run.summary();
    assert_eq!(summary.int("early"), 1, "{run}");
    assert_eq!(summary.str("time"), control.summary().str("time"), "the clock did not jump 11 years{run}");
}

/// The live engine on a fake pair of clocks: what the poll loop does, one
/// wall second at a time, without waiting for any.
struct Live {
    engine: Engine,
    /// Monotonic seconds since the start.
    monotonic: u64,
    /// The realtime clock, which a test may step.
    realtime: i64,
    events: Vec<Event>,
    notices: Vec<Notice>,
}

/// 2019-02-07T21:11:00Z.
const T0: i64 = 1_549_573_860;

impl Live {
    fn new(window: u32, threshold: u64) -> Live {
        let config =
            Config { window, threshold: Threshold::per_second(threshold), clock: Clock::Wall, ..Config::default() };
        let mut live =
            Live { engine: Engine::new(config), monotonic: 0, realtime: T0, events: vec![], notices: vec![] };
        live.tick();
        live
    }

    fn tick(&mut self) {
        let now =
            Now { monotonic: Duration::from_secs(self.monotonic), realtime: Duration::from_secs(self.realtime as u64) };
        self.engine.handle_clock(now);
        self.drain();
    }

    fn drain(&mut self) {
        self.events.extend(std::iter::from_fn(|| self.engine.poll_event()));
        self.notices.extend(std::iter::from_fn(|| self.engine.poll_notice()));
    }

    /// One second passes on both clocks; `lines` (offsets from the realtime
    /// clock) are read during it.
    fn second(&mut self, lines: &[i64]) {
        for offset in lines {
            self.engine.handle_line(clf_line(self.realtime + offset, "/a").trim_end().as_bytes());
        }
        self.monotonic += 1;
        self.realtime += 1;
        self.tick();
    }

    fn alerts(&self) -> Vec<(AlertState, i64)> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::Alert(a) => Some((a.state, a.at)),
                _ => None,
            })
            .collect()
    }

    fn report_ends(&self) -> Vec<i64> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::Report(r) => Some(r.end),
                _ => None,
            })
            .collect()
    }

    fn summary(&mut self) -> Summary {
        self.engine.finish(None);
        self.drain();
        match self.events.last() {
            Some(Event::Summary(s)) => s.clone(),
            other => panic!("no summary: {other:?}"),
        }
    }
}

#[test]
fn one_line_in_fifty_an_hour_ahead_does_not_shift_a_live_clock() {
    // 50 req/s on time and one line a second stamped an hour ahead: the
    // newest timestamp of each second used to decide, and shifted the clock
    // by -3599 s, making 3000 of 3570 lines late and hiding the alert.
    let mut live = Live::new(10, 10);
    let mut second = vec![0; 50];
    second.push(3600);
    for _ in 0..70 {
        live.second(&second);
    }
    assert_eq!(live.notices, [], "no shift");
    let alerts = live.alerts();
    assert_eq!(alerts.len(), 1, "triggered and never recovered while traffic is 5x: {alerts:?}");
    assert_eq!(alerts[0].0, AlertState::Triggered);
    let summary = live.summary();
    assert_eq!((summary.hits, summary.late, summary.early), (70 * 51, 0, 70));
}

#[test]
fn an_old_log_through_a_slow_pipe_never_shifts_the_clock() {
    // A year-old log read at 3,000 lines a second, 2 lines per second of
    // log time: each wall second reads 25 minutes of the log. With a pipe, a
    // read never fills the buffer, so it never looked like a backlog, and
    // the clock shifted by 333 days, twice.
    let mut live = Live::new(120, 10);
    let mut log_time = T0 - 365 * 86_400;
    for _ in 0..3 * SETTLE {
        let lines: Vec<i64> = (0..3_000).map(|i| log_time + i / 2 - live.realtime).collect();
        log_time += 1_500;
        live.second(&lines);
    }
    assert_eq!(live.notices, [], "old lines alone never shift the clock");
    assert!(live.alerts().is_empty());
    let summary = live.summary();
    assert_eq!(summary.late, summary.hits);
}

#[test]
fn a_wall_clock_stepped_back_an_hour_does_not_freeze_reports() {
    // Deadlines on the realtime clock froze output for the hour after a
    // step back: no report, no recovery, every line late.
    let mut live = Live::new(10, 1);
    for _ in 0..10 {
        live.second(&[0; 20]);
    }
    assert_eq!(live.alerts().first().map(|a| a.0), Some(AlertState::Triggered));
    live.realtime -= 3600;
    live.tick();
    assert_eq!(live.notices, [Notice::WallClockStepped { by: -3600, shift: 3600 }]);
    let reports_before = live.report_ends().len();
    // Traffic goes on, stamped by the stepped clock, then stops.
    for _ in 0..20 {
        live.second(&[0; 20]);
    }
    for _ in 0..30 {
        live.second(&[]);
    }
    let ends = live.report_ends();
    assert!(ends.len() >= reports_before + 5, "a report every interval: {ends:?}");
    assert!(ends.windows(2).all(|w| w[1] > w[0]));
    assert_eq!(live.alerts().last().map(|a| a.0), Some(AlertState::Recovered), "the window moved on");
    let summary = live.summary();
    assert_eq!((summary.hits, summary.late, summary.early), (600, 0, 0), "the stepped lines count on time");
    assert_eq!(live.notices.len(), 1, "said once");
}

#[test]
fn a_wall_clock_stepped_forward_counts_the_gap_as_passed() {
    let mut live = Live::new(10, 1);
    for _ in 0..5 {
        live.second(&[0; 20]);
    }
    live.realtime += 3600;
    live.tick();
    assert_eq!(live.notices, [Notice::WallClockStepped { by: 3600, shift: 0 }]);
    for _ in 0..5 {
        live.second(&[0; 2]);
    }
    let summary = live.summary();
    assert_eq!((summary.hits, summary.late, summary.early), (110, 0, 0));
    assert_eq!(live.alerts().last().map(|a| a.0), Some(AlertState::Recovered));
}

#[test]
fn late_lines_are_explained_with_the_max_delay_that_counts_them() {
    // The real Apache sample has its seconds shuffled within each minute.
    let run = logmon().args(["-q"]).arg(data("apache_combined_10k.log")).run();
    run.expect_success().expect_stderr_contains(
        "9130 of 10000 hits arrived late, up to 59s out of order; --max-delay 59s would count them on time",
    );
    let run = logmon().args(["-q", "-o", "json", "--max-delay", "59s"]).arg(data("apache_combined_10k.log")).run();
    assert_eq!(run.summary().int("late"), 0, "as the hint said{run}");
    assert!(!run.stderr.contains("arrived late"), "{run}");
    let run = logmon().args(["-q"]).arg(data("exercise_sample.csv")).run();
    assert!(!run.stderr.contains("arrived late"), "the exercise sample is in order{run}");
}

#[test]
fn rfc3339_times_read_back() {
    assert_eq!(epoch("2019-02-07T21:11:00Z"), T0);
    assert_eq!(epoch("2030-01-01T00:00:00Z"), YEARS_AHEAD);
}

#[test]
fn the_first_live_report_covers_no_time_before_the_start() {
    // An empty pipe: the one report used to start at the top of the hour.
    let before = crate::util::now();
    let run = logmon().args(["-o", "json", "-i", "1h"]).stdin("").run();
    run.expect_success();
    let reports = run.json_of("report");
    assert!(!reports.is_empty(), "{run}");
    let start = epoch(reports[0].str("start"));
    assert!(start >= before, "report from {start}, started at {before}{run}");
}

/// Seconds since the epoch of an RFC 3339 `YYYY-MM-DDTHH:MM:SSZ`.
fn epoch(rfc3339: &str) -> i64 {
    let n = |a: usize, b: usize| rfc3339[a..b].parse::<i64>().expect("digits");
    let (y, m, d) = (n(0, 4), n(5, 7), n(8, 10));
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    days * 86_400 + n(11, 13) * 3600 + n(14, 16) * 60 + n(17, 19)
}
