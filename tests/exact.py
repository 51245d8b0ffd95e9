"""The high-precision oracle: every family's formula in mpmath at 60 significant digits, for tests only.

``exact(schedule, t)`` is the value of a schedule with scalar parameters at one step, in exact math, as a
Python float correctly rounded from the 60-digit value. Every backend (the numpy reference included) is
measured against it (``test_exact.py``), so "within a few ulp" means within a few ulp of the true value,
not of numpy's libm, whose last bits change with the CPU.

What is exact and what is the spec's float64: the continuous part of each formula (blends, divisions,
cosines, powers, tanh, sqrt) is evaluated exactly on the exact binary values of the parameters and the
step. The discrete decisions and the breakpoints the spec defines in float64 arithmetic are taken as the
spec computes them, because they are part of the schedule's definition (the anchors define them the same
way): which phase or cycle a step is in, the exponents of the step decays (``floor(t / step_size)``),
WSD's decay start ``max(T - D, W)``, OneCycle's phase ends ``pct_start * T - 1``, the restarts' cycle
starts, Cyclic's position in its cycle, and the local step a ``join`` or ``with_warmup`` hands its
children. Everything after them is exact.

``python tests/exact.py`` prints, for each family and backend, the worst error against the oracle over a
sample of schedules and steps, in ulps of the schedule's peak.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np

from fastlr import _reference

DIGITS = 60


def _m(x) -> mpmath.mpf:
    """The exact binary value of a float64."""
    return mpmath.mpf(float(x))


def _blend(a, b, c):
    return a * (1 - c) + b * c


def _cos_factor(p):
    """``(1 + cos(pi p)) / 2`` exactly (``p`` an mpf)."""
    return (1 + mpmath.cos(mpmath.pi * p)) / 2


def _clip01(x):
    return min(max(x, mpmath.mpf(0)), mpmath.mpf(1))


def _fdiv(num, den):
    """The spec's float64 ``num / den`` (0 where ``den == 0``): a decision or a breakpoint."""
    return num / den if den != 0 else 0.0


def _exact(s, t: float):
    """The exact value (an mpf) of schedule ``s`` (scalar parameters) at the float64 step ``t``."""
    name = type(s).__name__
    p = {k: v for k, v in s._values.items()}
    f = {k: float(v) for k, v in p.items() if isinstance(v, (int, float, np.floating, np.ndarray)) and np.ndim(v) == 0
         and not isinstance(v, bool)}
    T = f.get("total_steps")
    if name == "Constant":
        return _m(f["lr"])
    if name == "Linear":
        return _blend(_m(f["start_lr"]), _m(f["end_lr"]), _m(min(t, T)) / _m(T))
    if name == "StepDecay":
        return _m(f["lr"]) * _m(f["gamma"]) ** int(math.floor(t / f["step_size"]))
    if name == "MultiStep":
        count = sum(1 for m in p["milestones"] if m <= t)
        return _m(f["lr"]) * _m(f["gamma"]) ** count
    if name == "Exponential":
        e = int(math.floor(t / f["step_size"])) if p["staircase"] else _m(t) / _m(f["step_size"])
        cap = _m(p["max_lr"]) if p.get("max_lr") is not None else mpmath.inf
        return min(max(_m(f["lr"]) * _m(f["gamma"]) ** e, _m(f["min_lr"])), cap)
    if name == "InverseTime":
        e = int(math.floor(t / f["decay_steps"])) if p["staircase"] else _m(t) / _m(f["decay_steps"])
        return _m(f["lr"]) / (1 + _m(f["decay_rate"]) * e)
    if name == "Polynomial":
        q = (1 - _m(min(t, T)) / _m(T)) ** _m(f["power"])
        return _blend(_m(f["end_lr"]), _m(f["start_lr"]), q)
    if name == "Cosine":
        return _blend(_m(f["min_lr"]), _m(f["peak_lr"]), _cos_factor(_m(min(t, T)) / _m(T)))
    if name == "CosineRestarts":
        c, m = f["cycle_steps"], f["cycle_mult"]
        i = float(_reference.restart_cycle(np.float64(t), c, m))
        limit = p["cycle_limit"]
        if limit is not None and i >= float(limit):
            return _m(f["min_lr"])
        start = float(_reference._restart_start(np.float64(i), c, m))
        phase = (_m(t) - _m(start)) / (_m(c) * _m(m) ** int(i))
        peak = _m(f["peak_lr"]) * _m(f["cycle_decay"]) ** int(i)
        return _blend(_m(f["min_lr"]), peak, _cos_factor(phase))
    if name == "WarmupCosine":
        W = f["warmup_steps"]
        if t >= T:
            return _m(f["min_lr"])
        if t < W:
            return _blend(_m(f["init_lr"]), _m(f["peak_lr"]), _m(t) / _m(W))
        phase = (_m(t) - _m(W)) / (_m(T) - _m(W)) if T != W else mpmath.mpf(0)
        return _blend(_m(f["min_lr"]), _m(f["peak_lr"]), _cos_factor(phase))
    if name == "WarmupStableDecay":
        W, D = f["warmup_steps"], f["decay_steps"]
        start = max(T - D, W)
        if t >= T:
            return _m(f["min_lr"])
        if t < W:
            return _blend(_m(f["init_lr"]), _m(f["peak_lr"]), _m(t) / _m(W))
        if t < start:
            return _m(f["peak_lr"])
        x = _clip01((_m(t) - _m(start)) / _m(D)) if D != 0 else mpmath.mpf(0)
        shape = p["decay_shape"]
        s_ = {"linear": lambda: 1 - x, "cosine": lambda: _cos_factor(x), "1-sqrt": lambda: 1 - mpmath.sqrt(x),
              "1-square": lambda: 1 - x * x}[shape]()
        return _blend(_m(f["min_lr"]), _m(f["peak_lr"]), s_)
    if name == "OneCycle":
        mx, pct = _m(f["max_lr"]), f["pct_start"]
        initial = mx / _m(f["div_factor"])
        final = initial / _m(f["final_div_factor"])
        first_end, last_end = pct * T - 1.0, T - 1.0
        if p["three_phase"]:
            ends = [first_end, 2.0 * pct * T - 2.0, last_end]
            lrs = [(initial, mx), (mx, initial), (initial, final)]
        else:
            ends = [first_end, last_end]
            lrs = [(initial, mx), (mx, final)]
        held = min(t, last_end)
        start = 0.0
        for k, (end, (lr_from, lr_to)) in enumerate(zip(ends, lrs)):
            if held <= end or k == len(ends) - 1:
                q = _clip01((_m(held) - _m(start)) / (_m(end) - _m(start))) if end - start > 0 else mpmath.mpf(1)
                c = _cos_factor(q) if p["anneal"] == "cos" else 1 - q
                return _blend(lr_to, lr_from, c)
            start = end
        raise AssertionError("unreachable")
    if name == "Cyclic":
        up = f["step_size_up"]
        down = f["step_size_down"] if p["step_size_down"] is not None else up
        total = up + down
        ratio = up / total
        cycle = math.floor(1.0 + t / total)
        x = 1.0 + t / total - cycle  # the spec's position in the cycle (float64, as the anchor's)
        if x <= ratio:
            scale = _m(x) / _m(ratio)
        else:
            scale = (_m(x) - 1) / (_m(ratio) - 1) if ratio != 1.0 else mpmath.mpf(0)
        mode = p["mode"]
        g = 1 if mode == "triangular" else (mpmath.mpf(2) ** -(cycle - 1) if mode == "triangular2"
                                            else _m(f["gamma"]) ** _m(t))
        return _m(f["base_lr"]) + (_m(f["max_lr"]) - _m(f["base_lr"])) * scale * g
    if name == "InverseSqrt":
        W = f["warmup_steps"]
        if t < W:
            return _blend(_m(f["init_lr"]), _m(f["peak_lr"]), _m(t) / _m(W))
        return _m(f["peak_lr"]) * mpmath.sqrt(_m(max(W, 1.0)) / _m(max(t, 1.0)))
    if name == "Tanh":
        if t >= T:
            return _m(f["min_lr"])
        lo, hi = _m(f["lower"]), _m(f["upper"])
        c = (1 - mpmath.tanh(lo + (hi - lo) * (_m(t) / _m(T)))) / 2
        return _blend(_m(f["min_lr"]), _m(f["peak_lr"]), c)
    if name == "PiecewiseConstant":
        return _m(p["values"][sum(1 for b in p["boundaries"] if b <= t)])
    if name == "PiecewiseLinear":
        b, v = [float(x) for x in p["boundaries"]], [float(x) for x in p["values"]]
        index = sum(1 for x in b if x <= t)
        if index == 0:
            return _m(v[0])
        if index >= len(b):
            return _m(v[-1])
        left, right = b[index - 1], b[index]
        frac = _clip01((_m(t) - _m(left)) / (_m(right) - _m(left))) if right > left else mpmath.mpf(0)
        return _blend(_m(v[index - 1]), _m(v[index]), frac)
    if name == "Join":
        parts, boundaries = p["schedules"], [float(x) for x in p["boundaries"]]
        value = _exact(parts[0], t)
        for part, boundary in zip(parts[1:], boundaries):
            if t >= boundary:
                value = _exact(part, max(t - boundary, 0.0))
        return value
    if name == "WithWarmup":
        W = float(p["warmup_steps"])
        if t < W:
            return _blend(_m(p["init_lr"]), _exact(p["schedule"], 0.0), _m(t) / _m(W))
        return _exact(p["schedule"], max(t - W, 0.0))
    if name == "Offset":
        return _exact(p["schedule"], max(t + float(p["steps"]), 0.0))
    if name == "Product":
        return _exact(p["first"], t) * _exact(p["second"], t)
    if name == "Scaled":
        return _m(p["factor"]) * _exact(p["schedule"], t)
    raise AssertionError(f"no exact formula for {name}")


def exact(schedule, steps) -> np.ndarray:
    """The exact values of ``schedule`` (scalar parameters) at the float64 ``steps``, each correctly
    rounded to float64."""
    if schedule.param_shape != ():
        raise ValueError("the oracle takes schedules with scalar parameters")
    steps = np.asarray(steps, dtype=np.float64)
    with mpmath.workdps(DIGITS):
        values = [float(_exact(schedule, float(t))) for t in steps.ravel()]
    return np.array(values, dtype=np.float64).reshape(steps.shape)


def exact_mp(schedule, t: float):
    """The 60-digit value itself (an mpf), for measuring errors below an ulp."""
    with mpmath.workdps(DIGITS):
        return _exact(schedule, float(t))


if __name__ == "__main__":  # pragma: no cover - a report, run by hand
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from test_exact import report

    report()
