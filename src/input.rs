//! Inputs and the lines in them: one large reusable buffer, split with memchr,
//! lines handed out as slices of it. Memory stays bounded however long a
//! line is: past [`MAX_LINE`] bytes it is skipped to its newline.

use std::fs::File;
use std::io::{self, Read};
use std::os::fd::AsFd;
use std::path::PathBuf;

use memchr::memchr;

use crate::error::Error;
use crate::output::escape::Name;

/// Longest line kept; longer ones are counted as malformed.
pub const MAX_LINE: usize = 64 * 1024;

/// Large reads keep replay near the speed of the disk or page cache.
const BUFFER: usize = 1024 * 1024;

/// A named input: stdin or a path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    Stdin,
    Path(PathBuf),
}

impl Input {
    pub fn name(&self) -> Name {
        match self {
            Input::Stdin => Name::from("<stdin>"),
            Input::Path(path) => Name::from(path.as_path()),
        }
    }

    /// Opens it for reading; a directory is refused here, not at the first read.
    ///
    /// Stdin comes back as a duplicate of its descriptor: reads then bypass
    /// the standard library's buffer, which poll(2) cannot see into, and
    /// `-` given twice does not take stdin's lock twice.
    pub fn open(&self) -> Result<File, Error> {
        let fail = |e| Error::input(self.name(), e);
        let file = match self {
            Input::Stdin => io::stdin().as_fd().try_clone_to_owned().map(File::from).map_err(fail)?,
            Input::Path(path) => File::open(path).map_err(fail)?,
        };
        if file.metadata().map_err(fail)?.is_dir() {
            return Err(fail(io::Error::from_raw_os_error(libc::EISDIR)));
        }
        Ok(file)
    }
}

/// A line as read, without its newline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Line<'a> {
    Text(&'a [u8]),
    /// Longer than [`MAX_LINE`]; its bytes were dropped.
    Overlong,
}

impl Line<'_> {
    /// The line's bytes, empty when they were dropped.
    pub fn bytes(&self) -> &[u8] {
        match self {
            Line::Text(t) => t,
            Line::Overlong => &[],
        }
    }
}

pub struct LineReader {
    buf: Box<[u8]>,
    /// Unread bytes are `buf[start..end]`; they hold no complete line.
    start: usize,
    end: usize,
    /// Inside an overlong line, dropping bytes up to its newline.
    skipping: bool,
    /// The number of the last line handed out, from 1 in each stream.
    line: u64,
}

impl Default for LineReader {
    fn default() -> Self {
        LineReader { buf: vec![0; BUFFER].into_boxed_slice(), start: 0, end: 0, skipping: false, line: 0 }
    }
}

impl LineReader {
    /// Reads once from `src`, retrying interruptions; `Ok(0)` at its end.
    pub fn read_from(&mut self, src: &mut impl Read) -> io::Result<usize> {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        loop {
            match src.read(&mut self.buf[self.end..]) {
                Ok(n) => {
                    self.end += n;
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Drops what comes before the next newline, uncounted: for a reader
    /// that starts in the middle of a line.
    pub fn resume_mid_line(&mut self) {
        self.skipping = true;
    }

    /// Whether the last read filled the buffer, so more may be waiting.
    pub fn was_full(&self) -> bool {
        self.end == self.buf.len()
    }

    /// Hands every complete line read so far to `f`, with its number.
    pub fn lines<E>(&mut self, mut f: impl FnMut(u64, Line<'_>) -> Result<(), E>) -> Result<(), E> {
        loop {
            let pending = &self.buf[self.start..self.end];
            match memchr(b'\n', pending) {
                Some(i) => {
                    let line = &pending[..i];
                    self.start += i + 1;
                    if std::mem::take(&mut self.skipping) {
                        continue;
                    }
                    self.line += 1;
                    f(self.line, if line.len() > MAX_LINE { Line::Overlong } else { Line::Text(line) })?;
                }
                None => {
                    if !self.skipping && pending.len() > MAX_LINE {
                        self.skipping = true;
                        self.line += 1;
                        f(self.line, Line::Overlong)?;
                    }
                    if self.skipping {
                        self.start = self.end;
                    }
                    return Ok(());
                }
            }
        }
    }

    /// At the end of a stream: hands out its last line if it had no newline,
    /// and starts counting lines afresh for the next stream.
    pub fn finish<E>(&mut self, f: impl FnOnce(u64, Line<'_>) -> Result<(), E>) -> Result<(), E> {
        let tail = self.start..self.end;
        let skipping = std::mem::take(&mut self.skipping);
        let line = std::mem::take(&mut self.line) + 1;
        self.start = 0;
        self.end = 0;
        if skipping || tail.is_empty() {
            return Ok(());
        }
        f(line, Line::Text(&self.buf[tail]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `chunks` one read at a time and collects what comes out.
    fn split(chunks: &[&[u8]]) -> Vec<(u64, Option<Vec<u8>>)> {
        let mut reader = LineReader::default();
        let mut out = Vec::new();
        let mut push = |n, line: Line<'_>| -> Result<(), ()> {
            out.push((
                n,
                match line {
                    Line::Text(t) => Some(t.to_vec()),
                    Line::Overlong => None,
                },
            ));
            Ok(())
        };
        for chunk in chunks {
            let mut src: &[u8] = chunk;
            while reader.read_from(&mut src).expect("reading a slice") > 0 {}
            reader.lines(&mut push).expect("infallible");
        }
        reader.finish(&mut push).expect("infallible");
        out
    }

    fn text(n: u64, s: &str) -> (u64, Option<Vec<u8>>) {
        (n, Some(s.as_bytes().to_vec()))
    }

    #[test]
    fn splits_on_newlines() {
        assert_eq!(split(&[b"a\nbb\n\nc"]), [text(1, "a"), text(2, "bb"), text(3, ""), text(4, "c")]);
        assert_eq!(split(&[b""]), []);
        assert_eq!(split(&[b"\n"]), [text(1, "")]);
    }

    #[test]
    fn holds_a_partial_line_until_its_newline() {
        assert_eq!(split(&[b"ab", b"c\nd", b"e\n"]), [text(1, "abc"), text(2, "de")]);
    }

    #[test]
    fn keeps_cr_and_nul_for_the_parser() {
        assert_eq!(split(&[b"a\r\n\0b\n"]), [text(1, "a\r"), text(2, "\0b")]);
    }

    #[test]
    fn an_overlong_line_is_dropped_and_counted_once() {
        let long = vec![b'x'; MAX_LINE + 1];
        let mut input = long.clone();
        input.extend_from_slice(b"\nok\n");
        assert_eq!(split(&[&input]), [(1, None), text(2, "ok")]);
        // Spread over many reads, far longer than the buffer.
        let chunks: Vec<&[u8]> = std::iter::repeat_n(&long[..], 40).chain([&b"\nok"[..]]).collect();
        assert_eq!(split(&chunks), [(1, None), text(2, "ok")]);
        // Unterminated at the end of the stream.
        assert_eq!(split(&[&long]), [(1, None)]);
    }

    #[test]
    fn a_line_of_exactly_the_limit_is_kept() {
        let line = vec![b'y'; MAX_LINE];
        let mut input = line.clone();
        input.push(b'\n');
        assert_eq!(split(&[&input]), [(1, Some(line))]);
    }

    #[test]
    fn numbering_restarts_with_each_stream() {
        let mut reader = LineReader::default();
        let mut numbers = Vec::new();
        for stream in [&b"a\nb"[..], b"c\n"] {
            let mut src = stream;
            reader.read_from(&mut src).expect("reading a slice");
            reader
                .lines(|n, _| -> Result<(), ()> {
                    numbers.push(n);
                    Ok(())
                })
                .expect("infallible");
            reader
                .finish(|n, _| -> Result<(), ()> {
                    numbers.push(n);
                    Ok(())
                })
                .expect("infallible");
        }
        assert_eq!(numbers, [1, 2, 1]);
    }
}
