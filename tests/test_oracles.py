"""The real libraries as oracles: torch.optim.lr_scheduler, optax and transformers.

Every case of ``oracle_cases.ALL_CASES`` runs the real scheduler (driven like a training loop, or
evaluated by jax in float64) and compares the lr of each update 0..n-1 with the equivalent fastlr
schedule, within the one table's ``anchor_rel_peak`` of the schedule's peak, on every backend, through
``curve(n)`` and through ``schedule(np.arange(n))``; the float32 results are within one float32 ulp
of the float64 result rounded.

Where an anchor differs from fastlr on purpose (torch's cosine and HF's cosine rise again after the
horizon, OneCycleLR extrapolates at t = T, torch's ``step(epoch)`` puts some restarts in the trough),
the cases compare only on the range where the contract says they agree, and a test below documents
the difference.

Each oracle library is optional here (``pytest.importorskip``); CI installs all of them. The
``backend`` fixture (conftest.py) runs each test once per backend of ``fastlr.backends()`` (or of
``FASTLR_TEST_BACKENDS``); the bodies also select it explicitly with ``fastlr.use_backend``.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from oracle_cases import ALL_CASES, LIBRARY_MODULES, optax_values, torch_lrs
from tolerance import TOLERANCE, float32_allowed, schedule_peak

import fastlr

RTOL_PEAK = TOLERANCE["anchor_rel_peak"]

_ORACLE_CACHE: dict[str, np.ndarray] = {}


def _require(library: str) -> None:
    for module in LIBRARY_MODULES[library]:
        pytest.importorskip(module)


def torch_at_least(major: int, minor: int) -> bool:
    import torch

    version = tuple(int(part) for part in torch.__version__.split("+")[0].split(".")[:2])
    return version >= (major, minor)


def require_pinned_torch_sequential(what: str) -> None:
    """SequentialLR's values changed between torch releases (torch 2.11 differs from the pinned 2.13 on
    chained children and zero-length phases); fastlr reproduces the pinned torch."""
    if not torch_at_least(2, 13):
        pytest.skip(f"{what}: reproduces torch >= 2.13's SequentialLR (the pinned oracle); this torch is older")


def _oracle(case) -> np.ndarray:
    """The oracle's curve for ``case`` (computed once, shared by the backends)."""
    values = _ORACLE_CACHE.get(case.id)
    if values is None:
        values = np.asarray(case.oracle(case.params, case.n), dtype=np.float64)
        assert values.shape == (case.n,)
        _ORACLE_CACHE[case.id] = values
    return values


def _assert_close(actual, expected, peak, what, case):
    actual = np.asarray(actual)
    assert actual.dtype == np.float64, what
    assert actual.shape == expected.shape, what
    gap = np.abs(actual - expected)
    tolerance = RTOL_PEAK * peak
    if not np.all(gap <= tolerance):
        k = int(np.argmax(gap))
        raise AssertionError(
            f"{case.id} {what}: |fastlr - oracle| = {gap[k]:.3e} > {tolerance:.3e} at step {k}: "
            f"fastlr {actual[k]!r}, oracle {expected[k]!r}; params {case.params}"
        )


def _assert_float32(result32, result64, what, case):
    result32 = np.asarray(result32)
    assert result32.dtype == np.float32, what
    rounded = result64.astype(np.float32)
    gap = np.abs(result32.astype(np.float64) - rounded.astype(np.float64))
    ulp = float32_allowed(rounded)
    if not np.all(gap <= ulp):
        k = int(np.argmax(gap - ulp))
        raise AssertionError(
            f"{case.id} {what}: float32 {result32[k]!r} vs rounded float64 {rounded[k]!r} "
            f"(> 1 ulp) at step {k}; params {case.params}"
        )


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in ALL_CASES])
def test_matches_oracle(case, backend):
    _require(case.library)
    if case.id.startswith("torch.SequentialLR"):
        require_pinned_torch_sequential(case.id)
    expected = _oracle(case)
    schedule = case.fastlr(case.params)
    peak = schedule_peak(schedule)
    n = case.n
    with fastlr.use_backend(backend):
        by_curve = schedule.curve(n)
        by_steps = schedule(np.arange(n))
        by_float_steps = schedule(np.arange(n, dtype=np.float64))
        curve32 = schedule.curve(n, dtype=np.float32)
        steps32 = schedule(np.arange(n), dtype=np.float32)
        probe = sorted({*range(min(n, 3)), n - 1})  # the scalar path: first steps and the last
        scalars = np.array([schedule(int(k)) for k in probe] + [schedule(float(k)) for k in probe])
    _assert_close(by_curve, expected, peak, "curve(n)", case)
    _assert_close(by_steps, expected, peak, "schedule(np.arange(n))", case)
    _assert_close(by_float_steps, expected, peak, "schedule(float steps)", case)
    _assert_close(
        scalars,
        np.concatenate([expected[probe], expected[probe]]),
        peak,
        f"schedule(k) for k in {probe} (int, then float)",
        case,
    )
    _assert_float32(curve32, by_curve, "curve(n, dtype=float32)", case)
    _assert_float32(steps32, by_steps, "schedule(np.arange(n), dtype=float32)", case)


def test_the_tables_cover_every_oracle():
    names = {(c.library, c.name) for c in ALL_CASES}
    expected = (
        {
            ("torch", n)
            for n in (
                "StepLR",
                "MultiStepLR",
                "ExponentialLR",
                "LinearLR",
                "PolynomialLR",
                "CosineAnnealingLR",
                "CosineAnnealingWarmRestarts",
                "OneCycleLR",
                "CyclicLR",
                "SequentialLR",
            )
        }
        | {
            ("optax", n)
            for n in (
                "warmup_cosine_decay_schedule",
                "cosine_decay_schedule",
                "exponential_decay",
                "polynomial_schedule",
                "piecewise_constant_schedule",
                "piecewise_interpolate_schedule",
                "join_schedules",
            )
        }
        | {
            ("transformers", n)
            for n in (
                "get_linear_schedule_with_warmup",
                "get_cosine_schedule_with_warmup",
                "get_polynomial_decay_schedule_with_warmup",
                "get_constant_schedule_with_warmup",
                "get_wsd_schedule",
                "get_inverse_sqrt_schedule",
            )
        }
    )
    assert names == expected
    for library, name in expected:
        cases = [c for c in ALL_CASES if (c.library, c.name) == (library, name)]
        assert len(cases) >= 20, (library, name)
        tiny = [
            c
            for c in cases
            if c.n <= 3
            or any(
                c.params.get(k, 99) <= 3
                for k in (
                    "total_iters",
                    "T_max",
                    "total_steps",
                    "total",
                    "decay_steps",
                    "transition_steps",
                    "warmup",
                    "step_size",
                    "T_0",
                )
            )
        ]
        assert tiny or name in (
            "join_schedules",
            "SequentialLR",
            "piecewise_constant_schedule",
            "piecewise_interpolate_schedule",
            "CyclicLR",
            "MultiStepLR",
        ), (library, name)


# ----------------------------------------------------------------------------------------------------
# documented differences: the anchor leaves the contract's range, fastlr holds its final value


def test_torch_cosine_rises_after_t_max_fastlr_holds_min(backend):
    torch = pytest.importorskip("torch")
    t_max, eta_min, n = 10, 0.1, 31
    rec = torch_lrs(
        lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=t_max, eta_min=eta_min), 1.0, n
    )
    schedule = fastlr.Cosine(1.0, t_max, eta_min)
    with fastlr.use_backend(backend):
        ours = schedule.curve(n)
    assert np.max(np.abs(ours[: t_max + 1] - rec[: t_max + 1])) <= RTOL_PEAK
    # torch is periodic: it climbs back to the peak at 2 * T_max; fastlr holds min_lr from T_max on
    assert rec[t_max + 1] > eta_min and abs(rec[2 * t_max] - 1.0) < 1e-12
    assert np.all(ours[t_max:] == eta_min)


def test_hf_cosine_rises_after_the_horizon_fastlr_holds_min(backend):
    pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    warmup, total, n = 2, 6, 15
    rec = torch_lrs(lambda o: transformers.get_cosine_schedule_with_warmup(o, warmup, total), 1.0, n)
    schedule = fastlr.WarmupCosine(1.0, total, warmup)
    with fastlr.use_backend(backend):
        ours = schedule.curve(n)
    assert np.max(np.abs(ours[: total + 1] - rec[: total + 1])) <= RTOL_PEAK
    assert rec[total + 1] > 0 and abs(rec[total + 4] - 1.0) < 1e-12  # HF: back to the peak at t = 10
    assert np.all(ours[total:] == 0.0)


def test_hf_cosine_warmup_equal_to_total_jumps_back_fastlr_holds_min(backend):
    pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    total, n = 4, 7
    rec = torch_lrs(lambda o: transformers.get_cosine_schedule_with_warmup(o, total, total), 1.0, n)
    with fastlr.use_backend(backend):
        ours = fastlr.WarmupCosine(1.0, total, total).curve(n)
    assert rec.tolist()[: total + 3] == [0.0, 0.25, 0.5, 0.75, 1.0, 0.0, 1.0]  # anchor-semantics.md trap 12
    assert ours[:total].tolist() == [0.0, 0.25, 0.5, 0.75]
    assert np.all(ours[total:] == 0.0)


@pytest.mark.parametrize("anneal", ["cos", "linear"])
def test_torch_one_cycle_extrapolates_at_t_fastlr_holds_final(backend, anneal):
    torch = pytest.importorskip("torch")
    total, max_lr, div, final_div = 10, 1.0, 25.0, 1e4
    final = max_lr / div / final_div
    param = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    optimizer = torch.optim.SGD([param], lr=max_lr, momentum=0.9)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sched = torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=max_lr, total_steps=total, anneal_strategy=anneal
        )
        lrs = []
        for _ in range(total + 1):  # updates 0..T: the T-th step() computes t = T (extrapolated)
            lrs.append(optimizer.param_groups[0]["lr"])
            optimizer.step()
            if len(lrs) <= total:
                sched.step()
        with pytest.raises(ValueError):
            sched.step()  # t = T + 1: torch refuses
    schedule = fastlr.OneCycle(max_lr, total, anneal=anneal)
    with fastlr.use_backend(backend):
        ours = schedule(np.arange(total + 5))
    assert np.max(np.abs(ours[:total] - np.asarray(lrs[:total]))) <= RTOL_PEAK * max_lr
    assert abs(lrs[total - 1] - final) <= RTOL_PEAK * max_lr
    # at t = T torch leaves [initial, max]: cos climbs back to ~.0495, linear goes negative (-0.1429)
    if anneal == "cos":
        assert lrs[total] > 0.04
    else:
        assert lrs[total] < 0
    assert np.all(ours[total - 1 :] == ours[total - 1])
    assert abs(ours[total - 1] - final) <= RTOL_PEAK * max_lr


@pytest.mark.parametrize(
    "t_0, t_mult, starts",
    [(1, 10, [1, 11, 111, 1111]), (1, 3, [1, 4, 13, 40, 121]), (2, 2, [2, 6, 14, 30, 62])],
)
def test_restart_starts_are_exact_like_torch_step(backend, t_0, t_mult, starts):
    """torch's ``step()`` path counts T_cur in integers, so each cycle start is the peak exactly;
    ``step(epoch)`` uses ``int(math.log(...))``, which puts t = 111 (T_0=1, T_mult=10) in the trough.
    fastlr follows the exact path."""
    torch = pytest.importorskip("torch")
    n = starts[-1] + 2
    rec = torch_lrs(
        lambda o: torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=t_0, T_mult=t_mult), 1.0, n
    )
    schedule = fastlr.CosineRestarts(1.0, t_0, cycle_mult=t_mult)
    with fastlr.use_backend(backend):
        ours = schedule.curve(n)
        at_starts = schedule(np.array(starts))
        scalar = [schedule(s) for s in starts]
    assert [rec[s] for s in starts] == [1.0] * len(starts)
    assert at_starts.tolist() == [1.0] * len(starts)
    assert scalar == [1.0] * len(starts)
    assert np.max(np.abs(ours - rec)) <= RTOL_PEAK
    # the floating log that step(epoch) (and timm) use is off by one cycle at some of these starts
    log_cycle = [int(math.log(s / t_0 * (t_mult - 1) + 1, t_mult)) for s in starts]
    exact_cycle = list(range(1, len(starts) + 1))
    if (t_0, t_mult) == (1, 10):
        assert log_cycle != exact_cycle


def test_optax_is_evaluated_in_float64():
    pytest.importorskip("jax")
    optax = pytest.importorskip("optax")
    values = optax_values(optax.cosine_decay_schedule(1.0, 3), 4)
    assert values.dtype == np.float64
    assert abs(values[1] - 0.75) < 1e-15  # float32 would give 0.75 +- 3e-8
