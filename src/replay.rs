//! Replay: files (or stdin) read as one stream as fast as they can be read,
//! the log's own timestamps as the clock.

use std::io::Write;

use crate::error::Error;
use crate::input::{Input, LineReader};
use crate::monitor::Monitor;
use crate::signals::Signals;

/// Replays `inputs` in order, then closes every second and writes the last
/// report and the summary. INT, TERM or HUP stop the reading early, and the
/// signal is returned; USR1 writes a report of the interval so far.
pub fn run<W: Write>(inputs: &[Input], monitor: &mut Monitor<W>) -> Result<Option<i32>, Error> {
    // Every input is opened first, so a typo fails before any output.
    let mut opened = inputs.iter().map(|input| Ok((input.name(), input.open()?))).collect::<Result<Vec<_>, Error>>()?;
    let mut signals = Signals::install(false).map_err(|e| Error::system("installing signal handlers", e))?;
    let mut reader = LineReader::default();
    let mut stopped = None;
    'inputs: for (name, src) in &mut opened {
        while reader.read_from(src).map_err(|e| Error::input(name.as_str(), e))? > 0 {
            reader.lines(|number, line| monitor.line(name, number, line).map(drop))?;
            // Once per block read: signals cost nothing per line.
            let pending = signals.take();
            if pending.report {
                monitor.report_now(None)?;
            }
            if let Some(sig) = pending.terminate {
                stopped = Some(sig);
                break 'inputs;
            }
        }
        reader.finish(|number, line| monitor.line(name, number, line).map(drop))?;
    }
    monitor.finish(None)?;
    Ok(stopped)
}
