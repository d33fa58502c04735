//! `--exec CMD`: `sh -c CMD` on every alert transition, with the event in
//! its environment and its JSON object on its stdin.
//!
//! A hook never holds up the loop: it is spawned, and its end is noticed
//! through SIGCHLD on a self-pipe that the live loop polls. At most
//! [`RUNNING`] run at once; later ones wait in a queue of [`QUEUED`], and
//! what does not fit is counted and said, never dropped silently. A hook
//! runs in its own process group, which is killed when it outlives
//! `--exec-timeout`. In replay, hooks run one at a time, in order, each to
//! its end before the replay goes on. At the end of a run, logmon waits for
//! the hooks still running or queued, each up to its timeout.
//!
//! Live, time is the caller's: the loop passes its instant to
//! [`Hooks::turn`], and a hook an event starts is timed from the last turn,
//! so a fake clock drives hooks as it drives the rest of the loop. Only
//! the blocking waits for hooks to end (replay, the end of a run) read
//! the real clock: real processes run on it.

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::os::unix::net::UnixStream;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use signal_hook::consts::SIGCHLD;
use signal_hook::low_level::pipe;

use crate::diag;
use crate::engine::Event;
use crate::engine::alert::{AlertEvent, AlertState};
use crate::output::{self, Rfc3339, json};
use crate::poll::{self, interest};
use crate::signals;

/// Hooks running at once at most (live; replay runs one).
pub const RUNNING: usize = 4;

/// Hooks waiting for a free slot at most; more are dropped and counted.
pub const QUEUED: usize = 64;

/// `--exec-timeout`'s default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// One alert transition to hand to the command.
struct Job {
    /// `alert #3 triggered`, for messages.
    what: String,
    env: Vec<(&'static str, String)>,
    json: Vec<u8>,
}

struct Running {
    child: Child,
    what: String,
    started: Instant,
    /// Set once its group has been killed for outliving the timeout.
    killed: bool,
}

pub struct Hooks {
    command: String,
    timeout: Duration,
    limit: usize,
    /// Replay: each hook runs to its end as soon as it is queued.
    one_by_one: bool,
    running: Vec<Running>,
    queue: VecDeque<Job>,
    dropped: u64,
    /// Readable after SIGCHLD.
    child_exited: UnixStream,
    /// The instant of the last turn (or of the start).
    now: Instant,
}

impl Hooks {
    /// Hooks that run `command`, from `now`; `one_by_one` for replay.
    /// Installs the SIGCHLD handler that writes to the hooks' self-pipe.
    pub fn new(command: String, timeout: Duration, one_by_one: bool, now: Instant) -> io::Result<Hooks> {
        let (child_exited, notify) = UnixStream::pair()?;
        child_exited.set_nonblocking(true)?;
        notify.set_nonblocking(true)?;
        pipe::register(SIGCHLD, notify)?;
        let limit = if one_by_one { 1 } else { RUNNING };
        Ok(Hooks {
            command,
            timeout,
            limit,
            one_by_one,
            running: Vec::with_capacity(limit),
            queue: VecDeque::with_capacity(QUEUED),
            dropped: 0,
            child_exited,
            now,
        })
    }

    /// The SIGCHLD self-pipe, to poll for reading.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.child_exited.as_fd()
    }

    /// When the oldest running hook that has not been killed times out.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.running.iter().filter(|r| !r.killed).map(|r| r.started + self.timeout).min()
    }

    /// An event from the engine: alert transitions start a hook (live: at
    /// the instant of the last turn).
    pub fn event(&mut self, event: &Event) {
        let Event::Alert(alert) = event else { return };
        if self.queue.len() >= QUEUED {
            self.dropped += 1;
            // Said at 1, 2, 4, 8...: a storm is visible without flooding stderr.
            if self.dropped.is_power_of_two() {
                diag::say(format_args!(
                    "--exec: {} hook{} dropped: {RUNNING} running and {QUEUED} waiting",
                    self.dropped,
                    if self.dropped == 1 { "" } else { "s" }
                ));
            }
            return;
        }
        self.queue.push_back(job(event, alert));
        if self.one_by_one {
            self.wait_all();
        } else {
            self.turn(self.now);
        }
    }

    /// Reaps the hooks that ended, kills those past their timeout, and
    /// starts queued ones in the free slots. Cheap when nothing happened.
    pub fn turn(&mut self, now: Instant) {
        self.now = now;
        let mut sink = [0u8; 64];
        while matches!((&self.child_exited).read(&mut sink), Ok(n) if n > 0) {}
        let timeout = self.timeout;
        self.running.retain_mut(|r| match r.child.try_wait() {
            Ok(Some(status)) => {
                say_how_it_ended(&r.what, status, r.killed.then_some(timeout));
                false
            }
            Ok(None) => {
                if !r.killed && now >= r.started + timeout {
                    kill_group(&r.child);
                    r.killed = true;
                }
                true
            }
            Err(e) => {
                diag::say(format_args!("--exec: {}: {e}", r.what));
                false
            }
        });
        while self.running.len() < self.limit {
            let Some(job) = self.queue.pop_front() else { break };
            if let Some(running) = self.spawn(job, now) {
                self.running.push(running);
            }
        }
    }

    /// Waits until no hook runs or waits, each up to its timeout: a
    /// blocking wait on real processes, so on the real clock.
    pub fn wait_all(&mut self) {
        loop {
            self.turn(Instant::now());
            if self.running.is_empty() && self.queue.is_empty() {
                return;
            }
            let timeout = self.next_deadline().map(|d| d.saturating_duration_since(Instant::now()));
            let mut fds = [interest(self.fd(), libc::POLLIN)];
            if let Err(e) = poll::wait(&mut fds, timeout) {
                diag::say(format_args!("--exec: waiting for hooks: {e}"));
                return;
            }
        }
    }

    /// The end of the run: waits for every hook, then says what was dropped.
    pub fn finish(&mut self) {
        self.wait_all();
        if self.dropped > 0 {
            let s = if self.dropped == 1 { "" } else { "s" };
            diag::say(format_args!("--exec: {} hook{s} dropped in all: the queue was full", self.dropped));
        }
    }

    /// Hooks dropped so far, the queue being full.
    #[cfg(test)]
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    fn spawn(&self, job: Job, now: Instant) -> Option<Running> {
        // The hook's output is diagnostics: stdout stays logmon's data.
        let stdout = match io::stderr().as_fd().try_clone_to_owned() {
            Ok(fd) => Stdio::from(fd),
            Err(_) => Stdio::null(),
        };
        let spawned = Command::new("sh")
            .arg("-c")
            .arg(&self.command)
            .envs(job.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::piped())
            .stdout(stdout)
            .process_group(0)
            .spawn();
        let mut child = match spawned {
            Ok(child) => child,
            Err(e) => {
                diag::say(format_args!("--exec: {}: cannot run sh: {e}", job.what));
                return None;
            }
        };
        if let Some(mut stdin) = child.stdin.take() {
            // A few hundred bytes into an empty pipe: the write completes
            // at once. Non-blocking all the same, so a hook can never stall
            // the loop; a hook that does not read its stdin is no error.
            set_nonblocking(&stdin);
            let _ = stdin.write_all(&job.json);
        }
        Some(Running { child, what: job.what, started: now, killed: false })
    }
}

/// The environment and stdin of the hook for `alert`.
fn job(event: &Event, alert: &AlertEvent) -> Job {
    let state = match alert.state {
        AlertState::Triggered => "triggered",
        AlertState::Recovered => "recovered",
    };
    let (rule, _) = json::rule_of(alert);
    let value = json::measured(alert).map_or_else(String::new, |v| v.to_string());
    let mut json = Vec::with_capacity(512);
    // Writing to a Vec cannot fail.
    let _ = json::event(&mut json, event);
    Job {
        what: format!("alert #{} {state}", alert.id),
        env: vec![
            ("LOGMON_EVENT", "alert".into()),
            ("LOGMON_STATE", state.into()),
            ("LOGMON_ID", alert.id.to_string()),
            ("LOGMON_RULE", rule.to_string()),
            ("LOGMON_VALUE", value),
            ("LOGMON_RATE", json::rate(alert).to_string()),
            ("LOGMON_HITS", alert.hits.to_string()),
            ("LOGMON_THRESHOLD", rule.value().to_string()),
            ("LOGMON_WINDOW", alert.window.to_string()),
            ("LOGMON_TIME", Rfc3339(alert.at).to_string()),
            ("LOGMON_TRIGGERED", Rfc3339(alert.triggered).to_string()),
        ],
        json,
    }
}

/// One line on stderr for a hook that failed; nothing for one that did not.
fn say_how_it_ended(what: &str, status: ExitStatus, killed_after: Option<Duration>) {
    if let Some(timeout) = killed_after {
        let after = match timeout.subsec_millis() {
            0 => output::Duration(timeout.as_secs() as i64).to_string(),
            _ => format!("{}ms", timeout.as_millis()),
        };
        diag::say(format_args!("--exec: {what}: killed after {after} (--exec-timeout)"));
    } else if let Some(sig) = status.signal() {
        diag::say(format_args!("--exec: {what}: killed by {}", signals::name(sig)));
    } else if !status.success() {
        let code = status.code().unwrap_or(-1);
        diag::say(format_args!("--exec: {what}: exited with status {code}"));
    }
}

/// Kills the hook's process group: the shell and whatever it started.
fn kill_group(child: &Child) {
    if let Ok(pid) = libc::pid_t::try_from(child.id()) {
        // SAFETY: kill(2) with a negative pid signals that process group;
        // the group is the hook's own (process_group(0) at spawn), and the
        // child is not reaped yet, so its id cannot have been reused.
        unsafe { libc::kill(-pid, libc::SIGKILL) };
    }
}

fn set_nonblocking(fd: &impl AsRawFd) {
    let fd = fd.as_raw_fd();
    // SAFETY: fcntl on a descriptor this process owns, for its flags only.
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        if flags >= 0 {
            libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::alert::Threshold;

    fn alert(id: u64) -> Event {
        Event::Alert(AlertEvent {
            state: if id % 2 == 1 { AlertState::Triggered } else { AlertState::Recovered },
            id,
            at: 1_549_573_956 + id as i64,
            hits: 1206,
            window: 120,
            threshold: Threshold::per_second(10),
            triggered: 1_549_573_956,
            rule: None,
        })
    }

    #[test]
    fn a_storm_stays_bounded_and_is_counted() {
        // Hooks that hang: nothing makes room while the storm comes in.
        let mut hooks =
            Hooks::new("sleep 30".into(), Duration::from_secs(30), false, Instant::now()).expect("a self-pipe");
        for id in 1..=200 {
            hooks.event(&alert(id));
            assert!(hooks.running.len() <= RUNNING && hooks.queue.len() <= QUEUED);
        }
        assert_eq!(hooks.running.len(), RUNNING);
        assert_eq!(hooks.dropped, 200 - (RUNNING + QUEUED) as u64);
        // Each of the rest then runs, and is killed, in turn.
        hooks.timeout = Duration::from_millis(10);
        hooks.finish();
        assert!(hooks.running.is_empty() && hooks.queue.is_empty());
    }

    #[test]
    fn a_live_hook_is_timed_on_the_callers_clock() {
        // An hour from now: no real time could have passed that far.
        let start = Instant::now() + Duration::from_secs(3600);
        let mut hooks = Hooks::new("sleep 30".into(), Duration::from_secs(30), false, start).expect("a self-pipe");
        hooks.event(&alert(1));
        assert_eq!(hooks.next_deadline(), Some(start + Duration::from_secs(30)), "started at the caller's instant");
        hooks.turn(start + Duration::from_secs(29));
        assert!(!hooks.running[0].killed, "29 s of the caller's clock: still within its timeout");
        hooks.turn(start + Duration::from_secs(30));
        assert!(hooks.running[0].killed, "30 s of the caller's clock: killed, with no real time spent");
        hooks.finish();
        assert!(hooks.running.is_empty());
    }

    #[test]
    fn the_environment_says_what_happened() {
        let event = alert(1);
        let Event::Alert(a) = &event else { unreachable!() };
        let job = job(&event, a);
        let env: std::collections::BTreeMap<_, _> = job.env.into_iter().collect();
        assert_eq!(env["LOGMON_STATE"], "triggered");
        assert_eq!(env["LOGMON_RULE"], "rate > 10 over 2m");
        assert_eq!(env["LOGMON_RATE"], "10.05");
        assert_eq!(env["LOGMON_VALUE"], "10.05");
        assert_eq!(env["LOGMON_THRESHOLD"], "10");
        assert_eq!(env["LOGMON_TIME"], "2019-02-07T21:12:37Z");
        assert_eq!(env["LOGMON_TRIGGERED"], "2019-02-07T21:12:36Z");
        assert!(job.json.starts_with(b"{\"type\":\"alert\"") && job.json.ends_with(b"}\n"));
    }

    #[test]
    fn a_latency_rule_gives_its_quantile_in_seconds() {
        let rule = crate::engine::rule::Rule::parse("p99 > 500ms over 1m", 120).expect("a rule");
        let mut event = alert(1);
        if let Event::Alert(a) = &mut event {
            a.rule = Some(Box::new(crate::engine::alert::Fired { rule, matched: 8, value: Some(897_024) }));
        }
        let Event::Alert(a) = &event else { unreachable!() };
        let env: std::collections::BTreeMap<_, _> = job(&event, a).env.into_iter().collect();
        assert_eq!((env["LOGMON_VALUE"].as_str(), env["LOGMON_THRESHOLD"].as_str()), ("0.897024", "500ms"));
    }

    #[test]
    fn a_hook_that_hangs_is_killed_with_its_children() {
        let mut hooks =
            Hooks::new("sleep 30 & wait".into(), Duration::from_millis(50), true, Instant::now()).expect("a self-pipe");
        let started = Instant::now();
        hooks.event(&alert(1));
        assert!(started.elapsed() < Duration::from_secs(5), "the group was killed: {:?}", started.elapsed());
        assert!(hooks.running.is_empty());
    }
}
