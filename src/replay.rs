//! Replay: files (or stdin) read as one stream as fast as they can be read,
//! the log's own timestamps as the clock.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::PathBuf;

use crate::error::Error;
use crate::input::LineReader;
use crate::live::signals::Signals;
use crate::monitor::Monitor;

/// Where a replay reads from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    Stdin,
    Path(PathBuf),
}

impl Input {
    pub fn name(&self) -> String {
        match self {
            Input::Stdin => "<stdin>".to_owned(),
            Input::Path(path) => path.display().to_string(),
        }
    }

    fn open(&self) -> Result<Box<dyn Read>, Error> {
        match self {
            Input::Stdin => Ok(Box::new(io::stdin().lock())),
            Input::Path(path) => {
                let fail = |e| Error::input(self.name(), e);
                let file = File::open(path).map_err(fail)?;
                if file.metadata().map_err(fail)?.is_dir() {
                    return Err(fail(io::Error::from_raw_os_error(libc::EISDIR)));
                }
                Ok(Box::new(file))
            }
        }
    }
}

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
