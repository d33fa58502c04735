//! Time you can trust: a few wrong timestamps never switch alerting off.

use std::fs;

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
