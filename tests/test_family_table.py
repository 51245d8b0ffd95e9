"""The family table (``fastlr/_families.py``) is the one statement of each family's identity: the C++ core's
opcodes, operand counts and modes, its family headers, the facade classes and the docs' table agree
with it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import fastlr
from fastlr import _families, schedules

ROOT = Path(__file__).resolve().parent.parent
PROGRAM_HPP = (ROOT / "csrc" / "include" / "fastlr" / "program.hpp").read_text()
FAMILY_DIR = ROOT / "csrc" / "include" / "fastlr" / "families"
SPECS = [pytest.param(spec, id=spec.name) for spec in _families.FAMILIES]


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _cpp_enum() -> dict[str, int]:
    body = re.search(r"enum : int64_t \{(.*?)\};", PROGRAM_HPP, flags=re.S).group(1)
    return {name: int(code) for name, code in re.findall(r"(\w+) = (\d+)", body)}


def _cpp_operand_counts() -> dict[str, int]:
    body = PROGRAM_HPP[PROGRAM_HPP.index("inline int opcode_operands"):]
    body = body[:body.index("default:")]
    return {name: int(n) for name, n in re.findall(r"case op::(\w+): return (\d+);", body)}


@pytest.mark.parametrize("spec", SPECS)
def test_cpp_opcode_and_operand_count(spec):
    cpp_name = _snake(spec.name).upper()
    assert _cpp_enum()[cpp_name] == spec.opcode
    assert _cpp_operand_counts()[cpp_name] == len(spec.operands)


def test_cpp_has_no_other_opcodes():
    names = {_snake(spec.name).upper() for spec in _families.FAMILIES} | {c.name for c in _families.COMBINATORS}
    assert set(_cpp_enum()) == names
    for combinator in _families.COMBINATORS:
        assert _cpp_enum()[combinator.name] == combinator.opcode
        assert _cpp_operand_counts()[combinator.name] == len(combinator.operands)


@pytest.mark.parametrize("spec", SPECS)
def test_cpp_max_mode(spec):
    """The core rejects a mode above the largest the table can encode."""
    body = PROGRAM_HPP[PROGRAM_HPP.index("int64_t max_mode = 0;"):]
    body = body[:body.index("\n\n")]
    cpp_name = _snake(spec.name).upper()
    declared = 0
    for names, value in re.findall(r"if \(([^)]*)\) max_mode = (\d+);", body):
        if f"op::{cpp_name}" in names:
            declared = int(value)
    assert declared == spec.max_mode()


@pytest.mark.parametrize("spec", [s for s in SPECS
                                  if f"struct {s.values[0].name}F" in (FAMILY_DIR / f"{_snake(s.values[0].name)}.hpp")
                                  .read_text()])
def test_cpp_family_header_operand_count(spec):
    """A family with an element functor (``F::kOps``) reads as many operands as its row lists; the
    families with block routines of their own (MultiStep, CosineRestarts, the tables) are held by the
    core's operand count above."""
    header = (FAMILY_DIR / f"{_snake(spec.name)}.hpp").read_text()
    counts = {int(n) for n in re.findall(r"static constexpr int kOps = (\d+);", header)}
    assert counts == {len(spec.operands)}, f"{spec.name}: kOps {counts}"


@pytest.mark.parametrize("spec", SPECS)
def test_facade_class_reads_its_row(spec):
    cls = getattr(fastlr, spec.name)
    assert cls._spec is spec
    assert cls._numeric == spec.operands
    assert set(spec.operands) | {name for name, _ in spec.modes} | set(spec.table) <= set(cls._fields)


def test_every_family_class_has_a_row():
    families = {name for name, cls in vars(schedules).items()
                if isinstance(cls, type) and issubclass(cls, schedules.Family) and not name.startswith("_")
                and cls is not schedules.Family}
    assert families == set(_families.BY_NAME)


def test_docs_engine_table():
    text = (ROOT / "docs" / "engine.md").read_text()
    rows = re.findall(r"^\| (\d+) \| (\w+) \| ([^|]*) \|", text, flags=re.M)
    documented = {name: (int(code), tuple(x.strip() for x in operands.split(",") if x.strip() not in ("", "-")))
                  for code, name, operands in rows if name in _families.BY_NAME}
    assert set(documented) == set(_families.BY_NAME)
    for spec in _families.FAMILIES:
        code, operands = documented[spec.name]
        assert code == spec.opcode, spec.name
        # the docs may annotate an operand ("cycle_limit (inf = none)"): compare the names
        assert tuple(op.split()[0] for op in operands) == spec.operands, spec.name
