"""Shared fixtures: the ``backend`` fixture (one run per available backend) and the hypothesis profiles.

* ``backend``: parametrized over ``fastlr.backends()``; the test body runs inside
  ``fastlr.use_backend(name)`` and receives the name. ``FASTLR_TEST_BACKENDS=cpp,numba`` restricts the
  parametrization (the sanitizer job runs the C++ backend only).
* hypothesis profiles: ``ci`` (few examples, no deadline, derandomized: the same draws on every run) is
  loaded when the environment variable ``CI`` is set, ``dev`` otherwise; ``fuzz`` (many more examples,
  random) is what a developer runs before stopping (``HYPOTHESIS_PROFILE=fuzz python -m pytest``);
  every failing draw it finds becomes an ``@example`` on its test. ``HYPOTHESIS_PROFILE`` picks one.
* ``FASTLR_TEST_LIBM_JITTER=1``: the numpy reference's transcendental functions (``cos``, ``log``,
  ``log1p``, ``power``, ``tanh``) return results moved by up to ``libm_jitter_ulps`` ulps (a
  deterministic function of the argument's bits, like another libm). The agreement suite must pass
  under it: that is how a machine with one libm shows the suite would pass with another (numpy's
  AVX-512 paths), and that no pinned value depends on a transcendental's last bits.
* The tolerance table lives in ``tests/tolerance.py`` (``TOLERANCE``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

# the tests run against the package next to them unless another one is importable (an install, or the
# sanitizer job's copy on PYTHONPATH)
_ROOT = Path(__file__).resolve().parent.parent
try:
    import fastlr  # noqa: F401
except ImportError:
    sys.path.insert(0, str(_ROOT))
    import fastlr  # noqa: F401
import engines  # noqa: E402  (the backends under test, importable by test modules too)

_SLOW = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much,
         HealthCheck.function_scoped_fixture]  # `backend` only selects a backend: nothing to reset

settings.register_profile("ci", max_examples=12, deadline=None, derandomize=True, print_blob=True,
                          suppress_health_check=_SLOW, database=None)
settings.register_profile("dev", max_examples=60, deadline=None, print_blob=True,
                          suppress_health_check=_SLOW)
settings.register_profile("fuzz", max_examples=1000, deadline=None, print_blob=True,
                          suppress_health_check=_SLOW)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
settings.load_profile(PROFILE)

IN_CI = bool(os.environ.get("CI"))


def _jittered(function, ulps: int):
    """``function`` with each result moved by ``-ulps .. ulps`` ulps, chosen by a hash of the first
    argument's bits (deterministic: the same input always gives the same output, as from a libm)."""

    def perturbed(*args, **kwargs):
        result = np.asarray(function(*args, **kwargs), dtype=np.float64)
        x = np.broadcast_to(np.asarray(args[0], dtype=np.float64), result.shape)
        mixed = x.view(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        shift = (mixed >> np.uint64(59)).astype(np.int64) % (2 * ulps + 1) - ulps
        for _ in range(ulps):
            result = np.where(shift > 0, np.nextafter(result, np.inf),
                              np.where(shift < 0, np.nextafter(result, -np.inf), result))
            shift = shift - np.sign(shift)
        return result

    return perturbed


LIBM_JITTER = bool(os.environ.get("FASTLR_TEST_LIBM_JITTER"))
if LIBM_JITTER:
    from tolerance import TOLERANCE

    from fastlr import _reference

    for _name in ("cos", "log", "log1p", "power", "tanh"):
        setattr(_reference.libm, _name, _jittered(getattr(np, _name), TOLERANCE["libm_jitter_ulps"]))


BACKENDS = engines.BACKENDS


@pytest.fixture(params=BACKENDS)
def backend(request):
    """The name of a backend; the test runs with it active."""
    with fastlr.use_backend(request.param):
        yield request.param


@pytest.fixture(scope="session")
def backend_names():
    return BACKENDS


def pytest_report_header(config):
    return [f"fastlr backends under test: {', '.join(BACKENDS)} (available: {', '.join(fastlr.backends())}); "
            f"hypothesis profile: {PROFILE}; reference libm jitter: {'on' if LIBM_JITTER else 'off'}"]
