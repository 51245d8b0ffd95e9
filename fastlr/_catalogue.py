"""Representative schedules: every family and combinator, each built to span a run of ``n`` steps so that
every phase is exercised. One catalogue, shared by ``fastlr bench``, the benchmarks in ``bench/`` and the
tests that need a fixed set of realistic schedules (random ones come from the tests' strategies).
"""

from __future__ import annotations

from typing import Callable

from . import schedules as S


def _frac(n, x) -> float:
    return max(float(n) * x, 1.0)


#: name -> factory of a schedule whose horizon (or period scale) is ``n`` steps
FACTORIES: dict[str, Callable[[int], S.Schedule]] = {
    "Constant": lambda n: S.Constant(1e-3),
    "Linear": lambda n: S.Linear(1e-3, 1e-5, n),
    "StepDecay": lambda n: S.StepDecay(0.1, step_size=_frac(n, 0.1), gamma=0.5),
    "MultiStep": lambda n: S.MultiStep(0.1, milestones=[_frac(n, .3), _frac(n, .6), _frac(n, .9)]),
    "Exponential": lambda n: S.Exponential(0.1, gamma=0.5, step_size=_frac(n, 0.05), min_lr=1e-6),
    "InverseTime": lambda n: S.InverseTime(0.1, decay_rate=0.5, decay_steps=_frac(n, 0.01)),
    "Polynomial": lambda n: S.Polynomial(1e-3, 1e-5, n, power=2.0),
    "Cosine": lambda n: S.Cosine(1e-3, n, 1e-5),
    "CosineRestarts": lambda n: S.CosineRestarts(1e-3, _frac(n, 0.05), cycle_mult=2.0, cycle_decay=0.8),
    "WarmupCosine": lambda n: S.WarmupCosine(3e-4, n, _frac(n, 0.02), 3e-5),
    "WarmupStableDecay": lambda n: S.WarmupStableDecay(3e-4, n, _frac(n, 0.02), _frac(n, 0.2),
                                                       decay_shape="1-sqrt"),
    "OneCycle": lambda n: S.OneCycle(0.1, n),
    "Cyclic": lambda n: S.Cyclic(1e-4, 1e-3, _frac(n, 0.05), mode="triangular2"),
    "InverseSqrt": lambda n: S.InverseSqrt(1e-3, _frac(n, 0.02)),
    "Tanh": lambda n: S.Tanh(1e-3, n),
    "PiecewiseConstant": lambda n: S.PiecewiseConstant([_frac(n, .25), _frac(n, .5), _frac(n, .75)],
                                                       [1e-3, 5e-4, 2.5e-4, 1e-4]),
    "PiecewiseLinear": lambda n: S.PiecewiseLinear([0, _frac(n, 0.1), n], [0, 1e-3, 1e-5]),
    "join": lambda n: S.join([S.Linear(0, 1e-3, _frac(n, 0.1)), S.Cosine(1e-3, _frac(n, 0.9))],
                             [_frac(n, 0.1)]),
    "with_warmup": lambda n: S.with_warmup(S.Polynomial(1e-3, 0, _frac(n, 0.9)), _frac(n, 0.1)),
    "product": lambda n: S.Cosine(1e-3, n) * S.Exponential(1.0, gamma=0.5, step_size=_frac(n, 0.5)),
}


def catalogue(n: int) -> dict[str, S.Schedule]:
    """Every representative schedule, built for a run of ``n`` steps."""
    return {name: factory(n) for name, factory in FACTORIES.items()}
