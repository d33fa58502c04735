//! The follower on a fake clock, in-process: scenarios that take seconds of
//! real time (a rotated file let go after five quiet seconds) run in
//! milliseconds, and seeded random sequences of writes, rotations,
//! truncations and deletions are checked against a model of what must be
//! read.

use std::collections::HashSet;
use std::fs::{self, File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::{Condition, Follower, Lines, ROTATED_GRACE};
use crate::error::Error;
use crate::input::Line;
use crate::output::escape::Name;

/// The lines handed out, as text.
#[derive(Default)]
struct Seen(Vec<String>);

impl Lines for Seen {
    fn line(&mut self, _source: &Name, _number: u64, line: Line<'_>) -> Result<(), Error> {
        self.0.push(String::from_utf8_lossy(line.bytes()).into_owned());
        Ok(())
    }
}

/// A directory of its own, removed afterwards.
struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        let path = std::env::temp_dir().join(format!("logmon-follow-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).expect("temp dir");
        Dir(path)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn append(path: &Path, text: &str) {
    let mut f = OpenOptions::new().create(true).append(true).open(path).expect("open for append");
    f.write_all(text.as_bytes()).expect("append");
}

/// A follower and a fake clock that starts now and moves only when told.
struct Run {
    follower: Follower,
    seen: Seen,
    now: Instant,
}

impl Run {
    fn new(path: &Path, from_start: bool) -> Run {
        let now = Instant::now();
        Run { follower: Follower::new(path, from_start, now, None), seen: Seen::default(), now }
    }

    /// Moves the clock on by `ms` and checks, as the timer would.
    fn check_after(&mut self, ms: u64) -> bool {
        self.now += Duration::from_millis(ms);
        let mut budget = usize::MAX;
        self.follower.check(self.now, &mut budget, &mut self.seen).expect("check")
    }

    /// The end of a run: a last check, then close.
    fn close(&mut self) -> u64 {
        let mut budget = usize::MAX;
        self.follower.check(self.now, &mut budget, &mut self.seen).expect("check");
        self.follower.close(&mut self.seen).expect("close")
    }

    fn seen(&self) -> Vec<&str> {
        self.seen.0.iter().map(String::as_str).collect()
    }
}

#[test]
fn starts_at_the_end_or_the_start() {
    let dir = Dir::new("start");
    let log = dir.path("access.log");
    append(&log, "old\n");
    let mut at_end = Run::new(&log, false);
    let mut from_start = Run::new(&log, true);
    append(&log, "new\n");
    at_end.check_after(10);
    from_start.check_after(10);
    assert_eq!(at_end.seen(), ["new"]);
    assert_eq!(from_start.seen(), ["old", "new"]);
}

#[test]
fn starting_mid_line_skips_its_first_part() {
    let dir = Dir::new("mid-line");
    let log = dir.path("access.log");
    append(&log, "old\nhalf");
    let mut run = Run::new(&log, false);
    append(&log, " a line\nnew\n");
    run.check_after(10);
    assert_eq!(run.seen(), ["new"]);
}

/// An empty followed log renamed away while its writer keeps it open, a
/// new one in its place holding `new`, which a check has read: the
/// directory (removed when dropped), the run and the writer of the old
/// file.
fn rotated_under_its_writer(name: &str) -> (Dir, Run, File) {
    let dir = Dir::new(name);
    let log = dir.path("access.log");
    append(&log, "");
    let mut run = Run::new(&log, false);
    let server = OpenOptions::new().append(true).open(&log).expect("open");
    fs::rename(&log, dir.path("access.log.1")).expect("rename");
    append(&log, "new\n");
    run.check_after(250);
    assert_eq!(run.seen(), ["new"]);
    (dir, run, server)
}

#[test]
fn a_rotated_file_is_read_until_quiet_for_the_grace_then_let_go() {
    let (_dir, mut run, mut server) = rotated_under_its_writer("grace");
    // Kept for the grace, counted from the rotation, since the server may
    // still write to it, however long it was quiet before.
    let almost = ROTATED_GRACE.as_millis() as u64 - 1;
    server.write_all(b"late\n").expect("write");
    run.check_after(almost);
    server.write_all(b"straggler\n").expect("write");
    run.check_after(almost);
    assert_eq!(run.seen(), ["new", "late", "straggler"], "read within the grace");
    assert_eq!(run.follower.rotated.len(), 1, "still held");
    // Quiet for the whole grace: read once more, then closed.
    server.write_all(b"last\n").expect("write");
    run.check_after(ROTATED_GRACE.as_millis() as u64);
    assert_eq!(run.seen(), ["new", "late", "straggler", "last"]);
    assert!(run.follower.rotated.is_empty(), "let go");
    server.write_all(b"lost\n").expect("write");
    run.close();
    assert_eq!(run.seen(), ["new", "late", "straggler", "last"], "a file let go is not read again");
}

/// After a signal a rotated file quiet for the grace is not let go, which
/// would read all that was written to it since its last read (no change
/// event came, a long `--check-interval`), but read within the budget,
/// and what is left is said at close.
#[test]
fn after_a_signal_a_quiet_rotated_file_is_read_within_the_budget_only() {
    let (_dir, mut run, mut server) = rotated_under_its_writer("ending");
    server.write_all(b"one\ntwo\nthree\n").expect("write");
    run.now += ROTATED_GRACE;
    run.follower.end();
    let mut budget = 6;
    assert!(run.follower.check(run.now, &mut budget, &mut run.seen).expect("check"), "more to read");
    assert_eq!((budget, run.seen()), (0, vec!["new", "one"]), "6 bytes read: one line and 2 bytes");
    assert_eq!(run.follower.rotated.len(), 1, "still held");
    assert_eq!(run.follower.close(&mut run.seen).expect("close"), 8, "o\\nthree\\n left unread");
    assert_eq!(run.seen(), ["new", "one", "tw"], "the line cut off");
}

/// A read says more is waiting only when it is: a budget spent before
/// the end was seen, or none at all, leaves the answer to the file.
#[test]
fn a_read_stopped_by_its_budget_says_whether_bytes_are_left() {
    let dir = Dir::new("budget");
    let log = dir.path("access.log");
    append(&log, "");
    let mut run = Run::new(&log, false);
    run.follower.end();
    let mut read = |budget: usize| {
        let mut left = budget;
        let more = run.follower.read(run.now, &mut left, &mut run.seen).expect("read");
        (more, budget - left)
    };
    assert_eq!(read(0), (false, 0), "nothing read, nothing waiting");
    append(&log, "one\n");
    assert_eq!(read(0), (true, 0), "nothing read, 4 bytes waiting");
    assert_eq!(read(4), (false, 4), "the budget ran out on the last byte");
    assert_eq!(read(0), (false, 0), "nothing read, nothing waiting");
    append(&log, "two\n");
    assert_eq!(read(2), (true, 2), "2 of 4 bytes read");
    assert_eq!(run.seen(), ["one"]);
}

#[test]
fn a_deleted_file_is_read_to_its_end_then_closed_once_quiet() {
    let dir = Dir::new("deleted");
    let log = dir.path("access.log");
    append(&log, "one\n");
    let mut run = Run::new(&log, true);
    let mut server = OpenOptions::new().append(true).open(&log).expect("open");
    fs::remove_file(&log).expect("rm");
    server.write_all(b"two\n").expect("write");
    run.check_after(250);
    assert_eq!(run.seen(), ["one", "two"]);
    assert_eq!(run.follower.trouble_now(), Some("missing"));
    assert_eq!(run.follower.rotated.len(), 1, "still open");
    run.check_after(ROTATED_GRACE.as_millis() as u64);
    assert!(run.follower.rotated.is_empty(), "closed, so its space is freed");
}

#[test]
fn a_rotation_is_not_called_missing_while_the_new_file_comes() {
    let dir = Dir::new("moved");
    let log = dir.path("access.log");
    append(&log, "");
    let mut run = Run::new(&log, false);
    fs::rename(&log, dir.path("access.log.1")).expect("rename");
    // Woken by the rename, before the new file is there.
    run.check_after(0);
    assert_eq!(run.follower.condition, Condition::Moved, "not said yet");
    assert_eq!(run.follower.trouble_now(), Some("missing"), "but reports say so");
    append(&log, "new\n");
    run.check_after(1);
    assert_eq!((run.seen(), &run.follower.condition), (vec!["new"], &Condition::Fine));
    // Gone for longer than a check: now it is said.
    fs::remove_file(&log).expect("rm");
    run.check_after(1);
    run.check_after(250);
    assert_eq!(run.follower.condition, Condition::Missing);
}

#[test]
fn the_last_line_without_newline_is_handed_out_at_close() {
    let dir = Dir::new("unterminated");
    let log = dir.path("access.log");
    append(&log, "");
    let mut run = Run::new(&log, false);
    append(&log, "full\nno newline");
    run.check_after(10);
    assert_eq!(run.seen(), ["full"]);
    assert_eq!(run.close(), 0);
    assert_eq!(run.seen(), ["full", "no newline"]);
}

#[test]
fn close_says_how_much_was_left_unread() {
    let dir = Dir::new("unread");
    let log = dir.path("access.log");
    append(&log, "");
    let mut run = Run::new(&log, false);
    append(&log, "0123456789\n");
    // Nothing read: the run ended before it could be.
    assert_eq!(run.follower.close(&mut run.seen).expect("close"), 11);
}

#[test]
fn a_file_truncated_right_after_a_read_is_read_again_without_an_error() {
    let dir = Dir::new("race");
    let log = dir.path("access.log");
    append(&log, "");
    let mut run = Run::new(&log, false);
    append(&log, "one\ntwo\n");
    run.check_after(10);
    // As if truncated between the read and the fingerprint of its tail.
    let tracked = run.follower.current.as_mut().expect("open");
    File::create(&log).expect("truncate");
    tracked.remember_tail();
    append(&log, "three\n");
    run.check_after(10);
    assert_eq!(run.seen(), ["one", "two", "three"]);
    assert_eq!(run.follower.trouble_now(), None, "no error was made of it");
}

/// splitmix64: a seeded sequence, enough to pick operations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// What the follower must have read, given what was done to the files.
///
/// The follower promises, as `tail -F` does, to see every file that stays
/// at the path until a check: so the model changes what the path names
/// (rotation, truncation, deletion, creation) only once a check has
/// completed since the last such change. Within that, nothing is lost and
/// nothing read twice, except what copytruncate destroys: lines written
/// after the last read and before the truncation.
struct Model<'d> {
    dir: &'d Dir,
    log: PathBuf,
    rng: Rng,
    next_line: u64,
    written: Vec<String>,
    /// Lines written to the file at the path, in order.
    in_current: Vec<String>,
    /// The server's handle on the file it writes, and when it was rotated
    /// away from the path (the server writes there until it reopens).
    server: Option<(File, Instant)>,
    destroyed: HashSet<String>,
    /// A check completed since the path last changed.
    settled: bool,
    rotations: u32,
    /// What was done, for the failure message.
    trace: Vec<String>,
}

impl Model<'_> {
    fn lines(&mut self, n: u64) -> String {
        let mut text = String::new();
        for _ in 0..n {
            let line = format!("line {} {}", self.next_line, "x".repeat(self.rng.below(40) as usize));
            self.next_line += 1;
            text.push_str(&line);
            text.push('\n');
            self.written.push(line);
        }
        text
    }

    /// One random operation on the files, or on the clock.
    fn step(&mut self, run: &mut Run) {
        let exists = self.log.exists();
        match self.rng.below(10) {
            0..=3 if exists || self.settled => {
                let before = self.written.len();
                let n = 1 + self.rng.below(20);
                let text = self.lines(n);
                self.in_current.extend_from_slice(&self.written[before..]);
                if !exists {
                    self.settled = false;
                }
                append(&self.log, &text);
                self.trace.push(format!("write {n} to the path, up to {}", self.next_line - 1));
            }
            4 => {
                // The server writes to the file it has open, rotated or not,
                // while the follower must still be reading it.
                let within_grace = self
                    .server
                    .as_ref()
                    .is_some_and(|(_, at)| run.now.duration_since(*at) < ROTATED_GRACE - Duration::from_secs(1));
                if within_grace {
                    let n = 1 + self.rng.below(5);
                    let text = self.lines(n);
                    let (server, _) = self.server.as_mut().expect("checked");
                    server.write_all(text.as_bytes()).expect("server write");
                    self.trace.push(format!("server writes {n}, up to {}", self.next_line - 1));
                }
            }
            5 if exists && self.settled => {
                // logrotate's `create`: rename, then a new file.
                let server = OpenOptions::new().append(true).open(&self.log).expect("server open");
                self.server = Some((server, run.now));
                self.rotations += 1;
                fs::rename(&self.log, self.dir.path(&format!("access.log.{}", self.rotations))).expect("rename");
                self.in_current.clear();
                let create = self.rng.below(4) > 0;
                if create {
                    File::create(&self.log).expect("create");
                }
                self.trace.push(format!("rename to .{}, create {create}", self.rotations));
                self.settled = false;
            }
            6 if exists && self.settled => {
                // copytruncate: what the follower has not read yet is gone.
                fs::copy(&self.log, self.dir.path("access.log.copy")).expect("copy");
                File::create(&self.log).expect("truncate");
                let read: HashSet<&String> = run.seen.0.iter().collect();
                for line in self.in_current.drain(..) {
                    if !read.contains(&line) {
                        self.destroyed.insert(line);
                    }
                }
                self.trace.push("copytruncate".into());
                self.settled = false;
            }
            7 if exists && self.settled && self.rng.below(3) == 0 => {
                fs::remove_file(&self.log).expect("rm");
                self.in_current.clear();
                self.server = None;
                self.settled = false;
                self.trace.push("delete".into());
            }
            _ => {
                let ms = [0, 1, 20, 250, 1000, 3000][self.rng.below(6) as usize];
                run.now += Duration::from_millis(ms);
                let mut budget = 1 + self.rng.below(4096) as usize;
                if self.rng.below(3) == 0 {
                    let more = run.follower.read(run.now, &mut budget, &mut run.seen).expect("read");
                    self.trace.push(format!("+{ms}ms read {budget} left, more {more}"));
                } else {
                    let more = run.follower.check(run.now, &mut budget, &mut run.seen).expect("check");
                    self.settled |= !more;
                    self.trace.push(format!("+{ms}ms check {budget} left, more {more}"));
                }
            }
        }
    }
}

#[test]
fn random_writes_rotations_and_truncations_lose_and_repeat_nothing() {
    for seed in 0..20 {
        let dir = Dir::new(&format!("model-{seed}"));
        let log = dir.path("access.log");
        let mut rng = Rng(seed);
        let exists_at_start = rng.below(4) > 0;
        if exists_at_start {
            append(&log, "before the start\n");
        }
        let mut run = Run::new(&log, false);
        let mut model = Model {
            dir: &dir,
            log: log.clone(),
            rng,
            next_line: 0,
            written: Vec::new(),
            in_current: Vec::new(),
            server: None,
            destroyed: HashSet::new(),
            settled: true,
            rotations: 0,
            trace: Vec::new(),
        };
        for _ in 0..300 {
            model.step(&mut run);
        }
        run.close();
        let mut once = HashSet::new();
        for line in &run.seen.0 {
            assert!(once.insert(line), "seed {seed}: read twice: {line}");
        }
        let expected: Vec<&String> = model.written.iter().filter(|l| !model.destroyed.contains(*l)).collect();
        let missing: Vec<&&String> = expected.iter().filter(|l| !once.contains(**l)).collect();
        assert!(missing.is_empty(), "seed {seed}: never read: {missing:?}\n{}", model.trace.join("\n"));
        assert_eq!(once.len(), expected.len(), "seed {seed}: read lines never written");
    }
}
