"""Options shared by the commands: counts and reals given as text, the backend to use, output paths."""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Sequence
from typing import Optional

from .._backends import get_backend, use_backend
from .._files import check_target
from .text import CLIError, parse_size


def count(text: str, option: str, minimum: int = 1) -> int:
    """A count such as ``1000``, ``1e6`` or ``10M``, at least ``minimum``."""
    if str(text).strip() == "0":
        value = 0
    else:
        try:
            value = parse_size(text)
        except CLIError:
            raise CLIError(f"{option} must be a positive integer such as 1000, 1e6 or 10M, "
                           f"got {text!r}") from None
    if value < minimum:
        raise CLIError(f"{option} must be >= {minimum}, got {text!r}")
    return value


def real(text: str, option: str) -> float:
    """A finite number >= 0; an int when it is integral (so that steps stay exact)."""
    try:
        value = float(str(text).replace("_", ""))
    except ValueError:
        raise CLIError(f"{option} must be a number, got {text!r}") from None
    if not (value >= 0 and math.isfinite(value)):
        raise CLIError(f"{option} must be finite and >= 0, got {text!r}")
    return int(value) if value.is_integer() and abs(value) < 2**53 else value


def backend_context(name: Optional[str]) -> contextlib.AbstractContextManager:
    """``--backend NAME`` for the duration of a command (the active backend when not given)."""
    if not name:
        return contextlib.nullcontext(get_backend())
    return use_backend(name)


def check_output(path: str, formats: Optional[Sequence[str]] = None) -> str:
    """Fail early, on one line, for an output path that cannot be written or has an unknown format;
    returns the lower-case extension."""
    if not path:
        raise CLIError("--out: empty path")
    extension = os.path.splitext(path)[1].lower()
    if formats is not None and extension not in formats:
        raise CLIError(f"--out {path!r}: unsupported file type {extension or '(no extension)'!r}; "
                       f"use {', '.join(formats)}")
    try:
        check_target(path)
    except OSError as error:
        raise CLIError(f"cannot write {path!r}: {error.strerror or error}") from None
    return extension


def write_error(path: str, error: OSError) -> str:
    """The one line for a file whose writing failed: what went wrong and what is left on disk (the
    writers are atomic: an existing file is unchanged, no partial file remains)."""
    reason = error.strerror or str(error)
    after = "the existing file is unchanged" if os.path.exists(path) else "no file was written"
    return f"cannot write {path!r}: {reason} ({after})"
