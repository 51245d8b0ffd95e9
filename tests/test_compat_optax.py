"""fastlr.compat.optax against optax itself, evaluated by jax in float64 at counts 0..n-1 (the oracle
tests' driver), within the oracle tests' tolerance (``RTOL_PEAK`` times the curve's peak)."""

from __future__ import annotations

import numpy as np
import pytest
from oracle_cases import optax_values
from test_oracles import RTOL_PEAK
from tolerance import schedule_peak

import fastlr
from fastlr.compat import optax as co

pytest.importorskip("jax")
optax = pytest.importorskip("optax")


def check(name, n, *args, **kwargs):
    expected = optax_values(getattr(optax, name)(*args, **kwargs), n)
    ours = getattr(co, name)(*args, **kwargs)
    peak = schedule_peak(ours)
    for label, got in (("curve", ours.curve(n)), ("steps", ours(np.arange(n)))):
        gap = np.abs(np.asarray(got) - expected)
        assert np.all(gap <= RTOL_PEAK * peak), (name, args, kwargs, label, int(np.argmax(gap)), got, expected)
    return ours


CASES = [
    ("constant_schedule", 4, (0.3,), {}),
    ("linear_schedule", 10, (1.0, 0.1, 4), dict(transition_begin=2)),
    ("linear_schedule", 5, (1.0, 0.1, 0), {}),  # transition_steps <= 0: constant
    ("linear_schedule", 8, (0.1, 1.0, 5), dict(transition_begin=-3)),  # negative begin: 0
    ("linear_schedule", 6, (1.0, 0.0, 2.5), {}),  # fractional length
    ("polynomial_schedule", 9, (1.0, 0.1, 2.0, 4), dict(transition_begin=1)),
    ("polynomial_schedule", 6, (1.0, 0.1, 0.0, 4), {}),  # power 0
    ("polynomial_schedule", 7, (1.0, 0.0, 0.5, 5), {}),
    ("polynomial_schedule", 3, (1.0, 0.5, 2.0, -1), {}),
    ("exponential_decay", 12, (1.0, 2, 0.5), {}),
    ("exponential_decay", 12, (1.0, 2, 0.5), dict(transition_begin=3)),
    ("exponential_decay", 12, (1.0, 2, 0.5), dict(transition_begin=3, staircase=True)),
    ("exponential_decay", 12, (1.0, 2, 0.5), dict(end_value=0.3)),
    ("exponential_decay", 6, (1.0, 2, 0.5), dict(end_value=2.0)),  # the bound wins everywhere
    ("exponential_decay", 5, (1.0, 2, 0.0), {}),  # decay_rate 0: constant init
    ("exponential_decay", 5, (1.0, 0, 0.5), {}),  # transition_steps 0: constant init
    ("exponential_decay", 5, (1.0, 2, 1.0), dict(end_value=0.5)),  # rate 1: min(init, end)
    ("exponential_decay", 14, (0.5, 2, 2.0), dict(staircase=True, end_value=3.0, transition_begin=1)),  # growth
    ("exponential_decay", 40, (1e-3, 3, 1.5), dict(end_value=0.02, transition_begin=2)),  # continuous, capped
    ("exponential_decay", 40, (1e-3, 3, 1.5), {}),  # uncapped growth (far from overflow here)
    ("exponential_decay", 40, (1e-3, 3, 1.5), dict(staircase=True)),
    ("exponential_decay", 8, (0.5, 1, 2.0), dict(staircase=True, end_value=0.4)),
    ("cosine_decay_schedule", 7, (1.0, 4), dict(alpha=0.1)),
    ("cosine_decay_schedule", 7, (2.0, 4), dict(exponent=2.0)),
    ("cosine_decay_schedule", 9, (2.0, 6), dict(exponent=3)),
    ("cosine_decay_schedule", 4, (2.0, 3), dict(exponent=0.0)),
    ("warmup_cosine_decay_schedule", 10, (0.0, 1.0, 2, 6), {}),
    ("warmup_cosine_decay_schedule", 14, (0.1, 1.0, 0, 10), dict(end_value=0.05)),
    ("warmup_cosine_decay_schedule", 6, (0.1, 0.0, 2, 4), dict(end_value=0.05)),  # peak 0 ignores end_value
    ("warmup_cosine_decay_schedule", 10, (0.0, 1.0, 3, 8), dict(exponent=2.0)),
    ("warmup_exponential_decay_schedule", 14, (0.0, 1.0, 3, 2, 0.5),
     dict(transition_begin=2, staircase=True, end_value=0.1)),
    ("warmup_exponential_decay_schedule", 6, (0.0, 1.0, 0, 2, 0.5), {}),
    ("piecewise_constant_schedule", 7, (1.0, {2: 0.5, 4: 0.1}), {}),
    ("piecewise_constant_schedule", 4, (1.0, {0: 0.5}), {}),
    ("piecewise_constant_schedule", 3, (1.0, None), {}),
    ("piecewise_constant_schedule", 6, (1.0, {-1: 0.5, 3: 2.0}), {}),
    ("piecewise_interpolate_schedule", 12, ("linear", 1.0, {3: 2.0, 5: 0.1, 9: 10.0}), {}),
    ("piecewise_interpolate_schedule", 12, ("cosine", 1.0, {3: 2.0, 5: 0.1, 9: 10.0}), {}),
    ("piecewise_interpolate_schedule", 12, ("linear", 1.0, {0: 2.0, 5: 0.1, 5.5: 3.0, 8: 0.5}), {}),
    ("piecewise_interpolate_schedule", 12, ("cosine", 1.0, {0: 2.0, 5: 0.1, 5.5: 3.0, 8: 0.5}), {}),
    ("piecewise_interpolate_schedule", 3, ("cosine", 1.0, None), {}),
    ("linear_onecycle_schedule", 13, (10, 1.0), {}),
    ("linear_onecycle_schedule", 10, (7, 2.0), dict(pct_start=0.4, pct_final=0.9, div_factor=10.0)),
    ("cosine_onecycle_schedule", 13, (10, 1.0), {}),
    ("cosine_onecycle_schedule", 8, (5, 1.0), dict(pct_start=0.4)),
    ("cosine_onecycle_schedule", 6, (3, 1.0), dict(pct_start=0.2)),  # int(0.6) = 0: no warmup phase
    ("cosine_onecycle_schedule", 6, (4, 1.0), dict(pct_start=1.0)),  # both scales on one key: optax keeps one
    ("cosine_onecycle_schedule", 40, (31, 0.5), dict(pct_start=0.3, div_factor=5.0, final_div_factor=20.0)),
]


@pytest.mark.parametrize("name, n, args, kwargs", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_matches_optax(name, n, args, kwargs):
    check(name, n, *args, **kwargs)


def test_fractional_counts():
    """optax accepts fractional counts; the translations are the same functions between the steps."""
    counts = np.linspace(0, 12, 97)
    for name, args, kwargs in [
        ("linear_schedule", (1.0, 0.1, 4), dict(transition_begin=2.5)),
        ("exponential_decay", (1.0, 2, 0.5), dict(transition_begin=3, staircase=True)),
        ("piecewise_interpolate_schedule", ("cosine", 1.0, {3: 2.0, 5: 0.1, 5.5: 3.0, 9: 1.0}), {}),
        ("piecewise_constant_schedule", (1.0, {2: 0.5, 4: 0.1}), {}),
        ("warmup_cosine_decay_schedule", (0.0, 1.0, 2.5, 8), {}),
        ("cosine_onecycle_schedule", (10, 1.0), {}),
    ]:
        import jax
        import jax.numpy as jnp

        schedule = getattr(optax, name)(*args, **kwargs)
        want = np.asarray(jax.vmap(lambda c: jnp.asarray(schedule(c), dtype=jnp.float64))(jnp.asarray(counts)))
        got = getattr(co, name)(*args, **kwargs)(counts)
        assert np.max(np.abs(got - want)) <= RTOL_PEAK * schedule_peak(getattr(co, name)(*args, **kwargs)), name


def test_cosine_onecycle_is_torch_onecycle_shifted():
    assert co.cosine_onecycle_schedule(5, 1.0, pct_start=0.4) == fastlr.OneCycle(1.0, total_steps=6, pct_start=0.5)


def test_linear_onecycle_is_piecewise_linear():
    schedule = co.linear_onecycle_schedule(10, 1.0)
    assert isinstance(schedule, fastlr.PiecewiseLinear)
    assert schedule.boundaries == (0.0, 3.0, 8.0, 10.0)


def test_sgdr_and_join():
    kwargs = [dict(init_value=0.0, peak_value=1.0, warmup_steps=1, decay_steps=4),
              dict(init_value=0.0, peak_value=0.5, warmup_steps=1, decay_steps=8, end_value=0.1)]
    check("sgdr_schedule", 16, kwargs)
    first = co.constant_schedule(1.0)
    second = co.linear_schedule(0.5, 0.0, 4)
    expected = optax_values(optax.join_schedules([optax.constant_schedule(1.0), optax.linear_schedule(0.5, 0.0, 4)],
                                                 [3]), 9)
    got = co.join_schedules([first, second], [3]).curve(9)
    assert np.max(np.abs(got - expected)) <= RTOL_PEAK


@pytest.mark.parametrize("call, match", [
    (lambda: co.exponential_decay(1.0, 2, 1.5)(10_000), "overflows float64"),
    (lambda: co.cosine_decay_schedule(1.0, 4, alpha=0.1, exponent=2.0), "exponent=2 with alpha=0.1"),
    (lambda: co.cosine_decay_schedule(1.0, 4, exponent=1.5), "exponent=1.5"),
    (lambda: co.cosine_decay_schedule(1.0, 0), "decay_steps must be > 0"),
    (lambda: co.warmup_cosine_decay_schedule(0.0, 1.0, 4, 4), "decay_steps must be > warmup_steps"),
    (lambda: co.piecewise_constant_schedule(1.0, {2: -0.5}), "scales must be >= 0"),
    (lambda: co.piecewise_constant_schedule(1.0, [2, 0.5]), "must be a dict"),
    (lambda: co.piecewise_interpolate_schedule("cubic", 1.0, {2: 0.5}), "interpolate_type"),
    (lambda: co.linear_onecycle_schedule(0, 1.0), "transition_steps must be > 0"),
    (lambda: co.linear_schedule(-1.0, 0.0, 3), "init_value must be >= 0"),
])
def test_errors(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()
