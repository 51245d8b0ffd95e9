"""Schedules on Array API arrays other than numpy: array_api_strict and torch CPU (the evaluator), the
torch CPU route through the C++ core, ``out=``, parameter replacement and errors.

The GPU paths (torch CUDA, CuPy, the compiled path) are checked by ``bench/gpu_check.py``.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, reject
from hypothesis import strategies as st
from strategies import assert_agrees, reference, schedules, step_arrays

import fastlr
from fastlr import array_api as fa

xps = pytest.importorskip("array_api_strict")
torch = pytest.importorskip("torch")


def _draw_case(data):
    """A random schedule and steps (the strategies occasionally draw invalid parameters: rejected)."""
    from strategies import universe_shapes

    shape = data.draw(universe_shapes(), label="shape")
    try:
        schedule = data.draw(schedules(shape), label="schedule")
    except ValueError:
        reject()
    steps, _ = data.draw(step_arrays(shape, schedule, allow_scalar=False), label="steps")
    return schedule, np.array(steps, copy=True)


def _to_numpy(x):
    return x.numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


LIBRARIES = {
    "array_api_strict": lambda steps: xps.asarray(steps),
    "torch": lambda steps: torch.from_numpy(steps),
}


@pytest.mark.parametrize("library", sorted(LIBRARIES))
@given(data=st.data())
def test_agrees_with_reference(library, data):
    schedule, steps = _draw_case(data)
    expected = reference(schedule, steps)
    result = fa.evaluate(schedule, LIBRARIES[library](steps))
    assert type(result).__module__.partition(".")[0] == type(LIBRARIES[library](steps)).__module__.partition(".")[0]
    assert_agrees(_to_numpy(result), expected, schedule, context=f"{library} {schedule!r}")


@pytest.mark.parametrize("library", sorted(LIBRARIES))
@given(data=st.data())
def test_float32_output_rounds_the_float64_result(library, data):
    schedule, steps = _draw_case(data)
    expected = reference(schedule, steps)
    steps_array = LIBRARIES[library](steps)
    namespace = type(steps_array).__module__.partition(".")[0]
    dtype = torch.float32 if namespace == "torch" else xps.float32
    result = fa.evaluate(schedule, steps_array, dtype=dtype)
    assert_agrees(_to_numpy(result), expected, schedule, dtype=np.float32, context=f"{library} {schedule!r}")


def _per_parameter():
    peak = np.linspace(1e-3, 2e-3, 6)
    return fastlr.WarmupCosine(peak_lr=peak, total_steps=100, warmup_steps=10, min_lr=peak * 0.1)


def test_long_tables_take_the_search_path():
    boundaries = np.arange(1.0, 80.0)
    constant = fastlr.PiecewiseConstant(boundaries, np.linspace(1.0, 0.0, 80))
    linear = fastlr.PiecewiseLinear(boundaries, 1.0 + np.cos(boundaries))
    multi = fastlr.MultiStep(0.5, boundaries[::2], gamma=0.97)
    steps = np.concatenate([np.arange(0, 90, 0.25), boundaries])
    for schedule in (constant, linear, multi):
        for convert in LIBRARIES.values():
            assert_agrees(_to_numpy(fa.evaluate(schedule, convert(steps))), reference(schedule, steps), schedule,
                          context=repr(schedule))


def test_torch_cpu_goes_through_the_core_and_returns_a_tensor():
    schedule = _per_parameter()
    steps = torch.tensor([0, 5, 10, 50, 100, 2**40], dtype=torch.int64)
    result = schedule(steps)
    assert isinstance(result, torch.Tensor) and result.dtype == torch.float64
    np.testing.assert_array_equal(result.numpy(), schedule(steps.numpy()))  # the same bits
    scalar = fastlr.Cosine(1.0, 10)(torch.tensor(3))
    assert isinstance(scalar, torch.Tensor) and scalar.shape == ()
    assert float(scalar) == fastlr.Cosine(1.0, 10)(3)


def test_strict_array_in_strict_array_out():
    schedule = _per_parameter()
    result = schedule(xps.asarray(np.array([0, 5, 10, 50, 100, 1000])))
    assert type(result) is type(xps.asarray(0.0)) and result.dtype == xps.float64 and result.shape == (6,)
    assert_agrees(np.asarray(result), reference(schedule, np.array([0, 5, 10, 50, 100, 1000])), schedule)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_out_is_written_in_place(dtype):
    schedule = _per_parameter()
    steps = np.array([0, 5, 10, 50, 100, 1000])
    out = torch.full((6,), -1.0, dtype=getattr(torch, dtype))
    pointer = out.data_ptr()
    assert fa.evaluate(schedule, torch.from_numpy(steps), out=out) is out
    assert out.data_ptr() == pointer
    assert_agrees(out.numpy(), reference(schedule, steps), schedule, dtype=np.dtype(dtype))
    strict_out = xps.zeros((6,), dtype=getattr(xps, dtype))
    assert schedule(xps.asarray(steps), out=strict_out) is strict_out
    assert_agrees(np.asarray(strict_out), reference(schedule, steps), schedule, dtype=np.dtype(dtype))


@pytest.mark.parametrize("bad", [[0, 1, -1], [0.0, float("nan")], [0.0, float("inf")]])
@pytest.mark.parametrize("library", sorted(LIBRARIES))
def test_bad_steps_raise_before_writing(library, bad):
    out = torch.full((2, 3) if len(bad) == 3 else (2, 2), -1.0, dtype=torch.float64)
    steps = LIBRARIES[library](np.array([bad, bad]))
    with pytest.raises(ValueError, match="finite and >= 0"):
        if library == "torch":
            fa.evaluate(fastlr.Cosine(1.0, 10), steps, out=out)
        else:
            fastlr.Cosine(1.0, 10)(steps)
    assert torch.all(out == -1.0)


def test_errors_name_the_problem():
    schedule = _per_parameter()
    steps = torch.arange(6)
    with pytest.raises(TypeError, match="steps must be integers or real numbers"):
        fa.evaluate(schedule, torch.ones(6, dtype=torch.bool))
    with pytest.raises(ValueError, match="out has shape"):
        fa.evaluate(schedule, steps, out=torch.zeros(5, dtype=torch.float64))
    with pytest.raises(TypeError, match="same library"):
        fa.evaluate(schedule, steps, out=np.zeros(6))
    with pytest.raises(TypeError, match="out must have dtype float32 or float64"):
        fa.evaluate(schedule, steps, out=torch.zeros(6, dtype=torch.int64))
    with pytest.raises(TypeError, match="dtype must be float32 or float64"):
        fa.evaluate(schedule, steps, dtype=torch.int32)
    with pytest.raises(ValueError, match="do not broadcast"):
        fa.evaluate(schedule, torch.arange(5))
    with pytest.raises(ValueError, match="meta"):
        fa.evaluate(schedule, torch.arange(6, device="meta"))
    with pytest.raises(ValueError, match="no array parameter 'gamma'"):
        fa.evaluate(schedule, steps, params={"gamma": torch.ones(6)})
    with pytest.raises(ValueError, match="shape"):
        fa.evaluate(schedule, steps, params={"peak_lr": torch.ones(3)})
    with pytest.raises(ValueError, match="finite"):
        fa.evaluate(schedule, steps, params={"peak_lr": torch.full((6,), float("nan"))})
    joined = fastlr.join([fastlr.Constant(0.5), fastlr.Constant(0.25)], [10])
    with pytest.raises(ValueError, match="ambiguous"):
        fa.evaluate(joined, steps, params={"lr": torch.tensor(1.0)})


def test_params_replace_parameters_and_carry_torch_gradients():
    schedule = _per_parameter()
    steps = np.array([0, 5, 10, 50, 100, 1000])
    peak = torch.linspace(2e-3, 3e-3, 6, dtype=torch.float64, requires_grad=True)
    result = fa.evaluate(schedule, torch.from_numpy(steps), params={"peak_lr": peak})
    replaced = fastlr.WarmupCosine(peak_lr=peak.detach().numpy(), total_steps=100, warmup_steps=10,
                                   min_lr=schedule.min_lr)
    assert_agrees(result.detach().numpy(), reference(replaced, steps), replaced)
    result.sum().backward()
    # the value is linear in peak_lr: its derivative is the value with peak 1 and min_lr 0
    unit = fastlr.WarmupCosine(peak_lr=1.0, total_steps=100, warmup_steps=10, min_lr=0.0)
    assert_agrees(peak.grad.numpy(), reference(unit, steps), unit)
    # a name shared by parts that hold the same value replaces all of them
    joined = fastlr.join([fastlr.Cosine(1.0, 10), fastlr.Cosine(1.0, 20)], [10])
    doubled = fa.evaluate(joined, torch.arange(30), params={"peak_lr": torch.tensor(2.0, dtype=torch.float64)})
    assert_agrees(doubled.numpy(), 2 * reference(joined, np.arange(30)), 2.0 * joined)
    assert fa.parameter_names(joined) == ("min_lr", "peak_lr", "total_steps")


def test_operands_are_converted_once_per_device():
    from fastlr import _array_api

    schedule = _per_parameter()
    fa.evaluate(schedule, torch.arange(6))
    cache = _array_api._OPERAND_CACHE[schedule._program()]
    first = {key: [id(a) for a in arrays] for key, arrays in cache.items()}
    fa.evaluate(schedule, torch.arange(6) * 7)
    assert {key: [id(a) for a in arrays] for key, arrays in cache.items()} == first


def test_fused_traces_into_one_graph():
    """``fastlr.torch.fused`` captures the whole program in one graph (``fullgraph=True`` raises on any
    break). The ``eager`` compile backend checks the capture without code generation, which takes
    tens of seconds on a CPU; bench/gpu_check.py runs the inductor build on CUDA."""
    import fastlr.torch as flt

    schedule = fastlr.with_warmup(fastlr.join([fastlr.CosineRestarts(_per_parameter().peak_lr, 10, cycle_mult=2.0),
                                               fastlr.PiecewiseLinear([0, 5, 10], [1, 0.5, 0.2])], [100]), 10)
    fused = flt.fused(schedule, backend="eager")
    steps = torch.arange(300).reshape(50, 6)
    assert_agrees(fused(steps).numpy(), reference(schedule, steps.numpy()), schedule)
    out = torch.empty(50, 6, dtype=torch.float32)
    assert fused(steps, out=out) is out
    assert_agrees(out.numpy(), reference(schedule, steps.numpy()), schedule, dtype=np.float32)
    with pytest.raises(TypeError, match="torch tensor"):
        fused(np.arange(6))


def _readme_block(marker):
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    blocks = [b for b in re.findall(r"```python\n(.*?)```", text, flags=re.S) if marker in b]
    assert len(blocks) == 1, f"the README has {len(blocks)} python examples with {marker!r}"
    namespace: dict = {}
    exec(compile(blocks[0], "README.md", "exec"), namespace)
    return namespace


def test_readme_device_example():
    ns = _readme_block("torch.randint")
    lrs, s, steps = ns["lrs"], ns["s"], ns["steps"]
    assert isinstance(lrs, torch.Tensor) and lrs.device == steps.device and lrs.dtype == torch.float64
    assert_agrees(lrs.cpu().numpy(), reference(s, steps.cpu().numpy()), s)


def test_readme_optax_example():
    pytest.importorskip("optax")
    ns = _readme_block("optax.adamw")
    w = np.asarray(ns["params"]["w"])
    # the first adamw update at count 0 has learning rate schedule(0) = 0 (the warmup's start)
    assert float(ns["schedule"](0)) == 0.0
    np.testing.assert_array_equal(w, np.ones(8, dtype=w.dtype))
    assert int(ns["state"][0].count) == 1


def test_readme_dask_example():
    pytest.importorskip("dask")
    ns = _readme_block("fastlr.dask.steps")
    sweep, mean_lr, final_lr = ns["sweep"], ns["mean_lr"], ns["final_lr"]
    curve = sweep.curve(100_000)
    np.testing.assert_allclose(mean_lr, curve.mean(axis=0), rtol=len(curve) * np.finfo(np.float64).eps)
    np.testing.assert_array_equal(final_lr, curve[-1])
