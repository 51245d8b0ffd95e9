"""Shared fixtures: the ``backend`` fixture (one run per available backend) and the hypothesis profiles.

* ``backend``: parametrized over ``fastlr.backends()``; the test body runs inside
  ``fastlr.use_backend(name)`` and receives the name. ``FASTLR_TEST_BACKENDS=cpp,numba`` restricts the
  parametrization (the sanitizer job runs the C++ backend only).
* hypothesis profiles: ``ci`` (few examples, no deadline, derandomized) is loaded when the environment
  variable ``CI`` is set, ``dev`` otherwise; ``HYPOTHESIS_PROFILE`` picks one explicitly.
* The tolerance table lives in ``tests/strategies.py`` (``TOLERANCE``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

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

_SLOW = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much,
         HealthCheck.function_scoped_fixture]  # `backend` only selects a backend: nothing to reset

settings.register_profile("ci", max_examples=12, deadline=None, derandomize=True, print_blob=True,
                          suppress_health_check=_SLOW, database=None)
settings.register_profile("dev", max_examples=60, deadline=None, print_blob=True,
                          suppress_health_check=_SLOW)
settings.register_profile("thorough", max_examples=1000, deadline=None, suppress_health_check=_SLOW)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
settings.load_profile(PROFILE)

IN_CI = bool(os.environ.get("CI"))


def test_backends() -> tuple[str, ...]:
    """The backends the tests run against: ``fastlr.backends()``, optionally restricted."""
    available = fastlr.backends()
    wanted = os.environ.get("FASTLR_TEST_BACKENDS")
    if not wanted:
        return available
    names = tuple(n.strip() for n in wanted.split(",") if n.strip())
    missing = [n for n in names if n not in available]
    if missing:
        raise pytest.UsageError(f"FASTLR_TEST_BACKENDS asks for {missing}, but fastlr.backends() is "
                                f"{available}")
    return names


test_backends.__test__ = False  # not a test

BACKENDS = test_backends()


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
            f"hypothesis profile: {PROFILE}"]
