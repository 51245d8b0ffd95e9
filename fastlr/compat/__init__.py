"""Drop-in parity with the anchor libraries: their schedulers under their own names and arguments.

- ``fastlr.compat.torch``: ``torch.optim.lr_scheduler``'s classes as functions of ``lr`` and torch's
  keyword arguments, and ``from_torch`` (also ``fastlr.from_torch``) for live scheduler objects;
- ``fastlr.compat.optax``: optax's schedule functions with optax's signatures;
- ``fastlr.compat.hf``: transformers' ``get_scheduler``;
- ``fastlr.compat.timm``: timm's schedulers, ``t`` counting updates;
- ``fastlr.compat.keras``: ``keras.optimizers.schedules``.

Each returns an ordinary fastlr schedule, built from the families and combinators, whose value at
``t`` is the anchor's LR for update ``t``. Where the engine cannot express a feature exactly (LambdaLR,
noise, growth, ...) the function raises ``ValueError``/``TypeError`` instead of approximating.
None of these modules imports the anchor library. docs/migrating.md maps every name.
"""

from __future__ import annotations

import importlib

from ._common import Unsupported

__all__ = ["NAMESPACES", "Unsupported", "listing"]

NAMESPACES = ("torch", "optax", "hf", "timm", "keras")


def _summary(obj) -> str:
    text = " ".join((obj.__doc__ or "").strip().split("\n\n", 1)[0].split())
    sentence = text.split(". ", 1)[0].rstrip(".")
    return sentence if len(sentence) <= 110 else sentence[:107].rsplit(" ", 1)[0] + " ..."


def listing() -> list[tuple[str, list[tuple[str, str]]]]:
    """The compat namespaces and their functions, for ``fastlr list``: ``[(namespace, [(name, one-line
    description), ...]), ...]``, namespaces as ``fastlr.compat.<name>``, functions in alphabetical order."""
    result = []
    for name in NAMESPACES:
        module = importlib.import_module(f"{__name__}.{name}")
        entries = [(function, _summary(getattr(module, function))) for function in sorted(module.__all__)
                   if callable(getattr(module, function))]
        result.append((f"{__name__}.{name}", entries))
    return result
