"""The numpy reference: the spec of every schedule, one readable formula per family.

Every function takes the steps ``t`` (float64, finite, >= 0) and the parameters as float64 arrays or
scalars that broadcast with ``t``, and returns a float64 array of the broadcast shape. The C++ core and
the numba kernels follow these formulas operation for operation; the order of operations is part of
the spec because it fixes the exact values at phase boundaries:

* blends are written ``a * (1 - c) + b * c``, which is exactly ``a`` at ``c = 0`` and exactly ``b`` at
  ``c = 1`` (``a + (b - a) * c`` is not);
* a cosine factor is ``c = 0.5 * (1 + cos(pi * p))``, set to exactly 1 at ``p = 0`` and 0 at ``p = 1``;
* integer powers of decay factors (``gamma ** count`` and the like) are ``_integer_power``: a fixed
  sequence of IEEE multiplications and additions, not libm's ``pow``.

So every pinned value (phase starts and ends, horizons, milestones, restart starts) is exact by
construction: none depends on the last bits of a transcendental function, which change with numpy's
SIMD code paths (AVX-512 or not) and the libm. The transcendentals the formulas do call go through
``libm``; tests perturb it by a few ulp to prove that no pinned value depends on it.

Parameters have been validated by the schedule classes; nothing here checks them again.
"""

from __future__ import annotations

import numpy as np

__all__ = ["evaluate", "libm", "plateau"]


class _Libm:
    """The transcendental functions the formulas call: numpy's. Their last bits vary with the CPU, so
    they never decide a pinned value (tests swap in perturbed ones)."""

    cos = staticmethod(np.cos)
    log = staticmethod(np.log)
    log1p = staticmethod(np.log1p)
    power = staticmethod(np.power)
    tanh = staticmethod(np.tanh)


libm = _Libm()


def _blend(a, b, c):
    """``a`` at ``c = 0``, ``b`` at ``c = 1``, linear in between (exact at both ends)."""
    return a * (1.0 - c) + b * c


def _cos_factor(p):
    """``(1 + cos(pi p)) / 2``: exactly 1 at p = 0 and 0 at p = 1 (set, not left to ``cos``). ``p`` is
    reduced modulo 2 first (exactly, by ``fmod``), so that a huge ``p`` still gives the cosine of the
    right angle."""
    p = np.fmod(p, 2.0)
    c = 0.5 * (1.0 + libm.cos(np.pi * p))
    return np.where(p == 0.0, 1.0, np.where(p == 1.0, 0.0, c))


def _two_product(a, b):
    """``a * b == p + e`` exactly (Dekker's product: Veltkamp's split, no FMA), for ``|p| <= 2**995``
    (beyond, the split overflows: callers use ``p`` alone there)."""
    p = a * b
    split = 134217729.0  # 2**27 + 1
    ca, cb = split * a, split * b
    a_hi, b_hi = ca - (ca - a), cb - (cb - b)
    a_lo, b_lo = a - a_hi, b - b_hi
    e = (((a_hi * b_hi - p) + a_hi * b_lo) + a_lo * b_hi) + a_lo * b_lo
    return p, e


def _dd_multiply(x_hi, x_lo, y_hi, y_lo):
    """The double-double product ``(x_hi + x_lo) * (y_hi + y_lo)``, renormalised; ``(p, 0)`` where the
    leading product ``p`` exceeds ``2**995`` (a growth heading for overflow, inf included)."""
    p, e = _two_product(x_hi, y_hi)
    e = e + (x_hi * y_lo + x_lo * y_hi)
    s = p + e
    in_range = np.abs(p) <= 2.0**995
    return np.where(in_range, s, p), np.where(in_range, e - (s - p), 0.0)


def _integer_power(g, k):
    """``g ** k`` for integer-valued ``k >= 0``: right-to-left binary powering in double-double
    arithmetic, rounded once. The correctly rounded power for any ``k`` a schedule meets (the
    double-double error grows like ``k * 2**-104``), and a fixed sequence of IEEE operations, so every
    backend computes the same bits whatever the CPU (``g ** 0 == 1``, ``0 ** 0`` included)."""
    k = np.asarray(k, dtype=np.float64)
    g = np.asarray(g, dtype=np.float64)
    # an infinite exponent (t / step_size overflowed) gives the limit: 0, 1 or inf
    infinite = k == np.inf
    limit = np.where(np.abs(g) < 1.0, 0.0, np.where(g == 1.0, 1.0, np.inf))
    k = np.where(infinite, 0.0, k)
    with np.errstate(all="ignore"):  # discarded lanes may overflow
        acc_hi, acc_lo = np.ones(np.broadcast_shapes(g.shape, k.shape)), 0.0
        base_hi, base_lo = g, 0.0
        while np.any(k > 0):
            half = np.floor(k * 0.5)
            odd = k != 2.0 * half
            hi, lo = _dd_multiply(acc_hi, acc_lo, base_hi, base_lo)
            acc_hi, acc_lo = np.where(odd, hi, acc_hi), np.where(odd, lo, acc_lo)
            k = half
            hi, lo = _dd_multiply(base_hi, base_lo, base_hi, base_lo)
            base_hi, base_lo = np.where(k > 0, hi, base_hi), np.where(k > 0, lo, base_lo)
    return np.where(infinite, limit, acc_hi)


def _power(g, e):
    """``g ** e`` for a real exponent (libm's ``pow``), exactly 1 at ``e = 0`` and ``g`` at ``e = 1``."""
    return np.where(e == 0.0, 1.0, np.where(e == 1.0, g, libm.power(g, e)))


def _safe_div(num, den):
    """``num / den`` where ``den != 0``, 0 elsewhere; callers select away the zero-denominator lanes."""
    den = np.asarray(den, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den != 0, num / np.where(den != 0, den, 1.0), 0.0)


def _full(t, value):
    return np.asarray(value, dtype=np.float64) * np.ones_like(t)


# --------------------------------------------------------------------------------------------------
# families


def constant(t, lr):
    """``lr``."""
    return _full(t, lr)


def linear(t, start_lr, end_lr, total_steps):
    """``start -> end`` linearly on ``[0, T]``, ``end`` after: ``f = min(t, T) / T``."""
    f = np.minimum(t, total_steps) / total_steps
    return _blend(start_lr, end_lr, f)


def step_decay(t, lr, gamma, step_size):
    """``lr * gamma ** floor(t / step_size)``."""
    return lr * _integer_power(gamma, np.floor(t / step_size))


def multi_step(t, lr, gamma, milestones):
    """``lr * gamma ** (number of milestones <= t)``; the new value applies at ``t == milestone``."""
    count = np.searchsorted(np.asarray(milestones, dtype=np.float64), t, side="right")
    return lr * _integer_power(gamma, count.astype(np.float64))


def exponential(t, lr, gamma, step_size, min_lr, max_lr, staircase):
    """``min(max(lr * gamma ** e, min_lr), max_lr)`` with ``e = t / step_size`` (floored if
    ``staircase``); ``gamma > 1`` grows, ``max_lr = inf`` leaves it uncapped."""
    e = t / step_size
    power = _integer_power(gamma, np.floor(e)) if staircase else _power(gamma, e)
    return np.minimum(np.maximum(lr * power, min_lr), max_lr)


def inverse_time(t, lr, decay_rate, decay_steps, staircase):
    """``lr / (1 + decay_rate * e)`` with ``e = t / decay_steps`` (floored if ``staircase``)."""
    e = t / decay_steps
    if staircase:
        e = np.floor(e)
    return lr / (1.0 + decay_rate * e)


def polynomial(t, start_lr, end_lr, total_steps, power):
    """``q = ((T - min(t, T)) / T) ** power``; ``start * q + end * (1 - q)``."""
    # the remaining fraction (T - t) / T rather than 1 - t / T: its relative error stays one rounding
    # as it goes to 0, where a power below 1 magnifies it
    base = (total_steps - np.minimum(t, total_steps)) / total_steps
    # exactly 1 at t = 0 and 0 at the horizon (power > 0), whatever pow returns there
    q = np.where(base == 1.0, 1.0, np.where(base == 0.0, 0.0, _power(base, power)))
    return _blend(end_lr, start_lr, q)


def cosine(t, peak_lr, total_steps, min_lr):
    """``c = (1 + cos(pi min(t, T) / T)) / 2``; ``peak * c + min * (1 - c)``."""
    p = np.minimum(t, total_steps) / total_steps
    return _blend(min_lr, peak_lr, _cos_factor(p))


def _restart_start(i, cycle_steps, cycle_mult):
    """Step at which cycle ``i`` starts: ``c * i`` if ``m == 1``, else ``S_i = m * S_{i-1} + c`` with
    ``S_{i-1} = c * (m**(i-1) - 1) / (m - 1)`` (``S_0 = 0``).

    One step of the recurrence on top of the closed form keeps the starts exact for integer ``c`` and
    ``m`` up to 2**53: the closed form alone rounds ``10.0**16 - 1`` to ``1e16`` and misplaces
    t = 1111111111111111 (``c = 1, m = 10``).
    """
    previous = _safe_div(cycle_steps * (_integer_power(cycle_mult, np.maximum(i - 1.0, 0.0)) - 1.0),
                         cycle_mult - 1.0)
    geometric = np.where(i > 0, cycle_mult * previous + cycle_steps, 0.0)
    return np.where(cycle_mult == 1.0, cycle_steps * i, geometric)


def restart_cycle(t, cycle_steps, cycle_mult):
    """Index of the cycle that contains ``t``: the number of cycle starts ``S_1, S_2, ... <= t``.

    A ``floor(log(...))`` guess, then corrected by comparing with the exact starts, so a step that
    starts a cycle always belongs to it (``floor(log(1000) / log(10))`` alone gives 2, not 3).
    """
    m = cycle_mult
    with np.errstate(divide="ignore", invalid="ignore"):
        geometric = np.floor(libm.log1p(t * (m - 1.0) / cycle_steps) / libm.log(np.where(m == 1.0, 2.0, m)))
    i = np.where(m == 1.0, np.floor(t / cycle_steps), geometric)
    # beyond 2**53 cycles the index has no integer precision left (i + 1 == i): clamp, and bound the
    # corrections (the guess is off by at most one) so that every backend stops at the same index
    i = np.clip(np.nan_to_num(i, nan=0.0), 0.0, _MAX_CYCLE)
    for _ in range(_MAX_CORRECTIONS):
        up = _restart_start(i + 1.0, cycle_steps, m) <= t
        down = ~up & (_restart_start(i, cycle_steps, m) > t) & (i > 0)
        if not (up.any() or down.any()):
            break
        i = i + up - down
    return i


_MAX_CYCLE = 2.0**53
_MAX_CORRECTIONS = 64


def cosine_restarts(t, peak_lr, cycle_steps, min_lr, cycle_mult, cycle_decay, cycle_limit):
    """SGDR: cycle ``i`` starts at ``S_i``, lasts ``cycle_steps * m**i`` and peaks at ``peak * decay**i``.

    ``p = (t - S_i) / (cycle_steps * m**i)``, ``c = (1 + cos(pi p)) / 2``,
    ``value = peak_i * c + min * (1 - c)``; from cycle ``cycle_limit`` on, ``min_lr``.
    """
    i = restart_cycle(t, cycle_steps, cycle_mult)
    p = (t - _restart_start(i, cycle_steps, cycle_mult)) / (cycle_steps * _integer_power(cycle_mult, i))
    cycle_peak = peak_lr * _integer_power(cycle_decay, i)
    value = _blend(min_lr, cycle_peak, _cos_factor(p))
    return np.where(i >= cycle_limit, _full(t, min_lr), value)


def warmup_cosine(t, peak_lr, total_steps, warmup_steps, min_lr, init_lr):
    """Linear ``init -> peak`` on ``[0, W]``, cosine ``peak -> min`` on ``[W, T]``, ``min`` from ``T``.

    ``t >= T`` gives ``min_lr`` first, so ``W == T`` ramps up and then holds ``min_lr``.
    """
    warm = _blend(init_lr, peak_lr, _safe_div(t, warmup_steps))
    p = _safe_div(t - warmup_steps, total_steps - warmup_steps)
    decay = _blend(min_lr, peak_lr, _cos_factor(p))
    return np.where(t >= total_steps, _full(t, min_lr), np.where(t < warmup_steps, warm, decay))


def _wsd_shape(p, decay_shape):
    if decay_shape == "linear":
        return 1.0 - p
    if decay_shape == "cosine":
        return _cos_factor(p)
    if decay_shape == "1-sqrt":
        return 1.0 - np.sqrt(p)
    if decay_shape == "1-square":
        return 1.0 - p * p
    raise AssertionError(decay_shape)


def warmup_stable_decay(t, peak_lr, total_steps, warmup_steps, decay_steps, min_lr, init_lr, decay_shape):
    """Warmup ``init -> peak`` on ``[0, W]``, ``peak`` until ``T - D``, decay to ``min`` at ``T``.

    ``p = (t - S) / D``, ``s = shape(p)``, ``value = peak * s + min * (1 - s)``, with the decay start
    ``S = max(T - D, W)``: ``W + D <= T`` holds, but ``T - D`` may round below ``W``, and the warmup
    still ends at exactly the peak then.
    """
    warm = _blend(init_lr, peak_lr, _safe_div(t, warmup_steps))
    decay_start = np.maximum(total_steps - decay_steps, warmup_steps)
    s = _wsd_shape(np.clip(_safe_div(t - decay_start, decay_steps), 0.0, 1.0), decay_shape)
    decay = _blend(min_lr, peak_lr, s)
    value = np.where(t < warmup_steps, warm, np.where(t < decay_start, _full(t, peak_lr), decay))
    return np.where(t >= total_steps, _full(t, min_lr), value)


def one_cycle(t, max_lr, total_steps, pct_start, div_factor, final_div_factor, anneal, three_phase):
    """PyTorch ``OneCycleLR``'s closed form on ``[0, T - 1]``; holds its value at ``T - 1`` after.

    ``initial = max / div``, ``final = initial / final_div``. Phase ends (steps):
    two phases ``[pct T - 1, T - 1]`` (initial -> max -> final); three phases
    ``[pct T - 1, 2 pct T - 2, T - 1]`` (initial -> max -> initial -> final). A step belongs to the first
    phase whose end it does not pass; ``q = (t - start) / (end - start)`` (1 for an empty first phase),
    ``c = (1 + cos(pi q)) / 2`` or ``1 - q``; ``value = from * c + to * (1 - c)``. Steps past ``T - 1``
    are evaluated at ``T - 1``: ``final`` (exactly, q = 1), or ``max_lr`` when ``pct_start = 1`` leaves the
    annealing phase empty.
    """
    initial = max_lr / div_factor
    final = initial / final_div_factor
    first_end = pct_start * total_steps - 1.0
    last_end = total_steps - 1.0
    if three_phase:
        ends = [first_end, 2.0 * pct_start * total_steps - 2.0, last_end]
        lrs = [(initial, max_lr), (max_lr, initial), (initial, final)]
    else:
        ends = [first_end, last_end]
        lrs = [(initial, max_lr), (max_lr, final)]
    t_held = np.minimum(t, last_end)
    value = np.zeros(np.broadcast_shapes(np.shape(t), np.shape(max_lr), np.shape(total_steps),
                                         np.shape(pct_start), np.shape(div_factor),
                                         np.shape(final_div_factor)))
    chosen = np.zeros(value.shape, dtype=bool)
    start = 0.0
    for k, (end, (lr_from, lr_to)) in enumerate(zip(ends, lrs)):
        last = k == len(ends) - 1
        here = ~chosen & ((t_held <= end) | last)
        q = np.clip(_safe_div(t_held - start, end - start), 0.0, 1.0)
        q = np.where(np.asarray(end - start) <= 0, 1.0, q)
        c = _cos_factor(q) if anneal == "cos" else 1.0 - q
        value = np.where(here, _blend(lr_to, lr_from, c), value)
        chosen = chosen | here
        start = end
    return value


def cyclic(t, base_lr, max_lr, step_size_up, step_size_down, gamma, mode):
    """PyTorch ``CyclicLR``: ``cycle = floor(1 + t / total)``, ``x = 1 + t / total - cycle``;
    ``scale = x / ratio`` if ``x <= ratio`` else ``(x - 1) / (ratio - 1)``;
    ``value = base + (max - base) * scale * g`` with ``g = 1``, ``0.5 ** (cycle - 1)`` (never overflows:
    it underflows to 0) or ``gamma ** t``.
    """
    total = step_size_up + step_size_down
    ratio = step_size_up / total
    cycle = np.floor(1.0 + t / total)
    x = 1.0 + t / total - cycle
    scale = np.where(x <= ratio, x / ratio, _safe_div(x - 1.0, ratio - 1.0))
    if mode == "triangular":
        g = 1.0
    elif mode == "triangular2":
        # an exact power of two (past 2**-1100 it is 0 anyway)
        g = np.ldexp(1.0, -np.minimum(cycle - 1.0, 1100.0).astype(np.int64))
    else:
        g = _power(gamma, t)
    return base_lr + (max_lr - base_lr) * scale * g


def inverse_sqrt(t, peak_lr, warmup_steps, init_lr):
    """Linear ``init -> peak`` on ``[0, W]``, then ``peak * sqrt(max(W, 1) / max(t, 1))``.

    With ``W >= 1`` this is ``peak * sqrt(W / t)``; ``W < 1`` decays like ``W = 1``.
    """
    warm = _blend(init_lr, peak_lr, _safe_div(t, warmup_steps))
    decay = peak_lr * np.sqrt(np.maximum(warmup_steps, 1.0) / np.maximum(t, 1.0))
    return np.where(t < warmup_steps, warm, decay)


def tanh(t, peak_lr, total_steps, min_lr, lower, upper):
    """timm's ``TanhLRScheduler``: ``c = (1 - tanh(lower + (upper - lower) * (t / T))) / 2``,
    ``peak * c + min * (1 - c)`` for ``t < T``; ``min_lr`` from ``T`` on.
    """
    c = 0.5 * (1.0 - libm.tanh(lower + (upper - lower) * (t / total_steps)))
    return np.where(t >= total_steps, _full(t, min_lr), _blend(min_lr, peak_lr, c))


def piecewise_constant(t, boundaries, values):
    """``values[i]`` for ``boundaries[i-1] <= t < boundaries[i]``."""
    index = np.searchsorted(np.asarray(boundaries, dtype=np.float64), t, side="right")
    return np.asarray(values, dtype=np.float64)[index]


def piecewise_linear(t, boundaries, values):
    """Linear interpolation through ``(boundaries[i], values[i])``; the end values outside."""
    b = np.asarray(boundaries, dtype=np.float64)
    v = np.asarray(values, dtype=np.float64)
    index = np.searchsorted(b, t, side="right")
    inner = np.clip(index, 1, max(len(b) - 1, 1))
    left, right = b[inner - 1], b[np.minimum(inner, len(b) - 1)]
    f = np.clip(_safe_div(t - left, right - left), 0.0, 1.0)
    value = _blend(v[inner - 1], v[np.minimum(inner, len(v) - 1)], f)
    return np.where(index == 0, v[0], np.where(index >= len(b), v[-1], value))


# --------------------------------------------------------------------------------------------------
# composites


def join(t, parts, boundaries):
    """Schedule ``i + 1`` takes over at ``boundaries[i]`` and sees the local step ``t - boundaries[i]``."""
    value = parts[0](t)
    for part, boundary in zip(parts[1:], boundaries):
        local = np.maximum(t - boundary, 0.0)
        value = np.where(t >= boundary, part(local), value)
    return value


def with_warmup(t, part, warmup_steps, init_lr):
    """Linear ``init -> schedule(0)`` on ``[0, W]``, then ``schedule(t - W)``."""
    ramp = _blend(init_lr, part(np.zeros_like(t)), _safe_div(t, warmup_steps))
    return np.where(t < warmup_steps, ramp, part(np.maximum(t - warmup_steps, 0.0)))


def offset(t, part, steps):
    """``schedule(t + steps)``, never before step 0."""
    return part(np.maximum(t + steps, 0.0))


def evaluate(schedule, t) -> np.ndarray:
    """Evaluate ``schedule`` at the float64 steps ``t`` (any shape); returns the broadcast float64 array."""
    t = np.asarray(t, dtype=np.float64)
    shape = np.broadcast_shapes(t.shape, schedule.param_shape)
    with np.errstate(over="ignore", under="ignore"):
        result = schedule._reference(t, evaluate)
    return np.broadcast_to(np.asarray(result, dtype=np.float64), shape)


# --------------------------------------------------------------------------------------------------
# plateau


def plateau(metrics, lr, min_lr, maximize, relative, factor, threshold, patience, cooldown, eps):
    """torch's ``ReduceLROnPlateau`` over ``metrics`` of shape ``(runs, epochs)``, all runs at once:
    the learning rate in force after each epoch's ``step(metric)``, from ``lr`` (one per run).

    Per epoch: the metric is *better* than the best so far if ``a < best * (1 - threshold)`` (min,
    rel), ``a < best - threshold`` (min, abs), ``a > best * (1 + threshold)`` (max, rel) or
    ``a > best + threshold`` (max, abs); the best starts at +inf (min) or -inf (max), and a NaN is
    never better. A better metric resets the count of bad epochs, another adds one; during a cooldown
    the count stays 0. When the count exceeds ``patience``, ``lr`` becomes ``max(lr * factor, min_lr)``
    if that lowers it by more than ``eps``, the cooldown restarts and the count resets.
    """
    metrics = np.asarray(metrics, dtype=np.float64)
    runs, epochs = metrics.shape
    lr = np.array(np.broadcast_to(lr, (runs,)), dtype=np.float64)
    min_lr = np.broadcast_to(np.asarray(min_lr, dtype=np.float64), (runs,))
    best = np.full(runs, -np.inf if maximize else np.inf)
    rel = threshold + 1.0 if maximize else 1.0 - threshold
    bad = np.zeros(runs, dtype=np.int64)
    cooling = np.zeros(runs, dtype=np.int64)
    out = np.empty((runs, epochs))
    with np.errstate(invalid="ignore"):  # inf * 0 (threshold 1) is NaN there too: never better
        for e in range(epochs):
            a = metrics[:, e]
            if relative:
                better = a > best * rel if maximize else a < best * rel
            else:
                better = a > best + threshold if maximize else a < best - threshold
            best = np.where(better, a, best)
            bad = np.where(better, 0, bad + 1)
            in_cooldown = cooling > 0
            cooling = np.where(in_cooldown, cooling - 1, cooling)
            bad = np.where(in_cooldown, 0, bad)
            reduce = bad > patience
            reduced = lr * factor
            candidate = np.where(min_lr > reduced, min_lr, reduced)
            lr = np.where(reduce & (lr - candidate > eps), candidate, lr)
            cooling = np.where(reduce, cooldown, cooling)
            bad = np.where(reduce, 0, bad)
            out[:, e] = lr
    return out

