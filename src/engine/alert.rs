//! Alerts: the default high-traffic rule over the engine's window, and the
//! `--alert` rules, each a state machine over its own per-second counts.
//! Ids are shared: alerts are numbered in the order they trigger.
//!
//! A hit on time, in an open second, costs each distinct test of the rules
//! (rules that count and match the same hits share one) a test and two
//! additions, into a row of counts for that second; the row goes to the
//! rules' windows when the second closes. Late hits are placed rule by
//! rule, in each one's window.

use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, VecDeque};
use std::fmt;

use super::parse::Record;
use super::rule::{Decimal, Op, Rule, Test, Verdict, fixed};
use super::timestamp::Epoch;
use super::timings::Timings;

/// Alerts kept for the history shown in reports.
pub const HISTORY: usize = 5;

/// Requests per second, in millionths so comparisons are exact: the average
/// `hits / window` is compared as `hits * 1e6 > micros * window`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Threshold {
    micros: u64,
}

impl Threshold {
    pub const fn per_second(n: u64) -> Threshold {
        Threshold { micros: n * 1_000_000 }
    }

    /// Parses a non-negative decimal with up to six fraction digits, below
    /// a billion.
    pub fn parse(s: &str) -> Option<Threshold> {
        fixed(s, 6).filter(|micros| *micros < 1_000_000_000 * 1_000_000).map(|micros| Threshold { micros })
    }

    /// Requests per second, in millionths.
    pub fn micros(self) -> u128 {
        u128::from(self.micros)
    }

    /// How the average of `hits` in `window` seconds compares with it,
    /// exactly: `hits * 1e6` against `micros * window`.
    pub fn compare(self, hits: u64, window: u32) -> Ordering {
        (u128::from(hits) * 1_000_000).cmp(&(u128::from(self.micros) * u128::from(window)))
    }

    /// Whether `hits` in `window` seconds average strictly above it.
    pub fn exceeded_by(self, hits: u64, window: u32) -> bool {
        self.compare(hits, window) == Ordering::Greater
    }
}

impl fmt::Display for Threshold {
    /// Shortest decimal form: `10`, `2.5`, `0.000001`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Decimal(self.micros, 6).fmt(f)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlertState {
    Triggered,
    Recovered,
}

/// A change of alert state at the close of second `at`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlertEvent {
    pub state: AlertState,
    pub id: u64,
    pub at: Epoch,
    /// Hits in the window at `at` (for a rule: the hits it counts).
    pub hits: u64,
    pub window: u32,
    /// The default rule's threshold (for a rule, see [`Fired::rule`]).
    pub threshold: Threshold,
    /// When this alert triggered (equal to `at` for a trigger).
    pub triggered: Epoch,
    /// `None` for the default rule, which keeps the exercise's sentence.
    pub rule: Option<Box<Fired>>,
}

/// What an `--alert` rule saw when it changed state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fired {
    pub rule: Rule,
    /// Of the event's `hits`, those of the class, or beyond the latency limit.
    pub matched: u64,
    /// For a latency rule, the quantile the window measured, in
    /// microseconds: within 1 %, and on the side of the limit the exact
    /// decision says (see [`Timings::quantile`]).
    pub value: Option<u64>,
}

/// One alert of the history: when it triggered and, once over, recovered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AlertRecord {
    pub id: u64,
    pub triggered: Epoch,
    pub recovered: Option<Epoch>,
    /// Hits in the window when it triggered (for a rule: those it counts);
    /// the JSON record's `hits`.
    pub hits: u64,
}

/// An alert in force, and the rule it belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InForce {
    pub alert: AlertRecord,
    /// The `--alert` rule, normalised; `None` for the default rule.
    pub rule: Option<String>,
}

/// One rule's state: the alert in force, and since when its condition has
/// held without a break (for `for`).
#[derive(Debug, Default)]
struct Machine {
    active: Option<AlertRecord>,
    since: Option<Epoch>,
}

/// An `--alert` rule with its own window of per-second counts.
#[derive(Debug)]
struct RuleAlert {
    rule: Rule,
    counts: Counts,
    machine: Machine,
    /// The first second it is evaluated at: for a `<` rule, the first whose
    /// whole window lies at or after the clock's first second.
    from: Epoch,
    /// Its test of a hit: which of [`Alerts::tests`].
    test: usize,
    /// A latency rule's response times: which of [`Alerts::timings`].
    timed_by: Option<usize>,
}

#[derive(Debug)]
pub struct Alerts {
    threshold: Threshold,
    window: u32,
    /// The default rule, `rate > threshold over window`, unless `--alert`
    /// rules replaced it.
    default: Option<Machine>,
    rules: Vec<RuleAlert>,
    /// The rules' tests of a hit, each once.
    tests: Vec<Test>,
    /// The open seconds' hits, counted and matched by each test.
    open: OpenSeconds,
    /// Latency rules' response times over their windows: one set for the
    /// rules of one window and section, with the first of them, whose test
    /// says which hits it counts.
    timings: Vec<(usize, Timings)>,
    /// The latest alerts, the newest last; `recovered` is `None` while one
    /// is active.
    history: VecDeque<AlertRecord>,
    triggered: u64,
    /// Transitions of the second just closed, for [`Alerts::drain`].
    fired: Vec<AlertEvent>,
}

impl Alerts {
    /// `rules` and, if `default`, the default rule.
    pub fn with_rules(threshold: Threshold, window: u32, default: bool, rules: Vec<Rule>) -> Alerts {
        let mut alerts: Vec<RuleAlert> = Vec::with_capacity(rules.len());
        let mut timings: Vec<(usize, Timings)> = Vec::new();
        let mut tests: Vec<Test> = Vec::new();
        for (i, rule) in rules.into_iter().enumerate() {
            let test = rule.test();
            let test = tests.iter().position(|t| *t == test).unwrap_or_else(|| {
                tests.push(test);
                tests.len() - 1
            });
            let timed_by = rule.is_latency().then(|| {
                let same = |&(k, _): &(usize, Timings)| {
                    let kept = &alerts[k].rule;
                    kept.over == rule.over && kept.section == rule.section
                };
                timings.iter().position(same).unwrap_or_else(|| {
                    timings.push((i, Timings::new(rule.over, 0, 0)));
                    timings.len() - 1
                })
            });
            let (counts, machine) = (Counts::new(rule.over, 0), Machine::default());
            alerts.push(RuleAlert { counts, rule, machine, from: 0, test, timed_by });
        }
        let rules = alerts;
        Alerts {
            threshold,
            window,
            default: default.then(Machine::default),
            open: OpenSeconds::new(tests.len(), 0, 0),
            tests,
            rules,
            timings,
            history: VecDeque::with_capacity(HISTORY + 1),
            triggered: 0,
            fired: Vec::new(),
        }
    }

    /// Starts the rules' clocks: `closed` is the last second already
    /// closed, `open` how many after it may still receive hits, `first` the
    /// clock's first second.
    pub fn start(&mut self, first: Epoch, closed: Epoch, open: u32) {
        self.open = OpenSeconds::new(self.tests.len(), open, closed);
        for (k, timings) in &mut self.timings {
            *timings = Timings::new(self.rules[*k].rule.over, open, closed);
        }
        for r in &mut self.rules {
            r.counts = Counts::new(r.rule.over, closed);
            r.from = match r.rule.op {
                Op::Below => first + i64::from(r.rule.over) - 1,
                Op::Above => Epoch::MIN,
            };
        }
    }

    /// The alert in force, the newest if several rules are active.
    pub fn active(&self) -> Option<&AlertRecord> {
        let rules = self.rules.iter().filter_map(|r| r.machine.active.as_ref());
        self.default.iter().filter_map(|m| m.active.as_ref()).chain(rules).max_by_key(|a| a.id)
    }

    /// Every alert in force, oldest first, with its rule.
    pub fn in_force(&self) -> Vec<InForce> {
        let default = self.default.iter().filter_map(|m| m.active).map(|alert| InForce { alert, rule: None });
        let rules = self
            .rules
            .iter()
            .filter_map(|r| r.machine.active.map(|alert| InForce { alert, rule: Some(r.rule.to_string()) }));
        let mut all: Vec<InForce> = default.chain(rules).collect();
        all.sort_unstable_by_key(|a| a.alert.id);
        all
    }

    /// The last [`HISTORY`] alerts, oldest first.
    pub fn history(&self) -> impl ExactSizeIterator<Item = &AlertRecord> {
        self.history.iter()
    }

    /// How many alerts have triggered since the start.
    pub fn triggered(&self) -> u64 {
        self.triggered
    }

    /// Counts a hit stamped `t` for the rules it concerns.
    #[inline]
    pub fn add(&mut self, record: &Record<'_>, t: Epoch) {
        if !self.rules.is_empty() {
            self.add_to_rules(record, t);
        }
    }

    /// Out of line: the default rule alone costs a test a line.
    #[inline(never)]
    fn add_to_rules(&mut self, record: &Record<'_>, t: Epoch) {
        if let Some(row) = self.open.row(t) {
            for (test, pair) in self.tests.iter().zip(row) {
                let (counted, matched) = test.tally(record);
                pair[0] += u64::from(counted);
                pair[1] += u64::from(matched);
            }
        } else {
            self.add_late(record, t);
        }
        if let Some(us) = record.latency_us {
            for (k, timings) in &mut self.timings {
                if self.tests[self.rules[*k].test].tally(record).0 {
                    timings.add(t, us);
                }
            }
        }
    }

    /// A hit of a closed second (or too early): in the windows it is in.
    #[inline(never)]
    fn add_late(&mut self, record: &Record<'_>, t: Epoch) {
        for r in &mut self.rules {
            let (counted, matched) = self.tests[r.test].tally(record);
            if counted {
                r.counts.add_late(t, matched);
            }
        }
    }

    /// Closes second `t`, whose default window holds `hits`, and says
    /// whether any alert changed; [`drain`](Self::drain) hands them over.
    pub fn close(&mut self, t: Epoch, hits: u64) -> bool {
        if let Some(mut machine) = self.default.take() {
            let above = self.threshold.exceeded_by(hits, self.window);
            let verdict = if above { Verdict::True } else { Verdict::False };
            if let Some(event) = self.step(&mut machine, verdict, 0, t, hits) {
                self.fired.push(event);
            }
            self.default = Some(machine);
        }
        for (_, timings) in &mut self.timings {
            timings.close_next();
        }
        let row = self.open.close_next();
        for r in &mut self.rules {
            r.counts.close_next(row[r.test]);
        }
        row.fill([0; 2]);
        for i in 0..self.rules.len() {
            let r = &mut self.rules[i];
            let [counted, matched] = r.counts.sum;
            debug_assert_eq!((r.counts.closed, self.open.closed), (t, t));
            if t < r.from {
                continue;
            }
            let (verdict, hold) = (r.rule.verdict(counted, matched), r.rule.hold);
            let mut machine = std::mem::take(&mut r.machine);
            let event = self.step(&mut machine, verdict, hold, t, counted);
            let r = &mut self.rules[i];
            r.machine = machine;
            if let Some(mut event) = event {
                let value = self.measured(i, event.state);
                let r = &self.rules[i];
                event.window = r.rule.over;
                event.rule = Some(Box::new(Fired { rule: r.rule.clone(), matched, value }));
                self.fired.push(event);
            }
        }
        !self.fired.is_empty()
    }

    /// What rule `i`'s window measured, for an alert that just took `state`:
    /// a latency rule's quantile; the other rules' measures are their
    /// counts.
    fn measured(&self, i: usize, state: AlertState) -> Option<u64> {
        let r = &self.rules[i];
        let (percent, known) = r.rule.quantile_range(state == AlertState::Triggered)?;
        let (_, timings) = &self.timings[r.timed_by?];
        debug_assert!(timings.count() >= r.counts.sum[0], "the decision's hits, and its oldest slice's");
        timings.quantile(percent, known)
    }

    /// The transitions of the last [`close`](Self::close), in id order.
    pub fn drain(&mut self) -> impl Iterator<Item = AlertEvent> + '_ {
        self.fired.drain(..)
    }

    /// The last second that closing can reach without an alert changing,
    /// while the default window's total stays as it is (its rule has no
    /// `for`, so its verdict cannot change then): every rule's window total
    /// must stay too, and no rule be about to fire (its `for` running out)
    /// or to be evaluated for the first time. `None`: close the next second
    /// one by one (as while hits wait in open seconds).
    pub fn steady_until(&self) -> Option<Epoch> {
        if self.open.pending > 0 {
            return None;
        }
        let mut until = Epoch::MAX;
        for r in &self.rules {
            until = until.min(r.counts.steady_until());
            let evaluated = r.counts.closed >= r.from;
            if !evaluated {
                until = until.min(r.from - 1);
            }
            match (r.rule.verdict(r.counts.sum[0], r.counts.sum[1]), &r.machine.active, r.machine.since) {
                (Verdict::True, None, Some(since)) => until = until.min(since + i64::from(r.rule.hold) - 1),
                // Hits counted late changed the verdict since the last close.
                (Verdict::True, None, None) | (Verdict::False, Some(_), _) if evaluated => return None,
                _ => {}
            }
        }
        Some(until)
    }

    /// Closes every second up to `t` at once, `t` no later than
    /// [`steady_until`](Self::steady_until).
    pub fn skip_to(&mut self, t: Epoch) {
        debug_assert_eq!(self.open.pending, 0, "no hit waits");
        self.open.closed = self.open.closed.max(t);
        for (_, timings) in &mut self.timings {
            timings.skip_to(t);
        }
        for r in &mut self.rules {
            r.counts.skip_to(t);
            // As each second's step would have.
            if r.rule.verdict(r.counts.sum[0], r.counts.sum[1]) != Verdict::True {
                r.machine.since = None;
            }
        }
    }

    /// One rule's state machine at the close of second `t`: the condition
    /// must hold from some second `t0` through `t0 + hold` to trigger; it
    /// recovers as soon as it is false. An unknown verdict (too few hits)
    /// changes no alert and breaks the run.
    fn step(&mut self, m: &mut Machine, verdict: Verdict, hold: u32, t: Epoch, hits: u64) -> Option<AlertEvent> {
        let (state, id, triggered) = match (verdict, &mut m.active) {
            (Verdict::True, Some(_)) => return None,
            (Verdict::True, None) => {
                let since = *m.since.get_or_insert(t);
                if t - since < i64::from(hold) {
                    return None;
                }
                self.triggered += 1;
                let record = AlertRecord { id: self.triggered, triggered: t, recovered: None, hits };
                if self.history.len() == HISTORY {
                    self.history.pop_front();
                }
                self.history.push_back(record);
                m.active = Some(record);
                (AlertState::Triggered, record.id, t)
            }
            (Verdict::False, Some(active)) => {
                let (id, triggered) = (active.id, active.triggered);
                m.active = None;
                m.since = None;
                if let Some(past) = self.history.iter_mut().find(|a| a.id == id) {
                    past.recovered = Some(t);
                }
                (AlertState::Recovered, id, triggered)
            }
            (Verdict::False | Verdict::Unknown, _) => {
                m.since = None;
                return None;
            }
        };
        let (window, threshold) = (self.window, self.threshold);
        Some(AlertEvent { state, id, at: t, hits, window, threshold, triggered, rule: None })
    }
}

/// The `(counted, matched)` hits of each open second by each test of the
/// rules, in a row of one pair a test, so that a hit on time is counted
/// for all rules at once; a row goes to the rules' windows when its second
/// closes.
#[derive(Debug)]
struct OpenSeconds {
    /// The row of second `t` is the `tests` pairs from `slot(t) * tests`.
    pairs: Box<[[u64; 2]]>,
    /// Hits of each open second, whether any rule counts them.
    hits: Box<[u64]>,
    tests: usize,
    closed: Epoch,
    open: i64,
    /// Hits waiting in open seconds.
    pending: u64,
}

impl OpenSeconds {
    fn new(tests: usize, open: u32, closed: Epoch) -> OpenSeconds {
        let len = (open.max(1) as usize).next_power_of_two();
        let (pairs, hits) = (vec![[0; 2]; len * tests].into_boxed_slice(), vec![0; len].into_boxed_slice());
        OpenSeconds { pairs, hits, tests, closed, open: i64::from(open), pending: 0 }
    }

    fn slot(&self, t: Epoch) -> usize {
        (t as usize) & (self.hits.len() - 1)
    }

    /// The row of a hit stamped `t`, if its second is open.
    #[inline]
    fn row(&mut self, t: Epoch) -> Option<&mut [[u64; 2]]> {
        if t <= self.closed || t > self.closed + self.open {
            return None;
        }
        let slot = self.slot(t);
        self.hits[slot] += 1;
        self.pending += 1;
        Some(&mut self.pairs[slot * self.tests..][..self.tests])
    }

    /// Closes the next second: its row, for the rules' windows to read and
    /// then to clear.
    fn close_next(&mut self) -> &mut [[u64; 2]] {
        self.closed += 1;
        let slot = self.slot(self.closed);
        self.pending -= std::mem::take(&mut self.hits[slot]);
        &mut self.pairs[slot * self.tests..][..self.tests]
    }
}

/// Per-second `(counted, matched)` hits of one rule over the `span` closed
/// seconds of its window; the same placement as the default window's (see
/// [`super::window`]): a late hit counts while its second is in the window.
/// Hits on time come from [`OpenSeconds`] as their second closes.
#[derive(Debug)]
struct Counts {
    slots: Box<[[u64; 2]]>,
    span: i64,
    closed: Epoch,
    sum: [u64; 2],
    /// The closed seconds in the window that hold hits, each once, the
    /// oldest on top (as the default window's, see [`super::window`]).
    holding: BinaryHeap<Reverse<Epoch>>,
}

impl Counts {
    fn new(span: u32, closed: Epoch) -> Counts {
        // One more than the window, so that the second entering it never
        // shares a slot with the one leaving it.
        let slots = vec![[0; 2]; (span as usize + 1).next_power_of_two()].into_boxed_slice();
        Counts { slots, span: i64::from(span), closed, sum: [0; 2], holding: BinaryHeap::new() }
    }

    fn slot(&self, t: Epoch) -> usize {
        (t as usize) & (self.slots.len() - 1)
    }

    /// A hit of a closed second, counted while the second is in the window.
    fn add_late(&mut self, t: Epoch, matched: bool) {
        if t > self.closed || t <= self.closed - self.span {
            return;
        }
        let slot = self.slot(t);
        self.slots[slot][0] += 1;
        self.slots[slot][1] += u64::from(matched);
        self.sum[0] += 1;
        self.sum[1] += u64::from(matched);
        if self.slots[slot][0] == 1 {
            self.holding.push(Reverse(t));
        }
    }

    /// Closes the next second, which `entering` were counted in.
    fn close_next(&mut self, entering: [u64; 2]) {
        let t = self.closed + 1;
        let slot = self.slot(t);
        debug_assert_eq!(self.slots[slot], [0; 2], "left the window");
        self.slots[slot] = entering;
        if entering[0] > 0 {
            self.holding.push(Reverse(t));
        }
        let leaving = std::mem::take(&mut self.slots[self.slot(t - self.span)]);
        if leaving[0] > 0 {
            debug_assert_eq!(self.holding.peek(), Some(&Reverse(t - self.span)));
            self.holding.pop();
        }
        self.sum[0] = self.sum[0] + entering[0] - leaving[0];
        self.sum[1] = self.sum[1] + entering[1] - leaving[1];
        self.closed = t;
    }

    /// The last second closing can reach without changing the window's
    /// totals, while no hit waits in an open second.
    fn steady_until(&self) -> Epoch {
        self.holding.peek().map_or(Epoch::MAX, |&Reverse(oldest)| oldest + self.span - 1)
    }

    fn skip_to(&mut self, t: Epoch) {
        debug_assert!(t <= self.steady_until());
        self.closed = self.closed.max(t);
    }
}

#[cfg(test)]
impl Alerts {
    /// The default rule alone, for tests.
    pub(crate) fn new(threshold: Threshold, window: u32) -> Alerts {
        Alerts::with_rules(threshold, window, true, Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::histogram::rank;
    use crate::engine::rule::{Measure, Value};
    use crate::engine::testkit::Rng;

    impl Alerts {
        /// The default rule's transition at the close of `t`, if any.
        fn observe(&mut self, t: Epoch, hits: u64) -> Option<AlertEvent> {
            self.close(t, hits);
            let mut events: Vec<AlertEvent> = self.drain().collect();
            assert!(events.len() <= 1);
            events.pop()
        }
    }

    #[test]
    fn threshold_parsing() {
        let p = |s| Threshold::parse(s).map(|t| t.micros);
        assert_eq!(p("10"), Some(10_000_000));
        assert_eq!(p("2.5"), Some(2_500_000));
        assert_eq!(p(".5"), Some(500_000));
        assert_eq!(p("5."), Some(5_000_000));
        assert_eq!(p("0.000001"), Some(1));
        assert_eq!(p("0"), Some(0));
        for bad in ["", ".", "-1", "1e3", "0.0000001", "ten", "1.2.3", " 1", "nan", "inf", "9999999999"] {
            assert_eq!(p(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn threshold_display() {
        for s in ["10", "2.5", "0.000001", "0", "123.45"] {
            assert_eq!(Threshold::parse(s).map(|t| t.to_string()).as_deref(), Some(s));
        }
    }

    #[test]
    fn comparison_is_exact() {
        let t = Threshold::parse("0.1").expect("valid");
        // 12 hits in 120 s average exactly 0.1: not above.
        assert!(!t.exceeded_by(12, 120));
        assert!(t.exceeded_by(13, 120));
        let t = Threshold::parse("0.3").expect("valid");
        assert!(!t.exceeded_by(3, 10));
        assert!(t.exceeded_by(4, 10));
    }

    #[test]
    fn exactly_at_the_threshold_does_not_trigger() {
        let mut a = Alerts::new(Threshold::per_second(10), 120);
        assert_eq!(a.observe(1, 1200), None);
        assert!(a.active().is_none());
        let ev = a.observe(2, 1201).expect("above triggers");
        assert_eq!((ev.state, ev.id, ev.at, ev.hits, ev.triggered), (AlertState::Triggered, 1, 2, 1201, 2));
    }

    #[test]
    fn exactly_at_the_threshold_recovers() {
        let mut a = Alerts::new(Threshold::per_second(10), 120);
        a.observe(1, 1201);
        assert_eq!(a.observe(2, 1300), None, "no second alert while one is active");
        let ev = a.observe(3, 1200).expect("at the threshold recovers");
        assert_eq!((ev.state, ev.id, ev.at, ev.triggered), (AlertState::Recovered, 1, 3, 1));
        assert!(a.active().is_none());
        assert_eq!(a.observe(4, 1200), None);
        let ev = a.observe(5, 1201).expect("a new alert");
        assert_eq!(ev.id, 2);
        assert_eq!(a.triggered(), 2);
    }

    #[test]
    fn history_is_bounded() {
        let mut a = Alerts::new(Threshold::per_second(0), 1);
        for t in 0..20 {
            a.observe(2 * t, 1);
            a.observe(2 * t + 1, 0);
        }
        assert_eq!(a.triggered(), 20);
        let ids: Vec<u64> = a.history().map(|r| r.id).collect();
        assert_eq!(ids, [16, 17, 18, 19, 20]);
        assert!(a.history().all(|r| r.recovered.is_some()));
    }

    #[test]
    fn zero_threshold_triggers_on_any_hit() {
        let mut a = Alerts::new(Threshold::per_second(0), 120);
        assert_eq!(a.observe(1, 0), None);
        assert!(a.observe(2, 1).is_some());
    }

    fn rules(default: bool, texts: &[&str]) -> Alerts {
        let rules = texts.iter().map(|t| Rule::parse(t, 10).expect("valid rule")).collect();
        let mut a = Alerts::with_rules(Threshold::per_second(1), 10, default, rules);
        // The clock starts at second 0; seconds up to -1 are closed.
        a.start(0, -1, 3);
        a
    }

    fn hit(status: u16, section: &'static [u8]) -> Record<'static> {
        Record { status, section: Some(section), ..Record::default() }
    }

    /// Closes seconds `from..to`, feeding `per_second(t)` hits to each
    /// first; the transitions as `(state, id, at, matched)`.
    fn run(
        a: &mut Alerts,
        from: Epoch,
        to: Epoch,
        per_second: impl Fn(Epoch) -> Vec<Record<'static>>,
    ) -> Vec<(AlertState, u64, Epoch, u64)> {
        let mut out = Vec::new();
        for t in from..to {
            for r in per_second(t) {
                a.add(&r, t);
            }
            a.close(t, 0);
            out.extend(a.drain().map(|e| (e.state, e.id, e.at, e.rule.map_or(0, |f| f.matched))));
        }
        out
    }

    #[test]
    fn a_share_exactly_at_the_limit_does_not_trigger() {
        let mut a = rules(false, &["errors > 5% over 10"]);
        // 10 hits a second, one 5xx in each odd second: exactly 5% of a
        // full window, never more while it fills.
        let mix = |t: Epoch| (0..10).map(|i| hit(if i == 0 && t % 2 == 1 { 503 } else { 200 }, b"/a")).collect();
        assert_eq!(run(&mut a, 0, 31, mix), []);
        // One more 5xx tips it over.
        let more = |_| (0..10).map(|i| hit(if i < 2 { 503 } else { 200 }, b"/a")).collect();
        assert_eq!(run(&mut a, 31, 32, more), [(AlertState::Triggered, 1, 31, 6)]);
    }

    #[test]
    fn for_needs_every_second_and_a_dip_resets_it() {
        let mut a = rules(false, &["5xx > 0/s over 1 for 3"]);
        let errors_at = |seconds: &'static [Epoch]| {
            move |t: Epoch| if seconds.contains(&t) { vec![hit(500, b"/a")] } else { vec![] }
        };
        // True at 0..=2 and 4..=8: 0..=2 is too short; 4 + 3 = 7 triggers.
        let events = run(&mut a, 0, 12, errors_at(&[0, 1, 2, 4, 5, 6, 7, 8]));
        assert_eq!(events, [(AlertState::Triggered, 1, 7, 1), (AlertState::Recovered, 1, 9, 0)]);
    }

    #[test]
    fn min_holds_the_state_of_a_thin_window() {
        let mut a = rules(false, &["errors > 50% over 1 min 3"]);
        let n_errors =
            |n: usize, of: usize| move |_| (0..of).map(|i| hit(if i < n { 500 } else { 200 }, b"/a")).collect();
        assert_eq!(run(&mut a, 0, 2, n_errors(2, 2)), [], "two hits are below min");
        assert_eq!(run(&mut a, 2, 3, n_errors(2, 3)), [(AlertState::Triggered, 1, 2, 2)]);
        assert_eq!(run(&mut a, 3, 5, n_errors(0, 2)), [], "too few to recover either");
        assert_eq!(run(&mut a, 5, 6, n_errors(0, 3)), [(AlertState::Recovered, 1, 5, 0)]);
    }

    #[test]
    fn in_counts_only_its_section() {
        let mut a = rules(false, &["rate > 1 over 1 in /api"]);
        let mixed = |_| vec![hit(200, b"/api"), hit(200, b"/img"), hit(200, b"/img")];
        assert_eq!(run(&mut a, 0, 3, mixed), []);
        let busy = |_| vec![hit(200, b"/api"), hit(200, b"/api")];
        assert_eq!(run(&mut a, 3, 4, busy), [(AlertState::Triggered, 1, 3, 2)]);
    }

    #[test]
    fn a_below_rule_waits_for_a_whole_window() {
        let mut a = rules(false, &["rate < 1 over 10"]);
        // Silence from the start: first evaluated at second 9, whose window
        // 0..=9 starts at the clock's first second.
        let events = run(&mut a, 0, 12, |_| vec![]);
        assert_eq!(events, [(AlertState::Triggered, 1, 9, 0)]);
        assert_eq!(a.steady_until(), Some(Epoch::MAX), "silence keeps it active: nothing left to do");
        let events = run(&mut a, 12, 13, |_| (0..11).map(|_| hit(200, b"/a")).collect());
        assert_eq!(events, [(AlertState::Recovered, 1, 12, 11)]);
        assert_ne!(a.steady_until(), Some(Epoch::MAX));
    }

    fn timed(us: u64) -> Record<'static> {
        Record { status: 200, section: Some(b"/a"), latency_us: Some(us), ..Record::default() }
    }

    /// Closes seconds `from..to` as [`run`] does; the transitions as
    /// `(state, id, at, value)`.
    fn values(
        a: &mut Alerts,
        from: Epoch,
        to: Epoch,
        per_second: impl Fn(Epoch) -> Vec<Record<'static>>,
    ) -> Vec<(AlertState, u64, Epoch, Option<u64>)> {
        let mut out = Vec::new();
        for t in from..to {
            for r in per_second(t) {
                a.add(&r, t);
            }
            a.close(t, 0);
            out.extend(a.drain().map(|e| (e.state, e.id, e.at, e.rule.and_then(|f| f.value))));
        }
        out
    }

    #[test]
    fn a_latency_value_is_on_the_side_of_the_limit_the_rule_decided() {
        // 503.001ms and 500ms share a bucket (499,712..503,808 us) whose
        // midpoint, 501.76ms, is on the wrong side of both limits.
        let mut a = rules(false, &["p99 > 503ms over 3 min 1", "max > 500ms over 3 min 1"]);
        let slow = |_| vec![timed(503_001), timed(1_000)];
        assert_eq!(
            values(&mut a, 0, 1, slow),
            [(AlertState::Triggered, 1, 0, Some(503_001)), (AlertState::Triggered, 2, 0, Some(501_760))],
            "just past 503ms shows just past it, not the midpoint; past 500ms, the midpoint"
        );
        // At 500ms exactly: max is at its limit, recovered; p99 too, later.
        let at_limit = |_| vec![timed(500_000)];
        let events = values(&mut a, 1, 4, at_limit);
        assert_eq!(
            events,
            [(AlertState::Recovered, 1, 3, Some(501_760)), (AlertState::Recovered, 2, 3, Some(500_000))]
        );
    }

    #[test]
    fn a_latency_value_is_the_quantile_of_exactly_the_window() {
        let mut a = rules(false, &["p50 > 100ms over 2 min 4", "p90 < 50ms over 2 min 4"]);
        // Each second: 2 hits at 200ms, 2 at 10ms; p50 is rank 4 of 8: 10ms.
        let even = |_| vec![timed(200_000), timed(200_000), timed(10_000), timed(10_000)];
        assert_eq!(values(&mut a, 0, 3, even), []);
        // A second of 4 slow hits: the window 2..=3 holds 6 slow of 8.
        let slow = |_| vec![timed(200_000); 4];
        let near = |got: Option<u64>, want: u64| got.is_some_and(|g| g.abs_diff(want) * 128 <= want);
        let events = values(&mut a, 3, 4, slow);
        assert!(matches!(events[..], [(AlertState::Triggered, 1, 3, v)] if near(v, 200_000)), "{events:?}");
        // Fast seconds: half the window at 20ms brings p50 there, the whole
        // window p90.
        let fast = |_| vec![timed(20_000); 4];
        let events = values(&mut a, 4, 6, fast);
        assert_eq!(events.len(), 2, "{events:?}");
        assert!(matches!(events[0], (AlertState::Recovered, 1, 4, v) if near(v, 20_000)), "{events:?}");
        assert!(matches!(events[1], (AlertState::Triggered, 2, 5, v) if near(v, 20_000)), "{events:?}");
    }

    #[test]
    fn rules_of_one_window_and_section_share_their_times() {
        let a = rules(false, &["p99 > 1s over 10", "max > 2s", "p50 > 1s in /api", "p90 > 1s over 5", "rate > 1"]);
        let timed_by: Vec<Option<usize>> = a.rules.iter().map(|r| r.timed_by).collect();
        assert_eq!(timed_by, [Some(0), Some(0), Some(1), Some(2), None]);
        assert_eq!(a.timings.iter().map(|(k, _)| *k).collect::<Vec<_>>(), [0, 2, 3], "kept by the first");
    }

    #[test]
    fn rules_that_count_the_same_hits_share_their_test() {
        let a =
            rules(false, &["rate > 1", "rate < 1 over 5", "5xx > 1/s", "errors > 5%", "5xx > 1/s in /a", "p99 > 1s"]);
        assert_eq!(a.rules.iter().map(|r| r.test).collect::<Vec<_>>(), [0, 0, 1, 1, 2, 3]);
        assert_eq!((a.tests.len(), a.open.tests), (4, 4));
    }

    #[test]
    fn ids_are_shared_and_increase() {
        let mut a = rules(true, &["5xx > 0/s over 1", "4xx > 0/s over 1"]);
        let events = run(&mut a, 0, 3, |t| match t {
            0 => vec![hit(404, b"/a")],
            1 => vec![hit(503, b"/a"), hit(404, b"/a")],
            _ => vec![],
        });
        assert_eq!(
            events,
            [
                (AlertState::Triggered, 1, 0, 1),
                (AlertState::Triggered, 2, 1, 1),
                (AlertState::Recovered, 2, 2, 0),
                (AlertState::Recovered, 1, 2, 0)
            ]
        );
        // The default rule fires too, from the hits the engine counts.
        a.close(3, 11);
        let e: Vec<AlertEvent> = a.drain().collect();
        assert_eq!((e[0].id, e[0].rule.is_none()), (3, true));
        assert_eq!(a.active().map(|r| r.id), Some(3));
    }

    #[test]
    fn every_alert_in_force_is_told_oldest_first() {
        let mut a = rules(true, &["5xx > 0/s over 1", "4xx > 0/s over 1"]);
        run(&mut a, 0, 1, |_| vec![hit(404, b"/a")]);
        a.add(&hit(404, b"/a"), 1);
        a.close(1, 11);
        a.add(&hit(503, b"/a"), 2);
        a.add(&hit(404, b"/a"), 2);
        a.close(2, 11);
        let told: Vec<(u64, Option<String>)> = a.in_force().into_iter().map(|f| (f.alert.id, f.rule)).collect();
        let rule = |text: &str| Some(text.to_string());
        assert_eq!(told, [(1, rule("4xx > 0/s over 1s")), (2, None), (3, rule("5xx > 0/s over 1s"))]);
        assert_eq!(a.active().map(|r| r.id), Some(3), "the newest");
    }

    #[test]
    fn counts_follow_the_default_windows_placement() {
        // A window of 3 seconds, two open seconds after 99; the rules count
        // every hit and 5xx ones, and `in /a` those of its section.
        let mut a = rules(false, &["5xx > 100/s over 3", "rate > 100 over 3 in /a"]);
        a.start(100, 99, 2);
        let close = |a: &mut Alerts, t| {
            a.close(t, 0);
            (a.rules[0].counts.sum, a.rules[1].counts.sum[0])
        };
        for (t, status, section) in [(100, 500, b"/a"), (100, 503, b"/b"), (101, 200, b"/a"), (102, 500, b"/a")] {
            a.add(&hit(status, section), t);
        }
        assert_eq!((a.open.pending, a.steady_until()), (3, None), "102 is beyond the open seconds");
        assert_eq!(close(&mut a, 100), ([2, 2], 1));
        assert_eq!(close(&mut a, 101), ([3, 2], 2));
        a.add(&hit(200, b"/a"), 100); // late, still in the window
        assert_eq!(close(&mut a, 102), ([4, 2], 3));
        assert_eq!(close(&mut a, 103), ([1, 0], 1), "100 left, and its two hits of /a");
        a.add(&hit(500, b"/a"), 100); // late, outside: ignored
        assert_eq!(close(&mut a, 104), ([0, 0], 0));
        assert_eq!(a.steady_until(), Some(Epoch::MAX), "nothing left to change");
    }

    #[test]
    fn skipping_steady_stretches_changes_no_alert() {
        // The same hits through two sets of rules: one closes every second,
        // the other skips what steady_until allows.
        let texts = [
            "rate > 2 over 30",
            "rate < 1 over 20",
            "errors > 10% over 15 for 5",
            "5xx > 0/s over 10 for 3",
            "p90 > 100ms over 12 min 3",
            // Slices of 2 seconds (see timings.rs).
            "p50 > 100ms over 11m min 3",
        ];
        for seed in 0..40_u64 {
            let mut rng = Rng::seeded(seed);
            let (mut each, mut skipping) = (rules(false, &texts), rules(false, &texts));
            let (mut one_by_one, mut skipped) = (Vec::new(), Vec::new());
            let mut t = 0;
            while t < 3_000 {
                // A burst now and then, late hits too, then quiet.
                if rng.below(4) == 0 {
                    for _ in 0..rng.below(12) {
                        let at = t - rng.below(3) as Epoch;
                        let status = [200, 500, 404][rng.below(3) as usize];
                        let record = Record { latency_us: Some(rng.below(200_000)), ..hit(status, b"/a") };
                        each.add(&record, at);
                        skipping.add(&record, at);
                    }
                }
                let to = t + rng.below(200) as Epoch;
                while t <= to {
                    each.close(t, 0);
                    one_by_one.extend(each.drain().map(|e| (e.state, e.id, e.at, e.rule.and_then(|f| f.value))));
                    t += 1;
                }
                let mut s = skipping.rules[0].counts.closed + 1;
                while s < t {
                    skipping.close(s, 0);
                    skipped.extend(skipping.drain().map(|e| (e.state, e.id, e.at, e.rule.and_then(|f| f.value))));
                    if let Some(until) = skipping.steady_until().map(|u| u.min(t - 1))
                        && until > s
                    {
                        skipping.skip_to(until);
                        s = until;
                    }
                    s += 1;
                }
            }
            assert_eq!(skipped, one_by_one, "seed {seed}");
            assert!(!one_by_one.is_empty());
        }
    }

    /// `(state, id, at, matched)` of an alert event.
    type Transition = (AlertState, u64, Epoch, u64);

    /// What every rule should say, worked out the slow way: each hit kept
    /// with its second, each window summed afresh at every close.
    struct Naive {
        rules: Vec<Rule>,
        /// Per rule: the second, whether matched, and the time of the hits
        /// it counted.
        taken: Vec<Vec<(Epoch, bool, Option<u64>)>>,
        /// Per rule: the active alert's id, and since when the condition held.
        state: Vec<(Option<u64>, Option<Epoch>)>,
        ids: u64,
        closed: Epoch,
    }

    impl Naive {
        /// A hit stamped `t` while seconds up to `closed` are closed and 3
        /// after it open: on time into its second, late while its second is
        /// in the rule's window, too early not at all.
        fn add(&mut self, record: &Record<'_>, t: Epoch) {
            for (rule, taken) in self.rules.iter().zip(&mut self.taken) {
                let (counted, matched) = rule.test().tally(record);
                let in_window = t > self.closed - i64::from(rule.over);
                if counted && t <= self.closed + 3 && in_window {
                    taken.push((t, matched, record.latency_us));
                }
            }
        }

        /// The transitions at the close of `t`, each with the exact quantile
        /// of a latency rule's window.
        fn close(&mut self, t: Epoch) -> Vec<(Transition, Option<u64>)> {
            self.closed = t;
            let mut events = Vec::new();
            for ((rule, taken), (active, since)) in self.rules.iter().zip(&self.taken).zip(&mut self.state) {
                let in_window = |s: Epoch| s <= t && s > t - i64::from(rule.over);
                let window: Vec<_> = taken.iter().filter(|h| in_window(h.0)).collect();
                let (counted, matched) = (window.len() as u64, window.iter().filter(|h| h.1).count() as u64);
                let mut times: Vec<u64> = window.iter().filter_map(|h| h.2).collect();
                times.sort_unstable();
                let exact = match rule.measure {
                    Measure::Latency(percent, _) if counted > 0 => Some(times[rank(percent, counted) as usize - 1]),
                    _ => None,
                };
                // A `<` rule waits for a whole window after second 0.
                if rule.op == Op::Below && t < i64::from(rule.over) - 1 {
                    continue;
                }
                match (rule.verdict(counted, matched), *active) {
                    (Verdict::True, None) => {
                        let t0 = *since.get_or_insert(t);
                        if t - t0 >= i64::from(rule.hold) {
                            self.ids += 1;
                            *active = Some(self.ids);
                            events.push(((AlertState::Triggered, self.ids, t, matched), exact));
                        }
                    }
                    (Verdict::True, Some(_)) => {}
                    (Verdict::False, Some(id)) => {
                        (*active, *since) = (None, None);
                        events.push(((AlertState::Recovered, id, t, matched), exact));
                    }
                    (Verdict::False | Verdict::Unknown, _) => *since = None,
                }
            }
            events
        }
    }

    #[test]
    fn rules_agree_with_windows_summed_afresh() {
        let texts = [
            "rate > 2 over 7",
            "rate < 1 over 5",
            "5xx > 0.5/s over 4 for 2",
            "errors > 20% over 6 min 4",
            "4xx < 30% over 3 min 2 in /a",
            "p90 > 100ms over 5 min 3",
            "p50 < 50ms over 9 min 2 in /b",
            "max > 150ms over 2 for 1 min 1",
        ];
        for seed in 0..30_u64 {
            let mut rng = Rng::seeded(seed);
            let mut fast = rules(false, &texts);
            let parsed: Vec<Rule> = texts.iter().map(|t| Rule::parse(t, 10).expect("valid rule")).collect();
            let n = parsed.len();
            let mut slow =
                Naive { rules: parsed, taken: vec![Vec::new(); n], state: vec![(None, None); n], ids: 0, closed: -1 };
            let (mut got, mut want) = (Vec::new(), Vec::new());
            for t in 0..400 {
                // Bursts and lulls; hits up to 9 seconds late, or up to 4
                // ahead (past the 3 open seconds, they are too early).
                let busy = rng.below(3) != 0;
                for _ in 0..if busy { rng.below(8) } else { 0 } {
                    let at = t - 9 + rng.below(14) as Epoch;
                    let section: &'static [u8] = if rng.below(2) == 0 { b"/a" } else { b"/b" };
                    let status = [200, 200, 404, 500, 503][rng.below(5) as usize];
                    let latency_us = (rng.below(4) != 0).then(|| rng.below(200_000));
                    let record = Record { latency_us, ..hit(status, section) };
                    fast.add(&record, at);
                    slow.add(&record, at);
                }
                fast.close(t, 0);
                got.extend(fast.drain().map(|e| {
                    let Some(fired) = e.rule else { panic!("only rules here") };
                    ((e.state, e.id, e.at, fired.matched), (fired.value, fired.rule))
                }));
                want.extend(slow.close(t));
            }
            let got_transitions: Vec<_> = got.iter().map(|e| e.0).collect();
            let want_transitions: Vec<_> = want.iter().map(|e| e.0).collect();
            assert_eq!(got_transitions, want_transitions, "seed {seed}");
            assert!(want.len() > 20, "seed {seed}: the rules fire: {want:?}");
            // A latency alert's value: within 1/128 of the window's exact
            // quantile, and on the side of the limit the alert says.
            for ((event, (value, rule)), (_, exact)) in got.iter().zip(&want) {
                let (Some(value), Some(exact), Value::Micros(limit)) = (*value, *exact, rule.value()) else {
                    assert!(value.is_none() && exact.is_none(), "seed {seed}: {event:?}");
                    continue;
                };
                assert!(value.abs_diff(exact) * 128 <= exact, "seed {seed}: {event:?}: {value} for {exact}");
                let above = value > limit;
                let side = match (rule.op, event.0) {
                    (Op::Above, AlertState::Triggered) => above,
                    (Op::Above, AlertState::Recovered) => !above,
                    (Op::Below, AlertState::Triggered) => value < limit,
                    (Op::Below, AlertState::Recovered) => value >= limit,
                };
                assert!(side, "seed {seed}: {event:?}: {value} beside {limit}");
            }
        }
    }
}
