//! The command line and the scripting contract: help, errors, exit
//! statuses, quiet and summary modes, colour, broken pipes.

use std::io::{BufRead, BufReader, Read};
use std::os::fd::{FromRawFd, OwnedFd};
use std::process::Stdio;

use crate::util::{PATIENCE, TempDir, data, logmon};

const EXERCISE: &str = "exercise_sample.csv";

#[test]
fn help_and_version() {
    let run = logmon().arg("--help").run();
    run.expect_success().expect_stdout_contains("Usage:").expect_stdout_contains("--fail-on-alert");
    assert!(run.stderr.is_empty(), "{run}");
    let run = logmon().arg("-V").run();
    run.expect_success();
    assert_eq!(run.stdout, format!("logmon {}\n", env!("CARGO_PKG_VERSION")));
}

#[test]
fn usage_errors_exit_2_naming_the_flag() {
    for (args, needle) in [
        (&["--top", "x"][..], "invalid value 'x' for --top"),
        (&["--bogus"], "--bogus"),
        (&["--window"], "--window"),
        (&["--threshold", "-3"], "--threshold"),
        (&["--follow", "a", "b"], "--follow"),
    ] {
        let run = logmon().args(args).run();
        run.expect_code(2).expect_stderr_contains(needle).expect_stderr_contains("Try 'logmon --help'");
        assert!(run.stdout.is_empty(), "{run}");
        assert!(run.stderr.starts_with("logmon: "), "{run}");
    }
}

#[test]
fn unreadable_inputs_exit_1_before_any_output() {
    let dir = TempDir::new("unreadable");
    let run = logmon().arg(data(EXERCISE)).arg(dir.path("missing.log")).run();
    run.expect_code(1).expect_stderr_contains("missing.log: No such file or directory");
    assert!(run.stdout.is_empty(), "{run}");
    let run = logmon().arg(dir.path("")).run();
    run.expect_code(1).expect_stderr_contains("Is a directory");
    assert!(!run.stderr.contains("live"), "a directory is not a live input{run}");
}

#[test]
fn fail_on_alert_exits_3_when_an_alert_triggered() {
    logmon().args(["--replay", "--quiet", "--fail-on-alert"]).arg(data(EXERCISE)).run().expect_code(3);
    logmon().args(["-q", "--fail-on-alert", "-t", "100"]).arg(data(EXERCISE)).run().expect_code(0);
    logmon().args(["-q"]).arg(data(EXERCISE)).run().expect_code(0);
}

#[test]
fn quiet_prints_alerts_and_the_summary() {
    let run = logmon().arg("-q").arg(data(EXERCISE)).run();
    run.expect_success();
    // Event lines; the summary's detail lines follow it, indented.
    let tags: Vec<&str> = run.stdout.lines().filter_map(|l| l.split("] [").nth(1)).collect();
    assert_eq!(tags.len(), 5, "{run}");
    assert!(run.stdout.lines().skip_while(|l| !l.contains("[SUMMARY]")).skip(1).all(|l| l.contains("]   ")), "{run}");
    assert!(tags[..4].iter().all(|t| t.starts_with("ALERT]") || t.starts_with("RECOVERED]")), "{run}");
    assert!(tags[4].starts_with("SUMMARY]"), "{run}");
}

#[test]
fn summary_prints_the_summary_only() {
    let run = logmon().arg("--summary").arg(data(EXERCISE)).run();
    run.expect_success();
    // One event: the summary line, then the run's totals under it.
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.iter().filter(|l| l.contains("] [")).count(), 1, "{run}");
    assert!(lines[1..].iter().all(|l| l.starts_with("[2019-02-07 21:19:01+00:00]   ")), "{run}");
    assert!(lines.iter().any(|l| l.contains("  codes     200 3868  500 504  404 458")), "{run}");
    run.expect_stdout_contains("[SUMMARY] 4831 lines: 4830 hits, 0 malformed, 0 late, 1 skipped; 2 alerts");
    let run = logmon().args(["-s", "-o", "json"]).arg(data(EXERCISE)).run();
    let all = run.json();
    assert_eq!(all.len(), 1, "{run}");
    assert_eq!(all[0].str("type"), "summary");
}

#[test]
fn top_limits_the_sections() {
    let run = logmon().args(["-o", "json", "--top", "1"]).arg(data("apache_combined_10k.log")).run();
    run.expect_success();
    assert!(!run.json_of("report").is_empty(), "{run}");
    assert!(run.json_of("report").iter().all(|r| r["sections"].as_array().len() <= 1), "{run}");
    let run = logmon().args(["-o", "json", "--top", "0"]).arg(data(EXERCISE)).run();
    run.expect_success();
    assert!(run.json_of("report").iter().all(|r| r["sections"].as_array().is_empty()), "{run}");
}

#[test]
fn colour_only_when_asked_or_on_a_terminal() {
    let esc = |s: &str| s.contains('\x1b');
    let run = logmon().arg("-q").arg(data(EXERCISE)).run();
    assert!(!esc(&run.stdout), "no colour in a pipe{run}");
    let run = logmon().args(["-q", "--color", "always"]).arg(data(EXERCISE)).run();
    assert!(run.stdout.contains("\x1b[1;31m[ALERT]\x1b[0m"), "{run}");
    let run = logmon().args(["-q", "--color", "always"]).env("NO_COLOR", "1").arg(data(EXERCISE)).run();
    assert!(esc(&run.stdout), "--color always overrides NO_COLOR{run}");
    let run = logmon().args(["-q", "--color", "always", "-o", "json"]).arg(data(EXERCISE)).run();
    assert!(!esc(&run.stdout), "never colour in JSON{run}");
    let run = logmon().args(["-q", "--color", "never"]).arg(data(EXERCISE)).run();
    assert!(!esc(&run.stdout), "{run}");

    assert!(esc(&on_a_terminal(&[], &[])), "colour on a terminal");
    assert!(!esc(&on_a_terminal(&[("NO_COLOR", "1")], &[])), "NO_COLOR is honoured");
    assert!(esc(&on_a_terminal(&[("NO_COLOR", "")], &[])), "an empty NO_COLOR is unset");
    assert!(!esc(&on_a_terminal(&[("TERM", "dumb")], &[])), "a dumb terminal gets none");
    assert!(!esc(&on_a_terminal(&[], &["--color", "never"])), "--color never");
}

/// Runs `logmon -q` on the exercise with stdout on a pseudo-terminal and
/// returns what the terminal received.
fn on_a_terminal(env: &[(&str, &str)], args: &[&str]) -> String {
    let (mut master, slave) = open_pty();
    let mut cmd = logmon().arg("-q").args(args).arg(data(EXERCISE)).env("TERM", "xterm");
    for (k, v) in env {
        cmd = cmd.env(k, v);
    }
    let mut command = cmd.command();
    let mut child =
        command.stdin(Stdio::null()).stdout(Stdio::from(slave)).stderr(Stdio::null()).spawn().expect("start logmon");
    // The child holds the only copy of the slave now: when it exits, reading
    // the master ends with EIO.
    drop(command);
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n) = master.read(&mut buf) {
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
    }
    let status = child.wait().expect("wait for logmon");
    assert!(status.success(), "{status}");
    String::from_utf8_lossy(&out).into_owned()
}

fn open_pty() -> (std::fs::File, OwnedFd) {
    let (mut master, mut slave) = (-1, -1);
    // SAFETY: openpty(3) writes two descriptors into the provided ints; the
    // name, termios and winsize pointers may be null.
    let rc =
        unsafe { libc::openpty(&mut master, &mut slave, std::ptr::null_mut(), std::ptr::null(), std::ptr::null()) };
    assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: both descriptors were just opened for us and are owned here.
    unsafe { (std::fs::File::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) }
}

#[test]
fn a_full_disk_is_an_error() {
    let mut command = logmon().arg(data(EXERCISE)).command();
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full").expect("/dev/full");
    let out = command.stdout(full).stderr(Stdio::piped()).output().expect("run logmon");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    // `auto` says what it chose (issue 7), then the one error.
    assert_eq!(stderr, "logmon: log format: csv\nlogmon: cannot write to standard output: No space left on device\n");
}

#[test]
fn a_reader_that_leaves_early_is_not_an_error() {
    let mut child = logmon()
        .arg(data("apache_combined_10k.log"))
        .command()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start logmon");
    let mut first = String::new();
    BufReader::new(child.stdout.take().expect("piped")).read_line(&mut first).expect("one line");
    assert!(first.contains("[REPORT]"), "{first}");
    // The reader is gone now, as with `| head -1`.
    let deadline = std::time::Instant::now() + PATIENCE;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(std::time::Instant::now() < deadline, "logmon kept running after its reader left");
        std::thread::sleep(std::time::Duration::from_millis(5));
    };
    let mut stderr = String::new();
    child.stderr.take().expect("piped").read_to_string(&mut stderr).expect("stderr");
    assert_eq!(status.code(), Some(0), "{stderr}");
    // Nothing but what `auto` chose (issue 7): no error.
    assert_eq!(stderr, "logmon: log format: combined\n");
}
