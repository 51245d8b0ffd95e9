"""The block interpreter of docs/engine.md, and its compiled entry points (one per family, one for mixes).

``drive`` walks the output elements ``[lo, hi)`` (C order) in blocks: it loads the steps of the block into
register 0 as float64 (or computes the implicit ``start + i`` of ``curve``), gathers the array operands,
runs the instructions and stores the result register (rounded once to float32 for a float32 output).
The family block loop it calls is a function argument, so ``drive`` is written once and compiled (inlined)
into each entry point for its family alone.

The entry points are plain ``@njit(cache=True)`` functions: one per family, for the programs of that family
alone, and ``run_mix`` with every family and the combinators, for composites. The first use of a family
compiles that family's kernel only, once per machine; later processes load it from numba's cache. Every
entry point has one signature for every kind of call (int64 or float64 steps, or none for a curve, each
passed with an empty array for the other kind; a float32 or float64 output likewise), so that one
compilation serves arrays, curves, float32 output and the scalar entry point.

numba's cache checks the source file of the function it caches only: after editing ``families.py`` or
``math.py`` in a source checkout, touch this file (or clear ``__pycache__``) so that the kernels are
compiled again.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .._families import FAMILIES
from . import families as F
from .math import DRIVER, KERNEL

#: elements per block: the registers are rows of this many float64 (4 KiB each), in L1
BLOCK = 512

# step kinds
ITOA, I64, F64 = 0, 2, 4


@njit(**DRIVER)
def drive(family, combine, code, opdata, opoff, opstr, const, tables, nreg, res, shape, s64, f64, skind, sbase, sstr,
          start, o32, o64, lo, hi, work):
    """Output elements ``[lo, hi)`` of the program ``code`` (see the module docstring): ``family`` is the
    block loop of the program's families, the combinators come after it. ``const[k]``: operand ``k`` is
    a scalar for the call. The steps are in ``s64`` or ``f64`` as ``skind`` says (none for a curve; int32
    and float32 steps arrive as float64), the output in ``o32`` or ``o64`` (the other is empty). ``work``:
    ``(nreg + nops + 5, width)`` float64, the registers, the operands and the scratch rows of one thread.
    Every element is computed by the same operations whatever ``lo`` and ``hi``: the result is
    bit-identical for any split of the output between threads."""
    ndim = shape.size
    last = ndim - 1
    nops = opoff.size
    ninstr = code.shape[0]
    regs = work[:nreg]
    ops = work[nreg:nreg + nops]
    scratch = work[nreg + nops:]
    width = work.shape[1]
    for k in range(nops):  # a scalar operand fills its row once per call
        if const[k]:
            v = opdata[opoff[k]]
            row = ops[k]
            for j in range(width):
                row[j] = v
    treg = regs[0]
    out32 = o32.size > 0
    for b0 in range(lo, hi, width):
        n = hi - b0
        if width < n:
            n = width
        pos = 0
        while pos < n:  # the row segments of the block (one for a 1-D output)
            rem = b0 + pos
            soff = sbase
            inner = 0
            for dd in range(last, -1, -1):
                i_d = rem % shape[dd]
                rem //= shape[dd]
                soff += i_d * sstr[dd]
                if dd == last:
                    inner = i_d
            m = shape[last] - inner
            if n - pos < m:
                m = n - pos
            s = sstr[last]
            # stores through a view of the block's segment, indexed from 0 (LLVM drops numba's
            # negative-index wraparound there and vectorizes)
            tv = treg[pos:pos + m]
            if skind == ITOA:  # start + (k0 + j * stride): integers below 2**53, exact as in the C++ core
                k0 = float(soff)
                fs = float(s)
                for j in range(m):
                    tv[j] = start + (k0 + float(j) * fs)
            elif skind == I64:
                for j in range(m):
                    tv[j] = float(s64[soff + j * s])
            else:
                for j in range(m):
                    tv[j] = f64[soff + j * s]
            for k in range(nops):
                if not const[k]:
                    rem = b0 + pos
                    off = opoff[k]
                    for dd in range(last, -1, -1):
                        off += (rem % shape[dd]) * opstr[k, dd]
                        rem //= shape[dd]
                    os_ = opstr[k, last]
                    ov = ops[k, pos:pos + m]
                    for j in range(m):
                        ov[j] = opdata[off + j * os_]
            pos += m
        for pc in range(ninstr):
            row = code[pc]
            if not family(row, regs, ops, const, tables, scratch, n):
                combine(row, regs, ops, const, tables, scratch, n)
        r = regs[res]
        if out32:
            o = o32[b0:b0 + n]
            for j in range(n):
                o[j] = np.float32(r[j])
        else:
            o = o64[b0:b0 + n]
            for j in range(n):
                o[j] = r[j]


# --------------------------------------------------------------------------------------------------
# the entry points: one per family (with the combinators), and one with every family


@njit(**KERNEL)
def run_constant(code, opdata, opoff, opstr, const, tables, nreg, res, shape,
                 s64, f64, skind, sbase, sstr, start, o32, o64, lo, hi, work):
    drive(F.constant, F.no_combinators, code, opdata, opoff, opstr, const, tables, nreg, res, shape,
          s64, f64, skind, sbase, sstr, start, o32, o64, lo, hi, work)


@njit(**KERNEL)
def run_linear(code, opdata, opoff, opstr, const, tables, nreg, res, shape,
               s64, f64, skind, sbase, sstr, start, o32, o64, lo, hi, work):
    drive(F.linear, F.no_combinators, code, opdata, opoff, opstr, const, tables, nreg, res, shape,
          s64, f64, skind, sbase, sstr, start, o32, o64, lo, hi, work)


@njit(**KERNEL)
def run_step_decay(code, opdata, opoff, opstr, const, tables, nreg, res, shape,
                   s64, f64, skind, sbase, sstr, start, o32, o64, lo, hi, work):
    drive(F.step_decay, F.no_combinators, code, opdata, opoff, opstr, const, tables, nreg, res, shape,
          s64, f64, skind, sbase, sstr, start, o32, o64, lo, hi, work)


@njit(**KERNEL)
def run_multi_step(code, opdata, opoff, opstr, const, tables, nreg, res, shape,
                   s64, f64, skind, sbase, sstr, start, o32, o64, lo, hi, work):
    drive(F.multi_step, F.no_combinators, code, opdata, opoff, opstr, const, tables, nreg, res, shape,
          s64, f64, skind, sbase, sstr, start, o32, o64, lo, hi, work)


@njit(**KERNEL)
def run_exponential(code, opdata, opoff, opstr, const, tables, nreg, res, shape,
                    s64, f64, skind, sbase, sstr, start, o32, o64, lo, hi, work):
    drive(F.exponential, F.no_combinators, code, opdata, opoff, opstr, const, tables, nreg, res, shape,
          s64, f64, skind, sbase, sstr, start, o32, o64, lo, hi, work)


@njit(**KERNEL)
def run_inverse_time(code, opdata, opoff, opstr, const, tables, nreg, res, shape,
                     s64, f64, skind, sbase, sstr, start, o32, o64, lo, hi, work):
    drive(F.inverse_time, F.no_combinators, code, opdata, opoff, opstr, const, tables, nreg, res, shape,
          s64, f64, skind, sbase, sstr, start, o32, o64, lo, hi, work)


@njit(**KERNEL)
def run_polynomial(code, opdata, opoff, opstr, const, tables, nreg, res, shape,
                   s64, f64, skind, sbase, sstr, start, o32, o64, lo, hi, work):
    drive(F.polynomial, F.no_combinators, code, opdata, opoff, opstr, const, tables, nreg, res, shape,
          s64, f64, skind, sbase, sstr, start, o32, o64, lo, hi, work)


@njit(**KERNEL)
def run_cosine(code, opdata, opoff, opstr, const, tables, nreg, res, shape,
               s64, f64, skind, sbase, sstr, start, o32, o64, lo, hi, work):
    drive(F.cosine, F.no_combinators, code, opdata, opoff, opstr, const, tables, nreg, res, shape,
          s64, f64, skind, sbase, sstr, start, o32, o64, lo, hi, work)


@njit(**KERNEL)
def run_cosine_restarts(code, opdata, opoff, opstr, const, tables, nreg, res, shape,
                        s64, f64, skind, sbase, sstr, start, o32, o64, lo, hi, work):
    drive(F.cosine_restarts, F.no_combinators, code, opdata, opoff, opstr, const, tables, nreg, res, shape,
          s64, f64, skind, sbase, sstr, start, o32, o64, lo, hi, work)


@njit(**KERNEL)
def run_warmup_cosine(code, opdata, opoff, opstr, const, tables, nreg, res, shape,
                      s64, f64, skind, sbase, sstr, start, o32, o64, lo, hi, work):
    drive(F.warmup_cosine, F.no_combinators, code, opdata, opoff, opstr, const, tables, nreg, res, shape,
          s64, f64, skind, sbase, sstr, start, o32, o64, lo, hi, work)


@njit(**KERNEL)
def run_warmup_stable_decay(code, opdata, opoff, opstr, const, tables, nreg, res, shape,
                            s64, f64, skind, sbase, sstr, start, o32, o64, lo, hi, work):
    drive(F.warmup_stable_decay, F.no_combinators, code, opdata, opoff, opstr, const, tables, nreg, res, shape,
          s64, f64, skind, sbase, sstr, start, o32, o64, lo, hi, work)


@njit(**KERNEL)
def run_one_cycle(code, opdata, opoff, opstr, const, tables, nreg, res, shape,
                  s64, f64, skind, sbase, sstr, start, o32, o64, lo, hi, work):
    drive(F.one_cycle, F.no_combinators, code, opdata, opoff, opstr, const, tables, nreg, res, shape,
          s64, f64, skind, sbase, sstr, start, o32, o64, lo, hi, work)


@njit(**KERNEL)
def run_cyclic(code, opdata, opoff, opstr, const, tables, nreg, res, shape,
               s64, f64, skind, sbase, sstr, start, o32, o64, lo, hi, work):
    drive(F.cyclic, F.no_combinators, code, opdata, opoff, opstr, const, tables, nreg, res, shape,
          s64, f64, skind, sbase, sstr, start, o32, o64, lo, hi, work)


@njit(**KERNEL)
def run_inverse_sqrt(code, opdata, opoff, opstr, const, tables, nreg, res, shape,
                     s64, f64, skind, sbase, sstr, start, o32, o64, lo, hi, work):
    drive(F.inverse_sqrt, F.no_combinators, code, opdata, opoff, opstr, const, tables, nreg, res, shape,
          s64, f64, skind, sbase, sstr, start, o32, o64, lo, hi, work)


@njit(**KERNEL)
def run_tanh(code, opdata, opoff, opstr, const, tables, nreg, res, shape,
             s64, f64, skind, sbase, sstr, start, o32, o64, lo, hi, work):
    drive(F.tanh, F.no_combinators, code, opdata, opoff, opstr, const, tables, nreg, res, shape,
          s64, f64, skind, sbase, sstr, start, o32, o64, lo, hi, work)


@njit(**KERNEL)
def run_piecewise_constant(code, opdata, opoff, opstr, const, tables, nreg, res, shape,
                           s64, f64, skind, sbase, sstr, start, o32, o64, lo, hi, work):
    drive(F.piecewise_constant, F.no_combinators, code, opdata, opoff, opstr, const, tables, nreg, res, shape,
          s64, f64, skind, sbase, sstr, start, o32, o64, lo, hi, work)


@njit(**KERNEL)
def run_piecewise_linear(code, opdata, opoff, opstr, const, tables, nreg, res, shape,
                         s64, f64, skind, sbase, sstr, start, o32, o64, lo, hi, work):
    drive(F.piecewise_linear, F.no_combinators, code, opdata, opoff, opstr, const, tables, nreg, res, shape,
          s64, f64, skind, sbase, sstr, start, o32, o64, lo, hi, work)


@njit(**KERNEL)
def run_mix(code, opdata, opoff, opstr, const, tables, nreg, res, shape,
            s64, f64, skind, sbase, sstr, start, o32, o64, lo, hi, work):
    drive(F.mix, F.combinators, code, opdata, opoff, opstr, const, tables, nreg, res, shape,
          s64, f64, skind, sbase, sstr, start, o32, o64, lo, hi, work)


#: the entry point of each family, by its name in the family table
_ENTRY_POINTS = {
    "Constant": run_constant,
    "Linear": run_linear,
    "StepDecay": run_step_decay,
    "MultiStep": run_multi_step,
    "Exponential": run_exponential,
    "InverseTime": run_inverse_time,
    "Polynomial": run_polynomial,
    "Cosine": run_cosine,
    "CosineRestarts": run_cosine_restarts,
    "WarmupCosine": run_warmup_cosine,
    "WarmupStableDecay": run_warmup_stable_decay,
    "OneCycle": run_one_cycle,
    "Cyclic": run_cyclic,
    "InverseSqrt": run_inverse_sqrt,
    "Tanh": run_tanh,
    "PiecewiseConstant": run_piecewise_constant,
    "PiecewiseLinear": run_piecewise_linear,
}
#: opcode -> (family name, entry point)
KERNELS = {spec.opcode: (spec.name, _ENTRY_POINTS[spec.name]) for spec in FAMILIES}
MIX = ("mix", run_mix)
