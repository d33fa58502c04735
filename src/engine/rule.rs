//! Alert rules (`--alert`): their grammar, their normalised text, and the
//! exact test of a window's counts against a rule.
//!
//! ```text
//! RULE   = METRIC OP VALUE [over DURATION] [for DURATION] [min N] [in SECTION]
//! METRIC = rate | 2xx | 3xx | 4xx | 5xx | errors | p50 | p90 | p95 | p99 | max
//! OP     = > | <
//! ```
//!
//! Every rule reduces to two counts per second: the hits it *counts* (all
//! hits of its section, or those with a response time for latency) and the
//! hits it *matches* (of the status class, or slower / faster than the
//! threshold). Comparing those counts is exact, in integers: a nearest-rank
//! quantile is above a threshold exactly when fewer hits than its rank are at
//! or below it, so latency rules need no histogram to decide.

use std::cmp::Ordering;
use std::fmt;

use super::alert::Threshold;
use super::histogram::rank;
use super::parse::Record;
use super::section::MAX_SECTION_LEN;

/// Hits a share or quantile rule needs in its window before it may change
/// state, unless the rule says `min N`.
pub const DEFAULT_MIN: u64 = 20;

/// The longest `over` and `for` a rule may give: a day, as `--window`.
pub const MAX_DURATION: u32 = 86_400;

/// The metric a rule names, before its value says how it is compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Metric {
    Rate,
    /// A status class: 2 for 2xx up to 5 for 5xx.
    Class(u8),
    Errors,
    /// A percentile (100 is `max`).
    Latency(u8),
}

/// What a rule measures with the limit it compares it with: each metric
/// with the one kind of value the grammar gives it, so that no code has to
/// handle a combination that cannot be written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Measure {
    /// Hits per second (`rate > 10`).
    Rate(Threshold),
    /// Hits of a status class (2 for 2xx) per second (`5xx > 2/s`).
    ClassRate(u8, Threshold),
    /// Hits of a status class as a share of the hits, in millionths of a
    /// percent (`4xx > 20%`).
    ClassShare(u8, u64),
    /// Server errors, the 5xx share, in millionths of a percent.
    Errors(u64),
    /// The response time at a percentile, nearest rank (100 is `max`),
    /// against a limit in microseconds (`p99 > 500ms`).
    Latency(u8, u64),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Above,
    Below,
}

/// A rule's limit, in the unit its metric is compared in: what
/// [`Rule::value`] shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value {
    /// Hits per second.
    Rate(Threshold),
    /// A share of the hits, in millionths of a percent.
    Share(u64),
    /// A response time in microseconds.
    Micros(u64),
}

/// One alert rule, as given and with its defaults filled in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    pub measure: Measure,
    pub op: Op,
    /// Window, seconds.
    pub over: u32,
    /// How long the condition must hold before the alert triggers, seconds.
    pub hold: u32,
    /// Counted hits below which a share or quantile rule holds its state.
    pub min: u64,
    /// Only the hits of this section count.
    pub section: Option<Vec<u8>>,
}

/// What one hit adds to a rule's counts, made from the rule once so that
/// the test of a hit is a single branch on its kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Test {
    /// Only the hits of this section count.
    section: Option<Box<[u8]>>,
    hit: Matches,
}

/// Which hits a rule counts, and which of those it matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Matches {
    /// Every hit counts and matches (`rate`).
    Every,
    /// Every hit counts; those of this status class (2 for 2xx) match.
    Class(u16),
    /// Hits with a response time count; those slower than this (µs) match.
    Slower(u64),
    /// Hits with a response time count; those faster than this match.
    Faster(u64),
}

impl Test {
    /// What one hit adds to the rule's counts: `(counted, matched)`.
    #[inline]
    pub fn tally(&self, record: &Record<'_>) -> (bool, bool) {
        if let Some(section) = &self.section
            && record.section != Some(&section[..])
        {
            return (false, false);
        }
        match (self.hit, record.latency_us) {
            (Matches::Every, _) => (true, true),
            (Matches::Class(c), _) => (true, record.status / 100 == c),
            (Matches::Slower(limit), Some(us)) => (true, us > limit),
            (Matches::Faster(limit), Some(us)) => (true, us < limit),
            (Matches::Slower(_) | Matches::Faster(_), None) => (false, false),
        }
    }
}

/// The outcome of testing a window against a rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    True,
    False,
    /// Too few hits to say (`min`): neither trigger nor recover.
    Unknown,
}

/// A rule that does not parse: which word, and what was expected there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleError {
    /// Byte offset and length of the offending word in the rule's text.
    pub at: usize,
    pub len: usize,
    pub message: String,
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl RuleError {
    /// The message, the rule, and a caret line under the offending word.
    pub fn pointed(&self, rule: &str) -> String {
        let pad = rule[..self.at.min(rule.len())].chars().count();
        let width = rule.get(self.at..self.at + self.len).map_or(1, |w| w.chars().count().max(1));
        format!("{}\n  {rule}\n  {}{}", self.message, " ".repeat(pad), "^".repeat(width))
    }
}

impl Rule {
    /// The default rule: `rate > THRESHOLD over WINDOW`.
    pub fn rate_above(threshold: Threshold, window: u32) -> Rule {
        Rule {
            measure: Measure::Rate(threshold),
            op: Op::Above,
            over: window,
            hold: 0,
            min: DEFAULT_MIN,
            section: None,
        }
    }

    /// Parses a rule; `window` is the `over` of rules that give none.
    pub fn parse(text: &str, window: u32) -> Result<Rule, RuleError> {
        let words = Words::of(text);
        let mut words = words.iter();
        let end = text.len();
        let missing = |what: &str| RuleError { at: end, len: 0, message: format!("{what} expected at the end") };

        let (at, word) = words.next().copied().ok_or_else(|| missing("a metric (rate, 5xx, errors, p99...)"))?;
        let metric = parse_metric(word).ok_or_else(|| RuleError {
            at,
            len: word.len(),
            message: if word.contains(['>', '<']) {
                // `rate>10` is the likeliest slip: the words need spaces.
                format!("'{word}': put spaces around '>' and '<', e.g. rate > 10")
            } else {
                format!("unknown metric '{word}': expected rate, 2xx, 3xx, 4xx, 5xx, errors, p50, p90, p95, p99 or max")
            },
        })?;
        let (at, word) = words.next().copied().ok_or_else(|| missing("'>' or '<'"))?;
        let op = match word {
            ">" => Op::Above,
            "<" => Op::Below,
            _ => return Err(RuleError { at, len: word.len(), message: format!("'{word}': expected '>' or '<'") }),
        };
        let (at, word) = words.next().copied().ok_or_else(|| missing("a value"))?;
        let measure = parse_value(metric, word).map_err(|message| RuleError { at, len: word.len(), message })?;
        let mut rule = Rule { measure, op, over: window, hold: 0, min: DEFAULT_MIN, section: None };

        let mut seen: Vec<&str> = Vec::new();
        while let Some(&(at, keyword)) = words.next() {
            let err = |message: String| RuleError { at, len: keyword.len(), message };
            if !matches!(keyword, "over" | "for" | "min" | "in") {
                return Err(err(format!("'{keyword}': expected over, for, min or in")));
            }
            if seen.contains(&keyword) {
                return Err(err(format!("'{keyword}' given twice")));
            }
            seen.push(keyword);
            let (vat, word) = words.next().copied().ok_or_else(|| missing(&format!("a value after '{keyword}'")))?;
            let bad = |message: String| RuleError { at: vat, len: word.len(), message };
            match keyword {
                "over" => {
                    rule.over = duration(word)
                        .filter(|s| (1..=MAX_DURATION).contains(s))
                        .ok_or_else(|| bad(format!("'{word}': expected a window from 1s to 24h, e.g. 5m")))?;
                }
                "for" => {
                    rule.hold = duration(word)
                        .filter(|s| *s <= MAX_DURATION)
                        .ok_or_else(|| bad(format!("'{word}': expected a duration up to 24h, e.g. 30s")))?;
                }
                // Said rather than ignored: a rate rule given `min` would
                // otherwise fire on thinner windows than its author meant.
                "min" if !rule.uses_min() => {
                    return Err(err("'min': only share and latency rules (5%, 500ms) wait for hits, not rates".into()));
                }
                "min" => {
                    rule.min = word
                        .parse()
                        .ok()
                        .filter(|_| word.bytes().all(|c| c.is_ascii_digit()))
                        .ok_or_else(|| bad(format!("'{word}': expected a count of hits, e.g. 20")))?;
                }
                _ => {
                    let ok = word.starts_with('/') && !word[1..].contains('/') && word.len() <= MAX_SECTION_LEN;
                    if !ok {
                        return Err(bad(format!("'{word}': expected a section, e.g. /api")));
                    }
                    rule.section = Some(word.as_bytes().to_vec());
                }
            }
        }
        Ok(rule)
    }

    /// Whether the rule's state waits for `min` counted hits: shares and
    /// quantiles, which a thin window says little about.
    pub fn uses_min(&self) -> bool {
        matches!(self.measure, Measure::ClassShare(..) | Measure::Errors(_) | Measure::Latency(..))
    }

    pub fn is_latency(&self) -> bool {
        matches!(self.measure, Measure::Latency(..))
    }

    /// The limit, in the unit of its metric.
    pub fn value(&self) -> Value {
        match self.measure {
            Measure::Rate(t) | Measure::ClassRate(_, t) => Value::Rate(t),
            Measure::ClassShare(_, p) | Measure::Errors(p) => Value::Share(p),
            Measure::Latency(_, us) => Value::Micros(us),
        }
    }

    /// What the rule counts and matches of a hit, for [`Test::tally`].
    pub fn test(&self) -> Test {
        let hit = match (self.measure, self.op) {
            (Measure::Rate(_), _) => Matches::Every,
            (Measure::ClassRate(c, _) | Measure::ClassShare(c, _), _) => Matches::Class(u16::from(c)),
            (Measure::Errors(_), _) => Matches::Class(5),
            (Measure::Latency(_, limit), Op::Above) => Matches::Slower(limit),
            (Measure::Latency(_, limit), Op::Below) => Matches::Faster(limit),
        };
        Test { section: self.section.as_deref().map(Box::from), hit }
    }

    /// Tests a window of `over` seconds that counted `counted` hits, of which
    /// `matched` matched. Exact: integers only.
    pub fn verdict(&self, counted: u64, matched: u64) -> Verdict {
        let above = self.op == Op::Above;
        if self.uses_min() && (counted < self.min || counted == 0) {
            return Verdict::Unknown;
        }
        let holds = match self.measure {
            Measure::Latency(percent, _) => {
                let rank = rank(percent, counted);
                // Above: fewer than `rank` hits are at or below the limit.
                // Below: at least `rank` hits are under it.
                if above { counted - matched < rank } else { matched >= rank }
            }
            Measure::Rate(t) | Measure::ClassRate(_, t) => {
                let average = t.compare(matched, self.over);
                if above { average == Ordering::Greater } else { average == Ordering::Less }
            }
            Measure::ClassShare(_, p) | Measure::Errors(p) => {
                // matched / counted against p / 100_000_000.
                let (lhs, rhs) = (u128::from(matched) * 100_000_000, u128::from(p) * u128::from(counted));
                if above { lhs > rhs } else { lhs < rhs }
            }
        };
        if holds { Verdict::True } else { Verdict::False }
    }

    /// For a latency rule, its percentile and where a verdict of `holds`
    /// puts its quantile, in microseconds, both ends included: above the
    /// limit when `p99 > 500ms` holds, at most the limit when it does not.
    pub fn quantile_range(&self, holds: bool) -> Option<(u8, (u64, u64))> {
        let Measure::Latency(percent, limit) = self.measure else { return None };
        let range = match (self.op, holds) {
            (Op::Above, true) => (limit.saturating_add(1), u64::MAX),
            (Op::Above, false) => (0, limit),
            (Op::Below, true) => (0, limit.saturating_sub(1)),
            (Op::Below, false) => (limit, u64::MAX),
        };
        Some((percent, range))
    }

    pub fn metric_name(&self) -> String {
        match self.measure {
            Measure::Rate(_) => "rate".into(),
            Measure::ClassRate(c, _) | Measure::ClassShare(c, _) => format!("{c}xx"),
            Measure::Errors(_) => "errors".into(),
            Measure::Latency(100, _) => "max".into(),
            Measure::Latency(p, _) => format!("p{p}"),
        }
    }

    pub fn op_symbol(&self) -> &'static str {
        match self.op {
            Op::Above => ">",
            Op::Below => "<",
        }
    }
}

impl fmt::Display for Rule {
    /// The normalised rule: single spaces, the window always said, `for`,
    /// `min` and `in` when they matter, durations as `90s`, `2m`, `1h`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.metric_name(), self.op_symbol(), self.value())?;
        if matches!(self.measure, Measure::ClassRate(..)) {
            // A class given as a rate says so, or it would read as an error.
            f.write_str("/s")?;
        }
        write!(f, " over {}", Span(self.over))?;
        if self.hold > 0 {
            write!(f, " for {}", Span(self.hold))?;
        }
        if self.uses_min() && self.min != DEFAULT_MIN {
            write!(f, " min {}", self.min)?;
        }
        if let Some(section) = &self.section {
            // Sections given on the command line are UTF-8 text.
            write!(f, " in {}", String::from_utf8_lossy(section))?;
        }
        Ok(())
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Value::Rate(t) => write!(f, "{t}"),
            Value::Share(p) => write!(f, "{}%", Decimal(p, 6)),
            Value::Micros(us) if us >= 1_000_000 || us == 0 => write!(f, "{}s", Decimal(us, 6)),
            Value::Micros(us) if us >= 1_000 => write!(f, "{}ms", Decimal(us, 3)),
            Value::Micros(us) => write!(f, "{us}us"),
        }
    }
}

/// Seconds the way rules write them: `90s`, `2m`, `1h`.
pub struct Span(pub u32);

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            s if s > 0 && s % 3600 == 0 => write!(f, "{}h", s / 3600),
            s if s > 0 && s % 60 == 0 => write!(f, "{}m", s / 60),
            s => write!(f, "{s}s"),
        }
    }
}

/// A fixed-point number with `places` fraction digits, shortest form.
pub struct Decimal(pub u64, pub u32);

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scale = 10u64.pow(self.1);
        let (whole, fraction) = (self.0 / scale, self.0 % scale);
        if fraction == 0 {
            return write!(f, "{whole}");
        }
        let digits = format!("{fraction:0width$}", width = self.1 as usize);
        write!(f, "{whole}.{}", digits.trim_end_matches('0'))
    }
}

/// The words of a rule with their byte offsets.
struct Words;

impl Words {
    fn of(text: &str) -> Vec<(usize, &str)> {
        let mut words = Vec::new();
        let mut start = None;
        for (i, c) in text.char_indices().chain(std::iter::once((text.len(), ' '))) {
            match (c.is_whitespace(), start) {
                (true, Some(s)) => {
                    words.push((s, &text[s..i]));
                    start = None;
                }
                (false, None) => start = Some(i),
                _ => {}
            }
        }
        words
    }
}

fn parse_metric(word: &str) -> Option<Metric> {
    Some(match word {
        "rate" => Metric::Rate,
        "2xx" => Metric::Class(2),
        "3xx" => Metric::Class(3),
        "4xx" => Metric::Class(4),
        "5xx" => Metric::Class(5),
        "errors" => Metric::Errors,
        "p50" => Metric::Latency(50),
        "p90" => Metric::Latency(90),
        "p95" => Metric::Latency(95),
        "p99" => Metric::Latency(99),
        "max" => Metric::Latency(100),
        _ => return None,
    })
}

/// The value a metric is compared with: a rate (`10`, `2/s`), a share
/// (`5%`) or a response time (`500ms`, `2s`, `800us`).
fn parse_value(metric: Metric, word: &str) -> Result<Measure, String> {
    let share = |digits: &str| {
        fixed(digits, 6)
            .filter(|p| *p <= 100_000_000)
            .ok_or_else(|| format!("'{word}': expected a share from 0% to 100%, e.g. 5% or 0.5%"))
    };
    let rate = |digits: &str| {
        Threshold::parse(digits).ok_or_else(|| format!("'{word}': expected requests per second, e.g. 10 or 0.5"))
    };
    match metric {
        Metric::Latency(percent) => {
            let (digits, scale) = if let Some(d) = word.strip_suffix("ms") {
                (d, 3)
            } else if let Some(d) = word.strip_suffix("us") {
                (d, 0)
            } else if let Some(d) = word.strip_suffix('s') {
                (d, 6)
            } else {
                return Err(format!("'{word}': a response time needs a unit: ms, s or us, e.g. 500ms"));
            };
            // In microseconds: `scale` places for the unit's own fraction.
            fixed(digits, scale).map(|us| Measure::Latency(percent, us)).ok_or_else(|| {
                format!("'{word}': expected a response time, e.g. 500ms, 1.5s or 800us (to the microsecond)")
            })
        }
        Metric::Rate if word.ends_with('%') => Err(format!("'{word}': rate is in requests per second, e.g. 10 or 0.5")),
        Metric::Rate => rate(word.strip_suffix("/s").unwrap_or(word)).map(Measure::Rate),
        Metric::Errors => match word.strip_suffix('%') {
            Some(digits) => share(digits).map(Measure::Errors),
            None if word.ends_with("/s") => {
                Err(format!("'{word}': errors is a share of the hits, e.g. 5%; use 5xx for a rate"))
            }
            None => Err(format!("'{word}': errors is a share of the hits, e.g. 5%")),
        },
        Metric::Class(c) => {
            if let Some(digits) = word.strip_suffix('%') {
                share(digits).map(|p| Measure::ClassShare(c, p))
            } else if let Some(digits) = word.strip_suffix("/s") {
                rate(digits).map(|t| Measure::ClassRate(c, t))
            } else {
                Err(format!("'{word}': say a rate (2/s) or a share (5%)"))
            }
        }
    }
}

/// A non-negative decimal with at most `places` fraction digits, scaled by
/// `10^places`: thresholds, shares and response times all read so.
pub fn fixed(s: &str, places: u32) -> Option<u64> {
    let (whole, fraction) = s.split_once('.').unwrap_or((s, ""));
    let digits = |p: &str| p.bytes().all(|c| c.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty()) || !digits(whole) || !digits(fraction) {
        return None;
    }
    if fraction.len() > places as usize || whole.len() > 12 {
        return None;
    }
    let whole: u64 = if whole.is_empty() { 0 } else { whole.parse().ok()? };
    let padded: u64 = if fraction.is_empty() { 0 } else { fraction.parse().ok()? };
    let fraction = padded * 10u64.pow(places - fraction.len() as u32);
    whole.checked_mul(10u64.pow(places))?.checked_add(fraction)
}

/// `90`, `90s`, `5m`, `1h` in seconds.
fn duration(word: &str) -> Option<u32> {
    let split = word.find(|c: char| !c.is_ascii_digit()).unwrap_or(word.len());
    let (digits, unit) = word.split_at(split);
    if digits.is_empty() || digits.len() > 6 {
        return None;
    }
    let n: u32 = digits.parse().ok()?;
    match unit {
        "" | "s" => Some(n),
        "m" => n.checked_mul(60),
        "h" => n.checked_mul(3600),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(text: &str) -> Rule {
        Rule::parse(text, 120).unwrap_or_else(|e| panic!("{text:?}: {}", e.pointed(text)))
    }

    fn error(text: &str) -> RuleError {
        match Rule::parse(text, 120) {
            Err(e) => e,
            Ok(r) => panic!("{text:?} parsed as {r:?}"),
        }
    }

    #[test]
    fn rules_normalise() {
        for (given, normal) in [
            ("rate > 10", "rate > 10 over 2m"),
            ("  rate   <  0.5   over 300 ", "rate < 0.5 over 5m"),
            ("5xx > 2/s", "5xx > 2/s over 2m"),
            ("errors > 5% over 5m", "errors > 5% over 5m"),
            ("4xx > 20.5% for 90 min 50 in /api", "4xx > 20.5% over 2m for 90s min 50 in /api"),
            ("p99 > 500ms over 10m", "p99 > 500ms over 10m"),
            ("max > 2s for 1h", "max > 2s over 2m for 1h"),
            ("p50 < 0.25s", "p50 < 250ms over 2m"),
            ("p95 > 1500us", "p95 > 1.5ms over 2m"),
            ("p90 > 800us min 20", "p90 > 800us over 2m"),
        ] {
            assert_eq!(rule(given).to_string(), normal, "{given:?}");
        }
    }

    #[test]
    fn values_are_exact() {
        assert_eq!(rule("errors > 5%").value(), Value::Share(5_000_000));
        assert_eq!(rule("5xx > 0.000001%").measure, Measure::ClassShare(5, 1));
        assert_eq!(rule("p99 > 1.5s").measure, Measure::Latency(99, 1_500_000));
        assert_eq!(rule("p99 > 0.5ms").value(), Value::Micros(500));
        assert_eq!(rule("5xx > 2/s").measure, Measure::ClassRate(5, Threshold::per_second(2)));
        assert_eq!((rule("rate < 1 in /api").section.as_deref()), Some(&b"/api"[..]));
    }

    #[test]
    fn errors_point_at_the_word() {
        for (text, word) in [
            ("", ""),
            ("latency > 5", "latency"),
            ("rate >= 5", ">="),
            ("rate >", ""),
            ("errors > 5", "5"),
            ("errors > 5/s", "5/s"),
            ("5xx > 5", "5"),
            ("rate > 5%", "5%"),
            ("5xx > 101%", "101%"),
            ("p99 > 500", "500"),
            ("p99 > 0.5us", "0.5us"),
            ("rate > 10 over 0", "0"),
            ("rate > 10 over 2d", "2d"),
            ("rate > 10 over", ""),
            ("rate > 10 window 5m", "window"),
            ("rate > 10 for 1m for 2m", "for"),
            ("errors > 5% min -1", "-1"),
            ("rate > 10 min 5", "min"),
            ("5xx > 2/s min 5", "min"),
            ("rate > 1 in api", "api"),
            ("rate > 1 in /api/v1", "/api/v1"),
        ] {
            let e = error(text);
            assert_eq!(&text[e.at..e.at + e.len], word, "{text:?}: {}", e.message);
        }
        assert!(error("p99>500ms").message.contains("put spaces around"));
        let pointed = error("errors > 5 over 5m").pointed("errors > 5 over 5m");
        assert!(pointed.ends_with("\n  errors > 5 over 5m\n           ^"), "{pointed}");
    }

    #[test]
    fn rates_compare_exactly_at_the_boundary() {
        let r = rule("rate > 0.1 over 2m");
        assert_eq!(r.verdict(12, 12), Verdict::False, "0.1/s exactly");
        assert_eq!(r.verdict(13, 13), Verdict::True);
        let r = rule("rate < 0.5 over 10");
        assert_eq!(r.verdict(5, 5), Verdict::False, "0.5/s exactly");
        assert_eq!(r.verdict(4, 4), Verdict::True);
        assert_eq!(r.verdict(0, 0), Verdict::True, "silence has no min");
    }

    #[test]
    fn shares_compare_exactly_and_wait_for_min() {
        let r = rule("errors > 5%");
        assert_eq!(r.verdict(100, 5), Verdict::False, "exactly 5%");
        assert_eq!(r.verdict(100, 6), Verdict::True);
        assert_eq!(r.verdict(19, 19), Verdict::Unknown, "below min 20");
        assert_eq!(rule("errors > 5% min 0").verdict(0, 0), Verdict::Unknown, "no hits, no share");
        let r = rule("2xx < 90% min 10");
        assert_eq!(r.verdict(10, 9), Verdict::False, "exactly 90%");
        assert_eq!(r.verdict(10, 8), Verdict::True);
    }

    #[test]
    fn quantiles_are_nearest_rank() {
        // 100 timed hits: p99 is the 99th smallest, so > limit iff at least
        // 2 are above it.
        let r = rule("p99 > 500ms");
        assert_eq!(r.verdict(100, 1), Verdict::False);
        assert_eq!(r.verdict(100, 2), Verdict::True);
        // 20 hits: p50 has rank 10; above iff 11 or more are above.
        let r = rule("p50 > 1s");
        assert_eq!(r.verdict(20, 10), Verdict::False);
        assert_eq!(r.verdict(20, 11), Verdict::True);
        let r = rule("max > 2s");
        assert_eq!(r.verdict(20, 0), Verdict::False);
        assert_eq!(r.verdict(20, 1), Verdict::True);
        // Below: at least rank many under the limit.
        let r = rule("p90 < 100ms");
        assert_eq!(r.verdict(20, 17), Verdict::False);
        assert_eq!(r.verdict(20, 18), Verdict::True);
        assert_eq!(r.verdict(19, 19), Verdict::Unknown);
    }

    #[test]
    fn what_a_hit_counts_for() {
        let hit = |status, latency_us, section| Record { status, latency_us, section, ..Record::default() };
        let api = Some(&b"/api"[..]);
        let rule = |text| rule(text).test();
        assert_eq!(rule("5xx > 1/s").tally(&hit(503, None, api)), (true, true));
        assert_eq!(rule("5xx > 1/s").tally(&hit(404, None, api)), (true, false));
        assert_eq!(rule("errors > 1% in /api").tally(&hit(500, None, Some(b"/img"))), (false, false));
        assert_eq!(rule("errors > 1% in /api").tally(&hit(500, None, api)), (true, true));
        assert_eq!(rule("p99 > 1ms").tally(&hit(200, None, api)), (false, false), "no response time");
        assert_eq!(rule("p99 > 1ms").tally(&hit(200, Some(1000), api)), (true, false), "at the limit");
        assert_eq!(rule("p99 > 1ms").tally(&hit(200, Some(1001), api)), (true, true));
        assert_eq!(rule("p99 < 1ms").tally(&hit(200, Some(999), api)), (true, true));
    }
}
