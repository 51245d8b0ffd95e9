"""The facade: value semantics, validation errors, the backend registry, lazy imports."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys

import numpy as np
import pytest

import fastlr

EXAMPLES = [
    fastlr.Constant(0.1),
    fastlr.Linear(1.0, 0.0, 100),
    fastlr.StepDecay(0.1, step_size=30, gamma=0.5),
    fastlr.Cosine(peak_lr=np.array([1.0, 0.5]), total_steps=100, min_lr=0.01),
    fastlr.WarmupCosine(peak_lr=3e-4, total_steps=100_000, warmup_steps=2_000, min_lr=3e-5),
    fastlr.MultiStep(0.1, [30, 60, 90]),
    fastlr.CosineRestarts(1.0, 10, cycle_mult=2, cycle_limit=3),
    fastlr.WarmupStableDecay(1.0, 100, 10, 20, decay_shape="1-sqrt"),
    fastlr.OneCycle(1.0, 100, three_phase=True, anneal="linear"),
    fastlr.Cyclic(0.1, 1.0, 5, mode="exp_range", gamma=0.99),
    fastlr.InverseSqrt.noam(512, 4000),
    fastlr.PiecewiseLinear([0, 10, 20], [0.0, 1.0, 0.5]),
    fastlr.join([fastlr.Linear(0.0, 1.0, 10), fastlr.Cosine(1.0, 90)], [10]),
    fastlr.with_warmup(fastlr.Cosine(1.0, 90), 10) * np.array([1.0, 0.8, 0.64]),
    fastlr.Cosine(1.0, 10) * fastlr.Linear(1.0, 0.5, 10),
]


@pytest.mark.parametrize("schedule", EXAMPLES, ids=lambda s: type(s).__name__)
def test_round_trips(schedule):
    again = fastlr.from_dict(json.loads(json.dumps(schedule.to_dict())))
    assert again == schedule
    assert pickle.loads(pickle.dumps(schedule)) == schedule
    assert hash(again) == hash(schedule)
    assert repr(again) == repr(schedule)
    t = np.arange(0, 200, 7).reshape((-1,) + (1,) * len(schedule.param_shape))
    np.testing.assert_array_equal(again(t), schedule(t))


def test_repr_and_equality():
    s = fastlr.WarmupCosine(peak_lr=3e-4, total_steps=100_000, warmup_steps=2_000, min_lr=3e-5)
    assert repr(s) == "WarmupCosine(peak_lr=0.0003, total_steps=100000, warmup_steps=2000, min_lr=3e-05, init_lr=0)"
    assert s == fastlr.WarmupCosine(3e-4, 100_000, 2_000, 3e-5, 0.0)
    assert s != fastlr.WarmupCosine(3e-4, 100_000, 2_001, 3e-5, 0.0)
    assert s != fastlr.Cosine(3e-4, 100_000)
    assert s.peak_lr == 3e-4 and s.params["warmup_steps"] == 2000


def test_schedules_are_immutable():
    s = fastlr.Cosine(np.array([1.0, 2.0]), 10)
    with pytest.raises(AttributeError):
        s.peak_lr = 3.0
    with pytest.raises(ValueError):
        s.peak_lr[0] = 5.0
    peak = np.array([1.0, 2.0])
    s = fastlr.Cosine(peak, 10)
    peak[0] = 100.0  # the schedule owns a copy
    assert s(0)[0] == 1.0


def test_scalar_call_returns_numpy_scalars():
    s = fastlr.Cosine(1.0, 10)
    assert isinstance(s(3), np.float64)
    assert isinstance(s(3.5), np.float64)
    assert isinstance(s(np.int64(3)), np.float64)
    assert isinstance(s(np.array(3)), np.float64)
    assert isinstance(s(3, dtype=np.float32), np.float32)


def test_curve_default_length_and_layout():
    s = fastlr.WarmupCosine(np.array([1.0, 0.5, 0.25]), total_steps=50, warmup_steps=5)
    table = s.curve()
    assert table.shape == (50, 3)
    np.testing.assert_array_equal(table[7], s(7))
    with pytest.raises(TypeError, match="horizon"):
        fastlr.StepDecay(1.0, 10).curve()
    assert fastlr.StepDecay(1.0, 10).curve(5).shape == (5,)
    assert fastlr.join([fastlr.Constant(1.0), fastlr.Cosine(1.0, 90)], [10]).horizon == 100
    assert fastlr.CosineRestarts(1.0, 10, cycle_mult=2, cycle_limit=3).horizon == 70


# ------------------------------------------------------------------ validation (API sections 1 and 3)

BAD_SPECS = [
    (lambda: fastlr.Linear(1.0, 0.0, 0), ValueError, "total_steps"),
    (lambda: fastlr.Cosine(1.0, -5), ValueError, "total_steps"),
    (lambda: fastlr.WarmupCosine(1.0, 100, 200), ValueError, "warmup_steps"),
    (lambda: fastlr.WarmupCosine(-1.0, 100, 10), ValueError, "peak_lr"),
    (lambda: fastlr.WarmupCosine(float("nan"), 100, 10), ValueError, "peak_lr"),
    (lambda: fastlr.WarmupCosine(1.0, float("inf"), 10), ValueError, "total_steps"),
    (lambda: fastlr.WarmupCosine("1e-3", 100, 10), TypeError, "peak_lr"),
    (lambda: fastlr.WarmupCosine(None, 100, 10), TypeError, "peak_lr"),
    (lambda: fastlr.WarmupCosine(True, 100, 10), TypeError, "peak_lr"),
    (lambda: fastlr.WarmupCosine(1j, 100, 10), TypeError, "peak_lr"),
    (lambda: fastlr.WarmupCosine(np.array([1.0, 2.0]), np.array([10, 20, 30]), 5), ValueError, "broadcast"),
    (lambda: fastlr.WarmupCosine(1.0, np.array([100, 5]), 10), ValueError, r"warmup_steps.*total_steps\[1\]"),
    (lambda: fastlr.StepDecay(1.0, 10, gamma=0.0), ValueError, "gamma"),
    (lambda: fastlr.StepDecay(1.0, 0, gamma=0.5), ValueError, "step_size"),
    (lambda: fastlr.MultiStep(1.0, [30, 10]), ValueError, "milestones"),
    (lambda: fastlr.PiecewiseConstant([10, 20], [1.0, 0.5]), ValueError, "values"),
    (lambda: fastlr.PiecewiseConstant([20, 10], [1.0, 0.5, 0.1]), ValueError, "boundaries"),
    (lambda: fastlr.WarmupStableDecay(1.0, 100, 10, 20, decay_shape="exp"), ValueError, "decay_shape"),
    (lambda: fastlr.WarmupStableDecay(1.0, 100, 60, 50), ValueError, "decay_steps"),
    (lambda: fastlr.OneCycle(1.0, 100, anneal="cosine"), ValueError, "anneal"),
    (lambda: fastlr.OneCycle(1.0, 100, pct_start=1.5), ValueError, "pct_start"),
    (lambda: fastlr.Cyclic(0.1, 1.0, 5, mode="triangle"), ValueError, "mode"),
    (lambda: fastlr.Cyclic(1.0, 0.1, 5), ValueError, "base_lr"),
    (lambda: fastlr.CosineRestarts(1.0, 10, cycle_mult=0.5), ValueError, "cycle_mult"),
    (lambda: fastlr.CosineRestarts(1.0, 10, cycle_limit=1.5), ValueError, "cycle_limit"),
    (lambda: fastlr.Tanh(1.0, 10, lower=3, upper=-7), ValueError, "lower"),
    (lambda: fastlr.join([fastlr.Constant(1.0), fastlr.Constant(0.5)], []), ValueError, "boundaries"),
    (lambda: fastlr.join([fastlr.Constant(1.0), 0.5], [10]), TypeError, r"schedules\[1\]"),
    (lambda: fastlr.with_warmup(fastlr.Constant(1.0), -3), ValueError, "warmup_steps"),
    (lambda: fastlr.Constant(1.0) * "x", TypeError, "factor"),
    (lambda: fastlr.Constant(1.0) * np.array([1.0, -1.0]), ValueError, "factor"),
]


@pytest.mark.parametrize("make, error, pattern", BAD_SPECS)
def test_impossible_specifications_are_rejected(make, error, pattern):
    with pytest.raises(error, match=pattern):
        make()


BAD_CALLS = [
    (lambda s: s(-1), ValueError, "t=-1"),
    (lambda s: s(float("nan")), ValueError, "t=nan"),
    (lambda s: s(float("inf")), ValueError, "t=inf"),
    (lambda s: s(np.array([0, 5, -3])), ValueError, r"t\[2\]=-3"),
    (lambda s: s("5"), TypeError, "steps"),
    (lambda s: s(None), TypeError, "steps"),
    (lambda s: s(True), TypeError, "steps"),
    (lambda s: s(2 + 1j), TypeError, "steps"),
    (lambda s: s(np.array([1, 2], dtype=object)), TypeError, "steps"),
    (lambda s: s(np.array([True])), TypeError, "steps"),
    (lambda s: s(np.arange(3), dtype=np.int32), TypeError, "dtype"),
    (lambda s: s(np.arange(3), dtype="float16"), TypeError, "dtype"),
    (lambda s: s(np.arange(3), out=np.zeros(4)), ValueError, "shape"),
    (lambda s: s(np.arange(3), out=np.zeros(3, dtype=np.int64)), TypeError, "dtype"),
    (lambda s: s(np.arange(3), out=[0.0, 0.0, 0.0]), TypeError, "out"),
    (lambda s: s(np.arange(3), out=np.zeros(3, np.float32), dtype=np.float64), TypeError, "dtype"),
    (lambda s: s.curve(-1), ValueError, "n"),
    (lambda s: s.curve(2.5), TypeError, "n"),
    (lambda s: s.curve(3, start=-1), ValueError, "start"),
]


@pytest.mark.parametrize("backend", fastlr.backends())
@pytest.mark.parametrize("call, error, pattern", BAD_CALLS)
def test_bad_calls_raise_clear_errors(backend, call, error, pattern):
    with fastlr.use_backend(backend):
        with pytest.raises(error, match=pattern):
            call(fastlr.WarmupCosine(1.0, 100, 10))


@pytest.mark.parametrize("backend", fastlr.backends())
def test_bad_out_buffers_are_left_untouched(backend):
    s = fastlr.Cosine(1.0, 100)
    steps = np.arange(10.0)
    readonly = np.full(10, 7.0)
    readonly.flags.writeable = False
    strided = np.full(20, 7.0)[::2]
    with fastlr.use_backend(backend):
        with pytest.raises(ValueError, match="read-only"):
            s(steps, out=readonly)
        with pytest.raises(ValueError, match="contiguous"):
            s(steps, out=strided)
        with pytest.raises(ValueError, match="overlaps"):
            s(steps, out=steps)
    assert np.all(readonly == 7.0) and np.all(strided == 7.0)
    assert np.array_equal(steps, np.arange(10.0))


# ------------------------------------------------------------------ backends

def test_backend_registry():
    names = fastlr.backends()
    assert names[-1] == "numpy"
    assert set(names) <= {"cpp", "numba", "numpy"}
    assert fastlr.get_backend() in names
    with fastlr.use_backend("numpy"):
        assert fastlr.get_backend() == "numpy"
    with pytest.raises(ValueError, match="unknown backend"):
        fastlr.set_backend("cuda")
    with pytest.raises(TypeError):
        fastlr.set_backend(3)
    with pytest.raises(ValueError):
        fastlr.set_num_threads(0)
    with pytest.raises(TypeError):
        fastlr.set_num_threads(1.5)


def _run(code: str, **env):
    import os

    environment = dict(os.environ)
    environment.update(env)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environment,
                          timeout=120)


def test_import_is_lazy():
    result = _run("import sys, fastlr; print(sorted(m for m in ('numba', 'torch', 'jax', 'matplotlib', "
                  "'fastlr._numba') if m in sys.modules))")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_environment_selects_the_backend():
    result = _run("import fastlr; print(fastlr.get_backend())", FASTLR_BACKEND="numpy")
    assert result.stdout.strip() == "numpy"
    result = _run("import fastlr; fastlr.Constant(1.0)(1)", FASTLR_BACKEND="tpu")
    assert result.returncode != 0 and "unknown backend 'tpu'" in result.stderr


@pytest.mark.parametrize("backend", ["cpp", "numba"])
def test_thread_bound_set_before_first_use_holds(backend):
    # the bound is recorded before the backend is loaded and applied when it loads
    code = (f"import fastlr\nfastlr.set_num_threads(1)\nfastlr.set_backend({backend!r})\n"
            "fastlr.WarmupCosine(peak_lr=1.0, total_steps=10, warmup_steps=2)(3)\n"
            "from fastlr import _backends\n"
            f"print(fastlr.get_num_threads(), _backends._BACKENDS[{backend!r}].module().get_num_threads())\n")
    result = _run(code, FASTLR_NUM_THREADS="2")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["1", "1"]


def test_unavailable_backend_says_why():
    code = ("import sys; sys.modules['numba'] = None\n"
            "import fastlr\n"
            "try:\n    fastlr.set_backend('numba')\nexcept fastlr.BackendUnavailable as e:\n    print(e)\n")
    result = _run(code)
    assert "numba" in result.stdout and "unavailable" in result.stdout


def test_show_config_lists_every_backend(capsys):
    fastlr.show_config()
    text = capsys.readouterr().out
    for name in ("cpp", "numba", "numpy", "threads"):
        assert name in text
