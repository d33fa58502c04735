//! Sections: what stands before the second `/` of a request's path. The
//! rule of where one ends is here alone: the general readings below and the
//! format's fast path (`format::op::plain_method_and_section`) scan with
//! [`end_in_target`], [`end_in_request`] and [`end_in_quoted_request`].

use super::bytes::{self, Set};

/// Longer sections are cut to this many bytes, so a hostile log cannot make
/// the per-report section tables grow with line length.
pub const MAX_SECTION_LEN: usize = 128;

/// What ends a section after its leading `/`: the next segment, the query,
/// the fragment.
const ENDS: [u8; 3] = [b'/', b'?', b'#'];

/// The same in a request line, where a space ends the target too.
const ENDS_IN_REQUEST: [u8; 4] = [ENDS[0], ENDS[1], ENDS[2], b' '];

/// The same in a request that a quote may end (a quoted field, read
/// without its end known): a quote there stops the section's reading.
const ENDS_IN_QUOTED_REQUEST: [u8; 5] = [ENDS[0], ENDS[1], ENDS[2], b' ', b'"'];

/// Where the section ends in `path`, an origin-form target after its
/// leading `/`: `None` when it runs to the end.
#[inline(always)]
pub fn end_in_target(path: &[u8]) -> Option<usize> {
    bytes::find_any(path, const { Set::of(ENDS) })
}

/// As [`end_in_target`], for a path in a request line.
#[inline(always)]
pub fn end_in_request(path: &[u8]) -> Option<usize> {
    bytes::find_any(path, const { Set::of(ENDS_IN_REQUEST) })
}

/// As [`end_in_request`], for a path in a request that a quote may end: a
/// quote there is where the section's end is, for the caller to check.
/// The format head's: its usual section ends within its first sixteen
/// bytes, the two words [`bytes::find_any_short`] checks inline.
#[inline(always)]
pub fn end_in_quoted_request(path: &[u8]) -> Option<usize> {
    bytes::find_any_short(path, const { Set::of(ENDS_IN_QUOTED_REQUEST) })
}

/// A section cut to [`MAX_SECTION_LEN`] bytes.
#[inline(always)]
pub fn cut(section: &[u8]) -> &[u8] {
    &section[..section.len().min(MAX_SECTION_LEN)]
}

/// The section of a logged request line such as `GET /pages/create HTTP/1.1`.
///
/// `None` when the request names no path: `-`, a TLS handshake logged as
/// bytes, `OPTIONS *`, `CONNECT host:443`. The line is still a hit.
#[inline]
pub fn of_request(request: &[u8]) -> Option<&[u8]> {
    // One pass for the usual origin form; memchr would cost more in setup
    // than these few bytes take to scan.
    let method_len = request.iter().position(|&c| c == b' ')?;
    if method_len == 0 || !request[..method_len].iter().all(u8::is_ascii_graphic) {
        return None;
    }
    let target = &request[method_len + 1..];
    if target.first() == Some(&b'/') {
        let end = end_in_request(&target[1..]).map_or(target.len(), |i| i + 1);
        return Some(cut(&target[..end]));
    }
    let end = target.iter().position(|&c| c == b' ').unwrap_or(target.len());
    of_target(&target[..end])
}

/// The section of a request target: origin form `/a/b?q` or absolute form
/// `http://host/a/b`.
pub fn of_target(target: &[u8]) -> Option<&[u8]> {
    // The usual origin form in one pass, eight bytes at a time: memchr
    // would cost more in setup than these few bytes take to scan.
    let path = match target.first() {
        Some(b'/') => target,
        _ => after_authority(target)?,
    };
    match path.strip_prefix(b"/") {
        Some(rest) => {
            let end = end_in_target(rest).map_or(path.len(), |i| i + 1);
            Some(cut(&path[..end]))
        }
        // `http://host` and `http://host?q` ask for the root.
        None => Some(b"/"),
    }
}

/// For `scheme://authority/path...`, the part from the path on (possibly
/// empty); `None` if the target is not in absolute form.
fn after_authority(target: &[u8]) -> Option<&[u8]> {
    let colon = memchr::memchr(b':', target)?;
    let scheme = &target[..colon];
    if scheme.is_empty() || !scheme.iter().all(|c| c.is_ascii_alphanumeric() || b"+-.".contains(c)) {
        return None;
    }
    let rest = target[colon..].strip_prefix(b"://")?;
    let end = memchr::memchr3(b'/', b'?', b'#', rest).unwrap_or(rest.len());
    Some(&rest[end..])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::testkit::Rng;

    fn section(request: &str) -> Option<&str> {
        of_request(request.as_bytes()).map(|s| std::str::from_utf8(s).expect("test input is UTF-8"))
    }

    #[test]
    fn first_path_segment() {
        assert_eq!(section("GET /pages/create HTTP/1.1"), Some("/pages"));
        assert_eq!(section("GET /report HTTP/1.0"), Some("/report"));
        assert_eq!(section("GET / HTTP/1.0"), Some("/"));
        assert_eq!(section("POST /api/user/42/edit HTTP/2.0"), Some("/api"));
        assert_eq!(section("GET /api/ HTTP/1.1"), Some("/api"));
    }

    #[test]
    fn query_and_fragment_are_not_part_of_it() {
        assert_eq!(section("GET /search?q=a/b HTTP/1.1"), Some("/search"));
        assert_eq!(section("GET /page#top/x HTTP/1.1"), Some("/page"));
        assert_eq!(section("GET /?x=/y HTTP/1.1"), Some("/"));
    }

    #[test]
    fn absolute_form_uses_the_path() {
        assert_eq!(section("GET http://host/a/b HTTP/1.1"), Some("/a"));
        assert_eq!(section("GET https://host:8443/a HTTP/1.1"), Some("/a"));
        assert_eq!(section("GET http://host HTTP/1.1"), Some("/"));
        assert_eq!(section("GET http://host?x=/y HTTP/1.1"), Some("/"));
    }

    #[test]
    fn http_0_9_has_no_version() {
        assert_eq!(section("GET /old/page"), Some("/old"));
    }

    #[test]
    fn double_slash_gives_the_root() {
        assert_eq!(section("GET //etc/passwd HTTP/1.1"), Some("/"));
    }

    #[test]
    fn requests_without_a_path() {
        assert_eq!(section("-"), None);
        assert_eq!(section(""), None);
        assert_eq!(section(r"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03"), None);
        assert_eq!(of_request(b"\x16\x03\x01 /x HTTP/1.1"), None);
        assert_eq!(section("OPTIONS * HTTP/1.1"), None);
        assert_eq!(section("CONNECT example.com:443 HTTP/1.1"), None);
        assert_eq!(section("GET  HTTP/1.1"), None);
        assert_eq!(section(" /a HTTP/1.1"), None);
    }

    #[test]
    fn bytes_pass_through_untouched() {
        assert_eq!(of_request(b"GET /caf\xc3\xa9/x HTTP/1.1"), Some(&b"/caf\xc3\xa9"[..]));
        assert_eq!(of_request(b"GET /\xff\x00/x HTTP/1.1"), Some(&b"/\xff\x00"[..]));
    }

    /// The origin form read in one pass agrees with the path cut at its
    /// query or fragment, then at its second `/`.
    #[test]
    fn targets_read_in_one_pass() {
        let reference = |target: &[u8]| -> Option<Vec<u8>> {
            let path = match target.iter().position(|&c| c == b'?' || c == b'#') {
                Some(end) => &target[..end],
                None => target,
            };
            let end = path[1..].iter().position(|&c| c == b'/').map_or(path.len(), |i| i + 1);
            Some(path[..end.min(MAX_SECTION_LEN)].to_vec())
        };
        let bytes = [b'/', b'?', b'#', b'a', b' ', b'\xff', b'.'];
        let mut rng = Rng::seeded(11);
        for _ in 0..20_000 {
            let len = rng.below(40);
            let mut target = vec![b'/'];
            for _ in 0..len {
                target.push(bytes[rng.below(bytes.len() as u64) as usize]);
            }
            assert_eq!(of_target(&target).map(<[u8]>::to_vec), reference(&target), "{target:?}");
        }
        let long = [&b"/"[..], &[b'a'; 300]].concat();
        assert_eq!(of_target(&long).map(<[u8]>::len), Some(MAX_SECTION_LEN));
    }

    #[test]
    fn long_sections_are_cut() {
        let long = format!("GET /{}/x HTTP/1.1", "a".repeat(1000));
        assert_eq!(section(&long).map(str::len), Some(MAX_SECTION_LEN));
    }
}
