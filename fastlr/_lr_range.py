"""The learning-rate range test: a schedule that sweeps the learning rate up, and a rule that picks one
from the loss curve it records (after fastai's ``lr_find`` and its suggestions)."""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import numpy as np

from . import schedules as S
from ._validation import as_choice, describe


def _positive_real(name: str, value) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
        raise TypeError(f"lr_range: {name} must be a real number, got {describe(value)} ({type(value).__name__})")
    value = float(value)
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"lr_range: {name} must be finite and > 0, got {name}={describe(value)}")
    return value


def lr_range(min_lr: float, max_lr: float, num_steps: int, mode: str = "exp") -> S.Schedule:
    """The learning rate of a range test: ``min_lr`` at step 0 up to ``max_lr`` at ``num_steps - 1``,
    then held.

    ``mode="exp"``: ``min_lr * (max_lr / min_lr) ** (t / (num_steps - 1))``, evenly spaced in log scale
    (the usual choice: it spends as many steps on each decade); ``mode="linear"``: evenly spaced. Both
    ends are exact: the sweep is ``join``-ed with ``Constant(max_lr)`` at ``num_steps - 1``.

    >>> import fastlr
    >>> s = fastlr.lr_range(1e-7, 10.0, 100)
    >>> float(s(0)), float(s(99))
    (1e-07, 10.0)
    """
    min_lr = _positive_real("min_lr", min_lr)
    max_lr = _positive_real("max_lr", max_lr)
    if not min_lr < max_lr:
        raise ValueError(f"lr_range: min_lr must be < max_lr, got min_lr={describe(min_lr)}, "
                         f"max_lr={describe(max_lr)}")
    if isinstance(num_steps, (bool, np.bool_)) or not isinstance(num_steps, (numbers.Integral, np.integer)):
        raise TypeError(f"lr_range: num_steps must be an integer, got {describe(num_steps)}")
    if num_steps < 2:
        raise ValueError(f"lr_range: num_steps must be >= 2, got num_steps={num_steps}")
    mode = as_choice("lr_range", "mode", mode, ("exp", "linear"))
    last = float(num_steps - 1)
    if mode == "linear":
        sweep = S.Linear(min_lr, max_lr, last)
    else:
        sweep = S.Exponential(min_lr, max_lr / min_lr, step_size=last, max_lr=max_lr)
    return S.join([sweep, S.Constant(max_lr)], [last])


def _smooth(losses: np.ndarray, beta: float) -> np.ndarray:
    """An exponential moving average of the losses, debiased (``avg_i / (1 - beta ** (i + 1))``)."""
    if beta == 0:
        return losses.copy()
    out = np.empty_like(losses)
    average = 0.0
    for i, loss in enumerate(losses):
        average = beta * average + (1 - beta) * loss
        out[i] = average / (1 - beta ** (i + 1))
    return out


def _longest_valley(losses: np.ndarray) -> tuple[int, int]:
    """``(start, end)`` of the longest strictly decreasing run of losses, picked as a subsequence:
    ``length[i]`` is the longest decreasing subsequence ending at ``i``."""
    n = losses.size
    length = np.ones(n, dtype=np.int64)
    best_end = 0
    for i in range(1, n):
        lower = losses[:i] > losses[i]
        if lower.any():
            length[i] = int(length[:i][lower].max()) + 1
        if length[i] > length[best_end]:
            best_end = i
    return best_end - int(length[best_end]) + 1, best_end


def suggest_lr(lrs: Sequence[float], losses: Sequence[float], method: str = "valley", *, smoothing: float = 0.98,
               skip_end: int = 5, divergence: float = 4.0) -> float:
    """A learning rate picked from a range test's record (``lrs[i]`` was used at step ``i``, which gave
    ``losses[i]``).

    The losses are smoothed first (an exponential moving average with factor ``smoothing``, debiased;
    0 turns it off), the record is cut where the smoothed loss exceeds ``divergence`` times its minimum
    so far or stops being finite, and the last ``skip_end`` points are dropped. Then:

    - ``"minimum"``: one tenth of the learning rate at the smallest loss (the loss is still falling
      fast ten times below the point where it bottoms out);
    - ``"steepest"``: the learning rate where the loss falls fastest against ``log(lr)`` (the most
      negative finite difference ``(loss[i+1] - loss[i]) / (log lr[i+1] - log lr[i])``);
    - ``"valley"``: inside the longest stretch over which the loss keeps decreasing (a longest
      decreasing subsequence), the point half-way down it: past its first third and half of the next.
      Less sensitive to noise than the steepest point and less conservative than the minimum.
    """
    method = as_choice("suggest_lr", "method", method, ("valley", "steepest", "minimum"))
    lrs_a = np.asarray(lrs, dtype=np.float64)
    losses_a = np.asarray(losses, dtype=np.float64)
    if lrs_a.ndim != 1 or losses_a.shape != lrs_a.shape:
        raise ValueError(f"suggest_lr: lrs and losses must be 1-D of the same length, got shapes "
                         f"{lrs_a.shape} and {losses_a.shape}")
    if not np.all(np.isfinite(lrs_a)) or not np.all(lrs_a > 0) or np.any(np.diff(lrs_a) <= 0):
        raise ValueError("suggest_lr: lrs must be finite, > 0 and increasing")
    if not (isinstance(smoothing, (numbers.Real, np.floating)) and 0 <= smoothing < 1):
        raise ValueError(f"suggest_lr: smoothing must be in [0, 1), got smoothing={describe(smoothing)}")
    if isinstance(skip_end, bool) or not isinstance(skip_end, (numbers.Integral, np.integer)) or skip_end < 0:
        raise ValueError(f"suggest_lr: skip_end must be an integer >= 0, got skip_end={describe(skip_end)}")
    if not (isinstance(divergence, (numbers.Real, np.floating)) and divergence > 1):
        raise ValueError(f"suggest_lr: divergence must be > 1, got divergence={describe(divergence)}")
    finite = np.isfinite(losses_a)
    usable = int(np.argmin(finite)) if not finite.all() else losses_a.size  # cut at the first NaN/inf
    smoothed = _smooth(losses_a[:usable], float(smoothing))
    running_min = np.minimum.accumulate(smoothed) if smoothed.size else smoothed
    diverged = smoothed > divergence * running_min
    if diverged.any():
        usable = int(np.argmax(diverged))
    usable = min(usable, smoothed.size) - int(skip_end)
    if usable < 3:
        raise ValueError(f"suggest_lr: too few usable points ({max(usable, 0)}) after cutting the divergence "
                         f"and the last {skip_end}; record a longer range test")
    record_lrs, record = lrs_a[:usable], smoothed[:usable]
    if method == "minimum":
        return float(record_lrs[int(np.argmin(record))] / 10.0)
    if method == "steepest":
        slopes = np.diff(record) / np.diff(np.log(record_lrs))
        return float(record_lrs[int(np.argmin(slopes))])
    start, end = _longest_valley(record)
    third = (end - start) / 3
    return float(record_lrs[start + int(third) + int(third / 2)])
