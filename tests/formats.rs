//! Log formats: format strings against the built-in formats on real logs,
//! and the errors a bad format string gets.

use crate::util::{Json, data, logmon};

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
    run.expect_stderr_contains("<stdin>:2: malformed line (does not match the --log-format string)");
}

/// Real lines of each kind: how many are hits, malformed and skipped.
#[test]
fn real_logs_of_each_kind_are_read() {
    for (file, format, hits, malformed) in [
        ("caddy.log", "json", 10, 2),
        ("traefik.json.log", "json", 6, 1),
        ("cri.log", "combined", 3, 0),
        ("docker.log", "combined", 3, 0),
        ("syslog-nginx.log", "combined", 9, 1),
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
