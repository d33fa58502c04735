//! The text format: every line starts with its time in brackets, so `grep`
//! and `sort` work on it; alerts stand out in colour on a terminal.

use std::io::{self, Write};

use super::escape::Terminal;
use super::{Count, Duration, Stamp, TimeOfDay};
use crate::engine::Event;
use crate::engine::alert::{AlertEvent, AlertRecord, AlertState, Fired};
use crate::engine::rule::{Metric, Op, Rule, Value};
use crate::engine::stats::{Report, Summary};

/// Section names wider than this are not padded to line up.
const NAME_WIDTH: usize = 32;

/// Appends one event's lines.
pub fn event(w: &mut Vec<u8>, event: &Event, color: bool) -> io::Result<()> {
    let paint = Paint(color);
    match event {
        Event::Report(r) => report(w, r, paint),
        Event::Alert(a) => alert(w, a, paint),
        Event::Summary(s) => summary(w, s, paint),
    }
}

#[derive(Clone, Copy)]
struct Paint(bool);

impl Paint {
    fn tag(self, w: &mut impl Write, tag: &str, sgr: &str) -> io::Result<()> {
        if self.0 { write!(w, "\x1b[{sgr}m[{tag}]\x1b[0m") } else { write!(w, "[{tag}]") }
    }
}

const BOLD: &str = "1";
const RED: &str = "1;31";
const GREEN: &str = "1;32";

fn report(w: &mut impl Write, r: &Report, paint: Paint) -> io::Result<()> {
    let at = Stamp(r.end);
    write!(w, "[{at}] ")?;
    paint.tag(w, "REPORT", BOLD)?;
    let so_far = if r.requested { ", so far" } else { "" };
    write!(w, " {}-{} ({}{so_far})", Since(r), TimeOfDay(r.end), Duration(r.seconds()))?;
    if r.hits == 0 && r.malformed == 0 {
        writeln!(w, ": no traffic")?;
        return alerts(w, r, &at);
    }
    writeln!(w, ": {}, {:.2} req/s, {}", Count(r.hits, "hit"), r.rate(), Bytes(r.bytes))?;

    write!(w, "[{at}]   status    ")?;
    if r.unknown_status > 0 {
        write!(w, "unknown {}  ", r.unknown_status)?;
    }
    if r.status[0] > 0 {
        write!(w, "1xx {}  ", r.status[0])?;
    }
    writeln!(
        w,
        "2xx {}  3xx {}  4xx {}  5xx {}  (success {}, errors {})",
        r.status[1],
        r.status[2],
        r.status[3],
        r.status[4],
        r.successes(),
        r.errors()
    )?;

    let names: Vec<String> = r.sections.iter().map(|s| Terminal(&s.section).to_string()).collect();
    let name_width = names.iter().map(|n| n.chars().count()).max().unwrap_or(0).min(NAME_WIDTH);
    let hits_width = r.sections.first().map_or(1, |s| s.hits.to_string().len());
    let label = if r.sections_approximate { "sections~ " } else { "sections  " };
    for (i, (name, s)) in names.iter().zip(&r.sections).enumerate() {
        let label = if i == 0 { label } else { "          " };
        let share = 100.0 * s.hits as f64 / r.hits.max(1) as f64;
        writeln!(w, "[{at}]   {label}{name:<name_width$}  {:>hits_width$}  {share:5.1}%", s.hits)?;
    }

    write!(w, "[{at}]   lines     late {}, malformed {}", r.late, r.malformed)?;
    if r.early > 0 {
        write!(w, ", early {}", r.early)?;
    }
    if r.no_section > 0 {
        write!(w, ", without path {}", r.no_section)?;
    }
    writeln!(w)?;
    alerts(w, r, &at)
}

/// The closing lines of a report: the active alert and the recent ones.
fn alerts(w: &mut impl Write, r: &Report, at: &Stamp) -> io::Result<()> {
    if let Some(active) = &r.alert {
        writeln!(
            w,
            "[{at}]   alert     #{} active since {} ({})",
            active.id,
            Stamp(active.triggered),
            Duration(r.end - active.triggered)
        )?;
    }
    if !r.history.is_empty() {
        write!(w, "[{at}]   history  ")?;
        if r.alerts > r.history.len() as u64 {
            write!(w, " ({} earlier)", r.alerts - r.history.len() as u64)?;
        }
        for record in &r.history {
            write!(w, " {}", History(record))?;
        }
        writeln!(w)?;
    }
    Ok(())
}

/// A report's start: the time of day, with the date too when the report
/// began on an earlier day than it ends (a long quiet stretch).
struct Since<'a>(&'a Report);

impl std::fmt::Display for Since<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (start, end) = (self.0.start, self.0.end);
        if start.div_euclid(86_400) == (end - 1).div_euclid(86_400) {
            write!(f, "{}", TimeOfDay(start))
        } else {
            let stamp = Stamp(start).to_string();
            f.write_str(stamp.strip_suffix("+00:00").unwrap_or(&stamp))
        }
    }
}

struct History<'a>(&'a AlertRecord);

impl std::fmt::Display for History<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let a = self.0;
        match a.recovered {
            Some(end) => {
                write!(f, "#{} {}-{} ({})", a.id, TimeOfDay(a.triggered), TimeOfDay(end), Duration(end - a.triggered))
            }
            None => write!(f, "#{} {}- (active)", a.id, TimeOfDay(a.triggered)),
        }
    }
}

fn alert(w: &mut impl Write, a: &AlertEvent, paint: Paint) -> io::Result<()> {
    let at = Stamp(a.at);
    write!(w, "[{at}] ")?;
    if let Some(fired) = &a.rule {
        return rule_alert(w, a, fired, paint);
    }
    let rate = Centis::ratio(a.hits, u64::from(a.window));
    match a.state {
        AlertState::Triggered => {
            paint.tag(w, "ALERT", RED)?;
            writeln!(w, " High traffic generated an alert - hits = {rate}, triggered at {at}")
        }
        AlertState::Recovered => {
            paint.tag(w, "RECOVERED", GREEN)?;
            writeln!(
                w,
                " Traffic back to normal - hits = {rate}, recovered at {at} (alert #{} triggered at {}, lasted {})",
                a.id,
                Stamp(a.triggered),
                Duration(a.at - a.triggered)
            )
        }
    }
}

/// An `--alert` rule's transition: the rule, what its window measured, when.
/// A rule as given on the command line, escaped: its section may hold
/// anything.
struct Shown<'a>(&'a Rule);

impl std::fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        Terminal(self.0.to_string().as_bytes()).fmt(f)
    }
}

fn rule_alert(w: &mut impl Write, a: &AlertEvent, fired: &Fired, paint: Paint) -> io::Result<()> {
    let at = Stamp(a.at);
    let measured = Measured(a, fired);
    match a.state {
        AlertState::Triggered => {
            paint.tag(w, "ALERT", RED)?;
            writeln!(w, " #{} {}: {measured}, triggered at {at}", a.id, Shown(&fired.rule))
        }
        AlertState::Recovered => {
            paint.tag(w, "RECOVERED", GREEN)?;
            writeln!(
                w,
                " #{} {}: {measured}, recovered at {at} (triggered at {}, lasted {})",
                a.id,
                Shown(&fired.rule),
                Stamp(a.triggered),
                Duration(a.at - a.triggered)
            )
        }
    }
}

/// What a rule's window held: `7.2% (41 of 570 hits)`, `0.12 req/s (15
/// hits)`, `41 of 570 timed hits above 500ms`.
struct Measured<'a>(&'a AlertEvent, &'a Fired);

impl std::fmt::Display for Measured<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (a, Fired { rule, matched }) = (self.0, self.1);
        match (rule.metric, rule.value) {
            (Metric::Latency(_), Value::Micros(_)) => {
                let side = if rule.op == Op::Above { "above" } else { "under" };
                write!(f, "{matched} of {} timed hits {side} {}", a.hits, rule.value)
            }
            (Metric::Rate, _) => write!(f, "{} req/s ({matched} hits)", Centis::ratio(*matched, u64::from(a.window))),
            (_, Value::Rate(_)) => {
                write!(f, "{} req/s ({matched} of {} hits)", Centis::ratio(*matched, u64::from(a.window)), a.hits)
            }
            _ => write!(f, "{}% ({matched} of {} hits)", Tenths::ratio(*matched * 100, a.hits), a.hits),
        }
    }
}

fn summary(w: &mut impl Write, s: &Summary, paint: Paint) -> io::Result<()> {
    match s.time {
        Some(t) => write!(w, "[{}] ", Stamp(t))?,
        None => write!(w, "[no log time] ")?,
    }
    paint.tag(w, "SUMMARY", BOLD)?;
    write!(w, " {}: {}, {} malformed, {} late", Count(s.lines, "line"), Count(s.hits, "hit"), s.malformed, s.late)?;
    if s.early > 0 {
        write!(w, ", {} early", s.early)?;
    }
    if s.skipped > 0 {
        write!(w, ", {} skipped", s.skipped)?;
    }
    write!(w, "; {}", Count(s.alerts, "alert"))?;
    if let Some(active) = &s.alert {
        write!(w, " (#{} active)", active.id)?;
    }
    if let (Some(first), Some(last)) = (s.first, s.last) {
        write!(w, "; log time {} to {}", Stamp(first), Stamp(last))?;
    }
    writeln!(w)
}

/// A ratio shown with two decimals, rounded half up in integers so that the
/// figure never depends on floating point.
struct Centis(u128);

impl Centis {
    fn ratio(n: u64, d: u64) -> Centis {
        let d = u128::from(d.max(1));
        Centis((u128::from(n) * 200 + d) / (2 * d))
    }
}

impl std::fmt::Display for Centis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

/// A ratio shown with one decimal, rounded half up in integers.
struct Tenths(u128);

impl Tenths {
    fn ratio(n: u64, d: u64) -> Tenths {
        let d = u128::from(d.max(1));
        Tenths((u128::from(n) * 20 + d) / (2 * d))
    }
}

impl std::fmt::Display for Tenths {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.0 / 10, self.0 % 10)
    }
}

/// Byte counts in binary units.
pub struct Bytes(pub u64);

impl std::fmt::Display for Bytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
        if self.0 < 1024 {
            return write!(f, "{} B", self.0);
        }
        let mut value = self.0 as f64 / 1024.0;
        let mut unit = 0;
        while value >= 1024.0 && unit < UNITS.len() - 1 {
            value /= 1024.0;
            unit += 1;
        }
        write!(f, "{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_decimal_rates_round_half_up() {
        assert_eq!(Centis::ratio(1206, 120).to_string(), "10.05");
        assert_eq!(Centis::ratio(1198, 120).to_string(), "9.98");
        assert_eq!(Centis::ratio(1, 8).to_string(), "0.13");
        assert_eq!(Centis::ratio(0, 120).to_string(), "0.00");
        assert_eq!(Centis::ratio(u64::MAX, 1).to_string(), format!("{}.00", u64::MAX));
    }

    #[test]
    fn byte_units() {
        assert_eq!(Bytes(0).to_string(), "0 B");
        assert_eq!(Bytes(1023).to_string(), "1023 B");
        assert_eq!(Bytes(1536).to_string(), "1.5 KiB");
        assert_eq!(Bytes(5 << 30).to_string(), "5.0 GiB");
        assert_eq!(Bytes(u64::MAX).to_string(), "16.0 EiB");
    }
}
