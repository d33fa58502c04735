//! Log timestamps turned into UTC epoch seconds without allocating: the CLF
//! `10/Oct/2000:13:55:36 -0700` form (cached per minute, and its variants),
//! ISO 8601 (cached per minute and zone), W3C `date time` (cached per day)
//! and unix seconds. A fraction of a second is read and dropped: a line
//! counts in the whole second it falls in.

use time::{Date, Month};

/// Seconds since the epoch, UTC. Everything in the engine counts in these.
pub type Epoch = i64;

/// The last second RFC 3339 can write, with its four-digit year:
/// 9999-12-31T23:59:59Z.
pub const LAST_SHOWN: Epoch = 253_402_300_799;

/// The last second a timestamp may name: 9999-12-30T23:59:59Z, a day
/// before [`LAST_SHOWN`]. A report ends at most one interval (24 h at the
/// most) after the hits it holds, and every time shown must be RFC 3339,
/// so later timestamps are refused as they are parsed.
pub const MAX_EPOCH: Epoch = LAST_SHOWN - 86_400;

/// Length of `10/Oct/2000:13:55:36 -0700`.
pub const CLF_LEN: usize = 26;

/// Julian day number of 1970-01-01.
const UNIX_EPOCH_JULIAN_DAY: i64 = 2_440_588;

/// Converts CLF timestamps, remembering the last minute seen.
///
/// Lines of a busy log share their second, or at least their minute, and
/// almost always their day and zone, even when a few arrive out of order:
/// the last timestamp again is one comparison of its bytes; another second
/// of the last minute is a comparison of all but the seconds' two digits,
/// which are then added; another minute of the same day leaves the hour and
/// minute to read.
#[derive(Debug)]
pub struct ClfClock {
    /// The last timestamp converted, and its value.
    stamp: [u8; CLF_LEN],
    epoch: Epoch,
    /// `dd/Mon/yyyy:HH:MM:` and the zone of the last timestamp converted,
    /// as they appeared (see [`minute_key`]).
    minute_key: [u64; 3],
    /// Epoch of the start of that minute.
    minute: Epoch,
    /// How many of its seconds (61, with a leap second) the cache serves:
    /// none until a timestamp has been converted, nor of a minute that is
    /// not wholly in range.
    seconds: u8,
    /// `dd/Mon/yyyy` followed by `+zzzz`, as they appeared in the line.
    day_key: [u8; 16],
    /// Epoch of that day's local midnight, already shifted to UTC.
    midnight: Epoch,
}

impl Default for ClfClock {
    /// No timestamp converted yet: a stamp and a day of newlines, which no
    /// line holds (lines end there), so that neither is ever the cached
    /// one, and no second of a minute served. A flag saying so cost its
    /// check on every cached line: with it, a detected combined line took
    /// 516.3 instructions, not 512.4, the nginx string 574.1, not 570.1.
    fn default() -> Self {
        ClfClock {
            stamp: [b'\n'; CLF_LEN],
            epoch: 0,
            minute_key: [0; 3],
            minute: 0,
            seconds: 0,
            day_key: [b'\n'; 16],
            midnight: 0,
        }
    }
}

/// The bytes of a CLF timestamp that name its minute and zone, as three
/// words: all but the two digits of seconds (bytes 18 and 19).
#[inline(always)]
fn minute_key(s: &[u8; CLF_LEN]) -> [u64; 3] {
    let word = |at: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&s[at..at + 8]);
        u64::from_le_bytes(w)
    };
    // Bytes 16..24 are `M:SS +zz`: the zone's last two bytes take the
    // place of the seconds, its third and fourth.
    const SECONDS: u64 = 0xffff_0000;
    let zone_end = u64::from(u16::from_le_bytes([s[24], s[25]])) << 16;
    [word(0), word(8), (word(16) & !SECONDS) | zone_end]
}

impl ClfClock {
    /// Parses exactly [`CLF_LEN`] bytes: `dd/Mon/yyyy:HH:MM:SS +zzzz`.
    #[inline(always)]
    pub fn parse(&mut self, s: &[u8]) -> Option<Epoch> {
        let s: &[u8; CLF_LEN] = s.try_into().ok()?;
        // The cached second's epoch read on either way, not a value
        // returned on each: the usual cached line then merges no result.
        if *s != self.stamp {
            self.parse_second(s)?;
        }
        Some(self.epoch)
    }

    /// Parses a timestamp of another second than the last one into the
    /// cache (`stamp` and `epoch`).
    #[inline(never)]
    fn parse_second(&mut self, s: &[u8; CLF_LEN]) -> Option<()> {
        let key = minute_key(s);
        let second = two_digits(s[18], s[19])?;
        let t = if second < self.seconds && key == self.minute_key {
            self.minute + Epoch::from(second)
        } else {
            self.parse_minute(s, key, second)?
        };
        self.stamp = *s;
        self.epoch = t;
        Some(())
    }

    /// Parses a timestamp of another minute than the last one.
    #[inline(never)]
    fn parse_minute(&mut self, s: &[u8; CLF_LEN], key: [u64; 3], second: u8) -> Option<Epoch> {
        // 60 is a leap second; it is counted in the next minute's first second.
        if second > 60 {
            return None;
        }
        if s[2] != b'/' || s[6] != b'/' || s[11] != b':' || s[14] != b':' || s[17] != b':' || s[20] != b' ' {
            return None;
        }
        let hour = two_digits(s[12], s[13])?;
        let minute = two_digits(s[15], s[16])?;
        if hour > 23 || minute > 59 {
            return None;
        }
        let mut day_key = [0u8; 16];
        day_key[..11].copy_from_slice(&s[..11]);
        day_key[11..].copy_from_slice(&s[21..]);
        if day_key != self.day_key {
            self.midnight = midnight(s)?;
            self.day_key = day_key;
        }
        let start = self.midnight + Epoch::from(hour) * 3600 + Epoch::from(minute) * 60;
        let t = in_range(start + Epoch::from(second))?;
        self.minute_key = key;
        self.minute = start;
        // Only a minute wholly in range is served from the cache.
        self.seconds = if (0..=MAX_EPOCH - 60).contains(&start) { 61 } else { 0 };
        Some(t)
    }
}

/// Converts W3C `date` and `time` columns (`2018-01-01`, `08:09:10`, UTC),
/// remembering the last date's midnight: the lines of a day only have
/// their time of day read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DayClock {
    /// The last date converted, and its midnight.
    date: [u8; 10],
    midnight: Epoch,
    /// Whether the fields above hold a converted date yet.
    valid: bool,
}

impl DayClock {
    /// The instant of `date` and `time`: read as ISO 8601 `dateTtime`.
    #[inline]
    pub fn parse(&mut self, date: &[u8], time: &[u8]) -> Option<Epoch> {
        if self.valid
            && date == self.date
            && let Some(seconds) = time_of_day(time)
        {
            return in_range(self.midnight + seconds);
        }
        let t = joined_iso8601(date, time)?;
        if let Ok(date) = date.try_into()
            && let Some(seconds) = time_of_day(time)
        {
            self.date = date;
            self.midnight = t - seconds;
            self.valid = true;
        }
        Some(t)
    }
}

/// `HH:MM:SS` as seconds into the day, as [`parse_iso8601`] reads it (a
/// leap second counts in the next minute's first second); `None` for any
/// other form, which that reads.
#[inline]
fn time_of_day(s: &[u8]) -> Option<Epoch> {
    let &[h1, h2, b':', m1, m2, b':', s1, s2] = s else { return None };
    let (hour, minute, second) = (two_digits(h1, h2)?, two_digits(m1, m2)?, two_digits(s1, s2)?);
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    Some(Epoch::from(hour) * 3600 + Epoch::from(minute) * 60 + Epoch::from(second))
}

/// `date` and `time` joined by a `T` and read as ISO 8601.
fn joined_iso8601(date: &[u8], time: &[u8]) -> Option<Epoch> {
    let mut stamp = [0u8; 40];
    let len = date.len() + 1 + time.len();
    let joined = stamp.get_mut(..len)?;
    joined[..date.len()].copy_from_slice(date);
    joined[date.len()] = b'T';
    joined[date.len() + 1..].copy_from_slice(time);
    parse_iso8601(joined)
}

/// Converts ISO 8601 times, remembering the last minute and zone seen as
/// they appeared (`2019-02-07T21:11` and `Z`, `+01:00` or nothing): a time
/// of that minute and zone, most often the next line's, has only its
/// seconds read. Out-of-order lines of the same minute hit too.
#[derive(Clone, Copy, Debug, Default)]
pub struct IsoClock {
    minute: Option<IsoMinute>,
}

/// An ISO 8601 minute as it appeared: its first 16 bytes and the zone after
/// the seconds and their fraction.
#[derive(Clone, Copy, Debug)]
struct IsoMinute {
    head: [u8; 16],
    zone: [u8; ZONE],
    zone_len: usize,
    /// The time of the minute's first second.
    start: Epoch,
}

/// The longest zone an ISO 8601 time has: `+hh:mm`.
const ZONE: usize = 6;

impl IsoClock {
    /// The time of `s` if it is an ISO 8601 time in the minute and zone of
    /// the last one converted: [`parse_iso8601`] reads the same bytes the
    /// same way, so only the seconds are left to check.
    #[inline(always)]
    pub fn cached(&self, s: &[u8]) -> Option<Epoch> {
        let minute = self.minute.as_ref()?;
        let (head, second, zone) = iso_parts(s)?;
        (*head == minute.head && zone == &minute.zone[..minute.zone_len] && second <= 60)
            .then(|| minute.start + Epoch::from(second))
    }

    /// Reads `s` as [`parse_iso8601`] does, and keeps its minute and zone.
    pub fn parse(&mut self, s: &[u8]) -> Option<Epoch> {
        let t = parse_iso8601(s)?;
        self.keep(s, t);
        Some(t)
    }

    /// Keeps the minute and zone of `s`, an ISO 8601 time read as `t`, if
    /// every second of that minute (60 included, a leap second) is in range.
    fn keep(&mut self, s: &[u8], t: Epoch) {
        let Some((head, second, zone)) = iso_parts(s) else { return };
        let start = t - Epoch::from(second);
        if zone.len() <= ZONE && (0..=MAX_EPOCH - 60).contains(&start) {
            let mut kept = [0; ZONE];
            kept[..zone.len()].copy_from_slice(zone);
            self.minute = Some(IsoMinute { head: *head, zone: kept, zone_len: zone.len(), start });
        }
    }
}

/// An ISO 8601 time cut at fixed places, as [`parse_iso8601`] reads it:
/// its first 16 bytes (`2019-02-07T21:11`), the two digits of seconds
/// after a `:`, and what follows them and their fraction (1 to 9 digits
/// after `.` or `,`): the zone. Nothing but those is checked.
#[inline(always)]
fn iso_parts(s: &[u8]) -> Option<(&[u8; 16], u8, &[u8])> {
    let (head, rest) = s.split_first_chunk::<16>()?;
    let [b':', tens @ b'0'..=b'9', ones @ b'0'..=b'9', rest @ ..] = rest else { return None };
    let zone = match rest {
        [b'.' | b',', fraction @ ..] => {
            let digits = fraction.iter().take(9).take_while(|c| c.is_ascii_digit()).count();
            if digits == 0 {
                return None;
            }
            &fraction[digits..]
        }
        _ => rest,
    };
    Some((head, (tens - b'0') * 10 + (ones - b'0'), zone))
}

/// The UTC epoch of local midnight for the date and zone of a CLF timestamp.
fn midnight(s: &[u8; CLF_LEN]) -> Option<Epoch> {
    let day = two_digits(s[0], s[1])?;
    let month = month(&s[3..6])?;
    let year = digits(&s[7..11])?;
    let date = Date::from_calendar_date(i32::try_from(year).ok()?, month, day).ok()?;
    let sign = match s[21] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let zone_hours = two_digits(s[22], s[23])?;
    let zone_minutes = two_digits(s[24], s[25])?;
    if zone_hours > 23 || zone_minutes > 59 {
        return None;
    }
    let offset = sign * (Epoch::from(zone_hours) * 3600 + Epoch::from(zone_minutes) * 60);
    Some(days(date) * 86_400 - offset)
}

/// A CLF timestamp in any of the forms servers write:
/// `10/Oct/2000:13:55:36 -0700`, with a fraction (`13:55:36.123`), a day
/// without its leading zero (`1/Oct/2000`), or without a zone, which is
/// taken as UTC when `zone` is [`Zone::Optional`].
pub fn parse_clf_variant(s: &[u8], zone: Zone) -> Option<Epoch> {
    let mut c = Cursor(s);
    let day = c.number(1, 2)?;
    c.byte(b'/')?;
    let month = month(c.take(3)?)?;
    c.byte(b'/')?;
    let year = c.number(4, 4)?;
    c.byte(b':')?;
    let date = Date::from_calendar_date(i32::try_from(year).ok()?, month, u8::try_from(day).ok()?).ok()?;
    let seconds = c.clock()?;
    let offset = match (c.0, zone) {
        ([], Zone::Optional) => 0,
        ([b' ', z @ ..], _) => Cursor(z).zone()?,
        _ => return None,
    };
    in_range(days(date) * 86_400 + seconds - offset)
}

/// Whether a timestamp without a zone is refused or read as UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Zone {
    Required,
    Optional,
}

/// ISO 8601 / RFC 3339: `2000-10-10T13:55:36.123-07:00`, a space for the
/// `T` (W3C's `date time` is this form), `Z`, `+hh:mm`, `+hhmm` or no zone
/// (taken as UTC), with or without a fraction.
pub fn parse_iso8601(s: &[u8]) -> Option<Epoch> {
    let mut c = Cursor(s);
    let year = c.number(4, 4)?;
    c.byte(b'-')?;
    let month = Month::try_from(u8::try_from(c.number(2, 2)?).ok()?).ok()?;
    c.byte(b'-')?;
    let day = c.number(2, 2)?;
    match c.take(1)? {
        b"T" | b" " => {}
        _ => return None,
    }
    let date = Date::from_calendar_date(i32::try_from(year).ok()?, month, u8::try_from(day).ok()?).ok()?;
    let seconds = c.clock()?;
    let offset = match c.0 {
        [] | b"Z" | b"z" => 0,
        zone => Cursor(zone).zone()?,
    };
    in_range(days(date) * 86_400 + seconds - offset)
}

/// Unix time in `unit`s, with an optional decimal fraction (`$msec`'s
/// `1549573860.123`, Caddy's `ts`, Apache's `%{msec}t`).
pub fn parse_unix(s: &[u8], unit: Unit) -> Option<Epoch> {
    let whole = memchr::memchr(b'.', s).map_or(s, |dot| &s[..dot]);
    let fraction = s.get(whole.len() + 1..).unwrap_or_default();
    if whole.is_empty() || whole.len() > 18 || (s.len() > whole.len() && fraction.is_empty()) {
        return None;
    }
    if !fraction.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let per_second = match unit {
        Unit::Seconds => 1,
        Unit::Millis => 1_000,
        Unit::Micros => 1_000_000,
    };
    in_range(Epoch::try_from(digits(whole)? / per_second).ok()?)
}

/// What a unix timestamp counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Seconds,
    Millis,
    Micros,
}

/// Reads a timestamp field front to back.
struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = self.0.split_at_checked(n)?;
        self.0 = rest;
        Some(head)
    }

    fn byte(&mut self, b: u8) -> Option<()> {
        (self.take(1)? == [b]).then_some(())
    }

    /// `min` to `max` digits.
    fn number(&mut self, min: usize, max: usize) -> Option<u64> {
        let n = self.0.iter().take(max).take_while(|c| c.is_ascii_digit()).count();
        if n < min {
            return None;
        }
        digits(self.take(n)?)
    }

    /// `HH:MM:SS` and an optional fraction, as seconds into the day; a leap
    /// second counts in the next minute's first second.
    fn clock(&mut self) -> Option<Epoch> {
        let hour = self.number(2, 2)?;
        self.byte(b':')?;
        let minute = self.number(2, 2)?;
        self.byte(b':')?;
        let second = self.number(2, 2)?;
        if hour > 23 || minute > 59 || second > 60 {
            return None;
        }
        if let [b'.' | b',', rest @ ..] = self.0 {
            self.0 = rest;
            // At most nine digits: the matcher looks for a time within
            // format::MAX_TIME_LEN bytes of its bracket.
            self.number(1, 9)?;
        }
        Epoch::try_from(hour * 3600 + minute * 60 + second).ok()
    }

    /// The rest as a zone: `+hhmm` or `+hh:mm`, in seconds east of UTC.
    fn zone(&mut self) -> Option<Epoch> {
        let sign = match self.take(1)? {
            b"+" => 1,
            b"-" => -1,
            _ => return None,
        };
        let hours = self.number(2, 2)?;
        if let [b':', rest @ ..] = self.0 {
            self.0 = rest;
        }
        let minutes = self.number(2, 2)?;
        if !self.0.is_empty() || hours > 23 || minutes > 59 {
            return None;
        }
        Some(sign * Epoch::try_from(hours * 3600 + minutes * 60).ok()?)
    }
}

/// Days from 1970-01-01 to `date`.
fn days(date: Date) -> Epoch {
    Epoch::from(date.to_julian_day()) - UNIX_EPOCH_JULIAN_DAY
}

/// Parses a CSV `date` field: non-negative unix seconds.
pub fn parse_unix_seconds(s: &[u8]) -> Option<Epoch> {
    if s.is_empty() || s.len() > 12 {
        return None;
    }
    in_range(Epoch::try_from(digits(s)?).ok()?)
}

#[inline(always)]
fn in_range(t: Epoch) -> Option<Epoch> {
    (0..=MAX_EPOCH).contains(&t).then_some(t)
}

fn month(s: &[u8]) -> Option<Month> {
    Some(match s {
        b"Jan" => Month::January,
        b"Feb" => Month::February,
        b"Mar" => Month::March,
        b"Apr" => Month::April,
        b"May" => Month::May,
        b"Jun" => Month::June,
        b"Jul" => Month::July,
        b"Aug" => Month::August,
        b"Sep" => Month::September,
        b"Oct" => Month::October,
        b"Nov" => Month::November,
        b"Dec" => Month::December,
        _ => return None,
    })
}

#[inline]
fn two_digits(a: u8, b: u8) -> Option<u8> {
    if a.is_ascii_digit() && b.is_ascii_digit() { Some((a - b'0') * 10 + (b - b'0')) } else { None }
}

/// Parses a run of ASCII digits; `None` for anything else, or for a value that
/// does not fit (callers bound the length first).
#[inline]
pub fn digits(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 19 {
        return None;
    }
    let mut n: u64 = 0;
    for &c in s {
        if !c.is_ascii_digit() {
            return None;
        }
        n = n * 10 + u64::from(c - b'0');
    }
    Some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clf(s: &str) -> Option<Epoch> {
        ClfClock::default().parse(s.as_bytes())
    }

    #[test]
    fn utc_timestamp() {
        // date -u -d '2019-02-07 21:11:00' +%s
        assert_eq!(clf("07/Feb/2019:21:11:00 +0000"), Some(1_549_573_860));
    }

    #[test]
    fn offsets_are_applied() {
        // The NCSA example: 13:55:36 at -0700 is 20:55:36 UTC.
        assert_eq!(clf("10/Oct/2000:13:55:36 -0700"), Some(971_211_336));
        assert_eq!(clf("10/Oct/2000:22:25:36 +0130"), Some(971_211_336));
        // A positive offset can move the instant to the previous UTC day.
        assert_eq!(clf("01/Jan/2020:00:30:00 +0100"), Some(1_577_835_000));
    }

    #[test]
    fn a_fresh_clock_serves_nothing_from_its_cache() {
        // Zero bytes are what a derived default would hold.
        assert_eq!(ClfClock::default().parse(&[0; CLF_LEN]), None);
        assert_eq!(clf("01/Jan/1970:00:00:00 +0000"), Some(0));
    }

    #[test]
    fn cache_follows_changes_of_day_and_zone() {
        let mut c = ClfClock::default();
        assert_eq!(c.parse(b"07/Feb/2019:23:59:59 +0000"), Some(1_549_583_999));
        assert_eq!(c.parse(b"08/Feb/2019:00:00:00 +0000"), Some(1_549_584_000));
        assert_eq!(c.parse(b"08/Feb/2019:01:00:00 +0100"), Some(1_549_584_000));
        assert_eq!(c.parse(b"08/Feb/2019:00:00:00 +0000"), Some(1_549_584_000));
    }

    #[test]
    fn cache_serves_any_second_of_the_last_minute() {
        let mut c = ClfClock::default();
        assert_eq!(c.parse(b"07/Feb/2019:21:11:30 +0000"), Some(1_549_573_890));
        // Out of order within the minute, and the leap second.
        assert_eq!(c.parse(b"07/Feb/2019:21:11:00 +0000"), Some(1_549_573_860));
        assert_eq!(c.parse(b"07/Feb/2019:21:11:60 +0000"), Some(1_549_573_920));
        assert_eq!(c.parse(b"07/Feb/2019:21:11:59 +0000"), Some(1_549_573_919));
        // Seconds that are not two digits up to 60 are refused from the cache too.
        for bad in ["07/Feb/2019:21:11:61 +0000", "07/Feb/2019:21:11:6x +0000", "07/Feb/2019:21:11:-1 +0000"] {
            assert_eq!(c.parse(bad.as_bytes()), None, "{bad}");
        }
        // Another zone, another minute or another day is not the cached minute.
        assert_eq!(c.parse(b"07/Feb/2019:21:11:00 +0100"), Some(1_549_570_260));
        assert_eq!(c.parse(b"07/Feb/2019:21:12:00 +0100"), Some(1_549_570_320));
        assert_eq!(c.parse(b"08/Feb/2019:21:12:00 +0100"), Some(1_549_656_720));
        assert_eq!(c.parse(b"08/Feb/2019:21:12:00 +0100"), Some(1_549_656_720));
        assert_eq!(c.parse(b"08/Feb/2019:21:12:00+-0100"), None);
        // The last minute of the range: its last second only.
        assert_eq!(c.parse(b"30/Dec/9999:23:59:59 +0000"), Some(MAX_EPOCH));
        assert_eq!(c.parse(b"30/Dec/9999:23:59:60 +0000"), None);
        assert_eq!(c.parse(b"30/Dec/9999:23:59:58 +0000"), Some(MAX_EPOCH - 1));
        // A leap second ending 1969 is the epoch; no other second of that minute is.
        assert_eq!(c.parse(b"31/Dec/1969:23:59:60 +0000"), Some(0));
        assert_eq!(c.parse(b"31/Dec/1969:23:59:30 +0000"), None);
    }

    #[test]
    fn calendar_is_checked() {
        assert_eq!(clf("29/Feb/2020:00:00:00 +0000"), Some(1_582_934_400));
        assert_eq!(clf("29/Feb/2019:00:00:00 +0000"), None);
        assert_eq!(clf("31/Apr/2019:00:00:00 +0000"), None);
        assert_eq!(clf("00/Jan/2019:00:00:00 +0000"), None);
        assert_eq!(clf("07/Fev/2019:21:11:00 +0000"), None);
        assert_eq!(clf("07/feb/2019:21:11:00 +0000"), None);
    }

    #[test]
    fn clock_fields_are_checked() {
        assert_eq!(clf("07/Feb/2019:24:00:00 +0000"), None);
        assert_eq!(clf("07/Feb/2019:23:60:00 +0000"), None);
        assert_eq!(clf("07/Feb/2019:23:59:61 +0000"), None);
        // A leap second lands on the next minute's first second.
        assert_eq!(clf("07/Feb/2019:21:10:60 +0000"), Some(1_549_573_860));
        assert_eq!(clf("07/Feb/2019:21:11:00 0000"), None);
        assert_eq!(clf("07/Feb/2019:21:11:00 +2400"), None);
        assert_eq!(clf("07/Feb/2019:21:11:00 +00:0"), None);
        assert_eq!(clf("7/Feb/2019:21:11:00 +0000 "), None);
        assert_eq!(clf("07/Feb/2019:21:11:0a +0000"), None);
    }

    #[test]
    fn wrong_lengths_are_refused() {
        assert_eq!(clf(""), None);
        assert_eq!(clf("07/Feb/2019:21:11:00"), None);
        assert_eq!(clf("07/Feb/2019:21:11:00 +00000"), None);
    }

    #[test]
    fn years_outside_the_epoch_range_are_refused() {
        assert_eq!(clf("31/Dec/1969:23:59:59 +0000"), None);
        assert_eq!(clf("01/Jan/1970:00:00:00 +0000"), Some(0));
        assert_eq!(clf("30/Dec/9999:23:59:59 +0000"), Some(MAX_EPOCH));
        assert_eq!(clf("31/Dec/9999:00:00:00 +0000"), None);
        assert_eq!(clf("30/Dec/9999:23:59:59 -0100"), None);
        assert_eq!(parse_unix_seconds(b"253402214399"), Some(MAX_EPOCH));
        assert_eq!(parse_unix_seconds(b"253402214400"), None);
    }

    #[test]
    fn unix_seconds() {
        assert_eq!(parse_unix_seconds(b"1549573860"), Some(1_549_573_860));
        assert_eq!(parse_unix_seconds(b"0"), Some(0));
        assert_eq!(parse_unix_seconds(b""), None);
        assert_eq!(parse_unix_seconds(b"-1"), None);
        assert_eq!(parse_unix_seconds(b"15495738 60"), None);
        assert_eq!(parse_unix_seconds(b"1549573860.5"), None);
        assert_eq!(parse_unix_seconds(b"999999999999"), None);
        assert_eq!(parse_unix_seconds(b"99999999999999999999999"), None);
    }

    #[test]
    fn clf_variants() {
        let v = |s: &str| parse_clf_variant(s.as_bytes(), Zone::Required);
        assert_eq!(v("10/Oct/2000:13:55:36 -0700"), Some(971_211_336));
        assert_eq!(v("10/Oct/2000:13:55:36.123 -0700"), Some(971_211_336));
        assert_eq!(v("10/Oct/2000:13:55:36,999999 -07:00"), Some(971_211_336));
        assert_eq!(v("7/Feb/2019:21:11:00 +0000"), Some(1_549_573_860));
        assert_eq!(v("07/Feb/2019:21:11:00"), None);
        assert_eq!(parse_clf_variant(b"07/Feb/2019:21:11:00", Zone::Optional), Some(1_549_573_860));
        assert_eq!(v("07/Feb/2019:21:11:00."), None);
        assert_eq!(v("07/Feb/2019:21:11:00 +0000 "), None);
        assert_eq!(v("007/Feb/2019:21:11:00 +0000"), None);
        assert_eq!(v("31/Feb/2019:21:11:00 +0000"), None);
        assert_eq!(v("07/Feb/2019:24:11:00 +0000"), None);
    }

    #[test]
    fn iso8601() {
        let t = |s: &str| parse_iso8601(s.as_bytes());
        for s in [
            "2019-02-07T21:11:00Z",
            "2019-02-07T21:11:00+00:00",
            "2019-02-07T22:11:00+01:00",
            "2019-02-07T20:11:00.999-0100",
            "2019-02-07 21:11:00",
            "2019-02-07T21:11:00.123456789Z",
        ] {
            assert_eq!(t(s), Some(1_549_573_860), "{s}");
        }
        for s in
            ["2019-02-07", "2019-02-07T21:11", "2019-2-07T21:11:00Z", "2019-02-30T21:11:00Z", "2019-02-07T21:11:00 Z"]
        {
            assert_eq!(t(s), None, "{s}");
        }
    }

    #[test]
    fn w3c_dates_are_cached_by_day() {
        let mut c = DayClock::default();
        let t = |c: &mut DayClock, d: &str, t: &str| c.parse(d.as_bytes(), t.as_bytes());
        assert_eq!(t(&mut c, "2018-01-01", "08:09:10"), Some(1_514_794_150));
        assert_eq!(t(&mut c, "2018-01-01", "00:00:00"), Some(1_514_764_800));
        assert_eq!(t(&mut c, "2018-01-01", "23:59:60"), Some(1_514_851_200));
        for bad in ["24:00:00", "23:60:00", "23:59:61", "2:09:10", "08:09:1x", "08-09-10"] {
            assert_eq!(t(&mut c, "2018-01-01", bad), None, "{bad}");
        }
        // Forms the cache does not serve are read as ISO 8601.
        assert_eq!(t(&mut c, "2018-01-01", "08:09:10.5"), Some(1_514_794_150));
        assert_eq!(t(&mut c, "2018-01-01", "08:09:10Z"), Some(1_514_794_150));
        assert_eq!(t(&mut c, "2018-01-02", "08:09:10"), Some(1_514_880_550));
        assert_eq!(t(&mut c, "2018-02-30", "08:09:10"), None);
        assert_eq!(t(&mut c, "2018-1-01", "08:09:10"), None);
        // The last day of the range: its last second only.
        assert_eq!(t(&mut c, "9999-12-30", "23:59:59"), Some(MAX_EPOCH));
        assert_eq!(t(&mut c, "9999-12-30", "23:59:60"), None);
        assert_eq!(t(&mut c, "9999-12-30", "00:00:00"), Some(MAX_EPOCH - 86_399));
        assert_eq!(t(&mut c, "1969-12-31", "23:59:60"), Some(0));
        assert_eq!(t(&mut c, "1969-12-31", "23:59:59"), None);
    }

    #[test]
    fn unix_fractions() {
        assert_eq!(parse_unix(b"1549573860.123", Unit::Seconds), Some(1_549_573_860));
        assert_eq!(parse_unix(b"1549573860", Unit::Seconds), Some(1_549_573_860));
        assert_eq!(parse_unix(b"1549573860999", Unit::Millis), Some(1_549_573_860));
        assert_eq!(parse_unix(b"1549573860999999", Unit::Micros), Some(1_549_573_860));
        for s in ["", ".5", "1549573860.", "1549573860.x", "-1", "1e9", "9999999999999999999"] {
            assert_eq!(parse_unix(s.as_bytes(), Unit::Seconds), None, "{s}");
        }
    }

    #[test]
    fn digit_runs() {
        assert_eq!(digits(b"0042"), Some(42));
        assert_eq!(digits(b"18446744073709551615"), None);
        assert_eq!(digits(b"4x"), None);
        assert_eq!(digits(b""), None);
    }
}
