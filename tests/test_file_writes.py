"""Writing curves to files: ``fastlr.save_curve`` and ``fastlr curve --out`` under real faults.

The faults are made to happen, not mocked: a file-size limit (RLIMIT_FSIZE, so writes fail with EFBIG), a
full tmpfs (ENOSPC), a read-only mount, a directory the writer may not write, SIGINT/SIGTERM/SIGHUP sent
while the temporary file is being filled, and sizes that cannot fit. After each: one line on stderr, no
traceback, a non-zero exit status, no file left behind, and a file that was there before unchanged.
The mounts need root (CAP_SYS_ADMIN); where mounting is not allowed those tests skip, saying why.
"""

from __future__ import annotations

import errno
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import fastlr
from fastlr import _files, _save

ROOT = Path(__file__).resolve().parents[1]
GROUPS = fastlr.join([fastlr.Linear(0, 1e-3, 50), fastlr.Cosine(np.array([1e-3, 5e-4, 2e-4]), 4_950)], [50])
OLD = b"the file that was here before\n"

# Runs the real CLI in a child process; each piece of the curve then takes a little longer (a sleep
# after each progress update), so that a signal sent while the temporary file grows arrives mid-write.
# The first update leaves a marker file, so the parent knows the work has begun.
SLOW_CLI = """
import os, sys, time
import fastlr._save as save
save.CHUNK_ELEMENTS = save.TEXT_CHUNK_ELEMENTS = 4096
from fastlr.cli import progress
update = progress.Progress.update
def slow_update(self, amount=1):
    update(self, amount)
    marker = os.environ.get("MARKER")
    if marker and not os.path.exists(marker):
        open(marker, "w").close()
    time.sleep(0.005)
progress.Progress.update = slow_update
from fastlr.cli import main
sys.exit(main(sys.argv[1:]))
"""

# The same for the Python API: save_curve with no handler of the program's own for SIGTERM.
SLOW_API = """
import os, sys, time
import fastlr
import fastlr._save as save
save.CHUNK_ELEMENTS = 4096
def slow(k):
    marker = os.environ["MARKER"]
    if not os.path.exists(marker):
        open(marker, "w").close()
    time.sleep(0.005)
fastlr.save_curve(fastlr.Cosine(1.0, 10), sys.argv[1], 10_000_000, progress=slow)
"""

# Runs the CLI with the free-space check switched off, so that a full filesystem fails the writes
# themselves (ENOSPC in the middle of the file) instead of being refused up front.
NO_SPACE_CHECK_CLI = """
import sys
import fastlr._files as files
files.check_space = lambda *args, **kwargs: None
from fastlr.cli import main
sys.exit(main(sys.argv[1:]))
"""


def environment(**extra):
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["PYTHONWARNINGS"] = "ignore"
    env.update(extra)
    return env


def cli(*args, script=None, preexec_fn=None, env=None, cwd=None):
    command = [sys.executable, "-c", script, *map(str, args)] if script else \
        [sys.executable, "-m", "fastlr", *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, env=environment(**(env or {})),
                          preexec_fn=preexec_fn, cwd=cwd)


def one_error_line(result, *fragments, status=2):
    assert result.returncode == status, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def listing(directory):
    return sorted(p.name for p in Path(directory).iterdir())


def _file_size_limit(limit):
    def apply():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    return apply


# ----------------------------------------------------------------------------------------------- mounts


def _mount(target: Path, options: str):
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    if shutil.which("mount") is None:
        pytest.skip("no mount command")
    target.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(target)], capture_output=True,
                            text=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip()}")


def _unmount(target: Path):
    if subprocess.run(["umount", str(target)], capture_output=True).returncode != 0:
        subprocess.run(["umount", "-l", str(target)], capture_output=True)


@pytest.fixture
def small_tmpfs(tmp_path):
    """A 1 MiB filesystem of its own, holding one pre-existing file ``keep.npy``."""
    target = tmp_path / "small"
    _mount(target, "size=1m,mode=0755")
    try:
        (target / "keep.npy").write_bytes(OLD)
        yield target
    finally:
        _unmount(target)


@pytest.fixture
def read_only_mount(tmp_path):
    """A read-only filesystem (read-only for root too) holding one file ``keep.npy``."""
    target = tmp_path / "readonly"
    _mount(target, "size=1m,mode=0755")
    try:
        (target / "keep.npy").write_bytes(OLD)
        result = subprocess.run(["mount", "-o", "remount,ro", str(target)], capture_output=True, text=True)
        if result.returncode != 0:
            pytest.skip(f"cannot remount read-only: {result.stderr.strip()}")
        yield target
    finally:
        _unmount(target)


# ----------------------------------------------------------------------------------------------- the writer


@pytest.mark.parametrize("extension", ["npy", "csv", "txt"])
@pytest.mark.parametrize("start", [0, 7, 0.1, 2.5])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_save_curve_writes_the_curve_in_pieces(tmp_path, monkeypatch, extension, start, dtype):
    monkeypatch.setattr(_save, "CHUNK_ELEMENTS", 999)
    monkeypatch.setattr(_save, "TEXT_CHUNK_ELEMENTS", 777)
    path = tmp_path / f"lr.{extension}"
    written = []
    assert fastlr.save_curve(GROUPS, path, start=start, dtype=dtype, progress=written.append) is None
    expected = GROUPS.curve(start=start, dtype=dtype)
    assert sum(written) == 5_000 and len(written) > 1
    if extension == "npy":
        values = np.load(path)
        assert values.dtype == np.dtype(dtype)
    elif extension == "csv":
        assert path.read_text().splitlines()[0] == "step,lr_0,lr_1,lr_2"
        table = np.loadtxt(path, delimiter=",", skiprows=1)
        np.testing.assert_array_equal(table[:, 0], start + np.arange(5_000.0))
        values = table[:, 1:]
    else:
        values = np.loadtxt(path)
    np.testing.assert_array_equal(values.astype(dtype), expected)  # exact: the text reads back exactly
    assert listing(tmp_path) == [path.name]


def test_save_curve_sizes_are_known_before_writing(tmp_path):
    schedule = fastlr.WarmupCosine(3e-4, 100_000, 2_000, 3e-5)
    for extension, n, dtype in [(".npy", 12_345, np.float64), (".npy", 7, np.float32), (".csv", 1_000, np.float64),
                                (".txt", 2_000, np.float32), (".csv", 100_000, np.float64),
                                (".txt", 100_000, np.float32)]:
        path = tmp_path / f"lr{extension}"
        size, estimated = _save.file_size(schedule, n, 0, dtype, extension)
        fastlr.save_curve(schedule, path, n, dtype=dtype)
        actual = path.stat().st_size
        if extension == ".npy" or n <= _save.SAMPLE_ROWS:
            assert not estimated and size == actual, (extension, n)
        else:  # sampled: a few thousand evenly spaced rows stand for all
            assert estimated and abs(size - actual) <= 0.01 * actual, (extension, n, size, actual)


@pytest.mark.parametrize("call, error, fragment", [
    (lambda p: fastlr.save_curve("Cosine(1, 10)", p / "x.npy"), TypeError, "schedule must be a fastlr schedule"),
    (lambda p: fastlr.save_curve(fastlr.Cosine(1, 10), 3), TypeError, "path must be"),
    (lambda p: fastlr.save_curve(fastlr.Cosine(1, 10), p / "x.xls"), ValueError, "unsupported file type '.xls'"),
    (lambda p: fastlr.save_curve(fastlr.Cosine(1, 10), p / "x.npy", dtype=np.int32), ValueError, "dtype"),
    (lambda p: fastlr.save_curve(fastlr.Cosine(1, 10), p / "x.npy", 2.5), TypeError, "n must be an integer"),
    (lambda p: fastlr.save_curve(fastlr.Cosine(1, 10), p / "x.npy", -1), ValueError, "n must be >= 0"),
    (lambda p: fastlr.save_curve(fastlr.Cosine(1, 10), p / "x.npy", start=-3), ValueError, "start"),
    (lambda p: fastlr.save_curve(fastlr.Cyclic(1e-4, 1e-3, 10), p / "x.npy"), TypeError, "no horizon"),
    (lambda p: fastlr.save_curve(fastlr.Cosine(1, 10), p / "x.npy", progress=5), TypeError, "progress"),
    (lambda p: fastlr.save_curve(fastlr.Cosine(1, 10), p / "missing" / "x.npy"), FileNotFoundError, "does not exist"),
])
def test_save_curve_refuses_bad_arguments_before_creating_anything(tmp_path, call, error, fragment):
    (tmp_path / "keep.npy").write_bytes(OLD)
    with pytest.raises(error) as caught:
        call(tmp_path)
    assert fragment in str(caught.value)
    assert listing(tmp_path) == ["keep.npy"]


def test_save_curve_refuses_a_directory(tmp_path):
    (tmp_path / "d.npy").mkdir()
    with pytest.raises(IsADirectoryError, match="it is a directory"):
        fastlr.save_curve(fastlr.Cosine(1, 10), tmp_path / "d.npy")
    assert listing(tmp_path) == ["d.npy"] and listing(tmp_path / "d.npy") == []


def test_replacing_keeps_the_permission_bits_and_owner(tmp_path):
    path = tmp_path / "lr.npy"
    path.write_bytes(OLD)
    path.chmod(0o640)
    owner = (65534, 65534) if os.geteuid() == 0 else (os.getuid(), os.getgid())
    os.chown(path, *owner)
    fastlr.save_curve(fastlr.Cosine(1, 10), path)
    assert (path.stat().st_mode & 0o777) == 0o640
    assert (path.stat().st_uid, path.stat().st_gid) == owner
    np.testing.assert_array_equal(np.load(path), fastlr.Cosine(1, 10).curve())


def test_a_symbolic_link_is_kept_and_its_file_replaced(tmp_path):
    (tmp_path / "runs").mkdir()
    real = tmp_path / "runs" / "lr.csv"
    real.write_bytes(OLD)
    link = tmp_path / "latest.csv"
    link.symlink_to(Path("runs") / "lr.csv")
    result = cli("curve", "Cosine(1, 10)", "--out", link)
    assert result.returncode == 0, result.stderr
    assert link.is_symlink() and np.loadtxt(link, delimiter=",", skiprows=1)[:, 1].tolist() == \
        fastlr.Cosine(1, 10).curve().tolist()
    assert listing(tmp_path / "runs") == ["lr.csv"]


def test_atomic_directory_for_stores_of_many_files(tmp_path):
    store = tmp_path / "lr.zarr"
    with _files.atomic_directory(store, size=1000) as folder:
        assert not store.exists()
        Path(folder, "0").write_bytes(b"first")
    assert listing(tmp_path) == ["lr.zarr"] and listing(store) == ["0"]
    with pytest.raises(KeyboardInterrupt):  # an interrupted rewrite leaves the old store as it was
        with _files.atomic_directory(store) as folder:
            Path(folder, "1").write_bytes(b"partial")
            raise KeyboardInterrupt
    assert listing(tmp_path) == ["lr.zarr"] and listing(store) == ["0"]
    with _files.atomic_directory(store) as folder:
        Path(folder, "1").write_bytes(b"second")
    assert listing(tmp_path) == ["lr.zarr"] and listing(store) == ["1"]
    with pytest.raises(OSError) as caught:
        with _files.atomic_directory(tmp_path / "huge.zarr", size=shutil.disk_usage(tmp_path).free + 1):
            raise AssertionError("the space check comes first")
    assert caught.value.errno == errno.ENOSPC
    (tmp_path / "file.zarr").write_bytes(OLD)
    with pytest.raises(NotADirectoryError):
        with _files.atomic_directory(tmp_path / "file.zarr"):
            raise AssertionError("a file is not replaced by a directory")
    assert listing(tmp_path) == ["file.zarr", "lr.zarr"]


# ----------------------------------------------------------------------------------------------- too big


@pytest.mark.parametrize("extension", ["npy", "csv", "txt"])
def test_a_file_that_cannot_fit_is_refused_up_front(tmp_path, extension):
    (tmp_path / "keep.npy").write_bytes(OLD)
    free = shutil.disk_usage(tmp_path).free
    steps = max(free // 2, 10**9)  # at least 4 bytes a step in every format: never fits
    for target in (tmp_path / f"y.{extension}", tmp_path / "keep.npy") if extension == "npy" else \
            (tmp_path / f"y.{extension}",):
        # the file-size limit only keeps a broken check from filling the disk: it would fail with EFBIG
        result = cli("curve", "Cosine(peak_lr=1, total_steps=10)", "--steps", steps, "--out", target,
                     preexec_fn=_file_size_limit(1 << 20))
        line = one_error_line(result, "not enough space", "needs", "free")
        assert ("unchanged" in line) == target.exists()
        assert listing(tmp_path) == ["keep.npy"] and (tmp_path / "keep.npy").read_bytes() == OLD
    code = (f"import fastlr\ntry:\n    fastlr.save_curve(fastlr.Cosine(1, 10), {str(tmp_path / f'y.{extension}')!r}, "
            f"{steps})\nexcept OSError as error:\n    print(error.errno, error)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environment(),
                            preexec_fn=_file_size_limit(1 << 20), timeout=300)
    assert result.stdout.startswith(f"{errno.ENOSPC} ") and "needs" in result.stdout, result.stdout + result.stderr
    assert listing(tmp_path) == ["keep.npy"]


def test_space_check_on_a_small_filesystem(small_tmpfs):
    # 1 MiB: 100k float64 steps (800 KB) fit, 200k (1.6 MB) do not
    result = cli("curve", "Cosine(1, 10)", "--steps", "200_000", "--out", small_tmpfs / "y.npy")
    one_error_line(result, "not enough space", "1.53 MiB", "/small")
    assert listing(small_tmpfs) == ["keep.npy"]
    result = cli("curve", "Cosine(1, 10)", "--steps", "100_000", "--out", small_tmpfs / "keep.npy")
    assert result.returncode == 0, result.stderr
    np.testing.assert_array_equal(np.load(small_tmpfs / "keep.npy"), fastlr.Cosine(1, 10).curve(100_000))
    assert listing(small_tmpfs) == ["keep.npy"]


# ----------------------------------------------------------------------------------------------- failing writes


@pytest.mark.parametrize("extension", ["npy", "csv", "txt"])
@pytest.mark.parametrize("existing", [False, True])
def test_a_file_size_limit_fails_the_write_cleanly(tmp_path, extension, existing):
    """RLIMIT_FSIZE of 256 KiB: the space check passes, the writes themselves fail with EFBIG."""
    target = tmp_path / f"lr.{extension}"
    if existing:
        target.write_bytes(OLD)
    result = cli("curve", "Cosine(1, 10)", "--steps", "1e6", "--out", target,
                 preexec_fn=_file_size_limit(256 << 10))
    line = one_error_line(result, "cannot write", os.strerror(errno.EFBIG))
    assert ("unchanged" in line) == existing
    assert listing(tmp_path) == ([target.name] if existing else [])
    if existing:
        assert target.read_bytes() == OLD


@pytest.mark.parametrize("extension", ["npy", "csv"])
def test_a_full_filesystem_fails_the_write_cleanly(small_tmpfs, extension):
    """The space check is switched off in the child, so the 1 MiB tmpfs fills up mid-write (ENOSPC)."""
    for target in (small_tmpfs / f"y.{extension}", small_tmpfs / "keep.npy"):
        if target.suffix != f".{extension}":
            continue
        result = cli("curve", "Cosine(1, 10)", "--steps", "1e6", "--out", target, script=NO_SPACE_CHECK_CLI)
        one_error_line(result, "cannot write", os.strerror(errno.ENOSPC))
        assert listing(small_tmpfs) == ["keep.npy"] and (small_tmpfs / "keep.npy").read_bytes() == OLD
        assert shutil.disk_usage(small_tmpfs).used < 64 << 10  # the temporary file's space came back


def test_a_read_only_filesystem(read_only_mount, monkeypatch):
    target = read_only_mount / "keep.npy"
    result = cli("curve", "Cosine(1, 10)", "--out", target)
    one_error_line(result, "cannot write", "read-only file system")
    result = cli("curve", "Cosine(1, 10)", "--out", read_only_mount / "new.csv")
    one_error_line(result, "read-only file system")
    with pytest.raises(OSError) as caught:
        fastlr.save_curve(fastlr.Cosine(1, 10), target)
    assert caught.value.errno == errno.EROFS
    # without the up-front check, creating the temporary file is what fails; just as cleanly
    monkeypatch.setattr(_files, "check_target", os.path.abspath)
    with pytest.raises(OSError) as caught:
        fastlr.save_curve(fastlr.Cosine(1, 10), target)
    assert caught.value.errno == errno.EROFS
    assert listing(read_only_mount) == ["keep.npy"] and target.read_bytes() == OLD


def test_a_directory_without_write_permission(tmp_path, monkeypatch):
    """Root ignores permission bits: as root the directory is made immutable (chattr +i) instead, which
    refuses new files to root too."""
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "keep.npy").write_bytes(OLD)
    as_root = hasattr(os, "geteuid") and os.geteuid() == 0
    if as_root:
        if shutil.which("chattr") is None:
            pytest.skip("as root, only an immutable directory refuses writes, and chattr is missing")
        made = subprocess.run(["chattr", "+i", str(locked)], capture_output=True, text=True)
        if made.returncode != 0:
            pytest.skip(f"as root, only an immutable directory refuses writes: {made.stderr.strip()}")
    else:
        locked.chmod(0o555)
    try:
        for target in (locked / "keep.npy", locked / "new.csv"):
            result = cli("curve", "Cosine(1, 10)", "--out", target)
            one_error_line(result, "cannot write", "permission denied")
            with pytest.raises(PermissionError):
                fastlr.save_curve(fastlr.Cosine(1, 10), target)
        # without the up-front check, creating the temporary file is what fails; just as cleanly
        monkeypatch.setattr(_files, "check_target", os.path.abspath)
        with pytest.raises(PermissionError):
            fastlr.save_curve(fastlr.Cosine(1, 10), locked / "keep.npy")
        assert listing(locked) == ["keep.npy"] and (locked / "keep.npy").read_bytes() == OLD
    finally:
        if as_root:
            subprocess.run(["chattr", "-i", str(locked)], capture_output=True)
        else:
            locked.chmod(0o755)


# ----------------------------------------------------------------------------------------------- signals


def _signal_mid_write(directory: Path, command, signum, marker: Path, env=None):
    """Start ``command``, wait until its temporary file holds data, send ``signum``, return the result."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=environment(MARKER=str(marker), **(env or {})))
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and process.poll() is None:
            partial = [p for p in directory.iterdir() if p.name.endswith(".tmp")]
            if marker.exists() and partial and partial[0].stat().st_size > 64 << 10:
                break
            time.sleep(0.01)
        assert process.poll() is None, "the child ended before it was signalled"
        process.send_signal(signum)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


@pytest.mark.parametrize("signum, status, word", [(signal.SIGINT, 130, "interrupted"),
                                                   (signal.SIGTERM, 143, "terminated (SIGTERM)"),
                                                   (signal.SIGHUP, 129, "terminated (SIGHUP)")])
@pytest.mark.parametrize("extension", ["npy", "csv"])
def test_a_signal_mid_write_leaves_nothing_behind(tmp_path, signum, status, word, extension):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    (out_dir / "keep.npy").write_bytes(OLD)
    for target in (out_dir / f"y.{extension}", out_dir / "keep.npy"):
        if target.suffix != f".{extension}":
            continue
        marker = tmp_path / f"started-{target.name}"
        command = [sys.executable, "-c", SLOW_CLI, "curve", "Cosine(1, 10)", "--steps", "1e7", "--out", str(target)]
        result = _signal_mid_write(out_dir, command, signum, marker)
        one_error_line(result, word, status=status)
        assert result.stdout == ""
        assert listing(out_dir) == ["keep.npy"] and (out_dir / "keep.npy").read_bytes() == OLD


@pytest.mark.parametrize("existing", [False, True])
def test_sigterm_during_save_curve_in_a_program(tmp_path, existing):
    """A program with no SIGTERM handler of its own: save_curve removes its temporary file and the
    process ends with the status SIGTERM means (143), without a traceback."""
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    target = out_dir / "lr.npy"
    if existing:
        target.write_bytes(OLD)
    result = _signal_mid_write(out_dir, [sys.executable, "-c", SLOW_API, str(target)], signal.SIGTERM,
                               tmp_path / "started")
    assert result.returncode == 143 and result.stderr == "", result.stderr
    assert listing(out_dir) == (["lr.npy"] if existing else [])
    if existing:
        assert target.read_bytes() == OLD


def test_ctrl_c_stops_a_summary_of_a_trillion_steps(tmp_path):
    marker = tmp_path / "started"
    command = [sys.executable, "-c", SLOW_CLI, "curve", "Cosine(1, 10)", "--steps", "1e12"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=environment(MARKER=str(marker)))
    try:
        deadline = time.monotonic() + 120
        while not marker.exists() and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.01)
        assert process.poll() is None
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    one_error_line(subprocess.CompletedProcess(command, process.returncode, stdout, stderr), "interrupted",
                   status=130)
    assert stdout == ""


def test_a_long_run_shows_a_progress_bar_on_a_terminal(tmp_path):
    pty = pytest.importorskip("pty")
    out = tmp_path / "lr.npy"
    pid, descriptor = pty.fork()
    if pid == 0:  # the child: the slow CLI with its stderr on the terminal
        try:
            os.environ.update(environment())
            os.execv(sys.executable, [sys.executable, "-c", SLOW_CLI, "curve", "Cosine(1, 10)", "--steps", "3e6",
                                      "--out", str(out)])
        finally:
            os._exit(127)
    output = b""
    while True:
        try:
            data = os.read(descriptor, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        output += data
    _, status = os.waitpid(pid, 0)
    os.close(descriptor)
    text = output.decode(errors="replace")
    assert os.waitstatus_to_exitcode(status) == 0, text
    assert "%" in text and "[#" in text  # the bar was drawn
    assert "\r" + " " * 100 + "\r" in text  # and cleared before the final message
    assert text.rstrip().splitlines()[-1].lstrip("\r ").startswith("wrote 3,000,000 float64 values")
    np.testing.assert_array_equal(np.load(out), fastlr.Cosine(1, 10).curve(3_000_000))
