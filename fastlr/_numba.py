"""The numba backend: the program interpreter of ``docs/engine.md`` compiled with numba.

A kernel walks the output in C order in blocks of ``BLOCK`` elements: it loads the steps of the block
into register 0 as float64 (or computes them for the implicit ``start + i`` of ``curve``), gathers every
array operand of the block (a scalar operand is written into its buffer once per call), runs the
instructions, and stores the result register (rounded once to float32 if ``out`` is float32). Large calls
split the output into chunks of whole blocks and run the (nogil) serial kernel on them from a small
thread pool; every element is computed by the same code whatever the split, so the result is
bit-identical for any thread count. (numba's ``prange`` driver cost 10-20 s of compile time per opcode
set and ties the process to numba's threading layer, which is not fork-safe.)

Compile time. numba compiles each ``@njit`` function into its own LLVM module, links in its callees'
modules and optimizes the whole again, so a deep call chain re-optimizes everything below it at every
level. The kernels are therefore generated as flat functions, one per (opcode set, step kind, way of
storing the result) and one scalar entry point per opcode set (see ``_kernel_source``): the block loop,
the loader of the one step kind actually passed and the instruction dispatch are inline, and they call
the family block loops (``_f_*``). A single-family program without combinators gets a kernel with that
family only; one with combinators adds them; composites of several families share one kernel with
everything. Each kernel compiles on its first call only (nothing at import) and is cached on disk
(``cache=True``): a second process loads it in milliseconds.

The family block loops are compiled from their source with the math helpers inlined (``_flatten``,
``_block_loop``): numba's pipeline has a fixed cost per function (and its ``inline="always"`` re-runs its
front end per call site), which outweighed the small helpers' own code. The helpers (``@_inline``) are
plain Python; each block loop (``@_block``) is written, helpers expanded, to a module in the cache
directory like the kernels, once per machine. The kernels whose operands are all scalars (and the
scalar entry point) get block loops with ``_uniform`` and ``_scalar_operands`` folded to true, without
the code for an operand varying within a block.

Every kernel is ``@njit(cache=True, nogil=True, error_model="numpy")``, without fastmath (IEEE division
by zero, no reassociation, no fused multiply-add), so results do not depend on the vector width. The
transcendental functions are the C++ core's (``csrc/include/fastlr/math.hpp``), written branch-free
(``_select``, an LLVM select, where numba would compile a conditional expression to branches) without
libm so that LLVM vectorizes the loops they are inlined into: ``cospi`` with exact argument reduction
(``cospi(0) == 1``, ``cospi(1) == -1``), ``exp`` (Cody-Waite reduction, Taylor polynomial, ``2**k`` built
from exponent bits), ``log`` (fdlibm), ``g ** e = exp(e log g)`` for decay factors and the polynomial's
base (powers 0, 1, 2 exact) and ``tanh`` from ``exp``; the float <-> int64 bit casts they need are a
numba intrinsic (LLVM ``bitcast``). The cycle search of the restarts keeps libm's ``log``/``pow``, cached
across a cycle, and multi-step keeps libm's ``pow``, cached while the milestone count is unchanged (both
bit-identical to the reference there).

Argument types are canonicalised before the call (the steps are a read-only, aligned, contiguous 1-D
array of their own dtype, the kernel being generated per step kind anyway; the output is a flat float64
or float32 array, the kernel being generated per way of storing the result too; shapes and strides are
read-only int64 arrays), so each kernel compiles once per process and once per machine with the on-disk
cache.

What the compile time goes to is mostly numba's own pipeline (typing, lowering, linking and optimizing
each function's module), per function, per statement and per overload it instantiates. Hence, besides
the inlined helpers: 1-D outputs (``curve``, ``s(steps_1d)``) get a flat kernel without the multi-index
walk and the ``_iota``/``_gather`` calls; a kernel has the one store loop its output needs (none when the
last instruction writes a float64 output directly, the common case: every vectorized loop is code to
optimize and emit); the ``serial`` kernels do not allocate their registers and operand buffers
(``work`` comes from the caller, one per thread; numba's ``np.empty`` is two overloads to compile) and
the scalar entry point keeps them on the stack (``_stack_matrix``; an array argument would cost its
calls about 1 us in numba's dispatcher); the functions that allocate nothing are compiled without
reference counting (``_NO_NRT``: no increment and decrement per array view); ``min``/``max`` of two
numbers are intrinsics (``_min``, ``_max``, the builtins' exact selects) rather than the builtins, which
are overloads compiled per argument type pair; the scalar entry point passes the families the same
argument types as ``serial`` (a literal block length would compile every family a second time).
"""

from __future__ import annotations

import ast
import builtins
import concurrent.futures
import copy
import functools
import hashlib
import importlib.util
import inspect
import itertools
import math
import os
import sys
import tempfile
import textwrap
import threading
import time

import numba
import numpy as np
from llvmlite import ir as llvm_ir
from numba import njit, types
from numba.extending import intrinsic
from numba.np.arrayobj import make_array, populate_array

from ._program import (
    CONSTANT,
    COSINE,
    COSINE_RESTARTS,
    CYCLIC,
    EXPONENTIAL,
    INVERSE_SQRT,
    INVERSE_TIME,
    LINEAR,
    MUL,
    MULTI_STEP,
    ONE_CYCLE,
    PIECEWISE_CONSTANT,
    PIECEWISE_LINEAR,
    POLYNOMIAL,
    RAMP,
    SCALE,
    SELECT,
    SHIFT,
    STEP_DECAY,
    TANH,
    WARMUP_COSINE,
    WARMUP_STABLE_DECAY,
    ZERO,
)

__all__ = ["evaluate", "scalar", "set_num_threads", "get_num_threads", "compile_report", "prepare_steps"]

BLOCK = 512
#: below this many elements a call runs serially (no thread launch). Waking a sleeping Python worker
#: thread costs hundreds of microseconds here (measured: a cold 100k-element call after 50 ms idle
#: took 1.1-1.3 ms on two threads against 0.97 ms on one; from ~500k on two threads win cold or warm)
PARALLEL_THRESHOLD = 1 << 19

#: the kernels are called from Python only: no C wrapper (it is code to optimize and emit for nothing)
_JIT = dict(cache=True, nogil=True, error_model="numpy", no_cfunc_wrapper=True)
#: the helpers and family loops are only called from other jitted functions: no Python wrapper either
_HELPER = dict(_JIT, no_cpython_wrapper=True)
#: functions that allocate no array run without numba's reference counting: an array view costs them no
#: increment and decrement (code to compile; the caller keeps the arrays alive)
_NO_NRT = dict(_nrt=False)

# step kinds
_ITOA, _I32, _I64, _F32, _F64 = 0, 1, 2, 3, 4
# how a kernel stores a block's result: the last instruction writes a float64 output directly (it writes
# the result register, the common case), the result register is copied to a float64 output, or rounded
# into a float32 output. Each kernel compiles only its own store loop. For float32, the last instruction
# writes ``rbuf``, an array of its own, rather than its register, a row of ``work``: a family loop
# storing into the array it reads its steps and operands from ran 1.3-2.4x slower (LLVM's loop
# vectorizer; measured with CosineRestarts 8.1 vs 17.4 ns per element on one thread, Constant 1.4 vs 2.1).
_DIRECT, _COPY, _ROUND32 = 0, 1, 2

# --------------------------------------------------------------------------------------------------
# bit casts (numba has no float <-> int reinterpretation; an intrinsic emits LLVM's bitcast, which
# vectorizes like any other instruction)


@intrinsic
def _as_i64(typingctx, x):
    """The IEEE-754 bits of a float64 as an int64."""
    if x != types.float64:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], llvm_ir.IntType(64))

    return types.int64(types.float64), codegen


@intrinsic
def _as_f64(typingctx, x):
    """The float64 whose IEEE-754 bits are the int64 ``x``."""
    if x != types.int64:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], llvm_ir.DoubleType())

    return types.float64(types.int64), codegen


def _minmax(name, op):
    def typer(typingctx, a, b):
        ty = typingctx.unify_types(a, b)
        if not isinstance(ty, (types.Integer, types.Float)):
            return None

        def codegen(context, builder, signature, args):
            x = context.cast(builder, args[0], signature.args[0], ty)
            y = context.cast(builder, args[1], signature.args[1], ty)
            if isinstance(ty, types.Float):
                pred = builder.fcmp_ordered(op, y, x)
            else:
                pred = builder.icmp_signed(op, y, x)
            return builder.select(pred, y, x)

        return ty(a, b), codegen

    typer.__name__ = name
    return intrinsic(typer)


@intrinsic
def _stack_matrix(typingctx, rows, cols):
    """A C-ordered ``(rows, cols)`` float64 array in the stack frame of the calling function, valid until
    it returns: the scalar entry point's registers without an allocation to compile (numba's
    ``np.empty`` is two overloads and reference counting)."""
    if not (isinstance(rows, types.Integer) and isinstance(cols, types.Integer)):
        return None
    array_type = types.Array(types.float64, 2, "C")

    def codegen(context, builder, signature, args):
        r = context.cast(builder, args[0], signature.args[0], types.intp)
        c = context.cast(builder, args[1], signature.args[1], types.intp)
        itemsize = context.get_constant(types.intp, 8)
        array = make_array(array_type)(context, builder)
        populate_array(array, data=builder.alloca(llvm_ir.DoubleType(), size=builder.mul(r, c)), shape=[r, c],
                       strides=[builder.mul(c, itemsize), itemsize], itemsize=itemsize, meminfo=None)
        return array._getvalue()

    return array_type(rows, cols), codegen


@intrinsic
def _select(typingctx, cond, a, b):
    """``a if cond else b`` as one LLVM ``select``: branch-free in whatever code the helper is inlined
    into (numba compiles a conditional expression to branches, which LLVM if-converts only in small
    functions). Both ``a`` and ``b`` are evaluated."""
    ty = typingctx.unify_types(a, b)
    if not isinstance(cond, types.Boolean) or not isinstance(ty, (types.Integer, types.Float)):
        return None

    def codegen(context, builder, signature, args):
        x = context.cast(builder, args[1], signature.args[1], ty)
        y = context.cast(builder, args[2], signature.args[2], ty)
        return builder.select(args[0], x, y)

    return ty(cond, a, b), codegen


# ``min(a, b)`` and ``max(a, b)`` of two numbers as numba's builtins compute them (``b if b < a else a``,
# ``b if b > a else a``: the first argument when the comparison is false, e.g. with a NaN), emitted
# directly: the builtins are overloads compiled for each pair of argument types (25-50 ms each)
_min = _minmax("_min", "<")
_max = _minmax("_max", ">")


# --------------------------------------------------------------------------------------------------
# source-level inlining. numba types, lowers, optimizes and emits every @njit function on its own and
# again inside each caller, and its own ``inline="always"`` re-runs its front end per call site: for the
# small math helpers that fixed cost outweighs their code. So the helpers (``@_inline``: statements and
# one final ``return``) are plain Python, and the block loops that call them (``@_block``) are compiled from
# their source with every helper call replaced by the helper's statements (``_flatten``), written to a
# module in the cache directory like the kernels (``_block_loop``).

_INLINE: dict = {}  # helper name -> function
_BLOCKS: dict = {}  # block loop name -> function


def _inline(fn):
    """Register a helper (statements, then its only ``return``): inlined into the block loops at the
    source level."""
    _INLINE[fn.__name__] = fn
    return fn


def _block(fn):
    """Register a block loop: compiled from its flattened source by ``_block_loop``."""
    _BLOCKS[fn.__name__] = fn
    return fn


@functools.cache
def _function_ast(fn):
    """The ``def`` of ``fn`` (decorators dropped) and its body without the docstring; shared: copy what
    is changed."""
    try:
        source = inspect.getsource(fn)
    except (OSError, TypeError) as error:
        raise RuntimeError(f"fastlr's numba backend compiles {fn.__name__} from the source of fastlr/_numba.py, "
                           f"which is not available: {error}") from None
    node = ast.parse(textwrap.dedent(source)).body[0]
    node.decorator_list = []
    body = node.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    return node, body


def _stored_names(nodes):
    return {n.id for node in nodes for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}


def _helper_calls(node):
    return [n for n in ast.walk(node) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
            and n.func.id in _INLINE]


class _Rename(ast.NodeTransformer):
    """Substitutes names: by another name (a string) or by an expression (an argument)."""

    def __init__(self, names):
        self.names = names

    def visit_Name(self, node):
        new = self.names.get(node.id)
        if new is None:
            return node
        if isinstance(new, str):
            return ast.copy_location(ast.Name(id=new, ctx=node.ctx), node)
        return ast.copy_location(copy.deepcopy(new), node)


class _Flattener(ast.NodeTransformer):
    """Replaces the helper calls of an expression by their results, appending the helpers' statements
    (their locals renamed ``name__k``) to ``pre``, to run before the statement, in Python's order of
    evaluation. A helper in a branch of a conditional expression or after an ``and``/``or`` would run
    unconditionally: refused (write an ``if`` statement)."""

    def __init__(self, counter):
        self.counter = counter
        self.pre = []

    def visit_Call(self, node):
        self.generic_visit(node)  # the arguments first
        if not (isinstance(node.func, ast.Name) and node.func.id in _INLINE):
            return node
        name = node.func.id
        fn_node, body = _function_ast(_INLINE[name])
        params = [a.arg for a in fn_node.args.args]
        if node.keywords or len(node.args) != len(params):
            raise TypeError(f"{name}: an inlined helper takes its arguments by position")
        k = next(self.counter)
        assigned = _stored_names(body)
        names = {local: f"{local}__{k}" for local in assigned}
        for param, arg in zip(params, node.args):
            if isinstance(arg, (ast.Name, ast.Constant)) and param not in assigned:
                names[param] = arg  # a variable or a constant, never reassigned: used as is
            else:
                names[param] = f"{param}__{k}"
                self.pre.append(ast.Assign(targets=[ast.Name(id=names[param], ctx=ast.Store())], value=arg))
        rename = _Rename(names)
        *stmts, ret = body
        if not (isinstance(ret, ast.Return) and ret.value is not None) or any(
                isinstance(n, ast.Return) for stmt in stmts for n in ast.walk(stmt)):
            raise TypeError(f"{name}: an inlined helper ends with its only return")
        self.pre += _flatten_body([rename.visit(copy.deepcopy(stmt)) for stmt in stmts], self.counter)
        return self.visit(rename.visit(copy.deepcopy(ret.value)))

    def visit_IfExp(self, node):
        if _helper_calls(node.body) or _helper_calls(node.orelse):
            raise TypeError(f"an inlined helper in a branch of a conditional expression: {ast.unparse(node)}")
        return self.generic_visit(node)

    def visit_BoolOp(self, node):
        if any(_helper_calls(value) for value in node.values[1:]):
            raise TypeError(f"an inlined helper after an and/or: {ast.unparse(node)}")
        return self.generic_visit(node)


def _unpack(stmt):
    """``a, b = (x, y)`` (an inlined helper's tuple) as ``a = x; b = y`` where that is the same: no tuple
    to build and unpack."""
    target = stmt.targets[0] if len(stmt.targets) == 1 else None
    value = stmt.value
    if not (isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple) and len(target.elts) == len(value.elts)
            and all(isinstance(t, ast.Name) for t in target.elts)):
        return [stmt]
    if {t.id for t in target.elts} & {n.id for n in ast.walk(value) if isinstance(n, ast.Name)}:
        return [stmt]
    return [ast.Assign(targets=[t], value=v) for t, v in zip(target.elts, value.elts)]


def _flatten_body(stmts, counter):
    out = []
    for stmt in stmts:
        flat = _Flattener(counter)
        if isinstance(stmt, ast.If):
            stmt.test = flat.visit(stmt.test)
        elif isinstance(stmt, ast.For):
            stmt.iter = flat.visit(stmt.iter)
        elif isinstance(stmt, ast.While):
            if _helper_calls(stmt.test):
                raise TypeError(f"an inlined helper in a while condition: {ast.unparse(stmt.test)}")
        elif isinstance(stmt, (ast.Assign, ast.AugAssign, ast.Expr, ast.Return)):
            if stmt.value is not None:
                stmt.value = flat.visit(stmt.value)
        elif not isinstance(stmt, (ast.Pass, ast.Break, ast.Continue)):
            raise TypeError(f"a block loop statement not handled: {ast.unparse(stmt).splitlines()[0]}")
        if isinstance(stmt, (ast.If, ast.For, ast.While)):
            stmt.body = _flatten_body(stmt.body, counter)
            stmt.orelse = _flatten_body(stmt.orelse, counter)
        out += flat.pre + (_unpack(stmt) if isinstance(stmt, ast.Assign) else [stmt])
    return out


class _Fold(ast.NodeTransformer):
    """Replaces the calls of the functions ``constants`` names by their values, and drops the branches
    that can no longer run (conditions only: an ``and``/``or`` is folded for its truth value)."""

    def __init__(self, constants):
        self.constants = constants

    def visit_Call(self, node):
        self.generic_visit(node)
        if isinstance(node.func, ast.Name) and node.func.id in self.constants:
            return ast.copy_location(ast.Constant(self.constants[node.func.id]), node)
        return node

    def visit_IfExp(self, node):
        self.generic_visit(node)
        if isinstance(node.test, ast.Constant):
            return node.body if node.test.value else node.orelse
        return node

    def visit_If(self, node):
        self.generic_visit(node)
        if isinstance(node.test, ast.Constant):
            return (node.body if node.test.value else node.orelse) or [ast.Pass()]
        return node

    def visit_BoolOp(self, node):
        # in a condition: a true operand decides an ``or``, a false one an ``and``; the other is dropped
        self.generic_visit(node)
        decisive = isinstance(node.op, ast.Or)
        values = []
        for value in node.values:
            if isinstance(value, ast.Constant) and isinstance(value.value, bool):
                if value.value == decisive:
                    return ast.copy_location(ast.Constant(decisive), node)
            else:
                values.append(value)
        if len(values) <= 1:
            return values[0] if values else ast.copy_location(ast.Constant(not decisive), node)
        node.values = values
        return node

    def visit_UnaryOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, ast.Not) and isinstance(node.operand, ast.Constant):
            return ast.copy_location(ast.Constant(not node.operand.value), node)
        return node


def _scalar_operands():
    """In a block loop, whether every operand is a scalar: replaced by true in the loops generated for the
    kernels without array operands, by false in the others (``_block_source``); never called."""
    raise AssertionError("replaced by a constant when a block loop is generated")


def _flatten(fn, constants=None):
    """``(source, free names)`` of the block loop ``fn`` with its helper calls inlined; ``constants``:
    function name -> the value its calls are replaced by (see ``_Fold``)."""
    node, body = copy.deepcopy(_function_ast(fn))
    if constants:
        node.body = body = _Fold(constants).visit(ast.Module(body=body, type_ignores=[])).body
    try:
        node.body = _flatten_body(body, itertools.count(1))
    except TypeError as error:
        raise TypeError(f"{fn.__name__}: {error}") from None
    local = _stored_names([node]) | {a.arg for a in node.args.args}
    free = sorted({n.id for n in ast.walk(node) if isinstance(n, ast.Name) and n.id not in local
                   and not hasattr(builtins, n.id)})
    return ast.unparse(ast.fix_missing_locations(node)), free


# --------------------------------------------------------------------------------------------------
# math helpers: scalar, branch-free (selects only), no libm calls, so that LLVM vectorizes the block
# loops they are inlined into. The algorithms are those of the C++ core (csrc/include/fastlr/math.hpp).

# fdlibm __kernel_sin / __kernel_cos coefficients (|x| <= pi/4)
_S1 = -1.66666666666666324348e-01
_S2 = 8.33333333332248946124e-03
_S3 = -1.98412698298579493134e-04
_S4 = 2.75573137070700676789e-06
_S5 = -2.50507602534068634195e-08
_S6 = 1.58969099521155010221e-10
_C1 = 4.16666666666666019037e-02
_C2 = -1.38888888888741095749e-03
_C3 = 2.48015872894767294178e-05
_C4 = -2.75573143513906633035e-07
_C5 = 2.08757232129817482790e-09
_C6 = -1.13596475577881948265e-11
_PI = math.pi

_MAGIC = 6755399441055744.0  # 1.5 * 2**52: (x + _MAGIC) - _MAGIC rounds x to an integer (|x| < 2**51)
_MAGIC_BITS = 0x4338000000000000  # its bits: the low mantissa bits of x + _MAGIC hold that integer
_LN2_HI = 6.93147180369123816490e-01  # fdlibm's split of ln 2: _LN2_HI * k is exact for |k| < 2**20
_LN2_LO = 1.90821492927058770002e-10
_INV_LN2 = 1.44269504088896338700e+00
# fdlibm e_log.c: log(1 + f) = f - f**2/2 + s (f**2/2 + R(s**2)), s = f / (2 + f)
_LG1 = 6.666666666666735130e-01
_LG2 = 3.999999999940941908e-01
_LG3 = 2.857142874366239149e-01
_LG4 = 2.222219843214978396e-01
_LG5 = 1.818357216161805012e-01
_LG6 = 1.531383769920937332e-01
_LG7 = 1.479819860511658591e-01


@_inline
def _cospi(x):
    """``cos(pi x)`` for finite ``x``: exact reduction to ``r = x - n/2``, ``|r| <= 1/4``.

    ``cospi(0) == 1``, ``cospi(1) == -1`` and ``cospi(1/2) == 0`` exactly.
    """
    y = 2.0 * abs(x)
    n = np.floor(y + 0.5)
    r = (y - n) * 0.5  # exact
    q = n - 4.0 * np.floor(n * 0.25)  # n mod 4
    a = r * _PI
    z = a * a
    rc = z * (_C1 + z * (_C2 + z * (_C3 + z * (_C4 + z * (_C5 + z * _C6)))))
    hz = 0.5 * z
    w = 1.0 - hz
    cosv = w + (((1.0 - w) - hz) + z * rc)
    rs = _S2 + z * (_S3 + z * (_S4 + z * (_S5 + z * _S6)))
    sinv = a + (z * a) * (_S1 + z * rs)
    v = _select((q == 1.0) | (q == 3.0), sinv, cosv)
    return _select((q == 1.0) | (q == 2.0), -v, v)


@_inline
def _cos_factor(p):
    """``(1 + cos(pi p)) / 2`` written as the reference: ``0.5 * (1 + cos(pi p))``."""
    return 0.5 * (1.0 + _cospi(p))


@_inline
def _exp2i(k):
    """``2**k`` for an integer-valued ``k`` (clamped to [-1100, 1100]), exact wherever representable.

    Built from exponent bits as the product of two normal powers of two ``2**k1 * 2**k2``
    (``k1 = round(k / 2)``), so that a subnormal result is rounded once and ``k <= -1075`` gives 0.
    """
    k = _min(_max(k, -1100.0), 1100.0)
    k1 = (k * 0.5 + _MAGIC) - _MAGIC
    k2 = k - k1
    b1 = (_as_i64(k1 + (_MAGIC + 1023.0)) - _MAGIC_BITS) << 52
    b2 = (_as_i64(k2 + (_MAGIC + 1023.0)) - _MAGIC_BITS) << 52
    return _as_f64(b1) * _as_f64(b2)


@_inline
def _exp_poly(r):
    """``exp(r)`` for ``|r| <= ln2 / 2``: ``1 + (r + r**2 q(r))``, the Taylor polynomial to ``r**13``
    (truncation < 5e-18)."""
    q = 1.0 / 2 + r * (1.0 / 6 + r * (1.0 / 24 + r * (1.0 / 120 + r * (1.0 / 720 + r * (1.0 / 5040 + r * (
        1.0 / 40320 + r * (1.0 / 362880 + r * (1.0 / 3628800 + r * (1.0 / 39916800 + r * (
            1.0 / 479001600 + r * (1.0 / 6227020800.0)))))))))))
    return 1.0 + (r + (r * r) * q)


@_inline
def _exp(x):
    """``exp(x)``, error < 1 ulp: ``x = k ln2 + r`` (Cody-Waite with fdlibm's two-part ln 2),
    ``|r| <= ln2 / 2``, ``exp(r) 2**k``. ``x`` is clamped to [-746, 710]: 0 below, inf above; NaN stays NaN.
    """
    x = _min(_max(x, -746.0), 710.0)
    k = (x * _INV_LN2 + _MAGIC) - _MAGIC
    return _exp_poly((x - k * _LN2_HI) - k * _LN2_LO) * _exp2i(k)  # x - k * _LN2_HI is exact


@_inline
def _split_sqrt2(x):
    """``(k, m)`` with ``x = 2**k m``, ``m`` in ``[sqrt(2)/2, sqrt(2))``, for a finite ``x > 0`` (the
    exponent bits; a subnormal is scaled by 2**54 first). ``k`` is an integer-valued float64."""
    sub = x < 2.2250738585072014e-308
    u = _as_i64(_select(sub, x * 18014398509481984.0, x)) + ((0x3ff00000 - 0x3fe6a09e) << 32)
    m = _as_f64((u & 0x000FFFFFFFFFFFFF) + (0x3fe6a09e << 32))
    k = (_as_f64(_MAGIC_BITS + (u >> 52)) - _MAGIC) - _select(sub, 1077.0, 1023.0)  # exact
    return k, m


@_inline
def _log_km(k, m):
    """``k ln2 + log(m)`` for ``m`` in ``[sqrt(2)/2, sqrt(2))`` (fdlibm e_log.c): ``f = m - 1``,
    ``s = f / (2 + f)``, ``log(m) = f - f**2/2 + s (f**2/2 + R(s**2))``; error < 1 ulp."""
    f = m - 1.0
    s = f / (2.0 + f)
    z = s * s
    w = z * z
    big_r = z * (_LG1 + w * (_LG3 + w * (_LG5 + w * _LG7))) + w * (_LG2 + w * (_LG4 + w * _LG6))
    hfsq = 0.5 * f * f
    return k * _LN2_HI - ((hfsq - (s * (hfsq + big_r) + k * _LN2_LO)) - f)


@_inline
def _log(x):
    """``log(x)``, error < 1 ulp (fdlibm without its branches). ``log(0) = -inf``, ``log(inf) = inf``,
    ``log(x < 0)`` and ``log(nan)`` are NaN."""
    k, m = _split_sqrt2(x)
    r = _log_km(k, m)
    special = _select(x == 0.0, -np.inf, _select(x < 0.0, np.nan, x))  # inf -> inf, nan -> nan
    return _select((x > 0.0) & (x < np.inf), r, special)


@_inline
def _pow_km(g, e, k, lm):
    """``g ** e`` for a decay factor ``g = 2**k m`` in (0, 1] (``lm = log(m)``, see ``_split_sqrt2``) and
    ``e >= 0``.

    ``g ** e = 2**(e k) exp(e lm)``: with ``y = e k = n + frac`` (``n = round(y)``),
    ``g ** e = 2**n exp(frac ln2 + e lm)``, and that exp reduced as in ``_exp`` with its own ``2**kk``
    merged into ``2**(n + kk)``. For an integer ``e`` and a power of two ``g`` (``lm = 0``) this is
    exactly ``2**(e k)``; otherwise the error is about ``|e log g|`` ulp relative, so at most
    ``|y| e**y <= 1/e`` ulp of ``g**0 = 1`` absolute (plus exp's own ulp): below an ulp of the schedule's
    peak. ``e = 0, 1, 2`` give 1, ``g`` and ``g * g`` exactly, as libm's pow; below ``exp(-760)``, 0.
    """
    x = e * (k * _LN2_HI + lm)  # ~ e log(g) <= 0; where it is >= -760, |e k| < 2200 and |e lm| < 1100
    y = _max(e * k, -4096.0)
    n = (y + _MAGIC) - _MAGIC
    z = _max((y - n) * (_LN2_HI + _LN2_LO) + e * lm, -4096.0)
    kk = (z * _INV_LN2 + _MAGIC) - _MAGIC
    v = _exp_poly((z - kk * _LN2_HI) - kk * _LN2_LO) * _exp2i(n + kk)
    v = _select(x < -760.0, 0.0, v)
    v = _select(e == 2.0, g * g, v)
    v = _select(e == 1.0, g, v)
    return _select(e == 0.0, 1.0, v)


@_inline
def _pow_decay(g, e):
    """``g ** e`` for a decay factor ``g`` in (0, 1] and ``e >= 0`` (see ``_pow_km``)."""
    k, m = _split_sqrt2(g)
    return _pow_km(g, e, k, _log_km(0.0, m))


@_inline
def _pow_unit(x, y):
    """``x ** y`` for ``x`` in [0, 1] (the polynomial's base) and ``y >= 0``: ``exp(y log x)``, an
    error below about 2 ulp of 1. Exact for ``y`` in {0, 1, 2, 0.5} (``sqrt``) and ``x`` in {0, 1}."""
    v = _exp(y * _log(x))  # x = 0: exp(-inf) = 0
    v = _select(y == 0.5, math.sqrt(x), v)
    v = _select(y == 2.0, x * x, v)
    v = _select(y == 1.0, x, v)
    return _select(y == 0.0, 1.0, v)


@njit(**_HELPER, **_NO_NRT)
def _uniform(a, n):
    """Whether ``a[:n]`` holds one value (a scalar operand, or an array operand constant over the
    block): the block loops then hoist what depends on it alone (``log(gamma)``, the power's case)."""
    a0 = a[0]
    c = 0
    for i in range(n):
        c += a[i] != a0
    return c == 0


@_inline
def _tanh(x):
    """``tanh(x) = sign(x) (1 - 2 / (exp(2 |x|) + 1))``; absolute error about an ulp of 1."""
    e = _exp(2.0 * _min(abs(x), 40.0))
    t = 1.0 - 2.0 / (e + 1.0)
    return _select(x < 0.0, -t, t)


@_inline
def _blend(a, b, c):
    return a * (1.0 - c) + b * c


@_inline
def _sdiv(num, den):
    return _select(den != 0.0, num / den, 0.0)


@_inline
def _clip01(x):
    return _min(_max(x, 0.0), 1.0)


@njit(**_HELPER, **_NO_NRT)
def _count_le(tables, off, k, t):
    """``searchsorted(tables[off:off+k], t, side="right")``: the number of entries ``<= t``."""
    lo = 0
    hi = k
    while lo < hi:
        mid = (lo + hi) >> 1
        if tables[off + mid] <= t:
            lo = mid + 1
        else:
            hi = mid
    return lo


# --------------------------------------------------------------------------------------------------
# families: one block loop each, ``d[i] = f(t[i], operands[i])`` for i < n, compiled with the helpers
# inlined (``@_block``)


@_block
def _f_constant(d, t, lr, n):
    for i in range(n):
        d[i] = lr[i]


@_block
def _f_linear(d, t, a, b, tt, n):
    for i in range(n):
        f = _min(t[i], tt[i]) / tt[i]
        d[i] = _blend(a[i], b[i], f)


@_block
def _f_step_decay(d, t, lr, g, s, n):
    if _uniform(g, n):  # split gamma once
        g0 = g[0]
        k, m = _split_sqrt2(g0)
        lm = _log_km(0.0, m)
        for i in range(n):
            d[i] = lr[i] * _pow_km(g0, np.floor(t[i] / s[i]), k, lm)
    else:
        for i in range(n):
            d[i] = lr[i] * _pow_decay(g[i], np.floor(t[i] / s[i]))


@_block
def _f_multi_step(d, t, lr, g, tables, off, k, n):
    pc = -1
    pg = np.nan
    pv = 1.0
    for i in range(n):
        c = _count_le(tables, off, k, t[i])
        if c != pc or g[i] != pg:
            pc = c
            pg = g[i]
            pv = g[i] ** float(c)
        d[i] = lr[i] * pv


@_block
def _f_exponential(d, t, lr, g, s, mn, staircase, n):
    if _uniform(g, n):  # split gamma once
        g0 = g[0]
        k, m = _split_sqrt2(g0)
        lm = _log_km(0.0, m)
        for i in range(n):
            e = t[i] / s[i]
            e = np.floor(e) if staircase else e
            d[i] = _max(lr[i] * _pow_km(g0, e, k, lm), mn[i])
    else:
        for i in range(n):
            e = t[i] / s[i]
            e = np.floor(e) if staircase else e
            d[i] = _max(lr[i] * _pow_decay(g[i], e), mn[i])


@_block
def _f_inverse_time(d, t, lr, rate, s, staircase, n):
    for i in range(n):
        e = t[i] / s[i]
        e = np.floor(e) if staircase else e
        d[i] = lr[i] / (1.0 + rate[i] * e)


@_block
def _f_polynomial(d, t, a, b, tt, pw, n):
    # the common powers 1 and 2 (a scalar operand) skip exp/log: numpy's pow gives them as x and x * x
    p0 = pw[0]
    case = (1 if p0 == 1.0 else (2 if p0 == 2.0 else 0)) if _uniform(pw, n) else 0
    if case == 1:
        for i in range(n):
            d[i] = _blend(b[i], a[i], 1.0 - _min(t[i], tt[i]) / tt[i])
    elif case == 2:
        for i in range(n):
            x = 1.0 - _min(t[i], tt[i]) / tt[i]
            d[i] = _blend(b[i], a[i], x * x)
    else:
        for i in range(n):
            f = _min(t[i], tt[i]) / tt[i]
            d[i] = _blend(b[i], a[i], _pow_unit(1.0 - f, pw[i]))


@_block
def _f_cosine(d, t, pk, tt, mn, n):
    for i in range(n):
        p = _min(t[i], tt[i]) / tt[i]
        d[i] = _blend(mn[i], pk[i], _cos_factor(p))


@_inline
def _restart_start(i, c, m):
    # the reference's form: one recurrence step on the closed form (exact starts for integer c, m)
    if m == 1.0:
        start = c * i
    elif i <= 0.0:
        start = 0.0
    else:
        start = m * _sdiv(c * (m ** (i - 1.0) - 1.0), m - 1.0) + c
    return start


@_inline
def _restart_cycle(t, c, m):
    """The reference's ``restart_cycle`` for one element, a log guess then exact correction, with the
    cycle's bounds: ``(i, S_i, S_{i+1})``."""
    if m == 1.0:
        i = np.floor(t / c)
    else:
        i = np.floor(math.log1p(t * (m - 1.0) / c) / math.log(m))
    i = _min(_max(i, 0.0), 9007199254740992.0)  # as the reference: clamp at 2**53, <= 64 corrections
    s0 = 0.0
    s1 = 0.0
    for step in range(65):  # the last pass only computes the bounds of the final i
        s0 = _restart_start(i, c, m)
        s1 = _restart_start(i + 1.0, c, m)
        up = s1 <= t
        down = (s0 > t) and (i > 0.0)
        if step == 64 or not (up or down):
            break
        if up:
            i += 1.0
        else:
            i -= 1.0
    return i, s0, s1


@_inline
def _in_cycle(t, ci, s0, s1):
    """Whether step ``t`` is in cycle ``ci``: ``s0 <= t < s1`` (the first cycle takes any ``t < s1``)."""
    return t < s1 and (s0 <= t or ci == 0.0)


@_block
def _f_cosine_restarts(d, t, pk, cs, mn, m, dec, lim, n):
    # runs of elements in one cycle, on the same side of the cycle limit: the cycle is searched when an
    # element leaves it, and each run is one vectorizable loop (a curve's runs are whole cycles). The
    # parameters of an element are compared with the run's unless they are scalars
    kc = np.nan
    km = np.nan
    kd = np.nan
    ci = 0.0
    s0 = 0.0
    s1 = -np.inf  # no cycle yet
    length = 1.0
    dpow = 1.0
    j = n - n  # an int64 like n
    while j < n:
        tj = t[j]
        if not (_in_cycle(tj, ci, s0, s1)
                and (_scalar_operands() or (cs[j] == kc and m[j] == km and dec[j] == kd))):
            kc = cs[j]
            km = m[j]
            kd = dec[j]
            ci, s0, s1 = _restart_cycle(tj, kc, km)
            length = kc * km ** ci
            dpow = kd ** ci
        past = ci >= lim[j]
        end = j + 1
        while end < n:
            if not (_in_cycle(t[end], ci, s0, s1) and (_scalar_operands() or (
                    cs[end] == kc and m[end] == km and dec[end] == kd and (ci >= lim[end]) == past))):
                break
            end += 1
        if past:
            for i in range(j, end):
                d[i] = mn[i]
        else:
            for i in range(j, end):
                p = (t[i] - s0) / length
                d[i] = _blend(mn[i], pk[i] * dpow, _cos_factor(p))
        j = end


@_block
def _f_warmup_cosine(d, t, pk, tt, w, mn, init, n):
    for i in range(n):
        ti = t[i]
        warm = _blend(init[i], pk[i], _sdiv(ti, w[i]))
        p = _sdiv(ti - w[i], tt[i] - w[i])
        decay = _blend(mn[i], pk[i], _cos_factor(p))
        v = warm if ti < w[i] else decay
        d[i] = mn[i] if ti >= tt[i] else v


@_block
def _f_wsd(d, t, pk, tt, w, dd, mn, init, shape, n):
    for i in range(n):
        ti = t[i]
        warm = _blend(init[i], pk[i], _sdiv(ti, w[i]))
        ds = tt[i] - dd[i]
        p = _clip01(_sdiv(ti - ds, dd[i]))
        if shape == 0:
            s = 1.0 - p
        elif shape == 1:
            s = _cos_factor(p)
        elif shape == 2:
            s = 1.0 - math.sqrt(p)
        else:
            s = 1.0 - p * p
        decay = _blend(mn[i], pk[i], s)
        v = warm if ti < w[i] else (pk[i] if ti < ds else decay)
        d[i] = mn[i] if ti >= tt[i] else v


@_block
def _f_one_cycle(d, t, mx, tt, pct, div, fdiv, mode, n):
    linear = (mode & 1) != 0
    three = (mode & 2) != 0
    for i in range(n):
        initial = mx[i] / div[i]
        final = initial / fdiv[i]
        first_end = pct[i] * tt[i] - 1.0
        last_end = tt[i] - 1.0
        th = _min(t[i], last_end)
        if three:
            mid_end = 2.0 * pct[i] * tt[i] - 2.0
            if th <= first_end:
                start, end, lf, lt = 0.0, first_end, initial, mx[i]
            elif th <= mid_end:
                start, end, lf, lt = first_end, mid_end, mx[i], initial
            else:
                start, end, lf, lt = mid_end, last_end, initial, final
        else:
            if th <= first_end:
                start, end, lf, lt = 0.0, first_end, initial, mx[i]
            else:
                start, end, lf, lt = first_end, last_end, mx[i], final
        q = _clip01(_sdiv(th - start, end - start))
        if end - start <= 0.0:
            q = 1.0
        if linear:
            c = 1.0 - q
        else:
            c = _cos_factor(q)
        d[i] = _blend(lt, lf, c)  # q = 1 from T - 1 on: exactly the phase's end value


@_inline
def _cyclic_scale(t, up, down):
    """``(cycle, scale)``: ``cycle = floor(1 + t / total)``, ``x = 1 + t / total - cycle``,
    ``scale = x / ratio`` if ``x <= ratio`` else ``(x - 1) / (ratio - 1)``."""
    total = up + down
    ratio = up / total
    cycle = np.floor(1.0 + t / total)
    x = 1.0 + t / total - cycle
    return cycle, _select(x <= ratio, x / ratio, _sdiv(x - 1.0, ratio - 1.0))


@_block
def _f_cyclic(d, t, base, mx, up, down, g, mode, n):
    # base + (max - base) * scale * g, g = 1, 0.5 ** (cycle - 1) (exact) or gamma ** t: one loop each
    if mode == 0:
        for i in range(n):
            cycle, scale = _cyclic_scale(t[i], up[i], down[i])
            d[i] = base[i] + (mx[i] - base[i]) * scale * 1.0
    elif mode == 1:
        for i in range(n):
            cycle, scale = _cyclic_scale(t[i], up[i], down[i])
            d[i] = base[i] + (mx[i] - base[i]) * scale * _exp2i(1.0 - cycle)  # 0 from cycle = 1076 on
    elif _uniform(g, n):  # split gamma once
        g0 = g[0]
        k, m = _split_sqrt2(g0)
        lm = _log_km(0.0, m)
        for i in range(n):
            cycle, scale = _cyclic_scale(t[i], up[i], down[i])
            d[i] = base[i] + (mx[i] - base[i]) * scale * _pow_km(g0, t[i], k, lm)
    else:
        for i in range(n):
            cycle, scale = _cyclic_scale(t[i], up[i], down[i])
            d[i] = base[i] + (mx[i] - base[i]) * scale * _pow_decay(g[i], t[i])


@_block
def _f_inverse_sqrt(d, t, pk, w, init, n):
    for i in range(n):
        ti = t[i]
        warm = _blend(init[i], pk[i], _sdiv(ti, w[i]))
        decay = pk[i] * math.sqrt(_max(w[i], 1.0) / _max(ti, 1.0))
        d[i] = warm if ti < w[i] else decay


@_block
def _f_tanh(d, t, pk, tt, mn, lo, hi, n):
    for i in range(n):
        c = 0.5 * (1.0 - _tanh(lo[i] + (hi[i] - lo[i]) * (t[i] / tt[i])))
        v = _blend(mn[i], pk[i], c)
        d[i] = mn[i] if t[i] >= tt[i] else v


@_block
def _f_piecewise_constant(d, t, tables, off, k, n):
    # a block whose steps all lie in one piece (most blocks of a curve) is one value, found from its
    # smallest and largest step
    lo = t[0]
    hi = t[0]
    for i in range(n):
        lo = _min(lo, t[i])
        hi = _max(hi, t[i])
    first = _count_le(tables, off, k, lo)
    if first == _count_le(tables, off, k, hi):
        value = tables[off + k + first]
        for i in range(n):
            d[i] = value
        return
    for i in range(n):
        d[i] = tables[off + k + _count_le(tables, off, k, t[i])]


@_block
def _f_piecewise_linear(d, t, tables, off, k, n):
    vo = off + k
    hi_inner = _max(k - 1, 1)
    for i in range(n):
        ti = t[i]
        index = _count_le(tables, off, k, ti)
        if index == 0:
            d[i] = tables[vo]
        elif index >= k:
            d[i] = tables[vo + k - 1]
        else:
            inner = _min(_max(index, 1), hi_inner)
            right_i = _min(inner, k - 1)
            left = tables[off + inner - 1]
            right = tables[off + right_i]
            f = _clip01(_sdiv(ti - left, right - left))
            d[i] = _blend(tables[vo + inner - 1], tables[vo + right_i], f)


@_block
def _combinator(op, d, a, b, c, ops, p0, p1, n):
    """The combinators (one block loop each): shift, select, mul, scale, ramp, zero."""
    if op == SHIFT:
        x = ops[p0]
        for i in range(n):
            d[i] = _max(a[i] - x[i], 0.0)
    elif op == SELECT:
        x = ops[p0]
        for i in range(n):
            d[i] = c[i] if a[i] >= x[i] else b[i]
    elif op == MUL:
        for i in range(n):
            d[i] = a[i] * b[i]
    elif op == SCALE:
        x = ops[p0]
        for i in range(n):
            d[i] = a[i] * x[i]
    elif op == RAMP:
        w = ops[p0]
        init = ops[p1]
        for i in range(n):
            v = _blend(init[i], c[i], _sdiv(a[i], w[i]))
            d[i] = v if a[i] < w[i] else b[i]
    elif op == ZERO:
        for i in range(n):
            d[i] = 0.0


# --------------------------------------------------------------------------------------------------
# loading the steps and the array operands of a block


@njit(**_HELPER)
def _gather(src, base, strides, shape, idx0, n, dst):
    """``dst[j] = src[base + sum_d i_d(b0 + j) * strides[d]]`` for j < n (C-order multi-index ``idx0`` of
    the block's first element ``b0``)."""
    ndim = shape.size
    last = ndim - 1
    idx = idx0.copy()
    off = base
    for dd in range(ndim):
        off += idx[dd] * strides[dd]
    s = strides[last]
    inner = shape[last]
    j = 0
    while j < n:
        seg = _min(n - j, inner - idx[last])
        if s == 1:
            for q in range(seg):
                dst[j + q] = src[off + q]
        else:
            for q in range(seg):
                dst[j + q] = src[off + q * s]
        j += seg
        off += seg * s
        idx[last] += seg
        dd = last
        while dd > 0 and idx[dd] == shape[dd]:
            off -= shape[dd] * strides[dd]
            idx[dd] = 0
            dd -= 1
            idx[dd] += 1
            off += strides[dd]


@njit(**_HELPER)
def _iota(start, strides, shape, idx0, n, dst, fiota):
    """``dst[j] = start + sum_d i_d(b0 + j) * strides[d]`` (the implicit steps of ``curve``)."""
    ndim = shape.size
    last = ndim - 1
    idx = idx0.copy()
    k = 0
    for dd in range(ndim):
        k += idx[dd] * strides[dd]
    s = strides[last]
    fs = float(s)
    inner = shape[last]
    j = 0
    while j < n:
        seg = _min(n - j, inner - idx[last])
        fk = float(k)
        for q in range(seg):
            dst[j + q] = start + (fk + fiota[q] * fs)
        j += seg
        k += seg * s
        idx[last] += seg
        dd = last
        while dd > 0 and idx[dd] == shape[dd]:
            k -= shape[dd] * strides[dd]
            idx[dd] = 0
            dd -= 1
            idx[dd] += 1
            k += strides[dd]


# --------------------------------------------------------------------------------------------------
# the kernels, generated per (opcode set, step kind, way of storing the result)
#
# numba compiles every @njit function into its own LLVM module, links the modules of its callees into
# it and optimizes the result again: a chain of small functions (driver -> block loop -> instruction
# dispatch -> adapter -> family) re-optimizes everything below it at every level, and a branch over the
# five step kinds compiles all five loaders. So each kernel is one flat generated function (the block
# loop, the step loader of its one kind, the instruction dispatch inline), which calls the family
# block loops directly. It is written as a small Python file in a cache directory and imported, so numba
# caches it like any file-backed module (closures and exec'd code are not cacheable); so are the block
# loops (``_block_loop``: compiled once per machine, shared by every kernel). The file name hashes the
# source, fastlr's and numba's versions and this file's source, so an upgrade never reuses a stale cache.

# opcode -> (family name, block function, number of operands, extra arguments after the operands)
_FAMILIES = {
    CONSTANT: ("Constant", "_f_constant", 1, ""),
    LINEAR: ("Linear", "_f_linear", 3, ""),
    STEP_DECAY: ("StepDecay", "_f_step_decay", 3, ""),
    MULTI_STEP: ("MultiStep", "_f_multi_step", 2, "tables, row[6], row[7], "),
    EXPONENTIAL: ("Exponential", "_f_exponential", 4, "row[5] == 1, "),
    INVERSE_TIME: ("InverseTime", "_f_inverse_time", 3, "row[5] == 1, "),
    POLYNOMIAL: ("Polynomial", "_f_polynomial", 4, ""),
    COSINE: ("Cosine", "_f_cosine", 3, ""),
    COSINE_RESTARTS: ("CosineRestarts", "_f_cosine_restarts", 6, ""),
    WARMUP_COSINE: ("WarmupCosine", "_f_warmup_cosine", 5, ""),
    WARMUP_STABLE_DECAY: ("WarmupStableDecay", "_f_wsd", 6, "row[5], "),
    ONE_CYCLE: ("OneCycle", "_f_one_cycle", 5, "row[5], "),
    CYCLIC: ("Cyclic", "_f_cyclic", 5, "row[5], "),
    INVERSE_SQRT: ("InverseSqrt", "_f_inverse_sqrt", 3, ""),
    TANH: ("Tanh", "_f_tanh", 5, ""),
    PIECEWISE_CONSTANT: ("PiecewiseConstant", "_f_piecewise_constant", 0, "tables, row[6], row[7], "),
    PIECEWISE_LINEAR: ("PiecewiseLinear", "_f_piecewise_linear", 0, "tables, row[6], row[7], "),
}
_COMBINATORS = (SHIFT, SELECT, MUL, SCALE, RAMP, ZERO)

# step kind -> (name, how the kernel reads the block's steps into register 0)
_KIND_NAMES = {_ITOA: "iota", _I32: "int32", _I64: "int64", _F32: "float32", _F64: "float64"}

_HEADER = '''"""Generated by fastlr._numba: {what}; safe to delete."""
import numpy as np
from numba import njit

from fastlr._numba import BLOCK, _JIT, _NO_NRT, _block_loop, _gather, _iota, _max, _min, _stack_matrix
{blocks}'''

_BLOCK_HEADER = '''"""Generated by fastlr._numba: the block loop {name}, its math helpers inlined; safe to delete."""
{modules}from numba import njit

from fastlr._numba import _HELPER, _NO_NRT{names}


@njit(**_HELPER, **_NO_NRT)
'''

# the end of a block, shared by both kernels: run the instructions, store the result register
_RUN_BLOCK = '''{gather}        for pc in range(ninstr):
            row = code[pc]
            op = row[0]
            dst = {dst}
{dispatch}
{store}'''

# per store mode: the destination of an instruction, the store after the block's instructions (through
# a view: ``out[b0 + j]`` carries numba's negative-index wraparound, which kept LLVM from vectorizing the
# loop: 0.63 vs 0.23 ns per element), and what the kernel computes first for it (``_PRELUDES``)
_STORE_LOOP = "        r = {}\n        o = out[b0:b0 + n]\n        for j in range(n):\n            o[j] = {}\n"
_PRELUDES = {_ROUND32: "    last = ninstr > 0 and code[ninstr - 1, 1] == res\n"}
_STORES = {
    _DIRECT: ("out[b0:b0 + n] if pc == ninstr - 1 else regs[row[1]]", ""),
    _COPY: ("regs[row[1]]", _STORE_LOOP.format("regs[res]", "r[j]")),
    # ``last``: the last instruction writes the result register (else it is read from its row)
    _ROUND32: ("rbuf[:n] if pc == ninstr - 1 and last else regs[row[1]]",
               _STORE_LOOP.format("rbuf if last else regs[res]", "np.float32(r[j])")),
}

_SERIAL = '''

@njit(**_JIT)
def serial(code, opdata, opoff, opstr, tables, nreg, res, shape, sbuf, sbase, sstr, start, out, lo, hi,
           work, rbuf):
    """Output elements ``[lo, hi)`` (C order), block by block; nogil: the parallel path runs chunks of
    it on threads, and every element is computed the same way whatever the split. ``work``: the
    registers and the operand buffers, ``(nreg + max(nops, 1), BLOCK)``, and ``rbuf``: the float32
    kernel's result block (``BLOCK``), one of each per thread."""
    ndim = shape.size
    nops = opoff.size
    ninstr = code.shape[0]
{prelude}    regs = work[:nreg]
    ops = work[nreg:]
    width = work.shape[1]
    scal = np.empty(nops, np.bool_)  # scalar operands: written once
    for k in range(nops):
        sc = True
        for dd in range(ndim):
            if opstr[k, dd] != 0:
                sc = False
        scal[k] = sc
        if sc:
            v = opdata[opoff[k]]
            orow = ops[k]
            for j in range(width):  # not BLOCK: a constant trip count is unrolled, for nothing
                orow[j] = v
{steps}
    idx0 = np.empty(ndim, np.int64)
    treg = regs[0]
    for b0 in range(lo, hi, BLOCK):
        n = _min(BLOCK, hi - b0)
        rem = b0
        for dd in range(ndim - 1, -1, -1):
            idx0[dd] = rem % shape[dd]
            rem //= shape[dd]
        {load}
{run}'''

_FLAT = '''

@njit(**_JIT, **_NO_NRT)
def serial(code, opdata, opoff, opstr, tables, nreg, res, shape, sbuf, sbase, sstr, start, out, lo, hi,
           work, rbuf):
    """``serial`` for a 1-D output: element ``i`` reads step ``i * sstr[0]`` and operand element
    ``i * opstr[k, 0]``, so the loads are plain loops (no multi-index, no gather calls), computing the
    same values as the general kernel. No allocation: ``work`` holds the registers and operands,
    ``rbuf`` the float32 kernel's result block."""
    nops = opoff.size
    ninstr = code.shape[0]
{prelude}    regs = work[:nreg]
    ops = work[nreg:]
    width = work.shape[1]
    for k in range(nops):
        v = opdata[opoff[k]]
        for j in range(width):  # not BLOCK: a constant trip count is unrolled, for nothing
            ops[k, j] = v
    s = sstr[0]
    fs = float(s)
    treg = regs[0]
    for b0 in range(lo, hi, BLOCK):
        n = _min(BLOCK, hi - b0)
{load}
{run}'''

_SCALAR = '''

@njit(**_JIT, **_NO_NRT)
def scalar(code, opdata, opoff, tables, nreg, res, t):
    """One step of a program whose operands are all scalars: blocks of one element."""
    nops = opoff.size
    regs = _stack_matrix(nreg, 1)
    ops = _stack_matrix(_max(nops, 1), 1)
    for k in range(nops):
        ops[k, 0] = opdata[opoff[k]]
    regs[0, 0] = t
    n = regs.shape[1]  # 1, typed int64 as in ``serial`` (a literal 1 would compile every family again)
    for pc in range(code.shape[0]):
        row = code[pc]
        op = row[0]
        dst = regs[row[1]]
{dispatch}
    return regs[res, 0]
'''


def _dispatch(opcodes, indent):
    """The instruction dispatch of a kernel: an ``if``/``elif`` chain over its families, the combinators
    last (a single family without combinators needs no test)."""
    families = [op for op in opcodes if op in _FAMILIES]
    combinators = any(op in _COMBINATORS for op in opcodes)
    calls = []
    for op in families:
        _, fn, nops, extra = _FAMILIES[op]
        operands = "".join(f"ops[row[{8 + j}]], " for j in range(nops))
        calls.append((f"op == {op}", f"{fn}(dst, regs[row[2]], {operands}{extra}n)"))
    if combinators:
        calls.append((None, "_combinator(op, dst, regs[row[2]], regs[row[3]], regs[row[4]], ops, "
                            "row[8], row[9], n)"))
    if not calls:
        return indent + "pass"
    if len(calls) == 1:
        return indent + calls[0][1]
    lines = []
    for k, (cond, call) in enumerate(calls):
        if k == len(calls) - 1:
            lines.append(f"{indent}else:")
        else:
            lines.append(f"{indent}{'if' if k == 0 else 'elif'} {cond}:")
        lines.append(f"{indent}    {call}")
    return "\n".join(lines)


def _kernel_source(opcodes, variant):
    """The source of the kernel module of an opcode set for ``variant = (kind, arrays, flat, store)``:
    ``serial`` for step kind ``kind`` (gathering array operands if ``arrays``; without them every operand
    must be a scalar; ``flat``: the kernel of 1-D outputs; ``store``: ``_DIRECT``, ``_COPY`` or
    ``_ROUND32``), or ``scalar`` for ``kind is None``."""
    kind, arrays, flat, store = variant
    families = [op for op in opcodes if op in _FAMILIES]
    what = f"opcodes {','.join(map(str, opcodes))} ({_set_name(opcodes)}), " + _kernel_name(variant)
    blocks = [_FAMILIES[op][1] for op in families] + (["_combinator"] if any(op in _COMBINATORS for op in opcodes)
                                                       else [])
    uniform = not arrays  # every operand is a scalar (the scalar entry point's too)
    source = _HEADER.format(what=what, blocks="".join(f"{fn} = _block_loop({fn!r}, {uniform})\n" for fn in blocks))
    if kind is None:
        return source + _SCALAR.format(dispatch=_dispatch(opcodes, " " * 8))
    dst, store_block = _STORES[store]
    if flat:
        if kind == _ITOA:  # as _iota: start + (float(b0 s) + float(j) s)
            load = ("        fk = float(b0 * s)\n        for j in range(n):\n"
                    "            treg[j] = start + (fk + float(j) * fs)")
        else:
            load = "        for j in range(n):\n            treg[j] = sbuf[sbase + (b0 + j) * s]"
        # a contiguous operand through a view: an index expression carries numba's negative-index
        # wraparound, which keeps the loop from vectorizing
        gather = ("        for k in range(nops):\n            os_ = opstr[k, 0]\n            orow = ops[k]\n"
                  "            o0 = opoff[k] + b0 * os_\n"
                  "            if os_ == 1:\n                ov = opdata[o0:o0 + n]\n"
                  "                for j in range(n):\n                    orow[j] = ov[j]\n"
                  "            elif os_ != 0:\n"
                  "                for j in range(n):\n                    orow[j] = opdata[o0 + j * os_]\n"
                  ) if arrays else ""
        run = _RUN_BLOCK.format(gather=gather, dst=dst, dispatch=_dispatch(opcodes, " " * 12), store=store_block)
        return source + _FLAT.format(load=load, run=run, prelude=_PRELUDES.get(store, ""))
    if kind == _ITOA:
        steps = "    fiota = np.empty(BLOCK)\n    for j in range(BLOCK):\n        fiota[j] = float(j)"
        load = "_iota(start, sstr, shape, idx0, n, treg, fiota)"
    else:
        steps = ""
        load = "_gather(sbuf, sbase, sstr, shape, idx0, n, treg)"
    gather = ("        for k in range(nops):\n            if not scal[k]:\n"
              "                _gather(opdata, opoff[k], opstr[k], shape, idx0, n, ops[k])\n") if arrays else ""
    run = _RUN_BLOCK.format(gather=gather, dst=dst, dispatch=_dispatch(opcodes, " " * 12), store=store_block)
    return source + _SERIAL.format(steps=steps, load=load, run=run, prelude=_PRELUDES.get(store, ""))


def _set_name(opcodes):
    names = [_FAMILIES[op][0] for op in opcodes if op in _FAMILIES]
    if any(op in _COMBINATORS for op in opcodes):
        names.append("combinators")
    return "+".join(names) or "empty"


def _cache_dirs():
    env = os.environ.get("FASTLR_CACHE_DIR")
    if env:
        yield os.path.join(env, "numba")
    env = os.environ.get("NUMBA_CACHE_DIR")
    if env:
        yield os.path.join(env, "fastlr")
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    yield os.path.join(xdg, "fastlr", "numba")
    yield os.path.join(tempfile.gettempdir(), f"fastlr-numba-{os.getuid() if hasattr(os, 'getuid') else 0}")


def _source_digest():
    global _SOURCE_DIGEST
    if _SOURCE_DIGEST is None:
        h = hashlib.sha256()
        try:
            with open(__file__, "rb") as f:
                h.update(f.read())
        except OSError:  # pragma: no cover - a zipped install: the versions still key the cache
            pass
        from . import __version__

        h.update(f"fastlr {__version__} numba {numba.__version__} numpy {np.__version__}".encode())
        _SOURCE_DIGEST = h.hexdigest()
    return _SOURCE_DIGEST


_SOURCE_DIGEST = None


def _write_module(source, make_source=None):
    """Write the module ``source`` to the first writable cache directory, unless it is there; ``(key,
    path)``. The file name hashes ``source`` with this file's source and the versions. With
    ``make_source``, ``source`` only names the module and ``make_source()`` generates it, when the file
    is missing (the same name is the same module)."""
    key = hashlib.sha256((_source_digest() + source).encode()).hexdigest()[:20]
    fname = f"fastlr_kernel_{key}.py"
    errors = []
    for directory in _cache_dirs():
        path = os.path.join(directory, fname)
        try:
            with open(path, encoding="utf-8") as f:
                if make_source is not None or f.read() == source:
                    return key, path
        except OSError:
            pass
        if make_source is not None:
            source = make_source()
            make_source = None
        try:
            os.makedirs(directory, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=directory, suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(source)
            os.replace(tmp, path)  # atomic: a concurrent process reads the old or the new, both whole
            return key, path
        except OSError as error:
            errors.append(f"{directory}: {error}")
    raise RuntimeError("fastlr: no writable cache directory for the numba kernels (" + "; ".join(errors) + ")")


def _import_module(source, make_source=None):
    key, path = _write_module(source, make_source)
    modname = f"fastlr._numba_kernel_{key}"
    module = sys.modules.get(modname)
    if module is None:
        spec = importlib.util.spec_from_file_location(modname, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[modname] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            sys.modules.pop(modname, None)
            raise
    return module, path


class _Driver:
    """The kernels of one opcode set: ``serial`` per step kind and ``scalar``, each generated, imported
    and compiled on its first use only."""

    def __init__(self, opcodes):
        self.opcodes = opcodes
        self.name = _set_name(opcodes)
        self.kernels = {}  # variant (see _kernel_source) -> dispatcher
        self.paths = {}
        self.timed = set()  # kernel names whose first call has been timed

    def kernel(self, variant):
        k = self.kernels.get(variant)
        if k is None:
            with _driver_lock:
                k = self.kernels.get(variant)
                if k is None:
                    module, self.paths[variant] = _import_module(_kernel_source(self.opcodes, variant))
                    k = self.kernels[variant] = module.scalar if variant[0] is None else module.serial
        return k


_drivers: dict = {}
_driver_lock = threading.RLock()
_block_loops: dict = {}  # (name, uniform) -> dispatcher


def _block_loop(name, uniform=False):
    """The compiled block loop ``name`` (see ``_block``): its source with the helpers inlined, written to a
    module in the cache directory and imported (so that numba caches it), once per process. ``uniform``:
    for kernels whose operands are all scalars, where ``_uniform`` and ``_scalar_operands`` are true (the
    loops for an operand varying within a block are left out)."""
    uniform = uniform and any(isinstance(n, ast.Name) and n.id in ("_uniform", "_scalar_operands")
                              for n in ast.walk(_function_ast(_BLOCKS[name])[0]))
    key = (name, uniform)
    fn = _block_loops.get(key)
    if fn is None:
        with _driver_lock:
            fn = _block_loops.get(key)
            if fn is None:
                # generated once per machine: the file name hashes this file's source
                module, _ = _import_module(f"block loop {name}{', uniform operands' if uniform else ''}",
                                           lambda: _block_source(name, uniform))
                fn = _block_loops[key] = getattr(module, name)
    return fn


def _block_source(name, uniform):
    """The module of the block loop ``name``: its flattened source, importing the names it uses."""
    source, free = _flatten(_BLOCKS[name], {"_uniform": True, "_scalar_operands": True} if uniform
                            else {"_scalar_operands": False})
    space = globals()
    missing = [n for n in free if n not in space]
    if missing:
        raise NameError(f"{name}: {', '.join(missing)} not defined in fastlr._numba")
    modules = [n for n in free if inspect.ismodule(space[n])]
    return _BLOCK_HEADER.format(
        name=name, modules="".join(f"import {space[n].__name__} as {n}\n" for n in modules),
        names="".join(f", {n}" for n in free if n not in modules)) + source + "\n"


def _driver_key(opcodes) -> tuple:
    """The opcode set a program's kernels are generated for: a single family alone or with every
    combinator (when it uses any), or, for composites of several families, every family and combinator
    (one shared set, so that arbitrary mixes compile once per machine rather than once per mix)."""
    ops = {int(op) for op in opcodes}
    families = sorted(op for op in ops if op in _FAMILIES)
    if len(families) > 1:
        return tuple(sorted(_FAMILIES)) + _COMBINATORS
    return tuple(families) + (_COMBINATORS if ops & set(_COMBINATORS) else ())


def _driver(opcodes):
    drv = _drivers.get(opcodes)
    if drv is None:
        with _driver_lock:
            drv = _drivers.get(opcodes)
            if drv is None:
                drv = _drivers[opcodes] = _Driver(opcodes)
    return drv


# --------------------------------------------------------------------------------------------------
# Python side: canonical argument types, threads, lock, compile report


def _ro(a):
    """A read-only view (programs are read-only; one type per argument means one compilation)."""
    if a.flags.writeable:
        a = a.view()
        a.flags.writeable = False
    return a


_EMPTY = {dt: _ro(np.zeros(0, dtype=dt)) for dt in (np.int32, np.int64, np.float32, np.float64)}
_NO_RBUF = np.zeros(0)  # the rbuf of the kernels that store no float32 (writable: rbuf's one type)
_KIND = {np.dtype(np.int32): _I32, np.dtype(np.int64): _I64, np.dtype(np.float32): _F32,
         np.dtype(np.float64): _F64}


class _Prepared:
    """What a program needs on every call, converted once: read-only canonical arrays and its driver."""

    __slots__ = ("code", "opdata", "opoff", "tables", "nreg", "res", "nops", "driver", "scalar_ok", "strides",
                 "direct")

    def __init__(self, program):
        self.code = _ro(np.ascontiguousarray(program.code, dtype=np.int64))
        self.opdata = _ro(np.ascontiguousarray(program.operand_data, dtype=np.float64))
        self.opoff = _ro(np.ascontiguousarray(program.operand_offset, dtype=np.int64))
        self.tables = _ro(np.ascontiguousarray(program.tables, dtype=np.float64))
        self.nreg = int(program.n_registers)
        self.res = int(program.result_register)
        self.nops = self.opoff.size
        self.scalar_ok = not program.has_array_operands
        # the last instruction writes the result register: a float64 output takes it directly
        self.direct = self.code.shape[0] > 0 and int(self.code[-1, 1]) == self.res
        self.strides = {}  # ndim -> zero operand strides (scalar operands)
        self.driver = _driver(_driver_key(self.code[:, 0]))

    def work(self, store, width=BLOCK):
        """The kernels' scratch: the registers then the operands, and the float32 kernel's result block
        (``serial``'s ``work`` and ``rbuf``; the other kernels get an empty ``rbuf``, unused). Allocated
        here, so that the kernels compile no allocation (numba's ``np.empty`` costs 0.15 s of compile
        time)."""
        return (np.empty((self.nreg + max(self.nops, 1), width)),
                np.empty(width) if store == _ROUND32 else _NO_RBUF)


def _prepared(program) -> _Prepared:
    # a Program is a frozen dataclass: the conversion rides on its instance dict, and dies with it
    prep = program.__dict__.get("_numba_prepared")
    if prep is None:
        prep = _Prepared(program)
        program.__dict__["_numba_prepared"] = prep
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


_lock = threading.Lock()


def _reinit_lock():
    global _lock
    _lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reinit_lock)

_num_threads = None
_report: dict = {}


def _threads():
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


_compile_lock = threading.RLock()


_SCALAR_VARIANT = (None, False, False, _DIRECT)
_STORE_NAMES = {_DIRECT: "", _COPY: ", copied out", _ROUND32: ", float32 out"}


def _kernel_name(variant):
    kind, arrays, flat, store = variant
    if kind is None:
        return "scalar"
    return (f"serial[{_KIND_NAMES[kind]}{', arrays' if arrays else ''}{', 1-D' if flat else ''}"
            f"{_STORE_NAMES[store]}]")


def _timed(driver, variant, *args):
    """Call the kernel of ``driver`` for ``variant`` (see ``_kernel_source``); its first call in this
    process (generating and importing its module, compiling or loading it, running) is timed for the
    report."""
    name = _kernel_name(variant)
    if name in driver.timed:
        return driver.kernel(variant)(*args)
    with _compile_lock:
        t0 = time.perf_counter()
        kernel = driver.kernel(variant)
        result = kernel(*args)
        seconds = time.perf_counter() - t0
        if name in driver.timed:
            return result
        stats = kernel.stats
        entry = _report.setdefault(driver.name, {"kernels": {}})
        entry["kernels"][name] = {
            "first_call_seconds": seconds,
            "from_cache": bool(sum(stats.cache_hits.values())) and not sum(stats.cache_misses.values()),
            "module": driver.paths[variant],
        }
        entry["first_call_seconds"] = sum(k["first_call_seconds"] for k in entry["kernels"].values())
        entry["from_cache"] = all(k["from_cache"] for k in entry["kernels"].values())
        driver.timed.add(name)
    return result


def compile_report() -> dict:
    """First-call time of each compiled kernel in this process and whether numba's cache served it.

    ``families``: one entry per opcode set used (a single family, e.g. ``"WarmupCosine"``, the same with
    ``"+combinators"``, and one shared by every mix of families), with ``kernels`` (``serial[int64]`` and
    the like per step kind, ``scalar``: each compiled on its first use only, with its first-call seconds,
    module generation and running included, ``from_cache`` and ``module``, the generated file), their
    total ``first_call_seconds`` and ``from_cache`` (every kernel came from the cache).
    """
    with _compile_lock:
        families = {name: dict(entry, kernels={k: dict(v) for k, v in entry["kernels"].items()})
                    for name, entry in _report.items()}
    paths = [path for drv in list(_drivers.values()) for path in list(drv.paths.values())]
    return {"families": families, "cache_dir": os.path.dirname(paths[0]) if paths else None}


def evaluate(program, steps, step_strides, start, out, shape, operand_strides) -> None:
    """Run ``program`` on the steps (or ``start + sum_d i_d * step_strides[d]`` if ``steps is None``)."""
    prep = _prepared(program)
    shape_a = _ro(np.array(shape, dtype=np.int64).reshape(-1))
    total = 1
    for extent in shape_a.tolist():
        total *= extent
    if total == 0:
        return
    if steps is None:
        kind = _ITOA
        sbase = 0
        sstr = _ro(np.ascontiguousarray(step_strides, dtype=np.int64))
        sbuf = _EMPTY[np.float64]
    else:
        flat, sbase, sstr = prepare_steps(steps, step_strides)
        kind = _KIND[flat.dtype]
        # one type per step kind: 1-D, C-contiguous (flat is), read-only and aligned
        sbuf = _ro(flat if flat.flags.aligned else flat.copy())
    flat_out = out.reshape(-1)
    if flat_out.dtype != np.float64:
        store = _ROUND32
    else:
        store = _DIRECT if prep.direct else _COPY
    opstr = operand_strides
    if not (isinstance(opstr, np.ndarray) and opstr.dtype == np.int64 and opstr.ndim == 2
            and opstr.flags.c_contiguous and not opstr.flags.writeable):
        opstr = _ro(np.ascontiguousarray(np.asarray(opstr, dtype=np.int64).reshape(prep.nops, shape_a.size)))
    args = (prep.code, prep.opdata, prep.opoff, opstr, prep.tables, prep.nreg, prep.res, shape_a,
            sbuf, int(sbase), sstr, float(start), flat_out)
    drv = prep.driver
    nthreads = _threads()
    # no array operands: a kernel without the operand gather; 1-D: plain loads, no multi-index
    variant = (kind, not prep.scalar_ok, shape_a.size == 1, store)
    if total < PARALLEL_THRESHOLD or nthreads == 1:
        _timed(drv, variant, *args, 0, total, *prep.work(store))
        return
    # a few chunks per thread, each a whole number of blocks: every element is computed by the same
    # code whatever the split, so the result is bit-identical for any thread count
    chunk = max(BLOCK, -(-total // (4 * nthreads * BLOCK)) * BLOCK)
    if _kernel_name(variant) not in drv.timed:
        # compile (or load) before fanning out
        _timed(drv, variant, *args, 0, min(chunk, total), *prep.work(store))
    bounds = [(lo, min(lo + chunk, total)) for lo in range(0, total, chunk)]
    kernel = drv.kernel(variant)
    taken = [0]
    take_lock = threading.Lock()

    def drain():
        # the caller and the workers take chunks from one counter: a worker that wakes late (a
        # sleeping thread can take milliseconds to run) finds the work done, so a call is never
        # slower than running it on the calling thread alone, plus one chunk
        work = prep.work(store)
        while True:
            with take_lock:
                index = taken[0]
                taken[0] += 1
            if index >= len(bounds):
                return
            kernel(*args, *bounds[index], *work)

    with _lock:  # one parallel launch at a time: at most nthreads threads busy
        futures = [_pool(nthreads - 1).submit(drain) for _ in range(nthreads - 1)]
        try:
            drain()
        finally:
            for f in futures:
                f.result()


_pool_state = [None, None, 0]  # (pid, executor, workers)


def _pool(nthreads):
    """The worker threads of this process (threads do not survive fork: a child makes its own)."""
    pid, executor, workers = _pool_state
    if executor is None or pid != os.getpid() or workers != nthreads:
        if executor is not None and pid == os.getpid():
            executor.shutdown(wait=False)
        executor = concurrent.futures.ThreadPoolExecutor(max_workers=nthreads, thread_name_prefix="fastlr-numba")
        _pool_state[:] = [os.getpid(), executor, nthreads]
    return executor


def scalar(program, t: float) -> float:
    """The value at one step of a program without array operands."""
    prep = _prepared(program)
    if not prep.scalar_ok:
        out = np.empty(1)
        evaluate(program, np.array([float(t)]), np.zeros(1, dtype=np.int64), 0.0, out, (1,),
                 np.zeros((prep.nops, 1), dtype=np.int64))
        return float(out[0])
    drv = prep.driver
    if "scalar" in drv.timed:
        return drv.kernel(_SCALAR_VARIANT)(prep.code, prep.opdata, prep.opoff, prep.tables, prep.nreg, prep.res,
                                           float(t))
    return _timed(drv, _SCALAR_VARIANT, prep.code, prep.opdata, prep.opoff, prep.tables, prep.nreg, prep.res,
                  float(t))
