"""SGD in numpy on a least-squares problem with a per-element learning-rate array.

Each coordinate gets its own peak LR (scaled by the inverse curvature of its column, a diagonal
preconditioner) from one ``fastlr.Cosine`` schedule whose ``peak_lr`` is an array. At each step
``schedule(step, out=lr)`` writes the LR vector into a preallocated buffer: no allocation in the loop.

Run: ``python examples/numpy_per_element_lr.py``; prints ``OK: ...`` and exits 0.
"""

from __future__ import annotations

import numpy as np

import fastlr

STEPS, N_SAMPLES, N_FEATURES = 400, 256, 20
rng = np.random.default_rng(0)

# badly scaled columns: plain SGD with one LR would need a tiny LR for the large columns
scales = np.logspace(-1, 1, N_FEATURES)
a = rng.standard_normal((N_SAMPLES, N_FEATURES)) * scales
w_true = rng.standard_normal(N_FEATURES)
b = a @ w_true + 0.01 * rng.standard_normal(N_SAMPLES)

curvature = (a * a).mean(axis=0)                 # diagonal of A^T A / n
peak = 0.5 / curvature                           # one peak LR per element
schedule = fastlr.Cosine(peak_lr=peak, total_steps=STEPS, min_lr=0.01 * peak)

w = np.zeros(N_FEATURES)
lr = np.empty(N_FEATURES)                        # the LR buffer, written in place every step
buffer_address = lr.__array_interface__["data"][0]


def loss(w):
    r = a @ w - b
    return 0.5 * float(r @ r) / N_SAMPLES


start = loss(w)
for step in range(STEPS):
    gradient = a.T @ (a @ w - b) / N_SAMPLES
    schedule(step, out=lr)                       # lr[i] = schedule_i(step)
    assert lr.__array_interface__["data"][0] == buffer_address
    w -= lr * gradient
    if step in (0, STEPS // 2, STEPS - 1):
        assert np.array_equal(lr, schedule(step)), "in-place LRs differ from the schedule"

end = loss(w)
assert end < 1e-3 * start, (start, end)
assert np.allclose(w, w_true, atol=0.05)
print(f"OK: loss {start:.4f} -> {end:.2e} with {N_FEATURES} per-element LRs "
      f"from {peak.min():.2e} to {peak.max():.2e}")
