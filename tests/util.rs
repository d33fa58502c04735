//! The harness: runs the real binary and, when an expectation fails, says
//! what was run and everything it printed.

use std::collections::BTreeMap;
use std::fmt;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_logmon");

/// How long any wait may take before the test fails: generous, since CI
/// machines are slow, but the happy path never waits for it.
pub const PATIENCE: Duration = Duration::from_secs(20);

pub fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name)
}

pub fn logmon() -> Cmd {
    Cmd { args: Vec::new(), stdin: None, stdin_file: None, env: Vec::new(), unprivileged: false }
}

/// A builder for one run of logmon.
pub struct Cmd {
    args: Vec<String>,
    stdin: Option<Vec<u8>>,
    stdin_file: Option<PathBuf>,
    env: Vec<(String, String)>,
    unprivileged: bool,
}

impl Cmd {
    pub fn arg(mut self, arg: impl AsRef<Path>) -> Self {
        self.args.push(arg.as_ref().to_string_lossy().into_owned());
        self
    }

    pub fn args<I: IntoIterator<Item = S>, S: AsRef<Path>>(mut self, args: I) -> Self {
        for a in args {
            self = self.arg(a);
        }
        self
    }

    /// Feeds these bytes through a pipe (a live input) from a thread.
    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(bytes.into());
        self
    }

    /// Redirects stdin from a file, as `< file` does.
    pub fn stdin_file(mut self, path: impl AsRef<Path>) -> Self {
        self.stdin_file = Some(path.as_ref().to_owned());
        self
    }

    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Runs as `nobody` when the tests run as root, so that permissions
    /// apply to logmon.
    pub fn unprivileged(mut self) -> Self {
        self.unprivileged = true;
        self
    }

    /// The configured command, for tests that wire stdio themselves.
    pub fn command(&self) -> Command {
        let mut c = Command::new(BIN);
        // SAFETY: geteuid(2) cannot fail.
        if self.unprivileged && unsafe { libc::geteuid() } == 0 {
            std::os::unix::process::CommandExt::uid(&mut c, 65534);
            std::os::unix::process::CommandExt::gid(&mut c, 65534);
        }
        c.args(&self.args);
        // Tests see what a pipe sees, whatever the developer's shell sets.
        c.env_remove("NO_COLOR");
        c.envs(self.env.iter().map(|(k, v)| (k, v)));
        c
    }

    pub fn describe(&self) -> String {
        let mut s = String::from("logmon");
        for a in &self.args {
            s.push(' ');
            s.push_str(a);
        }
        if let Some(stdin) = &self.stdin {
            s.push_str(&format!(" (stdin: {} bytes)", stdin.len()));
        }
        s
    }

    /// Runs to completion; stdin is `/dev/null` unless given.
    pub fn run(self) -> Run {
        let mut c = self.command();
        c.stdin(match (&self.stdin, &self.stdin_file) {
            (Some(_), _) => Stdio::piped(),
            (None, Some(path)) => {
                Stdio::from(std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
            }
            (None, None) => Stdio::null(),
        });
        c.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = c.spawn().unwrap_or_else(|e| panic!("cannot start {}: {e}", self.describe()));
        let feeder = child.stdin.take().map(|mut pipe| {
            let bytes = self.stdin.clone().unwrap_or_default();
            // A reader that exits early closes the pipe: not the test's business.
            thread::spawn(move || drop(pipe.write_all(&bytes)))
        });
        let running = Running::watch(self.describe(), child);
        if let Some(f) = feeder {
            let _ = f.join();
        }
        running.wait()
    }

    /// Starts logmon in the background, its stdin a pipe the test writes.
    pub fn spawn(self) -> Running {
        let mut c = self.command();
        c.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let child = c.spawn().unwrap_or_else(|e| panic!("cannot start {}: {e}", self.describe()));
        Running::watch(self.describe(), child)
    }
}

/// A finished run.
pub struct Run {
    pub command: String,
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl fmt::Display for Run {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "\n--- command: {}\n--- status: {}\n--- stdout:\n{}\n--- stderr:\n{}\n---",
            self.command, self.status, self.stdout, self.stderr
        )
    }
}

impl Run {
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }

    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(self.code(), Some(code), "unexpected exit status{self}");
        self
    }

    #[track_caller]
    pub fn expect_success(&self) -> &Self {
        self.expect_code(0)
    }

    #[track_caller]
    pub fn expect_stdout_contains(&self, needle: &str) -> &Self {
        assert!(self.stdout.contains(needle), "stdout lacks {needle:?}{self}");
        self
    }

    #[track_caller]
    pub fn expect_stderr_contains(&self, needle: &str) -> &Self {
        assert!(self.stderr.contains(needle), "stderr lacks {needle:?}{self}");
        self
    }

    /// stdout as JSON lines, each parsed.
    #[track_caller]
    pub fn json(&self) -> Vec<Json> {
        self.stdout
            .lines()
            .map(|line| Json::parse(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line:?}{self}")))
            .collect()
    }

    /// The JSON objects of one `"type"`.
    #[track_caller]
    pub fn json_of(&self, kind: &str) -> Vec<Json> {
        self.json().into_iter().filter(|j| j["type"].as_str() == Some(kind)).collect()
    }

    /// The one summary object, which must come last.
    #[track_caller]
    pub fn summary(&self) -> Json {
        let all = self.json();
        match all.last() {
            Some(last) if last["type"].as_str() == Some("summary") => last.clone(),
            _ => panic!("no summary at the end{self}"),
        }
    }
}

/// Bytes collected from a child's output by a reader thread.
#[derive(Default)]
struct Collected {
    bytes: Mutex<(Vec<u8>, bool)>,
    grew: Condvar,
}

impl Collected {
    fn reader(mut from: impl Read + Send + 'static) -> Arc<Collected> {
        let collected = Arc::new(Collected::default());
        let c = Arc::clone(&collected);
        thread::spawn(move || {
            let mut buf = [0u8; 8192];
            loop {
                let n = from.read(&mut buf).unwrap_or(0);
                let mut guard = c.bytes.lock().unwrap_or_else(|p| p.into_inner());
                if n == 0 {
                    guard.1 = true;
                    c.grew.notify_all();
                    return;
                }
                guard.0.extend_from_slice(&buf[..n]);
                c.grew.notify_all();
            }
        });
        collected
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes.lock().unwrap_or_else(|p| p.into_inner()).0).into_owned()
    }

    /// Waits until `pred` holds for the text so far, or the stream ends.
    fn wait_for(&self, pred: impl Fn(&str) -> bool, patience: Duration) -> bool {
        let deadline = Instant::now() + patience;
        let mut guard = self.bytes.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if pred(&String::from_utf8_lossy(&guard.0)) {
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if guard.1 || left.is_zero() {
                return false;
            }
            guard = self.grew.wait_timeout(guard, left).unwrap_or_else(|p| p.into_inner()).0;
        }
    }
}

/// logmon running in the background.
pub struct Running {
    command: String,
    child: Child,
    pub stdin: Option<ChildStdin>,
    stdout: Arc<Collected>,
    stderr: Arc<Collected>,
}

impl Running {
    fn watch(command: String, mut child: Child) -> Running {
        let stdout = Collected::reader(child.stdout.take().expect("stdout is piped"));
        let stderr = Collected::reader(child.stderr.take().expect("stderr is piped"));
        let stdin = child.stdin.take();
        Running { command, child, stdin, stdout, stderr }
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    fn so_far(&self) -> String {
        format!(
            "\n--- command: {}\n--- stdout so far:\n{}\n--- stderr so far:\n{}\n---",
            self.command,
            self.stdout.text(),
            self.stderr.text()
        )
    }

    /// Writes to logmon's stdin.
    #[track_caller]
    pub fn write(&mut self, bytes: impl AsRef<[u8]>) {
        let pipe = self.stdin.as_mut().expect("stdin still open");
        pipe.write_all(bytes.as_ref()).and_then(|()| pipe.flush()).unwrap_or_else(|e| panic!("write: {e}"));
    }

    /// Waits until logmon catches `sig`, as its SigCgt mask in /proc says
    /// (Linux): only then is a signal sure to reach a handler. A signal
    /// sent earlier, even once logmon has exec'd and made its self-pipe,
    /// may still find the default action, which for USR1 kills.
    #[track_caller]
    pub fn wait_catching(&self, sig: i32) {
        let bit = 1u64 << (sig - 1);
        let status = format!("/proc/{}/status", self.pid());
        let catching = || {
            let text = std::fs::read_to_string(&status).unwrap_or_default();
            let mask = text.lines().find_map(|l| l.strip_prefix("SigCgt:")).map(str::trim);
            mask.and_then(|m| u64::from_str_radix(m, 16).ok()).is_some_and(|m| m & bit != 0)
        };
        let deadline = Instant::now() + PATIENCE;
        while !catching() {
            assert!(Instant::now() < deadline, "logmon never caught signal {sig}{}", self.so_far());
            thread::sleep(Duration::from_millis(2));
        }
    }

    #[track_caller]
    pub fn signal(&self, sig: i32) {
        // SAFETY: kill(2) with the pid of our own child and a valid signal.
        let rc = unsafe { libc::kill(self.pid(), sig) };
        assert_eq!(rc, 0, "kill {sig} failed{}", self.so_far());
    }

    #[track_caller]
    pub fn wait_stderr(&self, needle: &str) {
        if !self.stderr.wait_for(|t| t.contains(needle), PATIENCE) {
            panic!("stderr never said {needle:?}{}", self.so_far());
        }
    }

    /// Waits until stderr says `needle` `n` times.
    #[track_caller]
    pub fn wait_stderr_count(&self, needle: &str, n: usize) {
        if !self.stderr.wait_for(|t| t.matches(needle).count() >= n, PATIENCE) {
            panic!("stderr never said {needle:?} {n} times{}", self.so_far());
        }
    }

    #[track_caller]
    pub fn wait_stdout(&self, needle: &str) {
        if !self.stdout.wait_for(|t| t.contains(needle), PATIENCE) {
            panic!("stdout never said {needle:?}{}", self.so_far());
        }
    }

    /// Waits until stdout holds `n` lines.
    #[track_caller]
    pub fn wait_stdout_lines(&self, n: usize) {
        if !self.stdout.wait_for(|t| t.lines().count() >= n, PATIENCE) {
            panic!("stdout never reached {n} lines{}", self.so_far());
        }
    }

    pub fn stdout_now(&self) -> String {
        self.stdout.text()
    }

    pub fn stderr_now(&self) -> String {
        self.stderr.text()
    }

    /// Closes stdin, waits for the exit (killing it after [`PATIENCE`]) and
    /// collects all.
    #[track_caller]
    pub fn wait(mut self) -> Run {
        self.stdin = None;
        self.wait_keeping_stdin()
    }

    /// Like [`wait`](Self::wait), with stdin left open: logmon must end by
    /// itself.
    #[track_caller]
    pub fn wait_keeping_stdin(mut self) -> Run {
        let deadline = Instant::now() + PATIENCE;
        let status = loop {
            match self.child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(5)),
                _ => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    panic!("logmon did not exit in {PATIENCE:?}{}", self.so_far());
                }
            }
        };
        self.stdout.wait_for(|_| false, PATIENCE);
        self.stderr.wait_for(|_| false, PATIENCE);
        Run { command: self.command.clone(), status, stdout: self.stdout.text(), stderr: self.stderr.text() }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A scratch directory removed at the end of the test.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("logmon-test-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("mkdir {}: {e}", dir.display()));
        TempDir(dir)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A combined-format line stamped `t` (epoch seconds) for path `path`.
pub fn clf_line(t: i64, path: &str) -> String {
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "192.0.2.1 - - [{day:02}/{}/{year}:{:02}:{:02}:{:02} +0000] \"GET {path} HTTP/1.1\" 200 512 \"-\" \"test\"\n",
        MONTHS[(month - 1) as usize],
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// The wall clock in epoch seconds.
pub fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// A small JSON value, parsed strictly enough to catch malformed output.
#[derive(Clone, Debug, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    Array(Vec<Json>),
    Object(BTreeMap<String, Json>),
}

static NULL: Json = Json::Null;

impl std::ops::Index<&str> for Json {
    type Output = Json;
    fn index(&self, key: &str) -> &Json {
        match self {
            Json::Object(map) => map.get(key).unwrap_or(&NULL),
            _ => &NULL,
        }
    }
}

impl Json {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Json::Number(n) => Some(*n),
            _ => None,
        }
    }

    /// A non-negative integer field; panics with the object otherwise.
    #[track_caller]
    pub fn int(&self, key: &str) -> u64 {
        match &self[key] {
            Json::Number(n) if n.fract() == 0.0 && *n >= 0.0 => *n as u64,
            other => panic!("{key} is not a count: {other:?} in {self:?}"),
        }
    }

    #[track_caller]
    pub fn str(&self, key: &str) -> &str {
        self[key].as_str().unwrap_or_else(|| panic!("{key} is not a string in {self:?}"))
    }

    pub fn as_array(&self) -> &[Json] {
        match self {
            Json::Array(a) => a,
            _ => &[],
        }
    }

    pub fn parse(s: &str) -> Result<Json, String> {
        let mut p = JsonParser { s: s.as_bytes(), i: 0 };
        let v = p.value()?;
        p.ws();
        if p.i != p.s.len() {
            return Err(format!("trailing bytes at {}", p.i));
        }
        Ok(v)
    }
}

struct JsonParser<'a> {
    s: &'a [u8],
    i: usize,
}

impl JsonParser<'_> {
    fn ws(&mut self) {
        while self.s.get(self.i).is_some_and(|c| b" \t\r\n".contains(c)) {
            self.i += 1;
        }
    }

    fn eat(&mut self, lit: &str) -> Result<(), String> {
        if self.s[self.i..].starts_with(lit.as_bytes()) {
            self.i += lit.len();
            Ok(())
        } else {
            Err(format!("expected {lit} at {}", self.i))
        }
    }

    fn value(&mut self) -> Result<Json, String> {
        self.ws();
        match self.s.get(self.i) {
            Some(b'n') => self.eat("null").map(|()| Json::Null),
            Some(b't') => self.eat("true").map(|()| Json::Bool(true)),
            Some(b'f') => self.eat("false").map(|()| Json::Bool(false)),
            Some(b'"') => self.string().map(Json::String),
            Some(b'[') => {
                self.i += 1;
                let mut items = Vec::new();
                self.ws();
                if self.s.get(self.i) == Some(&b']') {
                    self.i += 1;
                    return Ok(Json::Array(items));
                }
                loop {
                    items.push(self.value()?);
                    self.ws();
                    match self.s.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b']') => {
                            self.i += 1;
                            return Ok(Json::Array(items));
                        }
                        _ => return Err(format!("bad array at {}", self.i)),
                    }
                }
            }
            Some(b'{') => {
                self.i += 1;
                let mut map = BTreeMap::new();
                self.ws();
                if self.s.get(self.i) == Some(&b'}') {
                    self.i += 1;
                    return Ok(Json::Object(map));
                }
                loop {
                    self.ws();
                    let key = self.string()?;
                    self.ws();
                    self.eat(":")?;
                    let value = self.value()?;
                    if map.insert(key.clone(), value).is_some() {
                        return Err(format!("duplicate key {key}"));
                    }
                    self.ws();
                    match self.s.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b'}') => {
                            self.i += 1;
                            return Ok(Json::Object(map));
                        }
                        _ => return Err(format!("bad object at {}", self.i)),
                    }
                }
            }
            _ => self.number(),
        }
    }

    fn number(&mut self) -> Result<Json, String> {
        let start = self.i;
        while self.s.get(self.i).is_some_and(|c| b"+-0123456789.eE".contains(c)) {
            self.i += 1;
        }
        let text = std::str::from_utf8(&self.s[start..self.i]).map_err(|e| e.to_string())?;
        // JSON numbers have no leading `+`, `.` or zeros.
        let leading_zero = text.starts_with('0') && text.as_bytes().get(1).is_some_and(u8::is_ascii_digit);
        let valid = !(text.is_empty() || text.starts_with(['+', '.']) || leading_zero);
        match text.parse::<f64>() {
            Ok(n) if valid => Ok(Json::Number(n)),
            _ => Err(format!("bad number {text:?} at {start}")),
        }
    }

    fn string(&mut self) -> Result<String, String> {
        self.eat("\"")?;
        let mut out = Vec::new();
        loop {
            let c = *self.s.get(self.i).ok_or("unterminated string")?;
            self.i += 1;
            match c {
                b'"' => return String::from_utf8(out).map_err(|e| e.to_string()),
                b'\\' => {
                    let e = *self.s.get(self.i).ok_or("bad escape")?;
                    self.i += 1;
                    match e {
                        b'"' | b'\\' | b'/' => out.push(e),
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'u' => {
                            let hex = std::str::from_utf8(self.s.get(self.i..self.i + 4).ok_or("short \\u")?)
                                .map_err(|e| e.to_string())?;
                            let code = u32::from_str_radix(hex, 16).map_err(|e| e.to_string())?;
                            self.i += 4;
                            let ch = char::from_u32(code).ok_or("surrogate escapes are not used")?;
                            out.extend_from_slice(ch.to_string().as_bytes());
                        }
                        _ => return Err(format!("bad escape \\{}", e as char)),
                    }
                }
                c if c < 0x20 => return Err(format!("raw control byte {c:#x} in string")),
                c => out.push(c),
            }
        }
    }
}
