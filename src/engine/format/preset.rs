//! The presets: log formats of common servers, each a description in the
//! Apache `LogFormat` language compiled by the same compiler as the user's
//! strings, so no preset is a parser of its own; the NCSA built-ins
//! (`common`, `combined`) are described the same way. `%{name}x` marks a
//! field logmon does not read.

use super::{Pattern, Tolerance, apache, json};
use crate::engine::parse::{Malformed, Record};
use crate::engine::timestamp::ClfClock;

/// A server's log format that logmon knows by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Preset {
    VhostCombined,
    Traefik,
    Alb,
    Elb,
    Haproxy,
    Envoy,
    S3,
    Squid,
}

/// How a preset is written, and what it looks like.
pub struct Description {
    pub name: &'static str,
    /// In `auto`'s message: `log format: <server>`.
    pub server: &'static str,
    pub format: &'static str,
    /// A line of the format, from its documentation or a public test suite.
    pub example: &'static str,
    /// Fields padded with spaces (Squid aligns its columns).
    pub padded: bool,
    /// A syslog prefix (`Feb  6 12:14:14 host haproxy[14389]: `) may come first.
    pub syslog: bool,
}

impl Preset {
    /// In the order `auto` tries them: the most particular first.
    pub const ALL: [Preset; 8] = [
        Preset::Alb,
        Preset::Elb,
        Preset::S3,
        Preset::Haproxy,
        Preset::Envoy,
        Preset::Squid,
        Preset::Traefik,
        Preset::VhostCombined,
    ];

    pub fn by_name(name: &str) -> Option<Preset> {
        Preset::ALL.into_iter().find(|p| p.describe().name == name)
    }

    pub fn describe(self) -> &'static Description {
        match self {
            Preset::VhostCombined => &VHOST_COMBINED,
            Preset::Traefik => &TRAEFIK,
            Preset::Alb => &ALB,
            Preset::Elb => &ELB,
            Preset::Haproxy => &HAPROXY,
            Preset::Envoy => &ENVOY,
            Preset::S3 => &S3,
            Preset::Squid => &SQUID,
        }
    }

    /// The preset's matcher. The descriptions are tested to compile.
    pub fn compile(self) -> Option<Pattern> {
        let d = self.describe();
        let mut pattern = apache::compile(d.format).ok()?;
        if d.padded {
            pattern.pad();
        }
        Some(pattern)
    }
}

const VHOST_COMBINED: Description = Description {
    name: "vhost_combined",
    server: "Apache vhost_combined",
    format: r#"%v:%p %h %l %u %t "%r" %>s %O "%{Referer}i" "%{User-Agent}i""#,
    example: r#"www.example.com:443 192.0.2.1 - - [10/Oct/2000:13:55:36 -0700] "GET /a.gif HTTP/1.1" 200 2326 "-" "curl/8.0""#,
    padded: false,
    syslog: false,
};

const TRAEFIK: Description = Description {
    name: "traefik",
    server: "Traefik CLF",
    format: r#"%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i" %{requests}x "%{router}x" "%{server}x" %{ms}Tms"#,
    example: r#"172.17.0.1 - - [08/Dec/2021:09:16:05 +0000] "GET /upload.asp?test=toto HTTP/1.1" 200 405 "-" "-" 502 "test@docker" "http://172.17.0.3:80" 0ms"#,
    padded: false,
    syslog: false,
};

const ALB: Description = Description {
    name: "alb",
    server: "AWS ALB",
    format: r#"%{type}x %{%Y-%m-%dT%H:%M:%S}t %{elb}x %h:%{port}x %{target}x %{request_processing}x %T %{response_processing}x %>s %{target_status}x %I %b "%r" "%{User-Agent}i" %{cipher}x %{protocol}x %{target_group}x "%{trace}x" "%v" %{rest}x"#,
    example: r#"https 2023-04-26T12:23:00.186641Z app/my-alb/490d68edf04676fe 192.168.1.11:44740 10.0.0.1:80 0.086 0.048 0.037 200 200 0 57 "GET https://www.example.com:443/robots.txt HTTP/1.1" "curl/7.46.0" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "Root=1-58337281-1d84f3d73c47ec4e58577259" "www.example.com" "arn:aws:acm:us-east-2:123456789012:certificate/12345678-1234-1234-1234-123456789012" 1 2018-07-02T22:22:48.364000Z "authenticate,forward" "-" "-" "10.0.0.1:80" "200" "-" "-""#,
    padded: false,
    syslog: false,
};

const ELB: Description = Description {
    name: "elb",
    server: "AWS classic ELB",
    format: r#"%{%Y-%m-%dT%H:%M:%S}t %{elb}x %h:%{port}x %{backend}x %{request_processing}x %T %{response_processing}x %>s %{backend_status}x %I %b "%r" "%{User-Agent}i" %{cipher}x %{protocol}x"#,
    example: r#"2015-05-13T23:39:43.945958Z my-loadbalancer 192.168.131.39:2817 10.0.0.1:80 0.000086 0.001048 0.001337 200 200 0 57 "GET https://www.example.com:443/ HTTP/1.1" "curl/7.38.0" DHE-RSA-AES128-SHA TLSv1.2"#,
    padded: false,
    syslog: false,
};

const HAPROXY: Description = Description {
    name: "haproxy",
    server: "HAProxy",
    format: r#"%h:%{port}x [%{%d/%b/%Y:%H:%M:%S}t] %{frontend}x %{backend}x %{tr}x/%{tw}x/%{tc}x/%{tr}x/%{ms}T %>s %B %{rest}x "%r""#,
    example: r#"117.136.40.129:14853 [14/Jan/2015:12:48:57.127] https-in~ xx_server_https/xxx_node_8002 170/0/0/3/173 200 739 - - --NN 0/0/0/0/0 0/0 "GET /xxx/xxx HTTP/1.1""#,
    padded: false,
    syslog: true,
};

const ENVOY: Description = Description {
    name: "envoy",
    server: "Envoy",
    format: r#"[%{%Y-%m-%dT%H:%M:%S}t] "%r" %>s %{flags}x %I %b %{ms}T %{upstream_time}x "%{X-Forwarded-For}i" "%{User-Agent}i" "%{X-Request-Id}i" "%{Host}i" "%{upstream_host}x""#,
    example: r#"[2016-04-15T20:17:00.310Z] "POST /api/v1/locations HTTP/2" 204 - 154 0 226 100 "10.0.35.28" "nsq2http" "cc21d9b0-cf5c-432b-8c7e-98aeb7988cd2" "locations" "tcp://10.0.2.1:80""#,
    padded: false,
    syslog: false,
};

const S3: Description = Description {
    name: "s3",
    server: "AWS S3 server access",
    format: r#"%{owner}x %{bucket}x %t %h %{requester}x %{request_id}x %{operation}x %{key}x "%r" %>s %{error}x %b %{object_size}x %{ms}T %{turnaround}x "%{Referer}i" "%{User-Agent}i" %{rest}x"#,
    example: r#"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be awsexamplebucket1 [06/Feb/2019:00:00:38 +0000] 192.0.2.3 79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be 3E57427F3EXAMPLE REST.GET.VERSIONING - "GET /awsexamplebucket1?versioning HTTP/1.1" 200 - 113 - 7 - "-" "S3Console/0.4" - s9lzHYrFp76ZVxRcpX9+5cjAnEH2ROuNkd2BHfIa6UkFVdtjf5mKR3/eTPFvsiP/XV/VLi31234= SigV4 ECDHE-RSA-AES128-GCM-SHA256 AuthHeader awsexamplebucket1.s3.us-west-1.amazonaws.com TLSV1.2 arn:aws:s3:us-west-1:123456789012:accesspoint/example-AP Yes"#,
    padded: false,
    syslog: false,
};

const SQUID: Description = Description {
    name: "squid",
    server: "Squid",
    format: r#"%{sec}t %{ms}T %h %{result}x/%>s %b %m %U %u %{hierarchy}x %{type}x"#,
    example: r#"1286536308.779    180 192.168.0.224 TCP_MISS/200 411 GET http://www.google.com/ - DIRECT/74.125.79.104 text/html"#,
    padded: true,
    syslog: false,
};

/// The NCSA formats, `common` and `combined`, described as the presets
/// are: a `[time]` whose zone may be missing, or in ISO 8601. They tolerate
/// a prefix before the client (a syslog header) and more fields after the
/// last, and blame a line that fails on its field at fault.
pub const COMMON: &str = r#"%h %l %u [%{%d/%b/%Y:%H:%M:%S %z}t] "%r" %>s %b"#;
pub const COMBINED: &str = r#"%h %l %u [%{%d/%b/%Y:%H:%M:%S %z}t] "%r" %>s %b "%{Referer}i" "%{User-Agent}i""#;

/// The matcher of an NCSA description ([`COMMON`], [`COMBINED`]). The
/// descriptions are tested to compile.
pub fn ncsa(format: &str) -> Option<Pattern> {
    let mut pattern = apache::compile(format).ok()?;
    pattern.tolerate(Tolerance { prefix: true, more: true, blame: true });
    Some(pattern)
}

impl Preset {
    /// Reads a line of this preset with its compiled `pattern`. Envoy's
    /// JSON layout is read as JSON lines.
    pub fn read<'a>(
        self,
        pattern: &Pattern,
        clock: &mut ClfClock,
        times: &mut json::TimeCache,
        line: &'a [u8],
        values: &'a mut Vec<u8>,
    ) -> Result<Record<'a>, Malformed> {
        if self == Preset::Envoy && line.first() == Some(&b'{') {
            return json::parse(times, line, values);
        }
        self.read_text(pattern, clock, line)
    }

    /// Reads a text line of this preset, after a syslog prefix where the
    /// preset allows one.
    pub fn read_text<'a>(
        self,
        pattern: &Pattern,
        clock: &mut ClfClock,
        line: &'a [u8],
    ) -> Result<Record<'a>, Malformed> {
        let line = if self.describe().syslog { after_syslog_prefix(line).unwrap_or(line) } else { line };
        pattern.parse(clock, line)
    }
}

/// What follows a syslog prefix (`... haproxy[14389]: `): the text after
/// the first `: ` that comes before the first ` [`.
pub fn after_syslog_prefix(line: &[u8]) -> Option<&[u8]> {
    let colon = line.windows(2).position(|w| w == b": ")?;
    let bracket = line.windows(2).position(|w| w == b" [").unwrap_or(line.len());
    (colon < bracket).then(|| &line[colon + 2..])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(preset: Preset, line: &str) -> Record<'_> {
        let pattern = preset.compile().expect("compiles");
        preset
            .read_text(&pattern, &mut ClfClock::default(), line.as_bytes())
            .unwrap_or_else(|e| panic!("{preset:?}: {e}"))
    }

    #[test]
    fn every_example_is_read() {
        for preset in Preset::ALL {
            let d = preset.describe();
            assert_eq!(Preset::by_name(d.name), Some(preset));
            let r = read(preset, d.example);
            assert!(r.time > 0 && r.status >= 100, "{preset:?}: {r:?}");
        }
    }

    #[test]
    fn fields_of_each_preset() {
        let r = read(Preset::Alb, ALB.example);
        assert_eq!(
            (r.client, r.latency_us, r.vhost),
            (Some(&b"192.168.1.11"[..]), Some(48_000), Some(&b"www.example.com"[..]))
        );
        assert_eq!((r.section, r.method, r.bytes), (Some(&b"/robots.txt"[..]), Some(&b"GET"[..]), 57));
        let syslogged = format!("Feb  6 12:14:14 localhost haproxy[14389]: {}", HAPROXY.example);
        let r = read(Preset::Haproxy, &syslogged);
        assert_eq!((r.status, r.latency_us, r.client), (200, Some(173_000), Some(&b"117.136.40.129"[..])));
        let r = read(Preset::Squid, SQUID.example);
        assert_eq!((r.time, r.latency_us, r.status, r.section), (1_286_536_308, Some(180_000), 200, Some(&b"/"[..])));
        let r = read(Preset::Traefik, TRAEFIK.example);
        assert_eq!((r.status, r.latency_us), (200, Some(0)));
        let r = read(Preset::Envoy, ENVOY.example);
        assert_eq!((r.status, r.latency_us, r.vhost), (204, Some(226_000), Some(&b"locations"[..])));
        let r = read(Preset::S3, S3.example);
        assert_eq!(
            (r.status, r.bytes, r.latency_us, r.section),
            (200, 113, Some(7_000), Some(&b"/awsexamplebucket1"[..]))
        );
        let r = read(Preset::VhostCombined, VHOST_COMBINED.example);
        assert_eq!((r.vhost, r.client), (Some(&b"www.example.com"[..]), Some(&b"192.0.2.1"[..])));
    }

    #[test]
    fn syslog_prefixes() {
        assert_eq!(
            after_syslog_prefix(b"Feb  6 12:14:14 h haproxy[1]: 1.2.3.4:5 [06/Feb"),
            Some(&b"1.2.3.4:5 [06/Feb"[..])
        );
        assert_eq!(after_syslog_prefix(b"1.2.3.4:5 [06/Feb/2009:12:14:14.655] a: b"), None);
    }
}
