"""PyTorch integration: a closed-form ``LRScheduler`` and zero-copy evaluation into CPU tensors.

``import fastlr`` never imports torch; ``import fastlr.torch`` does (torch >= 2.2).

The scheduler
-------------
``fastlr.torch.LRScheduler(optimizer, schedule)`` is a ``torch.optim.lr_scheduler.LRScheduler``. At every
``step()`` it writes the closed form ``schedule(last_epoch)`` into the param groups; nothing is updated
recursively, so the LR of update ``t`` is exactly ``schedule(t)`` however the run got to ``t`` (resumed,
stepped with ``step(epoch)``, ...). Call ``scheduler.step()`` after ``optimizer.step()``, as with any torch
scheduler: the LR of the k-th update (0-based) is ``schedule(k)``.

- A scalar schedule (``param_shape == ()``) gives every group the same LR.
- A schedule with ``param_shape == (n_groups,)`` gives group ``i`` the LR ``schedule(t)[i]``; build one
  with array parameters (``Cosine(peak_lr=[1e-3, 1e-4], ...)``) or with multipliers
  (``schedule * fastlr.groups.layerwise_decay(12, 0.75)``).
- ``LRScheduler.relative(optimizer, schedule)`` multiplies each group's initial LR
  (``group['initial_lr']``, set from ``group['lr']`` on first use, as torch does) by the schedule:
  ``lr_i = initial_lr_i * schedule(t)[i]`` (``LambdaLR`` semantics). Use it with a schedule whose peak is 1
  to keep the layer-wise decay, head/backbone split, ... set up in the optimizer's groups.
- Groups whose ``lr`` is a tensor (fused/compiled optimizers, CUDA graphs) are updated in place with
  ``group['lr'].fill_(value)``; the tensor object is never replaced.

Checkpoints: ``state_dict()`` holds ``last_epoch``, the base LRs and the schedule itself as
``schedule.to_dict()`` (plain dicts, lists, floats and strings: picklable, JSON-able and loadable with
``torch.load(..., weights_only=True)``). ``load_state_dict(state)`` restores the position and writes
``schedule(last_epoch)`` into the groups at once, so the next update uses the right LR even if the
optimizer's state is not loaded. **It refuses a checkpoint whose schedule differs from this scheduler's
(ValueError)**: changing the schedule of a run must be an explicit decision, never a side effect of loading.
Either adopt the saved schedule with ``LRScheduler.from_state_dict(optimizer, state)``, or continue with the
new schedule on purpose by deleting the key first (``state.pop("schedule")``).

In-place evaluation into tensors
--------------------------------
Every schedule writes into any C-contiguous, writable float32/float64 CPU buffer numpy can view without a
copy, torch tensors included (through DLPack)::

    steps = torch.zeros(n_rows, dtype=torch.int64)      # e.g. one step count per embedding row
    lrs = torch.empty(n_rows, dtype=torch.float64)
    schedule(steps, out=lrs)                             # no allocation: writes into lrs' memory

A wrong dtype, shape or device, a read-only or non-contiguous ``out``, or an ``out`` that overlaps the
steps is a ``TypeError``/``ValueError`` raised before anything is written.

Tensors on any device
---------------------
``schedule(t)`` with a tensor ``t`` returns a tensor on ``t``'s device. On the CPU it is computed by the
C++ core (zero-copy through DLPack, the same bits as a numpy call); on CUDA or MPS by torch operations
on the device (the program of ``docs/engine.md`` run by ``fastlr.array_api``), with the schedule's array
parameters moved to the device once and kept there: a per-parameter LR vector is computed where it
is used, without a host round trip::

    steps = torch.zeros(n, dtype=torch.int64, device="cuda")      # one step count per parameter
    lrs = schedule(steps)                                         # float64 on cuda (float32 on MPS)
    schedule(steps, out=lrs)                                      # in place, same device and shape

``fused(schedule)`` compiles the evaluation with ``torch.compile`` into a few elementwise kernels (one
pass over memory) for large tensors. A CPU ``out=`` with CPU steps keeps the zero-copy route above; an
``out`` on another device than the steps is refused (``ValueError``) before anything is written.

``LRScheduler`` writes Python floats into the groups (``fill_`` for tensor LRs, on any device).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from torch.optim.lr_scheduler import LRScheduler as _TorchLRScheduler

from ._backends import scalar_function as _scalar_function
from .schedules import Schedule, from_dict

__all__ = ["LRScheduler"]


def _check_schedule(schedule, n_groups: int) -> Schedule:
    if not isinstance(schedule, Schedule):
        raise TypeError(f"schedule must be a fastlr schedule, got {type(schedule).__name__}")
    shape = tuple(schedule.param_shape)
    if shape not in ((), (n_groups,)):
        raise ValueError(f"schedule has param_shape {shape}, but the optimizer has {n_groups} param "
                         f"group(s): expected param_shape () (one LR for all groups) or ({n_groups},) "
                         f"(one LR per group)")
    return schedule


def _as_float(value) -> float:
    return float(value.item()) if isinstance(value, torch.Tensor) else float(value)


class LRScheduler(_TorchLRScheduler):
    """Writes ``schedule(t)`` (absolute) or ``initial_lr * schedule(t)`` (``relative``) into each param
    group at every step, in closed form. See the module docstring for checkpoints and GPU use.

    ``last_epoch``: torch's meaning (the index of the last completed update; -1 for a fresh run). Prefer
    ``load_state_dict`` to resume.
    """

    def __init__(self, optimizer: torch.optim.Optimizer, schedule: Schedule, last_epoch: int = -1,
                 *, relative: bool = False):
        if not isinstance(optimizer, torch.optim.Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        self.schedule = _check_schedule(schedule, len(optimizer.param_groups))
        self.relative_to_initial_lr = bool(relative)
        super().__init__(optimizer, last_epoch)

    @classmethod
    def relative(cls, optimizer: torch.optim.Optimizer, schedule: Schedule,
                 last_epoch: int = -1) -> LRScheduler:
        """``lr_i(t) = group_i['initial_lr'] * schedule(t)[i]``: the schedule is a factor of each group's
        initial LR (``LambdaLR`` semantics), so per-group LRs set in the optimizer are kept."""
        return cls(optimizer, schedule, last_epoch, relative=True)

    @classmethod
    def from_state_dict(cls, optimizer: torch.optim.Optimizer, state_dict: dict[str, Any]) -> LRScheduler:
        """A scheduler that adopts the schedule and mode saved in ``state_dict`` and resumes from it."""
        if "schedule" not in state_dict:
            raise ValueError("state_dict holds no schedule (was it saved by fastlr.torch.LRScheduler?)")
        schedule = from_dict(state_dict["schedule"])
        scheduler = cls(optimizer, schedule, relative=bool(state_dict.get("relative_to_initial_lr", False)))
        scheduler.load_state_dict(state_dict)
        return scheduler

    # ------------------------------------------------------------------ the closed form

    def lrs_at(self, t) -> list[float]:
        """The LR of each param group at update ``t`` (a number >= 0), as Python floats."""
        n = len(self.optimizer.param_groups)
        if not self.schedule.param_shape and type(t) in (int, float) and 0 <= t < math.inf:
            # the scalar route of the active backend, as a Python float (no numpy scalar in between)
            values = [_scalar_function(self.schedule)(float(t))] * n
        else:
            t = float(t) if not isinstance(t, int) else t
            values = self.schedule(t)
            values = [float(values)] * n if np.ndim(values) == 0 else values.tolist()
        if self.relative_to_initial_lr:
            values = [_as_float(base) * value for base, value in zip(self.base_lrs, values)]
        return values

    def get_lr(self) -> list[float]:
        """``schedule(last_epoch)`` for every group (never a recursive update)."""
        return self.lrs_at(self.last_epoch)

    def _get_closed_form_lr(self) -> list[float]:
        return self.lrs_at(self.last_epoch)

    # ------------------------------------------------------------------ checkpoints

    def state_dict(self) -> dict[str, Any]:
        """Everything but the optimizer, with the schedule as ``schedule.to_dict()`` (self-contained)."""
        state = {key: value for key, value in self.__dict__.items() if key not in ("optimizer", "schedule")}
        state["schedule"] = self.schedule.to_dict()
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore the position saved by ``state_dict`` and write its LRs into the groups.

        Raises ``ValueError`` if the saved schedule or mode differs from this scheduler's (see the module
        docstring: use ``from_state_dict`` to adopt it, or drop the ``"schedule"`` key to switch on
        purpose)."""
        state = dict(state_dict)
        saved = state.pop("schedule", None)
        if saved is not None:
            saved_schedule = from_dict(saved)
            if saved_schedule != self.schedule:
                raise ValueError(f"the checkpoint was saved with schedule {saved_schedule!r}, but this "
                                 f"scheduler has {self.schedule!r}; use LRScheduler.from_state_dict("
                                 f"optimizer, state) to adopt the saved one, or delete state['schedule'] "
                                 f"to switch schedules on purpose")
        mode = state.get("relative_to_initial_lr", self.relative_to_initial_lr)
        if bool(mode) != self.relative_to_initial_lr:
            raise ValueError(f"the checkpoint was saved by a {'relative' if mode else 'absolute'} scheduler, "
                             f"but this one is {'relative' if self.relative_to_initial_lr else 'absolute'}")
        n_groups = len(self.optimizer.param_groups)
        if "base_lrs" in state and len(state["base_lrs"]) != n_groups:
            raise ValueError(f"the checkpoint has {len(state['base_lrs'])} param group(s), the optimizer "
                             f"has {n_groups}")
        last = state.get("last_epoch", self.last_epoch)
        if not (isinstance(last, (int, float)) and math.isfinite(last)):
            raise ValueError(f"state_dict: last_epoch must be a finite number, got {last!r}")
        self.__dict__.update(state)
        if self.last_epoch >= 0:
            for group, value in zip(self.optimizer.param_groups, self.get_lr()):
                _fill(group, value)
            self._last_lr = [group["lr"].clone() if isinstance(group["lr"], torch.Tensor) else group["lr"]
                             for group in self.optimizer.param_groups]

    def __repr__(self) -> str:
        mode = ".relative" if self.relative_to_initial_lr else ""
        return f"fastlr.torch.LRScheduler{mode}({self.schedule!r}, last_epoch={self.last_epoch})"


def _fill(group: dict, value: float) -> None:
    """Write ``value`` into ``group['lr']``: in place for a tensor LR, never replacing the tensor."""
    if isinstance(group["lr"], torch.Tensor):
        group["lr"].fill_(value)
    else:
        group["lr"] = value


def fused(schedule: Schedule, **compile_options: Any):
    """``schedule`` as one compiled function of device tensors: ``f(t, *, out=None, dtype=None,
    params=None)``, the same contract as ``fastlr.array_api.evaluate`` (validation, ``out=`` in place,
    ``params=`` replacing parameters by name), with the evaluation itself compiled by ``torch.compile``
    (``fullgraph=True``; ``compile_options`` are passed on). On CUDA this fuses the program into a few
    elementwise kernels: one read of the steps and array parameters, one write of the result (into
    ``out`` itself when given).

    The first call with a new device, dtype or shape compiles (seconds); later calls reuse it. Steps are
    validated before the kernel runs (one reduction and one host synchronisation per call).
    """
    from . import _array_api

    if not isinstance(schedule, Schedule):
        raise TypeError(f"schedule must be a fastlr schedule, got {type(schedule).__name__}")
    decoded = _array_api.decode(schedule._program())
    xp = _array_api.compat().array_namespace(torch.zeros(0))

    def body(t, compute_dtype, operands, shape, dtype, out):
        ctx = _array_api._Context(xp, compute_dtype, t.device)
        value = _array_api.run(decoded, t.to(compute_dtype), ctx, operands)
        return _array_api.finish(ctx, value, shape, dtype, out)

    options = {"fullgraph": True, **compile_options}
    kernel = torch.compile(body, **options)

    def runner(t, ctx, operands, shape, dtype, out):
        return kernel(t, ctx.dtype, list(operands), shape, dtype, out)

    def evaluate(t, *, out=None, dtype=None, params=None):
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"t must be a torch tensor, got {type(t).__name__}")
        return _array_api.call(schedule, t, out, dtype, params, runner=runner)

    evaluate.__doc__ = f"{schedule!r}, compiled with torch.compile."
    evaluate._kernel = runner  # the compiled evaluation without the checks (benchmarks measure it alone)
    return evaluate
