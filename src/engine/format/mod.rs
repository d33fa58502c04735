//! Log formats described by a format string: an nginx `log_format` or
//! Apache `LogFormat` string (the user's, or a built-in's such as `common`
//! and `combined`, [`preset`]) compiled once into literals and typed
//! fields, then matched against each line left to right without copying or
//! allocating. This file owns the types, the compiler, the matcher's entry
//! points and what a built-in tolerates beyond its text ([`Tolerance`]);
//! the usual line is read by compiled operations ([`op`]), any other by
//! the general reading of each field ([`step`]). Also JSON lines
//! ([`json`]), W3C extended logs ([`w3c`]) and container wrappers
//! ([`wrapper`]).

pub mod apache;
pub mod json;
pub mod nginx;
mod op;
pub mod preset;
mod step;
pub mod w3c;
pub mod wrapper;

use std::fmt;

use memchr::memchr;

use self::op::{Lit, Ops, ops};
use super::parse::{self, Malformed, Parsed, Record, UNKNOWN_STATUS};
use super::timestamp::{self, CLF_LEN, ClfClock, Epoch, Unit, Zone};
use super::{bytes, section};

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
    /// The steps compiled for the usual line (see [`op::Op`]); empty when
    /// the pattern has none (every line is read the general way).
    ops: Ops,
    /// What the description tolerates beyond its text.
    tolerance: Tolerance,
    /// The step of the line's time field (the compiler insists on one).
    time_step: usize,
}

/// What a description may tolerate beyond its own text: the general
/// capabilities the NCSA built-ins (`common`, `combined`) are described
/// with. A user's format string tolerates none of them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Tolerance {
    /// Any text may come before the first field (a syslog prefix): a line
    /// that does not match from its start is anchored at its time, at the
    /// first place the literal before the time (` [`) opens one that reads,
    /// and its fate is decided from there on. The fields before the time
    /// are single words, read from the first word start from which they
    /// end right at that literal (none when too few words are there).
    pub(crate) prefix: bool,
    /// More fields may follow the last one, after a space; they are not read.
    pub(crate) more: bool,
    /// A line that fails is blamed on the field at fault (no timestamp, bad
    /// status...) rather than on the format as a whole.
    pub(crate) blame: bool,
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
    /// What must follow the literal for it to end the field.
    follow: Follow,
    /// How the field is read, chosen when the format is compiled.
    read: Read,
    /// Whether spaces after the literal are padding (then the field is read
    /// the general way).
    pads: bool,
    /// The literal and what follows it as an operation checks them, when
    /// the literal is short enough.
    lit: Option<Lit>,
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
    /// At the field's first space or the line's end, when more fields may
    /// follow the last one ([`Tolerance::more`]).
    Open,
}

/// What must follow the literal after a field for it to end the field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Follow {
    Anything,
    /// A status (`-`, or three digits and no fourth): a quoted request
    /// ends at the first quote that a status follows.
    Status,
    /// A space or the line's end: the last field's literal, when more
    /// fields may follow it ([`Tolerance::more`]).
    Break,
}

impl Follow {
    /// Whether `s`, the text after the literal, fits.
    #[inline(always)]
    fn fits(self, s: &[u8]) -> bool {
        match self {
            Follow::Anything => true,
            Follow::Status => status_follows(s),
            Follow::Break => s.first().is_none_or(|&c| c == b' '),
        }
    }
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
    /// A last field never read that more fields may follow: when the line
    /// ends with its literal, not escaped, the line's end serves (the
    /// field is never read, and any earlier end would leave the rest to
    /// the fields that may follow); otherwise it is read the general way.
    Rest,
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
    fn of(field: Field, end: End, literal: &Literal, follow: Follow) -> Read {
        let first = literal.first();
        let before_status = follow == Follow::Status;
        match (end, field) {
            (End::Last, Field::Opaque) => Read::Unread,
            (End::Next, Field::Opaque) if follow == Follow::Break => Read::Rest,
            (End::Open, Field::Status) => Read::Status,
            (End::Open, Field::Bytes) => Read::Bytes,
            (End::Line | End::Last | End::Open, _) => Read::General,
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
        let tolerance = Tolerance::default();
        let (lead, steps) = steps(&self.items, tolerance);
        let time_step = steps.iter().position(|s| matches!(s.field, Field::Time(_))).unwrap_or_default();
        let ops = ops(lead.as_ref(), &steps, false);
        Ok(Pattern { dialect, items: self.items, lead, steps, ops, padded: false, tolerance, time_step })
    }
}

/// The text before the first field of `items`, which never has two fields
/// in a row, and the matcher's steps: each field with the literal after it.
fn steps(items: &[Item], tolerance: Tolerance) -> (Option<Literal>, Vec<Step>) {
    let time = items.iter().position(|i| matches!(i, Item::Field(Field::Time(_)))).unwrap_or_default();
    let lead = match items.first() {
        Some(Item::Literal(text)) => Some(Literal::new(text)),
        _ => None,
    };
    let steps = items
        .iter()
        .enumerate()
        .filter_map(|(i, item)| {
            let Item::Field(field) = item else { return None };
            let last = i + 2 == items.len();
            let (end, literal) = match items.get(i + 1) {
                Some(Item::Literal(text)) if last && !tolerance.more => (End::Last, Literal::new(text)),
                Some(Item::Literal(text)) => (End::Next, Literal::new(text)),
                _ if tolerance.more => (End::Open, Literal::new(b"")),
                _ => (End::Line, Literal::new(b"")),
            };
            let follow = match end {
                End::Next if items.get(i + 2) == Some(&Item::Field(Field::Status)) => Follow::Status,
                End::Next if last => Follow::Break,
                End::Open => Follow::Break,
                _ => Follow::Anything,
            };
            // Under a prefix, the fields before the time are single words.
            let word = field.is_word() || (tolerance.prefix && i < time);
            let read = Read::of(*field, end, &literal, follow);
            let lit = (literal.len() <= 8).then(|| Lit::new(&literal.bytes, follow));
            Some(Step { field: *field, word, end, literal, follow, read, pads: false, lit })
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
    /// one pass from left to right (see [`Tolerance::prefix`] for a line
    /// that does not match from its start).
    #[inline]
    pub fn parse<'a>(&self, clock: &mut ClfClock, line: &'a [u8]) -> Result<Record<'a>, Malformed> {
        let mut parsed = Parsed::Skip;
        if let Some(()) = self.fast(clock, line, &mut parsed)
            && let Parsed::Hit(record) = parsed
        {
            return Ok(record);
        }
        self.slow(clock, line)
    }

    /// As [`Pattern::parse`], into `parsed` as the parser hands it on: the
    /// usual line's record is built there, not copied there. Says whether
    /// the compiled operations read it, a hit known without a look at
    /// `parsed` (`combined` asked for by name then asks nothing more of the
    /// usual line); `false` when the general reading wrote `parsed`.
    #[inline(always)]
    pub(crate) fn parse_into<'a>(&self, clock: &mut ClfClock, line: &'a [u8], parsed: &mut Parsed<'a>) -> bool {
        // A line that is all the usual NCSA head (every detected common or
        // combined line, the nginx string equal to combined) is read by
        // the head alone.
        let read = match &self.ops {
            Ops::Head(head) => {
                head.read_into(&self.steps, clock, line, parsed).map(|at| debug_assert!(self.ends_line(line, at)))
            }
            Ops::Steps { .. } => self.fast(clock, line, parsed),
        };
        if read.is_some() {
            return true;
        }
        *parsed = match self.slow(clock, line) {
            Ok(record) => Parsed::Hit(record),
            Err(why) => Parsed::Malformed(why),
        };
        false
    }

    /// Reads the usual line into `parsed` with the compiled operations
    /// alone; `None` for anything they do not read (the general way then
    /// reads it, with the same result on every line they do read: tested),
    /// `parsed` then left as it may be.
    /// Out of line: on its own it keeps its state in registers, where
    /// inlined into the loop that counts lines it spilled more than the
    /// call costs (measured with the fused head, [`op::Head`]).
    #[inline(never)]
    fn fast<'a>(&self, clock: &mut ClfClock, line: &'a [u8], parsed: &mut Parsed<'a>) -> Option<()> {
        let at = match &self.lead {
            Some(lead) if !lead.starts(line) => return None,
            Some(lead) => lead.len(),
            None => 0,
        };
        // The usual NCSA head is read on its own (see [`op::Head::read_into`]).
        let mut at = match self.ops.head() {
            Some(head) => head.read_into(&self.steps, clock, line, parsed)?,
            None => {
                *parsed = Parsed::Hit(Record::default());
                at
            }
        };
        let Parsed::Hit(record) = parsed else { return None };
        // The head read the line's time, when there is one.
        let mut time = self.ops.head().map(|_| record.time);
        for op in self.ops.rest() {
            at = op.read(&self.steps, clock, line, at, record, &mut time)?;
        }
        // Each pattern's last field ends at the line's end, or (when more
        // fields may follow) before a space or the line's end, and every
        // operation checks what must follow its literal: a line the
        // operations read to their end needs no further look at its end.
        record.time = time?;
        debug_assert!(self.ends_line(line, at), "{line:?} read to {at}");
        Some(())
    }

    /// Reads a line the fast path does not, the general way, and says why
    /// one fails.
    #[cold]
    #[inline(never)]
    fn slow<'a>(&self, clock: &mut ClfClock, line: &'a [u8]) -> Result<Record<'a>, Malformed> {
        match self.parse_from(clock, line, 0) {
            Ok(record) => Ok(record),
            Err(_) if self.tolerance.prefix && self.time_step > 0 => self.by_time(clock, line),
            Err(miss) => Err(self.blame(line, miss)),
        }
    }

    /// Matches a line anchored at its time, under a [`Tolerance::prefix`]:
    /// the time is at the first place the literal before it ends (` [`)
    /// that opens a time that reads, and the line's fate is decided from
    /// there on. The fields before the time are the words right before that
    /// literal, when enough of them fit; anything before them is a prefix.
    #[cold]
    fn by_time<'a>(&self, clock: &mut ClfClock, line: &'a [u8]) -> Result<Record<'a>, Malformed> {
        let opener = &self.steps[self.time_step - 1].literal;
        let Some(&open_byte) = opener.bytes.last() else { return Err(Malformed::NotFormat) };
        let time_step = &self.steps[self.time_step];
        let mut first_defect = None;
        for open in memchr::memchr_iter(open_byte, line) {
            let Some(start) = (open + 1).checked_sub(opener.len()).filter(|&s| opener.starts(&line[s..])) else {
                first_defect.get_or_insert(self.blamed(Malformed::NotClf));
                continue;
            };
            // The time alone first, within the longest a time can be, so
            // that each bracket of a line of many costs only that.
            let window = &line[..line.len().min(open + 1 + MAX_TIME_LEN + time_step.literal.len())];
            if let Err(why) = time_step.next(clock, window, open + 1, &mut Record::default(), &mut None) {
                match self.blame(window, Miss { step: self.time_step, at: open + 1, why }) {
                    Malformed::BadTimestamp | Malformed::NotFormat => {
                        first_defect.get_or_insert(self.blamed(Malformed::BadTimestamp));
                        continue;
                    }
                    why => return Err(why),
                }
            }
            // A time that reads: the line's fate is decided from here on.
            let mut record = self.before_time(clock, line, start);
            let mut time = None;
            self.run(self.time_step, clock, line, open + 1, &mut record, &mut time)
                .map_err(|miss| self.blame(line, miss))?;
            // The compiler insists on a time field, so `time` is set here.
            record.time = time.ok_or(Malformed::NoTimestamp)?;
            return Ok(record);
        }
        Err(first_defect.unwrap_or(self.blamed(Malformed::NoTimestamp)))
    }

    /// The fields before the time, read from the first word start before
    /// `stop` (where the literal before the time starts) from which they
    /// end right there; none when no start fits.
    fn before_time<'a>(&self, clock: &mut ClfClock, line: &'a [u8], stop: usize) -> Record<'a> {
        let starts = std::iter::once(0).chain(memchr::memchr_iter(b' ', &line[..stop]).map(|space| space + 1));
        for start in starts {
            let mut record = Record::default();
            let mut at = start;
            let fits = self.lead(line, &mut at)
                && self.steps[..self.time_step]
                    .iter()
                    .all(|step| step.next(clock, line, at, &mut record, &mut None).map(|after| at = after).is_ok());
            if fits && at == stop + self.steps[self.time_step - 1].literal.len() {
                return record;
            }
        }
        Record::default()
    }

    /// `why` under [`Tolerance::blame`], else the format's own reason.
    fn blamed(&self, why: Malformed) -> Malformed {
        if self.tolerance.blame { why } else { Malformed::NotFormat }
    }

    /// The reason of a miss: as the matcher found it, or, under
    /// [`Tolerance::blame`], that of the field at fault. A field whose value
    /// reads but whose literal is not there blames the next field, which is
    /// not where it should be.
    #[cold]
    fn blame(&self, line: &[u8], miss: Miss) -> Malformed {
        if !self.tolerance.blame || miss.why != Malformed::NotFormat {
            return miss.why;
        }
        let Some(step) = self.steps.get(miss.step) else { return miss.why };
        if step.value_reads(line, miss.at) {
            return self.steps.get(miss.step + 1).map_or(Malformed::NotFormat, |next| missing(next.field));
        }
        let rest = &line[miss.at.min(line.len())..];
        if step.follow == Follow::Status && memchr(step.literal.first(), rest).is_some() {
            // A quoted request that no status follows.
            return Malformed::BadStatus;
        }
        missing(step.field)
    }

    /// Matches the line from `start` on.
    #[inline(always)]
    fn parse_from<'a>(&self, clock: &mut ClfClock, line: &'a [u8], start: usize) -> Result<Record<'a>, Miss> {
        let mut record = Record::default();
        let mut time = None;
        let mut at = start;
        if !self.lead(line, &mut at) {
            return Err(Miss { step: 0, at, why: Malformed::NotFormat });
        }
        self.run(0, clock, line, at, &mut record, &mut time)?;
        // The compiler insists on a time field, so `time` is set here.
        record.time = time.ok_or(Miss { step: self.steps.len(), at, why: Malformed::NoTimestamp })?;
        Ok(record)
    }

    /// Steps over the literal before the first field at `at`, if it is there.
    #[inline(always)]
    fn lead(&self, line: &[u8], at: &mut usize) -> bool {
        let Some(lead) = &self.lead else { return true };
        if !lead.starts(&line[*at..]) {
            return false;
        }
        *at += lead.len();
        if self.padded && lead.pads() {
            *at += line[*at..].iter().take_while(|&&c| c == b' ').count();
        }
        true
    }

    /// Runs the steps from `first` on from `at`, to the line's end.
    #[inline(always)]
    fn run<'a>(
        &self,
        first: usize,
        clock: &mut ClfClock,
        line: &'a [u8],
        mut at: usize,
        record: &mut Record<'a>,
        time: &mut Option<Epoch>,
    ) -> Result<(), Miss> {
        for (i, step) in self.steps.iter().enumerate().skip(first) {
            let from = at;
            at = step.next(clock, line, at, record, time).map_err(|why| Miss { step: i, at: from, why })?;
        }
        if !self.ends_line(line, at) {
            return Err(Miss { step: self.steps.len(), at, why: Malformed::NotFormat });
        }
        Ok(())
    }

    /// Whether the line ends at `at`, where its last field's literal
    /// ended: at the line's end, or, when more fields may follow
    /// ([`Tolerance::more`]), at a space.
    #[inline(always)]
    fn ends_line(&self, line: &[u8], at: usize) -> bool {
        at == line.len() || (self.tolerance.more && line[at] == b' ')
    }

    /// Gives the pattern the tolerance of a description.
    pub(super) fn tolerate(&mut self, tolerance: Tolerance) {
        self.tolerance = tolerance;
        let (lead, steps) = steps(&self.items, tolerance);
        (self.lead, self.steps) = (lead, steps);
        self.ops = ops(self.lead.as_ref(), &self.steps, self.padded);
        if self.padded {
            self.pad();
        }
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
        self.ops = ops(self.lead.as_ref(), &self.steps, true);
    }
}

/// Whether `byte` can be part of a CLF time (`10/Oct/2000:13:55:36 -0700`).
#[inline(always)]
fn in_clf_time(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'/' | b':' | b' ' | b'+' | b'-')
}

/// The longest a time's value can be: the longest accepted, a CLF time
/// with nanoseconds and a `+hh:mm` offset, is 37 bytes (format::tests
/// checks that none is longer).
const MAX_TIME_LEN: usize = 64;

/// Where and why a try to match a line failed.
#[derive(Clone, Copy, Debug)]
struct Miss {
    /// The step that failed (the number of steps: the line's end).
    step: usize,
    /// Where its field starts.
    at: usize,
    why: Malformed,
}

/// Under [`Tolerance::blame`], the reason of a line where a field is not
/// found.
fn missing(field: Field) -> Malformed {
    match field {
        Field::Time(_) => Malformed::BadTimestamp,
        Field::Request => Malformed::NoRequest,
        Field::Status => Malformed::BadStatus,
        Field::Bytes => Malformed::BadBytes,
        _ => Malformed::NotFormat,
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
        // A time whose zone may be missing may also be written in ISO 8601
        // (as the NCSA built-ins read in brackets).
        Stamp::Clf(Zone::Optional) => {
            timestamp::parse_clf_variant(value, Zone::Optional).or_else(|| timestamp::parse_iso8601(value))
        }
        Stamp::Clf(Zone::Required) => timestamp::parse_clf_variant(value, Zone::Required),
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
/// `1234` µs, `1234567` ns. `None` for `-` or anything else. Its digits are
/// read eight at a time ([`bytes::leading_digits`]).
pub fn duration_us(value: &[u8], span: Span) -> Option<u64> {
    // Up to 19 digits: a 20th is not the point, so the value is refused.
    let (whole, len) = bytes::leading_digits(value);
    let fraction = match value.get(len) {
        None => &[][..],
        Some(b'.') => &value[len + 1..],
        Some(_) => return None,
    };
    let (digits, kept) = bytes::leading_digits(fraction);
    if len == 0 || fraction.len() > 18 || kept != fraction.len() {
        return None;
    }
    // Micro-units per unit, and the fraction's digits that reach one µs.
    let (per_unit, places) = match span {
        Span::Seconds => (1_000_000, 6),
        Span::Millis => (1_000, 3),
        Span::Micros => (1, 0),
        Span::Nanos => return Some(whole / 1_000),
    };
    // The fraction's first `places` digits, as a count of µs.
    let part = match kept.checked_sub(places) {
        Some(beyond) => digits / POWERS_OF_TEN[beyond],
        None => digits * POWERS_OF_TEN[places - kept],
    };
    whole.checked_mul(per_unit)?.checked_add(part)
}

/// [`duration_us`] of a value of four to eight bytes (JSON loggers' seconds,
/// Caddy's `0.000049`), read in one word ([`bytes::short_decimal`]); `None`
/// sends the caller to [`duration_us`]. Apart from it, so the text formats'
/// short `15` ms values pay nothing for it.
pub fn short_duration_us(value: &[u8], span: Span) -> Option<u64> {
    // `number` is the value's digits without its point, `after` of them
    // past it (at most 7): the µs are `number` scaled by the span's places
    // less `after`; too short to overflow.
    let (number, after) = bytes::short_decimal(value)?;
    Some(match span {
        Span::Seconds if after <= 6 => number * POWERS_OF_TEN[6 - after],
        Span::Seconds => number / POWERS_OF_TEN[after - 6],
        Span::Millis if after <= 3 => number * POWERS_OF_TEN[3 - after],
        Span::Millis => number / POWERS_OF_TEN[after - 3],
        Span::Micros => number / POWERS_OF_TEN[after],
        Span::Nanos => number / POWERS_OF_TEN[after + 3],
    })
}

/// 10⁰ to 10¹⁸.
const POWERS_OF_TEN: [u64; 19] = {
    let mut powers = [1; 19];
    let mut i = 1;
    while i < 19 {
        powers[i] = powers[i - 1] * 10;
        i += 1;
    }
    powers
};

#[cfg(test)]
mod tests;
