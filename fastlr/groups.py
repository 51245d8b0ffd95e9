"""Per-group learning-rate multipliers: layer-wise decay, muP width scaling, values read from param groups.

Each helper returns a read-only float64 array with one entry per group. Combine it with any schedule:
``schedule * multipliers`` is a ``fastlr.Scaled`` schedule of ``param_shape (n_groups,)`` whose value at
step ``t`` is ``schedule(t) * multipliers``; ``fastlr.torch.LRScheduler`` gives group ``i`` entry ``i``.

>>> import fastlr
>>> from fastlr.groups import layerwise_decay
>>> per_layer = fastlr.Cosine(peak_lr=1e-3, total_steps=1000) * layerwise_decay(4, 0.5)
>>> per_layer(0).tolist()
[0.000125, 0.00025, 0.0005, 0.001]

No torch needed: anything with a ``param_groups`` attribute (or a list of dicts) works.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence
from typing import Any, Union

import numpy as np

from ._validation import describe

__all__ = ["layerwise_decay", "mup_width_multipliers", "group_values", "MUP_KINDS"]

_MISSING = object()


def _frozen(values) -> np.ndarray:
    array = np.array(values, dtype=np.float64)
    array.flags.writeable = False
    return array


def _real(name: str, value) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {describe(value)} ({type(value).__name__})")
    return float(value)


def layerwise_decay(n_layers: int, decay: float) -> np.ndarray:
    """Layer-wise LR decay (LLRD, as in BEiT/ELECTRA fine-tuning): ``decay ** (n_layers - 1 - i)``.

    Layer 0 is the one closest to the input (embeddings); the last layer (``i = n_layers - 1``, usually
    the head) gets 1, each layer below it ``decay`` times the one above. Returns ``n_layers`` float64
    values. ``n_layers`` must be an integer >= 1, ``decay`` a number in ``(0, 1]``.

    >>> layerwise_decay(3, 0.5).tolist()
    [0.25, 0.5, 1.0]
    """
    if isinstance(n_layers, (bool, np.bool_)) or not isinstance(n_layers, (int, np.integer)):
        raise TypeError(f"layerwise_decay: n_layers must be an integer, got {describe(n_layers)} "
                        f"({type(n_layers).__name__})")
    if n_layers < 1:
        raise ValueError(f"layerwise_decay: n_layers must be >= 1, got n_layers={n_layers}")
    decay = _real("layerwise_decay: decay", decay)
    if not (0.0 < decay <= 1.0):
        raise ValueError(f"layerwise_decay: decay must be in (0, 1], got decay={describe(decay)}")
    exponents = np.arange(int(n_layers) - 1, -1, -1, dtype=np.float64)
    return _frozen(np.power(decay, exponents))


#: The group kinds ``mup_width_multipliers`` knows, and whether their LR is scaled by base_width / width.
MUP_KINDS = {
    "input": False,      # input / embedding weights: O(1) fan-in, LR kept
    "embedding": False,
    "vector": False,     # biases, norm gains and other vector-like parameters: LR kept
    "hidden": True,      # hidden matrices (fan-in grows with width): LR * base_width / width
    "output": True,      # the output / readout matrix: LR * base_width / width
}


def mup_width_multipliers(kinds: Sequence[str], base_width: Union[float, Sequence[float]],
                          width: Union[float, Sequence[float]]) -> np.ndarray:
    """muP-style LR multipliers for Adam-type optimizers (Tensor Programs V, table 3 / ``mup.MuAdam``).

    Convention: ``kinds[i]`` names what group ``i`` holds. ``"input"``/``"embedding"`` weights and
    ``"vector"`` parameters (biases, norm gains) keep multiplier 1; ``"hidden"`` and ``"output"`` matrices
    get ``base_width / width`` (``1 / width_mult``), so a model tuned at ``base_width`` transfers its LR to
    ``width``. ``base_width`` and ``width`` are positive numbers, or one per group. (For muP with SGD, or
    for the output-logit multiplier, scale the model, not the LR.)

    >>> mup_width_multipliers(["embedding", "hidden", "hidden", "output", "vector"], 256, 1024).tolist()
    [1.0, 0.25, 0.25, 0.25, 1.0]
    """
    if isinstance(kinds, str) or not isinstance(kinds, Iterable):
        raise TypeError(f"mup_width_multipliers: kinds must be a sequence of strings, got {describe(kinds)}")
    kinds = list(kinds)
    if not kinds:
        raise ValueError("mup_width_multipliers: kinds must not be empty")
    scaled = []
    for i, kind in enumerate(kinds):
        if kind not in MUP_KINDS:
            raise ValueError(f"mup_width_multipliers: kinds[{i}]={kind!r} is not one of "
                             f"{', '.join(repr(k) for k in MUP_KINDS)}")
        scaled.append(MUP_KINDS[kind])
    n = len(kinds)
    ratio = []
    for name, value in (("base_width", base_width), ("width", width)):
        array = np.asarray(value, dtype=np.float64) if not isinstance(value, (str, bytes)) else None
        if array is None or array.ndim > 1 or (array.ndim == 1 and array.shape[0] != n):
            raise ValueError(f"mup_width_multipliers: {name} must be a number or one per group "
                             f"({n}), got {describe(value)}")
        if not np.all(np.isfinite(array) & (array > 0)):
            raise ValueError(f"mup_width_multipliers: {name} must be finite and > 0, got {describe(value)}")
        ratio.append(np.broadcast_to(array, (n,)))
    factors = np.where(np.array(scaled), ratio[0] / ratio[1], 1.0)
    return _frozen(factors)


def group_values(optimizer_or_groups: Any, key: str = "lr", default: Any = _MISSING) -> np.ndarray:
    """``np.array([group[key] for group in param_groups])`` as float64, for a torch optimizer (anything with
    ``param_groups``) or a list of dicts; tensor values are read with ``.item()``.

    Typical keys: ``"lr"`` / ``"initial_lr"`` (per-group peak LRs, for an absolute per-group schedule
    ``fastlr.Cosine(peak_lr=group_values(opt), ...)``), or your own multiplier key such as ``"lr_scale"``
    (timm) with ``default=1.0`` for groups that lack it. A group without ``key`` and no ``default`` is a
    ``KeyError`` naming the group; a value that is not a finite number >= 0 is a ``ValueError``.
    """
    groups = getattr(optimizer_or_groups, "param_groups", optimizer_or_groups)
    if isinstance(groups, dict) or not isinstance(groups, Iterable):
        raise TypeError(f"group_values: expected an optimizer or a list of param-group dicts, got "
                        f"{type(optimizer_or_groups).__name__}")
    values = []
    for i, group in enumerate(groups):
        if not isinstance(group, dict):
            raise TypeError(f"group_values: param_groups[{i}] is a {type(group).__name__}, not a dict")
        if key in group:
            value = group[key]
        elif default is not _MISSING:
            value = default
        else:
            raise KeyError(f"group_values: param_groups[{i}] has no {key!r} (pass default=...)")
        if hasattr(value, "item") and callable(value.item) and not isinstance(value, numbers.Real):
            value = value.item()
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"group_values: param_groups[{i}][{key!r}] is not a number: {describe(value)}") \
                from None
        if not (math.isfinite(number) and number >= 0):
            raise ValueError(f"group_values: param_groups[{i}][{key!r}] must be finite and >= 0, got "
                             f"{describe(value)}")
        values.append(number)
    if not values:
        raise ValueError("group_values: the optimizer has no param groups")
    return _frozen(values)
