//! The general reading of a step: where its field ends (the next literal
//! that fits, escapes and the request's one rule included) and what it
//! says. It reads every line the operations ([`super::op`]) give up,
//! prefixed lines and padded ones, and says why a line fails.

use memchr::memchr;

use super::op::{ends_at_quote, plain_method_and_section, three_digits};
use super::{End, Field, Follow, Literal, Read, Step, escaped, fill, known, read_time};
use crate::engine::bytes;
use crate::engine::parse::{Malformed, Record};
use crate::engine::timestamp::{CLF_LEN, ClfClock, Epoch};

impl Step {
    /// Reads this step's field from `from` on into `record` (or `time`) and
    /// returns where the literal after it ends.
    #[inline(always)]
    pub(super) fn next<'a>(
        &self,
        clock: &mut ClfClock,
        line: &'a [u8],
        at: usize,
        record: &mut Record<'a>,
        time: &mut Option<Epoch>,
    ) -> Result<usize, Malformed> {
        Ok(match self.read {
            Read::ToSpace => {
                let stop = self.to_space(line, at)?;
                self.keep(record, &line[at..stop])?;
                stop + self.literal.len()
            }
            Read::ClientToSpace => {
                let stop = self.to_space(line, at)?;
                record.client = record.client.or(known(&line[at..stop]));
                stop + self.literal.len()
            }
            Read::ToQuote => {
                let stop = self.to_quote(line, at)?;
                self.keep(record, &line[at..stop])?;
                stop + self.literal.len()
            }
            Read::SkipToSpace => match self.dash(line, at) {
                Some(after) => after,
                None => self.to_space(line, at)? + self.literal.len(),
            },
            Read::SkipToQuote => match self.dash(line, at) {
                Some(after) => after,
                None => self.to_quote(line, at)? + self.literal.len(),
            },
            Read::Unread => {
                last_stop(line, at, &self.literal, false)?;
                line.len()
            }
            Read::Rest => match self.rest(line, at) {
                Some(end) => end,
                None => self.read(clock, line, at, record, time)?,
            },
            Read::ClfTime => match self.clf_time(clock, line, at, time) {
                Some(after) => after,
                None => self.read(clock, line, at, record, time)?,
            },
            Read::Status => match self.status(line, at, record) {
                Some(after) => after,
                None => self.read(clock, line, at, record, time)?,
            },
            Read::Bytes => match self.bytes(line, at, record) {
                Some(after) => after,
                None => self.read(clock, line, at, record, time)?,
            },
            Read::Request => match self.request(line, at, record)? {
                Some(after) => after,
                None => self.read(clock, line, at, record, time)?,
            },
            Read::General => self.read(clock, line, at, record, time)?,
        })
    }

    /// Where a field up to a literal that starts with a space ends: at a
    /// word's first space, or at the first space that starts the literal.
    #[inline(always)]
    fn to_space(&self, line: &[u8], from: usize) -> Result<usize, Malformed> {
        let mut at = from;
        let stop = loop {
            let space = at + bytes::find(&line[at..], b' ').ok_or(Malformed::NotFormat)?;
            if self.ends_at(line, space) {
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
            if self.ends_at(line, quote) && !escaped(&line[from..quote]) {
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

    /// The line's end, when the line ends with the literal, after `from`
    /// and not escaped.
    #[inline(always)]
    fn rest(&self, line: &[u8], from: usize) -> Option<usize> {
        let stop = line.len().checked_sub(self.literal.len()).filter(|&stop| stop >= from)?;
        let escaped = self.literal.first() == b'"' && escaped(&line[from..stop]);
        (self.literal.starts(&line[stop..]) && !escaped).then_some(line.len())
    }

    /// Reads this step's field from `from` on into `record` (or `time`) the
    /// general way and returns where the literal after it ends.
    #[inline(never)]
    pub(super) fn read<'a>(
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
                let stop = literal_at(line, from, from, literal, self.follow, self.word)?;
                (stop, stop + literal.len())
            }
            End::Open => {
                let stop = from + bytes::find(&line[from..], b' ').unwrap_or(line.len() - from);
                (stop, stop)
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

    /// Whether the literal after the field starts at `stop`, followed by
    /// what must follow it.
    #[inline(always)]
    fn ends_at(&self, line: &[u8], stop: usize) -> bool {
        line.get(stop..).is_some_and(|rest| {
            self.literal.starts(rest)
                && (self.follow == Follow::Anything || self.follow.fits(&rest[self.literal.len()..]))
        })
    }

    /// Whether the field's value, up to where its literal first starts,
    /// reads: a time, a status or a byte count that is right where the
    /// literal after it is missing. A literal that starts with a space only
    /// separates, and the line's end may take its place; any other (`]`,
    /// a quote) closes the value, which is not whole without it.
    #[cold]
    pub(super) fn value_reads(&self, line: &[u8], from: usize) -> bool {
        let rest = &line[from.min(line.len())..];
        let first = self.literal.first();
        let Some(end) = memchr(first, rest).or((first == b' ').then_some(rest.len())) else { return false };
        let value = &rest[..end];
        match self.field {
            Field::Time(stamp) => read_time(&mut ClfClock::default(), stamp, value).is_ok(),
            Field::Status | Field::Bytes => fill(&mut Record::default(), self.field, value).is_ok(),
            _ => false,
        }
    }

    // The usual forms of a time, a status, a byte count and a request, read
    // in the pass that finds where they end: each returns where the literal
    // after the field ends, or `None` to read the field the general way
    // (which gives the same result on every form read here). The compiled
    // operations read the usual line; these serve the lines read step by
    // step, above all a syslog-prefixed common or combined line (read from
    // its time on, `Pattern::by_time`), which costs about a fifth more
    // without them (3,871 against 4,762 instructions a line, measured).

    /// `10/Oct/2000:13:55:36 -0700`, the line's first time.
    #[inline(always)]
    fn clf_time(&self, clock: &mut ClfClock, line: &[u8], from: usize, time: &mut Option<Epoch>) -> Option<usize> {
        if time.is_none() && self.ends_at(line, from + CLF_LEN) {
            *time = Some(clock.parse(&line[from..from + CLF_LEN])?);
            return Some(from + CLF_LEN + self.literal.len());
        }
        None
    }

    /// Three digits, 100 to 599 (anything else, `000` included, is the
    /// general reading's to decide).
    #[inline(always)]
    fn status(&self, line: &[u8], from: usize, record: &mut Record<'_>) -> Option<usize> {
        let code = three_digits(line.get(from..from + 3)?)?;
        if !self.ends_at(line, from + 3) {
            return None;
        }
        record.status = code;
        Some(from + 3 + self.literal.len())
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
        let Some((method, section, end)) = plain_method_and_section(&line[from..]) else { return Ok(None) };
        if ends_at_quote(&line[from..], end) {
            return Ok(None);
        }
        let stop = literal_at(line, from, from + end, &self.literal, Follow::Status, false)?;
        record.section = record.section.or(Some(section));
        record.method = record.method.or(Some(method));
        Ok(Some(stop + self.literal.len()))
    }
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
/// looking from `search` on, in one pass, followed by what must `follow`
/// it. A quote escaped by a backslash does not end a field, except the one
/// rule for a request and for the last field that more fields may follow
/// (the built-ins' user agent): when no unescaped quote that a status (or a
/// space or the line's end) follows ends it, the first escaped one does (a
/// value that ends in a backslash its server did not escape; the last field
/// of a strict format string ends at the line's last quote anyway). A
/// `word` never runs past a space: one that would has matched the wrong
/// text, and the line is of another format.
#[inline(always)]
fn literal_at(
    line: &[u8],
    from: usize,
    search: usize,
    literal: &Literal,
    follow: Follow,
    word: bool,
) -> Result<usize, Malformed> {
    let first = literal.first();
    let stops_at_space = word && first != b' ';
    let mut at = search;
    let mut escaped_end = None;
    // Fields are short: a word-at-a-time search beats memchr's setup.
    loop {
        let found = if stops_at_space {
            bytes::find_either(&line[at..], first, b' ').filter(|&i| line[at + i] != b' ')
        } else {
            bytes::find(&line[at..], first)
        };
        let Some(found) = found else { return escaped_end.ok_or(Malformed::NotFormat) };
        let start = at + found;
        if literal.starts(&line[start..]) && follow.fits(&line[start + literal.len()..]) {
            if !(first == b'"' && escaped(&line[from..start])) {
                return Ok(start);
            }
            if follow != Follow::Anything {
                escaped_end.get_or_insert(start);
            }
        }
        // A word ends at its first space, whatever follows it.
        if word && first == b' ' {
            return escaped_end.ok_or(Malformed::NotFormat);
        }
        at = start + 1;
    }
}
