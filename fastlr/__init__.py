"""fastlr: learning-rate schedules evaluated in bulk and in closed form.

A schedule is an immutable value ``f(t)`` of the 0-based update index ``t``: call it on a number, on
an array of steps (one per parameter, per row, per config) or ask for its ``curve``. Every numeric
parameter may be an array that broadcasts with the steps. Three backends compute the same numbers:
the C++ core (fastest), numba, and the numpy reference that is the spec.

>>> import fastlr
>>> s = fastlr.WarmupCosine(peak_lr=3e-4, total_steps=100_000, warmup_steps=2_000, min_lr=3e-5)
>>> float(s(2_000))
0.0003
"""

from __future__ import annotations

from . import groups, presets
from ._backends import (
    BackendUnavailable,
    backends,
    get_backend,
    get_num_threads,
    set_backend,
    set_num_threads,
    use_backend,
)
from ._lr_range import lr_range, suggest_lr
from ._plateau import plateau
from ._save import save_curve
from ._version import __version__ as __version__
from .compat.torch import from_torch
from .schedules import (
    Constant,
    Cosine,
    CosineRestarts,
    Cyclic,
    Exponential,
    InverseSqrt,
    InverseTime,
    Join,
    Linear,
    MultiStep,
    Offset,
    OneCycle,
    PiecewiseConstant,
    PiecewiseLinear,
    Polynomial,
    Product,
    Scaled,
    Schedule,
    StepDecay,
    Tanh,
    WarmupCosine,
    WarmupStableDecay,
    WithWarmup,
    from_dict,
    join,
    offset,
    with_warmup,
)

__all__ = [
    "BackendUnavailable",
    "Constant",
    "Cosine",
    "CosineRestarts",
    "Cyclic",
    "Exponential",
    "InverseSqrt",
    "InverseTime",
    "Join",
    "Linear",
    "MultiStep",
    "Offset",
    "OneCycle",
    "PiecewiseConstant",
    "PiecewiseLinear",
    "Polynomial",
    "Product",
    "Scaled",
    "Schedule",
    "StepDecay",
    "Tanh",
    "WarmupCosine",
    "WarmupStableDecay",
    "WithWarmup",
    "backends",
    "from_dict",
    "from_torch",
    "get_backend",
    "get_num_threads",
    "groups",
    "join",
    "lr_range",
    "offset",
    "plateau",
    "presets",
    "save_curve",
    "set_backend",
    "set_num_threads",
    "show_config",
    "suggest_lr",
    "use_backend",
    "with_warmup",
]


def show_config() -> None:
    """Print the version, each backend and why it is or is not available, the CPU features the C++
    core uses and the thread count."""
    from ._backends import config_lines

    print("\n".join(config_lines()))
