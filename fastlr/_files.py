"""Writing files safely: check the free space first, write a temporary file beside the target, rename it
over the target only once everything is written.

Every writer of the package goes through :func:`atomic_output` (one file) or :func:`atomic_directory`
(a store of many files), so that whatever happens (a full disk, an I/O error, a file-size limit, a
read-only directory, Ctrl-C, SIGTERM) the target is either complete and new or exactly what it was
before, and no temporary file is left behind. Nothing here maps a file
into memory: a memory map over a file that the filesystem cannot back fails with SIGBUS, which no Python
code can catch, so data is written with ordinary checked writes.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import secrets
import shutil
import signal
import stat
import threading
from collections.abc import Iterator
from typing import IO, Optional, Union

PathLike = Union[str, "os.PathLike[str]"]

# Space left free on the target's filesystem beyond the file itself: a write that would leave less
# than this is refused, so that a large curve never fills the disk that other programs need.
RESERVE_FRACTION = 0.01
RESERVE_MAX_BYTES = 64 << 20


class NotEnoughSpace(OSError):
    """The file would not fit in the free space of its filesystem (``errno.ENOSPC``); nothing was
    created."""


def format_bytes(size: float) -> str:
    """``1536`` -> ``'1.5 KiB'``: binary units, three significant digits."""
    size = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(size) < 1024 or unit == "PiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.3g} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def check_target(path: PathLike, *, directory_target: bool = False) -> str:
    """The absolute path of a file that can be created or replaced, or an ``OSError`` saying why not
    (its directory is missing, it is a directory, the directory is read-only or not writable). A
    symbolic link stands for the file it points to: that file is replaced and the link kept. With
    ``directory_target`` the target is a directory (a store of many files) instead of a file."""
    text = os.fspath(path)
    if not isinstance(text, str):
        raise TypeError(f"path must be a str or os.PathLike of str, got {type(path).__name__}")
    if not text:
        raise FileNotFoundError(errno.ENOENT, "empty path", text)
    target = os.path.realpath(text) if os.path.islink(text) else os.path.abspath(text)
    directory = os.path.dirname(target)
    if not directory_target and os.path.isdir(target):
        raise IsADirectoryError(errno.EISDIR, "it is a directory", text)
    if directory_target and os.path.lexists(target) and not os.path.isdir(target):
        raise NotADirectoryError(errno.ENOTDIR, "it is a file, not a directory", text)
    if not os.path.isdir(directory):
        raise FileNotFoundError(errno.ENOENT, f"directory {directory!r} does not exist", text)
    try:
        read_only = bool(os.statvfs(directory).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):  # no statvfs (Windows): the access test below still applies
        read_only = False
    if read_only:
        raise OSError(errno.EROFS, "read-only file system", text)
    if not os.access(directory, os.W_OK) or (os.path.exists(target) and not os.access(target, os.W_OK)):
        raise PermissionError(errno.EACCES, "permission denied", text)
    return target


def check_space(path: PathLike, size: int, *, estimated: bool = False) -> None:
    """Raise :class:`NotEnoughSpace` unless a file of ``size`` bytes fits at ``path`` while leaving 1% of
    the filesystem (at most 64 MiB) free. A file being replaced does not count as free space: the new
    file is written completely before the old one goes."""
    directory = os.path.dirname(os.path.abspath(os.fspath(path)))
    usage = shutil.disk_usage(directory)
    free = int(usage.free)
    reserve = min(int(usage.total * RESERVE_FRACTION), RESERVE_MAX_BYTES)
    if size + reserve > free:
        kind = "about " if estimated else ""
        kept = f" and {format_bytes(reserve)} must stay free" if size <= free else ""
        raise NotEnoughSpace(errno.ENOSPC, f"not enough space: the file needs {kind}{format_bytes(size)}"
                             f"{kept}, {format_bytes(free)} is free in {directory!r}", os.fspath(path))


def _raise_exit(signum, frame) -> None:
    raise SystemExit(128 + signum)


@contextlib.contextmanager
def _termination_raises() -> Iterator[None]:
    """While a file is being written, turn SIGTERM and SIGHUP into ``SystemExit`` so that the temporary
    file is removed before the process ends. Only where Python can (the main thread) and only for a
    signal whose handler is the default one: a handler installed by the program is left alone."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    replaced = {}
    for name in ("SIGTERM", "SIGHUP"):
        number = getattr(signal, name, None)
        if number is not None and signal.getsignal(number) is signal.SIG_DFL:
            replaced[number] = signal.signal(number, _raise_exit)
    try:
        yield
    finally:
        for number, handler in replaced.items():
            signal.signal(number, handler)


def _temporary_name(target: str, suffix: str) -> str:
    directory, name = os.path.split(target)
    return os.path.join(directory, f".{name}.{secrets.token_hex(4)}{suffix}")


def _create_temporary(target: str) -> tuple[int, str]:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        temporary = _temporary_name(target, ".tmp")
        try:
            return os.open(temporary, flags, 0o666), temporary  # 0o666 & ~umask, like open(path, "w")
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "could not create a temporary file", os.path.dirname(target))


def _copy_mode_and_owner(target: str, descriptor: int) -> None:
    """A replaced file keeps its permission bits, and its owner where the writer may set it."""
    try:
        previous = os.stat(target)
    except OSError:
        return
    with contextlib.suppress(OSError, AttributeError):
        os.fchmod(descriptor, stat.S_IMODE(previous.st_mode))
    with contextlib.suppress(OSError, AttributeError):
        os.fchown(descriptor, previous.st_uid, previous.st_gid)


def _discard(temporary: str) -> None:
    try:
        os.unlink(temporary)
    except FileNotFoundError:
        pass
    except BaseException:  # noqa: BLE001 - a second interrupt while removing: try once more, then give up
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _sync_directory(directory: str) -> None:
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:  # some filesystems cannot sync a directory; the rename itself has happened
        pass
    finally:
        os.close(descriptor)


@contextlib.contextmanager
def atomic_output(path: PathLike, *, size: Optional[int] = None, estimated: bool = False,
                  text: bool = False) -> Iterator[IO]:
    """``with atomic_output("lr.npy", size=n) as handle: handle.write(...)``: the file appears at
    ``path``, complete, when the block ends without an exception, and not at all otherwise.

    - ``size`` (bytes, exact or ``estimated``) is checked against the free space first
      (:func:`check_space`); the path against what can be written (:func:`check_target`). Both raise
      before anything is created.
    - The data goes to a temporary file in the target's directory (``.NAME.XXXXXXXX.tmp``), which is
      flushed, synced and renamed over the target (``os.replace``, atomic on POSIX) on success. A
      replaced file keeps its permission bits (and owner, where allowed); a symbolic link is kept and
      the file it points to replaced.
    - On any exception (``OSError`` such as ENOSPC, EIO, EFBIG; ``KeyboardInterrupt``; ``SystemExit``,
      which SIGTERM and SIGHUP raise during the block when they have no handler of their own) the
      temporary file is removed, the target is left as it was, and the exception propagates.
    - ``text=True`` gives a UTF-8 text handle with ``"\\n"`` line endings, else a binary one.
    """
    target = check_target(path)
    if size is not None:
        check_space(target, int(size), estimated=estimated)
    with _termination_raises():
        descriptor, temporary = _create_temporary(target)
        try:
            handle = open(descriptor, "wb")
        except BaseException:
            os.close(descriptor)
            _discard(temporary)
            raise
        stream: IO = handle
        try:
            _copy_mode_and_owner(target, descriptor)
            if text:
                stream = io.TextIOWrapper(handle, encoding="utf-8", newline="\n")
            yield stream
            stream.flush()
            os.fsync(handle.fileno())
            stream.close()
            os.replace(temporary, target)
        except BaseException:
            # close without letting a failing flush replace the exception being handled
            with contextlib.suppress(OSError, ValueError):
                stream.close()
            _discard(temporary)
            raise
    _sync_directory(os.path.dirname(target))


def _remove_tree(path: str) -> None:
    try:
        shutil.rmtree(path)
    except FileNotFoundError:
        pass
    except BaseException:  # noqa: BLE001 - a second interrupt while removing: try once more, then give up
        shutil.rmtree(path, ignore_errors=True)
        raise


@contextlib.contextmanager
def atomic_directory(path: PathLike, *, size: Optional[int] = None, estimated: bool = False) -> Iterator[str]:
    """``with atomic_directory("lr.zarr", size=n) as folder: write files under folder``: the directory
    appears at ``path``, complete, when the block ends without an exception, and not at all otherwise.

    For stores made of many files. The same checks as :func:`atomic_output` come first; the block fills
    a temporary directory beside the target (``.NAME.XXXXXXXX.tmpdir``), which then takes the target's
    place. A directory already at ``path`` is moved aside first and removed once the new one is in
    place (two renames: a crash between them leaves the old directory under its temporary name, never a
    partial store under ``path``). On any exception the temporary directory is removed, an existing
    directory is left as it was, and the exception propagates.
    """
    target = check_target(path, directory_target=True)
    if size is not None:
        check_space(target, int(size), estimated=estimated)
    with _termination_raises():
        temporary = _temporary_name(target, ".tmpdir")
        os.mkdir(temporary)
        try:
            yield temporary
            if os.path.isdir(target):
                previous = _temporary_name(target, ".old")
                os.rename(target, previous)
                try:
                    os.rename(temporary, target)
                except BaseException:
                    os.rename(previous, target)
                    raise
                _remove_tree(previous)
            else:
                os.rename(temporary, target)
        except BaseException:
            _remove_tree(temporary)
            raise
    _sync_directory(os.path.dirname(target))


__all__ = ["NotEnoughSpace", "atomic_directory", "atomic_output", "check_space", "check_target",
           "format_bytes"]
