//! Wall time of an epoch (feature `std`).

/// Wall time with `std`, nothing without.
pub(crate) struct Clock {
    #[cfg(feature = "std")]
    start: std::time::Instant,
}

impl Clock {
    pub(crate) fn start() -> Self {
        Self {
            #[cfg(feature = "std")]
            start: std::time::Instant::now(),
        }
    }

    pub(crate) fn seconds(&self) -> Option<f64> {
        #[cfg(feature = "std")]
        return Some(self.start.elapsed().as_secs_f64());
        #[cfg(not(feature = "std"))]
        None
    }
}
