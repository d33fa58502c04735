//! Log formats: format strings against the built-in formats on real logs,
//! and the errors a bad format string gets.

use crate::util::{Json, clf_line, data, logmon, now};

const NGINX_COMBINED: &str = r#"nginx:$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent""#;
const APACHE_COMBINED: &str = r#"apache:%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i""#;

/// Everything but the summary's `format`, which names what was used.
fn events_without_format(run: &crate::util::Run) -> Vec<String> {
    run.json()
        .iter()
        .map(|event: &Json| {
            let mut text = format!("{event:?}");
            if event.str("type") == "summary" {
                text = text.replace(event.str("format"), "");
            }
            text
        })
        .collect()
}

/// Like `combined` asked for by name, a format string is strict: the one
/// line of this log cut short in its user agent is malformed.
#[test]
fn format_strings_read_a_combined_log_as_the_built_in_format_does() {
    let log = data("apache_combined_10k.log");
    let auto = logmon().args(["-o", "json", "--log-format", "combined"]).arg(&log).run();
    auto.expect_success();
    assert_eq!(auto.summary().int("malformed"), 1);
    for (format, name) in [(NGINX_COMBINED, "nginx"), (APACHE_COMBINED, "apache")] {
        let run = logmon().args(["-o", "json", "--log-format", format]).arg(&log).run();
        run.expect_success();
        assert_eq!(run.summary().str("format"), name, "{run}");
        assert_eq!(run.summary().int("malformed"), auto.summary().int("malformed"), "{run}");
        assert_eq!(events_without_format(&run), events_without_format(&auto), "{run}");
    }
}

/// Without the one line cut short, `auto` and the format strings read the
/// real log the same way, report for report.
#[test]
fn format_strings_and_auto_agree() {
    let text = std::fs::read_to_string(data("apache_combined_10k.log")).expect("fixture");
    let whole: String = text.lines().filter(|l| l.ends_with('"')).map(|l| format!("{l}\n")).collect();
    assert_eq!(whole.lines().count(), 9_999);
    let dir = crate::util::TempDir::new("agree");
    let log = dir.path("whole.log");
    std::fs::write(&log, whole).expect("write");
    let auto = logmon().args(["-o", "json"]).arg(&log).run();
    auto.expect_success();
    assert_eq!(auto.summary().int("malformed"), 0, "{auto}");
    for format in [NGINX_COMBINED, APACHE_COMBINED] {
        let run = logmon().args(["-o", "json", "--log-format", format]).arg(&log).run();
        assert_eq!(events_without_format(&run), events_without_format(&auto), "{run}");
    }
}

#[test]
fn a_bad_format_string_is_a_usage_error_that_names_the_fault() {
    let run = logmon().args(["--log-format", "nginx:[$time_local] $status$body_bytes_sent"]).arg("-").run();
    run.expect_code(2);
    run.expect_stderr_contains("'$body_bytes_sent'");
    let run = logmon().args(["--log-format", "apache:%h %>s"]).arg("-").run();
    run.expect_code(2);
    run.expect_stderr_contains("no time field");
}

#[test]
fn lines_that_do_not_match_the_format_string_say_so() {
    let input = "1.2.3.4 [07/Feb/2019:21:11:00 +0000] 200 GET /a\n1.2.3.4 [07/Feb/2019:21:11:00 +0000] 200 GET\n";
    let format = "nginx:$remote_addr [$time_local] $status $request_method $uri";
    let run = logmon().args(["-o", "json", "--replay", "--log-format", format]).stdin(input).run();
    run.expect_success();
    assert_eq!((run.summary().int("hits"), run.summary().int("malformed")), (1, 1), "{run}");
    run.expect_stderr_contains("<stdin>:2: malformed line (does not match the log format)");
}

/// Real lines of each kind: how many are hits, malformed and skipped.
#[test]
fn real_logs_of_each_kind_are_read() {
    for (file, format, hits, malformed) in [
        ("caddy.log", "json", 10, 1), // and a blank line, skipped
        ("traefik.json.log", "json", 6, 1),
        ("cri.log", "combined", 3, 0),
        ("docker.log", "combined", 3, 0),
        ("syslog-nginx.log", "combined", 9, 0), // and a blank line, skipped
    ] {
        let run = logmon().args(["-s", "-o", "json"]).arg(data(file)).run();
        run.expect_success();
        let s = run.summary();
        assert_eq!(s.str("format"), format, "{run}");
        assert_eq!((s.int("hits"), s.int("malformed")), (hits, malformed), "{run}");
        assert_eq!(s.int("lines"), s.int("hits") + s.int("malformed") + s.int("skipped"), "{run}");
    }
}

/// The same JSON line told by name and detected.
#[test]
fn json_lines_by_name_and_detected_agree() {
    let log = data("caddy.log");
    let named = logmon().args(["-o", "json", "--log-format", "json"]).arg(&log).run();
    let auto = logmon().args(["-o", "json"]).arg(&log).run();
    assert_eq!(named.stdout, auto.stdout, "{named}{auto}");
    // Not one valid line is a failure (status 1).
    let run = logmon().args(["-o", "json", "--log-format", "json"]).arg(data("syslog-nginx.log")).run();
    run.expect_code(1);
    assert_eq!(run.summary().int("hits"), 0, "{run}");
    run.expect_stderr_contains("malformed line (not a JSON object)");
}

/// Presets on real lines: `auto` finds each, says so once, and agrees
/// with the preset asked for by name.
#[test]
fn presets_are_detected_and_named() {
    for (file, preset, server, hits, malformed) in [
        ("alb.log", "alb", "AWS ALB", 14, 0),
        ("haproxy.log", "haproxy", "HAProxy", 2, 3),
        ("traefik.log", "traefik", "Traefik CLF", 7, 0), // and two blank lines, skipped
        ("iis.log", "w3c", "W3C extended (IIS, CloudFront)", 3, 2),
        ("cloudfront.log", "w3c", "W3C extended (IIS, CloudFront)", 2, 0),
        // and five squidGuard lines (malformed) and two blank lines (skipped)
        ("squid.log", "squid", "Squid", 7, 5),
    ] {
        let auto = logmon().args(["-o", "json"]).arg(data(file)).run();
        auto.expect_success();
        assert_eq!(auto.summary().str("format"), preset, "{auto}");
        assert_eq!((auto.summary().int("hits"), auto.summary().int("malformed")), (hits, malformed), "{auto}");
        assert_eq!(auto.stderr.matches("log format: ").count(), 1, "{auto}");
        auto.expect_stderr_contains(&format!("logmon: log format: {server}\n"));
        let named = logmon().args(["-o", "json", "--log-format", preset]).arg(data(file)).run();
        assert_eq!(named.stdout, auto.stdout, "{named}");
        assert!(!named.stderr.contains("log format: "), "only auto says what it chose{named}");
    }
    // Envoy's text and JSON layouts mixed, in CRI wrappers: read whole only
    // by the preset, as `auto` settles on the first line's JSON.
    let run = logmon().args(["-s", "-o", "json", "--log-format", "envoy"]).arg(data("envoy-cri.log")).run();
    assert_eq!((run.summary().int("hits"), run.summary().int("malformed")), (10, 0), "{run}");
}

#[test]
fn the_list_shows_every_format_with_an_example() {
    let run = logmon().args(["--log-format", "list"]).run();
    run.expect_success();
    for name in [
        "common",
        "combined",
        "csv",
        "json",
        "vhost_combined",
        "traefik",
        "alb",
        "elb",
        "haproxy",
        "envoy",
        "s3",
        "squid",
    ] {
        assert!(
            run.stdout.contains(&format!("\n{name}: ")) || run.stdout.starts_with(&format!("{name}: ")),
            "{name}{run}"
        );
    }
    // Each example is read by its own format.
    let lines: Vec<&str> = run.stdout.lines().collect();
    for pair in lines.chunks(2) {
        let name = pair[0].split(':').next().unwrap_or_default();
        let example = pair[1].trim_start();
        let run =
            logmon().args(["-s", "-o", "json", "--replay", "--log-format", name]).stdin(format!("{example}\n")).run();
        assert_eq!(run.summary().int("hits"), 1, "{name}{run}");
    }
}

/// `auto` says once on stderr what it chose, the classic formats too, in
/// replay and live; a format given by name goes unsaid.
#[test]
fn auto_says_once_what_it_chose_whatever_the_format() {
    let t = now();
    let combined: String = (0..3).map(|i| clf_line(t + i, "/a")).collect();
    let common: String = combined.lines().map(|l| format!("{}\n", &l[..l.find(" \"-\"").unwrap_or(l.len())])).collect();
    let csv: String =
        (0..3).map(|i| format!("\"10.0.0.2\",\"-\",\"apache\",{},\"GET /a HTTP/1.0\",200,1\n", t + i)).collect();
    for (input, name) in [(&combined, "combined"), (&common, "common"), (&csv, "csv")] {
        for mode in [&["--replay"][..], &[]] {
            let run = logmon().args(["-s", "-o", "json"]).args(mode).stdin(input.as_str()).run();
            run.expect_success();
            assert_eq!(run.summary().str("format"), name, "{run}");
            assert_eq!(run.stderr.matches("log format: ").count(), 1, "{run}");
            run.expect_stderr_contains(&format!("logmon: log format: {name}\n"));
        }
        let named = logmon().args(["-s", "-o", "json", "--replay", "--log-format", name]).stdin(input.as_str()).run();
        assert!(!named.stderr.contains("log format: "), "only auto says what it chose{named}");
    }
}
