//! Live mode: one thread and one poll(2) loop over the input, a signal
//! self-pipe and stdout. The wall clock closes seconds, so reports and
//! recoveries come on time even when no line arrives; lines are still
//! counted by their own timestamps. The loop reads the clocks, and waits,
//! only through [`Clocks`], so tests run it on a fake clock.

pub mod follow;
// The tests read their pipe through /proc.
#[cfg(all(test, target_os = "linux"))]
mod tests;
mod watch;

use std::io::{self, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::{Duration, Instant, SystemTime};

use crate::cli::Options;
use crate::diag;
use crate::engine::Now;
use crate::error::Error;
use crate::input::{Fill, Input, LineReader, Stream};
use crate::monitor::Monitor;
use crate::output;
use crate::poll::{self, PollFd, interest};
use crate::signals::{self, Signals};
use follow::Follower;
use watch::{Changes, Watch};

/// Bytes read per turn of the loop at most, so that a backlog (a fast
/// writer, `--from-start` on a large file) never holds up deadlines.
const READ_BUDGET: usize = 4 << 20;

/// Bytes read at most after INT or TERM, from a backlog or from a pipe
/// whose writer goes on writing.
const SHUTDOWN_BUDGET: usize = 64 << 20;

/// Time spent reading at most after INT or TERM.
const SHUTDOWN_TIME: Duration = Duration::from_secs(1);

/// After a wakeup for new data, change events are left to gather this
/// long: a log written line by line at 50,000 lines a second would
/// otherwise wake logmon for nearly every line (measured: 13% of a core,
/// against 1% on the timer). A write to a quiet log is still read at once,
/// and a truncation or rename under a busy one is acted on within this.
const GATHER: Duration = Duration::from_millis(10);

/// Where the live loop gets the time, and waits: the system's clocks and
/// poll(2), or a test's fake clock.
pub trait Clocks {
    /// The monotonic clock.
    fn instant(&self) -> Instant;
    /// The realtime clock, as time since the epoch.
    fn realtime(&self) -> Duration;
    /// Waits until one of `fds` is ready or `timeout` passes (`None`: no
    /// timeout), as [`poll::wait`] does.
    fn wait(&mut self, fds: &mut [PollFd], timeout: Option<Duration>) -> io::Result<()>;
}

/// The system's clocks.
pub struct System;

impl Clocks for System {
    fn instant(&self) -> Instant {
        Instant::now()
    }

    /// A clock set before 1970 reads as the epoch itself rather than failing.
    fn realtime(&self) -> Duration {
        SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default()
    }

    fn wait(&mut self, fds: &mut [PollFd], timeout: Option<Duration>) -> io::Result<()> {
        poll::wait(fds, timeout)
    }
}

/// Follows files like `tail -F` until a signal ends the run. `signals`
/// were installed with HUP reopening the files.
pub fn follow<W: Write>(
    paths: &[PathBuf],
    options: &Options,
    signals: Signals,
    monitor: &mut Monitor<W>,
) -> Result<(), Error> {
    follow_on(&mut System, paths, options, signals, monitor)
}

/// [`follow`] on the given clocks.
fn follow_on<W: Write, C: Clocks>(
    clocks: &mut C,
    paths: &[PathBuf],
    options: &Options,
    signals: Signals,
    monitor: &mut Monitor<W>,
) -> Result<(), Error> {
    let now = clocks.instant();
    // Without inotify (no instance left, another system) the timer serves.
    let watch = Watch::new().ok().map(Rc::new);
    let followers: Vec<Follower> =
        paths.iter().map(|path| Follower::new(path, options.from_start, now, watch.clone())).collect();
    // Said on stderr already: a report asked for before the first turn
    // says it too.
    for follower in &followers {
        monitor.set_trouble(follower.path().as_os_str().as_bytes(), follower.trouble_now());
    }
    let following = Following { followers, watch, every: options.check_interval, next_check: now, gather_until: now };
    let source = Source::Follow(following);
    Loop::new(source, signals, monitor, clocks).run()
}

/// Reads a pipe or terminal until its writer ends it or a signal does;
/// gzip is decompressed as it comes.
pub fn stream<W: Write>(input: Input, signals: Signals, monitor: &mut Monitor<W>) -> Result<(), Error> {
    stream_on(&mut System, input, signals, monitor)
}

/// [`stream`] on the given clocks.
fn stream_on<W: Write, C: Clocks>(
    clocks: &mut C,
    input: Input,
    signals: Signals,
    monitor: &mut Monitor<W>,
) -> Result<(), Error> {
    let stream = Stream::open(&input)?;
    diag::say(format_args!("reading {} live; INT or TERM ends the run with a summary", stream.name()));
    let source = Source::Stream { stream, reader: LineReader::default() };
    Loop::new(source, signals, monitor, clocks).run()
}

enum Source {
    /// A pipe or terminal: polled for input.
    Stream {
        stream: Stream,
        reader: LineReader,
    },
    Follow(Following),
}

/// Followed files: regular files always poll readable, so they are read
/// and checked when inotify says they changed, and on a timer.
struct Following {
    followers: Vec<Follower>,
    watch: Option<Rc<Watch>>,
    /// The timer: `--check-interval`, and the next check.
    every: Duration,
    next_check: Instant,
    /// Change events are not polled before this (see [`GATHER`]).
    gather_until: Instant,
}

impl Following {
    /// The longest the loop may sleep: until the next check, or until
    /// change events are polled again.
    fn timeout(&self, now: Instant) -> Duration {
        let check = self.next_check.saturating_duration_since(now);
        match &self.watch {
            Some(_) if now < self.gather_until => check.min(self.gather_until - now),
            _ => check,
        }
    }

    /// The change events' descriptor, when they are to be polled now.
    fn poll_fd(&self, now: Instant) -> Option<BorrowedFd<'_>> {
        self.watch.as_ref().filter(|_| now >= self.gather_until).map(|w| w.fd())
    }

    /// A turn for the followed files: a check when one is due (the timer,
    /// HUP, a path that changed), else a read when there is something to
    /// read (a `backlog`, a file that changed, which starts a gathering).
    /// `Ok(true)` if more is waiting.
    fn on_turn<W: Write>(
        &mut self,
        events: bool,
        reopen: bool,
        backlog: bool,
        now: Instant,
        monitor: &mut Monitor<W>,
    ) -> Result<bool, Error> {
        let changes = self.watch.as_ref().filter(|_| events).map_or_else(Changes::default, |w| w.take());
        if changes.data {
            self.gather_until = now + GATHER;
        }
        let due = reopen || changes.path || now >= self.next_check;
        if due {
            self.next_check = now + self.every;
        }
        let mut budget = READ_BUDGET;
        on_follow_turn(&mut self.followers, due, backlog || changes.data, &mut budget, now, monitor)
    }
}

struct Loop<'m, W: Write, C: Clocks> {
    source: Source,
    signals: Signals,
    monitor: &'m mut Monitor<W>,
    clocks: &'m mut C,
    /// More input is waiting: poll without sleeping.
    backlog: bool,
    started: Instant,
}

/// How a run ended.
enum End {
    Signal(i32),
    EndOfInput,
}

impl<'m, W: Write, C: Clocks> Loop<'m, W, C> {
    fn new(source: Source, signals: Signals, monitor: &'m mut Monitor<W>, clocks: &'m mut C) -> Self {
        let started = clocks.instant();
        Loop { source, signals, monitor, clocks, backlog: false, started }
    }

    fn run(mut self) -> Result<(), Error> {
        let end = loop {
            let now = self.now();
            self.monitor.clock(now)?;
            if let Some(end) = self.wait_and_handle(now)? {
                break end;
            }
        };
        self.finish(end)
    }

    /// The longest this turn may sleep, but for the input's own say: until
    /// the engine's deadline, the followed files' next check or a hook's
    /// kill, whichever is first; not at all while a backlog is read.
    /// `instant` is the monotonic clock read for this turn.
    fn timeout(&self, now: Now, instant: Instant) -> Option<Duration> {
        // Deadlines are on the monotonic clock: a step of the wall clock
        // neither freezes nor hurries them.
        let mut timeout = self.monitor.engine().poll_timeout().map(|d| d.saturating_sub(now.monotonic));
        if let Source::Follow(following) = &self.source {
            let check = following.timeout(instant);
            timeout = Some(timeout.map_or(check, |t| t.min(check)));
        }
        if let Some(deadline) = self.monitor.hooks().and_then(|h| h.next_deadline()) {
            let kill = deadline.saturating_duration_since(self.clocks.instant());
            timeout = Some(timeout.map_or(kill, |t| t.min(kill)));
        }
        if self.backlog {
            timeout = Some(Duration::ZERO);
        }
        timeout
    }

    /// One turn: sleep until the next deadline or event, then hand each
    /// source that is ready to its own function.
    fn wait_and_handle(&mut self, now: Now) -> Result<Option<End>, Error> {
        let instant = self.clocks.instant();
        let mut timeout = self.timeout(now, instant);
        // Entries by position: the self-pipe (read through `signals.take`
        // whatever poll says), stdout, then the input if it is polled, or
        // the followed files' change events.
        const STDOUT: usize = 1;
        const INPUT: usize = 2;
        let stdout = io::stdout();
        // At most four entries: a fixed array and how many are in use, so a
        // turn allocates nothing.
        let mut fds = [interest(self.signals.fd(), libc::POLLIN); 4];
        fds[STDOUT] = interest(stdout.as_fd(), 0);
        let mut polled = STDOUT + 1;
        let input = match &self.source {
            Source::Stream { stream, .. } => {
                let fd = stream.poll_fd();
                // None: decompressed bytes wait to be handed out.
                if fd.is_none() {
                    timeout = Some(Duration::ZERO);
                }
                fd
            }
            Source::Follow(following) => following.poll_fd(instant),
        };
        if let Some(fd) = input {
            fds[INPUT] = interest(fd, libc::POLLIN);
            polled += 1;
        }
        let input_polled = polled > INPUT;
        // And last, with `--exec`, the hooks' SIGCHLD self-pipe (read through
        // `Hooks::turn` whatever poll says).
        if let Some(hooks) = self.monitor.hooks() {
            fds[polled] = interest(hooks.fd(), libc::POLLIN);
            polled += 1;
        }
        self.clocks.wait(&mut fds[..polled], timeout).map_err(|e| Error::system("poll", e))?;
        let input_ready = input_polled && fds[INPUT].revents != 0;
        if let Some(hooks) = self.monitor.hooks_mut() {
            hooks.turn(self.clocks.instant());
        }

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
            self.monitor.report_now(None)?;
        }
        let now = self.clocks.instant();
        match &mut self.source {
            Source::Stream { stream, .. } if input_ready || stream.poll_fd().is_none() => {
                return self.on_stream_readable(input_ready);
            }
            Source::Stream { .. } => {}
            Source::Follow(following) => {
                self.backlog = following.on_turn(input_ready, pending.reopen, self.backlog, now, self.monitor)?;
            }
        }
        Ok(None)
    }

    /// The pipe is readable (`ready`), or decompressed bytes wait: at most
    /// one read, and only when poll promised it will not block. The
    /// descriptor is not made O_NONBLOCK: that flag lives on the open file
    /// description, which a terminal on stdin shares with the shell, and
    /// would outlive logmon.
    fn on_stream_readable(&mut self, ready: bool) -> Result<Option<End>, Error> {
        let Source::Stream { stream, reader } = &mut self.source else { return Ok(None) };
        match stream.fill(reader, ready)? {
            Fill::End => return Ok(Some(End::EndOfInput)),
            Fill::Starved => return Ok(None),
            Fill::Read(_) => {}
        }
        self.backlog = reader.was_full();
        let monitor = &mut *self.monitor;
        let name = stream.name();
        monitor.lines(name, &mut reader.batch(), &mut ())?;
        Ok(None)
    }

    /// Both clocks, read now: the engine keeps time on the monotonic one
    /// and names seconds by the realtime one.
    fn now(&self) -> Now {
        Now { monotonic: self.clocks.instant().duration_since(self.started), realtime: self.clocks.realtime() }
    }

    /// Reads what is already there, within [`SHUTDOWN_BUDGET`] and
    /// [`SHUTDOWN_TIME`] after a signal, says what was left unread, closes
    /// every open second, writes the last report and the summary.
    fn finish(mut self, end: End) -> Result<(), Error> {
        let shutdown = Shutdown::new(self.clocks.instant());
        match (&mut self.source, &end) {
            (Source::Stream { stream, reader }, End::Signal(sig)) => {
                if drain_available(stream, reader, shutdown, self.monitor, self.clocks)? {
                    let sig = signals::name(*sig);
                    match stream.poll_fd().and_then(waiting_bytes) {
                        Some(n) => diag::say(format_args!(
                            "{sig}: {}: at least {} left unread",
                            stream.name(),
                            output::Count(n, "byte")
                        )),
                        None => diag::say(format_args!("{sig}: {}: input left unread", stream.name())),
                    }
                }
            }
            (Source::Stream { .. }, End::EndOfInput) => {}
            (Source::Follow(following), _) => {
                drain_followers(&mut following.followers, shutdown, self.monitor, self.clocks)?;
            }
        }
        match &mut self.source {
            Source::Stream { stream, reader } => {
                let monitor = &mut *self.monitor;
                let name = stream.name();
                // Cut off by a signal; at the end of input, a last line.
                match end {
                    End::Signal(_) => reader.finish(|number, line| monitor.cut_line(name, number, line).map(drop))?,
                    End::EndOfInput => reader.finish(|number, line| monitor.line(name, number, line).map(drop))?,
                }
            }
            Source::Follow(following) => {
                for follower in &mut following.followers {
                    let unread = follower.close(self.monitor)?;
                    if unread > 0 {
                        diag::say(format_args!("{}: {} left unread", follower.name(), output::Count(unread, "byte")));
                    }
                }
            }
        }
        let now = self.now();
        self.monitor.clock(now)?;
        self.monitor.finish(None)?;
        let ran = output::Duration(self.clocks.instant().duration_since(self.started).as_secs() as i64);
        match end {
            End::Signal(sig) => diag::say(format_args!("{}: stopped after {ran}", signals::name(sig))),
            End::EndOfInput => diag::say(format_args!("end of input after {ran}")),
        }
        Ok(())
    }
}

/// A turn of the loop for followed files: a check when one is due (the
/// timer, HUP, a path that changed), else a read when there is something
/// to read (a backlog, a file that changed). Each file gets its share of
/// [`READ_BUDGET`], or what is left of `budget` if that is less, and
/// `budget` pays for what it read. A read fills the buffer, so a file may
/// go past its part by less than a read; after a signal none does (see
/// [`Follower::end`]), and the turn reads at most `budget`. `Ok(true)` if
/// more is waiting.
fn on_follow_turn<W: Write>(
    followers: &mut [Follower],
    due: bool,
    read: bool,
    budget: &mut usize,
    now: Instant,
    monitor: &mut Monitor<W>,
) -> Result<bool, Error> {
    let share = READ_BUDGET / followers.len().max(1);
    let mut more = false;
    for follower in followers {
        let allowed = share.min(*budget);
        let mut left = allowed;
        more |= if due {
            follower.check(now, &mut left, monitor)?
        } else if read {
            follower.read(now, &mut left, monitor)?
        } else {
            false
        };
        *budget -= allowed - left;
        monitor.set_trouble(follower.path().as_os_str().as_bytes(), follower.trouble_now());
    }
    Ok(more)
}

/// What the end of a run may still read after a signal: [`SHUTDOWN_BUDGET`]
/// bytes within [`SHUTDOWN_TIME`], whichever runs out first, so that a
/// backlog cannot hold the summary past a supervisor's patience (`docker
/// stop` waits 10 s).
#[derive(Clone, Copy, Debug)]
struct Shutdown {
    bytes: usize,
    until: Instant,
}

impl Shutdown {
    fn new(now: Instant) -> Shutdown {
        Shutdown { bytes: SHUTDOWN_BUDGET, until: now + SHUTDOWN_TIME }
    }

    /// Whether more may be read: neither the bytes nor the time are spent.
    fn allows(&self, now: Instant) -> bool {
        self.bytes > 0 && now < self.until
    }
}

/// The last look at the followed files, then reads within `shutdown`:
/// each turn reads at most what is left of its bytes, and they pay for
/// exactly what was read.
fn drain_followers<W: Write>(
    followers: &mut [Follower],
    mut shutdown: Shutdown,
    monitor: &mut Monitor<W>,
    clocks: &mut impl Clocks,
) -> Result<(), Error> {
    for follower in followers.iter_mut() {
        follower.end();
    }
    let mut due = true;
    let mut more = true;
    while more && shutdown.allows(clocks.instant()) {
        let now = clocks.instant();
        more = on_follow_turn(followers, std::mem::take(&mut due), true, &mut shutdown.bytes, now, monitor)?;
    }
    Ok(())
}

/// Bytes a pipe holds that nobody has read yet (FIONREAD); its writer may
/// have more. `None` if the system cannot say.
fn waiting_bytes(fd: BorrowedFd<'_>) -> Option<u64> {
    let mut n: libc::c_int = 0;
    // SAFETY: FIONREAD writes one c_int through the pointer, which is valid
    // for the call.
    let rc = unsafe { libc::ioctl(fd.as_raw_fd(), libc::FIONREAD, &mut n) };
    (rc == 0 && n > 0).then_some(n as u64)
}

/// Reads what a pipe holds right now, without waiting for more, within
/// `shutdown`. `Ok(true)` if input was left unread.
fn drain_available<W: Write>(
    stream: &mut Stream,
    reader: &mut LineReader,
    mut shutdown: Shutdown,
    monitor: &mut Monitor<W>,
    clocks: &mut impl Clocks,
) -> Result<bool, Error> {
    loop {
        let ready = match stream.poll_fd() {
            Some(fd) => {
                let mut fds = [interest(fd, libc::POLLIN)];
                clocks.wait(&mut fds, Some(Duration::ZERO)).map_err(|e| Error::system("poll", e))?;
                if fds[0].revents == 0 {
                    return Ok(false);
                }
                true
            }
            // Decompressed bytes wait.
            None => false,
        };
        if !shutdown.allows(clocks.instant()) {
            return Ok(true);
        }
        let n = match stream.fill_at_most(reader, ready, shutdown.bytes)? {
            Fill::Read(n) => n,
            Fill::Starved => continue,
            Fill::End => return Ok(false),
        };
        shutdown.bytes = shutdown.bytes.saturating_sub(n);
        let name = stream.name();
        monitor.lines(name, &mut reader.batch(), &mut ())?;
    }
}
