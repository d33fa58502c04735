//! The one error type, and the exit status each kind of error maps to.

use std::fmt;
use std::io;

use crate::output::escape::Name;

#[derive(Debug)]
pub enum Error {
    /// A bad command line; the message names the flag.
    Usage(String),
    /// An input that cannot be opened or read.
    Input { name: Name, source: io::Error },
    /// stdout failed for a reason other than its reader leaving.
    Output(io::Error),
    /// The reader of stdout went away: `logmon | head` is done, not failed.
    BrokenPipe,
    /// The system refused something the live loop needs.
    System { what: &'static str, source: io::Error },
}

impl Error {
    pub fn input(name: impl Into<Name>, source: io::Error) -> Error {
        Error::Input { name: name.into(), source }
    }

    /// A failed write to stdout; a reader that went away is not a failure.
    pub fn output(e: io::Error) -> Error {
        if e.kind() == io::ErrorKind::BrokenPipe { Error::BrokenPipe } else { Error::Output(e) }
    }

    pub fn system(what: &'static str, source: io::Error) -> Error {
        Error::System { what, source }
    }

    /// 2 for usage errors, 1 for the rest; a broken pipe is a success.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) => 2,
            Error::BrokenPipe => 0,
            _ => 1,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Usage(message) => write!(f, "{message}\nTry 'logmon --help' for more information."),
            Error::Input { name, source } => write!(f, "{name}: {}", OsMessage(source)),
            Error::Output(source) => write!(f, "cannot write to standard output: {}", OsMessage(source)),
            Error::BrokenPipe => write!(f, "standard output closed"),
            Error::System { what, source } => write!(f, "{what}: {}", OsMessage(source)),
        }
    }
}

impl std::error::Error for Error {}

/// An I/O error the way C tools print it: `No such file or directory`,
/// without Rust's ` (os error 2)` suffix.
pub struct OsMessage<'a>(pub &'a io::Error);

impl fmt::Display for OsMessage<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.0.to_string();
        match text.rfind(" (os error ") {
            Some(cut) if self.0.raw_os_error().is_some() => f.write_str(&text[..cut]),
            _ => f.write_str(&text),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages() {
        let e = Error::input("missing.log", io::Error::from_raw_os_error(libc::ENOENT));
        assert_eq!(e.to_string(), "missing.log: No such file or directory");
        assert_eq!(e.exit_code(), 1);
        let e = Error::Output(io::Error::from_raw_os_error(libc::ENOSPC));
        assert_eq!(e.to_string(), "cannot write to standard output: No space left on device");
        let e = Error::Usage("--top: invalid value 'x'".into());
        assert!(e.to_string().ends_with("Try 'logmon --help' for more information."));
        assert_eq!(e.exit_code(), 2);
        assert_eq!(Error::BrokenPipe.exit_code(), 0);
    }
}
