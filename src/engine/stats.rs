//! What reports count: a tally per report interval, and the reports and
//! summary handed to the writers.

use super::alert::{AlertRecord, Alerts, InForce};
use super::histogram::{Histogram, Latency};
use super::parse::{LogFormat, Record};
use super::timestamp::Epoch;
use super::topk::{FEW, KeyHits, RunCounts, TRACKED, TopCounts, leading};

/// Once a report's client table is full, one hit in this many is counted.
const CLIENT_SAMPLE: u64 = 16;

/// Picks one hit in [`CLIENT_SAMPLE`] at random, by the top bits of a
/// 64-bit linear congruential generator (Knuth's MMIX constants), which
/// are as good as these picks need and cost a multiply: a fixed stride
/// would follow any rhythm the log has. Every report starts from the same
/// seed, so that a run gives the same estimates every time.
///
/// The generator steps once a hit and picks the hit when its state falls
/// low, so from the same seed every report picks the same hits of its
/// sample: how many it passes over before each of its first picks is
/// counted once, when logmon is compiled ([`GAPS`]), and a hit passed over,
/// the usual case, costs a decrement, not a multiply, a load and a store.
/// Past those picks, the generator steps a hit again, out of line.
#[derive(Debug)]
struct Sample {
    /// Hits to pass over before the next pick, while within [`GAPS`].
    skip: u32,
    /// Picks made, up to as many as [`GAPS`] has gaps.
    picks: u32,
    /// Past [`GAPS`]: the generator's state.
    state: u64,
}

/// One step of the sample's generator.
const fn step(state: u64) -> u64 {
    state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407)
}

/// Whether the generator's state picks the hit that stepped it there.
const fn picked(state: u64) -> bool {
    state < u64::MAX / CLIENT_SAMPLE
}

/// The hits a sample passes over before each of its first 16,384 picks
/// (a report's first 260,000 or so sampled hits), from the seed, and the
/// generator's state at the last of them: 32 KiB, made at compile time.
const GAPS: ([u16; 16_384], u64) = gaps();

const fn gaps() -> ([u16; 16_384], u64) {
    let (mut gaps, mut state, mut i) = ([0; 16_384], 0, 0);
    while i < gaps.len() {
        let mut gap: u64 = 0;
        state = step(state);
        while !picked(state) {
            gap += 1;
            state = step(state);
        }
        assert!(gap <= u16::MAX as u64);
        gaps[i] = gap as u16;
        i += 1;
    }
    (gaps, state)
}

impl Default for Sample {
    fn default() -> Self {
        Sample { skip: u32::from(GAPS.0[0]), picks: 0, state: 0 }
    }
}

impl Sample {
    /// A hit passed over costs one subtraction from `skip` and its borrow:
    /// the borrow, from nothing left to pass over, is the hit that is due.
    #[inline(always)]
    fn pick(&mut self) -> bool {
        let (skip, due) = self.skip.overflowing_sub(1);
        self.skip = skip;
        if !due {
            return false;
        }
        self.pick_due()
    }

    /// A hit with none to pass over: the pick [`GAPS`] said, or, past
    /// them, one step of the generator.
    #[inline(never)]
    fn pick_due(&mut self) -> bool {
        // The subtraction wrapped: none to pass over, unless a gap says so.
        self.skip = 0;
        let made = self.picks as usize;
        if made < GAPS.0.len() {
            self.picks += 1;
            match GAPS.0.get(made + 1) {
                Some(&gap) => self.skip = u32::from(gap),
                None => self.state = GAPS.1,
            }
            return true;
        }
        self.state = step(self.state);
        picked(self.state)
    }
}

/// Hits per status class: `[1xx, 2xx, 3xx, 4xx, 5xx]`.
pub type StatusClasses = [u64; 5];

/// Hits per exact status code, 100 to 599.
#[derive(Debug)]
struct Codes(Box<[u64; 500]>);

impl Default for Codes {
    fn default() -> Self {
        Codes(Box::new([0; 500]))
    }
}

impl Codes {
    #[inline]
    fn add(&mut self, code: u16, n: u64) {
        if let Some(count) = self.0.get_mut(usize::from(code).wrapping_sub(100)) {
            *count += n;
        }
    }

    /// Hits per status class, and the hits of none (`hits` in all): the
    /// log gave the status as `-`. Derived when a report is made, so a hit
    /// costs one count.
    fn classes(&self, hits: u64) -> (StatusClasses, u64) {
        let mut classes = StatusClasses::default();
        for (class, codes) in classes.iter_mut().zip(self.0.chunks(100)) {
            *class = codes.iter().sum();
        }
        (classes, hits.saturating_sub(classes.iter().sum()))
    }

    /// Adds every count to `total`'s and leaves none here, in one pass: a
    /// finished report's codes go to the run's totals so, and its tally is
    /// then recycled with its codes already empty. Every code, zeros too: a
    /// loop without a branch, made of wide loads, adds and stores.
    /// Emptying as it adds, rather than a `fill` after, is for the
    /// instruction count only: glibc's memset writes 4 KB with `rep stosb`,
    /// which callgrind counts an instruction a byte (about 4,000 a report,
    /// 4 a line on a log of a report every thousand lines; 3.8 measured on
    /// benchmid, 774.3 -> 770.5 instructions a line, 4f8cdad). In time it
    /// gains nothing: in a microbenchmark this loop took 106-160 ns, and
    /// adding then filling 73-193 ns, once a report.
    fn drain_into(&mut self, total: &mut Codes) {
        for (total, n) in total.0.iter_mut().zip(self.0.iter_mut()) {
            *total += std::mem::take(n);
        }
    }

    /// No code has a hit: true of a tally once drained, or never counted in.
    fn is_empty(&self) -> bool {
        self.0.iter().all(|&n| n == 0)
    }

    /// The `n` codes with most hits, most first; ties by code.
    fn top(&self, n: usize) -> Vec<CodeHits> {
        let hits = |i: usize| CodeHits { code: 100 + i as u16, hits: self.0[i] };
        if n <= FEW {
            // Codes are scanned in order: of equal counts, the first listed
            // is the lower code.
            return leading(&self.0[..], n, |_, _| true).into_iter().map(hits).collect();
        }
        let mut codes: Vec<CodeHits> = (0..self.0.len()).filter(|&i| self.0[i] > 0).map(hits).collect();
        codes.sort_by(|a, b| b.hits.cmp(&a.hits).then(a.code.cmp(&b.code)));
        codes.truncate(n);
        codes
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CodeHits {
    pub code: u16,
    pub hits: u64,
}

/// Counts for one report interval while it is being built.
#[derive(Debug)]
pub struct Tally {
    pub hits: u64,
    pub late: u64,
    pub early: u64,
    pub malformed: u64,
    /// Summed exactly, so that a hit is an add with carry rather than a
    /// saturating add: at most 2^64 hits of at most 2^64 - 1 bytes each
    /// stay below 2^128. Reports give it saturated to 64 bits (see
    /// [`bytes`](Self::bytes)), which is what saturating each add gave.
    bytes: u128,
    no_section: u64,
    sections: TopCounts,
    codes: Codes,
    clients: TopCounts,
    /// A client found the table full: hits are sampled from then on.
    clients_sampled: bool,
    client_sample: Sample,
    latency: Histogram,
}

/// A tally with full-size tables ([`TRACKED`] entries).
impl Default for Tally {
    fn default() -> Self {
        Tally::tracking(TRACKED)
    }
}

impl Tally {
    /// An empty tally that counts up to `sections` sections exactly, and as
    /// many client addresses.
    /// Each field is made here, once: filling the rest from a default
    /// tally would make two full-size tables only to drop them.
    pub fn tracking(sections: usize) -> Tally {
        Tally {
            hits: 0,
            late: 0,
            early: 0,
            malformed: 0,
            bytes: 0,
            no_section: 0,
            sections: TopCounts::tracking(sections),
            codes: Codes::default(),
            clients: TopCounts::tracking(sections),
            clients_sampled: false,
            client_sample: Sample::default(),
            latency: Histogram::default(),
        }
    }

    /// Inlined into the loop over a batch's lines: the usual hit costs no
    /// call.
    #[inline(always)]
    pub fn add(&mut self, record: &Record<'_>) {
        self.hits += 1;
        self.bytes += u128::from(record.bytes);
        match record.section {
            Some(section) => self.sections.add(section),
            None => self.no_section += 1,
        }
        self.codes.add(record.status, 1);
        self.add_client(record.client);
        if let Some(us) = record.latency_us {
            self.latency.add(us);
        }
    }

    /// Counts a client, exactly while the table has room for every client
    /// of the report (as many as sections). From the first that does not
    /// fit, one hit in [`CLIENT_SAMPLE`] is counted, as that many: a log
    /// where most hits come from a new address (a crawl, a flood, any busy
    /// site) would otherwise pay a table lookup and an eviction a line,
    /// half the time the rest of a line takes, for a list of five. Counts
    /// are then estimates.
    /// An address is cut to [`MAX_SECTION_LEN`] bytes where it is
    /// counted, by the table, not before the pick: most sampled hits are
    /// not, and their address is not even read: only whether there is one.
    ///
    /// [`MAX_SECTION_LEN`]: super::section::MAX_SECTION_LEN
    #[inline(always)]
    fn add_client(&mut self, client: Option<&[u8]>) {
        if !self.clients_sampled {
            if let Some(client) = client {
                self.add_client_exactly(client);
            }
        } else if let Some(client) = client
            && self.client_sample.pick()
        {
            self.clients.add_sample(client, CLIENT_SAMPLE);
        }
    }

    /// [`add_client`](Self::add_client) while the table has room: in line,
    /// as in a log of up to a thousand clients a report it is every line's
    /// case, and a call's register saves cost a quarter of it.
    #[inline(always)]
    fn add_client_exactly(&mut self, client: &[u8]) {
        if !self.clients.add_if_room(client) {
            self.clients_sampled = true;
            if self.client_sample.pick() {
                self.clients.add_sample(client, CLIENT_SAMPLE);
            }
        }
    }

    /// The bytes of the hits, saturated: a hostile log's byte counts must
    /// not overflow.
    fn bytes(&self) -> u64 {
        u64::try_from(self.bytes).unwrap_or(u64::MAX)
    }

    /// Nothing was read for this interval: it belongs in a quiet stretch.
    pub fn is_empty(&self) -> bool {
        self.hits == 0 && self.malformed == 0
    }

    /// Empties the tally, keeping its tables' memory. Its codes are empty
    /// already: a tally is emptied when its report is added to the run's
    /// totals, which takes them (see [`RunTally::take`]), or else has no hit.
    fn clear(&mut self) {
        let Tally {
            hits,
            late,
            early,
            malformed,
            bytes,
            no_section,
            sections,
            codes,
            clients,
            clients_sampled,
            client_sample,
            latency,
        } = self;
        for n in [hits, late, early, malformed, no_section] {
            *n = 0;
        }
        *bytes = 0;
        sections.clear();
        debug_assert!(codes.is_empty(), "a tally's codes are taken before it is emptied");
        clients.clear();
        *clients_sampled = false;
        *client_sample = Sample::default();
        latency.clear();
    }

    pub fn report(&self, start: Epoch, end: Epoch, interval: u32, top: usize, alerts: &Alerts) -> Report {
        let (status, unknown_status) = self.codes.classes(self.hits);
        Report {
            start,
            end,
            partial: off_grid(end, interval),
            requested: false,
            hits: self.hits,
            late: self.late,
            early: self.early,
            malformed: self.malformed,
            bytes: self.bytes(),
            status,
            unknown_status,
            sections: self.sections.top(top),
            sections_approximate: self.sections.approximate(),
            distinct_sections: self.sections.distinct(),
            no_section: self.no_section,
            codes: self.codes.top(top),
            clients: self.clients.top(top),
            clients_approximate: self.clients.approximate(),
            latency: self.latency.latency(),
            alert: alerts.active().copied(),
            active: alerts.in_force(),
            history: alerts.history().copied().collect(),
            alerts: alerts.triggered(),
        }
    }
}

/// The hits of every report so far, summed: the run's totals.
#[derive(Debug, Default)]
pub struct RunTally {
    hits: u64,
    bytes: u64,
    codes: Codes,
    sections: RunCounts,
    clients: RunCounts,
    latency: Histogram,
}

impl RunTally {
    /// Adds a finished report's hits and empties its tally, for the
    /// reports to come. Its status codes are moved, not copied (see
    /// [`Codes::drain_into`]): it is reported before, never after, and
    /// [`Tallies::finish_current`] does both, in that order.
    fn take(&mut self, report: &mut Tally) {
        self.hits += report.hits;
        self.bytes = self.bytes.saturating_add(report.bytes());
        self.sections.merge(&report.sections);
        report.codes.drain_into(&mut self.codes);
        self.clients.merge(&report.clients);
        self.latency.merge(&report.latency);
        report.clear();
    }

    /// What the hits of the whole run were, for the summary.
    pub fn totals(&self, top: usize) -> Totals {
        let (status, unknown_status) = self.codes.classes(self.hits);
        Totals {
            bytes: self.bytes,
            status,
            unknown_status,
            codes: self.codes.top(top),
            sections: self.sections.top(top),
            sections_approximate: self.sections.approximate(),
            clients: self.clients.top(top),
            clients_approximate: self.clients.approximate(),
            latency: self.latency.latency(),
        }
    }
}

/// A finished report interval `[start, end)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    pub start: Epoch,
    pub end: Epoch,
    /// It ends off the interval grid: the last report, or one asked for.
    pub partial: bool,
    /// Asked for (USR1): a look at an interval whose scheduled report is
    /// still to come, and will count the same lines again.
    pub requested: bool,
    /// Every hit counted in this report, late and early ones included.
    pub hits: u64,
    /// Hits whose second had already closed when they arrived.
    pub late: u64,
    /// Hits stamped too far ahead: of the wall clock live, or, in replay,
    /// a lone timestamp far ahead of the log's clock.
    pub early: u64,
    pub malformed: u64,
    pub bytes: u64,
    pub status: StatusClasses,
    /// Hits of no status class: the log gave the status as `-`.
    pub unknown_status: u64,
    /// The sections with most hits, most first.
    pub sections: Vec<KeyHits>,
    /// The section counts are upper bounds (too many distinct sections).
    pub sections_approximate: bool,
    pub distinct_sections: usize,
    /// Hits whose request named no path.
    pub no_section: u64,
    /// The status codes with most hits, most first.
    pub codes: Vec<CodeHits>,
    /// The client addresses with most hits, most first.
    pub clients: Vec<KeyHits>,
    /// The client counts are estimates: more distinct clients than the
    /// report's table holds.
    pub clients_approximate: bool,
    /// Response times, when the format logs them.
    pub latency: Option<Latency>,
    /// The alert in force at the end of the report, the newest if several
    /// are.
    pub alert: Option<AlertRecord>,
    /// Every alert in force at the end of the report, oldest first.
    pub active: Vec<InForce>,
    /// The latest alerts, oldest first.
    pub history: Vec<AlertRecord>,
    /// Alerts triggered since the start.
    pub alerts: u64,
}

impl Report {
    /// A report of a quiet stretch takes in the next quiet interval, up to
    /// `end`.
    pub fn extend_to(&mut self, end: Epoch, interval: u32) {
        self.end = end;
        self.partial = off_grid(end, interval);
    }
}

/// Whether a report ending at `end` ends off the grid of `interval`.
fn off_grid(end: Epoch, interval: u32) -> bool {
    end.rem_euclid(i64::from(interval)) != 0
}

impl Report {
    pub fn seconds(&self) -> i64 {
        self.end - self.start
    }

    /// Hits per second over the report's own length.
    pub fn rate(&self) -> f64 {
        self.hits as f64 / self.seconds().max(1) as f64
    }

    /// 2xx and 3xx.
    pub fn successes(&self) -> u64 {
        self.status[1] + self.status[2]
    }

    /// 4xx and 5xx.
    pub fn errors(&self) -> u64 {
        self.status[3] + self.status[4]
    }

    /// Errors (4xx and 5xx) as a percentage of the hits.
    pub fn error_share(&self) -> f64 {
        100.0 * self.errors() as f64 / self.hits.max(1) as f64
    }
}

/// What the hits of a whole run were.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Totals {
    pub bytes: u64,
    pub status: StatusClasses,
    pub unknown_status: u64,
    pub codes: Vec<CodeHits>,
    pub sections: Vec<KeyHits>,
    pub sections_approximate: bool,
    pub clients: Vec<KeyHits>,
    pub clients_approximate: bool,
    pub latency: Option<Latency>,
}

/// The last word of a run.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    /// The end of the last closed second; `None` if no hit ever came.
    pub time: Option<Epoch>,
    /// Every line read: `hits + malformed + skipped`.
    pub lines: u64,
    pub hits: u64,
    pub malformed: u64,
    pub late: u64,
    pub early: u64,
    /// CSV header lines.
    pub skipped: u64,
    /// Alerts triggered.
    pub alerts: u64,
    /// The alert still in force at the end, the newest if several are.
    pub alert: Option<AlertRecord>,
    /// Every alert still in force at the end, oldest first.
    pub active: Vec<InForce>,
    /// Earliest and latest hit timestamps, as logged.
    pub first: Option<Epoch>,
    pub last: Option<Epoch>,
    pub format: LogFormat,
    /// Bytes, statuses, codes, sections, clients and response times of
    /// every hit counted in a report.
    pub totals: Totals,
}

/// The tallies of the report being built and of the later ones that open
/// seconds already reach into.
#[derive(Debug)]
pub struct Tallies {
    interval: i64,
    /// Report number (`start / interval`) of `open[0]`.
    current: i64,
    /// The open reports' tallies, oldest first. A vector, not a deque:
    /// finding a tally, every hit, is then an index, and taking the oldest
    /// away, once a report, moves the few after it.
    open: Vec<Tally>,
    /// Finished reports' tallies, emptied, for the reports to come.
    spare: Vec<Tally>,
    /// Sections each tally counts exactly: its share of [`SECTION_BUDGET`].
    tracked: usize,
}

/// Section entries that all tallies hold together at most, whatever the
/// options, and as many client entries: at most 178 bytes an entry (a
/// 128-byte key, its count and its stamp, 16 to 32 bytes of slots, a
/// place in the least-counted list), 2.8 MiB each. The default options have
/// 4 tallies at once, each with the full [`TRACKED`]; `--interval 1` with
/// `--max-delay 5m` live has 313, each tracking 52.
pub const SECTION_BUDGET: usize = 16_384;

impl Tallies {
    /// Tallies from the report holding `first_second` on, for a schedule
    /// whose `open` seconds after the last closed one may receive lines.
    pub fn new(interval: u32, first_second: Epoch, open: u32) -> Tallies {
        let tracked = (SECTION_BUDGET / Tallies::most(interval, open)).min(TRACKED);
        let interval = i64::from(interval);
        let current = first_second.div_euclid(interval);
        Tallies { interval, current, open: Vec::new(), spare: Vec::new(), tracked }
    }

    /// How many tallies exist at once, at most: one for each report the
    /// open seconds reach into (the clock and the report of the moment are
    /// among them), and one being handed to a report.
    pub fn most(interval: u32, open: u32) -> usize {
        (open as usize).div_ceil(interval as usize) + 2
    }

    /// A tally for a report that has none yet, recycled when there is one.
    fn fresh(&mut self) -> Tally {
        self.spare.pop().unwrap_or_else(|| Tally::tracking(self.tracked))
    }

    /// The report number holding second `t`.
    pub fn number(&self, t: Epoch) -> i64 {
        t.div_euclid(self.interval)
    }

    /// `[start, end)` of report `number`.
    pub fn bounds(&self, number: i64) -> (Epoch, Epoch) {
        (number * self.interval, (number + 1) * self.interval)
    }

    /// `[start, end)` of the oldest report still open.
    pub fn current_bounds(&self) -> (Epoch, Epoch) {
        self.bounds(self.current)
    }

    pub fn current_number(&self) -> i64 {
        self.current
    }

    /// The tally of report `number`, which must not be before the current one.
    #[cfg(test)]
    fn get(&mut self, number: i64) -> &mut Tally {
        self.at(number * self.interval)
    }

    /// The tally of the report holding second `t`, which must not be before
    /// the current report.
    #[inline]
    pub fn at(&mut self, t: Epoch) -> &mut Tally {
        let k = self.place_of(t);
        &mut self.open[k]
    }

    /// Where the tally of the report holding second `t` is among those
    /// open (made if it is not yet), for [`nth`](Self::nth) until the
    /// current report is finished. Lines almost always fall in the current
    /// report or the next: those two cost no division.
    #[inline]
    pub fn place_of(&mut self, t: Epoch) -> usize {
        let offset = t - self.current * self.interval;
        debug_assert!(offset >= 0);
        let k = match offset {
            o if o < self.interval => 0,
            o if o < 2 * self.interval => 1,
            o => (o / self.interval) as usize,
        };
        while self.open.len() <= k {
            let fresh = self.fresh();
            self.open.push(fresh);
        }
        k
    }

    /// The tally at place `k`, as [`place_of`](Self::place_of) gave it.
    #[inline]
    pub fn nth(&mut self, k: usize) -> &mut Tally {
        &mut self.open[k]
    }

    /// The tally of report `number` as it stands, if it has one yet.
    pub fn peek(&self, number: i64) -> Option<&Tally> {
        let k = usize::try_from(number - self.current).ok()?;
        self.open.get(k)
    }

    /// Hands the current tally to `report`, then adds it to the run's
    /// totals, `run`, and moves on to the next report. Both in one call, in
    /// that order: adding it takes its status codes (see [`RunTally::take`]).
    pub fn finish_current<T>(&mut self, run: &mut RunTally, report: impl FnOnce(&Tally) -> T) -> T {
        // A report nothing reached has no tally: lend it a spare one, which
        // comes back below, so that quiet intervals allocate nothing.
        let mut tally = if self.open.is_empty() { self.fresh() } else { self.open.remove(0) };
        self.current += 1;
        let out = report(&tally);
        run.take(&mut tally);
        self.spare.push(tally);
        out
    }

    /// Lends `f` an empty tally, a spare when there is one, as for the
    /// report of a quiet stretch: that allocates nothing either.
    pub fn lend_empty<T>(&mut self, f: impl FnOnce(&Tally) -> T) -> T {
        let tally = self.fresh();
        let out = f(&tally);
        self.spare.push(tally);
        out
    }

    /// Moves on to report `number` if every report before it is empty, and
    /// says whether it did; otherwise nothing changes.
    pub fn skip_empty_to(&mut self, number: i64) -> bool {
        let before = usize::try_from(number - self.current).unwrap_or(0);
        if self.open.iter().take(before).any(|t| !t.is_empty()) {
            return false;
        }
        let gone = before.min(self.open.len());
        for mut tally in self.open.drain(..gone) {
            tally.clear();
            self.spare.push(tally);
        }
        self.current = self.current.max(number);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::alert::Threshold;
    use crate::engine::parse::UNKNOWN_STATUS;

    fn record(status: u16, bytes: u64, section: Option<&'static [u8]>) -> Record<'static> {
        Record { time: 0, status, bytes, section, ..Record::default() }
    }

    /// The gaps counted at compile time, and the steps past them, pick
    /// the very hits that stepping the generator once a hit, and testing
    /// each state, picks.
    #[test]
    fn samples_pick_the_hits_one_step_a_hit_picks() {
        let (mut state, mut sample) = (0u64, Sample::default());
        let mut picked = 0;
        for hit in 0..400_000 {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            let expected = state < u64::MAX / CLIENT_SAMPLE;
            assert_eq!(sample.pick(), expected, "hit {hit}");
            picked += usize::from(expected);
        }
        assert!(picked > GAPS.0.len() + 1_000, "{picked}");
    }

    #[test]
    fn a_merged_report_leaves_its_codes_to_the_run() {
        let (mut run, mut ts) = (RunTally::default(), Tallies::new(10, 0, 1));
        for (t, status) in [(1, 200), (2, 404), (3, 200), (12, 500)] {
            ts.at(t).add(&record(status, 1, None));
        }
        for _ in 0..2 {
            ts.finish_current(&mut run, |_| ());
        }
        assert_eq!(run.totals(5).codes, [(200, 2), (404, 1), (500, 1)].map(|(code, hits)| CodeHits { code, hits }));
        // The recycled tallies count again from nothing.
        ts.at(25).add(&record(302, 1, None));
        let alerts = Alerts::new(Threshold::per_second(1), 1);
        let report = ts.finish_current(&mut run, |tally| tally.report(20, 30, 10, 5, &alerts));
        assert_eq!(report.codes, [CodeHits { code: 302, hits: 1 }]);
        assert_eq!(report.status, [0, 0, 1, 0, 0]);
    }

    #[test]
    fn top_codes_are_the_most_hit_first_ties_by_code() {
        let mut codes = Codes::default();
        for (code, n) in [(503, 4), (200, 9), (404, 4), (301, 1), (500, 4), (599, 9), (100, 2)] {
            codes.add(code, n);
        }
        let listed = |n: usize| codes.top(n).iter().map(|c| (c.code, c.hits)).collect::<Vec<_>>();
        let all = [(200, 9), (599, 9), (404, 4), (500, 4), (503, 4), (100, 2), (301, 1)];
        for n in [0, 1, 3, 7, FEW, FEW + 1, 500] {
            assert_eq!(listed(n), all[..n.min(all.len())], "top {n}");
        }
    }

    #[test]
    fn a_report_adds_up() {
        let mut t = Tally::default();
        t.add(&record(200, 100, Some(b"/api")));
        t.add(&record(304, 0, Some(b"/api")));
        t.add(&record(404, 10, Some(b"/img")));
        t.add(&record(503, 5, None));
        t.add(&record(101, 0, Some(b"/ws")));
        t.add(&record(UNKNOWN_STATUS, 0, Some(b"/ws")));
        t.malformed += 2;
        let alerts = Alerts::new(Threshold::per_second(10), 120);
        let r = t.report(100, 110, 10, 2, &alerts);
        assert_eq!((r.hits, r.malformed, r.bytes, r.no_section), (6, 2, 115, 1));
        assert_eq!((r.status, r.unknown_status), ([1, 1, 1, 1, 1], 1));
        assert_eq!((r.successes(), r.errors()), (2, 2));
        assert_eq!(r.sections.len(), 2);
        assert_eq!((r.sections[0].key.as_slice(), r.sections[0].hits), (&b"/api"[..], 2));
        assert_eq!(r.distinct_sections, 3);
        assert_eq!(r.rate(), 0.6);
        assert!(!r.partial);
        assert!(t.report(100, 105, 10, 2, &alerts).partial);
    }

    #[test]
    fn clients_are_sampled_past_the_table_and_stay_heavy_first() {
        let mut t = Tally::tracking(TRACKED);
        let heavy = b"192.0.2.1".as_slice();
        for i in 0..4000 {
            let client = format!("10.0.{}.{}", i / 256, i % 256);
            let hit = |client| Record { status: 200, client: Some(client), ..Record::default() };
            t.add(&hit(client.as_bytes()));
            if i % 4 == 0 {
                t.add(&hit(heavy));
            }
        }
        let alerts = Alerts::new(Threshold::per_second(10), 120);
        let r = t.report(0, 10, 10, 3, &alerts);
        assert!(r.clients_approximate);
        assert_eq!(r.clients[0].key, heavy);
        // 1000 hits, estimated from a sample of one in 16.
        assert!((800..=1200).contains(&r.clients[0].hits), "{:?}", r.clients[0]);
        let small = Tally::tracking(TRACKED);
        assert!(!small.report(0, 10, 10, 3, &alerts).clients_approximate);
    }

    #[test]
    fn the_run_finds_a_section_no_report_ranks_high() {
        // 200 reports of 100 sections seen twice each, new every report,
        // and /x once in each: never in a report's top 64 or top 100, it is
        // the run's leader, and its count is over by at most hits / 1025.
        let (mut run, mut report) = (RunTally::default(), Tally::default());
        let names: Vec<Vec<u8>> = (0..20_000).map(|i| format!("/s{i}").into_bytes()).collect();
        for r in 0..200 {
            let hit = |section| Record { status: 200, section: Some(section), ..Record::default() };
            for name in &names[r * 100..(r + 1) * 100] {
                report.add(&hit(name));
                report.add(&hit(name));
            }
            report.add(&hit(b"/x"));
            run.take(&mut report);
        }
        let totals = run.totals(1);
        assert_eq!(totals.sections[0].key, b"/x");
        let over = totals.sections[0].hits - 200;
        assert!(over <= run.hits / (TRACKED as u64 + 1), "{over} over");
        assert!(totals.sections_approximate, "the run's table made room");
    }

    #[test]
    fn clients_are_exact_while_the_table_has_room() {
        let mut t = Tally::tracking(TRACKED);
        for i in 0..TRACKED * 3 {
            let client = format!("10.0.{}.{}", i % TRACKED / 256, i % 256);
            t.add(&Record { status: 200, client: Some(client.as_bytes()), ..Record::default() });
        }
        let alerts = Alerts::new(Threshold::per_second(10), 120);
        let r = t.report(0, 10, 10, 2, &alerts);
        assert!(!r.clients_approximate);
        assert_eq!(r.clients.iter().map(|c| c.hits).collect::<Vec<_>>(), [3, 3]);
        assert_eq!(r.clients[0].key, b"10.0.0.0");
        // One more client does not fit: from now on, counts are estimates.
        t.add(&Record { status: 200, client: Some(b"192.0.2.1"), ..Record::default() });
        for _ in 0..CLIENT_SAMPLE {
            t.add(&Record { status: 200, client: Some(b"192.0.2.1"), ..Record::default() });
        }
        assert!(t.report(0, 10, 10, 2, &alerts).clients_approximate);
    }

    #[test]
    fn byte_counts_saturate() {
        let mut t = Tally::default();
        t.add(&record(200, u64::MAX, None));
        t.add(&record(200, 5, None));
        let r = t.report(0, 10, 10, 5, &Alerts::new(Threshold::per_second(1), 1));
        assert_eq!(r.bytes, u64::MAX);
    }

    #[test]
    fn tallies_follow_report_numbers() {
        let mut ts = Tallies::new(10, 95, 3);
        assert_eq!(ts.current_bounds(), (90, 100));
        ts.get(10).hits += 1;
        ts.get(9).hits += 2;
        assert_eq!(ts.peek(10).map(|t| t.hits), Some(1));
        assert!(ts.peek(8).is_none() && ts.peek(11).is_none());
        let mut run = RunTally::default();
        let hits = ts.finish_current(&mut run, |t| t.hits);
        assert_eq!(hits, 2);
        assert_eq!(ts.current_bounds(), (100, 110));
        assert_eq!(ts.get(10).hits, 1);
        ts.get(12).late += 1;
        assert!(!ts.skip_empty_to(50), "report 12 holds a late line");
        assert_eq!(ts.current_bounds(), (100, 110));
        ts.finish_current(&mut run, |_| ());
        ts.finish_current(&mut run, |_| ());
        ts.finish_current(&mut run, |t| assert_eq!(t.late, 1));
        assert!(ts.skip_empty_to(50));
        assert_eq!(ts.current_bounds(), (500, 510));
        assert_eq!(ts.get(50).hits, 0, "recycled tallies come back empty");
    }

    #[test]
    fn quiet_reports_allocate_nothing() {
        let (mut run, mut ts) = (RunTally::default(), Tallies::new(10, 0, 3));
        ts.get(0).hits += 1;
        for _ in 0..100_000 {
            ts.finish_current(&mut run, |_| ());
        }
        assert_eq!(ts.open.len() + ts.spare.len(), 1, "one tally, lent again and again");
    }

    #[test]
    fn tallies_stay_within_their_bound_and_budget() {
        for (interval, open) in [(1, 1), (1, 311), (3, 7), (10, 3), (10, 13), (60, 311), (86_400, 311)] {
            let most = Tallies::most(interval, open);
            let (mut run, mut ts) = (RunTally::default(), Tallies::new(interval, 0, open));
            assert!(most * ts.tracked <= SECTION_BUDGET, "{interval} {open}");
            // The schedule's use: hits in every open second and the report
            // of the moment, then one second closes.
            let open = i64::from(open);
            for closed in -1..2_000 {
                ts.at(closed + open).hits += 1;
                ts.at(closed + 1).hits += 1;
                if (closed + 2).rem_euclid(i64::from(interval)) == 0 {
                    ts.finish_current(&mut run, |_| ());
                }
                // One fewer than the most: that one is lent while a report
                // is made.
                assert!(ts.open.len() + ts.spare.len() < most, "{interval} {open} at {closed}");
            }
        }
    }
}
