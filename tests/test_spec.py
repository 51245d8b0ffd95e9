"""The safe SPEC parser of the CLI (fastlr/_spec.py): what it builds and what it refuses."""

import json

import numpy as np
import pytest

import fastlr
from fastlr._spec import SpecError, parse_spec

GOOD = [
    ("WarmupCosine(peak_lr=3e-4, total_steps=100_000, warmup_steps=2_000)",
     fastlr.WarmupCosine(peak_lr=3e-4, total_steps=100_000, warmup_steps=2_000)),
    ("Cosine(1e-3, 1000, min_lr=1e-5)", fastlr.Cosine(1e-3, 1000, min_lr=1e-5)),
    ("join([Linear(0, 1e-3, 100), Cosine(1e-3, 900)], [100])",
     fastlr.join([fastlr.Linear(0, 1e-3, 100), fastlr.Cosine(1e-3, 900)], [100])),
    ("with_warmup(Cosine(1e-3, 1000), 100)", fastlr.with_warmup(fastlr.Cosine(1e-3, 1000), 100)),
    ("with_warmup(Cosine(1e-3, 1000), warmup_steps=100, init_lr=1e-5)",
     fastlr.with_warmup(fastlr.Cosine(1e-3, 1000), 100, init_lr=1e-5)),
    ("Cosine(1e-3, 100) * Exponential(1.0, 0.5, step_size=10)",
     fastlr.Cosine(1e-3, 100) * fastlr.Exponential(1.0, 0.5, step_size=10)),
    ("0.5 * Cosine(1e-3, 100)", 0.5 * fastlr.Cosine(1e-3, 100)),
    ("Cosine(1e-3, 100) * 0.5", fastlr.Cosine(1e-3, 100) * 0.5),
    ("[1, 0.5, 0.25] * Cosine(1e-3, 100)", fastlr.Scaled(fastlr.Cosine(1e-3, 100), [1, 0.5, 0.25])),
    ("MultiStep(0.1, milestones=[30, 60, 90], gamma=0.1)", fastlr.MultiStep(0.1, [30, 60, 90], 0.1)),
    ("PiecewiseConstant(boundaries=[10, 20], values=[1e-3, 5e-4, 1e-4])",
     fastlr.PiecewiseConstant([10, 20], [1e-3, 5e-4, 1e-4])),
    ("PiecewiseLinear((0, 10), (0.0, 1e-3))", fastlr.PiecewiseLinear([0, 10], [0, 1e-3])),
    ("CosineRestarts(1e-3, 100, cycle_mult=2, cycle_limit=None)",
     fastlr.CosineRestarts(1e-3, 100, cycle_mult=2.0)),
    ("CosineRestarts(1e-3, 100, cycle_limit=inf)", fastlr.CosineRestarts(1e-3, 100, cycle_limit=np.inf)),
    ("Exponential(0.1, 0.5, staircase=True)", fastlr.Exponential(0.1, 0.5, staircase=True)),
    ("OneCycle(0.1, 1000, three_phase=True, anneal='linear')",
     fastlr.OneCycle(0.1, 1000, three_phase=True, anneal="linear")),
    ('Cyclic(1e-4, 1e-3, 50, mode="triangular2")', fastlr.Cyclic(1e-4, 1e-3, 50, mode="triangular2")),
    ('WarmupStableDecay(1e-3, 1000, 100, 200, decay_shape="1-sqrt")',
     fastlr.WarmupStableDecay(1e-3, 1000, 100, 200, decay_shape="1-sqrt")),
    ("WarmupCosine(peak_lr=[1e-3, 5e-4], total_steps=1000, warmup_steps=[10, 20])",
     fastlr.WarmupCosine(peak_lr=np.array([1e-3, 5e-4]), total_steps=1000, warmup_steps=np.array([10, 20]))),
    ("Constant(lr=array([0.001, 0.002]))", fastlr.Constant(np.array([0.001, 0.002]))),
    ("InverseSqrt.noam(512, 4000)", fastlr.InverseSqrt.noam(512, 4000)),
    ("presets.vision(0.1, 90, 100)", fastlr.presets.vision(0.1, 90, 100)),
    ("fastlr.presets.llm_pretraining(3e-4, 10_000)", fastlr.presets.llm_pretraining(3e-4, 10_000)),
    ("fine_tuning(2e-5, 1000)", fastlr.presets.fine_tuning(2e-5, 1000)),
    ("fastlr.Cosine(1e-3 / 4, 2**10)", fastlr.Cosine(2.5e-4, 1024)),
    ("Tanh(1e-3, 100, lower=-6, upper=+3)", fastlr.Tanh(1e-3, 100, lower=-6.0, upper=3.0)),
    ("Tanh(1e-3, 100, lower=-(6), upper=3)", fastlr.Tanh(1e-3, 100, lower=-6.0, upper=3.0)),
    ("  Constant(1e-3)\n", fastlr.Constant(1e-3)),
]


@pytest.mark.parametrize("text, expected", GOOD, ids=[g[0][:40] for g in GOOD])
def test_builds_the_schedule(text, expected):
    schedule = parse_spec(text)
    assert type(schedule) is type(expected)
    assert schedule == expected
    np.testing.assert_array_equal(schedule.curve(50), expected.curve(50))


@pytest.mark.parametrize("text", [g[0] for g in GOOD], ids=[g[0][:40] for g in GOOD])
def test_repr_parses_back(text):
    schedule = parse_spec(text)
    again = parse_spec(repr(schedule))
    assert again == schedule
    np.testing.assert_array_equal(again.curve(50), schedule.curve(50))


def test_json_file_and_inline_json(tmp_path):
    schedule = fastlr.join([fastlr.Linear(0, 1e-3, 10), fastlr.Cosine(np.array([1e-3, 2e-3]), 90)], [10])
    path = tmp_path / "s.json"
    path.write_text(json.dumps(schedule.to_dict()))
    assert parse_spec(str(path)) == schedule
    assert parse_spec(json.dumps(schedule.to_dict())) == schedule


BAD = [
    # (spec, a fragment of the message)
    ("WarmupCosin(peak_lr=1, total_steps=10, warmup_steps=1)", "did you mean 'WarmupCosine'"),
    ("Cosine(peak_l=1e-3, total_steps=10)", "did you mean 'peak_lr'"),
    ("WarmupCosine(peak_lr=1e-3, total_step=10, warmup_steps=1)", "did you mean 'total_steps'"),
    ("Cosine(1e-3)", "missing required parameter 'total_steps'"),
    ("Cosine(1e-3, 10, 0, 5)", "at most 3 arguments"),
    ("Cosine(1e-3, 10, peak_lr=1)", "multiple values"),
    ("Cosine(-1e-3, 10)", "peak_lr must be >= 0"),
    ("Cosine(1e-3, 0)", "total_steps must be > 0"),
    ("WarmupCosine(1e-3, 10, 20)", "warmup_steps must be <= total_steps"),
    ("Cyclic(1e-4, 1e-3, 10, mode='triangle')", "mode must be one of"),
    ("MultiStep(0.1, milestones=[60, 30])", "milestones must be sorted"),
    ("PiecewiseConstant([10], [1, 2, 3])", "len(values)"),
    ("Cosine(1e-3, 10", "bad SPEC syntax"),
    ("Cosine(1e-3,, 10)", "bad SPEC syntax"),
    ("__import__('os').system('echo hacked')", "not allowed"),
    ("open('/etc/passwd')", "unknown schedule 'open'"),
    ("Cosine(1e-3, 10).__class__", "attribute access is not allowed"),
    ("Cosine.__init__", "attribute access is not allowed"),
    ("(lambda: 1)()", "not allowed"),
    ("[x for x in (1, 2)]", "comprehensions are not allowed"),
    ("Cosine(1e-3, [10][0])", "subscripts are not allowed"),
    ("Cosine(**{'peak_lr': 1, 'total_steps': 2})", "not allowed"),
    ("Cosine(*[1e-3, 10])", "unpacking is not allowed"),
    ("Cosine(f'{1}', 10)", "f-strings are not allowed"),
    ("Cosine(1e-3, 10) + Cosine(1e-3, 10)", "'+' is only allowed between numbers"),
    ("Cosine(1e-3, 10) * 'x'", "can only be multiplied"),
    ("Cosine(1e-3, 10 if 1 else 2)", "not allowed"),
    ("Cosine(1e-3, 2**2**2**2**2)", "too large"),
    ("Cosine(1e-3, 1/0)", "division by zero"),
    ("Cosine(1j, 10)", "complex numbers are not allowed"),
    ("Cosine(None, 10)", "peak_lr must be a real number"),
    ("Cosine", "must be called"),
    ("3e-4", "must describe a schedule"),
    ("x", "unknown name 'x'"),
    ("", "empty SPEC"),
    ("missing.json", "no such SPEC file"),
    ('{"type": "Cosin", "peak_lr": 1, "total_steps": 2}', "did you mean 'Cosine'"),
    ('{"type": "Cosine", "peak_l": 1, "total_steps": 2}', "has no parameter"),
]


@pytest.mark.parametrize("text, fragment", BAD, ids=[b[0][:40] or "empty" for b in BAD])
def test_rejects_with_one_line(text, fragment):
    with pytest.raises(SpecError) as info:
        parse_spec(text)
    message = str(info.value)
    assert fragment in message
    assert "\n" not in message


def test_nothing_is_executed(tmp_path):
    marker = tmp_path / "marker"
    for text in (f"__import__('pathlib').Path({str(marker)!r}).touch()",
                 f"Constant(__import__('pathlib').Path({str(marker)!r}).touch())",
                 f"Constant(1).__class__.__init__.__globals__['os'].system('touch {marker}')"):
        with pytest.raises(SpecError):
            parse_spec(text)
    assert not marker.exists()


def test_bad_json_file(tmp_path):
    path = tmp_path / "s.json"
    path.write_text("{not json")
    with pytest.raises(SpecError, match="not valid JSON"):
        parse_spec(str(path))
    path.write_text("[1, 2]")
    with pytest.raises(SpecError, match="'type' key"):
        parse_spec(str(path))
