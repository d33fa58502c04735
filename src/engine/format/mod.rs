//! Log formats described by the user: an nginx `log_format` or Apache
//! `LogFormat` string compiled once into literals and typed fields, then
//! matched against each line left to right without copying or allocating.
//! Also the servers' formats known by name ([`preset`]), JSON lines
//! ([`json`]), W3C extended logs ([`w3c`]) and container wrappers
//! ([`wrapper`]).

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
    /// Literal text before the first field, if any.
    lead: Option<Literal>,
    /// The fields as the matcher reads them, left to right, each with the
    /// literal that ends it.
    steps: Vec<Step>,
    /// Spaces after a literal that ends in one are padding (Squid's).
    padded: bool,
}

/// One field of the matcher and where it ends: each field is found once,
/// in one forward pass, and the literal after it is consumed with it.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Step {
    field: Field,
    /// The field's values never hold a space ([`Field::is_word`]).
    word: bool,
    end: End,
    /// The literal after the field (empty when the field ends the line).
    literal: Literal,
    /// Whether a status follows the literal: the field ends at the first
    /// occurrence of the literal that a status follows.
    before_status: bool,
    /// How the field is read, chosen when the format is compiled.
    read: Read,
    /// Whether spaces after the literal are padding (then the field is read
    /// the general way).
    pads: bool,
}

/// Where a field ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum End {
    /// At the end of the line.
    Line,
    /// Before the literal the line ends with (the pattern's last item).
    Last,
    /// At the first occurrence of the next literal that fits.
    Next,
}

/// How a step reads its field: the usual forms in the pass that finds where
/// they end, chosen where the literal after them cannot start inside that
/// form (any other form is then read the general way, with the same
/// result), and the usual ends with the search for them fixed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Read {
    /// The general way only.
    General,
    /// A field up to a literal that starts with a space.
    ToSpace,
    /// A field that may hold spaces up to a literal that starts with an
    /// unescaped quote.
    ToQuote,
    /// As [`Read::ToSpace`], for a client address.
    ClientToSpace,
    /// As [`Read::ToSpace`] and [`Read::ToQuote`], for a field never read.
    SkipToSpace,
    SkipToQuote,
    /// A field never read (a referer, a user agent) before the literal that
    /// ends the line: only that literal is checked.
    Unread,
    /// `10/Oct/2000:13:55:36 -0700`, ended right after its 26 bytes.
    ClfTime,
    /// Three digits.
    Status,
    /// Digits.
    Bytes,
    /// `GET /a/b?c HTTP/1.1`, its method and section read on the way to
    /// its end.
    Request,
}

impl Read {
    fn of(field: Field, end: End, literal: &Literal, before_status: bool) -> Read {
        let first = literal.first();
        match (end, field) {
            (End::Last, Field::Opaque) => Read::Unread,
            (End::Line | End::Last, _) => Read::General,
            (End::Next, Field::Request) if before_status && matches!(first, b'"' | b' ') => Read::Request,
            // A status after the literal is checked the general way.
            (End::Next, _) if before_status => Read::General,
            (End::Next, Field::Time(Stamp::Clf(_))) if !in_clf_time(first) => Read::ClfTime,
            (End::Next, Field::Time(_)) => Read::General,
            (End::Next, Field::Status) if !first.is_ascii_digit() => Read::Status,
            (End::Next, Field::Bytes) if !first.is_ascii_digit() && first != b'-' => Read::Bytes,
            (End::Next, Field::Opaque) if first == b' ' => Read::SkipToSpace,
            (End::Next, Field::Client) if first == b' ' => Read::ClientToSpace,
            (End::Next, Field::Opaque) if first == b'"' => Read::SkipToQuote,
            (End::Next, _) if first == b' ' => Read::ToSpace,
            (End::Next, _) if first == b'"' && !field.is_word() => Read::ToQuote,
            (End::Next, _) => Read::General,
        }
    }
}

/// Literal text, with its first eight bytes as a word to compare at once.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Literal {
    bytes: Vec<u8>,
    word: u64,
    mask: u64,
    /// The length and first byte of `bytes`, kept at hand.
    len: usize,
    first: u8,
}

impl Literal {
    fn new(bytes: &[u8]) -> Literal {
        let mut word = [0u8; 8];
        let mut mask = [0u8; 8];
        for (i, &b) in bytes.iter().take(8).enumerate() {
            word[i] = b;
            mask[i] = 0xff;
        }
        Literal {
            bytes: bytes.to_vec(),
            word: u64::from_le_bytes(word),
            mask: u64::from_le_bytes(mask),
            len: bytes.len(),
            first: bytes.first().copied().unwrap_or_default(),
        }
    }

    /// Whether `s` starts with this text.
    #[inline(always)]
    fn starts(&self, s: &[u8]) -> bool {
        match s.first_chunk::<8>() {
            Some(chunk) if self.len <= 8 => u64::from_le_bytes(*chunk) & self.mask == self.word,
            _ => has_prefix(s, &self.bytes),
        }
    }

    fn first(&self) -> u8 {
        self.first
    }

    fn len(&self) -> usize {
        self.len
    }

    /// Whether padding spaces may follow this text.
    fn pads(&self) -> bool {
        self.bytes.last() == Some(&b' ')
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
        let (lead, steps) = steps(&self.items);
        Ok(Pattern { dialect, items: self.items, lead, steps, padded: false })
    }
}

/// The text before the first field of `items`, which never has two fields
/// in a row, and the matcher's steps: each field with the literal after it.
fn steps(items: &[Item]) -> (Option<Literal>, Vec<Step>) {
    let lead = match items.first() {
        Some(Item::Literal(text)) => Some(Literal::new(text)),
        _ => None,
    };
    let steps = items
        .iter()
        .enumerate()
        .filter_map(|(i, item)| {
            let Item::Field(field) = item else { return None };
            let (end, literal) = match items.get(i + 1) {
                Some(Item::Literal(text)) if i + 2 == items.len() => (End::Last, Literal::new(text)),
                Some(Item::Literal(text)) => (End::Next, Literal::new(text)),
                _ => (End::Line, Literal::new(b"")),
            };
            let before_status = end == End::Next && items.get(i + 2) == Some(&Item::Field(Field::Status));
            let read = Read::of(*field, end, &literal, before_status);
            Some(Step { field: *field, word: field.is_word(), end, literal, before_status, read, pads: false })
        })
        .collect();
    (lead, steps)
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

    /// Matches one line (without its line ending) against the pattern, in
    /// one pass from left to right.
    pub fn parse<'a>(&self, clock: &mut ClfClock, line: &'a [u8]) -> Result<Record<'a>, Malformed> {
        let mut record = Record::default();
        let mut time = None;
        let mut at = 0;
        if let Some(lead) = &self.lead {
            if !lead.starts(line) {
                return Err(Malformed::NotFormat);
            }
            at = lead.len();
            if self.padded && lead.pads() {
                at += line[at..].iter().take_while(|&&c| c == b' ').count();
            }
        }
        for step in &self.steps {
            at = match step.read {
                Read::ToSpace => {
                    let stop = step.to_space(line, at)?;
                    step.keep(&mut record, &line[at..stop])?;
                    stop + step.literal.len()
                }
                Read::ClientToSpace => {
                    let stop = step.to_space(line, at)?;
                    record.client = record.client.or(known(&line[at..stop]));
                    stop + step.literal.len()
                }
                Read::ToQuote => {
                    let stop = step.to_quote(line, at)?;
                    step.keep(&mut record, &line[at..stop])?;
                    stop + step.literal.len()
                }
                Read::SkipToSpace => match step.dash(line, at) {
                    Some(after) => after,
                    None => step.to_space(line, at)? + step.literal.len(),
                },
                Read::SkipToQuote => match step.dash(line, at) {
                    Some(after) => after,
                    None => step.to_quote(line, at)? + step.literal.len(),
                },
                Read::Unread => step.unread(line, at)?,
                Read::ClfTime => match step.clf_time(clock, line, at, &mut time) {
                    Some(after) => after,
                    None => step.read(clock, line, at, &mut record, &mut time)?,
                },
                Read::Status => match step.status(line, at, &mut record)? {
                    Some(after) => after,
                    None => step.read(clock, line, at, &mut record, &mut time)?,
                },
                Read::Bytes => match step.bytes(line, at, &mut record) {
                    Some(after) => after,
                    None => step.read(clock, line, at, &mut record, &mut time)?,
                },
                Read::Request => match step.request(line, at, &mut record)? {
                    Some(after) => after,
                    None => step.read(clock, line, at, &mut record, &mut time)?,
                },
                Read::General => step.read(clock, line, at, &mut record, &mut time)?,
            };
        }
        if at != line.len() {
            return Err(Malformed::NotFormat);
        }
        // The compiler insists on a time field, so `time` is set here.
        record.time = time.ok_or(Malformed::NoTimestamp)?;
        Ok(record)
    }

    /// Makes spaces after a literal that ends in one padding (Squid's):
    /// such fields are read the general way, which skips them.
    pub(super) fn pad(&mut self) {
        self.padded = true;
        for step in &mut self.steps {
            step.pads = step.end == End::Next && step.literal.pads();
            if step.pads {
                step.read = Read::General;
            }
        }
    }
}

impl Step {
    /// Where a field up to a literal that starts with a space ends: at a
    /// word's first space, or at the first space that starts the literal.
    #[inline(always)]
    fn to_space(&self, line: &[u8], from: usize) -> Result<usize, Malformed> {
        let mut at = from;
        let stop = loop {
            let space = at + bytes::find(&line[at..], b' ').ok_or(Malformed::NotFormat)?;
            if self.literal.starts(&line[space..]) {
                break space;
            }
            // A word ends at its first space, whatever follows it.
            if self.word {
                return Err(Malformed::NotFormat);
            }
            at = space + 1;
        };
        Ok(stop)
    }

    /// Where a field up to a literal that starts with a quote no backslash
    /// escapes ends.
    #[inline(always)]
    fn to_quote(&self, line: &[u8], from: usize) -> Result<usize, Malformed> {
        let mut at = from;
        let stop = loop {
            let quote = at + bytes::find(&line[at..], b'"').ok_or(Malformed::NotFormat)?;
            if self.literal.starts(&line[quote..]) && !escaped(&line[from..quote]) {
                break quote;
            }
            at = quote + 1;
        };
        Ok(stop)
    }

    /// Where the literal after a field never read ends when the field is
    /// the usual `-` (no user, no referer): no search needed. The literal
    /// starts with a space or a quote, which cannot start inside `-`.
    #[inline(always)]
    fn dash(&self, line: &[u8], from: usize) -> Option<usize> {
        (line.get(from) == Some(&b'-') && self.ends_at(line, from + 1)).then(|| from + 1 + self.literal.len())
    }

    /// Keeps what a field that is not a time says.
    #[inline(always)]
    fn keep<'a>(&self, record: &mut Record<'a>, value: &'a [u8]) -> Result<(), Malformed> {
        match self.field {
            Field::Opaque => Ok(()),
            field => fill(record, field, value),
        }
    }

    /// Checks the literal that ends the line after a field never read, and
    /// returns the line's end.
    #[inline(always)]
    fn unread(&self, line: &[u8], from: usize) -> Result<usize, Malformed> {
        match line.len().checked_sub(self.literal.len()) {
            Some(stop) if stop >= from && self.literal.starts(&line[stop..]) => Ok(line.len()),
            _ => Err(Malformed::NotFormat),
        }
    }

    /// Reads this step's field from `from` on into `record` (or `time`) the
    /// general way and returns where the literal after it ends.
    #[inline(never)]
    fn read<'a>(
        &self,
        clock: &mut ClfClock,
        line: &'a [u8],
        from: usize,
        record: &mut Record<'a>,
        time: &mut Option<Epoch>,
    ) -> Result<usize, Malformed> {
        let literal = &self.literal;
        let (stop, after) = match self.end {
            End::Line => (line.len(), line.len()),
            End::Last => (last_stop(line, from, literal, self.word)?, line.len()),
            End::Next => {
                let stop = literal_at(line, from, from, literal, self.before_status, self.word)?;
                (stop, stop + literal.len())
            }
        };
        let value = &line[from..stop];
        match self.field {
            Field::Time(stamp) if time.is_none() => *time = Some(read_time(clock, stamp, value)?),
            field => fill(record, field, value)?,
        }
        if self.pads {
            return Ok(after + line[after..].iter().take_while(|&&c| c == b' ').count());
        }
        Ok(after)
    }

    /// Whether the literal after the field starts at `stop`.
    #[inline(always)]
    fn ends_at(&self, line: &[u8], stop: usize) -> bool {
        line.get(stop..).is_some_and(|rest| self.literal.starts(rest))
    }

    // The usual forms of a time, a status, a byte count and a request, read
    // in the pass that finds where they end: each returns where the literal
    // after the field ends, or `None` to read the field the general way
    // (which gives the same result on every form read here).

    /// `10/Oct/2000:13:55:36 -0700`, the line's first time.
    #[inline(always)]
    fn clf_time(&self, clock: &mut ClfClock, line: &[u8], from: usize, time: &mut Option<Epoch>) -> Option<usize> {
        if time.is_none() && self.ends_at(line, from + CLF_LEN) {
            *time = Some(clock.parse(&line[from..from + CLF_LEN])?);
            return Some(from + CLF_LEN + self.literal.len());
        }
        None
    }

    /// Three digits.
    #[inline(always)]
    fn status(&self, line: &[u8], from: usize, record: &mut Record<'_>) -> Result<Option<usize>, Malformed> {
        let Some(&[a, b, c]) = line.get(from..from + 3) else { return Ok(None) };
        if !([a, b, c].iter().all(u8::is_ascii_digit) && self.ends_at(line, from + 3)) {
            return Ok(None);
        }
        let code = u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0');
        record.status = match code {
            // `000` (Squid, CloudFront: no response) is as unknown as `-`.
            0 => UNKNOWN_STATUS,
            100..=599 => code,
            _ => return Err(Malformed::BadStatus),
        };
        Ok(Some(from + 3 + self.literal.len()))
    }

    /// Up to 19 digits.
    #[inline(always)]
    fn bytes(&self, line: &[u8], from: usize, record: &mut Record<'_>) -> Option<usize> {
        let (bytes, len) = bytes::leading_digits(&line[from..]);
        if len > 0 && self.ends_at(line, from + len) {
            record.bytes = bytes;
            return Some(from + len + self.literal.len());
        }
        None
    }

    /// `GET /a/b?c HTTP/1.1`: its method and section, read on the way to
    /// its end.
    #[inline(always)]
    fn request<'a>(&self, line: &'a [u8], from: usize, record: &mut Record<'a>) -> Result<Option<usize>, Malformed> {
        let Some((method, section, end)) = parse::plain_method_and_section(&line[from..]) else { return Ok(None) };
        let stop = literal_at(line, from, from + end, &self.literal, true, false)?;
        record.section = record.section.or(Some(section));
        record.method = record.method.or(Some(method));
        Ok(Some(stop + self.literal.len()))
    }
}

/// Whether `byte` can be part of a CLF time (`10/Oct/2000:13:55:36 -0700`).
#[inline(always)]
fn in_clf_time(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'/' | b':' | b' ' | b'+' | b'-')
}

/// Where a field starting at `from` stops before `literal`, which ends
/// the line. A `word` holds no space.
#[inline]
fn last_stop(line: &[u8], from: usize, literal: &Literal, word: bool) -> Result<usize, Malformed> {
    match line.len().checked_sub(literal.len()) {
        Some(stop) if stop >= from && literal.starts(&line[stop..]) => {
            if word && literal.first() != b' ' && bytes::find(&line[from..stop], b' ').is_some() {
                return Err(Malformed::NotFormat);
            }
            Ok(stop)
        }
        _ => Err(Malformed::NotFormat),
    }
}

/// Where `literal` next starts after a field that starts at `from`,
/// looking from `search` on, in one pass. A quote escaped by a backslash
/// does not end a field. A `word` never runs past a space: one that would
/// has matched the wrong text, and the line is of another format.
#[inline(always)]
fn literal_at(
    line: &[u8],
    from: usize,
    search: usize,
    literal: &Literal,
    before_status: bool,
    word: bool,
) -> Result<usize, Malformed> {
    let first = literal.first();
    let stops_at_space = word && first != b' ';
    let mut at = search;
    // Fields are short: a word-at-a-time search beats memchr's setup.
    loop {
        let start = if stops_at_space {
            let start = at + bytes::find_either(&line[at..], first, b' ').ok_or(Malformed::NotFormat)?;
            if line[start] == b' ' {
                return Err(Malformed::NotFormat);
            }
            start
        } else {
            at + bytes::find(&line[at..], first).ok_or(Malformed::NotFormat)?
        };
        if literal.starts(&line[start..])
            && !(first == b'"' && escaped(&line[from..start]))
            && (!before_status || status_follows(&line[start + literal.len()..]))
        {
            return Ok(start);
        }
        // A word ends at its first space, whatever follows it.
        if word && first == b' ' {
            return Err(Malformed::NotFormat);
        }
        at = start + 1;
    }
}

/// Whether `s` starts with `prefix`: literals are a few bytes, where a
/// loop is cheaper than a call to memcmp.
#[inline(always)]
fn has_prefix(s: &[u8], prefix: &[u8]) -> bool {
    s.len() >= prefix.len() && s.iter().zip(prefix).all(|(a, b)| a == b)
}

/// Whether a quote after `value` is escaped: an odd run of backslashes.
#[inline(always)]
fn escaped(value: &[u8]) -> bool {
    value.last() == Some(&b'\\') && value.iter().rev().take_while(|&&c| c == b'\\').count() % 2 == 1
}

/// Whether `s` starts with something a status field could be: `-`, or
/// three digits and no fourth.
#[inline(always)]
fn status_follows(s: &[u8]) -> bool {
    match s {
        [b'-', ..] => true,
        [a, b, c, rest @ ..] => {
            a.is_ascii_digit()
                && b.is_ascii_digit()
                && c.is_ascii_digit()
                && !rest.first().is_some_and(u8::is_ascii_digit)
        }
        _ => false,
    }
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

/// A value that says something: not empty, not `-`.
#[inline(always)]
fn known(s: &[u8]) -> Option<&[u8]> {
    (s != b"-" && !s.is_empty()).then_some(s)
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
