"""``ReduceLROnPlateau`` over whole metric histories for the numba backend: the C++ core's
``plateau_run`` (``csrc/include/fastlr/plateau.hpp``), the comparisons and roundings of torch's
scheduler operation for operation. Each run is a scan; runs are independent, so the driver splits them
between threads."""

from __future__ import annotations

import math

from numba import njit

from .math import KERNEL


@njit(**KERNEL)
def plateau_runs(metrics, lr, min_lr, out, lo, hi, maximize, relative, factor, threshold, patience, cooldown, eps):
    """Runs ``[lo, hi)`` of the ``(runs, epochs)`` ``metrics``: ``out[r, e]`` is the learning rate in force
    after epoch ``e``'s step, from ``lr[r]`` (a NaN metric is never better, as in torch)."""
    epochs = metrics.shape[1]
    rel = threshold + 1.0 if maximize else 1.0 - threshold
    for r in range(lo, hi):
        best = -math.inf if maximize else math.inf
        value = lr[r]
        floor = min_lr[r]
        bad = 0
        cooling = 0
        for e in range(epochs):
            a = metrics[r, e]
            if relative:
                better = a > best * rel if maximize else a < best * rel
            else:
                better = a > best + threshold if maximize else a < best - threshold
            if better:
                best = a
                bad = 0
            else:
                bad += 1
            if cooling > 0:  # bad epochs do not count during the cooldown
                cooling -= 1
                bad = 0
            if bad > patience:
                reduced = value * factor
                following = floor if floor > reduced else reduced  # Python's max(reduced, min_lr)
                if value - following > eps:
                    value = following
                cooling = cooldown
                bad = 0
            out[r, e] = value
