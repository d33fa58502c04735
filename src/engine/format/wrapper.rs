//! Container log wrappers, taken off before the format reads the line:
//! Docker's json-file lines (`{"log":"...\n","stream":"stdout",...}`), the
//! CRI prefix of Kubernetes node logs (`2023-01-01T00:00:00.123Z stdout F `)
//! and `docker compose`'s `service  | ` prefix.

use super::json;
use crate::engine::bytes;
use crate::engine::parse::Malformed;

/// Which wrappers to look for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Look {
    All,
    /// A format string that itself writes `|`: a compose prefix could not
    /// be told from the line's own fields.
    NotCompose,
    /// None: the stream is known to be plain.
    Nothing,
}

/// The server's line inside `line`: `line` itself when it has no wrapper.
/// A Docker line is decoded into `scratch`.
#[inline]
pub fn unwrap<'a>(line: &'a [u8], look: Look, scratch: &'a mut Vec<u8>) -> Result<&'a [u8], Malformed> {
    if look == Look::Nothing {
        return Ok(line);
    }
    if line.first() == Some(&b'{')
        && let Some(log) = line.strip_prefix(br#"{"log":""#)
    {
        return docker(log, scratch).ok_or(Malformed::BadWrapper);
    }
    if let Some(inner) = cri(line) {
        return Ok(inner);
    }
    match look {
        Look::All => Ok(compose(line).unwrap_or(line)),
        Look::NotCompose | Look::Nothing => Ok(line),
    }
}

/// The decoded `log` string of a Docker json-file line, without the
/// newline the container wrote.
fn docker<'a>(log: &[u8], scratch: &'a mut Vec<u8>) -> Option<&'a [u8]> {
    let (raw, escaped) = json::string(log)?;
    scratch.clear();
    if escaped {
        json::unescape(raw, scratch)?;
    } else {
        scratch.extend_from_slice(raw);
    }
    let line: &'a [u8] = scratch;
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    Some(line.strip_suffix(b"\r").unwrap_or(line))
}

/// After `2023-01-01T00:00:00.123456789Z stdout F `: what the container
/// wrote. A partial line (`P`) is read as it is.
#[inline]
fn cri(line: &[u8]) -> Option<&[u8]> {
    if line.len() < 20 || line[4] != b'-' || line[7] != b'-' || line[10] != b'T' {
        return None;
    }
    let space = bytes::find(&line[..line.len().min(40)], b' ')?;
    let rest = &line[space + 1..];
    let rest = rest.strip_prefix(b"stdout ").or_else(|| rest.strip_prefix(b"stderr "))?;
    rest.strip_prefix(b"F ").or_else(|| rest.strip_prefix(b"P "))
}

/// After `web-1  | `: a service name, spaces, a bar and a space.
#[inline]
fn compose(line: &[u8]) -> Option<&[u8]> {
    let name = bytes::find(&line[..line.len().min(64)], b' ')?;
    let bar = name + line[name..].iter().position(|&c| c != b' ')?;
    let inner = line[bar..].strip_prefix(b"| ")?;
    let named = name > 0 && line[..name].iter().all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'));
    named.then_some(inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inner(line: &str) -> String {
        let mut scratch = Vec::new();
        let inner = unwrap(line.as_bytes(), Look::All, &mut scratch).expect("unwraps");
        String::from_utf8_lossy(inner).into_owned()
    }

    #[test]
    fn wrappers_come_off() {
        let clf = r#"1.2.3.4 - - [07/Feb/2019:21:11:00 +0000] "GET /a HTTP/1.1" 200 5 "-" "x""#;
        assert_eq!(inner(clf), clf);
        let docker = r#"{"log":"1.2.3.4 - - [07/Feb/2019:21:11:00 +0000] \"GET /a HTTP/1.1\" 200 5 \"-\" \"x\"\n","stream":"stdout","time":"2019-02-07T21:11:00.1Z"}"#;
        assert_eq!(inner(docker), clf);
        assert_eq!(inner(&format!("2019-02-07T21:11:00.123456789Z stdout F {clf}")), clf);
        assert_eq!(inner(&format!("2019-02-07T21:11:00+00:00 stderr P {clf}")), clf);
        assert_eq!(inner(&format!("web-1  | {clf}")), clf);
        assert_eq!(inner(&format!("proxy_1 | {clf}")), clf);
        // Look-alikes are left as they are.
        for line in ["2019-02-07T21:11:00Z stdin F x", "a|b c", "web-1 |x", "| x", "a b | c"] {
            assert_eq!(inner(line), line);
        }
        let mut scratch = Vec::new();
        assert_eq!(unwrap(b"web | x", Look::NotCompose, &mut scratch), Ok(&b"web | x"[..]));
        assert_eq!(unwrap(br#"{"log":"\q"}"#, Look::All, &mut scratch), Err(Malformed::BadWrapper));
    }
}
