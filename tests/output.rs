//! What is shown and how: file names, paths and option values escaped in
//! messages like line contents, in text and in JSON; times in RFC 3339;
//! whole lines only; a closed stdout refused; counts in good English.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::fd::AsRawFd;
use std::process::Stdio;
use std::thread;
use std::time::{Duration, Instant};

use crate::util::{Json, PATIENCE, TempDir, clf_line, data, logmon, now};

/// A file name that clears the screen and sets the clipboard (OSC 52) when
/// printed raw to a terminal.
const EVIL: &str = "evil\x1b]52;c;aGk=\x07\x1b[2J.log";
const EVIL_SHOWN: &str = "evil\\x1b]52;c;aGk=\\x07\\x1b[2J.log";

#[track_caller]
fn assert_no_controls(text: &str, what: &str) {
    assert!(!text.contains(['\x1b', '\x07', '\u{9b}']), "{what} holds a raw control character: {text:?}");
}

#[test]
fn file_names_in_messages_are_escaped() {
    let dir = TempDir::new("escape-names");
    let path = dir.path(EVIL);
    std::fs::write(&path, "not a log line\n").expect("write");
    let run = logmon().arg(&path).run();
    // Not one valid line: status 1, and the name is escaped there too.
    run.expect_code(1).expect_stderr_contains(&format!("{EVIL_SHOWN}:1: malformed line"));
    run.expect_stderr_contains(&format!("{EVIL_SHOWN}: not one valid log line"));
    assert_no_controls(&run.stderr, "stderr");

    let run = logmon().arg(dir.path(&format!("missing-{EVIL}"))).run();
    run.expect_code(1).expect_stderr_contains(&format!("missing-{EVIL_SHOWN}: No such file or directory"));
    assert_no_controls(&run.stderr, "stderr");
}

#[test]
fn a_followed_path_is_escaped() {
    let dir = TempDir::new("escape-follow");
    let path = dir.path(EVIL);
    std::fs::write(&path, "").expect("write");
    let run = logmon().args(["--check-interval", "20ms", "--follow"]).arg(&path).spawn();
    run.wait_stderr(&format!("following {}", dir.path(EVIL_SHOWN).display()));
    run.signal(libc::SIGTERM);
    let run = run.wait();
    run.expect_success();
    assert_no_controls(&run.stderr, "stderr");
}

#[test]
fn option_values_are_escaped() {
    let run = logmon().args(["--top", "\x1b[2J"]).run();
    run.expect_code(2).expect_stderr_contains("invalid value '\\x1b[2J' for --top");
    assert_no_controls(&run.stderr, "stderr");
    let run = logmon().arg("--\x1b]52;c;aGk\x07").run();
    run.expect_code(2).expect_stderr_contains("invalid option '--\\x1b]52;c;aGk\\x07'");
    assert_no_controls(&run.stderr, "stderr");
    let run = logmon().args(["--alert", "errors > 1% in /a\x1b[2J mni 1"]).run();
    let pointed = format!("  errors > 1% in /a\\x1b[2J mni 1\n  {}^^^\n", " ".repeat(25));
    run.expect_code(2).expect_stderr_contains(&pointed);
    assert_no_controls(&run.stderr, "stderr");
    let run = logmon().args(["--metrics", "/tmp/\x1b[2J/.."]).run();
    run.expect_code(2).expect_stderr_contains("--metrics /tmp/\\x1b[2J/..: not a file name");
    assert_no_controls(&run.stderr, "stderr");
    let run = logmon().args(["--log-format", "nginx:$time_local \x1b[2J"]).run();
    run.expect_code(2).expect_stderr_contains("at '$time_local \\x1b[2J'");
    assert_no_controls(&run.stderr, "stderr");
}

#[test]
fn a_rule_is_shown_escaped_in_its_alert() {
    let line = "\"10.0.0.2\",\"-\",\"apache\",1549573860,\"GET /a\x1b[2J HTTP/1.0\",500,1234\n";
    let run =
        logmon().args(["--replay", "-q", "--alert", "errors > 1% in /a\x1b[2J min 1"]).stdin(line.repeat(3)).run();
    run.expect_success().expect_stdout_contains("[ALERT] #1 errors > 1% over 2m min 1 in /a\\x1b[2J: ");
    assert_no_controls(&run.stdout, "stdout");
}

#[test]
fn an_empty_follow_path_is_a_usage_error() {
    let run = logmon().args(["--follow", ""]).run();
    run.expect_code(2).expect_stderr_contains("invalid value '' for --follow");
}

#[test]
fn format_characters_and_separators_are_escaped_in_text() {
    let t = 1_549_573_956;
    let mut log = String::new();
    for path in ["/a\u{061c}b", "/c\u{2028}d", "/\u{feff}e", "/f\u{2029}", "/g\u{e0001}"] {
        log.push_str(&clf_line(t, path));
    }
    let run = logmon().arg("--replay").stdin(log).run();
    run.expect_success();
    for (raw, shown) in [
        ('\u{061c}', "/a\\xd8\\x9cb"),
        ('\u{2028}', "/c\\xe2\\x80\\xa8d"),
        ('\u{feff}', "/\\xef\\xbb\\xbfe"),
        ('\u{2029}', "/f\\xe2\\x80\\xa9"),
        ('\u{e0001}', "/g\\xf3\\xa0\\x80\\x81"),
    ] {
        assert!(!run.stdout.contains(raw), "{raw:?} shown raw{run}");
        run.expect_stdout_contains(shown);
    }
}

#[test]
fn json_keeps_invalid_bytes_apart_from_backslash_text() {
    let t = 1_549_573_956;
    // A raw 0xFF byte, and the text `\xff` as nginx logs such a byte.
    let mut log = clf_line(t, "/\0").into_bytes();
    let at = log.iter().position(|&b| b == 0).expect("placeholder");
    log[at] = 0xff;
    log.extend_from_slice(clf_line(t, "/\\xff").as_bytes());
    let run = logmon().args(["--replay", "-o", "json"]).stdin(log).run();
    run.expect_success();
    let reports = run.json_of("report");
    let mut sections: Vec<&str> =
        reports.iter().flat_map(|r| r["sections"].as_array()).map(|s| s.str("section")).collect();
    sections.sort_unstable();
    assert_eq!(sections, ["/\\\\xff", "/\\xff"], "{run}");
}

/// Runs logmon with its stdout closed, as `logmon >&-` does.
fn with_stdout_closed(args: &[&str]) -> (Option<i32>, String) {
    use std::os::unix::process::CommandExt;
    let mut command = logmon().args(args).command();
    command.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped());
    // SAFETY: close(2) is async-signal-safe, as pre_exec requires.
    unsafe {
        command.pre_exec(|| {
            libc::close(1);
            Ok(())
        });
    }
    let out = command.output().expect("run logmon");
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn a_closed_stdout_is_an_error() {
    let log = data("exercise_sample.csv");
    let log = log.to_str().expect("UTF-8 path");
    for args in [&[log][..], &["--help"], &["-o", "json", log]] {
        let (code, stderr) = with_stdout_closed(args);
        assert_eq!(code, Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains("cannot write to standard output: Bad file descriptor"), "{args:?}: {stderr}");
    }
}

#[test]
fn counts_of_one_are_singular() {
    let run = logmon().arg("--replay").stdin(clf_line(1_549_573_956, "/a")).run();
    run.expect_success().expect_stdout_contains(": 1 hit, ").expect_stdout_contains("[SUMMARY] 1 line: 1 hit, ");
    let run = logmon().arg("--replay").stdin(clf_line(1_549_573_956, "/a").repeat(2)).run();
    run.expect_success().expect_stdout_contains(": 2 hits, ").expect_stdout_contains("[SUMMARY] 2 lines: 2 hits, ");
}

/// `YYYY-MM-DDTHH:MM:SSZ`.
fn is_rfc3339(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 20
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'Z',
            _ => c.is_ascii_digit(),
        })
}

#[test]
fn times_at_the_top_of_the_range_are_rfc3339() {
    let line = |t: i64| format!("\"10.0.0.2\",\"-\",\"apache\",{t},\"GET /api HTTP/1.0\",200,1234\n");
    // The last second accepted, then one past it (refused as malformed).
    let log = line(253_402_214_399) + &line(253_402_214_400);
    for interval in ["24h", "7s"] {
        let run = logmon().args(["--replay", "-o", "json", "-i", interval]).stdin(log.clone()).run();
        run.expect_success();
        assert!(!run.stdout.contains('@'), "{run}");
        let mut times = 0;
        for event in run.json() {
            for key in ["time", "start", "end", "first", "last"] {
                if let Some(t) = event[key].as_str() {
                    assert!(is_rfc3339(t), "{key}: {t:?}{run}");
                    times += 1;
                }
            }
        }
        assert!(times >= 5, "{run}");
        let summary = run.summary();
        assert_eq!((summary.int("hits"), summary.int("malformed")), (1, 1), "{run}");
        assert_eq!(summary.str("last"), "9999-12-30T23:59:59Z", "{run}");
    }
}

/// Bytes waiting in a pipe.
fn pending(pipe: &impl AsRawFd) -> usize {
    let mut n: libc::c_int = 0;
    // SAFETY: FIONREAD writes one int through the pointer given.
    let rc = unsafe { libc::ioctl(pipe.as_raw_fd(), libc::FIONREAD, &mut n) };
    assert_eq!(rc, 0, "FIONREAD: {}", std::io::Error::last_os_error());
    usize::try_from(n).unwrap_or(0)
}

#[test]
fn a_second_term_during_a_large_write_exits_after_the_line() {
    // Live on a pipe, with a last report far larger than a pipe holds.
    let mut command = logmon().args(["-o", "json", "-n", "1024", "-i", "24h"]).command();
    command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = command.spawn().expect("start logmon");
    let mut stdout = child.stdout.take().expect("stdout");
    let stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let mut stdin = child.stdin.take().expect("stdin");
    let now = now();
    let padding = "x".repeat(100);
    let log: String = (0..1024)
        .map(|i| format!("\"10.0.0.2\",\"-\",\"apache\",{now},\"GET /{i:04}{padding} HTTP/1.0\",200,1\n"))
        .collect();
    stdin.write_all(log.as_bytes()).expect("write the log");
    // The handlers are installed once logmon says it reads live.
    let mut lines = stderr.lines();
    assert!(lines.next().is_some_and(|l| l.is_ok_and(|l| l.contains("live"))), "no start message");
    let kill = |sig| {
        // SAFETY: kill(2) on our own child.
        assert_eq!(unsafe { libc::kill(child.id() as i32, sig) }, 0);
    };
    kill(libc::SIGTERM);
    // Nobody reads stdout: once the pipe is half full (it holds nothing but
    // the last report), logmon is writing it, and soon stuck mid-line.
    // SAFETY: F_GETPIPE_SZ takes no argument.
    let capacity = usize::try_from(unsafe { libc::fcntl(stdout.as_raw_fd(), libc::F_GETPIPE_SZ) }).unwrap_or(0);
    assert!(capacity > 0, "F_GETPIPE_SZ: {}", std::io::Error::last_os_error());
    let deadline = Instant::now() + PATIENCE;
    while pending(&stdout) < capacity / 2 {
        assert!(Instant::now() < deadline, "stdout never filled");
        thread::sleep(Duration::from_millis(5));
    }
    kill(libc::SIGTERM);
    let mut out = String::new();
    stdout.read_to_string(&mut out).expect("read stdout");
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(128 + libc::SIGTERM), "{status:?}");
    assert!(out.ends_with('\n'), "the last line was cut: ...{:?}", &out[out.len().saturating_sub(80)..]);
    for line in out.lines() {
        Json::parse(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line:.200}"));
    }
    assert!(out.len() > capacity, "the report should outgrow the pipe: {} bytes", out.len());
}
