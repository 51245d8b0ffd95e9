"""Schedules as text on the command line: SPEC parsing, the short descriptions of legends and summaries,
and ``fastlr list`` (every family, combinator and preset, from the classes themselves)."""

from __future__ import annotations

import inspect
import textwrap

import numpy as np

from .. import compat
from .. import presets as P
from .. import schedules as S
from .._lr_range import lr_range, suggest_lr
from .._plateau import plateau
from .._save import save_curve
from .._spec import parse_spec, signature_text


def parse(spec: str) -> S.Schedule:
    """A SPEC (Python syntax, parsed safely) or the path of a ``to_dict()`` JSON file."""
    return parse_spec(spec)


def short_repr(schedule: S.Schedule, limit: int = 70) -> str:
    """A compact description for legends and tables: parameters at their default are left out and
    combinators are written as they are in a SPEC (``0.5 * Cosine(...)``, ``join([...], [...])``)."""
    text = _short(schedule)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _short(value) -> str:
    if isinstance(value, S.Scaled):
        return f"{S._format(value.factor)} * {_short(value.schedule)}"
    if isinstance(value, S.Product):
        return f"{_short(value.first)} * {_short(value.second)}"
    if isinstance(value, S.Join):
        inner = ", ".join(_short(s) for s in value.schedules)
        return f"join([{inner}], {S._format(value.boundaries)})"
    if isinstance(value, S.WithWarmup):
        text = f"with_warmup({_short(value.schedule)}, {S._format(value.warmup_steps)}"
        if not S._equal(value.init_lr, 0.0):
            text += f", init_lr={S._format(value.init_lr)}"
        return text + ")"
    if isinstance(value, S.Offset):
        return f"offset({_short(value.schedule)}, {S._format(value.steps)})"
    if isinstance(value, S.Schedule):
        try:
            parameters = inspect.signature(type(value)).parameters
        except (TypeError, ValueError):
            return repr(value)
        parts = []
        for name, given in value.params.items():
            parameter = parameters.get(name)
            if parameter is not None and parameter.default is not inspect.Parameter.empty:
                try:
                    if S._equal(given, parameter.default):
                        continue
                except Exception:  # noqa: BLE001 - incomparable values are simply shown
                    pass
            parts.append(f"{name}={_short(given)}")
        return f"{type(value).__name__}({', '.join(parts)})"
    if isinstance(value, np.ndarray):
        return np.array2string(value, separator=", ", threshold=4, max_line_width=10**6)
    return S._format(value)


def doc_summary(obj) -> str:
    """The first paragraph of a docstring on one line, without reST markup."""
    doc = inspect.getdoc(obj) or ""
    paragraph = doc.strip().split("\n\n")[0]
    return " ".join(paragraph.replace("``", "").split())


def list_lines(width: int = 100) -> list[str]:
    """Every family and combinator with its parameters, defaults and formula, from the classes."""

    def entry(signature: str, summary: str) -> list[str]:
        body = textwrap.wrap(summary, width=width - 6) or [""]
        return [f"  {signature}"] + [f"      {line}" for line in body]

    lines = ["Schedule families: fastlr.<Family>(parameters); value at step t (t = 0-based update index).",
             "Every numeric parameter may be a number or an array (per-group, per-parameter LRs).", ""]
    families = [cls for cls in S._REGISTRY.values() if issubclass(cls, S.Family)]
    for cls in families:
        lines += entry(signature_text(cls), doc_summary(cls))
        for name, member in vars(cls).items():
            if isinstance(member, classmethod) and not name.startswith("_"):
                method = getattr(cls, name)
                lines += entry(signature_text(method).replace(method.__qualname__,
                                                              f"{cls.__name__}.{name}"),
                               doc_summary(method))
    lines += ["", "Combinators (results are schedules like any other):", ""]
    lines += entry(signature_text(S.join) + "  -> Join", doc_summary(S.Join))
    lines += entry(signature_text(S.with_warmup) + "  -> WithWarmup", doc_summary(S.WithWarmup))
    lines += entry(signature_text(S.offset) + "  -> Offset", doc_summary(S.Offset))
    lines += entry("A * B  -> Product(first, second)", doc_summary(S.Product))
    lines += entry("x * A, A * x  -> Scaled(schedule, factor)", doc_summary(S.Scaled))
    lines += ["", "Presets (fastlr.presets):", ""]
    for name in P.__all__:
        lines += entry(signature_text(getattr(P, name)), doc_summary(getattr(P, name)))
    lines += ["", "Beyond schedules:", ""]
    for function in (plateau, lr_range, suggest_lr, save_curve):
        lines += entry(signature_text(function), doc_summary(function))
    lines += ["", "The anchors' own names (fastlr.compat: each reproduces its library, quirks included):"]
    for namespace, functions in compat.listing():
        lines += ["", f"  {namespace}:"]
        for name, summary in functions:
            lines += [f"    {name}: {summary}"] if len(name) + len(summary) < width - 6 else \
                [f"    {name}"] + [f"        {line}" for line in textwrap.wrap(summary, width=width - 10)]
    lines += ["", "SPEC examples:",
              "  fastlr curve 'WarmupCosine(peak_lr=3e-4, total_steps=100_000, warmup_steps=2_000)'",
              "  fastlr curve 'join([Linear(0, 1e-3, 500), Cosine(1e-3, 9_500)], [500])' --out lr.csv",
              "  fastlr plot 'OneCycle(0.1, 10_000)' 'Cyclic(1e-4, 1e-3, 500)' --steps 10_000 --out lr.png"]
    return lines


def cmd_list(args) -> int:
    print("\n".join(list_lines()))
    return 0
