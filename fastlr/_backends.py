"""The backend registry: ``cpp`` -> ``numba`` -> ``numpy``, each with the reason it is missing.

numba and the C++ extension are imported lazily: ``import fastlr`` imports neither; ``backends()``
checks whether they can be imported (the C++ extension is loaded, numba is only located), and the
first evaluation with a backend loads it.
"""

from __future__ import annotations

import contextlib
import contextvars
import importlib
import importlib.util
import os
import threading
from collections.abc import Iterator
from typing import Optional

import numpy as np

from . import _program

ORDER = ("cpp", "numba", "numpy")

_UNIT_STRIDE = np.ones(1, dtype=np.int64)
_UNIT_STRIDE.flags.writeable = False


class BackendUnavailable(RuntimeError):
    """Raised when a backend that was asked for by name cannot be used (the message says why)."""


class _Backend:
    name = ""

    def __init__(self) -> None:
        self._module = None
        self._error: Optional[str] = None
        self._lock = threading.Lock()

    def unavailable_reason(self) -> Optional[str]:
        """``None`` when the backend can be used, else why not."""
        raise NotImplementedError

    def module(self):
        if self._module is None:
            with self._lock:
                if self._module is None:
                    reason = self.unavailable_reason()
                    if reason is not None:
                        raise BackendUnavailable(f"backend {self.name!r} is unavailable: {reason}")
                    self._module = self._load()
                    if _threads.requested is not None and self.name != "numpy":
                        self._module.set_num_threads(_threads.requested)
        return self._module

    def _load(self):
        raise NotImplementedError

    @property
    def loaded(self) -> bool:
        return self._module is not None

    # evaluation -------------------------------------------------------------------------------
    def evaluate(self, schedule, steps: Optional[np.ndarray], start: float, out: np.ndarray) -> None:
        """Write ``schedule`` at ``steps`` (or at ``start + index along axis 0`` when ``steps`` is
        ``None``) into the C-contiguous ``out``; everything has been validated."""
        program = schedule._program()
        if not program.has_array_operands and (steps is None or (steps.shape == out.shape
                                                                 and steps.flags.c_contiguous)):
            # the common case (a curve, or contiguous steps, with scalar parameters) is one flat
            # dimension: no stride arithmetic (it dominates the cost of small calls)
            flat_steps = None if steps is None else steps.reshape(-1)
            self._run(schedule, program, flat_steps, _UNIT_STRIDE, float(start), out.reshape(-1), (out.size,),
                      program.flat_scalar_strides)
            return
        if out.ndim == 0:  # a 0-d result: scalar steps and scalar parameters
            out = out.reshape(1)
            steps = None if steps is None else steps.reshape(1)
        ndim = out.ndim
        operand_rows = program.operand_strides(out.shape).reshape(-1, ndim)
        if steps is None:
            step_row = np.zeros((1, ndim), dtype=np.int64)
            step_row[0, 0] = 1
        else:
            element_strides = [s // steps.itemsize for s in steps.strides]
            step_row = np.array([_program.broadcast_strides(steps.shape, element_strides, out.shape)],
                                dtype=np.int64).reshape(1, ndim)
        shape, rows = _program.coalesce(out.shape, np.concatenate([step_row, operand_rows], axis=0))
        self._run(schedule, program, steps, rows[0], float(start), out, shape, rows[1:])

    def _run(self, schedule, program, steps, step_strides, start, out, shape, operand_strides):
        raise NotImplementedError

    def scalar(self, schedule, t: float) -> float:
        raise NotImplementedError

    def scalar_function(self, schedule):
        """A callable ``f(t: float) -> float`` for ``schedule`` (cached on the schedule by the facade)."""
        return lambda t: self.scalar(schedule, t)

    def describe(self) -> str:
        return ""


class _CppBackend(_Backend):
    name = "cpp"

    def __init__(self) -> None:
        super().__init__()
        self._extension = None  # imported by unavailable_reason; loaded (threads applied) by module()

    def unavailable_reason(self):
        if self._error is None and self._extension is None:
            try:
                self._extension = importlib.import_module("fastlr._core")
            except ImportError as error:
                self._error = (f"the C++ extension fastlr._core failed to import ({error}); "
                               f"reinstall fastlr with a C++ compiler: pip install .")
        return self._error

    def _load(self):
        return self._extension

    def _core_program(self, schedule, program):
        compiled = program.backend_data.get("cpp")
        if compiled is None:
            compiled = program.backend_data["cpp"] = self.module().Program(
                program.code, program.operand_data, program.operand_offset, program.tables,
                program.n_registers, program.result_register)
        return compiled

    def _run(self, schedule, program, steps, step_strides, start, out, shape, operand_strides):
        core = self._core_program(schedule, program)
        core.evaluate(steps, step_strides, start, out, np.asarray(shape, dtype=np.int64), operand_strides)

    def scalar(self, schedule, t):
        return self._core_program(schedule, schedule._program()).scalar(t)

    def scalar_function(self, schedule):
        return self._core_program(schedule, schedule._program()).scalar

    def plateau(self, metrics, lr, min_lr, out, **rule):
        self.module().plateau(metrics, lr, min_lr, out, **rule)

    def describe(self):
        module = self.module()
        return f"CPU features: {module.cpu_features()}; build: {module.build_info()}"


class _NumbaBackend(_Backend):
    name = "numba"

    def unavailable_reason(self):
        if self._error is None and self._module is None and importlib.util.find_spec("numba") is None:
            self._error = "numba is not installed (pip install numba)"
        return self._error

    def _load(self):
        try:
            return importlib.import_module("fastlr._numba")
        except Exception as error:  # an incompatible numba/numpy pair raises ImportError or others
            self._error = f"numba failed to import ({type(error).__name__}: {error})"
            raise BackendUnavailable(f"backend 'numba' is unavailable: {self._error}") from None

    def _run(self, schedule, program, steps, step_strides, start, out, shape, operand_strides):
        self.module().evaluate(program, steps, step_strides, start, out, tuple(int(n) for n in shape),
                               operand_strides)

    def scalar(self, schedule, t):
        return self.module().scalar(schedule._program(), t)

    def plateau(self, metrics, lr, min_lr, out, **rule):
        self.module().plateau(metrics, lr, min_lr, out, **rule)

    def describe(self):
        import numba

        return f"numba {numba.__version__}, compile report: {self.module().compile_report()}"


class _NumpyBackend(_Backend):
    name = "numpy"

    def unavailable_reason(self):
        return None

    def _load(self):
        from . import _reference

        return _reference

    def evaluate(self, schedule, steps, start, out):
        reference = self.module()
        if steps is None:
            n = out.shape[0]
            steps = (start + np.arange(n, dtype=np.float64)).reshape((n,) + (1,) * (out.ndim - 1))
        np.copyto(out, reference.evaluate(schedule, steps), casting="same_kind")

    def scalar(self, schedule, t):
        return float(self.module().evaluate(schedule, np.float64(t)))

    def plateau(self, metrics, lr, min_lr, out, **rule):
        out[...] = self.module().plateau(metrics, lr, min_lr, **rule)

    def describe(self):
        return f"numpy {np.__version__} (the reference)"


_BACKENDS = {backend.name: backend for backend in (_CppBackend(), _NumbaBackend(), _NumpyBackend())}


class _ThreadSetting:
    requested: Optional[int] = None


_threads = _ThreadSetting()


def _env_threads() -> Optional[int]:
    text = os.environ.get("FASTLR_NUM_THREADS")
    if not text:
        return None
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"FASTLR_NUM_THREADS must be a positive integer, got {text!r}") from None
    if value < 1:
        raise ValueError(f"FASTLR_NUM_THREADS must be a positive integer, got {text!r}")
    return value


_threads.requested = _env_threads()


def backends() -> tuple[str, ...]:
    """The available backends, in order of preference (a subset of ``("cpp", "numba", "numpy")``)."""
    return tuple(name for name in ORDER if _BACKENDS[name].unavailable_reason() is None)


def _lookup(name) -> _Backend:
    if not isinstance(name, str):
        raise TypeError(f"backend must be a string, one of {', '.join(ORDER)}; got {name!r}")
    backend = _BACKENDS.get(name)
    if backend is None:
        raise ValueError(f"unknown backend {name!r}; choose one of {', '.join(ORDER)}")
    reason = backend.unavailable_reason()
    if reason is not None:
        raise BackendUnavailable(f"backend {name!r} is unavailable: {reason}")
    return backend


def _initial_default() -> str:
    requested = os.environ.get("FASTLR_BACKEND")
    if requested:
        return _lookup(requested).name
    return backends()[0]


_default: Optional[str] = None
_override: contextvars.ContextVar[Optional[str]] = contextvars.ContextVar("fastlr_backend", default=None)


def get_backend() -> str:
    """The name of the backend that evaluates schedules in this context."""
    global _default
    name = _override.get()
    if name is not None:
        return name
    if _default is None:
        _default = _initial_default()
    return _default


def active() -> _Backend:
    return _BACKENDS[get_backend()]


def scalar_function(schedule):
    """The fastest route to ``schedule(t)`` for one float ``t`` with the active backend, cached on the
    schedule (one entry per backend)."""
    name = _override.get() or _default or get_backend()
    cache = schedule._program().backend_data
    key = ("scalar", name)
    function = cache.get(key)
    if function is None:
        function = cache[key] = _BACKENDS[name].scalar_function(schedule)
    return function


def set_backend(name: str) -> None:
    """Make ``name`` the default backend (``FASTLR_BACKEND`` sets it at import). An unavailable
    backend raises ``BackendUnavailable`` with the reason; there is no silent fallback."""
    global _default
    _default = _lookup(name).name


@contextlib.contextmanager
def use_backend(name: str) -> Iterator[str]:
    """``with fastlr.use_backend("numba"): ...`` evaluates with ``name`` inside the block only."""
    backend = _lookup(name)
    token = _override.set(backend.name)
    try:
        yield backend.name
    finally:
        _override.reset(token)


def set_num_threads(n: int) -> None:
    """Bound the threads of the C++ core and of numba (``FASTLR_NUM_THREADS`` sets it at import)."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"set_num_threads: n must be a positive integer, got {n!r}")
    if n < 1:
        raise ValueError(f"set_num_threads: n must be >= 1, got {n}")
    _threads.requested = int(n)
    for backend in _BACKENDS.values():
        if backend.loaded and backend.name != "numpy":
            backend.module().set_num_threads(int(n))


def get_num_threads() -> int:
    """The thread bound in force (the C++ core's when it is loaded)."""
    cpp = _BACKENDS["cpp"]
    if cpp.unavailable_reason() is None:
        return int(cpp.module().get_num_threads())
    return _threads.requested or (os.cpu_count() or 1)


def config_lines() -> list[str]:
    from ._version import __version__

    lines = [f"fastlr {__version__}", f"numpy {np.__version__}"]
    lines.append(f"active backend: {get_backend()}")
    for name in ORDER:
        backend = _BACKENDS[name]
        reason = backend.unavailable_reason()
        if reason is None:
            try:
                detail = backend.describe()
            except BackendUnavailable as error:
                lines.append(f"  {name:6s} unavailable: {error}")
                continue
            lines.append(f"  {name:6s} available: {detail}")
        else:
            lines.append(f"  {name:6s} unavailable: {reason}")
    lines.append(f"threads: {get_num_threads()} (requested: {_threads.requested or 'default'})")
    return lines
