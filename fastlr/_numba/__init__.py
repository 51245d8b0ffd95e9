"""The numba backend: the program interpreter of ``docs/engine.md`` as plain ``@njit`` functions.

* ``math``: the elementary functions, a port of the C++ core's (the same operations, the same bits);
* ``families``: one block loop per family and one for the combinators, as the C++ core's families;
* ``interpreter``: the block walk and its entry points, one compiled kernel per family (plus one for
  composites of several families), each compiled on its first use and cached by numba on disk;
* ``plateau``: ReduceLROnPlateau over metric histories, the C++ core's scan;
* this module: the Python side. It converts a program once (read-only canonical arrays, the logarithms
  that the powers of Exponential and Cyclic need), canonicalises the arguments of a call (so that every
  call of a family reuses its one compiled kernel), and splits large calls into chunks of whole blocks
  run by a small thread pool on the nogil kernel: every element is computed by the same code whatever
  the split, so the result is bit-identical for any thread count.
"""

from __future__ import annotations

import concurrent.futures
import os
import threading
import time
import warnings

import numba
import numpy as np

from . import interpreter
from .families import LOG_HI_FIELD, LOG_LO_FIELD
from .interpreter import BLOCK, F64, I64, ITOA, KERNELS, MIX
from .plateau import plateau_runs

__all__ = ["evaluate", "scalar", "plateau", "set_num_threads", "get_num_threads", "compile_report", "prepare_steps"]

#: below this many elements a call runs on the calling thread (waking a sleeping worker thread costs
#: more than it saves)
PARALLEL_THRESHOLD = 1 << 19
#: scratch rows of a block after the registers and operands (a family's derived parameters, the cycle
#: bounds of CosineRestarts)
SCRATCH_ROWS = 5

_KIND = {np.dtype(np.int32): I64, np.dtype(np.int64): I64, np.dtype(np.float32): F64,
         np.dtype(np.float64): F64}


def _ro(a: np.ndarray) -> np.ndarray:
    """A read-only view: numba compiles once per mutability of an argument, so every read-only input is
    passed read-only."""
    if a.flags.writeable:
        a = a.view()
        a.flags.writeable = False
    return a


_EMPTY = {dt: _ro(np.zeros(0, dtype=dt)) for dt in (np.int64, np.float64)}
_NO_OUT32 = np.zeros(0, dtype=np.float32)
_NO_OUT64 = np.zeros(0, dtype=np.float64)


def _step_arrays(kind, flat):
    """The kernels' ``s64, f64``: the steps in the one of their kind, the other empty (a curve has none)."""
    return (flat if kind == I64 else _EMPTY[np.int64], flat if kind == F64 else _EMPTY[np.float64])


def _log_pair(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``log(values)`` to the precision of the platform's long double, as ``hi + lo`` (the C++ core's
    ``log_pair``, with the same long double logarithm)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        full = np.log(values.astype(np.longdouble))
        hi = full.astype(np.float64)
        lo = (full - hi.astype(np.longdouble)).astype(np.float64)
    return hi, lo


class _Prepared:
    """What a program needs on every call, converted once."""

    __slots__ = ("code", "opdata", "opoff", "tables", "nreg", "res", "nops", "log_rows", "name", "kernel",
                 "scalar_ok", "scalar_args")

    def __init__(self, program):
        code = np.array(program.code, dtype=np.int64, order="C").reshape(-1, 16)
        opdata = np.ascontiguousarray(program.operand_data, dtype=np.float64)
        opoff = np.ascontiguousarray(program.operand_offset, dtype=np.int64)
        nops = opoff.size
        # Exponential (not staircase) and Cyclic (exp_range) take log(gamma) as two operands of their
        # own, appended after the program's, with gamma's strides (log_rows: the operand they follow)
        log_rows = []
        extra = [opdata]
        extra_off = []
        end = opdata.size
        for row in code:
            gamma = -1
            if row[0] == interpreter.F.EXPONENTIAL and row[5] == 0:
                gamma = int(row[9])
            elif row[0] == interpreter.F.CYCLIC and row[5] == 2:
                gamma = int(row[12])
            if gamma < 0:
                continue
            size = int(np.prod(program.operand_shape[gamma], dtype=np.int64))
            values = opdata[opoff[gamma]:opoff[gamma] + size]
            hi, lo = _log_pair(values)
            row[LOG_HI_FIELD] = nops + len(log_rows)
            row[LOG_LO_FIELD] = nops + len(log_rows) + 1
            log_rows += [gamma, gamma]
            extra += [hi, lo]
            extra_off += [end, end + size]
            end += 2 * size
        self.code = _ro(code)
        self.opdata = _ro(np.concatenate(extra) if log_rows else opdata)
        self.opoff = _ro(np.concatenate([opoff, np.array(extra_off, dtype=np.int64)]) if log_rows else opoff)
        self.log_rows = np.array(log_rows, dtype=np.int64)
        self.tables = _ro(np.ascontiguousarray(program.tables, dtype=np.float64))
        self.nreg = int(program.n_registers)
        self.res = int(program.result_register)
        self.nops = int(self.opoff.size)
        # a program of one family gets that family's kernel; composites (several families, or
        # combinators) the kernel with every family and the combinators
        opcodes = {int(op) for op in code[:, 0]}
        self.name, self.kernel = KERNELS[opcodes.pop()] if len(opcodes) == 1 and opcodes <= KERNELS.keys() else MIX
        self.scalar_ok = not program.has_array_operands
        # the scalar entry point's arguments before the step (given as the start of a one-element curve)
        self.scalar_args = (self.code, self.opdata, self.opoff, _ro(np.zeros((self.nops, 1), dtype=np.int64)),
                            _ro(np.ones(self.nops, dtype=np.bool_)), self.tables, self.nreg, self.res,
                            _ro(np.ones(1, dtype=np.int64))) + _step_arrays(ITOA, None) + (
                            ITOA, 0, _ro(np.ones(1, dtype=np.int64)))

    def operand_strides(self, strides: np.ndarray) -> np.ndarray:
        """The strides of the program's operands and of the appended logarithms."""
        if self.log_rows.size:
            strides = np.concatenate([strides, strides[self.log_rows]])
        return strides

    def work(self, width: int = BLOCK) -> np.ndarray:
        """One thread's registers, operands and scratch rows (``width``: the largest block)."""
        return np.empty((self.nreg + self.nops + SCRATCH_ROWS, width))


def _prepared(program) -> _Prepared:
    # the conversion lives in the program's cache of backend data, and dies with it
    prep = program.backend_data.get("numba")
    if prep is None:
        prep = program.backend_data["numba"] = _Prepared(program)
    return prep


def prepare_steps(steps, step_strides):
    """``(flat, base, strides)`` such that step element ``i`` is ``flat[base + sum_d i_d * strides[d]]``.

    ``steps`` is the caller's array (any strides, possibly negative) and ``step_strides`` its element
    strides broadcast to the output shape (``byte stride // itemsize``, 0 along broadcast dimensions).
    No copy: ``flat`` is a 1-D view of the memory spanned by ``steps``, starting at its lowest address.
    """
    steps = np.asarray(steps)
    if not steps.dtype.isnative or steps.dtype not in _KIND:
        raise TypeError(f"unsupported step dtype {steps.dtype}")
    sstr = _ro(np.ascontiguousarray(step_strides, dtype=np.int64))
    if steps.ndim == 1 and steps.strides[0] == steps.itemsize:  # the common case: no view to build
        return steps, 0, sstr
    itemsize = steps.itemsize
    if any(s % itemsize for s in steps.strides):
        raise ValueError("step strides must be multiples of the item size (copy the steps first)")
    lo = 0
    hi = 0
    for extent, stride in zip(steps.shape, steps.strides):
        if extent == 0:
            lo = hi = 0
            break
        span = (extent - 1) * (stride // itemsize)
        if span < 0:
            lo += span
        else:
            hi += span
    corner = tuple(slice(e - 1, e) if s < 0 else slice(0, 1) for e, s in zip(steps.shape, steps.strides))
    first = steps[corner] if steps.ndim else steps.reshape(1)
    flat = np.lib.stride_tricks.as_strided(first, shape=(hi - lo + 1,), strides=(itemsize,), writeable=False)
    return flat, -lo, sstr


# --------------------------------------------------------------------------------------------------
# threads


_num_threads = None


def _threads() -> int:
    global _num_threads
    if _num_threads is None:
        env = os.environ.get("FASTLR_NUM_THREADS")
        n = numba.config.NUMBA_NUM_THREADS
        if env:
            try:
                n = int(env)
            except ValueError:
                raise ValueError(f"FASTLR_NUM_THREADS must be an integer, got {env!r}") from None
        _num_threads = max(1, min(n, numba.config.NUMBA_NUM_THREADS))
    return _num_threads


def set_num_threads(n: int) -> None:
    """Bound the threads of the numba kernels (at most ``numba.config.NUMBA_NUM_THREADS``)."""
    global _num_threads
    n = int(n)
    if n < 1:
        raise ValueError(f"the number of threads must be >= 1, got {n}")
    _num_threads = min(n, numba.config.NUMBA_NUM_THREADS)


def get_num_threads() -> int:
    return _threads()


_launch_lock = threading.Lock()


def _reinit_locks():
    global _launch_lock, _compile_lock
    _launch_lock = threading.Lock()
    _compile_lock = threading.RLock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reinit_locks)

_pool_state = [None, None, 0]  # (pid, executor, workers)


def _pool(workers: int):
    """The worker threads of this process (threads do not survive fork: a child makes its own)."""
    pid, executor, count = _pool_state
    if executor is None or pid != os.getpid() or count != workers:
        if executor is not None and pid == os.getpid():
            executor.shutdown(wait=False)
        executor = concurrent.futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fastlr-numba")
        _pool_state[:] = [os.getpid(), executor, workers]
    return executor


# --------------------------------------------------------------------------------------------------
# first calls: compiled or loaded from numba's cache, timed for the report

_compile_lock = threading.RLock()
_report: dict = {}
_ready: set = set()  # names of the kernels called once in this process


def _call(prep: _Prepared, *args) -> None:
    if prep.name in _ready:
        prep.kernel(*args)
        return
    with _compile_lock:
        if prep.name in _ready:
            prep.kernel(*args)
            return
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            # numba flags a function passed as an argument (the block loop handed to drive) as experimental
            warnings.filterwarnings("ignore", message="First-class function type feature is experimental")
            prep.kernel(*args)
        seconds = time.perf_counter() - t0
        stats = prep.kernel.stats
        from_cache = bool(sum(stats.cache_hits.values())) and not sum(stats.cache_misses.values())
        kernel_name = prep.kernel.py_func.__name__
        _report[prep.name] = {
            "first_call_seconds": seconds,
            "from_cache": from_cache,
            "kernels": {kernel_name: {"first_call_seconds": seconds, "from_cache": from_cache}},
        }
        _ready.add(prep.name)


def compile_report() -> dict:
    """The first call of each kernel used in this process: ``families`` maps a family name (or ``"mix"``,
    the kernel of composites of several families) to its ``first_call_seconds`` (compiling or loading,
    and running) and ``from_cache`` (numba's on-disk cache served it); ``cache_dir``: numba's cache
    directory of the kernels."""
    with _compile_lock:
        families = {name: dict(entry, kernels={k: dict(v) for k, v in entry["kernels"].items()})
                    for name, entry in _report.items()}
    cache_dir = None
    for name in families:
        kernel = MIX[1] if name == MIX[0] else next(k for n, k in KERNELS.values() if n == name)
        cache = getattr(kernel, "_cache", None)
        cache_dir = getattr(cache, "cache_path", None) or cache_dir
    return {"families": families, "cache_dir": cache_dir}


# --------------------------------------------------------------------------------------------------
# evaluation


def evaluate(program, steps, step_strides, start, out, shape, operand_strides) -> None:
    """Run ``program`` on the steps (or ``start + sum_d i_d * step_strides[d]`` if ``steps is None``) into
    the C-contiguous ``out`` (float64 or float32) of the (coalesced) ``shape``."""
    prep = _prepared(program)
    shape_a = _ro(np.array(shape, dtype=np.int64).reshape(-1))
    total = 1
    for extent in shape_a.tolist():
        total *= extent
    if total == 0:
        return
    if steps is None:
        kind = ITOA
        sbase = 0
        sstr = _ro(np.ascontiguousarray(step_strides, dtype=np.int64))
        flat = None
    else:
        flat, sbase, sstr = prepare_steps(steps, step_strides)
        kind = _KIND[flat.dtype]
        if flat.dtype == np.int32 or flat.dtype == np.float32:
            # the kernels read int64 and float64 steps (one loader less to compile); the rarer int32 and
            # float32 steps are widened first, exactly
            flat = flat.astype(np.int64 if kind == I64 else np.float64)
        flat = _ro(flat if flat.flags.aligned else flat.copy())
    flat_out = out.reshape(-1)
    outs = (flat_out, _NO_OUT64) if flat_out.dtype == np.float32 else (_NO_OUT32, flat_out)
    opstr = np.ascontiguousarray(np.asarray(operand_strides, dtype=np.int64).reshape(-1, shape_a.size))
    opstr = _ro(np.ascontiguousarray(prep.operand_strides(opstr)))
    const = _ro(~opstr.any(axis=1))
    args = (prep.code, prep.opdata, prep.opoff, opstr, const, prep.tables, prep.nreg, prep.res, shape_a,
            *_step_arrays(kind, flat), kind, int(sbase), sstr, float(start), *outs)
    nthreads = _threads()
    if total < PARALLEL_THRESHOLD or nthreads == 1:
        _call(prep, *args, 0, total, prep.work())
        return
    # a few chunks per thread, each a whole number of blocks
    chunk = max(BLOCK, -(-total // (4 * nthreads * BLOCK)) * BLOCK)
    if prep.name not in _ready:
        _call(prep, *args, 0, min(chunk, total), prep.work())  # compile (or load) before fanning out
    kernel = prep.kernel
    _run_chunks(lambda lo, hi, work: kernel(*args, lo, hi, work), prep.work, total, chunk, nthreads)


def _run_chunks(run, make_work, total, chunk, nthreads) -> None:
    """``run(lo, hi, work)`` over ``[0, total)`` in chunks, on the calling thread and ``nthreads - 1``
    workers, each with its own ``make_work()``."""
    bounds = [(lo, min(lo + chunk, total)) for lo in range(0, total, chunk)]
    taken = [0]
    take_lock = threading.Lock()

    def drain():
        # the caller and the workers take chunks from one counter: a worker that wakes late finds the
        # work done, so a call is never much slower than on the calling thread alone
        work = make_work()
        while True:
            with take_lock:
                index = taken[0]
                taken[0] += 1
            if index >= len(bounds):
                return
            run(*bounds[index], work)

    with _launch_lock:  # one parallel launch at a time: at most nthreads threads busy
        futures = [_pool(nthreads - 1).submit(drain) for _ in range(nthreads - 1)]
        try:
            drain()
        finally:
            for future in futures:
                future.result()


def plateau(metrics, lr, min_lr, out, *, maximize, relative, factor, threshold, patience, cooldown, eps) -> None:
    """ReduceLROnPlateau over the ``(runs, epochs)`` float64 ``metrics`` (one ``lr`` and ``min_lr`` per run)
    into ``out``: see ``plateau.plateau_runs``. Large batches split their runs between threads (each run
    is computed by the same code whatever the split)."""
    metrics = _ro(np.ascontiguousarray(metrics, dtype=np.float64))
    lr = _ro(np.ascontiguousarray(lr, dtype=np.float64))
    min_lr = _ro(np.ascontiguousarray(min_lr, dtype=np.float64))
    runs, epochs = metrics.shape
    rule = (bool(maximize), bool(relative), float(factor), float(threshold), int(patience), int(cooldown),
            float(eps))
    nthreads = _threads()
    if runs * epochs < PARALLEL_THRESHOLD or nthreads == 1 or runs < 2:
        plateau_runs(metrics, lr, min_lr, out, 0, runs, *rule)
        return
    plateau_runs(metrics, lr, min_lr, out, 0, 1, *rule)  # compile (or load) before fanning out
    chunk = max(1, -(-runs // (4 * nthreads)))
    _run_chunks(lambda lo, hi, work: plateau_runs(metrics, lr, min_lr, out, lo, hi, *rule), lambda: None, runs,
                chunk, nthreads)


_F64_OUT = np.dtype(np.float64)


def scalar(program, t: float) -> float:
    """The value at one step: the array kernel on one element (the same operations, the same bits)."""
    prep = _prepared(program)
    if not prep.scalar_ok:
        out = np.empty(1)
        evaluate(program, np.array([float(t)]), np.zeros(1, dtype=np.int64), 0.0, out, (1,),
                 np.zeros((program.operand_offset.size, 1), dtype=np.int64))
        return float(out[0])
    out = np.empty(1)
    _call(prep, *prep.scalar_args, float(t), _NO_OUT32, out, 0, 1, prep.work(1))
    return float(out[0])
