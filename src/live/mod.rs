//! Live mode: one thread and one poll(2) loop over the input, a signal
//! self-pipe and stdout. The wall clock closes seconds, so reports and
//! recoveries come on time even when no line arrives; lines are still
//! counted by their own timestamps. This is the only place that reads the
//! clock.

pub mod follow;

use std::fs::File;
use std::io::{self, Write};
use std::os::fd::AsFd;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use crate::cli::Options;
use crate::diag;
use crate::engine::skew::Skew;
use crate::engine::timestamp::Epoch;
use crate::error::Error;
use crate::input::Input;
use crate::input::LineReader;
use crate::monitor::Monitor;
use crate::output;
use crate::output::escape::Name;
use crate::poll::{self, interest};
use crate::signals::{self, Signals};
use follow::Follower;

/// Bytes read per turn of the loop at most, so that a backlog (a fast
/// writer, `--from-start` on a large file) never holds up deadlines.
const READ_BUDGET: usize = 4 << 20;

/// Bytes read at shutdown from a pipe whose writer goes on writing.
const SHUTDOWN_BUDGET: usize = 64 << 20;

/// Follows a file like `tail -F` until a signal ends the run.
pub fn follow<W: Write>(path: &Path, options: &Options, monitor: &mut Monitor<W>) -> Result<(), Error> {
    let signals = Signals::install(true).map_err(|e| Error::system("installing signal handlers", e))?;
    let follower = Follower::new(path, options.from_start);
    let source = Source::Follow { follower, every: options.check_interval, next_check: Instant::now() };
    Loop::new(source, signals, monitor).run()
}

/// Reads a pipe or terminal until its writer ends it or a signal does.
pub fn stream<W: Write>(input: Input, monitor: &mut Monitor<W>) -> Result<(), Error> {
    let signals = Signals::install(false).map_err(|e| Error::system("installing signal handlers", e))?;
    let name = input.name();
    let file = input.open()?;
    diag::say(format_args!("reading {name} live; INT or TERM ends the run with a summary"));
    let source = Source::Stream { file, name, reader: LineReader::default() };
    Loop::new(source, signals, monitor).run()
}

enum Source {
    /// A pipe or terminal: polled for input.
    Stream { file: File, name: Name, reader: LineReader },
    /// A followed file: regular files always poll readable, so it is read
    /// and checked on a timer instead.
    Follow { follower: Follower, every: Duration, next_check: Instant },
}

struct Loop<'m, W: Write> {
    source: Source,
    signals: Signals,
    monitor: &'m mut Monitor<W>,
    skew: Skew,
    /// More input is waiting: poll without sleeping.
    backlog: bool,
    started: Instant,
}

/// How a run ended.
enum End {
    Signal(i32),
    EndOfInput,
}

impl<'m, W: Write> Loop<'m, W> {
    fn new(source: Source, signals: Signals, monitor: &'m mut Monitor<W>) -> Self {
        Loop { source, signals, monitor, skew: Skew::default(), backlog: false, started: Instant::now() }
    }

    fn run(mut self) -> Result<(), Error> {
        let mut second = now().as_secs() as Epoch;
        self.monitor.time(second)?;
        let end = loop {
            let wall = now();
            let this_second = wall.as_secs() as Epoch;
            if this_second != second {
                self.observe_skew(this_second);
                second = this_second;
            }
            self.monitor.time(this_second)?;
            if let Some(end) = self.wait_and_handle(wall)? {
                break end;
            }
        };
        self.finish(end)
    }

    /// One turn: sleep until the next deadline or event, then act on it.
    fn wait_and_handle(&mut self, wall: Duration) -> Result<Option<End>, Error> {
        let mut timeout =
            self.monitor.engine().next_deadline().map(|d| Duration::from_secs(d as u64).saturating_sub(wall));
        if let Source::Follow { next_check, .. } = &self.source {
            let check = next_check.saturating_duration_since(Instant::now());
            timeout = Some(timeout.map_or(check, |t| t.min(check)));
        }
        if self.backlog {
            timeout = Some(Duration::ZERO);
        }
        // Entries by position: the self-pipe (read through `signals.take`
        // whatever poll says), stdout, then the input if it is polled.
        const STDOUT: usize = 1;
        const INPUT: usize = 2;
        let stdout = io::stdout();
        let mut fds = vec![interest(self.signals.fd(), libc::POLLIN), interest(stdout.as_fd(), 0)];
        if let Source::Stream { file, .. } = &self.source {
            fds.push(interest(file.as_fd(), libc::POLLIN));
        }
        poll::wait(&mut fds, timeout).map_err(|e| Error::system("poll", e))?;

        let pending = self.signals.take();
        if let Some(sig) = pending.terminate {
            return Ok(Some(End::Signal(sig)));
        }
        // The reader of stdout went away (`logmon | head`): nothing more can
        // be said, so stop at once, even while idle.
        if fds[STDOUT].revents & (libc::POLLERR | libc::POLLHUP) != 0 {
            return Err(Error::BrokenPipe);
        }
        if pending.report {
            self.monitor.report_now(Some(now().as_secs() as Epoch))?;
        }
        match &mut self.source {
            Source::Stream { file, name, reader } => {
                if fds[INPUT].revents == 0 {
                    return Ok(None);
                }
                // One read per wakeup: poll promised it will not block. The
                // descriptor is not made O_NONBLOCK: that flag lives on the
                // open file description, which a terminal on stdin shares
                // with the shell, and would outlive logmon.
                let n = reader.read_from(file).map_err(|e| Error::input(name.clone(), e))?;
                if n == 0 {
                    return Ok(Some(End::EndOfInput));
                }
                self.backlog = reader.was_full();
                let monitor = &mut *self.monitor;
                reader.lines(|number, line| monitor.line(name, number, line).map(drop))?;
            }
            Source::Follow { follower, every, next_check } => {
                let due = pending.reopen || Instant::now() >= *next_check;
                if !(due || self.backlog) {
                    return Ok(None);
                }
                let mut budget = READ_BUDGET;
                if due {
                    self.backlog = follower.check(&mut budget, self.monitor)?;
                    *next_check = Instant::now() + *every;
                } else {
                    self.backlog = follower.read(&mut budget, self.monitor)?;
                }
            }
        }
        Ok(None)
    }

    /// Once a second: if the input is caught up, compare the newest line
    /// read with the wall clock (see [`crate::engine::skew`]).
    fn observe_skew(&mut self, second: Epoch) {
        let newest = self.monitor.take_newest();
        let Some(newest) = newest.filter(|_| !self.backlog) else { return };
        if let Some(offset) = self.skew.observe(second, newest) {
            let (how, by) = if offset >= 0 { ("behind", offset) } else { ("ahead of", -offset) };
            diag::say(format_args!(
                "the log's clock is {} {how} this machine's; shifting its timestamps by {offset:+} s",
                output::Duration(by)
            ));
            self.monitor.engine_mut().set_offset(offset);
        }
    }

    /// Reads what is already there, closes every open second, writes the
    /// last report and the summary.
    fn finish(mut self, end: End) -> Result<(), Error> {
        match &mut self.source {
            Source::Stream { file, name, reader } => {
                if let End::Signal(_) = end {
                    drain_available(file, name, reader, self.monitor)?;
                }
                let monitor = &mut *self.monitor;
                reader.finish(|number, line| monitor.line(name, number, line).map(drop))?;
            }
            Source::Follow { follower, .. } => follower.finish(self.monitor)?,
        }
        self.monitor.finish(Some(now().as_secs() as Epoch))?;
        let ran = output::Duration(self.started.elapsed().as_secs() as i64);
        match end {
            End::Signal(sig) => diag::say(format_args!("{}: stopped after {ran}", signals::name(sig))),
            End::EndOfInput => diag::say(format_args!("end of input after {ran}")),
        }
        Ok(())
    }
}

/// Reads what a pipe holds right now, without waiting for more.
fn drain_available<W: Write>(
    file: &mut File,
    name: &Name,
    reader: &mut LineReader,
    monitor: &mut Monitor<W>,
) -> Result<(), Error> {
    let mut budget = SHUTDOWN_BUDGET;
    while budget > 0 {
        let mut fds = [interest(file.as_fd(), libc::POLLIN)];
        poll::wait(&mut fds, Some(Duration::ZERO)).map_err(|e| Error::system("poll", e))?;
        if fds[0].revents == 0 {
            break;
        }
        let n = reader.read_from(file).map_err(|e| Error::input(name.clone(), e))?;
        if n == 0 {
            break;
        }
        budget = budget.saturating_sub(n);
        reader.lines(|number, line| monitor.line(name, number, line).map(drop))?;
    }
    Ok(())
}

/// The wall clock, as time since the epoch. A clock set before 1970 reads
/// as the epoch itself rather than failing.
fn now() -> Duration {
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default()
}
