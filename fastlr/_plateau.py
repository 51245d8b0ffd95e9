"""``fastlr.plateau``: torch's ``ReduceLROnPlateau`` over whole metric histories, many runs at once.

The facade validates and broadcasts; the active backend runs the scan (the C++ core splits the runs
across threads; the formula is ``_reference.plateau``).
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from . import _backends
from ._validation import as_choice, as_number_array, describe, require

ArrayLike = Any


def _count(name: str, value) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Integral, np.integer)):
        raise TypeError(f"plateau: {name} must be an integer, got {describe(value)} ({type(value).__name__})")
    if value < 0:
        raise ValueError(f"plateau: {name} must be >= 0, got {name}={value}")
    return int(value)


def _real(name: str, value) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
        raise TypeError(f"plateau: {name} must be a real number, got {describe(value)} ({type(value).__name__})")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"plateau: {name} must be finite, got {name}={describe(value)}")
    return value


def plateau(metrics: ArrayLike, lr: ArrayLike, *, mode: str = "min", factor: float = 0.1, patience: int = 10,
            threshold: float = 1e-4, threshold_mode: str = "rel", cooldown: int = 0, min_lr: ArrayLike = 0.0,
            eps: float = 1e-8) -> np.ndarray:
    """The learning rates torch's ``ReduceLROnPlateau`` sets, for whole histories of metrics at once.

    ``metrics`` has shape ``(..., epochs)``: the leading axes are independent runs, each a history of
    the metric passed to ``step``. The result has the same shape: element ``e`` is the learning rate in
    force after ``step(metrics[..., e])``, starting from ``lr`` (a scalar, or one per run: broadcast
    with ``metrics.shape[:-1]``, like ``min_lr``).

    The rule, per epoch: the metric is *better* than the best so far if ``a < best * (1 - threshold)``
    (``mode="min"``, ``threshold_mode="rel"``), ``a < best - threshold`` (min, abs),
    ``a > best * (1 + threshold)`` (max, rel) or ``a > best + threshold`` (max, abs); the best starts
    at +inf (min) or -inf (max). A better metric resets the count of bad epochs, any other (a NaN
    included, as in torch) adds one; during a cooldown the count stays 0. When the count exceeds
    ``patience``, the learning rate becomes ``max(lr * factor, min_lr)`` if that lowers it by more than
    ``eps``, and a cooldown of ``cooldown`` epochs starts.

    >>> import fastlr
    >>> fastlr.plateau([1.0, 1.0, 1.0, 1.0], 0.1, patience=1).tolist()
    [0.1, 0.1, 0.010000000000000002, 0.010000000000000002]
    """
    mode = as_choice("plateau", "mode", mode, ("min", "max"))
    threshold_mode = as_choice("plateau", "threshold_mode", threshold_mode, ("rel", "abs"))
    factor = _real("factor", factor)
    if not 0.0 < factor < 1.0:
        raise ValueError(f"plateau: factor must be in (0, 1), got factor={describe(factor)}")
    threshold = _real("threshold", threshold)
    eps = _real("eps", eps)
    if eps < 0:
        raise ValueError(f"plateau: eps must be >= 0, got eps={describe(eps)}")
    patience = _count("patience", patience)
    cooldown = _count("cooldown", cooldown)

    if isinstance(metrics, (str, bytes)) or metrics is None:
        raise TypeError(f"plateau: metrics must be an array of numbers, got {describe(metrics)}")
    values = np.asarray(metrics)
    if values.dtype.kind not in "iuf":
        raise TypeError(f"plateau: metrics must be real numbers, got an array of dtype {values.dtype}")
    if values.ndim == 0:
        raise ValueError("plateau: metrics must have an epochs axis (shape (..., epochs)), got a scalar")
    values = np.ascontiguousarray(values, dtype=np.float64)
    runs_shape = values.shape[:-1]
    lr = as_number_array("plateau", "lr", lr)
    min_lr = as_number_array("plateau", "min_lr", min_lr)
    require("plateau", np.asarray(lr) >= 0, "lr must be >= 0", {"lr": lr})
    require("plateau", np.asarray(min_lr) >= 0, "min_lr must be >= 0", {"min_lr": min_lr})
    for name, value in (("lr", lr), ("min_lr", min_lr)):
        try:
            np.broadcast_to(value, runs_shape)
        except ValueError:
            raise ValueError(f"plateau: {name} with shape {np.shape(value)} does not broadcast with the runs "
                             f"of metrics (shape {runs_shape}, metrics shape (..., epochs))") from None
    runs = int(np.prod(runs_shape, dtype=np.int64))
    flat = values.reshape(runs, values.shape[-1])
    lr_runs = np.ascontiguousarray(np.broadcast_to(lr, runs_shape), dtype=np.float64).reshape(runs)
    min_runs = np.ascontiguousarray(np.broadcast_to(min_lr, runs_shape), dtype=np.float64).reshape(runs)
    out = np.empty_like(flat)
    if out.size:
        _backends.active().plateau(flat, lr_runs, min_runs, out, maximize=mode == "max",
                                   relative=threshold_mode == "rel", factor=factor, threshold=threshold,
                                   patience=patience, cooldown=cooldown, eps=eps)
    return out.reshape(values.shape)
