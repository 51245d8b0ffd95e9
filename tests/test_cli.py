"""The ``fastlr`` command line, run as a subprocess (``python -m fastlr ...``) as a user would."""

import csv
import io
import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import fastlr
from fastlr import schedules as S

ROOT = Path(__file__).resolve().parents[1]
SPEC = "WarmupCosine(peak_lr=3e-4, total_steps=5_000, warmup_steps=200, min_lr=3e-5)"
GROUPS = "join([Linear(0, 1e-3, 50), Cosine(peak_lr=[1e-3, 5e-4, 2e-4], total_steps=450)], [50])"

try:
    import matplotlib  # noqa: F401

    HAVE_MATPLOTLIB = True
except ImportError:
    HAVE_MATPLOTLIB = False


def run(*args, cwd=None, env=None, timeout=300):
    environment = dict(os.environ)
    environment["PYTHONPATH"] = str(ROOT) + os.pathsep + environment.get("PYTHONPATH", "")
    environment["PYTHONWARNINGS"] = "ignore"  # third-party warnings are not the CLI's output
    environment.update(env or {})
    return subprocess.run([sys.executable, "-m", "fastlr", *map(str, args)], cwd=cwd, env=environment,
                          capture_output=True, text=True, timeout=timeout)


def ok(result):
    assert result.returncode == 0, (f"exit {result.returncode}\nstdout:\n{result.stdout}\n"
                                    f"stderr:\n{result.stderr}")
    assert "Traceback" not in result.stderr
    return result


def png_size(path):
    data = Path(path).read_bytes()[:33]
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


# ----------------------------------------------------------------------------------------------- curve


@pytest.mark.parametrize("extension", ["npy", "csv", "txt"])
def test_curve_files_equal_the_library(tmp_path, extension):
    out = tmp_path / f"lr.{extension}"
    result = ok(run("curve", SPEC, "--out", out))
    assert str(out) in result.stdout
    expected = fastlr.WarmupCosine(peak_lr=3e-4, total_steps=5_000, warmup_steps=200, min_lr=3e-5).curve()
    if extension == "npy":
        values = np.load(out)
        assert values.dtype == np.float64
    elif extension == "csv":
        rows = list(csv.reader(io.StringIO(out.read_text())))
        assert rows[0] == ["step", "lr"]
        assert [int(r[0]) for r in rows[1:]] == list(range(5_000))
        values = np.array([float(r[1]) for r in rows[1:]])
    else:
        values = np.loadtxt(out)
    np.testing.assert_array_equal(values, expected)  # exact: the text formats round-trip float64


@pytest.mark.parametrize("extension", ["npy", "csv", "txt"])
def test_curve_per_group_files(tmp_path, extension):
    out = tmp_path / f"lr.{extension}"
    ok(run("curve", GROUPS, "--out", out))
    peaks = np.array([1e-3, 5e-4, 2e-4])
    schedule = fastlr.join([fastlr.Linear(0, 1e-3, 50), fastlr.Cosine(peaks, 450)], [50])
    expected = schedule.curve()
    assert expected.shape == (500, 3)
    if extension == "npy":
        values = np.load(out)
    elif extension == "csv":
        lines = out.read_text().splitlines()
        assert lines[0] == "step,lr_0,lr_1,lr_2"
        table = np.loadtxt(out, delimiter=",", skiprows=1)
        np.testing.assert_array_equal(table[:, 0], np.arange(500))
        values = table[:, 1:]
    else:
        values = np.loadtxt(out)
    np.testing.assert_array_equal(values, expected)


def test_curve_steps_start_dtype(tmp_path):
    out = tmp_path / "lr.npy"
    ok(run("curve", "Cyclic(1e-4, 1e-3, 500)", "--steps", "1e4", "--start", "2_500", "--dtype", "float32",
           "--out", out))
    values = np.load(out)
    assert values.dtype == np.float32
    np.testing.assert_array_equal(values, fastlr.Cyclic(1e-4, 1e-3, 500).curve(10_000, start=2_500,
                                                                                dtype=np.float32))
    out = tmp_path / "lr32.csv"
    ok(run("curve", SPEC, "--steps", "300", "--start", "0.5", "--dtype", "float32", "--out", out))
    table = np.loadtxt(out, delimiter=",", skiprows=1)
    np.testing.assert_array_equal(table[:, 0], 0.5 + np.arange(300))
    expected = fastlr.WarmupCosine(3e-4, 5_000, 200, 3e-5).curve(300, start=0.5, dtype=np.float32)
    np.testing.assert_array_equal(table[:, 1].astype(np.float32), expected)


def test_curve_from_to_dict_json(tmp_path):
    schedule = fastlr.with_warmup(fastlr.CosineRestarts(1e-3, 100, cycle_mult=2.0, cycle_limit=3), 50)
    spec = tmp_path / "schedule.json"
    spec.write_text(json.dumps(schedule.to_dict()))
    out = tmp_path / "lr.npy"
    ok(run("curve", spec, "--out", out))
    np.testing.assert_array_equal(np.load(out), schedule.curve())


@pytest.mark.parametrize("backend", fastlr.backends())
def test_curve_each_backend(tmp_path, backend):
    out = tmp_path / "lr.npy"
    result = ok(run("curve", SPEC, "--backend", backend, "--out", out))
    assert f"backend {backend}" in result.stdout
    expected = fastlr.WarmupCosine(3e-4, 5_000, 200, 3e-5).curve()
    np.testing.assert_allclose(np.load(out), expected, rtol=0, atol=3e-4 * 1e-14)


def test_curve_summary():
    result = ok(run("curve", SPEC, "--backend", "numpy"))
    text = result.stdout
    for word in ("first", "peak", "final", "steps/s", "backend", "numpy"):
        assert word in text
    assert "0.0003 at step 200" in text
    assert "5,000" in text
    ok(run("curve", GROUPS, "--steps", "100"))


def test_curve_respects_fastlr_backend_env():
    result = ok(run("curve", SPEC, env={"FASTLR_BACKEND": "numpy"}))
    assert "numpy" in result.stdout.split("backend", 1)[1].splitlines()[0]


# ----------------------------------------------------------------------------------------------- errors


ERRORS = [
    (["curve", "WarmupCosin(peak_lr=3e-4, total_steps=10, warmup_steps=1)"], "did you mean 'WarmupCosine'"),
    (["curve", "WarmupCosine(peak_lr=3e-4, total_step=10, warmup_steps=1)"], "did you mean 'total_steps'"),
    (["curve", "Cosine(peak_lr=3e-4)"], "missing required parameter 'total_steps'"),
    (["curve", "Cosine(peak_lr=-3e-4, total_steps=10)"], "peak_lr must be >= 0"),
    (["curve", "WarmupCosine(3e-4, 10, 20)"], "warmup_steps must be <= total_steps"),
    (["curve", "Cyclic(1e-4, 1e-3, 10, mode='triangle')"], "mode must be one of"),
    (["curve", "Cosine(3e-4, 10"], "bad SPEC syntax"),
    (["curve", "__import__('os').system('echo hi')"], "not allowed"),
    (["curve", "nothere.json"], "no such SPEC file"),
    (["curve", "Cyclic(1e-4, 1e-3, 10)"], "no horizon"),
    (["curve", "Cosine(1, 10)", "--out", "/nonexistent-dir/x/lr.npy"], "does not exist"),
    (["curve", "Cosine(1, 10)", "--out", "lr.xls"], "unsupported file type"),
    (["curve", "Cosine(1, 10)", "--steps", "ten"], "--steps"),
    (["curve", "Cosine(1, 10)", "--steps", "0"], "--steps must be >= 1"),
    (["curve", "Cosine(1, 10)", "--start", "-5"], "--start"),
    (["curve", "Cosine(1, 10)", "--backend", "nump"], "unknown backend 'nump'"),
    (["curve", "Cosine(1, 10)", "--stepz", "5"], "did you mean '--steps'"),
    (["curve", "Cosine(1, 10)", "--dtype", "float16"], "invalid choice"),
    (["plot", "Cosine(1, 10)", "Linea(0, 1, 10)", "--out", "x.png"], "did you mean 'Linear'"),
    (["plot", "Cosine(1, 10)", "--out", "/nonexistent-dir/x.png"], "does not exist"),
    (["plot", "Cyclic(1e-4, 1e-3, 10)", "--out", "x.png"], "no horizon"),
    (["plot", "Cosine(1, 10)", "--width", "abc"], "--width"),
    (["bench", "--quick", "--families", "Cosin"], "did you mean 'Cosine'"),
    (["bench", "--quick", "--sizes", "-3"], "bad size"),
    (["demo", "--out", "/nonexistent-dir/demo.png"], "does not exist"),
    (["frobnicate"], "invalid choice"),
]


@pytest.mark.parametrize("args, fragment", ERRORS, ids=[" ".join(a)[:50] for a, _ in ERRORS])
def test_errors_are_one_line_and_exit_2(tmp_path, args, fragment):
    result = run(*args, cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("fastlr: error:")
    assert fragment in lines[0]


def test_unavailable_backend_says_why():
    missing = [name for name in ("cpp", "numba") if name not in fastlr.backends()]
    if not missing:
        pytest.skip("every backend is available here")
    result = run("curve", "Cosine(1, 10)", "--backend", missing[0])
    if result.returncode == 0:  # it became available meanwhile (being built concurrently)
        pytest.skip(f"{missing[0]} became available")
    assert result.returncode == 2
    assert "unavailable" in result.stderr and "Traceback" not in result.stderr


def test_no_command_and_help():
    result = run()
    assert result.returncode == 2 and "curve" in result.stderr
    result = ok(run("--help"))
    for command in ("curve", "plot", "list", "bench", "demo"):
        assert command in result.stdout
    ok(run("curve", "--help"))


# ----------------------------------------------------------------------------------------------- plot


@pytest.mark.skipif(not HAVE_MATPLOTLIB, reason="matplotlib is not installed")
@pytest.mark.parametrize("width, height", [(640, 480), (333, 217), (1200, 800)])
def test_plot_png_of_requested_size(tmp_path, width, height):
    out = tmp_path / "lr.png"
    ok(run("plot", SPEC, "OneCycle(0.1, 5_000)", GROUPS, "--out", out, "--width", width, "--height", height,
           "--title", "schedules"))
    assert png_size(out) == (width, height)


@pytest.mark.skipif(not HAVE_MATPLOTLIB, reason="matplotlib is not installed")
def test_plot_log_and_steps(tmp_path):
    out = tmp_path / "log.png"
    ok(run("plot", "Exponential(0.1, 0.5, step_size=100)", "Cyclic(1e-4, 1e-3, 500)", "--steps", "3e6",
           "--log", "--out", out))
    assert png_size(out) == (1000, 600)


def test_plot_without_matplotlib(tmp_path):
    blocker = tmp_path / "blocker" / "matplotlib"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text("raise ImportError('matplotlib is blocked for this test')\n")
    out = tmp_path / "lr.png"
    result = run("plot", SPEC, "--out", out, env={"PYTHONPATH": f"{blocker.parent}{os.pathsep}{ROOT}"})
    assert result.returncode == 2
    assert "pip install 'fastlr[plot]'" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not out.exists()
    # demo still prints its table and saves the curve, and says how to get the plot
    demo = tmp_path / "demo.png"
    result = run("demo", "--steps", "2000", "--out", demo,
                 env={"PYTHONPATH": f"{blocker.parent}{os.pathsep}{ROOT}"})
    ok(result)
    assert "pip install 'fastlr[plot]'" in result.stdout
    assert (tmp_path / "demo.npy").exists() and not demo.exists()


# ----------------------------------------------------------------------------------------------- list


def test_list_mentions_every_family_and_combinator():
    text = ok(run("list")).stdout
    families = [cls for cls in S._REGISTRY.values() if issubclass(cls, S.Family)]
    assert len(families) >= 17
    for cls in families:
        assert f"  {cls.__name__}(" in text, cls.__name__
    for word in ("join(schedules, boundaries", "with_warmup(schedule, warmup_steps", "A * B", "x * A",
                 "InverseSqrt.noam(", "presets.vision(", "presets.llm_pretraining(", "presets.fine_tuning(",
                 "presets.rl("):
        assert word in text, word
    # parameters with their defaults, from the signatures
    assert "WarmupCosine(peak_lr, total_steps, warmup_steps, min_lr=0.0, init_lr=0.0)" in text
    assert "decay_shape='linear'" in text


# ----------------------------------------------------------------------------------------------- bench


def test_bench_quick_has_every_backend():
    result = ok(run("bench", "--quick", timeout=600))
    text = result.stdout
    assert "machine:" in text and "logical CPUs" in text
    assert result.stderr.strip() == ""  # no progress bar when stderr is not a terminal
    table = text.split("1. Curves", 1)[1].split("2. Per-parameter", 1)[0]
    measured = text.split("backends measured:", 1)[1].splitlines()[0].replace(",", " ").split()
    assert "numpy" in measured
    # every backend that the child process can use (fastlr.backends() there) is measured, or listed
    # as "not measured" with the reason it failed to load
    for backend in fastlr.backends():
        assert backend in measured or f"not measured: {backend}:" in text
    for backend in measured:
        assert f" {backend} " in table, backend
    for name in ("WarmupCosine", "PiecewiseLinear", "join", "out.fill() floor", "f32 ns/elem"):
        assert name in table
    for section in ("2. Per-parameter", "np.multiply", "3. Scalar calls", "4. Cold calls", "vs 1 thread"):
        assert section in text


def test_bench_report_script_prints_the_same_table():
    environment = dict(os.environ, PYTHONWARNINGS="ignore")
    result = subprocess.run([sys.executable, str(ROOT / "bench" / "report.py"), "--quick", "--families",
                             "Cosine", "--sizes", "1000"], capture_output=True, text=True, env=environment,
                            cwd=ROOT, timeout=300)
    ok(result)
    assert "1. Curves" in result.stdout and "Cosine" in result.stdout
    measured = result.stdout.split("backends measured:", 1)[1].splitlines()[0].replace(",", " ").split()
    for backend in measured:
        assert f" {backend} " in result.stdout


# ----------------------------------------------------------------------------------------------- demo


def test_demo_writes_png_and_npy(tmp_path):
    out = tmp_path / "demo.png"
    result = ok(run("demo", "--steps", "10000", "--out", out, cwd=tmp_path))
    text = result.stdout
    for name in ("vision", "llm_pretraining", "fine_tuning", "rl"):
        assert name in text
    available = text.split("every available backend (", 1)[1].split(")", 1)[0].replace(",", " ").split()
    assert "numpy" in available
    for backend in available:
        assert f" {backend} " in text
    assert "demo.npy" in text
    values = np.load(tmp_path / "demo.npy")
    np.testing.assert_allclose(values, fastlr.presets.llm_pretraining(3e-4, 10_000).curve(10_000), rtol=0,
                               atol=3e-4 * 1e-14)
    if HAVE_MATPLOTLIB:
        width, height = png_size(out)
        assert width > 100 and height > 100


# ----------------------------------------------------------------------------------------------- long curves


def test_long_curves_are_computed_in_chunks(tmp_path, monkeypatch, capsys):
    """Curves are computed in pieces (about 4M values each); small pieces forced here give the same values."""
    from fastlr import _save, cli

    monkeypatch.setattr(_save, "CHUNK_ELEMENTS", 999)
    monkeypatch.setattr(_save, "TEXT_CHUNK_ELEMENTS", 777)
    peaks = np.array([1e-3, 5e-4, 2e-4])
    schedule = fastlr.join([fastlr.Linear(0, 1e-3, 50), fastlr.Cosine(peaks, 4_950)], [50])
    expected = schedule.curve()
    for extension in ("npy", "csv", "txt"):
        out = tmp_path / f"lr.{extension}"
        assert cli.main(["curve", GROUPS.replace("450", "4_950"), "--out", str(out)]) == 0
        if extension == "npy":
            values = np.load(out)
        elif extension == "csv":
            values = np.loadtxt(out, delimiter=",", skiprows=1)[:, 1:]
        else:
            values = np.loadtxt(out)
        np.testing.assert_array_equal(values, expected)
    capsys.readouterr()
    assert cli.main(["curve", GROUPS.replace("450", "4_950")]) == 0
    summary = capsys.readouterr().out
    top = ", ".join(map(repr, expected.max(axis=0).tolist()))
    where = ", ".join(map(str, expected.argmax(axis=0)))
    assert f"peak      [{top}] at step [{where}]" in summary
    assert "final     [" in summary and "at step 4,999" in summary


def test_progress_only_on_a_terminal():
    from fastlr.cli.progress import Progress

    class Stream(io.StringIO):
        def __init__(self, tty):
            super().__init__()
            self.tty = tty

        def isatty(self):
            return self.tty

    quiet = Stream(False)
    with Progress(10, "x", stream=quiet) as bar:
        for _ in range(10):
            bar.update()
    assert quiet.getvalue() == ""
    loud = Stream(True)
    with Progress(10, "x", stream=loud) as bar:
        for _ in range(10):
            bar.update()
    assert "100%" in loud.getvalue()
    assert loud.getvalue().endswith("\r" + " " * 100 + "\r")  # cleared at the end
    patient = Stream(True)  # work that ends before the delay leaves no trace
    with Progress(10, "x", stream=patient, delay=60) as bar:
        for _ in range(10):
            bar.update()
    assert patient.getvalue() == ""


def test_durations_stay_short():
    from fastlr.cli.text import fmt_duration

    assert [fmt_duration(s) for s in (0.25, 59.9, 245, 3 * 3600 + 12 * 60, 55 * 3600)] == \
        [" 0.2s", "59.9s", "4m05s", "3h12m", "2d07h"]


def test_bench_output_file_equals_the_report(tmp_path):
    out = tmp_path / "report.txt"
    out.write_text("an older report\n")
    result = ok(run("bench", "--quick", "--families", "Cosine", "--sizes", "1000", "--output", out))
    assert out.read_text() == result.stdout and "1. Curves" in result.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.txt"]
