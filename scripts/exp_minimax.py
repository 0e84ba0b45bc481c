"""Fits the degree-6 polynomial for e^r on [-ln2/2, ln2/2] used by src/kernel/exp.rs (f32).

    python3 scripts/exp_minimax.py        (needs numpy)

Iteratively reweighted least squares on the relative error converges to the minimax
(equioscillating) fit; the coefficients are then rounded to f32 and a Horner evaluation in
f32 is simulated to report the error that the Rust test (`exp_f32_is_within_two_ulps...`)
then checks against libm.
"""
import numpy as np

LO, HI = -np.log(2) / 2, np.log(2) / 2
DEGREE = 6

x = np.linspace(LO, HI, 20001)
f = np.exp(x)
w = np.ones_like(x)
for _ in range(80):
    a = np.vander(x, DEGREE + 1, increasing=True) * (w / f)[:, None]
    c, *_ = np.linalg.lstsq(a, w, rcond=None)
    err = (np.polyval(c[::-1], x) - f) / f
    w = w * (np.abs(err) / np.abs(err).max()) ** 0.3 + 1e-3 * w

c32 = c.astype(np.float32)
xs = np.linspace(LO, HI, 400001).astype(np.float32)
p = np.full_like(xs, c32[DEGREE])
for k in range(DEGREE - 1, -1, -1):
    p = (p.astype(np.float64) * xs + c32[k]).astype(np.float32)
exact = np.exp(xs.astype(np.float64))
print(f"truncation (relative): {np.abs(err).max():.3g}")
print(f"f32 Horner, worst: {(np.abs(p - exact) / exact).max() / 2**-23:.2f} eps")
print("coefficients, highest degree first:", [f"{float(v):.8g}" for v in c32[::-1]])
