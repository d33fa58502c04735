//! The JSON format: one object per line (NDJSON), written by hand.

use std::borrow::Cow;
use std::io::{self, Write};

use super::Rfc3339;
use super::escape::json_string;
use crate::engine::Event;
use crate::engine::alert::{AlertEvent, AlertRecord, AlertState, InForce};
use crate::engine::histogram::Latency;
use crate::engine::parse::LogFormat;
use crate::engine::rule::{Rule, Value};
use crate::engine::stats::{CodeHits, Report, StatusClasses, Summary};
use crate::engine::timestamp::Epoch;
use crate::engine::topk::KeyHits;

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
    out.extend_from_slice(br#""status":"#);
    status(out, &r.status, r.unknown_status)?;
    write!(
        out,
        r#","success":{},"errors":{},"error_share":{},"sections":"#,
        r.successes(),
        r.errors(),
        r.error_share()
    )?;
    keyed(out, "section", &r.sections)?;
    write!(
        out,
        r#","sections_approximate":{},"distinct_sections":{},"no_section":{},"codes":"#,
        r.sections_approximate, r.distinct_sections, r.no_section
    )?;
    codes(out, &r.codes)?;
    out.extend_from_slice(br#","clients":"#);
    keyed(out, "client", &r.clients)?;
    write!(out, r#","clients_approximate":{},"latency":"#, r.clients_approximate)?;
    latency(out, r.latency)?;
    out.extend_from_slice(br#","alert":"#);
    match &r.alert {
        Some(a) => record(out, a)?,
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(br#","active":"#);
    in_force(out, &r.active)?;
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
    record_fields(out, a)?;
    out.push(b'}');
    Ok(())
}

/// An alert record's object without its closing brace.
fn record_fields(out: &mut Vec<u8>, a: &AlertRecord) -> io::Result<()> {
    write!(out, r#"{{"id":{},"triggered":"{}","recovered":"#, a.id, Rfc3339(a.triggered))?;
    optional_time(out, a.recovered)?;
    write!(out, r#","hits":{}"#, a.hits)
}

/// `[{"id":1,...,"rule":"p99 > 500ms over 5m"},...]`: alert records with
/// their rule (`null` for the default rule).
fn in_force(out: &mut Vec<u8>, list: &[InForce]) -> io::Result<()> {
    out.push(b'[');
    for (i, a) in list.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        record_fields(out, &a.alert)?;
        out.extend_from_slice(br#","rule":"#);
        match &a.rule {
            // The rule's section came from the command line; escape it all the same.
            Some(rule) => json_string(out, rule.as_bytes()),
            None => out.extend_from_slice(b"null"),
        }
        out.push(b'}');
    }
    out.push(b']');
    Ok(())
}

fn alert(out: &mut Vec<u8>, a: &AlertEvent) -> io::Result<()> {
    let state = match a.state {
        AlertState::Triggered => "triggered",
        AlertState::Recovered => "recovered",
    };
    write!(
        out,
        r#"{{"type":"alert","time":"{}","state":"{state}","id":{},"rate":{},"hits":{},"threshold":"#,
        Rfc3339(a.at),
        a.id,
        rate(a),
        a.hits,
    )?;
    let (rule, matched) = rule_of(a);
    match rule.value() {
        Value::Rate(t) => write!(out, "{t}")?,
        Value::Share(millionths) => write!(out, "{}", millionths as f64 / 1e6)?,
        Value::Micros(us) => write!(out, "{}", us as f64 / 1e6)?,
    }
    write!(out, r#","window":{},"triggered":"{}","rule":"#, a.window, Rfc3339(a.triggered))?;
    // The rule's section came from the command line; escape it all the same.
    json_string(out, rule.to_string().as_bytes());
    write!(out, r#","metric":"{}","op":"{}","value":"#, rule.metric_name(), rule.op_symbol())?;
    match measured(a) {
        Some(value) => write!(out, "{value}")?,
        None => out.extend_from_slice(b"null"),
    }
    writeln!(out, r#","matched":{matched}}}"#)
}

/// The JSON `rate`: the window's average of the hits the rule counts.
pub fn rate(a: &AlertEvent) -> f64 {
    a.hits as f64 / f64::from(a.window.max(1))
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
/// for shares, seconds for latency (`None` only if a latency rule's window
/// held no time, which no transition allows).
pub fn measured(a: &AlertEvent) -> Option<f64> {
    let (rule, matched) = rule_of(a);
    match rule.value() {
        Value::Micros(_) => a.rule.as_ref()?.value.map(|us| us as f64 / 1e6),
        Value::Rate(_) => Some(matched as f64 / f64::from(a.window.max(1))),
        Value::Share(_) => Some(100.0 * matched as f64 / a.hits.max(1) as f64),
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
    out.extend_from_slice(br#","active":"#);
    in_force(out, &s.active)?;
    out.extend_from_slice(br#","first":"#);
    optional_time(out, s.first)?;
    out.extend_from_slice(br#","last":"#);
    optional_time(out, s.last)?;
    match &s.format {
        LogFormat::Auto => write!(out, r#","format":null"#)?,
        f => write!(out, r#","format":"{}""#, f.name())?,
    }
    let t = &s.totals;
    write!(out, r#","bytes":{},"status":"#, t.bytes)?;
    status(out, &t.status, t.unknown_status)?;
    out.extend_from_slice(br#","codes":"#);
    codes(out, &t.codes)?;
    out.extend_from_slice(br#","sections":"#);
    keyed(out, "section", &t.sections)?;
    write!(out, r#","sections_approximate":{},"clients":"#, t.sections_approximate)?;
    keyed(out, "client", &t.clients)?;
    write!(out, r#","clients_approximate":{},"latency":"#, t.clients_approximate)?;
    latency(out, t.latency)?;
    writeln!(out, "}}")
}

/// `{"1xx":n,...,"5xx":n,"unknown":n}`
fn status(out: &mut Vec<u8>, classes: &StatusClasses, unknown: u64) -> io::Result<()> {
    let [s1, s2, s3, s4, s5] = classes;
    write!(out, r#"{{"1xx":{s1},"2xx":{s2},"3xx":{s3},"4xx":{s4},"5xx":{s5},"unknown":{unknown}}}"#)
}

/// `[{"<name>":"/api","hits":12},...]`
fn keyed(out: &mut Vec<u8>, name: &str, list: &[KeyHits]) -> io::Result<()> {
    out.push(b'[');
    for (i, k) in list.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write!(out, r#"{{"{name}":"#)?;
        json_string(out, &k.key);
        write!(out, r#","hits":{}}}"#, k.hits)?;
    }
    out.push(b']');
    Ok(())
}

/// `[{"code":503,"hits":7},...]`
fn codes(out: &mut Vec<u8>, list: &[CodeHits]) -> io::Result<()> {
    out.push(b'[');
    for (i, c) in list.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write!(out, r#"{{"code":{},"hits":{}}}"#, c.code, c.hits)?;
    }
    out.push(b']');
    Ok(())
}

/// `{"count":n,"p50":s,"p90":s,"p99":s,"max":s}` in seconds, or `null`.
fn latency(out: &mut Vec<u8>, latency: Option<Latency>) -> io::Result<()> {
    let Some(l) = latency else {
        out.extend_from_slice(b"null");
        return Ok(());
    };
    let s = |us: u64| us as f64 / 1e6;
    write!(
        out,
        r#"{{"count":{},"p50":{},"p90":{},"p99":{},"max":{}}}"#,
        l.count,
        s(l.p50),
        s(l.p90),
        s(l.p99),
        s(l.max)
    )
}

fn optional_time(out: &mut Vec<u8>, t: Option<Epoch>) -> io::Result<()> {
    match t {
        Some(t) => write!(out, "\"{}\"", Rfc3339(t)),
        None => write!(out, "null"),
    }
}
