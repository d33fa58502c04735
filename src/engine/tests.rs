//! The engine's behaviour, through its public calls only.

use super::alert::{AlertState, Threshold};
use super::outlier::CONFIRM;
use super::parse::LogFormat;
use super::skew::SETTLE;
use super::stats::{Report, Summary};
use super::timestamp::Epoch;
use super::window::Placement;
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
fn hits_out_of_order_within_the_delay_count_as_in_order() {
    // Three hits a second, two of them in the second's turn and one after
    // the next second's first two: that one moves the recent second back
    // without closing any, and must not lose what the usual hits counted.
    let run = |out_of_order: bool| {
        let config = Config { window: 10, threshold: Threshold::per_second(2), max_delay: 2, ..Config::default() };
        let mut e = Engine::new(config);
        for s in 0..40 {
            let times: &[i64] = if !out_of_order {
                &[s, s, s]
            } else if s == 0 {
                &[0, 0]
            } else {
                &[s, s, s - 1]
            };
            for &t in times {
                e.handle_line(&line(T0 + t, "/a", 200));
            }
        }
        if out_of_order {
            e.handle_line(&line(T0 + 39, "/a", 200));
        }
        e.finish(None);
        let evs = events(&mut e);
        assert_eq!(summary(&evs).hits, 120);
        alerts(&evs)
    };
    let in_order = run(false);
    assert_eq!(in_order, [(AlertState::Triggered, 6, 21)]);
    assert_eq!(run(true), in_order);
}

/// Hits that interleave every second still open, as a busy server's log
/// does (each line written as its request ends), give what the same hits
/// in order give: every report, alert and total.
#[test]
fn hits_interleaving_the_open_seconds_count_as_in_order() {
    let run = |interleaved: bool| {
        let config = Config { window: 10, threshold: Threshold::per_second(3), max_delay: 2, ..Config::default() };
        let mut e = Engine::new(config);
        for turn in 0..42 {
            // Four hits a second; interleaved, two in its turn and one in
            // each of the next two, between the newer seconds' hits.
            let times: Vec<i64> = if interleaved { vec![turn, turn - 2, turn - 1, turn] } else { vec![turn; 4] };
            for t in times.into_iter().filter(|t| (0..40).contains(t)) {
                e.handle_line(&line(T0 + t, "/a", 200));
            }
        }
        e.finish(None);
        events(&mut e)
    };
    let in_order = run(false);
    assert_eq!(summary(&in_order).hits, 160);
    assert_eq!(alerts(&in_order), [(AlertState::Triggered, 7, 32)]);
    assert_eq!(run(true), in_order);
}

/// Without reports, the same run says the same alerts and summary, and no
/// report: not for an interval, a quiet stretch, nor one asked for.
#[test]
fn a_run_without_reports_says_the_rest_the_same() {
    let run = |reports: bool| {
        let config = Config { window: 10, threshold: Threshold::per_second(2), reports, ..Config::default() };
        let mut e = Engine::new(config);
        feed(&mut e, 0, 30, 3);
        e.handle_line(b"not a log line");
        e.handle_line(&line(T0 + 1, "/late", 503));
        e.request_report(None);
        // A quiet stretch of an hour, then more hits.
        feed(&mut e, 3_600, 3_630, 1);
        e.finish(None);
        events(&mut e)
    };
    let (with, without) = (run(true), run(false));
    assert!(reports(&with).len() > 3 && reports(&with).iter().any(|r| r.requested && r.hits > 0));
    assert!(reports(&with).iter().any(|r| r.hits == 0 && r.seconds() > 3_000), "a quiet stretch");
    assert!(reports(&without).is_empty());
    assert_eq!(alerts(&without), alerts(&with));
    assert!(!alerts(&with).is_empty());
    assert_eq!(summary(&without), summary(&with));
    assert_eq!(without.len(), with.len() - reports(&with).len());
}

#[test]
fn seconds_without_lines_count_as_zero() {
    let mut e = engine(10, 1, Clock::Log);
    feed(&mut e, 0, 5, 5); // 25 hits in 10 s: 2.5/s
    feed(&mut e, 100, 105, 1);
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
fn a_second_closed_since_the_last_hit_takes_no_more_on_time() {
    // Live: the clock closes second 0 between two hits stamped 0, which
    // the schedule would otherwise count as the same open second.
    let mut e = engine(120, 10, Clock::Wall);
    e.handle_time(T0);
    let hit = |e: &mut Engine| match e.handle_line(&line(T0, "/a", 200)) {
        Outcome::Hit { placement, .. } => placement,
        other => panic!("{other:?}"),
    };
    assert_eq!(hit(&mut e), Placement::Open);
    assert_eq!(hit(&mut e), Placement::Open);
    e.handle_time(T0 + 3);
    assert_eq!(hit(&mut e), Placement::LateInWindow);
    e.handle_time(T0 + 10);
    e.finish(None);
    let evs = events(&mut e);
    assert_eq!(reports(&evs).iter().map(|r| (r.hits, r.late)).next(), Some((3, 1)));
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
    feed(&mut e, 100, 101, CONFIRM);
    let evs = events(&mut e);
    assert!(alerts(&evs).is_empty());
    e.handle_line(&line(T0 + 50, "/old", 200));
    e.finish(None);
    let evs = events(&mut e);
    // Replay closes seconds up to the newest line only.
    assert_eq!(alerts(&evs), [(AlertState::Triggered, 100, CONFIRM as u64)]);
    assert_eq!(summary(&evs).late, 1);
}

#[test]
fn a_quiet_stretch_is_one_report_and_costs_nothing() {
    let mut e = engine(120, 10, Clock::Log);
    e.handle_line(&line(T0, "/a", 200));
    // Ten years later.
    feed(&mut e, 315_360_000, 315_360_001, CONFIRM);
    e.finish(None);
    let evs = events(&mut e);
    let rs: Vec<(i64, i64, u64)> = reports(&evs).iter().map(|r| (r.start - T0, r.end - T0, r.hits)).collect();
    assert_eq!(rs, [(0, 10, 1), (10, 315_360_000, 0), (315_360_000, 315_360_001, CONFIRM as u64)]);
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
fn a_jump_confirmed_by_a_run_of_lines_moves_the_clock() {
    let mut e = engine(10, 1, Clock::Log);
    e.handle_line(&line(T0, "/a", 200));
    feed(&mut e, 1_000_000, 1_000_000 + CONFIRM as i64, 1);
    e.finish(None);
    let evs = events(&mut e);
    let rs: Vec<(i64, i64, u64)> = reports(&evs).iter().map(|r| (r.start - T0, r.end - T0, r.hits)).collect();
    assert_eq!(rs, [(0, 10, 1), (10, 1_000_000, 0), (1_000_000, 1_000_005, 5)]);
    assert_eq!(summary(&evs).early, 0);
}

#[test]
fn a_lone_timestamp_far_ahead_at_the_top_does_not_start_the_clock() {
    let run = |bogus: bool| {
        let mut e = engine(10, 1, Clock::Log);
        if bogus {
            e.handle_line(&line(T0 + 1_000_000_000, "/bogus", 200));
        }
        feed(&mut e, 0, 40, 2);
        e.finish(None);
        events(&mut e)
    };
    let evs = run(true);
    assert_eq!(alerts(&evs), alerts(&run(false)), "as if the bogus line were not there");
    assert!(!alerts(&evs).is_empty());
    let s = summary(&evs);
    assert_eq!((s.hits, s.early, s.late), (81, 1, 0));
    assert_eq!(reports(&evs).first().map(|r| r.start - T0), Some(0));
    assert!(reports(&evs).last().is_some_and(|r| r.end - T0 < 100));
}

#[test]
fn a_few_timestamps_far_ahead_at_the_end_are_early() {
    let mut e = engine(10, 1, Clock::Log);
    feed(&mut e, 0, 20, 1);
    feed(&mut e, 2_000_000_000, 2_000_000_001, CONFIRM - 1);
    e.finish(None);
    let evs = events(&mut e);
    let s = summary(&evs);
    assert_eq!((s.hits, s.early, s.late), (20 + CONFIRM as u64 - 1, CONFIRM as u64 - 1, 0));
    assert!(reports(&evs).last().is_some_and(|r| r.end - T0 < 100), "the clock never jumped");
}

#[test]
fn a_burst_of_wrong_timestamps_shorter_than_a_run_is_early() {
    let mut e = engine(10, 1, Clock::Log);
    feed(&mut e, 0, 20, 1);
    feed(&mut e, 2_000_000_000, 2_000_000_001, CONFIRM - 1);
    feed(&mut e, 20, 40, 1);
    e.finish(None);
    let evs = events(&mut e);
    let s = summary(&evs);
    assert_eq!((s.early, s.late), (CONFIRM as u64 - 1, 0));
}

#[test]
fn a_wrong_timestamp_inside_a_real_jump_is_early() {
    let mut e = engine(10, 1, Clock::Log);
    feed(&mut e, 0, 20, 1);
    e.handle_line(&line(T0 + 1_000, "/a", 200));
    e.handle_line(&line(T0 + 2_000_000_000, "/bogus", 200));
    feed(&mut e, 1_001, 1_010, 1);
    e.finish(None);
    let evs = events(&mut e);
    let s = summary(&evs);
    assert_eq!((s.hits, s.early, s.late), (31, 1, 0));
    assert!(reports(&evs).last().is_some_and(|r| r.end - T0 == 1_010));
}

#[test]
fn a_sparse_log_is_counted_in_its_own_seconds() {
    let mut e = engine(10, 0, Clock::Log);
    for i in 0..10 {
        e.handle_line(&line(T0 + 300 * i, "/a", 200));
    }
    e.finish(None);
    let evs = events(&mut e);
    let s = summary(&evs);
    // The last four are too few to confirm a jump, but near enough the
    // clock at the end of input to be believed.
    assert_eq!((s.hits, s.early, s.late), (10, 0, 0));
    let busy: Vec<i64> = reports(&evs).iter().filter(|r| r.hits > 0).map(|r| r.start - T0).collect();
    assert_eq!(busy, [0, 300, 600, 900, 1200, 1500, 1800, 2100, 2400, 2700]);
    assert_eq!(alerts(&evs).len(), 19, "each line alerts and recovers on its own, the last one still active");
}

#[test]
fn malformed_lines_before_the_first_hit_go_to_the_first_report() {
    let mut e = engine(120, 10, Clock::Log);
    e.handle_line(b"garbage");
    e.handle_line(b"more garbage");
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
    // Seconds before the start are closed; 5 closes at 8 (max delay 2).
    assert_eq!(e.next_deadline(), Some(T0 + 8));
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
    assert_eq!(rs, [(5, 10, 20), (10, 20, 0), (20, 30, 0)], "the first from the start on");
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
    assert_eq!(rs, [(11, 20, 1, 1), (20, 490, 0, 0), (490, 500, 0, 0), (500, 501, 0, 0)]);
    assert_eq!(summary(&evs).hits, 1);
}

#[test]
fn wall_clock_lines_far_ahead_are_early() {
    let mut e = engine(10, 1, Clock::Wall);
    // Past the start, where seconds up to max delay back are still open.
    e.handle_time(T0 - 3);
    e.handle_time(T0);
    let ahead = e.handle_line(&line(T0 + AHEAD as i64, "/a", 200));
    assert_eq!(ahead, Outcome::Hit { time: T0 + AHEAD as i64, placement: Placement::Open, latency_us: None });
    let early = e.handle_line(&line(T0 + AHEAD as i64 + 1, "/a", 200));
    assert_eq!(early, Outcome::Hit { time: T0 + AHEAD as i64 + 1, placement: Placement::Early, latency_us: None });
    e.finish(Some(T0 + 1));
    let evs = events(&mut e);
    let s = summary(&evs);
    assert_eq!((s.hits, s.early), (2, 1));
    assert_eq!(reports(&evs).iter().map(|r| r.hits).sum::<u64>(), 2);
}

#[test]
fn blank_lines_are_skipped_not_malformed() {
    // Before the first hit, while wrappers are looked for, and after it.
    let mut e = engine(10, 100, Clock::Log);
    assert_eq!(e.handle_line(b"  "), Outcome::Skipped);
    e.handle_line(&line(T0, "/a", 200));
    for blank in [&b""[..], b" ", b"\t \r", b"\xef\xbb\xbf  ", b"\r"] {
        assert_eq!(e.handle_line(blank), Outcome::Skipped, "{blank:?}");
    }
    assert!(matches!(e.handle_line(b"\xef\xbb\xbf x"), Outcome::Malformed(_)));
    e.finish(None);
    let evs = events(&mut e);
    let s = summary(&evs);
    assert_eq!((s.lines, s.hits, s.malformed, s.skipped), (8, 1, 1, 6));
}

#[test]
fn a_wall_clock_counts_hits_before_its_first_time_at_once() {
    // Lines before any time (no driver feeds them so): only the log's clock
    // holds a first hit in doubt; a wall clock starts at it, and counts it
    // and the rest in their own seconds, so there is nothing held to
    // recount when it finishes.
    let mut e = engine(10, 1, Clock::Wall);
    let first = e.handle_line(&line(T0, "/a", 200));
    assert_eq!(first, Outcome::Hit { time: T0, placement: Placement::Open, latency_us: None });
    assert_eq!(e.window_hits(), Some(0), "the first hit started the clock");
    feed(&mut e, 1, 2, CONFIRM);
    e.finish(Some(T0 + 2));
    let evs = events(&mut e);
    let s = summary(&evs);
    assert_eq!((s.hits, s.early, s.late), (CONFIRM as u64 + 1, 0, 0));
    assert_eq!(reports(&evs).iter().map(|r| r.hits).sum::<u64>(), CONFIRM as u64 + 1);
}

#[test]
fn a_log_an_hour_behind_is_shifted_after_a_notice() {
    let mut e = engine(10, 1, Clock::Wall);
    for t in 0..SETTLE as i64 + 2 {
        e.handle_time(T0 + t);
        feed(&mut e, t - 3600, t - 3599, 3);
    }
    assert_eq!(e.poll_notice(), Some(Notice::LogClockOff { offset: 3600 }));
    assert_eq!(e.poll_notice(), None, "said once");
    let outcome = e.handle_line(&line(T0 + 12 - 3600, "/a", 200));
    assert_eq!(outcome, Outcome::Hit { time: T0 + 12 - 3600, placement: Placement::Open, latency_us: None });
}

#[test]
fn a_report_on_request_leaves_the_schedule_alone() {
    let mut e = engine(120, 10, Clock::Wall);
    e.handle_time(T0 + 3);
    feed(&mut e, 3, 4, 7);
    e.request_report(Some(T0 + 4));
    let evs = events(&mut e);
    let rs = reports(&evs);
    assert_eq!((rs[0].start - T0, rs[0].end - T0, rs[0].hits, rs[0].partial), (3, 5, 7, true));
    assert!(rs[0].requested);
    e.handle_time(T0 + 13);
    let evs = events(&mut e);
    let rs = reports(&evs);
    assert_eq!((rs[0].start - T0, rs[0].end - T0, rs[0].hits, rs[0].partial), (3, 10, 7, false));
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
    let top: Vec<(&[u8], u64)> = r.sections.iter().map(|s| (s.key.as_slice(), s.hits)).collect();
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

// --alert rules, through the engine.

fn ruled(clock: Clock, rules: &[&str]) -> Engine {
    let rules = rules.iter().map(|r| rule::Rule::parse(r, 10).expect("valid rule")).collect();
    Engine::new(Config { window: 10, clock, rules, default_rule: false, ..Config::default() })
}

/// `(state, id, second, rule)` of each transition.
fn rule_alerts(events: &[Event]) -> Vec<(AlertState, u64, Epoch, String)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Alert(a) => {
                Some((a.state, a.id, a.at - T0, a.rule.as_ref().map_or("default".into(), |f| f.rule.to_string())))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn rules_replace_the_default_rule_and_number_alerts_together() {
    let mut e = ruled(Clock::Log, &["5xx > 1/s over 10", "rate > 100"]);
    feed(&mut e, 0, 20, 50);
    // A burst of 5xx: 11 in second 20 put the 10 s window above 1/s.
    for _ in 0..11 {
        e.handle_line(&line(T0 + 20, "/api/x", 503));
    }
    feed(&mut e, 21, 40, 50);
    e.finish(None);
    let evs = events(&mut e);
    assert_eq!(
        rule_alerts(&evs),
        [
            (AlertState::Triggered, 1, 20, "5xx > 1/s over 10s".into()),
            (AlertState::Recovered, 1, 30, "5xx > 1/s over 10s".into())
        ],
        "50 req/s never fires the default rule, which is off"
    );
    assert_eq!(summary(&evs).alerts, 1);
}

#[test]
fn a_below_rule_never_fires_at_start_up_and_fires_on_silence() {
    let mut e = ruled(Clock::Wall, &["rate < 1 over 10"]);
    let mut evs = Vec::new();
    // 2 hits a second until second 20; the wall clock runs on for an hour.
    for t in 0..3600 {
        e.handle_time(T0 + t);
        if t < 20 {
            feed(&mut e, t, t + 1, 2);
        }
        evs.extend(events(&mut e));
    }
    // Window 15..=24 holds 10 hits, exactly 1/s; 16..=25 holds 8.
    assert_eq!(rule_alerts(&evs), [(AlertState::Triggered, 1, 25, "rate < 1 over 10s".into())]);
    // Still active at the end: the quiet hour was skipped, not lost.
    e.finish(Some(T0 + 3600));
    let evs = events(&mut e);
    assert_eq!(summary(&evs).alert.map(|a| a.id), Some(1));
}

#[test]
fn a_quiet_report_shows_the_alerts_as_they_stood_at_its_end() {
    let mut e = ruled(Clock::Log, &["rate < 1 over 20"]);
    // 2 hits a second until second 10, then nothing until second 100: the
    // report [10, 20) is quiet, and the window 1..=20 fires the rule at 20,
    // after that report's end.
    feed(&mut e, 0, 10, 2);
    feed(&mut e, 100, 101, 1);
    e.finish(None);
    let evs = events(&mut e);
    assert_eq!(rule_alerts(&evs)[0], (AlertState::Triggered, 1, 20, "rate < 1 over 20s".into()));
    let quiet = reports(&evs).into_iter().find(|r| r.start == T0 + 10).expect("a quiet report from second 10");
    assert_eq!(quiet.end, T0 + 20, "closed by the alert that follows it");
    assert!(quiet.active.is_empty() && quiet.alert.is_none(), "no alert of second 20 in it: {quiet:?}");
    assert!(
        reports(&evs).iter().all(|r| r.active.iter().all(|a| a.alert.triggered < r.end)),
        "no report shows an alert from after its end"
    );
}

#[test]
fn a_below_rule_waits_a_whole_window_after_the_first_line() {
    let mut e = ruled(Clock::Log, &["rate < 5 over 10"]);
    // One hit a second from the start: below 5/s all along, but the first
    // window that lies wholly after second 0 ends at second 9.
    feed(&mut e, 0, 15, 1);
    e.finish(None);
    assert_eq!(rule_alerts(&events(&mut e)), [(AlertState::Triggered, 1, 9, "rate < 5 over 10s".into())]);
}

#[test]
fn a_rule_in_a_section_ignores_the_others() {
    let mut e = ruled(Clock::Log, &["errors > 10% over 10 in /img"]);
    for s in 0..30 {
        for i in 0..10 {
            // /api fails half the time, /img never until second 20.
            e.handle_line(&line(T0 + s, "/api/x", if i % 2 == 0 { 500 } else { 200 }));
            let img = if s >= 20 && i < 2 { 500 } else { 200 };
            e.handle_line(&line(T0 + s, "/img/y", img));
        }
    }
    e.finish(None);
    // /img's window of 100 hits gains 2 errors a second from second 20:
    // exactly 10% at 24, above at 25.
    let evs = events(&mut e);
    assert_eq!(rule_alerts(&evs).first().map(|a| (a.0, a.2)), Some((AlertState::Triggered, 25)));
}

#[test]
fn a_day_long_window_over_a_sparse_log_closes_its_gaps_at_once() {
    // A line every 86,399 s keeps the window busy: closed one by one, the
    // gaps would be 259 million seconds (a minute of work here); each costs
    // a step instead.
    let started = std::time::Instant::now();
    let mut e = engine(86_400, 0, Clock::Log);
    for i in 0..3_000 {
        e.handle_line(&line(T0 + i * 86_399, "/a", 200));
    }
    e.finish(None);
    let evs = events(&mut e);
    assert_eq!(alerts(&evs), [(AlertState::Triggered, 0, 1)], "the window never empties");
    let s = summary(&evs);
    assert_eq!((s.hits, s.late, s.early), (3_000, 0, 0));
    assert_eq!(reports(&evs).iter().map(|r| r.hits).sum::<u64>(), 3_000);
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "took {:?}", started.elapsed());
}

/// Collects what a batch says of each line.
#[derive(Default)]
struct Told(Vec<(u64, Outcome)>);

impl LineSink for Told {
    fn line(&mut self, number: u64, _: Line<'_>, outcome: Outcome) {
        self.0.push((number, outcome));
    }
}

#[test]
fn a_batch_stops_after_the_line_that_queued_an_event() {
    let mut e = engine(120, 10, Clock::Log);
    let seconds = [0, 1, 2, 3, 4, 5, 6, 7, 15, 16, 17];
    let texts: Vec<Vec<u8>> = seconds.iter().map(|&s| line(T0 + s, "/a", 200)).collect();
    let mut lines = texts.iter().map(|t| Line::Text(t)).chain([Line::Overlong]).zip(1..).map(|(l, n)| (n, l));
    let mut told = Told::default();
    // The hit at 15 s closes 0-9 (max delay 2 s): the first report.
    e.handle_lines(&mut lines, &mut told);
    assert_eq!(told.0.iter().map(|(n, _)| *n).collect::<Vec<_>>(), (1..=9).collect::<Vec<_>>());
    assert_eq!(reports(&events(&mut e)).len(), 1);
    e.handle_lines(&mut lines, &mut told);
    assert_eq!(told.0.len(), 12, "the rest in one batch");
    assert!(matches!(told.0[11], (12, Outcome::Malformed(_))));
    assert!(events(&mut e).is_empty());
    e.handle_lines(&mut lines, &mut told);
    assert_eq!(told.0.len(), 12);
    e.finish(None);
    let s = &events(&mut e);
    assert_eq!((summary(s).hits, summary(s).malformed), (11, 1));
}

#[test]
fn a_hit_shifted_into_the_second_of_the_one_before_still_counts_as_logged() {
    let secs = |s: i64| std::time::Duration::from_secs(s as u64);
    let mut e = engine(10, 100, Clock::Wall);
    e.handle_clock(Now { monotonic: secs(1), realtime: secs(T0) });
    e.handle_line(&line(T0, "/a", 200));
    // The realtime clock steps back an hour: from now on timestamps are
    // shifted by an hour, and one logged an hour ago lands in second T0.
    e.handle_clock(Now { monotonic: secs(1), realtime: secs(T0 - 3600) });
    assert!(matches!(e.poll_notice(), Some(Notice::WallClockStepped { shift: 3600, .. })));
    let outcome = e.handle_line(&line(T0 - 3600, "/a", 200));
    assert_eq!(outcome, Outcome::Hit { time: T0 - 3600, placement: Placement::Open, latency_us: None });
    e.finish(None);
    let evs = events(&mut e);
    let s = summary(&evs);
    assert_eq!((s.hits, s.first, s.last), (2, Some(T0 - 3600), Some(T0)));
}

/// On the log's clock no clock reading shifts timestamps: a realtime step
/// passed to `handle_clock` moves neither the usual hit nor the hits held
/// before the clock starts.
#[test]
fn a_clock_step_shifts_nothing_on_the_log_clock() {
    let secs = |s: i64| std::time::Duration::from_secs(s as u64);
    let mut e = engine(10, 100, Clock::Log);
    e.handle_clock(Now { monotonic: secs(1), realtime: secs(T0) });
    e.handle_clock(Now { monotonic: secs(1), realtime: secs(T0 - 3600) });
    for t in 0..10 {
        let outcome = e.handle_line(&line(T0 + t, "/a", 200));
        assert!(matches!(outcome, Outcome::Hit { time, .. } if time == T0 + t), "{outcome:?}");
    }
    e.finish(None);
    let evs = events(&mut e);
    let s = summary(&evs);
    assert_eq!((s.hits, s.first, s.last), (10, Some(T0), Some(T0 + 9)));
}

#[test]
fn hits_counted_before_a_clock_step_stay_in_the_window() {
    let secs = |s: i64| std::time::Duration::from_secs(s as u64);
    let mut e = engine(10, 100, Clock::Wall);
    e.handle_clock(Now { monotonic: secs(1), realtime: secs(T0) });
    // The first hit opens second T0; the other four are the usual hit,
    // counted by the schedule until the second stops being the recent one.
    feed(&mut e, 0, 1, 5);
    // The realtime clock steps: the shift changes, so the recent second is
    // forgotten, and its hits must reach the window first.
    e.handle_clock(Now { monotonic: secs(1), realtime: secs(T0 - 3600) });
    assert!(matches!(e.poll_notice(), Some(Notice::WallClockStepped { shift: 3600, .. })));
    e.handle_clock(Now { monotonic: secs(5), realtime: secs(T0 - 3600 + 4) });
    assert_eq!(e.window_hits(), Some(5), "second T0 closed with all its hits");
}

/// A run of 401 seconds of one hit each, then, with the clock at its last,
/// one hit 399 s late (more than `MAX_DELAY`) and 100 hits of one second
/// 5 s late: all but the first of those are counted aside, in the second
/// of the hit before (see `Engine::hit_aside`). The farthest is the first
/// late hit's, placed in full, so one is past `MAX_DELAY`: the notice then
/// names the delay that leaves at most 1 % of hits late, from what each
/// late hit needed. That is 5 s only if the aside hits are noted as
/// needing 5 s: noted as needing 0, a delay of 0 would leave 2 of 502 late.
fn late_hits_aside_need_their_delay(clock: Clock) {
    let mut e = engine(10, 1000, clock);
    for t in 0..=400 {
        if clock == Clock::Wall {
            e.handle_time(T0 + t);
        }
        feed(&mut e, t, t + 1, 1);
    }
    for (stamp, n, placement) in [(1, 1, Placement::LateOutside), (395, 100, Placement::LateInWindow)] {
        for _ in 0..n {
            let outcome = e.handle_line(&line(T0 + stamp, "/late", 200));
            assert_eq!(outcome, Outcome::Hit { time: T0 + stamp, placement, latency_us: None }, "{clock:?}");
        }
    }
    e.finish(Some(T0 + 400).filter(|_| clock == Clock::Wall));
    let late = LateLines { late: 101, hits: 502, farthest: 399, max_delay: Some(5), all: false };
    assert_eq!(e.poll_notice(), Some(Notice::LateLines(late)), "{clock:?}");
}

#[test]
fn late_hits_aside_need_their_delay_on_the_wall_clock() {
    late_hits_aside_need_their_delay(Clock::Wall);
}

#[test]
fn late_hits_aside_need_their_delay_on_the_log_s_clock() {
    late_hits_aside_need_their_delay(Clock::Log);
}

/// A batch reads its lines as one line at a time does, whatever the route.
/// A plain NCSA stream's batch is read leniently, its route asked once a
/// batch (`Engine::count_lines`); every other stream's as the parser's
/// route says. Taken the wrong way round, `combined` by name would count
/// a common line (no referer nor user agent) as a hit, and CSV lines would
/// be malformed: the counts differ in a release build too, where
/// `parse_lenient_into`'s assertion of the route is not compiled.
#[test]
fn a_batch_reads_its_lines_as_single_lines_do_on_every_route() {
    let ncsa = |s: i64, tail: &str| {
        format!(r#"10.0.0.{s} - - [07/Feb/2019:21:11:{s:02} +0000] "GET /a/{s} HTTP/1.1" 200 5{tail}"#).into_bytes()
    };
    let combined = |s| ncsa(s, r#" "-" "agent""#);
    let common = |s| ncsa(s, "");
    let csv = |s| line(T0 + s, "/c", 200);
    // Two plain NCSA streams, read leniently, then `combined` by name and CSV.
    let streams: [(LogFormat, Vec<Vec<u8>>); 4] = [
        (LogFormat::Auto, vec![combined(0), combined(1), common(2), csv(3), combined(4)]),
        (LogFormat::Common, vec![common(0), combined(1), common(2), csv(3)]),
        (LogFormat::Combined, vec![combined(0), combined(1), common(2), common(3), csv(4)]),
        (LogFormat::Auto, vec![csv(0), csv(1), common(2), csv(3), combined(4)]),
    ];
    for (format, texts) in streams {
        let config = || Config { format: format.clone(), ..Config::default() };
        let mut single = Engine::new(config());
        let want: Vec<Outcome> = texts.iter().map(|t| single.handle_line(t)).collect();
        // The first line settles the route; the rest come as one batch.
        let mut batched = Engine::new(config());
        let mut told = Told(vec![(1, batched.handle_line(&texts[0]))]);
        let mut lines = texts[1..].iter().map(|t| Line::Text(t)).zip(2..).map(|(l, n)| (n, l)).peekable();
        while lines.peek().is_some() {
            batched.handle_lines(&mut lines, &mut told);
            events(&mut batched);
        }
        let got: Vec<Outcome> = told.0.iter().map(|&(_, outcome)| outcome).collect();
        assert_eq!(got, want, "{format:?}");
        assert!(want.iter().any(|o| matches!(o, Outcome::Malformed(_))), "{format:?}: a line the route refuses");
        assert!(want[1..].iter().any(|o| matches!(o, Outcome::Hit { .. })), "{format:?}: a hit in the batch");
    }
}
