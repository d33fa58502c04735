//! The JSON format: one object per line (NDJSON), written by hand.

use std::borrow::Cow;
use std::io::{self, Write};

use super::escape::json_string;
use super::{Rfc3339, push_decimal, push_rfc3339};
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

/// A report, written in place: one is made every interval, and formatting
/// each of its figures cost more than the rest of the report. Only the two
/// floats are formatted.
fn report(out: &mut Vec<u8>, r: &Report) -> io::Result<()> {
    out.extend_from_slice(br#"{"type":"report","time":"#);
    quoted_time(out, r.end);
    out.extend_from_slice(br#","start":"#);
    quoted_time(out, r.start);
    out.extend_from_slice(br#","end":"#);
    quoted_time(out, r.end);
    out.extend_from_slice(br#","seconds":"#);
    push_signed(out, r.seconds());
    flags(out, &[("partial", r.partial), ("requested", r.requested)]);
    counts(out, &[("hits", r.hits)]);
    write!(out, r#","rate":{}"#, r.rate())?;
    counts(out, &[("late", r.late), ("early", r.early), ("malformed", r.malformed), ("bytes", r.bytes)]);
    out.extend_from_slice(br#","status":"#);
    status(out, &r.status, r.unknown_status);
    counts(out, &[("success", r.successes()), ("errors", r.errors())]);
    write!(out, r#","error_share":{},"sections":"#, r.error_share())?;
    keyed(out, "section", &r.sections);
    flags(out, &[("sections_approximate", r.sections_approximate)]);
    counts(out, &[("distinct_sections", r.distinct_sections as u64), ("no_section", r.no_section)]);
    out.extend_from_slice(br#","codes":"#);
    codes(out, &r.codes);
    out.extend_from_slice(br#","clients":"#);
    keyed(out, "client", &r.clients);
    flags(out, &[("clients_approximate", r.clients_approximate)]);
    out.extend_from_slice(br#","latency":"#);
    latency(out, r.latency)?;
    out.extend_from_slice(br#","alert":"#);
    match &r.alert {
        Some(a) => record(out, a),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(br#","active":"#);
    in_force(out, &r.active);
    out.extend_from_slice(b",\"history\":[");
    for (i, a) in r.history.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        record(out, a);
    }
    out.extend_from_slice(b"]");
    counts(out, &[("alerts", r.alerts)]);
    out.extend_from_slice(b"}\n");
    Ok(())
}

/// `,"name":n` for each of `fields`.
#[inline(always)]
fn counts(out: &mut Vec<u8>, fields: &[(&str, u64)]) {
    for &(name, n) in fields {
        out.extend_from_slice(b",\"");
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b"\":");
        push_decimal(out, n);
    }
}

/// `,"name":true` or `false` for each of `fields`.
#[inline(always)]
fn flags(out: &mut Vec<u8>, fields: &[(&str, bool)]) {
    for &(name, flag) in fields {
        out.extend_from_slice(b",\"");
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(if flag { b"\":true" } else { b"\":false" });
    }
}

/// `n` in decimal, with its sign.
fn push_signed(out: &mut Vec<u8>, n: i64) {
    if n < 0 {
        out.push(b'-');
    }
    push_decimal(out, n.unsigned_abs());
}

/// `"2019-02-07T21:12:36Z"`
fn quoted_time(out: &mut Vec<u8>, t: Epoch) {
    out.push(b'"');
    push_rfc3339(out, t);
    out.push(b'"');
}

fn record(out: &mut Vec<u8>, a: &AlertRecord) {
    record_fields(out, a);
    out.push(b'}');
}

/// An alert record's object without its closing brace.
fn record_fields(out: &mut Vec<u8>, a: &AlertRecord) {
    out.extend_from_slice(br#"{"id":"#);
    push_decimal(out, a.id);
    out.extend_from_slice(br#","triggered":"#);
    quoted_time(out, a.triggered);
    out.extend_from_slice(br#","recovered":"#);
    optional_time(out, a.recovered);
    counts(out, &[("hits", a.hits)]);
}

/// `[{"id":1,...,"rule":"p99 > 500ms over 5m"},...]`: alert records with
/// their rule (`null` for the default rule).
fn in_force(out: &mut Vec<u8>, list: &[InForce]) {
    out.push(b'[');
    for (i, a) in list.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        record_fields(out, &a.alert);
        out.extend_from_slice(br#","rule":"#);
        match &a.rule {
            // The rule's section came from the command line; escape it all the same.
            Some(rule) => json_string(out, rule.as_bytes()),
            None => out.extend_from_slice(b"null"),
        }
        out.push(b'}');
    }
    out.push(b']');
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
    optional_time(out, s.time);
    counts(
        out,
        &[
            ("lines", s.lines),
            ("hits", s.hits),
            ("malformed", s.malformed),
            ("late", s.late),
            ("early", s.early),
            ("skipped", s.skipped),
            ("alerts", s.alerts),
        ],
    );
    out.extend_from_slice(br#","alert":"#);
    match &s.alert {
        Some(a) => record(out, a),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(br#","active":"#);
    in_force(out, &s.active);
    out.extend_from_slice(br#","first":"#);
    optional_time(out, s.first);
    out.extend_from_slice(br#","last":"#);
    optional_time(out, s.last);
    match &s.format {
        LogFormat::Auto => write!(out, r#","format":null"#)?,
        f => write!(out, r#","format":"{}""#, f.name())?,
    }
    let t = &s.totals;
    counts(out, &[("bytes", t.bytes)]);
    out.extend_from_slice(br#","status":"#);
    status(out, &t.status, t.unknown_status);
    out.extend_from_slice(br#","codes":"#);
    codes(out, &t.codes);
    out.extend_from_slice(br#","sections":"#);
    keyed(out, "section", &t.sections);
    flags(out, &[("sections_approximate", t.sections_approximate)]);
    out.extend_from_slice(br#","clients":"#);
    keyed(out, "client", &t.clients);
    flags(out, &[("clients_approximate", t.clients_approximate)]);
    out.extend_from_slice(br#","latency":"#);
    latency(out, t.latency)?;
    writeln!(out, "}}")
}

/// `{"1xx":n,...,"5xx":n,"unknown":n}`
fn status(out: &mut Vec<u8>, classes: &StatusClasses, unknown: u64) {
    let [s1, s2, s3, s4, s5] = *classes;
    out.extend_from_slice(br#"{"1xx":"#);
    push_decimal(out, s1);
    counts(out, &[("2xx", s2), ("3xx", s3), ("4xx", s4), ("5xx", s5), ("unknown", unknown)]);
    out.push(b'}');
}

/// `[{"<name>":"/api","hits":12},...]`
fn keyed(out: &mut Vec<u8>, name: &str, list: &[KeyHits]) {
    out.push(b'[');
    for (i, k) in list.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"");
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b"\":");
        json_string(out, &k.key);
        counts(out, &[("hits", k.hits)]);
        out.push(b'}');
    }
    out.push(b']');
}

/// `[{"code":503,"hits":7},...]`
fn codes(out: &mut Vec<u8>, list: &[CodeHits]) {
    out.push(b'[');
    for (i, c) in list.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(br#"{"code":"#);
        push_decimal(out, c.code.into());
        counts(out, &[("hits", c.hits)]);
        out.push(b'}');
    }
    out.push(b']');
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

fn optional_time(out: &mut Vec<u8>, t: Option<Epoch>) {
    match t {
        Some(t) => quoted_time(out, t),
        None => out.extend_from_slice(b"null"),
    }
}
