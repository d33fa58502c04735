//! What each line's outcome reaches besides the counts once the format is
//! known from the start (`--log-format`): every line then goes through the
//! monitor's loop over blocks of lines, not one at a time as while `auto`
//! has still to say what it chose. (The metrics file's share of that loop
//! is checked by the export tests' response-time histogram.)

use crate::util::logmon;

#[test]
fn a_given_format_still_warns_of_a_live_input_of_no_valid_line() {
    let junk: String = (0..250).map(|i| format!("{{\"ts\":{i}}}\n")).collect();
    let run = logmon().args(["--log-format", "combined", "-o", "json"]).stdin(junk).run();
    run.expect_success().expect_stderr_contains("live");
    assert_eq!(run.stderr.matches("WARNING: the first 100 lines of <stdin> are all malformed").count(), 1, "{run}");
    assert_eq!(run.summary().int("malformed"), 250, "{run}");
}
