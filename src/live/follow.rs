//! `--follow PATH`: tail -F semantics without losing or repeating a line.
//!
//! The file is read, and its path `stat`ed, at each check: when the caller
//! hears that something changed, and on a timer. The path is tracked by
//! device and inode:
//! - renamed away and recreated (logrotate `create`): the old file is kept
//!   open and read until it has been quiet for [`ROTATED_GRACE`], counted
//!   from the rotation at the earliest, since a server may write to it until
//!   it reopens its log; the new file is read from its start meanwhile.
//! - truncated in place (`copytruncate`): read again from the start. A file
//!   that was truncated and then grew past the old offset between two checks
//!   is caught by comparing the bytes just before the offset.
//! - missing, a directory, not a regular file (a FIFO) or unreadable: said
//!   once on stderr, then retried at every check until it comes back. A
//!   file just renamed away is said missing only if it still is at the next
//!   check: change events wake the follower between rename and create.
//!
//! Time is an input: every call takes `now` from its caller, so the rules
//! run on a fake clock in tests.

#[cfg(test)]
mod tests;

use std::fs::{File, Metadata, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::{Duration, Instant};

use crate::diag;
use crate::error::{Error, OsMessage};
use crate::input::{Batch, Line, LineReader};
use crate::monitor::Monitor;
use crate::output::escape::Name;

use super::watch::Watch;

/// How long a rotated-away file must stay unchanged before it is let go.
pub const ROTATED_GRACE: Duration = Duration::from_secs(5);

/// Rotated files read at once; beyond that the oldest is read to its end
/// and closed, so quick successive rotations cannot pile up descriptors.
const ROTATED_MAX: usize = 4;

/// Bytes compared before the read offset to tell a rewritten file.
const FINGERPRINT: usize = 64;

/// Where a follower's lines go: the monitor, or a test's model.
pub trait Lines {
    /// Line `number` of the file followed at `source`.
    fn line(&mut self, source: &Name, number: u64, line: Line<'_>) -> Result<(), Error>;

    /// The complete lines of one read, in order.
    fn lines(&mut self, source: &Name, batch: &mut Batch<'_>) -> Result<(), Error> {
        batch.try_for_each(|(number, line)| self.line(source, number, line))
    }

    /// The last line of a file, left without its newline when the run ended.
    fn cut_line(&mut self, source: &Name, number: u64, line: Line<'_>) -> Result<(), Error> {
        self.line(source, number, line)
    }
}

impl<W: Write> Lines for Monitor<W> {
    fn line(&mut self, source: &Name, number: u64, line: Line<'_>) -> Result<(), Error> {
        Monitor::line(self, source, number, line).map(drop)
    }

    fn lines(&mut self, source: &Name, batch: &mut Batch<'_>) -> Result<(), Error> {
        Monitor::lines(self, source, batch, &mut ())
    }

    fn cut_line(&mut self, source: &Name, number: u64, line: Line<'_>) -> Result<(), Error> {
        Monitor::cut_line(self, source, number, line).map(drop)
    }
}

/// The state of the followed path, so that each problem is said once.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Condition {
    Fine,
    /// The file being read just left the path: a rotation puts another
    /// there within moments, so it is said missing only if it still is at
    /// the next check.
    Moved,
    Missing,
    Problem(String),
}

/// Where reading a newly opened file starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Start {
    Beginning,
    End,
    /// At this offset, or at the start if the file is now shorter.
    At(u64),
}

struct Tracked {
    file: File,
    id: (u64, u64),
    offset: u64,
    reader: LineReader,
    /// The last bytes read, up to [`FINGERPRINT`].
    tail: Vec<u8>,
    /// The file was found shorter than the offset while reading: truncated,
    /// whatever it holds by the next check.
    shrank: bool,
    changed: Instant,
    /// Its inotify watch, if it has one.
    watched: Option<i32>,
}

impl Tracked {
    /// Opens `path`; `start` says where to read from, given what the file is.
    fn open(path: &Path, now: Instant, start: impl FnOnce(&Metadata) -> Start) -> io::Result<Tracked> {
        // Non-blocking, so that a FIFO put in the log's place cannot hold the
        // loop in open(2) until a writer comes; it is refused just below.
        // On a regular file the flag changes nothing.
        let mut file = OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(path)?;
        let meta = file.metadata()?;
        if meta.is_dir() {
            return Err(io::Error::from_raw_os_error(libc::EISDIR));
        }
        if !meta.is_file() {
            return Err(io::Error::other("not a regular file"));
        }
        let offset = match start(&meta) {
            Start::Beginning => 0,
            Start::End => meta.len(),
            Start::At(at) if at <= meta.len() => at,
            Start::At(_) => 0,
        };
        let mut reader = LineReader::default();
        // Starting in the middle of a line: its first part is not ours.
        let mut last = [0u8];
        if offset > 0 && file.read_exact_at(&mut last, offset - 1).is_ok() && last[0] != b'\n' {
            reader.resume_mid_line();
        }
        file.seek(SeekFrom::Start(offset))?;
        let mut tracked = Tracked {
            id: id(&meta),
            file,
            offset,
            reader,
            tail: Vec::new(),
            shrank: false,
            changed: now,
            watched: None,
        };
        tracked.remember_tail();
        Ok(tracked)
    }

    /// Reads the bytes before the offset again, as the fingerprint. A file
    /// already shorter than that was truncated: the next check says so.
    fn remember_tail(&mut self) {
        let len = self.offset.min(FINGERPRINT as u64);
        self.tail.resize(len as usize, 0);
        if self.file.read_exact_at(&mut self.tail, self.offset - len).is_err() {
            self.shrank = true;
        }
    }

    /// Whether the file was truncated since the last read: it is shorter
    /// than the offset, or the bytes before the offset are not the ones
    /// read (truncated, then grown past the offset again).
    fn truncated(&self) -> bool {
        if self.shrank || self.file.metadata().is_ok_and(|m| m.len() < self.offset) {
            return true;
        }
        let mut now = [0u8; FINGERPRINT];
        let now = &mut now[..self.tail.len()];
        match self.file.read_exact_at(now, self.offset - self.tail.len() as u64) {
            Ok(()) => *now != *self.tail,
            Err(_) => true,
        }
    }

    /// Reads until `budget` bytes are read, handing complete lines to
    /// `lines`, and takes what it read off `budget`. Each read fills what
    /// the buffer has room for, so the last may go past `budget`, unless
    /// `bound`: then none asks for more than is left. `Ok(true)` if it
    /// stopped with more to read: when the budget stopped it (or was 0 to
    /// begin with) before a read came back empty, the file's size says
    /// whether bytes are left past the offset.
    fn read(
        &mut self,
        name: &Name,
        now: Instant,
        budget: &mut usize,
        bound: bool,
        lines: &mut impl Lines,
    ) -> Result<bool, Failure> {
        let start = self.offset;
        let mut at_end = false;
        while *budget > 0 {
            let ask = if bound { *budget as u64 } else { u64::MAX };
            let n = self.reader.read_from(&mut (&self.file).take(ask)).map_err(Failure::Read)?;
            if n == 0 {
                at_end = true;
                break;
            }
            *budget = budget.saturating_sub(n);
            self.offset += n as u64;
            lines.lines(name, &mut self.reader.batch()).map_err(Failure::Output)?;
        }
        if self.offset != start {
            self.changed = now;
            self.remember_tail();
        }
        Ok(!at_end && self.unread() > 0)
    }

    /// Hands out a last line left without its newline.
    fn finish(&mut self, name: &Name, lines: &mut impl Lines) -> Result<(), Error> {
        self.reader.finish(|number, line| lines.line(name, number, line))
    }

    /// Bytes in the file past what was read.
    fn unread(&self) -> u64 {
        self.file.metadata().map_or(0, |m| m.len().saturating_sub(self.offset))
    }
}

/// Why reading a tracked file stopped.
enum Failure {
    /// The file: said on stderr, then the file is dropped and looked for again.
    Read(io::Error),
    /// stdout: the end of the run.
    Output(Error),
}

fn id(meta: &Metadata) -> (u64, u64) {
    (meta.dev(), meta.ino())
}

pub struct Follower {
    path: PathBuf,
    name: Name,
    current: Option<Tracked>,
    /// Renamed-away files still being read, oldest first.
    rotated: Vec<Tracked>,
    condition: Condition,
    /// The file being read left the path (gone, or a directory in its
    /// place): whatever appears there next is a rotation.
    orphaned: bool,
    /// The file that was at the path at start but could not be read (no
    /// permission), by id, and its size then (`stat` needs no permission
    /// to read): once it can be read, it is read from there, as if it had
    /// been read from its end at start.
    unread_at_start: Option<((u64, u64), u64)>,
    /// Change events for the path's directory and the open files, if the
    /// system has them.
    watch: Option<Rc<Watch>>,
    /// After a signal (see [`end`](Self::end)).
    ending: bool,
}

impl Follower {
    /// Starts following `path`: at its end, or at its start with
    /// `from_start`. A path that is not there yet is waited for. With
    /// `watch`, its directory and the files open are watched for changes.
    pub fn new(path: &Path, from_start: bool, now: Instant, watch: Option<Rc<Watch>>) -> Follower {
        let name = Name::from(path);
        if let Some(watch) = &watch {
            watch.directory_of(path);
        }
        let mut follower = Follower {
            path: path.to_owned(),
            name,
            current: None,
            rotated: Vec::new(),
            condition: Condition::Fine,
            orphaned: false,
            unread_at_start: None,
            watch,
            ending: false,
        };
        let start = if from_start { Start::Beginning } else { Start::End };
        match follower.open(now, |_| start) {
            Ok(tracked) => {
                let whence = if from_start { "from its start" } else { "from its end" };
                diag::say(format_args!("following {} {whence}", follower.name));
                follower.current = Some(tracked);
            }
            Err(e) => {
                // A file created later is new, all of it; one that was there
                // but could not be read holds history up to its size now.
                if !from_start && e.kind() == io::ErrorKind::PermissionDenied {
                    follower.unread_at_start = std::fs::metadata(path).ok().map(|m| (id(&m), m.len()));
                }
                follower.trouble(&e);
            }
        }
        follower
    }

    /// The path followed, for messages.
    pub fn name(&self) -> &Name {
        &self.name
    }

    /// The path followed, as given.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What keeps the path from being read, while it lasts: `None` when the
    /// file is read normally.
    pub fn trouble_now(&self) -> Option<&str> {
        match &self.condition {
            Condition::Fine => None,
            Condition::Moved | Condition::Missing => Some("missing"),
            Condition::Problem(why) => Some(why),
        }
    }

    /// Reads what the followed files hold, rotated ones first, until
    /// `budget` bytes are read (see [`Tracked::read`]), and takes what it
    /// read off `budget`. `Ok(true)` if more is waiting.
    ///
    /// Truncation is looked for before reading, since reading moves the
    /// offset past the evidence.
    pub fn read(&mut self, now: Instant, budget: &mut usize, lines: &mut impl Lines) -> Result<bool, Error> {
        self.check_truncation(lines)?;
        let mut more = false;
        let mut i = 0;
        while i < self.rotated.len() {
            match self.rotated[i].read(&self.name, now, budget, self.ending, lines) {
                Ok(m) => {
                    more |= m;
                    i += 1;
                }
                Err(Failure::Output(e)) => return Err(e),
                Err(Failure::Read(e)) => {
                    diag::say(format_args!("{}: rotated file: {}; letting it go", self.name, OsMessage(&e)));
                    let mut gone = self.rotated.remove(i);
                    self.unwatch(&gone);
                    gone.finish(&self.name, lines)?;
                }
            }
        }
        if let Some(mut current) = self.current.take() {
            match current.read(&self.name, now, budget, self.ending, lines) {
                Ok(m) => {
                    more |= m;
                    self.current = Some(current);
                }
                Err(Failure::Output(e)) => return Err(e),
                Err(Failure::Read(e)) => {
                    self.unwatch(&current);
                    current.finish(&self.name, lines)?;
                    self.trouble(&e);
                }
            }
        }
        Ok(more)
    }

    /// Reads what is new, then looks at the path for rotation or
    /// disappearance, and reads the new file if there is one. `Ok(true)`
    /// if more is waiting.
    ///
    /// The path is looked at after reading, so that the old file is read
    /// to its end before the new one.
    pub fn check(&mut self, now: Instant, budget: &mut usize, lines: &mut impl Lines) -> Result<bool, Error> {
        self.let_go_of_quiet_rotated(now, lines)?;
        if self.read(now, budget, lines)? {
            return Ok(true);
        }
        let meta = match std::fs::metadata(&self.path) {
            Ok(meta) if meta.is_dir() => {
                self.orphan(now);
                self.trouble(&io::Error::from_raw_os_error(libc::EISDIR));
                return Ok(false);
            }
            Ok(meta) => meta,
            Err(e) if e.kind() == io::ErrorKind::NotFound && self.orphan(now) => {
                self.condition = Condition::Moved;
                return Ok(false);
            }
            Err(e) => {
                self.orphan(now);
                self.trouble(&e);
                return Ok(false);
            }
        };
        if self.current.as_ref().is_some_and(|c| c.id == id(&meta)) {
            self.condition = Condition::Fine;
            return Ok(false);
        }
        self.open_new(now, lines)?;
        self.read(now, budget, lines)
    }

    /// A file truncated since the last read is read again from the start.
    fn check_truncation(&mut self, lines: &mut impl Lines) -> Result<(), Error> {
        let Some(current) = &mut self.current else { return Ok(()) };
        if !current.truncated() {
            return Ok(());
        }
        diag::say(format_args!("{}: truncated; reading it from the start", self.name));
        current.finish(&self.name, lines)?;
        current.offset = 0;
        current.tail.clear();
        current.shrank = false;
        if let Err(e) = current.file.seek(SeekFrom::Start(0)) {
            if let Some(gone) = self.current.take() {
                self.unwatch(&gone);
            }
            self.trouble(&e);
        }
        Ok(())
    }

    /// The path names another file: read it from its start, and keep
    /// reading the one it replaced. A file that comes back (a rotation
    /// undone) is read on from where it was, not again.
    fn open_new(&mut self, now: Instant, lines: &mut impl Lines) -> Result<(), Error> {
        let unread_at_start = self.unread_at_start;
        let start = |meta: &Metadata| match unread_at_start {
            Some((was, size)) if was == id(meta) => Start::At(size),
            _ => Start::Beginning,
        };
        let tracked = match self.open(now, start) {
            Ok(tracked) => tracked,
            Err(e) => {
                self.trouble(&e);
                return Ok(());
            }
        };
        self.unread_at_start = None;
        let tracked = match self.rotated.iter().position(|r| r.id == tracked.id) {
            Some(i) => self.rotated.remove(i),
            None => tracked,
        };
        let old = self.current.replace(tracked);
        if old.is_some() || std::mem::take(&mut self.orphaned) {
            diag::say(format_args!("{}: rotated; reading the new file", self.name));
        } else {
            diag::say(format_args!("{}: appeared; following it", self.name));
        }
        if let Some(mut old) = old {
            old.changed = now;
            self.rotated.push(old);
        }
        if self.rotated.len() > ROTATED_MAX {
            let oldest = self.rotated.remove(0);
            self.retire(oldest, now, lines)?;
        }
        self.condition = Condition::Fine;
        Ok(())
    }

    /// Opens the path, watched if there are watches.
    fn open(&self, now: Instant, start: impl FnOnce(&Metadata) -> Start) -> io::Result<Tracked> {
        let mut tracked = Tracked::open(&self.path, now, start)?;
        tracked.watched = self.watch.as_ref().and_then(|w| w.file(&tracked.file));
        Ok(tracked)
    }

    /// Stops watching a file that is being closed. A file that came back
    /// (a rotation undone) and was opened again shares its watch with the
    /// copy kept, so the copy dropped is not unwatched.
    fn unwatch(&self, tracked: &Tracked) {
        if let (Some(watch), Some(wd)) = (&self.watch, tracked.watched) {
            watch.forget(wd);
        }
    }

    /// The path no longer names the file being read: keep reading it as a
    /// rotated file, which is let go once quiet, so that a deleted log's
    /// space is freed. `true` if there was a file being read.
    fn orphan(&mut self, now: Instant) -> bool {
        let Some(mut current) = self.current.take() else { return false };
        current.changed = now;
        self.rotated.push(current);
        self.orphaned = true;
        true
    }

    fn let_go_of_quiet_rotated(&mut self, now: Instant, lines: &mut impl Lines) -> Result<(), Error> {
        while !self.ending
            && self.rotated.first().is_some_and(|oldest| now.duration_since(oldest.changed) >= ROTATED_GRACE)
        {
            let oldest = self.rotated.remove(0);
            self.retire(oldest, now, lines)?;
        }
        Ok(())
    }

    /// Reads a file that is being let go to its end, then closes it. A read
    /// error only ends, a little early, a file that was ending anyway.
    fn retire(&self, mut tracked: Tracked, now: Instant, lines: &mut impl Lines) -> Result<(), Error> {
        self.unwatch(&tracked);
        let mut unlimited = usize::MAX;
        match tracked.read(&self.name, now, &mut unlimited, false, lines) {
            Ok(_) => {}
            Err(Failure::Output(e)) => return Err(e),
            Err(Failure::Read(e)) => diag::say(format_args!("{}: rotated file: {}", self.name, OsMessage(&e))),
        }
        tracked.finish(&self.name, lines)
    }

    /// After a signal, the budget [`read`](Self::read) and
    /// [`check`](Self::check) get is a bound rather than a pace: no read
    /// asks for more than is left of it. And since letting a quiet file go
    /// reads it to its end, whatever was written to it since, it is kept
    /// until [`close`](Self::close) from now on. (The oldest file a
    /// rotation puts past [`ROTATED_MAX`] is still let go: a check looks
    /// at the path only once every file was read to its end.)
    pub fn end(&mut self) {
        self.ending = true;
    }

    /// Says what is wrong with the path, unless it was already said.
    fn trouble(&mut self, e: &io::Error) {
        let condition = match e.kind() {
            io::ErrorKind::NotFound => Condition::Missing,
            _ => Condition::Problem(OsMessage(e).to_string()),
        };
        if condition != self.condition {
            match &condition {
                Condition::Missing => diag::say(format_args!("{}: missing; waiting for it to appear", self.name)),
                Condition::Problem(why) => diag::say(format_args!("{}: {why}; retrying", self.name)),
                Condition::Fine | Condition::Moved => {}
            }
            self.condition = condition;
        }
    }

    /// At the end of the run, after the last checks and reads: hands out
    /// last lines left without a newline (cut off, if they do not parse),
    /// closes every file and returns the bytes left unread in them.
    pub fn close(&mut self, lines: &mut impl Lines) -> Result<u64, Error> {
        let mut unread = 0;
        for mut tracked in std::mem::take(&mut self.rotated).into_iter().chain(self.current.take()) {
            unread += tracked.unread();
            self.unwatch(&tracked);
            let name = &self.name;
            tracked.reader.finish(|number, line| lines.cut_line(name, number, line))?;
        }
        Ok(unread)
    }
}
