//! Replay: files (or stdin) read as one stream as fast as they can be read,
//! the log's own timestamps as the clock. Files are opened one at a time,
//! oldest first, and each is watched for what would make the run silently
//! wrong: no valid line at all, or lines going back in time.

use std::io::{self, IsTerminal, Write};
use std::time::{Duration, Instant};

use crate::diag;
use crate::engine::parse::{LogFormat, Parsed, Parser, Scratch};
use crate::engine::timestamp::Epoch;
use crate::engine::{Config, LineSink, Outcome};
use crate::error::Error;
use crate::input::{Fill, Input, Line, LineReader, Stream};
use crate::monitor::Monitor;
use crate::output::escape::{Name, Terminal};
use crate::output::text::Bytes;
use crate::output::{self, Verbosity};
use crate::poll::{self, interest};
use crate::signals::{self, Signals};

/// How a replay ended.
#[derive(Debug, PartialEq, Eq)]
pub enum End {
    /// Every input read, and at least one valid line found (or none read).
    Complete,
    /// Input was read and not one line of it was valid: the summary's
    /// zeros would read as "all quiet", so the run fails.
    NothingValid,
    /// INT, TERM or HUP stopped the reading early.
    Signal(i32),
}

/// Decoded bytes searched for a file's first timestamp.
const PEEK: usize = 4 << 20;

/// Bytes of a line quoted in a message.
const EXCERPT: usize = 120;

/// Names listed in a message about many inputs.
const NAMES_SHOWN: usize = 10;

/// Replays `inputs`, regular files oldest first, then closes every second
/// and writes the last report and the summary. INT, TERM or HUP stop the
/// reading at the next read, and what was left unread is said; USR1 writes
/// a report of the interval so far.
pub fn run<W: Write>(
    inputs: &[Input],
    config: &Config,
    verbosity: Verbosity,
    signals: &mut Signals,
    monitor: &mut Monitor<W>,
) -> Result<End, Error> {
    let mut reader = LineReader::default();
    let order = time_order(inputs, &config.format, &mut reader)?;
    let mut progress = Progress::wanted(verbosity).then(|| Progress::new(inputs));
    let mut accounts = Vec::with_capacity(order.len());
    for (k, &i) in order.iter().enumerate() {
        let mut stream = Stream::open(&inputs[i])?;
        let mut account = Account::new(config.window);
        let stopped = replay_one(&mut stream, &mut reader, signals, monitor, &mut account, &mut progress);
        let stopped = stopped?;
        if let Some(p) = &mut progress {
            p.done(&stream);
        }
        if let Some(sig) = stopped {
            if let Some(p) = &mut progress {
                p.erase();
            }
            diag::say(format_args!("{}: replay interrupted", signals::name(sig)));
            say_unread(&stream, &order[k + 1..], inputs);
            monitor.finish(None)?;
            return Ok(End::Signal(sig));
        }
        accounts.push((stream.name().clone(), account));
    }
    if let Some(p) = &mut progress {
        p.erase();
    }
    let stopped = act_on_signals(signals, monitor)?;
    monitor.finish(None)?;
    if let Some(sig) = stopped {
        diag::say(format_args!("{}: replay interrupted", signals::name(sig)));
        return Ok(End::Signal(sig));
    }
    Ok(judge(&accounts))
}

/// Reads one input to its end, or until a signal ends the run (returned).
fn replay_one<W: Write>(
    stream: &mut Stream,
    reader: &mut LineReader,
    signals: &mut Signals,
    monitor: &mut Monitor<W>,
    account: &mut Account,
    progress: &mut Option<Progress>,
) -> Result<Option<i32>, Error> {
    let name = stream.name().clone();
    loop {
        // A pipe can keep a read waiting: wait for it and for signals
        // together, as live mode does. A regular file never waits.
        let ready = match stream.poll_fd() {
            Some(fd) => wait_for_input(fd, signals)?,
            None => true,
        };
        // Once per block read: signals cost nothing per line.
        if let Some(sig) = act_on_signals(signals, monitor)? {
            return Ok(Some(sig));
        }
        match stream.fill(reader, ready)? {
            Fill::End => break,
            Fill::Starved => continue,
            Fill::Read(_) => {}
        }
        monitor.lines(&name, &mut reader.batch(), &mut Accounting { account, name: &name })?;
        if let Some(p) = progress {
            p.show(stream);
        }
    }
    reader.finish(|number, line| {
        let outcome = monitor.line(&name, number, line)?;
        Accounting { account, name: &name }.line(number, line, outcome);
        Ok::<(), Error>(())
    })?;
    Ok(None)
}

/// Writes a report if one was asked for; returns a signal that ends the run.
fn act_on_signals<W: Write>(signals: &mut Signals, monitor: &mut Monitor<W>) -> Result<Option<i32>, Error> {
    let pending = signals.take();
    if pending.report {
        monitor.report_now(None)?;
    }
    Ok(pending.terminate)
}

/// Sleeps until `fd` has input (or its end) or a signal arrived; says
/// whether `fd` is ready.
fn wait_for_input(fd: std::os::fd::BorrowedFd<'_>, signals: &Signals) -> Result<bool, Error> {
    let mut fds = [interest(fd, libc::POLLIN), interest(signals.fd(), libc::POLLIN)];
    poll::wait(&mut fds, None).map_err(|e| Error::system("poll", e))?;
    Ok(fds[0].revents != 0)
}

/// The order to read `inputs` in: regular files by their first valid
/// timestamp, oldest first, in the places regular files hold on the
/// command line. Pipes and stdin cannot be read twice: they stay where they
/// are, as do files without a valid line. Each file is opened, read until
/// its first valid line and closed, one at a time, so a missing or
/// unreadable one fails before any output. The order is said when it
/// differs from the command line's.
fn time_order(inputs: &[Input], format: &LogFormat, reader: &mut LineReader) -> Result<Vec<usize>, Error> {
    let mut order: Vec<usize> = (0..inputs.len()).collect();
    if inputs.len() < 2 {
        return Ok(order);
    }
    let mut firsts = Vec::new();
    for (i, input) in inputs.iter().enumerate() {
        let Input::Path(path) = input else { continue };
        let meta = path.metadata().map_err(|e| Error::input(input.name(), e))?;
        if meta.is_dir() {
            return Err(Error::input(input.name(), io::Error::from_raw_os_error(libc::EISDIR)));
        }
        if !meta.is_file() {
            continue;
        }
        if let Some(t) = first_time(input, format, reader)? {
            firsts.push((i, t));
        }
    }
    let slots: Vec<usize> = firsts.iter().map(|&(i, _)| i).collect();
    firsts.sort_by_key(|&(_, t)| t);
    for (slot, (i, _)) in slots.into_iter().zip(firsts) {
        order[slot] = i;
    }
    if order.iter().enumerate().any(|(k, &i)| k != i) {
        let names: Vec<Name> = order.iter().map(|&i| inputs[i].name()).collect();
        diag::say(format_args!("reading the files oldest first: {}", NameList(&names)));
    }
    Ok(order)
}

/// The timestamp of a file's first valid line within its first [`PEEK`]
/// bytes, read with the parser replay uses.
fn first_time(input: &Input, format: &LogFormat, reader: &mut LineReader) -> Result<Option<Epoch>, Error> {
    let mut stream = Stream::open(input)?;
    let mut parser = Parser::new(format.clone());
    let mut scratch = Scratch::default();
    let mut read = 0;
    let mut found = None;
    while found.is_none() && read < PEEK {
        match stream.fill(reader, true)? {
            Fill::End => break,
            Fill::Starved => continue,
            Fill::Read(n) => read += n,
        }
        found = reader.batch().find_map(|(_, line)| match parser.parse(line.bytes(), &mut scratch) {
            Parsed::Hit(record) => Some(record.time),
            _ => None,
        });
    }
    if found.is_none() {
        let _ = reader.finish(|_, line| {
            if let Parsed::Hit(record) = parser.parse(line.bytes(), &mut scratch) {
                found = Some(record.time);
            }
            Ok::<(), ()>(())
        });
    }
    // Whatever is left belongs to this peek, not to the replay.
    let _ = reader.finish(|_, _| Ok::<(), ()>(()));
    Ok(found)
}

/// What one input gave, for the warnings that name it.
#[derive(Debug)]
struct Account {
    /// The first malformed line: its number and its first bytes.
    first_bad: Option<(u64, Vec<u8>)>,
    /// The newest timestamp so far: `Epoch::MIN` until the first hit, as
    /// every timestamp read is from 1970 on (see
    /// [`had_hits`](Self::had_hits)).
    newest: Epoch,
    /// The alert window, seconds: going back further is warned about.
    /// Kept beside `newest`, which the usual hit compares with it: read
    /// through the account as it is, it costs no argument of its own.
    window: u64,
    /// The going-back warning was given.
    warned: bool,
}

/// An input's [`Account`] as the engine counts its lines.
struct Accounting<'a> {
    account: &'a mut Account,
    name: &'a Name,
}

impl LineSink for Accounting<'_> {
    /// Inlined into the per-line loop: a hit costs a compare.
    #[inline(always)]
    fn line(&mut self, number: u64, line: Line<'_>, outcome: Outcome) {
        let Accounting { account, name } = self;
        account.line(name, number, line, outcome);
    }
}

impl Account {
    /// An input's account, before any line, for an alert window of
    /// `window` seconds.
    fn new(window: u32) -> Account {
        Account { first_bad: None, newest: Epoch::MIN, window: u64::from(window), warned: false }
    }

    /// Whether a hit was counted: the newest timestamp says so, and a hit
    /// costs no count of its own.
    fn had_hits(&self) -> bool {
        self.newest != Epoch::MIN
    }

    #[inline(always)]
    fn line(&mut self, name: &Name, number: u64, line: Line<'_>, outcome: Outcome) {
        match outcome {
            // The usual hit is no newer than the newest and within the
            // window behind it: one compare, as the difference wraps to a
            // large unsigned number when the hit is newer (or the first).
            Outcome::Hit { time, .. } if self.newest.wrapping_sub(time) as u64 > self.window => {
                self.unusual_hit(name, number, time);
            }
            Outcome::Malformed(_) if self.first_bad.is_none() => {
                let bytes = line.bytes();
                self.first_bad = Some((number, bytes[..bytes.len().min(EXCERPT)].to_vec()));
            }
            Outcome::Hit { .. } | Outcome::Malformed(_) | Outcome::Skipped => {}
        }
    }

    /// A hit newer than the newest, or further back than the window (said
    /// once an input).
    #[cold]
    fn unusual_hit(&mut self, name: &Name, number: u64, time: Epoch) {
        if time > self.newest {
            self.newest = time;
        } else if !self.warned {
            self.warned = true;
            say_back_in_time(name, number, self.newest - time, self.window);
        }
    }
}

/// Says, once an input, that line `number` goes back in time by `by`
/// seconds, more than the alert window.
#[cold]
fn say_back_in_time(name: &Name, number: u64, by: i64, window: u64) {
    diag::say(format_args!(
        "{}:{number}: the log goes back in time by {}, more than the {} alert window: \
         lines that old are counted late (are two logs joined in one file?)",
        name,
        output::Duration(by),
        output::Duration(window as i64), // from a u32: exact
    ));
}

/// Says which inputs held lines and not one valid line; the run fails when
/// the whole replay found none.
fn judge(accounts: &[(Name, Account)]) -> End {
    for (name, account) in accounts {
        let Some((number, line)) = account.first_bad.as_ref().filter(|_| !account.had_hits()) else { continue };
        let shown = if line.is_empty() { "(a line too long to show)".to_owned() } else { Terminal(line).to_string() };
        diag::say(format_args!(
            "{}: not one valid log line; line {number} reads: {shown}\n\
             logmon: is it in another format? --log-format names the formats logmon reads (logmon --help)",
            name,
        ));
    }
    let read_something = accounts.iter().any(|(_, a)| a.first_bad.is_some());
    if read_something && accounts.iter().all(|(_, a)| !a.had_hits()) { End::NothingValid } else { End::Complete }
}

/// After a signal: says what the replay did not read.
fn say_unread(current: &Stream, rest: &[usize], inputs: &[Input]) {
    let here = match current.bytes_left() {
        Some(0) => None,
        Some(n) => Some(format!("{} of {}", Bytes(n), current.name())),
        None => Some(format!("the rest of {}", current.name())),
    };
    let names: Vec<Name> = rest.iter().map(|&i| inputs[i].name()).collect();
    let more = match names.len() {
        0 => None,
        1 => Some(format!("1 more input ({})", NameList(&names))),
        n => Some(format!("{n} more inputs ({})", NameList(&names))),
    };
    match (here, more) {
        (None, None) => {}
        (Some(h), None) => diag::say(format_args!("left unread: {h}")),
        (None, Some(m)) => diag::say(format_args!("left unread: {m}")),
        (Some(h), Some(m)) => diag::say(format_args!("left unread: {h}, and {m}")),
    }
}

/// Input names, escaped, the first [`NAMES_SHOWN`] of them.
struct NameList<'a>(&'a [Name]);

impl std::fmt::Display for NameList<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (k, name) in self.0.iter().take(NAMES_SHOWN).enumerate() {
            if k > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{}", name)?;
        }
        if self.0.len() > NAMES_SHOWN {
            write!(f, " and {} more", self.0.len() - NAMES_SHOWN)?;
        }
        Ok(())
    }
}

/// A self-erasing progress line on stderr, for a replay that takes more
/// than a second, when stderr is a terminal that the reports do not share.
struct Progress {
    started: Instant,
    shown: Option<Instant>,
    /// Bytes of the inputs, when all are regular files.
    total: Option<u64>,
    /// Bytes of the inputs already read to their end.
    done: u64,
}

/// How often the progress line changes.
const PROGRESS_EVERY: Duration = Duration::from_millis(250);

impl Progress {
    /// stderr a terminal, and stdout elsewhere or silent until the summary.
    fn wanted(verbosity: Verbosity) -> bool {
        io::stderr().is_terminal() && (!io::stdout().is_terminal() || verbosity == Verbosity::Summary)
    }

    fn new(inputs: &[Input]) -> Progress {
        let total = inputs.iter().map(Input::size).sum();
        Progress { started: Instant::now(), shown: None, total, done: 0 }
    }

    fn done(&mut self, stream: &Stream) {
        self.done += stream.bytes_read();
    }

    fn show(&mut self, stream: &Stream) {
        let now = Instant::now();
        let elapsed = now - self.started;
        if elapsed < Duration::from_secs(1) || self.shown.is_some_and(|t| now - t < PROGRESS_EVERY) {
            return;
        }
        self.shown = Some(now);
        let line = format!("\rlogmon: {}\x1b[K", progress(self.done + stream.bytes_read(), self.total, elapsed));
        let _ = io::stderr().lock().write_all(line.as_bytes());
    }

    fn erase(&mut self) {
        if self.shown.take().is_some() {
            let _ = io::stderr().lock().write_all(b"\r\x1b[K");
        }
    }
}

/// An error ending the run leaves no progress line for its message to
/// follow on the same line.
impl Drop for Progress {
    fn drop(&mut self) {
        self.erase();
    }
}

/// `read 12.0 MiB of 48.0 MiB (25%), 4.0 MiB/s, 9s left`; without a total,
/// the bytes and the rate alone.
fn progress(read: u64, total: Option<u64>, elapsed: Duration) -> String {
    let rate = (read as f64 / elapsed.as_secs_f64().max(0.001)) as u64;
    match total.filter(|&t| t > 0) {
        Some(total) => {
            let left = total.saturating_sub(read);
            let mut line = format!("read {} of {} ({}%)", Bytes(read), Bytes(total), read.min(total) * 100 / total);
            if rate > 0 {
                line += &format!(", {}/s, {} left", Bytes(rate), output::Duration((left / rate) as i64));
            }
            line
        }
        None => format!("read {}, {}/s", Bytes(read), Bytes(rate)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_progress_line_says_bytes_rate_and_time_left() {
        const MIB: u64 = 1 << 20;
        let four_s = Duration::from_secs(4);
        assert_eq!(progress(12 * MIB, Some(48 * MIB), four_s), "read 12.0 MiB of 48.0 MiB (25%), 3.0 MiB/s, 12s left");
        assert_eq!(progress(12 * MIB, None, four_s), "read 12.0 MiB, 3.0 MiB/s");
        assert_eq!(progress(0, Some(MIB), four_s), "read 0 B of 1.0 MiB (0%)");
        // A file that grew while read: never past 100 %.
        assert_eq!(progress(2 * MIB, Some(MIB), four_s), "read 2.0 MiB of 1.0 MiB (100%), 512.0 KiB/s, 0s left");
    }
}
