"""Shared set-up of the pytest-benchmark files.

With ``--benchmark-disable`` (the default in the normal test run, see pyproject) every benchmark runs
once, at a small size, as a smoke test that still checks its result against the reference.
"""

from __future__ import annotations

import pytest

import fastlr

FULL_SIZES = (1_000, 1_000_000, 10_000_000)
SMOKE_SIZES = (1_000, 100_000)


def pytest_generate_tests(metafunc):
    if "size" in metafunc.fixturenames:
        disabled = metafunc.config.getoption("benchmark_disable", default=False)
        sizes = SMOKE_SIZES if disabled else FULL_SIZES
        metafunc.parametrize("size", sizes, ids=[f"N={n:.0e}" for n in sizes])
    if "backend" in metafunc.fixturenames:
        # the numpy reference sits in the same group as cpp and numba
        metafunc.parametrize("backend", fastlr.backends())


@pytest.fixture
def use(backend):
    with fastlr.use_backend(backend):
        yield backend
