//! The engine wired to a writer and to stderr diagnostics: what replay and
//! live mode share. Events go out as soon as the engine produces them.

use std::io::Write;

use crate::diag::MalformedLines;
use crate::engine::parse::LogFormat;
use crate::engine::timestamp::Epoch;
use crate::engine::{Engine, Event, LineSink, MAX_DELAY, Notice, Now, Outcome};
use crate::error::Error;
use crate::hooks::Hooks;
use crate::input::{Batch, Line};
use crate::output::Output;
use crate::output::escape::Name;
use crate::output::metrics::MetricsFile;
use crate::suspect::Suspect;
use crate::{diag, output};

pub struct Monitor<W: Write> {
    engine: Engine,
    out: Output<W>,
    malformed: MalformedLines,
    /// `--metrics`: told every line's outcome and every event.
    metrics: Option<MetricsFile>,
    /// Live: warns when the input looks like no log logmon reads.
    suspect: Option<Suspect>,
    /// `--exec`: told every event.
    hooks: Option<Hooks>,
    /// `--log-format auto` still has to say what it chose.
    announce: bool,
}

impl<W: Write> Monitor<W> {
    pub fn new(engine: Engine, out: Output<W>) -> Monitor<W> {
        let announce = engine.log_format() == LogFormat::Auto;
        Monitor {
            engine,
            out,
            malformed: MalformedLines::default(),
            metrics: None,
            suspect: None,
            hooks: None,
            announce,
        }
    }

    pub fn with_hooks(mut self, hooks: Option<Hooks>) -> Monitor<W> {
        self.hooks = hooks;
        self
    }

    pub fn hooks(&self) -> Option<&Hooks> {
        self.hooks.as_ref()
    }

    pub fn hooks_mut(&mut self) -> Option<&mut Hooks> {
        self.hooks.as_mut()
    }

    pub fn with_metrics(mut self, metrics: Option<MetricsFile>) -> Monitor<W> {
        self.metrics = metrics;
        self
    }

    /// Live: warn about malformed input as it comes (see [`Suspect`]).
    pub fn with_suspect(mut self, suspect: Option<Suspect>) -> Monitor<W> {
        self.suspect = suspect;
        self
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Line `number` of `source`.
    pub fn line(&mut self, source: &Name, number: u64, line: Line<'_>) -> Result<Outcome, Error> {
        let outcome = match line {
            Line::Text(text) => self.engine.handle_line(text),
            Line::Overlong => self.engine.handle_overlong_line(),
        };
        self.after_line(source, number, line, outcome)
    }

    /// Counts a batch of lines of `source`, then writes what they brought;
    /// `also` is told each line's outcome after the monitor's own use of it.
    /// Inlined into the caller's read loop, whatever the size of the
    /// counting inlined into it: it holds the loop over a batch's lines.
    #[inline(always)]
    pub fn lines(&mut self, source: &Name, batch: &mut Batch<'_>, also: &mut impl LineSink) -> Result<(), Error> {
        loop {
            // Until the chosen format is said, one line at a time: it is
            // said before anything about the lines after its first hit.
            if self.announce {
                let Some((number, line)) = batch.next() else { return Ok(()) };
                let outcome = self.line(source, number, line)?;
                also.line(number, line, outcome);
                continue;
            }
            // Most runs have neither metrics nor the live format check,
            // which looks at lines only until the start is past (the first
            // hit, or its warning about the first lines): their loop
            // leaves out both tests a line.
            let counted = if self.suspect.as_ref().is_some_and(Suspect::watches_lines) || self.metrics.is_some() {
                self.count_found::<true>(source, batch, also)
            } else {
                self.count_found::<false>(source, batch, also)
            };
            if !counted {
                return Ok(());
            }
            if self.engine.has_output() {
                self.flush()?;
            }
        }
    }

    /// Counts the lines of `batch` up to the next event, as many as a search
    /// found at a time, or a line too long to keep; false when no line was left. `EXTRAS`:
    /// whether the metrics and the live format check are told each line.
    #[inline(always)]
    fn count_found<const EXTRAS: bool>(
        &mut self,
        source: &Name,
        batch: &mut Batch<'_>,
        also: &mut impl LineSink,
    ) -> bool {
        let mut sink = Sink::<_, EXTRAS> {
            source,
            malformed: &mut self.malformed,
            metrics: self.metrics.as_mut(),
            suspect: self.suspect.as_mut(),
            also,
        };
        if let Some(mut found) = batch.found_lines() {
            // The lines the engine leaves (it stops for an event) come
            // next: `found` gives them back when dropped.
            self.engine.handle_lines(&mut found, &mut sink);
        } else {
            // No newline left: a line too long to keep may be counted.
            match batch.next() {
                Some(line) => self.engine.handle_lines(&mut std::iter::once(line), &mut sink),
                None => return false,
            }
        }
        true
    }

    /// The last line of `source`, cut off by the end of a live run: counted
    /// as skipped, and said, when it does not parse whole (see
    /// [`Engine::handle_cut_line`]).
    pub fn cut_line(&mut self, source: &Name, number: u64, line: Line<'_>) -> Result<Outcome, Error> {
        let Line::Text(text) = line else { return self.line(source, number, line) };
        let outcome = self.engine.handle_cut_line(text);
        if outcome == Outcome::Skipped {
            diag::say(format_args!(
                "{source}:{number}: last line cut off by the end of the run; counted as skipped, not malformed"
            ));
        }
        self.after_line(source, number, line, outcome)
    }

    /// Everything a line's outcome goes to once the engine has counted it,
    /// one line at a time: the chosen format said at the first hit, what
    /// [`Sink`] does in a batch, and the events it brought.
    fn after_line(&mut self, source: &Name, number: u64, line: Line<'_>, outcome: Outcome) -> Result<Outcome, Error> {
        if matches!(outcome, Outcome::Hit { .. }) && std::mem::take(&mut self.announce) {
            let format = self.engine.log_format();
            diag::say(format_args!("log format: {}", format.announced()));
            if let Some(why) = diag::latency_never_fires(self.engine.rules(), &format) {
                diag::say(format_args!("warning: {why}"));
            }
        }
        let mut sink = Sink::<_, true> {
            source,
            malformed: &mut self.malformed,
            metrics: self.metrics.as_mut(),
            suspect: self.suspect.as_mut(),
            also: &mut (),
        };
        sink.line(number, line, outcome);
        if self.engine.has_output() {
            self.flush()?;
        }
        Ok(outcome)
    }

    /// Input `name` cannot be read (`Some`, and why) or can again (`None`):
    /// said under every report while it lasts.
    pub fn set_trouble(&mut self, name: &[u8], problem: Option<&str>) {
        self.out.troubles_mut().set(name, problem);
    }

    /// Live: a reading of both clocks.
    pub fn clock(&mut self, now: Now) -> Result<(), Error> {
        self.engine.handle_clock(now);
        self.flush()
    }

    /// A report of the interval so far; `None` for the engine's own clock.
    pub fn report_now(&mut self, now: Option<Epoch>) -> Result<(), Error> {
        self.engine.request_report(now);
        self.flush()
    }

    pub fn finish(&mut self, now: Option<Epoch>) -> Result<(), Error> {
        self.engine.finish(now);
        self.flush()
    }

    /// Whether the engine is to make reports: whether anything [`flush`]
    /// hands them to reads them. That is the output unless `--quiet` or
    /// `--summary`, the metrics file (its requests and bytes are sums of
    /// reports) and the live format check; hooks run on alerts alone. A new
    /// reader of `Event::Report` in `flush` must be named here too, or it
    /// gets none.
    ///
    /// [`flush`]: Monitor::flush
    pub fn needs_reports(out: &Output<W>, metrics: Option<&MetricsFile>, suspect: Option<&Suspect>) -> bool {
        out.wants_reports() || metrics.is_some() || suspect.is_some()
    }

    /// Writes every event the engine has queued, and says its notices.
    #[inline]
    fn flush(&mut self) -> Result<(), Error> {
        while let Some(notice) = self.engine.poll_notice() {
            say(notice);
        }
        while let Some(event) = self.engine.poll_event() {
            self.out.event(&event)?;
            if let Some(metrics) = &mut self.metrics {
                metrics.event(&event, self.engine.window_hits());
            }
            if let (Some(suspect), Event::Report(report)) = (&mut self.suspect, &event) {
                suspect.report(report);
            }
            if let Some(hooks) = &mut self.hooks {
                hooks.event(&event);
            }
        }
        Ok(())
    }
}

/// What each line's outcome goes to once the engine has counted it, whole
/// or cut: diagnostics, metrics, the live format check, and the caller's
/// own sink. Without `EXTRAS`, the metrics and the live format check are
/// not looked for (see [`Monitor::lines`]).
struct Sink<'m, S, const EXTRAS: bool> {
    source: &'m Name,
    malformed: &'m mut MalformedLines,
    metrics: Option<&'m mut MetricsFile>,
    suspect: Option<&'m mut Suspect>,
    also: &'m mut S,
}

impl<S: LineSink, const EXTRAS: bool> LineSink for Sink<'_, S, EXTRAS> {
    #[inline(always)]
    fn line(&mut self, number: u64, line: Line<'_>, outcome: Outcome) {
        if let Outcome::Malformed(why) = outcome {
            self.malformed.report(self.source, number, why, line.bytes());
        }
        if !EXTRAS {
            return self.also.line(number, line, outcome);
        }
        if let Some(metrics) = &mut self.metrics {
            metrics.line(&outcome);
        }
        if let Some(suspect) = &mut self.suspect {
            suspect.line(self.source, &outcome);
        }
        self.also.line(number, line, outcome);
    }
}

/// A notice on stderr.
fn say(notice: Notice) {
    let ago = |seconds: i64| output::Duration(seconds.abs());
    match notice {
        Notice::LogClockOff { offset } => {
            let how = if offset >= 0 { "behind" } else { "ahead of" };
            diag::say(format_args!(
                "the log's clock is {} {how} this machine's; shifting its timestamps by {offset:+} s",
                ago(offset)
            ));
        }
        Notice::WallClockStepped { by, shift: 0 } => diag::say(format_args!(
            "this machine's clock stepped {} {}; the time in between counts as passed",
            if by >= 0 { "forward" } else { "back" },
            ago(by)
        )),
        Notice::WallClockStepped { by, shift } => diag::say(format_args!(
            "this machine's clock stepped {} {}; logmon keeps its own time and shifts timestamps by {shift:+} s",
            if by >= 0 { "forward" } else { "back" },
            ago(by)
        )),
        Notice::LateLines(late) => {
            let advice = match late.max_delay {
                Some(delay) if late.all => format!("--max-delay {delay}s would count them on time"),
                Some(delay) => format!("--max-delay {delay}s would count all but 1% of hits on time"),
                None => format!("no --max-delay up to {MAX_DELAY}s would count them on time"),
            };
            diag::say(format_args!(
                "{} of {} hits arrived late, up to {} out of order; {advice}",
                late.late,
                late.hits,
                ago(late.farthest)
            ));
        }
    }
}
