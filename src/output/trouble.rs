//! Inputs in trouble: a followed file that cannot be read is said under
//! every report for as long as that lasts, so that "no traffic" is never
//! taken for quiet. Text gets a line under the report, JSON a field at the
//! end of its object. Kept apart from the report layouts, since the engine
//! that makes reports knows nothing of files.

use std::io::Write;

use super::escape::{Terminal, json_string};
use super::{Format, Stamp};
use crate::engine::timestamp::Epoch;

/// The inputs in trouble now, by name, with what is wrong.
#[derive(Debug, Default)]
pub struct Troubles {
    list: Vec<(Vec<u8>, String)>,
}

impl Troubles {
    /// Input `name` is in trouble (`Some`, and why) or fine (`None`).
    /// Called at every turn of the live loop, so it changes nothing, and
    /// allocates nothing, while the state stays the same.
    pub fn set(&mut self, name: &[u8], problem: Option<&str>) {
        let at = self.list.iter().position(|(n, _)| n == name);
        match (at, problem) {
            (Some(i), None) => {
                self.list.remove(i);
            }
            (Some(i), Some(problem)) if self.list[i].1 != problem => self.list[i].1 = problem.to_owned(),
            (None, Some(problem)) => self.list.push((name.to_vec(), problem.to_owned())),
            _ => {}
        }
    }

    /// Adds the inputs in trouble to a report just written to `buf` for
    /// second `end`: lines in text, an `"unreadable"` field in JSON (which
    /// is there only when some input is in trouble).
    pub fn append(&self, buf: &mut Vec<u8>, format: Format, end: Epoch) {
        if self.list.is_empty() {
            return;
        }
        match format {
            Format::Text => {
                for (name, problem) in &self.list {
                    // Writing to a Vec cannot fail.
                    let _ = writeln!(
                        buf,
                        "[{}]   unread    {}: {}",
                        Stamp(end),
                        Terminal(name),
                        Terminal(problem.as_bytes())
                    );
                }
            }
            Format::Json => {
                // The object's closing brace and newline come back after the field.
                if !buf.ends_with(b"}\n") {
                    return;
                }
                buf.truncate(buf.len() - 2);
                buf.extend_from_slice(b",\"unreadable\":[");
                for (i, (name, problem)) in self.list.iter().enumerate() {
                    buf.extend_from_slice(if i == 0 { b"{\"input\":" } else { b",{\"input\":" });
                    json_string(buf, name);
                    buf.extend_from_slice(b",\"problem\":");
                    json_string(buf, problem.as_bytes());
                    buf.push(b'}');
                }
                buf.extend_from_slice(b"]}\n");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const END: Epoch = 1_549_573_956;

    fn appended(troubles: &Troubles, format: Format, report: &str) -> String {
        let mut buf = report.as_bytes().to_vec();
        troubles.append(&mut buf, format, END);
        String::from_utf8(buf).expect("utf-8")
    }

    #[test]
    fn nothing_is_added_while_all_is_well() {
        let mut troubles = Troubles::default();
        assert_eq!(appended(&troubles, Format::Json, "{\"a\":1}\n"), "{\"a\":1}\n");
        troubles.set(b"a.log", Some("missing"));
        troubles.set(b"a.log", None);
        assert_eq!(appended(&troubles, Format::Text, "report\n"), "report\n");
    }

    #[test]
    fn each_input_in_trouble_is_listed_until_it_is_fine() {
        let mut troubles = Troubles::default();
        troubles.set(b"a.log", Some("Permission denied"));
        troubles.set(b"b\x1b[2J.log", Some("missing"));
        troubles.set(b"a.log", Some("Is a directory"));
        assert_eq!(
            appended(&troubles, Format::Text, "report\n"),
            "report\n[2019-02-07 21:12:36+00:00]   unread    a.log: Is a directory\n\
             [2019-02-07 21:12:36+00:00]   unread    b\\x1b[2J.log: missing\n"
        );
        assert_eq!(
            appended(&troubles, Format::Json, "{\"type\":\"report\"}\n"),
            "{\"type\":\"report\",\"unreadable\":[{\"input\":\"a.log\",\"problem\":\"Is a directory\"},\
             {\"input\":\"b\\u001b[2J.log\",\"problem\":\"missing\"}]}\n"
        );
        troubles.set(b"a.log", None);
        troubles.set(b"b\x1b[2J.log", None);
        assert_eq!(appended(&troubles, Format::Text, "report\n"), "report\n");
    }
}
