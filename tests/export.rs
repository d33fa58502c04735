//! Export: the `--metrics` textfile, checked with Prometheus's own tools.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;

use crate::util::{Json, TempDir, data, logmon};

/// Runs `promtool` with `args` (and `stdin`, if any) and returns whether it
/// succeeded and what it said; `None` when it is not installed outside CI.
/// Under CI (`CI=true`) a missing promtool fails the test: `.ci/run`
/// installs it.
fn promtool(args: &[&str], stdin: Option<&Path>) -> Option<(bool, String)> {
    let mut command = Command::new("promtool");
    command.args(args);
    if let Some(path) = stdin {
        command.stdin(fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())));
    }
    match command.output() {
        Ok(out) => {
            let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
            Some((out.status.success(), said))
        }
        Err(e) if std::env::var("CI").is_ok_and(|v| v == "true") => panic!("promtool: {e} (CI must have it)"),
        Err(_) => {
            eprintln!("promtool is not installed: not checked (Debian's prometheus package has it)");
            None
        }
    }
}

/// `name{labels} value` lines of an exposition text, by series.
fn series(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (name, value) = l.rsplit_once(' ').unwrap_or_else(|| panic!("not a sample: {l:?}"));
            (name.to_owned(), value.parse().unwrap_or_else(|e| panic!("{l:?}: {e}")))
        })
        .collect()
}

#[test]
fn metrics_agree_with_the_json_summary_and_pass_promtool() {
    let dir = TempDir::new("metrics-summary");
    let file = dir.path("logmon.prom");
    let run = logmon().args(["-o", "json", "--metrics"]).arg(&file).arg(data("exercise_sample.csv")).run();
    run.expect_success();
    let text = fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}{run}", file.display()));
    let m = series(&text);
    let s = run.summary();
    let lines = |outcome: &str| m[&format!("logmon_lines_total{{outcome=\"{outcome}\"}}")] as u64;
    assert_eq!(lines("hit") + lines("late") + lines("early"), s.int("hits"), "{text}");
    for outcome in ["late", "early", "malformed", "skipped"] {
        assert_eq!(lines(outcome), s.int(outcome), "{outcome}: {text}");
    }
    let all: u64 = ["hit", "late", "early", "malformed", "skipped"].iter().map(|o| lines(o)).sum();
    assert_eq!(all, s.int("lines"), "the outcomes partition the lines");
    assert_eq!(m["logmon_alerts_total{rule=\"rate > 10 over 2m\"}"] as u64, s.int("alerts"));
    assert_eq!(m["logmon_alert_active{rule=\"rate > 10 over 2m\"}"], 0.0);

    // Status classes and bytes: the sums of the scheduled reports.
    let reports: Vec<Json> =
        run.json_of("report").into_iter().filter(|r| !matches!(r["requested"], Json::Bool(true))).collect();
    for class in ["1xx", "2xx", "3xx", "4xx", "5xx", "unknown"] {
        let sum: u64 = reports.iter().map(|r| r["status"].int(class)).sum();
        assert_eq!(m[&format!("logmon_requests_total{{status_class=\"{class}\"}}")] as u64, sum, "{class}");
    }
    let requests: f64 = m.iter().filter(|(k, _)| k.starts_with("logmon_requests_total")).map(|(_, v)| v).sum();
    assert_eq!(requests as u64, s.int("hits"));
    assert_eq!(m["logmon_response_bytes_total"] as u64, reports.iter().map(|r| r.int("bytes")).sum::<u64>());
    assert_eq!(m["logmon_last_line_timestamp_seconds"] as i64, 1_549_574_340, "21:19:00, the last line");
    // The window's average as the last report left it: below the threshold,
    // since the last alert recovered.
    let rate = m["logmon_window_requests_per_second"];
    assert!(rate > 0.0 && rate <= 10.0, "{rate}");

    if let Some((ok, said)) = promtool(&["check", "metrics"], Some(&file)) {
        assert!(ok, "promtool check metrics: {said}\n{text}");
    }
    let leftovers: Vec<_> = fs::read_dir(dir.path("")).expect("the dir").flatten().map(|e| e.file_name()).collect();
    assert_eq!(leftovers, ["logmon.prom"], "the temporary file is renamed away");
}

/// The metrics' requests and bytes are sums of reports: under `--summary`
/// and `--quiet`, which show none, reports must still be made for them.
#[test]
fn metrics_count_every_hit_when_no_report_is_shown() {
    let dir = TempDir::new("metrics-no-reports");
    let file = dir.path("logmon.prom");
    for shown in ["-s", "-q"] {
        let run = logmon().args([shown, "-o", "json", "--metrics"]).arg(&file).arg(data("exercise_sample.csv")).run();
        run.expect_success();
        let text = fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}{run}", file.display()));
        let m = series(&text);
        let s = run.summary();
        assert!(s.int("hits") > 0, "{run}");
        let requests: f64 = m.iter().filter(|(k, _)| k.starts_with("logmon_requests_total")).map(|(_, v)| v).sum();
        assert_eq!(requests as u64, s.int("hits"), "{shown}: {text}");
        assert_eq!(m["logmon_response_bytes_total"] as u64, s.int("bytes"), "{shown}: {text}");
    }
}

#[test]
fn a_reader_never_sees_a_half_written_file() {
    let dir = TempDir::new("metrics-atomic");
    let file = dir.path("logmon.prom");
    let done = Arc::new(AtomicBool::new(false));
    let reader = {
        let (file, done) = (file.clone(), Arc::clone(&done));
        thread::spawn(move || {
            let mut reads = 0;
            while !done.load(Ordering::SeqCst) {
                if let Ok(text) = fs::read_to_string(&file) {
                    assert!(text.starts_with("# HELP logmon_lines_total "), "{text:?}");
                    assert!(text.contains("\nlogmon_alerts_total{"), "cut short: {text:?}");
                    assert!(text.ends_with('\n'), "cut short: {text:?}");
                    reads += 1;
                }
            }
            reads
        })
    };
    // Replay writes the file at the start and at the end only (live
    // rewrites it at each report, in the same way).
    let run = logmon().args(["-s", "-i", "1", "--metrics"]).arg(&file).arg(data("apache_combined_10k.log")).run();
    done.store(true, Ordering::SeqCst);
    run.expect_success();
    let reads = reader.join().unwrap_or_else(|_| panic!("the reader saw a broken file{run}"));
    assert!(reads > 0, "the file was never read");
}

#[test]
fn a_metrics_path_that_cannot_be_written_fails_at_once() {
    let dir = TempDir::new("metrics-bad");
    let run = logmon().arg("--metrics").arg(dir.path("missing/logmon.prom")).arg(data("exercise_sample.csv")).run();
    run.expect_code(1).expect_stderr_contains("--metrics");
    assert_eq!(run.stdout, "", "{run}");
}

#[test]
fn each_rule_given_has_its_series_from_the_start() {
    let dir = TempDir::new("metrics-rules");
    let file = dir.path("logmon.prom");
    let run =
        logmon().args(["--alert", "errors  >  50%", "--metrics"]).arg(&file).arg(data("exercise_sample.csv")).run();
    run.expect_success();
    let m = series(&fs::read_to_string(&file).unwrap_or_else(|e| panic!("{e}{run}")));
    assert_eq!(m.get("logmon_alerts_total{rule=\"errors > 50% over 2m\"}"), Some(&0.0), "{m:?}");
    assert!(!m.keys().any(|k| k.contains("rate >")), "--alert replaces the default rule: {m:?}");
}

/// Lines of `KEY=value` and the JSON line, as the hook below writes them.
const HOOK: &str = r#"{ env | grep '^LOGMON_' | sort; cat; echo; echo ---; } >>"$OUT""#;

#[test]
fn replay_runs_a_hook_per_transition_in_order() {
    let dir = TempDir::new("exec-replay");
    let out = dir.path("hooks.txt");
    let run =
        logmon().env("OUT", &out.to_string_lossy()).args(["-q", "--exec", HOOK]).arg(data("exercise_sample.csv")).run();
    run.expect_success();
    let text = fs::read_to_string(&out).unwrap_or_else(|e| panic!("no hook ran ({e}){run}"));
    let hooks: Vec<&str> = text.split("---\n").filter(|h| !h.trim().is_empty()).collect();
    let expected = [
        ("1", "triggered", "2019-02-07T21:12:36Z"),
        ("1", "recovered", "2019-02-07T21:14:03Z"),
        ("2", "triggered", "2019-02-07T21:16:03Z"),
        ("2", "recovered", "2019-02-07T21:18:22Z"),
    ];
    assert_eq!(hooks.len(), expected.len(), "{text}");
    for (hook, (id, state, time)) in hooks.iter().zip(expected) {
        let env: BTreeMap<&str, &str> = hook.lines().filter_map(|l| l.split_once('=')).collect();
        assert_eq!((env["LOGMON_ID"], env["LOGMON_STATE"], env["LOGMON_TIME"]), (id, state, time), "{hook}");
        assert_eq!(env["LOGMON_EVENT"], "alert");
        assert_eq!(env["LOGMON_RULE"], "rate > 10 over 2m");
        assert_eq!((env["LOGMON_THRESHOLD"], env["LOGMON_WINDOW"]), ("10", "120"));
        let json = hook.lines().find(|l| l.starts_with('{')).unwrap_or_else(|| panic!("no JSON: {hook}"));
        let json = Json::parse(json).unwrap_or_else(|e| panic!("{e}: {json}"));
        assert_eq!((json.str("type"), json.str("state"), json.int("id").to_string()), ("alert", state, id.to_owned()));
        assert_eq!(json.int("hits").to_string(), env["LOGMON_HITS"]);
    }
}

#[test]
fn a_failing_hook_is_one_line_on_stderr_and_its_output_is_not_data() {
    let run = logmon().args(["-o", "json", "--exec", "echo said; exit 7"]).arg(data("exercise_sample.csv")).run();
    run.expect_success();
    assert!(!run.stdout.contains("said"), "a hook's stdout went to logmon's stdout{run}");
    assert_eq!(run.stderr.matches("said").count(), 4, "{run}");
    assert_eq!(run.stderr.matches("exited with status 7").count(), 4, "{run}");
    run.expect_stderr_contains("--exec: alert #2 recovered: exited with status 7");
}

#[test]
fn a_hook_that_hangs_live_is_killed_while_reports_go_on() {
    use crate::util::{clf_line, now};
    use std::time::{Duration, Instant};

    let hook = "echo hook-started >&2; sleep 30";
    let mut run = logmon()
        .args(["-o", "json", "-t", "0", "-w", "1", "-i", "1", "--max-delay", "0"])
        // Over a second, so that a report is due while the hook hangs.
        .args(["--exec", hook, "--exec-timeout", "1200ms"])
        .spawn();
    run.wait_stderr("live");
    run.write(clf_line(now(), "/a"));
    run.wait_stderr("hook-started");
    let reports_at_start = run.stdout_now().matches("\"type\":\"report\"").count();
    let started = Instant::now();
    // Lines keep coming, so every second has a report to show.
    while !run.stderr_now().contains("killed after") {
        assert!(started.elapsed() < Duration::from_secs(20), "never killed");
        run.write(clf_line(now(), "/a"));
        thread::sleep(Duration::from_millis(100));
    }
    let reports = run.stdout_now().matches("\"type\":\"report\"").count() - reports_at_start;
    assert!(reports >= 1, "no report while the hook hung");
    run.signal(libc::SIGTERM);
    // The hook's sleep holds logmon's stderr open: the run ends, stderr
    // and all, well before the sleep would only if the whole group was killed.
    let stopping = Instant::now();
    let run = run.wait();
    assert!(stopping.elapsed() < Duration::from_secs(10), "the hook's children outlived it{run}");
    run.expect_success().expect_stderr_contains("--exec: alert #1 triggered: killed after 1200ms (--exec-timeout)");
}

/// Every `--long-option` word in `text`.
fn long_options(text: &str) -> std::collections::BTreeSet<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .filter_map(|w| w.strip_prefix("--"))
        .filter(|w| w.len() > 1 && !w.ends_with('-'))
        .map(|w| format!("--{w}"))
        .collect()
}

/// The options `--help` lists in its table (lines starting with a dash).
fn help_options() -> std::collections::BTreeSet<String> {
    let run = logmon().arg("--help").run();
    run.expect_success();
    let table: String = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("  -") || l.starts_with("      --"))
        .map(|l| l.split("  ").find(|p| !p.is_empty()).unwrap_or("").to_owned() + "\n")
        .collect();
    long_options(&table)
}

#[test]
fn completions_offer_exactly_the_options_of_help() {
    let help = help_options();
    assert!(help.len() > 20, "{help:?}");
    for shell in ["bash", "zsh", "fish"] {
        let run = logmon().args(["--completions", shell]).run();
        run.expect_success();
        // Descriptions name other options ("with --follow: ..."): take
        // the option names only, where each shell puts them.
        let named: String = match shell {
            "bash" => run.stdout.lines().filter(|l| l.contains("compgen -W")).collect(),
            "zsh" => run.stdout.lines().map(|l| l.split('[').next().unwrap_or("").to_owned() + "\n").collect(),
            _ => run
                .stdout
                .lines()
                .filter_map(|l| l.split(" -d ").next())
                .map(|l| l.replace(" -l ", " --") + "\n")
                .collect(),
        };
        assert_eq!(long_options(&named), help, "{shell}{run}");
        if let Ok(out) = Command::new(shell).arg("-n").stdin(std::process::Stdio::piped()).spawn().and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().map(|mut i| i.write_all(run.stdout.as_bytes()));
            c.wait_with_output()
        }) {
            assert!(out.status.success(), "{shell} -n rejects the script: {}", String::from_utf8_lossy(&out.stderr));
        }
    }
    assert!(logmon().args(["--completions", "tcsh"]).run().expect_code(2).stderr.contains("--completions"));
}

#[test]
fn bash_completes_an_option_and_a_path() {
    let run = logmon().args(["--completions", "bash"]).run();
    let script = format!(
        "{}\nCOMP_WORDS=(logmon --fol); COMP_CWORD=1; _logmon; echo \"${{COMPREPLY[*]}}\"\n\
         COMP_WORDS=(logmon --metrics Cargo.to); COMP_CWORD=2; _logmon; echo \"${{COMPREPLY[*]}}\"\n",
        run.stdout
    );
    let out = Command::new("bash").arg("-c").arg(script).current_dir(env!("CARGO_MANIFEST_DIR")).output();
    let out = out.unwrap_or_else(|e| panic!("bash: {e}"));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "--follow\nCargo.toml\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn script(path: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts").join(path)
}

#[test]
fn the_example_rules_pass_promtool_and_name_real_metrics() {
    let rules = script("prometheus/logmon.rules.yml");
    if let Some((ok, said)) = promtool(&["check", "rules", &rules.to_string_lossy()], None) {
        assert!(ok, "promtool check rules: {said}");
    }
    if let Some((ok, said)) =
        promtool(&["test", "rules", &script("prometheus/logmon.rules.test.yml").to_string_lossy()], None)
    {
        assert!(ok, "promtool test rules: {said}");
    }
    // Every logmon metric the rules use is one logmon writes.
    let dir = TempDir::new("rules-metrics");
    let file = dir.path("logmon.prom");
    logmon().arg("--metrics").arg(&file).arg(data("exercise_sample.csv")).run().expect_success();
    let written = series(&fs::read_to_string(&file).expect("the metrics file"));
    let text = fs::read_to_string(&rules).expect("the rules");
    let used: std::collections::BTreeSet<&str> =
        text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).filter(|w| w.starts_with("logmon_")).collect();
    assert!(used.len() >= 3, "{used:?}");
    for name in used {
        assert!(written.keys().any(|k| k.split('{').next() == Some(name)), "{name} is not in logmon's file");
    }
}

#[test]
fn the_systemd_unit_is_hardened_and_verifies() {
    let unit = fs::read_to_string(script("systemd/logmon.service")).expect("the unit");
    for line in [
        "ExecStart=/usr/local/bin/logmon --follow ",
        "DynamicUser=yes",
        "SupplementaryGroups=adm",
        "ProtectSystem=strict",
        "ReadOnlyPaths=/var/log/nginx",
        "Restart=on-failure",
    ] {
        assert!(unit.lines().any(|l| l.starts_with(line)), "no {line:?} in the unit");
    }
    assert!(unit.contains(" --metrics "), "the unit writes metrics");
    // Verified with this build in the binary's place, since verify wants it.
    let dir = TempDir::new("unit");
    let copy = dir.path("logmon.service");
    fs::write(&copy, unit.replace("/usr/local/bin/logmon", crate::util::BIN)).expect("a copy");
    match Command::new("systemd-analyze").args(["verify", "--man=no"]).arg(&copy).output() {
        Ok(out) => assert!(
            out.status.success() && out.stderr.is_empty(),
            "systemd-analyze verify: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(_) => eprintln!("systemd-analyze is not installed: the unit is not verified"),
    }
}

#[test]
fn install_puts_the_unit_and_completions_where_asked() {
    let dir = TempDir::new("install");
    let out = Command::new("bash")
        .arg(script("install"))
        .args(["--completions", "--systemd", "/usr"])
        .env("DESTDIR", dir.path(""))
        .env("LOGMON_BINARY", crate::util::BIN)
        .output()
        .expect("bash runs");
    assert!(out.status.success(), "scripts/install: {}", String::from_utf8_lossy(&out.stderr));
    for file in [
        "usr/bin/logmon",
        "usr/share/man/man1/logmon.1",
        "usr/share/bash-completion/completions/logmon",
        "usr/share/zsh/site-functions/_logmon",
        "usr/share/fish/vendor_completions.d/logmon.fish",
    ] {
        assert!(dir.path(file).is_file(), "{file} not installed");
    }
    let unit = fs::read_to_string(dir.path("etc/systemd/system/logmon.service")).expect("the unit installed");
    assert!(unit.contains("\nExecStart=/usr/bin/logmon --follow"), "ExecStart follows the prefix");
    let bash = fs::read_to_string(dir.path("usr/share/bash-completion/completions/logmon")).expect("bash completion");
    assert!(bash.contains("complete -o filenames -F _logmon logmon"));
}

#[test]
fn a_format_with_response_times_gets_a_duration_histogram() {
    let dir = TempDir::new("metrics-durations");
    let file = dir.path("logmon.prom");
    // Detected, the first line goes alone (the format is said at it); given,
    // every line goes in blocks, whose sink must still tell the metrics.
    for format in ["auto", "haproxy"] {
        let run = logmon()
            .args(["-s", "-o", "json", "--log-format", format, "--metrics"])
            .arg(&file)
            .arg(data("haproxy.log"))
            .run();
        run.expect_success();
        let text = fs::read_to_string(&file).unwrap_or_else(|e| panic!("{e}{run}"));
        let m = series(&text);
        // Every HAProxy line logs its total time (173 ms in the first).
        let hits = run.summary().int("hits");
        assert!(hits > 0, "{run}");
        assert_eq!(m["logmon_request_duration_seconds_count"] as u64, hits, "{format}: {text}");
        assert_eq!(m["logmon_request_duration_seconds_bucket{le=\"+Inf\"}"] as u64, hits, "{format}: {text}");
        assert_eq!(m["logmon_request_duration_seconds_bucket{le=\"0.1\"}"], 0.0, "{format}: {text}");
        if let Some((ok, said)) = promtool(&["check", "metrics"], Some(&file)) {
            assert!(ok, "promtool check metrics: {said}\n{text}");
        }
    }
    // The exercise's CSV logs no response time: no histogram at all.
    logmon().arg("--metrics").arg(&file).arg(data("exercise_sample.csv")).run().expect_success();
    assert!(!fs::read_to_string(&file).expect("the file").contains("duration"));
}
