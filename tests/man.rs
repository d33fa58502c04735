//! The man page: the same options as `--help`, and it renders cleanly.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use crate::util::logmon;

fn page() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("man/logmon.1");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every `--long-option` named in `text`, where hyphens may be roff-escaped.
fn long_options(text: &str) -> BTreeSet<String> {
    let text = text.replace("\\-", "-");
    let mut found = BTreeSet::new();
    let mut rest = text.as_str();
    while let Some(i) = rest.find("--") {
        let name: String =
            rest[i + 2..].chars().take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-').collect();
        if name.len() > 1 && !name.ends_with('-') {
            found.insert(format!("--{name}"));
        }
        rest = &rest[i + 2..];
    }
    found
}

#[test]
fn the_man_page_and_help_name_the_same_options() {
    let run = logmon().arg("--help").run();
    run.expect_success();
    let help = long_options(&run.stdout);
    let man = long_options(&page());
    assert!(help.len() > 15, "too few options found in --help: {help:?}");
    let missing: Vec<_> = help.difference(&man).collect();
    let extra: Vec<_> = man.difference(&help).collect();
    assert!(missing.is_empty() && extra.is_empty(), "in --help only: {missing:?}\nin the man page only: {extra:?}");
}

/// Runs a renderer if it is installed; `.ci/run` installs them.
fn warnings_from(program: &str, args: &[&str]) -> Option<String> {
    let page = Path::new(env!("CARGO_MANIFEST_DIR")).join("man/logmon.1");
    let out = Command::new(program).args(args).arg(&page).env("MANWIDTH", "80").output().ok()?;
    assert!(out.status.success(), "{program} failed: {}", String::from_utf8_lossy(&out.stderr));
    Some(String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn the_man_page_renders_without_warnings() {
    match warnings_from("groff", &["-man", "-Tutf8", "-ww", "-z"]) {
        Some(warnings) => assert_eq!(warnings, "", "groff warns"),
        None => eprintln!("groff is not installed: rendering not checked"),
    }
    match warnings_from("man", &["--warnings", "-l"]) {
        Some(warnings) => assert_eq!(warnings, "", "man warns"),
        None => eprintln!("man is not installed: rendering not checked"),
    }
}
