"""Every backend, the numpy reference included, against exact math (the mpmath oracle of ``exact.py``).

The allowance is the one table's ``exact_peak_ulps`` ulps of the schedule's peak in float64, and one
float32 ulp of the rounded exact value (plus that) in float32. Pinned values (``test_properties``'s
``test_exact_at_pinned_points``) are held to equality elsewhere; here every step counts: the phase
boundaries, a step either side of them, fractional steps and large ones.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import mpmath
import numpy as np
import pytest
from engines import BACKENDS
from exact import exact, exact_mp
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import FAMILIES, family_schedules, schedules
from tolerance import TOLERANCE, assert_exact, schedule_peak

import fastlr

ENGINES = tuple(dict.fromkeys(BACKENDS + ("numpy",)))  # the reference is measured too


def _steps(schedule, rng) -> np.ndarray:
    """Steps where something happens (phase ends and a step either side), fractional steps and large
    ones (the oracle costs ~0.1 ms a point: a few dozen per schedule)."""
    horizon = schedule.horizon
    horizon = 3000.0 if horizon is None or not math.isfinite(horizon) else max(float(horizon), 1.0)
    points = [0.0, 1.0, horizon - 1, horizon, horizon + 1, 2 * horizon, 1e6, 2.0**40 + 0.5]
    params = schedule._values
    for key in ("total_steps", "warmup_steps", "decay_steps", "step_size", "cycle_steps", "step_size_up"):
        value = params.get(key)
        if value is not None and np.ndim(value) == 0:
            v = float(value)
            points += [v - 1, v - 0.5, v, np.nextafter(v, 0.0), v + 0.5, v + 1]
    for key in ("milestones", "boundaries"):
        for b in params.get(key, ()) or ():
            points += [float(b) - 1, float(b), float(b) + 0.25]
    points += list(rng.uniform(0, 1.2 * horizon, 16))
    points += list(np.floor(rng.uniform(0, 1.2 * horizon, 8)))
    return np.array(sorted(p for p in points if p >= 0 and math.isfinite(p)))


def _check_engines(schedule, steps):
    want = exact(schedule, steps)
    for engine in ENGINES:
        with fastlr.use_backend(engine):
            got = schedule(steps)
            got32 = schedule(steps, dtype=np.float32)
        assert_exact(got, want, schedule, context=f"{engine}: {schedule!r}")
        assert_exact(got32, want, schedule, np.float32, context=f"{engine} float32: {schedule!r}")


@pytest.mark.parametrize("family", sorted(FAMILIES))
@given(data=st.data())
def test_family_near_exact(family, data):
    schedule = data.draw(family_schedules(family, shape=()), label="schedule")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    _check_engines(schedule, _steps(schedule, rng))


@given(data=st.data())
def test_composite_near_exact(data):
    schedule = data.draw(schedules(shape=(), composite=True), label="schedule")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    _check_engines(schedule, _steps(schedule, rng))


@pytest.mark.parametrize("schedule", [
    fastlr.MultiStep(3e-4, [10, 20, 30], gamma=0.37),
    fastlr.StepDecay(1.0, 7, gamma=0.9999),
    fastlr.CosineRestarts(1.0, 10, 0.0, cycle_mult=3, cycle_decay=0.7),
    fastlr.Exponential(2.0, 0.93, 5, staircase=True),
], ids=repr)
def test_integer_powers_correctly_rounded(schedule):
    """The decays' integer powers are correctly rounded in every engine: at each milestone the value is
    ``lr`` times the correctly rounded ``gamma ** k``, rounded once (the pin, whatever the libm)."""
    steps = np.arange(0.0, 200.0)
    p = schedule._values
    gamma = p.get("gamma", p.get("cycle_decay"))
    lr = p.get("lr", p.get("peak_lr"))
    if isinstance(schedule, fastlr.MultiStep):
        counts = [sum(1 for m in p["milestones"] if m <= t) for t in steps]
    elif isinstance(schedule, fastlr.CosineRestarts):  # cycle starts 0, 10, 40, 130: the peaks there
        steps = np.array([0.0, 10.0, 40.0, 130.0])
        counts = [0, 1, 2, 3]
    else:
        counts = [int(t // p["step_size"]) for t in steps]
    with mpmath.workdps(60):
        want = np.array([lr * float(mpmath.mpf(gamma) ** k) for k in counts])
    for engine in ENGINES:
        with fastlr.use_backend(engine):
            np.testing.assert_array_equal(schedule(steps), want, err_msg=engine)


def test_docs_table_is_the_table():
    """docs/accuracy.md shows the one table: the same names and values."""
    text = (Path(__file__).resolve().parent.parent / "docs" / "accuracy.md").read_text()
    rows = dict(re.findall(r"^\| `(\w+)` \| ([0-9.e-]+) \|", text, flags=re.M))
    assert {k: float(v) for k, v in rows.items()} == {k: float(v) for k, v in TOLERANCE.items()}


def report(examples: int = 60) -> None:
    """Print the worst error against the oracle per family and engine, in ulps of the peak."""
    worst: dict[tuple[str, str], float] = {}

    def record(label, schedule, steps):
        want = [exact_mp(schedule, float(t)) for t in steps]
        unit = np.spacing(schedule_peak(schedule)) if schedule_peak(schedule) > 0 else 1.0
        for engine in ENGINES:
            with fastlr.use_backend(engine):
                got = schedule(steps)
            error = max((abs(float(g) - w) for g, w in zip(got, want)), default=0.0)
            key = (label, engine)
            worst[key] = max(worst.get(key, 0.0), float(error) / unit)

    for family in sorted(FAMILIES):
        @settings(max_examples=examples, derandomize=True, database=None, deadline=None)
        @given(data=st.data())
        def run(data):
            s = data.draw(family_schedules(family, shape=()))
            record(family, s, _steps(s, np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))))

        run()
    names = sorted({label for label, _ in worst})
    print(f"worst |error| against exact math, in ulps of the schedule's peak ({examples} schedules per family)")
    print("| family | " + " | ".join(ENGINES) + " |")
    print("|---|" + "---|" * len(ENGINES))
    for label in names:
        print(f"| {label} | " + " | ".join(f"{worst[(label, e)]:.2f}" for e in ENGINES) + " |")
