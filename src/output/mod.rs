//! Writers: events to stdout as text or JSON lines. They only format; what
//! to say comes from the engine.

pub mod escape;
pub mod json;
pub mod metrics;
pub mod text;
pub mod trouble;
pub mod whole;

use std::fmt;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};

use time::OffsetDateTime;

use crate::engine::Event;
use crate::engine::timestamp::Epoch;
use crate::error::Error;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

/// How much of the run is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verbosity {
    /// Reports, alerts and the summary.
    Normal,
    /// Alerts and the summary.
    Quiet,
    /// The summary alone.
    Summary,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Style {
    pub format: Format,
    pub verbosity: Verbosity,
    /// ANSI colours (text only; the caller decides from the terminal).
    pub color: bool,
}

/// Standard output, refused if it was closed at start (`logmon >&-`):
/// writing into nothing would discard the whole run with status 0.
pub fn stdout() -> Result<io::StdoutLock<'static>, Error> {
    if STDOUT_CLOSED_AT_START.load(Ordering::Relaxed) {
        return Err(Error::Output(io::Error::from_raw_os_error(libc::EBADF)));
    }
    Ok(io::stdout().lock())
}

/// Whether descriptor 1 was closed when the program started. Before `main`,
/// the standard library opens /dev/null in place of a closed stdout, so by
/// then it cannot be told; [`LOOK_AT_STDOUT`] looks earlier.
static STDOUT_CLOSED_AT_START: AtomicBool = AtomicBool::new(false);

/// Run by the C library with the program's other ELF constructors, after
/// its own start-up and before the standard library's.
#[cfg(target_os = "linux")]
#[used]
#[unsafe(link_section = ".init_array")]
static LOOK_AT_STDOUT: extern "C" fn() = {
    extern "C" fn look() {
        // SAFETY: F_GETFD only asks whether descriptor 1 is open.
        let closed = unsafe { libc::fcntl(1, libc::F_GETFD) } == -1;
        STDOUT_CLOSED_AT_START.store(closed, Ordering::Relaxed);
    }
    look
};

/// Writes events to `W`, one write and one flush per event, so a reader
/// sees each as soon as it happens.
pub struct Output<W: Write> {
    out: W,
    style: Style,
    buf: Vec<u8>,
    /// Said under every report while it lasts.
    troubles: trouble::Troubles,
}

impl<W: Write> Output<W> {
    pub fn new(out: W, style: Style) -> Output<W> {
        Output { out, style, buf: Vec::with_capacity(4096), troubles: trouble::Troubles::default() }
    }

    /// The inputs in trouble, said under every report.
    pub fn troubles_mut(&mut self) -> &mut trouble::Troubles {
        &mut self.troubles
    }

    /// Whether reports are shown: not under `--quiet` or `--summary`.
    /// [`Monitor::needs_reports`](crate::monitor::Monitor::needs_reports)
    /// asks, so that none is made only to be dropped here.
    pub fn wants_reports(&self) -> bool {
        self.style.verbosity == Verbosity::Normal
    }

    pub fn event(&mut self, event: &Event) -> Result<(), Error> {
        let wanted = match event {
            Event::Report(_) => self.wants_reports(),
            Event::Alert(_) => self.style.verbosity != Verbosity::Summary,
            Event::Summary(_) => true,
        };
        if !wanted {
            return Ok(());
        }
        self.buf.clear();
        match self.style.format {
            Format::Text => text::event(&mut self.buf, event, self.style.color),
            Format::Json => json::event(&mut self.buf, event),
        }
        .map_err(Error::output)?;
        if let Event::Report(report) = event {
            self.troubles.append(&mut self.buf, self.style.format, report.end);
        }
        let _whole = whole::Writing::begin();
        self.out.write_all(&self.buf).and_then(|()| self.out.flush()).map_err(Error::output)
    }
}

/// `2019-02-07 21:12:36+00:00`, the stamp that starts every text line.
pub struct Stamp(pub Epoch);

/// `2019-02-07T21:12:36Z`, RFC 3339 for JSON.
pub struct Rfc3339(pub Epoch);

/// `21:12:36`, within a report's own line.
pub struct TimeOfDay(pub Epoch);

fn civil(t: Epoch) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp(t).ok()
}

/// `t` as `YYYY-MM-DD<between>HH:MM:SS<zone>`. Times past
/// [`LAST_SHOWN`](crate::engine::timestamp::LAST_SHOWN) cannot be written
/// so; the parser refuses timestamps that could lead to one, and should
/// one come anyway, it is shown as `@t` rather than stopping the run.
fn write_date_time(f: &mut fmt::Formatter<'_>, t: Epoch, between: u8, zone: &str) -> fmt::Result {
    let Some(d) = civil(t) else { return write!(f, "@{t}") };
    match date_time(d, between) {
        Some(text) => {
            write_ascii(f, &text)?;
            f.write_str(zone)
        }
        None => write!(
            f,
            "{:04}-{:02}-{:02}{}{:02}:{:02}:{:02}{zone}",
            d.year(),
            u8::from(d.month()),
            d.day(),
            char::from(between),
            d.hour(),
            d.minute(),
            d.second()
        ),
    }
}

/// `d` as `YYYY-MM-DD<between>HH:MM:SS`, in years 0 to 9999: written
/// digit by digit, as formatting six padded numbers cost more than the
/// rest of a report's line.
fn date_time(d: OffsetDateTime, between: u8) -> Option<[u8; 19]> {
    if !(0..=9999).contains(&d.year()) {
        return None;
    }
    let mut text = *b"YYYY-MM-DD HH:MM:SS";
    digits(&mut text[0..4], d.year().unsigned_abs());
    digits(&mut text[5..7], u8::from(d.month()).into());
    digits(&mut text[8..10], d.day().into());
    text[10] = between;
    digits(&mut text[11..13], d.hour().into());
    digits(&mut text[14..16], d.minute().into());
    digits(&mut text[17..19], d.second().into());
    Some(text)
}

/// Writes `text`, ASCII put together in place, to a formatter.
fn write_ascii(f: &mut fmt::Formatter<'_>, text: &[u8]) -> fmt::Result {
    f.write_str(std::str::from_utf8(text).map_err(|_| fmt::Error)?)
}

/// Appends `t` as [`Rfc3339`] shows it.
pub fn push_rfc3339(out: &mut Vec<u8>, t: Epoch) {
    match civil(t).and_then(|d| date_time(d, b'T')) {
        Some(text) => {
            out.extend_from_slice(&text);
            out.push(b'Z');
        }
        None => out.extend_from_slice(Rfc3339(t).to_string().as_bytes()),
    }
}

/// Writes the low decimal digits of `n` into `to`, zero-padded to its
/// length.
fn digits(to: &mut [u8], mut n: u32) {
    for digit in to.iter_mut().rev() {
        *digit = b'0' + (n % 10) as u8;
        n /= 10;
    }
}

impl fmt::Display for Stamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_date_time(f, self.0, b' ', "+00:00")
    }
}

impl fmt::Display for Rfc3339 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_date_time(f, self.0, b'T', "Z")
    }
}

impl fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match civil(self.0) {
            Some(d) => {
                let mut text = *b"HH:MM:SS";
                digits(&mut text[0..2], d.hour().into());
                digits(&mut text[3..5], d.minute().into());
                digits(&mut text[6..8], d.second().into());
                write_ascii(f, &text)
            }
            None => write!(f, "@{}", self.0),
        }
    }
}

/// Appends `n` in decimal, written in place rather than formatted: its
/// digits at the front of 20 bytes, all 20 appended (a copy of a known
/// size, a few moves, not a call of memcpy), then the bytes past its digits
/// cut off again.
pub fn push_decimal(out: &mut Vec<u8>, mut n: u64) {
    let mut text = [0; 20];
    let width = decimal_width(n);
    for at in (0..width).rev() {
        text[at] = b'0' + (n % 10) as u8;
        n /= 10;
    }
    let end = out.len() + width;
    out.extend_from_slice(&text);
    out.truncate(end);
}

/// Appends `x` with `places` decimals (at most 4), right-aligned in
/// `width` characters, exactly as `{x:width$.places$}` formats it: the
/// binary value of `x` rounded half to even. Written in place; a value
/// negative, not finite or from 2^64 on is formatted.
pub fn push_fixed(out: &mut Vec<u8>, x: f64, places: u32, width: usize) {
    let Some(scaled) = scaled(x, places) else {
        let _ = write!(out, "{x:width$.prec$}", prec = places as usize);
        return;
    };
    let scale = 10u128.pow(places);
    let whole = u64::try_from(scaled / scale).unwrap_or(u64::MAX);
    let shown = decimal_width(whole) + if places > 0 { 1 + places as usize } else { 0 };
    out.resize(out.len() + width.saturating_sub(shown), b' ');
    push_decimal(out, whole);
    if places > 0 {
        out.push(b'.');
        let mut decimals = [b'0'; 4];
        digits(&mut decimals[..places as usize], (scaled % scale) as u32);
        out.extend_from_slice(&decimals[..places as usize]);
    }
}

/// `x` times `10^places` (at most 4), rounded half to even as the standard
/// library's exact formatting rounds: `None` when `x` is negative (-0.0
/// too), not finite, or 2^64 or more.
fn scaled(x: f64, places: u32) -> Option<u128> {
    if !(x.is_sign_positive() && x < 18_446_744_073_709_551_616.0) || places > 4 {
        return None;
    }
    // x = mantissa * 2^exponent, exactly.
    let bits = x.to_bits();
    let biased = (bits >> 52) as i32;
    let fraction = bits & ((1 << 52) - 1);
    let (mantissa, exponent) = if biased == 0 { (fraction, -1074) } else { (fraction | 1 << 52, biased - 1075) };
    // Below 2^67: shifted left by at most 11 (x < 2^64), it stays in range.
    let value = u128::from(mantissa) * 10u128.pow(places);
    if exponent >= 0 {
        return Some(value << exponent);
    }
    let shift = exponent.unsigned_abs();
    if shift >= 68 {
        // Below half of one unit: zero.
        return Some(0);
    }
    let (whole, rest, half) = (value >> shift, value & ((1 << shift) - 1), 1 << (shift - 1));
    Some(if rest > half || (rest == half && whole % 2 == 1) { whole + 1 } else { whole })
}

/// How many digits `n` has in decimal.
pub fn decimal_width(n: u64) -> usize {
    n.checked_ilog10().map_or(1, |log| log as usize + 1)
}

/// `1 hit`, `2 hits`: a count and its noun, plural unless the count is 1.
pub struct Count<'a>(pub u64, pub &'a str);

impl fmt::Display for Count<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Count(n, noun) = *self;
        write!(f, "{n} {noun}{}", if n == 1 { "" } else { "s" })
    }
}

/// A length of time the way people say it: `45s`, `1m27s`, `2h05m`, `3d04h`.
pub struct Duration(pub i64);

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0.max(0);
        match s {
            0..60 => write!(f, "{s}s"),
            60..3600 if s % 60 == 0 => write!(f, "{}m", s / 60),
            60..3600 => write!(f, "{}m{:02}s", s / 60, s % 60),
            3600..86_400 => write!(f, "{}h{:02}m", s / 3600, s % 3600 / 60),
            _ => write!(f, "{}d{:02}h", s / 86_400, s % 86_400 / 3600),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::timestamp::LAST_SHOWN;

    #[test]
    fn time_formats() {
        let t = 1_549_573_956;
        assert_eq!(Stamp(t).to_string(), "2019-02-07 21:12:36+00:00");
        assert_eq!(Rfc3339(t).to_string(), "2019-02-07T21:12:36Z");
        assert_eq!(TimeOfDay(t).to_string(), "21:12:36");
        assert_eq!(Rfc3339(LAST_SHOWN).to_string(), "9999-12-31T23:59:59Z");
        assert_eq!(Stamp(i64::MAX).to_string(), format!("@{}", i64::MAX));
    }

    /// The digits written one by one read as the padded numbers did, in
    /// every year shown so, and years outside 0 to 9999 keep the format.
    #[test]
    fn times_are_padded_in_every_year() {
        let padded = |t: Epoch| {
            let d = civil(t).expect("in range");
            let date = format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day());
            let time = format!("{:02}:{:02}:{:02}", d.hour(), d.minute(), d.second());
            (format!("{date} {time}+00:00"), format!("{date}T{time}Z"), time)
        };
        let year_one = -62_135_596_800;
        for t in [0, 59, 3_599, 86_399, 951_782_400, -1, year_one, year_one - 1, year_one - 86_400 * 400, LAST_SHOWN] {
            let (stamp, rfc3339, time) = padded(t);
            assert_eq!(
                (Stamp(t).to_string(), Rfc3339(t).to_string(), TimeOfDay(t).to_string()),
                (stamp, rfc3339, time)
            );
            let mut pushed = Vec::new();
            push_rfc3339(&mut pushed, t);
            assert_eq!(pushed, Rfc3339(t).to_string().into_bytes());
        }
        assert_eq!(Rfc3339(year_one + 86_400 * (365 * 9 + 2)).to_string(), "0010-01-01T00:00:00Z");
        let mut pushed = Vec::new();
        push_rfc3339(&mut pushed, i64::MAX);
        assert_eq!(pushed, format!("@{}", i64::MAX).into_bytes());
    }

    #[test]
    fn decimals_are_written_in_place() {
        for n in [0, 7, 10, 99, 100, 12_345, u64::MAX / 10, u64::MAX] {
            let mut out = b"x".to_vec();
            push_decimal(&mut out, n);
            assert_eq!(out, format!("x{n}").into_bytes());
            assert_eq!(decimal_width(n), n.to_string().len());
        }
    }

    /// Fixed decimals read as the standard library's: shares and rates of
    /// counts, values exactly half way (rounded to even), and the edges.
    #[test]
    fn fixed_decimals_match_the_standard_format() {
        let check = |x: f64, places: u32, width: usize| {
            let mut out = b"|".to_vec();
            push_fixed(&mut out, x, places, width);
            let expected = format!("|{x:width$.prec$}", prec = places as usize);
            assert_eq!(String::from_utf8(out).expect("UTF-8"), expected, "{x:e} {places} {width}");
        };
        // xorshift64: any spread of numbers serves.
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..20_000 {
            let (hits, all) = (next() % 5_000, 1 + next() % 5_000);
            check(100.0 * hits as f64 / all as f64, 1, 5);
            check(hits as f64 / all as f64, 2, 0);
            check(f64::from_bits(next()), (next() % 5) as u32, (next() % 8) as usize);
            check((next() % 1_000_000_000) as f64 / 1024.0, (next() % 5) as u32, 0);
        }
        let halves = [0.25, 0.75, 2.5, 3.5, 12.25, 0.125, 0.375, 99.95, 0.05, 0.15, 1e-300, 5e-324];
        for x in halves.into_iter().chain([
            0.0,
            -0.0,
            -1.5,
            f64::NAN,
            f64::INFINITY,
            1e19,
            18_446_744_073_709_549_568.0,
            1e20,
        ]) {
            for places in 0..=4 {
                check(x, places, 5);
            }
        }
    }

    #[test]
    fn counts() {
        assert_eq!(Count(0, "hit").to_string(), "0 hits");
        assert_eq!(Count(1, "hit").to_string(), "1 hit");
        assert_eq!(Count(2, "line").to_string(), "2 lines");
    }

    #[test]
    fn durations() {
        let d = |s| Duration(s).to_string();
        assert_eq!(d(0), "0s");
        assert_eq!(d(59), "59s");
        assert_eq!(d(60), "1m");
        assert_eq!(d(87), "1m27s");
        assert_eq!(d(3600), "1h00m");
        assert_eq!(d(7500), "2h05m");
        assert_eq!(d(90_000), "1d01h");
        assert_eq!(d(-5), "0s");
    }
}
