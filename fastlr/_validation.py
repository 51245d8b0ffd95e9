"""Conversion and validation of schedule parameters: every check names the parameter and the value."""

from __future__ import annotations

import numbers

import numpy as np


def describe(value) -> str:
    """A short, readable rendering of a bad value for an error message."""
    if isinstance(value, np.generic) or (isinstance(value, np.ndarray) and value.ndim == 0):
        value = value.item()
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _type_name(value) -> str:
    if isinstance(value, np.ndarray):
        return f"array of dtype {value.dtype}"
    return type(value).__name__


def as_number_array(owner: str, name: str, value, *, allow_inf: bool = False):
    """Convert a numeric parameter to float64: a Python float for scalars, a read-only array otherwise.

    Raises ``TypeError`` for non-numbers (strings, None, bools, complex, objects) and ``ValueError``
    for NaN (and infinities unless ``allow_inf``).
    """
    if value is None or isinstance(value, (bool, np.bool_, str, bytes)):
        raise TypeError(f"{owner}: {name} must be a real number or an array of real numbers, "
                        f"got {describe(value)} ({_type_name(value)})")
    if isinstance(value, numbers.Real) and not isinstance(value, np.ndarray):
        try:
            array = np.asarray(float(value))
        except OverflowError:
            raise ValueError(f"{owner}: {name} must be finite, got {describe(value)} "
                             f"(too large for float64)") from None
    else:
        try:
            array = np.asarray(value)
        except Exception as error:  # ragged lists and the like
            raise TypeError(f"{owner}: {name} must be a real number or an array of real numbers, "
                            f"got {describe(value)} ({error})") from None
        if array.dtype.kind == "O" and array.size and all(isinstance(v, int) and not isinstance(v, bool)
                                                          for v in array.flat):
            raise ValueError(f"{owner}: {name} must be finite, got {describe(value)} "
                             f"(too large for float64)")
        if array.dtype.kind not in "iuf":
            raise TypeError(f"{owner}: {name} must be a real number or an array of real numbers, "
                            f"got {describe(value)} ({_type_name(array)})")
        array = array.astype(np.float64)
    bad = np.isnan(array) if allow_inf else ~np.isfinite(array)
    if bad.any():
        index = np.unravel_index(int(np.argmax(bad)), array.shape)
        where = f"{name}{[int(i) for i in index]}" if array.ndim else name
        kind = "a number" if allow_inf else "finite"
        raise ValueError(f"{owner}: {name} must be {kind}, got {where}={describe(array[index])}")
    if array.ndim == 0:
        return float(array)
    array.flags.writeable = False
    return array


def as_sequence(owner: str, name: str, value, *, min_length: int = 0) -> tuple[float, ...]:
    """A 1-D list-like parameter (milestones, boundaries, values) as a tuple of finite floats."""
    if value is None or isinstance(value, (str, bytes, numbers.Number)):
        raise TypeError(f"{owner}: {name} must be a sequence of numbers, got {describe(value)}")
    array = as_number_array(owner, name, list(value) if not isinstance(value, np.ndarray) else value)
    array = np.atleast_1d(np.asarray(array))
    if array.ndim != 1:
        raise ValueError(f"{owner}: {name} must be 1-D, got shape {array.shape}")
    if len(array) < min_length:
        raise ValueError(f"{owner}: {name} needs at least {min_length} element(s), got {len(array)}")
    return tuple(float(v) for v in array)


def as_choice(owner: str, name: str, value, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{owner}: {name} must be one of {', '.join(map(repr, choices))}, "
                        f"got {describe(value)} ({type(value).__name__})")
    if value not in choices:
        raise ValueError(f"{owner}: {name} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


def as_flag(owner: str, name: str, value) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{owner}: {name} must be True or False, got {describe(value)} "
                        f"({type(value).__name__})")
    return bool(value)


def broadcast_shape(owner: str, shapes: dict[str, tuple[int, ...]]) -> tuple[int, ...]:
    """The broadcast shape of all array parameters, or a ``ValueError`` naming the two that clash."""
    result: tuple[int, ...] = ()
    seen: list[tuple[str, tuple[int, ...]]] = []
    for name, shape in shapes.items():
        try:
            result = np.broadcast_shapes(result, shape)
        except ValueError:
            other = next(n for n, s in seen if not _broadcastable(s, shape))
            raise ValueError(f"{owner}: parameters {other} with shape {shapes[other]} and {name} with "
                             f"shape {shape} do not broadcast together") from None
        seen.append((name, shape))
    return result


def _broadcastable(a, b) -> bool:
    try:
        np.broadcast_shapes(a, b)
        return True
    except ValueError:
        return False


def require(owner: str, ok, rule: str, values: dict[str, object]) -> None:
    """Raise ``ValueError("owner: rule, got name=value")`` at the first element where ``ok`` fails.

    ``values`` maps each parameter involved in ``rule`` to its (broadcastable) value.
    """
    ok = np.asarray(ok)
    if ok.all():
        return
    shape = ok.shape
    index = np.unravel_index(int(np.argmin(ok)), shape) if shape else ()
    parts = []
    for name, value in values.items():
        array = np.asarray(value)
        if array.ndim:
            element = np.broadcast_to(array, shape)[index]
            position = tuple(i for i, extent in zip(index[len(shape) - array.ndim:], array.shape))
            parts.append(f"{name}{[int(i) for i in position]}={describe(element)}")
        else:
            parts.append(f"{name}={describe(array)}")
    raise ValueError(f"{owner}: {rule}, got {', '.join(parts)}")
