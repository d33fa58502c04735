//! Replay: goldens, conformance with the exercise, accounting, bad input.

use std::fs;

use crate::util::{Json, TempDir, clf_line, data, logmon};

const EXERCISE: &str = "exercise_sample.csv";

/// The exercise's expected alert transitions with threshold 10.
const EXERCISE_ALERTS: [&str; 4] = [
    "[2019-02-07 21:12:36+00:00] [ALERT] High traffic generated an alert - hits = 10.05, triggered at 2019-02-07 21:12:36+00:00 (avg 10.05 req/s over 2m > 10)",
    "[2019-02-07 21:14:03+00:00] [RECOVERED] Traffic back to normal - hits = 9.98, recovered at 2019-02-07 21:14:03+00:00 (alert #1 triggered at 2019-02-07 21:12:36+00:00, lasted 1m27s) (avg 9.98 req/s over 2m <= 10)",
    "[2019-02-07 21:16:03+00:00] [ALERT] High traffic generated an alert - hits = 10.15, triggered at 2019-02-07 21:16:03+00:00 (avg 10.15 req/s over 2m > 10)",
    "[2019-02-07 21:18:22+00:00] [RECOVERED] Traffic back to normal - hits = 9.97, recovered at 2019-02-07 21:18:22+00:00 (alert #2 triggered at 2019-02-07 21:16:03+00:00, lasted 2m19s) (avg 9.97 req/s over 2m <= 10)",
];

#[test]
fn exercise_sample_gives_exactly_the_expected_alerts() {
    let run = logmon().args(["--replay", "--threshold", "10"]).arg(data(EXERCISE)).run();
    run.expect_success();
    let alerts: Vec<&str> = run.stdout.lines().filter(|l| l.contains("[ALERT]") || l.contains("[RECOVERED]")).collect();
    assert_eq!(alerts, EXERCISE_ALERTS, "{run}");
}

/// The whole text output, compared with `tests/golden/exercise.txt`.
/// `LOGMON_BLESS=1 cargo test` rewrites the golden after a deliberate change.
#[test]
fn exercise_sample_text_golden() {
    let run = logmon().arg(data(EXERCISE)).run();
    run.expect_success();
    let golden = data("../golden/exercise.txt");
    if std::env::var_os("LOGMON_BLESS").is_some() {
        fs::write(&golden, &run.stdout).expect("write the golden");
    }
    let expected = fs::read_to_string(&golden).expect("tests/golden/exercise.txt exists");
    if run.stdout != expected {
        let first = run.stdout.lines().zip(expected.lines()).position(|(a, b)| a != b);
        panic!("output differs from the golden at line {first:?}; LOGMON_BLESS=1 rewrites it{run}");
    }
}

#[test]
fn exercise_sample_json_accounts_for_every_line() {
    let run = logmon().args(["--format", "json"]).arg(data(EXERCISE)).run();
    run.expect_success();
    let all = run.json();
    for object in &all {
        assert!(object["type"].as_str().is_some(), "no type: {object:?}");
        assert!(object.str("time").ends_with('Z'), "time not RFC 3339 UTC: {object:?}");
    }
    let alerts: Vec<(String, String, u64)> = run
        .json_of("alert")
        .iter()
        .map(|a| (a.str("state").to_owned(), a.str("time").to_owned(), a.int("id")))
        .collect();
    assert_eq!(
        alerts,
        [
            ("triggered".into(), "2019-02-07T21:12:36Z".into(), 1),
            ("recovered".into(), "2019-02-07T21:14:03Z".into(), 1),
            ("triggered".into(), "2019-02-07T21:16:03Z".into(), 2),
            ("recovered".into(), "2019-02-07T21:18:22Z".into(), 2),
        ]
    );
    let first = &run.json_of("alert")[0];
    assert_eq!((first.int("hits"), first.int("window"), first.int("threshold")), (1206, 120, 10));
    assert_eq!(first["rate"].as_f64(), Some(10.05));

    let reports = run.json_of("report");
    let summary = run.summary();
    assert_eq!(reports.iter().map(|r| r.int("hits")).sum::<u64>(), summary.int("hits"));
    assert_eq!(
        (summary.int("lines"), summary.int("hits"), summary.int("skipped"), summary.int("malformed")),
        (4831, 4830, 1, 0)
    );
    assert_eq!((summary.str("first"), summary.str("last")), ("2019-02-07T21:10:59Z", "2019-02-07T21:19:00Z"));
    assert_eq!(summary.int("alerts"), 2);
    assert_eq!(summary.str("format"), "csv");
    // Reports tile time: each starts where the last ended, on the grid.
    for pair in reports.windows(2) {
        assert_eq!(pair[0].str("end"), pair[1].str("start"));
    }
    let r = &reports[1];
    assert_eq!((r.str("start"), r.str("end"), r.int("seconds")), ("2019-02-07T21:11:00Z", "2019-02-07T21:11:10Z", 10));
    let status = &r["status"];
    let classes: u64 = ["1xx", "2xx", "3xx", "4xx", "5xx"].iter().map(|c| status.int(c)).sum();
    assert_eq!(classes, r.int("hits"));
    let sections = r["sections"].as_array();
    assert_eq!(sections[0].str("section"), "/api");
    assert!(sections.windows(2).all(|p| p[0].int("hits") >= p[1].int("hits")), "most hits first");
}

#[test]
fn real_combined_traffic_accounts_for_every_line() {
    let run = logmon().args(["-o", "json"]).arg(data("apache_combined_10k.log")).run();
    run.expect_success();
    let summary = run.summary();
    assert_eq!(summary.int("lines"), 10_000);
    assert_eq!(summary.int("hits") + summary.int("malformed"), 10_000);
    assert_eq!(summary.str("format"), "combined");
    let reports = run.json_of("report");
    assert_eq!(reports.iter().map(|r| r.int("hits")).sum::<u64>(), summary.int("hits"));
    assert_eq!(reports.iter().map(|r| r.int("late")).sum::<u64>(), summary.int("late"));
    // Its seconds are shuffled within each minute: a wider delay puts
    // every line in its own report.
    let run = logmon().args(["-o", "json", "--max-delay", "60"]).arg(data("apache_combined_10k.log")).run();
    assert_eq!(run.summary().int("late"), 0, "{run}");
}

/// `spike.log` (see tests/data/SOURCES): 2 req/s with 20 req/s from second
/// 600 to 780. The 2-minute average crosses 10 about 54 s into the spike and
/// falls back about 67 s after it.
#[test]
fn generated_spike_alerts_once() {
    let run = logmon().args(["-o", "json"]).arg(data("spike.log")).run();
    run.expect_success();
    let start = 1_549_573_860;
    let alerts = run.json_of("alert");
    assert_eq!(alerts.len(), 2, "{run}");
    let at = |a: &Json| epoch(a.str("time")) - start;
    assert_eq!(alerts[0].str("state"), "triggered");
    assert!((640..=670).contains(&at(&alerts[0])), "triggered at +{}s{run}", at(&alerts[0]));
    assert_eq!(alerts[1].str("state"), "recovered");
    assert!((835..=865).contains(&at(&alerts[1])), "recovered at +{}s{run}", at(&alerts[1]));
    let summary = run.summary();
    assert!(summary.int("malformed") > 0, "the fixture has malformed lines{run}");
    assert_eq!(
        summary.int("lines"),
        fs::read(data("spike.log")).expect("fixture").split(|&b| b == b'\n').count() as u64 - 1
    );
}

/// Seconds since the epoch of an RFC 3339 `YYYY-MM-DDTHH:MM:SSZ` within 2019.
fn epoch(rfc3339: &str) -> i64 {
    let n = |a: usize, b: usize| rfc3339[a..b].parse::<i64>().expect("digits");
    let days_before_month = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
    assert_eq!(&rfc3339[..4], "2019");
    let days = 17_897 + days_before_month[(n(5, 7) - 1) as usize] + n(8, 10) - 1;
    days * 86_400 + n(11, 13) * 3600 + n(14, 16) * 60 + n(17, 19)
}

#[test]
fn bad_input_is_counted_shown_escaped_and_survived() {
    let t = 1_549_573_860;
    let mut input = Vec::new();
    input.extend_from_slice(clf_line(t, "/ok").as_bytes());
    input.extend_from_slice(b"\x1b[31mgarbage with an escape\x07\n");
    input.extend_from_slice(b"\xff\xfe\x00 not utf-8\n");
    input.extend_from_slice(clf_line(t + 1, "/crlf").trim_end().as_bytes());
    input.extend_from_slice(b"\r\n");
    input.extend_from_slice(&vec![b'x'; 200_000]);
    input.push(b'\n');
    input.extend_from_slice(b"\n");
    input.extend_from_slice(br#"1.2.3.4 - - [07/Feb/2019:21:11:02 +0000] "\x16\x03\x01\x00\xa5" 400 157 "-" "-""#);
    input.push(b'\n');
    input.extend_from_slice(clf_line(t + 2, "/last").trim_end().as_bytes());
    let dir = TempDir::new("bad-input");
    let path = dir.path("bad.log");
    fs::write(&path, &input).expect("write fixture");

    let run = logmon().args(["-o", "json"]).arg(&path).run();
    run.expect_success();
    let summary = run.summary();
    assert_eq!(
        (summary.int("lines"), summary.int("hits"), summary.int("malformed"), summary.int("skipped")),
        (8, 4, 3, 1),
        "ok, crlf, tls and an unterminated last line are hits; the blank line is skipped{run}"
    );
    let report = &run.json_of("report")[0];
    assert_eq!((report.int("malformed"), report.int("no_section")), (3, 1));
    run.expect_stderr_contains("bad.log:2: malformed line (not a log line): \\x1b[31mgarbage with an escape\\x07");
    run.expect_stderr_contains("bad.log:3: malformed line (no [timestamp]): \\xff\\xfe\\x00 not utf-8");
    run.expect_stderr_contains("bad.log:5: malformed line (line too long)");
    assert!(!run.stderr.contains("bad.log:6:"), "a blank line is not malformed{run}");
    assert!(!run.stderr.contains('\x1b') && !run.stderr.contains('\x07'), "raw control bytes on stderr{run}");
}

#[test]
fn only_the_first_malformed_lines_are_shown() {
    let input: String = (0..50).map(|i| format!("junk {i}\n")).collect();
    let dir = TempDir::new("junk");
    let path = dir.path("junk.log");
    fs::write(&path, input).expect("write fixture");
    let run = logmon().args(["-o", "json"]).arg(&path).run();
    // Not one valid line: the summary comes, and the run fails.
    run.expect_code(1);
    assert_eq!(run.summary().int("malformed"), 50);
    assert_eq!(run.stderr.matches("malformed line (").count(), 10, "{run}");
    run.expect_stderr_contains("more malformed lines");
}

#[test]
fn several_files_are_one_stream_and_dash_is_stdin() {
    let t = 1_549_573_860;
    let dir = TempDir::new("several");
    let a = dir.path("a.log");
    let b = dir.path("b.log");
    fs::write(&a, (0..30).map(|i| clf_line(t + i, "/a")).collect::<String>()).expect("write a");
    fs::write(&b, (30..60).map(|i| clf_line(t + i, "/b")).collect::<String>()).expect("write b");
    let stdin: String = (60..90).map(|i| clf_line(t + i, "/c")).collect();
    let run = logmon().args(["--replay", "-o", "json"]).arg(&a).arg("-").arg(&b).stdin(stdin).run();
    run.expect_success();
    let summary = run.summary();
    assert_eq!((summary.int("hits"), summary.int("late")), (90, 30), "b comes after stdin: its lines are late{run}");
}

#[test]
fn a_regular_file_on_stdin_is_replayed() {
    let run = logmon().args(["-o", "json", "-q"]).stdin_file(data(EXERCISE)).run();
    run.expect_success();
    assert_eq!(run.json_of("alert").len(), 4, "{run}");
    assert!(!run.stderr.contains("live"), "{run}");
}

/// A line, then a year later the 5 lines it takes to confirm a jump.
fn input_twice(t: i64) -> String {
    format!("{}{}", clf_line(t, "/a"), clf_line(t + 86_400 * 365, "/b").repeat(5))
}

#[test]
fn a_quiet_stretch_is_one_report() {
    let t = 1_549_573_860;
    let run = logmon().args(["-o", "json"]).stdin(input_twice(t)).arg("--replay").run();
    let spans: Vec<(String, u64)> =
        run.json_of("report").iter().map(|r| (r.str("start").to_owned(), r.int("hits"))).collect();
    assert_eq!(spans.len(), 3, "{run}");
    assert_eq!(spans[1].1, 0);
    // In text, a report that began on another day shows its start's date,
    // on a line of its own: the header with it would pass 80 columns.
    let run = logmon().stdin(input_twice(t)).arg("--replay").run();
    run.expect_stdout_contains(
        "[2020-02-07 21:11:00+00:00] [REPORT] 364d23h: no traffic\n\
         [2020-02-07 21:11:00+00:00]   since     2019-02-07 21:11:10\n",
    );
    let mut reports = run.stdout.lines().filter(|line| !line.contains("[SUMMARY]"));
    assert!(reports.all(|line| line.chars().count() <= 80), "{run}");
}

#[test]
fn a_signal_cuts_a_replay_short_with_a_summary_and_says_so() {
    let t = 1_549_573_860;
    let mut run = logmon().args(["--replay", "-o", "json"]).spawn();
    run.write((0..50).map(|i| clf_line(t + i, "/a")).collect::<String>());
    // A report says the replay is reading, so its handlers are in place.
    run.wait_stdout(r#""type":"report""#);
    run.signal(libc::SIGINT);
    // The replay notices between two reads, or at once while it waits on
    // the pipe: one more line may come too late to be read, or find the
    // pipe already closed by logmon's exit (not the test's business).
    if let Some(pipe) = run.stdin.as_mut() {
        let _ = std::io::Write::write_all(pipe, clf_line(t + 50, "/b").as_bytes());
    }
    let run = run.wait();
    run.expect_code(130).expect_stderr_contains("SIGINT: replay interrupted");
    let hits = run.summary().int("hits");
    assert!(hits == 50 || hits == 51, "{run}");
    assert_eq!(run.json_of("report").iter().map(|r| r.int("hits")).sum::<u64>(), hits, "{run}");
}

#[test]
fn usr1_during_a_replay_prints_a_report() {
    let t = 1_549_573_860;
    let mut run = logmon().args(["--replay", "-o", "json"]).spawn();
    run.write((0..15).map(|i| clf_line(t + i, "/a")).collect::<String>());
    run.wait_stdout(r#""type":"report""#);
    run.signal(libc::SIGUSR1);
    run.write(clf_line(t + 15, "/b"));
    run.wait_stdout(r#""partial":true"#);
    let run = run.wait();
    run.expect_success();
    // Noticed while the replay waited for input: before line 16 arrived.
    let requested: Vec<u64> =
        run.json_of("report").iter().filter(|r| r["requested"] == Json::Bool(true)).map(|r| r.int("hits")).collect();
    assert_eq!(requested, [5], "{run}");
    let scheduled: u64 =
        run.json_of("report").iter().filter(|r| r["requested"] == Json::Bool(false)).map(|r| r.int("hits")).sum();
    assert_eq!((scheduled, run.summary().int("hits")), (16, 16), "scheduled reports add up{run}");
}

#[test]
fn stdin_named_twice_is_read_once() {
    let run = logmon().args(["-s", "-o", "json", "-", "-"]).stdin_file(data(EXERCISE)).run();
    run.expect_success();
    assert_eq!(run.summary().int("hits"), 4830, "{run}");
}

#[test]
fn a_signal_reaches_a_replay_waiting_on_a_quiet_pipe() {
    let mut run = logmon().args(["--replay", "-o", "json"]).spawn();
    run.write((0..15).map(|i| clf_line(1_549_573_860 + i, "/a")).collect::<String>());
    run.wait_stdout(r#""type":"report""#);
    // No more input, and the pipe stays open: the replay is waiting.
    run.signal(libc::SIGTERM);
    let run = run.wait_keeping_stdin();
    run.expect_code(143).expect_stderr_contains("SIGTERM: replay interrupted");
    assert_eq!(run.summary().int("hits"), 15, "{run}");
}

#[test]
fn one_timestamp_from_the_future_does_not_blind_a_replay() {
    let sample = fs::read_to_string(data(EXERCISE)).expect("fixture");
    let bogus = sample.replacen(",1549574000,", ",2549574000,", 1);
    assert_ne!(bogus, sample);
    let dir = TempDir::new("future");
    let path = dir.path("future.csv");
    fs::write(&path, bogus).expect("write");
    let run = logmon().args(["-q", "-o", "json"]).arg(&path).run();
    run.expect_success();
    let alerts = run.json_of("alert");
    let times: Vec<&str> = alerts.iter().map(|a| a.str("time")).collect();
    assert_eq!(times, ["2019-02-07T21:12:36Z", "2019-02-07T21:14:03Z", "2019-02-07T21:16:03Z", "2019-02-07T21:18:22Z"]);
    let summary = run.summary();
    assert_eq!((summary.int("hits"), summary.int("early"), summary.int("late")), (4830, 1, 0), "{run}");
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use flate2::Compression;
    use flate2::write::GzEncoder;
    use std::io::Write;
    let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
    encoder.write_all(bytes).expect("compress in memory");
    encoder.finish().expect("compress in memory")
}

/// The exercise sample as two gzip members, as `cat a.gz b.gz` makes them.
fn exercise_gzipped() -> Vec<u8> {
    let plain = fs::read(data(EXERCISE)).expect("fixture");
    let (a, b) = plain.split_at(plain.len() / 2);
    let mut gz = gzip(a);
    gz.extend_from_slice(&gzip(b));
    gz
}

#[test]
fn gzip_files_and_gzip_stdin_replay_exactly_like_the_plain_file() {
    let plain = logmon().args(["-o", "json"]).arg(data(EXERCISE)).run();
    plain.expect_success();
    let dir = TempDir::new("gzip");
    // No .gz in the name: the first bytes decide.
    let path = dir.path("exercise.1");
    fs::write(&path, exercise_gzipped()).expect("write");
    let file = logmon().args(["-o", "json"]).arg(&path).run();
    let redirected = logmon().args(["-o", "json"]).stdin_file(&path).run();
    let piped = logmon().args(["-o", "json", "--replay"]).stdin(exercise_gzipped()).run();
    for run in [&file, &redirected, &piped] {
        run.expect_success();
        assert_eq!(run.stdout, plain.stdout, "differs from the plain replay{run}");
        assert!(!run.stderr.contains("malformed"), "{run}");
    }
}

#[test]
fn gzip_on_a_live_pipe_is_decompressed() {
    let run = logmon().args(["-o", "json"]).stdin(exercise_gzipped()).run();
    run.expect_success().expect_stderr_contains("live");
    let summary = run.summary();
    assert_eq!((summary.int("lines"), summary.int("malformed")), (4831, 0), "{run}");
}

#[test]
fn a_truncated_gzip_file_is_an_error_naming_it() {
    let gz = exercise_gzipped();
    let dir = TempDir::new("gzip-cut");
    let path = dir.path("cut.log.gz");
    fs::write(&path, &gz[..gz.len() / 3]).expect("write");
    let run = logmon().arg(&path).run();
    run.expect_code(1).expect_stderr_contains("cut.log.gz: gzip data");
}

#[test]
fn other_compressions_are_refused_with_the_command_that_unpacks_them() {
    let dir = TempDir::new("compressed");
    let cases: [(&str, &[u8], &str); 3] = [
        ("a.zst", b"\x28\xb5\x2f\xfd\x24\x00", "zstd -dc"),
        ("a.bz2", b"BZh91AY&SY", "bzip2 -dc"),
        ("a.xz", b"\xfd7zXZ\x00\x00\x04", "xz -dc"),
    ];
    for (name, magic, command) in cases {
        let path = dir.path(name);
        fs::write(&path, magic).expect("write");
        let run = logmon().arg(&path).run();
        run.expect_code(1).expect_stderr_contains(command).expect_stderr_contains(name);
        assert_eq!(run.stderr.lines().count(), 1, "one line, not a flood{run}");
        assert!(run.stdout.is_empty(), "{run}");
    }
}

#[test]
fn files_are_replayed_oldest_first_whatever_the_order_given() {
    let sample = fs::read_to_string(data(EXERCISE)).expect("fixture");
    let lines: Vec<&str> = sample.lines().collect();
    let dir = TempDir::new("time-order");
    let old = dir.path("access.log.2.gz");
    let new = dir.path("access.log");
    fs::write(&old, gzip(format!("{}\n", lines[..2400].join("\n")).as_bytes())).expect("write");
    fs::write(&new, format!("{}\n", lines[2400..].join("\n"))).expect("write");
    let given = logmon().args(["-o", "json"]).arg(&new).arg(&old).run();
    let sorted = logmon().args(["-o", "json"]).arg(&old).arg(&new).run();
    given.expect_success().expect_stderr_contains("reading the files oldest first: ");
    sorted.expect_success();
    assert!(!sorted.stderr.contains("oldest first"), "already in order: nothing to say{sorted}");
    assert_eq!(given.stdout, sorted.stdout, "{given}{sorted}");
    assert_eq!(given.json_of("alert").len(), 4, "{given}");
    assert_eq!(given.summary().int("late"), 0, "{given}");
    let said = given.stderr.lines().find(|l| l.contains("oldest first")).expect("said");
    assert!(said.find("access.log.2.gz") < said.rfind("access.log"), "{given}");
}

#[test]
fn a_thousand_files_replay_with_few_descriptors() {
    let t = 1_549_573_860;
    let dir = TempDir::new("thousand");
    // Named newest first, so the order must come from the timestamps.
    let files: Vec<_> = (0..1000)
        .map(|i| {
            let path = dir.path(&format!("f{:04}.log", 999 - i));
            fs::write(&path, clf_line(t + i, "/a")).expect("write");
            path
        })
        .collect();
    let mut files = files;
    files.sort();
    // 32 descriptors: opening every input at once would fail.
    let output = std::process::Command::new("sh")
        .arg("-c")
        .arg("ulimit -n 32 && exec \"$0\" \"$@\"")
        .arg(crate::util::BIN)
        .args(["-s", "-o", "json"])
        .args(&files)
        .output()
        .expect("run sh");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{}\n{stdout}\n{stderr}", output.status);
    let summary = Json::parse(stdout.lines().last().unwrap_or_default()).expect("JSON");
    assert_eq!((summary.int("hits"), summary.int("late")), (1000, 0), "{stderr}");
    assert!(stderr.contains("and 990 more"), "the order is said, shortened{stderr}");
}

#[test]
fn a_file_with_no_valid_line_fails_with_its_first_line_and_the_format_hint() {
    let dir = TempDir::new("unparseable");
    let path = dir.path("app.json");
    let lines: String = (0..20).map(|i| format!("{{\"ts\":{i},\"msg\":\"\x1b[2J\"}}\n")).collect();
    fs::write(&path, format!("\n{lines}")).expect("write");
    let run = logmon().args(["-q", "--fail-on-alert"]).arg(&path).run();
    run.expect_code(1)
        .expect_stdout_contains("[SUMMARY]")
        .expect_stderr_contains("app.json: not one valid log line; line 2 reads: {\"ts\":0,\"msg\":\"\\x1b[2J\"}")
        .expect_stderr_contains("--log-format");
    // An empty file, or one of blank lines, is quiet, not wrong.
    let empty = dir.path("empty.log");
    fs::write(&empty, "\n\n").expect("write");
    logmon().arg(&empty).run().expect_success();
    // One good file among them: the run stands, the bad file is named.
    let good = dir.path("good.log");
    fs::write(&good, clf_line(1_549_573_860, "/a")).expect("write");
    let run = logmon().arg(&good).arg(&path).run();
    run.expect_success().expect_stderr_contains("app.json: not one valid log line");
}

#[test]
fn a_file_going_back_in_time_is_warned_about_once() {
    let t = 1_549_573_860;
    let dir = TempDir::new("back-in-time");
    let path = dir.path("joined.log");
    let lines: String = (0..300).chain(0..300).map(|i| clf_line(t + i, "/a")).collect();
    fs::write(&path, lines).expect("write");
    let run = logmon().arg("-q").arg(&path).run();
    run.expect_success();
    assert_eq!(run.stderr.matches("goes back in time").count(), 1, "{run}");
    run.expect_stderr_contains("joined.log:301: the log goes back in time by 4m59s, more than the 2m alert window");
}

#[test]
fn a_signal_says_what_the_replay_left_unread() {
    let t = 1_549_573_860;
    let dir = TempDir::new("unread");
    let rest = dir.path("rest.log");
    fs::write(&rest, clf_line(t + 100, "/b")).expect("write");
    let mut run = logmon().args(["-o", "json", "-"]).arg(&rest).spawn();
    run.write((0..15).map(|i| clf_line(t + i, "/a")).collect::<String>());
    run.wait_stdout(r#""type":"report""#);
    run.signal(libc::SIGTERM);
    let run = run.wait_keeping_stdin();
    run.expect_code(143)
        .expect_stderr_contains("SIGTERM: replay interrupted")
        .expect_stderr_contains("left unread: the rest of <stdin>, and 1 more input (")
        .expect_stderr_contains("rest.log)");
    assert_eq!(run.summary().int("hits"), 15, "{run}");
}

#[test]
fn a_live_input_of_no_valid_line_is_warned_about_once_and_read_on() {
    let junk: String = (0..250).map(|i| format!("{{\"ts\":{i}}}\n")).collect();
    let run = logmon().args(["-o", "json"]).stdin(junk).run();
    run.expect_success().expect_stderr_contains("live");
    assert_eq!(run.stderr.matches("WARNING: the first 100 lines of <stdin> are all malformed").count(), 1, "{run}");
    run.expect_stderr_contains("--log-format");
    assert_eq!(run.summary().int("malformed"), 250, "{run}");
    // A valid line first: no warning, however many malformed ones follow.
    let mixed = format!("{}{}", clf_line(crate::util::now(), "/a"), "junk\n".repeat(150));
    let run = logmon().args(["-o", "json"]).stdin(mixed).run();
    assert!(!run.stderr.contains("WARNING"), "{run}");
}

/// With the format given, no line waits for its announcement: the lines go
/// a block at a time, where the live check and the metrics must still see
/// each one (the block's sink leaves both out when neither is there).
#[test]
fn a_given_format_keeps_the_live_warning_and_the_metrics_counts() {
    // Blank lines are skipped, and the warning does not count them.
    let junk: String = (0..250).map(|i| format!("{{\"ts\":{i}}}\n\n")).collect();
    let run = logmon().args(["--log-format", "combined", "-o", "json"]).stdin(junk.clone()).run();
    run.expect_success().expect_stderr_contains("live");
    assert_eq!(run.stderr.matches("WARNING: the first 100 lines of <stdin> are all malformed").count(), 1, "{run}");
    assert_eq!(run.summary().int("malformed"), 250, "{run}");
    // The metrics file, live and replayed (which fails, with not one valid
    // line, but writes it first). Its line counts come from the reports and
    // the summary; what it takes from each line alone, the durations, is
    // export::a_format_with_response_times_gets_a_duration_histogram's.
    let dir = TempDir::new("given-format-metrics");
    let file = dir.path("logmon.prom");
    for (mode, code) in [(&["-o", "json"][..], 0), (&["--replay", "-o", "json"], 1)] {
        let run =
            logmon().args(["--log-format", "combined", "--metrics"]).arg(&file).args(mode).stdin(junk.clone()).run();
        run.expect_code(code);
        let summary = run.summary();
        assert_eq!((summary.int("malformed"), summary.int("skipped")), (250, 250), "{mode:?}{run}");
        let text = fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}{run}", file.display()));
        for outcome in ["malformed", "skipped"] {
            let line = format!("logmon_lines_total{{outcome=\"{outcome}\"}} 250");
            assert!(text.lines().any(|l| l == line), "{mode:?}: no {line:?} in\n{text}");
        }
        fs::remove_file(&file).expect("remove the metrics file");
    }
}

/// The handlers come before any input is opened: opening a FIFO waits for
/// its writer, and a USR1 then must ask for a report, not kill logmon.
#[test]
fn usr1_while_an_input_is_opened_does_not_kill_logmon() {
    use std::io::Write;
    use std::os::unix::ffi::OsStrExt;
    let dir = TempDir::new("fifo-open");
    let fifo = dir.path("fifo");
    let c_path = std::ffi::CString::new(fifo.as_os_str().as_bytes()).expect("no NUL in a temp path");
    // SAFETY: mkfifo(3) with a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0, "mkfifo");
    let run = logmon().args(["--replay", "-o", "json"]).arg(&fifo).spawn();
    // Blocked in opening the FIFO, logmon must already catch USR1; were the
    // handlers installed after the open, it never would, and the test fails.
    let deadline = std::time::Instant::now() + crate::util::PATIENCE;
    run.wait_catching(libc::SIGUSR1);
    run.signal(libc::SIGUSR1);
    // A writer opens once logmon's open is there to meet it; were logmon
    // dead, there would be none (ENXIO), and the test fails, not hangs.
    let writer = loop {
        use std::os::unix::fs::OpenOptionsExt;
        match fs::OpenOptions::new().write(true).custom_flags(libc::O_NONBLOCK).open(&fifo) {
            Ok(w) => break w,
            Err(e) if e.raw_os_error() == Some(libc::ENXIO) && std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            Err(e) => panic!("no reader on the FIFO: {e}"),
        }
    };
    let lines: String = (0..15).map(|i| clf_line(1_549_573_860 + i, "/a")).collect();
    (&writer).write_all(lines.as_bytes()).expect("write the FIFO");
    drop(writer);
    let run = run.wait();
    run.expect_success();
    assert_eq!(run.summary().int("hits"), 15, "{run}");
}

/// Live gzip: what the bytes so far decompress to is counted at once, not
/// when the writer sends more (here the 8-byte trailer, held back).
#[test]
fn live_gzip_is_counted_as_far_as_it_has_arrived() {
    let t = crate::util::now();
    let mut text = String::from("junk at the start\n");
    // Over 2 MiB decompressed: several reads of the decompressor, with no
    // read of the pipe between them.
    for _ in 0..20_000 {
        text.push_str(&clf_line(t, "/a"));
    }
    text.push_str("junk at the end\n");
    let gz = gzip(text.as_bytes());
    let (body, trailer) = gz.split_at(gz.len() - 8);
    let mut run = logmon().args(["-o", "json"]).spawn();
    run.write(body);
    run.wait_stderr("<stdin>:20002: malformed line");
    run.write(trailer);
    let run = run.wait();
    run.expect_success();
    let summary = run.summary();
    assert_eq!((summary.int("lines"), summary.int("malformed")), (20_002, 2), "{run}");
}

#[test]
fn an_error_among_many_inputs_names_its_input_before_any_output() {
    let t = 1_549_573_860;
    let dir = TempDir::new("bad-among-many");
    let a = dir.path("a.log");
    let b = dir.path("b.log");
    let bad = dir.path("d.log");
    fs::write(&a, clf_line(t, "/a")).expect("write");
    fs::write(&b, clf_line(t + 1, "/b")).expect("write");
    fs::create_dir(&bad).expect("mkdir");
    let run = logmon().arg(&a).arg(&bad).arg(&b).run();
    run.expect_code(1).expect_stderr_contains("d.log: Is a directory");
    assert!(!run.stderr.contains("a.log:") && !run.stderr.contains("b.log:"), "{run}");
    assert!(run.stdout.is_empty(), "{run}");
}

/// A line longer than the 1 MiB read buffer leaves no newline in it: it is
/// counted once, as malformed, between two hits and as an unterminated
/// last line, from a file and from a pipe (the way in after a batch's
/// lines, not the one a newline in the first read takes).
#[test]
fn a_line_longer_than_the_buffer_is_counted_once() {
    let t = 1_549_573_860;
    let long = "x".repeat(1_500_000);
    let dir = TempDir::new("longer-than-buffer");
    let cases = [
        ("between.log", format!("{}{long}\n{}", clf_line(t, "/a"), clf_line(t + 1, "/b")), (3, 2, 1)),
        ("last.log", format!("{}{long}", clf_line(t, "/a")), (2, 1, 1)),
    ];
    for (name, input, want) in cases {
        let path = dir.path(name);
        fs::write(&path, &input).expect("write");
        let from_file = logmon().args(["-s", "-o", "json", "--replay"]).arg(&path).run();
        let from_pipe = logmon().args(["-s", "-o", "json", "--replay", "-"]).stdin(input).run();
        for run in [from_file, from_pipe] {
            run.expect_success();
            let summary = run.summary();
            assert_eq!((summary.int("lines"), summary.int("hits"), summary.int("malformed")), want, "{run}");
            assert_eq!(run.stderr.matches("malformed line (").count(), 1, "{run}");
            run.expect_stderr_contains(":2: malformed line (line too long)");
        }
    }
}

/// A hit back by exactly the alert window is usual; one second further is
/// warned about, naming its line. The first hit, even at the earliest time
/// a log may hold (1970-01-01T00:00:00Z), is the newest so far.
#[test]
fn going_back_is_warned_about_only_past_the_window() {
    let dir = TempDir::new("back-by-the-window");
    let log = |name: &str, times: &[i64]| {
        let path = dir.path(name);
        fs::write(&path, times.iter().map(|&t| clf_line(t, "/a")).collect::<String>()).expect("write");
        path
    };
    let run = logmon().args(["-s", "-o", "json"]).arg(log("epoch.log", &[0])).run();
    run.expect_success();
    assert_eq!(run.summary().int("hits"), 1, "{run}");
    let run = logmon().arg("-q").arg(log("window.log", &[0, 120, 0])).run();
    run.expect_success();
    assert!(!run.stderr.contains("back in time"), "back by the 2m window, not more{run}");
    let run = logmon().arg("-q").arg(log("past.log", &[0, 121, 0, 0])).run();
    run.expect_success();
    assert_eq!(run.stderr.matches("goes back in time").count(), 1, "{run}");
    run.expect_stderr_contains("past.log:3: the log goes back in time by 2m01s, more than the 2m alert window");
}
