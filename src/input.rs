//! Inputs and the lines in them: what an input holds (plain text, or gzip
//! decompressed as it is read, told by its first bytes), and one large
//! reusable buffer, split with memchr, lines handed out as slices of it.
//! Memory stays bounded however long a line is: past [`MAX_LINE`] bytes it
//! is skipped to its newline.

use std::fs::File;
use std::io::{self, BufReader, Chain, Cursor, Read};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::path::PathBuf;

use flate2::bufread::MultiGzDecoder;
use memchr::memchr;

pub use crate::engine::{Line, MAX_LINE};
use crate::error::Error;
use crate::output::escape::Name;

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

    /// Its size in bytes when it is a regular file.
    pub fn size(&self) -> Option<u64> {
        let meta = match self {
            Input::Stdin => io::stdin().as_fd().try_clone_to_owned().map(File::from).and_then(|f| f.metadata()),
            Input::Path(path) => path.metadata(),
        };
        meta.ok().filter(|m| m.is_file()).map(|m| m.len())
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

/// Compressed bytes read ahead of the decompressor.
const GZIP_BUFFER: usize = 256 * 1024;

/// An opened input, read in turns of at most one read(2) each, so that a
/// pipe polled readable never blocks the loop. Its first bytes say what it
/// holds: gzip is decompressed, whatever the name; zstd, bzip2 and xz are
/// refused with the command that unpacks them.
pub struct Stream {
    name: Name,
    /// A pipe, socket or terminal: a read may wait, so poll it first.
    /// Regular files never wait.
    waits: bool,
    /// The size of a regular file when opened.
    size: Option<u64>,
    decoding: Decoding,
    /// The decompressor needs more bytes from the descriptor.
    starved: bool,
}

enum Decoding {
    /// Bytes go straight to the line buffer; `sniffing` until enough of the
    /// first bytes have arrived to tell what the input holds.
    Raw {
        gate: Gate,
        sniffing: bool,
    },
    Gzip(Box<Gunzip>),
    /// Only while [`Raw`](Decoding::Raw) turns into [`Gzip`](Decoding::Gzip).
    Swapping,
}

/// gzip: the bytes read while sniffing, then the descriptor, buffered.
type Gunzip = MultiGzDecoder<BufReader<Chain<Cursor<Vec<u8>>, Gate>>>;

/// What one turn of reading gave.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fill {
    /// Bytes added to the line buffer (0 while the first bytes are sniffed).
    Read(usize),
    /// Nothing without another read of the descriptor: poll it first.
    Starved,
    End,
}

impl Stream {
    pub fn open(input: &Input) -> Result<Stream, Error> {
        let file = input.open()?;
        let size = file.metadata().ok().filter(|m| m.is_file()).map(|m| m.len());
        if size.is_none() {
            widen_pipe(&file);
        }
        let gate = Gate { file, open: false, bytes: 0 };
        let decoding = Decoding::Raw { gate, sniffing: true };
        Ok(Stream { name: input.name(), waits: size.is_none(), size, decoding, starved: true })
    }

    pub fn name(&self) -> &Name {
        &self.name
    }

    /// The descriptor to poll before the next [`fill`](Self::fill), when a
    /// read of it could wait; `None` when the next turn needs no wait.
    pub fn poll_fd(&self) -> Option<BorrowedFd<'_>> {
        let gate = match &self.decoding {
            Decoding::Raw { gate, .. } => gate,
            Decoding::Gzip(gz) if self.starved => gz.get_ref().get_ref().get_ref().1,
            Decoding::Gzip(_) | Decoding::Swapping => return None,
        };
        self.waits.then(|| gate.file.as_fd())
    }

    /// Bytes read from the descriptor so far (compressed ones, for gzip).
    pub fn bytes_read(&self) -> u64 {
        match &self.decoding {
            Decoding::Raw { gate, .. } => gate.bytes,
            Decoding::Gzip(gz) => gz.get_ref().get_ref().get_ref().1.bytes,
            Decoding::Swapping => 0,
        }
    }

    /// Bytes of a regular file not read yet; `None` for a pipe.
    pub fn bytes_left(&self) -> Option<u64> {
        self.size.map(|size| size.saturating_sub(self.bytes_read()))
    }

    /// One turn: at most one read(2), and only when `ready` (poll said so)
    /// or the input is a regular file. Decompressed bytes already read are
    /// handed out without any read.
    pub fn fill(&mut self, reader: &mut LineReader, ready: bool) -> Result<Fill, Error> {
        self.fill_at_most(reader, ready, usize::MAX)
    }

    /// [`fill`](Self::fill), adding at most `at_most` bytes (more than 0)
    /// to the line buffer: after a signal, what is left of the bytes the
    /// end of a run may read.
    pub fn fill_at_most(&mut self, reader: &mut LineReader, ready: bool, at_most: usize) -> Result<Fill, Error> {
        let at_most = at_most as u64;
        let ready = ready || !self.waits;
        let fail = |e| Error::input(self.name.clone(), e);
        let got = match &mut self.decoding {
            Decoding::Raw { gate, sniffing } => {
                if !ready {
                    return Ok(Fill::Starved);
                }
                gate.open = true;
                let n = reader.read_from(&mut gate.take(at_most)).map_err(fail)?;
                if std::mem::take(sniffing) {
                    match sniff(reader.unread(), n == 0) {
                        Sniffed::Plain => {}
                        Sniffed::Undecided => *sniffing = true,
                        Sniffed::Gzip => return self.start_gzip(reader),
                        Sniffed::Unsupported { what, command } => {
                            let why = format!(
                                "compressed with {what}, which logmon does not read; pipe it through `{command}`, as in `{command} FILE | logmon --replay`"
                            );
                            return Err(fail(io::Error::other(why)));
                        }
                    }
                }
                if n == 0 { Fill::End } else { Fill::Read(n) }
            }
            Decoding::Gzip(gz) => {
                gz.get_mut().get_mut().get_mut().1.open = ready;
                match reader.read_from(&mut (&mut **gz).take(at_most)) {
                    Ok(0) => Fill::End,
                    Ok(n) => Fill::Read(n),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => Fill::Starved,
                    Err(e) => {
                        return Err(fail(io::Error::new(
                            e.kind(),
                            format!("gzip data: {}", crate::error::OsMessage(&e)),
                        )));
                    }
                }
            }
            Decoding::Swapping => Fill::End,
        };
        self.starved = got == Fill::Starved;
        Ok(got)
    }

    /// The bytes read so far are gzip: they become the decompressor's first
    /// input, and the descriptor is read through it from now on.
    fn start_gzip(&mut self, reader: &mut LineReader) -> Result<Fill, Error> {
        let head = reader.take_unread();
        if let Decoding::Raw { gate, .. } = std::mem::replace(&mut self.decoding, Decoding::Swapping) {
            let compressed = BufReader::with_capacity(GZIP_BUFFER, Cursor::new(head).chain(gate));
            self.decoding = Decoding::Gzip(Box::new(MultiGzDecoder::new(compressed)));
        }
        self.starved = false;
        Ok(Fill::Read(0))
    }
}

/// Asks for a pipe buffer as large as a read (the default is 64 KiB), so
/// that a writer faster than logmon fills a whole read between two turns
/// of the loop instead of waking it 16 times as often. The kernel may
/// refuse (a limit, or not a pipe): nothing changes then.
fn widen_pipe(file: &File) {
    #[cfg(target_os = "linux")]
    // SAFETY: fcntl on a descriptor the file owns; no memory is passed.
    unsafe {
        libc::fcntl(file.as_raw_fd(), libc::F_SETPIPE_SZ, BUFFER as libc::c_int);
    }
}

/// A descriptor that allows one read(2) per turn, and answers `WouldBlock`
/// after it: the decompressor asks again only on the next turn.
struct Gate {
    file: File,
    open: bool,
    bytes: u64,
}

impl Read for Gate {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if !std::mem::take(&mut self.open) {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let n = self.file.read(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Sniffed {
    Plain,
    /// Too few bytes yet: they start like a compressed file's.
    Undecided,
    Gzip,
    Unsupported {
        what: &'static str,
        command: &'static str,
    },
}

/// The magic numbers of the compressions logmon knows, none holding a
/// newline, so bytes held back while undecided never make a line.
const MAGIC: [(&[u8], Sniffed); 4] = [
    (b"\x1f\x8b", Sniffed::Gzip),
    (b"\x28\xb5\x2f\xfd", Sniffed::Unsupported { what: "zstd", command: "zstd -dc" }),
    (b"BZh", Sniffed::Unsupported { what: "bzip2", command: "bzip2 -dc" }),
    (b"\xfd7zXZ\x00", Sniffed::Unsupported { what: "xz", command: "xz -dc" }),
];

/// What the first bytes of an input say it holds; `eof` when no more will come.
fn sniff(head: &[u8], eof: bool) -> Sniffed {
    for (magic, what) in &MAGIC {
        if head.starts_with(magic) {
            return what.clone();
        }
        if !eof && magic.starts_with(head) {
            return Sniffed::Undecided;
        }
    }
    Sniffed::Plain
}

pub struct LineReader {
    newline: Newline,
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
        LineReader {
            newline: Newline::new(),
            buf: vec![0; BUFFER].into_boxed_slice(),
            start: 0,
            end: 0,
            skipping: false,
            line: 0,
        }
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

    /// The bytes read and not yet handed out as lines.
    pub fn unread(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    /// Takes the unread bytes out of the buffer.
    fn take_unread(&mut self) -> Vec<u8> {
        let taken = self.unread().to_vec();
        self.end = self.start;
        taken
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

    /// Every complete line read so far, with its number: a batch for
    /// [`crate::engine::Engine::handle_lines`]. Lines the batch did not
    /// hand out (it was dropped early) stay for the next one.
    pub fn batch(&mut self) -> Batch<'_> {
        let LineReader { newline, buf, start, end, skipping, line } = self;
        // The rest of an overlong line, or of the line a reader started in
        // the middle of, is dropped here, once a batch rather than looked
        // for at every line.
        if *skipping {
            match newline.find(&buf[*start..*end]) {
                Some(i) => {
                    *start += i + 1;
                    *skipping = false;
                }
                None => *start = *end,
            }
        }
        Batch {
            newline: *newline,
            buf: &buf[..*end],
            lines: [Line::Overlong; SLOTS],
            found: 0,
            next: 0,
            dry: false,
            base: *line,
            start: *start,
            after: *start,
            reader: ReaderState { start, line, skipping },
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

/// Slots for the lines a batch finds in one search, of which it uses 255:
/// 256, so that an index of one byte never leaves the array. Searching
/// fewer lines ahead, so that they are parsed while still in the first-level
/// data cache, was measured: 64 lines in at most 16 KiB took cachegrind's
/// misses of that cache from 8.2 to 4.8 a line on a combined log of 223
/// bytes a line, cost 4.4 instructions a line more (more searches, and
/// the partial line at each window's end searched twice), and was no
/// faster in CPU time on this machine's shared cores (paired runs swung
/// by 3 % either way).
const SLOTS: usize = 256;

const _: () = assert!(SLOTS == u8::MAX as usize + 1);

/// The complete lines of a [`LineReader`]'s buffer, numbered. Up to 255
/// lines are found in one search, a tight loop of memchr calls, and then
/// handed out one by one or together as [`FoundLines`]: the caller's work on each line
/// runs without a search in between, and the search without the caller's
/// work. Memory: the found lines' fixed array, 4 KiB, on the stack.
pub struct Batch<'a> {
    newline: Newline,
    /// The bytes read.
    buf: &'a [u8],
    /// The lines the last search found, `found` of them. The next to hand
    /// out is `lines[next]`, and its number `base + next + 1`.
    lines: [Line<'a>; SLOTS],
    found: u8,
    next: u8,
    /// A search found no newline: the bytes cannot change while the batch
    /// borrows them, so no later search of this batch would find one.
    dry: bool,
    base: u64,
    /// Where the first line of the last search starts, and where the line
    /// after its last starts.
    start: usize,
    after: usize,
    /// The reader's, written back when the batch is dropped.
    reader: ReaderState<'a>,
}

/// What a [`Batch`] moves on of its [`LineReader`], borrowed: where the
/// unread bytes start, the number of the last line handed out, and whether
/// the rest of an overlong line is being dropped.
struct ReaderState<'a> {
    start: &'a mut usize,
    line: &'a mut u64,
    skipping: &'a mut bool,
}

impl Drop for Batch<'_> {
    fn drop(&mut self) {
        *self.reader.start = self.unread();
        *self.reader.line = self.base + u64::from(self.next);
    }
}

impl<'a> Iterator for Batch<'a> {
    type Item = (u64, Line<'a>);

    #[inline]
    fn next(&mut self) -> Option<(u64, Line<'a>)> {
        if self.next == self.found && !self.search() {
            return self.rest();
        }
        let line = self.lines[usize::from(self.next)];
        // Below `found`, so below SLOTS - 1.
        self.next += 1;
        Some((self.base + u64::from(self.next), line))
    }
}

impl<'a> Batch<'a> {
    /// The lines found and not handed out yet, in order, searching for more
    /// first when there are none; `None` when no newline is left (then
    /// [`next`](Iterator::next) says whether a line too long to keep is).
    /// The lines it has not handed out when it is dropped come next
    /// (a caller that stops early cannot lose them). For a caller's own
    /// loop over lines: no search and no index into the batch between two
    /// lines.
    #[inline]
    pub fn found_lines(&mut self) -> Option<FoundLines<'_, 'a>> {
        if self.next == self.found && !self.search() {
            return None;
        }
        let (next, found) = (usize::from(self.next), usize::from(self.found));
        let number = self.base + next as u64;
        Some(FoundLines { lines: self.lines[next..found].iter(), number, next: &mut self.next, found: self.found })
    }

    /// Where the first line not handed out starts: after the last handed
    /// out, a slice of `buf`. Only the last line of a search can be too
    /// long to keep (one ends its search, see `find_lines`), and where the
    /// line after a search's last starts is kept in `after`.
    fn unread(&self) -> usize {
        match self.next.checked_sub(1) {
            None => self.start,
            Some(last) if self.next < self.found => {
                let last = self.lines[usize::from(last)];
                // Lines of this search come after it, so it is not the
                // search's last and cannot be too long to keep. The arm
                // below is never taken; were it, `after` would skip the
                // lines between, hence the assertion in test builds.
                debug_assert!(matches!(last, Line::Text(_)), "an overlong line before the end of its search");
                match last {
                    Line::Text(text) => text.as_ptr().addr() - self.buf.as_ptr().addr() + text.len() + 1,
                    Line::Overlong => self.after,
                }
            }
            Some(_) => self.after,
        }
    }

    /// Finds the next lines from the first not handed out, up to 255 of
    /// them; says whether there was one. Out of line: it runs once every
    /// 255 lines.
    #[inline(never)]
    fn search(&mut self) -> bool {
        // Asked again after finding nothing (for a line too long to keep,
        // see [`found_lines`](Self::found_lines)): the pending line is not
        // searched twice.
        if self.dry {
            return false;
        }
        self.start = self.unread();
        self.base += u64::from(self.next);
        self.next = 0;
        let Batch { newline, buf, lines, start, .. } = self;
        // The searcher borrowed, not copied: a copy of its vectors on the
        // stack would take a register to align.
        let newline = &*newline;
        (self.found, self.after) = find_lines(lines, buf, *start, |bytes| newline.find(bytes));
        self.dry = self.found == 0;
        !self.dry
    }

    /// No newline in the bytes left: a line too long to keep is counted
    /// now, once, and dropped up to its newline.
    #[cold]
    fn rest(&mut self) -> Option<(u64, Line<'static>)> {
        let pending = self.buf.len() - self.start;
        let skipping = &mut *self.reader.skipping;
        let overlong = !*skipping && pending > MAX_LINE;
        if overlong {
            *skipping = true;
            self.base += 1;
        }
        if *skipping {
            self.start = self.buf.len();
        }
        overlong.then_some((self.base, Line::Overlong))
    }
}

/// Lines a [`Batch`] found, numbered, handed out from a slice of its
/// array: see [`Batch::found_lines`].
pub struct FoundLines<'b, 'a> {
    lines: std::slice::Iter<'b, Line<'a>>,
    /// The number of the line before the next.
    number: u64,
    /// The batch's next line to hand out, and the end of the slice, which
    /// ends at the lines found.
    next: &'b mut u8,
    found: u8,
}

impl Drop for FoundLines<'_, '_> {
    /// Hands the lines not taken back to the batch: they come next.
    fn drop(&mut self) {
        // What is left of the slice, at most the lines found (under 256).
        *self.next = self.found - self.lines.len() as u8;
    }
}

impl<'a> Iterator for FoundLines<'_, 'a> {
    type Item = (u64, Line<'a>);

    #[inline]
    fn next(&mut self) -> Option<(u64, Line<'a>)> {
        let line = *self.lines.next()?;
        self.number += 1;
        Some((self.number, line))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.lines.size_hint()
    }
}

/// Writes into `lines` the lines of `buf` from `from` on, found with
/// `find`, up to 255 of them, or up to one too long to keep: its bytes
/// give no offset, so it ends the search. Returns how many it found and
/// where the line after the last starts.
#[inline(always)]
fn find_lines<'a>(
    lines: &mut [Line<'a>; SLOTS],
    buf: &'a [u8],
    from: usize,
    find: impl Fn(&[u8]) -> Option<usize>,
) -> (u8, usize) {
    let mut rest = &buf[from..];
    // The free slots as an iterator, the lines found told by how many are
    // left when the search ends: a line costs no count of its own besides
    // the slot's place (an instruction a line fewer).
    let mut free = lines[..SLOTS - 1].iter_mut();
    let filled = |free: &std::slice::IterMut<'_, Line<'a>>| SLOTS - 1 - free.len();
    let found = loop {
        let Some(slot) = free.next() else { break SLOTS - 1 };
        // Where no line ends, the slot taken is left unwritten (it may
        // still hold a line of an earlier search): `filled` counts it, so
        // the lines found are one fewer.
        let Some(i) = find(rest) else { break filled(&free) - 1 };
        let (line, after) = rest.split_at(i);
        let Some((_, after)) = after.split_first() else { break filled(&free) - 1 };
        rest = after;
        if i > MAX_LINE {
            *slot = Line::Overlong;
            break filled(&free);
        }
        *slot = Line::Text(line);
    };
    (found as u8, buf.len() - rest.len())
}

/// The newline search: memchr's AVX2 searcher when the processor has it,
/// chosen once for the reader, where `memchr()` chooses through a function
/// pointer on every call.
#[derive(Clone, Copy)]
enum Newline {
    #[cfg(target_arch = "x86_64")]
    Avx2(memchr::arch::x86_64::avx2::memchr::One),
    Any,
}

impl Newline {
    fn new() -> Newline {
        #[cfg(target_arch = "x86_64")]
        if let Some(avx2) = memchr::arch::x86_64::avx2::memchr::One::new(b'\n') {
            return Newline::Avx2(avx2);
        }
        Newline::Any
    }

    /// The first newline in `bytes`, for every search of the reader's.
    /// A haystack of 32 bytes or more goes straight to the AVX2 loop, and
    /// a shorter one to `memchr()`: the searcher's own short-input path
    /// stays out of [`Batch::search`]'s loop, which inlines this.
    #[inline(always)]
    fn find(&self, bytes: &[u8]) -> Option<usize> {
        match self {
            #[cfg(target_arch = "x86_64")]
            Newline::Avx2(avx2) if bytes.len() >= 32 => avx2.find(bytes),
            _ => memchr(b'\n', bytes),
        }
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
            for (n, line) in reader.batch() {
                push(n, line).expect("infallible");
            }
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

    /// A line too long to keep ends its search (its bytes give no offset):
    /// the lines after it come from the next, whether the batch hands out
    /// all it found or is dropped after each line.
    #[test]
    fn an_overlong_line_ends_its_search_and_the_lines_after_it_follow() {
        let mut bytes = b"a\n".to_vec();
        bytes.extend(std::iter::repeat_n(b'x', MAX_LINE + 1));
        bytes.extend_from_slice(b"\nb\nc\n");
        let read = || {
            let mut reader = LineReader::default();
            let mut src = &bytes[..];
            reader.read_from(&mut src).expect("reading a slice");
            reader
        };
        let mut reader = read();
        let mut batch = reader.batch();
        let mut searches = Vec::new();
        while let Some(found) = batch.found_lines() {
            searches.push(found.collect::<Vec<_>>());
        }
        assert_eq!(
            searches,
            [vec![(1, Line::Text(b"a")), (2, Line::Overlong)], vec![(3, Line::Text(b"b")), (4, Line::Text(b"c"))]]
        );
        drop(batch);
        let mut reader = read();
        // At most one more than the lines: a batch that gives a line back
        // again fails here rather than running forever.
        let one_a_batch: Vec<_> = std::iter::from_fn(|| {
            reader.batch().next().map(|(n, line)| (n, matches!(line, Line::Text(_)).then(|| line.bytes().to_vec())))
        })
        .take(5)
        .collect();
        assert_eq!(one_a_batch, [text(1, "a"), (2, None), text(3, "b"), text(4, "c")]);
    }

    #[test]
    fn a_line_of_exactly_the_limit_is_kept() {
        let line = vec![b'y'; MAX_LINE];
        let mut input = line.clone();
        input.push(b'\n');
        assert_eq!(split(&[&input]), [(1, Some(line))]);
    }

    /// Lines of 0 to 96 bytes, some with a CR, the last without a newline.
    fn many_lines(n: usize) -> Vec<u8> {
        let mut bytes = Vec::new();
        for i in 0..n {
            bytes.extend(std::iter::repeat_n(b'a' + (i % 26) as u8, i * 7 % 97));
            bytes.extend_from_slice(if i % 5 == 0 { b"\r\n" } else { b"\n" });
        }
        bytes.extend_from_slice(b"last");
        bytes
    }

    /// What `split` must give for `bytes`: every line, numbered from 1.
    fn plain_split(bytes: &[u8]) -> Vec<(u64, Option<Vec<u8>>)> {
        let lines = bytes.split(|&b| b == b'\n').map(|l| Some(l.to_vec()));
        let mut out: Vec<_> = (1..).zip(lines).collect();
        if bytes.last() == Some(&b'\n') {
            out.pop();
        }
        out
    }

    #[test]
    fn lines_past_one_search_keep_their_bytes_and_numbers() {
        // 1,000 lines take four searches of 255 lines in one read, more in
        // small reads; line 255 ends the first search's last slot.
        for n in [254, 255, 256, 510, 1_000] {
            let bytes = many_lines(n);
            let want = plain_split(&bytes);
            assert_eq!(want.len(), n + 1);
            assert_eq!(split(&[&bytes]), want, "{n} lines in one read");
            let chunks: Vec<&[u8]> = bytes.chunks(61).collect();
            assert_eq!(split(&chunks), want, "{n} lines in reads of 61 bytes");
        }
    }

    #[test]
    fn a_search_that_ends_on_the_last_byte_read_finds_that_newline() {
        assert_eq!(split(&[b"abc\n", b"de\n"]), [text(1, "abc"), text(2, "de")]);
        let long = [b'z'; 40];
        let mut input = long.to_vec();
        input.push(b'\n');
        assert_eq!(split(&[&input, &input]), [(1, Some(long.to_vec())), (2, Some(long.to_vec()))]);
    }

    #[test]
    fn found_lines_are_handed_out_and_those_left_given_back() {
        let mut reader = LineReader::default();
        let bytes = many_lines(600);
        let mut src = &bytes[..];
        reader.read_from(&mut src).expect("reading a slice");
        let want = plain_split(&bytes);
        let mut got = Vec::new();
        let mut batch = reader.batch();
        while let Some(mut found) = batch.found_lines() {
            // Two of the lines found each time taken, the rest given back,
            // as when the engine stops for an event.
            got.extend(found.by_ref().take(2).map(|(n, line)| (n, Some(line.bytes().to_vec()))));
        }
        assert_eq!(batch.next(), None, "no overlong line left");
        drop(batch);
        reader
            .finish(|n, line| -> Result<(), ()> {
                got.push((n, Some(line.bytes().to_vec())));
                Ok(())
            })
            .expect("infallible");
        assert_eq!(got, want);
        // Without a newline left, the batch says so; the line too long to
        // keep comes from next().
        let mut reader = LineReader::default();
        let mut src = &b"ok\n"[..];
        reader.read_from(&mut src).expect("reading a slice");
        let long = vec![b'x'; MAX_LINE + 1];
        let mut src = &long[..];
        while reader.read_from(&mut src).expect("reading a slice") > 0 {}
        let mut batch = reader.batch();
        assert_eq!(batch.found_lines().map(|f| f.collect::<Vec<_>>()), Some(vec![(1, Line::Text(b"ok"))]));
        assert!(batch.found_lines().is_none());
        assert_eq!(batch.next(), Some((2, Line::Overlong)));
        assert_eq!(batch.next(), None);
    }

    /// A search counts only the slots it wrote: the one it took and found
    /// no line for holds what an earlier search left there. Counted, the
    /// batch would hand out that stale line, and search again, for ever;
    /// called alone here, the search fails at once instead.
    #[test]
    fn a_search_counts_only_the_lines_it_found() {
        let mut lines = [Line::Text(b"stale"); SLOTS];
        let cases: [(&[u8], usize, (u8, usize)); 6] = [
            (b"", 0, (0, 0)),
            (b"abc", 0, (0, 0)),
            (b"a\nbc", 0, (1, 2)),
            (b"a\nbc", 2, (0, 2)),
            (b"a\n", 0, (1, 2)),
            (b"a\n\n", 1, (2, 3)),
        ];
        for (bytes, from, want) in cases {
            assert_eq!(find_lines(&mut lines, bytes, from, |b| memchr(b'\n', b)), want, "{bytes:?} from {from}");
        }
        assert_eq!(lines[0], Line::Text(b""), "the first line of the last search, the empty one after `a`");
    }

    #[test]
    fn every_searcher_finds_the_same_newlines() {
        let bytes = many_lines(600);
        let want: Vec<u32> = (0..bytes.len()).filter(|&i| bytes[i] == b'\n').map(|i| i as u32).collect();
        #[cfg(target_arch = "x86_64")]
        let searchers = [Newline::new(), Newline::Any];
        #[cfg(not(target_arch = "x86_64"))]
        let searchers = [Newline::Any];
        for newline in searchers {
            let mut buf = vec![0; BUFFER];
            buf[..bytes.len()].copy_from_slice(&bytes);
            let mut reader =
                LineReader { newline, buf: buf.into_boxed_slice(), end: bytes.len(), ..LineReader::default() };
            let mut batch = reader.batch();
            let mut found = Vec::new();
            while batch.search() {
                let n = usize::from(batch.found);
                assert!(n < SLOTS);
                let start = batch.buf.as_ptr().addr();
                found.extend(batch.lines[..n].iter().map(|line| match line {
                    Line::Text(text) => (text.as_ptr().addr() - start + text.len()) as u32,
                    Line::Overlong => panic!("no line of many_lines is too long to keep"),
                }));
                batch.next = batch.found;
            }
            assert_eq!(found, want);
        }
    }

    #[test]
    fn the_first_bytes_say_what_an_input_holds() {
        assert_eq!(sniff(b"\x1f\x8b\x08\x00", false), Sniffed::Gzip);
        assert_eq!(sniff(b"\x1f", false), Sniffed::Undecided);
        assert_eq!(sniff(b"\x1f", true), Sniffed::Plain);
        assert_eq!(sniff(b"", false), Sniffed::Undecided);
        assert_eq!(sniff(b"", true), Sniffed::Plain);
        assert!(matches!(sniff(b"\x28\xb5\x2f\xfd", false), Sniffed::Unsupported { what: "zstd", .. }));
        assert!(matches!(sniff(b"BZh91AY", false), Sniffed::Unsupported { what: "bzip2", .. }));
        assert_eq!(sniff(b"BZ", false), Sniffed::Undecided);
        assert!(matches!(sniff(b"\xfd7zXZ\x00", false), Sniffed::Unsupported { what: "xz", .. }));
        assert_eq!(sniff(b"127.0.0.1 - - [", false), Sniffed::Plain);
        assert_eq!(sniff(b"\"remotehost\"", false), Sniffed::Plain);
        // No magic holds a newline: undecided bytes never make a line.
        assert!(MAGIC.iter().all(|(m, _)| !m.contains(&b'\n')));
    }

    #[test]
    fn a_batch_left_early_leaves_its_lines_for_the_next() {
        let mut reader = LineReader::default();
        let mut src = &b"a\nb\nc\nd"[..];
        reader.read_from(&mut src).expect("reading a slice");
        assert_eq!(reader.batch().next(), Some((1, Line::Text(b"a"))));
        let rest: Vec<(u64, Line<'_>)> = reader.batch().collect();
        assert_eq!(rest, [(2, Line::Text(b"b")), (3, Line::Text(b"c"))]);
        assert_eq!(reader.batch().next(), None, "d waits for its newline");
        // Left in the middle of a search's lines.
        let mut reader = LineReader::default();
        let bytes = many_lines(600);
        let mut src = &bytes[..];
        reader.read_from(&mut src).expect("reading a slice");
        let first: Vec<u64> = reader.batch().take(300).map(|(n, _)| n).collect();
        let rest: Vec<u64> = reader.batch().map(|(n, _)| n).collect();
        assert_eq!(first, (1..=300).collect::<Vec<u64>>());
        assert_eq!(rest, (301..=600).collect::<Vec<u64>>());
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_pipe_is_widened_to_a_read() {
        let (reader, _writer) = io::pipe().expect("a pipe");
        let file = File::from(std::os::fd::OwnedFd::from(reader));
        widen_pipe(&file);
        // SAFETY: fcntl on a descriptor the file owns; no memory is passed.
        let size = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_GETPIPE_SZ) };
        let limit = std::fs::read_to_string("/proc/sys/fs/pipe-max-size").ok().and_then(|s| s.trim().parse().ok());
        if limit.is_some_and(|limit: usize| limit >= BUFFER) {
            assert_eq!(size, BUFFER as libc::c_int);
        }
    }

    /// The shutdown bound holds on gzip too: each fill hands out at most
    /// `at_most` decompressed bytes, however many one read of the
    /// decompressor could give, and all of them in the end.
    #[test]
    fn a_gzip_fill_hands_out_at_most_its_bound() {
        use flate2::{Compression, write::GzEncoder};
        use std::io::Write;
        let text: Vec<u8> = (0..200).flat_map(|i| format!("line {i} of a gzip stream\n").into_bytes()).collect();
        let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
        gz.write_all(&text).expect("compressing to memory");
        let path = std::env::temp_dir().join(format!("logmon-input-gzip-bound-{}", std::process::id()));
        std::fs::write(&path, gz.finish().expect("compressing to memory")).expect("writing a temporary file");
        let mut stream = Stream::open(&Input::Path(path.clone())).expect("opening the gzip file");
        let _ = std::fs::remove_file(&path);
        let mut reader = LineReader::default();
        let mut out = Vec::new();
        const AT_MOST: usize = 100;
        loop {
            match stream.fill_at_most(&mut reader, true, AT_MOST).expect("reading the gzip file") {
                Fill::Read(n) => {
                    assert!(n <= AT_MOST, "a fill handed out {n} bytes");
                    out.extend(reader.take_unread());
                }
                Fill::Starved => panic!("a regular file never waits"),
                Fill::End => break,
            }
        }
        assert!(matches!(stream.decoding, Decoding::Gzip(_)));
        assert_eq!(out, text);
    }

    #[test]
    fn numbering_restarts_with_each_stream() {
        let mut reader = LineReader::default();
        let mut numbers = Vec::new();
        for stream in [&b"a\nb"[..], b"c\n"] {
            let mut src = stream;
            reader.read_from(&mut src).expect("reading a slice");
            numbers.extend(reader.batch().map(|(n, _)| n));
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
