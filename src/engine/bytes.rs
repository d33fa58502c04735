//! Byte searches and runs of digits within one line, eight bytes at a time
//! (SWAR), or sixteen with memchr's SSE2 searcher where it is inlined (one
//! byte on x86_64). The distances inside a log line are short, where a
//! general search costs more in setup than in scanning; memchr splits the
//! lines themselves.

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// A word with `byte` in every lane.
const fn splat(byte: u8) -> u64 {
    ONES * byte as u64
}

/// The high bit of each zero byte of `v`. The lowest one set is exact;
/// higher ones may be false positives, which finding the first never reads.
#[inline]
fn zeros(v: u64) -> u64 {
    v.wrapping_sub(ONES) & !v & HIGHS
}

/// Runs `lanes` over each 8-byte word of `s` (a mask of matching lanes, as
/// [`zeros`] gives), then `rest` over the remaining bytes.
#[inline(always)]
fn first(s: &[u8], lanes: impl Fn(u64) -> u64, rest: impl Fn(u8) -> bool) -> Option<usize> {
    let (words, remainder) = s.as_chunks::<8>();
    let mut at = 0;
    for &word in words {
        let hits = lanes(u64::from_le_bytes(word));
        if hits != 0 {
            return Some(at + hits.trailing_zeros() as usize / 8);
        }
        at += 8;
    }
    remainder.iter().position(|&c| rest(c)).map(|i| at + i)
}

/// The first `byte` in `s`. On x86_64, memchr's SSE2 searcher: SSE2 is
/// always there, so it is inlined (no call, no choice made at run time),
/// and the usual field ends within its first sixteen bytes, one compare.
#[inline(always)]
pub fn find(s: &[u8], byte: u8) -> Option<usize> {
    #[cfg(target_arch = "x86_64")]
    if let Some(one) = memchr::arch::x86_64::sse2::memchr::One::new(byte) {
        return one.find(s);
    }
    find_swar(s, byte)
}

/// How far a search for a byte usually under 64 bytes away looks first,
/// in windows of sixteen bytes: under memchr's 64-byte loop, whose setup
/// (and branches, mispredicted on where the byte is) cost more than such
/// a search.
const NEAR: usize = 64;

/// [`find`] for a byte usually under 64 bytes away (the quote that ends a
/// request or a referer): first in the [`NEAR`] bytes' windows of sixteen,
/// each one compare (memchr's search of a slice whose length it knows,
/// with no aligned loop to set up), then the rest, out of line.
/// The first two windows are read from one 32-byte chunk when the rest
/// holds it (a combined line's usually does), with no length checked for
/// each: a detected combined line 575.8 -> 569.0 instructions, the nginx
/// string 633.5 -> 627.6. Checked for all four windows at once (64 bytes),
/// a common line, whose request's rest is shorter, took 6.5 more; for
/// three (48), 7.1 more, for 1.9 fewer on the nginx string.
#[inline(always)]
pub fn find_near(s: &[u8], byte: u8) -> Option<usize> {
    let mut at = 0;
    if s.len() >= 32 {
        if let Some(at) = find_within::<32>(s, byte) {
            return Some(at);
        }
        at = 32;
    }
    while at < NEAR {
        match s.get(at..).and_then(<[u8]>::first_chunk::<16>) {
            Some(window) => {
                if let Some(i) = find(window, byte) {
                    return Some(at + i);
                }
            }
            // Fewer than sixteen bytes left.
            None => break,
        }
        at += 16;
    }
    far(s.get(at..)?, byte).map(|i| at + i)
}

/// The first `byte` in the first `N` bytes of `s` (a multiple of
/// sixteen), in windows of sixteen with no length checked for each, when
/// `s` holds `N` bytes (none when it does not).
#[inline(always)]
pub fn find_within<const N: usize>(s: &[u8], byte: u8) -> Option<usize> {
    let (windows, _) = s.first_chunk::<N>()?.as_chunks::<16>();
    windows.iter().enumerate().find_map(|(i, window)| find(window, byte).map(|at| 16 * i + at))
}

/// [`find`] out of line, for [`find_near`]'s rare far search (or a short
/// rest).
#[inline(never)]
fn far(s: &[u8], byte: u8) -> Option<usize> {
    find(s, byte)
}

/// [`find`] eight bytes at a time: the search off x86_64, tested on every
/// architecture.
#[inline(always)]
fn find_swar(s: &[u8], byte: u8) -> Option<usize> {
    first(s, |v| zeros(v ^ splat(byte)), |c| c == byte)
}

/// The first `a` or `b` in `s`; on x86_64 with memchr's SSE2 searcher,
/// inlined, as [`find`].
#[inline(always)]
pub fn find_either(s: &[u8], a: u8, b: u8) -> Option<usize> {
    #[cfg(target_arch = "x86_64")]
    if let Some(two) = memchr::arch::x86_64::sse2::memchr::Two::new(a, b) {
        return two.find(s);
    }
    find_either_swar(s, a, b)
}

/// [`find_either`] eight bytes at a time, as [`find_swar`].
#[inline(always)]
fn find_either_swar(s: &[u8], a: u8, b: u8) -> Option<usize> {
    first(s, |v| zeros(v ^ splat(a)) | zeros(v ^ splat(b)), |c| c == a || c == b)
}

/// A set of bytes as the tests [`find_any`] makes of each lane: two bytes
/// that differ in one bit are one test (that bit set in the lane, then one
/// compare), so the five bytes that end a section in a quoted request
/// (`/ ? # space "`: `/` and `?` differ in 0x10, `"` and `#` in 0x01) take
/// three, not five. Built once, where the set is a constant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Set<const N: usize> {
    /// Each test's `(value, ignore)`: a byte is in the set when it is
    /// `value` once the bits of `ignore` are set in it. Tests past the
    /// set's own repeat the first, which adds nothing to the hits.
    tests: [(u8, u8); N],
}

impl<const N: usize> Set<N> {
    /// The set of `bytes` (one at least), each paired with the first later
    /// one that differs from it in one bit, if any.
    pub const fn of(bytes: [u8; N]) -> Set<N> {
        let mut tests = [(bytes[0], 0); N];
        let mut paired = [false; N];
        let (mut i, mut k) = (0, 0);
        while i < N {
            if !paired[i] {
                let mut test = (bytes[i], 0);
                let mut j = i + 1;
                while j < N {
                    let diff = bytes[i] ^ bytes[j];
                    if !paired[j] && diff.count_ones() == 1 {
                        paired[j] = true;
                        test = (bytes[i] | diff, diff);
                        break;
                    }
                    j += 1;
                }
                tests[k] = test;
                k += 1;
            }
            i += 1;
        }
        while k < N {
            tests[k] = tests[0];
            k += 1;
        }
        Set { tests }
    }

    /// Whether `byte` is in the set.
    #[inline(always)]
    fn has(&self, byte: u8) -> bool {
        self.tests.iter().any(|&(value, ignore)| byte | ignore == value)
    }

    /// The lanes of `v` that hold a byte of the set, as [`zeros`] marks
    /// them.
    #[inline(always)]
    fn lanes(&self, v: u64) -> u64 {
        self.tests.iter().fold(0, |hits, &(value, ignore)| hits | zeros((v | splat(ignore)) ^ splat(value)))
    }
}

/// The first byte of `set` in `s`, eight bytes at a time: `set`, a
/// constant where it is used, unrolls into a test a pair of its bytes (the
/// bytes that end a section are [`super::section`]'s to say).
#[inline(always)]
pub fn find_any<const N: usize>(s: &[u8], set: Set<N>) -> Option<usize> {
    first(s, |v| set.lanes(v), |c| set.has(c))
}

/// [`find_any`] for a byte of `set` usually within the first sixteen
/// bytes of `s` (where a request's section ends): those two words inline,
/// one length checked for both, the search past them out of line, with no
/// loop to set up for the usual one. With the first word alone inline, a
/// sixth of a combined log's sections (a segment of eight bytes or more)
/// took the call: the second word inline, a detected combined line 544.0
/// -> 540.4 instructions, the nginx string 595.8 -> 593.2.
#[inline(always)]
pub fn find_any_short<const N: usize>(s: &[u8], set: Set<N>) -> Option<usize> {
    match s.first_chunk::<16>() {
        Some(words) => {
            let (first, second) = words.split_at(8);
            match set.lanes(u64::from_le_bytes(*first.first_chunk::<8>()?)) {
                0 => match set.lanes(u64::from_le_bytes(*second.first_chunk::<8>()?)) {
                    0 => find_any_from(s, 16, set),
                    hits => Some(8 + hits.trailing_zeros() as usize / 8),
                },
                hits => Some(hits.trailing_zeros() as usize / 8),
            }
        }
        None => find_any_from(s, 0, set),
    }
}

/// [`find_any_short`]'s search from `from` on, out of line.
#[cold]
#[inline(never)]
fn find_any_from<const N: usize>(s: &[u8], from: usize, set: Set<N>) -> Option<usize> {
    find_any(s.get(from..)?, set).map(|at| from + at)
}

/// How many of the first eight bytes of `s` are ASCII capitals before the
/// first that is not; `None` when all eight are, or `s` is shorter.
#[inline(always)]
pub fn capitals(s: &[u8]) -> Option<usize> {
    let word = u64::from_le_bytes(*s.first_chunk::<8>()?);
    // Each low seven bits plus 0x3f reaches the high bit from `A` on, plus
    // 0x25 from past `Z`; no lane carries into the next.
    let low = word & 0x7f7f_7f7f_7f7f_7f7f;
    let from_a = low + 0x3f3f_3f3f_3f3f_3f3f;
    let past_z = low + 0x2525_2525_2525_2525;
    let capital = from_a & !past_z & !word & HIGHS;
    let run = (!capital & HIGHS).trailing_zeros() as usize / 8;
    (run < 8).then_some(run)
}

/// The run of digits `s` starts with, up to 19 (more could overflow), as a
/// number, and its length. The usual short run is measured and read eight
/// bytes at a time.
#[inline(always)]
pub fn leading_digits(s: &[u8]) -> (u64, usize) {
    if let Some(chunk) = s.first_chunk::<8>() {
        let word = u64::from_le_bytes(*chunk);
        let len = digit_run(word);
        if len == 0 {
            return (0, 0);
        }
        if len < 8 {
            return (run_of(word, len), len);
        }
    }
    const MAX_DIGITS: usize = 19;
    let mut n: u64 = 0;
    let mut len = 0;
    while let Some(&c) = s.get(len)
        && c.is_ascii_digit()
        && len < MAX_DIGITS
    {
        n = n * 10 + u64::from(c - b'0');
        len += 1;
    }
    (n, len)
}

/// A number of four to eight bytes, digits with at most one point after
/// the first digit (`0.000049`, `12`, `12.`), read in one word: its digits
/// with the point left out, as a number, and how many digits followed the
/// point. `None` for anything else, longer values included, which the
/// caller reads digit run by digit run.
#[inline(always)]
pub fn short_decimal(s: &[u8]) -> Option<(u64, usize)> {
    let len = s.len();
    // Zero bytes past the end are neither digits nor points. Two reads that
    // overlap (the same bytes in the same lanes) cover a short value without
    // a copy.
    let word = match (s.first_chunk::<4>(), s.last_chunk::<4>()) {
        _ if len > 8 => return None,
        (Some(&first), Some(&last)) => {
            u64::from(u32::from_le_bytes(first)) | u64::from(u32::from_le_bytes(last)) << (8 * (len - 4))
        }
        // Under four bytes, digit by digit costs no more (W3C's `15` ms).
        _ => return None,
    };
    // The first point (8 when there is none); the bytes above it move down
    // one lane over it.
    let dot = zeros(word ^ splat(b'.')).trailing_zeros() as usize / 8;
    let (word, digits, after) = if dot < len {
        if dot == 0 {
            return None;
        }
        let below = word & ((1 << (8 * dot)) - 1);
        let above = (word >> (8 * dot) >> 8) << (8 * dot);
        (below | above, len - 1, len - 1 - dot)
    } else {
        (word, len, 0)
    };
    (digit_run(word) >= digits).then(|| (run_of(word, digits), after))
}

/// The run of digits the eight bytes of `word` (the first in its lowest
/// byte) start with, as a number, and its length, when it is one to
/// `most` (at most seven) digits long.
#[inline(always)]
pub fn word_digits(word: u64, most: usize) -> Option<(u64, usize)> {
    debug_assert!(most < 8);
    let len = digit_run(word);
    (len.wrapping_sub(1) < most).then(|| (run_of(word, len), len))
}

/// The number that the first `len` bytes of `word`, one to eight digits,
/// make.
#[inline(always)]
fn run_of(word: u64, len: usize) -> u64 {
    eight_digits(word << (8 * (8 - len)))
}

/// How many of the eight bytes of `word` (the first in its lowest byte)
/// are ASCII digits before the first that is not.
#[inline(always)]
fn digit_run(word: u64) -> usize {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    // A digit's byte XOR '0' is 0 to 9; adding 0x76 to its low seven bits
    // sets the high bit of anything above 9, and the OR catches bytes whose
    // high bit was set already.
    let t = word ^ 0x3030_3030_3030_3030;
    let not_digits = (((t & LOW7) + 0x7676_7676_7676_7676) | t) & 0x8080_8080_8080_8080;
    not_digits.trailing_zeros() as usize / 8
}

/// The number that up to eight ASCII digits make, the last one in the
/// highest byte of `word` and zero bytes (shifted in) before the first.
#[inline(always)]
fn eight_digits(word: u64) -> u64 {
    // Zero bytes shifted in stand for leading zeros. Each step joins the
    // two lanes of each pair with one multiply, by 1 + 10^k moved up a
    // lane: the upper lane gains 10^k times the lower, the shift brings it
    // down, and the next mask drops what the others gained (no lane's sum
    // outgrows it, so no carry reaches a lane that is kept).
    let v = (word & 0x0f0f_0f0f_0f0f_0f0f).wrapping_mul(1 + (10 << 8)) >> 8;
    let v = (v & 0x00ff_00ff_00ff_00ff).wrapping_mul(1 + (100 << 16)) >> 16;
    (v & 0x0000_ffff_0000_ffff).wrapping_mul(1 + (10_000 << 32)) >> 32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capitals_are_counted_eight_bytes_at_a_time() {
        let words: [&[u8]; 8] = [
            b"GET /a HTTP",
            b"OPTIONS * H",
            b"POST",
            b"get / HTTP/",
            b"PROPFIND /x",
            b"G\xffT /aaaa",
            b"@[`{ABYZ!!!",
            b"GET\x80/aaaaa",
        ];
        for s in words {
            let slow = s.iter().take(8).take_while(|c| c.is_ascii_uppercase()).count();
            let expected = (s.len() >= 8 && slow < 8).then_some(slow);
            assert_eq!(capitals(s), expected, "{:?}", String::from_utf8_lossy(s));
        }
        for byte in 0..=255u8 {
            let s = [byte, b' ', 0, 0, 0, 0, 0, 0];
            assert_eq!(capitals(&s), Some(usize::from(byte.is_ascii_uppercase())), "{byte}");
        }
    }

    type Find = fn(&[u8], u8) -> Option<usize>;
    type FindEither = fn(&[u8], u8, u8) -> Option<usize>;

    /// Both searchers: the one this architecture uses, and SWAR, which is
    /// the one off x86_64.
    const FINDS: [(&str, Find); 3] = [("find", find), ("find_swar", find_swar), ("find_near", find_near)];
    const FINDS_EITHER: [(&str, FindEither); 2] =
        [("find_either", find_either), ("find_either_swar", find_either_swar)];

    #[test]
    fn finds_the_first_byte() {
        for (name, find) in FINDS {
            let s = b"192.168.100.200 - - [07/Feb/2019";
            assert_eq!(find(s, b'['), Some(20), "{name}");
            assert_eq!(find(s, b'1'), Some(0), "{name}");
            assert_eq!(find(s, b'9'), Some(1), "{name}");
            assert_eq!(find(s, b'x'), None, "{name}");
            assert_eq!(find(b"", b'x'), None, "{name}");
            // Bytes that borrow in the word arithmetic before the match.
            assert_eq!(find(b"\x00\x01\x80\xff\x00\x01\x80[", b'['), Some(7), "{name}");
            assert_eq!(find(b"\x01\x01\x01\x01\x01\x01\x01\x01\x01\x00", 0), Some(9), "{name}");
            for n in 0..140 {
                let mut v = vec![b'a'; n];
                v.push(b'"');
                v.extend_from_slice(b"\"zz");
                assert_eq!(find(&v, b'"'), Some(n), "{name} at {n}");
                // The same in a long rest (find_near's windows of one chunk).
                v.extend_from_slice(&[b'z'; 70]);
                assert_eq!(find(&v, b'"'), Some(n), "{name} at {n} of {}", v.len());
                assert_eq!(find(&v[..n], b'"'), None, "{name} before {n}");
            }
            // Every byte sought after every other, at each place in a word.
            for byte in 0..=255u8 {
                for at in 0..17 {
                    let mut v: Vec<u8> = (0..at).map(|i| byte.wrapping_add(1 + i as u8)).collect();
                    v.extend_from_slice(&[byte, byte]);
                    assert_eq!(find(&v, byte), v.iter().position(|&c| c == byte), "{name} {byte} at {at}");
                }
            }
        }
    }

    #[test]
    fn finds_the_first_of_two_bytes() {
        for (name, find_either) in FINDS_EITHER {
            let s = b"192.168.100.200 - - [07/Feb/2019";
            assert_eq!(find_either(s, b' ', b'['), Some(15), "{name}");
            assert_eq!(find_either(s, b'[', b' '), Some(15), "{name}");
            assert_eq!(find_either(b"[::1] - - [", b' ', b'['), Some(0), "{name}");
            assert_eq!(find_either(b"abcdefghij[", b' ', b'['), Some(10), "{name}");
            assert_eq!(find_either(b"abc", b' ', b'['), None, "{name}");
            // A borrow from one byte's match must not hide the other's.
            assert_eq!(find_either(b"\x01\x00\x01\x01\x01\x01\x01\x01", 0, 1), Some(0), "{name}");
            assert_eq!(find_either(b"\x02\x02\x02\x01\x00\x02\x02\x02\x02", 0, 3), Some(4), "{name}");
        }
    }

    /// The first of a set of bytes, at any place in a word, and no other
    /// byte; a borrow from one byte's match does not hide another's.
    #[test]
    fn finds_the_first_of_a_set() {
        type FindAny = fn(&[u8], Set<3>) -> Option<usize>;
        let finds: [(&str, FindAny); 2] = [("find_any", find_any), ("find_any_short", find_any_short)];
        let ends = Set::of([b'/', b'?', b'#']);
        for (name, find) in finds {
            for byte in 0..=255u8 {
                // In the first word, the second, and past both.
                for at in 0..25 {
                    let mut v = vec![b'a'; at];
                    v.push(byte);
                    v.extend_from_slice(b"bcdefghijklmnopq");
                    let expected = matches!(byte, b'/' | b'?' | b'#').then_some(at);
                    assert_eq!(find(&v, ends), expected, "{name} {byte} at {at}");
                    // Short of a word, or ending right after the byte.
                    for end in [at + 1, (at + 1).min(7)] {
                        let expected = expected.filter(|&i| i < end);
                        assert_eq!(find(&v[..end], ends), expected, "{name} {byte} at {at}, {end}");
                    }
                }
            }
            assert_eq!(find(b"\x01\x00\x01\x01\x01\x01\x01\x01", Set::of([0, 1, 1])), Some(0), "{name}");
            assert_eq!(find(b"\x02\x02\x02\x01\x00\x02\x02\x02\x02", Set::of([0, 3, 3])), Some(4), "{name}");
            assert_eq!(find(b"abcdefgh", Set::of([b'/', b'/', b'/'])), None, "{name}");
            assert_eq!(find(b"abcdefghijklmnopq", Set::of([b'/', b'/', b'/'])), None, "{name}");
            assert_eq!(find(b"", Set::of([b'/', b'/', b'/'])), None, "{name}");
        }
    }

    /// A set's tests, its bytes paired where they differ in one bit, hold
    /// every byte of the set and no other, in a word's every lane and
    /// after it: the sets that end a section, and sets whose pairs overlap.
    #[test]
    fn a_set_holds_its_bytes_alone() {
        fn check<const N: usize>(bytes: [u8; N]) {
            let set = Set::of(bytes);
            for byte in 0..=255u8 {
                assert_eq!(set.has(byte), bytes.contains(&byte), "{bytes:?} {byte}");
                for at in 0..10 {
                    let mut v = vec![b'a'; at];
                    v.extend_from_slice(&[byte, b'b', b'c', b'd', b'e', b'f', b'g', b'h']);
                    let expected = bytes.contains(&byte).then_some(at);
                    assert_eq!(find_any(&v, set), expected, "{bytes:?} {byte} at {at}");
                    assert_eq!(find_any_short(&v, set), expected, "{bytes:?} {byte} at {at}");
                }
            }
        }
        check([b'/', b'?', b'#']);
        check([b'/', b'?', b'#', b' ']);
        check([b'/', b'?', b'#', b' ', b'"']);
        check([0x20, 0x21, 0x23, 0x22]);
        check([0x80, 0x00, 0x7f, 0xff]);
        check([b'x']);
    }

    /// Digit runs read eight bytes at a time read as one byte at a time.
    #[test]
    fn leading_digit_runs() {
        let slow = |s: &[u8]| {
            let len = s.iter().take(19).take_while(|c| c.is_ascii_digit()).count();
            (s[..len].iter().fold(0u64, |n, &c| n * 10 + u64::from(c - b'0')), len)
        };
        let mut seed = 7_u64;
        let mut below = |n: u64| {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) % n
        };
        for _ in 0..20_000 {
            let mut s: Vec<u8> = (0..below(24)).map(|_| b'0' + below(10) as u8).collect();
            let after = [b' ', b'"', b'/', b':', b'\0', b'\xff', b'\xb5', b'a', b'-'];
            s.push(after[below(after.len() as u64) as usize]);
            s.extend_from_slice(b"12345678");
            let cut = below(s.len() as u64 + 1) as usize;
            for v in [&s[..], &s[..cut]] {
                assert_eq!(leading_digits(v), slow(v), "{:?}", String::from_utf8_lossy(v));
            }
        }
        assert_eq!(leading_digits(b"00000000 "), (0, 8));
        assert_eq!(leading_digits(b"99999999999999999999"), (9_999_999_999_999_999_999, 19));
    }
}
