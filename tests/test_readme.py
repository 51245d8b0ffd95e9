"""The README's example runs as written and computes what its comments say."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from tolerance import assert_agrees

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_example_runs():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "the README has no python example"
    namespace: dict = {}
    exec(compile(blocks[0], "README.md", "exec"), namespace)
    s, table, per_layer, lrs = (namespace[k] for k in ("s", "table", "per_layer", "lrs"))
    assert table.shape == (100_000,) and table[2_000] == 3e-4
    assert per_layer.curve().shape == (100_000, 12)
    assert_agrees(per_layer(2_000), 3e-4 * 0.8 ** np.arange(11, -1, -1), per_layer)
    assert lrs.dtype == np.float32 and lrs.shape == (10_000_000,)
    assert lrs.min() >= 0 and lrs.max() <= np.float32(3e-4)
