//! Live mode on a pipe: end of input, signals, old lines, readers that
//! leave. What takes seconds of wall-clock time (alerts and recoveries, a
//! log whose clock is off) runs on a fake clock in src/live/tests.rs.

use std::process::Stdio;
use std::thread::sleep;
use std::time::{Duration, Instant};

use crate::util::{Json, PATIENCE, Running, clf_line, data, logmon, now};

fn lines(n: usize, t: i64) -> String {
    (0..n).map(|i| clf_line(t, &format!("/live/{i}"))).collect()
}

/// Sends USR1 until the reports account for `hits` hits, so that a test
/// knows its lines were read: the scheduled reports so far, plus the last
/// report asked for when it came after them. JSON output.
#[track_caller]
pub fn wait_for_hits(run: &Running, hits: u64) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let before = run.stdout_now().lines().count();
        run.signal(libc::SIGUSR1);
        run.wait_stdout_lines(before + 1);
        let out = run.stdout_now();
        let mut seen = 0;
        let mut so_far = 0;
        for report in out.lines().filter_map(|l| Json::parse(l).ok()).filter(|j| j["type"].as_str() == Some("report")) {
            if report["requested"] == Json::Bool(true) {
                so_far = report.int("hits");
            } else {
                seen += report.int("hits");
                so_far = 0;
            }
        }
        if seen + so_far == hits {
            return;
        }
        assert!(Instant::now() < deadline, "never saw reports of {hits} hits:\n{out}");
        sleep(Duration::from_millis(20));
    }
}

#[test]
fn end_of_input_ends_the_run() {
    let mut run = logmon().args(["-o", "json"]).spawn();
    run.write(lines(100, now()));
    let run = run.wait();
    run.expect_success().expect_stderr_contains("reading <stdin> live").expect_stderr_contains("end of input");
    assert_eq!(run.summary().int("hits"), 100, "{run}");
}

#[test]
fn sigterm_reads_what_was_written_then_summarises() {
    let mut run = logmon().args(["-o", "json"]).spawn();
    run.wait_stderr("live");
    run.write(lines(500, now()));
    run.signal(libc::SIGTERM);
    let run = run.wait();
    run.expect_success().expect_stderr_contains("SIGTERM: stopped after");
    let summary = run.summary();
    assert_eq!((summary.int("lines"), summary.int("hits")), (500, 500), "{run}");
    let reports = run.json_of("report");
    assert_eq!(reports.iter().map(|r| r.int("hits")).sum::<u64>(), 500, "{run}");
}

#[test]
fn sigint_ends_the_run_like_sigterm() {
    let mut run = logmon().args(["-o", "json"]).spawn();
    run.wait_stderr("live");
    run.write(lines(3, now()));
    run.signal(libc::SIGINT);
    let run = run.wait();
    run.expect_success().expect_stderr_contains("SIGINT: stopped");
    assert_eq!(run.summary().int("hits"), 3, "{run}");
}

#[test]
fn sigusr1_prints_a_report_now() {
    let mut run = logmon().args(["-o", "json", "--interval", "24h"]).spawn();
    run.wait_stderr("live");
    run.write(lines(7, now()));
    wait_for_hits(&run, 7);
    let report = run.stdout_now().lines().filter_map(|l| Json::parse(l).ok()).next_back().expect("a report");
    assert_eq!(report["partial"], Json::Bool(true));
    run.signal(libc::SIGTERM);
    let run = run.wait();
    assert_eq!(run.summary().int("hits"), 7, "the report did not disturb the count{run}");
}

#[test]
fn sigterm_mid_line_counts_the_cut_off_line_as_skipped_not_malformed() {
    let mut run = logmon().args(["-o", "json"]).spawn();
    run.wait_stderr("live");
    let cut = clf_line(now(), "/cut/off");
    run.write(format!("{}{}", lines(3, now()), &cut[..25]));
    wait_for_hits(&run, 3);
    run.signal(libc::SIGTERM);
    // The writer is still there: the line was cut by the signal.
    let run = run.wait_keeping_stdin();
    run.expect_success().expect_stderr_contains("last line cut off by the end of the run");
    let summary = run.summary();
    let counts = (summary.int("lines"), summary.int("hits"), summary.int("malformed"), summary.int("skipped"));
    assert_eq!(counts, (4, 3, 0, 1), "{run}");
}

#[test]
fn old_lines_do_not_alert() {
    // As `tail -F` prints the last lines of a file, or a backlog.
    let mut run = logmon().args(["-o", "json", "-w", "2", "-t", "1"]).spawn();
    run.wait_stderr("live");
    run.write(lines(1000, now() - 3600));
    let run = run.wait();
    assert!(run.json_of("alert").is_empty(), "{run}");
    let summary = run.summary();
    assert_eq!((summary.int("hits"), summary.int("late")), (1000, 1000), "{run}");
}

#[test]
fn an_old_log_through_a_pipe_is_counted_as_replay_counts_it() {
    // Every line is late on the wall clock, so after the first of each
    // second (2 to 20 lines a second here) all take the shortcut for the
    // usual late hit: what they add up to is what replay makes of the same
    // lines (it places them by the log's own clock, so its late count and
    // its sampled clients may differ).
    let log = data("spike.log");
    let live = logmon().args(["-o", "json"]).stdin(std::fs::read(&log).expect("fixture")).run();
    let replay = logmon().args(["--replay", "-o", "json"]).arg(&log).run();
    live.expect_success();
    let (l, r) = (live.summary(), replay.summary());
    for key in ["lines", "hits", "malformed", "skipped", "bytes", "first", "last", "status", "codes", "sections"] {
        assert_eq!(l[key], r[key], "{key}: {live}\n{replay}");
    }
    assert_eq!(l.int("late"), l.int("hits"), "{live}");
}

#[test]
fn a_reader_that_leaves_ends_an_idle_run() {
    let mut child = logmon()
        .command()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start logmon");
    let _writer = child.stdin.take();
    drop(child.stdout.take());
    let deadline = Instant::now() + PATIENCE;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(Instant::now() < deadline, "logmon did not notice its reader leave");
        sleep(Duration::from_millis(10));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().expect("piped"), &mut stderr).expect("stderr");
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("error") && !stderr.contains("panicked"), "{stderr}");
}

/// The live format check reads reports: under `--quiet`, which shows none,
/// a report with more than a tenth of its lines malformed is still warned
/// about.
#[test]
fn quiet_still_warns_of_a_report_mostly_malformed() {
    let input = format!("{}{}", lines(20, now()), "garbage\n".repeat(10));
    let run = logmon().arg("-q").stdin(input).run();
    run.expect_success().expect_stderr_contains("lines in the report ending").expect_stderr_contains("were malformed");
}
