//! Integration tests: the real binary on fixture logs and real files.

mod cli;
mod clock;
mod export;
mod follow;
mod formats;
mod live;
mod man;
mod output;
mod properties;
mod replay;
mod rules;
mod util;
