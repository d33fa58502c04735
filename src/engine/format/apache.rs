//! Apache `LogFormat` strings: `%h`, `%>s`, `%{Referer}i` and the like
//! between literal text, with the backslash escapes mod_log_config reads.

use super::{Builder, CompileError, Dialect, Field, Pattern, Span, Stamp};
use crate::engine::timestamp::{Unit, Zone};

/// Compiles a `LogFormat` format, bare (`%h %l %u %t "%r" %>s %b`) or in
/// the double quotes of the configuration file (`"%h ... \"%r\" ..."`).
pub fn compile(text: &str) -> Result<Pattern, CompileError> {
    let trimmed = text.trim();
    let format = match trimmed.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
        Some(inner) if !inner.is_empty() => inner,
        _ => text,
    };
    let mut b = Builder::default();
    let mut rest = format;
    while let Some(special) = rest.find(['%', '\\']) {
        b.literal(&rest.as_bytes()[..special]);
        let after = &rest[special + 1..];
        let Some(next) = after.chars().next() else {
            return Err(CompileError::new("a format string cannot end in the middle of a code", &rest[special..]));
        };
        if rest[special..].starts_with('\\') {
            let mut buf = [0; 4];
            b.literal(match next {
                'n' => b"\n",
                't' => b"\t",
                c => c.encode_utf8(&mut buf).as_bytes(),
            });
            rest = &after[next.len_utf8()..];
            continue;
        }
        if next == '%' {
            b.literal(b"%");
            rest = &after[1..];
            continue;
        }
        let (code, len) = code(after).ok_or_else(|| CompileError::new("an unfinished % code", &rest[special..]))?;
        let shown = &rest[special..special + 1 + len];
        match field(code.argument, code.letter, shown)? {
            // `%t` writes its own brackets.
            Field::Time(stamp) if code.argument.is_none() => {
                b.literal(b"[");
                b.field(Field::Time(stamp), shown)?;
                b.literal(b"]");
            }
            f => b.field(f, shown)?,
        }
        rest = &after[len..];
    }
    b.literal(rest.as_bytes());
    b.finish(Dialect::Apache, text)
}

/// One `%` code: its `{argument}`, if any, and its letter.
struct Code<'a> {
    argument: Option<&'a str>,
    letter: char,
}

/// Reads the code after a `%`: optional `<` or `>`, status conditions
/// (`!200,304`), an optional `{argument}` and a letter (or `^` and two).
/// Returns it and the bytes it took.
fn code(s: &str) -> Option<(Code<'_>, usize)> {
    let mut at = s.find(|c: char| !matches!(c, '<' | '>' | '!' | ',' | '0'..='9')).unwrap_or(s.len());
    let mut argument = None;
    if s[at..].starts_with('{') {
        let end = at + s[at..].find('}')?;
        argument = Some(&s[at + 1..end]);
        at = end + 1;
    }
    at += s[at..].find(|c: char| !matches!(c, '<' | '>')).unwrap_or(s.len() - at);
    if s[at..].starts_with('^') {
        // `%^ti`, `%^to`: trailers, read as opaque.
        let letters = s.get(at + 1..at + 3)?;
        return letters.chars().all(|c| c.is_ascii_alphabetic()).then_some((Code { argument, letter: '^' }, at + 3));
    }
    let letter = s[at..].chars().next().filter(char::is_ascii_alphabetic)?;
    Some((Code { argument, letter }, at + 1))
}

/// What logmon reads from a code: `letter` with its `{argument}`.
fn field(argument: Option<&str>, letter: char, shown: &str) -> Result<Field, CompileError> {
    Ok(match (letter, argument) {
        ('h' | 'a', _) => Field::Client,
        ('t', None) => Field::Time(Stamp::Clf(Zone::Required)),
        ('t', Some(format)) => {
            time(format).ok_or_else(|| CompileError::new("a time format logmon cannot read", shown))?
        }
        ('r', _) => Field::Request,
        ('m', _) => Field::Method,
        ('U', _) => Field::Target,
        ('q', _) => Field::Query,
        ('s', _) => Field::Status,
        ('b' | 'B' | 'O', _) => Field::Bytes,
        ('D', _) => Field::Latency(Span::Micros),
        ('T', None | Some("s")) => Field::Latency(Span::Seconds),
        ('T', Some("ms")) => Field::Latency(Span::Millis),
        ('T', Some("us")) => Field::Latency(Span::Micros),
        ('v' | 'V', _) => Field::Host,
        ('i', Some(header)) if header.eq_ignore_ascii_case("host") => Field::Host,
        _ => Field::Opaque,
    })
}

/// The field a `%{format}t` writes: `sec`, `msec`, `usec`, the fraction
/// codes (opaque), or a strftime format of the CLF or ISO 8601 kind,
/// optionally after `begin:` or `end:`.
fn time(format: &str) -> Option<Field> {
    let format = format.strip_prefix("begin:").or_else(|| format.strip_prefix("end:")).unwrap_or(format);
    Some(match format {
        "sec" => Field::Time(Stamp::Unix(Unit::Seconds)),
        "msec" => Field::Time(Stamp::Unix(Unit::Millis)),
        "usec" => Field::Time(Stamp::Unix(Unit::Micros)),
        "msec_frac" | "usec_frac" => Field::Opaque,
        // A zone alone goes with a time written without one, which is then
        // read as UTC.
        "%z" | "%Z" => Field::Opaque,
        f if f.contains("%b") && f.contains("%H") => Field::Time(Stamp::Clf(Zone::Optional)),
        f if (f.contains("%Y-%m-%d") || f.starts_with("%F")) && (f.contains("%H") || f.contains("%T")) => {
            Field::Time(Stamp::Iso8601)
        }
        _ => return None,
    })
}
