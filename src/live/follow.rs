//! `--follow PATH`: tail -F semantics without losing or repeating a line.
//!
//! A regular file always polls readable, so the file is read, and its path
//! `stat`ed, on a timer. The path is tracked by device and inode:
//! - renamed away and recreated (logrotate `create`): the old file is kept
//!   open and read until it has been quiet for [`ROTATED_GRACE`], since a
//!   server may write to it until it reopens its log; the new file is read
//!   from its start meanwhile.
//! - truncated in place (`copytruncate`): read again from the start. A file
//!   that was truncated and then grew past the old offset between two checks
//!   is caught by comparing the bytes just before the offset.
//! - missing, a directory, not a regular file (a FIFO) or unreadable: said
//!   once on stderr, then retried at every check until it comes back.

use std::fs::{File, Metadata, OpenOptions};
use std::io::{self, Seek, SeekFrom, Write};
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::diag;
use crate::error::{Error, OsMessage};
use crate::input::LineReader;
use crate::monitor::Monitor;
use crate::output::escape::Name;

/// How long a rotated-away file must stay unchanged before it is let go.
pub const ROTATED_GRACE: Duration = Duration::from_secs(5);

/// Rotated files read at once; beyond that the oldest is read to its end
/// and closed, so quick successive rotations cannot pile up descriptors.
const ROTATED_MAX: usize = 4;

/// Bytes compared before the read offset to tell a rewritten file.
const FINGERPRINT: usize = 64;

/// The state of the followed path, so that each problem is said once.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Condition {
    Fine,
    Missing,
    Problem(String),
}

struct Tracked {
    file: File,
    id: (u64, u64),
    offset: u64,
    reader: LineReader,
    /// The last bytes read, up to [`FINGERPRINT`].
    tail: Vec<u8>,
    changed: Instant,
}

impl Tracked {
    fn open(path: &Path, at_end: bool, now: Instant) -> io::Result<Tracked> {
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
        let mut reader = LineReader::default();
        let mut offset = 0;
        if at_end {
            offset = file.seek(SeekFrom::End(0))?;
            // Starting in the middle of a line: its first part is not ours.
            let mut last = [0u8];
            if offset > 0 && file.read_exact_at(&mut last, offset - 1).is_ok() && last[0] != b'\n' {
                reader.resume_mid_line();
            }
        }
        let mut tracked = Tracked { id: id(&meta), file, offset, reader, tail: Vec::new(), changed: now };
        tracked.remember_tail()?;
        Ok(tracked)
    }

    /// Reads the bytes before the offset again, as the fingerprint.
    fn remember_tail(&mut self) -> io::Result<()> {
        let len = self.offset.min(FINGERPRINT as u64);
        self.tail.resize(len as usize, 0);
        self.file.read_exact_at(&mut self.tail, self.offset - len)
    }

    /// Whether the bytes before the offset are still the ones read: if not,
    /// the file was truncated and has grown again since the last check.
    fn rewritten(&self) -> bool {
        let mut now = [0u8; FINGERPRINT];
        let now = &mut now[..self.tail.len()];
        match self.file.read_exact_at(now, self.offset - self.tail.len() as u64) {
            Ok(()) => *now != *self.tail,
            Err(_) => true,
        }
    }

    /// Reads up to `budget` bytes, handing complete lines to `monitor`.
    /// `Ok(true)` if it stopped with more to read.
    fn read<W: Write>(&mut self, name: &Name, budget: &mut usize, monitor: &mut Monitor<W>) -> Result<bool, Failure> {
        let start = self.offset;
        let mut more = true;
        while *budget > 0 {
            let n = self.reader.read_from(&mut self.file).map_err(Failure::Read)?;
            if n == 0 {
                more = false;
                break;
            }
            *budget = budget.saturating_sub(n);
            self.offset += n as u64;
            self.reader.lines(|number, line| monitor.line(name, number, line).map(drop)).map_err(Failure::Output)?;
        }
        if self.offset != start {
            self.changed = Instant::now();
            self.remember_tail().map_err(Failure::Read)?;
        }
        Ok(more)
    }

    /// Hands out a last line left without its newline.
    fn finish<W: Write>(&mut self, name: &Name, monitor: &mut Monitor<W>) -> Result<(), Error> {
        self.reader.finish(|number, line| monitor.line(name, number, line).map(drop))
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
    /// The file could not be read at start (no permission): once it can,
    /// it is read from its end, as if it had been at start.
    open_at_end: bool,
}

impl Follower {
    /// Starts following `path`: at its end, or at its start with
    /// `from_start`. A path that is not there yet is waited for.
    pub fn new(path: &Path, from_start: bool) -> Follower {
        let name = Name::from(path);
        let mut follower = Follower {
            path: path.to_owned(),
            name,
            current: None,
            rotated: Vec::new(),
            condition: Condition::Fine,
            orphaned: false,
            open_at_end: false,
        };
        match Tracked::open(path, !from_start, Instant::now()) {
            Ok(tracked) => {
                let whence = if from_start { "from its start" } else { "from its end" };
                diag::say(format_args!("following {} {whence}", follower.name));
                follower.current = Some(tracked);
            }
            Err(e) => {
                // A file created later is new, all of it; one that was there
                // but could not be read holds history.
                follower.open_at_end = !from_start && e.kind() == io::ErrorKind::PermissionDenied;
                follower.trouble(&e);
            }
        }
        follower
    }

    /// Reads what the followed files hold, rotated ones first, up to
    /// `budget` bytes. `Ok(true)` if more is waiting.
    pub fn read<W: Write>(&mut self, budget: &mut usize, monitor: &mut Monitor<W>) -> Result<bool, Error> {
        let mut more = false;
        let mut i = 0;
        while i < self.rotated.len() {
            match self.rotated[i].read(&self.name, budget, monitor) {
                Ok(m) => {
                    more |= m;
                    i += 1;
                }
                Err(Failure::Output(e)) => return Err(e),
                Err(Failure::Read(e)) => {
                    diag::say(format_args!("{}: rotated file: {}; letting it go", self.name, OsMessage(&e)));
                    let mut gone = self.rotated.remove(i);
                    gone.finish(&self.name, monitor)?;
                }
            }
        }
        if let Some(mut current) = self.current.take() {
            match current.read(&self.name, budget, monitor) {
                Ok(m) => {
                    more |= m;
                    self.current = Some(current);
                }
                Err(Failure::Output(e)) => return Err(e),
                Err(Failure::Read(e)) => {
                    current.finish(&self.name, monitor)?;
                    self.trouble(&e);
                }
            }
        }
        Ok(more)
    }

    /// The timer's work: looks for truncation, reads what is new, then
    /// looks at the path for rotation or disappearance, and reads the new
    /// file if there is one. `Ok(true)` if more is waiting.
    ///
    /// Truncation is looked for before reading, since reading moves the
    /// offset past the evidence; rotation after, so the old file is read to
    /// its end before the new one.
    pub fn check<W: Write>(&mut self, budget: &mut usize, monitor: &mut Monitor<W>) -> Result<bool, Error> {
        let now = Instant::now();
        self.let_go_of_quiet_rotated(now, monitor)?;
        self.check_truncation(monitor)?;
        if self.read(budget, monitor)? {
            return Ok(true);
        }
        let meta = match std::fs::metadata(&self.path) {
            Ok(meta) if meta.is_dir() => {
                self.orphan();
                self.trouble(&io::Error::from_raw_os_error(libc::EISDIR));
                return Ok(false);
            }
            Ok(meta) => meta,
            Err(e) => {
                self.orphan();
                self.trouble(&e);
                return Ok(false);
            }
        };
        if self.current.as_ref().is_some_and(|c| c.id == id(&meta)) {
            self.condition = Condition::Fine;
            return Ok(false);
        }
        self.open_new(now, monitor)?;
        self.read(budget, monitor)
    }

    /// A file shorter than what was read of it, or whose bytes before the
    /// offset changed, was truncated: read it again from the start.
    fn check_truncation<W: Write>(&mut self, monitor: &mut Monitor<W>) -> Result<(), Error> {
        let Some(current) = &mut self.current else { return Ok(()) };
        let shorter = current.file.metadata().is_ok_and(|m| m.len() < current.offset);
        if !shorter && !current.rewritten() {
            return Ok(());
        }
        diag::say(format_args!("{}: truncated; reading it from the start", self.name));
        current.finish(&self.name, monitor)?;
        current.offset = 0;
        current.tail.clear();
        if let Err(e) = current.file.seek(SeekFrom::Start(0)) {
            self.current = None;
            self.trouble(&e);
        }
        Ok(())
    }

    /// The path names another file: read it from its start, and keep
    /// reading the one it replaced. A file that comes back (a rotation
    /// undone) is read on from where it was, not again.
    fn open_new<W: Write>(&mut self, now: Instant, monitor: &mut Monitor<W>) -> Result<(), Error> {
        let tracked = match Tracked::open(&self.path, std::mem::take(&mut self.open_at_end), now) {
            Ok(tracked) => tracked,
            Err(e) => {
                self.trouble(&e);
                return Ok(());
            }
        };
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
        if let Some(old) = old {
            self.rotated.push(old);
        }
        if self.rotated.len() > ROTATED_MAX {
            let oldest = self.rotated.remove(0);
            self.retire(oldest, monitor)?;
        }
        self.condition = Condition::Fine;
        Ok(())
    }

    /// The path no longer names the file being read: keep reading it as a
    /// rotated file, which is let go once quiet, so that a deleted log's
    /// space is freed.
    fn orphan(&mut self) {
        if let Some(current) = self.current.take() {
            self.rotated.push(current);
            self.orphaned = true;
        }
    }

    fn let_go_of_quiet_rotated<W: Write>(&mut self, now: Instant, monitor: &mut Monitor<W>) -> Result<(), Error> {
        while self.rotated.first().is_some_and(|oldest| now.duration_since(oldest.changed) >= ROTATED_GRACE) {
            let oldest = self.rotated.remove(0);
            self.retire(oldest, monitor)?;
        }
        Ok(())
    }

    /// Reads a file that is being let go to its end, then closes it. A read
    /// error only ends, a little early, a file that was ending anyway.
    fn retire<W: Write>(&self, mut tracked: Tracked, monitor: &mut Monitor<W>) -> Result<(), Error> {
        let mut unlimited = usize::MAX;
        match tracked.read(&self.name, &mut unlimited, monitor) {
            Ok(_) => {}
            Err(Failure::Output(e)) => return Err(e),
            Err(Failure::Read(e)) => diag::say(format_args!("{}: rotated file: {}", self.name, OsMessage(&e))),
        }
        tracked.finish(&self.name, monitor)
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
                Condition::Fine => {}
            }
            self.condition = condition;
        }
    }

    /// At the end of the run: every line that is there, read, including
    /// last lines without a newline. The path is looked at first, as at a
    /// check, so that a rotation or truncation just before the end is not
    /// missed.
    pub fn finish<W: Write>(&mut self, monitor: &mut Monitor<W>) -> Result<(), Error> {
        let mut unlimited = usize::MAX;
        self.check(&mut unlimited, monitor)?;
        for tracked in std::mem::take(&mut self.rotated).into_iter().chain(self.current.take()) {
            self.retire(tracked, monitor)?;
        }
        Ok(())
    }
}
