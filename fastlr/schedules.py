"""The schedule classes: immutable values that validate once, at construction, and dispatch to a backend.

Conventions shared by every schedule (see the package docstring): ``t`` is the 0-based index of the
optimizer update; results are computed in float64; every numeric parameter may be an array that
broadcasts with the steps; past the horizon a schedule holds its final value unless it is periodic.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Callable, ClassVar, Optional, Union

import numpy as np

from . import _dispatch, _families, _program
from ._validation import (
    as_choice,
    as_flag,
    as_number_array,
    as_sequence,
    broadcast_shape,
    describe,
    require,
)

ArrayLike = Any
Number = Union[float, int]

_REGISTRY: dict[str, type] = {}


# below log(float64 max) = 709.7827...: a margin for the rounding of e * log(gamma) and of the product
_LOG_MAX = 709.78


class _Compiled:
    """The slot for a schedule's compiled program, made at construction and filled on first use, so
    that the immutable schedule is never written once it is frozen."""

    __slots__ = ("program", "overflow_step")

    def __init__(self) -> None:
        self.program: Optional[_program.Program] = None
        self.overflow_step: Optional[float] = None


def _register(cls):
    _REGISTRY[cls.__name__] = cls
    return cls


def _format(value) -> str:
    if isinstance(value, Schedule):
        return repr(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e16 else repr(value)
    if isinstance(value, np.ndarray):
        return "array(" + np.array2string(value, separator=", ", threshold=8) + ")"
    if isinstance(value, tuple):
        inner = ", ".join(_format(v) for v in value)
        return f"[{inner}]"
    return repr(value)


def _jsonable(value):
    if isinstance(value, Schedule):
        return value.to_dict()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    return value


def _equal(a, b) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.shape(a) == np.shape(b) and bool(np.array_equal(a, b))
    return a == b


class Schedule:
    """Base class of every schedule. Subclasses define ``_fields`` and the validation."""

    _fields: ClassVar[tuple[str, ...]] = ()
    # numpy must defer to __rmul__: ``array * schedule`` is one Scaled schedule, not an object array
    __array_ufunc__ = None
    _values: dict[str, Any]
    param_shape: tuple[int, ...]

    # ------------------------------------------------------------------ evaluation

    def __call__(self, t: ArrayLike, out: Optional[np.ndarray] = None, dtype: Any = None):
        """The learning rate at step(s) ``t``.

        ``t``: a number or any array numpy can view (ints or floats, >= 0, finite). Returns a numpy
        float64 scalar for a scalar ``t`` and scalar parameters, else an array of the broadcast shape
        of ``t`` and the parameters. ``out=`` writes into a C-contiguous float32/float64 buffer of
        exactly that shape and returns it; ``dtype=`` picks float32 or float64.
        """
        if out is None and dtype is None and type(t) in (int, float) and not self.param_shape:
            return _dispatch.scalar_call(self, t)
        return _dispatch.array_call(self, t, out, dtype)

    def curve(self, n: Optional[int] = None, *, start: Number = 0, out: Optional[np.ndarray] = None,
              dtype: Any = None) -> np.ndarray:
        """``self(start + np.arange(n))`` without materialising the steps; shape ``(n,) + param_shape``.

        ``n`` defaults to the schedule's horizon (the step from which it holds its final value), so
        ``curve()`` is the LR of each update of a run of ``total_steps`` updates.
        """
        if n is None:
            horizon = self.horizon
            if horizon is None:
                raise TypeError(f"{type(self).__name__} has no horizon: pass the number of steps, "
                                f"curve(n)")
            n = max(int(math.ceil(horizon)), 1)
        return _dispatch.curve_call(self, n, start, out, dtype)

    @property
    def horizon(self) -> Optional[float]:
        """The first step from which the schedule holds its final value (the largest over array
        parameters), or ``None`` when it never settles (decays without end, cycles)."""
        return None

    # ------------------------------------------------------------------ value semantics

    @property
    def params(self) -> dict[str, Any]:
        """The parameters as given (scalars as floats, arrays read-only float64)."""
        return dict(self._values)

    def __repr__(self) -> str:
        inner = ", ".join(f"{name}={_format(value)}" for name, value in self._values.items())
        return f"{type(self).__name__}({inner})"

    def __eq__(self, other) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(_equal(self._values[k], other._values[k]) for k in self._fields)

    def __hash__(self) -> int:
        return hash(repr(self))

    def __reduce__(self):
        return (_rebuild, (type(self).__name__, self._values))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-compatible description; ``fastlr.from_dict`` rebuilds an equal schedule."""
        data: dict[str, Any] = {"type": type(self).__name__}
        data.update({name: _jsonable(value) for name, value in self._values.items()})
        return data

    def __setattr__(self, name, value):
        if getattr(self, "_frozen", False):
            raise AttributeError(f"{type(self).__name__} is immutable")
        object.__setattr__(self, name, value)

    def __getattr__(self, name):
        values = self.__dict__.get("_values")
        if values is not None and name in values:
            return values[name]
        raise AttributeError(f"{type(self).__name__!s} has no attribute {name!r}")

    # ------------------------------------------------------------------ algebra

    def __mul__(self, other):
        if isinstance(other, Schedule):
            return Product(self, other)
        return Scaled(self, other)

    def __rmul__(self, other):
        if isinstance(other, Schedule):
            return Product(other, self)
        return Scaled(self, other)

    # ------------------------------------------------------------------ compilation

    def _program(self) -> _program.Program:
        """The compiled program (built on first use; the backends keep what they derive from it in
        ``Program.backend_data``)."""
        compiled = self._compiled
        if compiled.program is None:
            builder = _program.ProgramBuilder()
            compiled.program = builder.build(self._emit(builder, 0))
        return compiled.program

    def _emit(self, builder: _program.ProgramBuilder, time_register: int) -> int:
        raise NotImplementedError

    def _overflow_step(self) -> float:
        """The first step at which the schedule would overflow float64 (an uncapped growth); inf if
        none. The facade refuses to evaluate at or past it (a schedule never returns inf)."""
        children = [v for v in self._values.values() if isinstance(v, Schedule)]
        children += [c for v in self._values.values() if isinstance(v, (list, tuple))
                     for c in v if isinstance(c, Schedule)]
        return min((child._overflow_step() for child in children), default=math.inf)

    def overflow_step(self) -> float:
        """The first step at which this schedule would overflow float64 (``inf``: never)."""
        compiled = self._compiled
        if compiled.overflow_step is None:
            compiled.overflow_step = self._overflow_step()
        return compiled.overflow_step

    def _refuse_overflow(self, last_step: float) -> None:
        """A ``ValueError`` if the steps reach the overflow step (before anything is written)."""
        limit = self.overflow_step()
        if last_step >= limit:
            raise ValueError(f"{type(self).__name__}: the schedule overflows float64 from step {limit:.17g} on, "
                             f"and the steps reach {last_step:.17g}; cap the growth with max_lr")

    def _reference(self, t, evaluate: Callable) -> np.ndarray:
        raise NotImplementedError

    def _finish(self, values: dict[str, Any]) -> None:
        """Store the validated parameters and freeze the instance."""
        object.__setattr__(self, "_values", values)
        shapes = {k: v.shape for k, v in values.items() if isinstance(v, np.ndarray) and k in
                  self._broadcast_fields()}
        shapes.update(self._child_shapes())
        object.__setattr__(self, "param_shape", broadcast_shape(type(self).__name__, shapes))
        object.__setattr__(self, "_compiled", _Compiled())
        object.__setattr__(self, "_frozen", True)

    def _broadcast_fields(self) -> tuple[str, ...]:
        return ()

    def _child_shapes(self) -> dict[str, tuple[int, ...]]:
        return {}


def _rebuild(name: str, values: dict[str, Any]) -> Schedule:
    return _REGISTRY[name](**values)


def from_dict(data: dict[str, Any]) -> Schedule:
    """Rebuild a schedule from ``Schedule.to_dict()`` (also after a JSON round trip)."""
    if not isinstance(data, dict) or "type" not in data:
        raise TypeError(f"from_dict: expected a dict with a 'type' key, got {describe(data)}")
    name = data["type"]
    cls = _REGISTRY.get(name)
    if cls is None:
        raise ValueError(f"from_dict: unknown schedule type {name!r}; known: {', '.join(sorted(_REGISTRY))}")
    kwargs = {key: value for key, value in data.items() if key != "type"}
    unknown = set(kwargs) - set(cls._fields)
    if unknown:
        raise ValueError(f"from_dict: {name} has no parameter(s) {', '.join(sorted(unknown))}")
    return cls(**{key: _from_json(value) for key, value in kwargs.items()})


def _from_json(value):
    if isinstance(value, dict) and "type" in value:
        return from_dict(value)
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        return [from_dict(v) for v in value]
    return value


# ====================================================================================================
# families


class Family(Schedule):
    """A primitive schedule: one instruction of the engine. Its identity (opcode, broadcast parameters
    in operand order, mode encoding, table layout, reference formula) is its row of the family table
    (``_families.py``), found by the class name; subclasses implement ``__init__`` and ``_check``."""

    _spec: ClassVar[Optional[_families.FamilySpec]] = None
    _numeric: ClassVar[tuple[str, ...]] = ()
    _allow_inf: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        spec = _families.BY_NAME.get(cls.__name__)
        if spec is not None:
            cls._spec = spec
            cls._numeric = spec.operands

    def _setup(self, **given) -> None:
        owner = type(self).__name__
        values: dict[str, Any] = {}
        for name in self._fields:
            value = given[name]
            if name in self._numeric and not (name in self._allow_inf and value is None):
                value = as_number_array(owner, name, value, allow_inf=name in self._allow_inf)
            values[name] = value
        # shapes first: a cross-parameter rule on arrays that do not broadcast would raise numpy's
        # message instead of one naming the parameters
        broadcast_shape(owner, {k: np.shape(v) for k, v in values.items()
                                if k in self._numeric and isinstance(v, np.ndarray)})
        self._check(owner, values)
        self._finish(values)

    def _broadcast_fields(self) -> tuple[str, ...]:
        return self._numeric

    def _check(self, owner: str, v: dict[str, Any]) -> None:
        """Validate the converted parameters (override)."""

    def _operand_values(self) -> tuple[Any, ...]:
        args = self._kernel_args()
        return tuple(args[name] for name in self._numeric)

    def _emit(self, builder, time_register):
        spec = self._spec
        operands = tuple(builder.operand(value) for value in self._operand_values())
        values, length = spec.table_values(self._values)
        table = (builder.table(values)[0], length) if spec.table else (0, 0)
        return builder.emit(spec.opcode, src=time_register, mode=spec.mode(self._values), table=table,
                            operands=operands)

    def _reference(self, t, evaluate):
        return self._spec.reference(t, **self._kernel_args())

    def _kernel_args(self) -> dict[str, Any]:
        """The parameters as the kernels and the reference formula take them."""
        return dict(self._values)

    def _max(self, name: str) -> float:
        return float(np.max(self._values[name]))


def _nonnegative(owner, v, *names):
    for name in names:
        require(owner, np.asarray(v[name]) >= 0, f"{name} must be >= 0", {name: v[name]})


def _positive(owner, v, *names):
    for name in names:
        require(owner, np.asarray(v[name]) > 0, f"{name} must be > 0", {name: v[name]})


def _decay_factor(owner, v, name):
    value = np.asarray(v[name])
    require(owner, (value > 0) & (value <= 1), f"{name} must be in (0, 1]", {name: v[name]})


def _sorted(owner, name, values):
    array = np.asarray(values)
    if len(array) > 1 and np.any(np.diff(array) < 0):
        i = int(np.argmax(np.diff(array) < 0))
        raise ValueError(f"{owner}: {name} must be sorted (non-decreasing), got {name}[{i}]="
                         f"{describe(array[i])} > {name}[{i + 1}]={describe(array[i + 1])}")
    if len(array) and np.any(array < 0):
        i = int(np.argmax(array < 0))
        raise ValueError(f"{owner}: {name} must be >= 0, got {name}[{i}]={describe(array[i])}")


@_register
class Constant(Family):
    """``lr`` at every step."""

    _fields = ("lr",)

    def __init__(self, lr: ArrayLike):
        self._setup(lr=lr)

    def _check(self, owner, v):
        _nonnegative(owner, v, "lr")


@_register
class Linear(Family):
    """Linear from ``start_lr`` at t = 0 to ``end_lr`` at t = ``total_steps``, ``end_lr`` after.

    ``f = min(t, T) / T``; ``start * (1 - f) + end * f`` (torch ``LinearLR``, optax ``linear_schedule``).
    """

    _fields = ("start_lr", "end_lr", "total_steps")

    def __init__(self, start_lr: ArrayLike, end_lr: ArrayLike, total_steps: ArrayLike):
        self._setup(start_lr=start_lr, end_lr=end_lr, total_steps=total_steps)

    def _check(self, owner, v):
        _nonnegative(owner, v, "start_lr", "end_lr")
        _positive(owner, v, "total_steps")

    @property
    def horizon(self):
        return self._max("total_steps")


@_register
class StepDecay(Family):
    """``lr * gamma ** floor(t / step_size)`` (torch ``StepLR``); no horizon."""

    _fields = ("lr", "step_size", "gamma")

    def __init__(self, lr: ArrayLike, step_size: ArrayLike, gamma: ArrayLike = 0.1):
        self._setup(lr=lr, step_size=step_size, gamma=gamma)

    def _check(self, owner, v):
        _nonnegative(owner, v, "lr")
        _decay_factor(owner, v, "gamma")
        _positive(owner, v, "step_size")


@_register
class MultiStep(Family):
    """``lr * gamma ** (number of milestones <= t)`` (torch ``MultiStepLR``): the decay applies at
    ``t == milestone``; repeated milestones compound. Horizon: the last milestone."""

    _fields = ("lr", "milestones", "gamma")

    def __init__(self, lr: ArrayLike, milestones: Sequence[Number], gamma: ArrayLike = 0.1):
        milestones = as_sequence("MultiStep", "milestones", milestones)
        _sorted("MultiStep", "milestones", milestones)
        self._setup(lr=lr, milestones=milestones, gamma=gamma)

    def _check(self, owner, v):
        _nonnegative(owner, v, "lr")
        _decay_factor(owner, v, "gamma")

    @property
    def horizon(self):
        milestones = self._values["milestones"]
        return milestones[-1] if milestones else None


@_register
class Exponential(Family):
    """``min(max(lr * gamma ** e, min_lr), max_lr)`` with ``e = t / step_size``, floored if ``staircase``
    (torch ``ExponentialLR`` with step_size=1, optax ``exponential_decay``, keras ``ExponentialDecay``).

    ``gamma < 1`` decays (towards ``min_lr``); ``gamma > 1`` grows, as torch's ``ExponentialLR`` and
    optax's ``exponential_decay`` allow (the LR range test is built on it), up to ``max_lr`` (optax's
    ``end_value`` for growth; ``None``: uncapped). An uncapped growth never returns inf: evaluating it at
    a step where ``lr * gamma ** e`` would overflow float64 raises a ``ValueError`` naming that step.
    """

    _fields = ("lr", "gamma", "step_size", "staircase", "min_lr", "max_lr")
    _allow_inf = ("max_lr",)

    def __init__(self, lr: ArrayLike, gamma: ArrayLike, step_size: ArrayLike = 1, staircase: bool = False,
                 min_lr: ArrayLike = 0.0, max_lr: Optional[ArrayLike] = None):
        staircase = as_flag("Exponential", "staircase", staircase)
        self._setup(lr=lr, gamma=gamma, step_size=step_size, staircase=staircase, min_lr=min_lr, max_lr=max_lr)

    def _check(self, owner, v):
        _nonnegative(owner, v, "lr", "min_lr")
        _positive(owner, v, "gamma", "step_size")
        require(owner, np.isfinite(np.asarray(v["gamma"])), "gamma must be finite", {"gamma": v["gamma"]})
        require(owner, np.asarray(v["min_lr"]) <= np.asarray(v["lr"]), "min_lr must be <= lr",
                {"min_lr": v["min_lr"], "lr": v["lr"]})
        # a growth starts from a positive lr (0 * gamma ** e stays 0: that is Constant(0))
        require(owner, (np.asarray(v["gamma"]) <= 1) | (np.asarray(v["lr"]) > 0), "lr must be > 0 when gamma > 1",
                {"lr": v["lr"], "gamma": v["gamma"]})
        if v["max_lr"] is not None:
            require(owner, np.asarray(v["max_lr"]) >= np.asarray(v["lr"]), "max_lr must be >= lr",
                    {"max_lr": v["max_lr"], "lr": v["lr"]})

    def _kernel_args(self):
        args = dict(self._values)
        if args["max_lr"] is None:
            args["max_lr"] = math.inf
        return args

    def _overflow_step(self) -> float:
        """The first step at which an uncapped growth overflows float64 (inf if it never does):
        ``lr * gamma ** e`` and ``gamma ** e`` stay below ``exp(_LOG_MAX)`` up to ``e = (_LOG_MAX -
        max(log lr, 0)) / log gamma``, ``e = t / step_size`` (floored: the first overflowing stair)."""
        if self._values["max_lr"] is not None:
            return math.inf
        gamma = np.asarray(self._values["gamma"], dtype=np.float64)
        if not np.any(gamma > 1):
            return math.inf
        lr = np.asarray(self._values["lr"], dtype=np.float64)
        step = np.asarray(self._values["step_size"], dtype=np.float64)
        with np.errstate(divide="ignore"):
            e_max = (_LOG_MAX - np.maximum(np.log(lr), 0.0)) / np.log(np.where(gamma > 1, gamma, 2.0))
        if self._values["staircase"]:
            e_max = np.floor(e_max) + 1.0
        return float(np.min(np.where(gamma > 1, e_max * step, math.inf)))


@_register
class InverseTime(Family):
    """``lr / (1 + decay_rate * e)`` with ``e = t / decay_steps``, floored if ``staircase``
    (keras ``InverseTimeDecay``)."""

    _fields = ("lr", "decay_rate", "decay_steps", "staircase")

    def __init__(self, lr: ArrayLike, decay_rate: ArrayLike, decay_steps: ArrayLike, staircase: bool = False):
        staircase = as_flag("InverseTime", "staircase", staircase)
        self._setup(lr=lr, decay_rate=decay_rate, decay_steps=decay_steps, staircase=staircase)

    def _check(self, owner, v):
        _nonnegative(owner, v, "lr", "decay_rate")
        _positive(owner, v, "decay_steps")


@_register
class Polynomial(Family):
    """``q = ((T - min(t, T)) / T) ** power``; ``start * q + end * (1 - q)``
    (torch ``PolynomialLR`` with end 0, optax ``polynomial_schedule``, HF polynomial)."""

    _fields = ("start_lr", "end_lr", "total_steps", "power")

    def __init__(self, start_lr: ArrayLike, end_lr: ArrayLike, total_steps: ArrayLike, power: ArrayLike = 1.0):
        self._setup(start_lr=start_lr, end_lr=end_lr, total_steps=total_steps, power=power)

    def _check(self, owner, v):
        _nonnegative(owner, v, "start_lr", "end_lr")
        _positive(owner, v, "total_steps", "power")

    @property
    def horizon(self):
        return self._max("total_steps")


@_register
class Cosine(Family):
    """``c = (1 + cos(pi min(t, T) / T)) / 2``; ``peak * c + min * (1 - c)``; ``min_lr`` from T on.

    Unlike torch's ``CosineAnnealingLR``, it does not rise again after ``total_steps``: it holds ``min_lr``.
    """

    _fields = ("peak_lr", "total_steps", "min_lr")

    def __init__(self, peak_lr: ArrayLike, total_steps: ArrayLike, min_lr: ArrayLike = 0.0):
        self._setup(peak_lr=peak_lr, total_steps=total_steps, min_lr=min_lr)

    def _check(self, owner, v):
        _nonnegative(owner, v, "peak_lr", "min_lr")
        _positive(owner, v, "total_steps")

    @property
    def horizon(self):
        return self._max("total_steps")


@_register
class CosineRestarts(Family):
    """SGDR: cycle ``i`` lasts ``cycle_steps * cycle_mult**i`` and anneals from ``peak_lr * cycle_decay**i``
    to ``min_lr`` by cosine; after ``cycle_limit`` cycles it holds ``min_lr``.

    Cycle ``i`` starts at ``S_i = cycle_steps * (cycle_mult**i - 1) / (cycle_mult - 1)`` (``cycle_steps * i``
    for ``cycle_mult == 1``); a step that starts a cycle gets its peak exactly: the cycle index is the
    number of starts ``<= t``, not a ``floor(log(...))`` (which puts t = 111, cycle_steps=1,
    cycle_mult=10 in the trough, as torch's ``CosineAnnealingWarmRestarts.step(epoch)`` and timm do).
    """

    _fields = ("peak_lr", "cycle_steps", "min_lr", "cycle_mult", "cycle_decay", "cycle_limit")
    _allow_inf = ("cycle_limit",)

    def __init__(self, peak_lr: ArrayLike, cycle_steps: ArrayLike, min_lr: ArrayLike = 0.0,
                 cycle_mult: ArrayLike = 1.0, cycle_decay: ArrayLike = 1.0,
                 cycle_limit: Optional[ArrayLike] = None):
        self._setup(peak_lr=peak_lr, cycle_steps=cycle_steps, min_lr=min_lr, cycle_mult=cycle_mult,
                    cycle_decay=cycle_decay, cycle_limit=cycle_limit)

    def _check(self, owner, v):
        _nonnegative(owner, v, "peak_lr", "min_lr")
        _positive(owner, v, "cycle_steps")
        require(owner, np.asarray(v["cycle_mult"]) >= 1, "cycle_mult must be >= 1",
                {"cycle_mult": v["cycle_mult"]})
        _decay_factor(owner, v, "cycle_decay")
        limit = v["cycle_limit"]
        if limit is not None:
            limit = np.asarray(limit)
            require(owner, (limit >= 1) & (np.floor(limit) == limit),
                    "cycle_limit must be None or an integer >= 1", {"cycle_limit": v["cycle_limit"]})

    def _kernel_args(self):
        args = dict(self._values)
        if args["cycle_limit"] is None:
            args["cycle_limit"] = math.inf
        return args

    @property
    def horizon(self):
        if self._values["cycle_limit"] is None:
            return None
        limit = np.asarray(self._values["cycle_limit"], dtype=np.float64)
        steps = np.asarray(self._values["cycle_steps"])
        mult = np.asarray(self._values["cycle_mult"])
        with np.errstate(divide="ignore", invalid="ignore"):
            ends = np.where(mult == 1, steps * limit, steps * (mult**limit - 1) / (mult - 1))
        return float(np.max(ends))


@_register
class WarmupCosine(Family):
    """Linear warmup from ``init_lr`` to ``peak_lr`` at t = ``warmup_steps``, cosine to ``min_lr`` at
    t = ``total_steps`` (which includes the warmup, as in optax and HF), ``min_lr`` after.

    ``t < W``: ``init * (1 - t/W) + peak * t/W``; ``W <= t < T``: ``c = (1 + cos(pi (t - W)/(T - W))) / 2``,
    ``peak * c + min * (1 - c)``; ``t >= T``: ``min_lr``. Exact values: ``init_lr`` at 0, ``peak_lr`` at W
    (when W < T), ``min_lr`` from T. HF's cosine rises again after the horizon; this one holds ``min_lr``.
    """

    _fields = ("peak_lr", "total_steps", "warmup_steps", "min_lr", "init_lr")

    def __init__(self, peak_lr: ArrayLike, total_steps: ArrayLike, warmup_steps: ArrayLike,
                 min_lr: ArrayLike = 0.0, init_lr: ArrayLike = 0.0):
        self._setup(peak_lr=peak_lr, total_steps=total_steps, warmup_steps=warmup_steps, min_lr=min_lr,
                    init_lr=init_lr)

    def _check(self, owner, v):
        _nonnegative(owner, v, "peak_lr", "min_lr", "init_lr", "warmup_steps")
        _positive(owner, v, "total_steps")
        require(owner, np.asarray(v["warmup_steps"]) <= np.asarray(v["total_steps"]),
                "warmup_steps must be <= total_steps",
                {"warmup_steps": v["warmup_steps"], "total_steps": v["total_steps"]})

    @property
    def horizon(self):
        return self._max("total_steps")


_DECAY_SHAPES = tuple(dict(_families.BY_NAME["WarmupStableDecay"].modes)["decay_shape"])


@_register
class WarmupStableDecay(Family):
    """WSD: warmup ``init -> peak`` on ``[0, W]``, ``peak_lr`` until ``T - D``, then decay to ``min_lr``
    at ``T`` (``total_steps`` includes warmup and decay), ``min_lr`` after.

    With ``p = (t - (T - D)) / D`` the decay factor ``s`` is ``1 - p`` (linear), ``(1 + cos(pi p))/2``
    (cosine), ``1 - sqrt(p)`` (1-sqrt) or ``1 - p**2`` (1-square); value ``peak * s + min * (1 - s)``.
    HF's ``get_wsd_schedule`` starts its warmup at ``min_lr_ratio``; here it starts at ``init_lr``.
    """

    _fields = ("peak_lr", "total_steps", "warmup_steps", "decay_steps", "min_lr", "init_lr", "decay_shape")

    def __init__(self, peak_lr: ArrayLike, total_steps: ArrayLike, warmup_steps: ArrayLike,
                 decay_steps: ArrayLike, min_lr: ArrayLike = 0.0, init_lr: ArrayLike = 0.0,
                 decay_shape: str = "linear"):
        decay_shape = as_choice("WarmupStableDecay", "decay_shape", decay_shape, _DECAY_SHAPES)
        self._setup(peak_lr=peak_lr, total_steps=total_steps, warmup_steps=warmup_steps,
                    decay_steps=decay_steps, min_lr=min_lr, init_lr=init_lr, decay_shape=decay_shape)

    def _check(self, owner, v):
        _nonnegative(owner, v, "peak_lr", "min_lr", "init_lr", "warmup_steps", "decay_steps")
        _positive(owner, v, "total_steps")
        require(owner,
                np.asarray(v["warmup_steps"]) + np.asarray(v["decay_steps"]) <= np.asarray(v["total_steps"]),
                "warmup_steps + decay_steps must be <= total_steps",
                {"warmup_steps": v["warmup_steps"], "decay_steps": v["decay_steps"],
                 "total_steps": v["total_steps"]})

    @property
    def horizon(self):
        return self._max("total_steps")


@_register
class OneCycle(Family):
    """PyTorch ``OneCycleLR``'s closed form on ``0 <= t <= T - 1``, holding its final value after.

    ``initial = max_lr / div_factor``, ``final = initial / final_div_factor``. Two phases end at steps
    ``pct_start*T - 1`` (initial -> max) and ``T - 1`` (max -> final); ``three_phase`` adds a return to
    ``initial`` ending at ``2*pct_start*T - 2`` before annealing to ``final``. ``anneal`` is ``"cos"``
    (``(1 + cos(pi q))/2`` blend) or ``"linear"``. torch extrapolates at t = T and raises after; this
    schedule holds its value at ``T - 1`` (``final``; ``max_lr`` if ``pct_start = 1``) from there on.
    """

    _fields = ("max_lr", "total_steps", "pct_start", "div_factor", "final_div_factor", "anneal",
               "three_phase")

    def __init__(self, max_lr: ArrayLike, total_steps: ArrayLike, pct_start: ArrayLike = 0.3,
                 div_factor: ArrayLike = 25.0, final_div_factor: ArrayLike = 1e4, anneal: str = "cos",
                 three_phase: bool = False):
        anneal = as_choice("OneCycle", "anneal", anneal, tuple(dict(_families.BY_NAME["OneCycle"].modes)["anneal"]))
        three_phase = as_flag("OneCycle", "three_phase", three_phase)
        self._setup(max_lr=max_lr, total_steps=total_steps, pct_start=pct_start, div_factor=div_factor,
                    final_div_factor=final_div_factor, anneal=anneal, three_phase=three_phase)

    def _check(self, owner, v):
        _nonnegative(owner, v, "max_lr")
        _positive(owner, v, "total_steps", "div_factor", "final_div_factor")
        upper = 0.5 if v["three_phase"] else 1.0
        pct = np.asarray(v["pct_start"])
        require(owner, (pct >= 0) & (pct <= upper),
                f"pct_start must be in [0, {upper:g}]" + (" with three_phase" if v["three_phase"] else ""),
                {"pct_start": v["pct_start"]})

    @property
    def horizon(self):
        return self._max("total_steps")


_CYCLIC_MODES = tuple(dict(_families.BY_NAME["Cyclic"].modes)["mode"])


@_register
class Cyclic(Family):
    """PyTorch ``CyclicLR``: triangles between ``base_lr`` and ``max_lr``, up in ``step_size_up`` steps
    and down in ``step_size_down`` (default: the same).

    ``cycle = floor(1 + t/total)``, ``x = 1 + t/total - cycle``, ``scale = x/ratio`` or
    ``(x - 1)/(ratio - 1)``; ``base + (max - base) * scale * g`` with ``g = 1`` (triangular),
    ``0.5**(cycle - 1)`` (triangular2: the amplitude underflows to 0, it never overflows) or
    ``gamma**t`` (exp_range). Periodic: no horizon.
    """

    _fields = ("base_lr", "max_lr", "step_size_up", "step_size_down", "mode", "gamma")

    def __init__(self, base_lr: ArrayLike, max_lr: ArrayLike, step_size_up: ArrayLike,
                 step_size_down: Optional[ArrayLike] = None, mode: str = "triangular", gamma: ArrayLike = 1.0):
        mode = as_choice("Cyclic", "mode", mode, _CYCLIC_MODES)
        if step_size_down is None:
            step_size_down = step_size_up
        self._setup(base_lr=base_lr, max_lr=max_lr, step_size_up=step_size_up,
                    step_size_down=step_size_down, mode=mode, gamma=gamma)

    def _check(self, owner, v):
        _nonnegative(owner, v, "base_lr", "step_size_down")
        _positive(owner, v, "step_size_up")
        _decay_factor(owner, v, "gamma")
        require(owner, np.asarray(v["base_lr"]) <= np.asarray(v["max_lr"]), "base_lr must be <= max_lr",
                {"base_lr": v["base_lr"], "max_lr": v["max_lr"]})


@_register
class InverseSqrt(Family):
    """Linear warmup ``init -> peak`` on ``[0, W]``, then ``peak * sqrt(max(W, 1) / max(t, 1))``
    (fairseq / HF ``inverse_sqrt``, which is ``peak * sqrt(W / t)`` for ``W >= 1``). No horizon."""

    _fields = ("peak_lr", "warmup_steps", "init_lr")

    def __init__(self, peak_lr: ArrayLike, warmup_steps: ArrayLike, init_lr: ArrayLike = 0.0):
        self._setup(peak_lr=peak_lr, warmup_steps=warmup_steps, init_lr=init_lr)

    def _check(self, owner, v):
        _nonnegative(owner, v, "peak_lr", "warmup_steps", "init_lr")

    @classmethod
    def noam(cls, d_model: ArrayLike, warmup_steps: ArrayLike, scale: ArrayLike = 1.0) -> InverseSqrt:
        """"Attention Is All You Need": ``scale * d_model**-0.5 * min(t**-0.5, t * W**-1.5)``.

        The same curve for ``t >= 1`` as ``InverseSqrt(peak_lr=scale * (d_model * W)**-0.5, W)``,
        which is what this returns; at t = 0 it is 0 (the paper starts at step 1).
        """
        d_model = as_number_array("InverseSqrt.noam", "d_model", d_model)
        warmup = as_number_array("InverseSqrt.noam", "warmup_steps", warmup_steps)
        scale = as_number_array("InverseSqrt.noam", "scale", scale)
        broadcast_shape("InverseSqrt.noam", {"d_model": np.shape(d_model), "warmup_steps": np.shape(warmup),
                                             "scale": np.shape(scale)})
        require("InverseSqrt.noam", np.asarray(d_model) > 0, "d_model must be > 0", {"d_model": d_model})
        require("InverseSqrt.noam", np.asarray(warmup) > 0, "warmup_steps must be > 0",
                {"warmup_steps": warmup})
        _nonnegative("InverseSqrt.noam", {"scale": scale}, "scale")
        peak = np.asarray(scale) * (np.asarray(d_model) * np.asarray(warmup)) ** -0.5
        return cls(peak_lr=peak if np.ndim(peak) else float(peak), warmup_steps=warmup)


@_register
class Tanh(Family):
    """timm's ``TanhLRScheduler``: ``c = (1 - tanh(lower + (upper - lower) * t / T)) / 2``,
    ``peak * c + min * (1 - c)`` for ``t < T``, ``min_lr`` from ``T`` on."""

    _fields = ("peak_lr", "total_steps", "min_lr", "lower", "upper")

    def __init__(self, peak_lr: ArrayLike, total_steps: ArrayLike, min_lr: ArrayLike = 0.0,
                 lower: ArrayLike = -7.0, upper: ArrayLike = 3.0):
        self._setup(peak_lr=peak_lr, total_steps=total_steps, min_lr=min_lr, lower=lower, upper=upper)

    def _check(self, owner, v):
        _nonnegative(owner, v, "peak_lr", "min_lr")
        _positive(owner, v, "total_steps")
        require(owner, np.asarray(v["lower"]) < np.asarray(v["upper"]), "lower must be < upper",
                {"lower": v["lower"], "upper": v["upper"]})

    @property
    def horizon(self):
        return self._max("total_steps")


class _Piecewise(Family):

    @property
    def horizon(self):
        boundaries = self._values["boundaries"]
        return boundaries[-1] if boundaries else None


@_register
class PiecewiseConstant(_Piecewise):
    """``values[i]`` for ``boundaries[i-1] <= t < boundaries[i]``: the new value applies at
    ``t == boundary`` (as optax and torch ``MultiStepLR``; keras switches one step later)."""

    _fields = ("boundaries", "values")

    def __init__(self, boundaries: Sequence[Number], values: Sequence[Number]):
        owner = "PiecewiseConstant"
        boundaries = as_sequence(owner, "boundaries", boundaries)
        values = as_sequence(owner, "values", values, min_length=1)
        _sorted(owner, "boundaries", boundaries)
        if len(values) != len(boundaries) + 1:
            raise ValueError(f"{owner}: len(values) must be len(boundaries) + 1, got {len(values)} values "
                             f"for {len(boundaries)} boundaries")
        _sorted_free_nonnegative(owner, "values", values)
        self._setup(boundaries=boundaries, values=values)


@_register
class PiecewiseLinear(_Piecewise):
    """Linear interpolation through the points ``(boundaries[i], values[i])``, holding ``values[0]``
    before the first and ``values[-1]`` after the last. Repeated boundaries make a jump."""

    _fields = ("boundaries", "values")

    def __init__(self, boundaries: Sequence[Number], values: Sequence[Number]):
        owner = "PiecewiseLinear"
        boundaries = as_sequence(owner, "boundaries", boundaries, min_length=1)
        values = as_sequence(owner, "values", values, min_length=1)
        _sorted(owner, "boundaries", boundaries)
        if len(values) != len(boundaries):
            raise ValueError(f"{owner}: len(values) must equal len(boundaries), got {len(values)} values "
                             f"for {len(boundaries)} boundaries")
        _sorted_free_nonnegative(owner, "values", values)
        self._setup(boundaries=boundaries, values=values)


def _sorted_free_nonnegative(owner, name, values):
    array = np.asarray(values)
    if np.any(array < 0):
        i = int(np.argmax(array < 0))
        raise ValueError(f"{owner}: {name} must be >= 0, got {name}[{i}]={describe(array[i])}")


# ====================================================================================================
# composites


def _as_schedule(owner: str, name: str, value) -> Schedule:
    if not isinstance(value, Schedule):
        raise TypeError(f"{owner}: {name} must be a fastlr schedule, got {describe(value)} "
                        f"({type(value).__name__})")
    return value


@_register
class Join(Schedule):
    """``schedules[0]`` until ``boundaries[0]``, then ``schedules[1]`` seeing the local step
    ``t - boundaries[0]``, and so on (optax ``join_schedules``, torch ``SequentialLR``)."""

    _fields = ("schedules", "boundaries")

    def __init__(self, schedules: Sequence[Schedule], boundaries: Sequence[Number]):
        owner = "join"
        if isinstance(schedules, Schedule) or not isinstance(schedules, (list, tuple)):
            raise TypeError(f"{owner}: schedules must be a list of schedules, got {describe(schedules)}")
        schedules = tuple(_as_schedule(owner, f"schedules[{i}]", s) for i, s in enumerate(schedules))
        if not schedules:
            raise ValueError(f"{owner}: schedules must not be empty")
        boundaries = as_sequence(owner, "boundaries", boundaries)
        if len(boundaries) != len(schedules) - 1:
            raise ValueError(f"{owner}: len(boundaries) must be len(schedules) - 1, got {len(boundaries)} "
                             f"boundaries for {len(schedules)} schedules")
        _sorted(owner, "boundaries", boundaries)
        self._finish({"schedules": schedules, "boundaries": boundaries})

    def _overflow_step(self):
        # part i takes over at boundary i - 1 and sees the local step t - boundary; its overflow
        # matters only while it is the part in force
        starts = [0.0] + list(self._values["boundaries"])
        ends = list(self._values["boundaries"]) + [math.inf]
        steps = [start + part._overflow_step() for part, start in zip(self._values["schedules"], starts)]
        return min((step for step, end in zip(steps, ends) if step < end), default=math.inf)

    def _child_shapes(self):
        return {f"schedules[{i}]": s.param_shape for i, s in enumerate(self._values["schedules"])}

    @property
    def horizon(self):
        schedules, boundaries = self._values["schedules"], self._values["boundaries"]
        last = schedules[-1].horizon
        if last is None:
            return None
        return (boundaries[-1] if boundaries else 0.0) + last

    def _emit(self, builder, time_register):
        schedules, boundaries = self._values["schedules"], self._values["boundaries"]
        result = schedules[0]._emit(builder, time_register)
        for schedule, boundary in zip(schedules[1:], boundaries):
            operand = builder.operand(boundary)
            local = builder.emit(_program.SHIFT, src=time_register, operands=(operand,))
            value = schedule._emit(builder, local)
            result = builder.emit(_program.SELECT, src=time_register, src2=result, src3=value,
                                  operands=(operand,))
        return result

    def _reference(self, t, evaluate):
        from . import _reference

        parts = [lambda u, s=s: s._reference(u, evaluate) for s in self._values["schedules"]]
        return _reference.join(t, parts, self._values["boundaries"])


@_register
class Product(Schedule):
    """The pointwise product of two schedules (``a * b``), e.g. a schedule times a per-group factor
    schedule. Its horizon is the later of the two (``None`` if either has none)."""

    _fields = ("first", "second")

    def __init__(self, first: Schedule, second: Schedule):
        first = _as_schedule("Product", "first", first)
        second = _as_schedule("Product", "second", second)
        self._finish({"first": first, "second": second})

    def _child_shapes(self):
        return {"first": self._values["first"].param_shape, "second": self._values["second"].param_shape}

    @property
    def horizon(self):
        a, b = self._values["first"].horizon, self._values["second"].horizon
        return None if a is None or b is None else max(a, b)

    def _emit(self, builder, time_register):
        a = self._values["first"]._emit(builder, time_register)
        b = self._values["second"]._emit(builder, time_register)
        return builder.emit(_program.MUL, src=a, src2=b)

    def _reference(self, t, evaluate):
        return self._values["first"]._reference(t, evaluate) * self._values["second"]._reference(t, evaluate)


@_register
class Scaled(Schedule):
    """``schedule * factor`` with ``factor`` a number or an array (per-group or per-parameter
    multipliers: layer-wise decay, muP); the factor broadcasts like any parameter."""

    _fields = ("schedule", "factor")

    def __init__(self, schedule: Schedule, factor: ArrayLike):
        schedule = _as_schedule("Scaled", "schedule", schedule)
        factor = as_number_array("Scaled", "factor", factor)
        _nonnegative("Scaled", {"factor": factor}, "factor")
        self._finish({"schedule": schedule, "factor": factor})

    def _broadcast_fields(self):
        return ("factor",)

    def _child_shapes(self):
        return {"schedule": self._values["schedule"].param_shape}

    @property
    def horizon(self):
        return self._values["schedule"].horizon

    def _emit(self, builder, time_register):
        value = self._values["schedule"]._emit(builder, time_register)
        return builder.emit(_program.SCALE, src=value, operands=(builder.operand(self._values["factor"]),))

    def _reference(self, t, evaluate):
        return self._values["schedule"]._reference(t, evaluate) * self._values["factor"]


@_register
class WithWarmup(Schedule):
    """A linear ramp from ``init_lr`` to ``schedule(0)`` over ``warmup_steps``, then
    ``schedule(t - warmup_steps)``. ``warmup_steps`` may be an array (one per group or config)."""

    _fields = ("schedule", "warmup_steps", "init_lr")

    def __init__(self, schedule: Schedule, warmup_steps: ArrayLike, init_lr: ArrayLike = 0.0):
        owner = "with_warmup"
        schedule = _as_schedule(owner, "schedule", schedule)
        values = {"warmup_steps": as_number_array(owner, "warmup_steps", warmup_steps),
                  "init_lr": as_number_array(owner, "init_lr", init_lr)}
        _nonnegative(owner, values, "warmup_steps", "init_lr")
        self._finish({"schedule": schedule, **values})

    def _overflow_step(self):
        # the schedule sees t - warmup_steps
        return float(np.min(self._values["warmup_steps"])) + self._values["schedule"]._overflow_step()

    def _broadcast_fields(self):
        return ("warmup_steps", "init_lr")

    def _child_shapes(self):
        return {"schedule": self._values["schedule"].param_shape}

    @property
    def horizon(self):
        inner = self._values["schedule"].horizon
        return None if inner is None else inner + float(np.max(self._values["warmup_steps"]))

    def _emit(self, builder, time_register):
        schedule = self._values["schedule"]
        warmup = builder.operand(self._values["warmup_steps"])
        init = builder.operand(self._values["init_lr"])
        local = builder.emit(_program.SHIFT, src=time_register, operands=(warmup,))
        after = schedule._emit(builder, local)
        zero = builder.emit(_program.ZERO)
        at_zero = schedule._emit(builder, zero)
        return builder.emit(_program.RAMP, src=time_register, src2=after, src3=at_zero,
                            operands=(warmup, init))

    def _reference(self, t, evaluate):
        from . import _reference

        schedule = self._values["schedule"]
        return _reference.with_warmup(t, lambda u: schedule._reference(u, evaluate),
                                      self._values["warmup_steps"], self._values["init_lr"])


@_register
class Offset(Schedule):
    """``schedule(t + steps)``: the schedule seen ``steps`` later, e.g. a scheduler resumed at step
    ``steps`` re-indexed so that ``t = 0`` is now. A negative offset delays the schedule, holding
    ``schedule(0)`` for the first ``-steps`` steps: the schedule always sees ``max(t + steps, 0)``.
    ``steps`` may be an array (one offset per group or per parameter) and need not be an integer."""

    _fields = ("schedule", "steps")

    def __init__(self, schedule: Schedule, steps: ArrayLike):
        owner = "offset"
        schedule = _as_schedule(owner, "schedule", schedule)
        self._finish({"schedule": schedule, "steps": as_number_array(owner, "steps", steps)})

    def _overflow_step(self):
        # the schedule sees t + steps: the largest offset reaches its overflow step first
        inner = self._values["schedule"]._overflow_step()
        return max(inner - float(np.max(self._values["steps"])), 0.0)

    def _broadcast_fields(self):
        return ("steps",)

    def _child_shapes(self):
        return {"schedule": self._values["schedule"].param_shape}

    @property
    def horizon(self):
        inner = self._values["schedule"].horizon
        return None if inner is None else max(inner - float(np.min(self._values["steps"])), 0.0)

    def _emit(self, builder, time_register):
        # SHIFT computes max(t - boundary, 0): the boundary is the negated offset (t - (-k) == t + k exactly)
        negated = builder.operand(-np.asarray(self._values["steps"], dtype=np.float64))
        local = builder.emit(_program.SHIFT, src=time_register, operands=(negated,))
        return self._values["schedule"]._emit(builder, local)

    def _reference(self, t, evaluate):
        from . import _reference

        schedule = self._values["schedule"]
        return _reference.offset(t, lambda u: schedule._reference(u, evaluate), self._values["steps"])


def join(schedules: Sequence[Schedule], boundaries: Sequence[Number]) -> Join:
    """Run ``schedules[i + 1]`` from ``boundaries[i]`` on, on the local step ``t - boundaries[i]``."""
    return Join(schedules, boundaries)


def with_warmup(schedule: Schedule, warmup_steps: ArrayLike, init_lr: ArrayLike = 0.0) -> WithWarmup:
    """Prefix ``schedule`` with a linear warmup from ``init_lr`` to ``schedule(0)``."""
    return WithWarmup(schedule, warmup_steps, init_lr)


def offset(schedule: Schedule, steps: ArrayLike) -> Offset:
    """``schedule(max(t + steps, 0))``: ``schedule`` re-indexed to start ``steps`` later."""
    return Offset(schedule, steps)
