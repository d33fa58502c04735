//! The one escaper: outside bytes (log lines, file names, option values)
//! made safe to show on a terminal (no control sequence, text-direction
//! override or invisible character gets through) and inside JSON strings
//! (valid UTF-8, with distinct bytes kept distinct).

use std::ffi::OsStr;
use std::fmt::{self, Write as _};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use crate::engine::rule::Rule;

/// Shows bytes as text, with control and format characters, backslashes
/// and invalid UTF-8 written as `\xNN` escapes (one per byte, so the exact
/// bytes can be read back) and a backslash as `\\`.
pub struct Terminal<'a>(pub &'a [u8]);

impl fmt::Display for Terminal<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for chunk in self.0.utf8_chunks() {
            let mut text = chunk.valid();
            while !text.is_empty() {
                // A run of printable ASCII goes out at once.
                let run = plain_run(text.as_bytes(), b'\\');
                f.write_str(&text[..run])?;
                let mut rest = text[run..].chars();
                match rest.next() {
                    Some('\\') => f.write_str("\\\\")?,
                    Some(c) if hidden(c) => {
                        let mut bytes = [0; 4];
                        for b in c.encode_utf8(&mut bytes).bytes() {
                            write!(f, "\\x{b:02x}")?;
                        }
                    }
                    Some(c) => f.write_char(c)?,
                    None => {}
                }
                text = rest.as_str();
            }
            for b in chunk.invalid() {
                write!(f, "\\x{b:02x}")?;
            }
        }
        Ok(())
    }
}

/// A rule as given on the command line, escaped: its section may hold
/// anything.
pub struct Shown<'a>(pub &'a Rule);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Terminal(self.0.to_string().as_bytes()).fmt(f)
    }
}

/// A name from outside the program (a file name, a path, an option's
/// value), kept as its bytes and shown through [`Terminal`]: `{name}` in
/// any message is safe, and a name that is not UTF-8 is shown exactly.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Name(Vec<u8>);

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Terminal(&self.0).fmt(f)
    }
}

impl From<&[u8]> for Name {
    fn from(bytes: &[u8]) -> Name {
        Name(bytes.to_vec())
    }
}

impl From<&str> for Name {
    fn from(s: &str) -> Name {
        Name::from(s.as_bytes())
    }
}

impl From<&OsStr> for Name {
    fn from(s: &OsStr) -> Name {
        Name::from(s.as_bytes())
    }
}

impl From<&Path> for Name {
    fn from(path: &Path) -> Name {
        Name::from(path.as_os_str())
    }
}

/// Characters never shown as themselves: C0 and C1 controls (escape
/// sequences to a terminal), format characters (text-direction overrides
/// and isolates, zero-width and other invisible characters, which make a
/// line read other than it is) and the line and paragraph separators.
fn hidden(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') || is_format(c)
}

/// General category Cf ("Format"), from the Unicode Character Database
/// 16.0.0, `extracted/DerivedGeneralCategory.txt`: 21 ranges, 170 code
/// points. Sorted, for a binary search; update it with new Unicode
/// versions (`grep '; Cf ' DerivedGeneralCategory.txt`).
const FORMAT: [(char, char); 21] = [
    ('\u{00ad}', '\u{00ad}'),
    ('\u{0600}', '\u{0605}'),
    ('\u{061c}', '\u{061c}'),
    ('\u{06dd}', '\u{06dd}'),
    ('\u{070f}', '\u{070f}'),
    ('\u{0890}', '\u{0891}'),
    ('\u{08e2}', '\u{08e2}'),
    ('\u{180e}', '\u{180e}'),
    ('\u{200b}', '\u{200f}'),
    ('\u{202a}', '\u{202e}'),
    ('\u{2060}', '\u{2064}'),
    ('\u{2066}', '\u{206f}'),
    ('\u{feff}', '\u{feff}'),
    ('\u{fff9}', '\u{fffb}'),
    ('\u{110bd}', '\u{110bd}'),
    ('\u{110cd}', '\u{110cd}'),
    ('\u{13430}', '\u{1343f}'),
    ('\u{1bca0}', '\u{1bca3}'),
    ('\u{1d173}', '\u{1d17a}'),
    ('\u{e0001}', '\u{e0001}'),
    ('\u{e0020}', '\u{e007f}'),
];

fn is_format(c: char) -> bool {
    // Everything below the first entry (ASCII above all) answers at once.
    c >= FORMAT[0].0
        && FORMAT
            .binary_search_by(|&(low, high)| {
                if high < c {
                    std::cmp::Ordering::Less
                } else if low > c {
                    std::cmp::Ordering::Greater
                } else {
                    std::cmp::Ordering::Equal
                }
            })
            .is_ok()
}

/// Appends `bytes` to `out` as a JSON string, quotes included.
///
/// JSON text must be UTF-8, so a byte that is not is written as the text
/// `\xNN`; for that text to mean only such a byte, a backslash in the
/// input is written as two. The decoded string is therefore the input
/// with backslashes doubled and invalid bytes as `\xNN`, exactly
/// reversible, so sections that differ in any byte stay apart (a raw 0xFF
/// byte is `"\\xff"`; the four characters `\xff`, as nginx logs such a
/// byte, are `"\\\\xff"`). Control and format characters are `\u`
/// escapes, which decode to the characters themselves.
pub fn json_string(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(b'"');
    // The usual string (a section, a client address) is printable ASCII
    // throughout: copied at once, without the pass that finds its UTF-8.
    // What follows a run of it starts at a character of its own.
    let run = plain_run(bytes, b'"');
    out.extend_from_slice(&bytes[..run]);
    for chunk in bytes[run..].utf8_chunks() {
        let mut text = chunk.valid();
        while !text.is_empty() {
            // A run of printable ASCII is copied at once.
            let run = plain_run(text.as_bytes(), b'"');
            out.extend_from_slice(&text.as_bytes()[..run]);
            let mut rest = text[run..].chars();
            let Some(c) = rest.next() else { break };
            text = rest.as_str();
            match c {
                '"' => out.extend_from_slice(b"\\\""),
                '\\' => out.extend_from_slice(b"\\\\\\\\"),
                '\n' => out.extend_from_slice(b"\\n"),
                '\r' => out.extend_from_slice(b"\\r"),
                '\t' => out.extend_from_slice(b"\\t"),
                c if hidden(c) => {
                    // Past U+FFFF, a \u escape is a UTF-16 surrogate pair.
                    for &mut unit in c.encode_utf16(&mut [0; 2]) {
                        push_hex(out, b"\\u", unit, 4);
                    }
                }
                c => {
                    let mut buf = [0; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
            }
        }
        for &b in chunk.invalid() {
            push_hex(out, b"\\\\x", u16::from(b), 2);
        }
    }
    out.push(b'"');
}

/// How many of the first `bytes` are printable ASCII other than a
/// backslash and `also` (a backslash again where nothing else is special):
/// characters the escapes here show as themselves, as none is a control
/// or format character.
fn plain_run(bytes: &[u8], also: u8) -> usize {
    bytes.iter().position(|&b| !(b' '..=b'~').contains(&b) || b == b'\\' || b == also).unwrap_or(bytes.len())
}

/// Appends `prefix`, then the low `digits` hex digits of `value`, in
/// lower case: written in place, not formatted into a new string.
fn push_hex(out: &mut Vec<u8>, prefix: &[u8], value: u16, digits: u32) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.extend_from_slice(prefix);
    for i in (0..digits).rev() {
        out.push(HEX[usize::from((value >> (4 * i)) & 0xf)]);
    }
}

/// Appends `text` as a Prometheus label value (text format 0.0.4), quotes
/// included: backslash, double quote and line feed are the format's only
/// escapes, and it needs nothing else.
pub fn prometheus_label(out: &mut Vec<u8>, text: &str) {
    out.push(b'"');
    for c in text.chars() {
        match c {
            '\\' => out.extend_from_slice(b"\\\\"),
            '"' => out.extend_from_slice(b"\\\""),
            '\n' => out.extend_from_slice(b"\\n"),
            c => {
                let mut buf = [0; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(bytes: &[u8]) -> String {
        let mut out = Vec::new();
        json_string(&mut out, bytes);
        String::from_utf8(out).expect("JSON output is UTF-8")
    }

    fn shown(s: &str) -> String {
        Terminal(s.as_bytes()).to_string()
    }

    #[test]
    fn terminal_escapes() {
        assert_eq!(Terminal(b"/api").to_string(), "/api");
        assert_eq!(shown("/café"), "/café");
        assert_eq!(Terminal(b"\x1b[31mred\x07").to_string(), "\\x1b[31mred\\x07");
        assert_eq!(Terminal(b"a\\x41").to_string(), "a\\\\x41");
        assert_eq!(Terminal(b"\xff\xfe\0").to_string(), "\\xff\\xfe\\x00");
        assert_eq!(shown("\u{9b}2J"), "\\xc2\\x9b2J");
        assert_eq!(Terminal(b"tab\there\r\n").to_string(), "tab\\x09here\\x0d\\x0a");
        assert_eq!(shown("a\u{202e}b"), "a\\xe2\\x80\\xaeb");
    }

    #[test]
    fn terminal_hides_format_characters_and_separators() {
        assert_eq!(shown("a\u{061c}b"), "a\\xd8\\x9cb");
        assert_eq!(shown("\u{feff}x"), "\\xef\\xbb\\xbfx");
        assert_eq!(shown("1\u{2028}2\u{2029}"), "1\\xe2\\x80\\xa82\\xe2\\x80\\xa9");
        assert_eq!(shown("\u{e0001}"), "\\xf3\\xa0\\x80\\x81");
        assert_eq!(shown("soft\u{ad}"), "soft\\xc2\\xad");
        // Visible neighbours of the table's entries pass.
        assert_eq!(shown("\u{ac}\u{ae}\u{2065}\u{fffc}"), "\u{ac}\u{ae}\u{2065}\u{fffc}");
    }

    #[test]
    fn format_table_is_sorted_and_complete() {
        assert!(FORMAT.windows(2).all(|w| w[0].1 < w[1].0));
        let count: u32 = FORMAT.iter().map(|&(low, high)| u32::from(high) - u32::from(low) + 1).sum();
        assert_eq!(count, 170);
        for (low, high) in FORMAT {
            assert!(is_format(low) && is_format(high), "{low:?}..{high:?}");
        }
        assert!(!is_format('a') && !is_format('\u{e0080}') && !is_format('\u{13440}'));
    }

    #[test]
    fn names_are_shown_escaped() {
        let name = Name::from(Path::new("evil\x1b]52;c;aGk=\x07.log"));
        assert_eq!(name.to_string(), "evil\\x1b]52;c;aGk=\\x07.log");
        assert_eq!(Name::from(OsStr::from_bytes(b"a\xffb")).to_string(), "a\\xffb");
        assert_eq!(format!("{}", Name::from("x\u{2066}")), "x\\xe2\\x81\\xa6");
    }

    #[test]
    fn json_escapes() {
        assert_eq!(json(b"/api"), r#""/api""#);
        assert_eq!(json(br#"a"b\c"#), r#""a\"b\\\\c""#);
        assert_eq!(json(b"\n\r\t\x01\x7f"), r#""\n\r\t\u0001\u007f""#);
        assert_eq!(json("é".as_bytes()), "\"é\"");
        assert_eq!(json("\u{9b}2J\u{202e}".as_bytes()), r#""\u009b2J\u202e""#);
        assert_eq!(json("\u{061c}\u{2028}\u{feff}".as_bytes()), r#""\u061c\u2028\ufeff""#);
        assert_eq!(json("\u{e0001}".as_bytes()), r#""\udb40\udc01""#);
    }

    /// Runs of plain text go out whole: any byte between two of them is
    /// escaped as it is alone.
    #[test]
    fn a_byte_within_plain_runs_is_escaped_as_alone() {
        for b in 0..=255u8 {
            let alone_json = json(&[b]);
            let alone_shown = Terminal(&[b]).to_string();
            let within = [b"ab~ ".as_slice(), &[b], b"! yz"].concat();
            assert_eq!(json(&within), format!("\"ab~ {}! yz\"", &alone_json[1..alone_json.len() - 1]), "{b:#x}");
            assert_eq!(Terminal(&within).to_string(), format!("ab~ {alone_shown}! yz"), "{b:#x}");
        }
    }

    #[test]
    fn json_keeps_invalid_bytes_apart_from_backslash_text() {
        assert_eq!(json(b"a\xffb\xc3"), r#""a\\xffb\\xc3""#);
        assert_eq!(json(b"a\\xffb"), r#""a\\\\xffb""#);
        assert_ne!(json(b"/\xff"), json(b"/\\xff"));
    }

    #[test]
    fn prometheus_label_escapes() {
        let mut out = Vec::new();
        prometheus_label(&mut out, "rate > 10 \"x\"\\\n é");
        assert_eq!(String::from_utf8(out).expect("UTF-8"), r#""rate > 10 \"x\"\\\n é""#);
    }
}
