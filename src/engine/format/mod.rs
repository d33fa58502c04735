//! Log formats described by the user: an nginx `log_format` or Apache
//! `LogFormat` string compiled once into literals and typed fields, then
//! matched against each line left to right without copying or allocating.
//! Also JSON lines ([`json`]) and container wrappers ([`wrapper`]).

pub mod apache;
pub mod json;
pub mod nginx;
pub mod preset;
pub mod w3c;
pub mod wrapper;

use std::fmt;

use memchr::memchr;

use super::bytes;
use super::parse::{self, Malformed, Record, UNKNOWN_STATUS};
use super::section;
use super::timestamp::{self, CLF_LEN, ClfClock, Epoch, Unit, Zone};

/// A compiled format string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pattern {
    dialect: Dialect,
    items: Vec<Item>,
    /// The items as the matcher walks them, each field knowing where it
    /// ends.
    steps: Vec<Step>,
    /// Spaces after a literal that ends in one are padding (Squid's).
    padded: bool,
}

/// One step of the matcher.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Step {
    Literal(Literal),
    Field { field: Field, end: End },
}

/// Where a field ends.
#[derive(Clone, Debug, PartialEq, Eq)]
enum End {
    /// At the end of the line.
    Line,
    /// Before the literal the line ends with (the pattern's last item).
    Last(Literal),
    /// At the first occurrence of the next literal that fits; before a
    /// status, one that a status follows.
    Next { literal: Literal, before_status: bool },
}

/// Literal text, with its first eight bytes as a word to compare at once.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Literal {
    bytes: Vec<u8>,
    word: u64,
    mask: u64,
}

impl Literal {
    fn new(bytes: &[u8]) -> Literal {
        let mut word = [0u8; 8];
        let mut mask = [0u8; 8];
        for (i, &b) in bytes.iter().take(8).enumerate() {
            word[i] = b;
            mask[i] = 0xff;
        }
        Literal { bytes: bytes.to_vec(), word: u64::from_le_bytes(word), mask: u64::from_le_bytes(mask) }
    }

    /// Whether `s` starts with this text.
    #[inline(always)]
    fn starts(&self, s: &[u8]) -> bool {
        match s.first_chunk::<8>() {
            Some(chunk) if self.bytes.len() <= 8 => u64::from_le_bytes(*chunk) & self.mask == self.word,
            _ => has_prefix(s, &self.bytes),
        }
    }

    fn first(&self) -> u8 {
        self.bytes[0]
    }
}

/// Whose format-string language a [`Pattern`] was written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Nginx,
    Apache,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Item {
    Literal(Vec<u8>),
    Field(Field),
}

/// What a variable or code of a format string holds, as far as logmon
/// reads it. Everything it does not read is [`Field::Opaque`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    /// `$remote_addr`, `%h`, `%a`.
    Client,
    /// The first time field of the line is the line's time.
    Time(Stamp),
    /// `GET /path?q HTTP/1.1`: method and section.
    Request,
    Method,
    /// A path with or without its query: `$request_uri`, `$uri`, `%U`.
    Target,
    /// A query string, which is only ever read as part of the target it
    /// follows (`%U%q`, `$uri$is_args$args`); alone it is opaque.
    Query,
    /// Three digits, or `-` (an aborted request, status unknown).
    Status,
    /// A byte count; `-` is zero.
    Bytes,
    /// The response time, in the unit the server writes it.
    Latency(Span),
    /// A proxy's upstream time: the response time only when the format
    /// has no better one; `-` or a list of attempts leaves it unknown.
    UpstreamLatency,
    /// `$host`, `$server_name`, `%v`, `%V`.
    Host,
    Opaque,
}

impl Field {
    /// Whether values of this kind never hold a space.
    fn is_word(self) -> bool {
        matches!(
            self,
            Field::Client
                | Field::Method
                | Field::Target
                | Field::Status
                | Field::Bytes
                | Field::Latency(_)
                | Field::Host
        )
    }
}

/// The forms a time field takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stamp {
    /// `10/Oct/2000:13:55:36 -0700` and its variants.
    Clf(Zone),
    /// `2000-10-10T13:55:36-07:00`.
    Iso8601,
    /// Seconds, milliseconds or microseconds since the epoch.
    Unix(Unit),
}

/// The unit of a logged duration; seconds may carry a decimal fraction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Span {
    Seconds,
    Millis,
    Micros,
    Nanos,
}

/// Why a format string was refused, and the part of it at fault.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompileError {
    pub why: &'static str,
    pub at: String,
}

impl fmt::Display for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at '{}'", self.why, self.at)
    }
}

impl CompileError {
    fn new(why: &'static str, at: &str) -> CompileError {
        CompileError { why, at: at.to_owned() }
    }
}

/// Collects items while a dialect reads its format string.
#[derive(Default)]
struct Builder {
    items: Vec<Item>,
}

impl Builder {
    fn literal(&mut self, bytes: &[u8]) {
        match self.items.last_mut() {
            Some(Item::Literal(text)) => text.extend_from_slice(bytes),
            _ if bytes.is_empty() => {}
            _ => self.items.push(Item::Literal(bytes.to_vec())),
        }
    }

    /// Adds a field named `name` in the format string (for errors).
    fn field(&mut self, field: Field, name: &str) -> Result<(), CompileError> {
        match (self.items.last(), field) {
            // `%U%q`, `$uri$is_args$args`: the query belongs to the target.
            (Some(Item::Field(Field::Target)), Field::Query) => Ok(()),
            (Some(Item::Field(_)), _) => {
                Err(CompileError::new("two fields with nothing between them cannot be told apart", name))
            }
            (_, Field::Query) => {
                self.items.push(Item::Field(Field::Opaque));
                Ok(())
            }
            _ => {
                self.items.push(Item::Field(field));
                Ok(())
            }
        }
    }

    fn finish(self, dialect: Dialect, text: &str) -> Result<Pattern, CompileError> {
        let has = |wanted: fn(Field) -> bool| self.items.iter().any(|i| matches!(i, Item::Field(f) if wanted(*f)));
        if !has(|f| matches!(f, Field::Time(_))) {
            return Err(CompileError::new("no time field (such as $time_local or %t)", text));
        }
        if !has(|f| f == Field::Status) {
            return Err(CompileError::new("no status field (such as $status or %>s)", text));
        }
        let steps = steps(&self.items);
        Ok(Pattern { dialect, items: self.items, steps, padded: false })
    }
}

/// The matcher's steps for `items`, which never has two fields in a row.
fn steps(items: &[Item]) -> Vec<Step> {
    items
        .iter()
        .enumerate()
        .map(|(i, item)| match item {
            Item::Literal(text) => Step::Literal(Literal::new(text)),
            Item::Field(field) => {
                let end = match items.get(i + 1) {
                    Some(Item::Literal(text)) if i + 2 == items.len() => End::Last(Literal::new(text)),
                    Some(Item::Literal(text)) => End::Next {
                        literal: Literal::new(text),
                        before_status: items.get(i + 2) == Some(&Item::Field(Field::Status)),
                    },
                    _ => End::Line,
                };
                Step::Field { field: *field, end }
            }
        })
        .collect()
}

impl Pattern {
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Whether the format's own text holds `byte`.
    pub fn writes(&self, byte: u8) -> bool {
        self.items.iter().any(|i| matches!(i, Item::Literal(text) if text.contains(&byte)))
    }

    /// Whether lines of this format can carry a response time (for the
    /// latency rules of `--alert`).
    pub fn carries_latency(&self) -> bool {
        self.items.iter().any(|i| matches!(i, Item::Field(Field::Latency(_) | Field::UpstreamLatency)))
    }

    /// Matches one line (without its line ending) against the pattern.
    pub fn parse<'a>(&self, clock: &mut ClfClock, line: &'a [u8]) -> Result<Record<'a>, Malformed> {
        let mut record = Record::default();
        let mut time = None;
        let mut at = 0;
        for step in &self.steps {
            match step {
                Step::Literal(literal) => {
                    if !literal.starts(&line[at..]) {
                        return Err(Malformed::NotFormat);
                    }
                    at += literal.bytes.len();
                    if self.padded && literal.bytes.ends_with(b" ") {
                        at += line[at..].iter().take_while(|&&c| c == b' ').count();
                    }
                }
                Step::Field { field, end } => {
                    let end = field_end(line, at, end, field.is_word())?;
                    let value = &line[at..end];
                    match field {
                        Field::Time(stamp) if time.is_none() => time = Some(read_time(clock, *stamp, value)?),
                        _ => fill(&mut record, *field, value)?,
                    }
                    at = end;
                }
            }
        }
        if at != line.len() {
            return Err(Malformed::NotFormat);
        }
        // The compiler insists on a time field, so `time` is set here.
        record.time = time.ok_or(Malformed::NoTimestamp)?;
        Ok(record)
    }
}

/// Where a field starting at `from` ends. A quote escaped by a backslash
/// does not end a field. A `word` never runs past a space: one that would
/// has matched the wrong text, and the line is of another format.
#[inline]
fn field_end(line: &[u8], from: usize, end: &End, word: bool) -> Result<usize, Malformed> {
    let (stop, literal) = match end {
        End::Line => return Ok(line.len()),
        End::Last(literal) => match line.len().checked_sub(literal.bytes.len()) {
            Some(stop) if stop >= from && literal.starts(&line[stop..]) => (stop, literal),
            _ => return Err(Malformed::NotFormat),
        },
        End::Next { literal, before_status } => (literal_at(line, from, literal, *before_status, word)?, literal),
    };
    if word && literal.first() != b' ' && bytes::find(&line[from..stop], b' ').is_some() {
        return Err(Malformed::NotFormat);
    }
    Ok(stop)
}

/// Where `literal` next starts, from `from` on.
#[inline]
fn literal_at(
    line: &[u8],
    from: usize,
    literal: &Literal,
    before_status: bool,
    word: bool,
) -> Result<usize, Malformed> {
    let first = literal.first();
    let mut at = from;
    // Fields are short: a word-at-a-time search beats memchr's setup.
    while let Some(found) = bytes::find(&line[at..], first) {
        let start = at + found;
        if literal.starts(&line[start..])
            && !(first == b'"' && escaped(&line[from..start]))
            && (!before_status || status_follows(&line[start + literal.bytes.len()..]))
        {
            return Ok(start);
        }
        // A word ends at its first space, whatever follows it.
        if word && first == b' ' {
            break;
        }
        at = start + 1;
    }
    Err(Malformed::NotFormat)
}

/// Whether `s` starts with `prefix`: literals are a few bytes, where a
/// loop is cheaper than a call to memcmp.
#[inline(always)]
fn has_prefix(s: &[u8], prefix: &[u8]) -> bool {
    s.len() >= prefix.len() && s.iter().zip(prefix).all(|(a, b)| a == b)
}

/// Whether a quote after `value` is escaped: an odd run of backslashes.
fn escaped(value: &[u8]) -> bool {
    value.iter().rev().take_while(|&&c| c == b'\\').count() % 2 == 1
}

/// Whether `s` starts with something a status field could be.
fn status_follows(s: &[u8]) -> bool {
    let n = s.iter().take_while(|c| c.is_ascii_digit()).count();
    n == 3 || s.first() == Some(&b'-')
}

fn read_time(clock: &mut ClfClock, stamp: Stamp, value: &[u8]) -> Result<Epoch, Malformed> {
    match stamp {
        Stamp::Clf(_) if value.len() == CLF_LEN => clock.parse(value),
        Stamp::Clf(zone) => timestamp::parse_clf_variant(value, zone),
        Stamp::Iso8601 => timestamp::parse_iso8601(value),
        Stamp::Unix(unit) => timestamp::parse_unix(value, unit),
    }
    .ok_or(Malformed::BadTimestamp)
}

/// Stores what `value` says in `record`; the first of two fields that
/// say the same thing wins, except a true response time over an upstream one.
fn fill<'a>(record: &mut Record<'a>, field: Field, value: &'a [u8]) -> Result<(), Malformed> {
    let known = |s: &'a [u8]| (s != b"-" && !s.is_empty()).then_some(s);
    match field {
        Field::Client => record.client = record.client.or(known(value)),
        Field::Request => {
            if record.section.is_none() {
                record.section = section::of_request(value);
            }
            record.method = record.method.or(parse::request_method(value));
        }
        Field::Method => record.method = record.method.or(known(value)),
        Field::Target => {
            if record.section.is_none() {
                record.section = known(value).and_then(section::of_target);
            }
        }
        // `000` (Squid, CloudFront: no response) is as unknown as `-`.
        Field::Status if !value.is_empty() && value.iter().all(|&c| c == b'0') => record.status = UNKNOWN_STATUS,
        Field::Status => record.status = parse::status(value)?,
        Field::Bytes => record.bytes = parse::byte_count(value)?,
        Field::Latency(span) => record.latency_us = duration_us(value, span).or(record.latency_us),
        Field::UpstreamLatency => record.latency_us = record.latency_us.or(duration_us(value, Span::Seconds)),
        Field::Host => record.vhost = record.vhost.or(known(value)),
        Field::Time(_) | Field::Query | Field::Opaque => {}
    }
    Ok(())
}

/// A logged duration in microseconds: `0.042` seconds, `12` ms, `12.5` ms,
/// `1234` µs, `1234567` ns. `None` for `-` or anything else.
pub fn duration_us(value: &[u8], span: Span) -> Option<u64> {
    let (whole, fraction) = match memchr(b'.', value) {
        Some(dot) => (&value[..dot], &value[dot + 1..]),
        None => (value, &b""[..]),
    };
    let whole = timestamp::digits(whole)?;
    if !fraction.iter().all(u8::is_ascii_digit) || fraction.len() > 18 {
        return None;
    }
    // Micro-units per unit, and the fraction's digits that reach one µs.
    let (per_unit, places) = match span {
        Span::Seconds => (1_000_000, 6),
        Span::Millis => (1_000, 3),
        Span::Micros => (1, 0),
        Span::Nanos => return Some(whole / 1_000),
    };
    let kept = &fraction[..fraction.len().min(places)];
    let mut part = if kept.is_empty() { 0 } else { timestamp::digits(kept)? };
    for _ in kept.len()..places {
        part *= 10;
    }
    whole.checked_mul(per_unit)?.checked_add(part)
}

#[cfg(test)]
mod tests;
