//! `--alert` rules on a generated log: an error burst and a silence, their
//! alert times in JSON, and the text lines.

use std::fmt::Write;
use std::fs;

use crate::util::{TempDir, logmon};

/// 2019-02-07T21:11:00Z.
const T0: i64 = 1_549_573_860;

/// 20 hits a second for 6 minutes, 6 of them 503 in minute 3 (30%), then
/// 5 minutes of silence, then 2 more minutes of traffic.
fn burst_and_silence() -> String {
    let mut log = String::new();
    for s in (0..360).chain(660..780) {
        for i in 0..20 {
            let status = if (180..240).contains(&s) && i < 6 { 503 } else { 200 };
            let t = T0 + s;
            writeln!(log, r#""10.0.0.{i}","-","apache",{t},"GET /api/x HTTP/1.0",{status},1234"#).expect("a String");
        }
    }
    log
}

#[test]
fn an_error_burst_and_a_silence_alert_at_the_exact_seconds() {
    let dir = TempDir::new("rules");
    let path = dir.path("burst.csv");
    fs::write(&path, burst_and_silence()).expect("write the log");
    let run = logmon()
        .args(["-o", "json", "--alert", "errors > 5% over 1m", "--alert", "rate  <  1 over 60s"])
        .arg(&path)
        .run();
    run.expect_success();
    let alerts: Vec<(String, u64, String, String)> = run
        .json_of("alert")
        .iter()
        .map(|a| (a.str("time").to_string(), a.int("id"), a.str("state").to_string(), a.str("rule").to_string()))
        .collect();
    let expected = [
        // 11 seconds of 30% put 66 errors in 1200 hits; 10 make exactly 5%.
        ("2019-02-07T21:14:10Z", 1, "triggered", "errors > 5% over 1m"),
        ("2019-02-07T21:15:49Z", 1, "recovered", "errors > 5% over 1m"),
        // Silence from 21:17:00: 2 seconds of hits left in the window.
        ("2019-02-07T21:17:57Z", 2, "triggered", "rate < 1 over 1m"),
        // Traffic back at 21:22:00; 60 hits in the window is 1/s, not below.
        ("2019-02-07T21:22:02Z", 2, "recovered", "rate < 1 over 1m"),
    ];
    let expected: Vec<(String, u64, String, String)> =
        expected.iter().map(|(t, id, s, r)| (t.to_string(), *id, s.to_string(), r.to_string())).collect();
    assert_eq!(alerts, expected, "{run}");
    let first = &run.json_of("alert")[0];
    assert_eq!((first.str("metric"), first.str("op")), ("errors", ">"));
    assert_eq!((first.int("hits"), first.int("matched")), (1200, 66));
    assert_eq!(first["value"].as_f64(), Some(5.5));
    assert_eq!(first["threshold"].as_f64(), Some(5.0));
    assert_eq!(run.summary().int("alerts"), 2);
}

#[test]
fn rule_alerts_in_text_say_the_rule_and_its_measure() {
    let dir = TempDir::new("rules-text");
    let path = dir.path("burst.csv");
    fs::write(&path, burst_and_silence()).expect("write the log");
    let run = logmon().args(["-q", "--alert", "errors > 5% over 1m", "--alert", "rate < 1 over 1m"]).arg(&path).run();
    run.expect_success();
    let lines: Vec<&str> =
        run.stdout.lines().filter(|l| l.contains("] [ALERT]") || l.contains("] [RECOVERED]")).collect();
    assert_eq!(
        lines,
        [
            "[2019-02-07 21:14:10+00:00] [ALERT] #1 errors > 5% over 1m: 5.5% (66 of 1200 hits), triggered at 2019-02-07 21:14:10+00:00",
            "[2019-02-07 21:15:49+00:00] [RECOVERED] #1 errors > 5% over 1m: 5.0% (60 of 1200 hits), recovered at 2019-02-07 21:15:49+00:00 (triggered at 2019-02-07 21:14:10+00:00, lasted 1m39s)",
            "[2019-02-07 21:17:57+00:00] [ALERT] #2 rate < 1 over 1m: 0.67 req/s (40 hits), triggered at 2019-02-07 21:17:57+00:00",
            "[2019-02-07 21:22:02+00:00] [RECOVERED] #2 rate < 1 over 1m: 1.00 req/s (60 hits), recovered at 2019-02-07 21:22:02+00:00 (triggered at 2019-02-07 21:17:57+00:00, lasted 4m05s)",
        ],
        "{run}"
    );
}

#[test]
fn the_default_rule_stays_with_threshold_and_ids_are_shared() {
    let dir = TempDir::new("rules-default");
    let path = dir.path("burst.csv");
    fs::write(&path, burst_and_silence()).expect("write the log");
    let run = logmon().args(["-o", "json", "-t", "15", "--alert", "errors > 5% over 1m"]).arg(&path).run();
    run.expect_success();
    let alerts = run.json_of("alert");
    let fired: Vec<(u64, &str)> = alerts.iter().map(|a| (a.int("id"), a.str("rule"))).collect();
    // 20 req/s is above 15 once the 2-minute window holds 1801 hits.
    assert_eq!(fired[0], (1, "rate > 15 over 2m"), "{run}");
    assert_eq!(fired[1], (2, "errors > 5% over 1m"), "{run}");
}

#[test]
fn a_rule_that_does_not_parse_is_a_usage_error_at_the_word() {
    let run = logmon().args(["--alert", "p99 > 500 over 5m"]).run();
    run.expect_code(2);
    run.expect_stderr_contains("'500': a response time needs a unit");
    run.expect_stderr_contains("  p99 > 500 over 5m\n        ^^^\n");
}

const NGINX_TIMED: &str =
    r#"nginx:$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent $request_time"#;

/// 10 hits a second for 5 minutes at 50 ms; in 21:13:00-21:13:29, 2 of
/// each second's 10 take 900 ms.
fn latency_spike() -> String {
    let mut log = String::new();
    for s in 0..300 {
        let t = 21 * 3600 + 11 * 60 + s;
        let clock = format!("{:02}:{:02}:{:02}", t / 3600, t / 60 % 60, t % 60);
        for i in 0..10 {
            let time = if (120..150).contains(&s) && i < 2 { "0.900" } else { "0.050" };
            let line = format!(r#"10.0.0.{i} - - [07/Feb/2019:{clock} +0000] "GET /api/x HTTP/1.1" 200 512 {time}"#);
            writeln!(log, "{line}").expect("a String");
        }
    }
    log
}

#[test]
fn a_latency_spike_alerts_at_the_exact_seconds_and_reports_show_latency() {
    let dir = TempDir::new("rules-latency");
    let path = dir.path("spike.log");
    fs::write(&path, latency_spike()).expect("write the log");
    let run =
        logmon().args(["-o", "json", "--log-format", NGINX_TIMED, "--alert", "p99 > 500ms over 1m"]).arg(&path).run();
    run.expect_success();
    let alerts: Vec<(String, String)> =
        run.json_of("alert").iter().map(|a| (a.str("time").to_string(), a.str("state").to_string())).collect();
    // 600 timed hits: p99 is rank 594, above 500 ms once 7 are slower.
    assert_eq!(
        alerts,
        [
            ("2019-02-07T21:13:03Z".to_string(), "triggered".to_string()),
            ("2019-02-07T21:14:26Z".to_string(), "recovered".to_string())
        ],
        "{run}"
    );
    let first = &run.json_of("alert")[0];
    assert_eq!((first.str("metric"), first.int("matched"), first.int("hits")), ("p99", 8, 600));
    assert_eq!(first["threshold"].as_f64(), Some(0.5));
    // The p99 of the window, in seconds, within 1 %: 900 ms at the trigger,
    // 50 ms once the slow seconds left.
    let near = |got: Option<f64>, want: f64| got.is_some_and(|g| (g - want).abs() <= want / 100.0);
    let values: Vec<Option<f64>> = run.json_of("alert").iter().map(|a| a["value"].as_f64()).collect();
    assert!(near(values[0], 0.9) && near(values[1], 0.05), "{values:?}");
    let text = logmon().args(["-q", "--log-format", NGINX_TIMED, "--alert", "p99 > 500ms over 1m"]).arg(&path).run();
    text.expect_success();
    text.expect_stdout_contains(
        "[2019-02-07 21:13:03+00:00] [ALERT] #1 p99 > 500ms over 1m: 897ms (8 of 600 timed hits above 500ms), triggered at 2019-02-07 21:13:03+00:00\n",
    );
    text.expect_stdout_contains(
        "[RECOVERED] #1 p99 > 500ms over 1m: 50ms (6 of 600 timed hits above 500ms), recovered at",
    );
    let reports = run.json_of("report");
    let spiky = reports.iter().find(|r| r.str("end") == "2019-02-07T21:13:10Z").expect("a report of the spike");
    let latency = &spiky["latency"];
    assert_eq!(latency.int("count"), 100);
    assert!(near(latency["p50"].as_f64(), 0.05) && near(latency["p90"].as_f64(), 0.9), "{latency:?}");
    assert_eq!(latency["max"].as_f64(), Some(0.9));
    assert_eq!(spiky["codes"].as_array().len(), 1);
    assert_eq!(spiky["clients"].as_array().len(), 5, "the top 5 of 10 clients");
    let summary = run.summary();
    assert_eq!(summary["latency"].int("count"), 3000);
    assert_eq!(summary["codes"].as_array()[0].int("hits"), 3000);
}

#[test]
fn latency_rules_need_a_format_with_response_times() {
    let run = logmon().args(["--log-format", "csv", "--alert", "p99 > 1s"]).run();
    run.expect_code(2);
    run.expect_stderr_contains("--alert 'p99 > 1s over 2m' will never fire: the csv format logs no response time");
    let run = logmon().args(["-q", "--alert", "max > 1s"]).arg(crate::util::data("exercise_sample.csv")).run();
    run.expect_success();
    run.expect_stderr_contains("warning: --alert 'max > 1s over 2m' will never fire");
}

#[test]
fn a_rule_that_will_never_fire_is_named_escaped() {
    let rule = "p99 > 1s in /x\x1b[2J";
    let named = logmon().args(["--log-format", "csv", "--alert", rule]).run();
    named.expect_code(2);
    let chosen = logmon().args(["-q", "--alert", rule]).arg(crate::util::data("exercise_sample.csv")).run();
    chosen.expect_success();
    for run in [&named, &chosen] {
        run.expect_stderr_contains("in /x\\x1b[2J' will never fire");
        assert!(!run.stderr.contains('\x1b'), "a raw ESC reached stderr:{run}");
    }
}

#[test]
fn a_report_names_the_rule_of_the_alert_in_force() {
    let dir = TempDir::new("rules-report");
    let path = dir.path("burst.csv");
    fs::write(&path, burst_and_silence()).expect("write the log");
    let run = logmon().args(["--alert", "errors > 5% over 1m"]).arg(&path).run();
    run.expect_success();
    // A rule and the time it is active since are wider than a line.
    run.expect_stdout_contains(concat!(
        "[2019-02-07 21:14:20+00:00]   alert     #1 errors > 5% over 1m,\n",
        "[2019-02-07 21:14:20+00:00]             active since 21:14:10 (10s)\n",
    ));
}

#[test]
fn a_report_shows_every_alert_in_force() {
    let dir = TempDir::new("rules-active");
    let path = dir.path("burst.csv");
    fs::write(&path, burst_and_silence()).expect("write the log");
    // --threshold keeps the default rule: above 15 req/s from 21:12:30.
    let rules = ["--alert", "errors > 5% over 1m", "--alert", "5xx > 1/s over 1m", "--threshold", "15"];
    let text = logmon().args(rules).arg(&path).run();
    text.expect_success();
    text.expect_stdout_contains(concat!(
        "[2019-02-07 21:14:20+00:00]   alert     #1 active since 21:12:30 (1m50s)\n",
        "[2019-02-07 21:14:20+00:00]   alert     #2 errors > 5% over 1m,\n",
        "[2019-02-07 21:14:20+00:00]             active since 21:14:10 (10s)\n",
        "[2019-02-07 21:14:20+00:00]   alert     #3 5xx > 1/s over 1m,\n",
        "[2019-02-07 21:14:20+00:00]             active since 21:14:10 (10s)\n",
    ));
    let json = logmon().args(["-o", "json"]).args(rules).arg(&path).run();
    json.expect_success();
    let reports = json.json_of("report");
    let report = reports.iter().find(|r| r.str("end") == "2019-02-07T21:14:20Z").expect("a report in the burst");
    assert_eq!(report["alert"].int("id"), 3, "`alert` stays the newest");
    let active: Vec<(u64, Option<&str>)> =
        report["active"].as_array().iter().map(|a| (a.int("id"), a["rule"].as_str())).collect();
    assert_eq!(active, [(1, None), (2, Some("errors > 5% over 1m")), (3, Some("5xx > 1/s over 1m"))], "{json}");
    assert_eq!(report["active"].as_array()[1].str("triggered"), "2019-02-07T21:14:10Z");
    let summary = json.summary();
    let ids: Vec<u64> = summary["active"].as_array().iter().map(|a| a.int("id")).collect();
    assert_eq!(ids, [summary["alert"].int("id")], "the traffic after the silence is above 15 req/s: {json}");
}

#[test]
fn report_and_summary_lines_fit_80_columns() {
    let dir = TempDir::new("rules-columns");
    let (burst, spike) = (dir.path("burst.csv"), dir.path("spike.log"));
    fs::write(&burst, burst_and_silence()).expect("write the log");
    fs::write(&spike, latency_spike()).expect("write the log");
    let rules = ["--alert", "rate < 100 over 90s in /api", "--alert", "errors > 5% over 1m", "--threshold", "15"];
    let runs = [
        logmon().args(rules).arg(&burst).run(),
        logmon().args(["--log-format", NGINX_TIMED, "--alert", "p99 > 500ms over 1m"]).args(rules).arg(&spike).run(),
        // Flapping: a history of ids past 9 after some earlier ones.
        logmon()
            .args(["--max-delay", "60", "--alert", "errors > 1%", "--alert", "rate < 100 in /api"])
            .arg(crate::util::data("spike.log"))
            .run(),
    ];
    for run in &runs {
        run.expect_success();
        // Alert lines and the summary's first line are a sentence each; the
        // lines under a report or the summary are what must fit.
        let under = |l: &&str| l.split_once("]   ").is_some_and(|(stamp, _)| !stamp.contains("] ["));
        let wide: Vec<&str> = run.stdout.lines().filter(under).filter(|l| l.chars().count() > 80).collect();
        assert!(wide.is_empty(), "{wide:#?}\n{run}");
        assert!(run.stdout.contains("]   latency   ") || run.stdout.contains("]   alert     #"), "{run}");
        assert!(!run.stdout.contains("]   history   \n"), "{run}");
    }
    runs[1].expect_stdout_contains("]   latency   p50 50ms p90 50ms p99 50ms max 50ms\n");
    // The newest alert and the count of earlier ones are too wide together.
    runs[2].expect_stdout_contains(concat!(
        "[2019-02-07 21:25:20+00:00]   history   (8 earlier)\n",
        "[2019-02-07 21:25:20+00:00]             #10 21:24:05-21:25:14 (1m09s)\n",
    ));
}

#[test]
fn a_past_alert_of_an_earlier_day_says_its_date() {
    let log = crate::util::data("apache_combined_10k.log");
    let run = logmon().args(["--max-delay", "60", "-t", "0.3", "-w", "60"]).arg(log).run();
    run.expect_success();
    run.expect_stdout_contains(concat!(
        "[2015-05-18 00:05:00+00:00]   history   (13 earlier)\n",
        "[2015-05-18 00:05:00+00:00]             #14 2015-05-17 23:05:09-23:06:47 (1m38s)\n",
    ));
    // On the day of the report, times of day alone.
    run.expect_stdout_contains("[2015-05-18 01:05:00+00:00]             #15 00:05:13-00:06:50 (1m37s)\n");
}
