//! `--follow`: rotation by rename, quick rotations, copytruncate, a file
//! missing at start, a directory in the way, SIGHUP. In every scenario the
//! summary counts exactly the lines written.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::live::wait_for_hits;
use crate::util::{Running, TempDir, clf_line, logmon, now};

fn append(path: &Path, n: usize, tag: &str) {
    let mut f = OpenOptions::new().create(true).append(true).open(path).expect("open for append");
    let text: String = (0..n).map(|i| clf_line(now(), &format!("/{tag}/{i}"))).collect();
    f.write_all(text.as_bytes()).expect("append");
}

fn follow(path: &Path, extra: &[&str]) -> Running {
    logmon()
        .args(["-o", "json", "--interval", "24h", "--check-interval", "20ms", "--follow"])
        .arg(path)
        .args(extra)
        .spawn()
}

/// logmon following `access.log` in a fresh directory that already holds
/// `lines` lines, once it says so.
fn following(name: &str, lines: usize, extra: &[&str]) -> (TempDir, PathBuf, Running) {
    let dir = TempDir::new(name);
    let log = dir.path("access.log");
    append(&log, lines, "old");
    let run = follow(&log, extra);
    run.wait_stderr("following");
    (dir, log, run)
}

#[track_caller]
fn stop(run: Running, hits: u64) {
    run.signal(libc::SIGTERM);
    let run = run.wait();
    run.expect_success();
    let summary = run.summary();
    assert_eq!((summary.int("hits"), summary.int("malformed")), (hits, 0), "{run}");
}

#[test]
fn starts_at_the_end_of_the_file() {
    let (_dir, log, run) = following("at-end", 50, &[]);
    append(&log, 5, "new");
    wait_for_hits(&run, 5);
    stop(run, 5);
}

#[test]
fn from_start_reads_what_is_there() {
    let (_dir, log, run) = following("from-start", 50, &["--from-start"]);
    append(&log, 5, "new");
    wait_for_hits(&run, 55);
    stop(run, 55);
}

#[test]
fn rename_rotation_keeps_lines_written_to_the_old_file() {
    let (dir, log, run) = following("rename", 0, &[]);
    append(&log, 10, "before");
    // The server still holds the old file open after the rename.
    let mut server = OpenOptions::new().append(true).open(&log).expect("open");
    fs::rename(&log, dir.path("access.log.1")).expect("rename");
    server
        .write_all((0..7).map(|i| clf_line(now(), &format!("/late/{i}"))).collect::<String>().as_bytes())
        .expect("write");
    append(&log, 20, "after");
    run.wait_stderr("rotated");
    // And writes to the old file once more before it reopens its log.
    server.write_all(clf_line(now(), "/straggler").as_bytes()).expect("write");
    drop(server);
    wait_for_hits(&run, 38);
    stop(run, 38);
}

#[test]
fn twenty_quick_rotations() {
    let (dir, log, run) = following("twenty", 0, &[]);
    for i in 0..20 {
        append(&log, 3, &format!("r{i}"));
        fs::rename(&log, dir.path(&format!("access.log.{i}"))).expect("rename");
        File::create(&log).expect("create");
        run.wait_stderr_count("rotated", i + 1);
    }
    append(&log, 3, "last");
    wait_for_hits(&run, 63);
    stop(run, 63);
}

#[test]
fn copytruncate_starts_over() {
    let (dir, log, run) = following("copytruncate", 0, &[]);
    append(&log, 10, "before");
    wait_for_hits(&run, 10);
    fs::copy(&log, dir.path("access.log.1")).expect("copy");
    File::create(&log).expect("truncate");
    append(&log, 4, "after");
    run.wait_stderr("truncated");
    wait_for_hits(&run, 14);
    stop(run, 14);
}

#[test]
fn truncated_and_grown_past_the_old_offset_between_checks() {
    let dir = TempDir::new("regrown");
    let log = dir.path("access.log");
    append(&log, 0, "none");
    // Checks far apart, so the file is rewritten between two of them.
    let run = follow(&log, &["--check-interval", "60s"]);
    run.wait_stderr("following");
    append(&log, 5, "before");
    run.signal(libc::SIGHUP);
    wait_for_hits(&run, 5);
    File::create(&log).expect("truncate");
    append(&log, 12, "after");
    run.signal(libc::SIGHUP);
    run.wait_stderr("truncated");
    wait_for_hits(&run, 17);
    stop(run, 17);
}

#[test]
fn a_missing_file_is_waited_for() {
    let dir = TempDir::new("missing");
    let log = dir.path("access.log");
    let run = follow(&log, &[]);
    run.wait_stderr("missing; waiting for it to appear");
    append(&log, 6, "born");
    run.wait_stderr("appeared");
    wait_for_hits(&run, 6);
    stop(run, 6);
}

#[test]
fn a_directory_in_the_way_is_waited_out() {
    let dir = TempDir::new("directory");
    let log = dir.path("access.log");
    fs::create_dir(&log).expect("mkdir");
    let run = follow(&log, &[]);
    run.wait_stderr("Is a directory; retrying");
    fs::remove_dir(&log).expect("rmdir");
    append(&log, 2, "file");
    run.wait_stderr("appeared");
    wait_for_hits(&run, 2);
    stop(run, 2);
}

#[test]
fn sighup_looks_again_at_once() {
    let (dir, log, run) = following("hup", 0, &["--check-interval", "60s"]);
    fs::rename(&log, dir.path("access.log.1")).expect("rename");
    append(&log, 4, "new");
    run.signal(libc::SIGHUP);
    run.wait_stderr("rotated");
    wait_for_hits(&run, 4);
    stop(run, 4);
}

#[test]
fn the_last_line_without_newline_counts_at_shutdown() {
    let (_dir, log, run) = following("unterminated", 0, &[]);
    append(&log, 2, "full");
    let mut f = OpenOptions::new().append(true).open(&log).expect("open");
    f.write_all(clf_line(now(), "/no-newline").trim_end().as_bytes()).expect("write");
    wait_for_hits(&run, 2);
    stop(run, 3);
}

#[test]
fn a_last_line_cut_off_at_shutdown_is_skipped_not_malformed() {
    let (_dir, log, run) = following("cut-off", 0, &[]);
    append(&log, 2, "full");
    let mut f = OpenOptions::new().append(true).open(&log).expect("open");
    f.write_all(&clf_line(now(), "/cut/off").as_bytes()[..25]).expect("write");
    wait_for_hits(&run, 2);
    run.signal(libc::SIGTERM);
    let run = run.wait();
    run.expect_success().expect_stderr_contains("last line cut off by the end of the run");
    let summary = run.summary();
    assert_eq!((summary.int("hits"), summary.int("malformed"), summary.int("skipped")), (2, 0, 1), "{run}");
}

#[test]
fn a_fifo_in_the_way_is_refused_without_blocking() {
    let (_dir, log, run) = following("fifo", 0, &[]);
    fs::remove_file(&log).expect("rm");
    let path = std::ffi::CString::new(log.as_os_str().as_encoded_bytes()).expect("no NUL");
    // SAFETY: mkfifo(3) with a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(path.as_ptr(), 0o644) }, 0, "mkfifo");
    run.wait_stderr("not a regular file; retrying");
    fs::remove_file(&log).expect("rm fifo");
    append(&log, 3, "file");
    // The file it had is still open, so a file in the FIFO's place is a new one.
    run.wait_stderr("rotated");
    wait_for_hits(&run, 3);
    stop(run, 3);
}

#[test]
fn sigterm_right_after_a_rotation_reads_the_new_file() {
    let (dir, log, run) = following("term-rotated", 0, &["--check-interval", "60s"]);
    append(&log, 4, "old");
    fs::rename(&log, dir.path("access.log.1")).expect("rename");
    append(&log, 6, "new");
    // No check has seen the rotation: the end of the run must look.
    stop(run, 10);
}

#[test]
fn a_rotation_undone_is_not_read_twice() {
    let (dir, log, run) = following("undone", 0, &["--check-interval", "60s"]);
    append(&log, 5, "first");
    fs::rename(&log, dir.path("access.log.1")).expect("rename");
    File::create(&log).expect("create");
    run.signal(libc::SIGHUP);
    run.wait_stderr("rotated");
    fs::remove_file(&log).expect("rm");
    fs::rename(dir.path("access.log.1"), &log).expect("rename back");
    append(&log, 2, "again");
    run.signal(libc::SIGHUP);
    run.wait_stderr_count("rotated", 2);
    wait_for_hits(&run, 7);
    stop(run, 7);
}

/// With checks a minute apart, only change events (inotify, on Linux) can
/// bring these in time.
#[cfg(target_os = "linux")]
#[test]
fn writes_rotations_and_truncations_are_acted_on_at_once() {
    let (dir, log, run) = following("events", 0, &["--check-interval", "60s"]);
    append(&log, 3, "written");
    wait_for_hits(&run, 3);
    fs::rename(&log, dir.path("access.log.1")).expect("rename");
    append(&log, 4, "rotated");
    run.wait_stderr("rotated");
    wait_for_hits(&run, 7);
    File::create(&log).expect("truncate");
    append(&log, 2, "truncated");
    run.wait_stderr("truncated");
    wait_for_hits(&run, 9);
    fs::remove_file(&log).expect("rm");
    append(&log, 1, "back");
    run.wait_stderr_count("rotated", 2);
    wait_for_hits(&run, 10);
    stop(run, 10);
}

#[test]
fn several_files_with_a_rotation_of_one_lose_and_double_nothing() {
    let dir = TempDir::new("follow-several");
    let (a, b) = (dir.path("site-a.log"), dir.path("site-b.log"));
    append(&a, 5, "a-old");
    let run = follow(&a, &["-f", b.to_str().expect("utf-8 path")]);
    run.wait_stderr("site-b.log: missing; waiting for it to appear");
    // Said again in every report while it lasts.
    run.signal(libc::SIGUSR1);
    run.wait_stdout(r#"site-b.log","problem":"missing"}]"#);
    append(&a, 10, "a");
    append(&b, 20, "b");
    run.wait_stderr("site-b.log: appeared");
    fs::rename(&a, dir.path("site-a.log.1")).expect("rename");
    append(&a, 3, "a-new");
    append(&b, 2, "b-more");
    run.wait_stderr("site-a.log: rotated");
    wait_for_hits(&run, 35);
    let last = run.stdout_now().lines().last().unwrap_or_default().to_owned();
    assert!(!last.contains("unreadable"), "no longer in trouble: {last}");
    stop(run, 35);
}

#[test]
fn a_file_unreadable_at_start_is_read_from_its_size_then() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new("unreadable");
    let log = dir.path("access.log");
    append(&log, 40, "history");
    fs::set_permissions(&log, fs::Permissions::from_mode(0o000)).expect("chmod 000");
    let run = logmon()
        .args(["-o", "json", "--interval", "24h", "--check-interval", "20ms", "--follow"])
        .arg(&log)
        .unprivileged()
        .spawn();
    run.wait_stderr("Permission denied; retrying");
    append(&log, 3, "since");
    fs::set_permissions(&log, fs::Permissions::from_mode(0o644)).expect("chmod 644");
    run.wait_stderr("appeared");
    wait_for_hits(&run, 3);
    stop(run, 3);
}

/// After SIGTERM a backlog is read within a bound (bytes and time, checked
/// on a fake clock in src/live/tests.rs), then what is left is said. The
/// backlog here is more than any build reads within the bound, or within
/// the test's patience: 1 TiB, a sparse file of zeros (one line too long
/// to keep) after a few lines. So the bound must cut it, however fast the
/// build and whenever the signal lands.
#[test]
fn sigterm_cuts_a_backlog_short_and_says_what_is_left() {
    let dir = TempDir::new("bounded");
    let log = dir.path("access.log");
    append(&log, 10, "backlog");
    OpenOptions::new().write(true).open(&log).and_then(|f| f.set_len(1 << 40)).expect("a sparse file of 1 TiB");
    let run = follow(&log, &["--from-start"]);
    run.wait_stderr("following");
    run.signal(libc::SIGTERM);
    let run = run.wait();
    run.expect_success().expect_stderr_contains(" bytes left unread").expect_stderr_contains("SIGTERM: stopped");
    assert_eq!(run.summary().int("hits"), 10, "{run}");
}
