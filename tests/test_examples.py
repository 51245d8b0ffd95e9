"""Each script in examples/ runs as a subprocess, exits 0 and prints its ``OK:`` line."""

from __future__ import annotations

import importlib.util
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
EXAMPLES = {
    "numpy_per_element_lr.py": ("OK: loss", False),
    "sparse_embedding_rows.py": ("OK: ", True),
    "torch_layerwise_decay.py": ("OK: loss", True),
    "torch_lr_range_test.py": ("OK: loss", True),
}


def test_every_example_is_listed():
    assert sorted(p.name for p in (ROOT / "examples").glob("*.py")) == sorted(EXAMPLES)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_example_runs(name):
    expected, needs_torch = EXAMPLES[name]
    if needs_torch and importlib.util.find_spec("torch") is None:
        pytest.skip("torch is not installed")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + [p for p in [env.get("PYTHONPATH")] if p])
    result = subprocess.run([sys.executable, str(ROOT / "examples" / name)], capture_output=True, text=True,
                            env=env, cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert any(line.startswith(expected) for line in lines), result.stdout
