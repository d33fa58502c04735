//! `--metrics FILE`: the run's counters in the Prometheus text exposition
//! format (version 0.0.4), for node_exporter's textfile collector. The file
//! is rewritten whole, live at each report, alert and at the end, in replay
//! at the end only (a collector reads the file while logmon runs live; a
//! replay rewriting it at every event only spent its time): written beside
//! it under a name the collector ignores, then renamed over it, so a reader
//! sees the old file or the new one, never half of one.
//!
//! Labels have bounded cardinality by construction: fixed outcome and status
//! class names, and one value per alert rule, which come from the command
//! line. Sections are not exported: their number is unbounded, and a top-N
//! that changes at every report would make short-lived series.

use std::fs;
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use super::escape::{Name, prometheus_label};
use super::json;
use crate::diag;
use crate::engine::alert::{AlertEvent, AlertState, Threshold};
use crate::engine::rule::Rule;
use crate::engine::stats::{Report, StatusClasses, Summary};
use crate::engine::timestamp::Epoch;
use crate::engine::{Clock, Config, Event, Outcome};
use crate::error::{Error, OsMessage};

/// The text the default rule is known by in `logmon_alert_active{rule=...}`
/// and in a hook's `LOGMON_RULE`: the normalised rule, as `-o json` says it.
pub fn default_rule(threshold: Threshold, window: u32) -> String {
    Rule::rate_above(threshold, window).to_string()
}

/// Every rule's text, so that each has its series before it first fires.
fn rule_names(config: &Config) -> Vec<String> {
    let default = config.default_rule.then(|| default_rule(config.threshold, config.window));
    default.into_iter().chain(config.rules.iter().map(Rule::to_string)).collect()
}

/// Everything the file says, counted since the start of the run.
#[derive(Debug, Default, Clone, PartialEq)]
struct Counts {
    /// Every hit, late and early ones included.
    hits: u64,
    late: u64,
    early: u64,
    malformed: u64,
    skipped: u64,
    status: StatusClasses,
    unknown_status: u64,
    bytes: u64,
    /// The newest hit's own timestamp.
    last_line: Option<Epoch>,
    /// The alert window's average, once the clock runs.
    window_rate: Option<f64>,
    durations: Durations,
}

/// Upper bounds of the response-time buckets, in microseconds, and as the
/// `le` label says them in seconds: the usual bounds for HTTP latency.
const BUCKETS: [(u64, &str); 11] = [
    (5_000, "0.005"),
    (10_000, "0.01"),
    (25_000, "0.025"),
    (50_000, "0.05"),
    (100_000, "0.1"),
    (250_000, "0.25"),
    (500_000, "0.5"),
    (1_000_000, "1"),
    (2_500_000, "2.5"),
    (5_000_000, "5"),
    (10_000_000, "10"),
];

/// The response times of the hits that log one: a fixed-size histogram.
#[derive(Debug, Default, Clone, PartialEq)]
struct Durations {
    /// Hits per bucket (not cumulative); the last is above every bound.
    buckets: [u64; BUCKETS.len() + 1],
    count: u64,
    sum_us: u64,
}

impl Durations {
    #[inline]
    fn observe(&mut self, us: u64) {
        let i = BUCKETS.iter().position(|&(bound, _)| us <= bound).unwrap_or(BUCKETS.len());
        self.buckets[i] += 1;
        self.count += 1;
        // A hostile log must not overflow the sum.
        self.sum_us = self.sum_us.saturating_add(us);
    }

    fn render(&self, out: &mut Vec<u8>) -> io::Result<()> {
        family(out, "request_duration_seconds", "histogram", "Response times of the hits that log one.")?;
        let mut cumulative = 0;
        for (&(_, le), n) in BUCKETS.iter().zip(self.buckets) {
            cumulative += n;
            writeln!(out, "logmon_request_duration_seconds_bucket{{le=\"{le}\"}} {cumulative}")?;
        }
        writeln!(out, "logmon_request_duration_seconds_bucket{{le=\"+Inf\"}} {}", self.count)?;
        writeln!(out, "logmon_request_duration_seconds_sum {}", self.sum_us as f64 / 1e6)?;
        writeln!(out, "logmon_request_duration_seconds_count {}", self.count)
    }
}

/// One alert rule's state.
#[derive(Debug, Clone, PartialEq)]
struct RuleState {
    name: String,
    active: bool,
    triggered: u64,
}

pub struct MetricsFile {
    path: PathBuf,
    /// The path as diagnostics show it.
    name: Name,
    temp: PathBuf,
    counts: Counts,
    rules: Vec<RuleState>,
    /// The alert window, seconds.
    window: u32,
    /// Live (wall clock): rewritten at every event; in replay at the end only.
    live: bool,
    buf: Vec<u8>,
    /// The last write failed: said once, not at every report.
    failing: bool,
}

impl MetricsFile {
    /// Writes the file once with zero counts, so that a path that cannot be
    /// written fails the run before it starts rather than at its first report.
    pub fn create(path: &Path, config: &Config) -> Result<MetricsFile, Error> {
        let name =
            path.file_name().ok_or_else(|| Error::Usage(format!("--metrics {}: not a file name", Name::from(path))))?;
        let mut temp_name = std::ffi::OsString::from(".");
        temp_name.push(name);
        temp_name.push(".tmp");
        let mut file = MetricsFile {
            path: path.to_owned(),
            name: Name::from([b"--metrics ", path.as_os_str().as_bytes()].concat().as_slice()),
            temp: path.with_file_name(temp_name),
            counts: Counts::default(),
            rules: rule_names(config).into_iter().map(|name| RuleState { name, active: false, triggered: 0 }).collect(),
            window: config.window,
            live: config.clock == Clock::Wall,
            buf: Vec::with_capacity(4096),
            failing: false,
        };
        match file.write() {
            Ok(()) => Ok(file),
            Err(e) => Err(Error::Input { name: file.name, source: e }),
        }
    }

    /// What became of one line: only what no event says is taken from it.
    #[inline]
    pub fn line(&mut self, outcome: &Outcome) {
        match *outcome {
            Outcome::Hit { time, latency_us, .. } => {
                self.counts.last_line = Some(self.counts.last_line.map_or(time, |t| t.max(time)));
                if let Some(us) = latency_us {
                    self.counts.durations.observe(us);
                }
            }
            Outcome::Skipped => self.counts.skipped += 1,
            Outcome::Malformed(_) => {}
        }
    }

    /// Takes in one event, and the hits in the alert window now if there is
    /// one, and rewrites the file (in replay: at the summary only). A failed
    /// write is said on stderr and the run goes on: the next report tries
    /// again.
    pub fn event(&mut self, event: &Event, window_hits: Option<u64>) {
        // Once the run is finished the engine has no window: keep the last.
        if let Some(hits) = window_hits {
            self.counts.window_rate = Some(hits as f64 / f64::from(self.window.max(1)));
        }
        match event {
            Event::Report(r) => self.report(r),
            Event::Alert(a) => self.alert(a),
            Event::Summary(s) => self.summary(s),
        }
        if !self.live && !matches!(event, Event::Summary(_)) {
            return;
        }
        match self.write() {
            Ok(()) if self.failing => {
                self.failing = false;
                diag::say(format_args!("{}: metrics written again", self.name));
            }
            Ok(()) => {}
            Err(e) if !self.failing => {
                self.failing = true;
                diag::say(format_args!("{}: {}", self.name, OsMessage(&e)));
            }
            Err(_) => {}
        }
    }

    fn report(&mut self, r: &Report) {
        // A requested report counts lines its scheduled one will count again.
        if r.requested {
            return;
        }
        let c = &mut self.counts;
        c.hits += r.hits;
        c.late += r.late;
        c.early += r.early;
        c.malformed += r.malformed;
        c.bytes = c.bytes.saturating_add(r.bytes);
        c.unknown_status += r.unknown_status;
        for (total, n) in c.status.iter_mut().zip(r.status) {
            *total += n;
        }
    }

    fn alert(&mut self, a: &AlertEvent) {
        let name = json::rule_of(a).0.to_string();
        let index = match self.rules.iter().position(|r| r.name == name) {
            Some(i) => i,
            None => {
                self.rules.push(RuleState { name, active: false, triggered: 0 });
                self.rules.len() - 1
            }
        };
        let rule = &mut self.rules[index];
        rule.active = a.state == AlertState::Triggered;
        if rule.active {
            rule.triggered += 1;
        }
    }

    /// The summary's line counts are the run's own: they replace the sums.
    fn summary(&mut self, s: &Summary) {
        let c = &mut self.counts;
        (c.hits, c.late, c.early, c.malformed, c.skipped) = (s.hits, s.late, s.early, s.malformed, s.skipped);
        if s.last.is_some() {
            c.last_line = s.last;
        }
    }

    fn write(&mut self) -> io::Result<()> {
        self.buf.clear();
        render(&mut self.buf, &self.counts, &self.rules)?;
        fs::write(&self.temp, &self.buf)?;
        fs::rename(&self.temp, &self.path).inspect_err(|_| {
            let _ = fs::remove_file(&self.temp);
        })
    }
}

/// The exposition text. Writing to a `Vec` cannot fail.
fn render(out: &mut Vec<u8>, c: &Counts, rules: &[RuleState]) -> io::Result<()> {
    family(out, "lines_total", "counter", "Log lines read, by outcome; hit is a hit counted in its own second.")?;
    let on_time = c.hits.saturating_sub(c.late + c.early);
    for (outcome, n) in
        [("hit", on_time), ("late", c.late), ("early", c.early), ("malformed", c.malformed), ("skipped", c.skipped)]
    {
        writeln!(out, "logmon_lines_total{{outcome=\"{outcome}\"}} {n}")?;
    }
    family(out, "requests_total", "counter", "Hits, by HTTP status class; unknown is a status logged as -.")?;
    let classes = ["1xx", "2xx", "3xx", "4xx", "5xx"].into_iter().zip(c.status);
    for (class, n) in classes.chain([("unknown", c.unknown_status)]) {
        writeln!(out, "logmon_requests_total{{status_class=\"{class}\"}} {n}")?;
    }
    family(out, "response_bytes_total", "counter", "Response bytes of the hits, as logged.")?;
    writeln!(out, "logmon_response_bytes_total {}", c.bytes)?;
    if let Some(rate) = c.window_rate {
        family(out, "window_requests_per_second", "gauge", "Average requests per second over the alert window.")?;
        writeln!(out, "logmon_window_requests_per_second {rate}")?;
    }
    family(out, "alert_active", "gauge", "1 while the rule's alert is in force, else 0.")?;
    for r in rules {
        labelled(out, "alert_active", &r.name)?;
        writeln!(out, " {}", u8::from(r.active))?;
    }
    family(out, "alerts_total", "counter", "Alerts triggered, by rule.")?;
    for r in rules {
        labelled(out, "alerts_total", &r.name)?;
        writeln!(out, " {}", r.triggered)?;
    }
    // Only when the format logs response times: an empty histogram would
    // say "no request took any time" of a log that cannot tell.
    if c.durations.count > 0 {
        c.durations.render(out)?;
    }
    if let Some(t) = c.last_line {
        family(out, "last_line_timestamp_seconds", "gauge", "The newest hit's own timestamp, as logged.")?;
        writeln!(out, "logmon_last_line_timestamp_seconds {t}")?;
    }
    Ok(())
}

fn family(out: &mut Vec<u8>, name: &str, kind: &str, help: &str) -> io::Result<()> {
    writeln!(out, "# HELP logmon_{name} {help}\n# TYPE logmon_{name} {kind}")
}

fn labelled(out: &mut Vec<u8>, name: &str, rule: &str) -> io::Result<()> {
    write!(out, "logmon_{name}{{rule=")?;
    prometheus_label(out, rule);
    out.push(b'}');
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(c: &Counts, rules: &[RuleState]) -> String {
        let mut out = Vec::new();
        render(&mut out, c, rules).expect("a Vec takes any write");
        String::from_utf8(out).expect("UTF-8")
    }

    fn read(path: &Path) -> String {
        fs::read_to_string(path).expect("the metrics file")
    }

    #[test]
    fn replay_writes_the_file_at_the_end_only_and_live_at_every_event() {
        let dir = std::env::temp_dir().join(format!("logmon-metrics-unit-{}", std::process::id()));
        fs::create_dir_all(&dir).expect("a temporary directory");
        for clock in [Clock::Log, Clock::Wall] {
            let path = dir.join(format!("{clock:?}.prom"));
            // The engine replays; the file is told which run it serves.
            let mut file = MetricsFile::create(&path, &Config { clock, ..Config::default() }).expect("a writable file");
            let mut engine = crate::engine::Engine::new(Config { interval: 1, ..Config::default() });
            let mut reports = 0;
            for second in 0..5 {
                let line = format!("\"10.0.0.1\",\"-\",\"-\",{},\"GET /a HTTP/1.0\",200,10", 1_549_573_860 + second);
                engine.handle_line(line.as_bytes());
                while let Some(event) = engine.poll_event() {
                    reports += 1;
                    file.event(&event, None);
                }
            }
            assert!(reports > 0, "the test needs reports");
            let before_end = read(&path);
            assert_eq!(before_end.contains("outcome=\"hit\"} 0\n"), clock == Clock::Log, "{clock:?}: {before_end}");
            engine.finish(None);
            while let Some(event) = engine.poll_event() {
                file.event(&event, None);
            }
            assert!(!read(&path).contains("outcome=\"hit\"} 0\n"), "{clock:?}: {}", read(&path));
        }
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn lines_partition_the_input() {
        let c = Counts { hits: 10, late: 2, early: 1, malformed: 3, skipped: 1, ..Counts::default() };
        let t = text(&c, &[]);
        assert!(t.contains("logmon_lines_total{outcome=\"hit\"} 7\n"), "{t}");
        assert!(t.contains("logmon_lines_total{outcome=\"late\"} 2\n"), "{t}");
        assert!(t.contains("logmon_lines_total{outcome=\"skipped\"} 1\n"), "{t}");
        assert!(!t.contains("last_line"), "no hit, no timestamp: {t}");
    }

    #[test]
    fn durations_are_a_cumulative_histogram() {
        let mut c = Counts::default();
        assert!(!text(&c, &[]).contains("duration"), "no response time, no histogram");
        for us in [0, 5_000, 5_001, 2_000_000, 60_000_000] {
            c.durations.observe(us);
        }
        let t = text(&c, &[]);
        assert!(t.contains("# TYPE logmon_request_duration_seconds histogram\n"), "{t}");
        assert!(t.contains("_bucket{le=\"0.005\"} 2\n"), "{t}");
        assert!(t.contains("_bucket{le=\"0.01\"} 3\n"), "{t}");
        assert!(t.contains("_bucket{le=\"2.5\"} 4\n"), "{t}");
        assert!(t.contains("_bucket{le=\"10\"} 4\n"), "{t}");
        assert!(t.contains("_bucket{le=\"+Inf\"} 5\n"), "{t}");
        assert!(t.contains("logmon_request_duration_seconds_sum 62.010001\n"), "{t}");
        assert!(t.contains("logmon_request_duration_seconds_count 5\n"), "{t}");
    }

    #[test]
    fn rules_are_escaped_labels() {
        let rules = [RuleState { name: "rate > 10 \"x\"".into(), active: true, triggered: 2 }];
        let t = text(&Counts::default(), &rules);
        assert!(t.contains("logmon_alert_active{rule=\"rate > 10 \\\"x\\\"\"} 1\n"), "{t}");
        assert!(t.contains("logmon_alerts_total{rule=\"rate > 10 \\\"x\\\"\"} 2\n"), "{t}");
    }

    #[test]
    fn every_family_has_help_and_type() {
        let c = Counts { last_line: Some(5), window_rate: Some(10.05), ..Counts::default() };
        let t =
            text(&c, &[RuleState { name: default_rule(Threshold::per_second(10), 120), active: false, triggered: 0 }]);
        let names: Vec<&str> = t.lines().filter_map(|l| l.strip_prefix("# TYPE ")).collect();
        assert_eq!(names.len(), 7, "{t}");
        assert!(t.contains("\nlogmon_window_requests_per_second 10.05\n"), "{t}");
        for line in t.lines().filter(|l| l.starts_with("# TYPE")) {
            let name = line.split(' ').nth(2).expect("a name");
            assert!(t.contains(&format!("# HELP {name} ")), "{name}");
        }
        assert!(t.contains("{rule=\"rate > 10 over 2m\"} 0\n"), "{t}");
    }
}
