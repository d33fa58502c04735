//! The live loop on a fake clock, in-process: scenarios that take seconds
//! of wall-clock time (an alert and its recovery, a log an hour behind, a
//! line written in two halves) run in milliseconds.
//!
//! The fake clock moves only when the loop waits with nothing ready, and
//! then by exactly the timeout it asked for. Before each wait a script
//! plays the world at that moment: it writes to the input, raises signals,
//! closes the pipe. The end of a run after SIGTERM has clocks of its own,
//! which move at each reading (see [`Ending`]).

use std::cell::{Cell, RefCell};
use std::io::{self, PipeWriter, Write};
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::{Duration, Instant};

use super::follow::Follower;
use super::watch::Watch;
use super::{
    Clocks, Following, GATHER, SHUTDOWN_BUDGET, Shutdown, drain_available, drain_followers, follow_on, stream_on,
};
use crate::cli::Options;
use crate::engine::alert::Threshold;
use crate::engine::{Clock, Config, Engine};
use crate::hooks::{Hooks, QUEUED, RUNNING};
use crate::input::{Input, LineReader, Stream};
use crate::monitor::Monitor;
use crate::output::{Format, Output, Style, Verbosity};
use crate::poll::{self, PollFd};
use crate::signals::{Raise, Signals};

/// The realtime clock's reading when a run starts: 2023-11-14T22:13:20Z.
const EPOCH: u64 = 1_700_000_000;

/// What the script sees and acts on at each wait.
struct World {
    /// Whole seconds since the start, on the fake clock.
    second: u64,
    /// The pipe logmon reads, until the script closes it.
    input: Option<PipeWriter>,
    signals: Raise,
}

impl World {
    /// The realtime clock's second now, as a log would stamp it.
    fn now(&self) -> i64 {
        (EPOCH + self.second) as i64
    }

    /// Writes `n` lines stamped `t`.
    fn lines(&mut self, n: usize, t: i64) {
        let text: String = (0..n).map(|i| csv_line(t, i)).collect();
        self.write(text.as_bytes());
    }

    fn write(&mut self, bytes: &[u8]) {
        if let Some(input) = &mut self.input {
            input.write_all(bytes).expect("write to the pipe");
        }
    }
}

/// A line of the CSV format: its date is epoch seconds.
fn csv_line(t: i64, i: usize) -> String {
    format!("\"192.0.2.1\",\"-\",\"-\",{t},\"GET /live/{i} HTTP/1.1\",200,512\n")
}

struct Fake<S: FnMut(&mut World)> {
    start: Instant,
    elapsed: Duration,
    world: World,
    script: S,
    /// The second the script last played, so it plays each second once.
    played: Option<u64>,
}

impl<S: FnMut(&mut World)> Clocks for Fake<S> {
    fn instant(&self) -> Instant {
        self.start + self.elapsed
    }

    fn realtime(&self) -> Duration {
        Duration::from_secs(EPOCH) + self.elapsed
    }

    fn wait(&mut self, fds: &mut [PollFd], timeout: Option<Duration>) -> io::Result<()> {
        let second = self.elapsed.as_secs();
        if self.played != Some(second) {
            self.played = Some(second);
            self.world.second = second;
            (self.script)(&mut self.world);
        }
        poll::wait(fds, Some(Duration::ZERO))?;
        if fds.iter().all(|fd| fd.revents == 0) && timeout != Some(Duration::ZERO) {
            self.elapsed += timeout.unwrap_or(Duration::from_secs(1));
        }
        Ok(())
    }
}

/// Output that the test keeps a hand on.
#[derive(Clone, Default)]
struct Shared(Rc<RefCell<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.borrow_mut().write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Runs logmon live on a pipe that `script` writes, on the fake clock,
/// with `-o json` and these engine settings; returns its output.
fn run(config: Config, script: impl FnMut(&mut World)) -> String {
    run_hooked(config, None, script).0
}

/// [`run`], with `--exec` hooks (their command and timeout) when given;
/// also returns how many hooks were dropped, once every other one ended.
fn run_hooked(config: Config, exec: Option<(&str, Duration)>, script: impl FnMut(&mut World)) -> (String, u64) {
    let (reader, writer) = io::pipe().expect("pipe");
    let (signals, raise) = Signals::for_tests().expect("signals");
    let out = Shared::default();
    let style = Style { format: Format::Json, verbosity: Verbosity::Normal, color: false };
    let start = Instant::now();
    let hooks = exec.map(|(command, timeout)| Hooks::new(command.to_owned(), timeout, false, start).expect("hooks"));
    let mut monitor =
        Monitor::new(Engine::new(Config { clock: Clock::Wall, ..config }), Output::new(out.clone(), style))
            .with_hooks(hooks);
    let world = World { second: 0, input: Some(writer), signals: raise };
    let mut fake = Fake { start, elapsed: Duration::ZERO, world, script, played: None };
    let input = Input::Path(PathBuf::from(format!("/proc/self/fd/{}", reader.as_raw_fd())));
    stream_on(&mut fake, input, signals, &mut monitor).expect("the run");
    drop(reader);
    let dropped = monitor.hooks_mut().map_or(0, |hooks| {
        hooks.finish();
        hooks.dropped()
    });
    (String::from_utf8(out.0.take()).expect("utf-8"), dropped)
}

/// Follows `path` on the fake clock, with `-o json` and the default
/// settings, while `script` plays the world; returns the output.
fn run_follow(path: PathBuf, script: impl FnMut(&mut World)) -> String {
    follow_with(&[path], &Options::default(), |raise| {
        let world = World { second: 0, input: None, signals: raise };
        Fake { start: Instant::now(), elapsed: Duration::ZERO, world, script, played: None }
    })
}

/// Follows `paths` with `options` and `-o json` on the clocks `clocks`
/// makes of the signals' raiser; returns the output.
fn follow_with<C: Clocks>(paths: &[PathBuf], options: &Options, clocks: impl FnOnce(Raise) -> C) -> String {
    let (signals, raise) = Signals::for_tests().expect("signals");
    let out = Shared::default();
    let style = Style { format: Format::Json, verbosity: Verbosity::Normal, color: false };
    let config = Config { clock: Clock::Wall, ..Config::default() };
    let mut monitor = Monitor::new(Engine::new(config), Output::new(out.clone(), style));
    follow_on(&mut clocks(raise), paths, options, signals, &mut monitor).expect("the run");
    String::from_utf8(out.0.take()).expect("utf-8")
}

fn summary(out: &str) -> &str {
    out.lines().find(|l| l.contains(r#""type":"summary""#)).expect("a summary")
}

#[test]
fn alerts_trigger_and_recover_on_the_wall_clock() {
    let config =
        Config { window: 2, interval: 1, max_delay: 0, threshold: Threshold::per_second(2), ..Config::default() };
    let out = run(config, |world| match world.second {
        1 => world.lines(20, world.now()),
        // No more lines: the clock alone brings the recovery.
        10 => world.input = None,
        _ => {}
    });
    let alerts: Vec<&str> = out.lines().filter(|l| l.contains(r#""type":"alert""#)).collect();
    assert_eq!(alerts.len(), 2, "{out}");
    assert!(alerts[0].contains(r#""state":"triggered""#) && alerts[1].contains(r#""state":"recovered""#), "{out}");
    assert!(out.lines().filter(|l| l.contains(r#""type":"report""#)).count() >= 8, "a report every second\n{out}");
    assert!(summary(&out).contains(r#""hits":20,"#), "{out}");
}

#[test]
fn a_log_an_hour_behind_is_followed_after_a_notice() {
    let config =
        Config { window: 2, interval: 1, max_delay: 0, threshold: Threshold::per_second(5), ..Config::default() };
    let out = run(config, |world| {
        if world.second < 30 {
            let t = world.now() - 3600;
            world.lines(20, t);
        } else {
            world.input = None;
        }
    });
    // Only once the log's clock is followed do its lines reach the window.
    assert!(out.contains(r#""state":"triggered""#), "{out}");
    assert!(summary(&out).contains(r#""hits":600,"#), "{out}");
}

#[test]
fn a_line_written_in_two_halves_a_second_apart_is_one_hit() {
    let config = Config { max_delay: 0, ..Config::default() };
    let line = csv_line(EPOCH as i64, 0);
    let (first, second) = line.split_at(30);
    let out = run(config, |world| match world.second {
        0 => world.write(first.as_bytes()),
        1 => world.write(second.as_bytes()),
        2 => world.input = None,
        _ => {}
    });
    let summary = summary(&out);
    assert!(summary.contains(r#""hits":1,"malformed":0,"#), "{out}");
}

#[test]
fn sigterm_mid_line_counts_the_cut_off_line_as_skipped() {
    let config = Config { max_delay: 0, ..Config::default() };
    let out = run(config, |world| match world.second {
        0 => {
            let t = world.now();
            world.lines(3, t);
            world.write(&csv_line(t, 9).as_bytes()[..25]);
        }
        1 => world.signals.raise(libc::SIGTERM),
        _ => {}
    });
    assert!(summary(&out).contains(r#""lines":4,"hits":3,"malformed":0,"late":0,"early":0,"skipped":1,"#), "{out}");
}

#[test]
fn change_events_gather_for_a_while_after_new_data() {
    let now = Instant::now();
    let every = Duration::from_millis(250);
    let watch = Some(Rc::new(Watch::new().expect("inotify")));
    let mut following = Following { followers: Vec::new(), watch, every, next_check: now + every, gather_until: now };
    assert!(following.poll_fd(now).is_some(), "a quiet log's first write wakes at once");
    assert_eq!(following.timeout(now), every);
    following.gather_until = now + GATHER;
    assert!(following.poll_fd(now).is_none(), "events gather");
    assert_eq!(following.timeout(now), GATHER, "then are looked at");
    assert!(following.poll_fd(now + GATHER).is_some());
}

#[test]
fn a_file_missing_at_start_is_in_a_report_asked_for_before_any_turn() {
    let path = std::env::temp_dir().join(format!("logmon-unit-{}-never-there.log", std::process::id()));
    // USR1 is handled before the first turn of the followed files.
    let out = run_follow(path, |world| match world.second {
        0 => world.signals.raise(libc::SIGUSR1),
        _ => world.signals.raise(libc::SIGTERM),
    });
    let first = out.lines().next().unwrap_or_default();
    assert!(first.contains(r#"never-there.log","problem":"missing"}]"#), "{out}");
}

/// A storm of alert transitions: sixteen rules flap every second while
/// each hook holds until the script lets it go. At most [`RUNNING`] hooks
/// run at once, the queue holds [`QUEUED`], and every transition's hook
/// runs or is counted as dropped. On the fake clock the storm takes
/// milliseconds; the hooks are real processes.
#[test]
fn a_hook_storm_stays_bounded_and_every_hook_is_run_or_counted() {
    let dir = std::env::temp_dir().join(format!("logmon-unit-{}-storm", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    let (started, hold) = (dir.join("started"), dir.join("hold"));
    std::fs::write(&hold, "").expect("the hold file");
    let hook = format!(
        r#"echo "$LOGMON_ID" >>'{}'; while [ -e '{}' ]; do sleep 0.02; done"#,
        started.display(),
        hold.display()
    );
    let mut args = vec!["-i".to_owned(), "1".into(), "--max-delay".into(), "0".into()];
    for i in 0..16 {
        args.extend(["--alert".into(), format!("rate > 0.{i} over 1s")]);
    }
    let crate::cli::Command::Run(options) = crate::cli::parse_args(args).expect("options") else { panic!("a run") };
    let started_now = || std::fs::read_to_string(&started).unwrap_or_default().lines().count();
    let mut running = 0;
    let (out, dropped) =
        run_hooked(options.engine_config(Clock::Wall), Some((&hook, Duration::from_secs(3600))), |world| {
            match world.second {
                // Lines in even seconds only: every rule flaps each second.
                0..=7 if world.second % 2 == 0 => world.lines(3, world.now()),
                8 => {
                    // The hooks started are real processes: give them time to say so.
                    let deadline = Instant::now() + Duration::from_secs(20);
                    while started_now() < RUNNING && Instant::now() < deadline {
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    std::thread::sleep(Duration::from_millis(50));
                    running = started_now();
                    std::fs::remove_file(&hold).expect("let the hooks end");
                    world.signals.raise(libc::SIGTERM);
                }
                _ => {}
            }
        });
    let transitions = out.lines().filter(|l| l.contains(r#""type":"alert""#)).count();
    let ran = started_now();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(running, RUNNING, "hooks running at once\n{out}");
    assert!(dropped > 0 && ran >= RUNNING + QUEUED, "ran {ran}, dropped {dropped}\n{out}");
    assert_eq!(ran as u64 + dropped, transitions as u64, "every transition's hook ran or was counted\n{out}");
}

/// Clocks for the end of a run: SIGTERM comes at the first wait, which
/// ends the loop, and each reading of the monotonic clock then finds it `tick` later, as if that
/// much time went into the work between two readings (zero: frozen).
struct Ending {
    start: Instant,
    readings: Cell<u32>,
    tick: Duration,
    signals: Raise,
}

impl Clocks for Ending {
    fn instant(&self) -> Instant {
        let n = self.readings.get();
        self.readings.set(n + 1);
        self.start + self.tick * n
    }

    fn realtime(&self) -> Duration {
        Duration::from_secs(EPOCH) + self.tick * self.readings.get()
    }

    fn wait(&mut self, fds: &mut [PollFd], _timeout: Option<Duration>) -> io::Result<()> {
        self.signals.raise(libc::SIGTERM);
        poll::wait(fds, Some(Duration::ZERO))
    }
}

/// Follows from their start files that SIGTERM finds unread, each made of
/// `(offset, text)` pieces with zeros between them (a sparse file: a line
/// of zeros, too long to keep, is one malformed line). Returns the
/// summary, whose counts say how far the reading after the signal went on
/// clocks that `tick` (see [`Ending`]).
fn backlog_after_sigterm(name: &str, files: &[Vec<(usize, String)>], tick: Duration) -> String {
    let paths = write_backlogs(name, files);
    let options = Options { from_start: true, ..Options::default() };
    let out = follow_with(&paths, &options, |signals| Ending {
        start: Instant::now(),
        readings: Cell::new(0),
        tick,
        signals,
    });
    for path in &paths {
        let _ = std::fs::remove_file(path);
    }
    summary(&out).to_owned()
}

/// Writes files of `(offset, text)` pieces, sparse; returns their paths.
fn write_backlogs(name: &str, files: &[Vec<(usize, String)>]) -> Vec<PathBuf> {
    use std::os::unix::fs::FileExt;
    let paths: Vec<PathBuf> = (0..files.len())
        .map(|i| std::env::temp_dir().join(format!("logmon-unit-{}-{name}-{i}.log", std::process::id())))
        .collect();
    for (path, pieces) in paths.iter().zip(files) {
        let file = std::fs::File::create(path).expect("create the backlog");
        for (at, text) in pieces {
            file.write_all_at(text.as_bytes(), *at as u64).expect("write");
        }
    }
    paths
}

/// Lines at the start of a backlog, each of the same odd length, over
/// 2.5 MB: whatever the power of two a read of the line buffer ends at,
/// it ends inside one of them, and the part read is moved to the buffer's
/// start, so the reads after it are not aligned on the buffer either.
const DENSE: usize = 40_000;

/// A backlog: [`DENSE`] lines, the zeros of a line too long to keep, 5
/// lines the last of which ends at byte `end`, then 7 more lines. Hits:
/// [`DENSE`] + 5 if read exactly up to `end`.
fn backlog_ending_at(end: usize) -> Vec<(usize, String)> {
    let dense: String = (100_000..100_000 + DENSE).map(|i| csv_line(EPOCH as i64, i)).collect();
    assert_eq!(dense.len() / DENSE % 2, 1, "lines of an odd length");
    let lines = |n: usize| (0..n).map(|i| csv_line(EPOCH as i64, i)).collect::<String>();
    let (second, third) = (format!("\n{}", lines(5)), lines(7));
    vec![(0, dense), (end - second.len(), second), (end, third)]
}

/// The `"lines"` to `"skipped"` of a summary after a backlog was read up
/// to the end of the 5 lines, with `hits` more lines from other files.
fn read_to_the_fifth(hits: usize) -> String {
    let hits = DENSE + 5 + hits;
    format!(r#""lines":{},"hits":{hits},"malformed":1,"late":0,"early":0,"skipped":0,"#, hits + 1)
}

/// The backlog a signal finds is read up to its bytes bound, to the byte:
/// the 5 lines that end there are read, and not one byte of the 7 after
/// (it would be a line cut off, counted as skipped). A read that asks for
/// a whole buffer, not what is left of the bound, goes past it, since the
/// reads are not aligned on the buffer (see [`DENSE`]). On a frozen clock
/// the time bound never comes.
#[test]
fn sigterm_reads_a_backlog_up_to_exactly_its_byte_bound() {
    let summary = backlog_after_sigterm("byte-bound", &[backlog_ending_at(SHUTDOWN_BUDGET)], Duration::ZERO);
    assert!(summary.contains(&read_to_the_fifth(0)), "{summary}");
}

/// Two files: a short one, and a backlog whose 5 lines end where the two
/// together reach [`SHUTDOWN_BUDGET`].
fn short_and_long() -> [Vec<(usize, String)>; 2] {
    let short = (0..2).map(|i| csv_line(EPOCH as i64, i)).collect::<String>();
    let long = backlog_ending_at(SHUTDOWN_BUDGET - short.len());
    [vec![(0, short)], long]
}

/// Two files, one of them short: the turns after a signal pay for what
/// they read, not for a whole turn's budget, so the long one is read
/// until the two together reach the bound, to the byte.
#[test]
fn sigterm_reads_backlogs_of_several_files_up_to_exactly_their_byte_bound() {
    let summary = backlog_after_sigterm("byte-bound-two", &short_and_long(), Duration::ZERO);
    assert!(summary.contains(&read_to_the_fifth(2)), "{summary}");
}

/// What the reading after a signal leaves unread is what the files hold
/// past [`SHUTDOWN_BUDGET`], to the byte: the summaries above cannot tell
/// a read that stops a byte short, which leaves the fifth line without its
/// newline, a cut line that still parses.
#[test]
fn sigterm_leaves_unread_exactly_what_is_past_the_byte_bound() {
    for (name, files) in [("one", vec![backlog_ending_at(SHUTDOWN_BUDGET)]), ("two", short_and_long().into())] {
        let paths = write_backlogs(&format!("unread-{name}"), &files);
        let size: u64 = paths.iter().map(|p| std::fs::metadata(p).expect("stat").len()).sum();
        let (_, raise) = Signals::for_tests().expect("signals");
        let mut clocks = Ending { start: Instant::now(), readings: Cell::new(0), tick: Duration::ZERO, signals: raise };
        let now = clocks.instant();
        let mut followers: Vec<Follower> = paths.iter().map(|p| Follower::new(p, true, now, None)).collect();
        let style = Style { format: Format::Json, verbosity: Verbosity::Normal, color: false };
        let config = Config { clock: Clock::Wall, ..Config::default() };
        let mut monitor = Monitor::new(Engine::new(config), Output::new(Shared::default(), style));
        drain_followers(&mut followers, Shutdown::new(now), &mut monitor, &mut clocks).expect("the reading");
        let unread: u64 = followers.iter_mut().map(|f| f.close(&mut monitor).expect("close")).sum();
        for path in &paths {
            let _ = std::fs::remove_file(path);
        }
        assert_eq!(unread, size - SHUTDOWN_BUDGET as u64, "{name} file(s)");
    }
}

/// The backlog a signal finds is read for a bounded time only: with each
/// turn taking a while, the time runs out well before the bytes do.
#[test]
fn sigterm_reads_a_backlog_for_a_bounded_time_only() {
    let summary =
        backlog_after_sigterm("time-bound", &[backlog_ending_at(SHUTDOWN_BUDGET)], Duration::from_millis(100));
    assert!(summary.contains(&format!(r#""hits":{DENSE},"#)), "want the first {DENSE} lines only: {summary}");
}

/// A stream a signal finds unread is read up to its bytes bound, to the
/// byte: here a regular file, which never waits, stands for a pipe whose
/// writer keeps it full. The reads are not aligned on the buffer (see
/// [`DENSE`]), so one that asks for the buffer's room goes past the bound.
#[test]
fn sigterm_reads_a_stream_up_to_exactly_its_byte_bound() {
    let paths = write_backlogs("stream", &[backlog_ending_at(SHUTDOWN_BUDGET)]);
    let size = std::fs::metadata(&paths[0]).expect("stat").len();
    let mut stream = Stream::open(&Input::Path(paths[0].clone())).expect("open");
    let mut reader = LineReader::default();
    let (_, raise) = Signals::for_tests().expect("signals");
    let mut clocks = Ending { start: Instant::now(), readings: Cell::new(0), tick: Duration::ZERO, signals: raise };
    let style = Style { format: Format::Json, verbosity: Verbosity::Normal, color: false };
    let config = Config { clock: Clock::Wall, ..Config::default() };
    let mut monitor = Monitor::new(Engine::new(config), Output::new(Shared::default(), style));
    let shutdown = Shutdown::new(clocks.instant());
    let left = drain_available(&mut stream, &mut reader, shutdown, &mut monitor, &mut clocks).expect("the reading");
    let _ = std::fs::remove_file(&paths[0]);
    assert!(left, "input left unread");
    assert_eq!(stream.bytes_left(), Some(size - SHUTDOWN_BUDGET as u64));
}
