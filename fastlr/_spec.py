"""The safe SPEC parser of the command line: a schedule written as in Python, or a ``to_dict`` JSON file.

``parse_spec("WarmupCosine(peak_lr=3e-4, total_steps=100_000, warmup_steps=2_000)")`` builds the
schedule without ``eval``: the text is parsed with :mod:`ast` and the tree is walked, allowing only

* calls to fastlr's public schedule classes, ``join``, ``with_warmup``, ``InverseSqrt.noam``, the
  presets (``presets.vision(...)`` or ``vision(...)``) and ``array([...])`` (as ``repr`` prints arrays),
  optionally prefixed with ``fastlr.``;
* constants: numbers (underscores allowed), strings, ``None``, ``True``, ``False``, ``inf``;
* lists and tuples (milestones, boundaries, values, array parameters), unary ``-``/``+``;
* ``*`` between schedules and numbers/lists (``A * B``, ``0.5 * A``, ``[1, 0.5] * A``), and ``+ - * / **``
  between plain numbers (``3e-4 / 10``, ``2**20``).

Anything else (names, attributes, subscripts, comprehensions, lambdas, ...) is rejected with a message
naming it. Every problem raises :class:`SpecError` (a ``ValueError``) with a one-line message; a
misspelled name or parameter comes with the closest valid names. ``repr(schedule)`` parses back to an
equal schedule.
"""

from __future__ import annotations

import ast
import difflib
import inspect
import json
import math
import os
from typing import Any, Callable

import numpy as np

from . import presets as _presets
from . import schedules as _schedules
from ._backends import BackendUnavailable

__all__ = ["SpecError", "parse_spec", "allowed_callables", "signature_text"]

MAX_SPEC_LENGTH = 1_000_000
_MAX_INT_POWER = 256


class SpecError(ValueError):
    """A SPEC that does not describe a valid schedule (the message is one line, for the CLI)."""


def _array(value):
    """``array([...])`` as printed by ``repr`` of a schedule with array parameters."""
    try:
        result = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"array: expected a (nested) list of numbers ({error})") from None
    return result


def allowed_callables() -> dict[str, Callable]:
    """Dotted name -> callable, for every name a SPEC may call."""
    table: dict[str, Callable] = dict(_schedules._REGISTRY)
    table["join"] = _schedules.join
    table["with_warmup"] = _schedules.with_warmup
    table["offset"] = _schedules.offset
    table["InverseSqrt.noam"] = _schedules.InverseSqrt.noam
    for name in _presets.__all__:
        table[f"presets.{name}"] = getattr(_presets, name)
        table[name] = getattr(_presets, name)
    for name in list(table):
        table[f"fastlr.{name}"] = table[name]
    table["array"] = _array
    table["np.array"] = _array
    table["numpy.array"] = _array
    return table


_CONSTANT_NAMES = {"inf": math.inf, "math.inf": math.inf, "np.inf": math.inf, "numpy.inf": math.inf}


def _display_name(func: Callable) -> str:
    qualname = getattr(func, "__qualname__", getattr(func, "__name__", "schedule"))
    if getattr(func, "__module__", "") == _presets.__name__:
        return f"presets.{qualname}"
    return qualname


def signature_text(func: Callable) -> str:
    """``name(param, param=default, ...)`` from the callable's signature."""
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):
        return _display_name(func)
    parts = []
    for parameter in signature.parameters.values():
        if parameter.default is inspect.Parameter.empty:
            parts.append(parameter.name)
        else:
            parts.append(f"{parameter.name}={parameter.default!r}")
    return f"{_display_name(func)}({', '.join(parts)})"


def _suggest(word: str, candidates, n: int = 3) -> str:
    close = difflib.get_close_matches(word, list(candidates), n=n, cutoff=0.6)
    if not close:
        lowered = {c.lower(): c for c in candidates}
        close = [lowered[c] for c in difflib.get_close_matches(word.lower(), list(lowered), n=n, cutoff=0.6)]
    if not close:
        return ""
    return "; did you mean " + " or ".join(repr(c) for c in close) + "?"


def _dotted(node: ast.AST) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def _where(node: ast.AST) -> str:
    column = getattr(node, "col_offset", None)
    return f" (at column {column + 1})" if column is not None else ""


_NODE_WORDS = {
    ast.Subscript: "subscripts", ast.Lambda: "lambdas", ast.ListComp: "comprehensions",
    ast.SetComp: "comprehensions", ast.DictComp: "comprehensions", ast.GeneratorExp: "generators",
    ast.Dict: "dicts", ast.Set: "sets", ast.Compare: "comparisons", ast.BoolOp: "'and'/'or'",
    ast.IfExp: "conditional expressions", ast.JoinedStr: "f-strings", ast.NamedExpr: "assignments",
    ast.Starred: "'*' unpacking", ast.Await: "await", ast.Yield: "yield",
}


class _Evaluator:
    def __init__(self) -> None:
        self.callables = allowed_callables()
        self.public = sorted(name for name in self.callables
                             if not name.startswith(("fastlr.", "np.", "numpy.")))

    # ---------------------------------------------------------------------------------------------
    def eval(self, node: ast.AST) -> Any:
        method = getattr(self, f"_{type(node).__name__}", None)
        if method is None:
            word = _NODE_WORDS.get(type(node), type(node).__name__)
            raise SpecError(f"{word} are not allowed in a SPEC{_where(node)}: only calls to fastlr "
                            f"schedules, numbers, strings, lists, unary minus and '*'")
        return method(node)

    def _Expression(self, node):
        return self.eval(node.body)

    def _Constant(self, node):
        value = node.value
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        if isinstance(value, complex):
            raise SpecError(f"complex numbers are not allowed in a SPEC{_where(node)}: {value!r}")
        raise SpecError(f"constant {value!r} is not allowed in a SPEC{_where(node)}")

    def _List(self, node):
        return [self.eval(item) for item in node.elts]

    def _Tuple(self, node):
        return [self.eval(item) for item in node.elts]

    def _Name(self, node):
        return self._reference(node)

    def _Attribute(self, node):
        return self._reference(node)

    def _reference(self, node):
        name = _dotted(node)
        if name is None:
            raise SpecError(f"attribute access is not allowed in a SPEC{_where(node)}")
        if name in _CONSTANT_NAMES:
            return _CONSTANT_NAMES[name]
        if "." in name:
            raise SpecError(f"attribute access is not allowed in a SPEC{_where(node)}: {name!r} (only the "
                            f"'fastlr.' and 'presets.' prefixes and InverseSqrt.noam)")
        if name in self.callables:
            raise SpecError(f"{name} must be called with its parameters{_where(node)}, e.g. "
                            f"{signature_text(self.callables[name])}")
        hint = _suggest(name, self.public)
        raise SpecError(f"unknown name {name!r} in SPEC{_where(node)}{hint}"
                        + ("" if hint else " (see 'fastlr list')"))

    def _UnaryOp(self, node):
        if not isinstance(node.op, (ast.USub, ast.UAdd)):
            raise SpecError(f"operator {type(node.op).__name__} is not allowed in a SPEC{_where(node)}")
        value = self.eval(node.operand)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            if isinstance(value, list) and isinstance(node.op, ast.USub):
                return _negate(value, node)
            raise SpecError(f"unary minus/plus applies to numbers only{_where(node)}, got {_kind(value)}")
        return -value if isinstance(node.op, ast.USub) else value

    def _BinOp(self, node):
        left, right = self.eval(node.left), self.eval(node.right)
        op = node.op
        if isinstance(op, ast.Mult) and (isinstance(left, _schedules.Schedule) or
                                          isinstance(right, _schedules.Schedule)):
            other = right if isinstance(left, _schedules.Schedule) else left
            if not (isinstance(other, (_schedules.Schedule, int, float, list, np.ndarray))
                    and not isinstance(other, bool)):
                raise SpecError(f"a schedule can only be multiplied by a schedule, a number or a list of "
                                f"numbers{_where(node)}, got {_kind(other)}")
            return _call_library(lambda: left * right)
        if not (_is_number(left) and _is_number(right)):
            symbol = _OPERATOR_SYMBOLS.get(type(op), type(op).__name__)
            if symbol == "*":
                raise SpecError(f"'*' needs a schedule or two numbers{_where(node)}, got {_kind(left)} * "
                                f"{_kind(right)}")
            raise SpecError(f"'{symbol}' is only allowed between numbers{_where(node)} (schedules combine "
                            f"with '*', join(...) and with_warmup(...))")
        try:
            if isinstance(op, ast.Add):
                return left + right
            if isinstance(op, ast.Sub):
                return left - right
            if isinstance(op, ast.Mult):
                return left * right
            if isinstance(op, ast.Div):
                return left / right
            if isinstance(op, ast.Pow):
                if isinstance(left, int) and isinstance(right, int) and (
                        abs(right) > _MAX_INT_POWER or left.bit_length() * abs(right) > 4096):
                    return float(left) ** float(right)
                result = left ** right
                if isinstance(result, complex):
                    raise SpecError(f"{left!r} ** {right!r} is not a real number{_where(node)}")
                return result
        except ZeroDivisionError:
            raise SpecError(f"division by zero in SPEC{_where(node)}") from None
        except OverflowError:
            raise SpecError(f"number too large in SPEC{_where(node)}") from None
        symbol = _OPERATOR_SYMBOLS.get(type(op), type(op).__name__)
        raise SpecError(f"operator {symbol!r} is not allowed in a SPEC{_where(node)}")

    def _Call(self, node):
        name = _dotted(node.func)
        if name is None:
            raise SpecError(f"this call is not allowed in a SPEC{_where(node)}: only fastlr schedules, "
                            f"functions and presets can be called")
        func = self.callables.get(name)
        if func is None and "__" in name:
            raise SpecError(f"calling {name!r} is not allowed in a SPEC{_where(node)}")
        if func is None:
            hint = _suggest(name, self.public)
            raise SpecError(f"unknown schedule {name!r}{_where(node)}{hint}"
                            + ("" if hint else " (see 'fastlr list')"))
        args = []
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                raise SpecError(f"'*' unpacking is not allowed in a SPEC{_where(arg)}")
            args.append(self.eval(arg))
        kwargs = {}
        for keyword in node.keywords:
            if keyword.arg is None:
                raise SpecError(f"'**' unpacking is not allowed in a SPEC{_where(keyword.value)}")
            if keyword.arg in kwargs:
                raise SpecError(f"{name}: parameter {keyword.arg!r} given twice")
            kwargs[keyword.arg] = self.eval(keyword.value)
        _check_arguments(name, func, args, kwargs)
        return _call_library(lambda: func(*args, **kwargs))


_OPERATOR_SYMBOLS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**",
                     ast.FloorDiv: "//", ast.Mod: "%", ast.MatMult: "@", ast.BitAnd: "&", ast.BitOr: "|",
                     ast.BitXor: "^", ast.LShift: "<<", ast.RShift: ">>"}


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _kind(value) -> str:
    if isinstance(value, _schedules.Schedule):
        return "a schedule"
    if value is None:
        return "None"
    if isinstance(value, bool):
        return f"a boolean ({value})"
    if isinstance(value, str):
        return f"a string ({value!r})"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def _negate(values: list, node):
    result = []
    for value in values:
        if isinstance(value, list):
            result.append(_negate(value, node))
        elif _is_number(value):
            result.append(-value)
        else:
            raise SpecError(f"unary minus applies to numbers only{_where(node)}, got {_kind(value)}")
    return result


def _check_arguments(name: str, func: Callable, args: list, kwargs: dict) -> None:
    """A misspelled, missing or repeated parameter, with the closest valid names."""
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):
        return
    parameters = signature.parameters
    display = name.removeprefix("fastlr.")
    for key in kwargs:
        if key not in parameters:
            hint = _suggest(key, parameters)
            raise SpecError(f"{display} has no parameter {key!r}{hint} (parameters: {', '.join(parameters)})")
    try:
        signature.bind(*args, **kwargs)
    except TypeError as error:
        message = str(error)
        missing = [p.name for p in list(parameters.values())[len(args):]
                   if p.default is inspect.Parameter.empty and p.name not in kwargs]
        if missing:
            raise SpecError(f"{display}: missing required parameter{'s' if len(missing) > 1 else ''} "
                            f"{', '.join(repr(m) for m in missing)} "
                            f"(signature: {signature_text(func)})") from None
        if "too many positional" in message:
            raise SpecError(f"{display} takes at most {len(parameters)} arguments, got {len(args)} "
                            f"(signature: {signature_text(func)})") from None
        raise SpecError(f"{display}: {message} (signature: {signature_text(func)})") from None


def _call_library(thunk: Callable) -> Any:
    try:
        return thunk()
    except SpecError:
        raise
    except (TypeError, ValueError, BackendUnavailable, OverflowError, ZeroDivisionError) as error:
        raise SpecError(_one_line(str(error))) from None


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _looks_like_path(text: str) -> bool:
    stripped = text.strip()
    return stripped.lower().endswith(".json") or (os.sep in stripped and "(" not in stripped)


def load_json_spec(path: str):
    """A schedule from a JSON file written from ``schedule.to_dict()``."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except FileNotFoundError:
        raise SpecError(f"no such SPEC file: {path!r}") from None
    except IsADirectoryError:
        raise SpecError(f"SPEC file {path!r} is a directory") from None
    except json.JSONDecodeError as error:
        raise SpecError(f"SPEC file {path!r} is not valid JSON: {error}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise SpecError(f"cannot read SPEC file {path!r}: {error}") from None
    return _from_data(data, f"SPEC file {path!r}")


def _from_data(data, where: str):
    if not isinstance(data, dict) or "type" not in data:
        raise SpecError(f"{where} must hold a JSON object with a 'type' key, as written by to_dict()")
    known = _schedules._REGISTRY
    bad = _find_unknown_type(data)
    if bad is not None:
        hint = _suggest(bad, known)
        raise SpecError(f"{where}: unknown schedule type {bad!r}{hint}")
    return _call_library(lambda: _schedules.from_dict(data))


def _find_unknown_type(data):
    if isinstance(data, dict):
        if "type" in data and isinstance(data["type"], str) and data["type"] not in _schedules._REGISTRY:
            return data["type"]
        values = data.values()
    elif isinstance(data, list):
        values = data
    else:
        return None
    for value in values:
        bad = _find_unknown_type(value)
        if bad is not None:
            return bad
    return None


def parse_spec(text: str):
    """The schedule that ``text`` describes: Python-like syntax, a JSON file path, or inline JSON."""
    if not isinstance(text, str):
        raise SpecError(f"SPEC must be a string, got {type(text).__name__}")
    if not text.strip():
        raise SpecError("empty SPEC: write a schedule such as 'Cosine(peak_lr=1e-3, total_steps=10_000)' "
                        "(see 'fastlr list')")
    if len(text) > MAX_SPEC_LENGTH:
        raise SpecError(f"SPEC is too long ({len(text)} characters; at most {MAX_SPEC_LENGTH})")
    stripped = text.strip()
    if os.path.isfile(stripped) or _looks_like_path(stripped):
        return load_json_spec(stripped)
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError as error:
            raise SpecError(f"SPEC looks like JSON but is not valid JSON: {error}") from None
        return _from_data(data, "SPEC")
    try:
        tree = ast.parse(stripped, mode="eval")
    except SyntaxError as error:
        column = f" at column {error.offset}" if error.offset else ""
        raise SpecError(f"bad SPEC syntax{column}: {error.msg}: {stripped!r}") from None
    except (ValueError, MemoryError, RecursionError) as error:
        raise SpecError(f"bad SPEC: {error}") from None
    try:
        value = _Evaluator().eval(tree)
    except RecursionError:
        raise SpecError("SPEC is nested too deeply") from None
    if not isinstance(value, _schedules.Schedule):
        raise SpecError(f"SPEC must describe a schedule, got {_kind(value)}: {stripped!r}")
    return value
