"""Argument handling of ``Schedule.__call__`` and ``Schedule.curve``: convert, validate, dispatch.

Everything is checked here, before any backend writes: a call that fails leaves ``out`` untouched.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from . import _array_api, _backends
from ._validation import describe

_NATIVE_STEP_TYPES = (np.dtype(np.int32), np.dtype(np.int64), np.dtype(np.float32), np.dtype(np.float64))
_OUT_TYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _bad_step(index, value) -> ValueError:
    where = f"t{[int(i) for i in index]}" if index else "t"
    return ValueError(f"steps must be finite and >= 0, got {where}={describe(value)}")


_float64 = np.float64
_scalar_function = _backends.scalar_function


def scalar_call(schedule, t):
    """The shortest route: a Python int or float, scalar parameters, no ``out``."""
    if not (t >= 0 and t < math.inf):
        raise _bad_step((), t)
    if t >= schedule.overflow_step():
        schedule._refuse_overflow(float(t))
    try:
        value = float(t)
    except OverflowError:
        raise ValueError(f"steps must be finite and >= 0, got t={describe(t)} (too large for float64)") \
            from None
    return _float64(_scalar_function(schedule)(value))


def as_array(value, name: str) -> np.ndarray:
    """A zero-copy numpy view of an array-like (numpy, memoryview, CPU tensor via DLPack/__array__)."""
    if isinstance(value, np.ndarray):
        return value
    for flag in ("is_neg", "is_conj"):  # torch's lazy views export their raw storage through DLPack
        lazy = getattr(value, flag, None)
        if callable(lazy) and lazy():
            raise TypeError(f"{name} is a lazily negated/conjugated tensor view; call .resolve_neg() / "
                            f".resolve_conj() first")
    if hasattr(value, "__dlpack__") and hasattr(value, "__dlpack_device__"):
        try:
            device = value.__dlpack_device__()
        except (ValueError, TypeError, BufferError, RuntimeError) as error:
            raise ValueError(f"{name} must be a CPU array, got {type(value).__name__} ({error})") from None
        if int(device[0]) != 1:  # kDLCPU
            raise ValueError(f"{name} must be on the CPU, got a tensor on device {describe(device)}; "
                             f"copy it to the host first (or precompute a curve table and move it "
                             f"to the device once)")
        try:
            return np.from_dlpack(value)
        except (TypeError, BufferError, RuntimeError) as error:
            if not hasattr(value, "__array__"):
                raise TypeError(f"{name}: cannot view {type(value).__name__} as an array ({error})") from None
    try:
        # an out whose __array__ can only give a copy is refused below rather than written into a
        # temporary that the caller never sees
        if name == "t":
            return np.asarray(value)
        array = np.asarray(value)
        if array.base is None and not isinstance(value, np.ndarray):
            # __array__ handed back a fresh array: writing into it would not reach the caller
            raise TypeError(f"out: {type(value).__name__} cannot be viewed without a copy; pass a numpy "
                            f"array, a memoryview or a CPU tensor")
        return array
    except Exception as error:
        raise TypeError(f"{name} must be an array of numbers, got {type(value).__name__} ({error})") from None


def _steps_array(t) -> np.ndarray:
    if type(t) is np.ndarray:  # the common case skips the (slow) ABC checks below
        steps = t
    else:
        if isinstance(t, (bool, np.bool_, str, bytes)) or t is None:
            raise TypeError(f"steps must be numbers or an array of numbers, got {describe(t)} "
                            f"({type(t).__name__})")
        if isinstance(t, numbers.Number) and not isinstance(t, numbers.Real):
            raise TypeError(f"steps must be real numbers, got {describe(t)} ({type(t).__name__})")
        steps = as_array(t, "t")
    kind = steps.dtype.kind
    if kind not in "iuf":
        raise TypeError(f"steps must be integers or real numbers, got an array of dtype {steps.dtype}")
    if steps.dtype not in _NATIVE_STEP_TYPES:
        if kind == "u" and steps.size and steps.max() > np.iinfo(np.int64).max:
            steps = steps.astype(np.float64)
        else:
            steps = steps.astype(np.int64 if kind in "iu" else np.float64)
    elif any(s % steps.itemsize for s in steps.strides):
        steps = np.ascontiguousarray(steps)
    _check_steps(steps)
    return steps


def _check_steps(steps: np.ndarray) -> None:
    if steps.size == 0:
        return
    low = steps.min()
    if steps.dtype.kind == "i":
        ok = low >= 0
    else:
        ok = low >= 0 and steps.max() < np.inf  # a NaN makes min() NaN, so the first test fails
    if not ok:
        bad = ~((steps >= 0) & np.isfinite(steps)) if steps.dtype.kind == "f" else steps < 0
        index = np.unravel_index(int(np.argmax(bad)), steps.shape)
        raise _bad_step(index if steps.ndim else (), steps[index])


def _result_dtype(out, dtype) -> np.dtype:
    if dtype is not None:
        try:
            requested = np.dtype(dtype)
        except TypeError:
            raise TypeError(f"dtype must be float32 or float64, got {describe(dtype)}") from None
        if requested not in _OUT_TYPES:
            raise TypeError(f"dtype must be float32 or float64, got {requested}")
        if out is not None and requested != out.dtype:
            raise TypeError(f"dtype={requested} does not match out.dtype={out.dtype}")
        return requested
    return out.dtype if out is not None else np.dtype(np.float64)


def _check_out(out, shape, steps) -> np.ndarray:
    if isinstance(out, (list, tuple)) or not (isinstance(out, (np.ndarray, memoryview))
                                              or hasattr(out, "__dlpack__")
                                              or hasattr(out, "__array_interface__")):
        raise TypeError(f"out must be an array (a numpy array or a CPU tensor), got {type(out).__name__}")
    array = as_array(out, "out")
    if array.dtype not in _OUT_TYPES:
        raise TypeError(f"out must have dtype float32 or float64, got {array.dtype}")
    if array.shape != tuple(shape):
        raise ValueError(f"out has shape {array.shape}, but the result has shape {tuple(shape)}")
    if not array.flags.writeable:
        raise ValueError("out is read-only")
    if not array.flags.c_contiguous:
        raise ValueError("out must be C-contiguous")
    if steps is not None and np.may_share_memory(array, steps) and np.shares_memory(array, steps):
        raise ValueError("out overlaps the steps t; pass a separate buffer")
    return array


def _result_shape(schedule, steps_shape) -> tuple[int, ...]:
    if not schedule.param_shape or schedule.param_shape == steps_shape:  # skips broadcast_shapes (slow)
        return steps_shape
    try:
        return np.broadcast_shapes(steps_shape, schedule.param_shape)
    except ValueError:
        raise ValueError(f"steps with shape {steps_shape} do not broadcast with the parameters of "
                         f"{type(schedule).__name__} (shape {schedule.param_shape})") from None


def array_call(schedule, t, out, dtype):
    if type(t) is not np.ndarray and _array_api.is_foreign(t):
        if type(t).__module__.partition(".")[0] == "dask":
            from . import _dask_graph

            return _dask_graph.evaluate(schedule, t, out, _result_dtype(None, dtype), _evaluate_dask_chunk)
        return _array_api.route(schedule, t, out, dtype, _numpy_array_call)
    return _numpy_array_call(schedule, t, out, dtype)


def _evaluate_dask_chunk(steps, *operand_slices, layout, code, tables, n_registers, result_register, out_dtype):
    """One dask task: the chunk's own program (its parameter slices) through the numpy route."""
    from . import _dask_graph

    chunk = _dask_graph.chunk_schedule(operand_slices, layout, code, tables, n_registers, result_register)
    result = _numpy_array_call(chunk, steps, None, out_dtype)
    return np.asarray(result).reshape(np.broadcast_shapes(steps.shape, chunk.param_shape))


def _numpy_array_call(schedule, t, out, dtype):
    steps = _steps_array(t)
    if steps.size and schedule.overflow_step() < math.inf:
        schedule._refuse_overflow(float(steps.max()))
    shape = _result_shape(schedule, steps.shape)
    result_dtype = _result_dtype(out, dtype) if out is None else None
    if out is not None:
        target = _check_out(out, shape, steps)
        _result_dtype(target, dtype)
    else:
        target = np.empty(shape, dtype=result_dtype)
    if target.size:
        _backends.active().evaluate(schedule, steps, 0.0, target)
    if out is not None:
        return out
    return target[()] if target.ndim == 0 else target


def curve_call(schedule, n, start, out, dtype):
    # exact type tests first: the ABC isinstance checks cost microseconds on every small call
    if type(n) is not int and (isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer))):
        raise TypeError(f"curve: n must be an integer, got {describe(n)} ({type(n).__name__})")
    if n < 0:
        raise ValueError(f"curve: n must be >= 0, got n={n}")
    if type(start) is not int and type(start) is not float and (
            isinstance(start, (bool, np.bool_)) or not isinstance(start, numbers.Real)):
        raise TypeError(f"curve: start must be a real number, got {describe(start)} "
                        f"({type(start).__name__})")
    try:
        finite = start >= 0 and float(start) + n < math.inf
    except OverflowError:
        finite = False
    if not finite:
        raise ValueError(f"curve: start must be finite and >= 0, got start={describe(start)}")
    if n and schedule.overflow_step() < math.inf:
        schedule._refuse_overflow(float(start) + (n - 1))
    shape = (int(n),) + schedule.param_shape
    if out is not None:
        target = _check_out(out, shape, None)
        _result_dtype(target, dtype)
    else:
        target = np.empty(shape, dtype=_result_dtype(None, dtype))
    if target.size:
        _backends.active().evaluate(schedule, None, float(start), target)
    return out if out is not None else target
