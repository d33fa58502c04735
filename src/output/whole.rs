//! Whole lines on stdout, even when a second INT or TERM asks to exit at
//! once: the exit waits for the event being written to be out, so a JSON
//! line is never cut in half.

use std::sync::atomic::{AtomicI32, Ordering};

/// Nothing is being written: a second signal exits at once.
const IDLE: i32 = 0;
/// An event is being written.
const WRITING: i32 = -1;

/// `IDLE`, `WRITING`, or the exit status asked for while writing.
static STATE: AtomicI32 = AtomicI32::new(IDLE);

/// Exits with `status` now, or once the event being written is out.
/// Called from a signal handler: it only touches an atomic and calls
/// `_exit`, both async-signal-safe. Asked again while still waiting (a
/// third signal: the reader of stdout is stuck), it exits at once.
pub fn exit_between_events(status: i32) {
    if STATE.compare_exchange(WRITING, status, Ordering::SeqCst, Ordering::SeqCst).is_err() {
        // Idle, or already waiting for the write: either way, now.
        signal_hook::low_level::exit(status);
    }
}

/// Marks an event as being written, from creation to drop: an exit asked
/// for in between happens at the drop.
pub struct Writing(());

impl Writing {
    pub fn begin() -> Writing {
        STATE.store(WRITING, Ordering::SeqCst);
        Writing(())
    }
}

impl Drop for Writing {
    fn drop(&mut self) {
        let asked = STATE.swap(IDLE, Ordering::SeqCst);
        if asked > 0 {
            // The event was written and flushed: nothing is cut.
            signal_hook::low_level::exit(asked);
        }
    }
}
