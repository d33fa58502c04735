//! The compiled operations: each step of a pattern compiled once for the
//! usual form of its field (a client, `-` fields, a CLF time, a request
//! with its status, a byte count...), read and checked with the literal
//! after it in one go. Anything an operation does not read it gives up, and
//! the general reading ([`super::step`]) reads that line, with the same
//! result on every line an operation does read (format::tests shows it).

use super::{Follow, Literal, Read, Step, fill, known};
use crate::engine::bytes;
use crate::engine::parse::{Parsed, Record};
use crate::engine::section;
use crate::engine::timestamp::{CLF_LEN, ClfClock, Epoch};

/// A literal of up to eight bytes as a word to compare at once, with what
/// must follow it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Lit {
    word: u64,
    mask: u64,
    len: u8,
    follow: Follow,
    /// The literal and what must follow it as one word to compare, where
    /// `whole` (anything, or a space that fits in the word: the byte
    /// after the literal is there when eight bytes are).
    then: u64,
    then_mask: u64,
    whole: bool,
    /// How many digits of a byte count before the literal a word holds
    /// with the literal and what must follow it, as `then` (none when not
    /// `whole`): see [`byte_count`].
    room: u8,
}

impl Lit {
    /// `text`, of up to eight bytes, followed by what must follow it.
    pub(super) fn new(text: &[u8], follow: Follow) -> Lit {
        let literal = Literal::new(text);
        Lit::of(literal.word, literal.mask, literal.len.min(8) as u8, follow)
    }

    /// The literal of `len` bytes that `word` and `mask` hold, followed by
    /// what must follow it.
    fn of(word: u64, mask: u64, len: u8, follow: Follow) -> Lit {
        let (then, then_mask, whole) = match follow {
            Follow::Anything => (word, mask, true),
            Follow::Break if len < 8 => {
                let at = 8 * u32::from(len);
                (word | u64::from(b' ') << at, mask | 0xff << at, true)
            }
            _ => (word, mask, false),
        };
        // The bytes `then` compares: the literal's, and a space after it.
        let compared = (64 - then_mask.leading_zeros()).div_ceil(8) as u8;
        let room = if whole { 7u8.min(8 - compared) } else { 0 };
        Lit { word, mask, len, follow, then, then_mask, whole, room }
    }

    /// Where the literal ends, when it is at `at` with what must follow it:
    /// one compare when eight bytes are there and it is `whole`.
    /// [`byte_count`] compares `then` so too, a second owner: it reads the
    /// literal in the word its digits came from, to load that word once.
    #[inline(always)]
    fn after(&self, line: &[u8], at: usize) -> Option<usize> {
        if self.whole
            && let Some(chunk) = line.get(at..)?.first_chunk::<8>()
        {
            return (u64::from_le_bytes(*chunk) & self.then_mask == self.then).then_some(at + usize::from(self.len));
        }
        let end = self.end_ignoring_follow(line, at)?;
        match self.follow {
            Follow::Anything => Some(end),
            follow => follow.fits(&line[end..]).then_some(end),
        }
    }

    /// Whether `word`, eight bytes of a line, starts with the literal.
    #[inline(always)]
    fn starts(&self, word: u64) -> bool {
        word & self.mask == self.word
    }

    /// Where the literal ends, when it is at `at`, whatever follows it: as
    /// [`Lit::after`] for a literal that anything may follow, known when
    /// the format is compiled (see [`Head::follows_anything`]).
    /// [`Tail::read`] compares its literals so too, a second owner kept
    /// for speed (it says why).
    #[inline(always)]
    fn end_ignoring_follow(&self, line: &[u8], at: usize) -> Option<usize> {
        let rest = line.get(at..)?;
        let starts = match rest.first_chunk::<8>() {
            Some(chunk) => self.starts(u64::from_le_bytes(*chunk)),
            None => *rest.get(..usize::from(self.len))? == self.word.to_le_bytes()[..usize::from(self.len)],
        };
        starts.then_some(at + usize::from(self.len))
    }
}

/// A step compiled for the usual form of its field, decided once when the
/// format is compiled: each reads that form and checks the literal after
/// it in one go, or gives the line up to the general way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
// An explicit tag: a jump on it, rather than one decoded from a niche.
#[repr(u8)]
pub(super) enum Op {
    /// A client address, a word up to a literal that starts with a space;
    /// then the `count` fields never read from step `first` on: the text
    /// they make when each is the usual `-` (` - - [`) is checked with the
    /// literal at once, else each is read as [`Op::Skip`] reads it.
    Client(Client),
    /// A field never read, usually `-`, up to a space or a quote; `quote`
    /// when a quote ends it.
    Skip { lit: Lit, quote: bool },
    /// A field never read before the literal that ends the line, whether
    /// more fields may follow it ([`Read::Rest`], its literal's follow) or
    /// not ([`Read::Unread`]): see [`Tail`].
    Unread(Lit),
    /// `10/Oct/2000:13:55:36 -0700`.
    ClfTime(Lit),
    /// Three digits.
    Status(Lit),
    /// Digits, or `-`.
    Bytes(Lit),
    /// `GET /a/b?c HTTP/1.1` up to an unescaped quote that a status follows.
    Request(Lit),
    /// The same, and the three-digit status right after the literal, with
    /// the literal after the status (the request's step and the status's
    /// in one). `around` checks both literals and the status between them
    /// with one word, read only when eight bytes from the byte before the
    /// quote are left (the general reading's otherwise).
    /// `bytes`, when a byte count follows the status, is that step's
    /// literal: the count is read in the same operation.
    RequestStatus(RequestStatus),
    /// A word up to a literal that starts with a space, of the step it names.
    Word { lit: Lit, step: usize },
    /// Any other: the general reading of the step it names.
    General(usize),
}

/// The compiled operations of a pattern: the usual head of an NCSA line
/// when the steps start with it, then the others one by one.
/// Whether the head is all of them is settled here, once, not asked of
/// the head and the rest on each line ([`super::Pattern::parse_into`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Ops {
    /// The usual NCSA head and nothing after it (every detected common or
    /// combined line, the nginx string equal to combined).
    Head(Head),
    /// The head, if any, then the others.
    Steps { head: Option<Head>, rest: Vec<Op> },
}

impl Default for Ops {
    fn default() -> Ops {
        Ops::Steps { head: None, rest: Vec::new() }
    }
}

impl Ops {
    /// The fused head, if any.
    pub(super) fn head(&self) -> Option<&Head> {
        match self {
            Ops::Head(head) => Some(head),
            Ops::Steps { head, .. } => head.as_ref(),
        }
    }

    /// The operations after the head.
    pub(super) fn rest(&self) -> &[Op] {
        match self {
            Ops::Head(_) => &[],
            Ops::Steps { rest, .. } => rest,
        }
    }
}

/// The usual head of an NCSA line in one operation: the first step's
/// client and the fields after it never read, a CLF time, then the request
/// with its status (and byte count), as [`Op::Client`], [`Op::ClfTime`] and
/// [`Op::RequestStatus`] read them one by one. The record is fresh there,
/// so each field is written, not merged. With `tail`, the two quoted fields
/// never read that end a combined line (the referer and the user agent) are
/// in it too, as [`Op::Skip`] and [`Op::Unread`] read them. It is read
/// apart from the other operations (see [`super::Pattern::fast`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Head {
    client: Client,
    time: Lit,
    request: RequestStatus,
    tail: Option<Tail>,
}

/// How many bytes from the line's start hold the usual client (up to
/// fifteen bytes and the space after it), its literal and the time with
/// the word after it ([`Head::start`]).
const START: usize = 16 + 8 + CLF_LEN + 8;

/// [`Op::Client`]'s parts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Client {
    lit: Lit,
    usual: Option<Lit>,
    /// The next most usual form, with the usual one: the fields never
    /// read `-` but the last, a word (a user's name, `- frank [`): the
    /// text up to it, and the literal after it.
    named: Option<(Lit, Lit)>,
    first: usize,
    count: usize,
}

/// The literals of [`Head`]'s tail: after a quoted field never read,
/// and at the line's end. The last field ends at the line's end whether
/// more fields may follow it ([`Read::Rest`]) or not ([`Read::Unread`]), even
/// where a backslash escapes the quote there: the general reading of a
/// field that more fields may follow then ends it at an earlier quote that
/// a space follows, or else at that escaped one, and the field is never
/// read, so the record is the same (format::tests, the lines ending in
/// `\"`): no backslash is looked for there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Tail {
    /// The first field's usual text, `-`, with `skip` after it.
    dash: Lit,
    skip: Lit,
    last: LineEnd,
    /// How many bytes the line holds at least from the dash's start, and
    /// from the quote that `skip` starts with, to the end of `last`:
    /// worked out once, not added up on each line.
    dash_to_end: u8,
    skip_to_end: u8,
}

/// A literal that ends the line (one that the line's end may follow), of
/// up to eight bytes, as the line's last word holds it: checked with one
/// masked compare, no shift or length worked out for each line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct LineEnd {
    word: u64,
    mask: u64,
}

impl Tail {
    /// The tail of `skip` and `last`, when `skip` has room for the dash
    /// (or the byte) before it in a word: a format string may put eight
    /// bytes between the two quoted fields (format::tests, a long literal
    /// after the referer). The line's end may always follow `last`, a
    /// field's at the line's end or one that a space or the end must
    /// follow ([`super::Read::of`]).
    fn new(skip: Lit, last: Lit) -> Option<Tail> {
        if skip.len >= 8 {
            return None;
        }
        let dash = Lit::of(skip.word << 8 | u64::from(b'-'), skip.mask << 8 | 0xff, skip.len + 1, skip.follow);
        // The literal's bytes moved up to the word's end; an empty one
        // has no bytes to compare.
        let up = |v: u64| v.checked_shl(8 * (8 - u32::from(last.len))).unwrap_or(0);
        Some(Tail {
            dash,
            skip,
            last: LineEnd { word: up(last.word), mask: up(last.mask) },
            dash_to_end: dash.len + last.len,
            skip_to_end: skip.len + last.len,
        })
    }

    /// The referer at `at` and the user agent after it, as [`Op::Skip`]
    /// and [`Op::Unread`] read them, and where the line ends. Out of line,
    /// with the referer's quote looked for in its first 48 bytes (the
    /// usual referer's: two windows of [`bytes::find_within`], then a
    /// third) and past them in a cold call ([`Tail::far`]): it then saves
    /// no register, and the head without it spills less (a detected
    /// combined line, which has no tail, 569.0 -> 565.4 instructions a
    /// line, the nginx string 627.6 -> 623.7, both first with 32 bytes
    /// before the cold call; the third window, 620.0 -> 616.2). Inline,
    /// with memchr's loop inline, it had cost the head more (675.9 ->
    /// 660.4 at cab739f); out of line with [`bytes::find_near`] and its
    /// call inside, it saved six registers (the nginx string 637.8); with
    /// the three windows in one `find_within::<48>`, 631.4.
    /// Each word read past the line's end is zeros (see
    /// [`word_at`]), which can only fail a compare or leave the line's
    /// end short of the literal that ends it.
    /// A second owner of [`skip_field`]'s rules for a quoted field, kept for
    /// speed: format::tests::shortcuts_agree_with_the_general_path holds
    /// both to the general reading on every one-byte change of a line.
    /// Its two compares of a literal at a place (the dash with `skip`
    /// here, `skip` one byte on in [`Tail::after_quote`]) are second
    /// owners of [`Lit::end_ignoring_follow`]'s, kept for speed too: they
    /// read a short rest in [`word_at`]'s word where it compares a slice.
    /// Read with it instead (its short rest read as [`word_at`] reads one,
    /// and after_quote's backslash a byte of its own), the nginx string
    /// took 639.1 -> 646.3 instructions a line and a detected combined line
    /// 584.3 -> 585.3; with the dash alone read so, 642.7 and 586.8. The
    /// tests named above hold the three to the general reading, as
    /// the_tail_reads_each_usual_referer_and_gives_up_the_rest does the
    /// short rests.
    #[inline(never)]
    fn read(&self, line: &[u8], at: usize) -> Option<usize> {
        if word_at(line, at)? & self.dash.mask == self.dash.word {
            return self.last.ends(line, at + usize::from(self.dash_to_end));
        }
        let rest = line.get(at..)?;
        if let Some(quote) = bytes::find_within::<32>(rest, b'"') {
            return self.after_quote(line, at + quote);
        }
        if let Some(quote) = rest.get(32..).and_then(|rest| bytes::find_within::<16>(rest, b'"')) {
            return self.after_quote(line, at + 32 + quote);
        }
        self.far(line, at)
    }

    /// [`Tail::read`]'s referer past its first 48 bytes, or all of a
    /// shorter rest, out of line.
    #[cold]
    #[inline(never)]
    fn far(&self, line: &[u8], at: usize) -> Option<usize> {
        let from = if line.len() >= at + 48 { at + 48 } else { at };
        let stop = from + bytes::find_near(line.get(from..)?, b'"')?;
        self.after_quote(line, stop)
    }

    /// The line's end, when the referer ends with the quote at `stop`
    /// (no backslash before it) and the literal after it, and the user
    /// agent follows: the byte before the quote and the literal in one
    /// word (a backslash right before an empty field, never in the usual
    /// line, gives the line up too).
    #[inline(always)]
    fn after_quote(&self, line: &[u8], stop: usize) -> Option<usize> {
        let word = word_at(line, stop - 1)?;
        if word as u8 == b'\\' || (word >> 8) & self.skip.mask != self.skip.word {
            return None;
        }
        self.last.ends(line, stop + usize::from(self.skip_to_end))
    }
}

/// The eight bytes of `line` from `at`, or those there are and zeros
/// after them, taken from the line's last word: no call to compare a short
/// rest. `None` past the line's end or for a line shorter than a word.
#[inline(always)]
fn word_at(line: &[u8], at: usize) -> Option<u64> {
    match line.get(at..)?.first_chunk::<8>() {
        Some(chunk) => Some(u64::from_le_bytes(*chunk)),
        None => {
            let last = u64::from_le_bytes(*line.last_chunk::<8>()?);
            Some(last.checked_shr(8 * (8 - (line.len() - at)) as u32).unwrap_or(0))
        }
    }
}

impl LineEnd {
    /// The line's end, when the literal ends it and the line is `least`
    /// bytes long at least (the literal after the place where the field
    /// before it starts). A line shorter than a word (never one that a
    /// head starts) is left to the general reading.
    /// A second owner of [`unread`]'s rule, kept for speed: the
    /// shortcuts_agree_with_the_general_path tests of format::tests hold
    /// both to the general reading on every one-byte change of a line.
    #[inline(always)]
    fn ends(&self, line: &[u8], least: usize) -> Option<usize> {
        let chunk = line.last_chunk::<8>()?;
        (u64::from_le_bytes(*chunk) & self.mask == self.word && least <= line.len()).then_some(line.len())
    }
}

/// [`Op::RequestStatus`]'s parts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct RequestStatus {
    around: Around,
    bytes: Option<Lit>,
}

/// The operations of `steps`; none when the lead is padded.
pub(super) fn ops(lead: Option<&Literal>, steps: &[Step], padded: bool) -> Ops {
    if padded && lead.is_some_and(Literal::pads) {
        return Ops::default();
    }
    let mut ops = Vec::new();
    let mut i = 0;
    while let Some(step) = steps.get(i) {
        let op = match op_of(i, step) {
            Op::Client(Client { lit, .. }) => {
                let skips = |s: &&Step| matches!(s.read, Read::SkipToSpace | Read::SkipToQuote) && s.lit.is_some();
                let skip = steps[i + 1..].iter().take_while(skips).count();
                let dashes = steps[i + 1..i + 1 + skip].iter().flat_map(|s| [&b"-"[..], &s.literal.bytes].concat());
                let text: Vec<u8> = step.literal.bytes.iter().copied().chain(dashes).collect();
                let usual = match steps.get(i + skip) {
                    Some(last) if skip > 0 && text.len() <= 8 => Some(Lit::new(&text, last.follow)),
                    _ => None,
                };
                // The text before the last field, when a space ends it.
                // Both literals are read whatever follows them (with
                // [`Lit::end_ignoring_follow`]): [`Read::of`] gives
                // `SkipToSpace` only to a field that anything may follow
                // (not one before a status, not the last with its
                // `Break`), and the step before it is the client or such a
                // skipped field.
                let named = match (usual, steps.get(i + skip)) {
                    (Some(_), Some(last)) if last.read == Read::SkipToSpace => {
                        debug_assert!(steps[i + skip - 1].lit.is_some_and(|l| l.follow == Follow::Anything));
                        let before = &text[..text.len() - 1 - last.literal.bytes.len()];
                        last.lit
                            .inspect(|lit| debug_assert!(lit.follow == Follow::Anything))
                            .map(|lit| (Lit::new(before, Follow::Anything), lit))
                    }
                    _ => None,
                };
                let count = if usual.is_some() { skip } else { 0 };
                i += count;
                Op::Client(Client { lit, usual, named, first: i + 1 - count, count })
            }
            Op::Request(lit) => {
                if let Some((Read::Status, Some(status))) = steps.get(i + 1).map(|next| (next.read, next.lit))
                    && let Some(around) = Around::new(&step.literal, status)
                {
                    i += 1;
                    let bytes = match steps.get(i + 1).map(|next| (next.read, next.lit)) {
                        Some((Read::Bytes, Some(bytes))) => {
                            i += 1;
                            Some(bytes)
                        }
                        _ => None,
                    };
                    Op::RequestStatus(RequestStatus { around, bytes })
                } else {
                    Op::Request(lit)
                }
            }
            op => op,
        };
        ops.push(op);
        i += 1;
    }
    match lead {
        None => head(ops),
        // The head is read from the line's start.
        Some(_) => Ops::Steps { head: None, rest: ops },
    }
}

/// Fuses the usual head of an NCSA line, when the operations start with
/// it, into one [`Head`], with the end of a combined line when that is all
/// that follows.
fn head(mut ops: Vec<Op>) -> Ops {
    let fused = match ops[..] {
        [
            Op::Client(client),
            Op::ClfTime(time),
            Op::RequestStatus(request),
            Op::Skip { lit: skip, quote: true },
            Op::Unread(last),
        ] if Tail::new(skip, last).is_some() => Ops::Head(Head { client, time, request, tail: Tail::new(skip, last) }),
        [Op::Client(client), Op::ClfTime(time), Op::RequestStatus(request)] => {
            Ops::Head(Head { client, time, request, tail: None })
        }
        [Op::Client(client), Op::ClfTime(time), Op::RequestStatus(request), ..] => {
            ops.drain(..3);
            Ops::Steps { head: Some(Head { client, time, request, tail: None }), rest: ops }
        }
        _ => Ops::Steps { head: None, rest: ops },
    };
    debug_assert!(fused.head().is_none_or(|head| head.follows_anything()), "{fused:?}");
    fused
}

/// The operation of step `i`.
fn op_of(i: usize, step: &Step) -> Op {
    let Some(lit) = step.lit else { return Op::General(i) };
    match step.read {
        Read::ClientToSpace => Op::Client(Client { lit, usual: None, named: None, first: 0, count: 0 }),
        Read::SkipToSpace => Op::Skip { lit, quote: false },
        Read::SkipToQuote => Op::Skip { lit, quote: true },
        Read::Unread | Read::Rest => Op::Unread(lit),
        Read::ClfTime => Op::ClfTime(lit),
        Read::Status => Op::Status(lit),
        Read::Bytes => Op::Bytes(lit),
        Read::Request => Op::Request(lit),
        Read::ToSpace if step.word => Op::Word { lit, step: i },
        _ => Op::General(i),
    }
}

impl Op {
    /// Reads the field of its step (of `steps`) at `at` in its usual form,
    /// and returns where the literal after it ends.
    #[inline(always)]
    pub(super) fn read<'a>(
        &self,
        steps: &[Step],
        clock: &mut ClfClock,
        line: &'a [u8],
        at: usize,
        record: &mut Record<'a>,
        time: &mut Option<Epoch>,
    ) -> Option<usize> {
        match self {
            Op::Client(client) => {
                let (value, after) = client.read::<false>(steps, line, at)?;
                record.client = record.client.or(known(value));
                Some(after)
            }
            Op::Word { lit, step } => {
                let stop = at + bytes::find(&line[at..], b' ')?;
                let after = lit.after(line, stop)?;
                fill(record, steps.get(*step)?.field, &line[at..stop]).ok()?;
                Some(after)
            }
            Op::Skip { lit, quote } => skip_field(lit, *quote, line, at),
            Op::Unread(lit) => unread(lit, line, at),
            // Only the line's first time is read this way.
            Op::ClfTime(lit) if time.is_none() => {
                let after = lit.after(line, at + CLF_LEN)?;
                *time = Some(clock.parse(&line[at..at + CLF_LEN])?);
                Some(after)
            }
            Op::ClfTime(_) => None,
            Op::Status(lit) => {
                let code = three_digits(line.get(at..at + 3)?)?;
                let after = lit.after(line, at + 3)?;
                record.status = code;
                Some(after)
            }
            Op::Bytes(lit) => {
                let (bytes, after) = byte_count(lit, line, at)?;
                record.bytes = bytes;
                Some(after)
            }
            Op::Request(lit) => {
                let (method, section, quote) = plain_request(line, at)?;
                let after = lit.after(line, quote)?;
                record.section = record.section.or(Some(section));
                record.method = record.method.or(Some(method));
                Some(after)
            }
            Op::RequestStatus(request) => {
                let (method, section, code, after) = request.read(line, at)?;
                record.section = record.section.or(Some(section));
                record.method = record.method.or(Some(method));
                record.status = code;
                match request.bytes {
                    Some(lit) => {
                        let (bytes, after) = byte_count(&lit, line, after)?;
                        record.bytes = bytes;
                        Some(after)
                    }
                    None => Some(after),
                }
            }
            Op::General(i) => steps.get(*i)?.read(clock, line, at, record, time).ok(),
        }
    }
}

impl Head {
    /// Whether anything may follow each literal the head reads whatever
    /// follows it ([`Lit::end_ignoring_follow`]): the client's usual text
    /// and a named user's, the time's, and the one after the tail's first
    /// field. So it is for every format: a field before a status, or one
    /// that a space or the line's end must follow, is read another way
    /// ([`super::Read::of`]), never as these are. [`head`] asserts it, and
    /// format::tests for every preset and format there.
    pub(super) fn follows_anything(&self) -> bool {
        let named = self.client.named.into_iter().flat_map(|(before, last)| [before, last]);
        let tail = self.tail.map(|tail| tail.skip);
        self.client
            .usual
            .into_iter()
            .chain(named)
            .chain([self.time])
            .chain(tail)
            .all(|lit| lit.follow == Follow::Anything)
    }

    /// Reads the head alone, at the line's start (a pattern with a lead
    /// has none), into `parsed` (a fresh record), and says where it ended
    /// (the line's end, when the head is all the pattern). Out
    /// of line and apart from the other operations' loop: without their
    /// code around it, the head keeps its state in registers (measured on
    /// a detected combined line, which is all the head: 30 instructions
    /// fewer than inside the loop; the start known to be 0 saves 11).
    /// The record is written before the byte count and the tail are read,
    /// its values not held through them (the count then written on its
    /// own: with the record written after the count, a detected combined
    /// line took 528.9 instructions, not 522.1, and the nginx string
    /// 587.7, not 581.9, its values moved to the stack and back around the
    /// count); a line the count or the tail gives up leaves `parsed` as it
    /// may be, for the general reading to write.
    #[inline(never)]
    pub(super) fn read_into<'a>(
        &self,
        steps: &[Step],
        clock: &mut ClfClock,
        line: &'a [u8],
        parsed: &mut Parsed<'a>,
    ) -> Option<usize> {
        let (client, stamp, after) = self.start(steps, line)?;
        let time = clock.parse(stamp)?;
        let (method, section, status, after) = self.request.read(line, after)?;
        *parsed = Parsed::Hit(Record {
            time,
            status,
            bytes: 0,
            section: Some(section),
            client: known(client),
            method: Some(method),
            latency_us: None,
            vhost: None,
        });
        // The record as just written, so that whether the count is read
        // is the format's alone to say (`bytes`), whatever `parsed` held.
        let Parsed::Hit(record) = parsed else { return None };
        let after = match &self.request.bytes {
            Some(lit) => {
                let (bytes, after) = byte_count(lit, line, after)?;
                record.bytes = bytes;
                after
            }
            None => after,
        };
        match &self.tail {
            Some(tail) => tail.read(line, after),
            None => Some(after),
        }
    }

    /// The client, the time and where the literal after the time ends.
    /// The usual line's client of up to fifteen bytes, the client's usual
    /// literal and the time with the word after it are in its first
    /// [`START`] bytes: one length checked for all, the client looked for
    /// in one window of sixteen bytes (as [`Client::read`] reads the
    /// usual client and literal, a second owner kept for speed: a
    /// detected combined line 535.5 -> 532.2 instructions, the nginx
    /// string 594.3 -> 592.0; format::tests::shortcuts_agree_with_the_general_path
    /// holds both to the general reading); any other start is
    /// [`Client::read`]'s.
    #[inline(always)]
    fn start<'a>(&self, steps: &[Step], line: &'a [u8]) -> Option<(&'a [u8], &'a [u8; CLF_LEN], usize)> {
        let (client, at) = match line.first_chunk::<START>() {
            Some(start) if let Some(stop) = bytes::find(&start[..16], b' ') => {
                if let Some(usual) = &self.client.usual
                    && let Some(word) = start.get(stop..).and_then(<[u8]>::first_chunk::<8>)
                    && usual.starts(u64::from_le_bytes(*word))
                {
                    let at = stop + usize::from(usual.len);
                    let (stamp, after) = self.time_at(start, at)?;
                    return Some((&line[..stop], stamp, after));
                }
                // A named user, say: the space is not looked for again.
                self.client.after::<true>(steps, line, 0, stop)?
            }
            _ => self.client.read::<true>(steps, line, 0)?,
        };
        let (stamp, after) = self.time_at(line, at)?;
        Some((client, stamp, after))
    }

    /// The time at `at` and where the literal after it ends: the time and
    /// the word after it, its literal's, in one chunk, one length checked
    /// for both (a line that ends within eight bytes of its time holds no
    /// request, and the general reading has it).
    #[inline(always)]
    fn time_at<'a>(&self, line: &'a [u8], at: usize) -> Option<(&'a [u8; CLF_LEN], usize)> {
        let (stamp, word) = line.get(at..)?.first_chunk::<{ CLF_LEN + 8 }>()?.split_first_chunk::<CLF_LEN>()?;
        let after = self
            .time
            .starts(u64::from_le_bytes(*word.first_chunk::<8>()?))
            .then_some(at + CLF_LEN + usize::from(self.time.len))?;
        Some((stamp, after))
    }

    /// [`Head::read_into`] with the record returned, for the tests that
    /// compare it with the general reading's.
    #[cfg(test)]
    pub(super) fn read<'a>(&self, steps: &[Step], clock: &mut ClfClock, line: &'a [u8]) -> Option<(Record<'a>, usize)> {
        let mut parsed = Parsed::Skip;
        let after = self.read_into(steps, clock, line, &mut parsed)?;
        match parsed {
            Parsed::Hit(record) => Some((record, after)),
            _ => None,
        }
    }
}

impl Client {
    /// The client at `at` (`-` included), and where the literals after it
    /// and after the fields never read that follow it end.
    /// `ANY` when anything may follow the usual text (see
    /// [`Head::follows_anything`]).
    #[inline(always)]
    fn read<'a, const ANY: bool>(&self, steps: &[Step], line: &'a [u8], at: usize) -> Option<(&'a [u8], usize)> {
        let stop = at + bytes::find(&line[at..], b' ')?;
        self.after::<ANY>(steps, line, at, stop)
    }

    /// [`Client::read`] once the space at `stop` that ends the client is
    /// found.
    #[inline(always)]
    fn after<'a, const ANY: bool>(
        &self,
        steps: &[Step],
        line: &'a [u8],
        at: usize,
        stop: usize,
    ) -> Option<(&'a [u8], usize)> {
        let value = &line[at..stop];
        let usual = |usual: &Lit| if ANY { usual.end_ignoring_follow(line, stop) } else { usual.after(line, stop) };
        if let Some(after) = self.usual.as_ref().and_then(usual) {
            return Some((value, after));
        }
        // The last field as [`skip_field`] reads one that is not `-` (a
        // tenth of the lines of a busy site: read field by field below,
        // each cost 120 instructions more than the usual line). Anything
        // may follow both literals, whatever `ANY` (see [`ops`]).
        if let Some((before, last)) = &self.named
            && let Some(word) = before.end_ignoring_follow(line, stop)
            && let Some(end) = bytes::find_near(&line[word..], b' ')
            && let Some(after) = last.end_ignoring_follow(line, word + end)
        {
            return Some((value, after));
        }
        let after = self.lit.after(line, stop)?;
        // The fields after it, one by one.
        let after = steps
            .get(self.first..self.first + self.count)?
            .iter()
            .try_fold(after, |at, step| skip_field(&step.lit?, step.read == Read::SkipToQuote, line, at))?;
        Some((value, after))
    }
}

impl RequestStatus {
    /// The method, section and status of the usual request at `at`, and
    /// where the literal after the status ends.
    /// The request's quote is checked as [`plain_request`] checks it, with
    /// the byte before it read in one word with the status around it (its
    /// length and the byte checked at once: a detected combined line 554.0
    /// -> 550.5 instructions, the nginx string 605.8 -> 602.3; with
    /// [`word_at`]'s zeros for a short rest, 554.5 and 606.3). Fewer than
    /// eight bytes from there to the line's end (shorter than the status,
    /// the literals around it and a field after it) are the general
    /// reading's.
    #[inline(always)]
    fn read<'a>(&self, line: &'a [u8], at: usize) -> Option<(&'a [u8], &'a [u8], u16, usize)> {
        let (method, section, quote) = request_quote(line, at)?;
        let word = u64::from_le_bytes(*line.get(quote - 1..)?.first_chunk::<8>()?);
        if word as u8 == b'\\' {
            return None;
        }
        let Some((code, after)) = self.around.status(word, quote) else { return gave_up() };
        Some((method, section, code, after))
    }
}

/// `None`, out of line and cold: [`RequestStatus::read`]'s way out when
/// the status and the literals around it are not there. The same way out
/// as `?` but for the layout: with `?` there, a detected combined line
/// took 542.7 -> 557.6 instructions, the nginx string 594.5 -> 609.4
/// (registers spilled around the status); with this, 544.0 and 595.8.
/// The second check that stood there in its place (the literal, the
/// digits and the literal again, one by one) could only fail too: the
/// word it read holds what `around` compares.
#[cold]
#[inline(never)]
fn gave_up<T>() -> Option<T> {
    None
}

/// The method and section of the usual request at `at`, and where the
/// first quote after it is; `None` when a backslash is right before that
/// quote (an escape is the general reading's to decide).
#[inline(always)]
fn plain_request(line: &[u8], at: usize) -> Option<(&[u8], &[u8], usize)> {
    let (method, section, quote) = request_quote(line, at)?;
    if line[quote - 1] == b'\\' {
        return None;
    }
    Some((method, section, quote))
}

/// [`plain_request`] whatever stands before the quote, for the caller to
/// check. A section that ends at a quote needs no check of its own here
/// (as [`ends_at_quote`] is to other callers): that quote is the first one
/// looked for, and the request ends there only if what the caller checks
/// after it holds, where the general reading ends it too (at the first
/// quote not escaped that the literal after the request and what must
/// follow it match), the section up to it the same. That check read the
/// byte again before the search: without it, a detected combined line
/// 512.4 -> 504.5 instructions, the nginx string 570.1 -> 562.3.
#[inline(always)]
fn request_quote(line: &[u8], at: usize) -> Option<(&[u8], &[u8], usize)> {
    let (method, section, end) = plain_method_and_section(&line[at..])?;
    let quote = at + end + bytes::find_near(&line[at + end..], b'"')?;
    Some((method, section, quote))
}

/// A field never read from `at` up to `lit`, which ends the line, whether
/// more fields may follow it or not (see [`Tail`]). [`LineEnd::ends`]
/// reads it in the head's tail the same way, a second owner kept for speed:
/// the shortcuts_agree_with_the_general_path tests of format::tests hold
/// both.
#[inline(always)]
fn unread(lit: &Lit, line: &[u8], at: usize) -> Option<usize> {
    let stop = line.len().checked_sub(usize::from(lit.len)).filter(|&stop| stop >= at)?;
    lit.after(line, stop)
}

/// A field never read, usually `-`, up to `lit`, which starts with a space
/// or a quote (`quote`). [`Tail::read`] reads a quoted one in the head's
/// tail the same way, a second owner kept for speed:
/// format::tests::shortcuts_agree_with_the_general_path holds both.
#[inline(always)]
fn skip_field(lit: &Lit, quote: bool, line: &[u8], at: usize) -> Option<usize> {
    if line.get(at) == Some(&b'-')
        && let Some(after) = lit.after(line, at + 1)
    {
        return Some(after);
    }
    let stop = at + bytes::find_near(line.get(at..)?, if quote { b'"' } else { b' ' })?;
    if quote && stop > at && line[stop - 1] == b'\\' {
        return None;
    }
    lit.after(line, stop)
}

/// Digits, or `-`, before `lit`: the usual byte count, and where `lit`
/// ends.
#[inline(always)]
fn byte_count(lit: &Lit, line: &[u8], at: usize) -> Option<(u64, usize)> {
    // The usual count with the literal after it and what must follow that
    // in the word at `at`: the literal is checked there as [`Lit::after`]
    // checks it in a word of its own (the byte after it is in this one).
    if let Some(chunk) = line.get(at..)?.first_chunk::<8>()
        && let word = u64::from_le_bytes(*chunk)
        && let Some((bytes, len)) = bytes::word_digits(word, usize::from(lit.room))
    {
        return (word >> (8 * len) & lit.then_mask == lit.then).then_some((bytes, at + len + usize::from(lit.len)));
    }
    // The digits first, the usual count: a `-` is no digit.
    let (bytes, len) = match bytes::leading_digits(line.get(at..)?) {
        (_, 0) if line.get(at) == Some(&b'-') => (0, 1),
        (_, 0) => return None,
        read => read,
    };
    Some((bytes, lit.after(line, at + len)?))
}

/// A three-digit status and the literals on either side of it (`" 200 `),
/// as one word to compare.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Around {
    /// The whole as the word from the byte before it holds it (that
    /// byte is the caller's to test).
    word: u64,
    /// The literals' bytes (the digits' are not compared).
    mask: u64,
    /// How far the digits stand in that word, in bits, and the length of
    /// the whole.
    shift: u8,
    len: u8,
}

impl Around {
    /// Around a status after `before`, before `after` (which must be
    /// followed by anything), when the whole and the byte before it fit in
    /// a word.
    pub(super) fn new(before: &Literal, after: Lit) -> Option<Around> {
        let (digits, len) = (1 + before.len(), before.len() + 3 + usize::from(after.len));
        if len > 7 || after.follow != Follow::Anything {
            return None;
        }
        let mut word = [0u8; 8];
        let mut mask = [0u8; 8];
        let after_bytes = after.word.to_le_bytes();
        let bytes = [None]
            .into_iter()
            .chain(before.bytes.iter().map(|&b| Some(b)))
            .chain([None; 3])
            .chain(after_bytes[..usize::from(after.len)].iter().map(|&b| Some(b)));
        for (i, byte) in bytes.enumerate() {
            if let Some(byte) = byte {
                (word[i], mask[i]) = (byte, 0xff);
            }
        }
        Some(Around {
            word: u64::from_le_bytes(word),
            mask: u64::from_le_bytes(mask),
            shift: 8 * digits as u8,
            len: len as u8,
        })
    }

    /// The status, 100 to 599, and where the literal after it ends, when
    /// the whole is at `at` and `word` holds the line's eight bytes from
    /// the one before it.
    #[inline(always)]
    pub(super) fn status(&self, word: u64, at: usize) -> Option<(u16, usize)> {
        if word & self.mask != self.word {
            return None;
        }
        // Each digit XOR '0' is 0 to 9: adding 6 leaves its high nibble
        // clear, as it is in the byte itself.
        let t = (word >> self.shift) as u32 & 0x00ff_ffff ^ 0x0030_3030;
        if (t.wrapping_add(0x0006_0606) | t) & 0x00f0_f0f0 != 0 {
            return None;
        }
        let code = (t & 0xff) * 100 + (t >> 8 & 0xff) * 10 + (t >> 16);
        (100..=599).contains(&code).then_some((code as u16, at + usize::from(self.len)))
    }
}

/// A status of three digits, 100 to 599 (anything else is read the
/// general way).
#[inline(always)]
pub(super) fn three_digits(s: &[u8]) -> Option<u16> {
    let &[a, b, c] = s else { return None };
    let [a, b, c] = [a.wrapping_sub(b'0'), b.wrapping_sub(b'0'), c.wrapping_sub(b'0')];
    if a > 9 || b > 9 || c > 9 {
        return None;
    }
    let code = u16::from(a) * 100 + u16::from(b) * 10 + u16::from(c);
    (100..=599).contains(&code).then_some(code)
}

/// The method and section of the usual request, `GET /a/b?c HTTP/1.1`,
/// that `rest` starts with, and where in `rest` its section ends (from
/// there on its end is looked for). `None` for an odd method or no path:
/// [`parse::request_method`] and [`section::of_request`] then read the
/// request the long way, as they do a section that ends at a quote, which
/// a caller that looks past the quote for the request's end refuses
/// ([`ends_at_quote`]).
/// The usual method and the first sixteen bytes of its section's search
/// are read from one chunk of 21 bytes, one length checked for all (the
/// method's word, the target's slice and the search's first words each
/// checked their own: a detected combined line 522.1 -> 516.3
/// instructions, the nginx string 581.9 -> 574.1).
#[inline(always)]
pub(super) fn plain_method_and_section(rest: &[u8]) -> Option<(&[u8], &[u8], usize)> {
    // The usual method, and its path's start, in one compare; in the
    // same chunk, the first sixteen bytes of the section's search.
    const GET: u64 = u64::from_le_bytes(*b"GET /\0\0\0");
    if let Some(chunk) = rest.first_chunk::<{ 5 + 16 }>()
        && let Some(word) = chunk.first_chunk::<8>()
        && u64::from_le_bytes(*word) & 0xff_ffff_ffff == GET
    {
        return section_after(rest, 3);
    }
    section_after(rest, method_before_path(rest)?)
}

/// [`plain_method_and_section`] once the method's length is known.
#[inline(always)]
fn section_after(rest: &[u8], method: usize) -> Option<(&[u8], &[u8], usize)> {
    let target = &rest[method + 1..];
    // Where the section ends as [`section::of_request`] has it, or a quote
    // before that (whether the request is then plain is the caller's to
    // say: see [`ends_at_quote`]).
    let end = 1 + section::end_in_quoted_request(&target[1..])?;
    Some((&rest[..method], section::cut(&target[..end]), method + 1 + end))
}

/// Whether the section that [`plain_method_and_section`] read from
/// `rest`, up to `end`, ends at a quote: the request is then not plain
/// for a caller that may end it at a later quote (its section would go on
/// past this one).
#[inline(always)]
pub(super) fn ends_at_quote(rest: &[u8], end: usize) -> bool {
    rest.get(end) == Some(&b'"')
}

/// The length of the method that `rest` starts with: capitals, then a
/// space and a path (`/`).
#[inline(always)]
fn method_before_path(rest: &[u8]) -> Option<usize> {
    let method = match bytes::capitals(rest) {
        Some(len) if len > 0 && rest.get(len) == Some(&b' ') => len,
        Some(_) => return None,
        // Eight capitals or more, or a short line.
        None => {
            let method = bytes::find(&rest[..rest.len().min(16)], b' ')?;
            if method == 0 || !rest[..method].iter().all(u8::is_ascii_uppercase) {
                return None;
            }
            method
        }
    };
    (rest.get(method + 1) == Some(&b'/')).then_some(method)
}
