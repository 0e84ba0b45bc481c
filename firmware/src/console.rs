//! Output and exit through semihosting: the debugger (here QEMU) prints what the firmware writes
//! and ends the run with its exit code.
//!
//! Numbers are formatted by hand: `core::fmt` is several kilobytes of flash, which would hide
//! the models' own sizes, and its float formatting keeps panic paths.

use cortex_m_semihosting::debug::{self, EXIT_FAILURE, EXIT_SUCCESS};
use cortex_m_semihosting::hio::{self, HostStream};

/// A line-buffered writer to the host's standard output.
pub struct Console {
    stream: Option<HostStream>,
    line: [u8; 256],
    len: usize,
}

impl Console {
    /// Opens the host's standard output; without a debugger attached nothing is written.
    pub fn open() -> Self {
        Console { stream: hio::hstdout().ok(), line: [0; 256], len: 0 }
    }

    /// Writes `s`; a `\n` sends the line.
    #[inline(never)] // one copy, not one per string: the harness's code stays small
    pub fn text(&mut self, s: &str) -> &mut Self {
        for &b in s.as_bytes() {
            self.byte(b);
        }
        self
    }

    /// Writes `n` in decimal.
    #[inline(never)]
    pub fn num(&mut self, mut n: u64) -> &mut Self {
        let mut digits = [0u8; 20];
        let mut i = digits.len();
        loop {
            i -= 1;
            if let Some(d) = digits.get_mut(i) {
                *d = b'0' + (n % 10) as u8;
            }
            n /= 10;
            if n == 0 || i == 0 {
                break;
            }
        }
        for &d in digits.get(i..).unwrap_or_default() {
            self.byte(d);
        }
        self
    }

    /// Writes `x ≥ 0` with nine decimals (`0.000000060`): enough for differences of a few ulps
    /// of a probability.
    pub fn fraction(&mut self, x: f32) -> &mut Self {
        let nanos = (f64::from(x) * 1e9 + 0.5) as u64; // saturating; x ≥ 0
        self.num(nanos / 1_000_000_000).byte(b'.');
        let frac = nanos % 1_000_000_000;
        let mut scale = 100_000_000;
        while scale > 0 {
            self.byte(b'0' + ((frac / scale) % 10) as u8);
            scale /= 10;
        }
        self
    }

    /// Writes the low `digits` hex digits of `n` after `0x`.
    pub fn hex(&mut self, n: u64, digits: u32) -> &mut Self {
        self.text("0x");
        for shift in (0..digits.min(16)).rev() {
            let d = ((n >> (shift * 4)) & 0xF) as u8;
            self.byte(if d < 10 { b'0' + d } else { b'a' + d - 10 });
        }
        self
    }

    /// Writes `\n` if `ok`, else ` <- FAIL\n`.
    pub fn verdict(&mut self, ok: bool) -> &mut Self {
        self.text(if ok { "\n" } else { "  <- FAIL\n" })
    }

    fn byte(&mut self, b: u8) -> &mut Self {
        if let Some(slot) = self.line.get_mut(self.len) {
            *slot = b;
            self.len += 1;
        }
        if b == b'\n' || self.len == self.line.len() {
            self.flush();
        }
        self
    }

    /// Sends what is buffered.
    pub fn flush(&mut self) {
        if let (Some(stream), Some(line)) = (self.stream.as_mut(), self.line.get(..self.len)) {
            // Nothing to do about a host that does not take output.
            let _ = stream.write_all(line);
        }
        self.len = 0;
    }
}

/// Ends the run: semihosting's exit, which QEMU turns into its own exit code (0 or 1).
pub fn exit(success: bool) -> ! {
    debug::exit(if success { EXIT_SUCCESS } else { EXIT_FAILURE });
    // Only reached without a debugger that implements the exit call.
    loop {
        core::hint::spin_loop();
    }
}
