//! `--completions bash|zsh|fish`: completion scripts read off the option
//! table of `--help`, so that an option added there is completed too, with
//! its own description, and nothing else needs to change.

use std::fmt::Write as _;

use crate::cli::HELP;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

impl Shell {
    pub fn parse(name: &str) -> Option<Shell> {
        match name {
            "bash" => Some(Shell::Bash),
            "zsh" => Some(Shell::Zsh),
            "fish" => Some(Shell::Fish),
            _ => None,
        }
    }
}

/// One line of the help's option table.
#[derive(Debug, PartialEq, Eq)]
pub struct Opt<'a> {
    pub short: Option<char>,
    pub long: &'a str,
    /// The value's name (`PATH`, `DUR`), if the option takes one.
    pub value: Option<&'a str>,
    /// The first line of its description, without `[default: ...]`.
    pub about: &'a str,
    /// It may be given more than once: its description says "repeat".
    pub repeatable: bool,
}

impl Opt<'_> {
    /// Its value is a path: complete file names.
    fn takes_file(&self) -> bool {
        matches!(self.value, Some("FILE" | "PATH"))
    }
}

/// A description's continuation line starts past the option column.
const CONTINUED: &str = "                    ";

/// The options `--help` lists, in its order, with whether each is
/// repeatable (said on its line or on those continuing it).
pub fn options() -> Vec<Opt<'static>> {
    let mut options: Vec<Opt<'static>> = Vec::new();
    // Whether the line before belongs to the last option.
    let mut within = false;
    for line in HELP.lines() {
        if let Some(o) = option_line(line) {
            options.push(o);
            within = true;
        } else if within && line.starts_with(CONTINUED) {
            if let Some(last) = options.last_mut() {
                last.repeatable |= line.contains("repeat");
            }
        } else {
            within = false;
        }
    }
    options
}

fn option_line(line: &'static str) -> Option<Opt<'static>> {
    let rest = line.strip_prefix("  ")?;
    let (short, rest) = match rest.as_bytes() {
        [b'-', c, b',', b' ', ..] if c.is_ascii_alphanumeric() => (Some(char::from(*c)), &rest[4..]),
        _ => (None, rest.strip_prefix("    ")?),
    };
    let rest = rest.strip_prefix("--")?;
    let (spec, about) = rest.split_once("  ").unwrap_or((rest, ""));
    let (long, value) = match spec.split_once(' ') {
        Some((long, value)) => (long, Some(value.trim())),
        None => (spec, None),
    };
    let about = about.trim();
    let about = about.find(" [default:").map_or(about, |i| &about[..i]);
    let repeatable = about.contains("repeat");
    let about = about.trim_end_matches([';', ',']);
    Some(Opt { short, long, value, about, repeatable })
}

/// The completion script for `shell`.
pub fn script(shell: Shell) -> String {
    let options = options();
    match shell {
        Shell::Bash => bash(&options),
        Shell::Zsh => zsh(&options),
        Shell::Fish => fish(&options),
    }
}

fn bash(options: &[Opt<'_>]) -> String {
    let names = |pick: &dyn Fn(&Opt<'_>) -> bool| {
        let mut words = Vec::new();
        for o in options.iter().filter(|o| pick(o)) {
            words.extend(o.short.map(|c| format!("-{c}")));
            words.push(format!("--{}", o.long));
        }
        words.join("|")
    };
    let all = names(&|_| true).replace('|', " ");
    let files = names(&|o| o.takes_file());
    let values = names(&|o| o.value.is_some() && !o.takes_file());
    format!(
        "# bash completion for logmon, made by `logmon --completions bash`.
_logmon() {{
    local cur=${{COMP_WORDS[COMP_CWORD]}} prev=${{COMP_WORDS[COMP_CWORD-1]}}
    case $prev in
        {files}) COMPREPLY=($(compgen -f -- \"$cur\")); return ;;
        {values}) COMPREPLY=(); return ;;
    esac
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W '{all}' -- \"$cur\"))
    else
        COMPREPLY=($(compgen -f -- \"$cur\"))
    fi
}}
complete -o filenames -F _logmon logmon
"
    )
}

fn zsh(options: &[Opt<'_>]) -> String {
    let mut out = String::from(
        "#compdef logmon\n# zsh completion for logmon, made by `logmon --completions zsh`.\n_arguments -s \\\n",
    );
    for o in options {
        // Inside '...' and [...]: a quote closes and reopens, no bracket.
        let about = o.about.replace('\'', "'\\''").replace('[', "(").replace(']', ")");
        // A repeatable option may come again; any other, once.
        let (names, exclusive) = match (o.short, o.repeatable) {
            (Some(c), false) => (format!("{{-{c},--{}}}", o.long), format!("'(-{c} --{})'", o.long)),
            (Some(c), true) => (format!("{{-{c},--{}}}", o.long), "'*'".to_owned()),
            (None, false) => (format!("--{}", o.long), String::new()),
            (None, true) => (format!("--{}", o.long), "'*'".to_owned()),
        };
        let value = match o.value {
            Some(v) if o.takes_file() => format!(":{v}:_files"),
            Some(v) => format!(":{v}: "),
            None => String::new(),
        };
        let _ = writeln!(out, "  {exclusive}{names}'[{about}]{value}' \\");
    }
    out.push_str("  '*:log file:_files'\n");
    out
}

fn fish(options: &[Opt<'_>]) -> String {
    let mut out = String::from("# fish completion for logmon, made by `logmon --completions fish`.\n");
    for o in options {
        out.push_str("complete -c logmon");
        if let Some(c) = o.short {
            let _ = write!(out, " -s {c}");
        }
        let _ = write!(out, " -l {}", o.long);
        match o.value {
            Some(_) if o.takes_file() => out.push_str(" -r -F"),
            Some(_) => out.push_str(" -x"),
            None => {}
        }
        let _ = writeln!(out, " -d '{}'", o.about.replace('\\', "\\\\").replace('\'', "\\'"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn option_lines_are_read_whole() {
        let o =
            option_line("  -f, --follow PATH         follow PATH like tail -F, across rotations;").expect("an option");
        assert_eq!(
            o,
            Opt {
                short: Some('f'),
                long: "follow",
                value: Some("PATH"),
                about: "follow PATH like tail -F, across rotations",
                repeatable: false,
            }
        );
        let o =
            option_line("      --max-delay DUR       wait for out-of-order lines [default: 2s]").expect("an option");
        assert_eq!(
            (o.short, o.long, o.value, o.about),
            (None, "max-delay", Some("DUR"), "wait for out-of-order lines")
        );
        let o = option_line("  -q, --quiet               alerts and the summary only").expect("an option");
        assert_eq!((o.short, o.value), (Some('q'), None));
        assert_eq!(option_line("                            - is stdin"), None);
        assert_eq!(option_line("Usage: tail -F access.log | logmon [OPTIONS]"), None);
    }

    #[test]
    fn the_help_table_is_all_read() {
        let options = options();
        let longs: Vec<&str> = options.iter().map(|o| o.long).collect();
        for expected in ["follow", "log-format", "threshold", "alert", "metrics", "exec", "completions", "help"] {
            assert!(longs.contains(&expected), "--{expected} missing from {longs:?}");
        }
        assert!(options.iter().all(|o| !o.about.is_empty()), "{options:?}");
        let repeatable: Vec<&str> = options.iter().filter(|o| o.repeatable).map(|o| o.long).collect();
        assert_eq!(repeatable, ["follow", "alert"]);
    }
}
