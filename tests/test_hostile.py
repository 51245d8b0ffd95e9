"""Hostile inputs, table-driven: every parameter of every family and composite, every argument of
``__call__`` and ``curve``. Each case must raise TypeError or ValueError whose message names the
parameter, in every backend, and leave ``out`` (filled with a sentinel) and the steps unchanged.

The table runs in a subprocess per backend, so that a crash (segfault, abort under a sanitizer) fails
tests instead of killing the run: the child prints one JSON line per case as it finishes; pytest reports
one test per (backend, case). If the child dies, the cases it did not report are re-run one by one in
their own subprocesses, so the crashing case is named.

Library bugs found by this table are listed in ``KNOWN_BUGS`` (strict xfail: fixing the library makes
them XPASS, which fails, so the entry gets removed).
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import fastlr

SENTINEL = -12345.5
TIMEOUT_S = 600

# ==================================================================================================
# the table


class Case:
    def __init__(self, id, names, expect, make, all_names=False):
        self.id = id
        self.names = names  # the message must name one of these (all of them if all_names)
        self.expect = expect  # tuple of acceptable exception types
        self.make = make  # () -> (callable, [arrays that must stay unchanged])
        self.all_names = all_names


T, V = TypeError, ValueError
TV = (TypeError, ValueError)

_NUMERIC_COMMON = [
    ("str", "0.1", T), ("none", None, T), ("complex", 1 + 2j, T), ("complex-array", np.array([1 + 1j]), T),
    ("object-array", np.array([1.0, "a"], dtype=object), T), ("bool", True, T), ("np-bool", np.bool_(True), T),
    ("bool-array", np.array([True, False]), T), ("bytes", b"1", T), ("dict", {}, T),
    ("ragged", [[1.0], [1.0, 2.0]], TV), ("datetime", np.datetime64("2020-01-01"), T),
    ("nan", math.nan, V), ("nan-array", np.array([0.5, math.nan]), V), ("inf", math.inf, V),
    ("-inf", -math.inf, V), ("huge-int", 10**400, TV), ("inf-array", np.array([0.5, np.inf]), V),
]

_KIND_BAD = {
    "lr": [("negative", -0.1, V), ("negative-array", np.array([0.1, -0.1]), V)],
    "pos": [("zero", 0, V), ("negative", -1, V), ("zero-array", np.array([1.0, 0.0]), V)],
    "nonneg": [("negative", -1, V), ("negative-array", np.array([1.0, -1.0]), V)],
    "factor": [("zero", 0, V), ("negative", -0.5, V), ("above-one", 1.5, V), ("huge", 1e300, V)],
    # a growth factor: any finite value > 0
    "growth": [("zero", 0, V), ("negative", -0.5, V), ("zero-array", np.array([1.5, 0.0]), V)],
    "mult": [("below-one", 0.5, V), ("zero", 0, V), ("negative", -2, V)],
    "limit": [("zero", 0, V), ("fraction", 1.5, V), ("negative", -1, V)],
    "pct": [("negative", -0.1, V), ("above", 1.1, V), ("huge", 1e300, V)],
    "free": [],
    "optional-nonneg": [("negative", -1, V)],
    "cap": [("negative", -1, V)],  # an optional bound: None or inf means none
}

_FLAG_BAD = [("str", "yes", T), ("int", 1, T), ("none", None, T), ("float", 1.0, T), ("array", np.array([True]), T)]
_CHOICE_BAD = [("unknown", "bogus", V), ("int", 1, T), ("none", None, T), ("bytes", b"x", T), ("empty", "", V)]
_SEQ_BAD = [
    ("str", "abc", T), ("none", None, T), ("scalar", 5, T), ("nan", [10, math.nan], V), ("inf", [10, math.inf], V),
    ("unsorted", [20, 10], V), ("negative", [-1, 10], V), ("2d", [[10, 20]], V), ("complex", [1j, 20], T),
    ("mixed", [10, "a"], T), ("bool", [True, False], T), ("huge-int", [10, 10**400], TV),
    ("object-array", np.array([10, None], dtype=object), T),
]
_VALUES_BAD = [
    ("str", "abc", T), ("none", None, T), ("scalar", 0.5, T), ("nan", [1.0, math.nan, 0.1], V),
    ("inf", [1.0, math.inf, 0.1], V), ("negative", [1.0, -0.5, 0.1], V), ("length", [1.0], V),
    ("complex", [1j, 0.5, 0.1], T), ("mixed", [1.0, "a", 0.1], T), ("bool", [True, False, True], T),
]


def _const(lr=1.0):
    return fastlr.Constant(lr)


_SCHED_BAD = [("str", "abc", T), ("none", None, T), ("number", 0.1, T), ("class", fastlr.Constant, T),
              ("dict", {"type": "Constant", "lr": 1.0}, T), ("array", np.array([1.0]), T)]

# name -> (constructor, valid kwargs, {parameter: kind})
FAMILY_SPECS = {
    "Constant": (fastlr.Constant, dict(lr=0.1), {"lr": "lr"}),
    "Linear": (fastlr.Linear, dict(start_lr=1.0, end_lr=0.1, total_steps=100),
               {"start_lr": "lr", "end_lr": "lr", "total_steps": "pos"}),
    "StepDecay": (fastlr.StepDecay, dict(lr=1.0, step_size=10, gamma=0.5),
                  {"lr": "lr", "step_size": "pos", "gamma": "factor"}),
    "MultiStep": (fastlr.MultiStep, dict(lr=1.0, milestones=[10, 20], gamma=0.5),
                  {"lr": "lr", "milestones": "seq", "gamma": "factor"}),
    "Exponential": (fastlr.Exponential, dict(lr=1.0, gamma=0.9, step_size=2, staircase=False, min_lr=0.01,
                                             max_lr=100.0),
                    {"lr": "lr", "gamma": "growth", "step_size": "pos", "staircase": "flag", "min_lr": "lr",
                     "max_lr": "cap"}),
    "InverseTime": (fastlr.InverseTime, dict(lr=1.0, decay_rate=0.5, decay_steps=10, staircase=False),
                    {"lr": "lr", "decay_rate": "nonneg", "decay_steps": "pos", "staircase": "flag"}),
    "Polynomial": (fastlr.Polynomial, dict(start_lr=1.0, end_lr=0.1, total_steps=100, power=2.0),
                   {"start_lr": "lr", "end_lr": "lr", "total_steps": "pos", "power": "pos"}),
    "Cosine": (fastlr.Cosine, dict(peak_lr=1.0, total_steps=100, min_lr=0.1),
               {"peak_lr": "lr", "total_steps": "pos", "min_lr": "lr"}),
    "CosineRestarts": (fastlr.CosineRestarts,
                       dict(peak_lr=1.0, cycle_steps=10, min_lr=0.1, cycle_mult=2.0, cycle_decay=0.5, cycle_limit=3),
                       {"peak_lr": "lr", "cycle_steps": "pos", "min_lr": "lr", "cycle_mult": "mult",
                        "cycle_decay": "factor", "cycle_limit": "limit"}),
    "WarmupCosine": (fastlr.WarmupCosine, dict(peak_lr=1.0, total_steps=100, warmup_steps=10, min_lr=0.1, init_lr=0.01),
                     {"peak_lr": "lr", "total_steps": "pos", "warmup_steps": "nonneg", "min_lr": "lr",
                      "init_lr": "lr"}),
    "WarmupStableDecay": (fastlr.WarmupStableDecay,
                          dict(peak_lr=1.0, total_steps=100, warmup_steps=10, decay_steps=20, min_lr=0.1,
                               init_lr=0.01, decay_shape="cosine"),
                          {"peak_lr": "lr", "total_steps": "pos", "warmup_steps": "nonneg",
                           "decay_steps": "nonneg", "min_lr": "lr", "init_lr": "lr", "decay_shape": "choice"}),
    "OneCycle": (fastlr.OneCycle, dict(max_lr=1.0, total_steps=100, pct_start=0.3, div_factor=25.0,
                                       final_div_factor=1e4, anneal="cos", three_phase=False),
                 {"max_lr": "lr", "total_steps": "pos", "pct_start": "pct", "div_factor": "pos",
                  "final_div_factor": "pos", "anneal": "choice", "three_phase": "flag"}),
    "Cyclic": (fastlr.Cyclic, dict(base_lr=0.1, max_lr=1.0, step_size_up=10, step_size_down=20,
                                   mode="exp_range", gamma=0.99),
               {"base_lr": "lr", "max_lr": "lr", "step_size_up": "pos", "step_size_down": "optional-nonneg",
                "mode": "choice", "gamma": "factor"}),
    "InverseSqrt": (fastlr.InverseSqrt, dict(peak_lr=1.0, warmup_steps=10, init_lr=0.01),
                    {"peak_lr": "lr", "warmup_steps": "nonneg", "init_lr": "lr"}),
    "InverseSqrt.noam": (fastlr.InverseSqrt.noam, dict(d_model=512, warmup_steps=4000, scale=1.0),
                         {"d_model": "pos", "warmup_steps": "pos", "scale": "lr"}),
    "Tanh": (fastlr.Tanh, dict(peak_lr=1.0, total_steps=100, min_lr=0.1, lower=-7.0, upper=3.0),
             {"peak_lr": "lr", "total_steps": "pos", "min_lr": "lr", "lower": "free", "upper": "free"}),
    "PiecewiseConstant": (fastlr.PiecewiseConstant, dict(boundaries=[10, 20], values=[1.0, 0.5, 0.1]),
                          {"boundaries": "seq", "values": "values"}),
    "PiecewiseLinear": (fastlr.PiecewiseLinear, dict(boundaries=[0, 10, 20], values=[1.0, 0.5, 0.1]),
                        {"boundaries": "seq", "values": "values"}),
    "with_warmup": (fastlr.with_warmup, dict(schedule=_const(), warmup_steps=10, init_lr=0.0),
                    {"schedule": "schedule", "warmup_steps": "nonneg", "init_lr": "lr"}),
    "Scaled": (fastlr.Scaled, dict(schedule=_const(), factor=0.5), {"schedule": "schedule", "factor": "lr"}),
    "join": (fastlr.join, dict(schedules=[_const(1.0), _const(0.5), _const(0.1)], boundaries=[10, 20]),
             {"schedules": "schedules", "boundaries": "seq"}),
    "Product": (fastlr.Product, dict(first=_const(1.0), second=_const(0.5)),
                {"first": "schedule", "second": "schedule"}),
}

# cross-parameter rules: (family, id, overrides, names that must all appear)
RELATIONS = [
    ("Exponential", "min_lr-above-lr", dict(lr=0.1, min_lr=0.2), ("min_lr",)),
    ("Exponential", "max_lr-below-lr", dict(lr=0.1, min_lr=0.0, max_lr=0.05), ("max_lr",)),
    ("Exponential", "growth-from-zero", dict(lr=0.0, min_lr=0.0, gamma=1.5), ("lr", "gamma")),
    ("WarmupCosine", "warmup-above-total", dict(warmup_steps=101), ("warmup_steps",)),
    ("WarmupStableDecay", "warmup+decay-above-total", dict(warmup_steps=60, decay_steps=50), ("decay_steps",)),
    ("Cyclic", "base-above-max", dict(base_lr=2.0), ("base_lr",)),
    ("Tanh", "lower-above-upper", dict(lower=3.0, upper=-7.0), ("lower",)),
    ("Tanh", "lower-equals-upper", dict(lower=1.0, upper=1.0), ("lower",)),
    ("OneCycle", "pct-above-half-three-phase", dict(pct_start=0.6, three_phase=True), ("pct_start",)),
    ("PiecewiseConstant", "values-length", dict(values=[1.0, 0.5]), ("values",)),
    ("PiecewiseLinear", "values-length", dict(values=[1.0, 0.5]), ("values",)),
    ("PiecewiseLinear", "empty", dict(boundaries=[], values=[]), ("boundaries",)),
    ("PiecewiseConstant", "empty-values", dict(boundaries=[], values=[]), ("values",)),
    ("join", "boundaries-length", dict(boundaries=[10]), ("boundaries",)),
    ("join", "schedules-empty", dict(schedules=[], boundaries=[]), ("schedules",)),
    ("join", "schedules-single-schedule", dict(schedules=_const(), boundaries=[]), ("schedules",)),
    ("join", "schedules-contains-none", dict(schedules=[_const(), None, _const()]), ("schedules",)),
    ("join", "schedules-contains-number", dict(schedules=[_const(), 0.5, _const()]), ("schedules",)),
    ("join", "schedules-incompatible-shapes",
     dict(schedules=[_const(np.full(2, 1.0)), _const(np.full(3, 1.0)), _const()]), ("schedules",)),
    ("Product", "incompatible-shapes", dict(first=_const(np.full(2, 1.0)), second=_const(np.full(3, 1.0))),
     ("first", "second")),
    ("Scaled", "incompatible-shapes", dict(schedule=_const(np.full(2, 1.0)), factor=np.full(3, 0.5)),
     ("schedule", "factor")),
    ("with_warmup", "incompatible-shapes", dict(schedule=_const(np.full(2, 1.0)), warmup_steps=np.full(3, 5.0)),
     ("schedule", "warmup_steps")),
]

_NUMERIC_KINDS = ("lr", "pos", "nonneg", "factor", "growth", "mult", "limit", "pct", "free", "optional-nonneg",
                  "cap")


def _ctor_case(family, case_id, overrides, names, expect, all_names=False):
    ctor, valid, _ = FAMILY_SPECS[family]

    def make():
        kwargs = dict(valid)
        kwargs.update(overrides)
        return (lambda: ctor(**kwargs)), []

    return Case(f"{family}.{case_id}", names, expect, make, all_names)


def _constructor_cases():
    cases = []
    for family, (ctor, valid, kinds) in FAMILY_SPECS.items():
        for param, kind in kinds.items():
            if kind in _NUMERIC_KINDS:
                bad = list(_NUMERIC_COMMON) + _KIND_BAD[kind]
                if kind in ("limit", "optional-nonneg", "cap"):
                    bad = [b for b in bad if b[0] != "none"]  # None is valid there
                if kind in ("limit", "cap"):
                    bad = [b for b in bad if b[0] not in ("inf", "inf-array")]  # inf means "no limit"
            elif kind == "flag":
                bad = _FLAG_BAD
            elif kind == "choice":
                bad = _CHOICE_BAD
            elif kind == "seq":
                bad = _SEQ_BAD
            elif kind == "values":
                bad = _VALUES_BAD
            elif kind == "schedule":
                bad = _SCHED_BAD
            elif kind == "schedules":
                bad = [("str", "abc", T), ("none", None, T), ("number", 1.0, T)]
            else:
                raise AssertionError(kind)
            for bad_id, value, expect in bad:
                cases.append(_ctor_case(family, f"{param}={bad_id}", {param: value}, (param,),
                                        expect if isinstance(expect, tuple) else (expect,)))
        # non-broadcastable array parameters: the message names both
        numeric = [p for p, k in kinds.items() if k in _NUMERIC_KINDS]
        for a, b in zip(numeric, numeric[1:]):
            overrides = {a: np.full(2, valid[a], dtype=float), b: np.full(3, valid[b], dtype=float)}
            cases.append(_ctor_case(family, f"{a}+{b}=non-broadcastable", overrides, (a, b), (V,),
                                    all_names=True))
    for family, case_id, overrides, names in RELATIONS:
        cases.append(_ctor_case(family, case_id, overrides, names, TV, all_names=True))
    return cases


# --------------------------------------------------------------------------------------------------
# __call__ and curve


def _schedule(kind):
    if kind == "scalar":
        return fastlr.WarmupCosine(peak_lr=1.0, total_steps=100, warmup_steps=10, min_lr=0.1)
    return fastlr.WarmupCosine(peak_lr=np.array([1.0, 0.5, 0.25]), total_steps=100, warmup_steps=10)


_T_BAD = [
    ("str", "10", T), ("none", None, T), ("complex", 1 + 2j, T), ("complex-array", np.array([1j, 2]), T),
    ("bool", True, T), ("np-bool", np.bool_(False), T), ("bool-array", np.array([True, False]), T),
    ("object-array", np.array([1, "a"], dtype=object), T), ("str-list", ["1", "2"], T), ("bytes", b"1", T),
    ("datetime-array", np.array(["2020-01-01"], dtype="datetime64[D]"), T), ("dict", {}, TV),
    ("negative-int", -1, V), ("negative-float", -0.5, V), ("nan", math.nan, V), ("inf", math.inf, V),
    ("-inf", -math.inf, V), ("huge-negative-int", -(10**400), TV), ("huge-int", 10**400, TV),
    ("negative-int64-array", np.array([0, 5, -1], dtype=np.int64), V),
    ("negative-int32-array", np.array([0, -5, 1], dtype=np.int32), V),
    ("nan-array-last", np.array([0.0, 1.0, math.nan]), V),
    ("inf-float32-array", np.array([0.0, np.inf], dtype=np.float32), V),
    ("nan-float16-array", np.array([np.nan], dtype=np.float16), V),
    ("negative-2d", np.array([[0.0, 1.0], [2.0, -3.0]]), V),
    ("negative-strided", np.array([1.0, 9.0, 2.0, 9.0, -2.0, 9.0])[::2], V),
    ("negative-reversed", np.array([-1.0, 2.0, 3.0])[::-1], V),
    ("negative-np-scalar", np.float64(-1.0), V), ("nan-np-scalar", np.float32(np.nan), V),
    ("negative-zero-d", np.array(-1), V), ("negative-list", [0, 1, -2], V), ("nan-list", [0.0, math.nan], V),
    ("ragged-list", [[1], [1, 2]], TV),
]


def _shape_of(t, param_shape):
    try:
        return np.broadcast_shapes(np.shape(np.asarray(t, dtype=object)) if isinstance(t, list) else np.shape(t),
                                   param_shape)
    except Exception:
        return None


def _call_cases():
    cases = []
    for sched_kind in ("scalar", "array"):
        for bad_id, value, expect in _T_BAD:
            for how in ("plain", "out", "dtype32"):
                def make(value=value, how=how, sched_kind=sched_kind):
                    s = _schedule(sched_kind)
                    if how == "plain":
                        return (lambda: s(value)), []
                    if how == "dtype32":
                        return (lambda: s(value, dtype=np.float32)), []
                    shape = _shape_of(value, s.param_shape)
                    out = np.full(shape if shape is not None else s.param_shape, SENTINEL)
                    return (lambda: s(value, out=out)), [out] + ([value] if isinstance(value, np.ndarray) else [])

                cases.append(Case(f"call[{sched_kind}].t={bad_id}.{how}", ("t", "steps"),
                                  expect if isinstance(expect, tuple) else (expect,), make))

        def make_nb(sched_kind=sched_kind):
            s = _schedule("array")
            t = np.arange(2.0)
            out = np.full((2, 3), SENTINEL)
            return (lambda: s(t, out=out)), [out, t]

        if sched_kind == "array":
            def make_nb_plain():
                s = _schedule("array")
                return (lambda: s(np.arange(2.0))), []

            cases.append(Case("call[array].t=non-broadcastable", ("t", "steps"), (V,), make_nb_plain))
            cases.append(Case("call[array].t=non-broadcastable.out", ("t", "steps", "out"), (V,), make_nb))

        # out
        steps = {"scalar": (5,), "array": (5, 1)}[sched_kind]
        result = {"scalar": (5,), "array": (5, 3)}[sched_kind]
        outs = [
            ("wrong-shape", lambda: np.full((4,) + result[1:], SENTINEL), V),
            ("extra-dim", lambda: np.full(result + (1,), SENTINEL), V),
            ("zero-d", lambda: np.full((), SENTINEL), V),
            ("int64", lambda: np.full(result, -12345, dtype=np.int64), T),
            ("float16", lambda: np.full(result, SENTINEL, dtype=np.float16), T),
            ("complex128", lambda: np.full(result, SENTINEL, dtype=np.complex128), T),
            ("object", lambda: np.full(result, SENTINEL, dtype=object), T),
            ("read-only", lambda: _readonly(np.full(result, SENTINEL)), V),
            ("non-contiguous", lambda: np.full((result[0] * 2,) + result[1:], SENTINEL)[::2], V),
            ("fortran", lambda: np.asfortranarray(np.full(result, SENTINEL)) if len(result) > 1
             else np.full(result[0] * 3, SENTINEL)[::3], V),
            ("list", lambda: [SENTINEL] * result[0], T),
            ("tuple", lambda: (SENTINEL,) * result[0], T),
            ("str", lambda: "out", T),
            ("number", lambda: 1.0, T),
            ("readonly-memoryview", lambda: memoryview(_readonly(np.full(result, SENTINEL))), TV),
        ]
        for out_id, make_out, expect in outs:
            for route in ("call", "curve"):
                def make(make_out=make_out, route=route, sched_kind=sched_kind, steps=steps):
                    s = _schedule(sched_kind)
                    out = make_out()
                    keep = [out] if isinstance(out, np.ndarray) else []
                    if isinstance(out, memoryview):
                        keep = [np.asarray(out)]
                    if route == "call":
                        t = np.arange(5.0).reshape(steps)
                        return (lambda: s(t, out=out)), keep + [t]
                    return (lambda: s.curve(5, out=out)), keep

                cases.append(Case(f"{route}[{sched_kind}].out={out_id}", ("out",),
                                  expect if isinstance(expect, tuple) else (expect,), make))

        # overlap of out and the steps
        def overlap_same(sched_kind=sched_kind):
            s = _schedule("scalar")
            buf = np.arange(5.0)
            return (lambda: s(buf, out=buf)), [buf]

        def overlap_view(sched_kind=sched_kind):
            s = _schedule("scalar")
            buf = np.arange(10.0)
            return (lambda: s(buf[:5], out=buf[3:8])), [buf]

        def overlap_reversed(sched_kind=sched_kind):
            s = _schedule("scalar")
            buf = np.arange(5.0)
            return (lambda: s(buf[::-1], out=buf)), [buf]

        if sched_kind == "scalar":
            cases += [Case("call.out=overlaps-steps", ("out",), (V,), overlap_same),
                      Case("call.out=overlaps-steps-view", ("out",), (V,), overlap_view),
                      Case("call.out=overlaps-reversed-steps", ("out",), (V,), overlap_reversed)]

        # dtype
        dtypes = [("float16", np.float16, T), ("int64", np.int64, T), ("complex", complex, T),
                  ("bogus-str", "bogus", T), ("object", object, T), ("bool", bool, T), ("number", 3, T)]
        for dtype_id, dtype, expect in dtypes:
            for route in ("call", "curve"):
                def make(dtype=dtype, route=route, sched_kind=sched_kind, steps=steps):
                    s = _schedule(sched_kind)
                    if route == "call":
                        t = np.arange(5.0).reshape(steps)
                        return (lambda: s(t, dtype=dtype)), [t]
                    return (lambda: s.curve(5, dtype=dtype)), []

                cases.append(Case(f"{route}[{sched_kind}].dtype={dtype_id}", ("dtype",), (expect,), make))

        def mismatch(sched_kind=sched_kind, steps=steps, result=result):
            s = _schedule(sched_kind)
            out = np.full(result, SENTINEL)
            t = np.arange(5.0).reshape(steps)
            return (lambda: s(t, out=out, dtype=np.float32)), [out, t]

        cases.append(Case(f"call[{sched_kind}].dtype=mismatches-out", ("dtype",), (T, V), mismatch))

        # curve arguments
        n_bad = [("str", "10", T), ("float", 10.0, T), ("negative", -1, V), ("np-negative", np.int64(-1), V),
                 ("bool", True, T), ("complex", 1j, T), ("nan", math.nan, T), ("array", np.array([5]), T),
                 ("list", [5], T)]
        for n_id, n, expect in n_bad:
            def make(n=n, sched_kind=sched_kind):
                s = _schedule(sched_kind)
                return (lambda: s.curve(n)), []

            cases.append(Case(f"curve[{sched_kind}].n={n_id}", ("n",), (expect,), make))
        start_bad = [("negative", -1, V), ("nan", math.nan, V), ("inf", math.inf, V), ("str", "1", T),
                     ("complex", 1j, T), ("bool", True, T), ("none", None, T), ("huge-int", 10**400, V),
                     ("array", np.array([1.0, 2.0]), T), ("negative-np", np.float64(-2.0), V)]
        for start_id, start, expect in start_bad:
            def make(start=start, sched_kind=sched_kind, result=result):
                s = _schedule(sched_kind)
                out = np.full(result, SENTINEL)
                return (lambda: s.curve(5, start=start, out=out)), [out]

            cases.append(Case(f"curve[{sched_kind}].start={start_id}", ("start",), (expect,), make))

    def no_horizon():
        s = fastlr.StepDecay(lr=1.0, step_size=10)
        return (lambda: s.curve()), []

    cases.append(Case("curve.n=missing-without-horizon", ("n",), (T, V), no_horizon))
    return cases


def _readonly(a):
    a.flags.writeable = False
    return a


def all_cases():
    return _constructor_cases() + _call_cases()


# ==================================================================================================
# running a case (in the child)


def _names_in(message, names):
    return [n for n in names if re.search(rf"(?<![A-Za-z0-9_]){re.escape(n)}(?![A-Za-z0-9_])", message)]


def run_case(case):
    """Run one case; returns {"ok": bool, "detail": str}."""
    try:
        call, keep = case.make()
    except Exception as error:  # the setup itself must not fail
        return {"ok": False, "detail": f"setup raised {type(error).__name__}: {error}"}
    snapshots = [np.array(a, copy=True) for a in keep]
    try:
        result = call()
    except BaseException as error:  # noqa: B902 - we report whatever it is
        kind = type(error)
        message = str(error)
        if not isinstance(error, case.expect):
            return {"ok": False, "detail": f"raised {kind.__name__}, expected "
                                           f"{'/'.join(e.__name__ for e in case.expect)}: {message}"}
        found = _names_in(message, case.names)
        if (case.all_names and len(found) != len(case.names)) or not found:
            return {"ok": False, "detail": f"{kind.__name__} message does not name "
                                           f"{' and '.join(case.names) if case.all_names else ' or '.join(case.names)}: "
                                           f"{message!r}"}
        for before, after in zip(snapshots, keep):
            same = np.array_equal(before, np.asarray(after), equal_nan=before.dtype.kind in "fc")
            if not same:
                return {"ok": False, "detail": f"{kind.__name__} raised as expected ({message!r}), but an array "
                                               f"was modified: {before.ravel()[:6]} -> {np.asarray(after).ravel()[:6]}"}
        return {"ok": True, "detail": f"{kind.__name__}: {message}"}
    return {"ok": False, "detail": f"no error; returned {type(result).__name__} {str(result)[:120]}"}


def child_main(backend, only=None):
    """Entry point of the child process: run the table (or one case) with ``backend``; one JSON line each."""
    import warnings

    warnings.simplefilter("ignore")
    fastlr.set_backend(backend)
    # load the backend before the table, so that a broken backend is not blamed on the first case
    fastlr.Constant(1.0)(np.arange(3))
    for case in all_cases():
        if only is not None and case.id != only:
            continue
        outcome = run_case(case)
        outcome["id"] = case.id
        sys.stdout.write("HOSTILE-RESULT " + json.dumps(outcome) + "\n")
        sys.stdout.flush()
    sys.stdout.write("HOSTILE-DONE\n")
    sys.stdout.flush()


# ==================================================================================================
# the pytest side


_HERE = Path(__file__).resolve().parent
_PACKAGE_ROOT = Path(fastlr.__file__).resolve().parent.parent


def _spawn(backend, only=None, timeout=TIMEOUT_S):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(_PACKAGE_ROOT), str(_HERE)] +
                                        ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    code = (f"import test_hostile as h; h.child_main({backend!r}, {only!r})")
    try:
        proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                              timeout=timeout, cwd=str(_HERE))
        returncode, stdout, stderr = proc.returncode, proc.stdout, proc.stderr
    except subprocess.TimeoutExpired as error:
        returncode = "timeout"
        stdout = error.stdout.decode() if isinstance(error.stdout, bytes) else (error.stdout or "")
        stderr = error.stderr.decode() if isinstance(error.stderr, bytes) else (error.stderr or "")
    results = {}
    for line in stdout.splitlines():
        if line.startswith("HOSTILE-RESULT "):
            record = json.loads(line[len("HOSTILE-RESULT "):])
            results[record["id"]] = record
    done = "HOSTILE-DONE" in stdout
    return {"returncode": returncode, "done": done, "results": results, "stderr": stderr[-3000:]}


_RUNS: dict = {}


def _table_run(backend):
    if backend not in _RUNS:
        _RUNS[backend] = _spawn(backend)
    return _RUNS[backend]


CASES = all_cases()
CASE_IDS = [c.id for c in CASES]
assert len(set(CASE_IDS)) == len(CASE_IDS), "duplicate hostile case ids"

#: (backend or "*", case id) -> reason. Library bugs: strict xfail until fixed.
KNOWN_BUGS: dict = {}

assert all(case_id in CASE_IDS for _, case_id in KNOWN_BUGS), "stale KNOWN_BUGS entry"


def test_writable_memoryview_out_is_accepted(request, backend):
    """API section 3: out may be a memoryview (any array numpy can view without copying)."""
    s = fastlr.Cosine(peak_lr=1.0, total_steps=10)
    buf = np.full(5, SENTINEL)
    s(np.arange(5), out=memoryview(buf))
    assert np.array_equal(buf, s(np.arange(5)))


def _bug_for(backend, case_id):
    return KNOWN_BUGS.get((backend, case_id)) or KNOWN_BUGS.get(("*", case_id))


@pytest.mark.parametrize("case_id", CASE_IDS)
def test_hostile(request, backend, case_id):
    reason = _bug_for(backend, case_id)
    if reason:
        request.applymarker(pytest.mark.xfail(strict=True, reason=reason))
    run = _table_run(backend)
    record = run["results"].get(case_id)
    if record is None:
        # the child died (or hung) before this case: run it alone to see whether it is the culprit
        alone = _spawn(backend, only=case_id, timeout=120)
        record = alone["results"].get(case_id)
        if record is None or alone["returncode"] != 0:
            pytest.fail(f"[{backend}] {case_id}: the child process died running this case "
                        f"(exit status {alone['returncode']}); stderr tail:\n{alone['stderr']}")
        # it passes alone: report the table's crash once on this case and go on with its own result
    assert record["ok"], f"[{backend}] {case_id}: {record['detail']}"


def test_hostile_table_child_exits_cleanly(backend):
    """The child process that runs the whole table exits normally (no crash, no hang)."""
    run = _table_run(backend)
    assert run["returncode"] == 0 and run["done"], (
        f"[{backend}] hostile table child: exit status {run['returncode']}, finished={run['done']}, "
        f"{len(run['results'])} of {len(CASE_IDS)} cases reported; stderr tail:\n{run['stderr']}")
