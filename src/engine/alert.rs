//! The high-traffic alert: a two-state machine over the window's average.

use std::collections::VecDeque;
use std::fmt;

use super::timestamp::Epoch;

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

    /// Parses a non-negative decimal with up to six fraction digits.
    pub fn parse(s: &str) -> Option<Threshold> {
        let (whole, fraction) = s.split_once('.').unwrap_or((s, ""));
        if whole.is_empty() && fraction.is_empty() || fraction.len() > 6 {
            return None;
        }
        let all_digits = |p: &str| p.bytes().all(|c| c.is_ascii_digit());
        if !all_digits(whole) || !all_digits(fraction) || whole.len() > 9 {
            return None;
        }
        let whole: u64 = if whole.is_empty() { 0 } else { whole.parse().ok()? };
        let mut micros = whole * 1_000_000;
        let mut scale = 100_000;
        for c in fraction.bytes() {
            micros += u64::from(c - b'0') * scale;
            scale /= 10;
        }
        Some(Threshold { micros })
    }

    /// Whether `hits` in `window` seconds average strictly above it.
    pub fn exceeded_by(self, hits: u64, window: u32) -> bool {
        u128::from(hits) * 1_000_000 > u128::from(self.micros) * u128::from(window)
    }
}

impl fmt::Display for Threshold {
    /// Shortest decimal form: `10`, `2.5`, `0.000001`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let whole = self.micros / 1_000_000;
        let fraction = self.micros % 1_000_000;
        if fraction == 0 {
            return write!(f, "{whole}");
        }
        let digits = format!("{fraction:06}");
        write!(f, "{whole}.{}", digits.trim_end_matches('0'))
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
    /// Hits in the window at `at`.
    pub hits: u64,
    pub window: u32,
    pub threshold: Threshold,
    /// When this alert triggered (equal to `at` for a trigger).
    pub triggered: Epoch,
}

/// One alert of the history: when it triggered and, once over, recovered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AlertRecord {
    pub id: u64,
    pub triggered: Epoch,
    pub recovered: Option<Epoch>,
    /// Average req/s in the window when it triggered, in hits per window.
    pub hits: u64,
}

#[derive(Debug)]
pub struct Alerts {
    threshold: Threshold,
    window: u32,
    /// The newest last; its `recovered` is `None` while it is active.
    history: VecDeque<AlertRecord>,
    triggered: u64,
}

impl Alerts {
    pub fn new(threshold: Threshold, window: u32) -> Alerts {
        Alerts { threshold, window, history: VecDeque::with_capacity(HISTORY + 1), triggered: 0 }
    }

    /// The alert in force, if any.
    pub fn active(&self) -> Option<&AlertRecord> {
        self.history.back().filter(|a| a.recovered.is_none())
    }

    /// The last [`HISTORY`] alerts, oldest first.
    pub fn history(&self) -> impl ExactSizeIterator<Item = &AlertRecord> {
        self.history.iter()
    }

    /// How many alerts have triggered since the start.
    pub fn triggered(&self) -> u64 {
        self.triggered
    }

    /// Feeds the window total as of the close of second `t`.
    pub fn observe(&mut self, t: Epoch, hits: u64) -> Option<AlertEvent> {
        let above = self.threshold.exceeded_by(hits, self.window);
        let (state, id, triggered) = match self.history.back_mut() {
            Some(active) if active.recovered.is_none() => {
                if above {
                    return None;
                }
                active.recovered = Some(t);
                (AlertState::Recovered, active.id, active.triggered)
            }
            _ => {
                if !above {
                    return None;
                }
                self.triggered += 1;
                if self.history.len() == HISTORY {
                    self.history.pop_front();
                }
                let id = self.triggered;
                self.history.push_back(AlertRecord { id, triggered: t, recovered: None, hits });
                (AlertState::Triggered, id, t)
            }
        };
        Some(AlertEvent { state, id, at: t, hits, window: self.window, threshold: self.threshold, triggered })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
