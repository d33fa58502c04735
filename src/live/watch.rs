//! Change events for followed files, through inotify(7) on Linux: a write,
//! a truncation, a rename, a deletion or a new file wakes the poll loop at
//! once, rather than at the next timer check. The timer stays, as the
//! fallback for what inotify does not see (other systems, network file
//! systems, a full event queue, a directory that was missing at start).
//!
//! Each open file is watched by inode, wherever it is renamed to, for its
//! data and attributes; each followed path's directory is watched for names
//! coming and going. On other systems there is no watch, and the timer
//! serves alone.

use std::fs::File;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// What the events since the last look say.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Changes {
    /// A file being read changed: read it (which also looks for truncation).
    pub data: bool,
    /// A path may name another file now, or none: check the paths.
    pub path: bool,
}

#[cfg(target_os = "linux")]
/// On an open file: its data, its attributes (a link count that drops to
/// zero, a mode that changes), and its moves and deletion.
const FILE_EVENTS: u32 = libc::IN_MODIFY | libc::IN_ATTRIB | libc::IN_MOVE_SELF | libc::IN_DELETE_SELF;

#[cfg(target_os = "linux")]
/// On a directory: names coming and going, and attributes of what it holds
/// (a followed file made readable).
const DIRECTORY_EVENTS: u32 =
    libc::IN_CREATE | libc::IN_DELETE | libc::IN_MOVED_FROM | libc::IN_MOVED_TO | libc::IN_ATTRIB | libc::IN_ONLYDIR;

pub struct Watch {
    fd: OwnedFd,
}

#[cfg(target_os = "linux")]
impl Watch {
    /// A new inotify instance, or the reason there is none (too many
    /// instances, or no inotify on this system).
    pub fn new() -> io::Result<Watch> {
        // SAFETY: inotify_init1 takes flags only and returns a new
        // descriptor, or -1.
        let fd = unsafe { libc::inotify_init1(libc::IN_NONBLOCK | libc::IN_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` was just returned by the kernel and is owned by no one else.
        Ok(Watch { fd: unsafe { OwnedFd::from_raw_fd(fd) } })
    }

    /// The descriptor to poll for reading.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// Watches the directory that holds `path`. A failure leaves the path
    /// to the timer.
    pub fn directory_of(&self, path: &Path) {
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        let _ = self.add(dir, DIRECTORY_EVENTS);
    }

    /// Watches the file open as `file`, by inode: through its descriptor's
    /// name in /proc, not its path, which may already name another file.
    /// Returns the watch, to forget when the file is closed; `None` leaves
    /// the file to the timer.
    pub fn file(&self, file: &File) -> Option<i32> {
        let by_fd = format!("/proc/self/fd/{}", file.as_raw_fd());
        self.add(Path::new(&by_fd), FILE_EVENTS).ok()
    }

    /// Stops watching a file that was closed. A watch the kernel already
    /// dropped (the file was deleted) is no error.
    pub fn forget(&self, wd: i32) {
        // SAFETY: plain integers; an unknown watch only yields EINVAL.
        unsafe { libc::inotify_rm_watch(self.fd.as_raw_fd(), wd) };
    }

    fn add(&self, path: &Path, mask: u32) -> io::Result<i32> {
        let path = std::ffi::CString::new(path.as_os_str().as_bytes()).map_err(io::Error::other)?;
        // SAFETY: a valid descriptor and a NUL-terminated path that outlives the call.
        let wd = unsafe { libc::inotify_add_watch(self.fd.as_raw_fd(), path.as_ptr(), mask) };
        if wd < 0 { Err(io::Error::last_os_error()) } else { Ok(wd) }
    }

    /// Empties the event queue and says what the events ask for.
    pub fn take(&self) -> Changes {
        let mut changes = Changes::default();
        let mut buf = [0u8; 4096];
        loop {
            // SAFETY: `buf` is valid for writes of its length for the call.
            let n = unsafe { libc::read(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
            if n <= 0 {
                // Empty (EAGAIN), or broken: either way the timer still serves.
                return changes;
            }
            for mask in masks(&buf[..n as usize]) {
                changes.data |= mask & libc::IN_MODIFY != 0;
                // A forgotten watch's farewell (IN_IGNORED) asks for nothing.
                changes.path |= mask & !(libc::IN_MODIFY | libc::IN_IGNORED) != 0;
            }
        }
    }
}

#[cfg(target_os = "linux")]
/// The mask of each event in a buffer read from inotify: a header
/// (`wd`, `mask`, `cookie`, `len`, four 32-bit fields) then `len` bytes of
/// name. A queue overflow's event has its own mask bit, so it counts as a
/// path change.
fn masks(mut buf: &[u8]) -> impl Iterator<Item = u32> + '_ {
    const HEADER: usize = 16;
    std::iter::from_fn(move || {
        let header = buf.get(..HEADER)?;
        let field = |i: usize| u32::from_ne_bytes([header[i], header[i + 1], header[i + 2], header[i + 3]]);
        let (mask, len) = (field(4), field(12) as usize);
        buf = buf.get(HEADER + len..).unwrap_or_default();
        Some(mask)
    })
}

/// Elsewhere: no watch, so the loop relies on its timer.
#[cfg(not(target_os = "linux"))]
impl Watch {
    pub fn new() -> io::Result<Watch> {
        Err(io::ErrorKind::Unsupported.into())
    }

    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    pub fn directory_of(&self, _path: &Path) {}

    pub fn file(&self, _file: &File) -> Option<i32> {
        None
    }

    pub fn forget(&self, _wd: i32) {}

    pub fn take(&self) -> Changes {
        Changes::default()
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use std::fs::{self, OpenOptions};
    use std::io::Write;

    use super::*;

    #[test]
    fn writes_renames_and_new_files_are_told_apart() {
        let dir = std::env::temp_dir().join(format!("logmon-watch-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("temp dir");
        let log = dir.join("access.log");
        let mut file = OpenOptions::new().create(true).append(true).open(&log).expect("create");
        let watch = Watch::new().expect("inotify");
        watch.directory_of(&log);
        let wd = watch.file(&File::open(&log).expect("open")).expect("watch the file");
        assert_eq!(watch.take(), Changes::default(), "nothing yet");
        file.write_all(b"line\n").expect("write");
        assert_eq!(watch.take(), Changes { data: true, path: false });
        fs::rename(&log, dir.join("access.log.1")).expect("rename");
        assert_eq!(watch.take(), Changes { data: false, path: true });
        file.write_all(b"to the renamed file\n").expect("write");
        assert_eq!(watch.take(), Changes { data: true, path: false }, "watched by inode");
        File::create(&log).expect("create again");
        assert!(watch.take().path);
        watch.forget(wd);
        file.write_all(b"unwatched\n").expect("write");
        assert_eq!(watch.take(), Changes::default(), "forgotten");
        let _ = fs::remove_dir_all(&dir);
    }
}
