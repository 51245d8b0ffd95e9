"""JAX: schedules under ``jit`` / ``vmap`` / ``grad``, as optax schedules, in float32 and with x64.

Without x64 JAX computes in float32 throughout (it has no float64), so its results are not a
rounding of the float64 result: they are compared with the float32-computation row below.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, reject
from hypothesis import strategies as st
from strategies import (
    assert_agrees,
    reference,
    schedule_peak,
    schedules,
    step_arrays,
    universe_shapes,
)
from tolerance import TOLERANCE

import fastlr
from fastlr import array_api as fa

jax = pytest.importorskip("jax")
jnp = pytest.importorskip("jax.numpy")
optax = pytest.importorskip("optax")

# The float32-computation row (to join the tolerance table): a library that computes in float32 gives
# the schedule of its float32-rounded parameters at a step within a relative STEP of t (every position
# in a phase, t / period, carries a float32 rounding of t and of the phase bounds), up to PEAK_ULPS
# float32 ulps of the schedule's peak (the rounding of each operation). The slack is the reference's
# own change under those perturbations, so a steep or periodic schedule at a large t gets what float32
# can give and no more.
FLOAT32_COMPUTE = {"step_relative": TOLERANCE["float32_compute_step_relative"],
                   "peak_ulps32": TOLERANCE["float32_compute_peak_ulps32"]}
# XLA (JAX x64 on CPU) divides by a broadcast scalar through its reciprocal, one ulp off a correctly
# rounded quotient: the same rule with a step within a few float64 ulps, then the float64 row.
XLA_FLOAT64_STEP_RELATIVE = TOLERANCE["xla_float64_step_relative"]


def _rounded_to_float32(value):
    if isinstance(value, float):
        return float(np.float32(value))
    if isinstance(value, list):
        return [_rounded_to_float32(v) for v in value]
    if isinstance(value, dict):
        return {k: _rounded_to_float32(v) for k, v in value.items()}
    return value


def perturbation_slack(schedule, steps, step_relative, round_parameters):
    """max |reference(s', t') - reference(s, t)| over t' in {t, t (1 - d), t (1 + d)} and s' in {s}
    (and s with float32-rounded parameters when ``round_parameters``)."""
    t = np.asarray(steps, dtype=np.float64)
    expected = reference(schedule, t)
    variants = [schedule]
    if round_parameters:
        try:
            variants.append(fastlr.from_dict(_rounded_to_float32(schedule.to_dict())))
        except ValueError:  # a rule that holds only before rounding (never seen): no such variant
            pass
    slack = np.zeros(np.shape(expected))
    for variant in variants:
        for factor in (1.0 - step_relative, 1.0, 1.0 + step_relative):
            slack = np.maximum(slack, np.abs(reference(variant, t * factor) - expected))
    return slack


def assert_agrees_float32_compute(result, schedule, steps, context=""):
    result = np.asarray(result)
    expected = np.asarray(reference(schedule, steps), dtype=np.float64)
    assert result.dtype == np.float32, f"{context}: dtype {result.dtype}"
    assert result.shape == expected.shape, f"{context}: shape {result.shape} != {expected.shape}"
    if expected.size == 0:
        return
    slack = perturbation_slack(schedule, steps, FLOAT32_COMPUTE["step_relative"], True)
    peak = max(float(np.max(np.abs(expected))), schedule_peak(schedule))
    allowed = slack + FLOAT32_COMPUTE["peak_ulps32"] * float(np.spacing(np.float32(peak)))
    error = np.abs(result.astype(np.float64) - expected)
    bad = error > allowed
    assert not np.any(bad), (f"{context}: {int(bad.sum())} of {bad.size} disagree; worst error "
                             f"{float(np.max(error - allowed)):.3g} beyond {FLOAT32_COMPUTE}")


def assert_agrees_xla_float64(result, schedule, steps, context=""):
    """The float64 row, against the nearest reference value over the steps XLA's division stands for."""
    result = np.asarray(result)
    expected = np.asarray(reference(schedule, steps), dtype=np.float64)
    slack = perturbation_slack(schedule, steps, XLA_FLOAT64_STEP_RELATIVE, False)
    assert_agrees(result, expected + np.clip(result - expected, -slack, slack), schedule, context=context)


@pytest.fixture(params=["float32", "x64"])
def precision(request):
    previous = bool(jax.config.jax_enable_x64)
    jax.config.update("jax_enable_x64", request.param == "x64")
    try:
        yield request.param
    finally:
        jax.config.update("jax_enable_x64", previous)


def _check(result, schedule, steps, precision, context):
    if precision == "x64":
        assert_agrees_xla_float64(result, schedule, steps, context=context)
    else:
        assert_agrees_float32_compute(result, schedule, steps, context=context)


@given(data=st.data())
def test_agrees_with_reference(precision, data):
    shape = data.draw(universe_shapes(), label="shape")
    try:
        schedule = data.draw(schedules(shape), label="schedule")
    except ValueError:  # the strategies occasionally draw invalid parameters
        reject()
    steps, _ = data.draw(step_arrays(shape, schedule, allow_scalar=False), label="steps")
    if precision == "float32" and np.asarray(steps).dtype.itemsize == 8:
        steps = np.asarray(steps).astype(np.int32 if np.asarray(steps).dtype.kind == "i" else np.float32)
    steps = np.array(steps, copy=True)
    result = jax.jit(schedule)(jnp.asarray(steps))  # eager JAX compiles every operation: far slower
    assert isinstance(result, jax.Array)
    _check(result, schedule, steps, precision, f"{precision} {schedule!r}")


def _warmup_cosine():
    return fastlr.WarmupCosine(peak_lr=1e-3, total_steps=1000, warmup_steps=100, min_lr=1e-5, init_lr=0.0)


def test_jit_and_vmap(precision):
    schedule = fastlr.join([fastlr.WarmupCosine(peak_lr=np.array([1e-3, 3e-4]), total_steps=500,
                                                warmup_steps=50, min_lr=1e-6),
                            fastlr.Constant(np.array([1e-6, 2e-6]))], [500])
    steps = np.arange(0, 700, dtype=np.int32)
    jitted = jax.jit(schedule)
    _check(jitted(jnp.asarray(steps)[:, None]), schedule, steps[:, None], precision, "jit")
    _check(jax.vmap(schedule)(jnp.asarray(steps)), schedule, steps[:, None], precision, "vmap")
    count = jnp.asarray(123, dtype=jnp.int32)
    _check(jitted(count), schedule, np.int32(123), precision, "traced int32 count")


def test_optax_training_step_matches_optax_schedule(precision):
    """adamw with the fastlr schedule, inside a jitted step, follows adamw with optax's own schedule."""
    ours = _warmup_cosine()
    theirs = optax.warmup_cosine_decay_schedule(0.0, 1e-3, 100, 1000, 1e-5)

    def train(schedule):
        optimizer = optax.adamw(learning_rate=schedule)
        params = {"w": jnp.linspace(-1.0, 1.0, 8, dtype=jnp.float32)}
        state = optimizer.init(params)

        @jax.jit
        def step(params, state):
            grads = jax.grad(lambda p: jnp.sum(jnp.sin(3 * p["w"]) + p["w"] ** 2))(params)
            updates, state = optimizer.update(grads, state, params)
            return optax.apply_updates(params, updates), state

        for _ in range(160):  # through the warmup and into the cosine
            params, state = step(params, state)
        assert params["w"].dtype == jnp.float32
        return np.asarray(params["w"], dtype=np.float64)

    ours_params, theirs_params = train(ours), train(theirs)
    assert np.all(np.isfinite(ours_params))
    # the two schedules agree to float32 rounding at every step; adam's normalised updates keep it so
    np.testing.assert_allclose(ours_params, theirs_params, rtol=0, atol=1e-5)
    steps = np.arange(0, 1200, dtype=np.int32)
    np.testing.assert_allclose(np.asarray(ours(jnp.asarray(steps)), dtype=np.float64),
                               np.asarray(theirs(jnp.asarray(steps)), dtype=np.float64),
                               rtol=0, atol=8 * float(np.spacing(np.float32(1e-3))))


def test_gradients_flow_through_array_parameters(precision):
    schedule = fastlr.WarmupCosine(peak_lr=np.array([1e-3, 2e-3]), total_steps=1000, warmup_steps=100,
                                   min_lr=np.array([1e-5, 1e-6]))
    steps = np.array([[0], [50], [100], [500], [999], [1500]])

    def total(peak, min_lr):
        return jnp.sum(fa.evaluate(schedule, jnp.asarray(steps), params={"peak_lr": peak, "min_lr": min_lr}))

    peak, min_lr = jnp.asarray([1e-3, 2e-3]), jnp.asarray([1e-5, 1e-6])
    d_peak, d_min = jax.jit(jax.grad(total, argnums=(0, 1)))(peak, min_lr)
    # linear in both: the derivatives are the schedule with (peak 1, min 0) and (peak 0, min 1)
    unit_peak = fastlr.WarmupCosine(peak_lr=1.0, total_steps=1000, warmup_steps=100, min_lr=0.0)
    unit_min = fastlr.WarmupCosine(peak_lr=0.0, total_steps=1000, warmup_steps=100, min_lr=1.0)
    expected_peak = np.sum(reference(unit_peak, steps)) * np.ones(2)
    expected_min = np.sum(reference(unit_min, steps)) * np.ones(2)
    tolerance = 1e-12 if precision == "x64" else 1e-5
    np.testing.assert_allclose(np.asarray(d_peak), expected_peak, rtol=tolerance)
    np.testing.assert_allclose(np.asarray(d_min), expected_min, rtol=tolerance)
    # a smooth non-linear parameter: d/d total_steps against a central difference of the reference
    t = np.array([[400]])

    def at(total_steps):
        return jnp.sum(fa.evaluate(schedule, jnp.asarray(t), params={"total_steps": total_steps}))

    derivative = float(jax.grad(at)(jnp.asarray(1000.0)))
    h = 1e-3

    def ref(total_steps):
        s = fastlr.WarmupCosine(peak_lr=schedule.peak_lr, total_steps=total_steps, warmup_steps=100,
                                min_lr=schedule.min_lr)
        return float(np.sum(reference(s, t)))

    central = (ref(1000 + h) - ref(1000 - h)) / (2 * h)
    np.testing.assert_allclose(derivative, central, rtol=1e-6 if precision == "x64" else 1e-2)


def test_float64_needs_x64():
    previous = bool(jax.config.jax_enable_x64)
    jax.config.update("jax_enable_x64", False)
    try:
        with pytest.raises(TypeError, match="jax_enable_x64"):
            _warmup_cosine()(jnp.arange(3), dtype=np.float64)
        with pytest.raises(TypeError, match="immutable"):
            fa.evaluate(_warmup_cosine(), jnp.arange(3), out=jnp.zeros(3))
        with pytest.raises(ValueError, match="finite and >= 0"):
            _warmup_cosine()(jnp.asarray([0, -2]))
    finally:
        jax.config.update("jax_enable_x64", previous)
