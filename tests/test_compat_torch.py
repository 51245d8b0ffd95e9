"""fastlr.compat.torch and fastlr.from_torch against the live torch.optim.lr_scheduler.

Each case drives the real scheduler like a training loop (the LR of update k is read before the k-th
``optimizer.step()``, ``scheduler.step()`` follows; the same driver as the oracle tests, extended to
several parameter groups) and compares every update with the compat schedule, within the oracle tests'
tolerance (``RTOL_PEAK`` times the curve's peak: torch's recursive updates accumulate rounding there).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from test_oracles import RTOL_PEAK, require_pinned_torch_sequential
from tolerance import schedule_peak

import fastlr
from fastlr.compat import torch as ct

torch = pytest.importorskip("torch")
sched = torch.optim.lr_scheduler


def drive(make, lrs, n, momentum=0.9, scheduler_out=None, on_start=None):
    """The LR of each group for updates 0..n-1: shape (n, groups). ``on_start(scheduler)`` runs before
    the first update."""
    params = [torch.nn.Parameter(torch.zeros(1, dtype=torch.float64)) for _ in lrs]
    optimizer = torch.optim.SGD([{"params": [p], "lr": lr} for p, lr in zip(params, lrs)], lr=lrs[0],
                                momentum=momentum)
    out = np.empty((n, len(lrs)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scheduler = make(optimizer)
        if on_start is not None:
            on_start(scheduler)
        for k in range(n):
            out[k] = [float(g["lr"]) for g in optimizer.param_groups]
            optimizer.step()
            if k + 1 < n:
                scheduler.step()
    if scheduler_out is not None:
        scheduler_out.append(scheduler)
    return out


def assert_matches(schedule, expected, what):
    expected = np.asarray(expected, dtype=np.float64)
    n = expected.shape[0]
    peak = schedule_peak(schedule)  # the schedule's peak, not the sample's
    steps = np.arange(n).reshape((n,) + (1,) * len(schedule.param_shape))
    for label, got in (("curve", schedule.curve(n)), ("steps", schedule(steps))):
        got = np.asarray(got).reshape(n, -1)
        got = np.broadcast_to(got, (n, expected.shape[1]))
        gap = np.abs(got - expected)
        if not np.all(gap <= RTOL_PEAK * peak):
            k = np.unravel_index(int(np.argmax(gap)), gap.shape)
            raise AssertionError(f"{what} ({label}): step {k}: fastlr {got[k]!r}, torch {expected[k]!r}")


# (name, torch kwargs, groups' lr, n)
CASES = [
    ("StepLR", dict(step_size=3, gamma=0.5), [0.1], 20),
    ("StepLR", dict(step_size=1, gamma=1.0), [1.0, 0.1], 5),
    ("StepLR", dict(step_size=2, gamma=0.0), [1.0], 6),
    ("MultiStepLR", dict(milestones=[7, 3, 3, 0], gamma=0.5), [1.0, 0.3], 12),
    ("MultiStepLR", dict(milestones=[2, 5], gamma=2.0), [0.1], 8),
    ("MultiStepLR", dict(milestones=[2], gamma=0.0), [0.1], 5),
    ("MultiStepLR", dict(milestones=[], gamma=0.1), [0.1], 3),
    ("ConstantLR", dict(factor=0.5, total_iters=3), [1.0, 0.2], 7),
    ("ConstantLR", dict(factor=0.5, total_iters=0), [1.0], 5),
    ("ConstantLR", dict(factor=1.0, total_iters=2), [1.0], 4),
    ("ConstantLR", dict(factor=0.0, total_iters=0), [1.0], 3),
    ("LinearLR", dict(start_factor=0.25, end_factor=1.0, total_iters=4), [1.0, 0.5], 8),
    ("LinearLR", dict(start_factor=1.0, end_factor=0.1, total_iters=5), [0.3], 9),
    ("LinearLR", dict(start_factor=0.5, end_factor=0.0, total_iters=1), [0.3], 4),
    ("LinearLR", dict(start_factor=0.5, end_factor=1.0, total_iters=0), [0.3], 4),
    ("ExponentialLR", dict(gamma=0.9), [1.0, 1e-3], 50),
    ("ExponentialLR", dict(gamma=1.0), [1.0], 4),
    ("ExponentialLR", dict(gamma=0.0), [1.0], 4),
    ("ExponentialLR", dict(gamma=1.05), [1e-4, 1e-3], 60),  # growth
    ("PolynomialLR", dict(total_iters=4, power=2.0), [1.0], 8),
    ("PolynomialLR", dict(total_iters=7, power=0.5), [1.0, 2.0], 10),
    ("PolynomialLR", dict(total_iters=0, power=1.0), [1.0], 4),
    ("PolynomialLR", dict(total_iters=3, power=0.0), [1.0], 5),
    ("CosineAnnealingLR", dict(T_max=10, eta_min=0.1), [1.0, 0.5], 21),  # the rise back to lr at 2 T_max
    ("CosineAnnealingLR", dict(T_max=1), [1.0], 3),  # 1, 0, 1
    ("CosineAnnealingLR", dict(T_max=7, eta_min=2.0), [1.0], 15),  # eta_min above the lr: annealed upward
    ("CosineAnnealingWarmRestarts", dict(T_0=2, T_mult=2), [1.0], 40),
    ("CosineAnnealingWarmRestarts", dict(T_0=1, T_mult=10, eta_min=0.01), [1.0], 1200),  # starts 111, 1111
    ("CosineAnnealingWarmRestarts", dict(T_0=3, T_mult=1, eta_min=0.1), [1.0, 0.2], 20),
    ("CyclicLR", dict(base_lr=0.1, max_lr=1.0, step_size_up=2, step_size_down=3), [0.1], 30),
    ("CyclicLR", dict(base_lr=[0.1, 0.01], max_lr=[1.0, 0.1], step_size_up=2.5, mode="triangular2"), [0.1, 0.1], 40),
    ("CyclicLR", dict(base_lr=0.1, max_lr=1.0, step_size_up=3, step_size_down=0, mode="exp_range", gamma=0.97),
     [0.1], 30),
    ("OneCycleLR", dict(max_lr=1.0, total_steps=10), [1.0], 10),
    ("OneCycleLR", dict(max_lr=[1.0, 0.1], epochs=3, steps_per_epoch=7, anneal_strategy="linear", pct_start=0.25),
     [1.0, 1.0], 21),
    ("OneCycleLR", dict(max_lr=0.5, total_steps=10, three_phase=True, div_factor=10.0, final_div_factor=100.0),
     [1.0], 10),
    ("OneCycleLR", dict(max_lr=0.5, total_steps=5, pct_start=1.0), [1.0], 5),
    ("SWALR", dict(swa_lr=0.05, anneal_epochs=5), [1.0], 10),
    ("SWALR", dict(swa_lr=[0.05, 0.5], anneal_epochs=4, anneal_strategy="linear"), [1.0, 0.1], 8),
    ("SWALR", dict(swa_lr=0.05, anneal_epochs=0), [1.0], 4),
    ("SWALR", dict(swa_lr=0.05, anneal_epochs=1), [1.0], 4),
]


def _make(name, kwargs):
    cls = getattr(torch.optim.swa_utils, name, None) if name == "SWALR" else getattr(sched, name)
    return lambda optimizer: cls(optimizer, **kwargs)


@pytest.mark.parametrize("name, kwargs, lrs, n", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_compat_function_matches_torch(name, kwargs, lrs, n):
    holder, at_start = [], []
    expected = drive(_make(name, kwargs), lrs, n, scheduler_out=holder,
                     on_start=lambda s: at_start.append(fastlr.from_torch(s)))
    lr = lrs[0] if len(lrs) == 1 else np.array(lrs)
    ours = getattr(ct, name)(lr, **kwargs)
    assert_matches(ours, expected, f"compat {name}{kwargs}")
    # the live scheduler, converted at construction and after n - 1 steps: one column per group
    assert at_start[0].param_shape == (len(lrs),)
    assert_matches(at_start[0], expected, f"from_torch at construction {name}{kwargs}")
    if name == "SWALR" and n - 1 >= kwargs["anneal_epochs"] > 0:
        with pytest.raises(ValueError, match="finished annealing"):
            fastlr.from_torch(holder[0])  # its starting LR is gone from the optimizer's state
        return
    assert_matches(fastlr.from_torch(holder[0]), expected, f"from_torch after {n - 1} steps {name}{kwargs}")


def test_from_torch_at_construction_equals_after_steps():
    made = []
    expected = drive(lambda o: sched.StepLR(o, step_size=2, gamma=0.5), [1.0, 0.1], 1, scheduler_out=made)
    del expected
    fresh = fastlr.from_torch(made[0])
    assert fresh.param_shape == (2,)
    np.testing.assert_array_equal(fresh.curve(6), [[1, .1], [1, .1], [.5, .05], [.5, .05], [.25, .025],
                                                   [.25, .025]])  # exact: powers of two times the group LRs


def test_cosine_annealing_periods_and_hold():
    t_max, eta_min, periods = 4, 0.1, 3
    n = 2 * t_max * periods + 1
    expected = drive(lambda o: sched.CosineAnnealingLR(o, T_max=t_max, eta_min=eta_min), [1.0], n)
    ours = ct.CosineAnnealingLR(1.0, t_max, eta_min, periods=periods)
    assert_matches(ours, expected, "CosineAnnealingLR periods=3")
    # past the reproduced range the schedule holds lr (torch would decay again): documented
    assert ours(n + 1) == 1.0 and ours(10 * n) == 1.0
    assert fastlr.Cosine(1.0, t_max, eta_min)(t_max + 1) == eta_min  # fastlr's own family holds eta_min


@pytest.mark.parametrize("children, milestones", [
    ([("LinearLR", dict(start_factor=0.1, total_iters=3)), ("CosineAnnealingLR", dict(T_max=4))], [3]),
    ([("ConstantLR", dict(factor=0.5, total_iters=2)), ("ExponentialLR", dict(gamma=0.5))], [2]),
    ([("ConstantLR", dict(factor=0.5, total_iters=5)), ("StepLR", dict(step_size=2, gamma=0.5)),
      ("MultiStepLR", dict(milestones=[1, 3], gamma=0.1))], [0, 4]),  # a zero-length first phase
    ([("ExponentialLR", dict(gamma=0.9)), ("ConstantLR", dict(factor=0.5, total_iters=0))], [3]),  # closed form at 3
])
def test_sequential(children, milestones):
    require_pinned_torch_sequential("SequentialLR")
    lrs = [1.0, 0.2]

    def make(o):
        return sched.SequentialLR(o, [getattr(sched, k)(o, **kw) for k, kw in children], milestones=milestones)

    made = []
    n = milestones[-1] + 12
    expected = drive(make, lrs, n, scheduler_out=made)
    assert_matches(fastlr.from_torch(made[0]), expected, f"from_torch SequentialLR {children}")
    if children[-1] != ("ConstantLR", dict(factor=0.5, total_iters=0)):
        lr = np.array(lrs)
        extra = {"CosineAnnealingLR": {"periods": 2}}  # the cosine child runs past its first period here
        compat = ct.SequentialLR(lr, [getattr(ct, k)(lr, **kw, **extra.get(k, {})) for k, kw in children],
                                 milestones)
        assert_matches(compat, expected, f"compat SequentialLR {children}")


@pytest.mark.parametrize("children", [
    [("ConstantLR", dict(factor=0.5, total_iters=3)), ("ExponentialLR", dict(gamma=0.9))],
    [("ExponentialLR", dict(gamma=0.9)), ("StepLR", dict(step_size=3, gamma=0.5)),
     ("LinearLR", dict(start_factor=0.5, total_iters=4))],
    [("ExponentialLR", dict(gamma=0.5)), ("CosineAnnealingWarmRestarts", dict(T_0=3))],  # CAWR erases Exp
    [("StepLR", dict(step_size=2, gamma=0.5)), ("OneCycleLR", dict(max_lr=1.0, total_steps=30))],
])
def test_chained(children):
    lrs = [1.0, 0.5]

    def make(o):
        return sched.ChainedScheduler([getattr(sched, k)(o, **kw) for k, kw in children])

    made = []
    expected = drive(make, lrs, 25, scheduler_out=made)
    assert_matches(fastlr.from_torch(made[0]), expected, f"from_torch ChainedScheduler {children}")
    if all(k in ("ConstantLR", "ExponentialLR", "StepLR", "LinearLR") for k, _ in children):
        lr = np.array(lrs)
        compat = ct.ChainedScheduler(lr, [getattr(ct, k)(lr, **kw) for k, kw in children])
        assert_matches(compat, expected, f"compat ChainedScheduler {children}")


def test_swalr_after_another_schedule_is_a_join():
    """The SWA recipe: CosineAnnealingLR until swa_start, then SWALR anneals from the LR reached there."""
    t_max, swa_start, n = 20, 8, 20

    def run():
        param = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
        optimizer = torch.optim.SGD([param], lr=1.0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            base = sched.CosineAnnealingLR(optimizer, T_max=t_max)
            swa = torch.optim.swa_utils.SWALR(optimizer, swa_lr=0.05, anneal_epochs=4)
            out = []
            for k in range(n):
                out.append(optimizer.param_groups[0]["lr"])
                optimizer.step()
                if k + 1 >= swa_start:
                    swa.step()
                else:
                    base.step()
        return np.array(out)[:, None]

    expected = run()
    before = ct.CosineAnnealingLR(1.0, t_max)
    ours = fastlr.join([before, ct.SWALR(float(before(swa_start - 1)), 0.05, 4)], [swa_start - 1])
    assert_matches(ours, expected, "SWA recipe")


# ------------------------------------------------------------------------------------------ refusals


def _optimizer(groups=1):
    return torch.optim.SGD([{"params": [torch.nn.Parameter(torch.zeros(1))]} for _ in range(groups)], lr=0.1,
                           momentum=0.9)


def test_from_torch_refuses_what_it_cannot_convert():
    optimizer = _optimizer()
    with pytest.raises(TypeError, match="LambdaLR"):
        fastlr.from_torch(sched.LambdaLR(optimizer, lambda t: 1.0))
    with pytest.raises(TypeError, match="MultiplicativeLR"):
        fastlr.from_torch(sched.MultiplicativeLR(_optimizer(), lambda t: 0.9))
    with pytest.raises(TypeError, match="ReduceLROnPlateau"):
        fastlr.from_torch(sched.ReduceLROnPlateau(_optimizer()))

    class MyStep(sched.StepLR):
        pass

    with pytest.raises(TypeError, match="MyStep.*subclass of StepLR"):
        fastlr.from_torch(MyStep(_optimizer(), step_size=2))
    with pytest.raises(TypeError, match="str"):
        fastlr.from_torch("StepLR")
    with pytest.raises(TypeError, match="scale_fn"):
        fastlr.from_torch(sched.CyclicLR(_optimizer(), 0.1, 1.0, scale_fn=lambda x: 1.0))
    chain = sched.ChainedScheduler([sched.CosineAnnealingLR(optimizer := _optimizer(), T_max=3),
                                    sched.ExponentialLR(optimizer, 0.9)])
    with pytest.raises(TypeError, match="CosineAnnealingLR"):
        fastlr.from_torch(chain)
    # a closed-form child followed by a recursive one: torch multiplies its value by one step's ratio
    optimizer = _optimizer()
    chain = sched.ChainedScheduler([sched.CyclicLR(optimizer, 0.1, 1.0, step_size_up=3),
                                    sched.ExponentialLR(optimizer, 0.95)])
    with pytest.raises(TypeError, match="CyclicLR before other children"):
        fastlr.from_torch(chain)


@pytest.mark.parametrize("name, kwargs, lrs, n", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_from_current_continues_from_where_the_scheduler_is(name, kwargs, lrs, n):
    """Converted halfway with ``from_current=True``, the schedule's ``t = 0`` is the update in force now
    and its values are those of the scheduler's later updates."""
    k = n // 2
    converted = []

    def make(optimizer):
        scheduler = _make(name, kwargs)(optimizer)
        original = scheduler.step

        def step(*args, **kw):
            original(*args, **kw)
            done = (scheduler._step_count - 1) if name == "SWALR" else scheduler.last_epoch
            if done == k and not converted:
                converted.append(fastlr.from_torch(scheduler, from_current=True))
        scheduler.step = step
        return scheduler

    if name == "SWALR" and k >= kwargs["anneal_epochs"] > 0:
        pytest.skip("a SWALR that has finished annealing is refused (its starting LR is gone)")
    expected = drive(make, lrs, n)
    assert_matches(converted[0], expected[k:], f"from_torch(from_current=True) at step {k} {name}{kwargs}")


def test_from_current_at_step_zero_is_the_plain_conversion():
    scheduler = sched.StepLR(_optimizer(2), step_size=2)
    assert fastlr.from_torch(scheduler, from_current=True) == fastlr.from_torch(scheduler)


@pytest.mark.parametrize("call, match", [
    (lambda: ct.StepLR(0.1, 3, gamma=1.5), "gamma=1.5 > 1.*not supported"),
    (lambda: ct.ExponentialLR(0.1, gamma=1.01)(10**6), "overflows float64"),
    (lambda: ct.StepLR(0.1, 3, last_epoch=4), "last_epoch=4"),
    (lambda: ct.StepLR(0.1, 0), "step_size must be > 0"),
    (lambda: ct.StepLR(-0.1, 3), "lr must be >= 0"),
    (lambda: ct.LinearLR(0.1, start_factor=0.0), "start_factor must be > 0"),
    (lambda: ct.ConstantLR(0.1, factor=1.5), "factor must be in"),
    (lambda: ct.CosineAnnealingLR(0.1, 0), "T_max must be > 0"),
    (lambda: ct.CosineAnnealingLR(0.1, 5, periods=0), "periods must be"),
    (lambda: ct.CosineAnnealingWarmRestarts(0.1, 2, T_mult=1.5), "T_mult must be an integer"),
    (lambda: ct.CyclicLR(0.1, 0.1, 1.0, scale_fn=lambda x: 1.0), "scale_fn.*Formula"),
    (lambda: ct.OneCycleLR(0.1, 1.0), "total_steps, or epochs"),
    (lambda: ct.SWALR(0.1, 0.05, anneal_strategy="exp"), "anneal_strategy"),
    (lambda: ct.SequentialLR(0.1, [fastlr.Constant(0.1)], [3]), "len\\(milestones\\)"),
    (lambda: ct.StepLR("0.1", 3), "lr must be a real number"),
])
def test_compat_errors(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()


@pytest.mark.parametrize("name, kwargs", [
    ("CosineAnnealingWarmRestarts", dict(T_0=3, T_mult=2, eta_min=0.05)),
    ("CosineAnnealingWarmRestarts", dict(T_0=2, T_mult=1)),
    ("CosineAnnealingLR", dict(T_max=5, eta_min=0.1)),
    ("StepLR", dict(step_size=3, gamma=0.5)),
    ("MultiStepLR", dict(milestones=[2, 7], gamma=0.3)),
    ("ExponentialLR", dict(gamma=0.8)),
    ("PolynomialLR", dict(total_iters=9, power=1.5)),
    ("LinearLR", dict(start_factor=0.2, total_iters=6)),
])
def test_fractional_epochs(name, kwargs):
    """torch's ``step(epoch)`` (fractional epochs, e.g. ``epoch + i / iters``) uses the closed forms; the
    compat schedules are the same functions between the steps. CosineAnnealingWarmRestarts' ``step(epoch)``
    finds the cycle with a floating log: the epochs where that index is off are left out (see
    test_oracles' restart test)."""
    epochs = np.arange(0, 20, 0.25)
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))], lr=1.0)
    values = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scheduler = getattr(sched, name)(optimizer, **kwargs)
        for epoch in epochs:
            scheduler.step(epoch)
            values.append(optimizer.param_groups[0]["lr"])
    values = np.array(values)
    keep = np.ones(len(epochs), dtype=bool)
    if name == "CosineAnnealingWarmRestarts" and kwargs["T_mult"] > 1:
        t0, m = kwargs["T_0"], kwargs["T_mult"]
        for k, e in enumerate(epochs):
            if e >= t0:
                logged = int(np.log(e / t0 * (m - 1) + 1) / np.log(m))
                exact = max(i for i in range(40) if t0 * (m**i - 1) / (m - 1) <= e)
                keep[k] = logged == exact
        assert keep.sum() >= len(epochs) - 3
    periods = {"periods": 2} if name == "CosineAnnealingLR" else {}
    ours = getattr(ct, name)(1.0, **kwargs, **periods)(epochs)
    assert np.max(np.abs(ours - values)[keep]) <= RTOL_PEAK
