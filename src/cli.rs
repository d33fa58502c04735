//! The command line: `parse_args` turns arguments into a [`Command`].

use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::completions::Shell;
use crate::diag;
use crate::engine::alert::Threshold;
use crate::engine::format::preset::Preset;
use crate::engine::format::{self, CompileError, Pattern};
use crate::engine::parse::LogFormat;
use crate::engine::rule::{Rule, RuleError};
use crate::engine::topk::TRACKED;
use crate::engine::{Clock, Config, MAX_DELAY};
use crate::error::Error;
use crate::output::escape::{Name, Terminal};
use crate::output::{Format, Verbosity};

/// Rules `--alert` takes: each costs 16 bytes per second of its window.
pub const MAX_RULES: usize = 16;

pub const VERSION: &str = concat!("logmon ", env!("CARGO_PKG_VERSION"));

pub const HELP: &str = "\
logmon: watch an HTTP access log; report traffic every 10 s and alert
when the average request rate over 2 minutes exceeds a threshold.

Usage: tail -F access.log | logmon [OPTIONS]
       logmon [OPTIONS] --follow access.log
       logmon [OPTIONS] [--replay] [FILE...]

Input:
  FILE...                   logs, plain or gzip, replayed oldest first;
                            - is stdin
  -f, --follow PATH         follow PATH like tail -F, across rotations;
                            repeat for several files (-f a.log -f b.log)
      --from-start          with --follow: first read what PATH holds
  -r, --replay              use the log's timestamps as the clock
      --log-format FORMAT   auto, common, combined, csv, json, w3c,
                            vhost_combined, traefik, alb, elb, haproxy,
                            envoy, s3 or squid (list shows an example of
                            each), or a format string:
                            nginx:'$remote_addr ...' (log_format) or
                            apache:'%h %l ...' (LogFormat) [default: auto]
      --check-interval DUR  how often --follow checks PATH [default: 250ms]

The clock: --follow and a pipe or terminal on stdin are live (the wall
clock closes seconds); regular files, given or on stdin, are replayed at
full speed on the log's own clock. --replay forces replay.

Alerts and reports:
  -t, --threshold RATE      alert above RATE req/s on average [default: 10]
  -w, --window DUR          alert averaging window [default: 2m]
  -i, --interval DUR        report every DUR [default: 10s]
      --max-delay DUR       wait for out-of-order lines [default: 2s]
  -n, --top N               sections listed per report [default: 5]
      --alert RULE          alert when RULE holds (repeatable, up to 16);
                            replaces the rate rule unless -t is given too

Rules: METRIC OP VALUE [over DUR] [for DUR] [min N] [in SECTION]
  METRIC  rate, 2xx, 3xx, 4xx, 5xx, errors (the 5xx share), or a
          response time: p50, p90, p95, p99, max
  OP      > or <
  VALUE   10 (req/s), 2/s, 5%, 500ms, 1.5s, 800us
  over: the rule's window [default: --window]; for: how long it must hold
  to trigger; min: hits a share or quantile needs [default: 20]; in: only
  that section's hits. e.g. --alert 'errors > 5% over 5m for 1m'

Output:
  -o, --format FORMAT       text, or json: one object per line [default: text]
  -q, --quiet               alerts and the summary only
  -s, --summary             the final summary only
      --color WHEN          auto, always or never [default: auto]
      --fail-on-alert       exit with status 3 if any alert triggered
      --metrics FILE        keep FILE a Prometheus textfile of the counts
      --exec CMD            run sh -c CMD on each alert and recovery
      --exec-timeout DUR    kill a hook that runs longer [default: 30s]
  -h, --help                print this help
  -V, --version             print the version
      --completions SHELL   print a bash, zsh or fish completion script

Durations: 90 or 90s, 2m, 1h; --check-interval and --exec-timeout also
take 100ms.
Signals: INT or TERM end the run with a last report and the summary (a
second one ends it after the line being written); USR1 prints a report
now; HUP reopens the followed file. Exit status: 0 success, 1 runtime
error, 2 usage error, 3 an alert triggered (with --fail-on-alert), 128+N
signal N cut a replay short or a second signal ended the run. NO_COLOR
disables colour.

Examples:
  tail -F /var/log/nginx/access.log | logmon
  logmon --follow /var/log/nginx/access.log --threshold 50
  logmon -q --fail-on-alert access.log.1 >alerts
  [ $? -eq 3 ] && mail -s logmon ops <alerts   # 3: an alert triggered
  logmon -o json access.log | jq -c 'select(.type == \"alert\")'
";

#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// Boxed: the options dwarf the other variants.
    Run(Box<Options>),
    Help,
    Version,
    /// `--log-format list`.
    LogFormats,
    /// `--completions SHELL`: print a completion script.
    Completions(Shell),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    pub inputs: Vec<PathBuf>,
    /// Files to follow, in the order given, each once.
    pub follow: Vec<PathBuf>,
    pub from_start: bool,
    pub replay: bool,
    pub check_interval: Duration,
    /// The engine's settings; `clock` is decided later, from the input.
    pub engine: Config,
    pub format: Format,
    pub verbosity: Verbosity,
    pub color: ColorChoice,
    pub fail_on_alert: bool,
    /// `--metrics`: the Prometheus textfile to keep up to date.
    pub metrics: Option<PathBuf>,
    /// `--exec`: the hook's shell command.
    pub exec: Option<String>,
    pub exec_timeout: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            inputs: Vec::new(),
            follow: Vec::new(),
            from_start: false,
            replay: false,
            check_interval: Duration::from_millis(250),
            engine: Config::default(),
            format: Format::Text,
            verbosity: Verbosity::Normal,
            color: ColorChoice::Auto,
            fail_on_alert: false,
            metrics: None,
            exec: None,
            exec_timeout: crate::hooks::DEFAULT_TIMEOUT,
        }
    }
}

pub fn parse_args<I>(args: I) -> Result<Command, Error>
where
    I: IntoIterator,
    I::Item: Into<OsString>,
{
    use lexopt::prelude::*;

    let mut o = Options::default();
    let mut rules: Vec<String> = Vec::new();
    let mut threshold_given = false;
    let mut parser = lexopt::Parser::from_args(args);
    while let Some(arg) = parser.next().map_err(usage)? {
        match arg {
            Short('h') | Long("help") => return Ok(Command::Help),
            Short('V') | Long("version") => return Ok(Command::Version),
            Long("completions") => {
                let value = text(&mut parser, "--completions")?;
                let shell = Shell::parse(&value)
                    .ok_or_else(|| invalid("--completions", value.as_str(), "bash, zsh or fish"))?;
                return Ok(Command::Completions(shell));
            }
            Short('f') | Long("follow") => {
                let path = parser.value().map_err(usage)?;
                if path.is_empty() {
                    return Err(invalid("--follow", "", "a path"));
                }
                let path = PathBuf::from(path);
                if o.follow.contains(&path) {
                    return Err(Error::Usage(format!(
                        "--follow {} given twice: each file is followed once",
                        Name::from(path.as_path())
                    )));
                }
                o.follow.push(path);
            }
            Long("from-start") => o.from_start = true,
            Short('r') | Long("replay") => o.replay = true,
            Long("log-format") => {
                let value = text(&mut parser, "--log-format")?;
                if value == "list" {
                    return Ok(Command::LogFormats);
                }
                o.engine.format = log_format(&value)?;
            }
            Long("check-interval") => {
                let value = text(&mut parser, "--check-interval")?;
                o.check_interval = parse_duration(&value)
                    .filter(|d| (Duration::from_millis(10)..=Duration::from_secs(60)).contains(d))
                    .ok_or_else(|| invalid("--check-interval", value.as_str(), "a duration from 10ms to 60s"))?;
            }
            Short('t') | Long("threshold") => {
                let value = text(&mut parser, "--threshold")?;
                threshold_given = true;
                o.engine.threshold = Threshold::parse(&value)
                    .ok_or_else(|| invalid("--threshold", value.as_str(), "requests per second, e.g. 10 or 2.5"))?;
            }
            Short('w') | Long("window") => o.engine.window = seconds(&mut parser, "--window", 1, 86_400)?,
            Short('i') | Long("interval") => o.engine.interval = seconds(&mut parser, "--interval", 1, 86_400)?,
            Long("max-delay") => o.engine.max_delay = seconds(&mut parser, "--max-delay", 0, MAX_DELAY)?,
            Short('n') | Long("top") => {
                let value = text(&mut parser, "--top")?;
                o.engine.top = value
                    .parse()
                    .ok()
                    .filter(|n| *n <= TRACKED)
                    .ok_or_else(|| invalid("--top", value.as_str(), &format!("a count from 0 to {TRACKED}")))?;
            }
            Short('o') | Long("format") => {
                o.format = match text(&mut parser, "--format")?.as_str() {
                    "text" => Format::Text,
                    "json" => Format::Json,
                    other => return Err(invalid("--format", other, "text or json")),
                }
            }
            Short('q') | Long("quiet") => o.verbosity = Verbosity::Quiet,
            Short('s') | Long("summary") => o.verbosity = Verbosity::Summary,
            Long("color") => {
                o.color = match text(&mut parser, "--color")?.as_str() {
                    "auto" => ColorChoice::Auto,
                    "always" => ColorChoice::Always,
                    "never" => ColorChoice::Never,
                    other => return Err(invalid("--color", other, "auto, always or never")),
                }
            }
            Long("fail-on-alert") => o.fail_on_alert = true,
            Long("alert") => rules.push(text(&mut parser, "--alert")?),
            Long("metrics") => o.metrics = Some(parser.value().map_err(usage)?.into()),
            Long("exec") => o.exec = Some(text(&mut parser, "--exec")?),
            Long("exec-timeout") => {
                let value = text(&mut parser, "--exec-timeout")?;
                o.exec_timeout = parse_duration(&value)
                    .filter(|d| (Duration::from_millis(10)..=Duration::from_secs(86_400)).contains(d))
                    .ok_or_else(|| invalid("--exec-timeout", value.as_str(), "a duration from 10ms to 24h"))?;
            }
            Value(path) => o.inputs.push(path.into()),
            _ => return Err(usage(arg.unexpected())),
        }
    }
    // Parsed last: a rule's default window is --window, wherever it stands.
    if rules.len() > MAX_RULES {
        return Err(Error::Usage(format!("--alert given {} times: at most {MAX_RULES} rules", rules.len())));
    }
    for rule in &rules {
        let parsed = Rule::parse(rule, o.engine.window)
            .map_err(|e| Error::Usage(format!("invalid --alert rule: {}", shown_pointed(&e, rule))))?;
        o.engine.rules.push(parsed);
    }
    o.engine.default_rule = rules.is_empty() || threshold_given;
    if let Some(why) = diag::latency_never_fires(&o.engine.rules, &o.engine.format) {
        return Err(Error::Usage(why));
    }
    if !o.follow.is_empty() && (o.replay || !o.inputs.is_empty()) {
        return Err(Error::Usage("--follow reads only its own PATH: drop --replay and FILE arguments".into()));
    }
    if o.from_start && o.follow.is_empty() {
        return Err(Error::Usage("--from-start needs --follow PATH".into()));
    }
    Ok(Command::Run(Box::new(o)))
}

impl Options {
    /// The engine's settings on the given clock.
    pub fn engine_config(&self, clock: Clock) -> Config {
        Config { clock, ..self.engine.clone() }
    }
}

/// lexopt's message, which quotes the argument as given, escaped.
fn usage(e: lexopt::Error) -> Error {
    Error::Usage(Terminal(e.to_string().as_bytes()).to_string())
}

/// The value is shown escaped: it may hold anything, a terminal's
/// control sequences included.
fn invalid(flag: &str, value: impl Into<Name>, expected: &str) -> Error {
    Error::Usage(format!("invalid value '{}' for {flag}: expected {expected}", value.into()))
}

/// What `--log-format list` prints: each format by name, what writes it,
/// and an example line.
pub fn log_formats() -> String {
    let classic = [
        ("common", "NCSA common", r#"127.0.0.1 - james [09/May/2018:16:00:39 +0000] "GET /report HTTP/1.0" 200 123"#),
        (
            "combined",
            "NCSA combined (nginx, Apache)",
            r#"127.0.0.1 - - [09/May/2018:16:00:39 +0000] "GET /report HTTP/1.0" 200 123 "-" "curl/8.0""#,
        ),
        ("csv", "the exercise's CSV", r#""10.0.0.2","-","apache",1549573860,"GET /api/user HTTP/1.0",200,1234"#),
        (
            "w3c",
            "W3C extended: IIS, CloudFront (columns from #Fields:)",
            "2024-03-12\t15:22:28\tCDG50-P2\t703\t1.2.3.4\tGET\td6rcaj0q1hys9.cloudfront.net\t/testseb\t400\t-\tcurl/7.81.0",
        ),
        (
            "json",
            "JSON lines (Caddy, Traefik, Envoy, Cloudflare, nginx escape=json)",
            r#"{"ts":1549573860.51,"request":{"remote_ip":"::1","method":"GET","host":"example.com","uri":"/a"},"duration":0.0009,"size":10900,"status":200}"#,
        ),
    ];
    let presets = Preset::ALL.iter().rev().map(|p| p.describe()).map(|d| (d.name, d.server, d.example));
    let mut text = String::new();
    for (name, server, example) in classic.into_iter().chain(presets) {
        text.push_str(&format!("{name}: {server}\n    {example}\n"));
    }
    text
}

/// A `--log-format` value: a preset's name, or `nginx:` or `apache:`
/// and a format string, compiled here once.
fn log_format(value: &str) -> Result<LogFormat, Error> {
    let compiled = |result: Result<Pattern, CompileError>| match result {
        Ok(pattern) => Ok(LogFormat::Custom(Arc::new(pattern))),
        // The error quotes the format string: escaped, as any value.
        Err(e) => {
            Err(Error::Usage(format!("invalid format string for --log-format: {}", Terminal(e.to_string().as_bytes()))))
        }
    };
    if let Some(text) = value.strip_prefix("nginx:") {
        return compiled(format::nginx::compile(text));
    }
    if let Some(text) = value.strip_prefix("apache:") {
        return compiled(format::apache::compile(text));
    }
    Ok(match value {
        "auto" => LogFormat::Auto,
        "common" => LogFormat::Common,
        "combined" => LogFormat::Combined,
        "csv" => LogFormat::Csv,
        "json" => LogFormat::Json,
        "w3c" => LogFormat::W3c,
        other => match Preset::by_name(other) {
            Some(preset) => LogFormat::Preset(preset),
            None => {
                return Err(invalid(
                    "--log-format",
                    other,
                    "a preset (logmon --log-format list), nginx:FORMAT-STRING or apache:FORMAT-STRING",
                ));
            }
        },
    })
}

/// A rule error pointed at in the rule as shown: the message and the rule
/// escaped, the caret moved to stay under the offending word.
fn shown_pointed(e: &RuleError, rule: &str) -> String {
    let shown = |s: &str| Terminal(s.as_bytes()).to_string();
    let before = rule.get(..e.at).unwrap_or(rule);
    let word = rule.get(e.at..e.at + e.len).unwrap_or_default();
    let escaped = RuleError { at: shown(before).len(), len: shown(word).len(), message: shown(&e.message) };
    escaped.pointed(&shown(rule))
}

/// The option's value as UTF-8 text.
fn text(parser: &mut lexopt::Parser, flag: &str) -> Result<String, Error> {
    let value = parser.value().map_err(usage)?;
    value.into_string().map_err(|v| invalid(flag, v.as_os_str(), "UTF-8 text"))
}

/// A duration option in whole seconds within `min..=max`.
fn seconds(parser: &mut lexopt::Parser, flag: &str, min: u32, max: u32) -> Result<u32, Error> {
    let value = text(parser, flag)?;
    parse_duration(&value)
        .filter(|d| d.subsec_nanos() == 0)
        .and_then(|d| u32::try_from(d.as_secs()).ok())
        .filter(|s| (min..=max).contains(s))
        .ok_or_else(|| invalid(flag, value.as_str(), &format!("whole seconds from {min}s to {}", max_text(max))))
}

fn max_text(seconds: u32) -> String {
    match seconds {
        86_400 => "24h".into(),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

/// `90`, `90s`, `2m`, `1h`, `250ms`; a bare number is seconds.
pub fn parse_duration(s: &str) -> Option<Duration> {
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (number, unit) = s.split_at(split);
    if number.is_empty() || number.len() > 9 {
        return None;
    }
    let n: u64 = number.parse().ok()?;
    Some(match unit {
        "" | "s" => Duration::from_secs(n),
        "ms" => Duration::from_millis(n),
        "m" => Duration::from_secs(n * 60),
        "h" => Duration::from_secs(n * 3600),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Command, Error> {
        parse_args(args.iter().copied())
    }

    fn options(args: &[&str]) -> Options {
        match parse(args) {
            Ok(Command::Run(o)) => *o,
            other => panic!("{args:?}: {other:?}"),
        }
    }

    fn usage_error(args: &[&str]) -> String {
        match parse(args) {
            Err(Error::Usage(message)) => message,
            other => panic!("{args:?}: {other:?}"),
        }
    }

    #[test]
    fn defaults() {
        let o = options(&[]);
        assert_eq!(o, Options::default());
        assert_eq!(o.engine.window, 120);
        assert_eq!(o.engine.interval, 10);
        assert_eq!(o.engine.threshold, Threshold::per_second(10));
        assert_eq!(o.engine.top, 5);
    }

    #[test]
    fn help_and_version_are_values() {
        assert_eq!(parse(&["--help"]).ok(), Some(Command::Help));
        assert_eq!(parse(&["-h", "--bogus"]).ok(), Some(Command::Help));
        assert_eq!(parse(&["-V"]).ok(), Some(Command::Version));
    }

    #[test]
    fn every_option() {
        let o = options(&[
            "-t",
            "2.5",
            "-w",
            "5m",
            "-i",
            "30s",
            "--max-delay",
            "0",
            "-n",
            "3",
            "-o",
            "json",
            "-q",
            "--color=never",
            "--fail-on-alert",
            "--log-format",
            "csv",
            "-r",
            "a.log",
            "-",
            "b.log",
        ]);
        assert_eq!(o.engine.threshold, Threshold::parse("2.5").expect("valid"));
        assert_eq!((o.engine.window, o.engine.interval, o.engine.max_delay, o.engine.top), (300, 30, 0, 3));
        assert_eq!((o.format, o.verbosity, o.color), (Format::Json, Verbosity::Quiet, ColorChoice::Never));
        assert!(o.fail_on_alert && o.replay);
        assert_eq!(o.engine.format, LogFormat::Csv);
        assert_eq!(o.inputs, [PathBuf::from("a.log"), PathBuf::from("-"), PathBuf::from("b.log")]);

        let o = options(&["--follow", "/var/log/x", "--from-start", "--check-interval", "50ms", "-s"]);
        assert_eq!(o.follow, [PathBuf::from("/var/log/x")]);
        assert!(o.from_start);
        assert_eq!(o.check_interval, Duration::from_millis(50));
        assert_eq!(o.verbosity, Verbosity::Summary);
        let o = options(&["-f", "a.log", "--follow", "b.log"]);
        assert_eq!(o.follow, [PathBuf::from("a.log"), PathBuf::from("b.log")]);
    }

    #[test]
    fn errors_name_the_flag() {
        assert!(usage_error(&["--top", "x"]).contains("--top"));
        assert!(usage_error(&["-n", "-3"]).contains("--top"));
        assert!(usage_error(&["--window", "0"]).contains("--window"));
        assert!(usage_error(&["--window", "1500ms"]).contains("--window"));
        assert!(usage_error(&["--interval", "2d"]).contains("--interval"));
        assert!(usage_error(&["--max-delay", "10m"]).contains("--max-delay"));
        assert!(usage_error(&["--threshold", "-1"]).contains("--threshold"));
        assert!(usage_error(&["--format", "xml"]).contains("--format"));
        assert!(usage_error(&["--color", "sometimes"]).contains("--color"));
        assert!(usage_error(&["--log-format", "xml"]).contains("--log-format"));
        assert!(usage_error(&["--check-interval", "1ms"]).contains("--check-interval"));
        assert!(usage_error(&["--bogus"]).contains("--bogus"));
        assert!(usage_error(&["--follow"]).contains("--follow"));
        assert!(usage_error(&["--follow", ""]).contains("--follow"));
        assert!(usage_error(&["-f", "a.log", "-f", "a.log"]).contains("given twice"));
        assert!(usage_error(&["--quiet=yes"]).contains("--quiet"));
    }

    #[test]
    fn values_are_shown_escaped() {
        assert_eq!(
            usage_error(&["--format", "\x1b[2Jx"]),
            "invalid value '\\x1b[2Jx' for --format: expected text or json"
        );
        assert!(usage_error(&["--window", "1\u{202e}m"]).contains("'1\\xe2\\x80\\xaem'"));
        assert!(usage_error(&["--bogus\x07"]).contains("--bogus\\x07"));
        assert!(usage_error(&["--color=\u{9b}"]).contains("\\xc2\\x9b"));
    }

    #[test]
    fn conflicting_inputs() {
        assert!(usage_error(&["--follow", "a", "b"]).contains("--follow"));
        assert!(usage_error(&["--follow", "a", "--replay"]).contains("--follow"));
        assert!(usage_error(&["--from-start"]).contains("--from-start"));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("90s"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("2m"), Some(Duration::from_secs(120)));
        assert_eq!(parse_duration("1h"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_duration("250ms"), Some(Duration::from_millis(250)));
        for bad in ["", "s", "1.5s", "-1", "1d", "1 s", "9999999999"] {
            assert_eq!(parse_duration(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn alert_rules_replace_the_default_unless_threshold_is_given() {
        let o = options(&["--alert", "errors > 5%", "--alert", "rate < 1 over 5m", "-w", "1m"]);
        let rules: Vec<String> = o.engine.rules.iter().map(|r| r.to_string()).collect();
        assert_eq!(rules, ["errors > 5% over 1m", "rate < 1 over 5m"], "--window applies wherever it stands");
        assert!(!o.engine.default_rule);
        assert!(options(&["--alert", "5xx > 1/s", "-t", "10"]).engine.default_rule);
        assert!(options(&[]).engine.default_rule);
    }

    #[test]
    fn a_bad_rule_points_at_the_word() {
        let message = usage_error(&["--alert", "errors > 5 over 5m"]);
        assert!(message.starts_with("invalid --alert rule: '5'"), "{message}");
        assert!(message.ends_with("  errors > 5 over 5m\n           ^"), "{message}");
        let many: Vec<&str> = (0..=MAX_RULES).flat_map(|_| ["--alert", "rate > 1"]).collect();
        assert!(usage_error(&many).contains("--alert"));
    }

    #[test]
    fn help_fits_80_columns() {
        for line in HELP.lines() {
            assert!(line.chars().count() < 80, "{line:?}");
        }
    }
}
