//! Byte searches within one line, eight bytes at a time (SWAR). The
//! distances inside a log line are short, where a general search costs
//! more in setup than in scanning; memchr splits the lines themselves.

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
    let mut words = s.chunks_exact(8);
    let mut at = 0;
    for word in &mut words {
        let hits = lanes(u64::from_le_bytes(word.try_into().expect("chunks of 8")));
        if hits != 0 {
            return Some(at + hits.trailing_zeros() as usize / 8);
        }
        at += 8;
    }
    words.remainder().iter().position(|&c| rest(c)).map(|i| at + i)
}

/// The first `byte` in `s`.
#[inline]
pub fn find(s: &[u8], byte: u8) -> Option<usize> {
    first(s, |v| zeros(v ^ splat(byte)), |c| c == byte)
}

/// The first `a` or `b` in `s`.
#[inline]
pub fn find_either(s: &[u8], a: u8, b: u8) -> Option<usize> {
    first(s, |v| zeros(v ^ splat(a)) | zeros(v ^ splat(b)), |c| c == a || c == b)
}

/// The first `/`, space, `?`, `#` or `"`: where a section ends, or where a
/// request stops being plain.
#[inline]
pub fn section_end(s: &[u8]) -> Option<usize> {
    first(
        s,
        |v| {
            zeros(v ^ splat(b'/'))
                | zeros(v ^ splat(b' '))
                | zeros(v ^ splat(b'?'))
                | zeros(v ^ splat(b'#'))
                | zeros(v ^ splat(b'"'))
        },
        |c| matches!(c, b'/' | b' ' | b'?' | b'#' | b'"'),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_first_byte() {
        let s = b"192.168.100.200 - - [07/Feb/2019";
        assert_eq!(find(s, b'['), Some(20));
        assert_eq!(find(s, b'1'), Some(0));
        assert_eq!(find(s, b'9'), Some(1));
        assert_eq!(find(s, b'x'), None);
        assert_eq!(find(b"", b'x'), None);
        // Bytes that borrow in the word arithmetic before the match.
        assert_eq!(find(b"\x00\x01\x80\xff\x00\x01\x80[", b'['), Some(7));
        assert_eq!(find(b"\x01\x01\x01\x01\x01\x01\x01\x01\x01\x00", 0), Some(9));
        for n in 0..40 {
            let mut v = vec![b'a'; n];
            v.push(b'"');
            v.extend_from_slice(b"\"zz");
            assert_eq!(find(&v, b'"'), Some(n), "at {n}");
        }
    }

    #[test]
    fn finds_the_first_of_two_bytes() {
        let s = b"192.168.100.200 - - [07/Feb/2019";
        assert_eq!(find_either(s, b' ', b'['), Some(15));
        assert_eq!(find_either(s, b'[', b' '), Some(15));
        assert_eq!(find_either(b"[::1] - - [", b' ', b'['), Some(0));
        assert_eq!(find_either(b"abcdefghij[", b' ', b'['), Some(10));
        assert_eq!(find_either(b"abc", b' ', b'['), None);
        // A borrow from one byte's match must not hide the other's.
        assert_eq!(find_either(b"\x01\x00\x01\x01\x01\x01\x01\x01", 0, 1), Some(0));
    }

    #[test]
    fn section_ends() {
        for (s, end) in [
            (&b"api/user"[..], Some(3)),
            (b"abcdefghijklmno?x", Some(15)),
            (b"abcdefgh#", Some(8)),
            (b"abcdefg\"", Some(7)),
            (b"health HTTP/1.1", Some(6)),
            (b"abcdefghijklmnopqrstuvwxyz", None),
            (b"\x80\xff\x01/", Some(3)),
            (b"", None),
        ] {
            assert_eq!(section_end(s), end, "{:?}", String::from_utf8_lossy(s));
        }
    }
}
