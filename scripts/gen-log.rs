//! gen-log: deterministic generator of realistic HTTP access-log traffic.
//!
//! This file owns the synthetic traffic used by logmon's benchmarks and test
//! fixtures: client, path, status, size and user-agent mixes, the rate profile
//! (base rate plus spikes), and the imperfections real logs have (timestamps
//! that go back, malformed lines, TLS handshakes, CRLF endings). It uses only
//! the standard library.
//!
//! Usage (from anywhere; the wrapper builds this example in release mode):
//!
//! ```text
//! scripts/gen-log [OPTIONS] > access.log
//! scripts/gen-log --size 1G > /tmp/bench.log
//! scripts/gen-log --format csv --rate 5 --spike 300+120@60 --duration 900
//! scripts/gen-log --tz -0700 --jitter 5 --malformed 0.001 --tls 0.0005
//! cargo run --release --example gen-log -- --help
//! ```
//!
//! The same arguments always produce byte-identical output: every choice comes
//! from seeded splitmix64 streams, and only integer and correctly rounded float
//! arithmetic (+, -, *, /, sqrt) is used, so no libm differences can leak in.

use std::env;
use std::ffi::OsString;
use std::io::{self, BufWriter, Write};
use std::ops::Range;
use std::process::ExitCode;

/// 2019-02-07T21:11:00Z, the first second of the classic exercise's sample log.
const DEFAULT_START: u64 = 1_549_573_860;
/// 9999-12-31T23:59:59Z: keeps `--start` within four-digit years.
const MAX_START: u64 = 253_402_300_799;
const CSV_HEADER: &[u8] = b"\"remotehost\",\"rfc931\",\"authuser\",\"date\",\"request\",\"status\",\"bytes\"\n";
/// Large enough that the write syscalls cost nothing next to formatting.
const OUT_BUFFER: usize = 1 << 20;

const USAGE: &str = "\
gen-log: deterministic generator of realistic HTTP access-log traffic

Usage: scripts/gen-log [OPTIONS] > access.log
       cargo run --release --example gen-log -- [OPTIONS]

Output:
  --format FMT       combined, common, csv (classic exercise CSV,
                     date in Unix seconds) or caddy (Caddy v2's
                     JSON access log)                           [combined]

Time and volume:
  --start EPOCH      first second of traffic, Unix seconds
                     (default is 2019-02-07T21:11:00Z)          [1549573860]
  --tz +HHMM         UTC offset the timestamps are rendered in  [+0000]
  --rate R           base requests per second, may be fractional [20]
  --spike S+D@R      from second S (relative to --start), for D seconds,
                     the rate is R; repeatable, a later spike wins where
                     spikes overlap                             [none]
  --noise N          per-second count noise, 0..1; 1 gives a Poisson-like
                     spread, the long-run average stays exact   [0.2]
  --duration SECS    seconds of traffic to generate             [600]
  --size BYTES       instead stop after the first line that brings the
                     output to BYTES; suffixes K, M, G are binary
                     (1G = 1073741824); wins over --duration    [none]

Imperfections:
  --jitter SECS      a jittered line's timestamp moves back by a random
                     0..=SECS seconds (servers that log at request end);
                     lines stay in write order                  [0]
  --jitter-prob P    probability that a line is jittered        [0.1]
  --malformed P      probability that a line is replaced by a malformed
                     one (truncated, garbage bytes with invalid UTF-8 and
                     NUL, bad date, empty)                      [0]
  --tls P            probability of a TLS handshake logged as a request,
                     status 400: a valid hit with no usable request  [0]
  --crlf P           probability that a valid line ends in CRLF [0]

Other:
  --seed N           PRNG seed; the same arguments always give the
                     same bytes                                 [1]
  -h, --help         print this help and exit

Options take their value as the next argument or after '='.
A summary (lines, bytes, time span) is printed to stderr at the end.
";

fn main() -> ExitCode {
    let cfg = match parse_args(env::args_os().skip(1)) {
        Ok(Command::Run(cfg)) => cfg,
        Ok(Command::Help) => {
            // Ignore errors: `--help | head` must not panic.
            let _ = io::stdout().write_all(USAGE.as_bytes());
            return ExitCode::SUCCESS;
        }
        Err(msg) => {
            let _ = writeln!(io::stderr(), "gen-log: {msg}\nTry 'gen-log --help'.");
            return ExitCode::from(2);
        }
    };

    let mut out = BufWriter::with_capacity(OUT_BUFFER, io::stdout().lock());
    let result = generate(&cfg, &mut out).and_then(|stats| out.flush().map(|()| stats));
    match result {
        Ok(stats) => {
            let _ = writeln!(io::stderr(), "gen-log: {stats}");
            ExitCode::SUCCESS
        }
        // The reader went away (`| head`): that is how pipelines say "enough".
        // Rust ignores SIGPIPE, so it arrives here as an error, not a signal.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(io::stderr(), "gen-log: write error: {e}");
            ExitCode::FAILURE
        }
    }
}

// ------------------------------------------------------------------ options

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Combined,
    Common,
    Csv,
    /// Caddy v2's JSON access log, for the JSON-lines benchmark.
    Caddy,
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct Spike {
    start: u64,
    end: u64,
    rate: f64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Length {
    Duration(u64),
    Size(u64),
}

#[derive(Clone, Debug, PartialEq)]
struct Config {
    format: Format,
    start: u64,
    tz: Tz,
    rate: f64,
    spikes: Vec<Spike>,
    noise: f64,
    length: Length,
    jitter: u64,
    jitter_prob: f64,
    malformed: f64,
    tls: f64,
    crlf: f64,
    seed: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            format: Format::Combined,
            start: DEFAULT_START,
            tz: Tz::UTC,
            rate: 20.0,
            spikes: Vec::new(),
            noise: 0.2,
            length: Length::Duration(600),
            jitter: 0,
            jitter_prob: 0.1,
            malformed: 0.0,
            tls: 0.0,
            crlf: 0.0,
            seed: 1,
        }
    }
}

#[derive(Debug)]
enum Command {
    Run(Config),
    Help,
}

/// Hand-rolled parsing (std only): `--name value` or `--name=value`.
fn parse_args(args: impl IntoIterator<Item = OsString>) -> Result<Command, String> {
    let mut cfg = Config::default();
    let (mut duration, mut size) = (None, None);
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let arg = arg.into_string().map_err(|a| format!("argument is not valid UTF-8: {}", a.to_string_lossy()))?;
        if arg == "-h" || arg == "--help" {
            return Ok(Command::Help);
        }
        if !arg.starts_with('-') {
            return Err(format!("unexpected argument '{arg}'"));
        }
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) => (name, Some(value)),
            None => (arg.as_str(), None),
        };
        if !OPTIONS.contains(&name) {
            return Err(format!("unknown option '{name}'"));
        }
        let value = match inline {
            Some(value) => value.to_owned(),
            None => args
                .next()
                .ok_or_else(|| format!("option '{name}' needs a value"))?
                .into_string()
                .map_err(|_| format!("value of '{name}' is not valid UTF-8"))?,
        };
        let v = value.as_str();
        match name {
            "--format" => cfg.format = parse_format(v)?,
            "--start" => {
                cfg.start = parse_u64(name, v)?;
                if cfg.start > MAX_START {
                    return Err(format!("--start must be at most {MAX_START} (year 9999)"));
                }
            }
            "--tz" => cfg.tz = Tz::parse(v)?,
            "--rate" => cfg.rate = parse_f64(name, v, 0.0, f64::MAX)?,
            "--spike" => cfg.spikes.push(parse_spike(v)?),
            "--noise" => cfg.noise = parse_f64(name, v, 0.0, 1.0)?,
            "--duration" => duration = Some(parse_u64(name, v)?),
            "--size" => size = Some(parse_size(v)?),
            "--jitter" => cfg.jitter = parse_u64(name, v)?,
            "--jitter-prob" => cfg.jitter_prob = parse_f64(name, v, 0.0, 1.0)?,
            "--malformed" => cfg.malformed = parse_f64(name, v, 0.0, 1.0)?,
            "--tls" => cfg.tls = parse_f64(name, v, 0.0, 1.0)?,
            "--crlf" => cfg.crlf = parse_f64(name, v, 0.0, 1.0)?,
            "--seed" => cfg.seed = parse_u64(name, v)?,
            _ => unreachable!("every name in OPTIONS is handled"),
        }
    }
    cfg.length = match (size, duration) {
        (Some(bytes), _) => Length::Size(bytes),
        (None, Some(secs)) => Length::Duration(secs),
        (None, None) => cfg.length,
    };
    Ok(Command::Run(cfg))
}

const OPTIONS: &[&str] = &[
    "--format",
    "--start",
    "--tz",
    "--rate",
    "--spike",
    "--noise",
    "--duration",
    "--size",
    "--jitter",
    "--jitter-prob",
    "--malformed",
    "--tls",
    "--crlf",
    "--seed",
];

fn parse_format(v: &str) -> Result<Format, String> {
    match v {
        "combined" => Ok(Format::Combined),
        "common" => Ok(Format::Common),
        "csv" => Ok(Format::Csv),
        "caddy" => Ok(Format::Caddy),
        _ => Err(format!("invalid --format '{v}' (expected combined, common, csv or caddy)")),
    }
}

fn parse_u64(name: &str, v: &str) -> Result<u64, String> {
    v.parse().map_err(|_| format!("invalid {name} '{v}' (expected a non-negative integer)"))
}

fn parse_f64(name: &str, v: &str, min: f64, max: f64) -> Result<f64, String> {
    match v.parse::<f64>() {
        Ok(x) if x.is_finite() && (min..=max).contains(&x) => Ok(x),
        _ if max == f64::MAX => Err(format!("invalid {name} '{v}' (expected a number >= {min})")),
        _ => Err(format!("invalid {name} '{v}' (expected a number in {min}..{max})")),
    }
}

/// `1048576`, `512K`, `100M`, `1G` (binary multiples).
fn parse_size(v: &str) -> Result<u64, String> {
    let err = || format!("invalid --size '{v}' (expected BYTES with optional K, M or G)");
    let (digits, shift) = match v.as_bytes().last() {
        Some(b'k' | b'K') => (&v[..v.len() - 1], 10),
        Some(b'm' | b'M') => (&v[..v.len() - 1], 20),
        Some(b'g' | b'G') => (&v[..v.len() - 1], 30),
        _ => (v, 0),
    };
    let n: u64 = digits.parse().map_err(|_| err())?;
    n.checked_mul(1 << shift).ok_or_else(err)
}

/// `START+DURATION@RATE`, e.g. `300+120@60`.
fn parse_spike(v: &str) -> Result<Spike, String> {
    let err = || format!("invalid --spike '{v}' (expected START+DURATION@RATE, e.g. 300+120@60)");
    let (window, rate) = v.split_once('@').ok_or_else(err)?;
    let (start, duration) = window.split_once('+').ok_or_else(err)?;
    let start: u64 = start.parse().map_err(|_| err())?;
    let duration: u64 = duration.parse().map_err(|_| err())?;
    let rate = parse_f64("--spike rate", rate, 0.0, f64::MAX)?;
    Ok(Spike { start, end: start.saturating_add(duration), rate })
}

// --------------------------------------------------------------------- PRNG

const GOLDEN_GAMMA: u64 = 0x9e37_79b9_7f4a_7c15;

/// The splitmix64 output function: a strong 64-bit mixer, also used to derive
/// per-client attributes from a client id without storing a client table.
fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// splitmix64: tiny, fast, good enough for synthetic traffic, and fully
/// specified here, so the output can never change with a crate or toolchain.
#[derive(Clone, Debug)]
struct Rng(u64);

impl Rng {
    /// Each concern (traffic, schedule, timestamps, faults) draws from its own
    /// stream, so enabling e.g. `--malformed` replaces some lines but leaves
    /// every other line exactly as it was without it.
    fn new(seed: u64, stream: u64) -> Self {
        Rng(mix64(seed ^ mix64(stream.wrapping_mul(GOLDEN_GAMMA))))
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(GOLDEN_GAMMA);
        mix64(self.0)
    }

    /// Uniform in `0..n` (n > 0) by multiply-shift; the bias (< n / 2^64) is
    /// irrelevant here and the draw never loops.
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `lo..=hi`.
    fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    /// Uniform in `[0, 1)` with 53 random bits.
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// True with probability `p`; draws nothing when `p` is 0.
    fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && self.unit() < p
    }

    /// Approximately standard normal (Irwin-Hall sum of four uniforms,
    /// rescaled), bounded to about ±3.5: no transcendental functions.
    fn normal(&mut self) -> f64 {
        let sum = self.unit() + self.unit() + self.unit() + self.unit();
        (sum - 2.0) * 3f64.sqrt()
    }

    /// Log-uniform in `[2^lo, 2^hi)`: every power-of-two octave is equally
    /// likely, so small values are common and large ones rare, as with
    /// response sizes. Requires `lo < hi < 64`.
    fn log_uniform(&mut self, lo: u32, hi: u32) -> u64 {
        let octave = lo + self.below(u64::from(hi - lo)) as u32;
        (1u64 << octave) + self.below(1u64 << octave)
    }

    /// An index in `0..n` with P(i) roughly proportional to 1/(i+1): the
    /// Zipf-like popularity of list items (first items are the hot ones).
    fn zipfish(&mut self, n: usize) -> usize {
        let bits = usize::BITS - n.leading_zeros(); // n < 2^bits
        ((self.log_uniform(0, bits) - 1) % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

// ------------------------------------------------------- weighted choices

const PICK_BITS: u32 = 12;
const PICK_SLOTS: usize = 1 << PICK_BITS;

/// O(1) weighted choice: a table of 4096 slots, each holding the item whose
/// cumulative weight covers the slot's centre. Weights are thus quantised to
/// 1/4096, plenty for traffic mixes, and a draw is one shift and one load.
struct Picker {
    slots: Box<[u8; PICK_SLOTS]>,
}

impl Picker {
    fn new(weights: impl IntoIterator<Item = u32>) -> Self {
        let weights: Vec<u64> = weights.into_iter().map(u64::from).collect();
        assert!(!weights.is_empty() && weights.len() <= 256, "1..=256 weighted items");
        let total: u64 = weights.iter().sum();
        assert!(total > 0, "weights must not all be zero");
        let mut slots = Box::new([0u8; PICK_SLOTS]);
        let (mut item, mut cumulative) = (0, weights[0]);
        for (i, slot) in slots.iter_mut().enumerate() {
            // Slot i covers [i, i+1) * total / SLOTS; compare its centre with
            // the cumulative weights, everything scaled by 2 * SLOTS.
            let centre = (2 * i as u64 + 1) * total;
            while cumulative * 2 * PICK_SLOTS as u64 <= centre {
                item += 1;
                cumulative += weights[item];
            }
            *slot = item as u8;
        }
        Picker { slots }
    }

    /// Chooses with the top bits of `bits`; lets a client hash pick sticky
    /// attributes without a draw.
    fn pick_with(&self, bits: u64) -> usize {
        usize::from(self.slots[(bits >> (64 - PICK_BITS)) as usize])
    }

    fn pick(&self, rng: &mut Rng) -> usize {
        self.pick_with(rng.next_u64())
    }
}

/// A static list of `(item, weight)` with its picker.
struct Table<T: 'static> {
    items: &'static [(T, u32)],
    picker: Picker,
}

impl<T: Copy> Table<T> {
    fn new(items: &'static [(T, u32)]) -> Self {
        Table { items, picker: Picker::new(items.iter().map(|&(_, weight)| weight)) }
    }

    fn pick(&self, rng: &mut Rng) -> T {
        self.items[self.picker.pick(rng)].0
    }

    fn pick_with(&self, bits: u64) -> T {
        self.items[self.picker.pick_with(bits)].0
    }
}

// ------------------------------------------------------------ traffic model

/// How the rest of a path is built after its section prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Root,
    Page,
    Form,
    Api,
    GraphQl,
    Socket,
    Static,
    Font,
    Image,
    Blog,
    Search,
    Ids,
    Slugs,
    Docs,
    Admin,
    Asset,
    Download,
    Feed,
    Health,
    Probe,
}

/// Sections in decreasing popularity; the weight of rank r is 1/(r+1) (Zipf).
/// Probe paths are complete: scanners ask for exactly these.
const SECTIONS: &[(&str, Kind)] = &[
    ("/api", Kind::Api),
    ("/static", Kind::Static),
    ("/", Kind::Root),
    ("/images", Kind::Image),
    ("/blog", Kind::Blog),
    ("/search", Kind::Search),
    ("/products", Kind::Ids),
    ("/favicon.ico", Kind::Asset),
    ("/login", Kind::Form),
    ("/assets", Kind::Static),
    ("/category", Kind::Slugs),
    ("/user", Kind::Slugs),
    ("/cart", Kind::Page),
    ("/robots.txt", Kind::Asset),
    ("/admin", Kind::Admin),
    ("/docs", Kind::Docs),
    ("/checkout", Kind::Page),
    ("/account", Kind::Page),
    ("/wp-login.php", Kind::Probe),
    ("/fonts", Kind::Font),
    ("/feed", Kind::Feed),
    ("/tag", Kind::Slugs),
    ("/news", Kind::Ids),
    ("/about", Kind::Page),
    ("/contact", Kind::Page),
    ("/graphql", Kind::GraphQl),
    ("/socket.io", Kind::Socket),
    ("/help", Kind::Page),
    ("/uploads", Kind::Image),
    ("/downloads", Kind::Download),
    ("/sitemap.xml", Kind::Asset),
    ("/logout", Kind::Form),
    ("/pricing", Kind::Page),
    ("/health", Kind::Health),
    ("/.env", Kind::Probe),
    ("/careers", Kind::Page),
    ("/xmlrpc.php", Kind::Probe),
    ("/phpmyadmin/index.php", Kind::Probe),
    ("/.git/config", Kind::Probe),
    ("/apple-touch-icon.png", Kind::Asset),
    ("/metrics", Kind::Health),
    ("/cgi-bin/luci/;stok=/locale", Kind::Probe),
];

/// Traffic classes share method, status and referer mixes.
#[derive(Clone, Copy)]
enum Class {
    Page,
    Api,
    GraphQl,
    Static,
    Form,
    Admin,
    Probe,
    /// Health checks and metrics scrapes.
    Monitor,
}

impl Kind {
    fn class(self) -> Class {
        match self {
            Kind::Api | Kind::Socket => Class::Api,
            Kind::Health => Class::Monitor,
            Kind::GraphQl => Class::GraphQl,
            Kind::Static | Kind::Font | Kind::Image | Kind::Asset | Kind::Download => Class::Static,
            Kind::Form => Class::Form,
            Kind::Admin => Class::Admin,
            Kind::Probe => Class::Probe,
            Kind::Root | Kind::Page | Kind::Blog | Kind::Search | Kind::Ids | Kind::Slugs | Kind::Docs | Kind::Feed => {
                Class::Page
            }
        }
    }

    /// Size range of a full (200) response body, as log2 bounds.
    fn body_bits(self) -> (u32, u32) {
        match self {
            Kind::Root => (13, 16),
            Kind::Page | Kind::Slugs | Kind::Ids | Kind::Docs => (11, 16),
            Kind::Blog | Kind::Feed => (13, 17),
            Kind::Search | Kind::Admin => (12, 16),
            Kind::Form => (11, 14),
            Kind::Api | Kind::GraphQl => (6, 13),
            Kind::Socket => (5, 9),
            Kind::Static => (10, 19),
            Kind::Font => (14, 17),
            Kind::Image => (12, 20),
            Kind::Asset => (9, 13),
            Kind::Download => (20, 27),
            Kind::Health => (1, 6),
            Kind::Probe => (8, 12),
        }
    }
}

const METHODS_PAGE: &[(&str, u32)] =
    &[("GET", 930), ("HEAD", 40), ("POST", 20), ("OPTIONS", 5), ("PUT", 3), ("DELETE", 2)];
const METHODS_API: &[(&str, u32)] =
    &[("GET", 600), ("POST", 220), ("PUT", 80), ("DELETE", 50), ("PATCH", 30), ("OPTIONS", 20)];
const METHODS_GRAPHQL: &[(&str, u32)] = &[("POST", 900), ("GET", 80), ("OPTIONS", 20)];
const METHODS_STATIC: &[(&str, u32)] = &[("GET", 960), ("HEAD", 40)];
const METHODS_FORM: &[(&str, u32)] = &[("GET", 450), ("POST", 550)];
const METHODS_PROBE: &[(&str, u32)] = &[("GET", 800), ("POST", 150), ("HEAD", 50)];
const METHODS_MONITOR: &[(&str, u32)] = &[("GET", 950), ("HEAD", 50)];

const STATUS_PAGE: &[(u16, u32)] =
    &[(200, 880), (301, 20), (302, 15), (304, 30), (400, 3), (403, 5), (404, 40), (500, 4), (502, 2), (503, 1)];
const STATUS_API: &[(u16, u32)] = &[
    (200, 800),
    (201, 50),
    (204, 30),
    (400, 30),
    (401, 25),
    (403, 10),
    (404, 25),
    (409, 5),
    (429, 10),
    (500, 10),
    (502, 3),
    (503, 2),
];
const STATUS_STATIC: &[(u16, u32)] = &[(200, 700), (206, 5), (304, 255), (404, 35), (500, 3), (503, 2)];
const STATUS_FORM: &[(u16, u32)] = &[(200, 380), (302, 560), (401, 40), (403, 10), (500, 7), (503, 3)];
const STATUS_ADMIN: &[(u16, u32)] = &[(200, 600), (302, 250), (401, 80), (403, 60), (500, 10)];
const STATUS_PROBE: &[(u16, u32)] = &[(404, 900), (403, 50), (301, 25), (200, 20), (400, 5)];
const STATUS_MONITOR: &[(u16, u32)] = &[(200, 990), (503, 10)];

#[derive(Clone, Copy)]
enum Referer {
    None,
    /// A page of the site itself.
    Internal,
    External(&'static str),
}

const REFERERS_PAGE: &[(Referer, u32)] = &[
    (Referer::None, 450),
    (Referer::Internal, 230),
    (Referer::External("https://www.google.com/"), 200),
    (Referer::External("https://www.bing.com/"), 30),
    (Referer::External("https://duckduckgo.com/"), 20),
    (Referer::External("https://t.co/"), 25),
    (Referer::External("https://l.facebook.com/"), 25),
    (Referer::External("https://www.reddit.com/"), 20),
];
const REFERERS_SUBRESOURCE: &[(Referer, u32)] = &[(Referer::Internal, 850), (Referer::None, 150)];
/// Requests nobody links to: scanners, health checks.
const REFERERS_DIRECT: &[(Referer, u32)] = &[(Referer::None, 950), (Referer::Internal, 50)];

struct ClassMix {
    methods: Table<&'static str>,
    statuses: Table<u16>,
    referers: Table<Referer>,
}

impl ClassMix {
    fn new(
        methods: &'static [(&'static str, u32)],
        statuses: &'static [(u16, u32)],
        referers: &'static [(Referer, u32)],
    ) -> Self {
        ClassMix { methods: Table::new(methods), statuses: Table::new(statuses), referers: Table::new(referers) }
    }
}

#[derive(Clone, Copy)]
struct Agent {
    ua: &'static str,
    /// Crawlers come from their operator's network (first three octets).
    net: Option<[u8; 3]>,
}

const fn agent(ua: &'static str) -> Agent {
    Agent { ua, net: None }
}

/// 2019-era user agents, matching the default start date.
const AGENTS: &[(Agent, u32)] = &[
    (
        agent(
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 \
             (KHTML, like Gecko) Chrome/72.0.3626.96 Safari/537.36",
        ),
        300,
    ),
    (
        agent(
            "Mozilla/5.0 (iPhone; CPU iPhone OS 12_1_4 like Mac OS X) AppleWebKit/605.1.15 \
             (KHTML, like Gecko) Version/12.0 Mobile/15E148 Safari/604.1",
        ),
        150,
    ),
    (
        agent(
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_14_3) AppleWebKit/537.36 \
             (KHTML, like Gecko) Chrome/72.0.3626.96 Safari/537.36",
        ),
        120,
    ),
    (
        agent(
            "Mozilla/5.0 (Linux; Android 9; Pixel 3) AppleWebKit/537.36 \
             (KHTML, like Gecko) Chrome/72.0.3626.105 Mobile Safari/537.36",
        ),
        120,
    ),
    (agent("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:65.0) Gecko/20100101 Firefox/65.0"), 100),
    (
        agent(
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_14_3) AppleWebKit/605.1.15 \
             (KHTML, like Gecko) Version/12.0.3 Safari/605.1.15",
        ),
        60,
    ),
    (
        agent(
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 \
             (KHTML, like Gecko) Chrome/64.0.3282.140 Safari/537.36 Edge/18.17763",
        ),
        40,
    ),
    (
        Agent {
            ua: "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            net: Some([66, 249, 66]),
        },
        40,
    ),
    (
        Agent {
            ua: "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
            net: Some([157, 55, 39]),
        },
        20,
    ),
    (agent("curl/7.64.0"), 20),
    (agent("python-requests/2.21.0"), 15),
    (agent("Go-http-client/1.1"), 10),
    (agent("-"), 5),
];

const USERS: &[(&str, u32)] =
    &[("-", 880), ("apache", 50), ("alice", 20), ("bob", 15), ("mary", 15), ("frank", 10), ("admin", 10)];

const PROTOCOLS: &[(&str, u32)] = &[("HTTP/1.1", 800), ("HTTP/2.0", 150), ("HTTP/1.0", 50)];

/// Targets in absolute form (`GET http://host/path`): proxies and scanners.
const ABSOLUTE_FORM: f64 = 0.003;
const ABSOLUTE_HOSTS: &[&str] =
    &["http://www.example.com", "http://example.com", "http://example.com:80", "http://203.0.113.10"];
const SITE: &str = "https://www.example.com";
/// Pages that appear as internal referers, hottest first.
const SITE_PAGES: &[&str] = &[
    "/",
    "/blog",
    "/products",
    "/search?q=shoes",
    "/cart",
    "/category/books",
    "/account",
    "/docs",
    "/about",
    "/pricing",
];

/// First octets of public IPv4 space that is actually in use (no private,
/// multicast or documentation-only /8s, so addresses look like real clients).
const PUBLIC_NETS: &[u8] = &[
    23, 31, 37, 45, 46, 50, 52, 54, 62, 66, 70, 71, 72, 73, 76, 77, 78, 79, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90,
    91, 92, 93, 94, 95, 96, 98, 99, 104, 107, 108, 109, 134, 137, 141, 145, 151, 154, 162, 165, 173, 176, 178, 185,
    188, 190, 193, 194, 195, 197, 200, 201, 203, 207, 209, 212, 213, 216, 217,
];
/// IPv6 client prefixes (ISPs and clouds), first two groups.
const V6_NETS: &[[u16; 2]] =
    &[[0x2001, 0x4860], [0x2a02, 0x8108], [0x2600, 0x1700], [0x2a01, 0x0e0a], [0x2406, 0xda00], [0x2003, 0x00e5]];

const WORDS: &[&str] = &[
    "shoes", "books", "coffee", "garden", "linux", "travel", "music", "summer", "winter", "camera", "kitchen",
    "design", "rust", "python", "laptops", "phones", "recipes", "bikes", "games", "movies", "privacy", "security",
    "cloud", "release", "review", "guide", "budget", "health", "market", "update", "tips", "sale",
];
const API_RESOURCES: &[&str] = &[
    "user",
    "users",
    "orders",
    "items",
    "cart",
    "session",
    "products",
    "search",
    "events",
    "notifications",
    "messages",
    "settings",
    "payments",
    "inventory",
    "reviews",
    "auth/token",
];
const STATIC_FILES: &[(&str, &str)] = &[
    ("app", "js"),
    ("vendor", "js"),
    ("main", "css"),
    ("runtime", "js"),
    ("polyfills", "js"),
    ("styles", "css"),
    ("chunk-common", "js"),
    ("print", "css"),
];
const FONTS: &[&str] =
    &["roboto-regular.woff2", "roboto-bold.woff2", "open-sans.woff2", "fontawesome-webfont.woff", "icons.ttf"];
const IMAGE_NAMES: &[&str] = &["photo", "thumb", "banner", "avatar", "hero", "logo"];
const IMAGE_TYPES: &[&str] = &["jpg", "png", "webp", "gif", "svg"];
const DOCS: &[&str] = &["getting-started", "install", "configuration", "api", "faq", "changelog", "troubleshooting"];
const ADMIN_PAGES: &[&str] = &["", "/", "/dashboard", "/users", "/settings", "/login", "/orders"];
const DOWNLOADS: &[&str] = &["tar.gz", "zip", "dmg", "exe", "pdf"];
const UTM_SOURCES: &[&str] = &["google", "newsletter", "twitter", "facebook"];
const BASE64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Distinct clients, as 2^CLIENT_BITS ids; client id popularity is
/// log-uniform, so a handful of heavy hitters and a long tail.
const CLIENT_BITS: u32 = 16;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Addr {
    V4([u8; 4]),
    /// Four prefix groups and an interface id, rendered `a:b:c:d::e`.
    V6([u16; 4], u16),
}

/// One request, with buffers reused from line to line.
struct Hit {
    addr: Addr,
    user: &'static str,
    method: &'static str,
    target: Vec<u8>,
    proto: &'static str,
    status: u16,
    /// `None` is logged as `-` (Apache's %b for an empty body).
    size: Option<u64>,
    referer: Vec<u8>,
    ua: &'static str,
}

impl Hit {
    fn new() -> Self {
        Hit {
            addr: Addr::V4([0; 4]),
            user: "-",
            method: "GET",
            target: Vec::with_capacity(256),
            proto: "HTTP/1.1",
            status: 200,
            size: None,
            referer: Vec::with_capacity(256),
            ua: "-",
        }
    }
}

/// The immutable mixes; all randomness comes from the caller's stream.
struct Model {
    salt: u64,
    sections: Picker,
    classes: [ClassMix; 8],
    agents: Table<Agent>,
    users: Table<&'static str>,
    protocols: Table<&'static str>,
}

impl Model {
    fn new(seed: u64) -> Self {
        let sections = Picker::new((0..SECTIONS.len() as u32).map(|rank| 1_000_000 / (rank + 1)));
        // Indexed by `Class as usize`.
        let classes = [
            ClassMix::new(METHODS_PAGE, STATUS_PAGE, REFERERS_PAGE),
            ClassMix::new(METHODS_API, STATUS_API, REFERERS_SUBRESOURCE),
            ClassMix::new(METHODS_GRAPHQL, STATUS_API, REFERERS_SUBRESOURCE),
            ClassMix::new(METHODS_STATIC, STATUS_STATIC, REFERERS_SUBRESOURCE),
            ClassMix::new(METHODS_FORM, STATUS_FORM, REFERERS_PAGE),
            ClassMix::new(METHODS_PAGE, STATUS_ADMIN, REFERERS_SUBRESOURCE),
            ClassMix::new(METHODS_PROBE, STATUS_PROBE, REFERERS_DIRECT),
            ClassMix::new(METHODS_MONITOR, STATUS_MONITOR, REFERERS_DIRECT),
        ];
        Model {
            // Different seeds give different client populations.
            salt: mix64(seed ^ 0x5eed_c11e_47ab_1e00),
            sections,
            classes,
            agents: Table::new(AGENTS),
            users: Table::new(USERS),
            protocols: Table::new(PROTOCOLS),
        }
    }

    /// A client's address, agent and user are functions of its id, so the
    /// same client keeps them across all of its requests.
    fn client(&self, id: u64) -> (Addr, Agent, &'static str) {
        let h = mix64(id ^ self.salt);
        let g = mix64(h);
        let agent = self.agents.pick_with(h);
        let user = self.users.pick_with(g);
        let [b0, b1, b2, b3, b4, b5, b6, b7] = g.to_le_bytes();
        let addr = match agent.net {
            Some([n0, n1, n2]) => Addr::V4([n0, n1, n2, b0]),
            None => match b4 % 100 {
                0..=3 => {
                    let [p0, p1] = V6_NETS[usize::from(b5) % V6_NETS.len()];
                    let group = |lo: u8, hi: u8| u16::from_le_bytes([lo, hi]);
                    Addr::V6([p0, p1, group(b0, b1), group(b2, b3) & 0xff], group(b6, b7))
                }
                // Clients behind the load balancer's own network.
                4..=9 => Addr::V4([10, b1 & 0x0f, b2, b3.max(2)]),
                _ => Addr::V4([PUBLIC_NETS[usize::from(b5) % PUBLIC_NETS.len()], b1, b2, b3.max(1)]),
            },
        };
        (addr, agent, user)
    }

    fn fill(&self, rng: &mut Rng, hit: &mut Hit) {
        let (addr, agent, user) = self.client(rng.log_uniform(0, CLIENT_BITS) - 1);
        hit.addr = addr;
        hit.ua = agent.ua;
        hit.user = user;

        let (prefix, kind) = SECTIONS[self.sections.pick(rng)];
        let mix = &self.classes[kind.class() as usize];
        hit.target.clear();
        if rng.chance(ABSOLUTE_FORM) {
            hit.target.extend_from_slice(rng.pick(ABSOLUTE_HOSTS).as_bytes());
        }
        write_path(kind, prefix, rng, &mut hit.target);

        hit.method = mix.methods.pick(rng);
        hit.proto = self.protocols.pick(rng);
        hit.status = mix.statuses.pick(rng);
        if hit.status == 201 && hit.method != "POST" && hit.method != "PUT" {
            hit.status = 200; // only writes create
        }
        let size = if hit.method == "HEAD" {
            0
        } else {
            match hit.status {
                204 | 304 => 0,
                200 | 206 => {
                    let (lo, hi) = kind.body_bits();
                    rng.log_uniform(lo, hi)
                }
                // Redirects and error pages: short canned bodies.
                _ => rng.log_uniform(7, 10),
            }
        };
        // Apache's %b logs an empty body as "-"; nginx logs 0. Both occur, and
        // so does the odd "-" for a response aborted before its length was known.
        let dash = rng.below(1000);
        hit.size = if (size == 0 && dash < 500) || dash == 999 { None } else { Some(size) };

        hit.referer.clear();
        match mix.referers.pick(rng) {
            Referer::None => hit.referer.push(b'-'),
            Referer::Internal => {
                hit.referer.extend_from_slice(SITE.as_bytes());
                let page = SITE_PAGES[rng.zipfish(SITE_PAGES.len())];
                hit.referer.extend_from_slice(page.as_bytes());
            }
            Referer::External(url) => hit.referer.extend_from_slice(url.as_bytes()),
        }
    }
}

/// Appends `prefix` and the kind-specific rest of the path and query.
fn write_path(kind: Kind, prefix: &str, rng: &mut Rng, out: &mut Vec<u8>) {
    out.extend_from_slice(prefix.as_bytes());
    match kind {
        Kind::Root => {
            if rng.below(20) == 0 {
                out.extend_from_slice(b"index.html");
            }
        }
        Kind::Page => {
            if rng.below(12) == 0 {
                out.extend_from_slice(b"?utm_source=");
                out.extend_from_slice(rng.pick(UTM_SOURCES).as_bytes());
                out.extend_from_slice(b"&utm_medium=referral");
            }
        }
        Kind::Form => {
            if rng.below(5) == 0 {
                out.extend_from_slice(b"?next=%2Faccount");
            }
        }
        Kind::Api => {
            if rng.below(5) == 0 {
                out.extend_from_slice(if rng.below(3) == 0 { b"/v2" } else { b"/v1" });
            }
            out.push(b'/');
            out.extend_from_slice(API_RESOURCES[rng.zipfish(API_RESOURCES.len())].as_bytes());
            match rng.below(10) {
                0..=2 => {
                    out.push(b'/');
                    push_u64(out, rng.log_uniform(0, 17));
                }
                3..=5 => {
                    out.extend_from_slice(b"?id=");
                    push_u64(out, rng.log_uniform(0, 17));
                }
                6 => {
                    out.extend_from_slice(b"?page=");
                    push_u64(out, rng.log_uniform(0, 5));
                    out.extend_from_slice(b"&limit=");
                    push_u64(out, *rng.pick(&[10, 20, 50, 100]));
                }
                _ => {}
            }
        }
        Kind::Socket => {
            out.extend_from_slice(b"/?EIO=4&transport=polling&t=");
            for _ in 0..7 {
                out.push(BASE64URL[rng.below(64) as usize]);
            }
        }
        Kind::Static => {
            let index = rng.zipfish(STATIC_FILES.len());
            let (name, ext) = STATIC_FILES[index];
            out.push(b'/');
            out.extend_from_slice(ext.as_bytes());
            out.push(b'/');
            out.extend_from_slice(name.as_bytes());
            out.push(b'.');
            // Content hash of the current build: fixed per file.
            push_hex_padded(out, mix64(index as u64) & 0xffff_ffff, 8);
            out.push(b'.');
            out.extend_from_slice(ext.as_bytes());
            if rng.below(10) == 0 {
                out.extend_from_slice(b"?v=");
                push_u64(out, rng.between(1, 9));
            }
        }
        Kind::Font => {
            out.push(b'/');
            out.extend_from_slice(FONTS[rng.zipfish(FONTS.len())].as_bytes());
        }
        Kind::Image => {
            out.push(b'/');
            out.extend_from_slice(rng.pick(IMAGE_NAMES).as_bytes());
            out.push(b'-');
            push_u64(out, rng.log_uniform(0, 12));
            out.push(b'.');
            out.extend_from_slice(IMAGE_TYPES[rng.zipfish(IMAGE_TYPES.len())].as_bytes());
        }
        Kind::Blog => match rng.below(10) {
            0..=1 => {}
            2 => {
                out.extend_from_slice(b"/page/");
                push_u64(out, rng.between(2, 20));
            }
            _ => {
                out.push(b'/');
                push_u64(out, rng.between(2015, 2019));
                out.push(b'/');
                push_padded(out, rng.between(1, 12), 2);
                out.push(b'/');
                push_slug(out, rng);
            }
        },
        Kind::Search => {
            out.extend_from_slice(b"?q=");
            out.extend_from_slice(WORDS[rng.zipfish(WORDS.len())].as_bytes());
            for _ in 0..rng.below(3) {
                out.push(b'+');
                out.extend_from_slice(rng.pick(WORDS).as_bytes());
            }
            if rng.below(5) == 0 {
                out.extend_from_slice(b"&page=");
                push_u64(out, rng.between(2, 9));
            }
        }
        Kind::Ids => {
            out.push(b'/');
            push_u64(out, rng.log_uniform(0, 17));
        }
        Kind::Slugs => {
            out.push(b'/');
            push_slug(out, rng);
        }
        Kind::Docs => {
            if rng.below(8) != 0 {
                out.push(b'/');
                out.extend_from_slice(DOCS[rng.zipfish(DOCS.len())].as_bytes());
            }
        }
        Kind::Admin => {
            out.extend_from_slice(rng.pick(ADMIN_PAGES).as_bytes());
        }
        Kind::Download => {
            out.extend_from_slice(b"/logmon-0.");
            push_u64(out, rng.between(1, 9));
            out.push(b'.');
            push_u64(out, rng.below(4));
            out.push(b'.');
            out.extend_from_slice(rng.pick(DOWNLOADS).as_bytes());
        }
        Kind::Asset | Kind::Feed | Kind::GraphQl | Kind::Health | Kind::Probe => {}
    }
}

/// `word` or `word-word`, popular words first.
fn push_slug(out: &mut Vec<u8>, rng: &mut Rng) {
    out.extend_from_slice(WORDS[rng.zipfish(WORDS.len())].as_bytes());
    if rng.below(2) == 0 {
        out.push(b'-');
        out.extend_from_slice(rng.pick(WORDS).as_bytes());
    }
}

// ---------------------------------------------------------------- schedule

/// How many lines each second gets.
struct Schedule {
    base: f64,
    spikes: Vec<Spike>,
    noise: f64,
    /// Lines owed so far (target minus emitted). Carrying it makes the
    /// per-second counts average exactly to the rate, fractional or noisy.
    owed: f64,
    rng: Rng,
}

impl Schedule {
    fn rate_at(&self, sec: u64) -> f64 {
        self.spikes.iter().rev().find(|s| (s.start..s.end).contains(&sec)).map_or(self.base, |s| s.rate)
    }

    /// No line will ever come again: lets `--size` stop on a dead profile.
    fn exhausted(&self, sec: u64) -> bool {
        self.base <= 0.0 && self.spikes.iter().all(|s| s.rate <= 0.0 || s.end <= sec)
    }

    fn count(&mut self, sec: u64) -> u64 {
        let rate = self.rate_at(sec);
        self.owed += rate;
        let mut want = self.owed;
        if self.noise > 0.0 && rate > 0.0 {
            // Poisson's spread is sqrt(rate); `noise` scales it. The noise is
            // absorbed by `owed`, so it cannot drift the average.
            want += self.noise * rate.sqrt() * self.rng.normal();
        }
        // The epsilon keeps 10 x 0.1 from flooring to 0.999... .
        let n = if want > 0.0 { (want + 1e-9).floor() as u64 } else { 0 };
        self.owed -= n as f64;
        n
    }
}

// -------------------------------------------------------------------- time

/// A fixed UTC offset, `+HHMM` / `-HHMM`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Tz {
    /// Seconds east of UTC.
    offset: i64,
    text: [u8; 5],
}

impl Tz {
    const UTC: Tz = Tz { offset: 0, text: *b"+0000" };

    fn parse(v: &str) -> Result<Tz, String> {
        let err = || format!("invalid --tz '{v}' (expected +HHMM or -HHMM, e.g. -0700)");
        let bytes = v.as_bytes();
        if bytes.len() != 5 || !bytes[1..].iter().all(u8::is_ascii_digit) {
            return Err(err());
        }
        let sign = match bytes[0] {
            b'+' => 1,
            b'-' => -1,
            _ => return Err(err()),
        };
        let digit = |i: usize| i64::from(bytes[i] - b'0');
        let (hours, minutes) = (digit(1) * 10 + digit(2), digit(3) * 10 + digit(4));
        if hours > 23 || minutes > 59 {
            return Err(err());
        }
        let mut text = [0; 5];
        text.copy_from_slice(bytes);
        Ok(Tz { offset: sign * (hours * 3600 + minutes * 60), text })
    }
}

/// Broken-down wall-clock time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Civil {
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
}

/// Howard Hinnant's civil_from_days: proleptic Gregorian date of a day count
/// since 1970-01-01, exact for any i64 range we can reach, with no tables.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468; // shift the epoch to 0000-03-01
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // day of the 400-year era, 0..=146096
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // 0..=399
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // day of the March-based year
    let mp = (5 * doy + 2) / 153; // March = 0
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn civil(epoch: u64, tz: Tz) -> Civil {
    let local = epoch as i64 + tz.offset;
    let (year, month, day) = civil_from_days(local.div_euclid(86_400));
    let secs = local.rem_euclid(86_400) as u32;
    Civil { year, month, day, hour: secs / 3600, minute: secs / 60 % 60, second: secs % 60 }
}

const MONTHS: [&[u8; 3]; 12] =
    [b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec"];

/// Common Log Format time, `07/Feb/2019:21:11:00 +0000`, cached per second:
/// most lines share their second with the previous one.
struct Clock {
    tz: Tz,
    cached: Option<u64>,
    text: Vec<u8>,
}

impl Clock {
    fn new(tz: Tz) -> Self {
        Clock { tz, cached: None, text: Vec::with_capacity(32) }
    }

    fn clf(&mut self, epoch: u64) -> &[u8] {
        if self.cached != Some(epoch) {
            self.text.clear();
            push_clf(&mut self.text, civil(epoch, self.tz), &self.tz.text);
            self.cached = Some(epoch);
        }
        &self.text
    }
}

fn push_clf(out: &mut Vec<u8>, t: Civil, zone: &[u8]) {
    push_padded(out, u64::from(t.day), 2);
    out.push(b'/');
    out.extend_from_slice(MONTHS[t.month as usize - 1]);
    out.push(b'/');
    push_padded(out, t.year.max(0) as u64, 4);
    out.push(b':');
    push_hms(out, t, b':');
    out.push(b' ');
    out.extend_from_slice(zone);
}

fn push_hms(out: &mut Vec<u8>, t: Civil, sep: u8) {
    push_padded(out, u64::from(t.hour), 2);
    out.push(sep);
    push_padded(out, u64::from(t.minute), 2);
    out.push(sep);
    push_padded(out, u64::from(t.second), 2);
}

// --------------------------------------------------------------- rendering

/// The fields of one line, whichever format renders them.
struct Fields<'a> {
    addr: Addr,
    user: &'a str,
    epoch: u64,
    /// Joined with single spaces inside the quotes.
    request: &'a [&'a [u8]],
    status: u16,
    size: Option<u64>,
    referer: &'a [u8],
    ua: &'a str,
}

/// Appends one line without its line ending; returns the byte range of the
/// date field (brackets included) so a fault can replace it.
fn render(format: Format, clock: &mut Clock, f: &Fields, out: &mut Vec<u8>) -> Range<usize> {
    let date;
    if format == Format::Caddy {
        return render_caddy(f, out);
    }
    if format == Format::Csv {
        out.push(b'"');
        push_addr(out, f.addr);
        out.extend_from_slice(b"\",\"-\",\"");
        out.extend_from_slice(f.user.as_bytes());
        out.extend_from_slice(b"\",");
        let start = out.len();
        push_u64(out, f.epoch);
        date = start..out.len();
        out.extend_from_slice(b",\"");
        push_request(out, f.request);
        out.extend_from_slice(b"\",");
        push_u64(out, u64::from(f.status));
        out.push(b',');
        push_u64(out, f.size.unwrap_or(0)); // the CSV's bytes column is numeric
        return date;
    }
    push_addr(out, f.addr);
    out.extend_from_slice(b" - ");
    out.extend_from_slice(f.user.as_bytes());
    out.push(b' ');
    let start = out.len();
    out.push(b'[');
    out.extend_from_slice(clock.clf(f.epoch));
    out.push(b']');
    date = start..out.len();
    out.extend_from_slice(b" \"");
    push_request(out, f.request);
    out.extend_from_slice(b"\" ");
    push_u64(out, u64::from(f.status));
    out.push(b' ');
    match f.size {
        Some(size) => push_u64(out, size),
        None => out.push(b'-'),
    }
    if format == Format::Combined {
        out.extend_from_slice(b" \"");
        out.extend_from_slice(f.referer);
        out.extend_from_slice(b"\" \"");
        out.extend_from_slice(f.ua.as_bytes());
        out.push(b'"');
    }
    date
}

/// A Caddy v2 access-log line, about 450 bytes; returns the range of `ts`.
/// The fraction of `ts`, the port and the duration are derived from the
/// size, so the output stays deterministic.
fn render_caddy(f: &Fields, out: &mut Vec<u8>) -> Range<usize> {
    let size = f.size.unwrap_or(0);
    out.extend_from_slice(br#"{"level":"info","ts":"#);
    let start = out.len();
    push_u64(out, f.epoch);
    out.push(b'.');
    push_padded(out, size % 1000, 3);
    let date = start..out.len();
    out.extend_from_slice(br#","logger":"http.log.access","msg":"handled request","request":{"remote_ip":""#);
    push_addr(out, f.addr);
    out.extend_from_slice(br#"","remote_port":""#);
    push_u64(out, 10_000 + size % 50_000);
    let part = |i: usize| f.request.get(i).copied().unwrap_or(b"");
    let (method, uri, proto) = match f.request.len() {
        3 => (part(0), part(1), part(2)),
        _ => (&b""[..], part(0), &b""[..]),
    };
    out.extend_from_slice(br#"","proto":""#);
    push_json(out, proto);
    out.extend_from_slice(br#"","method":""#);
    push_json(out, method);
    out.extend_from_slice(br#"","host":"www.example.com","uri":""#);
    push_json(out, uri);
    out.extend_from_slice(br#"","headers":{"User-Agent":[""#);
    push_json(out, f.ua.as_bytes());
    out.extend_from_slice(br#""],"Referer":[""#);
    push_json(out, f.referer);
    out.extend_from_slice(br#""],"Accept":["*/*"]}},"bytes_read":0,"user_id":"","duration":0."#);
    push_padded(out, size.wrapping_mul(7) % 1_000_000, 6);
    out.extend_from_slice(br#","size":"#);
    push_u64(out, size);
    out.extend_from_slice(br#","status":"#);
    push_u64(out, u64::from(f.status));
    out.extend_from_slice(br#","resp_headers":{"Server":["Caddy"],"Content-Type":["text/html; charset=utf-8"]}}"#);
    date
}

/// Bytes inside a JSON string: quotes, backslashes and control bytes escaped.
fn push_json(out: &mut Vec<u8>, bytes: &[u8]) {
    for &b in bytes {
        match b {
            b'"' | b'\\' => out.extend_from_slice(&[b'\\', b]),
            0..0x20 => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 15)]);
            }
            _ => out.push(b),
        }
    }
}

fn push_request(out: &mut Vec<u8>, parts: &[&[u8]]) {
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        out.extend_from_slice(part);
    }
}

fn push_addr(out: &mut Vec<u8>, addr: Addr) {
    match addr {
        Addr::V4(octets) => {
            for (i, octet) in octets.into_iter().enumerate() {
                if i > 0 {
                    out.push(b'.');
                }
                push_u64(out, u64::from(octet));
            }
        }
        Addr::V6(prefix, interface) => {
            for group in prefix {
                push_hex(out, u64::from(group));
                out.push(b':');
            }
            out.push(b':');
            push_hex(out, u64::from(interface));
        }
    }
}

/// Decimal without allocation or `fmt` machinery (the hot path).
fn push_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

/// Decimal, zero-padded to at least `width` digits.
fn push_padded(out: &mut Vec<u8>, n: u64, width: usize) {
    let mut digits = 1;
    let mut rest = n / 10;
    while rest > 0 {
        digits += 1;
        rest /= 10;
    }
    out.extend(std::iter::repeat_n(b'0', width.saturating_sub(digits)));
    push_u64(out, n);
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Lowercase hex without leading zeros.
fn push_hex(out: &mut Vec<u8>, n: u64) {
    let digits = (64 - n.leading_zeros()).div_ceil(4).max(1);
    push_hex_padded(out, n, digits as usize);
}

/// Lowercase hex, exactly `width` digits (low digits of `n`).
fn push_hex_padded(out: &mut Vec<u8>, n: u64, width: usize) {
    for i in (0..width).rev() {
        out.push(HEX[(n >> (4 * i) & 0xf) as usize]);
    }
}

// ------------------------------------------------------------ the generator

/// Ways a line can be broken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fault {
    /// Cut short, as by a crash or a full disk mid-write.
    Truncated,
    /// Binary junk with invalid UTF-8 and a NUL.
    Garbage,
    /// A well-formed line whose date cannot be parsed.
    BadDate,
    Empty,
}

const FAULTS: &[(Fault, u32)] =
    &[(Fault::Truncated, 35), (Fault::Garbage, 20), (Fault::BadDate, 30), (Fault::Empty, 15)];

/// What kind of line a slot became.
enum Outcome {
    Valid,
    Tls,
    Malformed,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Stats {
    lines: u64,
    valid: u64,
    tls: u64,
    malformed: u64,
    bytes: u64,
    /// Earliest and latest timestamp written on a line with a valid date.
    span: Option<(u64, u64)>,
}

impl std::fmt::Display for Stats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} lines ({} valid", self.lines, self.valid)?;
        if self.tls > 0 {
            write!(f, " incl. {} tls", self.tls)?;
        }
        write!(f, ", {} malformed), {} bytes", self.malformed, self.bytes)?;
        match self.span {
            Some((first, last)) => write!(f, ", epochs {first}..{last}"),
            None => write!(f, ", no timestamps"),
        }
    }
}

struct Generator<'a> {
    cfg: &'a Config,
    model: Model,
    traffic: Rng,
    time: Rng,
    faults: Rng,
    fault_mix: Table<Fault>,
    clock: Clock,
    hit: Hit,
    line: Vec<u8>,
    scratch: Vec<u8>,
}

impl<'a> Generator<'a> {
    fn new(cfg: &'a Config) -> Self {
        Generator {
            cfg,
            model: Model::new(cfg.seed),
            traffic: Rng::new(cfg.seed, 1),
            time: Rng::new(cfg.seed, 3),
            faults: Rng::new(cfg.seed, 4),
            fault_mix: Table::new(FAULTS),
            clock: Clock::new(cfg.tz),
            hit: Hit::new(),
            line: Vec::with_capacity(1024),
            scratch: Vec::with_capacity(256),
        }
    }

    /// Builds the line for one request slot at `now` into `self.line`.
    fn line_at(&mut self, now: u64) -> (Outcome, u64) {
        let cfg = self.cfg;
        let mut epoch = now;
        if cfg.jitter > 0 && self.time.chance(cfg.jitter_prob) {
            epoch = now.saturating_sub(self.time.below(cfg.jitter.saturating_add(1)));
        }
        // The request is drawn even when a fault replaces it, so the traffic
        // stream, and every other line, does not depend on the fault options.
        self.model.fill(&mut self.traffic, &mut self.hit);

        let fault = if self.faults.chance(cfg.malformed) { Some(self.fault_mix.pick(&mut self.faults)) } else { None };
        let tls = fault.is_none() && self.faults.chance(cfg.tls);

        self.line.clear();
        let outcome = match fault {
            None if tls => {
                self.tls_line(epoch);
                Outcome::Tls
            }
            None => {
                self.hit_line(epoch);
                Outcome::Valid
            }
            Some(Fault::Empty) => Outcome::Malformed,
            Some(Fault::Garbage) => {
                self.garbage_line();
                Outcome::Malformed
            }
            Some(Fault::Truncated) => {
                self.hit_line(epoch);
                let len = self.line.len() as u64;
                self.line.truncate(self.faults.between(1, len - 1) as usize);
                Outcome::Malformed
            }
            Some(Fault::BadDate) => {
                let date = self.hit_line(epoch);
                self.bad_date(epoch);
                self.line.splice(date, self.scratch.iter().copied());
                Outcome::Malformed
            }
        };
        if matches!(outcome, Outcome::Malformed) || !self.faults.chance(cfg.crlf) {
            self.line.push(b'\n');
        } else {
            self.line.extend_from_slice(b"\r\n");
        }
        (outcome, epoch)
    }

    fn hit_line(&mut self, epoch: u64) -> Range<usize> {
        let hit = &self.hit;
        let fields = Fields {
            addr: hit.addr,
            user: hit.user,
            epoch,
            request: &[hit.method.as_bytes(), &hit.target, hit.proto.as_bytes()],
            status: hit.status,
            size: hit.size,
            referer: &hit.referer,
            ua: hit.ua,
        };
        render(self.cfg.format, &mut self.clock, &fields, &mut self.line)
    }

    /// A TLS ClientHello sent to the plain-HTTP port: nginx logs the bytes it
    /// read as the request, hex-escaped, with status 400.
    fn tls_line(&mut self, epoch: u64) {
        self.scratch.clear();
        self.scratch.extend_from_slice(br"\x16\x03\x01\x02\x00\x01\x00\x01\xFC\x03\x03");
        for _ in 0..self.faults.between(8, 24) {
            let byte = self.faults.below(256);
            self.scratch.extend_from_slice(br"\x");
            self.scratch.push(HEX[(byte >> 4) as usize].to_ascii_uppercase());
            self.scratch.push(HEX[(byte & 0xf) as usize].to_ascii_uppercase());
        }
        let fields = Fields {
            addr: self.hit.addr,
            user: "-",
            epoch,
            request: &[&self.scratch],
            status: 400,
            size: Some(*self.faults.pick(&[157, 166])),
            referer: b"-",
            ua: "-",
        };
        render(self.cfg.format, &mut self.clock, &fields, &mut self.line);
    }

    /// Printable junk with high bytes, plus a guaranteed NUL and 0xFF (never
    /// valid UTF-8); no CR or LF, so it stays one line.
    fn garbage_line(&mut self) {
        let rng = &mut self.faults;
        let len = rng.between(8, 64);
        for _ in 0..len {
            let byte = if rng.below(6) == 0 { 0x80 + rng.below(0x80) } else { 0x20 + rng.below(0x5f) };
            self.line.push(byte as u8);
        }
        let nul = rng.below(len);
        let ff = (nul + 1 + rng.below(len - 1)) % len;
        self.line[nul as usize] = 0;
        self.line[ff as usize] = 0xff;
    }

    /// Fills `scratch` with an unparseable replacement for the date field.
    fn bad_date(&mut self, epoch: u64) {
        let t = civil(epoch, self.cfg.tz);
        let out = &mut self.scratch;
        out.clear();
        let variant = self.faults.below(4);
        if self.cfg.format == Format::Csv {
            match variant {
                // The CLF date where the CSV wants Unix seconds.
                0 => {
                    out.push(b'"');
                    push_clf(out, t, &self.cfg.tz.text);
                    out.push(b'"');
                }
                1 => out.push(b'-'),
                2 => {}
                _ => push_iso(out, t),
            }
        } else {
            match variant {
                // The zone is missing.
                0 => {
                    out.push(b'[');
                    push_clf(out, t, b"");
                    out.pop(); // the space before the zone
                    out.push(b']');
                }
                1 => out.extend_from_slice(b"[32/Foo/2019:25:61:61 +0000]"),
                2 => out.push(b'-'),
                _ => {
                    out.push(b'[');
                    push_iso(out, t);
                    out.push(b']');
                }
            }
        }
    }
}

/// ISO 8601, `2019-02-07T21:11:00Z`: a date other tools accept but these
/// formats do not. The line is malformed on purpose, so the `Z` is not
/// corrected for `--tz`.
fn push_iso(out: &mut Vec<u8>, t: Civil) {
    push_padded(out, t.year.max(0) as u64, 4);
    out.push(b'-');
    push_padded(out, u64::from(t.month), 2);
    out.push(b'-');
    push_padded(out, u64::from(t.day), 2);
    out.push(b'T');
    push_hms(out, t, b':');
    out.push(b'Z');
}

/// Writes the whole log to `out`; returns what was written.
fn generate(cfg: &Config, out: &mut impl Write) -> io::Result<Stats> {
    let mut stats = Stats::default();
    if cfg.length == Length::Size(0) {
        return Ok(stats);
    }
    if cfg.format == Format::Csv {
        out.write_all(CSV_HEADER)?;
        stats.bytes += CSV_HEADER.len() as u64;
    }
    let mut schedule = Schedule {
        base: cfg.rate,
        spikes: cfg.spikes.clone(),
        noise: cfg.noise,
        owed: 0.0,
        rng: Rng::new(cfg.seed, 2),
    };
    let mut generator = Generator::new(cfg);
    let mut sec = 0u64;
    'seconds: loop {
        let size_limit = match cfg.length {
            Length::Duration(secs) if sec >= secs => break,
            Length::Duration(_) => None,
            Length::Size(_) if schedule.exhausted(sec) => break,
            Length::Size(max) => Some(max),
        };
        let now = cfg.start.saturating_add(sec);
        for _ in 0..schedule.count(sec) {
            if size_limit.is_some_and(|max| stats.bytes >= max) {
                break 'seconds;
            }
            let (outcome, epoch) = generator.line_at(now);
            out.write_all(&generator.line)?;
            stats.lines += 1;
            stats.bytes += generator.line.len() as u64;
            match outcome {
                Outcome::Malformed => stats.malformed += 1,
                Outcome::Valid | Outcome::Tls => {
                    stats.valid += 1;
                    stats.tls += u64::from(matches!(outcome, Outcome::Tls));
                    stats.span = Some(match stats.span {
                        None => (epoch, epoch),
                        Some((first, last)) => (first.min(epoch), last.max(epoch)),
                    });
                }
            }
        }
        sec += 1;
    }
    Ok(stats)
}

// -------------------------------------------------------------------- tests
// Examples are not test targets by default; run these with
//   rustc --edition 2024 --test scripts/gen-log.rs -o /tmp/gen-log-test && /tmp/gen-log-test

#[cfg(test)]
mod tests {
    use super::*;

    /// The inverse of `civil_from_days` (Hinnant's days_from_civil).
    fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
        let y = year - i64::from(month <= 2);
        let era = y.div_euclid(400);
        let yoe = y.rem_euclid(400);
        let m = i64::from(month);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    fn args(list: &[&str]) -> Result<Command, String> {
        parse_args(list.iter().map(OsString::from))
    }

    fn config(list: &[&str]) -> Config {
        match args(list) {
            Ok(Command::Run(cfg)) => cfg,
            other => panic!("{list:?}: {other:?}"),
        }
    }

    fn output(list: &[&str]) -> (Vec<u8>, Stats) {
        let mut out = Vec::new();
        let stats = generate(&config(list), &mut out).expect("Vec never fails");
        (out, stats)
    }

    #[test]
    fn civil_dates_round_trip() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(17_934), (2019, 2, 7));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        for days in (-800_000..3_000_000).step_by(7) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn clf_time_honours_the_offset() {
        let mut clock = Clock::new(Tz::UTC);
        assert_eq!(clock.clf(DEFAULT_START), b"07/Feb/2019:21:11:00 +0000");
        let mut clock = Clock::new(Tz::parse("-0700").unwrap());
        assert_eq!(clock.clf(DEFAULT_START), b"07/Feb/2019:14:11:00 -0700");
        let mut clock = Clock::new(Tz::parse("+0530").unwrap());
        assert_eq!(clock.clf(DEFAULT_START), b"08/Feb/2019:02:41:00 +0530");
        assert!(Tz::parse("0700").is_err());
        assert!(Tz::parse("+2400").is_err());
    }

    #[test]
    fn parses_options() {
        let cfg = config(&["--size", "1G", "--duration=5", "--spike", "300+120@60"]);
        assert_eq!(cfg.length, Length::Size(1 << 30));
        assert_eq!(cfg.spikes, [Spike { start: 300, end: 420, rate: 60.0 }]);
        assert_eq!(parse_size("512k"), Ok(512 << 10));
        assert_eq!(parse_size("7"), Ok(7));
        assert!(parse_size("1T").is_err());
        assert!(args(&["--bogus"]).unwrap_err().contains("'--bogus'"));
        assert!(args(&["--rate"]).is_err());
        assert!(args(&["--noise", "2"]).is_err());
        assert!(matches!(args(&["--rate", "1", "-h"]), Ok(Command::Help)));
    }

    #[test]
    fn picker_follows_weights() {
        let picker = Picker::new([1, 0, 3]);
        let counts = picker.slots.iter().fold([0; 3], |mut c, &s| {
            c[usize::from(s)] += 1;
            c
        });
        assert_eq!(counts, [1024, 0, 3072]);
    }

    #[test]
    fn schedule_averages_to_the_rate() {
        let mut schedule = Schedule {
            base: 2.5,
            spikes: vec![Spike { start: 100, end: 200, rate: 40.0 }],
            noise: 1.0,
            owed: 0.0,
            rng: Rng::new(1, 2),
        };
        // The carried debt bounds the error of any window by about one
        // second's noise (|normal| < 3.5 sd), however long the window.
        let total: u64 = (0..100).map(|s| schedule.count(s)).sum();
        assert!((245..=255).contains(&total), "{total}");
        let total: u64 = (100..200).map(|s| schedule.count(s)).sum();
        assert!((3975..=4025).contains(&total), "{total}");
        schedule.noise = 0.0;
        schedule.base = 0.1;
        let total: u64 = (1000..1010).map(|s| schedule.count(s)).sum();
        assert!((0..=2).contains(&total), "{total}");
    }

    #[test]
    fn output_is_deterministic_and_sized() {
        let opts = ["--size", "64K", "--malformed", "0.05", "--tls", "0.01"];
        let (a, stats) = output(&opts);
        let (b, _) = output(&opts);
        assert_eq!(a, b);
        assert_eq!(stats.bytes, a.len() as u64);
        assert!(a.len() >= 64 << 10 && a.len() < (64 << 10) + 2048);
        assert_eq!(stats.lines, a.iter().filter(|&&b| b == b'\n').count() as u64);
        let (c, _) = output(&["--size", "64K", "--seed", "2"]);
        assert_ne!(a, c);
    }

    #[test]
    fn faults_leave_other_lines_alone() {
        let (clean, _) = output(&["--duration", "30"]);
        let (dirty, stats) = output(&["--duration", "30", "--malformed", "0.1"]);
        assert!(stats.malformed > 0);
        let clean: Vec<_> = clean.split(|&b| b == b'\n').collect();
        let dirty: Vec<_> = dirty.split(|&b| b == b'\n').collect();
        assert_eq!(clean.len(), dirty.len());
        let same = clean.iter().zip(&dirty).filter(|(c, d)| c == d).count();
        assert!(same as u64 >= stats.valid, "{same} vs {}", stats.valid);
    }

    #[test]
    fn csv_has_header_and_epoch_dates() {
        let (out, stats) = output(&["--format", "csv", "--duration", "2", "--noise", "0"]);
        let text = String::from_utf8(out).unwrap();
        let mut lines = text.lines();
        assert_eq!(lines.next().unwrap().as_bytes(), &CSV_HEADER[..CSV_HEADER.len() - 1]);
        assert_eq!(stats.lines, 40);
        let first = lines.next().unwrap();
        assert!(first.contains(",1549573860,\""), "{first}");
    }

    #[test]
    fn caddy_lines_are_json_objects() {
        let (out, stats) = output(&["--format", "caddy", "--duration", "2", "--noise", "0", "--tls", "0.5"]);
        let text = String::from_utf8_lossy(&out);
        assert_eq!(stats.lines, 40);
        for line in text.lines() {
            assert!(line.starts_with(r#"{"level":"info","ts":154957386"#) && line.ends_with("}}"), "{line}");
            assert!(line.contains(r#","status":"#) && !line.contains('\n'), "{line}");
        }
        // nginx writes a TLS handshake as `\x16...`; its backslashes are escaped.
        assert!(text.contains(r#""uri":"\\x16"#), "{text}");
    }
}
