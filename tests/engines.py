"""The backends the tests run against (a module of its own: ``bench/`` has a conftest too, so test
modules import this rather than ``conftest``)."""

from __future__ import annotations

import os

import pytest

import fastlr


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


