//! Access-log lines to records: the [`Record`] type, the [`Parser`] that
//! settles a stream's format and hands each line to its reader, and the
//! reader of the exercise's CSV. NCSA common and combined are descriptions
//! read by the format matcher, as every preset and format string is (see
//! [`super::format`]). Records borrow from the line; nothing is copied or
//! allocated.

use std::fmt;
use std::sync::Arc;

use memchr::memchr;

use super::bytes;
use super::format::preset::{self, Preset};
use super::format::w3c::{self, W3c};
use super::format::{Dialect, Pattern, json, wrapper};
use super::section;
use super::timestamp::{self, ClfClock, Epoch};

/// The log formats logmon reads; `Auto` settles on one at the first valid line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Auto,
    Common,
    Combined,
    Csv,
    /// JSON lines, fields found by their usual names.
    Json,
    /// W3C extended (IIS, CloudFront), columns from `#Fields:`.
    W3c,
    /// A server's format known by name.
    Preset(Preset),
    /// A format string, compiled (shared, as it never changes).
    Custom(Arc<Pattern>),
}

impl LogFormat {
    /// How `auto` names what it chose, on stderr: `log format: combined`.
    pub fn announced(&self) -> &'static str {
        match self {
            LogFormat::Json => "JSON lines",
            LogFormat::W3c => "W3C extended (IIS, CloudFront)",
            LogFormat::Preset(preset) => preset.describe().server,
            _ => self.name(),
        }
    }

    /// Whether lines can carry a response time (for the latency rules of
    /// `--alert`); `None` when only the lines can say.
    pub fn carries_latency(&self) -> Option<bool> {
        match self {
            // W3C says its columns in the file, and may change them.
            LogFormat::Auto | LogFormat::W3c => None,
            LogFormat::Common | LogFormat::Combined | LogFormat::Csv => Some(false),
            // Found by name, when a line has one.
            LogFormat::Json => Some(true),
            LogFormat::Preset(preset) => Some(preset.compile().is_some_and(|p| p.carries_latency())),
            LogFormat::Custom(pattern) => Some(pattern.carries_latency()),
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            LogFormat::Auto => "auto",
            LogFormat::Common => "common",
            LogFormat::Combined => "combined",
            LogFormat::Csv => "csv",
            LogFormat::Json => "json",
            LogFormat::W3c => "w3c",
            LogFormat::Preset(preset) => preset.describe().name,
            LogFormat::Custom(pattern) => match pattern.dialect() {
                Dialect::Nginx => "nginx",
                Dialect::Apache => "apache",
            },
        }
    }
}

/// One request, as logged. Fields a format does not carry are `None`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Record<'a> {
    pub time: Epoch,
    /// The exact status code, 100 to 599; [`UNKNOWN_STATUS`] when the log
    /// says `-` (an aborted request): still a hit, of no status class.
    pub status: u16,
    pub bytes: u64,
    /// `None` when the request names no path; the line is still a hit.
    pub section: Option<&'a [u8]>,
    /// The client address as logged (`$remote_addr`, `%h`).
    pub client: Option<&'a [u8]>,
    /// The request method (`GET`), when the format carries it.
    pub method: Option<&'a [u8]>,
    /// Response time in microseconds, whatever unit the log used.
    pub latency_us: Option<u64>,
    /// The virtual host (`$host`, `%v`), when the format carries it.
    pub vhost: Option<&'a [u8]>,
}

/// [`Record::status`] of a request whose status the log gives as `-`.
pub const UNKNOWN_STATUS: u16 = 0;

#[derive(Debug, PartialEq, Eq)]
pub enum Parsed<'a> {
    Hit(Record<'a>),
    /// Not a request, and nothing wrong: the CSV header, a W3C directive,
    /// a blank line while wrappers are looked for (after, a blank line may
    /// come back malformed, see [`Parser::blank`]). Counted as skipped.
    Skip,
    Malformed(Malformed),
}

/// Why a line is not a hit. Shown to the user, so each says what is wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Malformed {
    TooLong,
    NoTimestamp,
    BadTimestamp,
    NoRequest,
    BadStatus,
    BadBytes,
    NotCombined,
    CsvFields,
    NotClf,
    NotFormat,
    NotJson,
    W3cFields,
    JsonNoTime,
    JsonNoStatus,
    BadWrapper,
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Malformed::TooLong => "line too long",
            Malformed::NoTimestamp => "no [timestamp]",
            Malformed::BadTimestamp => "bad timestamp",
            Malformed::NoRequest => "no quoted request",
            Malformed::BadStatus => "bad status code",
            Malformed::BadBytes => "bad byte count",
            Malformed::NotCombined => "no referer and user agent (not combined format)",
            Malformed::CsvFields => "not 7 CSV fields",
            Malformed::NotClf => "not a log line",
            Malformed::NotFormat => "does not match the log format",
            Malformed::NotJson => "not a JSON object",
            Malformed::W3cFields => "not the columns #Fields: names",
            Malformed::JsonNoTime => "no time in the JSON object",
            Malformed::JsonNoStatus => "no status in the JSON object",
            Malformed::BadWrapper => "bad Docker json-file line",
        })
    }
}

/// Space a parser decodes into (a Docker line's log, JSON strings with
/// escapes), reused from line to line; records may borrow from it. It is
/// kept apart from the [`Parser`] so that a record can live while the
/// parser's owner goes on working.
#[derive(Debug, Default)]
pub struct Scratch {
    unwrapped: Vec<u8>,
    values: Vec<u8>,
}

/// The NCSA formats' matchers, compiled from their descriptions.
#[derive(Debug)]
struct Ncsa {
    /// Reads every line of a common or combined stream: what follows the
    /// byte count is never used.
    common: Pattern,
    /// Tells combined lines from common ones.
    combined: Pattern,
}

impl Ncsa {
    /// Never fails: the descriptions are constants, and the format tests
    /// compile them (`shortcuts_agree_with_the_general_path`); no input or
    /// option reaches this.
    fn new() -> Ncsa {
        let compile = |description| preset::ncsa(description).expect("the NCSA descriptions compile");
        Ncsa { common: compile(preset::COMMON), combined: compile(preset::COMBINED) }
    }
}

/// Parses lines of one stream, settling on its format in `Auto` mode.
#[derive(Debug)]
pub struct Parser {
    format: LogFormat,
    /// Only a combined format asked for by name refuses common lines; one
    /// detected is read leniently, as its trailing fields are never used.
    strict: bool,
    /// The NCSA matchers, for `common`, `combined` and `auto`; built for
    /// every format, so that the usual line reads them without a test.
    ncsa: Ncsa,
    clock: ClfClock,
    /// JSON lines' unix and ISO 8601 times, read per hundred seconds or per
    /// minute as `clock` reads CLF times per minute.
    times: json::TimeCache,
    /// The presets' matchers: every one while `Auto` looks, then the one
    /// chosen first (alone once a preset is in use).
    presets: Vec<(Preset, Pattern)>,
    /// The W3C columns in force.
    w3c: W3c,
    /// The container wrappers this format can be told from.
    look: wrapper::Look,
    /// What `look`, `format` and `strict` make of a line (see [`Route`]):
    /// `Wrapped` from [`new`](Parser::new), settled again only where the
    /// look ends ([`parse_wrapped`](Parser::parse_wrapped)). `strict` never
    /// changes, and `format` only in [`detect`](Parser::detect), which runs
    /// only while the format is `Auto`: before the first plain hit, so while
    /// the route is `Wrapped` whatever the format. Nothing else moves it
    /// ([`parse_into`](Parser::parse_into) checks so in debug builds).
    route: Route,
}

/// The reading a line of a stream takes, as the parser's state decides it:
/// the usual line, of a plain NCSA stream read leniently, then costs one
/// test rather than one each of the wrappers, the format and strictness.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Route {
    /// A container's wrapper may still come (see [`Parser::parse_wrapped`]).
    Wrapped,
    /// Common or combined, read by the common head alone (not `combined`
    /// asked for by name): every detected NCSA stream.
    Lenient,
    /// `combined` asked for by name.
    Strict,
    /// A format string.
    Custom,
    /// Any other format, as [`Parser::parse_unwrapped`] reads it.
    Other,
}

impl Parser {
    pub fn new(format: LogFormat) -> Parser {
        let presets = match &format {
            LogFormat::Auto => Preset::ALL.to_vec(),
            LogFormat::Preset(preset) => vec![*preset],
            _ => Vec::new(),
        };
        let presets = presets.into_iter().filter_map(|p| Some((p, p.compile()?))).collect();
        let look = match &format {
            LogFormat::Custom(pattern) if pattern.writes(b'|') => wrapper::Look::NotCompose,
            _ => wrapper::Look::All,
        };
        Parser {
            strict: format == LogFormat::Combined,
            ncsa: Ncsa::new(),
            format,
            clock: ClfClock::default(),
            times: json::TimeCache::default(),
            presets,
            w3c: W3c::default(),
            look,
            // `look` is never `Nothing` yet: wrappers are looked for first.
            route: Route::Wrapped,
        }
    }

    /// What the parser's state makes of the next line.
    fn route_now(&self) -> Route {
        match &self.format {
            _ if self.look != wrapper::Look::Nothing => Route::Wrapped,
            LogFormat::Common | LogFormat::Combined => self.ncsa_route(),
            LogFormat::Custom(_) => Route::Custom,
            _ => Route::Other,
        }
    }

    /// How a common or combined line is read, `Strict` or `Lenient`: the one
    /// place that says, for the route and for [`ncsa`](Self::ncsa), which
    /// reads the lines that come while wrappers are looked for.
    #[inline(always)]
    fn ncsa_route(&self) -> Route {
        if self.strict { Route::Strict } else { Route::Lenient }
    }

    /// The format in use: the one asked for, or the one detected (`Auto`
    /// until the first valid line).
    pub fn format(&self) -> LogFormat {
        self.format.clone()
    }

    /// Parses one line (without its newline). A container's wrapper is taken
    /// off first, until a line without one is a hit: the stream is then
    /// known to be plain, and wrappers are no longer looked for.
    /// A blank line may come back malformed, as from
    /// [`parse_into`](Self::parse_into): the engine's count, which tells
    /// malformed from skipped, asks [`blank`](Self::blank); the callers of
    /// this one only ask whether the line is a hit.
    #[inline]
    pub fn parse<'a>(&mut self, line: &'a [u8], scratch: &'a mut Scratch) -> Parsed<'a> {
        let mut parsed = Parsed::Skip;
        self.parse_into(line, scratch, &mut parsed);
        parsed
    }

    /// As [`Parser::parse`], into `parsed`: the usual line's record is
    /// built where the caller reads it, not copied there. A blank line may
    /// be left malformed: the caller asks [`blank`](Self::blank) of a
    /// malformed line, so that a hit is not tested for being one.
    #[inline(always)]
    pub fn parse_into<'a>(&mut self, line: &'a [u8], scratch: &'a mut Scratch, parsed: &mut Parsed<'a>) {
        // The usual line is read as it is: the caller, which keeps the line
        // through the read for its own use, then holds one slice across
        // the format's call, not the line and its content as two (4.4
        // instructions a line fewer on a combined log, 6.8 on benchmid).
        if plain(line) {
            self.read(line, scratch, parsed);
        } else {
            self.read_content(line, scratch, parsed);
        }
    }

    /// Whether lines read as a plain NCSA stream, leniently (see
    /// [`Route::Lenient`]): settled until the end of the stream, as only a
    /// line that may still come in a wrapper moves the route. A caller that
    /// counts many lines asks once, then reads each with
    /// [`parse_lenient_into`](Self::parse_lenient_into).
    pub fn reads_lenient(&self) -> bool {
        self.route == Route::Lenient
    }

    /// [`parse_into`](Self::parse_into) where [`reads_lenient`](Self::reads_lenient)
    /// said so: the usual line goes to the common head with no dispatch on
    /// the route (5 instructions a line fewer, an indirect jump among them).
    /// A second owner of the lenient reading, kept for speed (071f7b3: a
    /// plain NCSA stream's route asked once a batch, by the engine's
    /// `count_lines`): the test
    /// `a_plain_ncsa_stream_reads_leniently_as_its_route_does` holds it to
    /// the general reading, [`parse`](Self::parse), line by line.
    #[inline(always)]
    pub fn parse_lenient_into<'a>(&mut self, line: &'a [u8], scratch: &'a mut Scratch, parsed: &mut Parsed<'a>) {
        debug_assert_eq!(self.route, Route::Lenient);
        if plain(line) {
            self.lenient(line, parsed);
        } else {
            self.read_content(line, scratch, parsed);
        }
    }

    /// [`parse_into`](Self::parse_into) of a line that may hold a carriage
    /// return, a byte-order mark, or nothing.
    #[inline(never)]
    fn read_content<'a>(&mut self, line: &'a [u8], scratch: &'a mut Scratch, parsed: &mut Parsed<'a>) {
        match content(line) {
            Some(line) => self.read(line, scratch, parsed),
            None => *parsed = Parsed::Skip,
        }
    }

    /// Reads `line`, its content (see [`content`]), as the route says.
    #[inline(always)]
    fn read<'a>(&mut self, line: &'a [u8], scratch: &'a mut Scratch, parsed: &mut Parsed<'a>) {
        let Scratch { unwrapped, values } = scratch;
        debug_assert_eq!(self.route, self.route_now());
        match self.route {
            Route::Wrapped => *parsed = self.parse_wrapped(line, unwrapped, values),
            Route::Lenient => self.lenient(line, parsed),
            Route::Strict => self.strict_combined(line, parsed),
            Route::Custom => self.custom(line, parsed),
            Route::Other => *parsed = self.parse_unwrapped(line, values),
        }
    }

    /// Whether `line`, which [`parse_into`](Self::parse_into) found
    /// malformed, is blank, and so to be skipped instead. Spaces alone are
    /// looked for only once a line has failed, so that a hit never scans
    /// for them. A line in a wrapper was asked already, of what the
    /// wrapper held (see [`parse_wrapped`](Self::parse_wrapped)); the route
    /// is the one the line took, as only a hit changes it.
    pub fn blank(&self, line: &[u8]) -> bool {
        self.route != Route::Wrapped && content(line).is_none_or(is_blank)
    }

    /// As [`Parser::parse`], while a line may still come in a container's
    /// wrapper.
    #[inline(never)]
    fn parse_wrapped<'a>(&mut self, line: &'a [u8], unwrapped: &'a mut Vec<u8>, values: &'a mut Vec<u8>) -> Parsed<'a> {
        let inner = match wrapper::unwrap(line, self.look, unwrapped) {
            Ok(inner) => inner,
            Err(why) => return Parsed::Malformed(why),
        };
        // A wrapper always leaves fewer bytes than the line had.
        let plain = inner.len() == line.len();
        let parsed = self.parse_unwrapped(inner, values);
        if plain && matches!(parsed, Parsed::Hit(_)) {
            self.look = wrapper::Look::Nothing;
            self.route = self.route_now();
        } else if matches!(parsed, Parsed::Malformed(_)) && is_blank(inner) {
            // Spaces alone are looked for only once a line has failed, so
            // that a hit never scans for them.
            return Parsed::Skip;
        }
        parsed
    }

    /// Parses a line that has no container wrapper (any more).
    #[inline]
    fn parse_unwrapped<'a>(&mut self, line: &'a [u8], values: &'a mut Vec<u8>) -> Parsed<'a> {
        match &self.format {
            LogFormat::Common | LogFormat::Combined => {
                let mut parsed = Parsed::Skip;
                self.ncsa(line, &mut parsed);
                parsed
            }
            LogFormat::Csv => match csv(line) {
                Ok(Some(record)) => Parsed::Hit(record),
                Ok(None) => Parsed::Skip,
                Err(why) => Parsed::Malformed(why),
            },
            LogFormat::Preset(_) => match self.presets.first() {
                Some((preset, pattern)) => match preset.read(pattern, &mut self.clock, &mut self.times, line, values) {
                    Ok(record) => Parsed::Hit(record),
                    Err(why) => Parsed::Malformed(why),
                },
                None => Parsed::Malformed(Malformed::NotFormat),
            },
            LogFormat::W3c => self.w3c(line),
            LogFormat::Json => match json::parse(&mut self.times, line, values) {
                Ok(record) => Parsed::Hit(record),
                Err(why) => Parsed::Malformed(why),
            },
            LogFormat::Custom(_) => {
                let mut parsed = Parsed::Skip;
                self.custom(line, &mut parsed);
                parsed
            }
            LogFormat::Auto => self.detect(line, values),
        }
    }

    /// A common or combined line, read as its route would read it. Only
    /// `combined` asked for by name reads the referer and user agent, to
    /// refuse a common line.
    #[inline(always)]
    fn ncsa<'a>(&mut self, line: &'a [u8], parsed: &mut Parsed<'a>) {
        match self.ncsa_route() {
            Route::Strict => self.strict_combined(line, parsed),
            _ => self.lenient(line, parsed),
        }
    }

    /// A common or combined line read by the common head alone: its
    /// trailing fields are never used.
    #[inline(always)]
    fn lenient<'a>(&mut self, line: &'a [u8], parsed: &mut Parsed<'a>) {
        self.ncsa.common.parse_into(&mut self.clock, line, parsed);
    }

    /// A line of `combined` asked for by name.
    #[inline(always)]
    fn strict_combined<'a>(&mut self, line: &'a [u8], parsed: &mut Parsed<'a>) {
        if !self.ncsa.combined.parse_into(&mut self.clock, line, parsed)
            && let Parsed::Malformed(_) = parsed
        {
            *parsed = self.not_combined(line);
        }
    }

    /// A line of a format string.
    #[inline]
    fn custom<'a>(&mut self, line: &'a [u8], parsed: &mut Parsed<'a>) {
        if let LogFormat::Custom(pattern) = &self.format {
            pattern.parse_into(&mut self.clock, line, parsed);
        }
    }

    /// Why a line that `combined` asked for by name refuses is malformed:
    /// a common line lacks the referer and user agent.
    #[cold]
    #[inline(never)]
    fn not_combined(&mut self, line: &[u8]) -> Parsed<'static> {
        match self.ncsa.common.parse(&mut self.clock, line) {
            Ok(_) => Parsed::Malformed(Malformed::NotCombined),
            Err(why) => Parsed::Malformed(why),
        }
    }

    /// A W3C line; its directives are skipped.
    fn w3c<'a>(&mut self, line: &'a [u8]) -> Parsed<'a> {
        match self.w3c.read(line) {
            Ok(Some(record)) => Parsed::Hit(record),
            Ok(None) => Parsed::Skip,
            Err(why) => Parsed::Malformed(why),
        }
    }

    /// Tries each family; the first valid line decides the stream's format.
    fn detect<'a>(&mut self, line: &'a [u8], values: &'a mut Vec<u8>) -> Parsed<'a> {
        if line.first() == Some(&b'{') {
            let parsed = json::parse(&mut self.times, line, values);
            if parsed.is_ok() {
                self.format = LogFormat::Json;
            }
            return parsed.map_or_else(Parsed::Malformed, Parsed::Hit);
        }
        if w3c::looks_like(line) {
            self.format = LogFormat::W3c;
            return self.w3c(line);
        }
        // The presets are tried before the classic formats, which some of
        // them extend.
        let clock = &mut self.clock;
        let found = self
            .presets
            .iter()
            .enumerate()
            .find_map(|(i, (preset, pattern))| preset.read_text(pattern, clock, line).ok().map(|r| (i, r)));
        if let Some((i, record)) = found {
            self.presets.swap(0, i);
            self.presets.truncate(1);
            self.format = LogFormat::Preset(self.presets[0].0);
            return Parsed::Hit(record);
        }
        let as_clf = self.ncsa.common.parse(&mut self.clock, line);
        if let Ok(record) = as_clf {
            let combined = self.ncsa.combined.parse(&mut self.clock, line).is_ok();
            self.format = if combined { LogFormat::Combined } else { LogFormat::Common };
            return Parsed::Hit(record);
        }
        match csv(line) {
            Ok(parsed) => {
                self.format = LogFormat::Csv;
                match parsed {
                    Some(record) => Parsed::Hit(record),
                    None => Parsed::Skip,
                }
            }
            // Report the reason of the family the line looks like.
            Err(why) if line.first() == Some(&b'"') => Parsed::Malformed(why),
            Err(_) => Parsed::Malformed(as_clf.err().unwrap_or(Malformed::NotClf)),
        }
    }
}

/// What a line holds but for a carriage return at its end and a
/// byte-order mark at its start (as editors on Windows leave before a
/// header); `None` when that is nothing, an empty line. The usual line
/// is told apart before, by [`plain`].
#[inline(always)]
fn content(line: &[u8]) -> Option<&[u8]> {
    let line = match line {
        [rest @ .., b'\r'] => rest,
        [_, ..] => line,
        [] => return None,
    };
    match line {
        [0xef, 0xbb, 0xbf, rest @ ..] => Some(rest),
        [_, ..] => Some(line),
        [] => None,
    }
}

/// Whether `line` is its own content: two bytes or more, the first no
/// byte-order mark's first, the last no carriage return. The usual line is
/// told by those two bytes alone, by [`Parser::parse_into`]: [`content`]'s
/// full reading tests the length three times and the mark's first byte
/// besides.
#[inline(always)]
fn plain(line: &[u8]) -> bool {
    matches!(line, [first, .., last] if *first != 0xef && *last != b'\r')
}

/// Whether a line holds nothing but white space (a blank line).
fn is_blank(line: &[u8]) -> bool {
    line.iter().all(u8::is_ascii_whitespace)
}

/// The method of a logged request line (`GET` of `GET / HTTP/1.1`): its
/// first word, when another follows and it is not `-`.
pub(super) fn request_method(request: &[u8]) -> Option<&[u8]> {
    let end = bytes::find(request, b' ')?;
    Some(&request[..end]).filter(|m| !m.is_empty() && *m != b"-")
}

/// `"remotehost","rfc931","authuser","date","request","status","bytes"`,
/// `date` in unix seconds. `Ok(None)` for the header line.
fn csv(line: &[u8]) -> Result<Option<Record<'_>>, Malformed> {
    let mut fields: [&[u8]; 7] = [&[]; 7];
    let mut rest = Some(line);
    for field in &mut fields {
        let (value, next) = csv_field(rest.ok_or(Malformed::CsvFields)?)?;
        *field = value;
        rest = next;
    }
    // Extra trailing fields are tolerated, as in combined logs.
    let [host, _, _, date, request, code, bytes] = fields;
    if host == b"remotehost" {
        return Ok(None);
    }
    let time = timestamp::parse_unix_seconds(date).ok_or(Malformed::BadTimestamp)?;
    Ok(Some(Record {
        time,
        status: status(code)?,
        bytes: byte_count(bytes)?,
        section: section::of_request(request),
        client: Some(host),
        ..Record::default()
    }))
}

/// One CSV field at the start of `s`: its content (quotes removed, doubled
/// quotes left as they are) and the rest after the comma, if any.
fn csv_field(s: &[u8]) -> Result<(&[u8], Option<&[u8]>), Malformed> {
    let (value, after) = if let Some(quoted) = s.strip_prefix(b"\"") {
        let mut from = 0;
        loop {
            let q = from + memchr(b'"', &quoted[from..]).ok_or(Malformed::CsvFields)?;
            if quoted.get(q + 1) == Some(&b'"') {
                from = q + 2;
                continue;
            }
            break (&quoted[..q], &quoted[q + 1..]);
        }
    } else {
        let end = memchr(b',', s).unwrap_or(s.len());
        (&s[..end], &s[end..])
    };
    match after.first() {
        None => Ok((value, None)),
        Some(b',') => Ok((value, Some(&after[1..]))),
        Some(_) => Err(Malformed::CsvFields),
    }
}

/// A status code, 100 to 599, or `-`: [`UNKNOWN_STATUS`].
#[inline]
pub(super) fn status(s: &[u8]) -> Result<u16, Malformed> {
    if s == b"-" {
        return Ok(UNKNOWN_STATUS);
    }
    match timestamp::digits(s) {
        Some(code @ 100..=599) if s.len() == 3 => Ok(code as u16),
        _ => Err(Malformed::BadStatus),
    }
}

/// A byte count; `-` (nothing sent) is zero.
#[inline]
pub(super) fn byte_count(s: &[u8]) -> Result<u64, Malformed> {
    match leading_byte_count(s)? {
        (bytes, len) if len == s.len() => Ok(bytes),
        _ => Err(Malformed::BadBytes),
    }
}

/// The byte count that `field` starts with, up to a space or its end, and
/// its length: read in the pass that finds where it ends, not found first
/// and read again. `-` (nothing sent) is zero; otherwise 1 to 19 digits
/// (any more could overflow).
#[inline]
fn leading_byte_count(field: &[u8]) -> Result<(u64, usize), Malformed> {
    let (bytes, len) = if field.first() == Some(&b'-') { (0, 1) } else { bytes::leading_digits(field) };
    match field.get(len) {
        _ if len == 0 => Err(Malformed::BadBytes),
        None | Some(b' ') => Ok((bytes, len)),
        Some(_) => Err(Malformed::BadBytes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::testkit::variants;

    const T0: Epoch = 1_549_573_860; // 2019-02-07T21:11:00Z

    fn parse(format: LogFormat, line: &[u8]) -> Parsed<'_> {
        // The records of these tests borrow only from the line; the scratch
        // space (empty) is leaked to outlive the call.
        Parser::new(format).parse(line, Box::leak(Box::default()))
    }

    fn hit(line: &[u8]) -> Record<'_> {
        match parse(LogFormat::Auto, line) {
            Parsed::Hit(r) => r,
            other => panic!("{:?} for {:?}", other, String::from_utf8_lossy(line)),
        }
    }

    fn malformed(format: LogFormat, line: &[u8]) -> Malformed {
        match parse(format, line) {
            Parsed::Malformed(why) => why,
            other => panic!("{:?} for {:?}", other, String::from_utf8_lossy(line)),
        }
    }

    #[test]
    fn common() {
        let r = hit(br#"127.0.0.1 - james [07/Feb/2019:21:11:00 +0000] "GET /report HTTP/1.0" 200 123"#);
        assert_eq!(
            r,
            Record {
                time: T0,
                status: 200,
                bytes: 123,
                section: Some(b"/report"),
                client: Some(b"127.0.0.1"),
                method: Some(b"GET"),
                ..Record::default()
            }
        );
    }

    #[test]
    fn combined_and_extra_fields() {
        let line = br#"1.2.3.4 - - [07/Feb/2019:22:11:00 +0100] "POST /api/user HTTP/1.1" 503 - "http://ref/x" "curl/8.0" vhost.example 0.042"#;
        let r = hit(line);
        assert_eq!(
            r,
            Record {
                time: T0,
                status: 503,
                bytes: 0,
                section: Some(b"/api"),
                client: Some(b"1.2.3.4"),
                method: Some(b"POST"),
                ..Record::default()
            }
        );
        assert!(matches!(parse(LogFormat::Combined, line), Parsed::Hit(_)));
        assert!(matches!(parse(LogFormat::Common, line), Parsed::Hit(_)));
    }

    #[test]
    fn combined_insists_on_referer_and_agent() {
        let line = br#"1.2.3.4 - - [07/Feb/2019:21:11:00 +0000] "GET / HTTP/1.1" 200 5"#;
        assert_eq!(malformed(LogFormat::Combined, line), Malformed::NotCombined);
        // A user agent that ends in a backslash its server did not escape
        // is still one (as under auto and the nginx string).
        let line = br#"1.2.3.4 - - [07/Feb/2019:21:11:00 +0000] "GET / HTTP/1.1" 200 5 "-" "agent\""#;
        assert!(matches!(parse(LogFormat::Combined, line), Parsed::Hit(_)));
    }

    #[test]
    fn detection_settles_on_the_first_valid_line() {
        let mut scratch = Scratch::default();
        let mut p = Parser::new(LogFormat::Auto);
        assert_eq!(p.parse(b"garbage", &mut scratch), Parsed::Malformed(Malformed::NoTimestamp));
        assert_eq!(p.format(), LogFormat::Auto);
        let csv = br#""10.0.0.2","-","apache",1549573860,"GET /api/user HTTP/1.0",200,1234"#;
        assert!(matches!(p.parse(csv, &mut scratch), Parsed::Hit(_)));
        assert_eq!(p.format(), LogFormat::Csv);
        let clf = br#"1.2.3.4 - - [07/Feb/2019:21:11:00 +0000] "GET / HTTP/1.1" 200 5"#;
        assert_eq!(p.parse(clf, &mut scratch), Parsed::Malformed(Malformed::CsvFields));

        let mut p = Parser::new(LogFormat::Auto);
        assert!(matches!(p.parse(clf, &mut scratch), Parsed::Hit(_)));
        assert_eq!(p.format(), LogFormat::Common);
    }

    /// Only a plain NCSA stream not asked for as `combined` reads
    /// leniently, from its first plain hit on; and a line read leniently
    /// is read as the route would read it, whatever it holds.
    #[test]
    fn a_plain_ncsa_stream_reads_leniently_as_its_route_does() {
        let clf = br#"1.2.3.4 - - [07/Feb/2019:21:11:00 +0000] "GET /a/b HTTP/1.1" 200 12 "-" "c""#;
        let docker =
            br#"{"log":"1.2.3.4 - - [07/Feb/2019:21:11:00 +0000] \"GET / HTTP/1.1\" 200 5\n","stream":"stdout"}"#;
        let mut scratch = Scratch::default();
        for (format, first, lenient) in [
            (LogFormat::Auto, &clf[..], true),
            (LogFormat::Common, clf, true),
            (LogFormat::Combined, clf, false),
            (LogFormat::Auto, docker, false),
            (LogFormat::Csv, clf, false),
        ] {
            let mut p = Parser::new(format.clone());
            assert!(!p.reads_lenient(), "{format:?} before any line");
            let _ = p.parse(first, &mut scratch);
            assert_eq!(p.reads_lenient(), lenient, "{format:?}");
        }
        let mut general = Parser::new(LogFormat::Auto);
        let mut lenient = Parser::new(LogFormat::Auto);
        assert!(matches!(general.parse(clf, &mut scratch), Parsed::Hit(_)));
        assert!(matches!(lenient.parse(clf, &mut scratch), Parsed::Hit(_)));
        let replacements = [b'"', b' ', b'[', b']', b'\0', b'\r', b'\xef', b'9', b'-'];
        let mut lines = variants(clf, &replacements);
        lines.extend([&b""[..], b"\r", b" ", b"\xef\xbb\xbf", &clf[..40]].map(<[u8]>::to_vec));
        lines.push([&b"\xef\xbb\xbf"[..], clf, b"\r"].concat());
        for line in &lines {
            let mut other = Scratch::default();
            let mut parsed = Parsed::Skip;
            lenient.parse_lenient_into(line, &mut other, &mut parsed);
            assert_eq!(parsed, general.parse(line, &mut scratch), "{:?}", String::from_utf8_lossy(line));
            assert!(lenient.reads_lenient());
        }
    }

    #[test]
    fn escaped_quotes_inside_the_request() {
        let r = hit(br#"h - - [07/Feb/2019:21:11:00 +0000] "GET /a\"b/c HTTP/1.1" 404 7 "-" "x \" 200 y""#);
        assert_eq!((r.status, r.bytes, r.section), (404, 7, Some(&b"/a\\\"b"[..])));
        assert_eq!(r.method, Some(&b"GET"[..]));
    }

    #[test]
    fn unusable_requests_are_hits_without_section() {
        let tls = br#"h - - [07/Feb/2019:21:11:00 +0000] "\x16\x03\x01\x00\xa5\x01\x00" 400 157 "-" "-""#;
        assert_eq!((hit(tls).section, hit(tls).method), (None, None));
        let dash = br#"h - - [07/Feb/2019:21:11:00 +0000] "-" 408 0 "-" "-""#;
        assert_eq!((hit(dash).section, hit(dash).method), (None, None));
        let star = br#"h - - [07/Feb/2019:21:11:00 +0000] "OPTIONS * HTTP/1.1" 200 0 "-" "-""#;
        assert_eq!((hit(star).section, hit(star).method), (None, Some(&b"OPTIONS"[..])));
        let raw = b"h - - [07/Feb/2019:21:11:00 +0000] \"\x16\x03\x01\x00\xff\" 400 0";
        assert_eq!(hit(raw).section, None);
    }

    #[test]
    fn crlf_and_bytes_that_are_not_utf8() {
        let r = hit(b"h - - [07/Feb/2019:21:11:00 +0000] \"GET /\xff\xfe/x HTTP/1.1\" 200 1\r");
        assert_eq!(r.section, Some(&b"/\xff\xfe"[..]));
        assert_eq!(r.bytes, 1);
        let r = hit(b"h\0 - - [07/Feb/2019:21:11:00 +0000] \"GET /a\0b HTTP/1.1\" 200 1");
        assert_eq!(r.section, Some(&b"/a\0b"[..]));
    }

    #[test]
    fn blank_lines_are_skipped_in_every_format() {
        let formats =
            [LogFormat::Auto, LogFormat::Common, LogFormat::Combined, LogFormat::Csv, LogFormat::Json, LogFormat::W3c];
        for format in formats.into_iter().chain(Preset::ALL.iter().map(|p| LogFormat::Preset(*p))) {
            for line in ["", "\r", " ", "  \t \r", "\u{feff}"] {
                assert_eq!(parse(format.clone(), line.as_bytes()), Parsed::Skip, "{line:?} in {format:?}");
            }
        }
        // Not blank: one byte that is not white space is enough.
        assert_eq!(malformed(LogFormat::Common, b" x "), Malformed::NoTimestamp);
    }

    #[test]
    fn clf_defects() {
        use LogFormat::Common;
        let m = |s: &str| malformed(Common, s.as_bytes());
        assert_eq!(m("h - - 07/Feb/2019:21:11:00 +0000 \"GET / HTTP/1.1\" 200 5"), Malformed::NoTimestamp);
        assert_eq!(m("[07/Feb/2019:21:11:00 +0000] \"GET / HTTP/1.1\" 200 5"), Malformed::NotClf);
        assert_eq!(m("h - - [07/Feb/2019:21:11:00 +0000"), Malformed::BadTimestamp);
        assert_eq!(m("h - - [31/Feb/2019:21:11:00 +0000] \"GET / HTTP/1.1\" 200 5"), Malformed::BadTimestamp);
        assert_eq!(m("h - - [07/Feb/2019:21:11:00 +0000] GET / 200 5"), Malformed::NoRequest);
        assert_eq!(m("h - - [07/Feb/2019:21:11:00 +0000] \"GET / HTTP/1.1 200 5"), Malformed::NoRequest);
        assert_eq!(m("h - - [07/Feb/2019:21:11:00 +0000] \"GET / HTTP/1.1\" OK 5"), Malformed::BadStatus);
        assert_eq!(m("h - - [07/Feb/2019:21:11:00 +0000] \"GET / HTTP/1.1\" 2000 5"), Malformed::BadStatus);
        assert_eq!(m("h - - [07/Feb/2019:21:11:00 +0000] \"GET / HTTP/1.1\" 600 5"), Malformed::BadStatus);
        assert_eq!(m("h - - [07/Feb/2019:21:11:00 +0000] \"GET / HTTP/1.1\" 099 5"), Malformed::BadStatus);
        assert_eq!(m("h - - [07/Feb/2019:21:11:00 +0000] \"GET / HTTP/1.1\" 200"), Malformed::BadBytes);
        assert_eq!(m("h - - [07/Feb/2019:21:11:00 +0000] \"GET / HTTP/1.1\" 200 5k"), Malformed::BadBytes);
        assert_eq!(m("h - - [07/Feb/2019:21:11:00 +0000] \"GET / HTTP/1.1\" 200 -5"), Malformed::BadBytes);
        // A line cut short in the middle.
        assert_eq!(m("h - - [07/Feb/2019:21:11:00 +0000] \"GET /api/us"), Malformed::NoRequest);
    }

    #[test]
    fn the_timestamp_is_at_the_first_bracket_that_opens_one() {
        let syslog = br#"Sep 15 10:00:00 web nginx[2869]: 1.2.3.4 - - [07/Feb/2019:21:11:00 +0000] "GET /a HTTP/1.1" 200 5 "-" "x""#;
        let ipv6 = br#"[2001:db8::1] - - [07/Feb/2019:21:11:00 +0000] "GET /a HTTP/1.1" 200 5"#;
        let field = br#"10.0.0.1 [HTTP-4136374] - [07/Feb/2019:21:11:00 +0000] "GET /a HTTP/1.1" 200 5"#;
        for (line, client) in [(&syslog[..], &b"1.2.3.4"[..]), (ipv6, b"[2001:db8::1]"), (field, b"10.0.0.1")] {
            let r = hit(line);
            assert_eq!((r.time, r.status, r.section, r.client), (T0, 200, Some(&b"/a"[..]), Some(client)));
        }
        assert_eq!(parse(LogFormat::Combined, syslog), Parsed::Hit(hit(syslog)));
    }

    #[test]
    fn timestamp_variants_in_brackets() {
        for stamp in [
            "07/Feb/2019:21:11:00.123 +0000",
            "7/Feb/2019:21:11:00 +0000",
            "2019-02-07T21:11:00+00:00",
            "2019-02-07T22:11:00.123456+01:00",
            "2019-02-07 21:11:00Z",
            // No zone: UTC.
            "07/Feb/2019:21:11:00",
            "7/Feb/2019:21:11:00.5",
        ] {
            let line = format!(r#"h - - [{stamp}] "GET / HTTP/1.1" 200 5"#);
            assert_eq!(hit(line.as_bytes()).time, T0, "{stamp}");
            for format in [LogFormat::Common, LogFormat::Combined] {
                let line = format!(r#"h - - [{stamp}] "GET / HTTP/1.1" 200 5 "-" "-""#);
                assert!(
                    matches!(parse(format.clone(), line.as_bytes()), Parsed::Hit(r) if r.time == T0),
                    "{stamp} {format:?}"
                );
            }
        }
    }

    #[test]
    fn status_dash_is_a_hit_of_unknown_status() {
        let r = hit(br#"h - - [07/Feb/2019:21:11:00 +0000] "GET /a HTTP/1.1" - 0 "-" "-""#);
        assert_eq!((r.status, r.bytes, r.section), (UNKNOWN_STATUS, 0, Some(&b"/a"[..])));
        let r = hit(br#"h - - [07/Feb/2019:21:11:00 +0000] "GET /a"b HTTP/1.1" - -"#);
        assert_eq!((r.status, r.section), (UNKNOWN_STATUS, Some(&b"/a\"b"[..])));
    }

    /// Every prefix of real lines, and every single-byte change of them,
    /// parses to something without panicking (that the matcher's shortcuts
    /// agree with its general path is format::tests' to show).
    #[test]
    fn no_input_makes_the_parser_panic() {
        let lines: [&[u8]; 5] = [
            br#"1.2.3.4 - - [07/Feb/2019:21:11:00 +0000] "GET /api/user?id=1 HTTP/1.1" 200 1234 "-" "curl/8""#,
            br#"h - - [07/Feb/2019:21:11:00 +0000] "GET /a"b/c HTTP/1.1" 404 7 "-" "x " 200 y""#,
            br#"h - - [07/Feb/2019:21:11:00 +0000] "GET http://x/y/z HTTP/1.1" 200 1"#,
            br#"h - - [07/Feb/2019:21:11:00 +0000] "-" 408 -"#,
            br#""10.0.0.2","-","apache",1549573860,"GET /api/user HTTP/1.0",200,1234"#,
        ];
        let replacements = [b'"', b' ', b'/', b'?', b'[', b']', b'\0', b'\xff', b'9', b'\n', b','];
        for line in lines {
            for v in &variants(line, &replacements) {
                for format in [LogFormat::Auto, LogFormat::Common, LogFormat::Combined, LogFormat::Csv] {
                    let _ = parse(format, v);
                }
            }
        }
    }

    /// Random, truncated and spliced lines, fed in turn to one parser of
    /// each format (its caches of times, its W3C columns and its wrapper
    /// state warm from the lines before), never panic it, and a hit is
    /// always a time in range and a status the engine can count.
    #[test]
    fn no_line_panics_a_warm_parser() {
        let data: [&[u8]; 10] = [
            include_bytes!("../../tests/data/iis.log"),
            include_bytes!("../../tests/data/cloudfront.log"),
            include_bytes!("../../tests/data/caddy.log"),
            include_bytes!("../../tests/data/docker.log"),
            include_bytes!("../../tests/data/cri.log"),
            include_bytes!("../../tests/data/traefik.json.log"),
            include_bytes!("../../tests/data/haproxy.log"),
            include_bytes!("../../tests/data/squid.log"),
            include_bytes!("../../tests/data/alb.log"),
            include_bytes!("../../tests/data/syslog-nginx.log"),
        ];
        let mut seeds: Vec<Vec<u8>> = data.iter().flat_map(|d| d.split(|&c| c == b'\n')).map(<[u8]>::to_vec).collect();
        seeds.extend(Preset::ALL.iter().map(|p| p.describe().example.as_bytes().to_vec()));
        seeds.push(br#"1.2.3.4 - - [07/Feb/2019:21:11:00 +0000] "GET /a/b HTTP/1.1" 200 12 "-" "c""#.to_vec());
        seeds.push(br#""10.0.0.2","-","apache",1549573860,"GET /api/user HTTP/1.0",200,1234"#.to_vec());
        seeds.push(br#"{"time":"2019-02-07T21:11:59.5+01:00","status":"200","request":"GET /a HTTP/1.1"}"#.to_vec());
        let pattern = Arc::new(
            crate::engine::format::nginx::compile(r#"$remote_addr [$time_local] "$request" $status $body_bytes_sent"#)
                .expect("compiles"),
        );
        let mut formats = vec![
            LogFormat::Auto,
            LogFormat::Common,
            LogFormat::Combined,
            LogFormat::Csv,
            LogFormat::Json,
            LogFormat::W3c,
            LogFormat::Custom(pattern),
        ];
        formats.extend(Preset::ALL.map(LogFormat::Preset));
        let alphabet = b"0123456789 \"\\/:.,-+[]{}#\t\rTZ\xff\x00";
        let mut seed = 11_u64;
        let mut next = |n: usize| {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) as usize % n.max(1)
        };
        let mut parsers: Vec<Parser> = formats.into_iter().map(Parser::new).collect();
        let mut scratch = Scratch::default();
        let mut hits = 0;
        for _ in 0..4000 {
            let mut line = seeds[next(seeds.len())].clone();
            match next(4) {
                0 => line.truncate(next(line.len() + 1)),
                1 => {
                    for _ in 0..1 + next(4) {
                        if !line.is_empty() {
                            let at = next(line.len());
                            line[at] = alphabet[next(alphabet.len())];
                        }
                    }
                }
                2 => {
                    let other = &seeds[next(seeds.len())];
                    line.truncate(next(line.len() + 1));
                    line.extend_from_slice(&other[next(other.len() + 1)..]);
                }
                _ => line = (0..next(120)).map(|_| alphabet[next(alphabet.len())]).collect(),
            }
            for parser in &mut parsers {
                if let Parsed::Hit(r) = parser.parse(&line, &mut scratch) {
                    hits += 1;
                    let shown = String::from_utf8_lossy(&line);
                    assert!((0..=timestamp::MAX_EPOCH).contains(&r.time), "{r:?} for {shown}");
                    assert!(matches!(r.status, UNKNOWN_STATUS | 100..=599), "{r:?} for {shown}");
                }
            }
        }
        // Enough of them are hits for the checks above to say something.
        assert!(hits > 500, "only {hits} hits");
    }

    #[test]
    fn csv_lines() {
        use LogFormat::Csv;
        let r = hit(br#""10.0.0.2","-","apache",1549573860,"GET /api/user HTTP/1.0",200,1234"#);
        assert_eq!(
            r,
            Record {
                time: T0,
                status: 200,
                bytes: 1234,
                section: Some(b"/api"),
                client: Some(b"10.0.0.2"),
                ..Record::default()
            }
        );
        // Unquoted, quoted numbers, doubled quotes, extra fields.
        let r = hit(br#"10.0.0.2,-,apache,"1549573860","GET /a""b/c HTTP/1.0","404","-",extra"#);
        assert_eq!((r.status, r.bytes, r.section), (404, 0, Some(&br#"/a""b"#[..])));
        let header = br#""remotehost","rfc931","authuser","date","request","status","bytes""#;
        assert_eq!(parse(Csv, header), Parsed::Skip);
        assert_eq!(parse(LogFormat::Auto, &[&b"\xef\xbb\xbf"[..], header].concat()), Parsed::Skip);
        assert_eq!(parse(LogFormat::Auto, header), Parsed::Skip);
        let m = |s: &[u8]| malformed(Csv, s);
        assert_eq!(m(br#""10.0.0.2","-","apache",1549573860,"GET / HTTP/1.0",200"#), Malformed::CsvFields);
        assert_eq!(m(br#""10.0.0.2","-","apache",1549573860,"GET / HTTP/1.0,200,1"#), Malformed::CsvFields);
        assert_eq!(m(br#""10.0.0.2"x,"-","apache",1549573860,"GET /",200,1"#), Malformed::CsvFields);
        assert_eq!(m(br#""10.0.0.2","-","apache",2019-02-07,"GET /",200,1"#), Malformed::BadTimestamp);
        assert_eq!(m(br#""10.0.0.2","-","apache",1549573860,"GET /",20,1"#), Malformed::BadStatus);
        assert_eq!(m(br#""10.0.0.2","-","apache",1549573860,"GET /",200,x"#), Malformed::BadBytes);
        assert_eq!(hit(br#""h","-","u",1549573860,"-",400,0"#).section, None);
    }
}
