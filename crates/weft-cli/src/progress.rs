//! A progress line on stderr for long runs: hidden for the first second (short runs print
//! nothing), and never drawn when stderr is not a terminal.

use std::{io::IsTerminal, time::Duration};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How long a run must last before the progress line appears.
const SHOW_AFTER: Duration = Duration::from_secs(1);

/// The progress line of one command. Dropping it clears the line.
#[derive(Debug)]
pub struct Progress {
    bar: Option<ProgressBar>,
}

fn spinner_style() -> Option<ProgressStyle> {
    ProgressStyle::with_template("{spinner} {elapsed:>4} {msg}").ok()
}

fn counter_style() -> Option<ProgressStyle> {
    ProgressStyle::with_template("{spinner} {elapsed:>4} {msg} {wide_bar} {pos}/{len}").ok()
}

impl Progress {
    /// Starts a progress line (a spinner with the current phase) that shows itself after a
    /// second if stderr is a terminal.
    pub fn start() -> Self {
        if !std::io::stderr().is_terminal() {
            return Self { bar: None };
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
        let shown = bar.clone();
        // The thread holds only a clone of the bar; once the command is done the bar is
        // finished and the thread leaves it hidden.
        std::thread::spawn(move || {
            std::thread::sleep(SHOW_AFTER);
            if !shown.is_finished() {
                shown.set_draw_target(ProgressDrawTarget::stderr());
                shown.enable_steady_tick(Duration::from_millis(100));
            }
        });
        Self { bar: Some(bar) }
    }

    /// Starts a phase of unknown length.
    pub fn phase(&self, message: &'static str) {
        if let Some(bar) = &self.bar {
            if let Some(style) = spinner_style() {
                bar.set_style(style);
            }
            bar.set_message(message);
        }
    }

    /// Starts a phase of `len` steps.
    pub fn counted_phase(&self, message: &'static str, len: u64) {
        if let Some(bar) = &self.bar {
            if let Some(style) = counter_style() {
                bar.set_style(style);
            }
            bar.set_message(message);
            bar.set_position(0);
            bar.set_length(len);
        }
    }

    /// Advances a counted phase by `n` steps.
    pub fn advance(&self, n: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(n);
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
