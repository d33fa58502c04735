//! W3C extended log files (IIS, CloudFront): `#` directives, of which
//! `#Fields:` names the columns of the lines after it and may change
//! mid-file. Columns are separated by spaces (IIS) or tabs (CloudFront);
//! `date` and `time` are UTC.

use super::{Span, duration_us};
use crate::engine::bytes;
use crate::engine::parse::{self, Malformed, Record, UNKNOWN_STATUS};
use crate::engine::section;
use crate::engine::timestamp::DayClock;

/// What a column holds, for the columns logmon reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Column {
    Date,
    Time,
    Client,
    Method,
    Target,
    Status,
    Bytes,
    /// Milliseconds (IIS) or seconds with a fraction (CloudFront).
    TimeTaken,
    Host,
    Other,
}

fn column(name: &[u8]) -> Column {
    match name {
        b"date" => Column::Date,
        b"time" => Column::Time,
        b"c-ip" => Column::Client,
        b"cs-method" => Column::Method,
        b"cs-uri-stem" => Column::Target,
        b"sc-status" => Column::Status,
        b"sc-bytes" => Column::Bytes,
        b"time-taken" => Column::TimeTaken,
        b"cs-host" | b"cs(Host)" | b"x-host-header" => Column::Host,
        _ => Column::Other,
    }
}

/// CloudFront's standard columns, for a file read without its `#Fields:`
/// line (a fragment, or lines a collector forwarded one by one).
const CLOUDFRONT: &[u8] = b"date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status \
cs(Referer) cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id x-host-header cs-protocol \
cs-bytes time-taken";

/// The columns in force.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct W3c {
    columns: Vec<Column>,
    /// Whether the columns came from a `#Fields:` line, which fixes their
    /// number; CloudFront's defaults allow the columns it later added.
    declared: bool,
    clock: DayClock,
}

impl Default for W3c {
    fn default() -> W3c {
        W3c { columns: columns(CLOUDFRONT), declared: false, clock: DayClock::default() }
    }
}

fn columns(names: &[u8]) -> Vec<Column> {
    names.split(|&c| c == b' ' || c == b'\t').filter(|n| !n.is_empty()).map(column).collect()
}

/// Whether a line looks like W3C: a directive, or CloudFront's tab-separated
/// `date\ttime\t...`.
pub fn looks_like(line: &[u8]) -> bool {
    const DIRECTIVES: [&[u8]; 4] = [b"#Fields:", b"#Version:", b"#Software:", b"#Date:"];
    DIRECTIVES.iter().any(|d| line.starts_with(d))
        || (line.len() > 20 && line[4] == b'-' && line[7] == b'-' && line[10] == b'\t')
}

/// What one line's columns gave, read as each is found.
struct Found<'a, 'c> {
    columns: &'c [Column],
    /// Columns found so far.
    count: usize,
    record: Record<'a>,
    date: Option<&'a [u8]>,
    time: Option<&'a [u8]>,
    status: Option<&'a [u8]>,
    bytes: Option<&'a [u8]>,
}

impl<'a, 'c> Found<'a, 'c> {
    fn new(columns: &'c [Column]) -> Found<'a, 'c> {
        Found { columns, count: 0, record: Record::default(), date: None, time: None, status: None, bytes: None }
    }

    /// Reads the next column, `value`, if it is one of the columns in force.
    #[inline(always)]
    fn column(&mut self, value: &'a [u8]) {
        // Asked only where it matters: most columns are not read.
        let known = || (value != b"-").then_some(value);
        if let Some(&column) = self.columns.get(self.count) {
            let record = &mut self.record;
            match column {
                Column::Date => self.date = Some(value),
                Column::Time => self.time = Some(value),
                Column::Client => record.client = known(),
                Column::Method => record.method = known(),
                Column::Target => record.section = known().and_then(section::of_target),
                Column::Status => self.status = Some(value),
                Column::Bytes => self.bytes = Some(value),
                Column::TimeTaken => {
                    let span = if bytes::find(value, b'.').is_some() { Span::Seconds } else { Span::Millis };
                    record.latency_us = duration_us(value, span);
                }
                // The last of them: CloudFront's x-host-header, after cs(Host).
                Column::Host => record.vhost = known().or(record.vhost),
                Column::Other => {}
            }
        }
        self.count += 1;
    }
}

impl W3c {
    /// Reads one line: `Ok(None)` for a directive (a new `#Fields:` takes
    /// effect from the next line).
    pub fn read<'a>(&mut self, line: &'a [u8]) -> Result<Option<Record<'a>>, Malformed> {
        if let Some(directive) = line.strip_prefix(b"#") {
            if let Some(names) = directive.strip_prefix(b"Fields:") {
                self.columns = columns(names);
                self.declared = true;
            }
            return Ok(None);
        }
        let separator = if bytes::find(line, b'\t').is_some() { b'\t' } else { b' ' };
        // One pass: each column is found once, and counted, to the end of
        // the line. CloudFront's later columns, past the defaults, are not
        // read.
        let mut found = Found::new(&self.columns);
        let mut rest = line;
        while let Some(end) = bytes::find(rest, separator) {
            found.column(&rest[..end]);
            rest = &rest[end + 1..];
        }
        found.column(rest);
        let Found { mut record, count, date, time, status, bytes, .. } = found;
        if self.declared && count != self.columns.len() {
            return Err(Malformed::W3cFields);
        }
        // A column's fault comes before a missing column, as the columns
        // come before the end of the line.
        if let Some(bytes) = bytes {
            record.bytes = parse::byte_count(bytes)?;
        }
        let (Some(date), Some(time), Some(status)) = (date, time, status) else {
            return Err(Malformed::W3cFields);
        };
        record.time = self.clock.parse(date, time).ok_or(Malformed::BadTimestamp)?;
        record.status = match status {
            b"000" => UNKNOWN_STATUS,
            s => parse::status(s)?,
        };
        Ok(Some(record))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::timestamp::Epoch;

    const T0: Epoch = 1_514_794_150; // 2018-01-01T08:09:10Z

    #[test]
    fn fields_may_change_mid_file() {
        let mut w = W3c::default();
        assert_eq!(w.read(b"#Software: Microsoft Internet Information Services 10.0"), Ok(None));
        let fields = b"#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken";
        assert_eq!(w.read(fields), Ok(None));
        let line = b"2018-01-01 08:09:10 127.0.0.1 GET /a/b q=100 80 - 81.2.69.143 Mozilla/5.0+(Windows) - 200 0 0 123";
        let r = w.read(line).expect("valid").expect("a record");
        assert_eq!((r.time, r.status, r.section, r.latency_us), (T0, 200, Some(&b"/a"[..]), Some(123_000)));
        assert_eq!((r.client, r.method), (Some(&b"81.2.69.143"[..]), Some(&b"GET"[..])));
        // New columns: the old line no longer fits.
        assert_eq!(w.read(b"#Fields: date time cs-host sc-status sc-bytes"), Ok(None));
        assert_eq!(w.read(line), Err(Malformed::W3cFields));
        let r = w.read(b"2018-01-01 08:09:10 example.com 404 512").expect("valid").expect("a record");
        assert_eq!((r.status, r.bytes, r.vhost, r.section), (404, 512, Some(&b"example.com"[..]), None));
        assert_eq!(w.read(b"2018-02-30 08:09:10 example.com 404 512"), Err(Malformed::BadTimestamp));
        assert_eq!(w.read(b"#Fields: date time cs-host"), Ok(None));
        assert_eq!(w.read(b"2018-01-01 08:09:10 example.com"), Err(Malformed::W3cFields));
    }

    /// Every prefix, and every single-byte change, of IIS and CloudFront
    /// lines, under declared and default columns: no panic.
    #[test]
    fn no_input_makes_the_reader_panic() {
        let lines: [&[u8]; 2] = [
            b"2018-01-01 08:09:10 127.0.0.1 GET /a/b q=100 80 - 81.2.69.143 UA - 200 0 0 123",
            b"2024-03-12\t15:22:28\tCDG50-P2\t703\t1.2.3.4\tGET\th\t/x\t000\t-\tcurl\tq\t-\tError\tid\th\thttps\t62\t0.113",
        ];
        let fields = b"#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken";
        for line in lines {
            for declared in [false, true] {
                let mut w = W3c::default();
                if declared {
                    let _ = w.read(fields);
                }
                for n in 0..=line.len() {
                    let _ = looks_like(&line[..n]);
                    let _ = w.read(&line[..n]);
                    for r in [b' ', b'\t', b'-', b'#', b'.', b'\xff', b'9'] {
                        let mut v = line.to_vec();
                        if n < v.len() {
                            v[n] = r;
                        }
                        let _ = w.read(&v);
                    }
                }
            }
        }
    }

    /// A `-` is W3C's "no value": a client, method, target or host column
    /// holding it gives nothing, never a client or vhost named `-`.
    #[test]
    fn a_dash_column_gives_no_value() {
        let mut w = W3c::default();
        assert_eq!(w.read(b"#Fields: date time c-ip cs-method cs-uri-stem sc-status cs(Host) x-host-header"), Ok(None));
        let r = w.read(b"2018-01-01 08:09:10 - - - 200 - -").expect("valid").expect("a record");
        assert_eq!((r.client, r.method, r.section, r.vhost), (None, None, None, None));
        let r = w.read(b"2018-01-01 08:09:10 1.2.3.4 GET /a/b 200 h.example -").expect("valid").expect("a record");
        let some = |v: &'static [u8]| Some(v);
        assert_eq!(
            (r.client, r.method, r.section, r.vhost),
            (some(b"1.2.3.4"), some(b"GET"), some(b"/a"), some(b"h.example"))
        );
        // x-host-header, the later column, wins unless it is a `-`.
        let r = w.read(b"2018-01-01 08:09:10 - - - 200 - x.example").expect("valid").expect("a record");
        assert_eq!(r.vhost, Some(&b"x.example"[..]));
    }

    #[test]
    fn cloudfront_without_its_header() {
        let line = b"2024-03-12\t15:22:28\tCDG50-P2\t703\t1.2.3.4\tGET\td6rcaj0q1hys9.cloudfront.net\t/testseb\t400\t-\tcurl/7.81.0\tquery_param=42\t-\tError\tid==\thub.example\thttps\t62\t0.113\t-\tTLSv1.3";
        assert!(looks_like(line));
        let r = W3c::default().read(line).expect("valid").expect("a record");
        assert_eq!((r.time, r.status, r.bytes, r.latency_us), (1_710_256_948, 400, 703, Some(113_000)));
        // The viewer's Host header (x-host-header) says more than cs(Host),
        // CloudFront's own name for the distribution.
        assert_eq!((r.section, r.vhost), (Some(&b"/testseb"[..]), Some(&b"hub.example"[..])));
        // A bad column is reported before a missing one.
        assert_eq!(W3c::default().read(b"2024-03-12\t15:22:28\tCDG50-P2\tx"), Err(Malformed::BadBytes));
        let aborted = b"2024-03-12\t15:22:28\tCDG50-P2\t0\t1.2.3.4\tGET\th\t/\t000";
        assert_eq!(W3c::default().read(aborted).map(|r| r.map(|r| r.status)), Ok(Some(UNKNOWN_STATUS)));
    }
}
