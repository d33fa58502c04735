//! nginx `log_format` strings: `$variable` and `${variable}` between
//! literal text, given bare or quoted as in nginx's configuration.

use super::{Builder, CompileError, Dialect, Field, Pattern, Span, Stamp};
use crate::engine::timestamp::{Unit, Zone};

/// Compiles the text of a `log_format` directive's format: either the
/// format itself or nginx's quoted strings (`'...' '...'`), which nginx
/// joins into one.
pub fn compile(text: &str) -> Result<Pattern, CompileError> {
    let format = unquote(text)?;
    let mut b = Builder::default();
    let mut rest = format.as_str();
    while let Some(dollar) = rest.find('$') {
        b.literal(&rest.as_bytes()[..dollar]);
        let after = &rest[dollar + 1..];
        let (name, len) = match after.strip_prefix('{') {
            Some(braced) => {
                let end = braced.find('}').ok_or_else(|| CompileError::new("unclosed ${", &rest[dollar..]))?;
                (&braced[..end], end + 2)
            }
            None => {
                let end = after.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(after.len());
                (&after[..end], end)
            }
        };
        let shown = &rest[dollar..dollar + 1 + len];
        if name.is_empty() || !name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_') {
            return Err(CompileError::new("a $ that names no variable", shown));
        }
        b.field(field(name), shown)?;
        rest = &after[len..];
    }
    b.literal(rest.as_bytes());
    b.finish(Dialect::Nginx, text)
}

/// What logmon reads from nginx variable `name`.
fn field(name: &str) -> Field {
    match name {
        "remote_addr" | "binary_remote_addr" | "realip_remote_addr" => Field::Client,
        "time_local" => Field::Time(Stamp::Clf(Zone::Required)),
        "time_iso8601" => Field::Time(Stamp::Iso8601),
        "msec" => Field::Time(Stamp::Unix(Unit::Seconds)),
        "request" => Field::Request,
        "request_method" => Field::Method,
        "request_uri" | "uri" | "document_uri" => Field::Target,
        "is_args" | "args" | "query_string" => Field::Query,
        "status" => Field::Status,
        "body_bytes_sent" | "bytes_sent" => Field::Bytes,
        "request_time" => Field::Latency(Span::Seconds),
        "upstream_response_time" => Field::UpstreamLatency,
        "host" | "server_name" | "http_host" => Field::Host,
        _ => Field::Opaque,
    }
}

/// The format inside nginx quotes, or the text as it is if it is not
/// quoted. Within quotes a backslash keeps the next character.
fn unquote(text: &str) -> Result<String, CompileError> {
    let trimmed = text.trim().trim_end_matches(';').trim_end();
    if !trimmed.starts_with(['\'', '"']) {
        return Ok(text.to_owned());
    }
    let mut out = String::new();
    let mut chars = trimmed.char_indices().peekable();
    while let Some((start, quote)) = chars.next() {
        if quote.is_whitespace() {
            continue;
        }
        if quote != '\'' && quote != '"' {
            return Err(CompileError::new("text outside the quoted strings", &trimmed[start..]));
        }
        loop {
            match chars.next() {
                None => return Err(CompileError::new("unclosed quote", &trimmed[start..])),
                Some((_, c)) if c == quote => break,
                Some((_, '\\')) => match chars.next() {
                    Some((_, c)) => out.push(c),
                    None => return Err(CompileError::new("unclosed quote", &trimmed[start..])),
                },
                Some((_, c)) => out.push(c),
            }
        }
    }
    Ok(out)
}
