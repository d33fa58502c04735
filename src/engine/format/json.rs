//! JSON lines: one object per line, its fields found by the names servers
//! give them (nginx `escape=json` layouts, Caddy, Traefik, Envoy,
//! Cloudflare Logpush), at any depth (Caddy's `request.uri`). A small
//! one-pass scanner: no tree is built; values are slices of the line,
//! and only strings with escapes are decoded, into reused scratch space.
//! Their times go through a cache ([`TimeCache`]), as CLF times do.

use memchr::memchr;

use super::Span;
use crate::engine::bytes;
use crate::engine::parse::{self, Malformed, Record, UNKNOWN_STATUS};
use crate::engine::section;
use crate::engine::timestamp::{self, Epoch, IsoClock, Unit, Zone};

/// Objects nested deeper than this are refused, so a hostile line cannot
/// exhaust the stack.
const MAX_DEPTH: usize = 16;

/// Reads one JSON object. Decoded strings go into `scratch`, which is
/// cleared first; `times` holds what the lines before told of their time.
pub fn parse<'a>(times: &mut TimeCache, line: &'a [u8], scratch: &'a mut Vec<u8>) -> Result<Record<'a>, Malformed> {
    let mut found = Found::default();
    let mut scan = Scan { s: line, at: 0 };
    if scan.token() != Some(b'{') {
        return Err(Malformed::NotJson);
    }
    let names = Names { known: &mut times.names, next: 0 };
    scan.members(1, &mut found, names).ok_or(Malformed::NotJson)?;
    scan.space();
    if scan.at != line.len() {
        return Err(Malformed::NotJson);
    }
    found.record(times, scratch)
}

/// A value as it stands in the line.
#[derive(Clone, Copy, Debug)]
enum Value<'a> {
    /// A string's content between its quotes; `escaped` if it holds a `\`.
    Str {
        raw: &'a [u8],
        escaped: bool,
    },
    Number(&'a [u8]),
}

/// What a key names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Key {
    Time,
    Status,
    Bytes,
    Method,
    /// A path with or without its query.
    Target,
    /// A whole request line, `GET /a HTTP/1.1`.
    Request,
    Client,
    Host,
    Latency(Span),
    /// Caddy's seconds (`0.0042`) or Envoy's milliseconds (`4`).
    Duration,
    UpstreamLatency,
    /// A map of headers (Caddy's `headers` and `resp_headers`: a name that
    /// ends in `headers`), stepped over unread: they are most of a Caddy
    /// line and hold nothing logmon reads (the host is the request's own
    /// field).
    Headers,
}

/// What a member's name names; asked only of a name not found by its place
/// in the last line ([`Names::take`]: a name of up to 15 bytes, among the
/// first 32, with 16 bytes of line left).
fn key(name: &[u8]) -> Option<Key> {
    Some(match name {
        b"time"
        | b"timestamp"
        | b"ts"
        | b"@timestamp"
        | b"time_local"
        | b"time_iso8601"
        | b"msec"
        | b"StartUTC"
        | b"start_time"
        | b"EdgeStartTimestamp" => Key::Time,
        b"status" | b"status_code" | b"statusCode" | b"DownstreamStatus" | b"response_code" | b"EdgeResponseStatus" => {
            Key::Status
        }
        b"body_bytes_sent" | b"bytes_sent" | b"size" | b"DownstreamContentSize" | b"EdgeResponseBytes" | b"bytes" => {
            Key::Bytes
        }
        b"request_method" | b"method" | b"RequestMethod" | b"ClientRequestMethod" => Key::Method,
        b"request_uri" | b"uri" | b"RequestPath" | b"ClientRequestURI" | b"path" | b"x-envoy-origin-path" => {
            Key::Target
        }
        b"request" => Key::Request,
        b"remote_addr" | b"remote_ip" | b"client_ip" | b"ClientHost" | b"ClientIP" | b"downstream_remote_address" => {
            Key::Client
        }
        b"host" | b"http_host" | b"server_name" | b"RequestHost" | b"ClientRequestHost" | b":authority" => Key::Host,
        b"request_time" => Key::Latency(Span::Seconds),
        b"Duration" | b"OriginResponseTime" => Key::Latency(Span::Nanos),
        b"duration" => Key::Duration,
        b"upstream_response_time" => Key::UpstreamLatency,
        _ if name.ends_with(b"headers") => Key::Headers,
        _ => return None,
    })
}

/// The first value seen for each key logmon reads.
#[derive(Default)]
struct Found<'a> {
    time: Option<Value<'a>>,
    status: Option<Value<'a>>,
    bytes: Option<Value<'a>>,
    method: Option<Value<'a>>,
    target: Option<Value<'a>>,
    request: Option<Value<'a>>,
    client: Option<Value<'a>>,
    host: Option<Value<'a>>,
    latency: Option<(Value<'a>, Span)>,
    upstream: Option<Value<'a>>,
}

impl<'a> Found<'a> {
    #[inline(always)]
    fn offer(&mut self, key: Option<Key>, value: Value<'a>) {
        let Some(key) = key else { return };
        let slot = match key {
            Key::Time => &mut self.time,
            Key::Status => &mut self.status,
            Key::Bytes => &mut self.bytes,
            Key::Method => &mut self.method,
            Key::Target => &mut self.target,
            Key::Request => &mut self.request,
            Key::Client => &mut self.client,
            Key::Host => &mut self.host,
            Key::UpstreamLatency => &mut self.upstream,
            Key::Headers => return,
            Key::Latency(span) => {
                self.latency.get_or_insert((value, span));
                return;
            }
            Key::Duration => {
                let fraction = matches!(value, Value::Number(n) | Value::Str { raw: n, .. } if has_point(n));
                self.latency.get_or_insert((value, if fraction { Span::Seconds } else { Span::Millis }));
                return;
            }
        };
        slot.get_or_insert(value);
    }

    // Borrowed, not taken: taken, its fields were moved between stack
    // slots on the way in.
    fn record(&self, times: &mut TimeCache, scratch: &'a mut Vec<u8>) -> Result<Record<'a>, Malformed> {
        scratch.clear();
        let time = self.time.ok_or(Malformed::JsonNoTime)?;
        let time = read(time, scratch, |s| times.time_of(s)).ok_or(Malformed::BadTimestamp)?;
        let status = self.status.ok_or(Malformed::JsonNoStatus)?;
        let status = read(status, scratch, json_status).ok_or(Malformed::BadStatus)?;
        let bytes = match self.bytes {
            Some(v) => read(v, scratch, |s| parse::byte_count(s).ok()).ok_or(Malformed::BadBytes)?,
            None => 0,
        };
        let latency_us = self
            .latency
            .and_then(|(v, span)| {
                read(v, scratch, |s| super::short_duration_us(s, span).or_else(|| super::duration_us(s, span)))
            })
            .or_else(|| self.upstream.and_then(|v| read(v, scratch, |s| super::duration_us(s, Span::Seconds))));
        // The texts the record keeps: where each is, in the line or decoded.
        scratch.clear();
        let texts = [self.client, self.method, self.host, self.target.or(self.request)].map(|v| place(v, scratch));
        let scratch: &'a [u8] = scratch;
        let [client, method, host, target] = texts.map(|t| t.and_then(|t| t.get(scratch)));
        let section = match (self.target, target) {
            (Some(_), Some(t)) => section::of_target(t),
            (None, Some(request)) => section::of_request(request),
            _ => None,
        };
        // Without a target of its own, the request line says the method.
        let method = match self.target {
            None => method.or_else(|| target.and_then(parse::request_method)),
            Some(_) => method,
        };
        Ok(Record { time, status, bytes, section, client, method, latency_us, vhost: host })
    }
}

/// Whether `n` holds a point. Caddy's seconds (`0.000049`, four to eight
/// bytes) are looked at as one word, its first and last four bytes (which
/// overlap when it is shorter), not searched by a call; other lengths are.
#[inline(always)]
fn has_point(n: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    match (n.first_chunk::<4>(), n.last_chunk::<4>()) {
        (Some(&first), Some(&last)) if n.len() <= 8 => {
            let word = u64::from(u32::from_le_bytes(first)) | u64::from(u32::from_le_bytes(last)) << 32;
            // A lane equal to the point is a zero lane of `x`; the lowest
            // zero lane is always found, and with none, none is.
            let x = word ^ (ONES * u64::from(b'.'));
            x.wrapping_sub(ONES) & !x & (ONES << 7) != 0
        }
        _ => n.contains(&b'.'),
    }
}

/// A status; 0, which Caddy and Envoy write when no response was sent,
/// is unknown, as `-` is in text logs.
fn json_status(s: &[u8]) -> Option<u16> {
    if s == b"0" { Some(UNKNOWN_STATUS) } else { parse::status(s).ok() }
}

/// Reads a string or number with `f`, decoding a string first if it holds
/// escapes.
fn read<T>(value: Value<'_>, scratch: &mut Vec<u8>, f: impl FnOnce(&[u8]) -> Option<T>) -> Option<T> {
    match value {
        Value::Number(n) | Value::Str { raw: n, escaped: false } => f(n),
        Value::Str { raw, escaped: true } => {
            scratch.clear();
            unescape(raw, scratch)?;
            f(scratch)
        }
    }
}

/// Where a kept text is: in the line, or decoded into the scratch space.
#[derive(Clone, Copy)]
enum Text<'a> {
    Line(&'a [u8]),
    Scratch(usize, usize),
}

impl<'a> Text<'a> {
    fn get(self, scratch: &'a [u8]) -> Option<&'a [u8]> {
        let text = match self {
            Text::Line(t) => t,
            Text::Scratch(from, to) => &scratch[from..to],
        };
        (!text.is_empty() && text != b"-").then_some(text)
    }
}

/// Appends the decoded text of a string with escapes to `scratch`; `None`
/// for values that are not strings or cannot be decoded.
fn place<'a>(value: Option<Value<'a>>, scratch: &mut Vec<u8>) -> Option<Text<'a>> {
    match value? {
        Value::Str { raw, escaped: false } => Some(Text::Line(raw)),
        Value::Str { raw, escaped: true } => {
            let from = scratch.len();
            unescape(raw, scratch)?;
            Some(Text::Scratch(from, scratch.len()))
        }
        Value::Number(n) => Some(Text::Line(n)),
    }
}

/// What the lines before told of their time, so that a line's time, most
/// often in the same minute as the line before, is read by comparing bytes,
/// as CLF times are: ten-digit unix seconds (Caddy's `ts`, nginx's `$msec`;
/// 2001 to 2286) per hundred seconds, ISO 8601 (nginx's `$time_iso8601`,
/// Traefik's) per minute and zone ([`IsoClock`]). Out-of-order lines in the same span hit
/// too.
#[derive(Clone, Copy, Debug, Default)]
pub struct TimeCache {
    /// The first eight digits of the last unix time read, as a word, and
    /// the time of those digits followed by `00`.
    hundred: Option<(u64, Epoch)>,
    /// The minute and zone of the last ISO 8601 time read.
    iso: IsoClock,
    /// The names of the last line's members, in the order they stood (not
    /// a time: kept here, beside the times, as the one state JSON lines
    /// keep from line to line).
    names: [Name; NAMES],
}

/// How many of a line's first member names are kept: a Caddy access line
/// has 18 or 19, its header maps not counted (they are never kept).
const NAMES: usize = 32;

/// A member's name as it stood in the last line, with its closing quote
/// and, when it followed at once (compact JSON), the colon after it, as
/// two words, the bytes past them masked off; and what it names. `len`
/// counts the name's bytes, `taken` those compared; 0 for none kept (a
/// name of more than 15 bytes, or none yet). When the comma before the
/// member and the colon after its name stood right by its quotes, and
/// all fit in sixteen bytes (a name of up to 12), the text starts at that
/// comma (`,"status":`), and is compared right after the value before it
/// ([`Names::after_comma`]), not once the comma and quote were taken.
#[derive(Clone, Copy, Debug, Default)]
struct Name {
    text: [u64; 2],
    mask: [u64; 2],
    len: u8,
    taken: u8,
    comma: bool,
    key: Option<Key>,
}

/// Sixteen bytes as two little-endian words.
#[inline(always)]
fn words(bytes: &[u8; 16]) -> [u64; 2] {
    let (low, high) = bytes.split_at(8);
    [low, high].map(|half| u64::from_le_bytes(half.try_into().unwrap_or_default()))
}

/// The names of a line's members as they are taken, against the last
/// line's: lines of one server have the same members in the same order,
/// so a name is most often the one that stood in its place the line
/// before. Such a name is then found by one compare of sixteen bytes, not
/// searched for its end and matched against every name logmon reads.
struct Names<'n> {
    known: &'n mut [Name; NAMES],
    /// How many names of this line were taken.
    next: usize,
}

impl Names<'_> {
    /// What the name of the member whose opening quote was taken names.
    /// The same bytes up to the same closing quote are the same
    /// string, read the same way ([`Scan::string`] reads nothing past its
    /// closing quote), so a name found by its last line's bytes is the
    /// one the search would find. Whether the colon after it was taken
    /// too, as it then stood in the last line's place as well.
    #[inline(always)]
    fn take(&mut self, scan: &mut Scan<'_>) -> Option<(Option<Key>, bool)> {
        let n = self.next;
        self.next += 1;
        if let Some(known) = self.known.get(n)
            && known.taken != 0
            && !known.comma
            && let Some(window) = scan.s.get(scan.at..).and_then(<[u8]>::first_chunk::<16>)
        {
            let [low, high] = words(window);
            if (low ^ known.text[0]) & known.mask[0] | (high ^ known.text[1]) & known.mask[1] == 0 {
                let len = usize::from(known.len);
                let taken = usize::from(known.taken);
                scan.at += taken;
                return Some((known.key, taken == len + 2));
            }
        }
        let (name, _) = scan.string()?;
        let key = key(name);
        if let Some(known) = self.known.get_mut(n) {
            // The name, its closing quote and the colon must fit the 16
            // bytes compared, and with them the comma and opening quote
            // before it for the comma's form.
            let colon = name.len() < 15 && scan.s.get(scan.at) == Some(&b':');
            let quote = scan.at - name.len() - 2;
            let comma = colon && name.len() <= 12 && quote > 0 && scan.s[quote - 1] == b',';
            let (from, taken) = match comma {
                true => (quote - 1, name.len() + 4),
                false => (quote + 1, name.len() + 1 + usize::from(colon)),
            };
            *known = match name.len() {
                0..16 => {
                    let (mut text, mut mask) = ([0; 16], [0; 16]);
                    text[..taken].copy_from_slice(&scan.s[from..][..taken]);
                    mask[..taken].fill(0xff);
                    let (len, taken) = (name.len() as u8, taken as u8);
                    Name { text: words(&text), mask: words(&mask), len, taken, comma, key }
                }
                _ => Name::default(),
            };
        }
        Some((key, false))
    }

    /// What the name of the next member names, when it is the one that
    /// stood in its place the last line, in the comma's form: the
    /// comma, the quotes, the name and the colon compared right after the
    /// value before, and taken. `None` (nothing taken) otherwise, and the
    /// member is read the usual way, by [`Names::take`]. The same bytes
    /// are read the same way: the comma and the quote as tokens, the name
    /// up to its quote, the colon as a token.
    #[inline(always)]
    fn after_comma(&mut self, scan: &mut Scan<'_>) -> Option<Option<Key>> {
        let known = self.known.get(self.next)?;
        if !known.comma {
            return None;
        }
        let window = scan.s.get(scan.at..)?.first_chunk::<16>()?;
        let [low, high] = words(window);
        if (low ^ known.text[0]) & known.mask[0] | (high ^ known.text[1]) & known.mask[1] != 0 {
            return None;
        }
        self.next += 1;
        scan.at += usize::from(known.taken);
        Some(known.key)
    }
}

/// Every ten-digit unix time is in range: one the cache gives needs no check.
const _: () = assert!(9_999_999_999 <= timestamp::MAX_EPOCH);

impl TimeCache {
    /// A time as JSON logs write it: ISO 8601, CLF, or unix time as a number
    /// or a string of digits, in seconds (with a fraction), milliseconds,
    /// microseconds or nanoseconds, told apart by their size.
    fn time_of(&mut self, s: &[u8]) -> Option<Epoch> {
        if let Some(t) = self.in_hundred(s).or_else(|| self.iso.cached(s)) {
            return Some(t);
        }
        // A number: digits up to the end or a fraction. Found by stepping over
        // the digits (a dozen bytes), not by a search for the point.
        let digits = s.iter().take_while(|c| c.is_ascii_digit()).count();
        if digits > 0 && matches!(s.get(digits), None | Some(b'.')) {
            let whole = &s[..digits];
            return match whole.len() {
                0..=11 => timestamp::parse_unix(s, Unit::Seconds).inspect(|&t| self.keep_hundred(whole, t)),
                12..=14 => timestamp::parse_unix(whole, Unit::Millis),
                15..=17 => timestamp::parse_unix(whole, Unit::Micros),
                18..=19 => timestamp::parse_unix(&whole[..whole.len() - 3], Unit::Micros),
                _ => None,
            };
        }
        self.iso.parse(s).or_else(|| timestamp::parse_clf_variant(s, Zone::Required))
    }

    /// The time of `s` if it is ten digits of unix seconds, with or without a
    /// fraction, in the hundred seconds of the last one read.
    #[inline(always)]
    fn in_hundred(&self, s: &[u8]) -> Option<Epoch> {
        let (digits, hundred) = self.hundred?;
        let (head, rest) = s.split_first_chunk::<8>()?;
        if u64::from_le_bytes(*head) != digits {
            return None;
        }
        let [tens @ b'0'..=b'9', ones @ b'0'..=b'9', fraction @ ..] = rest else { return None };
        match fraction {
            [] => {}
            [b'.', digits @ ..] if !digits.is_empty() && digits.iter().all(u8::is_ascii_digit) => {}
            _ => return None,
        }
        Some(hundred + Epoch::from((tens - b'0') * 10 + (ones - b'0')))
    }

    /// Keeps the hundred seconds of `whole`, the digits of unix time `t`.
    fn keep_hundred(&mut self, whole: &[u8], t: Epoch) {
        if let Some((head, [_, _])) = whole.split_first_chunk::<8>() {
            self.hundred = Some((u64::from_le_bytes(*head), t - t % 100));
        }
    }
}

/// Decodes the content of a JSON string: `\"`, `\\`, `\/`, the control
/// escapes and `\uXXXX`, surrogate pairs included; a lone surrogate
/// becomes U+FFFD. `None` for an invalid escape.
pub fn unescape(raw: &[u8], out: &mut Vec<u8>) -> Option<()> {
    let mut rest = raw;
    while let Some(i) = memchr(b'\\', rest) {
        out.extend_from_slice(&rest[..i]);
        let escape = *rest.get(i + 1)?;
        rest = &rest[i + 2..];
        let decoded = match escape {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let (c, used) = unicode(rest)?;
                rest = &rest[used..];
                c
            }
            _ => return None,
        };
        let mut buf = [0; 4];
        out.extend_from_slice(decoded.encode_utf8(&mut buf).as_bytes());
    }
    out.extend_from_slice(rest);
    Some(())
}

/// The character of a `\u` escape whose hex digits start `s`, and the bytes
/// it took: 4, or 10 for a surrogate pair.
fn unicode(s: &[u8]) -> Option<(char, usize)> {
    let high = hex4(s)?;
    if (0xd800..0xdc00).contains(&high)
        && let Some(low) = s.get(4..6).filter(|e| *e == b"\\u").and_then(|_| hex4(&s[6..]))
        && (0xdc00..0xe000).contains(&low)
    {
        let c = 0x10000 + ((u32::from(high) - 0xd800) << 10) + (u32::from(low) - 0xdc00);
        return Some((char::from_u32(c)?, 10));
    }
    Some((char::from_u32(u32::from(high)).unwrap_or('\u{fffd}'), 4))
}

fn hex4(s: &[u8]) -> Option<u16> {
    let digits = std::str::from_utf8(s.get(..4)?).ok()?;
    if !digits.bytes().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    u16::from_str_radix(digits, 16).ok()
}

/// The content of the JSON string that `s` starts with, after its opening
/// quote, up to its closing quote; whether it holds escapes.
#[inline(always)]
pub fn string(s: &[u8]) -> Option<(&[u8], bool)> {
    let mut at = 0;
    let mut escaped = false;
    loop {
        let i = at + quote_or_backslash(s.get(at..)?)?;
        if s[i] == b'"' {
            return Some((&s[..i], escaped));
        }
        escaped = true;
        at = i + 2;
    }
}

/// Where the first `"` or `\\` of `s` is. Most strings of a JSON line are
/// short names and values, found in the first sixteen bytes by the inlined
/// search of [`bytes::find_either`].
#[inline(always)]
fn quote_or_backslash(s: &[u8]) -> Option<usize> {
    bytes::find_either(s, b'"', b'\\')
}

/// A cursor over a line of JSON.
struct Scan<'a> {
    s: &'a [u8],
    at: usize,
}

impl<'a> Scan<'a> {
    fn space(&mut self) {
        while let Some(b' ' | b'\t' | b'\r' | b'\n') = self.s.get(self.at) {
            self.at += 1;
        }
    }

    /// Takes the next byte that is not a space; `None` at the end.
    #[inline(always)]
    fn token(&mut self) -> Option<u8> {
        let c = *self.s.get(self.at)?;
        self.at += 1;
        // Compact JSON has no spaces: one comparison says so.
        if c > b' ' { Some(c) } else { self.token_after(c) }
    }

    /// [`Scan::token`] where the byte taken, `c`, may be a space.
    #[cold]
    fn token_after(&mut self, c: u8) -> Option<u8> {
        if !matches!(c, b' ' | b'\t' | b'\r' | b'\n') {
            return Some(c);
        }
        self.space();
        let c = *self.s.get(self.at)?;
        self.at += 1;
        Some(c)
    }

    /// The content of a string whose opening quote was taken.
    #[inline(always)]
    fn string(&mut self) -> Option<(&'a [u8], bool)> {
        let (raw, escaped) = string(self.s.get(self.at..)?)?;
        self.at += raw.len() + 1;
        Some((raw, escaped))
    }

    /// The members of an object whose `{` was taken, through its `}`; the
    /// strings and numbers among them, and among those of the objects
    /// inside, are offered to `found` in the order they stand. Its cursor
    /// is a local copy, kept in a register rather than stored at every
    /// token, written back once the object closes (the scan is refused
    /// when it fails, wherever it stopped); an object inside is read by a
    /// copy of its own, so that this one's address is never taken. The
    /// names, likewise, are passed by value and given back (the names of
    /// the objects inside counted with this one's), so that where they
    /// are and how many were taken stay in registers, not loaded and
    /// stored at every member.
    fn members<'n>(&mut self, depth: usize, found: &mut Found<'a>, mut names: Names<'n>) -> Option<Names<'n>> {
        if depth > MAX_DEPTH {
            return None;
        }
        let mut scan = Scan { s: self.s, at: self.at };
        let mut c = scan.token()?;
        if c == b'}' {
            self.at = scan.at;
            return Some(names);
        }
        loop {
            if c != b'"' {
                return None;
            }
            let (mut key, colon) = names.take(&mut scan)?;
            if !colon && scan.token()? != b':' {
                return None;
            }
            // The members that follow, each found with the comma before it
            // by its name in the last line ([`Names::after_comma`]), are read
            // in this loop; the others from the top.
            loop {
                match scan.token()? {
                    b'"' => {
                        let (raw, escaped) = scan.string()?;
                        found.offer(key, Value::Str { raw, escaped });
                    }
                    b'-' | b'0'..=b'9' => {
                        let number = scan.number();
                        found.offer(key, Value::Number(number));
                    }
                    b'{' if key == Some(Key::Headers) => match scan.lists(depth + 1) {
                        Some(end) => scan.at = end,
                        None => scan.skip(depth + 1)?,
                    },
                    b'{' => {
                        let mut inner = Scan { s: scan.s, at: scan.at };
                        names = inner.members(depth + 1, found, names)?;
                        scan.at = inner.at;
                    }
                    b'[' => scan.skip(depth + 1)?,
                    b't' => scan.word(b"rue")?,
                    b'f' => scan.word(b"alse")?,
                    b'n' => scan.word(b"ull")?,
                    _ => return None,
                }
                match names.after_comma(&mut scan) {
                    Some(member) => key = member,
                    None => break,
                }
            }
            match scan.token()? {
                b',' => c = scan.token()?,
                b'}' => {
                    self.at = scan.at;
                    return Some(names);
                }
                _ => return None,
            }
        }
    }

    /// A number whose first byte was taken: the bytes numbers are made of,
    /// as they stand (the readers of each field check them).
    #[inline(always)]
    fn number(&mut self) -> &'a [u8] {
        let start = self.at - 1;
        let len = self.s[self.at..]
            .iter()
            .take_while(|c| matches!(c, b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-'))
            .count();
        self.at += len;
        &self.s[start..self.at]
    }

    /// The rest of `true`, `false` or `null`, whose first byte was taken.
    fn word(&mut self, rest: &[u8]) -> Option<()> {
        self.s[self.at..].starts_with(rest).then(|| self.at += rest.len())
    }

    /// Steps over the rest of an object or array whose opening bracket was
    /// taken, through its closing one: strings whole, brackets counted.
    /// Nothing in it is offered: the members of objects inside arrays
    /// (lists of headers and the like) are nothing logmon reads. Between
    /// strings there are a few bytes (`":["`, `"],"`): a search for the
    /// next bracket or quote would cost more to start than it saves.
    /// Inlined into the scan (measured: 98 instructions fewer a Caddy line,
    /// whose two header maps it steps over), its cursor a local copy, kept
    /// in a register rather than stored at every byte (the scan is refused
    /// when it fails, wherever it stopped). A string ends at the first
    /// quote the near search finds when no backslash stands before it,
    /// else [`Scan::string`] of that copy reads it: a second owner of
    /// where a string ends, kept for speed (62aac46: 4,234.5 -> 4,161.7
    /// instructions a Caddy line), which
    /// `strings_stepped_over_end_where_they_are_read_to` holds to
    /// [`Scan::string`]'s reading over escapes, brackets and lengths.
    #[inline(always)]
    fn skip(&mut self, depth: usize) -> Option<()> {
        let mut scan = Scan { s: self.s, at: self.at };
        let mut open = 1;
        loop {
            let c = *scan.s.get(scan.at)?;
            scan.at += 1;
            match c {
                b'"' => scan.at = scan.string_end()?,
                b'{' | b'[' if depth + open >= MAX_DEPTH => return None,
                b'{' | b'[' => open += 1,
                b'}' | b']' if open == 1 => {
                    self.at = scan.at;
                    return Some(());
                }
                b'}' | b']' => open -= 1,
                _ => {}
            }
        }
    }

    /// Where the string whose opening quote was taken ends: past its
    /// closing quote. Nothing of it is read but its end: its first quote,
    /// unless a backslash stands before it (a quote after an escape, or
    /// after an escaped backslash), when [`Scan::string`] steps over it.
    #[inline(always)]
    fn string_end(&self) -> Option<usize> {
        let rest = self.s.get(self.at..)?;
        match bytes::find_near(rest, b'"') {
            Some(end) if end == 0 || rest[end - 1] != b'\\' => Some(self.at + end + 1),
            _ => {
                let mut scan = Scan { s: self.s, at: self.at };
                scan.string()?;
                Some(scan.at)
            }
        }
    }

    /// Where a header map whose `{` was taken ends, past its `}`, when it
    /// has the shape Caddy writes, names and lists of strings in compact
    /// JSON: `{"Accept":["*/*"],"Via":["a","b"]}`. `None` for any other
    /// shape (spaces, an empty map or list, a value not a list of strings,
    /// nesting within a bracket of [`MAX_DEPTH`]), which [`Scan::skip`]
    /// steps over. A second owner of where such a map ends, kept for
    /// speed: it reads a string and the punctuation after it as one step
    /// where [`Scan::skip`] takes a byte at a time (43f3a32, instructions
    /// a line: caddy 4,119.9 -> 3,911.6, caddyvary 4,255.2 -> 4,001.9);
    /// where it gives an end, it is the one
    /// [`Scan::skip`] gives, byte for byte the same reading (strings by
    /// [`Scan::string_end`], the brackets counted, the commas and colons
    /// passed), which `header_maps_end_where_they_are_stepped_over_to`
    /// holds it to.
    #[inline(always)]
    fn lists(&self, depth: usize) -> Option<usize> {
        // The lists are a bracket deeper than the map: Scan::skip refuses
        // them from this depth.
        if depth + 1 >= MAX_DEPTH {
            return None;
        }
        let mut scan = Scan { s: self.s, at: self.at };
        loop {
            // A name, its colon, the list's bracket and its first quote.
            if scan.s.get(scan.at) != Some(&b'"') {
                return None;
            }
            scan.at += 1;
            scan.at = scan.string_end()?;
            if scan.s.get(scan.at..)?.first_chunk::<3>()? != b":[\"" {
                return None;
            }
            scan.at += 3;
            loop {
                scan.at = scan.string_end()?;
                match scan.s.get(scan.at..)?.first_chunk::<2>()? {
                    b",\"" => scan.at += 2,
                    b"]," => {
                        scan.at += 2;
                        break;
                    }
                    b"]}" => return Some(scan.at + 2),
                    _ => return None,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: Epoch = 1_549_573_860; // 2019-02-07T21:11:00Z

    /// The record of a line, its texts copied out for comparison.
    fn hit(line: &str) -> Owned {
        let mut scratch = Vec::new();
        let r = parse(&mut TimeCache::default(), line.as_bytes(), &mut scratch)
            .unwrap_or_else(|e| panic!("{e} for {line}"));
        let own = |t: Option<&[u8]>| t.map(<[u8]>::to_vec);
        Owned {
            time: r.time,
            status: r.status,
            bytes: r.bytes,
            latency_us: r.latency_us,
            section: own(r.section),
            client: own(r.client),
            method: own(r.method),
            vhost: own(r.vhost),
        }
    }

    #[derive(Debug, PartialEq)]
    struct Owned {
        time: Epoch,
        status: u16,
        bytes: u64,
        latency_us: Option<u64>,
        section: Option<Vec<u8>>,
        client: Option<Vec<u8>>,
        method: Option<Vec<u8>>,
        vhost: Option<Vec<u8>>,
    }

    fn some(s: &str) -> Option<Vec<u8>> {
        Some(s.as_bytes().to_vec())
    }

    fn miss(line: &str) -> Malformed {
        parse(&mut TimeCache::default(), line.as_bytes(), &mut Vec::new()).expect_err(line)
    }

    #[test]
    fn nginx_escape_json() {
        let r = hit(
            r#"{"time_local":"07/Feb/2019:21:11:00 +0000","remote_addr":"1.2.3.4","request":"GET /api/user?x=\"1\" HTTP/1.1","status": "200","body_bytes_sent":"512","request_time":"0.042","http_host":"example.org"}"#,
        );
        assert_eq!(
            r,
            Owned {
                time: T0,
                status: 200,
                bytes: 512,
                section: some("/api"),
                client: some("1.2.3.4"),
                method: some("GET"),
                latency_us: Some(42_000),
                vhost: some("example.org"),
            }
        );
    }

    #[test]
    fn caddy_nested_request() {
        let r = hit(
            r#"{"level":"info","ts":1549573860.5176,"logger":"http.log.access","msg":"handled request","request":{"remote_ip":"::1","remote_port":"5000","proto":"HTTP/2.0","method":"GET","host":"example.com","uri":"\/caf\u00e9\/x?a=1","headers":{"User-Agent":["curl/8"],"Accept":["*/*"]},"tls":{"resumed":false}},"bytes_read":0,"user_id":"","duration":0.000929,"size":10900,"status":200,"resp_headers":{"Server":["Caddy"]}}"#,
        );
        assert_eq!((r.time, r.status, r.bytes), (T0, 200, 10900));
        assert_eq!(r.section, some("/café"));
        assert_eq!((r.client, r.method, r.vhost), (some("::1"), some("GET"), some("example.com")));
        assert_eq!(r.latency_us, Some(929));
    }

    #[test]
    fn traefik_and_envoy_units() {
        let r = hit(
            r#"{"ClientHost":"10.0.0.1","DownstreamContentSize":21,"DownstreamStatus":404,"Duration":1234567,"OriginStatus":404,"RequestHost":"a.example","RequestMethod":"GET","RequestPath":"/x/y","StartUTC":"2019-02-07T21:11:00.123456789Z","time":"2019-02-07T22:11:00+01:00"}"#,
        );
        assert_eq!((r.time, r.status, r.bytes, r.latency_us, r.section), (T0, 404, 21, Some(1234), some("/x")));
        let r = hit(
            r#"{":authority":"svc","start_time":"2019-02-07T21:11:00.000Z","method":"POST","x-envoy-origin-path":"/v1/a","response_code":503,"bytes_sent":0,"duration":12,"downstream_remote_address":"10.0.0.2:4242"}"#,
        );
        assert_eq!((r.status, r.latency_us, r.vhost), (503, Some(12_000), some("svc")));
    }

    #[test]
    fn unix_times_of_any_unit() {
        for t in
            ["1549573860", "1549573860.9", "\"1549573860\"", "1549573860123", "1549573860123456", "1549573860123456789"]
        {
            assert_eq!(hit(&format!(r#"{{"EdgeStartTimestamp":{t},"EdgeResponseStatus":200}}"#)).time, T0, "{t}");
        }
    }

    /// Times read through the cache are those read without it, whatever
    /// came before: same hundred seconds or not, fraction or not, and the
    /// malformed ones still refused.
    #[test]
    fn cached_times_are_read_as_uncached_ones() {
        let times = [
            "1549573860",
            "1549573860.007",
            "1549573899.5",
            "1549573900",
            "1549573801",
            "1549573860.",
            "1549573860.x",
            "1549573860.1.2",
            "15495738a0",
            "1549573860e3",
            "154957386",
            "15495738601",
            "1549573860123",
            "\"1549573860\"",
            "2019-02-07T21:11:00Z",
            "1549573860 ",
            "-1549573860",
            "0000000000",
            "9999999999.25",
            "\0\0\0\0\0\0\0\x0012",
            "2019-02-07T21:11:59.123Z",
            "2019-02-07T21:11:60Z",
            "2019-02-07T21:11:61Z",
            "2019-02-07T21:11:05.1234567891Z",
            "2019-02-07T21:11:05.123456789Z",
            "2019-02-07T21:11:05,5+01:00",
            "2019-02-07T21:11:05+0100",
            "2019-02-07 21:11:05",
            "2019-02-07T21:11:05.Z",
            "2019-02-07T21:11:5Z",
            "2019-02-07T21:11:05+01:00x",
            "2019-02-07T21:11:05z",
            "2019-02-07T21:11:05-23:59",
            "2019-02-07T21:11:05+24:00",
            "2019-02-07T21:12:05Z",
            "9999-12-30T23:59:30Z",
            "9999-12-31T23:59:30Z",
            "1970-01-01T00:00:30Z",
            "1970-01-01T00:00:30+01:00",
            "1969-12-31T23:59:30-01:00",
            "2019-02-30T21:11:05Z",
            "2019-02-07T21:11:05 +01:00",
            "2019-02-07T21:11:05.5",
            "07/Feb/2019:21:11:00 +0000",
        ];
        let mut seed = 7_u64;
        let mut cache = TimeCache::default();
        for _ in 0..20_000 {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            let t = times[(seed >> 33) as usize % times.len()].as_bytes();
            assert_eq!(cache.time_of(t), TimeCache::default().time_of(t), "{}", String::from_utf8_lossy(t));
        }
        let mut cache = TimeCache::default();
        assert_eq!(cache.in_hundred(b"\0\0\0\0\0\0\0\x0000"), None);
        assert_eq!(cache.time_of(b"1549573860.5"), Some(T0));
        assert_eq!(cache.in_hundred(b"1549573899"), Some(T0 + 39));
        assert_eq!(cache.in_hundred(b"1549573900"), None);
        assert_eq!(cache.in_hundred(b"1549573860."), None);
        assert_eq!(cache.time_of(b"2019-02-07T22:11:00.5+01:00"), Some(T0));
        assert_eq!(cache.iso.cached(b"2019-02-07T22:11:42+01:00"), Some(T0 + 42));
        assert_eq!(cache.iso.cached(b"2019-02-07T22:11:42,123456789+01:00"), Some(T0 + 42));
        assert_eq!(cache.iso.cached(b"2019-02-07T22:11:60+01:00"), Some(T0 + 60));
        assert_eq!(cache.iso.cached(b"2019-02-07T22:11:61+01:00"), None);
        assert_eq!(cache.iso.cached(b"2019-02-07T22:11:42Z"), None);
        assert_eq!(cache.iso.cached(b"2019-02-07T22:11:42.+01:00"), None);
        assert_eq!(cache.iso.cached(b"2019-02-07T22:12:42+01:00"), None);
    }

    /// Names read by the last line's names are those read without them,
    /// whatever came before: the same members, others in their places,
    /// longer and shorter ones, escaped ones and a line's last bytes.
    #[test]
    fn names_known_from_the_last_line_are_read_as_new_ones() {
        let lines = [
            r#"{"ts":1549573860.5,"request":{"uri":"/a","host":"h"},"status":200,"size":5}"#,
            r#"{"ts":1549573860.5,"request":{"url":"/a","hosts":"h"},"status":200,"size":5}"#,
            r#"{"ts":1549573860.5,"request":{"uri":"/b","host":"i"},"status":404,"size":7}"#,
            r#"{"ts":1549573860.5,"status":201,"request":{"uri":"/c","host":"j"},"size":5}"#,
            r#"{"t\u0073":1549573860.5,"status":200,"a_name_of_20_bytes__":1,"uri":"/d"}"#,
            r#"{"ts":1549573860.5,"stat\"us":500,"status":200,"uri":"/e","s":1}"#,
            r#"{"ts":1549573860.5,"status":200,"uri":"/f","size":9}"#,
            r#"{"ts":1549573860.5,"status":200,"uri":"/f","size":"x"}"#,
            r#"{"ts":1549573860.5,"status":200,"uri":"/f","siz":"x"}"#,
            r#"{"ts":1549573860.5,"status":200,"uri":"/f","size"}"#,
            r#"{"ts":1549573860.5}"#,
            r#"{"ts" :1549573860.5,"status": 200,"uri" : "/g"}"#,
            r#"{"ts"x1549573860.5,"status":200}"#,
            r#"{"duration":1549573860.5,"ts":1,"status":200}"#,
            // Names of 13 to 16 bytes, where what is kept changes: the
            // colon with the name up to 14, the name alone at 15, nothing
            // from 16; then other names of those lengths in their places.
            r#"{"ts":1549573860.5,"response_code":200,"abcdefghijklmn":1,"body_bytes_sent":5,"DownstreamStatus":1}"#,
            r#"{"ts":1549573860.5,"response_code" :200,"abcdefghijklmn" :1,"body_bytes_sent" :5,"DownstreamStatus" :1}"#,
            r#"{"ts":1549573860.5,"response_codf":200,"abcdefghijklmo":1,"body_bytes_senu":5,"DownstreamStatut":1}"#,
            r#"{"ts":1549573860.5,"request":{},"status":200,"uri":"/h"}"#,
            // Names found with the comma before them: up to 12 bytes, the
            // same names with a space after the comma or before the colon,
            // other names in their places, a value the name's bytes end.
            r#"{"ts":1549573860.5,"status_code":200,"a_name_of_12":1,"a_name_of_13_":2,"uri":"/i"}"#,
            r#"{"ts":1549573860.5, "status_code":200, "a_name_of_12":1,"a_name_of_13_" :2,"uri":"/i"}"#,
            r#"{"ts":1549573860.5,"status_code" :200,"a_name_of_12" :1,"a_name_of_13_":2,"uri" :"/i"}"#,
            r#"{"ts":1549573860.5,"status_codf":200,"a_name_of_1X":1,"a_name_of_13X":2,"urj":"/i"}"#,
            r#"{"ts":1549573860.5,"status_code":"200","a_name_of_12":[1],"a_name_of_13_":{"uri":"/j"}}"#,
            r#"{"ts":1549573860.5,"uri":"/k,\"status\":500","status":200}"#,
            r#"{"ts":1549573860.5,"status":200,"status":404,"uri":"/l"}"#,
            // Names that end in `headers`, short and long, with maps and
            // other values, and in their places names that do not.
            r#"{"ts":1549573860.5,"headers":{"uri":"/x"},"a_map_of_headers":{"uri":"/y"},"status":200,"uri":"/m"}"#,
            r#"{"ts":1549573860.5,"headers":"/x","a_map_of_headers":5,"status":200,"uri":"/m"}"#,
            r#"{"ts":1549573860.5,"headerz":{"uri":"/x"},"a_map_of_headerz":{"uri":"/y"},"status":200}"#,
        ];
        let mut times = TimeCache::default();
        let mut seed = 3_u64;
        for _ in 0..2_000 {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            let line = lines[(seed >> 33) as usize % lines.len()].as_bytes();
            let (mut a, mut b) = (Vec::new(), Vec::new());
            let known = parse(&mut times, line, &mut a).map(|r| format!("{r:?}"));
            let new = parse(&mut TimeCache { names: [Name::default(); NAMES], ..times }, line, &mut b)
                .map(|r| format!("{r:?}"));
            assert_eq!(known, new, "{}", String::from_utf8_lossy(line));
        }
    }

    /// A string in what is stepped over ends where the scan reads it to
    /// end: at its first quote that no backslash escapes, whatever the
    /// escapes and brackets before it and its length (the search's windows
    /// of sixteen, and past 64). The same map is read both ways: stepped
    /// over as a header map, read member by member under another name.
    #[test]
    fn strings_stepped_over_end_where_they_are_read_to() {
        let pieces = [r"a", r"\\", r#"\""#, r"}", r"]", r"{", r"[", r",", r"\n", r#"\\\""#];
        let mut seed = 5_u64;
        for _ in 0..3_000 {
            let mut content = String::new();
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            let mut draw = seed >> 20;
            for _ in 0..(seed >> 58) + (seed >> 61) * 8 {
                content.push_str(pieces[draw as usize % pieces.len()]);
                draw = (draw / pieces.len() as u64).wrapping_add(draw << 40);
            }
            for name in ["headers", "fields"] {
                let line = format!(
                    r#"{{"ts":1549573860.5,"{name}":{{"a":"{content}","b":"{content}"}},"status":201,"uri":"/s"}}"#
                );
                let r = hit(&line);
                assert_eq!((r.status, r.section), (201, some("/s")), "{line}");
            }
        }
    }

    /// A header map read by its shape ends where the byte-at-a-time
    /// reading ends it, whatever its strings (escapes, brackets and quotes
    /// in them, lengths past the near search's 64), its punctuation (the
    /// shape's, spaces, empty lists, other values) and its depth; and the
    /// shape is read where it stands. A name without its opening quote
    /// (at the map's start, or after a list's `],`) is refused.
    #[test]
    fn header_maps_end_where_they_are_stepped_over_to() {
        let strings = [r"a", r"User-Agent", r"\\", r#"\""#, r#"x\\\"]}"#, r"]}", r"{[", r"\u00e9", r""];
        // Some joins end in `"],` with no quote after: the next name then
        // starts with another byte, which the shape refuses.
        let joins = [
            r#"":[""#,
            r#"",""#,
            r#""],""#,
            r#""]}"#,
            r#"" : [""#,
            r#""]"#,
            r#"":"#,
            r#"":[]"#,
            r#"",["#,
            r#""],"#,
            r#""], "#,
            r#""],x"#,
        ];
        // Mostly a quote after the map's `{`; now and then a space or another byte.
        let opens = ["{\"", "{\"", "{\"", "{ \"", "{", "{x\""];
        let mut seed = 9_u64;
        let mut read = 0;
        for _ in 0..20_000 {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            let mut draw = seed >> 16;
            let mut map = String::from(opens[(seed >> 8) as usize % opens.len()]);
            for i in 0..1 + (seed >> 60) {
                let string = strings[draw as usize % strings.len()];
                let repeat = if draw.is_multiple_of(7) { 30 } else { 1 };
                draw /= strings.len() as u64;
                map.push_str(&string.repeat(repeat));
                // Mostly the shape's own punctuation, in its order.
                let join = match draw % 4 {
                    0 => joins[(draw / 4) as usize % joins.len()],
                    _ => [r#"":[""#, r#"",""#, r#""],""#][i as usize % 3],
                };
                draw = (draw / 64).wrapping_add(draw << 40);
                map.push_str(join);
            }
            map.push_str(r#"last"]}}"#);
            let line = map.as_bytes();
            for depth in [1, 2, MAX_DEPTH - 3, MAX_DEPTH - 2, MAX_DEPTH - 1] {
                let scan = Scan { s: line, at: 1 };
                let mut skipped = Scan { s: line, at: 1 };
                let skip = skipped.skip(depth).map(|()| skipped.at);
                if let Some(end) = scan.lists(depth) {
                    read += 1;
                    assert_eq!(Some(end), skip, "{map} at depth {depth}");
                }
            }
        }
        assert!(read > 1_000, "{read} maps read by their shape");
        let caddy = br#"{"User-Agent":["curl/8 \"x\""],"Accept":["*/*","a"]},"#;
        assert_eq!(Scan { s: caddy, at: 1 }.lists(2), Some(caddy.len() - 1));
        // A name without its opening quote: the shape is refused, or ends
        // where the byte-at-a-time reading does (here it finds no end).
        let unquoted = br#"{"A":["x"],x":["a"]}}"#;
        let mut skipped = Scan { s: unquoted, at: 1 };
        let skip = skipped.skip(2).map(|()| skipped.at);
        let lists = Scan { s: unquoted, at: 1 }.lists(2);
        assert!(lists.is_none() || lists == skip, "{lists:?} vs {skip:?}");
        assert_eq!(skip, None);
    }

    /// A point is found in a value of any length, at any place, among
    /// bytes close to it (`-`, `/`, `.` with its high bit) or not.
    #[test]
    fn a_point_is_found_wherever_it_stands() {
        let bytes = [b'0', b'9', b'-', b'/', b'.' | 0x80, b'.' - 0x10, 0, 0xff];
        let mut seed = 7_u64;
        for len in 0..=12 {
            for point in 0..=len {
                for _ in 0..200 {
                    seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                    let mut n: Vec<u8> =
                        (0..len).map(|i| bytes[(seed >> (3 * i + 20)) as usize % bytes.len()]).collect();
                    if point < len {
                        n[point] = b'.';
                    }
                    assert_eq!(has_point(&n), n.contains(&b'.'), "{n:?}");
                }
            }
        }
    }

    #[test]
    fn escapes() {
        let mut out = Vec::new();
        unescape(br#"a\"b\\c\/d\u00e9\ud83d\ude00\ud800x\n"#, &mut out).expect("valid");
        assert_eq!(out, "a\"b\\c/dé😀\u{fffd}x\n".as_bytes());
        for bad in [r"\x41", r"\u12", r"\uzzzz", "\\"] {
            assert_eq!(unescape(bad.as_bytes(), &mut Vec::new()), None, "{bad}");
        }
    }

    #[test]
    fn defects_have_their_reasons() {
        assert_eq!(miss("not json"), Malformed::NotJson);
        assert_eq!(miss(r#"{"status":200"#), Malformed::NotJson);
        assert_eq!(miss(r#"{"status":200} x"#), Malformed::NotJson);
        assert_eq!(miss(r#"["status",200]"#), Malformed::NotJson);
        assert_eq!(miss(r#"{"status":200,"uri":"/a"}"#), Malformed::JsonNoTime);
        assert_eq!(miss("{}"), Malformed::JsonNoTime);
        assert_eq!(miss(r#"{"time":"2019-02-07T21:11:00Z"}"#), Malformed::JsonNoStatus);
        assert_eq!(miss(r#"{"time":"yesterday","status":200}"#), Malformed::BadTimestamp);
        assert_eq!(miss(r#"{"time":1549573860,"status":"OK"}"#), Malformed::BadStatus);
        assert_eq!(miss(r#"{"time":1549573860,"status":200,"size":1.5}"#), Malformed::BadBytes);
        let deep = format!("{}{}", "{\"a\":".repeat(40), "1");
        assert_eq!(miss(&deep), Malformed::NotJson);
    }

    /// A map under a name that ends in `headers` is stepped over unread,
    /// whatever its shape; other values under such names are not read
    /// either, and maps under other names are.
    #[test]
    fn header_maps_are_not_read() {
        for map in [r#"{"uri":"/x"}"#, r#"{"uri":["/x"]}"#, r#"{ "uri" : [ "/x" ] }"#, r#"{"a":{"uri":"/x"}}"#] {
            for name in ["headers", "resp_headers", "a_long_name_of_headers"] {
                let line = format!(r#"{{"ts":1549573860.5,"{name}":{map},"status":200,"uri":"/m"}}"#);
                assert_eq!(hit(&line).section, some("/m"), "{line}");
            }
            // Not the lists: no member of an array is read.
            if !map.contains('[') {
                let line = format!(r#"{{"ts":1549573860.5,"status":200,"headerz":{map}}}"#);
                assert_eq!(hit(&line).section, some("/x"), "{line}");
            }
        }
        assert_eq!(hit(r#"{"ts":1549573860.5,"headers":"/x","status":200}"#).section, None);
    }

    /// An empty object is a value like any other: the members after it are
    /// read, and a line that is one is an object without a time.
    #[test]
    fn an_empty_object_is_stepped_over() {
        assert_eq!(hit(r#"{"ts":1549573860.5,"request":{},"status":200,"uri":"/h"}"#).section, some("/h"));
        assert_eq!(hit(r#"{"ts":1549573860.5,"tls":{},"status":200,"uri":"/h","labels":{}}"#).status, 200);
    }

    /// Random objects of known and unknown keys, nested, with escapes, and
    /// random damage to them: the scanner never panics, and an object that
    /// has a valid time and status is always a hit.
    #[test]
    fn fuzzed_objects() {
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        // Not `size`: a size that is not a count makes the line malformed.
        const KEYS: [&str; 9] = ["ts", "status", "uri", "request", "host", "headers", "x", "duration", "method"];
        const STRINGS: [&str; 6] = [r"/a\/b", r"caf\u00e9", r#"q\"x"#, r"\ud83d\ude00", "-", "GET /a HTTP/1.1"];
        let mut scratch = Vec::new();
        let mut times = TimeCache::default();
        for _ in 0..5000 {
            let mut line = String::from(r#"{"ts":1549573860.5,"status":200"#);
            for _ in 0..next(8) {
                let key = KEYS[next(KEYS.len() as u64) as usize];
                let value = match next(5) {
                    0 => format!("\"{}\"", STRINGS[next(STRINGS.len() as u64) as usize]),
                    1 => next(100_000).to_string(),
                    2 => format!(r#"{{"{key}":["a",{{"b":null}}],"k":true}}"#),
                    3 => "[1,[2,[3]],{\"x\":\"]\"}]".to_owned(),
                    _ => "false".to_owned(),
                };
                line.push_str(&format!(",\"{key}\":{value}"));
            }
            line.push('}');
            // Later duplicates of the keys read first do not change them.
            assert!(parse(&mut times, line.as_bytes(), &mut scratch).is_ok(), "{line}");
            let mut damaged = line.into_bytes();
            for _ in 0..1 + next(3) {
                let at = next(damaged.len() as u64) as usize;
                damaged[at] = b"{}[]\"\\:, x\xff"[next(11) as usize];
            }
            let _ = parse(&mut times, &damaged, &mut scratch);
        }
    }

    /// Every prefix, and every single-byte change, of a line: no panic.
    #[test]
    fn no_input_makes_the_scanner_panic() {
        let line =
            br#"{"ts":1549573860.5,"request":{"uri":"/a\"b\u00e9","h":[1,{"x":null}],"t":true},"status":200,"size":5}"#;
        let mut scratch = Vec::new();
        let mut times = TimeCache::default();
        for n in 0..=line.len() {
            let _ = parse(&mut times, &line[..n], &mut scratch);
            for r in [b'"', b'\\', b'{', b'}', b'[', b']', b':', b',', b'u', b'\xff', b' '] {
                let mut v = line.to_vec();
                if n < v.len() {
                    v[n] = r;
                }
                let _ = parse(&mut times, &v, &mut scratch);
            }
        }
    }
}
