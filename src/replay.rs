//! Replay: files (or stdin) read as one stream as fast as they can be read,
//! the log's own timestamps as the clock.

use std::fs::File;
use std::io::Write;
use std::os::fd::AsFd;

use crate::error::Error;
use crate::input::{Input, LineReader};
use crate::monitor::Monitor;
use crate::poll::{self, interest};
use crate::signals::Signals;

/// Replays `inputs` in order, then closes every second and writes the last
/// report and the summary. INT, TERM or HUP stop the reading early, and the
/// signal is returned; USR1 writes a report of the interval so far.
pub fn run<W: Write>(inputs: &[Input], monitor: &mut Monitor<W>) -> Result<Option<i32>, Error> {
    // Every input is opened first, so a typo fails before any output.
    let mut opened = inputs.iter().map(|input| Ok((input.name(), input.open()?))).collect::<Result<Vec<_>, Error>>()?;
    let mut signals = Signals::install(false).map_err(|e| Error::system("installing signal handlers", e))?;
    let mut reader = LineReader::default();
    let stopped = 'replay: {
        for (name, file) in &mut opened {
            // A pipe can keep a read waiting: wait for it and for signals
            // together, as live mode does. A regular file never waits.
            let pipe = !file.metadata().is_ok_and(|m| m.is_file());
            loop {
                if pipe {
                    wait_for_input(file, &signals)?;
                }
                // Once per block read: signals cost nothing per line.
                if let Some(sig) = act_on_signals(&mut signals, monitor)? {
                    break 'replay Some(sig);
                }
                if reader.read_from(file).map_err(|e| Error::input(name.clone(), e))? == 0 {
                    break;
                }
                reader.lines(|number, line| monitor.line(name, number, line).map(drop))?;
            }
            reader.finish(|number, line| monitor.line(name, number, line).map(drop))?;
        }
        act_on_signals(&mut signals, monitor)?
    };
    monitor.finish(None)?;
    Ok(stopped)
}

/// Writes a report if one was asked for; returns a signal that ends the run.
fn act_on_signals<W: Write>(signals: &mut Signals, monitor: &mut Monitor<W>) -> Result<Option<i32>, Error> {
    let pending = signals.take();
    if pending.report {
        monitor.report_now(None)?;
    }
    Ok(pending.terminate)
}

/// Sleeps until `file` has input (or its end) or a signal arrived.
fn wait_for_input(file: &File, signals: &Signals) -> Result<(), Error> {
    let mut fds = [interest(file.as_fd(), libc::POLLIN), interest(signals.fd(), libc::POLLIN)];
    poll::wait(&mut fds, None).map_err(|e| Error::system("poll", e))
}
