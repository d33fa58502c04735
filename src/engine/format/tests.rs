//! The compiler, per nginx variable and Apache code, and the matcher, by
//! rendering random values through format strings and reading them back.

use super::*;
use crate::engine::parse::UNKNOWN_STATUS;
use crate::engine::testkit::{Rng, variants};

const T0: Epoch = 1_549_573_860; // 2019-02-07T21:11:00Z

const NGINX_COMBINED: &str = r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent""#;
const APACHE_COMBINED: &str = r#"%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i""#;

fn fields(p: &Pattern) -> Vec<Field> {
    p.items.iter().filter_map(|i| if let Item::Field(f) = i { Some(*f) } else { None }).collect()
}

fn hit<'a>(p: &Pattern, line: &'a str) -> Record<'a> {
    p.parse(&mut ClfClock::default(), line.as_bytes()).unwrap_or_else(|e| panic!("{e} for {line:?}"))
}

fn miss(p: &Pattern, line: &str) -> Malformed {
    match p.parse(&mut ClfClock::default(), line.as_bytes()) {
        Err(why) => why,
        Ok(r) => panic!("{r:?} for {line:?}"),
    }
}

/// The field one nginx variable compiles to, between two literals.
fn nginx_field(variable: &str) -> Field {
    let p = nginx::compile(&format!("[$time_local] $status <{variable}>")).expect("compiles");
    fields(&p)[2]
}

fn apache_field(code: &str) -> Field {
    let p = apache::compile(&format!("%t %>s <{code}>")).expect("compiles");
    fields(&p)[2]
}

#[test]
fn nginx_variables() {
    use Field::*;
    for (variable, field) in [
        ("$remote_addr", Client),
        ("$remote_user", Opaque),
        ("$time_local", Time(Stamp::Clf(Zone::Required))),
        ("$time_iso8601", Time(Stamp::Iso8601)),
        ("$msec", Time(Stamp::Unix(Unit::Seconds))),
        ("$request", Request),
        ("$request_method", Method),
        ("$request_uri", Target),
        ("$uri", Target),
        ("$args", Opaque),
        ("$status", Status),
        ("$body_bytes_sent", Bytes),
        ("$bytes_sent", Bytes),
        ("$request_time", Latency(Span::Seconds)),
        ("$upstream_response_time", UpstreamLatency),
        ("$http_referer", Opaque),
        ("$http_user_agent", Opaque),
        ("$http_x_forwarded_for", Opaque),
        ("$host", Host),
        ("$server_name", Host),
        ("${host}", Host),
        ("$made_up_variable", Opaque),
    ] {
        assert_eq!(nginx_field(variable), field, "{variable}");
    }
}

#[test]
fn apache_codes() {
    use Field::*;
    for (code, field) in [
        ("%h", Client),
        ("%a", Client),
        ("%l", Opaque),
        ("%u", Opaque),
        ("%{%d/%b/%Y:%H:%M:%S %z}t", Time(Stamp::Clf(Zone::Optional))),
        ("%{sec}t", Time(Stamp::Unix(Unit::Seconds))),
        ("%{msec}t", Time(Stamp::Unix(Unit::Millis))),
        ("%{end:usec}t", Time(Stamp::Unix(Unit::Micros))),
        ("%{msec_frac}t", Opaque),
        ("%{%Y-%m-%dT%H:%M:%S%z}t", Time(Stamp::Iso8601)),
        ("%r", Request),
        ("%m", Method),
        ("%U", Target),
        ("%q", Opaque),
        ("%H", Opaque),
        ("%>s", Status),
        ("%s", Status),
        ("%b", Bytes),
        ("%B", Bytes),
        ("%O", Bytes),
        ("%I", Opaque),
        ("%D", Latency(Span::Micros)),
        ("%T", Latency(Span::Seconds)),
        ("%{ms}T", Latency(Span::Millis)),
        ("%v", Host),
        ("%V", Host),
        ("%p", Opaque),
        ("%{Referer}i", Opaque),
        ("%{User-Agent}i", Opaque),
        ("%{Host}i", Host),
        ("%{X-Thing}o", Opaque),
        ("%{UNIQUE_ID}e", Opaque),
        ("%!200,304{Referer}i", Opaque),
        ("%^ti", Opaque),
    ] {
        assert_eq!(apache_field(code), field, "{code}");
    }
    // `%t` brings its brackets.
    let p = apache::compile("%h %t %>s").expect("compiles");
    assert_eq!(hit(&p, "h [07/Feb/2019:21:11:00 +0000] 200").time, T0);
}

#[test]
fn bad_format_strings_point_at_the_fault() {
    let nginx = |s: &str| nginx::compile(s).expect_err(s).to_string();
    let apache = |s: &str| apache::compile(s).expect_err(s).to_string();
    assert!(nginx("[$time_local] $status ${host").contains("'${host'"));
    assert!(nginx("[$time_local] $status $ x").contains("'$'"));
    assert!(nginx("[$time_local] $status$body_bytes_sent").contains("'$body_bytes_sent'"));
    assert!(nginx("$remote_addr $status").contains("no time field"));
    assert!(nginx("[$time_local]").contains("no status field"));
    assert!(nginx(r#"'[$time_local] $status"#).contains("unclosed quote"));
    assert!(apache("%t %>s %").contains("'%'"));
    assert!(apache("%t %>s %{Referer").contains("'%{Referer'"));
    assert!(apache("%t %>s%b").contains("'%b'"));
    assert!(apache("%{%s seconds}t %>s").contains("time format"));
}

#[test]
fn quoting_as_in_the_configuration_files() {
    let nginx_conf = r#"'$remote_addr - $remote_user [$time_local] '
        '"$request" $status $body_bytes_sent '
        '"$http_referer" "$http_user_agent"';"#;
    assert_eq!(nginx::compile(nginx_conf), nginx::compile(NGINX_COMBINED));
    let apache_conf = r#""%h %l %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{User-Agent}i\"""#;
    assert_eq!(apache::compile(apache_conf).map(|p| p.items), apache::compile(APACHE_COMBINED).map(|p| p.items));
}

#[test]
fn combined_lines_through_both_dialects() {
    let line = r#"1.2.3.4 - - [07/Feb/2019:22:11:00 +0100] "POST /api/user HTTP/1.1" 503 - "http://ref/x" "curl/8.0 \"x\" 200 y""#;
    for p in [nginx::compile(NGINX_COMBINED), apache::compile(APACHE_COMBINED)] {
        let p = p.expect("compiles");
        let r = hit(&p, line);
        assert_eq!(
            r,
            Record {
                time: T0,
                status: 503,
                bytes: 0,
                section: Some(b"/api"),
                client: Some(b"1.2.3.4"),
                method: Some(b"POST"),
                ..Record::default()
            }
        );
        assert_eq!(miss(&p, &line[..line.len() - 1]), Malformed::NotFormat);
        assert_eq!(miss(&p, &line.replace("[07/Feb", "[31/Feb")), Malformed::BadTimestamp);
        assert_eq!(miss(&p, &line.replace("503", "5O3")), Malformed::NotFormat);
        assert_eq!(miss(&p, &line.replace("503 -", "503 x")), Malformed::BadBytes);
    }
}

#[test]
fn status_dash_latency_host_and_targets() {
    let p = nginx::compile("$host $remote_addr [$time_iso8601] $request_method $uri$is_args$args $status $body_bytes_sent $request_time $upstream_response_time").expect("compiles");
    let r = hit(&p, "example.org ::1 [2019-02-07T21:11:00+00:00] GET /a/b?c=d - 12 0.042 0.040");
    assert_eq!(
        (r.time, r.status, r.bytes, r.section, r.method, r.client),
        (T0, UNKNOWN_STATUS, 12, Some(&b"/a"[..]), Some(&b"GET"[..]), Some(&b"::1"[..]))
    );
    assert_eq!((r.latency_us, r.vhost), (Some(42_000), Some(&b"example.org"[..])));
    // Without a response time of its own, the upstream's serves; `-` is none.
    let p = nginx::compile("$msec $status $upstream_response_time").expect("compiles");
    assert_eq!(hit(&p, "1549573860.123 200 0.5").latency_us, Some(500_000));
    assert_eq!(hit(&p, "1549573860.123 200 -").latency_us, None);
    assert_eq!(hit(&p, "1549573860.123 200 0.5, 0.2").latency_us, None);
    let p = apache::compile(r#"%v:%p %h %t "%r" %>s %O %D"#).expect("compiles");
    let r = hit(&p, r#"www.example.com:443 10.0.0.1 [07/Feb/2019:21:11:00.123 +0000] "GET / HTTP/2.0" 200 512 1234"#);
    assert_eq!(
        (r.time, r.latency_us, r.vhost, r.section),
        (T0, Some(1234), Some(&b"www.example.com"[..]), Some(&b"/"[..]))
    );
}

#[test]
fn durations() {
    assert_eq!(duration_us(b"0.042", Span::Seconds), Some(42_000));
    assert_eq!(duration_us(b"1.0000009", Span::Seconds), Some(1_000_000));
    assert_eq!(duration_us(b"3", Span::Seconds), Some(3_000_000));
    assert_eq!(duration_us(b"12.5", Span::Millis), Some(12_500));
    assert_eq!(duration_us(b"1234", Span::Micros), Some(1234));
    assert_eq!(duration_us(b"1234567", Span::Nanos), Some(1234));
    for bad in ["", "-", ".5", "1.x", "1,5", "99999999999999999999"] {
        assert_eq!(duration_us(bad.as_bytes(), Span::Seconds), None, "{bad}");
    }
}

/// Durations read in one word or eight digits at a time read as one digit
/// at a time, in every unit: random digits, points and other bytes, up to
/// 24 of them; then every span of 0 to 19 digits before a point and 0 to
/// 18 after it (or no point), as is and with one byte made junk.
#[test]
fn durations_as_read_digit_by_digit() {
    fn digits(s: &[u8]) -> Option<u64> {
        if s.is_empty() || s.len() > 19 || !s.iter().all(u8::is_ascii_digit) {
            return None;
        }
        Some(s.iter().fold(0, |n, &c| n * 10 + u64::from(c - b'0')))
    }
    fn slow(value: &[u8], span: Span) -> Option<u64> {
        let (whole, fraction) = match value.iter().position(|&c| c == b'.') {
            Some(dot) => (&value[..dot], &value[dot + 1..]),
            None => (value, &b""[..]),
        };
        let whole = digits(whole)?;
        if !fraction.iter().all(u8::is_ascii_digit) || fraction.len() > 18 {
            return None;
        }
        let (per_unit, places) = match span {
            Span::Seconds => (1_000_000, 6),
            Span::Millis => (1_000, 3),
            Span::Micros => (1, 0),
            Span::Nanos => return Some(whole / 1_000),
        };
        let kept = &fraction[..fraction.len().min(places)];
        let mut part = if kept.is_empty() { 0 } else { digits(kept)? };
        for _ in kept.len()..places {
            part *= 10;
        }
        whole.checked_mul(per_unit)?.checked_add(part)
    }
    // The one-word reading, where it reads, says what the general one says.
    fn agree(value: &[u8], span: Span) {
        let shown = String::from_utf8_lossy(value);
        let general = duration_us(value, span);
        assert_eq!(general, slow(value, span), "{shown:?} {span:?}");
        if let Some(us) = short_duration_us(value, span) {
            assert_eq!(Some(us), general, "{shown:?} {span:?} in one word");
        }
    }
    let mut rng = Rng::seeded(5);
    let alphabet = b"0123456789999.-ex";
    for _ in 0..50_000 {
        let len = rng.below(25) as usize;
        let value: Vec<u8> = (0..len).map(|_| alphabet[rng.below(alphabet.len() as u64) as usize]).collect();
        for span in [Span::Seconds, Span::Millis, Span::Micros, Span::Nanos] {
            agree(&value, span);
        }
    }
    let spans = [Span::Seconds, Span::Millis, Span::Micros, Span::Nanos];
    for whole in 0..=19 {
        for fraction in (0..=18).map(Some).chain([None]) {
            for _ in 0..20 {
                let digit = |rng: &mut Rng| b'0' + rng.below(10) as u8;
                let mut value: Vec<u8> = (0..whole).map(|_| digit(&mut rng)).collect();
                if let Some(fraction) = fraction {
                    value.push(b'.');
                    value.extend((0..fraction).map(|_| digit(&mut rng)));
                }
                let mut junk = value.clone();
                if let Some(at) = (!junk.is_empty()).then(|| rng.below(junk.len() as u64) as usize) {
                    junk[at] = b"-.e x/+\0"[rng.below(8) as usize];
                }
                for value in [&value, &junk] {
                    for span in spans {
                        agree(value, span);
                    }
                }
            }
        }
    }
    for span in spans {
        agree(b"-", span);
    }
    assert_eq!(short_duration_us(b"0.000049", Span::Seconds), Some(49));
    assert_eq!(short_duration_us(b"12.5", Span::Millis), Some(12_500));
}

/// Renders random values through format strings the way the server would
/// and reads each line back: every field logmon keeps comes back.
#[test]
fn rendered_lines_parse_back() {
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let formats = [
        nginx::compile(
            r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_time"#,
        ),
        apache::compile(r#"%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i" %D"#),
    ];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for round in 0..2000 {
        let (year, month, day) = (1970 + rng.below(100), rng.below(12), 1 + rng.below(28));
        let (hour, minute, second) = (rng.below(24), rng.below(60), rng.below(60));
        let stamp = format!("{day:02}/{}/{year}:{hour:02}:{minute:02}:{second:02} +0000", MONTHS[month as usize]);
        let date =
            time::Date::from_calendar_date(year as i32, time::Month::try_from(month as u8 + 1).unwrap(), day as u8)
                .unwrap();
        let expected_time =
            (i64::from(date.to_julian_day()) - 2_440_588) * 86_400 + (hour * 3600 + minute * 60 + second) as i64;
        let client = format!("{}.{}.{}.{}", rng.below(256), rng.below(256), rng.below(256), rng.below(256));
        let user = rng.word(b"abc-", 6);
        let method = rng.word(b"GETPOSDL", 7);
        let section = format!("/{}", rng.word(b"abz09-_.%", 12));
        let path = format!("{section}/{}?q={}", rng.word(b"xy/", 8), rng.word(b"a b\"[]", 6));
        let status = 100 + rng.below(500);
        let bytes = rng.below(1 << 40);
        // Referers and agents may hold quotes, escaped as the servers do.
        let referer = rng.word(b"h:/\\\" 200", 20).replace('\\', "\\\\").replace('"', "\\\"");
        let agent = rng.word(b"Mozilla/5.0 ()\";", 40).replace('"', "\\\"");
        let micros = rng.below(10_000_000);
        let pattern = formats[round % 2].as_ref().expect("compiles");
        let latency = match pattern.dialect() {
            Dialect::Nginx => format!("{}.{:03}", micros / 1_000_000, micros / 1000 % 1000),
            Dialect::Apache => micros.to_string(),
        };
        let line = format!(
            r#"{client} - {user} [{stamp}] "{method} {path} HTTP/1.1" {status} {bytes} "{referer}" "{agent}" {latency}"#
        );
        let r = hit(pattern, &line);
        let expected_latency = match pattern.dialect() {
            Dialect::Nginx => micros / 1000 * 1000,
            Dialect::Apache => micros,
        };
        assert_eq!(r.time, expected_time, "{line}");
        assert_eq!((r.status, r.bytes), (status as u16, bytes), "{line}");
        assert_eq!(r.client, Some(client.as_bytes()), "{line}");
        assert_eq!(r.method, Some(method.as_bytes()), "{line}");
        assert_eq!(r.section, Some(&section.as_bytes()[..section.len().min(section::MAX_SECTION_LEN)]), "{line}");
        assert_eq!(r.latency_us, Some(expected_latency), "{line}");
    }
}

/// The pattern with every shortcut for a usual form turned off, and
/// without its compiled operations: the slow reference.
fn general(p: &Pattern) -> Pattern {
    let mut p = p.clone();
    for step in &mut p.steps {
        step.read = Read::General;
    }
    p.ops = Ops::default();
    p
}

/// The shortcuts that read a usual time, status, byte count or request
/// where its end is found agree with the general path on every prefix and
/// every one-byte change of lines that take them, and on forms beside them.
#[test]
fn shortcuts_agree_with_the_general_path() {
    let formats = [
        nginx::compile(NGINX_COMBINED),
        apache::compile(APACHE_COMBINED),
        // Literals a time, a status or a byte count could start with.
        nginx::compile(
            r#"$remote_addr [$time_local]0 $status0 $body_bytes_sent- "$request" $status 9$body_bytes_sent"#,
        ),
        nginx::compile(r#"$time_local $status $body_bytes_sent $request $status"#),
        apache::compile(r#"%{%d/%b/%Y:%H:%M:%S %z}t| %>s| %b| "%r" %>s| %b"#),
        // The built-ins, with their tolerance.
        preset::ncsa(preset::COMMON).ok_or(CompileError::new("does not compile", preset::COMMON)),
        preset::ncsa(preset::COMBINED).ok_or(CompileError::new("does not compile", preset::COMBINED)),
        // Operations after the head: `parse_into` must not read the head alone.
        apache::compile(r#"%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i" %D"#),
    ];
    let lines: [&[u8]; 19] = [
        br#"1.2.3.4 - - [07/Feb/2019:21:11:00 +0000] "GET /api/user?id=1 HTTP/1.1" 200 1234 "-" "curl/8""#,
        // Clients that end in the head's first window of sixteen bytes
        // (`op::Head::start`), at its last byte, and past it.
        br#"192.168.100.200 - - [07/Feb/2019:21:11:00 +0000] "GET /a HTTP/1.1" 200 5 "-" "x""#,
        br#"192.168.100.2001 - - [07/Feb/2019:21:11:00 +0000] "GET /a HTTP/1.1" 200 5 "-" "x""#,
        br#"1.2.3.4 - - [07/Feb/2019:21:11:00 +0000] "GET /a HTTP/1.1" 200 5 "-" "curl/8" 1234"#,
        br#"Sep 15 10:00:00 web nginx[2869]: 1.2.3.4 - - [07/Feb/2019:21:11:00 +0000] "GET /a HTTP/1.1" 200 5 "-" "x""#,
        br#"h - - [07/Feb/2019:21:11:00 +0000] "GET /a\" 200 1 HTTP/1.1" 404 7 "r\"x" "a \" b" 0.1"#,
        // A user agent whose last quote is escaped, alone or after one that ends it.
        br#"h - - [07/Feb/2019:21:11:00 +0000] "GET /a HTTP/1.1" 200 5 "-" "a \""#,
        br#"h - - [07/Feb/2019:21:11:00 +0000] "GET /a HTTP/1.1" 200 5 "r" "a" "\\\""#,
        br#"h - - [07/Feb/2019:21:11:00 +0000] "GET /a HTTP/1.1" 200 5 "-" "a\" " \""#,
        br#"[2001:db8::1] - - [2019-02-07T21:11:00+00:00] "GET /a HTTP/1.1" 200 5"#,
        br#"h - - [07/Feb/2019:21:11:00 +0000] "GET /a"b/c HTTP/1.1" 404 7 "-" "x " 200 y""#,
        br#"h - - [07/Feb/2019:21:11:00 +0000] "GET /a"b/c HTTP/1.1" 000 12345678901234567890 "-" "-""#,
        // A section that ends at a quote that a status follows.
        br#"h - - [07/Feb/2019:21:11:00 +0000] "GET /a" 200 1 HTTP/1.1" 404 7 "-" "-""#,
        br#"h - - [7/Feb/2019:21:11:00.5 +0000] "GET http://x/y/z HTTP/1.1" - - "-" "-""#,
        br#"h - - [07/Feb/2019:21:11:00 +0000] "-" 408 - "-" "-""#,
        br#"h [07/Feb/2019:21:11:00 +0000]0 2000 5- "GET /a HTTP/1.1" 200 90"#,
        br#"07/Feb/2019:21:11:00 +0000 200 5 GET /a/b HTTP/1.1 200"#,
        br#"07/Feb/2019:21:11:00 +0000| 200| 5| "GET /a HTTP/1.1" 304| 0"#,
        br#"07/Feb/2019:21:11:00 +0000| 099| 5| "OPTIONS * HTTP/1.1" 600| 0"#,
    ];
    let replacements = [b'"', b' ', b'/', b'[', b']', b'|', b'0', b'9', b'-', b'\\', b'\xff'];
    let mut hits = 0;
    for p in formats {
        let p = p.expect("compiles");
        let slow = general(&p);
        assert!(p.steps.iter().any(|s| s.read != Read::General), "{:?}", p.items);
        for line in lines {
            for v in &variants(line, &replacements) {
                let fast = p.parse(&mut ClfClock::default(), v);
                hits += usize::from(fast.is_ok());
                assert_eq!(fast, slow.parse(&mut ClfClock::default(), v), "{:?}", String::from_utf8_lossy(v));
                // The parser's way in, which reads a line that is all the
                // head by the head alone.
                let mut parsed = Parsed::Skip;
                p.parse_into(&mut ClfClock::default(), v, &mut parsed);
                let expected = fast.map_or_else(Parsed::Malformed, Parsed::Hit);
                assert_eq!(parsed, expected, "{:?}", String::from_utf8_lossy(v));
            }
        }
    }
    assert!(hits > 1000, "{hits}");
}

/// The usual NCSA formats are read by the fused head alone (anything may
/// follow the literals it reads as such; see `op::Head::follows_anything`).
#[test]
fn the_ncsa_formats_are_read_by_the_head_alone() {
    let formats = [
        nginx::compile(NGINX_COMBINED).ok(),
        apache::compile(APACHE_COMBINED).ok(),
        preset::ncsa(preset::COMMON),
        preset::ncsa(preset::COMBINED),
    ];
    for p in formats {
        let p = p.expect("compiles");
        assert!(matches!(p.ops, Ops::Head(_)), "{:?}", p.items);
    }
}

/// The head reads the literals it reads whatever follows them only where
/// anything may (`op::Head::follows_anything`), for every preset and every
/// format of these tests that has a head: nothing else checks what follows
/// them.
#[test]
fn the_head_reads_only_literals_anything_may_follow() {
    let strings = [
        (NGINX_COMBINED, true),
        (r#"$remote_addr $remote_user [$time_local] "$request" $status $body_bytes_sent"#, true),
        (LONG_SKIP, true),
        (r#"$remote_addr [$time_local]0 $status0 $body_bytes_sent- "$request" $status 9$body_bytes_sent"#, false),
    ]
    .map(|(s, h)| (nginx::compile(s).ok(), h));
    let apache =
        [APACHE_COMBINED, r#"%h %l %u %t "%r" %>s %b"#, r#"%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i" %D"#]
            .map(|s| (apache::compile(s).ok(), true));
    let ncsa = [preset::ncsa(preset::COMMON), preset::ncsa(preset::COMBINED)].map(|p| (p, true));
    let presets = preset::Preset::ALL.map(|p| (p.compile(), false));
    let mut heads = 0;
    for (p, has_head) in strings.into_iter().chain(apache).chain(ncsa).chain(presets) {
        let p = p.expect("compiles");
        assert!(p.ops.head().is_some() || !has_head, "{:?}", p.items);
        if let Some(&head) = p.ops.head() {
            heads += 1;
            assert!(head.follows_anything(), "{:?}", p.items);
        }
    }
    assert!(heads >= 8, "{heads}");
}

/// A format of eight bytes between the referer and the user agent: no
/// room for the tail's dash before them in a word.
const LONG_SKIP: &str = r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" ab:c "$http_user_agent""#;

/// A format string may put eight bytes between the referer and the user
/// agent, too many for the tail's word of `-` and the literal: the head
/// reads no tail there, and the line is read as the general reading reads
/// it, its last byte of that literal checked too.
#[test]
fn a_long_literal_after_the_referer_reads_no_tail() {
    let p = nginx::compile(LONG_SKIP).expect("compiles");
    let slow = general(&p);
    let start = r#"1.2.3.4 - - [07/Feb/2019:21:11:00 +0000] "GET /a HTTP/1.1" 200 5 "#;
    let cases = [
        (r#""-" ab:c "curl/8""#, true),
        (r#""r" ab:c "curl/8""#, true),
        (r#""-" ab:c xcurl/8""#, false),
        (r#""r" ab:c xcurl/8""#, false),
        (r#""-" ab:cx"curl/8""#, false),
    ];
    for (tail, hit) in cases {
        let line = format!("{start}{tail}");
        let read = p.parse(&mut ClfClock::default(), line.as_bytes());
        assert_eq!(read.is_ok(), hit, "{line}");
        assert_eq!(read, slow.parse(&mut ClfClock::default(), line.as_bytes()), "{line}");
        let mut parsed = Parsed::Skip;
        p.parse_into(&mut ClfClock::default(), line.as_bytes(), &mut parsed);
        assert_eq!(parsed, read.map_or_else(Parsed::Malformed, Parsed::Hit), "{line}");
    }
}

/// Each way the head's tail reads a referer and a user agent, or gives the
/// line up to the general reading, on the nginx string equal to combined
/// and on the built-in (whose user agent more fields may follow): the head
/// reads the line (`true`) or not as it should, and the record is the slow
/// reference's either way.
#[test]
fn the_tail_reads_each_usual_referer_and_gives_up_the_rest() {
    let start = r#"1.2.3.4 - - [07/Feb/2019:21:11:00 +0000] "GET /a HTTP/1.1" 200 5 "#;
    let long = "http://example.com/".to_owned() + &"a/".repeat(40);
    let mut cases = vec![
        // `-` with the literal after it, in one word.
        (r#""-" "curl/8""#.to_owned(), true),
        // The same where fewer than eight bytes are left (read in a word
        // of the line's last bytes).
        (r#""-" """#.to_owned(), true),
        // Any other referer: up to its quote.
        (r#""http://example.com/" "curl/8""#.to_owned(), true),
        (r#""" "curl/8""#.to_owned(), true),
        (r#""-x" "curl/8""#.to_owned(), true),
        // A referer longer than the near search, found beyond it, and
        // given up there as near.
        (format!(r#""{long}" "curl/8""#), true),
        (format!(r#""{long}\" "curl/8""#), false),
        // A user agent with quotes inside, escaped or not: only the
        // line's end is read.
        (r#""-" "a \" b""#.to_owned(), true),
        (r#""r" "a " b""#.to_owned(), true),
        (r#""-" "agent\""#.to_owned(), true),
        // An escaped quote in the referer, or a backslash before its
        // quote: the general reading's to decide.
        (r#""r\"x" "curl/8""#.to_owned(), false),
        (r#""r\" "curl/8""#.to_owned(), false),
        (r#""r\\" "curl/8""#.to_owned(), false),
        // A quote in the referer that the literal does not follow.
        (r#""r"x" "curl/8""#.to_owned(), false),
        // Fewer than eight bytes from the byte before the referer's quote
        // (read in a word of the line's last bytes), the literal after it
        // that is the line's end too, or a line's end that is not the
        // literal.
        (r#""r" """#.to_owned(), true),
        (r#""r" "#.to_owned(), false),
        (r#""-" "curl/8"x"#.to_owned(), false),
        (r#""-" curl/8""#.to_owned(), false),
        // More fields after the user agent (the built-in's to read).
        (r#""-" "curl/8" 0.1"#.to_owned(), false),
    ];
    // The referer's quote at every place of its first 32 bytes (Tail::read)
    // and past them (Tail::far), with a short user agent (a rest under 32
    // bytes: Tail::far from the referer's start) and a long one.
    for len in 2..80 {
        for agent in ["c", "curl/8.4.0 (x86_64-pc-linux-gnu) libcurl/8.4.0"] {
            cases.push((format!(r#""{}" "{agent}""#, "r".repeat(len)), true));
        }
    }
    for p in [nginx::compile(NGINX_COMBINED).ok(), preset::ncsa(preset::COMBINED)] {
        let p = p.expect("compiles");
        let head = *p.ops.head().expect("a head");
        assert!(p.ops.rest().is_empty());
        let slow = general(&p);
        for (tail, read) in &cases {
            let line = format!("{start}{tail}");
            let by_head = head.read(&p.steps, &mut ClfClock::default(), line.as_bytes());
            assert_eq!(by_head.is_some(), *read, "{line}");
            let expected = slow.parse(&mut ClfClock::default(), line.as_bytes());
            if let Some((record, end)) = by_head {
                assert_eq!((Ok(record), end), (expected, line.len()), "{line}");
            }
            assert_eq!(p.parse(&mut ClfClock::default(), line.as_bytes()), expected, "{line}");
        }
    }
}

/// A byte count read in one word with the literal after it and what must
/// follow that (`op::byte_count`): counts of every length up to ten digits
/// and `-`, each with bytes after it that the literal is or is not, and
/// lines that end there, on the built-ins (a space or the line's end after
/// the count) and the nginx string (` "` after it): the head reads the
/// usual ones, and every record is the slow reference's.
#[test]
fn a_byte_count_and_the_literal_after_it_read_as_the_slow_reference_does() {
    let formats = [
        preset::ncsa(preset::COMMON).expect("compiles"),
        preset::ncsa(preset::COMBINED).expect("compiles"),
        nginx::compile(NGINX_COMBINED).expect("compiles"),
    ];
    let start = r#"1.2.3.4 - - [07/Feb/2019:21:11:00 +0000] "GET /a HTTP/1.1" 200 "#;
    let counts = (0..=10).map(|n| "9081726354"[..n].to_owned()).chain(["-".to_owned(), "0".to_owned()]);
    let counts: Vec<String> = counts.collect();
    let ends = [
        "",
        " ",
        "\"",
        " \"",
        "\" ",
        r#" "-" "curl/8""#,
        r#" "-" "curl/8" 0.1"#,
        r#" "https://example.com/" "curl/8""#,
        r#"x "-" "curl/8""#,
        r#"  "-" "curl/8""#,
        r#"""-" "curl/8""#,
        r#" '-" "curl/8""#,
        "\t\"-\" \"curl/8\"",
        "1",
    ];
    for p in &formats {
        let head = *p.ops.head().expect("a head");
        let slow = general(p);
        let mut read = 0;
        for end in ends {
            // Whether the head reads what follows a usual count: it reads
            // every count of the format's there, whatever its length.
            let usual = head.read(&p.steps, &mut ClfClock::default(), format!("{start}9{end}").as_bytes()).is_some();
            for count in &counts {
                let line = format!("{start}{count}{end}");
                let expected = slow.parse(&mut ClfClock::default(), line.as_bytes());
                let by_head = head.read(&p.steps, &mut ClfClock::default(), line.as_bytes());
                assert_eq!(by_head.is_some(), usual && expected.is_ok(), "{line}");
                if let Some((record, _)) = by_head {
                    read += 1;
                    assert_eq!(Ok(record), expected, "{line}");
                }
                assert_eq!(p.parse(&mut ClfClock::default(), line.as_bytes()), expected, "{line}");
            }
        }
        assert!(read >= 2 * 10, "{read}");
    }
}

/// The head's client with the fields after it: `-` each, or all but the
/// last `-` and the last a word (a user's name): on the built-in and the
/// nginx string, the head reads what it should and its record is the slow
/// reference's. Whether a named user is read in one go or field by field
/// is speed only, which this test cannot see (the figures are measured).
#[test]
fn the_client_reads_a_named_user_as_the_slow_reference_does() {
    let formats =
        [preset::ncsa(preset::COMBINED).expect("compiles"), nginx::compile(NGINX_COMBINED).expect("compiles")];
    let end = r#" [07/Feb/2019:21:11:00 +0000] "GET /a HTTP/1.1" 200 5 "-" "curl/8""#;
    // Read by the built-in, and by the nginx string, whose `-` after the
    // client is a literal.
    let cases = [
        ("- -", [true, true]),
        ("- frank", [true, true]),
        ("- -x", [true, true]),
        ("- a-very-long-user-name-of-more-than-sixty-three-bytes-in-all-of-it", [true, true]),
        ("- frank\"", [true, true]),
        ("x frank", [true, false]),
        ("x -", [true, false]),
        ("- fr ank", [false, false]),
        ("-  frank", [false, false]),
    ];
    for (k, p) in formats.iter().enumerate() {
        let head = *p.ops.head().expect("a head");
        let slow = general(p);
        for (fields, reads) in cases {
            let read = reads[k];
            let line = format!("1.2.3.4 {fields}{end}");
            let by_head = head.read(&p.steps, &mut ClfClock::default(), line.as_bytes());
            assert_eq!(by_head.is_some(), read, "{line}");
            let expected = slow.parse(&mut ClfClock::default(), line.as_bytes());
            if let Some((record, _)) = by_head {
                assert_eq!(Ok(record), expected, "{line}");
            }
            assert_eq!(p.parse(&mut ClfClock::default(), line.as_bytes()), expected, "{line}");
        }
    }
}

/// The same for every preset, on its example line: every prefix, and every
/// one-byte change.
#[test]
fn shortcuts_agree_with_the_general_path_on_the_presets() {
    let replacements = [b'"', b' ', b'/', b'[', b']', b':', b'0', b'-', b'\\', b'\xff'];
    for preset in preset::Preset::ALL {
        let p = preset.compile().expect("compiles");
        let slow = general(&p);
        let line = preset.describe().example.as_bytes();
        assert!(p.parse(&mut ClfClock::default(), line).is_ok(), "{preset:?}");
        for v in &variants(line, &replacements) {
            let fast = p.parse(&mut ClfClock::default(), v);
            assert_eq!(fast, slow.parse(&mut ClfClock::default(), v), "{preset:?}: {:?}", String::from_utf8_lossy(v));
            let mut parsed = Parsed::Skip;
            p.parse_into(&mut ClfClock::default(), v, &mut parsed);
            assert_eq!(
                parsed,
                fast.map_or_else(Parsed::Malformed, Parsed::Hit),
                "{preset:?}: {:?}",
                String::from_utf8_lossy(v)
            );
        }
    }
}

/// One rule for where a section ends (`section`): on random targets, the
/// fast path's reading of a quoted request (`op::plain_method_and_section`)
/// gives the section that the general rule (`section::of_request`) gives,
/// wherever it reads the request, and reads every plain one; a target
/// alone (`section::of_target`) has the section of its request.
#[test]
fn the_fast_path_and_the_general_rule_end_a_section_alike() {
    let mut rng = Rng::seeded(5);
    let mut read = 0;
    for _ in 0..20_000 {
        let mut target: Vec<u8> = match rng.below(8) {
            0 => b"http://h".to_vec(),
            1 => Vec::new(),
            _ => b"/".to_vec(),
        };
        let max = if rng.below(8) == 0 { 300 } else { 40 };
        let len = rng.below(max);
        let alphabet = b"/?#a.  \"\\\xff%";
        target.extend((0..len).map(|_| alphabet[rng.below(alphabet.len() as u64) as usize]));
        let method = ["GET", "POST", "OPTIONS", "PROPFIND"][rng.below(4) as usize];
        let request = [method.as_bytes(), b" ", &target, b" HTTP/1.1"].concat();
        // A short rest too (under the usual method's chunk of 21 bytes).
        let after: &[u8] = if rng.below(4) == 0 { b"\"" } else { b"\" 200 5" };
        let quoted = [&request[..], after].concat();
        let general = section::of_request(&request);
        let fast = op::plain_method_and_section(&quoted).filter(|&(_, _, end)| !op::ends_at_quote(&quoted, end));
        if let Some((m, section, _)) = fast {
            assert_eq!((m, Some(section)), (method.as_bytes(), general), "{:?}", String::from_utf8_lossy(&request));
            read += 1;
        }
        // Every request with a path whose section a quote does not cut.
        let plain = target.first() == Some(&b'/') && target[1..].iter().find(|c| b"/?# \"".contains(c)) != Some(&b'"');
        assert_eq!(fast.is_some(), plain, "{:?}", String::from_utf8_lossy(&request));
        if !target.contains(&b' ') {
            assert_eq!(section::of_target(&target), general, "{:?}", String::from_utf8_lossy(&target));
        }
    }
    assert!(read > 5000, "{read}");
}

/// Random combined lines read the same through the nginx format string
/// that spells out combined and through the built-in `combined`, and each
/// reads them as its slow reference (no shortcut, no compiled operation)
/// does.
#[test]
fn the_nginx_string_and_combined_agree() {
    use crate::engine::parse::{LogFormat, Parsed, Parser, Scratch};
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let nginx = nginx::compile(NGINX_COMBINED).expect("compiles");
    let slow_nginx = general(&nginx);
    let slow_combined = general(&preset::ncsa(preset::COMBINED).expect("compiles"));
    let mut clock = ClfClock::default();
    let mut combined = Parser::new(LogFormat::Combined);
    let mut scratch = Scratch::default();
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    for _ in 0..5000 {
        let stamp = format!(
            "{:02}/{}/{}:{:02}:{:02}:{:02} {}{:02}{:02}",
            1 + rng.below(28),
            MONTHS[rng.below(12) as usize],
            1970 + rng.below(100),
            rng.below(24),
            rng.below(60),
            rng.below(61),
            ["+", "-"][rng.below(2) as usize],
            rng.below(15),
            [0, 30, 45][rng.below(3) as usize],
        );
        let client = match rng.below(4) {
            0 => format!("{}.{}.{}.{}", rng.below(256), rng.below(256), rng.below(256), rng.below(256)),
            1 => format!("2001:db8::{:x}", rng.below(65536)),
            2 => "-".to_owned(),
            _ => format!("h{}", rng.word(b"abc-.", 12)),
        };
        let user = rng.word(b"ab-", 4);
        let request = match rng.below(6) {
            0 => "-".to_owned(),
            1 => format!("{} * HTTP/1.1", rng.word(b"OPTINS", 7)),
            2 => format!("GET http://{}/{}", rng.word(b"h.x", 8), rng.word(b"a/b?", 8)),
            3 => format!("{} /{}", rng.word(b"GETPOSgt", 6), rng.word(b"a/b?#\\\" x", 20)),
            4 => format!("{} {}", rng.word(b"GET", 3), rng.word(b"\x16\x03\x01\xa5 ", 10)),
            _ => format!("{} /{} HTTP/1.{}", rng.word(b"GETPOS", 6), rng.word(b"ab/?.%", 30), rng.below(2)),
        };
        // Quotes and backslashes escaped as Apache writes them.
        let escape = |s: String| s.replace('\\', "\\\\").replace('"', "\\\"");
        let request = escape(request);
        let status = match rng.below(10) {
            0 => "-".to_owned(),
            _ => (100 + rng.below(500)).to_string(),
        };
        let bytes = match rng.below(5) {
            0 => "-".to_owned(),
            _ => rng.below(1 << 40).to_string(),
        };
        let referer = escape(rng.word(b"h:/-\\\"", 20));
        let agent = escape(rng.word(b"Mozilla/5.0 ();\"", 60));
        let line = format!(r#"{client} - {user} [{stamp}] "{request}" {status} {bytes} "{referer}" "{agent}""#);
        let by_string = nginx.parse(&mut clock, line.as_bytes());
        assert_eq!(by_string, slow_nginx.parse(&mut ClfClock::default(), line.as_bytes()), "{line}");
        let slowly = slow_combined.parse(&mut ClfClock::default(), line.as_bytes());
        let by_name = match combined.parse(line.as_bytes(), &mut scratch) {
            Parsed::Hit(record) => Ok(record),
            other => Err(other),
        };
        assert_eq!(by_name.as_ref().ok(), slowly.as_ref().ok(), "{line}");
        match (by_string, by_name) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "{line}"),
            (Err(_), Err(_)) => {}
            (a, b) => panic!("{line}: {a:?} by the string, {b:?} by name"),
        }
    }
}

/// Damaged lines never panic the matcher.
#[test]
fn no_input_makes_the_matcher_panic() {
    let p = nginx::compile(NGINX_COMBINED).expect("compiles");
    let line = br#"1.2.3.4 - - [07/Feb/2019:21:11:00 +0000] "GET /a HTTP/1.1" 200 12 "-" "curl/8""#;
    for n in 0..=line.len() {
        let _ = p.parse(&mut ClfClock::default(), &line[..n]);
        for r in [b'"', b' ', b'[', b']', b'\\', b'-', b'\xff'] {
            let mut v = line.to_vec();
            if n < v.len() {
                v[n] = r;
            }
            let _ = p.parse(&mut ClfClock::default(), &v);
        }
    }
}

/// The NCSA built-ins' tolerances, which a user's format string does not
/// have: a prefix before the client, more fields after the last, and
/// reasons that name the field at fault.
#[test]
fn the_built_ins_tolerate_what_a_format_string_does_not() {
    let common = preset::ncsa(preset::COMMON).expect("compiles");
    let combined = preset::ncsa(preset::COMBINED).expect("compiles");
    let nginx = nginx::compile(NGINX_COMBINED).expect("compiles");
    let line = r#"1.2.3.4 - - [07/Feb/2019:21:11:00 +0000] "GET /a HTTP/1.1" 200 5 "-" "curl/8""#;
    let syslog = format!("Sep 15 10:00:00 web nginx[2869]: {line}");
    let more = format!("{line} vhost.example 0.042");
    for p in [&common, &combined] {
        for l in [line, &syslog, &more] {
            let r = hit(p, l);
            assert_eq!((r.time, r.client, r.status, r.bytes), (T0, Some(&b"1.2.3.4"[..]), 200, 5), "{l}");
        }
    }
    for l in [&syslog, &more] {
        assert_eq!(miss(&nginx, l), Malformed::NotFormat, "{l}");
    }
    // Fewer words than fields before the time: the line is still read,
    // without them.
    let r = hit(&common, r#"1.2.3.4 [07/Feb/2019:21:11:00 +0000] "GET /a HTTP/1.1" 200 5"#);
    assert_eq!((r.time, r.client, r.status), (T0, None, 200));
    // Common lines are not combined ones.
    let short = r#"1.2.3.4 - - [07/Feb/2019:21:11:00 +0000] "GET /a HTTP/1.1" 200 5"#;
    assert_eq!(hit(&common, short).status, 200);
    assert!(combined.parse(&mut ClfClock::default(), short.as_bytes()).is_err());
    // Reasons: the field at fault.
    let defect = r#"h - - [07/Feb/2019:21:11:00 +0000] GET / 200 5"#;
    assert_eq!(miss(&common, defect), Malformed::NoRequest);
    assert_eq!(miss(&nginx, defect), Malformed::NotFormat);
}

/// Where the built-in `combined` and the format string that spells it out
/// used to differ, one rule now holds for both.
#[test]
fn one_rule_for_a_dash_client_and_an_escaped_quote() {
    let combined = preset::ncsa(preset::COMBINED).expect("compiles");
    let nginx = nginx::compile(NGINX_COMBINED).expect("compiles");
    for p in [&combined, &nginx] {
        // A client of `-` is none, as every `-` field is.
        let r = hit(p, r#"- - - [07/Feb/2019:21:11:00 +0000] "GET /a HTTP/1.1" 200 5 "-" "-""#);
        assert_eq!((r.client, r.status), (None, 200));
        // A quote escaped with a backslash does not end the request, even
        // when a status follows it...
        let r = hit(p, r#"h - - [07/Feb/2019:21:11:00 +0000] "GET /a\" 200 1 HTTP/1.1" 404 7 "-" "-""#);
        assert_eq!((r.status, r.bytes, r.method), (404, 7, Some(&b"GET"[..])));
        // ...unless no other quote a status follows ends it: a request
        // that ends in a backslash its server did not escape.
        let r = hit(p, r#"h - - [07/Feb/2019:21:11:00 +0000] "GET /a\" 200 5 "-" "-""#);
        assert_eq!((r.status, r.bytes, r.section), (200, 5, Some(&b"/a\\"[..])));
        // The same for a user agent that ends in such a backslash: the
        // line's last quote ends it (it was refused by the built-in alone).
        let r = hit(p, r#"h - - [07/Feb/2019:21:11:00 +0000] "GET /a HTTP/1.1" 200 5 "-" "agent\""#);
        assert_eq!((r.status, r.bytes), (200, 5));
    }
    // Under the built-in, more fields may follow the user agent; its first
    // unescaped quote before them ends it, else its first escaped one.
    let r = hit(&combined, r#"h - - [07/Feb/2019:21:11:00 +0000] "GET /a HTTP/1.1" 200 5 "-" "a\" b" 7"#);
    assert_eq!((r.status, r.bytes), (200, 5));
    let r = hit(&combined, r#"h - - [07/Feb/2019:21:11:00 +0000] "GET /a HTTP/1.1" 200 5 "-" "a\" 7"#);
    assert_eq!((r.status, r.bytes), (200, 5));
    // An escaped quote inside the referer still does not end it: that line
    // does not match.
    let line = r#"h - - [07/Feb/2019:21:11:00 +0000] "GET /a HTTP/1.1" 200 5 "r\" "agent""#;
    assert_eq!(miss(&nginx, line), Malformed::NotFormat);
}

/// A line of many brackets, none of which opens a time, costs each bracket
/// a look of bounded length, not a search of the rest of the line (which
/// took seconds a line of 60 KB). Work is compared rather than timed
/// against a limit, so that a busy machine cannot fail it: ten lines of a
/// tenth of the length take about as long as one long line when the
/// reading is linear, and a tenth as long when it is quadratic.
#[test]
fn many_brackets_are_read_in_linear_time() {
    let common = preset::ncsa(preset::COMMON).expect("compiles");
    let read = |words: usize, times: u32| {
        let line = format!("h - - {}", " [".repeat(words));
        let prefixed = format!("{}[07/Feb/2019:21:11:00 +0000] \"GET / HTTP/1.1\" 200 5", "a ".repeat(words));
        let once = || {
            let started = std::time::Instant::now();
            for _ in 0..times {
                assert_eq!(miss(&common, &line), Malformed::BadTimestamp);
                assert_eq!(hit(&common, &prefixed).status, 200);
            }
            started.elapsed()
        };
        (0..3).map(|_| once()).min().unwrap_or_default()
    };
    let (long, short) = (read(30_000, 1), read(3_000, 10));
    assert!(long < short * 4, "one line of 60 KB took {long:?}, ten of 6 KB {short:?}");
}

/// A prefixed line's time is looked for within `MAX_TIME_LEN` bytes of its
/// bracket, so no time the built-ins accept may be longer.
#[test]
fn no_accepted_time_is_longer_than_the_look_for_one() {
    let mut longest = String::new();
    for digits in 0..=MAX_TIME_LEN {
        let fraction = if digits == 0 { String::new() } else { format!(".{}", "1".repeat(digits)) };
        for zone in ["", "Z", " -0700", " +07:00", "-07:00", "+0700", "+07"] {
            for clock in ["10/Oct/2000:13:55:36", "2000-10-10T13:55:36", "2000-10-10 13:55:36"] {
                let time = format!("{clock}{fraction}{zone}");
                let stamps = [Stamp::Clf(Zone::Optional), Stamp::Clf(Zone::Required), Stamp::Iso8601];
                let reads = stamps.iter().any(|&s| read_time(&mut ClfClock::default(), s, time.as_bytes()).is_ok());
                if reads && time.len() > longest.len() {
                    longest = time;
                }
            }
        }
    }
    // Nanoseconds and an offset: 37 bytes, well within the look.
    assert_eq!((longest.as_str(), longest.len()), ("10/Oct/2000:13:55:36.111111111 +07:00", 37));
    assert!(longest.len() <= MAX_TIME_LEN);
}

/// The status and the literals around it are read in the word from the
/// byte before them (`op::Around`), not only left to the long way, which
/// reads the same: every status of 100 to 599 and none outside, after any
/// byte, and no other literal.
#[test]
fn the_status_is_read_in_the_word_from_the_byte_before_it() {
    let around = op::Around::new(&Literal::new(b"\" "), op::Lit::new(b" ", Follow::Anything)).expect("fits a word");
    let word = |line: &str| u64::from_le_bytes(*line.as_bytes().first_chunk::<8>().expect("eight bytes"));
    for code in 0..1000u16 {
        for before in ['a', '/', '"', '\\'] {
            let line = format!("{before}\" {code:03} 5");
            let expected = (100..=599).contains(&code).then_some((code, 7));
            assert_eq!(around.status(word(&line), 1), expected, "{line}");
            assert_eq!(around.status(word(&line.replace("\" ", "' ")), 1), None, "{line}");
            assert_eq!(around.status(word(&line.replace(" 5", "-5")), 1), None, "{line}");
        }
    }
}
