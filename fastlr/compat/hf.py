"""transformers' ``get_scheduler`` with its names and arguments, as a fastlr schedule.

Every HF schedule is a ``LambdaLR``: the group LR is ``lr * lambda(t)``. ``get_scheduler`` here builds
the multiplier from fastlr families and combinators (``join``, ``Cosine``, ``CosineRestarts``, ...) and
scales it by ``lr`` (a float, or one value per parameter group). The value at ``t`` is the LR of update
``t`` when the scheduler is stepped after each optimizer step, as the Trainer does.
"""

from __future__ import annotations

import math
from typing import Any, Optional

import numpy as np

from .._validation import describe
from ..schedules import (
    Constant,
    Cosine,
    CosineRestarts,
    InverseSqrt,
    Join,
    Linear,
    Offset,
    PiecewiseConstant,
    Polynomial,
    Product,
    Schedule,
    WarmupStableDecay,
)
from ._common import after, cosine_waves, lr_param, number, scaled, unsupported

__all__ = ["SCHEDULER_NAMES", "get_scheduler"]

SCHEDULER_NAMES = ("linear", "cosine", "cosine_with_restarts", "polynomial", "constant", "constant_with_warmup",
                   "inverse_sqrt", "cosine_with_min_lr", "cosine_warmup_with_min_lr", "warmup_stable_decay")
_METRIC_DRIVEN = ("reduce_lr_on_plateau", "greedy")
# a cosine with many cycles is a join of that many half waves; past this it is refused
MAX_HALF_WAVES = 1024

_KWARGS = {
    "linear": (), "constant": (), "constant_with_warmup": (),
    "cosine": ("num_cycles",),
    "cosine_with_restarts": ("num_cycles",),
    "polynomial": ("lr_end", "power"),
    "inverse_sqrt": ("timescale",),
    "cosine_with_min_lr": ("num_cycles", "min_lr", "min_lr_rate"),
    "cosine_warmup_with_min_lr": ("num_cycles", "min_lr", "min_lr_rate", "warmup_lr_rate"),
    "warmup_stable_decay": ("num_decay_steps", "num_stable_steps", "warmup_type", "decay_type", "min_lr_ratio",
                            "num_cycles"),
}


def get_scheduler(name: Any, lr: Any, num_warmup_steps: Optional[int] = None,
                  num_training_steps: Optional[int] = None,
                  scheduler_specific_kwargs: Optional[dict] = None, *,
                  optimizer_lr: Optional[float] = None) -> Schedule:
    """The schedule of ``transformers.get_scheduler(name, optimizer, ...)`` for an optimizer whose groups
    start at ``lr``. ``optimizer_lr``: the optimizer's default LR (``optimizer.defaults['lr']``), which
    HF's ``polynomial`` and ``min_lr`` normalise by; it defaults to ``lr`` (required when ``lr`` holds
    different per-group values and one of those is used).

    Warmup (all but the last two): ``t / max(1, W)`` for ``t < W``. Past ``num_training_steps`` HF's
    ``cosine`` and ``cosine_with_min_lr`` keep oscillating; this schedule finishes the half wave in
    progress at ``T`` and holds its end. ``inverse_sqrt`` is translated for ``timescale == W >= 1``
    (HF's default when ``W >= 1``); ``reduce_lr_on_plateau`` and ``greedy`` depend on the metric (see
    ``fastlr.plateau``, not built yet) and are refused.
    """
    owner = "get_scheduler"
    name = getattr(name, "value", name)
    if name in _METRIC_DRIVEN:
        raise unsupported(owner, f"{name!r} (driven by the validation metric)", "fastlr.plateau")
    if name not in SCHEDULER_NAMES:
        raise ValueError(f"{owner}: unknown scheduler name {describe(name)}; known: {', '.join(SCHEDULER_NAMES)}")
    lr = lr_param(owner, lr)
    kwargs = dict(scheduler_specific_kwargs or {})
    unknown = sorted(set(kwargs) - set(_KWARGS[name]))
    if unknown:
        raise TypeError(f"{owner}: {name!r} takes no scheduler_specific_kwargs {', '.join(unknown)} "
                        f"(it takes {', '.join(_KWARGS[name]) or 'none'})")
    if name == "constant":
        return scaled(Constant(1.0), lr)
    if num_warmup_steps is None:
        raise ValueError(f"{owner}: {name!r} requires num_warmup_steps")
    warmup = number(owner, "num_warmup_steps", num_warmup_steps, minimum=0)
    if name == "constant_with_warmup":
        return scaled(_warm(warmup, Constant(1.0)), lr)
    if name == "inverse_sqrt":
        return scaled(_inverse_sqrt(owner, warmup, kwargs.get("timescale")), lr)
    if name == "warmup_stable_decay":
        total = None if num_training_steps is None else number(owner, "num_training_steps", num_training_steps)
        return scaled(_wsd(owner, warmup, total, **kwargs), lr)
    if num_training_steps is None:
        raise ValueError(f"{owner}: {name!r} requires num_training_steps")
    total = number(owner, "num_training_steps", num_training_steps, minimum=0)
    if name == "linear":
        unit = _warm(warmup, _linear_decay(total - warmup))
    elif name == "cosine":
        unit = _warm(warmup, _waves(owner, 0.0, total - warmup, kwargs.get("num_cycles", 0.5)))
    elif name == "cosine_with_min_lr":
        rate = _min_rate(owner, lr, optimizer_lr, kwargs)
        unit = _warm(warmup, _waves(owner, rate, total - warmup, kwargs.get("num_cycles", 0.5)))
    elif name == "cosine_with_restarts":
        unit = _warm(warmup, _restarts(owner, total - warmup, kwargs.get("num_cycles", 1.0)))
    elif name == "polynomial":
        unit = _polynomial(owner, lr, optimizer_lr, warmup, total, **kwargs)
    else:
        unit = _cosine_warmup_min(owner, lr, optimizer_lr, warmup, total, kwargs)
    return scaled(unit, lr)


def _warm(warmup: float, decay: Schedule) -> Schedule:
    """``t / max(1, W)`` for ``t < W``, then ``decay`` on the local step ``t - W``."""
    if warmup == 0:
        return decay
    return Join([Linear(0.0, 1.0, max(1.0, warmup)), decay], [warmup])


def _linear_decay(span: float) -> Schedule:
    """HF's ``max(0, (T - t) / max(1, T - W))`` on the local step: from ``span / max(1, span)`` to 0."""
    if span >= 1:
        return Linear(1.0, 0.0, span)
    if span > 0:
        return Linear(span, 0.0, span)
    return Constant(0.0)


def _waves(owner: str, rate: float, span: float, num_cycles) -> Schedule:
    """``r + (1 - r)(1 + cos(2 pi cycles u / max(1, span))) / 2``: half waves of length
    ``max(1, span) / (2 cycles)``, as many as reach the horizon ``u = span``."""
    cycles = abs(number(owner, "num_cycles", num_cycles))
    if cycles == 0:
        return Constant(1.0)
    half = max(1.0, span) / (2.0 * cycles)
    count = max(1, math.ceil(max(span, 0.0) / half))
    if count > MAX_HALF_WAVES:
        raise unsupported(owner, f"num_cycles={cycles:g} ({count} half waves)", "a periodic cosine family")
    return cosine_waves(1.0, rate, half, count)


def _restarts(owner: str, span: float, num_cycles) -> Schedule:
    """HF's hard restarts: ``num_cycles`` equal cosine cycles over ``max(1, span)``, then 0."""
    cycles = number(owner, "num_cycles", num_cycles, minimum=0)
    length = max(1.0, span)
    inner = Constant(1.0) if cycles == 0 else CosineRestarts(1.0, length / cycles)
    return Join([inner, Constant(0.0)], [length])


def _min_rate(owner, lr, optimizer_lr, kwargs) -> float:
    min_lr, rate = kwargs.get("min_lr"), kwargs.get("min_lr_rate")
    if min_lr is not None and rate is not None:
        raise ValueError(f"{owner}: give only one of min_lr and min_lr_rate")
    if min_lr is None and rate is None:
        raise ValueError(f"{owner}: give min_lr or min_lr_rate in scheduler_specific_kwargs")
    if rate is not None:
        return number(owner, "min_lr_rate", rate, minimum=0)
    return number(owner, "min_lr", min_lr, minimum=0) / _default_lr(owner, lr, optimizer_lr, "min_lr")


def _default_lr(owner, lr, optimizer_lr, why) -> float:
    if optimizer_lr is not None:
        return number(owner, "optimizer_lr", optimizer_lr, minimum=0, strict=True)
    values = np.unique(np.asarray(lr, dtype=np.float64))
    if values.size != 1:
        raise ValueError(f"{owner}: {why} is relative to optimizer.defaults['lr']; the groups' lr differ "
                         f"({describe(lr)}), so pass optimizer_lr=")
    if values[0] <= 0:
        raise ValueError(f"{owner}: {why} needs optimizer.defaults['lr'] > 0, got lr={describe(lr)}")
    return float(values[0])


def _polynomial(owner, lr, optimizer_lr, warmup, total, lr_end=1e-7, power=1.0) -> Schedule:
    init = _default_lr(owner, lr, optimizer_lr, "polynomial")
    lr_end = number(owner, "lr_end", lr_end, minimum=0)
    power = number(owner, "power", power, minimum=0)
    if not init > lr_end:
        raise ValueError(f"{owner}: lr_end ({describe(lr_end)}) must be smaller than the initial lr "
                         f"({describe(init)})")
    span = total - warmup
    if span == 0:
        raise ValueError(f"{owner}: polynomial with num_warmup_steps == num_training_steps divides by zero "
                         f"at t = {describe(warmup)} (HF raises ZeroDivisionError)")
    end = lr_end / init
    if span < 0:
        decay: Schedule = Constant(end)
    elif power == 0:
        decay = PiecewiseConstant([after(span)], [1.0, end])  # 0 ** 0 = 1 up to T included
    else:
        decay = Polynomial(1.0, end, span, power)
    return _warm(warmup, decay)


def _inverse_sqrt(owner, warmup, timescale) -> Schedule:
    if timescale is None:
        timescale = warmup or 10_000
    timescale = number(owner, "timescale", timescale, minimum=0, strict=True)
    if timescale == warmup and warmup >= 1:
        return InverseSqrt(1.0, warmup)
    # after the warmup, 1 / sqrt((t + timescale - W) / timescale): InverseSqrt's decay past its own
    # warmup of `timescale` steps, seen from the local step t - W on
    return _warm(warmup, Offset(InverseSqrt(1.0, timescale), timescale))


def _cosine_warmup_min(owner, lr, optimizer_lr, warmup, total, kwargs) -> Schedule:
    rate = _min_rate(owner, lr, optimizer_lr, kwargs)
    span = total - warmup
    length = max(1.0, span)
    cycles = abs(number(owner, "num_cycles", kwargs.get("num_cycles", 0.5)))
    if cycles == 0:
        decay: Schedule = Constant(1.0)
    else:
        half = length / (2.0 * cycles)
        count = max(1, math.ceil(max(span + 1.0, 0.0) / half))
        if count > MAX_HALF_WAVES:
            raise unsupported(owner, f"num_cycles={cycles:g} ({count} half waves)", "a periodic cosine family")
        decay = cosine_waves(1.0, rate, half, count)
    warmup_rate = kwargs.get("warmup_lr_rate")
    if warmup_rate is not None:
        warmup_rate = number(owner, "warmup_lr_rate", warmup_rate, minimum=0)
    if warmup < 1 or not float(warmup).is_integer():
        # the decay's phase 0 falls on t = W - 1, before the warmup ends: from t = W on it runs one
        # step ahead of the local step t - W
        ahead = Offset(decay, 1.0)
        if warmup == 0:
            return ahead
        if warmup_rate is None:  # (t + 1) / max(1, W)
            ramp = Linear(1.0 / max(1.0, warmup), (warmup + 1.0) / max(1.0, warmup), warmup)
        else:  # r + (1 - r) t / max(1, W - 1)
            ramp = Linear(warmup_rate, warmup_rate + (1.0 - warmup_rate) * warmup / max(1.0, warmup - 1.0), warmup)
        return Join([ramp, ahead], [warmup])
    # the decay's phase 0 falls on t = W - 1, where the warmup reaches 1
    if warmup_rate is None:
        ramp = Linear(1.0 / warmup, 1.0, warmup - 1) if warmup > 1 else None
    elif warmup == 1:  # a single warmup step at warmup_lr_rate, then the decay at phase 1 / max(1, T - W)
        return Product(decay, PiecewiseConstant([1.0], [warmup_rate, 1.0]))
    else:
        ramp = Linear(warmup_rate, 1.0, warmup - 1)
    return decay if ramp is None else Join([ramp, decay], [warmup - 1])


def _wsd(owner, warmup, total, num_decay_steps=None, num_stable_steps=None, warmup_type="linear",
         decay_type="cosine", min_lr_ratio=0.0, num_cycles=0.5) -> Schedule:
    if num_decay_steps is None:
        raise ValueError(f"{owner}: warmup_stable_decay requires num_decay_steps in scheduler_specific_kwargs")
    decay_steps = number(owner, "num_decay_steps", num_decay_steps, minimum=0)
    if num_stable_steps is not None:
        stable = number(owner, "num_stable_steps", num_stable_steps, minimum=0)
    elif total is None:
        raise ValueError(f"{owner}: warmup_stable_decay requires num_training_steps or num_stable_steps")
    else:
        stable = total - warmup - decay_steps
        if stable < 0:
            raise ValueError(f"{owner}: num_training_steps ({describe(total)}) must be >= num_warmup_steps + "
                             f"num_decay_steps ({describe(warmup + decay_steps)})")
    rate = number(owner, "min_lr_ratio", min_lr_ratio, minimum=0)
    if warmup_type not in ("linear", "cosine", "1-sqrt"):
        raise ValueError(f"{owner}: warmup_type must be 'linear', 'cosine' or '1-sqrt', got {describe(warmup_type)}")
    if decay_type not in ("linear", "cosine", "1-sqrt"):
        raise ValueError(f"{owner}: decay_type must be 'linear', 'cosine' or '1-sqrt', got {describe(decay_type)}")
    parts: list[Schedule] = []
    starts: list[float] = []
    if warmup > 0:
        span = max(1.0, warmup)
        ramp = {"linear": Linear(rate, 1.0, span), "cosine": Cosine(rate, span, 1.0),
                "1-sqrt": Polynomial(rate, 1.0, span, 0.5)}[warmup_type]
        parts.append(ramp)
        starts.append(0.0)
    if stable > 0:
        parts.append(Constant(1.0))
        starts.append(warmup)
    if decay_steps > 0:
        span = max(1.0, decay_steps)
        if decay_type == "linear":
            decay: Schedule = Linear(1.0, rate, span)
        elif decay_type == "1-sqrt":
            decay = WarmupStableDecay(1.0, span, 0.0, span, rate, decay_shape="1-sqrt")
        else:
            decay = _waves(owner, rate, span, num_cycles)
        parts.append(decay)
        starts.append(warmup + stable)
    parts.append(Constant(rate))
    starts.append(warmup + stable + decay_steps)
    if len(parts) == 1:
        return parts[0]
    return Join(parts, starts[1:])


# HF's schedulers are LambdaLRs over functools.partial of these module-level functions; from_torch reads
# their keywords back: (scheduler name, warmup keyword, total keyword, scheduler_specific_kwargs keys)
_LAMBDAS = {
    "_get_constant_lambda": ("constant", None, None, ()),
    "_get_constant_schedule_with_warmup_lr_lambda": ("constant_with_warmup", "num_warmup_steps", None, ()),
    "_get_linear_schedule_with_warmup_lr_lambda": ("linear", "num_warmup_steps", "num_training_steps", ()),
    "_get_cosine_schedule_with_warmup_lr_lambda": ("cosine", "num_warmup_steps", "num_training_steps",
                                                   ("num_cycles", "min_lr_rate")),
    "_get_cosine_with_hard_restarts_schedule_with_warmup_lr_lambda": (
        "cosine_with_restarts", "num_warmup_steps", "num_training_steps", ("num_cycles",)),
    "_get_polynomial_decay_schedule_with_warmup_lr_lambda": ("polynomial", "num_warmup_steps",
                                                             "num_training_steps", ("lr_end", "power")),
    "_get_inverse_sqrt_schedule_lr_lambda": ("inverse_sqrt", "num_warmup_steps", None, ("timescale",)),
    "_get_cosine_with_min_lr_schedule_with_warmup_lr_rate_lambda": (
        "cosine_warmup_with_min_lr", "num_warmup_steps", "num_training_steps",
        ("num_cycles", "min_lr_rate", "warmup_lr_rate")),
    "_get_wsd_scheduler_lambda": ("warmup_stable_decay", "num_warmup_steps", None,
                                  ("num_decay_steps", "num_stable_steps", "warmup_type", "decay_type",
                                   "min_lr_ratio", "num_cycles")),
}


def unit_from_lambda(function) -> Optional[Schedule]:
    """The multiplier schedule of one of transformers' own ``lr_lambda`` functions (a
    ``functools.partial`` of a known function of ``transformers.optimization``), or ``None``."""
    import functools

    keywords: dict = {}
    if isinstance(function, functools.partial):
        if function.args:
            return None
        keywords = dict(function.keywords)
        function = function.func
    if getattr(function, "__module__", None) != "transformers.optimization":
        return None
    entry = _LAMBDAS.get(getattr(function, "__name__", ""))
    if entry is None:
        return None
    name, warmup_key, total_key, specific = entry
    if set(keywords) - {warmup_key, total_key, "lr_init", *specific}:
        return None
    kwargs = {key: keywords[key] for key in specific if key in keywords}
    if name == "cosine" and kwargs.pop("min_lr_rate", 0.0):
        name, kwargs["min_lr_rate"] = "cosine_with_min_lr", keywords["min_lr_rate"]
    if name == "warmup_stable_decay":
        kwargs.setdefault("num_stable_steps", keywords.get("num_stable_steps"))
    optimizer_lr = keywords.get("lr_init")
    return get_scheduler(name, 1.0, keywords.get(warmup_key), keywords.get(total_key), kwargs,
                         optimizer_lr=optimizer_lr)
