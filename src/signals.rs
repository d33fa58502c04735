//! Signals as events: each handler sets a flag and writes a byte to a
//! self-pipe, which live mode's poll loop waits on and replay looks at
//! between reads.

use std::io::{self, Read};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM, SIGUSR1};
use signal_hook::{flag, low_level::pipe};

use crate::output::whole;

/// What the signals since the last look ask for.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Pending {
    /// INT or TERM (or HUP when there is no file to reopen): the signal.
    pub terminate: Option<i32>,
    /// USR1: a report now.
    pub report: bool,
    /// HUP: look at the followed path again now.
    pub reopen: bool,
}

pub struct Signals {
    wake: UnixStream,
    /// Set by the first termination signal and never cleared: it arms the
    /// immediate exit of the second.
    terminating: Arc<AtomicBool>,
    /// The termination signal's number, kept until handled.
    terminate: Arc<AtomicUsize>,
    report: Arc<AtomicBool>,
    reopen: Arc<AtomicBool>,
}

impl Signals {
    /// Signals with every flag clear, and the writing end of their
    /// self-pipe.
    fn pair() -> io::Result<(Signals, UnixStream)> {
        let (wake, notify) = UnixStream::pair()?;
        wake.set_nonblocking(true)?;
        let signals = Signals {
            wake,
            terminating: Arc::new(AtomicBool::new(false)),
            terminate: Arc::new(AtomicUsize::new(0)),
            report: Arc::new(AtomicBool::new(false)),
            reopen: Arc::new(AtomicBool::new(false)),
        };
        Ok((signals, notify))
    }

    /// Installs the handlers. With `hup_reopens` false, HUP (the terminal
    /// going away) ends the run like TERM.
    pub fn install(hup_reopens: bool) -> io::Result<Signals> {
        let (signals, notify) = Signals::pair()?;
        let mut terminators = vec![SIGINT, SIGTERM];
        if hup_reopens {
            flag::register(SIGHUP, Arc::clone(&signals.reopen))?;
        } else {
            terminators.push(SIGHUP);
        }
        for sig in terminators {
            // Order matters: the exit is registered first, so it only fires
            // if a previous signal already set `terminating`. It waits for
            // the event being written to stdout, so no line is cut.
            let terminating = Arc::clone(&signals.terminating);
            let second = move || {
                if terminating.load(Ordering::SeqCst) {
                    whole::exit_between_events(128 + sig);
                }
            };
            // SAFETY: the action reads an atomic and calls a function that
            // is async-signal-safe (see `exit_between_events`).
            unsafe { signal_hook::low_level::register(sig, second) }?;
            flag::register(sig, Arc::clone(&signals.terminating))?;
            flag::register_usize(sig, Arc::clone(&signals.terminate), sig as usize)?;
        }
        flag::register(SIGUSR1, Arc::clone(&signals.report))?;
        // Flags first, then the byte: the loop reads the byte, then the flags.
        for sig in [SIGINT, SIGTERM, SIGHUP, SIGUSR1] {
            pipe::register(sig, notify.try_clone()?)?;
        }
        Ok(signals)
    }

    /// Signals that only a test raises, through the [`Raise`] returned
    /// with them: no handler is installed.
    #[cfg(test)]
    pub fn for_tests() -> io::Result<(Signals, Raise)> {
        let (signals, notify) = Signals::pair()?;
        let raise = Raise {
            notify,
            terminate: Arc::clone(&signals.terminate),
            report: Arc::clone(&signals.report),
            reopen: Arc::clone(&signals.reopen),
        };
        Ok((signals, raise))
    }

    /// The self-pipe to poll for reading.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.wake.as_fd()
    }

    /// Empties the self-pipe, then collects the flags. The order means a
    /// signal arriving in between leaves a byte for the next wakeup rather
    /// than being lost.
    pub fn take(&mut self) -> Pending {
        let mut sink = [0u8; 64];
        while matches!((&self.wake).read(&mut sink), Ok(n) if n > 0) {}
        let terminate = self.terminate.swap(0, Ordering::SeqCst);
        Pending {
            terminate: (terminate != 0).then_some(terminate as i32),
            report: self.report.swap(false, Ordering::SeqCst),
            reopen: self.reopen.swap(false, Ordering::SeqCst),
        }
    }
}

/// `SIGTERM`, for messages.
pub fn name(sig: i32) -> String {
    signal_hook::low_level::signal_name(sig).map_or_else(|| format!("signal {sig}"), str::to_owned)
}

/// A test's hand on [`Signals::for_tests`]: sets the flags and writes the
/// byte, as the handlers would.
#[cfg(test)]
pub struct Raise {
    notify: UnixStream,
    terminate: Arc<AtomicUsize>,
    report: Arc<AtomicBool>,
    reopen: Arc<AtomicBool>,
}

#[cfg(test)]
impl Raise {
    pub fn raise(&self, sig: i32) {
        match sig {
            SIGUSR1 => self.report.store(true, Ordering::SeqCst),
            SIGHUP => self.reopen.store(true, Ordering::SeqCst),
            _ => self.terminate.store(sig as usize, Ordering::SeqCst),
        }
        let _ = io::Write::write(&mut &self.notify, b"!");
    }
}
