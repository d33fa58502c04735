//! poll(2), the one place logmon waits.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::time::Duration;

pub use libc::pollfd as PollFd;

pub fn interest(fd: BorrowedFd<'_>, events: libc::c_short) -> PollFd {
    PollFd { fd: fd.as_raw_fd(), events, revents: 0 }
}

/// Waits until one of `fds` is ready or `timeout` passes (`None`: no
/// timeout). A signal interrupting the wait is a wakeup like any other: the
/// caller looks at its self-pipe and its deadlines either way.
pub fn wait(fds: &mut [PollFd], timeout: Option<Duration>) -> io::Result<()> {
    let timeout = timeout.map_or(-1, millis_rounded_up);
    // SAFETY: `fds` is a valid, exclusively borrowed slice of pollfd for the
    // whole call, and its length is passed with it.
    let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout) };
    if n < 0 {
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
        for fd in fds.iter_mut() {
            fd.revents = 0;
        }
    }
    Ok(())
}

/// Rounded up, so a wakeup never comes before the deadline it waits for,
/// which would make the loop spin until it passes.
fn millis_rounded_up(d: Duration) -> libc::c_int {
    let ms = d.as_nanos().div_ceil(1_000_000);
    libc::c_int::try_from(ms).unwrap_or(libc::c_int::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_round_up() {
        assert_eq!(millis_rounded_up(Duration::ZERO), 0);
        assert_eq!(millis_rounded_up(Duration::from_nanos(1)), 1);
        assert_eq!(millis_rounded_up(Duration::from_micros(1500)), 2);
        assert_eq!(millis_rounded_up(Duration::from_millis(250)), 250);
        assert_eq!(millis_rounded_up(Duration::from_secs(u64::MAX)), libc::c_int::MAX);
    }
}
