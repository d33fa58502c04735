//! Diagnostics on stderr: lifecycle messages, warnings and the first
//! malformed lines. stdout carries data only. Failing to write here never
//! stops a run.

use std::fmt;
use std::io::{self, Write};

use crate::engine::parse::{LogFormat, Malformed};
use crate::engine::rule::Rule;
use crate::output::escape::{Name, Shown, Terminal};

/// Malformed lines shown with their content; later ones are only counted.
pub const SHOWN: u32 = 10;

/// Bytes of a malformed line shown.
const EXCERPT: usize = 160;

/// Writes `logmon: <message>` on stderr.
pub fn say(message: fmt::Arguments<'_>) {
    let _ = writeln!(io::stderr().lock(), "logmon: {message}");
}

/// Why an `--alert` rule on response times can never fire under `format`
/// (whose lines log none), or `None` if none of `rules` is such a rule.
/// Said as an error for a format named on the command line, as a warning
/// for the one `auto` chose.
pub fn latency_never_fires(rules: &[Rule], format: &LogFormat) -> Option<String> {
    let rule = rules.iter().find(|r| r.is_latency())?;
    (format.carries_latency() == Some(false)).then(|| {
        format!("--alert '{}' will never fire: the {} format logs no response time", Shown(rule), format.name())
    })
}

#[derive(Debug, Default)]
pub struct MalformedLines {
    seen: u32,
}

impl MalformedLines {
    /// Shows line `number` of `source` and why it is malformed, the first
    /// [`SHOWN`] times.
    pub fn report(&mut self, source: &Name, number: u64, why: Malformed, line: &[u8]) {
        self.seen = self.seen.saturating_add(1);
        if self.seen > SHOWN + 1 {
            return;
        }
        if self.seen == SHOWN + 1 {
            say(format_args!("more malformed lines: counted in reports and the summary, not shown"));
            return;
        }
        let excerpt = &line[..line.len().min(EXCERPT)];
        let more = if line.len() > EXCERPT { "..." } else { "" };
        if line.is_empty() {
            say(format_args!("{source}:{number}: malformed line ({why})"));
        } else {
            say(format_args!("{source}:{number}: malformed line ({why}): {}{more}", Terminal(excerpt)));
        }
    }
}
