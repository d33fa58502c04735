//! The JSON format: one object per line (NDJSON), written by hand.

use std::borrow::Cow;
use std::io::{self, Write};

use super::Rfc3339;
use super::escape::json_string;
use crate::engine::Event;
use crate::engine::alert::{AlertEvent, AlertRecord, AlertState};
use crate::engine::parse::LogFormat;
use crate::engine::rule::{Metric, Rule, Value};
use crate::engine::stats::{Report, Summary};
use crate::engine::timestamp::Epoch;

/// Appends one event as a line. Writing to a `Vec` cannot fail, so neither
/// can this: the `Vec` is the only writer it is used with.
pub fn event(out: &mut Vec<u8>, event: &Event) -> io::Result<()> {
    match event {
        Event::Report(r) => report(out, r),
        Event::Alert(a) => alert(out, a),
        Event::Summary(s) => summary(out, s),
    }
}

fn report(out: &mut Vec<u8>, r: &Report) -> io::Result<()> {
    write!(
        out,
        r#"{{"type":"report","time":"{}","start":"{}","end":"{}","seconds":{},"partial":{},"requested":{},"hits":{},"rate":{},"late":{},"early":{},"malformed":{},"bytes":{},"#,
        Rfc3339(r.end),
        Rfc3339(r.start),
        Rfc3339(r.end),
        r.seconds(),
        r.partial,
        r.requested,
        r.hits,
        r.rate(),
        r.late,
        r.early,
        r.malformed,
        r.bytes
    )?;
    let [s1, s2, s3, s4, s5] = r.status;
    write!(
        out,
        r#""status":{{"1xx":{s1},"2xx":{s2},"3xx":{s3},"4xx":{s4},"5xx":{s5},"unknown":{}}},"success":{},"errors":{},"sections":["#,
        r.unknown_status,
        r.successes(),
        r.errors()
    )?;
    for (i, s) in r.sections.iter().enumerate() {
        out.extend_from_slice(if i == 0 { b"{\"section\":" } else { b",{\"section\":" });
        json_string(out, &s.section);
        write!(out, r#","hits":{}}}"#, s.hits)?;
    }
    write!(
        out,
        r#"],"sections_approximate":{},"distinct_sections":{},"no_section":{},"alert":"#,
        r.sections_approximate, r.distinct_sections, r.no_section
    )?;
    match &r.alert {
        Some(a) => record(out, a)?,
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"history\":[");
    for (i, a) in r.history.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        record(out, a)?;
    }
    writeln!(out, r#"],"alerts":{}}}"#, r.alerts)
}

fn record(out: &mut Vec<u8>, a: &AlertRecord) -> io::Result<()> {
    write!(out, r#"{{"id":{},"triggered":"{}","recovered":"#, a.id, Rfc3339(a.triggered))?;
    optional_time(out, a.recovered)?;
    write!(out, r#","hits":{}}}"#, a.hits)
}

fn alert(out: &mut Vec<u8>, a: &AlertEvent) -> io::Result<()> {
    let state = match a.state {
        AlertState::Triggered => "triggered",
        AlertState::Recovered => "recovered",
    };
    let rate = a.hits as f64 / f64::from(a.window.max(1));
    write!(
        out,
        r#"{{"type":"alert","time":"{}","state":"{state}","id":{},"rate":{rate},"hits":{},"threshold":"#,
        Rfc3339(a.at),
        a.id,
        a.hits,
    )?;
    let (rule, matched) = rule_of(a);
    match rule.value {
        Value::Rate(t) => write!(out, "{t}")?,
        Value::Share(millionths) => write!(out, "{}", millionths as f64 / 1e6)?,
        Value::Micros(us) => write!(out, "{}", us as f64 / 1e6)?,
    }
    write!(out, r#","window":{},"triggered":"{}","rule":"#, a.window, Rfc3339(a.triggered))?;
    // The rule's section came from the command line; escape it all the same.
    json_string(out, rule.to_string().as_bytes());
    write!(out, r#","metric":"{}","op":"{}","value":"#, rule.metric_name(), rule.op_symbol())?;
    match measured(&rule, matched, a) {
        Some(value) => write!(out, "{value}")?,
        None => out.extend_from_slice(b"null"),
    }
    writeln!(out, r#","matched":{matched}}}"#)
}

/// The rule an alert belongs to (the default rule has no `Fired`), and
/// the hits it matched.
pub fn rule_of(a: &AlertEvent) -> (Cow<'_, Rule>, u64) {
    match &a.rule {
        Some(fired) => (Cow::Borrowed(&fired.rule), fired.matched),
        None => (Cow::Owned(Rule::rate_above(a.threshold, a.window)), a.hits),
    }
}

/// What the rule measured, as the JSON `value`: req/s for rates, percent
/// for shares, `None` for latency rules, which count hits past the limit
/// and measure no quantile.
pub fn measured(rule: &Rule, matched: u64, a: &AlertEvent) -> Option<f64> {
    match (rule.metric, rule.value) {
        (Metric::Latency(_), _) => None,
        (_, Value::Rate(_)) => Some(matched as f64 / f64::from(a.window.max(1))),
        _ => Some(100.0 * matched as f64 / a.hits.max(1) as f64),
    }
}

fn summary(out: &mut Vec<u8>, s: &Summary) -> io::Result<()> {
    out.extend_from_slice(br#"{"type":"summary","time":"#);
    optional_time(out, s.time)?;
    write!(
        out,
        r#","lines":{},"hits":{},"malformed":{},"late":{},"early":{},"skipped":{},"alerts":{},"alert":"#,
        s.lines, s.hits, s.malformed, s.late, s.early, s.skipped, s.alerts
    )?;
    match &s.alert {
        Some(a) => record(out, a)?,
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(br#","first":"#);
    optional_time(out, s.first)?;
    out.extend_from_slice(br#","last":"#);
    optional_time(out, s.last)?;
    match &s.format {
        LogFormat::Auto => writeln!(out, r#","format":null}}"#),
        f => writeln!(out, r#","format":"{}"}}"#, f.name()),
    }
}

fn optional_time(out: &mut Vec<u8>, t: Option<Epoch>) -> io::Result<()> {
    match t {
        Some(t) => write!(out, "\"{}\"", Rfc3339(t)),
        None => write!(out, "null"),
    }
}
