"""The ``fastlr`` command line: ``curve``, ``plot``, ``list``, ``bench`` and ``demo``.

SPEC is a schedule written as in Python (``"WarmupCosine(peak_lr=3e-4, total_steps=100_000,
warmup_steps=2_000)"``, ``"join([...], [...])"``, ``"0.5 * Cosine(1e-3, 1000)"``), parsed safely
(see :mod:`fastlr._spec`), or the path of a JSON file written from ``schedule.to_dict()``.

Every user error (unknown family, misspelled or missing parameter, bad value, bad SPEC syntax, an
output path that cannot be written, a file that would not fit on its disk) prints one line on stderr
and exits with status 2. Files are written atomically: on any failure, Ctrl-C (exit 130) or SIGTERM
(exit 143) no partial file remains and an existing file is unchanged. Set ``FASTLR_DEBUG=1`` to get the
traceback of an unexpected internal error.

Modules, each importing only those below it: ``main`` (parser, exit statuses) -> the commands
``curve``, ``plot``, ``demo``, ``bench``, ``spec`` (SPEC parsing, descriptions, ``list``) ->
``options`` (shared options), ``progress`` -> ``text`` (the error type and every formatter).
"""

from .main import main

__all__ = ["main"]
