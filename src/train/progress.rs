//! Progress within an epoch: a bar on a terminal (feature `std`, `indicatif`), nothing
//! otherwise. The one line per epoch is [`Trainer::verbose`](super::Trainer::verbose)'s.

/// The in-epoch progress bar of a verbose trainer: drawn on standard error while the epoch
/// runs and cleared before its line is printed. Without `std`, or when standard error is not a
/// terminal (a log file, a pipe, CI), there is no bar at all.
pub(crate) struct Progress {
    #[cfg(feature = "std")]
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    /// The bar for an epoch of `steps` steps, if `verbose` and standard error is a terminal.
    pub(crate) fn start(verbose: bool, steps: usize) -> Self {
        #[cfg(feature = "std")]
        {
            use std::io::IsTerminal;
            Self::start_on(verbose, steps, std::io::stderr().is_terminal())
        }
        #[cfg(not(feature = "std"))]
        {
            let _ = (verbose, steps);
            Self {}
        }
    }

    /// [`start`](Progress::start), given whether the output is a terminal (so tests can say).
    #[cfg(feature = "std")]
    pub(crate) fn start_on(verbose: bool, steps: usize, terminal: bool) -> Self {
        if !(verbose && terminal) {
            return Self { bar: None };
        }
        let bar = indicatif::ProgressBar::new(steps as u64);
        if let Ok(style) = indicatif::ProgressStyle::with_template("{pos:>5}/{len} [{bar:30}] {elapsed} (eta {eta})") {
            bar.set_style(style.progress_chars("=> "));
        }
        Self { bar: Some(bar) }
    }

    /// One more step done.
    pub(crate) fn step(&self) {
        #[cfg(feature = "std")]
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
    }

    /// The epoch is over: the bar goes away, leaving the terminal as it was.
    pub(crate) fn finish(&self) {
        #[cfg(feature = "std")]
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }

    /// Whether a bar is drawn.
    #[cfg(all(test, feature = "std"))]
    fn drawn(&self) -> bool {
        self.bar.is_some()
    }
}

/// A training error mid-epoch clears the bar too.
impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;

    #[test]
    fn no_bar_unless_verbose_on_a_terminal() {
        assert!(!Progress::start_on(true, 100, false).drawn(), "not a terminal: nothing");
        assert!(!Progress::start_on(false, 100, true).drawn(), "not verbose: nothing");
        let on_terminal = Progress::start_on(true, 100, true);
        assert!(on_terminal.drawn());
        on_terminal.finish();
    }

    #[test]
    fn the_test_harness_output_is_not_a_terminal_so_no_bar_is_drawn() {
        // `cargo test` captures output, and CI's standard error is a file or a pipe.
        use std::io::IsTerminal;
        if !std::io::stderr().is_terminal() {
            assert!(!Progress::start(true, 100).drawn());
        }
    }
}
