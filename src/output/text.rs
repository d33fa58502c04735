//! The text format: every line starts with its time in brackets, so `grep`
//! and `sort` work on it; alerts stand out in colour on a terminal.

use std::cmp::Ordering;
use std::io::{self, Write};

use super::escape::{Shown, Terminal};
use super::{Count, Duration, Stamp, TimeOfDay, decimal_width, push_decimal, push_fixed};
use crate::engine::Event;
use crate::engine::alert::{AlertEvent, AlertRecord, AlertState, Fired, InForce};
use crate::engine::histogram::Latency;
use crate::engine::rule::{Measure, Op, Span, Value};
use crate::engine::stats::{CodeHits, Report, StatusClasses, Summary};
use crate::engine::timestamp::Epoch;
use crate::engine::topk::KeyHits;

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

/// The lines under a report or the summary fit this many columns: lists
/// of codes, clients and past alerts are cut to fit, and what must be said
/// whole (status classes, response times, a rule) goes on under its label.
const COLUMNS: usize = 80;

fn report(w: &mut Vec<u8>, r: &Report, paint: Paint) -> io::Result<()> {
    let at = format!("[{}]", Stamp(r.end));
    write!(w, "{at} ")?;
    paint.tag(w, "REPORT", BOLD)?;
    if r.hits == 0 && r.malformed == 0 {
        quiet(w, r, &at)?;
        return alerts(w, r, &at);
    }
    // The seconds up to the line's time.
    let so_far = if r.requested { " so far" } else { "" };
    write!(w, " {}{so_far}: {}, ", Duration(r.seconds()), Count(r.hits, "hit"))?;
    push_fixed(w, r.rate(), 2, 0);
    writeln!(w, " req/s, {}", Bytes(r.bytes))?;
    breakdown(
        w,
        &at,
        &Breakdown {
            hits: r.hits,
            status: &r.status,
            unknown_status: r.unknown_status,
            codes: &r.codes,
            sections: &r.sections,
            sections_approximate: r.sections_approximate,
            clients: &r.clients,
            clients_approximate: r.clients_approximate,
            latency: r.latency,
        },
    )?;
    if r.late > 0 || r.early > 0 || r.malformed > 0 || r.no_section > 0 {
        let parts = [(r.late, "late"), (r.early, "early"), (r.malformed, "malformed"), (r.no_section, "without path")];
        let said: Vec<String> = parts.iter().filter(|(n, _)| *n > 0).map(|(n, what)| format!("{n} {what}")).collect();
        let last = said.len() - 1;
        let said = said.into_iter().enumerate().map(|(i, part)| Item::Text(if i < last { part + "," } else { part }));
        listed(w, &at, "lines     ", said, " ", Overflow::Wrap)?;
    }
    alerts(w, r, &at)
}

/// The header of a report without lines, possibly a long quiet stretch:
/// when it began is worth saying. On the header when the line fits
/// [`COLUMNS`]; otherwise (it began on an earlier day, so its date is shown)
/// the header is a normal report's, and the start goes on a line under it.
fn quiet(w: &mut Vec<u8>, r: &Report, at: &str) -> io::Result<()> {
    let so_far = if r.requested { ", so far" } else { "" };
    let span = format!("{}-{} ({}{so_far})", Clock(r.start, r.end), TimeOfDay(r.end), Duration(r.seconds()));
    const TAG: &str = " [REPORT] ";
    const SAID: &str = ": no traffic";
    if at.chars().count() + TAG.len() + span.chars().count() + SAID.len() <= COLUMNS {
        return writeln!(w, " {span}{SAID}");
    }
    let so_far = if r.requested { " so far" } else { "" };
    writeln!(w, " {}{so_far}{SAID}", Duration(r.seconds()))?;
    writeln!(w, "{at}   since     {}", Clock(r.start, r.end))
}

/// What hits were, for a report or the whole run.
struct Breakdown<'a> {
    hits: u64,
    status: &'a StatusClasses,
    unknown_status: u64,
    codes: &'a [CodeHits],
    sections: &'a [KeyHits],
    sections_approximate: bool,
    clients: &'a [KeyHits],
    clients_approximate: bool,
    latency: Option<Latency>,
}

/// The status classes with their error share, the top codes, sections and
/// clients, and response times when the log has them. Written in place:
/// a report is made every interval, and a string made for each figure cost
/// more than the rest of the report.
fn breakdown(w: &mut Vec<u8>, at: &str, b: &Breakdown<'_>) -> io::Result<()> {
    const CLASSES: [&str; 5] = ["1xx ", "2xx ", "3xx ", "4xx ", "5xx "];
    let unknown = (b.unknown_status > 0).then_some(Item::Count("unknown ", b.unknown_status));
    let classes = CLASSES.iter().zip(b.status).filter(|(_, n)| **n > 0).map(|(class, &n)| Item::Count(class, n));
    let errors = b.status[3] + b.status[4];
    // Rounded half up, in integers; the sections' shares below are rounded
    // as float formatting did, so an exact tie (1 of 16: 6.25 %) shows as
    // 6.3 here and 6.2 there. Kept so that output stays byte for byte what
    // it was.
    let errors = Item::Text(format!("errors {}%", Fixed::ratio(errors * 100, b.hits, TENTHS)));
    // A run's counts can be too wide for one line; none is left out.
    listed(w, at, "status    ", unknown.into_iter().chain(classes).chain([errors]), "  ", Overflow::Wrap)?;

    listed(w, at, "codes     ", b.codes.iter().map(Item::Code), "  ", Overflow::Cut)?;

    let names: Vec<String> = b.sections.iter().map(|s| Terminal(&s.key).to_string()).collect();
    let hits_width = b.sections.first().map_or(1, |s| decimal_width(s.hits));
    // Names are padded to line up their counts only as far as the line
    // still fits; a longer name is shown whole, past the edge.
    let room = COLUMNS.saturating_sub(at.chars().count() + 3 + 10 + 2 + hits_width + 2 + "100.0%".len());
    let name_width = names.iter().map(|n| n.chars().count()).max().unwrap_or(0).min(room);
    let label = if b.sections_approximate { "sections~ " } else { "sections  " };
    for (i, (name, s)) in names.iter().zip(b.sections).enumerate() {
        let label = if i == 0 { label } else { "          " };
        let share = 100.0 * s.hits as f64 / b.hits.max(1) as f64;
        for part in [at, "   ", label, name] {
            w.extend_from_slice(part.as_bytes());
        }
        let pad =
            name_width.saturating_sub(name.chars().count()) + 2 + hits_width.saturating_sub(decimal_width(s.hits));
        w.resize(w.len() + pad, b' ');
        push_decimal(w, s.hits);
        w.extend_from_slice(b"  ");
        // As `{share:5.1}` formatted it, a tie to even: unlike the errors'
        // share above (`Fixed::ratio`, half up), kept so for byte-identical
        // output.
        push_fixed(w, share, 1, 5);
        w.extend_from_slice(b"%\n");
    }

    let clients_label = if b.clients_approximate { "clients~  " } else { "clients   " };
    listed(w, at, clients_label, b.clients.iter().map(Item::Key), "  ", Overflow::Cut)?;

    if let Some(l) = b.latency {
        let times = [("p50", l.p50), ("p90", l.p90), ("p99", l.p99), ("max", l.max)];
        let mut said: Vec<Item<'_>> =
            times.iter().map(|(q, us)| Item::Text(format!("{q} {}", Time(*us, Round::Nearest)))).collect();
        // How many hits the times are of matters only when some had none.
        if l.count < b.hits {
            said.push(Item::Text(format!("({} timed)", l.count)));
        }
        // Single spaces: four times of up to five characters then fit.
        listed(w, at, "latency   ", said.into_iter(), " ", Overflow::Wrap)?;
    }
    Ok(())
}

/// One item of a [`listed`] line, written where it goes.
enum Item<'a> {
    /// A figure after a word: `2xx 416`, `#3`.
    Count(&'a str, u64),
    /// `200 407`: a status code and its hits.
    Code(&'a CodeHits),
    /// `23.62.170.134 36`: a key, escaped, and its hits.
    Key(&'a KeyHits),
    /// Anything else, said once in a while.
    Text(String),
}

impl Item<'_> {
    fn write(&self, w: &mut Vec<u8>) -> io::Result<()> {
        match self {
            Item::Count(word, n) => {
                w.extend_from_slice(word.as_bytes());
                push_decimal(w, *n);
            }
            Item::Code(c) => {
                push_decimal(w, c.code.into());
                w.push(b' ');
                push_decimal(w, c.hits);
            }
            Item::Key(k) => {
                write!(w, "{}", Terminal(&k.key))?;
                w.push(b' ');
                push_decimal(w, k.hits);
            }
            Item::Text(text) => w.extend_from_slice(text.as_bytes()),
        }
        Ok(())
    }
}

/// What [`listed`] does with items past [`COLUMNS`].
#[derive(Clone, Copy, PartialEq, Eq)]
enum Overflow {
    /// Leaves them out: the top of a list, most first.
    Cut,
    /// Goes on under the label, on as many lines as it takes.
    Wrap,
}

/// A labelled line of `items` joined by `sep`, as many as fit in
/// [`COLUMNS`] (at least one a line); nothing when there are none. Each
/// item is written where it goes and measured there; one that does not
/// fit is taken back (cut), or moved to a line of its own (wrapped).
fn listed<'a>(
    w: &mut Vec<u8>,
    at: &str,
    label: &str,
    items: impl Iterator<Item = Item<'a>>,
    sep: &str,
    overflow: Overflow,
) -> io::Result<()> {
    let mut line = w.len();
    w.extend_from_slice(at.as_bytes());
    w.extend_from_slice(b"   ");
    w.extend_from_slice(label.as_bytes());
    let bare = at.chars().count() + 3 + label.chars().count();
    let mut width = bare;
    for item in items {
        let end = w.len();
        let sep = if width > bare { sep } else { "" };
        w.extend_from_slice(sep.as_bytes());
        let start = w.len();
        item.write(w)?;
        let item_width = chars(&w[start..]);
        if width > bare && width + sep.len() + item_width > COLUMNS {
            if overflow == Overflow::Cut {
                w.truncate(end);
                break;
            }
            let item = w.split_off(start);
            w.truncate(end);
            w.push(b'\n');
            line = w.len();
            w.extend_from_slice(at.as_bytes());
            w.extend_from_slice(b"   ");
            w.resize(w.len() + label.len(), b' ');
            w.extend_from_slice(&item);
            width = bare + item_width;
        } else {
            width += sep.len() + item_width;
        }
    }
    if width > bare {
        w.push(b'\n');
    } else {
        w.truncate(line);
    }
    Ok(())
}

/// The characters in `text`, valid UTF-8: its bytes that start one.
fn chars(text: &[u8]) -> usize {
    text.iter().filter(|&&b| (b as i8) >= -0x40).count()
}

/// The closing lines of a report: each alert in force, oldest first, and
/// earlier ones when there are any to say.
fn alerts(w: &mut Vec<u8>, r: &Report, at: &str) -> io::Result<()> {
    for InForce { alert: a, rule } in &r.active {
        let mut said = vec![Item::Count("#", a.id)];
        if let Some(rule) = rule {
            said.push(Item::Text(format!("{},", Terminal(rule.as_bytes()))));
        }
        said.push(Item::Text(format!("active since {}", Clock(a.triggered, r.end))));
        said.push(Item::Text(format!("({})", Duration(r.end - a.triggered))));
        // A rule and its time together are often wider than a line.
        listed(w, at, "alert     ", said.into_iter(), " ", Overflow::Wrap)?;
    }
    let active = |id: u64| r.active.iter().any(|a| a.alert.id == id);
    let past: Vec<String> = r.history.iter().filter(|a| !active(a.id)).map(|a| History(a, r.end).to_string()).collect();
    // The newest `k` of them, after how many earlier ones are not shown.
    let said = |k: usize| {
        let earlier = r.alerts.saturating_sub(k as u64 + r.active.len() as u64);
        let earlier = (earlier > 0).then(|| format!("({earlier} earlier)"));
        earlier.into_iter().chain(past[past.len() - k..].iter().cloned())
    };
    let width = |k: usize| at.len() + 3 + 10 + said(k).map(|item| item.chars().count() + 1).sum::<usize>() - 1;
    // As many as fit, at least the newest (which wraps if it cannot).
    let Some(k) = (1..=past.len()).take_while(|&k| k == 1 || width(k) <= COLUMNS).last() else { return Ok(()) };
    listed(w, at, "history   ", said(k).map(Item::Text), " ", Overflow::Wrap)
}

/// A time as `21:12:36` when it is on the day that `now` ends, with the
/// date too when earlier (a report after a long quiet stretch).
struct Clock(Epoch, Epoch);

impl std::fmt::Display for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Clock(t, now) = *self;
        if t.div_euclid(86_400) == (now - 1).div_euclid(86_400) {
            write!(f, "{}", TimeOfDay(t))
        } else {
            let stamp = Stamp(t).to_string();
            f.write_str(stamp.strip_suffix("+00:00").unwrap_or(&stamp))
        }
    }
}

/// A response time in about three digits and a unit, rounded as it says:
/// `850us`, `4.2ms`, `120ms`, `2.1s`, `95s`.
struct Time(u64, Round);

#[derive(Clone, Copy)]
enum Round {
    Nearest,
    Up,
    Down,
}

impl Time {
    /// The figure shown and how many microseconds each of its units is:
    /// the finest unit whose rounded figure keeps to three digits.
    fn figure(&self) -> (u64, u64) {
        let rounded = |unit: u64| match self.1 {
            Round::Nearest => self.0.saturating_add(unit / 2) / unit,
            Round::Up => self.0.div_ceil(unit),
            Round::Down => self.0 / unit,
        };
        [(1, 1_000), (100, 100), (1_000, 1_000), (100_000, 100)]
            .into_iter()
            .map(|(unit, below)| (rounded(unit), unit, below))
            .find(|(n, _, below)| n < below)
            .map_or((rounded(1_000_000), 1_000_000), |(n, unit, _)| (n, unit))
    }

    /// The time the figure shown stands for, in microseconds.
    fn shown(&self) -> u64 {
        let (n, unit) = self.figure();
        n.saturating_mul(unit)
    }

    /// `us` shown on the same side of `limit` as it is: rounded to the
    /// nearest unless that lands on the limit or past it (a p99 of 500.2ms
    /// above 500ms shows 501ms, not 500ms).
    fn beside(us: u64, limit: u64) -> Time {
        let nearest = Time(us, Round::Nearest);
        match us.cmp(&limit) {
            Ordering::Greater if nearest.shown() <= limit => Time(us, Round::Up),
            Ordering::Less if nearest.shown() >= limit => Time(us, Round::Down),
            _ => nearest,
        }
    }
}

impl std::fmt::Display for Time {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.figure() {
            (n, 1) => write!(f, "{n}us"),
            (n, 100) => write!(f, "{}.{}ms", n / 10, n % 10),
            (n, 1_000) => write!(f, "{n}ms"),
            (n, 100_000) => write!(f, "{}.{}s", n / 10, n % 10),
            (n, _) => write!(f, "{n}s"),
        }
    }
}

/// A past alert in a report ending at the given second: its times of day,
/// with the date when it triggered on an earlier day than the report's,
/// as [`Clock`] says them.
struct History<'a>(&'a AlertRecord, Epoch);

impl std::fmt::Display for History<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let History(a, now) = *self;
        let triggered = Clock(a.triggered, now);
        match a.recovered {
            // The end is on the day the start names, or says its own.
            Some(end) => {
                let end = Clock(end, a.triggered + 1);
                write!(f, "#{} {triggered}-{end} ({})", a.id, Duration(end.0 - a.triggered))
            }
            None => write!(f, "#{} {triggered}- (active)", a.id),
        }
    }
}

fn alert(w: &mut impl Write, a: &AlertEvent, paint: Paint) -> io::Result<()> {
    let at = Stamp(a.at);
    write!(w, "[{at}] ")?;
    if let Some(fired) = &a.rule {
        return rule_alert(w, a, fired, paint);
    }
    let rate = Average::rate(a);
    match a.state {
        AlertState::Triggered => {
            paint.tag(w, "ALERT", RED)?;
            writeln!(w, " High traffic generated an alert - hits = {rate}, triggered at {at} {}", Average(a))
        }
        AlertState::Recovered => {
            paint.tag(w, "RECOVERED", GREEN)?;
            writeln!(
                w,
                " Traffic back to normal - hits = {rate}, recovered at {at} (alert #{} triggered at {}, lasted {}) {}",
                a.id,
                Stamp(a.triggered),
                Duration(a.at - a.triggered),
                Average(a)
            )
        }
    }
}

/// What the exercise's `hits =` means, said plainly: `(avg 10.05 req/s
/// over 2m > 10)`, or `<= 10` on recovery.
struct Average<'a>(&'a AlertEvent);

impl std::fmt::Display for Average<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let a = self.0;
        let op = if a.state == AlertState::Triggered { ">" } else { "<=" };
        write!(f, "(avg {} req/s over {} {op} {})", Average::rate(a), Span(a.window), a.threshold)
    }
}

impl Average<'_> {
    /// The window's average, never shown at the threshold it exceeded.
    fn rate(a: &AlertEvent) -> Fixed {
        Fixed::beside(a.hits, u64::from(a.window), CENTIS, a.threshold.micros())
    }
}

/// An `--alert` rule's transition: the rule, what its window measured, when.
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
/// hits)`, `512ms (41 of 570 timed hits above 500ms)`.
struct Measured<'a>(&'a AlertEvent, &'a Fired);

impl std::fmt::Display for Measured<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (a, Fired { rule, matched, value }) = (self.0, self.1);
        match rule.value() {
            Value::Micros(limit) => {
                if let Some(us) = value {
                    write!(f, "{} (", Time::beside(*us, limit))?;
                }
                let side = if rule.op == Op::Above { "above" } else { "under" };
                write!(f, "{matched} of {} timed hits {side} {}", a.hits, rule.value())?;
                if value.is_some() {
                    f.write_str(")")?;
                }
                Ok(())
            }
            Value::Rate(t) => {
                let rate = Fixed::beside(*matched, u64::from(a.window), CENTIS, t.micros());
                if matches!(rule.measure, Measure::Rate(_)) {
                    write!(f, "{rate} req/s ({matched} hits)")
                } else {
                    write!(f, "{rate} req/s ({matched} of {} hits)", a.hits)
                }
            }
            Value::Share(p) => {
                let share = Fixed::beside(matched.saturating_mul(100), a.hits, TENTHS, u128::from(p));
                write!(f, "{share}% ({matched} of {} hits)", a.hits)
            }
        }
    }
}

fn summary(w: &mut Vec<u8>, s: &Summary, paint: Paint) -> io::Result<()> {
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
    if !s.active.is_empty() {
        let ids: Vec<String> = s.active.iter().map(|a| format!("#{}", a.alert.id)).collect();
        write!(w, " ({} active)", ids.join(", "))?;
    }
    if let (Some(first), Some(last)) = (s.first, s.last) {
        write!(w, "; log time {} to {}", Stamp(first), Stamp(last))?;
    }
    writeln!(w)?;
    let (Some(t), true) = (s.time, s.hits > 0) else { return Ok(()) };
    let at = format!("[{}]", Stamp(t));
    let totals = &s.totals;
    writeln!(w, "{at}   bytes     {}", Bytes(totals.bytes))?;
    breakdown(
        w,
        &at,
        &Breakdown {
            hits: s.hits,
            status: &totals.status,
            unknown_status: totals.unknown_status,
            codes: &totals.codes,
            sections: &totals.sections,
            sections_approximate: totals.sections_approximate,
            clients: &totals.clients,
            clients_approximate: totals.clients_approximate,
            latency: totals.latency,
        },
    )
}

/// A ratio shown with a number of decimals, rounded half up in integers so
/// that the figure never depends on floating point.
struct Fixed {
    scaled: u128,
    places: u32,
}

/// Decimals of rates.
const CENTIS: u32 = 2;
/// Decimals of shares in percent.
const TENTHS: u32 = 1;
/// The most decimals a figure beside a limit takes: a limit's own.
const LIMIT_PLACES: u32 = 6;

impl Fixed {
    fn ratio(n: u64, d: u64, places: u32) -> Fixed {
        let d = u128::from(d.max(1));
        Fixed { scaled: (u128::from(n) * 2 * 10u128.pow(places) + d) / (2 * d), places }
    }

    /// `n / d` on the same side of a rule's limit (in millionths) as it is,
    /// as [`Time::beside`] is for response times: with `places` decimals,
    /// or as many more as that takes, so that `errors > 1%` never shows a
    /// share of 1.014 % as `1.0%` (nor as `1.1%`, but `1.01%`). At the limit
    /// exactly, the limit.
    fn beside(n: u64, d: u64, places: u32, limit: u128) -> Fixed {
        let d128 = u128::from(d.max(1));
        let exact = (u128::from(n) * 1_000_000).cmp(&(limit * d128));
        for places in places..=LIMIT_PLACES {
            let nearest = Fixed::ratio(n, d, places);
            if (nearest.scaled * 1_000_000).cmp(&(limit * 10u128.pow(places))) == exact {
                return nearest;
            }
        }
        // Closer than a millionth: away from the limit, on its side.
        let scaled = u128::from(n) * 10u128.pow(LIMIT_PLACES);
        let scaled = if exact == Ordering::Greater { scaled.div_ceil(d128) } else { scaled / d128 };
        Fixed { scaled, places: LIMIT_PLACES }
    }
}

impl std::fmt::Display for Fixed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scale = 10u128.pow(self.places);
        write!(f, "{}.{:0width$}", self.scaled / scale, self.scaled % scale, width = self.places as usize)
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
    use crate::engine::alert::Threshold;
    use crate::engine::rule::Rule;

    #[test]
    fn two_decimal_rates_round_half_up() {
        assert_eq!(Fixed::ratio(1206, 120, CENTIS).to_string(), "10.05");
        assert_eq!(Fixed::ratio(1198, 120, CENTIS).to_string(), "9.98");
        assert_eq!(Fixed::ratio(1, 8, CENTIS).to_string(), "0.13");
        assert_eq!(Fixed::ratio(0, 120, CENTIS).to_string(), "0.00");
        assert_eq!(Fixed::ratio(u64::MAX, 1, CENTIS).to_string(), format!("{}.00", u64::MAX));
    }

    #[test]
    fn response_times_round_to_about_three_digits() {
        let t = |us| Time(us, Round::Nearest).to_string();
        assert_eq!(
            [t(0), t(999), t(1_000), t(4_249), t(9_949), t(9_950)],
            ["0us", "999us", "1.0ms", "4.2ms", "9.9ms", "10ms"]
        );
        assert_eq!(
            [t(49_920), t(999_499), t(999_500), t(2_140_000), t(9_950_000)],
            ["50ms", "999ms", "1.0s", "2.1s", "10s"]
        );
        assert_eq!(t(u64::MAX), "18446744073709s");
    }

    #[test]
    fn a_time_beside_a_limit_stays_on_its_side() {
        let t = |us, limit| Time::beside(us, limit).to_string();
        assert_eq!([t(500_001, 500_000), t(500_499, 500_000), t(503_000, 500_000)], ["501ms", "501ms", "503ms"]);
        assert_eq!([t(499_999, 500_000), t(499_500, 500_000), t(500_000, 500_000)], ["499ms", "499ms", "500ms"]);
        assert_eq!([t(9_951, 9_950), t(1_001, 1_000), t(999, 1_000)], ["10ms", "1.1ms", "999us"]);
        assert_eq!([t(49_920, 500_000), t(u64::MAX, 0)], ["50ms", "18446744073709s"]);
    }

    #[test]
    fn a_share_or_rate_beside_a_limit_stays_on_its_side() {
        let share = |matched: u64, hits, limit| Fixed::beside(matched * 100, hits, TENTHS, limit).to_string();
        // 5.04 %, 4.96 % and 5 % exactly beside 5 %; 5.06 % beside 5.05 %.
        assert_eq!([share(126, 2500, 5_000_000), share(124, 2500, 5_000_000)], ["5.04", "4.96"]);
        assert_eq!([share(125, 2500, 5_000_000), share(253, 5000, 5_050_000)], ["5.0", "5.1"]);
        assert_eq!(share(7, 100, 5_000_000), "7.0", "far from the limit: the nearest");
        let rate = |hits, window, limit| Fixed::beside(hits, window, CENTIS, limit).to_string();
        // 10.001 and 9.999 req/s beside 10; 0.00111 beside 0.001.
        assert_eq!([rate(10_001, 1000, 10_000_000), rate(9_999, 1000, 10_000_000)], ["10.001", "9.999"]);
        assert_eq!([rate(4, 3600, 1_000), rate(1206, 120, 10_000_000)], ["0.0011", "10.05"]);
        // Within half a millionth of 1 req/s: the millionth on its side.
        assert_eq!(
            [rate(4_000_001, 4_000_000, 1_000_000), rate(3_999_999, 4_000_000, 1_000_000)],
            ["1.000001", "0.999999"]
        );
    }

    #[test]
    fn a_rule_alert_never_shows_its_measure_at_its_limit() {
        let rule = Rule::parse("errors > 5% over 100s", 120).expect("a rule");
        let fired = Fired { rule, matched: 126, value: None };
        let event = AlertEvent {
            state: AlertState::Triggered,
            id: 1,
            at: 0,
            hits: 2500,
            window: 100,
            threshold: Threshold::per_second(10),
            triggered: 0,
            rule: Some(Box::new(fired)),
        };
        let mut out = Vec::new();
        alert(&mut out, &event, Paint(false)).expect("a Vec");
        let line = String::from_utf8(out).expect("UTF-8");
        assert!(line.contains("errors > 5% over 100s: 5.04% (126 of 2500 hits)"), "{line}");
        let default = AlertEvent { hits: 1001, window: 100, rule: None, ..event };
        let mut out = Vec::new();
        alert(&mut out, &default, Paint(false)).expect("a Vec");
        let line = String::from_utf8(out).expect("UTF-8");
        assert!(line.contains("hits = 10.01,") && line.contains("(avg 10.01 req/s over 100s > 10)"), "{line}");
    }

    #[test]
    fn a_quiet_report_fits_its_columns() {
        let alerts = crate::engine::alert::Alerts::new(Threshold::per_second(10), 120);
        let quiet = |start, end, requested| {
            let mut r = crate::engine::stats::Tally::default().report(start, end, 10, 5, &alerts);
            r.requested = requested;
            let mut out = Vec::new();
            report(&mut out, &r, Paint(false)).expect("a Vec");
            String::from_utf8(out).expect("UTF-8")
        };
        let day = 1_549_497_600; // 2019-02-07 00:00:00
        // Short: one line, as it always was.
        assert_eq!(
            quiet(day + 60, day + 90, false),
            "[2019-02-07 00:01:30+00:00] [REPORT] 00:01:00-00:01:30 (30s): no traffic\n"
        );
        // Too wide for one line: since when, under it. Requested, a day's
        // stretch runs 83 columns on one; with an earlier day's start, 94.
        assert_eq!(
            quiet(day + 60, day + 86_340, true),
            "[2019-02-07 23:59:00+00:00] [REPORT] 23h58m so far: no traffic\n\
             [2019-02-07 23:59:00+00:00]   since     00:01:00\n"
        );
        assert_eq!(
            quiet(day - 50, day + 86_340, true),
            "[2019-02-07 23:59:00+00:00] [REPORT] 23h59m so far: no traffic\n\
             [2019-02-07 23:59:00+00:00]   since     2019-02-06 23:59:10\n"
        );
    }

    /// Lists wrap under their label or are cut at the columns, counting
    /// characters, not bytes; an empty list says nothing.
    #[test]
    fn lists_wrap_or_cut_at_the_columns() {
        let at = "[2019-02-07 21:12:36+00:00]";
        let list = |items: &[&str], overflow| {
            let mut w = b"before\n".to_vec();
            let items = items.iter().map(|i| Item::Text(i.to_string()));
            listed(&mut w, at, "label     ", items, "  ", overflow).expect("a Vec");
            String::from_utf8(w).expect("UTF-8")
        };
        // 40 columns before the first item: two of 19 fit (40 + 19 + 2 + 19 = 80), not three.
        let item = "é".repeat(19);
        let three = [item.as_str(), item.as_str(), "x"];
        let line = format!("{at}   label     {item}  {item}");
        assert_eq!(list(&three, Overflow::Cut), format!("before\n{line}\n"));
        assert_eq!(list(&three, Overflow::Wrap), format!("before\n{line}\n{at}             x\n"));
        assert_eq!(list(&[], Overflow::Wrap), "before\n");
        assert_eq!(list(&["", ""], Overflow::Wrap), "before\n");
        let wide = "w".repeat(60);
        assert_eq!(
            list(&["a", &wide, ""], Overflow::Wrap),
            format!("before\n{at}   label     a\n{at}             {wide}\n")
        );
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
