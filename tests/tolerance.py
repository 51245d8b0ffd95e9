"""The one tolerance table of the test suite, and the helpers that apply it.

Every comparison of a computed learning rate with another (the exact oracle, the numpy reference, an
anchor library, a second backend, a second route through the same backend) takes its allowance from
``TOLERANCE``. Allowances are relative to the schedule's **peak** (API section 4): the largest value
the schedule can take, element by element for array parameters (``peak``), never the largest value of
the sample at hand. ``docs/accuracy.md`` shows the same table (``test_exact.py`` checks that they agree).
"""

from __future__ import annotations

import functools

import numpy as np

TOLERANCE = {
    # float64, any backend (the numpy reference too) against the exact value (mpmath, 60 digits)
    "exact_peak_ulps": 4,
    # float64, a backend against the numpy reference: both lie within the exact allowance
    "reference_peak_ulps": 8,
    # float32 results: within this many float32 ulps of the rounded float64 value (plus the float64
    # allowance before that one rounding)
    "float32_ulps": 1,
    # invariants (bounds, monotonicity, continuity across a boundary): slack in ulps of the peak
    "invariant_peak_ulps": 16,
    # the perturbation of the reference's transcendentals in the libm-jitter test mode (ulps of each
    # result): a libm within this error bound must pass the whole agreement suite
    "libm_jitter_ulps": 2,
    # an anchor library's own result (torch, optax, transformers) against fastlr's, relative to the
    # peak: the anchors step through recursive updates or float32 counts that accumulate rounding
    "anchor_rel_peak": 1e-12,
    # a library that computes in float32 (JAX without x64, torch on MPS): the reference of the
    # float32-rounded parameters at a step within this relative distance of t (every phase position
    # carries a float32 rounding of t), plus this many float32 ulps of the peak
    "float32_compute_step_relative": 2.0**-18,
    "float32_compute_peak_ulps32": 4,
    # XLA's float64 division by a broadcast scalar (its reciprocal, an ulp off): the step within this
    # relative distance, then the float64 row
    "xla_float64_step_relative": 2.0**-50,
}


def _a(x):
    return np.asarray(x, dtype=np.float64)


def bounds(s):
    """``(low, high)`` arrays (broadcastable to the parameter shape) that every value lies within."""
    p = s._values
    name = type(s).__name__
    mn = np.minimum
    mx = np.maximum
    if name == "Constant":
        return _a(p["lr"]), _a(p["lr"])
    if name in ("Linear", "Polynomial"):
        return mn(_a(p["start_lr"]), _a(p["end_lr"])), mx(_a(p["start_lr"]), _a(p["end_lr"]))
    if name in ("StepDecay", "MultiStep", "InverseTime"):
        return _a(0.0), _a(p["lr"])
    if name == "Exponential":  # a growth (gamma > 1) rises to max_lr (unbounded without one)
        cap = _a(np.inf if p["max_lr"] is None else p["max_lr"])
        return _a(p["min_lr"]), np.where(_a(p["gamma"]) > 1, cap, _a(p["lr"]))
    if name in ("Cosine", "Tanh"):
        return mn(_a(p["peak_lr"]), _a(p["min_lr"])), mx(_a(p["peak_lr"]), _a(p["min_lr"]))
    if name == "CosineRestarts":
        return _a(0.0), mx(_a(p["peak_lr"]), _a(p["min_lr"]))
    if name in ("WarmupCosine", "WarmupStableDecay"):
        lrs = [_a(p["peak_lr"]), _a(p["min_lr"]), _a(p["init_lr"])]
        return mn(mn(lrs[0], lrs[1]), lrs[2]), mx(mx(lrs[0], lrs[1]), lrs[2])
    if name == "OneCycle":
        initial = _a(p["max_lr"]) / _a(p["div_factor"])
        final = initial / _a(p["final_div_factor"])
        return mn(final, initial), mx(_a(p["max_lr"]), initial)
    if name == "Cyclic":
        return _a(p["base_lr"]), _a(p["max_lr"])
    if name == "InverseSqrt":
        return _a(0.0), mx(_a(p["peak_lr"]), _a(p["init_lr"]))
    if name in ("PiecewiseConstant", "PiecewiseLinear"):
        return _a(min(p["values"])), _a(max(p["values"]))
    if name == "Join":
        parts = [bounds(c) for c in p["schedules"]]
        return (functools.reduce(np.minimum, [lo for lo, _ in parts]),
                functools.reduce(np.maximum, [hi for _, hi in parts]))
    if name == "Product":
        (l1, h1), (l2, h2) = bounds(p["first"]), bounds(p["second"])
        return l1 * l2, h1 * h2
    if name == "Scaled":
        lo, hi = bounds(p["schedule"])
        return lo * _a(p["factor"]), hi * _a(p["factor"])
    if name == "Offset":  # the same values, seen at other steps
        return bounds(p["schedule"])
    if name == "WithWarmup":
        lo, hi = bounds(p["schedule"])
        return mn(lo, _a(p["init_lr"])), mx(hi, _a(p["init_lr"]))
    raise AssertionError(f"no bounds for {name}")


def peak(schedule) -> np.ndarray:
    """The schedule's peak, element by element: an array that broadcasts to its parameter shape."""
    lo, hi = bounds(schedule)
    return np.maximum(np.abs(lo), np.abs(hi))


def schedule_peak(schedule) -> float:
    """The largest peak over all elements (one number, for a message or a scalar bound)."""
    return float(np.max(peak(schedule)))


def peak_allowance(peak_values, ulps) -> np.ndarray:
    """``ulps`` ulps of the peak, element by element (0 where the peak is 0: a zero schedule is exact)."""
    return ulps * np.spacing(np.abs(_a(peak_values)))


def _check(result, target, allowed64, dtype, context):
    result = np.asarray(result)
    target = np.asarray(target, dtype=np.float64)
    assert result.shape == target.shape, f"{context}: shape {result.shape} != {target.shape}"
    assert result.dtype == np.dtype(dtype), f"{context}: dtype {result.dtype} != {np.dtype(dtype)}"
    assert np.all(np.isfinite(result)), f"{context}: non-finite values {result[~np.isfinite(result)][:5]}"
    if np.dtype(dtype) == np.float64:
        error = np.abs(result - target)
        allowed = allowed64
    else:
        rounded = target.astype(np.float32)
        allowed = float32_allowed(rounded) + allowed64
        error = np.abs(result.astype(np.float64) - rounded.astype(np.float64))
    bad = error > allowed
    if np.any(bad):
        index = np.unravel_index(int(np.argmax(bad)), bad.shape) if bad.ndim else ()
        raise AssertionError(
            f"{context}: {int(np.sum(bad))} of {bad.size} elements out of tolerance ({np.dtype(dtype)}); "
            f"first at {index}: got {result[index]!r}, want {target[index]!r}, error {error[index]!r}, "
            f"allowed {np.asarray(allowed)[index]!r}")


def assert_agrees(result, reference, schedule, dtype=np.float64, context="") -> None:
    """A backend's ``result`` against the numpy reference's float64 ``reference`` for ``schedule``:
    float64 within ``reference_peak_ulps`` ulps of the peak; float32 within ``float32_ulps`` of the
    rounded reference plus that."""
    assert_agrees_peak(result, reference, peak(schedule), dtype, context)


def assert_agrees_peak(result, reference, peak_values, dtype=np.float64, context="") -> None:
    """``assert_agrees`` given the peak itself (an engine test's program has no schedule object)."""
    target = np.asarray(reference, dtype=np.float64)
    allowed = np.broadcast_to(peak_allowance(peak_values, TOLERANCE["reference_peak_ulps"]), target.shape)
    _check(result, target, allowed, dtype, context)


def program_peak(program) -> np.ndarray:
    """The peak of a compiled program (``fastlr._program.Program``), element by element: the largest
    learning-rate operand of each family (the operands named ``lr`` or ``*_lr``, the values of a
    piecewise table), carried through the combinators (a scale or a product multiplies peaks, a
    select or a ramp takes the larger)."""
    from fastlr import _families, _program

    lr_operands = {spec.opcode: [k for k, name in enumerate(spec.operands) if name == "lr" or name.endswith("_lr")]
                   for spec in _families.FAMILIES}

    def operand(k):
        start = program.operand_offset[k]
        size = int(np.prod(program.operand_shape[k], dtype=np.int64))
        return np.abs(program.operand_data[start:start + size].reshape(program.operand_shape[k]))

    register = {}
    for row in np.asarray(program.code):
        opcode, dst, src, src2, src3, _mode, t_off, t_len = (int(x) for x in row[:8])
        ops = [int(x) for x in row[8:] if x >= 0]
        if opcode in (_program.PIECEWISE_CONSTANT, _program.PIECEWISE_LINEAR):
            values = program.tables[t_off + t_len:t_off + 2 * t_len + (1 if opcode == _program.PIECEWISE_CONSTANT else 0)]
            register[dst] = np.asarray(np.max(np.abs(values), initial=0.0))
        elif opcode in lr_operands:
            # an infinite learning-rate operand is "none" (Exponential's max_lr): not a peak
            values = [np.where(np.isfinite(operand(ops[k])), operand(ops[k]), 0.0) for k in lr_operands[opcode]]
            register[dst] = functools.reduce(np.maximum, values, _a(0.0))
        elif opcode == _program.SCALE:
            register[dst] = register[src] * operand(ops[0])
        elif opcode == _program.MUL:
            register[dst] = register[src] * register[src2]
        elif opcode == _program.SELECT:
            register[dst] = np.maximum(register[src2], register[src3])
        elif opcode == _program.RAMP:
            register[dst] = np.maximum(np.maximum(register[src2], register[src3]), operand(ops[1]))
        # SHIFT and ZERO write steps, not learning rates
    return register[program.result_register]


def assert_exact(result, exact_values, schedule, dtype=np.float64, context="") -> None:
    """A result against the exact (mpmath) values: float64 within ``exact_peak_ulps`` ulps of the peak."""
    target = np.asarray(exact_values, dtype=np.float64)
    allowed = np.broadcast_to(peak_allowance(peak(schedule), TOLERANCE["exact_peak_ulps"]), target.shape)
    _check(result, target, allowed, dtype, context)


def float32_allowed(rounded) -> np.ndarray:
    """``float32_ulps`` float32 ulps of the rounded values (a float32 result against the rounded float64
    result of the same backend: the contract's single rounding)."""
    return TOLERANCE["float32_ulps"] * np.spacing(np.abs(np.asarray(rounded, dtype=np.float32))).astype(np.float64)


def invariant_slack(schedule) -> np.ndarray:
    """The slack of an invariant (bounds, monotonicity), element by element."""
    return peak_allowance(peak(schedule), TOLERANCE["invariant_peak_ulps"])
