//! logmon: an HTTP access-log monitor built as a Unix stream filter.
//!
//! [`engine`] is pure: lines and instants in, reports and alerts out.
//! Everything that touches the world sits around it: [`replay`] and
//! [`live`] feed it, [`output`] writes what it says, [`cli`] reads the
//! command line.

pub mod cli;
pub mod completions;
pub mod diag;
pub mod engine;
pub mod error;
pub mod hooks;
pub mod input;
pub mod live;
pub mod monitor;
pub mod output;
pub mod poll;
pub mod replay;
pub mod signals;
pub mod suspect;

use std::fs::File;
use std::io::{self, IsTerminal, Write};
use std::os::fd::AsFd;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::time::Instant;

use cli::{ColorChoice, Command, Options};
use engine::{Clock, Config, Engine};
use error::Error;
use hooks::Hooks;
use input::Input;
use monitor::Monitor;
use output::metrics::MetricsFile;
use output::{Format, Output, Style};
use signals::Signals;
use suspect::Suspect;

/// Exit status when `--fail-on-alert` is given and an alert triggered.
pub const EXIT_ALERT: u8 = 3;

/// Exit status of a replay that read lines and found not one valid: its
/// zeros would otherwise read as "all quiet" to a script.
pub const EXIT_NOTHING_VALID: u8 = 1;

/// Runs a parsed command and returns the exit status.
pub fn run(command: Command) -> Result<u8, Error> {
    let options = match command {
        Command::Help => return print(cli::HELP),
        Command::Version => return print(&format!("{}\n", cli::VERSION)),
        Command::LogFormats => return print(&cli::log_formats()),
        Command::Completions(shell) => return print(&completions::script(shell)),
        Command::Run(options) => *options,
    };
    // Handlers before anything else: a USR1 or TERM sent while the inputs
    // are looked at must not kill logmon.
    let signals =
        Signals::install(!options.follow.is_empty()).map_err(|e| Error::system("installing signal handlers", e))?;
    let stdout = output::stdout()?;
    let plan = Plan::of(&options)?;
    let clock = match plan {
        Plan::Replay(_) => Clock::Log,
        Plan::Follow(_) | Plan::Stream(_) => Clock::Wall,
    };
    let style = Style { format: options.format, verbosity: options.verbosity, color: use_color(&options) };
    let out = Output::new(stdout, style);
    let metrics = match &options.metrics {
        Some(path) => Some(MetricsFile::create(path, &options.engine)?),
        None => None,
    };
    let hooks = match &options.exec {
        Some(command) => Some(
            Hooks::new(command.clone(), options.exec_timeout, matches!(plan, Plan::Replay(_)), Instant::now())
                .map_err(|e| Error::system("installing the SIGCHLD handler", e))?,
        ),
        None => None,
    };
    let suspect = (clock == Clock::Wall).then(Suspect::default);
    let reports = Monitor::needs_reports(&out, metrics.as_ref(), suspect.as_ref());
    let mut monitor = Monitor::new(Engine::new(Config { reports, ..options.engine_config(clock) }), out)
        .with_metrics(metrics)
        .with_suspect(suspect)
        .with_hooks(hooks);
    let replayed = match plan {
        Plan::Replay(inputs) => {
            let mut signals = signals;
            replay::run(&inputs, &options.engine, options.verbosity, &mut signals, &mut monitor).map(Some)
        }
        Plan::Follow(paths) => live::follow(&paths, &options, signals, &mut monitor).map(|()| None),
        Plan::Stream(input) => live::stream(input, signals, &mut monitor).map(|()| None),
    };
    // Hooks still running or queued are waited for, however the run ended.
    if let Some(hooks) = monitor.hooks_mut() {
        hooks.finish();
    }
    match replayed? {
        Some(replay::End::Complete) | None => {}
        Some(replay::End::NothingValid) => return Ok(EXIT_NOTHING_VALID),
        // Cut short: the summary covers only part of the input.
        Some(replay::End::Signal(sig)) => return Ok(128 + sig as u8),
    }
    let alerted = monitor.engine().alerts_triggered() > 0;
    Ok(if options.fail_on_alert && alerted { EXIT_ALERT } else { 0 })
}

fn print(text: &str) -> Result<u8, Error> {
    let mut stdout = output::stdout()?;
    stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()).map_err(Error::output)?;
    Ok(0)
}

/// What to read, and so which clock to use.
enum Plan {
    Replay(Vec<Input>),
    Follow(Vec<PathBuf>),
    /// A pipe or terminal, read live.
    Stream(Input),
}

impl Plan {
    /// `--follow` is live; so is a single pipe, socket or terminal. Files
    /// replay, as does everything with `--replay`: nobody gets a false alert
    /// from an old file by accident.
    fn of(options: &Options) -> Result<Plan, Error> {
        if !options.follow.is_empty() {
            return Ok(Plan::Follow(options.follow.clone()));
        }
        let mut inputs: Vec<Input> = options
            .inputs
            .iter()
            .map(|p| if p.as_os_str() == "-" { Input::Stdin } else { Input::Path(p.clone()) })
            .collect();
        if inputs.is_empty() {
            inputs.push(Input::Stdin);
        }
        if !options.replay && inputs.len() == 1 && is_live(&inputs[0])? {
            return Ok(Plan::Stream(inputs.remove(0)));
        }
        Ok(Plan::Replay(inputs))
    }
}

/// A pipe, a socket or a terminal: input that arrives as it happens.
/// Anything else (a regular file, a directory, a missing path) is replayed,
/// and whatever is wrong with it is said before any output.
fn is_live(input: &Input) -> Result<bool, Error> {
    let meta = match input {
        Input::Stdin => io::stdin()
            .as_fd()
            .try_clone_to_owned()
            .map(File::from)
            .and_then(|f| f.metadata())
            .map_err(|e| Error::input("<stdin>", e))?,
        Input::Path(path) => match Path::new(path).metadata() {
            Ok(meta) => meta,
            Err(_) => return Ok(false),
        },
    };
    let kind = meta.file_type();
    Ok(kind.is_fifo() || kind.is_socket() || kind.is_char_device())
}

/// Colour for text on a terminal, unless `NO_COLOR` is set or the terminal
/// is dumb; `--color` overrides both ways.
fn use_color(options: &Options) -> bool {
    if options.format != Format::Text {
        return false;
    }
    match options.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
            let dumb = std::env::var_os("TERM").is_some_and(|t| t == "dumb");
            !no_color && !dumb && io::stdout().is_terminal()
        }
    }
}
