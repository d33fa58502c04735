//! The counting contract, on seeded random logs through the engine's public
//! calls: every line counted once, scheduled reports adding up to the
//! summary, and, when every line is on time, alerts equal to a brute-force
//! model of the window. No crate: a small seeded generator.

use std::collections::BTreeMap;
use std::time::Duration;

use logmon::engine::alert::{AlertState, Threshold};
use logmon::engine::stats::{Report, Summary};
use logmon::engine::timestamp::Epoch;
use logmon::engine::{Clock, Config, Engine, Event, MAX_DELAY, Now};

/// 2019-02-07T21:11:00Z.
const T0: Epoch = 1_549_573_860;

/// SplitMix64: small, seeded, good enough to pick cases.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo + 1) as u64) as i64
    }

    /// True `percent` % of the time.
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

fn line(t: Epoch, rng: &mut Rng) -> Vec<u8> {
    let section = ["/api", "/img", "/", "/a/b", "/static"][rng.range(0, 4) as usize];
    let status = [200, 301, 404, 500, 101][rng.range(0, 4) as usize];
    format!(r#""10.0.0.1","-","u",{t},"GET {section}/x HTTP/1.0",{status},{}"#, rng.range(0, 5000)).into_bytes()
}

fn config(rng: &mut Rng, clock: Clock) -> Config {
    Config {
        window: rng.range(1, 300) as u32,
        interval: rng.range(1, 120) as u32,
        max_delay: rng.range(0, i64::from(MAX_DELAY)) as u32,
        threshold: Threshold::per_second(rng.range(0, 20) as u64),
        clock,
        ..Config::default()
    }
}

fn drain(engine: &mut Engine, events: &mut Vec<Event>) {
    events.extend(std::iter::from_fn(|| engine.poll_event()));
    while engine.poll_notice().is_some() {}
}

/// The contract every run keeps, whatever its input.
#[track_caller]
fn check_contract(events: &[Event], fed: u64, what: &str) {
    let Some(Event::Summary(summary)) = events.last() else { panic!("{what}: no summary last") };
    let Summary { lines, hits, malformed, skipped, late, early, .. } = *summary;
    assert_eq!(lines, fed, "{what}: every line read is counted");
    assert_eq!(lines, hits + malformed + skipped, "{what}");
    let scheduled: Vec<&Report> = events
        .iter()
        .filter_map(|e| match e {
            Event::Report(r) if !r.requested => Some(r),
            _ => None,
        })
        .collect();
    let sum = |f: fn(&Report) -> u64| scheduled.iter().map(|r| f(r)).sum::<u64>();
    assert_eq!(sum(|r| r.hits), hits, "{what}: reports add up to the summary");
    assert_eq!(sum(|r| r.malformed), malformed, "{what}");
    assert_eq!(sum(|r| r.late), late, "{what}");
    assert_eq!(sum(|r| r.early), early, "{what}");
    assert!(scheduled.windows(2).all(|w| w[0].end <= w[1].start), "{what}: reports in order, apart");
    assert!(scheduled.iter().all(|r| r.start < r.end), "{what}");
}

#[test]
fn replay_counts_every_line_once_whatever_the_log() {
    for seed in 0..150 {
        let mut rng = Rng(seed);
        let config = config(&mut rng, Clock::Log);
        let what = format!("seed {seed}, {config:?}");
        let mut engine = Engine::new(config);
        let mut events = Vec::new();
        let mut t = T0;
        let n = rng.range(0, 600);
        for _ in 0..n {
            t += match rng.next() % 100 {
                0..=79 => rng.range(0, 2),
                80..=94 => rng.range(3, 400),
                _ => rng.range(400, 3_000_000),
            };
            let bytes = match rng.next() % 100 {
                0..=2 => b"garbage".to_vec(),
                3 => br#""remotehost","rfc931","authuser","date","request","status","bytes""#.to_vec(),
                // Years ahead, or back in time.
                4 => line(t + rng.range(100_000_000, 300_000_000), &mut rng),
                5..=14 => line(t - rng.range(0, 400), &mut rng),
                _ => line(t, &mut rng),
            };
            engine.handle_line(&bytes);
            if rng.chance(2) {
                engine.request_report(None);
            }
            drain(&mut engine, &mut events);
        }
        engine.finish(None);
        drain(&mut engine, &mut events);
        check_contract(&events, n as u64, &what);
    }
}

#[test]
fn live_counts_every_line_once_whatever_the_clock() {
    for seed in 0..100 {
        let mut rng = Rng(1_000 + seed);
        let config = config(&mut rng, Clock::Wall);
        let what = format!("seed {seed}, {config:?}");
        let mut engine = Engine::new(config);
        let mut events = Vec::new();
        let mut now = T0;
        engine.handle_time(now);
        let mut fed = 0;
        for _ in 0..rng.range(0, 300) {
            now += match rng.next() % 100 {
                0..=89 => rng.range(0, 1),
                _ => rng.range(2, 100_000),
            };
            engine.handle_time(now);
            for _ in 0..rng.range(0, 5) {
                let t = match rng.next() % 10 {
                    0 => now - rng.range(0, 5_000),
                    1 => now + rng.range(0, 30),
                    _ => now - rng.range(0, 3),
                };
                let bytes = if rng.chance(3) { b"junk".to_vec() } else { line(t, &mut rng) };
                engine.handle_line(&bytes);
                fed += 1;
            }
            if rng.chance(3) {
                engine.request_report(None);
            }
            drain(&mut engine, &mut events);
        }
        engine.finish(Some(now));
        drain(&mut engine, &mut events);
        check_contract(&events, fed, &what);
    }
}

#[test]
fn live_counts_every_line_once_when_the_wall_clock_is_stepped() {
    for seed in 0..100 {
        let mut rng = Rng(3_000 + seed);
        let config = config(&mut rng, Clock::Wall);
        let what = format!("seed {seed}, {config:?}");
        let mut engine = Engine::new(config);
        let mut events = Vec::new();
        // Milliseconds on both clocks; the realtime one is stepped now and
        // then, back or forward, and lines are stamped by it.
        let (mut monotonic, mut realtime): (u64, i64) = (0, T0 * 1_000);
        let read = |monotonic: u64, realtime: i64| Now {
            monotonic: Duration::from_millis(monotonic),
            realtime: Duration::from_millis(realtime as u64),
        };
        engine.handle_clock(read(monotonic, realtime));
        let mut fed = 0;
        let mut last_report_end = Epoch::MIN;
        for _ in 0..rng.range(0, 300) {
            let tick = rng.range(0, 1_500);
            monotonic += tick as u64;
            realtime += tick;
            if rng.chance(3) {
                realtime += rng.range(-7_200_000, 7_200_000);
            }
            engine.handle_clock(read(monotonic, realtime));
            for _ in 0..rng.range(0, 5) {
                let t = realtime / 1_000 - rng.range(0, 3);
                let bytes = if rng.chance(3) { b"junk".to_vec() } else { line(t, &mut rng) };
                engine.handle_line(&bytes);
                fed += 1;
            }
            let seen = events.len();
            drain(&mut engine, &mut events);
            // Reports keep coming in order, whatever the realtime clock does.
            for e in &events[seen..] {
                if let Event::Report(r) = e
                    && !r.requested
                {
                    assert!(r.end >= last_report_end, "{what}");
                    last_report_end = r.end;
                }
            }
        }
        engine.finish(None);
        drain(&mut engine, &mut events);
        check_contract(&events, fed, &what);
        // Time never stood still: at least the monotonic time passed.
        let Some(Event::Summary(summary)) = events.last() else { panic!("{what}") };
        assert!(summary.time.is_some_and(|t| t > T0 + (monotonic / 1_000) as i64), "{what}");
    }
}

#[test]
fn alerts_equal_a_brute_force_model_when_every_line_is_on_time() {
    for seed in 0..150 {
        let mut rng = Rng(5_000 + seed);
        let config = config(&mut rng, Clock::Log);
        let what = format!("seed {seed}, {config:?}");
        let mut engine = Engine::new(config.clone());
        let mut events = Vec::new();
        // In time order, with gaps up to the window plus the delay (past
        // that, a lone line would be in doubt), and bursts.
        let tolerance = i64::from(config.window) + i64::from(config.max_delay);
        let mut counts: Vec<(Epoch, u64)> = Vec::new();
        let mut t = T0;
        for _ in 0..rng.range(1, 200) {
            t += match rng.next() % 10 {
                0..=5 => 0,
                6..=8 => 1,
                _ => rng.range(2, tolerance),
            };
            let burst = rng.range(1, 12) as u64;
            for _ in 0..burst {
                engine.handle_line(&line(t, &mut rng));
            }
            match counts.last_mut() {
                Some((second, n)) if *second == t => *n += burst,
                _ => counts.push((t, burst)),
            }
            drain(&mut engine, &mut events);
        }
        engine.finish(None);
        drain(&mut engine, &mut events);
        let got: Vec<(AlertState, Epoch, u64)> = events
            .iter()
            .filter_map(|e| match e {
                Event::Alert(a) => Some((a.state, a.at, a.hits)),
                _ => None,
            })
            .collect();
        assert_eq!(got, model(&counts, config.window, config.threshold), "{what}");
        let Some(Event::Summary(summary)) = events.last() else { panic!("{what}: no summary") };
        assert_eq!((summary.late, summary.early), (0, 0), "{what}");
    }
}

/// Every second from the first hit to the last closes in turn; its window
/// is the `window` seconds ending with it.
fn model(counts: &[(Epoch, u64)], window: u32, threshold: Threshold) -> Vec<(AlertState, Epoch, u64)> {
    let (Some(&(first, _)), Some(&(last, _))) = (counts.first(), counts.last()) else { return vec![] };
    let per_second: BTreeMap<Epoch, u64> = counts.iter().copied().collect();
    let mut active = false;
    let mut out = Vec::new();
    for s in first..=last {
        let sum: u64 = per_second.range(s - i64::from(window) + 1..=s).map(|(_, n)| n).sum();
        let above = threshold.exceeded_by(sum, window);
        if above != active {
            active = above;
            out.push((if above { AlertState::Triggered } else { AlertState::Recovered }, s, sum));
        }
    }
    out
}
