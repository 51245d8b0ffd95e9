"""The torch integration: ``fastlr.torch.LRScheduler.step()`` overhead beside torch's own schedulers, and the
per-element in-place update ``s(steps, out=lrs)`` into numpy arrays and CPU tensors beside
``np.multiply(a, b, out=c)`` on the same sizes (10M elements; 1M in the ``--benchmark-disable`` smoke run).
Every benchmark checks its result."""

from __future__ import annotations

import math

import numpy as np
import pytest
from benchutil import check_same_as_call, per_parameter_case

import fastlr

torch = pytest.importorskip("torch")
import fastlr.torch as flt  # noqa: E402

T = 1_000_000
PEAK = 0.1


@pytest.fixture
def n_elements(request):
    return 1_000_000 if request.config.getoption("benchmark_disable", default=False) else 10_000_000


def _optimizer():
    param = torch.zeros(4, requires_grad=True)
    return torch.optim.SGD([param], lr=PEAK)


def _cosine(t: float) -> float:
    return 0.5 * (1.0 + math.cos(math.pi * min(t, T) / T))


def _bench_step(benchmark, optimizer, scheduler):
    optimizer.step()  # after the scheduler wraps it, so that the call-order check stays quiet
    benchmark(scheduler.step)


@pytest.mark.parametrize("kind", ["fastlr", "CosineAnnealingLR", "LambdaLR"])
def test_scheduler_step(benchmark, kind):
    benchmark.group = "scheduler.step() (1 param group)"
    optimizer = _optimizer()
    if kind == "fastlr":
        # the active backend (the fastest available); see test_scheduler_step_backend for each one
        scheduler = flt.LRScheduler(optimizer, fastlr.Cosine(peak_lr=PEAK, total_steps=T))
    elif kind == "CosineAnnealingLR":
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=T)
    else:
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, _cosine)
    _bench_step(benchmark, optimizer, scheduler)
    t = scheduler.last_epoch
    assert 0 < t < T
    assert abs(optimizer.param_groups[0]["lr"] - PEAK * _cosine(t)) <= 1e-12 * PEAK


@pytest.mark.parametrize("kind", ["fastlr", "LambdaLR"])
def test_scheduler_step_per_group(benchmark, kind):
    """8 groups, layer-wise decay: one vector evaluation vs one lambda call per group."""
    benchmark.group = "scheduler.step() (8 param groups)"
    params = [torch.zeros(2, requires_grad=True) for _ in range(8)]
    multipliers = 0.8 ** np.arange(7, -1, -1)
    groups = [{"params": [p], "lr": PEAK * m} for p, m in zip(params, multipliers)]
    optimizer = torch.optim.SGD(groups, lr=PEAK)
    if kind == "fastlr":
        scheduler = flt.LRScheduler.relative(optimizer, fastlr.Cosine(peak_lr=1.0, total_steps=T))
    else:
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, _cosine)
    _bench_step(benchmark, optimizer, scheduler)
    t = scheduler.last_epoch
    lrs = np.array([g["lr"] for g in optimizer.param_groups])
    np.testing.assert_allclose(lrs, PEAK * multipliers * _cosine(t), rtol=1e-12)


def test_scheduler_step_backend(benchmark, use):
    benchmark.group = "fastlr LRScheduler.step() by backend"
    optimizer = _optimizer()
    scheduler = flt.LRScheduler(optimizer, fastlr.Cosine(peak_lr=PEAK, total_steps=T))
    _bench_step(benchmark, optimizer, scheduler)
    assert optimizer.param_groups[0]["lr"] == fastlr.Cosine(peak_lr=PEAK, total_steps=T)(scheduler.last_epoch)




@pytest.mark.parametrize("container", ["numpy", "torch"])
def test_inplace_per_element(benchmark, use, n_elements, container):
    schedule, steps = per_parameter_case(n_elements)
    benchmark.group = f"in-place per-element P={n_elements:.0e}"
    if container == "torch":
        steps_in, out = torch.from_numpy(steps), torch.empty(n_elements, dtype=torch.float64)
    else:
        steps_in, out = steps, np.empty(n_elements)
    pointer = out.data_ptr() if container == "torch" else out.ctypes.data
    result = benchmark(schedule, steps_in, out=out)
    assert result is out
    assert (out.data_ptr() if container == "torch" else out.ctypes.data) == pointer
    check_same_as_call(schedule, steps, out)


def test_inplace_multiply_floor(benchmark, n_elements):
    benchmark.group = f"in-place per-element P={n_elements:.0e}"
    a, b = np.random.default_rng(1).uniform(size=(2, n_elements))
    out = np.empty(n_elements)
    benchmark(np.multiply, a, b, out=out)
    np.testing.assert_array_equal(out, a * b)
