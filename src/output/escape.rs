//! Log bytes made safe to show: on a terminal (no control sequence or
//! text-direction override gets through) and inside JSON strings (valid
//! UTF-8, with distinct bytes kept distinct).

use std::fmt::{self, Write as _};

/// Shows bytes as text, with control characters, backslashes and invalid
/// UTF-8 written as `\xNN` escapes.
pub struct Terminal<'a>(pub &'a [u8]);

impl fmt::Display for Terminal<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for chunk in self.0.utf8_chunks() {
            for c in chunk.valid().chars() {
                // C1 controls (U+0080..U+009F) are escape sequences to some
                // terminals, like their C0 cousins.
                if c.is_control() || c == '\\' || reorders(c) {
                    let mut bytes = [0; 4];
                    for b in c.encode_utf8(&mut bytes).bytes() {
                        if b == b'\\' {
                            f.write_str("\\\\")?;
                        } else {
                            write!(f, "\\x{b:02x}")?;
                        }
                    }
                } else {
                    f.write_char(c)?;
                }
            }
            for b in chunk.invalid() {
                write!(f, "\\x{b:02x}")?;
            }
        }
        Ok(())
    }
}

/// Characters that reorder the text around them on display (bidirectional
/// overrides and isolates): a log line could make a report read wrongly.
fn reorders(c: char) -> bool {
    matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Appends `bytes` to `out` as a JSON string, quotes included. JSON text
/// must be UTF-8, so an invalid byte is written as the four characters
/// `\xNN`: sections that differ only in such bytes stay apart.
pub fn json_string(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(b'"');
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '"' => out.extend_from_slice(b"\\\""),
                '\\' => out.extend_from_slice(b"\\\\"),
                '\n' => out.extend_from_slice(b"\\n"),
                '\r' => out.extend_from_slice(b"\\r"),
                '\t' => out.extend_from_slice(b"\\t"),
                c if c.is_control() || reorders(c) => {
                    out.extend_from_slice(format!("\\u{:04x}", u32::from(c)).as_bytes());
                }
                c => {
                    let mut buf = [0; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
            }
        }
        for b in chunk.invalid() {
            out.extend_from_slice(format!("\\\\x{b:02x}").as_bytes());
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

    #[test]
    fn terminal_escapes() {
        assert_eq!(Terminal(b"/api").to_string(), "/api");
        assert_eq!(Terminal("/café".as_bytes()).to_string(), "/café");
        assert_eq!(Terminal(b"\x1b[31mred\x07").to_string(), "\\x1b[31mred\\x07");
        assert_eq!(Terminal(b"a\\x41").to_string(), "a\\\\x41");
        assert_eq!(Terminal(b"\xff\xfe\0").to_string(), "\\xff\\xfe\\x00");
        assert_eq!(Terminal("\u{9b}2J".as_bytes()).to_string(), "\\xc2\\x9b2J");
        assert_eq!(Terminal(b"tab\there\r\n").to_string(), "tab\\x09here\\x0d\\x0a");
        assert_eq!(Terminal("a\u{202e}b".as_bytes()).to_string(), "a\\xe2\\x80\\xaeb");
    }

    #[test]
    fn json_escapes() {
        assert_eq!(json(b"/api"), r#""/api""#);
        assert_eq!(json(br#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(json(b"\n\r\t\x01\x7f"), r#""\n\r\t\u0001\u007f""#);
        assert_eq!(json("é".as_bytes()), "\"é\"");
        assert_eq!(json(b"a\xffb\xc3"), r#""a\\xffb\\xc3""#);
        assert_eq!(json("\u{9b}2J\u{202e}".as_bytes()), r#""\u009b2J\u202e""#);
    }
}
