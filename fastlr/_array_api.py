"""The compiled program evaluated with the operations of any Array API library.

One evaluator for every library that is not numpy: torch (any device), JAX (concrete arrays and
tracers: ``jit``, ``vmap``, ``grad``), CuPy, array_api_strict, ... The namespace comes from
``array_api_compat``; the formulas are those of ``fastlr/_reference.py``, written once over ``xp`` in the
same order of operations, one instruction of the program (``docs/engine.md``) at a time on whole arrays.

Precision: a library that has float64 on the array's device computes in float64 (torch CPU/CUDA, CuPy,
JAX with ``jax_enable_x64``, array_api_strict). Where float64 is missing (JAX without x64, torch on
MPS) every operation runs in float32, from steps rounded to float32 (exact up to 2**24); such results
are compared with the reference under the table's float32-computation row, not the one-rounding row.

Control flow never depends on values (no host synchronisation, traceable by ``jax.jit`` and
``torch.compile``): the CosineRestarts cycle index gets a fixed number of corrections, list
parameters of up to ``_CHAIN_LIMIT`` entries are compared one by one, longer ones are searched with
``searchsorted``.
"""

from __future__ import annotations

import math
import sys
import weakref
from typing import Any, Optional

import numpy as np

from . import _families
from . import _program as P
from ._validation import describe

# the CosineRestarts log guess is off by at most one cycle (float64) or two (float32)
_RESTART_CORRECTIONS = 3
# list parameters (milestones, boundaries) up to this length are compared one by one (no gather)
_CHAIN_LIMIT = 32
_MAX_CYCLE = 2.0**53

_ARRAY_MODULES = ("torch", "jax", "jaxlib", "cupy", "dask", "array_api_strict", "mlx", "ndonnx", "sparse")


def is_foreign(value) -> bool:
    """Whether ``value`` is an array of another library than numpy (cheap: no import)."""
    module = type(value).__module__.partition(".")[0]
    if module in _ARRAY_MODULES:
        return True
    return hasattr(value, "__array_namespace__") and not isinstance(value, (np.ndarray, np.generic))


def compat():
    try:
        import array_api_compat
    except ImportError:
        raise ImportError("evaluating a schedule on a non-numpy array needs array-api-compat: "
                          "pip install array-api-compat") from None
    return array_api_compat


def is_traced(x) -> bool:
    """Whether ``x`` has no concrete values now (a JAX tracer, or torch under ``torch.compile``)."""
    if "jax" in sys.modules:
        import jax

        if isinstance(x, jax.core.Tracer):
            return True
    if "torch" in sys.modules:
        import torch

        if isinstance(x, torch.Tensor):
            compiler = getattr(torch, "compiler", None)
            return bool(compiler is not None and compiler.is_compiling())
    return False


# ==================================================================================================
# the evaluation context: namespace, dtype, device, constants


class _Context:
    def __init__(self, xp, dtype, device) -> None:
        self.xp = xp
        self.dtype = dtype
        self.device = device
        self._constants: dict[float, Any] = {}

    def asarray(self, value):
        if self.device is None:
            return self.xp.asarray(value, dtype=self.dtype)
        return self.xp.asarray(value, dtype=self.dtype, device=self.device)

    def c(self, value: float):
        """A 0-d array constant of the compute dtype on the device."""
        constant = self._constants.get(value)
        if constant is None:
            constant = self._constants[value] = self.asarray(value)
        return constant

    def f(self, condition):
        """A boolean array as 0.0 / 1.0."""
        return self.xp.astype(condition, self.dtype)


def library_name(xp) -> str:
    return xp.__name__.rpartition("array_api_compat.")[2].partition(".")[0]


def has_float64(xp, device) -> bool:
    name = library_name(xp)
    if name == "jax":
        import jax

        return bool(jax.config.jax_enable_x64)
    if name == "torch":
        return getattr(device, "type", "cpu") != "mps"
    return True


def device_of(xp, x):
    if library_name(xp) == "jax":
        return None  # jnp.asarray places constants where jit puts them; a tracer has no device
    try:
        return compat().device(x)
    except Exception:
        return None


# ==================================================================================================
# the formulas (fastlr/_reference.py, same order of operations)


def _blend(a, b, c):
    return a * (1.0 - c) + b * c


def _cos_factor(ctx, p):
    # Exactly 1 at p = 0 and 0 at p = 1, set rather than left to cos (as the reference). Every caller
    # selects it only for p in [0, 1], where the reference's reduction modulo 2 changes nothing: it is
    # left out (one division fewer per element on a device)
    xp = ctx.xp
    c = 0.5 * (1.0 + xp.cos(math.pi * p))
    return xp.where(p == 0.0, ctx.c(1.0), xp.where(p == 1.0, ctx.c(0.0), c))


def _safe_div(ctx, num, den):
    xp = ctx.xp
    nonzero = den != 0.0
    return xp.where(nonzero, num / xp.where(nonzero, den, ctx.c(1.0)), ctx.c(0.0))


def _clip01(ctx, x):
    xp = ctx.xp
    return xp.minimum(xp.maximum(x, ctx.c(0.0)), ctx.c(1.0))


def _pow(ctx, base, exponent):
    """``base ** exponent`` for a real exponent, exactly 1 at 0 and ``base`` at 1 (the reference's
    ``_power``)."""
    xp = ctx.xp
    return xp.where(exponent == 0.0, ctx.c(1.0), xp.where(exponent == 1.0, base, xp.pow(base, exponent)))


def _integer_power(ctx, base, count):
    """``base ** count`` for integer-valued ``count >= 0``. The reference powers in double-double (the
    correctly rounded power); here the library's ``pow``, whose error for an integer exponent stays
    within the tolerance table's float64 row and needs no data-dependent loop under a tracer."""
    xp = ctx.xp
    return xp.where(count == 0.0, ctx.c(1.0), xp.pow(base, count))


def _count_le(ctx, t, points: tuple[float, ...]):
    """The number of ``points`` (sorted) that are ``<= t``, as a float array."""
    xp = ctx.xp
    if len(points) <= _CHAIN_LIMIT or not hasattr(xp, "searchsorted"):
        count = ctx.c(0.0)
        for point in points:
            count = count + ctx.f(t >= point)
        return count
    flat = xp.reshape(t, (-1,))
    index = xp.searchsorted(ctx.asarray(points), flat, side="right")
    return xp.reshape(xp.astype(index, ctx.dtype), t.shape)


def _take(ctx, values: tuple[float, ...], index):
    xp = ctx.xp
    # int32 indices where the library computes in float32 (JAX without x64 has no int64); tables are short
    flat = xp.reshape(xp.astype(index, xp.int64 if ctx.dtype == xp.float64 else xp.int32), (-1,))
    return xp.reshape(xp.take(ctx.asarray(values), flat), index.shape)


def _f_constant(ctx, t, lr):
    return lr + 0.0 * t


def _f_linear(ctx, t, a, b, total):
    f = ctx.xp.minimum(t, total) / total
    return _blend(a, b, f)


def _f_step_decay(ctx, t, lr, gamma, step_size):
    return lr * _integer_power(ctx, gamma, ctx.xp.floor(t / step_size))


def _f_multi_step(ctx, t, lr, gamma, milestones):
    return lr * _integer_power(ctx, gamma, _count_le(ctx, t, milestones))


def _f_exponential(ctx, t, lr, gamma, step_size, min_lr, max_lr, staircase):
    e = t / step_size
    power = _integer_power(ctx, gamma, ctx.xp.floor(e)) if staircase else _pow(ctx, gamma, e)
    return ctx.xp.minimum(ctx.xp.maximum(lr * power, min_lr), max_lr)


def _f_inverse_time(ctx, t, lr, rate, decay_steps, staircase):
    e = t / decay_steps
    if staircase:
        e = ctx.xp.floor(e)
    return lr / (1.0 + rate * e)


def _f_polynomial(ctx, t, start, end, total, power):
    xp = ctx.xp
    base = (total - xp.minimum(t, total)) / total
    q = xp.where(base == 1.0, ctx.c(1.0), xp.where(base == 0.0, ctx.c(0.0), _pow(ctx, base, power)))
    return _blend(end, start, q)


def _f_cosine(ctx, t, peak, total, min_lr):
    p = ctx.xp.minimum(t, total) / total
    return _blend(min_lr, peak, _cos_factor(ctx, p))


def _restart_start(ctx, i, cycle_steps, m):
    xp = ctx.xp
    previous = _safe_div(ctx, cycle_steps * (_integer_power(ctx, m, xp.maximum(i - 1.0, ctx.c(0.0))) - 1.0),
                         m - 1.0)
    geometric = xp.where(i > 0.0, m * previous + cycle_steps, ctx.c(0.0))
    return xp.where(m == 1.0, cycle_steps * i, geometric)


def _restart_cycle(ctx, t, cycle_steps, m):
    xp = ctx.xp
    unit = m == 1.0
    guess = xp.floor(xp.log1p(t * (m - 1.0) / cycle_steps) / xp.log(xp.where(unit, ctx.c(2.0), m)))
    i = xp.where(unit, xp.floor(t / cycle_steps), guess)
    i = xp.where(xp.isnan(i), ctx.c(0.0), i)
    i = xp.minimum(xp.maximum(i, ctx.c(0.0)), ctx.c(_MAX_CYCLE))
    for _ in range(_RESTART_CORRECTIONS):
        up = _restart_start(ctx, i + 1.0, cycle_steps, m) <= t
        down = xp.logical_and(xp.logical_and(xp.logical_not(up), _restart_start(ctx, i, cycle_steps, m) > t),
                              i > 0.0)
        i = i + ctx.f(up) - ctx.f(down)
    return i


def _f_cosine_restarts(ctx, t, peak, cycle_steps, min_lr, m, decay, limit):
    xp = ctx.xp
    i = _restart_cycle(ctx, t, cycle_steps, m)
    p = (t - _restart_start(ctx, i, cycle_steps, m)) / (cycle_steps * _integer_power(ctx, m, i))
    value = _blend(min_lr, peak * _integer_power(ctx, decay, i), _cos_factor(ctx, p))
    return xp.where(i >= limit, min_lr, value)


def _f_warmup_cosine(ctx, t, peak, total, warmup, min_lr, init):
    xp = ctx.xp
    warm = _blend(init, peak, _safe_div(ctx, t, warmup))
    p = _safe_div(ctx, t - warmup, total - warmup)
    decay = _blend(min_lr, peak, _cos_factor(ctx, p))
    return xp.where(t >= total, min_lr, xp.where(t < warmup, warm, decay))


def _f_wsd(ctx, t, peak, total, warmup, decay_steps, min_lr, init, shape):
    xp = ctx.xp
    warm = _blend(init, peak, _safe_div(ctx, t, warmup))
    decay_start = xp.maximum(total - decay_steps, warmup)
    p = _clip01(ctx, _safe_div(ctx, t - decay_start, decay_steps))
    if shape == 0:
        s = 1.0 - p
    elif shape == 1:
        s = _cos_factor(ctx, p)
    elif shape == 2:
        s = 1.0 - xp.sqrt(p)
    else:
        s = 1.0 - p * p
    decay = _blend(min_lr, peak, s)
    value = xp.where(t < warmup, warm, xp.where(t < decay_start, peak, decay))
    return xp.where(t >= total, min_lr, value)


def _f_one_cycle(ctx, t, max_lr, total, pct, div, final_div, mode):
    xp = ctx.xp
    initial = max_lr / div
    final = initial / final_div
    first_end = pct * total - 1.0
    last_end = total - 1.0
    if mode & 2:
        ends = [first_end, 2.0 * pct * total - 2.0, last_end]
        lrs = [(initial, max_lr), (max_lr, initial), (initial, final)]
    else:
        ends = [first_end, last_end]
        lrs = [(initial, max_lr), (max_lr, final)]
    held = xp.minimum(t, last_end)
    value = ctx.c(0.0)
    chosen = None
    start = ctx.c(0.0)
    for k, (end, (lr_from, lr_to)) in enumerate(zip(ends, lrs)):
        inside = held <= end
        if k == len(ends) - 1:
            here = xp.logical_not(chosen)
        else:
            here = inside if chosen is None else xp.logical_and(xp.logical_not(chosen), inside)
        q = _clip01(ctx, _safe_div(ctx, held - start, end - start))
        q = xp.where(end - start <= 0.0, ctx.c(1.0), q)
        c = 1.0 - q if mode & 1 else _cos_factor(ctx, q)
        value = xp.where(here, _blend(lr_to, lr_from, c), value)
        chosen = here if chosen is None else xp.logical_or(chosen, here)
        start = end
    return value


def _f_cyclic(ctx, t, base, max_lr, up, down, gamma, mode):
    xp = ctx.xp
    total = up + down
    ratio = up / total
    cycle = xp.floor(1.0 + t / total)
    x = 1.0 + t / total - cycle
    scale = xp.where(x <= ratio, x / ratio, _safe_div(ctx, x - 1.0, ratio - 1.0))
    if mode == 0:
        g = 1.0
    elif mode == 1:
        g = xp.pow(ctx.c(2.0), -xp.minimum(cycle - 1.0, ctx.c(1100.0)))  # exact powers of two
    else:
        g = _pow(ctx, gamma, t)
    return base + (max_lr - base) * scale * g


def _f_inverse_sqrt(ctx, t, peak, warmup, init):
    xp = ctx.xp
    warm = _blend(init, peak, _safe_div(ctx, t, warmup))
    decay = peak * xp.sqrt(xp.maximum(warmup, ctx.c(1.0)) / xp.maximum(t, ctx.c(1.0)))
    return xp.where(t < warmup, warm, decay)


def _f_tanh(ctx, t, peak, total, min_lr, lower, upper):
    xp = ctx.xp
    c = 0.5 * (1.0 - xp.tanh(lower + (upper - lower) * (t / total)))
    return xp.where(t >= total, min_lr, _blend(min_lr, peak, c))


def _f_piecewise_constant(ctx, t, boundaries, values):
    xp = ctx.xp
    if len(boundaries) > _CHAIN_LIMIT and hasattr(xp, "searchsorted"):
        return _take(ctx, values, _count_le(ctx, t, boundaries))
    value = ctx.c(values[0]) + 0.0 * t
    for boundary, after in zip(boundaries, values[1:]):
        value = xp.where(t >= boundary, ctx.c(after), value)
    return value


def _f_piecewise_linear(ctx, t, boundaries, values):
    xp = ctx.xp
    k = len(boundaries)
    if k > _CHAIN_LIMIT and hasattr(xp, "searchsorted"):
        index = _count_le(ctx, t, boundaries)
        inner = xp.minimum(xp.maximum(index, ctx.c(1.0)), ctx.c(float(max(k - 1, 1))))
        right_index = xp.minimum(inner, ctx.c(float(k - 1)))
        left, right = _take(ctx, boundaries, inner - 1.0), _take(ctx, boundaries, right_index)
        f = _clip01(ctx, _safe_div(ctx, t - left, right - left))
        value = _blend(_take(ctx, values, inner - 1.0), _take(ctx, values, right_index), f)
        return xp.where(index == 0.0, ctx.c(values[0]), xp.where(index >= k, ctx.c(values[-1]), value))
    # count(boundaries <= t) == j exactly when t >= b[j-1] is the last comparison that holds
    value = ctx.c(values[0]) + 0.0 * t
    for j in range(1, k):
        left, right = boundaries[j - 1], boundaries[j]
        f = _clip01(ctx, _safe_div(ctx, t - left, ctx.c(right - left)))
        segment = _blend(ctx.c(values[j - 1]), ctx.c(values[j]), f)
        value = xp.where(t >= left, segment, value)
    return xp.where(t >= boundaries[-1], ctx.c(values[-1]), value)


_FAMILIES = {
    P.CONSTANT: _f_constant,
    P.LINEAR: _f_linear,
    P.STEP_DECAY: _f_step_decay,
    P.EXPONENTIAL: _f_exponential,
    P.INVERSE_TIME: _f_inverse_time,
    P.POLYNOMIAL: _f_polynomial,
    P.COSINE: _f_cosine,
    P.COSINE_RESTARTS: _f_cosine_restarts,
    P.WARMUP_COSINE: _f_warmup_cosine,
    P.WARMUP_STABLE_DECAY: _f_wsd,
    P.ONE_CYCLE: _f_one_cycle,
    P.CYCLIC: _f_cyclic,
    P.INVERSE_SQRT: _f_inverse_sqrt,
    P.TANH: _f_tanh,
}
# the families whose instruction mode selects a form (the family table's mode encodings)
_MODED = {spec.opcode for spec in _families.FAMILIES if spec.modes}


def decode(program: P.Program) -> tuple[list, list, int]:
    """The program's rows, tables and result register as Python values (what ``run`` reads: no numpy
    while a compiler traces it)."""
    return program.code.tolist(), program.tables.tolist(), int(program.result_register)


def run(program, t, ctx: _Context, operands: list):
    """Run ``program`` (a ``Program`` or ``decode(program)``) on the float steps ``t`` (an array of
    ``ctx``'s library) with ``operands`` (one array per operand index, broadcastable against the
    output); returns the result register (it broadcasts to the output shape but may be smaller)."""
    xp = ctx.xp
    rows, tables, result_register = decode(program) if isinstance(program, P.Program) else program
    registers: dict[int, Any] = {0: t}
    for row in rows:
        op, dst, src, src2, src3, mode, offset, length = row[:8]
        ops = [operands[k] for k in row[8:] if k >= 0]
        time = registers[src]
        if op in _FAMILIES:
            function = _FAMILIES[op]
            extra = (mode,) if op in _MODED else ()
            value = function(ctx, time, *ops, *extra)
        elif op == P.MULTI_STEP:
            milestones = tuple(tables[offset:offset + length])
            value = _f_multi_step(ctx, time, ops[0], ops[1], milestones)
        elif op == P.PIECEWISE_CONSTANT:
            value = _f_piecewise_constant(ctx, time, tuple(tables[offset:offset + length]),
                                          tuple(tables[offset + length:offset + 2 * length + 1]))
        elif op == P.PIECEWISE_LINEAR:
            value = _f_piecewise_linear(ctx, time, tuple(tables[offset:offset + length]),
                                        tuple(tables[offset + length:offset + 2 * length]))
        elif op == P.SHIFT:
            value = xp.maximum(time - ops[0], ctx.c(0.0))
        elif op == P.SELECT:
            value = xp.where(time >= ops[0], registers[src3], registers[src2])
        elif op == P.MUL:
            value = time * registers[src2]
        elif op == P.SCALE:
            value = time * ops[0]
        elif op == P.RAMP:
            ramp = _blend(ops[1], registers[src3], _safe_div(ctx, time, ops[0]))
            value = xp.where(time < ops[0], ramp, registers[src2])
        elif op == P.ZERO:
            value = ctx.c(0.0)
        else:  # pragma: no cover - the builder emits no other opcode
            raise AssertionError(f"unknown opcode {op}")
        registers[dst] = value
    return registers[result_register]


# ==================================================================================================
# operands: converted once per program, library, device and dtype


_OPERAND_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _numpy_operands(program: P.Program) -> list[np.ndarray]:
    return [program.operand_data[offset:offset + max(int(np.prod(shape)), 1)].reshape(shape)
            for offset, shape in zip(program.operand_offset.tolist(), program.operand_shape)]


def device_operands(program: P.Program, ctx: _Context) -> list:
    key = (ctx.xp.__name__, str(ctx.device), str(ctx.dtype))
    per_program = _OPERAND_CACHE.setdefault(program, {})
    cached = per_program.get(key)
    if cached is not None:
        return cached
    arrays = [ctx.asarray(array.copy()) for array in _numpy_operands(program)]  # torch refuses read-only
    if not any(is_traced(a) for a in arrays) and len(per_program) < 8:
        per_program[key] = arrays
    return arrays


def operand_names(program: P.Program) -> dict[str, list[int]]:
    """Which operand indices hold each parameter name (a family's, ``factor`` of a scaled schedule,
    ``warmup_steps`` / ``init_lr`` of ``with_warmup``; join boundaries are not differentiable)."""
    by_opcode = {spec.opcode: spec.operands for spec in _families.FAMILIES}
    by_opcode[P.SCALE] = ("factor",)
    by_opcode[P.RAMP] = ("warmup_steps", "init_lr")
    names: dict[str, list[int]] = {}
    for row in program.code.tolist():
        for name, index in zip(by_opcode.get(row[0], ()), row[8:]):
            if index >= 0 and index not in names.setdefault(name, []):
                names[name].append(index)
    return names


def _substitute(program: P.Program, operands: list, params: dict, ctx: _Context, schedule) -> list:
    if not isinstance(params, dict):
        raise TypeError(f"params must be a dict of parameter name -> array, got {type(params).__name__}")
    names = operand_names(program)
    originals = _numpy_operands(program)
    operands = list(operands)
    for name, value in params.items():
        indices = names.get(name)
        if not indices:
            known = ", ".join(sorted(names)) or "none"
            raise ValueError(f"params: {type(schedule).__name__} has no array parameter {name!r} "
                             f"(parameters: {known})")
        first = originals[indices[0]]
        if any(originals[k].shape != first.shape or not np.array_equal(originals[k], first) for k in indices):
            raise ValueError(f"params: {name!r} is ambiguous: the parts of {type(schedule).__name__} hold "
                             f"different values of {name}; build the schedule so that they agree")
        array = value if is_foreign(value) else np.asarray(value, dtype=np.float64)
        if tuple(array.shape) != first.shape:
            raise ValueError(f"params: {name} has shape {tuple(array.shape)}, but the schedule's {name} has "
                             f"shape {first.shape}; build the schedule with a {name} of that shape")
        array = ctx.xp.astype(ctx.asarray(array) if not is_foreign(value) else array, ctx.dtype)
        if not is_traced(array) and not bool(ctx.xp.all(ctx.xp.isfinite(array))):
            raise ValueError(f"params: {name} must be finite, got {describe(value)}")
        for k in indices:
            operands[k] = array
    return operands


# ==================================================================================================
# the facade's route for non-numpy arrays


def _float_dtype(xp, dtype, name: str):
    if dtype is None:
        return None
    try:
        requested = np.dtype(dtype)
    except TypeError:  # a torch dtype or another library's: by name
        try:
            requested = np.dtype(str(dtype).rpartition(".")[2])
        except TypeError:
            requested = None
    if requested == np.float64:
        return xp.float64
    if requested == np.float32:
        return xp.float32
    raise TypeError(f"{name} must be float32 or float64, got {describe(dtype)}")


def _check_steps(xp, t) -> None:
    dtype = t.dtype
    if dtype == xp.bool or not (xp.isdtype(dtype, "integral") or xp.isdtype(dtype, "real floating")):
        raise TypeError(f"steps must be integers or real numbers, got an array of dtype {dtype}")
    if is_traced(t) or math.prod(t.shape) == 0:
        return
    if xp.isdtype(dtype, "integral"):
        # one reduction over the steps (a single read of them on a device); located only when bad
        if not bool(xp.min(t) < 0):
            return
        bad = t < 0
    else:
        bad = xp.logical_not(xp.logical_and(t >= 0, xp.isfinite(t)))
    if bool(xp.any(bad)):
        flat = xp.reshape(bad, (-1,))
        position = int(xp.argmax(xp.astype(flat, xp.int32)))
        index = np.unravel_index(position, tuple(t.shape)) if t.ndim else ()
        value = float(xp.reshape(t, (-1,))[position])
        where = f"t{[int(i) for i in index]}" if index else "t"
        raise ValueError(f"steps must be finite and >= 0, got {where}={describe(value)}")


def route(schedule, t, out, dtype, numpy_call):
    """The facade's entry for a non-numpy ``t`` (not dask): torch CPU tensors through the numpy path
    (the C++ core, zero-copy through DLPack, returned as a tensor), the rest to the Array API
    evaluator."""
    module = type(t).__module__.partition(".")[0]
    if module == "torch" and _torch_cpu_plain(t):
        import torch

        result = numpy_call(schedule, t, out, dtype)
        return result if out is not None else torch.from_numpy(np.asarray(result))
    return call(schedule, t, out, dtype)


def _torch_cpu_plain(t) -> bool:
    import torch

    # steps that require grad keep the numpy route's TypeError (steps carry no gradient)
    return isinstance(t, torch.Tensor) and t.device.type == "cpu" and not is_traced(t)


def call(schedule, t, out=None, dtype=None, params: Optional[dict] = None, runner=None):
    """``schedule(t)`` for a non-numpy array ``t``: an array of ``t``'s library on ``t``'s device.

    ``runner(t, ctx, operands, shape, dtype, out)``, when given, replaces ``run`` and ``finish`` (a
    compiled form of both, so that the result is stored into ``out`` by the same kernel); it receives
    the validated steps as they are and returns what ``finish`` returns."""
    api = compat()
    try:
        xp = api.array_namespace(t)
    except TypeError as error:
        raise TypeError(f"steps: {type(t).__name__} is not an array of a supported library ({error})") from None
    if library_name(xp) == "torch" and getattr(t, "device", None) is not None and t.device.type == "meta":
        raise ValueError("steps are a tensor on the meta device (no values); pass a tensor with data")
    _check_steps(xp, t)
    if schedule.overflow_step() < math.inf and not is_traced(t) and math.prod(t.shape):
        schedule._refuse_overflow(float(xp.max(t)))
    device = device_of(xp, t)
    float64 = has_float64(xp, device)
    ctx = _Context(xp, xp.float64 if float64 else xp.float32, device)
    requested = _float_dtype(xp, dtype, "dtype")
    if out is not None:
        _check_out(api, xp, out, t, requested)
        requested = out.dtype
    if requested is None:
        requested = ctx.dtype
    elif requested == xp.float64 and not float64:
        raise TypeError(f"dtype=float64 is not available for {library_name(xp)} arrays on this device "
                        f"(enable jax_enable_x64 for JAX); use float32")
    try:
        shape = tuple(np.broadcast_shapes(tuple(t.shape), schedule.param_shape))
    except ValueError:
        raise ValueError(f"steps with shape {tuple(t.shape)} do not broadcast with the parameters of "
                         f"{type(schedule).__name__} (shape {schedule.param_shape})") from None
    if out is not None and tuple(out.shape) != shape:
        raise ValueError(f"out has shape {tuple(out.shape)}, but the result has shape {shape}")
    program = schedule._program()
    operands = device_operands(program, ctx)
    if params:
        operands = _substitute(program, operands, params, ctx, schedule)
    if runner is not None:
        return runner(t, ctx, operands, shape, requested, out)
    return finish(ctx, run(program, xp.astype(t, ctx.dtype), ctx, operands), shape, requested, out)


def finish(ctx: _Context, value, shape: tuple, dtype, out):
    """The result register ``value`` broadcast to ``shape`` in ``dtype``, stored into ``out`` when given
    (traceable: ``fastlr.torch.fused`` compiles it with ``run``)."""
    xp = ctx.xp
    if out is not None and library_name(xp) == "torch":
        out.copy_(value)  # broadcasts and rounds in the store
        return out
    if tuple(value.shape) != shape:
        value = value + xp.zeros(shape, dtype=ctx.dtype, **({} if ctx.device is None else {"device": ctx.device}))
    value = xp.astype(value, dtype)
    if out is None:
        return value
    out[...] = value
    return out


def _check_out(api, xp, out, t, requested) -> None:
    if library_name(xp) == "jax":
        raise TypeError("out: JAX arrays are immutable; use the returned array")
    try:
        out_xp = api.array_namespace(out)
    except TypeError:
        out_xp = None
    if out_xp is not xp:
        raise TypeError(f"out must be an array of the same library as the steps ({library_name(xp)}), "
                        f"got {type(out).__name__}")
    if str(api.device(out)) != str(api.device(t)):
        raise ValueError(f"out is on device {api.device(out)}, the steps on {api.device(t)}; pass both on "
                         f"the same device")
    if out.dtype not in (xp.float32, xp.float64):
        raise TypeError(f"out must have dtype float32 or float64, got {out.dtype}")
    if requested is not None and requested != out.dtype:
        raise TypeError(f"dtype={requested} does not match out.dtype={out.dtype}")
